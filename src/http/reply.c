/*
 * reply.c: the reply side of http.h. A reply is recorded in the request's
 * private state (status, type, body, extra headers); the server turns it
 * into a libmicrohttpd response after the handler returns, adding the
 * security headers. Keeping the reply as data lets tests check it without a
 * socket.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "http/http_internal.h"
#include "web/assets.h"
#include "web/i18n.h"
#include "web/tmpl.h"
#include "core/banned.h"

#define CSP                                                                                    \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "          \
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

int http_status_of(enum err_kind kind)
{
    switch (kind) {
    case ERR_NONE:
        return 200;
    case ERR_INVALID:
        return 422;
    case ERR_NOT_FOUND:
        return 404;
    case ERR_FORBIDDEN:
        return 403;
    case ERR_UNAUTH:
        return 401;
    case ERR_CONFLICT:
        return 409;
    case ERR_LIMIT:
        return 413;
    case ERR_UNAVAILABLE:
        return 503;
    case ERR_INTERNAL:
        return 500;
    }
    return 500;
}

void http_reply(struct http_req *r, int status, const char *content_type, const void *body,
                size_t n)
{
    struct http_priv *p = r->priv;
    assert(!r->replied && "second reply to one request");
    if (r->replied) {
        log_error("second reply ignored", "status=%d", status);
        return;
    }
    r->replied = true;
    p->status = status;
    p->reply_type = arena_strdup(&r->arena, content_type ? content_type : "text/plain");
    char *copy = arena_alloc(&r->arena, n + 1);
    if (n) {
        memcpy(copy, body, n);
    }
    copy[n] = '\0';
    p->reply_body = copy;
    p->reply_len = n;
}

void http_reply_json(struct http_req *r, int status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        log_error("could not encode the JSON reply", "status=%d", status);
        http_reply(r, 500, "application/json", "{}", 2);
        return;
    }
    http_reply(r, status, "application/json", text, strlen(text));
    free(text);
}

void http_reply_html(struct http_req *r, int status, struct buf *b)
{
    http_reply(r, status, "text/html; charset=utf-8", b->buf, b->len);
    buf_release(b);
}

/* The title of code in lang: the catalog's "err.<code>" when it exists, with
 * {field} filled by the field's label ("field.<name>") or its name. */
static const char *problem_title(struct http_req *r, const char *code, const char *field,
                                 const char *fallback)
{
    const char *key = arena_printf(&r->arena, "err.%s", code);
    if (!i18n_has(key)) {
        return fallback;
    }
    const char *label = field ? field : "";
    if (field && *field) {
        const char *fkey = arena_printf(&r->arena, "field.%s", field);
        if (i18n_has(fkey)) {
            label = i18n_get(r->lang, fkey);
        }
    }
    return i18n_format(&r->arena, r->lang, key, "field", label, NULL);
}

void http_reply_problem(struct http_req *r, int status, const char *code, const char *field,
                        const char *detail, json_t *extra)
{
    if (!code || !*code) {
        code = "error";
    }
    if (!detail) {
        detail = code;
    }
    json_t *j = json_object();
    json_object_set_new(j, "type",
                        json_string(arena_printf(&r->arena,
                                                 "https://sanad.example/problems/%s", code)));
    json_object_set_new(j, "title", json_string(problem_title(r, code, field, detail)));
    json_object_set_new(j, "status", json_integer(status));
    json_object_set_new(j, "code", json_string(code));
    json_object_set_new(j, "detail", json_string(detail));
    if (r->request_id[0]) {
        json_object_set_new(j, "request_id", json_string(r->request_id));
    }
    if (field && *field) {
        const char *key = arena_printf(&r->arena, "field.%s", field);
        const char *label = i18n_has(key) ? i18n_get(r->lang, key) : NULL;
        json_t *item = json_pack("{s:s, s:s}", "field", field, "message",
                                 problem_title(r, code, field, detail));
        if (label && item) {
            json_object_set_new(item, "label", json_string(label));
        }
        json_object_set_new(j, "errors", json_pack("[o]", item ? item : json_object()));
    }
    if (extra) {
        json_object_update_missing(j, extra);
        json_decref(extra);
    }
    /* json_string refuses invalid UTF-8: a bad detail must not lose the reply */
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (text) {
        http_reply(r, status, "application/problem+json", text, strlen(text));
        free(text);
    } else {
        static const char fallback[] = "{\"status\":500,\"code\":\"internal\"}";
        http_reply(r, status, "application/problem+json", fallback, sizeof(fallback) - 1);
    }
}

bool http_wants_html(const struct http_req *r)
{
    if (r->route) {
        return (r->route->flags & ROUTE_PAGE) != 0;
    }
    return !(r->path && strncmp(r->path, "/api/", 5) == 0);
}

/* Fixed bilingual texts for the built-in error page. */
static void status_texts(int status, const char **ar, const char **en)
{
    switch (status) {
    case 400:
        *ar = "طلب غير صالح";
        *en = "Bad request";
        break;
    case 401:
        *ar = "يلزم تسجيل الدخول";
        *en = "Login required";
        break;
    case 403:
        *ar = "غير مسموح";
        *en = "Not allowed";
        break;
    case 404:
        *ar = "الصفحة غير موجودة";
        *en = "Page not found";
        break;
    case 405:
        *ar = "الطريقة غير مسموحة";
        *en = "Method not allowed";
        break;
    case 409:
        *ar = "تعارض مع بيانات موجودة";
        *en = "Conflict with existing data";
        break;
    case 413:
        *ar = "الطلب كبير جدًا";
        *en = "Request too large";
        break;
    case 422:
        *ar = "بيانات غير صالحة";
        *en = "Invalid data";
        break;
    case 429:
        *ar = "طلبات كثيرة جدًا";
        *en = "Too many requests";
        break;
    case 503:
        *ar = "الخدمة غير متاحة مؤقتًا";
        *en = "Service temporarily unavailable";
        break;
    default:
        *ar = "حدث خطأ";
        *en = "Something went wrong";
        break;
    }
}

void http_reply_error_page(struct http_req *r, int status, const char *code, const char *detail)
{
    struct buf b = BUF_INIT;
    if (asset_find("templates/error.html") && asset_find("templates/layout.html")) {
        /* the web shell's templates: error.html rendered inside layout.html */
        const char *message = code ? problem_title(r, code, NULL, NULL) : NULL;
        if (!message && status < 500) {
            message = detail;
        }
        json_t *ctx = json_pack("{s:i}", "status", status);
        if (message) {
            json_object_set_new(ctx, "message", json_string(message));
        }
        struct buf content = BUF_INIT;
        struct err e;
        err_clear(&e);
        int rc = tmpl_render("error", ctx, r->lang, &content, &e);
        json_decref(ctx);
        if (rc == 0) {
            /* csrf is always present: the layout's inverted {{^csrf}} needs a value */
            json_t *lctx = json_pack("{s:s%, s:s, s:s}", "content", content.buf, content.len,
                                     "path", r->path ? r->path : "/", "csrf",
                                     r->csrf_token ? r->csrf_token : "");
            if (lctx && i18n_has("error.title")) {
                json_object_set_new(lctx, "title", json_string(i18n_get(r->lang, "error.title")));
            }
            rc = lctx ? tmpl_render("layout", lctx, r->lang, &b, &e) : -1;
            json_decref(lctx);
        }
        buf_release(&content);
        if (rc == 0) {
            http_reply_html(r, status, &b);
            return;
        }
        buf_reset(&b);
    }
    const char *ar, *en;
    status_texts(status, &ar, &en);
    bool is_en = strcmp(r->lang, "en") == 0;
    buf_addf(&b, "<!doctype html>\n<html lang=\"%s\" dir=\"%s\">\n<head><meta charset=\"utf-8\">"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                 "<title>%d</title></head>\n<body>\n<main>\n",
             is_en ? "en" : "ar", is_en ? "ltr" : "rtl", status);
    buf_addf(&b, "<h1>%d</h1>\n<p lang=\"ar\" dir=\"rtl\">%s</p>\n<p lang=\"en\" dir=\"ltr\">%s</p>\n",
             status, ar, en);
    if (detail && *detail && status < 500) {
        buf_adds(&b, "<p>");
        html_escape(&b, detail);
        buf_adds(&b, "</p>\n");
    }
    buf_adds(&b, "<p><a href=\"/\">الرئيسية</a> · <a href=\"/\">Home</a></p>\n");
    if (r->request_id[0]) {
        buf_adds(&b, "<p><small>");
        html_escape(&b, r->request_id);
        buf_adds(&b, "</small></p>\n");
    }
    buf_adds(&b, "</main>\n</body>\n</html>\n");
    http_reply_html(r, status, &b);
}

void http_reply_err(struct http_req *r, const struct err *e)
{
    int status = http_status_of(e->kind);
    if (e->kind == ERR_LIMIT && strcmp(e->code, "too_many_requests") == 0) {
        status = 429;
    }
    if (e->kind == ERR_NONE) {
        status = 500;
    }
    const char *code = e->code[0] ? e->code : "error";
    const char *detail = e->msg[0] ? e->msg : code;
    if (status >= 500) {
        log_error("request failed", "status=%d code=%s", status, code);
    }
    if (http_wants_html(r)) {
        /* internal details are for the log, not for the visitor */
        http_reply_error_page(r, status, code, status >= 500 ? NULL : detail);
        return;
    }
    if (status == 500) {
        detail = "internal error";
    }
    http_reply_problem(r, status, code, e->field[0] ? e->field : NULL, detail, NULL);
}

void http_redirect(struct http_req *r, const char *location)
{
    if (!http_local_path(location)) {
        log_warn("redirect to a non-local location refused", NULL);
        location = "/";
    }
    http_add_header(r, "Location", location);
    http_reply(r, 303, "text/plain; charset=utf-8", "", 0);
}

void http_add_header(struct http_req *r, const char *name, const char *value)
{
    struct http_priv *p = r->priv;
    if (!name || !value || strpbrk(value, "\r\n") || strpbrk(name, "\r\n: ")) {
        log_error("response header refused", NULL);
        return;
    }
    http_kvs_add(&r->arena, &p->reply_headers, arena_strdup(&r->arena, name),
                 arena_strdup(&r->arena, value));
}

void http_set_cookie(struct http_req *r, const char *name, const char *value, int max_age,
                     bool http_only)
{
    char *c = http_cookie_build(&r->arena, name, value, max_age, http_only, r->tls);
    if (!c) {
        log_error("cookie with forbidden characters not set", NULL);
        return;
    }
    http_add_header(r, "Set-Cookie", c);
}

void http_security_headers(struct http_req *r, struct http_kvs *list)
{
    struct http_priv *p = r->priv;
    struct arena *a = &r->arena;
    http_kvs_add(a, list, "Content-Security-Policy", CSP);
    http_kvs_add(a, list, "X-Content-Type-Options", "nosniff");
    http_kvs_add(a, list, "X-Frame-Options", "DENY");
    http_kvs_add(a, list, "Referrer-Policy", "no-referrer");
    http_kvs_add(a, list, "Permissions-Policy", "camera=(), microphone=(), geolocation=()");
    http_kvs_add(a, list, "Cross-Origin-Opener-Policy", "same-origin");
    if (r->tls) {
        http_kvs_add(a, list, "Strict-Transport-Security", "max-age=63072000; includeSubDomains");
    }
    if (r->request_id[0]) {
        http_kvs_add(a, list, "X-Request-Id", r->request_id);
    }
    if (!p->is_static) {
        http_kvs_add(a, list, "Cache-Control", "no-store");
    }
}
