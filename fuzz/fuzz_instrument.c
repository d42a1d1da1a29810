/*
 * fuzz_instrument.c: loads arbitrary bytes as an instrument file, and scores
 * arbitrary answers. The input is split at its first NUL byte: the part
 * before is the instrument file, the part after an answers object. When the
 * file parses, the answers (and a full set of answers made from its scale)
 * are scored against it; when it does not, the answers are scored against
 * the shipped instruments. Nothing may crash, hang or leak, and a refused
 * file must name itself in the message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cases/instruments.h"
#include "core/err.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Scores answers against in and checks what comes back. */
static void score(const struct instrument *in, json_t *answers)
{
    struct err e;
    err_clear(&e);
    json_t *res = NULL;
    if (instrument_score(in, answers, &res, &e) == 0) {
        json_t *t = json_object_get(res, "total");
        if (!res || (json_is_integer(t) && (json_integer_value(t) < in->total.min ||
                                            json_integer_value(t) > in->total.max))) {
            abort(); /* a score outside the possible range */
        }
        if (json_is_integer(t) && in->total.n_bands > 0 &&
            !json_is_string(json_object_get(res, "band"))) {
            abort(); /* bands cover the range: every score has one */
        }
    } else if (res) {
        abort();
    }
    json_decref(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        struct err e;
        err_clear(&e);
        if (instruments_init(NULL, &e) < 0) {
            abort();
        }
        ready = 1;
    }
    const char *text = (const char *)data;
    const uint8_t *nul = memchr(data, 0, size);
    size_t n = nul ? (size_t)(nul - data) : size;
    json_t *answers = nul ? json_loadb((const char *)nul + 1, size - n - 1, 0, NULL) : NULL;
    struct err e;
    err_clear(&e);
    struct instrument *in = instrument_parse("fuzz.json", text, n, &e);
    if (in) {
        score(in, answers);
        /* every item answered with each scale value in turn, and all skipped */
        for (size_t v = 0; v < in->n_scale; v++) {
            json_t *all = json_object(), *none = json_object();
            for (size_t i = 0; i < in->n_items; i++) {
                json_object_set_new(all, in->items[i].id, json_integer(in->scale[v].value));
                json_object_set_new(none, in->items[i].id, json_null());
            }
            score(in, all);
            score(in, none);
            json_decref(all);
            json_decref(none);
        }
        json_decref(instrument_json(in));
        instrument_free(in);
    } else {
        if (!strstr(e.msg, "fuzz.json")) {
            abort(); /* a refusal names the file */
        }
        for (size_t i = 0; i < instruments_count(); i++) {
            score(instrument_at(i), answers);
        }
    }
    json_decref(answers);
    return 0;
}
