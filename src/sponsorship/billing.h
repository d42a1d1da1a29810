/*
 * billing.h: what is expected and what is received. Each sponsorship
 * agreement generates one due per period (the schedule); payments are
 * recorded with a receipt numbered without gaps, allocated to dues (oldest
 * first unless the officer names them) and reversed when wrong; the
 * reconciliation and arrears views compare expected with received.
 * Implemented in schedule.c (the pure date arithmetic) and billing.c
 * (services); routes in billing_web.c. Tables: sponsorship_dues, payments,
 * payment_allocations, receipts (0015) and billing_arrears_alerts (0018).
 *
 * Permissions (decided here, documented in docs/api.md):
 *   - reading (dues, payments, reconciliation, arrears): sponsorship.read or
 *     finance.read;
 *   - every money write (generating dues, recording, allocating and
 *     reversing payments): finance.write. The books are the finance
 *     officer's; the sponsorship officer sees the money and is warned of
 *     arrears (a task for the role sponsorship_officer) but does not post.
 *     The command line holds all.
 *
 * Postings (the recipes in the brief):
 *   due        Dr 1100 receivable [fund of purpose] / Cr 4000 income [fund];
 *              source ("due", due id), dated the due date.
 *   payment    Dr payment_account_of(method) [sponsorship] amount - fee;
 *              Dr 5100 fees [sponsorship] fee (when > 0); Cr 2100 advances
 *              [sponsorship] amount; source ("payment", id), dated
 *              received_on.
 *   allocation Dr 2100 [sponsorship] / Cr 1100 [the due's fund] (the ledger
 *              adds interfund lines); source ("allocation", id), dated the
 *              later of received_on and the due date (today when that
 *              period is closed).
 *   reversal   ledger_reverse_tx of the payment's and its allocations'
 *              entries, dated today.
 * Ledger lines carry donor_id = the payer, and child_id / sponsorship_id
 * where a due is involved.
 *
 * Conventions: services that write open their own transaction and audit in
 * it (the *_tx variants run inside the caller's write transaction, still
 * check permissions, validate and audit, and leave the rollback to the
 * caller on failure). Read functions run inside the caller's (read)
 * transaction. Another organization's record is "not found". JSON results
 * are new references the caller decrefs; money in JSON is given as minor
 * units ("amount": 1250) and as decimal text ("amount_text": "12.50").
 * Invalid input gives -1 with e (ERR_INVALID, the field named) and nothing
 * written.
 */
#ifndef SANAD_SPONSORSHIP_BILLING_H
#define SANAD_SPONSORSHIP_BILLING_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/auth.h"
#include "core/buf.h"
#include "core/err.h"
#include "db/db.h"

/* ---- Schedules (schedule.c: pure, no database) ------------------------ */

/* Months per period of a frequency (SP_FREQUENCIES): monthly 1, quarterly
 * 3, half_yearly 6, yearly 12; 0 for an unknown frequency. */
int sched_step_months(const char *frequency);

/* The start of period k (0 = start_date) of an agreement starting on
 * start_date (YYYY-MM-DD) with step months per period: start_date plus
 * k*step months, keeping start_date's day where the month has it and
 * clamping to the month's last day otherwise (Jan 31 → Feb 28 or 29 →
 * Mar 31). Writes YYYY-MM-DD into out. Returns 0, or -1 for a bad date,
 * step <= 0, k < 0 or a year past 9999. */
int sched_period_start(const char *start_date, int step, int64_t k, char out[11]);

/* The index of the first period of the agreement starting on or after day
 * (0 when day <= start_date). Returns 0 with *k_out, or -1 for bad input. */
int sched_index_at_or_after(const char *start_date, int step, const char *day, int64_t *k_out);

/* A pause: no due for a period that starts in [from, to] (to "" for open). */
struct sched_pause {
    char from[11]; /* YYYY-MM-DD, first paused day */
    char to[11];   /* YYYY-MM-DD, last paused day, or "" when open-ended */
};

/* True when day (YYYY-MM-DD) falls inside one of the n pauses. */
bool sched_paused(const struct sched_pause *pauses, int n, const char *day);

/* One period to bill. */
struct sched_period {
    char start[11]; /* YYYY-MM-DD: period start, which is also the due date */
    char end[11];   /* YYYY-MM-DD: the day before the next period starts */
};

/* What the schedule of one agreement is computed from. Strings borrowed. */
struct sched_agreement {
    const char *start_date;           /* YYYY-MM-DD */
    const char *end_date;             /* YYYY-MM-DD or NULL: no period starts after it */
    const char *frequency;            /* one of SP_FREQUENCIES */
    const char *next_due;             /* first period start not yet billed; NULL: start */
    const struct sched_pause *pauses; /* pauses of the agreement (may be NULL) */
    int n_pauses;                     /* their number */
};

/* The periods of ag still to bill through day through: every period whose
 * start is >= next_due, <= through and <= end_date, and not inside a
 * pause, in order, at most max of them into out. next_out gets the start
 * of the first period not considered yet (the agreement's new next_due;
 * paused periods count as considered). Returns the number written (when it
 * is max there may be more: call again with next_due = next_out), or -1
 * (e filled, field named) for a bad date or frequency. */
int sched_periods(const struct sched_agreement *ag, const char *through, struct sched_period *out,
                  int max, char next_out[11], struct err *e);

/* Whole months from day a to day b (b after a), counting a month once b's
 * day of month reaches a's (clamped at month ends); 0 when b <= a. */
int sched_months_between(const char *a, const char *b);

/* ---- Dues ------------------------------------------------------------- */

/* What one run of dues_generate did. */
struct dues_result {
    int64_t n_dues;       /* dues created (and posted) */
    int64_t n_agreements; /* agreements that got at least one due or moved on */
    int64_t n_allocated;  /* allocations made from payers' advances */
    int64_t n_alerts;     /* arrears tasks raised for the sponsorship officer */
};

/* For every agreement of a's organization that is active or paused (and
 * ended ones whose last periods before end_date are not billed yet): every
 * period starting on or before through (YYYY-MM-DD) not generated yet
 * becomes a due (amount, currency and fund of the agreement) with its
 * entry; sponsorships.next_due moves on. Then payers' unallocated payments
 * are allocated to their open dues (oldest first), and payers two periods
 * late (an agreement with two dues dated before through not fully paid)
 * get an arrears task for the role sponsorship_officer, once per episode
 * (billing_arrears_alerts). One transaction and one audit entry
 * (dues.generate, with the counts). Running it twice generates nothing the
 * second time. A concurrent run that generated the same dues first makes
 * this one fail with ERR_CONFLICT "dues_running" (nothing written). Needs
 * finance.write. out may be NULL. */
int dues_generate(struct db *db, const struct actor *a, const char *through,
                  struct dues_result *out, struct err *e);
/* Cancels agreement sponsorship_id's dues for periods starting on or after
 * from (YYYY-MM-DD) and, when to is not NULL, on or before to, inside the
 * caller's write transaction: used when an agreement ends, is paused or
 * changes sponsor, so that periods it no longer covers are neither owed nor
 * counted as income. Money already allocated to such a due goes back to its
 * payment as an advance (the allocation's entry reversed); the due's entry
 * is reversed and the due marked cancelled. Refused with ERR_CONFLICT
 * "due_passed_on" (nothing changed) when money of such a due was already put
 * on a payout list. Permission is the caller's (the agreement's service);
 * audited as dues.cancel when any due was cancelled. *n_out (may be NULL)
 * gets how many. */
int dues_cancel_tx(struct db *db, const struct actor *a, const char *sponsorship_id,
                   const char *from, const char *to, int64_t *n_out, struct err *e);
/* The same inside the caller's write transaction. */
int dues_generate_tx(struct db *db, const struct actor *a, const char *through,
                     struct dues_result *out, struct err *e);

/* What a list of dues is filtered by (NULL members: no filter). */
struct dues_filter {
    const char *payer_id;       /* the payer */
    const char *sponsorship_id; /* the agreement */
    const char *child_id;       /* the child */
    const char *status;         /* open partial paid cancelled, or "unpaid" (open + partial) */
    const char *from;           /* due date on or after (YYYY-MM-DD) */
    const char *to;             /* due date on or before (YYYY-MM-DD) */
    int page;                   /* from 1 */
    int per_page;               /* 1..500 */
};
/* Dues, oldest due date first: {"items": [{id, sponsorship_id,
 * agreement_no, payer_id, payer_no, payer_name, donor_id, child_id,
 * child_file_no, period_start, period_end, due_date, amount, amount_text,
 * paid, paid_text, remaining, remaining_text, currency, fund, status,
 * entry_id}], "total", "page", "per_page"}. Needs sponsorship.read or
 * finance.read. */
json_t *dues_list(struct db *db, const struct actor *a, const struct dues_filter *f, struct err *e);

/* ---- Payments ----------------------------------------------------------- */

/* An officer's choice: allocate (up to) amount of the payment to due_id. */
struct alloc_req {
    const char *due_id; /* a due of the payment's payer, in its currency */
    const char *amount; /* decimal text in the payment's currency; NULL: as much as possible */
};

/* A payment to record. Strings borrowed. */
struct payment_new {
    const char *donor_id;           /* the payer: id or donor number (D-000001), required */
    const char *amount;             /* decimal text ("25.00") in currency; NULL: amount_minor */
    int64_t amount_minor;           /* used when amount is NULL (e.g. a bank line) */
    const char *fee;                /* decimal text, NULL: fee_minor (>= 0, less than amount) */
    int64_t fee_minor;              /* used when fee is NULL; 0 for none */
    const char *currency;           /* ISO 4217, required */
    const char *method;             /* one of PAY_METHODS, required */
    const char *received_on;        /* YYYY-MM-DD, not in the future, required */
    const char *reference;          /* free text (cheque no., transfer text), NULL for none */
    const char *external_ref;       /* gateway/mobile-money/bank transaction id: unique per
                                       organization; NULL for none */
    const char *bank_line_id;       /* the bank statement line it came from, NULL for none */
    bool no_allocate;               /* true: leave it all unallocated (an advance) */
    const struct alloc_req *allocs; /* the dues the officer names; NULL/0: automatic */
    int n_allocs;                   /* their number (at most 100) */
};

/* Records p for a's organization inside the caller's write transaction:
 * validates (field named: donor_id, amount, fee, currency, method,
 * received_on, reference, external_ref, allocations[i].due_id,
 * allocations[i].amount), takes the payment number P-YYYY-NNNNNN (year of
 * received_on) and the receipt number R-YYYY-NNNNNN (year of issue, today)
 * without gaps, inserts the payment and its receipt, posts the payment
 * entry, allocates (the named dues in order, else oldest open dues of the
 * payer in the currency first, unless no_allocate) and audits
 * payment.record. Errors: ERR_NOT_FOUND "not_found" (donor_id, a due);
 * ERR_CONFLICT "external_ref_used" when the external reference was already
 * recorded, "receipt_number_used" when the receipt number is taken (a
 * counter out of step), "already_allocated", "over_allocated" (more than
 * the payment holds), "due_overpaid" (more than the due's remainder),
 * "due_currency_mismatch", "payer_mismatch", "due_cancelled"; ledger codes
 * ("period_closed", "rate_missing") pass through. On failure the caller
 * rolls back. id_out (40 bytes) and receipt_no_out (32 bytes) may be NULL.
 * Needs finance.write. */
int payment_record_tx(struct db *db, const struct actor *a, const struct payment_new *p,
                      char id_out[40], char receipt_no_out[32], struct err *e);
/* The same in its own transaction. */
int payment_record(struct db *db, const struct actor *a, const struct payment_new *p,
                   char id_out[40], char receipt_no_out[32], struct err *e);
/* Records a payment from a JSON object (the API and form): {"donor_id",
 * "amount", "fee", "currency", "method", "received_on", "reference",
 * "external_ref", "allocate": false | "auto" (default), "allocations":
 * [{"due_id", "amount"}]}, all strings. Unknown members are refused. Its
 * own transaction. */
int payment_record_json(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                        char receipt_no_out[32], struct err *e);

/* Allocates payment_id's unallocated amount: to the n named dues in order,
 * or (n == 0) to the payer's open dues in its currency, oldest first.
 * Errors as payment_record_tx, plus ERR_CONFLICT "payment_reversed" and
 * "nothing_to_allocate" (n == 0 and no unallocated amount). *n_out (may be
 * NULL) gets the number of allocations made. Own transaction, audited
 * payment.allocate. Needs finance.write. */
int payment_allocate(struct db *db, const struct actor *a, const char *payment_id,
                     const struct alloc_req *reqs, int n, int *n_out, struct err *e);
/* The same inside the caller's write transaction. */
int payment_allocate_tx(struct db *db, const struct actor *a, const char *payment_id,
                        const struct alloc_req *reqs, int n, int *n_out, struct err *e);

/* Allocates every unallocated payment of payer_id (NULL: of every payer of
 * the organization), oldest payment first, to the payer's open dues in its
 * currency, oldest first. *n_out (may be NULL) gets the number of
 * allocations. Own transaction; one audit entry (payment.allocate_advances)
 * with the count. Needs finance.write. */
int allocate_advances(struct db *db, const struct actor *a, const char *payer_id, int64_t *n_out,
                      struct err *e);
/* The same inside the caller's write transaction. */
int allocate_advances_tx(struct db *db, const struct actor *a, const char *payer_id, int64_t *n_out,
                         struct err *e);

/* Reverses payment_id: reversing entries for the payment and each of its
 * allocations, the dues' paid amounts restored, the allocations removed
 * (the ledger and the audit entry keep them), the receipt voided with
 * reason (1..500 characters, required; the number is kept), the payment's
 * status "reversed". Refused with ERR_CONFLICT "already_reversed", or
 * "already_disbursed" when an allocation was passed on to a guardian
 * (payment_allocations.disbursement_line_id set). Own transaction, audited
 * payment.reverse. Needs finance.write. */
int payment_reverse(struct db *db, const struct actor *a, const char *payment_id,
                    const char *reason, struct err *e);
/* The same inside the caller's write transaction. */
int payment_reverse_tx(struct db *db, const struct actor *a, const char *payment_id,
                       const char *reason, struct err *e);

/* One payment: {id, payment_no, donor_id, donor_no, donor_name, amount,
 * amount_text, fee, fee_text, currency, method, received_on, reference,
 * external_ref, unallocated, unallocated_text, status, entry_id,
 * bank_line_id, created_at, receipt: {id, receipt_no, issued_on,
 * voided_at, void_reason}, allocations: [{id, due_id, agreement_no,
 * child_id, period_start, amount, amount_text, entry_id,
 * disbursement_line_id}]}. NULL with ERR_NOT_FOUND. Needs sponsorship.read
 * or finance.read. */
json_t *payment_get(struct db *db, const struct actor *a, const char *id, struct err *e);

/* What a list of payments is filtered by (NULL members: no filter). */
struct payment_filter {
    const char *donor_id; /* the payer */
    const char *status;   /* recorded reversed */
    const char *method;   /* one of PAY_METHODS */
    const char *from;     /* received on or after (YYYY-MM-DD) */
    const char *to;       /* received on or before (YYYY-MM-DD) */
    const char *q;        /* payment or receipt number, reference, external ref, payer name */
    bool unallocated;     /* only those with an unallocated remainder */
    int page;             /* from 1 */
    int per_page;         /* 1..500 */
};
/* Payments, newest first: {"items": [{id, payment_no, receipt_no,
 * donor_id, donor_no, donor_name, amount, amount_text, fee, fee_text,
 * currency, method, received_on, reference, external_ref, unallocated,
 * unallocated_text, status}], "total", "page", "per_page"}. Needs
 * sponsorship.read or finance.read. */
json_t *payment_list(struct db *db, const struct actor *a, const struct payment_filter *f,
                     struct err *e);

/* ---- Reconciliation and arrears ------------------------------------------ */

/* What the reconciliation covers (NULL members: no filter). */
struct recon_filter {
    const char *from;     /* first period, YYYY-MM; NULL: 11 months before to */
    const char *to;       /* last period, YYYY-MM; NULL: this month */
    const char *donor_id; /* one payer */
    const char *as_of;    /* YYYY-MM-DD: dues dated before it and unpaid are arrears;
                             NULL: today */
    int page;             /* from 1 */
    int per_page;         /* 1..1000; 0 for all rows (CSV) */
};
/* Per payer, period (YYYY-MM of the due date or the payment date) and
 * currency: expected (dues), received (allocated to those dues), arrears
 * (unpaid part of dues dated before as_of), overpaid (what is still
 * unallocated of the payments received in that period), by payer name then
 * period: {"from", "to", "as_of", "rows": [{payer_id, payer_no, payer_name,
 * period, currency, expected, received, arrears, overpaid, and *_text}],
 * "totals": [{currency, expected, received, arrears, overpaid, *_text}],
 * "total_rows", "page", "per_page"}. Totals cover every row, not just the
 * page. Errors: ERR_INVALID "invalid_period" (from, to), "invalid_date"
 * (as_of). Needs sponsorship.read or finance.read. */
json_t *billing_reconciliation(struct db *db, const struct actor *a, const struct recon_filter *f,
                               struct err *e);
/* The same rows as CSV (UTF-8 with BOM; header payer_no, payer_name,
 * period, currency, expected, received, arrears, overpaid; amounts as
 * decimal text; cells starting with = + - @ are prefixed with ') appended
 * to out. Returns 0 or -1. */
int billing_reconciliation_csv(struct db *db, const struct actor *a, const struct recon_filter *f,
                               struct buf *out, struct err *e);

/* Payers with dues past due on as_of (YYYY-MM-DD; NULL: today): dues dated
 * before as_of not fully paid, per payer and currency, most late first:
 * {"as_of", "items": [{payer_id, payer_no, payer_name, phone, email,
 * currency, amount, amount_text, n_dues (late dues), n_periods (the most
 * late dues of one agreement of the payer: "periods late"), oldest_due,
 * months_late, alerted}], "total"}, most periods late first; limit
 * 1..1000. Needs sponsorship.read or finance.read. */
json_t *billing_arrears(struct db *db, const struct actor *a, const char *as_of, int limit,
                        struct err *e);
/* The same in its own transaction, audited (billing.arrears.view, with the
 * number of payers): the list shows payers' telephone numbers and e-mail
 * addresses, and every view of donor records is audited. The API and the
 * page use this one. */
json_t *billing_arrears_view(struct db *db, const struct actor *a, const char *as_of, int limit,
                             struct err *e);

/* Raises an arrears task (role sponsorship_officer, kind "arrears") for
 * every payer of a's organization with an agreement two periods late (two
 * of its dues dated before as_of not fully paid) in a currency and no open
 * alert for it, and
 * clears the alerts of payers no longer two periods late; inside the
 * caller's write transaction (dues_generate calls it). *n_out (may be NULL)
 * gets the number of tasks raised. No permission check and no audit of its
 * own: the caller's action covers it. */
int arrears_alert_tx(struct db *db, const struct actor *a, const char *as_of, int64_t *n_out,
                     struct err *e);

/* The HTTP routes are registered by billing_register (sponsorship.h). */

#endif
