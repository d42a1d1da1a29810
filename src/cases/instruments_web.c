/*
 * instruments_web.c: standardized instruments over HTTP: the /api/v1 routes
 * (instruments, responses, a child's scores) and the pages (a case's
 * instruments with each one's scores drawn over time, the questionnaire
 * form, one response's answers).
 */
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "cases/instruments.h"
#include "core/text.h"
#include "core/time.h"
#include "db/db_util.h"
#include "web/i18n.h"
#include "web/page.h"
#include "web/tmpl.h"
#include "core/banned.h"

/* The text of lang from an ar/en pair. */
static const char *pick(const struct http_req *r, const char *ar, const char *en)
{
    return strcmp(r->lang, "en") == 0 ? en : ar;
}

/* The band of score s with id, or NULL. */
static const struct instrument_band *band_by_id(const struct instrument_scale *s, const char *id)
{
    for (size_t i = 0; id && i < s->n_bands; i++) {
        if (strcmp(s->bands[i].id, id) == 0) {
            return &s->bands[i];
        }
    }
    return NULL;
}

/* "Ages 4 to 16" or "Ages 9 and over" in the request's language. */
static const char *ages_text(struct http_req *r, const struct instrument *in)
{
    char lo[16], hi[16];
    snprintf(lo, sizeof(lo), "%d", in->age_min);
    snprintf(hi, sizeof(hi), "%d", in->age_max);
    if (in->age_max < 0) {
        return i18n_format(&r->arena, r->lang, "instr.ages_min", "min", lo, NULL);
    }
    return i18n_format(&r->arena, r->lang, "instr.ages", "min", lo, "max", hi, NULL);
}

/* A score as shown: the number, or "no score" when it is null. */
static const char *score_text(struct http_req *r, json_t *v)
{
    if (!json_is_integer(v)) {
        return i18n_get(r->lang, "instr.no_score");
    }
    return arena_printf(&r->arena, "%lld", (long long)json_integer_value(v));
}

/* ---- the chart ---- */

/* Narrower than svg.c's charts, so that the numbers stay legible on a 360 px phone. */
#define CH_W 400.0
#define CH_H 220.0
#define CH_START 40.0
#define CH_END 14.0
#define CH_TOP 24.0
#define CH_BOTTOM 36.0
#define LRM "\xe2\x80\x8e"

/* Physical x of logical position u (mirrored for right-to-left). */
static double cx(double u, bool rtl)
{
    return rtl ? CH_W - u : u;
}

/* Appends an SVG line chart of a score over time: the y axis spans the
 * score's whole possible range, each cut-off is a dashed line with its value,
 * and every point carries its number (and a <title>), so the chart reads
 * without colour. Follows web/svg.h's conventions (classes, no script, no
 * inline style, mirrored for right-to-left); svg_line_chart itself scales to
 * the data and has no reference lines, which a score needs. */
static void score_chart(struct http_req *r, struct buf *out, const char *title,
                        const struct instrument_scale *s, const char *const *labels,
                        const int *values, size_t n)
{
    bool rtl = strcmp(r->lang, "ar") == 0;
    double span = s->max > s->min ? (double)(s->max - s->min) : 1.0;
    double plot_w = CH_W - CH_START - CH_END, plot_h = CH_H - CH_TOP - CH_BOTTOM;
    buf_addf(out,
             "<svg class=\"chart chart-line chart-score\" xmlns=\"http://www.w3.org/2000/svg\" "
             "viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\" "
             "direction=\"%s\" font-size=\"15\"><title>",
             CH_W, CH_H, CH_W, CH_H, rtl ? "rtl" : "ltr");
    html_escape(out, title);
    buf_adds(out, "</title>");
#define Y(v) (CH_TOP + ((double)s->max - (double)(v)) / span * plot_h)
    /* the axis, with the lowest and highest possible scores */
    buf_addf(out, "<line class=\"chart-axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
             "stroke=\"#6b7684\"/>", cx(CH_START, rtl), Y(s->min), cx(CH_W - CH_END, rtl),
             Y(s->min));
    buf_addf(out, "<line class=\"chart-axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
             "stroke=\"#6b7684\"/>", cx(CH_START, rtl), Y(s->max), cx(CH_START, rtl), Y(s->min));
    int ends[2] = {s->min, s->max};
    for (int i = 0; i < 2; i++) {
        buf_addf(out, "<text class=\"chart-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                 "dominant-baseline=\"middle\" fill=\"#1b1f24\">" LRM "%d</text>",
                 cx(CH_START - 6.0, rtl), Y(ends[i]), ends[i]);
    }
    for (size_t c = 0; c < s->n_cutoffs; c++) {
        double y = Y(s->cutoffs[c]);
        char num[16];
        snprintf(num, sizeof(num), "%d", s->cutoffs[c]);
        buf_addf(out, "<g class=\"chart-cutoff\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                 "y2=\"%.1f\" stroke=\"#9b1c1c\" stroke-dasharray=\"6 4\"/>",
                 cx(CH_START, rtl), y, cx(CH_W - CH_END, rtl), y);
        buf_addf(out, "<text class=\"chart-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                 "fill=\"#9b1c1c\">", cx(CH_W - CH_END, rtl), y - 4.0);
        html_escape(out, i18n_format(&r->arena, r->lang, "instr.cutoff", "n", num, NULL));
        buf_adds(out, "</text></g>");
    }
    if (n > 1) {
        buf_adds(out, "<polyline class=\"chart-line\" fill=\"none\" stroke=\"#0d5c4a\" "
                      "stroke-width=\"2.5\" points=\"");
        for (size_t i = 0; i < n; i++) {
            double u = CH_START + plot_w * (double)i / (double)(n - 1);
            buf_addf(out, "%s%.1f,%.1f", i ? " " : "", cx(u, rtl), Y(values[i]));
        }
        buf_adds(out, "\"/>");
    }
    size_t every = n > 4 ? (n + 3) / 4 : 1; /* at most about four dates fit */
    for (size_t i = 0; i < n; i++) {
        double u = n > 1 ? CH_START + plot_w * (double)i / (double)(n - 1)
                         : CH_START + plot_w / 2;
        const char *anchor = n > 1 && i == 0 ? "start" : (n > 1 && i == n - 1 ? "end" : "middle");
        buf_adds(out, "<g class=\"chart-point-group\"><title>");
        html_escape(out, labels[i]);
        buf_addf(out, ": %d</title>", values[i]);
        buf_addf(out, "<circle class=\"chart-point\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" "
                 "fill=\"#0d5c4a\"/>", cx(u, rtl), Y(values[i]));
        buf_addf(out, "<text class=\"chart-value\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" "
                 "fill=\"#1b1f24\">" LRM "%d</text>", cx(u, rtl), Y(values[i]) - 9.0, anchor,
                 values[i]);
        if ((i % every == 0 && n - 1 - i >= every) || i == n - 1) {
            buf_addf(out, "<text class=\"chart-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" "
                     "fill=\"#1b1f24\">" LRM, cx(u, rtl), CH_H - CH_BOTTOM / 2 + 4.0, anchor);
            html_escape(out, labels[i]);
            buf_adds(out, "</text>");
        }
        buf_adds(out, "</g>");
    }
#undef Y
    buf_adds(out, "</svg>");
}

/* Builds in's results from hist (a child's history, every instrument) as
 * table rows appended to rows (with links to the answers when answers), and
 * returns its chart (SVG in the arena), or NULL when no result has a score. */
static const char *chart_of(struct http_req *r, const struct instrument *in, json_t *hist,
                            bool answers, json_t *rows)
{
    size_t n = 0, k;
    json_t *h;
    json_array_foreach(hist, k, h)
    {
        if (strcmp(json_string_value(json_object_get(h, "instrument")), in->id) == 0) {
            n++;
        }
    }
    const char **labels = arena_alloc(&r->arena, (n + 1) * sizeof(*labels));
    int *values = arena_alloc(&r->arena, (n + 1) * sizeof(*values));
    size_t np = 0;
    json_array_foreach(hist, k, h)
    {
        if (strcmp(json_string_value(json_object_get(h, "instrument")), in->id) != 0) {
            continue;
        }
        const char *at = json_string_value(json_object_get(h, "administered_at"));
        const char *date = arena_strndup(&r->arena, at ? at : "", 10);
        const struct instrument_band *b =
            band_by_id(&in->total, json_string_value(json_object_get(h, "band")));
        json_t *total = json_object_get(h, "total");
        if (rows) {
            json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "id",
                                    json_string_value(json_object_get(h, "id")), "date", date,
                                    "total", score_text(r, total), "band",
                                    b ? pick(r, b->label_ar, b->label_en) : "", "concern",
                                    b && b->concern, "critical",
                                    json_is_true(json_object_get(h, "critical")));
            if (answers) {
                json_object_set_new(row, "href",
                                    json_string(arena_printf(
                                        &r->arena, "/instrument-responses/%s",
                                        json_string_value(json_object_get(h, "id")))));
            }
            json_array_append_new(rows, row);
        }
        if (json_is_integer(total)) {
            labels[np] = date;
            values[np++] = (int)json_integer_value(total);
        }
    }
    if (np == 0) {
        return NULL;
    }
    struct buf svg = BUF_INIT;
    score_chart(r, &svg,
                i18n_format(&r->arena, r->lang, "instr.chart_title", "name",
                            instrument_name(in, r->lang), NULL),
                &in->total, labels, values, np);
    const char *out = arena_strdup(&r->arena, svg.buf);
    buf_release(&svg);
    return out;
}

const char *instruments_charts_html(struct http_req *r, struct db *db, const char *child_id,
                                    struct err *e)
{
    json_t *hist = instrument_history(db, r->actor, child_id, NULL, e);
    if (!hist) {
        return NULL;
    }
    struct buf out = BUF_INIT;
    for (size_t i = 0; i < instruments_count(); i++) {
        const struct instrument *in = instrument_at(i);
        const char *svg = chart_of(r, in, hist, false, NULL);
        if (!svg) {
            continue;
        }
        buf_adds(&out, "<div class=\"chart-figure\"><h3>");
        html_escape(&out, instrument_name(in, r->lang));
        buf_adds(&out, "</h3>");
        buf_adds(&out, svg);
        buf_adds(&out, "</div>");
    }
    json_decref(hist);
    const char *html = arena_strdup(&r->arena, out.buf);
    buf_release(&out);
    return html;
}

/* ---- the API ---- */

/* GET /api/v1/instruments */
static void api_list(struct http_req *r)
{
    json_t *items = json_array();
    for (size_t i = 0; i < instruments_count(); i++) {
        const struct instrument *in = instrument_at(i);
        json_array_append_new(
            items, json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:i, s:o, s:I, s:s}", "id", in->id,
                             "version", in->version, "name", "ar", in->name_ar, "en",
                             in->name_en, "respondent", in->respondent, "age_min", in->age_min,
                             "age_max", in->age_max < 0 ? json_null() : json_integer(in->age_max),
                             "items", (json_int_t)in->n_items, "name_local",
                             instrument_name(in, r->lang)));
    }
    http_reply_json(r, 200, json_pack("{s:o}", "items", items));
}

/* GET /api/v1/instruments/{id} */
static void api_get(struct http_req *r)
{
    const struct instrument *in = instrument_find(r->params[0]);
    if (!in) {
        struct err e;
        err_set(&e, ERR_NOT_FOUND, "not_found", "id", "no such instrument");
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, instrument_json(in));
}

/* POST /api/v1/cases/{id}/responses: {"instrument", "answers": {item: value or null},
 * "override_reason"} */
static void api_record(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    if (!body) {
        return;
    }
    struct err e;
    err_clear(&e);
    static const char *const fields[] = {"instrument", "answers", "override_reason", NULL};
    const char *inst, *reason;
    struct db *db = NULL;
    char id[40];
    json_t *res = NULL;
    if (json_known_members(body, fields, &e) < 0 ||
        json_str_member(body, "instrument", true, INSTRUMENT_ID_MAX, &inst, &e) < 0 ||
        json_str_member(body, "override_reason", false, 500, &reason, &e) < 0 ||
        !(db = db_or_reply(r)) ||
        instrument_record(db, r->actor, r->params[0], inst, json_object_get(body, "answers"),
                          reason, id, &res, &e) < 0) {
        json_decref(body);
        if (db || err_failed(&e)) {
            http_reply_err(r, &e);
        }
        return;
    }
    json_decref(body);
    http_add_header(r, "Location", arena_printf(&r->arena, "/api/v1/responses/%s", id));
    http_reply_json(r, 201, res);
}

/* GET /api/v1/children/{id}/scores?instrument= */
static void api_scores(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    const char *inst = http_query(r, "instrument");
    if (inst && *inst && !instrument_find(inst)) {
        /* echoed only when it is text: the message travels in JSON */
        err_set(&e, ERR_INVALID, "unknown_instrument", "instrument", "no instrument '%.*s'",
                utf8_valid(inst, strlen(inst)) && strlen(inst) <= INSTRUMENT_ID_MAX
                    ? (int)strlen(inst)
                    : 0,
                inst);
        http_reply_err(r, &e);
        return;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    json_t *h = instrument_history(db, r->actor, r->params[0], inst && *inst ? inst : NULL, &e);
    if (!h) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, json_pack("{s:o}", "items", h));
}

/* GET /api/v1/responses/{id} */
static void api_response(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *j = instrument_response_get(db, r->actor, r->params[0], &e);
    if (!j) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, j);
}

/* ---- pages ---- */

/* What the pages need of a case. */
struct case_info {
    char child_id[40];   /* the case's child */
    char case_no[32];    /* the case's number */
    char name[400];      /* the child's name */
    int age;             /* the child's age in whole years, -1 when unknown */
    bool open;           /* the case is open */
};

/* Reads case id of the actor's organization into ci. Inside a transaction. */
static int case_info_load(struct db *db, const struct actor *a, const char *id,
                          struct case_info *ci, struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT c.child_id, c.case_no, c.status, ch.birth_date,"
                               " ch.first_name, ch.father_name, ch.family_name"
                               " FROM cases c JOIN children ch ON ch.id = c.child_id"
                               " WHERE c.id = $1 AND c.org_id = $2",
                               "tt", id, a->org_id);
    if (!s) {
        return found < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such case");
    }
    snprintf(ci->child_id, sizeof(ci->child_id), "%s", db_col_text(s, 0));
    snprintf(ci->case_no, sizeof(ci->case_no), "%s", db_col_text(s, 1));
    ci->open = strcmp(db_col_text(s, 2), "open") == 0;
    int by, bm, bd, y, m, d;
    ci->age = -1;
    if (db_col_text(s, 3) && time_date_parse(db_col_text(s, 3), &by, &bm, &bd) == 0) {
        time_today(&y, &m, &d);
        ci->age = y - by - ((m < bm || (m == bm && d < bd)) ? 1 : 0);
    }
    snprintf(ci->name, sizeof(ci->name), "%s %s %s", db_col_text(s, 4) ? db_col_text(s, 4) : "",
             db_col_text(s, 5) ? db_col_text(s, 5) : "",
             db_col_text(s, 6) ? db_col_text(s, 6) : "");
    db_done(s);
    return 0;
}

/* Adds "respondent_label", "ages" and the source to obj for in. */
static void describe(struct http_req *r, json_t *obj, const struct instrument *in)
{
    json_object_set_new(obj, "id", json_string(in->id));
    json_object_set_new(obj, "name", json_string(instrument_name(in, r->lang)));
    json_object_set_new(obj, "respondent_label",
                        json_string(i18n_get(r->lang, arena_printf(&r->arena, "instr.respondent_%s",
                                                                    in->respondent))));
    json_object_set_new(obj, "ages", json_string(ages_text(r, in)));
    json_object_set_new(obj, "n_items", json_integer((json_int_t)in->n_items));
    json_object_set_new(obj, "citation", json_string(in->citation));
    json_object_set_new(obj, "terms", json_string(in->terms));
    if (in->url) {
        json_object_set_new(obj, "url", json_string(in->url));
    }
}

/* GET /cases/{id}/instruments: the instruments for the child's age, and every
 * instrument's past results with its chart. */
static void page_list(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    struct case_info ci;
    json_t *hist = NULL;
    if (db_begin(db, true, &e) == 0) {
        if (case_info_load(db, r->actor, r->params[0], &ci, &e) == 0) {
            hist = instrument_history(db, r->actor, ci.child_id, NULL, &e);
        }
        db_rollback(db);
    }
    if (!hist) {
        http_reply_err(r, &e);
        return;
    }
    bool answers = actor_can(r->actor, PERM_PSYCH_NOTES);
    json_t *suited = json_array(), *others = json_array();
    for (size_t i = 0; i < instruments_count(); i++) {
        const struct instrument *in = instrument_at(i);
        json_t *o = json_object();
        describe(r, o, in);
        json_object_set_new(o, "new_href", json_string(arena_printf(
                                               &r->arena, "/cases/%s/instruments/%s/new",
                                               r->params[0], in->id)));
        json_t *rows = json_array();
        const char *svg = chart_of(r, in, hist, answers, rows);
        json_object_set_new(o, "results", rows);
        if (svg) {
            json_object_set_new(o, "chart", json_string(svg));
        }
        bool fits = ci.age >= 0 && instrument_age_ok(in, ci.age);
        json_array_append_new(fits ? suited : others, o);
    }
    json_decref(hist);
    json_t *ctx = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:b}", "case_id", r->params[0],
                            "case_no", ci.case_no, "child_id", ci.child_id, "child_name",
                            ci.name, "suited", suited, "others", others, "can_write",
                            ci.open && actor_can(r->actor, PERM_CASES_WRITE));
    if (ci.age >= 0) {
        json_object_set_new(ctx, "age", json_string(arena_printf(&r->arena, "%d", ci.age)));
    }
    page_reply(r, 200, "instruments", "instr.title", ctx);
}

/* Renders the form for in on case case_id. values: the answers typed
 * ({item: "value"}, borrowed, may be NULL); errors: {item: message} (borrowed,
 * may be NULL); error: the message at the top (may be NULL). */
static void form_page(struct http_req *r, int status, const struct instrument *in,
                      const struct case_info *ci, json_t *values, json_t *errors,
                      const char *error, const char *reason)
{
    json_t *ctx = json_object();
    json_t *inst = json_object();
    describe(r, inst, in);
    const char *ins_ar = json_string_value(
        json_object_get(json_object_get(in->doc, "instructions"), "ar"));
    const char *ins_en = json_string_value(
        json_object_get(json_object_get(in->doc, "instructions"), "en"));
    if (ins_ar && ins_en) {
        json_object_set_new(inst, "instructions", json_string(pick(r, ins_ar, ins_en)));
    }
    json_object_set_new(ctx, "inst", inst);
    json_t *items = json_array();
    for (size_t i = 0; i < in->n_items; i++) {
        const struct instrument_item *it = &in->items[i];
        const char *v = json_string_value(json_object_get(values, it->id));
        json_t *choices = json_array();
        for (size_t c = 0; c < in->n_scale; c++) {
            char num[16];
            snprintf(num, sizeof(num), "%d", in->scale[c].value);
            json_array_append_new(
                choices, json_pack("{s:s, s:s, s:b}", "value", num, "label",
                                   pick(r, in->scale[c].label_ar, in->scale[c].label_en),
                                   "checked", v && strcmp(v, num) == 0));
        }
        const char *err = json_string_value(json_object_get(errors, it->id));
        json_t *o = json_pack("{s:s, s:s, s:I, s:o, s:b}", "id", it->id, "text",
                              pick(r, it->text_ar, it->text_en), "n", (json_int_t)i + 1,
                              "choices", choices, "skipped", !v || !*v);
        if (err) {
            json_object_set_new(o, "error", json_string(err));
        }
        json_array_append_new(items, o);
    }
    json_object_set_new(ctx, "items", items);
    json_object_set_new(ctx, "case_id", json_string(r->params[0]));
    json_object_set_new(ctx, "case_no", json_string(ci->case_no));
    json_object_set_new(ctx, "child_name", json_string(ci->name));
    json_object_set_new(ctx, "action", json_string(arena_printf(
                                           &r->arena, "/cases/%s/instruments/%s", r->params[0],
                                           in->id)));
    // NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): err_set returned -1
    bool out = ci->age < 0 || !instrument_age_ok(in, ci->age);
    json_object_set_new(ctx, "out_of_range", json_boolean(out));
    if (out) {
        char age[16];
        snprintf(age, sizeof(age), "%d", ci->age);
        json_object_set_new(ctx, "age_note",
                            json_string(i18n_format(&r->arena, r->lang, "instr.age_note", "ages",
                                                    ages_text(r, in), "age",
                                                    ci->age >= 0 ? age : "?", NULL)));
    }
    if (reason) {
        json_object_set_new(ctx, "override_reason", json_string(reason));
    }
    if (error) {
        json_object_set_new(ctx, "error", json_string(error));
    }
    page_reply(r, status, "instrument_form", "instr.new", ctx);
}

/* Loads the case and the instrument named by the path for the form pages;
 * replies itself and returns NULL on failure. */
static const struct instrument *form_setup(struct http_req *r, struct db *db,
                                           struct case_info *ci)
{
    struct err e;
    err_clear(&e);
    const struct instrument *in = instrument_find(r->params[1]);
    if (!in) {
        err_set(&e, ERR_NOT_FOUND, "not_found", "id", "no such instrument");
        http_reply_err(r, &e);
        return NULL;
    }
    int rc = db_begin(db, true, &e);
    if (rc == 0) {
        rc = case_info_load(db, r->actor, r->params[0], ci, &e);
        db_rollback(db);
    }
    if (rc < 0) {
        http_reply_err(r, &e);
        return NULL;
    }
    return in;
}

/* GET /cases/{id}/instruments/{instrument}/new */
static void page_new(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    struct case_info ci;
    const struct instrument *in = db ? form_setup(r, db, &ci) : NULL;
    if (in) {
        form_page(r, 200, in, &ci, NULL, NULL, NULL, NULL);
    }
}

/* POST /cases/{id}/instruments/{instrument}: one radio group per item
 * ("q_<item>", "" for not answered) and override_reason. */
static void page_record(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    struct case_info ci;
    const struct instrument *in = db ? form_setup(r, db, &ci) : NULL;
    if (!in) {
        return;
    }
    json_t *answers = json_object(), *values = json_object();
    for (size_t i = 0; i < in->n_items; i++) {
        const char *id = in->items[i].id;
        const char *v = http_form(r, arena_printf(&r->arena, "q_%s", id));
        char *end = NULL;
        long n = v && *v ? strtol(v, &end, 10) : 0;
        if (!v || !*v) {
            json_object_set_new(answers, id, json_null());
        } else if (*end || n < -1000 || n > 1000) {
            json_object_set_new(answers, id, json_string(v)); /* refused as not on the scale */
        } else {
            json_object_set_new(answers, id, json_integer(n));
        }
        json_object_set_new(values, id, json_string(v ? v : ""));
    }
    const char *reason = http_form(r, "override_reason");
    struct err e;
    err_clear(&e);
    char rid[40];
    json_t *res = NULL;
    int rc = instrument_record(db, r->actor, r->params[0], in->id, answers,
                               text_blank(reason) ? NULL : reason, rid, &res, &e);
    if (rc == 0) {
        bool crit = json_array_size(json_object_get(res, "critical")) > 0;
        json_decref(res);
        json_decref(answers);
        json_decref(values);
        http_redirect(r, arena_printf(&r->arena, "/cases/%s/instruments?ok=%s#%s", r->params[0],
                                      crit ? "flash.instrument_critical"
                                           : "flash.instrument_recorded",
                                      in->id));
        return;
    }
    if (e.kind != ERR_INVALID) {
        json_decref(answers);
        json_decref(values);
        http_reply_err(r, &e);
        return;
    }
    json_t *errors = json_object();
    const char *msg = page_err_text(r, &e);
    if (strcmp(e.code, "too_many_missing") == 0) {
        /* every unanswered item is marked */
        for (size_t i = 0; i < in->n_items; i++) {
            if (json_is_null(json_object_get(answers, in->items[i].id))) {
                json_object_set_new(errors, in->items[i].id,
                                    json_string(i18n_get(r->lang, "instr.unanswered")));
            }
        }
    } else if (strncmp(e.field, "answers.", 8) == 0) {
        json_object_set_new(errors, e.field + 8, json_string(msg));
    }
    form_page(r, 422, in, &ci, values, errors, msg, reason);
    json_decref(errors);
    json_decref(answers);
    json_decref(values);
}

/* GET /instrument-responses/{id}: one response's answers (psych.notes; audited). */
static void page_response(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *j = instrument_response_get(db, r->actor, r->params[0], &e);
    if (!j) {
        http_reply_err(r, &e);
        return;
    }
    const struct instrument *in =
        instrument_find(json_string_value(json_object_get(j, "instrument")));
    if (!in) {
        json_decref(j);
        err_set(&e, ERR_NOT_FOUND, "not_found", "instrument",
                "the instrument of this response is no longer loaded");
        http_reply_err(r, &e);
        return;
    }
    json_t *scores = json_object_get(j, "scores");
    json_t *answers = json_object_get(j, "answers");
    json_t *crit = json_object_get(scores, "critical");
    json_t *items = json_array();
    for (size_t i = 0; i < in->n_items; i++) {
        const struct instrument_item *it = &in->items[i];
        json_t *a = json_object_get(answers, it->id);
        const char *label = i18n_get(r->lang, "instr.not_answered");
        for (size_t c = 0; json_is_integer(a) && c < in->n_scale; c++) {
            if (in->scale[c].value == json_integer_value(a)) {
                label = pick(r, in->scale[c].label_ar, in->scale[c].label_en);
            }
        }
        bool critical = false;
        size_t k;
        json_t *c;
        json_array_foreach(crit, k, c)
        {
            critical |= strcmp(json_string_value(c), it->id) == 0;
        }
        json_array_append_new(items, json_pack("{s:I, s:s, s:s, s:O, s:b}", "n",
                                               (json_int_t)i + 1, "text",
                                               pick(r, it->text_ar, it->text_en), "answer", label,
                                               "value", a ? a : json_null(), "critical",
                                               critical));
    }
    json_t *subs = json_array();
    for (size_t s = 0; s < in->n_subscales; s++) {
        const struct instrument_scale *sc = &in->subscales[s];
        json_t *got = json_object_get(json_object_get(scores, "subscales"), sc->id);
        const struct instrument_band *b =
            band_by_id(sc, json_string_value(json_object_get(got, "band")));
        json_t *score = json_object_get(got, "score");
        json_array_append_new(subs, json_pack("{s:s, s:s, s:s, s:b}", "name",
                                              pick(r, sc->name_ar, sc->name_en), "score",
                                              score_text(r, score),
                                              "band", b ? pick(r, b->label_ar, b->label_en) : "",
                                              "concern", b && b->concern));
    }
    const struct instrument_band *b =
        band_by_id(&in->total, json_string_value(json_object_get(j, "band")));
    const char *at = json_string_value(json_object_get(j, "administered_at"));
    json_t *ctx = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:o, s:o, s:s}", "name",
                            instrument_name(in, r->lang), "case_id",
                            json_string_value(json_object_get(j, "case_id")), "total",
                            score_text(r, json_object_get(j, "total")), "band",
                            b ? pick(r, b->label_ar, b->label_en) : "", "concern",
                            b && b->concern, "critical",
                            json_is_true(json_object_get(j, "critical")), "prorated",
                            json_is_true(json_object_get(scores, "prorated")), "items", items,
                            "subscales", subs, "date", arena_strndup(&r->arena, at ? at : "", 10));
    json_decref(j);
    page_reply(r, 200, "instrument_response", "instr.response", ctx);
}

static const struct route routes[] = {
    {"GET", "/api/v1/instruments", api_list, ROUTE_API, PERM_CASES_READ},
    {"GET", "/api/v1/instruments/{id}", api_get, ROUTE_API, PERM_CASES_READ},
    {"POST", "/api/v1/cases/{id}/responses", api_record, ROUTE_API, PERM_CASES_WRITE},
    {"GET", "/api/v1/children/{id}/scores", api_scores, ROUTE_API, PERM_CASES_READ},
    {"GET", "/api/v1/responses/{id}", api_response, ROUTE_API, PERM_PSYCH_NOTES},
    {"GET", "/cases/{id}/instruments", page_list, ROUTE_PAGE, PERM_CASES_READ},
    {"GET", "/cases/{id}/instruments/{instrument}/new", page_new, ROUTE_PAGE, PERM_CASES_WRITE},
    {"POST", "/cases/{id}/instruments/{instrument}", page_record, ROUTE_PAGE, PERM_CASES_WRITE},
    {"GET", "/instrument-responses/{id}", page_response, ROUTE_PAGE, PERM_PSYCH_NOTES},
};

void instruments_register(void)
{
    http_routes_add(routes, sizeof(routes) / sizeof(routes[0]));
}
