/*
 * test_http_server.c: the real server on 127.0.0.1 port 0, spoken to with
 * libcurl: /healthz against a temporary SQLite file, 404 and 405, 413 by
 * Content-Length and while streaming, 415, malformed JSON, security headers,
 * static assets with ETag, 304 and gzip, HEAD, handlers that forget to reply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/config.h"
#include "db/db.h"
#include "http/http_internal.h"
#include "web/assets.h"
#include "web/i18n.h"
#include "web/tmpl.h"
#include "core/banned.h"

/* One response as seen by the client. */
struct resp {
    long status;     /* status code */
    struct buf head; /* raw header lines */
    struct buf body; /* body bytes */
};

static char db_path[64];
static int port;

/* Appends received bytes to a buf. */
static size_t collect(char *p, size_t size, size_t n, void *userdata)
{
    buf_add(userdata, p, size * n);
    return size * n;
}

/* Feeds a streamed body of 3 MiB of 'x' in chunks. */
static size_t feed(char *p, size_t size, size_t n, void *userdata)
{
    size_t *left = userdata;
    size_t k = size * n < *left ? size * n : *left;
    memset(p, 'x', k);
    *left -= k;
    return k;
}

/* Value of header name in resp (first one), copied into out; NULL when absent. */
static const char *header_of(struct resp *r, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    for (const char *line = r->head.buf; line && *line;) {
        const char *end = strstr(line, "\r\n");
        if (!end) {
            break;
        }
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ') {
                v++;
            }
            size_t len = (size_t)(end - v) < n - 1 ? (size_t)(end - v) : n - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return out;
        }
        line = end + 2;
    }
    return NULL;
}

/* Sends one request; headers is a NULL-terminated list of "Name: value". */
static void request(struct resp *out, const char *method, const char *path, const char **headers,
                    const char *body, long body_len)
{
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[512];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    buf_init(&out->head);
    buf_init(&out->body);
    struct curl_slist *hl = NULL;
    for (int i = 0; headers && headers[i]; i++) {
        hl = curl_slist_append(hl, headers[i]);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    }
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, body_len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &out->head);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(c);
    assert_int_equal(rc, CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
}

static void resp_release(struct resp *r)
{
    buf_release(&r->head);
    buf_release(&r->body);
}

/* Asserts resp is problem+json with status and code. */
static void assert_problem(struct resp *r, long status, const char *code)
{
    char v[256];
    assert_int_equal(r->status, status);
    assert_non_null(header_of(r, "Content-Type", v, sizeof(v)));
    assert_string_equal(v, "application/problem+json");
    json_t *j = json_loadb(r->body.buf, r->body.len, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), status);
    assert_string_equal(json_string_value(json_object_get(j, "code")), code);
    assert_non_null(json_string_value(json_object_get(j, "title")));
    assert_non_null(json_string_value(json_object_get(j, "detail")));
    json_decref(j);
}

/* Handlers for the test routes. */
static void h_echo(struct http_req *r)
{
    json_t *j = http_json_body_or_reply(r);
    if (!j) {
        return;
    }
    http_reply_json(r, 200, j);
}
static void h_item(struct http_req *r)
{
    json_t *j = json_pack("{s:s, s:s?, s:s}", "id", r->params[0], "q", http_query(r, "q"), "lang",
                          r->lang);
    http_reply_json(r, 200, j);
}
static void h_forgets(struct http_req *r)
{
    (void)r;
}
static void h_form(struct http_req *r)
{
    const char *name = http_form(r, "name");
    const struct http_upload *u = http_upload(r, "file");
    json_t *j = json_pack("{s:s?, s:I}", "name", name, "file_len",
                          (json_int_t)(u ? (json_int_t)u->len : -1));
    http_reply_json(r, 200, j);
}
static void h_unavailable(struct http_req *r)
{
    struct err e;
    err_set(&e, ERR_UNAVAILABLE, "db_down", NULL, "database is down");
    http_reply_err(r, &e);
}
static void h_cookie(struct http_req *r)
{
    http_set_cookie(r, "sid", "abc", 60, true);
    http_redirect(r, "//evil.example");
}

static const struct route routes[] = {
    {"POST", "/api/echo", h_echo, ROUTE_API | ROUTE_PUBLIC, NULL},
    {"GET", "/api/items/{id}", h_item, ROUTE_API | ROUTE_PUBLIC, NULL},
    {"DELETE", "/api/items/{id}", h_item, ROUTE_API | ROUTE_PUBLIC, NULL},
    {"GET", "/api/forgets", h_forgets, ROUTE_API | ROUTE_PUBLIC, NULL},
    {"POST", "/form", h_form, ROUTE_PAGE | ROUTE_PUBLIC, NULL},
    {"GET", "/api/down", h_unavailable, ROUTE_API | ROUTE_PUBLIC, NULL},
    {"GET", "/cookie", h_cookie, ROUTE_PAGE | ROUTE_PUBLIC, NULL},
};

static int auth_calls;
static int done_calls;
/* Counts calls; refuses /api/items/secret with 403. */
static int test_auth(struct http_req *r)
{
    __atomic_add_fetch(&auth_calls, 1, __ATOMIC_SEQ_CST);
    if (r->n_params == 1 && strcmp(r->params[0], "secret") == 0) {
        struct err e;
        err_set(&e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed");
        http_reply_err(r, &e);
        return -1;
    }
    return 0;
}
static void test_done(struct http_req *r)
{
    (void)r;
    __atomic_add_fetch(&done_calls, 1, __ATOMIC_SEQ_CST);
}

static int setup(void **state)
{
    (void)state;
    config_defaults();
    free(g_config.listen);
    g_config.listen = strdup("127.0.0.1:0");
    g_config.threads = 2;
    g_config.json_body_max = 4096;
    g_config.form_body_max = 4096;
    g_config.upload_max = 1 << 20;
    struct err e;
    err_clear(&e);
    if (i18n_init(&e) < 0) {
        fprintf(stderr, "i18n_init: %s\n", e.msg);
    }
    if (tmpl_init(&e) < 0) {
        fprintf(stderr, "tmpl_init: %s\n", e.msg);
    }
    snprintf(db_path, sizeof(db_path), "/tmp/sanad-http-test-%d.db", (int)getpid());
    char url[96];
    snprintf(url, sizeof(url), "sqlite:%s", db_path);
    const char *env = getenv("SANAD_TEST_DB");
    db_set_url(env && *env ? env : url);
    http_routes_add(routes, sizeof(routes) / sizeof(routes[0]));
    http_set_auth_hook(test_auth);
    http_set_done_hook(test_done);
    curl_global_init(CURL_GLOBAL_ALL);
    char pf[64];
    snprintf(pf, sizeof(pf), "/tmp/sanad-http-port-%d", (int)getpid());
    setenv("SANAD_PORT_FILE", pf, 1);
    if (http_server_start(&e) < 0) {
        fprintf(stderr, "start: %s\n", e.msg);
        return -1;
    }
    port = http_server_port();
    FILE *f = fopen(pf, "r");
    int from_file = 0;
    if (!f || fscanf(f, "%d", &from_file) != 1 || from_file != port) {
        fprintf(stderr, "port file does not hold %d\n", port);
        return -1;
    }
    fclose(f);
    unlink(pf);
    return port > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    http_server_stop();
    assert_int_equal(http_server_port(), 0);
    curl_global_cleanup();
    unlink(db_path);
    char side[96];
    snprintf(side, sizeof(side), "%s-wal", db_path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", db_path);
    unlink(side);
    return 0;
}

static void test_healthz(void **state)
{
    (void)state;
    struct resp r;
    request(&r, "GET", "/healthz", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    json_t *j = json_loadb(r.body.buf, r.body.len, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    assert_string_equal(json_string_value(json_object_get(j, "db")), "ok");
    json_decref(j);
    char v[512];
    assert_non_null(header_of(&r, "Content-Security-Policy", v, sizeof(v)));
    assert_non_null(strstr(v, "frame-ancestors 'none'"));
    assert_non_null(header_of(&r, "X-Content-Type-Options", v, sizeof(v)));
    assert_non_null(header_of(&r, "X-Frame-Options", v, sizeof(v)));
    assert_non_null(header_of(&r, "Referrer-Policy", v, sizeof(v)));
    assert_non_null(header_of(&r, "Cache-Control", v, sizeof(v)));
    assert_string_equal(v, "no-store");
    assert_non_null(header_of(&r, "X-Request-Id", v, sizeof(v)));
    assert_int_equal(strlen(v), 16);
    assert_null(header_of(&r, "Strict-Transport-Security", v, sizeof(v)));
    resp_release(&r);
}

static void test_not_found_and_method(void **state)
{
    (void)state;
    struct resp r;
    request(&r, "GET", "/api/nope", NULL, NULL, 0);
    assert_problem(&r, 404, "not_found");
    resp_release(&r);

    request(&r, "GET", "/nope", NULL, NULL, 0);
    assert_int_equal(r.status, 404);
    char v[256];
    assert_non_null(header_of(&r, "Content-Type", v, sizeof(v)));
    assert_non_null(strstr(v, "text/html"));
    assert_non_null(strstr(r.body.buf, "<html"));
    resp_release(&r);

    request(&r, "PUT", "/api/items/1", NULL, "{}", 2);
    assert_problem(&r, 405, "method_not_allowed");
    assert_non_null(header_of(&r, "Allow", v, sizeof(v)));
    assert_string_equal(v, "GET, HEAD, DELETE");
    resp_release(&r);

    request(&r, "GET", "/api/items/%FF", NULL, NULL, 0);
    assert_problem(&r, 400, "invalid_path");
    resp_release(&r);

    request(&r, "GET", "/api/items/%D8%B3?q=a+b%21&token=secret", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    json_t *j = json_loadb(r.body.buf, r.body.len, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "\xd8\xb3");
    assert_string_equal(json_string_value(json_object_get(j, "q")), "a b!");
    json_decref(j);
    resp_release(&r);

    request(&r, "GET", "/api/items/1?q=%zz", NULL, NULL, 0);
    assert_problem(&r, 400, "bad_escape");
    resp_release(&r);

    /* the auth hook's refusal is the reply */
    request(&r, "GET", "/api/items/secret", NULL, NULL, 0);
    assert_problem(&r, 403, "forbidden");
    resp_release(&r);

    /* HEAD is GET without a body */
    request(&r, "HEAD", "/api/items/7", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, 0);
    resp_release(&r);
}

static void test_language(void **state)
{
    (void)state;
    struct resp r;
    const char *en[] = {"Accept-Language: en-US,en;q=0.9", NULL};
    request(&r, "GET", "/api/items/1", en, NULL, 0);
    assert_non_null(strstr(r.body.buf, "\"lang\":\"en\""));
    resp_release(&r);
    const char *cookie[] = {"Accept-Language: en", "Cookie: lang=ar", NULL};
    request(&r, "GET", "/api/items/1", cookie, NULL, 0);
    assert_non_null(strstr(r.body.buf, "\"lang\":\"ar\""));
    resp_release(&r);
    const char *junk[] = {"Cookie: lang=xx", NULL};
    request(&r, "GET", "/api/items/1", junk, NULL, 0);
    assert_non_null(strstr(r.body.buf, "\"lang\":\"ar\""));
    resp_release(&r);
}

static void test_bodies(void **state)
{
    (void)state;
    struct resp r;
    const char *json_ct[] = {"Content-Type: application/json; charset=utf-8", NULL};
    request(&r, "POST", "/api/echo", json_ct, "{\"a\":[1,2]}", 11);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.buf, "{\"a\":[1,2]}");
    resp_release(&r);

    request(&r, "POST", "/api/echo", json_ct, "{\"a\": }", 7);
    assert_problem(&r, 400, "malformed_json");
    resp_release(&r);

    const char *text_ct[] = {"Content-Type: text/plain", NULL};
    request(&r, "POST", "/api/echo", text_ct, "{}", 2);
    assert_problem(&r, 415, "unsupported_media_type");
    resp_release(&r);

    /* over the limit by Content-Length: refused before reading */
    char *big = malloc(8192);
    memset(big, ' ', 8192);
    big[0] = '{';
    big[8191] = '}';
    request(&r, "POST", "/api/echo", json_ct, big, 8192);
    assert_problem(&r, 413, "body_too_large");
    resp_release(&r);
    free(big);

    /* over the limit while streaming (chunked, no Content-Length) */
    CURL *c = curl_easy_init();
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/echo", port);
    size_t left = 64 * 1024;
    struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
    hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
    buf_init(&r.head);
    buf_init(&r.body);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, feed);
    curl_easy_setopt(c, CURLOPT_READDATA, &left);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.head);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    assert_problem(&r, 413, "body_too_large");
    resp_release(&r);

    /* url-encoded form with invalid UTF-8: 400 naming the field */
    const char *form_ct[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    request(&r, "POST", "/form", form_ct, "name=%D8%B3&x=%FF", 17);
    assert_int_equal(r.status, 400);
    resp_release(&r);
    request(&r, "POST", "/form", form_ct, "name=%D8%B3+1", 13);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.buf, "\"name\":\"\xd8\xb3 1\""));
    resp_release(&r);

    const char *mp_ct[] = {"Content-Type: multipart/form-data; boundary=zz", NULL};
    static const char mp[] = "--zz\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nv\r\n"
                             "--zz\r\nContent-Disposition: form-data; name=\"file\"; "
                             "filename=\"a.bin\"\r\n\r\n\x01\x02\x03\r\n--zz--\r\n";
    request(&r, "POST", "/form", mp_ct, mp, (long)sizeof(mp) - 1);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.buf, "\"file_len\":3"));
    resp_release(&r);
}

static void test_handler_bugs_and_errors(void **state)
{
    (void)state;
    struct resp r;
    request(&r, "GET", "/api/forgets", NULL, NULL, 0);
    assert_problem(&r, 500, "internal");
    resp_release(&r);
    request(&r, "GET", "/api/down", NULL, NULL, 0);
    assert_problem(&r, 503, "db_down");
    resp_release(&r);
    request(&r, "GET", "/cookie", NULL, NULL, 0);
    assert_int_equal(r.status, 303);
    char v[256];
    assert_non_null(header_of(&r, "Location", v, sizeof(v)));
    assert_string_equal(v, "/");
    assert_non_null(header_of(&r, "Set-Cookie", v, sizeof(v)));
    assert_non_null(strstr(v, "sid=abc; Path=/; Max-Age=60; SameSite=Strict; HttpOnly"));
    resp_release(&r);
    assert_true(__atomic_load_n(&auth_calls, __ATOMIC_SEQ_CST) > 0);
}

static void test_static(void **state)
{
    (void)state;
    const char *name = NULL;
    for (size_t i = 0; i < n_assets; i++) {
        if (strncmp(assets[i].name, "static/", 7) == 0 && assets[i].len > 1024) {
            name = assets[i].name;
            break;
        }
    }
    if (!name) {
        skip();
    }
    char path[256];
    snprintf(path, sizeof(path), "/%s", name);
    struct resp r;
    request(&r, "GET", path, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    const struct asset *a = asset_find(name);
    assert_int_equal(r.body.len, a->len);
    assert_memory_equal(r.body.buf, a->data, a->len);
    char etag[128], v[256];
    assert_non_null(header_of(&r, "ETag", etag, sizeof(etag)));
    assert_int_equal(etag[0], '"');
    assert_non_null(header_of(&r, "Cache-Control", v, sizeof(v)));
    assert_non_null(strstr(v, "public"));
    assert_non_null(header_of(&r, "Vary", v, sizeof(v)));
    assert_non_null(header_of(&r, "X-Content-Type-Options", v, sizeof(v)));
    resp_release(&r);

    char inm[160];
    snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
    const char *h304[] = {inm, NULL};
    request(&r, "GET", path, h304, NULL, 0);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.body.len, 0);
    resp_release(&r);

    const char *gz[] = {"Accept-Encoding: gzip", NULL};
    request(&r, "GET", path, gz, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_non_null(header_of(&r, "Content-Encoding", v, sizeof(v)));
    assert_string_equal(v, "gzip");
    assert_true(r.body.len < a->len);
    assert_int_equal((unsigned char)r.body.buf[0], 0x1f);
    assert_int_equal((unsigned char)r.body.buf[1], 0x8b);
    resp_release(&r);

    const char *nogz[] = {"Accept-Encoding: gzip;q=0, br", NULL};
    request(&r, "GET", path, nogz, NULL, 0);
    assert_null(header_of(&r, "Content-Encoding", v, sizeof(v)));
    resp_release(&r);

    request(&r, "GET", "/static/nope.css", NULL, NULL, 0);
    assert_int_equal(r.status, 404);
    resp_release(&r);
    request(&r, "GET", "/static/../templates/layout.html", NULL, NULL, 0);
    assert_int_equal(r.status, 404);
    resp_release(&r);
    request(&r, "POST", path, NULL, "x", 1);
    assert_int_equal(r.status, 405);
    resp_release(&r);
}

static void test_metrics(void **state)
{
    (void)state;
    struct resp r;
    request(&r, "GET", "/metrics", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.buf, "sanad_http_requests_total{method=\"GET\",code=\"200\","
                                       "route=\"/healthz\"}"));
    assert_non_null(strstr(r.body.buf, "sanad_http_in_flight 1"));
    assert_non_null(strstr(r.body.buf, "sanad_build_info"));
    resp_release(&r);
    assert_true(__atomic_load_n(&done_calls, __ATOMIC_SEQ_CST) > 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthz),
        cmocka_unit_test(test_not_found_and_method),
        cmocka_unit_test(test_language),
        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_handler_bugs_and_errors),
        cmocka_unit_test(test_static),
        cmocka_unit_test(test_metrics),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
