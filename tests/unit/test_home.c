/*
 * test_home: the worker's home and the quality dashboard queries, and the
 * reminder digest built from a home, on SANAD_TEST_DB or a temp SQLite file.
 * Users, organizations and children go through their services; cases,
 * sessions, events, tasks and instrument answers are written with SQL so that
 * their dates are exactly what each assertion needs.
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
#include "cases/home.h"
#include "cases/reminders.h"
#include "cases/sessions.h"
#include "children/children.h"
#include "core/time.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "keys/keys.h"
#include "web/i18n.h"
#include "core/banned.h"

static char dir[64];
static struct db *db;
static struct actor sup, w1, w2, auditor, other_sup;
static char child1[40], child2[40], child_other[40];

#define TODAY "2030-06-15"

/* Creates a user of role in org (slug) and fills a as that user. */
static void make_user(struct actor *a, const char *org_id, const char *slug, const char *role,
                      const char *name)
{
    struct actor cli;
    actor_system(&cli, org_id);
    struct user_new u = {.username = name, .display_name = name, .email = NULL, .role = role,
                         .lang = "en", .password = "correct-horse-battery-staple-42"};
    struct err e;
    err_clear(&e);
    char id[40];
    if (user_create(db, &cli, org_id, &u, id, NULL, &e) < 0) {
        fail_msg("user_create: %s", e.msg);
    }
    memset(a, 0, sizeof(*a));
    snprintf(a->user_id, sizeof(a->user_id), "%s", id);
    snprintf(a->org_id, sizeof(a->org_id), "%s", org_id);
    snprintf(a->org_slug, sizeof(a->org_slug), "%s", slug);
    snprintf(a->username, sizeof(a->username), "%s", name);
    snprintf(a->display_name, sizeof(a->display_name), "%s", name);
    snprintf(a->role, sizeof(a->role), "%s", role);
    snprintf(a->lang, sizeof(a->lang), "en");
    a->mfa_ok = true;
}

/* Makes an organization with a random slug. */
static void make_org(char id[40], char slug[32])
{
    struct actor cli;
    actor_system(&cli, "");
    unsigned char r[4];
    randombytes_buf(r, sizeof(r));
    snprintf(slug, 32, "h%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
    struct err e;
    err_clear(&e);
    assert_int_equal(org_create(db, &cli, slug, "Home org", id, &e), 0);
}

/* Registers a child through the registry service. */
static void make_child(const struct actor *a, const char *first, const char *family, char id[40])
{
    json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "first_name", first,
                           "father_name", "محمد", "grandfather_name", "علي", "family_name", family,
                           "sex", "F", "birth_date", "2016-03-10", "orphan_status",
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

/* Runs one SQL statement with text parameters in a write transaction. */
static void sql(const char *q, const char *types, ...)
{
    struct err e;
    err_clear(&e);
    assert_int_equal(db_begin(db, false, &e), 0);
    va_list ap;
    va_start(ap, types);
    struct db_stmt *s = db_prepare(db, q, &e);
    assert_non_null(s);
    for (int i = 0; types[i]; i++) {
        if (types[i] == 't') {
            db_bind_text(s, i + 1, va_arg(ap, const char *));
        } else {
            db_bind_int64(s, i + 1, va_arg(ap, int64_t));
        }
    }
    va_end(ap);
    int rc = db_step(s, &e);
    db_done(s);
    if (rc < 0) {
        fail_msg("sql: %s", e.msg);
    }
    assert_int_equal(db_commit(db, &e), 0);
}

/* Inserts a case; returns its id in id. */
static void make_case(const struct actor *w, const char *child, const char *no, const char *status,
                      const char *risk, int urgent, const char *next, const char *pending,
                      const char *opened, const char *plan_at, const char *closed, char id[40])
{
    uuid_v7(id);
    sql("INSERT INTO cases (id, org_id, child_id, case_no, worker_id, stage, status, pending,"
        " risk_level, urgent, next_contact, opened_at, plan_approved_at, closed_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, 'services', $6, $7, $8, $9, $10, $11, $12, $13, $11)",
        "ttttttttitttt", id, w->org_id, child, no, w->user_id, status, pending, risk,
        (int64_t)urgent, next, opened, plan_at, closed);
}

/* Inserts a session of worker w. */
static void make_session(const struct actor *w, const char *case_id, const char *mode,
                         const char *status, const char *starts, const char *ends,
                         const char *missed)
{
    char id[40];
    uuid_v7(id);
    sql("INSERT INTO sessions_care (id, org_id, case_id, worker_id, kind, mode, starts_at, ends_at,"
        " status, missed_reason, created_by, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, 'individual', $5, $6, $7, $8, $9, $4, $6, $6)",
        "ttttttttt", id, w->org_id, case_id, w->user_id, mode, starts, ends, status, missed);
}

static char case_a[40], case_b[40], case_c[40], case_d[40], case_x[40];

static int setup(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    snprintf(dir, sizeof(dir), "/tmp/sanad-home-XXXXXX");
    if (!mkdtemp(dir)) {
        return -1;
    }
    char key[128], url[160];
    snprintf(key, sizeof(key), "%s/sanad.key", dir);
    snprintf(url, sizeof(url), "sqlite:%s/t.db", dir);
    const char *env = getenv("SANAD_TEST_DB");
    if (keys_create_master(key, &e) < 0 || keys_load_master(key, &e) < 0 ||
        db_open(env && *env ? env : url, &db, &e) < 0 || db_migrate(db, &e) < 0 ||
        i18n_init(&e) < 0) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    char a[40], b[40], sa[32], sb[32];
    make_org(a, sa);
    make_org(b, sb);
    char r[8];
    unsigned char rb[3];
    randombytes_buf(rb, sizeof(rb));
    snprintf(r, sizeof(r), "%02x%02x%02x", rb[0], rb[1], rb[2]);
    char n[5][32];
    const char *names[] = {"sup", "w1", "w2", "aud", "osup"};
    for (int i = 0; i < 5; i++) {
        snprintf(n[i], sizeof(n[i]), "%s-%s", names[i], r);
    }
    make_user(&sup, a, sa, "supervisor", n[0]);
    make_user(&w1, a, sa, "case_worker", n[1]);
    make_user(&w2, a, sa, "psychosocial_specialist", n[2]);
    make_user(&auditor, a, sa, "auditor", n[3]);
    make_user(&other_sup, b, sb, "supervisor", n[4]);
    make_child(&w1, "سارة", "الخطيب", child1);
    make_child(&w1, "ليلى", "النجار", child2);
    make_child(&other_sup, "هدى", "السالم", child_other);
    /* w1: A overdue (medium, due 06-10, opened 05-01, plan approved 05-11, pending plan),
     *     B urgent due today; w2: C overdue low, closed D; org B: X overdue. */
    make_case(&w1, child1, "C-2030-00001", "open", "medium", 0, "2030-06-10", "plan",
              "2030-05-01T08:00:00.000Z", "2030-05-11T08:00:00.000Z", NULL, case_a);
    make_case(&w1, child2, "C-2030-00002", "open", "urgent", 1, TODAY, NULL,
              "2030-06-01T08:00:00.000Z", NULL, NULL, case_b);
    make_case(&w2, child1, "C-2030-00003", "open", "low", 0, "2030-06-01", "assessment",
              "2030-04-01T08:00:00.000Z", NULL, NULL, case_c);
    make_case(&w2, child2, "C-2030-00004", "closed", "low", 0, NULL, NULL,
              "2030-03-01T08:00:00.000Z", NULL, "2030-06-05T08:00:00.000Z", case_d);
    make_case(&other_sup, child_other, "C-2030-00001", "open", "high", 1, "2030-06-01", "plan",
              "2030-05-01T08:00:00.000Z", NULL, NULL, case_x);
    /* Today's sessions: two of w1 (one cancelled), one of w2; others on other days. */
    make_session(&w1, case_a, "video", "scheduled", TODAY "T09:00:00.000Z",
                 TODAY "T09:45:00.000Z", NULL);
    make_session(&w1, case_b, "in_person", "cancelled", TODAY "T11:00:00.000Z",
                 TODAY "T11:45:00.000Z", NULL);
    make_session(&w2, case_c, "in_person", "scheduled", TODAY "T13:00:00.000Z",
                 TODAY "T13:30:00.000Z", NULL);
    make_session(&w1, case_a, "phone", "scheduled", "2030-06-16T00:00:00.000Z",
                 "2030-06-16T00:30:00.000Z", NULL);
    make_session(&other_sup, case_x, "video", "scheduled", TODAY "T10:00:00.000Z",
                 TODAY "T10:30:00.000Z", NULL);
    /* The period's sessions: held in person and remote, missed for a device and a connection. */
    make_session(&w1, case_a, "in_person", "held", "2030-06-08T10:00:00.000Z",
                 "2030-06-08T11:00:00.000Z", NULL);
    make_session(&w1, case_a, "video", "held", "2030-06-02T10:00:00.000Z",
                 "2030-06-02T11:00:00.000Z", NULL);
    make_session(&w2, case_c, "phone", "missed", "2030-06-03T10:00:00.000Z",
                 "2030-06-03T11:00:00.000Z", "no_device");
    make_session(&w2, case_c, "chat", "missed", "2030-06-04T10:00:00.000Z",
                 "2030-06-04T11:00:00.000Z", "no_connection");
    make_session(&w2, case_c, "in_person", "missed", "2030-06-04T12:00:00.000Z",
                 "2030-06-04T13:00:00.000Z", "no_device");
    /* Tasks: one for w1, one for the supervisor role, one done. */
    char tid[40];
    uuid_v7(tid);
    sql("INSERT INTO tasks (id, org_id, case_id, assignee_id, kind, title, due_date, urgent,"
        " created_at) VALUES ($1, $2, $3, $4, 'follow_up', 'Call the guardian', '2030-06-14', 0,"
        " '2030-06-01')",
        "tttt", tid, w1.org_id, case_a, w1.user_id);
    uuid_v7(tid);
    sql("INSERT INTO tasks (id, org_id, case_id, role, kind, title, due_date, urgent, created_at)"
        " VALUES ($1, $2, $3, 'supervisor', 'urgent', 'Critical answer', '2030-06-15', 1,"
        " '2030-06-01')",
        "ttt", tid, w1.org_id, case_b);
    uuid_v7(tid);
    sql("INSERT INTO tasks (id, org_id, assignee_id, kind, title, due_date, urgent, created_at,"
        " done_at) VALUES ($1, $2, $3, 'other', 'Done already', '2030-06-01', 0, '2030-06-01',"
        " '2030-06-02')",
        "ttt", tid, w1.org_id, w1.user_id);
    /* Instrument answers: child1 PSC-17 30 -> 20 (better), child2 WHO-5 60 -> 40 (worse),
     * child1 WHO-5 once (not measured twice). */
    const char *resp[][5] = {{case_a, child1, "psc17", "30", "2030-05-20T10:00:00.000Z"},
                             {case_a, child1, "psc17", "20", "2030-06-10T10:00:00.000Z"},
                             {case_b, child2, "who5", "60", "2030-05-20T10:00:00.000Z"},
                             {case_b, child2, "who5", "40", "2030-06-10T10:00:00.000Z"},
                             {case_a, child1, "who5", "50", "2030-06-10T10:00:00.000Z"}};
    for (size_t i = 0; i < 5; i++) {
        uuid_v7(tid);
        sql("INSERT INTO instrument_responses (id, org_id, case_id, child_id, instrument,"
            " answers, total, scores, administered_by, administered_at)"
            " VALUES ($1, $2, $3, $4, $5, '{}', $6, '{}', $7, $8)",
            "tttttitt", tid, w1.org_id, resp[i][0], resp[i][1], resp[i][2],
            (int64_t)atoi(resp[i][3]), w1.user_id, resp[i][4]);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    i18n_shutdown();
    keys_shutdown();
    db_close(db);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The home of a, asserting success. */
static json_t *home(const struct actor *a, bool team)
{
    struct err e;
    err_clear(&e);
    json_t *h = home_query(db, a, TODAY, team, &e);
    if (!h) {
        fail_msg("home_query: %s", e.msg);
    }
    return h;
}

static json_int_t num(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static void test_worker_home(void **state)
{
    (void)state;
    json_t *h = home(&w1, true); /* team is ignored for a worker */
    assert_false(json_is_true(json_object_get(h, "team")));
    json_t *s = json_object_get(h, "sessions");
    assert_int_equal(json_array_size(s), 1); /* the cancelled one and other days are left out */
    json_t *s0 = json_array_get(s, 0);
    assert_string_equal(json_string_value(json_object_get(s0, "time")), "09:00");
    assert_string_equal(json_string_value(json_object_get(s0, "case_no")), "C-2030-00001");
    assert_string_equal(json_string_value(json_object_get(s0, "child_first")), "سارة");
    assert_true(json_is_true(json_object_get(s0, "remote")));
    assert_int_equal(num(h, "n_overdue"), 1); /* B is due today: not overdue yet */
    json_t *o0 = json_array_get(json_object_get(h, "overdue"), 0);
    assert_string_equal(json_string_value(json_object_get(o0, "case_id")), case_a);
    assert_int_equal(num(o0, "days_late"), 5);
    assert_string_equal(json_string_value(json_object_get(o0, "child")), "سارة الخطيب");
    assert_int_equal(num(h, "n_pending"), 1); /* own case waiting */
    assert_int_equal(num(h, "n_urgent"), 1);
    assert_int_equal(num(h, "n_tasks"), 1); /* the done task and the supervisors' are not his */
    assert_null(json_object_get(h, "workers"));
    json_decref(h);
}

static void test_supervisor_home(void **state)
{
    (void)state;
    json_t *h = home(&sup, true);
    assert_true(json_is_true(json_object_get(h, "team")));
    assert_int_equal(json_array_size(json_object_get(h, "sessions")), 2);
    assert_int_equal(num(h, "n_overdue"), 2);  /* A and C; X is another organization's */
    assert_int_equal(num(h, "n_pending"), 2);  /* A and C */
    assert_int_equal(num(h, "n_urgent"), 1);
    assert_int_equal(num(h, "n_tasks"), 1);    /* the task for the supervisor role */
    json_t *workers = json_object_get(h, "workers");
    assert_int_equal(json_array_size(workers), 3); /* sup, w1, w2; not the auditor */
    size_t i;
    json_t *w;
    int seen = 0;
    json_array_foreach(workers, i, w)
    {
        const char *id = json_string_value(json_object_get(w, "id"));
        if (strcmp(id, w1.user_id) == 0) {
            assert_int_equal(num(w, "open"), 2);
            assert_int_equal(num(w, "overdue"), 1);
            assert_int_equal(num(w, "urgent"), 1);
            assert_int_equal(num(w, "pending"), 1);
            assert_int_equal(num(w, "sessions_today"), 1);
            seen++;
        } else if (strcmp(id, w2.user_id) == 0) {
            assert_int_equal(num(w, "open"), 1);
            assert_int_equal(num(w, "sessions_today"), 1);
            seen++;
        }
    }
    assert_int_equal(seen, 2);
    json_decref(h);
    /* The supervisor's own view. */
    h = home(&sup, false);
    assert_int_equal(json_array_size(json_object_get(h, "sessions")), 0);
    assert_int_equal(num(h, "n_overdue"), 0);
    assert_int_equal(num(h, "n_pending"), 2); /* still what they may decide */
    json_decref(h);
    /* Another organization sees only its own. */
    h = home(&other_sup, true);
    assert_int_equal(num(h, "n_overdue"), 1);
    assert_int_equal(json_array_size(json_object_get(h, "sessions")), 1);
    json_decref(h);
}

static void test_home_refusals(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    struct actor donor = w1;
    snprintf(donor.role, sizeof(donor.role), "donor");
    assert_null(home_query(db, &donor, TODAY, false, &e));
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    const char *bad[] = {"", "2030-02-30", "2030-6-1", "yesterday", "2030-06-15' OR 1=1 --",
                         "\xff\xfe"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&e);
        assert_null(home_query(db, &w1, bad[i], false, &e));
        assert_int_equal(e.kind, ERR_INVALID);
    }
    err_clear(&e);
    assert_null(home_query(db, &w1, NULL, false, &e));
}

/* The dashboard for a period, asserting success. */
static json_t *dash(const struct actor *a, const char *from, const char *to, const char *wid)
{
    struct err e;
    err_clear(&e);
    struct dash_query q = {from, to, wid};
    json_t *d = dashboard_query(db, a, &q, TODAY, &e);
    if (!d) {
        fail_msg("dashboard_query: %s", e.msg);
    }
    return d;
}

static void test_dashboard(void **state)
{
    (void)state;
    json_t *d = dash(&sup, "2030-05-01", "2030-06-30", NULL);
    json_t *r = json_object_get(d, "open_by_risk");
    assert_int_equal(num(r, "medium"), 1);
    assert_int_equal(num(r, "urgent"), 1);
    assert_int_equal(num(r, "low"), 1);
    assert_int_equal(num(r, "high"), 0);
    assert_int_equal(num(d, "open_total"), 3);
    assert_int_equal(num(d, "new_cases"), 2);    /* A and B */
    assert_int_equal(num(d, "closed_cases"), 1); /* D */
    assert_int_equal(num(d, "plans_approved"), 1);
    assert_true(json_real_value(json_object_get(d, "avg_days_to_plan")) == 10.0);
    /* Follow-ups judged up to yesterday: A (due 06-10, held session 06-08 in
     * its 14-day window: on time) and C (due 06-01, low, only missed sessions:
     * late); B is due today and not judged. */
    json_t *f = json_object_get(d, "followups");
    assert_int_equal(num(f, "due"), 2);
    assert_int_equal(num(f, "on_time"), 1);
    assert_int_equal(num(f, "pct"), 50);
    json_t *s = json_object_get(d, "sessions");
    assert_int_equal(num(s, "in_person"), 1);
    assert_int_equal(num(s, "remote"), 1);
    json_t *m = json_object_get(d, "missed_remote");
    assert_int_equal(num(m, "no_device"), 1); /* the in-person one missed is not remote */
    assert_int_equal(num(m, "no_connection"), 1);
    json_t *sc = json_object_get(d, "scores");
    assert_int_equal(num(sc, "children_measured"), 2);
    assert_int_equal(num(sc, "children_improved"), 1);
    /* The CSV: BOM, CRLF rows, the numbers. */
    struct buf b = BUF_INIT;
    dashboard_csv(d, "ar", &b);
    assert_memory_equal(b.buf, "\xEF\xBB\xBF", 3);
    assert_non_null(strstr(b.buf, ",followups.pct,50\r\n"));
    assert_non_null(strstr(b.buf, ",missed_remote.no_device,1\r\n"));
    assert_non_null(strstr(b.buf, ",avg_days_to_plan,10.0\r\n"));
    buf_release(&b);
    json_decref(d);
    /* One worker: w2's sessions and cases only. */
    d = dash(&auditor, "2030-05-01", "2030-06-30", w2.user_id);
    assert_int_equal(num(d, "open_total"), 1);
    assert_int_equal(num(json_object_get(d, "sessions"), "in_person"), 0);
    assert_int_equal(num(json_object_get(d, "missed_remote"), "no_device"), 1);
    assert_int_equal(num(json_object_get(d, "followups"), "on_time"), 0);
    json_decref(d);
    /* A period with nothing: zero counts, no percentage. */
    d = dash(&sup, "2020-01-01", "2020-01-31", "");
    assert_int_equal(num(d, "new_cases"), 0);
    assert_true(json_is_null(json_object_get(json_object_get(d, "followups"), "pct")));
    assert_true(json_is_null(json_object_get(d, "avg_days_to_plan")));
    json_decref(d);
}

static void test_dashboard_refusals(void **state)
{
    (void)state;
    struct err e;
    struct dash_query q = {"2030-05-01", "2030-06-30", NULL};
    err_clear(&e);
    assert_null(dashboard_query(db, &w1, &q, TODAY, &e)); /* a worker may not */
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    struct dash_query bad[] = {{"2030-06-30", "2030-05-01", NULL}, {"2030-02-30", TODAY, NULL},
                               {"", TODAY, NULL},                  {"2030-01-01", "x", NULL},
                               {"2020-01-01", "2030-01-01", NULL}, {NULL, TODAY, NULL},
                               {"2030-05-01", TODAY, other_sup.user_id},
                               {"2030-05-01", TODAY, "not-an-id"}};
    const char *field[] = {"to", "from", "from", "to", "from", "from", "worker_id", "worker_id"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&e);
        assert_null(dashboard_query(db, &sup, &bad[i], TODAY, &e));
        assert_int_equal(e.kind, ERR_INVALID);
        assert_string_equal(e.field, field[i]);
    }
}

static void test_directions(void **state)
{
    (void)state;
    assert_int_equal(home_instrument_direction("PSC-17"), -1);
    assert_int_equal(home_instrument_direction("psc17"), -1);
    assert_int_equal(home_instrument_direction("WHO-5"), 1);
    assert_int_equal(home_instrument_direction("who5"), 1);
    assert_int_equal(home_instrument_direction("custom"), 0);
    assert_int_equal(home_instrument_direction(""), 0);
    assert_int_equal(home_instrument_direction(NULL), 0);
}

static void test_digest(void **state)
{
    (void)state;
    json_t *h = home(&w1, false);
    struct buf subject = BUF_INIT, body = BUF_INIT;
    assert_true(reminders_digest(h, "ar", "w1", TODAY, &subject, &body));
    assert_non_null(strstr(subject.buf, TODAY));
    assert_non_null(strstr(body.buf, "C-2030-00001 سارة"));
    assert_null(strstr(body.buf, "الخطيب")); /* never the family name */
    assert_null(strstr(body.buf, "النجار"));
    buf_release(&subject);
    buf_release(&body);
    json_decref(h);
    /* Nothing to say: no digest. */
    json_t *empty = json_pack("{s:[], s:i, s:i}", "sessions", "n_overdue", 0, "n_pending", 0);
    assert_false(reminders_digest(empty, "en", "x", TODAY, &subject, &body));
    assert_int_equal(subject.len, 0);
    json_decref(empty);
}

/* One integer from a one-row query with text parameters (a read transaction). */
static int64_t sql_int(const char *q, const char *types, ...)
{
    struct err e;
    err_clear(&e);
    assert_int_equal(db_begin(db, true, &e), 0);
    struct db_stmt *s = db_prepare(db, q, &e);
    if (!s) {
        fail_msg("sql_int: %s", e.msg);
    }
    va_list ap;
    va_start(ap, types);
    for (int i = 0; types[i]; i++) {
        db_bind_text(s, i + 1, va_arg(ap, const char *));
    }
    va_end(ap);
    int rc = db_step(s, &e);
    if (rc < 0) {
        fail_msg("sql_int: %s", e.msg);
    }
    int64_t v = rc == 1 ? db_col_int64(s, 0) : -1;
    db_done(s);
    db_rollback(db);
    return v;
}

/* Each summary of 0013_case_summaries.sql, computed afresh from its tables. */
static const char *const fresh_followups =
    "SELECT case_id, org_id, worker_id, next_contact, on_time FROM case_followup_state";
static const char *const kept_followups =
    "SELECT case_id, org_id, worker_id, next_contact, on_time FROM case_followups";
static const char *const fresh_sessions =
    "SELECT org_id, substr(starts_at, 1, 10), worker_id,"
    " SUM(CASE WHEN status = 'held' AND mode = 'in_person' THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN status = 'held' AND mode = 'phone' THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN status = 'held' AND mode = 'video' THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN status = 'held' AND mode = 'chat' THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN status = 'held' AND mode NOT IN ('in_person', 'phone', 'video', 'chat')"
    " THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN status = 'missed' AND mode <> 'in_person' THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN status = 'missed' AND mode <> 'in_person' AND missed_reason = 'no_device'"
    " THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN status = 'missed' AND mode <> 'in_person' AND missed_reason = 'no_connection'"
    " THEN 1 ELSE 0 END)"
    " FROM sessions_care WHERE status IN ('held', 'missed')"
    " GROUP BY org_id, substr(starts_at, 1, 10), worker_id";
static const char *const kept_sessions =
    "SELECT org_id, day, worker_id, held_in_person, held_phone, held_video, held_chat,"
    " held_remote_other, missed_remote, missed_no_device, missed_no_connection FROM session_days"
    " WHERE held_in_person <> 0 OR held_phone <> 0 OR held_video <> 0 OR held_chat <> 0"
    " OR held_remote_other <> 0 OR missed_remote <> 0 OR missed_no_device <> 0"
    " OR missed_no_connection <> 0";
static const char *const fresh_open =
    "SELECT org_id, worker_id, risk_level, CASE WHEN next_contact IS NULL THEN 0 ELSE 1 END,"
    " COALESCE(next_contact, ''), COUNT(*), SUM(CASE WHEN urgent = 1 THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN pending IS NOT NULL THEN 1 ELSE 0 END) FROM cases WHERE status = 'open'"
    " GROUP BY org_id, worker_id, risk_level, CASE WHEN next_contact IS NULL THEN 0 ELSE 1 END,"
    " COALESCE(next_contact, '')";
static const char *const kept_open =
    "SELECT org_id, worker_id, risk_level, has_next, next_contact, n_open, n_urgent, n_pending"
    " FROM case_open_days WHERE n_open <> 0 OR n_urgent <> 0 OR n_pending <> 0";

/* Rows of a that are not in b (SQL EXCEPT, both engines). */
static int64_t rows_missing(const char *a, const char *b)
{
    char q[4096];
    snprintf(q, sizeof(q), "SELECT COUNT(*) FROM (%s EXCEPT %s) x", a, b);
    return sql_int(q, "");
}

/* Asserts that every summary equals its fresh computation, at line. */
static void summaries_agree(int line)
{
    const char *pairs[][2] = {{fresh_followups, kept_followups},
                              {fresh_sessions, kept_sessions},
                              {fresh_open, kept_open}};
    for (size_t i = 0; i < 3; i++) {
        int64_t missing = rows_missing(pairs[i][0], pairs[i][1]);
        int64_t extra = rows_missing(pairs[i][1], pairs[i][0]);
        if (missing != 0 || extra != 0) {
            fail_msg("line %d: summary %zu: %lld rows missing, %lld extra", line, i,
                     (long long)missing, (long long)extra);
        }
    }
    assert_int_equal(sql_int("SELECT COUNT(*) FROM session_days WHERE held_in_person < 0"
                             " OR held_phone < 0 OR held_video < 0 OR held_chat < 0"
                             " OR held_remote_other < 0 OR missed_remote < 0"
                             " OR missed_no_device < 0 OR missed_no_connection < 0", ""),
                     0);
    assert_int_equal(sql_int("SELECT COUNT(*) FROM case_open_days WHERE n_open < 0"
                             " OR n_urgent < 0 OR n_pending < 0", ""),
                     0);
}

/* The stored on-time flag of a case's follow-up (-1 without a row). */
static int64_t on_time_of(const char *case_id)
{
    return sql_int("SELECT on_time FROM case_followups WHERE case_id = $1", "t", case_id);
}

/* The windows of the trigger are the service's contact intervals. */
static void test_contact_windows(void **state)
{
    (void)state;
    const char *levels[] = {"urgent", "high", "medium", "low"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(sql_int("SELECT days FROM case_contact_windows WHERE risk_level = $1",
                                 "t", levels[i]),
                         case_contact_days(levels[i]));
    }
    assert_int_equal(sql_int("SELECT COUNT(*) FROM case_contact_windows", ""), 4);
}

/* The summaries follow every write: the setup's SQL, then cases and sessions
 * through their services (open, session created, held, missed, moved,
 * cancelled, deleted, reassigned, urgent raised and resolved), and SQL that
 * moves dates, even to a malformed one. */
static void test_summaries_follow_writes(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    summaries_agree(__LINE__);
    /* On PostgreSQL the date arithmetic must not depend on the session's
     * DateStyle (a cast of a date to text would write 27/05/2030). */
    bool pg = db_backend_of(db) == DB_POSTGRES;
    if (pg) {
        assert_int_equal(db_exec(db, "SET DateStyle = 'SQL, DMY'", &e), 0);
    }
    /* A followed-up case (held session 06-08 in the 14 days before 06-10) and
     * a late one (only missed sessions). */
    assert_int_equal(on_time_of(case_a), 1);
    assert_int_equal(on_time_of(case_c), 0);
    assert_int_equal(on_time_of(case_d), -1); /* no next contact */
    char child3[40], cid[40], cno[32];
    make_child(&w1, "مريم", "العلي", child3);
    assert_int_equal(case_open(db, &w1, child3, w1.user_id, NULL, cid, cno, &e), 0);
    summaries_agree(__LINE__);
    assert_int_equal(on_time_of(cid), 1); /* opened today, due in 14 days */
    json_t *h = home(&sup, true);
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(h, "workers"), i, w)
    {
        if (strcmp(json_string_value(json_object_get(w, "id")), w1.user_id) == 0) {
            assert_int_equal(num(w, "open"), 3);
        }
    }
    json_decref(h);
    /* A next contact far ahead: the opening is no longer in its window. */
    sql("UPDATE cases SET next_contact = '2031-01-10' WHERE id = $1", "t", cid);
    assert_int_equal(on_time_of(cid), 0);
    summaries_agree(__LINE__);
    /* A session scheduled in that window counts only once held. */
    char sid[40];
    json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "individual", "mode", "video",
                           "case_id", cid, "starts_at", "2031-01-05T10:00:00.000Z", "ends_at",
                           "2031-01-05T10:45:00.000Z");
    if (session_create(db, &w1, in, sid, &e) < 0) {
        fail_msg("session_create: %s", e.msg);
    }
    json_decref(in);
    assert_int_equal(on_time_of(cid), 0);
    summaries_agree(__LINE__);
    /* Held today (outcomes need a started session): counted on today. */
    char start[32], day[11];
    time_format_iso(time_now_ms() / 86400000 * 86400000, start, sizeof(start));
    snprintf(day, sizeof(day), "%.10s", start);
    sql("UPDATE sessions_care SET starts_at = $2, ends_at = $2 WHERE id = $1", "tt", sid, start);
    in = json_pack("{s:s, s:{s:b}}", "status", "held", "attendance", child3, 1);
    if (session_outcome(db, &w1, sid, in, &e) < 0) {
        fail_msg("session_outcome: %s", e.msg);
    }
    json_decref(in);
    summaries_agree(__LINE__);
    assert_int_equal(sql_int("SELECT held_video FROM session_days WHERE org_id = $1 AND day = $2"
                             " AND worker_id = $3",
                             "ttt", w1.org_id, day, w1.user_id),
                     1);
    assert_int_equal(on_time_of(cid), 0); /* today is not in the window of 2031-01-10 */
    /* Moved into the window: on time; then missed: late again. */
    sql("UPDATE sessions_care SET starts_at = '2031-01-05T10:00:00.000Z' WHERE id = $1", "t", sid);
    assert_int_equal(on_time_of(cid), 1);
    summaries_agree(__LINE__);
    sql("UPDATE sessions_care SET status = 'missed', missed_reason = 'no_connection' WHERE id = $1",
        "t", sid);
    assert_int_equal(on_time_of(cid), 0);
    assert_int_equal(sql_int("SELECT missed_no_connection FROM session_days WHERE org_id = $1"
                             " AND day = '2031-01-05' AND worker_id = $2",
                             "tt", w1.org_id, w1.user_id),
                     1);
    summaries_agree(__LINE__);
    /* A dashboard over that day sees exactly the summary. */
    json_t *d = dash(&sup, "2031-01-01", "2031-01-31", NULL);
    assert_int_equal(num(json_object_get(d, "missed_remote"), "no_connection"), 1);
    assert_int_equal(num(json_object_get(d, "missed_remote"), "all_remote_missed"), 1);
    assert_int_equal(num(json_object_get(d, "sessions"), "remote"), 0);
    json_decref(d);
    /* Held again, then deleted. */
    sql("UPDATE sessions_care SET status = 'held', missed_reason = NULL WHERE id = $1", "t", sid);
    assert_int_equal(on_time_of(cid), 1);
    summaries_agree(__LINE__);
    sql("DELETE FROM session_children WHERE session_id = $1", "t", sid);
    sql("DELETE FROM sessions_care WHERE id = $1", "t", sid);
    assert_int_equal(on_time_of(cid), 0);
    summaries_agree(__LINE__);
    /* Created and cancelled: nothing counted. */
    in = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "individual", "mode", "phone", "case_id",
                   cid, "starts_at", "2031-01-06T10:00:00.000Z", "ends_at",
                   "2031-01-06T10:30:00.000Z");
    assert_int_equal(session_create(db, &w1, in, sid, &e), 0);
    json_decref(in);
    assert_int_equal(session_cancel(db, &w1, sid, "travelling", &e), 0);
    summaries_agree(__LINE__);
    /* Reassigned to w2: the case's counts and follow-up move with it. */
    assert_int_equal(case_assign(db, &sup, cid, w2.user_id, NULL, "leave", &e), 0);
    summaries_agree(__LINE__);
    assert_int_equal(sql_int("SELECT COUNT(*) FROM case_followups WHERE case_id = $1"
                             " AND worker_id = $2",
                             "tt", cid, w2.user_id),
                     1);
    /* Urgent: next contact today, the flag's event in its window. */
    assert_int_equal(db_begin(db, false, &e), 0);
    assert_int_equal(case_raise_urgent_tx(db, &sup, cid, "critical answer", &e), 0);
    assert_int_equal(db_commit(db, &e), 0);
    summaries_agree(__LINE__);
    assert_int_equal(on_time_of(cid), 1);
    assert_int_equal(sql_int("SELECT SUM(n_urgent) FROM case_open_days WHERE org_id = $1"
                             " AND worker_id = $2",
                             "tt", w2.org_id, w2.user_id),
                     1);
    assert_int_equal(case_resolve_urgent(db, &w2, cid, "called the guardian", &e), 0);
    summaries_agree(__LINE__);
    /* A malformed next contact: not on time, and no write fails. */
    sql("UPDATE cases SET next_contact = 'soon' WHERE id = $1", "t", cid);
    assert_int_equal(on_time_of(cid), 0);
    sql("UPDATE cases SET next_contact = NULL, status = 'closed' WHERE id = $1", "t", cid);
    assert_int_equal(on_time_of(cid), -1);
    summaries_agree(__LINE__);
    /* The figures of test_dashboard still hold: nothing here touched May-June 2030. */
    d = dash(&sup, "2030-05-01", "2030-06-30", NULL);
    assert_int_equal(num(json_object_get(d, "followups"), "due"), 2);
    assert_int_equal(num(json_object_get(d, "followups"), "on_time"), 1);
    json_decref(d);
    if (pg) {
        assert_int_equal(db_exec(db, "SET DateStyle = 'ISO, MDY'", &e), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worker_home),  cmocka_unit_test(test_supervisor_home),
        cmocka_unit_test(test_home_refusals), cmocka_unit_test(test_dashboard),
        cmocka_unit_test(test_dashboard_refusals), cmocka_unit_test(test_directions),
        cmocka_unit_test(test_digest), cmocka_unit_test(test_contact_windows),
        cmocka_unit_test(test_summaries_follow_writes),
    };
    if (sodium_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
