/*
 * http.h: what handlers see of HTTP. The server (libmicrohttpd, thread pool)
 * reads a request, finds its route, runs the auth hook, then the handler.
 * The handler builds exactly one reply with the http_reply_* functions; a
 * parser that fails replies itself ("OrReply") and returns NULL/-1, so the
 * handler just returns.
 *
 * Everything a request allocates comes from r->arena and is freed when the
 * response has been sent.
 */
#ifndef SANAD_HTTP_HTTP_H
#define SANAD_HTTP_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"

struct actor;
struct route;

#define HTTP_MAX_PARAMS 6

struct http_req {
    struct arena arena;           /* per-request memory, freed after the response */
    const char *method;           /* "GET", "POST", ... */
    const char *path;             /* decoded path without the query string */
    const char *params[HTTP_MAX_PARAMS]; /* path parameters ({id}) in pattern order */
    int n_params;                 /* how many params are set */
    const char *body;             /* request body, NUL-terminated; "" when none */
    size_t body_len;              /* body length in bytes */
    const char *content_type;     /* media type without parameters, lower-case; "" when none */
    char request_id[40];          /* id for logs and the X-Request-Id header */
    const char *remote_addr;      /* client address as text */
    bool tls;                     /* served over TLS, directly or behind a TLS proxy */
    const char *lang;             /* "ar" or "en": the language to answer in */
    const struct route *route;    /* the matched route */
    struct actor *actor;          /* the logged-in user, NULL for visitors (set by the auth hook) */
    const char *csrf_token;       /* the token forms must carry (set by the auth hook) */
    void *conn;                   /* the server's connection (private to src/http) */
    void *priv;                   /* the server's per-request state (private to src/http) */
    bool replied;                 /* a reply has been queued */
};

typedef void (*http_handler)(struct http_req *r);

/* Route flags: how the auth hook treats a route. Access is denied by default:
 * a route without ROUTE_PUBLIC needs a logged-in actor holding `perm`. */
enum route_flags {
    ROUTE_PUBLIC = 1 << 0, /* no login needed */
    ROUTE_API = 1 << 1,    /* JSON API: problem+json errors, bearer tokens accepted */
    ROUTE_PAGE = 1 << 2,   /* HTML page: visitors are sent to /login */
    ROUTE_NO_CSRF = 1 << 3, /* state-changing but protected otherwise (e.g. JSON with bearer) */
    ROUTE_MFA_SETUP = 1 << 4, /* reachable by an admin who has not enrolled a second factor yet */
    ROUTE_MFA_STEP = 1 << 5   /* reachable between the password and the second factor */
};

struct route {
    const char *method;  /* "GET", "POST", "PATCH", "DELETE" */
    const char *pattern; /* "/api/v1/users/{id}": {name} matches one segment */
    http_handler fn;     /* the handler */
    unsigned flags;      /* enum route_flags */
    const char *perm;    /* permission the actor needs (see auth/authz.h); NULL when any actor will do */
};

/* Adds a module's routes; the table must outlive the server (static). */
void http_routes_add(const struct route *routes, size_t n);

/* The hook that authenticates and authorizes: called after routing and before
 * the handler. Returns 0 to go on, -1 when it replied itself (401/403/redirect). */
typedef int (*http_auth_hook)(struct http_req *r);
void http_set_auth_hook(http_auth_hook hook);
/* Called once per request after the response is queued, for cleanup. */
typedef void (*http_done_hook)(struct http_req *r);
void http_set_done_hook(http_done_hook hook);

/* Request accessors. Values are decoded and live in the arena; NULL when absent. */
const char *http_header(struct http_req *r, const char *name);
const char *http_cookie(struct http_req *r, const char *name);
const char *http_query(struct http_req *r, const char *name);
/* A field of an application/x-www-form-urlencoded or multipart/form-data body. */
const char *http_form(struct http_req *r, const char *name);

/* The absolute URL of path (which starts with '/') as the client reached us:
 * https when r->tls, the Host header when it is a plain host name, else
 * "localhost". Lives in the arena. */
const char *http_abs_url(struct http_req *r, const char *path);

/* Every value of form field name, in order (a checkbox group repeats its
 * name; http_form gives only the first), decoded, as a new JSON array of
 * strings (empty when the field is absent). */
json_t *http_form_all(struct http_req *r, const char *name);

/* An uploaded file from a multipart/form-data body. */
struct http_upload {
    const char *field;        /* the form field name */
    const char *filename;     /* the client's file name (untrusted) */
    const char *content_type; /* the client's claimed type (untrusted) */
    const unsigned char *data;/* the bytes, in the arena */
    size_t len;               /* their number */
};
/* The first upload for field, or NULL. */
const struct http_upload *http_upload(struct http_req *r, const char *field);

/* Parses the JSON body: it must be application/json (else 415), valid UTF-8
 * and JSON (else 400 naming line and column), an object, and within the size
 * limit (else 413, checked while reading). Returns a new reference the caller
 * decrefs, or NULL after replying. */
json_t *http_json_body_or_reply(struct http_req *r);

/* Replies. Each queues the whole response; a second reply is a bug (asserted). */
void http_reply(struct http_req *r, int status, const char *content_type, const void *body,
                size_t n);
/* JSON reply; takes the reference to j. */
void http_reply_json(struct http_req *r, int status, json_t *j);
/* HTML reply from a buffer whose contents are taken (b is left empty). */
void http_reply_html(struct http_req *r, int status, struct buf *b);
/* RFC 9457 problem+json: type "https://sanad.example/problems/<code>", title in
 * r->lang from the catalog key "err.<code>" (falling back to detail), status,
 * code, detail, and, when field is not NULL, an "errors" array naming it.
 * extra (may be NULL) is merged in (its reference is taken). */
void http_reply_problem(struct http_req *r, int status, const char *code, const char *field,
                        const char *detail, json_t *extra);
/* Replies for a failure value: status from e->kind, problem+json for API routes,
 * an error page for HTML routes. */
void http_reply_err(struct http_req *r, const struct err *e);
/* 303 See Other to location. */
void http_redirect(struct http_req *r, const char *location);
/* Adds a response header (before the reply). Repeats allowed (Set-Cookie). */
void http_add_header(struct http_req *r, const char *name, const char *value);
/* Adds a Set-Cookie: Path=/, SameSite=Strict, Secure and the __Host- prefix
 * when r->tls, HttpOnly when http_only. max_age < 0 makes a session cookie,
 * 0 deletes it. The name is given without prefix. */
void http_set_cookie(struct http_req *r, const char *name, const char *value, int max_age,
                     bool http_only);
/* Reads a cookie set by http_set_cookie (adds the __Host- prefix when r->tls). */
const char *http_cookie_own(struct http_req *r, const char *name);

/* Maps a failure kind to its HTTP status. */
int http_status_of(enum err_kind kind);

/* Starts the server on g_config.listen with g_config.threads threads and
 * blocks until SIGINT or SIGTERM. Returns 0 on a clean stop, -1 (e filled)
 * when it could not start. */
int http_serve(struct err *e);

#endif
