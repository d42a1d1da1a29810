/*
 * fuzz_match_csv.c: libFuzzer harness for the matching CSV reader: any bytes
 * must parse or fail with a message, never crash or read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match/csv.h"

/* Feeds one input to match_csv_parse and walks every cell. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    if (!copy) {
        return 0;
    }
    if (size) {
        memcpy(copy, data, size);
    }
    copy[size] = '\0';
    struct match_csv csv;
    struct err e;
    err_clear(&e);
    if (match_csv_parse(&csv, copy, size, 256, "fuzz.csv", &e) == 0) {
        size_t total = 0;
        for (size_t r = 0; r < csv.n_rows; r++) {
            for (size_t c = 0; c < csv.n_cols; c++) {
                size_t n;
                const char *s = match_csv_cell(&csv, r, c, &n);
                total += n + (size_t)(s[n] == '\0');
            }
        }
        (void)total;
        match_csv_release(&csv);
    }
    return 0;
}
