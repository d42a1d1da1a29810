/*
 * disburse_web.c: the routes of disbursements and in-kind distributions
 * (see disburse.h): the JSON API under /api/v1 and the pages under
 * /sponsorship (the payout lists, a printable list with a signature column,
 * payouts recorded with a reference or a signature photo, in-kind items).
 * Pages work without JavaScript; texts come from i18n/disburse.<lang>.tsv.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "finance/ledger.h"
#include "sponsorship/disburse.h"
#include "sponsorship/sponsorship.h"
#include "web/i18n.h"
#include "web/page.h"
#include "core/banned.h"

/* Lines shown per page of a run (the printed list is paged the same way). */
#define RUN_PAGE_LINES 500

/* ---- shared ---- */

/* Replies to an API failure: a problem+json whose title is in the reader's language. */
static void api_err(struct http_req *r, const struct err *e)
{
    if (e->kind == ERR_INVALID || e->kind == ERR_CONFLICT) {
        http_reply_problem(r, http_status_of(e->kind), e->code, e->field[0] ? e->field : NULL,
                           page_problem_text(r, "ds", e->code, e->field, e->msg), NULL);
        return;
    }
    http_reply_err(r, e);
}

/* True when s ends with suffix. */
static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* s percent-encoded for a query string, in r's arena ("" for NULL). */
static const char *pct(struct http_req *r, const char *s)
{
    struct buf b = BUF_INIT;
    page_add_pct(&b, s);
    const char *out = arena_strdup(&r->arena, b.buf);
    buf_release(&b);
    return out;
}

/* ---- the API ---- */

/* GET /api/v1/disbursements?status=&page=&per_page= */
static void api_list(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    int page, per_page;
    json_t *v = page_query_int(r, "page", 1, 1, 1000000, &page, &e) == 0 &&
                        page_query_int(r, "per_page", 25, 1, 200, &per_page, &e) == 0 &&
                        db_begin(db, true, &e) == 0
                    ? disb_run_list(db, r->actor, http_query(r, "status"), page, per_page, &e)
                    : NULL;
    db_rollback(db);
    if (!v) {
        api_err(r, &e);
        return;
    }
    http_reply_json(r, 200, v);
}

/* POST /api/v1/disbursements: {"period", "currency", "method"} */
static void api_create(struct http_req *r)
{
    static const char *const names[] = {"period", "currency", "method", NULL};
    static const size_t max[] = {7, 3, 20};
    static const bool req[] = {true, true, false};
    const char *v[3];
    json_t *body = page_body_fields(r, names, max, req, v, api_err);
    struct db *db = body ? db_or_reply(r) : NULL;
    if (!db) {
        json_decref(body);
        return;
    }
    struct err e;
    err_clear(&e);
    char id[40], no[32];
    int64_t n = 0, total = 0;
    int rc =
        disb_run_create(db, r->actor, v[0], v[1], v[2] ? v[2] : "cash", id, no, &n, &total, &e);
    json_decref(body);
    if (rc < 0) {
        api_err(r, &e);
        return;
    }
    http_add_header(r, "Location", arena_printf(&r->arena, "/api/v1/disbursements/%s", id));
    http_reply_json(r, 201,
                    json_pack("{s:s, s:s, s:I, s:I}", "id", id, "run_no", no, "n_lines",
                              (json_int_t)n, "total", (json_int_t)total));
}

/* Replies with run id as JSON (read-only transaction). */
static void reply_run(struct http_req *r, const char *id, int status)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *v = db_begin(db, true, &e) == 0 ? disb_run_get(db, r->actor, id, &e) : NULL;
    db_rollback(db);
    if (!v) {
        api_err(r, &e);
        return;
    }
    http_reply_json(r, status, v);
}

/* Replies with run id as CSV in the reader's language. */
static void reply_csv(struct http_req *r, const char *id)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    struct buf b = BUF_INIT;
    int rc = db_begin(db, true, &e) == 0 ? disb_run_csv(db, r->actor, id, r->lang, &b, &e) : -1;
    db_rollback(db);
    if (rc < 0) {
        buf_release(&b);
        api_err(r, &e);
        return;
    }
    page_reply_csv(r, arena_printf(&r->arena, "payouts-%.36s.csv", id), &b);
}

/* GET /api/v1/disbursements/{id} and /api/v1/disbursements/{id}.csv */
static void api_get(struct http_req *r)
{
    const char *id = r->params[0];
    if (ends_with(id, ".csv")) {
        reply_csv(r, arena_printf(&r->arena, "%.*s", (int)(strlen(id) - 4), id));
        return;
    }
    reply_run(r, id, 200);
}

/* POST /api/v1/disbursements/{id}/confirm: {"date"} (optional) */
static void api_confirm(struct http_req *r)
{
    static const char *const names[] = {"date", NULL};
    static const size_t max[] = {10};
    static const bool req[] = {false};
    const char *v[1] = {NULL};
    json_t *body = r->body_len ? page_body_fields(r, names, max, req, v, api_err) : json_object();
    struct db *db = body ? db_or_reply(r) : NULL;
    if (!db) {
        json_decref(body);
        return;
    }
    struct err e;
    err_clear(&e);
    int rc = disb_run_confirm(db, r->actor, r->params[0], v[0], &e);
    json_decref(body);
    if (rc < 0) {
        api_err(r, &e);
        return;
    }
    reply_run(r, r->params[0], 200);
}

/* POST /api/v1/disbursements/{id}/cancel */
static void api_cancel(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (disb_run_cancel(db, r->actor, r->params[0], &e) < 0) {
        api_err(r, &e);
        return;
    }
    reply_run(r, r->params[0], 200);
}

/* Replies with payout line id as {id, run_id, run_no, status, method, paid_on, proof_kind,
 * amount, currency, entry_id}. */
static void reply_line(struct http_req *r, struct db *db, const char *id)
{
    struct err e;
    err_clear(&e);
    struct disb_trace t;
    int found = db_begin(db, true, &e) == 0 ? disb_trace_tx(db, r->actor->org_id, id, &t, &e) : -1;
    db_rollback(db);
    if (found <= 0) {
        if (found == 0) {
            err_set(&e, ERR_NOT_FOUND, "not_found", "id", "no such payout");
        }
        api_err(r, &e);
        return;
    }
    http_reply_json(r, 200,
                    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:I, s:s, s:s?}", "id", id,
                              "run_id", t.run_id, "run_no", t.run_no, "status", t.status, "method",
                              t.method, "paid_on", t.paid_on[0] ? t.paid_on : NULL, "proof_kind",
                              t.proof_kind[0] ? t.proof_kind : NULL, "amount", (json_int_t)t.amount,
                              "currency", t.currency, "entry_id",
                              t.entry_id[0] ? t.entry_id : NULL));
}

/* Fills proof from a multipart or JSON request; for JSON, *body gets the
 * parsed body (the caller decrefs). Returns 0, or -1 after replying. */
static int proof_from_request(struct http_req *r, struct disb_proof *proof, json_t **body)
{
    memset(proof, 0, sizeof(*proof));
    *body = NULL;
    if (strcmp(r->content_type, "multipart/form-data") == 0 ||
        strcmp(r->content_type, "application/x-www-form-urlencoded") == 0) {
        const struct http_upload *u = http_upload(r, "photo");
        if (u && u->len > 0) {
            proof->photo = u->data;
            proof->photo_len = u->len;
        }
        proof->reference = page_form(r, "reference");
        proof->paid_on = page_form(r, "paid_on");
        proof->method = page_form(r, "method");
        return 0;
    }
    static const char *const names[] = {"reference", "paid_on", "method", NULL};
    static const size_t max[] = {100, 10, 20};
    static const bool req[] = {false, false, false};
    const char *v[3];
    *body = page_body_fields(r, names, max, req, v, api_err);
    if (!*body) {
        return -1;
    }
    proof->reference = v[0];
    proof->paid_on = v[1];
    proof->method = v[2];
    return 0;
}

/* POST /api/v1/disbursement-lines/{id}/paid: JSON {"reference", "paid_on", "method"} or
 * multipart (photo, reference, paid_on, method) */
static void api_paid(struct http_req *r)
{
    struct disb_proof proof;
    json_t *body;
    if (proof_from_request(r, &proof, &body) < 0) {
        return;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(body);
        return;
    }
    struct err e;
    err_clear(&e);
    int rc = disb_line_paid(db, r->actor, r->params[0], &proof, &e);
    json_decref(body);
    if (rc < 0) {
        if (e.kind == ERR_LIMIT) {
            http_reply_err(r, &e);
        } else {
            api_err(r, &e);
        }
        return;
    }
    reply_line(r, db, r->params[0]);
}

/* POST /api/v1/disbursement-lines/{id}/failed: {"reason"} */
static void api_failed(struct http_req *r)
{
    static const char *const names[] = {"reason", NULL};
    static const size_t max[] = {500};
    static const bool req[] = {false};
    const char *v[1] = {NULL};
    json_t *body = r->body_len ? page_body_fields(r, names, max, req, v, api_err) : json_object();
    struct db *db = body ? db_or_reply(r) : NULL;
    if (!db) {
        json_decref(body);
        return;
    }
    struct err e;
    err_clear(&e);
    int rc = disb_line_failed(db, r->actor, r->params[0], v[0], &e);
    json_decref(body);
    if (rc < 0) {
        api_err(r, &e);
        return;
    }
    reply_line(r, db, r->params[0]);
}

/* GET .../disbursement-lines/{id}/proof: the photo, audited, never cached. */
static void get_proof(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    struct disb_photo ph;
    if (disb_proof_open(db, r->actor, r->params[0], &ph, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    bool pdf = strcmp(ph.content_type, "application/pdf") == 0;
    http_add_header(r, "Content-Disposition",
                    pdf ? "attachment; filename=\"proof.pdf\"" : "inline; filename=\"proof\"");
    http_reply(r, 200, ph.content_type, ph.data.buf, ph.data.len);
    buf_release(&ph.data);
}

/* POST /api/v1/inkind: the fields of inkind_record */
static void api_inkind_create(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    struct db *db = body ? db_or_reply(r) : NULL;
    if (!db) {
        json_decref(body);
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *errors = NULL;
    char id[40];
    int rc = inkind_record(db, r->actor, body, id, &errors, &e);
    json_decref(body);
    if (rc < 0) {
        if (errors) {
            size_t i;
            json_t *p;
            json_array_foreach(errors, i, p)
            {
                const char *msg = page_problem_text(r, "ds", json_str_or(p, "code", NULL),
                                                    json_str_or(p, "field", NULL),
                                                    json_str_or(p, "message", NULL));
                json_object_set_new(p, "message", json_string(msg));
                json_object_set_new(
                    p, "label",
                    json_string(page_field_label(r, "ds", json_str_or(p, "field", NULL))));
            }
            http_reply_problem(r, 422, "validation_failed", NULL, e.msg,
                               json_pack("{s:o}", "errors", errors));
        } else {
            api_err(r, &e);
        }
        return;
    }
    http_add_header(r, "Location", arena_printf(&r->arena, "/api/v1/inkind?id=%s", id));
    http_reply_json(r, 201, json_pack("{s:s}", "id", id));
}

/* Replies with the in-kind items of child (NULL: the organization's latest). */
static void reply_inkind(struct http_req *r, const char *child)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *v = db_begin(db, true, &e) == 0 ? inkind_list(db, r->actor, child, &e) : NULL;
    db_rollback(db);
    if (!v) {
        api_err(r, &e);
        return;
    }
    http_reply_json(r, 200, v);
}

/* GET /api/v1/inkind?child_id= */
static void api_inkind_list(struct http_req *r)
{
    const char *c = http_query(r, "child_id");
    reply_inkind(r, c && *c ? c : NULL);
}

/* GET /api/v1/children/{id}/inkind */
static void api_child_inkind(struct http_req *r)
{
    reply_inkind(r, r->params[0]);
}

/* ---- pages ---- */

/* Labels a run for the pages: status, method, period, progress. */
static void label_run(struct http_req *r, json_t *run)
{
    const char *st = json_str_or(run, "status", NULL);
    json_object_set_new(run, "status_label", json_string(page_label(r, "ds.status", st)));
    json_object_set_new(run, "status_class",
                        json_string(!strcmp(st, "confirmed")   ? "badge badge-ok"
                                    : !strcmp(st, "cancelled") ? "badge"
                                                               : "badge badge-info"));
    json_object_set_new(run, "method_label",
                        json_string(page_label(r, "ds.method", json_str_or(run, "method", NULL))));
    const char *at = json_str_or(run, "created_at", NULL);
    if (at && strlen(at) >= 16) {
        /* "2026-11-29T21:12:04.206Z" shown as "2026-11-29 21:12" (UTC). */
        json_object_set_new(run, "created_on",
                            json_string(arena_printf(&r->arena, "%.10s %.5s", at, at + 11)));
    }
    json_object_set_new(run, "is_draft", json_boolean(!strcmp(st, "draft")));
    json_object_set_new(run, "is_confirmed", json_boolean(!strcmp(st, "confirmed")));
    json_object_set_new(
        run, "progress",
        json_string(i18n_format(
            &r->arena, r->lang, "ds.progress", "paid",
            arena_printf(&r->arena, "%lld",
                         (long long)json_integer_value(json_object_get(run, "n_paid"))),
            "lines",
            arena_printf(&r->arena, "%lld",
                         (long long)json_integer_value(json_object_get(run, "n_lines"))),
            NULL)));
}

/* GET /sponsorship/disbursements?status=&page= */
static void page_runs(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *status = http_query(r, "status");
    if (status && !text_word_in(DISB_RUN_STATUSES, status)) {
        status = NULL;
    }
    int page;
    json_t *v = page_query_int(r, "page", 1, 1, 1000000, &page, &e) == 0 &&
                        db_begin(db, true, &e) == 0
                    ? disb_run_list(db, r->actor, status, page, 25, &e)
                    : NULL;
    db_rollback(db);
    if (!v) {
        http_reply_err(r, &e);
        return;
    }
    json_t *items = json_object_get(v, "items");
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        label_run(r, it);
    }
    json_int_t total = json_integer_value(json_object_get(v, "total"));
    int pages = (int)((total + 24) / 25);
    json_t *ctx =
        json_pack("{s:O, s:b, s:b, s:b, s:o}", "items", items, "none", json_array_size(items) == 0,
                  "can_write", actor_can(r->actor, PERM_FINANCE_WRITE), "can_inkind",
                  actor_can(r->actor, PERM_SPONSOR_READ), "statuses",
                  page_options(r, "ds.status", DISB_RUN_STATUSES, status, "ds.any"));
    if (page > 1) {
        json_object_set_new(ctx, "prev",
                            json_string(arena_printf(
                                &r->arena,
                                "/sponsorship/disbursements?%s%s"
                                "page=%d",
                                status ? "status=" : "",
                                status ? arena_printf(&r->arena, "%s&", status) : "", page - 1)));
    }
    if (page < pages) {
        json_object_set_new(ctx, "next",
                            json_string(arena_printf(
                                &r->arena,
                                "/sponsorship/disbursements?%s%s"
                                "page=%d",
                                status ? "status=" : "",
                                status ? arena_printf(&r->arena, "%s&", status) : "", page + 1)));
    }
    json_decref(v);
    page_reply(r, 200, "ds_runs", "ds.title", ctx);
}

/* The organization's base currency (the new list's default). */
static void base_currency(struct http_req *r, char out[4])
{
    snprintf(out, 4, "USD");
    struct db *db = db_or_reply(r);
    struct err e;
    err_clear(&e);
    if (db && db_begin(db, true, &e) == 0) {
        ledger_base_currency(db, r->actor->org_id, out, &e);
        db_rollback(db);
    }
}

/* Renders the form of a new list with status, values form (taken) and errors (taken). */
static void new_page(struct http_req *r, int status, json_t *form, json_t *errors,
                     const char *error)
{
    json_t *ctx = json_pack(
        "{s:o, s:o, s:o, s:s?}", "form", form, "errors", errors ? errors : json_object(), "methods",
        page_options(r, "ds.method", PAYOUT_METHODS, json_str_or(form, "method", NULL), NULL),
        "error", error);
    page_reply(r, status, "ds_new", "ds.new", ctx);
}

/* GET /sponsorship/disbursements/new */
static void page_new(struct http_req *r)
{
    int y, m, d;
    time_today(&y, &m, &d);
    if (--m == 0) {
        m = 12;
        y--;
    }
    char cur[4];
    base_currency(r, cur);
    new_page(r, 200,
             json_pack("{s:s, s:s, s:s}", "period", arena_printf(&r->arena, "%04d-%02d", y, m),
                       "currency", cur, "method", "cash"),
             NULL, NULL);
}

/* POST /sponsorship/disbursements: period, currency, method */
static void page_create(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    const char *period = page_form(r, "period"), *currency = page_form(r, "currency"),
               *method = page_form(r, "method");
    char cur[4] = "";
    if (currency && strlen(currency) == 3) {
        for (int i = 0; i < 3; i++) {
            cur[i] =
                (char)(currency[i] >= 'a' && currency[i] <= 'z' ? currency[i] - 32 : currency[i]);
        }
        cur[3] = 0;
        currency = cur;
    }
    struct err e;
    err_clear(&e);
    char id[40], no[32];
    if (disb_run_create(db, r->actor, period, currency, method, id, no, NULL, NULL, &e) < 0) {
        const char *msg = page_problem_text(r, "ds", e.code, e.field, e.msg);
        json_t *errors = json_object();
        if (e.field[0]) {
            json_object_set_new(errors, e.field, json_string(msg));
        }
        new_page(r, e.kind == ERR_INVALID ? 422 : http_status_of(e.kind),
                 json_pack("{s:s, s:s, s:s}", "period", period ? period : "", "currency",
                           currency ? currency : "", "method", method ? method : ""),
                 errors, msg);
        return;
    }
    http_redirect(r,
                  arena_printf(&r->arena, "/sponsorship/disbursements/%s?ok=flash.ds_created", id));
}

/* Renders run id's page with status; failed (may be NULL) is shown at the top
 * and, when line_id is set, beside that line. */
static void run_page(struct http_req *r, int status, const char *id, const struct err *failed,
                     const char *line_id)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    int page;
    json_t *run = page_query_int(r, "page", 1, 1, 100000, &page, &e) == 0 &&
                          db_begin(db, true, &e) == 0
                      ? disb_run_get_page(db, r->actor, id, (int64_t)(page - 1) * RUN_PAGE_LINES,
                                          RUN_PAGE_LINES, &e)
                      : NULL;
    db_rollback(db);
    if (!run) {
        http_reply_err(r, &e);
        return;
    }
    label_run(r, run);
    bool write = actor_can(r->actor, PERM_FINANCE_WRITE);
    bool confirmed = json_is_true(json_object_get(run, "is_confirmed"));
    json_t *lines = json_object_get(run, "lines");
    size_t n = (size_t)json_integer_value(json_object_get(run, "n_lines"));
    size_t from = (size_t)(page - 1) * RUN_PAGE_LINES;
    json_t *shown = json_array();
    const char *today = page_today(r);
    for (size_t k = 0; k < json_array_size(lines); k++) {
        size_t i = from + k;
        json_t *l = json_array_get(lines, k);
        const char *st = json_str_or(l, "status", NULL);
        json_object_set_new(l, "no", json_integer((json_int_t)i + 1));
        json_object_set_new(l, "status_label", json_string(page_label(r, "ds.lstatus", st)));
        json_object_set_new(l, "status_class",
                            json_string(!strcmp(st, "paid")     ? "badge badge-ok"
                                        : !strcmp(st, "failed") ? "badge badge-warn"
                                                                : "badge"));
        json_object_set_new(l, "fund_label",
                            json_string(page_label(r, "ds.fund", json_str_or(l, "fund", NULL))));
        json_object_set_new(
            l, "method_label",
            json_string(page_label(r, "ds.method", json_str_or(l, "method", NULL))));
        const char *cs = json_str_or(l, "child_status", NULL);
        if (cs && strcmp(cs, "active") != 0 && strcmp(cs, "registered") != 0) {
            /* The officer sees that the child left the programme before paying. */
            json_object_set_new(l, "child_status_label",
                                json_string(page_label(r, "ds.child_status", cs)));
        }
        bool payable = confirmed && write && strcmp(st, "paid") != 0;
        json_object_set_new(l, "payable", json_boolean(payable));
        json_object_set_new(l, "can_fail", json_boolean(payable && !strcmp(st, "pending")));
        if (payable) {
            json_object_set_new(
                l, "methods",
                page_options(r, "ds.method", PAYOUT_METHODS, json_str_or(l, "method", NULL), NULL));
        }
        if (failed && line_id && !strcmp(line_id, json_str_or(l, "id", NULL))) {
            json_object_set_new(
                l, "line_error",
                json_string(page_problem_text(r, "ds", failed->code, failed->field, failed->msg)));
            json_object_set_new(l, "line_open", json_true());
        }
        json_array_append(shown, l);
    }
    int pages = (int)((n + RUN_PAGE_LINES - 1) / RUN_PAGE_LINES);
    json_object_del(run, "lines");
    json_t *ctx = json_pack("{s:o, s:o, s:b, s:s, s:b}", "run", run, "lines", shown, "can_write",
                            write, "today", today, "none", n == 0);
    if (pages > 1) {
        json_object_set_new(ctx, "page_text",
                            json_string(i18n_format(&r->arena, r->lang, "ds.page_of", "page",
                                                    arena_printf(&r->arena, "%d", page), "pages",
                                                    arena_printf(&r->arena, "%d", pages), NULL)));
        if (page > 1) {
            json_object_set_new(
                ctx, "prev",
                json_string(arena_printf(&r->arena, "/sponsorship/disbursements/%s?page=%d", id,
                                         page - 1)));
        }
        if (page < pages) {
            json_object_set_new(
                ctx, "next",
                json_string(arena_printf(&r->arena, "/sponsorship/disbursements/%s?page=%d", id,
                                         page + 1)));
        }
    }
    if (failed) {
        json_object_set_new(
            ctx, "error",
            json_string(page_problem_text(r, "ds", failed->code, failed->field, failed->msg)));
    }
    page_reply(r, status, "ds_run", "ds.run", ctx);
}

/* GET /sponsorship/disbursements/{id} */
static void page_run(struct http_req *r)
{
    run_page(r, 200, r->params[0], NULL, NULL);
}

/* POST /sponsorship/disbursements/{id}/confirm (date) and /cancel */
static void page_run_step(struct http_req *r, bool confirm)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    int rc = confirm ? disb_run_confirm(db, r->actor, r->params[0], page_form(r, "date"), &e)
                     : disb_run_cancel(db, r->actor, r->params[0], &e);
    if (rc < 0) {
        if (e.kind == ERR_INVALID || e.kind == ERR_CONFLICT) {
            run_page(r, e.kind == ERR_INVALID ? 422 : 409, r->params[0], &e, NULL);
        } else {
            http_reply_err(r, &e);
        }
        return;
    }
    http_redirect(r, arena_printf(&r->arena, "/sponsorship/disbursements/%s?ok=%s", r->params[0],
                                  confirm ? "flash.ds_confirmed" : "flash.ds_cancelled"));
}

/* POST /sponsorship/disbursements/{id}/confirm */
static void page_confirm(struct http_req *r)
{
    page_run_step(r, true);
}

/* POST /sponsorship/disbursements/{id}/cancel */
static void page_cancel(struct http_req *r)
{
    page_run_step(r, false);
}

/* The run of payout line id ("" when unknown), for the redirect back. */
static void run_of_line(struct http_req *r, struct db *db, const char *id, char run[40])
{
    run[0] = 0;
    struct err e;
    err_clear(&e);
    struct disb_trace t;
    if (db_begin(db, true, &e) == 0 && disb_trace_tx(db, r->actor->org_id, id, &t, &e) == 1) {
        snprintf(run, 40, "%s", t.run_id);
    }
    db_rollback(db);
}

/* POST /sponsorship/disbursement-lines/{id}/paid and /failed (forms) */
static void page_line_step(struct http_req *r, bool paid)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    char run[40];
    run_of_line(r, db, r->params[0], run);
    struct err e;
    err_clear(&e);
    int rc;
    if (paid) {
        struct disb_proof proof;
        json_t *body = NULL;
        if (proof_from_request(r, &proof, &body) < 0) {
            return;
        }
        rc = disb_line_paid(db, r->actor, r->params[0], &proof, &e);
        json_decref(body);
    } else {
        rc = disb_line_failed(db, r->actor, r->params[0], page_form(r, "reason"), &e);
    }
    if (rc < 0) {
        if (run[0] && (e.kind == ERR_INVALID || e.kind == ERR_CONFLICT || e.kind == ERR_LIMIT)) {
            run_page(r,
                     e.kind == ERR_CONFLICT ? 409
                     : e.kind == ERR_LIMIT  ? 413
                                            : 422,
                     run, &e, r->params[0]);
        } else {
            http_reply_err(r, &e);
        }
        return;
    }
    http_redirect(r, arena_printf(&r->arena, "/sponsorship/disbursements/%s?ok=%s#line-%s", run,
                                  paid ? "flash.ds_paid" : "flash.ds_failed", r->params[0]));
}

/* POST /sponsorship/disbursement-lines/{id}/paid */
static void page_paid(struct http_req *r)
{
    page_line_step(r, true);
}

/* POST /sponsorship/disbursement-lines/{id}/failed */
static void page_failed(struct http_req *r)
{
    page_line_step(r, false);
}

/* The form fields of the in-kind page. */
static const char *const inkind_fields[] = {"file_no",        "kind",     "description", "quantity",
                                            "distributed_on", "value",    "currency",    "fund",
                                            "donor_no",       "proof_ref"};
#define N_INKIND_FIELDS (sizeof(inkind_fields) / sizeof(inkind_fields[0]))

/* Renders the in-kind page: the form (form taken, errors taken) and the items of the child
 * chosen by ?file_no= (or the latest of the organization). */
static void inkind_page(struct http_req *r, int status, json_t *form, json_t *errors,
                        const char *error)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(form);
        json_decref(errors);
        return;
    }
    struct err e;
    err_clear(&e);
    const char *file_no = http_query(r, "file_no");
    char child[40] = "";
    json_t *v = NULL;
    bool unknown = false;
    if (db_begin(db, true, &e) == 0) {
        if (file_no && *file_no) {
            int found;
            struct db_stmt *s =
                db_row(db, &e, &found, "SELECT id FROM children WHERE org_id = $1 AND file_no = $2",
                       "tt", r->actor->org_id, file_no);
            if (s) {
                snprintf(child, sizeof(child), "%s", db_col_text(s, 0));
                db_done(s);
            }
            unknown = !child[0] && found == 0;
        }
        if (!err_failed(&e)) {
            v = unknown ? json_pack("{s:[]}", "items")
                        : inkind_list(db, r->actor, child[0] ? child : NULL, &e);
        }
    }
    db_rollback(db);
    if (!v) {
        json_decref(form);
        json_decref(errors);
        http_reply_err(r, &e);
        return;
    }
    json_t *items = json_object_get(v, "items");
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        json_object_set_new(it, "kind_label",
                            json_string(page_label(r, "ds.kind", json_str_or(it, "kind", NULL))));
        if (json_str_or(it, "fund", NULL)) {
            json_object_set_new(
                it, "fund_label",
                json_string(page_label(r, "ds.fund", json_str_or(it, "fund", NULL))));
        }
    }
    bool write = actor_can(r->actor, PERM_SPONSOR_WRITE);
    json_t *ctx = json_pack(
        "{s:O, s:b, s:b, s:o, s:o, s:o, s:o, s:s?, s:s?, s:b}", "items", items, "none",
        json_array_size(items) == 0, "can_write", write, "form", form, "errors",
        errors ? errors : json_object(), "kinds",
        page_options(r, "ds.kind", INKIND_KINDS, json_str_or(form, "kind", NULL), NULL), "funds",
        page_options(r, "ds.fund", FUNDS, json_str_or(form, "fund", NULL), "ds.fund_default"),
        "error", error, "file_no", file_no && *file_no ? file_no : NULL, "unknown", unknown);
    json_decref(v);
    page_reply(r, status, "ds_inkind", "ds.inkind", ctx);
}

/* GET /sponsorship/inkind?file_no= */
static void page_inkind(struct http_req *r)
{
    const char *today = page_today(r);
    const char *file_no = http_query(r, "file_no");
    inkind_page(r, 200,
                json_pack("{s:s, s:s, s:s, s:s}", "file_no", file_no ? file_no : "", "quantity",
                          "1", "distributed_on", today, "kind", "food_parcel"),
                NULL, NULL);
}

/* Looks a child up by file number and a donor by number for the in-kind form:
 * fills input's child_id and donor_id, or adds the problem to errors. */
static int inkind_lookup(struct http_req *r, struct db *db, json_t *input, json_t *errors,
                         struct err *e)
{
    const char *file_no = page_form(r, "file_no");
    const char *donor_no = page_form(r, "donor_no");
    if (db_begin(db, true, e) < 0) {
        return -1;
    }
    int found = 0;
    if (!file_no) {
        json_object_set_new(errors, "file_no",
                            json_string(page_problem_text(r, "ds", "required", "file_no", NULL)));
    } else {
        struct db_stmt *s =
            db_row(db, e, &found, "SELECT id FROM children WHERE org_id = $1 AND file_no = $2",
                   "tt", r->actor->org_id, file_no);
        if (s) {
            json_object_set_new(input, "child_id", json_string(db_col_text(s, 0)));
            db_done(s);
        } else if (found == 0) {
            json_object_set_new(errors, "file_no",
                                json_string(i18n_get(r->lang, "ds.no_such_child")));
        }
    }
    if (found >= 0 && donor_no) {
        struct db_stmt *s =
            db_row(db, e, &found, "SELECT id FROM donors WHERE org_id = $1 AND donor_no = $2", "tt",
                   r->actor->org_id, donor_no);
        if (s) {
            json_object_set_new(input, "donor_id", json_string(db_col_text(s, 0)));
            db_done(s);
        } else if (found == 0) {
            json_object_set_new(errors, "donor_no",
                                json_string(i18n_get(r->lang, "ds.no_such_donor")));
        }
    }
    db_rollback(db);
    return found < 0 ? -1 : 0;
}

/* POST /sponsorship/inkind (form) */
static void page_inkind_create(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    json_t *form = json_object();
    for (size_t i = 0; i < N_INKIND_FIELDS; i++) {
        const char *v = http_form(r, inkind_fields[i]);
        json_object_set_new(form, inkind_fields[i],
                            json_string(v && utf8_valid(v, strlen(v)) ? v : ""));
    }
    json_t *input = json_object();
    static const char *const pass[] = {"kind",  "description", "quantity", "distributed_on",
                                       "value", "currency",    "fund",     "proof_ref"};
    for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++) {
        const char *v = page_form(r, pass[i]);
        if (v) {
            json_object_set_new(input, pass[i], json_string(v));
        }
    }
    if (!page_form(r, "distributed_on")) {
        json_object_set_new(input, "distributed_on", json_string(""));
    }
    if (!page_form(r, "value")) {
        /* The form keeps its currency and fund choices; without a value they mean nothing. */
        json_object_del(input, "currency");
        json_object_del(input, "fund");
    }
    json_t *errors = json_object();
    struct err e;
    err_clear(&e);
    if (inkind_lookup(r, db, input, errors, &e) < 0) {
        json_decref(input);
        json_decref(form);
        json_decref(errors);
        http_reply_err(r, &e);
        return;
    }
    json_t *problems = NULL;
    char id[40];
    int rc = -1;
    if (json_object_size(errors) == 0) {
        rc = inkind_record(db, r->actor, input, id, &problems, &e);
    } else {
        /* Check the other fields too, so every problem shows at once. */
        json_object_set_new(input, "child_id", json_string("00000000-0000-7000-8000-000000000000"));
        json_object_del(input, "donor_id");
        inkind_record(db, r->actor, input, id, &problems, &e);
        err_set(&e, ERR_INVALID, "validation_failed", NULL, "the form has problems");
    }
    json_decref(input);
    if (rc == 0) {
        json_decref(form);
        json_decref(errors);
        http_redirect(r,
                      arena_printf(&r->arena, "/sponsorship/inkind?file_no=%s&ok=flash.ds_inkind",
                                   pct(r, page_form(r, "file_no"))));
        return;
    }
    size_t i;
    json_t *p;
    json_array_foreach(problems, i, p)
    {
        const char *field = json_str_or(p, "field", NULL);
        if (!strcmp(field, "child_id")) {
            continue; /* shown as the file number's problem */
        }
        if (!strcmp(field, "donor_id")) {
            field = "donor_no";
        }
        if (!json_object_get(errors, field)) {
            json_object_set_new(
                errors, field,
                json_string(page_problem_text(r, "ds", json_str_or(p, "code", NULL), field,
                                              json_str_or(p, "message", NULL))));
        }
    }
    json_decref(problems);
    if (e.kind != ERR_INVALID && e.kind != ERR_CONFLICT) {
        json_decref(form);
        json_decref(errors);
        http_reply_err(r, &e);
        return;
    }
    const char *msg = e.kind == ERR_CONFLICT ? page_problem_text(r, "ds", e.code, e.field, e.msg)
                                             : i18n_get(r->lang, "err.validation_failed");
    if (e.kind == ERR_CONFLICT && e.field[0] && !json_object_get(errors, "distributed_on")) {
        json_object_set_new(errors, "distributed_on", json_string(msg));
    }
    inkind_page(r, e.kind == ERR_CONFLICT ? 409 : 422, form, errors, msg);
}

static const struct route routes[] = {
    {"GET", "/api/v1/disbursements", api_list, ROUTE_API, PERM_FINANCE_READ},
    {"POST", "/api/v1/disbursements", api_create, ROUTE_API, PERM_FINANCE_WRITE},
    {"GET", "/api/v1/disbursements/{id}", api_get, ROUTE_API, PERM_FINANCE_READ},
    {"POST", "/api/v1/disbursements/{id}/confirm", api_confirm, ROUTE_API, PERM_FINANCE_WRITE},
    {"POST", "/api/v1/disbursements/{id}/cancel", api_cancel, ROUTE_API, PERM_FINANCE_WRITE},
    {"POST", "/api/v1/disbursement-lines/{id}/paid", api_paid, ROUTE_API, PERM_FINANCE_WRITE},
    {"POST", "/api/v1/disbursement-lines/{id}/failed", api_failed, ROUTE_API, PERM_FINANCE_WRITE},
    {"GET", "/api/v1/disbursement-lines/{id}/proof", get_proof, ROUTE_API, PERM_FINANCE_READ},
    {"GET", "/api/v1/inkind", api_inkind_list, ROUTE_API, PERM_SPONSOR_READ},
    {"POST", "/api/v1/inkind", api_inkind_create, ROUTE_API, PERM_SPONSOR_WRITE},
    {"GET", "/api/v1/children/{id}/inkind", api_child_inkind, ROUTE_API, PERM_SPONSOR_READ},
    {"GET", "/sponsorship/disbursements", page_runs, ROUTE_PAGE, PERM_FINANCE_READ},
    {"POST", "/sponsorship/disbursements", page_create, ROUTE_PAGE, PERM_FINANCE_WRITE},
    {"GET", "/sponsorship/disbursements/new", page_new, ROUTE_PAGE, PERM_FINANCE_WRITE},
    {"GET", "/sponsorship/disbursements/{id}", page_run, ROUTE_PAGE, PERM_FINANCE_READ},
    {"POST", "/sponsorship/disbursements/{id}/confirm", page_confirm, ROUTE_PAGE,
     PERM_FINANCE_WRITE},
    {"POST", "/sponsorship/disbursements/{id}/cancel", page_cancel, ROUTE_PAGE, PERM_FINANCE_WRITE},
    {"POST", "/sponsorship/disbursement-lines/{id}/paid", page_paid, ROUTE_PAGE,
     PERM_FINANCE_WRITE},
    {"POST", "/sponsorship/disbursement-lines/{id}/failed", page_failed, ROUTE_PAGE,
     PERM_FINANCE_WRITE},
    {"GET", "/sponsorship/disbursement-lines/{id}/proof", get_proof, ROUTE_PAGE, PERM_FINANCE_READ},
    {"GET", "/sponsorship/inkind", page_inkind, ROUTE_PAGE, PERM_SPONSOR_READ},
    {"POST", "/sponsorship/inkind", page_inkind_create, ROUTE_PAGE, PERM_SPONSOR_WRITE},
};

void disburse_register(void)
{
    http_routes_add(routes, sizeof(routes) / sizeof(routes[0]));
}
