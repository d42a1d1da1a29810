/*
 * cases_pages.c: the case management pages: the list with filters, opening
 * a case, the case with its stage bar, banners and the forms of the steps
 * that apply now, the assessment and plan forms, the directory of service
 * providers, the actor's open tasks and the sealed assessment notes. Every
 * page works without JavaScript: each step is a plain form that posts and
 * comes back to the case, with its error next to the field.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "cases/cases.h"
#include "cases/cases_web.h"
#include "core/text.h"
#include "db/db_util.h"
#include "keys/keys.h"
#include "web/i18n.h"
#include "core/uuid.h"
#include "web/page.h"
#include "core/banned.h"

/* Every stage a case can be at, in workflow order, "closed" last. */
static const char *const all_stages[] = {"assessment", "plan", "services", "follow_up", "closed"};
#define N_ALL_STAGES (sizeof(all_stages) / sizeof(all_stages[0]))
/* The assessment's areas, in the form's order (CASE_AREAS). */
static const char *const areas[] = {"basic_needs", "education",    "health",        "protection",
                                    "psychosocial", "family",      "digital_access"};
#define N_AREAS (sizeof(areas) / sizeof(areas[0]))
/* The child's digital access, as the assessment records it. */
static const char *const digital_keys[] = {"device", "connection", "electricity", "skills"};
#define N_DIGITAL (sizeof(digital_keys) / sizeof(digital_keys[0]))
/* Statuses of a plan's action (plan_action_update). */
#define ACTION_STATUSES " planned in_progress done cancelled "
/* Provider kinds (provider_create). */
#define PROVIDER_KINDS " internal external "
/* Rows of the plan form: blank goals offered after the existing ones, blank
 * actions under each goal, and the most the form reads back. */
#define BLANK_GOALS 3
#define BLANK_ACTIONS 3
#define MAX_GOALS 50
#define MAX_ACTIONS 30

/* The label of an error's field: an area by its name, else the last part of a path such as
 * "goals[0].actions[1].due_date" by case.f.<part>, then field.<part>, else the part. */
static const char *field_label(struct http_req *r, const char *field)
{
    if (strncmp(field, "ratings.", 8) == 0) {
        return page_label(r, "choice.area", field + 8);
    }
    const char *dot = strrchr(field, '.');
    const char *last = dot ? dot + 1 : field;
    const char *key = arena_printf(&r->arena, "case.f.%s", last);
    if (i18n_has(key)) {
        return i18n_get(r->lang, key);
    }
    return page_label(r, "field", last);
}

/* The message for one failure (code and field) in the request's language. */
static const char *problem_text(struct http_req *r, const char *code, const char *field,
                                const char *fallback)
{
    const char *key = arena_printf(&r->arena, "err.%s", code ? code : "");
    if (!code || !i18n_has(key)) {
        return fallback ? fallback : i18n_get(r->lang, "err.bad_request");
    }
    return i18n_format(&r->arena, r->lang, key, "field",
                       field && *field ? field_label(r, field) : "", NULL);
}

/* The message for e in the request's language. */
static const char *err_text(struct http_req *r, const struct err *e)
{
    return problem_text(r, e->code, e->field, arena_strdup(&r->arena, e->msg));
}

/* {field: message} for a service's problems list (borrowed), the first one per field. */
static json_t *errors_by_field(struct http_req *r, json_t *problems)
{
    json_t *by = json_object();
    size_t i;
    json_t *p;
    json_array_foreach(problems, i, p)
    {
        const char *field = json_str_or(p, "field", NULL);
        if (field && *field && !json_object_get(by, field)) {
            json_object_set_new(
                by, field, json_string(problem_text(r, json_str_or(p, "code", NULL), field, NULL)));
        }
    }
    return by;
}

/* The full name of a child from the members <prefix>first_name, father_name, family_name. */
static const char *child_name(struct http_req *r, json_t *o, const char *prefix)
{
    static const char *const parts[] = {"first_name", "father_name", "family_name"};
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < 3; i++) {
        const char *s = json_str_or(o, arena_printf(&r->arena, "%s%s", prefix, parts[i]), NULL);
        if (s && *s) {
            buf_addf(&b, "%s%s", b.len ? " " : "", s);
        }
    }
    const char *out = arena_strdup(&r->arena, b.buf);
    buf_release(&b);
    return out;
}

/* The badge class of a risk level. */
static const char *risk_badge(const char *risk)
{
    if (risk && (!strcmp(risk, "urgent") || !strcmp(risk, "high"))) {
        return "badge badge-error";
    }
    if (risk && !strcmp(risk, "medium")) {
        return "badge badge-warn";
    }
    return "badge badge-ok";
}

/* Adds the display members of a case summary or case: child_name, stage_label, risk_label,
 * risk_class, pending_label (null when nothing waits). */
static void label_case(struct http_req *r, json_t *c, const char *name_prefix)
{
    const char *risk = json_str_or(c, "risk_level", NULL);
    const char *pending = json_str_or(c, "pending", NULL);
    json_object_set_new(c, "child_name", json_string(child_name(r, c, name_prefix)));
    json_object_set_new(c, "stage_label",
                        json_string(page_label(r, "choice.stage", json_str_or(c, "stage", NULL))));
    json_object_set_new(c, "risk_label", json_string(page_label(r, "choice.risk", risk)));
    json_object_set_new(c, "risk_class", json_string(risk_badge(risk)));
    json_object_set_new(c, "pending_label",
                        pending ? json_string(page_label(r, "case.what", pending)) : json_null());
}

/* Users of the actor's organization who may work cases: [{value, label, selected}] with
 * selected, and a leading blank option labelled by blank_key when not NULL. In a read
 * transaction of the caller; NULL with e. */
static json_t *worker_options(struct db *db, struct http_req *r, const char *selected,
                              const char *blank_key, struct err *e)
{
    struct db_stmt *s = db_query(db, e,
                                 "SELECT id, display_name, role FROM users WHERE org_id = $1"
                                 " AND active = 1 ORDER BY display_name, id",
                                 "t", r->actor->org_id);
    if (!s) {
        return NULL;
    }
    json_t *arr = json_array();
    if (blank_key) {
        json_array_append_new(arr, json_pack("{s:s, s:s, s:b}", "value", "", "label",
                                             i18n_get(r->lang, blank_key), "selected",
                                             !selected || !*selected));
    }
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        if (!authz_allows(db_col_text(s, 2), PERM_CASES_WRITE)) {
            continue;
        }
        const char *id = db_col_text(s, 0);
        const char *role = page_label(r, "role", db_col_text(s, 2));
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:b}", "value", id, "label",
                           arena_printf(&r->arena, "%s · %s", db_col_text(s, 1), role), "selected",
                           selected && strcmp(selected, id) == 0));
    }
    db_done(s);
    if (rc < 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

/* The organization's providers as options [{value, label, selected}] with a leading blank
 * option; NULL with e. */
static json_t *provider_options(struct db *db, struct http_req *r, struct err *e)
{
    json_t *list = provider_list(db, r->actor, e);
    if (!list) {
        return NULL;
    }
    json_t *arr = json_array();
    json_array_append_new(arr, json_pack("{s:s, s:s, s:b}", "value", "", "label",
                                         i18n_get(r->lang, "case.no_provider"), "selected", 0));
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        json_array_append_new(arr, json_pack("{s:s, s:s, s:b}", "value", json_str_or(p, "id", NULL),
                                             "label", json_str_or(p, "name", NULL), "selected", 0));
    }
    json_decref(list);
    return arr;
}

/* A copy of opts with the option whose value is v selected. */
static json_t *select_in(json_t *opts, const char *v)
{
    json_t *copy = json_deep_copy(opts);
    size_t i;
    json_t *o;
    json_array_foreach(copy, i, o)
    {
        json_object_set_new(
            o, "selected",
            json_boolean(v && *v ? strcmp(json_str_or(o, "value", NULL), v) == 0 : i == 0));
    }
    return copy;
}

/* ---- the list ---- */

/* The list's filter parameters, in the order the query strings carry them. */
static const char *const list_params[] = {"status", "stage", "risk", "worker_id", "overdue",
                                          "pending", "per_page"};
#define N_LIST_PARAMS (sizeof(list_params) / sizeof(list_params[0]))

/* The current filters as a query string (without page), percent-encoded, "" when none. */
static const char *filter_query(struct http_req *r)
{
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < N_LIST_PARAMS; i++) {
        const char *v = http_query(r, list_params[i]);
        if (v && *v) {
            buf_addf(&b, "%s%s=", b.len ? "&" : "", list_params[i]);
            page_add_pct(&b, v);
        }
    }
    const char *out = arena_strdup(&r->arena, b.buf);
    buf_release(&b);
    return out;
}

/* GET /cases: filters (status, stage, risk, mine, overdue, pending approval) and pages. */
static void page_list(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    struct case_filter f;
    json_t *ctx = json_object();
    json_t *res = NULL;
    if (cases_filter_from_request(r, &f, &e) < 0) {
        json_object_set_new(ctx, "error", json_string(err_text(r, &e)));
        memset(&f, 0, sizeof(f));
        f.page = 1;
        f.per_page = 25;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(ctx);
        return;
    }
    if (!json_object_get(ctx, "error")) {
        if (db_begin(db, true, &e) < 0) {
            json_decref(ctx);
            http_reply_err(r, &e);
            return;
        }
        res = case_list(db, r->actor, &f, &e);
        db_rollback(db);
        if (!res) {
            if (e.kind != ERR_INVALID) {
                json_decref(ctx);
                http_reply_err(r, &e);
                return;
            }
            json_object_set_new(ctx, "error", json_string(err_text(r, &e)));
        }
    }
    json_t *items = res ? json_object_get(res, "items") : NULL;
    size_t i;
    json_t *c;
    json_array_foreach(items, i, c)
    {
        label_case(r, c, "");
        json_object_set_new(c, "urgent", json_boolean(json_str_or(c, "urgent_text", NULL) != NULL));
        json_object_set_new(c, "closed",
                            json_boolean(!strcmp(json_str_or(c, "status", NULL), "closed")));
    }
    json_int_t total = res ? json_integer_value(json_object_get(res, "total")) : 0;
    int per = f.per_page > 0 ? f.per_page : 25;
    int page = f.page > 0 ? f.page : 1;
    int pages = (int)((total + per - 1) / per);
    const char *filters = filter_query(r);
    json_object_set_new(ctx, "items", items ? json_incref(items) : json_array());
    json_object_set_new(ctx, "none", json_boolean(json_array_size(items) == 0));
    json_object_set_new(ctx, "count_text",
                        json_string(i18n_format(&r->arena, r->lang, "case.count", "n",
                                                arena_printf(&r->arena, "%lld", (long long)total),
                                                NULL)));
    if (pages > 1) {
        json_object_set_new(ctx, "page_text",
                            json_string(i18n_format(&r->arena, r->lang, "case.page_of", "page",
                                                    arena_printf(&r->arena, "%d", page), "pages",
                                                    arena_printf(&r->arena, "%d", pages), NULL)));
    }
    if (page > 1) {
        json_object_set_new(ctx, "prev", json_string(arena_printf(&r->arena, "/cases?%s%spage=%d",
                                                                  filters, *filters ? "&" : "",
                                                                  page - 1)));
    }
    if (page < pages) {
        json_object_set_new(ctx, "next", json_string(arena_printf(&r->arena, "/cases?%s%spage=%d",
                                                                  filters, *filters ? "&" : "",
                                                                  page + 1)));
    }
    json_object_set_new(ctx, "statuses",
                        page_options(r, "case.status", " open closed ", http_query(r, "status"),
                                "case.any"));
    json_object_set_new(ctx, "stages",
                        page_options(r, "choice.stage", CASE_STAGES " closed ",
                                     http_query(r, "stage"),
                                "case.any"));
    json_object_set_new(ctx, "risks",
                        page_options(r, "choice.risk", CASE_RISKS, http_query(r, "risk"),
                                     "case.any"));
    const char *w = http_query(r, "worker_id");
    json_object_set_new(ctx, "mine", json_boolean(w && !strcmp(w, "me")));
    json_object_set_new(ctx, "overdue", json_boolean(f.overdue));
    json_object_set_new(ctx, "pending", json_boolean(f.pending));
    json_object_set_new(ctx, "can_write", json_boolean(actor_can(r->actor, PERM_CASES_WRITE)));
    json_object_set_new(ctx, "can_approve",
                        json_boolean(actor_can(r->actor, PERM_CASES_APPROVE)));
    json_decref(res);
    page_reply(r, 200, "case_list", "case.title", ctx);
}

/* ---- opening a case ---- */

/* Renders the form that opens a case. form: the typed values {child_id, file_no, worker_id,
 * specialist_id} (taken); errors {field: message} (taken, may be NULL); error (may be NULL). */
static void new_page(struct http_req *r, int status, json_t *form, json_t *errors,
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
    if (db_begin(db, true, &e) < 0) {
        json_decref(form);
        json_decref(errors);
        http_reply_err(r, &e);
        return;
    }
    const char *child_id = json_str_or(form, "child_id", NULL);
    json_t *child = json_null();
    if (child_id && *child_id) {
        int found;
        struct db_stmt *s = db_row(db, &e, &found,
                                   "SELECT id, file_no, first_name, father_name, family_name"
                                   " FROM children WHERE id = $1 AND org_id = $2",
                                   "tt", child_id, r->actor->org_id);
        if (s) {
            json_t *o = json_pack("{s:s, s:s, s:s?, s:s?, s:s?}", "id", db_col_text(s, 0),
                                  "file_no", db_col_text(s, 1), "first_name", db_col_text(s, 2),
                                  "father_name", db_col_text(s, 3), "family_name",
                                  db_col_text(s, 4));
            db_done(s);
            json_object_set_new(o, "name", json_string(child_name(r, o, "")));
            json_decref(child);
            child = o;
        } else if (found < 0) {
            db_rollback(db);
            json_decref(form);
            json_decref(errors);
            http_reply_err(r, &e);
            return;
        }
    }
    const char *worker = json_str_or(form, "worker_id", NULL);
    json_t *workers = worker_options(db, r, worker && *worker ? worker : r->actor->user_id, NULL,
                                     &e);
    json_t *specialists =
        workers ? worker_options(db, r, json_str_or(form, "specialist_id", NULL), "case.none", &e)
                : NULL;
    db_rollback(db);
    if (!specialists) {
        json_decref(workers);
        json_decref(child);
        json_decref(form);
        json_decref(errors);
        http_reply_err(r, &e);
        return;
    }
    json_t *ctx = json_pack("{s:o, s:o, s:o, s:o, s:o, s:s?}", "form", form, "child", child,
                            "workers", workers, "specialists", specialists, "errors",
                            errors ? errors : json_object(), "error", error);
    if (!error) {
        json_object_set_new(ctx, "error", json_null());
    }
    page_reply(r, status, "case_new", "case.new", ctx);
}

/* GET /cases/new (?child_id= from the child's profile). */
static void page_new(struct http_req *r)
{
    const char *child = http_query(r, "child_id");
    json_t *form = json_pack("{s:s, s:s, s:s, s:s}", "child_id", child ? child : "", "file_no", "",
                             "worker_id", "", "specialist_id", "");
    new_page(r, 200, form, NULL, NULL);
}

/* POST /cases: child_id (from the profile) or file_no, worker_id, specialist_id. */
static void page_open(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    static const char *const names[] = {"child_id", "file_no", "worker_id", "specialist_id"};
    json_t *form = json_object();
    for (size_t i = 0; i < 4; i++) {
        const char *v = http_form(r, names[i]);
        json_object_set_new(form, names[i], json_string(v && utf8_valid(v, strlen(v)) ? v : ""));
    }
    struct err e;
    err_clear(&e);
    const char *child_id = page_form(r, "child_id");
    const char *file_no = page_form(r, "file_no");
    char found_id[40] = "";
    if (!child_id) {
        if (!file_no) {
            new_page(r, 422, form, json_pack("{s:s}", "file_no",
                                             problem_text(r, "required", "file_no", NULL)),
                     i18n_get(r->lang, "err.validation_failed"));
            return;
        }
        int found = 0;
        struct db_stmt *s = NULL;
        if (db_begin(db, true, &e) == 0) {
            s = db_row(db, &e, &found,
                       "SELECT id FROM children WHERE org_id = $1 AND file_no = $2", "tt",
                       r->actor->org_id, file_no);
            if (s) {
                snprintf(found_id, sizeof(found_id), "%s", db_col_text(s, 0));
                db_done(s);
            }
            db_rollback(db);
        } else {
            found = -1;
        }
        if (found < 0) {
            json_decref(form);
            http_reply_err(r, &e);
            return;
        }
        if (!found_id[0]) {
            new_page(r, 422, form,
                     json_pack("{s:s}", "file_no", i18n_get(r->lang, "case.no_such_file")),
                     i18n_get(r->lang, "err.validation_failed"));
            return;
        }
        child_id = found_id;
    }
    char id[40], no[32];
    if (case_open(db, r->actor, child_id, page_form(r, "worker_id"), page_form(r, "specialist_id"),
                  id, no, &e) < 0) {
        const char *msg = err_text(r, &e);
        const char *field =
            !strcmp(e.field, "child_id") && !page_form(r, "child_id") ? "file_no" : e.field;
        json_t *errors = json_object();
        if (*field) {
            json_object_set_new(errors, field, json_string(msg));
        }
        new_page(r, http_status_of(e.kind), form, errors, msg);
        return;
    }
    json_decref(form);
    http_redirect(r, arena_printf(&r->arena, "/cases/%s?ok=flash.case_opened", id));
}

/* ---- the case ---- */

/* The stage bar [{label, done, current}]: the enabled stages (and the case's own stage when
 * it was switched off since) with "closed" at the end. */
static json_t *stage_bar(struct http_req *r, const char *enabled, const char *stage)
{
    json_t *arr = json_array();
    size_t cur = N_ALL_STAGES;
    for (size_t i = 0; i < N_ALL_STAGES; i++) {
        if (stage && !strcmp(stage, all_stages[i])) {
            cur = i;
        }
    }
    int n = 0;
    for (size_t i = 0; i < N_ALL_STAGES; i++) {
        bool on = i == N_ALL_STAGES - 1 || text_word_in(enabled, all_stages[i]) || i == cur;
        if (!on) {
            continue;
        }
        n++;
        json_array_append_new(arr, json_pack("{s:i, s:s, s:b, s:b}", "n", n, "label",
                                             page_label(r, "choice.stage", all_stages[i]), "done",
                                             cur < N_ALL_STAGES && i < cur, "current", i == cur));
    }
    return arr;
}

/* Labels the assessment summary a in place: areas [{label, score, score_label, score_class}],
 * risk_labels [], digital_list [{label, yes}], overall_label, status_label. */
static void label_assessment(struct http_req *r, json_t *a)
{
    json_t *ratings = json_object_get(a, "ratings");
    json_t *list = json_array();
    for (size_t i = 0; i < N_AREAS; i++) {
        json_int_t v = json_integer_value(json_object_get(ratings, areas[i]));
        const char *sv = arena_printf(&r->arena, "%lld", (long long)v);
        json_array_append_new(list, json_pack("{s:s, s:I, s:s, s:s}", "label",
                                              page_label(r, "choice.area", areas[i]), "score", v,
                                              "score_label", page_label(r, "case.score", sv),
                                              "score_class",
                                              v >= 3 ? "badge badge-error"
                                                     : (v == 2 ? "badge badge-warn"
                                                               : "badge badge-ok")));
    }
    json_object_set_new(a, "areas", list);
    json_t *risks = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(a, "risks"), i, v)
    {
        json_array_append_new(risks, json_string(page_label(r, "choice.protection",
                                                       json_string_value(v))));
    }
    json_object_set_new(a, "risk_labels", risks);
    json_object_set_new(a, "no_risks", json_boolean(json_array_size(risks) == 0));
    json_t *digital = json_object_get(a, "digital");
    json_t *dl = json_array();
    for (size_t k = 0; k < N_DIGITAL; k++) {
        bool yes = json_is_true(json_object_get(digital, digital_keys[k]));
        json_array_append_new(dl, json_pack("{s:s, s:b}", "label",
                                            page_label(r, "case.digital", digital_keys[k]), "yes",
                                            yes));
    }
    json_object_set_new(a, "digital_list", dl);
    json_object_set_new(
        a, "overall_label",
        json_string(page_label(r, "choice.risk", json_str_or(a, "overall_risk", NULL))));
    json_object_set_new(a, "overall_class",
                        json_string(risk_badge(json_str_or(a, "overall_risk", NULL))));
    json_object_set_new(a, "status_label",
                        json_string(page_label(r, "case.doc", json_str_or(a, "status", NULL))));
    if (!json_object_get(a, "comment")) {
        json_object_set_new(a, "comment", json_null());
    }
}

/* Labels the plan p in place: status_label, and for each action status_label and the
 * options of its status form. */
static void label_plan(struct http_req *r, json_t *p)
{
    json_object_set_new(p, "status_label",
                        json_string(page_label(r, "case.doc", json_str_or(p, "status", NULL))));
    json_object_set_new(p, "approved",
                        json_boolean(!strcmp(json_str_or(p, "status", NULL), "approved")));
    if (!json_object_get(p, "comment")) {
        json_object_set_new(p, "comment", json_null());
    }
    size_t i, k;
    json_t *g, *a;
    json_array_foreach(json_object_get(p, "goals"), i, g)
    {
        json_object_set_new(g, "n", json_integer((json_int_t)i + 1));
        json_array_foreach(json_object_get(g, "actions"), k, a)
        {
            const char *st = json_str_or(a, "status", NULL);
            json_object_set_new(a, "status_label",
                                json_string(page_label(r, "choice.action_status", st)));
            json_object_set_new(a, "statuses",
                                page_options(r, "choice.action_status", ACTION_STATUSES, st, NULL));
            static const char *const keep[] = {"responsible", "provider", "due_date", "outcome"};
            for (size_t m = 0; m < 4; m++) {
                if (!json_object_get(a, keep[m])) {
                    json_object_set_new(a, keep[m], json_null());
                }
            }
        }
        json_object_set_new(g, "no_actions",
                            json_boolean(json_array_size(json_object_get(g, "actions")) == 0));
    }
}

/* Labels the case's history in place: kind_label, detail_label (the detail when it is a
 * stage, risk, step or status; the raw text of an urgent flag; nothing for ids). */
static void label_events(struct http_req *r, json_t *events)
{
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev)
    {
        const char *kind = json_str_or(ev, "kind", NULL);
        const char *detail = json_str_or(ev, "detail", NULL);
        json_object_set_new(ev, "kind_label", json_string(page_label(r, "case.event", kind)));
        const char *dl = NULL;
        if (detail && kind) {
            if (!strcmp(kind, "urgent_raised")) {
                dl = detail;
            } else if (text_word_in(CASE_STAGES " closed ", detail)) {
                dl = page_label(r, "choice.stage", detail);
            } else if (text_word_in(CASE_RISKS, detail)) {
                dl = page_label(r, "choice.risk", detail);
            } else if (text_word_in(" assessment plan closure ", detail)) {
                dl = page_label(r, "case.what", detail);
            } else if (text_word_in(ACTION_STATUSES, detail)) {
                dl = page_label(r, "choice.action_status", detail);
            }
        }
        json_object_set_new(ev, "detail_label", dl ? json_string(dl) : json_null());
        if (!json_object_get(ev, "comment")) {
            json_object_set_new(ev, "comment", json_null());
        }
    }
}

/* Renders case id with extra (taken, may be NULL: a step's error as <form>_error, errors,
 * and the values typed) merged into the context. */
static void case_page(struct http_req *r, int status, const char *id, json_t *extra)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(extra);
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *c = case_get(db, r->actor, id, &e); /* audits the view */
    if (!c) {
        json_decref(extra);
        http_reply_err(r, &e);
        return;
    }
    char enabled[128];
    const char *stage = json_str_or(c, "stage", NULL);
    const char *cstatus = json_str_or(c, "status", NULL);
    const char *pending = json_str_or(c, "pending", NULL);
    bool is_open = !strcmp(cstatus, "open");
    const char *me = r->actor->user_id;
    bool own = !strcmp(json_str_or(c, "worker_id", NULL), me) ||
               (json_str_or(c, "specialist_id", NULL) &&
                !strcmp(json_str_or(c, "specialist_id", NULL), me));
    bool can_write = actor_can(r->actor, PERM_CASES_WRITE);
    json_t *workers = NULL, *specialists = NULL;
    if (db_begin(db, true, &e) == 0) {
        case_stages_enabled(db, r->actor->org_id, enabled, sizeof(enabled));
        if (can_write) {
            workers = worker_options(db, r, json_str_or(c, "worker_id", NULL), NULL, &e);
            specialists = workers ? worker_options(db, r, json_str_or(c, "specialist_id", NULL),
                                                   "case.none", &e)
                                  : NULL;
        }
        db_rollback(db);
    }
    if (can_write && !specialists) {
        json_decref(workers);
        json_decref(c);
        json_decref(extra);
        http_reply_err(r, &e);
        return;
    }
    label_case(r, c, "child_");
    json_object_set_new(
        c, "close_reason_label",
        json_string(page_label(r, "choice.close_reason", json_str_or(c, "close_reason", NULL))));
    json_t *a = json_object_get(c, "assessment");
    const char *a_status = a ? json_str_or(a, "status", NULL) : NULL;
    if (a) {
        label_assessment(r, a);
    }
    json_t *p = json_object_get(c, "plan");
    const char *p_status = p ? json_str_or(p, "status", NULL) : NULL;
    if (p) {
        label_plan(r, p);
    }
    label_events(r, json_object_get(c, "events"));
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(c, "tasks"), i, t)
    {
        json_object_set_new(t, "urgent", json_boolean(json_str_or(t, "urgent_text", NULL) != NULL));
    }
    bool editable_stage = is_open && !pending;
    bool at_a = editable_stage && !strcmp(stage, "assessment");
    bool at_p = editable_stage && !strcmp(stage, "plan");
    bool at_sf = editable_stage && (!strcmp(stage, "services") || !strcmp(stage, "follow_up"));
    bool plan_has_goal = p && json_array_size(json_object_get(p, "goals")) > 0;
    json_t *ctx = json_object();
    json_object_set_new(ctx, "c", c);
    json_object_set_new(ctx, "stages", stage_bar(r, enabled, stage));
    json_object_set_new(ctx, "is_open", json_boolean(is_open));
    json_object_set_new(ctx, "can_write", json_boolean(can_write));
    json_object_set_new(ctx, "can_decide",
                        json_boolean(pending && actor_can(r->actor, PERM_CASES_APPROVE) && !own));
    json_object_set_new(ctx, "own_pending",
                        json_boolean(pending && actor_can(r->actor, PERM_CASES_APPROVE) && own));
    json_object_set_new(ctx, "can_notes",
                        json_boolean(a && actor_can(r->actor, PERM_PSYCH_NOTES)));
    json_object_set_new(ctx, "at_assessment", json_boolean(can_write && at_a));
    json_object_set_new(ctx, "at_plan", json_boolean(can_write && at_p));
    json_object_set_new(ctx, "submit_assessment",
                        json_boolean(can_write && at_a && a_status &&
                                     (!strcmp(a_status, "draft") ||
                                      !strcmp(a_status, "sent_back"))));
    json_object_set_new(ctx, "submit_plan",
                        json_boolean(can_write && at_p && plan_has_goal && p_status &&
                                     (!strcmp(p_status, "draft") ||
                                      !strcmp(p_status, "sent_back"))));
    json_object_set_new(ctx, "can_move", json_boolean(can_write && at_sf));
    const char *move_to = !strcmp(stage, "services") ? "follow_up" : "services";
    json_object_set_new(ctx, "move_to", json_string(move_to));
    json_object_set_new(ctx, "move_label",
                        json_string(i18n_format(&r->arena, r->lang, "case.move_to", "stage",
                                                page_label(r, "choice.stage", move_to), NULL)));
    json_object_set_new(ctx, "can_close", json_boolean(can_write && editable_stage));
    json_object_set_new(ctx, "can_reopen", json_boolean(can_write && !is_open));
    json_object_set_new(ctx, "can_work_actions",
                        json_boolean(can_write && is_open && p_status &&
                                     !strcmp(p_status, "approved")));
    json_object_set_new(ctx, "can_resolve",
                        json_boolean(can_write && json_is_true(json_object_get(c, "urgent"))));
    json_object_set_new(ctx, "workers", workers ? workers : json_array());
    json_object_set_new(ctx, "specialists", specialists ? specialists : json_array());
    const char *sel_reason = extra ? json_str_or(extra, "sel_reason", NULL) : NULL;
    json_object_set_new(ctx, "close_reasons",
                        page_options(r, "choice.close_reason", CASE_CLOSE_REASONS, sel_reason,
                                "case.choose"));
    json_object_set_new(ctx, "no_events",
                        json_boolean(json_array_size(json_object_get(c, "events")) == 0));
    json_object_set_new(ctx, "no_tasks",
                        json_boolean(json_array_size(json_object_get(c, "tasks")) == 0));
    json_object_set_new(ctx, "errors", json_object());
    json_object_set_new(ctx, "form", json_object());
    static const char *const forms[] = {"assign_error", "submit_error", "decide_error",
                                        "move_error",   "close_error",  "reopen_error",
                                        "urgent_error", "action_error", "task_error"};
    for (size_t k = 0; k < sizeof(forms) / sizeof(forms[0]); k++) {
        json_object_set_new(ctx, forms[k], json_null());
    }
    if (extra) {
        json_object_update(ctx, extra);
        json_decref(extra);
    }
    page_reply(r, status, "case", "case.case", ctx);
}

/* GET /cases/{id} */
static void page_case(struct http_req *r)
{
    case_page(r, 200, r->params[0], NULL);
}

/* After a step posted from the case page: back to the case with a flash when rc is 0; else
 * the case again with the error next to the step's form (its name, e.g. "decide"), the
 * values typed kept in form (taken, may be NULL). A case that is not there is a 404. */
static void step_after(struct http_req *r, int rc, const struct err *e, const char *form_name,
                       json_t *form)
{
    if (rc == 0) {
        json_decref(form);
        http_redirect(r, arena_printf(&r->arena, "/cases/%s?ok=flash.saved", r->params[0]));
        return;
    }
    if (e->kind == ERR_NOT_FOUND && !strcmp(e->field, "id") && strcmp(form_name, "action") &&
        strcmp(form_name, "task")) {
        json_decref(form);
        http_reply_err(r, e);
        return;
    }
    const char *msg = err_text(r, e);
    json_t *extra = json_object();
    json_object_set_new(extra, arena_printf(&r->arena, "%s_error", form_name), json_string(msg));
    if (e->field[0]) {
        json_object_set_new(extra, "errors", json_pack("{s:s}", e->field, msg));
    }
    if (form) {
        const char *reason = json_str_or(form, "reason", NULL);
        if (reason) {
            json_object_set_new(extra, "sel_reason", json_string(reason));
        }
        json_object_set_new(extra, "form", form);
    }
    case_page(r, http_status_of(e->kind), r->params[0], extra);
}

/* The typed values of the named form fields as an object (for showing the form again). */
static json_t *typed(struct http_req *r, const char *const *names, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) {
        const char *v = http_form(r, names[i]);
        json_object_set_new(o, names[i], json_string(v && utf8_valid(v, strlen(v)) ? v : ""));
    }
    return o;
}

/* POST /cases/{id}/assign: worker_id, specialist_id ("" clears), reason. */
static void page_assign(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    int rc = case_assign(db, r->actor, r->params[0], page_form(r, "worker_id"),
                         http_form(r, "specialist_id"), page_form(r, "reason"), &e);
    static const char *const names[] = {"reason"};
    step_after(r, rc, &e, "assign", rc ? typed(r, names, 1) : NULL);
}

/* POST /cases/{id}/submit: what (assessment, plan or closure), reason and note for a closure. */
static void page_submit(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *what = http_form(r, "what");
    int rc = case_submit(db, r->actor, r->params[0], what ? what : "", page_form(r, "reason"),
                         page_form(r, "note"), &e);
    static const char *const names[] = {"reason", "note"};
    bool closure = what && !strcmp(what, "closure");
    step_after(r, rc, &e, closure ? "close" : "submit", rc ? typed(r, names, 2) : NULL);
}

/* POST /cases/{id}/decide: decision (approve or send_back) and comment. */
static void page_decide(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *d = http_form(r, "decision");
    int rc;
    if (!d || (strcmp(d, "approve") && strcmp(d, "send_back"))) {
        rc = err_set(&e, ERR_INVALID, "invalid_choice", "decision", "'decision' is not known");
    } else {
        rc = case_decide(db, r->actor, r->params[0], !strcmp(d, "approve"), page_form(r, "comment"),
                         &e);
    }
    static const char *const names[] = {"comment"};
    step_after(r, rc, &e, "decide", rc ? typed(r, names, 1) : NULL);
}

/* POST /cases/{id}/move: stage (services or follow_up). */
static void page_move(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *stage = http_form(r, "stage");
    int rc = case_move(db, r->actor, r->params[0], stage ? stage : "", &e);
    step_after(r, rc, &e, "move", NULL);
}

/* POST /cases/{id}/reopen: reason. */
static void page_reopen(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    int rc = case_reopen(db, r->actor, r->params[0], page_form(r, "reason"), &e);
    static const char *const names[] = {"reason"};
    step_after(r, rc, &e, "reopen", rc ? typed(r, names, 1) : NULL);
}

/* POST /cases/{id}/urgent: action (the action taken, required). */
static void page_urgent(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    int rc = case_resolve_urgent(db, r->actor, r->params[0], page_form(r, "action"), &e);
    static const char *const names[] = {"action"};
    step_after(r, rc, &e, "urgent", rc ? typed(r, names, 1) : NULL);
}

/* POST /cases/{id}/actions/{action}: status and outcome of a plan's action. */
static void page_action(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *status = http_form(r, "status");
    int rc = plan_action_update(db, r->actor, r->params[1], status ? status : "",
                                page_form(r, "outcome"), &e);
    step_after(r, rc, &e, "action", NULL);
}

/* POST /tasks/{id}/done: outcome (required for an urgent task); back: "case" with case_id
 * to return to the case, else the task list. */
static void page_task_done(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *case_id = http_form(r, "case_id");
    bool to_case = case_id && uuid_valid(case_id);
    int rc = task_done(db, r->actor, r->params[0], page_form(r, "outcome"), &e);
    if (rc == 0) {
        http_redirect(r, to_case ? arena_printf(&r->arena, "/cases/%s?ok=flash.task_done", case_id)
                                 : "/tasks?ok=flash.task_done");
        return;
    }
    if (e.kind == ERR_NOT_FOUND) {
        http_reply_err(r, &e);
        return;
    }
    json_t *extra = json_pack("{s:s, s:s}", "task_error", err_text(r, &e), "task_failed",
                              r->params[0]);
    if (to_case) {
        r->params[0] = case_id;
        case_page(r, http_status_of(e.kind), case_id, extra);
        return;
    }
    json_t *list = NULL;
    if (db_begin(db, true, &e) == 0) {
        list = task_list_mine(db, r->actor, &e);
        db_rollback(db);
    }
    if (!list) {
        json_decref(extra);
        http_reply_err(r, &e);
        return;
    }
    json_object_set_new(extra, "tasks", list);
    json_object_set_new(extra, "none", json_boolean(json_array_size(list) == 0));
    size_t i;
    json_t *t;
    json_array_foreach(list, i, t)
    {
        json_object_set_new(t, "urgent", json_boolean(json_str_or(t, "urgent_text", NULL) != NULL));
        json_object_set_new(t, "failed",
                            json_boolean(!strcmp(json_str_or(t, "id", NULL),
                                                 json_str_or(extra, "task_failed", NULL))));
    }
    page_reply(r, http_status_of(e.kind), "case_tasks", "case.tasks", extra);
}

/* GET /tasks: the actor's open tasks with their done forms. */
static void page_tasks(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *list = NULL;
    if (db_begin(db, true, &e) == 0) {
        list = task_list_mine(db, r->actor, &e);
        db_rollback(db);
    }
    if (!list) {
        http_reply_err(r, &e);
        return;
    }
    size_t i;
    json_t *t;
    json_array_foreach(list, i, t)
    {
        json_object_set_new(t, "urgent", json_boolean(json_str_or(t, "urgent_text", NULL) != NULL));
        json_object_set_new(t, "failed", json_false());
    }
    json_t *ctx = json_pack("{s:o, s:b, s:n}", "tasks", list, "none", json_array_size(list) == 0,
                            "task_error");
    page_reply(r, 200, "case_tasks", "case.tasks", ctx);
}

/* ---- the assessment ---- */

/* Renders the assessment form of case c (taken) with input (the values: the service's input
 * shape; taken, may be NULL) and errors ({field: message}; taken, may be NULL). */
static void assessment_page(struct http_req *r, int status, json_t *c, json_t *input,
                            json_t *errors, const char *error)
{
    if (!errors) {
        errors = json_object();
    }
    json_t *ratings = json_object_get(input, "ratings");
    json_t *area_list = json_array();
    for (size_t i = 0; i < N_AREAS; i++) {
        json_t *v = json_object_get(ratings, areas[i]);
        json_int_t score = json_is_integer(v) ? json_integer_value(v) : 0;
        json_t *scale = json_array();
        for (int s = 1; s <= 4; s++) {
            const char *sv = arena_printf(&r->arena, "%d", s);
            json_array_append_new(scale, json_pack("{s:i, s:s, s:b}", "value", s, "label",
                                                   page_label(r, "case.score", sv), "checked",
                                                   score == s));
        }
        const char *er = json_str_or(errors, arena_printf(&r->arena, "ratings.%s", areas[i]), NULL);
        json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "name", areas[i], "label",
                              page_label(r, "choice.area", areas[i]), "hint",
                              page_label(r, "case.area_hint", areas[i]), "scale", scale);
        json_object_set_new(o, "error", er ? json_string(er) : json_null());
        json_array_append_new(area_list, o);
    }
    json_t *risks = json_object_get(input, "risks");
    json_t *risk_opts = page_options(r, "choice.protection", CASE_PROTECTION_RISKS, NULL, NULL);
    size_t i;
    json_t *o;
    json_array_foreach(risk_opts, i, o)
    {
        bool on = false;
        size_t k;
        json_t *v;
        json_array_foreach(risks, k, v)
        {
            on |= json_is_string(v) && !strcmp(json_string_value(v), json_str_or(o, "value", NULL));
        }
        json_object_set_new(o, "selected", json_boolean(on));
    }
    json_t *digital = json_object_get(input, "digital");
    json_t *dig_opts = json_array();
    for (size_t k = 0; k < N_DIGITAL; k++) {
        json_array_append_new(dig_opts,
                              json_pack("{s:s, s:s, s:b}", "value", digital_keys[k], "label",
                                        page_label(r, "case.digital", digital_keys[k]), "selected",
                                        json_is_true(json_object_get(digital, digital_keys[k]))));
    }
    const char *overall = json_str_or(input, "overall_risk", NULL);
    json_t *ctx = json_object();
    label_case(r, c, "child_");
    json_object_set_new(ctx, "c", c);
    json_object_set_new(ctx, "areas", area_list);
    json_object_set_new(ctx, "protection", risk_opts);
    json_object_set_new(ctx, "digital", dig_opts);
    json_object_set_new(ctx, "risks", page_options(r, "choice.risk", CASE_RISKS, overall,
                                              "case.choose"));
    const char *notes = json_str_or(input, "notes", NULL);
    json_object_set_new(ctx, "notes", json_string(notes ? notes : ""));
    json_object_set_new(ctx, "show_notes", json_boolean(actor_can(r->actor, PERM_PSYCH_NOTES) ||
                                                        actor_can(r->actor, PERM_CASES_WRITE)));
    json_t *a = json_object_get(c, "assessment");
    const char *ast = a ? json_str_or(a, "status", NULL) : NULL;
    json_object_set_new(ctx, "sent_back", json_boolean(ast && !strcmp(ast, "sent_back")));
    json_object_set_new(
        ctx, "comment",
        json_string(a && json_str_or(a, "comment", NULL) ? json_str_or(a, "comment", NULL) : ""));
    json_object_set_new(ctx, "has_draft", json_boolean(a != NULL));
    json_object_set_new(ctx, "errors", errors);
    json_object_set_new(ctx, "error", error ? json_string(error) : json_null());
    json_decref(input);
    page_reply(r, status, "case_assessment", "case.assessment", ctx);
}

/* Loads the case for a form page, or replies (404 for another organization's case, 409 when
 * the case is not at the stage, with a link back). */
static json_t *case_at_stage_or_reply(struct http_req *r, struct db *db, const char *stage)
{
    struct err e;
    err_clear(&e);
    json_t *c = case_get(db, r->actor, r->params[0], &e);
    if (!c) {
        http_reply_err(r, &e);
        return NULL;
    }
    if (strcmp(json_str_or(c, "status", NULL), "open") ||
        strcmp(json_str_or(c, "stage", NULL), stage) || json_str_or(c, "pending", NULL)) {
        json_decref(c);
        err_set(&e, ERR_CONFLICT, "wrong_stage", NULL, "the case is not at the '%s' stage", stage);
        http_reply_err(r, &e);
        return NULL;
    }
    return c;
}

/* GET /cases/{id}/assessment: the form, filled from the draft or sent-back assessment. */
static void page_assessment(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    json_t *c = db ? case_at_stage_or_reply(r, db, "assessment") : NULL;
    if (!c) {
        return;
    }
    json_t *a = json_object_get(c, "assessment");
    json_t *input = json_object();
    if (a && (!strcmp(json_str_or(a, "status", NULL), "draft") ||
              !strcmp(json_str_or(a, "status", NULL), "sent_back"))) {
        json_object_set(input, "ratings", json_object_get(a, "ratings"));
        json_object_set(input, "risks", json_object_get(a, "risks"));
        json_object_set(input, "digital", json_object_get(a, "digital"));
        json_object_set(input, "overall_risk", json_object_get(a, "overall_risk"));
    }
    assessment_page(r, 200, c, input, NULL, NULL);
}

/* The assessment's input from the posted form: r_<area> (1..4), risks (checkboxes),
 * d_<key> (checkboxes), overall_risk, notes, and submit ("1" to submit). */
static json_t *assessment_input(struct http_req *r)
{
    json_t *in = json_object();
    json_t *ratings = json_object();
    for (size_t i = 0; i < N_AREAS; i++) {
        const char *v = http_form(r, arena_printf(&r->arena, "r_%s", areas[i]));
        if (!v || !*v) {
            continue; /* the service names the missing area */
        }
        char *end;
        long n = strtol(v, &end, 10);
        /* Not a number: kept as text so that the service refuses it as out of scale. */
        json_object_set_new(ratings, areas[i], *end || end == v ? json_string("?")
                                                                : json_integer(n));
    }
    json_object_set_new(in, "ratings", ratings);
    json_object_set_new(in, "risks", http_form_all(r, "risks"));
    json_t *digital = json_object();
    for (size_t k = 0; k < N_DIGITAL; k++) {
        const char *v = http_form(r, arena_printf(&r->arena, "d_%s", digital_keys[k]));
        json_object_set_new(digital, digital_keys[k], json_boolean(v && *v));
    }
    json_object_set_new(in, "digital", digital);
    const char *risk = http_form(r, "overall_risk");
    if (risk && *risk) {
        json_object_set_new(in, "overall_risk", json_string(risk));
    }
    const char *notes = page_form(r, "notes");
    if (notes) {
        json_object_set_new(in, "notes", json_string(notes));
    }
    const char *submit = http_form(r, "submit");
    json_object_set_new(in, "submit", json_boolean(submit && !strcmp(submit, "1")));
    return in;
}

/* POST /cases/{id}/assessment: saves as a draft, or saves and submits. */
static void page_assessment_save(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    json_t *in = assessment_input(r);
    struct err e;
    err_clear(&e);
    json_t *problems = NULL;
    char id[40];
    bool submit = json_is_true(json_object_get(in, "submit"));
    int rc = assessment_save(db, r->actor, r->params[0], in, id, &problems, &e);
    if (rc == 0) {
        json_decref(in);
        http_redirect(r, arena_printf(&r->arena, "/cases/%s?ok=%s", r->params[0],
                                      submit ? "flash.submitted" : "flash.saved"));
        return;
    }
    if (e.kind == ERR_NOT_FOUND) {
        json_decref(in);
        json_decref(problems);
        http_reply_err(r, &e);
        return;
    }
    json_t *errors = problems ? errors_by_field(r, problems) : json_object();
    json_decref(problems);
    if (!problems && e.field[0]) {
        json_object_set_new(errors, e.field, json_string(err_text(r, &e)));
    }
    const char *general = err_text(r, &e);
    json_t *c = case_get(db, r->actor, r->params[0], &e);
    if (!c) {
        json_decref(in);
        json_decref(errors);
        http_reply_err(r, &e);
        return;
    }
    json_object_del(in, "notes"); /* notes are not sent back into the page */
    assessment_page(r, 422, c, in, errors, general);
}

/* GET /assessments/{id}/notes: the sealed notes for psych.notes holders; each view audited. */
static void page_notes(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (db_begin(db, false, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    int found;
    struct db_stmt *s = db_row(db, &e, &found,
                               "SELECT a.notes, a.case_id, c.case_no, a.updated_at"
                               " FROM assessments a JOIN cases c ON c.id = a.case_id"
                               " WHERE a.id = $1 AND a.org_id = $2",
                               "tt", r->params[0], r->actor->org_id);
    if (!s) {
        db_rollback(db);
        if (found == 0) {
            err_set(&e, ERR_NOT_FOUND, "not_found", "id", "no such assessment");
        }
        http_reply_err(r, &e);
        return;
    }
    const char *sealed = db_col_text(s, 0);
    const char *notes = sealed ? keys_open(db, &r->arena, r->actor->org_id, r->params[0], "notes",
                                           sealed, NULL, &e)
                               : "";
    json_t *ctx = json_pack("{s:s, s:s, s:s}", "case_id", db_col_text(s, 1), "case_no",
                            db_col_text(s, 2), "updated_at", db_col_text(s, 3));
    db_done(s);
    if (!notes ||
        actor_audit(db, r->actor, "assessment.notes_view", "assessment", r->params[0], "ok", NULL,
                    &e) < 0 ||
        db_commit(db, &e) < 0) {
        db_rollback(db);
        json_decref(ctx);
        http_reply_err(r, &e);
        return;
    }
    json_object_set_new(ctx, "notes", json_string(notes));
    json_object_set_new(ctx, "none", json_boolean(!*notes));
    page_reply(r, 200, "case_notes", "case.notes", ctx);
}

/* ---- the plan ---- */

/* The plan form's goals for rendering: the goals of input (the service's shape, borrowed)
 * followed by blank ones, each with its actions followed by blank ones; errors by the
 * service's field paths (borrowed). providers: the options (borrowed). */
static json_t *plan_rows(struct http_req *r, json_t *input, json_t *errors, json_t *providers)
{
    json_t *goals = json_object_get(input, "goals");
    size_t n = json_array_size(goals);
    json_t *out = json_array();
    for (size_t i = 0; i < n + BLANK_GOALS && i < MAX_GOALS; i++) {
        json_t *g = json_array_get(goals, i);
        json_t *actions = json_object_get(g, "actions");
        size_t na = json_array_size(actions);
        const char *ge = json_str_or(errors, arena_printf(&r->arena, "goals[%zu].goal", i), NULL);
        json_t *row =
            json_pack("{s:i, s:i, s:s}", "i", (int)i, "n", (int)i + 1, "goal",
                      g && json_str_or(g, "goal", NULL) ? json_str_or(g, "goal", NULL) : "");
        json_object_set_new(row, "error", ge ? json_string(ge) : json_null());
        json_t *arows = json_array();
        for (size_t k = 0; k < na + BLANK_ACTIONS && k < MAX_ACTIONS; k++) {
            json_t *a = json_array_get(actions, k);
            json_t *ar = json_pack("{s:i, s:i, s:i}", "i", (int)i, "k", (int)k, "m", (int)k + 1);
            static const char *const cols[] = {"action", "responsible", "due_date"};
            for (size_t m = 0; m < 3; m++) {
                const char *v = a ? json_str_or(a, cols[m], NULL) : NULL;
                json_object_set_new(ar, cols[m], json_string(v ? v : ""));
                const char *er = json_str_or(
                    errors, arena_printf(&r->arena, "goals[%zu].actions[%zu].%s", i, k, cols[m]),
                    NULL);
                json_object_set_new(ar, arena_printf(&r->arena, "%s_error", cols[m]),
                                    er ? json_string(er) : json_null());
            }
            json_object_set_new(
                ar, "providers",
                select_in(providers, a ? json_str_or(a, "provider_id", NULL) : NULL));
            json_array_append_new(arows, ar);
        }
        json_object_set_new(row, "actions", arows);
        json_array_append_new(out, row);
    }
    return out;
}

/* Renders the plan form of case c (taken) with input (taken, may be NULL), errors (taken,
 * may be NULL) and a general error (may be NULL). */
static void plan_page(struct http_req *r, struct db *db, int status, json_t *c, json_t *input,
                      json_t *errors, const char *error)
{
    struct err e;
    err_clear(&e);
    json_t *providers = NULL;
    if (db_begin(db, true, &e) == 0) {
        providers = provider_options(db, r, &e);
        db_rollback(db);
    }
    if (!providers) {
        json_decref(c);
        json_decref(input);
        json_decref(errors);
        http_reply_err(r, &e);
        return;
    }
    if (!errors) {
        errors = json_object();
    }
    json_t *ctx = json_object();
    label_case(r, c, "child_");
    json_t *p = json_object_get(c, "plan");
    const char *pst = p ? json_str_or(p, "status", NULL) : NULL;
    json_object_set_new(ctx, "sent_back", json_boolean(pst && !strcmp(pst, "sent_back")));
    json_object_set_new(
        ctx, "comment",
        json_string(p && json_str_or(p, "comment", NULL) ? json_str_or(p, "comment", NULL) : ""));
    json_object_set_new(ctx, "goals", plan_rows(r, input, errors, providers));
    const char *ge = json_str_or(errors, "goals", NULL);
    json_object_set_new(ctx, "goals_error", ge ? json_string(ge) : json_null());
    json_object_set_new(ctx, "c", c);
    json_object_set_new(ctx, "error", error ? json_string(error) : json_null());
    json_object_set_new(ctx, "no_providers", json_boolean(json_array_size(providers) <= 1));
    json_decref(providers);
    json_decref(input);
    json_decref(errors);
    page_reply(r, status, "case_plan", "case.plan", ctx);
}

/* GET /cases/{id}/plan: the form, filled from the draft or sent-back plan. */
static void page_plan(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    json_t *c = db ? case_at_stage_or_reply(r, db, "plan") : NULL;
    if (!c) {
        return;
    }
    json_t *input = json_pack("{s:[]}", "goals");
    json_t *p = json_object_get(c, "plan");
    bool editable = p && (!strcmp(json_str_or(p, "status", NULL), "draft") ||
                          !strcmp(json_str_or(p, "status", NULL), "sent_back"));
    if (editable) {
        /* case_get names the provider; the form needs its id, read here. */
        struct err e;
        err_clear(&e);
        size_t i, k;
        json_t *g, *a;
        json_array_foreach(json_object_get(p, "goals"), i, g)
        {
            json_t *acts = json_array();
            json_array_foreach(json_object_get(g, "actions"), k, a)
            {
                const char *prov = NULL;
                int found;
                struct db_stmt *s = db_row(db, &e, &found,
                                           "SELECT provider_id FROM plan_actions WHERE id = $1"
                                           " AND org_id = $2",
                                           "tt", json_str_or(a, "id", NULL), r->actor->org_id);
                if (s) {
                    prov = db_col_text(s, 0) ? arena_strdup(&r->arena, db_col_text(s, 0)) : NULL;
                    db_done(s);
                }
                json_array_append_new(acts, json_pack("{s:s?, s:s?, s:s?, s:s?}", "action",
                                                      json_str_or(a, "action", NULL), "responsible",
                                                      json_str_or(a, "responsible", NULL),
                                                      "due_date", json_str_or(a, "due_date", NULL),
                                                      "provider_id", prov));
            }
            json_array_append_new(
                json_object_get(input, "goals"),
                json_pack("{s:s?, s:o}", "goal", json_str_or(g, "goal", NULL), "actions", acts));
        }
    }
    plan_page(r, db, 200, c, input, NULL, NULL);
}

/* The plan's input from the posted form: g<i>_goal and g<i>_a<k>_{action,responsible,
 * provider,due} rows; rows left wholly blank are skipped, so the service's indexes are those
 * of the rows kept (and the form shown again lists them in that order). */
static json_t *plan_input(struct http_req *r)
{
    json_t *goals = json_array();
    for (int i = 0; i < MAX_GOALS; i++) {
        const char *goal = http_form(r, arena_printf(&r->arena, "g%d_goal", i));
        json_t *acts = json_array();
        for (int k = 0; k < MAX_ACTIONS; k++) {
            static const char *const suffix[] = {"action", "responsible", "provider", "due"};
            static const char *const member[] = {"action", "responsible", "provider_id",
                                                  "due_date"};
            json_t *a = json_object();
            bool any = false;
            for (size_t m = 0; m < 4; m++) {
                const char *v =
                    page_form(r, arena_printf(&r->arena, "g%d_a%d_%s", i, k, suffix[m]));
                if (v) {
                    json_object_set_new(a, member[m], json_string(v));
                    any = true;
                }
            }
            if (any) {
                if (!json_object_get(a, "action")) {
                    json_object_set_new(a, "action", json_string(""));
                }
                json_array_append_new(acts, a);
            } else {
                json_decref(a);
            }
        }
        bool blank = !goal || text_blank(goal);
        if (blank && json_array_size(acts) == 0) {
            json_decref(acts);
            continue;
        }
        json_array_append_new(goals, json_pack("{s:s, s:o}", "goal", blank ? "" : goal,
                                               "actions", acts));
    }
    const char *submit = http_form(r, "submit");
    return json_pack("{s:o, s:b}", "goals", goals, "submit", submit && !strcmp(submit, "1"));
}

/* POST /cases/{id}/plan: saves as a draft, or saves and submits. */
static void page_plan_save(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    json_t *in = plan_input(r);
    struct err e;
    err_clear(&e);
    json_t *problems = NULL;
    char id[40];
    bool submit = json_is_true(json_object_get(in, "submit"));
    int rc = plan_save(db, r->actor, r->params[0], in, id, &problems, &e);
    if (rc == 0) {
        json_decref(in);
        http_redirect(r, arena_printf(&r->arena, "/cases/%s?ok=%s", r->params[0],
                                      submit ? "flash.submitted" : "flash.saved"));
        return;
    }
    if (e.kind == ERR_NOT_FOUND && !strcmp(e.field, "id")) {
        json_decref(in);
        json_decref(problems);
        http_reply_err(r, &e);
        return;
    }
    json_t *errors = problems ? errors_by_field(r, problems) : json_object();
    if (!problems && e.field[0]) {
        json_object_set_new(errors, e.field, json_string(err_text(r, &e)));
    }
    json_decref(problems);
    const char *general = err_text(r, &e);
    json_t *c = case_get(db, r->actor, r->params[0], &e);
    if (!c) {
        json_decref(in);
        json_decref(errors);
        http_reply_err(r, &e);
        return;
    }
    plan_page(r, db, 422, c, in, errors, general);
}

/* ---- providers ---- */

/* The provider form's fields, in order. */
static const char *const prov_fields[] = {"name", "kind", "phone", "email", "address", "services"};
#define N_PROV_FIELDS (sizeof(prov_fields) / sizeof(prov_fields[0]))

/* Renders the directory with the form's typed values (taken, may be NULL) and error. */
static void providers_page(struct http_req *r, int status, json_t *form, const struct err *fe)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(form);
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *list = NULL;
    if (db_begin(db, true, &e) == 0) {
        list = provider_list(db, r->actor, &e);
        db_rollback(db);
    }
    if (!list) {
        json_decref(form);
        http_reply_err(r, &e);
        return;
    }
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        json_object_set_new(
            p, "kind_label",
            json_string(page_label(r, "choice.provider_kind", json_str_or(p, "kind", NULL))));
        static const char *const keep[] = {"phone", "email", "address", "services"};
        for (size_t k = 0; k < 4; k++) {
            if (!json_object_get(p, keep[k])) {
                json_object_set_new(p, keep[k], json_null());
            }
        }
    }
    if (!form) {
        form = json_object();
    }
    json_t *errors = json_object();
    const char *error = NULL;
    if (fe) {
        error = err_text(r, fe);
        if (fe->field[0]) {
            json_object_set_new(errors, fe->field, json_string(error));
        }
    }
    json_t *ctx = json_object();
    json_object_set_new(ctx, "providers", list);
    json_object_set_new(ctx, "none", json_boolean(json_array_size(list) == 0));
    json_object_set_new(ctx, "kinds",
                        page_options(r, "choice.provider_kind", PROVIDER_KINDS,
                                     json_str_or(form, "kind", NULL), NULL));
    json_object_set_new(ctx, "form", form);
    json_object_set_new(ctx, "errors", errors);
    json_object_set_new(ctx, "error", error ? json_string(error) : json_null());
    json_object_set_new(ctx, "can_write", json_boolean(actor_can(r->actor, PERM_CASES_WRITE)));
    page_reply(r, status, "case_providers", "case.providers", ctx);
}

/* GET /providers */
static void page_providers(struct http_req *r)
{
    providers_page(r, 200, NULL, NULL);
}

/* POST /providers: name, kind, phone, email, address, services. */
static void page_provider_create(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    json_t *in = json_object();
    json_t *form = json_object();
    for (size_t i = 0; i < N_PROV_FIELDS; i++) {
        const char *v = http_form(r, prov_fields[i]);
        json_object_set_new(form, prov_fields[i],
                            json_string(v && utf8_valid(v, strlen(v)) ? v : ""));
        if (v && !text_blank(v)) {
            json_object_set_new(in, prov_fields[i], json_string(v));
        }
    }
    struct err e;
    err_clear(&e);
    char id[40];
    int rc = provider_create(db, r->actor, in, id, &e);
    json_decref(in);
    if (rc < 0) {
        providers_page(r, http_status_of(e.kind), form, &e);
        return;
    }
    json_decref(form);
    http_redirect(r, "/providers?ok=flash.provider_added");
}

static const struct route routes[] = {
    {"GET", "/cases", page_list, ROUTE_PAGE, PERM_CASES_READ},
    {"GET", "/cases/new", page_new, ROUTE_PAGE, PERM_CASES_WRITE},
    {"POST", "/cases", page_open, ROUTE_PAGE, PERM_CASES_WRITE},
    {"GET", "/cases/{id}", page_case, ROUTE_PAGE, PERM_CASES_READ},
    {"POST", "/cases/{id}/assign", page_assign, ROUTE_PAGE, PERM_CASES_WRITE},
    {"POST", "/cases/{id}/submit", page_submit, ROUTE_PAGE, PERM_CASES_WRITE},
    {"POST", "/cases/{id}/decide", page_decide, ROUTE_PAGE, PERM_CASES_APPROVE},
    {"POST", "/cases/{id}/move", page_move, ROUTE_PAGE, PERM_CASES_WRITE},
    {"POST", "/cases/{id}/reopen", page_reopen, ROUTE_PAGE, PERM_CASES_WRITE},
    {"POST", "/cases/{id}/urgent", page_urgent, ROUTE_PAGE, PERM_CASES_WRITE},
    {"POST", "/cases/{id}/actions/{action}", page_action, ROUTE_PAGE, PERM_CASES_WRITE},
    {"GET", "/cases/{id}/assessment", page_assessment, ROUTE_PAGE, PERM_CASES_WRITE},
    {"POST", "/cases/{id}/assessment", page_assessment_save, ROUTE_PAGE, PERM_CASES_WRITE},
    {"GET", "/cases/{id}/plan", page_plan, ROUTE_PAGE, PERM_CASES_WRITE},
    {"POST", "/cases/{id}/plan", page_plan_save, ROUTE_PAGE, PERM_CASES_WRITE},
    {"GET", "/assessments/{id}/notes", page_notes, ROUTE_PAGE, PERM_PSYCH_NOTES},
    {"GET", "/providers", page_providers, ROUTE_PAGE, PERM_CASES_READ},
    {"POST", "/providers", page_provider_create, ROUTE_PAGE, PERM_CASES_WRITE},
    {"GET", "/tasks", page_tasks, ROUTE_PAGE, PERM_CASES_READ},
    {"POST", "/tasks/{id}/done", page_task_done, ROUTE_PAGE, PERM_CASES_READ},
};

void cases_pages_register(void)
{
    http_routes_add(routes, sizeof(routes) / sizeof(routes[0]));
}
