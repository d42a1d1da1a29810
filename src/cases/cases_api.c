/*
 * cases_api.c: /api/v1/cases and friends: the case service over JSON.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "cases/cases.h"
#include "cases/cases_web.h"
#include "children/children_web.h"
#include "db/db_util.h"
#include "keys/keys.h"
#include "web/page.h"
#include "core/banned.h"

int cases_filter_from_request(struct http_req *r, struct case_filter *f, struct err *e)
{
    memset(f, 0, sizeof(*f));
    const char **dst_text[] = {&f->status, &f->stage, &f->risk, &f->worker_id, &f->child_id};
    static const char *const keys[] = {"status", "stage", "risk", "worker_id", "child_id"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *v = http_query(r, keys[i]);
        *dst_text[i] = v && *v ? v : NULL;
    }
    if (f->worker_id && strcmp(f->worker_id, "me") == 0) {
        f->worker_id = r->actor->user_id;
    }
    const char *v = http_query(r, "overdue");
    f->overdue = v && strcmp(v, "1") == 0;
    v = http_query(r, "pending");
    f->pending = v && strcmp(v, "1") == 0;
    static const char *const nums[] = {"page", "per_page"};
    int *dst[] = {&f->page, &f->per_page};
    for (int i = 0; i < 2; i++) {
        v = http_query(r, nums[i]);
        *dst[i] = i == 0 ? 1 : 25;
        if (v && *v) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 1 || n > (i == 0 ? 1000000 : 200)) {
                return err_set(e, ERR_INVALID, "invalid_parameter", nums[i],
                               "'%s' is out of range", nums[i]);
            }
            *dst[i] = (int)n;
        }
    }
    return 0;
}

/* GET /api/v1/cases */
static void api_list(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    struct case_filter f;
    struct db *db = NULL;
    if (cases_filter_from_request(r, &f, &e) < 0 || !(db = db_or_reply(r)) ||
        db_begin(db, true, &e) < 0) {
        if (err_failed(&e)) {
            http_reply_err(r, &e);
        }
        return;
    }
    json_t *res = case_list(db, r->actor, &f, &e);
    db_rollback(db);
    if (!res) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, res);
}

/* POST /api/v1/cases: {"child_id", "worker_id", "specialist_id"} */
static void api_open(struct http_req *r)
{
    static const char *const names[] = {"child_id", "worker_id", "specialist_id", NULL};
    static const size_t max[] = {40, 40, 40};
    static const bool req[] = {true, false, false};
    const char *v[3];
    json_t *body = page_body_fields(r, names, max, req, v, NULL);
    struct db *db = body ? db_or_reply(r) : NULL;
    if (!db) {
        json_decref(body);
        return;
    }
    struct err e;
    err_clear(&e);
    char id[40], no[32];
    int rc = case_open(db, r->actor, v[0], v[1], v[2], id, no, &e);
    json_decref(body);
    if (rc < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_add_header(r, "Location", arena_printf(&r->arena, "/api/v1/cases/%s", id));
    http_reply_json(r, 201, json_pack("{s:s, s:s}", "id", id, "case_no", no));
}

/* GET /api/v1/cases/{id} */
static void api_get(struct http_req *r)
{
    reply_call(r, case_get, r->params[0]);
}

/* Runs one service call whose JSON body has the listed text members (v[0], v[1], ...),
 * then answers with `then` (the case, or 204). The lists are parenthesized so that
 * their commas pass through STEP; LIST turns them into initializers. */
#define STEP_THEN(name, fields, maxes, reqs, call, then)                                           \
    static void name(struct http_req *r)                                                           \
    {                                                                                              \
        static const char *const names[] = LIST fields;                                            \
        static const size_t max[] = LIST maxes;                                                    \
        static const bool req[] = LIST reqs;                                                       \
        const char *v[sizeof(max) / sizeof(max[0])];                                               \
        json_t *body = page_body_fields(r, names, max, req, v, NULL);                              \
        struct db *db = body ? db_or_reply(r) : NULL;                                              \
        if (!db) {                                                                                 \
            json_decref(body);                                                                     \
            return;                                                                                \
        }                                                                                          \
        struct err e;                                                                              \
        err_clear(&e);                                                                             \
        int rc = call;                                                                             \
        json_decref(body);                                                                         \
        if (rc < 0) {                                                                              \
            http_reply_err(r, &e);                                                                 \
            return;                                                                                \
        }                                                                                          \
        then;                                                                                      \
    }
/* A workflow step answering with the case as it is now. */
#define STEP(name, fields, maxes, reqs, call)                                                      \
    STEP_THEN(name, fields, maxes, reqs, call, api_get(r))
#define LIST(...) {__VA_ARGS__}

STEP(api_assign, ("worker_id", "specialist_id", "reason", NULL), (40, 40, 500),
     (false, false, false), case_assign(db, r->actor, r->params[0], v[0], v[1], v[2], &e))
STEP(api_submit, ("what", "reason", "note", NULL), (20, 40, 2000), (true, false, false),
     case_submit(db, r->actor, r->params[0], v[0], v[1], v[2], &e))
STEP(api_move, ("stage", NULL), (20), (true),
     case_move(db, r->actor, r->params[0], v[0], &e))
STEP(api_reopen, ("reason", NULL), (500), (true),
     case_reopen(db, r->actor, r->params[0], v[0], &e))
STEP(api_resolve_urgent, ("action", NULL), (2000), (false),
     case_resolve_urgent(db, r->actor, r->params[0], v[0], &e))

/* POST /api/v1/cases/{id}/decide: {"approve": bool, "comment"} */
static void api_decide(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    if (!body) {
        return;
    }
    struct err e;
    err_clear(&e);
    static const char *const names[] = {"approve", "comment", NULL};
    const char *comment = NULL;
    json_t *approve = json_object_get(body, "approve");
    struct db *db = NULL;
    if (json_known_members(body, names, &e) < 0 ||
        json_str_member(body, "comment", false, 2000, &comment, &e) < 0 ||
        (!json_is_boolean(approve) &&
         err_set(&e, ERR_INVALID, approve ? "invalid_type" : "required", "approve",
                 "'approve' must be true or false") < 0) ||
        !(db = db_or_reply(r)) ||
        case_decide(db, r->actor, r->params[0], json_is_true(approve), comment, &e) < 0) {
        json_decref(body);
        if (err_failed(&e)) {
            http_reply_err(r, &e);
        }
        return;
    }
    json_decref(body);
    api_get(r);
}

/* Saves the assessment or plan of a case with f from the JSON body. */
static void save_doc(struct http_req *r,
                     int (*f)(struct db *, const struct actor *, const char *, json_t *, char *,
                              json_t **, struct err *))
{
    json_t *body = http_json_body_or_reply(r);
    struct db *db = body ? db_or_reply(r) : NULL;
    if (!db) {
        json_decref(body);
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *errors = NULL;
    char id[40];
    int rc = f(db, r->actor, r->params[0], body, id, &errors, &e);
    json_decref(body);
    if (rc < 0) {
        page_reply_problems(r, &e, errors);
        return;
    }
    http_reply_json(r, 200, json_pack("{s:s}", "id", id));
}

/* POST /api/v1/cases/{id}/assessment */
static void api_assessment(struct http_req *r)
{
    save_doc(r, assessment_save);
}

/* POST /api/v1/cases/{id}/plan */
static void api_plan(struct http_req *r)
{
    save_doc(r, plan_save);
}

/* GET /api/v1/assessments/{id}/notes: the sealed notes, for psych.notes only; audited. */
static void api_assessment_notes(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (db_begin(db, false, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    int found;
    struct db_stmt *s = db_row(db, &e, &found,
                               "SELECT notes FROM assessments WHERE id = $1 AND org_id = $2", "tt",
                               r->params[0], r->actor->org_id);
    if (!s) {
        db_rollback(db);
        if (found == 0) {
            err_set(&e, ERR_NOT_FOUND, "not_found", "id", "no such assessment");
        }
        http_reply_err(r, &e);
        return;
    }
    const char *sealed = db_col_text(s, 0);
    const char *notes = sealed ? keys_open(db, &r->arena, r->actor->org_id, r->params[0], "notes",
                                           sealed, NULL, &e)
                               : "";
    db_done(s);
    if (!notes || actor_audit(db, r->actor, "assessment.notes_view", "assessment", r->params[0],
                              "ok", NULL, &e) < 0 ||
        db_commit(db, &e) < 0) {
        db_rollback(db);
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, json_pack("{s:s}", "notes", notes));
}

/* POST /api/v1/plan-actions/{id}: {"status", "outcome"}; answers 204. */
STEP_THEN(api_action, ("status", "outcome", NULL), (20, 2000), (true, false),
          plan_action_update(db, r->actor, r->params[0], v[0], v[1], &e),
          http_reply(r, 204, NULL, NULL, 0))

/* Adapts provider_list to page_read_fn (it takes no argument). */
static json_t *provider_list_read(struct db *db, const struct actor *a, const char *arg,
                                  struct err *e)
{
    (void)arg;
    return provider_list(db, a, e);
}

/* GET /api/v1/providers */
static void api_providers(struct http_req *r)
{
    reply_read(r, provider_list_read, NULL, "items");
}

/* POST /api/v1/providers */
static void api_provider_create(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    struct db *db = body ? db_or_reply(r) : NULL;
    if (!db) {
        json_decref(body);
        return;
    }
    struct err e;
    err_clear(&e);
    char id[40];
    int rc = provider_create(db, r->actor, body, id, &e);
    json_decref(body);
    if (rc < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 201, json_pack("{s:s}", "id", id));
}

/* Adapts task_list_mine to page_read_fn (it takes no argument). */
static json_t *task_list_mine_read(struct db *db, const struct actor *a, const char *arg,
                                   struct err *e)
{
    (void)arg;
    return task_list_mine(db, a, e);
}

/* GET /api/v1/tasks: the actor's open tasks */
static void api_tasks(struct http_req *r)
{
    reply_read(r, task_list_mine_read, NULL, "items");
}

/* POST /api/v1/tasks/{id}/done: {"outcome"}; answers 204. */
STEP_THEN(api_task_done, ("outcome", NULL), (2000), (false),
          task_done(db, r->actor, r->params[0], v[0], &e), http_reply(r, 204, NULL, NULL, 0))

/* PATCH /api/v1/case-settings: {"stages": "assessment plan ...", "meeting_base_url"}; 204. */
STEP_THEN(api_settings, ("stages", "meeting_base_url", NULL), (200, 200),
          (false, false), case_settings_set(db, r->actor, v[0], v[1], &e),
          http_reply(r, 204, NULL, NULL, 0))

static const struct route routes[] = {
    {"GET", "/api/v1/cases", api_list, ROUTE_API, PERM_CASES_READ},
    {"POST", "/api/v1/cases", api_open, ROUTE_API, PERM_CASES_WRITE},
    {"GET", "/api/v1/cases/{id}", api_get, ROUTE_API, PERM_CASES_READ},
    {"POST", "/api/v1/cases/{id}/assign", api_assign, ROUTE_API, PERM_CASES_WRITE},
    {"POST", "/api/v1/cases/{id}/submit", api_submit, ROUTE_API, PERM_CASES_WRITE},
    {"POST", "/api/v1/cases/{id}/decide", api_decide, ROUTE_API, PERM_CASES_APPROVE},
    {"POST", "/api/v1/cases/{id}/move", api_move, ROUTE_API, PERM_CASES_WRITE},
    {"POST", "/api/v1/cases/{id}/reopen", api_reopen, ROUTE_API, PERM_CASES_WRITE},
    {"POST", "/api/v1/cases/{id}/urgent/resolve", api_resolve_urgent, ROUTE_API, PERM_CASES_WRITE},
    {"POST", "/api/v1/cases/{id}/assessment", api_assessment, ROUTE_API, PERM_CASES_WRITE},
    {"POST", "/api/v1/cases/{id}/plan", api_plan, ROUTE_API, PERM_CASES_WRITE},
    {"GET", "/api/v1/assessments/{id}/notes", api_assessment_notes, ROUTE_API, PERM_PSYCH_NOTES},
    {"POST", "/api/v1/plan-actions/{id}", api_action, ROUTE_API, PERM_CASES_WRITE},
    {"GET", "/api/v1/providers", api_providers, ROUTE_API, PERM_CASES_READ},
    {"POST", "/api/v1/providers", api_provider_create, ROUTE_API, PERM_CASES_WRITE},
    {"GET", "/api/v1/tasks", api_tasks, ROUTE_API, PERM_ACCOUNT_SELF},
    {"POST", "/api/v1/tasks/{id}/done", api_task_done, ROUTE_API, PERM_CASES_READ},
    {"PATCH", "/api/v1/case-settings", api_settings, ROUTE_API, PERM_USERS_MANAGE},
};

void cases_api_register(void)
{
    http_routes_add(routes, sizeof(routes) / sizeof(routes[0]));
}
