/*
 * sessions_web.c: the routes of care sessions: the JSON API
 * (/api/v1/sessions), the pages (a worker's week, a session with its
 * outcome form, the new-session form) and the private calendar feed, a
 * public route that calendar apps fetch without logging in.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "cases/sessions.h"
#include "core/time.h"
#include "web/i18n.h"
#include "web/page.h"
#include "core/banned.h"

#define MS_PER_MIN 60000LL
#define MS_PER_DAY 86400000LL

/* GET /api/v1/sessions?from=&to=&worker_id=&case_id= */
static void api_list(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    struct session_filter f = {.from = http_query(r, "from"),
                               .to = http_query(r, "to"),
                               .worker_id = http_query(r, "worker_id"),
                               .case_id = http_query(r, "case_id")};
    json_t *j = session_list(db, r->actor, &f, &e);
    if (!j) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, j);
}

/* GET /api/v1/sessions/{id} */
static void api_get(struct http_req *r)
{
    reply_call(r, session_get, r->params[0]);
}

/* POST /api/v1/sessions */
static void api_create(struct http_req *r)
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
    int rc = session_create(db, r->actor, body, id, &e);
    json_decref(body);
    if (rc < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_add_header(r, "Location", arena_printf(&r->arena, "/api/v1/sessions/%s", id));
    http_reply_json(r, 201, json_pack("{s:s}", "id", id));
}

/* Runs a change service on the JSON body, then answers with the session. */
static void change_with(struct http_req *r, int (*f)(struct db *, const struct actor *,
                                                     const char *, json_t *, struct err *))
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
    int rc = f(db, r->actor, r->params[0], body, &e);
    json_decref(body);
    if (rc < 0) {
        http_reply_err(r, &e);
        return;
    }
    api_get(r);
}

/* PATCH /api/v1/sessions/{id} */
static void api_patch(struct http_req *r)
{
    change_with(r, session_update);
}

/* POST /api/v1/sessions/{id}/outcome */
static void api_outcome(struct http_req *r)
{
    change_with(r, session_outcome);
}

/* POST /api/v1/sessions/{id}/cancel: {"reason"} (optional body) */
static void api_cancel(struct http_req *r)
{
    const char *reason = NULL;
    json_t *body = NULL;
    struct err e;
    err_clear(&e);
    if (r->body_len > 0) {
        if (!(body = http_json_body_or_reply(r))) {
            return;
        }
        static const char *const fields[] = {"reason", NULL};
        if (json_known_members(body, fields, &e) < 0 ||
            json_str_member(body, "reason", false, 500, &reason, &e) < 0) {
            json_decref(body);
            http_reply_err(r, &e);
            return;
        }
    }
    struct db *db = db_or_reply(r);
    int rc = db ? session_cancel(db, r->actor, r->params[0], reason, &e) : 0;
    json_decref(body);
    if (!db) {
        return;
    }
    if (rc < 0) {
        http_reply_err(r, &e);
        return;
    }
    api_get(r);
}

/* The feed URL for token, as the client reached us. */
static const char *feed_url(struct http_req *r, const char *token)
{
    return http_abs_url(r, arena_printf(&r->arena, "/calendar/feed/%s.ics", token));
}

/* POST /api/v1/calendar/feed: a new private feed (replacing any old one). */
static void api_feed_create(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    char token[64];
    if (calendar_feed_create(db, r->actor, token, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_add_header(r, "Cache-Control", "no-store");
    http_reply_json(r, 201, json_pack("{s:s, s:s}", "token", token, "url", feed_url(r, token)));
}

/* POST /api/v1/calendar/feed/revoke */
static void api_feed_revoke(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (calendar_feed_revoke(db, r->actor, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_reply(r, 204, NULL, NULL, 0);
}

/* GET /calendar/feed/{token}.ics: public (calendar apps cannot log in); the
 * token is the credential. Unknown or revoked: 404. */
static void feed_get(struct http_req *r)
{
    const char *p = r->params[0];
    size_t n = strlen(p);
    http_add_header(r, "Cache-Control", "no-store");
    if (n < 5 || strcmp(p + n - 4, ".ics") != 0) {
        http_reply(r, 404, "text/plain; charset=utf-8", "not found\n", 10);
        return;
    }
    const char *token = arena_strndup(&r->arena, p, n - 4);
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    struct buf out = BUF_INIT;
    int rc = calendar_feed_render(db, token, &out, &e);
    if (rc < 0) {
        buf_release(&out);
        http_reply(r, 503, "text/plain; charset=utf-8", "unavailable\n", 12);
        return;
    }
    if (rc == 0) {
        buf_release(&out);
        http_reply(r, 404, "text/plain; charset=utf-8", "not found\n", 10);
        return;
    }
    http_add_header(r, "X-Robots-Tag", "noindex");
    http_reply(r, 200, "text/calendar; charset=utf-8", out.buf, out.len);
    buf_release(&out);
}

/* ---- pages ---- */

/* The UTC offset (minutes) a page works in: ?utc_offset= or the form's, else UTC+3. */
static int page_offset(struct http_req *r)
{
    const char *v = http_form(r, "utc_offset");
    if (!v || !*v) {
        v = http_query(r, "utc_offset");
    }
    int off;
    return v && sessions_parse_offset(v, &off) == 0 ? off : SESSIONS_DEFAULT_OFFSET_MIN;
}

/* Writes "+03:00" for offset minutes. */
static void format_offset(int off, char out[8])
{
    int a = off < 0 ? -off : off;
    snprintf(out, 8, "%c%02d:%02d", off < 0 ? '-' : '+', a / 60 % 100, a % 60);
}

/* Splits stored ISO UTC time iso into local date and HH:MM at offset. */
static void local_parts(const char *iso, int off, char date[16], char hm[16], int64_t *day_out)
{
    int64_t ms = 0;
    sessions_parse_time(iso, &ms);
    ms += (int64_t)off * MS_PER_MIN;
    int64_t day = ms >= 0 ? ms / MS_PER_DAY : -((-ms + MS_PER_DAY - 1) / MS_PER_DAY);
    int64_t rem = (ms - day * MS_PER_DAY) / MS_PER_MIN;
    int y, m, d;
    time_civil_from_days(day, &y, &m, &d);
    snprintf(date, 16, "%04d-%02d-%02d", y, m, d);
    snprintf(hm, 16, "%02d:%02d", (int)(rem / 60), (int)(rem % 60));
    if (day_out) {
        *day_out = day;
    }
}

/* Adds the localized labels and local times a template shows for session j. */
static void decorate(struct http_req *r, json_t *j, int off)
{
    char key[64], date[16], hm[16], edate[16], ehm[16];
    static const char *const kinds[][2] = {{"mode", "session.mode."},
                                           {"kind", "session.kind."},
                                           {"status", "session.status."},
                                           {"missed_reason", "session.reason."}};
    for (size_t i = 0; i < 4; i++) {
        const char *v = json_string_value(json_object_get(j, kinds[i][0]));
        if (v) {
            snprintf(key, sizeof(key), "%s%s", kinds[i][1], v);
            char lab[32];
            snprintf(lab, sizeof(lab), "%s_label", kinds[i][0]);
            json_object_set_new(j, lab, json_string(i18n_get(r->lang, key)));
        }
    }
    const char *status = json_string_value(json_object_get(j, "status"));
    json_object_set_new(j, "is_scheduled", json_boolean(status && !strcmp(status, "scheduled")));
    json_object_set_new(j, "is_cancelled", json_boolean(status && !strcmp(status, "cancelled")));
    local_parts(json_string_value(json_object_get(j, "starts_at")), off, date, hm, NULL);
    local_parts(json_string_value(json_object_get(j, "ends_at")), off, edate, ehm, NULL);
    json_object_set_new(j, "local_date", json_string(date));
    json_object_set_new(j, "local_start", json_string(hm));
    json_object_set_new(j, "local_end", json_string(ehm));
}

/* GET /calendar?week=YYYY-Www[&worker_id=][&utc_offset=]: a worker's week. */
static void render_calendar(struct http_req *r, int status, const char *new_token)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    int off = page_offset(r);
    int64_t now_local = time_now_ms() + (int64_t)off * MS_PER_MIN;
    int64_t monday_ms;
    const char *week = http_query(r, "week");
    struct err e;
    err_clear(&e);
    if (week && *week) {
        if (sessions_parse_week(week, &monday_ms) < 0) {
            err_set(&e, ERR_INVALID, "invalid_week", "week", "'week' must look like 2025-W05");
            http_reply_err(r, &e);
            return;
        }
    } else {
        int64_t today = now_local / MS_PER_DAY;
        monday_ms = (today - ((today + 3) % 7 + 7) % 7) * MS_PER_DAY;
    }
    int64_t monday = monday_ms / MS_PER_DAY;
    const char *worker = http_query(r, "worker_id");
    if (!worker || !*worker) {
        worker = r->actor->user_id;
    }
    char from[32], to[32];
    time_format_iso(monday_ms - (int64_t)off * MS_PER_MIN, from, sizeof(from));
    time_format_iso(monday_ms + 7 * MS_PER_DAY - (int64_t)off * MS_PER_MIN, to, sizeof(to));
    struct session_filter f = {.from = from, .to = to, .worker_id = worker};
    json_t *list = session_list(db, r->actor, &f, &e);
    if (!list) {
        http_reply_err(r, &e);
        return;
    }
    json_t *days = json_array();
    for (int i = 0; i < 7; i++) {
        int y, m, d;
        time_civil_from_days(monday + i, &y, &m, &d);
        char date[11], key[32];
        snprintf(date, sizeof(date), "%04d-%02d-%02d", y, m, d);
        snprintf(key, sizeof(key), "calendar.day.%d", i + 1);
        json_array_append_new(days, json_pack("{s:s, s:s, s:o, s:b}", "date", date, "name",
                                              i18n_get(r->lang, key), "items", json_array(),
                                              "today", monday + i == now_local / MS_PER_DAY));
    }
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(list, "items"), i, it)
    {
        decorate(r, it, off);
        char date[16], hm[16];
        int64_t day;
        local_parts(json_string_value(json_object_get(it, "starts_at")), off, date, hm, &day);
        if (day >= monday && day < monday + 7) {
            json_array_append(json_object_get(json_array_get(days, (size_t)(day - monday)), "items"),
                              it);
        }
    }
    json_decref(list);
    char this_week[16], prev[16], next[16], offs[8];
    sessions_format_week(monday, this_week, sizeof(this_week));
    sessions_format_week(monday - 7, prev, sizeof(prev));
    sessions_format_week(monday + 7, next, sizeof(next));
    format_offset(off, offs);
    char created[32] = "";
    int has_feed = calendar_feed_status(db, r->actor, created, &e);
    json_t *ctx = json_pack("{s:o, s:s, s:s, s:s, s:s, s:s, s:b, s:b}", "days", days, "week",
                            this_week, "prev", prev, "next", next, "utc_offset", offs, "worker_id",
                            worker, "can_write", actor_can(r->actor, PERM_CASES_WRITE), "has_feed",
                            has_feed == 1);
    if (has_feed == 1) {
        json_object_set_new(ctx, "feed_created", json_string(created));
    }
    if (new_token) {
        json_object_set_new(ctx, "feed_url", json_string(feed_url(r, new_token)));
    }
    page_reply(r, status, "calendar", "calendar.title", ctx);
}

/* GET /calendar */
static void page_calendar(struct http_req *r)
{
    render_calendar(r, 200, NULL);
}

/* POST /calendar/feed: creates or replaces the feed and shows its URL once. */
static void page_feed_create(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    char token[64];
    if (calendar_feed_create(db, r->actor, token, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_add_header(r, "Cache-Control", "no-store");
    render_calendar(r, 200, arena_strdup(&r->arena, token));
}

/* POST /calendar/feed/revoke */
static void page_feed_revoke(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (calendar_feed_revoke(db, r->actor, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_redirect(r, "/calendar");
}

/* Options for a select of words in list with labels prefix+word, chosen marked. */
static json_t *options(struct http_req *r, const char *list, const char *prefix,
                       const char *chosen)
{
    json_t *arr = json_array();
    const char *p = list;
    while (*p) {
        while (*p == ' ') {
            p++;
        }
        size_t n = strcspn(p, " ");
        if (n == 0) {
            break;
        }
        char word[32], key[64];
        snprintf(word, sizeof(word), "%.*s", (int)n, p);
        p += n;
        snprintf(key, sizeof(key), "%s%s", prefix, word);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:b}", "value", word, "label",
                                             i18n_get(r->lang, key), "selected",
                                             chosen && strcmp(chosen, word) == 0));
    }
    return arr;
}

/* Renders the new-session form (values from the request when failed). */
static void render_form(struct http_req *r, int status, const struct err *failed)
{
    int off = page_offset(r);
    char offs[8];
    format_offset(off, offs);
    const char *v;
    json_t *ctx = json_object();
    static const char *const fields[] = {"case_id", "date", "time", "duration", "topics",
                                         "child_ids", NULL};
    for (size_t i = 0; fields[i]; i++) {
        v = failed ? http_form(r, fields[i]) : http_query(r, fields[i]);
        if (v) {
            json_object_set_new(ctx, fields[i], json_string(v));
        }
    }
    if (!json_object_get(ctx, "duration")) {
        json_object_set_new(ctx, "duration", json_string("45"));
    }
    json_object_set_new(ctx, "utc_offset", json_string(offs));
    const char *kind = failed ? http_form(r, "kind") : http_query(r, "kind");
    const char *mode = failed ? http_form(r, "mode") : NULL;
    json_object_set_new(ctx, "kinds", options(r, SESSION_KINDS, "session.kind.", kind));
    json_object_set_new(ctx, "modes", options(r, SESSION_MODES, "session.mode.", mode));
    json_object_set_new(ctx, "can_notes", json_boolean(actor_can(r->actor, PERM_PSYCH_NOTES)));
    if (failed) {
        page_ctx_error(r, ctx, failed);
    }
    page_reply(r, status, "session_form", "session.new", ctx);
}

/* GET /sessions/new?case_id= */
static void page_new(struct http_req *r)
{
    render_form(r, 200, NULL);
}

/* Builds the service's input from the new-session form. */
static json_t *form_input(struct http_req *r, struct err *e)
{
    const char *kind = http_form(r, "kind"), *mode = http_form(r, "mode");
    const char *date = http_form(r, "date"), *hm = http_form(r, "time");
    const char *dur = http_form(r, "duration");
    int off;
    const char *offs = http_form(r, "utc_offset");
    if (offs && *offs && sessions_parse_offset(offs, &off) < 0) {
        err_set(e, ERR_INVALID, "invalid_offset", "utc_offset",
                "'utc_offset' must look like +03:00");
        return NULL;
    }
    off = page_offset(r);
    int64_t start;
    if (!date || !*date) {
        err_set(e, ERR_INVALID, "required", "date", "'date' is required");
        return NULL;
    }
    if (!hm || !*hm) {
        err_set(e, ERR_INVALID, "required", "time", "'time' is required");
        return NULL;
    }
    if (sessions_parse_local(date, hm, off, &start) < 0) {
        err_set(e, ERR_INVALID, "invalid_datetime", "date", "'date' and 'time' are not valid");
        return NULL;
    }
    char *end;
    long minutes = dur ? strtol(dur, &end, 10) : 0;
    if (!dur || !*dur || *end || minutes < 1 || minutes > SESSION_MAX_MINUTES) {
        err_set(e, ERR_INVALID, "out_of_range", "duration",
                "'duration' must be a number of minutes from 1 to %d", SESSION_MAX_MINUTES);
        return NULL;
    }
    char s[32], t[32];
    time_format_iso(start, s, sizeof(s));
    time_format_iso(start + minutes * MS_PER_MIN, t, sizeof(t));
    json_t *in = json_pack("{s:s?, s:s?, s:s, s:s}", "kind", kind, "mode", mode, "starts_at", s,
                           "ends_at", t);
    static const char *const opt[] = {"case_id", "topics", "notes"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = http_form(r, opt[i]);
        if (v && *v) {
            json_object_set_new(in, opt[i], json_string(v));
        }
    }
    /* group: child ids separated by spaces, commas or new lines */
    const char *kids = http_form(r, "child_ids");
    if (kind && strcmp(kind, "group") == 0 && kids && *kids) {
        json_t *arr = json_array();
        const char *p = kids;
        while (*p) {
            p += strspn(p, " ,\r\n\t");
            size_t n = strcspn(p, " ,\r\n\t");
            if (n) {
                json_array_append_new(arr, json_stringn(p, n));
            }
            p += n;
        }
        json_object_set_new(in, "child_ids", arr);
    }
    return in;
}

/* POST /sessions (form) */
static void page_create(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    char id[40];
    json_t *in = form_input(r, &e);
    int rc = in ? session_create(db, r->actor, in, id, &e) : -1;
    json_decref(in);
    if (rc < 0) {
        if (e.kind == ERR_INVALID || e.kind == ERR_CONFLICT) {
            render_form(r, http_status_of(e.kind), &e);
        } else {
            http_reply_err(r, &e);
        }
        return;
    }
    http_redirect(r, arena_printf(&r->arena, "/sessions/%s", id));
}

/* Renders the session page (with e's message at the outcome form when set). */
static void render_session(struct http_req *r, int status, const struct err *failed)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *j = session_get(db, r->actor, r->params[0], &e);
    if (!j) {
        http_reply_err(r, &e);
        return;
    }
    int off = page_offset(r);
    decorate(r, j, off);
    char offs[8];
    format_offset(off, offs);
    json_object_set_new(j, "utc_offset", json_string(offs));
    bool can_write = actor_can(r->actor, PERM_CASES_WRITE);
    json_object_set_new(j, "can_write", json_boolean(can_write));
    json_object_set_new(j, "can_record", json_boolean(can_write && !json_is_true(json_object_get(
                                                                      j, "is_cancelled"))));
    json_object_set_new(j, "can_notes", json_boolean(actor_can(r->actor, PERM_PSYCH_NOTES)));
    json_object_set_new(j, "reasons", options(r, SESSION_MISSED_REASONS, "session.reason.",
                                              failed ? http_form(r, "missed_reason") : NULL));
    if (failed) {
        page_ctx_error(r, j, failed);
    }
    page_reply(r, status, "session", "session.title", j);
}

/* GET /sessions/{id} */
static void page_session(struct http_req *r)
{
    render_session(r, 200, NULL);
}

/* POST /sessions/{id}/outcome (form: status, attended_<child id>, duration_min,
 * topics, missed_reason, notes) */
static void page_outcome(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *status = http_form(r, "status");
    json_t *in = json_pack("{s:s?}", "status", status && *status ? status : NULL);
    if (status && strcmp(status, "held") == 0) {
        /* the form lists the session's children; an unticked box is absent */
        json_t *s = session_get(db, r->actor, r->params[0], &e);
        if (!s) {
            json_decref(in);
            http_reply_err(r, &e);
            return;
        }
        json_t *att = json_object();
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(s, "children"), i, c)
        {
            const char *cid = json_string_value(json_object_get(c, "id"));
            const char *v = http_form(r, arena_printf(&r->arena, "attended_%s", cid));
            json_object_set_new(att, cid, json_boolean(v && *v));
        }
        json_decref(s);
        json_object_set_new(in, "attendance", att);
        const char *dur = http_form(r, "duration_min");
        if (dur && *dur) {
            char *end;
            long n = strtol(dur, &end, 10);
            json_object_set_new(in, "duration_min", *end ? json_integer(-1) : json_integer(n));
        }
    }
    static const char *const opt[] = {"topics", "missed_reason", "notes", "reason"};
    for (size_t i = 0; i < 4; i++) {
        const char *v = http_form(r, opt[i]);
        bool missed_only = i == 1 && !(status && strcmp(status, "missed") == 0);
        if (v && *v && !missed_only) {
            json_object_set_new(in, opt[i], json_string(v));
        }
    }
    int rc = session_outcome(db, r->actor, r->params[0], in, &e);
    json_decref(in);
    if (rc < 0) {
        if (e.kind == ERR_INVALID || e.kind == ERR_CONFLICT) {
            render_session(r, http_status_of(e.kind), &e);
        } else {
            http_reply_err(r, &e);
        }
        return;
    }
    http_redirect(r, arena_printf(&r->arena, "/sessions/%s", r->params[0]));
}

/* POST /sessions/{id}/cancel (form: reason) */
static void page_cancel(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    const char *reason = http_form(r, "reason");
    if (session_cancel(db, r->actor, r->params[0], reason && *reason ? reason : NULL, &e) < 0) {
        if (e.kind == ERR_INVALID || e.kind == ERR_CONFLICT) {
            render_session(r, http_status_of(e.kind), &e);
        } else {
            http_reply_err(r, &e);
        }
        return;
    }
    http_redirect(r, arena_printf(&r->arena, "/sessions/%s", r->params[0]));
}

static const struct route routes[] = {
    {"GET", "/api/v1/sessions", api_list, ROUTE_API, PERM_CASES_READ},
    {"POST", "/api/v1/sessions", api_create, ROUTE_API, PERM_CASES_WRITE},
    {"GET", "/api/v1/sessions/{id}", api_get, ROUTE_API, PERM_CASES_READ},
    {"PATCH", "/api/v1/sessions/{id}", api_patch, ROUTE_API, PERM_CASES_WRITE},
    {"POST", "/api/v1/sessions/{id}/outcome", api_outcome, ROUTE_API, PERM_CASES_WRITE},
    {"POST", "/api/v1/sessions/{id}/cancel", api_cancel, ROUTE_API, PERM_CASES_WRITE},
    {"POST", "/api/v1/calendar/feed", api_feed_create, ROUTE_API, PERM_CASES_READ},
    {"POST", "/api/v1/calendar/feed/revoke", api_feed_revoke, ROUTE_API, PERM_CASES_READ},
    {"GET", "/calendar", page_calendar, ROUTE_PAGE, PERM_CASES_READ},
    {"POST", "/calendar/feed", page_feed_create, ROUTE_PAGE, PERM_CASES_READ},
    {"POST", "/calendar/feed/revoke", page_feed_revoke, ROUTE_PAGE, PERM_CASES_READ},
    /* public: the token in the path is the credential */
    {"GET", "/calendar/feed/{token}", feed_get, ROUTE_PUBLIC, NULL},
    {"GET", "/sessions/new", page_new, ROUTE_PAGE, PERM_CASES_WRITE},
    {"POST", "/sessions", page_create, ROUTE_PAGE, PERM_CASES_WRITE},
    {"GET", "/sessions/{id}", page_session, ROUTE_PAGE, PERM_CASES_READ},
    {"POST", "/sessions/{id}/outcome", page_outcome, ROUTE_PAGE, PERM_CASES_WRITE},
    {"POST", "/sessions/{id}/cancel", page_cancel, ROUTE_PAGE, PERM_CASES_WRITE},
};

void sessions_register(void)
{
    http_routes_add(routes, sizeof(routes) / sizeof(routes[0]));
}
