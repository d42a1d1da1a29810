/*
 * billing_web.c: the routes of billing (see billing.h): the JSON API under
 * /api/v1/sponsorship/dues, /api/v1/payments, /api/v1/sponsorship/
 * reconciliation and /api/v1/sponsorship/arrears, and the pages under
 * /sponsorship/payments, /sponsorship/dues, /sponsorship/reconciliation and
 * /sponsorship/arrears. Pages work without JavaScript: every action is a
 * plain form that posts and comes back with its error next to the field.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "core/text.h"
#include "core/time.h"
#include "db/db_util.h"
#include "sponsorship/billing.h"
#include "sponsorship/sponsorship.h"
#include "web/i18n.h"
#include "web/page.h"
#include "core/banned.h"

/* Finds a donor of the actor's organization by number (D-000001) or id.
 * Returns the id in the arena, or NULL (e: not_found on field). */
static const char *donor_lookup(struct db *db, struct http_req *r, const char *v, const char *field,
                                struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT id FROM donors WHERE org_id = $1"
                               " AND (donor_no = $2 OR id = $2)",
                               "tt", r->actor->org_id, v);
    if (!s) {
        if (found == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", field, "no donor '%s'", v);
        }
        return NULL;
    }
    const char *id = arena_strdup(&r->arena, db_col_text(s, 0));
    db_done(s);
    return id;
}

/* Runs fn in a read transaction and replies with its value or failure. */
#define READ_REPLY(r, db, e, call)                                                                 \
    do {                                                                                           \
        json_t *res_ = NULL;                                                                       \
        if (db_begin(db, true, &e) == 0) {                                                         \
            res_ = (call);                                                                         \
            db_rollback(db);                                                                       \
        }                                                                                          \
        if (!res_) {                                                                               \
            http_reply_err(r, &e);                                                                 \
            return;                                                                                \
        }                                                                                          \
        http_reply_json(r, 200, res_);                                                             \
    } while (0)

/* ---- API: dues ---------------------------------------------------------- */

/* Fills a dues filter from the query string. */
static int dues_filter_from(struct http_req *r, struct dues_filter *f, struct err *e)
{
    memset(f, 0, sizeof(*f));
    f->payer_id = page_query(r, "payer_id");
    f->sponsorship_id = page_query(r, "sponsorship_id");
    f->child_id = page_query(r, "child_id");
    f->status = page_query(r, "status");
    f->from = page_query(r, "from");
    f->to = page_query(r, "to");
    if (page_query_int(r, "page", 1, 1, 1000000, &f->page, e) < 0 ||
        page_query_int(r, "per_page", 50, 1, 500, &f->per_page, e) < 0) {
        return -1;
    }
    return 0;
}

/* GET /api/v1/sponsorship/dues */
static void api_dues(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    struct dues_filter f;
    struct db *db;
    if (dues_filter_from(r, &f, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    if (!(db = db_or_reply(r))) {
        return;
    }
    READ_REPLY(r, db, e, dues_list(db, r->actor, &f, &e));
}

/* The JSON answer of a run of dues_generate. */
static json_t *dues_result_json(const char *through, const struct dues_result *res)
{
    return json_pack("{s:s, s:I, s:I, s:I, s:I}", "through", through, "dues",
                     (json_int_t)res->n_dues, "agreements", (json_int_t)res->n_agreements,
                     "allocations", (json_int_t)res->n_allocated, "alerts",
                     (json_int_t)res->n_alerts);
}

/* POST /api/v1/sponsorship/dues/generate: {"through": "YYYY-MM-DD"} (default today) */
static void api_dues_generate(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    if (!body) {
        return;
    }
    struct err e;
    err_clear(&e);
    static const char *const allowed[] = {"through", NULL};
    const char *through = NULL;
    struct db *db = NULL;
    if (json_known_members(body, allowed, &e) < 0 ||
        json_str_member(body, "through", false, 10, &through, &e) < 0) {
        json_decref(body);
        http_reply_err(r, &e);
        return;
    }
    if (!through) {
        through = page_today(r);
    }
    through = arena_strdup(&r->arena, through);
    json_decref(body);
    if (!(db = db_or_reply(r))) {
        return;
    }
    struct dues_result res;
    if (dues_generate(db, r->actor, through, &res, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, dues_result_json(through, &res));
}

/* ---- API: payments ------------------------------------------------------ */

/* Fills a payment filter from the query string. */
static int payment_filter_from(struct http_req *r, struct payment_filter *f, struct err *e)
{
    memset(f, 0, sizeof(*f));
    f->donor_id = page_query(r, "donor_id");
    f->status = page_query(r, "status");
    f->method = page_query(r, "method");
    f->from = page_query(r, "from");
    f->to = page_query(r, "to");
    f->q = page_query(r, "q");
    const char *v = page_query(r, "unallocated");
    f->unallocated = v && strcmp(v, "1") == 0;
    if (f->q && utf8_length(f->q, strlen(f->q)) > 100) {
        return err_set(e, ERR_INVALID, "too_long", "q", "'q' is too long");
    }
    if (page_query_int(r, "page", 1, 1, 1000000, &f->page, e) < 0 ||
        page_query_int(r, "per_page", 50, 1, 500, &f->per_page, e) < 0) {
        return -1;
    }
    return 0;
}

/* GET /api/v1/payments */
static void api_payments(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    struct payment_filter f;
    struct db *db;
    if (payment_filter_from(r, &f, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    if (!(db = db_or_reply(r))) {
        return;
    }
    READ_REPLY(r, db, e, payment_list(db, r->actor, &f, &e));
}

/* POST /api/v1/payments: see payment_record_json. 201 {id, receipt_no}. */
static void api_payment_record(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    struct db *db = body ? db_or_reply(r) : NULL;
    if (!db) {
        json_decref(body);
        return;
    }
    struct err e;
    err_clear(&e);
    char id[40], receipt[32];
    int rc = payment_record_json(db, r->actor, body, id, receipt, &e);
    json_decref(body);
    if (rc < 0) {
        http_reply_err(r, &e);
        return;
    }
    json_t *got = NULL;
    if (db_begin(db, true, &e) == 0) {
        got = payment_get(db, r->actor, id, &e);
        db_rollback(db);
    }
    if (!got) {
        got = json_pack("{s:s, s:s}", "id", id, "receipt_no", receipt);
    }
    json_object_set_new(got, "receipt_no", json_string(receipt));
    http_add_header(r, "Location", arena_printf(&r->arena, "/api/v1/payments/%s", id));
    http_reply_json(r, 201, got);
}

/* GET /api/v1/payments/{id} */
static void api_payment_get(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    READ_REPLY(r, db, e, payment_get(db, r->actor, r->params[0], &e));
}

/* Reads {"allocations": [{"due_id", "amount"}]} into reqs (at most max);
 * returns the count or -1. Strings stay in body. */
static int allocs_from_json(json_t *body, struct alloc_req *reqs, int max, struct err *e)
{
    json_t *list = json_object_get(body, "allocations");
    if (!list || json_is_null(list)) {
        return 0;
    }
    if (!json_is_array(list) || (int)json_array_size(list) > max) {
        return err_set(e, ERR_INVALID, "invalid_type", "allocations",
                       "'allocations' is a list of at most %d dues", max);
    }
    size_t i;
    json_t *it;
    json_array_foreach(list, i, it)
    {
        json_t *due = json_object_get(it, "due_id");
        json_t *am = json_object_get(it, "amount");
        if (!json_is_object(it) || !json_is_string(due) ||
            (am && !json_is_null(am) && !json_is_string(am))) {
            return err_set(e, ERR_INVALID, "invalid_type", "allocations",
                           "each allocation is {\"due_id\", \"amount\"}");
        }
        reqs[i].due_id = json_string_value(due);
        reqs[i].amount = json_is_string(am) ? json_string_value(am) : NULL;
    }
    return (int)json_array_size(list);
}

/* Replies with the payment id after a change: 200 and the payment. */
static void reply_payment(struct http_req *r, struct db *db, const char *id, json_t *extra)
{
    struct err e;
    err_clear(&e);
    json_t *got = NULL;
    if (db_begin(db, true, &e) == 0) {
        got = payment_get(db, r->actor, id, &e);
        db_rollback(db);
    }
    if (!got) {
        json_decref(extra);
        http_reply_err(r, &e);
        return;
    }
    if (extra) {
        json_object_update(got, extra);
        json_decref(extra);
    }
    http_reply_json(r, 200, got);
}

/* POST /api/v1/payments/{id}/allocate: {"allocations": [...]} or {} (automatic) */
static void api_payment_allocate(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    if (!body) {
        return;
    }
    struct err e;
    err_clear(&e);
    static const char *const allowed[] = {"allocations", NULL};
    struct alloc_req reqs[100];
    int n = json_known_members(body, allowed, &e) < 0 ? -1 : allocs_from_json(body, reqs, 100, &e);
    struct db *db = n >= 0 ? db_or_reply(r) : NULL;
    if (n < 0) {
        json_decref(body);
        http_reply_err(r, &e);
        return;
    }
    if (!db) {
        json_decref(body);
        return;
    }
    int made = 0;
    int rc = payment_allocate(db, r->actor, r->params[0], reqs, n, &made, &e);
    json_decref(body);
    if (rc < 0) {
        http_reply_err(r, &e);
        return;
    }
    reply_payment(r, db, r->params[0], json_pack("{s:i}", "allocated", made));
}

/* POST /api/v1/payments/{id}/reverse: {"reason"} */
static void api_payment_reverse(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    if (!body) {
        return;
    }
    struct err e;
    err_clear(&e);
    static const char *const allowed[] = {"reason", NULL};
    const char *reason = NULL;
    if (json_known_members(body, allowed, &e) < 0 ||
        json_str_member(body, "reason", true, 500, &reason, &e) < 0) {
        json_decref(body);
        http_reply_err(r, &e);
        return;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(body);
        return;
    }
    int rc = payment_reverse(db, r->actor, r->params[0], reason, &e);
    json_decref(body);
    if (rc < 0) {
        http_reply_err(r, &e);
        return;
    }
    reply_payment(r, db, r->params[0], NULL);
}

/* POST /api/v1/payments/allocate-advances: {"payer_id"} (optional) */
static void api_allocate_advances(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    if (!body) {
        return;
    }
    struct err e;
    err_clear(&e);
    static const char *const allowed[] = {"payer_id", NULL};
    const char *payer = NULL;
    if (json_known_members(body, allowed, &e) < 0 ||
        json_str_member(body, "payer_id", false, 40, &payer, &e) < 0) {
        json_decref(body);
        http_reply_err(r, &e);
        return;
    }
    payer = payer ? arena_strdup(&r->arena, payer) : NULL;
    json_decref(body);
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    int64_t made = 0;
    if (allocate_advances(db, r->actor, payer, &made, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, json_pack("{s:I}", "allocations", (json_int_t)made));
}

/* ---- API: reconciliation and arrears -------------------------------------- */

/* Fills a reconciliation filter from the query string (per_page 0: all). */
static int recon_filter_from(struct http_req *r, struct recon_filter *f, bool all, struct err *e)
{
    memset(f, 0, sizeof(*f));
    f->from = page_query(r, "from");
    f->to = page_query(r, "to");
    f->donor_id = page_query(r, "donor_id");
    f->as_of = page_query(r, "as_of");
    if (all) {
        f->page = 1;
        return 0;
    }
    if (page_query_int(r, "page", 1, 1, 1000000, &f->page, e) < 0 ||
        page_query_int(r, "per_page", 100, 1, 1000, &f->per_page, e) < 0) {
        return -1;
    }
    return 0;
}

/* GET /api/v1/sponsorship/reconciliation (?format=csv for the CSV) */
static void api_reconciliation(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    struct recon_filter f;
    const char *format = page_query(r, "format");
    bool csv = format && strcmp(format, "csv") == 0;
    if (recon_filter_from(r, &f, csv, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    if (csv) {
        struct buf out = BUF_INIT;
        int rc = db_begin(db, true, &e);
        if (rc == 0) {
            rc = billing_reconciliation_csv(db, r->actor, &f, &out, &e);
            db_rollback(db);
        }
        if (rc < 0) {
            buf_release(&out);
            http_reply_err(r, &e);
            return;
        }
        page_reply_csv(r, "reconciliation.csv", &out);
        return;
    }
    READ_REPLY(r, db, e, billing_reconciliation(db, r->actor, &f, &e));
}

/* GET /api/v1/sponsorship/arrears?as_of&limit */
static void api_arrears(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    int limit;
    if (page_query_int(r, "limit", 200, 1, 1000, &limit, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    json_t *res = billing_arrears_view(db, r->actor, page_query(r, "as_of"), limit, &e);
    if (!res) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, res);
}

/* ---- pages -------------------------------------------------------------- */

/* Labels a list's status members ("status" → "status_label") and methods. */
static void label_rows(struct http_req *r, json_t *items)
{
    page_label_all(r, items, "status", "bl.status");
    page_label_all(r, items, "method", "bl.method");
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        const char *st = json_str_or(it, "status", NULL);
        if (st && strcmp(st, "reversed") == 0) {
            json_object_set_new(it, "reversed", json_true());
        }
    }
}

/* The pager members of ctx for a list of total items. base is the page's
 * path with its query (without page), ending in '?' or '&'. */
static void pager(struct http_req *r, json_t *ctx, int64_t total, int page, int per_page,
                  const char *base)
{
    int64_t pages = (total + per_page - 1) / per_page;
    json_object_set_new(
        ctx, "count_text",
        json_string(i18n_format(&r->arena, r->lang, "bl.count", "n",
                                arena_printf(&r->arena, "%lld", (long long)total), NULL)));
    if (pages <= 1) {
        return;
    }
    json_object_set_new(
        ctx, "page_text",
        json_string(i18n_format(&r->arena, r->lang, "bl.page_of", "page",
                                arena_printf(&r->arena, "%d", page), "pages",
                                arena_printf(&r->arena, "%lld", (long long)pages), NULL)));
    if (page > 1) {
        json_object_set_new(ctx, "prev",
                            json_string(arena_printf(&r->arena, "%spage=%d", base, page - 1)));
    }
    if (page < pages) {
        json_object_set_new(ctx, "next",
                            json_string(arena_printf(&r->arena, "%spage=%d", base, page + 1)));
    }
}

/* The query string of r's filters named in keys, ending in '?' or '&'. */
static const char *filter_base(struct http_req *r, const char *path, const char *const *keys)
{
    struct buf b = BUF_INIT;
    buf_addf(&b, "%s?", path);
    for (int i = 0; keys[i]; i++) {
        const char *v = page_query(r, keys[i]);
        if (!v) {
            continue;
        }
        buf_addf(&b, "%s=", keys[i]);
        page_add_pct(&b, v);
        buf_addch(&b, '&');
    }
    const char *out = arena_strdup(&r->arena, b.buf);
    buf_release(&b);
    return out;
}

/* Reads one of billing's lists for a filter (payment_list, dues_list). */
typedef json_t *(*bl_list_fn)(struct db *db, const struct actor *a, const void *f, struct err *e);

/* payment_list as a bl_list_fn. */
static json_t *list_payments(struct db *db, const struct actor *a, const void *f, struct err *e)
{
    return payment_list(db, a, f, e);
}

/* dues_list as a bl_list_fn. */
static json_t *list_dues(struct db *db, const struct actor *a, const void *f, struct err *e)
{
    return dues_list(db, a, f, e);
}

/* What list_into needs of a list page; pointers into the page's filter. */
struct list_page {
    const void *filter;             /* the parsed filter */
    const char **donor_slot;        /* the filter's payer or donor id, set from ?donor= */
    int *page;                      /* the filter's page */
    int *per_page;                  /* the filter's page size */
    bl_list_fn list;                /* reads the list */
    const char *path;               /* the page's path, for the pager's links */
    const char *const *filter_keys; /* query members the pager's links keep */
};

/* The shared part of the payments and dues pages: when the filter parsed
 * (parsed 0; else e says why), resolves ?donor= (a number or a name) into
 * the filter and reads the list in a read transaction; on any failure shows
 * the error and an empty list. Sets items (labelled), none and the pager in
 * ctx. */
static void list_into(struct http_req *r, json_t *ctx, struct db *db, int parsed, struct err *e,
                      const struct list_page *lp)
{
    const char *donor_text = page_query(r, "donor");
    json_t *list = NULL;
    if (parsed == 0 && db_begin(db, true, e) == 0) {
        if (donor_text) {
            *lp->donor_slot = donor_lookup(db, r, donor_text, "donor", e);
        }
        if (!donor_text || *lp->donor_slot) {
            list = lp->list(db, r->actor, lp->filter, e);
        }
        db_rollback(db);
    }
    if (!list) {
        page_ctx_error(r, ctx, e);
        list = json_pack("{s:[], s:i}", "items", "total", 0);
        *lp->page = 1;
        *lp->per_page = 50;
    }
    json_t *items = json_object_get(list, "items");
    label_rows(r, items);
    json_object_set(ctx, "items", items);
    json_object_set_new(ctx, "none", json_boolean(json_array_size(items) == 0));
    pager(r, ctx, json_integer_value(json_object_get(list, "total")), *lp->page, *lp->per_page,
          filter_base(r, lp->path, lp->filter_keys));
    json_decref(list);
}

/* GET /sponsorship/payments */
static void page_payments(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    struct payment_filter f;
    json_t *ctx = json_object();
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(ctx);
        return;
    }
    const char *donor_text = page_query(r, "donor");
    static const char *const keys[] = {"donor", "status", "method",      "from",
                                       "to",    "q",      "unallocated", NULL};
    int parsed = payment_filter_from(r, &f, &e);
    struct list_page lp = {
        &f, &f.donor_id, &f.page, &f.per_page, list_payments, "/sponsorship/payments", keys};
    list_into(r, ctx, db, parsed, &e, &lp);
    json_object_set_new(ctx, "methods",
                        page_options(r, "bl.method", PAY_METHODS, f.method, "bl.all"));
    json_object_set_new(ctx, "statuses",
                        page_options(r, "bl.status", " recorded reversed ", f.status, "bl.all"));
    json_object_set_new(ctx, "filter",
                        json_pack("{s:s?, s:s?, s:s?, s:s?, s:b}", "donor", donor_text, "from",
                                  f.from, "to", f.to, "q", f.q, "unallocated", f.unallocated));
    json_object_set_new(ctx, "can_write", json_boolean(actor_can(r->actor, PERM_FINANCE_WRITE)));
    page_reply(r, 200, "bl_payments", "bl.payments", ctx);
}

/* Renders the new-payment form with the values in v (taken; may be NULL). */
static void new_payment_page(struct http_req *r, int status, json_t *v, const struct err *e)
{
    json_t *ctx = json_object();
    if (!v) {
        v = json_object();
    }
    if (!json_str_or(v, "received_on", NULL)) {
        json_object_set_new(v, "received_on", json_string(page_today(r)));
    }
    json_object_set_new(
        ctx, "methods",
        page_options(r, "bl.method", PAY_METHODS, json_str_or(v, "method", NULL), NULL));
    json_object_set_new(ctx, "v", v);
    if (e) {
        page_ctx_error(r, ctx, e);
    }
    page_reply(r, status, "bl_payment_new", "bl.new_payment", ctx);
}

/* GET /sponsorship/payments/new?donor=D-000001 */
static void page_payment_new(struct http_req *r)
{
    json_t *v = json_pack("{s:s?, s:s?, s:b}", "donor", page_query(r, "donor"), "currency",
                          page_query(r, "currency"), "allocate", 1);
    new_payment_page(r, 200, v, NULL);
}

/* POST /sponsorship/payments */
static void page_payment_create(struct http_req *r)
{
    static const char *const names[] = {"donor",  "amount",      "fee",       "currency",
                                        "method", "received_on", "reference", "external_ref"};
    json_t *v = json_object();
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *x = page_form(r, names[i]);
        if (x) {
            json_object_set_new(v, names[i], json_string(x));
        }
    }
    bool allocate = page_form(r, "allocate") != NULL;
    json_object_set_new(v, "allocate", json_boolean(allocate));
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(v);
        return;
    }
    struct err e;
    err_clear(&e);
    const char *donor = json_str_or(v, "donor", NULL);
    const char *donor_id = NULL;
    if (!donor) {
        err_set(&e, ERR_INVALID, "required", "donor", "who paid?");
    } else if (db_begin(db, true, &e) == 0) {
        donor_id = donor_lookup(db, r, donor, "donor", &e);
        db_rollback(db);
    }
    const char *currency = json_str_or(v, "currency", NULL);
    char upper[4] = "";
    if (currency && strlen(currency) == 3) {
        for (int i = 0; i < 3; i++) {
            upper[i] =
                (char)(currency[i] >= 'a' && currency[i] <= 'z' ? currency[i] - 32 : currency[i]);
        }
        currency = upper;
    }
    char id[40], receipt[32];
    if (donor_id) {
        struct payment_new p = {.donor_id = donor_id,
                                .amount = json_str_or(v, "amount", NULL),
                                .fee = json_str_or(v, "fee", NULL),
                                .currency = currency,
                                .method = json_str_or(v, "method", NULL),
                                .received_on = json_str_or(v, "received_on", NULL),
                                .reference = json_str_or(v, "reference", NULL),
                                .external_ref = json_str_or(v, "external_ref", NULL),
                                .no_allocate = !allocate};
        if (!p.amount) {
            err_set(&e, ERR_INVALID, "required", "amount", "'amount' is required");
        } else if (payment_record(db, r->actor, &p, id, receipt, &e) == 0) {
            json_decref(v);
            http_redirect(
                r, arena_printf(&r->arena, "/sponsorship/payments/%s?ok=flash.bl_recorded", id));
            return;
        }
    }
    new_payment_page(r, http_status_of(e.kind), v, &e);
}

/* Renders payment id with an optional failure e (status). */
static void payment_page(struct http_req *r, int status, const char *id, const struct err *fail)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *p = NULL, *dues = NULL;
    if (db_begin(db, true, &e) == 0) {
        p = payment_get(db, r->actor, id, &e);
        if (p && strcmp(json_str_or(p, "status", NULL), "recorded") == 0 &&
            json_integer_value(json_object_get(p, "unallocated")) > 0) {
            struct dues_filter f = {.payer_id = json_str_or(p, "donor_id", NULL),
                                    .status = "unpaid",
                                    .page = 1,
                                    .per_page = 100};
            dues = dues_list(db, r->actor, &f, &e);
        }
        db_rollback(db);
    }
    if (!p) {
        http_reply_err(r, &e);
        return;
    }
    json_t *open = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(dues, "items"), i, d)
    {
        if (strcmp(json_str_or(d, "currency", NULL), json_str_or(p, "currency", NULL)) == 0) {
            json_array_append(open, d);
        }
    }
    json_decref(dues);
    json_t *one = json_array();
    json_array_append(one, p);
    label_rows(r, one);
    json_decref(one);
    json_t *ctx =
        json_pack("{s:o, s:o, s:b, s:b}", "p", p, "open_dues", open, "has_open",
                  json_array_size(open) > 0, "can_write", actor_can(r->actor, PERM_FINANCE_WRITE));
    json_object_set_new(ctx, "recorded",
                        json_boolean(strcmp(json_str_or(p, "status", NULL), "recorded") == 0));
    json_object_set_new(ctx, "has_allocations",
                        json_boolean(json_array_size(json_object_get(p, "allocations")) > 0));
    if (fail) {
        page_ctx_error(r, ctx, fail);
    }
    page_reply(r, status, "bl_payment", "bl.payment", ctx);
}

/* GET /sponsorship/payments/{id} */
static void page_payment(struct http_req *r)
{
    payment_page(r, 200, r->params[0], NULL);
}

/* POST /sponsorship/payments/{id}/allocate: due_id and amount (one due),
 * or neither (automatic). */
static void page_payment_allocate(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    struct alloc_req req = {.due_id = page_form(r, "due_id"), .amount = page_form(r, "amount")};
    int made = 0;
    if (payment_allocate(db, r->actor, r->params[0], &req, req.due_id ? 1 : 0, &made, &e) < 0) {
        /* The field of a named allocation is the form's. */
        if (strncmp(e.field, "allocations[0].", 15) == 0) {
            memmove(e.field, e.field + 15, strlen(e.field + 15) + 1);
        }
        payment_page(r, http_status_of(e.kind), r->params[0], &e);
        return;
    }
    http_redirect(
        r, arena_printf(&r->arena, "/sponsorship/payments/%s?ok=flash.bl_allocated", r->params[0]));
}

/* POST /sponsorship/payments/{id}/reverse: reason */
static void page_payment_reverse(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (payment_reverse(db, r->actor, r->params[0], page_form(r, "reason"), &e) < 0) {
        payment_page(r, http_status_of(e.kind), r->params[0], &e);
        return;
    }
    http_redirect(
        r, arena_printf(&r->arena, "/sponsorship/payments/%s?ok=flash.bl_reversed", r->params[0]));
}

/* Renders the dues page; result (may be NULL) is the last generation's. */
static void dues_page(struct http_req *r, int status, const struct err *fail, json_t *result)
{
    struct err e;
    err_clear(&e);
    struct dues_filter f;
    json_t *ctx = json_object();
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(ctx);
        json_decref(result);
        return;
    }
    const char *donor_text = page_query(r, "donor");
    static const char *const keys[] = {"donor", "status", "from", "to", NULL};
    int parsed = dues_filter_from(r, &f, &e);
    struct list_page lp = {&f,        &f.payer_id,         &f.page, &f.per_page,
                           list_dues, "/sponsorship/dues", keys};
    list_into(r, ctx, db, parsed, &e, &lp);
    json_object_set_new(
        ctx, "statuses",
        page_options(r, "bl.status", " unpaid open partial paid cancelled ", f.status, "bl.all"));
    json_object_set_new(
        ctx, "filter",
        json_pack("{s:s?, s:s?, s:s?}", "donor", donor_text, "from", f.from, "to", f.to));
    json_object_set_new(ctx, "can_write", json_boolean(actor_can(r->actor, PERM_FINANCE_WRITE)));
    json_object_set_new(ctx, "through", json_string(page_today(r)));
    if (result) {
        json_object_set_new(ctx, "result", result);
    }
    if (fail) {
        page_ctx_error(r, ctx, fail);
    }
    page_reply(r, status, "bl_dues", "bl.dues", ctx);
}

/* GET /sponsorship/dues */
static void page_dues(struct http_req *r)
{
    dues_page(r, 200, NULL, NULL);
}

/* POST /sponsorship/dues/generate: through */
static void page_dues_generate(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *through = page_form(r, "through");
    if (!through) {
        through = page_today(r);
    }
    struct dues_result res;
    if (dues_generate(db, r->actor, through, &res, &e) < 0) {
        dues_page(r, http_status_of(e.kind), &e, NULL);
        return;
    }
    dues_page(r, 200, NULL, dues_result_json(through, &res));
}

/* GET /sponsorship/reconciliation */
static void page_reconciliation(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    struct recon_filter f;
    json_t *ctx = json_object();
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(ctx);
        return;
    }
    const char *donor_text = page_query(r, "donor");
    json_t *rec = NULL;
    if (recon_filter_from(r, &f, false, &e) == 0 && db_begin(db, true, &e) == 0) {
        if (donor_text) {
            f.donor_id = donor_lookup(db, r, donor_text, "donor", &e);
        }
        if (!donor_text || f.donor_id) {
            rec = billing_reconciliation(db, r->actor, &f, &e);
        }
        db_rollback(db);
    }
    int status = 200;
    if (!rec) {
        page_ctx_error(r, ctx, &e);
        status = e.kind == ERR_INVALID || e.kind == ERR_NOT_FOUND ? 200 : http_status_of(e.kind);
        rec = json_pack("{s:[], s:[], s:i}", "rows", "totals", "total_rows", 0);
        f.page = 1;
        f.per_page = 100;
    }
    json_object_set(ctx, "rows", json_object_get(rec, "rows"));
    json_object_set(ctx, "totals", json_object_get(rec, "totals"));
    json_object_set_new(ctx, "none",
                        json_boolean(json_array_size(json_object_get(rec, "rows")) == 0));
    static const char *const keys[] = {"from", "to", "donor", "as_of", NULL};
    pager(r, ctx, json_integer_value(json_object_get(rec, "total_rows")), f.page, f.per_page,
          filter_base(r, "/sponsorship/reconciliation", keys));
    json_object_set_new(ctx, "csv",
                        json_string(filter_base(r, "/sponsorship/reconciliation.csv", keys)));
    json_object_set_new(
        ctx, "filter",
        json_pack("{s:s?, s:s?, s:s?, s:s?}", "from",
                  json_str_or(rec, "from", NULL) ? json_str_or(rec, "from", NULL) : f.from, "to",
                  json_str_or(rec, "to", NULL) ? json_str_or(rec, "to", NULL) : f.to, "donor",
                  donor_text, "as_of",
                  json_str_or(rec, "as_of", NULL) ? json_str_or(rec, "as_of", NULL) : f.as_of));
    json_decref(rec);
    page_reply(r, status, "bl_reconciliation", "bl.reconciliation", ctx);
}

/* GET /sponsorship/reconciliation.csv */
static void page_reconciliation_csv(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    struct recon_filter f;
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    recon_filter_from(r, &f, true, &e);
    const char *donor_text = page_query(r, "donor");
    struct buf out = BUF_INIT;
    int rc = db_begin(db, true, &e);
    if (rc == 0) {
        if (donor_text && !(f.donor_id = donor_lookup(db, r, donor_text, "donor", &e))) {
            rc = -1;
        } else {
            rc = billing_reconciliation_csv(db, r->actor, &f, &out, &e);
        }
        db_rollback(db);
    }
    if (rc < 0) {
        buf_release(&out);
        http_reply_err(r, &e);
        return;
    }
    page_reply_csv(r, "reconciliation.csv", &out);
}

/* GET /sponsorship/arrears?as_of */
static void page_arrears(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    json_t *ctx = json_object();
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(ctx);
        return;
    }
    json_t *ar = billing_arrears_view(db, r->actor, page_query(r, "as_of"), 500, &e);
    if (!ar) {
        page_ctx_error(r, ctx, &e);
        ar = json_pack("{s:[], s:i}", "items", "total", 0);
    }
    json_object_set(ctx, "items", json_object_get(ar, "items"));
    json_object_set_new(ctx, "none",
                        json_boolean(json_array_size(json_object_get(ar, "items")) == 0));
    json_object_set_new(ctx, "as_of",
                        json_string(json_str_or(ar, "as_of", NULL) ? json_str_or(ar, "as_of", NULL)
                                                                   : page_today(r)));
    json_object_set_new(ctx, "count_text",
                        json_string(i18n_format(&r->arena, r->lang, "bl.count", "n",
                                                arena_printf(&r->arena, "%lld",
                                                             (long long)json_integer_value(
                                                                 json_object_get(ar, "total"))),
                                                NULL)));
    json_object_set_new(ctx, "can_write", json_boolean(actor_can(r->actor, PERM_FINANCE_WRITE)));
    json_decref(ar);
    page_reply(r, 200, "bl_arrears", "bl.arrears", ctx);
}

/* The routes: fixed paths before {id} paths. */
static const struct route routes[] = {
    {"GET", "/api/v1/sponsorship/dues", api_dues, ROUTE_API, PERM_SPONSOR_READ},
    {"POST", "/api/v1/sponsorship/dues/generate", api_dues_generate, ROUTE_API, PERM_FINANCE_WRITE},
    {"GET", "/api/v1/sponsorship/reconciliation", api_reconciliation, ROUTE_API, PERM_SPONSOR_READ},
    {"GET", "/api/v1/sponsorship/arrears", api_arrears, ROUTE_API, PERM_SPONSOR_READ},
    {"GET", "/api/v1/payments", api_payments, ROUTE_API, PERM_SPONSOR_READ},
    {"POST", "/api/v1/payments", api_payment_record, ROUTE_API, PERM_FINANCE_WRITE},
    {"POST", "/api/v1/payments/allocate-advances", api_allocate_advances, ROUTE_API,
     PERM_FINANCE_WRITE},
    {"GET", "/api/v1/payments/{id}", api_payment_get, ROUTE_API, PERM_SPONSOR_READ},
    {"POST", "/api/v1/payments/{id}/allocate", api_payment_allocate, ROUTE_API, PERM_FINANCE_WRITE},
    {"POST", "/api/v1/payments/{id}/reverse", api_payment_reverse, ROUTE_API, PERM_FINANCE_WRITE},
    {"GET", "/sponsorship/payments", page_payments, ROUTE_PAGE, PERM_SPONSOR_READ},
    {"GET", "/sponsorship/payments/new", page_payment_new, ROUTE_PAGE, PERM_FINANCE_WRITE},
    {"POST", "/sponsorship/payments", page_payment_create, ROUTE_PAGE, PERM_FINANCE_WRITE},
    {"GET", "/sponsorship/payments/{id}", page_payment, ROUTE_PAGE, PERM_SPONSOR_READ},
    {"POST", "/sponsorship/payments/{id}/allocate", page_payment_allocate, ROUTE_PAGE,
     PERM_FINANCE_WRITE},
    {"POST", "/sponsorship/payments/{id}/reverse", page_payment_reverse, ROUTE_PAGE,
     PERM_FINANCE_WRITE},
    {"GET", "/sponsorship/dues", page_dues, ROUTE_PAGE, PERM_SPONSOR_READ},
    {"POST", "/sponsorship/dues/generate", page_dues_generate, ROUTE_PAGE, PERM_FINANCE_WRITE},
    {"GET", "/sponsorship/reconciliation", page_reconciliation, ROUTE_PAGE, PERM_SPONSOR_READ},
    {"GET", "/sponsorship/reconciliation.csv", page_reconciliation_csv, ROUTE_PAGE,
     PERM_SPONSOR_READ},
    {"GET", "/sponsorship/arrears", page_arrears, ROUTE_PAGE, PERM_SPONSOR_READ},
};

void billing_register(void)
{
    http_routes_add(routes, sizeof(routes) / sizeof(routes[0]));
}
