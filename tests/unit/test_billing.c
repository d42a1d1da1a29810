/*
 * test_billing: dues, payments, receipts, allocation, reversal,
 * reconciliation and arrears at the service level: dues generated once per
 * period (idempotent, pauses, every frequency), automatic and named
 * allocation, advances used by later dues, every bad input refused with
 * nothing written, receipts without gaps after a refused payment, a reused
 * receipt number refused clearly, reversal (and its refusals), arrears
 * tasks once per episode, permissions, and a trial balance of zero after a
 * simulated run. Runs on SANAD_TEST_DB or SQLite.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/time.h"
#include "db/db_util.h"
#include "cases/cases.h"
#include "finance/ledger.h"
#include "sponsorship/billing.h"
#include "sponsorship/sponsors.h"
#include "testlib.h"

/* Asserts call returns 0, printing e otherwise. */
#define OK(call)                                                                                   \
    do {                                                                                           \
        if ((call) != 0) {                                                                         \
            fail_msg("%s: %s: %s (%s)", #call, e.code, e.msg, e.field);                            \
        }                                                                                          \
    } while (0)

static struct testenv env;
static struct actor officer, fin, worker, auditor, fin_b;
static char org_a[40], org_b[40];
static char kid[6][40];
static char donor1[40], donor2[40], donor3[40];
static char ag1[40], ag2[40], ag3[40], ag4[40];
static int year_now;

/* Runs sql with up to two text parameters (set-up behind the services' back). */
static void sql2(const char *sql, const char *p1, const char *p2)
{
    struct err e;
    err_clear(&e);
    assert_true(db_begin(env.db, false, &e) == 0);
    if (db_run(env.db, &e, sql, p2 ? "tt" : p1 ? "t" : "", p1, p2) < 0) {
        fail_msg("%s: %s", sql, e.msg);
    }
    assert_true(db_commit(env.db, &e) == 0);
}

/* An integer read with up to two text parameters. */
static int64_t int2(const char *sql, const char *p1, const char *p2)
{
    struct err e;
    err_clear(&e);
    int found;
    assert_true(db_begin(env.db, true, &e) == 0);
    struct db_stmt *s = db_row(env.db, &e, &found, sql, p2 ? "tt" : "t", p1, p2);
    int64_t v = -1;
    if (s) {
        v = db_col_int64(s, 0);
        db_done(s);
    } else if (found < 0) {
        fail_msg("%s: %s", sql, e.msg);
    }
    db_rollback(env.db);
    return v;
}

/* Everything money-related of org_a, as one number that changes when any
 * row is written: payments, receipts, allocations, dues, entries, lines. */
static int64_t footprint(void)
{
    return int2("SELECT (SELECT COUNT(*) FROM payments WHERE org_id = $1)"
                " + 10 * (SELECT COUNT(*) FROM receipts WHERE org_id = $1)"
                " + 100 * (SELECT COUNT(*) FROM payment_allocations WHERE org_id = $1)"
                " + 1000 * (SELECT COUNT(*) FROM journal_entries WHERE org_id = $1)"
                " + 10000 * (SELECT COUNT(*) FROM sponsorship_dues WHERE org_id = $1)"
                " + (SELECT COALESCE(SUM(paid), 0) FROM sponsorship_dues WHERE org_id = $1)",
                org_a, NULL);
}

static int setup(void **state)
{
    (void)state;
    if (testenv_open(&env, "billing") < 0) {
        return -1;
    }
    char sa[32], sb[32];
    testenv_org(&env, org_a, sa);
    testenv_org(&env, org_b, sb);
    testenv_user(&env, &officer, "sponsorship_officer", org_a, sa);
    testenv_user(&env, &fin, "finance_officer", org_a, sa);
    testenv_user(&env, &worker, "case_worker", org_a, sa);
    testenv_user(&env, &auditor, "auditor", org_a, sa);
    testenv_user(&env, &fin_b, "finance_officer", org_b, sb);
    struct actor reg;
    testenv_user(&env, &reg, "case_worker", org_a, sa);
    static const char *const names[] = {"مريم", "سارة", "هدى", "ليلى", "نور", "آمنة"};
    for (int i = 0; i < 6; i++) {
        testenv_child(&env, &reg, names[i], "2015-05-01", kid[i]);
    }
    sql2("UPDATE children SET status = 'active' WHERE org_id = $1", org_a, NULL);
    int m, d;
    time_today(&year_now, &m, &d);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return testenv_close(&env);
}

/* Creates a donor; writes its id. */
static void new_donor(const char *name, char id[40])
{
    json_t *in = json_pack("{s:s, s:s}", "kind", "person", "name", name);
    struct err e;
    err_clear(&e);
    char no[16];
    json_t *errors = NULL;
    if (donor_create(env.db, &officer, in, id, no, &errors, &e) < 0) {
        fail_msg("donor_create: %s", e.msg);
    }
    json_decref(in);
}

/* Creates one active agreement; writes its id. */
static void new_agreement(const char *child, const char *donor, const char *amount,
                          const char *currency, const char *freq, const char *purpose,
                          const char *start, char id[40])
{
    json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "child_id", child,
                           "donor_id", donor, "amount", amount, "currency", currency, "frequency",
                           freq, "purpose", purpose, "start_date", start, "status", "active");
    struct err e;
    err_clear(&e);
    json_t *created = NULL, *errors = NULL;
    if (sponsorship_create(env.db, &officer, in, &created, &errors, &e) < 0) {
        char *dump = errors ? json_dumps(errors, 0) : NULL;
        fail_msg("sponsorship_create: %s %s", e.msg, dump ? dump : "");
    }
    snprintf(id, 40, "%s", json_string_value(json_object_get(json_array_get(created, 0), "id")));
    json_decref(created);
    json_decref(in);
}

/* Records a payment; returns 0 or -1 with e filled. */
static int pay(const struct actor *a, const char *donor, const char *amount, const char *currency,
               const char *day, const char *ext, char id[40], char receipt[32], struct err *e)
{
    struct payment_new p = {.donor_id = donor,
                            .amount = amount,
                            .currency = currency,
                            .method = "bank_transfer",
                            .received_on = day,
                            .external_ref = ext};
    err_clear(e);
    return payment_record(env.db, a, &p, id, receipt, e);
}

/* The number of dues of agreement ag. */
static int64_t n_dues(const char *ag)
{
    return int2("SELECT COUNT(*) FROM sponsorship_dues WHERE sponsorship_id = $1", ag, NULL);
}

/* Asserts the trial balance of org_a is zero in every currency. */
static void assert_books_balance(void)
{
    struct err e;
    err_clear(&e);
    assert_int_equal(db_begin(env.db, true, &e), 0);
    json_t *tb = ledger_trial_balance(env.db, &fin, NULL, NULL, &e);
    assert_non_null(tb);
    size_t i;
    json_t *t;
    assert_true(json_array_size(json_object_get(tb, "totals")) >= 1);
    json_array_foreach(json_object_get(tb, "totals"), i, t)
    {
        if (json_integer_value(json_object_get(t, "balance")) != 0) {
            fail_msg("the books do not balance in %s",
                     json_string_value(json_object_get(t, "currency")));
        }
    }
    json_decref(tb);
    db_rollback(env.db);
}

static void test_dues(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    new_donor("Amina Sponsor", donor1);
    new_donor("Bilal Sponsor", donor2);
    new_donor("Carim Sponsor", donor3);
    /* Monthly from Jan 31 (month ends), quarterly education, yearly, and a
     * paused one. */
    new_agreement(kid[0], donor1, "50.00", "USD", "monthly", "general", "2025-01-31", ag1);
    new_agreement(kid[1], donor1, "90.00", "USD", "quarterly", "education", "2025-01-15", ag2);
    new_agreement(kid[2], donor2, "40.000", "JOD", "monthly", "general", "2025-01-01", ag3);
    new_agreement(kid[3], donor3, "600", "USD", "yearly", "medical", "2025-02-01", ag4);
    assert_int_equal(sponsorship_pause(env.db, &officer, ag3, "2025-03-01", "2025-03-31", "x", &e),
                     0);
    OK(sponsorship_resume(env.db, &officer, ag3, "2025-04-01", &e));
    /* Not allowed: a sponsorship officer does not post; a bad date. */
    struct dues_result r;
    assert_int_equal(dues_generate(env.db, &officer, "2025-04-30", &r, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_int_equal(dues_generate(env.db, &fin, "2025-04-31", &r, &e), -1);
    assert_string_equal(e.field, "through");
    /* JOD needs a rate against the base currency (USD). */
    err_clear(&e);
    OK(ledger_set_rate(env.db, &fin, "JOD", "2024-12-01", "1.41", &e));
    OK(dues_generate(env.db, &fin, "2025-04-30", &r, &e));
    /* ag1: Jan 31, Feb 28, Mar 31, Apr 30; ag2: Jan 15, Apr 15; ag3: Jan,
     * Feb, Apr (March paused); ag4: Feb 1. */
    assert_int_equal(r.n_dues, 10);
    assert_int_equal(n_dues(ag1), 4);
    assert_int_equal(n_dues(ag2), 2);
    assert_int_equal(n_dues(ag3), 3);
    assert_int_equal(n_dues(ag4), 1);
    assert_int_equal(int2("SELECT COUNT(*) FROM sponsorship_dues WHERE sponsorship_id = $1"
                          " AND period_start = '2025-02-28' AND period_end = '2025-03-30'",
                          ag1, NULL),
                     1);
    assert_int_equal(int2("SELECT COUNT(*) FROM sponsorship_dues WHERE sponsorship_id = $1"
                          " AND period_start LIKE '2025-03%'",
                          ag3, NULL),
                     0);
    assert_int_equal(int2("SELECT COUNT(*) FROM sponsorships WHERE id = $1"
                          " AND next_due = '2025-05-31'",
                          ag1, NULL),
                     1);
    /* Funds by purpose on the due and on its entry. */
    assert_int_equal(int2("SELECT COUNT(*) FROM sponsorship_dues d JOIN journal_lines l"
                          " ON l.entry_id = d.entry_id WHERE d.sponsorship_id = $1"
                          " AND l.fund = 'education' AND l.account IN ('1100', '4000')",
                          ag2, NULL),
                     4);
    /* Idempotent: a second run generates nothing. */
    int64_t before = footprint();
    OK(dues_generate(env.db, &fin, "2025-04-30", &r, &e));
    assert_int_equal(r.n_dues, 0);
    assert_int_equal(footprint(), before);
    assert_int_equal(int2("SELECT COUNT(*) FROM audit_log WHERE org_id = $1"
                          " AND action = 'dues.generate'",
                          org_a, NULL),
                     2);
    /* The listing. */
    assert_int_equal(db_begin(env.db, true, &e), 0);
    struct dues_filter f = {.payer_id = donor1, .page = 1, .per_page = 50};
    json_t *list = dues_list(env.db, &officer, &f, &e);
    db_rollback(env.db);
    assert_non_null(list);
    assert_int_equal(json_integer_value(json_object_get(list, "total")), 6);
    json_t *first = json_array_get(json_object_get(list, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "due_date")), "2025-01-15");
    assert_string_equal(json_string_value(json_object_get(first, "amount_text")), "90.00");
    json_decref(list);
    /* Another organization generates nothing of ours. */
    OK(dues_generate(env.db, &fin_b, "2025-04-30", &r, &e));
    assert_int_equal(r.n_dues, 0);
    assert_books_balance();
}

static void test_payments(void **state)
{
    (void)state;
    struct err e;
    char id[40], receipt[32], want[32];
    /* 120 USD from donor1: Jan 15 (90 edu), Jan 31 (50) → 90 + 30. */
    OK(pay(&fin, donor1, "120.00", "USD", "2025-02-10", "TX-1", id, receipt, &e));
    snprintf(want, sizeof(want), "R-%04d-000001", year_now);
    assert_string_equal(receipt, want);
    assert_int_equal(
        int2("SELECT COUNT(*) FROM payment_allocations WHERE payment_id = $1", id, NULL), 2);
    assert_int_equal(int2("SELECT paid FROM sponsorship_dues WHERE sponsorship_id = $1"
                          " AND period_start = '2025-01-31'",
                          ag1, NULL),
                     3000);
    assert_int_equal(int2("SELECT unallocated FROM payments WHERE id = $1", id, NULL), 0);
    assert_int_equal(int2("SELECT COUNT(*) FROM payments WHERE id = $1"
                          " AND payment_no = 'P-2025-000001'",
                          id, NULL),
                     1);
    /* A fee: the bank keeps 2.50 of 300.00, which pays the rest and leaves an advance. */
    struct payment_new p = {.donor_id = donor1,
                            .amount = "300.00",
                            .fee = "2.50",
                            .currency = "USD",
                            .method = "card",
                            .received_on = "2025-03-01",
                            .external_ref = "GW-77"};
    char id2[40];
    err_clear(&e);
    OK(payment_record(env.db, &fin, &p, id2, receipt, &e));
    /* Left on donor1's USD dues: 20 (Jan 31) + 50 + 50 + 50 + 90 (Apr 15) = 260. */
    assert_int_equal(int2("SELECT unallocated FROM payments WHERE id = $1", id2, NULL), 4000);
    assert_int_equal(int2("SELECT COUNT(*) FROM sponsorship_dues WHERE payer_id = $1"
                          " AND status <> 'paid'",
                          donor1, NULL),
                     0);
    assert_int_equal(int2("SELECT COUNT(*) FROM journal_lines l JOIN payments p"
                          " ON p.entry_id = l.entry_id WHERE p.id = $1 AND l.account = '5100'"
                          " AND l.amount = 250",
                          id2, NULL),
                     1);
    assert_int_equal(int2("SELECT COUNT(*) FROM journal_lines l JOIN payments p"
                          " ON p.entry_id = l.entry_id WHERE p.id = $1 AND l.account = '1030'"
                          " AND l.amount = 29750",
                          id2, NULL),
                     1);
    /* The advance pays May's due when it is generated. */
    struct dues_result r;
    OK(dues_generate(env.db, &fin, "2025-05-31", &r, &e));
    assert_true(r.n_allocated >= 1);
    assert_int_equal(int2("SELECT unallocated FROM payments WHERE id = $1", id2, NULL), 0);
    assert_int_equal(int2("SELECT COUNT(*) FROM sponsorship_dues WHERE sponsorship_id = $1"
                          " AND period_start = '2025-05-31' AND status = 'partial' AND paid = 4000",
                          ag1, NULL),
                     1);
    /* Named allocation: donor3's yearly due, 200 of 600, then the rest. */
    struct alloc_req named[1] = {{.due_id = NULL, .amount = "200"}};
    char due4[40];
    assert_int_equal(db_begin(env.db, true, &e), 0);
    int found;
    struct db_stmt *s = db_row(
        env.db, &e, &found, "SELECT id FROM sponsorship_dues WHERE sponsorship_id = $1", "t", ag4);
    assert_non_null(s);
    snprintf(due4, sizeof(due4), "%s", db_col_text(s, 0));
    db_done(s);
    db_rollback(env.db);
    named[0].due_id = due4;
    struct payment_new p3 = {.donor_id = donor3,
                             .amount = "650",
                             .currency = "USD",
                             .method = "cash",
                             .received_on = "2025-02-02",
                             .allocs = named,
                             .n_allocs = 1};
    char id3[40];
    OK(payment_record(env.db, &fin, &p3, id3, receipt, &e));
    assert_int_equal(int2("SELECT paid FROM sponsorship_dues WHERE id = $1", due4, NULL), 20000);
    assert_int_equal(int2("SELECT unallocated FROM payments WHERE id = $1", id3, NULL), 45000);
    /* The same allocation twice is refused, nothing written. */
    int64_t before = footprint();
    int n = 0;
    assert_int_equal(payment_allocate(env.db, &fin, id3, named, 1, &n, &e), -1);
    assert_string_equal(e.code, "already_allocated");
    assert_int_equal(footprint(), before);
    /* Automatic allocation skips a due this payment already pays: the
     * pair stays unique, so nothing more is allocated from it. */
    err_clear(&e);
    OK(payment_allocate(env.db, &fin, id3, NULL, 0, &n, &e));
    assert_int_equal(n, 0);
    assert_int_equal(int2("SELECT unallocated FROM payments WHERE id = $1", id3, NULL), 45000);
    /* Another payment completes the due automatically. */
    OK(pay(&fin, donor3, "400", "USD", "2025-02-03", NULL, id, receipt, &e));
    assert_int_equal(int2("SELECT status = 'paid' FROM sponsorship_dues WHERE id = $1", due4, NULL),
                     1);
    /* Named allocation of the first payment's advance later on fails for
     * a due that is paid: nothing left on it. */
    before = footprint();
    struct alloc_req again[1] = {{.due_id = due4, .amount = NULL}};
    char id4[40];
    OK(pay(&fin, donor3, "10", "USD", "2025-02-04", NULL, id4, receipt, &e));
    before = footprint();
    assert_int_equal(payment_allocate(env.db, &fin, id4, again, 1, &n, &e), -1);
    assert_string_equal(e.code, "due_overpaid");
    assert_int_equal(footprint(), before);
    /* Payment reading. */
    assert_int_equal(db_begin(env.db, true, &e), 0);
    json_t *pj = payment_get(env.db, &auditor, id2, &e);
    assert_non_null(pj);
    assert_string_equal(json_string_value(json_object_get(pj, "fee_text")), "2.50");
    assert_true(json_array_size(json_object_get(pj, "allocations")) >= 5);
    assert_non_null(json_object_get(json_object_get(pj, "receipt"), "receipt_no"));
    json_decref(pj);
    struct payment_filter pf = {.donor_id = donor1, .page = 1, .per_page = 10};
    json_t *pl = payment_list(env.db, &officer, &pf, &e);
    assert_non_null(pl);
    assert_int_equal(json_integer_value(json_object_get(pl, "total")), 2);
    json_decref(pl);
    pf = (struct payment_filter){.q = "GW-7", .page = 1, .per_page = 10};
    pl = payment_list(env.db, &officer, &pf, &e);
    assert_int_equal(json_integer_value(json_object_get(pl, "total")), 1);
    json_decref(pl);
    err_clear(&e);
    assert_null(payment_get(env.db, &worker, id2, &e));
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_null(payment_get(env.db, &fin_b, id2, &e));
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    db_rollback(env.db);
    assert_books_balance();
}

/* Expects payment p refused with code on field, and nothing written. */
static void refused(const struct actor *a, const struct payment_new *p, const char *code,
                    const char *field)
{
    struct err e;
    err_clear(&e);
    int64_t before = footprint();
    int64_t counters = int2("SELECT COALESCE(SUM(next_no), 0) FROM sponsorship_counters"
                            " WHERE org_id = $1",
                            org_a, NULL);
    char id[40], receipt[32];
    if (payment_record(env.db, a, p, id, receipt, &e) == 0) {
        fail_msg("expected %s on %s, the payment was recorded", code, field);
    }
    if (strcmp(e.code, code) != 0 || (field && strcmp(e.field, field) != 0)) {
        fail_msg("expected %s on %s, got %s on %s (%s)", code, field ? field : "-", e.code, e.field,
                 e.msg);
    }
    assert_int_equal(footprint(), before);
    assert_int_equal(int2("SELECT COALESCE(SUM(next_no), 0) FROM sponsorship_counters"
                          " WHERE org_id = $1",
                          org_a, NULL),
                     counters);
}

/* The id of agreement ag's due starting on start. */
static void due_of(const char *ag, const char *start, char out[40])
{
    struct err e;
    err_clear(&e);
    int found;
    assert_int_equal(db_begin(env.db, true, &e), 0);
    struct db_stmt *s = db_row(env.db, &e, &found,
                               "SELECT id FROM sponsorship_dues WHERE sponsorship_id = $1"
                               " AND period_start = $2",
                               "tt", ag, start);
    assert_non_null(s);
    snprintf(out, 40, "%s", db_col_text(s, 0));
    db_done(s);
    db_rollback(env.db);
}

static void test_bad_input(void **state)
{
    (void)state;
    char tomorrow[32];
    int y, m, d;
    time_today(&y, &m, &d);
    time_civil_from_days(time_days_from_civil(y, m, d) + 1, &y, &m, &d);
    snprintf(tomorrow, sizeof(tomorrow), "%04d-%02d-%02d", y, m, d);
    struct payment_new base = {.donor_id = donor2,
                               .amount = "10.000",
                               .currency = "JOD",
                               .method = "cash",
                               .received_on = "2025-05-02"};
    struct payment_new p = base;
    p.amount = "0";
    refused(&fin, &p, "invalid_amount", "amount");
    p.amount = "-5";
    refused(&fin, &p, "invalid_amount", "amount");
    p.amount = "1.2345";
    refused(&fin, &p, "too_many_decimals", "amount");
    p.amount = "12abc";
    refused(&fin, &p, "invalid_amount", "amount");
    p = base;
    p.currency = "XYZ";
    refused(&fin, &p, "unknown_currency", "currency");
    p = base;
    p.method = "cheque";
    refused(&fin, &p, "invalid_choice", "method");
    p = base;
    p.received_on = tomorrow;
    refused(&fin, &p, "future_date", "received_on");
    p.received_on = "2025-02-29";
    refused(&fin, &p, "invalid_date", "received_on");
    p = base;
    p.donor_id = "0190aaaa-0000-7000-8000-000000000000";
    refused(&fin, &p, "not_found", "donor_id");
    p = base;
    p.fee = "10.000";
    refused(&fin, &p, "invalid_amount", "fee");
    p.fee = "-1";
    refused(&fin, &p, "invalid_amount", "fee");
    /* A transaction id recorded once is refused the second time. */
    p = base;
    p.external_ref = "TX-1";
    p.donor_id = donor1;
    p.currency = "USD";
    p.amount = "5";
    refused(&fin, &p, "external_ref_used", "external_ref");
    /* Allocations: another payer's due, another currency, more than the
     * due's remainder, more than the payment, the same due twice, an
     * unknown due, a zero amount. */
    char due_jod[40], due_usd[40], due_usd2[40];
    due_of(ag3, "2025-04-01", due_jod);
    due_of(ag1, "2025-05-31", due_usd);  /* donor1, 10.00 left */
    due_of(ag1, "2025-04-30", due_usd2); /* donor1, paid */
    struct alloc_req one[2];
    p = base;
    one[0] = (struct alloc_req){.due_id = due_usd, .amount = NULL};
    p.allocs = one;
    p.n_allocs = 1;
    refused(&fin, &p, "payer_mismatch", "allocations[0].due_id");
    p.donor_id = donor1;
    refused(&fin, &p, "due_currency_mismatch", "allocations[0].due_id");
    p.currency = "USD";
    p.amount = "50";
    one[0].amount = "10.01";
    refused(&fin, &p, "due_overpaid", "allocations[0].amount");
    one[0].amount = "60";
    refused(&fin, &p, "due_overpaid", "allocations[0].amount");
    one[0].due_id = due_usd2;
    one[0].amount = NULL;
    refused(&fin, &p, "due_overpaid", "allocations[0].amount");
    one[0] = (struct alloc_req){.due_id = due_usd, .amount = "5"};
    one[1] = (struct alloc_req){.due_id = due_usd, .amount = "5"};
    p.n_allocs = 2;
    refused(&fin, &p, "already_allocated", "allocations[1].due_id");
    p.n_allocs = 1;
    p.amount = "4";
    refused(&fin, &p, "over_allocated", "allocations[0].amount");
    one[0].amount = "0";
    refused(&fin, &p, "invalid_amount", "allocations[0].amount");
    one[0].due_id = "0190aaaa-0000-7000-8000-000000000000";
    refused(&fin, &p, "not_found", "allocations[0].due_id");
    /* Not allowed: the sponsorship officer, another organization's officer
     * (who does not see our donor). */
    p = base;
    refused(&officer, &p, "forbidden", NULL);
    refused(&auditor, &p, "forbidden", NULL);
    struct err e;
    err_clear(&e);
    char id[40], receipt[32];
    assert_int_equal(payment_record(env.db, &fin_b, &base, id, receipt, &e), -1);
    assert_string_equal(e.code, "not_found");
    /* JSON input: unknown members, wrong types. */
    json_t *in =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "donor_id", donor2, "amount", "1", "currency",
                  "JOD", "method", "cash", "received_on", "2025-05-02", "colour", "red");
    err_clear(&e);
    assert_int_equal(payment_record_json(env.db, &fin, in, id, receipt, &e), -1);
    assert_string_equal(e.field, "colour");
    json_object_del(in, "colour");
    json_object_set_new(in, "amount", json_integer(5));
    err_clear(&e);
    assert_int_equal(payment_record_json(env.db, &fin, in, id, receipt, &e), -1);
    assert_string_equal(e.field, "amount");
    json_decref(in);
}

static void test_receipts_without_gaps(void **state)
{
    (void)state;
    struct err e;
    char id[40], r1[32], r2[32], r3[32], want[96];
    OK(pay(&fin, donor2, "5.000", "JOD", "2025-05-03", NULL, id, r1, &e));
    /* Refused after the numbers were taken (no EUR rate): rolled back, so
     * the next receipt follows without a gap. */
    assert_int_equal(pay(&fin, donor2, "5.00", "EUR", "2025-05-03", NULL, id, r2, &e), -1);
    assert_string_equal(e.code, "rate_missing");
    OK(pay(&fin, donor2, "5.000", "JOD", "2025-05-03", NULL, id, r3, &e));
    int64_t n1 = atoll(r1 + 7), n3 = atoll(r3 + 7);
    assert_int_equal(n3, n1 + 1);
    /* A counter out of step: the reused number is refused clearly and
     * nothing is posted. */
    char year[8];
    snprintf(year, sizeof(year), "%d", year_now);
    sql2("UPDATE sponsorship_counters SET next_no = next_no - 1 WHERE org_id = $1"
         " AND kind = 'receipt' AND year = CAST($2 AS INTEGER)",
         org_a, year);
    int64_t before = footprint();
    assert_int_equal(pay(&fin, donor2, "5.000", "JOD", "2025-05-03", NULL, id, r2, &e), -1);
    assert_string_equal(e.code, "receipt_number_used");
    assert_string_equal(e.field, "receipt_no");
    snprintf(want, sizeof(want), "receipt number %s is already used", r3);
    assert_non_null(strstr(e.msg, want));
    assert_int_equal(footprint(), before);
    sql2("UPDATE sponsorship_counters SET next_no = next_no + 1 WHERE org_id = $1"
         " AND kind = 'receipt' AND year = CAST($2 AS INTEGER)",
         org_a, year);
    /* Receipt numbers of the organization and year are 1..n without a hole. */
    assert_int_equal(
        int2("SELECT MAX(seq) - COUNT(*) FROM receipts WHERE org_id = $1", org_a, NULL), 0);
    /* Other organizations number from 1. */
    assert_int_equal(int2("SELECT COUNT(*) FROM receipts WHERE org_id = $1", org_b, NULL), 0);
}

static void test_reverse(void **state)
{
    (void)state;
    struct err e;
    char id[40], receipt[32];
    char due[40];
    due_of(ag3, "2025-04-01", due);
    int64_t paid_before = int2("SELECT paid FROM sponsorship_dues WHERE id = $1", due, NULL);
    OK(pay(&fin, donor2, "200.000", "JOD", "2025-05-04", "MM-9", id, receipt, &e));
    assert_true(int2("SELECT paid FROM sponsorship_dues WHERE id = $1", due, NULL) > paid_before);
    int64_t entries = int2("SELECT COUNT(*) FROM journal_entries WHERE org_id = $1", org_a, NULL);
    int64_t n_allocs =
        int2("SELECT COUNT(*) FROM payment_allocations WHERE payment_id = $1", id, NULL);
    assert_true(n_allocs >= 1);
    /* A reason is needed; the sponsorship officer may not. */
    assert_int_equal(payment_reverse(env.db, &fin, id, "  ", &e), -1);
    assert_string_equal(e.field, "reason");
    err_clear(&e);
    assert_int_equal(payment_reverse(env.db, &officer, id, "typo", &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    OK(payment_reverse(env.db, &fin, id, "entered twice", &e));
    assert_int_equal(int2("SELECT paid FROM sponsorship_dues WHERE id = $1", due, NULL),
                     paid_before);
    assert_int_equal(
        int2("SELECT COUNT(*) FROM payment_allocations WHERE payment_id = $1", id, NULL), 0);
    assert_int_equal(int2("SELECT COUNT(*) FROM journal_entries WHERE org_id = $1", org_a, NULL),
                     entries + 1 + n_allocs);
    assert_int_equal(int2("SELECT COUNT(*) FROM receipts WHERE payment_id = $1"
                          " AND voided_at IS NOT NULL AND void_reason = 'entered twice'",
                          id, NULL),
                     1);
    assert_int_equal(
        int2("SELECT COUNT(*) FROM payments WHERE id = $1 AND status = 'reversed'", id, NULL), 1);
    err_clear(&e);
    assert_int_equal(payment_reverse(env.db, &fin, id, "again", &e), -1);
    assert_string_equal(e.code, "already_reversed");
    err_clear(&e);
    struct alloc_req none[1] = {{.due_id = due}};
    assert_int_equal(payment_allocate(env.db, &fin, id, none, 1, NULL, &e), -1);
    assert_string_equal(e.code, "payment_reversed");
    /* The external reference stays taken by the reversed payment. */
    assert_int_equal(pay(&fin, donor2, "1.000", "JOD", "2025-05-04", "MM-9", id, receipt, &e), -1);
    assert_string_equal(e.code, "external_ref_used");
    /* Passed on to a guardian: refused, nothing changes. */
    OK(pay(&fin, donor2, "40.000", "JOD", "2025-05-05", NULL, id, receipt, &e));
    sql2("UPDATE payment_allocations SET disbursement_line_id = 'line-1' WHERE payment_id = $1", id,
         NULL);
    int64_t before = footprint();
    assert_int_equal(payment_reverse(env.db, &fin, id, "wrong", &e), -1);
    assert_string_equal(e.code, "already_disbursed");
    assert_int_equal(footprint(), before);
    assert_books_balance();
}

static void test_reconciliation_and_arrears(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    /* A new payer two periods late by August, then paid. */
    char donor4[40], ag5[40];
    new_donor("Dalia Late", donor4);
    new_agreement(kid[4], donor4, "25.00", "USD", "monthly", "general", "2025-06-01", ag5);
    struct dues_result r;
    OK(dues_generate(env.db, &fin, "2025-07-01", &r, &e));
    assert_int_equal(
        int2("SELECT COUNT(*) FROM billing_arrears_alerts WHERE payer_id = $1", donor4, NULL), 0);
    OK(dues_generate(env.db, &fin, "2025-08-01", &r, &e));
    assert_int_equal(int2("SELECT COUNT(*) FROM billing_arrears_alerts WHERE payer_id = $1"
                          " AND cleared_on IS NULL",
                          donor4, NULL),
                     1);
    assert_int_equal(int2("SELECT COUNT(*) FROM tasks t JOIN billing_arrears_alerts a"
                          " ON a.task_id = t.id WHERE a.payer_id = $1"
                          " AND t.role = 'sponsorship_officer' AND t.kind = 'arrears'",
                          donor4, NULL),
                     1);
    /* Once per episode. */
    OK(dues_generate(env.db, &fin, "2025-08-15", &r, &e));
    assert_int_equal(
        int2("SELECT COUNT(*) FROM billing_arrears_alerts WHERE payer_id = $1", donor4, NULL), 1);
    /* The officer sees the task. */
    assert_int_equal(db_begin(env.db, true, &e), 0);
    json_t *tasks = task_list_mine(env.db, &officer, &e);
    assert_non_null(tasks);
    bool seen = false;
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t)
    {
        const char *title = json_string_value(json_object_get(t, "title"));
        seen = seen || (title && strstr(title, "Dalia Late"));
    }
    assert_true(seen);
    json_decref(tasks);
    /* The arrears list: 50.00, 2 periods, since June. */
    json_t *ar = billing_arrears(env.db, &officer, "2025-08-15", 100, &e);
    assert_non_null(ar);
    json_t *mine = NULL;
    json_array_foreach(json_object_get(ar, "items"), i, t)
    {
        if (strcmp(json_string_value(json_object_get(t, "payer_id")), donor4) == 0) {
            mine = t;
        }
    }
    assert_non_null(mine);
    assert_string_equal(json_string_value(json_object_get(mine, "amount_text")), "75.00");
    assert_int_equal(json_integer_value(json_object_get(mine, "n_periods")), 3);
    assert_string_equal(json_string_value(json_object_get(mine, "oldest_due")), "2025-06-01");
    assert_int_equal(json_integer_value(json_object_get(mine, "months_late")), 2);
    assert_true(json_is_true(json_object_get(mine, "alerted")));
    json_decref(ar);
    db_rollback(env.db);
    /* Paid (with 10.00 over): the alert clears at the next run; the
     * reconciliation shows expected, received, arrears and the overpayment. */
    char id[40], receipt[32];
    OK(pay(&fin, donor4, "85.00", "USD", "2025-08-20", NULL, id, receipt, &e));
    OK(dues_generate(env.db, &fin, "2025-08-20", &r, &e));
    assert_int_equal(int2("SELECT COUNT(*) FROM billing_arrears_alerts WHERE payer_id = $1"
                          " AND cleared_on IS NULL",
                          donor4, NULL),
                     0);
    assert_int_equal(db_begin(env.db, true, &e), 0);
    struct recon_filter f = {.from = "2025-06",
                             .to = "2025-09",
                             .donor_id = donor4,
                             .as_of = "2025-09-15",
                             .page = 1,
                             .per_page = 50};
    json_t *rec = billing_reconciliation(env.db, &auditor, &f, &e);
    assert_non_null(rec);
    json_t *rows = json_object_get(rec, "rows");
    /* June, July, August dues and August's overpayment. */
    assert_int_equal(json_array_size(rows), 3);
    json_t *aug = json_array_get(rows, 2);
    assert_string_equal(json_string_value(json_object_get(aug, "period")), "2025-08");
    assert_int_equal(json_integer_value(json_object_get(aug, "expected")), 2500);
    assert_int_equal(json_integer_value(json_object_get(aug, "received")), 2500);
    assert_int_equal(json_integer_value(json_object_get(aug, "overpaid")), 1000);
    json_t *tot = json_array_get(json_object_get(rec, "totals"), 0);
    assert_int_equal(json_integer_value(json_object_get(tot, "expected")), 7500);
    assert_int_equal(json_integer_value(json_object_get(tot, "arrears")), 0);
    json_decref(rec);
    /* September generated: 15.00 arrears after the advance of 10.00. */
    db_rollback(env.db);
    OK(dues_generate(env.db, &fin, "2025-09-01", &r, &e));
    assert_int_equal(db_begin(env.db, true, &e), 0);
    rec = billing_reconciliation(env.db, &auditor, &f, &e);
    tot = json_array_get(json_object_get(rec, "totals"), 0);
    assert_int_equal(json_integer_value(json_object_get(tot, "expected")), 10000);
    assert_int_equal(json_integer_value(json_object_get(tot, "received")), 8500);
    assert_int_equal(json_integer_value(json_object_get(tot, "arrears")), 1500);
    assert_int_equal(json_integer_value(json_object_get(tot, "overpaid")), 0);
    json_decref(rec);
    struct buf csv = BUF_INIT;
    assert_int_equal(billing_reconciliation_csv(env.db, &auditor, &f, &csv, &e), 0);
    assert_non_null(
        strstr(csv.buf, "\"Dalia Late\",\"2025-09\",\"USD\",\"25.00\",\"10.00\",\"15.00\""));
    buf_release(&csv);
    /* Bad filters; who may read. */
    f.from = "2025-13";
    err_clear(&e);
    assert_null(billing_reconciliation(env.db, &auditor, &f, &e));
    assert_string_equal(e.field, "from");
    f.from = "2025-10";
    err_clear(&e);
    assert_null(billing_reconciliation(env.db, &auditor, &f, &e));
    assert_string_equal(e.code, "invalid_period");
    f.from = NULL;
    err_clear(&e);
    assert_null(billing_reconciliation(env.db, &worker, &f, &e));
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_null(billing_arrears(env.db, &worker, NULL, 10, &e));
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    db_rollback(env.db);
    assert_books_balance();
}

/* Ending or pausing an agreement cancels the dues it no longer covers: their
 * entries are reversed, money allocated to them becomes an advance again,
 * and the books still balance; a sponsor change does not bill a period twice. */
static void test_end_and_pause_cancel_dues(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    struct actor reg;
    testenv_user(&env, &reg, "case_worker", org_a, officer.org_slug);
    char k1[40], k2[40], d1[40], d2[40], a1[40], a2[40];
    testenv_child(&env, &reg, "رهف", "2014-02-02", k1);
    testenv_child(&env, &reg, "جنى", "2014-03-03", k2);
    sql2("UPDATE children SET status = 'active' WHERE id = $1 OR id = $2", k1, k2);
    new_donor("Cancel Sponsor", d1);
    new_donor("Pause Sponsor", d2);
    new_agreement(k1, d1, "50.00", "USD", "monthly", "general", "2025-01-01", a1);
    new_agreement(k2, d2, "30.00", "USD", "monthly", "general", "2025-01-01", a2);
    struct dues_result r;
    OK(dues_generate(env.db, &fin, "2025-06-30", &r, &e));
    assert_int_equal(n_dues(a1), 6);
    char pid[40], rno[32];
    /* Three months paid at once: Jan, Feb and Mar allocated. */
    OK(pay(&fin, d1, "150.00", "USD", "2025-01-05", NULL, pid, rno, &e));
    assert_int_equal(int2("SELECT unallocated FROM payments WHERE id = $1", pid, NULL), 0);
    /* Ended mid-February: March to June are no longer owed; March's money
     * goes back to the payment. */
    OK(sponsorship_end(env.db, &officer, a1, "sponsor_request", "2025-02-15", NULL, &e));
    assert_int_equal(int2("SELECT COUNT(*) FROM sponsorship_dues WHERE sponsorship_id = $1"
                          " AND status = 'cancelled'",
                          a1, NULL),
                     4);
    assert_int_equal(int2("SELECT unallocated FROM payments WHERE id = $1", pid, NULL), 5000);
    assert_int_equal(int2("SELECT COALESCE(SUM(amount), 0) FROM journal_lines"
                          " WHERE sponsorship_id = $1 AND account = '1100'",
                          a1, NULL),
                     0);
    assert_int_equal(int2("SELECT COALESCE(SUM(amount), 0) FROM journal_lines"
                          " WHERE sponsorship_id = $1 AND account = '4000'",
                          a1, NULL),
                     -10000);
    assert_int_equal(int2("SELECT COUNT(*) FROM audit_log WHERE action = 'dues.cancel'"
                          " AND entity_id = $1",
                          a1, NULL),
                     1);
    /* A pause over April cancels April's due only. */
    OK(sponsorship_pause(env.db, &officer, a2, "2025-04-01", "2025-04-30", "travel", &e));
    assert_int_equal(int2("SELECT COUNT(*) FROM sponsorship_dues WHERE sponsorship_id = $1"
                          " AND status = 'cancelled' AND period_start = '2025-04-01'",
                          a2, NULL),
                     1);
    assert_int_equal(int2("SELECT COUNT(*) FROM sponsorship_dues WHERE sponsorship_id = $1"
                          " AND status <> 'cancelled'",
                          a2, NULL),
                     5);
    /* A sponsor change from May: the old agreement's May and June are
     * cancelled, so the new one bills them once. */
    OK(sponsorship_resume(env.db, &officer, a2, "2025-05-01", &e));
    json_t *in = json_pack("{s:s, s:s}", "donor_id", d1, "start_date", "2025-05-01");
    json_t *errors = NULL;
    char a3[40];
    OK(sponsorship_change_sponsor(env.db, &officer, a2, in, a3, &errors, &e));
    json_decref(in);
    OK(dues_generate(env.db, &fin, "2025-06-30", &r, &e));
    assert_int_equal(int2("SELECT COUNT(*) FROM sponsorship_dues WHERE child_id = $1"
                          " AND period_start >= '2025-05-01' AND status <> 'cancelled'",
                          k2, NULL),
                     2);
    assert_books_balance();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dues),      cmocka_unit_test(test_payments),
        cmocka_unit_test(test_bad_input), cmocka_unit_test(test_receipts_without_gaps),
        cmocka_unit_test(test_reverse),   cmocka_unit_test(test_reconciliation_and_arrears),
        cmocka_unit_test(test_end_and_pause_cancel_dues),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
