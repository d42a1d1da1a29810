#include "web/page.h"

#include <string.h>

#include "auth/auth.h"
#include "auth/authz.h"
#include "core/text.h"
#include "core/time.h"
#include "web/i18n.h"
#include "web/tmpl.h"
#include "core/banned.h"

/* One navigation entry: shown when the actor holds perm. */
static const struct {
    const char *href;  /* target path */
    const char *label; /* catalog key */
    const char *perm;  /* permission needed */
} nav_items[] = {
    {"/", "nav.dashboard", PERM_DASHBOARD},
    {"/children", "nav.children", PERM_CHILDREN_READ},
    {"/children/duplicates", "dup.nav", PERM_CHILDREN_WRITE},
    {"/cases", "nav.cases", PERM_CASES_READ},
    {"/calendar", "nav.calendar", PERM_CASES_READ},
    {"/sponsorship", "nav.sponsorship", PERM_SPONSOR_READ},
    {"/finance", "nav.finance", PERM_FINANCE_READ},
    {"/portal", "nav.portal", PERM_PORTAL},
    {"/users", "nav.users", PERM_USERS_READ},
    {"/tokens", "nav.tokens", PERM_USERS_MANAGE},
    {"/audit", "nav.audit", PERM_AUDIT_READ},
    {"/account", "nav.account", PERM_ACCOUNT_SELF},
};

/* True when path is href or below it ("/" only matches itself). */
static bool nav_covers(const char *href, const char *path)
{
    size_t n = strlen(href);
    if (strcmp(href, "/") == 0) {
        return strcmp(path, "/") == 0;
    }
    return strncmp(path, href, n) == 0 && (!path[n] || path[n] == '/');
}

/* The navigation for r's actor as a JSON array; the entry covering the path
 * most closely is marked active. */
static json_t *nav_for(struct http_req *r)
{
    size_t n_items = sizeof(nav_items) / sizeof(nav_items[0]);
    size_t best = n_items, best_len = 0;
    for (size_t i = 0; i < n_items; i++) {
        size_t len = strlen(nav_items[i].href);
        if (actor_can(r->actor, nav_items[i].perm) && nav_covers(nav_items[i].href, r->path) &&
            len >= best_len) {
            best = i;
            best_len = len;
        }
    }
    json_t *nav = json_array();
    for (size_t i = 0; i < n_items; i++) {
        if (!actor_can(r->actor, nav_items[i].perm)) {
            continue;
        }
        json_array_append_new(nav, json_pack("{s:s, s:s, s:b}", "href", nav_items[i].href,
                                             "label", i18n_get(r->lang, nav_items[i].label),
                                             "active", i == best));
    }
    return nav;
}

void page_reply(struct http_req *r, int status, const char *tmpl, const char *title_key,
                json_t *ctx)
{
    struct err e;
    err_clear(&e);
    if (r->csrf_token) {
        json_object_set_new(ctx, "csrf", json_string(r->csrf_token));
    }
    const char *ok = http_query(r, "ok");
    if (ok && strncmp(ok, "flash.", 6) == 0 && i18n_has(ok) && !json_object_get(ctx, "flash")) {
        json_object_set_new(ctx, "flash", json_pack("{s:s, s:s}", "kind", "ok", "text",
                                                    i18n_get(r->lang, ok)));
    }
    struct buf body = BUF_INIT;
    if (tmpl_render(tmpl, ctx, r->lang, &body, &e) < 0) {
        buf_release(&body);
        json_decref(ctx);
        http_reply_err(r, &e);
        return;
    }
    json_t *layout = json_pack("{s:s, s:s, s:s}", "title", i18n_get(r->lang, title_key), "content",
                               body.buf, "path", r->path);
    buf_release(&body);
    if (r->actor && r->actor->mfa_ok) {
        json_object_set_new(layout, "user",
                            json_pack("{s:s, s:s, s:s}", "name", r->actor->display_name,
                                      "username", r->actor->username, "role",
                                      i18n_get(r->lang, arena_printf(&r->arena, "role.%s",
                                                                     r->actor->role))));
        json_object_set_new(layout, "nav", nav_for(r));
    }
    if (r->csrf_token) {
        json_object_set_new(layout, "csrf", json_string(r->csrf_token));
    }
    json_t *flash = json_object_get(ctx, "flash");
    if (flash) {
        json_object_set(layout, "flash", flash);
    }
    struct buf html = BUF_INIT;
    int rc = tmpl_render("layout", layout, r->lang, &html, &e);
    json_decref(layout);
    json_decref(ctx);
    if (rc < 0) {
        buf_release(&html);
        http_reply_err(r, &e);
        return;
    }
    http_reply_html(r, status, &html);
}

const char *page_label(struct http_req *r, const char *prefix, const char *name)
{
    if (!name) {
        return "";
    }
    const char *key = arena_printf(&r->arena, "%s.%s", prefix, name);
    return i18n_has(key) ? i18n_get(r->lang, key) : name;
}

/* The next word of a space-separated list: *p advances past blanks; returns its length. */
static size_t next_word(const char **p)
{
    while (**p == ' ') {
        (*p)++;
    }
    return strcspn(*p, " ");
}

json_t *page_options(struct http_req *r, const char *prefix, const char *values,
                     const char *selected, const char *blank_key)
{
    json_t *arr = json_array();
    if (blank_key) {
        json_array_append_new(arr, json_pack("{s:s, s:s, s:b}", "value", "", "label",
                                             i18n_get(r->lang, blank_key), "selected",
                                             !selected || !*selected));
    }
    for (const char *p = values;;) {
        size_t n = next_word(&p);
        if (n == 0) {
            break;
        }
        const char *v = arena_printf(&r->arena, "%.*s", (int)n, p);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:b}", "value", v, "label",
                                             page_label(r, prefix, v), "selected",
                                             selected && strcmp(selected, v) == 0));
        p += n;
    }
    return arr;
}

struct db *db_or_reply(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    struct db *db = db_thread(&e);
    if (!db) {
        http_reply_err(r, &e);
    }
    return db;
}

void reply_read(struct http_req *r, page_read_fn fn, const char *arg, const char *wrap)
{
    struct db *db = db_or_reply(r);
    json_t *v = db ? page_read(r, db, fn, arg) : NULL;
    if (v) {
        http_reply_json(r, 200, wrap ? json_pack("{s:o}", wrap, v) : v);
    }
}

void reply_call_wrap(struct http_req *r, page_read_fn fn, const char *arg, const char *wrap)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *v = fn(db, r->actor, arg, &e);
    if (!v) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, wrap ? json_pack("{s:o}", wrap, v) : v);
}

void reply_call(struct http_req *r, page_read_fn fn, const char *arg)
{
    reply_call_wrap(r, fn, arg, NULL);
}

json_t *page_localize_errors(struct http_req *r, json_t *errors)
{
    size_t i;
    json_t *item;
    json_array_foreach(errors, i, item)
    {
        struct err one;
        err_clear(&one);
        err_set(&one, ERR_INVALID, json_string_value(json_object_get(item, "code")),
                json_string_value(json_object_get(item, "field")), "%s",
                json_string_value(json_object_get(item, "message")));
        json_object_set_new(item, "message", json_string(page_err_text(r, &one)));
        char key[96];
        snprintf(key, sizeof(key), "field.%s", one.field);
        if (i18n_has(key)) {
            json_object_set_new(item, "label", json_string(i18n_get(r->lang, key)));
        }
    }
    return errors;
}

void page_reply_problems(struct http_req *r, const struct err *e, json_t *errors)
{
    if (!errors) {
        http_reply_err(r, e);
        return;
    }
    http_reply_problem(r, 422, "validation_failed", NULL, e->msg,
                       json_pack("{s:o}", "errors", page_localize_errors(r, errors)));
}

const char *page_err_text(struct http_req *r, const struct err *e)
{
    char key[80];
    snprintf(key, sizeof(key), "err.%s", e->code);
    if (!i18n_has(key)) {
        return arena_strdup(&r->arena, e->msg);
    }
    const char *field = e->field;
    if (*field) {
        char fkey[96];
        snprintf(fkey, sizeof(fkey), "field.%s", field);
        if (i18n_has(fkey)) {
            field = i18n_get(r->lang, fkey);
        }
    }
    return i18n_format(&r->arena, r->lang, key, "field", field, NULL);
}

void page_ctx_error(struct http_req *r, json_t *ctx, const struct err *e)
{
    const char *text = page_err_text(r, e);
    json_object_set_new(ctx, "error", json_string(text));
    if (e->field[0]) {
        json_t *errors = json_object_get(ctx, "errors");
        if (!errors) {
            errors = json_object();
            json_object_set_new(ctx, "errors", errors);
        }
        json_object_set_new(errors, e->field, json_string(text));
    }
}

int json_str_member(json_t *obj, const char *key, bool required, size_t max_chars,
                    const char **out, struct err *e)
{
    *out = NULL;
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required) {
            return err_set(e, ERR_INVALID, "required", key, "'%s' is required", key);
        }
        return 0;
    }
    if (!json_is_string(v)) {
        return err_set(e, ERR_INVALID, "invalid_type", key, "'%s' must be a string", key);
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n || !utf8_valid(s, n)) {
        return err_set(e, ERR_INVALID, "invalid_utf8", key,
                       "'%s' holds characters that are not allowed", key);
    }
    if (utf8_length(s, n) > max_chars) {
        return err_set(e, ERR_INVALID, "too_long", key, "'%s' is longer than %zu characters", key,
                       max_chars);
    }
    if (required && text_blank(s)) {
        return err_set(e, ERR_INVALID, "required", key, "'%s' is required", key);
    }
    *out = s;
    return 0;
}

int json_known_members(json_t *obj, const char *const *allowed, struct err *e)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        bool known = false;
        for (int i = 0; allowed[i]; i++) {
            if (strcmp(allowed[i], key) == 0) {
                known = true;
                break;
            }
        }
        if (!known) {
            return err_set(e, ERR_INVALID, "unknown_field", key, "unknown field '%s'", key);
        }
    }
    return 0;
}

const char *json_str_or(json_t *obj, const char *key, const char *dflt)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v ? v : dflt;
}

/* v, or NULL when v is NULL or blank. */
static const char *nonblank(const char *v)
{
    return v && !text_blank(v) ? v : NULL;
}

const char *page_query(struct http_req *r, const char *name)
{
    return nonblank(http_query(r, name));
}

int page_query_int(struct http_req *r, const char *name, int dflt, int lo, int hi, int *out,
                   struct err *e)
{
    const char *v = page_query(r, name);
    *out = dflt;
    if (!v) {
        return 0;
    }
    char *end;
    long n = strtol(v, &end, 10);
    if (end == v || *end || n < lo || n > hi) {
        return err_set(e, ERR_INVALID, "invalid_parameter", name,
                       "'%s' must be a whole number from %d to %d", name, lo, hi);
    }
    *out = (int)n;
    return 0;
}

const char *page_form(struct http_req *r, const char *name)
{
    return nonblank(http_form(r, name));
}

const char *page_today(struct http_req *r)
{
    int y, m, d;
    time_today(&y, &m, &d);
    return arena_printf(&r->arena, "%04d-%02d-%02d", y, m, d);
}

json_t *page_body_fields(struct http_req *r, const char *const *names, const size_t *max,
                         const bool *required, const char **out, page_fail_fn fail)
{
    json_t *body = http_json_body_or_reply(r);
    if (!body) {
        return NULL;
    }
    struct err e;
    err_clear(&e);
    int rc = json_known_members(body, names, &e);
    for (int i = 0; rc == 0 && names[i]; i++) {
        rc = json_str_member(body, names[i], required && required[i], max[i], &out[i], &e);
    }
    if (rc < 0) {
        json_decref(body);
        (fail ? fail : http_reply_err)(r, &e);
        return NULL;
    }
    return body;
}

const char *page_field_label(struct http_req *r, const char *prefix, const char *field)
{
    if (!field) {
        return "";
    }
    const char *br = strchr(field, '[');
    const char *name = br ? arena_strndup(&r->arena, field, (size_t)(br - field)) : field;
    const char *key = arena_printf(&r->arena, "%s.f.%s", prefix, name);
    return i18n_has(key) ? i18n_get(r->lang, key) : page_label(r, "field", name);
}

const char *page_problem_text(struct http_req *r, const char *prefix, const char *code,
                              const char *field, const char *fallback)
{
    if (code) {
        const char *key = arena_printf(&r->arena, "%s.err.%s", prefix, code);
        if (!i18n_has(key)) {
            key = arena_printf(&r->arena, "err.%s", code);
        }
        if (i18n_has(key)) {
            return i18n_format(&r->arena, r->lang, key, "field",
                               field && *field ? page_field_label(r, prefix, field) : "", NULL);
        }
    }
    return fallback ? arena_strdup(&r->arena, fallback) : i18n_get(r->lang, "err.bad_request");
}

void page_label_all(struct http_req *r, json_t *arr, const char *member, const char *prefix)
{
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it)
    {
        const char *v = json_str_or(it, member, NULL);
        if (v) {
            json_object_set_new(it, arena_printf(&r->arena, "%s_label", member),
                                json_string(page_label(r, prefix, v)));
        }
    }
}

json_t *page_read(struct http_req *r, struct db *db, page_read_fn fn, const char *arg)
{
    struct err e;
    err_clear(&e);
    json_t *v = NULL;
    if (db_begin(db, true, &e) == 0) {
        v = fn(db, r->actor, arg, &e);
        db_rollback(db);
    }
    if (!v) {
        http_reply_err(r, &e);
    }
    /* v is the reader's new JSON value, never a pointer into e. */
    /* cppcheck-suppress returnDanglingLifetime */
    return v;
}

void page_add_pct(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p)) {
            buf_addch(b, (char)*p);
        } else {
            buf_addch(b, '%');
            buf_addch(b, hex[*p >> 4]);
            buf_addch(b, hex[*p & 15]);
        }
    }
}

void page_reply_csv(struct http_req *r, const char *filename, struct buf *b)
{
    http_add_header(r, "Content-Disposition",
                    arena_printf(&r->arena, "attachment; filename=\"%s\"", filename));
    http_reply(r, 200, "text/csv; charset=utf-8", b->buf, b->len);
    buf_release(b);
}
