/*
 * fuzz_http_multipart.c: the multipart/form-data parser. The first input
 * line is the Content-Type header (for the boundary), the rest the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "http/http_internal.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size);
    if (!nl) {
        return 0;
    }
    struct arena a;
    arena_init(&a);
    size_t hn = (size_t)(nl - (const char *)data);
    char *ct = arena_strndup(&a, (const char *)data, hn);
    /* the body gets its own exact-size allocation so reads past it are caught */
    size_t bn = size - hn - 1;
    char *body = malloc(bn ? bn : 1);
    memcpy(body, nl + 1, bn);
    const char *boundary = http_multipart_boundary(&a, ct);
    if (boundary) {
        struct http_kvs fields = {0};
        struct http_upload *ups = NULL;
        size_t n_ups = 0;
        struct err e;
        err_clear(&e);
        if (http_parse_multipart(&a, boundary, body, bn, &fields, &ups, &n_ups, &e) == 0) {
            for (size_t i = 0; i < n_ups; i++) {
                const char *d = (const char *)ups[i].data;
                if (d < body || d + ups[i].len > body + bn) {
                    __builtin_trap();
                }
            }
            for (size_t i = 0; i < fields.n; i++) {
                if (!utf8_valid(fields.items[i].value, strlen(fields.items[i].value))) {
                    __builtin_trap();
                }
            }
        }
    }
    free(body);
    arena_release(&a);
    return 0;
}
