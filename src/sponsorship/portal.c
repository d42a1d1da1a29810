/*
 * portal.c: the sponsor portal's services (the donor's children through
 * one allowlist, their giving, the consented media), sponsors' letters and
 * their review, progress reports and their e-mail.
 */
#include "sponsorship/portal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "cases/mail.h"
#include "children/children.h"
#include "core/config.h"
#include "core/money.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "sponsorship/sponsors.h"
#include "sponsorship/sponsors_int.h"
#include "web/i18n.h"
#include "core/banned.h"

/* The allowlist: everything a donor may ever see of a child. */
static const struct portal_field allow[] = {
    {"id", PF_ID, false},
    {"first_name", PF_FIRST_NAME, false},
    {"first_name_latin", PF_FIRST_NAME_LATIN, false},
    {"age", PF_AGE, false},
    {"city", PF_CITY, false},
    {"school_year", PF_SCHOOL_YEAR, false},
    {"since", PF_SINCE, false},
    {"status", PF_STATUS, false},
    {"photo_url", PF_PHOTO, true},
    {"note", PF_NOTE, true},
    {"note_en", PF_NOTE_EN, true},
};

const struct portal_field *portal_fields(int *n_out)
{
    *n_out = (int)(sizeof(allow) / sizeof(allow[0]));
    return allow;
}

bool portal_field_allowed(const char *name)
{
    for (size_t i = 0; i < sizeof(allow) / sizeof(allow[0]); i++) {
        if (strcmp(allow[i].name, name) == 0) {
            return true;
        }
    }
    return false;
}

/* Ends a failed transaction and passes on NULL (decref'ing j). */
static json_t *fail_null(struct db *db, json_t *j)
{
    db_rollback(db);
    json_decref(j);
    return NULL;
}

int portal_donor_of(struct db *db, const struct actor *a, char donor_id[40], struct err *e)
{
    /* The sponsors' work owns the link (donors.user_id, an active donor). */
    return donor_for_user(db, a->user_id, donor_id, e);
}

/* The visible agreements' condition on sponsorships s for donor $2 in
 * organization $1, ended ones since $3. */
#define VISIBLE                                                                                    \
    " s.org_id = $1 AND (s.donor_id = $2 OR s.payer_id = $2) AND (s.status IN ('active',"          \
    " 'paused') OR (s.status = 'ended' AND COALESCE(s.end_date, substr(s.updated_at, 1, 10))"      \
    " >= $3))"

/* The donor's children query: one row per child. */
#define CHILD_SQL                                                                                  \
    "SELECT c.id, c.first_name, c.first_name_latin, c.birth_date, c.governorate,"                  \
    " c.school_grade, MIN(s.start_date), MIN(CASE s.status WHEN 'active' THEN 1 WHEN 'paused'"     \
    " THEN 2 ELSE 3 END) FROM sponsorships s JOIN children c ON c.id = s.child_id WHERE" VISIBLE

/* What a child's row holds, in CHILD_SQL's column order. */
enum { C_ID, C_FIRST, C_LATIN, C_BIRTH, C_GOV, C_GRADE, C_SINCE, C_STATUS };

/* True when the child has a live photo (an image of kind photo). */
static bool has_photo(struct db *db, const char *child_id, char doc_id[40])
{
    struct err e;
    err_clear(&e);
    int found;
    struct db_stmt *s = db_row(db, &e, &found,
                               "SELECT id FROM child_documents WHERE child_id = $1 AND kind ="
                               " 'photo' AND deleted_at IS NULL AND content_type LIKE 'image/%'"
                               " ORDER BY uploaded_at DESC, id DESC LIMIT 1",
                               "t", child_id);
    if (!s) {
        return false;
    }
    if (doc_id) {
        snprintf(doc_id, 40, "%s", db_col_text(s, 0));
    }
    db_done(s);
    return true;
}

/* Builds the donor-facing object of the child on row s from the allowlist
 * alone (in the caller's transaction). */
static json_t *child_object(struct db *db, struct db_stmt *s)
{
    const char *id = db_col_text(s, C_ID);
    bool consent = consent_active(db, id, "sponsor_media", NULL);
    char *note = NULL, *note_en = NULL;
    if (consent) {
        struct err e;
        err_clear(&e);
        int found;
        struct db_stmt *n = db_row(db, &e, &found,
                                   "SELECT note, note_en FROM progress_reports WHERE child_id ="
                                   " $1 AND status IN ('approved', 'sent') ORDER BY approved_at"
                                   " DESC, id DESC LIMIT 1",
                                   "t", id);
        if (n) {
            note = db_col_text(n, 0) ? strdup(db_col_text(n, 0)) : NULL;
            note_en = db_col_text(n, 1) ? strdup(db_col_text(n, 1)) : NULL;
            db_done(n);
        }
    }
    json_t *o = json_object();
    for (size_t i = 0; i < sizeof(allow) / sizeof(allow[0]); i++) {
        const struct portal_field *f = &allow[i];
        if (f->needs_consent && !consent) {
            continue;
        }
        json_t *v = NULL;
        switch (f->source) {
        case PF_ID:
            v = json_string(id);
            break;
        case PF_FIRST_NAME:
            v = sp_str_or_null(db_col_text(s, C_FIRST));
            break;
        case PF_FIRST_NAME_LATIN:
            v = sp_str_or_null(db_col_text(s, C_LATIN));
            break;
        case PF_AGE: {
            char now[11];
            sp_today(now);
            int age = sp_age(db_col_text(s, C_BIRTH), now);
            v = age >= 0 ? json_integer(age) : json_null();
            break;
        }
        case PF_CITY: {
            /* The governorate only: a locality can be a camp or a quarter,
             * which is an exact location no donor may see. */
            v = sp_str_or_null(db_col_text(s, C_GOV));
            break;
        }
        case PF_SCHOOL_YEAR:
            v = sp_str_or_null(db_col_text(s, C_GRADE));
            break;
        case PF_SINCE:
            v = sp_str_or_null(db_col_text(s, C_SINCE));
            break;
        case PF_STATUS: {
            int64_t st = db_col_int64(s, C_STATUS);
            v = json_string(st == 1 ? "active" : st == 2 ? "paused" : "ended");
            break;
        }
        case PF_PHOTO:
            if (has_photo(db, id, NULL)) {
                char url[96];
                snprintf(url, sizeof(url), "/portal/children/%s/photo", id);
                v = json_string(url);
            }
            break;
        case PF_NOTE:
            v = note ? json_string(note) : NULL;
            break;
        case PF_NOTE_EN:
            v = note_en ? json_string(note_en) : NULL;
            break;
        }
        if (v) {
            json_object_set_new(o, f->name, v);
        }
    }
    free(note);
    free(note_en);
    return o;
}

/* Checks the permission and finds the donor (in the caller's transaction).
 * Returns 0 or -1 with e (ERR_FORBIDDEN without the permission,
 * ERR_NOT_FOUND "no_donor" for a login without a donor record). */
static int donor_check(struct db *db, const struct actor *a, char donor_id[40], struct err *e)
{
    if (!actor_can(a, PERM_PORTAL) || a->system) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "the sponsor portal is for donors");
    }
    int rc = portal_donor_of(db, a, donor_id, e);
    if (rc == 0) {
        return err_set(e, ERR_NOT_FOUND, "no_donor", NULL, "this login has no donor record");
    }
    return rc < 0 ? -1 : 0;
}

json_t *portal_children(struct db *db, const struct actor *a, struct err *e)
{
    if (db_begin(db, false, e) < 0) {
        return NULL;
    }
    char donor[40], since[11];
    if (donor_check(db, a, donor, e) < 0) {
        return fail_null(db, NULL);
    }
    sp_days_ago(PORTAL_ENDED_VISIBLE_DAYS, since);
    struct db_stmt *s = db_query(db, e, CHILD_SQL " GROUP BY c.id ORDER BY c.first_name, c.id",
                                 "ttt", a->org_id, donor, since);
    if (!s) {
        return fail_null(db, NULL);
    }
    json_t *items = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_array_append_new(items, child_object(db, s));
    }
    db_done(s);
    if (rc < 0 ||
        actor_audit(db, a, "donor.portal.view", "donor", donor, "ok", "children", e) < 0 ||
        db_commit(db, e) < 0) {
        return fail_null(db, items);
    }
    return items;
}

/* Loads the donor's child child_id into a new object (caller's transaction);
 * NULL with ERR_NOT_FOUND when the child is not theirs. */
static json_t *own_child(struct db *db, const struct actor *a, const char *donor,
                         const char *child_id, struct err *e)
{
    char since[11];
    sp_days_ago(PORTAL_ENDED_VISIBLE_DAYS, since);
    int found;
    struct db_stmt *s = db_row(db, e, &found, CHILD_SQL " AND c.id = $4 GROUP BY c.id", "tttt",
                               a->org_id, donor, since, child_id ? child_id : "");
    if (!s) {
        if (found == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such child");
        }
        return NULL;
    }
    json_t *o = child_object(db, s);
    db_done(s);
    return o;
}

json_t *portal_child(struct db *db, const struct actor *a, const char *child_id, struct err *e)
{
    if (db_begin(db, false, e) < 0) {
        return NULL;
    }
    char donor[40];
    if (donor_check(db, a, donor, e) < 0) {
        return fail_null(db, NULL);
    }
    json_t *o = own_child(db, a, donor, child_id, e);
    if (!o) {
        return fail_null(db, NULL);
    }
    bool consent = json_object_get(o, "photo_url") || json_object_get(o, "note") ||
                   consent_active(db, child_id, "sponsor_media", NULL);
    const char *status = json_string_value(json_object_get(o, "status"));
    json_object_set_new(o, "can_write", json_boolean(status && strcmp(status, "ended") != 0));
    struct db_stmt *s = db_query(db, e,
                                 "SELECT id, period, school_results, note, note_en, photo_doc,"
                                 " drawing_doc, approved_at FROM progress_reports WHERE"
                                 " child_id = $1 AND org_id = $2 AND status IN ('approved',"
                                 " 'sent') ORDER BY approved_at DESC, id DESC LIMIT 20",
                                 "tt", child_id, a->org_id);
    if (!s) {
        return fail_null(db, o);
    }
    json_t *reports = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        const char *rid = db_col_text(s, 0);
        json_t *r = json_pack("{s:s, s:s, s:o, s:o}", "id", rid, "period", db_col_text(s, 1),
                              "school_results", sp_str_or_null(db_col_text(s, 2)), "approved_at",
                              sp_str_or_null(db_col_text(s, 7)));
        if (consent) {
            json_object_set_new(r, "note", sp_str_or_null(db_col_text(s, 3)));
            json_object_set_new(r, "note_en", sp_str_or_null(db_col_text(s, 4)));
            if (db_col_text(s, 5)) {
                char url[120];
                snprintf(url, sizeof(url), "/portal/reports/%s/photo", rid);
                json_object_set_new(r, "photo_url", json_string(url));
            }
            if (db_col_text(s, 6)) {
                char url[120];
                snprintf(url, sizeof(url), "/portal/reports/%s/drawing", rid);
                json_object_set_new(r, "drawing_url", json_string(url));
            }
        }
        json_array_append_new(reports, r);
    }
    db_done(s);
    json_object_set_new(o, "reports", reports);
    char detail[64];
    snprintf(detail, sizeof(detail), "child %s", child_id);
    if (rc < 0 || actor_audit(db, a, "donor.portal.child", "donor", donor, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail_null(db, o);
    }
    return o;
}

json_t *portal_giving(struct db *db, const struct actor *a, struct err *e)
{
    if (db_begin(db, false, e) < 0) {
        return NULL;
    }
    char donor[40], since[11];
    if (donor_check(db, a, donor, e) < 0) {
        return fail_null(db, NULL);
    }
    sp_days_ago(PORTAL_ENDED_VISIBLE_DAYS, since);
    int found;
    struct db_stmt *s =
        db_row(db, e, &found, "SELECT donor_no, name FROM donors WHERE id = $1", "t", donor);
    if (!s) {
        return fail_null(db, NULL);
    }
    json_t *o = json_pack("{s:s, s:s}", "donor_no", db_col_text(s, 0), "name", db_col_text(s, 1));
    db_done(s);
    json_t *totals = json_array(), *receipts = json_array(), *agreements = json_array();
    json_object_set_new(o, "totals", totals);
    json_object_set_new(o, "receipts", receipts);
    json_object_set_new(o, "agreements", agreements);
    s = db_query(db, e,
                 "SELECT currency, SUM(amount), COUNT(*) FROM payments WHERE org_id = $1 AND"
                 " donor_id = $2 AND status = 'recorded' GROUP BY currency ORDER BY currency",
                 "tt", a->org_id, donor);
    if (!s) {
        return fail_null(db, o);
    }
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        char txt[48];
        sp_money_text(db_col_int64(s, 1), db_col_text(s, 0), txt, sizeof(txt));
        json_array_append_new(totals,
                              json_pack("{s:s, s:I, s:s, s:I}", "currency", db_col_text(s, 0),
                                        "amount", (json_int_t)db_col_int64(s, 1), "amount_text",
                                        txt, "n_payments", (json_int_t)db_col_int64(s, 2)));
    }
    db_done(s);
    if (rc < 0) {
        return fail_null(db, o);
    }
    s = db_query(db, e,
                 "SELECT id, receipt_no, issued_on, amount, currency, voided_at FROM receipts"
                 " WHERE org_id = $1 AND donor_id = $2 ORDER BY issued_on DESC, receipt_no DESC"
                 " LIMIT 50",
                 "tt", a->org_id, donor);
    if (!s) {
        return fail_null(db, o);
    }
    while ((rc = db_step(s, e)) == 1) {
        char txt[48];
        sp_money_text(db_col_int64(s, 3), db_col_text(s, 4), txt, sizeof(txt));
        json_array_append_new(
            receipts, json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:b}", "id", db_col_text(s, 0),
                                "receipt_no", db_col_text(s, 1), "issued_on", db_col_text(s, 2),
                                "amount", (json_int_t)db_col_int64(s, 3), "amount_text", txt,
                                "currency", db_col_text(s, 4), "voided", !db_col_null(s, 5)));
    }
    db_done(s);
    if (rc < 0) {
        return fail_null(db, o);
    }
    s = db_query(db, e,
                 "SELECT s.agreement_no, c.first_name, s.amount, s.currency, s.frequency,"
                 " s.status, s.start_date, c.first_name_latin FROM sponsorships s JOIN children"
                 " c ON c.id = s.child_id WHERE" VISIBLE " ORDER BY s.start_date, s.agreement_no",
                 "ttt", a->org_id, donor, since);
    if (!s) {
        return fail_null(db, o);
    }
    while ((rc = db_step(s, e)) == 1) {
        char txt[48];
        sp_money_text(db_col_int64(s, 2), db_col_text(s, 3), txt, sizeof(txt));
        json_array_append_new(
            agreements, json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "agreement_no",
                                  db_col_text(s, 0), "child_first_name", db_col_text(s, 1),
                                  "amount", (json_int_t)db_col_int64(s, 2), "amount_text", txt,
                                  "currency", db_col_text(s, 3), "frequency", db_col_text(s, 4),
                                  "status", db_col_text(s, 5), "start_date", db_col_text(s, 6)));
        json_object_set_new(json_array_get(agreements, json_array_size(agreements) - 1),
                            "child_first_name_latin", sp_str_or_null(db_col_text(s, 7)));
    }
    db_done(s);
    if (rc < 0 || actor_audit(db, a, "donor.portal.giving", "donor", donor, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail_null(db, o);
    }
    return o;
}

/* Reads document doc_id's bytes and type into out when it is live and of
 * child child_id (caller's transaction). Returns 0 or -1 (ERR_NOT_FOUND). */
static int open_doc(struct db *db, const char *child_id, const char *doc_id, bool image_only,
                    struct doc_file *out, struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT stored_name, content_type, filename, kind FROM"
                               " child_documents WHERE id = $1 AND child_id = $2 AND"
                               " deleted_at IS NULL AND kind <> 'medical'",
                               "tt", doc_id ? doc_id : "", child_id);
    if (!s) {
        return found < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such file");
    }
    char stored[64];
    snprintf(stored, sizeof(stored), "%s", db_col_text(s, 0));
    snprintf(out->content_type, sizeof(out->content_type), "%s", db_col_text(s, 1));
    snprintf(out->filename, sizeof(out->filename), "%s", db_col_text(s, 2));
    snprintf(out->kind, sizeof(out->kind), "%s", db_col_text(s, 3));
    db_done(s);
    if (image_only && strncmp(out->content_type, "image/", 6) != 0) {
        return err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such file");
    }
    return doc_read_file(g_config.data_dir, stored, &out->data, e);
}

int portal_media(struct db *db, const struct actor *a, enum portal_media_kind kind, const char *id,
                 struct doc_file *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    buf_init(&out->data);
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    char donor[40], child[40] = "", doc[40] = "";
    if (donor_check(db, a, donor, e) < 0) {
        return sp_fail(db);
    }
    if (kind == PM_CHILD_PHOTO) {
        snprintf(child, sizeof(child), "%s", id ? id : "");
    } else {
        int found;
        struct db_stmt *s = db_row(db, e, &found,
                                   "SELECT child_id, photo_doc, drawing_doc FROM"
                                   " progress_reports WHERE id = $1 AND org_id = $2 AND status"
                                   " IN ('approved', 'sent')",
                                   "tt", id ? id : "", a->org_id);
        if (!s) {
            if (found == 0) {
                err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such file");
            }
            return sp_fail(db);
        }
        snprintf(child, sizeof(child), "%s", db_col_text(s, 0));
        const char *d = db_col_text(s, kind == PM_REPORT_PHOTO ? 1 : 2);
        snprintf(doc, sizeof(doc), "%s", d ? d : "");
        db_done(s);
    }
    json_t *o = own_child(db, a, donor, child, e);
    if (!o) {
        return sp_fail(db);
    }
    json_decref(o);
    if (!consent_active(db, child, "sponsor_media", NULL) ||
        (kind == PM_CHILD_PHOTO && !has_photo(db, child, doc)) || !doc[0]) {
        err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such file");
        return sp_fail(db);
    }
    char detail[128];
    snprintf(detail, sizeof(detail), "child %s document %s", child, doc);
    if (open_doc(db, child, doc, kind != PM_REPORT_DRAWING, out, e) < 0 ||
        actor_audit(db, a, "donor.portal.media", "donor", donor, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        buf_release(&out->data);
        return sp_fail(db);
    }
    return 0;
}

int letter_create(struct db *db, const struct actor *a, const char *child_id, const char *body,
                  char id_out[40], struct err *e)
{
    if (!child_id || !*child_id) {
        return err_set(e, ERR_INVALID, "required", "child_id", "'child_id' is required");
    }
    if (sp_check_text(body, "body", PORTAL_LETTER_MAX, true, true, e) < 0) {
        return -1;
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    char donor[40];
    if (donor_check(db, a, donor, e) < 0) {
        return sp_fail(db);
    }
    json_t *o = own_child(db, a, donor, child_id, e);
    if (!o) {
        if (e->kind == ERR_NOT_FOUND) {
            err_set(e, ERR_INVALID, "invalid_choice", "child_id",
                    "'child_id' is not one of your children");
        }
        return sp_fail(db);
    }
    const char *status = json_string_value(json_object_get(o, "status"));
    bool ended = !status || strcmp(status, "ended") == 0;
    json_decref(o);
    if (ended) {
        err_set(e, ERR_INVALID, "sponsorship_ended", "child_id",
                "the sponsorship of this child has ended");
        return sp_fail(db);
    }
    char at[32], detail[64];
    uuid_v7(id_out);
    time_format_iso(time_now_ms(), at, sizeof(at));
    snprintf(detail, sizeof(detail), "letter %s child %s", id_out, child_id);
    if (db_run(db, e,
               "INSERT INTO sponsor_letters (id, org_id, donor_id, child_id, body, status,"
               " created_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6)",
               "tttttt", id_out, a->org_id, donor, child_id, body, at) < 0 ||
        actor_audit(db, a, "donor.letter.create", "donor", donor, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        return sp_fail(db);
    }
    return 0;
}

json_t *letter_list_own(struct db *db, const struct actor *a, struct err *e)
{
    if (db_begin(db, false, e) < 0) {
        return NULL;
    }
    char donor[40];
    if (donor_check(db, a, donor, e) < 0) {
        return fail_null(db, NULL);
    }
    struct db_stmt *s = db_query(db, e,
                                 "SELECT l.id, l.child_id, c.first_name, l.body, l.status,"
                                 " l.review_note, l.created_at, l.reviewed_at FROM"
                                 " sponsor_letters l JOIN children c ON c.id = l.child_id WHERE"
                                 " l.donor_id = $1 AND l.org_id = $2 ORDER BY l.created_at DESC,"
                                 " l.id DESC LIMIT 200",
                                 "tt", donor, a->org_id);
    if (!s) {
        return fail_null(db, NULL);
    }
    json_t *items = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        const char *status = db_col_text(s, 4);
        json_array_append_new(
            items, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o}", "id", db_col_text(s, 0),
                             "child_id", db_col_text(s, 1), "child_first_name", db_col_text(s, 2),
                             "body", db_col_text(s, 3), "status", status, "review_note",
                             strcmp(status, "rejected") == 0 ? sp_str_or_null(db_col_text(s, 5))
                                                             : json_null(),
                             "created_at", db_col_text(s, 6), "reviewed_at",
                             sp_str_or_null(db_col_text(s, 7))));
    }
    db_done(s);
    if (rc < 0 || actor_audit(db, a, "donor.portal.letters", "donor", donor, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail_null(db, items);
    }
    return items;
}

json_t *letter_list(struct db *db, const struct actor *a, const char *status, struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_READ)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to read letters"), NULL;
    }
    if (status && *status && !text_word_in(LETTER_STATUSES, status)) {
        return err_set(e, ERR_INVALID, "invalid_choice", "status", "'status' is not a status"),
               NULL;
    }
    if (db_begin(db, false, e) < 0) {
        return NULL;
    }
    struct db_stmt *s = db_query(
        db, e,
        "SELECT l.id, l.donor_id, d.donor_no, d.name, l.child_id, c.first_name, c.file_no,"
        " l.body, l.status, l.review_note, l.reviewed_at, l.created_at FROM sponsor_letters l"
        " JOIN donors d ON d.id = l.donor_id JOIN children c ON c.id = l.child_id WHERE"
        " l.org_id = $1 AND ($2 = '' OR l.status = $2) ORDER BY CASE l.status WHEN 'pending'"
        " THEN 0 WHEN 'approved' THEN 1 ELSE 2 END, l.created_at DESC, l.id LIMIT 500",
        "tt", a->org_id, status ? status : "");
    if (!s) {
        return fail_null(db, NULL);
    }
    json_t *items = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_array_append_new(
            items,
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s}", "id",
                      db_col_text(s, 0), "donor_id", db_col_text(s, 1), "donor_no",
                      db_col_text(s, 2), "donor_name", db_col_text(s, 3), "child_id",
                      db_col_text(s, 4), "child_first_name", db_col_text(s, 5), "file_no",
                      db_col_text(s, 6), "body", db_col_text(s, 7), "status", db_col_text(s, 8),
                      "review_note", sp_str_or_null(db_col_text(s, 9)), "reviewed_at",
                      sp_str_or_null(db_col_text(s, 10)), "created_at", db_col_text(s, 11)));
    }
    db_done(s);
    char detail[64];
    snprintf(detail, sizeof(detail), "status=%s", status && *status ? status : "all");
    if (rc < 0 || actor_audit(db, a, "letter.list", "letter", NULL, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail_null(db, items);
    }
    return items;
}

int letter_review(struct db *db, const struct actor *a, const char *id, const char *action,
                  const char *note, struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to review letters");
    }
    const char *from, *to;
    if (action && strcmp(action, "approve") == 0) {
        from = "pending";
        to = "approved";
    } else if (action && strcmp(action, "reject") == 0) {
        from = "pending";
        to = "rejected";
        if (sp_check_text(note, "note", 500, true, true, e) < 0) {
            return -1;
        }
    } else if (action && strcmp(action, "deliver") == 0) {
        from = "approved";
        to = "delivered";
    } else {
        return err_set(e, ERR_INVALID, "invalid_choice", "action",
                       "'action' must be approve, reject or deliver");
    }
    if (note && sp_check_text(note, "note", 500, false, true, e) < 0) {
        return -1;
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT status, child_id FROM sponsor_letters WHERE id = $1 AND"
                               " org_id = $2",
                               "tt", id ? id : "", a->org_id);
    if (!s) {
        if (found == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such letter");
        }
        return sp_fail(db);
    }
    bool ok = strcmp(db_col_text(s, 0), from) == 0;
    char child[40];
    snprintf(child, sizeof(child), "%s", db_col_text(s, 1));
    db_done(s);
    if (!ok) {
        err_set(e, ERR_CONFLICT, "invalid_transition", "action", "the letter is not %s", from);
        return sp_fail(db);
    }
    char at[32], action_name[32], detail[96];
    time_format_iso(time_now_ms(), at, sizeof(at));
    snprintf(action_name, sizeof(action_name), "letter.%s", action);
    snprintf(detail, sizeof(detail), "letter %s child %s", id, child);
    bool keep_note = strcmp(action, "deliver") == 0;
    /* Conditional on the status read above: of two reviewers deciding at
     * once, the second changes nothing and is told so. */
    int64_t n = db_run(db, e,
                       "UPDATE sponsor_letters SET status = $1, review_note = CASE WHEN $2 = 1 THEN"
                       " review_note ELSE $3 END, reviewed_by = $4, reviewed_at = $5 WHERE id = $6"
                       " AND org_id = $7 AND status = $8",
                       "titttttt", to, (int64_t)keep_note, note && !text_blank(note) ? note : NULL,
                       sp_who(a), at, id, a->org_id, from);
    if (n == 0) {
        err_set(e, ERR_CONFLICT, "invalid_transition", "action", "the letter is not %s", from);
        return sp_fail(db);
    }
    if (n < 0 || actor_audit(db, a, action_name, "letter", id, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        return sp_fail(db);
    }
    return 0;
}

bool report_period_valid(const char *p)
{
    if (!p || strlen(p) != 7 || p[4] != '-') {
        return false;
    }
    for (int i = 0; i < 4; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return false;
        }
    }
    int year = atoi(p);
    if (year < 2000 || year > 2100) {
        return false;
    }
    if (p[5] == 'H') {
        return p[6] == '1' || p[6] == '2';
    }
    if (p[5] < '0' || p[5] > '1' || p[6] < '0' || p[6] > '9') {
        return false;
    }
    int m = (p[5] - '0') * 10 + (p[6] - '0');
    return m >= 1 && m <= 12;
}

/* Checks a chosen document of child (caller's transaction): live, of the
 * child, not medical, and for the photo an image of kind photo. Returns 0
 * or -1 with e naming field. */
static int check_doc(struct db *db, const char *child, const char *doc, const char *field,
                     struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT kind, content_type FROM child_documents WHERE id = $1"
                               " AND child_id = $2 AND deleted_at IS NULL",
                               "tt", doc, child);
    if (!s) {
        return found < 0 ? -1
                         : err_set(e, ERR_INVALID, "invalid_choice", field,
                                   "'%s' is not a document of this child", field);
    }
    bool medical = strcmp(db_col_text(s, 0), "medical") == 0;
    bool photo_ok =
        strcmp(db_col_text(s, 0), "photo") == 0 && strncmp(db_col_text(s, 1), "image/", 6) == 0;
    db_done(s);
    if (medical || (strcmp(field, "photo_doc") == 0 && !photo_ok)) {
        return err_set(e, ERR_INVALID, "invalid_choice", field,
                       "'%s' must be a photo of this child", field);
    }
    return 0;
}

/* A string member of input, or NULL (with *bad when it is another type). */
static const char *member(json_t *input, const char *key, bool *bad)
{
    json_t *v = json_object_get(input, key);
    if (!v || json_is_null(v)) {
        return NULL;
    }
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
        *bad = true;
        return NULL;
    }
    const char *s = json_string_value(v);
    return text_blank(s) ? NULL : s;
}

/* Adds an "unknown_field" problem ("'key' why") to errors for every member
 * of input not named in known (NULL-ended). */
static void report_unknown(json_t *input, const char *const *known, const char *why, json_t *errors)
{
    const char *key;
    json_t *val;
    json_object_foreach(input, key, val)
    {
        bool ok = false;
        for (int i = 0; known[i]; i++) {
            ok = ok || strcmp(known[i], key) == 0;
        }
        if (!ok) {
            struct err u;
            err_clear(&u);
            err_set(&u, ERR_INVALID, "unknown_field", key, "'%s' %s", key, why);
            sp_problem_msg(errors, u.field, u.code, u.msg);
        }
    }
}

/* Checks a report's texts (the note is required), adding a problem to
 * errors for each that is not fine. */
static void report_texts(const char *note, const char *note_en, const char *results, json_t *errors)
{
    static const struct {
        const char *field; /* the member */
        size_t max;        /* most characters */
        bool required;     /* refused when absent or blank */
    } spec[] = {{"note", 2000, true}, {"note_en", 2000, false}, {"school_results", 1000, false}};
    const char *v[] = {note, note_en, results};
    for (int i = 0; i < 3; i++) {
        struct err u;
        err_clear(&u);
        if (sp_check_text(v[i], spec[i].field, spec[i].max, spec[i].required, true, &u) < 0) {
            sp_problem_msg(errors, u.field, u.code, u.msg);
        }
    }
}

int report_create(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                  json_t **errors_out, struct err *e)
{
    *errors_out = NULL;
    if (!actor_can(a, PERM_SPONSOR_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to make reports");
    }
    if (!json_is_object(input)) {
        return err_set(e, ERR_INVALID, "not_an_object", NULL, "the report must be an object");
    }
    static const char *const known[] = {"child_id",       "period",    "note",        "note_en",
                                        "school_results", "photo_doc", "drawing_doc", NULL};
    json_t *errors = json_array();
    report_unknown(input, known, "is not a field", errors);
    const char *v[7] = {NULL};
    for (int i = 0; known[i]; i++) {
        bool bad = false;
        v[i] = member(input, known[i], &bad);
        if (bad) {
            struct err u;
            err_clear(&u);
            err_set(&u, ERR_INVALID, "invalid_type", known[i], "'%s' must be a string", known[i]);
            sp_problem_msg(errors, u.field, u.code, u.msg);
        }
    }
    const char *child = v[0], *period = v[1], *note = v[2], *note_en = v[3], *results = v[4];
    const char *photo = v[5], *drawing = v[6];
    struct err u;
    err_clear(&u);
    if (!child) {
        err_set(&u, ERR_INVALID, "required", "child_id", "'child_id' is required");
        sp_problem_msg(errors, u.field, u.code, u.msg);
    }
    err_clear(&u);
    if (!period) {
        err_set(&u, ERR_INVALID, "required", "period", "'period' is required");
        sp_problem_msg(errors, u.field, u.code, u.msg);
    } else if (!report_period_valid(period)) {
        err_set(&u, ERR_INVALID, "invalid_period", "period",
                "'period' must be YYYY-MM or YYYY-H1/H2");
        sp_problem_msg(errors, u.field, u.code, u.msg);
    }
    report_texts(note, note_en, results, errors);
    if (db_begin(db, false, e) < 0) {
        json_decref(errors);
        return -1;
    }
    if (child) {
        int found;
        struct db_stmt *s =
            db_row(db, e, &found, "SELECT id FROM children WHERE id = $1 AND org_id = $2", "tt",
                   child, a->org_id);
        if (!s && found < 0) {
            json_decref(errors);
            return sp_fail(db);
        }
        if (s) {
            db_done(s);
            for (int i = 0; i < 2; i++) {
                const char *doc = i == 0 ? photo : drawing;
                err_clear(&u);
                if (doc &&
                    check_doc(db, child, doc, i == 0 ? "photo_doc" : "drawing_doc", &u) < 0) {
                    sp_problem_msg(errors, u.field, u.code, u.msg);
                }
            }
        } else {
            err_clear(&u);
            err_set(&u, ERR_INVALID, "invalid_choice", "child_id", "'child_id' is not a child");
            sp_problem_msg(errors, u.field, u.code, u.msg);
        }
    }
    if (json_array_size(errors) > 0) {
        db_rollback(db);
        *errors_out = errors;
        return err_set(e, ERR_INVALID, "validation_failed", NULL, "the report has problems");
    }
    json_decref(errors);
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT id FROM progress_reports WHERE child_id = $1 AND period ="
                               " $2",
                               "tt", child, period);
    if (s) {
        db_done(s);
        err_set(e, ERR_CONFLICT, "duplicate_period", "period",
                "this child already has a report for '%s'", period);
        return sp_fail(db);
    }
    if (found < 0) {
        return sp_fail(db);
    }
    char at[32], detail[96];
    uuid_v7(id_out);
    time_format_iso(time_now_ms(), at, sizeof(at));
    snprintf(detail, sizeof(detail), "child %s period %s", child, period);
    if (db_run(db, e,
               "INSERT INTO progress_reports (id, org_id, child_id, period, note, note_en,"
               " school_results, photo_doc, drawing_doc, status, created_by, created_at) VALUES"
               " ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'draft', $10, $11)",
               "ttttttttttt", id_out, a->org_id, child, period, note, note_en, results, photo,
               drawing, sp_who(a), at) < 0 ||
        actor_audit(db, a, "report.create", "progress_report", id_out, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        return sp_fail(db);
    }
    return 0;
}

int report_update(struct db *db, const struct actor *a, const char *id, json_t *input,
                  json_t **errors_out, struct err *e)
{
    *errors_out = NULL;
    if (!actor_can(a, PERM_SPONSOR_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to change reports");
    }
    if (!json_is_object(input)) {
        return err_set(e, ERR_INVALID, "not_an_object", NULL, "the report must be an object");
    }
    /* Columns 1..5 of the SELECT below, in this order. */
    static const char *const known[] = {"note",      "note_en",     "school_results",
                                        "photo_doc", "drawing_doc", NULL};
    json_t *errors = json_array();
    report_unknown(input, known, "cannot be changed", errors);
    if (db_begin(db, false, e) < 0) {
        json_decref(errors);
        return -1;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT child_id, note, note_en, school_results, photo_doc,"
                               " drawing_doc, status FROM progress_reports WHERE id = $1 AND"
                               " org_id = $2",
                               "tt", id ? id : "", a->org_id);
    if (!s) {
        if (found == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such report");
        }
        json_decref(errors);
        return sp_fail(db);
    }
    char child[40];
    snprintf(child, sizeof(child), "%s", db_col_text(s, 0));
    bool draft = strcmp(db_col_text(s, 6), "draft") == 0;
    char *v[5];
    for (int i = 0; i < 5; i++) {
        json_t *m = json_object_get(input, known[i]);
        bool bad = false;
        const char *given = m ? member(input, known[i], &bad) : db_col_text(s, i + 1);
        v[i] = given ? strdup(given) : NULL;
        if (bad) {
            struct err u;
            err_clear(&u);
            err_set(&u, ERR_INVALID, "invalid_type", known[i], "'%s' must be a string", known[i]);
            sp_problem_msg(errors, u.field, u.code, u.msg);
        }
    }
    db_done(s);
    int rc = -1;
    struct err u;
    if (!draft) {
        err_set(e, ERR_CONFLICT, "invalid_transition", "status", "only a draft can be changed");
        goto out;
    }
    report_texts(v[0], v[1], v[2], errors);
    for (int i = 3; i < 5; i++) {
        err_clear(&u);
        if (v[i] && check_doc(db, child, v[i], known[i], &u) < 0) {
            sp_problem_msg(errors, u.field, u.code, u.msg);
        }
    }
    if (json_array_size(errors) > 0) {
        *errors_out = errors;
        errors = NULL;
        err_set(e, ERR_INVALID, "validation_failed", NULL, "the report has problems");
        goto out;
    }
    if (db_run(db, e,
               "UPDATE progress_reports SET note = $1, note_en = $2, school_results = $3,"
               " photo_doc = $4, drawing_doc = $5 WHERE id = $6 AND org_id = $7",
               "ttttttt", v[0], v[1], v[2], v[3], v[4], id, a->org_id) < 0 ||
        actor_audit(db, a, "report.update", "progress_report", id, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        goto out;
    }
    rc = 0;
out:
    if (rc < 0) {
        db_rollback(db);
    }
    json_decref(errors);
    for (int i = 0; i < 5; i++) {
        free(v[i]);
    }
    return rc;
}

/* The sponsors of child who may receive a report: an active or paused
 * agreement, an e-mail address and contact consent (caller's transaction).
 * [{donor_id, donor_no, name, email, lang}]; NULL with e. */
static json_t *recipients(struct db *db, const char *org, const char *child, struct err *e)
{
    struct db_stmt *s = db_query(db, e,
                                 "SELECT DISTINCT d.id, d.donor_no, d.name, d.email,"
                                 " d.preferred_lang FROM sponsorships s JOIN donors d ON d.id ="
                                 " s.donor_id WHERE s.org_id = $1 AND s.child_id = $2 AND"
                                 " s.status IN ('active', 'paused') AND d.contact_consent = 1"
                                 " AND d.email IS NOT NULL AND d.email <> '' ORDER BY"
                                 " d.donor_no",
                                 "tt", org, child);
    if (!s) {
        return NULL;
    }
    json_t *arr = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:s, s:s, s:s}", "donor_id", db_col_text(s, 0),
                                        "donor_no", db_col_text(s, 1), "name", db_col_text(s, 2),
                                        "email", db_col_text(s, 3), "lang", db_col_text(s, 4)));
    }
    db_done(s);
    if (rc < 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

json_t *report_get(struct db *db, const struct actor *a, const char *id, struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_READ)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to read reports"), NULL;
    }
    if (db_begin(db, true, e) < 0) {
        return NULL;
    }
    int found;
    struct db_stmt *s = db_row(
        db, e, &found,
        "SELECT r.id, r.child_id, c.first_name, c.file_no, r.period, r.note, r.note_en,"
        " r.school_results, r.photo_doc, r.drawing_doc, r.status, r.created_at, r.approved_at,"
        " c.first_name_latin FROM progress_reports r JOIN children c ON c.id = r.child_id WHERE"
        " r.id = $1 AND r.org_id = $2",
        "tt", id ? id : "", a->org_id);
    if (!s) {
        if (found == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such report");
        }
        return fail_null(db, NULL);
    }
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:s, s:s, s:o, s:o}", "id",
        db_col_text(s, 0), "child_id", db_col_text(s, 1), "child_first_name", db_col_text(s, 2),
        "child_file_no", db_col_text(s, 3), "period", db_col_text(s, 4), "note", db_col_text(s, 5),
        "note_en", sp_str_or_null(db_col_text(s, 6)), "school_results",
        sp_str_or_null(db_col_text(s, 7)), "photo_doc", sp_str_or_null(db_col_text(s, 8)),
        "drawing_doc", sp_str_or_null(db_col_text(s, 9)), "status", db_col_text(s, 10),
        "created_at", db_col_text(s, 11), "approved_at", sp_str_or_null(db_col_text(s, 12)),
        "child_first_name_latin", sp_str_or_null(db_col_text(s, 13)));
    db_done(s);
    s = db_query(db, e,
                 "SELECT d.donor_no, d.name, p.sent_at FROM progress_report_sends p JOIN donors d"
                 " ON d.id = p.donor_id WHERE p.report_id = $1 ORDER BY p.sent_at, d.donor_no",
                 "t", id);
    if (!s) {
        return fail_null(db, o);
    }
    json_t *sends = json_array();
    json_object_set_new(o, "sends", sends);
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_array_append_new(sends,
                              json_pack("{s:s, s:s, s:s}", "donor_no", db_col_text(s, 0), "name",
                                        db_col_text(s, 1), "sent_at", db_col_text(s, 2)));
    }
    db_done(s);
    json_t *rcpt =
        rc < 0 ? NULL
               : recipients(db, a->org_id, json_string_value(json_object_get(o, "child_id")), e);
    if (!rcpt) {
        return fail_null(db, o);
    }
    json_object_set_new(o, "recipients", rcpt);
    db_rollback(db);
    return o;
}

json_t *report_list(struct db *db, const struct actor *a, const char *child_id, struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_READ)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to read reports"), NULL;
    }
    if (db_begin(db, true, e) < 0) {
        return NULL;
    }
    struct db_stmt *s = db_query(db, e,
                                 "SELECT r.id, r.child_id, c.first_name, c.file_no, r.period,"
                                 " r.status, r.created_at FROM progress_reports r JOIN children"
                                 " c ON c.id = r.child_id WHERE r.org_id = $1 AND ($2 = '' OR"
                                 " r.child_id = $2) ORDER BY r.created_at DESC, r.id DESC LIMIT"
                                 " 500",
                                 "tt", a->org_id, child_id ? child_id : "");
    if (!s) {
        return fail_null(db, NULL);
    }
    json_t *items = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_array_append_new(
            items, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", db_col_text(s, 0),
                             "child_id", db_col_text(s, 1), "child_first_name", db_col_text(s, 2),
                             "file_no", db_col_text(s, 3), "period", db_col_text(s, 4), "status",
                             db_col_text(s, 5), "created_at", db_col_text(s, 6)));
    }
    db_done(s);
    db_rollback(db);
    if (rc < 0) {
        json_decref(items);
        return NULL;
    }
    return items;
}

json_t *report_due(struct db *db, const struct actor *a, struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_READ)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to read reports"), NULL;
    }
    if (db_begin(db, true, e) < 0) {
        return NULL;
    }
    int found, every = 6;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT report_every_months FROM sponsorship_settings WHERE"
                               " org_id = $1",
                               "t", a->org_id);
    if (s) {
        every = (int)db_col_int64(s, 0);
        db_done(s);
    } else if (found < 0) {
        return fail_null(db, NULL);
    }
    if (every < 1 || every > 24) {
        every = 6;
    }
    char cutoff[11];
    sp_days_ago(every * 365 / 12, cutoff);
    s = db_query(db, e,
                 "SELECT c.id, c.first_name, c.file_no, (SELECT r.period FROM progress_reports r"
                 " WHERE r.child_id = c.id ORDER BY r.created_at DESC, r.id DESC LIMIT 1),"
                 " (SELECT MAX(r.created_at) FROM progress_reports r WHERE r.child_id = c.id)"
                 " FROM children c WHERE c.org_id = $1 AND EXISTS (SELECT 1 FROM sponsorships s"
                 " WHERE s.child_id = c.id AND s.status = 'active') AND NOT EXISTS (SELECT 1"
                 " FROM progress_reports r WHERE r.child_id = c.id AND r.created_at >= $2)"
                 " ORDER BY c.first_name, c.id LIMIT 500",
                 "tt", a->org_id, cutoff);
    if (!s) {
        return fail_null(db, NULL);
    }
    json_t *items = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:o, s:o}", "child_id",
                                               db_col_text(s, 0), "child_first_name",
                                               db_col_text(s, 1), "file_no", db_col_text(s, 2),
                                               "last_period", sp_str_or_null(db_col_text(s, 3)),
                                               "last_at", sp_str_or_null(db_col_text(s, 4))));
    }
    db_done(s);
    db_rollback(db);
    if (rc < 0) {
        json_decref(items);
        return NULL;
    }
    return items;
}

int report_approve(struct db *db, const struct actor *a, const char *id, struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to approve reports");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT status FROM progress_reports WHERE id = $1 AND org_id ="
                               " $2",
                               "tt", id ? id : "", a->org_id);
    if (!s) {
        if (found == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such report");
        }
        return sp_fail(db);
    }
    bool draft = strcmp(db_col_text(s, 0), "draft") == 0;
    db_done(s);
    if (!draft) {
        err_set(e, ERR_CONFLICT, "invalid_transition", "status", "the report is not a draft");
        return sp_fail(db);
    }
    char at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (db_run(db, e,
               "UPDATE progress_reports SET status = 'approved', approved_by = $1, approved_at ="
               " $2 WHERE id = $3 AND org_id = $4",
               "tttt", sp_who(a), at, id, a->org_id) < 0 ||
        actor_audit(db, a, "report.approve", "progress_report", id, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        return sp_fail(db);
    }
    return 0;
}

/* Records that donor received report id and audits it; the report becomes
 * "sent". Its own transaction. */
static int record_send(struct db *db, const struct actor *a, const char *id, const char *donor,
                       struct err *e)
{
    char at[32], detail[96];
    time_format_iso(time_now_ms(), at, sizeof(at));
    snprintf(detail, sizeof(detail), "donor %s", donor);
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    if (db_run(db, e,
               "INSERT INTO progress_report_sends (report_id, donor_id, sent_at, channel) VALUES"
               " ($1, $2, $3, 'email')",
               "ttt", id, donor, at) < 0 ||
        db_run(db, e, "UPDATE progress_reports SET status = 'sent' WHERE id = $1 AND org_id = $2",
               "tt", id, a->org_id) < 0 ||
        actor_audit(db, a, "report.send", "progress_report", id, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        return sp_fail(db);
    }
    return 0;
}

int report_send(struct db *db, const struct actor *a, const char *id, report_render_fn render,
                struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to send reports");
    }
    if (!g_config.smtp_url || !*g_config.smtp_url) {
        return err_set(e, ERR_INVALID, "not_configured", "smtp_url",
                       "no mail server is configured ('smtp_url')");
    }
    if (db_begin(db, true, e) < 0) {
        return -1;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT r.status, r.child_id, r.period, c.first_name, o.name,"
                               " (SELECT mail_from FROM sponsorship_settings WHERE org_id ="
                               " r.org_id) FROM progress_reports r JOIN children c ON c.id ="
                               " r.child_id JOIN organizations o ON o.id = r.org_id WHERE r.id ="
                               " $1 AND r.org_id = $2",
                               "tt", id ? id : "", a->org_id);
    if (!s) {
        if (found == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such report");
        }
        return sp_fail(db);
    }
    bool draft = strcmp(db_col_text(s, 0), "draft") == 0;
    char child[40], period[16], first[256], org_name[256], from[256];
    snprintf(child, sizeof(child), "%s", db_col_text(s, 1));
    snprintf(period, sizeof(period), "%s", db_col_text(s, 2));
    snprintf(first, sizeof(first), "%s", db_col_text(s, 3));
    snprintf(org_name, sizeof(org_name), "%s", db_col_text(s, 4));
    const char *mf = db_col_text(s, 5);
    snprintf(from, sizeof(from), "%s",
             mf && *mf            ? mf
             : g_config.smtp_from ? g_config.smtp_from
                                  : "sanad@localhost");
    db_done(s);
    if (draft) {
        err_set(e, ERR_CONFLICT, "invalid_transition", "status",
                "the report must be approved before it is sent");
        return sp_fail(db);
    }
    json_t *rcpt = recipients(db, a->org_id, child, e);
    if (!rcpt) {
        return sp_fail(db);
    }
    /* Leave out whoever already has it. */
    json_t *todo = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(rcpt, i, r)
    {
        struct db_stmt *q = db_row(db, e, &found,
                                   "SELECT 1 FROM progress_report_sends WHERE report_id = $1 AND"
                                   " donor_id = $2",
                                   "tt", id, json_string_value(json_object_get(r, "donor_id")));
        if (q) {
            db_done(q);
        } else if (found < 0) {
            json_decref(rcpt);
            json_decref(todo);
            return sp_fail(db);
        } else {
            json_array_append(todo, r);
        }
    }
    json_decref(rcpt);
    db_rollback(db);
    if (json_array_size(todo) == 0) {
        json_decref(todo);
        return 0;
    }
    struct buf att_data = BUF_INIT;
    char filename[128] = "", ctype[64] = "";
    if (render(db, a, id, &att_data, filename, ctype, e) < 0) {
        json_decref(todo);
        buf_release(&att_data);
        return -1;
    }
    struct mail_attachment att = {filename, ctype, (const unsigned char *)att_data.buf,
                                  att_data.len};
    struct mail_server srv = {g_config.smtp_url, g_config.smtp_user, g_config.smtp_password};
    int sent = 0, rc = 0;
    json_array_foreach(todo, i, r)
    {
        const char *lang = json_string_value(json_object_get(r, "lang"));
        if (!i18n_lang_valid(lang)) {
            lang = "ar";
        }
        struct arena ar;
        arena_init(&ar);
        const char *subject = i18n_format(&ar, lang, "pt.mail.subject", "name", first, "period",
                                          period, "org", org_name, NULL);
        char *body = i18n_format(&ar, lang, "pt.mail.body", "donor",
                                 json_string_value(json_object_get(r, "name")), "name", first,
                                 "period", period, "org", org_name, NULL);
        /* A catalog text is one line: "\n" in it stands for a line break. */
        char *w = body;
        for (const char *p = body; *p; p++) {
            if (p[0] == '\\' && p[1] == 'n') {
                *w++ = '\n';
                p++;
            } else {
                *w++ = *p;
            }
        }
        *w = '\0';
        struct mail_msg m = {from,    org_name, json_string_value(json_object_get(r, "email")),
                             subject, body,     0};
        struct buf text = BUF_INIT;
        struct err me;
        err_clear(&me);
        if (mail_build_attached(&m, &att, 1, &text, &me) < 0 ||
            mail_send(&srv, from, m.to, text.buf, text.len, &me) < 0) {
            if (rc == 0) {
                *e = me;
                rc = -1;
            }
        } else if (record_send(db, a, id, json_string_value(json_object_get(r, "donor_id")), e) <
                   0) {
            rc = -1;
        } else {
            sent++;
        }
        buf_release(&text);
        arena_release(&ar);
        if (rc < 0 && e->kind != ERR_UNAVAILABLE && e->kind != ERR_INVALID) {
            break;
        }
    }
    buf_release(&att_data);
    json_decref(todo);
    return rc < 0 ? -1 : sent;
}
