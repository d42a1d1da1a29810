/*
 * fuzz_http_json.c: http_json_body_or_reply on arbitrary bodies: it must
 * return an object or reply with a well-formed problem+json, never crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/config.h"
#include "http/http_internal.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_req *r = http_req_new();
    struct http_priv *p = r->priv;
    http_kvs_add(&r->arena, &p->headers, "Content-Type", "application/json; charset=utf-8");
    r->content_type = "application/json";
    r->body = arena_strndup(&r->arena, (const char *)data, size);
    r->body_len = size;
    r->path = "/api/v1/fuzz";
    json_t *j = http_json_body_or_reply(r);
    if (j) {
        if (!json_is_object(j) || r->replied) {
            __builtin_trap();
        }
        json_decref(j);
    } else {
        json_t *pj = json_loadb(p->reply_body, p->reply_len, 0, NULL);
        if (!r->replied || p->status < 400 || !pj) {
            __builtin_trap();
        }
        json_decref(pj);
    }
    http_req_free(r);
    return 0;
}
