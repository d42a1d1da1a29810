/*
 * test_keys: encryption at rest: sealing binds a value to its organization,
 * record and field; a moved or altered ciphertext does not open; master key
 * rotation keeps every value readable; data key versions coexist.
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
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/uuid.h"
#include "db/db.h"
#include "db/db_util.h"
#include "keys/keys.h"

static char dir[64];
static char key_path[128];
static char db_path[160];
static struct db *db;
static char schema[32]; /* the PostgreSQL schema of this run, "" on SQLite */

/* A fresh folder with a master key and a migrated database (SANAD_TEST_DB or SQLite). */
static int setup(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    snprintf(dir, sizeof(dir), "/tmp/sanad-keys-XXXXXX");
    if (!mkdtemp(dir)) {
        return -1;
    }
    snprintf(key_path, sizeof(key_path), "%s/sanad.key", dir);
    const char *url = getenv("SANAD_TEST_DB");
    snprintf(db_path, sizeof(db_path), "sqlite:%s/t.db", dir);
    if (keys_create_master(key_path, &e) < 0 || keys_load_master(key_path, &e) < 0 ||
        db_open(url && *url ? url : db_path, &db, &e) < 0) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    /* Rotation re-wraps every data key in the database: on a PostgreSQL shared with
     * other suites (other master keys), work in a schema of this run's own. */
    if (db_backend_of(db) == DB_POSTGRES) {
        unsigned char r[4];
        randombytes_buf(r, sizeof(r));
        snprintf(schema, sizeof(schema), "keys_%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
        char sql[160];
        snprintf(sql, sizeof(sql), "CREATE SCHEMA %s; SET search_path TO %s", schema, schema);
        if (db_exec(db, sql, &e) < 0) {
            fprintf(stderr, "setup: %s\n", e.msg);
            return -1;
        }
    }
    if (db_migrate(db, &e) < 0) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    keys_shutdown();
    if (schema[0]) {
        struct err e;
        err_clear(&e);
        char sql[96];
        snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", schema);
        db_exec(db, sql, &e);
    }
    db_close(db);
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A random organization id, so runs on a shared PostgreSQL do not collide. */
static void new_org(char org[40])
{
    uuid_v7(org);
}

/* Seals a value inside a write transaction. */
static char *seal(struct arena *a, const char *org, const char *rec, const char *field,
                  const char *text)
{
    struct err e;
    err_clear(&e);
    assert_int_equal(db_begin(db, false, &e), 0);
    char *s = keys_seal(db, a, org, rec, field, text, strlen(text), &e);
    assert_non_null(s);
    assert_int_equal(db_commit(db, &e), 0);
    return s;
}

static void test_round_trip_and_binding(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    char org[40], other[40];
    new_org(org);
    new_org(other);
    const char *secret = "ربو مزمن؛ يحتاج بخاخاً يومياً";
    char *sealed = seal(&a, org, "child-1", "health", secret);
    assert_null(strstr(sealed, "ربو"));
    assert_true(strncmp(sealed, "v1.1.", 5) == 0);
    struct err e;
    err_clear(&e);
    size_t n;
    char *open = keys_open(db, &a, org, "child-1", "health", sealed, &n, &e);
    assert_non_null(open);
    assert_string_equal(open, secret);
    assert_int_equal(n, strlen(secret));
    /* Moved to another record, another field or another organization: refused. */
    assert_null(keys_open(db, &a, org, "child-2", "health", sealed, NULL, &e));
    assert_string_equal(e.code, "decrypt_failed");
    assert_null(keys_open(db, &a, org, "child-1", "notes", sealed, NULL, &e));
    err_clear(&e);
    assert_null(keys_open(db, &a, other, "child-1", "health", sealed, NULL, &e));
    /* One changed character of the ciphertext: refused. */
    char *bad = arena_strdup(&a, sealed);
    size_t len = strlen(bad);
    bad[len - 3] = bad[len - 3] == 'A' ? 'B' : 'A';
    assert_null(keys_open(db, &a, org, "child-1", "health", bad, NULL, &e));
    /* Not sealed text at all. */
    assert_null(keys_open(db, &a, org, "child-1", "health", "plain text", NULL, &e));
    assert_null(keys_open(db, &a, org, "child-1", "health", "v1.1.!!!", NULL, &e));
    /* Two seals of the same value differ (random nonces). */
    char *again = seal(&a, org, "child-1", "health", secret);
    assert_string_not_equal(again, sealed);
    /* Empty values seal and open too. */
    char *empty = seal(&a, org, "child-1", "health", "");
    open = keys_open(db, &a, org, "child-1", "health", empty, &n, &e);
    assert_non_null(open);
    assert_int_equal(n, 0);
    arena_release(&a);
}

static void test_wrapped_key_in_db_is_not_the_key(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    char org[40];
    new_org(org);
    seal(&a, org, "r", "f", "x");
    struct err e;
    err_clear(&e);
    int found;
    struct db_stmt *s = db_row(db, &e, &found, "SELECT wrapped FROM org_keys WHERE org_id = $1",
                               "t", org);
    assert_non_null(s);
    /* nonce (24) + key (32) + tag (16) = 72 bytes = 96 base64 characters */
    assert_int_equal(strlen(db_col_text(s, 0)), 96);
    db_done(s);
    arena_release(&a);
}

static void test_rotation_keeps_values_readable(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    char org[40];
    new_org(org);
    char *sealed = seal(&a, org, "rec", "health", "diabetes type 1");
    struct err e;
    err_clear(&e);
    FILE *f = fopen(key_path, "rb");
    unsigned char before[32], after[32];
    assert_int_equal(fread(before, 1, 32, f), 32);
    fclose(f);
    int n = keys_rotate_master(db, key_path, &e);
    assert_true(n >= 1);
    f = fopen(key_path, "rb");
    assert_int_equal(fread(after, 1, 32, f), 32);
    fclose(f);
    assert_memory_not_equal(before, after, 32);
    char old[160];
    snprintf(old, sizeof(old), "%s.old", key_path);
    assert_int_equal(access(old, F_OK), 0);
    /* Forget the cached keys, load the new file, and read the old value. */
    keys_shutdown();
    assert_int_equal(keys_load_master(key_path, &e), 0);
    char *open = keys_open(db, &a, org, "rec", "health", sealed, NULL, &e);
    assert_non_null(open);
    assert_string_equal(open, "diabetes type 1");
    /* The old master key no longer opens the data keys. */
    keys_shutdown();
    assert_int_equal(keys_load_master(old, &e), 0);
    assert_null(keys_open(db, &a, org, "rec", "health", sealed, NULL, &e));
    keys_shutdown();
    assert_int_equal(keys_load_master(key_path, &e), 0);
    unlink(old);
    arena_release(&a);
}

static void test_data_key_versions(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    char org[40];
    new_org(org);
    char *v1 = seal(&a, org, "rec", "f", "first");
    struct err e;
    err_clear(&e);
    assert_int_equal(db_begin(db, false, &e), 0);
    assert_int_equal(keys_new_data_key(db, org, &e), 2);
    assert_int_equal(db_commit(db, &e), 0);
    char *v2 = seal(&a, org, "rec", "f", "second");
    assert_true(strncmp(v2, "v1.2.", 5) == 0);
    assert_string_equal(keys_open(db, &a, org, "rec", "f", v1, NULL, &e), "first");
    assert_string_equal(keys_open(db, &a, org, "rec", "f", v2, NULL, &e), "second");
    arena_release(&a);
}

static void test_bad_key_files(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    char p[160];
    snprintf(p, sizeof(p), "%s/missing.key", dir);
    assert_int_equal(keys_load_master(p, &e), -1);
    assert_non_null(strstr(e.msg, "missing.key"));
    snprintf(p, sizeof(p), "%s/short.key", dir);
    FILE *f = fopen(p, "wb");
    fputs("short", f);
    fclose(f);
    chmod(p, 0600);
    assert_int_equal(keys_load_master(p, &e), -1);
    assert_non_null(strstr(e.msg, "32 bytes"));
    /* A key file others can read is refused. */
    snprintf(p, sizeof(p), "%s/open.key", dir);
    assert_int_equal(keys_create_master(p, &e), 0);
    chmod(p, 0644);
    assert_int_equal(keys_load_master(p, &e), -1);
    assert_non_null(strstr(e.msg, "chmod 600"));
    /* Creating over an existing file is refused. */
    assert_int_equal(keys_create_master(key_path, &e), -1);
    /* The right key still loads afterwards. */
    assert_int_equal(keys_load_master(key_path, &e), 0);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    config_defaults();
    config_finish();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_binding),
        cmocka_unit_test(test_wrapped_key_in_db_is_not_the_key),
        cmocka_unit_test(test_rotation_keeps_values_readable),
        cmocka_unit_test(test_data_key_versions),
        cmocka_unit_test(test_bad_key_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
