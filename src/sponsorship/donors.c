/*
 * donors.c: donors and sponsors (see sponsors.h): their records, search,
 * the audited view with their agreements and giving, and the link to a
 * portal account.
 */
#include <stdio.h>
#include <string.h>

#include "auth/authz.h"
#include "cases/mail.h"
#include "core/buf.h"
#include "core/money.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "sponsorship/sponsors.h"
#include "sponsorship/sponsors_int.h"
#include "sponsorship/sponsorship.h"
#include "core/banned.h"

/* A text column of a donor: its JSON member (= column) and limits. */
struct donor_text {
    const char *name; /* member and column */
    size_t max;       /* most characters */
    bool multiline;   /* may hold line breaks */
};

/* The free-text columns, in the order they are bound. */
static const struct donor_text texts[] = {
    {"name", DONOR_NAME_MAX, false}, {"name_latin", DONOR_NAME_MAX, false},
    {"email", 254, false},           {"phone", 40, false},
    {"address", 300, true},          {"city", 100, false},
    {"country", 100, false},         {"tax_name", DONOR_NAME_MAX, false},
    {"tax_id", 60, false},           {"notes", DONOR_NOTES_MAX, true},
};
#define N_TEXTS (sizeof(texts) / sizeof(texts[0]))

/* Members donor_create accepts; donor_update also takes status. */
#define DONOR_MEMBERS                                                                              \
    " kind name name_latin email phone address city country preferred_lang preferred_channel"      \
    " contact_consent tax_name tax_id payer_id notes "

/* A validated donor: the values to store (borrowed from the input or
 * static), each with whether the input had it. */
struct donor_in {
    const char *text[N_TEXTS]; /* texts[] values; NULL: none */
    bool has_text[N_TEXTS];    /* the member was present */
    const char *kind;          /* DONOR_KINDS */
    const char *lang;          /* "ar" or "en" */
    const char *channel;       /* DONOR_CHANNELS */
    const char *status;        /* "active" or "inactive" */
    int consent;               /* 0 or 1; -1 when absent */
    const char *payer_ref;     /* payer id or number as given; "" clears */
    bool has_payer;            /* payer_id was present */
    char payer_id[40];         /* the payer resolved */
};

/* Reads a boolean member: true/false, or "1"/"0"/"on"/"true"/"false"/"". Returns 0/1, -1 when
 * absent, -2 when not a boolean. */
static int bool_member(json_t *v)
{
    if (!v || json_is_null(v)) {
        return -1;
    }
    if (json_is_boolean(v)) {
        return json_is_true(v) ? 1 : 0;
    }
    const char *s = json_string_value(v);
    if (!s) {
        return -2;
    }
    if (!strcmp(s, "1") || !strcmp(s, "on") || !strcmp(s, "true")) {
        return 1;
    }
    if (!*s || !strcmp(s, "0") || !strcmp(s, "false")) {
        return 0;
    }
    return -2;
}

/* Reads an enumerated member: absent gives dflt; a value not in values is a problem. */
static const char *enum_member(json_t *in, const char *field, const char *values, const char *dflt,
                               json_t *errors)
{
    json_t *v = json_object_get(in, field);
    if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
        return dflt; /* a blank choice is no choice: "required" is checked by the caller */
    }
    const char *s = json_string_value(v);
    if (!s || !text_word_in(values, s)) {
        sp_problem(errors, field, "invalid_choice");
        return dflt;
    }
    return s;
}

/* True when s is a plausible phone number: digits, spaces, + ( ) - and at least 5 digits. */
static bool phone_ok(const char *s)
{
    int digits = 0;
    for (const char *p = s; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            digits++;
        } else if (!strchr(" +()-", *p)) {
            return false;
        }
    }
    return digits >= 5;
}

/* Resolves a donor reference (id or donor number) of org into id (40
 * bytes), only when active when active_only. Returns 1, 0 or -1. */
static int donor_ref(struct db *db, const char *org_id, const char *ref, bool active_only,
                     char id[40], struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT id, status FROM donors WHERE org_id = $1"
                               " AND (id = $2 OR donor_no = $2)",
                               "tt", org_id, ref);
    if (!s) {
        return found;
    }
    bool ok = !active_only || strcmp(db_col_text(s, 1), "active") == 0;
    snprintf(id, 40, "%s", db_col_text(s, 0));
    db_done(s);
    return ok ? 1 : 0;
}

/* Validates input into d (creating: required members must be present).
 * Problems go to errors; the payer is resolved inside the transaction. */
static void donor_check(json_t *input, bool creating, struct donor_in *d, json_t *errors)
{
    memset(d, 0, sizeof(*d));
    d->consent = -1;
    sp_unknown_members(input, creating ? DONOR_MEMBERS : DONOR_MEMBERS "status ", errors);
    for (size_t i = 0; i < N_TEXTS; i++) {
        json_t *v = json_object_get(input, texts[i].name);
        d->has_text[i] = v != NULL;
        bool required = !strcmp(texts[i].name, "name") && (creating || v);
        d->text[i] =
            sp_text(input, texts[i].name, texts[i].max, required, texts[i].multiline, errors);
        if (d->text[i] && text_blank(d->text[i])) {
            d->text[i] = NULL;
        }
        if (!d->text[i]) {
            continue;
        }
        if (!strcmp(texts[i].name, "email") && !mail_address_valid(d->text[i])) {
            sp_problem(errors, "email", "invalid_email");
        } else if (!strcmp(texts[i].name, "phone") && !phone_ok(d->text[i])) {
            sp_problem(errors, "phone", "invalid_phone");
        }
    }
    json_t *kind = json_object_get(input, "kind");
    if ((creating || kind) &&
        (!kind || json_is_null(kind) || (json_is_string(kind) && !json_string_length(kind)))) {
        sp_problem(errors, "kind", "required");
    }
    d->kind = enum_member(input, "kind", DONOR_KINDS, NULL, errors);
    d->lang = enum_member(input, "preferred_lang", " ar en ", creating ? "ar" : NULL, errors);
    d->channel =
        enum_member(input, "preferred_channel", DONOR_CHANNELS, creating ? "email" : NULL, errors);
    d->status = enum_member(input, "status", " active inactive ", NULL, errors);
    d->consent = bool_member(json_object_get(input, "contact_consent"));
    if (d->consent == -2) {
        sp_problem(errors, "contact_consent", "invalid_type");
        d->consent = -1;
    }
    json_t *payer = json_object_get(input, "payer_id");
    if (payer) {
        d->has_payer = true;
        if (json_is_null(payer)) {
            d->payer_ref = "";
        } else if (!json_is_string(payer) || json_string_length(payer) > 64) {
            sp_problem(errors, "payer_id", "invalid_type");
        } else {
            d->payer_ref = json_string_value(payer);
        }
    }
}

/* Resolves d's payer inside the transaction; self_id is the donor being
 * changed (NULL when creating). Adds a problem when it is not an active
 * donor of the organization or the donor itself. Returns -1 on a database
 * failure. */
static int payer_resolve(struct db *db, const struct actor *a, struct donor_in *d,
                         const char *self_id, json_t *errors, struct err *e)
{
    if (!d->has_payer || !d->payer_ref || !*d->payer_ref) {
        return 0;
    }
    int rc = donor_ref(db, a->org_id, d->payer_ref, true, d->payer_id, e);
    if (rc < 0) {
        return -1;
    }
    if (rc == 0) {
        sp_problem(errors, "payer_id", "no_such_donor");
    } else if (self_id && strcmp(d->payer_id, self_id) == 0) {
        sp_problem(errors, "payer_id", "payer_self");
    }
    return 0;
}

int donor_create(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                 char no_out[16], json_t **errors_out, struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to manage donors");
    }
    if (!json_is_object(input)) {
        return err_set(e, ERR_INVALID, "invalid_type", NULL, "a donor is an object");
    }
    struct donor_in d;
    json_t *errors = json_array();
    donor_check(input, true, &d, errors);
    if (json_array_size(errors) > 0) {
        return sp_invalid(errors, errors_out, e);
    }
    if (db_begin(db, false, e) < 0) {
        json_decref(errors);
        return -1;
    }
    if (payer_resolve(db, a, &d, NULL, errors, e) < 0) {
        json_decref(errors);
        return sp_fail(db);
    }
    if (json_array_size(errors) > 0) {
        db_rollback(db);
        return sp_invalid(errors, errors_out, e);
    }
    json_decref(errors);
    int64_t n;
    if (spons_next_no_tx(db, a->org_id, "donor", 0, &n, e) < 0) {
        return sp_fail(db);
    }
    char id[UUID_STR_LEN], no[16], at[32];
    uuid_v7(id);
    snprintf(no, sizeof(no), "D-%06lld", (long long)n);
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (db_run(db, e,
               "INSERT INTO donors (id, org_id, donor_no, kind, name, name_latin, email, phone,"
               " address, city, country, tax_name, tax_id, notes, preferred_lang,"
               " preferred_channel, contact_consent, payer_id, status, created_by, created_at,"
               " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
               " $15, $16, $17, $18, 'active', $19, $20, $20)",
               "ttttttttttttttttittt", id, a->org_id, no, d.kind, d.text[0], d.text[1], d.text[2],
               d.text[3], d.text[4], d.text[5], d.text[6], d.text[7], d.text[8], d.text[9], d.lang,
               d.channel, (int64_t)(d.consent == 1), d.payer_id[0] ? d.payer_id : NULL, sp_who(a),
               at) < 0 ||
        actor_audit(db, a, "donor.create", "donor", id, "ok", no, e) < 0 || db_commit(db, e) < 0) {
        return sp_fail(db);
    }
    snprintf(id_out, 40, "%s", id);
    if (no_out) {
        snprintf(no_out, 16, "%s", no);
    }
    return 0;
}

int donor_update(struct db *db, const struct actor *a, const char *id, json_t *input,
                 json_t **errors_out, struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to manage donors");
    }
    if (!json_is_object(input)) {
        return err_set(e, ERR_INVALID, "invalid_type", NULL, "a donor is an object");
    }
    struct donor_in d;
    json_t *errors = json_array();
    donor_check(input, false, &d, errors);
    if (json_array_size(errors) > 0) {
        return sp_invalid(errors, errors_out, e);
    }
    if (db_begin(db, false, e) < 0) {
        json_decref(errors);
        return -1;
    }
    int found;
    struct db_stmt *s =
        db_row(db, e, &found, "SELECT donor_no FROM donors WHERE id = $1 AND org_id = $2", "tt", id,
               a->org_id);
    if (!s) {
        json_decref(errors);
        db_rollback(db);
        return found < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such donor");
    }
    char no[16];
    snprintf(no, sizeof(no), "%s", db_col_text(s, 0));
    db_done(s);
    if (payer_resolve(db, a, &d, id, errors, e) < 0) {
        json_decref(errors);
        return sp_fail(db);
    }
    if (json_array_size(errors) > 0) {
        db_rollback(db);
        return sp_invalid(errors, errors_out, e);
    }
    json_decref(errors);
    /* One statement per present member: column names come from the table above, never from
     * the input, and each statement stays cached. */
    char at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    struct buf changed = BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < N_TEXTS && rc == 0; i++) {
        if (d.has_text[i]) {
            char sql[96];
            snprintf(sql, sizeof(sql), "UPDATE donors SET %s = $1 WHERE id = $2", texts[i].name);
            rc = db_run(db, e, sql, "tt", d.text[i], id) < 0 ? -1 : 0;
            buf_addf(&changed, "%s%s", changed.len ? " " : "", texts[i].name);
        }
    }
    static const char *const enums[] = {"kind", "preferred_lang", "preferred_channel", "status"};
    const char *vals[] = {d.kind, d.lang, d.channel, d.status};
    for (size_t i = 0; i < 4 && rc == 0; i++) {
        if (vals[i]) {
            char sql[96];
            snprintf(sql, sizeof(sql), "UPDATE donors SET %s = $1 WHERE id = $2", enums[i]);
            rc = db_run(db, e, sql, "tt", vals[i], id) < 0 ? -1 : 0;
            buf_addf(&changed, "%s%s", changed.len ? " " : "", enums[i]);
        }
    }
    if (rc == 0 && d.consent >= 0) {
        rc = db_run(db, e, "UPDATE donors SET contact_consent = $1 WHERE id = $2", "it",
                    (int64_t)d.consent, id) < 0
                 ? -1
                 : 0;
        buf_addf(&changed, "%scontact_consent", changed.len ? " " : "");
    }
    if (rc == 0 && d.has_payer) {
        rc = db_run(db, e, "UPDATE donors SET payer_id = $1 WHERE id = $2", "tt",
                    d.payer_id[0] ? d.payer_id : NULL, id) < 0
                 ? -1
                 : 0;
        buf_addf(&changed, "%spayer_id", changed.len ? " " : "");
    }
    if (rc < 0 ||
        db_run(db, e, "UPDATE donors SET updated_at = $1 WHERE id = $2", "tt", at, id) < 0 ||
        actor_audit(db, a, "donor.update", "donor", id, "ok", changed.buf, e) < 0 ||
        db_commit(db, e) < 0) {
        buf_release(&changed);
        return sp_fail(db);
    }
    buf_release(&changed);
    return 0;
}

/* Appends a query's rows to arr as objects named by cols. Columns named in
 * ints (" a b ") become numbers; those also named in amounts are money in the
 * row's "currency" column and get a "<name>_text" decimal too. Returns the
 * step result and finishes s. */
int sp_rows_into(struct db_stmt *s, const char *const *cols, int n, const char *ints,
                 const char *amounts, json_t *arr, struct err *e)
{
    int cur_col = -1;
    for (int i = 0; i < n; i++) {
        if (!strcmp(cols[i], "currency")) {
            cur_col = i;
        }
    }
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_t *o = json_object();
        const char *cur = cur_col >= 0 ? db_col_text(s, cur_col) : NULL;
        for (int i = 0; i < n; i++) {
            const char *v = db_col_text(s, i);
            if (!v) {
                json_object_set_new(o, cols[i], json_null());
                continue;
            }
            if (!text_word_in(ints, cols[i])) {
                json_object_set_new(o, cols[i], json_string(v));
                continue;
            }
            int64_t x = db_col_int64(s, i);
            json_object_set_new(o, cols[i], json_integer((json_int_t)x));
            if (text_word_in(amounts, cols[i])) {
                char key[64], txt[48];
                snprintf(key, sizeof(key), "%s_text", cols[i]);
                json_object_set_new(o, key, json_string(sp_money_text(x, cur, txt, sizeof(txt))));
            }
        }
        json_array_append_new(arr, o);
    }
    db_done(s);
    return rc;
}

/* The donor columns donor_get shows, in SELECT order. */
static const char *const donor_cols[] = {"id",
                                         "donor_no",
                                         "kind",
                                         "name",
                                         "name_latin",
                                         "email",
                                         "phone",
                                         "address",
                                         "city",
                                         "country",
                                         "preferred_lang",
                                         "preferred_channel",
                                         "contact_consent",
                                         "tax_name",
                                         "tax_id",
                                         "payer_id",
                                         "payer_no",
                                         "payer_name",
                                         "user_id",
                                         "username",
                                         "notes",
                                         "status",
                                         "created_at",
                                         "updated_at"};
#define N_DONOR_COLS (int)(sizeof(donor_cols) / sizeof(donor_cols[0]))

json_t *donor_get(struct db *db, const struct actor *a, const char *id, struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to see donors");
        return NULL;
    }
    if (db_begin(db, false, e) < 0) {
        return NULL;
    }
    struct db_stmt *s = db_query(
        db, e,
        "SELECT d.id, d.donor_no, d.kind, d.name, d.name_latin, d.email, d.phone, d.address,"
        " d.city, d.country, d.preferred_lang, d.preferred_channel, d.contact_consent,"
        " d.tax_name, d.tax_id, d.payer_id, p.donor_no, p.name, d.user_id, u.username, d.notes,"
        " d.status, d.created_at, d.updated_at FROM donors d"
        " LEFT JOIN donors p ON p.id = d.payer_id LEFT JOIN users u ON u.id = d.user_id"
        " WHERE d.id = $1 AND d.org_id = $2",
        "tt", id, a->org_id);
    json_t *rows = json_array();
    int rc = s ? sp_rows_into(s, donor_cols, N_DONOR_COLS, " contact_consent ", "", rows, e) : -1;
    json_t *j = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    if (rc < 0 || !j) {
        json_decref(j);
        db_rollback(db);
        if (rc >= 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such donor");
        }
        return NULL;
    }
    json_object_set_new(
        j, "contact_consent",
        json_boolean(json_integer_value(json_object_get(j, "contact_consent")) != 0));
    /* Agreements as sponsor or as payer. */
    static const char *const acols[] = {"id",         "agreement_no", "child_id",  "file_no",
                                        "first_name", "family_name",  "donor_id",  "payer_id",
                                        "amount",     "currency",     "frequency", "purpose",
                                        "start_date", "end_date",     "status",    "end_reason"};
    json_t *agreements = json_array();
    json_object_set_new(j, "agreements", agreements);
    s = db_query(db, e,
                 "SELECT s.id, s.agreement_no, s.child_id, c.file_no, c.first_name, c.family_name,"
                 " s.donor_id, s.payer_id, s.amount, s.currency, s.frequency, s.purpose,"
                 " s.start_date, s.end_date, s.status, s.end_reason FROM sponsorships s"
                 " JOIN children c ON c.id = s.child_id"
                 " WHERE s.org_id = $1 AND (s.donor_id = $2 OR s.payer_id = $2)"
                 " ORDER BY CASE s.status WHEN 'active' THEN 0 WHEN 'paused' THEN 1"
                 " WHEN 'pending' THEN 2 ELSE 3 END, s.start_date DESC, s.agreement_no DESC",
                 "tt", a->org_id, id);
    rc = s ? sp_rows_into(s, acols, 16, " amount ", " amount ", agreements, e) : -1;
    /* Giving: payments (with their receipt) and totals per currency. */
    json_t *payments = json_array();
    json_object_set_new(j, "payments", payments);
    if (rc >= 0) {
        static const char *const pcols[] = {"id",     "payment_no",  "received_on", "amount",
                                            "fee",    "currency",    "method",      "reference",
                                            "status", "unallocated", "receipt_id",  "receipt_no"};
        s = db_query(db, e,
                     "SELECT p.id, p.payment_no, p.received_on, p.amount, p.fee, p.currency,"
                     " p.method, p.reference, p.status, p.unallocated, r.id, r.receipt_no"
                     " FROM payments p LEFT JOIN receipts r ON r.payment_id = p.id"
                     " WHERE p.org_id = $1 AND p.donor_id = $2"
                     " ORDER BY p.received_on DESC, p.payment_no DESC LIMIT 200",
                     "tt", a->org_id, id);
        rc = s ? sp_rows_into(s, pcols, 12, " amount fee unallocated ", " amount fee unallocated ",
                              payments, e)
               : -1;
    }
    json_t *totals = json_array();
    json_object_set_new(j, "totals", totals);
    if (rc >= 0) {
        static const char *const tcols[] = {"currency", "amount", "n_payments"};
        s = db_query(db, e,
                     "SELECT currency, SUM(amount), COUNT(*) FROM payments"
                     " WHERE org_id = $1 AND donor_id = $2 AND status = 'recorded'"
                     " GROUP BY currency ORDER BY currency",
                     "tt", a->org_id, id);
        rc = s ? sp_rows_into(s, tcols, 3, " amount n_payments ", " amount ", totals, e) : -1;
    }
    if (rc < 0 || actor_audit(db, a, "donor.view", "donor", id, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        json_decref(j);
        db_rollback(db);
        return NULL;
    }
    return j;
}

void sp_like(const char *q, struct buf *out)
{
    buf_addch(out, '%');
    for (const char *p = q; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\') {
            buf_addch(out, '\\');
        }
        buf_addch(out, *p);
    }
    buf_addch(out, '%');
}

json_t *donor_list(struct db *db, const struct actor *a, const char *q, const char *status,
                   int page, int per_page, struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to see donors");
        return NULL;
    }
    if (status && *status && !text_word_in(" active inactive ", status)) {
        err_set(e, ERR_INVALID, "invalid_parameter", "status", "unknown value of 'status'");
        return NULL;
    }
    if (q && (strlen(q) > 200 || !utf8_valid(q, strlen(q)))) {
        err_set(e, ERR_INVALID, "invalid_parameter", "q", "'q' is not valid");
        return NULL;
    }
    int per = per_page > 0 && per_page <= 200 ? per_page : 25;
    int pg = page > 0 && page <= 1000000 ? page : 1;
    /* The search reads e-mails and names: audited, so it needs a write
     * transaction; the read-only one a caller may hold is ended first. */
    if (db_in_transaction(db)) {
        db_rollback(db);
    }
    if (db_begin(db, false, e) < 0) {
        return NULL;
    }
    struct buf like = BUF_INIT;
    sp_like(q ? q : "", &like);
    struct db_stmt *s = db_query(
        db, e,
        "SELECT d.id, d.donor_no, d.kind, d.name, d.name_latin, d.city, d.status,"
        " (SELECT COUNT(*) FROM sponsorships s WHERE s.donor_id = d.id AND s.status IN"
        " ('active', 'paused')), COUNT(*) OVER () FROM donors d WHERE d.org_id = $1"
        " AND ($2 = '' OR d.status = $2) AND ($3 = '%%' OR LOWER(d.name) LIKE LOWER($3) ESCAPE '\\'"
        " OR LOWER(COALESCE(d.name_latin, '')) LIKE LOWER($3) ESCAPE '\\'"
        " OR LOWER(COALESCE(d.email, '')) LIKE LOWER($3) ESCAPE '\\'"
        " OR LOWER(d.donor_no) LIKE LOWER($3) ESCAPE '\\')"
        " ORDER BY d.name, d.donor_no LIMIT $4 OFFSET $5",
        "tttii", a->org_id, status ? status : "", like.buf, (int64_t)per, (int64_t)(pg - 1) * per);
    buf_release(&like);
    if (!s) {
        db_rollback(db);
        return NULL;
    }
    static const char *const cols[] = {"id",   "donor_no", "kind",     "name", "name_latin",
                                       "city", "status",   "n_active", "total"};
    json_t *items = json_array();
    char detail[320];
    snprintf(detail, sizeof(detail), "q=%s status=%s page=%d", q ? q : "",
             status && *status ? status : "all", pg);
    if (sp_rows_into(s, cols, 9, " n_active total ", "", items, e) < 0 ||
        actor_audit(db, a, "donor.list", "donor", NULL, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        json_decref(items);
        db_rollback(db);
        return NULL;
    }
    json_int_t total = json_integer_value(json_object_get(json_array_get(items, 0), "total"));
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        json_object_del(it, "total");
    }
    return json_pack("{s:o, s:I, s:i, s:i}", "items", items, "total", total, "page", pg, "per_page",
                     per);
}

int donor_link_user(struct db *db, const struct actor *a, const char *donor_id, const char *user_id,
                    struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to manage donors");
    }
    bool unlink = !user_id || !*user_id;
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found, "SELECT id FROM donors WHERE id = $1 AND org_id = $2",
                               "tt", donor_id, a->org_id);
    if (!s) {
        db_rollback(db);
        return found < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such donor");
    }
    db_done(s);
    char uid[40] = "";
    if (!unlink) {
        s = db_row(db, e, &found,
                   "SELECT id, role FROM users WHERE org_id = $1 AND (id = $2 OR username = $2)",
                   "tt", a->org_id, user_id);
        if (!s) {
            db_rollback(db);
            return found < 0 ? -1
                             : err_set(e, ERR_INVALID, "no_such_user", "user_id", "no such user");
        }
        bool donor_role = strcmp(db_col_text(s, 1), "donor") == 0;
        snprintf(uid, sizeof(uid), "%s", db_col_text(s, 0));
        db_done(s);
        if (!donor_role) {
            db_rollback(db);
            return err_set(e, ERR_INVALID, "not_donor_role", "user_id",
                           "the account does not have the donor role");
        }
        s = db_row(db, e, &found, "SELECT donor_no FROM donors WHERE user_id = $1 AND id <> $2",
                   "tt", uid, donor_id);
        if (s) {
            db_done(s);
            db_rollback(db);
            return err_set(e, ERR_CONFLICT, "user_linked", "user_id",
                           "the account is linked to another donor");
        }
        if (found < 0) {
            return sp_fail(db);
        }
    }
    char at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (db_run(db, e, "UPDATE donors SET user_id = $1, updated_at = $2 WHERE id = $3", "ttt",
               unlink ? NULL : uid, at, donor_id) < 0 ||
        actor_audit(db, a, unlink ? "donor.unlink_user" : "donor.link_user", "donor", donor_id,
                    "ok", unlink ? NULL : uid, e) < 0 ||
        db_commit(db, e) < 0) {
        return sp_fail(db);
    }
    return 0;
}

int donor_for_user(struct db *db, const char *user_id, char donor_id_out[40], struct err *e)
{
    if (!user_id || !*user_id) {
        return 0;
    }
    int found;
    struct db_stmt *s =
        db_row(db, e, &found, "SELECT id FROM donors WHERE user_id = $1 AND status = 'active'", "t",
               user_id);
    if (!s) {
        return found;
    }
    snprintf(donor_id_out, 40, "%s", db_col_text(s, 0));
    db_done(s);
    return 1;
}
