/*
 * billing.c: dues, payments with their receipts, allocation, reversal,
 * reconciliation and arrears (see billing.h for the rules and postings).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "cases/cases.h"
#include "core/money.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "finance/ledger.h"
#include "sponsorship/billing.h"
#include "sponsorship/sponsors_int.h"
#include "sponsorship/sponsorship.h"
#include "web/page.h"
#include "core/xalloc.h"
#include "core/banned.h"

/* Agreements read per round of dues_generate (kept in memory meanwhile). */
#define DUES_CHUNK 1000
/* Open dues read per round when allocating one payment. */
#define ALLOC_CHUNK 200
/* Periods computed per call of sched_periods. */
#define PERIODS_MAX 64
/* Longest texts accepted on a payment, in characters. */
#define REFERENCE_MAX 200
#define EXTERNAL_REF_MAX 100
#define REASON_MAX 500
/* Most dues an officer may name in one request. */
#define ALLOCS_MAX 100

/* ---- small helpers ------------------------------------------------------ */

/* True when a may see billing (sponsorship.read or finance.read). */
static bool can_read(const struct actor *a)
{
    return actor_can(a, PERM_SPONSOR_READ) || actor_can(a, PERM_FINANCE_READ);
}

/* Refuses (ERR_FORBIDDEN) an actor who may not write money. */
static int need_write(const struct actor *a, struct err *e)
{
    if (!actor_can(a, PERM_FINANCE_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to record money");
    }
    return 0;
}

/* Refuses (ERR_FORBIDDEN) an actor who may not read billing. */
static int need_read(const struct actor *a, struct err *e)
{
    if (!can_read(a)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to see money");
    }
    return 0;
}

/* Now as ISO 8601 UTC. */
static void now_iso(char out[32])
{
    time_format_iso(time_now_ms(), out, 32);
}

/* Column col of s as a JSON string, or null. */
static json_t *col_json(struct db_stmt *s, int col)
{
    const char *v = db_col_text(s, col);
    return v ? json_string(v) : json_null();
}

/* Copies column col of s into out (n bytes), "" for NULL. */
static void col_copy(struct db_stmt *s, int col, char *out, size_t n)
{
    const char *v = db_col_text(s, col);
    snprintf(out, n, "%s", v ? v : "");
}

/* Remembers the closed/open state of the last month asked, so that posting
 * 100,000 dues of one month asks the ledger once. */
struct closed_cache {
    char month[8]; /* YYYY-MM last asked, "" none */
    int closed;    /* its answer */
};

/* True (1) when day's month is closed for org, 0 open, -1 error; asks the
 * ledger only when the month differs from the last one asked. */
static int month_closed(struct db *db, const char *org_id, struct closed_cache *c, const char *day,
                        struct err *e)
{
    if (strncmp(c->month, day, 7) != 0) {
        int closed = ledger_period_closed(db, org_id, day, e);
        if (closed < 0) {
            return -1;
        }
        snprintf(c->month, sizeof(c->month), "%.7s", day);
        c->closed = closed;
    }
    return c->closed;
}

/* The accounting date of an allocation: the later of the payment's and
 * the due's dates, or today when that date's period is closed. */
static int alloc_date(struct db *db, const char *org_id, struct closed_cache *cache,
                      const char *received_on, const char *due_date, char out[11], struct err *e)
{
    snprintf(out, 11, "%s", strcmp(received_on, due_date) > 0 ? received_on : due_date);
    int closed = month_closed(db, org_id, cache, out, e);
    if (closed < 0) {
        return -1;
    }
    if (closed) {
        sp_today(out);
    }
    return 0;
}

/* A run over a whole organization (100,000 dues) dirties more pages than
 * the connection's usual cache (db_sqlite.c: 16 MiB) holds, and SQLite then
 * spills them to the WAL in the middle of the transaction, which made a
 * month's dues several times slower than the same work in smaller runs.
 * The cache is raised for the run and set back after it (SQLite only). */
static void big_cache(struct db *db, bool on)
{
    if (db_backend_of(db) != DB_SQLITE) {
        return;
    }
    struct err ignored;
    err_clear(&ignored);
    db_exec(db, on ? "PRAGMA cache_size=-262144" : "PRAGMA cache_size=-16384", &ignored);
}

/* ---- rows ------------------------------------------------------------ */

/* A payment as allocation needs it. */
struct pay_row {
    char id[40];          /* payments.id */
    char payment_no[32];  /* P-YYYY-NNNNNN */
    char donor_id[40];    /* the payer */
    char currency[4];     /* ISO 4217 */
    char received_on[11]; /* YYYY-MM-DD */
    char status[16];      /* recorded reversed */
    char entry_id[40];    /* the payment's journal entry */
    int64_t amount;       /* minor units */
    int64_t unallocated;  /* minor units not yet allocated */
};

/* A due as allocation needs it. */
struct due_row {
    char id[40];             /* sponsorship_dues.id */
    char sponsorship_id[40]; /* the agreement */
    char payer_id[40];       /* who pays */
    char child_id[40];       /* the child */
    char currency[4];        /* ISO 4217 */
    char fund[24];           /* the fund of the agreement's purpose */
    char due_date[11];       /* YYYY-MM-DD */
    char status[12];         /* open partial paid cancelled */
    int64_t amount;          /* minor units due */
    int64_t paid;            /* minor units allocated so far */
};

#define DUE_COLS                                                                                   \
    "id, sponsorship_id, payer_id, child_id, currency, fund, due_date, status, amount, paid"

/* Fills d from a row selected with DUE_COLS. */
static void due_from(struct db_stmt *s, struct due_row *d)
{
    col_copy(s, 0, d->id, sizeof(d->id));
    col_copy(s, 1, d->sponsorship_id, sizeof(d->sponsorship_id));
    col_copy(s, 2, d->payer_id, sizeof(d->payer_id));
    col_copy(s, 3, d->child_id, sizeof(d->child_id));
    col_copy(s, 4, d->currency, sizeof(d->currency));
    col_copy(s, 5, d->fund, sizeof(d->fund));
    col_copy(s, 6, d->due_date, sizeof(d->due_date));
    col_copy(s, 7, d->status, sizeof(d->status));
    d->amount = db_col_int64(s, 8);
    d->paid = db_col_int64(s, 9);
}

/* Loads due id of org into d. Returns 1, 0 (not found) or -1. */
static int load_due(struct db *db, const char *org_id, const char *id, struct due_row *d,
                    struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT " DUE_COLS " FROM sponsorship_dues"
                               " WHERE id = $1 AND org_id = $2",
                               "tt", id, org_id);
    if (!s) {
        return found;
    }
    due_from(s, d);
    db_done(s);
    return 1;
}

/* Loads payment id of org into p. Returns 1, 0 (not found) or -1. */
static int load_payment(struct db *db, const char *org_id, const char *id, struct pay_row *p,
                        struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT id, payment_no, donor_id, currency, received_on, status,"
                               " entry_id, amount, unallocated FROM payments"
                               " WHERE id = $1 AND org_id = $2",
                               "tt", id, org_id);
    if (!s) {
        return found;
    }
    col_copy(s, 0, p->id, sizeof(p->id));
    col_copy(s, 1, p->payment_no, sizeof(p->payment_no));
    col_copy(s, 2, p->donor_id, sizeof(p->donor_id));
    col_copy(s, 3, p->currency, sizeof(p->currency));
    col_copy(s, 4, p->received_on, sizeof(p->received_on));
    col_copy(s, 5, p->status, sizeof(p->status));
    col_copy(s, 6, p->entry_id, sizeof(p->entry_id));
    p->amount = db_col_int64(s, 7);
    p->unallocated = db_col_int64(s, 8);
    db_done(s);
    return 1;
}

/* ---- allocation ---------------------------------------------------------- */

/* Allocates amount (> 0, already checked against both sides) of payment p
 * to due d: the entry, the allocation row, the due's paid amount and the
 * payment's remainder. Updates p and d in memory too. */
static int allocate_one(struct db *db, const struct actor *a, struct closed_cache *cache,
                        struct pay_row *p, struct due_row *d, int64_t amount, struct err *e)
{
    char id[UUID_STR_LEN], at[32], date[11], entry_id[40], memo[160];
    uuid_v7(id);
    now_iso(at);
    if (alloc_date(db, a->org_id, cache, p->received_on, d->due_date, date, e) < 0) {
        return -1;
    }
    snprintf(memo, sizeof(memo), "allocation of %s to the due of %s", p->payment_no, d->due_date);
    struct ledger_line lines[2] = {
        {.account = ACCT_ADVANCES,
         .fund = FUND_SPONSORSHIP,
         .currency = p->currency,
         .amount = amount,
         .donor_id = p->donor_id},
        {.account = ACCT_RECEIVABLE,
         .fund = d->fund,
         .currency = d->currency,
         .amount = -amount,
         .donor_id = d->payer_id,
         .child_id = d->child_id,
         .sponsorship_id = d->sponsorship_id},
    };
    struct ledger_entry en = {.date = date,
                              .memo = memo,
                              .source_kind = "allocation",
                              .source_id = id,
                              .lines = lines,
                              .n_lines = 2};
    if (ledger_post_tx(db, a, &en, entry_id, e) < 0) {
        return -1;
    }
    int64_t n;
    if (db_run(db, e,
               "INSERT INTO payment_allocations (id, org_id, payment_id, due_id, amount, entry_id,"
               " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
               "ttttitt", id, a->org_id, p->id, d->id, amount, entry_id, at) < 0) {
        if (strcmp(e->code, "unique_violation") == 0) {
            err_set(e, ERR_CONFLICT, "already_allocated", "due_id",
                    "payment %s is already allocated to this due", p->payment_no);
        }
        return -1;
    }
    /* The guards in the WHERE clauses keep a concurrent change from
     * over-allocating: no row changed means the state moved under us. */
    if ((n = db_run(db, e,
                    "UPDATE sponsorship_dues SET paid = paid + $1,"
                    " status = CASE WHEN paid + $1 >= amount THEN 'paid' ELSE 'partial' END"
                    " WHERE id = $2 AND paid + $1 <= amount",
                    "it", amount, d->id)) < 0) {
        return -1;
    }
    if (n == 0) {
        return err_set(e, ERR_CONFLICT, "due_overpaid", "due_id",
                       "the due has less left to pay than that");
    }
    if ((n = db_run(db, e,
                    "UPDATE payments SET unallocated = unallocated - $1"
                    " WHERE id = $2 AND unallocated >= $1",
                    "it", amount, p->id)) < 0) {
        return -1;
    }
    if (n == 0) {
        return err_set(e, ERR_CONFLICT, "over_allocated", "amount",
                       "payment %s has less left to allocate than that", p->payment_no);
    }
    /* The caller's copy follows (the database decided the status itself). */
    d->paid += amount;
    snprintf(d->status, sizeof(d->status), "%s", d->paid >= d->amount ? "paid" : "partial");
    p->unallocated -= amount;
    return 0;
}

/* Allocates what is left of p to the payer's open dues in its currency,
 * oldest first, skipping dues it is already allocated to. Adds the number
 * of allocations to *n. */
static int allocate_auto(struct db *db, const struct actor *a, struct closed_cache *cache,
                         struct pay_row *p, int64_t *n, struct err *e)
{
    struct due_row *dues = calloc(ALLOC_CHUNK, sizeof(*dues));
    if (!dues) {
        return err_set(e, ERR_INTERNAL, "no_memory", NULL, "out of memory");
    }
    int rc = 0;
    while (p->unallocated > 0) {
        struct db_stmt *s =
            db_query(db, e,
                     /* No org_id term: the payer is the organization's (the payment
                      * was loaded by organization), and with one the planner may
                      * pick the organization's index and read every due. */
                     "SELECT " DUE_COLS " FROM sponsorship_dues d WHERE payer_id = $1"
                     " AND currency = $2 AND status IN ('open', 'partial')"
                     " AND NOT EXISTS (SELECT 1 FROM payment_allocations x"
                     " WHERE x.payment_id = $3 AND x.due_id = d.id)"
                     " ORDER BY due_date, id LIMIT $4",
                     "ttti", p->donor_id, p->currency, p->id, (int64_t)ALLOC_CHUNK);
        if (!s) {
            rc = -1;
            break;
        }
        int k = 0;
        while (k < ALLOC_CHUNK && db_step(s, e) == 1) {
            due_from(s, &dues[k++]);
        }
        db_done(s);
        if (err_failed(e)) {
            rc = -1;
            break;
        }
        for (int i = 0; i < k && p->unallocated > 0; i++) {
            int64_t left = dues[i].amount - dues[i].paid;
            int64_t take = left < p->unallocated ? left : p->unallocated;
            if (take <= 0) {
                continue;
            }
            if (allocate_one(db, a, cache, p, &dues[i], take, e) < 0) {
                rc = -1;
                break;
            }
            (*n)++;
        }
        if (rc < 0 || k < ALLOC_CHUNK) {
            break;
        }
    }
    free(dues);
    return rc;
}

/* Checks the officer's allocation requests against payment p (amounts in
 * p's currency) and loads their dues into dues[] and amounts into amt[]
 * (both n long). Everything is checked before anything is written. */
static int check_allocs(struct db *db, const struct actor *a, const struct pay_row *p,
                        const struct alloc_req *reqs, int n, struct due_row *dues, int64_t *amt,
                        struct err *e)
{
    if (n > ALLOCS_MAX) {
        return err_set(e, ERR_INVALID, "too_many", "allocations", "at most %d dues at a time",
                       ALLOCS_MAX);
    }
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        char field[64];
        snprintf(field, sizeof(field), "allocations[%d].due_id", i);
        if (!reqs[i].due_id || !*reqs[i].due_id) {
            return err_set(e, ERR_INVALID, "required", field, "which due?");
        }
        int found = load_due(db, a->org_id, reqs[i].due_id, &dues[i], e);
        if (found < 0) {
            return -1;
        }
        if (found == 0) {
            return err_set(e, ERR_NOT_FOUND, "not_found", field, "no such due");
        }
        if (strcmp(dues[i].payer_id, p->donor_id) != 0) {
            return err_set(e, ERR_CONFLICT, "payer_mismatch", field, "the due is another payer's");
        }
        if (strcmp(dues[i].currency, p->currency) != 0) {
            return err_set(e, ERR_CONFLICT, "due_currency_mismatch", field,
                           "the due is in %s, the payment in %s", dues[i].currency, p->currency);
        }
        if (strcmp(dues[i].status, "cancelled") == 0) {
            return err_set(e, ERR_CONFLICT, "due_cancelled", field, "the due was cancelled");
        }
        for (int j = 0; j < i; j++) {
            if (strcmp(dues[j].id, dues[i].id) == 0) {
                return err_set(e, ERR_CONFLICT, "already_allocated", field,
                               "the same due is named twice");
            }
        }
        int exists;
        struct db_stmt *s = db_row(db, e, &exists,
                                   "SELECT 1 FROM payment_allocations"
                                   " WHERE payment_id = $1 AND due_id = $2",
                                   "tt", p->id, dues[i].id);
        if (exists < 0) {
            return -1;
        }
        if (s) {
            db_done(s);
            return err_set(e, ERR_CONFLICT, "already_allocated", field,
                           "payment %s is already allocated to this due", p->payment_no);
        }
        int64_t left = dues[i].amount - dues[i].paid;
        snprintf(field, sizeof(field), "allocations[%d].amount", i);
        if (reqs[i].amount && *reqs[i].amount) {
            struct money m;
            if (money_parse(reqs[i].amount, p->currency, &m, e) < 0) {
                snprintf(e->field, sizeof(e->field), "%s", field);
                return -1;
            }
            if (m.minor <= 0) {
                return err_set(e, ERR_INVALID, "invalid_amount", field,
                               "an allocation must be more than zero");
            }
            amt[i] = m.minor;
        } else {
            int64_t avail = p->unallocated - total;
            amt[i] = left < avail ? left : avail;
            if (amt[i] <= 0) {
                return err_set(e, ERR_CONFLICT, left <= 0 ? "due_overpaid" : "over_allocated",
                               field,
                               left <= 0 ? "the due is already paid"
                                         : "nothing of the payment is left for this due");
            }
        }
        if (amt[i] > left) {
            return err_set(e, ERR_CONFLICT, "due_overpaid", field,
                           "more than the %lld left to pay on the due", (long long)left);
        }
        total += amt[i];
        if (total > p->unallocated) {
            return err_set(e, ERR_CONFLICT, "over_allocated", field,
                           "more than the payment's unallocated amount");
        }
    }
    return 0;
}

/* Allocates p as the officer asked (n > 0) or automatically (n == 0). */
static int allocate_payment(struct db *db, const struct actor *a, struct pay_row *p,
                            const struct alloc_req *reqs, int n, int64_t *made, struct err *e)
{
    struct closed_cache cache = {.month = ""};
    if (n == 0) {
        return allocate_auto(db, a, &cache, p, made, e);
    }
    struct due_row *dues = calloc((size_t)n, sizeof(*dues));
    int64_t *amt = calloc((size_t)n, sizeof(*amt));
    int rc = -1;
    if (!dues || !amt) {
        err_set(e, ERR_INTERNAL, "no_memory", NULL, "out of memory");
    } else if (check_allocs(db, a, p, reqs, n, dues, amt, e) == 0) {
        rc = 0;
        for (int i = 0; i < n; i++) {
            if (allocate_one(db, a, &cache, p, &dues[i], amt[i], e) < 0) {
                rc = -1;
                break;
            }
            (*made)++;
        }
    }
    free(dues);
    free(amt);
    return rc;
}

/* ---- payments ----------------------------------------------------------- */

/* An amount given as text (parsed in currency) or as minor units. */
static int amount_of(const char *text, int64_t minor, const char *currency, const char *field,
                     int64_t *out, struct err *e)
{
    if (!text) {
        *out = minor;
        return 0;
    }
    struct money m;
    if (money_parse(text, currency, &m, e) < 0) {
        snprintf(e->field, sizeof(e->field), "%s", field);
        return -1;
    }
    *out = m.minor;
    return 0;
}

/* Validates p without writing: the amounts into *amount and *fee, the
 * payer's existence. */
static int check_payment(struct db *db, const struct actor *a, const struct payment_new *p,
                         int64_t *amount, int64_t *fee, char donor_id[40], struct err *e)
{
    if (!p->donor_id || !*p->donor_id) {
        return err_set(e, ERR_INVALID, "required", "donor_id", "who paid?");
    }
    if (!p->currency || !*p->currency) {
        return err_set(e, ERR_INVALID, "required", "currency", "'currency' is required");
    }
    if (money_exponent(p->currency) < 0) {
        return err_set(e, ERR_INVALID, "unknown_currency", "currency",
                       "'%s' is not a known currency", p->currency);
    }
    if (!p->amount && p->amount_minor == 0) {
        return err_set(e, ERR_INVALID, "required", "amount", "'amount' is required");
    }
    if (amount_of(p->amount, p->amount_minor, p->currency, "amount", amount, e) < 0) {
        return -1;
    }
    if (*amount <= 0) {
        return err_set(e, ERR_INVALID, "invalid_amount", "amount",
                       "a payment must be more than zero");
    }
    if (amount_of(p->fee && *p->fee ? p->fee : NULL, p->fee_minor, p->currency, "fee", fee, e) <
        0) {
        return -1;
    }
    if (*fee < 0 || *fee >= *amount) {
        return err_set(e, ERR_INVALID, "invalid_amount", "fee",
                       "the fee must be at least zero and less than the amount");
    }
    if (!p->method || !*p->method) {
        return err_set(e, ERR_INVALID, "required", "method", "'method' is required");
    }
    if (!text_word_in(PAY_METHODS, p->method)) {
        return err_set(e, ERR_INVALID, "invalid_choice", "method", "'%s' is not a payment method",
                       p->method);
    }
    char day[11];
    sp_today(day);
    if (!p->received_on || !*p->received_on) {
        return err_set(e, ERR_INVALID, "required", "received_on", "'received_on' is required");
    }
    if (!sp_date_ok(p->received_on)) {
        return err_set(e, ERR_INVALID, "invalid_date", "received_on",
                       "'received_on' is not a date");
    }
    if (strcmp(p->received_on, day) > 0) {
        return err_set(e, ERR_INVALID, "future_date", "received_on",
                       "'received_on' is in the future");
    }
    if (sp_check_text(p->reference, "reference", REFERENCE_MAX, false, false, e) < 0 ||
        sp_check_text(p->external_ref, "external_ref", EXTERNAL_REF_MAX, false, false, e) < 0) {
        return -1;
    }
    if (p->n_allocs < 0 || (p->n_allocs > 0 && !p->allocs)) {
        return err_set(e, ERR_INVALID, "invalid_field", "allocations", "bad allocation list");
    }
    int found;
    /* The payer by id or by donor number (D-000001). */
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT id FROM donors WHERE org_id = $2"
                               " AND (id = $1 OR donor_no = $1)",
                               "tt", p->donor_id, a->org_id);
    if (!s) {
        return found < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "not_found", "donor_id", "no such donor");
    }
    col_copy(s, 0, donor_id, 40);
    db_done(s);
    if (p->external_ref && *p->external_ref) {
        s = db_row(db, e, &found,
                   "SELECT payment_no FROM payments WHERE org_id = $1 AND external_ref = $2", "tt",
                   a->org_id, p->external_ref);
        if (found < 0) {
            return -1;
        }
        if (s) {
            char no[32];
            col_copy(s, 0, no, sizeof(no));
            db_done(s);
            return err_set(e, ERR_CONFLICT, "external_ref_used", "external_ref",
                           "this transaction was already recorded as %s", no);
        }
    }
    return 0;
}

int payment_record_tx(struct db *db, const struct actor *a, const struct payment_new *p,
                      char id_out[40], char receipt_no_out[32], struct err *e)
{
    int64_t amount = 0, fee = 0;
    char payer[40];
    if (need_write(a, e) < 0 || check_payment(db, a, p, &amount, &fee, payer, e) < 0 ||
        ledger_ensure_chart(db, a->org_id, e) < 0) {
        return -1;
    }
    struct pay_row pr;
    memset(&pr, 0, sizeof(pr));
    uuid_v7(pr.id);
    snprintf(pr.donor_id, sizeof(pr.donor_id), "%s", payer);
    snprintf(pr.currency, sizeof(pr.currency), "%s", p->currency);
    snprintf(pr.received_on, sizeof(pr.received_on), "%s", p->received_on);
    snprintf(pr.status, sizeof(pr.status), "recorded");
    pr.amount = amount;
    pr.unallocated = amount;
    /* The officer's named dues are checked before anything is written. */
    struct due_row *dues = NULL;
    int64_t *amt = NULL;
    if (p->n_allocs > 0 && !p->no_allocate) {
        dues = calloc((size_t)p->n_allocs, sizeof(*dues));
        amt = calloc((size_t)p->n_allocs, sizeof(*amt));
        if (!dues || !amt) {
            free(dues);
            free(amt);
            return err_set(e, ERR_INTERNAL, "no_memory", NULL, "out of memory");
        }
        snprintf(pr.payment_no, sizeof(pr.payment_no), "(new payment)");
        if (check_allocs(db, a, &pr, p->allocs, p->n_allocs, dues, amt, e) < 0) {
            free(dues);
            free(amt);
            return -1;
        }
    }
    int rc = -1;
    int64_t pay_seq, rec_seq, made = 0;
    int y = atoi(p->received_on);
    char day[11], at[32], receipt_id[UUID_STR_LEN], receipt_no[32], memo[200];
    sp_today(day);
    now_iso(at);
    uuid_v7(receipt_id);
    int ry = atoi(day);
    if (spons_next_no_tx(db, a->org_id, "payment", y, &pay_seq, e) < 0 ||
        spons_next_no_tx(db, a->org_id, "receipt", ry, &rec_seq, e) < 0) {
        goto out;
    }
    snprintf(pr.payment_no, sizeof(pr.payment_no), "P-%04d-%06lld", y, (long long)pay_seq);
    snprintf(receipt_no, sizeof(receipt_no), "R-%04d-%06lld", ry, (long long)rec_seq);
    snprintf(memo, sizeof(memo), "payment %s (receipt %s) by %s", pr.payment_no, receipt_no,
             p->method);
    const char *account = payment_account_of(p->method);
    struct ledger_line lines[3] = {
        {.account = account,
         .fund = FUND_SPONSORSHIP,
         .currency = p->currency,
         .amount = amount - fee,
         .donor_id = payer},
        {.account = ACCT_ADVANCES,
         .fund = FUND_SPONSORSHIP,
         .currency = p->currency,
         .amount = -amount,
         .donor_id = payer},
        {.account = ACCT_FEES,
         .fund = FUND_SPONSORSHIP,
         .currency = p->currency,
         .amount = fee,
         .donor_id = payer,
         .memo = "fee"},
    };
    struct ledger_entry en = {.date = p->received_on,
                              .memo = memo,
                              .source_kind = "payment",
                              .source_id = pr.id,
                              .lines = lines,
                              .n_lines = fee > 0 ? 3 : 2};
    if (ledger_post_tx(db, a, &en, pr.entry_id, e) < 0) {
        goto out;
    }
    const char *ext = p->external_ref && *p->external_ref ? p->external_ref : NULL;
    const char *ref = p->reference && *p->reference ? p->reference : NULL;
    if (db_run(db, e,
               "INSERT INTO payments (id, org_id, payment_no, donor_id, amount, fee, currency,"
               " method, received_on, reference, external_ref, unallocated, status, entry_id,"
               " bank_line_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
               " $9, $10, $11, $12, 'recorded', $13, $14, $15, $16)",
               "ttttiitttttitttt", pr.id, a->org_id, pr.payment_no, payer, amount, fee, p->currency,
               p->method, p->received_on, ref, ext, amount, pr.entry_id, p->bank_line_id, sp_who(a),
               at) < 0) {
        if (strcmp(e->code, "unique_violation") == 0) {
            err_set(e, ERR_CONFLICT, ext ? "external_ref_used" : "payment_number_used",
                    ext ? "external_ref" : "payment_no",
                    ext ? "this transaction was already recorded"
                        : "payment number %s is already used",
                    pr.payment_no);
        }
        goto out;
    }
    if (db_run(db, e,
               "INSERT INTO receipts (id, org_id, year, seq, receipt_no, payment_id, donor_id,"
               " amount, currency, issued_on, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
               " $9, $10, $11)",
               "ttiitttittt", receipt_id, a->org_id, (int64_t)ry, rec_seq, receipt_no, pr.id, payer,
               amount, p->currency, day, at) < 0) {
        if (strcmp(e->code, "unique_violation") == 0) {
            err_set(e, ERR_CONFLICT, "receipt_number_used", "receipt_no",
                    "receipt number %s is already used (the receipt counter is out of step);"
                    " nothing was recorded",
                    receipt_no);
        }
        goto out;
    }
    struct closed_cache cache = {.month = ""};
    if (!p->no_allocate) {
        if (p->n_allocs > 0) {
            for (int i = 0; i < p->n_allocs; i++) {
                if (allocate_one(db, a, &cache, &pr, &dues[i], amt[i], e) < 0) {
                    goto out;
                }
                made++;
            }
        } else if (allocate_auto(db, a, &cache, &pr, &made, e) < 0) {
            goto out;
        }
    }
    char amount_text[40], detail[300];
    sp_money_text(amount, p->currency, amount_text, sizeof(amount_text));
    snprintf(detail, sizeof(detail), "%s receipt=%s amount=%s %s method=%s allocations=%lld%s",
             pr.payment_no, receipt_no, amount_text, p->currency, p->method, (long long)made,
             p->bank_line_id ? " bank_line" : "");
    if (actor_audit(db, a, "payment.record", "payment", pr.id, "ok", detail, e) < 0) {
        goto out;
    }
    if (id_out) {
        snprintf(id_out, 40, "%s", pr.id);
    }
    if (receipt_no_out) {
        snprintf(receipt_no_out, 32, "%s", receipt_no);
    }
    rc = 0;
out:
    free(dues);
    free(amt);
    return rc;
}

int payment_record(struct db *db, const struct actor *a, const struct payment_new *p,
                   char id_out[40], char receipt_no_out[32], struct err *e)
{
    if (need_write(a, e) < 0 || db_begin(db, false, e) < 0) {
        return -1;
    }
    if (payment_record_tx(db, a, p, id_out, receipt_no_out, e) < 0) {
        return sp_fail(db);
    }
    return db_commit(db, e);
}

int payment_record_json(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                        char receipt_no_out[32], struct err *e)
{
    static const char *const allowed[] = {"donor_id", "amount",      "fee",       "currency",
                                          "method",   "received_on", "reference", "external_ref",
                                          "allocate", "allocations", NULL};
    if (!json_is_object(input)) {
        return err_set(e, ERR_INVALID, "invalid_body", NULL, "the body must be an object");
    }
    if (json_known_members(input, allowed, e) < 0) {
        return -1;
    }
    struct payment_new p;
    memset(&p, 0, sizeof(p));
    static const char *const names[] = {"donor_id", "amount",      "fee",       "currency",
                                        "method",   "received_on", "reference", "external_ref"};
    const char **dst[] = {&p.donor_id, &p.amount,      &p.fee,       &p.currency,
                          &p.method,   &p.received_on, &p.reference, &p.external_ref};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        json_t *v = json_object_get(input, names[i]);
        if (!v || json_is_null(v)) {
            continue;
        }
        if (!json_is_string(v)) {
            return err_set(e, ERR_INVALID, "invalid_type", names[i], "'%s' must be a string",
                           names[i]);
        }
        *dst[i] = json_string_value(v);
    }
    if (p.amount && !*p.amount) {
        p.amount = NULL;
    }
    json_t *mode = json_object_get(input, "allocate");
    if (mode && json_is_false(mode)) {
        p.no_allocate = true;
    } else if (mode && !json_is_null(mode) && !json_is_true(mode) &&
               !(json_is_string(mode) && strcmp(json_string_value(mode), "auto") == 0)) {
        return err_set(e, ERR_INVALID, "invalid_choice", "allocate",
                       "'allocate' is false or \"auto\"");
    }
    json_t *list = json_object_get(input, "allocations");
    struct alloc_req reqs[ALLOCS_MAX];
    if (list && !json_is_null(list)) {
        if (!json_is_array(list) || json_array_size(list) > ALLOCS_MAX) {
            return err_set(e, ERR_INVALID, "invalid_type", "allocations",
                           "'allocations' is a list of at most %d dues", ALLOCS_MAX);
        }
        size_t i;
        json_t *it;
        json_array_foreach(list, i, it)
        {
            json_t *due = json_object_get(it, "due_id");
            json_t *am = json_object_get(it, "amount");
            if (!json_is_object(it) || !json_is_string(due) ||
                (am && !json_is_null(am) && !json_is_string(am))) {
                return err_set(e, ERR_INVALID, "invalid_type", "allocations",
                               "each allocation is {\"due_id\", \"amount\"}");
            }
            reqs[i].due_id = json_string_value(due);
            reqs[i].amount = json_is_string(am) ? json_string_value(am) : NULL;
        }
        p.allocs = reqs;
        p.n_allocs = (int)json_array_size(list);
    }
    if (!p.amount) {
        return err_set(e, ERR_INVALID, "required", "amount", "'amount' is required");
    }
    return payment_record(db, a, &p, id_out, receipt_no_out, e);
}

int payment_allocate_tx(struct db *db, const struct actor *a, const char *payment_id,
                        const struct alloc_req *reqs, int n, int *n_out, struct err *e)
{
    if (need_write(a, e) < 0) {
        return -1;
    }
    if (n < 0 || (n > 0 && !reqs)) {
        return err_set(e, ERR_INVALID, "invalid_field", "allocations", "bad allocation list");
    }
    struct pay_row p = {0};
    int found = load_payment(db, a->org_id, payment_id ? payment_id : "", &p, e);
    if (found <= 0) {
        return found < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such payment");
    }
    if (strcmp(p.status, "recorded") != 0) {
        return err_set(e, ERR_CONFLICT, "payment_reversed", "id", "the payment was reversed");
    }
    if (n == 0 && p.unallocated <= 0) {
        return err_set(e, ERR_CONFLICT, "nothing_to_allocate", "id",
                       "nothing of the payment is left to allocate");
    }
    if (ledger_ensure_chart(db, a->org_id, e) < 0) {
        return -1;
    }
    int64_t made = 0;
    if (allocate_payment(db, a, &p, reqs, n, &made, e) < 0) {
        return -1;
    }
    char detail[160];
    snprintf(detail, sizeof(detail), "%s allocations=%lld %s", p.payment_no, (long long)made,
             n ? "named" : "auto");
    if (actor_audit(db, a, "payment.allocate", "payment", p.id, "ok", detail, e) < 0) {
        return -1;
    }
    if (n_out) {
        *n_out = (int)made;
    }
    return 0;
}

int payment_allocate(struct db *db, const struct actor *a, const char *payment_id,
                     const struct alloc_req *reqs, int n, int *n_out, struct err *e)
{
    if (need_write(a, e) < 0 || db_begin(db, false, e) < 0) {
        return -1;
    }
    if (payment_allocate_tx(db, a, payment_id, reqs, n, n_out, e) < 0) {
        return sp_fail(db);
    }
    return db_commit(db, e);
}

/* Allocates every unallocated payment of payer (NULL: all) without
 * auditing; adds the allocations made to *made. */
static int advances_run(struct db *db, const struct actor *a, const char *payer, int64_t *made,
                        struct err *e)
{
    /* Payments are read a chunk at a time: each either ends fully
     * allocated or has no open due left, so a keyset on (received_on, id)
     * walks them once. */
    enum { CHUNK = 1000 };
    struct pay_row *rows = calloc(CHUNK, sizeof(*rows));
    if (!rows) {
        return err_set(e, ERR_INTERNAL, "no_memory", NULL, "out of memory");
    }
    char after_day[11] = "", after_id[40] = "";
    struct closed_cache cache = {.month = ""};
    int rc = 0;
    for (;;) {
        struct db_stmt *s =
            payer ? db_query(db, e,
                             "SELECT id, payment_no, donor_id, currency, received_on, amount,"
                             " unallocated FROM payments WHERE org_id = $1 AND status = 'recorded'"
                             " AND unallocated > 0 AND donor_id = $2"
                             " AND (received_on, id) > ($3, $4)"
                             " ORDER BY received_on, id LIMIT $5",
                             "tttti", a->org_id, payer, after_day, after_id, (int64_t)CHUNK)
                  : db_query(db, e,
                             "SELECT id, payment_no, donor_id, currency, received_on, amount,"
                             " unallocated FROM payments WHERE org_id = $1 AND status = 'recorded'"
                             " AND unallocated > 0 AND (received_on, id) > ($2, $3)"
                             " ORDER BY received_on, id LIMIT $4",
                             "ttti", a->org_id, after_day, after_id, (int64_t)CHUNK);
        if (!s) {
            rc = -1;
            break;
        }
        int k = 0;
        while (k < CHUNK && db_step(s, e) == 1) {
            struct pay_row *p = &rows[k++];
            memset(p, 0, sizeof(*p));
            col_copy(s, 0, p->id, sizeof(p->id));
            col_copy(s, 1, p->payment_no, sizeof(p->payment_no));
            col_copy(s, 2, p->donor_id, sizeof(p->donor_id));
            col_copy(s, 3, p->currency, sizeof(p->currency));
            col_copy(s, 4, p->received_on, sizeof(p->received_on));
            snprintf(p->status, sizeof(p->status), "recorded");
            p->amount = db_col_int64(s, 5);
            p->unallocated = db_col_int64(s, 6);
        }
        db_done(s);
        if (err_failed(e)) {
            rc = -1;
            break;
        }
        for (int i = 0; i < k; i++) {
            if (allocate_auto(db, a, &cache, &rows[i], made, e) < 0) {
                rc = -1;
                break;
            }
        }
        if (rc < 0 || k < CHUNK) {
            break;
        }
        snprintf(after_day, sizeof(after_day), "%s", rows[k - 1].received_on);
        snprintf(after_id, sizeof(after_id), "%s", rows[k - 1].id);
    }
    free(rows);
    return rc;
}

int allocate_advances_tx(struct db *db, const struct actor *a, const char *payer_id, int64_t *n_out,
                         struct err *e)
{
    if (need_write(a, e) < 0 || ledger_ensure_chart(db, a->org_id, e) < 0) {
        return -1;
    }
    int64_t made = 0;
    if (advances_run(db, a, payer_id && *payer_id ? payer_id : NULL, &made, e) < 0) {
        return -1;
    }
    char detail[120];
    snprintf(detail, sizeof(detail), "allocations=%lld%s", (long long)made,
             payer_id && *payer_id ? " payer" : "");
    if (actor_audit(db, a, "payment.allocate_advances", payer_id && *payer_id ? "donor" : NULL,
                    payer_id && *payer_id ? payer_id : NULL, "ok", detail, e) < 0) {
        return -1;
    }
    if (n_out) {
        *n_out = made;
    }
    return 0;
}

int allocate_advances(struct db *db, const struct actor *a, const char *payer_id, int64_t *n_out,
                      struct err *e)
{
    if (need_write(a, e) < 0 || db_begin(db, false, e) < 0) {
        return -1;
    }
    big_cache(db, true);
    int rc = allocate_advances_tx(db, a, payer_id, n_out, e) < 0 ? sp_fail(db) : db_commit(db, e);
    big_cache(db, false);
    return rc;
}

int payment_reverse_tx(struct db *db, const struct actor *a, const char *payment_id,
                       const char *reason, struct err *e)
{
    if (need_write(a, e) < 0) {
        return -1;
    }
    if (!reason || text_blank(reason)) {
        return err_set(e, ERR_INVALID, "required", "reason", "say why the payment is reversed");
    }
    if (sp_check_text(reason, "reason", REASON_MAX, false, false, e) < 0) {
        return -1;
    }
    struct pay_row p;
    int found = load_payment(db, a->org_id, payment_id ? payment_id : "", &p, e);
    if (found <= 0) {
        return found < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such payment");
    }
    if (strcmp(p.status, "recorded") != 0) {
        return err_set(e, ERR_CONFLICT, "already_reversed", "id", "payment %s was already reversed",
                       p.payment_no);
    }
    /* Take the payment first: the conditional update holds its row (and, on
     * SQLite, the write lock) so that no other reversal, allocation or payout
     * list can move its money while this one runs. */
    int64_t taken = db_run(db, e,
                           "UPDATE payments SET status = 'reversed' WHERE id = $1"
                           " AND status = 'recorded'",
                           "t", p.id);
    if (taken < 0) {
        return -1;
    }
    if (taken == 0) {
        return err_set(e, ERR_CONFLICT, "already_reversed", "id", "payment %s was already reversed",
                       p.payment_no);
    }
    int busy;
    struct db_stmt *s = db_row(db, e, &busy,
                               "SELECT 1 FROM payment_allocations WHERE payment_id = $1"
                               " AND disbursement_line_id IS NOT NULL",
                               "t", p.id);
    if (busy < 0) {
        return -1;
    }
    if (s) {
        db_done(s);
        return err_set(e, ERR_CONFLICT, "already_disbursed", "id",
                       "part of payment %s was already passed on to a guardian", p.payment_no);
    }
    char memo[200], rev[40], at[32];
    now_iso(at);
    snprintf(memo, sizeof(memo), "reversal of payment %s", p.payment_no);
    /* The allocations are read first: reversing posts entries while the
     * list would otherwise still be open. */
    struct alloc_rev {
        char entry_id[40]; /* the allocation's entry */
        char due_id[40];   /* its due */
        int64_t amount;    /* minor units */
    } *allocs = NULL;
    size_t n = 0, cap = 0;
    s = db_query(db, e,
                 "SELECT entry_id, due_id, amount FROM payment_allocations WHERE payment_id = $1"
                 " ORDER BY id",
                 "t", p.id);
    if (!s) {
        return -1;
    }
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            struct alloc_rev *grown = realloc(allocs, cap * sizeof(*allocs));
            if (!grown) {
                db_done(s);
                free(allocs);
                return err_set(e, ERR_INTERNAL, "no_memory", NULL, "out of memory");
            }
            allocs = grown;
        }
        col_copy(s, 0, allocs[n].entry_id, sizeof(allocs[n].entry_id));
        col_copy(s, 1, allocs[n].due_id, sizeof(allocs[n].due_id));
        allocs[n].amount = db_col_int64(s, 2);
        n++;
    }
    db_done(s);
    if (rc < 0) {
        free(allocs);
        return -1;
    }
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if ((allocs[i].entry_id[0] &&
             ledger_reverse_tx(db, a, allocs[i].entry_id, NULL, memo, rev, e) < 0) ||
            db_run(db, e,
                   "UPDATE sponsorship_dues SET paid = paid - $1,"
                   " status = CASE WHEN paid - $1 <= 0 THEN 'open' ELSE 'partial' END"
                   " WHERE id = $2",
                   "it", allocs[i].amount, allocs[i].due_id) < 0) {
            rc = -1;
        }
    }
    free(allocs);
    char detail[200];
    snprintf(detail, sizeof(detail), "%s allocations_undone=%zu", p.payment_no, n);
    /* Only allocations not claimed by a payout list may go; a list made
     * meanwhile (it claims with disbursement_line_id) makes the count differ
     * and the whole reversal is refused. */
    int64_t gone = rc < 0 ? -1
                          : db_run(db, e,
                                   "DELETE FROM payment_allocations WHERE payment_id = $1"
                                   " AND disbursement_line_id IS NULL",
                                   "t", p.id);
    if (gone >= 0 && (size_t)gone != n) {
        return err_set(e, ERR_CONFLICT, "already_disbursed", "id",
                       "part of payment %s was just put on a payout list", p.payment_no);
    }
    if (gone < 0 ||
        (p.entry_id[0] && ledger_reverse_tx(db, a, p.entry_id, NULL, memo, rev, e) < 0) ||
        db_run(db, e, "UPDATE payments SET unallocated = 0 WHERE id = $1", "t", p.id) < 0 ||
        db_run(db, e,
               "UPDATE receipts SET voided_at = $1, void_reason = $2 WHERE payment_id = $3"
               " AND voided_at IS NULL",
               "ttt", at, reason, p.id) < 0 ||
        actor_audit(db, a, "payment.reverse", "payment", p.id, "ok", detail, e) < 0) {
        return -1;
    }
    return 0;
}

int payment_reverse(struct db *db, const struct actor *a, const char *payment_id,
                    const char *reason, struct err *e)
{
    if (need_write(a, e) < 0 || db_begin(db, false, e) < 0) {
        return -1;
    }
    if (payment_reverse_tx(db, a, payment_id, reason, e) < 0) {
        return sp_fail(db);
    }
    return db_commit(db, e);
}

/* ---- dues -------------------------------------------------------------- */

/* One agreement to bill, as read from sponsorships. */
struct ag_row {
    char id[40];           /* sponsorships.id */
    char agreement_no[32]; /* S-YYYY-NNNNN */
    char payer_id[40];     /* who pays */
    char donor_id[40];     /* the sponsor */
    char child_id[40];     /* the child */
    char currency[4];      /* ISO 4217 */
    char frequency[16];    /* SP_FREQUENCIES */
    char purpose[16];      /* SP_PURPOSES */
    char start_date[11];   /* YYYY-MM-DD */
    char end_date[11];     /* YYYY-MM-DD or "" */
    char next_due[11];     /* YYYY-MM-DD */
    int64_t amount;        /* minor units per period */
};

/* A pause as loaded, with its agreement. */
struct pause_row {
    char sponsorship_id[40]; /* the agreement */
    struct sched_pause p;    /* the paused days */
};

/* qsort/bsearch order of pause rows by agreement id. */
static int pause_cmp(const void *x, const void *y)
{
    return strcmp(((const struct pause_row *)x)->sponsorship_id,
                  ((const struct pause_row *)y)->sponsorship_id);
}

/* Loads every pause of org's agreements, sorted by agreement id (in C, so
 * the order does not depend on the database's collation). */
static int load_pauses(struct db *db, const char *org_id, struct pause_row **out, size_t *n_out,
                       struct err *e)
{
    struct db_stmt *s = db_query(db, e,
                                 "SELECT p.sponsorship_id, p.from_date, p.to_date"
                                 " FROM sponsorship_pauses p JOIN sponsorships s"
                                 " ON s.id = p.sponsorship_id WHERE s.org_id = $1",
                                 "t", org_id);
    if (!s) {
        return -1;
    }
    struct pause_row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            struct pause_row *grown = realloc(rows, cap * sizeof(*rows));
            if (!grown) {
                rc = err_set(e, ERR_INTERNAL, "no_memory", NULL, "out of memory");
                break;
            }
            rows = grown;
        }
        col_copy(s, 0, rows[n].sponsorship_id, sizeof(rows[n].sponsorship_id));
        col_copy(s, 1, rows[n].p.from, sizeof(rows[n].p.from));
        col_copy(s, 2, rows[n].p.to, sizeof(rows[n].p.to));
        n++;
    }
    db_done(s);
    if (rc < 0) {
        free(rows);
        return -1;
    }
    if (n > 1) {
        qsort(rows, n, sizeof(*rows), pause_cmp);
    }
    *out = rows;
    *n_out = n;
    return 0;
}

/* The pauses of agreement id in the sorted rows: *first and the count. */
static int pauses_of(const struct pause_row *rows, size_t n, const char *id,
                     struct sched_pause *buf, int max)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(rows[mid].sponsorship_id, id) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    int k = 0;
    for (size_t i = lo; i < n && k < max && strcmp(rows[i].sponsorship_id, id) == 0; i++) {
        buf[k++] = rows[i].p;
    }
    return k;
}

/* The accounting date of a due: its date, or today when that month is closed. */
static int due_post_date(struct db *db, const char *org_id, struct closed_cache *c,
                         const char *due_date, char out[11], struct err *e)
{
    int closed = month_closed(db, org_id, c, due_date, e);
    if (closed < 0) {
        return -1;
    }
    if (closed) {
        sp_today(out);
    } else {
        snprintf(out, 11, "%.10s", due_date);
    }
    return 0;
}

/* Generates the dues of one agreement through `through`. */
static int bill_agreement(struct db *db, const struct actor *a, const struct ag_row *ag,
                          const struct pause_row *pauses, size_t n_pauses,
                          struct closed_cache *cache, const char *through, const char *at,
                          struct dues_result *res, struct err *e)
{
    const char *fund = sponsorship_fund_of(ag->purpose);
    if (!fund) {
        return err_set(e, ERR_INVALID, "invalid_choice", "purpose",
                       "agreement %s has an unknown purpose '%s'", ag->agreement_no, ag->purpose);
    }
    struct sched_pause mine[SP_MAX_PAUSES];
    int n_mine = pauses_of(pauses, n_pauses, ag->id, mine, SP_MAX_PAUSES);
    char next[11];
    snprintf(next, sizeof(next), "%s", ag->next_due);
    struct sched_period periods[PERIODS_MAX];
    for (;;) {
        struct sched_agreement sa = {.start_date = ag->start_date,
                                     .end_date = ag->end_date[0] ? ag->end_date : NULL,
                                     .frequency = ag->frequency,
                                     .next_due = next,
                                     .pauses = mine,
                                     .n_pauses = n_mine};
        char after[11];
        int n = sched_periods(&sa, through, periods, PERIODS_MAX, after, e);
        if (n < 0) {
            snprintf(e->msg, sizeof(e->msg), "agreement %s: %s", ag->agreement_no, e->field);
            return -1;
        }
        for (int i = 0; i < n; i++) {
            char id[UUID_STR_LEN], date[11], entry_id[40], memo[120];
            uuid_v7(id);
            if (due_post_date(db, a->org_id, cache, periods[i].start, date, e) < 0) {
                return -1;
            }
            snprintf(memo, sizeof(memo), "due %.31s %.10s", ag->agreement_no, periods[i].start);
            struct ledger_line lines[2] = {
                {.account = ACCT_RECEIVABLE,
                 .fund = fund,
                 .currency = ag->currency,
                 .amount = ag->amount,
                 .donor_id = ag->payer_id,
                 .child_id = ag->child_id,
                 .sponsorship_id = ag->id},
                {.account = ACCT_INCOME_SPONSOR,
                 .fund = fund,
                 .currency = ag->currency,
                 .amount = -ag->amount,
                 .donor_id = ag->payer_id,
                 .child_id = ag->child_id,
                 .sponsorship_id = ag->id},
            };
            struct ledger_entry en = {.date = date,
                                      .memo = memo,
                                      .source_kind = "due",
                                      .source_id = id,
                                      .lines = lines,
                                      .n_lines = 2};
            if (ledger_post_tx(db, a, &en, entry_id, e) < 0) {
                return -1;
            }
            if (db_run(db, e,
                       "INSERT INTO sponsorship_dues (id, org_id, sponsorship_id, donor_id,"
                       " payer_id, child_id, period_start, period_end, due_date, amount, currency,"
                       " fund, paid, status, entry_id, created_at) VALUES ($1, $2, $3, $4, $5, $6,"
                       " $7, $8, $9, $10, $11, $12, 0, 'open', $13, $14)",
                       "tttttttttitttt", id, a->org_id, ag->id, ag->donor_id, ag->payer_id,
                       ag->child_id, periods[i].start, periods[i].end, periods[i].start, ag->amount,
                       ag->currency, fund, entry_id, at) < 0) {
                if (strcmp(e->code, "unique_violation") == 0) {
                    err_set(e, ERR_CONFLICT, "dues_running", "through",
                            "the due of %s for %s exists already (another run?); run again",
                            ag->agreement_no, periods[i].start);
                }
                return -1;
            }
            res->n_dues++;
        }
        snprintf(next, sizeof(next), "%s", after);
        if (n < PERIODS_MAX) {
            break;
        }
    }
    if (db_run(db, e, "UPDATE sponsorships SET next_due = $1 WHERE id = $2", "tt", next, ag->id) <
        0) {
        return -1;
    }
    res->n_agreements++;
    return 0;
}

/* One due being cancelled. */
struct cancel_due {
    char id[40];       /* sponsorship_dues.id */
    char entry_id[40]; /* its entry, "" when none */
    int64_t paid;      /* allocated to it so far */
};

/* Gives the allocations of due back to their payments as advances: each
 * allocation's entry reversed, the allocation removed, the payment's
 * unallocated amount raised. Returns 0 or -1. */
static int due_release_allocations(struct db *db, const struct actor *a, const char *due_id,
                                   struct err *e)
{
    struct db_stmt *s = db_query(db, e,
                                 "SELECT id, payment_id, amount, entry_id FROM payment_allocations"
                                 " WHERE due_id = $1 ORDER BY id",
                                 "t", due_id);
    if (!s) {
        return -1;
    }
    struct rel {
        char id[40], payment_id[40], entry_id[40];
        int64_t amount;
    } *rels = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            rels = xrealloc(rels, xmul(cap, sizeof(*rels)));
        }
        col_copy(s, 0, rels[n].id, sizeof(rels[n].id));
        col_copy(s, 1, rels[n].payment_id, sizeof(rels[n].payment_id));
        rels[n].amount = db_col_int64(s, 2);
        col_copy(s, 3, rels[n].entry_id, sizeof(rels[n].entry_id));
        n++;
    }
    db_done(s);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char rev[40];
        int64_t gone;
        if ((rels[i].entry_id[0] &&
             ledger_reverse_tx(db, a, rels[i].entry_id, NULL,
                               "due cancelled: money back to advance", rev, e) < 0) ||
            (gone = db_run(db, e,
                           "DELETE FROM payment_allocations WHERE id = $1"
                           " AND disbursement_line_id IS NULL",
                           "t", rels[i].id)) < 0 ||
            db_run(db, e, "UPDATE payments SET unallocated = unallocated + $1 WHERE id = $2", "it",
                   rels[i].amount, rels[i].payment_id) < 0) {
            rc = -1;
        } else if (gone != 1) {
            rc = err_set(e, ERR_CONFLICT, "due_passed_on", "end_date",
                         "money of a period after this date was already put on a payout list");
        }
    }
    free(rels);
    return rc;
}

int dues_cancel_tx(struct db *db, const struct actor *a, const char *sponsorship_id,
                   const char *from, const char *to, int64_t *n_out, struct err *e)
{
    if (n_out) {
        *n_out = 0;
    }
    struct db_stmt *s =
        to ? db_query(db, e,
                      "SELECT id, entry_id, paid FROM sponsorship_dues WHERE sponsorship_id = $1"
                      " AND status <> 'cancelled' AND period_start >= $2 AND period_start <= $3"
                      " ORDER BY period_start",
                      "ttt", sponsorship_id, from, to)
           : db_query(db, e,
                      "SELECT id, entry_id, paid FROM sponsorship_dues WHERE sponsorship_id = $1"
                      " AND status <> 'cancelled' AND period_start >= $2 ORDER BY period_start",
                      "tt", sponsorship_id, from);
    if (!s) {
        return -1;
    }
    struct cancel_due *dues = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            dues = xrealloc(dues, xmul(cap, sizeof(*dues)));
        }
        col_copy(s, 0, dues[n].id, sizeof(dues[n].id));
        col_copy(s, 1, dues[n].entry_id, sizeof(dues[n].entry_id));
        dues[n].paid = db_col_int64(s, 2);
        n++;
    }
    db_done(s);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char rev[40];
        if ((dues[i].paid > 0 && due_release_allocations(db, a, dues[i].id, e) < 0) ||
            (dues[i].entry_id[0] &&
             ledger_reverse_tx(db, a, dues[i].entry_id, NULL, "due cancelled", rev, e) < 0) ||
            db_run(db, e,
                   "UPDATE sponsorship_dues SET status = 'cancelled', paid = 0 WHERE id = $1", "t",
                   dues[i].id) < 0) {
            rc = -1;
        }
    }
    free(dues);
    if (rc == 0 && n > 0) {
        char detail[120];
        snprintf(detail, sizeof(detail), "from=%s to=%s dues=%zu", from, to ? to : "", n);
        rc = actor_audit(db, a, "dues.cancel", "sponsorship", sponsorship_id, "ok", detail, e);
    }
    if (rc == 0 && n_out) {
        *n_out = (int64_t)n;
    }
    return rc;
}

int dues_generate_tx(struct db *db, const struct actor *a, const char *through,
                     struct dues_result *out, struct err *e)
{
    struct dues_result res = {0};
    if (need_write(a, e) < 0) {
        return -1;
    }
    if (!through || !sp_date_ok(through)) {
        return err_set(e, ERR_INVALID, "invalid_date", "through", "'through' is not a date");
    }
    /* Dues may be billed a month ahead, never further: a mistyped year would
     * otherwise post decades of receivables and income. */
    {
        int ty, tm, td, y, m, d;
        time_today(&ty, &tm, &td);
        time_date_parse(through, &y, &m, &d);
        if (time_days_from_civil(y, m, d) > time_days_from_civil(ty, tm, td) + 31) {
            return err_set(e, ERR_INVALID, "through_in_future", "through",
                           "'through' may be at most 31 days after today");
        }
    }
    if (ledger_ensure_chart(db, a->org_id, e) < 0) {
        return -1;
    }
    struct pause_row *pauses = NULL;
    size_t n_pauses = 0;
    if (load_pauses(db, a->org_id, &pauses, &n_pauses, e) < 0) {
        return -1;
    }
    struct ag_row *rows = calloc(DUES_CHUNK, sizeof(*rows));
    if (!rows) {
        free(pauses);
        return err_set(e, ERR_INTERNAL, "no_memory", NULL, "out of memory");
    }
    struct closed_cache cache = {.month = ""};
    char at[32];
    now_iso(at);
    int rc = 0;
    /* Each round reads agreements still behind `through`; billing them
     * moves their next_due past it (or past their end), so the same query
     * returns the next ones until none are left. */
    for (;;) {
        struct db_stmt *s = db_query(
            db, e,
            "SELECT id, agreement_no, payer_id, donor_id, child_id, currency, frequency, purpose,"
            " start_date, end_date, next_due, amount FROM sponsorships"
            " WHERE org_id = $1 AND status IN ('active', 'paused', 'ended') AND next_due <= $2"
            " AND (end_date IS NULL OR next_due <= end_date) LIMIT $3",
            "tti", a->org_id, through, (int64_t)DUES_CHUNK);
        if (!s) {
            rc = -1;
            break;
        }
        int k = 0;
        while (k < DUES_CHUNK && db_step(s, e) == 1) {
            struct ag_row *r = &rows[k++];
            col_copy(s, 0, r->id, sizeof(r->id));
            col_copy(s, 1, r->agreement_no, sizeof(r->agreement_no));
            col_copy(s, 2, r->payer_id, sizeof(r->payer_id));
            col_copy(s, 3, r->donor_id, sizeof(r->donor_id));
            col_copy(s, 4, r->child_id, sizeof(r->child_id));
            col_copy(s, 5, r->currency, sizeof(r->currency));
            col_copy(s, 6, r->frequency, sizeof(r->frequency));
            col_copy(s, 7, r->purpose, sizeof(r->purpose));
            col_copy(s, 8, r->start_date, sizeof(r->start_date));
            col_copy(s, 9, r->end_date, sizeof(r->end_date));
            col_copy(s, 10, r->next_due, sizeof(r->next_due));
            r->amount = db_col_int64(s, 11);
        }
        db_done(s);
        if (err_failed(e)) {
            rc = -1;
            break;
        }
        for (int i = 0; i < k; i++) {
            if (bill_agreement(db, a, &rows[i], pauses, n_pauses, &cache, through, at, &res, e) <
                0) {
                rc = -1;
                break;
            }
        }
        if (rc < 0 || k < DUES_CHUNK) {
            break;
        }
    }
    free(rows);
    free(pauses);
    if (rc < 0 || advances_run(db, a, NULL, &res.n_allocated, e) < 0 ||
        arrears_alert_tx(db, a, through, &res.n_alerts, e) < 0) {
        return -1;
    }
    char detail[200];
    snprintf(detail, sizeof(detail),
             "through=%s dues=%lld agreements=%lld allocations=%lld alerts=%lld", through,
             (long long)res.n_dues, (long long)res.n_agreements, (long long)res.n_allocated,
             (long long)res.n_alerts);
    if (actor_audit(db, a, "dues.generate", "organization", a->org_id, "ok", detail, e) < 0) {
        return -1;
    }
    if (out) {
        *out = res;
    }
    return 0;
}

int dues_generate(struct db *db, const struct actor *a, const char *through,
                  struct dues_result *out, struct err *e)
{
    if (need_write(a, e) < 0 || db_begin(db, false, e) < 0) {
        return -1;
    }
    big_cache(db, true);
    int rc = dues_generate_tx(db, a, through, out, e) < 0 ? sp_fail(db) : db_commit(db, e);
    big_cache(db, false);
    return rc;
}

/* ---- arrears alerts ------------------------------------------------------ */

/* A payer late on two periods or more in one currency. */
struct late_row {
    char payer_id[40]; /* the payer */
    char donor_no[16]; /* D-000001 */
    char name[256];    /* the payer's name */
    char currency[4];  /* ISO 4217 */
    char oldest[11];   /* the oldest unpaid due date */
    int64_t n_periods; /* the most late dues of one agreement of the payer */
    int64_t amount;    /* minor units unpaid */
};

/* An open alert: payer and currency, and its id. */
struct open_alert {
    char key[48]; /* payer id, a space, currency */
    char id[40];  /* billing_arrears_alerts.id */
    bool late;    /* the payer is still two periods late */
};

/* qsort/bsearch order of open alerts by key. */
static int alert_cmp(const void *x, const void *y)
{
    return strcmp(((const struct open_alert *)x)->key, ((const struct open_alert *)y)->key);
}

/* The payers late on two periods or more of one agreement before as_of, by
 * payer and currency: one grouped pass over the late dues. */
static const char late_sql[] =
    "SELECT x.payer_id, dn.donor_no, dn.name, x.currency, MIN(x.oldest), MAX(x.n),"
    " CAST(SUM(x.amount) AS BIGINT) FROM (SELECT payer_id, currency, sponsorship_id,"
    " MIN(due_date) AS oldest, COUNT(*) AS n, SUM(amount - paid) AS amount"
    " FROM sponsorship_dues WHERE org_id = $1 AND status IN ('open', 'partial')"
    " AND due_date < $2 GROUP BY payer_id, currency, sponsorship_id) x"
    " JOIN donors dn ON dn.id = x.payer_id"
    " GROUP BY x.payer_id, dn.donor_no, dn.name, x.currency HAVING MAX(x.n) >= 2";

int arrears_alert_tx(struct db *db, const struct actor *a, const char *as_of, int64_t *n_out,
                     struct err *e)
{
    if (!sp_date_ok(as_of)) {
        return err_set(e, ERR_INVALID, "invalid_date", "as_of", "'as_of' is not a date");
    }
    char at[32], day[11];
    now_iso(at);
    sp_today(day);
    /* The open alerts, sorted, to tell new episodes from running ones and
     * to clear those whose payer caught up. */
    struct open_alert *open = NULL;
    size_t n_open = 0, cap_open = 0;
    struct db_stmt *s = db_query(db, e,
                                 "SELECT payer_id, currency, id FROM billing_arrears_alerts"
                                 " WHERE org_id = $1 AND cleared_on IS NULL",
                                 "t", a->org_id);
    if (!s) {
        return -1;
    }
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        if (n_open == cap_open) {
            cap_open = cap_open ? cap_open * 2 : 64;
            struct open_alert *grown = realloc(open, cap_open * sizeof(*open));
            if (!grown) {
                rc = err_set(e, ERR_INTERNAL, "no_memory", NULL, "out of memory");
                break;
            }
            open = grown;
        }
        snprintf(open[n_open].key, sizeof(open[n_open].key), "%.40s %.3s", db_col_text(s, 0),
                 db_col_text(s, 1));
        col_copy(s, 2, open[n_open].id, sizeof(open[n_open].id));
        open[n_open].late = false;
        n_open++;
    }
    db_done(s);
    if (rc < 0) {
        free(open);
        return -1;
    }
    if (n_open > 1) {
        qsort(open, n_open, sizeof(*open), alert_cmp);
    }
    s = db_query(db, e, late_sql, "tt", a->org_id, as_of);
    if (!s) {
        free(open);
        return -1;
    }
    struct late_row *rows = NULL;
    size_t n = 0, cap = 0;
    while ((rc = db_step(s, e)) == 1) {
        struct open_alert probe = {0};
        snprintf(probe.key, sizeof(probe.key), "%.40s %.3s", db_col_text(s, 0), db_col_text(s, 3));
        struct open_alert *hit =
            n_open ? bsearch(&probe, open, n_open, sizeof(*open), alert_cmp) : NULL;
        if (hit) {
            hit->late = true;
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct late_row *grown = realloc(rows, cap * sizeof(*rows));
            if (!grown) {
                rc = err_set(e, ERR_INTERNAL, "no_memory", NULL, "out of memory");
                break;
            }
            rows = grown;
        }
        struct late_row *r = &rows[n++];
        col_copy(s, 0, r->payer_id, sizeof(r->payer_id));
        col_copy(s, 1, r->donor_no, sizeof(r->donor_no));
        col_copy(s, 2, r->name, sizeof(r->name));
        col_copy(s, 3, r->currency, sizeof(r->currency));
        col_copy(s, 4, r->oldest, sizeof(r->oldest));
        r->n_periods = db_col_int64(s, 5);
        r->amount = db_col_int64(s, 6);
    }
    db_done(s);
    rc = rc < 0 ? -1 : 0;
    for (size_t i = 0; i < n_open && rc == 0; i++) {
        if (!open[i].late &&
            db_run(db, e, "UPDATE billing_arrears_alerts SET cleared_on = $1 WHERE id = $2", "tt",
                   as_of, open[i].id) < 0) {
            rc = -1;
        }
    }
    free(open);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char task_id[40], id[UUID_STR_LEN], title[400], amount[40];
        sp_money_text(rows[i].amount, rows[i].currency, amount, sizeof(amount));
        /* Task titles are stored text: both languages, so every reader
         * understands it. */
        snprintf(title, sizeof(title), "متأخرات / Arrears: %s %.120s — %lld (%s %s)",
                 rows[i].donor_no, rows[i].name, (long long)rows[i].n_periods, amount,
                 rows[i].currency);
        uuid_v7(id);
        if (task_create_tx(db, a, NULL, NULL, "sponsorship_officer", "arrears", title, day, false,
                           task_id, e) < 0 ||
            db_run(db, e,
                   "INSERT INTO billing_arrears_alerts (id, org_id, payer_id, currency, oldest_due,"
                   " n_periods, amount, task_id, raised_on, created_at) VALUES ($1, $2, $3, $4,"
                   " $5, $6, $7, $8, $9, $10)",
                   "tttttiittt", id, a->org_id, rows[i].payer_id, rows[i].currency, rows[i].oldest,
                   rows[i].n_periods, rows[i].amount, task_id, as_of, at) < 0) {
            rc = -1;
        }
    }
    free(rows);
    if (rc == 0 && n_out) {
        *n_out = (int64_t)n;
    }
    return rc;
}

/* ---- reading ----------------------------------------------------------- */

/* Checks a page and page size into *limit and *offset. */
static int paging(int page, int per_page, int max, int64_t *limit, int64_t *offset, struct err *e)
{
    if (page < 1 || page > 1000000) {
        return err_set(e, ERR_INVALID, "invalid_parameter", "page", "'page' is out of range");
    }
    if (per_page < 1 || per_page > max) {
        return err_set(e, ERR_INVALID, "invalid_parameter", "per_page",
                       "'per_page' is out of range");
    }
    *limit = per_page;
    *offset = (int64_t)(page - 1) * per_page;
    return 0;
}

/* Appends " AND <clause>" with the next placeholder number to sql and
 * records the value; clause holds one "$%d". */
struct where {
    struct buf sql;       /* the WHERE clause so far */
    const char *vals[12]; /* bound values, $1.. */
    int n;                /* their number */
};

/* Adds clause (with one %d for its placeholder) bound to v. */
static void where_add(struct where *w, const char *clause, const char *v)
{
    w->vals[w->n++] = v;
    buf_adds(&w->sql, " AND ");
    buf_addf(&w->sql, clause, w->n);
}

/* Binds w's values, then limit and offset, to s. */
static void where_bind(struct db_stmt *s, const struct where *w, int64_t limit, int64_t offset)
{
    for (int i = 0; i < w->n; i++) {
        db_bind_text(s, i + 1, w->vals[i]);
    }
    if (limit >= 0) {
        db_bind_int64(s, w->n + 1, limit);
        db_bind_int64(s, w->n + 2, offset);
    }
}

/* Runs SELECT COUNT(*) of `from` + w into *total. */
static int where_count(struct db *db, const char *from, const struct where *w, int64_t *total,
                       struct err *e)
{
    struct buf q = BUF_INIT;
    buf_addf(&q, "SELECT COUNT(*) %s%s", from, w->sql.buf);
    struct db_stmt *s = db_prepare(db, q.buf, e);
    buf_release(&q);
    if (!s) {
        return -1;
    }
    where_bind(s, w, -1, 0);
    int rc = db_step(s, e);
    *total = rc == 1 ? db_col_int64(s, 0) : 0;
    db_done(s);
    return rc < 0 ? -1 : 0;
}

json_t *dues_list(struct db *db, const struct actor *a, const struct dues_filter *f, struct err *e)
{
    int64_t limit = 0, offset = 0;
    if (need_read(a, e) < 0 || paging(f->page, f->per_page, 500, &limit, &offset, e) < 0) {
        return NULL;
    }
    if ((f->from && !sp_date_ok(f->from)) || (f->to && !sp_date_ok(f->to))) {
        return err_set(e, ERR_INVALID, "invalid_date",
                       f->from && !sp_date_ok(f->from) ? "from" : "to", "not a date"),
               NULL;
    }
    if (f->status && strcmp(f->status, "unpaid") != 0 &&
        !text_word_in(" open partial paid cancelled ", f->status)) {
        return err_set(e, ERR_INVALID, "invalid_choice", "status", "'%s' is not a status",
                       f->status),
               NULL;
    }
    struct where w = {.sql = BUF_INIT};
    /* With a narrower filter the organization's term is written so that no
     * index serves it: SQLite would otherwise walk the organization's dues
     * in date order instead of the payer's (or agreement's, child's). */
    bool narrow = f->payer_id || f->sponsorship_id || f->child_id;
    where_add(&w, narrow ? "d.org_id || '' = $%d" : "d.org_id = $%d", a->org_id);
    if (f->payer_id) {
        where_add(&w, "d.payer_id = $%d", f->payer_id);
    }
    if (f->sponsorship_id) {
        where_add(&w, "d.sponsorship_id = $%d", f->sponsorship_id);
    }
    if (f->child_id) {
        where_add(&w, "d.child_id = $%d", f->child_id);
    }
    if (f->status && strcmp(f->status, "unpaid") == 0) {
        buf_adds(&w.sql, " AND d.status IN ('open', 'partial')");
    } else if (f->status) {
        where_add(&w, "d.status = $%d", f->status);
    }
    if (f->from) {
        where_add(&w, "d.due_date >= $%d", f->from);
    }
    if (f->to) {
        where_add(&w, "d.due_date <= $%d", f->to);
    }
    /* " AND " joined: the first one starts the WHERE. */
    const char *cond = w.sql.buf + 5;
    struct buf from = BUF_INIT;
    buf_addf(&from, "FROM sponsorship_dues d WHERE %s", cond);
    struct where none = {.sql = BUF_INIT, .n = w.n};
    memcpy(none.vals, w.vals, sizeof(w.vals));
    int64_t total = 0;
    json_t *items = NULL;
    if (where_count(db, from.buf, &none, &total, e) < 0) {
        goto out;
    }
    struct buf q = BUF_INIT;
    buf_addf(&q,
             "SELECT d.id, d.sponsorship_id, s.agreement_no, d.payer_id, p.donor_no, p.name,"
             " d.donor_id, d.child_id, c.file_no, d.period_start, d.period_end, d.due_date,"
             " d.amount, d.paid, d.currency, d.fund, d.status, d.entry_id"
             " FROM sponsorship_dues d JOIN sponsorships s ON s.id = d.sponsorship_id"
             " JOIN donors p ON p.id = d.payer_id LEFT JOIN children c ON c.id = d.child_id"
             " WHERE %s ORDER BY d.due_date, s.agreement_no LIMIT $%d OFFSET $%d",
             cond, w.n + 1, w.n + 2);
    struct db_stmt *s = db_prepare(db, q.buf, e);
    buf_release(&q);
    if (!s) {
        goto out;
    }
    where_bind(s, &w, limit, offset);
    items = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        static const char *const cols[] = {"id",           "sponsorship_id", "agreement_no",
                                           "payer_id",     "payer_no",       "payer_name",
                                           "donor_id",     "child_id",       "child_file_no",
                                           "period_start", "period_end",     "due_date"};
        json_t *o = json_object();
        for (int i = 0; i < 12; i++) {
            json_object_set_new(o, cols[i], col_json(s, i));
        }
        const char *cur = db_col_text(s, 14);
        int64_t amount = db_col_int64(s, 12), paid = db_col_int64(s, 13);
        sp_set_money(o, "amount", amount, cur);
        sp_set_money(o, "paid", paid, cur);
        sp_set_money(o, "remaining", amount - paid, cur);
        json_object_set_new(o, "currency", col_json(s, 14));
        json_object_set_new(o, "fund", col_json(s, 15));
        json_object_set_new(o, "status", col_json(s, 16));
        json_object_set_new(o, "entry_id", col_json(s, 17));
        json_array_append_new(items, o);
    }
    db_done(s);
    if (rc < 0) {
        json_decref(items);
        items = NULL;
    }
out:
    buf_release(&from);
    buf_release(&w.sql);
    buf_release(&none.sql);
    if (!items) {
        return NULL;
    }
    return json_pack("{s:o, s:I, s:i, s:i}", "items", items, "total", (json_int_t)total, "page",
                     f->page, "per_page", f->per_page);
}

json_t *payment_get(struct db *db, const struct actor *a, const char *id, struct err *e)
{
    if (need_read(a, e) < 0) {
        return NULL;
    }
    int found;
    struct db_stmt *s =
        db_row(db, e, &found,
               "SELECT p.id, p.payment_no, p.donor_id, d.donor_no, d.name, p.currency, p.method,"
               " p.received_on, p.reference, p.external_ref, p.status, p.entry_id, p.bank_line_id,"
               " p.created_at, p.amount, p.fee, p.unallocated, r.id, r.receipt_no, r.issued_on,"
               " r.voided_at, r.void_reason FROM payments p JOIN donors d ON d.id = p.donor_id"
               " LEFT JOIN receipts r ON r.payment_id = p.id WHERE p.id = $1 AND p.org_id = $2",
               "tt", id ? id : "", a->org_id);
    if (!s) {
        return found < 0 ? NULL
                         : (err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such payment"), NULL);
    }
    static const char *const cols[] = {"id",           "payment_no",   "donor_id", "donor_no",
                                       "donor_name",   "currency",     "method",   "received_on",
                                       "reference",    "external_ref", "status",   "entry_id",
                                       "bank_line_id", "created_at"};
    json_t *o = json_object();
    for (int i = 0; i < 14; i++) {
        json_object_set_new(o, cols[i], col_json(s, i));
    }
    char cur[4];
    col_copy(s, 5, cur, sizeof(cur));
    sp_set_money(o, "amount", db_col_int64(s, 14), cur);
    sp_set_money(o, "fee", db_col_int64(s, 15), cur);
    sp_set_money(o, "unallocated", db_col_int64(s, 16), cur);
    json_object_set_new(o, "receipt",
                        db_col_null(s, 17)
                            ? json_null()
                            : json_pack("{s:o, s:o, s:o, s:o, s:o}", "id", col_json(s, 17),
                                        "receipt_no", col_json(s, 18), "issued_on", col_json(s, 19),
                                        "voided_at", col_json(s, 20), "void_reason",
                                        col_json(s, 21)));
    db_done(s);
    s = db_query(db, e,
                 "SELECT x.id, x.due_id, sp.agreement_no, d.child_id, d.period_start, x.entry_id,"
                 " x.disbursement_line_id, x.amount FROM payment_allocations x"
                 " JOIN sponsorship_dues d ON d.id = x.due_id"
                 " JOIN sponsorships sp ON sp.id = d.sponsorship_id"
                 " WHERE x.payment_id = $1 ORDER BY d.due_date, x.id",
                 "t", id);
    if (!s) {
        json_decref(o);
        return NULL;
    }
    json_t *allocs = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        static const char *const acols[] = {
            "id",           "due_id",   "agreement_no",        "child_id",
            "period_start", "entry_id", "disbursement_line_id"};
        json_t *x = json_object();
        for (int i = 0; i < 7; i++) {
            json_object_set_new(x, acols[i], col_json(s, i));
        }
        sp_set_money(x, "amount", db_col_int64(s, 7), cur);
        json_array_append_new(allocs, x);
    }
    db_done(s);
    json_object_set_new(o, "allocations", allocs);
    if (rc < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *payment_list(struct db *db, const struct actor *a, const struct payment_filter *f,
                     struct err *e)
{
    int64_t limit = 0, offset = 0;
    if (need_read(a, e) < 0 || paging(f->page, f->per_page, 500, &limit, &offset, e) < 0) {
        return NULL;
    }
    if ((f->from && !sp_date_ok(f->from)) || (f->to && !sp_date_ok(f->to))) {
        return err_set(e, ERR_INVALID, "invalid_date",
                       f->from && !sp_date_ok(f->from) ? "from" : "to", "not a date"),
               NULL;
    }
    if (f->status && !text_word_in(" recorded reversed ", f->status)) {
        return err_set(e, ERR_INVALID, "invalid_choice", "status", "'%s' is not a status",
                       f->status),
               NULL;
    }
    if (f->method && !text_word_in(PAY_METHODS, f->method)) {
        return err_set(e, ERR_INVALID, "invalid_choice", "method", "'%s' is not a method",
                       f->method),
               NULL;
    }
    struct where w = {.sql = BUF_INIT};
    /* As in dues_list: with a payer, the payer's index, not the organization's. */
    where_add(&w, f->donor_id ? "p.org_id || '' = $%d" : "p.org_id = $%d", a->org_id);
    if (f->donor_id) {
        where_add(&w, "p.donor_id = $%d", f->donor_id);
    }
    if (f->status) {
        where_add(&w, "p.status = $%d", f->status);
    }
    if (f->method) {
        where_add(&w, "p.method = $%d", f->method);
    }
    if (f->from) {
        where_add(&w, "p.received_on >= $%d", f->from);
    }
    if (f->to) {
        where_add(&w, "p.received_on <= $%d", f->to);
    }
    if (f->unallocated) {
        buf_adds(&w.sql, " AND p.status = 'recorded' AND p.unallocated > 0");
    }
    char *like = NULL;
    if (f->q && *f->q) {
        /* A plain substring: LIKE's own wildcards in q are escaped. */
        struct buf b = BUF_INIT;
        buf_addch(&b, '%');
        for (const char *c = f->q; *c; c++) {
            if (*c == '%' || *c == '_' || *c == '\\') {
                buf_addch(&b, '\\');
            }
            buf_addch(&b, *c);
        }
        buf_addch(&b, '%');
        like = buf_detach(&b, NULL);
        w.vals[w.n++] = like;
        buf_addf(&w.sql,
                 " AND (p.payment_no LIKE $%d ESCAPE '\\' OR r.receipt_no LIKE $%d ESCAPE '\\'"
                 " OR p.reference LIKE $%d ESCAPE '\\' OR p.external_ref LIKE $%d ESCAPE '\\'"
                 " OR d.name LIKE $%d ESCAPE '\\' OR d.donor_no LIKE $%d ESCAPE '\\')",
                 w.n, w.n, w.n, w.n, w.n, w.n);
    }
    const char *cond = w.sql.buf + 5;
    struct buf from = BUF_INIT;
    buf_addf(&from,
             "FROM payments p JOIN donors d ON d.id = p.donor_id"
             " LEFT JOIN receipts r ON r.payment_id = p.id WHERE %s",
             cond);
    struct where plain = {.sql = BUF_INIT, .n = w.n};
    memcpy(plain.vals, w.vals, sizeof(w.vals));
    int64_t total = 0;
    json_t *items = NULL;
    if (where_count(db, from.buf, &plain, &total, e) < 0) {
        goto out;
    }
    struct buf q = BUF_INIT;
    buf_addf(&q,
             "SELECT p.id, p.payment_no, r.receipt_no, p.donor_id, d.donor_no, d.name,"
             " p.currency, p.method, p.received_on, p.reference, p.external_ref, p.status,"
             " p.amount, p.fee, p.unallocated %s"
             " ORDER BY p.received_on DESC, p.payment_no DESC LIMIT $%d OFFSET $%d",
             from.buf, w.n + 1, w.n + 2);
    struct db_stmt *s = db_prepare(db, q.buf, e);
    buf_release(&q);
    if (!s) {
        goto out;
    }
    where_bind(s, &w, limit, offset);
    items = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        static const char *const cols[] = {"id",          "payment_no", "receipt_no",   "donor_id",
                                           "donor_no",    "donor_name", "currency",     "method",
                                           "received_on", "reference",  "external_ref", "status"};
        json_t *o = json_object();
        for (int i = 0; i < 12; i++) {
            json_object_set_new(o, cols[i], col_json(s, i));
        }
        const char *cur = db_col_text(s, 6);
        sp_set_money(o, "amount", db_col_int64(s, 12), cur);
        sp_set_money(o, "fee", db_col_int64(s, 13), cur);
        sp_set_money(o, "unallocated", db_col_int64(s, 14), cur);
        json_array_append_new(items, o);
    }
    db_done(s);
    if (rc < 0) {
        json_decref(items);
        items = NULL;
    }
out:
    free(like);
    buf_release(&from);
    buf_release(&w.sql);
    buf_release(&plain.sql);
    if (!items) {
        return NULL;
    }
    return json_pack("{s:o, s:I, s:i, s:i}", "items", items, "total", (json_int_t)total, "page",
                     f->page, "per_page", f->per_page);
}

/* True when s is a period YYYY-MM. */
static bool is_period(const char *s)
{
    char d[16];
    snprintf(d, sizeof(d), "%.7s-01", s ? s : "");
    return s && strlen(s) == 7 && sp_date_ok(d);
}

/* The reconciliation's bounds: first day of from, first day after to,
 * as_of; periods as given or by default. */
struct recon_bounds {
    char from[8];      /* YYYY-MM */
    char to[8];        /* YYYY-MM */
    char from_day[11]; /* YYYY-MM-01 of from */
    char end_day[11];  /* YYYY-MM-01 of the month after to */
    char as_of[11];    /* YYYY-MM-DD */
};

/* Checks f and fills b. */
static int recon_bounds(const struct recon_filter *f, struct recon_bounds *b, struct err *e)
{
    char day[11];
    sp_today(day);
    if (f->to && !is_period(f->to)) {
        return err_set(e, ERR_INVALID, "invalid_period", "to", "'to' is not a month (YYYY-MM)");
    }
    if (f->from && !is_period(f->from)) {
        return err_set(e, ERR_INVALID, "invalid_period", "from", "'from' is not a month (YYYY-MM)");
    }
    if (f->as_of && !sp_date_ok(f->as_of)) {
        return err_set(e, ERR_INVALID, "invalid_date", "as_of", "'as_of' is not a date");
    }
    snprintf(b->to, sizeof(b->to), "%.7s", f->to ? f->to : day);
    int y = atoi(b->to), m = atoi(b->to + 5);
    if (f->from) {
        snprintf(b->from, sizeof(b->from), "%s", f->from);
    } else {
        int fy = m > 11 ? y : y - 1, fm = m > 11 ? 1 : m + 1;
        char tmp[32];
        snprintf(tmp, sizeof(tmp), "%04d-%02d", fy, fm);
        snprintf(b->from, sizeof(b->from), "%.7s", tmp);
    }
    if (strcmp(b->from, b->to) > 0) {
        return err_set(e, ERR_INVALID, "invalid_period", "from", "'from' is after 'to'");
    }
    char tmp[32];
    snprintf(tmp, sizeof(tmp), "%s-01", b->from);
    snprintf(b->from_day, sizeof(b->from_day), "%.10s", tmp);
    snprintf(tmp, sizeof(tmp), "%04d-%02d-01", m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1);
    snprintf(b->end_day, sizeof(b->end_day), "%.10s", tmp);
    snprintf(b->as_of, sizeof(b->as_of), "%s", f->as_of ? f->as_of : day);
    return 0;
}

/* The rows of the reconciliation: dues and unallocated payments of the
 * range, one line each, for grouping ($1 org, $2 from, $3 end, $4 as_of,
 * $5 the payer when donor). */
static const char *recon_union(bool donor)
{
    return donor ? "SELECT payer_id AS payer, substr(due_date, 1, 7) AS period, currency,"
                   " amount AS expected, paid AS received,"
                   " CASE WHEN due_date < $4 THEN amount - paid ELSE 0 END AS arrears,"
                   " 0 AS overpaid FROM sponsorship_dues WHERE org_id = $1 AND due_date >= $2"
                   " AND due_date < $3 AND status <> 'cancelled' AND payer_id = $5"
                   " UNION ALL SELECT donor_id, substr(received_on, 1, 7), currency, 0, 0, 0,"
                   " unallocated FROM payments WHERE org_id = $1 AND received_on >= $2"
                   " AND received_on < $3 AND status = 'recorded' AND unallocated > 0"
                   " AND donor_id = $5"
                 : "SELECT payer_id AS payer, substr(due_date, 1, 7) AS period, currency,"
                   " amount AS expected, paid AS received,"
                   " CASE WHEN due_date < $4 THEN amount - paid ELSE 0 END AS arrears,"
                   " 0 AS overpaid FROM sponsorship_dues WHERE org_id = $1 AND due_date >= $2"
                   " AND due_date < $3 AND status <> 'cancelled'"
                   " UNION ALL SELECT donor_id, substr(received_on, 1, 7), currency, 0, 0, 0,"
                   " unallocated FROM payments WHERE org_id = $1 AND received_on >= $2"
                   " AND received_on < $3 AND status = 'recorded' AND unallocated > 0";
}

/* Binds the reconciliation's parameters to s. */
static void recon_bind(struct db_stmt *s, const struct actor *a, const struct recon_bounds *b,
                       const char *donor)
{
    db_bind_text(s, 1, a->org_id);
    db_bind_text(s, 2, b->from_day);
    db_bind_text(s, 3, b->end_day);
    db_bind_text(s, 4, b->as_of);
    if (donor) {
        db_bind_text(s, 5, donor);
    }
}

/* Prepares the grouped rows query (all rows when limit < 0). */
static struct db_stmt *recon_rows(struct db *db, const struct actor *a,
                                  const struct recon_bounds *b, const char *donor, int64_t limit,
                                  int64_t offset, struct err *e)
{
    struct buf q = BUF_INIT;
    buf_addf(&q,
             "SELECT x.payer, dn.donor_no, dn.name, x.period, x.currency,"
             " CAST(SUM(x.expected) AS BIGINT), CAST(SUM(x.received) AS BIGINT),"
             " CAST(SUM(x.arrears) AS BIGINT), CAST(SUM(x.overpaid) AS BIGINT)"
             " FROM (%s) x JOIN donors dn ON dn.id = x.payer"
             " GROUP BY x.payer, dn.donor_no, dn.name, x.period, x.currency"
             " ORDER BY dn.name, dn.donor_no, x.period, x.currency",
             recon_union(donor != NULL));
    if (limit >= 0) {
        buf_addf(&q, " LIMIT $%d OFFSET $%d", donor ? 6 : 5, donor ? 7 : 6);
    }
    struct db_stmt *s = db_prepare(db, q.buf, e);
    buf_release(&q);
    if (!s) {
        return NULL;
    }
    recon_bind(s, a, b, donor);
    if (limit >= 0) {
        db_bind_int64(s, donor ? 6 : 5, limit);
        db_bind_int64(s, donor ? 7 : 6, offset);
    }
    return s;
}

/* The money members of a reconciliation row or total. */
static const char *const recon_money[] = {"expected", "received", "arrears", "overpaid"};

json_t *billing_reconciliation(struct db *db, const struct actor *a, const struct recon_filter *f,
                               struct err *e)
{
    struct recon_bounds b;
    int64_t limit = -1, offset = 0;
    if (need_read(a, e) < 0 || recon_bounds(f, &b, e) < 0 ||
        (f->per_page != 0 && paging(f->page, f->per_page, 1000, &limit, &offset, e) < 0)) {
        return NULL;
    }
    const char *donor = f->donor_id && *f->donor_id ? f->donor_id : NULL;
    struct db_stmt *s = recon_rows(db, a, &b, donor, limit, offset, e);
    if (!s) {
        return NULL;
    }
    json_t *rows = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:o}", "payer_id", col_json(s, 0), "payer_no",
                              col_json(s, 1), "payer_name", col_json(s, 2), "period",
                              col_json(s, 3), "currency", col_json(s, 4));
        const char *cur = db_col_text(s, 4);
        for (int i = 0; i < 4; i++) {
            sp_set_money(o, recon_money[i], db_col_int64(s, 5 + i), cur);
        }
        json_array_append_new(rows, o);
    }
    db_done(s);
    if (rc < 0) {
        json_decref(rows);
        return NULL;
    }
    /* Totals per currency over every row, and the number of rows. */
    struct buf q = BUF_INIT;
    buf_addf(&q,
             "SELECT currency, CAST(SUM(expected) AS BIGINT), CAST(SUM(received) AS BIGINT),"
             " CAST(SUM(arrears) AS BIGINT), CAST(SUM(overpaid) AS BIGINT),"
             " COUNT(DISTINCT payer || ' ' || period) FROM (%s) x GROUP BY currency"
             " ORDER BY currency",
             recon_union(donor != NULL));
    s = db_prepare(db, q.buf, e);
    buf_release(&q);
    if (!s) {
        json_decref(rows);
        return NULL;
    }
    recon_bind(s, a, &b, donor);
    json_t *totals = json_array();
    int64_t n_rows = 0;
    while ((rc = db_step(s, e)) == 1) {
        json_t *o = json_pack("{s:o}", "currency", col_json(s, 0));
        const char *cur = db_col_text(s, 0);
        for (int i = 0; i < 4; i++) {
            sp_set_money(o, recon_money[i], db_col_int64(s, 1 + i), cur);
        }
        n_rows += db_col_int64(s, 5);
        json_array_append_new(totals, o);
    }
    db_done(s);
    if (rc < 0) {
        json_decref(rows);
        json_decref(totals);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:I, s:i, s:i}", "from", b.from, "to", b.to,
                     "as_of", b.as_of, "rows", rows, "totals", totals, "total_rows",
                     (json_int_t)n_rows, "page", f->per_page ? f->page : 1, "per_page",
                     f->per_page);
}

int billing_reconciliation_csv(struct db *db, const struct actor *a, const struct recon_filter *f,
                               struct buf *out, struct err *e)
{
    struct recon_bounds b;
    if (need_read(a, e) < 0 || recon_bounds(f, &b, e) < 0) {
        return -1;
    }
    const char *donor = f->donor_id && *f->donor_id ? f->donor_id : NULL;
    struct db_stmt *s = recon_rows(db, a, &b, donor, -1, 0, e);
    if (!s) {
        return -1;
    }
    buf_adds(out, "\xEF\xBB\xBF");
    static const char *const head[] = {"payer_no", "payer_name", "period",  "currency",
                                       "expected", "received",   "arrears", "overpaid"};
    for (int i = 0; i < 8; i++) {
        sp_csv_cell(out, head[i], i == 7, true);
    }
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        const char *cur = db_col_text(s, 4);
        for (int i = 1; i < 5; i++) {
            sp_csv_cell(out, db_col_text(s, i), false, true);
        }
        for (int i = 0; i < 4; i++) {
            char text[40];
            sp_money_text(db_col_int64(s, 5 + i), cur, text, sizeof(text));
            sp_csv_cell(out, text, i == 3, true);
        }
    }
    db_done(s);
    return rc < 0 ? -1 : 0;
}

json_t *billing_arrears(struct db *db, const struct actor *a, const char *as_of, int limit,
                        struct err *e)
{
    char day[11];
    if (need_read(a, e) < 0) {
        return NULL;
    }
    if (as_of && !sp_date_ok(as_of)) {
        return err_set(e, ERR_INVALID, "invalid_date", "as_of", "'as_of' is not a date"), NULL;
    }
    if (limit < 1 || limit > 1000) {
        return err_set(e, ERR_INVALID, "invalid_parameter", "limit", "'limit' is out of range"),
               NULL;
    }
    if (!as_of) {
        sp_today(day);
        as_of = day;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT COUNT(*) FROM (SELECT payer_id, currency"
                               " FROM sponsorship_dues WHERE org_id = $1"
                               " AND status IN ('open', 'partial') AND due_date < $2"
                               " GROUP BY payer_id, currency) x",
                               "tt", a->org_id, as_of);
    if (!s) {
        return NULL;
    }
    int64_t total = db_col_int64(s, 0);
    db_done(s);
    s = db_query(db, e,
                 "SELECT x.payer_id, dn.donor_no, dn.name, dn.phone, dn.email, x.currency,"
                 " CAST(SUM(x.amount) AS BIGINT), SUM(x.n), MAX(x.n), MIN(x.oldest),"
                 " (SELECT COUNT(*) FROM billing_arrears_alerts al WHERE al.org_id = $1"
                 " AND al.payer_id = x.payer_id AND al.currency = x.currency"
                 " AND al.cleared_on IS NULL)"
                 " FROM (SELECT payer_id, currency, sponsorship_id, MIN(due_date) AS oldest,"
                 " COUNT(*) AS n, SUM(amount - paid) AS amount FROM sponsorship_dues"
                 " WHERE org_id = $1 AND status IN ('open', 'partial') AND due_date < $2"
                 " GROUP BY payer_id, currency, sponsorship_id) x"
                 " JOIN donors dn ON dn.id = x.payer_id"
                 " GROUP BY x.payer_id, dn.donor_no, dn.name, dn.phone, dn.email, x.currency"
                 " ORDER BY MAX(x.n) DESC, MIN(x.oldest), dn.name, dn.donor_no LIMIT $3",
                 "tti", a->org_id, as_of, (int64_t)limit);
    if (!s) {
        return NULL;
    }
    json_t *items = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "payer_id", col_json(s, 0),
                              "payer_no", col_json(s, 1), "payer_name", col_json(s, 2), "phone",
                              col_json(s, 3), "email", col_json(s, 4), "currency", col_json(s, 5));
        sp_set_money(o, "amount", db_col_int64(s, 6), db_col_text(s, 5));
        json_object_set_new(o, "n_dues", json_integer(db_col_int64(s, 7)));
        json_object_set_new(o, "n_periods", json_integer(db_col_int64(s, 8)));
        json_object_set_new(o, "oldest_due", col_json(s, 9));
        json_object_set_new(o, "months_late",
                            json_integer(sched_months_between(db_col_text(s, 9), as_of)));
        json_object_set_new(o, "alerted", json_boolean(db_col_int64(s, 10) > 0));
        json_array_append_new(items, o);
    }
    db_done(s);
    if (rc < 0) {
        json_decref(items);
        return NULL;
    }
    return json_pack("{s:s, s:o, s:I}", "as_of", as_of, "items", items, "total", (json_int_t)total);
}

json_t *billing_arrears_view(struct db *db, const struct actor *a, const char *as_of, int limit,
                             struct err *e)
{
    if (need_read(a, e) < 0 || db_begin(db, false, e) < 0) {
        return NULL;
    }
    json_t *res = billing_arrears(db, a, as_of, limit, e);
    char detail[96];
    snprintf(detail, sizeof(detail), "as_of=%.10s payers=%lld",
             res ? json_string_value(json_object_get(res, "as_of")) : "",
             res ? (long long)json_integer_value(json_object_get(res, "total")) : 0LL);
    if (!res || actor_audit(db, a, "billing.arrears.view", NULL, NULL, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        db_rollback(db);
        json_decref(res);
        return NULL;
    }
    return res;
}
