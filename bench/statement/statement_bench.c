/*
 * statement_bench: "where the money went" on SQLite with many sponsorships.
 * Generates with bulk SQL (one transaction) N_SPONSORSHIPS agreements, two
 * per donor, each with three months of history (dues, a payment a month
 * with its receipt, allocations, payouts paid, and the journal entries of
 * each), except the first LONG donors, who have sixty months (five years).
 * Then times statement_where (JSON, audit write included) and
 * statement_where_pdf for the long donors over RUNS runs and prints p50/p95
 * beside the goal (issue 6: a sponsor's statement under 50 ms at p95).
 * Usage: statement_bench DB_FILE N_SPONSORSHIPS RUNS
 * A DB_FILE that already holds N_SPONSORSHIPS agreements is timed as it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "core/time.h"
#include "db/db_util.h"
#include "sponsorship/statement.h"
#include "web/i18n.h"
#include "core/banned.h"

#define LONG 20 /* donors with five years of history */
#define LONG_MONTHS 60
#define SHORT_MONTHS 3

/* Runs sql or dies. */
static void run(struct db *db, const char *sql)
{
    struct err e;
    err_clear(&e);
    if (db_exec(db, sql, &e) < 0) {
        fprintf(stderr, "statement_bench: %s\n", e.msg);
        exit(1);
    }
}

/* qsort comparator for doubles. */
static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Prints p50/p95 of n timings (ms) with the goal. */
static void report(const char *what, double *t, int n)
{
    qsort(t, (size_t)n, sizeof(double), cmp);
    double p50 = t[n / 2], p95 = t[(n * 95) / 100 < n ? (n * 95) / 100 : n - 1];
    printf("  %-52s p50 %7.2f ms  p95 %7.2f ms  (goal p95 < 50 ms: %s)\n", what, p50, p95,
           p95 < 50 ? "met" : "missed");
}

/* Generates the data (see the file comment). */
static void generate(struct db *db, long n)
{
    char sql[4096];
    run(db, "BEGIN");
    run(db, "INSERT INTO organizations (id, slug, name, created_at) VALUES ('org', 'bench',"
            " 'Bench', '2021-01-01')");
    run(db, "CREATE TEMP TABLE months (k INTEGER PRIMARY KEY)");
    run(db, "WITH RECURSIVE m(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM m WHERE k < 59)"
            " INSERT INTO months SELECT k FROM m");
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %ld)"
             " INSERT INTO children (id, org_id, file_no, first_name, father_name, family_name,"
             " sex, birth_date, orphan_status, governorate, status, created_by, created_at,"
             " updated_at) SELECT 'ch' || i, 'org', 'F' || i, 'سارة', 'محمد', 'الخطيب', 'F',"
             " '2015-01-01', 'father_deceased', 'Amman', 'active', 'u', '2021-01-01',"
             " '2021-01-01' FROM n",
             n - 1);
    run(db, sql);
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE n(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM n WHERE j < %ld)"
             " INSERT INTO donors (id, org_id, donor_no, kind, name, created_by, created_at,"
             " updated_at) SELECT 'd' || j, 'org', 'D-' || j, 'person', 'متبرع ' || j, 'u',"
             " '2021-01-01', '2021-01-01' FROM n",
             n / 2 - 1);
    run(db, sql);
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %ld)"
             " INSERT INTO sponsorships (id, org_id, agreement_no, child_id, donor_id, payer_id,"
             " amount, currency, frequency, purpose, start_date, status, next_due, created_by,"
             " created_at, updated_at) SELECT 's' || i, 'org', 'S-' || i, 'ch' || i,"
             " 'd' || (i / 2), 'd' || (i / 2), 5000, 'USD', 'monthly', 'general', '2021-01-01',"
             " 'active', '2026-01-01', 'u', '2021-01-01', '2021-01-01' FROM n",
             (n / 2) * 2 - 1);
    run(db, sql);
    /* The agreements' months: (i, k). */
    snprintf(sql, sizeof sql,
             "CREATE TEMP TABLE sm AS SELECT CAST(substr(s.id, 2) AS INTEGER) AS i, m.k AS k,"
             " date('2021-01-01', '+' || m.k || ' months') AS day FROM sponsorships s"
             " JOIN months m ON m.k < CASE WHEN CAST(substr(s.id, 2) AS INTEGER) / 2 < %d"
             " THEN %d ELSE %d END",
             LONG, LONG_MONTHS, SHORT_MONTHS);
    run(db, sql);
    run(db, "INSERT INTO sponsorship_dues (id, org_id, sponsorship_id, donor_id, payer_id,"
            " child_id, period_start, period_end, due_date, amount, currency, fund, paid, status,"
            " entry_id, created_at) SELECT 'du' || i || '-' || k, 'org', 's' || i, 'd' || (i / 2),"
            " 'd' || (i / 2), 'ch' || i, day, date(day, '+1 month', '-1 day'), day, 5000, 'USD',"
            " 'sponsorship', 5000, 'paid', 'jd' || i || '-' || k, day FROM sm");
    run(db, "INSERT INTO payments (id, org_id, payment_no, donor_id, amount, fee, currency,"
            " method, received_on, unallocated, status, entry_id, created_by, created_at)"
            " SELECT 'p' || (i / 2) || '-' || k, 'org', 'P-' || (i / 2) || '-' || k,"
            " 'd' || (i / 2), 10000, 100, 'USD', 'bank_transfer', date(day, '+2 days'), 0,"
            " 'recorded', 'jp' || (i / 2) || '-' || k, 'u', day FROM sm WHERE i % 2 = 0");
    run(db, "INSERT INTO receipts (id, org_id, year, seq, receipt_no, payment_id, donor_id,"
            " amount, currency, issued_on, created_at) SELECT 'rc' || p.rowid, 'org',"
            " CAST(substr(p.received_on, 1, 4) AS INTEGER), p.rowid, 'R-' || p.rowid, p.id,"
            " p.donor_id, p.amount, 'USD', p.received_on, p.created_at FROM payments p");
    run(db, "INSERT INTO disbursement_runs (id, org_id, run_no, period, currency, status, total,"
            " n_lines, created_by, created_at) SELECT 'run' || k, 'org', 'DR-' || k,"
            " substr(date('2021-01-01', '+' || k || ' months'), 1, 7), 'USD', 'confirmed', 0, 0,"
            " 'u', '2021-01-01' FROM months");
    run(db, "INSERT INTO disbursement_lines (id, run_id, org_id, child_id, amount, currency,"
            " fund, method, status, proof_kind, proof_ref, paid_on) SELECT 'l' || i || '-' || k,"
            " 'run' || k, 'org', 'ch' || i, 5000, 'USD', 'sponsorship', 'cash', 'paid',"
            " 'signature', 'SIG', date(day, '+5 days') FROM sm");
    run(db, "INSERT INTO payment_allocations (id, org_id, payment_id, due_id, amount, entry_id,"
            " disbursement_line_id, created_at) SELECT 'a' || i || '-' || k, 'org',"
            " 'p' || (i / 2) || '-' || k, 'du' || i || '-' || k, 5000, 'ja' || i || '-' || k,"
            " 'l' || i || '-' || k, day FROM sm");
    /* The books: an entry per due, payment and allocation, two lines each
     * (the payment three, with its fee), numbered without clashes. */
    run(db,
        "INSERT INTO journal_entries (id, org_id, entry_no, entry_date, period, memo,"
        " source_kind, source_id, base_currency, created_at)"
        " SELECT 'jd' || i || '-' || k, 'org', rowid * 3, day, substr(day, 1, 7), 'due', 'due',"
        " 'du' || i || '-' || k, 'USD', day FROM sm"
        " UNION ALL SELECT 'ja' || i || '-' || k, 'org', rowid * 3 + 1, date(day, '+2 days'),"
        " substr(day, 1, 7), 'allocation', 'allocation', 'a' || i || '-' || k, 'USD', day"
        " FROM sm"
        " UNION ALL SELECT 'jp' || (i / 2) || '-' || k, 'org', rowid * 3 + 2, date(day, '+2 days'),"
        " substr(day, 1, 7), 'payment', 'payment', 'p' || (i / 2) || '-' || k, 'USD', day"
        " FROM sm WHERE i % 2 = 0");
    run(db, "INSERT INTO journal_lines (id, entry_id, org_id, line_no, account, fund, currency,"
            " amount, base_amount, entry_date, donor_id, child_id, sponsorship_id)"
            " SELECT 'jd' || i || '-' || k || '.1', 'jd' || i || '-' || k, 'org', 1, '1100',"
            " 'sponsorship', 'USD', 5000, 5000, day, 'd' || (i / 2), 'ch' || i, 's' || i FROM sm"
            " UNION ALL SELECT 'jd' || i || '-' || k || '.2', 'jd' || i || '-' || k, 'org', 2,"
            " '4000', 'sponsorship', 'USD', -5000, -5000, day, 'd' || (i / 2), 'ch' || i,"
            " 's' || i FROM sm"
            " UNION ALL SELECT 'ja' || i || '-' || k || '.1', 'ja' || i || '-' || k, 'org', 1,"
            " '2100', 'sponsorship', 'USD', 5000, 5000, day, 'd' || (i / 2), NULL, NULL FROM sm"
            " UNION ALL SELECT 'ja' || i || '-' || k || '.2', 'ja' || i || '-' || k, 'org', 2,"
            " '1100', 'sponsorship', 'USD', -5000, -5000, day, 'd' || (i / 2), NULL, NULL FROM sm"
            " UNION ALL SELECT 'jp' || (i / 2) || '-' || k || '.1', 'jp' || (i / 2) || '-' || k,"
            " 'org', 1, '1010', 'sponsorship', 'USD', 9900, 9900, day, 'd' || (i / 2), NULL, NULL"
            " FROM sm WHERE i % 2 = 0"
            " UNION ALL SELECT 'jp' || (i / 2) || '-' || k || '.2', 'jp' || (i / 2) || '-' || k,"
            " 'org', 2, '5100', 'sponsorship', 'USD', 100, 100, day, 'd' || (i / 2), NULL, NULL"
            " FROM sm WHERE i % 2 = 0"
            " UNION ALL SELECT 'jp' || (i / 2) || '-' || k || '.3', 'jp' || (i / 2) || '-' || k,"
            " 'org', 3, '2100', 'sponsorship', 'USD', -10000, -10000, day, 'd' || (i / 2), NULL,"
            " NULL FROM sm WHERE i % 2 = 0");
    run(db, "COMMIT");
    run(db, "ANALYZE");
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fputs("usage: statement_bench DB N_SPONSORSHIPS RUNS\n", stderr);
        return 2;
    }
    long n = atol(argv[2]);
    int runs = atoi(argv[3]);
    if (n < 2 * LONG || runs < 1) {
        fputs("statement_bench: at least 40 sponsorships and 1 run\n", stderr);
        return 2;
    }
    struct err e;
    err_clear(&e);
    char url[4200];
    snprintf(url, sizeof url, "sqlite:%s", argv[1]);
    struct db *db;
    if (db_open(url, &db, &e) < 0 || db_migrate(db, &e) < 0 || i18n_init(&e) < 0) {
        fprintf(stderr, "statement_bench: %s\n", e.msg);
        return 1;
    }
    int found = 0;
    struct db_stmt *st = db_row(db, &e, &found, "SELECT COUNT(*) FROM sponsorships", "");
    bool kept = st && db_col_int64(st, 0) == (n / 2) * 2;
    if (st) {
        db_done(st);
    }
    if (kept) {
        printf("  kept database: %ld sponsorships\n", n);
    } else {
        int64_t t0 = time_mono_ns();
        generate(db, n);
        st = db_row(db, &e, &found,
                    "SELECT (SELECT COUNT(*) FROM sponsorship_dues), (SELECT COUNT(*) FROM"
                    " payments), (SELECT COUNT(*) FROM journal_lines)",
                    "");
        printf("  generated %ld sponsorships (%d donors x %d months, the rest x %d): %lld dues,"
               " %lld payments, %lld journal lines in %.1f s\n",
               n, LONG, LONG_MONTHS, SHORT_MONTHS, st ? (long long)db_col_int64(st, 0) : -1LL,
               st ? (long long)db_col_int64(st, 1) : -1LL,
               st ? (long long)db_col_int64(st, 2) : -1LL, (double)(time_mono_ns() - t0) / 1e9);
        if (st) {
            db_done(st);
        }
    }
    struct actor a;
    actor_system(&a, "org");
    double *tj = calloc((size_t)runs, sizeof(double));
    double *tp = calloc((size_t)runs, sizeof(double));
    double *ts = calloc((size_t)runs, sizeof(double));
    int bad = 0;
    for (int i = 0; i < runs; i++) {
        char donor[32], shortd[32];
        snprintf(donor, sizeof donor, "d%d", i % LONG);
        snprintf(shortd, sizeof shortd, "d%ld", LONG + (i * 7919L) % (n / 2 - LONG));
        int64_t s = time_mono_ns();
        json_t *w = statement_where(db, &a, donor, "2021-01-01", "2025-12-31", &e);
        tj[i] = (double)(time_mono_ns() - s) / 1e6;
        if (!w) {
            fprintf(stderr, "statement_bench: %s\n", e.msg);
            return 1;
        }
        if (!json_is_true(json_object_get(w, "consistent")) ||
            json_array_size(json_object_get(w, "payments")) != LONG_MONTHS) {
            bad++;
        }
        struct buf pdf = BUF_INIT;
        s = time_mono_ns();
        if (statement_where_pdf(w, "ar", &pdf, &e) < 0) {
            fprintf(stderr, "statement_bench: %s\n", e.msg);
            return 1;
        }
        tp[i] = (double)(time_mono_ns() - s) / 1e6;
        buf_release(&pdf);
        json_decref(w);
        s = time_mono_ns();
        w = statement_where(db, &a, shortd, "2021-01-01", "2025-12-31", &e);
        ts[i] = (double)(time_mono_ns() - s) / 1e6;
        json_decref(w);
    }
    printf("  %d runs; %s\n", runs,
           bad ? "SOME STATEMENTS DISAGREED WITH THE LEDGER"
               : "every statement agreed with the ledger");
    report("statement JSON, 5 years (60 payments, 120 payouts)", tj, runs);
    report("statement PDF (Arabic) from that JSON", tp, runs);
    report("statement JSON, 3 months (another donor)", ts, runs);
    free(tj);
    free(tp);
    free(ts);
    i18n_shutdown();
    db_close(db);
    return bad ? 1 : 0;
}
