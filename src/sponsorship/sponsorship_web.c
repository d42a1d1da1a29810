/*
 * sponsorship_web.c: the routes of donors, agreements, the waiting list and
 * the sponsorship officer's home (see sponsors.h): the JSON API under
 * /api/v1 and the server-rendered pages under /sponsorship. Every page works
 * without JavaScript: each step is a plain form that posts and comes back,
 * with its errors next to the fields in the reader's language and what was
 * typed kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "core/text.h"
#include "core/time.h"
#include "db/db_util.h"
#include "sponsorship/sponsors.h"
#include "sponsorship/sponsors_int.h"
#include "sponsorship/sponsorship.h"
#include "web/i18n.h"
#include "web/page.h"
#include "core/banned.h"

/* ==== the JSON API ==== */

/* GET /api/v1/donors?q=&status=&page=&per_page= */
static void api_donors(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    int page, per;
    if (page_query_int(r, "page", 1, 1, 1000000, &page, &e) < 0 ||
        page_query_int(r, "per_page", 25, 1, 200, &per, &e) < 0) {
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
    json_t *res =
        donor_list(db, r->actor, page_query(r, "q"), page_query(r, "status"), page, per, &e);
    db_rollback(db);
    if (!res) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, res);
}

/* POST /api/v1/donors */
static void api_donor_create(struct http_req *r)
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
    char id[40], no[16];
    int rc = donor_create(db, r->actor, body, id, no, &errors, &e);
    json_decref(body);
    if (rc < 0) {
        page_reply_problems(r, &e, errors);
        return;
    }
    http_add_header(r, "Location", arena_printf(&r->arena, "/api/v1/donors/%s", id));
    http_reply_json(r, 201, json_pack("{s:s, s:s}", "id", id, "donor_no", no));
}

/* GET /api/v1/donors/{id}: audited (donor.view). */
static void api_donor_get(struct http_req *r)
{
    reply_call(r, donor_get, r->params[0]);
}

/* PATCH /api/v1/donors/{id}: 204. */
static void api_donor_update(struct http_req *r)
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
    int rc = donor_update(db, r->actor, r->params[0], body, &errors, &e);
    json_decref(body);
    if (rc < 0) {
        page_reply_problems(r, &e, errors);
        return;
    }
    http_reply(r, 204, NULL, NULL, 0);
}

/* Runs one service call whose JSON body has the listed text members (v[0], v[1], ...), then
 * answers 204. The lists are parenthesized so that their commas pass through. */
#define LIST(...)                                                                                  \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }
#define API_STEP(name, fields, maxes, call)                                                        \
    static void name(struct http_req *r)                                                           \
    {                                                                                              \
        static const char *const names[] = LIST fields;                                            \
        static const size_t max[] = LIST maxes;                                                    \
        const char *v[sizeof(max) / sizeof(max[0])];                                               \
        json_t *body = page_body_fields(r, names, max, NULL, v, NULL);                             \
        struct db *db = body ? db_or_reply(r) : NULL;                                              \
        if (!db) {                                                                                 \
            json_decref(body);                                                                     \
            return;                                                                                \
        }                                                                                          \
        struct err e;                                                                              \
        err_clear(&e);                                                                             \
        int rc = call;                                                                             \
        json_decref(body);                                                                         \
        if (rc < 0) {                                                                              \
            http_reply_err(r, &e);                                                                 \
            return;                                                                                \
        }                                                                                          \
        http_reply(r, 204, NULL, NULL, 0);                                                         \
    }

/* POST /api/v1/donors/{id}/user: {"user_id"} (null or "" unlinks). */
API_STEP(api_donor_link, ("user_id", NULL), (64),
         donor_link_user(db, r->actor, r->params[0], v[0], &e))
/* POST /api/v1/sponsorships/{id}/activate (no body) */
static void api_sp_activate(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (sponsorship_activate(db, r->actor, r->params[0], &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_reply(r, 204, NULL, NULL, 0);
}
/* POST /api/v1/sponsorships/{id}/pause: {"from_date", "to_date", "reason"} */
API_STEP(api_sp_pause, ("from_date", "to_date", "reason", NULL), (10, 10, 500),
         sponsorship_pause(db, r->actor, r->params[0], v[0], v[1], v[2], &e))
/* POST /api/v1/sponsorships/{id}/resume: {"on_date"} */
API_STEP(api_sp_resume, ("on_date", NULL), (10),
         sponsorship_resume(db, r->actor, r->params[0], v[0], &e))
/* POST /api/v1/sponsorships/{id}/end: {"reason", "end_date", "note"} */
API_STEP(api_sp_end, ("reason", "end_date", "note", NULL), (40, 10, 1000),
         sponsorship_end(db, r->actor, r->params[0], v[0], v[1], v[2], &e))

/* Reads the agreement filter from the query; -1 after replying. */
static int filter_from(struct http_req *r, struct sp_filter *f)
{
    memset(f, 0, sizeof(*f));
    f->status = page_query(r, "status");
    f->donor_id = page_query(r, "donor_id");
    f->child_id = page_query(r, "child_id");
    f->q = page_query(r, "q");
    struct err e;
    err_clear(&e);
    if (page_query_int(r, "page", 1, 1, 1000000, &f->page, &e) < 0 ||
        page_query_int(r, "per_page", 25, 1, 200, &f->per_page, &e) < 0) {
        http_reply_err(r, &e);
        return -1;
    }
    return 0;
}

/* GET /api/v1/sponsorships?status=&donor_id=&child_id=&q=&page=&per_page= */
static void api_sp_list(struct http_req *r)
{
    struct sp_filter f;
    if (filter_from(r, &f) < 0) {
        return;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (db_begin(db, true, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    json_t *res = sponsorship_list(db, r->actor, &f, &e);
    db_rollback(db);
    if (!res) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, res);
}

/* POST /api/v1/sponsorships: 201 {"items": [{id, agreement_no, child_id}]} */
static void api_sp_create(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    struct db *db = body ? db_or_reply(r) : NULL;
    if (!db) {
        json_decref(body);
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *errors = NULL, *created = NULL;
    int rc = sponsorship_create(db, r->actor, body, &created, &errors, &e);
    json_decref(body);
    if (rc < 0) {
        page_reply_problems(r, &e, errors);
        return;
    }
    http_add_header(r, "Location",
                    arena_printf(&r->arena, "/api/v1/sponsorships/%s",
                                 json_str_or(json_array_get(created, 0), "id", NULL)));
    http_reply_json(r, 201, json_pack("{s:o}", "items", created));
}

/* GET /api/v1/sponsorships/{id} */
static void api_sp_get(struct http_req *r)
{
    reply_read(r, sponsorship_get, r->params[0], NULL);
}

/* POST /api/v1/sponsorships/{id}/change-sponsor: 201 {"id"} of the new agreement. */
static void api_sp_change(struct http_req *r)
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
    int rc = sponsorship_change_sponsor(db, r->actor, r->params[0], body, id, &errors, &e);
    json_decref(body);
    if (rc < 0) {
        page_reply_problems(r, &e, errors);
        return;
    }
    http_reply_json(r, 201, json_pack("{s:s}", "id", id));
}

/* Adapts sponsorship_waiting to page_read_fn: arg is the limit. */
static json_t *waiting_read(struct db *db, const struct actor *a, const char *arg, struct err *e)
{
    char day[11];
    sp_today(day);
    return sponsorship_waiting(db, a, day, arg ? atoi(arg) : 50, e);
}

/* GET /api/v1/sponsorship/waiting?limit= */
static void api_waiting(struct http_req *r)
{
    int limit;
    struct err e;
    err_clear(&e);
    if (page_query_int(r, "limit", 50, 1, 500, &limit, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    reply_read(r, waiting_read, arena_printf(&r->arena, "%d", limit), NULL);
}

/* Adapts sponsorship_home to page_read_fn. */
static json_t *home_read(struct db *db, const struct actor *a, const char *arg, struct err *e)
{
    (void)arg;
    char day[11];
    sp_today(day);
    return sponsorship_home(db, a, day, e);
}

/* GET /api/v1/sponsorship/home */
static void api_home(struct http_req *r)
{
    reply_read(r, home_read, NULL, NULL);
}

/* POST /api/v1/sponsorship/age-check: runs the age-limit job for the actor's organization
 * now (the server also runs it every hour). */
static void api_age_check(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    char day[11];
    sp_today(day);
    struct sp_age_stats st;
    if (sponsorship_age_check(db, r->actor->org_id, day, &st, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200,
                    json_pack("{s:i, s:i, s:i, s:i}", "noticed", st.noticed, "mailed", st.mailed,
                              "mail_failed", st.mail_failed, "ended", st.ended));
}

/* PATCH /api/v1/sponsorship/settings: {"notice_months", "report_every_months", "mail_from"} */
static void api_settings(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    struct db *db = body ? db_or_reply(r) : NULL;
    if (!db) {
        json_decref(body);
        return;
    }
    struct err e;
    err_clear(&e);
    static const char *const names[] = {"notice_months", "report_every_months", "mail_from", NULL};
    const char *from = NULL;
    json_t *nm = json_object_get(body, "notice_months");
    json_t *rm = json_object_get(body, "report_every_months");
    int rc = json_known_members(body, names, &e);
    if (rc == 0 && ((nm && !json_is_integer(nm)) || (rm && !json_is_integer(rm)))) {
        rc = err_set(&e, ERR_INVALID, "invalid_type",
                     nm && !json_is_integer(nm) ? "notice_months" : "report_every_months",
                     "must be a whole number");
    }
    if (rc == 0) {
        rc = json_str_member(body, "mail_from", false, 254, &from, &e);
    }
    if (rc == 0) {
        int n = nm ? (int)json_integer_value(nm) : 0, m = rm ? (int)json_integer_value(rm) : 0;
        if ((nm && n < 1) || (rm && m < 1)) {
            rc = err_set(&e, ERR_INVALID, "out_of_range",
                         nm && n < 1 ? "notice_months" : "report_every_months", "must be 1 to 24");
        } else {
            rc = sponsorship_settings_set(db, r->actor, n, m, from, &e);
        }
    }
    json_decref(body);
    if (rc < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_reply(r, 204, NULL, NULL, 0);
}

/* ==== pages ==== */

/* {field: message} from a failure: the problems list when there is one (taken), else e. The
 * array index of "child_ids[1]" is dropped, so the message shows under the one field. */
static json_t *errors_of(struct http_req *r, const struct err *e, json_t *problems)
{
    json_t *by = json_object();
    if (problems) {
        size_t i;
        json_t *p;
        json_array_foreach(problems, i, p)
        {
            const char *field = json_str_or(p, "field", NULL);
            if (!field || !*field) {
                continue;
            }
            const char *br = strchr(field, '[');
            const char *name = br ? arena_strndup(&r->arena, field, (size_t)(br - field)) : field;
            if (!json_object_get(by, name)) {
                json_object_set_new(by, name,
                                    json_string(page_problem_text(
                                        r, "sp", json_str_or(p, "code", NULL), field, NULL)));
            }
        }
        json_decref(problems);
    } else if (e->field[0]) {
        json_object_set_new(by, e->field,
                            json_string(page_problem_text(r, "sp", e->code, e->field, e->msg)));
    }
    return by;
}

/* The top message of a failed form. */
static const char *form_error(struct http_req *r, const struct err *e)
{
    if (!strcmp(e->code, "validation_failed")) {
        return i18n_get(r->lang, "err.validation_failed");
    }
    return page_problem_text(r, "sp", e->code, e->field, e->msg);
}

/* A form field as typed (valid UTF-8, else ""). */
static const char *form_raw(struct http_req *r, const char *name)
{
    const char *v = http_form(r, name);
    return v && utf8_valid(v, strlen(v)) ? v : "";
}

/* Fails a page with e (status from its kind) on the error page. */
static void page_fail(struct http_req *r, const struct err *e)
{
    http_reply_err(r, e);
}

/* A child's short name from the members first_name and family_name of o. */
static void name_child(struct http_req *r, json_t *o, const char *first, const char *family,
                       const char *out)
{
    const char *a = json_str_or(o, first, NULL), *b = json_str_or(o, family, NULL);
    json_object_set_new(o, out,
                        json_string(arena_printf(&r->arena, "%s%s%s", a ? a : "",
                                                 b && *b ? " " : "", b && *b ? b : "")));
}

/* ---- the officer's home ---- */

/* GET /sponsorship */
static void page_home(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    json_t *h = NULL;
    if (!db || !(h = page_read(r, db, home_read, NULL))) {
        return;
    }
    json_t *w = json_object_get(h, "waiting");
    json_t *items = json_object_get(w, "items");
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        name_child(r, it, "first_name", "family_name", "child_name");
    }
    page_label_all(r, items, "orphan_status", "choice.orphan_status");
    json_array_foreach(json_object_get(h, "endings"), i, it)
    {
        json_object_set_new(it, "why_label",
                            json_string(page_label(r, "sp.why", json_str_or(it, "why", NULL))));
    }
    json_array_foreach(json_object_get(h, "reports_due"), i, it)
    {
        name_child(r, it, "first_name", "family_name", "child_name");
    }
    json_array_foreach(json_object_get(h, "pending"), i, it)
    {
        name_child(r, it, "child", "child_family", "child_name");
    }
    json_object_set_new(h, "can_write", json_boolean(actor_can(r->actor, PERM_SPONSOR_WRITE)));
    page_reply(r, 200, "sp_home", "sp.home", h);
}

/* ---- donors ---- */

/* GET /sponsorship/donors?q=&status=&page= */
static void page_donors(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    int page;
    if (page_query_int(r, "page", 1, 1, 1000000, &page, &e) < 0) {
        page_fail(r, &e);
        return;
    }
    const char *q = page_query(r, "q"), *status = page_query(r, "status");
    if (status && !text_word_in(" active inactive ", status)) {
        status = NULL;
    }
    if (db_begin(db, true, &e) < 0) {
        page_fail(r, &e);
        return;
    }
    json_t *l = donor_list(db, r->actor, q, status, page, 25, &e);
    db_rollback(db);
    if (!l) {
        page_fail(r, &e);
        return;
    }
    json_t *items = json_object_get(l, "items");
    page_label_all(r, items, "kind", "sp.kind");
    json_int_t total = json_integer_value(json_object_get(l, "total"));
    int pg = (int)json_integer_value(json_object_get(l, "page"));
    json_object_set_new(l, "q", json_string(q ? q : ""));
    json_object_set_new(l, "statuses",
                        page_options(r, "sp.dstatus", " active inactive ", status, "sp.all"));
    json_object_set_new(l, "none", json_boolean(json_array_size(items) == 0));
    const char *qs = arena_printf(&r->arena, "q=%s&status=%s", q ? q : "", status ? status : "");
    if (pg > 1) {
        json_object_set_new(
            l, "prev",
            json_string(arena_printf(&r->arena, "/sponsorship/donors?%s&page=%d", qs, pg - 1)));
    }
    if ((json_int_t)pg * 25 < total) {
        json_object_set_new(
            l, "next",
            json_string(arena_printf(&r->arena, "/sponsorship/donors?%s&page=%d", qs, pg + 1)));
    }
    json_object_set_new(l, "can_write", json_boolean(actor_can(r->actor, PERM_SPONSOR_WRITE)));
    page_reply(r, 200, "sp_donors", "sp.donors", l);
}

/* The donor form's members, as in donor_create. */
static const char *const donor_form_fields[] = {
    "kind",     "name",   "name_latin", "email",          "phone",
    "address",  "city",   "country",    "preferred_lang", "preferred_channel",
    "tax_name", "tax_id", "payer_id",   "notes",          "status"};
#define N_DONOR_FORM (sizeof(donor_form_fields) / sizeof(donor_form_fields[0]))

/* Renders the donor form. form: the values (taken); errors (taken, may be NULL); id: the
 * donor being edited or NULL. */
static void donor_form_page(struct http_req *r, int status, json_t *form, json_t *errors,
                            const char *error, const char *id)
{
    json_t *ctx = json_pack("{s:o, s:o, s:s?, s:s?}", "form", form, "errors",
                            errors ? errors : json_object(), "error", error, "id", id);
    json_object_set_new(
        ctx, "kinds",
        page_options(r, "sp.kind", DONOR_KINDS, json_str_or(form, "kind", NULL), "sp.choose"));
    json_object_set_new(
        ctx, "langs",
        page_options(r, "sp.lang", " ar en ", json_str_or(form, "preferred_lang", NULL), NULL));
    json_object_set_new(ctx, "channels",
                        page_options(r, "sp.channel", DONOR_CHANNELS,
                                     json_str_or(form, "preferred_channel", NULL), NULL));
    json_object_set_new(ctx, "statuses",
                        page_options(r, "sp.dstatus", " active inactive ",
                                     json_str_or(form, "status", NULL), NULL));
    json_object_set_new(ctx, "action",
                        json_string(id ? arena_printf(&r->arena, "/sponsorship/donors/%s", id)
                                       : "/sponsorship/donors"));
    page_reply(r, status, "sp_donor_form", id ? "sp.donor_edit" : "sp.donor_new", ctx);
}

/* GET /sponsorship/donors/new */
static void page_donor_new(struct http_req *r)
{
    json_t *form = json_pack("{s:s, s:s, s:b}", "preferred_lang", "ar", "preferred_channel",
                             "email", "contact_consent", 0);
    donor_form_page(r, 200, form, NULL, NULL, NULL);
}

/* The donor form as typed: a JSON object for the service (blank optional fields left out when
 * creating, null when editing) and a copy for the form. */
static json_t *donor_input(struct http_req *r, bool creating, json_t **form_out)
{
    json_t *in = json_object(), *form = json_object();
    for (size_t i = 0; i < N_DONOR_FORM; i++) {
        const char *name = donor_form_fields[i];
        if (creating && !strcmp(name, "status")) {
            continue;
        }
        const char *v = form_raw(r, name);
        json_object_set_new(form, name, json_string(v));
        if (!text_blank(v)) {
            json_object_set_new(in, name, json_string(v));
        } else if (!creating && strcmp(name, "kind") && strcmp(name, "name") &&
                   strcmp(name, "preferred_lang") && strcmp(name, "preferred_channel") &&
                   strcmp(name, "status")) {
            json_object_set_new(in, name, json_null());
        } else if (!strcmp(name, "name") || !strcmp(name, "kind")) {
            json_object_set_new(in, name, json_string(""));
        }
    }
    bool consent = http_form(r, "contact_consent") != NULL;
    json_object_set_new(in, "contact_consent", json_boolean(consent));
    json_object_set_new(form, "contact_consent", json_boolean(consent));
    *form_out = form;
    return in;
}

/* POST /sponsorship/donors */
static void page_donor_create(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    json_t *form;
    json_t *in = donor_input(r, true, &form);
    struct err e;
    err_clear(&e);
    json_t *problems = NULL;
    char id[40], no[16];
    int rc = donor_create(db, r->actor, in, id, no, &problems, &e);
    json_decref(in);
    if (rc < 0) {
        if (e.kind != ERR_INVALID) {
            json_decref(form);
            json_decref(problems);
            page_fail(r, &e);
            return;
        }
        donor_form_page(r, 422, form, errors_of(r, &e, problems), form_error(r, &e), NULL);
        return;
    }
    json_decref(form);
    http_redirect(r, arena_printf(&r->arena, "/sponsorship/donors/%s?ok=flash.sp_donor_saved", id));
}

/* GET /sponsorship/donors/{id}/edit */
static void page_donor_edit(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *d = donor_get(db, r->actor, r->params[0], &e);
    if (!d) {
        page_fail(r, &e);
        return;
    }
    json_t *form = json_object();
    for (size_t i = 0; i < N_DONOR_FORM; i++) {
        const char *name = donor_form_fields[i];
        const char *v = json_str_or(d, !strcmp(name, "payer_id") ? "payer_no" : name, NULL);
        json_object_set_new(form, name, json_string(v ? v : ""));
    }
    json_object_set(form, "contact_consent", json_object_get(d, "contact_consent"));
    json_decref(d);
    donor_form_page(r, 200, form, NULL, NULL, r->params[0]);
}

/* POST /sponsorship/donors/{id} */
static void page_donor_update(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    json_t *form;
    json_t *in = donor_input(r, false, &form);
    struct err e;
    err_clear(&e);
    json_t *problems = NULL;
    int rc = donor_update(db, r->actor, r->params[0], in, &problems, &e);
    json_decref(in);
    if (rc < 0) {
        if (e.kind != ERR_INVALID) {
            json_decref(form);
            json_decref(problems);
            page_fail(r, &e);
            return;
        }
        donor_form_page(r, 422, form, errors_of(r, &e, problems), form_error(r, &e), r->params[0]);
        return;
    }
    json_decref(form);
    http_redirect(
        r, arena_printf(&r->arena, "/sponsorship/donors/%s?ok=flash.sp_donor_saved", r->params[0]));
}

/* Renders a donor's page (audited view); extra (taken, may be NULL) is merged in. */
static void donor_page(struct http_req *r, int status, const char *id, json_t *extra)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(extra);
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *d = donor_get(db, r->actor, id, &e);
    if (!d) {
        json_decref(extra);
        page_fail(r, &e);
        return;
    }
    json_object_set_new(d, "kind_label",
                        json_string(page_label(r, "sp.kind", json_str_or(d, "kind", NULL))));
    json_object_set_new(
        d, "lang_label",
        json_string(page_label(r, "sp.lang", json_str_or(d, "preferred_lang", NULL))));
    json_object_set_new(
        d, "channel_label",
        json_string(page_label(r, "sp.channel", json_str_or(d, "preferred_channel", NULL))));
    json_object_set_new(d, "status_label",
                        json_string(page_label(r, "sp.dstatus", json_str_or(d, "status", NULL))));
    json_t *ags = json_object_get(d, "agreements");
    size_t i;
    json_t *it;
    json_array_foreach(ags, i, it)
    {
        name_child(r, it, "first_name", "family_name", "child_name");
        json_object_set_new(it, "as_payer",
                            json_boolean(strcmp(json_str_or(it, "donor_id", NULL), id) != 0));
    }
    page_label_all(r, ags, "status", "sp.status");
    page_label_all(r, ags, "frequency", "sp.freq");
    page_label_all(r, ags, "purpose", "sp.purpose");
    page_label_all(r, json_object_get(d, "payments"), "method", "sp.method");
    json_object_set_new(d, "no_agreements", json_boolean(json_array_size(ags) == 0));
    json_object_set_new(d, "no_payments",
                        json_boolean(json_array_size(json_object_get(d, "payments")) == 0));
    json_object_set_new(d, "can_write", json_boolean(actor_can(r->actor, PERM_SPONSOR_WRITE)));
    int year, month, day;
    time_today(&year, &month, &day);
    json_object_set_new(d, "this_year", json_integer(year));
    json_object_set_new(d, "last_year", json_integer(year - 1));
    json_t *ctx = json_pack("{s:o, s:o, s:n}", "donor", d, "errors", json_object(), "error");
    if (extra) {
        json_object_update(ctx, extra);
        json_decref(extra);
    }
    page_reply(r, status, "sp_donor", "sp.donor", ctx);
}

/* GET /sponsorship/donors/{id} */
static void page_donor(struct http_req *r)
{
    donor_page(r, 200, r->params[0], NULL);
}

/* POST /sponsorship/donors/{id}/user: links (user_id: id or login) or unlinks ("unlink"). */
static void page_donor_link(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *user = http_form(r, "unlink") ? NULL : form_raw(r, "user_id");
    if (!http_form(r, "unlink") && text_blank(user)) {
        err_set(&e, ERR_INVALID, "required", "user_id", "'user_id' is required");
    } else if (donor_link_user(db, r->actor, r->params[0], user, &e) == 0) {
        http_redirect(r, arena_printf(&r->arena, "/sponsorship/donors/%s?ok=flash.sp_donor_saved",
                                      r->params[0]));
        return;
    }
    if (e.kind == ERR_FORBIDDEN || e.kind == ERR_NOT_FOUND || e.kind == ERR_UNAVAILABLE ||
        e.kind == ERR_INTERNAL) {
        page_fail(r, &e);
        return;
    }
    donor_page(r, http_status_of(e.kind), r->params[0],
               json_pack("{s:o, s:s, s:{s:s}}", "errors", errors_of(r, &e, NULL), "error",
                         form_error(r, &e), "typed", "user_id", user ? user : ""));
}

/* ---- agreements ---- */

/* GET /sponsorship/agreements?status=&q=&page= */
static void page_agreements(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct sp_filter f;
    memset(&f, 0, sizeof(f));
    f.status = page_query(r, "status");
    if (f.status && !text_word_in(SP_STATUSES, f.status)) {
        f.status = NULL;
    }
    f.q = page_query(r, "q");
    f.donor_id = page_query(r, "donor_id");
    f.per_page = 25;
    struct err e;
    err_clear(&e);
    if (page_query_int(r, "page", 1, 1, 1000000, &f.page, &e) < 0) {
        page_fail(r, &e);
        return;
    }
    if (db_begin(db, true, &e) < 0) {
        page_fail(r, &e);
        return;
    }
    json_t *l = sponsorship_list(db, r->actor, &f, &e);
    db_rollback(db);
    if (!l) {
        page_fail(r, &e);
        return;
    }
    json_t *items = json_object_get(l, "items");
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        name_child(r, it, "first_name", "family_name", "child_name");
    }
    page_label_all(r, items, "status", "sp.status");
    page_label_all(r, items, "frequency", "sp.freq");
    page_label_all(r, items, "purpose", "sp.purpose");
    json_int_t total = json_integer_value(json_object_get(l, "total"));
    json_object_set_new(l, "q", json_string(f.q ? f.q : ""));
    json_object_set_new(l, "statuses",
                        page_options(r, "sp.status", SP_STATUSES, f.status, "sp.all"));
    json_object_set_new(l, "none", json_boolean(json_array_size(items) == 0));
    const char *qs =
        arena_printf(&r->arena, "q=%s&status=%s", f.q ? f.q : "", f.status ? f.status : "");
    if (f.page > 1) {
        json_object_set_new(l, "prev",
                            json_string(arena_printf(
                                &r->arena, "/sponsorship/agreements?%s&page=%d", qs, f.page - 1)));
    }
    if ((json_int_t)f.page * 25 < total) {
        json_object_set_new(l, "next",
                            json_string(arena_printf(
                                &r->arena, "/sponsorship/agreements?%s&page=%d", qs, f.page + 1)));
    }
    json_object_set_new(l, "can_write", json_boolean(actor_can(r->actor, PERM_SPONSOR_WRITE)));
    page_reply(r, 200, "sp_agreements", "sp.agreements", l);
}

/* The agreement form's members. */
static const char *const sp_form_fields[] = {"child_ids", "donor_id",  "payer_id", "amount",
                                             "currency",  "frequency", "purpose",  "start_date",
                                             "end_date",  "status"};
#define N_SP_FORM (sizeof(sp_form_fields) / sizeof(sp_form_fields[0]))

/* Renders the new-agreement form. form (taken); errors (taken, may be NULL). */
static void sp_form_page(struct http_req *r, int status, json_t *form, json_t *errors,
                         const char *error)
{
    json_t *ctx = json_pack("{s:o, s:o, s:s?}", "form", form, "errors",
                            errors ? errors : json_object(), "error", error);
    json_object_set_new(
        ctx, "frequencies",
        page_options(r, "sp.freq", SP_FREQUENCIES, json_str_or(form, "frequency", NULL), NULL));
    json_object_set_new(
        ctx, "purposes",
        page_options(r, "sp.purpose", SP_PURPOSES, json_str_or(form, "purpose", NULL), NULL));
    json_object_set_new(
        ctx, "statuses",
        page_options(r, "sp.status", " pending active ", json_str_or(form, "status", NULL), NULL));
    page_reply(r, status, "sp_agreement_form", "sp.agreement_new", ctx);
}

/* GET /sponsorship/agreements/new?child_id=&donor_id= */
static void page_sp_new(struct http_req *r)
{
    const char *child = page_query(r, "child_id"), *donor = page_query(r, "donor_id");
    json_t *form = json_object();
    for (size_t i = 0; i < N_SP_FORM; i++) {
        json_object_set_new(form, sp_form_fields[i], json_string(""));
    }
    char day[11];
    sp_today(day);
    json_object_set_new(form, "child_ids", json_string(child ? child : ""));
    json_object_set_new(form, "donor_id", json_string(donor ? donor : ""));
    json_object_set_new(form, "frequency", json_string("monthly"));
    json_object_set_new(form, "purpose", json_string("general"));
    json_object_set_new(form, "status", json_string("pending"));
    json_object_set_new(form, "start_date", json_string(day));
    sp_form_page(r, 200, form, NULL, NULL);
}

/* POST /sponsorship/agreements: child_ids holds one or more file numbers (or ids) separated
 * by spaces or commas. */
static void page_sp_create(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    json_t *in = json_object(), *form = json_object();
    for (size_t i = 0; i < N_SP_FORM; i++) {
        const char *v = form_raw(r, sp_form_fields[i]);
        json_object_set_new(form, sp_form_fields[i], json_string(v));
        if (!text_blank(v) && strcmp(sp_form_fields[i], "child_ids") != 0) {
            json_object_set_new(in, sp_form_fields[i], json_string(v));
        }
    }
    json_t *kids = json_array();
    char *list = arena_strdup(&r->arena, form_raw(r, "child_ids"));
    for (char *p = list; *p;) {
        size_t n = strcspn(p, " ,\t\r\n");
        if (n == 0) {
            p++;
            continue;
        }
        json_array_append_new(kids, json_stringn(p, n));
        p += n;
    }
    if (json_array_size(kids) == 1) {
        json_object_set(in, "child_id", json_array_get(kids, 0));
    } else if (json_array_size(kids) > 1) {
        json_object_set(in, "child_ids", kids);
    }
    json_decref(kids);
    struct err e;
    err_clear(&e);
    json_t *problems = NULL, *created = NULL;
    int rc = sponsorship_create(db, r->actor, in, &created, &problems, &e);
    json_decref(in);
    if (rc < 0) {
        if (e.kind != ERR_INVALID) {
            json_decref(form);
            json_decref(problems);
            page_fail(r, &e);
            return;
        }
        json_t *errors = errors_of(r, &e, problems);
        json_t *cid = json_object_get(errors, "child_id");
        if (cid) {
            json_object_set(errors, "child_ids", cid);
        }
        sp_form_page(r, 422, form, errors, form_error(r, &e));
        return;
    }
    json_decref(form);
    const char *id = json_str_or(json_array_get(created, 0), "id", NULL);
    const char *loc = arena_printf(&r->arena, "/sponsorship/agreements/%s?ok=flash.sp_created", id);
    json_decref(created);
    http_redirect(r, loc);
}

/* Renders an agreement's page; extra (taken, may be NULL) is merged into the context. */
static void sp_page(struct http_req *r, int status, const char *id, json_t *extra)
{
    struct db *db = db_or_reply(r);
    json_t *s = NULL;
    if (!db || !(s = page_read(r, db, sponsorship_get, id))) {
        json_decref(extra);
        return;
    }
    name_child(r, s, "first_name", "family_name", "child_name");
    static const char *const labels[][2] = {{"status", "sp.status"},
                                            {"frequency", "sp.freq"},
                                            {"purpose", "sp.purpose"},
                                            {"end_reason", "sp.reason"}};
    for (size_t i = 0; i < 4; i++) {
        const char *v = json_str_or(s, labels[i][0], NULL);
        if (v) {
            json_object_set_new(s, arena_printf(&r->arena, "%s_label", labels[i][0]),
                                json_string(page_label(r, labels[i][1], v)));
        }
    }
    page_label_all(r, json_object_get(s, "events"), "kind", "sp.event");
    page_label_all(r, json_object_get(s, "group"), "status", "sp.status");
    const char *st = json_str_or(s, "status", NULL);
    bool w = actor_can(r->actor, PERM_SPONSOR_WRITE);
    json_t *ctx = json_pack("{s:o, s:b, s:b, s:b, s:b, s:b, s:o, s:n, s:o}", "sp", s,
                            "can_activate", w && !strcmp(st, "pending"), "can_pause",
                            w && !strcmp(st, "active"), "can_resume", w && !strcmp(st, "paused"),
                            "can_end", w && strcmp(st, "ended") != 0, "can_change",
                            w && text_word_in(" active paused ", st), "errors", json_object(),
                            "error", "typed", json_object());
    char day[11];
    sp_today(day);
    json_object_set_new(ctx, "today", json_string(day));
    json_object_set_new(ctx, "reasons",
                        page_options(r, "sp.reason", SP_END_REASONS, NULL, "sp.choose"));
    if (extra) {
        json_t *typed = json_object_get(extra, "typed");
        const char *reason = json_str_or(typed, "end_reason", NULL);
        if (reason) {
            json_object_set_new(ctx, "reasons",
                                page_options(r, "sp.reason", SP_END_REASONS, reason, "sp.choose"));
        }
        json_object_update(ctx, extra);
        json_decref(extra);
    }
    page_reply(r, status, "sp_agreement", "sp.agreement", ctx);
}

/* GET /sponsorship/agreements/{id} */
static void page_sp(struct http_req *r)
{
    sp_page(r, 200, r->params[0], NULL);
}

/* Ends a step posted from the agreement's page: back to it with a flash, or the page again
 * with the errors of the step's form (fields named "<step>_<field>"). */
static void step_after(struct http_req *r, int rc, const struct err *e, json_t *problems,
                       const char *step, const char *const *fields, size_t n, const char *go_to)
{
    if (rc == 0) {
        http_redirect(r, arena_printf(&r->arena, "%s?ok=flash.sp_saved",
                                      go_to ? go_to
                                            : arena_printf(&r->arena, "/sponsorship/agreements/%s",
                                                           r->params[0])));
        json_decref(problems);
        return;
    }
    if (e->kind == ERR_FORBIDDEN || e->kind == ERR_NOT_FOUND || e->kind == ERR_UNAVAILABLE ||
        e->kind == ERR_INTERNAL) {
        json_decref(problems);
        page_fail(r, e);
        return;
    }
    json_t *by = errors_of(r, e, problems);
    json_t *errors = json_object(), *typed = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(by, key, v)
    {
        json_object_set(errors, arena_printf(&r->arena, "%s_%s", step, key), v);
    }
    json_decref(by);
    for (size_t i = 0; i < n; i++) {
        json_object_set_new(
            typed, arena_printf(&r->arena, "%s_%s", step, fields[i]),
            json_string(form_raw(r, arena_printf(&r->arena, "%s_%s", step, fields[i]))));
    }
    sp_page(
        r, http_status_of(e->kind), r->params[0],
        json_pack("{s:o, s:s, s:o}", "errors", errors, "error", form_error(r, e), "typed", typed));
}

/* A step's form field "<step>_<name>", NULL when blank. */
static const char *step_field(struct http_req *r, const char *step, const char *name)
{
    const char *v = form_raw(r, arena_printf(&r->arena, "%s_%s", step, name));
    return text_blank(v) ? NULL : v;
}

/* POST /sponsorship/agreements/{id}/activate */
static void page_sp_activate(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    int rc = sponsorship_activate(db, r->actor, r->params[0], &e);
    step_after(r, rc, &e, NULL, "activate", NULL, 0, NULL);
}

/* POST /sponsorship/agreements/{id}/pause: pause_from_date, pause_to_date, pause_reason */
static void page_sp_pause(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    static const char *const f[] = {"from_date", "to_date", "reason"};
    int rc = sponsorship_pause(db, r->actor, r->params[0], step_field(r, "pause", f[0]),
                               step_field(r, "pause", f[1]), step_field(r, "pause", f[2]), &e);
    step_after(r, rc, &e, NULL, "pause", f, 3, NULL);
}

/* POST /sponsorship/agreements/{id}/resume: resume_on_date */
static void page_sp_resume(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    static const char *const f[] = {"on_date"};
    int rc = sponsorship_resume(db, r->actor, r->params[0], step_field(r, "resume", f[0]), &e);
    step_after(r, rc, &e, NULL, "resume", f, 1, NULL);
}

/* POST /sponsorship/agreements/{id}/end: end_reason, end_end_date, end_note */
static void page_sp_end(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    static const char *const f[] = {"reason", "end_date", "note"};
    int rc = sponsorship_end(db, r->actor, r->params[0], step_field(r, "end", f[0]),
                             step_field(r, "end", f[1]), step_field(r, "end", f[2]), &e);
    step_after(r, rc, &e, NULL, "end", f, 3, NULL);
}

/* POST /sponsorship/agreements/{id}/change: change_donor_id, change_start_date,
 * change_amount, change_currency, change_note */
static void page_sp_change(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    static const char *const f[] = {"donor_id", "start_date", "amount", "currency", "note"};
    json_t *in = json_object();
    for (size_t i = 0; i < 5; i++) {
        const char *v = step_field(r, "change", f[i]);
        if (v) {
            json_object_set_new(in, f[i], json_string(v));
        }
    }
    if (!json_object_get(in, "donor_id")) {
        json_object_set_new(in, "donor_id", json_string(""));
    }
    if (!json_object_get(in, "start_date")) {
        json_object_set_new(in, "start_date", json_string(""));
    }
    struct err e;
    err_clear(&e);
    json_t *problems = NULL;
    char id[40];
    int rc = sponsorship_change_sponsor(db, r->actor, r->params[0], in, id, &problems, &e);
    json_decref(in);
    step_after(r, rc, &e, problems, "change", f, 5,
               rc == 0 ? arena_printf(&r->arena, "/sponsorship/agreements/%s", id) : NULL);
}

/* ---- the waiting list ---- */

/* GET /sponsorship/waiting */
static void page_waiting(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    json_t *w = NULL;
    if (!db || !(w = page_read(r, db, waiting_read, "200"))) {
        return;
    }
    json_t *items = json_object_get(w, "items");
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        name_child(r, it, "first_name", "family_name", "child_name");
        struct buf reasons;
        buf_init(&reasons);
        size_t k;
        json_t *reason;
        json_array_foreach(json_object_get(it, "need_reasons"), k, reason)
        {
            if (k > 0) {
                buf_addf(&reasons, "%s ", i18n_get(r->lang, "sp.need_sep"));
            }
            buf_adds(&reasons, page_label(r, "sp.need", json_string_value(reason)));
        }
        json_object_set_new(it, "reasons", json_string(reasons.buf));
        buf_release(&reasons);
    }
    page_label_all(r, items, "orphan_status", "choice.orphan_status");
    json_object_set_new(w, "none", json_boolean(json_array_size(items) == 0));
    json_object_set_new(w, "can_write", json_boolean(actor_can(r->actor, PERM_SPONSOR_WRITE)));
    page_reply(r, 200, "sp_waiting", "sp.waiting", w);
}

static const struct route routes[] = {
    /* API */
    {"GET", "/api/v1/donors", api_donors, ROUTE_API, PERM_SPONSOR_READ},
    {"POST", "/api/v1/donors", api_donor_create, ROUTE_API, PERM_SPONSOR_WRITE},
    {"GET", "/api/v1/donors/{id}", api_donor_get, ROUTE_API, PERM_SPONSOR_READ},
    {"PATCH", "/api/v1/donors/{id}", api_donor_update, ROUTE_API, PERM_SPONSOR_WRITE},
    {"POST", "/api/v1/donors/{id}/user", api_donor_link, ROUTE_API, PERM_SPONSOR_WRITE},
    {"GET", "/api/v1/sponsorships", api_sp_list, ROUTE_API, PERM_SPONSOR_READ},
    {"POST", "/api/v1/sponsorships", api_sp_create, ROUTE_API, PERM_SPONSOR_WRITE},
    {"GET", "/api/v1/sponsorships/{id}", api_sp_get, ROUTE_API, PERM_SPONSOR_READ},
    {"POST", "/api/v1/sponsorships/{id}/activate", api_sp_activate, ROUTE_API, PERM_SPONSOR_WRITE},
    {"POST", "/api/v1/sponsorships/{id}/pause", api_sp_pause, ROUTE_API, PERM_SPONSOR_WRITE},
    {"POST", "/api/v1/sponsorships/{id}/resume", api_sp_resume, ROUTE_API, PERM_SPONSOR_WRITE},
    {"POST", "/api/v1/sponsorships/{id}/end", api_sp_end, ROUTE_API, PERM_SPONSOR_WRITE},
    {"POST", "/api/v1/sponsorships/{id}/change-sponsor", api_sp_change, ROUTE_API,
     PERM_SPONSOR_WRITE},
    {"GET", "/api/v1/sponsorship/waiting", api_waiting, ROUTE_API, PERM_SPONSOR_READ},
    {"GET", "/api/v1/sponsorship/home", api_home, ROUTE_API, PERM_SPONSOR_READ},
    {"POST", "/api/v1/sponsorship/age-check", api_age_check, ROUTE_API, PERM_SPONSOR_WRITE},
    {"PATCH", "/api/v1/sponsorship/settings", api_settings, ROUTE_API, PERM_USERS_MANAGE},
    /* pages */
    {"GET", "/sponsorship", page_home, ROUTE_PAGE, PERM_SPONSOR_READ},
    {"GET", "/sponsorship/donors", page_donors, ROUTE_PAGE, PERM_SPONSOR_READ},
    {"POST", "/sponsorship/donors", page_donor_create, ROUTE_PAGE, PERM_SPONSOR_WRITE},
    {"GET", "/sponsorship/donors/new", page_donor_new, ROUTE_PAGE, PERM_SPONSOR_WRITE},
    {"GET", "/sponsorship/donors/{id}", page_donor, ROUTE_PAGE, PERM_SPONSOR_READ},
    {"POST", "/sponsorship/donors/{id}", page_donor_update, ROUTE_PAGE, PERM_SPONSOR_WRITE},
    {"GET", "/sponsorship/donors/{id}/edit", page_donor_edit, ROUTE_PAGE, PERM_SPONSOR_WRITE},
    {"POST", "/sponsorship/donors/{id}/user", page_donor_link, ROUTE_PAGE, PERM_SPONSOR_WRITE},
    {"GET", "/sponsorship/agreements", page_agreements, ROUTE_PAGE, PERM_SPONSOR_READ},
    {"POST", "/sponsorship/agreements", page_sp_create, ROUTE_PAGE, PERM_SPONSOR_WRITE},
    {"GET", "/sponsorship/agreements/new", page_sp_new, ROUTE_PAGE, PERM_SPONSOR_WRITE},
    {"GET", "/sponsorship/agreements/{id}", page_sp, ROUTE_PAGE, PERM_SPONSOR_READ},
    {"POST", "/sponsorship/agreements/{id}/activate", page_sp_activate, ROUTE_PAGE,
     PERM_SPONSOR_WRITE},
    {"POST", "/sponsorship/agreements/{id}/pause", page_sp_pause, ROUTE_PAGE, PERM_SPONSOR_WRITE},
    {"POST", "/sponsorship/agreements/{id}/resume", page_sp_resume, ROUTE_PAGE, PERM_SPONSOR_WRITE},
    {"POST", "/sponsorship/agreements/{id}/end", page_sp_end, ROUTE_PAGE, PERM_SPONSOR_WRITE},
    {"POST", "/sponsorship/agreements/{id}/change", page_sp_change, ROUTE_PAGE, PERM_SPONSOR_WRITE},
    {"GET", "/sponsorship/waiting", page_waiting, ROUTE_PAGE, PERM_SPONSOR_READ},
};

void sponsorship_register(void)
{
    http_routes_add(routes, sizeof(routes) / sizeof(routes[0]));
}
