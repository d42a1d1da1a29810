/*
 * fuzz_match_clk.c: libFuzzer harness for the encodings' reader and the
 * linking side: any bytes must be refused or read as an encoding, and any
 * encodings (arbitrary bits, empty segments, all ones) must compare and
 * link without crashing, with levels in range and one partner per record.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match/clk.h"

/* Reads up to 6 encodings from the input's bytes and links them. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the base64 reader on the raw bytes */
    uint64_t bits[MATCH_CLK_WORDS];
    if (match_clk_from_base64((const char *)data, size, bits) == 0) {
        char b64[MATCH_CLK_B64_LEN + 1];
        match_clk_to_base64(bits, b64);
        if (memcmp(b64, data, MATCH_CLK_B64_LEN) != 0) {
            abort(); /* a valid encoding writes back as read */
        }
    }
    /* the bytes as encodings, split between two sides */
    enum { MAXN = 6, BYTES = MATCH_CLK_WORDS * 8 };
    uint64_t enc[MAXN * MATCH_CLK_WORDS];
    size_t n = size / BYTES > MAXN ? MAXN : size / BYTES;
    memset(enc, 0, sizeof(enc));
    if (n) {
        memcpy(enc, data, n * BYTES);
    }
    uint8_t cnt[MAXN][MATCH_CLK_N_SEGS];
    for (size_t i = 0; i < n; i++) {
        match_clk_seg_counts(enc + i * MATCH_CLK_WORDS, cnt[i]);
    }
    for (size_t i = 0; i + 1 < n; i++) {
        struct match_cmp cmp;
        match_clk_compare(enc + i * MATCH_CLK_WORDS, cnt[i], enc + (i + 1) * MATCH_CLK_WORDS,
                          cnt[i + 1], &cmp);
        for (int f = 0; f < MF_COUNT; f++) {
            if (cmp.level[f] < -1 || cmp.level[f] >= match_field_levels[f]) {
                abort();
            }
        }
    }
    size_t na = n / 2, nb = n - na;
    struct match_link l;
    memset(&l, 0, sizeof(l));
    l.threshold = 0.01;
    l.n_threads = 1;
    match_link_run(&l, enc, na, enc + na * MATCH_CLK_WORDS, nb, NULL, NULL);
    if (l.n_pairs > (na < nb ? na : nb)) {
        abort();
    }
    for (size_t p = 0; p < l.n_pairs; p++) {
        if (l.pairs[p].a >= na || l.pairs[p].b >= nb || !(l.pairs[p].score > 0) ||
            l.pairs[p].score > 1) {
            abort();
        }
    }
    match_link_release(&l);
    return 0;
}
