/*
 * request.c: the request side of http.h: the request object, headers,
 * cookies, query strings, url-encoded and multipart forms, JSON bodies.
 * The parsers are pure (arena in, pairs out) so that tests and fuzzers can
 * drive them without a server.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "core/text.h"
#include "core/xalloc.h"
#include "http/http_internal.h"
#include "core/banned.h"

struct http_req *http_req_new(void)
{
    struct http_req *r = xcalloc(1, sizeof(*r));
    struct http_priv *p = xcalloc(1, sizeof(*p));
    arena_init(&r->arena);
    buf_init(&p->body);
    r->priv = p;
    r->method = "GET";
    r->path = "/";
    r->body = "";
    r->content_type = "";
    r->remote_addr = "";
    r->lang = "ar";
    p->raw_uri = "/";
    p->method_seen = "GET";
    return r;
}

void http_req_free(struct http_req *r)
{
    if (!r) {
        return;
    }
    struct http_priv *p = r->priv;
    if (p) {
        buf_release(&p->body);
        free(p);
    }
    arena_release(&r->arena);
    free(r);
}

void http_kvs_add(struct arena *a, struct http_kvs *list, const char *name, const char *value)
{
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 8;
        struct http_kv *items = arena_alloc(a, xmul(cap, sizeof(*items)));
        if (list->n) {
            memcpy(items, list->items, list->n * sizeof(*items));
        }
        list->items = items;
        list->cap = cap;
    }
    list->items[list->n].name = name;
    list->items[list->n].value = value;
    list->n++;
}

const char *http_kvs_get(const struct http_kvs *list, const char *name, bool nocase)
{
    if (!name) {
        return NULL;
    }
    for (size_t i = 0; i < list->n; i++) {
        int c = nocase ? strcasecmp(list->items[i].name, name) : strcmp(list->items[i].name, name);
        if (c == 0) {
            return list->items[i].value;
        }
    }
    return NULL;
}

/* Value of hex digit c, or -1. */
static int hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int http_url_decode(struct arena *a, const char *s, size_t n, bool plus_space, char **out,
                    size_t *out_len)
{
    char *d = arena_alloc(a, n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n) {
                return -1;
            }
            int hi = hexval((unsigned char)s[i + 1]);
            int lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0) {
                return -1;
            }
            d[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_space) {
            d[j++] = ' ';
        } else {
            d[j++] = c;
        }
    }
    d[j] = '\0';
    *out = d;
    *out_len = j;
    return 0;
}

/* Shortens name for an error's field member (at most 60 bytes, cut on a
 * UTF-8 boundary), copying into the arena. */
static const char *field_name(struct arena *a, const char *s, size_t n)
{
    if (n > 60) {
        n = 60;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) {
            n--;
        }
    }
    return arena_strndup(a, s, n);
}

/* Decodes one part of a pair and checks it. Returns -1 with e filled. */
static int decode_part(struct arena *a, const char *s, size_t n, const char *field, char **out,
                       struct err *e)
{
    size_t len;
    if (http_url_decode(a, s, n, true, out, &len) < 0) {
        return err_set(e, ERR_INVALID, "bad_escape", field, "malformed percent escape in '%s'",
                       field);
    }
    if (!utf8_valid(*out, len)) {
        return err_set(e, ERR_INVALID, "invalid_utf8", field,
                       "'%s' is not valid UTF-8 text", field);
    }
    return 0;
}

int http_parse_urlencoded(struct arena *a, const char *s, size_t n, struct http_kvs *out,
                          struct err *e)
{
    size_t i = 0;
    while (i <= n) {
        size_t end = i;
        while (end < n && s[end] != '&') {
            end++;
        }
        const char *pair = s + i;
        size_t plen = end - i;
        const char *eq = memchr(pair, '=', plen);
        size_t nlen = eq ? (size_t)(eq - pair) : plen;
        if (nlen > 0) {
            char *name;
            char *value;
            const char *raw_name = field_name(a, pair, nlen);
            if (decode_part(a, pair, nlen, raw_name, &name, e) < 0) {
                return -1;
            }
            // NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): set, or err_set returned -1
            const char *fname = field_name(a, name, strlen(name));
            if (eq) {
                if (decode_part(a, eq + 1, plen - nlen - 1, fname, &value, e) < 0) {
                    return -1;
                }
            } else {
                value = arena_strdup(a, "");
            }
            // NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): set, or err_set returned -1
            http_kvs_add(a, out, name, value);
        }
        i = end + 1;
    }
    return 0;
}

/* True for the bytes RFC 6265 allows in a cookie value (cookie-octet). */
static bool cookie_octet(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
           (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

/* True for the bytes of an RFC 9110 token (cookie names, header names). */
static bool token_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !strchr("()<>@,;:\\\"/[]?={}", c);
}

void http_parse_cookies(struct arena *a, const char *header, struct http_kvs *out)
{
    if (!header) {
        return;
    }
    const char *s = header;
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == ';') {
            s++;
        }
        const char *start = s;
        while (*s && *s != ';') {
            s++;
        }
        const char *end = s;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }
        const char *eq = memchr(start, '=', (size_t)(end - start));
        if (!eq || eq == start) {
            continue;
        }
        const char *ne = eq;
        while (ne > start && (ne[-1] == ' ' || ne[-1] == '\t')) {
            ne--;
        }
        bool ok = ne > start;
        for (const char *c = start; ok && c < ne; c++) {
            ok = token_char((unsigned char)*c);
        }
        const char *v = eq + 1;
        while (v < end && (*v == ' ' || *v == '\t')) {
            v++;
        }
        const char *ve = end;
        if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
            v++;
            ve--;
        }
        for (const char *c = v; ok && c < ve; c++) {
            ok = cookie_octet((unsigned char)*c);
        }
        if (ok) {
            http_kvs_add(a, out, arena_strndup(a, start, (size_t)(ne - start)),
                         arena_strndup(a, v, (size_t)(ve - v)));
        }
    }
}

char *http_cookie_build(struct arena *a, const char *name, const char *value, int max_age,
                        bool http_only, bool tls)
{
    if (!name || !*name || !value) {
        return NULL;
    }
    for (const char *c = name; *c; c++) {
        if (!token_char((unsigned char)*c)) {
            return NULL;
        }
    }
    for (const char *c = value; *c; c++) {
        if (!cookie_octet((unsigned char)*c)) {
            return NULL;
        }
    }
    struct buf b = BUF_INIT;
    buf_addf(&b, "%s%s=%s; Path=/", tls ? "__Host-" : "", name, value);
    if (max_age >= 0) {
        buf_addf(&b, "; Max-Age=%d", max_age);
    }
    buf_adds(&b, "; SameSite=Strict");
    if (http_only) {
        buf_adds(&b, "; HttpOnly");
    }
    if (tls) {
        buf_adds(&b, "; Secure");
    }
    char *res = arena_strndup(a, b.buf, b.len);
    buf_release(&b);
    return res;
}

bool http_local_path(const char *location)
{
    if (!location || location[0] != '/' || location[1] == '/' || location[1] == '\\') {
        return false;
    }
    for (const unsigned char *c = (const unsigned char *)location; *c; c++) {
        if (*c < 0x20 || *c == 0x7f) {
            return false;
        }
    }
    return true;
}

/* Finds parameter pname (lower-case) in a header value "type; a=b; c=\"d\"",
 * copying its value (quotes removed) into the arena. NULL when absent. */
static const char *header_param(struct arena *a, const char *value, const char *pname)
{
    const char *s = value ? strchr(value, ';') : NULL;
    size_t plen = strlen(pname);
    while (s) {
        s++;
        while (*s == ' ' || *s == '\t') {
            s++;
        }
        if (strncasecmp(s, pname, plen) == 0) {
            const char *v = s + plen;
            while (*v == ' ' || *v == '\t') {
                v++;
            }
            if (*v == '=') {
                v++;
                while (*v == ' ' || *v == '\t') {
                    v++;
                }
                if (*v == '"') {
                    struct buf b = BUF_INIT;
                    for (v++; *v && *v != '"'; v++) {
                        if (*v == '\\' && v[1]) {
                            v++;
                        }
                        buf_addch(&b, *v);
                    }
                    char *res = arena_strndup(a, b.buf, b.len);
                    buf_release(&b);
                    return res;
                }
                const char *e = v;
                while (*e && *e != ';' && *e != ' ' && *e != '\t') {
                    e++;
                }
                return arena_strndup(a, v, (size_t)(e - v));
            }
        }
        s = strchr(s, ';');
    }
    return NULL;
}

const char *http_multipart_boundary(struct arena *a, const char *content_type)
{
    const char *b = header_param(a, content_type, "boundary");
    if (!b || !*b || strlen(b) > 70) {
        return NULL;
    }
    return b;
}

/* Finds needle[0..nn) in hay[0..hn); NULL when absent. */
static const char *find_bytes(const char *hay, size_t hn, const char *needle, size_t nn)
{
    if (nn == 0 || hn < nn) {
        return NULL;
    }
    return memmem(hay, hn, needle, nn);
}

/* Parses the headers of one part (s[0..n), CRLF lines) for the name, filename
 * and content type. Returns -1 when there is no form-data name. */
static int part_headers(struct arena *a, const char *s, size_t n, const char **name,
                        const char **filename, const char **ctype)
{
    *name = NULL;
    *filename = NULL;
    *ctype = "application/octet-stream";
    char *h = arena_strndup(a, s, n);
    char *save = NULL;
    for (char *line = strtok_r(h, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        char *colon = strchr(line, ':');
        if (!colon) {
            return -1;
        }
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t') {
            v++;
        }
        if (strcasecmp(line, "content-disposition") == 0) {
            if (strncasecmp(v, "form-data", 9) != 0) {
                return -1;
            }
            *name = header_param(a, v, "name");
            *filename = header_param(a, v, "filename");
        } else if (strcasecmp(line, "content-type") == 0) {
            *ctype = arena_strdup(a, v);
        }
    }
    return *name && **name ? 0 : -1;
}

int http_parse_multipart(struct arena *a, const char *boundary, const char *body, size_t n,
                         struct http_kvs *fields, struct http_upload **uploads,
                         size_t *n_uploads, struct err *e)
{
    size_t blen = strlen(boundary);
    char *delim = arena_alloc(a, blen + 5);
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, boundary, blen + 1);
    size_t dlen = blen + 4;
    size_t cap = 0;
    *uploads = NULL;
    *n_uploads = 0;
    /* the first delimiter may come without the CRLF before it */
    const char *p;
    if (n >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
        p = body + dlen - 2;
    } else {
        const char *first = find_bytes(body, n, delim, dlen);
        if (!first) {
            return err_set(e, ERR_INVALID, "malformed_multipart", NULL,
                           "multipart body has no boundary");
        }
        p = first + dlen;
    }
    const char *end = body + n;
    for (;;) {
        /* p is just past a delimiter: "--" ends, else CRLF starts a part */
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
            return 0;
        }
        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
            return err_set(e, ERR_INVALID, "malformed_multipart", NULL,
                           "multipart delimiter not followed by a line end");
        }
        p += 2;
        const char *hend = find_bytes(p, (size_t)(end - p), "\r\n\r\n", 4);
        const char *data;
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            hend = p - 2; /* no headers at all */
        }
        if (!hend) {
            return err_set(e, ERR_INVALID, "malformed_multipart", NULL,
                           "multipart part headers not terminated");
        }
        data = hend + 4;
        const char *next = find_bytes(data, (size_t)(end - data), delim, dlen);
        if (!next) {
            return err_set(e, ERR_INVALID, "malformed_multipart", NULL,
                           "multipart body not closed by its boundary");
        }
        const char *name, *filename, *ctype;
        if (hend < p || part_headers(a, p, (size_t)(hend - p), &name, &filename, &ctype) < 0) {
            return err_set(e, ERR_INVALID, "malformed_multipart", NULL,
                           "multipart part without a form-data name");
        }
        const char *fname = field_name(a, name, strlen(name));
        if (!utf8_valid(name, strlen(name))) {
            return err_set(e, ERR_INVALID, "invalid_utf8", NULL,
                           "multipart field name is not valid UTF-8");
        }
        size_t dn = (size_t)(next - data);
        if (filename) {
            if (*n_uploads == cap) {
                cap = cap ? cap * 2 : 4;
                struct http_upload *u = arena_alloc(a, xmul(cap, sizeof(*u)));
                if (*n_uploads) {
                    memcpy(u, *uploads, *n_uploads * sizeof(*u));
                }
                *uploads = u;
            }
            struct http_upload *u = &(*uploads)[(*n_uploads)++];
            u->field = name;
            u->filename = filename;
            u->content_type = ctype;
            u->data = (const unsigned char *)data;
            u->len = dn;
        } else {
            if (!utf8_valid(data, dn)) {
                return err_set(e, ERR_INVALID, "invalid_utf8", fname,
                               "'%s' is not valid UTF-8 text", fname);
            }
            http_kvs_add(a, fields, name, arena_strndup(a, data, dn));
        }
        p = next + dlen;
    }
}

const char *http_header(struct http_req *r, const char *name)
{
    struct http_priv *p = r->priv;
    return http_kvs_get(&p->headers, name, true);
}

const char *http_abs_url(struct http_req *r, const char *path)
{
    const char *host = http_header(r, "Host");
    if (!host || !*host || strpbrk(host, "/\\\"<> ")) {
        host = "localhost";
    }
    return arena_printf(&r->arena, "%s://%s%s", r->tls ? "https" : "http", host, path);
}

const char *http_cookie(struct http_req *r, const char *name)
{
    struct http_priv *p = r->priv;
    if (!p->cookies_parsed) {
        http_parse_cookies(&r->arena, http_header(r, "Cookie"), &p->cookies);
        p->cookies_parsed = true;
    }
    return http_kvs_get(&p->cookies, name, false);
}

const char *http_cookie_own(struct http_req *r, const char *name)
{
    if (!r->tls) {
        return http_cookie(r, name);
    }
    return http_cookie(r, arena_printf(&r->arena, "__Host-%s", name));
}

const char *http_query(struct http_req *r, const char *name)
{
    struct http_priv *p = r->priv;
    return http_kvs_get(&p->query, name, false);
}

const char *http_form(struct http_req *r, const char *name)
{
    struct http_priv *p = r->priv;
    return http_kvs_get(&p->form, name, false);
}

json_t *http_form_all(struct http_req *r, const char *name)
{
    struct http_priv *p = r->priv;
    json_t *arr = json_array();
    for (size_t i = 0; i < p->form.n; i++) {
        if (strcmp(p->form.items[i].name, name) == 0) {
            json_array_append_new(arr, json_string(p->form.items[i].value));
        }
    }
    return arr;
}

const struct http_upload *http_upload(struct http_req *r, const char *field)
{
    struct http_priv *p = r->priv;
    for (size_t i = 0; field && i < p->n_uploads; i++) {
        if (strcmp(p->uploads[i].field, field) == 0) {
            return &p->uploads[i];
        }
    }
    return NULL;
}

size_t http_body_limit_for(const char *content_type)
{
    if (strcmp(content_type, "application/x-www-form-urlencoded") == 0) {
        return g_config.form_body_max ? g_config.form_body_max : 1 << 20;
    }
    if (strcmp(content_type, "multipart/form-data") == 0 || strcmp(content_type, "text/csv") == 0) {
        return g_config.upload_max ? g_config.upload_max : 10 << 20;
    }
    return g_config.json_body_max ? g_config.json_body_max : 1 << 20;
}

/* Replies 400 for a parse failure e. */
static void reply_bad(struct http_req *r, const struct err *e)
{
    http_reply_problem(r, 400, e->code, e->field[0] ? e->field : NULL, e->msg, NULL);
}

int http_parse_query_or_reply(struct http_req *r)
{
    struct http_priv *p = r->priv;
    const char *q = strchr(p->raw_uri, '?');
    if (!q) {
        return 0;
    }
    q++;
    const char *hash = strchr(q, '#');
    size_t n = hash ? (size_t)(hash - q) : strlen(q);
    struct err e;
    err_clear(&e);
    if (http_parse_urlencoded(&r->arena, q, n, &p->query, &e) < 0) {
        reply_bad(r, &e);
        return -1;
    }
    return 0;
}

int http_parse_body_or_reply(struct http_req *r)
{
    struct http_priv *p = r->priv;
    struct err e;
    err_clear(&e);
    if (strcmp(r->content_type, "application/x-www-form-urlencoded") == 0) {
        if (http_parse_urlencoded(&r->arena, r->body, r->body_len, &p->form, &e) < 0) {
            reply_bad(r, &e);
            return -1;
        }
    } else if (strcmp(r->content_type, "multipart/form-data") == 0) {
        const char *b = http_multipart_boundary(&r->arena, http_header(r, "Content-Type"));
        if (!b) {
            http_reply_problem(r, 400, "malformed_multipart", NULL,
                               "multipart content type without a valid boundary", NULL);
            return -1;
        }
        if (http_parse_multipart(&r->arena, b, r->body, r->body_len, &p->form, &p->uploads,
                                 &p->n_uploads, &e) < 0) {
            reply_bad(r, &e);
            return -1;
        }
    }
    return 0;
}

json_t *http_json_body_or_reply(struct http_req *r)
{
    struct http_priv *p = r->priv;
    if (p->body_too_large) {
        http_reply_problem(r, 413, "body_too_large", NULL, "request body is too large", NULL);
        return NULL;
    }
    if (strcmp(r->content_type, "application/json") != 0) {
        http_reply_problem(r, 415, "unsupported_media_type", NULL,
                           "request body must be 'application/json'", NULL);
        return NULL;
    }
    const char *charset = header_param(&r->arena, http_header(r, "Content-Type"), "charset");
    if (charset && strcasecmp(charset, "utf-8") != 0 && strcasecmp(charset, "utf8") != 0) {
        http_reply_problem(r, 415, "unsupported_media_type", NULL,
                           "request body must be UTF-8 ('charset=utf-8')", NULL);
        return NULL;
    }
    if (!utf8_valid(r->body, r->body_len)) {
        http_reply_problem(r, 400, "invalid_utf8", NULL, "request body is not valid UTF-8 text",
                           NULL);
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        char *detail = arena_printf(&r->arena, "malformed JSON at line %d, column %d: %s",
                                    je.line, je.column, je.text);
        json_t *extra = json_pack("{s:i, s:i}", "line", je.line, "column", je.column);
        http_reply_problem(r, 400, "malformed_json", NULL, detail, extra);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        http_reply_problem(r, 400, "not_an_object", NULL, "request body must be a JSON object",
                           NULL);
        return NULL;
    }
    return j;
}
