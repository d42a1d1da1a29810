/*
 * agreements.c: sponsorship agreements (see sponsors.h): creating them (one
 * child, or siblings together), their life (pending, active, paused,
 * ended), changing a child's sponsor, and children.sponsored.
 */
#include <stdio.h>
#include <string.h>

#include "auth/authz.h"
#include "core/money.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "sponsorship/sponsors.h"
#include "sponsorship/sponsors_int.h"
#include "sponsorship/sponsorship.h"
#include "sponsorship/billing.h"
#include "core/banned.h"

/* The most children one request sponsors together. */
#define MAX_GROUP 20

/* Members sponsorship_create accepts. */
#define SP_MEMBERS                                                                                 \
    " child_id child_ids donor_id payer_id amount currency frequency purpose start_date"           \
    " end_date status "

/* One child of a new agreement, resolved. */
struct sp_child {
    const char *ref;    /* as given (id or file number) */
    char field[40];     /* where it was given: "child_id" or "child_ids[i]" */
    char id[40];        /* children.id */
    char household[40]; /* household_id, "" when none */
};

/* A validated new agreement. */
struct sp_new {
    struct sp_child child[MAX_GROUP]; /* the children */
    int n_child;                      /* how many */
    const char *donor_ref;            /* the sponsor as given */
    const char *payer_ref;            /* the payer as given, NULL for the default */
    struct money amount;              /* per child */
    const char *frequency;            /* SP_FREQUENCIES */
    const char *purpose;              /* SP_PURPOSES */
    const char *start_date;           /* YYYY-MM-DD */
    const char *end_date;             /* YYYY-MM-DD or NULL */
    const char *status;               /* "pending" or "active" */
};

/* Reads an enumerated string member (NULL when absent; a problem when not in values). */
static const char *choice(json_t *in, const char *field, const char *values, bool required,
                          json_t *errors)
{
    json_t *v = json_object_get(in, field);
    if (!v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v))) {
        if (required) {
            sp_problem(errors, field, "required");
        }
        return NULL;
    }
    const char *s = json_string_value(v);
    if (!s || !text_word_in(values, s)) {
        sp_problem(errors, field, "invalid_choice");
        return NULL;
    }
    return s;
}

/* Reads a date member (YYYY-MM-DD). */
static const char *date_member(json_t *in, const char *field, bool required, json_t *errors)
{
    const char *s = sp_text(in, field, 10, required, false, errors);
    if (s && !*s) {
        s = NULL;
    }
    if (s && !sp_date_ok(s)) {
        sp_problem(errors, field, "invalid_date");
        return NULL;
    }
    return s;
}

/* Validates the amount and currency members into m. */
static void amount_member(json_t *in, struct money *m, json_t *errors)
{
    const char *cur = sp_text(in, "currency", 3, true, false, errors);
    const char *amt = sp_text(in, "amount", 40, true, false, errors);
    if (json_is_number(json_object_get(in, "amount"))) {
        return; /* sp_text said invalid_type: amounts travel as decimal text */
    }
    if (cur && money_exponent(cur) < 0) {
        sp_problem(errors, "currency", "unknown_currency");
        return;
    }
    if (!cur || !amt) {
        return;
    }
    struct err me;
    err_clear(&me);
    if (money_parse(amt, cur, m, &me) < 0) {
        sp_problem(errors, "amount", me.code);
    } else if (m->minor <= 0) {
        sp_problem(errors, "amount", "not_positive");
    }
}

/* Validates input into n (the references are resolved later, inside the transaction). */
static void sp_check(json_t *input, struct sp_new *n, json_t *errors)
{
    memset(n, 0, sizeof(*n));
    sp_unknown_members(input, SP_MEMBERS, errors);
    json_t *one = json_object_get(input, "child_id");
    json_t *many = json_object_get(input, "child_ids");
    if (one && !json_is_null(one) && many && !json_is_null(many)) {
        sp_problem(errors, "child_ids", "child_id_or_ids");
    } else if (many && !json_is_null(many)) {
        if (!json_is_array(many) || json_array_size(many) == 0) {
            sp_problem(errors, "child_ids", json_is_array(many) ? "required" : "invalid_type");
        } else if (json_array_size(many) > MAX_GROUP) {
            sp_problem(errors, "child_ids", "too_many");
        } else {
            size_t i;
            json_t *v;
            json_array_foreach(many, i, v)
            {
                struct sp_child *c = &n->child[n->n_child++];
                snprintf(c->field, sizeof(c->field), "child_ids[%zu]", i);
                c->ref = json_string_value(v);
                if (!c->ref || !*c->ref || json_string_length(v) > 64 ||
                    strlen(c->ref) != json_string_length(v)) {
                    sp_problem(errors, c->field, "invalid_type");
                    c->ref = NULL;
                }
            }
        }
    } else {
        const char *ref = sp_text(input, "child_id", 64, true, false, errors);
        if (ref && *ref) {
            struct sp_child *c = &n->child[n->n_child++];
            snprintf(c->field, sizeof(c->field), "child_id");
            c->ref = ref;
        }
    }
    n->donor_ref = sp_text(input, "donor_id", 64, true, false, errors);
    n->payer_ref = sp_text(input, "payer_id", 64, false, false, errors);
    if (n->payer_ref && !*n->payer_ref) {
        n->payer_ref = NULL;
    }
    amount_member(input, &n->amount, errors);
    n->frequency = choice(input, "frequency", SP_FREQUENCIES, true, errors);
    n->purpose = choice(input, "purpose", SP_PURPOSES, false, errors);
    if (!n->purpose) {
        n->purpose = "general";
    }
    n->status = choice(input, "status", " pending active ", false, errors);
    if (!n->status) {
        n->status = "pending";
    }
    n->start_date = date_member(input, "start_date", true, errors);
    n->end_date = date_member(input, "end_date", false, errors);
    if (n->start_date && n->end_date && strcmp(n->end_date, n->start_date) <= 0) {
        sp_problem(errors, "end_date", "end_before_start");
    }
}

/* Resolves a donor reference (id or number) of org: 1 with id (and its own
 * payer, "" when none, in payer when not NULL), 0 when none or inactive, -1. */
static int donor_active(struct db *db, const char *org_id, const char *ref, char id[40],
                        char payer[40], struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT d.id, d.status, p.id FROM donors d"
                               " LEFT JOIN donors p ON p.id = d.payer_id AND p.status = 'active'"
                               " WHERE d.org_id = $1 AND (d.id = $2 OR d.donor_no = $2)",
                               "tt", org_id, ref);
    if (!s) {
        return found;
    }
    bool active = strcmp(db_col_text(s, 1), "active") == 0;
    snprintf(id, 40, "%s", db_col_text(s, 0));
    if (payer) {
        snprintf(payer, 40, "%s", db_col_text(s, 2) ? db_col_text(s, 2) : "");
    }
    db_done(s);
    return active ? 1 : 0;
}

/* Whether child_id has an active or paused agreement for purpose other than
 * except (may be NULL): 1 yes, 0 no, -1. */
static int purpose_taken(struct db *db, const char *child_id, const char *purpose,
                         const char *except, struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT 1 FROM sponsorships WHERE child_id = $1 AND purpose = $2"
                               " AND status IN ('active', 'paused') AND id <> $3",
                               "ttt", child_id, purpose, except ? except : "");
    if (s) {
        db_done(s);
        return 1;
    }
    return found;
}

/* Turns a unique violation of sponsorships_child_purpose_live (another officer activated an
 * agreement for the same child and purpose at the same moment) into "purpose_taken". Returns
 * -1. */
static int purpose_race(struct err *e)
{
    if (strcmp(e->code, "unique_violation") == 0) {
        err_set(e, ERR_CONFLICT, "purpose_taken", "purpose",
                "the child already has an agreement for this purpose");
    }
    return -1;
}

/* Resolves the children and people of n inside the transaction; problems
 * go to errors. Returns -1 on a database failure. */
static int sp_resolve(struct db *db, const struct actor *a, struct sp_new *n, char donor[40],
                      char payer[40], json_t *errors, struct err *e)
{
    char own_payer[40] = "";
    int rc = n->donor_ref ? donor_active(db, a->org_id, n->donor_ref, donor, own_payer, e) : 1;
    if (rc < 0) {
        return -1;
    }
    if (rc == 0) {
        sp_problem(errors, "donor_id", "no_such_donor");
    }
    if (n->payer_ref) {
        rc = donor_active(db, a->org_id, n->payer_ref, payer, NULL, e);
        if (rc < 0) {
            return -1;
        }
        if (rc == 0) {
            sp_problem(errors, "payer_id", "no_such_donor");
        }
    } else {
        snprintf(payer, 40, "%s", own_payer[0] ? own_payer : donor);
    }
    for (int i = 0; i < n->n_child; i++) {
        struct sp_child *c = &n->child[i];
        if (!c->ref) {
            continue;
        }
        int found;
        struct db_stmt *s = db_row(db, e, &found,
                                   "SELECT id, status, merged_into, household_id FROM children"
                                   " WHERE org_id = $1 AND (id = $2 OR file_no = $2)",
                                   "tt", a->org_id, c->ref);
        if (!s) {
            if (found < 0) {
                return -1;
            }
            sp_problem(errors, c->field, "no_such_child");
            continue;
        }
        bool ok = text_word_in(" registered active ", db_col_text(s, 1)) && db_col_null(s, 2);
        snprintf(c->id, sizeof(c->id), "%s", db_col_text(s, 0));
        snprintf(c->household, sizeof(c->household), "%s",
                 db_col_text(s, 3) ? db_col_text(s, 3) : "");
        db_done(s);
        if (!ok) {
            sp_problem(errors, c->field, "child_not_active");
            continue;
        }
        for (int j = 0; j < i; j++) {
            if (!strcmp(n->child[j].id, c->id)) {
                sp_problem(errors, c->field, "duplicate_child");
            }
        }
        if (n->n_child > 1 &&
            (!c->household[0] || strcmp(c->household, n->child[0].household) != 0)) {
            sp_problem(errors, c->field, "not_siblings");
        }
        rc = purpose_taken(db, c->id, n->purpose, NULL, e);
        if (rc < 0) {
            return -1;
        }
        if (rc == 1) {
            sp_problem(errors, c->field, "purpose_taken");
        }
    }
    return 0;
}

int sponsorship_child_flag_tx(struct db *db, const char *child_id, struct err *e)
{
    return db_run(db, e,
                  "UPDATE children SET sponsored = CASE WHEN EXISTS (SELECT 1 FROM sponsorships s"
                  " WHERE s.child_id = children.id AND s.status IN ('active', 'paused'))"
                  " THEN 1 ELSE 0 END WHERE id = $1",
                  "t", child_id) < 0
               ? -1
               : 0;
}

/* Inserts one agreement of n for child c (group_id may be NULL) and writes its id and number.
 * replaces: the agreement it follows (a sponsor change), or NULL. */
static int sp_insert(struct db *db, const struct actor *a, const struct sp_new *n,
                     const char *child_id, const char *donor, const char *payer,
                     const char *group_id, const char *replaces, char id[40], char no[24],
                     struct err *e)
{
    int y = 0, m, d;
    time_date_parse(n->start_date, &y, &m, &d);
    int64_t seq;
    if (spons_next_no_tx(db, a->org_id, "agreement", y, &seq, e) < 0) {
        return -1;
    }
    char at[32];
    uuid_v7(id);
    snprintf(no, 24, "S-%04d-%05lld", y, (long long)seq);
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (db_run(db, e,
               "INSERT INTO sponsorships (id, org_id, agreement_no, child_id, donor_id, payer_id,"
               " amount, currency, frequency, purpose, start_date, end_date, status, group_id,"
               " next_due, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6,"
               " $7, $8, $9, $10, $11, $12, $13, $14, $11, $15, $16, $16)",
               "ttttttittttttttt", id, a->org_id, no, child_id, donor, payer, n->amount.minor,
               n->amount.currency, n->frequency, n->purpose, n->start_date, n->end_date, n->status,
               group_id, sp_who(a), at) < 0) {
        return purpose_race(e);
    }
    char detail[128];
    snprintf(detail, sizeof(detail), "%s%s%s", n->status, replaces ? " replaces " : "",
             replaces ? replaces : "");
    if (sp_event_tx(db, a, id, "created", detail, e) < 0 ||
        actor_audit(db, a, "sponsorship.create", "sponsorship", id, "ok", no, e) < 0) {
        return -1;
    }
    return strcmp(n->status, "active") == 0 ? sponsorship_child_flag_tx(db, child_id, e) : 0;
}

int sponsorship_create_tx(struct db *db, const struct actor *a, json_t *input, json_t **created_out,
                          json_t **errors_out, struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to manage sponsorships");
    }
    if (!json_is_object(input)) {
        return err_set(e, ERR_INVALID, "invalid_type", NULL, "an agreement is an object");
    }
    struct sp_new n;
    json_t *errors = json_array();
    sp_check(input, &n, errors);
    char donor[40] = "", payer[40] = "";
    /* The references are checked even when other fields failed, so that a form shows every
     * problem at once. */
    if (sp_resolve(db, a, &n, donor, payer, errors, e) < 0) {
        json_decref(errors);
        return -1;
    }
    if (json_array_size(errors) > 0) {
        return sp_invalid(errors, errors_out, e);
    }
    json_decref(errors);
    char group[UUID_STR_LEN];
    if (n.n_child > 1) {
        uuid_v7(group);
    }
    json_t *created = json_array();
    for (int i = 0; i < n.n_child; i++) {
        char id[40], no[24];
        if (sp_insert(db, a, &n, n.child[i].id, donor, payer, n.n_child > 1 ? group : NULL, NULL,
                      id, no, e) < 0) {
            json_decref(created);
            return -1;
        }
        json_array_append_new(created, json_pack("{s:s, s:s, s:s}", "id", id, "agreement_no", no,
                                                 "child_id", n.child[i].id));
    }
    if (created_out) {
        *created_out = created;
    } else {
        json_decref(created);
    }
    return 0;
}

int sponsorship_create(struct db *db, const struct actor *a, json_t *input, json_t **created_out,
                       json_t **errors_out, struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to manage sponsorships");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    json_t *created = NULL;
    if (sponsorship_create_tx(db, a, input, &created, errors_out, e) < 0 || db_commit(db, e) < 0) {
        json_decref(created);
        return sp_fail(db);
    }
    if (created_out) {
        *created_out = created;
    } else {
        json_decref(created);
    }
    return 0;
}

/* An agreement's row as the life-cycle steps need it. */
struct sp_row {
    char id[40];         /* sponsorships.id */
    char no[24];         /* agreement number */
    char child_id[40];   /* the child */
    char donor_id[40];   /* the sponsor */
    char payer_id[40];   /* the payer */
    char status[12];     /* SP_STATUSES */
    char purpose[16];    /* SP_PURPOSES */
    char frequency[16];  /* SP_FREQUENCIES */
    char currency[4];    /* ISO 4217 */
    int64_t amount;      /* minor units */
    char start_date[11]; /* YYYY-MM-DD */
};

/* Loads agreement id of a's organization into row, inside the transaction. */
static int sp_load(struct db *db, const struct actor *a, const char *id, struct sp_row *row,
                   struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT id, agreement_no, child_id, donor_id, payer_id, status,"
                               " purpose, frequency, currency, amount, start_date"
                               " FROM sponsorships WHERE id = $1 AND org_id = $2",
                               "tt", id ? id : "", a->org_id);
    if (!s) {
        if (found == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such agreement");
        }
        return -1;
    }
    char *dst[] = {row->id,     row->no,      row->child_id,  row->donor_id, row->payer_id,
                   row->status, row->purpose, row->frequency, row->currency};
    size_t len[] = {sizeof(row->id),       sizeof(row->no),        sizeof(row->child_id),
                    sizeof(row->donor_id), sizeof(row->payer_id),  sizeof(row->status),
                    sizeof(row->purpose),  sizeof(row->frequency), sizeof(row->currency)};
    for (int i = 0; i < 9; i++) {
        snprintf(dst[i], len[i], "%s", db_col_text(s, i));
    }
    row->amount = db_col_int64(s, 9);
    snprintf(row->start_date, sizeof(row->start_date), "%s", db_col_text(s, 10));
    db_done(s);
    return 0;
}

/* Sets an agreement's status (and updated_at), records the event and the audit entry. */
static int sp_move(struct db *db, const struct actor *a, const struct sp_row *row,
                   const char *status, const char *event, const char *detail, struct err *e)
{
    char at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    char action[48];
    snprintf(action, sizeof(action), "sponsorship.%s", event);
    if (db_run(db, e, "UPDATE sponsorships SET status = $1, updated_at = $2 WHERE id = $3", "ttt",
               status, at, row->id) < 0) {
        return purpose_race(e);
    }
    if (sp_event_tx(db, a, row->id, event, detail, e) < 0 ||
        actor_audit(db, a, action, "sponsorship", row->id, "ok", detail, e) < 0) {
        return -1;
    }
    return sponsorship_child_flag_tx(db, row->child_id, e);
}

/* Opens a write transaction and loads agreement id after the permission check. */
static int begin_step(struct db *db, const struct actor *a, const char *id, struct sp_row *row,
                      struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to manage sponsorships");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    if (sp_load(db, a, id, row, e) < 0) {
        return sp_fail(db);
    }
    return 0;
}

/* Fails a step whose agreement is in the wrong status. */
static int bad_status(struct db *db, const struct sp_row *row, struct err *e)
{
    db_rollback(db);
    return err_set(e, ERR_CONFLICT, "bad_status", "status", "the agreement is %s", row->status);
}

int sponsorship_activate(struct db *db, const struct actor *a, const char *id, struct err *e)
{
    struct sp_row row;
    if (begin_step(db, a, id, &row, e) < 0) {
        return -1;
    }
    if (strcmp(row.status, "pending") != 0) {
        return bad_status(db, &row, e);
    }
    int taken = purpose_taken(db, row.child_id, row.purpose, row.id, e);
    if (taken < 0) {
        return sp_fail(db);
    }
    if (taken) {
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "purpose_taken", "purpose",
                       "the child already has an agreement for this purpose");
    }
    if (sp_move(db, a, &row, "active", "activated", NULL, e) < 0 || db_commit(db, e) < 0) {
        return sp_fail(db);
    }
    return 0;
}

int sponsorship_pause(struct db *db, const struct actor *a, const char *id, const char *from_date,
                      const char *to_date, const char *reason, struct err *e)
{
    if (!from_date || !*from_date) {
        return err_set(e, ERR_INVALID, "required", "from_date", "'from_date' is required");
    }
    if (!sp_date_ok(from_date)) {
        return err_set(e, ERR_INVALID, "invalid_date", "from_date", "'from_date' is not a date");
    }
    if (to_date && *to_date && !sp_date_ok(to_date)) {
        return err_set(e, ERR_INVALID, "invalid_date", "to_date", "'to_date' is not a date");
    }
    if (to_date && *to_date && strcmp(to_date, from_date) < 0) {
        return err_set(e, ERR_INVALID, "end_before_start", "to_date",
                       "'to_date' is before 'from_date'");
    }
    if (reason && (strlen(reason) > 2000 || utf8_length(reason, strlen(reason)) > 500)) {
        return err_set(e, ERR_INVALID, "too_long", "reason", "'reason' is too long");
    }
    struct sp_row row;
    if (begin_step(db, a, id, &row, e) < 0) {
        return -1;
    }
    if (strcmp(row.status, "active") != 0) {
        return bad_status(db, &row, e);
    }
    if (strcmp(from_date, row.start_date) < 0) {
        db_rollback(db);
        return err_set(e, ERR_INVALID, "before_start", "from_date",
                       "'from_date' is before the agreement's start");
    }
    /* Dues generation reads at most SP_MAX_PAUSES pauses of an agreement;
     * more would be billed silently, so they are refused here. */
    int found;
    struct db_stmt *cnt =
        db_row(db, e, &found, "SELECT COUNT(*) FROM sponsorship_pauses WHERE sponsorship_id = $1",
               "t", row.id);
    if (!cnt) {
        return sp_fail(db);
    }
    int64_t n_pauses = db_col_int64(cnt, 0);
    db_done(cnt);
    if (n_pauses >= SP_MAX_PAUSES) {
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "too_many_pauses", "from_date",
                       "an agreement can be paused at most %d times; end it and make a new one",
                       SP_MAX_PAUSES);
    }
    char pid[UUID_STR_LEN], at[32], detail[32];
    uuid_v7(pid);
    time_format_iso(time_now_ms(), at, sizeof(at));
    snprintf(detail, sizeof(detail), "%s..%s", from_date, to_date && *to_date ? to_date : "");
    if (db_run(db, e,
               "INSERT INTO sponsorship_pauses (id, sponsorship_id, from_date, to_date, reason,"
               " created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
               "ttttttt", pid, row.id, from_date, to_date && *to_date ? to_date : NULL,
               reason && *reason ? reason : NULL, sp_who(a), at) < 0 ||
        dues_cancel_tx(db, a, row.id, from_date, to_date && *to_date ? to_date : NULL, NULL, e) <
            0 ||
        sp_move(db, a, &row, "paused", "paused", detail, e) < 0 || db_commit(db, e) < 0) {
        return sp_fail(db);
    }
    return 0;
}

int sponsorship_resume(struct db *db, const struct actor *a, const char *id, const char *on_date,
                       struct err *e)
{
    char day[11];
    if (on_date && *on_date) {
        if (!sp_date_ok(on_date)) {
            return err_set(e, ERR_INVALID, "invalid_date", "on_date", "'on_date' is not a date");
        }
        snprintf(day, sizeof(day), "%s", on_date);
    } else {
        sp_today(day);
    }
    struct sp_row row;
    if (begin_step(db, a, id, &row, e) < 0) {
        return -1;
    }
    if (strcmp(row.status, "paused") != 0) {
        return bad_status(db, &row, e);
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT id, from_date, to_date FROM sponsorship_pauses"
                               " WHERE sponsorship_id = $1 ORDER BY from_date DESC, id DESC"
                               " LIMIT 1",
                               "t", row.id);
    if (!s && found < 0) {
        return sp_fail(db);
    }
    char pid[40] = "", from[11] = "", to[11] = "";
    if (s) {
        snprintf(pid, sizeof(pid), "%s", db_col_text(s, 0));
        snprintf(from, sizeof(from), "%s", db_col_text(s, 1));
        snprintf(to, sizeof(to), "%s", db_col_text(s, 2) ? db_col_text(s, 2) : "");
        db_done(s);
    }
    if (pid[0] && strcmp(day, from) < 0) {
        db_rollback(db);
        return err_set(e, ERR_INVALID, "before_pause", "on_date",
                       "'on_date' is before the pause began");
    }
    char last[11];
    sp_add_days(day, -1, last);
    if (pid[0] && (!to[0] || strcmp(to, last) > 0) &&
        db_run(db, e, "UPDATE sponsorship_pauses SET to_date = $1 WHERE id = $2", "tt",
               strcmp(last, from) < 0 ? from : last, pid) < 0) {
        return sp_fail(db);
    }
    if (sp_move(db, a, &row, "active", "resumed", day, e) < 0 || db_commit(db, e) < 0) {
        return sp_fail(db);
    }
    return 0;
}

int sponsorship_end_tx(struct db *db, const struct actor *a, const char *id, const char *reason,
                       const char *end_date, const char *note, struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to manage sponsorships");
    }
    if (!reason || !*reason) {
        return err_set(e, ERR_INVALID, "required", "reason", "'reason' is required");
    }
    if (!text_word_in(SP_END_REASONS, reason)) {
        return err_set(e, ERR_INVALID, "invalid_choice", "reason", "unknown 'reason'");
    }
    char day[11];
    if (end_date && *end_date) {
        if (!sp_date_ok(end_date)) {
            return err_set(e, ERR_INVALID, "invalid_date", "end_date", "'end_date' is not a date");
        }
        snprintf(day, sizeof(day), "%s", end_date);
    } else {
        sp_today(day);
    }
    if (note && (strlen(note) > 4000 || utf8_length(note, strlen(note)) > 1000)) {
        return err_set(e, ERR_INVALID, "too_long", "note", "'note' is too long");
    }
    struct sp_row row;
    if (sp_load(db, a, id, &row, e) < 0) {
        return -1;
    }
    if (strcmp(row.status, "ended") == 0) {
        return err_set(e, ERR_CONFLICT, "bad_status", "status", "the agreement has ended");
    }
    if (strcmp(day, row.start_date) < 0) {
        /* An agreement that ends before it began never ran: end it on its first day. */
        if (strcmp(row.status, "pending") != 0 && strcmp(reason, "sponsor_changed") != 0) {
            return err_set(e, ERR_INVALID, "before_start", "end_date",
                           "'end_date' is before the agreement's start");
        }
        snprintf(day, sizeof(day), "%s", row.start_date);
    }
    char at[32], detail[1100];
    time_format_iso(time_now_ms(), at, sizeof(at));
    snprintf(detail, sizeof(detail), "%s %s%s%s", reason, day, note && *note ? " " : "",
             note && *note ? note : "");
    if (db_run(db, e,
               "UPDATE sponsorships SET end_date = $1, end_reason = $2, updated_at = $3"
               " WHERE id = $4",
               "tttt", day, reason, at, row.id) < 0 ||
        db_run(db, e,
               "UPDATE sponsorship_pauses SET to_date = $1 WHERE sponsorship_id = $2"
               " AND (to_date IS NULL OR to_date > $1)",
               "tt", day, row.id) < 0) {
        return -1;
    }
    /* Periods after the end are no longer owed: dues already generated for
     * them are cancelled (their money goes back to the payer as an advance). */
    char after[11];
    sp_add_days(day, 1, after);
    if (dues_cancel_tx(db, a, row.id, after, NULL, NULL, e) < 0) {
        return -1;
    }
    return sp_move(db, a, &row, "ended", "ended", detail, e);
}

int sponsorship_end(struct db *db, const struct actor *a, const char *id, const char *reason,
                    const char *end_date, const char *note, struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to manage sponsorships");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    if (sponsorship_end_tx(db, a, id, reason, end_date, note, e) < 0 || db_commit(db, e) < 0) {
        return sp_fail(db);
    }
    return 0;
}

/* Members sponsorship_change_sponsor accepts. */
#define CHANGE_MEMBERS " donor_id payer_id amount currency frequency purpose start_date note "

int sponsorship_change_sponsor(struct db *db, const struct actor *a, const char *id, json_t *input,
                               char new_id_out[40], json_t **errors_out, struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to manage sponsorships");
    }
    if (!json_is_object(input)) {
        return err_set(e, ERR_INVALID, "invalid_type", NULL, "the change is an object");
    }
    json_t *errors = json_array();
    sp_unknown_members(input, CHANGE_MEMBERS, errors);
    const char *note = sp_text(input, "note", 1000, false, true, errors);
    if (json_array_size(errors) > 0) {
        return sp_invalid(errors, errors_out, e);
    }
    if (db_begin(db, false, e) < 0) {
        json_decref(errors);
        return -1;
    }
    struct sp_row row;
    if (sp_load(db, a, id, &row, e) < 0) {
        json_decref(errors);
        return sp_fail(db);
    }
    if (!text_word_in(" active paused ", row.status)) {
        json_decref(errors);
        return bad_status(db, &row, e);
    }
    /* The new agreement: the old one's terms unless input says otherwise. */
    json_t *in = json_deep_copy(input);
    json_object_del(in, "note");
    char amount[48];
    sp_money_text(row.amount, row.currency, amount, sizeof(amount));
    if (!json_object_get(in, "amount") && !json_object_get(in, "currency")) {
        json_object_set_new(in, "amount", json_string(amount));
        json_object_set_new(in, "currency", json_string(row.currency));
    }
    if (!json_object_get(in, "frequency")) {
        json_object_set_new(in, "frequency", json_string(row.frequency));
    }
    if (!json_object_get(in, "purpose")) {
        json_object_set_new(in, "purpose", json_string(row.purpose));
    }
    json_object_set_new(in, "status", json_string("active"));
    struct sp_new n;
    sp_check(in, &n, errors);
    /* sp_check asked for a child: this one. */
    size_t i;
    json_t *p;
    json_array_foreach(errors, i, p)
    {
        if (!strcmp(json_string_value(json_object_get(p, "field")), "child_id")) {
            json_array_remove(errors, i);
            break;
        }
    }
    n.n_child = 1;
    snprintf(n.child[0].field, sizeof(n.child[0].field), "child_id");
    n.child[0].ref = row.child_id;
    if (json_array_size(errors) == 0 && n.start_date && strcmp(n.start_date, row.start_date) <= 0) {
        sp_problem(errors, "start_date", "before_start");
    }
    char donor[40] = "", payer[40] = "";
    if (json_array_size(errors) == 0) {
        /* The old agreement ends first, so that the child's purpose is free again. */
        char last[11];
        sp_add_days(n.start_date, -1, last);
        if (sponsorship_end_tx(db, a, row.id, "sponsor_changed", last, note, e) < 0 ||
            sp_resolve(db, a, &n, donor, payer, errors, e) < 0) {
            json_decref(errors);
            json_decref(in);
            return sp_fail(db);
        }
        if (json_array_size(errors) == 0 && !strcmp(donor, row.donor_id)) {
            sp_problem(errors, "donor_id", "same_sponsor");
        }
    }
    if (json_array_size(errors) > 0) {
        json_decref(in);
        db_rollback(db);
        return sp_invalid(errors, errors_out, e);
    }
    json_decref(errors);
    char new_id[40], new_no[24];
    int rc = sp_insert(db, a, &n, row.child_id, donor, payer, NULL, row.no, new_id, new_no, e);
    json_decref(in);
    char detail[64];
    snprintf(detail, sizeof(detail), "%s", new_no);
    if (rc < 0 || sp_event_tx(db, a, row.id, "sponsor_changed", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        return sp_fail(db);
    }
    snprintf(new_id_out, 40, "%s", new_id);
    return 0;
}

json_t *sponsorship_get(struct db *db, const struct actor *a, const char *id, struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to see sponsorships");
        return NULL;
    }
    static const char *const cols[] = {
        "id",          "agreement_no", "child_id",   "file_no",    "first_name", "father_name",
        "family_name", "donor_id",     "donor_no",   "donor_name", "payer_id",   "payer_no",
        "payer_name",  "amount",       "currency",   "frequency",  "purpose",    "start_date",
        "end_date",    "status",       "end_reason", "group_id",   "next_due",   "notice_sent_at",
        "created_at",  "updated_at"};
    struct db_stmt *s = db_query(
        db, e,
        "SELECT s.id, s.agreement_no, s.child_id, c.file_no, c.first_name, c.father_name,"
        " c.family_name, s.donor_id, d.donor_no, d.name, s.payer_id, p.donor_no, p.name,"
        " s.amount, s.currency, s.frequency, s.purpose, s.start_date, s.end_date, s.status,"
        " s.end_reason, s.group_id, s.next_due, s.notice_sent_at, s.created_at, s.updated_at"
        " FROM sponsorships s JOIN children c ON c.id = s.child_id"
        " JOIN donors d ON d.id = s.donor_id JOIN donors p ON p.id = s.payer_id"
        " WHERE s.id = $1 AND s.org_id = $2",
        "tt", id, a->org_id);
    json_t *rows = json_array();
    int rc = s ? sp_rows_into(s, cols, 26, " amount ", " amount ", rows, e) : -1;
    json_t *j = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    if (rc < 0 || !j) {
        json_decref(j);
        if (rc >= 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such agreement");
        }
        return NULL;
    }
    static const char *const pcols[] = {"id", "from_date", "to_date", "reason", "created_at"};
    json_t *pauses = json_array();
    json_object_set_new(j, "pauses", pauses);
    s = db_query(db, e,
                 "SELECT id, from_date, to_date, reason, created_at FROM sponsorship_pauses"
                 " WHERE sponsorship_id = $1 ORDER BY from_date, id",
                 "t", id);
    rc = s ? sp_rows_into(s, pcols, 5, "", "", pauses, e) : -1;
    json_t *events = json_array();
    json_object_set_new(j, "events", events);
    if (rc >= 0) {
        static const char *const ecols[] = {"at", "kind", "detail", "by"};
        s = db_query(db, e,
                     "SELECT ev.at, ev.kind, ev.detail, COALESCE(u.display_name, ev.actor_id)"
                     " FROM sponsorship_events ev LEFT JOIN users u ON u.id = ev.actor_id"
                     " WHERE ev.sponsorship_id = $1 ORDER BY ev.at, ev.id",
                     "t", id);
        rc = s ? sp_rows_into(s, ecols, 4, "", "", events, e) : -1;
    }
    json_t *group = json_array();
    json_object_set_new(j, "group", group);
    const char *gid = json_string_value(json_object_get(j, "group_id"));
    if (rc >= 0 && gid) {
        static const char *const gcols[] = {"id", "agreement_no", "child_id", "first_name",
                                            "status"};
        s = db_query(db, e,
                     "SELECT s.id, s.agreement_no, s.child_id, c.first_name, s.status"
                     " FROM sponsorships s JOIN children c ON c.id = s.child_id"
                     " WHERE s.group_id = $1 AND s.org_id = $2 AND s.id <> $3"
                     " ORDER BY s.agreement_no",
                     "ttt", gid, a->org_id, id);
        rc = s ? sp_rows_into(s, gcols, 5, "", "", group, e) : -1;
    }
    if (rc < 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}

json_t *sponsorship_list(struct db *db, const struct actor *a, const struct sp_filter *f,
                         struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to see sponsorships");
        return NULL;
    }
    if (f->status && *f->status && !text_word_in(SP_STATUSES, f->status)) {
        err_set(e, ERR_INVALID, "invalid_parameter", "status", "unknown value of 'status'");
        return NULL;
    }
    const char *q = f->q ? f->q : "";
    if (strlen(q) > 200 || !utf8_valid(q, strlen(q))) {
        err_set(e, ERR_INVALID, "invalid_parameter", "q", "'q' is not valid");
        return NULL;
    }
    int per = f->per_page > 0 && f->per_page <= 200 ? f->per_page : 25;
    int page = f->page > 0 && f->page <= 1000000 ? f->page : 1;
    struct buf like = BUF_INIT;
    sp_like(q, &like);
    struct db_stmt *s = db_query(
        db, e,
        "SELECT s.id, s.agreement_no, s.child_id, c.file_no, c.first_name, c.family_name,"
        " s.donor_id, d.donor_no, d.name, s.amount, s.currency, s.frequency, s.purpose,"
        " s.start_date, s.end_date, s.status, s.group_id, COUNT(*) OVER ()"
        " FROM sponsorships s JOIN children c ON c.id = s.child_id"
        " JOIN donors d ON d.id = s.donor_id WHERE s.org_id = $1"
        " AND ($2 = '' OR s.status = $2) AND ($3 = '' OR s.donor_id = $3 OR s.payer_id = $3)"
        " AND ($4 = '' OR s.child_id = $4)"
        " AND ($5 = '' OR s.agreement_no = $5 OR c.file_no = $5 OR d.donor_no = $5"
        " OR LOWER(d.name) LIKE LOWER($6) ESCAPE '\\' OR LOWER(c.first_name) LIKE LOWER($6)"
        " ESCAPE '\\')"
        " ORDER BY s.created_at DESC, s.agreement_no DESC LIMIT $7 OFFSET $8",
        "ttttttii", a->org_id, f->status ? f->status : "", f->donor_id ? f->donor_id : "",
        f->child_id ? f->child_id : "", q, like.buf, (int64_t)per, (int64_t)(page - 1) * per);
    buf_release(&like);
    if (!s) {
        return NULL;
    }
    static const char *const cols[] = {
        "id",       "agreement_no", "child_id",   "file_no", "first_name", "family_name",
        "donor_id", "donor_no",     "donor_name", "amount",  "currency",   "frequency",
        "purpose",  "start_date",   "end_date",   "status",  "group_id",   "total"};
    json_t *items = json_array();
    if (sp_rows_into(s, cols, 18, " amount total ", " amount ", items, e) < 0) {
        json_decref(items);
        return NULL;
    }
    json_int_t total = json_integer_value(json_object_get(json_array_get(items, 0), "total"));
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        json_object_del(it, "total");
    }
    return json_pack("{s:o, s:I, s:i, s:i}", "items", items, "total", total, "page", page,
                     "per_page", per);
}
