/*
 * ledger.c: posting into the books (see ledger.h): the chart, base currency
 * and rates, checking and writing entries, reversals, closed periods, and
 * the hand-made operations (manual entries, rates, closing) with their audit.
 * The reports are in ledger_reports.c.
 *
 * Speed: ledger_post_tx runs ~100,000 times in one transaction when dues are
 * generated, so it checks accounts and funds against the static chart in C,
 * reads the settings and the period with one cached statement, a rate only
 * for a foreign currency, and writes with cached prepared statements.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "core/money.h"
#include "core/buf.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "core/xalloc.h"
#include "db/db_util.h"
#include "finance/ledger_internal.h"
#include "web/page.h"
#include "core/banned.h"

/* The chart every organization gets: fixed in this version. */
static const struct {
    const char *code; /* account code */
    const char *kind; /* one of ACCOUNT_KINDS */
} chart[] = {
    {ACCT_CASH, "asset"},           {ACCT_BANK, "asset"},
    {ACCT_MOBILE, "asset"},         {ACCT_GATEWAY, "asset"},
    {ACCT_RECEIVABLE, "asset"},     {ACCT_INTERFUND, "asset"},
    {ACCT_PAYABLE, "liability"},    {ACCT_ADVANCES, "liability"},
    {ACCT_NET_ASSETS, "equity"},    {ACCT_INCOME_SPONSOR, "income"},
    {ACCT_INCOME_INKIND, "income"}, {ACCT_INCOME_OTHER, "income"},
    {ACCT_GRANTS_PAID, "expense"},  {ACCT_FEES, "expense"},
    {ACCT_INKIND_OUT, "expense"},   {ACCT_OTHER_EXP, "expense"},
};

/* The funds, in display order. */
static const struct {
    const char *code; /* fund code */
    int restricted;   /* 1 when restricted by purpose or donor */
} funds[] = {
    {"unrestricted", 0}, {"sponsorship", 1}, {"education", 1},
    {"medical", 1},      {"endowment", 1},   {"grants", 1},
};

const char *ledger_account_kind(const char *code)
{
    if (!code) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof(chart) / sizeof(chart[0]); i++) {
        if (strcmp(chart[i].code, code) == 0) {
            return chart[i].kind;
        }
    }
    return NULL;
}

int ledger_n_accounts(void)
{
    return (int)(sizeof(chart) / sizeof(chart[0]));
}

const char *ledger_account_code(int i)
{
    return i >= 0 && i < ledger_n_accounts() ? chart[i].code : NULL;
}

bool ledger_fund_known(const char *code)
{
    if (!code) {
        return false;
    }
    for (size_t i = 0; i < sizeof(funds) / sizeof(funds[0]); i++) {
        if (strcmp(funds[i].code, code) == 0) {
            return true;
        }
    }
    return false;
}

int ledger_n_funds(void)
{
    return (int)(sizeof(funds) / sizeof(funds[0]));
}

const char *ledger_fund_code(int i)
{
    return i >= 0 && i < ledger_n_funds() ? funds[i].code : NULL;
}

void ledger_today(char out[11])
{
    int y, m, d;
    time_today(&y, &m, &d);
    char tmp[32];
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", y, m, d);
    memcpy(out, tmp, 10);
    out[10] = '\0';
}

/* The user id to record for a (the command line has none). */
static const char *who(const struct actor *a)
{
    return a->user_id[0] ? a->user_id : "cli";
}

/* Ends a failed write transaction and passes on -1. */
static int fail(struct db *db)
{
    db_rollback(db);
    return -1;
}

int ledger_ensure_chart(struct db *db, const char *org_id, struct err *e)
{
    char at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    for (size_t i = 0; i < sizeof(chart) / sizeof(chart[0]); i++) {
        if (db_run(db, e,
                   "INSERT INTO fin_accounts (org_id, code, kind, created_at)"
                   " VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, code) DO NOTHING",
                   "tttt", org_id, chart[i].code, chart[i].kind, at) < 0) {
            return -1;
        }
    }
    for (size_t i = 0; i < sizeof(funds) / sizeof(funds[0]); i++) {
        if (db_run(db, e,
                   "INSERT INTO fin_funds (org_id, code, restricted, created_at)"
                   " VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, code) DO NOTHING",
                   "ttit", org_id, funds[i].code, (int64_t)funds[i].restricted, at) < 0) {
            return -1;
        }
    }
    /* Last, so that a settings row means the chart is complete. */
    return db_run(db, e,
                  "INSERT INTO fin_settings (org_id, base_currency, updated_at)"
                  " VALUES ($1, 'USD', $2) ON CONFLICT (org_id) DO NOTHING",
                  "tt", org_id, at) < 0
               ? -1
               : 0;
}

int ledger_base_currency(struct db *db, const char *org_id, char out[4], struct err *e)
{
    int found;
    struct db_stmt *s = db_row(
        db, e, &found, "SELECT base_currency FROM fin_settings WHERE org_id = $1", "t", org_id);
    if (!s && found < 0) {
        return -1;
    }
    snprintf(out, 4, "%s", s ? db_col_text(s, 0) : "USD");
    if (s) {
        db_done(s);
    }
    return 0;
}

int ledger_set_base_currency(struct db *db, const struct actor *a, const char *currency,
                             struct err *e)
{
    if (!actor_can(a, PERM_FINANCE_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to change the books");
    }
    if (!currency || strlen(currency) != 3 || money_exponent(currency) < 0) {
        return err_set(e, ERR_INVALID, "invalid_currency", "base_currency",
                       "'base_currency' is not a known ISO 4217 currency");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    if (ledger_ensure_chart(db, a->org_id, e) < 0) {
        return fail(db);
    }
    int found;
    struct db_stmt *s = db_row(
        db, e, &found, "SELECT 1 FROM journal_entries WHERE org_id = $1 LIMIT 1", "t", a->org_id);
    if (s) {
        db_done(s);
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "ledger_not_empty", "base_currency",
                       "the base currency cannot change once entries exist");
    }
    if (found < 0) {
        return fail(db);
    }
    char at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (db_run(db, e,
               "UPDATE fin_settings SET base_currency = $1, updated_at = $2 WHERE org_id = $3",
               "ttt", currency, at, a->org_id) < 0 ||
        actor_audit(db, a, "finance.base_currency", "organization", a->org_id, "ok", currency, e) <
            0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

/* Reads the rate of currency on day (latest on or before), without the
 * base-currency shortcut. 1 found, 0 none, -1 error. */
static int rate_lookup(struct db *db, const char *org_id, const char *currency, const char *day,
                       int64_t *rate_e9, struct err *e)
{
    int found;
    struct db_stmt *s =
        db_row(db, e, &found,
               "SELECT rate_e9 FROM fx_rates WHERE org_id = $1 AND currency = $2 AND day <= $3"
               " ORDER BY day DESC LIMIT 1",
               "ttt", org_id, currency, day);
    if (!s) {
        return found < 0 ? -1 : 0;
    }
    *rate_e9 = db_col_int64(s, 0);
    db_done(s);
    return 1;
}

int ledger_rate_e9(struct db *db, const char *org_id, const char *currency, const char *day,
                   int64_t *rate_e9, struct err *e)
{
    char base[4];
    if (ledger_base_currency(db, org_id, base, e) < 0) {
        return -1;
    }
    if (strcmp(base, currency) == 0) {
        *rate_e9 = MONEY_RATE_ONE;
        return 1;
    }
    return rate_lookup(db, org_id, currency, day, rate_e9, e);
}

/* Checks that date is YYYY-MM-DD and fills period (YYYY-MM). */
static int date_period(const char *date, const char *field, char period[8], struct err *e)
{
    int y, m, d;
    if (!date || time_date_parse(date, &y, &m, &d) < 0) {
        return err_set(e, ERR_INVALID, "invalid_date", field, "'%s' must be a date (YYYY-MM-DD)",
                       field);
    }
    memcpy(period, date, 7);
    period[7] = '\0';
    return 0;
}

int ledger_period_closed(struct db *db, const char *org_id, const char *date, struct err *e)
{
    char period[8];
    if (date_period(date, "date", period, e) < 0) {
        return -1;
    }
    int found;
    struct db_stmt *s =
        db_row(db, e, &found, "SELECT 1 FROM fin_periods WHERE org_id = $1 AND period = $2", "tt",
               org_id, period);
    if (s) {
        db_done(s);
        return 1;
    }
    return found < 0 ? -1 : 0;
}

/* Reads the base currency and whether period is closed in one statement,
 * creating the chart when the organization has none. Returns 0 or -1. */
static int settings_for_post(struct db *db, const char *org_id, const char *period, char base[4],
                             bool *closed, struct err *e)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int found;
        if (db_backend_of(db) == DB_POSTGRES) {
            /* Wait for a closing of a period in progress (it holds the row),
             * then read the periods in a statement of its own, which sees
             * what that closing committed. SQLite has one writer at a time. */
            struct db_stmt *lock =
                db_row(db, e, &found, "SELECT 1 FROM fin_settings WHERE org_id = $1 FOR SHARE", "t",
                       org_id);
            if (lock) {
                db_done(lock);
            } else if (found < 0) {
                return -1;
            }
        }
        struct db_stmt *s =
            db_row(db, e, &found,
                   "SELECT base_currency, (SELECT COUNT(*) FROM fin_periods p"
                   " WHERE p.org_id = $1 AND p.period = $2) FROM fin_settings WHERE org_id = $1",
                   "tt", org_id, period);
        if (s) {
            snprintf(base, 4, "%s", db_col_text(s, 0));
            *closed = db_col_int64(s, 1) > 0;
            db_done(s);
            return 0;
        }
        if (found < 0 || ledger_ensure_chart(db, org_id, e) < 0) {
            return -1;
        }
    }
    return err_set(e, ERR_INTERNAL, "internal", NULL, "the books could not be set up");
}

/* Takes the organization's next entry number (gap-free: the counter row is
 * written in the caller's transaction and rolls back with it). */
static int next_entry_no(struct db *db, const char *org_id, int64_t *no, struct err *e)
{
    int found;
    struct db_stmt *s =
        db_row(db, e, &found,
               "INSERT INTO entry_counters (org_id, next_no) VALUES ($1, 2)"
               " ON CONFLICT (org_id) DO UPDATE SET next_no = entry_counters.next_no + 1"
               " RETURNING next_no",
               "t", org_id);
    if (!s) {
        return found < 0 ? -1
                         : err_set(e, ERR_INTERNAL, "internal", NULL, "no entry number returned");
    }
    *no = db_col_int64(s, 0) - 1;
    db_done(s);
    return 0;
}

/* Lines written per INSERT statement: one statement (and one round trip to
 * PostgreSQL) for the common entries, a handful of cached statements. */
#define LINES_PER_INSERT 8

/* Writes the SQL inserting k lines (k <= LINES_PER_INSERT) into sql:
 * $1 entry id, $2 organization, $3 date, then 11 parameters a line. */
static void lines_sql(int k, char *sql, size_t n)
{
    size_t len = (size_t)snprintf(sql, n, "%s",
                                  "INSERT INTO journal_lines (id, entry_id, org_id, line_no,"
                                  " account, fund, currency, amount, base_amount, entry_date,"
                                  " donor_id, child_id, sponsorship_id, memo) VALUES ");
    for (int i = 0; i < k && len < n; i++) {
        int p = 4 + i * 11;
        len += (size_t)snprintf(sql + len, n - len,
                                "%s($%d, $1, $2, $%d, $%d, $%d, $%d, $%d, $%d, $3, $%d, $%d, $%d,"
                                " $%d)",
                                i ? ", " : "", p, p + 1, p + 2, p + 3, p + 4, p + 5, p + 6, p + 7,
                                p + 8, p + 9, p + 10);
    }
}

/* Inserts the lines of entry id, LINES_PER_INSERT per statement. */
static int write_lines(struct db *db, const char *org_id, const char *id, const char *date,
                       const struct ledger_pline *pl, int n, struct err *e)
{
    for (int first = 0; first < n; first += LINES_PER_INSERT) {
        int k = n - first < LINES_PER_INSERT ? n - first : LINES_PER_INSERT;
        char sql[2048];
        lines_sql(k, sql, sizeof(sql));
        struct db_stmt *s = db_prepare(db, sql, e);
        if (!s) {
            return -1;
        }
        db_bind_text(s, 1, id);
        db_bind_text(s, 2, org_id);
        db_bind_text(s, 3, date);
        for (int j = 0; j < k; j++) {
            const struct ledger_pline *l = &pl[first + j];
            int p = 4 + j * 11;
            char lid[UUID_STR_LEN];
            uuid_v7(lid);
            db_bind_text(s, p, lid);
            db_bind_int64(s, p + 1, first + j + 1);
            db_bind_text(s, p + 2, l->account);
            db_bind_text(s, p + 3, l->fund);
            db_bind_text(s, p + 4, l->currency);
            db_bind_int64(s, p + 5, l->amount);
            db_bind_int64(s, p + 6, l->base);
            db_bind_text(s, p + 7, l->donor_id);
            db_bind_text(s, p + 8, l->child_id);
            db_bind_text(s, p + 9, l->sponsorship_id);
            db_bind_text(s, p + 10, l->memo);
        }
        int rc = db_step(s, e);
        db_done(s);
        if (rc < 0) {
            return -1;
        }
    }
    return 0;
}

int ledger_write_entry(struct db *db, const struct actor *a, const struct ledger_head *h,
                       const struct ledger_pline *pl, int n, char id_out[40], struct err *e)
{
    char id[UUID_STR_LEN], at[32], period[8];
    uuid_v7(id);
    time_format_iso(time_now_ms(), at, sizeof(at));
    memcpy(period, h->date, 7);
    period[7] = '\0';
    if (db_backend_of(db) == DB_POSTGRES) {
        /* The number and the entry in one round trip; the counter row is still
         * written in the caller's transaction, so a rollback leaves no gap. */
        int found;
        struct db_stmt *s = db_row(
            db, e, &found,
            "WITH c AS (INSERT INTO entry_counters (org_id, next_no) VALUES ($2, 2)"
            " ON CONFLICT (org_id) DO UPDATE SET next_no = entry_counters.next_no + 1"
            " RETURNING next_no - 1 AS no)"
            " INSERT INTO journal_entries (id, org_id, entry_no, entry_date, period, memo,"
            " source_kind, source_id, reverses_id, base_currency, rate, created_by, created_at)"
            " SELECT $1, $2, c.no, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM c"
            " RETURNING entry_no",
            "tttttttttttt", id, a->org_id, h->date, period, h->memo, h->source_kind, h->source_id,
            h->reverses_id, h->base, h->rate_text, who(a), at);
        if (!s) {
            return found < 0 ? -1
                             : err_set(e, ERR_INTERNAL, "internal", NULL, "no entry was written");
        }
        db_done(s);
    } else {
        int64_t no = 0;
        if (next_entry_no(db, a->org_id, &no, e) < 0 ||
            db_run(db, e,
                   "INSERT INTO journal_entries (id, org_id, entry_no, entry_date, period, memo,"
                   " source_kind, source_id, reverses_id, base_currency, rate, created_by,"
                   " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                   "ttitttttttttt", id, a->org_id, no, h->date, period, h->memo, h->source_kind,
                   h->source_id, h->reverses_id, h->base, h->rate_text, who(a), at) < 0) {
            return -1;
        }
    }
    if (write_lines(db, a->org_id, id, h->date, pl, n, e) < 0) {
        return -1;
    }
    if (id_out) {
        snprintf(id_out, 40, "%s", id);
    }
    return 0;
}

/* A distinct currency of an entry with its running total and rate. */
struct cur_sum {
    const char *code; /* ISO 4217 (borrowed from a line) */
    int first;        /* index of its first line */
    int64_t debit;    /* sum of positive amounts */
    int64_t credit;   /* sum of negative amounts (negative) */
    int64_t rate_e9;  /* rate to the base currency */
};

/* Fills field with "lines[i].name". */
static const char *line_field(char *field, size_t n, int i, const char *name)
{
    snprintf(field, n, "lines[%d].%s", i, name);
    return field;
}

/* Checks the entry's head and lines without touching the database. */
static int check_entry(const struct ledger_entry *entry, char period[8], struct err *e)
{
    if (!entry || !entry->lines || entry->n_lines < 2) {
        return err_set(e, ERR_INVALID, "too_few_lines", "lines",
                       "an entry needs at least two lines");
    }
    if (entry->n_lines > LEDGER_MAX_LINES) {
        return err_set(e, ERR_INVALID, "too_many_lines", "lines", "an entry takes at most %d lines",
                       LEDGER_MAX_LINES);
    }
    if (date_period(entry->date, "date", period, e) < 0) {
        return -1;
    }
    size_t mlen = entry->memo ? strlen(entry->memo) : 0;
    if (text_blank(entry->memo) || !utf8_valid(entry->memo, mlen) ||
        utf8_length(entry->memo, mlen) > 300) {
        return err_set(e, ERR_INVALID, "invalid_memo", "memo",
                       "'memo' must be 1 to 300 characters");
    }
    char field[96];
    for (int i = 0; i < entry->n_lines; i++) {
        const struct ledger_line *l = &entry->lines[i];
        if (!ledger_account_kind(l->account)) {
            return err_set(
                e, ERR_INVALID, "unknown_account", line_field(field, sizeof(field), i, "account"),
                "line %d: no account '%.16s' in the chart", i + 1, l->account ? l->account : "");
        }
        if (!ledger_fund_known(l->fund)) {
            return err_set(e, ERR_INVALID, "unknown_fund",
                           line_field(field, sizeof(field), i, "fund"), "line %d: no fund '%.24s'",
                           i + 1, l->fund ? l->fund : "");
        }
        if (!l->currency || strlen(l->currency) != 3 || money_exponent(l->currency) < 0) {
            return err_set(
                e, ERR_INVALID, "invalid_currency", line_field(field, sizeof(field), i, "currency"),
                "line %d: unknown currency '%.8s'", i + 1, l->currency ? l->currency : "");
        }
        if (l->amount == 0 || l->amount == INT64_MIN) {
            return err_set(e, ERR_INVALID, "invalid_amount",
                           line_field(field, sizeof(field), i, "amount"),
                           "line %d: the amount must not be zero", i + 1);
        }
        if (l->memo && (!utf8_valid(l->memo, strlen(l->memo)) ||
                        utf8_length(l->memo, strlen(l->memo)) > 300)) {
            return err_set(e, ERR_INVALID, "invalid_memo",
                           line_field(field, sizeof(field), i, "memo"),
                           "line %d: the memo must be at most 300 characters", i + 1);
        }
    }
    return 0;
}

/* Sums the lines per currency into sums (at most n_lines entries) and checks
 * each balances. Returns the number of currencies, or -1. */
static int balance_per_currency(const struct ledger_entry *entry, struct cur_sum *sums,
                                struct err *e)
{
    int n = 0;
    for (int i = 0; i < entry->n_lines; i++) {
        const struct ledger_line *l = &entry->lines[i];
        int c = 0;
        while (c < n && strcmp(sums[c].code, l->currency) != 0) {
            c++;
        }
        if (c == n) {
            sums[n++] = (struct cur_sum){.code = l->currency, .first = i};
        }
        int64_t *acc = l->amount > 0 ? &sums[c].debit : &sums[c].credit;
        if (__builtin_add_overflow(*acc, l->amount, acc)) {
            char field[96];
            return err_set(e, ERR_INVALID, "amount_too_large",
                           line_field(field, sizeof(field), i, "amount"),
                           "line %d: the amounts are too large", i + 1);
        }
    }
    for (int c = 0; c < n; c++) {
        if (sums[c].debit + sums[c].credit != 0) {
            struct money d = {.minor = sums[c].debit}, k = {.minor = -sums[c].credit};
            memcpy(d.currency, sums[c].code, 4);
            memcpy(k.currency, sums[c].code, 4);
            char dt[32], kt[32];
            return err_set(e, ERR_INVALID, "unbalanced", "lines",
                           "the %s lines do not balance: debits %s, credits %s", sums[c].code,
                           money_format(&d, dt, sizeof(dt)), money_format(&k, kt, sizeof(kt)));
        }
    }
    return n;
}

/* Adds interfund lines so each fund balances within each currency, then the
 * base amounts with rounding put on the largest line of each (currency,
 * fund) group. pl holds entry's lines on entry and room for n_cur x funds
 * more; returns the new count, or -1. */
static int complete_lines(struct ledger_pline *pl, int n, const struct cur_sum *sums, int n_cur,
                          const char *base, struct err *e)
{
    int total = n;
    for (int c = 0; c < n_cur; c++) {
        for (int f = 0; f < ledger_n_funds(); f++) {
            const char *fund = ledger_fund_code(f);
            int64_t sum = 0;
            bool any = false;
            for (int i = 0; i < n; i++) {
                if (strcmp(pl[i].currency, sums[c].code) == 0 && strcmp(pl[i].fund, fund) == 0) {
                    sum += pl[i].amount; /* cannot overflow: debits and credits each fit */
                    any = true;
                }
            }
            if (any && sum != 0) {
                pl[total++] = (struct ledger_pline){.account = ACCT_INTERFUND,
                                                    .fund = fund,
                                                    .currency = sums[c].code,
                                                    .amount = -sum,
                                                    .memo = NULL};
            }
        }
    }
    for (int i = 0; i < total; i++) {
        int c = 0;
        while (strcmp(sums[c].code, pl[i].currency) != 0) {
            c++;
        }
        if (money_convert(pl[i].amount, pl[i].currency, sums[c].rate_e9, base, &pl[i].base, e) <
            0) {
            char field[96];
            snprintf(e->field, sizeof(e->field), "%.60s",
                     line_field(field, sizeof(field), i < n ? i : 0, "amount"));
            return -1;
        }
    }
    /* Each (currency, fund) group sums to zero in its currency; make its base
     * column sum to zero too, by its largest line. */
    for (int i = 0; i < total; i++) {
        bool first = true;
        for (int j = 0; j < i; j++) {
            if (strcmp(pl[j].currency, pl[i].currency) == 0 &&
                strcmp(pl[j].fund, pl[i].fund) == 0) {
                first = false;
                break;
            }
        }
        if (!first) {
            continue;
        }
        int64_t sum = 0;
        int largest = i;
        for (int j = i; j < total; j++) {
            if (strcmp(pl[j].currency, pl[i].currency) == 0 &&
                strcmp(pl[j].fund, pl[i].fund) == 0) {
                if (__builtin_add_overflow(sum, pl[j].base, &sum)) {
                    return err_set(e, ERR_INVALID, "amount_too_large", "lines",
                                   "the amounts are too large");
                }
                int64_t mj = pl[j].base < 0 ? -pl[j].base : pl[j].base;
                int64_t ml = pl[largest].base < 0 ? -pl[largest].base : pl[largest].base;
                if (mj > ml) {
                    largest = j;
                }
            }
        }
        pl[largest].base -= sum;
    }
    return total;
}

int ledger_post_tx(struct db *db, const struct actor *a, const struct ledger_entry *entry,
                   char id_out[40], struct err *e)
{
    char period[8];
    if (check_entry(entry, period, e) < 0) {
        return -1;
    }
    struct cur_sum sums_small[8];
    struct cur_sum *sums =
        entry->n_lines <= 8 ? sums_small : xcalloc((size_t)entry->n_lines, sizeof(*sums));
    struct ledger_pline pl_small[16];
    size_t room = (size_t)entry->n_lines * (1 + (size_t)ledger_n_funds());
    struct ledger_pline *pl = room <= 16 ? pl_small : xcalloc(room, sizeof(*pl));
    int rc = -1;
    struct buf rate_text = BUF_INIT;
    int n_cur = balance_per_currency(entry, sums, e);
    char base[4];
    bool closed = false;
    if (n_cur < 0 || settings_for_post(db, a->org_id, period, base, &closed, e) < 0) {
        goto out;
    }
    if (closed) {
        err_set(e, ERR_CONFLICT, "period_closed", "date", "the period %s is closed", period);
        goto out;
    }
    for (int c = 0; c < n_cur; c++) {
        if (strcmp(sums[c].code, base) == 0) {
            sums[c].rate_e9 = MONEY_RATE_ONE;
            continue;
        }
        int found = rate_lookup(db, a->org_id, sums[c].code, entry->date, &sums[c].rate_e9, e);
        if (found <= 0) {
            if (found == 0) {
                char field[96];
                err_set(e, ERR_INVALID, "rate_missing",
                        line_field(field, sizeof(field), sums[c].first, "currency"),
                        "no %s rate on or before %s", sums[c].code, entry->date);
            }
            goto out;
        }
        char rt[40];
        buf_addf(&rate_text, "%s%s=%s", rate_text.len ? " " : "", sums[c].code,
                 money_rate_format(sums[c].rate_e9, rt, sizeof(rt)));
    }
    for (int i = 0; i < entry->n_lines; i++) {
        const struct ledger_line *l = &entry->lines[i];
        pl[i] = (struct ledger_pline){.account = l->account,
                                      .fund = l->fund,
                                      .currency = l->currency,
                                      .amount = l->amount,
                                      .donor_id = l->donor_id,
                                      .child_id = l->child_id,
                                      .sponsorship_id = l->sponsorship_id,
                                      .memo = l->memo};
    }
    int total = complete_lines(pl, entry->n_lines, sums, n_cur, base, e);
    if (total > 0) {
        struct ledger_head h = {.date = entry->date,
                                .memo = entry->memo,
                                .source_kind = entry->source_kind,
                                .source_id = entry->source_id,
                                .base = base,
                                .rate_text = rate_text.len ? rate_text.buf : NULL};
        rc = ledger_write_entry(db, a, &h, pl, total, id_out, e);
    }
out:
    buf_release(&rate_text);
    if (sums != sums_small) {
        free(sums);
    }
    if (pl != pl_small) {
        free(pl);
    }
    return rc;
}

int ledger_reverse_tx(struct db *db, const struct actor *a, const char *entry_id, const char *date,
                      const char *memo, char id_out[40], struct err *e)
{
    char today[11], period[8];
    if (!date) {
        ledger_today(today);
        date = today;
    }
    if (date_period(date, "date", period, e) < 0) {
        return -1;
    }
    if (!entry_id || !uuid_valid(entry_id)) {
        return err_set(e, ERR_NOT_FOUND, "not_found", "entry_id", "no such entry");
    }
    int found;
    struct db_stmt *s =
        db_row(db, e, &found,
               "SELECT e.entry_no, e.reverses_id, e.base_currency, e.rate, r.reversed_by"
               " FROM journal_entries e LEFT JOIN journal_reversals r ON r.entry_id = e.id"
               " WHERE e.id = $1 AND e.org_id = $2",
               "tt", entry_id, a->org_id);
    if (!s) {
        return found < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "not_found", "entry_id", "no such entry");
    }
    int64_t no = db_col_int64(s, 0);
    bool is_reversal = !db_col_null(s, 1), reversed = !db_col_null(s, 4);
    char base[4], rate[256];
    snprintf(base, sizeof(base), "%s", db_col_text(s, 2));
    snprintf(rate, sizeof(rate), "%s", db_col_null(s, 3) ? "" : db_col_text(s, 3));
    db_done(s);
    if (is_reversal) {
        return err_set(e, ERR_CONFLICT, "is_reversal", "entry_id",
                       "entry %lld is itself a reversal", (long long)no);
    }
    if (reversed) {
        return err_set(e, ERR_CONFLICT, "already_reversed", "entry_id",
                       "entry %lld is already reversed", (long long)no);
    }
    int closed = ledger_period_closed(db, a->org_id, date, e);
    if (closed < 0) {
        return -1;
    }
    if (closed) {
        return err_set(e, ERR_CONFLICT, "period_closed", "date", "the period %s is closed", period);
    }
    char memo_buf[340];
    if (text_blank(memo)) {
        /* Stored text: in the language of whoever reverses. */
        snprintf(memo_buf, sizeof(memo_buf),
                 strcmp(a->lang, "ar") == 0 ? "عكس القيد رقم %lld" : "Reversal of entry %lld",
                 (long long)no);
        memo = memo_buf;
    } else if (!utf8_valid(memo, strlen(memo)) || utf8_length(memo, strlen(memo)) > 300) {
        return err_set(e, ERR_INVALID, "invalid_memo", "memo",
                       "'memo' must be 1 to 300 characters");
    }
    /* Every line negated, in both columns: the reversal cancels the original
     * exactly, at the original's rates. */
    s = db_query(db, e,
                 "SELECT account, fund, currency, amount, base_amount, donor_id, child_id,"
                 " sponsorship_id, memo FROM journal_lines WHERE entry_id = $1 ORDER BY line_no",
                 "t", entry_id);
    if (!s) {
        return -1;
    }
    int n = 0, cap = 0, rc;
    struct ledger_pline *pl = NULL;
    char **strs = NULL; /* owned copies, 7 per line */
    while ((rc = db_step(s, e)) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            pl = xrealloc(pl, (size_t)cap * sizeof(*pl));
            strs = xrealloc(strs, (size_t)cap * 7 * sizeof(*strs));
        }
        char **st = &strs[n * 7];
        int cols[7] = {0, 1, 2, 5, 6, 7, 8};
        for (int k = 0; k < 7; k++) {
            st[k] = db_col_null(s, cols[k]) ? NULL : xstrdup(db_col_text(s, cols[k]));
        }
        pl[n] = (struct ledger_pline){.account = st[0],
                                      .fund = st[1],
                                      .currency = st[2],
                                      .amount = -db_col_int64(s, 3),
                                      .base = -db_col_int64(s, 4),
                                      .donor_id = st[3],
                                      .child_id = st[4],
                                      .sponsorship_id = st[5],
                                      .memo = st[6]};
        n++;
    }
    db_done(s);
    char rid[40];
    if (rc == 0) {
        struct ledger_head h = {.date = date,
                                .memo = memo,
                                .source_kind = "reversal",
                                .source_id = entry_id,
                                .reverses_id = entry_id,
                                .base = base,
                                .rate_text = rate[0] ? rate : NULL};
        rc = ledger_write_entry(db, a, &h, pl, n, rid, e);
        if (rc == 0 &&
            db_run(db, e, "INSERT INTO journal_reversals (entry_id, reversed_by) VALUES ($1, $2)",
                   "tt", entry_id, rid) < 0) {
            if (strcmp(e->code, "unique_violation") == 0) {
                err_set(e, ERR_CONFLICT, "already_reversed", "entry_id",
                        "entry %lld is already reversed", (long long)no);
            }
            rc = -1;
        }
    }
    for (int i = 0; i < n * 7; i++) {
        free(strs[i]);
    }
    free(strs);
    free(pl);
    if (rc < 0) {
        return -1;
    }
    if (id_out) {
        snprintf(id_out, 40, "%s", rid);
    }
    return 0;
}

int ledger_reverse(struct db *db, const struct actor *a, const char *entry_id, const char *memo,
                   char id_out[40], struct err *e)
{
    if (!actor_can(a, PERM_FINANCE_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to change the books");
    }
    char rid[40];
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    if (ledger_reverse_tx(db, a, entry_id, NULL, memo, rid, e) < 0 ||
        actor_audit(db, a, "finance.entry.reverse", "journal_entry", entry_id, "ok", rid, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    if (id_out) {
        snprintf(id_out, 40, "%s", rid);
    }
    return 0;
}

int ledger_set_rate(struct db *db, const struct actor *a, const char *currency, const char *day,
                    const char *rate, struct err *e)
{
    if (!actor_can(a, PERM_FINANCE_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to change the books");
    }
    if (!currency || strlen(currency) != 3 || money_exponent(currency) < 0) {
        return err_set(e, ERR_INVALID, "invalid_currency", "currency",
                       "'currency' is not a known ISO 4217 currency");
    }
    char period[8];
    if (date_period(day, "day", period, e) < 0) {
        return -1;
    }
    int64_t r;
    if (money_rate_parse(rate, &r, e) < 0) {
        return -1;
    }
    char text[40];
    money_rate_format(r, text, sizeof(text));
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    char base[4];
    if (ledger_ensure_chart(db, a->org_id, e) < 0 ||
        ledger_base_currency(db, a->org_id, base, e) < 0) {
        return fail(db);
    }
    if (strcmp(base, currency) == 0) {
        db_rollback(db);
        return err_set(e, ERR_INVALID, "base_currency", "currency",
                       "the base currency %s needs no rate", base);
    }
    char at[32], detail[96];
    time_format_iso(time_now_ms(), at, sizeof(at));
    snprintf(detail, sizeof(detail), "%s %s %s", currency, day, text);
    if (db_run(db, e,
               "INSERT INTO fx_rates (org_id, currency, day, rate, rate_e9, created_by, created_at)"
               " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (org_id, currency, day)"
               " DO UPDATE SET rate = excluded.rate, rate_e9 = excluded.rate_e9,"
               " created_by = excluded.created_by, created_at = excluded.created_at",
               "ttttitt", a->org_id, currency, day, text, r, who(a), at) < 0 ||
        actor_audit(db, a, "finance.rate.set", "fx_rate", currency, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

int ledger_close_period(struct db *db, const struct actor *a, const char *period, struct err *e)
{
    if (!actor_can(a, PERM_FINANCE_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to change the books");
    }
    char date[16];
    snprintf(date, sizeof(date), "%.7s-01", period ? period : "");
    int y, m, d;
    if (!period || strlen(period) != 7 || time_date_parse(date, &y, &m, &d) < 0) {
        return err_set(e, ERR_INVALID, "invalid_month", "period",
                       "'period' must be a month (YYYY-MM)");
    }
    char today[11];
    ledger_today(today);
    if (strncmp(period, today, 7) >= 0) {
        return err_set(e, ERR_CONFLICT, "period_not_over", "period",
                       "only a month before the current one can be closed");
    }
    char at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    /* The settings row is the organization's books lock: closing holds it
     * until commit, and a posting on PostgreSQL takes it shared before it
     * reads the closed periods (see settings_for_post), so no entry can
     * commit into a month while that month is being closed. */
    if (ledger_ensure_chart(db, a->org_id, e) < 0 ||
        db_run(db, e, "UPDATE fin_settings SET updated_at = $1 WHERE org_id = $2", "tt", at,
               a->org_id) < 0) {
        return fail(db);
    }
    if (db_run(db, e,
               "INSERT INTO fin_periods (org_id, period, closed_at, closed_by)"
               " VALUES ($1, $2, $3, $4)",
               "tttt", a->org_id, period, at, who(a)) < 0) {
        if (strcmp(e->code, "unique_violation") == 0) {
            err_set(e, ERR_CONFLICT, "already_closed", "period", "the period %s is already closed",
                    period);
        }
        return fail(db);
    }
    if (actor_audit(db, a, "finance.period.close", "fin_period", period, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

/* Appends a problem {field, code, message} to errors. */
static void add_problem(json_t *errors, const char *field, const char *code, const char *msg)
{
    json_array_append_new(
        errors, json_pack("{s:s, s:s, s:s}", "field", field, "code", code, "message", msg));
}

/* Turns the problems into e (and *errors_out) and returns -1. */
static int invalid(json_t *errors, json_t **errors_out, struct err *e)
{
    json_t *first = json_array_get(errors, 0);
    const char *field = json_string_value(json_object_get(first, "field"));
    const char *code = json_string_value(json_object_get(first, "code"));
    err_set(e, ERR_INVALID, "validation_failed", field,
            "%zu field(s) are not valid; first: '%s' %s", json_array_size(errors),
            field ? field : "", code ? code : "");
    if (errors_out) {
        *errors_out = errors;
    } else {
        json_decref(errors);
    }
    return -1;
}

/* Reads line i of a manual entry into l (strings borrowed from the JSON),
 * adding its problems to errors. */
static void manual_line(json_t *jl, int i, struct ledger_line *l, json_t *errors)
{
    /* No donor, child or agreement dimensions by hand: those lines are the
     * sponsorship services' sub-ledger, and the sponsor statements are
     * checked against them. */
    static const char *const allowed[] = {"account", "fund", "currency", "debit",
                                          "credit",  "memo", NULL};
    char field[96];
    struct err le;
    err_clear(&le);
    if (!json_is_object(jl)) {
        add_problem(errors, line_field(field, sizeof(field), i, "account"), "not_an_object",
                    "a line must be an object");
        return;
    }
    if (json_known_members(jl, allowed, &le) < 0) {
        char f[96];
        snprintf(f, sizeof(f), "lines[%d].%s", i, le.field);
        add_problem(errors, f, le.code, le.msg);
        err_clear(&le);
    }
    const char *names[] = {"account", "fund", "currency", "memo"};
    const char **slots[] = {&l->account, &l->fund, &l->currency, &l->memo};
    for (int k = 0; k < 4; k++) {
        if (json_str_member(jl, names[k], k == 0 || k == 2, k == 3 ? 300 : 40, slots[k], &le) < 0) {
            add_problem(errors, line_field(field, sizeof(field), i, names[k]), le.code, le.msg);
            err_clear(&le);
        } else if (*slots[k] && !**slots[k]) {
            *slots[k] = NULL; /* an empty form field */
        }
    }
    if (!l->fund) {
        l->fund = FUND_UNRESTRICTED;
    }
    if (l->account && !ledger_account_kind(l->account)) {
        add_problem(errors, line_field(field, sizeof(field), i, "account"), "unknown_account",
                    "no such account in the chart");
    }
    if (!ledger_fund_known(l->fund)) {
        add_problem(errors, line_field(field, sizeof(field), i, "fund"), "unknown_fund",
                    "no such fund");
    }
    const char *debit = NULL, *credit = NULL;
    if (json_str_member(jl, "debit", false, 40, &debit, &le) < 0 ||
        json_str_member(jl, "credit", false, 40, &credit, &le) < 0) {
        add_problem(errors, line_field(field, sizeof(field), i, le.field), le.code, le.msg);
        return;
    }
    debit = debit && *debit ? debit : NULL;
    credit = credit && *credit ? credit : NULL;
    if (!debit == !credit) {
        add_problem(errors, line_field(field, sizeof(field), i, "debit"), "invalid_amount",
                    "give either a debit or a credit");
        return;
    }
    if (!l->currency) {
        return;
    }
    if (strlen(l->currency) != 3 || money_exponent(l->currency) < 0) {
        add_problem(errors, line_field(field, sizeof(field), i, "currency"), "invalid_currency",
                    "unknown currency");
        return;
    }
    struct money m;
    const char *which = debit ? "debit" : "credit";
    if (money_parse(debit ? debit : credit, l->currency, &m, &le) < 0) {
        add_problem(errors, line_field(field, sizeof(field), i, which), le.code, le.msg);
        return;
    }
    if (m.minor <= 0) {
        add_problem(errors, line_field(field, sizeof(field), i, which), "invalid_amount",
                    "the amount must be greater than zero");
        return;
    }
    l->amount = debit ? m.minor : -m.minor;
}

int ledger_post_manual(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                       json_t **errors_out, struct err *e)
{
    if (errors_out) {
        *errors_out = NULL;
    }
    if (!actor_can(a, PERM_FINANCE_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to change the books");
    }
    if (!json_is_object(input)) {
        return err_set(e, ERR_INVALID, "not_an_object", NULL, "the body must be a JSON object");
    }
    static const char *const allowed[] = {"date", "memo", "lines", NULL};
    if (json_known_members(input, allowed, e) < 0) {
        return -1;
    }
    json_t *errors = json_array();
    struct err fe;
    err_clear(&fe);
    const char *date = NULL, *memo = NULL;
    char today[11], period[8];
    if (json_str_member(input, "date", false, 10, &date, &fe) < 0) {
        add_problem(errors, "date", fe.code, fe.msg);
        err_clear(&fe);
    } else {
        if (!date || !*date) {
            ledger_today(today);
            date = today;
        }
        if (date_period(date, "date", period, &fe) < 0) {
            add_problem(errors, "date", fe.code, fe.msg);
            err_clear(&fe);
        }
    }
    if (json_str_member(input, "memo", true, 300, &memo, &fe) < 0 || text_blank(memo)) {
        add_problem(errors, "memo", fe.code[0] ? fe.code : "required",
                    fe.code[0] ? fe.msg : "'memo' is required");
        err_clear(&fe);
    }
    json_t *jlines = json_object_get(input, "lines");
    size_t n = json_array_size(jlines);
    if (!json_is_array(jlines) || n < 2) {
        add_problem(errors, "lines", "too_few_lines", "an entry needs at least two lines");
    } else if (n > LEDGER_MAX_LINES) {
        add_problem(errors, "lines", "too_many_lines", "too many lines");
        n = 0;
    }
    struct ledger_line *lines = xcalloc(n ? n : 1, sizeof(*lines));
    for (size_t i = 0; i < n; i++) {
        manual_line(json_array_get(jlines, i), (int)i, &lines[i], errors);
    }
    if (json_array_size(errors) > 0) {
        free(lines);
        return invalid(errors, errors_out, e);
    }
    json_decref(errors);
    struct ledger_entry entry = {
        .date = date, .memo = memo, .source_kind = "manual", .lines = lines, .n_lines = (int)n};
    char id[40];
    int rc = db_begin(db, false, e);
    if (rc == 0) {
        rc = ledger_post_tx(db, a, &entry, id, e) < 0 ||
                     actor_audit(db, a, "finance.entry.post", "journal_entry", id, "ok", memo, e) <
                         0 ||
                     db_commit(db, e) < 0
                 ? fail(db)
                 : 0;
    }
    free(lines);
    if (rc == 0 && id_out) {
        snprintf(id_out, 40, "%s", id);
    }
    return rc;
}
