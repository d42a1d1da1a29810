/*
 * users_pages.c: user management for admins (invite, change role,
 * deactivate, reset a lost second factor), API tokens, and the audit log
 * viewer for admins and auditors.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/auth_web.h"
#include "auth/authz.h"
#include "db/db_util.h"
#include "web/i18n.h"
#include "web/page.h"
#include "core/banned.h"

#define AUDIT_PAGE 50

/* The roles as options for a <select>, with selected marked. */
static json_t *role_options(struct http_req *r, const char *selected)
{
    int n;
    const struct role_info *roles = authz_roles(&n);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_array_append_new(arr, json_pack("{s:s, s:s, s:b}", "id", roles[i].id, "label",
                                             i18n_get(r->lang, roles[i].label_key), "selected",
                                             selected && strcmp(selected, roles[i].id) == 0));
    }
    return arr;
}

/* Renders the users page with ctx (taken). */
static void users_page(struct http_req *r, int status, json_t *ctx)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(ctx);
        return;
    }
    struct err e;
    err_clear(&e);
    if (db_begin(db, true, &e) < 0) {
        json_decref(ctx);
        http_reply_err(r, &e);
        return;
    }
    json_t *users = user_list(db, r->actor, &e);
    db_rollback(db);
    if (!users) {
        json_decref(ctx);
        http_reply_err(r, &e);
        return;
    }
    page_label_all(r, users, "role", "role");
    json_object_set_new(ctx, "users", users);
    const char *sel = json_string_value(json_object_get(ctx, "role"));
    json_object_set_new(ctx, "roles", role_options(r, sel ? sel : "case_worker"));
    json_object_set_new(ctx, "can_manage", json_boolean(actor_can(r->actor, PERM_USERS_MANAGE)));
    page_reply(r, status, "users", "users.title", ctx);
}

/* GET /users */
static void page_users(struct http_req *r)
{
    users_page(r, 200, json_object());
}

/* POST /users: invites a user; the link is shown once. */
static void page_users_post(struct http_req *r)
{
    struct user_new u = {
        .username = http_form(r, "username"),
        .display_name = http_form(r, "display_name"),
        .email = http_form(r, "email"),
        .role = http_form(r, "role"),
        .lang = http_form(r, "lang"),
        .password = NULL,
    };
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    char id[40], invite[64];
    json_t *ctx = json_object();
    if (user_create(db, r->actor, NULL, &u, id, invite, &e) == 0) {
        json_object_set_new(
            ctx, "invite_url",
            json_string(http_abs_url(r, arena_printf(&r->arena, "/invite/%s", invite))));
        json_object_set_new(ctx, "invited", json_string(u.username));
        users_page(r, 201, ctx);
        return;
    }
    json_object_set_new(ctx, "form", json_pack("{s:s, s:s, s:s}", "username",
                                               u.username ? u.username : "", "display_name",
                                               u.display_name ? u.display_name : "", "email",
                                               u.email ? u.email : ""));
    json_object_set_new(ctx, "role", json_string(u.role ? u.role : ""));
    page_ctx_error(r, ctx, &e);
    users_page(r, http_status_of(e.kind), ctx);
}

/* GET /users/{id} */
static void page_user(struct http_req *r)
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
    const char *role = json_string_value(json_object_get(u, "role"));
    json_t *ctx = json_pack("{s:o, s:o, s:b, s:b}", "u", u, "roles", role_options(r, role),
                            "can_manage", actor_can(r->actor, PERM_USERS_MANAGE), "self",
                            strcmp(r->params[0], r->actor->user_id) == 0);
    json_object_set_new(u, "role_label", json_string(page_label(r, "role", role)));
    page_reply(r, 200, "user", "users.title", ctx);
}

/* Runs one change on a user from a form and goes back to the user's page. */
static void user_change(struct http_req *r, int rc, const struct err *e)
{
    if (rc < 0) {
        http_reply_err(r, e);
        return;
    }
    http_redirect(r, arena_printf(&r->arena, "/users/%s?ok=flash.saved", r->params[0]));
}

/* POST /users/{id}/role */
static void page_user_role(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    user_change(r, user_set_role(db, r->actor, r->params[0], http_form(r, "role"), &e), &e);
}

/* POST /users/{id}/active */
static void page_user_active(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *v = http_form(r, "active");
    bool active = v && strcmp(v, "1") == 0;
    user_change(r, user_set_active(db, r->actor, r->params[0], active, &e), &e);
}

/* POST /users/{id}/totp-reset */
static void page_user_totp_reset(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    user_change(r, user_reset_totp(db, r->actor, r->params[0], &e), &e);
}

/* Renders the tokens page with ctx (taken). */
static void tokens_page(struct http_req *r, int status, json_t *ctx)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(ctx);
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *tokens = NULL, *users = NULL;
    if (db_begin(db, true, &e) == 0) {
        tokens = token_list(db, r->actor, &e);
        users = tokens ? user_list(db, r->actor, &e) : NULL;
        db_rollback(db);
    }
    if (!users) {
        json_decref(tokens);
        json_decref(ctx);
        http_reply_err(r, &e);
        return;
    }
    json_object_set_new(ctx, "tokens", tokens);
    json_object_set_new(ctx, "users", users);
    page_reply(r, status, "tokens", "tokens.title", ctx);
}

/* GET /tokens */
static void page_tokens(struct http_req *r)
{
    tokens_page(r, 200, json_object());
}

/* POST /tokens: the new token is shown once. */
static void page_tokens_post(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    char id[40], token[64];
    json_t *ctx = json_object();
    if (token_create(db, r->actor, http_form(r, "user_id"), http_form(r, "name"), id, token, &e) ==
        0) {
        json_object_set_new(ctx, "new_token", json_string(token));
        tokens_page(r, 201, ctx);
        return;
    }
    page_ctx_error(r, ctx, &e);
    tokens_page(r, http_status_of(e.kind), ctx);
}

/* POST /tokens/{id}/revoke */
static void page_token_revoke(struct http_req *r)
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
    http_redirect(r, "/tokens?ok=flash.token_revoked");
}

/* Reads one page of the organization's audit log, newest first, before seq
 * `before` (0 for the newest). Returns a JSON array or NULL. */
static json_t *audit_page_rows(struct db *db, const struct actor *a, int64_t before,
                               struct err *e)
{
    struct db_stmt *s = db_query(db, e,
                                 "SELECT seq, at, actor_name, action, entity, entity_id, outcome,"
                                 " remote, detail FROM audit_log WHERE org_id = $1"
                                 " AND ($2 = 0 OR seq < $2) ORDER BY seq DESC LIMIT $3",
                                 "tii", a->org_id, before, (int64_t)AUDIT_PAGE);
    if (!s) {
        return NULL;
    }
    json_t *arr = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_array_append_new(
            arr, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "seq",
                           (json_int_t)db_col_int64(s, 0), "at", db_col_text(s, 1), "actor",
                           db_col_text(s, 2), "action", db_col_text(s, 3), "entity",
                           db_col_text(s, 4), "entity_id", db_col_text(s, 5), "outcome",
                           db_col_text(s, 6), "remote", db_col_text(s, 7), "detail",
                           db_col_text(s, 8)));
    }
    db_done(s);
    if (rc < 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

/* Reads the audit page for r (?before=SEQ) in a read transaction; NULL after replying. */
static json_t *audit_rows_or_reply(struct http_req *r, int64_t *before_out)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return NULL;
    }
    struct err e;
    err_clear(&e);
    const char *b = http_query(r, "before");
    int64_t before = 0;
    if (b && *b) {
        char *end;
        before = strtoll(b, &end, 10);
        if (*end || before < 1) {
            err_set(&e, ERR_INVALID, "invalid_parameter", "before",
                    "'before' must be an entry number");
            http_reply_err(r, &e);
            return NULL;
        }
    }
    *before_out = before;
    json_t *rows = NULL;
    if (db_begin(db, true, &e) == 0) {
        rows = audit_page_rows(db, r->actor, before, &e);
        db_rollback(db);
    }
    if (!rows) {
        http_reply_err(r, &e);
    }
    return rows;
}

/* GET /audit */
static void page_audit(struct http_req *r)
{
    int64_t before;
    json_t *rows = audit_rows_or_reply(r, &before);
    if (!rows) {
        return;
    }
    json_t *ctx = json_pack("{s:o}", "entries", rows);
    size_t n = json_array_size(rows);
    if (n == AUDIT_PAGE) {
        json_int_t last = json_integer_value(json_object_get(json_array_get(rows, n - 1), "seq"));
        json_object_set_new(ctx, "older", json_string(arena_printf(&r->arena, "/audit?before=%lld",
                                                                   (long long)last)));
    }
    page_reply(r, 200, "audit", "audit.title", ctx);
}

/* GET /api/v1/audit?before=SEQ */
static void api_audit(struct http_req *r)
{
    int64_t before;
    json_t *rows = audit_rows_or_reply(r, &before);
    if (rows) {
        http_reply_json(r, 200, json_pack("{s:o}", "items", rows));
    }
}

static const struct route routes[] = {
    {"GET", "/users", page_users, ROUTE_PAGE, PERM_USERS_READ},
    {"POST", "/users", page_users_post, ROUTE_PAGE, PERM_USERS_MANAGE},
    {"GET", "/users/{id}", page_user, ROUTE_PAGE, PERM_USERS_READ},
    {"POST", "/users/{id}/role", page_user_role, ROUTE_PAGE, PERM_USERS_MANAGE},
    {"POST", "/users/{id}/active", page_user_active, ROUTE_PAGE, PERM_USERS_MANAGE},
    {"POST", "/users/{id}/totp-reset", page_user_totp_reset, ROUTE_PAGE, PERM_USERS_MANAGE},
    {"GET", "/tokens", page_tokens, ROUTE_PAGE, PERM_USERS_MANAGE},
    {"POST", "/tokens", page_tokens_post, ROUTE_PAGE, PERM_USERS_MANAGE},
    {"POST", "/tokens/{id}/revoke", page_token_revoke, ROUTE_PAGE, PERM_USERS_MANAGE},
    {"GET", "/audit", page_audit, ROUTE_PAGE, PERM_AUDIT_READ},
    {"GET", "/api/v1/audit", api_audit, ROUTE_API, PERM_AUDIT_READ},
};

void users_pages_register(void)
{
    http_routes_add(routes, sizeof(routes) / sizeof(routes[0]));
}
