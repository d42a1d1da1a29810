/*
 * portal.h: the sponsor portal (what a donor sees of the children they
 * sponsor, their giving and their letters), the review of sponsors' letters
 * by staff, and the periodic progress reports made per child for its
 * sponsors, with their e-mail.
 *
 * A donor (role donor, permission portal.donor) is linked to one donor
 * record by donors.user_id. They see the children of their own agreements
 * (as sponsor or payer) that are active or paused, or ended less than
 * PORTAL_ENDED_VISIBLE_DAYS ago, and of each child only the members of the
 * one allowlist (portal_fields): never health, psychosocial, case, exact
 * location, guardian or family details. Photos and progress notes only when
 * the child's sponsor_media consent is live. Every portal view is audited
 * (donor.portal.*), and so is every letter and report action.
 *
 * All functions open their own transactions on db unless they say
 * otherwise. JSON results are new references the caller decrefs.
 */
#ifndef SANAD_SPONSORSHIP_PORTAL_H
#define SANAD_SPONSORSHIP_PORTAL_H

#include <jansson.h>
#include <stdbool.h>

#include "auth/auth.h"
#include "children/documents.h"
#include "core/buf.h"
#include "core/err.h"
#include "db/db.h"

/* Days after its end during which an ended agreement's child stays visible. */
#define PORTAL_ENDED_VISIBLE_DAYS 365
/* Longest letter a donor may write, in characters. */
#define PORTAL_LETTER_MAX 2000
/* Statuses of a sponsor's letter. */
#define LETTER_STATUSES " pending approved rejected delivered "
/* Statuses of a progress report. */
#define REPORT_STATUSES " draft approved sent "

/* How a member of a donor-facing child is derived. */
enum portal_source {
    PF_ID,               /* the child's id (the portal's own link) */
    PF_FIRST_NAME,       /* first name (Arabic script) */
    PF_FIRST_NAME_LATIN, /* first name in Latin letters, when recorded */
    PF_AGE,              /* whole years from birth_date, today */
    PF_CITY,             /* governorate, else locality: never finer */
    PF_SCHOOL_YEAR,      /* school_grade */
    PF_SINCE,            /* the start of the donor's earliest agreement for the child */
    PF_STATUS,           /* the donor's agreement status for the child (active, paused, ended) */
    PF_PHOTO,            /* the portal photo URL, only with sponsor_media consent */
    PF_NOTE,             /* the latest approved report's note, only with sponsor_media consent */
    PF_NOTE_EN           /* its English note, likewise */
};

/* One member a donor may see of a child: the allowlist. */
struct portal_field {
    const char *name;          /* JSON member and the label key "pt.f.<name>" */
    enum portal_source source; /* how it is derived */
    bool needs_consent;        /* shown only with the child's sponsor_media consent */
};

/* The allowlist, in display order; n_out gets its length. Every donor-facing
 * child object (API and pages) is built from this table and nothing else. */
const struct portal_field *portal_fields(int *n_out);
/* True when name is a member of the allowlist. */
bool portal_field_allowed(const char *name);

/* The active donor record linked to a's login (donor_for_user), read
 * inside the caller's transaction. Returns 1 with donor_id filled, 0 when
 * the login has no donor record, -1 with e. */
int portal_donor_of(struct db *db, const struct actor *a, char donor_id[40], struct err *e);

/* The donor's children, each built from the allowlist only:
 * [{id, first_name, age, city, school_year, since, status, photo_url?,
 * note?}]. Needs portal.donor; audited (donor.portal.view). NULL with e. */
json_t *portal_children(struct db *db, const struct actor *a, struct err *e);
/* One of the donor's children (allowlist members) with "reports" (approved
 * or sent progress reports: {id, period, school_results, note? (consent),
 * photo_url? (consent), drawing_url? (consent)}) and "can_write" (a letter
 * may be sent: an active or paused agreement). ERR_NOT_FOUND for a child
 * that is not the donor's. Audited (donor.portal.child). */
json_t *portal_child(struct db *db, const struct actor *a, const char *child_id, struct err *e);
/* The donor's giving: {donor_no, name, totals [{currency, amount (minor
 * units), n_payments}], receipts [{id, receipt_no, issued_on, amount,
 * currency, voided}] (newest first, at most 50), agreements [{agreement_no,
 * child_first_name, amount, currency, frequency, status}]}. Audited
 * (donor.portal.giving). */
json_t *portal_giving(struct db *db, const struct actor *a, struct err *e);

/* What portal_media opens. */
enum portal_media_kind {
    PM_CHILD_PHOTO,   /* the child's newest photo (id: the child) */
    PM_REPORT_PHOTO,  /* a report's photo (id: the report) */
    PM_REPORT_DRAWING /* a report's letter or drawing (id: the report) */
};
/* Opens an image or document for the donor after checking again that the
 * child is theirs, the report approved or sent, and the sponsor_media
 * consent live; fills out like document_open (the caller releases
 * out->data). ERR_NOT_FOUND otherwise (never says which check failed).
 * Audited (donor.portal.media). */
int portal_media(struct db *db, const struct actor *a, enum portal_media_kind kind, const char *id,
                 struct doc_file *out, struct err *e);

/* Letters. A donor writes to one of their children with an active or
 * paused agreement: body 1..PORTAL_LETTER_MAX characters of valid UTF-8,
 * not blank. Audited (donor.letter.create). Returns 0 with the id, or -1
 * with e naming "child_id" or "body". */
int letter_create(struct db *db, const struct actor *a, const char *child_id, const char *body,
                  char id_out[40], struct err *e);
/* The donor's own letters, newest first: [{id, child_id, child_first_name,
 * body, status, review_note (rejected only), created_at, reviewed_at}]. */
json_t *letter_list_own(struct db *db, const struct actor *a, struct err *e);
/* The organization's letters for staff (sponsorship.read), pending first,
 * filtered by status when not NULL: [{id, donor_id, donor_no, donor_name,
 * child_id, child_first_name, file_no, body, status, review_note,
 * reviewed_at, created_at}]. Audited (letter.list, the filter in the
 * detail) in a write transaction of its own. */
json_t *letter_list(struct db *db, const struct actor *a, const char *status, struct err *e);
/* A review step by staff (sponsorship.write): action "approve" (pending →
 * approved), "reject" (pending → rejected; note required, 1..500
 * characters) or "deliver" (approved → delivered). ERR_CONFLICT
 * "invalid_transition" from another status. Audited (letter.<action>). */
int letter_review(struct db *db, const struct actor *a, const char *id, const char *action,
                  const char *note, struct err *e);

/* True when period is "YYYY-MM" (01..12) or "YYYY-H1"/"YYYY-H2", year 2000..2100. */
bool report_period_valid(const char *period);
/* Makes a draft report (sponsorship.write) from input {child_id, period,
 * note (1..2000, Arabic), note_en (optional, 0..2000), school_results
 * (optional, 0..1000), photo_doc, drawing_doc (optional ids of the child's
 * live documents; the photo must be an image of kind photo, neither may be
 * medical)}. Unknown members refused. One report per child and period
 * (ERR_CONFLICT "duplicate_period"). Returns 0 with the id, or -1 with e
 * and *errors_out (new reference, may stay NULL) listing every problem. */
int report_create(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                  json_t **errors_out, struct err *e);
/* Changes a draft (sponsorship.write): the members of input among note,
 * note_en, school_results, photo_doc and drawing_doc replace the stored
 * ones (null or blank clears an optional one; the note stays required);
 * child_id and period cannot change (unknown_field). Checked as in
 * report_create; ERR_CONFLICT "invalid_transition" once approved. Audited
 * (report.update). Returns 0, or -1 with e and *errors_out as report_create. */
int report_update(struct db *db, const struct actor *a, const char *id, json_t *input,
                  json_t **errors_out, struct err *e);
/* One report for staff (sponsorship.read): {id, child_id, child_first_name,
 * child_file_no, period, note, note_en, school_results, photo_doc,
 * drawing_doc, status, created_at, approved_at, sends [{donor_no, name,
 * sent_at}], recipients [{donor_id, donor_no, name, email}]}. */
json_t *report_get(struct db *db, const struct actor *a, const char *id, struct err *e);
/* Reports made (sponsorship.read), newest first, of one child when child_id
 * is not NULL: [{id, child_id, child_first_name, period, status,
 * created_at}]. */
json_t *report_list(struct db *db, const struct actor *a, const char *child_id, struct err *e);
/* Reports due (sponsorship.read): the children with an active agreement
 * whose newest report is older than report_every_months (the
 * organization's sponsorship_settings, 6 by default) or who have none:
 * [{child_id, child_first_name, file_no, last_period, last_at}]. */
json_t *report_due(struct db *db, const struct actor *a, struct err *e);
/* Approves a draft (sponsorship.write); ERR_CONFLICT "invalid_transition"
 * otherwise. Audited (report.approve). */
int report_approve(struct db *db, const struct actor *a, const char *id, struct err *e);

/* Builds the attachment of report id (the PDF, or the printable page when
 * no PDF can be made) into out, with its file name and media type. Supplied
 * by the web layer, which renders it. Returns 0 or -1 with e. */
typedef int (*report_render_fn)(struct db *db, const struct actor *a, const char *id,
                                struct buf *out, char filename[128], char content_type[64],
                                struct err *e);
/* Sends an approved (or already sent) report by e-mail (sponsorship.write)
 * to every sponsor of the child (active or paused agreement) with an
 * e-mail address and contact consent who has not received it yet, with
 * render's attachment, through g_config.smtp_url. Each delivery is recorded
 * in progress_report_sends and audited (report.send); the report becomes
 * "sent" after the first. Returns the number sent (0 when nobody was left),
 * or -1 with e (ERR_UNAVAILABLE "smtp_failed" after recording the ones that
 * went out; ERR_CONFLICT "invalid_transition" for a draft; ERR_INVALID
 * "not_configured" without smtp_url). */
int report_send(struct db *db, const struct actor *a, const char *id, report_render_fn render,
                struct err *e);

#endif
