/*
 * fuzz_match_normalize.c: libFuzzer harness for the name normalizer and the
 * comparisons built on it: any bytes, in every kind, must normalize within
 * bounds, and comparing the result with itself must give the top level.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "match/match.h"

/* Normalizes the input as each kind and compares halves of it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct match_norm a, b;
    const char *s = (const char *)data;
    for (int kind = 0; kind < 3; kind++) {
        match_normalize(s, size, (enum match_kind)kind, kind == 0, &a);
        if (a.n_norm > MATCH_NAME_MAX || a.n_skel > MATCH_NAME_MAX) {
            abort();
        }
        char out[4 * MATCH_NAME_MAX + 8];
        match_norm_to_utf8(a.norm, a.n_norm, out, sizeof(out));
        if (a.n_norm > 0 &&
            match_compare_names(a.norm, a.n_norm, a.skel, a.n_skel, (int)a.script, a.norm,
                                a.n_norm, a.skel, a.n_skel, (int)a.script) != MATCH_NAME_EXACT) {
            abort();
        }
    }
    size_t half = size / 2;
    match_normalize(s, half, MATCH_KIND_GIVEN, false, &a);
    match_normalize(s + half, size - half, MATCH_KIND_GIVEN, false, &b);
    double jw = match_jaro_winkler(a.norm, a.n_norm, b.norm, b.n_norm);
    if (jw < 0.0 || jw > 1.0 + 1e-9) {
        abort();
    }
    (void)match_damerau(a.norm, a.n_norm, b.norm, b.n_norm, 3);
    (void)match_token_set(s, half, s + half, size - half);
    struct match_date d;
    (void)match_date_parse(s, size, &d);
    return 0;
}
