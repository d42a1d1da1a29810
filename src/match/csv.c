/*
 * csv.c: the strict CSV reader; see csv.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/text.h"
#include "core/xalloc.h"
#include "core/banned.h"
#include "match/csv.h"

/* Growable arrays of cells while parsing. */
struct cells {
    size_t *off;    /* offsets */
    uint32_t *len;  /* lengths */
    size_t n, cap;  /* used, allocated */
};

/* Appends one cell. */
static void cells_add(struct cells *c, size_t off, size_t len)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 256;
        c->off = xrealloc(c->off, c->cap * sizeof(size_t));
        c->len = xrealloc(c->len, c->cap * sizeof(uint32_t));
    }
    c->off[c->n] = off;
    c->len[c->n] = (uint32_t)len;
    c->n++;
}

/* Column name for messages: the header cell, or its number. */
static const char *col_label(char **header, size_t n_header, size_t col, char *tmp, size_t cap)
{
    if (header && col < n_header) {
        return header[col];
    }
    snprintf(tmp, cap, "%zu", col + 1);
    return tmp;
}

/* Parses a CSV buffer; see csv.h. */
int match_csv_parse(struct match_csv *csv, char *data, size_t len, size_t max_cell,
                    const char *name, struct err *e)
{
    memset(csv, 0, sizeof(*csv));
    struct cells cells = {NULL, NULL, 0, 0};
    char **header = NULL;
    size_t n_cols = 0;
    size_t row = 1;      /* spreadsheet row of the current record */
    size_t row_start;    /* first cell of the current row in cells */
    char tmp[32];
    size_t i = 0;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        i = 3;
    }
    /* skip leading blank lines */
    while (i < len && (data[i] == '\n' || data[i] == '\r')) {
        i++;
    }
    if (i >= len) {
        free(data);
        return err_set(e, ERR_INVALID, "empty", "", "'%s': empty file, expected a header row",
                       name);
    }
    row_start = 0;
    for (;;) {
        /* one cell starting at i */
        size_t col = cells.n - row_start;
        size_t start = i, w = i;
        if (i < len && data[i] == '"') {
            i++;
            w = i;
            start = i;
            for (;;) {
                if (i >= len) {
                    err_set(e, ERR_INVALID, "bad_csv", "", "'%s' row %zu: unterminated quote in "
                            "column '%s'", name, row,
                            col_label(header, n_cols, col, tmp, sizeof(tmp)));
                    goto fail;
                }
                if (data[i] == '"') {
                    if (i + 1 < len && data[i + 1] == '"') {
                        data[w++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                data[w++] = data[i++];
            }
            if (i < len && data[i] != ',' && data[i] != '\n' && data[i] != '\r') {
                err_set(e, ERR_INVALID, "bad_csv", "", "'%s' row %zu: stray character after "
                        "a closing quote in column '%s'", name, row,
                        col_label(header, n_cols, col, tmp, sizeof(tmp)));
                goto fail;
            }
        } else {
            while (i < len && data[i] != ',' && data[i] != '\n' && data[i] != '\r') {
                i++;
            }
            w = i;
        }
        size_t clen = w - start;
        if (clen > max_cell) {
            err_set(e, ERR_LIMIT, "too_long", "", "'%s' row %zu: value too long in column '%s' "
                    "(%zu bytes, the limit is %zu)", name, row,
                    col_label(header, n_cols, col, tmp, sizeof(tmp)), clen, max_cell);
            goto fail;
        }
        if (!utf8_valid(data + start, clen)) {
            err_set(e, ERR_INVALID, "bad_utf8", "", "'%s' row %zu: invalid UTF-8 in column '%s'",
                    name, row, col_label(header, n_cols, col, tmp, sizeof(tmp)));
            goto fail;
        }
        cells_add(&cells, start, clen);
        /* terminate the cell; w may be the separator's own byte, so read it first */
        char sep = i < len ? data[i] : '\n';
        data[w] = '\0';
        if (sep == ',') {
            i++;
            continue;
        }
        if (sep == '\r') {
            i++;
            if (i < len && data[i] == '\n') {
                i++;
            }
        } else if (i < len) {
            i++;
        }
        size_t got = cells.n - row_start;
        if (row == 1) {
            n_cols = got;
            header = xcalloc(n_cols, sizeof(char *));
            for (size_t c = 0; c < n_cols; c++) {
                header[c] = data + cells.off[c];
            }
            cells.n = 0;
        } else if (got == 1 && cells.len[row_start] == 0 && n_cols > 1) {
            cells.n = row_start; /* a blank line */
        } else if (got != n_cols) {
            err_set(e, ERR_INVALID, "ragged", "", "'%s' row %zu: %zu fields, the header has %zu",
                    name, row, got, n_cols);
            goto fail;
        }
        row++;
        row_start = cells.n;
        if (i >= len) {
            break;
        }
    }
    csv->data = data;
    csv->len = len;
    csv->n_cols = n_cols;
    csv->header = header;
    csv->n_rows = n_cols ? cells.n / n_cols : 0;
    csv->off = cells.off;
    csv->cell_len = cells.len;
    return 0;
fail:
    free(cells.off);
    free(cells.len);
    free(header);
    free(data);
    return -1;
}

/* Reads and parses a file; see csv.h. */
int match_csv_read_file(struct match_csv *csv, const char *path, size_t max_cell, struct err *e)
{
    memset(csv, 0, sizeof(*csv));
    FILE *f = fopen(path, "rb");
    if (!f) {
        return err_set(e, ERR_NOT_FOUND, "open", "", "could not open '%s': %s", path,
                       strerror(errno));
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return err_set(e, ERR_INVALID, "open", "", "could not read '%s': not a regular file",
                       path);
    }
    size_t size = (size_t)st.st_size;
    char *data = xmalloc(size + 1);
    size_t got = size ? fread(data, 1, size, f) : 0;
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad || got != size) {
        free(data);
        return err_set(e, ERR_INTERNAL, "read", "", "could not read '%s': %s", path,
                       bad ? strerror(errno) : "short read");
    }
    data[size] = '\0';
    const char *base = strrchr(path, '/');
    return match_csv_parse(csv, data, size, max_cell, base ? base + 1 : path, e);
}

/* Frees a parsed file; see csv.h. */
void match_csv_release(struct match_csv *csv)
{
    free(csv->data);
    free(csv->header);
    free(csv->off);
    free(csv->cell_len);
    memset(csv, 0, sizeof(*csv));
}

/* Returns a cell; see csv.h. */
const char *match_csv_cell(const struct match_csv *csv, size_t r, size_t c, size_t *len)
{
    size_t k = r * csv->n_cols + c;
    if (len) {
        *len = csv->cell_len[k];
    }
    return csv->data + csv->off[k];
}
