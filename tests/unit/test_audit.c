/*
 * test_audit.c: the hash-chained audit log against a real database
 * (SANAD_TEST_DB, else a temporary SQLite file). On PostgreSQL the tests run
 * in a schema of their own, dropped at the end, because they tamper with the
 * log on purpose and the database is shared with the other suites.
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
#include <unistd.h>

#include "audit/audit.h"
#include "core/config.h"
#include "core/uuid.h"
#include "db/db.h"
#include "db/db_util.h"
#include "core/banned.h"

static struct db *g_db;     /* the connection under test */
static char g_dir[64];      /* temporary folder for the SQLite file */
static char g_schema[64];   /* PostgreSQL schema of this run, "" on SQLite */
static char g_url[512];     /* the database url */
static char g_org_a[40];    /* the first chain's organization */
static char g_org_b[40];    /* the second chain's organization */

/* Runs sql or fails the test. */
static void exec_ok(const char *sql)
{
    struct err e;
    err_clear(&e);
    if (db_exec(g_db, sql, &e) != 0) {
        fail_msg("'%s': %s", sql, e.msg);
    }
}

/* Runs a statement with text parameters or fails the test; returns rows changed. */
static int64_t run_ok(const char *sql, const char *types, const char *a, const char *b)
{
    struct err e;
    err_clear(&e);
    int64_t n = db_run(g_db, &e, sql, types, a, b);
    if (n < 0) {
        fail_msg("'%s': %s", sql, e.msg);
    }
    return n;
}

/* Opens a connection to g_url and points it at this run's schema. */
static struct db *open_db(void)
{
    struct err e;
    err_clear(&e);
    struct db *db = NULL;
    if (db_open(g_url, &db, &e) != 0) {
        fprintf(stderr, "test_audit: could not open '%s': %s\n", g_url, e.msg);
        return NULL;
    }
    if (g_schema[0]) {
        char sql[128];
        snprintf(sql, sizeof(sql), "SET search_path TO %s", g_schema);
        if (db_exec(db, sql, &e) != 0) {
            db_close(db);
            return NULL;
        }
    }
    return db;
}

static int group_setup(void **state)
{
    (void)state;
    if (sodium_init() < 0) {
        return -1;
    }
    config_defaults();
    config_finish();
    const char *env = getenv("SANAD_TEST_DB");
    if (env && *env) {
        snprintf(g_url, sizeof(g_url), "%s", env);
        snprintf(g_schema, sizeof(g_schema), "sanad_t_audit_%d_%u", (int)getpid(),
                 (unsigned)randombytes_uniform(1000000));
        struct err e;
        err_clear(&e);
        if (db_open(g_url, &g_db, &e) != 0) {
            fprintf(stderr, "test_audit: could not open '%s': %s\n", g_url, e.msg);
            return -1;
        }
        char sql[160];
        snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", g_schema);
        if (db_exec(g_db, sql, &e) != 0) {
            fprintf(stderr, "test_audit: %s\n", e.msg);
            return -1;
        }
        db_close(g_db);
    } else {
        snprintf(g_dir, sizeof(g_dir), "/tmp/sanad-test-audit-XXXXXX");
        if (!mkdtemp(g_dir)) {
            return -1;
        }
        snprintf(g_url, sizeof(g_url), "sqlite:%s/audit.db", g_dir);
    }
    g_db = open_db();
    if (!g_db) {
        return -1;
    }
    struct err e;
    err_clear(&e);
    if (db_migrate(g_db, &e) != 0) {
        fprintf(stderr, "test_audit: migrate: %s\n", e.msg);
        return -1;
    }
    fprintf(stderr, "test_audit: backend %s\n",
            db_backend_of(g_db) == DB_POSTGRES ? "postgres" : "sqlite");
    uuid_v7(g_org_a);
    uuid_v7(g_org_b);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    if (g_schema[0] && g_db) {
        char sql[160];
        snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", g_schema);
        db_exec(g_db, sql, &e);
    }
    db_close(g_db);
    g_db = NULL;
    if (g_dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
        if (system(cmd) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Appends one entry to org's chain in its own transaction, or fails the test. */
static void append_ok(const char *org, const char *action, const char *detail)
{
    struct err e;
    err_clear(&e);
    struct audit_event ev = {
        .org_id = org,
        .actor_id = "u-1",
        .actor_name = "hope/ahmad",
        .action = action,
        .entity = "user",
        .entity_id = "e-1",
        .outcome = "ok",
        .remote = "203.0.113.7",
        .request_id = "rid-1",
        .detail = detail,
    };
    if (db_begin(g_db, false, &e) != 0 || audit_append(g_db, &ev, &e) != 0 ||
        db_commit(g_db, &e) != 0) {
        db_rollback(g_db);
        fail_msg("append: %s", e.msg);
    }
}

/* Empties the log and writes 5 entries for org A and 3 for org B, interleaved. */
static int fresh_chains(void **state)
{
    (void)state;
    exec_ok("DELETE FROM audit_log; DELETE FROM audit_heads");
    for (int i = 1; i <= 5; i++) {
        char d[32];
        snprintf(d, sizeof(d), "a%d", i);
        append_ok(g_org_a, "user.create", d);
        if (i <= 3) {
            snprintf(d, sizeof(d), "b%d", i);
            append_ok(g_org_b, "user.role", d);
        }
    }
    return 0;
}

/* Runs audit_verify; returns its result and puts its output in *text (caller frees). */
static int verify(char **text)
{
    size_t len = 0;
    *text = NULL;
    FILE *f = open_memstream(text, &len);
    assert_non_null(f);
    struct err e;
    err_clear(&e);
    int rc = audit_verify(g_db, f, &e);
    fclose(f);
    if (rc < 0) {
        fail_msg("verify: %s", e.msg);
    }
    assert_false(db_in_transaction(g_db));
    return rc;
}

/* Counts the lines of s. */
static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++) {
        n += *s == '\n';
    }
    return n;
}

/* Expects verify to report exactly one problem, in org A's chain, whose line holds want. */
static void expect_broken_a(const char *want)
{
    char *out;
    assert_int_equal(verify(&out), 1);
    char chain[64];
    snprintf(chain, sizeof(chain), "chain '%s'", g_org_a);
    if (!strstr(out, chain) || !strstr(out, want)) {
        fail_msg("output '%s' lacks '%s' or '%s'", out, chain, want);
    }
    if (strstr(out, g_org_b)) {
        fail_msg("the intact chain was reported: '%s'", out);
    }
    assert_int_equal(lines(out), 1);
    assert_null(strstr(out, "intact"));
    free(out);
}

static void test_intact(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(verify(&out), 0);
    assert_string_equal(out, "audit log intact: 8 entries\n");
    free(out);
    /* the chain links as documented */
    struct err e;
    err_clear(&e);
    int found;
    struct db_stmt *s = db_row(g_db, &e, &found,
                               "SELECT COUNT(*) FROM audit_log a JOIN audit_log p"
                               " ON p.org_id = a.org_id AND p.seq = a.seq - 1"
                               " WHERE a.prev_hash = p.hash",
                               "");
    assert_non_null(s);
    assert_int_equal(db_col_int64(s, 0), 4 + 2);
    db_done(s);
    s = db_row(g_db, &e, &found, "SELECT seq, hash FROM audit_heads WHERE org_id = $1", "t",
               g_org_a);
    assert_non_null(s);
    assert_int_equal(db_col_int64(s, 0), 5);
    assert_int_equal(strlen(db_col_text(s, 1)), 64);
    db_done(s);
    s = db_row(g_db, &e, &found, "SELECT prev_hash FROM audit_log WHERE org_id = $1 AND seq = 1",
               "t", g_org_b);
    assert_non_null(s);
    assert_string_equal(db_col_text(s, 0),
                        "0000000000000000000000000000000000000000000000000000000000000000");
    db_done(s);
}

static void test_empty_log(void **state)
{
    (void)state;
    exec_ok("DELETE FROM audit_log; DELETE FROM audit_heads");
    char *out;
    assert_int_equal(verify(&out), 0);
    assert_string_equal(out, "audit log intact: 0 entries\n");
    free(out);
}

static void test_changed_field(void **state)
{
    (void)state;
    run_ok("UPDATE audit_log SET detail = 'role=admin' WHERE org_id = $1 AND seq = 3", "t",
           g_org_a, NULL);
    expect_broken_a("entry 3");
}

static void test_changed_each_field(void **state)
{
    (void)state;
    static const char *cols[] = {"at", "actor_id", "actor_name", "action", "entity",
                                 "entity_id", "outcome", "remote", "request_id", "detail"};
    for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
        fresh_chains(NULL);
        char sql[160];
        snprintf(sql, sizeof(sql),
                 "UPDATE audit_log SET %s = %s || 'x' WHERE org_id = $1 AND seq = 2", cols[i],
                 cols[i]);
        run_ok(sql, "t", g_org_a, NULL);
        char *out;
        if (verify(&out) != 1) {
            fail_msg("a change of '%s' went unseen", cols[i]);
        }
        assert_non_null(strstr(out, "entry 2"));
        free(out);
    }
    /* the stored hash rewritten to match a changed field still breaks the next link */
    fresh_chains(NULL);
    run_ok("UPDATE audit_log SET hash = 'ab' WHERE org_id = $1 AND seq = 2", "t", g_org_a, NULL);
    expect_broken_a("entry 2");
}

static void test_deleted_middle(void **state)
{
    (void)state;
    run_ok("DELETE FROM audit_log WHERE org_id = $1 AND seq = 3", "t", g_org_a, NULL);
    expect_broken_a("entry 4");
}

static void test_deleted_first(void **state)
{
    (void)state;
    run_ok("DELETE FROM audit_log WHERE org_id = $1 AND seq = 1", "t", g_org_a, NULL);
    expect_broken_a("entry 2");
}

static void test_swapped(void **state)
{
    (void)state;
    run_ok("UPDATE audit_log SET seq = -2 WHERE org_id = $1 AND seq = 2", "t", g_org_a, NULL);
    run_ok("UPDATE audit_log SET seq = 2 WHERE org_id = $1 AND seq = 3", "t", g_org_a, NULL);
    run_ok("UPDATE audit_log SET seq = 3 WHERE org_id = $1 AND seq = -2", "t", g_org_a, NULL);
    expect_broken_a("entry 2");
}

static void test_deleted_last(void **state)
{
    (void)state;
    run_ok("DELETE FROM audit_log WHERE org_id = $1 AND seq = 5", "t", g_org_a, NULL);
    expect_broken_a("removed from the end");
}

static void test_deleted_chain(void **state)
{
    (void)state;
    run_ok("DELETE FROM audit_log WHERE org_id = $1", "t", g_org_a, NULL);
    expect_broken_a("last entry is 0 but 5 were written");
}

static void test_head_changed(void **state)
{
    (void)state;
    run_ok("UPDATE audit_heads SET hash = $2 WHERE org_id = $1", "tt", g_org_a,
           "1111111111111111111111111111111111111111111111111111111111111111");
    expect_broken_a("head does not match");
}

static void test_moved_to_other_chain(void **state)
{
    (void)state;
    /* an entry of A renumbered onto the end of B breaks both chains */
    run_ok("UPDATE audit_log SET org_id = $2, seq = 4 WHERE org_id = $1 AND seq = 5", "tt",
           g_org_a, g_org_b);
    char *out;
    assert_int_equal(verify(&out), 1);
    assert_non_null(strstr(out, g_org_a));
    assert_non_null(strstr(out, g_org_b));
    free(out);
}

static void test_chain_continues(void **state)
{
    (void)state;
    /* appending after verification keeps the log intact, and no org is one more chain */
    append_ok(g_org_a, "auth.logout", NULL);
    append_ok(NULL, "auth.login", "unknown account");
    append_ok("", "auth.login", "unknown account");
    char *out;
    assert_int_equal(verify(&out), 0);
    assert_string_equal(out, "audit log intact: 11 entries\n");
    free(out);
    struct err e;
    err_clear(&e);
    int found;
    struct db_stmt *s =
        db_row(g_db, &e, &found, "SELECT seq FROM audit_heads WHERE org_id = ''", "");
    assert_non_null(s);
    assert_int_equal(db_col_int64(s, 0), 2);
    db_done(s);
}

/* A failed audit write fails the caller, which rolls back its whole action. */
static void test_failed_write_rolls_back(void **state)
{
    (void)state;
    /* a stray row where the next entry of A must go makes the append fail */
    run_ok("INSERT INTO audit_log (org_id, seq, at, actor_id, actor_name, action, entity,"
           " entity_id, outcome, remote, request_id, detail, prev_hash, hash)"
           " VALUES ($1, 6, 'x', '', '', '', '', '', '', '', '', $2, '', '')",
           "tt", g_org_a, "stray");
    struct err e;
    err_clear(&e);
    char org_id[40];
    uuid_v7(org_id);
    assert_int_equal(db_begin(g_db, false, &e), 0);
    assert_true(db_run(g_db, &e,
                       "INSERT INTO organizations (id, slug, name, active, created_at)"
                       " VALUES ($1, 'rollback-test', 'x', 1, 'now')",
                       "t", org_id) == 1);
    struct audit_event ev = {.org_id = g_org_a, .action = "org.create", .outcome = "ok"};
    assert_int_equal(audit_append(g_db, &ev, &e), -1);
    assert_true(err_failed(&e));
    db_rollback(g_db);
    int found;
    struct db_stmt *s =
        db_row(g_db, &e, &found, "SELECT id FROM organizations WHERE id = $1", "t", org_id);
    assert_null(s);
    assert_int_equal(found, 0);
    /* the head did not move */
    s = db_row(g_db, &e, &found, "SELECT seq FROM audit_heads WHERE org_id = $1", "t", g_org_a);
    assert_non_null(s);
    assert_int_equal(db_col_int64(s, 0), 5);
    db_done(s);
}

/* On a missing table the append fails instead of pretending. */
static void test_missing_table(void **state)
{
    (void)state;
    struct db *db = open_db(); /* a fresh connection: no cached statements */
    assert_non_null(db);
    struct err e;
    err_clear(&e);
    assert_int_equal(db_exec(db, "ALTER TABLE audit_log RENAME TO audit_log_gone", &e), 0);
    assert_int_equal(db_begin(db, false, &e), 0);
    struct audit_event ev = {.org_id = g_org_a, .action = "x", .outcome = "ok"};
    assert_int_equal(audit_append(db, &ev, &e), -1);
    assert_true(err_failed(&e));
    db_rollback(db);
    err_clear(&e);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_int_equal(audit_verify(db, f, &e), -1);
    fclose(f);
    free(out);
    assert_false(db_in_transaction(db));
    err_clear(&e);
    assert_int_equal(db_exec(db, "ALTER TABLE audit_log_gone RENAME TO audit_log", &e), 0);
    db_close(db);
}

/* audit.h: audit_append "must run inside a write transaction". Called
 * outside one, it should refuse rather than write an entry that no action's
 * transaction covers. BUG: it does not check and writes in autocommit. */
static void test_append_outside_transaction(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    assert_false(db_in_transaction(g_db));
    struct audit_event ev = {.org_id = g_org_a, .action = "x", .outcome = "ok"};
    assert_int_equal(audit_append(g_db, &ev, &e), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_intact, fresh_chains),
        cmocka_unit_test_setup(test_changed_field, fresh_chains),
        cmocka_unit_test_setup(test_changed_each_field, fresh_chains),
        cmocka_unit_test_setup(test_deleted_middle, fresh_chains),
        cmocka_unit_test_setup(test_deleted_first, fresh_chains),
        cmocka_unit_test_setup(test_swapped, fresh_chains),
        cmocka_unit_test_setup(test_deleted_last, fresh_chains),
        cmocka_unit_test_setup(test_deleted_chain, fresh_chains),
        cmocka_unit_test_setup(test_head_changed, fresh_chains),
        cmocka_unit_test_setup(test_moved_to_other_chain, fresh_chains),
        cmocka_unit_test_setup(test_chain_continues, fresh_chains),
        cmocka_unit_test_setup(test_failed_write_rolls_back, fresh_chains),
        cmocka_unit_test_setup(test_missing_table, fresh_chains),
        cmocka_unit_test_setup(test_empty_log, NULL),
        cmocka_unit_test_setup(test_append_outside_transaction, fresh_chains),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
