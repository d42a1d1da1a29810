/*
 * disburse_bench: producing the month's payout list (disb_run_create) on
 * SQLite with many active sponsorships. Generates with bulk SQL (recursive
 * CTEs) N sponsorships of N*9/10 children (the last tenth are second,
 * education sponsorships, so a child's money sits in two funds), each with
 * last month's due paid and allocated, and two earlier months' allocations
 * already passed on (history the list must skip). Then times, once each:
 * making the list (the goal: under 10 s), reading it back (disb_run_get),
 * its CSV, and approving it (disb_run_confirm, which posts the entries).
 * Usage: disburse_bench DB_FILE N_SPONSORSHIPS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "core/buf.h"
#include "core/time.h"
#include "db/db_util.h"
#include "finance/ledger.h"
#include "sponsorship/disburse.h"
#include "web/i18n.h"
#include "core/banned.h"

/* Runs sql or dies. */
static void run(struct db *db, const char *sql)
{
    struct err e;
    err_clear(&e);
    if (db_exec(db, sql, &e) < 0) {
        fprintf(stderr, "disburse_bench: %s\n", e.msg);
        exit(1);
    }
}

/* Milliseconds since t0 (ns). */
static double ms_since(int64_t t0)
{
    return (double)(time_mono_ns() - t0) / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fputs("usage: disburse_bench DB N_SPONSORSHIPS\n", stderr);
        return 2;
    }
    long n = atol(argv[2]);
    long kids = n * 9 / 10;
    struct err e;
    err_clear(&e);
    char url[4200];
    snprintf(url, sizeof(url), "sqlite:%s", argv[1]);
    struct db *db;
    if (db_open(url, &db, &e) < 0 || db_migrate(db, &e) < 0 || i18n_init(&e) < 0) {
        fprintf(stderr, "disburse_bench: %s\n", e.msg);
        return 1;
    }
    int y, m, d;
    time_today(&y, &m, &d);
    int py = m == 1 ? y - 1 : y, pm = m == 1 ? 12 : m - 1;
    char period[32], cur[48], prev1[48], prev2[48];
    snprintf(period, sizeof(period), "%04d-%02d", py, pm);
    snprintf(cur, sizeof(cur), "%s-01", period);
    snprintf(prev1, sizeof(prev1), "%04d-%02d-01", pm <= 1 ? py - 1 : py, pm <= 1 ? 12 : pm - 1);
    snprintf(prev2, sizeof(prev2), "%04d-%02d-01", pm <= 2 ? py - 1 : py,
             pm <= 2 ? pm + 10 : pm - 2);
    int64_t t0 = time_mono_ns();
    char sql[4096];
    run(db, "BEGIN");
    run(db,
        "INSERT INTO organizations (id, slug, name, created_at) VALUES ('org', 'bench', 'Bench',"
        " '2024-01-01')");
    run(db, "INSERT INTO users (id, org_id, username, display_name, role, created_at, updated_at)"
            " VALUES ('u0', 'org', 'fin', 'Finance', 'finance_officer', '2024-01-01',"
            " '2024-01-01')");
    run(db, "INSERT INTO donors (id, org_id, donor_no, kind, name, created_by, created_at,"
            " updated_at) VALUES ('d0', 'org', 'D-000001', 'person', 'Donor', 'u0', '2024-01-01',"
            " '2024-01-01')");
    snprintf(sql, sizeof(sql),
             "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < %ld)"
             " INSERT INTO guardians (id, org_id, full_name, relation, phone, created_at,"
             " updated_at) SELECT 'g' || i, 'org', 'ريم الخطيب', 'mother', '07912' || i,"
             " '2024-01-01', '2024-01-01' FROM k",
             kids);
    run(db, sql);
    snprintf(sql, sizeof(sql),
             "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < %ld)"
             " INSERT INTO children (id, org_id, file_no, first_name, father_name, family_name,"
             " sex, birth_date, orphan_status, guardian_id, status, sponsored, created_by,"
             " created_at, updated_at) SELECT 'ch' || i, 'org', 'F-' || printf('%%07d', i),"
             " 'سارة', 'محمد', 'الخطيب', 'F', '2015-01-01', 'father_deceased', 'g' || i,"
             " 'active', 1, 'u0', '2024-01-01', '2024-01-01' FROM k",
             kids);
    run(db, sql);
    snprintf(sql, sizeof(sql),
             "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < %ld)"
             " INSERT INTO sponsorships (id, org_id, agreement_no, child_id, donor_id, payer_id,"
             " amount, currency, frequency, purpose, start_date, status, next_due, created_by,"
             " created_at, updated_at) SELECT 'sp' || i, 'org', 'S-' || i,"
             " 'ch' || (1 + (i - 1) %% %ld), 'd0', 'd0', 5000, 'USD', 'monthly',"
             " CASE WHEN i > %ld THEN 'education' ELSE 'general' END, '2024-01-01', 'active',"
             " '%s', 'u0', '2024-01-01', '2024-01-01' FROM k",
             n, kids, kids, cur);
    run(db, sql);
    /* Three months of dues, payments and allocations; the two older ones passed on. */
    const char *months[3] = {prev2, prev1, cur};
    for (int mo = 0; mo < 3; mo++) {
        snprintf(sql, sizeof(sql),
                 "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < %ld)"
                 " INSERT INTO sponsorship_dues (id, org_id, sponsorship_id, donor_id, payer_id,"
                 " child_id, period_start, period_end, due_date, amount, currency, fund, paid,"
                 " status, created_at) SELECT 'du%d-' || i, 'org', 'sp' || i, 'd0', 'd0',"
                 " 'ch' || (1 + (i - 1) %% %ld), '%s', '%s', '%s', 5000, 'USD',"
                 " CASE WHEN i > %ld THEN 'education' ELSE 'sponsorship' END, 5000, 'paid',"
                 " '2024-01-01' FROM k",
                 n, mo, kids, months[mo], months[mo], months[mo], kids);
        run(db, sql);
        snprintf(sql, sizeof(sql),
                 "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < %ld)"
                 " INSERT INTO payments (id, org_id, payment_no, donor_id, amount, fee, currency,"
                 " method, received_on, unallocated, status, created_by, created_at)"
                 " SELECT 'pa%d-' || i, 'org', 'P-%d-' || i, 'd0', 5000, 0, 'USD',"
                 " 'bank_transfer', '%s', 0, 'recorded', 'u0', '2024-01-01' FROM k",
                 n, mo, mo, months[mo]);
        run(db, sql);
        snprintf(sql, sizeof(sql),
                 "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < %ld)"
                 " INSERT INTO payment_allocations (id, org_id, payment_id, due_id, amount,"
                 " disbursement_line_id, created_at) SELECT 'al%d-' || i, 'org', 'pa%d-' || i,"
                 " 'du%d-' || i, 5000, %s, '2024-01-01' FROM k",
                 n, mo, mo, mo, mo < 2 ? "'old-line'" : "NULL");
        run(db, sql);
    }
    run(db, "COMMIT");
    run(db, "ANALYZE");
    printf("  generated %ld sponsorships of %ld children, 3 months (%.1f s)\n", n, kids,
           ms_since(t0) / 1000);

    struct actor a;
    memset(&a, 0, sizeof(a));
    snprintf(a.user_id, sizeof(a.user_id), "u0");
    snprintf(a.org_id, sizeof(a.org_id), "org");
    snprintf(a.role, sizeof(a.role), "finance_officer");
    snprintf(a.lang, sizeof(a.lang), "en");
    a.mfa_ok = true;
    char id[40], no[32];
    int64_t lines = 0, total = 0;
    t0 = time_mono_ns();
    if (disb_run_create(db, &a, period, "USD", "cash", id, no, &lines, &total, &e) < 0) {
        fprintf(stderr, "disburse_bench: create: %s\n", e.msg);
        return 1;
    }
    double create_ms = ms_since(t0);
    printf("  payout list %s: %lld lines, total %lld (minor units)\n", no, (long long)lines,
           (long long)total);
    printf("  %-44s %9.0f ms  (goal < 10 s: %s)\n", "making the list (disb_run_create)", create_ms,
           create_ms < 10000 ? "met" : "missed");
    t0 = time_mono_ns();
    if (db_begin(db, true, &e) < 0) {
        return 1;
    }
    json_t *r = disb_run_get(db, &a, id, &e);
    struct buf csv = BUF_INIT;
    int rc = r ? disb_run_csv(db, &a, id, "ar", &csv, &e) : -1;
    db_rollback(db);
    if (!r || rc < 0) {
        fprintf(stderr, "disburse_bench: read: %s\n", e.msg);
        return 1;
    }
    printf("  %-44s %9.0f ms  (%zu lines, CSV %zu bytes)\n", "reading it back and its CSV",
           ms_since(t0), json_array_size(json_object_get(r, "lines")), csv.len);
    json_decref(r);
    buf_release(&csv);
    t0 = time_mono_ns();
    if (disb_run_confirm(db, &a, id, NULL, &e) < 0) {
        fprintf(stderr, "disburse_bench: confirm: %s\n", e.msg);
        return 1;
    }
    printf("  %-44s %9.0f ms  (no goal)\n", "approving it (entries posted)", ms_since(t0));
    char again[40];
    err_clear(&e);
    t0 = time_mono_ns();
    int second = disb_run_create(db, &a, period, "USD", "cash", again, no, NULL, NULL, &e);
    printf("  %-44s %9.0f ms  (%s)\n", "a second list (finds nothing)", ms_since(t0),
           second < 0 ? e.code : "made one: wrong");
    db_close(db);
    return 0;
}
