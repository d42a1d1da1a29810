/*
 * page.h: full HTML pages: a page template rendered inside the layout, with
 * the navigation the actor may use, the flash message and the CSRF token;
 * and the helpers that turn failures into messages in the reader's language.
 */
#ifndef SANAD_WEB_PAGE_H
#define SANAD_WEB_PAGE_H

#include <jansson.h>

#include "core/buf.h"
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
/* reply_call with the value wrapped as {"<wrap>": value} when wrap is not
 * NULL. */
void reply_call_wrap(struct http_req *r, page_read_fn fn, const char *arg, const char *wrap);
/* Reads a JSON object's string member key. Absent or null gives *out = NULL
 * (an error when required); another type, invalid UTF-8 or more than
 * max_chars characters is an error naming key. Returns 0 or -1. */
int json_str_member(json_t *obj, const char *key, bool required, size_t max_chars, const char **out,
                    struct err *e);
/* Refuses an object holding a member not named in allowed (NULL-terminated). */
int json_known_members(json_t *obj, const char *const *allowed, struct err *e);

/* ---- small request and JSON helpers shared by the web files ---- */

/* The string member key of obj, or dflt when obj is not an object or the
 * member is absent or not a string. Borrowed from obj (or dflt). */
const char *json_str_or(json_t *obj, const char *key, const char *dflt);
/* Query parameter name, or NULL when absent or blank (values are already
 * valid UTF-8: the parser refuses others). Lives in r's arena. */
const char *page_query(struct http_req *r, const char *name);
/* Whole-number query parameter name into *out: dflt when absent or blank,
 * else a number from lo to hi. Returns 0, or -1 with e (ERR_INVALID
 * "invalid_parameter" naming it); *out is dflt then. One rule for every
 * list's page, page size and limit. */
int page_query_int(struct http_req *r, const char *name, int dflt, int lo, int hi, int *out,
                   struct err *e);
/* Form field name, or NULL when absent or blank. Lives in r's arena. */
const char *page_form(struct http_req *r, const char *name);
/* Today (the server's calendar day) as YYYY-MM-DD, in r's arena. */
const char *page_today(struct http_req *r);

/* Replies to a failed request (e.g. http_reply_err). */
typedef void (*page_fail_fn)(struct http_req *r, const struct err *e);
/* Reads the JSON body as an object with only the string members names[]
 * (NULL-terminated): out[i] gets member i (NULL when absent or null), each
 * at most max[i] characters, required when required[i] (required NULL: none
 * is). An unknown member, a wrong type or a missing required member is
 * refused. Returns the body, whose strings out[] borrow, for the caller to
 * decref; NULL after replying (with fail, or http_reply_err when fail is
 * NULL; a body that is not JSON is answered by http_json_body_or_reply). */
json_t *page_body_fields(struct http_req *r, const char *const *names, const size_t *max,
                         const bool *required, const char **out, page_fail_fn fail);

/* The label of an error's field: a trailing index ("child_ids[1]") is
 * dropped, then "<prefix>.f.<name>" when the catalog has it, else
 * page_label("field", name) ("" for NULL). Static or in r's arena. */
const char *page_field_label(struct http_req *r, const char *prefix, const char *field);
/* The message of one failure (code, field) in r's language:
 * "<prefix>.err.<code>", else "err.<code>", with {field} filled by
 * page_field_label(prefix, field); else fallback (copied), else the text of
 * err.bad_request. In r's arena. */
const char *page_problem_text(struct http_req *r, const char *prefix, const char *code,
                              const char *field, const char *fallback);
/* Adds "<member>_label" (page_label(prefix, value)) to every object of arr
 * whose member is a string. */
void page_label_all(struct http_req *r, json_t *arr, const char *member, const char *prefix);
/* Runs fn(db, actor, arg) in a read-only transaction. Returns its new value,
 * or NULL after replying with the failure. */
json_t *page_read(struct http_req *r, struct db *db, page_read_fn fn, const char *arg);
/* Appends s percent-encoded (every byte but A-Z a-z 0-9 - . _ ~, RFC 3986)
 * to b, for a query string or a filename* (RFC 8187); nothing for NULL. */
void page_add_pct(struct buf *b, const char *s);
/* Replies 200 with b as a CSV download named filename (attachment), and
 * releases b. */
void page_reply_csv(struct http_req *r, const char *filename, struct buf *b);

#endif
