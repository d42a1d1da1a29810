/*
 * http_internal.h: what the files of src/http share with each other and with
 * the unit tests and fuzz harnesses: the per-request private state, the pure
 * parsers (urlencoded, cookies, multipart, paths), the router, the reply
 * builder, static assets, metrics and a start/stop pair for the server.
 * Nothing outside src/http, tests and fuzz includes this file.
 */
#ifndef SANAD_HTTP_HTTP_INTERNAL_H
#define SANAD_HTTP_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "http/http.h"

/* One name/value pair (header, cookie, query or form field). */
struct http_kv {
    const char *name;  /* the name, decoded, in the arena */
    const char *value; /* the value, decoded, in the arena; "" when empty */
};

/* A growable list of pairs kept in an arena; duplicates are kept in order. */
struct http_kvs {
    struct http_kv *items; /* the pairs, in the arena */
    size_t n;              /* pairs in use */
    size_t cap;            /* pairs allocated */
};

/* Private per-request state (r->priv). Everything lives in r->arena except
 * the body buffer, which is malloc'd and freed with the request. */
struct http_priv {
    const char *raw_uri;        /* the request target as received (path and query) */
    const char *method_seen;    /* the method as received ("HEAD" stays "HEAD") */
    struct http_kvs headers;    /* request headers, names as received */
    struct http_kvs cookies;    /* parsed Cookie header */
    struct http_kvs query;      /* parsed query string */
    struct http_kvs form;       /* url-encoded or multipart fields */
    struct http_upload *uploads;/* multipart files, in the arena */
    size_t n_uploads;           /* how many uploads */
    bool cookies_parsed;        /* cookies has been filled */
    struct buf body;            /* the body as it arrives (malloc'd) */
    size_t body_limit;          /* largest body accepted for this content type */
    bool body_too_large;        /* the body went over body_limit: answer 413 */
    bool started;               /* the access handler has seen this request */
    bool dispatched;            /* routing and the handler have run */
    int64_t start_ns;           /* monotonic time of the first callback */
    /* the reply, built by http_reply* and sent by the server */
    int status;                 /* status code, 0 until replied */
    const char *reply_type;     /* Content-Type of the reply (arena) */
    const void *reply_body;     /* reply bytes (arena, or static for assets) */
    size_t reply_len;           /* their number */
    struct http_kvs reply_headers; /* extra response headers, in order */
    bool is_static;             /* served from /static/: cacheable */
    const char *route_label;    /* route pattern or a fixed label for metrics and logs */
};

/* Makes a new request with an empty arena and private state; never fails.
 * Freed with http_req_free. */
struct http_req *http_req_new(void);
/* Frees r, its arena and its body. NULL is a no-op. */
void http_req_free(struct http_req *r);

/* Appends a pair to list (strings are not copied: they must live in a). */
void http_kvs_add(struct arena *a, struct http_kvs *list, const char *name, const char *value);
/* The first value for name, or NULL. Names compare exactly, or ignoring ASCII
 * case when nocase is set. */
const char *http_kvs_get(const struct http_kvs *list, const char *name, bool nocase);

/* Percent-decodes s[0..n) into the arena; '+' becomes a space when plus_space.
 * Returns -1 on a malformed escape ("%", "%4", "%zz"), else 0 with *out and
 * *out_len set (out is NUL-terminated and may hold NUL bytes). */
int http_url_decode(struct arena *a, const char *s, size_t n, bool plus_space, char **out,
                    size_t *out_len);
/* Parses an application/x-www-form-urlencoded string (also query strings)
 * into out. Pairs without '=' get "", pairs with an empty name are skipped.
 * Returns -1 with e (ERR_INVALID, 400-level code "bad_escape" or
 * "invalid_utf8", field set) when a name or value is not decodable to valid
 * UTF-8 without control characters other than tab, CR and LF. */
int http_parse_urlencoded(struct arena *a, const char *s, size_t n, struct http_kvs *out,
                          struct err *e);
/* Parses a Cookie header ("a=1; b=2") into out; malformed pairs are skipped,
 * surrounding double quotes are removed. header may be NULL. */
void http_parse_cookies(struct arena *a, const char *header, struct http_kvs *out);
/* Extracts the boundary parameter of a multipart/form-data Content-Type into
 * the arena; NULL when missing, empty or longer than 70 characters. */
const char *http_multipart_boundary(struct arena *a, const char *content_type);
/* Parses a multipart/form-data body with boundary. Text fields go to fields
 * (must be valid UTF-8), parts with a filename go to *uploads (array in the
 * arena; data points into body, which must outlive the request). Returns -1
 * with e (ERR_INVALID, "malformed_multipart" or "invalid_utf8") on failure. */
int http_parse_multipart(struct arena *a, const char *boundary, const char *body, size_t n,
                         struct http_kvs *fields, struct http_upload **uploads,
                         size_t *n_uploads, struct err *e);
/* Builds a Set-Cookie value; returns NULL when name or value holds a character
 * a cookie may not carry. The result lives in a. */
char *http_cookie_build(struct arena *a, const char *name, const char *value, int max_age,
                        bool http_only, bool tls);
/* True when location is a local path ("/x", not "//x" nor "/\x"). */
bool http_local_path(const char *location);

/* Result of routing one request. */
struct http_match {
    const struct route *route;          /* the route, NULL when none matched */
    int status;                         /* 0 when matched, else 400, 404 or 405 */
    const char *path;                   /* the decoded path (arena), NULL on 400 */
    const char *params[HTTP_MAX_PARAMS];/* decoded parameters (arena) */
    int n_params;                       /* how many */
    char allow[64];                     /* for 405: the methods that would match */
};

/* Matches method (HEAD counts as GET) and the raw path (still percent-encoded,
 * no query string) against the added routes. Fills m; never fails otherwise. */
void http_router_match(struct arena *a, const char *method, const char *raw_path,
                       struct http_match *m);
/* Forgets every added route (tests). */
void http_routes_reset(void);
/* Registers the routes of src/http itself (/healthz, /metrics) once. */
void http_builtin_routes_add(void);

/* True when the reply for r should be an HTML page rather than problem+json. */
bool http_wants_html(const struct http_req *r);
/* Sends a plain bilingual HTML error page with status (used for 404 pages). */
void http_reply_error_page(struct http_req *r, int status, const char *code, const char *detail);
/* Adds the security headers that every response carries to list. */
void http_security_headers(struct http_req *r, struct http_kvs *list);

/* Parses the body of r (form or multipart) into priv->form; replies 400 and
 * returns -1 on malformed input. Called by the server before the auth hook. */
int http_parse_body_or_reply(struct http_req *r);
/* Parses the query string of raw_uri into priv->query; replies 400 and
 * returns -1 on malformed input. */
int http_parse_query_or_reply(struct http_req *r);
/* The body limit for a media type (lower-case, no parameters). */
size_t http_body_limit_for(const char *content_type);

/* Static assets: builds the ETag and gzip tables once (thread-safe). */
void http_static_init(void);
/* Frees the tables (tests, shutdown). */
void http_static_shutdown(void);
/* Serves GET/HEAD /static/... for r (path is decoded). Always replies. */
void http_static_serve(struct http_req *r, const char *path);

/* Metrics: a request started / finished. */
void http_metrics_begin(void);
void http_metrics_end(const char *method, int status, const char *route, int64_t duration_ns);
/* A connection opened (+1) or closed (-1). */
void http_metrics_connection(int delta);
/* Writes the Prometheus text exposition into out. */
void http_metrics_render(struct buf *out);

/* Starts the server on g_config.listen without blocking. Returns 0, or -1
 * with e filled. */
int http_server_start(struct err *e);
/* The port the running server is bound to, 0 when stopped. */
int http_server_port(void);
/* Stops the running server (waits for its threads). No-op when stopped. */
void http_server_stop(void);

/* Splits "ADDR:PORT" or "[V6]:PORT" into host (arena) and port. Returns -1
 * when malformed. */
int http_listen_parse(struct arena *a, const char *listen, const char **host, int *port);

#endif
