/*
 * sponsorship.h: orphan sponsorship (kafala), the part every other file of
 * the module shares: the value lists, how a purpose maps to a fund and a
 * payment method to an account, the gap-free counters, and the routes each
 * file registers. The tables are in assets/migrations/0015_sponsorship.sql.
 *
 * Files of the module (each with its own header):
 *   sponsorship.c / sponsorship_web.c  donors, agreements, waiting list, the
 *                                      age-limit job, the officer's home
 *   billing.c / billing_web.c          dues, payments, allocation, receipts'
 *                                      numbers, reconciliation, arrears
 *   bank.c / bank_web.c                bank statement import and matching
 *   disburse.c / disburse_web.c        payouts to guardians, in-kind
 *   statement.c / statement_web.c      receipts, annual statements and
 *                                      "where the money went", HTML and PDF
 *   portal.c / portal_web.c            the sponsor portal, letters, progress
 *                                      reports and their e-mail
 *
 * Access: sponsorship.read / sponsorship.write for sponsors and agreements;
 * finance.read / finance.write for money; portal.donor for a donor's own
 * records. Case roles see only children.sponsored (yes or no). Every money
 * event and every view of a donor record is audited.
 */
#ifndef SANAD_SPONSORSHIP_SPONSORSHIP_H
#define SANAD_SPONSORSHIP_SPONSORSHIP_H

#include <stdint.h>

#include "auth/auth.h"
#include "core/err.h"
#include "db/db.h"

/* Value lists (space-separated with spaces around, for text_word_in). */
#define DONOR_KINDS " person family company mosque church association group "
#define DONOR_CHANNELS " email sms whatsapp phone post "
#define SP_FREQUENCIES " monthly quarterly half_yearly yearly "
#define SP_PURPOSES " general education medical "
#define SP_STATUSES " pending active paused ended "
#define SP_END_REASONS                                                                         \
    " age_limit sponsor_request child_left sponsor_changed non_payment child_deceased other "
#define PAY_METHODS " cash bank_transfer card mobile_money standing_order "
#define PAYOUT_METHODS " cash bank mobile_money "
#define INKIND_KINDS " food_parcel school_kit device clothing hygiene winter_kit other "

/* The most pauses one agreement may have (dues generation reads them all). */
#define SP_MAX_PAUSES 32

/* The fund a purpose's money belongs to: general → "sponsorship" (the
 * pool), education → "education", medical → "medical"; NULL for an unknown
 * purpose. */
const char *sponsorship_fund_of(const char *purpose);
/* The ledger account a payment method lands in: cash → cash, bank_transfer
 * and standing_order → bank, card → gateway clearing, mobile_money →
 * mobile wallet; NULL for an unknown method. */
const char *payment_account_of(const char *method);
/* The ledger account a payout method leaves from (cash, bank,
 * mobile_money); NULL for an unknown one. */
const char *payout_account_of(const char *method);

/* Takes the next number of counter kind ("donor", "agreement", "payment",
 * "receipt", "disbursement") for org and year (0 for counters that never
 * restart), inside the caller's write transaction, so that a rolled-back
 * action leaves no gap. Returns 0 and *out (1, 2, ...), or -1. */
int spons_next_no_tx(struct db *db, const char *org_id, const char *kind, int year, int64_t *out,
                     struct err *e);

/* What one daily round did, summed over the organizations. */
struct sponsorship_daily_stats {
    int64_t n_dues;    /* dues generated */
    int64_t n_alerts;  /* arrears tasks raised */
    int n_noticed;     /* sponsors told of an agreement ending at the age limit */
    int n_ended;       /* agreements ended at the age limit */
    int n_failed;      /* organizations whose round failed (logged, tried next day) */
};
/* The daily round (daily.c), for org_id or every organization (NULL):
 * generates the dues that fell due by today (YYYY-MM-DD) with their entries
 * and arrears alerts, then sends the age-limit notices and ends agreements
 * at the limit. Each organization in its own transactions, so one failure
 * does not stop the others. Returns 0, or -1 with e when the organizations
 * cannot be read. Called once a day by `sanad serve` and by `sanad
 * sponsorship daily`. */
int sponsorship_daily(struct db *db, const char *org_id, const char *today,
                      struct sponsorship_daily_stats *st, struct err *e);

/* Route tables, one per web file, registered by `sanad serve` in this
 * order (fixed paths before {id} paths within each). */
void sponsorship_register(void);
void billing_register(void);
void bank_register(void);
void disburse_register(void);
void statement_register(void);
void portal_register(void);

#endif
