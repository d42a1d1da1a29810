/*
 * family.c: households, guardians (with the history of who cared for a
 * child), and consent.
 */
#include <string.h>

#include "auth/authz.h"
#include "children/children.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "web/page.h"
#include "core/banned.h"

/* Ends a failed write transaction and passes on -1. */
static int fail(struct db *db)
{
    db_rollback(db);
    return -1;
}

/* Reads optional one-line text members of obj with their limits into out[]. */
static int read_members(json_t *obj, const char *const *names, const size_t *max,
                        const bool *required, int n, const char **out, struct err *e)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        bool known = false;
        for (int i = 0; i < n; i++) {
            known |= strcmp(names[i], key) == 0;
        }
        if (!known) {
            return err_set(e, ERR_INVALID, "unknown_field", key, "unknown field '%s'", key);
        }
    }
    for (int i = 0; i < n; i++) {
        if (json_str_member(obj, names[i], required[i], max[i], &out[i], e) < 0) {
            return -1;
        }
        if (out[i] && text_blank(out[i])) {
            out[i] = NULL;
        }
    }
    return 0;
}

int household_create(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                     struct err *e)
{
    if (!actor_can(a, PERM_CHILDREN_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to change the registry");
    }
    static const char *const names[] = {"name",  "governorate", "district", "locality",
                                        "camp",  "shelter",     "phone",    "notes"};
    static const size_t max[] = {120, 100, 100, 100, 100, 100, 30, 1000};
    static const bool req[] = {true, false, false, false, false, false, false, false};
    const char *v[8];
    if (read_members(input, names, max, req, 8, v, e) < 0) {
        return -1;
    }
    char id[UUID_STR_LEN], at[32];
    uuid_v7(id);
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    if (db_run(db, e,
               "INSERT INTO households (id, org_id, name, governorate, district, locality, camp,"
               " shelter, phone, notes, created_at, updated_at)"
               " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
               "ttttttttttt", id, a->org_id, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], at) <
            0 ||
        actor_audit(db, a, "household.create", "household", id, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    snprintf(id_out, 40, "%s", id);
    return 0;
}

json_t *household_get(struct db *db, const struct actor *a, const char *id, struct err *e)
{
    if (!actor_can(a, PERM_CHILDREN_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to read the registry");
        return NULL;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT id, name, governorate, district, locality, camp, shelter,"
                               " phone, notes, created_at FROM households"
                               " WHERE id = $1 AND org_id = $2",
                               "tt", id, a->org_id);
    if (!s) {
        if (found == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such household");
        }
        return NULL;
    }
    json_t *h = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s}", "id",
                          db_col_text(s, 0), "name", db_col_text(s, 1), "governorate",
                          db_col_text(s, 2), "district", db_col_text(s, 3), "locality",
                          db_col_text(s, 4), "camp", db_col_text(s, 5), "shelter",
                          db_col_text(s, 6), "phone", db_col_text(s, 7), "notes",
                          db_col_text(s, 8), "created_at", db_col_text(s, 9));
    db_done(s);
    /* Siblings are found, sponsored and visited together: the household lists them. */
    s = db_query(db, e,
                 "SELECT id, file_no, first_name, father_name, family_name, sex, birth_date, status"
                 " FROM children WHERE household_id = $1 AND org_id = $2 ORDER BY birth_date",
                 "tt", id, a->org_id);
    json_t *kids = json_array();
    int rc = s ? 0 : -1;
    while (s && (rc = db_step(s, e)) == 1) {
        json_array_append_new(kids, json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s, s:s, s:s}", "id",
                                              db_col_text(s, 0), "file_no", db_col_text(s, 1),
                                              "first_name", db_col_text(s, 2), "father_name",
                                              db_col_text(s, 3), "family_name", db_col_text(s, 4),
                                              "sex", db_col_text(s, 5), "birth_date",
                                              db_col_text(s, 6), "status", db_col_text(s, 7)));
    }
    if (s) {
        db_done(s);
    }
    s = rc < 0 ? NULL
               : db_query(db, e,
                          "SELECT id, full_name, relation, phone FROM guardians"
                          " WHERE household_id = $1 AND org_id = $2 ORDER BY created_at",
                          "tt", id, a->org_id);
    json_t *guardians = json_array();
    rc = s ? 0 : -1;
    while (s && (rc = db_step(s, e)) == 1) {
        json_array_append_new(guardians, json_pack("{s:s, s:s, s:s, s:s?}", "id",
                                                   db_col_text(s, 0), "full_name",
                                                   db_col_text(s, 1), "relation",
                                                   db_col_text(s, 2), "phone", db_col_text(s, 3)));
    }
    if (s) {
        db_done(s);
    }
    json_object_set_new(h, "children", kids);
    json_object_set_new(h, "guardians", guardians);
    if (rc < 0) {
        json_decref(h);
        return NULL;
    }
    return h;
}

/* The digits of a phone number (Arabic-Indic and Persian digits too), for search. */
static void phone_digits(const char *phone, char *out, size_t n)
{
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)phone; *p && k + 1 < n; p++) {
        if (*p >= '0' && *p <= '9') {
            out[k++] = (char)*p;
        } else if (p[0] == 0xd9 && p[1] >= 0xa0 && p[1] <= 0xa9) { /* ٠..٩ U+0660.. */
            out[k++] = (char)('0' + p[1] - 0xa0);
            p++;
        } else if (p[0] == 0xdb && p[1] >= 0xb0 && p[1] <= 0xb9) { /* ۰..۹ U+06F0.. */
            out[k++] = (char)('0' + p[1] - 0xb0);
            p++;
        }
    }
    out[k] = '\0';
}

int guardian_create(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                    struct err *e)
{
    if (!actor_can(a, PERM_CHILDREN_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to change the registry");
    }
    static const char *const names[] = {"full_name", "relation", "phone", "id_doc_type",
                                        "id_doc_number", "household_id"};
    static const size_t max[] = {120, 40, 30, 30, 40, 36};
    static const bool req[] = {true, true, false, false, false, false};
    const char *v[6];
    if (read_members(input, names, max, req, 6, v, e) < 0) {
        return -1;
    }
    char w[48];
    snprintf(w, sizeof(w), " %s ", v[1]);
    if (!strstr(GUARDIAN_RELATIONS, w) || strchr(v[1], ' ')) {
        return err_set(e, ERR_INVALID, "invalid_choice", "relation", "'relation' is not known");
    }
    char digits[40] = "";
    if (v[2]) {
        phone_digits(v[2], digits, sizeof(digits));
        if (strlen(digits) < 6) {
            return err_set(e, ERR_INVALID, "invalid_phone", "phone", "'phone' needs its digits");
        }
    }
    char id[UUID_STR_LEN], at[32];
    uuid_v7(id);
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    if (v[5]) {
        int found;
        struct db_stmt *s = db_row(db, e, &found,
                                   "SELECT id FROM households WHERE id = $1 AND org_id = $2", "tt",
                                   v[5], a->org_id);
        if (!s) {
            db_rollback(db);
            return found < 0 ? -1
                             : err_set(e, ERR_INVALID, "invalid_field", "household_id",
                                       "no such household");
        }
        db_done(s);
    }
    if (db_run(db, e,
               "INSERT INTO guardians (id, org_id, household_id, full_name, relation, phone,"
               " phone_digits, id_doc_type, id_doc_number, created_at, updated_at)"
               " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
               "tttttttttt", id, a->org_id, v[5], v[0], v[1], v[2], digits[0] ? digits : NULL,
               v[3], v[4], at) < 0 ||
        actor_audit(db, a, "guardian.create", "guardian", id, "ok", v[1], e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    snprintf(id_out, 40, "%s", id);
    return 0;
}

int child_set_guardian(struct db *db, const struct actor *a, const char *child_id,
                       const char *guardian_id, const char *reason, struct err *e)
{
    if (!actor_can(a, PERM_CHILDREN_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to change the registry");
    }
    if (reason && utf8_length(reason, strlen(reason)) > 500) {
        return err_set(e, ERR_INVALID, "too_long", "reason", "'reason' is too long");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT household_id FROM guardians WHERE id = $1 AND org_id = $2",
                               "tt", guardian_id ? guardian_id : "", a->org_id);
    if (!s) {
        db_rollback(db);
        return found < 0 ? -1
                         : err_set(e, ERR_INVALID, "invalid_field", "guardian_id",
                                   "no such guardian");
    }
    char household[40] = "";
    if (db_col_text(s, 0)) {
        snprintf(household, sizeof(household), "%s", db_col_text(s, 0));
    }
    db_done(s);
    char hid[UUID_STR_LEN], at[32];
    uuid_v7(hid);
    time_format_iso(time_now_ms(), at, sizeof(at));
    int64_t n = db_run(db, e,
                       "UPDATE children SET guardian_id = $1,"
                       " household_id = COALESCE($2, household_id), updated_at = $3,"
                       " version = version + 1 WHERE id = $4 AND org_id = $5",
                       "ttttt", guardian_id, household[0] ? household : NULL, at, child_id,
                       a->org_id);
    if (n == 0) {
        db_rollback(db);
        return err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such child");
    }
    if (n < 0 ||
        db_run(db, e,
               "INSERT INTO child_guardian_history (id, org_id, child_id, guardian_id,"
               " household_id, reason, by_user, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
               "tttttttt", hid, a->org_id, child_id, guardian_id,
               household[0] ? household : NULL, reason && *reason ? reason : NULL,
               a->user_id[0] ? a->user_id : "cli", at) < 0 ||
        actor_audit(db, a, "child.guardian", "child", child_id, "ok", guardian_id, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

int consent_record(struct db *db, const struct actor *a, const char *child_id, json_t *input,
                   char id_out[40], struct err *e)
{
    if (!actor_can(a, PERM_CHILDREN_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to record consent");
    }
    json_t *gc = json_object_get(input, "guardian_consent");
    json_t *ca = json_object_get(input, "child_assent");
    json_t *copy = json_deep_copy(input);
    json_object_del(copy, "guardian_consent");
    json_object_del(copy, "child_assent");
    static const char *const names[] = {"scope", "target_org", "given_by", "legal_basis"};
    static const size_t max[] = {20, 40, 120, 300};
    static const bool req[] = {true, false, false, false};
    const char *v[4];
    int rc = read_members(copy, names, max, req, 4, v, e);
    char scope[24] = "", target[48] = "", given[512] = "", basis[1300] = "";
    if (rc == 0) {
        snprintf(scope, sizeof(scope), "%s", v[0]);
        snprintf(target, sizeof(target), "%s", v[1] ? v[1] : "");
        snprintf(given, sizeof(given), "%s", v[2] ? v[2] : "");
        snprintf(basis, sizeof(basis), "%s", v[3] ? v[3] : "");
    }
    json_decref(copy);
    if (rc < 0) {
        return -1;
    }
    if ((gc && !json_is_boolean(gc)) || (ca && !json_is_boolean(ca))) {
        return err_set(e, ERR_INVALID, "invalid_type",
                       gc && !json_is_boolean(gc) ? "guardian_consent" : "child_assent",
                       "must be true or false");
    }
    char w[32];
    snprintf(w, sizeof(w), " %s ", scope);
    if (strchr(scope, ' ') || !strstr(CONSENT_SCOPES, w)) {
        return err_set(e, ERR_INVALID, "invalid_choice", "scope", "'scope' is not a consent scope");
    }
    if (strcmp(scope, "share_org") == 0 && !*target) {
        return err_set(e, ERR_INVALID, "required", "target_org",
                       "sharing needs the organization it is shared with");
    }
    bool guardian = gc && json_is_true(gc), child = ca && json_is_true(ca);
    /* Consent is the guardian's; where it is not the basis, the legal basis must be named. */
    if (!guardian && !*basis) {
        return err_set(e, ERR_INVALID, "required", "legal_basis",
                       "without the guardian's consent, name the legal basis");
    }
    char id[UUID_STR_LEN], at[32];
    uuid_v7(id);
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT id FROM children WHERE id = $1 AND org_id = $2", "tt",
                               child_id, a->org_id);
    if (!s) {
        db_rollback(db);
        return found < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such child");
    }
    db_done(s);
    if (db_run(db, e,
               "INSERT INTO consents (id, org_id, child_id, scope, target_org, guardian_consent,"
               " child_assent, given_by, legal_basis, recorded_by, recorded_at)"
               " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
               "tttttbbtttt", id, a->org_id, child_id, scope, *target ? target : NULL, guardian,
               child, *given ? given : NULL, *basis ? basis : NULL,
               a->user_id[0] ? a->user_id : "cli", at) < 0 ||
        actor_audit(db, a, "consent.record", "child", child_id, "ok", scope, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    snprintf(id_out, 40, "%s", id);
    return 0;
}

int consent_withdraw(struct db *db, const struct actor *a, const char *consent_id, struct err *e)
{
    if (!actor_can(a, PERM_CHILDREN_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to record consent");
    }
    char at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    int64_t n = db_run(db, e,
                       "UPDATE consents SET withdrawn_at = $1, withdrawn_by = $2"
                       " WHERE id = $3 AND org_id = $4 AND withdrawn_at IS NULL",
                       "tttt", at, a->user_id[0] ? a->user_id : "cli", consent_id, a->org_id);
    if (n < 0) {
        return fail(db);
    }
    if (n == 0) {
        db_rollback(db);
        return err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such consent in force");
    }
    if (actor_audit(db, a, "consent.withdraw", "consent", consent_id, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

json_t *consent_list(struct db *db, const struct actor *a, const char *child_id, struct err *e)
{
    if (!actor_can(a, PERM_CHILDREN_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to read the registry");
        return NULL;
    }
    struct db_stmt *s = db_query(db, e,
                                 "SELECT c.id, c.scope, c.target_org, c.guardian_consent,"
                                 " c.child_assent, c.given_by, c.legal_basis, c.recorded_at,"
                                 " c.withdrawn_at, COALESCE(u.display_name, c.recorded_by)"
                                 " FROM consents c LEFT JOIN users u ON u.id = c.recorded_by"
                                 " WHERE c.child_id = $1 AND c.org_id = $2"
                                 " ORDER BY c.recorded_at DESC",
                                 "tt", child_id, a->org_id);
    if (!s) {
        return NULL;
    }
    json_t *arr = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s?, s:b, s:b, s:s?, s:s?, s:s, s:s?, s:s, s:b}", "id",
                           db_col_text(s, 0), "scope", db_col_text(s, 1), "target_org",
                           db_col_text(s, 2), "guardian_consent", (int)db_col_int64(s, 3),
                           "child_assent", (int)db_col_int64(s, 4), "given_by", db_col_text(s, 5),
                           "legal_basis", db_col_text(s, 6), "recorded_at", db_col_text(s, 7),
                           "withdrawn_at", db_col_text(s, 8), "recorded_by", db_col_text(s, 9),
                           "active", db_col_null(s, 8)));
    }
    db_done(s);
    if (rc < 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

bool consent_active(struct db *db, const char *child_id, const char *scope,
                    const char *target_org)
{
    struct err e;
    err_clear(&e);
    int found;
    struct db_stmt *s = db_row(db, &e, &found,
                               "SELECT id FROM consents WHERE child_id = $1 AND scope = $2"
                               " AND withdrawn_at IS NULL AND ($3 = '' OR target_org = $3)"
                               " LIMIT 1",
                               "ttt", child_id, scope, target_org ? target_org : "");
    if (s) {
        db_done(s);
        return true;
    }
    return false;
}
