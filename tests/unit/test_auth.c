/*
 * test_auth.c: the password policy and hashing, the permission table, and
 * the account services (organizations, users, invitations, login with
 * throttling and a second factor, sessions, API tokens, roles, passwords)
 * against a real database: SANAD_TEST_DB when set (then in a schema of this
 * run, dropped at the end), else a temporary SQLite file.
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

#include "auth/auth.h"
#include "auth/authz.h"
#include "auth/password.h"
#include "auth/totp.h"
#include "core/config.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "db/db.h"
#include "db/db_util.h"
#include "keys/keys.h"
#include "core/banned.h"

static struct db *g_db;     /* the connection under test */
static char g_dir[64];      /* temporary folder for the SQLite file */
static char g_schema[64];   /* PostgreSQL schema of this run, "" on SQLite */
static char g_slug[48];     /* the main organization's slug (unique per run) */
static char g_org[40];      /* its id */
static char g_other[40];    /* a second organization's id */
static char g_other_slug[48]; /* its slug */
static int g_remote_no;     /* counter for distinct client addresses */

#define PW "river-stone-lantern-42"
#define PW2 "quiet-harbour-maple-77"

/* A new client address, so that address throttling of one test does not reach another. */
static const char *new_remote(void)
{
    static char r[32];
    snprintf(r, sizeof(r), "198.51.100.%d", ++g_remote_no);
    return r;
}

/* One integer from a query with up to one text parameter. */
static int64_t query_int(const char *sql, const char *param)
{
    struct err e;
    err_clear(&e);
    int found;
    struct db_stmt *s =
        param ? db_row(g_db, &e, &found, sql, "t", param) : db_row(g_db, &e, &found, sql, "");
    if (!s) {
        if (found < 0) {
            fail_msg("'%s': %s", sql, e.msg);
        }
        return -1;
    }
    int64_t v = db_col_int64(s, 0);
    db_done(s);
    return v;
}

/* Runs an UPDATE/DELETE with an int and a text parameter, or fails the test. */
static void run_it(const char *sql, int64_t i, const char *t)
{
    struct err e;
    err_clear(&e);
    if (db_run(g_db, &e, sql, "it", i, t) < 0) {
        fail_msg("'%s': %s", sql, e.msg);
    }
}

static int group_setup(void **state)
{
    (void)state;
    if (sodium_init() < 0) {
        return -1;
    }
    config_defaults();
    config_finish();
    struct err e;
    err_clear(&e);
    char url[512];
    const char *env = getenv("SANAD_TEST_DB");
    unsigned r = (unsigned)randombytes_uniform(1000000000);
    snprintf(g_dir, sizeof(g_dir), "/tmp/sanad-test-auth-XXXXXX");
    if (!mkdtemp(g_dir)) {
        return -1;
    }
    if (env && *env) {
        snprintf(url, sizeof(url), "%s", env);
        snprintf(g_schema, sizeof(g_schema), "sanad_t_auth_%d_%u", (int)getpid(), r % 1000000);
    } else {
        snprintf(url, sizeof(url), "sqlite:%s/auth.db", g_dir);
    }
    /* second-factor secrets are sealed with the master key */
    char key[128];
    snprintf(key, sizeof(key), "%s/sanad.key", g_dir);
    if (keys_create_master(key, &e) != 0 || keys_load_master(key, &e) != 0) {
        fprintf(stderr, "test_auth: master key: %s\n", e.msg);
        return -1;
    }
    if (db_open(url, &g_db, &e) != 0) {
        fprintf(stderr, "test_auth: could not open '%s': %s\n", url, e.msg);
        return -1;
    }
    if (g_schema[0]) {
        char sql[200];
        snprintf(sql, sizeof(sql), "CREATE SCHEMA %s; SET search_path TO %s", g_schema,
                 g_schema);
        if (db_exec(g_db, sql, &e) != 0) {
            fprintf(stderr, "test_auth: %s\n", e.msg);
            return -1;
        }
    }
    if (db_migrate(g_db, &e) != 0) {
        fprintf(stderr, "test_auth: migrate: %s\n", e.msg);
        return -1;
    }
    fprintf(stderr, "test_auth: backend %s\n",
            db_backend_of(g_db) == DB_POSTGRES ? "postgres" : "sqlite");
    struct actor sys;
    actor_system(&sys, "");
    snprintf(g_slug, sizeof(g_slug), "hope-%u", r);
    if (org_create(g_db, &sys, g_slug, "دار الأمل Hope House", g_org, &e) != 0) {
        fprintf(stderr, "test_auth: org_create: %s\n", e.msg);
        return -1;
    }
    snprintf(g_other_slug, sizeof(g_other_slug), "other-%u", r);
    if (org_create(g_db, &sys, g_other_slug, "Other", g_other, &e) != 0) {
        return -1;
    }
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
    keys_shutdown();
    if (g_dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
        if (system(cmd) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Creates a user of org with a password through the command line's actor. */
static void make_user(const char *org, const char *username, const char *role, const char *pw,
                      char id[40])
{
    struct actor sys;
    actor_system(&sys, org);
    struct user_new u = {username, "أحمد Ahmad", "a@example.org", role, "ar", pw};
    struct err e;
    err_clear(&e);
    if (user_create(g_db, &sys, org, &u, id, NULL, &e) != 0) {
        fail_msg("user_create '%s': %s", username, e.msg);
    }
}

/* Logs in to the main organization or fails the test. */
static void login_ok(const char *username, const char *pw, const char *totp,
                     struct login_result *out)
{
    struct err e;
    err_clear(&e);
    if (auth_login(g_db, g_slug, username, pw, totp, false, new_remote(), "rid", out, &e) != 0) {
        fail_msg("login '%s': %s (%s)", username, e.msg, e.code);
    }
    assert_false(db_in_transaction(g_db));
}

/* Tries a login that must fail with kind and code. */
static void login_fails(const char *slug, const char *username, const char *pw, const char *totp,
                        const char *remote, enum err_kind kind, const char *code)
{
    struct err e;
    err_clear(&e);
    struct login_result r;
    int rc = auth_login(g_db, slug, username, pw, totp, false, remote, "rid", &r, &e);
    if (rc != -1) {
        fail_msg("login '%s' succeeded", username);
    }
    assert_int_equal(e.kind, kind);
    assert_string_equal(e.code, code);
    assert_string_equal(r.token, "");
    assert_false(db_in_transaction(g_db));
}

/* The 6-digit code of a base32 secret for a 30-second step. */
static void code_at(const char *secret, int64_t step, char out[7])
{
    unsigned char key[64];
    int n = base32_decode(secret, key, sizeof(key));
    assert_true(n > 0);
    snprintf(out, 7, "%06u", hotp(key, (size_t)n, (uint64_t)step, 6));
}

/* The current 6-digit code of a base32 secret, shifted by `steps`. */
static void code_now(const char *secret, int steps, char out[7])
{
    code_at(secret, time_now_ms() / 1000 / 30 + steps, out);
}

/* ------------------------------------------------------------ passwords */

/* Expects the policy to refuse pw with code. */
static void policy_bad(const char *pw, const char *user, const char *code)
{
    struct err e;
    err_clear(&e);
    if (password_check_policy(pw, user, "new_password", &e) != -1) {
        fail_msg("'%s' was accepted", pw);
    }
    assert_int_equal(e.kind, ERR_INVALID);
    assert_string_equal(e.field, "new_password");
    if (strcmp(e.code, code) != 0) {
        fail_msg("'%s': code '%s', wanted '%s'", pw, e.code, code);
    }
}

/* Expects the policy to accept pw. */
static void policy_ok(const char *pw, const char *user)
{
    struct err e;
    err_clear(&e);
    if (password_check_policy(pw, user, "password", &e) != 0) {
        fail_msg("'%s' refused: %s", pw, e.msg);
    }
}

static void test_password_policy(void **state)
{
    (void)state;
    policy_bad("", NULL, "password_too_short");
    policy_bad("zq8#Lm2!vP0", NULL, "password_too_short"); /* 11 */
    policy_ok("zq8#Lm2!vP0x", NULL);                       /* 12 */
    char pw[200];
    memset(pw, 0, sizeof(pw));
    for (int i = 0; i < 128; i++) {
        pw[i] = (char)('a' + (i * 7) % 26);
    }
    policy_ok(pw, NULL); /* 128 */
    pw[128] = 'z';
    policy_bad(pw, NULL, "password_too_long"); /* 129 */
    /* characters, not bytes: 12 Arabic letters are 24 bytes */
    const char *ar12 = "كلمةسرعربيةه";
    assert_int_equal(utf8_length(ar12, strlen(ar12)), 12);
    policy_ok(ar12, NULL);
    const char *ar11 = "كلمةسرعربية";
    assert_int_equal(utf8_length(ar11, strlen(ar11)), 11);
    policy_bad(ar11, NULL, "password_too_short");
    /* 128 Arabic letters (256 bytes) are fine, 129 are not */
    char arl[400] = "";
    for (int i = 0; i < 128; i++) {
        memcpy(arl + 2 * i, "ب", 2);
    }
    policy_ok(arl, NULL);
    memcpy(arl + 256, "ب", 2);
    policy_bad(arl, NULL, "password_too_long");
    /* mixed scripts and emoji count as one each */
    policy_ok("كلمة-pass-😀x", NULL);
    /* the username, in any case */
    policy_bad("ahmad.hassan99", "ahmad.hassan99", "password_is_username");
    policy_bad("Ahmad.Hassan99", "ahmad.hassan99", "password_is_username");
    policy_ok("ahmad.hassan99", "other.user");
    policy_ok("ahmad.hassan99", "");
    /* the common list, case-insensitively */
    policy_bad("LETMEINLETMEIN", NULL, "password_common");
    policy_bad("letmeinletmein", NULL, "password_common");
    policy_bad("LetMeInLetMeIn", NULL, "password_common");
    policy_bad("000000000000", NULL, "password_common");
    policy_bad("0987654321qwerty", NULL, "password_common");
    policy_bad("0987654321QWERTY", NULL, "password_common");
    assert_true(password_is_common("!@#$%^&*()_+"));
    assert_false(password_is_common("river-stone-lantern-42"));
    assert_false(password_is_common(""));
    assert_false(password_is_common("# common passwords of 12+ characters, from patterns that"
                                    " dominate breach corpora;"));
    /* invalid UTF-8 and controls */
    policy_bad("abcdefghijk\xff", NULL, "invalid_utf8");
    policy_bad("abcdefghij\xc0\xaf", NULL, "invalid_utf8");
    policy_bad("abcdefghijk\x01", NULL, "invalid_utf8");
    policy_bad("abcdefghij\xed\xa0\x80", NULL, "invalid_utf8");
}

static void test_password_hash(void **state)
{
    (void)state;
    char h[PASSWORD_HASH_MAX];
    struct err e;
    err_clear(&e);
    assert_int_equal(password_hash(PW, h, &e), 0);
    assert_int_equal(strncmp(h, "$argon2id$", 10), 0);
    assert_true(password_verify(h, PW));
    assert_false(password_verify(h, PW "x"));
    assert_false(password_verify(h, ""));
    assert_false(password_verify(h, "River-stone-lantern-42"));
    assert_false(password_needs_rehash(h));
    char h2[PASSWORD_HASH_MAX];
    assert_int_equal(password_hash(PW, h2, &e), 0);
    assert_string_not_equal(h, h2); /* salted */
    assert_false(password_verify(NULL, PW));
    assert_false(password_verify("", PW));
    assert_false(password_verify("$argon2id$garbage", PW));
    const char *ar = "كلمةسرعربيةه";
    assert_int_equal(password_hash(ar, h, &e), 0);
    assert_true(password_verify(h, ar));
    assert_false(password_verify(h, "كلمةسرعربية"));
    /* a hash with weaker limits wants a rehash */
    char weak[crypto_pwhash_STRBYTES];
    assert_int_equal(crypto_pwhash_str(weak, PW, strlen(PW), crypto_pwhash_OPSLIMIT_MIN,
                                       crypto_pwhash_MEMLIMIT_MIN),
                     0);
    assert_true(password_verify(weak, PW));
    assert_true(password_needs_rehash(weak));
    assert_true(password_needs_rehash("not a hash"));
}

/* ---------------------------------------------------------------- authz */

static void test_authz_table(void **state)
{
    (void)state;
    static const char *perms[] = {
        PERM_ACCOUNT_SELF, PERM_USERS_MANAGE, PERM_USERS_READ,     PERM_AUDIT_READ,
        PERM_DASHBOARD,    PERM_CHILDREN_READ, PERM_CHILDREN_WRITE, PERM_CHILDREN_HEALTH,
        PERM_CASES_READ,   PERM_CASES_WRITE,  PERM_CASES_APPROVE,  PERM_PSYCH_NOTES,
        PERM_SPONSOR_READ, PERM_SPONSOR_WRITE, PERM_FINANCE_READ,  PERM_FINANCE_WRITE,
        PERM_NETWORK,      PERM_PORTAL,
    };
    /* the table in authz.c, written out again: one column per permission above */
    static const struct {
        const char *role;
        const char *grants; /* 'x' where the role holds perms[i] */
    } want[] = {
        {"admin", "xxxxxxx.x...x.x..."},
        {"supervisor", "x.x.xxxxxxxx......"},
        {"case_worker", "x...xxxxxx........"},
        {"psychosocial_specialist", "x...xx.xxx.x......"},
        {"sponsorship_officer", "x...xx......xxx..."},
        {"finance_officer", "x...x.......x.xx.."},
        {"coordinator", "x...xx..........x."},
        {"auditor", "x.xxxx..x...x.x..."},
        {"donor", "x................x"},
    };
    int n_roles;
    const struct role_info *roles = authz_roles(&n_roles);
    assert_int_equal(n_roles, 9);
    for (int r = 0; r < n_roles; r++) {
        assert_string_equal(roles[r].id, want[r].role);
        assert_true(authz_role_valid(roles[r].id));
        char key[64];
        snprintf(key, sizeof(key), "role.%s", roles[r].id);
        assert_string_equal(roles[r].label_key, key);
        assert_int_equal(roles[r].staff, strcmp(roles[r].id, "donor") != 0);
        assert_int_equal(strlen(want[r].grants), sizeof(perms) / sizeof(perms[0]));
        for (size_t p = 0; p < sizeof(perms) / sizeof(perms[0]); p++) {
            bool expect = want[r].grants[p] == 'x';
            if (authz_allows(want[r].role, perms[p]) != expect) {
                fail_msg("%s %s %s", want[r].role, expect ? "lacks" : "holds", perms[p]);
            }
        }
        assert_int_equal(authz_role_needs_mfa(roles[r].id), strcmp(roles[r].id, "admin") == 0);
    }
    /* a few cells spelled out, to guard the table above */
    assert_true(authz_allows("admin", PERM_CASES_READ));
    assert_false(authz_allows("admin", PERM_CHILDREN_HEALTH));
    assert_false(authz_allows("admin", PERM_PSYCH_NOTES));
}

static void test_authz_unknown(void **state)
{
    (void)state;
    static const char *bad_roles[] = {"", "Admin", "ADMIN", "admin ", " admin", "root",
                                      "superuser", "admi", "adminx", "مدير"};
    for (size_t i = 0; i < sizeof(bad_roles) / sizeof(bad_roles[0]); i++) {
        assert_false(authz_role_valid(bad_roles[i]));
        assert_false(authz_allows(bad_roles[i], PERM_ACCOUNT_SELF));
    }
    assert_false(authz_allows(NULL, PERM_ACCOUNT_SELF));
    assert_false(authz_allows("admin", NULL));
    assert_false(authz_role_needs_mfa(NULL));
    static const char *bad_perms[] = {
        "", " ", "account", "self", "account.sel", "account.selfx", "users", "manage",
        "users.manage users.read", "account.self ", " account.self", "ACCOUNT.SELF", ".",
        "users.manage\n", "*", "portal",
    };
    int n;
    const struct role_info *roles = authz_roles(&n);
    for (int r = 0; r < n; r++) {
        for (size_t i = 0; i < sizeof(bad_perms) / sizeof(bad_perms[0]); i++) {
            if (authz_allows(roles[r].id, bad_perms[i])) {
                fail_msg("%s holds '%s'", roles[r].id, bad_perms[i]);
            }
        }
    }
    /* the donor holds exactly two permissions */
    assert_true(authz_allows("donor", PERM_ACCOUNT_SELF));
    assert_true(authz_allows("donor", PERM_PORTAL));
    assert_false(authz_allows("donor", PERM_DASHBOARD));
    assert_false(authz_allows("donor", PERM_CHILDREN_READ));
    /* actors: the command line holds everything, others what their role holds */
    struct actor a;
    actor_system(&a, "");
    assert_true(actor_can(&a, PERM_PSYCH_NOTES));
    assert_true(actor_can(&a, "anything.at.all"));
    memset(&a, 0, sizeof(a));
    snprintf(a.role, sizeof(a.role), "donor");
    assert_false(actor_can(&a, PERM_USERS_MANAGE));
    assert_true(actor_can(&a, PERM_PORTAL));
}

/* ---------------------------------------------------------- organizations */

static void test_org_create(void **state)
{
    (void)state;
    struct actor sys, user;
    actor_system(&sys, "");
    memset(&user, 0, sizeof(user));
    snprintf(user.role, sizeof(user.role), "admin");
    char id[40];
    struct err e;
    err_clear(&e);
    assert_int_equal(org_create(g_db, &user, "new-org", "x", id, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    char long41[42];
    memset(long41, 'a', 41);
    long41[41] = '\0';
    const char *bad[] = {"", "a", long41, "Hope", "hope org", "hope_org", "أمل", "hope\n",
                         "hope.org", "hope/x", "hope'--"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&e);
        if (org_create(g_db, &sys, bad[i], "Name", id, &e) != -1) {
            fail_msg("slug '%s' accepted", bad[i]);
        }
        assert_int_equal(e.kind, ERR_INVALID);
        assert_string_equal(e.field, "slug");
    }
    err_clear(&e);
    assert_int_equal(org_create(g_db, &sys, NULL, "Name", id, &e), -1);
    /* names */
    const char *bad_names[] = {"", "   ", "bad\xff", "ctl\x01"};
    char slug[64];
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        err_clear(&e);
        snprintf(slug, sizeof(slug), "%s-n%zu", g_slug, i);
        assert_int_equal(org_create(g_db, &sys, slug, bad_names[i], id, &e), -1);
        assert_string_equal(e.field, "name");
    }
    err_clear(&e);
    assert_int_equal(org_create(g_db, &sys, "x-none", NULL, id, &e), -1);
    /* the longest slug, and a duplicate */
    char long40[41];
    memset(long40, 'z', 40);
    long40[40] = '\0';
    memcpy(long40, g_slug, strlen(g_slug));
    err_clear(&e);
    assert_int_equal(org_create(g_db, &sys, long40, "Forty", id, &e), 0);
    assert_true(uuid_valid(id));
    char found_id[40];
    assert_int_equal(org_find(g_db, long40, found_id, &e), 1);
    assert_string_equal(found_id, id);
    err_clear(&e);
    assert_int_equal(org_create(g_db, &sys, g_slug, "Again", id, &e), -1);
    assert_int_equal(e.kind, ERR_CONFLICT);
    assert_string_equal(e.field, "slug");
    assert_false(db_in_transaction(g_db));
    assert_int_equal(org_find(g_db, "no-such-org-xyz", found_id, &e), 0);
    assert_int_equal(org_find(g_db, g_slug, found_id, &e), 1);
    assert_string_equal(found_id, g_org);
}

/* ------------------------------------------------------------------ users */

/* Expects user_create to refuse u with kind and field. */
static void user_bad(const struct actor *a, const struct user_new *u, enum err_kind kind,
                     const char *field)
{
    char id[40], inv[64];
    struct err e;
    err_clear(&e);
    if (user_create(g_db, a, g_org, u, id, inv, &e) != -1) {
        fail_msg("user '%s' accepted", u->username ? u->username : "(null)");
    }
    if (e.kind != kind || strcmp(e.field, field) != 0) {
        fail_msg("user '%s': %d '%s' (%s), wanted %d '%s'", u->username ? u->username : "",
                 e.kind, e.field, e.msg, kind, field);
    }
    assert_false(db_in_transaction(g_db));
}

static void test_user_create_validation(void **state)
{
    (void)state;
    struct actor sys;
    actor_system(&sys, g_org);
    const char *ok_name = "سارة Sara";
    char long65[66], long121[400];
    memset(long65, 'u', 65);
    long65[65] = '\0';
    long121[0] = '\0';
    for (int i = 0; i < 121; i++) {
        memcpy(long121 + 2 * i, "س", 2);
    }
    long121[242] = '\0';
    static const char *bad_names[] = {"", "a", "Sara", "sa ra", "sara!", "سارة", "sara\n",
                                      "sa/ra", "sara@x"};
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        struct user_new u = {bad_names[i], ok_name, NULL, "case_worker", "ar", PW};
        user_bad(&sys, &u, ERR_INVALID, "username");
    }
    struct user_new u = {long65, ok_name, NULL, "case_worker", "ar", PW};
    user_bad(&sys, &u, ERR_INVALID, "username");
    u = (struct user_new){NULL, ok_name, NULL, "case_worker", "ar", PW};
    user_bad(&sys, &u, ERR_INVALID, "username");
    /* display name: required, UTF-8, at most 120 characters */
    u = (struct user_new){"sara", NULL, NULL, "case_worker", "ar", PW};
    user_bad(&sys, &u, ERR_INVALID, "display_name");
    u.display_name = "  ";
    user_bad(&sys, &u, ERR_INVALID, "display_name");
    u.display_name = "bad \xc3";
    user_bad(&sys, &u, ERR_INVALID, "display_name");
    u.display_name = long121;
    user_bad(&sys, &u, ERR_INVALID, "display_name");
    /* email, role, lang */
    u = (struct user_new){"sara", ok_name, "not-an-address", "case_worker", "ar", PW};
    user_bad(&sys, &u, ERR_INVALID, "email");
    u.email = "bad\xff@x";
    user_bad(&sys, &u, ERR_INVALID, "email");
    u = (struct user_new){"sara", ok_name, NULL, "root", "ar", PW};
    user_bad(&sys, &u, ERR_INVALID, "role");
    u.role = NULL;
    user_bad(&sys, &u, ERR_INVALID, "role");
    u = (struct user_new){"sara", ok_name, NULL, "case_worker", "fr", PW};
    user_bad(&sys, &u, ERR_INVALID, "lang");
    /* password policy, with the username refused */
    u = (struct user_new){"sara", ok_name, NULL, "case_worker", "en", "short"};
    user_bad(&sys, &u, ERR_INVALID, "password");
    u.password = "letmeinletmein";
    user_bad(&sys, &u, ERR_INVALID, "password");
    u = (struct user_new){"sara.long.name", ok_name, NULL, "case_worker", "en", "SARA.LONG.NAME"};
    user_bad(&sys, &u, ERR_INVALID, "password");
    /* no password and nowhere to put an invitation */
    u = (struct user_new){"sara", ok_name, NULL, "case_worker", "en", NULL};
    char id[40];
    struct err e;
    err_clear(&e);
    assert_int_equal(user_create(g_db, &sys, g_org, &u, id, NULL, &e), -1);
    assert_string_equal(e.field, "password");
    /* a user without users.manage may not create users */
    struct actor cw;
    memset(&cw, 0, sizeof(cw));
    snprintf(cw.role, sizeof(cw.role), "case_worker");
    snprintf(cw.org_id, sizeof(cw.org_id), "%s", g_org);
    u = (struct user_new){"sara", ok_name, NULL, "case_worker", "en", PW};
    user_bad(&cw, &u, ERR_FORBIDDEN, "");
    /* none of that left a user behind */
    assert_int_equal(query_int("SELECT COUNT(*) FROM users WHERE username = 'sara'", NULL), 0);

    /* good, then the same username again */
    u = (struct user_new){"sara", ok_name, "", "case_worker", NULL, PW};
    err_clear(&e);
    assert_int_equal(user_create(g_db, &sys, g_org, &u, id, NULL, &e), 0);
    assert_true(uuid_valid(id));
    user_bad(&sys, &u, ERR_CONFLICT, "username");
    /* the same username in another organization is fine */
    err_clear(&e);
    char id2[40];
    assert_int_equal(user_create(g_db, &sys, g_other, &u, id2, NULL, &e), 0);
    /* defaults: lang ar, empty email stored as NULL; audited */
    assert_int_equal(query_int("SELECT COUNT(*) FROM users WHERE id = $1 AND lang = 'ar'"
                               " AND email IS NULL",
                               id),
                     1);
    assert_int_equal(query_int("SELECT COUNT(*) FROM audit_log WHERE entity_id = $1"
                               " AND action = 'user.create'",
                               id),
                     1);
}

static void test_invitation(void **state)
{
    (void)state;
    struct actor sys;
    actor_system(&sys, g_org);
    struct user_new u = {"invited", "Invited", NULL, "supervisor", "en", NULL};
    char id[40], inv[64];
    struct err e;
    err_clear(&e);
    assert_int_equal(user_create(g_db, &sys, g_org, &u, id, inv, &e), 0);
    assert_int_equal(strncmp(inv, "inv_", 4), 0);
    assert_int_equal(strlen(inv), 4 + 43);
    char slug[64], name[64];
    assert_int_equal(user_invite_find(g_db, inv, slug, name, &e), 1);
    assert_string_equal(slug, g_slug);
    assert_string_equal(name, "invited");
    assert_int_equal(user_invite_find(g_db, "inv_nope", slug, name, &e), 0);
    assert_int_equal(user_invite_find(g_db, "", slug, name, &e), 0);
    /* no password yet: no login */
    login_fails(g_slug, "invited", "", NULL, new_remote(), ERR_UNAUTH, "invalid_credentials");
    /* a weak password is refused and the invitation stays good */
    err_clear(&e);
    assert_int_equal(user_accept_invite(g_db, inv, "short", "1.2.3.4", &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    err_clear(&e);
    assert_int_equal(user_accept_invite(g_db, inv, "invited", "1.2.3.4", &e), -1);
    assert_false(db_in_transaction(g_db));
    assert_int_equal(user_invite_find(g_db, inv, slug, name, &e), 1);
    /* accepted once, then refused */
    err_clear(&e);
    assert_int_equal(user_accept_invite(g_db, inv, PW, "1.2.3.4", &e), 0);
    err_clear(&e);
    assert_int_equal(user_accept_invite(g_db, inv, PW2, "1.2.3.4", &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    assert_string_equal(e.code, "invite_invalid");
    assert_int_equal(user_invite_find(g_db, inv, slug, name, &e), 0);
    struct login_result r;
    login_ok("invited", PW, NULL, &r);
    login_fails(g_slug, "invited", PW2, NULL, new_remote(), ERR_UNAUTH, "invalid_credentials");

    /* an expired invitation */
    u.username = "late";
    err_clear(&e);
    assert_int_equal(user_create(g_db, &sys, g_org, &u, id, inv, &e), 0);
    run_it("UPDATE users SET invite_expires_ms = $1 WHERE id = $2", time_now_ms() - 1, id);
    assert_int_equal(user_invite_find(g_db, inv, slug, name, &e), 0);
    err_clear(&e);
    assert_int_equal(user_accept_invite(g_db, inv, PW, NULL, &e), -1);
    assert_string_equal(e.code, "invite_invalid");
    /* an invitation of a deactivated account */
    u.username = "gone";
    err_clear(&e);
    assert_int_equal(user_create(g_db, &sys, g_org, &u, id, inv, &e), 0);
    run_it("UPDATE users SET active = $1 WHERE id = $2", 0, id);
    err_clear(&e);
    assert_int_equal(user_accept_invite(g_db, inv, PW, NULL, &e), -1);
}

/* ------------------------------------------------------------------ login */

static void test_login(void **state)
{
    (void)state;
    char id[40];
    make_user(g_org, "layla", "case_worker", PW, id);
    struct login_result r;
    login_ok("layla", PW, NULL, &r);
    assert_int_equal(strlen(r.token), 43);
    assert_false(r.mfa_pending);
    assert_string_equal(r.actor.user_id, id);
    assert_string_equal(r.actor.org_id, g_org);
    assert_string_equal(r.actor.org_slug, g_slug);
    assert_string_equal(r.actor.username, "layla");
    assert_string_equal(r.actor.role, "case_worker");
    assert_string_equal(r.actor.lang, "ar");
    assert_true(r.actor.mfa_ok);
    assert_int_equal(strlen(r.actor.session_hash), 64);
    assert_true(strlen(r.actor.csrf) >= 32);
    /* the token is stored only hashed */
    assert_int_equal(query_int("SELECT COUNT(*) FROM sessions WHERE token_hash = $1",
                               r.actor.session_hash),
                     1);
    assert_int_equal(query_int("SELECT COUNT(*) FROM sessions WHERE token_hash = $1", r.token),
                     0);
    /* a second login gives a different session */
    struct login_result r2;
    login_ok("layla", PW, NULL, &r2);
    assert_string_not_equal(r.token, r2.token);
    assert_string_not_equal(r.actor.csrf, r2.actor.csrf);

    /* wrong password, unknown user, unknown organization: one and the same error */
    struct err e1, e2, e3;
    struct login_result x;
    err_clear(&e1);
    err_clear(&e2);
    err_clear(&e3);
    assert_int_equal(auth_login(g_db, g_slug, "layla", PW2, NULL, false, new_remote(), NULL, &x,
                                &e1),
                     -1);
    assert_int_equal(auth_login(g_db, g_slug, "nobody", PW, NULL, false, new_remote(), NULL, &x,
                                &e2),
                     -1);
    assert_int_equal(auth_login(g_db, "no-such-org", "layla", PW, NULL, false, new_remote(), NULL,
                                &x, &e3),
                     -1);
    assert_int_equal(e1.kind, ERR_UNAUTH);
    assert_string_equal(e1.code, "invalid_credentials");
    assert_string_equal(e1.code, e2.code);
    assert_string_equal(e1.msg, e2.msg);
    assert_string_equal(e1.code, e3.code);
    assert_string_equal(e1.msg, e3.msg);
    assert_int_equal(e1.kind, e2.kind);
    /* the password in another case, empty, huge, invalid UTF-8 */
    login_fails(g_slug, "layla", "RIVER-STONE-LANTERN-42", NULL, new_remote(), ERR_UNAUTH,
                "invalid_credentials");
    login_fails(g_slug, "layla", "", NULL, new_remote(), ERR_UNAUTH, "invalid_credentials");
    char huge[5000];
    memset(huge, 'p', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    login_fails(g_slug, "layla", huge, NULL, new_remote(), ERR_UNAUTH, "invalid_credentials");
    login_fails(g_slug, "layla", "\xff\xfe", NULL, new_remote(), ERR_UNAUTH,
                "invalid_credentials");
    login_fails(g_slug, "LAYLA", PW, NULL, new_remote(), ERR_UNAUTH, "invalid_credentials");
    login_fails(g_slug, "", PW, NULL, new_remote(), ERR_UNAUTH, "invalid_credentials");
    login_fails("", "", "", NULL, NULL, ERR_UNAUTH, "invalid_credentials");
    /* the user of the same name in another organization does not log in here */
    char other_id[40];
    make_user(g_other, "omar", "case_worker", PW, other_id);
    login_fails(g_slug, "omar", PW, NULL, new_remote(), ERR_UNAUTH, "invalid_credentials");
    /* failures and successes are audited */
    assert_true(query_int("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login'"
                          " AND outcome = 'failed' AND org_id = $1",
                          g_org) >= 1);
    assert_true(query_int("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login'"
                          " AND outcome = 'failed' AND org_id = ''",
                          NULL) >= 1);
    assert_true(query_int("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login'"
                          " AND outcome = 'ok' AND actor_id = $1",
                          id) >= 2);
    /* the audit never holds the password */
    assert_int_equal(query_int("SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%lantern%'",
                               NULL),
                     0);
    /* a deactivated organization cannot log in */
    run_it("UPDATE organizations SET active = $1 WHERE id = $2", 0, g_other);
    struct err e;
    err_clear(&e);
    assert_int_equal(auth_login(g_db, g_other_slug, "omar", PW, NULL, false, NULL, NULL, &x, &e),
                     -1);
    assert_string_equal(e.code, "invalid_credentials");
    run_it("UPDATE organizations SET active = $1 WHERE id = $2", 1, g_other);
    err_clear(&e);
    assert_int_equal(auth_login(g_db, g_other_slug, "omar", PW, NULL, false, NULL, NULL, &x, &e),
                     0);
}

static void test_throttling(void **state)
{
    (void)state;
    int saved = g_config.login_max_failures;
    g_config.login_max_failures = 3;
    char id[40];
    make_user(g_org, "karim", "case_worker", PW, id);
    const char *remote = "203.0.113.50";
    for (int i = 0; i < 3; i++) {
        login_fails(g_slug, "karim", PW2, NULL, remote, ERR_UNAUTH, "invalid_credentials");
    }
    /* now even the right password is refused, from any address */
    login_fails(g_slug, "karim", PW, NULL, remote, ERR_LIMIT, "too_many_requests");
    login_fails(g_slug, "karim", PW, NULL, new_remote(), ERR_LIMIT, "too_many_requests");
    assert_true(query_int("SELECT COUNT(*) FROM audit_log WHERE actor_id = $1"
                          " AND outcome = 'denied' AND detail = 'throttled'",
                          id) >= 1);
    /* other accounts are not affected from other addresses */
    char id2[40];
    make_user(g_org, "nadia", "case_worker", PW, id2);
    struct login_result r;
    login_ok("nadia", PW, NULL, &r);
    /* the window passes: the failures age out and the right password works again */
    char key[200];
    snprintf(key, sizeof(key), "acct:%s/karim", g_slug);
    run_it("UPDATE login_failures SET at_ms = at_ms - $1 WHERE key = $2",
           (int64_t)g_config.login_window_min * 60000 + 1000, key);
    login_ok("karim", PW, NULL, &r);
    /* and a good login cleared the account's count */
    assert_int_equal(query_int("SELECT COUNT(*) FROM login_failures WHERE key = $1", key), 0);
    /* unknown accounts are throttled too */
    for (int i = 0; i < 3; i++) {
        login_fails(g_slug, "ghost", PW, NULL, new_remote(), ERR_UNAUTH, "invalid_credentials");
    }
    login_fails(g_slug, "ghost", PW, NULL, new_remote(), ERR_LIMIT, "too_many_requests");
    /* one address trying many accounts: 4 x the limit */
    const char *spray = "203.0.113.99";
    for (int i = 0; i < 12; i++) {
        char name[32];
        snprintf(name, sizeof(name), "spray%d", i);
        login_fails(g_slug, name, PW, NULL, spray, ERR_UNAUTH, "invalid_credentials");
    }
    login_fails(g_slug, "nadia", PW, NULL, spray, ERR_LIMIT, "too_many_requests");
    g_config.login_max_failures = saved;
}

/* Enrols a user's second factor; returns the secret in out. */
static void enrol_totp(struct actor *a, char secret[40])
{
    struct err e;
    err_clear(&e);
    assert_int_equal(user_totp_begin(g_db, a, secret, &e), 0);
    assert_int_equal(strlen(secret), 32);
    char code[7];
    code_now(secret, 0, code);
    if (user_totp_confirm(g_db, a, code, &e) != 0) {
        fail_msg("confirm: %s", e.msg);
    }
    assert_true(a->totp_enabled);
    assert_true(a->mfa_ok);
}

static void test_totp_enrolment(void **state)
{
    (void)state;
    char id[40];
    make_user(g_org, "huda", "admin", PW, id);
    struct login_result r;
    login_ok("huda", PW, NULL, &r);
    struct err e;
    err_clear(&e);
    /* confirm before begin */
    assert_int_equal(user_totp_confirm(g_db, &r.actor, "123456", &e), -1);
    assert_string_equal(e.code, "totp_not_started");
    assert_false(db_in_transaction(g_db));
    char secret[40];
    err_clear(&e);
    if (user_totp_begin(g_db, &r.actor, secret, &e) != 0) {
        fail_msg("begin: %s", e.msg);
    }
    /* pending only: login needs no code yet */
    struct login_result r2;
    login_ok("huda", PW, NULL, &r2);
    /* a wrong code, a malformed one */
    char code[7];
    code_now(secret, 5, code);
    err_clear(&e);
    assert_int_equal(user_totp_confirm(g_db, &r.actor, code, &e), -1);
    assert_string_equal(e.code, "invalid_totp");
    err_clear(&e);
    assert_int_equal(user_totp_confirm(g_db, &r.actor, "", &e), -1);
    assert_false(r.actor.totp_enabled);
    assert_false(db_in_transaction(g_db));
    /* a second begin replaces the pending secret: the first one's code no longer works */
    char secret2[40];
    assert_int_equal(user_totp_begin(g_db, &r.actor, secret2, &e), 0);
    assert_string_not_equal(secret, secret2);
    code_now(secret, 0, code);
    char code2[7];
    code_now(secret2, 0, code2);
    if (strcmp(code, code2) != 0) {
        err_clear(&e);
        assert_int_equal(user_totp_confirm(g_db, &r.actor, code, &e), -1);
    }
    err_clear(&e);
    assert_int_equal(user_totp_confirm(g_db, &r.actor, code2, &e), 0);
    assert_true(r.actor.totp_enabled);
    assert_int_equal(query_int("SELECT totp_enabled FROM users WHERE id = $1", id), 1);
    assert_int_equal(query_int("SELECT COUNT(*) FROM users WHERE id = $1 AND totp_pending IS NULL"
                               " AND totp_secret IS NOT NULL",
                               id),
                     1);
    /* sealed at rest: the base32 secret is not in the row */
    int found;
    struct db_stmt *s = db_row(g_db, &e, &found, "SELECT totp_secret FROM users WHERE id = $1",
                               "t", id);
    assert_non_null(s);
    assert_null(strstr(db_col_text(s, 0), secret2));
    db_done(s);
    /* confirming again without a new begin */
    err_clear(&e);
    assert_int_equal(user_totp_confirm(g_db, &r.actor, code2, &e), -1);
    assert_string_equal(e.code, "totp_not_started");
}

static void test_login_second_factor(void **state)
{
    (void)state;
    char id[40];
    make_user(g_org, "yusuf", "admin", PW, id);
    struct login_result r;
    login_ok("yusuf", PW, NULL, &r);
    int saved = g_config.login_max_failures;
    g_config.login_max_failures = 100; /* this test fails on purpose many times */
    char secret[40];
    enrol_totp(&r.actor, secret); /* uses the current step */
    int64_t used = query_int("SELECT totp_last_step FROM users WHERE id = $1", id);
    assert_true(used >= time_now_ms() / 1000 / 30 - 2);
    /* without a code: required */
    login_fails(g_slug, "yusuf", PW, NULL, new_remote(), ERR_UNAUTH, "totp_required");
    login_fails(g_slug, "yusuf", PW, "", new_remote(), ERR_UNAUTH, "totp_required");
    /* the code used for enrolment is spent: replay refused */
    char code[7];
    code_at(secret, used, code);
    login_fails(g_slug, "yusuf", PW, code, new_remote(), ERR_UNAUTH, "invalid_totp");
    login_fails(g_slug, "yusuf", PW, "000000x", new_remote(), ERR_UNAUTH, "invalid_totp");
    /* a wrong password with a code: still invalid_credentials, nothing about the code */
    code_at(secret, used + 1, code);
    login_fails(g_slug, "yusuf", PW2, code, new_remote(), ERR_UNAUTH, "invalid_credentials");
    /* mfa_later: a session waiting for the second factor */
    struct err e;
    err_clear(&e);
    struct login_result p;
    assert_int_equal(auth_login(g_db, g_slug, "yusuf", PW, NULL, true, new_remote(), "rid", &p,
                                &e),
                     0);
    assert_true(p.mfa_pending);
    assert_false(p.actor.mfa_ok);
    assert_true(p.actor.totp_enabled);
    struct actor found;
    assert_int_equal(auth_session_find(g_db, p.token, &found, &e), 1);
    assert_false(found.mfa_ok);
    /* a wrong code, then the next step's code */
    err_clear(&e);
    assert_int_equal(auth_login_mfa(g_db, &found, "000000", &e), -1);
    assert_int_equal(e.kind, ERR_UNAUTH);
    assert_false(found.mfa_ok);
    code_at(secret, used + 1, code);
    err_clear(&e);
    if (auth_login_mfa(g_db, &found, code, &e) != 0) {
        fail_msg("login_mfa: %s", e.msg);
    }
    assert_true(found.mfa_ok);
    struct actor again;
    assert_int_equal(auth_session_find(g_db, p.token, &again, &e), 1);
    assert_true(again.mfa_ok);
    /* the same code once more, at login or at the second step: replay */
    login_fails(g_slug, "yusuf", PW, code, new_remote(), ERR_UNAUTH, "invalid_totp");
    struct login_result p2;
    err_clear(&e);
    assert_int_equal(auth_login(g_db, g_slug, "yusuf", PW, NULL, true, new_remote(), NULL, &p2,
                                &e),
                     0);
    struct actor f2;
    assert_int_equal(auth_session_find(g_db, p2.token, &f2, &e), 1);
    err_clear(&e);
    assert_int_equal(auth_login_mfa(g_db, &f2, code, &e), -1);
    /* a password login with the next unused code works directly */
    code_at(secret, used + 2, code);
    struct login_result d;
    err_clear(&e);
    if (auth_login(g_db, g_slug, "yusuf", PW, code, false, new_remote(), NULL, &d, &e) != 0) {
        /* the clock may have moved two steps since enrolment; then +2 is out of the window */
        assert_string_equal(e.code, "invalid_totp");
    } else {
        assert_false(d.mfa_pending);
        assert_true(d.actor.mfa_ok);
    }
    /* an admin resets the second factor: login without a code again */
    struct actor sys;
    actor_system(&sys, g_org);
    err_clear(&e);
    assert_int_equal(user_reset_totp(g_db, &sys, id, &e), 0);
    assert_int_equal(auth_session_find(g_db, p.token, &again, &e), 0); /* sessions ended */
    struct login_result z;
    login_ok("yusuf", PW, NULL, &z);
    assert_false(z.mfa_pending);
    g_config.login_max_failures = saved;
}

/* --------------------------------------------------------------- sessions */

static void test_session_find(void **state)
{
    (void)state;
    char id[40];
    make_user(g_org, "rana", "auditor", PW, id);
    struct login_result r;
    login_ok("rana", PW, NULL, &r);
    struct actor a;
    struct err e;
    err_clear(&e);
    assert_int_equal(auth_session_find(g_db, r.token, &a, &e), 1);
    assert_string_equal(a.user_id, id);
    assert_string_equal(a.role, "auditor");
    assert_string_equal(a.csrf, r.actor.csrf);
    assert_string_equal(a.session_hash, r.actor.session_hash);
    assert_true(a.mfa_ok);
    assert_false(a.via_bearer);
    /* junk tokens */
    static const char *junk[] = {"", "short", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                 "مرحبا-مرحبا-مرحبا-مرحبا-مرحبا", "\xff\xfe\xfd"};
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        assert_int_equal(auth_session_find(g_db, junk[i], &a, &e), 0);
    }
    assert_int_equal(auth_session_find(g_db, NULL, &a, &e), 0);
    char huge[300];
    memset(huge, 'A', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    assert_int_equal(auth_session_find(g_db, huge, &a, &e), 0);
    /* the session hash itself is not a token */
    assert_int_equal(auth_session_find(g_db, r.actor.session_hash, &a, &e), 0);

    /* activity within the idle time keeps it and moves last_seen */
    int64_t now = time_now_ms();
    run_it("UPDATE sessions SET last_seen_ms = $1 WHERE token_hash = $2", now - 5 * 60000,
           r.actor.session_hash);
    assert_int_equal(auth_session_find(g_db, r.token, &a, &e), 1);
    assert_true(query_int("SELECT last_seen_ms FROM sessions WHERE token_hash = $1",
                          r.actor.session_hash) >= now);
    /* idle longer than session_idle_min: ended and removed */
    run_it("UPDATE sessions SET last_seen_ms = $1 WHERE token_hash = $2",
           now - (int64_t)g_config.session_idle_min * 60000 - 1000, r.actor.session_hash);
    assert_int_equal(auth_session_find(g_db, r.token, &a, &e), 0);
    assert_false(err_failed(&e));
    assert_int_equal(query_int("SELECT COUNT(*) FROM sessions WHERE token_hash = $1",
                               r.actor.session_hash),
                     0);
    assert_int_equal(auth_session_find(g_db, r.token, &a, &e), 0);
    assert_true(query_int("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.session_expired'"
                          " AND detail = 'idle' AND actor_id = $1",
                          id) >= 1);
    /* past the absolute limit while active: ended */
    login_ok("rana", PW, NULL, &r);
    run_it("UPDATE sessions SET expires_ms = $1 WHERE token_hash = $2", time_now_ms() - 1,
           r.actor.session_hash);
    assert_int_equal(auth_session_find(g_db, r.token, &a, &e), 0);
    assert_int_equal(query_int("SELECT COUNT(*) FROM sessions WHERE token_hash = $1",
                               r.actor.session_hash),
                     0);
    /* the absolute limit is session_absolute_h after login */
    login_ok("rana", PW, NULL, &r);
    int64_t created = query_int("SELECT created_ms FROM sessions WHERE token_hash = $1",
                                r.actor.session_hash);
    assert_int_equal(query_int("SELECT expires_ms FROM sessions WHERE token_hash = $1",
                               r.actor.session_hash) -
                         created,
                     (int64_t)g_config.session_absolute_h * 3600000);
    /* a deactivated user's session is not found */
    run_it("UPDATE users SET active = $1 WHERE id = $2", 0, id);
    assert_int_equal(auth_session_find(g_db, r.token, &a, &e), 0);
    run_it("UPDATE users SET active = $1 WHERE id = $2", 1, id);
    assert_int_equal(auth_session_find(g_db, r.token, &a, &e), 1);
}

static void test_logout(void **state)
{
    (void)state;
    char id[40];
    make_user(g_org, "samir", "case_worker", PW, id);
    struct login_result r, r2;
    login_ok("samir", PW, NULL, &r);
    login_ok("samir", PW, NULL, &r2);
    struct err e;
    err_clear(&e);
    struct actor a;
    assert_int_equal(auth_session_find(g_db, r.token, &a, &e), 1);
    assert_int_equal(auth_logout(g_db, &a, &e), 0);
    assert_int_equal(auth_session_find(g_db, r.token, &a, &e), 0);
    /* the other session lives on */
    assert_int_equal(auth_session_find(g_db, r2.token, &a, &e), 1);
    /* an actor without a session (API token) cannot log out */
    struct actor t = a;
    t.session_hash[0] = '\0';
    err_clear(&e);
    assert_int_equal(auth_logout(g_db, &t, &e), -1);
    assert_string_equal(e.code, "not_a_session");
    assert_true(query_int("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.logout'"
                          " AND actor_id = $1",
                          id) == 1);
}

/* ----------------------------------------------------------------- tokens */

static void test_tokens(void **state)
{
    (void)state;
    char admin_id[40], bot_id[40], cw_id[40], other_id[40];
    make_user(g_org, "tok-admin", "admin", PW, admin_id);
    make_user(g_org, "tok-bot", "auditor", PW, bot_id);
    make_user(g_org, "tok-cw", "case_worker", PW, cw_id);
    make_user(g_other, "tok-other", "auditor", PW, other_id);
    struct login_result adm, cw;
    login_ok("tok-admin", PW, NULL, &adm);
    login_ok("tok-cw", PW, NULL, &cw);
    char tid[40], tok[64];
    struct err e;
    err_clear(&e);
    /* refusals */
    assert_int_equal(token_create(g_db, &cw.actor, bot_id, "reports", tid, tok, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_int_equal(token_create(g_db, &adm.actor, bot_id, "", tid, tok, &e), -1);
    assert_string_equal(e.field, "name");
    err_clear(&e);
    assert_int_equal(token_create(g_db, &adm.actor, "", "reports", tid, tok, &e), -1);
    assert_string_equal(e.field, "user_id");
    err_clear(&e);
    assert_int_equal(token_create(g_db, &adm.actor, other_id, "reports", tid, tok, &e), -1);
    assert_string_equal(e.field, "user_id");
    assert_false(db_in_transaction(g_db));
    /* created */
    err_clear(&e);
    assert_int_equal(token_create(g_db, &adm.actor, bot_id, "التقارير reports", tid, tok, &e), 0);
    assert_int_equal(strncmp(tok, "sanad_", 6), 0);
    assert_int_equal(strlen(tok), 6 + 43);
    assert_true(uuid_valid(tid));
    struct actor a;
    assert_int_equal(auth_token_find(g_db, tok, &a, &e), 1);
    assert_string_equal(a.user_id, bot_id);
    assert_string_equal(a.role, "auditor");
    assert_true(a.via_bearer);
    assert_true(a.mfa_ok);
    assert_string_equal(a.session_hash, "");
    /* a session token is not an API token and the other way round */
    assert_int_equal(auth_token_find(g_db, adm.token, &a, &e), 0);
    assert_int_equal(auth_session_find(g_db, tok, &a, &e), 0);
    assert_int_equal(auth_token_find(g_db, "sanad_", &a, &e), 0);
    assert_int_equal(auth_token_find(g_db, "", &a, &e), 0);
    assert_int_equal(auth_token_find(g_db, NULL, &a, &e), 0);
    char wrong[64];
    snprintf(wrong, sizeof(wrong), "%s", tok);
    wrong[10] = wrong[10] == 'A' ? 'B' : 'A';
    assert_int_equal(auth_token_find(g_db, wrong, &a, &e), 0);
    /* the list shows it without its secret */
    json_t *list = token_list(g_db, &adm.actor, &e);
    assert_non_null(list);
    char *dump = json_dumps(list, 0);
    assert_non_null(strstr(dump, tid));
    assert_non_null(strstr(dump, "tok-bot"));
    assert_null(strstr(dump, tok + 6));
    free(dump);
    json_decref(list);
    err_clear(&e);
    assert_null(token_list(g_db, &cw.actor, &e));
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    /* revoke: not by a case worker, not another organization's admin; then gone */
    err_clear(&e);
    assert_int_equal(token_revoke(g_db, &cw.actor, tid, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    struct actor other_sys;
    actor_system(&other_sys, g_other);
    struct actor foreign = adm.actor;
    snprintf(foreign.org_id, sizeof(foreign.org_id), "%s", g_other);
    err_clear(&e);
    assert_int_equal(token_revoke(g_db, &foreign, tid, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    assert_int_equal(auth_token_find(g_db, tok, &a, &e), 1);
    err_clear(&e);
    assert_int_equal(token_revoke(g_db, &adm.actor, tid, &e), 0);
    assert_int_equal(auth_token_find(g_db, tok, &a, &e), 0);
    err_clear(&e);
    assert_int_equal(token_revoke(g_db, &adm.actor, tid, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    assert_int_equal(token_revoke(g_db, &adm.actor, "no-such-id", &e), -1);
    /* a token of a deactivated user stops working */
    err_clear(&e);
    assert_int_equal(token_create(g_db, &adm.actor, bot_id, "second", tid, tok, &e), 0);
    assert_int_equal(user_set_active(g_db, &adm.actor, bot_id, false, &e), 0);
    assert_int_equal(auth_token_find(g_db, tok, &a, &e), 0);
    assert_int_equal(user_set_active(g_db, &adm.actor, bot_id, true, &e), 0);
    assert_int_equal(auth_token_find(g_db, tok, &a, &e), 1);
}

/* ------------------------------------------------------- roles and status */

static void test_role_and_active(void **state)
{
    (void)state;
    char admin_id[40], uid[40], other_id[40];
    make_user(g_org, "mgr", "admin", PW, admin_id);
    make_user(g_org, "worker", "case_worker", PW, uid);
    make_user(g_other, "elsewhere", "case_worker", PW, other_id);
    struct login_result adm, w;
    login_ok("mgr", PW, NULL, &adm);
    login_ok("worker", PW, NULL, &w);
    struct err e;
    err_clear(&e);
    /* own account refused */
    assert_int_equal(user_set_role(g_db, &adm.actor, admin_id, "donor", &e), -1);
    assert_string_equal(e.code, "own_account");
    err_clear(&e);
    assert_int_equal(user_set_active(g_db, &adm.actor, admin_id, false, &e), -1);
    assert_string_equal(e.code, "own_account");
    assert_false(db_in_transaction(g_db));
    assert_int_equal(query_int("SELECT active FROM users WHERE id = $1", admin_id), 1);
    /* bad role, no permission, another organization's user, no such user */
    err_clear(&e);
    assert_int_equal(user_set_role(g_db, &adm.actor, uid, "superuser", &e), -1);
    assert_string_equal(e.field, "role");
    err_clear(&e);
    assert_int_equal(user_set_role(g_db, &w.actor, admin_id, "donor", &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_int_equal(user_set_role(g_db, &adm.actor, other_id, "donor", &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    err_clear(&e);
    assert_int_equal(user_set_active(g_db, &adm.actor, "nobody", false, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    assert_int_equal(query_int("SELECT active FROM users WHERE id = $1", other_id), 1);
    /* role change: takes effect now, the user's sessions end */
    err_clear(&e);
    assert_int_equal(user_set_role(g_db, &adm.actor, uid, "supervisor", &e), 0);
    struct actor a;
    assert_int_equal(auth_session_find(g_db, w.token, &a, &e), 0);
    login_ok("worker", PW, NULL, &w);
    assert_string_equal(w.actor.role, "supervisor");
    assert_int_equal(query_int("SELECT COUNT(*) FROM audit_log WHERE action = 'user.role'"
                               " AND entity_id = $1 AND detail = 'role=supervisor'",
                               uid),
                     1);
    /* deactivation ends sessions and logins; reactivation allows them again */
    struct login_result w2;
    login_ok("worker", PW, NULL, &w2);
    err_clear(&e);
    assert_int_equal(user_set_active(g_db, &adm.actor, uid, false, &e), 0);
    assert_int_equal(query_int("SELECT COUNT(*) FROM sessions WHERE user_id = $1", uid), 0);
    assert_int_equal(auth_session_find(g_db, w.token, &a, &e), 0);
    assert_int_equal(auth_session_find(g_db, w2.token, &a, &e), 0);
    login_fails(g_slug, "worker", PW, NULL, new_remote(), ERR_UNAUTH, "invalid_credentials");
    err_clear(&e);
    assert_int_equal(user_set_active(g_db, &adm.actor, uid, true, &e), 0);
    login_ok("worker", PW, NULL, &w);
    /* user_list and user_get */
    json_t *list = user_list(g_db, &adm.actor, &e);
    assert_non_null(list);
    char *dump = json_dumps(list, 0);
    assert_non_null(strstr(dump, "\"worker\""));
    assert_null(strstr(dump, "elsewhere"));
    assert_null(strstr(dump, "argon2"));
    free(dump);
    json_decref(list);
    json_t *one = user_get(g_db, &adm.actor, other_id, &e);
    assert_null(one);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    struct actor donor = w.actor;
    snprintf(donor.role, sizeof(donor.role), "donor");
    err_clear(&e);
    assert_null(user_list(g_db, &donor, &e));
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    one = user_get(g_db, &donor, uid, &e); /* one's own record is readable */
    assert_non_null(one);
    json_decref(one);
    err_clear(&e);
    assert_null(user_get(g_db, &donor, admin_id, &e));
    assert_int_equal(e.kind, ERR_FORBIDDEN);
}

static void test_change_password(void **state)
{
    (void)state;
    char id[40];
    make_user(g_org, "mona", "case_worker", PW, id);
    struct login_result cur, other;
    login_ok("mona", PW, NULL, &cur);
    login_ok("mona", PW, NULL, &other);
    struct err e;
    err_clear(&e);
    assert_int_equal(user_change_password(g_db, &cur.actor, PW2, PW2, &e), -1);
    assert_string_equal(e.code, "wrong_password");
    assert_string_equal(e.field, "current_password");
    err_clear(&e);
    assert_int_equal(user_change_password(g_db, &cur.actor, "", PW2, &e), -1);
    assert_string_equal(e.field, "current_password");
    err_clear(&e);
    assert_int_equal(user_change_password(g_db, &cur.actor, PW, "tooshort", &e), -1);
    assert_string_equal(e.code, "password_too_short");
    err_clear(&e);
    assert_int_equal(user_change_password(g_db, &cur.actor, PW, "MONA", &e), -1);
    err_clear(&e);
    assert_int_equal(user_change_password(g_db, &cur.actor, PW, NULL, &e), -1);
    err_clear(&e);
    assert_int_equal(user_change_password(g_db, &cur.actor, PW, "letmeinletmein", &e), -1);
    assert_string_equal(e.code, "password_common");
    /* nothing changed so far */
    struct actor a;
    assert_int_equal(auth_session_find(g_db, other.token, &a, &e), 1);
    err_clear(&e);
    assert_int_equal(user_change_password(g_db, &cur.actor, PW, PW2, &e), 0);
    assert_false(db_in_transaction(g_db));
    /* this session kept, the other ended */
    assert_int_equal(auth_session_find(g_db, cur.token, &a, &e), 1);
    assert_int_equal(auth_session_find(g_db, other.token, &a, &e), 0);
    login_fails(g_slug, "mona", PW, NULL, new_remote(), ERR_UNAUTH, "invalid_credentials");
    struct login_result n;
    login_ok("mona", PW2, NULL, &n);
    assert_int_equal(query_int("SELECT COUNT(*) FROM audit_log WHERE action = 'user.password'"
                               " AND actor_id = $1",
                               id),
                     1);
    /* the language */
    err_clear(&e);
    assert_int_equal(user_set_lang(g_db, &n.actor, "fr", &e), -1);
    assert_int_equal(user_set_lang(g_db, &n.actor, NULL, &e), -1);
    err_clear(&e);
    assert_int_equal(user_set_lang(g_db, &n.actor, "en", &e), 0);
    login_ok("mona", PW2, NULL, &n);
    assert_string_equal(n.actor.lang, "en");
}

/* A service whose audit entry cannot be written does nothing at all. */
static void test_audit_failure_rolls_back(void **state)
{
    (void)state;
    int64_t head = query_int("SELECT seq FROM audit_heads WHERE org_id = $1", g_org);
    assert_true(head > 0);
    /* a stray row where the next entry must go */
    struct err e;
    err_clear(&e);
    assert_int_equal(db_run(g_db, &e,
                            "INSERT INTO audit_log (org_id, seq, at, actor_id, actor_name, action,"
                            " entity, entity_id, outcome, remote, request_id, detail, prev_hash,"
                            " hash) VALUES ($1, $2, 'x', '', '', '', '', '', '', '', '', '', '',"
                            " '')",
                            "ti", g_org, head + 1),
                     1);
    struct actor sys;
    actor_system(&sys, g_org);
    struct user_new u = {"blocked", "Blocked", NULL, "case_worker", "en", PW};
    char id[40];
    err_clear(&e);
    assert_int_equal(user_create(g_db, &sys, g_org, &u, id, NULL, &e), -1);
    assert_false(db_in_transaction(g_db));
    assert_int_equal(query_int("SELECT COUNT(*) FROM users WHERE username = 'blocked'", NULL), 0);
    /* a login's session is not created either */
    char uid[40];
    err_clear(&e);
    assert_int_equal(db_run(g_db, &e, "DELETE FROM audit_log WHERE org_id = $1 AND seq = $2",
                            "ti", g_org, head + 1),
                     1);
    make_user(g_org, "blocked", "case_worker", PW, uid);
    head = query_int("SELECT seq FROM audit_heads WHERE org_id = $1", g_org);
    assert_int_equal(db_run(g_db, &e,
                            "INSERT INTO audit_log (org_id, seq, at, actor_id, actor_name, action,"
                            " entity, entity_id, outcome, remote, request_id, detail, prev_hash,"
                            " hash) VALUES ($1, $2, 'x', '', '', '', '', '', '', '', '', '', '',"
                            " '')",
                            "ti", g_org, head + 1),
                     1);
    struct login_result r;
    err_clear(&e);
    assert_int_equal(auth_login(g_db, g_slug, "blocked", PW, NULL, false, new_remote(), NULL, &r,
                                &e),
                     -1);
    assert_int_equal(query_int("SELECT COUNT(*) FROM sessions WHERE user_id = $1", uid), 0);
    assert_false(db_in_transaction(g_db));
    err_clear(&e);
    assert_int_equal(db_run(g_db, &e, "DELETE FROM audit_log WHERE org_id = $1 AND seq = $2",
                            "ti", g_org, head + 1),
                     1);
    /* and the log is intact afterwards */
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_int_equal(audit_verify(g_db, f, &e), 0);
    fclose(f);
    free(out);
}

static void test_token_helpers(void **state)
{
    (void)state;
    char a[64], b[64], h[65];
    auth_new_token("x_", a, sizeof(a));
    auth_new_token("x_", b, sizeof(b));
    assert_int_equal(strlen(a), 45);
    assert_string_not_equal(a, b);
    assert_int_equal(strspn(a + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                                   "-_"),
                     43);
    auth_token_hash("abc", h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    auth_token_hash("", h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    char small[8];
    auth_new_token("prefix_", small, sizeof(small)); /* cut, terminated */
    assert_int_equal(strlen(small), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password_policy),
        cmocka_unit_test(test_password_hash),
        cmocka_unit_test(test_authz_table),
        cmocka_unit_test(test_authz_unknown),
        cmocka_unit_test(test_token_helpers),
        cmocka_unit_test(test_org_create),
        cmocka_unit_test(test_user_create_validation),
        cmocka_unit_test(test_invitation),
        cmocka_unit_test(test_login),
        cmocka_unit_test(test_throttling),
        cmocka_unit_test(test_totp_enrolment),
        cmocka_unit_test(test_login_second_factor),
        cmocka_unit_test(test_session_find),
        cmocka_unit_test(test_logout),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_role_and_active),
        cmocka_unit_test(test_change_password),
        cmocka_unit_test(test_audit_failure_rolls_back),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
