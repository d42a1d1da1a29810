/*
 * statement.c: receipts, annual giving statements and "where the money
 * went" (see statement.h), and their PDFs.
 *
 * The statement is read from the tables (payments, payment_allocations,
 * sponsorship_dues, disbursement_lines) and then checked against the
 * books: the donor's journal lines on 2100/1100/5100 are grouped by the
 * money event that made them (an entry's source, or for a reversal the
 * source of the entry it reverses) and summed for the events the statement
 * covers. Nothing is matched by date, so an allocation posted months after
 * its payment still lands on that payment.
 */
#include "sponsorship/statement.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "core/money.h"
#include "core/time.h"
#include "core/xalloc.h"
#include "db/db_util.h"
#include "sponsorship/sponsors_int.h"
#include "web/hijri.h"
#include "web/i18n.h"
#include "web/pdf.h"

#include "core/banned.h"

/* Unicode bidi isolates: a part set apart in its own direction, so that
 * "4 رجب 1446 · 4 Rajab 1446" does not get its numbers reordered across
 * the parts (browsers and pango both honour them; they print nothing). */
#define RLI "\xE2\x81\xA7" /* U+2067 right-to-left isolate */
#define LRI "\xE2\x81\xA6" /* U+2066 left-to-right isolate */
#define FSI "\xE2\x81\xA8" /* U+2068 first-strong isolate */
#define PDI "\xE2\x81\xA9" /* U+2069 pop directional isolate */

/* ---- small helpers ---- */

/* The donor-facing child: first names, age and city, nothing else.
 * City is the governorate only (as the portal shows it): a locality can be
 * a camp or a quarter, an exact location. */
static json_t *child_public(const char *id, const char *first, const char *latin, const char *birth,
                            const char *gov, const char *locality)
{
    (void)locality;
    char now[11];
    sp_today(now);
    int age = sp_age(birth, now);
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "id", sp_str_or_null(id), "first_name",
                     sp_str_or_null(first), "first_name_latin", sp_str_or_null(latin), "age",
                     age >= 0 ? json_integer(age) : json_null(), "city", sp_str_or_null(gov));
}

/* The statement's id maps are jansson objects (string-keyed hash tables)
 * holding integers. Sets key to val in m (a NULL key is ignored). */
static void id_put(json_t *m, const char *key, int val)
{
    json_object_set_new(m, key, json_integer(val));
}

/* The value of key in m, or -1 when absent. */
static int id_get(const json_t *m, const char *key)
{
    const json_t *v = key ? json_object_get(m, key) : NULL;
    return v ? (int)json_integer_value(v) : -1;
}

/* ---- access ---- */

int statement_donor_access(struct db *db, const struct actor *a, const char *donor_id, char out[40],
                           struct err *e)
{
    bool staff = actor_can(a, PERM_SPONSOR_READ) || actor_can(a, PERM_FINANCE_READ);
    if (!staff && !actor_can(a, PERM_PORTAL)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to see donors' giving");
    }
    if (!donor_id || !*donor_id) {
        return err_set(e, ERR_NOT_FOUND, "not_found", NULL, "no such donor");
    }
    int found;
    struct db_stmt *s;
    if (staff) {
        s = db_row(db, e, &found, "SELECT id FROM donors WHERE id = $1 AND org_id = $2", "tt",
                   donor_id, a->org_id);
    } else {
        /* A donor: only the record tied to their login, whatever was asked. */
        s = db_row(db, e, &found,
                   "SELECT id FROM donors WHERE user_id = $1 AND org_id = $2"
                   " AND status = 'active'",
                   "tt", a->user_id, a->org_id);
    }
    if (!s) {
        return found < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "not_found", NULL, "no such donor");
    }
    const char *id = db_col_text(s, 0);
    bool own = staff || strcmp(donor_id, "me") == 0 || strcmp(donor_id, id) == 0;
    snprintf(out, 40, "%s", id);
    db_done(s);
    if (!own) {
        return err_set(e, ERR_NOT_FOUND, "not_found", NULL, "no such donor");
    }
    return 0;
}

/* {id, donor_no, name, name_latin, tax_name, tax_id} of donor id, or NULL
 * with e. */
static json_t *donor_header(struct db *db, const char *id, struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT donor_no, name, name_latin, tax_name, tax_id, "
                               "preferred_lang FROM donors WHERE id = $1",
                               "t", id);
    if (!s) {
        if (found == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", NULL, "no such donor");
        }
        return NULL;
    }
    json_t *j = json_pack(
        "{s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "id", id, "donor_no",
        sp_str_or_null(db_col_text(s, 0)), "name", sp_str_or_null(db_col_text(s, 1)), "name_latin",
        sp_str_or_null(db_col_text(s, 2)), "tax_name", sp_str_or_null(db_col_text(s, 3)), "tax_id",
        sp_str_or_null(db_col_text(s, 4)), "preferred_lang", sp_str_or_null(db_col_text(s, 5)));
    db_done(s);
    return j;
}

/* {name} of the actor's organization. */
static json_t *org_header(struct db *db, const struct actor *a, struct err *e)
{
    int found;
    struct db_stmt *s =
        db_row(db, e, &found, "SELECT name FROM organizations WHERE id = $1", "t", a->org_id);
    if (!s) {
        return found < 0 ? NULL : json_pack("{s:s}", "name", "");
    }
    json_t *j = json_pack("{s:o}", "name", sp_str_or_null(db_col_text(s, 0)));
    db_done(s);
    return j;
}

/* Begins the write transaction of a statement of donor_id (the view is
 * audited), checks a may see it and reads the donor's and the
 * organization's headers (*dj, *oj, new). Returns 0, or -1 rolled back. */
static int open_statement(struct db *db, const struct actor *a, const char *donor_id,
                          char donor[40], json_t **dj, json_t **oj, struct err *e)
{
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    if (statement_donor_access(db, a, donor_id, donor, e) < 0 ||
        !(*dj = donor_header(db, donor, e)) || !(*oj = org_header(db, a, e))) {
        json_decref(*dj);
        *dj = NULL;
        db_rollback(db);
        return -1;
    }
    return 0;
}

/* Audits the view and commits; on failure decrefs j and rolls back.
 * Returns j or NULL. */
static json_t *audit_and_commit(struct db *db, const struct actor *a, const char *action,
                                const char *entity, const char *id, const char *detail, json_t *j,
                                struct err *e)
{
    if (actor_audit(db, a, action, entity, id, "ok", detail, e) < 0 || db_commit(db, e) < 0) {
        json_decref(j);
        db_rollback(db);
        return NULL;
    }
    return j;
}

/* ---- receipts ---- */

json_t *statement_receipt(struct db *db, const struct actor *a, const char *receipt_id,
                          struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_READ) && !actor_can(a, PERM_FINANCE_READ) &&
        !actor_can(a, PERM_PORTAL)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to see receipts");
        return NULL;
    }
    if (db_begin(db, false, e) < 0) {
        return NULL;
    }
    int found;
    /* By id or by number (R-2026-000001). */
    struct db_stmt *s = db_row(
        db, e, &found,
        "SELECT r.id, r.receipt_no, r.year, r.issued_on, r.amount, r.currency, r.voided_at,"
        " r.void_reason, r.donor_id, p.id, p.payment_no, p.received_on, p.method, p.reference,"
        " p.fee, p.status FROM receipts r JOIN payments p ON p.id = r.payment_id"
        " WHERE (r.id = $1 OR r.receipt_no = $1) AND r.org_id = $2",
        "tt", receipt_id, a->org_id);
    if (!s) {
        if (found == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", NULL, "no such receipt");
        }
        db_rollback(db);
        return NULL;
    }
    char donor[40];
    char payment_id[40];
    char id[40];
    snprintf(donor, sizeof donor, "%s", db_col_text(s, 8));
    snprintf(payment_id, sizeof payment_id, "%s", db_col_text(s, 9));
    snprintf(id, sizeof id, "%s", db_col_text(s, 0));
    const char *cur = db_col_text(s, 5);
    const char *issued = db_col_text(s, 3);
    struct buf h_ar = BUF_INIT;
    struct buf h_en = BUF_INIT;
    hijri_format_iso(&h_ar, issued, "ar");
    hijri_format_iso(&h_en, issued, "en");
    json_t *j = json_pack(
        "{s:s, s:o, s:I, s:o, s:{s:s, s:s}, s:o, s:b, s:o, s:o}", "id", id, "receipt_no",
        sp_str_or_null(db_col_text(s, 1)), "year", (json_int_t)db_col_int64(s, 2), "issued_on",
        sp_str_or_null(issued), "issued_on_hijri", "ar", h_ar.buf, "en", h_en.buf, "currency",
        sp_str_or_null(cur), "voided", !db_col_null(s, 6), "voided_at",
        sp_str_or_null(db_col_text(s, 6)), "void_reason", sp_str_or_null(db_col_text(s, 7)));
    buf_release(&h_ar);
    buf_release(&h_en);
    sp_set_money(j, "amount", db_col_int64(s, 4), cur);
    json_t *pay = json_pack(
        "{s:s, s:o, s:o, s:o, s:o, s:o}", "id", payment_id, "payment_no",
        sp_str_or_null(db_col_text(s, 10)), "received_on", sp_str_or_null(db_col_text(s, 11)),
        "method", sp_str_or_null(db_col_text(s, 12)), "reference",
        sp_str_or_null(db_col_text(s, 13)), "status", sp_str_or_null(db_col_text(s, 15)));
    sp_set_money(pay, "fee", db_col_int64(s, 14), cur);
    json_object_set_new(j, "payment", pay);
    db_done(s);
    char seen[40];
    if (statement_donor_access(db, a, donor, seen, e) < 0) {
        if (e->kind == ERR_NOT_FOUND) {
            err_set(e, ERR_NOT_FOUND, "not_found", NULL, "no such receipt");
        }
        json_decref(j);
        db_rollback(db);
        return NULL;
    }
    json_t *dj = donor_header(db, donor, e);
    json_t *oj = dj ? org_header(db, a, e) : NULL;
    if (!oj) {
        json_decref(dj);
        json_decref(j);
        db_rollback(db);
        return NULL;
    }
    json_object_set_new(j, "donor", dj);
    json_object_set_new(j, "organization", oj);
    json_t *purposes = json_array();
    s = db_query(db, e,
                 "SELECT DISTINCT sp.purpose FROM payment_allocations pa JOIN sponsorship_dues d"
                 " ON d.id = pa.due_id JOIN sponsorships sp ON sp.id = d.sponsorship_id"
                 " WHERE pa.payment_id = $1 ORDER BY sp.purpose",
                 "t", payment_id);
    int rc = s ? 0 : -1;
    while (s && (rc = db_step(s, e)) == 1) {
        json_array_append_new(purposes, json_string(db_col_text(s, 0)));
    }
    if (s) {
        db_done(s);
    }
    json_object_set_new(j, "purposes", purposes);
    if (rc < 0) {
        json_decref(j);
        db_rollback(db);
        return NULL;
    }
    return audit_and_commit(db, a, "receipt.view", "receipt", id, NULL, j, e);
}

/* ---- annual giving statement ---- */

/* Per-currency sums for the annual statement. */
struct annual_total {
    char currency[4]; /* ISO 4217 */
    int64_t amount;   /* receipts not voided */
    int count;        /* how many */
};

json_t *statement_annual(struct db *db, const struct actor *a, const char *donor_id, int year,
                         struct err *e)
{
    if (year < 2000 || year > 2100) {
        err_set(e, ERR_INVALID, "invalid_parameter", "year",
                "'year' must be between 2000 and 2100");
        return NULL;
    }
    char donor[40];
    json_t *dj = NULL;
    json_t *oj = NULL;
    if (open_statement(db, a, donor_id, donor, &dj, &oj, e) < 0) {
        return NULL;
    }
    char from[16];
    char to[16];
    snprintf(from, sizeof from, "%04d-01-01", year);
    snprintf(to, sizeof to, "%04d-12-31", year);
    json_t *items = json_array();
    struct annual_total tot[16];
    int n_tot = 0;
    int n_voided = 0;
    struct db_stmt *s = db_query(
        db, e,
        "SELECT r.id, r.receipt_no, r.issued_on, r.amount, r.currency, r.voided_at, p.method"
        " FROM receipts r JOIN payments p ON p.id = r.payment_id WHERE r.donor_id = $1"
        " AND r.org_id = $2 AND r.issued_on >= $3 AND r.issued_on <= $4"
        " ORDER BY r.issued_on, r.receipt_no",
        "tttt", donor, a->org_id, from, to);
    int rc = s ? 0 : -1;
    while (s && (rc = db_step(s, e)) == 1) {
        const char *cur = db_col_text(s, 4);
        bool voided = !db_col_null(s, 5);
        json_t *it =
            json_pack("{s:o, s:o, s:o, s:o, s:o, s:b}", "id", sp_str_or_null(db_col_text(s, 0)),
                      "receipt_no", sp_str_or_null(db_col_text(s, 1)), "issued_on",
                      sp_str_or_null(db_col_text(s, 2)), "currency", sp_str_or_null(cur), "method",
                      sp_str_or_null(db_col_text(s, 6)), "voided", voided);
        sp_set_money(it, "amount", db_col_int64(s, 3), cur);
        json_array_append_new(items, it);
        if (voided) {
            n_voided++;
            continue;
        }
        int k = 0;
        while (k < n_tot && strcmp(tot[k].currency, cur) != 0) {
            k++;
        }
        if (k == n_tot) {
            if (n_tot == (int)(sizeof tot / sizeof tot[0])) {
                continue; /* more than 16 currencies in a year: not a real donor */
            }
            snprintf(tot[k].currency, sizeof tot[k].currency, "%s", cur);
            tot[k].amount = 0;
            tot[k].count = 0;
            n_tot++;
        }
        tot[k].amount += db_col_int64(s, 3);
        tot[k].count++;
    }
    if (s) {
        db_done(s);
    }
    if (rc < 0) {
        json_decref(items);
        json_decref(dj);
        json_decref(oj);
        db_rollback(db);
        return NULL;
    }
    json_t *totals = json_array();
    for (int k = 0; k < n_tot; k++) {
        json_t *t = json_pack("{s:s, s:i}", "currency", tot[k].currency, "count", tot[k].count);
        sp_set_money(t, "amount", tot[k].amount, tot[k].currency);
        json_array_append_new(totals, t);
    }
    json_t *j = json_pack("{s:o, s:o, s:i, s:o, s:o, s:i}", "organization", oj, "donor", dj, "year",
                          year, "receipts", items, "totals", totals, "n_voided", n_voided);
    char detail[16];
    snprintf(detail, sizeof detail, "%d", year);
    return audit_and_commit(db, a, "donor.annual.view", "donor", donor, detail, j, e);
}

/* ---- where the money went ---- */

/* One currency's sums: the statement's side and the ledger's. */
struct cur_sums {
    char currency[4];    /* ISO 4217 */
    int64_t given;       /* payments recorded (not reversed) */
    int64_t fees;        /* their fees */
    int64_t allocated;   /* allocated to dues */
    int64_t passed_on;   /* ... and paid to the guardian */
    int64_t in_payout;   /* ... on a payout list, not yet paid */
    int64_t waiting;     /* ... not on a list yet (or the payout failed) */
    int64_t advance;     /* unallocated (payments.unallocated) */
    int64_t shortfall;   /* dues in the range not paid */
    int64_t reversed;    /* payments reversed */
    int64_t l_given;     /* ledger: credits on 2100 of the payments' entries */
    int64_t l_fees;      /* ledger: 5100 of the payments' entries */
    int64_t l_allocated; /* ledger: debits on 2100 of the allocations' entries */
    int64_t l_shortfall; /* ledger: 1100 of the dues' and their allocations' entries */
};

/* All currencies of a statement. */
struct sums {
    struct cur_sums *v; /* one per currency, in order of appearance */
    int n;              /* in use */
    int cap;            /* room */
};

/* The sums of currency cur (added when new). */
static struct cur_sums *sums_of(struct sums *t, const char *cur)
{
    for (int i = 0; i < t->n; i++) {
        if (strcmp(t->v[i].currency, cur ? cur : "") == 0) {
            return &t->v[i];
        }
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 4;
        t->v = xrealloc(t->v, xmul((size_t)t->cap, sizeof *t->v));
    }
    struct cur_sums *c = &t->v[t->n++];
    memset(c, 0, sizeof *c);
    snprintf(c->currency, sizeof c->currency, "%s", cur ? cur : "");
    return c;
}

/* Checks a YYYY-MM-DD parameter. */
static int check_date(const char *v, const char *field, struct err *e)
{
    if (!sp_date_ok(v)) {
        return err_set(e, ERR_INVALID, "invalid_date", field, "'%s' must be a date (YYYY-MM-DD)",
                       field);
    }
    return 0;
}

/* The statement's columns read from the tables, in the caller's
 * transaction; fills sums and the id maps the ledger check uses. */
struct where_scope {
    json_t *payments;   /* payment id -> index in the payments array */
    json_t *pay_allocs; /* allocation id (of those payments) -> 1 */
    json_t *dues;       /* due id in the range (not cancelled) -> 1 */
    json_t *due_allocs; /* allocation id (to those dues) -> 1 */
};

/* Reads the payments and their allocations into j["payments"]. */
static int where_payments(struct db *db, const struct actor *a, const char *donor, const char *from,
                          const char *to, json_t *payments, struct sums *t, struct where_scope *sc,
                          struct err *e)
{
    struct db_stmt *s =
        db_query(db, e,
                 "SELECT p.id, p.payment_no, p.received_on, p.amount, p.fee, p.currency, p.method,"
                 " p.reference, p.status, p.unallocated, r.id, r.receipt_no, r.voided_at"
                 " FROM payments p LEFT JOIN receipts r ON r.payment_id = p.id"
                 " WHERE p.donor_id = $1 AND p.org_id = $2 AND p.received_on >= $3"
                 " AND p.received_on <= $4 ORDER BY p.received_on, p.payment_no",
                 "tttt", donor, a->org_id, from, to);
    if (!s) {
        return -1;
    }
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        const char *cur = db_col_text(s, 5);
        const char *status = db_col_text(s, 8);
        bool reversed = status && strcmp(status, "reversed") == 0;
        int64_t amount = db_col_int64(s, 3);
        int64_t fee = db_col_int64(s, 4);
        json_t *p = json_pack(
            "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:[]}", "id",
            sp_str_or_null(db_col_text(s, 0)), "payment_no", sp_str_or_null(db_col_text(s, 1)),
            "received_on", sp_str_or_null(db_col_text(s, 2)), "currency", sp_str_or_null(cur),
            "method", sp_str_or_null(db_col_text(s, 6)), "reference",
            sp_str_or_null(db_col_text(s, 7)), "status", sp_str_or_null(status), "voided",
            reversed || !db_col_null(s, 12), "receipt_id", sp_str_or_null(db_col_text(s, 10)),
            "receipt_no", sp_str_or_null(db_col_text(s, 11)), "allocations");
        sp_set_money(p, "amount", amount, cur);
        sp_set_money(p, "fee", fee, cur);
        sp_set_money(p, "net", amount - fee, cur);
        sp_set_money(p, "unallocated", reversed ? 0 : db_col_int64(s, 9), cur);
        struct cur_sums *c = sums_of(t, cur);
        if (reversed) {
            c->reversed += amount;
        } else {
            c->given += amount;
            c->fees += fee;
            c->advance += db_col_int64(s, 9);
        }
        id_put(sc->payments, db_col_text(s, 0), (int)json_array_size(payments));
        json_array_append_new(payments, p);
    }
    db_done(s);
    if (rc < 0) {
        return -1;
    }
    if (json_array_size(payments) == 0) {
        return 0;
    }
    s = db_query(
        db, e,
        "SELECT pa.id, pa.payment_id, pa.amount, p.status, p.currency, d.period_start,"
        " d.period_end, d.fund, sp.agreement_no, sp.purpose, c.id, c.first_name,"
        " c.first_name_latin, c.birth_date, c.governorate, c.locality, dl.status, dl.paid_on,"
        " dl.method, dl.proof_kind, dr.run_no, dr.period"
        " FROM payments p JOIN payment_allocations pa ON pa.payment_id = p.id"
        " JOIN sponsorship_dues d ON d.id = pa.due_id"
        " JOIN sponsorships sp ON sp.id = d.sponsorship_id"
        " JOIN children c ON c.id = d.child_id"
        " LEFT JOIN disbursement_lines dl ON dl.id = pa.disbursement_line_id"
        " LEFT JOIN disbursement_runs dr ON dr.id = dl.run_id"
        " WHERE p.donor_id = $1 AND p.org_id = $2 AND p.received_on >= $3"
        " AND p.received_on <= $4 ORDER BY d.period_start, sp.agreement_no, pa.id",
        "tttt", donor, a->org_id, from, to);
    if (!s) {
        return -1;
    }
    while ((rc = db_step(s, e)) == 1) {
        int idx = id_get(sc->payments, db_col_text(s, 1));
        if (idx < 0) {
            continue;
        }
        id_put(sc->pay_allocs, db_col_text(s, 0), 1);
        const char *status = db_col_text(s, 3);
        bool reversed = status && strcmp(status, "reversed") == 0;
        const char *cur = db_col_text(s, 4);
        int64_t amount = db_col_int64(s, 2);
        const char *line_status = db_col_text(s, 16);
        const char *state = "waiting";
        json_t *payout = json_null();
        if (line_status) {
            state = strcmp(line_status, "paid") == 0     ? "passed_on"
                    : strcmp(line_status, "failed") == 0 ? "failed"
                                                         : "in_payout";
            payout = json_pack(
                "{s:o, s:o, s:o, s:o, s:o, s:o}", "run_no", sp_str_or_null(db_col_text(s, 20)),
                "period", sp_str_or_null(db_col_text(s, 21)), "status", sp_str_or_null(line_status),
                "paid_on", sp_str_or_null(db_col_text(s, 17)), "method",
                sp_str_or_null(db_col_text(s, 18)), "proof_kind",
                sp_str_or_null(db_col_text(s, 19)));
        }
        json_t *al = json_pack(
            "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:o}", "id",
            sp_str_or_null(db_col_text(s, 0)), "agreement_no", sp_str_or_null(db_col_text(s, 8)),
            "purpose", sp_str_or_null(db_col_text(s, 9)), "fund", sp_str_or_null(db_col_text(s, 7)),
            "period_start", sp_str_or_null(db_col_text(s, 5)), "period_end",
            sp_str_or_null(db_col_text(s, 6)), "child",
            child_public(db_col_text(s, 10), db_col_text(s, 11), db_col_text(s, 12),
                         db_col_text(s, 13), db_col_text(s, 14), db_col_text(s, 15)),
            "state", state, "payout", payout);
        sp_set_money(al, "amount", amount, cur);
        json_array_append_new(json_object_get(json_array_get(payments, (size_t)idx), "allocations"),
                              al);
        if (reversed) {
            continue;
        }
        struct cur_sums *c = sums_of(t, cur);
        c->allocated += amount;
        if (strcmp(state, "passed_on") == 0) {
            c->passed_on += amount;
        } else if (strcmp(state, "in_payout") == 0) {
            c->in_payout += amount;
        } else {
            c->waiting += amount;
        }
    }
    db_done(s);
    return rc < 0 ? -1 : 0;
}

/* Reads the range's dues: the shortfall list, and the ids the ledger check
 * traces. */
static int where_dues(struct db *db, const struct actor *a, const char *donor, const char *from,
                      const char *to, json_t *shortfall, struct sums *t, struct where_scope *sc,
                      struct err *e)
{
    struct db_stmt *s = db_query(
        db, e,
        "SELECT d.id, d.amount, d.paid, d.currency, d.period_start, d.period_end, d.due_date,"
        " sp.agreement_no, c.id, c.first_name, c.first_name_latin, c.birth_date, c.governorate,"
        " c.locality FROM sponsorship_dues d JOIN sponsorships sp ON sp.id = d.sponsorship_id"
        " JOIN children c ON c.id = d.child_id WHERE d.payer_id = $1 AND d.org_id = $2"
        " AND d.due_date >= $3 AND d.due_date <= $4 AND d.status <> 'cancelled'"
        " ORDER BY d.due_date, sp.agreement_no",
        "tttt", donor, a->org_id, from, to);
    if (!s) {
        return -1;
    }
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        id_put(sc->dues, db_col_text(s, 0), 1);
        const char *cur = db_col_text(s, 3);
        int64_t amount = db_col_int64(s, 1);
        int64_t paid = db_col_int64(s, 2);
        if (amount - paid <= 0) {
            continue;
        }
        sums_of(t, cur)->shortfall += amount - paid;
        json_t *o = json_pack(
            "{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "due_id", sp_str_or_null(db_col_text(s, 0)),
            "agreement_no", sp_str_or_null(db_col_text(s, 7)), "child",
            child_public(db_col_text(s, 8), db_col_text(s, 9), db_col_text(s, 10),
                         db_col_text(s, 11), db_col_text(s, 12), db_col_text(s, 13)),
            "period_start", sp_str_or_null(db_col_text(s, 4)), "period_end",
            sp_str_or_null(db_col_text(s, 5)), "due_date", sp_str_or_null(db_col_text(s, 6)),
            "currency", sp_str_or_null(cur));
        sp_set_money(o, "amount", amount, cur);
        sp_set_money(o, "paid", paid, cur);
        sp_set_money(o, "outstanding", amount - paid, cur);
        json_array_append_new(shortfall, o);
    }
    db_done(s);
    if (rc < 0) {
        return -1;
    }
    s = db_query(db, e,
                 "SELECT pa.id FROM sponsorship_dues d JOIN payment_allocations pa"
                 " ON pa.due_id = d.id WHERE d.payer_id = $1 AND d.org_id = $2"
                 " AND d.due_date >= $3 AND d.due_date <= $4 AND d.status <> 'cancelled'",
                 "tttt", donor, a->org_id, from, to);
    if (!s) {
        return -1;
    }
    while ((rc = db_step(s, e)) == 1) {
        id_put(sc->due_allocs, db_col_text(s, 0), 1);
    }
    db_done(s);
    return rc < 0 ? -1 : 0;
}

/* Sums the donor's ledger lines per money event onto the statement's
 * events (see the file comment). */
static int where_ledger(struct db *db, const struct actor *a, const char *donor, struct sums *t,
                        const struct where_scope *sc, struct err *e)
{
    struct db_stmt *s = db_query(
        db, e,
        "SELECT COALESCE(o.source_kind, je.source_kind), COALESCE(o.source_id, je.source_id),"
        " jl.account, jl.currency, SUM(jl.amount) FROM journal_lines jl"
        " JOIN journal_entries je ON je.id = jl.entry_id"
        " LEFT JOIN journal_entries o ON o.id = je.reverses_id"
        " WHERE jl.donor_id = $1 AND jl.org_id = $2 AND jl.account IN ('1100', '2100', '5100')"
        " GROUP BY COALESCE(o.source_kind, je.source_kind), COALESCE(o.source_id, je.source_id),"
        " jl.account, jl.currency",
        "tt", donor, a->org_id);
    if (!s) {
        return -1;
    }
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        const char *kind = db_col_text(s, 0);
        const char *src = db_col_text(s, 1);
        const char *acct = db_col_text(s, 2);
        const char *cur = db_col_text(s, 3);
        int64_t sum = db_col_int64(s, 4);
        if (!kind || !src || !acct) {
            continue;
        }
        if (strcmp(kind, "payment") == 0 && id_get(sc->payments, src) >= 0) {
            if (strcmp(acct, "2100") == 0) {
                sums_of(t, cur)->l_given -= sum; /* a credit */
            } else if (strcmp(acct, "5100") == 0) {
                sums_of(t, cur)->l_fees += sum;
            }
        } else if (strcmp(kind, "allocation") == 0) {
            if (strcmp(acct, "2100") == 0 && id_get(sc->pay_allocs, src) >= 0) {
                sums_of(t, cur)->l_allocated += sum;
            } else if (strcmp(acct, "1100") == 0 && id_get(sc->due_allocs, src) >= 0) {
                sums_of(t, cur)->l_shortfall += sum; /* a credit: paid off */
            }
        } else if (strcmp(kind, "due") == 0 && strcmp(acct, "1100") == 0 &&
                   id_get(sc->dues, src) >= 0) {
            sums_of(t, cur)->l_shortfall += sum;
        }
    }
    db_done(s);
    return rc < 0 ? -1 : 0;
}

/* Adds one check row; returns 1 when the two sides agree. */
static int add_check(json_t *checks, const char *cur, const char *item, int64_t st, int64_t led)
{
    json_t *c = json_pack("{s:s, s:s, s:b}", "currency", cur, "item", item, "ok", st == led);
    sp_set_money(c, "statement", st, cur);
    sp_set_money(c, "ledger", led, cur);
    json_array_append_new(checks, c);
    return st == led;
}

json_t *statement_where(struct db *db, const struct actor *a, const char *donor_id,
                        const char *from, const char *to, struct err *e)
{
    char dfrom[16];
    char dto[16];
    if (to && *to) {
        if (check_date(to, "to", e) < 0) {
            return NULL;
        }
        snprintf(dto, sizeof dto, "%s", to);
    } else {
        sp_today(dto);
    }
    if (from && *from) {
        if (check_date(from, "from", e) < 0) {
            return NULL;
        }
        snprintf(dfrom, sizeof dfrom, "%s", from);
    } else {
        /* The year up to dto: the day after dto a year back. */
        char back[11];
        sp_add_months(dto, -12, back);
        sp_add_days(back, 1, dfrom);
    }
    int fy, fm, fd, ty, tm, td;
    time_date_parse(dfrom, &fy, &fm, &fd);
    time_date_parse(dto, &ty, &tm, &td);
    int64_t span = time_days_from_civil(ty, tm, td) - time_days_from_civil(fy, fm, fd);
    if (span < 0 || span > 3660) {
        err_set(e, ERR_INVALID, "invalid_range", "from",
                "'from' must be on or before 'to', at most ten years apart");
        return NULL;
    }
    char donor[40];
    json_t *dj = NULL;
    json_t *oj = NULL;
    if (open_statement(db, a, donor_id, donor, &dj, &oj, e) < 0) {
        return NULL;
    }
    json_t *payments = json_array();
    json_t *shortfall = json_array();
    struct sums t = {NULL, 0, 0};
    struct where_scope sc = {json_object(), json_object(), json_object(), json_object()};
    int rc = where_payments(db, a, donor, dfrom, dto, payments, &t, &sc, e);
    if (rc == 0) {
        rc = where_dues(db, a, donor, dfrom, dto, shortfall, &t, &sc, e);
    }
    if (rc == 0) {
        rc = where_ledger(db, a, donor, &t, &sc, e);
    }
    json_decref(sc.payments);
    json_decref(sc.pay_allocs);
    json_decref(sc.dues);
    json_decref(sc.due_allocs);
    if (rc < 0) {
        free(t.v);
        json_decref(payments);
        json_decref(shortfall);
        json_decref(dj);
        json_decref(oj);
        db_rollback(db);
        return NULL;
    }
    json_t *totals = json_array();
    json_t *ledger = json_array();
    json_t *checks = json_array();
    int ok = 1;
    for (int i = 0; i < t.n; i++) {
        const struct cur_sums *c = &t.v[i];
        const char *cur = c->currency;
        json_t *o = json_pack("{s:s}", "currency", cur);
        sp_set_money(o, "given", c->given, cur);
        sp_set_money(o, "fees", c->fees, cur);
        sp_set_money(o, "net", c->given - c->fees, cur);
        sp_set_money(o, "allocated", c->allocated, cur);
        sp_set_money(o, "passed_on", c->passed_on, cur);
        sp_set_money(o, "in_payout", c->in_payout, cur);
        sp_set_money(o, "waiting", c->waiting, cur);
        sp_set_money(o, "advance", c->advance, cur);
        sp_set_money(o, "shortfall", c->shortfall, cur);
        sp_set_money(o, "reversed", c->reversed, cur);
        json_array_append_new(totals, o);
        json_t *l = json_pack("{s:s}", "currency", cur);
        sp_set_money(l, "given", c->l_given, cur);
        sp_set_money(l, "fees", c->l_fees, cur);
        sp_set_money(l, "allocated", c->l_allocated, cur);
        sp_set_money(l, "advance", c->l_given - c->l_allocated, cur);
        sp_set_money(l, "shortfall", c->l_shortfall, cur);
        json_array_append_new(ledger, l);
        ok &= add_check(checks, cur, "given", c->given, c->l_given);
        ok &= add_check(checks, cur, "fees", c->fees, c->l_fees);
        ok &= add_check(checks, cur, "allocated", c->allocated, c->l_allocated);
        ok &= add_check(checks, cur, "advance", c->advance, c->l_given - c->l_allocated);
        ok &= add_check(checks, cur, "shortfall", c->shortfall, c->l_shortfall);
    }
    free(t.v);
    json_t *j =
        json_pack("{s:o, s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:b}", "organization", oj, "donor",
                  dj, "from", dfrom, "to", dto, "payments", payments, "shortfall", shortfall,
                  "totals", totals, "ledger", ledger, "checks", checks, "consistent", ok);
    char detail[48];
    snprintf(detail, sizeof detail, "%s..%s", dfrom, dto);
    return audit_and_commit(db, a, "donor.statement.view", "donor", donor, detail, j, e);
}

/* ---- PDFs ---- */

/* The string member key of o, or "". */
static const char *sget(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

/* The catalog text of prefix.name in lang (static), or name itself when
 * the catalog lacks it (borrowed from the caller); tmp only builds the key. */
static const char *label(const char *lang, const char *prefix, const char *name, char *tmp,
                         size_t n)
{
    snprintf(tmp, n, "%s.%s", prefix, name ? name : "");
    if (!name || !*name || !i18n_has(tmp)) {
        return name ? name : "";
    }
    return i18n_get(lang, tmp);
}

/* "12.50 USD" from o's key_text and its currency. */
static void money_text(struct buf *out, const json_t *o, const char *key, const char *cur)
{
    char k[64];
    snprintf(k, sizeof k, "%s_text", key);
    buf_addf(out, "%s %s", sget(o, k), cur);
}

/* The footer every statement PDF carries. */
static void footer(struct pdf_doc *d, const json_t *org, const char *lang)
{
    pdf_set_footer(d, sget(org, "name"), i18n_get(lang, "st.pdf.page"));
}

int statement_receipt_pdf(const json_t *r, struct buf *out, struct err *e)
{
    struct pdf_doc *d = pdf_new("ar", sget(r, "receipt_no"), e);
    if (!d) {
        return -1;
    }
    const json_t *org = json_object_get(r, "organization");
    const json_t *donor = json_object_get(r, "donor");
    const json_t *pay = json_object_get(r, "payment");
    const char *cur = sget(r, "currency");
    pdf_set_footer(d, sget(org, "name"), "{n} / {total}");
    if (json_is_true(json_object_get(r, "voided"))) {
        pdf_set_watermark(d, "ملغى · VOID");
    }
    pdf_title(d, sget(org, "name"));
    pdf_text(d, i18n_get("ar", "st.receipt.title"), PDF_TEXT_BOLD | PDF_TEXT_LARGE);
    pdf_text(d, i18n_get("en", "st.receipt.title"), PDF_TEXT_BOLD | PDF_TEXT_LARGE);
    pdf_rule(d);
    char t1[96];
    char t2[96];
    struct buf amount = BUF_INIT;
    money_text(&amount, r, "amount", cur);
    struct buf fee = BUF_INIT;
    money_text(&fee, pay, "fee", cur);
    struct buf hijri = BUF_INIT;
    const json_t *h = json_object_get(r, "issued_on_hijri");
    buf_addf(&hijri, RLI "%s" PDI " · " LRI "%s" PDI, sget(h, "ar"), sget(h, "en"));
    struct buf method = BUF_INIT;
    const char *mk = sget(pay, "method");
    buf_addf(&method, RLI "%s" PDI " · " LRI "%s" PDI, label("ar", "st.method", mk, t1, sizeof t1),
             label("en", "st.method", mk, t2, sizeof t2));
    struct buf purpose = BUF_INIT;
    const json_t *purposes = json_object_get(r, "purposes");
    size_t i;
    const json_t *pv;
    json_array_foreach(purposes, i, pv)
    {
        const char *p = json_string_value(pv);
        buf_addf(&purpose, "%s" RLI "%s" PDI " · " LRI "%s" PDI, i ? " · " : "",
                 label("ar", "st.purpose", p, t1, sizeof t1),
                 label("en", "st.purpose", p, t2, sizeof t2));
    }
    if (purpose.len == 0) {
        buf_addf(&purpose, RLI "%s" PDI " · " LRI "%s" PDI,
                 i18n_get("ar", "st.purpose.sponsorship"),
                 i18n_get("en", "st.purpose.sponsorship"));
    }
    struct buf name = BUF_INIT;
    buf_addf(&name, FSI "%s" PDI, sget(donor, "name"));
    if (*sget(donor, "name_latin")) {
        buf_addf(&name, " · " FSI "%s" PDI, sget(donor, "name_latin"));
    }
    struct buf tax = BUF_INIT;
    if (*sget(donor, "tax_name")) {
        buf_addf(&tax, FSI "%s" PDI, sget(donor, "tax_name"));
    }
    if (*sget(donor, "tax_id")) {
        buf_addf(&tax, "%s" FSI "%s" PDI, tax.len ? " · " : "", sget(donor, "tax_id"));
    }
    struct {
        const char *key;   /* catalog key */
        const char *value; /* the value */
    } rows[] = {
        {"st.receipt.number", sget(r, "receipt_no")},
        {"st.receipt.date", sget(r, "issued_on")},
        {"st.receipt.date_hijri", hijri.buf},
        {"st.receipt.donor", name.buf},
        {"st.receipt.donor_no", sget(donor, "donor_no")},
        {"st.receipt.tax", tax.buf},
        {"st.receipt.amount", amount.buf},
        {"st.receipt.method", method.buf},
        {"st.receipt.received_on", sget(pay, "received_on")},
        {"st.receipt.reference", sget(pay, "reference")},
        {"st.receipt.payment_no", sget(pay, "payment_no")},
        {"st.receipt.purpose", purpose.buf},
        {"st.receipt.fee", fee.buf},
    };
    enum { N_ROWS = sizeof rows / sizeof rows[0] };
    const char *cells[N_ROWS * 3];
    for (int k = 0; k < N_ROWS; k++) {
        cells[k * 3] = i18n_get("ar", rows[k].key);
        cells[k * 3 + 1] = *rows[k].value ? rows[k].value : "—";
        cells[k * 3 + 2] = i18n_get("en", rows[k].key);
    }
    static const struct pdf_col cols[3] = {
        {NULL, 1.1, PDF_ALIGN_START}, {NULL, 2.2, PDF_ALIGN_CENTER}, {NULL, 1.1, PDF_ALIGN_END}};
    pdf_table(d, cols, 3, cells, N_ROWS);
    if (json_is_true(json_object_get(r, "voided"))) {
        struct buf v = BUF_INIT;
        buf_addf(&v, "%s %s", i18n_get("ar", "st.receipt.voided"), sget(r, "voided_at"));
        pdf_text(d, v.buf, PDF_TEXT_BOLD);
        buf_reset(&v);
        buf_addf(&v, "%s %s", i18n_get("en", "st.receipt.voided"), sget(r, "voided_at"));
        pdf_text(d, v.buf, PDF_TEXT_BOLD);
        buf_release(&v);
    }
    pdf_space(d, 4);
    pdf_text(d, i18n_get("ar", "st.receipt.thanks"), PDF_TEXT_MUTED);
    pdf_text(d, i18n_get("en", "st.receipt.thanks"), PDF_TEXT_MUTED);
    int rc = pdf_finish(d, out, e);
    pdf_free(d);
    buf_release(&amount);
    buf_release(&fee);
    buf_release(&hijri);
    buf_release(&method);
    buf_release(&purpose);
    buf_release(&name);
    buf_release(&tax);
    return rc;
}

/* The donor block of a statement: name, number, tax details. */
static void donor_block(struct pdf_doc *d, const json_t *donor, const char *lang)
{
    struct buf name = BUF_INIT;
    buf_adds(&name, sget(donor, "name"));
    if (*sget(donor, "name_latin")) {
        buf_addf(&name, " · %s", sget(donor, "name_latin"));
    }
    const char *kv[] = {i18n_get(lang, "st.receipt.donor"),    name.buf,
                        i18n_get(lang, "st.receipt.donor_no"), sget(donor, "donor_no"),
                        i18n_get(lang, "st.tax_name"),         sget(donor, "tax_name"),
                        i18n_get(lang, "st.tax_id"),           sget(donor, "tax_id")};
    pdf_kv(d, kv, 4);
    buf_release(&name);
}

int statement_annual_pdf(const json_t *an, const char *lang, struct buf *out, struct err *e)
{
    char title[160];
    snprintf(title, sizeof title, "%s %lld", i18n_get(lang, "st.annual.title"),
             (long long)json_integer_value(json_object_get(an, "year")));
    struct pdf_doc *d = pdf_new(lang, title, e);
    if (!d) {
        return -1;
    }
    const json_t *org = json_object_get(an, "organization");
    footer(d, org, lang);
    pdf_text(d, sget(org, "name"), PDF_TEXT_MUTED);
    pdf_title(d, title);
    donor_block(d, json_object_get(an, "donor"), lang);
    pdf_heading(d, i18n_get(lang, "st.annual.receipts"));
    const json_t *items = json_object_get(an, "receipts");
    size_t n = json_array_size(items);
    char **owned = xcalloc(n + 1, sizeof(char *));
    const char **cells = xcalloc((n + 1) * 4, sizeof(char *));
    char tmp[96];
    for (size_t i = 0; i < n; i++) {
        const json_t *it = json_array_get(items, i);
        struct buf a = BUF_INIT;
        money_text(&a, it, "amount", sget(it, "currency"));
        if (json_is_true(json_object_get(it, "voided"))) {
            buf_addf(&a, " (%s)", i18n_get(lang, "st.voided"));
        }
        owned[i] = buf_detach(&a, NULL);
        cells[i * 4] = sget(it, "receipt_no");
        cells[i * 4 + 1] = sget(it, "issued_on");
        cells[i * 4 + 2] = label(lang, "st.method", sget(it, "method"), tmp, sizeof tmp);
        cells[i * 4 + 3] = owned[i];
    }
    const struct pdf_col cols[4] = {{i18n_get(lang, "st.receipt.number"), 1.3, PDF_ALIGN_START},
                                    {i18n_get(lang, "st.receipt.date"), 1, PDF_ALIGN_START},
                                    {i18n_get(lang, "st.receipt.method"), 1, PDF_ALIGN_START},
                                    {i18n_get(lang, "st.receipt.amount"), 1.3, PDF_ALIGN_END}};
    if (n) {
        pdf_table(d, cols, 4, cells, (int)n);
    } else {
        pdf_paragraph(d, i18n_get(lang, "st.annual.none"));
    }
    pdf_heading(d, i18n_get(lang, "st.annual.totals"));
    const json_t *totals = json_object_get(an, "totals");
    size_t nt = json_array_size(totals);
    for (size_t i = 0; i < nt; i++) {
        const json_t *t = json_array_get(totals, i);
        struct buf line = BUF_INIT;
        money_text(&line, t, "amount", sget(t, "currency"));
        buf_addf(&line, " · %lld %s", (long long)json_integer_value(json_object_get(t, "count")),
                 i18n_get(lang, "st.annual.n_receipts"));
        pdf_text(d, line.buf, PDF_TEXT_BOLD | PDF_TEXT_LARGE);
        buf_release(&line);
    }
    if (!nt) {
        pdf_paragraph(d, "—");
    }
    pdf_space(d, 4);
    pdf_text(d, i18n_get(lang, "st.annual.note"), PDF_TEXT_SMALL | PDF_TEXT_MUTED);
    int rc = pdf_finish(d, out, e);
    pdf_free(d);
    for (size_t i = 0; i < n; i++) {
        free(owned[i]);
    }
    free(owned);
    free(cells);
    return rc;
}

/* Texts a PDF table needs to own until it is drawn. */
struct strs {
    char **v;   /* owned strings */
    size_t n;   /* in use */
    size_t cap; /* room */
};

/* Keeps a copy of the text in b (emptied) and returns it. */
static const char *keep(struct strs *s, struct buf *b)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = xrealloc(s->v, xmul(s->cap, sizeof(char *)));
    }
    char *p = buf_detach(b, NULL);
    s->v[s->n++] = p;
    return p;
}

/* Frees what s keeps. */
static void strs_release(struct strs *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i]);
    }
    free(s->v);
}

/* The child's name as a donor sees it: "سارة (Sara), 9". */
static void child_name(struct buf *b, const json_t *c, const char *lang)
{
    buf_adds(b, sget(c, "first_name"));
    if (*sget(c, "first_name_latin")) {
        buf_addf(b, " (%s)", sget(c, "first_name_latin"));
    }
    const json_t *age = json_object_get(c, "age");
    if (json_is_integer(age)) {
        buf_addf(b, "%s %s %lld", strcmp(lang, "ar") == 0 ? "،" : ",", i18n_get(lang, "st.age"),
                 (long long)json_integer_value(age));
    }
    if (*sget(c, "city")) {
        buf_addf(b, " · %s", sget(c, "city"));
    }
}

int statement_where_pdf(const json_t *w, const char *lang, struct buf *out, struct err *e)
{
    const char *title = i18n_get(lang, "st.where.title");
    struct pdf_doc *d = pdf_new(lang, title, e);
    if (!d) {
        return -1;
    }
    const json_t *org = json_object_get(w, "organization");
    footer(d, org, lang);
    pdf_text(d, sget(org, "name"), PDF_TEXT_MUTED);
    pdf_title(d, title);
    struct strs kept = {NULL, 0, 0};
    struct buf b = BUF_INIT;
    buf_addf(&b, "%s %s — %s", i18n_get(lang, "st.where.period"), sget(w, "from"), sget(w, "to"));
    pdf_paragraph(d, b.buf);
    buf_reset(&b);
    donor_block(d, json_object_get(w, "donor"), lang);
    char tmp[96];

    /* Totals, one key-value block per currency. */
    static const char *const tot_keys[] = {"given",     "fees",      "net",     "allocated",
                                           "passed_on", "in_payout", "waiting", "advance",
                                           "shortfall", "reversed"};
    enum { N_TOT = sizeof tot_keys / sizeof tot_keys[0] };
    const json_t *totals = json_object_get(w, "totals");
    size_t nt = json_array_size(totals);
    for (size_t i = 0; i < nt; i++) {
        const json_t *t = json_array_get(totals, i);
        const char *cur = sget(t, "currency");
        buf_addf(&b, "%s (%s)", i18n_get(lang, "st.where.totals"), cur);
        pdf_heading(d, b.buf);
        buf_reset(&b);
        const char *kv[N_TOT * 2];
        for (int k = 0; k < N_TOT; k++) {
            kv[k * 2] = label(lang, "st.total", tot_keys[k], tmp, sizeof tmp);
            money_text(&b, t, tot_keys[k], cur);
            kv[k * 2 + 1] = keep(&kept, &b);
        }
        pdf_kv(d, kv, N_TOT);
    }

    /* Each payment and where it went: one row per allocation. */
    pdf_heading(d, i18n_get(lang, "st.where.payments"));
    const json_t *pays = json_object_get(w, "payments");
    size_t rows = 0;
    for (size_t i = 0; i < json_array_size(pays); i++) {
        size_t na = json_array_size(json_object_get(json_array_get(pays, i), "allocations"));
        rows += na ? na : 1;
    }
    enum { NC = 5 };
    const char **cells = xcalloc(rows * NC + 1, sizeof(char *));
    size_t r = 0;
    for (size_t i = 0; i < json_array_size(pays); i++) {
        const json_t *p = json_array_get(pays, i);
        const char *cur = sget(p, "currency");
        /* The payment: date, receipt, amount, fee, method. */
        buf_addf(&b, "%s\n%s", sget(p, "received_on"), sget(p, "receipt_no"));
        const char *when = keep(&kept, &b);
        money_text(&b, p, "amount", cur);
        if (json_integer_value(json_object_get(p, "fee")) != 0) {
            buf_addf(&b, "\n%s ", i18n_get(lang, "st.total.fees"));
            money_text(&b, p, "fee", cur);
        }
        buf_addf(&b, "\n%s", label(lang, "st.method", sget(p, "method"), tmp, sizeof tmp));
        if (json_is_true(json_object_get(p, "voided"))) {
            buf_addf(&b, "\n%s", i18n_get(lang, "st.voided"));
        }
        const char *what = keep(&kept, &b);
        const json_t *als = json_object_get(p, "allocations");
        size_t na = json_array_size(als);
        if (na == 0) {
            cells[r * NC] = when;
            cells[r * NC + 1] = what;
            cells[r * NC + 2] = i18n_get(lang, "st.where.unallocated");
            cells[r * NC + 3] = "";
            cells[r * NC + 4] = "";
            r++;
            continue;
        }
        for (size_t k = 0; k < na; k++) {
            const json_t *al = json_array_get(als, k);
            child_name(&b, json_object_get(al, "child"), lang);
            buf_addf(&b, "\n%s · %s", sget(al, "agreement_no"),
                     label(lang, "st.purpose", sget(al, "purpose"), tmp, sizeof tmp));
            const char *child = keep(&kept, &b);
            buf_addf(&b, "%s — %s\n", sget(al, "period_start"), sget(al, "period_end"));
            money_text(&b, al, "amount", cur);
            const char *period = keep(&kept, &b);
            buf_adds(&b, label(lang, "st.state", sget(al, "state"), tmp, sizeof tmp));
            const json_t *po = json_object_get(al, "payout");
            if (json_is_object(po)) {
                buf_addf(&b, "\n%s %s", sget(po, "run_no"), sget(po, "paid_on"));
                if (*sget(po, "method")) {
                    buf_addf(&b, "\n%s",
                             label(lang, "st.payout", sget(po, "method"), tmp, sizeof tmp));
                }
                if (*sget(po, "proof_kind")) {
                    buf_addf(&b, " · %s",
                             label(lang, "st.proof", sget(po, "proof_kind"), tmp, sizeof tmp));
                }
            }
            const char *state = keep(&kept, &b);
            cells[r * NC] = k == 0 ? when : "";
            cells[r * NC + 1] = k == 0 ? what : "";
            cells[r * NC + 2] = child;
            cells[r * NC + 3] = period;
            cells[r * NC + 4] = state;
            r++;
        }
    }
    const struct pdf_col cols[NC] = {
        {i18n_get(lang, "st.col.date"), 1.3, PDF_ALIGN_START},
        {i18n_get(lang, "st.col.payment"), 1.1, PDF_ALIGN_START},
        {i18n_get(lang, "st.col.child"), 1.6, PDF_ALIGN_START},
        {i18n_get(lang, "st.col.period"), 1.3, PDF_ALIGN_START},
        {i18n_get(lang, "st.col.guardian"), 1.3, PDF_ALIGN_START},
    };
    if (r) {
        pdf_table(d, cols, NC, cells, (int)r);
    } else {
        pdf_paragraph(d, i18n_get(lang, "st.where.none"));
    }
    free(cells);

    /* Dues not paid. */
    const json_t *sf = json_object_get(w, "shortfall");
    size_t ns = json_array_size(sf);
    if (ns) {
        pdf_heading(d, i18n_get(lang, "st.where.shortfall"));
        const char **sc = xcalloc(ns * 3, sizeof(char *));
        for (size_t i = 0; i < ns; i++) {
            const json_t *o = json_array_get(sf, i);
            child_name(&b, json_object_get(o, "child"), lang);
            buf_addf(&b, "\n%s", sget(o, "agreement_no"));
            sc[i * 3] = keep(&kept, &b);
            buf_addf(&b, "%s — %s", sget(o, "period_start"), sget(o, "period_end"));
            sc[i * 3 + 1] = keep(&kept, &b);
            money_text(&b, o, "outstanding", sget(o, "currency"));
            sc[i * 3 + 2] = keep(&kept, &b);
        }
        const struct pdf_col scols[3] = {
            {i18n_get(lang, "st.col.child"), 1.6, PDF_ALIGN_START},
            {i18n_get(lang, "st.col.period"), 1.4, PDF_ALIGN_START},
            {i18n_get(lang, "st.col.outstanding"), 1, PDF_ALIGN_END},
        };
        pdf_table(d, scols, 3, sc, (int)ns);
        free(sc);
    }

    /* The check against the books. */
    pdf_space(d, 3);
    pdf_text(d,
             i18n_get(lang, json_is_true(json_object_get(w, "consistent"))
                                ? "st.where.consistent"
                                : "st.where.inconsistent"),
             PDF_TEXT_SMALL | PDF_TEXT_MUTED);
    buf_release(&b);
    int rc = pdf_finish(d, out, e);
    pdf_free(d);
    strs_release(&kept);
    return rc;
}
