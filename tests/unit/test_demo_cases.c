/*
 * test_demo_cases: the demo case work of `init --demo`. Without the demo
 * users it refuses; with them it makes 60 cases at every stage (pending
 * approvals, closed, reopened, urgent, overdue), approvals only by the
 * supervisor, sessions held, missed for want of a device, a connection or
 * electricity, and upcoming video sessions with a room, PSC-17 and WHO-5 at
 * several dates, nothing dated in the future, a dashboard with improvement,
 * and an intact audit log. Runs on SANAD_TEST_DB or a temp SQLite file.
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

#include "audit/audit.h"
#include "auth/auth.h"
#include "cases/cases.h"
#include "cases/demo_cases.h"
#include "cases/home.h"
#include "cases/instruments.h"
#include "children/demo.h"
#include "core/time.h"
#include "db/db_util.h"
#include "keys/keys.h"
#include "core/banned.h"

static char dir[64];
static struct db *db;
static struct actor cli; /* the command line on the demo organization */

/* Creates an organization with slug as the command line would; fills a. */
static void make_org(const char *slug, struct actor *a)
{
    struct actor root;
    actor_system(&root, "");
    char id[40];
    struct err e;
    err_clear(&e);
    if (org_create(db, &root, slug, slug, id, &e) < 0) {
        fail_msg("org_create: %s", e.msg);
    }
    actor_system(a, id);
    snprintf(a->org_slug, sizeof(a->org_slug), "%s", slug);
}

/* Creates the demo user username of role in a's organization. */
static void make_user(const struct actor *a, const char *username, const char *role)
{
    struct user_new u = {.username = username, .display_name = username, .role = role,
                         .lang = "ar"};
    char id[40], invite[64];
    struct err e;
    err_clear(&e);
    if (user_create(db, a, a->org_id, &u, id, invite, &e) < 0) {
        fail_msg("user_create: %s", e.msg);
    }
}

/* One number from sql with the organization's id as $1. */
static int64_t count(const char *sql)
{
    struct err e;
    err_clear(&e);
    int found;
    struct db_stmt *s = db_row(db, &e, &found, sql, "t", cli.org_id);
    if (!s) {
        fail_msg("count: %s: %s", sql, e.msg);
    }
    int64_t n = db_col_int64(s, 0);
    db_done(s);
    return n;
}

static int setup(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    snprintf(dir, sizeof(dir), "/tmp/sanad-democases-XXXXXX");
    if (!mkdtemp(dir)) {
        return -1;
    }
    char key[128], url[160];
    snprintf(key, sizeof(key), "%s/sanad.key", dir);
    snprintf(url, sizeof(url), "sqlite:%s/t.db", dir);
    const char *env = getenv("SANAD_TEST_DB");
    if (keys_create_master(key, &e) < 0 || keys_load_master(key, &e) < 0 ||
        db_open(env && *env ? env : url, &db, &e) < 0 || db_migrate(db, &e) < 0 ||
        instruments_init(NULL, &e) < 0) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    unsigned char r[4];
    randombytes_buf(r, sizeof(r));
    char slug[32];
    snprintf(slug, sizeof(slug), "demo%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
    make_org(slug, &cli);
    make_user(&cli, "supervisor", "supervisor");
    make_user(&cli, "caseworker", "case_worker");
    make_user(&cli, "psychologist", "psychosocial_specialist");
    if (children_demo(db, &cli, 120, &e) < 0) {
        fprintf(stderr, "setup: children_demo: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    instruments_shutdown();
    keys_shutdown();
    db_close(db);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* An organization without the demo users: refused, naming the user. */
static void test_needs_users(void **state)
{
    (void)state;
    struct actor bare;
    unsigned char r[4];
    randombytes_buf(r, sizeof(r));
    char slug[32];
    snprintf(slug, sizeof(slug), "bare%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
    make_org(slug, &bare);
    struct err e;
    err_clear(&e);
    assert_int_equal(cases_demo(db, &bare, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    assert_non_null(strstr(e.msg, "'caseworker'"));
}

/* The demo itself, then what it should show. */
static void test_demo(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    int64_t t0 = time_mono_ns();
    int n = cases_demo(db, &cli, &e);
    if (n < 0) {
        fail_msg("cases_demo: %s", e.msg);
    }
    fprintf(stderr, "cases_demo: %d cases in %.2f s\n", n, (double)(time_mono_ns() - t0) / 1e9);
    assert_int_equal(n, 60);
    assert_int_equal(count("SELECT COUNT(*) FROM cases WHERE org_id = $1"), 60);
    /* Every stage, approvals waiting, closed and reopened cases. */
    static const char *const stages[] = {"assessment", "plan", "services", "follow_up"};
    for (int i = 0; i < 4; i++) {
        char sql[200];
        snprintf(sql, sizeof(sql),
                 "SELECT COUNT(*) FROM cases WHERE org_id = $1 AND status = 'open'"
                 " AND stage = '%s'",
                 stages[i]);
        assert_true(count(sql) >= 3);
    }
    assert_true(count("SELECT COUNT(*) FROM cases WHERE org_id = $1 AND pending = 'assessment'") >=
                3);
    assert_true(count("SELECT COUNT(*) FROM cases WHERE org_id = $1 AND pending = 'plan'") >= 2);
    assert_true(count("SELECT COUNT(*) FROM cases WHERE org_id = $1 AND pending = 'closure'") >= 1);
    assert_int_equal(count("SELECT COUNT(*) FROM cases WHERE org_id = $1 AND status = 'closed'"),
                     4);
    assert_int_equal(count("SELECT COUNT(*) FROM case_events WHERE org_id = $1"
                           " AND kind = 'reopened'"),
                     1);
    assert_true(count("SELECT COUNT(*) FROM case_events WHERE org_id = $1"
                      " AND kind = 'sent_back'") >= 2);
    assert_int_equal(count("SELECT COUNT(*) FROM cases WHERE org_id = $1 AND urgent = 1"), 4);
    assert_true(count("SELECT COUNT(DISTINCT risk_level) FROM cases WHERE org_id = $1") == 4);
    char today[11];
    case_date_after(0, today);
    int found;
    struct db_stmt *s = db_row(db, &e, &found,
                               "SELECT COUNT(*) FROM cases WHERE org_id = $1 AND status = 'open'"
                               " AND next_contact < $2",
                               "tt", cli.org_id, today);
    assert_non_null(s);
    int64_t overdue = db_col_int64(s, 0);
    db_done(s);
    assert_true(overdue >= 3 && overdue <= 15);
    /* Approvals only by a supervisor who works none of the cases. */
    assert_int_equal(count("SELECT COUNT(*) FROM assessments a JOIN cases c ON c.id = a.case_id"
                           " WHERE c.org_id = $1 AND a.decided_by IS NOT NULL AND"
                           " (a.decided_by = c.worker_id OR a.decided_by = c.specialist_id)"),
                     0);
    assert_int_equal(count("SELECT COUNT(*) FROM cases c JOIN users u ON u.id = c.worker_id"
                           " WHERE c.org_id = $1 AND u.username = 'supervisor'"),
                     0);
    assert_true(count("SELECT COUNT(*) FROM providers WHERE org_id = $1 AND kind = 'internal'") >=
                3);
    assert_true(count("SELECT COUNT(*) FROM providers WHERE org_id = $1 AND kind = 'external'") >=
                3);
    assert_true(count("SELECT COUNT(*) FROM plan_actions WHERE org_id = $1"
                      " AND status = 'done' AND outcome IS NOT NULL") >= 5);
    /* Sessions: held in person and remote, missed for each want, upcoming
     * video sessions with a room for both workers. */
    assert_true(count("SELECT COUNT(*) FROM sessions_care WHERE org_id = $1 AND status = 'held'"
                      " AND mode = 'in_person'") >= 10);
    assert_true(count("SELECT COUNT(*) FROM sessions_care WHERE org_id = $1 AND status = 'held'"
                      " AND mode <> 'in_person'") >= 10);
    static const char *const why[] = {"no_device", "no_connection", "no_electricity"};
    for (int i = 0; i < 3; i++) {
        char sql[200];
        snprintf(sql, sizeof(sql),
                 "SELECT COUNT(*) FROM sessions_care WHERE org_id = $1 AND status = 'missed'"
                 " AND missed_reason = '%s'",
                 why[i]);
        assert_true(count(sql) >= 1);
    }
    assert_true(count("SELECT COUNT(DISTINCT s.worker_id) FROM sessions_care s"
                      " WHERE s.org_id = $1 AND s.status = 'scheduled' AND s.mode = 'video'"
                      " AND s.room IS NOT NULL") == 2);
    assert_true(count("SELECT COUNT(*) FROM sessions_care WHERE org_id = $1"
                      " AND kind = 'group'") >= 1);
    /* Scores at two or three dates per child; nothing dated after now. */
    assert_true(count("SELECT COUNT(*) FROM (SELECT child_id FROM instrument_responses"
                      " WHERE org_id = $1 AND instrument = 'psc17' GROUP BY child_id"
                      " HAVING COUNT(DISTINCT substr(administered_at, 1, 10)) >= 2) x") >= 10);
    assert_true(count("SELECT COUNT(*) FROM instrument_responses WHERE org_id = $1"
                      " AND instrument = 'who5'") >= 10);
    char now[32];
    time_format_iso(time_now_ms(), now, sizeof(now));
    s = db_row(db, &e, &found,
               "SELECT (SELECT COUNT(*) FROM case_events WHERE org_id = $1 AND at > $2)"
               " + (SELECT COUNT(*) FROM instrument_responses WHERE org_id = $1"
               " AND administered_at > $2)"
               " + (SELECT COUNT(*) FROM sessions_care WHERE org_id = $1"
               " AND status <> 'scheduled' AND starts_at > $2)"
               " + (SELECT COUNT(*) FROM cases WHERE org_id = $1 AND opened_at > $2)",
               "tt", cli.org_id, now);
    assert_non_null(s);
    assert_int_equal(db_col_int64(s, 0), 0);
    db_done(s);
    assert_true(count("SELECT COUNT(*) FROM cases WHERE org_id = $1"
                      " AND plan_approved_at < opened_at") == 0);
    /* The dashboard of the last 90 days shows improvement and remote misses. */
    char from[11];
    case_date_after(-89, from);
    struct dash_query q = {from, today, NULL};
    json_t *d = dashboard_query(db, &cli, &q, today, &e);
    assert_non_null(d);
    json_t *scores = json_object_get(d, "scores");
    assert_true(json_integer_value(json_object_get(scores, "children_improved")) > 0);
    assert_true(json_integer_value(json_object_get(scores, "children_improved")) <
                json_integer_value(json_object_get(scores, "children_measured")));
    assert_true(json_integer_value(json_object_get(json_object_get(d, "missed_remote"),
                                                   "no_connection")) > 0);
    assert_true(json_real_value(json_object_get(d, "avg_days_to_plan")) > 1.0);
    json_decref(d);
    /* Everything audited, and the log intact. */
    assert_true(count("SELECT COUNT(*) FROM audit_log WHERE org_id = $1"
                      " AND action = 'case.approve'") >= 40);
    FILE *devnull = fopen("/dev/null", "w");
    assert_non_null(devnull);
    assert_int_equal(audit_verify(db, devnull, &e), 0);
    fclose(devnull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_needs_users),
        cmocka_unit_test(test_demo),
    };
    if (sodium_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
