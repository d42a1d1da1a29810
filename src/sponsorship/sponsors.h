/*
 * sponsors.h: donors and sponsors, sponsorship agreements, the waiting list
 * of children without a sponsor, the age-limit job and the sponsorship
 * officer's home. Implemented in sponsorship.c; routes in sponsorship_web.c.
 *
 * Every service checks the actor's permission (sponsorship.read or
 * sponsorship.write; the command line holds all) and organization, validates
 * everything before writing, opens its own transaction (the *_tx variants
 * run inside the caller's) and audits writes, and every view of a donor
 * record, in the same transaction. Records of another organization are
 * "not found". JSON results are new references the caller decrefs.
 *
 * Invalid input gives -1 with e (ERR_INVALID, "validation_failed" when
 * *errors_out lists several {"field", "code", "message"} problems, else a
 * single problem naming its field) and nothing written.
 */
#ifndef SANAD_SPONSORSHIP_SPONSORS_H
#define SANAD_SPONSORSHIP_SPONSORS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/auth.h"
#include "core/err.h"
#include "db/db.h"

/* Longest texts accepted on a donor, in characters. */
#define DONOR_NAME_MAX 200
#define DONOR_NOTES_MAX 2000

/* ---- Donors --------------------------------------------------------- */

/* Creates a donor from input, a JSON object of strings (booleans for
 * contact_consent): kind (DONOR_KINDS, required), name (required),
 * name_latin, email, phone, address, city, country, preferred_lang ("ar",
 * "en"), preferred_channel (DONOR_CHANNELS), contact_consent, tax_name,
 * tax_id, payer_id (another active donor of the organization who pays for
 * this one), notes. Unknown members are refused. Takes the next donor
 * number (D-000001) in the same transaction. Writes the id (40 bytes) and
 * number (16 bytes). Needs sponsorship.write. */
int donor_create(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                 char no_out[16], json_t **errors_out, struct err *e);
/* Changes the members present in input (the same as donor_create, plus
 * status "active"/"inactive"; null clears an optional one). Refuses a payer
 * that is the donor itself. Needs sponsorship.write; audited donor.update. */
int donor_update(struct db *db, const struct actor *a, const char *id, json_t *input,
                 json_t **errors_out, struct err *e);
/* The donor as JSON: every field, the payer's number and name, the linked
 * user's name, their agreements (as sponsor or payer) and their giving
 * (payments with receipts, newest first, and totals per currency; empty
 * until payments exist). Audits the view (donor.view) in a write
 * transaction. Needs sponsorship.read. NULL with ERR_NOT_FOUND. */
json_t *donor_get(struct db *db, const struct actor *a, const char *id, struct err *e);
/* Searches donors of a's organization by q (a part of the name, the Latin
 * name, the e-mail or the donor number; NULL or "" for all) and status
 * (NULL for all), by name, page (from 1) of per_page (1..200):
 * {"items": [{id, donor_no, kind, name, name_latin, city, status,
 * n_active}], "total", "page", "per_page"}. Needs sponsorship.read. Every
 * search is audited (donor.list, the query in the detail) in a write
 * transaction of its own: call it outside a transaction or inside a
 * read-only one, which it ends (the caller's db_rollback then does nothing). */
json_t *donor_list(struct db *db, const struct actor *a, const char *q, const char *status,
                   int page, int per_page, struct err *e);
/* Links donor_id to the portal account user_id (a user of the organization
 * with role donor; a user is linked to one donor at most) or, with user_id
 * NULL or "", unlinks it. Needs sponsorship.write; audited donor.link_user.
 * ERR_CONFLICT "user_linked" when the user belongs to another donor. */
int donor_link_user(struct db *db, const struct actor *a, const char *donor_id, const char *user_id,
                    struct err *e);
/* The donor linked to the portal user user_id (any organization: the user
 * id is unique), read inside the caller's transaction. Returns 1 with the
 * id in donor_id_out (40 bytes), 0 when the user has no donor (or the donor
 * is inactive), -1 on failure. For the portal. */
int donor_for_user(struct db *db, const char *user_id, char donor_id_out[40], struct err *e);

/* ---- Agreements ----------------------------------------------------- */

/* Creates agreements from input: child_id (one) or child_ids (an array;
 * siblings of one household sponsored together get one group_id), donor_id
 * (the sponsor, active), payer_id (optional; default the sponsor's payer,
 * else the sponsor), amount (decimal text, per child, parsed with
 * money_parse: more than zero), currency (ISO 4217), frequency
 * (SP_FREQUENCIES), purpose (SP_PURPOSES, default general), start_date,
 * end_date (optional, after start), status ("pending", the default, or
 * "active"). Refuses a child that is not registered or active, or is merged, and a child
 * who already has an active or paused agreement for the purpose. next_due
 * starts at start_date. An active agreement sets children.sponsored. Writes
 * a new array of {id, agreement_no} (S-YYYY-00001, YYYY of the start date)
 * into *created_out. Needs sponsorship.write; audited sponsorship.create. */
int sponsorship_create(struct db *db, const struct actor *a, json_t *input, json_t **created_out,
                       json_t **errors_out, struct err *e);
/* The same inside the caller's write transaction. */
int sponsorship_create_tx(struct db *db, const struct actor *a, json_t *input, json_t **created_out,
                          json_t **errors_out, struct err *e);
/* An agreement as JSON: its fields (amount both as minor units "amount" and
 * as text "amount_text"), the child's file number and name, the sponsor's
 * and payer's numbers and names, its pauses and its events (oldest first),
 * and the other agreements of its group. Needs sponsorship.read; runs in
 * the caller's (read) transaction. NULL with ERR_NOT_FOUND. */
json_t *sponsorship_get(struct db *db, const struct actor *a, const char *id, struct err *e);

/* What a list of agreements is filtered by (NULL members: no filter). */
struct sp_filter {
    const char *status;   /* one of SP_STATUSES */
    const char *donor_id; /* sponsor or payer */
    const char *child_id; /* the child */
    const char *q;        /* part of the agreement number, child's or sponsor's name */
    int page;             /* from 1 */
    int per_page;         /* 1..200 */
};
/* {"items": [...], "total", "page", "per_page"}, newest first. Needs
 * sponsorship.read; runs in the caller's (read) transaction. */
json_t *sponsorship_list(struct db *db, const struct actor *a, const struct sp_filter *f,
                         struct err *e);
/* pending → active. ERR_CONFLICT "bad_status" from another status,
 * "purpose_taken" when the child has another active agreement for the
 * purpose meanwhile. Sets children.sponsored. */
int sponsorship_activate(struct db *db, const struct actor *a, const char *id, struct err *e);
/* active → paused from from_date (YYYY-MM-DD, not before the start) to
 * to_date (optional, not before from_date), with a reason (optional): a row
 * in sponsorship_pauses; billing generates no dues for periods starting in
 * the pause. */
int sponsorship_pause(struct db *db, const struct actor *a, const char *id, const char *from_date,
                      const char *to_date, const char *reason, struct err *e);
/* paused → active on on_date (YYYY-MM-DD; NULL for today): the open pause
 * gets to_date = the day before on_date when it had none or a later one. */
int sponsorship_resume(struct db *db, const struct actor *a, const char *id, const char *on_date,
                       struct err *e);
/* pending, active or paused → ended with reason (SP_END_REASONS) on
 * end_date (YYYY-MM-DD; NULL for today; not before the start), with an
 * optional note. Clears children.sponsored when no other agreement of the
 * child is active or paused. The _tx variant runs in the caller's write
 * transaction. */
int sponsorship_end(struct db *db, const struct actor *a, const char *id, const char *reason,
                    const char *end_date, const char *note, struct err *e);
int sponsorship_end_tx(struct db *db, const struct actor *a, const char *id, const char *reason,
                       const char *end_date, const char *note, struct err *e);
/* Changes a child's sponsor: ends agreement id with reason sponsor_changed
 * the day before input's start_date, and creates the new agreement from
 * input (donor_id required; payer_id, amount, currency, frequency, purpose
 * default to the old agreement's; status "active"), both in one
 * transaction, with events linking the two. Writes the new id. */
int sponsorship_change_sponsor(struct db *db, const struct actor *a, const char *id, json_t *input,
                               char new_id_out[40], json_t **errors_out, struct err *e);
/* Recomputes children.sponsored of child_id (1 while the child has an
 * active or paused agreement) inside the caller's write transaction. */
int sponsorship_child_flag_tx(struct db *db, const char *child_id, struct err *e);

/* ---- Waiting list ----------------------------------------------------- */

/* Active, unmerged children of a's organization without an active or paused
 * agreement, most in need first, then longest waiting (since the last
 * agreement ended, else since registration): {"items": [{child_id, file_no,
 * first_name, family_name, age, orphan_status, need, need_reasons: [...],
 * siblings, waiting_since, days_waiting}], "total"}. limit 1..500. need
 * (documented in docs/api.md): both parents deceased or abandoned
 * 40, one parent deceased 20; an open case at risk urgent/high 30, or marked
 * urgent 30; a disability recorded 15; 5 per sibling in the household (at
 * most 20). Needs sponsorship.read; the caller's read transaction. */
json_t *sponsorship_waiting(struct db *db, const struct actor *a, const char *today, int limit,
                            struct err *e);

/* ---- The age-limit job ------------------------------------------------ */

/* What one round of the age-limit job did. */
struct sp_age_stats {
    int noticed;     /* agreements whose sponsor was told of the coming end */
    int mailed;      /* of those, notices sent by e-mail */
    int mail_failed; /* e-mails that failed (tried again next round) */
    int ended;       /* agreements ended with reason age_limit */
};
/* For org_id (NULL or "" for every organization): agreements (pending,
 * active or paused) whose child reaches the organization's age limit within
 * its notice_months of today (YYYY-MM-DD) and that have no notice_sent_at
 * get one notice: notice_sent_at set, an event "notice", and, when the
 * sponsor has an e-mail, contact consent and g_config has an SMTP server,
 * an e-mail in the sponsor's language (a failed send is given back, so the
 * next round tries again; without e-mail the notice is recorded for the
 * officer, who sees it on the home page). Agreements whose child has
 * reached the limit are ended with reason age_limit on the birthday. Safe
 * to run every hour: each notice is sent once. Returns 0 with stats, or -1
 * for a database failure. */
int sponsorship_age_check(struct db *db, const char *org_id, const char *today,
                          struct sp_age_stats *stats, struct err *e);

/* ---- Settings and the officer's home ---------------------------------- */

/* The organization's notice_months (default 3) and report_every_months
 * (default 6), read in the caller's transaction. */
void sponsorship_settings_get(struct db *db, const char *org_id, int *notice_months,
                              int *report_every_months);
/* Sets them (0 keeps a value; 1..24 notice, 1..24 reports) and mail_from
 * (NULL keeps; "" clears). Needs users.manage; audited. */
int sponsorship_settings_set(struct db *db, const struct actor *a, int notice_months,
                             int report_every_months, const char *mail_from, struct err *e);
/* The sponsorship officer's home for today (YYYY-MM-DD): {"arrears": [{payer_id,
 * donor_no, name, currency, amount, amount_text, months_late, n_dues}],
 * "waiting": {"total", "items" (top 5)}, "endings": [{id, agreement_no,
 * child, donor, date, why ("end_date" or "age_limit")}], "reports_due":
 * [{child_id, file_no, first_name, last_report}], "n_reports_due",
 * "pending": [{id, agreement_no, child, donor, created_at}], "counts":
 * {...}}. Needs sponsorship.read; the caller's read transaction. */
json_t *sponsorship_home(struct db *db, const struct actor *a, const char *today, struct err *e);

#endif
