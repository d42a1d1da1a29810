/*
 * test_disburse: payout lists and in-kind distributions at the service level.
 * Money is seeded the way billing leaves it (sponsorship, due, payment,
 * allocation rows, each with its ledger entry), then: a run picks only
 * undisbursed money of its currency and period, one line per child and
 * fund; a second run finds nothing; cancelling releases the money;
 * confirming posts balanced entries; paying needs proof and happens once;
 * failed lines stay payable; in-kind with and without a value; bad input
 * changes nothing; another organization sees nothing. The books are summed
 * after each step: every currency and fund balances to zero.
 * Runs on SANAD_TEST_DB or a temp SQLite file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <zlib.h>

#include "core/time.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "finance/ledger.h"
#include "sponsorship/disburse.h"
#include "sponsorship/sponsorship.h"
#include "testlib.h"

static struct testenv env;
static struct actor fin, spo, worker, other_fin, auditor;
static char org_a[40], kid1[40], kid2[40], kid3[40], guard1[40], donor1[40];
static int agreement_seq;

/* The sum of journal lines of org per currency and fund must be zero. */
static void assert_books_balance(const char *org)
{
    struct err e;
    err_clear(&e);
    struct db_stmt *s = db_query(env.db, &e,
                                 "SELECT currency, fund, SUM(amount), SUM(base_amount)"
                                 " FROM journal_lines WHERE org_id = $1 GROUP BY currency, fund",
                                 "t", org);
    assert_non_null(s);
    while (db_step(s, &e) == 1) {
        if (db_col_int64(s, 2) != 0 || db_col_int64(s, 3) != 0) {
            fail_msg("books off in %s/%s: %lld", db_col_text(s, 0), db_col_text(s, 1),
                     (long long)db_col_int64(s, 2));
        }
    }
    db_done(s);
}

/* One integer from a query with one text parameter. */
static int64_t scalar(const char *sql, const char *arg)
{
    struct err e;
    err_clear(&e);
    int found;
    struct db_stmt *s = db_row(env.db, &e, &found, sql, "t", arg);
    assert_non_null(s);
    int64_t v = db_col_int64(s, 0);
    db_done(s);
    return v;
}

/* The balance of account in fund for org (debit positive). */
static int64_t balance(const char *org, const char *account, const char *fund)
{
    struct err e;
    err_clear(&e);
    int found;
    struct db_stmt *s = db_row(env.db, &e, &found,
                               "SELECT COALESCE(SUM(amount), 0) FROM journal_lines"
                               " WHERE org_id = $1 AND account = $2 AND fund = $3",
                               "ttt", org, account, fund);
    assert_non_null(s);
    int64_t v = db_col_int64(s, 0);
    db_done(s);
    return v;
}

/* Posts a two-line entry for a (inside the caller's transaction). */
static void post2(const struct actor *a, const char *date, const char *kind, const char *src,
                  const char *dr, const char *dr_fund, const char *cr, const char *cr_fund,
                  const char *cur, int64_t amount, const char *child)
{
    struct ledger_line l[2] = {
        {.account = dr, .fund = dr_fund, .currency = cur, .amount = amount, .child_id = child},
        {.account = cr, .fund = cr_fund, .currency = cur, .amount = -amount, .child_id = child},
    };
    struct ledger_entry en = {.date = date,
                              .memo = "test seed",
                              .source_kind = kind,
                              .source_id = src,
                              .lines = l,
                              .n_lines = 2};
    struct err e;
    err_clear(&e);
    char id[40];
    if (ledger_post_tx(env.db, a, &en, id, &e) < 0) {
        fail_msg("post: %s", e.msg);
    }
}

/* Seeds what billing would leave for one paid due: a sponsorship of child by
 * donor (one per due, so marked ended: the registry allows one live agreement
 * per child and purpose, migration 0017), a due of period_start, a payment and its allocation (all with
 * their entries). Writes the allocation id to alloc_out (may be NULL). */
static void seed_paid_due(const struct actor *a, const char *child, const char *donor,
                          const char *period_start, int64_t amount, const char *cur,
                          const char *purpose, char alloc_out[40])
{
    struct err e;
    err_clear(&e);
    char sp[40], due[40], pay[40], al[40], at[32], no[40], pno[40];
    uuid_v7(sp);
    uuid_v7(due);
    uuid_v7(pay);
    uuid_v7(al);
    time_format_iso(time_now_ms(), at, sizeof(at));
    agreement_seq++;
    snprintf(no, sizeof(no), "S-T-%s-%05d", a->org_id + 30, agreement_seq);
    snprintf(pno, sizeof(pno), "P-T-%s-%05d", a->org_id + 30, agreement_seq);
    const char *fund = sponsorship_fund_of(purpose);
    char end[16];
    snprintf(end, sizeof(end), "%.8s28", period_start);
    assert_int_equal(db_begin(env.db, false, &e), 0);
    assert_int_equal(ledger_ensure_chart(env.db, a->org_id, &e), 0);
    int rc =
        db_run(env.db, &e,
               "INSERT INTO sponsorships (id, org_id, agreement_no, child_id, donor_id,"
               " payer_id, amount, currency, frequency, purpose, start_date, status,"
               " next_due, created_by, created_at, updated_at)"
               " VALUES ($1, $2, $3, $4, $5, $5, $6, $7, 'monthly', $8, $9, 'ended', $9,"
               " 'test', $10, $10)",
               "tttttittt"
               "t",
               sp, a->org_id, no, child, donor, amount, cur, purpose, period_start, at) < 0 ||
        db_run(env.db, &e,
               "INSERT INTO sponsorship_dues (id, org_id, sponsorship_id, donor_id, payer_id,"
               " child_id, period_start, period_end, due_date, amount, currency, fund, paid,"
               " status, created_at) VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $6, $8, $9,"
               " $10, $8, 'paid', $11)",
               "ttttttt"
               "itt"
               "t",
               due, a->org_id, sp, donor, child, period_start, end, amount, cur, fund, at) < 0 ||
        db_run(env.db, &e,
               "INSERT INTO payments (id, org_id, payment_no, donor_id, amount, fee, currency,"
               " method, received_on, unallocated, status, created_by, created_at)"
               " VALUES ($1, $2, $3, $4, $5, 0, $6, 'bank_transfer', $7, 0, 'recorded',"
               " 'test', $8)",
               "ttttittt", pay, a->org_id, pno, donor, amount, cur, period_start, at) < 0 ||
        db_run(env.db, &e,
               "INSERT INTO payment_allocations (id, org_id, payment_id, due_id, amount,"
               " created_at) VALUES ($1, $2, $3, $4, $5, $6)",
               "ttttit", al, a->org_id, pay, due, amount, at) < 0;
    if (rc) {
        fail_msg("seed: %s", e.msg);
    }
    char today[11];
    int y, m, d;
    time_today(&y, &m, &d);
    snprintf(today, sizeof(today), "%04d-%02d-%02d", y, m, d);
    post2(a, today, "due", due, ACCT_RECEIVABLE, fund, ACCT_INCOME_SPONSOR, fund, cur, amount,
          child);
    post2(a, today, "payment", pay, ACCT_BANK, FUND_SPONSORSHIP, ACCT_ADVANCES, FUND_SPONSORSHIP,
          cur, amount, NULL);
    post2(a, today, "allocation", al, ACCT_ADVANCES, FUND_SPONSORSHIP, ACCT_RECEIVABLE, fund, cur,
          amount, child);
    assert_int_equal(db_commit(env.db, &e), 0);
    if (alloc_out) {
        snprintf(alloc_out, 40, "%s", al);
    }
}

/* Inserts a donor of org (returns its id in id). */
static void seed_donor(const char *org, const char *name, char id[40])
{
    struct err e;
    err_clear(&e);
    char at[32], no[32];
    uuid_v7(id);
    time_format_iso(time_now_ms(), at, sizeof(at));
    snprintf(no, sizeof(no), "D-%.8s", id + 28);
    assert_int_equal(db_run(env.db, &e,
                            "INSERT INTO donors (id, org_id, donor_no, kind, name, created_by,"
                            " created_at, updated_at) VALUES ($1, $2, $3, 'person', $4, 'test',"
                            " $5, $5)",
                            "ttttt", id, org, no, name, at),
                     1);
}

static int setup(void **state)
{
    (void)state;
    if (testenv_open(&env, "disburse") < 0) {
        return -1;
    }
    free(g_config.data_dir);
    g_config.data_dir = strdup(env.dir);
    char org_b[40], sa[32], sb[32];
    testenv_org(&env, org_a, sa);
    testenv_org(&env, org_b, sb);
    testenv_user(&env, &fin, "finance_officer", org_a, sa);
    testenv_user(&env, &spo, "sponsorship_officer", org_a, sa);
    testenv_user(&env, &worker, "case_worker", org_a, sa);
    testenv_user(&env, &auditor, "auditor", org_a, sa);
    testenv_user(&env, &other_fin, "finance_officer", org_b, sb);
    testenv_child(&env, &worker, "مريم", "2014-02-01", kid1);
    testenv_child(&env, &worker, "سارة", "2013-05-01", kid2);
    testenv_child(&env, &worker, "هدى", "2012-06-01", kid3);
    struct err e;
    err_clear(&e);
    json_t *in = json_pack("{s:s, s:s, s:s}", "full_name", "ريم الخطيب", "relation", "mother",
                           "phone", "0791234567");
    if (guardian_create(env.db, &worker, in, guard1, &e) < 0 ||
        child_set_guardian(env.db, &worker, kid1, guard1, "registration", &e) < 0) {
        fprintf(stderr, "guardian: %s\n", e.msg);
        return -1;
    }
    json_decref(in);
    seed_donor(org_a, "Amina Trust", donor1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return testenv_close(&env);
}

/* The previous month as YYYY-MM and its first day. */
static void last_month(char period[8], char first[11])
{
    int y, m, d;
    time_today(&y, &m, &d);
    if (--m == 0) {
        m = 12;
        y--;
    }
    char tmp[32];
    snprintf(tmp, sizeof(tmp), "%04d-%02d", y, m);
    snprintf(period, 8, "%.7s", tmp);
    snprintf(tmp, sizeof(tmp), "%04d-%02d-01", y, m);
    snprintf(first, 11, "%.10s", tmp);
}

static void test_bad_input(void **state)
{
    (void)state;
    struct err e;
    char id[40], no[32];
    static const struct {
        const char *period, *currency, *method, *field;
    } bad[] = {
        {"2026-13", "USD", "cash", "period"},   {"2026-1", "USD", "cash", "period"},
        {"26-01", "USD", "cash", "period"},     {NULL, "USD", "cash", "period"},
        {"2026-01", "XYZ", "cash", "currency"}, {"2026-01", "usd1", "cash", "currency"},
        {"2026-01", "USD", "card", "method"},   {"2026-01", "USD", NULL, "method"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&e);
        assert_int_equal(disb_run_create(env.db, &fin, bad[i].period, bad[i].currency,
                                         bad[i].method, id, no, NULL, NULL, &e),
                         -1);
        assert_int_equal(e.kind, ERR_INVALID);
        assert_string_equal(e.field, bad[i].field);
    }
    /* Roles without finance.write may not make lists. */
    err_clear(&e);
    assert_int_equal(
        disb_run_create(env.db, &spo, "2026-01", "USD", "cash", id, no, NULL, NULL, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    assert_int_equal(scalar("SELECT COUNT(*) FROM disbursement_runs WHERE org_id = $1", org_a), 0);
}

static void test_run_cycle(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    char period[8], first[11], a1[40], a2[40], a3[40], a4[40], a5[40];
    last_month(period, first);
    /* kid1: two sponsors in the pool fund and one for education; kid2: one;
     * a JOD allocation and a due of a later period are not picked. */
    char today[11];
    int ty, tm, td;
    time_today(&ty, &tm, &td);
    snprintf(today, sizeof(today), "%04d-%02d-%02d", ty, tm, td);
    assert_int_equal(ledger_set_rate(env.db, &fin, "JOD", today, "1.41", &e), 0);
    seed_paid_due(&fin, kid1, donor1, first, 5000, "USD", "general", a1);
    seed_paid_due(&fin, kid1, donor1, first, 2550, "USD", "general", a2);
    seed_paid_due(&fin, kid1, donor1, first, 1000, "USD", "education", a3);
    seed_paid_due(&fin, kid2, donor1, "2020-01-01", 4000, "USD", "general", a4);
    seed_paid_due(&fin, kid3, donor1, first, 7000, "JOD", "general", a5);
    char later[32];
    int y, m, d;
    time_today(&y, &m, &d);
    snprintf(later, sizeof(later), "%04d-%02d-01", y + 1, m);
    seed_paid_due(&fin, kid3, donor1, later, 3000, "USD", "general", NULL);
    assert_books_balance(org_a);

    char run[40], no[32];
    int64_t n = 0, total = 0;
    assert_int_equal(disb_run_create(env.db, &fin, period, "USD", "cash", run, no, &n, &total, &e),
                     0);
    assert_int_equal(n, 3);
    assert_int_equal(total, 5000 + 2550 + 1000 + 4000);
    assert_memory_equal(no, "DR-", 3);
    /* Each allocation points at its child's line of the right fund. */
    assert_int_equal(scalar("SELECT COUNT(*) FROM payment_allocations WHERE org_id = $1"
                            " AND disbursement_line_id IS NOT NULL",
                            org_a),
                     4);
    json_t *r = disb_run_get(env.db, &fin, run, &e);
    assert_non_null(r);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "draft");
    json_t *lines = json_object_get(r, "lines");
    assert_int_equal(json_array_size(lines), 3);
    int64_t seen_pool = 0, seen_edu = 0, seen_kid2 = 0;
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l)
    {
        const char *c = json_string_value(json_object_get(l, "child_id"));
        const char *f = json_string_value(json_object_get(l, "fund"));
        int64_t amt = json_integer_value(json_object_get(l, "amount"));
        if (!strcmp(c, kid1) && !strcmp(f, "sponsorship")) {
            seen_pool = amt;
            assert_string_equal(json_string_value(json_object_get(l, "guardian_id")), guard1);
            assert_string_equal(json_string_value(json_object_get(l, "guardian_phone")),
                                "0791234567");
        } else if (!strcmp(c, kid1) && !strcmp(f, "education")) {
            seen_edu = amt;
        } else if (!strcmp(c, kid2)) {
            seen_kid2 = amt;
            assert_true(json_is_null(json_object_get(l, "guardian_id")) ||
                        !json_object_get(l, "guardian_id"));
        }
        assert_string_equal(json_string_value(json_object_get(l, "status")), "pending");
        assert_string_equal(json_string_value(json_object_get(l, "method")), "cash");
    }
    assert_int_equal(seen_pool, 7550);
    assert_int_equal(seen_edu, 1000);
    assert_int_equal(seen_kid2, 4000);
    assert_string_equal(json_string_value(json_object_get(r, "total_text")), "125.50");
    json_decref(r);

    /* A second run finds nothing; the counter is not used up. */
    char run2[40], no2[32];
    err_clear(&e);
    assert_int_equal(
        disb_run_create(env.db, &fin, period, "USD", "cash", run2, no2, NULL, NULL, &e), -1);
    assert_int_equal(e.kind, ERR_CONFLICT);
    assert_string_equal(e.code, "nothing_to_disburse");

    /* Cancelling releases the money; the next run finds it again. */
    err_clear(&e);
    assert_int_equal(disb_run_cancel(env.db, &fin, run, &e), 0);
    assert_int_equal(scalar("SELECT COUNT(*) FROM payment_allocations WHERE org_id = $1"
                            " AND disbursement_line_id IS NOT NULL",
                            org_a),
                     0);
    assert_int_equal(disb_run_cancel(env.db, &fin, run, &e), -1);
    assert_string_equal(e.code, "run_not_draft");
    err_clear(&e);
    assert_int_equal(disb_run_confirm(env.db, &fin, run, NULL, &e), -1);
    assert_string_equal(e.code, "run_not_draft");
    err_clear(&e);
    assert_int_equal(
        disb_run_create(env.db, &fin, period, "USD", "bank", run2, no2, &n, &total, &e), 0);
    assert_int_equal(n, 3);
    assert_int_equal(total, 12550);
    assert_string_not_equal(no, no2);

    /* Paying before the list is confirmed is refused. */
    r = disb_run_get(env.db, &fin, run2, &e);
    char line_pool[40], line_edu[40], line_kid2[40];
    json_array_foreach(json_object_get(r, "lines"), i, l)
    {
        const char *c = json_string_value(json_object_get(l, "child_id"));
        const char *f = json_string_value(json_object_get(l, "fund"));
        char *dst = !strcmp(c, kid2) ? line_kid2 : !strcmp(f, "education") ? line_edu : line_pool;
        snprintf(dst, 40, "%s", json_string_value(json_object_get(l, "id")));
    }
    json_decref(r);
    struct disb_proof proof = {.reference = "TX-1001"};
    err_clear(&e);
    assert_int_equal(disb_line_paid(env.db, &fin, line_pool, &proof, &e), -1);
    assert_string_equal(e.code, "run_not_confirmed");

    /* Confirming posts Dr 5000 / Cr 2000 per fund; the books balance. */
    int64_t before = scalar("SELECT COUNT(*) FROM journal_entries WHERE org_id = $1", org_a);
    err_clear(&e);
    assert_int_equal(disb_run_confirm(env.db, &spo, run2, NULL, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_int_equal(disb_run_confirm(env.db, &fin, run2, "2999-01-01", &e), -1);
    assert_string_equal(e.field, "date");
    err_clear(&e);
    assert_int_equal(disb_run_confirm(env.db, &fin, run2, NULL, &e), 0);
    assert_int_equal(scalar("SELECT COUNT(*) FROM journal_entries WHERE org_id = $1", org_a),
                     before + 1);
    assert_int_equal(balance(org_a, ACCT_GRANTS_PAID, "sponsorship"), 7550 + 4000);
    assert_int_equal(balance(org_a, ACCT_GRANTS_PAID, "education"), 1000);
    assert_int_equal(balance(org_a, ACCT_PAYABLE, "sponsorship"), -(7550 + 4000));
    assert_books_balance(org_a);
    err_clear(&e);
    assert_int_equal(disb_run_confirm(env.db, &fin, run2, NULL, &e), -1);
    assert_string_equal(e.code, "run_not_draft");
    err_clear(&e);
    assert_int_equal(disb_run_cancel(env.db, &fin, run2, &e), -1);
    assert_string_equal(e.code, "run_not_draft");

    /* The database itself refuses to change an approved amount. */
    err_clear(&e);
    assert_true(db_run(env.db, &e,
                       "UPDATE disbursement_lines SET amount = amount + 1 WHERE id = $1", "t",
                       line_pool) < 0);
    err_clear(&e);

    /* Paying needs proof; bad input changes nothing. */
    struct disb_proof none = {0};
    err_clear(&e);
    assert_int_equal(disb_line_paid(env.db, &fin, line_pool, &none, &e), -1);
    assert_string_equal(e.code, "proof_required");
    struct disb_proof badm = {.reference = "X", .method = "card"};
    err_clear(&e);
    assert_int_equal(disb_line_paid(env.db, &fin, line_pool, &badm, &e), -1);
    assert_string_equal(e.field, "method");
    struct disb_proof badd = {.reference = "X", .paid_on = "2026-02-30"};
    err_clear(&e);
    assert_int_equal(disb_line_paid(env.db, &fin, line_pool, &badd, &e), -1);
    assert_string_equal(e.field, "paid_on");
    struct disb_proof early = {.reference = "X", .paid_on = "2020-01-01"};
    err_clear(&e);
    assert_int_equal(disb_line_paid(env.db, &fin, line_pool, &early, &e), -1);
    assert_string_equal(e.code, "before_confirmation");
    static const unsigned char html[] = "<html><script>alert(1)</script></html>";
    struct disb_proof badphoto = {.photo = html, .photo_len = sizeof(html)};
    err_clear(&e);
    assert_int_equal(disb_line_paid(env.db, &fin, line_pool, &badphoto, &e), -1);
    assert_string_equal(e.field, "photo");
    assert_int_equal(balance(org_a, ACCT_PAYABLE, "sponsorship"), -(7550 + 4000));

    /* Paid with a reference: Dr 2000 / Cr 1010 (bank, the run's method). */
    err_clear(&e);
    assert_int_equal(disb_line_paid(env.db, &fin, line_pool, &proof, &e), 0);
    assert_int_equal(balance(org_a, ACCT_PAYABLE, "sponsorship"), -4000);
    assert_books_balance(org_a);
    /* Paying twice is refused and posts nothing. */
    err_clear(&e);
    assert_int_equal(disb_line_paid(env.db, &fin, line_pool, &proof, &e), -1);
    assert_int_equal(e.kind, ERR_CONFLICT);
    assert_string_equal(e.code, "payout_paid");
    err_clear(&e);
    assert_int_equal(disb_line_failed(env.db, &fin, line_pool, "x", &e), -1);
    assert_string_equal(e.code, "payout_paid");
    assert_int_equal(balance(org_a, ACCT_PAYABLE, "sponsorship"), -4000);

    /* Failed, then paid later in cash with a signature photo. */
    err_clear(&e);
    assert_int_equal(disb_line_failed(env.db, &fin, line_kid2, "guardian not reachable", &e), 0);
    assert_int_equal(disb_line_failed(env.db, &fin, line_kid2, NULL, &e), -1);
    assert_string_equal(e.code, "payout_failed");
    struct buf png = BUF_INIT;
    buf_add(&png, "\x89PNG\r\n\x1a\n", 8);
    static const struct {
        const char *type;
        const char *data;
        uint32_t n;
    } chunks[] = {{"IHDR", "\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0", 13},
                  {"tEXt", "Comment\0GPS 33.5,36.2", 21},
                  {"IDAT", "\x78\x9c\x63\x60\x60\x60\0\0\0\x04\0\x01", 12},
                  {"IEND", "", 0}};
    for (size_t k = 0; k < 4; k++) {
        unsigned char len[4] = {0, 0, 0, (unsigned char)chunks[k].n};
        buf_add(&png, len, 4);
        size_t at = png.len;
        buf_add(&png, chunks[k].type, 4);
        buf_add(&png, chunks[k].data, chunks[k].n);
        uint32_t crc = (uint32_t)crc32(0, (const unsigned char *)png.buf + at, 4 + chunks[k].n);
        unsigned char c[4] = {(unsigned char)(crc >> 24), (unsigned char)(crc >> 16),
                              (unsigned char)(crc >> 8), (unsigned char)crc};
        buf_add(&png, c, 4);
    }
    struct disb_proof sig = {
        .photo = (const unsigned char *)png.buf, .photo_len = png.len, .method = "cash"};
    err_clear(&e);
    assert_int_equal(disb_line_paid(env.db, &fin, line_kid2, &sig, &e), 0);
    buf_release(&png);
    assert_int_equal(balance(org_a, ACCT_PAYABLE, "sponsorship"), 0);
    assert_int_equal(balance(org_a, ACCT_CASH, "sponsorship"), -4000);
    assert_books_balance(org_a);
    /* The proof opens for finance.read, without its text chunk, and is audited. */
    struct disb_photo ph;
    err_clear(&e);
    assert_int_equal(disb_proof_open(env.db, &auditor, line_kid2, &ph, &e), 0);
    assert_string_equal(ph.content_type, "image/png");
    for (size_t k = 0; k + 3 <= ph.data.len; k++) {
        assert_false(memcmp(ph.data.buf + k, "GPS", 3) == 0);
    }
    buf_release(&ph.data);
    assert_true(scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'disbursement.proof_view'"
                       " AND org_id = $1",
                       org_a) >= 1);
    err_clear(&e);
    assert_int_equal(disb_proof_open(env.db, &auditor, line_pool, &ph, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    err_clear(&e);
    assert_int_equal(disb_line_paid(env.db, &auditor, line_edu, &proof, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);

    /* The trace a statement reads. */
    struct disb_trace t;
    err_clear(&e);
    assert_int_equal(disb_trace_tx(env.db, org_a, line_kid2, &t, &e), 1);
    assert_string_equal(t.status, "paid");
    assert_string_equal(t.method, "cash");
    assert_string_equal(t.proof_kind, "signature");
    assert_string_equal(t.run_status, "confirmed");
    assert_string_equal(t.period, period);
    assert_int_equal(t.amount, 4000);
    assert_int_equal(disb_trace_tx(env.db, org_a, "nope", &t, &e), 0);

    /* The list and the CSV. */
    err_clear(&e);
    json_t *list = disb_run_list(env.db, &auditor, NULL, 1, 25, &e);
    assert_non_null(list);
    assert_int_equal(json_integer_value(json_object_get(list, "total")), 2);
    json_t *first_item = json_array_get(json_object_get(list, "items"), 0);
    assert_int_equal(json_integer_value(json_object_get(first_item, "n_paid")), 2);
    assert_int_equal(json_integer_value(json_object_get(first_item, "paid_total")), 11550);
    json_decref(list);
    struct buf csv = BUF_INIT;
    assert_int_equal(disb_run_csv(env.db, &fin, run2, "en", &csv, &e), 0);
    assert_non_null(strstr(csv.buf, "TX-1001"));
    assert_non_null(strstr(csv.buf, "75.50"));
    buf_release(&csv);

    /* Another organization sees none of it. */
    err_clear(&e);
    assert_null(disb_run_get(env.db, &other_fin, run2, &e));
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    err_clear(&e);
    assert_int_equal(disb_line_paid(env.db, &other_fin, line_edu, &proof, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    err_clear(&e);
    list = disb_run_list(env.db, &other_fin, NULL, 1, 25, &e);
    assert_int_equal(json_integer_value(json_object_get(list, "total")), 0);
    json_decref(list);
    /* Case roles do not see payouts. */
    err_clear(&e);
    assert_null(disb_run_list(env.db, &worker, NULL, 1, 25, &e));
    assert_int_equal(e.kind, ERR_FORBIDDEN);

    /* The JOD money waits for a JOD run. */
    err_clear(&e);
    assert_int_equal(disb_run_create(env.db, &fin, period, "JOD", "cash", run, no, &n, &total, &e),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(total, 7000);
    assert_true(scalar("SELECT COUNT(*) FROM audit_log WHERE org_id = $1"
                       " AND action LIKE 'disbursement.%'",
                       org_a) >= 7);
}

static void test_closed_period(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    /* A month two months back, closed: nothing is posted into it. */
    int y, m, d;
    time_today(&y, &m, &d);
    m -= 2;
    if (m < 1) {
        m += 12;
        y--;
    }
    char closed[32], day[32];
    snprintf(closed, sizeof(closed), "%04d-%02d", y, m);
    snprintf(day, sizeof(day), "%04d-%02d-15", y, m);
    assert_int_equal(ledger_close_period(env.db, &fin, closed, &e), 0);
    int64_t entries = scalar("SELECT COUNT(*) FROM journal_entries WHERE org_id = $1", org_a);
    json_t *in =
        json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}", "child_id", kid1, "kind", "food_parcel",
                  "quantity", 1, "distributed_on", day, "value", "30.00", "currency", "USD");
    char id[40];
    json_t *errors = NULL;
    assert_int_equal(inkind_record(env.db, &spo, in, id, &errors, &e), -1);
    assert_string_equal(e.code, "period_closed");
    assert_null(errors);
    json_decref(in);
    assert_int_equal(scalar("SELECT COUNT(*) FROM journal_entries WHERE org_id = $1", org_a),
                     entries);
    /* A payout list confirmed into the closed month is refused, and stays a draft. */
    char first[48], run[40], no[32];
    snprintf(first, sizeof(first), "%s-01", closed);
    seed_paid_due(&fin, kid3, donor1, first, 900, "USD", "medical", NULL);
    err_clear(&e);
    assert_int_equal(
        disb_run_create(env.db, &fin, closed, "USD", "mobile_money", run, no, NULL, NULL, &e), 0);
    entries = scalar("SELECT COUNT(*) FROM journal_entries WHERE org_id = $1", org_a);
    assert_int_equal(disb_run_confirm(env.db, &fin, run, day, &e), -1);
    assert_string_equal(e.code, "period_closed");
    assert_int_equal(scalar("SELECT COUNT(*) FROM journal_entries WHERE org_id = $1", org_a),
                     entries);
    json_t *r = disb_run_get(env.db, &fin, run, &e);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "draft");
    json_decref(r);
    err_clear(&e);
    assert_int_equal(disb_run_confirm(env.db, &fin, run, NULL, &e), 0);
    assert_int_equal(balance(org_a, ACCT_PAYABLE, "medical"), -900);
    assert_books_balance(org_a);
}

static void test_inkind(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    char id[40];
    json_t *errors = NULL;
    /* Without a value: recorded, nothing posted. */
    int64_t entries = scalar("SELECT COUNT(*) FROM journal_entries WHERE org_id = $1", org_a);
    json_t *in = json_pack("{s:s, s:s, s:s, s:i}", "child_id", kid2, "kind", "school_kit",
                           "description", "حقيبة مدرسية ودفاتر", "quantity", 2);
    assert_int_equal(inkind_record(env.db, &spo, in, id, &errors, &e), 0);
    json_decref(in);
    assert_int_equal(scalar("SELECT COUNT(*) FROM journal_entries WHERE org_id = $1", org_a),
                     entries);
    /* With a value, a fund and the donor: Dr 5200 / Cr 4100. */
    in = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "child_id", kid2, "kind", "device",
                   "value", "120.50", "currency", "USD", "fund", "education", "donor_id", donor1,
                   "proof_ref", "DN-77", "quantity", "1");
    char id2[40];
    assert_int_equal(inkind_record(env.db, &spo, in, id2, &errors, &e), 0);
    json_decref(in);
    assert_int_equal(balance(org_a, ACCT_INKIND_OUT, "education"), 12050);
    assert_int_equal(balance(org_a, ACCT_INCOME_INKIND, "education"), -12050);
    assert_books_balance(org_a);
    /* Bad input: every problem named, nothing written. */
    static const struct {
        const char *json;
        const char *field;
    } bad[] = {
        {"{\"child_id\": \"%s\", \"kind\": \"toy\"}", "kind"},
        {"{\"child_id\": \"%s\", \"kind\": \"food_parcel\", \"quantity\": 0}", "quantity"},
        {"{\"child_id\": \"%s\", \"kind\": \"food_parcel\", \"quantity\": -3}", "quantity"},
        {"{\"child_id\": \"%s\", \"kind\": \"food_parcel\", \"quantity\": \"1.5\"}", "quantity"},
        {"{\"child_id\": \"%s\", \"kind\": \"food_parcel\", \"value\": \"0\","
         " \"currency\": \"USD\"}",
         "value"},
        {"{\"child_id\": \"%s\", \"kind\": \"food_parcel\", \"value\": \"-5\","
         " \"currency\": \"USD\"}",
         "value"},
        {"{\"child_id\": \"%s\", \"kind\": \"food_parcel\", \"value\": \"1.234\","
         " \"currency\": \"USD\"}",
         "value"},
        {"{\"child_id\": \"%s\", \"kind\": \"food_parcel\", \"value\": \"1\","
         " \"currency\": \"ABC\"}",
         "currency"},
        {"{\"child_id\": \"%s\", \"kind\": \"food_parcel\", \"value\": \"1\"}", "currency"},
        {"{\"child_id\": \"%s\", \"kind\": \"food_parcel\", \"currency\": \"USD\"}", "currency"},
        {"{\"child_id\": \"%s\", \"kind\": \"food_parcel\", \"value\": \"1\","
         " \"currency\": \"USD\", \"fund\": \"party\"}",
         "fund"},
        {"{\"child_id\": \"%s\", \"kind\": \"food_parcel\", \"distributed_on\": \"2999-01-01\"}",
         "distributed_on"},
        {"{\"child_id\": \"%s\", \"kind\": \"food_parcel\", \"colour\": \"red\"}", "colour"},
        {"{\"child_id\": \"0190f0f0-0000-7000-8000-000000000000\", \"kind\": \"food_parcel\","
         " \"x\": null}",
         "x"},
        {"{\"kind\": \"food_parcel\"}", "child_id"},
    };
    int64_t rows = scalar("SELECT COUNT(*) FROM inkind_distributions WHERE org_id = $1", org_a);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[400];
        snprintf(text, sizeof(text), bad[i].json, kid2);
        json_error_t je;
        in = json_loads(text, 0, &je);
        assert_non_null(in);
        err_clear(&e);
        errors = NULL;
        assert_int_equal(inkind_record(env.db, &spo, in, id, &errors, &e), -1);
        assert_non_null(errors);
        bool named = false;
        size_t k;
        json_t *p;
        json_array_foreach(errors, k, p)
        {
            named = named || !strcmp(json_string_value(json_object_get(p, "field")), bad[i].field);
        }
        if (!named) {
            fail_msg("case %zu: %s not named (%s)", i, bad[i].field, e.msg);
        }
        json_decref(errors);
        json_decref(in);
    }
    /* An unknown child and another organization's child. */
    in = json_pack("{s:s, s:s}", "child_id", "0190f0f0-0000-7000-8000-000000000000", "kind",
                   "food_parcel");
    errors = NULL;
    assert_int_equal(inkind_record(env.db, &spo, in, id, &errors, &e), -1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "field")),
                        "child_id");
    json_decref(errors);
    json_decref(in);
    assert_int_equal(scalar("SELECT COUNT(*) FROM inkind_distributions WHERE org_id = $1", org_a),
                     rows);
    /* A child whose record is closed receives nothing more. */
    char prev_status[32];
    {
        int found;
        struct db_stmt *st =
            db_row(env.db, &e, &found, "SELECT status FROM children WHERE id = $1", "t", kid3);
        assert_non_null(st);
        snprintf(prev_status, sizeof(prev_status), "%s", db_col_text(st, 0));
        db_done(st);
    }
    assert_int_equal(
        db_run(env.db, &e, "UPDATE children SET status = 'closed' WHERE id = $1", "t", kid3), 1);
    in = json_pack("{s:s, s:s}", "child_id", kid3, "kind", "food_parcel");
    errors = NULL;
    assert_int_equal(inkind_record(env.db, &spo, in, id, &errors, &e), -1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "code")),
                        "child_closed");
    json_decref(errors);
    json_decref(in);
    assert_int_equal(db_run(env.db, &e, "UPDATE children SET status = $1 WHERE id = $2", "tt",
                            prev_status, kid3),
                     1);

    /* Case roles may not record; finance.read and sponsorship.read see. */
    in = json_pack("{s:s, s:s}", "child_id", kid2, "kind", "food_parcel");
    err_clear(&e);
    assert_int_equal(inkind_record(env.db, &worker, in, id, NULL, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    json_decref(in);
    err_clear(&e);
    assert_null(inkind_list(env.db, &worker, kid2, &e));
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    json_t *list = inkind_list(env.db, &fin, kid2, &e);
    assert_non_null(list);
    json_t *items = json_object_get(list, "items");
    assert_int_equal(json_array_size(items), 2);
    bool with_value = false, without = false;
    size_t k;
    json_t *it;
    json_array_foreach(items, k, it)
    {
        if (json_is_null(json_object_get(it, "value"))) {
            without = true;
            assert_int_equal(json_integer_value(json_object_get(it, "quantity")), 2);
        } else {
            with_value = true;
            assert_string_equal(json_string_value(json_object_get(it, "value_text")), "120.50");
            assert_string_equal(json_string_value(json_object_get(it, "donor_name")),
                                "Amina Trust");
        }
    }
    assert_true(with_value && without);
    json_decref(list);
    err_clear(&e);
    assert_null(inkind_list(env.db, &other_fin, kid2, &e));
    assert_int_equal(e.kind, ERR_NOT_FOUND);
}

/* Runs one statement of test SQL (no parameters). */
static void exec_sql(const char *sql)
{
    struct err e;
    err_clear(&e);
    if (db_exec(env.db, sql, &e) < 0) {
        fail_msg("sql: %s", e.msg);
    }
}

static void test_big_run(void **state)
{
    (void)state;
    /* 230 children with last month's money: the list has 230 lines and its
     * approval is posted in entries of at most 100 payouts (the ledger takes
     * 200 lines an entry). Rows are made with bulk SQL on both engines. */
    char period[8], first[11], sql[2048];
    last_month(period, first);
    const char *o = org_a + 24, *org = org_a; /* ids: the random part, so they stay short */
    snprintf(sql, sizeof(sql),
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 230)"
             " INSERT INTO children (id, org_id, file_no, first_name, father_name, sex,"
             " birth_date, orphan_status, status, created_by, created_at, updated_at)"
             " SELECT '%s-c' || i, '%s', 'BIG-' || i, 'سلمى', 'محمد', 'F', '2015-01-01',"
             " 'father_deceased', 'active', 'test', '2024-01-01', '2024-01-01' FROM n",
             o, org);
    exec_sql(sql);
    snprintf(sql, sizeof(sql),
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 230)"
             " INSERT INTO sponsorships (id, org_id, agreement_no, child_id, donor_id, payer_id,"
             " amount, currency, frequency, purpose, start_date, status, next_due, created_by,"
             " created_at, updated_at) SELECT '%s-s' || i, '%s', 'BIG-S-' || i, '%s-c' || i,"
             " '%s', '%s', 1000, 'USD', 'monthly', 'general', '%s', 'active', '%s', 'test',"
             " '2024-01-01', '2024-01-01' FROM n",
             o, org, o, donor1, donor1, first, first);
    exec_sql(sql);
    snprintf(sql, sizeof(sql),
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 230)"
             " INSERT INTO sponsorship_dues (id, org_id, sponsorship_id, donor_id, payer_id,"
             " child_id, period_start, period_end, due_date, amount, currency, fund, paid,"
             " status, created_at) SELECT '%s-d' || i, '%s', '%s-s' || i, '%s', '%s',"
             " '%s-c' || i, '%s', '%s', '%s', 1000, 'USD', 'sponsorship', 1000, 'paid',"
             " '2024-01-01' FROM n",
             o, org, o, donor1, donor1, o, first, first, first);
    exec_sql(sql);
    snprintf(sql, sizeof(sql),
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 230)"
             " INSERT INTO payments (id, org_id, payment_no, donor_id, amount, fee, currency,"
             " method, received_on, unallocated, status, created_by, created_at)"
             " SELECT '%s-p' || i, '%s', 'BIG-P-' || i, '%s', 1000, 0, 'USD', 'cash', '%s', 0,"
             " 'recorded', 'test', '2024-01-01' FROM n",
             o, org, donor1, first);
    exec_sql(sql);
    snprintf(sql, sizeof(sql),
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 230)"
             " INSERT INTO payment_allocations (id, org_id, payment_id, due_id, amount,"
             " created_at) SELECT '%s-a' || i, '%s', '%s-p' || i, '%s-d' || i, 1000,"
             " '2024-01-01' FROM n",
             o, org, o, o);
    exec_sql(sql);
    struct err e;
    err_clear(&e);
    char run[40], no[32];
    int64_t n = 0, total = 0;
    if (disb_run_create(env.db, &fin, period, "USD", "bank", run, no, &n, &total, &e) < 0) {
        fail_msg("create: %s", e.msg);
    }
    assert_int_equal(n, 230);
    assert_int_equal(total, 230000);
    json_t *pg = disb_run_get_page(env.db, &fin, run, 200, 100, &e);
    assert_non_null(pg);
    assert_int_equal(json_array_size(json_object_get(pg, "lines")), 30);
    json_decref(pg);
    err_clear(&e);
    assert_int_equal(disb_run_confirm(env.db, &fin, run, NULL, &e), 0);
    assert_int_equal(scalar("SELECT COUNT(*) FROM journal_entries WHERE source_kind ="
                            " 'disbursement' AND source_id = $1",
                            run),
                     3);
    assert_int_equal(balance(org_a, ACCT_GRANTS_PAID, "sponsorship"), 11550 + 230000);
    assert_books_balance(org_a);

    /* Money of a child no longer in the registry is not passed on, makes no
     * list and stays where it was. */
    snprintf(sql, sizeof(sql),
             "INSERT INTO sponsorship_dues (id, org_id, sponsorship_id, donor_id, payer_id,"
             " child_id, period_start, period_end, due_date, amount, currency, fund, paid,"
             " status, created_at) VALUES ('%s-gd', '%s', '%s-s1', '%s', '%s', '%s-ghost',"
             " '2020-01-01', '2020-01-28', '2020-01-01', 700, 'CHF', 'sponsorship', 700, 'paid', "
             "'2024-01-01')",
             o, org, o, donor1, donor1, o);
    exec_sql(sql);
    snprintf(sql, sizeof(sql),
             "INSERT INTO payment_allocations (id, org_id, payment_id, due_id, amount, created_at)"
             " VALUES ('%s-ga', '%s', '%s-p1', '%s-gd', 700, '2024-01-01')",
             o, org, o, o);
    exec_sql(sql);
    err_clear(&e);
    assert_int_equal(disb_run_create(env.db, &fin, period, "CHF", "cash", run, no, NULL, NULL, &e),
                     -1);
    assert_string_equal(e.code, "nothing_to_disburse");
    char ga[64];
    snprintf(ga, sizeof(ga), "%s-ga", o);
    assert_int_equal(scalar("SELECT COUNT(*) FROM payment_allocations WHERE id = $1"
                            " AND disbursement_line_id IS NULL",
                            ga),
                     1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_input), cmocka_unit_test(test_run_cycle),
        cmocka_unit_test(test_inkind),    cmocka_unit_test(test_closed_period),
        cmocka_unit_test(test_big_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
