/*
 * finance_web.c: the routes of the books: the JSON API under
 * /api/v1/finance (docs/api.md) and the pages under /finance
 * (overview, journal, one entry with its reversal, a manual entry form, the
 * three reports with CSV downloads, periods and rates). Reads run in
 * read-only transactions; the services open their own write transactions
 * and audit. Pages work without JavaScript, RTL first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "children/export.h"
#include "core/text.h"
#include "finance/ledger_internal.h"
#include "web/i18n.h"
#include "web/page.h"
#include "core/banned.h"

/* Most rows the manual entry form shows. */
#define FORM_MAX_ROWS 20

/* A read of the books for request r: returns a new value or NULL with e. */
typedef json_t *(*fin_reader)(struct db *db, struct http_req *r, struct err *e);

/* Runs fn in a read-only transaction. Returns its value, or NULL after
 * replying with the failure. */
static json_t *read_or_reply(struct http_req *r, fin_reader fn)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return NULL;
    }
    struct err e;
    err_clear(&e);
    json_t *v = NULL;
    if (db_begin(db, true, &e) == 0) {
        v = fn(db, r, &e);
        db_rollback(db);
    }
    if (!v) {
        http_reply_err(r, &e);
    }
    /* v is a new JSON value; e only told fn where to report a failure. */
    // cppcheck-suppress returnDanglingLifetime
    return v;
}

/* The page number and size from the query (defaults 1 and 50). Returns 0, or -1 with e
 * naming the parameter that is not a whole number in its range. */
static int paging(struct http_req *r, int *page, int *per_page, struct err *e)
{
    static const struct {
        const char *name; /* the query parameter */
        int dflt;         /* its value when absent */
        int max;          /* its largest value (the smallest is 1) */
    } q[] = {{"page", 1, 1000000}, {"per_page", 50, 200}};
    int *out[] = {page, per_page};
    for (size_t i = 0; i < 2; i++) {
        if (page_query_int(r, q[i].name, q[i].dflt, 1, q[i].max, out[i], e) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Readers: each takes its filters from the query string. */
static json_t *rd_entries(struct db *db, struct http_req *r, struct err *e)
{
    int page, per_page;
    if (paging(r, &page, &per_page, e) < 0) {
        return NULL;
    }
    return ledger_entries(db, r->actor, page_query(r, "account"), page_query(r, "fund"),
                          page_query(r, "from"), page_query(r, "to"), page, per_page, e);
}

static json_t *rd_entry(struct db *db, struct http_req *r, struct err *e)
{
    return ledger_entry_get(db, r->actor, r->params[0], e);
}

static json_t *rd_trial(struct db *db, struct http_req *r, struct err *e)
{
    return ledger_trial_balance(db, r->actor, page_query(r, "as_of"), page_query(r, "fund"), e);
}

static json_t *rd_balance(struct db *db, struct http_req *r, struct err *e)
{
    return ledger_balance_sheet(db, r->actor, page_query(r, "as_of"), e);
}

static json_t *rd_income(struct db *db, struct http_req *r, struct err *e)
{
    return ledger_income_statement(db, r->actor, page_query(r, "from"), page_query(r, "to"), e);
}

static json_t *rd_rates(struct db *db, struct http_req *r, struct err *e)
{
    return ledger_rates(db, r->actor, e);
}

static json_t *rd_periods(struct db *db, struct http_req *r, struct err *e)
{
    return ledger_periods(db, r->actor, e);
}

static json_t *rd_settings(struct db *db, struct http_req *r, struct err *e)
{
    if (!actor_can(r->actor, PERM_FINANCE_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to see the books");
        return NULL;
    }
    char base[4];
    if (ledger_base_currency(db, r->actor->org_id, base, e) < 0) {
        return NULL;
    }
    json_t *list = ledger_entries(db, r->actor, NULL, NULL, NULL, NULL, 1, 1, e);
    if (!list) {
        return NULL;
    }
    json_int_t n = json_integer_value(json_object_get(list, "total"));
    json_decref(list);
    return json_pack("{s:s, s:I, s:b}", "base_currency", base, "entries", n,
                     "base_currency_changeable", n == 0);
}

/* ---- API ---------------------------------------------------------------- */

/* Replies 200 with what fn reads. */
static void api_read(struct http_req *r, fin_reader fn)
{
    json_t *v = read_or_reply(r, fn);
    if (v) {
        http_reply_json(r, 200, v);
    }
}

/* GET /api/v1/finance/entries?account=&fund=&from=&to=&page=&per_page= */
static void api_entries(struct http_req *r)
{
    api_read(r, rd_entries);
}

/* GET /api/v1/finance/entries/{id} */
static void api_entry(struct http_req *r)
{
    api_read(r, rd_entry);
}

/* GET /api/v1/finance/trial-balance?as_of=&fund= */
static void api_trial(struct http_req *r)
{
    api_read(r, rd_trial);
}

/* GET /api/v1/finance/balance-sheet?as_of= */
static void api_balance(struct http_req *r)
{
    api_read(r, rd_balance);
}

/* GET /api/v1/finance/income-statement?from=&to= */
static void api_income(struct http_req *r)
{
    api_read(r, rd_income);
}

/* GET /api/v1/finance/rates */
static void api_rates(struct http_req *r)
{
    api_read(r, rd_rates);
}

/* GET /api/v1/finance/periods */
static void api_periods(struct http_req *r)
{
    api_read(r, rd_periods);
}

/* GET /api/v1/finance/settings */
static void api_settings(struct http_req *r)
{
    api_read(r, rd_settings);
}

/* POST /api/v1/finance/entries: a manual entry; 201 {"id"}. */
static void api_post(struct http_req *r)
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
    int rc = ledger_post_manual(db, r->actor, body, id, &errors, &e);
    json_decref(body);
    if (rc < 0) {
        page_reply_problems(r, &e, errors);
        return;
    }
    http_add_header(r, "Location", arena_printf(&r->arena, "/api/v1/finance/entries/%s", id));
    http_reply_json(r, 201, json_pack("{s:s}", "id", id));
}

/* POST /api/v1/finance/entries/{id}/reverse: {"memo"}; 201 {"id"}. */
static void api_reverse(struct http_req *r)
{
    static const char *const names[] = {"memo", NULL};
    static const bool req[] = {false};
    const char *v[1];
    static const size_t max[] = {300};
    json_t *body = page_body_fields(r, names, max, req, v, NULL);
    struct db *db = body ? db_or_reply(r) : NULL;
    if (!db) {
        json_decref(body);
        return;
    }
    struct err e;
    err_clear(&e);
    char id[40];
    int rc = ledger_reverse(db, r->actor, r->params[0], v[0], id, &e);
    json_decref(body);
    if (rc < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_add_header(r, "Location", arena_printf(&r->arena, "/api/v1/finance/entries/%s", id));
    http_reply_json(r, 201, json_pack("{s:s}", "id", id));
}

/* POST /api/v1/finance/rates: {"currency", "day", "rate"}; 201. */
static void api_rate(struct http_req *r)
{
    static const char *const names[] = {"currency", "day", "rate", NULL};
    static const bool req[] = {true, true, true};
    const char *v[3];
    static const size_t max[] = {300, 300, 300};
    json_t *body = page_body_fields(r, names, max, req, v, NULL);
    struct db *db = body ? db_or_reply(r) : NULL;
    if (!db) {
        json_decref(body);
        return;
    }
    struct err e;
    err_clear(&e);
    int rc = ledger_set_rate(db, r->actor, v[0], v[1], v[2], &e);
    json_t *out =
        rc == 0 ? json_pack("{s:s, s:s, s:s}", "currency", v[0], "day", v[1], "rate", v[2]) : NULL;
    json_decref(body);
    if (rc < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 201, out);
}

/* POST /api/v1/finance/periods: {"period": "YYYY-MM"}; 201. */
static void api_close(struct http_req *r)
{
    static const char *const names[] = {"period", NULL};
    static const bool req[] = {true};
    const char *v[1];
    static const size_t max[] = {300};
    json_t *body = page_body_fields(r, names, max, req, v, NULL);
    struct db *db = body ? db_or_reply(r) : NULL;
    if (!db) {
        json_decref(body);
        return;
    }
    struct err e;
    err_clear(&e);
    int rc = ledger_close_period(db, r->actor, v[0], &e);
    json_t *out = rc == 0 ? json_pack("{s:s, s:b}", "period", v[0], "closed", 1) : NULL;
    json_decref(body);
    if (rc < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 201, out);
}

/* PATCH /api/v1/finance/settings: {"base_currency"}; answers the settings. */
static void api_settings_set(struct http_req *r)
{
    static const char *const names[] = {"base_currency", NULL};
    static const bool req[] = {true};
    const char *v[1];
    static const size_t max[] = {300};
    json_t *body = page_body_fields(r, names, max, req, v, NULL);
    struct db *db = body ? db_or_reply(r) : NULL;
    if (!db) {
        json_decref(body);
        return;
    }
    struct err e;
    err_clear(&e);
    int rc = ledger_set_base_currency(db, r->actor, v[0], &e);
    json_decref(body);
    if (rc < 0) {
        http_reply_err(r, &e);
        return;
    }
    api_settings(r);
}

/* ---- pages -------------------------------------------------------------- */

/* "1010 · Bank accounts" for an account code. */
static const char *account_text(struct http_req *r, const char *code)
{
    if (strcmp(code, "surplus") == 0) {
        return page_label(r, "fin", "surplus");
    }
    return arena_printf(&r->arena, "%s · %s", code, page_label(r, "fin.account", code));
}

/* Adds account_label, fund_label, kind_label and source_label to every
 * object of arr that has the matching member. */
static void label_rows(struct http_req *r, json_t *arr)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        if (json_is_string(json_object_get(o, "account"))) {
            json_object_set_new(o, "account_label",
                                json_string(account_text(r, json_str_or(o, "account", ""))));
        }
        if (json_is_string(json_object_get(o, "fund"))) {
            json_object_set_new(o, "fund_label",
                                json_string(page_label(r, "fin.fund", json_str_or(o, "fund", ""))));
        }
        if (json_is_string(json_object_get(o, "kind"))) {
            json_object_set_new(o, "kind_label",
                                json_string(page_label(r, "fin.kind", json_str_or(o, "kind", ""))));
        }
        if (json_is_string(json_object_get(o, "source_kind"))) {
            json_object_set_new(
                o, "source_label",
                json_string(page_label(r, "fin.source", json_str_or(o, "source_kind", ""))));
        }
        json_t *lines = json_object_get(o, "lines");
        if (json_is_array(lines)) {
            label_rows(r, lines);
        }
    }
}

/* Options for the accounts ({value, label, selected}), a blank one first
 * labelled by blank_key when not NULL. */
static json_t *account_options(struct http_req *r, const char *selected, const char *blank_key)
{
    json_t *opts = json_array();
    if (blank_key) {
        json_array_append_new(opts, json_pack("{s:s, s:s, s:b}", "value", "", "label",
                                              i18n_get(r->lang, blank_key), "selected",
                                              !selected || !*selected));
    }
    for (int i = 0; i < ledger_n_accounts(); i++) {
        const char *code = ledger_account_code(i);
        json_array_append_new(opts, json_pack("{s:s, s:s, s:b}", "value", code, "label",
                                              account_text(r, code), "selected",
                                              selected && strcmp(selected, code) == 0));
    }
    return opts;
}

/* Options for the funds, a blank one first labelled by blank_key when not NULL. */
static json_t *fund_options(struct http_req *r, const char *selected, const char *blank_key)
{
    return page_options(r, "fin.fund", FUNDS, selected, blank_key);
}

/* Appends name=value (percent-encoded) to b, with '&' between pairs. */
static void add_param(struct buf *b, const char *name, const char *value)
{
    if (!value || !*value) {
        return;
    }
    buf_addf(b, "%s%s=", b->len ? "&" : "", name);
    page_add_pct(b, value);
}

/* The current query's filters (names, NULL-terminated) as "a=1&b=2", plus
 * extra=value when extra is not NULL; in r's arena. */
static const char *query_with(struct http_req *r, const char *const *names, const char *extra,
                              const char *value)
{
    struct buf b = BUF_INIT;
    for (int i = 0; names[i]; i++) {
        add_param(&b, names[i], page_query(r, names[i]));
    }
    if (extra) {
        add_param(&b, extra, value);
    }
    const char *out = arena_strdup(&r->arena, b.buf);
    buf_release(&b);
    return out;
}

/* Whether the request asks for CSV (?format=csv). */
static bool wants_csv(struct http_req *r)
{
    const char *f = page_query(r, "format");
    return f && strcmp(f, "csv") == 0;
}

/* Appends a CSV row of n cells. */
static void csv_row(struct buf *b, const char *const *cells, int n)
{
    for (int i = 0; i < n; i++) {
        if (i) {
            buf_addch(b, ',');
        }
        export_csv_cell(b, cells[i]);
    }
    buf_adds(b, "\r\n");
}

/* GET /finance: the overview. */
static void page_overview(struct http_req *r)
{
    json_t *settings = read_or_reply(r, rd_settings);
    if (!settings) {
        return;
    }
    json_t *tb = read_or_reply(r, rd_trial);
    if (!tb) {
        json_decref(settings);
        return;
    }
    bool balanced = json_integer_value(json_object_get(tb, "base_balance")) == 0;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(tb, "totals"), i, t)
    {
        balanced = balanced && json_integer_value(json_object_get(t, "balance")) == 0;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(settings);
        json_decref(tb);
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *recent = NULL;
    if (db_begin(db, true, &e) == 0) {
        recent = ledger_entries(db, r->actor, NULL, NULL, NULL, NULL, 1, 5, &e);
        db_rollback(db);
    }
    if (!recent) {
        json_decref(settings);
        json_decref(tb);
        http_reply_err(r, &e);
        return;
    }
    label_rows(r, json_object_get(recent, "items"));
    json_t *ctx = json_pack(
        "{s:O, s:O, s:b, s:b, s:O, s:O, s:b, s:b}", "base_currency",
        json_object_get(settings, "base_currency"), "as_of", json_object_get(tb, "as_of"),
        "balanced", balanced, "empty", json_array_size(json_object_get(tb, "totals")) == 0,
        "totals", json_object_get(tb, "totals"), "recent", json_object_get(recent, "items"),
        "can_write", actor_can(r->actor, PERM_FINANCE_WRITE), "base_changeable",
        json_is_true(json_object_get(settings, "base_currency_changeable")) &&
            actor_can(r->actor, PERM_FINANCE_WRITE));
    json_decref(settings);
    json_decref(tb);
    json_decref(recent);
    page_reply(r, 200, "fin_overview", "fin.title.overview", ctx);
}

/* POST /finance/settings: base_currency (while the books are empty). */
static void page_settings_set(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (ledger_set_base_currency(db, r->actor, http_form(r, "base_currency"), &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_redirect(r, "/finance?ok=flash.fin_saved");
}

/* GET /finance/journal?account=&fund=&from=&to=&page= */
static void page_journal(struct http_req *r)
{
    json_t *list = read_or_reply(r, rd_entries);
    if (!list) {
        return;
    }
    json_t *items = json_object_get(list, "items");
    label_rows(r, items);
    static const char *const filters[] = {"account", "fund", "from", "to", NULL};
    int page = (int)json_integer_value(json_object_get(list, "page"));
    int per_page = (int)json_integer_value(json_object_get(list, "per_page"));
    json_int_t total = json_integer_value(json_object_get(list, "total"));
    char np[16], pp[16];
    snprintf(np, sizeof(np), "%d", page + 1);
    snprintf(pp, sizeof(pp), "%d", page - 1);
    json_t *ctx =
        json_pack("{s:O, s:b, s:I, s:i, s:o, s:o, s:s, s:s, s:s?, s:s?}", "items", items, "none",
                  json_array_size(items) == 0, "total", total, "page", page, "accounts",
                  account_options(r, page_query(r, "account"), "fin.all_accounts"), "funds",
                  fund_options(r, page_query(r, "fund"), "fin.all_funds"), "from",
                  page_query(r, "from") ? page_query(r, "from") : "", "to",
                  page_query(r, "to") ? page_query(r, "to") : "", "next",
                  (json_int_t)page * per_page < total ? query_with(r, filters, "page", np) : NULL,
                  "prev", page > 1 ? query_with(r, filters, "page", pp) : NULL);
    json_decref(list);
    page_reply(r, 200, "fin_journal", "fin.title.journal", ctx);
}

/* Renders one entry's page, with the reversal form's error when fe is set. */
static void entry_page(struct http_req *r, int status, const struct err *fe, const char *memo)
{
    json_t *entry = read_or_reply(r, rd_entry);
    if (!entry) {
        return;
    }
    json_t *arr = json_array();
    json_array_append(arr, entry);
    label_rows(r, arr);
    json_decref(arr);
    bool reversible = json_is_null(json_object_get(entry, "reverses_id")) &&
                      json_is_null(json_object_get(entry, "reversed_by"));
    json_t *ctx =
        json_pack("{s:o, s:b, s:s}", "entry", entry, "can_reverse",
                  reversible && actor_can(r->actor, PERM_FINANCE_WRITE), "memo", memo ? memo : "");
    if (fe) {
        page_ctx_error(r, ctx, fe);
    }
    page_reply(r, status, "fin_entry", "fin.title.entry", ctx);
}

/* GET /finance/entries/{id} */
static void page_entry(struct http_req *r)
{
    entry_page(r, 200, NULL, NULL);
}

/* POST /finance/entries/{id}/reverse: memo. */
static void page_reverse(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    const char *memo = http_form(r, "memo");
    if (memo && !utf8_valid(memo, strlen(memo))) {
        memo = NULL;
    }
    struct err e;
    err_clear(&e);
    char id[40];
    if (ledger_reverse(db, r->actor, r->params[0], memo, id, &e) < 0) {
        if (e.kind == ERR_NOT_FOUND || e.kind == ERR_FORBIDDEN) {
            http_reply_err(r, &e);
            return;
        }
        entry_page(r, http_status_of(e.kind), &e, memo);
        return;
    }
    http_redirect(r, arena_printf(&r->arena, "/finance/entries/%s?ok=flash.fin_reversed", id));
}

/* One row of the manual entry form as typed. */
struct form_row {
    const char *account, *fund, *currency, *debit, *credit, *memo; /* form values ("" none) */
    const char *error;                                             /* the row's problems, or NULL */
};

/* Renders the manual entry form with rows (n of them), the date and memo,
 * and the problems: error for the whole form, errors{date, memo}. */
static void form_page(struct http_req *r, int status, const char *date, const char *memo,
                      struct form_row *rows, int n, json_t *field_errors, const char *error)
{
    json_t *settings = read_or_reply(r, rd_settings);
    if (!settings) {
        json_decref(field_errors);
        return;
    }
    json_t *jrows = json_array();
    for (int i = 0; i < n; i++) {
        const char *cur = rows[i].currency && *rows[i].currency
                              ? rows[i].currency
                              : json_str_or(settings, "base_currency", "");
        json_array_append_new(
            jrows,
            json_pack("{s:i, s:i, s:o, s:o, s:s, s:s, s:s, s:s, s:s?}", "i", i, "n", i + 1,
                      "accounts", account_options(r, rows[i].account, "fin.choose"), "funds",
                      fund_options(r,
                                   rows[i].fund && *rows[i].fund ? rows[i].fund : FUND_UNRESTRICTED,
                                   NULL),
                      "currency", cur, "debit", rows[i].debit ? rows[i].debit : "", "credit",
                      rows[i].credit ? rows[i].credit : "", "memo",
                      rows[i].memo ? rows[i].memo : "", "error", rows[i].error));
    }
    char today[11];
    ledger_today(today);
    json_t *ctx = json_pack("{s:s, s:s, s:o, s:i, s:o, s:s?}", "date", date && *date ? date : today,
                            "memo", memo ? memo : "", "rows", jrows, "n_rows", n, "errors",
                            field_errors ? field_errors : json_object(), "error", error);
    json_decref(settings);
    page_reply(r, status, "fin_entry_new", "fin.title.new_entry", ctx);
}

/* GET /finance/entries/new?rows=N */
static void page_new(struct http_req *r)
{
    const char *rv = page_query(r, "rows");
    int n = rv ? atoi(rv) : 4;
    n = n < 2 ? 2 : n > FORM_MAX_ROWS ? FORM_MAX_ROWS : n;
    struct form_row rows[FORM_MAX_ROWS];
    memset(rows, 0, sizeof(rows));
    form_page(r, 200, NULL, NULL, rows, n, NULL, NULL);
}

/* The form value name_i, valid UTF-8, or "". */
static const char *form_at(struct http_req *r, const char *name, int i)
{
    const char *v = http_form(r, arena_printf(&r->arena, "%s_%d", name, i));
    return v && utf8_valid(v, strlen(v)) ? v : "";
}

/* Appends msg to the row's error text. */
static void row_error(struct http_req *r, struct form_row *row, const char *msg)
{
    row->error = row->error ? arena_printf(&r->arena, "%s; %s", row->error, msg)
                            : arena_strdup(&r->arena, msg);
}

/* Parses "lines[i].name" into i; -1 when field is not a line's. */
static int line_index(const char *field)
{
    int i;
    return sscanf(field, "lines[%d]", &i) == 1 ? i : -1;
}

/* POST /finance/entries: date, memo, n_rows, account_i, fund_i, currency_i,
 * debit_i, credit_i, memo_i; "more" adds two rows instead of posting. */
static void page_post(struct http_req *r)
{
    const char *nv = http_form(r, "n_rows");
    int n = nv ? atoi(nv) : 0;
    n = n < 2 ? 2 : n > FORM_MAX_ROWS ? FORM_MAX_ROWS : n;
    struct form_row rows[FORM_MAX_ROWS];
    memset(rows, 0, sizeof(rows));
    for (int i = 0; i < n; i++) {
        rows[i] = (struct form_row){form_at(r, "account", i),
                                    form_at(r, "fund", i),
                                    form_at(r, "currency", i),
                                    form_at(r, "debit", i),
                                    form_at(r, "credit", i),
                                    form_at(r, "memo", i),
                                    NULL};
    }
    const char *date = http_form(r, "date"), *memo = http_form(r, "memo");
    date = date && utf8_valid(date, strlen(date)) ? date : "";
    memo = memo && utf8_valid(memo, strlen(memo)) ? memo : "";
    if (http_form(r, "more")) {
        int more = n + 2 > FORM_MAX_ROWS ? FORM_MAX_ROWS : n + 2;
        form_page(r, 200, date, memo, rows, more, NULL, NULL);
        return;
    }
    /* Rows left blank (no account, no amount) are skipped; map[k] is the row
     * of the entry's line k. */
    int map[FORM_MAX_ROWS], k = 0;
    json_t *lines = json_array();
    for (int i = 0; i < n; i++) {
        if (!*rows[i].account && text_blank(rows[i].debit) && text_blank(rows[i].credit)) {
            continue;
        }
        json_t *l = json_pack("{s:s, s:s, s:s}", "account", rows[i].account, "fund", rows[i].fund,
                              "currency", rows[i].currency);
        static const char *const opt[] = {"debit", "credit", "memo"};
        const char *vals[] = {rows[i].debit, rows[i].credit, rows[i].memo};
        for (int j = 0; j < 3; j++) {
            if (!text_blank(vals[j])) {
                char *v = arena_strdup(&r->arena, vals[j]);
                json_object_set_new(l, opt[j], json_string(j < 2 ? text_trim(v) : vals[j]));
            }
        }
        json_array_append_new(lines, l);
        map[k++] = i;
    }
    json_t *in = json_pack("{s:s, s:s, s:o}", "date", date, "memo", memo, "lines", lines);
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(in);
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *errors = NULL;
    char id[40];
    int rc = ledger_post_manual(db, r->actor, in, id, &errors, &e);
    json_decref(in);
    if (rc == 0) {
        http_redirect(r, arena_printf(&r->arena, "/finance/entries/%s?ok=flash.fin_posted", id));
        return;
    }
    if (e.kind == ERR_FORBIDDEN) {
        json_decref(errors);
        http_reply_err(r, &e);
        return;
    }
    json_t *field_errors = json_object();
    const char *error = NULL;
    if (!errors) {
        /* One problem for the whole entry (unbalanced, closed period, rate). */
        errors = json_pack("[{s:s, s:s, s:s}]", "field", e.field, "code", e.code, "message", e.msg);
    }
    page_localize_errors(r, errors);
    size_t i;
    json_t *p;
    json_array_foreach(errors, i, p)
    {
        const char *field = json_str_or(p, "field", ""), *msg = json_str_or(p, "message", "");
        int li = line_index(field);
        if (li >= 0 && li < k) {
            row_error(r, &rows[map[li]], msg);
        } else if (strcmp(field, "date") == 0 || strcmp(field, "memo") == 0) {
            json_object_set_new(field_errors, field, json_string(msg));
        } else {
            error = error ? arena_printf(&r->arena, "%s; %s", error, msg)
                          : arena_strdup(&r->arena, msg);
        }
    }
    json_decref(errors);
    if (!error) {
        error = i18n_get(r->lang, "fin.fix_below");
    }
    form_page(r, 422, date, memo, rows, n, field_errors, error);
}

/* GET /finance/trial-balance?as_of=&fund=&format=csv */
static void page_trial(struct http_req *r)
{
    json_t *tb = read_or_reply(r, rd_trial);
    if (!tb) {
        return;
    }
    label_rows(r, json_object_get(tb, "rows"));
    if (wants_csv(r)) {
        struct buf b = BUF_INIT;
        const char *head[] = {"account",  "name",  "kind",   "fund",
                              "currency", "debit", "credit", "balance"};
        csv_row(&b, head, 8);
        size_t i;
        json_t *row;
        json_array_foreach(json_object_get(tb, "rows"), i, row)
        {
            const char *cells[] = {json_str_or(row, "account", ""),
                                   page_label(r, "fin.account", json_str_or(row, "account", "")),
                                   json_str_or(row, "kind", ""),
                                   json_str_or(row, "fund", ""),
                                   json_str_or(row, "currency", ""),
                                   json_str_or(row, "debit_text", ""),
                                   json_str_or(row, "credit_text", ""),
                                   json_str_or(row, "balance_text", "")};
            csv_row(&b, cells, 8);
        }
        json_array_foreach(json_object_get(tb, "totals"), i, row)
        {
            const char *cells[] = {"total",
                                   "",
                                   "",
                                   "",
                                   json_str_or(row, "currency", ""),
                                   json_str_or(row, "debit_text", ""),
                                   json_str_or(row, "credit_text", ""),
                                   json_str_or(row, "balance_text", "")};
            csv_row(&b, cells, 8);
        }
        page_reply_csv(
            r, arena_printf(&r->arena, "trial-balance-%s.csv", json_str_or(tb, "as_of", "")), &b);
        json_decref(tb);
        return;
    }
    static const char *const filters[] = {"as_of", "fund", NULL};
    json_object_set_new(tb, "funds", fund_options(r, page_query(r, "fund"), "fin.all_funds"));
    json_object_set_new(tb, "csv", json_string(query_with(r, filters, "format", "csv")));
    json_object_set_new(tb, "none",
                        json_boolean(json_array_size(json_object_get(tb, "rows")) == 0));
    page_reply(r, 200, "fin_trial", "fin.title.trial", tb);
}

/* Labels each fund and the items of its sections. */
static void label_funds(struct http_req *r, json_t *report, const char *const *sections, int n)
{
    label_rows(r, json_object_get(report, "funds"));
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(report, "funds"), i, f)
    {
        for (int s = 0; s < n; s++) {
            label_rows(r, json_object_get(f, sections[s]));
        }
    }
}

/* Appends the CSV of a per-fund report: fund, section, account, name,
 * currency, amount, base amount. */
static void funds_csv(struct http_req *r, json_t *report, const char *const *sections, int n,
                      struct buf *b)
{
    const char *head[] = {"fund",     "section", "account",    "name",
                          "currency", "amount",  "base_amount"};
    csv_row(b, head, 7);
    size_t i, j;
    json_t *f, *it;
    json_array_foreach(json_object_get(report, "funds"), i, f)
    {
        for (int s = 0; s < n; s++) {
            json_array_foreach(json_object_get(f, sections[s]), j, it)
            {
                const char *acct = json_str_or(it, "account", "");
                const char *cells[] = {json_str_or(f, "fund", ""),
                                       sections[s],
                                       acct,
                                       strcmp(acct, "surplus") == 0
                                           ? page_label(r, "fin", "surplus")
                                           : page_label(r, "fin.account", acct),
                                       json_str_or(it, "currency", ""),
                                       json_str_or(it, "amount_text", ""),
                                       json_str_or(it, "base_amount_text", "")};
                csv_row(b, cells, 7);
            }
        }
    }
}

/* GET /finance/balance-sheet?as_of=&format=csv */
static void page_balance(struct http_req *r)
{
    json_t *bs = read_or_reply(r, rd_balance);
    if (!bs) {
        return;
    }
    static const char *const sections[] = {"assets", "liabilities", "net_assets"};
    label_funds(r, bs, sections, 3);
    if (wants_csv(r)) {
        struct buf b = BUF_INIT;
        funds_csv(r, bs, sections, 3, &b);
        page_reply_csv(
            r, arena_printf(&r->arena, "balance-sheet-%s.csv", json_str_or(bs, "as_of", "")), &b);
        json_decref(bs);
        return;
    }
    static const char *const filters[] = {"as_of", NULL};
    json_object_set_new(bs, "csv", json_string(query_with(r, filters, "format", "csv")));
    json_object_set_new(bs, "none",
                        json_boolean(json_array_size(json_object_get(bs, "funds")) == 0));
    page_reply(r, 200, "fin_balance", "fin.title.balance", bs);
}

/* GET /finance/income-statement?from=&to=&format=csv */
static void page_income(struct http_req *r)
{
    json_t *is = read_or_reply(r, rd_income);
    if (!is) {
        return;
    }
    static const char *const sections[] = {"income", "expenses"};
    label_funds(r, is, sections, 2);
    if (wants_csv(r)) {
        struct buf b = BUF_INIT;
        funds_csv(r, is, sections, 2, &b);
        page_reply_csv(r,
                       arena_printf(&r->arena, "income-statement-%s-%s.csv",
                                    json_str_or(is, "from", ""), json_str_or(is, "to", "")),
                       &b);
        json_decref(is);
        return;
    }
    static const char *const filters[] = {"from", "to", NULL};
    json_object_set_new(is, "csv", json_string(query_with(r, filters, "format", "csv")));
    json_object_set_new(is, "none",
                        json_boolean(json_array_size(json_object_get(is, "funds")) == 0));
    page_reply(r, 200, "fin_income", "fin.title.income", is);
}

/* Renders the periods page with the close form's error when fe is set. */
static void periods_page(struct http_req *r, int status, const struct err *fe)
{
    json_t *p = read_or_reply(r, rd_periods);
    if (!p) {
        return;
    }
    json_object_set_new(p, "can_write", json_boolean(actor_can(r->actor, PERM_FINANCE_WRITE)));
    json_object_set_new(p, "none", json_boolean(json_array_size(json_object_get(p, "items")) == 0));
    if (fe) {
        page_ctx_error(r, p, fe);
    }
    page_reply(r, status, "fin_periods", "fin.title.periods", p);
}

/* GET /finance/periods */
static void page_periods(struct http_req *r)
{
    periods_page(r, 200, NULL);
}

/* POST /finance/periods: period (YYYY-MM). */
static void page_close(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (ledger_close_period(db, r->actor, http_form(r, "period"), &e) < 0) {
        periods_page(r, http_status_of(e.kind), &e);
        return;
    }
    http_redirect(r, "/finance/periods?ok=flash.fin_period_closed");
}

/* Renders the rates page with the form (its values and error when fe is set). */
static void rates_page(struct http_req *r, int status, json_t *form, const struct err *fe)
{
    json_t *p = read_or_reply(r, rd_rates);
    if (!p) {
        json_decref(form);
        return;
    }
    char today[11];
    ledger_today(today);
    if (!form) {
        form = json_pack("{s:s, s:s, s:s}", "currency", "", "day", today, "rate", "");
    }
    json_object_set_new(p, "form", form);
    json_object_set_new(p, "can_write", json_boolean(actor_can(r->actor, PERM_FINANCE_WRITE)));
    json_object_set_new(p, "none", json_boolean(json_array_size(json_object_get(p, "items")) == 0));
    if (fe) {
        page_ctx_error(r, p, fe);
    }
    page_reply(r, status, "fin_rates", "fin.title.rates", p);
}

/* GET /finance/rates */
static void page_rates(struct http_req *r)
{
    rates_page(r, 200, NULL, NULL);
}

/* POST /finance/rates: currency, day, rate. */
static void page_rate(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    const char *names[] = {"currency", "day", "rate"};
    const char *v[3];
    json_t *form = json_object();
    for (int i = 0; i < 3; i++) {
        v[i] = http_form(r, names[i]);
        if (v[i] && !utf8_valid(v[i], strlen(v[i]))) {
            v[i] = NULL;
        }
        if (v[i]) {
            v[i] = text_trim(arena_strdup(&r->arena, v[i]));
        }
        json_object_set_new(form, names[i], json_string(v[i] ? v[i] : ""));
    }
    if (v[0]) {
        char *up = arena_strdup(&r->arena, v[0]);
        for (char *c = up; *c; c++) {
            if (*c >= 'a' && *c <= 'z') {
                *c = (char)(*c - 'a' + 'A');
            }
        }
        v[0] = up;
    }
    struct err e;
    err_clear(&e);
    if (ledger_set_rate(db, r->actor, v[0], v[1], v[2], &e) < 0) {
        rates_page(r, http_status_of(e.kind), form, &e);
        return;
    }
    json_decref(form);
    http_redirect(r, "/finance/rates?ok=flash.fin_rate_saved");
}

static const struct route routes[] = {
    {"GET", "/api/v1/finance/entries", api_entries, ROUTE_API, PERM_FINANCE_READ},
    {"POST", "/api/v1/finance/entries", api_post, ROUTE_API, PERM_FINANCE_WRITE},
    {"GET", "/api/v1/finance/entries/{id}", api_entry, ROUTE_API, PERM_FINANCE_READ},
    {"POST", "/api/v1/finance/entries/{id}/reverse", api_reverse, ROUTE_API, PERM_FINANCE_WRITE},
    {"GET", "/api/v1/finance/trial-balance", api_trial, ROUTE_API, PERM_FINANCE_READ},
    {"GET", "/api/v1/finance/balance-sheet", api_balance, ROUTE_API, PERM_FINANCE_READ},
    {"GET", "/api/v1/finance/income-statement", api_income, ROUTE_API, PERM_FINANCE_READ},
    {"GET", "/api/v1/finance/rates", api_rates, ROUTE_API, PERM_FINANCE_READ},
    {"POST", "/api/v1/finance/rates", api_rate, ROUTE_API, PERM_FINANCE_WRITE},
    {"GET", "/api/v1/finance/periods", api_periods, ROUTE_API, PERM_FINANCE_READ},
    {"POST", "/api/v1/finance/periods", api_close, ROUTE_API, PERM_FINANCE_WRITE},
    {"GET", "/api/v1/finance/settings", api_settings, ROUTE_API, PERM_FINANCE_READ},
    {"PATCH", "/api/v1/finance/settings", api_settings_set, ROUTE_API, PERM_FINANCE_WRITE},
    {"GET", "/finance", page_overview, ROUTE_PAGE, PERM_FINANCE_READ},
    {"POST", "/finance/settings", page_settings_set, ROUTE_PAGE, PERM_FINANCE_WRITE},
    {"GET", "/finance/journal", page_journal, ROUTE_PAGE, PERM_FINANCE_READ},
    {"GET", "/finance/entries/new", page_new, ROUTE_PAGE, PERM_FINANCE_WRITE},
    {"POST", "/finance/entries", page_post, ROUTE_PAGE, PERM_FINANCE_WRITE},
    {"GET", "/finance/entries/{id}", page_entry, ROUTE_PAGE, PERM_FINANCE_READ},
    {"POST", "/finance/entries/{id}/reverse", page_reverse, ROUTE_PAGE, PERM_FINANCE_WRITE},
    {"GET", "/finance/trial-balance", page_trial, ROUTE_PAGE, PERM_FINANCE_READ},
    {"GET", "/finance/balance-sheet", page_balance, ROUTE_PAGE, PERM_FINANCE_READ},
    {"GET", "/finance/income-statement", page_income, ROUTE_PAGE, PERM_FINANCE_READ},
    {"GET", "/finance/periods", page_periods, ROUTE_PAGE, PERM_FINANCE_READ},
    {"POST", "/finance/periods", page_close, ROUTE_PAGE, PERM_FINANCE_WRITE},
    {"GET", "/finance/rates", page_rates, ROUTE_PAGE, PERM_FINANCE_READ},
    {"POST", "/finance/rates", page_rate, ROUTE_PAGE, PERM_FINANCE_WRITE},
};

void finance_register(void)
{
    http_routes_add(routes, sizeof(routes) / sizeof(routes[0]));
}
