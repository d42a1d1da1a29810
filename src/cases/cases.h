/*
 * cases.h: case management. A case follows one child through assessment,
 * a plan, services and follow-up to closure (and reopening), assigned to a
 * case worker and optionally a psychosocial specialist. A supervisor
 * approves an assessment, a plan and a closure, or sends it back with a
 * comment; nobody approves their own case. Stages can be switched off per
 * organization. Every change is audited in its transaction and kept in the
 * case's event history.
 *
 * Permissions: cases.read to see, cases.write to work, cases.approve to
 * decide; psych.notes for psychosocial notes and instrument answers.
 */
#ifndef SANAD_CASES_CASES_H
#define SANAD_CASES_CASES_H

#include <jansson.h>
#include <stdbool.h>

#include "auth/auth.h"
#include "core/err.h"
#include "db/db.h"

/* The stages, in order. "closed" is where a closed case rests. */
#define CASE_STAGES " assessment plan services follow_up "
/* Risk levels, lowest first; they set how soon the next contact is due. */
#define CASE_RISKS " low medium high urgent "
/* Reasons a case is closed. */
#define CASE_CLOSE_REASONS " goals_met child_moved transferred aged_out family_refused deceased other "
/* Assessment areas, each rated 1 (no concern) to 4 (severe). */
#define CASE_AREAS " basic_needs education health protection psychosocial family digital_access "
/* Protection risks an assessment may note. */
#define CASE_PROTECTION_RISKS " violence exploitation child_labour early_marriage neglect other "

/* Days until the next contact for a risk level (urgent 1, high 7, medium 14,
 * low 30); -1 for an unknown level. */
int case_contact_days(const char *risk);
/* Writes the date days after today (UTC) as YYYY-MM-DD into out (11 bytes). */
void case_date_after(int days, char out[11]);

/* The organization's enabled stages as a space-separated list with spaces
 * around (" assessment plan services follow_up "), into out. */
void case_stages_enabled(struct db *db, const char *org_id, char *out, size_t n);
/* Sets the enabled stages (any subset of CASE_STAGES, in any order; stored in
 * the canonical order) and the video meeting service's base URL (https
 * only; NULL keeps it). Needs users.manage or the command line. */
int case_settings_set(struct db *db, const struct actor *a, const char *stages,
                      const char *meeting_base_url, struct err *e);

/* Opens a case for a child of a's organization. worker_id NULL means the
 * actor; specialist_id may be NULL. The case starts at the first enabled
 * stage, medium risk, next contact in 14 days. Refuses a second open case for
 * the same child (ERR_CONFLICT "case_open"). Writes the id and the case
 * number ("C-YYYY-NNNNN"). */
int case_open(struct db *db, const struct actor *a, const char *child_id, const char *worker_id,
              const char *specialist_id, char id_out[40], char case_no_out[32], struct err *e);
/* The case with its child summary, assignees, current assessment and plan
 * (summaries), open tasks and events, newest first. Audited as case.view.
 * NULL with ERR_NOT_FOUND for another organization's case. */
json_t *case_get(struct db *db, const struct actor *a, const char *id, struct err *e);

/* Filters for case_list. */
struct case_filter {
    const char *status;    /* "open", "closed" or NULL for both */
    const char *stage;     /* one stage or NULL */
    const char *risk;      /* one risk level or NULL */
    const char *worker_id; /* cases of this worker (as worker or specialist) or NULL */
    const char *child_id;  /* cases of this child or NULL */
    bool overdue;          /* only cases whose next contact is before today */
    bool pending;          /* only cases waiting for a supervisor's decision */
    int page;              /* from 1 */
    int per_page;          /* 1..200 */
};
/* Cases of a's organization: {"items": [...], "total", "page", "per_page"}. */
json_t *case_list(struct db *db, const struct actor *a, const struct case_filter *f,
                  struct err *e);

/* Reassigns the case (worker and/or specialist; NULL keeps, "" clears the
 * specialist); the history keeps who had it before. */
int case_assign(struct db *db, const struct actor *a, const char *id, const char *worker_id,
                const char *specialist_id, const char *reason, struct err *e);
/* Submits the current stage's work for approval: "assessment" (a submitted
 * assessment must exist), "plan" (a plan with at least one goal), or
 * "closure" (with a reason from CASE_CLOSE_REASONS and a note). */
int case_submit(struct db *db, const struct actor *a, const char *id, const char *what,
                const char *reason, const char *note, struct err *e);
/* The supervisor's decision on what is pending: approve moves the case on
 * (assessment → next stage and the assessment's risk becomes the case's,
 * plan → services, closure → closed); send back returns it with the comment
 * (required). Refused for the case's own worker or specialist
 * (ERR_FORBIDDEN "own_case") and when nothing is pending. */
int case_decide(struct db *db, const struct actor *a, const char *id, bool approve,
                const char *comment, struct err *e);
/* Moves an open case from services to follow_up (or back), the moves that
 * need no approval. */
int case_move(struct db *db, const struct actor *a, const char *id, const char *stage,
              struct err *e);
/* Reopens a closed case at the first enabled stage, with a reason. */
int case_reopen(struct db *db, const struct actor *a, const char *id, const char *reason,
                struct err *e);
/* Raises the urgent flag (inside the caller's write transaction): the case
 * becomes urgent risk with a next contact today, and an urgent task goes to
 * the organization's supervisors. reason names what raised it. */
int case_raise_urgent_tx(struct db *db, const struct actor *a, const char *case_id,
                         const char *reason, struct err *e);
/* Lowers the urgent flag: only with the action taken written down
 * (ERR_INVALID "action_required" otherwise). */
int case_resolve_urgent(struct db *db, const struct actor *a, const char *id, const char *action,
                        struct err *e);

/* Saves the case's assessment (a new draft, or the current draft or sent-back
 * one). input: {"ratings": {area: 1..4 for every CASE_AREAS},
 * "risks": [CASE_PROTECTION_RISKS...], "digital": {"device": bool,
 * "connection": bool, "electricity": bool, "skills": bool},
 * "overall_risk": CASE_RISKS, "notes": text (sealed; psych.notes to read),
 * "submit": bool}. Problems are listed in *errors_out like the registry's. */
int assessment_save(struct db *db, const struct actor *a, const char *case_id, json_t *input,
                    char id_out[40], json_t **errors_out, struct err *e);

/* Saves the case's plan (a new draft or the current draft or sent-back one).
 * input: {"goals": [{"goal": text, "actions": [{"action": text,
 * "responsible": text, "provider_id": id, "due_date": YYYY-MM-DD}]}],
 * "submit": bool}. At least one goal; due dates not in the past for new
 * actions. */
int plan_save(struct db *db, const struct actor *a, const char *case_id, json_t *input,
              char id_out[40], json_t **errors_out, struct err *e);
/* Records an action's progress: status (planned, in_progress, done,
 * cancelled) and outcome text. */
int plan_action_update(struct db *db, const struct actor *a, const char *action_id,
                       const char *status, const char *outcome, struct err *e);

/* Service providers of the organization (internal programmes and external
 * providers). input: {"name", "kind" (internal external), "phone", "email",
 * "address", "services"}. */
int provider_create(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                    struct err *e);
json_t *provider_list(struct db *db, const struct actor *a, struct err *e);

/* Tasks: for one user (assignee_id) or for a role in the organization (role),
 * with a due date; urgent tasks cannot be closed without an outcome. */
int task_create_tx(struct db *db, const struct actor *a, const char *case_id,
                   const char *assignee_id, const char *role, const char *kind, const char *title,
                   const char *due_date, bool urgent, char id_out[40], struct err *e);
int task_done(struct db *db, const struct actor *a, const char *task_id, const char *outcome,
              struct err *e);
/* Open tasks of the actor (assigned to them or to their role), soonest first. */
json_t *task_list_mine(struct db *db, const struct actor *a, struct err *e);

#endif
