/*
 * home.c: the worker's home and the quality dashboard: queries, pages, CSV
 * and API.
 *
 * Assumptions about other tables, kept here so they are easy to change:
 * sessions_care.status is one of scheduled, held, missed, cancelled;
 * sessions_care.mode is in_person, phone, video or chat (all but in_person
 * are remote); times are ISO 8601 UTC text, so a day is the text range
 * [day, next day).
 */
#include "cases/home.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "cases/cases.h"
#include "children/export.h"
#include "core/time.h"
#include "db/db_util.h"
#include "web/i18n.h"
#include "web/page.h"
#include "web/svg.h"
#include "core/banned.h"

/* The longest period a dashboard covers, in days. */
#define DASH_MAX_DAYS (3 * 366)

/* Writes the civil date of days since the epoch as "YYYY-MM-DD" into out (11 bytes). */
static void format_day(int64_t days, char out[11])
{
    int y, m, d;
    char tmp[32];
    time_civil_from_days(days, &y, &m, &d);
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", y, m, d);
    memcpy(out, tmp, 10);
    out[10] = '\0';
}

/* Writes the day after day ("YYYY-MM-DD") into out (11 bytes). Returns -1
 * when day is not a valid date. */
static int next_day(const char *day, char out[11])
{
    int y, m, d;
    if (!day || time_date_parse(day, &y, &m, &d) < 0) {
        return -1;
    }
    format_day(time_days_from_civil(y, m, d) + 1, out);
    return 0;
}

/* Days since the epoch of an ISO date or timestamp's date part; -1 when malformed. */
static int64_t day_number(const char *s)
{
    char d[11];
    int y, m, dd;
    if (!s || strlen(s) < 10) {
        return -1;
    }
    memcpy(d, s, 10);
    d[10] = '\0';
    if (time_date_parse(d, &y, &m, &dd) < 0) {
        return -1;
    }
    return time_days_from_civil(y, m, dd);
}

/* Milliseconds since the epoch of "YYYY-MM-DDTHH:MM[:SS]" (UTC), or -1. */
static int64_t iso_ms(const char *s)
{
    int64_t day = day_number(s);
    if (day < 0) {
        return -1;
    }
    int hh = 0, mm = 0, ss = 0;
    if (strlen(s) >= 16 && s[10] == 'T') {
        hh = atoi(s + 11);
        mm = atoi(s + 14);
        if (strlen(s) >= 19) {
            ss = atoi(s + 17);
        }
    }
    return ((day * 24 + hh) * 60 + mm) * 60000LL + ss * 1000LL;
}

/* A column as a JSON string, or JSON null for SQL NULL. */
static json_t *col_str(struct db_stmt *s, int col)
{
    const char *v = db_col_text(s, col);
    return v ? json_string(v) : json_null();
}

/* The child's name as shown to staff: first name and family name. */
static json_t *child_name(struct db_stmt *s, int first_col)
{
    const char *first = db_col_text(s, first_col);
    const char *family = db_col_text(s, first_col + 1);
    if (!first) {
        return json_null();
    }
    char *n = NULL;
    if (family && *family) {
        size_t len = strlen(first) + strlen(family) + 2;
        n = malloc(len);
        if (n) {
            snprintf(n, len, "%s %s", first, family);
        }
    }
    json_t *j = json_string(n ? n : first);
    free(n);
    return j;
}

/* Runs a one-row COUNT query; returns the count or -1 with e. */
static int64_t count_of(struct db_stmt *s, struct err *e)
{
    if (!s) {
        return -1;
    }
    int rc = db_step(s, e);
    int64_t n = rc == 1 ? db_col_int64(s, 0) : (rc == 0 ? 0 : -1);
    db_done(s);
    return n;
}

/* Case columns every case list reads, in this order: id, case_no, first name,
 * family name, next contact, risk, urgent, pending, stage, worker name, worker id. */
#define CASE_COLS                                                                                \
    "c.id, c.case_no, ch.first_name, ch.family_name, c.next_contact, c.risk_level, c.urgent,"   \
    " c.pending, c.stage, u.display_name, c.worker_id FROM cases c"                              \
    " JOIN children ch ON ch.id = c.child_id JOIN users u ON u.id = c.worker_id"

/* Reads the rows of a case list into arr; returns 0 or -1. */
static int read_cases(struct db_stmt *s, json_t *arr, const char *today, struct err *e)
{
    if (!s) {
        return -1;
    }
    int rc;
    int64_t t = day_number(today);
    while ((rc = db_step(s, e)) == 1) {
        int64_t nc = day_number(db_col_text(s, 4));
        json_array_append_new(
            arr, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:o, s:I}",
                           "case_id", col_str(s, 0), "case_no", col_str(s, 1), "child",
                           child_name(s, 2), "child_first", col_str(s, 2),
                           "next_contact", col_str(s, 4), "risk", col_str(s, 5), "urgent",
                           db_col_int64(s, 6) != 0, "pending", col_str(s, 7), "stage",
                           col_str(s, 8), "worker_name", col_str(s, 9), "worker_id",
                           col_str(s, 10), "days_late",
                           (json_int_t)(nc >= 0 && t > nc ? t - nc : 0)));
    }
    db_done(s);
    return rc < 0 ? -1 : 0;
}

/* Prepares sql with the organization, then day and user when not NULL, as
 * $1, $2, $3 in that order (absent ones take no number). */
static struct db_stmt *query_odu(struct db *db, struct err *e, const char *sql, const char *org,
                                 const char *day, const char *user)
{
    if (day && user) {
        return db_query(db, e, sql, "ttt", org, day, user);
    }
    if (day || user) {
        return db_query(db, e, sql, "tt", org, day ? day : user);
    }
    return db_query(db, e, sql, "t", org);
}

/* Today's sessions: of the organization (team) or of a. */
static int home_sessions(struct db *db, const struct actor *a, bool team, const char *today,
                         const char *tomorrow, json_t *out, struct err *e)
{
    static const char *const cols =
        "SELECT s.id, s.starts_at, s.ends_at, s.kind, s.mode, s.status, s.case_id, c.case_no,"
        " ch.first_name, ch.family_name, u.display_name, s.worker_id FROM sessions_care s"
        " LEFT JOIN cases c ON c.id = s.case_id LEFT JOIN children ch ON ch.id = c.child_id"
        " JOIN users u ON u.id = s.worker_id WHERE s.org_id = $1 AND s.starts_at >= $2"
        " AND s.starts_at < $3 AND s.status <> 'cancelled'";
    char sql[1024];
    snprintf(sql, sizeof(sql), "%s%s ORDER BY s.starts_at, s.id LIMIT 200", cols,
             team ? "" : " AND s.worker_id = $4");
    struct db_stmt *s = team ? db_query(db, e, sql, "ttt", a->org_id, today, tomorrow)
                             : db_query(db, e, sql, "tttt", a->org_id, today, tomorrow, a->user_id);
    if (!s) {
        return -1;
    }
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        const char *st = db_col_text(s, 1);
        const char *en = db_col_text(s, 2);
        char t1[6] = "", t2[6] = "";
        if (st && strlen(st) >= 16) {
            memcpy(t1, st + 11, 5);
        }
        if (en && strlen(en) >= 16) {
            memcpy(t2, en + 11, 5);
        }
        const char *mode = db_col_text(s, 4);
        json_t *o = json_pack("{s:o, s:o, s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b}",
                              "id", col_str(s, 0), "starts_at", col_str(s, 1), "ends_at",
                              col_str(s, 2), "time", t1, "end_time", t2, "kind", col_str(s, 3),
                              "mode", col_str(s, 4), "status", col_str(s, 5), "case_id",
                              col_str(s, 6), "case_no", col_str(s, 7), "child",
                              child_name(s, 8), "worker_name", col_str(s, 10), "remote",
                              mode && strcmp(mode, "in_person") != 0);
        json_object_set_new(o, "worker_id", col_str(s, 11));
        json_object_set_new(o, "child_first", col_str(s, 8));
        json_array_append_new(out, o);
    }
    db_done(s);
    return rc < 0 ? -1 : 0;
}

/* One list of cases and its count: where is the condition after the
 * organization ($1), using $2 for day when day is given and the next number
 * for user (the template holds "%d" where that number goes, twice at most). */
static int case_list_and_count(struct db *db, const struct actor *a, const char *where_fmt,
                               const char *order, const char *day, const char *user,
                               const char *today, json_t *h, const char *name, struct err *e)
{
    char where[512], sql[1536];
    int n = day ? 3 : 2;
    snprintf(where, sizeof(where), where_fmt, n, n);
    snprintf(sql, sizeof(sql), "SELECT " CASE_COLS " WHERE c.org_id = $1%s ORDER BY %s LIMIT %d",
             where, order, HOME_LIST_MAX);
    json_t *arr = json_array();
    json_object_set_new(h, name, arr);
    if (read_cases(query_odu(db, e, sql, a->org_id, day, user), arr, today, e) < 0) {
        return -1;
    }
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM cases c WHERE c.org_id = $1%s", where);
    int64_t cnt = count_of(query_odu(db, e, sql, a->org_id, day, user), e);
    if (cnt < 0) {
        return -1;
    }
    char key[32];
    snprintf(key, sizeof(key), "n_%s", name);
    json_object_set_new(h, key, json_integer(cnt));
    return 0;
}

/* Fills the lists of cases: overdue, pending, urgent (with their counts). */
static int home_cases(struct db *db, const struct actor *a, bool team, bool approver,
                      const char *today, json_t *h, struct err *e)
{
    /* Whose cases: the team's, or a's as worker or specialist. */
    /* As a set of ids, so that the worker and specialist indexes answer it
     * (an OR of the two makes SQLite scan the organization's cases). */
    const char *mine = " AND c.id IN (SELECT id FROM cases WHERE worker_id = $%d"
                       " UNION ALL SELECT id FROM cases WHERE specialist_id = $%d)";
    const char *user = team ? NULL : a->user_id;
    char fmt[256];
    snprintf(fmt, sizeof(fmt), " AND c.status = 'open' AND c.next_contact < $2%s",
             team ? "" : mine);
    if (case_list_and_count(db, a, fmt, "c.next_contact, c.case_no", today, user, today, h,
                            "overdue", e) < 0) {
        return -1;
    }
    /* Pending: someone who approves sees what they may decide (never their
     * own cases); a worker sees their own cases waiting. */
    snprintf(fmt, sizeof(fmt), " AND c.pending IS NOT NULL%s",
             approver ? " AND c.worker_id <> $%d AND (c.specialist_id IS NULL"
                        " OR c.specialist_id <> $%d)"
                      : mine);
    if (case_list_and_count(db, a, fmt, "c.updated_at, c.case_no", NULL, a->user_id, today, h,
                            "pending", e) < 0) {
        return -1;
    }
    snprintf(fmt, sizeof(fmt), " AND c.urgent = 1 AND c.status = 'open'%s", team ? "" : mine);
    return case_list_and_count(db, a, fmt, "c.next_contact, c.case_no", NULL, user, today, h,
                               "urgent", e);
}

/* Open tasks assigned to a or to a's role, urgent first, then soonest. */
static int home_tasks(struct db *db, const struct actor *a, const char *today, json_t *h,
                      struct err *e)
{
    static const char *const where =
        " FROM tasks t LEFT JOIN cases c ON c.id = t.case_id WHERE t.org_id = $1"
        " AND t.done_at IS NULL AND (t.assignee_id = $2 OR (t.role IS NOT NULL AND t.role = $3))";
    char sql[768];
    snprintf(sql, sizeof(sql),
             "SELECT t.id, t.title, t.kind, t.due_date, t.urgent, t.case_id, c.case_no%s"
             " ORDER BY t.urgent DESC, t.due_date, t.id LIMIT %d",
             where, HOME_LIST_MAX);
    struct db_stmt *s = db_query(db, e, sql, "ttt", a->org_id, a->user_id, a->role);
    if (!s) {
        return -1;
    }
    json_t *tasks = json_array();
    json_object_set_new(h, "tasks", tasks);
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        const char *due = db_col_text(s, 3);
        json_array_append_new(
            tasks, json_pack("{s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:b}", "id", col_str(s, 0),
                             "title", col_str(s, 1), "kind", col_str(s, 2), "due_date",
                             col_str(s, 3), "urgent", db_col_int64(s, 4) != 0, "case_id",
                             col_str(s, 5), "case_no", col_str(s, 6), "late",
                             due && strcmp(due, today) < 0));
    }
    db_done(s);
    if (rc < 0) {
        return -1;
    }
    snprintf(sql, sizeof(sql), "SELECT COUNT(*)%s", where);
    int64_t n = count_of(db_query(db, e, sql, "ttt", a->org_id, a->user_id, a->role), e);
    if (n < 0) {
        return -1;
    }
    json_object_set_new(h, "n_tasks", json_integer(n));
    return 0;
}

/* The per-worker lines of the team view: every active user of the
 * organization whose role works cases, with their open, overdue, urgent and
 * pending cases and today's sessions. */
static int home_workers(struct db *db, const struct actor *a, const char *today,
                        const char *tomorrow, json_t *h, struct err *e)
{
    struct db_stmt *s = db_query(db, e,
                                 "SELECT id, display_name, role FROM users WHERE org_id = $1"
                                 " AND active = 1 ORDER BY display_name, id",
                                 "t", a->org_id);
    if (!s) {
        return -1;
    }
    json_t *workers = json_array();
    json_object_set_new(h, "workers", workers);
    json_t *by_id = json_object();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        const char *role = db_col_text(s, 2);
        if (!authz_allows(role, PERM_CASES_WRITE)) {
            continue;
        }
        json_t *w = json_pack("{s:o, s:o, s:s, s:i, s:i, s:i, s:i, s:i}", "id", col_str(s, 0),
                              "name", col_str(s, 1), "role", role, "open", 0, "overdue", 0,
                              "urgent", 0, "pending", 0, "sessions_today", 0);
        json_array_append_new(workers, w);
        json_object_set(by_id, db_col_text(s, 0), w);
    }
    db_done(s);
    if (rc < 0) {
        json_decref(by_id);
        return -1;
    }
    /* From the summary of open cases (0013_case_summaries.sql): a row per
     * worker, risk level and next-contact date instead of a row per case. */
    s = db_query(db, e,
                 "SELECT worker_id, SUM(n_open),"
                 " SUM(CASE WHEN has_next = 1 AND next_contact < $2 THEN n_open ELSE 0 END),"
                 " SUM(n_urgent), SUM(n_pending)"
                 " FROM case_open_days WHERE org_id = $1 GROUP BY worker_id",
                 "tt", a->org_id, today);
    while (s && (rc = db_step(s, e)) == 1) {
        json_t *w = json_object_get(by_id, db_col_text(s, 0));
        if (w) {
            json_object_set_new(w, "open", json_integer(db_col_int64(s, 1)));
            json_object_set_new(w, "overdue", json_integer(db_col_int64(s, 2)));
            json_object_set_new(w, "urgent", json_integer(db_col_int64(s, 3)));
            json_object_set_new(w, "pending", json_integer(db_col_int64(s, 4)));
        }
    }
    if (s) {
        db_done(s);
    }
    if (!s || rc < 0) {
        json_decref(by_id);
        return -1;
    }
    s = db_query(db, e,
                 "SELECT worker_id, COUNT(*) FROM sessions_care WHERE org_id = $1"
                 " AND starts_at >= $2 AND starts_at < $3 AND status <> 'cancelled'"
                 " GROUP BY worker_id",
                 "ttt", a->org_id, today, tomorrow);
    while (s && (rc = db_step(s, e)) == 1) {
        json_t *w = json_object_get(by_id, db_col_text(s, 0));
        if (w) {
            json_object_set_new(w, "sessions_today", json_integer(db_col_int64(s, 1)));
        }
    }
    if (s) {
        db_done(s);
    }
    json_decref(by_id);
    return !s || rc < 0 ? -1 : 0;
}

json_t *home_query(struct db *db, const struct actor *a, const char *today, bool team,
                   struct err *e)
{
    if (!actor_can(a, PERM_CASES_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to see cases");
        return NULL;
    }
    char tomorrow[11];
    if (next_day(today, tomorrow) < 0) {
        err_set(e, ERR_INVALID, "invalid_date", "today", "'today' must be a date (YYYY-MM-DD)");
        return NULL;
    }
    bool approver = actor_can(a, PERM_CASES_APPROVE);
    team = team && approver;
    json_t *h = json_pack("{s:s, s:b, s:b}", "today", today, "team", team, "approver", approver);
    json_t *sessions = json_array();
    json_object_set_new(h, "sessions", sessions);
    if (home_sessions(db, a, team, today, tomorrow, sessions, e) < 0 ||
        home_cases(db, a, team, approver, today, h, e) < 0 || home_tasks(db, a, today, h, e) < 0 ||
        (team && home_workers(db, a, today, tomorrow, h, e) < 0)) {
        json_decref(h);
        return NULL;
    }
    json_object_set_new(h, "n_sessions", json_integer((json_int_t)json_array_size(sessions)));
    return h;
}

int home_instrument_direction(const char *instrument)
{
    char k[32];
    size_t n = 0;
    for (const char *p = instrument ? instrument : ""; *p && n < sizeof(k) - 1; p++) {
        if (isalnum((unsigned char)*p)) {
            k[n++] = (char)tolower((unsigned char)*p);
        }
    }
    k[n] = '\0';
    /* The Pediatric Symptom Checklist counts symptoms: lower is healthier.
     * The WHO-5 Well-Being Index counts well-being: higher is healthier. */
    static const struct {
        const char *id; /* normalized instrument id */
        int dir;        /* +1 higher is better, -1 lower is better */
    } dirs[] = {{"psc17", -1}, {"psc", -1}, {"who5", 1}};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        if (strcmp(k, dirs[i].id) == 0) {
            return dirs[i].dir;
        }
    }
    return 0;
}

/* Open cases by risk level for the team. */
static int dash_risk(struct db *db, const char *org, const char *wid, json_t *d, struct err *e)
{
    json_t *risk = json_pack("{s:i, s:i, s:i, s:i}", "low", 0, "medium", 0, "high", 0, "urgent",
                             0);
    json_object_set_new(d, "open_by_risk", risk);
    struct db_stmt *s = db_query(db, e,
                                 "SELECT risk_level, SUM(n_open) FROM case_open_days"
                                 " WHERE org_id = $1 AND ($2 = '' OR worker_id = $2)"
                                 " GROUP BY risk_level",
                                 "tt", org, wid);
    if (!s) {
        return -1;
    }
    int rc;
    int64_t total = 0;
    while ((rc = db_step(s, e)) == 1) {
        const char *r = db_col_text(s, 0);
        if (r && json_object_get(risk, r)) {
            json_object_set_new(risk, r, json_integer(db_col_int64(s, 1)));
        }
        total += db_col_int64(s, 1);
    }
    db_done(s);
    json_object_set_new(d, "open_total", json_integer(total));
    return rc < 0 ? -1 : 0;
}

/* New and closed cases, and days from opening to an approved plan. */
static int dash_flow(struct db *db, const char *org, const char *wid, const char *from,
                     const char *to_next, json_t *d, struct err *e)
{
    int64_t n = count_of(db_query(db, e,
                                  "SELECT COUNT(*) FROM cases WHERE org_id = $1"
                                  " AND opened_at >= $2 AND opened_at < $3"
                                  " AND ($4 = '' OR worker_id = $4)",
                                  "tttt", org, from, to_next, wid),
                         e);
    if (n < 0) {
        return -1;
    }
    json_object_set_new(d, "new_cases", json_integer(n));
    n = count_of(db_query(db, e,
                          "SELECT COUNT(*) FROM cases WHERE org_id = $1 AND closed_at >= $2"
                          " AND closed_at < $3 AND ($4 = '' OR worker_id = $4)",
                          "tttt", org, from, to_next, wid),
                 e);
    if (n < 0) {
        return -1;
    }
    json_object_set_new(d, "closed_cases", json_integer(n));
    struct db_stmt *s = db_query(db, e,
                                 "SELECT opened_at, plan_approved_at FROM cases WHERE org_id = $1"
                                 " AND plan_approved_at >= $2 AND plan_approved_at < $3"
                                 " AND ($4 = '' OR worker_id = $4)",
                                 "tttt", org, from, to_next, wid);
    if (!s) {
        return -1;
    }
    int rc;
    int64_t cnt = 0;
    double sum = 0;
    while ((rc = db_step(s, e)) == 1) {
        int64_t o = iso_ms(db_col_text(s, 0)), p = iso_ms(db_col_text(s, 1));
        if (o >= 0 && p >= o) {
            sum += (double)(p - o) / 86400000.0;
            cnt++;
        }
    }
    db_done(s);
    if (rc < 0) {
        return -1;
    }
    json_object_set_new(d, "plans_approved", json_integer(cnt));
    json_object_set_new(d, "avg_days_to_plan",
                        cnt ? json_real((double)(int64_t)(sum / (double)cnt * 10 + 0.5) / 10)
                            : json_null());
    return 0;
}

/*
 * Follow-ups on time. A follow-up is due on a case's next-contact date. The
 * dashboard judges the follow-ups that fell due in the period, up to
 * yesterday (a day still running cannot be late yet): each case of the team
 * whose next-contact date lies in that range. One is on time when the case
 * has a held session (sessions_care.status 'held') or a case event dated on
 * or before the end of that date and no earlier than the contact interval of
 * the case's risk level before it (urgent 1, high 7, medium 14, low 30 days:
 * case_contact_days, copied in case_contact_windows), so that the contact
 * belongs to this follow-up. As the cases keep only their current
 * next-contact date, a case contacted and given a new date inside the period
 * is judged on that new date (the contact that set it lies in its window),
 * and a case never contacted keeps its missed date.
 *
 * Whether each case is on time is kept in case_followups by triggers on
 * cases, sessions_care and case_events (0013_case_summaries.sql), so this
 * counts index entries instead of probing sessions and events per case.
 */
static int dash_followups(struct db *db, const char *org, const char *wid, const char *from,
                          const char *to, const char *today, json_t *d, struct err *e)
{
    char last[11];
    format_day(day_number(today) - 1, last);
    if (strcmp(to, last) < 0) {
        snprintf(last, sizeof(last), "%s", to);
    }
    int64_t due = 0, on_time = 0;
    if (strcmp(from, last) <= 0) {
        struct db_stmt *s =
            *wid ? db_query(db, e,
                            "SELECT COUNT(*), SUM(on_time) FROM case_followups WHERE org_id = $1"
                            " AND next_contact >= $2 AND next_contact <= $3 AND worker_id = $4",
                            "tttt", org, from, last, wid)
                 : db_query(db, e,
                            "SELECT COUNT(*), SUM(on_time) FROM case_followups WHERE org_id = $1"
                            " AND next_contact >= $2 AND next_contact <= $3",
                            "ttt", org, from, last);
        if (!s) {
            return -1;
        }
        int rc = db_step(s, e);
        if (rc == 1) {
            due = db_col_int64(s, 0);
            on_time = db_col_int64(s, 1);
        }
        db_done(s);
        if (rc < 0) {
            return -1;
        }
    }
    json_object_set_new(d, "followups",
                        json_pack("{s:I, s:I, s:o}", "due", (json_int_t)due, "on_time",
                                  (json_int_t)on_time, "pct",
                                  due ? json_integer((json_int_t)((on_time * 100 + due / 2) / due))
                                      : json_null()));
    return 0;
}

/* Sessions held in person and remote, and remote sessions missed for want of
 * a device or a connection, from the per-day, per-worker counts that triggers
 * keep in session_days (0013_case_summaries.sql): a day is the first ten
 * characters of starts_at, so days from..to are starts_at in [from, to + 1). */
static int dash_sessions(struct db *db, const char *org, const char *wid, const char *from,
                         const char *to, json_t *d, struct err *e)
{
    static const char *const sums =
        "SELECT SUM(held_in_person), SUM(held_phone), SUM(held_video), SUM(held_chat),"
        " SUM(held_remote_other), SUM(missed_remote), SUM(missed_no_device),"
        " SUM(missed_no_connection) FROM session_days WHERE org_id = $1 AND day >= $2"
        " AND day <= $3";
    char sql[512];
    snprintf(sql, sizeof(sql), "%s%s", sums, *wid ? " AND worker_id = $4" : "");
    struct db_stmt *s = *wid ? db_query(db, e, sql, "tttt", org, from, to, wid)
                             : db_query(db, e, sql, "ttt", org, from, to);
    if (!s) {
        return -1;
    }
    int rc = db_step(s, e);
    int64_t v[8] = {0};
    for (int i = 0; rc == 1 && i < 8; i++) {
        v[i] = db_col_int64(s, i);
    }
    db_done(s);
    if (rc < 0) {
        return -1;
    }
    json_t *held = json_pack("{s:I, s:I, s:I, s:I}", "in_person", (json_int_t)v[0], "phone",
                             (json_int_t)v[1], "video", (json_int_t)v[2], "chat",
                             (json_int_t)v[3]);
    json_object_set_new(d, "sessions",
                        json_pack("{s:I, s:I, s:o}", "in_person", (json_int_t)v[0], "remote",
                                  (json_int_t)v[1] + v[2] + v[3] + v[4], "by_mode", held));
    json_object_set_new(d, "missed_remote",
                        json_pack("{s:I, s:I, s:I}", "no_device", (json_int_t)v[6],
                                  "no_connection", (json_int_t)v[7], "all_remote_missed",
                                  (json_int_t)v[5]));
    return 0;
}

/* Children whose scores improved: per child and instrument, the last total of
 * the period against the first, in the instrument's healthy direction. */
static int dash_scores(struct db *db, const char *org, const char *wid, const char *from,
                       const char *to_next, json_t *d, struct err *e)
{
    struct db_stmt *s = db_query(
        db, e,
        "SELECT r.child_id, r.instrument, r.total FROM instrument_responses r"
        " JOIN cases c ON c.id = r.case_id WHERE r.org_id = $1 AND r.administered_at >= $2"
        " AND r.administered_at < $3 AND r.total IS NOT NULL AND ($4 = '' OR c.worker_id = $4)"
        " ORDER BY r.child_id, r.instrument, r.administered_at, r.id",
        "tttt", org, from, to_next, wid);
    if (!s) {
        return -1;
    }
    json_t *by = json_object(); /* instrument -> {measured, improved} */
    json_t *improved_children = json_object();
    json_t *measured_children = json_object();
    char child[40] = "", inst[64] = "";
    int64_t first = 0, last = 0, n = 0;
    int rc;
    for (;;) {
        rc = db_step(s, e);
        const char *c = rc == 1 ? db_col_text(s, 0) : NULL;
        const char *in = rc == 1 ? db_col_text(s, 1) : NULL;
        bool same = rc == 1 && c && in && strcmp(c, child) == 0 && strcmp(in, inst) == 0;
        if (!same && n >= 2) {
            int dir = home_instrument_direction(inst);
            if (dir != 0) {
                json_t *o = json_object_get(by, inst);
                if (!o) {
                    o = json_pack("{s:s, s:i, s:i}", "instrument", inst, "measured", 0,
                                  "improved", 0);
                    json_object_set_new(by, inst, o);
                }
                json_int_t measured = json_integer_value(json_object_get(o, "measured"));
                json_object_set_new(o, "measured", json_integer(measured + 1));
                json_object_set(measured_children, child, json_true());
                if ((last - first) * dir > 0) {
                    json_object_set_new(
                        o, "improved",
                        json_integer(json_integer_value(json_object_get(o, "improved")) + 1));
                    json_object_set(improved_children, child, json_true());
                }
            }
        }
        if (rc != 1) {
            break;
        }
        if (!same) {
            snprintf(child, sizeof(child), "%s", c ? c : "");
            snprintf(inst, sizeof(inst), "%s", in ? in : "");
            first = db_col_int64(s, 2);
            n = 0;
        }
        last = db_col_int64(s, 2);
        n++;
    }
    db_done(s);
    json_t *list = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(by, k, v)
    {
        json_array_append(list, v);
    }
    json_decref(by);
    json_object_set_new(d, "scores",
                        json_pack("{s:I, s:I, s:o}", "children_measured",
                                  (json_int_t)json_object_size(measured_children),
                                  "children_improved",
                                  (json_int_t)json_object_size(improved_children), "by_instrument",
                                  list));
    json_decref(improved_children);
    json_decref(measured_children);
    return rc < 0 ? -1 : 0;
}

json_t *dashboard_query(struct db *db, const struct actor *a, const struct dash_query *q,
                        const char *today, struct err *e)
{
    if (!actor_can(a, PERM_CASES_APPROVE) && !actor_can(a, PERM_AUDIT_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to see the quality dashboard");
        return NULL;
    }
    char to_next[11], tmp[11];
    if (next_day(q->from, tmp) < 0) {
        err_set(e, ERR_INVALID, "invalid_date", "from", "'from' must be a date (YYYY-MM-DD)");
        return NULL;
    }
    if (next_day(q->to, to_next) < 0) {
        err_set(e, ERR_INVALID, "invalid_date", "to", "'to' must be a date (YYYY-MM-DD)");
        return NULL;
    }
    if (next_day(today, tmp) < 0) {
        err_set(e, ERR_INVALID, "invalid_date", "today", "'today' must be a date (YYYY-MM-DD)");
        return NULL;
    }
    int64_t span = day_number(q->to) - day_number(q->from);
    if (span < 0) {
        err_set(e, ERR_INVALID, "invalid_range", "to", "'to' must not be before 'from'");
        return NULL;
    }
    if (span >= DASH_MAX_DAYS) {
        err_set(e, ERR_INVALID, "invalid_range", "from", "the period must be at most %d days",
                DASH_MAX_DAYS);
        return NULL;
    }
    const char *wid = q->worker_id ? q->worker_id : "";
    json_t *d = json_pack("{s:s, s:s, s:s}", "from", q->from, "to", q->to, "worker_id", wid);
    if (*wid) {
        int found;
        struct db_stmt *s = db_row(db, e, &found,
                                   "SELECT display_name FROM users WHERE id = $1 AND org_id = $2",
                                   "tt", wid, a->org_id);
        if (!s) {
            if (found == 0) {
                err_set(e, ERR_INVALID, "unknown_worker", "worker_id",
                        "'worker_id' is not a member of the organization");
            }
            json_decref(d);
            return NULL;
        }
        json_object_set_new(d, "worker_name", col_str(s, 0));
        db_done(s);
    }
    const char *org = a->org_id;
    if (dash_risk(db, org, wid, d, e) < 0 || dash_flow(db, org, wid, q->from, to_next, d, e) < 0 ||
        dash_followups(db, org, wid, q->from, q->to, today, d, e) < 0 ||
        dash_sessions(db, org, wid, q->from, q->to, d, e) < 0 ||
        dash_scores(db, org, wid, q->from, to_next, d, e) < 0) {
        json_decref(d);
        return NULL;
    }
    return d;
}

/* Appends one CSV row of three cells. */
static void csv_row(struct buf *out, const char *a, const char *b, const char *c)
{
    export_csv_cell(out, a);
    buf_addch(out, ',');
    export_csv_cell(out, b);
    buf_addch(out, ',');
    export_csv_cell(out, c);
    buf_adds(out, "\r\n");
}

/* Appends a row whose value is a JSON number (empty for null). */
static void csv_num(struct buf *out, const char *label, const char *key, json_t *v)
{
    char n[32] = "";
    if (json_is_integer(v)) {
        snprintf(n, sizeof(n), "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(n, sizeof(n), "%.1f", json_real_value(v));
    }
    csv_row(out, label, key, n);
}

void dashboard_csv(json_t *d, const char *lang, struct buf *out)
{
    buf_adds(out, "\xEF\xBB\xBF");
    csv_row(out, i18n_get(lang, "dash.csv.indicator"), i18n_get(lang, "dash.csv.key"),
            i18n_get(lang, "dash.csv.value"));
    csv_row(out, i18n_get(lang, "dash.from"), "from",
            json_string_value(json_object_get(d, "from")));
    csv_row(out, i18n_get(lang, "dash.to"), "to", json_string_value(json_object_get(d, "to")));
    csv_row(out, i18n_get(lang, "dash.worker"), "worker_id",
            json_string_value(json_object_get(d, "worker_id")));
    static const char *const risks[] = {"low", "medium", "high", "urgent"};
    json_t *r = json_object_get(d, "open_by_risk");
    for (size_t i = 0; i < 4; i++) {
        char key[32];
        snprintf(key, sizeof(key), "open_by_risk.%s", risks[i]);
        char label[256];
        snprintf(label, sizeof(label), "%s: %s", i18n_get(lang, "dash.open_by_risk"),
                 i18n_get(lang, (const char *[]){"home.risk.low", "home.risk.medium",
                                                 "home.risk.high", "home.risk.urgent"}[i]));
        csv_num(out, label, key, json_object_get(r, risks[i]));
    }
    csv_num(out, i18n_get(lang, "dash.open_total"), "open_total", json_object_get(d, "open_total"));
    csv_num(out, i18n_get(lang, "dash.new_cases"), "new_cases", json_object_get(d, "new_cases"));
    csv_num(out, i18n_get(lang, "dash.closed_cases"), "closed_cases",
            json_object_get(d, "closed_cases"));
    csv_num(out, i18n_get(lang, "dash.plans_approved"), "plans_approved",
            json_object_get(d, "plans_approved"));
    csv_num(out, i18n_get(lang, "dash.avg_days_to_plan"), "avg_days_to_plan",
            json_object_get(d, "avg_days_to_plan"));
    json_t *f = json_object_get(d, "followups");
    csv_num(out, i18n_get(lang, "dash.followups_due"), "followups.due", json_object_get(f, "due"));
    csv_num(out, i18n_get(lang, "dash.followups_on_time"), "followups.on_time",
            json_object_get(f, "on_time"));
    csv_num(out, i18n_get(lang, "dash.followups_pct"), "followups.pct", json_object_get(f, "pct"));
    json_t *s = json_object_get(d, "sessions");
    csv_num(out, i18n_get(lang, "dash.sessions_in_person"), "sessions.in_person",
            json_object_get(s, "in_person"));
    csv_num(out, i18n_get(lang, "dash.sessions_remote"), "sessions.remote",
            json_object_get(s, "remote"));
    json_t *m = json_object_get(d, "missed_remote");
    csv_num(out, i18n_get(lang, "dash.missed_no_device"), "missed_remote.no_device",
            json_object_get(m, "no_device"));
    csv_num(out, i18n_get(lang, "dash.missed_no_connection"), "missed_remote.no_connection",
            json_object_get(m, "no_connection"));
    json_t *sc = json_object_get(d, "scores");
    csv_num(out, i18n_get(lang, "dash.children_measured"), "scores.children_measured",
            json_object_get(sc, "children_measured"));
    csv_num(out, i18n_get(lang, "dash.children_improved"), "scores.children_improved",
            json_object_get(sc, "children_improved"));
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(sc, "by_instrument"), i, v)
    {
        const char *inst = json_string_value(json_object_get(v, "instrument"));
        char key[96];
        snprintf(key, sizeof(key), "scores.%s.improved", inst ? inst : "");
        char label[256];
        snprintf(label, sizeof(label), "%s: %s", i18n_get(lang, "dash.children_improved"),
                 inst ? inst : "");
        csv_num(out, label, key, json_object_get(v, "improved"));
        snprintf(key, sizeof(key), "scores.%s.measured", inst ? inst : "");
        snprintf(label, sizeof(label), "%s: %s", i18n_get(lang, "dash.children_measured"),
                 inst ? inst : "");
        csv_num(out, label, key, json_object_get(v, "measured"));
    }
}


/* ---- pages and API ---- */

/* Today's UTC date as "YYYY-MM-DD" into out (11 bytes). */
static void today_utc(char out[11])
{
    int y, m, d;
    time_today(&y, &m, &d);
    format_day(time_days_from_civil(y, m, d), out);
}

/* Runs home_query in a read-only transaction; NULL after replying. */
static json_t *home_or_reply(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return NULL;
    }
    struct err e;
    err_clear(&e);
    char today[11];
    today_utc(today);
    const char *view = http_query(r, "view");
    bool team = !(view && strcmp(view, "mine") == 0);
    json_t *h = NULL;
    if (db_begin(db, true, &e) == 0) {
        h = home_query(db, r->actor, today, team, &e);
        db_rollback(db);
    }
    if (!h) {
        http_reply_err(r, &e);
    }
    return h;
}

/* Sets "<key>_label" on each object of arr from the catalog key prefix.<value>. */
static void label_list(struct http_req *r, json_t *arr, const char *key, const char *prefix)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        const char *v = json_string_value(json_object_get(o, key));
        if (!v) {
            continue;
        }
        const char *ck = arena_printf(&r->arena, "%s.%s", prefix, v);
        char name[64];
        snprintf(name, sizeof(name), "%s_label", key);
        json_object_set_new(o, name, json_string(i18n_has(ck) ? i18n_get(r->lang, ck) : v));
    }
}

/* GET /api/v1/cases/home[?view=mine] */
static void api_home(struct http_req *r)
{
    json_t *h = home_or_reply(r);
    if (h) {
        http_reply_json(r, 200, h);
    }
}

/* GET /cases/home[?view=mine]: the worker's day; a supervisor's team. */
static void page_home(struct http_req *r)
{
    json_t *h = home_or_reply(r);
    if (!h) {
        return;
    }
    const char *lists[] = {"overdue", "pending", "urgent"};
    for (size_t i = 0; i < 3; i++) {
        label_list(r, json_object_get(h, lists[i]), "risk", "home.risk");
        label_list(r, json_object_get(h, lists[i]), "pending", "home.pending");
    }
    label_list(r, json_object_get(h, "sessions"), "mode", "home.mode");
    label_list(r, json_object_get(h, "sessions"), "status", "home.status");
    label_list(r, json_object_get(h, "workers"), "role", "role");
    json_object_set_new(h, "can_dashboard", json_boolean(actor_can(r->actor, PERM_CASES_APPROVE) ||
                                                         actor_can(r->actor, PERM_AUDIT_READ)));
    page_reply(r, 200, "home", "home.title", h);
}

/* Reads the dashboard's parameters (defaults: the 90 days up to today). */
static void dash_params(struct http_req *r, struct dash_query *q, char today[11], char from[11])
{
    today_utc(today);
    format_day(day_number(today) - 89, from);
    const char *f = http_query(r, "from"), *t = http_query(r, "to");
    const char *w = http_query(r, "worker_id");
    q->from = f && *f ? f : from;
    q->to = t && *t ? t : today;
    q->worker_id = w && *w ? w : NULL;
}

/* Runs dashboard_query in a read-only transaction; NULL with e. */
static json_t *dash_run(struct http_req *r, const struct dash_query *q, const char *today,
                        struct err *e)
{
    struct db *db = db_thread(e);
    if (!db || db_begin(db, true, e) < 0) {
        return NULL;
    }
    json_t *d = dashboard_query(db, r->actor, q, today, e);
    db_rollback(db);
    return d;
}

/* GET /api/v1/cases/dashboard?from=&to=&worker_id= */
static void api_dashboard(struct http_req *r)
{
    struct dash_query q;
    char today[11], from[11];
    dash_params(r, &q, today, from);
    struct err e;
    err_clear(&e);
    json_t *d = dash_run(r, &q, today, &e);
    if (!d) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, d);
}

/* GET /cases/dashboard.csv?from=&to=&worker_id= */
static void csv_dashboard(struct http_req *r)
{
    struct dash_query q;
    char today[11], from[11];
    dash_params(r, &q, today, from);
    struct err e;
    err_clear(&e);
    json_t *d = dash_run(r, &q, today, &e);
    if (!d) {
        http_reply_err(r, &e);
        return;
    }
    struct buf b = BUF_INIT;
    dashboard_csv(d, r->lang, &b);
    json_decref(d);
    http_add_header(r, "Content-Disposition",
                    arena_printf(&r->arena, "attachment; filename=\"dashboard-%s-%s.csv\"",
                                 q.from, q.to));
    http_reply(r, 200, "text/csv; charset=utf-8", b.buf, b.len);
    buf_release(&b);
}

/* Appends a bar chart of n labelled numbers to ctx as the raw SVG string
 * "chart_<name>" and the same numbers as a list "rows_<name>". */
static void add_chart(struct http_req *r, json_t *ctx, const char *name, const char *title_key,
                      const char *const *keys, const json_int_t *vals, size_t n)
{
    struct svg_point pts[8];
    json_t *rows = json_array();
    for (size_t i = 0; i < n && i < 8; i++) {
        pts[i].label = i18n_get(r->lang, keys[i]);
        pts[i].value = (double)vals[i];
        pts[i].value_text = NULL;
        json_array_append_new(rows, json_pack("{s:s, s:I}", "label", pts[i].label, "value",
                                              vals[i]));
    }
    struct buf b = BUF_INIT;
    svg_bar_chart(&b, i18n_get(r->lang, title_key), pts, n < 8 ? n : 8,
                  strcmp(r->lang, "ar") == 0);
    json_object_set_new(ctx, arena_printf(&r->arena, "chart_%s", name), json_string(b.buf));
    json_object_set_new(ctx, arena_printf(&r->arena, "rows_%s", name), rows);
    buf_release(&b);
}

/* An integer member of a nested object (0 when absent). */
static json_int_t ival(json_t *d, const char *obj, const char *key)
{
    return json_integer_value(json_object_get(obj ? json_object_get(d, obj) : d, key));
}

/* The workers of the organization as options for the team filter. */
static json_t *worker_options(struct http_req *r, const char *selected)
{
    json_t *arr = json_array();
    struct err e;
    err_clear(&e);
    struct db *db = db_thread(&e);
    if (!db || db_begin(db, true, &e) < 0) {
        return arr;
    }
    struct db_stmt *s = db_query(db, &e,
                                 "SELECT id, display_name, role FROM users WHERE org_id = $1"
                                 " AND active = 1 ORDER BY display_name, id",
                                 "t", r->actor->org_id);
    while (s && db_step(s, &e) == 1) {
        if (authz_allows(db_col_text(s, 2), PERM_CASES_WRITE)) {
            const char *id = db_col_text(s, 0);
            json_array_append_new(arr, json_pack("{s:s, s:s?, s:b}", "id", id, "name",
                                                 db_col_text(s, 1), "selected",
                                                 selected && strcmp(selected, id) == 0));
        }
    }
    if (s) {
        db_done(s);
    }
    db_rollback(db);
    return arr;
}

/* GET /cases/dashboard?from=&to=&worker_id=: the quality dashboard. */
static void page_dashboard(struct http_req *r)
{
    struct dash_query q;
    char today[11], from[11];
    dash_params(r, &q, today, from);
    if (!actor_can(r->actor, PERM_CASES_APPROVE) && !actor_can(r->actor, PERM_AUDIT_READ)) {
        struct err e;
        err_clear(&e);
        err_set(&e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to see the quality dashboard");
        http_reply_err(r, &e);
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *d = dash_run(r, &q, today, &e);
    json_t *ctx = json_pack("{s:s, s:s, s:o}", "from", q.from, "to", q.to, "workers",
                            worker_options(r, q.worker_id));
    if (!d) {
        if (e.kind != ERR_INVALID) {
            json_decref(ctx);
            http_reply_err(r, &e);
            return;
        }
        page_ctx_error(r, ctx, &e);
        page_reply(r, 400, "dashboard_quality", "dash.title", ctx);
        return;
    }
    json_object_set_new(ctx, "d", d);
    static const char *const risk_keys[] = {"home.risk.low", "home.risk.medium", "home.risk.high",
                                            "home.risk.urgent"};
    json_int_t risk[] = {ival(d, "open_by_risk", "low"), ival(d, "open_by_risk", "medium"),
                         ival(d, "open_by_risk", "high"), ival(d, "open_by_risk", "urgent")};
    add_chart(r, ctx, "risk", "dash.open_by_risk", risk_keys, risk, 4);
    static const char *const flow_keys[] = {"dash.new_cases", "dash.closed_cases"};
    json_int_t flow[] = {ival(d, NULL, "new_cases"), ival(d, NULL, "closed_cases")};
    add_chart(r, ctx, "flow", "dash.flow", flow_keys, flow, 2);
    static const char *const fu_keys[] = {"dash.followups_on_time", "dash.followups_late"};
    json_int_t fu[] = {ival(d, "followups", "on_time"),
                       ival(d, "followups", "due") - ival(d, "followups", "on_time")};
    add_chart(r, ctx, "followups", "dash.followups", fu_keys, fu, 2);
    static const char *const mode_keys[] = {"home.mode.in_person", "home.mode.phone",
                                            "home.mode.video", "home.mode.chat"};
    json_t *bm = json_object_get(json_object_get(d, "sessions"), "by_mode");
    json_int_t modes[] = {ival(bm, NULL, "in_person"), ival(bm, NULL, "phone"),
                          ival(bm, NULL, "video"), ival(bm, NULL, "chat")};
    add_chart(r, ctx, "modes", "dash.sessions", mode_keys, modes, 4);
    static const char *const miss_keys[] = {"dash.missed_no_device", "dash.missed_no_connection"};
    json_int_t miss[] = {ival(d, "missed_remote", "no_device"),
                         ival(d, "missed_remote", "no_connection")};
    add_chart(r, ctx, "missed", "dash.missed_remote", miss_keys, miss, 2);
    static const char *const sc_keys[] = {"dash.children_measured", "dash.children_improved"};
    json_int_t sc[] = {ival(d, "scores", "children_measured"),
                       ival(d, "scores", "children_improved")};
    add_chart(r, ctx, "scores", "dash.scores", sc_keys, sc, 2);
    const char *csv = arena_printf(&r->arena, "/cases/dashboard.csv?from=%s&to=%s%s%s", q.from,
                                   q.to, q.worker_id ? "&worker_id=" : "",
                                   q.worker_id ? q.worker_id : "");
    json_object_set_new(ctx, "csv_url", json_string(csv));
    page_reply(r, 200, "dashboard_quality", "dash.title", ctx);
}

static const struct route routes[] = {
    {"GET", "/cases/home", page_home, ROUTE_PAGE, PERM_CASES_READ},
    {"GET", "/cases/dashboard", page_dashboard, ROUTE_PAGE, PERM_CASES_READ},
    {"GET", "/cases/dashboard.csv", csv_dashboard, ROUTE_PAGE, PERM_CASES_READ},
    {"GET", "/api/v1/cases/home", api_home, ROUTE_API, PERM_CASES_READ},
    {"GET", "/api/v1/cases/dashboard", api_dashboard, ROUTE_API, PERM_CASES_READ},
};

void cases_home_register(void)
{
    http_routes_add(routes, sizeof(routes) / sizeof(routes[0]));
}
