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
#include "finance/ledger.h"
#include "sponsorship/billing.h"
#include "sponsorship/sponsors.h"
#include "testlib.h"

/* Asserts call returns 0, printing e otherwise. */
#define OK(call)                                                                               \
    do {                                                                                       \
        if ((call) != 0) {                                                                     \
            fail_msg("%s: %s: %s (%s)", #call, e.code, e.msg, e.field);                        \
        }                                                                                      \
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
                           "donor_id", donor, "amount", amount, "currency", currency,
                           "frequency", freq, "purpose", purpose, "start_date", start, "status",
                           "active");
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
static int pay(const struct actor *a, const char *donor, const char *amount,
               const char *currency, const char *day, const char *ext, char id[40],
               char receipt[32], struct err *e)
{
    struct payment_new p = {.donor_id = donor, .amount = amount, .currency = currency,
                            .method = "bank_transfer", .received_on = day, .external_ref = ext};
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
    assert_int_equal(int2("SELECT COUNT(*) FROM payment_allocations WHERE payment_id = $1", id,
                          NULL),
                     2);
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
    struct payment_new p = {.donor_id = donor1, .amount = "300.00", .fee = "2.50",
                            .currency = "USD", .method = "card", .received_on = "2025-03-01",
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
    struct db_stmt *s = db_row(env.db, &e, &found,
                               "SELECT id FROM sponsorship_dues WHERE sponsorship_id = $1", "t",
                               ag4);
    assert_non_null(s);
    snprintf(due4, sizeof(due4), "%s", db_col_text(s, 0));
    db_done(s);
    db_rollback(env.db);
    named[0].due_id = due4;
    struct payment_new p3 = {.donor_id = donor3, .amount = "650", .currency = "USD",
                             .method = "cash", .received_on = "2025-02-02", .allocs = named,
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
    assert_int_equal(int2("SELECT status = 'paid' FROM sponsorship_dues WHERE id = $1", due4,
                          NULL),
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dues),
        cmocka_unit_test(test_payments),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
