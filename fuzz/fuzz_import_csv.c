/*
 * fuzz_import_csv.c: libFuzzer harness for the children import's CSV reader,
 * digit and date conversion and column mapping: any bytes must parse or fail
 * with a message, never crash or read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "children/import.h"

/* Feeds one input to import_csv_parse, then walks every cell through the converters. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct import_csv csv;
    struct err e;
    err_clear(&e);
    if (import_csv_parse(&csv, (const char *)data, size, 1 << 20, &e) < 0) {
        if (!e.msg[0]) {
            abort(); /* every refusal says why */
        }
        return 0;
    }
    for (size_t c = 0; c < csv.n_cols; c++) {
        (void)import_field_for_column(csv.header[c]);
    }
    for (size_t r = 0; r < csv.n_rows; r++) {
        for (size_t c = 0; c < csv.n_cols; c++) {
            size_t n;
            const char *s = import_csv_cell(&csv, r, c, &n);
            if (s[n] != '\0' || strlen(s) != n) {
                abort();
            }
            char date[11];
            if (import_date(s, date) == 0 && (strlen(date) != 10 || date[4] != '-')) {
                abort();
            }
            (void)import_sex(s);
            char *copy = strdup(s);
            if (copy) {
                import_ascii_digits(copy);
                free(copy);
            }
        }
    }
    import_csv_release(&csv);
    return 0;
}
