/*
 * disburse.c: disbursement runs (the payout list to guardians), their
 * confirmation and payouts with proof, and in-kind distributions; each money
 * event posted to the ledger and audited in its own transaction (see
 * disburse.h).
 */
#include "sponsorship/disburse.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/authz.h"
#include "children/documents.h"
#include "core/config.h"
#include "core/log.h"
#include "core/money.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "finance/ledger.h"
#include "sponsorship/sponsors_int.h"
#include "sponsorship/sponsorship.h"
#include "web/i18n.h"
#include "core/banned.h"

/* Most lines one run may hold (a guard against a runaway list). */
#define DISB_MAX_LINES 1000000
/* Payout lines per confirmation entry: two ledger lines each, and the
 * ledger takes at most 200 (LEDGER_MAX_LINES). */
#define DISB_ENTRY_LINES 100
/* Largest quantity of one in-kind distribution. */
#define INKIND_MAX_QTY 1000000

/* Parses a period "YYYY-MM" strictly (years 2000..2199). Returns 0 or -1. */
static int period_parse(const char *p, int *y, int *m)
{
    if (!p || strlen(p) != 7 || p[4] != '-') {
        return -1;
    }
    for (int i = 0; i < 7; i++) {
        if (i != 4 && (p[i] < '0' || p[i] > '9')) {
            return -1;
        }
    }
    *y = atoi(p);
    *m = atoi(p + 5);
    return *y >= 2000 && *y <= 2199 && *m >= 1 && *m <= 12 ? 0 : -1;
}

/* Checks an optional date (YYYY-MM-DD, not after today) named field; writes
 * it, or today when it is NULL, to out. */
static int date_or_today(const char *s, const char *field, char out[11], struct err *e)
{
    char now[11];
    sp_today(now);
    if (!s || !*s) {
        snprintf(out, 11, "%s", now);
        return 0;
    }
    int y, m, d;
    if (time_date_parse(s, &y, &m, &d) < 0) {
        return err_set(e, ERR_INVALID, "invalid_date", field,
                       "'%s' is not a real date (YYYY-MM-DD)", field);
    }
    if (strcmp(s, now) > 0) {
        return err_set(e, ERR_INVALID, "future_date", field, "'%s' is in the future", field);
    }
    snprintf(out, 11, "%s", s);
    return 0;
}

/* Checks a run or line id's shape before it reaches SQL. */
static int id_or_not_found(const char *id, const char *what, struct err *e)
{
    if (!id || !uuid_valid(id)) {
        return err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such %s", what);
    }
    return 0;
}

/* ---- runs ---- */

/* One line of a run being made: a child's money in one fund. */
struct new_line {
    char child_id[64];    /* the child (ids are 36 characters; longer ones are refused) */
    char fund[16];        /* the fund the money sits in */
    char guardian_id[64]; /* the child's guardian now, "" when none */
    int64_t amount;       /* the sum of the allocations */
};

/* Reads the claimed allocations of run_id grouped by child and fund into a
 * new array (*out, the caller frees it). Returns the count or -1. */
static int64_t group_claimed(struct db *db, const char *org_id, const char *run_id,
                             struct new_line **out, struct err *e)
{
    *out = NULL;
    struct db_stmt *s =
        db_query(db, e,
                 "SELECT d.child_id, d.fund, CAST(SUM(pa.amount) AS BIGINT), MAX(c.guardian_id)"
                 " FROM payment_allocations pa JOIN sponsorship_dues d ON d.id = pa.due_id"
                 " JOIN children c ON c.id = d.child_id"
                 " WHERE pa.org_id = $1 AND pa.disbursement_line_id = $2"
                 " GROUP BY d.child_id, d.fund ORDER BY d.child_id, d.fund",
                 "tt", org_id, run_id);
    if (!s) {
        return -1;
    }
    size_t cap = 0, n = 0;
    struct new_line *v = NULL;
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            struct new_line *nv = realloc(v, cap * sizeof(*v));
            if (!nv) {
                free(v);
                db_done(s);
                return err_set(e, ERR_INTERNAL, "out_of_memory", NULL, "out of memory");
            }
            v = nv;
        }
        struct new_line *l = &v[n++];
        const char *g = db_col_text(s, 3);
        if (strlen(db_col_text(s, 0)) >= sizeof(l->child_id) ||
            strlen(db_col_text(s, 1)) >= sizeof(l->fund) ||
            (g && strlen(g) >= sizeof(l->guardian_id))) {
            free(v);
            db_done(s);
            return err_set(e, ERR_INTERNAL, "bad_id", NULL,
                           "a child, fund or guardian id is too long");
        }
        snprintf(l->child_id, sizeof(l->child_id), "%s", db_col_text(s, 0));
        snprintf(l->fund, sizeof(l->fund), "%s", db_col_text(s, 1));
        snprintf(l->guardian_id, sizeof(l->guardian_id), "%s", g ? g : "");
        l->amount = db_col_int64(s, 2);
    }
    db_done(s);
    if (rc < 0) {
        free(v);
        return -1;
    }
    *out = v;
    return (int64_t)n;
}

/* Checks, inside the transaction that made run_id, that each line's amount
 * is the sum of the allocations now pointing at it: a line that would pass
 * on more or less than it holds is a bug, and nothing is kept. */
static int check_lines(struct db *db, const char *org_id, const char *run_id, struct err *e)
{
    int found;
    struct db_stmt *s =
        db_row(db, e, &found,
               "SELECT COUNT(*) FROM disbursement_lines l WHERE l.run_id = $1"
               " AND l.amount <> (SELECT COALESCE(CAST(SUM(pa.amount) AS BIGINT), 0)"
               " FROM payment_allocations pa WHERE pa.org_id = $2"
               " AND pa.disbursement_line_id = l.id)",
               "tt", run_id, org_id);
    if (!s) {
        return -1;
    }
    int64_t bad = db_col_int64(s, 0);
    db_done(s);
    return bad == 0 ? 0
                    : err_set(e, ERR_INTERNAL, "lines_mismatch", NULL,
                              "%lld payout lines do not match their allocations", (long long)bad);
}

int disb_run_create(struct db *db, const struct actor *a, const char *period, const char *currency,
                    const char *method, char id_out[40], char run_no_out[32], int64_t *n_lines_out,
                    int64_t *total_out, struct err *e)
{
    if (!actor_can(a, PERM_FINANCE_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to make payout lists");
    }
    int py, pm;
    if (!period || !*period) {
        return err_set(e, ERR_INVALID, "required", "period", "'period' is required");
    }
    if (period_parse(period, &py, &pm) < 0) {
        return err_set(e, ERR_INVALID, "invalid_field", "period",
                       "'period' must be a month as YYYY-MM");
    }
    if (!currency || !*currency) {
        return err_set(e, ERR_INVALID, "required", "currency", "'currency' is required");
    }
    if (strlen(currency) != 3 || money_exponent(currency) < 0) {
        return err_set(e, ERR_INVALID, "unknown_currency", "currency",
                       "'currency' is not a known ISO 4217 code");
    }
    if (!method || !*method) {
        return err_set(e, ERR_INVALID, "required", "method", "'method' is required");
    }
    if (!text_word_in(PAYOUT_METHODS, method)) {
        return err_set(e, ERR_INVALID, "invalid_choice", "method",
                       "'method' must be cash, bank or mobile_money");
    }
    /* Dues whose period starts before the first day of the next month. */
    char next[16];
    snprintf(next, sizeof(next), "%04d-%02d-01", pm == 12 ? py + 1 : py, pm == 12 ? 1 : pm + 1);
    int y, m, d;
    time_today(&y, &m, &d);
    char id[UUID_STR_LEN], at[32];
    uuid_v7(id);
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    int64_t no;
    if (spons_next_no_tx(db, a->org_id, "disbursement", y, &no, e) < 0) {
        return sp_fail(db);
    }
    char run_no[32];
    snprintf(run_no, sizeof(run_no), "DR-%04d-%04lld", y, (long long)no);
    if (db_run(db, e,
               "INSERT INTO disbursement_runs (id, org_id, run_no, period, currency, status, total,"
               " n_lines, method, created_by, created_at)"
               " VALUES ($1, $2, $3, $4, $5, 'draft', 0, 0, $6, $7, $8)",
               "tttttttt", id, a->org_id, run_no, period, currency, method, sp_who(a), at) < 0) {
        return sp_fail(db);
    }
    /* Claim the money first (one statement: on PostgreSQL a concurrent run
     * waits for these rows and then finds them taken), then group it. */
    int64_t claimed = db_run(
        db, e,
        "UPDATE payment_allocations SET disbursement_line_id = $1"
        " WHERE org_id = $2 AND disbursement_line_id IS NULL AND amount > 0"
        " AND EXISTS (SELECT 1 FROM sponsorship_dues d WHERE d.id = payment_allocations.due_id"
        " AND d.org_id = $2 AND d.currency = $3 AND d.period_start < $4)"
        " AND EXISTS (SELECT 1 FROM payments p WHERE p.id = payment_allocations.payment_id"
        " AND p.status <> 'reversed')",
        "tttt", id, a->org_id, currency, next);
    if (claimed < 0) {
        return sp_fail(db);
    }
    if (claimed == 0) {
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "nothing_to_disburse", "period",
                       "no money waits to be passed on for %s in %s", period, currency);
    }
    struct new_line *lines = NULL;
    int64_t n = group_claimed(db, a->org_id, id, &lines, e);
    if (n < 0) {
        return sp_fail(db);
    }
    if (n == 0) {
        /* Money of children no longer in the registry cannot be passed on. */
        free(lines);
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "nothing_to_disburse", "period",
                       "no money waits to be passed on for %s in %s", period, currency);
    }
    if (!lines) {
        db_rollback(db);
        return err_set(e, ERR_INTERNAL, "internal", NULL, "the payout lines were not read");
    }
    if (n > DISB_MAX_LINES) {
        free(lines);
        db_rollback(db);
        return err_set(e, ERR_LIMIT, "too_many", "period", "a run holds at most %d lines",
                       DISB_MAX_LINES);
    }
    int64_t total = 0;
    for (int64_t i = 0; i < n; i++) {
        char lid[UUID_STR_LEN];
        uuid_v7(lid);
        if (__builtin_add_overflow(total, lines[i].amount, &total)) {
            free(lines);
            db_rollback(db);
            return err_set(e, ERR_INVALID, "amount_too_large", "period",
                           "the run's total is too large");
        }
        if (db_run(db, e,
                   "INSERT INTO disbursement_lines (id, run_id, org_id, child_id, guardian_id,"
                   " amount, currency, fund, method, status)"
                   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending')",
                   "tttttitt"
                   "t",
                   lid, id, a->org_id, lines[i].child_id,
                   lines[i].guardian_id[0] ? lines[i].guardian_id : NULL, lines[i].amount, currency,
                   lines[i].fund, method) < 0) {
            free(lines);
            return sp_fail(db);
        }
    }
    free(lines);
    char detail[160];
    snprintf(detail, sizeof(detail), "%s %s %s lines=%lld total=%lld", run_no, period, currency,
             (long long)n, (long long)total);
    if (db_run(db, e,
               "UPDATE payment_allocations SET disbursement_line_id ="
               " (SELECT l.id FROM disbursement_lines l JOIN sponsorship_dues d"
               " ON d.child_id = l.child_id AND d.fund = l.fund"
               " WHERE l.run_id = $1 AND d.id = payment_allocations.due_id)"
               " WHERE org_id = $2 AND disbursement_line_id = $1",
               "tt", id, a->org_id) < 0 ||
        check_lines(db, a->org_id, id, e) < 0 ||
        db_run(db, e, "UPDATE disbursement_runs SET total = $1, n_lines = $2 WHERE id = $3", "iit",
               total, n, id) < 0 ||
        actor_audit(db, a, "disbursement.create", "disbursement_run", id, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        return sp_fail(db);
    }
    snprintf(id_out, 40, "%s", id);
    if (run_no_out) {
        snprintf(run_no_out, 32, "%s", run_no);
    }
    if (n_lines_out) {
        *n_lines_out = n;
    }
    if (total_out) {
        *total_out = total;
    }
    return 0;
}

/* The SELECT list of a run, shared by the list and the single read. */
#define RUN_COLS                                                                                   \
    "r.id, r.run_no, r.period, r.currency, r.method, r.status, r.total, r.n_lines,"                \
    " r.created_at, COALESCE(u.display_name, r.created_by), r.confirmed_at, r.entry_id,"           \
    " r.entry_date,"                                                                               \
    " (SELECT COUNT(*) FROM disbursement_lines l WHERE l.run_id = r.id AND l.status = 'paid'),"    \
    " (SELECT COUNT(*) FROM disbursement_lines l WHERE l.run_id = r.id AND l.status = 'failed'),"  \
    " (SELECT COALESCE(CAST(SUM(l.amount) AS BIGINT), 0) FROM disbursement_lines l"                \
    " WHERE l.run_id = r.id AND l.status = 'paid')"
#define RUN_FROM " FROM disbursement_runs r LEFT JOIN users u ON u.id = r.created_by"

/* The run on s's current row (RUN_COLS) as a new object. */
static json_t *run_json(struct db_stmt *s)
{
    const char *cur = db_col_text(s, 3);
    char total[48], paid[48];
    sp_money_text(db_col_int64(s, 6), cur, total, sizeof(total));
    sp_money_text(db_col_int64(s, 15), cur, paid, sizeof(paid));
    return json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s, s:I, s:s, s:I, s:s, s:s?, s:s?, s:s?,"
                     " s:s?, s:I, s:I, s:I, s:s}",
                     "id", db_col_text(s, 0), "run_no", db_col_text(s, 1), "period",
                     db_col_text(s, 2), "currency", cur, "method", db_col_text(s, 4), "status",
                     db_col_text(s, 5), "total", (json_int_t)db_col_int64(s, 6), "total_text",
                     total, "n_lines", (json_int_t)db_col_int64(s, 7), "created_at",
                     db_col_text(s, 8), "created_by", db_col_text(s, 9), "confirmed_at",
                     db_col_text(s, 10), "entry_id", db_col_text(s, 11), "entry_date",
                     db_col_text(s, 12), "n_paid", (json_int_t)db_col_int64(s, 13), "n_failed",
                     (json_int_t)db_col_int64(s, 14), "paid_total", (json_int_t)db_col_int64(s, 15),
                     "paid_total_text", paid);
}

/* True when a may see disbursements. */
static bool can_read(const struct actor *a)
{
    return actor_can(a, PERM_FINANCE_READ);
}

json_t *disb_run_list(struct db *db, const struct actor *a, const char *status, int page,
                      int per_page, struct err *e)
{
    if (!can_read(a)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to see payouts");
        return NULL;
    }
    if (status && *status && !text_word_in(DISB_RUN_STATUSES, status)) {
        err_set(e, ERR_INVALID, "invalid_choice", "status", "'status' is not a run status");
        return NULL;
    }
    const char *st = status && *status ? status : NULL;
    page = page < 1 ? 1 : page;
    per_page = per_page < 1 || per_page > 200 ? 25 : per_page;
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT COUNT(*) FROM disbursement_runs WHERE org_id = $1"
                               " AND (CAST($2 AS TEXT) IS NULL OR status = $2)",
                               "tt", a->org_id, st);
    if (!s) {
        return NULL;
    }
    int64_t total = db_col_int64(s, 0);
    db_done(s);
    s = db_query(db, e,
                 "SELECT " RUN_COLS RUN_FROM
                 " WHERE r.org_id = $1 AND (CAST($2 AS TEXT) IS NULL OR r.status = $2)"
                 " ORDER BY r.created_at DESC, r.id DESC LIMIT $3 OFFSET $4",
                 "ttii", a->org_id, st, (int64_t)per_page, (int64_t)(page - 1) * per_page);
    if (!s) {
        return NULL;
    }
    json_t *items = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_array_append_new(items, run_json(s));
    }
    db_done(s);
    if (rc < 0) {
        json_decref(items);
        return NULL;
    }
    return json_pack("{s:o, s:I, s:i, s:i}", "items", items, "total", (json_int_t)total, "page",
                     page, "per_page", per_page);
}

json_t *disb_run_get(struct db *db, const struct actor *a, const char *run_id, struct err *e)
{
    return disb_run_get_page(db, a, run_id, 0, 0, e);
}

json_t *disb_run_get_page(struct db *db, const struct actor *a, const char *run_id, int64_t offset,
                          int64_t limit, struct err *e)
{
    if (!can_read(a)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to see payouts");
        return NULL;
    }
    if (id_or_not_found(run_id, "payout list", e) < 0) {
        return NULL;
    }
    int found;
    struct db_stmt *s =
        db_row(db, e, &found, "SELECT " RUN_COLS RUN_FROM " WHERE r.id = $1 AND r.org_id = $2",
               "tt", run_id, a->org_id);
    if (!s) {
        if (found == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such payout list");
        }
        return NULL;
    }
    json_t *run = run_json(s);
    db_done(s);
    s = db_query(db, e,
                 "SELECT l.id, l.child_id, c.file_no, c.first_name, c.father_name, c.family_name,"
                 " l.guardian_id, g.full_name, g.phone, l.amount, l.currency, l.fund, l.method,"
                 " l.status, l.proof_kind, l.proof_ref, l.proof_doc, l.paid_on, l.failed_reason,"
                 " l.entry_id, c.status"
                 " FROM disbursement_lines l JOIN children c ON c.id = l.child_id"
                 " LEFT JOIN guardians g ON g.id = l.guardian_id"
                 " WHERE l.run_id = $1 AND l.org_id = $2 ORDER BY c.file_no, l.fund"
                 " LIMIT $3 OFFSET $4",
                 "ttii", run_id, a->org_id, limit > 0 ? limit : (int64_t)DISB_MAX_LINES,
                 offset > 0 ? offset : (int64_t)0);
    if (!s) {
        json_decref(run);
        return NULL;
    }
    json_t *lines = json_array();
    int rc;
    struct buf name = BUF_INIT;
    while ((rc = db_step(s, e)) == 1) {
        buf_reset(&name);
        for (int i = 3; i <= 5; i++) {
            const char *p = db_col_text(s, i);
            if (p && *p) {
                buf_addf(&name, "%s%s", name.len ? " " : "", p);
            }
        }
        char amount[48];
        sp_money_text(db_col_int64(s, 9), db_col_text(s, 10), amount, sizeof(amount));
        json_array_append_new(
            lines,
            json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:I, s:s, s:s, s:s, s:s, s:s,"
                      " s:s?, s:s?, s:b, s:s?, s:s?, s:s?}",
                      "id", db_col_text(s, 0), "child_id", db_col_text(s, 1), "child_file_no",
                      db_col_text(s, 2), "child_name", name.buf, "guardian_id", db_col_text(s, 6),
                      "guardian_name", db_col_text(s, 7), "guardian_phone", db_col_text(s, 8),
                      "amount", (json_int_t)db_col_int64(s, 9), "amount_text", amount, "currency",
                      db_col_text(s, 10), "fund", db_col_text(s, 11), "method", db_col_text(s, 12),
                      "status", db_col_text(s, 13), "proof_kind", db_col_text(s, 14), "proof_ref",
                      db_col_text(s, 15), "has_proof_photo", !db_col_null(s, 16), "paid_on",
                      db_col_text(s, 17), "failed_reason", db_col_text(s, 18), "entry_id",
                      db_col_text(s, 19)));
        json_object_set_new(json_array_get(lines, json_array_size(lines) - 1), "child_status",
                            json_string(db_col_text(s, 20)));
    }
    buf_release(&name);
    db_done(s);
    if (rc < 0) {
        json_decref(lines);
        json_decref(run);
        return NULL;
    }
    json_object_set_new(run, "lines", lines);
    return run;
}

/* A run's state as the workflow needs it. */
struct run_row {
    char run_no[32];     /* DR-YYYY-NNNN */
    char status[12];     /* draft confirmed cancelled */
    char currency[4];    /* the run's currency */
    char entry_date[11]; /* the confirmation entry's date, "" before */
    int64_t n_lines;     /* its lines */
};

/* Reads run_id of a's organization into row (inside a transaction). */
static int load_run(struct db *db, const struct actor *a, const char *run_id, struct run_row *row,
                    struct err *e)
{
    if (id_or_not_found(run_id, "payout list", e) < 0) {
        return -1;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT run_no, status, currency, entry_date, n_lines"
                               " FROM disbursement_runs WHERE id = $1 AND org_id = $2",
                               "tt", run_id, a->org_id);
    if (!s) {
        return found < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such payout list");
    }
    memset(row, 0, sizeof(*row));
    snprintf(row->run_no, sizeof(row->run_no), "%s", db_col_text(s, 0));
    snprintf(row->status, sizeof(row->status), "%s", db_col_text(s, 1));
    snprintf(row->currency, sizeof(row->currency), "%s", db_col_text(s, 2));
    const char *ed = db_col_text(s, 3);
    snprintf(row->entry_date, sizeof(row->entry_date), "%s", ed ? ed : "");
    row->n_lines = db_col_int64(s, 4);
    db_done(s);
    return 0;
}

int disb_run_confirm(struct db *db, const struct actor *a, const char *run_id, const char *date,
                     struct err *e)
{
    if (!actor_can(a, PERM_FINANCE_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to confirm payouts");
    }
    char day[11];
    if (date_or_today(date, "date", day, e) < 0) {
        return -1;
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    struct run_row run = {0};
    if (load_run(db, a, run_id, &run, e) < 0) {
        return sp_fail(db);
    }
    if (strcmp(run.status, "draft") != 0) {
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "run_not_draft", "id", "the payout list %s is %s",
                       run.run_no, run.status);
    }
    /* Two ledger lines per payout line: the expense and the payable, both
     * carrying the child, so the books trace every payout. */
    struct db_stmt *s = db_query(db, e,
                                 "SELECT child_id, fund, amount FROM disbursement_lines"
                                 " WHERE run_id = $1 AND org_id = $2 ORDER BY child_id, fund",
                                 "tt", run_id, a->org_id);
    if (!s) {
        return sp_fail(db);
    }
    size_t cap = run.n_lines > 0 ? (size_t)run.n_lines : 1, n = 0;
    struct new_line *rows = calloc(cap, sizeof(*rows));
    struct ledger_line *ll = calloc(2 * cap, sizeof(*ll));
    if (!rows || !ll) {
        free(rows);
        free(ll);
        db_done(s);
        db_rollback(db);
        return err_set(e, ERR_INTERNAL, "out_of_memory", NULL, "out of memory");
    }
    int rc;
    while ((rc = db_step(s, e)) == 1 && n < cap) {
        snprintf(rows[n].child_id, sizeof(rows[n].child_id), "%s", db_col_text(s, 0));
        snprintf(rows[n].fund, sizeof(rows[n].fund), "%s", db_col_text(s, 1));
        rows[n].amount = db_col_int64(s, 2);
        n++;
    }
    db_done(s);
    if (rc < 0 || n == 0) {
        free(rows);
        free(ll);
        db_rollback(db);
        return rc < 0 ? -1
                      : err_set(e, ERR_CONFLICT, "nothing_to_disburse", "id",
                                "the payout list %s has no lines", run.run_no);
    }
    for (size_t i = 0; i < n; i++) {
        ll[2 * i] = (struct ledger_line){.account = ACCT_GRANTS_PAID,
                                         .fund = rows[i].fund,
                                         .currency = run.currency,
                                         .amount = rows[i].amount,
                                         .child_id = rows[i].child_id};
        ll[2 * i + 1] = (struct ledger_line){.account = ACCT_PAYABLE,
                                             .fund = rows[i].fund,
                                             .currency = run.currency,
                                             .amount = -rows[i].amount,
                                             .child_id = rows[i].child_id};
    }
    char memo[96], entry_id[40] = "", first_id[40] = "", at[32], detail[128];
    time_format_iso(time_now_ms(), at, sizeof(at));
    snprintf(detail, sizeof(detail), "%s date=%s lines=%zu", run.run_no, day, n);
    int64_t changed = -1;
    rc = ledger_ensure_chart(db, a->org_id, e);
    /* Entries of at most DISB_ENTRY_LINES payouts (two ledger lines each),
     * all with the run as their source: the ledger takes at most 200 lines
     * an entry. */
    for (size_t from = 0, part = 1; rc == 0 && from < n; from += DISB_ENTRY_LINES, part++) {
        size_t k = n - from < DISB_ENTRY_LINES ? n - from : DISB_ENTRY_LINES;
        if (n > DISB_ENTRY_LINES) {
            snprintf(memo, sizeof(memo), "payout list %s confirmed (part %zu)", run.run_no, part);
        } else {
            snprintf(memo, sizeof(memo), "payout list %s confirmed", run.run_no);
        }
        struct ledger_entry entry = {.date = day,
                                     .memo = memo,
                                     .source_kind = "disbursement",
                                     .source_id = run_id,
                                     .lines = ll + 2 * from,
                                     .n_lines = (int)(2 * k)};
        rc = ledger_post_tx(db, a, &entry, entry_id, e);
        if (rc == 0 && !first_id[0]) {
            snprintf(first_id, sizeof(first_id), "%s", entry_id);
        }
    }
    if (rc == 0) {
        changed = db_run(db, e,
                         "UPDATE disbursement_runs SET status = 'confirmed',"
                         " entry_id = $1, entry_date = $2, confirmed_by = $3,"
                         " confirmed_at = $4 WHERE id = $5 AND status = 'draft'",
                         "ttttt", first_id, day, sp_who(a), at, run_id);
        rc = changed < 0 ? -1 : 0;
    }
    free(rows);
    free(ll);
    if (rc < 0) {
        return sp_fail(db);
    }
    if (changed != 1) {
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "run_not_draft", "id",
                       "the payout list %s was confirmed meanwhile", run.run_no);
    }
    if (actor_audit(db, a, "disbursement.confirm", "disbursement_run", run_id, "ok", detail, e) <
            0 ||
        db_commit(db, e) < 0) {
        return sp_fail(db);
    }
    return 0;
}

int disb_run_cancel(struct db *db, const struct actor *a, const char *run_id, struct err *e)
{
    if (!actor_can(a, PERM_FINANCE_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to cancel payouts");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    struct run_row run = {0};
    if (load_run(db, a, run_id, &run, e) < 0) {
        return sp_fail(db);
    }
    if (strcmp(run.status, "draft") != 0) {
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "run_not_draft", "id", "the payout list %s is %s",
                       run.run_no, run.status);
    }
    char at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    int64_t released = db_run(db, e,
                              "UPDATE payment_allocations SET disbursement_line_id = NULL"
                              " WHERE org_id = $1 AND disbursement_line_id IN"
                              " (SELECT id FROM disbursement_lines WHERE run_id = $2)",
                              "tt", a->org_id, run_id);
    char detail[96];
    snprintf(detail, sizeof(detail), "%s released=%lld", run.run_no, (long long)released);
    if (released < 0 ||
        db_run(db, e,
               "UPDATE disbursement_lines SET status = 'cancelled' WHERE run_id = $1"
               " AND org_id = $2",
               "tt", run_id, a->org_id) < 0 ||
        db_run(db, e,
               "UPDATE disbursement_runs SET status = 'cancelled', cancelled_by = $1,"
               " cancelled_at = $2 WHERE id = $3 AND status = 'draft'",
               "ttt", sp_who(a), at, run_id) != 1 ||
        actor_audit(db, a, "disbursement.cancel", "disbursement_run", run_id, "ok", detail, e) <
            0 ||
        db_commit(db, e) < 0) {
        if (!err_failed(e)) {
            err_set(e, ERR_CONFLICT, "run_not_draft", "id", "the payout list changed meanwhile");
        }
        return sp_fail(db);
    }
    return 0;
}

/* ---- payout lines ---- */

/* A payout line with its run, as paying and failing need it. */
struct line_row {
    char run_id[40];         /* its run */
    char run_no[32];         /* the run's number */
    char run_status[12];     /* the run's status */
    char run_entry_date[11]; /* the run's confirmation date, "" before */
    char child_id[40];       /* the child */
    char fund[16];           /* the fund */
    char currency[4];        /* the currency */
    char method[16];         /* how it is to be paid */
    char status[12];         /* pending paid failed cancelled */
    int64_t amount;          /* the amount */
};

/* Reads line_id of a's organization into row (inside a transaction). */
static int load_line(struct db *db, const struct actor *a, const char *line_id,
                     struct line_row *row, struct err *e)
{
    if (id_or_not_found(line_id, "payout", e) < 0) {
        return -1;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT l.run_id, r.run_no, r.status, r.entry_date, l.child_id,"
                               " l.fund, l.currency, l.method, l.status, l.amount"
                               " FROM disbursement_lines l JOIN disbursement_runs r"
                               " ON r.id = l.run_id WHERE l.id = $1 AND l.org_id = $2",
                               "tt", line_id, a->org_id);
    if (!s) {
        return found < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such payout");
    }
    memset(row, 0, sizeof(*row));
    snprintf(row->run_id, sizeof(row->run_id), "%s", db_col_text(s, 0));
    snprintf(row->run_no, sizeof(row->run_no), "%s", db_col_text(s, 1));
    snprintf(row->run_status, sizeof(row->run_status), "%s", db_col_text(s, 2));
    const char *ed = db_col_text(s, 3);
    snprintf(row->run_entry_date, sizeof(row->run_entry_date), "%s", ed ? ed : "");
    snprintf(row->child_id, sizeof(row->child_id), "%s", db_col_text(s, 4));
    snprintf(row->fund, sizeof(row->fund), "%s", db_col_text(s, 5));
    snprintf(row->currency, sizeof(row->currency), "%s", db_col_text(s, 6));
    snprintf(row->method, sizeof(row->method), "%s", db_col_text(s, 7));
    snprintf(row->status, sizeof(row->status), "%s", db_col_text(s, 8));
    row->amount = db_col_int64(s, 9);
    db_done(s);
    return 0;
}

/* Refuses a line that cannot change: its run not confirmed, or paid. */
static int line_payable(const struct line_row *l, struct err *e)
{
    if (strcmp(l->run_status, "confirmed") != 0) {
        return err_set(e, ERR_CONFLICT, "run_not_confirmed", "id",
                       "the payout list %s is %s, not confirmed", l->run_no, l->run_status);
    }
    if (strcmp(l->status, "paid") == 0) {
        return err_set(e, ERR_CONFLICT, "payout_paid", "id", "this payout was paid already");
    }
    return 0;
}

/* True for a stored name doc_write_file made ("<2 hex>/<32 hex>"). */
static bool stored_ok(const char *s)
{
    if (!s || strlen(s) != 35 || s[2] != '/') {
        return false;
    }
    for (int i = 0; i < 35; i++) {
        if (i != 2 && !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

/* Removes a stored proof file after a failed transaction; failures are logged. */
static void remove_photo(const char *stored)
{
    if (!stored_ok(stored)) {
        return;
    }
    struct buf path = BUF_INIT;
    buf_addf(&path, "%s/uploads/%s",
             g_config.data_dir && *g_config.data_dir ? g_config.data_dir : ".", stored);
    if (unlink(path.buf) < 0 && errno != ENOENT) {
        log_warn("could not remove a proof file", "file=%s error=%s", path.buf, strerror(errno));
    }
    buf_release(&path);
}

int disb_line_paid(struct db *db, const struct actor *a, const char *line_id,
                   const struct disb_proof *proof, struct err *e)
{
    if (!actor_can(a, PERM_FINANCE_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to record payouts");
    }
    const char *ref =
        proof && proof->reference && !text_blank(proof->reference) ? proof->reference : NULL;
    bool photo = proof && proof->photo && proof->photo_len > 0;
    if (ref && (!utf8_valid(ref, strlen(ref)) || utf8_length(ref, strlen(ref)) > 100)) {
        return err_set(e, ERR_INVALID, "too_long", "reference",
                       "'reference' must be at most 100 characters");
    }
    if (!ref && !photo) {
        return err_set(e, ERR_INVALID, "proof_required", "reference",
                       "a payout needs proof: a 'reference' or a signature 'photo'");
    }
    const char *method = proof && proof->method && *proof->method ? proof->method : NULL;
    if (method && !text_word_in(PAYOUT_METHODS, method)) {
        return err_set(e, ERR_INVALID, "invalid_choice", "method",
                       "'method' must be cash, bank or mobile_money");
    }
    char day[11];
    if (date_or_today(proof ? proof->paid_on : NULL, "paid_on", day, e) < 0) {
        return -1;
    }
    struct buf clean = BUF_INIT;
    enum doc_type t = DOC_UNKNOWN;
    char sha[2 * crypto_hash_sha256_BYTES + 1] = "";
    if (photo) {
        t = doc_prepare(proof->photo, proof->photo_len, g_config.upload_max, &clean, e);
        if (t == DOC_UNKNOWN) {
            snprintf(e->field, sizeof(e->field), "photo");
            buf_release(&clean);
            return -1;
        }
        unsigned char digest[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(digest, (const unsigned char *)clean.buf, clean.len);
        text_hex(digest, sizeof(digest), sha);
    }
    char stored[40] = "";
    if (db_begin(db, false, e) < 0) {
        buf_release(&clean);
        return -1;
    }
    struct line_row l;
    if (load_line(db, a, line_id, &l, e) < 0 || line_payable(&l, e) < 0) {
        buf_release(&clean);
        return sp_fail(db);
    }
    if (strcmp(day, l.run_entry_date) < 0) {
        buf_release(&clean);
        db_rollback(db);
        return err_set(e, ERR_INVALID, "before_confirmation", "paid_on",
                       "'paid_on' is before the list was confirmed (%s)", l.run_entry_date);
    }
    if (!method) {
        method = l.method;
    }
    if (photo && doc_write_file(g_config.data_dir, (const unsigned char *)clean.buf, clean.len,
                                stored, e) < 0) {
        buf_release(&clean);
        return sp_fail(db);
    }
    buf_release(&clean);
    struct ledger_line ll[2] = {
        {.account = ACCT_PAYABLE,
         .fund = l.fund,
         .currency = l.currency,
         .amount = l.amount,
         .child_id = l.child_id},
        {.account = payout_account_of(method),
         .fund = l.fund,
         .currency = l.currency,
         .amount = -l.amount,
         .child_id = l.child_id},
    };
    char memo[96], entry_id[40], at[32], detail[160];
    snprintf(memo, sizeof(memo), "payout of list %s paid (%s)", l.run_no, method);
    struct ledger_entry entry = {.date = day,
                                 .memo = memo,
                                 .source_kind = "payout",
                                 .source_id = line_id,
                                 .lines = ll,
                                 .n_lines = 2};
    time_format_iso(time_now_ms(), at, sizeof(at));
    snprintf(detail, sizeof(detail), "%s line %s %s amount=%lld %s proof=%s", l.run_no, line_id,
             method, (long long)l.amount, l.currency, photo ? "signature" : "reference");
    int64_t changed = -1;
    if (ledger_ensure_chart(db, a->org_id, e) < 0 ||
        ledger_post_tx(db, a, &entry, entry_id, e) < 0 ||
        (changed = db_run(db, e,
                          "UPDATE disbursement_lines SET status = 'paid', method = $1,"
                          " proof_kind = $2, proof_ref = $3, proof_doc = $4, proof_type = $5,"
                          " proof_sha256 = $6, paid_on = $7, entry_id = $8, confirmed_by = $9,"
                          " confirmed_at = $10 WHERE id = $11 AND org_id = $12"
                          " AND status IN ('pending', 'failed')",
                          "tttttttttttt", method, photo ? "signature" : "reference", ref,
                          photo ? stored : NULL, photo ? doc_media_type(t) : NULL,
                          photo ? sha : NULL, day, entry_id, sp_who(a), at, line_id, a->org_id)) <
            0) {
        sp_fail(db);
        remove_photo(stored);
        return -1;
    }
    if (changed != 1) {
        db_rollback(db);
        remove_photo(stored);
        return err_set(e, ERR_CONFLICT, "payout_paid", "id", "this payout was paid already");
    }
    if (actor_audit(db, a, "disbursement.paid", "child", l.child_id, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        sp_fail(db);
        remove_photo(stored);
        return -1;
    }
    return 0;
}

int disb_line_failed(struct db *db, const struct actor *a, const char *line_id, const char *reason,
                     struct err *e)
{
    if (!actor_can(a, PERM_FINANCE_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to record payouts");
    }
    if (reason &&
        (!utf8_valid(reason, strlen(reason)) || utf8_length(reason, strlen(reason)) > 500)) {
        return err_set(e, ERR_INVALID, "too_long", "reason",
                       "'reason' must be at most 500 characters");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    struct line_row l;
    if (load_line(db, a, line_id, &l, e) < 0 || line_payable(&l, e) < 0) {
        return sp_fail(db);
    }
    if (strcmp(l.status, "failed") == 0) {
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "payout_failed", "id",
                       "this payout is marked failed already");
    }
    char at[32], detail[128];
    time_format_iso(time_now_ms(), at, sizeof(at));
    snprintf(detail, sizeof(detail), "%s line %s", l.run_no, line_id);
    if (db_run(db, e,
               "UPDATE disbursement_lines SET status = 'failed', failed_reason = $1,"
               " failed_at = $2 WHERE id = $3 AND org_id = $4 AND status = 'pending'",
               "tttt", reason && !text_blank(reason) ? reason : NULL, at, line_id,
               a->org_id) != 1 ||
        actor_audit(db, a, "disbursement.failed", "child", l.child_id, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        if (!err_failed(e)) {
            err_set(e, ERR_CONFLICT, "payout_paid", "id", "this payout changed meanwhile");
        }
        return sp_fail(db);
    }
    return 0;
}

int disb_run_csv(struct db *db, const struct actor *a, const char *run_id, const char *lang,
                 struct buf *out, struct err *e)
{
    json_t *run = disb_run_get(db, a, run_id, e);
    if (!run) {
        return -1;
    }
    static const char *const heads[] = {"file_no", "child",   "guardian",  "phone",
                                        "fund",    "method",  "amount",    "currency",
                                        "status",  "paid_on", "proof_ref", "signature"};
    buf_adds(out, "\xEF\xBB\xBF");
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        char key[64];
        snprintf(key, sizeof(key), "ds.csv.%s", heads[i]);
        sp_csv_cell(out, i18n_has(key) ? i18n_get(lang, key) : heads[i],
                    i + 1 == sizeof(heads) / sizeof(heads[0]), false);
    }
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(run, "lines"), i, l)
    {
        static const char *const keys[] = {
            "child_file_no", "child_name", "guardian_name", "guardian_phone", "fund",     "method",
            "amount_text",   "currency",   "status",        "paid_on",        "proof_ref"};
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            sp_csv_cell(out, json_string_value(json_object_get(l, keys[k])), false, false);
        }
        sp_csv_cell(out, "", true, false);
    }
    json_decref(run);
    return 0;
}

int disb_proof_open(struct db *db, const struct actor *a, const char *line_id,
                    struct disb_photo *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    buf_init(&out->data);
    if (!can_read(a)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to see payouts");
    }
    if (id_or_not_found(line_id, "payout", e) < 0 || db_begin(db, false, e) < 0) {
        return -1;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT proof_doc, proof_type, child_id FROM disbursement_lines"
                               " WHERE id = $1 AND org_id = $2 AND proof_doc IS NOT NULL",
                               "tt", line_id, a->org_id);
    if (!s) {
        db_rollback(db);
        return found < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such proof");
    }
    char stored[40], child[40];
    snprintf(stored, sizeof(stored), "%s", db_col_text(s, 0));
    snprintf(out->content_type, sizeof(out->content_type), "%s",
             db_col_text(s, 1) ? db_col_text(s, 1) : "application/octet-stream");
    snprintf(child, sizeof(child), "%s", db_col_text(s, 2));
    db_done(s);
    char detail[96];
    snprintf(detail, sizeof(detail), "line %s", line_id);
    if (doc_read_file(g_config.data_dir, stored, &out->data, e) < 0 ||
        actor_audit(db, a, "disbursement.proof_view", "child", child, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        buf_release(&out->data);
        return sp_fail(db);
    }
    /* The stored type is what the bytes showed when they came in; check again. */
    const char *mt = doc_media_type(doc_sniff((const unsigned char *)out->data.buf, out->data.len));
    snprintf(out->content_type, sizeof(out->content_type), "%s",
             mt ? mt : "application/octet-stream");
    return 0;
}

int disb_trace_tx(struct db *db, const char *org_id, const char *line_id, struct disb_trace *out,
                  struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (!line_id || !uuid_valid(line_id)) {
        return 0;
    }
    int found;
    struct db_stmt *s = db_row(
        db, e, &found,
        "SELECT r.id, r.run_no, r.period, r.status, l.status, l.method, l.paid_on, l.proof_kind,"
        " l.entry_id, r.entry_id, l.amount, l.currency"
        " FROM disbursement_lines l JOIN disbursement_runs r ON r.id = l.run_id"
        " WHERE l.id = $1 AND l.org_id = $2",
        "tt", line_id, org_id);
    if (!s) {
        return found;
    }
    const char *v[10];
    for (int i = 0; i < 10; i++) {
        v[i] = db_col_text(s, i) ? db_col_text(s, i) : "";
    }
    snprintf(out->run_id, sizeof(out->run_id), "%s", v[0]);
    snprintf(out->run_no, sizeof(out->run_no), "%s", v[1]);
    snprintf(out->period, sizeof(out->period), "%s", v[2]);
    snprintf(out->run_status, sizeof(out->run_status), "%s", v[3]);
    snprintf(out->status, sizeof(out->status), "%s", v[4]);
    snprintf(out->method, sizeof(out->method), "%s", v[5]);
    snprintf(out->paid_on, sizeof(out->paid_on), "%s", v[6]);
    snprintf(out->proof_kind, sizeof(out->proof_kind), "%s", v[7]);
    snprintf(out->entry_id, sizeof(out->entry_id), "%s", v[8]);
    snprintf(out->run_entry_id, sizeof(out->run_entry_id), "%s", v[9]);
    out->amount = db_col_int64(s, 10);
    snprintf(out->currency, sizeof(out->currency), "%s", db_col_text(s, 11));
    db_done(s);
    return 1;
}

/* ---- in-kind ---- */

/* Reads an optional text member of input (at most max characters); a
 * problem is added for a wrong type or length. */
static const char *opt_text(json_t *input, const char *key, size_t max, json_t *errors)
{
    json_t *v = json_object_get(input, key);
    if (!v || json_is_null(v)) {
        return NULL;
    }
    if (!json_is_string(v)) {
        sp_problem_msg(errors, key, "invalid_type", "must be a string");
        return NULL;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n || !utf8_valid(s, n)) {
        sp_problem_msg(errors, key, "invalid_utf8", "holds characters that are not allowed");
        return NULL;
    }
    if (utf8_length(s, n) > max) {
        sp_problem_msg(errors, key, "too_long", "is too long");
        return NULL;
    }
    return text_blank(s) ? NULL : s;
}

int inkind_record(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                  json_t **errors_out, struct err *e)
{
    if (errors_out) {
        *errors_out = NULL;
    }
    if (!actor_can(a, PERM_SPONSOR_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL,
                       "not allowed to record in-kind distributions");
    }
    static const char *const known[] = {"child_id",       "kind",     "description", "quantity",
                                        "distributed_on", "value",    "currency",    "fund",
                                        "donor_id",       "proof_ref"};
    json_t *errors = json_array();
    if (!json_is_object(input)) {
        sp_problem_msg(errors, "body", "not_an_object", "must be an object");
        return sp_invalid(errors, errors_out, e);
    }
    const char *key;
    json_t *val;
    json_object_foreach(input, key, val)
    {
        bool ok = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
            ok = ok || strcmp(key, known[i]) == 0;
        }
        if (!ok) {
            sp_problem_msg(errors, key, "unknown_field",
                           "is not a field of an in-kind distribution");
        }
    }
    const char *child_id = opt_text(input, "child_id", 40, errors);
    const char *kind = opt_text(input, "kind", 30, errors);
    const char *desc = opt_text(input, "description", 500, errors);
    const char *on = opt_text(input, "distributed_on", 10, errors);
    const char *value = opt_text(input, "value", 30, errors);
    const char *currency = opt_text(input, "currency", 3, errors);
    const char *fund = opt_text(input, "fund", 20, errors);
    const char *donor_id = opt_text(input, "donor_id", 40, errors);
    const char *proof = opt_text(input, "proof_ref", 200, errors);
    if (!child_id && !json_object_get(input, "child_id")) {
        sp_problem_msg(errors, "child_id", "required", "is required");
    }
    if (!kind) {
        if (!json_object_get(input, "kind") || json_is_string(json_object_get(input, "kind"))) {
            sp_problem_msg(errors, "kind", "required", "is required");
        }
    } else if (!text_word_in(INKIND_KINDS, kind)) {
        sp_problem_msg(errors, "kind", "invalid_choice", "is not a kind of in-kind item");
    }
    json_t *qv = json_object_get(input, "quantity");
    int64_t qty = 1;
    if (qv && !json_is_null(qv)) {
        if (json_is_integer(qv)) {
            qty = json_integer_value(qv);
        } else if (json_is_string(qv)) {
            /* Forms send text: whole digits only. */
            const char *q = json_string_value(qv);
            qty = *q && strlen(q) <= 9 && strspn(q, "0123456789") == strlen(q) ? atoll(q) : -1;
        } else {
            qty = -1;
        }
        if (qty < 1 || qty > INKIND_MAX_QTY) {
            sp_problem_msg(errors, "quantity", "out_of_range", "must be a whole number from 1");
        }
    }
    char day[11] = "";
    if (!on) {
        if (!json_object_get(input, "distributed_on")) {
            sp_today(day);
        } else {
            sp_problem_msg(errors, "distributed_on", "required", "is required");
        }
    } else {
        struct err de;
        err_clear(&de);
        if (date_or_today(on, "distributed_on", day, &de) < 0) {
            sp_problem_msg(errors, "distributed_on", de.code, de.msg);
        }
    }
    struct money mv = {0};
    if (value) {
        if (!currency) {
            sp_problem_msg(errors, "currency", "required", "is required with a value");
        } else {
            struct err me;
            err_clear(&me);
            if (money_parse(value, currency, &mv, &me) < 0) {
                sp_problem_msg(errors, strcmp(me.field, "currency") == 0 ? "currency" : "value",
                               me.code, me.msg);
            } else if (mv.minor <= 0) {
                sp_problem_msg(errors, "value", "invalid_amount", "must be more than zero");
            }
        }
        if (fund && !text_word_in(FUNDS, fund)) {
            sp_problem_msg(errors, "fund", "invalid_choice", "is not a fund");
        }
    } else {
        if (currency) {
            sp_problem_msg(errors, "currency", "value_required", "is given without a value");
        }
        if (fund) {
            sp_problem_msg(errors, "fund", "value_required", "is given without a value");
        }
    }
    if (donor_id && !uuid_valid(donor_id)) {
        sp_problem_msg(errors, "donor_id", "invalid_field", "is not a donor");
        donor_id = NULL;
    }
    if (json_array_size(errors) > 0) {
        return sp_invalid(errors, errors_out, e);
    }
    if (!fund) {
        fund = FUND_UNRESTRICTED;
    }
    if (db_begin(db, false, e) < 0) {
        json_decref(errors);
        return -1;
    }
    int found = 0;
    struct db_stmt *s =
        uuid_valid(child_id)
            ? db_row(db, e, &found, "SELECT status FROM children WHERE id = $1 AND org_id = $2",
                     "tt", child_id, a->org_id)
            : NULL;
    if (s) {
        if (strcmp(db_col_text(s, 0), "closed") == 0) {
            sp_problem_msg(errors, "child_id", "child_closed", "the child's record is closed");
        }
        db_done(s);
    } else if (found < 0) {
        json_decref(errors);
        return sp_fail(db);
    } else {
        sp_problem_msg(errors, "child_id", "unknown_child", "no such child");
    }
    if (donor_id) {
        s = db_row(db, e, &found, "SELECT id FROM donors WHERE id = $1 AND org_id = $2", "tt",
                   donor_id, a->org_id);
        if (s) {
            db_done(s);
        } else if (found < 0) {
            json_decref(errors);
            return sp_fail(db);
        } else {
            sp_problem_msg(errors, "donor_id", "invalid_field", "no such donor");
        }
    }
    if (json_array_size(errors) > 0) {
        db_rollback(db);
        return sp_invalid(errors, errors_out, e);
    }
    json_decref(errors);
    char id[UUID_STR_LEN], at[32], entry_id[40] = "", detail[160];
    uuid_v7(id);
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (value) {
        char memo[96];
        snprintf(memo, sizeof(memo), "in-kind distribution: %s x%lld", kind, (long long)qty);
        struct ledger_line ll[2] = {
            {.account = ACCT_INKIND_OUT,
             .fund = fund,
             .currency = mv.currency,
             .amount = mv.minor,
             .donor_id = donor_id,
             .child_id = child_id},
            {.account = ACCT_INCOME_INKIND,
             .fund = fund,
             .currency = mv.currency,
             .amount = -mv.minor,
             .donor_id = donor_id,
             .child_id = child_id},
        };
        struct ledger_entry entry = {.date = day,
                                     .memo = memo,
                                     .source_kind = "inkind",
                                     .source_id = id,
                                     .lines = ll,
                                     .n_lines = 2};
        if (ledger_ensure_chart(db, a->org_id, e) < 0 ||
            ledger_post_tx(db, a, &entry, entry_id, e) < 0) {
            return sp_fail(db);
        }
    }
    /* The value is bound as text so that "no value" can be NULL. */
    char minor[32];
    snprintf(minor, sizeof(minor), "%lld", (long long)mv.minor);
    snprintf(detail, sizeof(detail), "inkind %s %s x%lld value=%lld %s", id, kind, (long long)qty,
             (long long)(value ? mv.minor : 0), value ? mv.currency : "");
    if (db_run(db, e,
               "INSERT INTO inkind_distributions (id, org_id, child_id, kind, description,"
               " quantity, value, currency, fund, donor_id, distributed_on, proof_ref, entry_id,"
               " created_by, created_at)"
               " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
               "tttttitttttttt"
               "t",
               id, a->org_id, child_id, kind, desc, qty, value ? minor : NULL,
               value ? mv.currency : NULL, value ? fund : NULL, donor_id, day, proof,
               value ? entry_id : NULL, sp_who(a), at) < 0 ||
        actor_audit(db, a, "inkind.record", "child", child_id, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        return sp_fail(db);
    }
    snprintf(id_out, 40, "%s", id);
    return 0;
}

json_t *inkind_list(struct db *db, const struct actor *a, const char *child_id, struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_READ) && !actor_can(a, PERM_FINANCE_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to see in-kind distributions");
        return NULL;
    }
    if (child_id) {
        int found = 0;
        struct db_stmt *s =
            uuid_valid(child_id)
                ? db_row(db, e, &found, "SELECT id FROM children WHERE id = $1 AND org_id = $2",
                         "tt", child_id, a->org_id)
                : NULL;
        if (!s) {
            if (!uuid_valid(child_id) || found == 0) {
                err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such child");
            }
            return NULL;
        }
        db_done(s);
    }
    struct db_stmt *s =
        db_query(db, e,
                 "SELECT i.id, i.kind, i.description, i.quantity, i.value, i.currency, i.fund,"
                 " i.donor_id, dn.name, i.distributed_on, i.proof_ref, i.entry_id, i.created_at,"
                 " i.child_id, c.file_no, c.first_name, c.father_name, c.family_name"
                 " FROM inkind_distributions i JOIN children c ON c.id = i.child_id"
                 " LEFT JOIN donors dn ON dn.id = i.donor_id"
                 " WHERE i.org_id = $1 AND (CAST($2 AS TEXT) IS NULL OR i.child_id = $2)"
                 " ORDER BY i.distributed_on DESC, i.id DESC LIMIT 200",
                 "tt", a->org_id, child_id);
    if (!s) {
        return NULL;
    }
    json_t *items = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        bool has_value = !db_col_null(s, 4);
        char vt[48] = "";
        if (has_value) {
            sp_money_text(db_col_int64(s, 4), db_col_text(s, 5), vt, sizeof(vt));
        }
        struct buf name = BUF_INIT;
        for (int i = 15; i <= 17; i++) {
            const char *p = db_col_text(s, i);
            if (p && *p) {
                buf_addf(&name, "%s%s", name.len ? " " : "", p);
            }
        }
        json_t *o = json_pack(
            "{s:s, s:s, s:s?, s:I, s:o, s:s?, s:s?, s:s?, s:s?, s:s?, s:s, s:s?, s:s?, s:s, s:s,"
            " s:s, s:s}",
            "id", db_col_text(s, 0), "kind", db_col_text(s, 1), "description", db_col_text(s, 2),
            "quantity", (json_int_t)db_col_int64(s, 3), "value",
            has_value ? json_integer(db_col_int64(s, 4)) : json_null(), "value_text",
            has_value ? vt : NULL, "currency", db_col_text(s, 5), "fund", db_col_text(s, 6),
            "donor_id", db_col_text(s, 7), "donor_name", db_col_text(s, 8), "distributed_on",
            db_col_text(s, 9), "proof_ref", db_col_text(s, 10), "entry_id", db_col_text(s, 11),
            "created_at", db_col_text(s, 12), "child_id", db_col_text(s, 13), "child_file_no",
            db_col_text(s, 14), "child_name", name.buf);
        buf_release(&name);
        json_array_append_new(items, o);
    }
    db_done(s);
    if (rc < 0) {
        json_decref(items);
        return NULL;
    }
    return json_pack("{s:o}", "items", items);
}
