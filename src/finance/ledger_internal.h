/*
 * ledger_internal.h: what the files of src/finance share and nobody else
 * needs: the static chart, the prepared line and head that
 * ledger_write_entry stores, and small helpers.
 */
#ifndef SANAD_FINANCE_LEDGER_INTERNAL_H
#define SANAD_FINANCE_LEDGER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "finance/ledger.h"

/* Most lines one entry may hold (before interfund lines). */
#define LEDGER_MAX_LINES 200

/* A line ready to store. Strings borrowed. */
struct ledger_pline {
    const char *account;        /* account code */
    const char *fund;           /* fund code */
    const char *currency;       /* ISO 4217 */
    int64_t amount;             /* minor units, debit > 0 */
    int64_t base;               /* the same in the base currency's minor units */
    const char *donor_id;       /* dimension or NULL */
    const char *child_id;       /* dimension or NULL */
    const char *sponsorship_id; /* dimension or NULL */
    const char *memo;           /* line memo or NULL */
};

/* An entry's head as stored. Strings borrowed. */
struct ledger_head {
    const char *date;        /* YYYY-MM-DD, already checked */
    const char *memo;        /* already checked */
    const char *source_kind; /* or NULL */
    const char *source_id;   /* or NULL */
    const char *reverses_id; /* the reversed entry, or NULL */
    const char *base;        /* base currency */
    const char *rate_text;   /* "EUR=1.08 JOD=1.41" or NULL */
};

/* Numbers and writes an entry whose lines are complete and balanced, in the
 * caller's transaction. Returns 0 (id in id_out when not NULL) or -1. */
int ledger_write_entry(struct db *db, const struct actor *a, const struct ledger_head *h,
                       const struct ledger_pline *pl, int n, char id_out[40], struct err *e);

/* The kind of account code in the chart, or NULL when there is none. */
const char *ledger_account_kind(const char *code);
/* Number of accounts in the chart, and the code of the i-th (NULL past the end). */
int ledger_n_accounts(void);
const char *ledger_account_code(int i);
/* True when code is one of FUNDS. */
bool ledger_fund_known(const char *code);
/* Number of funds and the code of the i-th, in display order. */
int ledger_n_funds(void);
const char *ledger_fund_code(int i);
/* Today's UTC date as YYYY-MM-DD. */
void ledger_today(char out[11]);

#endif
