/*
 * auth_pages.c: the HTML pages of accounts: log in (with the second-factor
 * step), log out, language switch, dashboard, own account (password, second
 * factor), accepting an invitation.
 */
#include <sodium.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/auth_web.h"
#include "auth/authz.h"
#include "auth/totp.h"
#include "core/config.h"
#include "core/text.h"
#include "db/db_util.h"
#include "web/i18n.h"
#include "web/page.h"
#include "core/banned.h"

void auth_api_register(void);
void users_pages_register(void);

const char *auth_url_escape(struct http_req *r, const char *s)
{
    struct buf b = BUF_INIT;
    page_add_pct(&b, s);
    const char *out = arena_strdup(&r->arena, b.buf);
    buf_release(&b);
    return out;
}

/* A safe local path to go to after logging in: only "/..." and never "//". */
static const char *next_path(const char *next)
{
    if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' || strchr(next, '\r') ||
        strchr(next, '\n') || strncmp(next, "/login", 6) == 0) {
        return "/";
    }
    return next;
}

/* The slug of the only organization, when there is exactly one (to prefill the form). */
static const char *single_org(struct http_req *r, struct db *db)
{
    struct err e;
    err_clear(&e);
    struct db_stmt *s = db_query(db, &e, "SELECT slug FROM organizations WHERE active = 1 LIMIT 2",
                                 "");
    if (!s) {
        return NULL;
    }
    const char *slug = NULL;
    int n = 0;
    while (db_step(s, &e) == 1) {
        if (n++ == 0) {
            slug = arena_strdup(&r->arena, db_col_text(s, 0));
        }
    }
    db_done(s);
    return n == 1 ? slug : NULL;
}

/* Renders the login form; a pre-session CSRF token goes in a cookie and a field. */
static void login_form(struct http_req *r, int status, json_t *ctx)
{
    unsigned char raw[18];
    char token[32];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(token, sizeof(token), raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    http_set_cookie(r, "pre", token, 3600, true);
    json_object_set_new(ctx, "pre", json_string(token));
    const char *next = http_form(r, "next");
    if (!next) {
        next = http_query(r, "next");
    }
    json_object_set_new(ctx, "next", json_string(next_path(next)));
    if (!json_object_get(ctx, "organization")) {
        struct db *db = db_thread(NULL);
        const char *slug = db ? single_org(r, db) : NULL;
        if (slug) {
            json_object_set_new(ctx, "organization", json_string(slug));
        }
    }
    page_reply(r, status, "login", "login.title", ctx);
}

/* GET /login */
static void page_login(struct http_req *r)
{
    if (r->actor && r->actor->mfa_ok) {
        http_redirect(r, "/");
        return;
    }
    login_form(r, 200, json_object());
}

/* Sets the session cookie and the language cookie after a login. */
static void start_session(struct http_req *r, const struct login_result *res)
{
    http_set_cookie(r, "sid", res->token, -1, true);
    http_set_cookie(r, "lang", res->actor.lang, 365 * 86400, false);
    http_set_cookie(r, "pre", "", 0, true);
}

/* POST /login */
static void page_login_post(struct http_req *r)
{
    const char *org = http_form(r, "organization"), *user = http_form(r, "username");
    const char *pw = http_form(r, "password");
    json_t *ctx = json_pack("{s:s, s:s}", "organization", org ? org : "", "username",
                            user ? user : "");
    struct err e;
    err_clear(&e);
    const char *pre = http_cookie_own(r, "pre"), *pre_form = http_form(r, "pre");
    if (!pre || !pre_form || !text_equal_ct(pre, pre_form)) {
        err_set(&e, ERR_FORBIDDEN, "csrf_failed", NULL, "the form has expired");
    } else if (text_blank(org)) {
        err_set(&e, ERR_INVALID, "required", "organization", "'organization' is required");
    } else if (text_blank(user)) {
        err_set(&e, ERR_INVALID, "required", "username", "'username' is required");
    } else if (!pw || !*pw) {
        err_set(&e, ERR_INVALID, "required", "password", "'password' is required");
    }
    if (!err_failed(&e)) {
        struct db *db = db_or_reply(r);
        if (!db) {
            json_decref(ctx);
            return;
        }
        struct login_result res;
        if (auth_login(db, org, user, pw, NULL, true, r->remote_addr, r->request_id, &res, &e) ==
            0) {
            json_decref(ctx);
            start_session(r, &res);
            if (res.mfa_pending) {
                http_redirect(r, arena_printf(&r->arena, "/login/mfa?next=%s",
                                              auth_url_escape(r, next_path(http_form(r, "next")))));
            } else {
                http_redirect(r, next_path(http_form(r, "next")));
            }
            return;
        }
    }
    page_ctx_error(r, ctx, &e);
    login_form(r, http_status_of(e.kind) == 422 ? 422 : http_status_of(e.kind), ctx);
}

/* GET /login/mfa */
static void page_mfa(struct http_req *r)
{
    if (r->actor->mfa_ok) {
        http_redirect(r, "/");
        return;
    }
    const char *next = http_query(r, "next");
    page_reply(r, 200, "mfa", "mfa.title", json_pack("{s:s}", "next", next_path(next)));
}

/* POST /login/mfa */
static void page_mfa_post(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *code = http_form(r, "code");
    if (auth_login_mfa(db, r->actor, code ? code : "", &e) == 0) {
        http_redirect(r, next_path(http_form(r, "next")));
        return;
    }
    json_t *ctx = json_pack("{s:s}", "next", next_path(http_form(r, "next")));
    page_ctx_error(r, ctx, &e);
    page_reply(r, http_status_of(e.kind), "mfa", "mfa.title", ctx);
}

/* POST /logout */
static void page_logout(struct http_req *r)
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
    http_redirect(r, "/login?ok=flash.logged_out");
}

/* GET /lang?lang=xx&next=/path: for visitors; remembered in a cookie. */
static void page_lang_get(struct http_req *r)
{
    const char *lang = http_query(r, "lang");
    if (lang && i18n_lang_valid(lang)) {
        http_set_cookie(r, "lang", lang, 365 * 86400, false);
    }
    http_redirect(r, next_path(http_query(r, "next")));
}

/* POST /lang: for users; remembered on the account too. */
static void page_lang_post(struct http_req *r)
{
    const char *lang = http_form(r, "lang");
    if (!lang || !i18n_lang_valid(lang)) {
        struct err e;
        err_set(&e, ERR_INVALID, "invalid_field", "lang", "'lang' must be ar or en");
        http_reply_err(r, &e);
        return;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (user_set_lang(db, r->actor, lang, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_set_cookie(r, "lang", lang, 365 * 86400, false);
    http_redirect(r, next_path(http_form(r, "next")));
}

/* GET /: the dashboard; a donor (no dashboard, the portal instead) is sent
 * to the sponsor portal, so that logging in and the brand link land there. */
static void page_dashboard(struct http_req *r)
{
    if (!actor_can(r->actor, PERM_DASHBOARD)) {
        if (actor_can(r->actor, PERM_PORTAL)) {
            http_redirect(r, "/portal");
        } else {
            struct err f;
            err_clear(&f);
            err_set(&f, ERR_FORBIDDEN, "forbidden", NULL, "you may not do this");
            http_reply_err(r, &f);
        }
        return;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *ctx = json_object();
    if (db_begin(db, true, &e) == 0) {
        int found;
        struct db_stmt *s = db_row(db, &e, &found,
                                   "SELECT o.name, (SELECT COUNT(*) FROM users u WHERE"
                                   " u.org_id = o.id AND u.active = 1) FROM organizations o"
                                   " WHERE o.id = $1",
                                   "t", r->actor->org_id);
        if (s) {
            json_object_set_new(ctx, "org_name", json_string(db_col_text(s, 0)));
            json_object_set_new(ctx, "n_users", json_integer(db_col_int64(s, 1)));
            db_done(s);
        }
        db_rollback(db);
    }
    json_object_set_new(ctx, "name", json_string(r->actor->display_name));
    json_object_set_new(ctx, "can_users", json_boolean(actor_can(r->actor, PERM_USERS_MANAGE)));
    json_object_set_new(ctx, "can_audit", json_boolean(actor_can(r->actor, PERM_AUDIT_READ)));
    json_object_set_new(ctx, "needs_mfa", json_boolean(!r->actor->totp_enabled));
    json_object_set_new(ctx, "can_children", json_boolean(actor_can(r->actor, PERM_CHILDREN_READ)));
    json_object_set_new(ctx, "can_cases", json_boolean(actor_can(r->actor, PERM_CASES_READ)));
    json_object_set_new(ctx, "can_dashboard",
                        json_boolean(actor_can(r->actor, PERM_CASES_APPROVE) ||
                                     actor_can(r->actor, PERM_AUDIT_READ)));
    if (db_begin(db, true, &e) == 0) {
        int found;
        struct db_stmt *s = db_row(db, &e, &found,
                                   "SELECT (SELECT COUNT(*) FROM children WHERE org_id = $1"
                                   " AND status IN ('registered', 'active')),"
                                   " (SELECT COUNT(*) FROM cases WHERE org_id = $1"
                                   " AND status = 'open')",
                                   "t", r->actor->org_id);
        if (s) {
            json_object_set_new(ctx, "n_children", json_integer(db_col_int64(s, 0)));
            json_object_set_new(ctx, "n_cases", json_integer(db_col_int64(s, 1)));
            db_done(s);
        }
        db_rollback(db);
    }
    page_reply(r, 200, "dashboard", "nav.dashboard", ctx);
}

/* The account page's context. */
static json_t *account_ctx(struct http_req *r)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:i}", "display_name", r->actor->display_name,
                     "username", r->actor->username, "organization", r->actor->org_slug, "role",
                     i18n_get(r->lang, arena_printf(&r->arena, "role.%s", r->actor->role)),
                     "totp_enabled", r->actor->totp_enabled, "min", 12);
}

/* GET /account */
static void page_account(struct http_req *r)
{
    page_reply(r, 200, "account", "account.title", account_ctx(r));
}

/* POST /account/password */
static void page_password_post(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *pw = http_form(r, "password"), *again = http_form(r, "password_again");
    if (pw && again && strcmp(pw, again) != 0) {
        err_set(&e, ERR_INVALID, "passwords_differ", "password_again",
                "the two new passwords differ");
    } else if (user_change_password(db, r->actor, http_form(r, "current_password"), pw, &e) == 0) {
        http_redirect(r, "/account?ok=flash.password_changed");
        return;
    }
    json_t *ctx = account_ctx(r);
    page_ctx_error(r, ctx, &e);
    page_reply(r, 422, "account", "account.title", ctx);
}

/* Renders the enrolment page for a pending secret: QR code, secret in text, code form. */
static void totp_page(struct http_req *r, int status, const char *secret, json_t *ctx)
{
    struct buf uri = BUF_INIT, svg = BUF_INIT;
    char account[160];
    snprintf(account, sizeof(account), "%s/%s", r->actor->org_slug, r->actor->username);
    totp_uri(&uri, "Sanad", account, secret);
    if (qr_svg(&svg, uri.buf) == 0) {
        size_t cap = sodium_base64_ENCODED_LEN(svg.len, sodium_base64_VARIANT_ORIGINAL);
        char *b64 = arena_alloc(&r->arena, cap);
        sodium_bin2base64(b64, cap, (const unsigned char *)svg.buf, svg.len,
                          sodium_base64_VARIANT_ORIGINAL);
        json_object_set_new(ctx, "qr", json_string(arena_printf(&r->arena,
                                                                "data:image/svg+xml;base64,%s",
                                                                b64)));
    }
    /* Group the secret in fours so that a person can type it. */
    struct buf spaced = BUF_INIT;
    for (size_t i = 0; secret[i]; i++) {
        if (i && i % 4 == 0) {
            buf_addch(&spaced, ' ');
        }
        buf_addch(&spaced, secret[i]);
    }
    json_object_set_new(ctx, "secret", json_string(spaced.buf));
    json_object_set_new(ctx, "pending", json_true());
    buf_release(&uri);
    buf_release(&svg);
    buf_release(&spaced);
    page_reply(r, status, "totp", "totp.title", ctx);
}

/* GET /account/totp */
static void page_totp(struct http_req *r)
{
    json_t *ctx = json_pack("{s:b, s:b}", "enabled", r->actor->totp_enabled, "required",
                            authz_role_needs_mfa(r->actor->role));
    page_reply(r, 200, "totp", "totp.title", ctx);
}

/* POST /account/totp/start: makes a new pending secret and shows its QR code. */
static void page_totp_start(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    char secret[40];
    if (user_totp_begin(db, r->actor, secret, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    totp_page(r, 200, secret, json_object());
}

/* POST /account/totp/confirm */
static void page_totp_confirm(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *code = http_form(r, "code");
    if (user_totp_confirm(db, r->actor, code ? code : "", &e) == 0) {
        http_redirect(r, "/account?ok=flash.totp_enabled");
        return;
    }
    /* Show the same pending secret again with the error. */
    char secret[40] = "";
    struct err ignore;
    err_clear(&ignore);
    user_totp_pending(db, r->actor, secret, &ignore);
    json_t *ctx = json_object();
    page_ctx_error(r, ctx, &e);
    if (*secret) {
        totp_page(r, 422, secret, ctx);
    } else {
        page_reply(r, 422, "totp", "totp.title", ctx);
    }
}

/* GET /invite/{token} */
static void page_invite(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    char org[64], user[64];
    int found = user_invite_find(db, r->params[0], org, user, &e);
    if (found <= 0) {
        if (found == 0) {
            err_set(&e, ERR_NOT_FOUND, "invite_invalid", NULL, "this invitation is not valid");
        }
        http_reply_err(r, &e);
        return;
    }
    page_reply(r, 200, "invite", "invite.title",
               json_pack("{s:s, s:s, s:s}", "organization", org, "username", user, "token",
                         r->params[0]));
}

/* POST /invite/{token} */
static void page_invite_post(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *pw = http_form(r, "password"), *again = http_form(r, "password_again");
    char org[64], user[64];
    int found = user_invite_find(db, r->params[0], org, user, &e);
    if (found <= 0) {
        if (found == 0) {
            err_set(&e, ERR_NOT_FOUND, "invite_invalid", NULL, "this invitation is not valid");
        }
        http_reply_err(r, &e);
        return;
    }
    if (!pw || !again || strcmp(pw, again) != 0) {
        err_set(&e, ERR_INVALID, "passwords_differ", "password_again",
                "the two passwords differ");
    } else if (user_accept_invite(db, r->params[0], pw, r->remote_addr, &e) == 0) {
        http_redirect(r, "/login?ok=flash.invite_accepted");
        return;
    }
    json_t *ctx = json_pack("{s:s, s:s, s:s}", "organization", org, "username", user, "token",
                            r->params[0]);
    page_ctx_error(r, ctx, &e);
    page_reply(r, 422, "invite", "invite.title", ctx);
}

static const struct route page_routes[] = {
    {"GET", "/login", page_login, ROUTE_PAGE | ROUTE_PUBLIC, NULL},
    {"POST", "/login", page_login_post, ROUTE_PAGE | ROUTE_PUBLIC, NULL},
    {"GET", "/login/mfa", page_mfa, ROUTE_PAGE | ROUTE_MFA_STEP, NULL},
    {"POST", "/login/mfa", page_mfa_post, ROUTE_PAGE | ROUTE_MFA_STEP, NULL},
    {"POST", "/logout", page_logout, ROUTE_PAGE | ROUTE_MFA_STEP | ROUTE_MFA_SETUP, NULL},
    {"GET", "/lang", page_lang_get, ROUTE_PAGE | ROUTE_PUBLIC, NULL},
    {"POST", "/lang", page_lang_post, ROUTE_PAGE | ROUTE_MFA_SETUP, NULL},
    /* Any logged-in actor: the handler checks dashboard.view or sends a donor on. */
    {"GET", "/", page_dashboard, ROUTE_PAGE, NULL},
    {"GET", "/account", page_account, ROUTE_PAGE | ROUTE_MFA_SETUP, PERM_ACCOUNT_SELF},
    {"POST", "/account/password", page_password_post, ROUTE_PAGE | ROUTE_MFA_SETUP,
     PERM_ACCOUNT_SELF},
    {"GET", "/account/totp", page_totp, ROUTE_PAGE | ROUTE_MFA_SETUP, PERM_ACCOUNT_SELF},
    {"POST", "/account/totp/start", page_totp_start, ROUTE_PAGE | ROUTE_MFA_SETUP,
     PERM_ACCOUNT_SELF},
    {"POST", "/account/totp/confirm", page_totp_confirm, ROUTE_PAGE | ROUTE_MFA_SETUP,
     PERM_ACCOUNT_SELF},
    {"GET", "/invite/{token}", page_invite, ROUTE_PAGE | ROUTE_PUBLIC, NULL},
    {"POST", "/invite/{token}", page_invite_post, ROUTE_PAGE | ROUTE_PUBLIC, NULL},
};

void auth_web_register(void)
{
    http_routes_add(page_routes, sizeof(page_routes) / sizeof(page_routes[0]));
    auth_api_register();
    users_pages_register();
    http_set_auth_hook(auth_hook);
}
