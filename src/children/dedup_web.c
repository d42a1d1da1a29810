/*
 * dedup_web.c: the HTTP side of duplicates: the "possible duplicates" page
 * with its decisions, the merge page, and the /api/v1 equivalents.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "children/children.h"
#include "children/dedup.h"
#include "children/search.h"
#include "core/uuid.h"
#include "web/i18n.h"
#include "web/page.h"
#include "core/banned.h"

/* Pairs on one page of /children/duplicates. */
#define PAGE_PAIRS 20

/* Reads the optional "threshold" query parameter (bits, -50..100) into *out
 * (NAN when absent). Returns 0 or -1 with e. */
static int query_threshold(struct http_req *r, double *out, struct err *e)
{
    const char *v = http_query(r, "threshold");
    *out = NAN;
    if (!v || !*v) {
        return 0;
    }
    char *end;
    double t = strtod(v, &end);
    if (*end || !(t >= -50 && t <= 100)) {
        return err_set(e, ERR_INVALID, "invalid_field", "threshold",
                       "'threshold' must be a number from -50 to 100");
    }
    *out = t;
    return 0;
}

/* Runs the organization's pairs in a read transaction. NULL with e. */
static json_t *run_pairs(struct http_req *r, struct db *db, double threshold, int page,
                         int per_page, struct err *e)
{
    if (db_begin(db, true, e) < 0) {
        return NULL;
    }
    json_t *res = children_duplicate_pairs(db, r->actor, threshold, page, per_page, e);
    db_rollback(db);
    return res;
}

/* ---- API ---- */

/* GET /api/v1/children/duplicates?page=&per_page=&threshold= */
static void api_pairs(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    int page, per_page;
    double threshold;
    struct db *db = NULL;
    if (page_query_int(r, "page", 1, 1, 1000000, &page, &e) < 0 ||
        page_query_int(r, "per_page", 50, 1, 200, &per_page, &e) < 0 ||
        query_threshold(r, &threshold, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    if (!(db = db_or_reply(r))) {
        return;
    }
    json_t *res = run_pairs(r, db, threshold, page, per_page, &e);
    if (!res) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, res);
}

/* POST /api/v1/children/duplicates/decide {"a", "b", "decision": "same"|"different"} */
static void api_decide(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    if (!body) {
        return;
    }
    struct err e;
    err_clear(&e);
    static const char *const fields[] = {"a", "b", "decision", NULL};
    const char *a, *b, *decision;
    struct db *db = NULL;
    if (json_known_members(body, fields, &e) < 0 || json_str_member(body, "a", true, 40, &a, &e) < 0 ||
        json_str_member(body, "b", true, 40, &b, &e) < 0 ||
        json_str_member(body, "decision", true, 20, &decision, &e) < 0 ||
        !(db = db_or_reply(r)) || children_dedup_decide(db, r->actor, a, b, decision, &e) < 0) {
        json_decref(body);
        if (db || err_failed(&e)) {
            http_reply_err(r, &e);
        }
        return;
    }
    json_t *res = json_pack("{s:s, s:s, s:s}", "a", a, "b", b, "decision", decision);
    if (strcmp(decision, "same") == 0) {
        json_object_set_new(res, "merge",
                            json_string(arena_printf(&r->arena, "/api/v1/children/%s/merge", a)));
    }
    json_decref(body);
    http_reply_json(r, 200, res);
}

/* GET /api/v1/children/{id}/duplicates?threshold=: the engine's candidates. */
static void api_candidates(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    double threshold;
    if (query_threshold(r, &threshold, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    if (db_begin(db, true, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    json_t *res = children_engine_duplicates(db, r->actor, NULL, r->params[0], threshold, &e);
    db_rollback(db);
    if (!res) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, json_pack("{s:o}", "items", res));
}

/* GET /api/v1/children/{id}/merge?other=ID: what a merge would change. */
static void api_merge_preview(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *other = http_query(r, "other");
    if (!other || !*other) {
        err_set(&e, ERR_INVALID, "required", "other", "'other' is required");
        http_reply_err(r, &e);
        return;
    }
    json_t *res = children_merge_preview(db, r->actor, r->params[0], other, &e);
    if (!res) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, res);
}

/* POST /api/v1/children/{id}/merge {"other_id", "take": [field...]} */
static void api_merge(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    if (!body) {
        return;
    }
    struct err e;
    err_clear(&e);
    static const char *const fields[] = {"other_id", "take", NULL};
    const char *other;
    struct db *db = NULL;
    json_t *summary = NULL;
    if (json_known_members(body, fields, &e) < 0 ||
        json_str_member(body, "other_id", true, 40, &other, &e) < 0 || !(db = db_or_reply(r)) ||
        children_merge(db, r->actor, r->params[0], other, json_object_get(body, "take"), &summary,
                       &e) < 0) {
        json_decref(body);
        if (db || err_failed(&e)) {
            http_reply_err(r, &e);
        }
        return;
    }
    json_decref(body);
    http_reply_json(r, 200, summary);
}

/* ---- pages ---- */

/* Adds localized labels to an explanation: per term "label", "level_label",
 * "shown" (signed weight text) and "plus"/"minus"; and a "notes" list. */
static void label_explain(struct http_req *r, json_t *ex)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(ex, "terms"), i, t)
    {
        const char *field = json_string_value(json_object_get(t, "field"));
        const char *level = json_string_value(json_object_get(t, "level"));
        double w = json_real_value(json_object_get(t, "weight"));
        double tf = json_real_value(json_object_get(t, "tf"));
        json_object_set_new(t, "label", json_string(page_label(r, "field", field)));
        json_object_set_new(t, "level_label", json_string(page_label(r, "dup.level", level)));
        json_object_set_new(t, "shown", json_string(arena_printf(&r->arena, "%+.1f", w)));
        json_object_set_new(t, "plus", json_boolean(w > 0.05));
        json_object_set_new(t, "minus", json_boolean(w < -0.05));
        if (fabs(tf) >= 0.05) {
            json_object_set_new(t, "tf_shown", json_string(arena_printf(&r->arena, "%+.1f", tf)));
        }
    }
    json_t *notes = json_array();
    if (json_is_true(json_object_get(ex, "guard"))) {
        json_array_append_new(notes, json_string(i18n_get(r->lang, "dup.guard")));
    }
    double h = json_real_value(json_object_get(ex, "household"));
    double hu = json_real_value(json_object_get(ex, "household_used"));
    if (!json_is_true(json_object_get(ex, "guard")) && h - hu > 0.05) {
        json_array_append_new(notes, json_string(i18n_format(
                                         &r->arena, r->lang, "dup.capped", "n",
                                         arena_printf(&r->arena, "%.1f", hu), NULL)));
    }
    if (json_is_true(json_object_get(ex, "swapped"))) {
        json_array_append_new(notes, json_string(i18n_get(r->lang, "dup.swapped")));
    }
    json_object_set_new(ex, "notes", notes);
    json_object_set_new(ex, "score_shown",
                        json_string(arena_printf(&r->arena, "%.1f",
                                                 json_real_value(json_object_get(ex, "score")))));
}

/* Adds "sex_label" to a child summary. */
static void label_child(struct http_req *r, json_t *c)
{
    const char *sex = json_string_value(json_object_get(c, "sex"));
    if (sex) {
        json_object_set_new(c, "sex_label", json_string(page_label(r, "choice.sex", sex)));
    }
}

/* GET /children/duplicates?page= */
static void page_pairs(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    int page;
    double threshold;
    if (page_query_int(r, "page", 1, 1, 1000000, &page, &e) < 0 ||
        query_threshold(r, &threshold, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    json_t *res = run_pairs(r, db, threshold, page, PAGE_PAIRS, &e);
    if (!res) {
        http_reply_err(r, &e);
        return;
    }
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(res, "pairs"), i, p)
    {
        label_explain(r, json_object_get(p, "explain"));
        label_child(r, json_object_get(p, "a"));
        label_child(r, json_object_get(p, "b"));
    }
    json_int_t total = json_integer_value(json_object_get(res, "total"));
    json_int_t pages = (total + PAGE_PAIRS - 1) / PAGE_PAIRS;
    char n_records[24], n_pairs[24], thr[24], ms[24], pg[24], pgs[24];
    snprintf(n_records, sizeof(n_records), "%lld",
             (long long)json_integer_value(json_object_get(res, "records")));
    snprintf(n_pairs, sizeof(n_pairs), "%lld", (long long)total);
    snprintf(thr, sizeof(thr), "%.1f", json_real_value(json_object_get(res, "threshold")));
    snprintf(ms, sizeof(ms), "%lld", (long long)json_integer_value(json_object_get(res, "ms")));
    snprintf(pg, sizeof(pg), "%d", page);
    snprintf(pgs, sizeof(pgs), "%lld", (long long)(pages ? pages : 1));
    json_object_set_new(res, "summary",
                        json_string(i18n_format(&r->arena, r->lang, "dup.summary", "records",
                                                n_records, "pairs", n_pairs, "threshold", thr,
                                                "ms", ms, NULL)));
    if (pages > 1) {
        json_object_set_new(res, "page_of",
                            json_string(i18n_format(&r->arena, r->lang, "children.page_of", "page",
                                                    pg, "pages", pgs, NULL)));
    }
    if (page > 1) {
        json_object_set_new(res, "prev", json_integer(page - 1));
    }
    if (page < pages) {
        json_object_set_new(res, "next", json_integer(page + 1));
    }
    json_object_set_new(res, "can_decide", json_boolean(actor_can(r->actor, PERM_CHILDREN_WRITE)));
    page_reply(r, 200, "children_duplicates", "dup.title", res);
}

/* POST /children/duplicates/decide (a, b, decision, page) */
static void page_decide(struct http_req *r)
{
    const char *a = http_form(r, "a"), *b = http_form(r, "b");
    const char *decision = http_form(r, "decision");
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (children_dedup_decide(db, r->actor, a, b, decision, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    if (strcmp(decision, "same") == 0) {
        http_redirect(r, arena_printf(&r->arena, "/children/%s/merge?other=%s", a, b));
        return;
    }
    const char *page = http_form(r, "page");
    int pg = page ? atoi(page) : 1;
    http_redirect(r, arena_printf(&r->arena, "/children/duplicates?page=%d&ok=flash.distinct",
                                  pg > 0 && pg < 1000000 ? pg : 1));
}

/* Renders the merge page of keep_id and other_id with status, an error (may be NULL). */
static void merge_page(struct http_req *r, int status, const char *other, const struct err *err)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *pv = children_merge_preview(db, r->actor, r->params[0], other, &e);
    if (!pv) {
        http_reply_err(r, &e);
        return;
    }
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(pv, "fields"), i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        json_object_set_new(f, "label", json_string(i18n_get(
                                            r->lang, arena_printf(&r->arena, "field.%s", name))));
        /* own names: "keep" and "other" would find the records outside the section */
        const char *kv = json_string_value(json_object_get(f, "keep"));
        json_object_set_new(f, "kv", json_string(kv ? kv : ""));
        json_object_set_new(f, "empty", json_boolean(!kv));
        json_object_set(f, "ov", json_object_get(f, "other"));
    }
    label_explain(r, json_object_get(pv, "explain"));
    if (err) {
        page_ctx_error(r, pv, err);
    }
    page_reply(r, status, "children_merge", "merge.title", pv);
}

/* GET /children/{id}/merge?other=ID */
static void page_merge_form(struct http_req *r)
{
    merge_page(r, 200, http_query(r, "other"), NULL);
}

/* POST /children/{id}/merge (other_id, take_<field> = "other" | "keep") */
static void page_merge(struct http_req *r)
{
    const char *other = http_form(r, "other_id");
    json_t *take = json_array();
    int n;
    const struct child_field *f = children_fields(&n);
    for (int i = 0; i < n; i++) {
        const char *v = http_form(r, arena_printf(&r->arena, "take_%s", f[i].name));
        if (v && strcmp(v, "other") == 0) {
            json_array_append_new(take, json_string(f[i].name));
        }
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(take);
        return;
    }
    struct err e;
    err_clear(&e);
    int rc = children_merge(db, r->actor, r->params[0], other, take, NULL, &e);
    json_decref(take);
    if (rc < 0) {
        if (e.kind == ERR_INVALID && e.field[0] && strcmp(e.code, "same_child") != 0) {
            merge_page(r, http_status_of(e.kind), other, &e);
        } else {
            http_reply_err(r, &e);
        }
        return;
    }
    http_redirect(r, arena_printf(&r->arena, "/children/%s?ok=flash.merged", r->params[0]));
}

/* Registered before the registry's /children/{id} patterns, which would
 * otherwise take "duplicates" for an id. */
static const struct route routes[] = {
    {"GET", "/api/v1/children/duplicates", api_pairs, ROUTE_API, PERM_CHILDREN_READ},
    {"POST", "/api/v1/children/duplicates/decide", api_decide, ROUTE_API, PERM_CHILDREN_WRITE},
    {"GET", "/api/v1/children/{id}/duplicates", api_candidates, ROUTE_API, PERM_CHILDREN_READ},
    {"GET", "/api/v1/children/{id}/merge", api_merge_preview, ROUTE_API, PERM_CHILDREN_WRITE},
    {"POST", "/api/v1/children/{id}/merge", api_merge, ROUTE_API, PERM_CHILDREN_WRITE},
    {"GET", "/children/duplicates", page_pairs, ROUTE_PAGE, PERM_CHILDREN_READ},
    {"POST", "/children/duplicates/decide", page_decide, ROUTE_PAGE, PERM_CHILDREN_WRITE},
    {"GET", "/children/{id}/merge", page_merge_form, ROUTE_PAGE, PERM_CHILDREN_WRITE},
    {"POST", "/children/{id}/merge", page_merge, ROUTE_PAGE, PERM_CHILDREN_WRITE},
};

void children_dedup_register(void)
{
    http_routes_add(routes, sizeof(routes) / sizeof(routes[0]));
}
