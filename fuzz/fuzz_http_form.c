/*
 * fuzz_http_form.c: the url-encoded (query and form) and Cookie parsers, and
 * the router's path decoding, on arbitrary bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/text.h"
#include "http/http_internal.h"
#include "core/banned.h"

static const struct route fuzz_routes[] = {
    {"GET", "/api/v1/users/{id}", NULL, ROUTE_API, NULL},
    {"POST", "/api/v1/orgs/{org}/users/{id}", NULL, ROUTE_API, NULL},
    {"GET", "/", NULL, ROUTE_PAGE, NULL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    arena_init(&a);
    struct http_kvs kv = {0};
    struct err e;
    err_clear(&e);
    if (http_parse_urlencoded(&a, (const char *)data, size, &kv, &e) == 0) {
        for (size_t i = 0; i < kv.n; i++) {
            /* every accepted name and value is valid UTF-8 text */
            if (!utf8_valid(kv.items[i].name, strlen(kv.items[i].name)) ||
                !utf8_valid(kv.items[i].value, strlen(kv.items[i].value))) {
                __builtin_trap();
            }
        }
    }
    char *s = arena_strndup(&a, (const char *)data, size);
    struct http_kvs ck = {0};
    http_parse_cookies(&a, s, &ck);
    http_routes_add(fuzz_routes, sizeof(fuzz_routes) / sizeof(fuzz_routes[0]));
    struct http_match m;
    http_router_match(&a, "GET", s, &m);
    if (m.status == 0 && (!m.route || !m.path)) {
        __builtin_trap();
    }
    arena_release(&a);
    return 0;
}
