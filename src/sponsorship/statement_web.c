/*
 * statement_web.c: the routes of statement.h: receipts, annual giving
 * statements and "where the money went", as JSON, as PDF and as printable
 * pages. The routes take any logged-in actor; the service decides (staff
 * with sponsorship.read or finance.read see any donor, a donor only their
 * own, "me" naming it).
 *
 *   GET /api/v1/receipts/{id}                 JSON ({id} or the receipt number)
 *   GET /api/v1/receipts/{id}.pdf             bilingual PDF
 *   GET /api/v1/donors/{id}/statement         JSON (?from=&to=)
 *   GET /api/v1/donors/{id}/statement.pdf     PDF (?from=&to=&lang=)
 *   GET /api/v1/donors/{id}/annual/{year}     JSON; {year}.pdf for the PDF
 *   GET /sponsorship/receipts/{id}            printable bilingual page
 *   GET /sponsorship/donors/{id}/statement    page (?from=&to=)
 *   GET /sponsorship/donors/{id}/annual/{year} page
 */
#include <stdlib.h>
#include <string.h>

#include "core/time.h"
#include "sponsorship/sponsorship.h"
#include "sponsorship/statement.h"
#include "web/i18n.h"
#include "web/page.h"

#include "core/banned.h"

/* Splits "x.pdf" into "x" (in r's arena) and *pdf = true. */
static const char *strip_pdf(struct http_req *r, const char *param, bool *pdf)
{
    size_t n = strlen(param);
    *pdf = n > 4 && strcmp(param + n - 4, ".pdf") == 0;
    return *pdf ? arena_strndup(&r->arena, param, n - 4) : param;
}

/* The language of a PDF: ?lang=ar|en, else the request's. */
static const char *pdf_lang(struct http_req *r)
{
    const char *l = http_query(r, "lang");
    return l && i18n_lang_valid(l) ? l : r->lang;
}

/* Replies with a PDF, shown in the browser, never cached (private data). */
static void reply_pdf(struct http_req *r, struct buf *pdf, const char *name)
{
    char disp[160];
    snprintf(disp, sizeof disp, "inline; filename=\"%s.pdf\"", name);
    http_add_header(r, "Content-Disposition", disp);
    http_add_header(r, "Cache-Control", "private, no-store");
    http_reply(r, 200, "application/pdf", pdf->buf, pdf->len);
}

/* A file name made of the safe characters of s. */
static const char *safe_name(struct http_req *r, const char *s)
{
    char *out = arena_strdup(&r->arena, s && *s ? s : "document");
    for (char *p = out; *p; p++) {
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_')) {
            *p = '_';
        }
    }
    return out;
}

/* Parses a year: 4 digits. Returns it, or 0 after replying 400. */
static int year_or_reply(struct http_req *r, const char *s)
{
    char *end;
    long y = strtol(s, &end, 10);
    if (*end || strlen(s) != 4 || y < 2000 || y > 2100) {
        struct err e;
        err_clear(&e);
        err_set(&e, ERR_INVALID, "invalid_parameter", "year",
                "'year' must be between 2000 and 2100");
        http_reply_err(r, &e);
        return 0;
    }
    return (int)y;
}

/* GET /api/v1/receipts/{id}[.pdf] */
static void api_receipt(struct http_req *r)
{
    bool pdf;
    const char *id = strip_pdf(r, r->params[0], &pdf);
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *j = statement_receipt(db, r->actor, id, &e);
    if (!j) {
        http_reply_err(r, &e);
        return;
    }
    if (!pdf) {
        http_reply_json(r, 200, j);
        return;
    }
    struct buf out = BUF_INIT;
    if (statement_receipt_pdf(j, &out, &e) < 0) {
        http_reply_err(r, &e);
    } else {
        reply_pdf(r, &out, safe_name(r, json_string_value(json_object_get(j, "receipt_no"))));
    }
    buf_release(&out);
    json_decref(j);
}

/* The statement of r's donor and range, or NULL after replying. */
static json_t *where_or_reply(struct http_req *r, const char *donor)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return NULL;
    }
    struct err e;
    err_clear(&e);
    json_t *j = statement_where(db, r->actor, donor, http_query(r, "from"), http_query(r, "to"),
                                &e);
    if (!j) {
        http_reply_err(r, &e);
    }
    return j;
}

/* GET /api/v1/donors/{id}/statement */
static void api_statement(struct http_req *r)
{
    json_t *j = where_or_reply(r, r->params[0]);
    if (j) {
        http_reply_json(r, 200, j);
    }
}

/* GET /api/v1/donors/{id}/statement.pdf */
static void api_statement_pdf(struct http_req *r)
{
    json_t *j = where_or_reply(r, r->params[0]);
    if (!j) {
        return;
    }
    struct err e;
    err_clear(&e);
    struct buf out = BUF_INIT;
    if (statement_where_pdf(j, pdf_lang(r), &out, &e) < 0) {
        http_reply_err(r, &e);
    } else {
        const json_t *d = json_object_get(j, "donor");
        char name[96];
        snprintf(name, sizeof name, "statement-%s-%s-%s",
                 json_string_value(json_object_get(d, "donor_no")),
                 json_string_value(json_object_get(j, "from")),
                 json_string_value(json_object_get(j, "to")));
        reply_pdf(r, &out, safe_name(r, name));
    }
    buf_release(&out);
    json_decref(j);
}

/* GET /api/v1/donors/{id}/annual/{year}[.pdf] */
static void api_annual(struct http_req *r)
{
    bool pdf;
    const char *ys = strip_pdf(r, r->params[1], &pdf);
    int year = year_or_reply(r, ys);
    if (!year) {
        return;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *j = statement_annual(db, r->actor, r->params[0], year, &e);
    if (!j) {
        http_reply_err(r, &e);
        return;
    }
    if (!pdf) {
        http_reply_json(r, 200, j);
        return;
    }
    struct buf out = BUF_INIT;
    if (statement_annual_pdf(j, pdf_lang(r), &out, &e) < 0) {
        http_reply_err(r, &e);
    } else {
        char name[96];
        snprintf(name, sizeof name, "annual-%s-%d",
                 json_string_value(json_object_get(json_object_get(j, "donor"), "donor_no")),
                 year);
        reply_pdf(r, &out, safe_name(r, name));
    }
    buf_release(&out);
    json_decref(j);
}

/* ---- pages ---- */

/* The catalog text of prefix.name in lang, or name when the catalog has
 * none (static or in r's arena). */
static const char *tr(struct http_req *r, const char *lang, const char *prefix, const char *name)
{
    if (!name) {
        return "";
    }
    const char *key = arena_printf(&r->arena, "%s.%s", prefix, name);
    return i18n_has(key) ? i18n_get(lang, key) : name;
}

/* Adds o[key + "_label"] = the text of prefix.o[key] in the page's language. */
static void add_label(struct http_req *r, json_t *o, const char *key, const char *prefix)
{
    const char *v = json_string_value(json_object_get(o, key));
    if (v) {
        json_object_set_new(o, arena_printf(&r->arena, "%s_label", key),
                            json_string(tr(r, r->lang, prefix, v)));
    }
}

/* One row of the bilingual receipt: both labels and the value. */
static void receipt_row(json_t *rows, const char *key, const char *value, bool ltr)
{
    json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:b}", "ar", i18n_get("ar", key), "en",
                                           i18n_get("en", key), "value",
                                           value && *value ? value : "—", "ltr", ltr));
}

/* GET /sponsorship/receipts/{id}: the printable bilingual receipt. */
static void page_receipt(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *j = statement_receipt(db, r->actor, r->params[0], &e);
    if (!j) {
        http_reply_err(r, &e);
        return;
    }
    json_t *donor = json_object_get(j, "donor");
    json_t *pay = json_object_get(j, "payment");
    const char *cur = json_string_value(json_object_get(j, "currency"));
    const char *s = NULL;
    json_t *rows = json_array();
    receipt_row(rows, "st.receipt.number", json_string_value(json_object_get(j, "receipt_no")),
                true);
    receipt_row(rows, "st.receipt.date", json_string_value(json_object_get(j, "issued_on")), true);
    json_t *h = json_object_get(j, "issued_on_hijri");
    s = arena_printf(&r->arena, "%s · %s", json_string_value(json_object_get(h, "ar")),
                     json_string_value(json_object_get(h, "en")));
    receipt_row(rows, "st.receipt.date_hijri", s, false);
    const char *latin = json_string_value(json_object_get(donor, "name_latin"));
    s = arena_printf(&r->arena, "%s%s%s", json_string_value(json_object_get(donor, "name")),
                     latin ? " · " : "", latin ? latin : "");
    receipt_row(rows, "st.receipt.donor", s, false);
    receipt_row(rows, "st.receipt.donor_no", json_string_value(json_object_get(donor, "donor_no")),
                true);
    const char *tn = json_string_value(json_object_get(donor, "tax_name"));
    const char *ti = json_string_value(json_object_get(donor, "tax_id"));
    s = arena_printf(&r->arena, "%s%s%s", tn ? tn : "", tn && ti ? " · " : "", ti ? ti : "");
    receipt_row(rows, "st.receipt.tax", s, false);
    s = arena_printf(&r->arena, "%s %s", json_string_value(json_object_get(j, "amount_text")),
                     cur);
    receipt_row(rows, "st.receipt.amount", s, true);
    const char *m = json_string_value(json_object_get(pay, "method"));
    s = arena_printf(&r->arena, "%s · %s", tr(r, "ar", "st.method", m), tr(r, "en", "st.method", m));
    receipt_row(rows, "st.receipt.method", s, false);
    receipt_row(rows, "st.receipt.received_on",
                json_string_value(json_object_get(pay, "received_on")), true);
    receipt_row(rows, "st.receipt.reference", json_string_value(json_object_get(pay, "reference")),
                true);
    receipt_row(rows, "st.receipt.payment_no",
                json_string_value(json_object_get(pay, "payment_no")), true);
    struct buf pb = BUF_INIT;
    size_t i;
    json_t *pv;
    json_array_foreach(json_object_get(j, "purposes"), i, pv)
    {
        buf_addf(&pb, "%s%s · %s", i ? "، " : "", tr(r, "ar", "st.purpose", json_string_value(pv)),
                 tr(r, "en", "st.purpose", json_string_value(pv)));
    }
    if (!pb.len) {
        buf_addf(&pb, "%s · %s", i18n_get("ar", "st.purpose.sponsorship"),
                 i18n_get("en", "st.purpose.sponsorship"));
    }
    receipt_row(rows, "st.receipt.purpose", pb.buf, false);
    buf_release(&pb);
    s = arena_printf(&r->arena, "%s %s", json_string_value(json_object_get(pay, "fee_text")), cur);
    receipt_row(rows, "st.receipt.fee", s, true);
    json_t *ctx = json_pack("{s:o, s:o, s:{s:s, s:s, s:s, s:s, s:s, s:s}}", "receipt", j, "rows",
                            rows, "both", "title_ar", i18n_get("ar", "st.receipt.title"),
                            "title_en", i18n_get("en", "st.receipt.title"), "voided_ar",
                            i18n_get("ar", "st.receipt.voided"), "voided_en",
                            i18n_get("en", "st.receipt.voided"), "thanks_ar",
                            i18n_get("ar", "st.receipt.thanks"), "thanks_en",
                            i18n_get("en", "st.receipt.thanks"));
    page_reply(r, 200, "st_receipt", "st.page.receipt", ctx);
}

/* GET /sponsorship/donors/{id}/statement */
static void page_statement(struct http_req *r)
{
    json_t *j = where_or_reply(r, r->params[0]);
    if (!j) {
        return;
    }
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(j, "payments"), i, p)
    {
        add_label(r, p, "method", "st.method");
        size_t k;
        json_t *al;
        json_array_foreach(json_object_get(p, "allocations"), k, al)
        {
            add_label(r, al, "state", "st.state");
            add_label(r, al, "purpose", "st.purpose");
            json_object_set_new(al, "first", json_boolean(k == 0));
            json_t *po = json_object_get(al, "payout");
            if (json_is_object(po)) {
                add_label(r, po, "method", "st.payout");
                add_label(r, po, "proof_kind", "st.proof");
            }
        }
    }
    json_t *c;
    json_array_foreach(json_object_get(j, "checks"), i, c)
    {
        add_label(r, c, "item", "st.total");
    }
    /* The totals as labelled rows per currency. */
    static const char *const keys[] = { "given", "fees", "net", "allocated", "passed_on",
                                        "in_payout", "waiting", "advance", "shortfall", "reversed" };
    json_t *t;
    json_array_foreach(json_object_get(j, "totals"), i, t)
    {
        json_t *rows = json_array();
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            json_array_append_new(
                rows, json_pack("{s:s, s:o}", "label", tr(r, r->lang, "st.total", keys[k]), "value",
                                json_incref(json_object_get(
                                    t, arena_printf(&r->arena, "%s_text", keys[k])))));
        }
        json_object_set_new(t, "rows", rows);
    }
    const char *donor = json_string_value(json_object_get(json_object_get(j, "donor"), "id"));
    json_t *ctx = json_pack("{s:o, s:s, s:s}", "st", j, "donor_path", r->params[0], "donor_id",
                            donor ? donor : "");
    page_reply(r, 200, "st_statement", "st.page.statement", ctx);
}

/* GET /sponsorship/donors/{id}/annual/{year} */
static void page_annual(struct http_req *r)
{
    int year = year_or_reply(r, r->params[1]);
    if (!year) {
        return;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *j = statement_annual(db, r->actor, r->params[0], year, &e);
    if (!j) {
        http_reply_err(r, &e);
        return;
    }
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(j, "receipts"), i, it)
    {
        add_label(r, it, "method", "st.method");
    }
    json_t *ctx = json_pack("{s:o, s:s, s:i, s:i}", "an", j, "donor_path", r->params[0], "prev",
                            year - 1, "next", year + 1);
    page_reply(r, 200, "st_annual", "st.page.annual", ctx);
}

static const struct route routes[] = {
    { "GET", "/api/v1/receipts/{id}", api_receipt, ROUTE_API, NULL },
    { "GET", "/api/v1/donors/{id}/statement", api_statement, ROUTE_API, NULL },
    { "GET", "/api/v1/donors/{id}/statement.pdf", api_statement_pdf, ROUTE_API, NULL },
    { "GET", "/api/v1/donors/{id}/annual/{year}", api_annual, ROUTE_API, NULL },
    { "GET", "/sponsorship/receipts/{id}", page_receipt, ROUTE_PAGE, NULL },
    { "GET", "/sponsorship/donors/{id}/statement", page_statement, ROUTE_PAGE, NULL },
    { "GET", "/sponsorship/donors/{id}/annual/{year}", page_annual, ROUTE_PAGE, NULL },
};

void statement_register(void)
{
    http_routes_add(routes, sizeof routes / sizeof routes[0]);
}
