/*
 * fuzz_tmpl.c: compiles arbitrary bytes as a template and renders it, in
 * both languages, against a fixed context; then frees everything, so that
 * LeakSanitizer sees any leak. Neither step may crash, hang or leak whatever
 * the input. The context's arrays hold one element, so that deeply nested
 * sections over them stay linear (Mustache lookups walk outward, so
 * {{#a}}{{#a}}... over a longer array would multiply legitimately).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"
#include "web/html.h"
#include "web/i18n.h"
#include "web/tmpl.h"
#include "core/banned.h"

/* The fixed context, made on the first input. */
static json_t *ctx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ctx) {
        struct err e;
        err_clear(&e);
        if (i18n_init(&e) < 0) {
            abort();
        }
        ctx = json_loads("{\"title\":\"<t>&\\\"'`\",\"n\":42,\"r\":-1.5e300,\"t\":true,"
                         "\"f\":false,\"z\":null,\"s\":\"\",\"bad\":\"\\u00ff\","
                         "\"user\":{\"name\":\"علي\",\"role\":\"admin\",\"t\":0},"
                         "\"items\":[{\"name\":\"a\",\"items\":[]}],\"nested\":[[1]],"
                         "\"nav\":[{\"href\":\"/\",\"label\":\"x\",\"active\":true}]}",
                         0, NULL);
        if (!ctx) {
            abort();
        }
    }
    struct err e;
    err_clear(&e);
    if (tmpl_compile("fuzz", (const char *)data, size, &e) == 0) {
        struct buf out = BUF_INIT;
        (void)tmpl_render("fuzz", ctx, "ar", &out, &e);
        buf_reset(&out);
        (void)tmpl_render("fuzz", ctx, "en", &out, &e);
        buf_release(&out);
    }
    /* the escaper takes the same bytes too */
    struct buf esc = BUF_INIT;
    html_escape_n(&esc, (const char *)data, size);
    buf_release(&esc);
    tmpl_shutdown();
    return 0;
}
