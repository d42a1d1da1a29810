/*
 * page.h: full HTML pages: a page template rendered inside the layout, with
 * the navigation the actor may use, the flash message and the CSRF token;
 * and the helpers that turn failures into messages in the reader's language.
 */
#ifndef SANAD_WEB_PAGE_H
#define SANAD_WEB_PAGE_H

#include <jansson.h>

#include "core/err.h"
#include "auth/auth.h"
#include "db/db.h"
#include "http/http.h"

/* Renders templates/<tmpl>.html with ctx inside the layout and replies with
 * status. title_key is the catalog key of the page title. Takes ctx. */
void page_reply(struct http_req *r, int status, const char *tmpl, const char *title_key,
                json_t *ctx);
/* The message for e in the request's language: the catalog text "err.<code>"
 * with {field} filled by the field's label ("field.<name>"), else e->msg.
 * Allocated in the request arena. */
const char *page_err_text(struct http_req *r, const struct err *e);
/* Puts e into a form's context: "error" (the message) and
 * "errors": {"<field>": message}, so a template shows it next to the field. */
void page_ctx_error(struct http_req *r, json_t *ctx, const struct err *e);
/* The catalog text of "<prefix>.<name>" in r's language when the catalog has
 * it, else name itself ("" for NULL). Static or in r's arena. */
const char *page_label(struct http_req *r, const char *prefix, const char *name);
/* Options [{value, label, selected}] for a <select> or a checkbox group: the
 * space-separated values, each labelled by page_label(prefix, value), the one
 * equal to selected marked; first an empty option labelled by the catalog key
 * blank_key when it is not NULL. A new array. */
json_t *page_options(struct http_req *r, const char *prefix, const char *values,
                     const char *selected, const char *blank_key);

/* The calling thread's database connection, or NULL after replying 503
 * (the database is down): handlers start with it. */
struct db *db_or_reply(struct http_req *r);
/* A read of one record or list: fn(db, actor, arg, e) returns a new JSON value
 * or NULL with e. */
typedef json_t *(*page_read_fn)(struct db *db, const struct actor *a, const char *arg,
                                struct err *e);
/* Runs fn in a read-only transaction and replies 200 with its value, wrapped
 * as {"<wrap>": value} when wrap is not NULL, or with the failure. */
void reply_read(struct http_req *r, page_read_fn fn, const char *arg, const char *wrap);
/* Replaces each problem's message in errors (a service's list of {"field",
 * "code", "message"}) by its text in the request's language and adds the
 * field's label. Returns errors. */
json_t *page_localize_errors(struct http_req *r, json_t *errors);
/* Replies 422 validation_failed listing every problem (localized) when errors
 * is not NULL, else the plain failure e. Takes errors. */
void page_reply_problems(struct http_req *r, const struct err *e, json_t *errors);
/* Calls fn(db, actor, arg, e) (which opens its own transaction, e.g. to audit
 * a view) and replies 200 with its value, or with the failure. */
void reply_call(struct http_req *r, page_read_fn fn, const char *arg);
/* Reads a JSON object's string member key. Absent or null gives *out = NULL
 * (an error when required); another type, invalid UTF-8 or more than
 * max_chars characters is an error naming key. Returns 0 or -1. */
int json_str_member(json_t *obj, const char *key, bool required, size_t max_chars,
                    const char **out, struct err *e);
/* Refuses an object holding a member not named in allowed (NULL-terminated). */
int json_known_members(json_t *obj, const char *const *allowed, struct err *e);

#endif
