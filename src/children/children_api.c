/*
 * children_api.c: /api/v1/children and friends: the registry's JSON API.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "children/children.h"
#include "children/children_web.h"
#include "children/dedup.h"
#include "children/search.h"
#include "web/i18n.h"
#include "web/page.h"
#include "core/banned.h"

json_t *children_registration_candidates(struct db *db, const struct actor *a, json_t *rec,
                                         struct err *e)
{
    json_t *engine = children_engine_duplicates(db, a, rec, NULL, NAN, e);
    if (!engine) {
        return NULL;
    }
    json_t *chain = children_duplicates(db, a, rec, NULL, e);
    if (!chain) {
        json_decref(engine);
        return NULL;
    }
    size_t i, k;
    json_t *c, *g;
    json_array_foreach(chain, i, c)
    {
        const char *id = json_string_value(json_object_get(c, "id"));
        bool found = false;
        json_array_foreach(engine, k, g)
        {
            if (id && strcmp(id, json_string_value(json_object_get(g, "id"))) == 0) {
                json_object_set(g, "reasons", json_object_get(c, "reasons"));
                found = true;
                break;
            }
        }
        if (!found) {
            json_array_append(engine, c);
        }
    }
    json_decref(chain);
    return engine;
}

int children_query_from_request(struct http_req *r, struct child_query *q, struct err *e)
{
    memset(q, 0, sizeof(*q));
    q->q = http_query(r, "q");
    q->status = http_query(r, "status");
    q->sex = http_query(r, "sex");
    q->governorate = http_query(r, "governorate");
    q->need = http_query(r, "need");
    q->sort = http_query(r, "sort");
    static const struct {
        const char *name; /* query parameter */
        int lo, hi;       /* accepted range */
        int dflt;         /* when absent or empty */
    } nums[] = {{"age_min", 0, 30, -1}, {"age_max", 0, 30, -1}, {"sponsored", 0, 1, -1},
                {"page", 1, 1000000, 1}, {"per_page", 1, 200, 25}};
    int *dst[] = {&q->age_min, &q->age_max, &q->sponsored, &q->page, &q->per_page};
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        const char *v = http_query(r, nums[i].name);
        *dst[i] = nums[i].dflt;
        if (!v || !*v) {
            continue;
        }
        char *end;
        long n = strtol(v, &end, 10);
        if (*end || n < nums[i].lo || n > nums[i].hi) {
            return err_set(e, ERR_INVALID, "invalid_field", nums[i].name,
                           "'%s' must be a number from %d to %d", nums[i].name, nums[i].lo,
                           nums[i].hi);
        }
        *dst[i] = (int)n;
    }
    const char *blank[] = {q->q, q->status, q->sex, q->governorate, q->need, q->sort};
    const char **fix[] = {&q->q, &q->status, &q->sex, &q->governorate, &q->need, &q->sort};
    for (size_t i = 0; i < 6; i++) {
        if (blank[i] && !*blank[i]) {
            *fix[i] = NULL;
        }
    }
    return 0;
}

/* GET /api/v1/children?q=...&status=...&page=... */
static void api_list(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    struct child_query q;
    if (children_query_from_request(r, &q, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    if (db_begin(db, true, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    json_t *res = children_search(db, r->actor, &q, &e);
    db_rollback(db);
    if (!res) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, res);
}

/* Takes the "different_from" member (ids judged to be other children) out of body. */
static json_t *take_different_from(json_t *body, struct err *e)
{
    json_t *diff = json_object_get(body, "different_from");
    if (!diff) {
        return json_array();
    }
    json_incref(diff);
    json_object_del(body, "different_from");
    size_t i;
    json_t *v;
    bool ok = json_is_array(diff);
    json_array_foreach(diff, i, v)
    {
        ok &= json_is_string(v) && strlen(json_string_value(v)) < 40;
    }
    if (!ok) {
        json_decref(diff);
        err_set(e, ERR_INVALID, "invalid_type", "different_from",
                "'different_from' must be a list of child ids");
        return NULL;
    }
    return diff;
}

/* POST /api/v1/children: registers a child; 409 with the candidates when it may
 * be a child registered already (repeat with "different_from": [ids] to go on). */
static void api_create(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    if (!body) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *diff = take_different_from(body, &e);
    struct db *db = diff ? db_or_reply(r) : NULL;
    if (!diff || !db) {
        if (!diff) {
            http_reply_err(r, &e);
        }
        json_decref(body);
        json_decref(diff);
        return;
    }
    char id[40], file_no[64];
    json_t *errors = NULL;
    if (db_begin(db, false, &e) < 0) {
        goto fail;
    }
    /* Validate first, so that the duplicate check sees normalized values. */
    json_t *probs = json_array();
    if (children_validate(body, true, children_age_limit(db, r->actor->org_id), probs) > 0) {
        db_rollback(db);
        err_set(&e, ERR_INVALID, "validation_failed", NULL, "some fields are not valid");
        json_decref(body);
        json_decref(diff);
        page_reply_problems(r, &e, probs);
        return;
    }
    json_decref(probs);
    json_t *cands = children_registration_candidates(db, r->actor, body, &e);
    if (!cands) {
        db_rollback(db);
        goto fail;
    }
    /* Candidates the caller has judged different are left out, and the pairs
     * are remembered (below, once the new child exists) so they are not asked again. */
    size_t i;
    json_t *v;
    json_t *left = json_array();
    json_array_foreach(cands, i, v)
    {
        const char *cid = json_string_value(json_object_get(v, "id"));
        bool judged = false;
        size_t k;
        json_t *d;
        json_array_foreach(diff, k, d)
        {
            judged |= cid && strcmp(cid, json_string_value(d)) == 0;
        }
        if (!judged) {
            json_array_append(left, v);
        }
    }
    json_decref(cands);
    if (json_array_size(left) > 0) {
        db_rollback(db);
        json_decref(body);
        json_decref(diff);
        http_reply_problem(r, 409, "possible_duplicates", NULL,
                           "this child may be registered already: repeat with different_from",
                           json_pack("{s:o}", "candidates", left));
        return;
    }
    json_decref(left);
    if (child_create_tx(db, r->actor, body, id, file_no, &errors, &e) < 0) {
        db_rollback(db);
        goto fail;
    }
    /* Now that the child exists, record the pairs judged different. */
    json_array_foreach(diff, i, v)
    {
        if (children_mark_distinct(db, r->actor, id, json_string_value(v), &e) < 0) {
            db_rollback(db);
            goto fail;
        }
    }
    if (db_commit(db, &e) < 0) {
        goto fail;
    }
    json_decref(body);
    json_decref(diff);
    http_add_header(r, "Location", arena_printf(&r->arena, "/api/v1/children/%s", id));
    http_reply_json(r, 201, json_pack("{s:s, s:s}", "id", id, "file_no", file_no));
    return;
fail:
    json_decref(body);
    json_decref(diff);
    page_reply_problems(r, &e, errors);
}

/* GET /api/v1/children/{id} */
static void api_get(struct http_req *r)
{
    reply_call(r, child_get, r->params[0]);
}

/* PATCH /api/v1/children/{id}: the fields given; "version" guards against lost updates. */
static void api_patch(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    if (!body) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *ver = json_object_get(body, "version");
    json_int_t version = 0;
    if (ver) {
        if (!json_is_integer(ver)) {
            json_decref(body);
            err_set(&e, ERR_INVALID, "invalid_type", "version", "'version' must be a number");
            http_reply_err(r, &e);
            return;
        }
        version = json_integer_value(ver);
        json_object_del(body, "version");
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(body);
        return;
    }
    json_t *errors = NULL;
    int rc = child_update(db, r->actor, r->params[0], body, version, &errors, &e);
    json_decref(body);
    if (rc < 0) {
        page_reply_problems(r, &e, errors);
        return;
    }
    api_get(r);
}

/* POST /api/v1/children/{id}/status: {"status", "reason"} */
static void api_status(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    if (!body) {
        return;
    }
    struct err e;
    err_clear(&e);
    static const char *const fields[] = {"status", "reason", NULL};
    const char *status, *reason;
    struct db *db = NULL;
    if (json_known_members(body, fields, &e) < 0 ||
        json_str_member(body, "status", true, 20, &status, &e) < 0 ||
        json_str_member(body, "reason", false, 500, &reason, &e) < 0 || !(db = db_or_reply(r)) ||
        child_set_status(db, r->actor, r->params[0], status, reason, &e) < 0) {
        json_decref(body);
        if (db || err_failed(&e)) {
            http_reply_err(r, &e);
        }
        return;
    }
    /* status points into body: answer before letting go of it */
    http_reply_json(r, 200, json_pack("{s:s}", "status", status));
    json_decref(body);
}

/* GET /api/v1/children/{id}/history */
static void api_history(struct http_req *r)
{
    reply_read(r, child_history, r->params[0], NULL);
}

/* POST /api/v1/children/{id}/guardian: {"guardian_id", "reason"} */
static void api_set_guardian(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    if (!body) {
        return;
    }
    struct err e;
    err_clear(&e);
    static const char *const fields[] = {"guardian_id", "reason", NULL};
    const char *gid, *reason;
    struct db *db = NULL;
    if (json_known_members(body, fields, &e) < 0 ||
        json_str_member(body, "guardian_id", true, 40, &gid, &e) < 0 ||
        json_str_member(body, "reason", false, 500, &reason, &e) < 0 || !(db = db_or_reply(r)) ||
        child_set_guardian(db, r->actor, r->params[0], gid, reason, &e) < 0) {
        json_decref(body);
        if (db || err_failed(&e)) {
            http_reply_err(r, &e);
        }
        return;
    }
    json_decref(body);
    http_reply(r, 204, NULL, NULL, 0);
}

/* Runs a create service f on the JSON body and answers 201 {"id"}. */
static void create_with(struct http_req *r,
                        int (*f)(struct db *, const struct actor *, json_t *, char *, struct err *))
{
    json_t *body = http_json_body_or_reply(r);
    if (!body) {
        return;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(body);
        return;
    }
    struct err e;
    err_clear(&e);
    char id[40];
    int rc = f(db, r->actor, body, id, &e);
    json_decref(body);
    if (rc < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 201, json_pack("{s:s}", "id", id));
}

/* POST /api/v1/households */
static void api_household_create(struct http_req *r)
{
    create_with(r, household_create);
}

/* POST /api/v1/guardians */
static void api_guardian_create(struct http_req *r)
{
    create_with(r, guardian_create);
}

/* GET /api/v1/households/{id} */
static void api_household_get(struct http_req *r)
{
    reply_read(r, household_get, r->params[0], NULL);
}

/* GET /api/v1/children/{id}/consents */
static void api_consents(struct http_req *r)
{
    reply_read(r, consent_list, r->params[0], "items");
}

/* POST /api/v1/children/{id}/consents */
static void api_consent_create(struct http_req *r)
{
    json_t *body = http_json_body_or_reply(r);
    if (!body) {
        return;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(body);
        return;
    }
    struct err e;
    err_clear(&e);
    char id[40];
    int rc = consent_record(db, r->actor, r->params[0], body, id, &e);
    json_decref(body);
    if (rc < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 201, json_pack("{s:s}", "id", id));
}

/* POST /api/v1/consents/{id}/withdraw */
static void api_consent_withdraw(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (consent_withdraw(db, r->actor, r->params[0], &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_reply(r, 204, NULL, NULL, 0);
}

static const struct route routes[] = {
    {"GET", "/api/v1/children", api_list, ROUTE_API, PERM_CHILDREN_READ},
    {"POST", "/api/v1/children", api_create, ROUTE_API, PERM_CHILDREN_WRITE},
    {"GET", "/api/v1/children/{id}", api_get, ROUTE_API, PERM_CHILDREN_READ},
    {"PATCH", "/api/v1/children/{id}", api_patch, ROUTE_API, PERM_CHILDREN_WRITE},
    {"POST", "/api/v1/children/{id}/status", api_status, ROUTE_API, PERM_CHILDREN_WRITE},
    {"GET", "/api/v1/children/{id}/history", api_history, ROUTE_API, PERM_CHILDREN_READ},
    {"POST", "/api/v1/children/{id}/guardian", api_set_guardian, ROUTE_API, PERM_CHILDREN_WRITE},
    {"GET", "/api/v1/children/{id}/consents", api_consents, ROUTE_API, PERM_CHILDREN_READ},
    {"POST", "/api/v1/children/{id}/consents", api_consent_create, ROUTE_API,
     PERM_CHILDREN_WRITE},
    {"POST", "/api/v1/consents/{id}/withdraw", api_consent_withdraw, ROUTE_API,
     PERM_CHILDREN_WRITE},
    {"POST", "/api/v1/households", api_household_create, ROUTE_API, PERM_CHILDREN_WRITE},
    {"GET", "/api/v1/households/{id}", api_household_get, ROUTE_API, PERM_CHILDREN_READ},
    {"POST", "/api/v1/guardians", api_guardian_create, ROUTE_API, PERM_CHILDREN_WRITE},
};

void children_api_register(void)
{
    http_routes_add(routes, sizeof(routes) / sizeof(routes[0]));
}
