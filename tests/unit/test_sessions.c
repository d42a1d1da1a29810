/*
 * test_sessions: care sessions: time parsing (offsets, leap days, ISO weeks),
 * scheduling rules (past starts, end before start, over 8 hours, overlaps
 * for one worker, unknown kind/mode, children and cases of another
 * organization), group sessions, video rooms, outcomes (held with
 * attendance, missed reasons, cancelled), sealed notes readable only with
 * psych.notes and audited, isolation, and the private calendar feed (no
 * child names, revocation). Runs on SANAD_TEST_DB or a temp SQLite file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "cases/cases.h"
#include "cases/sessions.h"
#include "children/children.h"
#include "core/time.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "keys/keys.h"
#include "core/banned.h"

static char dir[64];
static struct db *db;
static struct actor worker;     /* case_worker of org A */
static struct actor worker2;    /* another case_worker of org A */
static struct actor psych;      /* psychosocial_specialist of org A */
static struct actor officer;    /* sponsorship_officer of org A */
static struct actor admin;      /* admin of org A (cases.read, no psych.notes) */
static struct actor other;      /* case_worker of org B */
static char child1[40], child2[40], child3[40], child_b[40];
static char case1[40], case_no1[32], case_b[40];

/* Creates a user of role in org and fills the actor for them. */
static void make_user(struct actor *a, const char *role, const char *org_id, const char *slug)
{
    struct actor cli;
    actor_system(&cli, org_id);
    struct user_new u = {.username = role, .display_name = role, .role = role, .lang = "en"};
    char uname[64];
    unsigned char r[3];
    randombytes_buf(r, sizeof(r));
    snprintf(uname, sizeof(uname), "%.20s%02x%02x%02x", role, r[0], r[1], r[2]);
    u.username = uname;
    struct err e;
    err_clear(&e);
    memset(a, 0, sizeof(*a));
    char invite[64];
    if (user_create(db, &cli, org_id, &u, a->user_id, invite, &e) < 0) {
        fail_msg("user_create: %s", e.msg);
    }
    snprintf(a->org_id, sizeof(a->org_id), "%s", org_id);
    snprintf(a->org_slug, sizeof(a->org_slug), "%s", slug);
    snprintf(a->username, sizeof(a->username), "%s", uname);
    snprintf(a->display_name, sizeof(a->display_name), "%s", role);
    snprintf(a->role, sizeof(a->role), "%s", role);
    snprintf(a->lang, sizeof(a->lang), "en");
    a->mfa_ok = true;
}

/* Creates an organization as the command line would. */
static void make_org(char id[40], char slug[32])
{
    struct actor cli;
    actor_system(&cli, "");
    unsigned char r[4];
    randombytes_buf(r, sizeof(r));
    snprintf(slug, 32, "s%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
    struct err e;
    err_clear(&e);
    assert_int_equal(org_create(db, &cli, slug, "Test org", id, &e), 0);
}

/* Registers a child for actor a. */
static void make_child(const struct actor *a, const char *first, const char *birth, char id[40])
{
    json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "first_name", first,
                           "father_name", "محمد", "grandfather_name", "علي", "family_name",
                           "الخطيب", "sex", "F", "birth_date", birth, "orphan_status",
                           "father_deceased");
    struct err e;
    err_clear(&e);
    char file_no[64];
    json_t *errors = NULL;
    if (child_create(db, a, in, id, file_no, &errors, &e) < 0) {
        fail_msg("child_create: %s", e.msg);
    }
    json_decref(in);
}

static int setup(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    snprintf(dir, sizeof(dir), "/tmp/sanad-sessions-XXXXXX");
    if (!mkdtemp(dir)) {
        return -1;
    }
    char key[128], url[160];
    snprintf(key, sizeof(key), "%s/sanad.key", dir);
    snprintf(url, sizeof(url), "sqlite:%s/t.db", dir);
    const char *env = getenv("SANAD_TEST_DB");
    if (keys_create_master(key, &e) < 0 || keys_load_master(key, &e) < 0 ||
        db_open(env && *env ? env : url, &db, &e) < 0 || db_migrate(db, &e) < 0) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    char a[40], b[40], sa[32], sb[32];
    make_org(a, sa);
    make_org(b, sb);
    make_user(&worker, "case_worker", a, sa);
    make_user(&worker2, "case_worker", a, sa);
    make_user(&psych, "psychosocial_specialist", a, sa);
    make_user(&officer, "sponsorship_officer", a, sa);
    make_user(&admin, "admin", a, sa);
    make_user(&other, "case_worker", b, sb);
    make_child(&worker, "مريم", "2014-02-01", child1);
    make_child(&worker, "سارة", "2013-05-01", child2);
    make_child(&worker, "هدى", "2012-06-01", child3);
    make_child(&other, "ليلى", "2012-06-01", child_b);
    char no_b[32];
    if (case_open(db, &worker, child1, NULL, psych.user_id, case1, case_no1, &e) < 0 ||
        case_open(db, &other, child_b, NULL, NULL, case_b, no_b, &e) < 0) {
        fprintf(stderr, "setup: case_open: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    keys_shutdown();
    db_close(db);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ISO UTC text of now + minutes (rounded to the minute) into out (32 bytes). */
static const char *at(int64_t minutes, char out[32])
{
    int64_t now = time_now_ms() / 60000 * 60000;
    time_format_iso(now + minutes * 60000, out, 32);
    return out;
}

/* A base time far enough ahead that each test has its own hours. */
static int64_t slot(void)
{
    static int64_t next = 60 * 24 * 3; /* three days ahead */
    next += 600;
    return next;
}

/* An individual session input for case1 starting in start minutes for len minutes. */
static json_t *individual(int64_t start, int64_t len, const char *mode)
{
    char s[32], t[32];
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "individual", "mode", mode, "case_id",
                     case1, "starts_at", at(start, s), "ends_at", at(start + len, t));
}

/* Runs session_create as a on input (taken) and returns the error code, or
 * "" on success (id written). */
static const char *create_code(const struct actor *a, json_t *input, char id[40], char *field)
{
    static char code[64];
    struct err e;
    err_clear(&e);
    char tmp[40];
    int rc = session_create(db, a, input, id ? id : tmp, &e);
    json_decref(input);
    if (field) {
        snprintf(field, 64, "%s", e.field);
    }
    snprintf(code, sizeof(code), "%s", rc == 0 ? "" : e.code);
    if (rc == 0) {
        assert_false(err_failed(&e));
    }
    return code;
}

static void test_parse(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(sessions_parse_time("2025-01-31T08:30:00.000Z", &ms), 0);
    char out[32];
    time_format_iso(ms, out, sizeof(out));
    assert_string_equal(out, "2025-01-31T08:30:00.000Z");
    assert_int_equal(sessions_parse_time("2025-01-31T11:30+03:00", &ms), 0);
    time_format_iso(ms, out, sizeof(out));
    assert_string_equal(out, "2025-01-31T08:30:00.000Z");
    assert_int_equal(sessions_parse_time("2024-02-29T23:00:00-05:00", &ms), 0);
    time_format_iso(ms, out, sizeof(out));
    assert_string_equal(out, "2024-03-01T04:00:00.000Z");
    const char *bad[] = {"",
                         "2025-01-31",
                         "2025-01-31T08:30",
                         "2025-02-29T08:30Z",
                         "2025-01-31T24:00Z",
                         "2025-01-31T08:60Z",
                         "2025-01-31 08:30Z",
                         "2025-01-31T08:30Zjunk",
                         "2025-01-31T08:30+3",
                         "2025-01-31T08:30+15:00",
                         "2025-01-31T08:30:00.Z",
                         "٢٠٢٥-01-31T08:30Z",
                         "2025-01-31T08:30:00.0000000000Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sessions_parse_time(bad[i], &ms), -1);
    }
    assert_int_equal(sessions_parse_time(NULL, &ms), -1);
    /* local form input at UTC+3 */
    assert_int_equal(sessions_parse_local("2025-01-01", "02:00", 180, &ms), 0);
    time_format_iso(ms, out, sizeof(out));
    assert_string_equal(out, "2024-12-31T23:00:00.000Z");
    assert_int_equal(sessions_parse_local("2025-01-01", "2:00", 180, &ms), -1);
    assert_int_equal(sessions_parse_local("2025-13-01", "02:00", 180, &ms), -1);
    assert_int_equal(sessions_parse_local("2025-01-01", "02:00x", 180, &ms), -1);
    int off;
    assert_int_equal(sessions_parse_offset("+03:00", &off), 0);
    assert_int_equal(off, 180);
    assert_int_equal(sessions_parse_offset("-05:30", &off), 0);
    assert_int_equal(off, -330);
    assert_int_equal(sessions_parse_offset("180", &off), 0);
    assert_int_equal(off, 180);
    assert_int_equal(sessions_parse_offset("+3", &off), 0);
    assert_int_equal(off, 180);
    assert_int_equal(sessions_parse_offset("+15:00", &off), -1);
    assert_int_equal(sessions_parse_offset("999999999999", &off), -1);
    assert_int_equal(sessions_parse_offset("", &off), -1);
    assert_int_equal(sessions_parse_offset("+03:60", &off), -1);
    /* ISO weeks: 2025-W01 starts on Monday 2024-12-30; 2020 has 53 weeks, 2025 not */
    int64_t monday;
    assert_int_equal(sessions_parse_week("2025-W01", &monday), 0);
    time_format_iso(monday, out, sizeof(out));
    assert_string_equal(out, "2024-12-30T00:00:00.000Z");
    assert_int_equal(sessions_parse_week("2020-W53", &monday), 0);
    assert_int_equal(sessions_parse_week("2025-W53", &monday), -1);
    assert_int_equal(sessions_parse_week("2025-W00", &monday), -1);
    assert_int_equal(sessions_parse_week("2025W01", &monday), -1);
    char wk[16];
    sessions_format_week(time_days_from_civil(2024, 12, 30), wk, sizeof(wk));
    assert_string_equal(wk, "2025-W01");
    sessions_format_week(time_days_from_civil(2021, 1, 3), wk, sizeof(wk));
    assert_string_equal(wk, "2020-W53");
    sessions_format_week(time_days_from_civil(2024, 2, 29), wk, sizeof(wk));
    assert_string_equal(wk, "2024-W09");
}

static void test_schedule_rules(void **state)
{
    (void)state;
    char field[64], id[40], s[32], t[32];
    int64_t base = slot();
    /* a session in the past cannot be upcoming */
    assert_string_equal(create_code(&worker, individual(-60, 30, "phone"), NULL, field), "in_past");
    assert_string_equal(field, "starts_at");
    /* ends before it starts, or as it starts */
    assert_string_equal(create_code(&worker, individual(base, -30, "phone"), NULL, field),
                        "ends_before_start");
    assert_string_equal(field, "ends_at");
    assert_string_equal(create_code(&worker, individual(base, 0, "phone"), NULL, field),
                        "ends_before_start");
    /* over 8 hours; exactly 8 hours is fine */
    assert_string_equal(create_code(&worker, individual(base, 481, "phone"), NULL, field),
                        "session_too_long");
    assert_string_equal(create_code(&worker, individual(base, 480, "in_person"), id, NULL), "");
    /* unknown mode, kind, member; bad times */
    assert_string_equal(create_code(&worker, individual(base + 500, 30, "carrier_pigeon"), NULL,
                                    field),
                        "invalid_choice");
    assert_string_equal(field, "mode");
    json_t *in = individual(base + 500, 30, "phone");
    json_object_set_new(in, "kind", json_string("family"));
    assert_string_equal(create_code(&worker, in, NULL, field), "invalid_choice");
    assert_string_equal(field, "kind");
    in = individual(base + 500, 30, "phone");
    json_object_set_new(in, "colour", json_string("red"));
    assert_string_equal(create_code(&worker, in, NULL, field), "unknown_field");
    in = individual(base + 500, 30, "phone");
    json_object_set_new(in, "starts_at", json_string("tomorrow"));
    assert_string_equal(create_code(&worker, in, NULL, field), "invalid_datetime");
    assert_string_equal(field, "starts_at");
    in = individual(base + 500, 30, "phone");
    json_object_set_new(in, "topics", json_stringn_nocheck("\xff\xfe", 2));
    assert_string_equal(create_code(&worker, in, NULL, field), "invalid_utf8");
    in = individual(base + 500, 30, "phone");
    json_object_set_new(in, "starts_at", json_integer(5));
    assert_string_equal(create_code(&worker, in, NULL, field), "invalid_type");
    in = individual(base + 500, 30, "phone");
    json_object_del(in, "case_id");
    assert_string_equal(create_code(&worker, in, NULL, field), "required");
    assert_string_equal(field, "case_id");
    /* a case of another organization */
    in = individual(base + 500, 30, "phone");
    json_object_set_new(in, "case_id", json_string(case_b));
    assert_string_equal(create_code(&worker, in, NULL, field), "unknown_case");
    /* a worker of another organization */
    in = individual(base + 500, 30, "phone");
    json_object_set_new(in, "worker_id", json_string(other.user_id));
    assert_string_equal(create_code(&worker, in, NULL, field), "unknown_worker");
    /* a sponsorship officer is not a worker of sessions, nor may they schedule */
    in = individual(base + 500, 30, "phone");
    json_object_set_new(in, "worker_id", json_string(officer.user_id));
    assert_string_equal(create_code(&worker, in, NULL, field), "invalid_worker");
    assert_string_equal(create_code(&officer, individual(base + 500, 30, "phone"), NULL, field),
                        "forbidden");
    /* notes need psych.notes */
    in = individual(base + 500, 30, "phone");
    json_object_set_new(in, "notes", json_string("x"));
    assert_string_equal(create_code(&worker, in, NULL, field), "forbidden");
    assert_string_equal(field, "notes");
    /* nothing of the refused attempts was stored */
    struct session_filter f = {.from = at(base - 1, s), .to = at(base + 2000, t),
                               .worker_id = worker.user_id};
    struct err e;
    err_clear(&e);
    json_t *list = session_list(db, &worker, &f, &e);
    assert_non_null(list);
    assert_int_equal(json_array_size(json_object_get(list, "items")), 1);
    json_decref(list);
}

static void test_overlap(void **state)
{
    (void)state;
    int64_t base = slot();
    char a[40], b[40], field[64];
    assert_string_equal(create_code(&worker, individual(base, 60, "phone"), a, NULL), "");
    /* inside, around, overlapping either end: refused */
    assert_string_equal(create_code(&worker, individual(base + 10, 20, "chat"), NULL, field),
                        "overlap");
    assert_string_equal(field, "starts_at");
    assert_string_equal(create_code(&worker, individual(base - 30, 120, "chat"), NULL, NULL),
                        "overlap");
    assert_string_equal(create_code(&worker, individual(base - 30, 31, "chat"), NULL, NULL),
                        "overlap");
    assert_string_equal(create_code(&worker, individual(base + 59, 30, "chat"), NULL, NULL),
                        "overlap");
    /* back to back is fine; another worker at the same time is fine */
    assert_string_equal(create_code(&worker, individual(base + 60, 30, "chat"), b, NULL), "");
    assert_string_equal(create_code(&worker, individual(base - 30, 30, "chat"), NULL, NULL), "");
    json_t *in = individual(base, 60, "phone");
    json_object_set_new(in, "worker_id", json_string(worker2.user_id));
    assert_string_equal(create_code(&worker, in, NULL, NULL), "");
    /* the message names the other session's time */
    struct err e;
    err_clear(&e);
    char id[40], s[32];
    in = individual(base + 15, 10, "video");
    assert_int_equal(session_create(db, &worker, in, id, &e), -1);
    json_decref(in);
    assert_int_equal(e.kind, ERR_CONFLICT);
    assert_non_null(strstr(e.msg, at(base, s)));
    /* moving b onto a is refused; cancelling a frees the time */
    err_clear(&e);
    in = json_pack("{s:s}", "starts_at", at(base + 30, s));
    assert_int_equal(session_update(db, &worker, b, in, &e), -1);
    assert_string_equal(e.code, "overlap");
    err_clear(&e);
    assert_int_equal(session_cancel(db, &worker, a, "child travelling", &e), 0);
    assert_int_equal(session_update(db, &worker, b, in, &e), 0);
    json_decref(in);
    /* a cancelled session cannot be cancelled again nor take an outcome */
    assert_int_equal(session_cancel(db, &worker, a, NULL, &e), -1);
    assert_string_equal(e.code, "not_scheduled");
}

static void test_group_and_video(void **state)
{
    (void)state;
    int64_t base = slot();
    char s[32], t[32], id[40], field[64];
    json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:[s,s]}", "kind", "group", "mode", "video",
                           "starts_at", at(base, s), "ends_at", at(base + 90, t), "child_ids",
                           child2, child3);
    assert_string_equal(create_code(&psych, in, id, NULL), "");
    struct err e;
    err_clear(&e);
    json_t *j = session_get(db, &psych, id, &e);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "children")), 2);
    const char *url = json_string_value(json_object_get(j, "meeting_url"));
    assert_non_null(url);
    assert_int_equal(strncmp(url, "https://meet.jit.si/sanad-", 26), 0);
    assert_int_equal(strlen(url), 26 + 32); /* 160 bits in base32 */
    char first_url[128];
    snprintf(first_url, sizeof(first_url), "%s", url);
    json_decref(j);
    /* every room is new */
    in = json_pack("{s:s, s:s, s:s, s:s, s:[s,s]}", "kind", "group", "mode", "video", "starts_at",
                   at(base + 100, s), "ends_at", at(base + 130, t), "child_ids", child2, child1);
    char id2[40];
    assert_string_equal(create_code(&psych, in, id2, NULL), "");
    j = session_get(db, &psych, id2, &e);
    assert_string_not_equal(json_string_value(json_object_get(j, "meeting_url")), first_url);
    json_decref(j);
    /* a child of another organization; too few; not a list; bad ids; duplicates count once */
    in = json_pack("{s:s, s:s, s:s, s:s, s:[s,s]}", "kind", "group", "mode", "chat", "starts_at",
                   at(base + 200, s), "ends_at", at(base + 230, t), "child_ids", child2, child_b);
    assert_string_equal(create_code(&psych, in, NULL, field), "unknown_child");
    assert_string_equal(field, "child_ids");
    in = json_pack("{s:s, s:s, s:s, s:s, s:[s,s]}", "kind", "group", "mode", "chat", "starts_at",
                   at(base + 200, s), "ends_at", at(base + 230, t), "child_ids", child2, child2);
    assert_string_equal(create_code(&psych, in, NULL, field), "too_few");
    in = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "group", "mode", "chat", "starts_at",
                   at(base + 200, s), "ends_at", at(base + 230, t), "child_ids", child2);
    assert_string_equal(create_code(&psych, in, NULL, field), "invalid_type");
    in = json_pack("{s:s, s:s, s:s, s:s, s:[s,s]}", "kind", "group", "mode", "chat", "starts_at",
                   at(base + 200, s), "ends_at", at(base + 230, t), "child_ids", child2,
                   "'; DROP TABLE children; --");
    assert_string_equal(create_code(&psych, in, NULL, field), "invalid_type");
    /* an individual session takes no child list */
    in = individual(base + 300, 30, "phone");
    json_object_set_new(in, "child_ids", json_pack("[s]", child2));
    assert_string_equal(create_code(&worker, in, NULL, field), "not_for_individual");
    /* switching away from video drops the room */
    in = json_pack("{s:s}", "mode", "phone");
    assert_int_equal(session_update(db, &psych, id, in, &e), 0);
    json_decref(in);
    j = session_get(db, &psych, id, &e);
    assert_null(json_object_get(j, "meeting_url"));
    json_decref(j);
    /* another base URL for the organization */
    assert_int_equal(db_run(db, &e,
                            "INSERT INTO case_settings (org_id, meeting_base_url) VALUES ($1, $2)",
                            "tt", psych.org_id, "https://video.example.org/rooms") >= 0, 1);
    j = session_get(db, &psych, id2, &e);
    assert_int_equal(strncmp(json_string_value(json_object_get(j, "meeting_url")),
                             "https://video.example.org/rooms/sanad-", 38),
                     0);
    json_decref(j);
    assert_int_equal(db_run(db, &e, "DELETE FROM case_settings WHERE org_id = $1", "t",
                            psych.org_id) >= 0, 1);
}

/* Moves session id into the past (as if time had passed), bypassing the service. */
static void make_past(const char *id, int64_t start_min, int64_t len)
{
    char s[32], t[32];
    struct err e;
    err_clear(&e);
    assert_int_equal(db_run(db, &e, "UPDATE sessions_care SET starts_at = $2, ends_at = $3 WHERE id = $1",
                            "ttt", id, at(start_min, s), at(start_min + len, t)),
                     1);
}

/* session_outcome with input (taken): the error code or "". */
static const char *outcome_code(const struct actor *a, const char *id, json_t *input, char *field)
{
    static char code[64];
    struct err e;
    err_clear(&e);
    int rc = session_outcome(db, a, id, input, &e);
    json_decref(input);
    if (field) {
        snprintf(field, 64, "%s", e.field);
    }
    snprintf(code, sizeof(code), "%s", rc == 0 ? "" : e.code);
    return code;
}

static void test_outcomes(void **state)
{
    (void)state;
    int64_t base = slot();
    char id[40], field[64];
    assert_string_equal(create_code(&worker, individual(base, 45, "video"), id, NULL), "");
    /* not before it starts */
    assert_string_equal(outcome_code(&worker, id, json_pack("{s:s, s:s}", "status", "missed",
                                                            "missed_reason", "no_device"),
                                     field),
                        "not_started");
    make_past(id, -24 * 60 * 40, 45);
    /* missed: a reason from the list */
    assert_string_equal(outcome_code(&worker, id, json_pack("{s:s}", "status", "missed"), field),
                        "required");
    assert_string_equal(field, "missed_reason");
    assert_string_equal(outcome_code(&worker, id,
                                     json_pack("{s:s, s:s}", "status", "missed", "missed_reason",
                                               "bad_weather"),
                                     field),
                        "invalid_choice");
    assert_string_equal(outcome_code(&worker, id, json_pack("{s:s}", "status", "postponed"), field),
                        "invalid_choice");
    assert_string_equal(field, "status");
    assert_string_equal(outcome_code(&worker, id,
                                     json_pack("{s:s, s:s}", "status", "missed", "missed_reason",
                                               "no_connection"),
                                     NULL),
                        "");
    struct err e;
    err_clear(&e);
    json_t *j = session_get(db, &worker, id, &e);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "missed");
    assert_string_equal(json_string_value(json_object_get(j, "missed_reason")), "no_connection");
    json_decref(j);
    /* held: attendance for every child, at least one present */
    assert_string_equal(outcome_code(&worker, id, json_pack("{s:s}", "status", "held"), field),
                        "attendance_required");
    assert_string_equal(field, "attendance");
    assert_string_equal(outcome_code(&worker, id,
                                     json_pack("{s:s, s:{s:b}}", "status", "held", "attendance",
                                               child1, 0),
                                     NULL),
                        "attendance_required");
    assert_string_equal(outcome_code(&worker, id,
                                     json_pack("{s:s, s:{s:b, s:b}}", "status", "held",
                                               "attendance", child1, 1, child2, 1),
                                     NULL),
                        "unknown_child");
    assert_string_equal(outcome_code(&worker, id,
                                     json_pack("{s:s, s:{s:s}}", "status", "held", "attendance",
                                               child1, "yes"),
                                     NULL),
                        "invalid_type");
    assert_string_equal(outcome_code(&worker, id,
                                     json_pack("{s:s, s:{s:b}, s:i}", "status", "held",
                                               "attendance", child1, 1, "duration_min", 481),
                                     field),
                        "out_of_range");
    assert_string_equal(outcome_code(&worker, id,
                                     json_pack("{s:s, s:{s:b}, s:s}", "status", "held",
                                               "attendance", child1, 1, "missed_reason", "other"),
                                     field),
                        "only_for_missed");
    assert_string_equal(outcome_code(&worker, id,
                                     json_pack("{s:s, s:{s:b}, s:s}", "status", "held",
                                               "attendance", child1, 1, "topics", "sleep, school"),
                                     NULL),
                        "");
    j = session_get(db, &worker, id, &e);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "held");
    assert_true(json_is_null(json_object_get(j, "missed_reason")));
    assert_int_equal(json_integer_value(json_object_get(j, "duration_min")), 45);
    assert_true(json_is_true(json_object_get(json_object_get(j, "child"), "attended")));
    json_decref(j);
    /* a held session cannot be rescheduled or cancelled */
    json_t *in = json_pack("{s:s}", "mode", "phone");
    assert_int_equal(session_update(db, &worker, id, in, &e), -1);
    json_decref(in);
    assert_string_equal(e.code, "not_scheduled");
    assert_string_equal(outcome_code(&worker, id, json_pack("{s:s}", "status", "cancelled"), NULL),
                        "not_scheduled");
    /* another organization sees nothing */
    assert_string_equal(outcome_code(&other, id, json_pack("{s:s}", "status", "cancelled"), NULL),
                        "not_found");
    err_clear(&e);
    assert_null(session_get(db, &other, id, &e));
    assert_int_equal(e.kind, ERR_NOT_FOUND);
}

/* Counts audit entries of action for entity id. */
static int64_t audit_count(const char *action, const char *id)
{
    struct err e;
    err_clear(&e);
    int found;
    struct db_stmt *s = db_row(db, &e, &found,
                               "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND entity_id = $2",
                               "tt", action, id);
    assert_non_null(s);
    int64_t n = db_col_int64(s, 0);
    db_done(s);
    return n;
}

static void test_notes(void **state)
{
    (void)state;
    int64_t base = slot();
    char id[40];
    const char *secret = "الطفلة تتحدث عن كوابيس; nightmares, \"fear\"";
    json_t *in = individual(base, 30, "in_person");
    json_object_set_new(in, "notes", json_string(secret));
    assert_string_equal(create_code(&psych, in, id, NULL), "");
    struct err e;
    err_clear(&e);
    /* sealed at rest */
    int found;
    struct db_stmt *s = db_row(db, &e, &found, "SELECT notes FROM sessions_care WHERE id = $1",
                               "t", id);
    assert_non_null(s);
    assert_int_equal(strncmp(db_col_text(s, 0), "v1.", 3), 0);
    assert_null(strstr(db_col_text(s, 0), "nightmares"));
    db_done(s);
    /* the specialist reads them, audited each time */
    int64_t before = audit_count("session.notes_view", id);
    json_t *j = session_get(db, &psych, id, &e);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "notes")), secret);
    json_decref(j);
    j = session_get(db, &psych, id, &e);
    json_decref(j);
    assert_int_equal(audit_count("session.notes_view", id), before + 2);
    /* the case worker and the admin see the session but not the notes */
    const struct actor *no[] = {&worker, &admin};
    for (int i = 0; i < 2; i++) {
        j = session_get(db, no[i], id, &e);
        assert_non_null(j);
        assert_null(json_object_get(j, "notes"));
        assert_true(json_is_true(json_object_get(j, "notes_hidden")));
        json_decref(j);
    }
    assert_int_equal(audit_count("session.notes_view", id), before + 2);
    /* a sponsorship officer sees no session at all */
    err_clear(&e);
    assert_null(session_get(db, &officer, id, &e));
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    struct session_filter f = {0};
    assert_null(session_list(db, &officer, &f, &e));
    /* the case worker cannot overwrite them; the specialist can */
    in = json_pack("{s:s}", "notes", "gone");
    err_clear(&e);
    assert_int_equal(session_update(db, &worker, id, in, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_int_equal(session_update(db, &psych, id, in, &e), 0);
    json_decref(in);
    j = session_get(db, &psych, id, &e);
    assert_string_equal(json_string_value(json_object_get(j, "notes")), "gone");
    json_decref(j);
    /* a ciphertext moved to another session does not open */
    char id2[40];
    assert_string_equal(create_code(&psych, individual(base + 60, 30, "chat"), id2, NULL), "");
    assert_int_equal(db_run(db, &e,
                            "UPDATE sessions_care SET notes = (SELECT notes FROM sessions_care"
                            " WHERE id = $1) WHERE id = $2",
                            "tt", id, id2),
                     1);
    err_clear(&e);
    assert_null(session_get(db, &psych, id2, &e));
    assert_true(err_failed(&e));
    /* every change was audited */
    assert_true(audit_count("session.create", id) == 1);
    assert_true(audit_count("session.update", id) == 1);
}

static void test_list(void **state)
{
    (void)state;
    int64_t base = slot();
    char id[40], s[32], t[32];
    assert_string_equal(create_code(&worker2, individual(base, 30, "chat"), id, NULL), "");
    struct session_filter f = {.from = at(base - 1, s), .to = at(base + 31, t)};
    struct err e;
    err_clear(&e);
    json_t *list = session_list(db, &worker, &f, &e);
    assert_non_null(list);
    json_t *items = json_object_get(list, "items");
    assert_int_equal(json_array_size(items), 1);
    json_t *it = json_array_get(items, 0);
    assert_string_equal(json_string_value(json_object_get(it, "id")), id);
    assert_string_equal(json_string_value(json_object_get(it, "case_no")), case_no1);
    assert_null(json_object_get(it, "notes"));
    json_decref(list);
    f.worker_id = worker.user_id;
    list = session_list(db, &worker, &f, &e);
    assert_int_equal(json_array_size(json_object_get(list, "items")), 0);
    json_decref(list);
    f.worker_id = NULL;
    f.case_id = case_b;
    list = session_list(db, &worker, &f, &e);
    assert_int_equal(json_array_size(json_object_get(list, "items")), 0);
    json_decref(list);
    /* another organization sees none of them */
    f.case_id = NULL;
    list = session_list(db, &other, &f, &e);
    assert_int_equal(json_array_size(json_object_get(list, "items")), 0);
    json_decref(list);
    f.from = "yesterday";
    err_clear(&e);
    assert_null(session_list(db, &worker, &f, &e));
    assert_string_equal(e.field, "from");
}

static void test_feed(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    struct buf out = BUF_INIT;
    /* no feed yet */
    char created[32];
    assert_int_equal(calendar_feed_status(db, &psych, created, &e), 0);
    char token[64];
    assert_int_equal(calendar_feed_create(db, &psych, token, &e), 0);
    assert_int_equal(strncmp(token, "cal_", 4), 0);
    assert_int_equal(calendar_feed_status(db, &psych, created, &e), 1);
    /* the token is stored only as a hash */
    int found;
    struct db_stmt *s = db_row(db, &e, &found,
                               "SELECT COUNT(*) FROM calendar_feeds WHERE token_hash = $1", "t",
                               token);
    assert_int_equal(db_col_int64(s, 0), 0);
    db_done(s);
    int64_t base = slot();
    char id[40], gid[40], sa[32], sb[32];
    json_t *in = individual(base, 30, "video");
    json_object_set_new(in, "notes", json_string("SECRET-NOTE"));
    json_object_set_new(in, "topics", json_string("SECRET-TOPIC"));
    assert_string_equal(create_code(&psych, in, id, NULL), "");
    in = json_pack("{s:s, s:s, s:s, s:s, s:[s,s]}", "kind", "group", "mode", "in_person",
                   "starts_at", at(base + 60, sa), "ends_at", at(base + 90, sb), "child_ids",
                   child2, child3);
    assert_string_equal(create_code(&psych, in, gid, NULL), "");
    assert_int_equal(session_cancel(db, &psych, gid, NULL, &e), 0);
    assert_int_equal(calendar_feed_render(db, token, &out, &e), 1);
    const char *ics = out.buf;
    char uid[64];
    snprintf(uid, sizeof(uid), "UID:%s@sanad\r\n", id);
    assert_non_null(strstr(ics, uid));
    assert_non_null(strstr(ics, case_no1));
    assert_non_null(strstr(ics, "https://meet.jit.si/sanad-"));
    assert_non_null(strstr(ics, "STATUS:CANCELLED"));
    assert_non_null(strstr(ics, "VERSION:2.0\r\n"));
    /* no child names, no notes, no topics */
    const char *never[] = {"مريم", "سارة", "هدى", "الخطيب", "SECRET-NOTE", "SECRET-TOPIC", "v1."};
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
        assert_null(strstr(ics, never[i]));
    }
    /* replacing revokes the old token; revoking ends the new one */
    char token2[64];
    assert_int_equal(calendar_feed_create(db, &psych, token2, &e), 0);
    assert_string_not_equal(token, token2);
    buf_reset(&out);
    assert_int_equal(calendar_feed_render(db, token, &out, &e), 0);
    assert_int_equal(calendar_feed_render(db, token2, &out, &e), 1);
    assert_int_equal(calendar_feed_revoke(db, &psych, &e), 0);
    buf_reset(&out);
    assert_int_equal(calendar_feed_render(db, token2, &out, &e), 0);
    assert_int_equal(calendar_feed_render(db, "", &out, &e), 0);
    assert_int_equal(calendar_feed_render(db, NULL, &out, &e), 0);
    char huge[4096];
    memset(huge, 'a', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    assert_int_equal(calendar_feed_render(db, huge, &out, &e), 0);
    assert_int_equal(out.len, 0);
    /* revoking twice is fine; the officer may not have a feed */
    assert_int_equal(calendar_feed_revoke(db, &psych, &e), 0);
    assert_int_equal(calendar_feed_create(db, &officer, token, &e), -1);
    buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),          cmocka_unit_test(test_schedule_rules),
        cmocka_unit_test(test_overlap),        cmocka_unit_test(test_group_and_video),
        cmocka_unit_test(test_outcomes),       cmocka_unit_test(test_notes),
        cmocka_unit_test(test_list),           cmocka_unit_test(test_feed),
    };
    if (sodium_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
