/*
 * test_http.c: the pure parts of src/http: percent-decoding, query and form
 * parsing, cookies, multipart, the router, replies (problem+json shape,
 * status mapping, error pages), JSON bodies, cookies built, security headers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/xalloc.h"
#include "http/http_internal.h"
#include "core/banned.h"

/* A request with the given method, path, Content-Type and body, for reply tests. */
static struct http_req *fake_req(const char *content_type, const char *body)
{
    struct http_req *r = http_req_new();
    struct http_priv *p = r->priv;
    if (content_type) {
        http_kvs_add(&r->arena, &p->headers, "Content-Type", content_type);
        size_t n = strcspn(content_type, "; ");
        char *m = arena_strndup(&r->arena, content_type, n);
        for (char *c = m; *c; c++) {
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        }
        r->content_type = m;
    }
    if (body) {
        r->body = arena_strdup(&r->arena, body);
        r->body_len = strlen(body);
    }
    memcpy(r->request_id, "0123456789abcdef", 17);
    return r;
}

/* The reply body of r parsed as JSON (asserts it parses). */
static json_t *reply_json(struct http_req *r)
{
    struct http_priv *p = r->priv;
    json_error_t je;
    json_t *j = json_loadb(p->reply_body, p->reply_len, 0, &je);
    assert_non_null(j);
    return j;
}

static void test_url_decode(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    char *out;
    size_t n;
    assert_int_equal(http_url_decode(&a, "a%20b+c", 7, true, &out, &n), 0);
    assert_string_equal(out, "a b c");
    assert_int_equal(http_url_decode(&a, "a+b", 3, false, &out, &n), 0);
    assert_string_equal(out, "a+b");
    assert_int_equal(http_url_decode(&a, "%e2%9C%93", 9, false, &out, &n), 0);
    assert_string_equal(out, "\xe2\x9c\x93");
    assert_int_equal(http_url_decode(&a, "", 0, true, &out, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(http_url_decode(&a, "x%00y", 5, true, &out, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(out[1], 0);
    assert_int_equal(http_url_decode(&a, "%", 1, true, &out, &n), -1);
    assert_int_equal(http_url_decode(&a, "ab%4", 4, true, &out, &n), -1);
    assert_int_equal(http_url_decode(&a, "%zz", 3, true, &out, &n), -1);
    assert_int_equal(http_url_decode(&a, "%4g", 3, true, &out, &n), -1);
    /* n bounds the input: the escape must not read past it */
    assert_int_equal(http_url_decode(&a, "%41", 2, true, &out, &n), -1);
    arena_release(&a);
}

static void test_urlencoded(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct http_kvs kv = {0};
    struct err e;
    err_clear(&e);
    const char *s = "a=1&b=&c&a=2&=x&&d=%E2%9C%93&sp=x+y%2Bz";
    assert_int_equal(http_parse_urlencoded(&a, s, strlen(s), &kv, &e), 0);
    assert_int_equal(kv.n, 6);
    assert_string_equal(http_kvs_get(&kv, "a", false), "1");
    assert_string_equal(http_kvs_get(&kv, "b", false), "");
    assert_string_equal(http_kvs_get(&kv, "c", false), "");
    assert_string_equal(http_kvs_get(&kv, "d", false), "\xe2\x9c\x93");
    assert_string_equal(http_kvs_get(&kv, "sp", false), "x y+z");
    assert_null(http_kvs_get(&kv, "A", false));
    assert_null(http_kvs_get(&kv, "", false));
    assert_string_equal(kv.items[3].value, "2");

    struct http_kvs empty = {0};
    assert_int_equal(http_parse_urlencoded(&a, "", 0, &empty, &e), 0);
    assert_int_equal(empty.n, 0);
    assert_int_equal(http_parse_urlencoded(&a, "&&&", 3, &empty, &e), 0);
    assert_int_equal(empty.n, 0);

    struct http_kvs bad = {0};
    assert_int_equal(http_parse_urlencoded(&a, "ok=1&name=%zz", 13, &bad, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_string_equal(e.code, "bad_escape");
    assert_string_equal(e.field, "name");
    err_clear(&e);
    assert_int_equal(http_parse_urlencoded(&a, "name=%FF%FE", 11, &bad, &e), -1);
    assert_string_equal(e.code, "invalid_utf8");
    assert_string_equal(e.field, "name");
    err_clear(&e);
    /* an overlong encoding of '/' and a NUL are both refused */
    assert_int_equal(http_parse_urlencoded(&a, "x=%C0%AF", 8, &bad, &e), -1);
    assert_int_equal(http_parse_urlencoded(&a, "x=a%00b", 7, &bad, &e), -1);
    /* tab, CR and LF are text (textareas) */
    struct http_kvs ok = {0};
    assert_int_equal(http_parse_urlencoded(&a, "t=a%0D%0Ab%09", 13, &ok, &e), 0);
    assert_string_equal(http_kvs_get(&ok, "t", false), "a\r\nb\t");
    /* a bad name names itself in the error, cut short */
    err_clear(&e);
    assert_int_equal(http_parse_urlencoded(&a, "%ZZ=1", 5, &bad, &e), -1);
    assert_string_equal(e.field, "%ZZ");

    /* many pairs */
    struct buf big = BUF_INIT;
    for (int i = 0; i < 20000; i++) {
        buf_addf(&big, "%sk%d=v%d", i ? "&" : "", i, i);
    }
    struct http_kvs many = {0};
    assert_int_equal(http_parse_urlencoded(&a, big.buf, big.len, &many, &e), 0);
    assert_int_equal(many.n, 20000);
    assert_string_equal(http_kvs_get(&many, "k19999", false), "v19999");
    buf_release(&big);
    arena_release(&a);
}

static void test_cookies(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct http_kvs kv = {0};
    http_parse_cookies(&a, "a=1; b=2;c=3 ;  d=\"q\"; a=9; bad value=1; e=x y; =z; noeq; f=", &kv);
    assert_string_equal(http_kvs_get(&kv, "a", false), "1");
    assert_string_equal(http_kvs_get(&kv, "b", false), "2");
    assert_string_equal(http_kvs_get(&kv, "c", false), "3");
    assert_string_equal(http_kvs_get(&kv, "d", false), "q");
    assert_string_equal(http_kvs_get(&kv, "f", false), "");
    assert_null(http_kvs_get(&kv, "e", false));
    assert_null(http_kvs_get(&kv, "bad value", false));
    assert_null(http_kvs_get(&kv, "noeq", false));
    struct http_kvs none = {0};
    http_parse_cookies(&a, NULL, &none);
    http_parse_cookies(&a, "", &none);
    http_parse_cookies(&a, ";;; ;", &none);
    assert_int_equal(none.n, 0);
    /* non-ASCII bytes are not cookie octets */
    http_parse_cookies(&a, "x=\xd8\xb3", &none);
    assert_int_equal(none.n, 0);
    arena_release(&a);
}

static void test_cookie_build(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    assert_string_equal(http_cookie_build(&a, "sid", "abc", -1, true, false),
                        "sid=abc; Path=/; SameSite=Strict; HttpOnly");
    assert_string_equal(http_cookie_build(&a, "sid", "abc", 3600, true, true),
                        "__Host-sid=abc; Path=/; Max-Age=3600; SameSite=Strict; HttpOnly; Secure");
    assert_string_equal(http_cookie_build(&a, "lang", "", 0, false, false),
                        "lang=; Path=/; Max-Age=0; SameSite=Strict");
    assert_null(http_cookie_build(&a, "sid", "a;b", -1, true, false));
    assert_null(http_cookie_build(&a, "sid", "a b", -1, true, false));
    assert_null(http_cookie_build(&a, "sid", "a\r\nSet-Cookie: x=y", -1, true, false));
    assert_null(http_cookie_build(&a, "s id", "a", -1, true, false));
    assert_null(http_cookie_build(&a, "", "a", -1, true, false));
    assert_null(http_cookie_build(&a, NULL, "a", -1, true, false));

    struct http_req *r = fake_req(NULL, NULL);
    r->tls = true;
    http_set_cookie(r, "sid", "tok", -1, true);
    http_set_cookie(r, "bad", "a;b", -1, true);
    struct http_priv *p = r->priv;
    assert_int_equal(p->reply_headers.n, 1);
    assert_string_equal(p->reply_headers.items[0].name, "Set-Cookie");
    assert_non_null(strstr(p->reply_headers.items[0].value, "__Host-sid=tok"));
    http_kvs_add(&r->arena, &p->headers, "Cookie", "sid=plain; __Host-sid=secure; lang=en");
    assert_string_equal(http_cookie_own(r, "sid"), "secure");
    assert_string_equal(http_cookie(r, "sid"), "plain");
    r->tls = false;
    assert_string_equal(http_cookie_own(r, "sid"), "plain");
    http_req_free(r);
    arena_release(&a);
}

static void test_local_path(void **state)
{
    (void)state;
    assert_true(http_local_path("/"));
    assert_true(http_local_path("/children/1?x=2"));
    assert_false(http_local_path("//evil.example"));
    assert_false(http_local_path("/\\evil.example"));
    assert_false(http_local_path("https://evil.example/"));
    assert_false(http_local_path(""));
    assert_false(http_local_path(NULL));
    assert_false(http_local_path("/a\r\nSet-Cookie: x"));

    struct http_req *r = fake_req(NULL, NULL);
    http_redirect(r, "//evil.example/");
    struct http_priv *p = r->priv;
    assert_int_equal(p->status, 303);
    assert_string_equal(http_kvs_get(&p->reply_headers, "Location", true), "/");
    http_req_free(r);
    r = fake_req(NULL, NULL);
    http_redirect(r, "/login?next=%2F");
    p = r->priv;
    assert_string_equal(http_kvs_get(&p->reply_headers, "Location", true), "/login?next=%2F");
    http_req_free(r);
}

static void test_abs_url(void **state)
{
    (void)state;
    struct http_req *r = fake_req(NULL, NULL);
    assert_string_equal(http_abs_url(r, "/invite/x"), "http://localhost/invite/x");
    struct http_priv *p = r->priv;
    http_kvs_add(&r->arena, &p->headers, "Host", "sanad.example:8443");
    r->tls = true;
    assert_string_equal(http_abs_url(r, "/invite/x"), "https://sanad.example:8443/invite/x");
    http_req_free(r);
    r = fake_req(NULL, NULL);
    p = r->priv;
    http_kvs_add(&r->arena, &p->headers, "Host", "evil.example/\"><x");
    assert_string_equal(http_abs_url(r, "/a"), "http://localhost/a");
    http_req_free(r);
}

static const char MP_CT[] = "multipart/form-data; boundary=\"XyZ\"";

/* Parses body with boundary XyZ; returns the parser's result. */
static int mp(struct arena *a, const char *body, size_t n, struct http_kvs *fields,
              struct http_upload **ups, size_t *n_ups, struct err *e)
{
    const char *b = http_multipart_boundary(a, MP_CT);
    assert_string_equal(b, "XyZ");
    return http_parse_multipart(a, b, body, n, fields, ups, n_ups, e);
}

static void test_multipart(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct err e;
    err_clear(&e);
    struct http_kvs f = {0};
    struct http_upload *u;
    size_t nu;
    static const char body[] =
        "preamble\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"title\"\r\n"
        "\r\n"
        "\xd8\xb3\xd9\x86\xd8\xaf\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"empty\"\r\n"
        "\r\n"
        "\r\n"
        "--XyZ\r\n"
        "content-disposition: form-data; name=\"doc\"; filename=\"a b.bin\"\r\n"
        "Content-Type: application/octet-stream\r\n"
        "\r\n"
        "\x00\x01--XyZ\r\n\xff"
        "\r\n"
        "--XyZ--\r\n"
        "epilogue";
    size_t n = sizeof(body) - 1;
    assert_int_equal(mp(&a, body, n, &f, &u, &nu, &e), 0);
    assert_string_equal(http_kvs_get(&f, "title", false), "\xd8\xb3\xd9\x86\xd8\xaf");
    assert_string_equal(http_kvs_get(&f, "empty", false), "");
    assert_int_equal(nu, 1);
    assert_string_equal(u[0].field, "doc");
    assert_string_equal(u[0].filename, "a b.bin");
    assert_string_equal(u[0].content_type, "application/octet-stream");
    assert_int_equal(u[0].len, 10);
    assert_memory_equal(u[0].data, "\x00\x01--XyZ\r\n\xff", 10);

    /* boundaries */
    assert_null(http_multipart_boundary(&a, "multipart/form-data"));
    assert_null(http_multipart_boundary(&a, "multipart/form-data; boundary="));
    assert_null(http_multipart_boundary(&a, NULL));
    char longb[120];
    memcpy(longb, "multipart/form-data; boundary=", 30);
    memset(longb + 30, 'a', 80);
    longb[110] = '\0';
    assert_null(http_multipart_boundary(&a, longb));
    assert_string_equal(http_multipart_boundary(&a, "multipart/form-data; charset=x; BOUNDARY=abc"),
                        "abc");

    /* failures */
    static const char *bad[] = {
        "",
        "no boundary here",
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue without end",
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nno blank line",
        "--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--XyZ--",
        "--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--",
        "--XyZ\r\nno colon line\r\n\r\nx\r\n--XyZ--",
        "--XyZjunk",
        "--XyZ",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct http_kvs bf = {0};
        err_clear(&e);
        assert_int_equal(mp(&a, bad[i], strlen(bad[i]), &bf, &u, &nu, &e), -1);
        assert_string_equal(e.code, "malformed_multipart");
    }
    /* a text field that is not UTF-8 names itself */
    static const char bad_utf8[] =
        "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n\xc3\x28\r\n--XyZ--\r\n";
    struct http_kvs bf = {0};
    err_clear(&e);
    assert_int_equal(mp(&a, bad_utf8, sizeof(bad_utf8) - 1, &bf, &u, &nu, &e), -1);
    assert_string_equal(e.code, "invalid_utf8");
    assert_string_equal(e.field, "note");
    /* only a closing delimiter: no parts */
    struct http_kvs ef = {0};
    assert_int_equal(mp(&a, "--XyZ--\r\n", 9, &ef, &u, &nu, &e), 0);
    assert_int_equal(ef.n, 0);
    assert_int_equal(nu, 0);
    arena_release(&a);
}

/* Handlers for the router tests (never called). */
static void h_dummy(struct http_req *r)
{
    (void)r;
}
static void h_other(struct http_req *r)
{
    (void)r;
}

static const struct route test_routes[] = {
    {"GET", "/", h_dummy, ROUTE_PAGE, NULL},
    {"GET", "/api/v1/users", h_dummy, ROUTE_API, NULL},
    {"POST", "/api/v1/users", h_other, ROUTE_API, NULL},
    {"GET", "/api/v1/users/{id}", h_dummy, ROUTE_API, NULL},
    {"DELETE", "/api/v1/users/{id}", h_other, ROUTE_API, NULL},
    {"GET", "/api/v1/orgs/{org}/users/{id}", h_other, ROUTE_API, NULL},
    {"GET", "/api/v1/users/me", h_other, ROUTE_API, NULL},
};

static void test_router(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    http_routes_reset();
    http_routes_add(test_routes, sizeof(test_routes) / sizeof(test_routes[0]));
    http_routes_add(test_routes, sizeof(test_routes) / sizeof(test_routes[0])); /* idempotent */
    struct http_match m;

    http_router_match(&a, "GET", "/", &m);
    assert_ptr_equal(m.route, &test_routes[0]);
    http_router_match(&a, "GET", "/api/v1/users", &m);
    assert_ptr_equal(m.route, &test_routes[1]);
    http_router_match(&a, "POST", "/api/v1/users", &m);
    assert_ptr_equal(m.route, &test_routes[2]);
    http_router_match(&a, "HEAD", "/api/v1/users", &m);
    assert_ptr_equal(m.route, &test_routes[1]);

    http_router_match(&a, "GET", "/api/v1/users/42", &m);
    assert_ptr_equal(m.route, &test_routes[3]);
    assert_int_equal(m.n_params, 1);
    assert_string_equal(m.params[0], "42");
    /* first table order wins: {id} is before the literal "me" */
    http_router_match(&a, "GET", "/api/v1/users/me", &m);
    assert_ptr_equal(m.route, &test_routes[3]);

    http_router_match(&a, "GET", "/api/v1/orgs/main/users/%D8%B3%2F1", &m);
    assert_ptr_equal(m.route, &test_routes[5]);
    assert_int_equal(m.n_params, 2);
    assert_string_equal(m.params[0], "main");
    assert_string_equal(m.params[1], "\xd8\xb3/1");
    assert_string_equal(m.path, "/api/v1/orgs/main/users/\xd8\xb3/1");

    /* 404: trailing slash, empty segment, extra segment, unknown */
    http_router_match(&a, "GET", "/api/v1/users/", &m);
    assert_null(m.route);
    assert_int_equal(m.status, 404);
    http_router_match(&a, "GET", "/api/v1//users", &m);
    assert_int_equal(m.status, 404);
    http_router_match(&a, "GET", "/api/v1/users/1/x", &m);
    assert_int_equal(m.status, 404);
    http_router_match(&a, "GET", "/nope", &m);
    assert_int_equal(m.status, 404);
    assert_string_equal(m.path, "/nope");

    /* 405 with the methods that would match */
    http_router_match(&a, "PUT", "/api/v1/users/7", &m);
    assert_null(m.route);
    assert_int_equal(m.status, 405);
    assert_string_equal(m.allow, "GET, HEAD, DELETE");
    http_router_match(&a, "DELETE", "/api/v1/users", &m);
    assert_int_equal(m.status, 405);
    assert_string_equal(m.allow, "GET, HEAD, POST");

    /* 400: bad escapes, invalid UTF-8, NUL, controls, no leading slash */
    static const char *bad[] = {"/a%zz", "/a%", "/%FF", "/%C0%AF", "/a%00b", "/%0a", "", "x/y",
                                "/api/v1/users/%ED%A0%80"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        http_router_match(&a, "GET", bad[i], &m);
        if (m.status != 400) {
            print_error("path '%s' gave %d\n", bad[i], m.status);
        }
        assert_int_equal(m.status, 400);
        assert_null(m.route);
    }
    http_router_match(&a, "GET", NULL, &m);
    assert_int_equal(m.status, 400);
    http_routes_reset();
    http_router_match(&a, "GET", "/", &m);
    assert_int_equal(m.status, 404);
    arena_release(&a);
}

static void test_status_of(void **state)
{
    (void)state;
    assert_int_equal(http_status_of(ERR_INVALID), 422);
    assert_int_equal(http_status_of(ERR_NOT_FOUND), 404);
    assert_int_equal(http_status_of(ERR_FORBIDDEN), 403);
    assert_int_equal(http_status_of(ERR_UNAUTH), 401);
    assert_int_equal(http_status_of(ERR_CONFLICT), 409);
    assert_int_equal(http_status_of(ERR_LIMIT), 413);
    assert_int_equal(http_status_of(ERR_UNAVAILABLE), 503);
    assert_int_equal(http_status_of(ERR_INTERNAL), 500);
    assert_int_equal(http_status_of((enum err_kind)99), 500);
}

static void test_problem_shape(void **state)
{
    (void)state;
    struct http_req *r = fake_req(NULL, NULL);
    r->path = "/api/v1/x";
    http_reply_problem(r, 422, "too_long", "name", "'name' is longer than 200 characters",
                       json_pack("{s:i}", "max", 200));
    struct http_priv *p = r->priv;
    assert_true(r->replied);
    assert_int_equal(p->status, 422);
    assert_string_equal(p->reply_type, "application/problem+json");
    json_t *j = reply_json(r);
    assert_string_equal(json_string_value(json_object_get(j, "type")),
                        "https://sanad.example/problems/too_long");
    assert_string_equal(json_string_value(json_object_get(j, "code")), "too_long");
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 422);
    assert_string_equal(json_string_value(json_object_get(j, "detail")),
                        "'name' is longer than 200 characters");
    assert_non_null(json_string_value(json_object_get(j, "title")));
    assert_int_equal(json_integer_value(json_object_get(j, "max")), 200);
    json_t *errs = json_object_get(j, "errors");
    assert_int_equal(json_array_size(errs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(errs, 0), "field")),
                        "name");
    assert_string_equal(json_string_value(json_object_get(json_array_get(errs, 0), "message")),
                        "'name' is longer than 200 characters");
    json_decref(j);
    http_req_free(r);

    /* no field: no errors array; a detail that is not UTF-8 still gives a reply */
    r = fake_req(NULL, NULL);
    http_reply_problem(r, 400, "x", NULL, "bad \xff byte", NULL);
    p = r->priv;
    assert_int_equal(p->status, 400);
    j = reply_json(r);
    assert_null(json_object_get(j, "errors"));
    json_decref(j);
    http_req_free(r);
}

static void test_reply_err(void **state)
{
    (void)state;
    struct err e;
    struct http_req *r = fake_req(NULL, NULL);
    r->path = "/api/v1/login";
    err_set(&e, ERR_LIMIT, "too_many_requests", NULL, "too many failed logins");
    http_reply_err(r, &e);
    struct http_priv *p = r->priv;
    assert_int_equal(p->status, 429);
    assert_string_equal(p->reply_type, "application/problem+json");
    http_req_free(r);

    r = fake_req(NULL, NULL);
    r->path = "/api/v1/children";
    err_set(&e, ERR_INVALID, "required", "birth_date", "'birth_date' is required");
    http_reply_err(r, &e);
    p = r->priv;
    assert_int_equal(p->status, 422);
    json_t *j = reply_json(r);
    json_t *item = json_array_get(json_object_get(j, "errors"), 0);
    assert_string_equal(json_string_value(json_object_get(item, "field")), "birth_date");
    json_decref(j);
    http_req_free(r);

    /* internal errors do not leak their message to API clients */
    r = fake_req(NULL, NULL);
    r->path = "/api/v1/x";
    err_set(&e, ERR_INTERNAL, "db", NULL, "secret sql detail");
    http_reply_err(r, &e);
    p = r->priv;
    assert_int_equal(p->status, 500);
    assert_null(strstr(p->reply_body, "secret"));
    http_req_free(r);

    /* an HTML route gets a page, escaped */
    static const struct route page = {"GET", "/children", h_dummy, ROUTE_PAGE, NULL};
    r = fake_req(NULL, NULL);
    r->path = "/children";
    r->route = &page;
    err_set(&e, ERR_NOT_FOUND, "not_found", NULL, "no child '<script>'");
    http_reply_err(r, &e);
    p = r->priv;
    assert_int_equal(p->status, 404);
    assert_non_null(strstr(p->reply_type, "text/html"));
    assert_null(strstr(p->reply_body, "<script>"));
    assert_non_null(strstr(p->reply_body, "404"));
    http_req_free(r);

    r = fake_req(NULL, NULL);
    r->route = &page;
    err_set(&e, ERR_UNAVAILABLE, "db_down", NULL, "database is down");
    http_reply_err(r, &e);
    p = r->priv;
    assert_int_equal(p->status, 503);
    http_req_free(r);
}

/* Runs http_json_body_or_reply on body with content type ct; returns the
 * status replied (0 when it returned an object). */
static int json_status(const char *ct, const char *body, size_t n, json_t **out)
{
    struct http_req *r = fake_req(ct, NULL);
    r->body = arena_strndup(&r->arena, body, n);
    r->body_len = n;
    json_t *j = http_json_body_or_reply(r);
    struct http_priv *p = r->priv;
    int status = p->status;
    if (status) {
        assert_null(j);
        assert_string_equal(p->reply_type, "application/problem+json");
        json_t *pj = reply_json(r);
        if (out) {
            *out = pj;
        } else {
            json_decref(pj);
        }
    } else {
        assert_non_null(j);
        if (out) {
            *out = j;
        } else {
            json_decref(j);
        }
    }
    http_req_free(r);
    return status;
}

static void test_json_body(void **state)
{
    (void)state;
    json_t *j = NULL;
    assert_int_equal(json_status("application/json", "{\"a\":1}", 7, &j), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "a")), 1);
    json_decref(j);
    assert_int_equal(json_status("Application/JSON; charset=UTF-8", "{}", 2, NULL), 0);
    assert_int_equal(json_status("application/json; charset=iso-8859-1", "{}", 2, NULL), 415);
    assert_int_equal(json_status("text/plain", "{}", 2, NULL), 415);
    assert_int_equal(json_status(NULL, "{}", 2, NULL), 415);
    assert_int_equal(json_status("application/json", "{\"a\":\"\xff\"}", 9, &j), 400);
    assert_string_equal(json_string_value(json_object_get(j, "code")), "invalid_utf8");
    json_decref(j);
    assert_int_equal(json_status("application/json", "{\n  \"a\": tru\n}", 14, &j), 400);
    assert_string_equal(json_string_value(json_object_get(j, "code")), "malformed_json");
    assert_int_equal(json_integer_value(json_object_get(j, "line")), 2);
    assert_true(json_integer_value(json_object_get(j, "column")) > 0);
    assert_non_null(strstr(json_string_value(json_object_get(j, "detail")), "line 2"));
    json_decref(j);
    assert_int_equal(json_status("application/json", "{\"a\":1,\"a\":2}", 13, &j), 400);
    assert_string_equal(json_string_value(json_object_get(j, "code")), "malformed_json");
    json_decref(j);
    assert_int_equal(json_status("application/json", "[1]", 3, &j), 400);
    assert_string_equal(json_string_value(json_object_get(j, "code")), "not_an_object");
    json_decref(j);
    assert_int_equal(json_status("application/json", "", 0, NULL), 400);
    assert_int_equal(json_status("application/json", "{} {}", 5, NULL), 400);
    assert_int_equal(json_status("application/json", "{\"a\":\"\\u0000\"}", 14, NULL), 400);
    /* an embedded NUL is not UTF-8 text */
    assert_int_equal(json_status("application/json", "{\"a\":\"\0\"}", 9, NULL), 400);
}

static void test_form_body(void **state)
{
    (void)state;
    struct http_req *r = fake_req("application/x-www-form-urlencoded", "csrf=t&name=%D8%B3+x");
    assert_int_equal(http_parse_body_or_reply(r), 0);
    assert_string_equal(http_form(r, "csrf"), "t");
    assert_string_equal(http_form(r, "name"), "\xd8\xb3 x");
    assert_null(http_form(r, "missing"));
    http_req_free(r);

    r = fake_req("application/x-www-form-urlencoded", "name=%FF");
    assert_int_equal(http_parse_body_or_reply(r), -1);
    struct http_priv *p = r->priv;
    assert_int_equal(p->status, 400);
    json_t *j = reply_json(r);
    assert_string_equal(json_string_value(json_object_get(j, "code")), "invalid_utf8");
    json_decref(j);
    http_req_free(r);

    r = fake_req("multipart/form-data; boundary=b",
                 "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.txt\"\r\n\r\n"
                 "hello\r\n--b\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\nv\r\n--b--");
    assert_int_equal(http_parse_body_or_reply(r), 0);
    assert_string_equal(http_form(r, "t"), "v");
    const struct http_upload *u = http_upload(r, "f");
    assert_non_null(u);
    assert_int_equal(u->len, 5);
    assert_null(http_upload(r, "t"));
    http_req_free(r);

    r = fake_req("multipart/form-data", "--b--");
    assert_int_equal(http_parse_body_or_reply(r), -1);
    http_req_free(r);

    r = fake_req(NULL, NULL);
    p = r->priv;
    p->raw_uri = "/x?q=%D8%B3&page=2&q=dup#frag";
    assert_int_equal(http_parse_query_or_reply(r), 0);
    assert_string_equal(http_query(r, "q"), "\xd8\xb3");
    assert_string_equal(http_query(r, "page"), "2");
    http_req_free(r);
    r = fake_req(NULL, NULL);
    p = r->priv;
    p->raw_uri = "/x?q=%";
    assert_int_equal(http_parse_query_or_reply(r), -1);
    assert_int_equal(p->status, 400);
    http_req_free(r);
}

static void test_security_headers(void **state)
{
    (void)state;
    struct http_req *r = fake_req(NULL, NULL);
    struct http_kvs h = {0};
    http_security_headers(r, &h);
    const char *csp = http_kvs_get(&h, "Content-Security-Policy", true);
    assert_non_null(csp);
    assert_null(strstr(csp, "unsafe-inline"));
    assert_non_null(strstr(csp, "frame-ancestors 'none'"));
    assert_string_equal(http_kvs_get(&h, "X-Content-Type-Options", true), "nosniff");
    assert_string_equal(http_kvs_get(&h, "X-Frame-Options", true), "DENY");
    assert_non_null(http_kvs_get(&h, "Referrer-Policy", true));
    assert_non_null(http_kvs_get(&h, "Permissions-Policy", true));
    assert_string_equal(http_kvs_get(&h, "Cross-Origin-Opener-Policy", true), "same-origin");
    assert_string_equal(http_kvs_get(&h, "Cache-Control", true), "no-store");
    assert_string_equal(http_kvs_get(&h, "X-Request-Id", true), "0123456789abcdef");
    assert_null(http_kvs_get(&h, "Strict-Transport-Security", true));
    struct http_kvs t = {0};
    r->tls = true;
    struct http_priv *p = r->priv;
    p->is_static = true;
    http_security_headers(r, &t);
    assert_non_null(strstr(http_kvs_get(&t, "Strict-Transport-Security", true), "max-age="));
    assert_null(http_kvs_get(&t, "Cache-Control", true));
    /* header injection is refused */
    http_add_header(r, "X-A", "v\r\nSet-Cookie: x=y");
    http_add_header(r, "X-B: y", "v");
    assert_int_equal(p->reply_headers.n, 0);
    http_req_free(r);
}

static void test_listen_parse(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    const char *host;
    int port;
    assert_int_equal(http_listen_parse(&a, "127.0.0.1:8080", &host, &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 8080);
    assert_int_equal(http_listen_parse(&a, "[::1]:0", &host, &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 0);
    static const char *bad[] = {"", "8080", ":8080", "127.0.0.1:", "127.0.0.1:65536",
                                "127.0.0.1:80x", "::1:80", "[::1]80", "[::1]", "h:123456", "[]:1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(http_listen_parse(&a, bad[i], &host, &port), -1);
    }
    assert_int_equal(http_listen_parse(&a, NULL, &host, &port), -1);
    arena_release(&a);
}

static void test_metrics_render(void **state)
{
    (void)state;
    http_metrics_begin();
    http_metrics_end("GET", 200, "/api/v1/\"x\"", 2000000);
    http_metrics_begin();
    http_metrics_end("BREW", 404, NULL, 7000000000LL);
    struct buf b = BUF_INIT;
    http_metrics_render(&b);
    assert_non_null(strstr(b.buf, "sanad_http_requests_total{method=\"GET\",code=\"200\","
                                  "route=\"/api/v1/\\\"x\\\"\"} 1"));
    assert_non_null(strstr(b.buf, "method=\"OTHER\",code=\"404\",route=\"none\"} 1"));
    assert_non_null(strstr(b.buf, "sanad_http_request_duration_seconds_bucket{le=\"0.0025\"} 1"));
    assert_non_null(strstr(b.buf, "sanad_http_request_duration_seconds_bucket{le=\"+Inf\"} 2"));
    assert_non_null(strstr(b.buf, "sanad_http_in_flight 0"));
    assert_non_null(strstr(b.buf, "sanad_process_resident_memory_bytes "));
    assert_non_null(strstr(b.buf, "sanad_build_info{version="));
    buf_release(&b);
}

int main(void)
{
    config_defaults();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_decode),   cmocka_unit_test(test_urlencoded),
        cmocka_unit_test(test_cookies),      cmocka_unit_test(test_cookie_build),
        cmocka_unit_test(test_local_path),   cmocka_unit_test(test_abs_url),
        cmocka_unit_test(test_multipart),    cmocka_unit_test(test_router),
        cmocka_unit_test(test_status_of),    cmocka_unit_test(test_problem_shape),
        cmocka_unit_test(test_reply_err),    cmocka_unit_test(test_json_body),
        cmocka_unit_test(test_form_body),    cmocka_unit_test(test_security_headers),
        cmocka_unit_test(test_listen_parse), cmocka_unit_test(test_metrics_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
