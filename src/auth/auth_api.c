/*
 * auth_api.c: the JSON API of accounts: /api/v1/auth/login and logout,
 * /api/v1/me, users, API tokens and the audit log.
 */
#include <string.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "auth/auth_web.h"
#include "auth/authz.h"
#include "core/config.h"
#include "db/db_util.h"
#include "web/page.h"
#include "core/banned.h"

/* The actor as the API shows it. */
static json_t *actor_json(const struct actor *a)
{
    json_t *perms = json_array();
    static const char *const all[] = {
        PERM_ACCOUNT_SELF, PERM_USERS_MANAGE, PERM_USERS_READ, PERM_AUDIT_READ, PERM_DASHBOARD,
        PERM_CHILDREN_READ, PERM_CHILDREN_WRITE, PERM_CHILDREN_HEALTH, PERM_CASES_READ,
        PERM_CASES_WRITE, PERM_CASES_APPROVE, PERM_PSYCH_NOTES, PERM_SPONSOR_READ,
        PERM_SPONSOR_WRITE, PERM_FINANCE_READ, PERM_FINANCE_WRITE, PERM_NETWORK, PERM_PORTAL};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (actor_can(a, all[i])) {
            json_array_append_new(perms, json_string(all[i]));
        }
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:o}", "id", a->user_id,
                     "organization", a->org_slug, "username", a->username, "display_name",
                     a->display_name, "role", a->role, "lang", a->lang, "totp_enabled",
                     a->totp_enabled, "permissions", perms);
}

/* POST /api/v1/auth/login */
static void api_login(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    if (!body) {
        return;
    }
    struct err e;
    err_clear(&e);
    static const char *const fields[] = {"organization", "username", "password", "totp", NULL};
    const char *org, *user, *pw, *totp;
    if (json_known_members(body, fields, &e) < 0 ||
        json_str_member(body, "organization", true, 40, &org, &e) < 0 ||
        json_str_member(body, "username", true, 64, &user, &e) < 0 ||
        json_str_member(body, "password", true, 1024, &pw, &e) < 0 ||
        json_str_member(body, "totp", false, 10, &totp, &e) < 0) {
        json_decref(body);
        http_reply_err(r, &e);
        return;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(body);
        return;
    }
    struct login_result res;
    int rc = auth_login(db, org, user, pw, totp, false, r->remote_addr, r->request_id, &res, &e);
    json_decref(body);
    if (rc < 0) {
        if (e.kind == ERR_LIMIT) {
            http_add_header(r, "Retry-After", arena_printf(&r->arena, "%d",
                                                           g_config.login_window_min * 60));
        }
        http_reply_err(r, &e);
        return;
    }
    http_set_cookie(r, "sid", res.token, -1, true);
    json_t *out = json_pack("{s:s, s:s, s:o}", "token", res.token, "csrf", res.actor.csrf, "user",
                            actor_json(&res.actor));
    http_reply_json(r, 200, out);
}

/* POST /api/v1/auth/logout */
static void api_logout(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (auth_logout(db, r->actor, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_set_cookie(r, "sid", "", 0, true);
    http_reply(r, 204, NULL, NULL, 0);
}

/* GET /api/v1/me */
static void api_me(struct http_req *r)
{
    http_reply_json(r, 200, actor_json(r->actor));
}

/* Runs f's read inside a read-only transaction and replies with its JSON
 * wrapped as {"items": ...}. */
static void reply_list(struct http_req *r, json_t *(*f)(struct db *, const struct actor *,
                                                        struct err *))
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (db_begin(db, true, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    json_t *items = f(db, r->actor, &e);
    db_rollback(db);
    if (!items) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, json_pack("{s:o}", "items", items));
}

/* GET /api/v1/users */
static void api_users(struct http_req *r)
{
    reply_list(r, user_list);
}

/* GET /api/v1/users/{id} */
static void api_user_get(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (db_begin(db, true, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    json_t *u = user_get(db, r->actor, r->params[0], &e);
    db_rollback(db);
    if (!u) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, u);
}

/* POST /api/v1/users: creates a user with a password or, without one, an invitation. */
static void api_user_create(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    if (!body) {
        return;
    }
    struct err e;
    err_clear(&e);
    static const char *const fields[] = {"username", "display_name", "email", "role",
                                         "lang",     "password",     NULL};
    struct user_new u;
    memset(&u, 0, sizeof(u));
    if (json_known_members(body, fields, &e) < 0 ||
        json_str_member(body, "username", true, 64, &u.username, &e) < 0 ||
        json_str_member(body, "display_name", true, 120, &u.display_name, &e) < 0 ||
        json_str_member(body, "email", false, 200, &u.email, &e) < 0 ||
        json_str_member(body, "role", true, 32, &u.role, &e) < 0 ||
        json_str_member(body, "lang", false, 2, &u.lang, &e) < 0 ||
        json_str_member(body, "password", false, 1024, &u.password, &e) < 0) {
        json_decref(body);
        http_reply_err(r, &e);
        return;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(body);
        return;
    }
    char id[40], invite[64] = "";
    int rc = user_create(db, r->actor, NULL, &u, id, invite, &e);
    json_decref(body);
    if (rc < 0) {
        http_reply_err(r, &e);
        return;
    }
    json_t *out = json_pack("{s:s}", "id", id);
    if (*invite) {
        json_object_set_new(out, "invite_url",
                            json_string(arena_printf(&r->arena, "/invite/%s", invite)));
    }
    http_reply_json(r, 201, out);
}

/* PATCH /api/v1/users/{id}: {"role": ..., "active": bool} */
static void api_user_patch(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    if (!body) {
        return;
    }
    struct err e;
    err_clear(&e);
    static const char *const fields[] = {"role", "active", NULL};
    const char *role = NULL;
    json_t *active = json_object_get(body, "active");
    if (json_known_members(body, fields, &e) < 0 ||
        json_str_member(body, "role", false, 32, &role, &e) < 0) {
        goto fail;
    }
    if (active && !json_is_boolean(active)) {
        err_set(&e, ERR_INVALID, "invalid_type", "active", "'active' must be true or false");
        goto fail;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(body);
        return;
    }
    if ((role && user_set_role(db, r->actor, r->params[0], role, &e) < 0) ||
        (active && user_set_active(db, r->actor, r->params[0], json_is_true(active), &e) < 0)) {
        goto fail;
    }
    json_decref(body);
    api_user_get(r);
    return;
fail:
    json_decref(body);
    http_reply_err(r, &e);
}

/* GET /api/v1/tokens */
static void api_tokens(struct http_req *r)
{
    reply_list(r, token_list);
}

/* POST /api/v1/tokens: {"user_id", "name"}; the token is in the answer, once. */
static void api_token_create(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    if (!body) {
        return;
    }
    struct err e;
    err_clear(&e);
    static const char *const fields[] = {"user_id", "name", NULL};
    const char *user_id, *name;
    struct db *db = NULL;
    char id[40], token[64];
    if (json_known_members(body, fields, &e) < 0 ||
        json_str_member(body, "user_id", true, 40, &user_id, &e) < 0 ||
        json_str_member(body, "name", true, 100, &name, &e) < 0 || !(db = db_or_reply(r)) ||
        token_create(db, r->actor, user_id, name, id, token, &e) < 0) {
        json_decref(body);
        if (db || e.kind != ERR_NONE) {
            http_reply_err(r, &e);
        }
        return;
    }
    json_decref(body);
    http_reply_json(r, 201, json_pack("{s:s, s:s}", "id", id, "token", token));
}

/* DELETE /api/v1/tokens/{id} */
static void api_token_revoke(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (token_revoke(db, r->actor, r->params[0], &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_reply(r, 204, NULL, NULL, 0);
}

/* POST /api/v1/account/password: {"current_password", "password"} */
static void api_password(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    if (!body) {
        return;
    }
    struct err e;
    err_clear(&e);
    static const char *const fields[] = {"current_password", "password", NULL};
    const char *cur, *pw;
    struct db *db = NULL;
    if (json_known_members(body, fields, &e) < 0 ||
        json_str_member(body, "current_password", true, 1024, &cur, &e) < 0 ||
        json_str_member(body, "password", true, 1024, &pw, &e) < 0 || !(db = db_or_reply(r)) ||
        user_change_password(db, r->actor, cur, pw, &e) < 0) {
        json_decref(body);
        if (db || e.kind != ERR_NONE) {
            http_reply_err(r, &e);
        }
        return;
    }
    json_decref(body);
    http_reply(r, 204, NULL, NULL, 0);
}

static const struct route api_routes[] = {
    {"POST", "/api/v1/auth/login", api_login, ROUTE_API | ROUTE_PUBLIC | ROUTE_NO_CSRF, NULL},
    {"POST", "/api/v1/auth/logout", api_logout, ROUTE_API | ROUTE_MFA_SETUP | ROUTE_MFA_STEP, NULL},
    {"GET", "/api/v1/me", api_me, ROUTE_API | ROUTE_MFA_SETUP, NULL},
    {"POST", "/api/v1/account/password", api_password, ROUTE_API | ROUTE_MFA_SETUP,
     PERM_ACCOUNT_SELF},
    {"GET", "/api/v1/users", api_users, ROUTE_API, PERM_USERS_READ},
    {"POST", "/api/v1/users", api_user_create, ROUTE_API, PERM_USERS_MANAGE},
    {"GET", "/api/v1/users/{id}", api_user_get, ROUTE_API, PERM_USERS_READ},
    {"PATCH", "/api/v1/users/{id}", api_user_patch, ROUTE_API, PERM_USERS_MANAGE},
    {"GET", "/api/v1/tokens", api_tokens, ROUTE_API, PERM_USERS_MANAGE},
    {"POST", "/api/v1/tokens", api_token_create, ROUTE_API, PERM_USERS_MANAGE},
    {"DELETE", "/api/v1/tokens/{id}", api_token_revoke, ROUTE_API, PERM_USERS_MANAGE},
};

void auth_api_register(void)
{
    http_routes_add(api_routes, sizeof(api_routes) / sizeof(api_routes[0]));
}
