/*
 * test_page.c: the small request helpers of src/web/page.c that the web
 * files share: a JSON body's string members, blank query and form values,
 * string members with a default, percent-encoding, the CSV download reply
 * and the labels added to a list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_internal.h"
#include "web/page.h"
#include "core/banned.h"

/* An API request whose body is the JSON text body (NULL: none) and whose URI
 * is uri (NULL: the path). */
static struct http_req *fake_req(const char *body, const char *uri)
{
    struct http_req *r = http_req_new();
    struct http_priv *p = r->priv;
    if (body) {
        http_kvs_add(&r->arena, &p->headers, "Content-Type", "application/json");
        r->content_type = "application/json";
        r->body = arena_strdup(&r->arena, body);
        r->body_len = strlen(body);
    }
    p->raw_uri = uri ? uri : "/api/v1/x";
    r->path = "/api/v1/x";
    memcpy(r->request_id, "0123456789abcdef", 17);
    return r;
}

/* The "code" member of r's problem+json reply, in r's arena. */
static const char *reply_code(struct http_req *r)
{
    struct http_priv *p = r->priv;
    json_error_t je;
    json_t *j = json_loadb(p->reply_body, p->reply_len, 0, &je);
    assert_non_null(j);
    const char *code = arena_strdup(&r->arena, json_str_or(j, "code", ""));
    json_decref(j);
    return code;
}

/* Counts the calls of count_fail. */
static int n_failed;

/* A page_fail_fn that only counts and replies 418. */
static void count_fail(struct http_req *r, const struct err *e)
{
    (void)e;
    n_failed++;
    http_reply(r, 418, "text/plain", "x", 1);
}

static const char *const names[] = {"a", "b", NULL};
static const size_t max[] = {3, 10};

static void test_body_fields(void **state)
{
    (void)state;
    static const bool req[] = {true, false};
    const char *v[2];

    struct http_req *r = fake_req("{\"a\": \"xy\", \"b\": null}", NULL);
    json_t *body = page_body_fields(r, names, max, req, v, NULL);
    assert_non_null(body);
    assert_string_equal(v[0], "xy");
    assert_null(v[1]);
    json_decref(body);
    http_req_free(r);

    /* an unknown member, a missing required one, one too long, a wrong type */
    static const char *const bad[][2] = {{"{\"a\": \"x\", \"c\": \"1\"}", "unknown_field"},
                                         {"{\"b\": \"x\"}", "required"},
                                         {"{\"a\": \"long\"}", "too_long"},
                                         {"{\"a\": 1}", "invalid_type"}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = fake_req(bad[i][0], NULL);
        assert_null(page_body_fields(r, names, max, req, v, NULL));
        assert_int_equal(((struct http_priv *)r->priv)->status, 422);
        assert_string_equal(reply_code(r), bad[i][1]);
        http_req_free(r);
    }

    /* no required list: nothing is required; fail replies instead */
    r = fake_req("{}", NULL);
    body = page_body_fields(r, names, max, NULL, v, count_fail);
    assert_non_null(body);
    assert_null(v[0]);
    json_decref(body);
    http_req_free(r);
    n_failed = 0;
    r = fake_req("{\"z\": \"1\"}", NULL);
    assert_null(page_body_fields(r, names, max, NULL, v, count_fail));
    assert_int_equal(n_failed, 1);
    assert_int_equal(((struct http_priv *)r->priv)->status, 418);
    http_req_free(r);

    /* a body that is not JSON is answered before the members are read */
    r = fake_req("{", NULL);
    assert_null(page_body_fields(r, names, max, NULL, v, count_fail));
    assert_int_equal(n_failed, 1);
    assert_int_equal(((struct http_priv *)r->priv)->status, 400);
    http_req_free(r);
}

static void test_query_and_members(void **state)
{
    (void)state;
    struct http_req *r = fake_req(NULL, "/x?a=1&b=+&c=");
    assert_int_equal(http_parse_query_or_reply(r), 0);
    assert_string_equal(page_query(r, "a"), "1");
    assert_null(page_query(r, "b"));
    assert_null(page_query(r, "c"));
    assert_null(page_query(r, "d"));
    assert_null(page_form(r, "a"));
    assert_int_equal(strlen(page_today(r)), 10);
    http_req_free(r);

    json_t *o = json_pack("{s:s, s:i}", "s", "v", "n", 1);
    assert_string_equal(json_str_or(o, "s", NULL), "v");
    assert_null(json_str_or(o, "n", NULL));
    assert_string_equal(json_str_or(o, "missing", ""), "");
    assert_string_equal(json_str_or(NULL, "s", "d"), "d");
    json_decref(o);
}

static void test_pct_and_csv(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    page_add_pct(&b, "a-b_c.d~e f/\xd8\xb3&=");
    page_add_pct(&b, NULL);
    assert_string_equal(b.buf, "a-b_c.d~e%20f%2F%D8%B3%26%3D");
    buf_release(&b);

    struct http_req *r = fake_req(NULL, NULL);
    buf_adds(&b, "a,b\r\n");
    page_reply_csv(r, "x-2026.csv", &b);
    struct http_priv *p = r->priv;
    assert_int_equal(p->status, 200);
    assert_int_equal(p->reply_len, 5);
    assert_int_equal(b.len, 0);
    bool found = false;
    for (size_t i = 0; i < p->reply_headers.n; i++) {
        if (strcmp(p->reply_headers.items[i].name, "Content-Disposition") == 0) {
            assert_string_equal(p->reply_headers.items[i].value,
                                "attachment; filename=\"x-2026.csv\"");
            found = true;
        }
    }
    assert_true(found);
    http_req_free(r);
}

static void test_label_all(void **state)
{
    (void)state;
    struct http_req *r = fake_req(NULL, NULL);
    r->lang = "en";
    json_t *arr = json_pack("[{s:s}, {s:i}, {}]", "kind", "zz_unknown", "kind", 3);
    page_label_all(r, arr, "kind", "no.such.prefix");
    /* without a catalog text the label is the value itself */
    assert_string_equal(json_str_or(json_array_get(arr, 0), "kind_label", ""), "zz_unknown");
    assert_null(json_object_get(json_array_get(arr, 1), "kind_label"));
    assert_null(json_object_get(json_array_get(arr, 2), "kind_label"));
    json_decref(arr);
    http_req_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_fields),
        cmocka_unit_test(test_query_and_members),
        cmocka_unit_test(test_pct_and_csv),
        cmocka_unit_test(test_label_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
