/*
 * test_db.c: the storage layer against a real database. The URL comes from
 * SANAD_TEST_DB (e.g. from scripts/pg-test); without it, a temporary SQLite
 * file is created and removed. The same binary covers both backends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "db/db.h"
#include "db/db_internal.h"
#include "core/banned.h"

static char g_url[512];      /* the database under test */
static char g_scratch[256];  /* a temporary folder for extra SQLite files */
static bool g_own_sqlite;    /* g_url is a file this program created */
static struct db *g_db;      /* the connection most tests use */
static int g_scratch_no;     /* counter for scratch database names */

/* Runs sql and fails the test when it fails. */
static void exec_ok(struct db *db, const char *sql)
{
    struct err e;
    err_clear(&e);
    if (db_exec(db, sql, &e) != 0) {
        fail_msg("exec '%s' failed: %s", sql, e.msg);
    }
}

/* Prepares sql and fails the test when it fails. */
static struct db_stmt *prep_ok(struct db *db, const char *sql)
{
    struct err e;
    err_clear(&e);
    struct db_stmt *s = db_prepare(db, sql, &e);
    if (!s) {
        fail_msg("prepare failed: %s (sql '%.200s')", e.msg, sql);
    }
    return s;
}

/* Steps s expecting rc; on -1 returns the error in *e. */
static void step_expect(struct db_stmt *s, int rc, struct err *e)
{
    err_clear(e);
    int got = db_step(s, e);
    if (got != rc) {
        fail_msg("step returned %d, wanted %d (%s: %s)", got, rc, e->code, e->msg);
    }
}

/* Runs a one-row SELECT returning an integer. */
static int64_t query_int(struct db *db, const char *sql)
{
    struct err e;
    struct db_stmt *s = prep_ok(db, sql);
    step_expect(s, 1, &e);
    int64_t v = db_col_int64(s, 0);
    db_done(s);
    return v;
}

static bool is_pg(void)
{
    return db_backend_of(g_db) == DB_POSTGRES;
}

static const char *blob_type(struct db *db)
{
    return db_backend_of(db) == DB_POSTGRES ? "BYTEA" : "BLOB";
}

/* Opens a fresh, empty database beside the main one: a new SQLite file, or
 * on PostgreSQL a new connection whose search_path is a new empty schema. */
static struct db *open_scratch(const char *schema, bool fresh)
{
    struct err e;
    err_clear(&e);
    struct db *db = NULL;
    if (strncmp(g_url, "sqlite:", 7) == 0) {
        char url[400];
        if (schema) {
            snprintf(url, sizeof(url), "sqlite:%s/%s.db", g_scratch, schema);
        } else {
            snprintf(url, sizeof(url), "sqlite:%s/scratch%d.db", g_scratch, ++g_scratch_no);
        }
        if (fresh) {
            char path[400];
            const char *suffixes[] = {"", "-wal", "-shm"};
            for (int i = 0; i < 3; i++) {
                snprintf(path, sizeof(path), "%s%s", url + 7, suffixes[i]);
                unlink(path);
            }
        }
        if (db_open(url, &db, &e) != 0) {
            fail_msg("open scratch: %s", e.msg);
        }
        return db;
    }
    if (db_open(g_url, &db, &e) != 0) {
        fail_msg("open scratch: %s", e.msg);
    }
    char sql[300];
    const char *name = schema ? schema : "sanad_scratch";
    if (fresh) {
        snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", name,
                 name);
        exec_ok(db, sql);
    }
    snprintf(sql, sizeof(sql), "SET search_path TO %s", name);
    exec_ok(db, sql);
    return db;
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(g_scratch, sizeof(g_scratch), "/tmp/sanad-test-db-XXXXXX");
    if (!mkdtemp(g_scratch)) {
        return -1;
    }
    const char *env = getenv("SANAD_TEST_DB");
    if (env && *env) {
        snprintf(g_url, sizeof(g_url), "%s", env);
    } else {
        snprintf(g_url, sizeof(g_url), "sqlite:%s/test.db", g_scratch);
        g_own_sqlite = true;
    }
    struct err e;
    err_clear(&e);
    if (db_open(g_url, &g_db, &e) != 0) {
        fprintf(stderr, "test_db: could not open '%s': %s\n", g_url, e.msg);
        return -1;
    }
    fprintf(stderr, "test_db: backend %s\n", is_pg() ? "postgres" : "sqlite");
    exec_ok(g_db, "DROP TABLE IF EXISTS t_child; DROP TABLE IF EXISTS t_parent; "
                  "DROP TABLE IF EXISTS t_types; DROP TABLE IF EXISTS t_loop");
    exec_ok(g_db, "CREATE TABLE t_parent (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE)");
    exec_ok(g_db, "CREATE TABLE t_child (id TEXT PRIMARY KEY, "
                  "parent_id TEXT NOT NULL REFERENCES t_parent(id), n INTEGER)");
    exec_ok(g_db, "CREATE TABLE t_loop (k INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    char sql[200];
    snprintf(sql, sizeof(sql), "CREATE TABLE t_types (id TEXT PRIMARY KEY, t TEXT, i BIGINT, b %s)",
             blob_type(g_db));
    exec_ok(g_db, sql);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (g_db && is_pg()) {
        struct err e;
        db_exec(g_db,
                "DROP TABLE IF EXISTS t_child; DROP TABLE IF EXISTS t_parent; "
                "DROP TABLE IF EXISTS t_types; DROP TABLE IF EXISTS t_loop; "
                "DROP SCHEMA IF EXISTS sanad_scratch CASCADE; "
                "DROP SCHEMA IF EXISTS sanad_mig CASCADE; DROP SCHEMA IF EXISTS sanad_conc CASCADE",
                &e);
    }
    db_close(g_db);
    g_db = NULL;
    db_thread_close();
    db_set_url(NULL);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_scratch);
    if (system(cmd) != 0) {
        return -1;
    }
    (void)g_own_sqlite;
    return 0;
}

/* Each test starts from empty tables. */
static int clean_tables(void **state)
{
    (void)state;
    exec_ok(g_db, "DELETE FROM t_child; DELETE FROM t_parent; DELETE FROM t_types; "
                  "DELETE FROM t_loop");
    return 0;
}

static void test_open_bad_urls(void **state)
{
    (void)state;
    struct err e;
    struct db *db = (struct db *)1;
    const char *bad[] = {"", "mysql://localhost/x", "sqlite:", "file.db"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&e);
        assert_int_equal(db_open(bad[i], &db, &e), -1);
        assert_null(db);
        assert_int_equal(e.kind, ERR_INVALID);
        assert_string_equal(e.code, "invalid_url");
    }
    err_clear(&e);
    assert_int_equal(db_open(NULL, &db, &e), -1);

    err_clear(&e);
    assert_int_equal(db_open("sqlite:/nonexistent-sanad-folder/x/sanad.db", &db, &e), -1);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    assert_non_null(strstr(e.msg, "'/nonexistent-sanad-folder/x/sanad.db'"));
    assert_non_null(strstr(e.msg, "'/nonexistent-sanad-folder/x'"));

    /* A folder is not a database file. */
    char url[600];
    snprintf(url, sizeof(url), "sqlite:%s", g_scratch);
    err_clear(&e);
    assert_int_equal(db_open(url, &db, &e), -1);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);

    /* A file that is not a database. */
    char path[400];
    snprintf(path, sizeof(path), "%s/not-a-db", g_scratch);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("this is not an sqlite file, it is plain text, long enough to be a header\n", f);
    fclose(f);
    snprintf(url, sizeof(url), "sqlite:%s", path);
    err_clear(&e);
    assert_int_equal(db_open(url, &db, &e), -1);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);

    err_clear(&e);
    assert_int_equal(db_open("postgresql:///nodb?host=/nonexistent-sanad-socket&connect_timeout=2",
                             &db, &e),
                     -1);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    assert_string_equal(e.code, "database_unavailable");
    err_clear(&e);
    assert_int_equal(db_open("postgres:host=/nonexistent-sanad-socket dbname=x", &db, &e), -1);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);

    db_close(NULL);
}

static void test_open_close(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    struct db *db = NULL;
    assert_int_equal(db_open(g_url, &db, &e), 0);
    assert_non_null(db);
    assert_int_equal(db_backend_of(db), db_backend_of(g_db));
    assert_false(db_in_transaction(db));
    assert_int_equal(query_int(db, "SELECT 1 + 1"), 2);
    /* Closing with an open transaction and a statement in use is safe. */
    assert_int_equal(db_begin(db, false, &e), 0);
    struct db_stmt *s = prep_ok(db, "SELECT 1");
    step_expect(s, 1, &e);
    db_close(db);
    if (!is_pg()) {
        assert_int_equal(query_int(g_db, "PRAGMA foreign_keys"), 1);
        assert_int_equal(query_int(g_db, "PRAGMA synchronous"), 2);
        assert_int_equal(query_int(g_db, "PRAGMA busy_timeout"), 5000);
        s = prep_ok(g_db, "PRAGMA journal_mode");
        step_expect(s, 1, &e);
        assert_string_equal(db_col_text(s, 0), "wal");
        db_done(s);
    } else {
        s = prep_ok(g_db, "SHOW TIME ZONE");
        step_expect(s, 1, &e);
        assert_string_equal(db_col_text(s, 0), "UTC");
        db_done(s);
        s = prep_ok(g_db, "SHOW client_encoding");
        step_expect(s, 1, &e);
        assert_string_equal(db_col_text(s, 0), "UTF8");
        db_done(s);
    }
}

/* Inserts one row of t_types. */
static void insert_types(const char *id, const char *t, size_t tn, bool t_null, int64_t i,
                         bool i_null, const void *b, size_t bn, bool b_null)
{
    struct err e;
    struct db_stmt *s = prep_ok(g_db, "INSERT INTO t_types (id, t, i, b) VALUES ($1, $2, $3, $4)");
    db_bind_text(s, 1, id);
    if (t_null) {
        db_bind_text(s, 2, NULL);
    } else {
        db_bind_textn(s, 2, t, tn);
    }
    if (i_null) {
        db_bind_null(s, 3);
    } else {
        db_bind_int64(s, 3, i);
    }
    if (b_null) {
        db_bind_null(s, 4);
    } else {
        db_bind_blob(s, 4, b, bn);
    }
    step_expect(s, 0, &e);
    assert_int_equal(db_changes(s), 1);
    db_done(s);
}

static void test_types_roundtrip(void **state)
{
    (void)state;
    struct err e;
    const char *arabic = "سند — رعاية الأيتام ١٢٣ 🌙";
    const unsigned char blob[] = {0, 1, 2, 0, 255, 0, 'x', 0};
    size_t big_n = 1 << 20;
    char *big = xmalloc(big_n + 1);
    for (size_t k = 0; k < big_n; k++) {
        big[k] = (char)('a' + k % 26);
    }
    big[big_n] = '\0';
    unsigned char *big_blob = xmalloc(big_n);
    for (size_t k = 0; k < big_n; k++) {
        big_blob[k] = (unsigned char)(k * 7);
    }

    insert_types("arabic", arabic, strlen(arabic), false, INT64_MAX, false, blob, sizeof(blob),
                 false);
    insert_types("min", "", 0, false, INT64_MIN, false, "", 0, false);
    insert_types("nulls", NULL, 0, true, 0, true, NULL, 0, true);
    insert_types("zero", "\x01\x1b control\tchars\r\n", 18, false, 0, false, blob, 1, false);
    insert_types("big", big, big_n, false, -1, false, big_blob, big_n, false);

    struct db_stmt *s = prep_ok(g_db, "SELECT t, i, b FROM t_types WHERE id = $1");
    assert_int_equal(db_column_count(s), 3);
    size_t n = 0;

    db_bind_text(s, 1, "arabic");
    step_expect(s, 1, &e);
    assert_string_equal(db_col_text(s, 0), arabic);
    assert_int_equal(db_col_int64(s, 1), INT64_MAX);
    const void *p = db_col_blob(s, 2, &n);
    assert_int_equal(n, sizeof(blob));
    assert_memory_equal(p, blob, sizeof(blob));
    step_expect(s, 0, &e);
    step_expect(s, 0, &e); /* stays done */
    db_done(s);

    s = prep_ok(g_db, "SELECT t, i, b FROM t_types WHERE id = $1");
    db_bind_text(s, 1, "min");
    step_expect(s, 1, &e);
    assert_false(db_col_null(s, 0));
    assert_string_equal(db_col_text(s, 0), "");
    assert_true(db_col_int64(s, 1) == INT64_MIN);
    assert_false(db_col_null(s, 2));
    p = db_col_blob(s, 2, &n);
    assert_non_null(p);
    assert_int_equal(n, 0);
    db_done(s);

    s = prep_ok(g_db, "SELECT t, i, b FROM t_types WHERE id = $1");
    db_bind_text(s, 1, "nulls");
    step_expect(s, 1, &e);
    for (int c = 0; c < 3; c++) {
        assert_true(db_col_null(s, c));
    }
    assert_null(db_col_text(s, 0));
    assert_int_equal(db_col_int64(s, 1), 0);
    assert_null(db_col_blob(s, 2, &n));
    assert_int_equal(n, 0);
    /* Out of range columns are NULL, not a crash. */
    assert_true(db_col_null(s, 3));
    assert_true(db_col_null(s, -1));
    assert_null(db_col_text(s, 99));
    assert_int_equal(db_col_int64(s, -5), 0);
    db_done(s);

    s = prep_ok(g_db, "SELECT t, b FROM t_types WHERE id = $1");
    db_bind_text(s, 1, "zero");
    step_expect(s, 1, &e);
    assert_string_equal(db_col_text(s, 0), "\x01\x1b control\tchars\r\n");
    p = db_col_blob(s, 1, &n);
    assert_int_equal(n, 1);
    assert_int_equal(((const unsigned char *)p)[0], 0);
    db_done(s);

    s = prep_ok(g_db, "SELECT t, b, i FROM t_types WHERE id = $1");
    db_bind_text(s, 1, "big");
    step_expect(s, 1, &e);
    assert_int_equal(strlen(db_col_text(s, 0)), big_n);
    assert_string_equal(db_col_text(s, 0), big);
    p = db_col_blob(s, 1, &n);
    assert_int_equal(n, big_n);
    assert_memory_equal(p, big_blob, big_n);
    assert_int_equal(db_col_int64(s, 2), -1);
    db_done(s);

    /* Integers read as text, booleans as 0/1 on both engines. */
    s = prep_ok(g_db, "SELECT i, i > 0, i IS NULL FROM t_types WHERE id = 'arabic'");
    step_expect(s, 1, &e);
    assert_string_equal(db_col_text(s, 0), "9223372036854775807");
    assert_int_equal(db_col_int64(s, 1), 1);
    assert_int_equal(db_col_int64(s, 2), 0);
    db_done(s);

    /* Ordering and several rows. */
    s = prep_ok(g_db, "SELECT id FROM t_types ORDER BY id");
    const char *want[] = {"arabic", "big", "min", "nulls", "zero"};
    for (int k = 0; k < 5; k++) {
        step_expect(s, 1, &e);
        assert_string_equal(db_col_text(s, 0), want[k]);
    }
    step_expect(s, 0, &e);
    db_done(s);
    free(big);
    free(big_blob);
}

static void test_text_refused(void **state)
{
    (void)state;
    struct err e;
    const char *bad[] = {"\xff\xfe", "abc\xc3", "\xed\xa0\x80", "\xc0\xaf"};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        struct db_stmt *s = prep_ok(g_db, "INSERT INTO t_types (id, t) VALUES ($1, $2)");
        db_bind_text(s, 1, "bad");
        db_bind_text(s, 2, bad[k]);
        step_expect(s, -1, &e);
        assert_int_equal(e.kind, ERR_INVALID);
        assert_string_equal(e.code, "invalid_parameter");
        assert_non_null(strstr(e.msg, "$2"));
        /* The statement stays failed until db_done. */
        step_expect(s, -1, &e);
        db_done(s);
    }
    struct db_stmt *s = prep_ok(g_db, "INSERT INTO t_types (id, t) VALUES ($1, $2)");
    db_bind_text(s, 1, "nul");
    db_bind_textn(s, 2, "a\0b", 3);
    step_expect(s, -1, &e);
    assert_int_equal(e.kind, ERR_INVALID);
    db_done(s);
    assert_int_equal(query_int(g_db, "SELECT COUNT(*) FROM t_types"), 0);
}

static void test_param_errors(void **state)
{
    (void)state;
    struct err e;
    struct db_stmt *s = prep_ok(g_db, "SELECT $1, $2");
    db_bind_int64(s, 1, 1);
    step_expect(s, -1, &e);
    assert_int_equal(e.kind, ERR_INTERNAL);
    assert_non_null(strstr(e.msg, "$2"));
    db_done(s);

    s = prep_ok(g_db, "SELECT $1");
    db_bind_int64(s, 2, 1);
    db_bind_int64(s, 1, 1);
    step_expect(s, -1, &e);
    assert_string_equal(e.code, "invalid_parameter");
    db_done(s);

    s = prep_ok(g_db, "SELECT $1");
    db_bind_int64(s, 0, 1);
    db_bind_int64(s, -3, 1);
    db_bind_int64(s, 1, 1);
    step_expect(s, -1, &e);
    db_done(s);

    /* After db_done the statement is clean again. */
    s = prep_ok(g_db, "SELECT $1");
    db_bind_text(s, 1, "ok");
    step_expect(s, 1, &e);
    assert_string_equal(db_col_text(s, 0), "ok");
    db_done(s);

    /* $2 used twice, in reverse order. */
    s = prep_ok(g_db, "SELECT $2 || $1 || $2");
    db_bind_text(s, 1, "b");
    db_bind_text(s, 2, "a");
    step_expect(s, 1, &e);
    assert_string_equal(db_col_text(s, 0), "aba");
    db_done(s);

    const char *bad_sql[] = {"SELECT ?", "SELECT $1, $3", "SELEC 1", "SELECT 1; SELECT 2", "",
                             "   ", "SELECT * FROM no_such_table"};
    for (size_t k = 0; k < sizeof(bad_sql) / sizeof(bad_sql[0]); k++) {
        err_clear(&e);
        assert_null(db_prepare(g_db, bad_sql[k], &e));
        assert_int_equal(e.kind, ERR_INTERNAL);
        assert_true(e.msg[0] != '\0');
    }
    /* The connection is still fine. */
    assert_int_equal(query_int(g_db, "SELECT 3"), 3);
}

static void test_many_params(void **state)
{
    (void)state;
    struct err e;
    struct buf sql = BUF_INIT;
    buf_adds(&sql, "SELECT COALESCE(");
    for (int k = 1; k <= 100; k++) {
        buf_addf(&sql, "%s$%d", k > 1 ? ", " : "", k);
    }
    buf_adds(&sql, ")");
    struct db_stmt *s = prep_ok(g_db, sql.buf);
    for (int k = 1; k < 100; k++) {
        db_bind_null(s, k);
    }
    db_bind_text(s, 100, "last");
    step_expect(s, 1, &e);
    assert_string_equal(db_col_text(s, 0), "last");
    db_done(s);
    buf_release(&sql);
}

/* Inserts a parent row; returns db_step's result and the error. */
static int insert_parent(struct db *db, const char *id, const char *name, struct err *e)
{
    struct db_stmt *s = db_prepare(db, "INSERT INTO t_parent (id, name) VALUES ($1, $2)", e);
    if (!s) {
        return -1;
    }
    db_bind_text(s, 1, id);
    db_bind_text(s, 2, name);
    err_clear(e);
    int rc = db_step(s, e);
    db_done(s);
    return rc;
}

static void test_unique_violation(void **state)
{
    (void)state;
    struct err e;
    assert_int_equal(insert_parent(g_db, "p1", "one", &e), 0);
    assert_int_equal(insert_parent(g_db, "p1", "other", &e), -1);
    assert_int_equal(e.kind, ERR_CONFLICT);
    assert_string_equal(e.code, "unique_violation");
    assert_int_equal(insert_parent(g_db, "p2", "one", &e), -1);
    assert_int_equal(e.kind, ERR_CONFLICT);
    assert_string_equal(e.code, "unique_violation");
    assert_int_equal(query_int(g_db, "SELECT COUNT(*) FROM t_parent"), 1);

    /* ON CONFLICT and RETURNING work on both engines. */
    struct db_stmt *s = prep_ok(g_db, "INSERT INTO t_parent (id, name) VALUES ($1, $2) "
                                      "ON CONFLICT (id) DO NOTHING");
    db_bind_text(s, 1, "p1");
    db_bind_text(s, 2, "again");
    step_expect(s, 0, &e);
    assert_int_equal(db_changes(s), 0);
    db_done(s);
    s = prep_ok(g_db, "INSERT INTO t_parent (id, name) VALUES ($1, $2) "
                      "ON CONFLICT (id) DO UPDATE SET name = excluded.name RETURNING id, name");
    db_bind_text(s, 1, "p1");
    db_bind_text(s, 2, "renamed");
    step_expect(s, 1, &e);
    assert_string_equal(db_col_text(s, 1), "renamed");
    step_expect(s, 0, &e);
    assert_int_equal(db_changes(s), 1);
    db_done(s);
}

static void test_foreign_key_violation(void **state)
{
    (void)state;
    struct err e;
    assert_int_equal(insert_parent(g_db, "p1", "one", &e), 0);
    struct db_stmt *s =
        prep_ok(g_db, "INSERT INTO t_child (id, parent_id, n) VALUES ($1, $2, $3)");
    db_bind_text(s, 1, "c1");
    db_bind_text(s, 2, "nobody");
    db_bind_int64(s, 3, 1);
    step_expect(s, -1, &e);
    assert_int_equal(e.kind, ERR_CONFLICT);
    assert_string_equal(e.code, "foreign_key_violation");
    db_done(s);

    s = prep_ok(g_db, "INSERT INTO t_child (id, parent_id, n) VALUES ($1, $2, $3)");
    db_bind_text(s, 1, "c1");
    db_bind_text(s, 2, "p1");
    db_bind_int64(s, 3, 1);
    step_expect(s, 0, &e);
    db_done(s);
    /* Deleting a referenced parent is refused too. */
    s = prep_ok(g_db, "DELETE FROM t_parent WHERE id = $1");
    db_bind_text(s, 1, "p1");
    step_expect(s, -1, &e);
    assert_string_equal(e.code, "foreign_key_violation");
    db_done(s);

    /* NOT NULL is a bad value, not a conflict. */
    s = prep_ok(g_db, "INSERT INTO t_parent (id, name) VALUES ($1, $2)");
    db_bind_text(s, 1, "p9");
    db_bind_null(s, 2);
    step_expect(s, -1, &e);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_string_equal(e.code, "not_null_violation");
    db_done(s);
}

static void test_transactions(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    /* Rollback leaves nothing. */
    assert_int_equal(db_begin(g_db, false, &e), 0);
    assert_true(db_in_transaction(g_db));
    assert_int_equal(insert_parent(g_db, "r1", "rolled", &e), 0);
    assert_int_equal(query_int(g_db, "SELECT COUNT(*) FROM t_parent"), 1);
    db_rollback(g_db);
    assert_false(db_in_transaction(g_db));
    assert_int_equal(query_int(g_db, "SELECT COUNT(*) FROM t_parent"), 0);
    db_rollback(g_db); /* no transaction: a no-op */

    /* Commit keeps, and is visible from another connection. */
    assert_int_equal(db_begin(g_db, false, &e), 0);
    assert_int_equal(insert_parent(g_db, "c1", "kept", &e), 0);
    assert_int_equal(db_commit(g_db, &e), 0);
    struct db *other = NULL;
    assert_int_equal(db_open(g_url, &other, &e), 0);
    assert_int_equal(query_int(other, "SELECT COUNT(*) FROM t_parent"), 1);
    db_close(other);

    /* Nesting and committing nothing are refused. */
    assert_int_equal(db_begin(g_db, true, &e), 0);
    assert_int_equal(db_begin(g_db, false, &e), -1);
    assert_string_equal(e.code, "nested_transaction");
    assert_true(db_in_transaction(g_db));
    assert_int_equal(db_commit(g_db, &e), 0);
    err_clear(&e);
    assert_int_equal(db_commit(g_db, &e), -1);
    assert_string_equal(e.code, "no_transaction");

    /* A failed statement spoils the transaction on both engines. */
    assert_int_equal(db_begin(g_db, false, &e), 0);
    assert_int_equal(insert_parent(g_db, "t1", "first", &e), 0);
    assert_int_equal(insert_parent(g_db, "t1", "clash", &e), -1);
    assert_string_equal(e.code, "unique_violation");
    err_clear(&e);
    assert_null(db_prepare(g_db, "SELECT 1", &e));
    assert_string_equal(e.code, "transaction_aborted");
    assert_int_equal(db_exec(g_db, "SELECT 1", &e), -1);
    assert_int_equal(db_commit(g_db, &e), -1);
    assert_string_equal(e.code, "transaction_aborted");
    assert_false(db_in_transaction(g_db));
    assert_int_equal(query_int(g_db, "SELECT COUNT(*) FROM t_parent WHERE id = 't1'"), 0);
}

static void test_read_only(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    assert_int_equal(insert_parent(g_db, "a", "A", &e), 0);
    assert_int_equal(db_begin(g_db, true, &e), 0);
    assert_int_equal(query_int(g_db, "SELECT COUNT(*) FROM t_parent"), 1);
    assert_int_equal(insert_parent(g_db, "b", "B", &e), -1);
    assert_int_equal(e.kind, ERR_INTERNAL);
    assert_string_equal(e.code, "read_only_transaction");
    err_clear(&e);
    assert_int_equal(db_commit(g_db, &e), -1);
    assert_false(db_in_transaction(g_db));

    assert_int_equal(db_begin(g_db, true, &e), 0);
    assert_int_equal(db_exec(g_db, "DELETE FROM t_parent", &e), -1);
    assert_string_equal(e.code, "read_only_transaction");
    db_rollback(g_db);

    /* Writes work again after the read-only transaction. */
    assert_int_equal(insert_parent(g_db, "c", "C", &e), 0);
    assert_int_equal(db_begin(g_db, false, &e), 0);
    assert_int_equal(insert_parent(g_db, "d", "D", &e), 0);
    assert_int_equal(db_commit(g_db, &e), 0);
    assert_int_equal(query_int(g_db, "SELECT COUNT(*) FROM t_parent"), 3);
}

static void test_exec(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    assert_int_equal(db_exec(g_db,
                             "INSERT INTO t_parent (id, name) VALUES ('x1', 'X1');\n"
                             "INSERT INTO t_parent (id, name) VALUES ('x2', 'X2');",
                             &e),
                     0);
    assert_int_equal(query_int(g_db, "SELECT COUNT(*) FROM t_parent"), 2);
    assert_int_equal(db_exec(g_db, "INSERT INTO t_parent (id, name) VALUES ('x1', 'again')", &e),
                     -1);
    assert_string_equal(e.code, "unique_violation");
    err_clear(&e);
    assert_int_equal(db_exec(g_db, "THIS IS NOT SQL", &e), -1);
    assert_int_equal(e.kind, ERR_INTERNAL);
    assert_int_equal(db_exec(g_db, "", &e), 0);
    assert_int_equal(db_exec(g_db, "-- only a comment", &e), 0);
}

static void test_stmt_cache(void **state)
{
    (void)state;
    struct err e;
    const char *sql = "SELECT COUNT(*) FROM t_loop WHERE k >= $1";
    struct db_stmt *a = prep_ok(g_db, sql);
    db_done(a);
    struct db_stmt *b = prep_ok(g_db, sql);
    assert_ptr_equal(a, b);
    /* The same text at another address is the same statement. */
    char *copy = xstrdup(sql);
    struct db_stmt *c = prep_ok(g_db, copy);
    assert_ptr_not_equal(b, c); /* b is still in use */
    db_bind_int64(b, 1, 0);
    db_bind_int64(c, 1, 0);
    step_expect(b, 1, &e);
    step_expect(c, 1, &e);
    db_done(b);
    db_done(c);
    struct db_stmt *d = prep_ok(g_db, copy);
    assert_true(d == b || d == c);
    db_done(d);
    free(copy);

    /* Many different statements: the cache stays bounded and correct. */
    for (int k = 0; k < DB_CACHE_MAX + 50; k++) {
        char q[64];
        snprintf(q, sizeof(q), "SELECT %d", k);
        assert_int_equal(query_int(g_db, q), k);
    }
    assert_int_equal(query_int(g_db, "SELECT 7"), 7);
}

static void test_loop_1000(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    const char *sql = "INSERT INTO t_loop (k, v) VALUES ($1, $2)";
    struct db_stmt *first = NULL;
    assert_int_equal(db_begin(g_db, false, &e), 0);
    for (int k = 0; k < 1000; k++) {
        struct db_stmt *s = prep_ok(g_db, sql);
        if (!first) {
            first = s;
        }
        assert_ptr_equal(s, first);
        char v[32];
        snprintf(v, sizeof(v), "قيمة %d", k);
        db_bind_int64(s, 1, k);
        db_bind_text(s, 2, v);
        step_expect(s, 0, &e);
        assert_int_equal(db_changes(s), 1);
        db_done(s);
    }
    assert_int_equal(db_commit(g_db, &e), 0);
    assert_int_equal(query_int(g_db, "SELECT COUNT(*) FROM t_loop"), 1000);
    assert_int_equal(query_int(g_db, "SELECT SUM(k) FROM t_loop"), 999 * 1000 / 2);

    struct db_stmt *s = prep_ok(g_db, "UPDATE t_loop SET v = $1 WHERE k < $2");
    db_bind_text(s, 1, "x");
    db_bind_int64(s, 2, 250);
    step_expect(s, 0, &e);
    assert_int_equal(db_changes(s), 250);
    db_done(s);
    s = prep_ok(g_db, "SELECT k, v FROM t_loop ORDER BY k");
    int rows = 0;
    while (db_step(s, &e) == 1) {
        assert_int_equal(db_col_int64(s, 0), rows);
        rows++;
    }
    assert_int_equal(rows, 1000);
    db_done(s);
}

static void test_migration_sections(void **state)
{
    (void)state;
    struct err e;
    const char *src = "CREATE TABLE a (x TEXT);\n"
                      "-- @sqlite\n"
                      "CREATE TABLE lite (x BLOB);\n"
                      "  -- @postgres\n"
                      "CREATE TABLE pg (x BYTEA);\n"
                      "-- @all\n"
                      "CREATE TABLE b (x TEXT);";
    char *lite = db_migration_sql_for(src, strlen(src), DB_SQLITE, "m.sql", &e);
    char *pg = db_migration_sql_for(src, strlen(src), DB_POSTGRES, "m.sql", &e);
    assert_non_null(strstr(lite, "TABLE a"));
    assert_non_null(strstr(lite, "TABLE lite"));
    assert_null(strstr(lite, "TABLE pg"));
    assert_non_null(strstr(lite, "TABLE b"));
    assert_non_null(strstr(pg, "TABLE a"));
    assert_null(strstr(pg, "TABLE lite"));
    assert_non_null(strstr(pg, "TABLE pg"));
    assert_non_null(strstr(pg, "TABLE b"));
    free(lite);
    free(pg);
    const char *bad = "SELECT 1;\n-- @postgresql\nSELECT 2;\n";
    err_clear(&e);
    assert_null(db_migration_sql_for(bad, strlen(bad), DB_SQLITE, "migrations/0009_x.sql", &e));
    assert_non_null(strstr(e.msg, "migrations/0009_x.sql"));
    assert_non_null(strstr(e.msg, "line 2"));
    char *empty = db_migration_sql_for("", 0, DB_SQLITE, "e.sql", &e);
    assert_string_equal(empty, "");
    free(empty);
}

/* Counts the rows of schema_migrations. */
static int64_t migrations_recorded(struct db *db)
{
    return query_int(db, "SELECT COUNT(*) FROM schema_migrations");
}

static void test_migrations(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    struct db *db = open_scratch("sanad_mig", true);
    assert_int_equal(db_schema_version(db, &e), 0);

    static const char m1[] = "CREATE TABLE m_one (id TEXT PRIMARY KEY);\n"
                             "-- @sqlite\nCREATE TABLE m_bin (b BLOB);\n"
                             "-- @postgres\nCREATE TABLE m_bin (b BYTEA);\n";
    static const char m2[] = "ALTER TABLE m_one ADD COLUMN n INTEGER NOT NULL DEFAULT 0;\n"
                             "INSERT INTO m_one (id, n) VALUES ('seed', 1);";
    static const char m3_bad[] = "CREATE TABLE m_three (id TEXT);\n"
                                 "INSERT INTO m_one (id) VALUES ('three');\n"
                                 "INSERT INTO no_such_table VALUES (1);";
    struct db_migration list[] = {
        {"migrations/0001_one.sql", 1, m1, sizeof(m1) - 1},
        {"migrations/0002_two.sql", 2, m2, sizeof(m2) - 1},
        {"migrations/0003_three.sql", 3, m3_bad, sizeof(m3_bad) - 1},
    };
    assert_int_equal(db_migrate_list(db, list, 1, &e), 0);
    assert_int_equal(db_schema_version(db, &e), 1);
    assert_int_equal(db_migrate_list(db, list, 2, &e), 0);
    assert_int_equal(db_schema_version(db, &e), 2);
    /* Idempotent: nothing runs twice (the seed insert would clash). */
    assert_int_equal(db_migrate_list(db, list, 2, &e), 0);
    assert_int_equal(db_schema_version(db, &e), 2);
    assert_int_equal(migrations_recorded(db), 2);
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM m_one"), 1);
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM m_bin"), 0);

    /* A failing migration names its file and leaves version 2 intact. */
    err_clear(&e);
    assert_int_equal(db_migrate_list(db, list, 3, &e), -1);
    assert_string_equal(e.code, "migration_failed");
    assert_string_equal(e.field, "migrations/0003_three.sql");
    assert_non_null(strstr(e.msg, "'migrations/0003_three.sql'"));
    assert_false(db_in_transaction(db));
    assert_int_equal(db_schema_version(db, &e), 2);
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM m_one"), 1);
    struct db_stmt *s = db_prepare(db, "SELECT COUNT(*) FROM m_three", &e);
    assert_null(s);

    /* The name recorded is the file's. */
    s = prep_ok(db, "SELECT name, applied_at FROM schema_migrations WHERE version = 2");
    step_expect(s, 1, &e);
    assert_string_equal(db_col_text(s, 0), "0002_two.sql");
    assert_int_equal(strlen(db_col_text(s, 1)), 24);
    db_done(s);

    /* A database newer than the program is refused. */
    err_clear(&e);
    assert_int_equal(db_migrate_list(db, list, 1, &e), -1);
    assert_string_equal(e.code, "schema_too_new");

    /* Out of order or duplicate versions are refused before anything runs. */
    struct db_migration dup[] = {list[1], list[0]};
    err_clear(&e);
    assert_int_equal(db_migrate_list(db, dup, 2, &e), -1);
    assert_string_equal(e.code, "migration_failed");

    /* Migrating inside a transaction is refused. */
    assert_int_equal(db_begin(db, false, &e), 0);
    assert_int_equal(db_migrate_list(db, list, 2, &e), -1);
    db_rollback(db);

    /* An unknown section marker fails the migration, naming it. */
    static const char m3_marker[] = "-- @mysql\nCREATE TABLE m_x (id TEXT);\n";
    struct db_migration bad_marker[] = {list[0], list[1],
                                        {"migrations/0003_marker.sql", 3, m3_marker,
                                         sizeof(m3_marker) - 1}};
    err_clear(&e);
    assert_int_equal(db_migrate_list(db, bad_marker, 3, &e), -1);
    assert_string_equal(e.field, "migrations/0003_marker.sql");
    assert_int_equal(db_schema_version(db, &e), 2);
    db_close(db);
}

static void test_migrate_embedded(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    struct db *db = open_scratch(NULL, true);
    assert_int_equal(db_schema_version(db, &e), 0);
    if (db_migrate(db, &e) != 0) {
        fail_msg("db_migrate: %s", e.msg);
    }
    int v = db_schema_version(db, &e);
    assert_true(v >= 1);
    int64_t n = migrations_recorded(db);
    assert_true(n >= 1);
    assert_int_equal(db_migrate(db, &e), 0);
    assert_int_equal(db_schema_version(db, &e), v);
    assert_int_equal(migrations_recorded(db), n);
    db_close(db);
}

/* A child process of test_migrate_concurrent: migrates and exits 0 on success. */
static void migrate_child(const struct db_migration *list, size_t n)
{
    struct err e;
    err_clear(&e);
    struct db *db = open_scratch("sanad_conc", false);
    int rc = db_migrate_list(db, list, n, &e);
    if (rc != 0) {
        fprintf(stderr, "child migrate failed: %s\n", e.msg);
    }
    db_close(db);
    _exit(rc == 0 ? 0 : 1);
}

static void test_migrate_concurrent(void **state)
{
    (void)state;
    struct err e;
    struct db *db = open_scratch("sanad_conc", true);
    static const char c1[] = "CREATE TABLE c_one (id TEXT PRIMARY KEY);\n"
                             "INSERT INTO c_one (id) VALUES ('once');";
    static const char c2[] = "CREATE TABLE c_two (id TEXT PRIMARY KEY);";
    struct db_migration list[] = {
        {"migrations/0001_c1.sql", 1, c1, sizeof(c1) - 1},
        {"migrations/0002_c2.sql", 2, c2, sizeof(c2) - 1},
    };
    pid_t pids[4];
    for (int k = 0; k < 4; k++) {
        pids[k] = fork();
        assert_true(pids[k] >= 0);
        if (pids[k] == 0) {
            migrate_child(list, 2);
        }
    }
    for (int k = 0; k < 4; k++) {
        int status = 0;
        assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(db_schema_version(db, &e), 2);
    assert_int_equal(migrations_recorded(db), 2);
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM c_one"), 1);
    db_close(db);
}

/* What a thread of test_thread_connections saw. */
struct thread_seen {
    pthread_barrier_t *barrier; /* both threads hold their connection here */
    struct db *first;           /* db_thread's first answer */
    struct db *second;          /* db_thread's second answer */
    int64_t value;              /* a query's result on it */
};

static void *thread_main(void *arg)
{
    struct thread_seen *t = arg;
    struct err e;
    err_clear(&e);
    t->first = db_thread(&e);
    t->second = db_thread(&e);
    if (t->first) {
        t->value = query_int(t->first, "SELECT 41 + 1");
    }
    pthread_barrier_wait(t->barrier);
    return NULL; /* the key destructor closes the connection */
}

static void test_thread_connections(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    db_set_url(NULL);
    assert_null(db_thread(&e));
    assert_int_equal(e.kind, ERR_INTERNAL);

    db_set_url("sqlite:/nonexistent-sanad-folder/x.db");
    err_clear(&e);
    assert_null(db_thread(&e));
    assert_int_equal(e.kind, ERR_UNAVAILABLE);

    db_set_url(g_url);
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, 2);
    struct thread_seen seen[2] = {{.barrier = &barrier}, {.barrier = &barrier}};
    pthread_t th[2];
    for (int k = 0; k < 2; k++) {
        assert_int_equal(pthread_create(&th[k], NULL, thread_main, &seen[k]), 0);
    }
    for (int k = 0; k < 2; k++) {
        pthread_join(th[k], NULL);
    }
    pthread_barrier_destroy(&barrier);
    for (int k = 0; k < 2; k++) {
        assert_non_null(seen[k].first);
        assert_ptr_equal(seen[k].first, seen[k].second);
        assert_int_equal(seen[k].value, 42);
    }
    assert_ptr_not_equal(seen[0].first, seen[1].first);

    struct db *mine = db_thread(&e);
    assert_non_null(mine);
    assert_ptr_equal(db_thread(&e), mine);
    db_thread_close();
    db_thread_close();
    mine = db_thread(&e);
    assert_non_null(mine);
    db_thread_close();
}

/* Kills db's server session from another connection and waits for it to end. */
static void kill_backend(struct db *db)
{
    struct err e;
    int64_t pid = query_int(db, "SELECT pg_backend_pid()");
    struct db *killer = NULL;
    assert_int_equal(db_open(g_url, &killer, &e), 0);
    struct db_stmt *s = prep_ok(killer, "SELECT pg_terminate_backend($1, 5000)");
    db_bind_int64(s, 1, pid);
    step_expect(s, 1, &e);
    assert_int_equal(db_col_int64(s, 0), 1);
    db_done(s);
    db_close(killer);
}

static void test_pg_reconnect(void **state)
{
    (void)state;
    if (!is_pg()) {
        skip();
    }
    struct err e;
    err_clear(&e);
    struct db *db = NULL;
    assert_int_equal(db_open(g_url, &db, &e), 0);
    struct db_stmt *s = prep_ok(db, "SELECT $1 || 'x'");
    db_bind_text(s, 1, "a");
    step_expect(s, 1, &e);
    db_done(s);
    int64_t pid1 = query_int(db, "SELECT pg_backend_pid()");

    /* Outside a transaction: the next step fails, db_begin reconnects. */
    kill_backend(db);
    s = prep_ok(db, "SELECT $1 || 'x'");
    db_bind_text(s, 1, "b");
    step_expect(s, -1, &e);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    assert_string_equal(e.code, "database_unavailable");
    db_done(s);
    assert_int_equal(db_begin(db, false, &e), 0);
    s = prep_ok(db, "SELECT $1 || 'x'"); /* prepared again on the new session */
    db_bind_text(s, 1, "c");
    step_expect(s, 1, &e);
    assert_string_equal(db_col_text(s, 0), "cx");
    db_done(s);
    assert_int_equal(db_commit(db, &e), 0);
    int64_t pid2 = query_int(db, "SELECT pg_backend_pid()");
    assert_true(pid2 != pid1);
    s = prep_ok(db, "SHOW TIME ZONE");
    step_expect(s, 1, &e);
    assert_string_equal(db_col_text(s, 0), "UTC");
    db_done(s);

    /* Inside a transaction: the transaction is gone, commit says so. */
    assert_int_equal(db_begin(db, false, &e), 0);
    kill_backend(db);
    s = prep_ok(db, "SELECT $1 || 'x'"); /* cached: nothing reaches the server yet */
    db_bind_text(s, 1, "d");
    step_expect(s, -1, &e);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    db_done(s);
    assert_false(db_in_transaction(db));
    err_clear(&e);
    assert_int_equal(db_commit(db, &e), -1);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    db_rollback(db);
    /* db_prepare outside a transaction also reconnects. */
    assert_int_equal(query_int(db, "SELECT 5"), 5);
    db_close(db);

    /* Lost while idle: db_begin itself notices, reconnects and begins. */
    assert_int_equal(db_open(g_url, &db, &e), 0);
    kill_backend(db);
    err_clear(&e);
    if (db_begin(db, true, &e) != 0) {
        fail_msg("db_begin after an idle loss: %s", e.msg);
    }
    assert_int_equal(query_int(db, "SELECT 8"), 8);
    assert_int_equal(db_commit(db, &e), 0);
    db_close(db);

    /* db_thread hands back a reconnected connection. */
    db_set_url(g_url);
    struct db *t = db_thread(&e);
    assert_non_null(t);
    kill_backend(t);
    assert_int_equal(db_exec(t, "SELECT 1", &e), -1);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    assert_ptr_equal(db_thread(&e), t);
    assert_int_equal(query_int(t, "SELECT 6"), 6);
    db_thread_close();
}

static void test_pg_blob_context(void **state)
{
    (void)state;
    if (!is_pg()) {
        skip();
    }
    struct err e;
    struct db_stmt *s = prep_ok(g_db, "SELECT length($1)");
    db_bind_blob(s, 1, "ab", 2);
    step_expect(s, -1, &e);
    assert_string_equal(e.code, "invalid_parameter");
    db_done(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_bad_urls),
        cmocka_unit_test(test_open_close),
        cmocka_unit_test_setup(test_types_roundtrip, clean_tables),
        cmocka_unit_test_setup(test_text_refused, clean_tables),
        cmocka_unit_test(test_param_errors),
        cmocka_unit_test(test_many_params),
        cmocka_unit_test_setup(test_unique_violation, clean_tables),
        cmocka_unit_test_setup(test_foreign_key_violation, clean_tables),
        cmocka_unit_test_setup(test_transactions, clean_tables),
        cmocka_unit_test_setup(test_read_only, clean_tables),
        cmocka_unit_test_setup(test_exec, clean_tables),
        cmocka_unit_test_setup(test_stmt_cache, clean_tables),
        cmocka_unit_test_setup(test_loop_1000, clean_tables),
        cmocka_unit_test(test_migration_sections),
        cmocka_unit_test(test_migrations),
        cmocka_unit_test(test_migrate_embedded),
        cmocka_unit_test(test_migrate_concurrent),
        cmocka_unit_test(test_thread_connections),
        cmocka_unit_test(test_pg_reconnect),
        cmocka_unit_test(test_pg_blob_context),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
