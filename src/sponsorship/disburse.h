/*
 * disburse.h: passing sponsors' money on to the children's guardians, and
 * in-kind distributions (food parcels, school kits, devices) recorded
 * against the child.
 *
 * A disbursement run is the payout list of one period (YYYY-MM) in one
 * currency. Creating it gathers every allocation (payment_allocations) of
 * the organization not yet passed on (disbursement_line_id IS NULL), of a
 * payment not reversed, whose due is in that currency and whose period has
 * started by the end of the run's period; it makes one line per child and
 * fund (amount = the sum, guardian = children.guardian_id at that moment,
 * method = the run's default payout method) and points each allocation at
 * its line, in the same transaction, so money is never passed on twice: a
 * second run over the same period finds nothing new.
 *
 *   draft --confirm--> confirmed     posts Dr 5000 grants paid [fund] /
 *     |                              Cr 2000 payable to guardians [fund],
 *     +--cancel--> cancelled         one pair of ledger lines per line
 *                  (allocations      (child dimension), one entry per 250
 *                  released)         lines, source ("disbursement", run
 *                                    id); the run keeps the first's id
 *
 * Lines of a confirmed run: pending --paid--> paid (posts Dr 2000 [fund] /
 * Cr payout_account_of(method) [fund], source ("payout", line id));
 * pending --failed--> failed --paid--> paid. Amounts never change after
 * confirmation. Paying needs proof: a reference (bank or mobile-money
 * transaction id) or a signature/receipt photo, or both.
 *
 * Statuses. Runs: draft confirmed cancelled. Lines: pending paid failed
 * cancelled. proof_kind: reference signature.
 *
 * Tracing (the statement helper): payment_allocations.disbursement_line_id
 * -> disbursement_lines (status, method, paid_on, entry_id of the payout)
 * -> disbursement_runs (run_no, period, entry_id of the confirmation).
 * Only lines whose run is confirmed count as passed on; a line of a draft
 * run is "in preparation", a cancelled one never happened (its allocations
 * are released, so they no longer point at it). disb_trace_tx reads one
 * line for that purpose. Guardian names, phones and proof files are never
 * for donors.
 *
 * In-kind: a distribution has a kind (INKIND_KINDS), a description, a
 * quantity >= 1, a date, and optionally a value (with currency and fund),
 * the donor who gave it and a proof reference. With a value it posts Dr
 * 5200 in-kind distributions [fund] / Cr 4100 gifts in kind [fund], dated
 * the distribution date, source ("inkind", id).
 *
 * Access: finance.write creates, confirms and cancels runs and marks lines
 * paid or failed; finance.read sees runs, lines and proofs (a run shows the
 * child's name and file number and the guardian's name and phone: what a
 * field distribution needs). sponsorship.write records in-kind items;
 * sponsorship.read or finance.read sees them (case roles do not: they see
 * that a child is sponsored, not what it received). Every money event and
 * every view of a proof file is audited in the transaction that does it.
 *
 * All functions take the actor's organization: another organization's run,
 * line or child is "not found". Failures fill e with the field at fault;
 * nothing is written when a call fails.
 */
#ifndef SANAD_SPONSORSHIP_DISBURSE_H
#define SANAD_SPONSORSHIP_DISBURSE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "core/buf.h"
#include "core/err.h"
#include "db/db.h"

/* Run and line statuses (space-separated, for text_word_in). */
#define DISB_RUN_STATUSES " draft confirmed cancelled "
#define DISB_LINE_STATUSES " pending paid failed cancelled "

/* Creates a draft run for period (YYYY-MM) and currency (ISO 4217) with the
 * default payout method (PAYOUT_METHODS), numbered DR-YYYY-NNNN (YYYY the
 * year it is made in; spons_next_no_tx kind "disbursement", so a failed
 * creation leaves no gap), in its own transaction, audited
 * (disbursement.create).
 * Errors: ERR_FORBIDDEN without finance.write; ERR_INVALID naming "period",
 * "currency" or "method"; ERR_CONFLICT "nothing_to_disburse" (field
 * "period") when no undisbursed money is found (no run is made). id_out
 * gets the run id, run_no_out (may be NULL) its number; n_lines_out and
 * total_out (may be NULL) what it holds. */
int disb_run_create(struct db *db, const struct actor *a, const char *period,
                    const char *currency, const char *method, char id_out[40],
                    char run_no_out[32], int64_t *n_lines_out, int64_t *total_out,
                    struct err *e);

/* The organization's runs, newest first, inside the caller's (read)
 * transaction: {"items": [{id, run_no, period, currency, method, status,
 * total, total_text, n_lines, n_paid, n_failed, paid_total, paid_total_text,
 * created_at, created_by, confirmed_at}], "total", "page", "per_page"}.
 * status may be NULL (all) or one of DISB_RUN_STATUSES. New reference, or
 * NULL with e (ERR_FORBIDDEN without finance.read). */
json_t *disb_run_list(struct db *db, const struct actor *a, const char *status, int page,
                      int per_page, struct err *e);

/* One run with all its lines, inside the caller's (read) transaction: the
 * run's members as in disb_run_list plus "lines": [{id, child_id,
 * child_file_no, child_name, guardian_id, guardian_name, guardian_phone,
 * amount, amount_text, currency, fund, method, status, proof_kind,
 * proof_ref, has_proof_photo, paid_on, failed_reason, entry_id}] ordered by
 * the child's file number. New reference, or NULL with e (ERR_NOT_FOUND). */
json_t *disb_run_get(struct db *db, const struct actor *a, const char *run_id, struct err *e);

/* Confirms a draft run: posts its entry dated date (YYYY-MM-DD, NULL: today;
 * not in the future; its period must be open, else the ledger's
 * ERR_CONFLICT "period_closed"), marks it confirmed, audited
 * (disbursement.confirm), in its own transaction. ERR_CONFLICT
 * "run_not_draft" when it is confirmed or cancelled already. */
int disb_run_confirm(struct db *db, const struct actor *a, const char *run_id, const char *date,
                     struct err *e);

/* Cancels a draft run: its lines become cancelled and their allocations are
 * released (disbursement_line_id back to NULL) for a later run; audited
 * (disbursement.cancel), in its own transaction. ERR_CONFLICT
 * "run_not_draft" for a confirmed or cancelled run. */
int disb_run_cancel(struct db *db, const struct actor *a, const char *run_id, struct err *e);

/* The proof of a payout. Strings and bytes borrowed. */
struct disb_proof {
    const char *reference;      /* bank or mobile-money transaction id, or NULL */
    const unsigned char *photo; /* signature or receipt photo (JPEG, PNG, WebP or PDF), or NULL */
    size_t photo_len;           /* its size in bytes */
    const char *paid_on;        /* YYYY-MM-DD, NULL: today; not in the future nor before the
                                   run's confirmation date */
    const char *method;         /* how it was paid when not the line's method, or NULL */
};

/* Marks a line of a confirmed run paid (from pending or failed) with proof:
 * at least one of reference (1..100 characters) or photo (checked by its
 * bytes, metadata stripped, stored under DATA/uploads like the registry's
 * documents). Posts Dr 2000 / Cr payout_account_of(method), audited
 * (disbursement.paid), in one transaction; the stored photo is removed
 * again when that fails. Errors: ERR_INVALID "proof_required" (field
 * "reference"), the photo's errors (field "photo"), "invalid_date"
 * ("paid_on"), "invalid_choice" ("method"); ERR_CONFLICT "payout_paid"
 * when it was paid already, "run_not_confirmed" for a draft or cancelled
 * run; the ledger's "period_closed". */
int disb_line_paid(struct db *db, const struct actor *a, const char *line_id,
                   const struct disb_proof *proof, struct err *e);

/* Marks a pending line of a confirmed run failed (the guardian could not be
 * reached, the transfer bounced) with an optional reason (up to 500
 * characters); it stays payable. Audited (disbursement.failed). ERR_CONFLICT
 * "payout_paid" for a paid line, "payout_failed" for one failed already. */
int disb_line_failed(struct db *db, const struct actor *a, const char *line_id,
                     const char *reason, struct err *e);

/* A run as CSV (UTF-8 with BOM, CRLF, Excel-safe cells) with headings in
 * lang ("ar" or "en"): file number, child, guardian, phone, fund, method,
 * amount, status, paid on, proof reference, and an empty signature column.
 * Inside the caller's (read) transaction; appends to out. */
int disb_run_csv(struct db *db, const struct actor *a, const char *run_id, const char *lang,
                 struct buf *out, struct err *e);

/* A payout's proof photo. */
struct disb_photo {
    struct buf data;       /* the file's bytes (the caller releases it) */
    char content_type[32]; /* its media type, found from the bytes */
};
/* Reads the proof photo of line_id into out (initialised here) and audits
 * the view (disbursement.proof_view) in its own transaction. ERR_NOT_FOUND
 * when the line has no photo. Needs finance.read. */
int disb_proof_open(struct db *db, const struct actor *a, const char *line_id,
                    struct disb_photo *out, struct err *e);

/* What a statement needs to know of one payout. */
struct disb_trace {
    char run_id[40];      /* the run */
    char run_no[32];      /* DR-YYYY-NNNN */
    char period[8];       /* YYYY-MM */
    char run_status[12];  /* draft confirmed cancelled */
    char status[12];      /* the line: pending paid failed cancelled */
    char method[16];      /* cash bank mobile_money */
    char paid_on[11];     /* YYYY-MM-DD when paid, "" otherwise */
    char proof_kind[12];  /* reference signature, "" when not paid */
    char entry_id[40];    /* the payout's journal entry, "" when not paid */
    char run_entry_id[40];/* the run's confirmation entry, "" when not confirmed */
    int64_t amount;       /* the line's amount (the child's whole payout, all donors) */
    char currency[4];     /* its currency */
};
/* Reads line_id of org_id into out, inside the caller's transaction (no
 * permission check, no audit: the calling service does both). Returns 1
 * found, 0 not found, -1 error. */
int disb_trace_tx(struct db *db, const char *org_id, const char *line_id, struct disb_trace *out,
                  struct err *e);

/* Records an in-kind distribution, in its own transaction, audited
 * (inkind.record). input: {"child_id", "kind", "description", "quantity"
 * (integer 1..1000000), "distributed_on" (YYYY-MM-DD, not in the future),
 * "value" (decimal string, > 0, in currency), "currency", "fund" (one of
 * FUNDS, default "unrestricted"), "donor_id", "proof_ref"}. value needs
 * currency; currency and fund without value are refused. Every problem is
 * listed in *errors_out ([{field, code, message}], the caller decrefs) with
 * e ERR_INVALID "validation_failed"; the ledger's "period_closed" comes
 * back in e alone. id_out gets the new id. */
int inkind_record(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                  json_t **errors_out, struct err *e);

/* The in-kind items a child received, newest first, inside the caller's
 * (read) transaction: {"items": [{id, kind, description, quantity, value,
 * value_text, currency, fund, donor_id, donor_name, distributed_on,
 * proof_ref, entry_id, created_at}]}. child_id NULL lists the whole
 * organization's latest 200. Needs sponsorship.read or finance.read. */
json_t *inkind_list(struct db *db, const struct actor *a, const char *child_id, struct err *e);

#endif
