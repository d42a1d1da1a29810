/*
 * router.c: the route tables modules add at start-up, and matching a
 * method and a raw path against them. Patterns are literal segments and
 * {name} segments that match exactly one non-empty segment; matching is
 * exact (a trailing slash is a different path). Tables are added before the
 * server starts and only read afterwards, so no lock is needed.
 */
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "core/xalloc.h"
#include "http/http_internal.h"
#include "core/banned.h"

/* One added table. */
struct route_table {
    const struct route *routes; /* the caller's static array */
    size_t n;                   /* its length */
};

static struct route_table *tables; /* every added table, in order */
static size_t n_tables;            /* how many */

void http_routes_add(const struct route *routes, size_t n)
{
    for (size_t i = 0; i < n_tables; i++) {
        if (tables[i].routes == routes) {
            return; /* added already: adding is idempotent */
        }
    }
    tables = xrealloc(tables, xmul(n_tables + 1, sizeof(*tables)));
    tables[n_tables].routes = routes;
    tables[n_tables].n = n;
    n_tables++;
}

void http_routes_reset(void)
{
    free(tables);
    tables = NULL;
    n_tables = 0;
}

/* Matches the decoded segments against pattern; fills params on success. */
static bool pattern_match(const char *pattern, char **segs, int n_segs, const char **params,
                          int *n_params)
{
    const char *p = pattern;
    int i = 0;
    int np = 0;
    if (*p != '/') {
        return false;
    }
    if (strcmp(p, "/") == 0) {
        return n_segs == 0;
    }
    while (*p == '/') {
        p++;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (i >= n_segs) {
            return false;
        }
        if (len >= 2 && p[0] == '{' && p[len - 1] == '}') {
            if (segs[i][0] == '\0' || np >= HTTP_MAX_PARAMS) {
                return false;
            }
            params[np++] = segs[i];
        } else if (strlen(segs[i]) != len || memcmp(segs[i], p, len) != 0) {
            return false;
        }
        i++;
        p += len;
    }
    if (i != n_segs) {
        return false;
    }
    *n_params = np;
    return true;
}

/* True when s[0..n) holds an ASCII control character (tab, CR and LF included). */
static bool has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            return true;
        }
    }
    return false;
}

/* Adds method to the Allow list unless it is there already. */
static void allow_add(char *allow, size_t cap, const char *method)
{
    size_t ml = strlen(method);
    const char *s = allow;
    while ((s = strstr(s, method)) != NULL) {
        if ((s == allow || s[-1] == ' ') && (s[ml] == ',' || s[ml] == '\0')) {
            return;
        }
        s += ml;
    }
    size_t len = strlen(allow);
    if (len + ml + 3 > cap) {
        return;
    }
    snprintf(allow + len, cap - len, "%s%s", len ? ", " : "", method);
}

void http_router_match(struct arena *a, const char *method, const char *raw_path,
                       struct http_match *m)
{
    memset(m, 0, sizeof(*m));
    if (!raw_path || raw_path[0] != '/') {
        m->status = 400;
        return;
    }
    /* split on '/' first, then decode each segment: "%2F" stays inside one */
    int n_segs = 0;
    for (const char *c = raw_path + 1; *c; c++) {
        n_segs += *c == '/';
    }
    n_segs++;
    if (strcmp(raw_path, "/") == 0) {
        n_segs = 0;
    }
    char **segs = arena_alloc(a, sizeof(char *) * (size_t)(n_segs + 1));
    struct buf path = BUF_INIT;
    const char *s = raw_path + 1;
    for (int i = 0; i < n_segs; i++) {
        const char *end = strchr(s, '/');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        char *d;
        size_t dlen;
        if (http_url_decode(a, s, len, false, &d, &dlen) < 0 || !utf8_valid(d, dlen) ||
            has_control(d, dlen)) {
            buf_release(&path);
            m->status = 400;
            return;
        }
        segs[i] = d;
        buf_addch(&path, '/');
        buf_add(&path, d, dlen);
        s = end ? end + 1 : s + len;
    }
    m->path = n_segs ? arena_strndup(a, path.buf, path.len) : arena_strdup(a, "/");
    buf_release(&path);
    const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
    bool other = false;
    for (size_t t = 0; t < n_tables; t++) {
        for (size_t k = 0; k < tables[t].n; k++) {
            const struct route *rt = &tables[t].routes[k];
            const char *params[HTTP_MAX_PARAMS];
            int np = 0;
            if (!pattern_match(rt->pattern, segs, n_segs, params, &np)) {
                continue;
            }
            if (strcmp(rt->method, want) == 0) {
                m->route = rt;
                m->n_params = np;
                memcpy(m->params, params, sizeof(params[0]) * (size_t)np);
                return;
            }
            other = true;
            allow_add(m->allow, sizeof(m->allow), rt->method);
            if (strcmp(rt->method, "GET") == 0) {
                allow_add(m->allow, sizeof(m->allow), "HEAD");
            }
        }
    }
    m->status = other ? 405 : 404;
}
