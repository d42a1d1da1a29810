/*
 * auth_hook.c: the gate every request passes after routing. It finds the
 * actor (session cookie or bearer token), sends visitors to the login page,
 * holds a half-logged-in session at the second-factor step, makes admins
 * enrol a second factor, checks the route's permission and, for
 * state-changing requests made with a cookie, the CSRF token. Denials are
 * audited.
 */
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "auth/auth_web.h"
#include "auth/authz.h"
#include "core/text.h"
#include "db/db.h"
#include "web/i18n.h"
#include "core/banned.h"

/* Audits a denial in its own transaction; a failure to audit is logged by the caller's reply. */
static void audit_denial(struct db *db, const struct actor *a, const char *path, const char *why)
{
    struct err e;
    err_clear(&e);
    if (db_begin(db, false, &e) < 0) {
        return;
    }
    char detail[200];
    snprintf(detail, sizeof(detail), "%s %.150s", why, path);
    if (actor_audit(db, a, "permission.denied", "route", NULL, "denied", detail, &e) < 0 ||
        db_commit(db, &e) < 0) {
        db_rollback(db);
    }
}

/* Replies 401 (API) or sends the visitor to the login page (pages). */
static int need_login(struct http_req *r)
{
    if (r->route->flags & ROUTE_API) {
        http_add_header(r, "WWW-Authenticate", "Bearer realm=\"sanad\"");
        http_reply_problem(r, 401, "unauthorized", NULL, "log in first", NULL);
    } else {
        const char *next = strcmp(r->method, "GET") == 0 ? r->path : "/";
        http_redirect(r, arena_printf(&r->arena, "/login?next=%s", auth_url_escape(r, next)));
    }
    return -1;
}

bool auth_csrf_ok(struct http_req *r)
{
    const char *given = http_header(r, "X-CSRF-Token");
    if (!given) {
        given = http_form(r, "csrf");
    }
    return given && r->csrf_token && *r->csrf_token && text_equal_ct(given, r->csrf_token);
}

/* Finds the actor for r from its bearer token or session cookie. Returns 1
 * found, 0 none, -1 after replying (database down or a bad bearer token). */
static int find_actor(struct http_req *r, struct db *db, struct actor *a)
{
    struct err e;
    err_clear(&e);
    const char *authz = http_header(r, "Authorization");
    int found = 0;
    if (authz && strncasecmp(authz, "Bearer ", 7) == 0 && (r->route->flags & ROUTE_API)) {
        const char *token = authz + 7;
        found = auth_token_find(db, token, a, &e);
        if (found == 0) {
            found = auth_session_find(db, token, a, &e);
        }
        if (found == 1) {
            a->via_bearer = true;
        } else if (found == 0 && !(r->route->flags & ROUTE_PUBLIC)) {
            http_add_header(r, "WWW-Authenticate", "Bearer realm=\"sanad\", error=\"invalid_token\"");
            http_reply_problem(r, 401, "invalid_token", NULL, "the token is unknown, revoked or expired",
                               NULL);
            return -1;
        }
    } else {
        const char *sid = http_cookie_own(r, "sid");
        if (sid) {
            found = auth_session_find(db, sid, a, &e);
        }
    }
    if (found < 0) {
        http_reply_err(r, &e);
        return -1;
    }
    return found;
}

int auth_hook(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    const struct route *rt = r->route;
    struct db *db = db_thread(&e);
    if (!db) {
        if (rt->flags & ROUTE_PUBLIC && !(rt->flags & (ROUTE_API | ROUTE_PAGE))) {
            return 0; /* healthz and metrics report the outage themselves */
        }
        http_reply_err(r, &e);
        return -1;
    }
    struct actor *a = arena_zalloc(&r->arena, sizeof(*a));
    int found = find_actor(r, db, a);
    if (found < 0) {
        return -1;
    }
    if (found) {
        a->remote = r->remote_addr;
        a->request_id = r->request_id;
        r->actor = a;
        r->csrf_token = a->csrf;
        if (i18n_lang_valid(a->lang)) {
            r->lang = a->lang;
        }
    }
    bool safe = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    if (rt->flags & ROUTE_PUBLIC) {
        return 0;
    }
    if (!found) {
        return need_login(r);
    }
    if (!a->mfa_ok && !(rt->flags & ROUTE_MFA_STEP)) {
        if (rt->flags & ROUTE_API) {
            http_reply_problem(r, 401, "totp_required", "totp", "the second factor is due", NULL);
        } else {
            http_redirect(r, "/login/mfa");
        }
        return -1;
    }
    /* Only API tokens (made by an admin who passed the second factor) skip enrolment;
     * a session is a session whether its token comes as a cookie or a bearer. */
    if (authz_role_needs_mfa(a->role) && !a->totp_enabled && a->session_hash[0] &&
        !(rt->flags & (ROUTE_MFA_SETUP | ROUTE_MFA_STEP))) {
        if (rt->flags & ROUTE_API) {
            http_reply_problem(r, 403, "totp_enrollment_required", NULL,
                               "enrol a second factor first", NULL);
        } else {
            http_redirect(r, "/account/totp");
        }
        return -1;
    }
    if (rt->perm && !actor_can(a, rt->perm)) {
        audit_denial(db, a, r->path, rt->perm);
        err_set(&e, ERR_FORBIDDEN, "forbidden", NULL, "you may not do this");
        http_reply_err(r, &e);
        return -1;
    }
    if (!safe && !(rt->flags & ROUTE_NO_CSRF) && !a->via_bearer && !auth_csrf_ok(r)) {
        audit_denial(db, a, r->path, "csrf");
        err_set(&e, ERR_FORBIDDEN, "csrf_failed", NULL, "the form has expired: reload the page");
        http_reply_err(r, &e);
        return -1;
    }
    return 0;
}
