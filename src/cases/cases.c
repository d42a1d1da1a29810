/*
 * cases.c: the case workflow, assessments, plans, providers and tasks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "cases/cases.h"
#include "core/buf.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "keys/keys.h"
#include "web/page.h"
#include "core/banned.h"

/* Ends a failed write transaction and passes on -1. */
static int fail(struct db *db)
{
    db_rollback(db);
    return -1;
}

/* The user id to record for a (the command line has none). */
static const char *who(const struct actor *a)
{
    return a->user_id[0] ? a->user_id : "cli";
}

int case_contact_days(const char *risk)
{
    static const struct {
        const char *risk; /* level */
        int days;         /* days to the next contact */
    } table[] = {{"urgent", 1}, {"high", 7}, {"medium", 14}, {"low", 30}};
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (risk && strcmp(table[i].risk, risk) == 0) {
            return table[i].days;
        }
    }
    return -1;
}

void case_date_after(int days, char out[11])
{
    int y, m, d;
    time_today(&y, &m, &d);
    time_civil_from_days(time_days_from_civil(y, m, d) + days, &y, &m, &d);
    char tmp[40];
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", y, m, d);
    snprintf(out, 11, "%.10s", tmp);
}

/* Today as YYYY-MM-DD. */
static void today(char out[11])
{
    case_date_after(0, out);
}

void case_stages_enabled(struct db *db, const char *org_id, char *out, size_t n)
{
    struct err e;
    err_clear(&e);
    int found;
    struct db_stmt *s =
        db_row(db, &e, &found, "SELECT stages FROM case_settings WHERE org_id = $1", "t", org_id);
    snprintf(out, n, " %s ", s ? db_col_text(s, 0) : "assessment plan services follow_up");
    if (s) {
        db_done(s);
    }
}

int case_settings_set(struct db *db, const struct actor *a, const char *stages,
                      const char *meeting_base_url, struct err *e)
{
    if (!actor_can(a, PERM_USERS_MANAGE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to change settings");
    }
    struct buf canon = BUF_INIT;
    if (stages) {
        /* Every word must be a stage; the stored order is always the workflow's. */
        char copy[256];
        snprintf(copy, sizeof(copy), "%s", stages);
        char *save = NULL;
        for (char *w = strtok_r(copy, " ,", &save); w; w = strtok_r(NULL, " ,", &save)) {
            if (!text_word_in(CASE_STAGES, w)) {
                buf_release(&canon);
                return err_set(e, ERR_INVALID, "invalid_choice", "stages", "'%s' is not a stage",
                               w);
            }
        }
        static const char *const order[] = {"assessment", "plan", "services", "follow_up"};
        char spaced[300];
        snprintf(spaced, sizeof(spaced), " %s ", stages);
        for (char *p = spaced; *p; p++) {
            if (*p == ',') {
                *p = ' ';
            }
        }
        for (int i = 0; i < 4; i++) {
            char w[24];
            snprintf(w, sizeof(w), " %s ", order[i]);
            if (strstr(spaced, w)) {
                buf_addf(&canon, "%s%s", canon.len ? " " : "", order[i]);
            }
        }
    }
    if (meeting_base_url &&
        (strncmp(meeting_base_url, "https://", 8) != 0 || strlen(meeting_base_url) > 200 ||
         strpbrk(meeting_base_url, " \"'<>\r\n"))) {
        buf_release(&canon);
        return err_set(e, ERR_INVALID, "invalid_field", "meeting_base_url",
                       "'meeting_base_url' must be an https:// address");
    }
    if (db_begin(db, false, e) < 0) {
        buf_release(&canon);
        return -1;
    }
    int rc =
        db_run(db, e,
               "INSERT INTO case_settings (org_id) VALUES ($1) ON CONFLICT (org_id) DO NOTHING",
               "t", a->org_id) < 0 ||
                (stages && db_run(db, e, "UPDATE case_settings SET stages = $1 WHERE org_id = $2",
                                  "tt", canon.buf, a->org_id) < 0) ||
                (meeting_base_url &&
                 db_run(db, e, "UPDATE case_settings SET meeting_base_url = $1 WHERE org_id = $2",
                        "tt", meeting_base_url, a->org_id) < 0) ||
                actor_audit(db, a, "case.settings", "organization", a->org_id, "ok",
                            canon.len ? canon.buf : NULL, e) < 0 ||
                db_commit(db, e) < 0
            ? -1
            : 0;
    buf_release(&canon);
    return rc < 0 ? fail(db) : 0;
}

/* The first enabled stage after `after` (NULL: the first of all); "" when none. */
static const char *stage_after(const char *enabled, const char *after)
{
    static const char *const order[] = {"assessment", "plan", "services", "follow_up"};
    bool passed = after == NULL;
    for (int i = 0; i < 4; i++) {
        if (passed && text_word_in(enabled, order[i])) {
            return order[i];
        }
        if (after && strcmp(after, order[i]) == 0) {
            passed = true;
        }
    }
    return "";
}

/* Writes one event of the case's history (inside the caller's transaction). */
static int add_event(struct db *db, const struct actor *a, const char *case_id, const char *kind,
                     const char *detail, const char *comment, struct err *e)
{
    char id[UUID_STR_LEN], at[32];
    uuid_v7(id);
    time_format_iso(time_now_ms(), at, sizeof(at));
    return db_run(
               db, e,
               "INSERT INTO case_events (id, org_id, case_id, kind, detail, comment, by_user, at)"
               " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
               "tttttttt", id, a->org_id, case_id, kind, detail, comment, who(a), at) < 0
               ? -1
               : 0;
}

/* Checks that user_id is an active staff member of a's organization who may
 * work cases (holds cases.write). */
static int check_worker(struct db *db, const struct actor *a, const char *user_id,
                        const char *field, struct err *e)
{
    int found;
    struct db_stmt *s =
        db_row(db, e, &found, "SELECT role FROM users WHERE id = $1 AND org_id = $2 AND active = 1",
               "tt", user_id, a->org_id);
    if (!s) {
        return found < 0 ? -1 : err_set(e, ERR_INVALID, "invalid_field", field, "no such user");
    }
    bool ok = authz_allows(db_col_text(s, 0), PERM_CASES_WRITE);
    db_done(s);
    return ok ? 0
              : err_set(e, ERR_INVALID, "invalid_field", field,
                        "'%s' must be a user who works cases", field);
}

/* A case's state as the workflow needs it. */
struct case_row {
    char child_id[40];      /* the child */
    char worker_id[40];     /* its case worker */
    char specialist_id[40]; /* its psychosocial specialist, "" when none */
    char stage[24];         /* current stage, or "closed" */
    char status[12];        /* open or closed */
    char pending[16];       /* what waits for a decision, "" when nothing */
    char close_reason[40];  /* the reason given with a closure request */
    bool urgent;            /* the urgent flag is up */
};

/* Reads the case id of a's organization into row (inside a transaction). */
static int load_case(struct db *db, const struct actor *a, const char *id, struct case_row *row,
                     struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT child_id, worker_id, specialist_id, stage, status, pending,"
                               " close_reason, urgent FROM cases WHERE id = $1 AND org_id = $2",
                               "tt", id ? id : "", a->org_id);
    if (!s) {
        return found < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such case");
    }
    memset(row, 0, sizeof(*row));
    snprintf(row->child_id, sizeof(row->child_id), "%s", db_col_text(s, 0));
    snprintf(row->worker_id, sizeof(row->worker_id), "%s", db_col_text(s, 1));
    snprintf(row->specialist_id, sizeof(row->specialist_id), "%s",
             db_col_text(s, 2) ? db_col_text(s, 2) : "");
    snprintf(row->stage, sizeof(row->stage), "%s", db_col_text(s, 3));
    snprintf(row->status, sizeof(row->status), "%s", db_col_text(s, 4));
    snprintf(row->pending, sizeof(row->pending), "%s", db_col_text(s, 5) ? db_col_text(s, 5) : "");
    snprintf(row->close_reason, sizeof(row->close_reason), "%s",
             db_col_text(s, 6) ? db_col_text(s, 6) : "");
    row->urgent = db_col_int64(s, 7) != 0;
    db_done(s);
    return 0;
}

int case_open(struct db *db, const struct actor *a, const char *child_id, const char *worker_id,
              const char *specialist_id, char id_out[40], char case_no_out[32], struct err *e)
{
    if (!actor_can(a, PERM_CASES_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to open cases");
    }
    if (!child_id || !*child_id) {
        return err_set(e, ERR_INVALID, "required", "child_id", "'child_id' is required");
    }
    const char *worker = worker_id && *worker_id ? worker_id : a->user_id;
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT status FROM children WHERE id = $1 AND org_id = $2", "tt",
                               child_id, a->org_id);
    if (!s) {
        db_rollback(db);
        return found < 0 ? -1
                         : err_set(e, ERR_INVALID, "invalid_field", "child_id", "no such child");
    }
    bool closed = strcmp(db_col_text(s, 0), "closed") == 0;
    db_done(s);
    if (closed) {
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "child_closed", "child_id",
                       "the child's record is closed: reopen it first");
    }
    s = db_row(db, e, &found, "SELECT case_no FROM cases WHERE child_id = $1 AND status = 'open'",
               "t", child_id);
    if (s) {
        char no[32];
        snprintf(no, sizeof(no), "%s", db_col_text(s, 0));
        db_done(s);
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "case_open", "child_id",
                       "the child already has an open case (%s)", no);
    }
    if (found < 0 || check_worker(db, a, worker, "worker_id", e) < 0 ||
        (specialist_id && *specialist_id &&
         check_worker(db, a, specialist_id, "specialist_id", e) < 0)) {
        return fail(db);
    }
    char enabled[128];
    case_stages_enabled(db, a->org_id, enabled, sizeof(enabled));
    const char *stage = stage_after(enabled, NULL);
    if (!*stage) {
        stage = "follow_up";
    }
    int y, m, d;
    time_today(&y, &m, &d);
    s = db_row(db, e, &found,
               "INSERT INTO case_counters (org_id, year, last) VALUES ($1, $2, 1)"
               " ON CONFLICT (org_id, year) DO UPDATE SET last = case_counters.last + 1"
               " RETURNING last",
               "ti", a->org_id, (int64_t)y);
    if (!s) {
        return fail(db);
    }
    char case_no[32];
    snprintf(case_no, sizeof(case_no), "C-%04d-%05lld", y, (long long)db_col_int64(s, 0));
    db_done(s);
    char id[UUID_STR_LEN], at[32], next[11];
    uuid_v7(id);
    time_format_iso(time_now_ms(), at, sizeof(at));
    case_date_after(case_contact_days("medium"), next);
    if (db_run(db, e,
               "INSERT INTO cases (id, org_id, child_id, case_no, worker_id, specialist_id, stage,"
               " status, risk_level, urgent, next_contact, opened_at, updated_at, version)"
               " VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', 'medium', 0, $8, $9, $9, 1)",
               "ttttttttt", id, a->org_id, child_id, case_no, worker,
               specialist_id && *specialist_id ? specialist_id : NULL, stage, next, at) < 0 ||
        add_event(db, a, id, "opened", stage, NULL, e) < 0 ||
        actor_audit(db, a, "case.open", "case", id, "ok", case_no, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    snprintf(id_out, 40, "%s", id);
    if (case_no_out) {
        snprintf(case_no_out, 32, "%s", case_no);
    }
    return 0;
}

/* Appends a query's rows to arr as objects named by cols (NULL values become
 * null); returns the step result. */
static int rows_into(struct db_stmt *s, const char *const *cols, int n, json_t *arr,
                     struct err *e)
{
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_t *o = json_object();
        for (int i = 0; i < n; i++) {
            const char *v = db_col_text(s, i);
            json_object_set_new(o, cols[i], v ? json_string(v) : json_null());
        }
        json_array_append_new(arr, o);
    }
    db_done(s);
    return rc;
}

json_t *case_get(struct db *db, const struct actor *a, const char *id, struct err *e)
{
    if (!actor_can(a, PERM_CASES_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to read cases");
        return NULL;
    }
    if (db_begin(db, false, e) < 0) {
        return NULL;
    }
    int found;
    struct db_stmt *s = db_row(
        db, e, &found,
        "SELECT c.id, c.case_no, c.child_id, ch.file_no, ch.first_name, ch.father_name,"
        " ch.family_name, ch.birth_date, c.worker_id, w.display_name, c.specialist_id,"
        " sp.display_name, c.stage, c.status, c.pending, c.risk_level, c.urgent, c.next_contact,"
        " c.opened_at, c.plan_approved_at, c.closed_at, c.close_reason, c.version"
        " FROM cases c JOIN children ch ON ch.id = c.child_id"
        " JOIN users w ON w.id = c.worker_id LEFT JOIN users sp ON sp.id = c.specialist_id"
        " WHERE c.id = $1 AND c.org_id = $2",
        "tt", id, a->org_id);
    if (!s) {
        db_rollback(db);
        if (found == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such case");
        }
        return NULL;
    }
    static const char *const cols[] = {
        "id", "case_no", "child_id", "child_file_no", "child_first_name", "child_father_name",
        "child_family_name", "child_birth_date", "worker_id", "worker_name", "specialist_id",
        "specialist_name", "stage", "status", "pending", "risk_level", NULL, "next_contact",
        "opened_at", "plan_approved_at", "closed_at", "close_reason"};
    json_t *j = json_object();
    for (int i = 0; i < 22; i++) {
        if (!cols[i]) {
            continue;
        }
        const char *v = db_col_text(s, i);
        json_object_set_new(j, cols[i], v ? json_string(v) : json_null());
    }
    json_object_set_new(j, "urgent", json_boolean(db_col_int64(s, 16)));
    json_object_set_new(j, "version", json_integer(db_col_int64(s, 22)));
    db_done(s);
    int rc = 0;
    /* The latest assessment and plan, as summaries (notes are not included). */
    s = db_query(db, e,
                 "SELECT id, status, overall_risk, ratings, risks, digital, decision_comment,"
                 " updated_at FROM assessments WHERE case_id = $1 ORDER BY created_at DESC LIMIT 1",
                 "t", id);
    if (s && (rc = db_step(s, e)) == 1) {
        json_error_t je;
        json_t *ratings = json_loads(db_col_text(s, 3), 0, &je);
        json_t *risks = db_col_text(s, 4) ? json_loads(db_col_text(s, 4), 0, &je) : NULL;
        json_t *digital = db_col_text(s, 5) ? json_loads(db_col_text(s, 5), 0, &je) : NULL;
        json_object_set_new(
            j, "assessment",
            json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:s?, s:s}", "id", db_col_text(s, 0),
                      "status", db_col_text(s, 1), "overall_risk", db_col_text(s, 2), "ratings",
                      ratings ? ratings : json_object(), "risks", risks ? risks : json_array(),
                      "digital", digital ? digital : json_object(), "comment", db_col_text(s, 6),
                      "updated_at", db_col_text(s, 7)));
    }
    if (s) {
        db_done(s);
    }
    s = rc < 0 ? NULL
               : db_query(db, e,
                          "SELECT id, status, decision_comment, updated_at FROM plans"
                          " WHERE case_id = $1 ORDER BY created_at DESC LIMIT 1",
                          "t", id);
    char plan_id[40] = "";
    if (s && (rc = db_step(s, e)) == 1) {
        snprintf(plan_id, sizeof(plan_id), "%s", db_col_text(s, 0));
        json_object_set_new(j, "plan",
                            json_pack("{s:s, s:s, s:s?, s:s, s:[]}", "id", db_col_text(s, 0),
                                      "status", db_col_text(s, 1), "comment", db_col_text(s, 2),
                                      "updated_at", db_col_text(s, 3), "goals"));
    }
    if (s) {
        db_done(s);
    }
    if (rc >= 0 && *plan_id) {
        json_t *goals = json_object_get(json_object_get(j, "plan"), "goals");
        static const char *const gcols[] = {"id", "goal", "status"};
        s = db_query(db, e,
                     "SELECT id, goal, status FROM plan_goals WHERE plan_id = $1 ORDER BY position",
                     "t", plan_id);
        rc = s ? rows_into(s, gcols, 3, goals, e) : -1;
        size_t i;
        json_t *g;
        json_array_foreach(goals, i, g)
        {
            if (rc < 0) {
                break;
            }
            static const char *const acols[] = {"id",       "action",   "responsible",
                                                "provider", "due_date", "status", "outcome"};
            json_t *actions = json_array();
            json_object_set_new(g, "actions", actions);
            s = db_query(db, e,
                         "SELECT pa.id, pa.action, pa.responsible, p.name, pa.due_date, pa.status,"
                         " pa.outcome FROM plan_actions pa LEFT JOIN providers p"
                         " ON p.id = pa.provider_id WHERE pa.goal_id = $1 ORDER BY pa.position",
                         "t", json_string_value(json_object_get(g, "id")));
            rc = s ? rows_into(s, acols, 7, actions, e) : -1;
        }
    }
    if (rc >= 0) {
        static const char *const ecols[] = {"at", "kind", "detail", "comment", "by"};
        json_t *events = json_array();
        json_object_set_new(j, "events", events);
        s = db_query(db, e,
                     "SELECT ev.at, ev.kind, ev.detail, ev.comment,"
                     " COALESCE(u.display_name, ev.by_user) FROM case_events ev"
                     " LEFT JOIN users u ON u.id = ev.by_user WHERE ev.case_id = $1"
                     " ORDER BY ev.at DESC, ev.id DESC",
                     "t", id);
        rc = s ? rows_into(s, ecols, 5, events, e) : -1;
    }
    if (rc >= 0) {
        static const char *const tcols[] = {"id", "kind", "title", "due_date", "urgent_text"};
        json_t *tasks = json_array();
        json_object_set_new(j, "tasks", tasks);
        s = db_query(db, e,
                     "SELECT id, kind, title, due_date, CASE WHEN urgent = 1 THEN 'urgent' END"
                     " FROM tasks WHERE case_id = $1 AND done_at IS NULL ORDER BY due_date",
                     "t", id);
        rc = s ? rows_into(s, tcols, 5, tasks, e) : -1;
    }
    if (rc < 0 || actor_audit(db, a, "case.view", "case", id, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        json_decref(j);
        db_rollback(db);
        return NULL;
    }
    return j;
}

json_t *case_list(struct db *db, const struct actor *a, const struct case_filter *f,
                  struct err *e)
{
    if (!actor_can(a, PERM_CASES_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to read cases");
        return NULL;
    }
    const char *bad = NULL;
    if (f->status && strcmp(f->status, "open") && strcmp(f->status, "closed")) {
        bad = "status";
    } else if (f->stage && !text_word_in(CASE_STAGES " closed ", f->stage)) {
        bad = "stage";
    } else if (f->risk && !text_word_in(CASE_RISKS, f->risk)) {
        bad = "risk";
    }
    if (bad) {
        err_set(e, ERR_INVALID, "invalid_parameter", bad, "unknown value of '%s'", bad);
        return NULL;
    }
    int per = f->per_page > 0 && f->per_page <= 200 ? f->per_page : 25;
    int page = f->page > 0 ? f->page : 1;
    char day[11];
    today(day);
    struct db_stmt *s = db_query(
        db, e,
        "SELECT c.id, c.case_no, c.child_id, ch.first_name, ch.father_name, ch.family_name,"
        " c.stage, c.status, c.pending, c.risk_level, c.next_contact, w.display_name,"
        " CASE WHEN c.urgent = 1 THEN 'urgent' END, COUNT(*) OVER ()"
        " FROM cases c JOIN children ch ON ch.id = c.child_id JOIN users w ON w.id = c.worker_id"
        " WHERE c.org_id = $1 AND ($2 = '' OR c.status = $2) AND ($3 = '' OR c.stage = $3)"
        " AND ($4 = '' OR c.risk_level = $4)"
        " AND ($5 = '' OR c.worker_id = $5 OR c.specialist_id = $5)"
        " AND ($6 = '' OR c.child_id = $6) AND ($7 = 0 OR (c.status = 'open' AND c.next_contact < "
        "$8))"
        " AND ($9 = 0 OR c.pending IS NOT NULL)"
        " ORDER BY c.urgent DESC, c.next_contact, c.case_no LIMIT $10 OFFSET $11",
        "tttttti"
        "tiii",
        a->org_id, f->status ? f->status : "", f->stage ? f->stage : "", f->risk ? f->risk : "",
        f->worker_id ? f->worker_id : "", f->child_id ? f->child_id : "", (int64_t)f->overdue, day,
        (int64_t)f->pending, (int64_t)per, (int64_t)(page - 1) * per);
    if (!s) {
        return NULL;
    }
    json_t *items = json_array();
    int64_t total = 0;
    int rc;
    static const char *const cols[] = {"id",         "case_no",      "child_id",    "first_name",
                                       "father_name", "family_name", "stage",       "status",
                                       "pending",    "risk_level",   "next_contact", "worker_name",
                                       "urgent_text"};
    while ((rc = db_step(s, e)) == 1) {
        json_t *o = json_object();
        for (int i = 0; i < 13; i++) {
            const char *v = db_col_text(s, i);
            json_object_set_new(o, cols[i], v ? json_string(v) : json_null());
        }
        json_object_set_new(o, "overdue",
                            json_boolean(!strcmp(db_col_text(s, 7), "open") && db_col_text(s, 10) &&
                                         strcmp(db_col_text(s, 10), day) < 0));
        total = db_col_int64(s, 13);
        json_array_append_new(items, o);
    }
    db_done(s);
    if (rc < 0) {
        json_decref(items);
        return NULL;
    }
    return json_pack("{s:o, s:I, s:i, s:i}", "items", items, "total", (json_int_t)total, "page",
                     page, "per_page", per);
}

int case_assign(struct db *db, const struct actor *a, const char *id, const char *worker_id,
                const char *specialist_id, const char *reason, struct err *e)
{
    if (!actor_can(a, PERM_CASES_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to work cases");
    }
    if (reason && utf8_length(reason, strlen(reason)) > 500) {
        return err_set(e, ERR_INVALID, "too_long", "reason", "'reason' is too long");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    struct case_row row;
    if (load_case(db, a, id, &row, e) < 0 ||
        (worker_id && *worker_id && check_worker(db, a, worker_id, "worker_id", e) < 0) ||
        (specialist_id && *specialist_id &&
         check_worker(db, a, specialist_id, "specialist_id", e) < 0)) {
        return fail(db);
    }
    char at[32], detail[200];
    time_format_iso(time_now_ms(), at, sizeof(at));
    const char *w = worker_id && *worker_id ? worker_id : row.worker_id;
    const char *sp = specialist_id ? (*specialist_id ? specialist_id : NULL)
                                   : (row.specialist_id[0] ? row.specialist_id : NULL);
    snprintf(detail, sizeof(detail), "worker %s -> %s; specialist %s -> %s", row.worker_id, w,
             row.specialist_id[0] ? row.specialist_id : "-", sp ? sp : "-");
    if (db_run(db, e,
               "UPDATE cases SET worker_id = $1, specialist_id = $2, updated_at = $3,"
               " version = version + 1 WHERE id = $4",
               "tttt", w, sp, at, id) < 0 ||
        add_event(db, a, id, "assigned", detail, reason, e) < 0 ||
        actor_audit(db, a, "case.assign", "case", id, "ok", NULL, e) < 0 || db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

int case_submit(struct db *db, const struct actor *a, const char *id, const char *what,
                const char *reason, const char *note, struct err *e)
{
    if (!actor_can(a, PERM_CASES_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to work cases");
    }
    if (!text_word_in(" assessment plan closure ", what)) {
        return err_set(e, ERR_INVALID, "invalid_choice", "what",
                       "'what' must be assessment, plan or closure");
    }
    if (strcmp(what, "closure") == 0) {
        if (!text_word_in(CASE_CLOSE_REASONS, reason)) {
            return err_set(e, ERR_INVALID, "invalid_choice", "reason",
                           "closing a case needs a reason");
        }
        if (!note || text_blank(note) || utf8_length(note, strlen(note)) > 2000) {
            return err_set(e, ERR_INVALID, note && !text_blank(note) ? "too_long" : "required",
                           "note", "closing a case needs a note");
        }
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    struct case_row row;
    if (load_case(db, a, id, &row, e) < 0) {
        return fail(db);
    }
    if (strcmp(row.status, "open") != 0) {
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "case_closed", "id", "the case is closed");
    }
    if (row.pending[0]) {
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "already_pending", "what",
                       "'%s' is already waiting for a decision", row.pending);
    }
    if (strcmp(what, "closure") != 0 && strcmp(row.stage, what) != 0) {
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "wrong_stage", "what",
                       "the case is at the '%s' stage", row.stage);
    }
    char at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    int found = 1;
    if (strcmp(what, "assessment") == 0 || strcmp(what, "plan") == 0) {
        const char *sql = strcmp(what, "assessment") == 0
                              ? "SELECT id FROM assessments WHERE case_id = $1"
                                " AND status IN ('draft', 'sent_back')"
                                " ORDER BY created_at DESC LIMIT 1"
                              : "SELECT p.id FROM plans p WHERE p.case_id = $1"
                                " AND p.status IN ('draft', 'sent_back') AND EXISTS"
                                " (SELECT 1 FROM plan_goals g WHERE g.plan_id = p.id)"
                                " ORDER BY p.created_at DESC LIMIT 1";
        struct db_stmt *s = db_row(db, e, &found, sql, "t", id);
        if (!s) {
            db_rollback(db);
            return found < 0 ? -1
                             : err_set(e, ERR_CONFLICT, "nothing_to_submit", "what",
                                       strcmp(what, "plan") == 0
                                           ? "there is no draft plan with a goal to submit"
                                           : "there is no draft assessment to submit");
        }
        char doc[40];
        snprintf(doc, sizeof(doc), "%s", db_col_text(s, 0));
        db_done(s);
        if (db_run(
                db, e,
                strcmp(what, "assessment") == 0
                    ? "UPDATE assessments SET status = 'submitted', updated_at = $1 WHERE id = $2"
                    : "UPDATE plans SET status = 'submitted', updated_at = $1 WHERE id = $2",
                "tt", at, doc) < 0) {
            return fail(db);
        }
    }
    if (db_run(db, e,
               "UPDATE cases SET pending = $1, close_reason = $2, updated_at = $3,"
               " version = version + 1 WHERE id = $4",
               "tttt", what, strcmp(what, "closure") == 0 ? reason : NULL, at, id) < 0 ||
        add_event(db, a, id, "submitted", what, note, e) < 0 ||
        actor_audit(db, a, "case.submit", "case", id, "ok", what, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

int case_decide(struct db *db, const struct actor *a, const char *id, bool approve,
                const char *comment, struct err *e)
{
    if (!actor_can(a, PERM_CASES_APPROVE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "only a supervisor decides");
    }
    if (!approve && (!comment || text_blank(comment))) {
        return err_set(e, ERR_INVALID, "required", "comment",
                       "sending back needs a comment for the worker");
    }
    if (comment && utf8_length(comment, strlen(comment)) > 2000) {
        return err_set(e, ERR_INVALID, "too_long", "comment", "'comment' is too long");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    struct case_row row;
    if (load_case(db, a, id, &row, e) < 0) {
        return fail(db);
    }
    if (!strcmp(row.worker_id, a->user_id) || !strcmp(row.specialist_id, a->user_id)) {
        db_rollback(db);
        return err_set(e, ERR_FORBIDDEN, "own_case", NULL,
                       "another supervisor must decide on a case you work");
    }
    if (!row.pending[0]) {
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "nothing_pending", NULL, "nothing waits for a decision");
    }
    char at[32], enabled[128];
    time_format_iso(time_now_ms(), at, sizeof(at));
    case_stages_enabled(db, a->org_id, enabled, sizeof(enabled));
    const char *pending = row.pending;
    int rc = 0;
    if (strcmp(pending, "assessment") == 0 || strcmp(pending, "plan") == 0) {
        bool is_assessment = strcmp(pending, "assessment") == 0;
        int found;
        struct db_stmt *s = db_row(
            db, e, &found,
            is_assessment ? "SELECT id, overall_risk FROM assessments WHERE case_id = $1"
                            " AND status = 'submitted' ORDER BY created_at DESC LIMIT 1"
                          : "SELECT id, NULL FROM plans WHERE case_id = $1 AND status = 'submitted'"
                            " ORDER BY created_at DESC LIMIT 1",
            "t", id);
        if (!s) {
            return found < 0 ? fail(db)
                             : (db_rollback(db),
                                err_set(e, ERR_CONFLICT, "nothing_pending", NULL,
                                        "the submitted document is gone"));
        }
        char doc[40], risk[16] = "";
        snprintf(doc, sizeof(doc), "%s", db_col_text(s, 0));
        if (db_col_text(s, 1)) {
            snprintf(risk, sizeof(risk), "%s", db_col_text(s, 1));
        }
        db_done(s);
        rc = db_run(db, e,
                    is_assessment ? "UPDATE assessments SET status = $1, decided_by = $2,"
                                    " decision_comment = $3, updated_at = $4 WHERE id = $5"
                                  : "UPDATE plans SET status = $1, decided_by = $2,"
                                    " decision_comment = $3, updated_at = $4 WHERE id = $5",
                    "ttttt", approve ? "approved" : "sent_back", who(a), comment, at, doc) < 0
                 ? -1
                 : 0;
        if (rc == 0 && approve) {
            const char *next = stage_after(enabled, pending);
            if (!*next) {
                next = "follow_up";
            }
            char contact[11];
            if (is_assessment && *risk) {
                case_date_after(case_contact_days(risk), contact);
                rc = db_run(db, e,
                            "UPDATE cases SET stage = $1, pending = NULL, risk_level = $2,"
                            " next_contact = $3, updated_at = $4, version = version + 1"
                            " WHERE id = $5",
                            "ttttt", next, risk, contact, at, id) < 0
                         ? -1
                         : 0;
            } else {
                rc = db_run(db, e,
                            "UPDATE cases SET stage = $1, pending = NULL, updated_at = $2,"
                            " plan_approved_at = CASE WHEN $3 = 'plan' THEN $2"
                            " ELSE plan_approved_at END, version = version + 1 WHERE id = $4",
                            "tttt", next, at, pending, id) < 0
                         ? -1
                         : 0;
            }
        }
    } else if (approve) { /* closure */
        rc = db_run(db, e,
                    "UPDATE cases SET status = 'closed', stage = 'closed', pending = NULL,"
                    " closed_at = $1, updated_at = $1, version = version + 1 WHERE id = $2",
                    "tt", at, id) < 0
                 ? -1
                 : 0;
        /* Tasks of a closed case are done with it. */
        if (rc == 0) {
            rc = db_run(db, e,
                        "UPDATE tasks SET done_at = $1, done_by = $2, outcome = 'case closed'"
                        " WHERE case_id = $3 AND done_at IS NULL AND urgent = 0",
                        "ttt", at, who(a), id) < 0
                     ? -1
                     : 0;
        }
    }
    if (rc == 0 && !approve) {
        rc = db_run(db, e,
                    "UPDATE cases SET pending = NULL, close_reason = CASE WHEN $1 = 'closure'"
                    " THEN NULL ELSE close_reason END, updated_at = $2, version = version + 1"
                    " WHERE id = $3",
                    "ttt", pending, at, id) < 0
                 ? -1
                 : 0;
    }
    char detail[48];
    snprintf(detail, sizeof(detail), "%s", pending);
    if (rc < 0 ||
        add_event(db, a, id, approve ? "approved" : "sent_back", detail, comment, e) < 0 ||
        actor_audit(db, a, approve ? "case.approve" : "case.send_back", "case", id, "ok", detail,
                    e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

int case_move(struct db *db, const struct actor *a, const char *id, const char *stage,
              struct err *e)
{
    if (!actor_can(a, PERM_CASES_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to work cases");
    }
    if (!text_word_in(" services follow_up ", stage)) {
        return err_set(e, ERR_INVALID, "invalid_choice", "stage",
                       "only services and follow_up can be chosen freely");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    struct case_row row;
    if (load_case(db, a, id, &row, e) < 0) {
        return fail(db);
    }
    if (strcmp(row.status, "open") || !text_word_in(" services follow_up ", row.stage) ||
        row.pending[0]) {
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "wrong_stage", "stage",
                       "the case must be open at services or follow_up, with nothing pending");
    }
    char at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (db_run(db, e,
               "UPDATE cases SET stage = $1, updated_at = $2, version = version + 1 WHERE id = $3",
               "ttt", stage, at, id) < 0 ||
        add_event(db, a, id, "stage", stage, NULL, e) < 0 ||
        actor_audit(db, a, "case.stage", "case", id, "ok", stage, e) < 0 || db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

int case_reopen(struct db *db, const struct actor *a, const char *id, const char *reason,
                struct err *e)
{
    if (!actor_can(a, PERM_CASES_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to work cases");
    }
    if (!reason || text_blank(reason) || utf8_length(reason, strlen(reason)) > 500) {
        return err_set(e, ERR_INVALID, reason && !text_blank(reason) ? "too_long" : "required",
                       "reason", "reopening needs a reason");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    struct case_row row;
    if (load_case(db, a, id, &row, e) < 0) {
        return fail(db);
    }
    if (strcmp(row.status, "closed") != 0) {
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "case_open", "id", "the case is open");
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT id FROM cases WHERE child_id = $1 AND status = 'open'", "t",
                               row.child_id);
    if (s) {
        db_done(s);
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "case_open", "id", "the child has another open case");
    }
    char enabled[128], at[32], next[11];
    case_stages_enabled(db, a->org_id, enabled, sizeof(enabled));
    const char *stage = stage_after(enabled, NULL);
    time_format_iso(time_now_ms(), at, sizeof(at));
    case_date_after(case_contact_days("medium"), next);
    if (found < 0 ||
        db_run(db, e,
               "UPDATE cases SET status = 'open', stage = $1, closed_at = NULL,"
               " close_reason = NULL, next_contact = $2, updated_at = $3, version = version + 1"
               " WHERE id = $4",
               "tttt", *stage ? stage : "follow_up", next, at, id) < 0 ||
        add_event(db, a, id, "reopened", stage, reason, e) < 0 ||
        actor_audit(db, a, "case.reopen", "case", id, "ok", NULL, e) < 0 || db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

int case_raise_urgent_tx(struct db *db, const struct actor *a, const char *case_id,
                         const char *reason, struct err *e)
{
    struct case_row row;
    if (load_case(db, a, case_id, &row, e) < 0) {
        return -1;
    }
    char at[32], day[11], task[40];
    time_format_iso(time_now_ms(), at, sizeof(at));
    today(day);
    return db_run(db, e,
                  "UPDATE cases SET urgent = 1, risk_level = 'urgent', next_contact = $1,"
                  " updated_at = $2, version = version + 1 WHERE id = $3",
                  "ttt", day, at, case_id) < 0 ||
                   add_event(db, a, case_id, "urgent_raised", reason, NULL, e) < 0 ||
                   task_create_tx(db, a, case_id, NULL, "supervisor", "urgent",
                                  reason ? reason : "urgent", day, true, task, e) < 0 ||
                   actor_audit(db, a, "case.urgent", "case", case_id, "ok", reason, e) < 0
               ? -1
               : 0;
}

int case_resolve_urgent(struct db *db, const struct actor *a, const char *id, const char *action,
                        struct err *e)
{
    if (!actor_can(a, PERM_CASES_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to work cases");
    }
    if (!action || text_blank(action)) {
        return err_set(e, ERR_INVALID, "action_required", "action",
                       "write down the action taken before lowering the urgent flag");
    }
    if (utf8_length(action, strlen(action)) > 2000) {
        return err_set(e, ERR_INVALID, "too_long", "action", "'action' is too long");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    struct case_row row;
    if (load_case(db, a, id, &row, e) < 0) {
        return fail(db);
    }
    if (!row.urgent) {
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "not_urgent", "id", "the case is not flagged urgent");
    }
    char at[32], next[11];
    time_format_iso(time_now_ms(), at, sizeof(at));
    case_date_after(case_contact_days("high"), next);
    /* The case stays at high risk until a new assessment says otherwise. */
    if (db_run(db, e,
               "UPDATE cases SET urgent = 0, risk_level = 'high', next_contact = $1,"
               " updated_at = $2, version = version + 1 WHERE id = $3",
               "ttt", next, at, id) < 0 ||
        db_run(db, e,
               "UPDATE tasks SET done_at = $1, done_by = $2, outcome = $3"
               " WHERE case_id = $4 AND urgent = 1 AND done_at IS NULL",
               "tttt", at, who(a), action, id) < 0 ||
        add_event(db, a, id, "urgent_resolved", NULL, action, e) < 0 ||
        actor_audit(db, a, "case.urgent_resolved", "case", id, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

/* Appends one problem to errors (the registry's shape: field, code, message). */
static void problem(json_t *errors, const char *field, const char *code)
{
    json_array_append_new(
        errors, json_pack("{s:s, s:s, s:s}", "field", field, "code", code, "message", code));
}

/* Fails with ERR_INVALID "validation_failed" and hands errors to the caller. */
static int invalid(json_t *errors, json_t **errors_out, struct err *e)
{
    json_t *first = json_array_get(errors, 0);
    err_set(e, ERR_INVALID, "validation_failed",
            json_string_value(json_object_get(first, "field")), "%zu field(s) are not valid",
            json_array_size(errors));
    if (errors_out) {
        *errors_out = errors;
    } else {
        json_decref(errors);
    }
    return -1;
}

/* Refuses members of obj not named in allowed (space-separated). */
static void unknown_members(json_t *obj, const char *allowed, json_t *errors)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        if (!text_word_in(allowed, key)) {
            problem(errors, key, "unknown_field");
        }
    }
}

/* Checks optional text v: a string of at most max characters. */
static void check_text_member(json_t *v, const char *field, size_t max, bool required,
                              json_t *errors)
{
    if (!v || json_is_null(v)) {
        if (required) {
            problem(errors, field, "required");
        }
        return;
    }
    if (!json_is_string(v)) {
        problem(errors, field, "invalid_type");
        return;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n || !utf8_valid(s, n)) {
        problem(errors, field, "invalid_type");
    } else if (required && text_blank(s)) {
        problem(errors, field, "required");
    } else if (utf8_length(s, n) > max) {
        problem(errors, field, "too_long");
    }
}

/* Finds the draft or sent-back document of a case in table ("assessments" or
 * "plans"); writes its id or "" when there is none. */
static int editable_doc(struct db *db, const char *table, const char *case_id, char id[40],
                        struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               strcmp(table, "assessments") == 0
                                   ? "SELECT id, status FROM assessments WHERE case_id = $1"
                                     " ORDER BY created_at DESC LIMIT 1"
                                   : "SELECT id, status FROM plans WHERE case_id = $1"
                                     " ORDER BY created_at DESC LIMIT 1",
                               "t", case_id);
    id[0] = '\0';
    if (!s) {
        return found < 0 ? -1 : 0;
    }
    const char *st = db_col_text(s, 1);
    if (strcmp(st, "draft") == 0 || strcmp(st, "sent_back") == 0) {
        snprintf(id, 40, "%s", db_col_text(s, 0));
    } else if (strcmp(st, "submitted") == 0) {
        db_done(s);
        return err_set(e, ERR_CONFLICT, "already_pending", NULL,
                       "it waits for a supervisor's decision");
    }
    db_done(s);
    return 0;
}

/* Opens a write transaction for editing the document of an open case at stage
 * with nothing pending, and finds its draft or sent-back document in table
 * (doc "" when there is none yet). Returns 0 inside the transaction, or -1
 * with the transaction ended. */
static int begin_doc_edit(struct db *db, const struct actor *a, const char *case_id,
                          const char *stage, const char *table, char doc[40], struct err *e)
{
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    struct case_row row;
    if (load_case(db, a, case_id, &row, e) < 0) {
        return fail(db);
    }
    if (strcmp(row.status, "open") || strcmp(row.stage, stage) || row.pending[0]) {
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "wrong_stage", NULL, "the case is not at the '%s' stage",
                       stage);
    }
    if (editable_doc(db, table, case_id, doc, e) < 0) {
        return fail(db);
    }
    return 0;
}

int assessment_save(struct db *db, const struct actor *a, const char *case_id, json_t *input,
                    char id_out[40], json_t **errors_out, struct err *e)
{
    if (errors_out) {
        *errors_out = NULL;
    }
    if (!actor_can(a, PERM_CASES_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to work cases");
    }
    json_t *errors = json_array();
    unknown_members(input, " ratings risks digital overall_risk notes submit ", errors);
    json_t *ratings = json_object_get(input, "ratings");
    if (!json_is_object(ratings)) {
        problem(errors, "ratings", "required");
    } else {
        static const char *const areas[] = {"basic_needs", "education", "health", "protection",
                                            "psychosocial", "family", "digital_access"};
        for (int i = 0; i < 7; i++) {
            json_t *v = json_object_get(ratings, areas[i]);
            char field[48];
            snprintf(field, sizeof(field), "ratings.%s", areas[i]);
            if (!v) {
                problem(errors, field, "required");
            } else if (!json_is_integer(v) || json_integer_value(v) < 1 ||
                       json_integer_value(v) > 4) {
                problem(errors, field, "out_of_scale");
            }
        }
        const char *key;
        json_t *v;
        json_object_foreach(ratings, key, v)
        {
            if (!text_word_in(CASE_AREAS, key)) {
                problem(errors, "ratings", "unknown_field");
            }
        }
    }
    json_t *risks = json_object_get(input, "risks");
    if (risks && !json_is_null(risks)) {
        size_t i;
        json_t *v;
        bool ok = json_is_array(risks);
        json_array_foreach(risks, i, v)
        {
            ok &= json_is_string(v) && text_word_in(CASE_PROTECTION_RISKS, json_string_value(v));
        }
        if (!ok) {
            problem(errors, "risks", "invalid_choice");
        }
    }
    json_t *digital = json_object_get(input, "digital");
    if (digital && !json_is_null(digital)) {
        const char *key;
        json_t *v;
        bool ok = json_is_object(digital);
        json_object_foreach(digital, key, v)
        {
            ok &= text_word_in(" device connection electricity skills ", key) && json_is_boolean(v);
        }
        if (!ok) {
            problem(errors, "digital", "invalid_type");
        }
    }
    json_t *risk = json_object_get(input, "overall_risk");
    if (!json_is_string(risk) || !text_word_in(CASE_RISKS, json_string_value(risk))) {
        problem(errors, "overall_risk", risk ? "invalid_choice" : "required");
    }
    json_t *notes = json_object_get(input, "notes");
    check_text_member(notes, "notes", 10000, false, errors);
    json_t *submit = json_object_get(input, "submit");
    if (submit && !json_is_boolean(submit)) {
        problem(errors, "submit", "invalid_bool");
    }
    if (json_array_size(errors) > 0) {
        return invalid(errors, errors_out, e);
    }
    json_decref(errors);
    /* Whoever works the case writes the assessment's notes; reading them back needs
     * psych.notes (GET /api/v1/assessments/{id}/notes), so they stay with the
     * psychosocial specialists and supervisors once written. */
    char doc[40];
    if (begin_doc_edit(db, a, case_id, "assessment", "assessments", doc, e) < 0) {
        return -1;
    }
    char at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    bool fresh = !doc[0];
    if (fresh) {
        uuid_v7(doc);
    }
    char *r_text = json_dumps(ratings, JSON_COMPACT | JSON_SORT_KEYS);
    char *k_text = risks && !json_is_null(risks) ? json_dumps(risks, JSON_COMPACT) : NULL;
    char *d_text = digital && !json_is_null(digital)
                       ? json_dumps(digital, JSON_COMPACT | JSON_SORT_KEYS)
                       : NULL;
    struct arena ar;
    arena_init(&ar);
    const char *sealed = NULL;
    int rc = 0;
    if (json_is_string(notes) && !text_blank(json_string_value(notes))) {
        sealed = keys_seal(db, &ar, a->org_id, doc, "notes", json_string_value(notes),
                           json_string_length(notes), e);
        rc = sealed ? 0 : -1;
    }
    if (rc == 0) {
        rc = db_run(db, e,
                    fresh ? "INSERT INTO assessments (id, org_id, case_id, ratings, risks, digital,"
                            " overall_risk, notes, status, created_by, created_at, updated_at)"
                            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'draft', $9, $10, $10)"
                          : "UPDATE assessments SET org_id = $2, case_id = $3, ratings = $4,"
                            " risks = $5, digital = $6, overall_risk = $7,"
                            " notes = COALESCE($8, notes), status = 'draft', created_by = $9,"
                            " updated_at = $10 WHERE id = $1",
                    "tttttttttt", doc, a->org_id, case_id, r_text, k_text, d_text,
                    json_string_value(risk), sealed, who(a), at) < 0
                 ? -1
                 : 0;
    }
    free(r_text);
    free(k_text);
    free(d_text);
    arena_release(&ar);
    if (rc < 0 ||
        add_event(db, a, case_id, "assessment_saved", json_string_value(risk), NULL, e) < 0 ||
        actor_audit(db, a, "assessment.save", "assessment", doc, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    snprintf(id_out, 40, "%s", doc);
    if (json_is_true(submit)) {
        return case_submit(db, a, case_id, "assessment", NULL, NULL, e);
    }
    return 0;
}

int plan_save(struct db *db, const struct actor *a, const char *case_id, json_t *input,
              char id_out[40], json_t **errors_out, struct err *e)
{
    if (errors_out) {
        *errors_out = NULL;
    }
    if (!actor_can(a, PERM_CASES_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to work cases");
    }
    json_t *errors = json_array();
    unknown_members(input, " goals submit ", errors);
    json_t *goals = json_object_get(input, "goals");
    char day[11];
    today(day);
    if (!json_is_array(goals) || json_array_size(goals) == 0) {
        problem(errors, "goals", "plan_without_goal");
    } else if (json_array_size(goals) > 50) {
        problem(errors, "goals", "too_long");
    } else {
        size_t i;
        json_t *g;
        json_array_foreach(goals, i, g)
        {
            char field[96];
            snprintf(field, sizeof(field), "goals[%zu].goal", i);
            if (!json_is_object(g)) {
                problem(errors, field, "invalid_type");
                continue;
            }
            unknown_members(g, " goal actions ", errors);
            check_text_member(json_object_get(g, "goal"), field, 500, true, errors);
            json_t *actions = json_object_get(g, "actions");
            if (actions && !json_is_array(actions)) {
                snprintf(field, sizeof(field), "goals[%zu].actions", i);
                problem(errors, field, "invalid_type");
                continue;
            }
            size_t k;
            json_t *act;
            json_array_foreach(actions, k, act)
            {
                snprintf(field, sizeof(field), "goals[%zu].actions[%zu].action", i, k);
                if (!json_is_object(act)) {
                    problem(errors, field, "invalid_type");
                    continue;
                }
                unknown_members(act, " action responsible provider_id due_date status outcome ",
                                errors);
                check_text_member(json_object_get(act, "action"), field, 500, true, errors);
                snprintf(field, sizeof(field), "goals[%zu].actions[%zu].responsible", i, k);
                check_text_member(json_object_get(act, "responsible"), field, 120, false, errors);
                json_t *due = json_object_get(act, "due_date");
                snprintf(field, sizeof(field), "goals[%zu].actions[%zu].due_date", i, k);
                int y, m, d;
                if (due && !json_is_null(due)) {
                    if (!json_is_string(due) ||
                        time_date_parse(json_string_value(due), &y, &m, &d) < 0) {
                        problem(errors, field, "invalid_date");
                    } else if (strcmp(json_string_value(due), day) < 0) {
                        problem(errors, field, "past_date");
                    }
                }
            }
        }
    }
    json_t *submit = json_object_get(input, "submit");
    if (submit && !json_is_boolean(submit)) {
        problem(errors, "submit", "invalid_bool");
    }
    if (json_array_size(errors) > 0) {
        return invalid(errors, errors_out, e);
    }
    json_decref(errors);
    char doc[40];
    if (begin_doc_edit(db, a, case_id, "plan", "plans", doc, e) < 0) {
        return -1;
    }
    char at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    int rc;
    if (!doc[0]) {
        uuid_v7(doc);
        rc = db_run(db, e,
                    "INSERT INTO plans (id, org_id, case_id, status, created_by, created_at,"
                    " updated_at) VALUES ($1, $2, $3, 'draft', $4, $5, $5)",
                    "ttttt", doc, a->org_id, case_id, who(a), at) < 0
                 ? -1
                 : 0;
    } else {
        /* A draft is replaced whole: its goals and actions are written again. */
        rc = db_run(db, e,
                    "DELETE FROM plan_actions WHERE goal_id IN"
                    " (SELECT id FROM plan_goals WHERE plan_id = $1)",
                    "t", doc) < 0 ||
                     db_run(db, e, "DELETE FROM plan_goals WHERE plan_id = $1", "t", doc) < 0 ||
                     db_run(db, e,
                            "UPDATE plans SET status = 'draft', updated_at = $1 WHERE id = $2",
                            "tt", at, doc) < 0
                 ? -1
                 : 0;
    }
    size_t i;
    json_t *g;
    json_array_foreach(goals, i, g)
    {
        if (rc < 0) {
            break;
        }
        char gid[UUID_STR_LEN];
        uuid_v7(gid);
        rc = db_run(db, e,
                    "INSERT INTO plan_goals (id, org_id, plan_id, position, goal, status)"
                    " VALUES ($1, $2, $3, $4, $5, 'open')",
                    "tttit", gid, a->org_id, doc, (int64_t)i,
                    json_string_value(json_object_get(g, "goal"))) < 0
                 ? -1
                 : 0;
        size_t k;
        json_t *act;
        json_array_foreach(json_object_get(g, "actions"), k, act)
        {
            if (rc < 0) {
                break;
            }
            const char *provider = json_string_value(json_object_get(act, "provider_id"));
            if (provider) {
                int found;
                struct db_stmt *s = db_row(db, e, &found,
                                           "SELECT id FROM providers WHERE id = $1 AND org_id = $2",
                                           "tt", provider, a->org_id);
                if (!s) {
                    if (found == 0) {
                        err_set(e, ERR_INVALID, "invalid_field", "provider_id", "no such provider");
                    }
                    rc = -1;
                    break;
                }
                db_done(s);
            }
            char aid[UUID_STR_LEN];
            uuid_v7(aid);
            rc = db_run(db, e,
                        "INSERT INTO plan_actions (id, org_id, goal_id, position, action,"
                        " responsible, provider_id, due_date, status)"
                        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'planned')",
                        "tttittt" "t", aid, a->org_id, gid, (int64_t)k,
                        json_string_value(json_object_get(act, "action")),
                        json_string_value(json_object_get(act, "responsible")), provider,
                        json_string_value(json_object_get(act, "due_date"))) < 0
                     ? -1
                     : 0;
        }
    }
    if (rc < 0 || add_event(db, a, case_id, "plan_saved", NULL, NULL, e) < 0 ||
        actor_audit(db, a, "plan.save", "plan", doc, "ok", NULL, e) < 0 || db_commit(db, e) < 0) {
        return fail(db);
    }
    snprintf(id_out, 40, "%s", doc);
    if (json_is_true(submit)) {
        return case_submit(db, a, case_id, "plan", NULL, NULL, e);
    }
    return 0;
}

int plan_action_update(struct db *db, const struct actor *a, const char *action_id,
                       const char *status, const char *outcome, struct err *e)
{
    if (!actor_can(a, PERM_CASES_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to work cases");
    }
    if (!text_word_in(" planned in_progress done cancelled ", status)) {
        return err_set(e, ERR_INVALID, "invalid_choice", "status",
                       "'status' is not an action status");
    }
    if (outcome && utf8_length(outcome, strlen(outcome)) > 2000) {
        return err_set(e, ERR_INVALID, "too_long", "outcome", "'outcome' is too long");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT p.case_id FROM plan_actions pa JOIN plan_goals g"
                               " ON g.id = pa.goal_id JOIN plans p ON p.id = g.plan_id"
                               " WHERE pa.id = $1 AND pa.org_id = $2 AND p.status = 'approved'",
                               "tt", action_id, a->org_id);
    if (!s) {
        db_rollback(db);
        return found < 0 ? -1
                         : err_set(e, ERR_NOT_FOUND, "not_found", "id",
                                   "no such action in an approved plan");
    }
    char case_id[40];
    snprintf(case_id, sizeof(case_id), "%s", db_col_text(s, 0));
    db_done(s);
    if (db_run(db, e,
               "UPDATE plan_actions SET status = $1, outcome = COALESCE($2, outcome) WHERE id = $3",
               "ttt", status, outcome && *outcome ? outcome : NULL, action_id) < 0 ||
        add_event(db, a, case_id, "action", status, outcome, e) < 0 ||
        actor_audit(db, a, "plan.action", "plan_action", action_id, "ok", status, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

int provider_create(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                    struct err *e)
{
    if (!actor_can(a, PERM_CASES_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to work cases");
    }
    static const char *const allowed[] = {"name", "kind", "phone", "email", "address", "services",
                                          NULL};
    const char *v[6];
    static const size_t max[] = {120, 20, 30, 200, 300, 1000};
    if (json_known_members(input, allowed, e) < 0) {
        return -1;
    }
    for (int i = 0; i < 6; i++) {
        if (json_str_member(input, allowed[i], i < 2, max[i], &v[i], e) < 0) {
            return -1;
        }
    }
    if (!text_word_in(" internal external ", v[1])) {
        return err_set(e, ERR_INVALID, "invalid_choice", "kind",
                       "'kind' must be internal or external");
    }
    char id[UUID_STR_LEN], at[32];
    uuid_v7(id);
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    if (db_run(db, e,
               "INSERT INTO providers (id, org_id, name, kind, phone, email, address, services,"
               " active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9)",
               "ttttttttt", id, a->org_id, v[0], v[1], v[2], v[3], v[4], v[5], at) < 0 ||
        actor_audit(db, a, "provider.create", "provider", id, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    snprintf(id_out, 40, "%s", id);
    return 0;
}

json_t *provider_list(struct db *db, const struct actor *a, struct err *e)
{
    if (!actor_can(a, PERM_CASES_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to read cases");
        return NULL;
    }
    struct db_stmt *s = db_query(db, e,
                                 "SELECT id, name, kind, phone, email, address, services"
                                 " FROM providers WHERE org_id = $1 AND active = 1 ORDER BY name",
                                 "t", a->org_id);
    if (!s) {
        return NULL;
    }
    static const char *const cols[] = {"id", "name", "kind", "phone", "email", "address",
                                       "services"};
    json_t *arr = json_array();
    if (rows_into(s, cols, 7, arr, e) < 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

int task_create_tx(struct db *db, const struct actor *a, const char *case_id,
                   const char *assignee_id, const char *role, const char *kind, const char *title,
                   const char *due_date, bool urgent, char id_out[40], struct err *e)
{
    int y, m, d;
    if (!title || text_blank(title) || utf8_length(title, strlen(title)) > 300) {
        return err_set(e, ERR_INVALID, title && !text_blank(title) ? "too_long" : "required",
                       "title", "a task needs a title");
    }
    if (!due_date || time_date_parse(due_date, &y, &m, &d) < 0) {
        return err_set(e, ERR_INVALID, "invalid_date", "due_date", "'due_date' is not a date");
    }
    if (!assignee_id && !role) {
        return err_set(e, ERR_INVALID, "required", "assignee_id", "a task needs someone to do it");
    }
    char id[UUID_STR_LEN], at[32];
    uuid_v7(id);
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (db_run(db, e,
               "INSERT INTO tasks (id, org_id, case_id, assignee_id, role, kind, title, due_date,"
               " urgent, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
               "ttttttttbt", id, a->org_id, case_id, assignee_id, role, kind ? kind : "task",
               title, due_date, urgent, at) < 0) {
        return -1;
    }
    snprintf(id_out, 40, "%s", id);
    return 0;
}

int task_done(struct db *db, const struct actor *a, const char *task_id, const char *outcome,
              struct err *e)
{
    if (!actor_can(a, PERM_CASES_WRITE) && !actor_can(a, PERM_CASES_APPROVE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to work cases");
    }
    if (outcome && utf8_length(outcome, strlen(outcome)) > 2000) {
        return err_set(e, ERR_INVALID, "too_long", "outcome", "'outcome' is too long");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT urgent, case_id, done_at FROM tasks WHERE id = $1"
                               " AND org_id = $2",
                               "tt", task_id, a->org_id);
    if (!s) {
        db_rollback(db);
        return found < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such task");
    }
    bool urgent = db_col_int64(s, 0) != 0, done = !db_col_null(s, 2);
    char case_id[40] = "";
    if (db_col_text(s, 1)) {
        snprintf(case_id, sizeof(case_id), "%s", db_col_text(s, 1));
    }
    db_done(s);
    if (done) {
        db_rollback(db);
        return err_set(e, ERR_CONFLICT, "task_done", "id", "the task is done already");
    }
    /* An urgent flag is never dismissed without a recorded action. */
    if (urgent && (!outcome || text_blank(outcome))) {
        db_rollback(db);
        return err_set(e, ERR_INVALID, "action_required", "outcome",
                       "write down the action taken on this urgent task");
    }
    char at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (db_run(db, e, "UPDATE tasks SET done_at = $1, done_by = $2, outcome = $3 WHERE id = $4",
               "tttt", at, who(a), outcome && *outcome ? outcome : NULL, task_id) < 0 ||
        (case_id[0] && add_event(db, a, case_id, "task_done", NULL, outcome, e) < 0) ||
        actor_audit(db, a, "task.done", "task", task_id, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    return 0;
}

json_t *task_list_mine(struct db *db, const struct actor *a, struct err *e)
{
    struct db_stmt *s = db_query(db, e,
                                 "SELECT t.id, t.case_id, c.case_no, t.kind, t.title, t.due_date,"
                                 " CASE WHEN t.urgent = 1 THEN 'urgent' END FROM tasks t"
                                 " LEFT JOIN cases c ON c.id = t.case_id"
                                 " WHERE t.org_id = $1 AND t.done_at IS NULL"
                                 " AND (t.assignee_id = $2 OR t.role = $3)"
                                 " ORDER BY t.urgent DESC, t.due_date LIMIT 200",
                                 "ttt", a->org_id, a->user_id, a->role);
    if (!s) {
        return NULL;
    }
    static const char *const cols[] = {"id", "case_id", "case_no", "kind", "title", "due_date",
                                       "urgent_text"};
    json_t *arr = json_array();
    if (rows_into(s, cols, 7, arr, e) < 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}
