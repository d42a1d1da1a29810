/*
 * statement.h: what a donor is told about their money: receipts (one
 * bilingual page or PDF per payment), the annual giving statement (all
 * receipts of a year, for tax purposes) and "where the money went" (per
 * payment: the children it went to, whether and how the guardian received
 * it, fees, shortfall and advance), traced through the tables billing and
 * disburse write and checked against the donor's lines in the ledger.
 *
 * Access (every function): staff holding sponsorship.read or finance.read
 * see any donor of their organization; a donor (portal.donor) sees only
 * their own donor record (the one whose user_id is theirs; "me" names it),
 * and anything else is ERR_NOT_FOUND for them, as if it did not exist.
 * Every view is written to the audit log in the same transaction as the
 * read ("receipt.view", "donor.statement.view", "donor.annual.view").
 *
 * Children appear by first name (Arabic and Latin), age and city only:
 * never health, psychosocial, address, family or guardian details.
 *
 * Money is int64 minor units ("amount": 1250) with the decimal text beside
 * it ("amount_text": "12.50") in the row's currency; totals are per
 * currency, never converted.
 */
#ifndef SANAD_SPONSORSHIP_STATEMENT_H
#define SANAD_SPONSORSHIP_STATEMENT_H

#include <jansson.h>

#include "auth/auth.h"
#include "core/buf.h"
#include "core/err.h"
#include "db/db.h"

/* The donor record a may see as donor_id ("me": the actor's own, for a
 * donor), written into out (40 bytes), in the caller's transaction.
 * Returns 0, or -1 with e: ERR_FORBIDDEN without any of the permissions,
 * ERR_NOT_FOUND "not_found" for an unknown donor or another donor's. */
int statement_donor_access(struct db *db, const struct actor *a, const char *donor_id,
                           char out[40], struct err *e);

/* One receipt, in its own transaction, audited:
 * {id, receipt_no, year, issued_on, issued_on_hijri: {ar, en}, amount,
 * amount_text, currency, voided, voided_at, void_reason, organization:
 * {name}, donor: {id, donor_no, name, name_latin, tax_name, tax_id},
 * payment: {id, payment_no, received_on, method, reference, fee, fee_text,
 * status}, purposes: ["general", ...] (of the agreements it paid; empty
 * while unallocated)}. A new reference, or NULL with e (ERR_NOT_FOUND for
 * an unknown receipt or another donor's). */
json_t *statement_receipt(struct db *db, const struct actor *a, const char *receipt_id,
                          struct err *e);

/* The annual giving statement of donor_id for year (2000..2100), in its
 * own transaction, audited: {organization, donor, year, receipts: [{id,
 * receipt_no, issued_on, amount, amount_text, currency, method, voided}],
 * totals: [{currency, amount, amount_text, count}] (voided receipts left
 * out), n_voided}. Receipts are those issued in the year. */
json_t *statement_annual(struct db *db, const struct actor *a, const char *donor_id, int year,
                         struct err *e);

/* "Where the money went" for donor_id as payer, payments received in
 * [from, to] (YYYY-MM-DD; NULL: the last twelve months up to today), in its
 * own transaction, audited:
 *   {organization, donor, from, to,
 *    payments: [{id, payment_no, received_on, amount, fee, net, currency,
 *                method, reference, status, voided, receipt_id, receipt_no,
 *                unallocated, allocations: [{id, amount, agreement_no,
 *                purpose, fund, period_start, period_end, child: {id,
 *                first_name, first_name_latin, age, city}, state
 *                ("passed_on" paid to the guardian, "in_payout" on a payout
 *                list not yet confirmed paid, "failed", "waiting" not yet on
 *                a list), payout: {run_no, period, status, paid_on, method,
 *                proof_kind} or null}]}],
 *    shortfall: [{due_id, agreement_no, child, period_start, period_end,
 *                 due_date, amount, paid, outstanding, currency}] (dues with
 *                 a due date in the range not fully paid),
 *    totals: [{currency, given, fees, net, allocated, passed_on, in_payout,
 *              waiting, advance, shortfall, reversed} (+ *_text)],
 *    ledger: [{currency, given, fees, allocated, advance, shortfall}],
 *    checks: [{currency, item, statement, ledger, ok}],
 *    consistent: true when every check agrees}
 * Every money column is also given as *_text. The ledger side sums the
 * donor's journal lines (donor_id) on 2100 (advances), 1100 (receivable)
 * and 5100 (fees) of the entries made for these payments ("payment"), their
 * allocations ("allocation") and the range's dues ("due"), and of the
 * reversals of those entries; "consistent" is false when the books and the
 * tables disagree (a bug or a hand edit), and the page says so.
 * Errors: ERR_INVALID "invalid_date" naming from or to, "invalid_range"
 * (from after to, or more than ten years). */
json_t *statement_where(struct db *db, const struct actor *a, const char *donor_id,
                        const char *from, const char *to, struct err *e);

/* The PDFs, appended to out from the JSON above (borrowed). The receipt is
 * bilingual (Arabic and English on one page; "VOID" over it when voided);
 * the statements are in lang ("ar" or "en"). Return 0, or -1 with e (fonts
 * missing: ERR_UNAVAILABLE "pdf_fonts_missing"). */
int statement_receipt_pdf(const json_t *receipt, struct buf *out, struct err *e);
int statement_annual_pdf(const json_t *annual, const char *lang, struct buf *out,
                         struct err *e);
int statement_where_pdf(const json_t *where, const char *lang, struct buf *out,
                        struct err *e);

#endif
