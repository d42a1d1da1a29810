/*
 * home.h: the case worker's home (today's sessions, overdue follow-ups,
 * pending approvals, urgent cases, open tasks; a supervisor sees the team
 * with a line per worker) and the supervisor's quality dashboard for a
 * period (open cases by risk, new and closed cases, days to an approved plan,
 * follow-ups on time, sessions in person and remote, remote sessions missed
 * for want of a device or a connection, children whose scores improved), as
 * pages, CSV and /api/v1 JSON.
 *
 * The queries read only; the caller holds a (read-only) transaction or none.
 */
#ifndef SANAD_CASES_HOME_H
#define SANAD_CASES_HOME_H

#include <jansson.h>
#include <stdbool.h>

#include "auth/auth.h"
#include "core/buf.h"
#include "core/err.h"
#include "db/db.h"

/* How many rows each list of the home holds at most (the counts are exact). */
#define HOME_LIST_MAX 50

/* The home of a for the day today ("YYYY-MM-DD", UTC). With team true and a
 * holding cases.approve, the lists cover every worker of the organization
 * and "workers" breaks them down per worker; otherwise they are a's own (as
 * worker or specialist), except that pending approvals for someone holding
 * cases.approve are the organization's cases they may decide (not their own).
 * {"today", "team", "sessions": [...], "overdue": [...], "n_overdue",
 *  "pending": [...], "n_pending", "urgent": [...], "n_urgent", "tasks": [...],
 *  "n_tasks", "workers": [...] (team only)}. NULL with e on failure (ERR_FORBIDDEN
 * without cases.read, ERR_INVALID for a malformed today). New reference. */
json_t *home_query(struct db *db, const struct actor *a, const char *today, bool team,
                   struct err *e);

/* The dashboard's question: a period and, optionally, one worker. */
struct dash_query {
    const char *from;      /* first day, "YYYY-MM-DD" */
    const char *to;        /* last day (included), "YYYY-MM-DD", not before from */
    const char *worker_id; /* only this worker's cases and sessions; NULL or "" for the team */
};

/* The quality dashboard of a's organization (needs cases.approve or
 * audit.read, else ERR_FORBIDDEN). today bounds the follow-ups judged (only
 * dates before today can be late). Refuses a malformed date, from after to,
 * a period over 3 years, or a worker of another organization (ERR_INVALID
 * naming the field). New reference, NULL with e. */
json_t *dashboard_query(struct db *db, const struct actor *a, const struct dash_query *q,
                        const char *today, struct err *e);
/* Appends the dashboard d (from dashboard_query) as CSV to out: a UTF-8 BOM,
 * then "indicator,key,value" rows with labels in lang and CRLF line ends. */
void dashboard_csv(json_t *d, const char *lang, struct buf *out);

/* Fills the direction of an instrument's scores: +1 when higher is healthier
 * (WHO-5), -1 when lower is (PSC-17), 0 when unknown. The id is compared
 * without case and punctuation ("PSC-17", "psc17"). */
int home_instrument_direction(const char *instrument);

/* Registers GET /cases/home, /cases/dashboard, /cases/dashboard.csv,
 * /api/v1/cases/home and /api/v1/cases/dashboard. */
void cases_home_register(void);

#endif
