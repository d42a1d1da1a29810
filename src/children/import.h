/*
 * import.h: CSV import of children: a tolerant but strict reader (UTF-8 with
 * or without BOM, comma or semicolon, RFC 4180 quoting, CRLF or LF), column
 * mapping (field names, common Arabic and English labels, or the caller's
 * own mapping), value conversion (Arabic-Indic and Persian digits, dates as
 * YYYY-MM-DD, DD/MM/YYYY or D/M/YYYY, sex as ذكر/أنثى/male/female/M/F), a dry
 * run that lists every row's problems by row and column, and an import that
 * writes every valid row in one transaction or nothing.
 *
 * Every row goes through children_validate, so the registry's own rules
 * decide what is valid. Rows are numbered as a spreadsheet shows them: the
 * header is row 1 and the first data row is row 2.
 */
#ifndef SANAD_CHILDREN_IMPORT_H
#define SANAD_CHILDREN_IMPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "core/err.h"
#include "db/db.h"

/* The longest cell accepted, in bytes. */
#define IMPORT_MAX_CELL (64 * 1024)
/* How many problems a result lists (the counts are always complete). */
#define IMPORT_MAX_LISTED 10000

/* A parsed CSV file. */
struct import_csv {
    char *data;         /* a copy of the file, unquoted in place, NUL after each cell (owned) */
    char sep;           /* the separator found in the header: ',' or ';' */
    size_t n_cols;      /* cells per row (from the header) */
    size_t n_rows;      /* data rows, not counting the header or blank lines */
    char **header;      /* n_cols header names, trimmed, pointers into data (owned array) */
    size_t *off;        /* n_rows * n_cols cell offsets into data (owned) */
    uint32_t *cell_len; /* n_rows * n_cols cell lengths (owned) */
    size_t *line;       /* n_rows spreadsheet row numbers (header = 1) (owned) */
};

/*
 * Parses bytes[0..len) (copied; the caller keeps its buffer) into *csv.
 * Refuses, with e (ERR_INVALID, or ERR_LIMIT for sizes) naming the row and
 * the column: an empty file, a file over max_bytes (0: no limit), invalid
 * UTF-8, an unterminated quote, text after a closing quote, a cell over
 * IMPORT_MAX_CELL bytes, a row with a different number of cells than the
 * header, a header with an empty or duplicate column name. e->field holds
 * "row N" when a row is at fault. On failure csv is left empty.
 */
int import_csv_parse(struct import_csv *csv, const char *bytes, size_t len, size_t max_bytes,
                     struct err *e);
/* Frees what csv owns and leaves it empty. */
void import_csv_release(struct import_csv *csv);
/* Cell (data row r from 0, column c) as a NUL-terminated pointer into csv->data. */
const char *import_csv_cell(const struct import_csv *csv, size_t r, size_t c, size_t *len);

/* Rewrites Arabic-Indic (٠-٩) and Persian (۰-۹) digits in s as ASCII digits,
 * and the Arabic decimal separator (٫) as '.', in place (s only shrinks). */
void import_ascii_digits(char *s);
/* Converts a date written YYYY-MM-DD, DD/MM/YYYY or D/M/YYYY (also with '-'
 * or '.' between day, month and year, and any digits) into "YYYY-MM-DD" in
 * out. Only the shape is checked: an impossible date such as 31/02/2015
 * comes out as "2015-02-31" for the registry's own rule to refuse. Returns
 * 0, or -1 when s has none of these shapes. */
int import_date(const char *s, char out[11]);
/* "M" or "F" for the ways people write a sex (ذكر, أنثى, male, female, M, F,
 * in any case), or NULL. */
const char *import_sex(const char *s);
/* The field a column header names: a field's own name, or one of the common
 * Arabic and English labels. NULL when none. */
const char *import_field_for_column(const char *header);

/*
 * Imports children into a's organization from the CSV bytes data[0..len).
 * mapping (may be NULL) is a JSON object {column: field or null}, overriding
 * the automatic mapping (null: ignore the column). With dry_run nothing is
 * written. Otherwise every valid row is created with child_create_tx in ONE
 * write transaction, with one "children.import" audit entry beside each
 * child's own: when any row is invalid nothing is written (unless
 * skip_invalid, which writes the valid rows and reports the others), and
 * when any write fails everything is rolled back.
 *
 * *result_out (new reference, the caller decrefs; NULL when the file could
 * not be read at all) gets {"rows", "valid", "invalid", "written",
 * "dry_run", "row_numbering": "header_is_row_1", "columns": [{"column",
 * "field"}], "ignored": [column...], "errors": [{"row", "column", "field",
 * "code", "message"}], "errors_total", "errors_truncated"}.
 *
 * Returns 0 when the dry run ran or the rows were written. Returns -1 with
 * e: ERR_FORBIDDEN without children.write; the reader's errors (see
 * import_csv_parse); ERR_INVALID "bad_mapping" for a mapping naming an
 * unknown column or field or two columns for one field; ERR_INVALID
 * "missing_column" (e->field the field) when no column gives a required
 * field; ERR_INVALID "invalid_rows" when rows are invalid and neither
 * dry_run nor skip_invalid; a write's own error, naming the row.
 */
int import_children(struct db *db, const struct actor *a, const char *data, size_t len,
                    json_t *mapping, bool dry_run, bool skip_invalid, json_t **result_out,
                    struct err *e);

/* Parses a command-line mapping "COLUMN=field,COLUMN2=field2" (field may be
 * empty to ignore a column) into a JSON object (new reference), or NULL with
 * e naming the bad item. */
json_t *import_mapping_parse(const char *spec, struct err *e);

/* `sanad import children FILE.csv --org SLUG [--dry-run] [--skip-invalid]
 * [--map COLUMN=field,...]`. Returns the exit code. */
int cli_import(int argc, char **argv);

#endif
