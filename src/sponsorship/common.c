/*
 * common.c: what every file of the sponsorship module shares (see
 * sponsorship.h): purpose → fund, method → account, gap-free counters.
 */
#include "sponsorship/sponsorship.h"

#include <string.h>

#include "db/db_util.h"
#include "finance/ledger.h"
#include "core/banned.h"

const char *sponsorship_fund_of(const char *purpose)
{
    if (!purpose) {
        return NULL;
    }
    if (strcmp(purpose, "general") == 0) {
        return FUND_SPONSORSHIP;
    }
    if (strcmp(purpose, "education") == 0) {
        return "education";
    }
    if (strcmp(purpose, "medical") == 0) {
        return "medical";
    }
    return NULL;
}

const char *payment_account_of(const char *method)
{
    static const struct {
        const char *method;
        const char *account;
    } map[] = {
        {"cash", ACCT_CASH},    {"bank_transfer", ACCT_BANK},  {"standing_order", ACCT_BANK},
        {"card", ACCT_GATEWAY}, {"mobile_money", ACCT_MOBILE},
    };
    for (size_t i = 0; method && i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(map[i].method, method) == 0) {
            return map[i].account;
        }
    }
    return NULL;
}

const char *payout_account_of(const char *method)
{
    if (!method) {
        return NULL;
    }
    if (strcmp(method, "cash") == 0) {
        return ACCT_CASH;
    }
    if (strcmp(method, "bank") == 0) {
        return ACCT_BANK;
    }
    if (strcmp(method, "mobile_money") == 0) {
        return ACCT_MOBILE;
    }
    return NULL;
}

int spons_next_no_tx(struct db *db, const char *org_id, const char *kind, int year, int64_t *out,
                     struct err *e)
{
    /* One statement that creates or increments the counter: the row lock
     * (PostgreSQL) or the write lock (SQLite) keeps two transactions from
     * taking the same number, and two first uses at once cannot both insert. */
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "INSERT INTO sponsorship_counters (org_id, kind, year, next_no)"
                               " VALUES ($1, $2, $3, 2) ON CONFLICT (org_id, kind, year)"
                               " DO UPDATE SET next_no = sponsorship_counters.next_no + 1"
                               " RETURNING next_no",
                               "tti", org_id, kind, (int64_t)year);
    if (!s) {
        return found == 0 ? err_set(e, ERR_INTERNAL, "db", NULL, "counter not returned") : -1;
    }
    *out = db_col_int64(s, 0) - 1;
    db_done(s);
    return 0;
}
