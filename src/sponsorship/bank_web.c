/*
 * bank_web.c: the routes of the bank statement import (see bank.h): the
 * /api/v1 routes and the pages /sponsorship/bank (upload and list) and
 * /sponsorship/bank/{id} (review: certain matches confirmed together,
 * uncertain ones with their candidates and reasons, unmatched ones with a
 * donor search). The pages work without JavaScript.
 *
 * Routes carry no permission of their own: importing and confirming need
 * sponsorship.write or finance.write, seeing needs sponsorship.read or
 * finance.read, and the service decides (a route holds one permission).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "core/buf.h"
#include "core/text.h"
#include "sponsorship/bank.h"
#include "sponsorship/sponsorship.h"
#include "web/i18n.h"
#include "web/page.h"
#include "core/banned.h"

/* Rewrites each problem of a refused statement ({row, column, code,
 * message}) with its message in the request's language. Returns errors. */
static json_t *localize_rows(struct http_req *r, json_t *errors)
{
    size_t i;
    json_t *item;
    json_array_foreach(errors, i, item)
    {
        const char *code = json_string_value(json_object_get(item, "code"));
        char key[64], row[24];
        snprintf(key, sizeof(key), "bk.err.%s", code ? code : "");
        snprintf(row, sizeof(row), "%lld",
                 (long long)json_integer_value(json_object_get(item, "row")));
        const char *problem = i18n_has(key) ? i18n_get(r->lang, key)
                                            : json_string_value(json_object_get(item, "message"));
        json_object_set_new(
            item, "message",
            json_string(i18n_format(&r->arena, r->lang, "bk.row_problem", "row", row, "column",
                                    json_string_value(json_object_get(item, "column")), "problem",
                                    problem ? problem : "", NULL)));
    }
    return errors;
}

/* The statement of an upload: a multipart "file" (with "currency" and
 * "account" fields) or a text/csv body (with ?currency=&account=&filename=).
 * Returns 0, or -1 after replying. */
static int read_upload(struct http_req *r, const char **data, size_t *len, const char **filename,
                       const char **currency, const char **account)
{
    if (strcmp(r->content_type, "multipart/form-data") == 0) {
        const struct http_upload *up = http_upload(r, "file");
        if (!up || up->len == 0) {
            struct err e;
            err_clear(&e);
            err_set(&e, ERR_INVALID, "required", "file", "'file' is required");
            http_reply_err(r, &e);
            return -1;
        }
        *data = (const char *)up->data;
        *len = up->len;
        *filename = up->filename;
        *currency = http_form(r, "currency");
        *account = http_form(r, "account");
        return 0;
    }
    if (strcmp(r->content_type, "text/csv") != 0) {
        http_reply_problem(r, 415, "unsupported_media_type", NULL,
                           "send text/csv or multipart/form-data", NULL);
        return -1;
    }
    *data = r->body;
    *len = r->body_len;
    *filename = http_query(r, "filename");
    *currency = http_query(r, "currency");
    *account = http_query(r, "account");
    return 0;
}

/* Validates the texts of an upload: valid UTF-8 (the file itself is
 * checked by the reader). Returns 0 or -1 with e. */
static int check_upload_texts(const char *currency, const char *account, struct err *e)
{
    if (currency && (strlen(currency) > 8 || !utf8_valid(currency, strlen(currency)))) {
        return err_set(e, ERR_INVALID, "bank_currency", "currency", "unknown currency");
    }
    if (account && !utf8_valid(account, strlen(account))) {
        return err_set(e, ERR_INVALID, "invalid_field", "account", "'account' is not valid text");
    }
    return 0;
}

/* ---- API ---- */

/* POST /api/v1/bank-imports: the statement as text/csv or multipart. */
static void api_import(struct http_req *r)
{
    const char *data, *filename, *currency, *account;
    size_t len;
    if (read_upload(r, &data, &len, &filename, &currency, &account) < 0) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (check_upload_texts(currency, account, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    char id[40];
    json_t *res = NULL;
    if (bank_import(db, r->actor, filename, account, data, len, currency, id, &res, &e) < 0) {
        json_t *errors = res ? json_object_get(res, "errors") : NULL;
        if (errors) {
            localize_rows(r, errors);
            /* no field: it would replace the rows' list by one naming the file */
            http_reply_problem(r, 422, e.code, NULL, e.msg, res);
            return;
        }
        if (res) {
            http_reply_problem(r, http_status_of(e.kind), e.code, e.field[0] ? e.field : NULL,
                               e.msg, res);
            return;
        }
        http_reply_err(r, &e);
        return;
    }
    http_add_header(r, "Location", arena_printf(&r->arena, "/api/v1/bank-imports/%s", id));
    http_reply_json(r, 201, res);
}

/* Reads the imports (reply_read). */
static json_t *read_list(struct db *db, const struct actor *a, const char *arg, struct err *e)
{
    (void)arg;
    return bank_import_list(db, a, e);
}

/* GET /api/v1/bank-imports */
static void api_list(struct http_req *r)
{
    reply_read(r, read_list, NULL, "items");
}

/* Sets obj's "reason_text": its reason codes as one sentence list in the
 * request's language. */
static void reason_text(struct http_req *r, json_t *obj)
{
    struct buf b = BUF_INIT;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(obj, "reason"), i, c)
    {
        buf_addf(&b, "%s%s.", b.len ? " " : "", page_label(r, "bk.reason", json_string_value(c)));
    }
    json_object_set_new(obj, "reason_text", json_string(b.buf));
    buf_release(&b);
}

/* GET /api/v1/bank-imports/{id}: audited (its own transaction); each line
 * and candidate also gets its reasons as text in the reader's language. */
static void api_get(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *imp = bank_import_get(db, r->actor, r->params[0], &e);
    if (!imp) {
        http_reply_err(r, &e);
        return;
    }
    size_t i, k;
    json_t *l, *c;
    json_array_foreach(json_object_get(imp, "lines_detail"), i, l)
    {
        reason_text(r, l);
        json_array_foreach(json_object_get(l, "candidates"), k, c)
        {
            reason_text(r, c);
        }
    }
    http_reply_json(r, 200, imp);
}

/* POST /api/v1/bank-imports/{id}/confirm-certain, body empty (every
 * certain line) or {"lines": [line id...]} (those of them). */
static void api_confirm_certain(struct http_req *r)
{
    json_t *body = NULL, *only = NULL;
    struct err e;
    err_clear(&e);
    if (r->body_len > 0) {
        if (!(body = http_json_body_or_reply(r))) {
            return;
        }
        static const char *const fields[] = {"lines", NULL};
        only = json_object_get(body, "lines");
        if (json_known_members(body, fields, &e) < 0 ||
            (only && (!json_is_array(only) || json_array_size(only) > BANK_MAX_LINES))) {
            if (!err_failed(&e)) {
                err_set(&e, ERR_INVALID, "invalid_field", "lines",
                        "'lines' must be a list of line ids");
            }
            json_decref(body);
            http_reply_err(r, &e);
            return;
        }
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(body);
        return;
    }
    int ok, failed;
    int rc = bank_confirm_certain(db, r->actor, r->params[0], only, &ok, &failed, &e);
    json_decref(body);
    if (rc < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, json_pack("{s:i, s:i}", "confirmed", ok, "failed", failed));
}

/* POST /api/v1/bank-lines/{id}/confirm {"donor_id"?}: an empty body takes
 * the proposal. */
static void api_confirm(struct http_req *r)
{
    const char *donor = NULL;
    json_t *body = NULL;
    struct err e;
    err_clear(&e);
    if (r->body_len > 0) {
        if (!(body = http_json_body_or_reply(r))) {
            return;
        }
        static const char *const fields[] = {"donor_id", NULL};
        if (json_known_members(body, fields, &e) < 0 ||
            json_str_member(body, "donor_id", false, 40, &donor, &e) < 0) {
            json_decref(body);
            http_reply_err(r, &e);
            return;
        }
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(body);
        return;
    }
    char pay[40];
    int rc = bank_line_confirm(db, r->actor, r->params[0], donor, pay, &e);
    json_decref(body);
    if (rc < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(
        r, 200,
        json_pack("{s:s, s:s, s:s}", "id", r->params[0], "status", "confirmed", "payment_id", pay));
}

/* POST /api/v1/bank-lines/{id}/ignore */
static void api_ignore(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (bank_line_ignore(db, r->actor, r->params[0], &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, json_pack("{s:s, s:s}", "id", r->params[0], "status", "ignored"));
}

/* ---- pages ---- */

/* Replaces obj's ISO-8601 member key ("2026-11-29T21:08:54.480Z") by
 * "2026-11-29 21:08" (UTC) for reading. */
static void short_time(json_t *obj, const char *key)
{
    const char *t = json_string_value(json_object_get(obj, key));
    if (t && strlen(t) >= 16 && t[10] == 'T') {
        char out[24];
        snprintf(out, sizeof(out), "%.10s %.5s", t, t + 11);
        json_object_set_new(obj, key, json_string(out));
    }
}

/* Renders /sponsorship/bank with status, the refusal e (may be NULL) and
 * its row problems (may be NULL, taken). */
static void bank_page(struct http_req *r, int status, const struct err *err, json_t *problems)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(problems);
        return;
    }
    struct err e;
    err_clear(&e);
    if (db_begin(db, true, &e) < 0) {
        json_decref(problems);
        http_reply_err(r, &e);
        return;
    }
    json_t *list = bank_import_list(db, r->actor, &e);
    db_rollback(db);
    if (!list) {
        json_decref(problems);
        http_reply_err(r, &e);
        return;
    }
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        short_time(item, "created_at");
    }
    json_t *ctx = json_pack("{s:o, s:b}", "imports", list, "can_write",
                            actor_can(r->actor, PERM_SPONSOR_WRITE) ||
                                actor_can(r->actor, PERM_FINANCE_WRITE));
    const char *cur = http_form(r, "currency");
    json_object_set_new(ctx, "currency", json_string(cur ? cur : ""));
    const char *acc = http_form(r, "account");
    json_object_set_new(ctx, "account", json_string(acc ? acc : ""));
    char lim[64];
    snprintf(lim, sizeof(lim), "%d", BANK_MAX_LINES);
    char mb[16];
    snprintf(mb, sizeof(mb), "%d", BANK_MAX_BYTES / (1024 * 1024));
    json_object_set_new(
        ctx, "limits",
        json_string(i18n_format(&r->arena, r->lang, "bk.limits", "lines", lim, "mb", mb, NULL)));
    if (err) {
        page_ctx_error(r, ctx, err);
    }
    if (problems) {
        json_object_set_new(ctx, "problems", localize_rows(r, problems));
    }
    page_reply(r, status, "bk_imports", "bk.title", ctx);
}

/* GET /sponsorship/bank */
static void page_list(struct http_req *r)
{
    bank_page(r, 200, NULL, NULL);
}

/* POST /sponsorship/bank (multipart: file, currency, account) */
static void page_upload(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    const struct http_upload *up = http_upload(r, "file");
    if (!up || up->len == 0) {
        err_set(&e, ERR_INVALID, "required", "file", "'file' is required");
        bank_page(r, 422, &e, NULL);
        return;
    }
    const char *currency = http_form(r, "currency"), *account = http_form(r, "account");
    if (check_upload_texts(currency, account, &e) < 0) {
        bank_page(r, 422, &e, NULL);
        return;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    char id[40];
    json_t *res = NULL;
    if (bank_import(db, r->actor, up->filename, account, (const char *)up->data, up->len, currency,
                    id, &res, &e) < 0) {
        json_t *problems = res ? json_incref(json_object_get(res, "errors")) : NULL;
        json_decref(res);
        if (e.kind == ERR_FORBIDDEN || e.kind == ERR_UNAVAILABLE || e.kind == ERR_INTERNAL) {
            json_decref(problems);
            http_reply_err(r, &e);
            return;
        }
        bank_page(r, http_status_of(e.kind), &e, problems);
        return;
    }
    json_decref(res);
    http_redirect(r, arena_printf(&r->arena, "/sponsorship/bank/%s?ok=flash.bk_imported", id));
}

/* Adds labels to a reason array: [{code, label}]. */
static json_t *label_reasons(struct http_req *r, json_t *codes)
{
    json_t *out = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(codes, i, c)
    {
        const char *code = json_string_value(c);
        json_array_append_new(
            out, json_pack("{s:s, s:s}", "code", code, "label", page_label(r, "bk.reason", code)));
    }
    return out;
}

/* GET /sponsorship/bank/{id}?line=&q=: the review page; q searches donors
 * for line. */
static void page_review(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *imp = bank_import_get(db, r->actor, r->params[0], &e);
    if (!imp) {
        http_reply_err(r, &e);
        return;
    }
    const char *search_line = http_query(r, "line");
    const char *q = http_query(r, "q");
    json_t *found = NULL;
    if (search_line && q && *q) {
        if (db_begin(db, true, &e) == 0) {
            found = bank_donor_search(db, r->actor, q, &e);
            db_rollback(db);
        }
        if (!found) {
            json_decref(imp);
            http_reply_err(r, &e);
            return;
        }
    }
    bool can_write =
        actor_can(r->actor, PERM_SPONSOR_WRITE) || actor_can(r->actor, PERM_FINANCE_WRITE);
    json_t *certain = json_array(), *uncertain = json_array(), *unmatched = json_array(),
           *done = json_array();
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(imp, "lines_detail"), i, l)
    {
        const char *st = json_string_value(json_object_get(l, "status"));
        json_object_set_new(l, "status_label", json_string(page_label(r, "bk.status", st)));
        json_object_set_new(l, "reasons", label_reasons(r, json_object_get(l, "reason")));
        json_t *c;
        size_t k;
        json_array_foreach(json_object_get(l, "candidates"), k, c)
        {
            json_object_set_new(c, "reasons", label_reasons(r, json_object_get(c, "reason")));
        }
        const char *lid = json_string_value(json_object_get(l, "id"));
        if (found && search_line && lid && strcmp(search_line, lid) == 0) {
            json_object_set(l, "found", found);
            json_object_set_new(l, "q", json_string(q));
        }
        json_object_set_new(l, "can_write", json_boolean(can_write));
        /* the template has no "../": nested sections find these walking outward */
        json_object_set_new(l, "line_id", json_string(lid ? lid : ""));
        json_object_set_new(l, "import_id", json_string(r->params[0]));
        json_t *to = !strcmp(st, "matched")     ? certain
                     : !strcmp(st, "uncertain") ? uncertain
                     : !strcmp(st, "unmatched") ? unmatched
                                                : done;
        json_array_append(to, l);
    }
    json_decref(found);
    short_time(imp, "created_at");
    json_object_del(imp, "lines_detail");
    json_object_set_new(imp, "certain", certain);
    json_object_set_new(imp, "uncertain", uncertain);
    json_object_set_new(imp, "unmatched", unmatched);
    json_object_set_new(imp, "done", done);
    json_object_set_new(imp, "can_write", json_boolean(can_write));
    page_reply(r, 200, "bk_review", "bk.review_title", imp);
}

/* Back to the review page of the import a decided line belongs to (the
 * form's import_id), with the flash ok (a catalog key). */
static void back_to_review(struct http_req *r, const char *ok)
{
    const char *imp = http_form(r, "import_id");
    if (!imp || strlen(imp) != 36 || strspn(imp, "0123456789abcdef-") != 36) {
        http_redirect(r, "/sponsorship/bank");
        return;
    }
    http_redirect(r, arena_printf(&r->arena, "/sponsorship/bank/%s?ok=%s", imp, ok));
}

/* POST /sponsorship/bank/lines/{id}/confirm (import_id, donor_id?) */
static void page_confirm(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *donor = http_form(r, "donor_id");
    if (bank_line_confirm(db, r->actor, r->params[0], donor && *donor ? donor : NULL, NULL, &e) <
        0) {
        http_reply_err(r, &e);
        return;
    }
    back_to_review(r, "flash.bk_confirmed");
}

/* POST /sponsorship/bank/lines/{id}/ignore (import_id) */
static void page_ignore(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (bank_line_ignore(db, r->actor, r->params[0], &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    back_to_review(r, "flash.bk_ignored");
}

/* POST /sponsorship/bank/{id}/confirm-certain (line: the certain lines
 * left ticked) */
static void page_confirm_certain(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    int ok, failed;
    json_t *only = http_form_all(r, "line");
    int rc = bank_confirm_certain(db, r->actor, r->params[0], only, &ok, &failed, &e);
    json_decref(only);
    if (rc < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_redirect(r, arena_printf(&r->arena, "/sponsorship/bank/%s?ok=%s", r->params[0],
                                  failed ? "flash.bk_some_failed"
                                  : ok   ? "flash.bk_confirmed"
                                         : "flash.bk_none_chosen"));
}

/* Fixed paths before {id} paths. */
static const struct route routes[] = {
    {"POST", "/api/v1/bank-imports", api_import, ROUTE_API, NULL},
    {"GET", "/api/v1/bank-imports", api_list, ROUTE_API, NULL},
    {"GET", "/api/v1/bank-imports/{id}", api_get, ROUTE_API, NULL},
    {"POST", "/api/v1/bank-imports/{id}/confirm-certain", api_confirm_certain, ROUTE_API, NULL},
    {"POST", "/api/v1/bank-lines/{id}/confirm", api_confirm, ROUTE_API, NULL},
    {"POST", "/api/v1/bank-lines/{id}/ignore", api_ignore, ROUTE_API, NULL},
    {"GET", "/sponsorship/bank", page_list, ROUTE_PAGE, NULL},
    {"POST", "/sponsorship/bank", page_upload, ROUTE_PAGE, NULL},
    {"POST", "/sponsorship/bank/lines/{id}/confirm", page_confirm, ROUTE_PAGE, NULL},
    {"POST", "/sponsorship/bank/lines/{id}/ignore", page_ignore, ROUTE_PAGE, NULL},
    {"GET", "/sponsorship/bank/{id}", page_review, ROUTE_PAGE, NULL},
    {"POST", "/sponsorship/bank/{id}/confirm-certain", page_confirm_certain, ROUTE_PAGE, NULL},
};

void bank_register(void)
{
    http_routes_add(routes, sizeof(routes) / sizeof(routes[0]));
}
