/*
 * children_pages.c: the registry's HTML pages: the list with search and
 * filters, the create form with the possible duplicates shown before saving,
 * the profile with its tabs (and the status, guardian and consent forms),
 * the edit form, the print view, and the household pages. Every page works
 * without JavaScript; the forms are generated from the one field table.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "cases/instruments.h"
#include "children/children.h"
#include "children/children_web.h"
#include "children/search.h"
#include "core/text.h"
#include "core/time.h"
#include "web/i18n.h"
#include "core/uuid.h"
#include "web/page.h"
#include "core/banned.h"

/* The profile's tabs, in order; "health" needs children.health. */
static const char *const tabs[] = {"overview", "family",  "education", "health",
                                   "documents", "consent", "history"};
#define N_TABS (sizeof(tabs) / sizeof(tabs[0]))

/* The sections of the form, in order (the field table's section values). */
static const char *const sections[] = {"overview", "family", "education", "health"};

/* The list's sort orders. */
#define SORTS " name -name file_no -file_no age -age created -created "

/* The label of a choice value of field (choice.<field>.<value>), or the value itself. */
static const char *choice_label(struct http_req *r, const char *field, const char *value)
{
    return page_label(r, arena_printf(&r->arena, "choice.%s", field), value);
}

/* Options for the choices of field, labelled by choice.<field>.<value> (page_options). */
static json_t *options(struct http_req *r, const char *field, const char *values,
                       const char *selected, const char *blank_key)
{
    return page_options(r, arena_printf(&r->arena, "choice.%s", field), values, selected,
                        blank_key);
}

/* True when arr (of strings) holds s. */
static bool array_has(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (s && json_is_string(v) && strcmp(json_string_value(v), s) == 0) {
            return true;
        }
    }
    return false;
}

/* The record's input from the posted form: every field of the table the actor may write
 * (sealed ones only with children.health) as a string; checkbox lists joined with commas,
 * unchecked booleans "0". Blank values are left for children_validate to treat as absent. */
static json_t *form_input(struct http_req *r)
{
    bool health = actor_can(r->actor, PERM_CHILDREN_HEALTH);
    int n;
    const struct child_field *f = children_fields(&n);
    json_t *in = json_object();
    for (int i = 0; i < n; i++) {
        if (f[i].sealed && !health) {
            continue;
        }
        if (f[i].type == FIELD_LIST) {
            json_t *vals = http_form_all(r, f[i].name);
            struct buf b = BUF_INIT;
            size_t k;
            json_t *v;
            json_array_foreach(vals, k, v)
            {
                buf_addf(&b, "%s%s", b.len ? "," : "", json_string_value(v));
            }
            json_object_set_new(in, f[i].name, json_string(b.buf));
            buf_release(&b);
            json_decref(vals);
        } else if (f[i].type == FIELD_BOOL) {
            const char *v = http_form(r, f[i].name);
            json_object_set_new(in, f[i].name, json_string(v && *v ? "1" : "0"));
        } else {
            const char *v = http_form(r, f[i].name);
            json_object_set_new(in, f[i].name, json_string(v ? v : ""));
        }
    }
    return in;
}

/* The text of a stored value for display: choices by their labels, lists joined by the
 * language's comma, booleans yes/no; NULL when empty. In the request arena. */
static const char *display_value(struct http_req *r, const struct child_field *f, json_t *v)
{
    if (f->type == FIELD_BOOL) {
        return json_is_true(v) || (json_is_string(v) && strcmp(json_string_value(v), "1") == 0)
                   ? i18n_get(r->lang, "children.yes")
                   : NULL;
    }
    const char *s = json_string_value(v);
    if (!s || !*s) {
        return NULL;
    }
    if (f->type == FIELD_ENUM) {
        return choice_label(r, f->name, s);
    }
    if (f->type == FIELD_LIST) {
        struct buf b = BUF_INIT;
        for (const char *p = s; *p;) {
            size_t n = strcspn(p, ",");
            const char *one = arena_printf(&r->arena, "%.*s", (int)n, p);
            buf_addf(&b, "%s%s", b.len ? i18n_get(r->lang, "children.list_sep") : "",
                     choice_label(r, f->name, one));
            p += n + (p[n] == ',');
        }
        const char *out = arena_strdup(&r->arena, b.buf);
        buf_release(&b);
        return out;
    }
    return s;
}

/* The full name of a child object: the name chain joined by spaces (arena). */
static const char *full_name(struct http_req *r, json_t *c)
{
    static const char *const parts[] = {"first_name", "father_name", "grandfather_name",
                                        "family_name"};
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < 4; i++) {
        const char *s = json_string_value(json_object_get(c, parts[i]));
        if (s && *s) {
            buf_addf(&b, "%s%s", b.len ? " " : "", s);
        }
    }
    const char *out = arena_strdup(&r->arena, b.buf);
    buf_release(&b);
    return out;
}

/* The badge class of a status. */
static const char *status_badge(const char *status)
{
    if (!status) {
        return "badge";
    }
    if (!strcmp(status, "active")) {
        return "badge badge-ok";
    }
    if (!strcmp(status, "registered")) {
        return "badge badge-info";
    }
    if (!strcmp(status, "closed")) {
        return "badge badge-error";
    }
    return "badge badge-warn";
}

/* Adds the display members of a child summary (or record) c: name, sex_label, status_label,
 * status_class. */
static void label_child(struct http_req *r, json_t *c)
{
    const char *status = json_string_value(json_object_get(c, "status"));
    const char *sex = json_string_value(json_object_get(c, "sex"));
    json_object_set_new(c, "name", json_string(full_name(r, c)));
    json_object_set_new(c, "sex_label", json_string(sex ? choice_label(r, "sex", sex) : ""));
    json_object_set_new(c, "status_label",
                        json_string(status ? choice_label(r, "status", status) : ""));
    json_object_set_new(c, "status_class", json_string(status_badge(status)));
}

/* ---- the form ---- */

/* The form's sections [{id, legend, fields: [...]}] for values (strings as typed or stored;
 * may be NULL) and errors ({field: message}; may be NULL). Each field carries exactly the
 * members the template reads, set even when empty so that lookups do not reach outward. */
static json_t *form_sections(struct http_req *r, json_t *values, json_t *errors)
{
    bool health = actor_can(r->actor, PERM_CHILDREN_HEALTH);
    int n;
    const struct child_field *f = children_fields(&n);
    json_t *out = json_array();
    for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
        if (!strcmp(sections[s], "health") && !health) {
            continue;
        }
        json_t *fields = json_array();
        for (int i = 0; i < n; i++) {
            if (strcmp(f[i].section, sections[s]) != 0 || (f[i].sealed && !health)) {
                continue;
            }
            json_t *v = values ? json_object_get(values, f[i].name) : NULL;
            const char *val = json_is_string(v) ? json_string_value(v) : "";
            if (json_is_true(v)) {
                val = "1";
            }
            const char *error = errors ? json_string_value(json_object_get(errors, f[i].name))
                                       : NULL;
            const char *kind = "text";
            switch (f[i].type) {
            case FIELD_DATE:
                kind = "date";
                break;
            case FIELD_NOTE:
                kind = "note";
                break;
            case FIELD_ENUM:
                kind = "select";
                break;
            case FIELD_LIST:
                kind = "checks";
                break;
            case FIELD_BOOL:
                kind = "bool";
                break;
            default:
                break;
            }
            bool ltr = f[i].latin || f[i].type == FIELD_COORD || f[i].type == FIELD_ID ||
                       !strcmp(f[i].name, "id_doc_number");
            json_t *fo = json_pack(
                "{s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:i, s:s?, s:s?}", "name",
                f[i].name, "label", page_label(r, "field", f[i].name), "value", val, "is_text",
                !strcmp(kind, "text"), "is_date", !strcmp(kind, "date"), "is_note",
                !strcmp(kind, "note"), "is_select", !strcmp(kind, "select"), "is_checks",
                !strcmp(kind, "checks"), "is_bool", !strcmp(kind, "bool"), "required",
                f[i].required, "ltr", ltr, "max", (int)f[i].max_chars, "error", error, "hint",
                f[i].type == FIELD_ID ? i18n_get(r->lang, "children.household_hint") : NULL);
            json_object_set_new(fo, "checked", json_boolean(!strcmp(val, "1")));
            if (!error) {
                json_object_set_new(fo, "error", json_null());
            }
            if (!json_object_get(fo, "hint")) {
                json_object_set_new(fo, "hint", json_null());
            }
            if (f[i].type == FIELD_ENUM) {
                json_object_set_new(fo, "options",
                                    options(r, f[i].name, f[i].values, val, "children.choose"));
            } else if (f[i].type == FIELD_LIST) {
                json_t *opts = options(r, f[i].name, f[i].values, NULL, NULL);
                size_t k;
                json_t *o;
                json_array_foreach(opts, k, o)
                {
                    /* checked when the value is one of the comma-separated list */
                    const char *ov = json_string_value(json_object_get(o, "value"));
                    const char *at = strstr(val, ov);
                    size_t ol = strlen(ov);
                    bool on = false;
                    while (at && !on) {
                        on = (at == val || at[-1] == ',' || at[-1] == ' ') &&
                             (at[ol] == '\0' || at[ol] == ',' || at[ol] == ' ');
                        at = strstr(at + 1, ov);
                    }
                    json_object_set_new(o, "selected", json_boolean(on));
                }
                json_object_set_new(fo, "options", opts);
            } else {
                json_object_set_new(fo, "options", json_array());
            }
            json_array_append_new(fields, fo);
        }
        json_array_append_new(out, json_pack("{s:s, s:s, s:o}", "id", sections[s], "legend",
                                             page_label(r, "children.tab", sections[s]), "fields",
                                             fields));
    }
    return out;
}

/* {field: message} from a localized problems list. */
static json_t *errors_by_field(json_t *problems)
{
    json_t *by = json_object();
    size_t i;
    json_t *p;
    json_array_foreach(problems, i, p)
    {
        const char *field = json_string_value(json_object_get(p, "field"));
        const char *msg = json_string_value(json_object_get(p, "message"));
        if (field && *field && msg && !json_object_get(by, field)) {
            json_object_set_new(by, field, json_string(msg));
        }
    }
    return by;
}

/* Renders the create or edit form. values (taken, may be NULL), errors ({field: msg},
 * taken, may be NULL), error (general message, may be NULL), candidates (taken, may be
 * NULL): the possible duplicates. id and version are set for an edit. */
static void form_page(struct http_req *r, int status, const char *id, int64_t version,
                      json_t *values, json_t *errors, const char *error, json_t *candidates)
{
    json_t *ctx = json_object();
    json_object_set_new(ctx, "sections", form_sections(r, values, errors));
    json_object_set_new(ctx, "error", error ? json_string(error) : json_null());
    json_object_set_new(ctx, "editing", json_boolean(id != NULL));
    if (id) {
        json_object_set_new(ctx, "id", json_string(id));
        json_object_set_new(ctx, "version", json_integer(version));
        json_object_set_new(ctx, "action", json_string(arena_printf(&r->arena,
                                                                     "/children/%s/edit", id)));
    } else {
        json_object_set_new(ctx, "action", json_string("/children"));
    }
    if (candidates && json_array_size(candidates) > 0) {
        size_t i;
        json_t *c;
        json_array_foreach(candidates, i, c)
        {
            label_child(r, c);
            json_t *reasons = json_object_get(c, "reasons");
            json_t *labels = json_array();
            size_t k;
            json_t *rs;
            json_array_foreach(reasons, k, rs)
            {
                json_array_append_new(
                    labels, json_string(page_label(r, "children.reason", json_string_value(rs))));
            }
            json_object_set_new(c, "reason_labels", labels);
        }
        json_object_set_new(ctx, "candidates", candidates);
    } else {
        json_decref(candidates);
    }
    json_decref(values);
    json_decref(errors);
    page_reply(r, status, "children_form", id ? "children.edit" : "children.new", ctx);
}

/* GET /children/new (?household_id= fills the household). */
static void page_new(struct http_req *r)
{
    json_t *values = json_object();
    const char *hh = http_query(r, "household_id");
    if (hh && *hh) {
        json_object_set_new(values, "household_id", json_string(hh));
    }
    form_page(r, 200, NULL, 0, values, NULL, NULL, NULL);
}

/* The form's values as typed, for showing the form again (a copy of input). */
static json_t *typed_values(json_t *input)
{
    return json_deep_copy(input);
}

/* Shows the form again for the problems of a failed create or update. */
static void form_failed(struct http_req *r, const char *id, int64_t version, json_t *values,
                        json_t *problems, const struct err *e)
{
    json_t *by = NULL;
    const char *general;
    if (problems) {
        page_localize_errors(r, problems);
        by = errors_by_field(problems);
        json_decref(problems);
        general = i18n_get(r->lang, "err.validation_failed");
    } else {
        general = page_err_text(r, e);
        if (e->field[0]) {
            by = json_pack("{s:s}", e->field, general);
        }
    }
    form_page(r, problems ? 422 : http_status_of(e->kind), id, version, values, by, general,
              NULL);
}

/* POST /children: validates; shows possible duplicates first (the user marks each as a
 * different child, or opens it); then registers the child and remembers the decisions. */
static void page_create(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *input = form_input(r);
    json_t *values = typed_values(input);
    json_t *diff = http_form_all(r, "different_from");
    if (db_begin(db, false, &e) < 0) {
        json_decref(input);
        json_decref(diff);
        form_failed(r, NULL, 0, values, NULL, &e);
        return;
    }
    json_t *probs = json_array();
    if (children_validate(input, true, children_age_limit(db, r->actor->org_id), probs) > 0) {
        db_rollback(db);
        json_decref(input);
        json_decref(diff);
        form_failed(r, NULL, 0, values, probs, &e);
        return;
    }
    json_decref(probs);
    json_t *cands = children_registration_candidates(db, r->actor, input, &e);
    if (!cands) {
        db_rollback(db);
        json_decref(input);
        json_decref(diff);
        form_failed(r, NULL, 0, values, NULL, &e);
        return;
    }
    /* Candidates judged different are left out; the others are shown before saving. */
    json_t *left = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(cands, i, c)
    {
        if (!array_has(diff, json_string_value(json_object_get(c, "id")))) {
            json_array_append(left, c);
        }
    }
    json_decref(cands);
    if (json_array_size(left) > 0) {
        db_rollback(db);
        json_decref(input);
        json_decref(diff);
        form_page(r, 200, NULL, 0, values, NULL, NULL, left);
        return;
    }
    json_decref(left);
    char id[40], file_no[64];
    json_t *errors = NULL;
    int rc = child_create_tx(db, r->actor, input, id, file_no, &errors, &e);
    json_array_foreach(diff, i, c)
    {
        if (rc == 0) {
            rc = children_mark_distinct(db, r->actor, id, json_string_value(c), &e);
        }
    }
    if (rc < 0 || db_commit(db, &e) < 0) {
        db_rollback(db);
        json_decref(input);
        json_decref(diff);
        form_failed(r, NULL, 0, values, errors, &e);
        return;
    }
    json_decref(input);
    json_decref(diff);
    json_decref(values);
    http_redirect(r, arena_printf(&r->arena, "/children/%s?ok=flash.child_created", id));
}

/* ---- the list ---- */

/* The list's filter parameters, in the order the query strings carry them. */
static const char *const list_params[] = {"q",           "status", "sex",       "age_min",
                                          "age_max",     "governorate", "need", "sponsored",
                                          "sort",        "per_page"};
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

/* The link to page p of the list with the current filters. */
static const char *page_link(struct http_req *r, const char *filters, int p)
{
    return arena_printf(&r->arena, "/children?%s%spage=%d", filters, *filters ? "&" : "", p);
}

/* GET /children: search, filters, sort, pages. */
static void page_list(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    struct child_query q;
    json_t *ctx = json_object();
    json_t *res = NULL;
    if (children_query_from_request(r, &q, &e) < 0) {
        page_ctx_error(r, ctx, &e);
        memset(&q, 0, sizeof(q));
        q.age_min = q.age_max = q.sponsored = -1;
        q.page = 1;
        q.per_page = 25;
    }
    if (q.sort && !strstr(SORTS, arena_printf(&r->arena, " %s ", q.sort))) {
        q.sort = NULL; /* an unknown order falls back to the default, as the select offers */
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
        res = children_search(db, r->actor, &q, &e);
        db_rollback(db);
        if (!res) {
            page_ctx_error(r, ctx, &e);
        }
    }
    json_t *items = res ? json_object_get(res, "items") : NULL;
    size_t i;
    json_t *c;
    json_array_foreach(items, i, c)
    {
        label_child(r, c);
    }
    json_int_t total = res ? json_integer_value(json_object_get(res, "total")) : 0;
    int pages = (int)((total + q.per_page - 1) / q.per_page);
    const char *filters = filter_query(r);
    json_object_set_new(ctx, "items", items ? json_incref(items) : json_array());
    json_object_set_new(ctx, "total", json_integer(total));
    json_object_set_new(ctx, "none", json_boolean(total == 0));
    /* Past the cap the total is a lower bound: "1000+" children, pages without a last one. */
    bool capped = res && json_is_true(json_object_get(res, "total_capped"));
    json_object_set_new(ctx, "count_text",
                        json_string(i18n_format(&r->arena, r->lang, "children.count", "n",
                                                arena_printf(&r->arena, "%lld%s",
                                                             (long long)total, capped ? "+" : ""),
                                                NULL)));
    if (pages > 1 && !capped) {
        json_object_set_new(ctx, "page_text",
                            json_string(i18n_format(&r->arena, r->lang, "children.page_of",
                                                    "page", arena_printf(&r->arena, "%d", q.page),
                                                    "pages", arena_printf(&r->arena, "%d", pages),
                                                    NULL)));
    }
    if (q.page > 1) {
        json_object_set_new(ctx, "prev", json_string(page_link(r, filters, q.page - 1)));
    }
    if (q.page < pages) {
        json_object_set_new(ctx, "next", json_string(page_link(r, filters, q.page + 1)));
    }
    json_object_set_new(ctx, "export_csv",
                        json_string(arena_printf(&r->arena, "/children/export?format=csv%s%s",
                                                 *filters ? "&" : "", filters)));
    json_object_set_new(ctx, "export_xlsx",
                        json_string(arena_printf(&r->arena, "/children/export?format=xlsx%s%s",
                                                 *filters ? "&" : "", filters)));
    const char *qv = http_query(r, "q");
    json_object_set_new(ctx, "q", json_string(qv ? qv : ""));
    static const char *const texts[] = {"governorate", "age_min", "age_max"};
    for (size_t k = 0; k < 3; k++) {
        const char *v = http_query(r, texts[k]);
        json_object_set_new(ctx, texts[k], json_string(v ? v : ""));
    }
    json_object_set_new(ctx, "statuses",
                        options(r, "status", CHILD_STATUSES, http_query(r, "status"),
                                "children.any"));
    json_object_set_new(ctx, "sexes",
                        options(r, "sex", " M F ", http_query(r, "sex"), "children.any"));
    const struct child_field *needs = children_field("needs");
    json_object_set_new(ctx, "needs",
                        options(r, "needs", needs ? needs->values : " ", http_query(r, "need"),
                                "children.any"));
    json_object_set_new(ctx, "sponsored_opts",
                        options(r, "sponsored", " 1 0 ", http_query(r, "sponsored"),
                                "children.any"));
    json_object_set_new(ctx, "sorts",
                        options(r, "sort", SORTS, http_query(r, "sort"), "children.relevance"));
    json_object_set_new(ctx, "can_write", json_boolean(actor_can(r->actor, PERM_CHILDREN_WRITE)));
    bool filtered = false;
    for (size_t k = 1; k < N_LIST_PARAMS - 1; k++) {
        const char *v = http_query(r, list_params[k]);
        filtered |= v && *v && strcmp(list_params[k], "sort") != 0;
    }
    json_object_set_new(ctx, "filtered", json_boolean(filtered));
    json_decref(res);
    page_reply(r, 200, "children", "children.title", ctx);
}

/* ---- the profile ---- */

/* The facts [{label, value}] of section for record j (only fields with a value). */
static json_t *facts(struct http_req *r, json_t *j, const char *section)
{
    int n;
    const struct child_field *f = children_fields(&n);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        if (strcmp(f[i].section, section) != 0 || !strcmp(f[i].name, "household_id")) {
            continue;
        }
        const char *v = display_value(r, &f[i], json_object_get(j, f[i].name));
        if (v) {
            bool ltr = f[i].latin || f[i].type == FIELD_DATE || f[i].type == FIELD_COORD ||
                       !strcmp(f[i].name, "id_doc_number");
            json_array_append_new(arr, json_pack("{s:s, s:s, s:b}", "label",
                                                 page_label(r, "field", f[i].name), "value", v,
                                                 "ltr", ltr));
        }
    }
    return arr;
}

/* The tab named by ?tab= (overview when absent or unknown or not allowed). */
static const char *current_tab(struct http_req *r, bool health)
{
    const char *t = http_query(r, "tab");
    for (size_t i = 0; t && i < N_TABS; i++) {
        if (!strcmp(t, tabs[i]) && (health || strcmp(t, "health") != 0)) {
            return tabs[i];
        }
    }
    return "overview";
}

/* Localizes the history's statuses, reasons and relations in place. */
static void label_history(struct http_req *r, json_t *h)
{
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(h, "status"), i, x)
    {
        const char *from = json_string_value(json_object_get(x, "from"));
        const char *to = json_string_value(json_object_get(x, "to"));
        const char *reason = json_string_value(json_object_get(x, "reason"));
        json_object_set_new(x, "from_label", json_string(from ? choice_label(r, "status", from)
                                                              : ""));
        json_object_set_new(x, "to_label", json_string(to ? choice_label(r, "status", to) : ""));
        json_object_set_new(x, "reason_label",
                            json_string(reason ? choice_label(r, "reason", reason) : ""));
    }
    json_array_foreach(json_object_get(h, "guardians"), i, x)
    {
        const char *rel = json_string_value(json_object_get(x, "relation"));
        json_object_set_new(x, "relation_label",
                            json_string(rel ? choice_label(r, "relation", rel) : ""));
        /* absent members would make the template find the page's own "household" */
        static const char *const keep[] = {"guardian", "household", "reason"};
        for (size_t k = 0; k < 3; k++) {
            if (!json_object_get(x, keep[k])) {
                json_object_set_new(x, keep[k], json_string(""));
            }
        }
    }
}

/* Renders the profile of child id on tab (from ?tab=), with extra (taken, may be NULL)
 * merged into the context (a sub-form's error). */
static void profile_page(struct http_req *r, int status, const char *id, json_t *extra)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(extra);
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *j = child_get(db, r->actor, id, &e); /* audits the view */
    if (!j) {
        json_decref(extra);
        http_reply_err(r, &e);
        return;
    }
    bool health = actor_can(r->actor, PERM_CHILDREN_HEALTH);
    const char *tab = extra && json_object_get(extra, "tab")
                          ? json_string_value(json_object_get(extra, "tab"))
                          : current_tab(r, health);
    json_t *consents = NULL, *history = NULL, *household = NULL;
    const char *charts = NULL;
    if (db_begin(db, true, &e) == 0) {
        consents = consent_list(db, r->actor, id, &e);
        history = consents ? child_history(db, r->actor, id, &e) : NULL;
        const char *hh = json_string_value(json_object_get(j, "household_id"));
        if (history && hh) {
            household = household_get(db, r->actor, hh, &e);
        }
        /* Instrument scores over time, for those who follow the child's care. */
        if (history && actor_can(r->actor, PERM_CASES_READ)) {
            struct err ce;
            err_clear(&ce);
            charts = instruments_charts_html(r, db, id, &ce);
        }
        db_rollback(db);
    }
    if (!history) {
        json_decref(j);
        json_decref(consents);
        json_decref(extra);
        http_reply_err(r, &e);
        return;
    }
    label_child(r, j);
    json_t *ctx = json_pack("{s:o, s:s}", "c", j, "tab", tab);
    json_t *tablist = json_array();
    for (size_t i = 0; i < N_TABS; i++) {
        if (!strcmp(tabs[i], "health") && !health) {
            continue;
        }
        json_array_append_new(tablist,
                              json_pack("{s:s, s:s, s:s, s:b}", "id", tabs[i], "label",
                                        page_label(r, "children.tab", tabs[i]), "href",
                                        arena_printf(&r->arena, "/children/%s?tab=%s", id, tabs[i]),
                                        "current", !strcmp(tabs[i], tab)));
    }
    json_object_set_new(ctx, "tabs", tablist);
    if (charts && *charts) {
        json_object_set_new(ctx, "charts", json_string(charts));
    }
    json_object_set_new(ctx, "tab_label", json_string(page_label(r, "children.tab", tab)));
    json_object_set_new(ctx, arena_printf(&r->arena, "tab_%s", tab), json_true());
    if (!strcmp(tab, "overview") || !strcmp(tab, "family") || !strcmp(tab, "education") ||
        !strcmp(tab, "health")) {
        json_t *fx = facts(r, j, tab);
        json_object_set_new(ctx, "no_facts", json_boolean(json_array_size(fx) == 0));
        json_object_set_new(ctx, "facts", fx);
    }
    bool write = actor_can(r->actor, PERM_CHILDREN_WRITE);
    json_object_set_new(ctx, "can_write", json_boolean(write));
    json_object_set_new(ctx, "can_cases", json_boolean(actor_can(r->actor, PERM_CASES_WRITE)));
    const char *cur = json_string_value(json_object_get(j, "status"));
    json_object_set_new(ctx, "statuses", options(r, "status", CHILD_STATUSES, cur, NULL));
    json_object_set_new(ctx, "close_reasons",
                        options(r, "reason", CHILD_CLOSE_REASONS, NULL, "children.no_reason"));
    json_object_set_new(ctx, "scopes", options(r, "scope", CONSENT_SCOPES, NULL, NULL));
    size_t i;
    json_t *x;
    json_array_foreach(consents, i, x)
    {
        const char *scope = json_string_value(json_object_get(x, "scope"));
        json_object_set_new(x, "scope_label", json_string(choice_label(r, "scope", scope)));
    }
    json_object_set_new(ctx, "consents", consents);
    json_object_set_new(ctx, "no_consents", json_boolean(json_array_size(consents) == 0));
    label_history(r, history);
    json_object_set_new(ctx, "history", history);
    if (household) {
        const char *gid = json_string_value(json_object_get(j, "guardian_id"));
        json_array_foreach(json_object_get(household, "guardians"), i, x)
        {
            const char *rel = json_string_value(json_object_get(x, "relation"));
            const char *xid = json_string_value(json_object_get(x, "id"));
            json_object_set_new(x, "relation_label",
                                json_string(rel ? choice_label(r, "relation", rel) : ""));
            json_object_set_new(x, "selected", json_boolean(gid && xid && !strcmp(gid, xid)));
        }
        json_object_set_new(ctx, "household", household);
    }
    json_t *g = json_object_get(j, "guardian");
    if (g) {
        const char *rel = json_string_value(json_object_get(g, "relation"));
        json_object_set_new(g, "relation_label",
                            json_string(rel ? choice_label(r, "relation", rel) : ""));
    }
    if (extra) {
        json_object_update(ctx, extra);
        json_decref(extra);
    }
    page_reply(r, status, "children_profile", "children.profile", ctx);
}

/* GET /children/{id} */
static void page_profile(struct http_req *r)
{
    profile_page(r, 200, r->params[0], NULL);
}

/* After a sub-form of the profile: back to the tab on success, or the tab again with the
 * message next to the form (the context member "<form>_error" and field errors). */
static void profile_after(struct http_req *r, int rc, const struct err *e, const char *tab,
                          const char *form)
{
    if (rc == 0) {
        http_redirect(r, arena_printf(&r->arena, "/children/%s?tab=%s&ok=flash.saved",
                                      r->params[0], tab));
        return;
    }
    if (e->kind == ERR_NOT_FOUND && !strcmp(e->field, "id") && strcmp(form, "consent_w") != 0) {
        http_reply_err(r, e);
        return;
    }
    json_t *extra = json_pack("{s:s}", "tab", tab);
    page_ctx_error(r, extra, e);
    json_object_set(extra, arena_printf(&r->arena, "%s_error", form),
                    json_object_get(extra, "error"));
    json_object_del(extra, "error");
    profile_page(r, http_status_of(e->kind), r->params[0], extra);
}

/* POST /children/{id}/status: status, and reason (the close reason's select, or text). */
static void page_status(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *status = http_form(r, "status");
    const char *code = http_form(r, "reason_code");
    const char *text = http_form(r, "reason");
    const char *reason = text && !text_blank(text) ? text : NULL;
    if ((status && !strcmp(status, "closed")) || (!reason && code && *code)) {
        reason = code && *code ? code : NULL;
    }
    int rc = child_set_status(db, r->actor, r->params[0], status, reason, &e);
    profile_after(r, rc, &e, "overview", "status");
}

/* POST /children/{id}/guardian: guardian_id (one of the household's) and reason. */
static void page_guardian(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *reason = http_form(r, "reason");
    int rc = child_set_guardian(db, r->actor, r->params[0], http_form(r, "guardian_id"),
                                reason && !text_blank(reason) ? reason : NULL, &e);
    profile_after(r, rc, &e, "family", "guardian");
}

/* POST /children/{id}/consents: scope, target_org, guardian_consent, child_assent, given_by,
 * legal_basis. */
static void page_consent(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *in = json_object();
    static const char *const texts[] = {"scope", "target_org", "given_by", "legal_basis"};
    for (size_t i = 0; i < 4; i++) {
        const char *v = http_form(r, texts[i]);
        if (v && *v) {
            json_object_set_new(in, texts[i], json_string(v));
        }
    }
    const char *gc = http_form(r, "guardian_consent"), *ca = http_form(r, "child_assent");
    json_object_set_new(in, "guardian_consent", json_boolean(gc && *gc));
    json_object_set_new(in, "child_assent", json_boolean(ca && *ca));
    char id[40];
    int rc = consent_record(db, r->actor, r->params[0], in, id, &e);
    json_decref(in);
    profile_after(r, rc, &e, "consent", "consent");
}

/* POST /consents/{id}/withdraw (child: the child's id to go back to). */
static void page_consent_withdraw(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *child = http_form(r, "child");
    if (consent_withdraw(db, r->actor, r->params[0], &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    if (child && uuid_valid(child)) {
        http_redirect(r, arena_printf(&r->arena, "/children/%s?tab=consent&ok=flash.saved",
                                      child));
    } else {
        http_redirect(r, "/children?ok=flash.saved");
    }
}

/* ---- edit and print ---- */

/* GET /children/{id}/edit */
static void page_edit(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *j = child_get(db, r->actor, r->params[0], &e);
    if (!j) {
        http_reply_err(r, &e);
        return;
    }
    int64_t version = json_integer_value(json_object_get(j, "version"));
    form_page(r, 200, r->params[0], version, j, NULL, NULL, NULL);
}

/* POST /children/{id}/edit: the whole form, with the version read for the lost-update check. */
static void page_update(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *vs = http_form(r, "version");
    char *end = NULL;
    long long version = vs ? strtoll(vs, &end, 10) : 0;
    if (!vs || !*vs || *end || version < 0) {
        version = 0;
    }
    json_t *input = form_input(r);
    json_t *values = typed_values(input);
    json_t *errors = NULL;
    int rc = child_update(db, r->actor, r->params[0], input, version, &errors, &e);
    json_decref(input);
    if (rc < 0) {
        if (e.kind == ERR_NOT_FOUND) {
            json_decref(values);
            json_decref(errors);
            http_reply_err(r, &e);
            return;
        }
        form_failed(r, r->params[0], version, values, errors, &e);
        return;
    }
    json_decref(values);
    http_redirect(r, arena_printf(&r->arena, "/children/%s?ok=flash.saved", r->params[0]));
}

/* GET /children/{id}/print: every section the reader may see, on one page. */
static void page_print(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *j = child_get(db, r->actor, r->params[0], &e);
    if (!j) {
        http_reply_err(r, &e);
        return;
    }
    bool health = actor_can(r->actor, PERM_CHILDREN_HEALTH);
    json_t *secs = json_array();
    for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
        if (!strcmp(sections[s], "health") && !health) {
            continue;
        }
        json_t *fx = facts(r, j, sections[s]);
        if (json_array_size(fx) == 0) {
            json_decref(fx);
            continue;
        }
        json_array_append_new(secs,
                              json_pack("{s:s, s:o}", "legend",
                                        page_label(r, "children.tab", sections[s]), "facts", fx));
    }
    label_child(r, j);
    json_t *g = json_object_get(j, "guardian");
    if (g) {
        const char *rel = json_string_value(json_object_get(g, "relation"));
        json_object_set_new(g, "relation_label",
                            json_string(rel ? choice_label(r, "relation", rel) : ""));
    }
    char today[16];
    int y, m, d;
    time_today(&y, &m, &d);
    snprintf(today, sizeof(today), "%04d-%02d-%02d", y, m, d);
    json_t *ctx = json_pack("{s:o, s:o, s:s}", "c", j, "sections", secs, "printed", today);
    page_reply(r, 200, "children_print", "children.print", ctx);
}

/* ---- households ---- */

/* The household fields of the form (name first; phone read left to right). */
static const char *const hh_fields[] = {"name", "governorate", "district", "locality",
                                        "camp", "shelter",     "phone",    "notes"};

/* Renders the new-household form with the typed values (form, taken) and ctx errors. */
static void household_form(struct http_req *r, int status, json_t *ctx)
{
    json_t *form = json_object_get(ctx, "form");
    json_t *fields = json_array();
    json_t *errors = json_object_get(ctx, "errors");
    for (size_t i = 0; i < sizeof(hh_fields) / sizeof(hh_fields[0]); i++) {
        const char *v = json_string_value(json_object_get(form, hh_fields[i]));
        const char *er = json_string_value(json_object_get(errors, hh_fields[i]));
        json_t *fo = json_pack("{s:s, s:s, s:s, s:b, s:b, s:b}", "name", hh_fields[i], "label",
                               page_label(r, "household.field", hh_fields[i]), "value", v ? v : "",
                               "required", i == 0, "is_note", !strcmp(hh_fields[i], "notes"), "ltr",
                               !strcmp(hh_fields[i], "phone"));
        json_object_set_new(fo, "error", er ? json_string(er) : json_null());
        json_array_append_new(fields, fo);
    }
    json_object_set_new(ctx, "fields", fields);
    page_reply(r, status, "household_form", "household.new", ctx);
}

/* GET /households/new */
static void page_household_new(struct http_req *r)
{
    household_form(r, 200, json_pack("{s:{}, s:n}", "form", "error"));
}

/* POST /households */
static void page_household_create(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    json_t *in = json_object();
    for (size_t i = 0; i < sizeof(hh_fields) / sizeof(hh_fields[0]); i++) {
        const char *v = http_form(r, hh_fields[i]);
        json_object_set_new(in, hh_fields[i], json_string(v ? v : ""));
    }
    struct err e;
    err_clear(&e);
    char id[40];
    if (household_create(db, r->actor, in, id, &e) < 0) {
        json_t *ctx = json_pack("{s:o}", "form", in);
        page_ctx_error(r, ctx, &e);
        household_form(r, http_status_of(e.kind), ctx);
        return;
    }
    json_decref(in);
    http_redirect(r, arena_printf(&r->arena, "/households/%s?ok=flash.household_created", id));
}

/* Renders household id with extra (taken, may be NULL) merged into the context. */
static void household_page(struct http_req *r, int status, json_t *extra)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(extra);
        return;
    }
    struct err e;
    err_clear(&e);
    if (db_begin(db, true, &e) < 0) {
        json_decref(extra);
        http_reply_err(r, &e);
        return;
    }
    json_t *h = household_get(db, r->actor, r->params[0], &e);
    db_rollback(db);
    if (!h) {
        json_decref(extra);
        http_reply_err(r, &e);
        return;
    }
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(h, "children"), i, x)
    {
        label_child(r, x);
    }
    json_array_foreach(json_object_get(h, "guardians"), i, x)
    {
        const char *rel = json_string_value(json_object_get(x, "relation"));
        json_object_set_new(x, "relation_label",
                            json_string(rel ? choice_label(r, "relation", rel) : ""));
    }
    json_t *facts_arr = json_array();
    for (size_t k = 1; k < sizeof(hh_fields) / sizeof(hh_fields[0]); k++) {
        const char *v = json_string_value(json_object_get(h, hh_fields[k]));
        if (v && *v) {
            json_array_append_new(facts_arr,
                                  json_pack("{s:s, s:s, s:b}", "label",
                                            page_label(r, "household.field", hh_fields[k]), "value",
                                            v, "ltr", !strcmp(hh_fields[k], "phone")));
        }
    }
    const char *sel_rel = extra ? json_string_value(json_object_get(extra, "sel_relation")) : NULL;
    const char *sel_doc = extra ? json_string_value(json_object_get(extra, "sel_doc")) : NULL;
    json_t *ctx = json_pack("{s:o, s:o, s:b, s:o, s:o}", "h", h, "facts", facts_arr, "can_write",
                            actor_can(r->actor, PERM_CHILDREN_WRITE), "relations",
                            options(r, "relation", GUARDIAN_RELATIONS, sel_rel, "children.choose"),
                            "doc_types",
                            options(r, "id_doc_type", children_field("id_doc_type")->values,
                                    sel_doc, "children.choose"));
    json_object_set_new(ctx, "no_children",
                        json_boolean(json_array_size(json_object_get(h, "children")) == 0));
    json_object_set_new(ctx, "no_guardians",
                        json_boolean(json_array_size(json_object_get(h, "guardians")) == 0));
    json_object_set_new(ctx, "error", json_null());
    json_object_set_new(ctx, "form", json_object());
    if (extra) {
        json_object_update(ctx, extra);
        json_decref(extra);
    }
    page_reply(r, status, "household", "household.title", ctx);
}

/* GET /households/{id} */
static void page_household(struct http_req *r)
{
    household_page(r, 200, NULL);
}

/* POST /households/{id}/guardians: full_name, relation, phone, id_doc_type, id_doc_number. */
static void page_guardian_create(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    static const char *const names[] = {"full_name", "relation", "phone", "id_doc_type",
                                        "id_doc_number"};
    json_t *in = json_pack("{s:s}", "household_id", r->params[0]);
    json_t *form = json_object();
    for (size_t i = 0; i < 5; i++) {
        const char *v = http_form(r, names[i]);
        json_object_set_new(form, names[i], json_string(v ? v : ""));
        if (v && *v) {
            json_object_set_new(in, names[i], json_string(v));
        }
    }
    struct err e;
    err_clear(&e);
    char id[40];
    int rc = guardian_create(db, r->actor, in, id, &e);
    json_decref(in);
    if (rc == 0) {
        json_decref(form);
        http_redirect(r, arena_printf(&r->arena, "/households/%s?ok=flash.guardian_added",
                                      r->params[0]));
        return;
    }
    if (e.kind == ERR_INVALID && !strcmp(e.field, "household_id")) {
        json_decref(form);
        err_set(&e, ERR_NOT_FOUND, "not_found", "id", "no such household");
        http_reply_err(r, &e);
        return;
    }
    json_t *extra = json_pack("{s:O, s:O, s:O}", "form", form, "sel_relation",
                              json_object_get(form, "relation"), "sel_doc",
                              json_object_get(form, "id_doc_type"));
    json_decref(form);
    page_ctx_error(r, extra, &e);
    household_page(r, http_status_of(e.kind), extra);
}

static const struct route routes[] = {
    {"GET", "/children", page_list, ROUTE_PAGE, PERM_CHILDREN_READ},
    {"GET", "/children/new", page_new, ROUTE_PAGE, PERM_CHILDREN_WRITE},
    {"POST", "/children", page_create, ROUTE_PAGE, PERM_CHILDREN_WRITE},
    {"GET", "/children/{id}", page_profile, ROUTE_PAGE, PERM_CHILDREN_READ},
    {"GET", "/children/{id}/edit", page_edit, ROUTE_PAGE, PERM_CHILDREN_WRITE},
    {"POST", "/children/{id}/edit", page_update, ROUTE_PAGE, PERM_CHILDREN_WRITE},
    {"GET", "/children/{id}/print", page_print, ROUTE_PAGE, PERM_CHILDREN_READ},
    {"POST", "/children/{id}/status", page_status, ROUTE_PAGE, PERM_CHILDREN_WRITE},
    {"POST", "/children/{id}/guardian", page_guardian, ROUTE_PAGE, PERM_CHILDREN_WRITE},
    {"POST", "/children/{id}/consents", page_consent, ROUTE_PAGE, PERM_CHILDREN_WRITE},
    {"POST", "/consents/{id}/withdraw", page_consent_withdraw, ROUTE_PAGE, PERM_CHILDREN_WRITE},
    {"GET", "/households/new", page_household_new, ROUTE_PAGE, PERM_CHILDREN_WRITE},
    {"POST", "/households", page_household_create, ROUTE_PAGE, PERM_CHILDREN_WRITE},
    {"GET", "/households/{id}", page_household, ROUTE_PAGE, PERM_CHILDREN_READ},
    {"POST", "/households/{id}/guardians", page_guardian_create, ROUTE_PAGE,
     PERM_CHILDREN_WRITE},
};

void children_pages_register(void)
{
    http_routes_add(routes, sizeof(routes) / sizeof(routes[0]));
}
