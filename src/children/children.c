/*
 * children.c: the registry service: create, change and read a child's
 * record; status changes; households and guardians; consent.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "children/children.h"
#include "children/search.h"
#include "core/buf.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "keys/keys.h"
#include "core/banned.h"

/* SQL built once from the field table (column names are the table's constants). */
static char *sql_insert;  /* INSERT INTO children (...) VALUES (...) */
static char *sql_select;  /* SELECT <meta>, <fields> FROM children WHERE id = $1 AND org_id = $2 */
static pthread_once_t sql_once = PTHREAD_ONCE_INIT;
#define META_COLS 10 /* id, file_no, status, status_reason, sponsored, created_at, updated_at,
                        version, household_id, guardian_id */

/* Builds the statements that name every field. */
static void build_sql(void)
{
    int n;
    const struct child_field *f = children_fields(&n);
    struct buf cols = BUF_INIT, vals = BUF_INIT, sel = BUF_INIT;
    buf_adds(&cols, "INSERT INTO children (id, org_id, file_no, status, created_by, created_at,"
                    " updated_at, version");
    buf_adds(&vals, " VALUES ($1, $2, $3, $4, $5, $6, $6, 1");
    buf_adds(&sel, "SELECT id, file_no, status, status_reason, sponsored, created_at, updated_at,"
                   " version, household_id, guardian_id");
    for (int i = 0; i < n; i++) {
        buf_addf(&cols, ", %s", f[i].name);
        buf_addf(&vals, ", $%d", 7 + i);
        buf_addf(&sel, ", %s", f[i].name);
    }
    buf_adds(&cols, ")");
    buf_adds(&vals, ")");
    buf_add(&cols, vals.buf, vals.len);
    buf_adds(&sel, " FROM children WHERE id = $1 AND org_id = $2");
    sql_insert = buf_detach(&cols, NULL);
    sql_select = buf_detach(&sel, NULL);
    buf_release(&vals);
}

/* Ends a failed write transaction and passes on -1. */
static int fail(struct db *db)
{
    db_rollback(db);
    return -1;
}

int children_age_limit(struct db *db, const char *org_id)
{
    struct err e;
    err_clear(&e);
    int found;
    struct db_stmt *s =
        db_row(db, &e, &found, "SELECT age_limit FROM org_settings WHERE org_id = $1", "t", org_id);
    int limit = 18;
    if (s) {
        limit = (int)db_col_int64(s, 0);
        db_done(s);
    }
    return limit;
}

/* Fills out with the next file number of org (pattern from org_settings:
 * {ORG} the upper-case slug, {YYYY} the year, {N...} the counter padded to
 * as many digits as N's). Inside the caller's write transaction. */
static int next_file_no(struct db *db, const struct actor *a, char out[64], struct err *e)
{
    int found;
    char pattern[128] = "{ORG}-{YYYY}-{NNNNNN}";
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT file_pattern FROM org_settings WHERE org_id = $1", "t",
                               a->org_id);
    if (s) {
        snprintf(pattern, sizeof(pattern), "%s", db_col_text(s, 0));
        db_done(s);
    } else if (found < 0) {
        return -1;
    }
    int y, m, d;
    time_today(&y, &m, &d);
    s = db_row(db, e, &found,
               "INSERT INTO file_counters (org_id, year, last) VALUES ($1, $2, 1)"
               " ON CONFLICT (org_id, year) DO UPDATE SET last = file_counters.last + 1"
               " RETURNING last",
               "ti", a->org_id, (int64_t)y);
    if (!s) {
        return found < 0 ? -1 : err_set(e, ERR_INTERNAL, "internal", NULL, "no counter");
    }
    int64_t n = db_col_int64(s, 0);
    db_done(s);
    struct buf b = BUF_INIT;
    for (const char *p = pattern; *p;) {
        if (strncmp(p, "{ORG}", 5) == 0) {
            for (const char *q = a->org_slug; *q; q++) {
                buf_addch(&b, *q >= 'a' && *q <= 'z' ? *q - 32 : *q);
            }
            p += 5;
        } else if (strncmp(p, "{YYYY}", 6) == 0) {
            buf_addf(&b, "%04d", y);
            p += 6;
        } else if (p[0] == '{' && p[1] == 'N') {
            int width = (int)strspn(p + 1, "N");
            buf_addf(&b, "%0*lld", width > 12 ? 12 : width, (long long)n);
            p += 1 + width + (p[1 + width] == '}');
        } else {
            buf_addch(&b, *p++);
        }
    }
    snprintf(out, 64, "%s", b.buf);
    buf_release(&b);
    return 0;
}

/* Checks that a household id belongs to the actor's organization. */
static int check_household(struct db *db, const struct actor *a, const char *id, struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT id FROM households WHERE id = $1 AND org_id = $2", "tt", id,
                               a->org_id);
    if (s) {
        db_done(s);
        return 0;
    }
    return found < 0 ? -1
                     : err_set(e, ERR_INVALID, "invalid_field", "household_id", "no such household");
}

/* The value to store for field f from validated input: the text, sealed for
 * sensitive fields; NULL when absent. */
static const char *stored_value(struct db *db, struct arena *ar, const struct actor *a,
                                const char *id, const struct child_field *f, json_t *input,
                                struct err *e, bool *failed)
{
    *failed = false;
    const char *v = json_string_value(json_object_get(input, f->name));
    if (!v && f->type == FIELD_BOOL) {
        return "0"; /* booleans are never unknown: absent means no */
    }
    if (!v || !f->sealed) {
        return v;
    }
    char *sealed = keys_seal(db, ar, a->org_id, id, f->name, v, strlen(v), e);
    if (!sealed) {
        *failed = true;
    }
    return sealed;
}

/* Writes one status change to the history, inside the caller's transaction. */
static int add_status_history(struct db *db, const struct actor *a, const char *child_id,
                              const char *from, const char *to, const char *reason,
                              const char *at, struct err *e)
{
    char hid[UUID_STR_LEN];
    uuid_v7(hid);
    return db_run(db, e,
                  "INSERT INTO child_status_history (id, org_id, child_id, from_status, to_status,"
                  " reason, by_user, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                  "tttttttt", hid, a->org_id, child_id, from, to, reason,
                  a->user_id[0] ? a->user_id : "cli", at) < 0
               ? -1
               : 0;
}

/* Makes the errors value for an invalid input and fills e. */
static int invalid(json_t *errors, json_t **errors_out, struct err *e)
{
    json_t *first = json_array_get(errors, 0);
    const char *field = json_string_value(json_object_get(first, "field"));
    const char *code = json_string_value(json_object_get(first, "code"));
    err_set(e, ERR_INVALID, "validation_failed", field, "%zu field(s) are not valid; first: '%s' %s",
            json_array_size(errors), field ? field : "", code ? code : "");
    if (errors_out) {
        *errors_out = errors;
    } else {
        json_decref(errors);
    }
    return -1;
}

int child_create_tx(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                    char file_no_out[64], json_t **errors_out, struct err *e)
{
    pthread_once(&sql_once, build_sql);
    if (errors_out) {
        *errors_out = NULL;
    }
    if (!actor_can(a, PERM_CHILDREN_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to register children");
    }
    json_t *errors = json_array();
    if (children_validate(input, true, children_age_limit(db, a->org_id), errors) > 0) {
        return invalid(errors, errors_out, e);
    }
    json_decref(errors);
    int n;
    const struct child_field *f = children_fields(&n);
    for (int i = 0; i < n; i++) {
        if (f[i].sealed && json_is_string(json_object_get(input, f[i].name)) &&
            !actor_can(a, PERM_CHILDREN_HEALTH)) {
            return err_set(e, ERR_FORBIDDEN, "forbidden", f[i].name,
                           "not allowed to record health details");
        }
    }
    const char *household = json_string_value(json_object_get(input, "household_id"));
    if (household && check_household(db, a, household, e) < 0) {
        return -1;
    }
    char id[UUID_STR_LEN], file_no[64], at[32];
    uuid_v7(id);
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (next_file_no(db, a, file_no, e) < 0) {
        return -1;
    }
    struct db_stmt *s = db_prepare(db, sql_insert, e);
    if (!s) {
        return -1;
    }
    struct arena ar;
    arena_init(&ar);
    db_bind_text(s, 1, id);
    db_bind_text(s, 2, a->org_id);
    db_bind_text(s, 3, file_no);
    db_bind_text(s, 4, "registered");
    db_bind_text(s, 5, a->user_id[0] ? a->user_id : "cli");
    db_bind_text(s, 6, at);
    bool failed = false;
    for (int i = 0; i < n && !failed; i++) {
        db_bind_text(s, 7 + i, stored_value(db, &ar, a, id, &f[i], input, e, &failed));
    }
    int rc = failed ? -1 : db_step(s, e);
    db_done(s);
    arena_release(&ar);
    if (rc < 0) {
        return -1;
    }
    if (add_status_history(db, a, id, NULL, "registered", NULL, at, e) < 0) {
        return -1;
    }
    if (children_index_names(db, a->org_id, id, input, e) < 0 ||
        actor_audit(db, a, "child.create", "child", id, "ok", file_no, e) < 0) {
        return -1;
    }
    snprintf(id_out, 40, "%s", id);
    if (file_no_out) {
        snprintf(file_no_out, 64, "%s", file_no);
    }
    return 0;
}

int child_create(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                 char file_no_out[64], json_t **errors_out, struct err *e)
{
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    if (child_create_tx(db, a, input, id_out, file_no_out, errors_out, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

/* Reads the record's current fields into a JSON object of stored texts
 * (sealed fields opened only when open_sealed), with the meta columns.
 * Returns NULL with ERR_NOT_FOUND when the child is not in a's organization. */
static json_t *load_child(struct db *db, const struct actor *a, const char *id, bool open_sealed,
                          struct err *e)
{
    pthread_once(&sql_once, build_sql);
    int found;
    struct db_stmt *s = db_row(db, e, &found, sql_select, "tt", id, a->org_id);
    if (!s) {
        if (found == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such child");
        }
        return NULL;
    }
    int n;
    const struct child_field *f = children_fields(&n);
    json_t *j = json_object();
    static const char *const meta[] = {"id", "file_no", "status", "status_reason"};
    for (int i = 0; i < 4; i++) {
        const char *v = db_col_text(s, i);
        json_object_set_new(j, meta[i], v ? json_string(v) : json_null());
    }
    json_object_set_new(j, "sponsored", json_boolean(db_col_int64(s, 4)));
    json_object_set_new(j, "created_at", json_string(db_col_text(s, 5)));
    json_object_set_new(j, "updated_at", json_string(db_col_text(s, 6)));
    json_object_set_new(j, "version", json_integer(db_col_int64(s, 7)));
    json_object_set_new(j, "guardian_id",
                        db_col_null(s, 9) ? json_null() : json_string(db_col_text(s, 9)));
    struct arena ar;
    arena_init(&ar);
    bool ok = true;
    for (int i = 0; i < n && ok; i++) {
        const char *v = db_col_text(s, META_COLS + i);
        if (f[i].sealed) {
            if (!open_sealed) {
                continue;
            }
            if (v) {
                v = keys_open(db, &ar, a->org_id, id, f[i].name, v, NULL, e);
                ok = v != NULL;
            }
        }
        if (f[i].type == FIELD_BOOL) {
            json_object_set_new(j, f[i].name, json_boolean(v && strcmp(v, "1") == 0));
        } else {
            json_object_set_new(j, f[i].name, v ? json_string(v) : json_null());
        }
    }
    arena_release(&ar);
    db_done(s);
    if (!ok) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* Age of a birth date; see children.h. */
int child_age(const char *birth)
{
    int y, m, d, ty, tm, td;
    if (!birth || time_date_parse(birth, &y, &m, &d) != 0) {
        return -1;
    }
    time_today(&ty, &tm, &td);
    int age = ty - y - ((tm < m || (tm == m && td < d)) ? 1 : 0);
    return age < 0 ? 0 : age;
}

json_t *child_get(struct db *db, const struct actor *a, const char *id, struct err *e)
{
    if (!actor_can(a, PERM_CHILDREN_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to read children");
        return NULL;
    }
    bool health = actor_can(a, PERM_CHILDREN_HEALTH);
    /* A view is written to the audit log in the same transaction as the read. */
    if (db_begin(db, false, e) < 0) {
        return NULL;
    }
    json_t *j = load_child(db, a, id, health, e);
    if (!j) {
        db_rollback(db);
        return NULL;
    }
    json_object_set_new(
        j, "age", json_integer(child_age(json_string_value(json_object_get(j, "birth_date")))));
    const char *household = json_string_value(json_object_get(j, "household_id"));
    if (household) {
        int found;
        struct db_stmt *s = db_row(db, e, &found, "SELECT name FROM households WHERE id = $1", "t",
                                   household);
        if (s) {
            json_object_set_new(j, "household", json_pack("{s:s, s:s}", "id", household, "name",
                                                          db_col_text(s, 0)));
            db_done(s);
        }
    }
    const char *guardian = json_string_value(json_object_get(j, "guardian_id"));
    if (guardian) {
        int found;
        struct db_stmt *s = db_row(db, e, &found,
                                   "SELECT full_name, relation, phone FROM guardians WHERE id = $1",
                                   "t", guardian);
        if (s) {
            json_object_set_new(j, "guardian",
                                json_pack("{s:s, s:s, s:s, s:s?}", "id", guardian, "full_name",
                                          db_col_text(s, 0), "relation", db_col_text(s, 1),
                                          "phone", db_col_text(s, 2)));
            db_done(s);
        }
    }
    if (actor_audit(db, a, "child.view", "child", id, "ok", health ? "with health" : NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        json_decref(j);
        db_rollback(db);
        return NULL;
    }
    return j;
}

int child_update(struct db *db, const struct actor *a, const char *id, json_t *input,
                 int64_t version, json_t **errors_out, struct err *e)
{
    if (errors_out) {
        *errors_out = NULL;
    }
    if (!actor_can(a, PERM_CHILDREN_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to change children");
    }
    int n;
    const struct child_field *f = children_fields(&n);
    for (int i = 0; i < n; i++) {
        if (f[i].sealed && json_object_get(input, f[i].name) &&
            !actor_can(a, PERM_CHILDREN_HEALTH)) {
            return err_set(e, ERR_FORBIDDEN, "forbidden", f[i].name,
                           "not allowed to change health details");
        }
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    json_t *current = load_child(db, a, id, false, e);
    if (!current) {
        return fail(db);
    }
    json_int_t cur_version = json_integer_value(json_object_get(current, "version"));
    if (version > 0 && version != cur_version) {
        json_decref(current);
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "version_conflict", "version",
                       "someone else changed this record: reload it");
    }
    json_t *errors = json_array();
    if (children_validate(input, false, children_age_limit(db, a->org_id), errors) > 0) {
        json_decref(current);
        db_rollback(db);
        return invalid(errors, errors_out, e);
    }
    json_decref(errors);
    const char *household = json_string_value(json_object_get(input, "household_id"));
    if (household && check_household(db, a, household, e) < 0) {
        json_decref(current);
        return fail(db);
    }
    /* One UPDATE naming only the fields given (names from the field table). */
    struct buf sql = BUF_INIT, changed = BUF_INIT;
    buf_adds(&sql, "UPDATE children SET version = version + 1, updated_at = $1");
    int p = 2;
    for (int i = 0; i < n; i++) {
        if (json_object_get(input, f[i].name)) {
            buf_addf(&sql, ", %s = $%d", f[i].name, p++);
            buf_addf(&changed, "%s%s", changed.len ? "," : "", f[i].name);
        }
    }
    buf_addf(&sql, " WHERE id = $%d AND org_id = $%d", p, p + 1);
    char at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    struct arena ar;
    arena_init(&ar);
    struct db_stmt *s = db_prepare(db, sql.buf, e);
    int rc = s ? 0 : -1;
    if (s) {
        db_bind_text(s, 1, at);
        int k = 2;
        bool failed = false;
        for (int i = 0; i < n && !failed; i++) {
            if (json_object_get(input, f[i].name)) {
                db_bind_text(s, k++, stored_value(db, &ar, a, id, &f[i], input, e, &failed));
            }
        }
        db_bind_text(s, k, id);
        db_bind_text(s, k + 1, a->org_id);
        rc = failed ? -1 : db_step(s, e);
        db_done(s);
    }
    arena_release(&ar);
    buf_release(&sql);
    /* The name keys follow the names: rebuilt from the record as it is now. */
    if (rc >= 0) {
        const char *key;
        json_t *v;
        json_object_foreach(input, key, v)
        {
            json_object_set(current, key, v);
        }
        rc = children_index_names(db, a->org_id, id, current, e);
    }
    json_decref(current);
    if (rc < 0 || actor_audit(db, a, "child.update", "child", id, "ok", changed.buf, e) < 0 ||
        db_commit(db, e) < 0) {
        buf_release(&changed);
        return fail(db);
    }
    buf_release(&changed);
    return 0;
}

/* The moves a status may make. */
static bool status_move_ok(const char *from, const char *to)
{
    static const struct {
        const char *from; /* current status */
        const char *to;   /* allowed next statuses, space-separated */
    } moves[] = {
        {"registered", " active closed transferred reunified "},
        {"active", " graduated transferred reunified closed "},
        {"graduated", " active closed "},
        {"transferred", " active closed "},
        {"reunified", " active closed "},
        {"closed", " registered active "},
    };
    for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
        if (strcmp(moves[i].from, from) == 0) {
            char w[24];
            snprintf(w, sizeof(w), " %s ", to);
            return strstr(moves[i].to, w) != NULL;
        }
    }
    return false;
}

int child_set_status(struct db *db, const struct actor *a, const char *id, const char *status,
                     const char *reason, struct err *e)
{
    if (!actor_can(a, PERM_CHILDREN_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to change children");
    }
    char w[32];
    snprintf(w, sizeof(w), " %s ", status ? status : "");
    if (!status || !*status || strlen(status) > 20 || !strstr(CHILD_STATUSES, w)) {
        return err_set(e, ERR_INVALID, "invalid_choice", "status", "'status' is not a status");
    }
    if (strcmp(status, "closed") == 0) {
        snprintf(w, sizeof(w), " %s ", reason ? reason : "");
        if (!reason || !*reason || strlen(reason) > 20 || !strstr(CHILD_CLOSE_REASONS, w)) {
            return err_set(e, ERR_INVALID, "invalid_choice", "reason",
                           "closing a record needs a reason");
        }
    } else if (reason && (!utf8_valid(reason, strlen(reason)) || utf8_length(reason, strlen(reason)) > 500)) {
        return err_set(e, ERR_INVALID, "too_long", "reason", "'reason' is too long");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT status FROM children WHERE id = $1 AND org_id = $2", "tt",
                               id, a->org_id);
    if (!s) {
        db_rollback(db);
        return found < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such child");
    }
    char from[24];
    snprintf(from, sizeof(from), "%s", db_col_text(s, 0));
    db_done(s);
    if (!status_move_ok(from, status)) {
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "invalid_transition", "status",
                       "a record cannot go from '%s' to '%s'", from, status);
    }
    char at[32], detail[64];
    time_format_iso(time_now_ms(), at, sizeof(at));
    snprintf(detail, sizeof(detail), "%s->%s", from, status);
    if (db_run(db, e,
               "UPDATE children SET status = $1, status_reason = $2, updated_at = $3,"
               " version = version + 1 WHERE id = $4",
               "tttt", status, reason && *reason ? reason : NULL, at, id) < 0 ||
        add_status_history(db, a, id, from, status, reason && *reason ? reason : NULL, at, e) < 0 ||
        actor_audit(db, a, "child.status", "child", id, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

json_t *child_history(struct db *db, const struct actor *a, const char *id, struct err *e)
{
    if (!actor_can(a, PERM_CHILDREN_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to read children");
        return NULL;
    }
    struct db_stmt *s = db_query(db, e,
                                 "SELECT h.at, h.from_status, h.to_status, h.reason,"
                                 " COALESCE(u.display_name, h.by_user) FROM child_status_history h"
                                 " LEFT JOIN users u ON u.id = h.by_user"
                                 " WHERE h.child_id = $1 AND h.org_id = $2 ORDER BY h.at DESC, h.id DESC",
                                 "tt", id, a->org_id);
    if (!s) {
        return NULL;
    }
    json_t *status = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_array_append_new(status, json_pack("{s:s, s:s?, s:s, s:s?, s:s}", "at",
                                                db_col_text(s, 0), "from", db_col_text(s, 1), "to",
                                                db_col_text(s, 2), "reason", db_col_text(s, 3),
                                                "by", db_col_text(s, 4)));
    }
    db_done(s);
    if (rc < 0) {
        json_decref(status);
        return NULL;
    }
    s = db_query(db, e,
                 "SELECT h.at, g.full_name, g.relation, hh.name, h.reason,"
                 " COALESCE(u.display_name, h.by_user) FROM child_guardian_history h"
                 " LEFT JOIN guardians g ON g.id = h.guardian_id"
                 " LEFT JOIN households hh ON hh.id = h.household_id"
                 " LEFT JOIN users u ON u.id = h.by_user"
                 " WHERE h.child_id = $1 AND h.org_id = $2 ORDER BY h.at DESC, h.id DESC",
                 "tt", id, a->org_id);
    if (!s) {
        json_decref(status);
        return NULL;
    }
    json_t *guardians = json_array();
    while ((rc = db_step(s, e)) == 1) {
        json_array_append_new(guardians,
                              json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s}", "at",
                                        db_col_text(s, 0), "guardian", db_col_text(s, 1),
                                        "relation", db_col_text(s, 2), "household",
                                        db_col_text(s, 3), "reason", db_col_text(s, 4), "by",
                                        db_col_text(s, 5)));
    }
    db_done(s);
    if (rc < 0) {
        json_decref(status);
        json_decref(guardians);
        return NULL;
    }
    return json_pack("{s:o, s:o}", "status", status, "guardians", guardians);
}

int children_settings_set(struct db *db, const struct actor *a, const char *file_pattern,
                          int age_limit, struct err *e)
{
    if (!actor_can(a, PERM_USERS_MANAGE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to change settings");
    }
    if (file_pattern) {
        size_t n = strlen(file_pattern);
        const char *counter = strstr(file_pattern, "{N");
        if (n == 0 || n > 60 || !utf8_valid(file_pattern, n) || !counter ||
            strspn(counter + 1, "N") < 3 || counter[1 + strspn(counter + 1, "N")] != '}') {
            return err_set(e, ERR_INVALID, "invalid_field", "file_pattern",
                           "'file_pattern' needs a counter of at least three N, e.g. {NNNNNN}");
        }
    }
    if (age_limit && (age_limit < 1 || age_limit > 25)) {
        return err_set(e, ERR_INVALID, "invalid_field", "age_limit",
                       "'age_limit' must be from 1 to 25");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    char detail[128];
    snprintf(detail, sizeof(detail), "pattern=%s age_limit=%d", file_pattern ? file_pattern : "-",
             age_limit);
    if (db_run(db, e,
               "INSERT INTO org_settings (org_id) VALUES ($1) ON CONFLICT (org_id) DO NOTHING",
               "t", a->org_id) < 0 ||
        (file_pattern && db_run(db, e, "UPDATE org_settings SET file_pattern = $1 WHERE org_id = $2",
                                "tt", file_pattern, a->org_id) < 0) ||
        (age_limit && db_run(db, e, "UPDATE org_settings SET age_limit = $1 WHERE org_id = $2",
                             "it", (int64_t)age_limit, a->org_id) < 0) ||
        actor_audit(db, a, "org.settings", "organization", a->org_id, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

int children_graduate_due(struct db *db, const struct actor *a, struct err *e)
{
    if (!actor_can(a, PERM_CHILDREN_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to change children");
    }
    int y, m, d;
    time_today(&y, &m, &d);
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    struct db_stmt *s = db_query(db, e,
                                 "SELECT o.id, o.slug, COALESCE(st.age_limit, 18) FROM organizations o"
                                 " LEFT JOIN org_settings st ON st.org_id = o.id"
                                 " WHERE ($1 = '' OR o.id = $1)",
                                 "t", a->org_id);
    json_t *orgs = json_array();
    int rc = s ? 0 : -1;
    while (s && (rc = db_step(s, e)) == 1) {
        json_array_append_new(orgs, json_pack("{s:s, s:s, s:I}", "id", db_col_text(s, 0), "slug",
                                              db_col_text(s, 1), "limit",
                                              (json_int_t)db_col_int64(s, 2)));
    }
    if (s) {
        db_done(s);
    }
    int total = 0;
    size_t i;
    json_t *o;
    json_array_foreach(orgs, i, o)
    {
        if (rc < 0) {
            break;
        }
        struct actor who = *a;
        snprintf(who.org_id, sizeof(who.org_id), "%s", json_string_value(json_object_get(o, "id")));
        snprintf(who.org_slug, sizeof(who.org_slug), "%s",
                 json_string_value(json_object_get(o, "slug")));
        /* Born on or before this date: the limit is reached (29 February counts as 28). */
        char cutoff[16];
        int cy = y - (int)json_integer_value(json_object_get(o, "limit"));
        snprintf(cutoff, sizeof(cutoff), "%04d-%02d-%02d", cy, m,
                 (m == 2 && d == 29 && !time_date_valid(cy, 2, 29)) ? 28 : d);
        s = db_query(db, e,
                     "SELECT id, status FROM children WHERE org_id = $1"
                     " AND status IN ('registered', 'active') AND birth_date <= $2",
                     "tt", who.org_id, cutoff);
        json_t *due = json_array();
        rc = s ? 0 : -1;
        while (s && (rc = db_step(s, e)) == 1) {
            json_array_append_new(due, json_pack("[ss]", db_col_text(s, 0), db_col_text(s, 1)));
        }
        if (s) {
            db_done(s);
        }
        char at[32];
        time_format_iso(time_now_ms(), at, sizeof(at));
        size_t k;
        json_t *c;
        json_array_foreach(due, k, c)
        {
            const char *id = json_string_value(json_array_get(c, 0));
            const char *from = json_string_value(json_array_get(c, 1));
            if (rc < 0 ||
                db_run(db, e,
                       "UPDATE children SET status = 'graduated', status_reason = 'age_limit',"
                       " updated_at = $1, version = version + 1 WHERE id = $2",
                       "tt", at, id) < 0 ||
                add_status_history(db, &who, id, from, "graduated", "age_limit", at, e) < 0 ||
                actor_audit(db, &who, "child.status", "child", id, "ok", "graduated: age limit",
                            e) < 0) {
                rc = -1;
                break;
            }
            total++;
        }
        json_decref(due);
    }
    json_decref(orgs);
    if (rc < 0 || db_commit(db, e) < 0) {
        return fail(db);
    }
    return total;
}
