/*
 * import.c: CSV import of children; see import.h.
 *
 * Why not src/match/csv.c: the matching engine's reader is strict RFC 4180
 * with the comma hard-wired as separator, and the files NGOs export from
 * Excel in Arabic locales are separated by semicolons. Its contract (owned,
 * spare-byte buffer; messages prefixed with a file name) is the matching
 * command line's, and src/match is another engineer's to change. Should it
 * gain a separator parameter, this reader can be replaced by it: the shapes
 * (cells as offsets into the unquoted buffer, rows numbered as a
 * spreadsheet shows them) are the same on purpose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "children/children.h"
#include "children/import.h"
#include "core/config.h"
#include "core/text.h"
#include "core/xalloc.h"
#include "web/i18n.h"
#include "core/banned.h"

/* Growable arrays of cells while parsing. */
struct cells {
    size_t *off;   /* offsets into the data */
    uint32_t *len; /* lengths */
    size_t n, cap; /* used, allocated */
};

/* Appends one cell. */
static void cells_add(struct cells *c, size_t off, size_t len)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 1024;
        c->off = xrealloc(c->off, xmul(c->cap, sizeof(size_t)));
        c->len = xrealloc(c->len, xmul(c->cap, sizeof(uint32_t)));
    }
    c->off[c->n] = off;
    c->len[c->n] = (uint32_t)len;
    c->n++;
}

/* The separator of the header line: ';' when it has more semicolons than
 * commas outside quotes, else ','. */
static char detect_sep(const char *d, size_t len, size_t i)
{
    size_t commas = 0, semis = 0;
    bool quoted = false;
    for (; i < len; i++) {
        char c = d[i];
        if (c == '"') {
            quoted = !quoted;
        } else if (!quoted && (c == '\n' || c == '\r')) {
            break;
        } else if (!quoted && c == ',') {
            commas++;
        } else if (!quoted && c == ';') {
            semis++;
        }
    }
    return semis > commas ? ';' : ',';
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

/* Fills e for a problem at a row and returns -1. */
static int row_err(struct err *e, enum err_kind kind, const char *code, size_t row,
                   const char *msg, const char *col)
{
    char field[32];
    snprintf(field, sizeof(field), "row %zu", row);
    if (col) {
        return err_set(e, kind, code, field, "row %zu, column '%s': %s", row, col, msg);
    }
    return err_set(e, kind, code, field, "row %zu: %s", row, msg);
}

/* Checks the header: names trimmed, none empty, none twice. */
static int check_header(struct import_csv *csv, struct err *e)
{
    for (size_t c = 0; c < csv->n_cols; c++) {
        csv->header[c] = text_trim(csv->header[c]);
        if (!csv->header[c][0]) {
            return err_set(e, ERR_INVALID, "empty_column_name", "row 1",
                           "row 1: column %zu has no name", c + 1);
        }
        for (size_t k = 0; k < c; k++) {
            if (strcmp(csv->header[k], csv->header[c]) == 0) {
                return err_set(e, ERR_INVALID, "duplicate_column", "row 1",
                               "row 1: column '%s' appears twice (columns %zu and %zu)",
                               csv->header[c], k + 1, c + 1);
            }
        }
    }
    return 0;
}

int import_csv_parse(struct import_csv *csv, const char *bytes, size_t len, size_t max_bytes,
                     struct err *e)
{
    memset(csv, 0, sizeof(*csv));
    if (max_bytes && len > max_bytes) {
        return err_set(e, ERR_LIMIT, "too_large", "", "the file is too large (%zu bytes, the "
                       "limit is %zu)", len, max_bytes);
    }
    size_t i = 0;
    if (len >= 3 && memcmp(bytes, "\xEF\xBB\xBF", 3) == 0) {
        i = 3;
    }
    while (i < len && (bytes[i] == '\n' || bytes[i] == '\r')) {
        i++;
    }
    if (i >= len) {
        return err_set(e, ERR_INVALID, "empty_file", "", "the file is empty: expected a header "
                       "row with the column names");
    }
    char *data = xmalloc(len + 1);
    memcpy(data, bytes, len);
    data[len] = '\0';
    const char sep = detect_sep(data, len, i);
    struct cells cells = {NULL, NULL, 0, 0};
    size_t *lines = NULL, n_lines = 0, cap_lines = 0;
    char **header = NULL;
    size_t n_cols = 0;
    size_t row = 1;       /* spreadsheet row of the current record */
    size_t row_start = 0; /* first cell of the current row in cells */
    char tmp[32];
    for (;;) {
        size_t col = cells.n - row_start;
        size_t start = i, w;
        bool quoted = i < len && data[i] == '"';
        if (quoted) {
            start = w = ++i;
            for (;;) {
                if (i >= len) {
                    row_err(e, ERR_INVALID, "unterminated_quote", row, "a quote is never closed",
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
            if (i < len && data[i] != sep && data[i] != '\n' && data[i] != '\r') {
                row_err(e, ERR_INVALID, "bad_quote", row, "text after a closing quote",
                        col_label(header, n_cols, col, tmp, sizeof(tmp)));
                goto fail;
            }
        } else {
            while (i < len && data[i] != sep && data[i] != '\n' && data[i] != '\r') {
                if (data[i] == '"') {
                    row_err(e, ERR_INVALID, "bad_quote", row, "a quote inside a value that "
                            "does not start with one",
                            col_label(header, n_cols, col, tmp, sizeof(tmp)));
                    goto fail;
                }
                i++;
            }
            w = i;
        }
        size_t clen = w - start;
        if (clen > IMPORT_MAX_CELL) {
            char msg[96];
            snprintf(msg, sizeof(msg), "value too long (%zu bytes, the limit is %d)", clen,
                     IMPORT_MAX_CELL);
            row_err(e, ERR_LIMIT, "field_too_long", row, msg,
                    col_label(header, n_cols, col, tmp, sizeof(tmp)));
            goto fail;
        }
        if (!utf8_valid(data + start, clen)) {
            row_err(e, ERR_INVALID, "invalid_utf8", row, "invalid UTF-8 or a control character",
                    col_label(header, n_cols, col, tmp, sizeof(tmp)));
            goto fail;
        }
        cells_add(&cells, start, clen);
        /* w may be the separator's own byte: read it before terminating the cell */
        char next = i < len ? data[i] : '\n';
        data[w] = '\0';
        if (next == sep) {
            i++;
            if (i >= len) { /* a separator at the very end: one more, empty, cell */
                cells_add(&cells, len, 0);
            } else {
                continue;
            }
        } else if (next == '\r') {
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
        } else if (got == 1 && cells.len[row_start] == 0 && !quoted) {
            cells.n = row_start; /* a blank line */
        } else if (got != n_cols) {
            char msg[96];
            snprintf(msg, sizeof(msg), "%zu columns, the header has %zu", got, n_cols);
            row_err(e, ERR_INVALID, "ragged_row", row, msg, NULL);
            goto fail;
        } else {
            if (n_lines == cap_lines) {
                cap_lines = cap_lines ? 2 * cap_lines : 256;
                lines = xrealloc(lines, xmul(cap_lines, sizeof(size_t)));
            }
            lines[n_lines++] = row;
        }
        row++;
        row_start = cells.n;
        if (i >= len) {
            break;
        }
    }
    csv->data = data;
    csv->sep = sep;
    csv->n_cols = n_cols;
    csv->header = header;
    csv->n_rows = n_lines;
    csv->off = cells.off;
    csv->cell_len = cells.len;
    csv->line = lines;
    if (check_header(csv, e) < 0) {
        import_csv_release(csv);
        return -1;
    }
    return 0;
fail:
    free(cells.off);
    free(cells.len);
    free(lines);
    free(header);
    free(data);
    return -1;
}

void import_csv_release(struct import_csv *csv)
{
    free(csv->data);
    free(csv->header);
    free(csv->off);
    free(csv->cell_len);
    free(csv->line);
    memset(csv, 0, sizeof(*csv));
}

const char *import_csv_cell(const struct import_csv *csv, size_t r, size_t c, size_t *len)
{
    size_t k = r * csv->n_cols + c;
    if (len) {
        *len = csv->cell_len[k];
    }
    return csv->data + csv->off[k];
}

void import_ascii_digits(char *s)
{
    unsigned char *r = (unsigned char *)s, *w = (unsigned char *)s;
    while (*r) {
        if (r[0] == 0xD9 && r[1] >= 0xA0 && r[1] <= 0xA9) { /* U+0660..U+0669 */
            *w++ = (unsigned char)('0' + (r[1] - 0xA0));
            r += 2;
        } else if (r[0] == 0xDB && r[1] >= 0xB0 && r[1] <= 0xB9) { /* U+06F0..U+06F9 */
            *w++ = (unsigned char)('0' + (r[1] - 0xB0));
            r += 2;
        } else if (r[0] == 0xD9 && r[1] == 0xAB) { /* U+066B arabic decimal separator */
            *w++ = '.';
            r += 2;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

/* Reads 1 to max ASCII digits at *p into *v, advancing *p; returns the count. */
static int read_num(const char **p, int max, int *v)
{
    int n = 0;
    *v = 0;
    while (n < max && (*p)[0] >= '0' && (*p)[0] <= '9') {
        *v = *v * 10 + ((*p)[0] - '0');
        (*p)++;
        n++;
    }
    return (*p)[0] >= '0' && (*p)[0] <= '9' ? -1 : n;
}

int import_date(const char *s, char out[11])
{
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "%s", s);
    import_ascii_digits(tmp);
    const char *p = text_trim(tmp);
    int a, b, c;
    int na = read_num(&p, 4, &a);
    char sep = *p;
    if (na <= 0 || (sep != '-' && sep != '/' && sep != '.')) {
        return -1;
    }
    p++;
    int nb = read_num(&p, 2, &b);
    if (nb <= 0 || *p != sep) {
        return -1;
    }
    p++;
    int nc = read_num(&p, 4, &c);
    if (nc <= 0 || *p) {
        return -1;
    }
    int y, m, d;
    if (na == 4 && nc <= 2) { /* YYYY-MM-DD */
        y = a;
        m = b;
        d = c;
    } else if (na <= 2 && nc == 4) { /* DD/MM/YYYY */
        d = a;
        m = b;
        y = c;
    } else {
        return -1;
    }
    /* each part has at most its digits (read_num bounds them): written by hand */
    const int parts[3] = {y, m, d}, widths[3] = {4, 2, 2};
    char *o = out;
    for (int k = 0; k < 3; k++) {
        for (int div = widths[k] == 4 ? 1000 : 10; div; div /= 10) {
            *o++ = (char)('0' + parts[k] / div % 10);
        }
        *o++ = k < 2 ? '-' : '\0';
    }
    return 0;
}

/* True when s equals lower (ASCII letters of s compared case-insensitively). */
static bool ascii_ieq(const char *s, const char *lower)
{
    for (; *s && *lower; s++, lower++) {
        char c = *s >= 'A' && *s <= 'Z' ? (char)(*s + 32) : *s;
        if (c != *lower) {
            return false;
        }
    }
    return *s == *lower;
}

const char *import_sex(const char *s)
{
    static const struct {
        const char *word; /* as written (lower-case for Latin) */
        const char *sex;  /* "M" or "F" */
    } words[] = {
        {"m", "M"},    {"male", "M"},   {"boy", "M"},   {"ذكر", "M"},
        {"f", "F"},    {"female", "F"}, {"girl", "F"},  {"أنثى", "F"},
        {"انثى", "F"}, {"أنثي", "F"},   {"انثي", "F"},
    };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (ascii_ieq(s, words[i].word)) {
            return words[i].sex;
        }
    }
    return NULL;
}

/* Common labels of the columns people bring; compared after the
 * normalization of norm_label. Small on purpose: anything else is mapped
 * by the caller. */
static const struct {
    const char *label; /* normalized label */
    const char *field; /* the field it names */
} labels[] = {
    {"الاسم الأول", "first_name"},       {"الاسم الاول", "first_name"},
    {"الاسم", "first_name"},             {"اسم الطفل", "first_name"},
    {"first name", "first_name"},        {"given name", "first_name"},
    {"name", "first_name"},              {"اسم الأب", "father_name"},
    {"اسم الاب", "father_name"},         {"father's name", "father_name"},
    {"father name", "father_name"},      {"father", "father_name"},
    {"اسم الجد", "grandfather_name"},    {"grandfather's name", "grandfather_name"},
    {"grandfather name", "grandfather_name"}, {"grandfather", "grandfather_name"},
    {"اسم العائلة", "family_name"},      {"العائلة", "family_name"},
    {"الكنية", "family_name"},           {"اللقب", "family_name"},
    {"family name", "family_name"},      {"last name", "family_name"},
    {"surname", "family_name"},          {"اسم الأم", "mother_name"},
    {"اسم الام", "mother_name"},         {"mother's name", "mother_name"},
    {"mother name", "mother_name"},      {"mother", "mother_name"},
    {"الجنس", "sex"},                    {"sex", "sex"},
    {"gender", "sex"},                   {"تاريخ الميلاد", "birth_date"},
    {"تاريخ الولادة", "birth_date"},     {"date of birth", "birth_date"},
    {"birth date", "birth_date"},        {"birthdate", "birth_date"},
    {"dob", "birth_date"},               {"مكان الميلاد", "birth_place"},
    {"مكان الولادة", "birth_place"},     {"place of birth", "birth_place"},
    {"birth place", "birth_place"},      {"الجنسية", "nationality"},
    {"nationality", "nationality"},      {"حالة اليتم", "orphan_status"},
    {"orphan status", "orphan_status"},  {"المحافظة", "governorate"},
    {"governorate", "governorate"},      {"رقم الهوية", "id_doc_number"},
    {"رقم الوثيقة", "id_doc_number"},    {"id number", "id_doc_number"},
    {"document number", "id_doc_number"}, {"الاحتياجات", "needs"},
    {"needs", "needs"},                  {"المدرسة", "school_name"},
    {"school", "school_name"},
};

/* Normalizes a header for comparison: trimmed, ASCII lower-case, '_' and
 * '-' as spaces, runs of spaces as one. */
static void norm_label(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    bool space = true; /* drops leading spaces */
    for (; *s && n + 1 < cap; s++) {
        char c = *s;
        if (c == '_' || c == '-' || c == ' ' || c == '\t') {
            if (!space) {
                out[n++] = ' ';
            }
            space = true;
            continue;
        }
        out[n++] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
        space = false;
    }
    while (n && out[n - 1] == ' ') {
        n--;
    }
    out[n] = '\0';
}

const char *import_field_for_column(const char *header)
{
    char want[256], name[64];
    norm_label(header, want, sizeof(want));
    int n;
    const struct child_field *f = children_fields(&n);
    for (int i = 0; i < n; i++) {
        norm_label(f[i].name, name, sizeof(name));
        if (strcmp(want, name) == 0) {
            return f[i].name;
        }
    }
    for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
        if (strcmp(want, labels[i].label) == 0) {
            return labels[i].field;
        }
    }
    /* The labels the forms and the XLSX export show, so an export reads back in. */
    static const char *const langs[] = {"ar", "en"};
    for (int i = 0; i < n; i++) {
        char key[80], label[256];
        snprintf(key, sizeof(key), "field.%s", f[i].name);
        for (int l = 0; l < 2 && i18n_has(key); l++) {
            norm_label(i18n_get(langs[l], key), label, sizeof(label));
            if (strcmp(want, label) == 0) {
                return f[i].name;
            }
        }
    }
    return NULL;
}

/* Problems found while importing, counted and listed (up to IMPORT_MAX_LISTED). */
struct problems {
    json_t *list;  /* the listed problems (owned) */
    size_t total;  /* every problem, listed or not */
};

/* Adds one problem: row (0 for the whole file), column (NULL for none). */
static void problem_add(struct problems *p, size_t row, const char *column, const char *field,
                        const char *code, const char *message)
{
    p->total++;
    if (json_array_size(p->list) >= IMPORT_MAX_LISTED) {
        return;
    }
    json_array_append_new(p->list, json_pack("{s:I, s:s?, s:s?, s:s, s:s}", "row", (json_int_t)row,
                                             "column", column, "field", field, "code", code,
                                             "message", message));
}

/* Lower-cases ASCII letters in place (enumeration values). */
static void ascii_lower(char *s)
{
    for (; *s; s++) {
        if (*s >= 'A' && *s <= 'Z') {
            *s = (char)(*s + 32);
        }
    }
}

/* The value to give the registry for a cell of field f (modifies the cell in
 * place: trimmed, digits made ASCII where numbers are expected). date has
 * room for a converted date. NULL when the cell is blank. */
static const char *convert_cell(const struct child_field *f, char *cell, char date[11])
{
    char *s = text_trim(cell);
    if (!*s) {
        return NULL;
    }
    switch (f->type) {
    case FIELD_DATE:
        return import_date(s, date) == 0 ? date : s;
    case FIELD_COORD:
        import_ascii_digits(s);
        return s;
    case FIELD_BOOL: {
        static const char *const yes[] = {"1", "true", "yes", "y", "on", "نعم", "١"};
        static const char *const no[] = {"0", "false", "no", "n", "off", "لا", "٠"};
        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
            if (ascii_ieq(s, yes[i])) {
                return "1";
            }
            if (ascii_ieq(s, no[i])) {
                return "0";
            }
        }
        return s;
    }
    case FIELD_ENUM:
    case FIELD_LIST:
        if (strcmp(f->name, "sex") == 0) {
            const char *sex = import_sex(s);
            return sex ? sex : s;
        }
        ascii_lower(s);
        return s;
    case FIELD_NAME:
    case FIELD_TEXT:
    case FIELD_NOTE:
    case FIELD_ID:
        if (strcmp(f->name, "id_doc_number") == 0) {
            import_ascii_digits(s);
        }
        return s;
    }
    return s;
}

/* Row r of csv as the registry's input: a JSON object of the mapped,
 * non-blank cells (new reference). */
static json_t *row_input(const struct import_csv *csv, size_t r,
                         const struct child_field *const *map)
{
    json_t *obj = json_object();
    for (size_t c = 0; c < csv->n_cols; c++) {
        if (!map[c]) {
            continue;
        }
        char date[11];
        char *cell = csv->data + csv->off[r * csv->n_cols + c];
        const char *v = convert_cell(map[c], cell, date);
        if (v) {
            json_object_set_new(obj, map[c]->name, json_string(v));
        }
    }
    /* A date is not estimated unless the file says so (the column is NOT NULL). */
    if (!json_object_get(obj, "birth_date_estimated")) {
        json_object_set_new(obj, "birth_date_estimated", json_string("0"));
    }
    return obj;
}

/* The column that gives field, or NULL. */
static const char *column_of(const struct import_csv *csv, const struct child_field *const *map,
                             const char *field)
{
    for (size_t c = 0; field && c < csv->n_cols; c++) {
        if (map[c] && strcmp(map[c]->name, field) == 0) {
            return csv->header[c];
        }
    }
    return NULL;
}

/* Copies the registry's problems for one row into p. */
static void row_problems(struct problems *p, const struct import_csv *csv,
                         const struct child_field *const *map, size_t row, json_t *errors)
{
    size_t i;
    json_t *err;
    json_array_foreach(errors, i, err)
    {
        const char *field = json_string_value(json_object_get(err, "field"));
        const char *code = json_string_value(json_object_get(err, "code"));
        const char *msg = json_string_value(json_object_get(err, "message"));
        problem_add(p, row, column_of(csv, map, field), field, code ? code : "invalid",
                    msg ? msg : "invalid");
    }
}

/* Decides the field of every column: the caller's mapping first, then the
 * field names and labels. Fills map (n_cols entries, NULL: ignored) and the
 * result's "columns" and "ignored". Returns 0 or -1 with e (bad_mapping). */
static int map_columns(const struct import_csv *csv, json_t *mapping,
                       const struct child_field **map, json_t *result, struct err *e)
{
    if (mapping && !json_is_object(mapping)) {
        return err_set(e, ERR_INVALID, "bad_mapping", "mapping",
                       "the mapping must be an object of column: field");
    }
    const char *key;
    json_t *v;
    json_object_foreach(mapping, key, v)
    {
        size_t c = 0;
        while (c < csv->n_cols && strcmp(csv->header[c], key) != 0) {
            c++;
        }
        if (c == csv->n_cols) {
            return err_set(e, ERR_INVALID, "bad_mapping", "mapping",
                           "the mapping names column '%s', which the file does not have", key);
        }
        if (!json_is_null(v) && !json_is_string(v)) {
            return err_set(e, ERR_INVALID, "bad_mapping", "mapping",
                           "the mapping of column '%s' must be a field name or null", key);
        }
        const char *name = json_string_value(v);
        if (name && *name && !children_field(name)) {
            return err_set(e, ERR_INVALID, "bad_mapping", "mapping",
                           "the mapping of column '%s' names unknown field '%s'", key, name);
        }
    }
    json_t *columns = json_array(), *ignored = json_array();
    json_object_set_new(result, "columns", columns);
    json_object_set_new(result, "ignored", ignored);
    for (size_t c = 0; c < csv->n_cols; c++) {
        json_t *m = mapping ? json_object_get(mapping, csv->header[c]) : NULL;
        const char *name = m ? json_string_value(m) : import_field_for_column(csv->header[c]);
        map[c] = name && *name ? children_field(name) : NULL;
        for (size_t k = 0; map[c] && k < c; k++) {
            if (map[k] == map[c]) {
                return err_set(e, ERR_INVALID, "bad_mapping", "mapping",
                               "columns '%s' and '%s' both give field '%s'", csv->header[k],
                               csv->header[c], map[c]->name);
            }
        }
        json_array_append_new(columns, json_pack("{s:s, s:s?}", "column", csv->header[c],
                                                 "field", map[c] ? map[c]->name : NULL));
        if (!map[c]) {
            json_array_append_new(ignored, json_string(csv->header[c]));
        }
    }
    return 0;
}

/* Writes the valid rows (ok[r]) in one transaction with the import's audit
 * entry. Returns the number written, or -1 with e (everything rolled back;
 * a row's problems added to p). */
static long write_rows_tx(struct db *db, const struct actor *a, const struct import_csv *csv,
                          const struct child_field *const *map, const bool *ok,
                          struct problems *p, struct err *e);

/* Writes the valid rows (write_rows_tx) with a page cache large enough for the
 * whole transaction: one transaction of many rows outgrows SQLite's usual
 * cache, which then spills to the WAL page by page (measured: five writes per
 * row; 100,000 rows took 21.9 s with 64 MiB and 18.1 s with 256 MiB). The
 * connection's usual cache size is put back afterwards, so a server thread
 * does not keep the memory. */
static long write_rows(struct db *db, const struct actor *a, const struct import_csv *csv,
                       const struct child_field *const *map, const bool *ok,
                       struct problems *p, struct err *e)
{
    bool sqlite = db_backend_of(db) == DB_SQLITE;
    if (sqlite && db_exec(db, "PRAGMA cache_size = -262144", e) < 0) {
        return -1;
    }
    long n = write_rows_tx(db, a, csv, map, ok, p, e);
    if (sqlite) {
        struct err ignore;
        err_clear(&ignore);
        db_exec(db, "PRAGMA cache_size = -16384; PRAGMA shrink_memory", &ignore);
    }
    return n;
}

static long write_rows_tx(struct db *db, const struct actor *a, const struct import_csv *csv,
                          const struct child_field *const *map, const bool *ok,
                          struct problems *p, struct err *e)
{
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    long written = 0;
    for (size_t r = 0; r < csv->n_rows; r++) {
        if (!ok[r]) {
            continue;
        }
        json_t *input = row_input(csv, r, map);
        json_t *errors = NULL;
        char id[40], file_no[64];
        int rc = child_create_tx(db, a, input, id, file_no, &errors, e);
        json_decref(input);
        if (rc < 0) {
            db_rollback(db);
            if (errors) {
                row_problems(p, csv, map, csv->line[r], errors);
                json_decref(errors);
            }
            char msg[sizeof(e->msg)];
            snprintf(msg, sizeof(msg), "%s", e->msg);
            char field[32];
            snprintf(field, sizeof(field), "row %zu", csv->line[r]);
            err_set(e, e->kind, e->code, field, "row %zu: %s: nothing was imported",
                    csv->line[r], msg);
            return -1;
        }
        written++;
    }
    char detail[64];
    snprintf(detail, sizeof(detail), "rows=%ld", written);
    if (actor_audit(db, a, "children.import", "child", NULL, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        db_rollback(db);
        return -1;
    }
    return written;
}

int import_children(struct db *db, const struct actor *a, const char *data, size_t len,
                    json_t *mapping, bool dry_run, bool skip_invalid, json_t **result_out,
                    struct err *e)
{
    *result_out = NULL;
    if (!actor_can(a, PERM_CHILDREN_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", "", "not allowed to import children");
    }
    struct import_csv csv;
    if (import_csv_parse(&csv, data, len, g_config.upload_max, e) < 0) {
        return -1;
    }
    json_t *result = json_pack("{s:I, s:b, s:s}", "rows", (json_int_t)csv.n_rows, "dry_run",
                               dry_run, "row_numbering", "header_is_row_1");
    const struct child_field **map = xcalloc(csv.n_cols, sizeof(*map));
    bool *ok = xcalloc(csv.n_rows ? csv.n_rows : 1, sizeof(bool));
    struct problems p = {json_array(), 0};
    size_t valid = 0;
    long written = 0;
    int rc = map_columns(&csv, mapping, map, result, e);
    /* A required field without a column: said once, for the header row. */
    int n_fields;
    const struct child_field *f = children_fields(&n_fields);
    bool missing = false;
    bool mapped = rc == 0;
    for (int i = 0; mapped && i < n_fields; i++) {
        if (f[i].required && !column_of(&csv, map, f[i].name)) {
            char msg[128];
            snprintf(msg, sizeof(msg), "no column gives required field '%s'", f[i].name);
            problem_add(&p, 1, NULL, f[i].name, "missing_column", msg);
            if (!missing && !dry_run) {
                rc = err_set(e, ERR_INVALID, "missing_column", f[i].name,
                             "no column gives required field '%s'", f[i].name);
            }
            missing = true;
        }
    }
    if (rc == 0 && !missing) {
        int limit = children_age_limit(db, a->org_id);
        json_t *errors = json_array();
        for (size_t r = 0; r < csv.n_rows; r++) {
            json_t *input = row_input(&csv, r, map);
            if (children_validate(input, true, limit, errors) == 0) {
                ok[r] = true;
                valid++;
            } else {
                row_problems(&p, &csv, map, csv.line[r], errors);
                json_array_clear(errors);
            }
            json_decref(input);
        }
        json_decref(errors);
        if (valid < csv.n_rows && !dry_run && !skip_invalid) {
            rc = err_set(e, ERR_INVALID, "invalid_rows", "",
                         "%zu of %zu rows are not valid: nothing was imported",
                         csv.n_rows - valid, csv.n_rows);
        } else if (!dry_run && valid == 0) {
            rc = err_set(e, ERR_INVALID, "no_rows", "", "no valid row to import");
        } else if (!dry_run) {
            written = write_rows(db, a, &csv, map, ok, &p, e);
            rc = written < 0 ? -1 : 0;
            written = written < 0 ? 0 : written;
        }
    }
    json_object_set_new(result, "valid", json_integer((json_int_t)(missing ? 0 : valid)));
    json_object_set_new(result, "invalid",
                        json_integer((json_int_t)(csv.n_rows - (missing ? 0 : valid))));
    json_object_set_new(result, "written", json_integer(written));
    json_object_set_new(result, "errors", p.list);
    json_object_set_new(result, "errors_total", json_integer((json_int_t)p.total));
    json_object_set_new(result, "errors_truncated", json_boolean(p.total > json_array_size(p.list)));
    free(map);
    free(ok);
    import_csv_release(&csv);
    *result_out = result;
    return rc;
}

json_t *import_mapping_parse(const char *spec, struct err *e)
{
    json_t *m = json_object();
    char *copy = xstrdup(spec);
    for (char *item = copy; item;) {
        char *next = strchr(item, ',');
        if (next) {
            *next++ = '\0';
        }
        char *eq = strrchr(item, '=');
        if (!eq) {
            err_set(e, ERR_INVALID, "bad_mapping", "map",
                    "'%s' in the mapping is not COLUMN=field", item);
            goto fail;
        }
        *eq = '\0';
        const char *col = text_trim(item), *field = text_trim(eq + 1);
        if (!*col || !utf8_valid(col, strlen(col)) || (*field && !children_field(field))) {
            err_set(e, ERR_INVALID, "bad_mapping", "map", *col ? "unknown field '%s' in the "
                    "mapping" : "a column name is missing in the mapping%s", *col ? field : "");
            goto fail;
        }
        json_object_set_new(m, col, *field ? json_string(field) : json_null());
        item = next;
    }
    free(copy);
    return m;
fail:
    free(copy);
    json_decref(m);
    return NULL;
}
