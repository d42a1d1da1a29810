/*
 * testlib.h: what the database-backed unit tests share: a temporary folder
 * with a master key and a migrated database (SANAD_TEST_DB, else SQLite in
 * the folder), organizations with random slugs (a PostgreSQL database is
 * shared by the suites), users of a role, and children. Header-only: each
 * test program includes it once, after cmocka.h.
 */
#ifndef SANAD_TESTS_TESTLIB_H
#define SANAD_TESTS_TESTLIB_H

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "children/children.h"
#include "core/config.h"
#include "db/db.h"
#include "keys/keys.h"

/* The test program's folder and database. */
struct testenv {
    char dir[64];  /* temporary folder, removed by testenv_close */
    struct db *db; /* migrated connection */
};

/* Makes the folder, the master key and the database. Returns 0 or -1 (printed). */
static inline int testenv_open(struct testenv *t, const char *name)
{
    struct err e;
    err_clear(&e);
    if (sodium_init() < 0) {
        return -1;
    }
    config_defaults();
    config_finish();
    snprintf(t->dir, sizeof(t->dir), "/tmp/sanad-%.20s-XXXXXX", name);
    if (!mkdtemp(t->dir)) {
        return -1;
    }
    char key[128], url[160];
    snprintf(key, sizeof(key), "%s/sanad.key", t->dir);
    snprintf(url, sizeof(url), "sqlite:%s/t.db", t->dir);
    const char *env = getenv("SANAD_TEST_DB");
    if (keys_create_master(key, &e) < 0 || keys_load_master(key, &e) < 0 ||
        db_open(env && *env ? env : url, &t->db, &e) < 0 || db_migrate(t->db, &e) < 0) {
        fprintf(stderr, "%s: setup: %s\n", name, e.msg);
        return -1;
    }
    return 0;
}

/* Closes the database, forgets the keys and removes the folder. */
static inline int testenv_close(struct testenv *t)
{
    keys_shutdown();
    db_close(t->db);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", t->dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Creates an organization with a random slug as the command line would. */
static inline void testenv_org(struct testenv *t, char id[40], char slug[32])
{
    struct actor cli;
    actor_system(&cli, "");
    unsigned char r[4];
    randombytes_buf(r, sizeof(r));
    snprintf(slug, 32, "t%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
    struct err e;
    err_clear(&e);
    assert_int_equal(org_create(t->db, &cli, slug, "Test org", id, &e), 0);
}

/* Creates a user of role in the organization and fills the actor for them. */
static inline void testenv_user(struct testenv *t, struct actor *a, const char *role,
                                const char *org_id, const char *slug)
{
    struct actor cli;
    actor_system(&cli, org_id);
    char uname[64];
    unsigned char r[3];
    randombytes_buf(r, sizeof(r));
    snprintf(uname, sizeof(uname), "%.20s%02x%02x%02x", role, r[0], r[1], r[2]);
    struct user_new u = {.username = uname, .display_name = role, .role = role, .lang = "en"};
    struct err e;
    err_clear(&e);
    memset(a, 0, sizeof(*a));
    char invite[64];
    if (user_create(t->db, &cli, org_id, &u, a->user_id, invite, &e) < 0) {
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

/* Registers a child (given first name and birth date) for actor a. */
static inline void testenv_child(struct testenv *t, const struct actor *a, const char *first,
                                 const char *birth, char id[40])
{
    json_t *in =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "first_name", first, "father_name", "محمد",
                  "grandfather_name", "علي", "family_name", "الخطيب", "sex", "F", "birth_date",
                  birth, "orphan_status", "father_deceased");
    struct err e;
    err_clear(&e);
    char file_no[64];
    json_t *errors = NULL;
    if (child_create(t->db, a, in, id, file_no, &errors, &e) < 0) {
        fail_msg("child_create: %s", e.msg);
    }
    json_decref(in);
}

#endif
