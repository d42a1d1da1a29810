/*
 * ledger.h: the books. Every money event in Sanad becomes one balanced
 * double-entry journal entry, posted here and nowhere else.
 *
 * - Amounts are int64 minor units of the line's currency; a line's amount is
 *   signed: debit positive, credit negative.
 * - An entry balances in every currency it holds (the lines of each currency
 *   sum to zero). Within a currency, lines of different funds that do not
 *   balance fund by fund are balanced by the ledger with lines on the
 *   interfund account (ACCT_INTERFUND), so every fund balances on its own.
 * - Each line also carries its value in the organization's base currency,
 *   at the rate of the entry's date (fx_rates; 1 for the base currency). A
 *   missing rate for a foreign currency refuses the entry (ERR_INVALID
 *   "rate_missing"). Rounding differences in the base column are put on the
 *   largest line so the base column balances too.
 * - Entries are never changed or deleted (the database refuses it); a
 *   correction is ledger_reverse. Posting into a closed period is refused
 *   (ERR_CONFLICT "period_closed").
 *
 * Permissions: finance.read to see the books, finance.write to post by hand,
 * close periods and set rates. Services (sponsorship) post inside their own
 * transactions with ledger_post_tx after their own permission checks.
 */
#ifndef SANAD_FINANCE_LEDGER_H
#define SANAD_FINANCE_LEDGER_H

#include <jansson.h>
#include <stdint.h>

#include "auth/auth.h"
#include "core/err.h"
#include "db/db.h"

/* The chart of accounts every organization gets (ledger_ensure_chart). */
#define ACCT_CASH "1000"           /* asset: cash in hand */
#define ACCT_BANK "1010"           /* asset: bank accounts */
#define ACCT_MOBILE "1020"         /* asset: mobile-money wallets */
#define ACCT_GATEWAY "1030"        /* asset: card gateway clearing */
#define ACCT_RECEIVABLE "1100"     /* asset: receivables from sponsors */
#define ACCT_INTERFUND "1950"      /* asset: due to and from other funds */
#define ACCT_PAYABLE "2000"        /* liability: payables to guardians */
#define ACCT_ADVANCES "2100"       /* liability: sponsors' unallocated payments */
#define ACCT_NET_ASSETS "3000"     /* equity: net assets (opening balances) */
#define ACCT_INCOME_SPONSOR "4000" /* income: sponsorships */
#define ACCT_INCOME_INKIND "4100"  /* income: gifts in kind */
#define ACCT_INCOME_OTHER "4900"   /* income: other donations */
#define ACCT_GRANTS_PAID "5000"    /* expense: sponsorship payouts to guardians */
#define ACCT_FEES "5100"           /* expense: bank and gateway fees */
#define ACCT_INKIND_OUT "5200"     /* expense: in-kind distributions */
#define ACCT_OTHER_EXP "5900"      /* expense: other */

/* Funds kept apart. */
#define FUNDS " unrestricted sponsorship education medical endowment grants "
#define FUND_UNRESTRICTED "unrestricted"
#define FUND_SPONSORSHIP "sponsorship" /* the sponsorship pool (general purpose) */

/* Account kinds. */
#define ACCOUNT_KINDS " asset liability equity income expense "

/* One line of a new entry. Strings borrowed. */
struct ledger_line {
    const char *account;        /* account code, e.g. ACCT_BANK */
    const char *fund;           /* fund code, one of FUNDS */
    const char *currency;       /* ISO 4217 */
    int64_t amount;             /* minor units; debit > 0, credit < 0; never 0 */
    const char *donor_id;       /* dimension or NULL */
    const char *child_id;       /* dimension or NULL */
    const char *sponsorship_id; /* dimension or NULL */
    const char *memo;           /* short line memo or NULL */
};

/* A new entry. Strings borrowed. */
struct ledger_entry {
    const char *date;        /* YYYY-MM-DD, the accounting date */
    const char *memo;        /* what happened, 1..300 characters */
    const char *source_kind; /* "payment", "due", "allocation", "disbursement", "inkind",
                                "manual", "reversal"... */
    const char *source_id;   /* the record's id, or NULL */
    const struct ledger_line *lines; /* at least two */
    int n_lines;
};

/* Creates the organization's fin_settings row, chart of accounts and funds
 * when missing (idempotent). Runs inside the caller's write transaction. */
int ledger_ensure_chart(struct db *db, const char *org_id, struct err *e);
/* Writes the organization's base currency (ISO 4217) into out (4 bytes);
 * "USD" when nothing is set. */
int ledger_base_currency(struct db *db, const char *org_id, char out[4], struct err *e);
/* Sets the base currency: refused once any entry exists (ERR_CONFLICT
 * "ledger_not_empty"). Needs finance.write. */
int ledger_set_base_currency(struct db *db, const struct actor *a, const char *currency,
                             struct err *e);

/* Posts entry for a's organization inside the caller's write transaction:
 * checks it (accounts and funds exist, currencies known, no zero amounts,
 * balanced per currency, date valid and its period open, rates known),
 * adds interfund lines, numbers it and writes it. Does not check
 * permissions and does not audit: the calling service does both. Errors
 * name the line ("lines[2].amount") in e->field; codes: "unbalanced",
 * "period_closed", "rate_missing", "unknown_account", "unknown_fund",
 * "invalid_currency", "invalid_amount", "invalid_date". id_out gets the
 * entry id (may be NULL). */
int ledger_post_tx(struct db *db, const struct actor *a, const struct ledger_entry *entry,
                   char id_out[40], struct err *e);
/* Posts the reverse of entry entry_id (every line negated) dated date (NULL:
 * today; the original's date when its period is open and date is NULL is
 * NOT used: reversals are dated when they happen), inside the caller's
 * transaction. Refuses an entry already reversed (ERR_CONFLICT
 * "already_reversed") or itself a reversal. */
int ledger_reverse_tx(struct db *db, const struct actor *a, const char *entry_id,
                      const char *date, const char *memo, char id_out[40], struct err *e);

/* A manual entry from the API or pages (finance.write), in its own
 * transaction and audited. input: {"date", "memo", "lines": [{"account",
 * "fund", "currency", "debit": "12.50"} or {"... "credit": "12.50"}]}
 * (decimal strings in the line's currency). Problems per line in
 * *errors_out like the registry's. */
int ledger_post_manual(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                       json_t **errors_out, struct err *e);
/* Reverses an entry (finance.write), in its own transaction, audited. */
int ledger_reverse(struct db *db, const struct actor *a, const char *entry_id, const char *memo,
                   char id_out[40], struct err *e);

/* Stores the rate of day for currency: rate is a decimal string ("3.6725",
 * up to 9 places, > 0) of base-currency units for one unit of currency.
 * finance.write, audited. */
int ledger_set_rate(struct db *db, const struct actor *a, const char *currency, const char *day,
                    const char *rate, struct err *e);
/* The rate for currency on day (the latest on or before day) times 10^9;
 * 1e9 for the base currency. Returns 1 found, 0 none, -1 error. */
int ledger_rate_e9(struct db *db, const char *org_id, const char *currency, const char *day,
                   int64_t *rate_e9, struct err *e);

/* Closes period (YYYY-MM): refused when it is already closed, or when it is
 * the current or a future month. finance.write, audited. */
int ledger_close_period(struct db *db, const struct actor *a, const char *period,
                        struct err *e);
/* True (1) when date's period is closed for org, 0 open, -1 error. */
int ledger_period_closed(struct db *db, const char *org_id, const char *date, struct err *e);

/* Reading (finance.read). Each returns a new JSON value or NULL with e.
 * Money in reports is given both as minor units ("debit": 1250) and as
 * decimal text ("debit_text": "12.50"). */

/* Entries, newest first: {"items": [{id, entry_no, date, memo, source_kind,
 * source_id, reverses_id, reversed_by, lines: [...]}], "total", "page",
 * "per_page"}. Filters may be NULL: account, fund, from, to (dates). */
json_t *ledger_entries(struct db *db, const struct actor *a, const char *account,
                       const char *fund, const char *from, const char *to, int page,
                       int per_page, struct err *e);
/* One entry with its lines. */
json_t *ledger_entry_get(struct db *db, const struct actor *a, const char *id, struct err *e);
/* Trial balance as of date (NULL: today), optionally one fund: {"rows":
 * [{account, kind, fund, currency, debit, credit, balance}], "totals":
 * [{currency, debit, credit, balance}]}: balance in totals is 0 in every
 * currency when the books are right. */
json_t *ledger_trial_balance(struct db *db, const struct actor *a, const char *as_of,
                             const char *fund, struct err *e);
/* Balance sheet as of date per fund, in each currency and in the base
 * currency: {"funds": [{fund, assets: [{account, currency, amount}],
 * liabilities: [...], net_assets: [...], total_assets, total_liabilities,
 * total_net_assets (base)}]}. */
json_t *ledger_balance_sheet(struct db *db, const struct actor *a, const char *as_of,
                             struct err *e);
/* Income statement for [from, to] per fund: {"funds": [{fund, income:
 * [...], expenses: [...], total_income, total_expenses, surplus (base)}]}. */
json_t *ledger_income_statement(struct db *db, const struct actor *a, const char *from,
                                const char *to, struct err *e);

/* Added with the implementation: */
/* The stored rates, newest day first (at most 500): {"base_currency",
 * "items": [{currency, day, rate, rate_e9, created_by, created_at}]}. */
json_t *ledger_rates(struct db *db, const struct actor *a, struct err *e);
/* The closed periods, newest first, and the months that may still be closed
 * (the twelve before the current one, when open): {"items": [{period,
 * closed_at, closed_by, closed_by_name}], "closable": ["YYYY-MM", ...]}. */
json_t *ledger_periods(struct db *db, const struct actor *a, struct err *e);

/* The HTTP routes (finance_web.c): /api/v1/finance/... and /finance pages. */
void finance_register(void);

#endif
