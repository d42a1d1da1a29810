/*
 * csv.h: a strict RFC 4180 CSV reader for the matching command line.
 *
 * The whole file is held in memory and unquoted in place; cells are
 * (offset, length) pairs into it. Every cell is checked to be valid UTF-8
 * and within a length limit, and every row to have as many cells as the
 * header. Rows are numbered as a spreadsheet shows them: the header is
 * row 1, the first record row 2.
 */
#ifndef SANAD_MATCH_CSV_H
#define SANAD_MATCH_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* A parsed CSV file. */
struct match_csv {
    char *data;        /* file contents, unquoted in place, NUL after each cell (owned) */
    size_t len;        /* bytes in data */
    size_t n_cols;     /* cells per row (from the header) */
    size_t n_rows;     /* data rows, not counting the header */
    char **header;     /* n_cols header names, pointers into data */
    size_t *off;       /* n_rows * n_cols cell offsets into data (owned) */
    uint32_t *cell_len;/* n_rows * n_cols cell lengths (owned) */
};

/*
 * Parses data[0..len) (taking ownership of data, which must have been
 * allocated with malloc and have one spare byte at data[len]) into *csv.
 * `max_cell` bounds the bytes of any cell. Returns 0, or -1 with e->msg
 * naming the row, the column and the problem; csv is then empty and data
 * freed. `name` is used in messages ("'in.csv' row 17: ...").
 */
int match_csv_parse(struct match_csv *csv, char *data, size_t len, size_t max_cell,
                    const char *name, struct err *e);
/* Reads the file at path and parses it as above. */
int match_csv_read_file(struct match_csv *csv, const char *path, size_t max_cell,
                        struct err *e);
/* Frees what csv owns. */
void match_csv_release(struct match_csv *csv);
/* The cell (row r, column c) as a NUL-terminated pointer into data. */
const char *match_csv_cell(const struct match_csv *csv, size_t r, size_t c, size_t *len);

#endif
