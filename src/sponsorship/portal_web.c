/*
 * portal_web.c: the routes of the sponsor portal (the donor's pages and
 * /api/v1/portal), of the letters' review (/sponsorship/letters,
 * /api/v1/sponsor-letters) and of progress reports (/sponsorship/reports,
 * /api/v1/progress-reports), with the report's bilingual printable page,
 * its PDF and its e-mail. Every page works without JavaScript.
 *
 * Donor-facing children are shown only through the allowlist
 * (portal_fields): the pages list its members, they do not pick fields of
 * their own.
 */
#include <stdio.h>
#include <string.h>

#include "auth/authz.h"
#include "children/documents.h"
#include "core/text.h"
#include "core/time.h"
#include "sponsorship/portal.h"
#include "sponsorship/sponsorship.h"
#include "web/i18n.h"
#include "web/page.h"
#include "web/pdf.h"
#include "core/banned.h"

/* The name to show for a child in r's language: the Latin first name in
 * English when recorded, else the first name. */
static const char *shown_name(struct http_req *r, json_t *c)
{
    const char *latin = json_str_or(c, "first_name_latin", NULL);
    if (strcmp(r->lang, "en") == 0 && latin && *latin) {
        return latin;
    }
    const char *first = json_str_or(c, "first_name", NULL);
    return first ? first : json_str_or(c, "child_first_name", NULL);
}

/* Adds the display members of a donor-facing child c: name, status_label,
 * note_shown (in r's language when written in it), and "facts" [{label,
 * value}] listing the allowlist's plain members in the table's order. */
static void label_child(struct http_req *r, json_t *c)
{
    json_object_set_new(c, "name", json_string(shown_name(r, c)));
    json_object_set_new(c, "status_label",
                        json_string(page_label(r, "pt.status", json_str_or(c, "status", NULL))));
    const char *note = json_str_or(c, "note", NULL), *note_en = json_str_or(c, "note_en", NULL);
    if (strcmp(r->lang, "en") == 0 && note_en && *note_en) {
        note = note_en;
    }
    if (note) {
        json_object_set_new(c, "note_shown", json_string(note));
    }
    json_t *facts = json_array();
    int n;
    const struct portal_field *f = portal_fields(&n);
    for (int i = 0; i < n; i++) {
        json_t *v = json_object_get(c, f[i].name);
        if (f[i].source == PF_ID || f[i].source == PF_FIRST_NAME ||
            f[i].source == PF_FIRST_NAME_LATIN || f[i].source == PF_PHOTO ||
            f[i].source == PF_NOTE || f[i].source == PF_NOTE_EN || !v || json_is_null(v)) {
            continue;
        }
        const char *text;
        if (f[i].source == PF_AGE) {
            text = i18n_format(&r->arena, r->lang, "pt.years", "n",
                               arena_printf(&r->arena, "%lld", (long long)json_integer_value(v)),
                               NULL);
        } else if (f[i].source == PF_STATUS) {
            text = page_label(r, "pt.status", json_string_value(v));
        } else {
            text = json_string_value(v);
        }
        json_array_append_new(facts, json_pack("{s:s, s:s, s:s}", "name", f[i].name, "label",
                                               page_label(r, "pt.f", f[i].name), "value",
                                               text ? text : ""));
    }
    json_object_set_new(c, "facts", facts);
}

/* Adds status_label (and for reports the note in r's language) to letters or reports. */
static void label_items(struct http_req *r, json_t *items, const char *prefix)
{
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        json_object_set_new(it, "status_label",
                            json_string(page_label(r, prefix, json_str_or(it, "status", NULL))));
        json_object_set_new(it, "is_pending",
                            json_boolean(json_str_or(it, "status", NULL) &&
                                         strcmp(json_str_or(it, "status", NULL), "pending") == 0));
        json_object_set_new(it, "is_approved",
                            json_boolean(json_str_or(it, "status", NULL) &&
                                         strcmp(json_str_or(it, "status", NULL), "approved") == 0));
        const char *note = json_str_or(it, "note", NULL),
                   *note_en = json_str_or(it, "note_en", NULL);
        if (strcmp(r->lang, "en") == 0 && note_en && *note_en) {
            note = note_en;
        }
        if (note) {
            json_object_set_new(it, "note_shown", json_string(note));
        }
    }
}

/* ---- The donor's pages ------------------------------------------------ */

/* Replies with a service's value (NULL: its failure e). */
static bool got(struct http_req *r, json_t *v, const struct err *e)
{
    if (!v) {
        http_reply_err(r, e);
        return false;
    }
    return true;
}

/* GET /portal: the donor's home: their children, giving summary, letters. */
static void page_home(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *children = portal_children(db, r->actor, &e);
    if (!got(r, children, &e)) {
        return;
    }
    json_t *giving = portal_giving(db, r->actor, &e);
    json_t *letters = giving ? letter_list_own(db, r->actor, &e) : NULL;
    if (!got(r, letters, &e)) {
        json_decref(children);
        json_decref(giving);
        return;
    }
    size_t i;
    json_t *c;
    json_array_foreach(children, i, c)
    {
        label_child(r, c);
    }
    label_items(r, letters, "pt.lstatus");
    while (json_array_size(letters) > 5) {
        json_array_remove(letters, json_array_size(letters) - 1);
    }
    json_t *ctx = json_pack("{s:o, s:o, s:o, s:s}", "children", children, "giving", giving,
                            "letters", letters, "name", r->actor->display_name);
    page_reply(r, 200, "pt_home", "pt.title", ctx);
}

/* GET /portal/children/{id}: one child, its reports and the letter link. */
static void page_child(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *c = portal_child(db, r->actor, r->params[0], &e);
    if (!got(r, c, &e)) {
        return;
    }
    label_child(r, c);
    label_items(r, json_object_get(c, "reports"), "pt.rstatus");
    page_reply(r, 200, "pt_child", "pt.child_title", json_pack("{s:o}", "child", c));
}

/* GET /portal/giving: totals, receipts and agreements, with the links to the
 * receipts' and the statement's own pages. */
static void page_giving(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *g = portal_giving(db, r->actor, &e);
    if (!got(r, g, &e)) {
        return;
    }
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(g, "agreements"), i, it)
    {
        json_object_set_new(
            it, "status_label",
            json_string(page_label(r, "pt.status", json_str_or(it, "status", NULL))));
        const char *latin = json_str_or(it, "child_first_name_latin", NULL);
        json_object_set_new(it, "child_name",
                            json_string(strcmp(r->lang, "en") == 0 && latin && *latin
                                            ? latin
                                            : json_str_or(it, "child_first_name", NULL)));
        json_object_set_new(
            it, "frequency_label",
            json_string(page_label(r, "pt.freq", json_str_or(it, "frequency", NULL))));
    }
    int y, m, d;
    time_today(&y, &m, &d);
    json_object_set_new(g, "year", json_integer(y));
    json_object_set_new(g, "last_year", json_integer(y - 1));
    page_reply(r, 200, "pt_giving", "pt.giving_title", g);
}

/* Renders the letter form with the donor's children that may get a letter. */
static void letter_form(struct http_req *r, struct db *db, int status, const char *child,
                        const char *body, const struct err *failed)
{
    struct err e;
    err_clear(&e);
    json_t *children = portal_children(db, r->actor, &e);
    if (!got(r, children, &e)) {
        return;
    }
    json_t *options = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(children, i, c)
    {
        if (strcmp(json_str_or(c, "status", NULL), "ended") == 0) {
            continue;
        }
        json_array_append_new(options,
                              json_pack("{s:s, s:s, s:b}", "value", json_str_or(c, "id", NULL),
                                        "label", shown_name(r, c), "selected",
                                        child && strcmp(child, json_str_or(c, "id", NULL)) == 0));
    }
    json_decref(children);
    json_t *ctx = json_pack("{s:o, s:s, s:i}", "children", options, "body", body ? body : "", "max",
                            PORTAL_LETTER_MAX);
    if (failed) {
        page_ctx_error(r, ctx, failed);
    }
    page_reply(r, status, "pt_letter_new", "pt.letter_title", ctx);
}

/* GET /portal/letters/new?child= */
static void page_letter_new(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (db) {
        letter_form(r, db, 200, http_query(r, "child"), NULL, NULL);
    }
}

/* POST /portal/letters/new (form: csrf, child_id, body) */
static void page_letter_post(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    char id[40];
    const char *child = http_form(r, "child_id"), *body = http_form(r, "body");
    if (letter_create(db, r->actor, child, body, id, &e) < 0) {
        if (e.kind == ERR_INVALID) {
            letter_form(r, db, 422, child, body, &e);
        } else {
            http_reply_err(r, &e);
        }
        return;
    }
    http_redirect(r, "/portal?ok=flash.pt.letter_sent");
}

/* Replies with a file opened for the donor (or its failure). */
static void reply_media(struct http_req *r, enum portal_media_kind kind)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    struct doc_file f;
    if (portal_media(db, r->actor, kind, r->params[0], &f, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    /* Never cached: consent may be withdrawn tomorrow (every response is
     * no-store; said again here for the reader of this code). */
    http_add_header(r, "Cache-Control", "no-store");
    http_add_header(r, "Content-Disposition",
                    strcmp(f.content_type, "application/pdf") == 0
                        ? "attachment; filename=\"file.pdf\""
                        : "inline");
    http_reply(r, 200, f.content_type, f.data.buf, f.data.len);
    buf_release(&f.data);
}

/* GET /portal/children/{id}/photo */
static void media_child_photo(struct http_req *r)
{
    reply_media(r, PM_CHILD_PHOTO);
}

/* GET /portal/reports/{id}/photo */
static void media_report_photo(struct http_req *r)
{
    reply_media(r, PM_REPORT_PHOTO);
}

/* GET /portal/reports/{id}/drawing */
static void media_report_drawing(struct http_req *r)
{
    reply_media(r, PM_REPORT_DRAWING);
}

/* ---- The donor's API -------------------------------------------------- */

/* portal_children as a page_read_fn. */
static json_t *children_call(struct db *db, const struct actor *a, const char *arg, struct err *e)
{
    (void)arg;
    return portal_children(db, a, e);
}

/* GET /api/v1/portal/children */
static void api_children(struct http_req *r)
{
    reply_call_wrap(r, children_call, NULL, "items");
}

/* GET /api/v1/portal/children/{id} */
static void api_child(struct http_req *r)
{
    reply_call(r, portal_child, r->params[0]);
}

/* portal_giving as a page_read_fn. */
static json_t *giving_call(struct db *db, const struct actor *a, const char *arg, struct err *e)
{
    (void)arg;
    return portal_giving(db, a, e);
}

/* GET /api/v1/portal/giving */
static void api_giving(struct http_req *r)
{
    reply_call(r, giving_call, NULL);
}

/* letter_list_own as a page_read_fn. */
static json_t *letters_own_call(struct db *db, const struct actor *a, const char *arg,
                                struct err *e)
{
    (void)arg;
    return letter_list_own(db, a, e);
}

/* GET /api/v1/portal/letters */
static void api_letters_own(struct http_req *r)
{
    reply_call_wrap(r, letters_own_call, NULL, "items");
}

/* POST /api/v1/portal/letters {child_id, body} */
static void api_letter_create(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    struct db *db = body ? db_or_reply(r) : NULL;
    if (!db) {
        json_decref(body);
        return;
    }
    struct err e;
    err_clear(&e);
    static const char *const allowed[] = {"child_id", "body", NULL};
    const char *child = NULL, *text = NULL;
    char id[40];
    if (json_known_members(body, allowed, &e) < 0 ||
        json_str_member(body, "child_id", true, 40, &child, &e) < 0 ||
        json_str_member(body, "body", true, PORTAL_LETTER_MAX, &text, &e) < 0 ||
        letter_create(db, r->actor, child, text, id, &e) < 0) {
        json_decref(body);
        http_reply_err(r, &e);
        return;
    }
    json_decref(body);
    http_reply_json(r, 201, json_pack("{s:s, s:s}", "id", id, "status", "pending"));
}

/* ---- Letters for staff ------------------------------------------------ */

/* letter_list as a page_read_fn (arg: the status). */
static json_t *letters_call(struct db *db, const struct actor *a, const char *status, struct err *e)
{
    return letter_list(db, a, status, e);
}

/* GET /api/v1/sponsor-letters?status= */
static void api_letters(struct http_req *r)
{
    reply_call_wrap(r, letters_call, http_query(r, "status"), "items");
}

/* POST /api/v1/sponsor-letters/{id}/{action} {note?}: approve, reject, deliver. */
static void api_letter_review(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *note = NULL;
    json_t *body = NULL;
    if (r->body_len > 0) {
        body = http_json_body_or_reply(r);
        if (!body) {
            return;
        }
        static const char *const allowed[] = {"note", NULL};
        if (json_known_members(body, allowed, &e) < 0 ||
            json_str_member(body, "note", false, 500, &note, &e) < 0) {
            json_decref(body);
            http_reply_err(r, &e);
            return;
        }
    }
    int rc = letter_review(db, r->actor, r->params[0], r->params[1], note, &e);
    json_decref(body);
    if (rc < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_reply(r, 204, NULL, NULL, 0);
}

/* GET /sponsorship/letters?status=: the review queue. */
static void page_letters(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *status = http_query(r, "status");
    json_t *items = letter_list(db, r->actor, status, &e);
    if (!got(r, items, &e)) {
        return;
    }
    label_items(r, items, "pt.lstatus");
    json_t *ctx = json_pack("{s:o, s:b, s:o}", "items", items, "can_write",
                            actor_can(r->actor, PERM_SPONSOR_WRITE), "statuses",
                            page_options(r, "pt.lstatus", LETTER_STATUSES, status, "pt.all"));
    page_reply(r, 200, "pt_letters", "pt.letters_title", ctx);
}

/* POST /sponsorship/letters/{id}/review (form: csrf, action, note) */
static void page_letter_review(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (letter_review(db, r->actor, r->params[0], http_form(r, "action"), page_form(r, "note"),
                      &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_redirect(r, "/sponsorship/letters?ok=flash.pt.reviewed");
}

/* ---- Progress reports --------------------------------------------------- */

/* The catalog text of key in both languages: {ar, en}. */
static json_t *both(const char *key)
{
    return json_pack("{s:s, s:s}", "ar", i18n_get("ar", key), "en", i18n_get("en", key));
}

/* The context of the report's bilingual body (pt_report_body): the report
 * as report_get gives it, with name_en and the labels l.<key>.{ar,en}. */
static void report_ctx(json_t *rep)
{
    const char *latin = json_str_or(rep, "child_first_name_latin", NULL);
    json_object_set_new(
        rep, "name_en",
        json_string(latin && *latin ? latin : json_str_or(rep, "child_first_name", NULL)));
    static const char *const keys[] = {"pt.report_title", "pt.f.first_name",   "pt.period",
                                       "pt.note",         "pt.school_results", "pt.photo",
                                       "pt.drawing"};
    json_t *l = json_object();
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_object_set_new(l, strrchr(keys[i], '.') + 1, both(keys[i]));
    }
    json_object_set_new(rep, "l", l);
}

/* Builds the report's PDF for report_send and the download: both languages,
 * the photo when it is an image, the letter or drawing likewise. */
static int render_pdf(struct db *db, const struct actor *a, const char *id, struct buf *out,
                      char filename[128], char content_type[64], struct err *e)
{
    json_t *rep = report_get(db, a, id, e);
    if (!rep) {
        return -1;
    }
    const char *first = json_str_or(rep, "child_first_name", NULL),
               *period = json_str_or(rep, "period", NULL);
    const char *latin = json_str_or(rep, "child_first_name_latin", NULL);
    char title[256];
    snprintf(title, sizeof(title), "%s · %s", i18n_get("ar", "pt.report_title"),
             i18n_get("en", "pt.report_title"));
    struct pdf_doc *d = pdf_new("ar", title, e);
    if (!d) {
        json_decref(rep);
        return -1;
    }
    pdf_title(d, i18n_get("ar", "pt.report_title"));
    pdf_text(d, i18n_get("en", "pt.report_title"), PDF_TEXT_BOLD);
    const char *pairs[] = {
        i18n_get("ar", "pt.f.first_name"), first,
        i18n_get("en", "pt.f.first_name"), latin && *latin ? latin : first,
        i18n_get("ar", "pt.period"),       period,
    };
    pdf_kv(d, pairs, 3);
    pdf_heading(d, i18n_get("ar", "pt.note"));
    pdf_paragraph(d, json_str_or(rep, "note", NULL));
    if (json_str_or(rep, "note_en", NULL)) {
        pdf_heading(d, i18n_get("en", "pt.note"));
        pdf_paragraph(d, json_str_or(rep, "note_en", NULL));
    }
    if (json_str_or(rep, "school_results", NULL)) {
        char h[200];
        snprintf(h, sizeof(h), "%s · %s", i18n_get("ar", "pt.school_results"),
                 i18n_get("en", "pt.school_results"));
        pdf_heading(d, h);
        pdf_paragraph(d, json_str_or(rep, "school_results", NULL));
    }
    static const char *const docs[] = {"photo_doc", "drawing_doc"};
    for (int i = 0; i < 2; i++) {
        const char *doc = json_str_or(rep, docs[i], NULL);
        if (!doc) {
            continue;
        }
        struct doc_file f;
        struct err de;
        err_clear(&de);
        if (document_open(db, a, json_str_or(rep, "child_id", NULL), doc, &f, &de) < 0) {
            continue; /* deleted since: the report goes without it */
        }
        if (strncmp(f.content_type, "image/", 6) == 0 && strcmp(f.content_type, "image/webp")) {
            char h[200];
            const char *key = i == 0 ? "pt.photo" : "pt.drawing";
            snprintf(h, sizeof(h), "%s · %s", i18n_get("ar", key), i18n_get("en", key));
            pdf_heading(d, h);
            if (pdf_image(d, f.data.buf, f.data.len, 120, 90, &de) < 0) {
                pdf_forget_error(d);
            }
        }
        buf_release(&f.data);
    }
    char footer[300];
    /* The period isolated (FSI … PDI) so that its digits do not reorder in Arabic. */
    snprintf(footer, sizeof(footer), "%s · \u2068%s\u2069", first, period);
    pdf_set_footer(d, footer, NULL);
    int rc = pdf_finish(d, out, e);
    pdf_free(d);
    snprintf(filename, 128, "report-%s.pdf", period);
    snprintf(content_type, 64, "application/pdf");
    json_decref(rep);
    return rc;
}

/* report_list as a page_read_fn (arg: the child). */
static json_t *reports_call(struct db *db, const struct actor *a, const char *child, struct err *e)
{
    return report_list(db, a, child, e);
}

/* GET /api/v1/progress-reports?child= */
static void api_reports(struct http_req *r)
{
    reply_call_wrap(r, reports_call, http_query(r, "child"), "items");
}

/* report_due as a page_read_fn. */
static json_t *reports_due_call(struct db *db, const struct actor *a, const char *arg,
                                struct err *e)
{
    (void)arg;
    return report_due(db, a, e);
}

/* GET /api/v1/progress-reports/due */
static void api_reports_due(struct http_req *r)
{
    reply_call_wrap(r, reports_due_call, NULL, "items");
}

/* POST /api/v1/progress-reports {child_id, period, note, ...} */
static void api_report_create(struct http_req *r)
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
    int rc = report_create(db, r->actor, body, id, &errors, &e);
    json_decref(body);
    if (rc < 0) {
        page_reply_problems(r, &e, errors);
        return;
    }
    const char *url = arena_printf(&r->arena, "/api/v1/progress-reports/%s", id);
    http_add_header(r, "Location", url);
    http_reply_json(r, 201, json_pack("{s:s, s:s}", "id", id, "status", "draft"));
}

/* report_get with its own read transaction, as a page_read_fn. */
static json_t *report_call(struct db *db, const struct actor *a, const char *id, struct err *e)
{
    return report_get(db, a, id, e);
}

/* GET /api/v1/progress-reports/{id} */
static void api_report(struct http_req *r)
{
    reply_call(r, report_call, r->params[0]);
}

/* GET /api/v1/progress-reports/{id}/pdf and /sponsorship/reports/{id}/pdf */
static void report_pdf(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    struct buf out = BUF_INIT;
    char filename[128], ctype[64];
    if (render_pdf(db, r->actor, r->params[0], &out, filename, ctype, &e) < 0) {
        buf_release(&out);
        http_reply_err(r, &e);
        return;
    }
    http_add_header(r, "Content-Disposition",
                    arena_printf(&r->arena, "inline; filename=\"%s\"", filename));
    http_reply(r, 200, ctype, out.buf, out.len);
    buf_release(&out);
}

/* POST /api/v1/progress-reports/{id}/approve */
static void api_report_approve(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (report_approve(db, r->actor, r->params[0], &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, json_pack("{s:s, s:s}", "id", r->params[0], "status", "approved"));
}

/* POST /api/v1/progress-reports/{id}/send */
static void api_report_send(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    int n = report_send(db, r->actor, r->params[0], render_pdf, &e);
    if (n < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, json_pack("{s:s, s:i}", "id", r->params[0], "sent", n));
}

/* GET /sponsorship/reports: due and made. */
static void page_reports(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *due = report_due(db, r->actor, &e);
    json_t *made = due ? report_list(db, r->actor, http_query(r, "child"), &e) : NULL;
    if (!got(r, made, &e)) {
        json_decref(due);
        return;
    }
    label_items(r, made, "pt.rstatus");
    json_t *ctx = json_pack("{s:o, s:o, s:b}", "due", due, "made", made, "can_write",
                            actor_can(r->actor, PERM_SPONSOR_WRITE));
    page_reply(r, 200, "pt_reports", "pt.reports_title", ctx);
}

/* Options of the child's documents for the report form: photos (images of
 * kind photo) when photos, else every non-medical document. */
static json_t *doc_options(struct http_req *r, json_t *docs, bool photos, const char *chosen)
{
    json_t *arr = json_array();
    json_array_append_new(arr,
                          json_pack("{s:s, s:s, s:b}", "value", "", "label",
                                    i18n_get(r->lang, "pt.none"), "selected", !chosen || !*chosen));
    size_t i;
    json_t *d;
    json_array_foreach(docs, i, d)
    {
        const char *kind = json_str_or(d, "kind", NULL),
                   *ctype = json_str_or(d, "content_type", NULL);
        if (!kind || strcmp(kind, "medical") == 0 ||
            (photos && (strcmp(kind, "photo") || strncmp(ctype, "image/", 6)))) {
            continue;
        }
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:b}", "value", json_str_or(d, "id", NULL), "label",
                           arena_printf(&r->arena, "%s · %s", page_label(r, "doc.kind", kind),
                                        json_str_or(d, "filename", NULL)),
                           "selected", chosen && strcmp(chosen, json_str_or(d, "id", NULL)) == 0));
    }
    return arr;
}

/* Renders the report form for child: a new report, or the draft edit_id
 * (prefill: the report as report_get gives it, borrowed). After a failed
 * post the typed values come back with the errors beside their fields. */
static void report_form(struct http_req *r, struct db *db, int status, const char *child,
                        json_t *prefill, const char *edit_id, const struct err *failed,
                        json_t *errors)
{
    struct err e;
    err_clear(&e);
    json_t *ctx = json_object();
    json_t *docs = NULL;
    if (child && *child && db_begin(db, true, &e) == 0) {
        docs = document_list(db, r->actor, child, &e);
        db_rollback(db);
    }
    if (docs) {
        const char *photo =
            failed ? http_form(r, "photo_doc") : json_str_or(prefill, "photo_doc", NULL);
        const char *drawing =
            failed ? http_form(r, "drawing_doc") : json_str_or(prefill, "drawing_doc", NULL);
        json_object_set_new(ctx, "photos", doc_options(r, docs, true, photo));
        json_object_set_new(ctx, "drawings", doc_options(r, docs, false, drawing));
        json_decref(docs);
    }
    json_object_set_new(ctx, "child_id", json_string(child ? child : ""));
    static const char *const keep[] = {"period", "note", "note_en", "school_results"};
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        bool from_form = failed && !(edit_id && strcmp(keep[i], "period") == 0);
        const char *v = from_form ? http_form(r, keep[i]) : json_str_or(prefill, keep[i], NULL);
        json_object_set_new(ctx, keep[i], json_string(v ? v : ""));
    }
    json_object_set_new(ctx, "editing", json_boolean(edit_id != NULL));
    json_object_set_new(
        ctx, "action",
        json_string(edit_id ? arena_printf(&r->arena, "/sponsorship/reports/%s/edit", edit_id)
                            : "/sponsorship/reports/new"));
    if (edit_id) {
        json_object_set_new(ctx, "id", json_string(edit_id));
        json_object_set_new(ctx, "child_first_name",
                            json_string(json_str_or(prefill, "child_first_name", NULL)
                                            ? json_str_or(prefill, "child_first_name", NULL)
                                            : ""));
    }
    if (failed) {
        page_ctx_error(r, ctx, failed);
        if (errors) {
            json_t *by = json_object();
            size_t i;
            json_t *p;
            json_array_foreach(page_localize_errors(r, errors), i, p)
            {
                const char *f = json_str_or(p, "field", NULL);
                if (f && !json_object_get(by, f)) {
                    json_object_set_new(by, f, json_string(json_str_or(p, "message", NULL)));
                }
            }
            json_object_set_new(ctx, "errors", by);
        }
    }
    json_decref(errors);
    page_reply(r, status, "pt_report_form",
               edit_id ? "pt.report_edit_title" : "pt.report_new_title", ctx);
}

/* GET /sponsorship/reports/new?child= */
static void page_report_new(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (db) {
        report_form(r, db, 200, http_query(r, "child"), NULL, NULL, NULL, NULL);
    }
}

/* POST /sponsorship/reports/new (form: csrf, child_id, period, note, note_en,
 * school_results, photo_doc, drawing_doc) */
static void page_report_post(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    static const char *const names[] = {"child_id",       "period",    "note",       "note_en",
                                        "school_results", "photo_doc", "drawing_doc"};
    json_t *in = json_object();
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *v = page_form(r, names[i]);
        if (v) {
            json_object_set_new(in, names[i], json_string(v));
        }
    }
    struct err e;
    err_clear(&e);
    json_t *errors = NULL;
    char id[40];
    int rc = report_create(db, r->actor, in, id, &errors, &e);
    json_decref(in);
    if (rc < 0) {
        if (e.kind == ERR_INVALID || e.kind == ERR_CONFLICT) {
            report_form(r, db, e.kind == ERR_CONFLICT ? 409 : 422, page_form(r, "child_id"), NULL,
                        NULL, &e, errors);
        } else {
            json_decref(errors);
            http_reply_err(r, &e);
        }
        return;
    }
    http_redirect(r,
                  arena_printf(&r->arena, "/sponsorship/reports/%s?ok=flash.pt.report_made", id));
}

/* GET /sponsorship/reports/{id}/edit: the draft's form. */
static void page_report_edit(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *rep = report_get(db, r->actor, r->params[0], &e);
    if (!got(r, rep, &e)) {
        return;
    }
    report_form(r, db, 200, json_str_or(rep, "child_id", NULL), rep, r->params[0], NULL, NULL);
    json_decref(rep);
}

/* POST /sponsorship/reports/{id}/edit (form: csrf, note, note_en, school_results,
 * photo_doc, drawing_doc): every member is sent, so a blank one clears it. */
static void page_report_update(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    static const char *const names[] = {"note", "note_en", "school_results", "photo_doc",
                                        "drawing_doc"};
    json_t *in = json_object();
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *v = page_form(r, names[i]);
        json_object_set_new(in, names[i], v ? json_string(v) : json_null());
    }
    struct err e;
    err_clear(&e);
    json_t *errors = NULL;
    int rc = report_update(db, r->actor, r->params[0], in, &errors, &e);
    json_decref(in);
    if (rc < 0) {
        struct err g;
        err_clear(&g);
        json_t *rep = e.kind == ERR_INVALID ? report_get(db, r->actor, r->params[0], &g) : NULL;
        if (rep) {
            report_form(r, db, 422, json_str_or(rep, "child_id", NULL), rep, r->params[0], &e,
                        errors);
            json_decref(rep);
        } else {
            json_decref(errors);
            http_reply_err(r, &e);
        }
        return;
    }
    http_redirect(r, arena_printf(&r->arena, "/sponsorship/reports/%s?ok=flash.pt.report_saved",
                                  r->params[0]));
}

/* PATCH /api/v1/progress-reports/{id} {note?, note_en?, school_results?, photo_doc?,
 * drawing_doc?} */
static void api_report_update(struct http_req *r)
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
    int rc = report_update(db, r->actor, r->params[0], body, &errors, &e);
    json_decref(body);
    if (rc < 0) {
        page_reply_problems(r, &e, errors);
        return;
    }
    http_reply(r, 204, NULL, NULL, 0);
}

/* GET /sponsorship/reports/{id}: the bilingual printable page with the
 * staff's actions. */
static void page_report(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *rep = report_get(db, r->actor, r->params[0], &e);
    if (!got(r, rep, &e)) {
        return;
    }
    const char *status = json_str_or(rep, "status", NULL);
    json_object_set_new(rep, "status_label", json_string(page_label(r, "pt.rstatus", status)));
    json_object_set_new(rep, "is_draft", json_boolean(strcmp(status, "draft") == 0));
    json_object_set_new(rep, "can_write", json_boolean(actor_can(r->actor, PERM_SPONSOR_WRITE)));
    json_object_set_new(rep, "show_images", json_true());
    report_ctx(rep);
    page_reply(r, 200, "pt_report", "pt.report_title", rep);
}

/* POST /sponsorship/reports/{id}/approve */
static void page_report_approve(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (report_approve(db, r->actor, r->params[0], &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_redirect(
        r, arena_printf(&r->arena, "/sponsorship/reports/%s?ok=flash.pt.approved", r->params[0]));
}

/* POST /sponsorship/reports/{id}/send */
static void page_report_send(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (report_send(db, r->actor, r->params[0], render_pdf, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_redirect(
        r, arena_printf(&r->arena, "/sponsorship/reports/%s?ok=flash.pt.sent", r->params[0]));
}

/* Fixed paths before {id} paths. */
static const struct route routes[] = {
    {"GET", "/portal", page_home, ROUTE_PAGE, PERM_PORTAL},
    {"GET", "/portal/giving", page_giving, ROUTE_PAGE, PERM_PORTAL},
    {"GET", "/portal/letters/new", page_letter_new, ROUTE_PAGE, PERM_PORTAL},
    {"POST", "/portal/letters/new", page_letter_post, ROUTE_PAGE, PERM_PORTAL},
    {"GET", "/portal/children/{id}", page_child, ROUTE_PAGE, PERM_PORTAL},
    {"GET", "/portal/children/{id}/photo", media_child_photo, ROUTE_PAGE, PERM_PORTAL},
    {"GET", "/portal/reports/{id}/photo", media_report_photo, ROUTE_PAGE, PERM_PORTAL},
    {"GET", "/portal/reports/{id}/drawing", media_report_drawing, ROUTE_PAGE, PERM_PORTAL},
    {"GET", "/api/v1/portal/children", api_children, ROUTE_API, PERM_PORTAL},
    {"GET", "/api/v1/portal/children/{id}", api_child, ROUTE_API, PERM_PORTAL},
    {"GET", "/api/v1/portal/giving", api_giving, ROUTE_API, PERM_PORTAL},
    {"GET", "/api/v1/portal/letters", api_letters_own, ROUTE_API, PERM_PORTAL},
    {"POST", "/api/v1/portal/letters", api_letter_create, ROUTE_API, PERM_PORTAL},
    {"GET", "/api/v1/sponsor-letters", api_letters, ROUTE_API, PERM_SPONSOR_READ},
    {"POST", "/api/v1/sponsor-letters/{id}/{action}", api_letter_review, ROUTE_API,
     PERM_SPONSOR_WRITE},
    {"GET", "/api/v1/progress-reports", api_reports, ROUTE_API, PERM_SPONSOR_READ},
    {"GET", "/api/v1/progress-reports/due", api_reports_due, ROUTE_API, PERM_SPONSOR_READ},
    {"POST", "/api/v1/progress-reports", api_report_create, ROUTE_API, PERM_SPONSOR_WRITE},
    {"GET", "/api/v1/progress-reports/{id}", api_report, ROUTE_API, PERM_SPONSOR_READ},
    {"PATCH", "/api/v1/progress-reports/{id}", api_report_update, ROUTE_API, PERM_SPONSOR_WRITE},
    {"GET", "/api/v1/progress-reports/{id}/pdf", report_pdf, ROUTE_API, PERM_SPONSOR_READ},
    {"POST", "/api/v1/progress-reports/{id}/approve", api_report_approve, ROUTE_API,
     PERM_SPONSOR_WRITE},
    {"POST", "/api/v1/progress-reports/{id}/send", api_report_send, ROUTE_API, PERM_SPONSOR_WRITE},
    {"GET", "/sponsorship/letters", page_letters, ROUTE_PAGE, PERM_SPONSOR_READ},
    {"POST", "/sponsorship/letters/{id}/review", page_letter_review, ROUTE_PAGE,
     PERM_SPONSOR_WRITE},
    {"GET", "/sponsorship/reports", page_reports, ROUTE_PAGE, PERM_SPONSOR_READ},
    {"GET", "/sponsorship/reports/new", page_report_new, ROUTE_PAGE, PERM_SPONSOR_WRITE},
    {"POST", "/sponsorship/reports/new", page_report_post, ROUTE_PAGE, PERM_SPONSOR_WRITE},
    {"GET", "/sponsorship/reports/{id}", page_report, ROUTE_PAGE, PERM_SPONSOR_READ},
    {"GET", "/sponsorship/reports/{id}/pdf", report_pdf, ROUTE_PAGE, PERM_SPONSOR_READ},
    {"GET", "/sponsorship/reports/{id}/edit", page_report_edit, ROUTE_PAGE, PERM_SPONSOR_WRITE},
    {"POST", "/sponsorship/reports/{id}/edit", page_report_update, ROUTE_PAGE, PERM_SPONSOR_WRITE},
    {"POST", "/sponsorship/reports/{id}/approve", page_report_approve, ROUTE_PAGE,
     PERM_SPONSOR_WRITE},
    {"POST", "/sponsorship/reports/{id}/send", page_report_send, ROUTE_PAGE, PERM_SPONSOR_WRITE},
};

void portal_register(void)
{
    http_routes_add(routes, sizeof(routes) / sizeof(routes[0]));
}
