/*
 * session.c: logging in and out, sessions, bearer tokens, throttling.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/authz.h"
#include "auth/password.h"
#include "auth/totp.h"
#include "core/config.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "keys/keys.h"
#include "core/banned.h"

/* How often a session's last-seen time is written, at most (ms). */
#define TOUCH_INTERVAL_MS 60000
/* Failures from one address allowed per window, as a multiple of the per-account limit. */
#define ADDRESS_FACTOR 4

void actor_system(struct actor *a, const char *org_id)
{
    memset(a, 0, sizeof(*a));
    a->system = true;
    a->mfa_ok = true;
    snprintf(a->org_id, sizeof(a->org_id), "%s", org_id ? org_id : "");
    snprintf(a->username, sizeof(a->username), "cli");
    snprintf(a->display_name, sizeof(a->display_name), "command line");
    snprintf(a->role, sizeof(a->role), "admin");
    snprintf(a->lang, sizeof(a->lang), "en");
}

bool actor_can(const struct actor *a, const char *perm)
{
    return a->system || authz_allows(a->role, perm);
}

int actor_audit(struct db *db, const struct actor *a, const char *action, const char *entity,
                const char *entity_id, const char *outcome, const char *detail, struct err *e)
{
    char name[160];
    if (a->system) {
        snprintf(name, sizeof(name), "cli");
    } else {
        snprintf(name, sizeof(name), "%s/%s", a->org_slug, a->username);
    }
    struct audit_event ev = {
        .org_id = a->org_id,
        .actor_id = a->user_id,
        .actor_name = name,
        .action = action,
        .entity = entity,
        .entity_id = entity_id,
        .outcome = outcome,
        .remote = a->remote,
        .request_id = a->request_id,
        .detail = detail,
    };
    return audit_append(db, &ev, e);
}

void auth_token_hash(const char *token, char *out)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    text_hex(h, sizeof(h), out);
}

void auth_new_token(const char *prefix, char *out, size_t n)
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(out, n, "%s%s", prefix, b64);
    sodium_memzero(raw, sizeof(raw));
}

/* Columns read into an actor, in this order, by the queries below. */
#define ACTOR_COLUMNS                                                                             \
    "u.id, u.org_id, o.slug, u.username, u.display_name, u.role, u.lang, u.totp_enabled"

/* Fills a from a row whose first columns are ACTOR_COLUMNS. */
static void actor_from_row(struct actor *a, struct db_stmt *s)
{
    memset(a, 0, sizeof(*a));
    snprintf(a->user_id, sizeof(a->user_id), "%s", db_col_text(s, 0));
    snprintf(a->org_id, sizeof(a->org_id), "%s", db_col_text(s, 1));
    snprintf(a->org_slug, sizeof(a->org_slug), "%s", db_col_text(s, 2));
    snprintf(a->username, sizeof(a->username), "%s", db_col_text(s, 3));
    snprintf(a->display_name, sizeof(a->display_name), "%s", db_col_text(s, 4));
    snprintf(a->role, sizeof(a->role), "%s", db_col_text(s, 5));
    snprintf(a->lang, sizeof(a->lang), "%s", db_col_text(s, 6));
    a->totp_enabled = db_col_int64(s, 7) != 0;
}

/* Opens a sealed second-factor secret of user a into out (TOTP_SECRET_B32
 * bytes); "" when sealed is NULL. Returns 0 or -1. */
static int open_totp_secret(struct db *db, const struct actor *a, const char *sealed,
                            char out[TOTP_SECRET_B32], struct err *e)
{
    out[0] = '\0';
    if (!sealed || !*sealed) {
        return 0;
    }
    struct arena ar;
    arena_init(&ar);
    const char *plain = keys_open(db, &ar, a->org_id, a->user_id, "totp", sealed, NULL, e);
    if (plain) {
        snprintf(out, TOTP_SECRET_B32, "%s", plain);
    }
    arena_release(&ar);
    return plain ? 0 : -1;
}

/* Counts failures for key within the throttling window. Returns the count or -1. */
static int64_t failures(struct db *db, const char *key, int64_t now, struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at_ms > $2",
                               "ti", key, now - (int64_t)g_config.login_window_min * 60000);
    if (!s) {
        return found < 0 ? -1 : 0;
    }
    int64_t n = db_col_int64(s, 0);
    db_done(s);
    return n;
}

/* Records a failed login for both keys and audits it, in one transaction. */
static int record_failure(struct db *db, const char *acct_key, const char *addr_key,
                          const struct actor *who, const char *why, struct err *e)
{
    struct err local;
    err_clear(&local);
    if (db_begin(db, false, &local) < 0) {
        *e = local;
        return -1;
    }
    int64_t now = time_now_ms();
    char id1[UUID_STR_LEN], id2[UUID_STR_LEN];
    uuid_v7(id1);
    uuid_v7(id2);
    if (db_run(db, &local, "INSERT INTO login_failures (id, key, at_ms) VALUES ($1, $2, $3)", "tti",
               id1, acct_key, now) < 0 ||
        db_run(db, &local, "INSERT INTO login_failures (id, key, at_ms) VALUES ($1, $2, $3)", "tti",
               id2, addr_key, now) < 0 ||
        db_run(db, &local, "DELETE FROM login_failures WHERE at_ms < $1", "i",
               now - 24 * 3600 * 1000LL) < 0 ||
        actor_audit(db, who, "auth.login", "user", who->user_id, "failed", why, &local) < 0 ||
        db_commit(db, &local) < 0) {
        db_rollback(db);
        *e = local;
        return -1;
    }
    return 0;
}

/* Marks step as the last TOTP step used by user_id, inside the caller's
 * transaction, only if no login has used it or a later one since it was read:
 * two requests racing with one code cannot both pass. Returns 1 claimed,
 * 0 already used, -1 with e. */
static int claim_totp_step(struct db *db, const char *user_id, int64_t step, struct err *e)
{
    int64_t n = db_run(db, e,
                       "UPDATE users SET totp_last_step = $1 WHERE id = $2"
                       " AND COALESCE(totp_last_step, -1) < $1",
                       "it", step, user_id);
    return n < 0 ? -1 : n > 0;
}

/* Creates a session for a in a write transaction with its audit entry. */
static int session_create(struct db *db, struct actor *a, bool mfa_ok, char token[64],
                          const char *action, struct err *e)
{
    auth_new_token("", token, 64);
    auth_token_hash(token, a->session_hash);
    unsigned char raw[24];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(a->csrf, sizeof(a->csrf), raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    int64_t now = time_now_ms();
    a->mfa_ok = mfa_ok;
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    if (db_run(db, e,
               "INSERT INTO sessions (token_hash, user_id, org_id, csrf, mfa_ok, created_ms,"
               " last_seen_ms, expires_ms, remote) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)",
               "ttttbiit", a->session_hash, a->user_id, a->org_id, a->csrf, mfa_ok, now,
               now + (int64_t)g_config.session_absolute_h * 3600000, a->remote) < 0 ||
        actor_audit(db, a, action, "session", NULL, "ok", mfa_ok ? NULL : "second factor due",
                    e) < 0 ||
        db_commit(db, e) < 0) {
        db_rollback(db);
        return -1;
    }
    return 0;
}

int auth_login(struct db *db, const char *org_slug, const char *username, const char *password,
               const char *totp, bool mfa_later, const char *remote, const char *request_id,
               struct login_result *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    char acct_key[160], addr_key[80];
    snprintf(acct_key, sizeof(acct_key), "acct:%s/%s", org_slug, username);
    snprintf(addr_key, sizeof(addr_key), "addr:%s", remote ? remote : "");

    /* Read the account and the throttle counts; no lock is held while argon2 runs. */
    if (db_begin(db, true, e) < 0) {
        return -1;
    }
    int64_t n_acct = failures(db, acct_key, time_now_ms(), e);
    int64_t n_addr = n_acct < 0 ? -1 : failures(db, addr_key, time_now_ms(), e);
    if (n_addr < 0) {
        db_rollback(db);
        return -1;
    }
    int found;
    char hash[PASSWORD_HASH_MAX] = "";
    char sealed[256] = "";
    char secret[TOTP_SECRET_B32] = "";
    int64_t last_step = 0;
    struct actor a;
    memset(&a, 0, sizeof(a));
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT " ACTOR_COLUMNS ", u.password_hash, u.totp_secret,"
                               " u.totp_last_step FROM users u JOIN organizations o"
                               " ON o.id = u.org_id WHERE o.slug = $1 AND u.username = $2"
                               " AND u.active = 1 AND o.active = 1",
                               "tt", org_slug, username);
    if (s) {
        actor_from_row(&a, s);
        snprintf(hash, sizeof(hash), "%s", db_col_text(s, 8) ? db_col_text(s, 8) : "");
        snprintf(sealed, sizeof(sealed), "%s", db_col_text(s, 9) ? db_col_text(s, 9) : "");
        last_step = db_col_int64(s, 10);
        db_done(s);
    }
    if (found == 1 && open_totp_secret(db, &a, sealed, secret, e) < 0) {
        found = -1;
    }
    db_rollback(db);
    if (found < 0) {
        return -1;
    }
    a.remote = remote;
    a.request_id = request_id;
    struct actor who = a;
    if (found == 0) {
        /* Unknown account: the audit names what was tried, under no organization. */
        memset(&who, 0, sizeof(who));
        snprintf(who.org_slug, sizeof(who.org_slug), "%s", org_slug);
        snprintf(who.username, sizeof(who.username), "%s", username);
        who.remote = remote;
        who.request_id = request_id;
    }

    if (n_acct >= g_config.login_max_failures ||
        n_addr >= (int64_t)g_config.login_max_failures * ADDRESS_FACTOR) {
        struct err ignore;
        err_clear(&ignore);
        if (db_begin(db, false, &ignore) == 0) {
            if (actor_audit(db, &who, "auth.login", "user", who.user_id, "denied", "throttled",
                            &ignore) < 0 ||
                db_commit(db, &ignore) < 0) {
                db_rollback(db);
            }
        }
        return err_set(e, ERR_LIMIT, "too_many_requests", NULL,
                       "too many failed logins: try again in %d minutes",
                       g_config.login_window_min);
    }

    bool ok = password_verify(found == 1 && *hash ? hash : NULL, password);
    if (!ok) {
        if (record_failure(db, acct_key, addr_key, &who, "bad password or account", e) < 0) {
            return -1;
        }
        return err_set(e, ERR_UNAUTH, "invalid_credentials", NULL,
                       "wrong organization, username or password");
    }

    bool mfa_ok = !a.totp_enabled;
    if (a.totp_enabled && totp && *totp) {
        int64_t step = totp_verify(secret, totp, time_now_ms() / 1000, last_step);
        if (step < 0) {
            if (record_failure(db, acct_key, addr_key, &who, "bad second factor", e) < 0) {
                return -1;
            }
            return err_set(e, ERR_UNAUTH, "invalid_totp", "totp", "the code is wrong or used");
        }
        if (db_begin(db, false, e) < 0) {
            return -1;
        }
        int claimed = claim_totp_step(db, a.user_id, step, e);
        if (claimed < 0 || (claimed == 1 && db_commit(db, e) < 0)) {
            db_rollback(db);
            return -1;
        }
        if (claimed == 0) {
            db_rollback(db);
            if (record_failure(db, acct_key, addr_key, &who, "second factor reused", e) < 0) {
                return -1;
            }
            return err_set(e, ERR_UNAUTH, "invalid_totp", "totp", "the code is wrong or used");
        }
        mfa_ok = true;
    } else if (a.totp_enabled && !mfa_later) {
        return err_set(e, ERR_UNAUTH, "totp_required", "totp",
                       "this account needs the code from its authenticator app");
    }

    if (password_needs_rehash(hash)) {
        char fresh[PASSWORD_HASH_MAX];
        if (password_hash(password, fresh, e) == 0 && db_begin(db, false, e) == 0) {
            if (db_run(db, e, "UPDATE users SET password_hash = $1 WHERE id = $2", "tt", fresh,
                       a.user_id) < 0 ||
                db_commit(db, e) < 0) {
                db_rollback(db);
            }
        }
        err_clear(e);
    }

    if (session_create(db, &a, mfa_ok, out->token, "auth.login", e) < 0) {
        return -1;
    }
    /* A good login clears the account's failures. */
    if (db_begin(db, false, e) == 0) {
        if (db_run(db, e, "DELETE FROM login_failures WHERE key = $1", "t", acct_key) < 0 ||
            db_commit(db, e) < 0) {
            db_rollback(db);
        }
    }
    err_clear(e);
    out->actor = a;
    out->mfa_pending = !mfa_ok;
    return 0;
}

int auth_login_mfa(struct db *db, struct actor *a, const char *code, struct err *e)
{
    char acct_key[160], addr_key[80];
    snprintf(acct_key, sizeof(acct_key), "acct:%s/%s", a->org_slug, a->username);
    snprintf(addr_key, sizeof(addr_key), "addr:%s", a->remote ? a->remote : "");
    if (db_begin(db, true, e) < 0) {
        return -1;
    }
    int64_t n = failures(db, acct_key, time_now_ms(), e);
    int found = 0;
    char secret[TOTP_SECRET_B32] = "";
    int64_t last = 0;
    struct db_stmt *s = n < 0 ? NULL
                              : db_row(db, e, &found,
                                       "SELECT totp_secret, totp_last_step FROM users WHERE id = $1",
                                       "t", a->user_id);
    if (s) {
        char sealed[256];
        snprintf(sealed, sizeof(sealed), "%s", db_col_text(s, 0) ? db_col_text(s, 0) : "");
        last = db_col_int64(s, 1);
        db_done(s);
        if (open_totp_secret(db, a, sealed, secret, e) < 0) {
            n = -1;
        }
    }
    db_rollback(db);
    if (n < 0 || !s) {
        return n < 0 || found < 0 ? -1 : err_set(e, ERR_UNAUTH, "unauthorized", NULL, "no user");
    }
    if (n >= g_config.login_max_failures) {
        return err_set(e, ERR_LIMIT, "too_many_requests", NULL,
                       "too many failed logins: try again in %d minutes",
                       g_config.login_window_min);
    }
    int64_t step = totp_verify(secret, code, time_now_ms() / 1000, last);
    if (step < 0) {
        if (record_failure(db, acct_key, addr_key, a, "bad second factor", e) < 0) {
            return -1;
        }
        return err_set(e, ERR_UNAUTH, "invalid_totp", "totp", "the code is wrong or used");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    int claimed = claim_totp_step(db, a->user_id, step, e);
    if (claimed == 0) {
        db_rollback(db);
        if (record_failure(db, acct_key, addr_key, a, "second factor reused", e) < 0) {
            return -1;
        }
        return err_set(e, ERR_UNAUTH, "invalid_totp", "totp", "the code is wrong or used");
    }
    if (claimed < 0 ||
        db_run(db, e, "UPDATE sessions SET mfa_ok = 1 WHERE token_hash = $1", "t",
               a->session_hash) < 0 ||
        actor_audit(db, a, "auth.mfa", "session", NULL, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        db_rollback(db);
        return -1;
    }
    a->mfa_ok = true;
    return 0;
}

/* Records the time of use (sql binds $1 the time in ms and $2 key) when the
 * last one is more than TOUCH_INTERVAL_MS old, in a transaction of its own.
 * Best effort: a failure is dropped and e cleared. */
static void touch(struct db *db, const char *sql, int64_t last, const char *key, struct err *e)
{
    int64_t now = time_now_ms();
    if (now - last <= TOUCH_INTERVAL_MS) {
        return;
    }
    if (db_begin(db, false, e) == 0 &&
        (db_run(db, e, sql, "it", now, key) < 0 || db_commit(db, e) < 0)) {
        db_rollback(db);
    }
    err_clear(e);
}

int auth_session_find(struct db *db, const char *token, struct actor *out, struct err *e)
{
    if (!token || strlen(token) < 20 || strlen(token) > 100) {
        return 0;
    }
    char h[72];
    auth_token_hash(token, h);
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT " ACTOR_COLUMNS ", s.csrf, s.mfa_ok, s.last_seen_ms,"
                               " s.expires_ms FROM sessions s JOIN users u ON u.id = s.user_id"
                               " JOIN organizations o ON o.id = u.org_id"
                               " WHERE s.token_hash = $1 AND u.active = 1 AND o.active = 1",
                               "t", h);
    if (!s) {
        return found < 0 ? -1 : 0;
    }
    actor_from_row(out, s);
    snprintf(out->csrf, sizeof(out->csrf), "%s", db_col_text(s, 8));
    out->mfa_ok = db_col_int64(s, 9) != 0;
    int64_t last = db_col_int64(s, 10), expires = db_col_int64(s, 11);
    db_done(s);
    memcpy(out->session_hash, h, sizeof(h));
    int64_t now = time_now_ms();
    bool idle = now - last > (int64_t)g_config.session_idle_min * 60000;
    if (idle || now >= expires) {
        if (db_begin(db, false, e) == 0) {
            if (db_run(db, e, "DELETE FROM sessions WHERE token_hash = $1", "t", h) < 0 ||
                actor_audit(db, out, "auth.session_expired", "session", NULL, "ok",
                            idle ? "idle" : "absolute", e) < 0 ||
                db_commit(db, e) < 0) {
                db_rollback(db);
            }
        }
        err_clear(e);
        return 0;
    }
    touch(db, "UPDATE sessions SET last_seen_ms = $1 WHERE token_hash = $2", last, h, e);
    return 1;
}

int auth_token_find(struct db *db, const char *token, struct actor *out, struct err *e)
{
    if (!token || strncmp(token, "sanad_", 6) != 0 || strlen(token) > 100) {
        return 0;
    }
    char h[72];
    auth_token_hash(token, h);
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT " ACTOR_COLUMNS ", t.id, t.last_used_ms FROM api_tokens t"
                               " JOIN users u ON u.id = t.user_id"
                               " JOIN organizations o ON o.id = u.org_id"
                               " WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
                               " AND u.active = 1 AND o.active = 1",
                               "t", h);
    if (!s) {
        return found < 0 ? -1 : 0;
    }
    actor_from_row(out, s);
    char id[40];
    snprintf(id, sizeof(id), "%s", db_col_text(s, 8));
    int64_t last = db_col_int64(s, 9);
    db_done(s);
    out->mfa_ok = true; /* tokens are issued by an admin who passed the second factor */
    out->via_bearer = true;
    touch(db, "UPDATE api_tokens SET last_used_ms = $1 WHERE id = $2", last, id, e);
    return 1;
}

int auth_logout(struct db *db, const struct actor *a, struct err *e)
{
    if (!a->session_hash[0]) {
        return err_set(e, ERR_INVALID, "not_a_session", NULL,
                       "an API token is revoked, not logged out");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    if (db_run(db, e, "DELETE FROM sessions WHERE token_hash = $1", "t", a->session_hash) < 0 ||
        actor_audit(db, a, "auth.logout", "session", NULL, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        db_rollback(db);
        return -1;
    }
    return 0;
}
