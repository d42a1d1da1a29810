/*
 * users.c: organizations, accounts, invitations, roles, second-factor
 * enrolment and API tokens. Every change is audited in its transaction.
 */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/authz.h"
#include "auth/password.h"
#include "auth/totp.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "keys/keys.h"
#include "core/banned.h"

#define INVITE_DAYS 7

/* True when s has only characters from allowed and a length in [min, max]. */
static bool ident_valid(const char *s, const char *allowed, size_t min, size_t max)
{
    size_t n = strlen(s);
    return n >= min && n <= max && strspn(s, allowed) == n;
}

/* Ends a failed write transaction and passes on -1. */
static int fail(struct db *db)
{
    db_rollback(db);
    return -1;
}

/* Checks a free-text field: present when required, valid UTF-8, at most max characters. */
static int check_text(const char *v, const char *field, size_t max, bool required, struct err *e)
{
    if (!v || text_blank(v)) {
        if (required) {
            return err_set(e, ERR_INVALID, "required", field, "'%s' is required", field);
        }
        return 0;
    }
    size_t n = strlen(v);
    if (!utf8_valid(v, n)) {
        return err_set(e, ERR_INVALID, "invalid_utf8", field, "'%s' is not valid UTF-8", field);
    }
    if (utf8_length(v, n) > max) {
        return err_set(e, ERR_INVALID, "too_long", field, "'%s' is longer than %zu characters",
                       field, max);
    }
    return 0;
}

int org_find(struct db *db, const char *slug, char org_id_out[40], struct err *e)
{
    int found;
    struct db_stmt *s =
        db_row(db, e, &found, "SELECT id FROM organizations WHERE slug = $1", "t", slug);
    if (s) {
        snprintf(org_id_out, 40, "%s", db_col_text(s, 0));
        db_done(s);
    }
    return found;
}

int org_create(struct db *db, const struct actor *a, const char *slug, const char *name,
               char org_id_out[40], struct err *e)
{
    if (!a->system) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "only the operator adds organizations");
    }
    if (!slug || !ident_valid(slug, "abcdefghijklmnopqrstuvwxyz0123456789-", 2, 40)) {
        return err_set(e, ERR_INVALID, "invalid_field", "slug",
                       "'slug' must be 2 to 40 of a-z, 0-9 and '-'");
    }
    if (check_text(name, "name", 200, true, e) < 0) {
        return -1;
    }
    char id[UUID_STR_LEN], at[32];
    uuid_v7(id);
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    struct actor who = *a;
    snprintf(who.org_id, sizeof(who.org_id), "%s", id);
    if (db_run(db, e,
               "INSERT INTO organizations (id, slug, name, active, created_at)"
               " VALUES ($1, $2, $3, 1, $4)",
               "tttt", id, slug, name, at) < 0 ||
        actor_audit(db, &who, "org.create", "organization", id, "ok", slug, e) < 0 ||
        db_commit(db, e) < 0) {
        if (e->kind == ERR_CONFLICT) {
            err_set(e, ERR_CONFLICT, "unique_violation", "slug",
                    "an organization with slug '%s' exists", slug);
        }
        return fail(db);
    }
    snprintf(org_id_out, 40, "%s", id);
    return 0;
}

int user_create(struct db *db, const struct actor *a, const char *org_id,
                const struct user_new *u, char user_id_out[40], char invite_out[64],
                struct err *e)
{
    const char *org = a->system ? org_id : a->org_id;
    if (!actor_can(a, "users.manage")) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to manage users");
    }
    if (!u->username || !*u->username) {
        return err_set(e, ERR_INVALID, "required", "username", "'username' is required");
    }
    if (!ident_valid(u->username, "abcdefghijklmnopqrstuvwxyz0123456789._-", 2, 64)) {
        return err_set(e, ERR_INVALID, "invalid_field", "username",
                       "'username' must be 2 to 64 of a-z, 0-9, '.', '_' and '-'");
    }
    if (check_text(u->display_name, "display_name", 120, true, e) < 0 ||
        check_text(u->email, "email", 200, false, e) < 0) {
        return -1;
    }
    if (u->email && *u->email && !strchr(u->email, '@')) {
        return err_set(e, ERR_INVALID, "invalid_field", "email", "'email' is not an address");
    }
    if (!u->role || !authz_role_valid(u->role)) {
        return err_set(e, ERR_INVALID, "invalid_field", "role", "'role' is not a known role");
    }
    const char *lang = u->lang && *u->lang ? u->lang : "ar";
    if (strcmp(lang, "ar") != 0 && strcmp(lang, "en") != 0) {
        return err_set(e, ERR_INVALID, "invalid_field", "lang", "'lang' must be ar or en");
    }
    char hash[PASSWORD_HASH_MAX];
    char invite_hash[72] = "";
    if (u->password) {
        if (password_check_policy(u->password, u->username, "password", e) < 0 ||
            password_hash(u->password, hash, e) < 0) {
            return -1;
        }
    } else {
        if (!invite_out) {
            return err_set(e, ERR_INVALID, "required", "password", "'password' is required");
        }
        auth_new_token("inv_", invite_out, 64);
        auth_token_hash(invite_out, invite_hash);
    }
    char id[UUID_STR_LEN], at[32];
    uuid_v7(id);
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    char detail[96];
    snprintf(detail, sizeof(detail), "role=%s%s", u->role, u->password ? "" : " invited");
    if (db_run(db, e,
               "INSERT INTO users (id, org_id, username, display_name, email, role, password_hash,"
               " lang, active, invite_hash, invite_expires_ms, created_at, updated_at)"
               " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $11, $11)",
               "tttttttttit", id, org, u->username, u->display_name,
               u->email && *u->email ? u->email : NULL, u->role, u->password ? hash : NULL, lang,
               u->password ? NULL : invite_hash,
               u->password ? (int64_t)0 : time_now_ms() + INVITE_DAYS * 86400000LL, at) < 0) {
        if (e->kind == ERR_CONFLICT) {
            err_set(e, ERR_CONFLICT, "unique_violation", "username",
                    "the username '%s' is taken", u->username);
        }
        return fail(db);
    }
    struct actor who = *a;
    if (a->system) {
        snprintf(who.org_id, sizeof(who.org_id), "%s", org);
    }
    if (actor_audit(db, &who, "user.create", "user", id, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    snprintf(user_id_out, 40, "%s", id);
    return 0;
}

int user_invite_find(struct db *db, const char *token, char org_slug[64], char username[64],
                     struct err *e)
{
    char h[72];
    auth_token_hash(token, h);
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT o.slug, u.username FROM users u JOIN organizations o"
                               " ON o.id = u.org_id WHERE u.invite_hash = $1"
                               " AND u.invite_expires_ms > $2 AND u.active = 1",
                               "ti", h, time_now_ms());
    if (s) {
        snprintf(org_slug, 64, "%s", db_col_text(s, 0));
        snprintf(username, 64, "%s", db_col_text(s, 1));
        db_done(s);
    }
    return found;
}

int user_accept_invite(struct db *db, const char *token, const char *password,
                       const char *remote, struct err *e)
{
    char h[72];
    auth_token_hash(token, h);
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT u.id, u.org_id, o.slug, u.username FROM users u"
                               " JOIN organizations o ON o.id = u.org_id"
                               " WHERE u.invite_hash = $1 AND u.invite_expires_ms > $2"
                               " AND u.active = 1",
                               "ti", h, time_now_ms());
    if (!s) {
        db_rollback(db);
        return found < 0 ? -1
                         : err_set(e, ERR_NOT_FOUND, "invite_invalid", NULL,
                                   "this invitation is unknown, used or expired");
    }
    struct actor who;
    memset(&who, 0, sizeof(who));
    snprintf(who.user_id, sizeof(who.user_id), "%s", db_col_text(s, 0));
    snprintf(who.org_id, sizeof(who.org_id), "%s", db_col_text(s, 1));
    snprintf(who.org_slug, sizeof(who.org_slug), "%s", db_col_text(s, 2));
    snprintf(who.username, sizeof(who.username), "%s", db_col_text(s, 3));
    db_done(s);
    who.remote = remote;
    char hash[PASSWORD_HASH_MAX];
    char at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (password_check_policy(password, who.username, "password", e) < 0 ||
        password_hash(password, hash, e) < 0 ||
        db_run(db, e,
               "UPDATE users SET password_hash = $1, invite_hash = NULL, invite_expires_ms = NULL,"
               " updated_at = $2 WHERE id = $3",
               "ttt", hash, at, who.user_id) < 0 ||
        actor_audit(db, &who, "user.invite_accept", "user", who.user_id, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

/* Appends one user row (id, username, display_name, email, role, lang, active,
 * totp_enabled, invited, created_at) as a JSON object. */
static json_t *user_json(struct db_stmt *s)
{
    return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:b, s:b, s:b, s:s}", "id",
                     db_col_text(s, 0), "username", db_col_text(s, 1), "display_name",
                     db_col_text(s, 2), "email", db_col_text(s, 3), "role", db_col_text(s, 4),
                     "lang", db_col_text(s, 5), "active", (int)db_col_int64(s, 6),
                     "totp_enabled", (int)db_col_int64(s, 7), "invited", (int)db_col_int64(s, 8),
                     "created_at", db_col_text(s, 9));
}

#define USER_COLUMNS                                                                              \
    "id, username, display_name, email, role, lang, active, totp_enabled,"                        \
    " CASE WHEN invite_hash IS NULL THEN 0 ELSE 1 END, created_at"

json_t *user_list(struct db *db, const struct actor *a, struct err *e)
{
    if (!actor_can(a, "users.read")) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to list users");
        return NULL;
    }
    struct db_stmt *s = db_query(db, e,
                                 "SELECT " USER_COLUMNS " FROM users WHERE org_id = $1"
                                 " ORDER BY active DESC, username",
                                 "t", a->org_id);
    if (!s) {
        return NULL;
    }
    json_t *arr = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_array_append_new(arr, user_json(s));
    }
    db_done(s);
    if (rc < 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

json_t *user_get(struct db *db, const struct actor *a, const char *user_id, struct err *e)
{
    if (!actor_can(a, "users.read") && strcmp(a->user_id, user_id) != 0) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to read users");
        return NULL;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT " USER_COLUMNS " FROM users WHERE id = $1 AND org_id = $2",
                               "tt", user_id, a->org_id);
    if (!s) {
        if (found == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such user");
        }
        return NULL;
    }
    json_t *j = user_json(s);
    db_done(s);
    return j;
}

/* Checks that user_id is another user of a's organization, inside the open
 * transaction; fills role_out with their role. */
static int target_user(struct db *db, const struct actor *a, const char *user_id,
                       char role_out[32], struct err *e)
{
    if (!actor_can(a, "users.manage")) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to manage users");
    }
    if (strcmp(a->user_id, user_id) == 0) {
        return err_set(e, ERR_CONFLICT, "own_account", "id",
                       "you cannot change your own role or status");
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found, "SELECT role FROM users WHERE id = $1 AND org_id = $2",
                               "tt", user_id, a->org_id);
    if (!s) {
        return found < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such user");
    }
    snprintf(role_out, 32, "%s", db_col_text(s, 0));
    db_done(s);
    return 0;
}

int user_set_role(struct db *db, const struct actor *a, const char *user_id, const char *role,
                  struct err *e)
{
    if (!role || !authz_role_valid(role)) {
        return err_set(e, ERR_INVALID, "invalid_field", "role", "'role' is not a known role");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    char old[32], at[32], detail[80];
    time_format_iso(time_now_ms(), at, sizeof(at));
    snprintf(detail, sizeof(detail), "role=%s", role);
    if (target_user(db, a, user_id, old, e) < 0 ||
        db_run(db, e, "UPDATE users SET role = $1, updated_at = $2 WHERE id = $3", "ttt", role, at,
               user_id) < 0 ||
        /* A new role takes effect now: end the user's sessions. */
        db_run(db, e, "DELETE FROM sessions WHERE user_id = $1", "t", user_id) < 0 ||
        actor_audit(db, a, "user.role", "user", user_id, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

int user_set_active(struct db *db, const struct actor *a, const char *user_id, bool active,
                    struct err *e)
{
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    char old[32], at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (target_user(db, a, user_id, old, e) < 0 ||
        db_run(db, e, "UPDATE users SET active = $1, updated_at = $2 WHERE id = $3", "btt", active,
               at, user_id) < 0 ||
        (!active &&
         db_run(db, e, "DELETE FROM sessions WHERE user_id = $1", "t", user_id) < 0) ||
        actor_audit(db, a, active ? "user.activate" : "user.deactivate", "user", user_id, "ok",
                    NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

int user_reset_totp(struct db *db, const struct actor *a, const char *user_id, struct err *e)
{
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    char old[32];
    if (target_user(db, a, user_id, old, e) < 0 ||
        db_run(db, e,
               "UPDATE users SET totp_enabled = 0, totp_secret = NULL, totp_pending = NULL"
               " WHERE id = $1",
               "t", user_id) < 0 ||
        db_run(db, e, "DELETE FROM sessions WHERE user_id = $1", "t", user_id) < 0 ||
        actor_audit(db, a, "user.totp_reset", "user", user_id, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

int user_change_password(struct db *db, const struct actor *a, const char *current,
                         const char *password, struct err *e)
{
    if (!current || !*current) {
        return err_set(e, ERR_INVALID, "required", "current_password",
                       "'current_password' is required");
    }
    if (password_check_policy(password ? password : "", a->username, "password", e) < 0) {
        return -1;
    }
    int found;
    char hash[PASSWORD_HASH_MAX] = "";
    if (db_begin(db, true, e) < 0) {
        return -1;
    }
    struct db_stmt *s =
        db_row(db, e, &found, "SELECT password_hash FROM users WHERE id = $1", "t", a->user_id);
    if (s) {
        snprintf(hash, sizeof(hash), "%s", db_col_text(s, 0) ? db_col_text(s, 0) : "");
        db_done(s);
    }
    db_rollback(db);
    if (found < 0) {
        return -1;
    }
    if (!password_verify(*hash ? hash : NULL, current)) {
        return err_set(e, ERR_INVALID, "wrong_password", "current_password",
                       "the current password is wrong");
    }
    char fresh[PASSWORD_HASH_MAX], at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (password_hash(password, fresh, e) < 0 || db_begin(db, false, e) < 0) {
        return -1;
    }
    if (db_run(db, e, "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3", "ttt",
               fresh, at, a->user_id) < 0 ||
        db_run(db, e, "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2", "tt",
               a->user_id, a->session_hash) < 0 ||
        actor_audit(db, a, "user.password", "user", a->user_id, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

int user_set_lang(struct db *db, const struct actor *a, const char *lang, struct err *e)
{
    if (!lang || (strcmp(lang, "ar") != 0 && strcmp(lang, "en") != 0)) {
        return err_set(e, ERR_INVALID, "invalid_field", "lang", "'lang' must be ar or en");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    if (db_run(db, e, "UPDATE users SET lang = $1 WHERE id = $2", "tt", lang, a->user_id) < 0 ||
        actor_audit(db, a, "user.lang", "user", a->user_id, "ok", lang, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

int user_totp_begin(struct db *db, const struct actor *a, char secret_out[40], struct err *e)
{
    char secret[TOTP_SECRET_B32];
    totp_new_secret(secret);
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    /* The secret is sealed at rest like other sensitive fields. */
    struct arena ar;
    arena_init(&ar);
    char *sealed = keys_seal(db, &ar, a->org_id, a->user_id, "totp", secret, strlen(secret), e);
    int rc = sealed ? (int)db_run(db, e, "UPDATE users SET totp_pending = $1 WHERE id = $2", "tt",
                                  sealed, a->user_id)
                    : -1;
    arena_release(&ar);
    if (rc < 0 ||
        actor_audit(db, a, "user.totp_begin", "user", a->user_id, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    snprintf(secret_out, 40, "%s", secret);
    return 0;
}

int user_totp_pending(struct db *db, const struct actor *a, char secret_out[40], struct err *e)
{
    secret_out[0] = '\0';
    int found;
    struct db_stmt *s = db_row(db, e, &found, "SELECT totp_pending FROM users WHERE id = $1", "t",
                               a->user_id);
    if (!s) {
        return found < 0 ? -1 : 0;
    }
    int rc = 0;
    const char *sealed = db_col_text(s, 0);
    if (sealed) {
        struct arena ar;
        arena_init(&ar);
        const char *open = keys_open(db, &ar, a->org_id, a->user_id, "totp", sealed, NULL, e);
        if (open) {
            snprintf(secret_out, 40, "%s", open);
        } else {
            rc = -1;
        }
        arena_release(&ar);
    }
    db_done(s);
    return rc < 0 ? -1 : (secret_out[0] ? 1 : 0);
}

int user_totp_confirm(struct db *db, struct actor *a, const char *code, struct err *e)
{
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found, "SELECT totp_pending FROM users WHERE id = $1", "t",
                               a->user_id);
    char pending[TOTP_SECRET_B32] = "";
    if (s) {
        struct arena ar;
        arena_init(&ar);
        const char *sealed = db_col_text(s, 0);
        const char *open = sealed ? keys_open(db, &ar, a->org_id, a->user_id, "totp", sealed, NULL,
                                              e)
                                  : "";
        if (open) {
            snprintf(pending, sizeof(pending), "%s", open);
        }
        arena_release(&ar);
        db_done(s);
        if (!open) {
            return fail(db);
        }
    }
    if (found < 0) {
        return fail(db);
    }
    if (!*pending) {
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "totp_not_started", "code",
                       "start the enrolment again: no pending secret");
    }
    int64_t step = totp_verify(pending, code, time_now_ms() / 1000, 0);
    if (step < 0) {
        db_rollback(db);
        return err_set(e, ERR_INVALID, "invalid_totp", "code", "the code is wrong");
    }
    if (db_run(db, e,
               "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_enabled = 1,"
               " totp_last_step = $1 WHERE id = $2",
               "it", step, a->user_id) < 0 ||
        (a->session_hash[0] &&
         db_run(db, e, "UPDATE sessions SET mfa_ok = 1 WHERE token_hash = $1", "t",
                a->session_hash) < 0) ||
        actor_audit(db, a, "user.totp_enable", "user", a->user_id, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    a->totp_enabled = true;
    a->mfa_ok = true;
    return 0;
}

int token_create(struct db *db, const struct actor *a, const char *user_id, const char *name,
                 char token_id_out[40], char token_out[64], struct err *e)
{
    if (!actor_can(a, "users.manage")) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to manage tokens");
    }
    if (check_text(name, "name", 100, true, e) < 0) {
        return -1;
    }
    if (!user_id || !*user_id) {
        return err_set(e, ERR_INVALID, "required", "user_id", "'user_id' is required");
    }
    char id[UUID_STR_LEN], at[32], hash[72];
    uuid_v7(id);
    time_format_iso(time_now_ms(), at, sizeof(at));
    auth_new_token("sanad_", token_out, 64);
    auth_token_hash(token_out, hash);
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT id FROM users WHERE id = $1 AND org_id = $2 AND active = 1",
                               "tt", user_id, a->org_id);
    if (!s) {
        db_rollback(db);
        return found < 0 ? -1 : err_set(e, ERR_INVALID, "invalid_field", "user_id", "no such user");
    }
    db_done(s);
    if (db_run(db, e,
               "INSERT INTO api_tokens (id, org_id, user_id, name, token_hash, created_by,"
               " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
               "ttttttt", id, a->org_id, user_id, name, hash, a->user_id, at) < 0 ||
        actor_audit(db, a, "token.create", "api_token", id, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    snprintf(token_id_out, 40, "%s", id);
    return 0;
}

json_t *token_list(struct db *db, const struct actor *a, struct err *e)
{
    if (!actor_can(a, "users.manage")) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to manage tokens");
        return NULL;
    }
    struct db_stmt *s = db_query(db, e,
                                 "SELECT t.id, t.name, u.username, t.created_at, t.revoked_at"
                                 " FROM api_tokens t JOIN users u ON u.id = t.user_id"
                                 " WHERE t.org_id = $1 ORDER BY t.created_at DESC",
                                 "t", a->org_id);
    if (!s) {
        return NULL;
    }
    json_t *arr = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s?, s:b}", "id",
                                             db_col_text(s, 0), "name", db_col_text(s, 1),
                                             "username", db_col_text(s, 2), "created_at",
                                             db_col_text(s, 3), "revoked_at", db_col_text(s, 4),
                                             "active", db_col_null(s, 4)));
    }
    db_done(s);
    if (rc < 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

int token_revoke(struct db *db, const struct actor *a, const char *token_id, struct err *e)
{
    if (!actor_can(a, "users.manage")) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to manage tokens");
    }
    char at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    int64_t n = db_run(db, e,
                       "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND org_id = $3"
                       " AND revoked_at IS NULL",
                       "ttt", at, token_id, a->org_id);
    if (n < 0) {
        return fail(db);
    }
    if (n == 0) {
        db_rollback(db);
        return err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such active token");
    }
    if (actor_audit(db, a, "token.revoke", "api_token", token_id, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}
