/*
 * test_ledger: the books at the service level: the chart, posting (balance
 * per currency, interfund lines so every fund balances, base amounts with
 * rounding so the base column balances), refusals naming the line, rates,
 * reversals (never twice, never of a reversal), closed periods (posting and
 * reversing into them refused), immutability enforced by the database,
 * gap-free entry numbers after a rolled-back post, manual entries with
 * permissions, and the reports (trial balance zero per currency after many
 * random entries, balance sheet, income statement). Runs on SANAD_TEST_DB or
 * a temporary SQLite file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/money.h"
#include "core/time.h"
#include "db/db_util.h"
#include "finance/ledger.h"
#include "testlib.h"

static struct testenv env;
static struct actor fin, fin_b, worker, auditor, cli;
static char org_a[40], org_b[40];

static int setup(void **state)
{
    (void)state;
    if (testenv_open(&env, "ledger") < 0) {
        return -1;
    }
    char sa[32], sb[32];
    testenv_org(&env, org_a, sa);
    testenv_org(&env, org_b, sb);
    testenv_user(&env, &fin, "finance_officer", org_a, sa);
    testenv_user(&env, &fin_b, "finance_officer", org_b, sb);
    testenv_user(&env, &worker, "case_worker", org_a, sa);
    testenv_user(&env, &auditor, "auditor", org_a, sa);
    actor_system(&cli, org_a);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return testenv_close(&env);
}

/* Today's date shifted by months (day 15 of that month), as YYYY-MM-DD. */
static void month_day(int months, char out[11])
{
    int y, m, d;
    time_today(&y, &m, &d);
    int idx = y * 12 + (m - 1) + months;
    char tmp[32];
    snprintf(tmp, sizeof(tmp), "%04d-%02d-15", idx / 12, idx % 12 + 1);
    snprintf(out, 11, "%.10s", tmp);
}

/* A single integer from SQL with one text parameter. */
static int64_t sql_int(const char *sql, const char *p1)
{
    struct err e;
    err_clear(&e);
    int found;
    struct db_stmt *s = db_row(env.db, &e, &found, sql, "t", p1);
    if (!s) {
        fail_msg("sql_int: %s (%s)", e.msg, sql);
    }
    int64_t v = db_col_int64(s, 0);
    db_done(s);
    return v;
}

/* Posts entry for actor a in its own transaction; returns ledger_post_tx's result. */
static int post(const struct actor *a, const struct ledger_entry *entry, char id[40], struct err *e)
{
    err_clear(e);
    assert_int_equal(db_begin(env.db, false, e), 0);
    if (ledger_post_tx(env.db, a, entry, id, e) < 0) {
        db_rollback(env.db);
        return -1;
    }
    assert_int_equal(db_commit(env.db, e), 0);
    return 0;
}

/* Number of journal entries of org. */
static int64_t n_entries(const char *org)
{
    return sql_int("SELECT COUNT(*) FROM journal_entries WHERE org_id = $1", org);
}

static void test_chart(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    char base[4];
    assert_int_equal(ledger_base_currency(env.db, org_b, base, &e), 0);
    assert_string_equal(base, "USD");
    assert_int_equal(db_begin(env.db, false, &e), 0);
    assert_int_equal(ledger_ensure_chart(env.db, org_b, &e), 0);
    assert_int_equal(ledger_ensure_chart(env.db, org_b, &e), 0); /* idempotent */
    assert_int_equal(db_commit(env.db, &e), 0);
    assert_int_equal(sql_int("SELECT COUNT(*) FROM fin_accounts WHERE org_id = $1", org_b), 16);
    assert_int_equal(sql_int("SELECT COUNT(*) FROM fin_funds WHERE org_id = $1", org_b), 6);
    assert_int_equal(sql_int("SELECT COUNT(*) FROM fin_accounts WHERE org_id = $1"
                             " AND code = '1950' AND kind = 'asset'",
                             org_b),
                     1);
    int64_t r = 0;
    assert_int_equal(ledger_rate_e9(env.db, org_b, "USD", "2026-01-01", &r, &e), 1);
    assert_int_equal(r, MONEY_RATE_ONE);
    assert_int_equal(ledger_rate_e9(env.db, org_b, "EUR", "2026-01-01", &r, &e), 0);
    /* Base currency: only finance.write, only a known code, only while empty. */
    err_clear(&e);
    assert_int_equal(ledger_set_base_currency(env.db, &worker, "EUR", &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_int_equal(ledger_set_base_currency(env.db, &fin_b, "XYZ", &e), -1);
    assert_string_equal(e.code, "invalid_currency");
    err_clear(&e);
    assert_int_equal(ledger_set_base_currency(env.db, &fin_b, "JOD", &e), 0);
    assert_int_equal(ledger_base_currency(env.db, org_b, base, &e), 0);
    assert_string_equal(base, "JOD");
}

/* The first post creates the chart; lines balance; numbers count up. */
static void test_post_basic(void **state)
{
    (void)state;
    struct err e;
    char today[11], id[40], id2[40];
    month_day(0, today);
    struct ledger_line lines[] = {
        {.account = ACCT_RECEIVABLE, .fund = "sponsorship", .currency = "USD", .amount = 5000},
        {.account = ACCT_INCOME_SPONSOR,
         .fund = "sponsorship",
         .currency = "USD",
         .amount = -5000,
         .memo = "due"},
    };
    struct ledger_entry entry = {.date = today,
                                 .memo = "Due for May",
                                 .source_kind = "due",
                                 .source_id = "d1",
                                 .lines = lines,
                                 .n_lines = 2};
    assert_int_equal(post(&fin, &entry, id, &e), 0);
    assert_int_equal(sql_int("SELECT COUNT(*) FROM fin_settings WHERE org_id = $1", org_a), 1);
    assert_int_equal(post(&fin, &entry, id2, &e), 0);
    assert_int_equal(sql_int("SELECT entry_no FROM journal_entries WHERE id = $1", id2) -
                         sql_int("SELECT entry_no FROM journal_entries WHERE id = $1", id),
                     1);
    assert_int_equal(sql_int("SELECT COUNT(*) FROM journal_lines WHERE entry_id = $1", id), 2);
    assert_int_equal(sql_int("SELECT SUM(amount) FROM journal_lines WHERE entry_id = $1", id), 0);
    assert_int_equal(sql_int("SELECT SUM(base_amount) FROM journal_lines WHERE entry_id = $1", id),
                     0);
    assert_int_equal(sql_int("SELECT amount FROM journal_lines WHERE entry_id = $1"
                             " AND line_no = 1",
                             id),
                     5000);
    assert_int_equal(sql_int("SELECT COUNT(*) FROM journal_entries WHERE id = $1"
                             " AND rate IS NULL AND base_currency = 'USD'",
                             id),
                     1);
    /* Once entries exist the base currency is fixed. */
    err_clear(&e);
    assert_int_equal(ledger_set_base_currency(env.db, &fin, "EUR", &e), -1);
    assert_string_equal(e.code, "ledger_not_empty");
    char base[4];
    assert_int_equal(ledger_base_currency(env.db, org_a, base, &e), 0);
    assert_string_equal(base, "USD");
}

/* Each refusal names its line, and nothing is written. */
static void test_post_refusals(void **state)
{
    (void)state;
    struct err e;
    char today[11], id[40];
    month_day(0, today);
    int64_t before = n_entries(org_a);
    struct {
        struct ledger_line l[3];  /* the lines */
        int n;                    /* how many */
        const char *date;         /* date or NULL for today */
        const char *code, *field; /* expected */
    } cases[] = {
        {{{ACCT_BANK, "unrestricted", "USD", 100, NULL, NULL, NULL, NULL},
          {ACCT_INCOME_OTHER, "unrestricted", "USD", -99, NULL, NULL, NULL, NULL}},
         2,
         NULL,
         "unbalanced",
         "lines"},
        {{{ACCT_BANK, "unrestricted", "USD", 100, NULL, NULL, NULL, NULL},
          {"4999", "unrestricted", "USD", -100, NULL, NULL, NULL, NULL}},
         2,
         NULL,
         "unknown_account",
         "lines[1].account"},
        {{{ACCT_BANK, "unrestricted", "USD", 100, NULL, NULL, NULL, NULL},
          {ACCT_INCOME_OTHER, "pocket", "USD", -100, NULL, NULL, NULL, NULL}},
         2,
         NULL,
         "unknown_fund",
         "lines[1].fund"},
        {{{ACCT_BANK, "unrestricted", "XXX", 100, NULL, NULL, NULL, NULL},
          {ACCT_INCOME_OTHER, "unrestricted", "XXX", -100, NULL, NULL, NULL, NULL}},
         2,
         NULL,
         "invalid_currency",
         "lines[0].currency"},
        {{{ACCT_BANK, "unrestricted", "USD", 100, NULL, NULL, NULL, NULL},
          {ACCT_INCOME_OTHER, "unrestricted", "USD", 0, NULL, NULL, NULL, NULL},
          {ACCT_INCOME_OTHER, "unrestricted", "USD", -100, NULL, NULL, NULL, NULL}},
         3,
         NULL,
         "invalid_amount",
         "lines[1].amount"},
        {{{ACCT_BANK, "unrestricted", "USD", 100, NULL, NULL, NULL, NULL}},
         1,
         NULL,
         "too_few_lines",
         "lines"},
        {{{ACCT_BANK, "unrestricted", "USD", 100, NULL, NULL, NULL, NULL},
          {ACCT_INCOME_OTHER, "unrestricted", "USD", -100, NULL, NULL, NULL, NULL}},
         2,
         "2026-02-30",
         "invalid_date",
         "date"},
        {{{ACCT_BANK, "unrestricted", "USD", 100, NULL, NULL, NULL, NULL},
          {ACCT_INCOME_OTHER, "unrestricted", "USD", -100, NULL, NULL, NULL, NULL},
          {ACCT_BANK, "unrestricted", "GBP", 100, NULL, NULL, NULL, NULL}},
         3,
         NULL,
         "unbalanced",
         "lines"},
        /* Balanced in each currency, but no GBP rate. */
        {{{ACCT_BANK, "unrestricted", "USD", 100, NULL, NULL, NULL, NULL},
          {ACCT_BANK, "unrestricted", "GBP", 100, NULL, NULL, NULL, NULL},
          {ACCT_INCOME_OTHER, "unrestricted", "GBP", -100, NULL, NULL, NULL, NULL}},
         3,
         NULL,
         "unbalanced",
         "lines"},
        {{{ACCT_BANK, "unrestricted", "GBP", 100, NULL, NULL, NULL, NULL},
          {ACCT_INCOME_OTHER, "unrestricted", "GBP", -100, NULL, NULL, NULL, NULL}},
         2,
         NULL,
         "rate_missing",
         "lines[0].currency"},
        /* Overflowing debits. */
        {{{ACCT_BANK, "unrestricted", "USD", INT64_MAX, NULL, NULL, NULL, NULL},
          {ACCT_BANK, "unrestricted", "USD", INT64_MAX, NULL, NULL, NULL, NULL},
          {ACCT_INCOME_OTHER, "unrestricted", "USD", -1, NULL, NULL, NULL, NULL}},
         3,
         NULL,
         "amount_too_large",
         "lines[1].amount"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ledger_entry entry = {.date = cases[i].date ? cases[i].date : today,
                                     .memo = "bad",
                                     .source_kind = "manual",
                                     .lines = cases[i].l,
                                     .n_lines = cases[i].n};
        assert_int_equal(post(&fin, &entry, id, &e), -1);
        if (strcmp(e.code, cases[i].code) != 0 || strcmp(e.field, cases[i].field) != 0) {
            fail_msg("case %zu: got %s/%s, want %s/%s", i, e.code, e.field, cases[i].code,
                     cases[i].field);
        }
    }
    struct ledger_line ok[] = {
        {ACCT_BANK, "unrestricted", "USD", 100, NULL, NULL, NULL, NULL},
        {ACCT_INCOME_OTHER, "unrestricted", "USD", -100, NULL, NULL, NULL, NULL}};
    struct ledger_entry blank = {.date = today, .memo = "  ", .lines = ok, .n_lines = 2};
    assert_int_equal(post(&fin, &blank, id, &e), -1);
    assert_string_equal(e.field, "memo");
    assert_int_equal(n_entries(org_a), before);
}

/* Lines of different funds get interfund lines; every fund balances. */
static void test_interfund(void **state)
{
    (void)state;
    struct err e;
    char today[11], id[40];
    month_day(0, today);
    struct ledger_line lines[] = {
        {.account = ACCT_ADVANCES, .fund = "sponsorship", .currency = "USD", .amount = 7000},
        {.account = ACCT_RECEIVABLE, .fund = "education", .currency = "USD", .amount = -3000},
        {.account = ACCT_RECEIVABLE, .fund = "medical", .currency = "USD", .amount = -4000},
    };
    struct ledger_entry entry = {.date = today,
                                 .memo = "allocation",
                                 .source_kind = "allocation",
                                 .lines = lines,
                                 .n_lines = 3};
    assert_int_equal(post(&fin, &entry, id, &e), 0);
    assert_int_equal(sql_int("SELECT COUNT(*) FROM journal_lines WHERE entry_id = $1", id), 6);
    assert_int_equal(sql_int("SELECT COUNT(*) FROM journal_lines WHERE entry_id = $1"
                             " AND account = '1950'",
                             id),
                     3);
    assert_int_equal(sql_int("SELECT amount FROM journal_lines WHERE entry_id = $1"
                             " AND account = '1950' AND fund = 'sponsorship'",
                             id),
                     -7000);
    assert_int_equal(sql_int("SELECT amount FROM journal_lines WHERE entry_id = $1"
                             " AND account = '1950' AND fund = 'medical'",
                             id),
                     4000);
    /* Every fund sums to zero, in both columns. */
    assert_int_equal(sql_int("SELECT COUNT(*) FROM (SELECT fund FROM journal_lines"
                             " WHERE entry_id = $1 GROUP BY fund"
                             " HAVING SUM(amount) <> 0 OR SUM(base_amount) <> 0) x",
                             id),
                     0);
}

/* Foreign currencies: rate of the day (latest on or before), base column
 * rounded and balanced by the largest line. */
static void test_rates_rounding(void **state)
{
    (void)state;
    struct err e;
    char today[11], last[11], id[40];
    month_day(0, today);
    month_day(-1, last);
    err_clear(&e);
    assert_int_equal(ledger_set_rate(env.db, &worker, "EUR", last, "1.5", &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    const char *bad[][3] = {{"XXX", "1.5", "invalid_currency"},
                            {"USD", "1.5", "base_currency"},
                            {"EUR", "0", "invalid_rate"},
                            {"EUR", "-1", "invalid_rate"},
                            {"EUR", "1.1234567891", "invalid_rate"}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&e);
        assert_int_equal(ledger_set_rate(env.db, &fin, bad[i][0], last, bad[i][1], &e), -1);
        assert_string_equal(e.code, bad[i][2]);
    }
    err_clear(&e);
    assert_int_equal(ledger_set_rate(env.db, &fin, "EUR", "2026-02-30", "1.5", &e), -1);
    assert_string_equal(e.field, "day");
    assert_int_equal(ledger_set_rate(env.db, &fin, "EUR", last, "1.5", &e), 0);
    assert_int_equal(ledger_set_rate(env.db, &fin, "JOD", last, "1.41", &e), 0);
    int64_t r = 0;
    assert_int_equal(ledger_rate_e9(env.db, org_a, "EUR", today, &r, &e), 1);
    assert_int_equal(r, INT64_C(1500000000));
    /* Before the first rate there is none. */
    assert_int_equal(ledger_rate_e9(env.db, org_a, "EUR", "2000-01-01", &r, &e), 0);
    /* 3 x 0.01 EUR against 0.03 EUR at 1.5: each small line is 0.015 -> 0.02
     * (0.06) against -0.045 -> -0.05; the base column is off by 0.01 and the
     * largest line takes it. */
    struct ledger_line lines[] = {
        {.account = ACCT_BANK, .fund = "unrestricted", .currency = "EUR", .amount = 1},
        {.account = ACCT_BANK, .fund = "unrestricted", .currency = "EUR", .amount = 1},
        {.account = ACCT_BANK, .fund = "unrestricted", .currency = "EUR", .amount = 1},
        {.account = ACCT_INCOME_OTHER, .fund = "unrestricted", .currency = "EUR", .amount = -3},
        {.account = ACCT_CASH, .fund = "unrestricted", .currency = "JOD", .amount = 1000},
        {.account = ACCT_INCOME_OTHER, .fund = "unrestricted", .currency = "JOD", .amount = -1000},
    };
    struct ledger_entry entry = {
        .date = today, .memo = "fx", .source_kind = "manual", .lines = lines, .n_lines = 6};
    assert_int_equal(post(&fin, &entry, id, &e), 0);
    assert_int_equal(sql_int("SELECT SUM(base_amount) FROM journal_lines WHERE entry_id = $1", id),
                     0);
    assert_int_equal(sql_int("SELECT base_amount FROM journal_lines WHERE entry_id = $1"
                             " AND line_no = 4",
                             id),
                     -6);
    assert_int_equal(sql_int("SELECT base_amount FROM journal_lines WHERE entry_id = $1"
                             " AND line_no = 1",
                             id),
                     2);
    assert_int_equal(sql_int("SELECT base_amount FROM journal_lines WHERE entry_id = $1"
                             " AND line_no = 5",
                             id),
                     141);
    assert_int_equal(sql_int("SELECT COUNT(*) FROM journal_entries WHERE id = $1"
                             " AND rate = 'EUR=1.5 JOD=1.41'",
                             id),
                     1);
    /* A rate for today wins over last month's. */
    assert_int_equal(ledger_set_rate(env.db, &fin, "EUR", today, "2", &e), 0);
    struct ledger_entry two = {.date = today, .memo = "fx2", .lines = lines + 3 - 3, .n_lines = 4};
    assert_int_equal(post(&fin, &two, id, &e), 0);
    assert_int_equal(sql_int("SELECT base_amount FROM journal_lines WHERE entry_id = $1"
                             " AND line_no = 4",
                             id),
                     -6);
    assert_int_equal(sql_int("SELECT base_amount FROM journal_lines WHERE entry_id = $1"
                             " AND line_no = 1",
                             id),
                     2);
}

static void test_reversal(void **state)
{
    (void)state;
    struct err e;
    char today[11], id[40], rid[40], rid2[40];
    month_day(0, today);
    struct ledger_line lines[] = {
        {.account = ACCT_BANK,
         .fund = "sponsorship",
         .currency = "EUR",
         .amount = 3333,
         .donor_id = "donor-1"},
        {.account = ACCT_ADVANCES, .fund = "education", .currency = "EUR", .amount = -3333},
    };
    struct ledger_entry entry = {.date = today,
                                 .memo = "payment",
                                 .source_kind = "payment",
                                 .source_id = "p1",
                                 .lines = lines,
                                 .n_lines = 2};
    assert_int_equal(post(&fin, &entry, id, &e), 0);
    err_clear(&e);
    assert_int_equal(ledger_reverse(env.db, &auditor, id, NULL, rid, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    assert_int_equal(ledger_reverse(env.db, &fin, id, "wrong amount", rid, &e), 0);
    /* The reversal negates every line (interfund ones too), both columns. */
    assert_int_equal(sql_int("SELECT COUNT(*) FROM journal_lines WHERE entry_id = $1", rid), 4);
    assert_int_equal(sql_int("SELECT COUNT(*) FROM (SELECT account, fund FROM journal_lines"
                             " WHERE entry_id IN ($1, (SELECT reversed_by FROM journal_reversals"
                             " WHERE entry_id = $1)) GROUP BY account, fund"
                             " HAVING SUM(amount) <> 0 OR SUM(base_amount) <> 0) x",
                             id),
                     0);
    assert_int_equal(sql_int("SELECT COUNT(*) FROM journal_lines WHERE entry_id = $1"
                             " AND donor_id = 'donor-1' AND amount = -3333",
                             rid),
                     1);
    assert_int_equal(sql_int("SELECT COUNT(*) FROM journal_entries WHERE id = $1"
                             " AND source_kind = 'reversal' AND memo = 'wrong amount'",
                             rid),
                     1);
    err_clear(&e);
    assert_int_equal(ledger_reverse(env.db, &fin, id, NULL, rid2, &e), -1);
    assert_string_equal(e.code, "already_reversed");
    err_clear(&e);
    assert_int_equal(ledger_reverse(env.db, &fin, rid, NULL, rid2, &e), -1);
    assert_string_equal(e.code, "is_reversal");
    /* Another organization's entry does not exist for fin_b. */
    err_clear(&e);
    assert_int_equal(ledger_reverse(env.db, &fin_b, id, NULL, rid2, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    err_clear(&e);
    assert_int_equal(ledger_reverse(env.db, &fin, "nonsense", NULL, rid2, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    /* The audit trail has both the post and the reversal. */
    assert_int_equal(sql_int("SELECT COUNT(*) FROM audit_log WHERE action ="
                             " 'finance.entry.reverse' AND entity_id = $1",
                             id),
                     1);
}

static void test_periods(void **state)
{
    (void)state;
    struct err e;
    char today[11], last[11], older[11], id[40], rid[40];
    month_day(0, today);
    month_day(-1, last);
    month_day(-3, older);
    struct ledger_line lines[] = {
        {.account = ACCT_BANK, .fund = "unrestricted", .currency = "USD", .amount = 100},
        {.account = ACCT_INCOME_OTHER, .fund = "unrestricted", .currency = "USD", .amount = -100},
    };
    struct ledger_entry entry = {.date = last, .memo = "last month", .lines = lines, .n_lines = 2};
    assert_int_equal(post(&fin, &entry, id, &e), 0);
    char period[8], cur[8];
    snprintf(period, sizeof(period), "%.7s", last);
    snprintf(cur, sizeof(cur), "%.7s", today);
    err_clear(&e);
    assert_int_equal(ledger_close_period(env.db, &auditor, period, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_int_equal(ledger_close_period(env.db, &fin, cur, &e), -1);
    assert_string_equal(e.code, "period_not_over");
    err_clear(&e);
    assert_int_equal(ledger_close_period(env.db, &fin, "2026-13", &e), -1);
    assert_string_equal(e.code, "invalid_month");
    assert_int_equal(ledger_period_closed(env.db, org_a, last, &e), 0);
    assert_int_equal(ledger_close_period(env.db, &fin, period, &e), 0);
    assert_int_equal(ledger_period_closed(env.db, org_a, last, &e), 1);
    assert_int_equal(ledger_period_closed(env.db, org_b, last, &e), 0);
    assert_int_equal(ledger_period_closed(env.db, org_a, older, &e), 0);
    err_clear(&e);
    assert_int_equal(ledger_close_period(env.db, &fin, period, &e), -1);
    assert_string_equal(e.code, "already_closed");
    assert_int_equal(sql_int("SELECT COUNT(*) FROM audit_log WHERE action ="
                             " 'finance.period.close' AND org_id = $1",
                             org_a),
                     1);
    int64_t before = n_entries(org_a);
    assert_int_equal(post(&fin, &entry, id, &e), -1);
    assert_string_equal(e.code, "period_closed");
    assert_int_equal(e.kind, ERR_CONFLICT);
    /* A reversal dated in the closed period is refused; dated today it goes. */
    struct ledger_entry now = {.date = today, .memo = "now", .lines = lines, .n_lines = 2};
    assert_int_equal(post(&fin, &now, id, &e), 0);
    err_clear(&e);
    assert_int_equal(db_begin(env.db, false, &e), 0);
    assert_int_equal(ledger_reverse_tx(env.db, &fin, id, last, NULL, rid, &e), -1);
    assert_string_equal(e.code, "period_closed");
    db_rollback(env.db);
    assert_int_equal(n_entries(org_a), before + 1);
    /* Other organizations are not affected. */
    entry.memo = "org b last month";
    assert_int_equal(post(&fin_b, &entry, id, &e), -1); /* org b is in JOD: no USD rate */
    assert_string_equal(e.code, "rate_missing");
}

static void test_immutable(void **state)
{
    (void)state;
    struct err e;
    char today[11], id[40];
    month_day(0, today);
    struct ledger_line lines[] = {
        {.account = ACCT_BANK, .fund = "unrestricted", .currency = "USD", .amount = 100},
        {.account = ACCT_INCOME_OTHER, .fund = "unrestricted", .currency = "USD", .amount = -100},
    };
    struct ledger_entry entry = {.date = today, .memo = "fixed", .lines = lines, .n_lines = 2};
    assert_int_equal(post(&fin, &entry, id, &e), 0);
    const char *sql[] = {
        "UPDATE journal_entries SET memo = 'changed' WHERE id = $1",
        "DELETE FROM journal_entries WHERE id = $1",
        "UPDATE journal_lines SET amount = 1 WHERE entry_id = $1",
        "DELETE FROM journal_lines WHERE entry_id = $1",
    };
    for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
        err_clear(&e);
        assert_int_equal(db_begin(env.db, false, &e), 0);
        assert_true(db_run(env.db, &e, sql[i], "t", id) < 0);
        db_rollback(env.db);
    }
    assert_int_equal(sql_int("SELECT COUNT(*) FROM journal_entries WHERE id = $1"
                             " AND memo = 'fixed'",
                             id),
                     1);
    assert_int_equal(sql_int("SELECT SUM(amount) FROM journal_lines WHERE entry_id = $1"
                             " AND amount > 0",
                             id),
                     100);
}

/* A post rolled back with its transaction leaves no hole in the numbers. */
static void test_no_gaps(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    char today[11], id[40], id2[40];
    month_day(0, today);
    struct ledger_line lines[] = {
        {.account = ACCT_BANK, .fund = "unrestricted", .currency = "USD", .amount = 100},
        {.account = ACCT_INCOME_OTHER, .fund = "unrestricted", .currency = "USD", .amount = -100},
    };
    struct ledger_entry entry = {.date = today, .memo = "n", .lines = lines, .n_lines = 2};
    assert_int_equal(post(&fin, &entry, id, &e), 0);
    assert_int_equal(db_begin(env.db, false, &e), 0);
    assert_int_equal(ledger_post_tx(env.db, &fin, &entry, id2, &e), 0);
    db_rollback(env.db);
    assert_int_equal(sql_int("SELECT COUNT(*) FROM journal_entries WHERE id = $1", id2), 0);
    assert_int_equal(post(&fin, &entry, id2, &e), 0);
    assert_int_equal(sql_int("SELECT entry_no FROM journal_entries WHERE id = $1", id2) -
                         sql_int("SELECT entry_no FROM journal_entries WHERE id = $1", id),
                     1);
    /* Numbers 1..n with no gap and no repeat. */
    assert_int_equal(sql_int("SELECT MAX(entry_no) - COUNT(DISTINCT entry_no) FROM"
                             " journal_entries WHERE org_id = $1",
                             org_a),
                     0);
    assert_int_equal(sql_int("SELECT MIN(entry_no) FROM journal_entries WHERE org_id = $1", org_a),
                     1);
}

/* The first problem's field in errors, then frees errors. */
static char *first_field(json_t *errors)
{
    static char field[64];
    snprintf(field, sizeof(field), "%s",
             json_string_value(json_object_get(json_array_get(errors, 0), "field")));
    json_decref(errors);
    return field;
}

static void test_manual(void **state)
{
    (void)state;
    struct err e;
    char id[40];
    json_t *errors = NULL;
    json_t *in = json_pack("{s:s, s:[{s:s, s:s, s:s}, {s:s, s:s, s:s}]}", "memo", "Opening cash",
                           "lines", "account", "1000", "currency", "USD", "debit", "250.00",
                           "account", "3000", "currency", "USD", "credit", "250");
    err_clear(&e);
    assert_int_equal(ledger_post_manual(env.db, &worker, in, id, &errors, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    if (ledger_post_manual(env.db, &fin, in, id, &errors, &e) < 0) {
        fail_msg("%s %s %s", e.code, e.field, e.msg);
    }
    assert_int_equal(sql_int("SELECT COUNT(*) FROM journal_lines WHERE entry_id = $1"
                             " AND fund = 'unrestricted' AND amount = 25000",
                             id),
                     1);
    assert_int_equal(sql_int("SELECT COUNT(*) FROM audit_log WHERE action ="
                             " 'finance.entry.post' AND entity_id = $1",
                             id),
                     1);
    json_decref(in);
    int64_t before = n_entries(org_a);
    const struct {
        const char *json;  /* the input */
        const char *field; /* the first problem's field, or NULL for a plain e */
        const char *code;  /* e.code when field is NULL */
    } cases[] = {
        {"{\"memo\":\"x\",\"lines\":[{\"account\":\"1000\",\"currency\":\"USD\",\"debit\":\"1."
         "001\"},"
         "{\"account\":\"3000\",\"currency\":\"USD\",\"credit\":\"1\"}]}",
         "lines[0].debit", NULL},
        {"{\"memo\":\"x\",\"lines\":[{\"account\":\"1000\",\"currency\":\"USD\",\"debit\":\"1\"},"
         "{\"account\":\"3000\",\"currency\":\"ABC\",\"credit\":\"1\"}]}",
         "lines[1].currency", NULL},
        {"{\"memo\":\"x\",\"lines\":[{\"account\":\"1000\",\"currency\":\"USD\",\"debit\":\"-1\"},"
         "{\"account\":\"3000\",\"currency\":\"USD\",\"credit\":\"1\"}]}",
         "lines[0].debit", NULL},
        {"{\"memo\":\"x\",\"lines\":[{\"account\":\"1000\",\"currency\":\"USD\",\"debit\":\"0\"},"
         "{\"account\":\"3000\",\"currency\":\"USD\",\"credit\":\"0\"}]}",
         "lines[0].debit", NULL},
        {"{\"memo\":\"x\",\"lines\":[{\"account\":\"1000\",\"currency\":\"USD\"},"
         "{\"account\":\"3000\",\"currency\":\"USD\",\"credit\":\"1\"}]}",
         "lines[0].debit", NULL},
        {"{\"memo\":\"x\",\"lines\":[{\"account\":\"1000\",\"currency\":\"USD\",\"debit\":\"1\","
         "\"credit\":\"1\"},{\"account\":\"3000\",\"currency\":\"USD\",\"credit\":\"1\"}]}",
         "lines[0].debit", NULL},
        {"{\"memo\":\"x\",\"lines\":[{\"account\":\"1000\",\"currency\":\"USD\",\"debit\":\"1\"},"
         "{\"account\":\"3001\",\"currency\":\"USD\",\"credit\":\"1\"}]}",
         "lines[1].account", NULL},
        {"{\"memo\":\"x\",\"lines\":[{\"account\":\"1000\",\"currency\":\"USD\",\"debit\":\"1\"},"
         "{\"account\":\"3000\",\"fund\":\"x\",\"currency\":\"USD\",\"credit\":\"1\"}]}",
         "lines[1].fund", NULL},
        {"{\"memo\":\"\",\"lines\":[{\"account\":\"1000\",\"currency\":\"USD\",\"debit\":\"1\"},"
         "{\"account\":\"3000\",\"currency\":\"USD\",\"credit\":\"1\"}]}",
         "memo", NULL},
        {"{\"memo\":\"x\",\"date\":\"2026-13-01\",\"lines\":[{\"account\":\"1000\","
         "\"currency\":\"USD\",\"debit\":\"1\"},{\"account\":\"3000\",\"currency\":\"USD\","
         "\"credit\":\"1\"}]}",
         "date", NULL},
        {"{\"memo\":\"x\",\"lines\":[{\"account\":\"1000\",\"currency\":\"USD\",\"debit\":\"1\"}]}",
         "lines", NULL},
        {"{\"memo\":\"x\",\"lines\":[{\"account\":\"1000\",\"currency\":\"USD\",\"debit\":\"1\"},"
         "{\"account\":\"3000\",\"currency\":\"USD\",\"credit\":\"1.01\"}]}",
         NULL, "unbalanced"},
        {"{\"memo\":\"x\",\"lines\":[{\"account\":\"1000\",\"currency\":\"SAR\",\"debit\":\"1\"},"
         "{\"account\":\"3000\",\"currency\":\"SAR\",\"credit\":\"1\"}]}",
         NULL, "rate_missing"},
        {"{\"memo\":\"x\",\"extra\":1,\"lines\":[]}", NULL, "unknown_field"},
        /* A sponsor's dimension by hand would skew the sponsor statements. */
        {"{\"memo\":\"x\",\"lines\":[{\"account\":\"1100\",\"currency\":\"USD\",\"debit\":\"1\","
         "\"donor_id\":\"d\"},{\"account\":\"4000\",\"currency\":\"USD\",\"credit\":\"1\"}]}",
         "lines[0].donor_id", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_error_t je;
        json_t *bad = json_loads(cases[i].json, 0, &je);
        assert_non_null(bad);
        err_clear(&e);
        errors = NULL;
        assert_int_equal(ledger_post_manual(env.db, &fin, bad, id, &errors, &e), -1);
        if (cases[i].field) {
            assert_non_null(errors);
            const char *f = first_field(errors);
            if (strcmp(f, cases[i].field) != 0) {
                fail_msg("case %zu: field %s, want %s", i, f, cases[i].field);
            }
        } else {
            assert_null(errors);
            if (strcmp(e.code, cases[i].code) != 0) {
                fail_msg("case %zu: code %s, want %s", i, e.code, cases[i].code);
            }
        }
        json_decref(bad);
    }
    assert_int_equal(n_entries(org_a), before);
}

/* Random balanced entries in three currencies and all funds: the trial
 * balance sums to zero per currency, in total and fund by fund, and the
 * balance sheet balances in every fund. */
static void test_random_trial_balance(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    char today[11], id[40];
    month_day(0, today);
    const char *curs[] = {"USD", "EUR", "JOD"};
    const char *accts[] = {"1000", "1010", "1100", "2000", "2100", "3000", "4000", "5000", "5100"};
    const char *fnds[] = {"unrestricted", "sponsorship", "education",
                          "medical",      "endowment",   "grants"};
    unsigned seed = 12345;
    assert_int_equal(db_begin(env.db, false, &e), 0);
    for (int k = 0; k < 300; k++) {
        struct ledger_line lines[12];
        int n = 0;
        int64_t sum[3] = {0, 0, 0};
        int nl = 2 + (int)(rand_r(&seed) % 6);
        for (int i = 0; i < nl; i++) {
            int c = (int)(rand_r(&seed) % 3);
            int64_t amt = 1 + (int64_t)(rand_r(&seed) % 1000000);
            if (rand_r(&seed) % 2) {
                amt = -amt;
            }
            lines[n++] = (struct ledger_line){.account = accts[rand_r(&seed) % 9],
                                              .fund = fnds[rand_r(&seed) % 6],
                                              .currency = curs[c],
                                              .amount = amt};
            sum[c] += amt;
        }
        for (int c = 0; c < 3; c++) {
            if (sum[c] != 0) {
                lines[n++] = (struct ledger_line){.account = accts[rand_r(&seed) % 9],
                                                  .fund = fnds[rand_r(&seed) % 6],
                                                  .currency = curs[c],
                                                  .amount = -sum[c]};
            }
        }
        if (n < 2) {
            continue;
        }
        struct ledger_entry entry = {.date = today, .memo = "random", .lines = lines, .n_lines = n};
        if (ledger_post_tx(env.db, &fin, &entry, id, &e) < 0) {
            fail_msg("entry %d: %s %s", k, e.code, e.field);
        }
    }
    assert_int_equal(db_commit(env.db, &e), 0);
    assert_int_equal(db_begin(env.db, true, &e), 0);
    json_t *tb = ledger_trial_balance(env.db, &auditor, NULL, NULL, &e);
    assert_non_null(tb);
    json_t *totals = json_object_get(tb, "totals");
    assert_true(json_array_size(totals) >= 3);
    size_t i;
    json_t *t;
    json_array_foreach(totals, i, t)
    {
        assert_int_equal(json_integer_value(json_object_get(t, "balance")), 0);
        assert_true(json_integer_value(json_object_get(t, "debit")) > 0);
    }
    assert_int_equal(json_integer_value(json_object_get(tb, "base_balance")), 0);
    json_decref(tb);
    for (size_t f = 0; f < 6; f++) {
        tb = ledger_trial_balance(env.db, &fin, today, fnds[f], &e);
        assert_non_null(tb);
        json_array_foreach(json_object_get(tb, "totals"), i, t)
        {
            if (json_integer_value(json_object_get(t, "balance")) != 0) {
                fail_msg("fund %s does not balance in %s", fnds[f],
                         json_string_value(json_object_get(t, "currency")));
            }
        }
        assert_int_equal(json_integer_value(json_object_get(tb, "base_balance")), 0);
        json_decref(tb);
    }
    json_t *bs = ledger_balance_sheet(env.db, &fin, NULL, &e);
    assert_non_null(bs);
    json_t *fund;
    json_array_foreach(json_object_get(bs, "funds"), i, fund)
    {
        int64_t ta = json_integer_value(json_object_get(fund, "total_assets"));
        int64_t tl = json_integer_value(json_object_get(fund, "total_liabilities"));
        int64_t tn = json_integer_value(json_object_get(fund, "total_net_assets"));
        if (ta != tl + tn) {
            fail_msg("fund %s: assets %lld != liabilities %lld + net assets %lld",
                     json_string_value(json_object_get(fund, "fund")), (long long)ta, (long long)tl,
                     (long long)tn);
        }
    }
    json_decref(bs);
    /* Readers without finance.read see nothing. */
    err_clear(&e);
    assert_null(ledger_trial_balance(env.db, &worker, NULL, NULL, &e));
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_null(ledger_trial_balance(env.db, &fin, "2026-02-30", NULL, &e));
    assert_string_equal(e.field, "as_of");
    err_clear(&e);
    assert_null(ledger_trial_balance(env.db, &fin, NULL, "nofund", &e));
    assert_string_equal(e.code, "unknown_fund");
    db_rollback(env.db);
}

/* The reports of an organization with known entries give known figures. */
static void test_reports(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    char sc[32], org_c[40], today[11], last[11], id[40], due_id[40];
    struct actor fc;
    testenv_org(&env, org_c, sc);
    testenv_user(&env, &fc, "finance_officer", org_c, sc);
    month_day(0, today);
    month_day(-1, last);
    /* Last month: a due of 50.00 (education); this month: payment 48.00 net
     * of 2.00 fee, allocated; a payout of 50.00 to the guardian. */
    struct ledger_line due[] = {{"1100", "education", "USD", 5000, "donor", "child", "sp", NULL},
                                {"4000", "education", "USD", -5000, "donor", "child", "sp", NULL}};
    struct ledger_line pay[] = {{"1010", "sponsorship", "USD", 4800, "donor", NULL, NULL, NULL},
                                {"5100", "sponsorship", "USD", 200, "donor", NULL, NULL, NULL},
                                {"2100", "sponsorship", "USD", -5000, "donor", NULL, NULL, NULL}};
    struct ledger_line alloc[] = {
        {"2100", "sponsorship", "USD", 5000, "donor", NULL, NULL, NULL},
        {"1100", "education", "USD", -5000, "donor", "child", "sp", NULL}};
    struct ledger_line out[] = {{"5000", "education", "USD", 5000, NULL, "child", NULL, NULL},
                                {"1000", "education", "USD", -5000, NULL, "child", NULL, NULL}};
    struct ledger_entry es[] = {
        {last, "due", "due", "d1", due, 2},
        {today, "payment", "payment", "p1", pay, 3},
        {today, "allocation", "allocation", "a1", alloc, 2},
        {today, "payout", "payout", "o1", out, 2},
    };
    for (int i = 0; i < 4; i++) {
        assert_int_equal(post(&fc, &es[i], i == 0 ? due_id : id, &e), 0);
    }
    assert_int_equal(db_begin(env.db, true, &e), 0);
    json_t *is = ledger_income_statement(env.db, &fc, last, today, &e);
    assert_non_null(is);
    json_t *funds_arr = json_object_get(is, "funds");
    assert_int_equal(json_array_size(funds_arr), 2);
    /* Funds in chart order: sponsorship then education. */
    json_t *sp = json_array_get(funds_arr, 0), *ed = json_array_get(funds_arr, 1);
    assert_string_equal(json_string_value(json_object_get(sp, "fund")), "sponsorship");
    assert_int_equal(json_integer_value(json_object_get(sp, "total_expenses")), 200);
    assert_int_equal(json_integer_value(json_object_get(sp, "surplus")), -200);
    assert_int_equal(json_integer_value(json_object_get(ed, "total_income")), 5000);
    assert_int_equal(json_integer_value(json_object_get(ed, "total_expenses")), 5000);
    assert_int_equal(json_integer_value(json_object_get(ed, "surplus")), 0);
    assert_string_equal(json_string_value(json_object_get(ed, "total_income_text")), "50.00");
    json_decref(is);
    /* This month only: no income. */
    is = ledger_income_statement(env.db, &fc, today, today, &e);
    ed = json_array_get(json_object_get(is, "funds"), 1);
    assert_int_equal(json_integer_value(json_object_get(ed, "total_income")), 0);
    json_decref(is);
    err_clear(&e);
    assert_null(ledger_income_statement(env.db, &fc, today, last, &e));
    assert_string_equal(e.code, "invalid_range");
    /* Balance sheet: sponsorship has 48.00 in the bank and owes education
     * 50.00 (interfund, -50.00 on 1950) after 2.00 of fees; its advances are
     * used up. Education is owed 50.00 by sponsorship and paid out 50.00. */
    json_t *bs = ledger_balance_sheet(env.db, &fc, today, &e);
    assert_non_null(bs);
    sp = json_array_get(json_object_get(bs, "funds"), 0);
    ed = json_array_get(json_object_get(bs, "funds"), 1);
    assert_int_equal(json_integer_value(json_object_get(sp, "total_assets")), -200);
    assert_int_equal(json_integer_value(json_object_get(sp, "total_liabilities")), 0);
    assert_int_equal(json_integer_value(json_object_get(sp, "total_net_assets")), -200);
    assert_int_equal(json_integer_value(json_object_get(ed, "total_assets")), 0);
    json_decref(bs);
    /* As of last month, only the due. */
    bs = ledger_balance_sheet(env.db, &fc, last, &e);
    assert_int_equal(json_array_size(json_object_get(bs, "funds")), 1);
    ed = json_array_get(json_object_get(bs, "funds"), 0);
    assert_int_equal(json_integer_value(json_object_get(ed, "total_assets")), 5000);
    assert_int_equal(json_integer_value(json_object_get(ed, "total_net_assets")), 5000);
    json_decref(bs);
    /* The journal: newest first, filters, paging, lines and reversal links. */
    json_t *list = ledger_entries(env.db, &fc, NULL, NULL, NULL, NULL, 1, 2, &e);
    assert_non_null(list);
    assert_int_equal(json_integer_value(json_object_get(list, "total")), 4);
    assert_int_equal(json_array_size(json_object_get(list, "items")), 2);
    json_t *first = json_array_get(json_object_get(list, "items"), 0);
    assert_int_equal(json_integer_value(json_object_get(first, "entry_no")), 4);
    assert_int_equal(json_array_size(json_object_get(first, "lines")), 2);
    json_decref(list);
    list = ledger_entries(env.db, &fc, "1100", NULL, NULL, NULL, 1, 50, &e);
    assert_int_equal(json_integer_value(json_object_get(list, "total")), 2);
    json_decref(list);
    list = ledger_entries(env.db, &fc, NULL, "sponsorship", today, today, 1, 50, &e);
    assert_int_equal(json_integer_value(json_object_get(list, "total")), 2);
    json_decref(list);
    list = ledger_entries(env.db, &fc, NULL, NULL, last, last, 1, 50, &e);
    assert_int_equal(json_integer_value(json_object_get(list, "total")), 1);
    json_decref(list);
    err_clear(&e);
    assert_null(ledger_entries(env.db, &fc, "9999", NULL, NULL, NULL, 1, 50, &e));
    assert_string_equal(e.code, "unknown_account");
    json_t *one = ledger_entry_get(env.db, &fc, due_id, &e);
    assert_non_null(one);
    assert_string_equal(json_string_value(json_object_get(one, "source_kind")), "due");
    json_t *l0 = json_array_get(json_object_get(one, "lines"), 0);
    assert_string_equal(json_string_value(json_object_get(l0, "debit_text")), "50.00");
    assert_string_equal(json_string_value(json_object_get(l0, "child_id")), "child");
    assert_true(json_is_null(json_object_get(one, "reversed_by")));
    json_decref(one);
    err_clear(&e);
    assert_null(ledger_entry_get(env.db, &fin, due_id, &e)); /* another organization */
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    db_rollback(env.db);
    char rid[40];
    assert_int_equal(ledger_reverse(env.db, &fc, due_id, NULL, rid, &e), 0);
    assert_int_equal(db_begin(env.db, true, &e), 0);
    one = ledger_entry_get(env.db, &fc, due_id, &e);
    assert_string_equal(json_string_value(json_object_get(one, "reversed_by")), rid);
    json_decref(one);
    one = ledger_entry_get(env.db, &fc, rid, &e);
    assert_string_equal(json_string_value(json_object_get(one, "reverses_id")), due_id);
    json_decref(one);
    json_t *rates = ledger_rates(env.db, &fc, &e);
    assert_int_equal(json_array_size(json_object_get(rates, "items")), 0);
    json_decref(rates);
    json_t *periods = ledger_periods(env.db, &fc, &e);
    assert_int_equal(json_array_size(json_object_get(periods, "closable")), 12);
    json_decref(periods);
    db_rollback(env.db);
}

/* Measures posting many due-like entries in one transaction, as dues
 * generation does (LEDGER_SPEED_N entries, default 5,000); prints the time,
 * asserts only that all were written. */
static void test_speed(void **state)
{
    (void)state;
    const char *env_n = getenv("LEDGER_SPEED_N");
    int n = env_n ? atoi(env_n) : 5000;
    struct err e;
    err_clear(&e);
    char today[11], id[40];
    month_day(0, today);
    int64_t before = n_entries(org_a);
    struct ledger_line lines[] = {
        {.account = ACCT_RECEIVABLE,
         .fund = "education",
         .currency = "USD",
         .amount = 5000,
         .donor_id = "donor",
         .sponsorship_id = "s"},
        {.account = ACCT_INCOME_SPONSOR,
         .fund = "education",
         .currency = "USD",
         .amount = -5000,
         .donor_id = "donor",
         .sponsorship_id = "s"},
    };
    struct ledger_entry entry = {.date = today,
                                 .memo = "Due",
                                 .source_kind = "due",
                                 .source_id = "d",
                                 .lines = lines,
                                 .n_lines = 2};
    int64_t t0 = time_mono_ns();
    assert_int_equal(db_begin(env.db, false, &e), 0);
    for (int i = 0; i < n; i++) {
        if (ledger_post_tx(env.db, &fin, &entry, id, &e) < 0) {
            fail_msg("post %d: %s", i, e.msg);
        }
    }
    assert_int_equal(db_commit(env.db, &e), 0);
    int64_t t1 = time_mono_ns();
    print_message("ledger: %d entries in one transaction: %.0f ms\n", n, (t1 - t0) / 1e6);
    assert_int_equal(n_entries(org_a), before + n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chart),
        cmocka_unit_test(test_post_basic),
        cmocka_unit_test(test_post_refusals),
        cmocka_unit_test(test_interfund),
        cmocka_unit_test(test_rates_rounding),
        cmocka_unit_test(test_reversal),
        cmocka_unit_test(test_periods),
        cmocka_unit_test(test_immutable),
        cmocka_unit_test(test_no_gaps),
        cmocka_unit_test(test_manual),
        cmocka_unit_test(test_random_trial_balance),
        cmocka_unit_test(test_reports),
        cmocka_unit_test(test_speed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
