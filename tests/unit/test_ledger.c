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
static int post(const struct actor *a, const struct ledger_entry *entry, char id[40],
                struct err *e)
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
        {.account = ACCT_INCOME_SPONSOR, .fund = "sponsorship", .currency = "USD",
         .amount = -5000, .memo = "due"},
    };
    struct ledger_entry entry = {.date = today, .memo = "Due for May", .source_kind = "due",
                                 .source_id = "d1", .lines = lines, .n_lines = 2};
    assert_int_equal(post(&fin, &entry, id, &e), 0);
    assert_int_equal(sql_int("SELECT COUNT(*) FROM fin_settings WHERE org_id = $1", org_a), 1);
    assert_int_equal(post(&fin, &entry, id2, &e), 0);
    assert_int_equal(sql_int("SELECT entry_no FROM journal_entries WHERE id = $1", id2) -
                         sql_int("SELECT entry_no FROM journal_entries WHERE id = $1", id),
                     1);
    assert_int_equal(sql_int("SELECT COUNT(*) FROM journal_lines WHERE entry_id = $1", id), 2);
    assert_int_equal(sql_int("SELECT SUM(amount) FROM journal_lines WHERE entry_id = $1", id), 0);
    assert_int_equal(
        sql_int("SELECT SUM(base_amount) FROM journal_lines WHERE entry_id = $1", id), 0);
    assert_int_equal(sql_int("SELECT amount FROM journal_lines WHERE entry_id = $1"
                             " AND line_no = 1",
                             id),
                     5000);
    assert_int_equal(sql_int("SELECT COUNT(*) FROM journal_entries WHERE id = $1"
                             " AND rate IS NULL AND base_currency = 'USD'",
                             id),
                     1);
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
         2, NULL, "unbalanced", "lines"},
        {{{ACCT_BANK, "unrestricted", "USD", 100, NULL, NULL, NULL, NULL},
          {"4999", "unrestricted", "USD", -100, NULL, NULL, NULL, NULL}},
         2, NULL, "unknown_account", "lines[1].account"},
        {{{ACCT_BANK, "unrestricted", "USD", 100, NULL, NULL, NULL, NULL},
          {ACCT_INCOME_OTHER, "pocket", "USD", -100, NULL, NULL, NULL, NULL}},
         2, NULL, "unknown_fund", "lines[1].fund"},
        {{{ACCT_BANK, "unrestricted", "XXX", 100, NULL, NULL, NULL, NULL},
          {ACCT_INCOME_OTHER, "unrestricted", "XXX", -100, NULL, NULL, NULL, NULL}},
         2, NULL, "invalid_currency", "lines[0].currency"},
        {{{ACCT_BANK, "unrestricted", "USD", 100, NULL, NULL, NULL, NULL},
          {ACCT_INCOME_OTHER, "unrestricted", "USD", 0, NULL, NULL, NULL, NULL},
          {ACCT_INCOME_OTHER, "unrestricted", "USD", -100, NULL, NULL, NULL, NULL}},
         3, NULL, "invalid_amount", "lines[1].amount"},
        {{{ACCT_BANK, "unrestricted", "USD", 100, NULL, NULL, NULL, NULL}},
         1, NULL, "too_few", "lines"},
        {{{ACCT_BANK, "unrestricted", "USD", 100, NULL, NULL, NULL, NULL},
          {ACCT_INCOME_OTHER, "unrestricted", "USD", -100, NULL, NULL, NULL, NULL}},
         2, "2026-02-30", "invalid_date", "date"},
        {{{ACCT_BANK, "unrestricted", "USD", 100, NULL, NULL, NULL, NULL},
          {ACCT_INCOME_OTHER, "unrestricted", "USD", -100, NULL, NULL, NULL, NULL},
          {ACCT_BANK, "unrestricted", "GBP", 100, NULL, NULL, NULL, NULL}},
         3, NULL, "unbalanced", "lines"},
        /* Balanced in each currency, but no GBP rate. */
        {{{ACCT_BANK, "unrestricted", "USD", 100, NULL, NULL, NULL, NULL},
          {ACCT_BANK, "unrestricted", "GBP", 100, NULL, NULL, NULL, NULL},
          {ACCT_INCOME_OTHER, "unrestricted", "GBP", -100, NULL, NULL, NULL, NULL}},
         3, NULL, "unbalanced", "lines"},
        {{{ACCT_BANK, "unrestricted", "GBP", 100, NULL, NULL, NULL, NULL},
          {ACCT_INCOME_OTHER, "unrestricted", "GBP", -100, NULL, NULL, NULL, NULL}},
         2, NULL, "rate_missing", "lines[0].currency"},
        /* Overflowing debits. */
        {{{ACCT_BANK, "unrestricted", "USD", INT64_MAX, NULL, NULL, NULL, NULL},
          {ACCT_BANK, "unrestricted", "USD", INT64_MAX, NULL, NULL, NULL, NULL},
          {ACCT_INCOME_OTHER, "unrestricted", "USD", -1, NULL, NULL, NULL, NULL}},
         3, NULL, "amount_too_large", "lines[1].amount"},
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
    struct ledger_line ok[] = {{ACCT_BANK, "unrestricted", "USD", 100, NULL, NULL, NULL, NULL},
                               {ACCT_INCOME_OTHER, "unrestricted", "USD", -100, NULL, NULL,
                                NULL, NULL}};
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
    struct ledger_entry entry = {.date = today, .memo = "allocation", .source_kind = "allocation",
                                 .lines = lines, .n_lines = 3};
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
    const char *bad[][3] = {{"XXX", "1.5", "invalid_currency"}, {"USD", "1.5", "base_currency"},
                            {"EUR", "0", "invalid_rate"},       {"EUR", "-1", "invalid_rate"},
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
        {.account = ACCT_INCOME_OTHER, .fund = "unrestricted", .currency = "JOD",
         .amount = -1000},
    };
    struct ledger_entry entry = {.date = today, .memo = "fx", .source_kind = "manual",
                                 .lines = lines, .n_lines = 6};
    assert_int_equal(post(&fin, &entry, id, &e), 0);
    assert_int_equal(
        sql_int("SELECT SUM(base_amount) FROM journal_lines WHERE entry_id = $1", id), 0);
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
        {.account = ACCT_BANK, .fund = "sponsorship", .currency = "EUR", .amount = 3333,
         .donor_id = "donor-1"},
        {.account = ACCT_ADVANCES, .fund = "education", .currency = "EUR", .amount = -3333},
    };
    struct ledger_entry entry = {.date = today, .memo = "payment", .source_kind = "payment",
                                 .source_id = "p1", .lines = lines, .n_lines = 2};
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
    struct ledger_entry entry = {.date = last, .memo = "last month", .lines = lines,
                                 .n_lines = 2};
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
    assert_string_equal(e.code, "invalid_period");
    assert_int_equal(ledger_period_closed(env.db, org_a, last, &e), 0);
    assert_int_equal(ledger_close_period(env.db, &fin, period, &e), 0);
    assert_int_equal(ledger_period_closed(env.db, org_a, last, &e), 1);
    assert_int_equal(ledger_period_closed(env.db, org_b, last, &e), 0);
    assert_int_equal(ledger_period_closed(env.db, org_a, older, &e), 0);
    err_clear(&e);
    assert_int_equal(ledger_close_period(env.db, &fin, period, &e), -1);
    assert_string_equal(e.code, "already_closed");
    assert_int_equal(sql_int("SELECT COUNT(*) FROM audit_log WHERE action ="
                             " 'finance.period.close' AND entity_id = $1",
                             period),
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
    assert_int_equal(sql_int("SELECT MIN(entry_no) FROM journal_entries WHERE org_id = $1",
                             org_a),
                     1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chart),
        cmocka_unit_test(test_post_basic),   cmocka_unit_test(test_post_refusals),
        cmocka_unit_test(test_interfund),    cmocka_unit_test(test_rates_rounding),
        cmocka_unit_test(test_reversal),     cmocka_unit_test(test_periods),
        cmocka_unit_test(test_immutable),    cmocka_unit_test(test_no_gaps),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
