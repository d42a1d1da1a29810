/*
 * export.c: CSV and XLSX export of children; see export.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "auth/authz.h"
#include "children/children.h"
#include "children/export.h"
#include "core/arena.h"
#include "core/xalloc.h"
#include "keys/keys.h"
#include "web/i18n.h"
#include "core/banned.h"

/* Ids fetched per query when the rows come from a search. */
#define BATCH 100
/* Children asked of the search per page (its largest page). */
#define SEARCH_PAGE 200
/* Columns before the fields in every query: id, file_no, status. */
#define META 3

/* Where rows go while exporting. */
struct sink {
    enum export_format fmt; /* CSV or XLSX */
    struct buf *csv;        /* CSV text being built */
    lxw_workbook *wb;       /* XLSX workbook (owned until closed) */
    lxw_worksheet *ws;      /* its one sheet */
    lxw_format *head;       /* bold header format */
    lxw_format *text;       /* text cell format ("@") */
    uint32_t row;           /* next XLSX row */
    size_t n_rows;          /* children written */
};

int export_format_parse(const char *s, enum export_format *out, struct err *e)
{
    if (s && strcmp(s, "csv") == 0) {
        *out = EXPORT_CSV;
        return 0;
    }
    if (s && strcmp(s, "xlsx") == 0) {
        *out = EXPORT_XLSX;
        return 0;
    }
    return err_set(e, ERR_INVALID, "invalid_format", "format", "'format' must be csv or xlsx");
}

const char *export_media_type(enum export_format f)
{
    return f == EXPORT_XLSX ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                            : "text/csv; charset=utf-8";
}

/* True for a plain decimal number ("-35.25"), which no spreadsheet takes for a formula. */
static bool plain_number(const char *v)
{
    const char *p = v + (*v == '-' || *v == '+');
    size_t digits = strspn(p, "0123456789");
    if (digits == 0) {
        return false;
    }
    p += digits;
    if (*p == '.') {
        p++;
        size_t frac = strspn(p, "0123456789");
        if (frac == 0) {
            return false;
        }
        p += frac;
    }
    return *p == '\0';
}

void export_csv_cell(struct buf *b, const char *v)
{
    if (!v || !*v) {
        return;
    }
    /* A leading = + - @ (or tab, CR) makes Excel and LibreOffice run the cell as a formula. */
    bool guard = strchr("=+-@\t\r", v[0]) && !plain_number(v);
    size_t n = strlen(v);
    bool quote = guard || strpbrk(v, ",;\"\r\n") || v[0] == ' ' || v[n - 1] == ' ';
    if (quote) {
        buf_addch(b, '"');
    }
    if (guard) {
        buf_addch(b, '\'');
    }
    for (const char *p = v; *p; p++) {
        if (*p == '"') {
            buf_addch(b, '"');
        }
        buf_addch(b, *p);
    }
    if (quote) {
        buf_addch(b, '"');
    }
}

/* Writes one row of n values. Returns 0 or -1 with e (XLSX write failure). */
static int sink_row(struct sink *s, const char *const *vals, int n, bool header, struct err *e)
{
    if (s->fmt == EXPORT_CSV) {
        for (int c = 0; c < n; c++) {
            if (c) {
                buf_addch(s->csv, ',');
            }
            export_csv_cell(s->csv, vals[c]);
        }
        buf_adds(s->csv, "\r\n");
    } else {
        for (int c = 0; c < n; c++) {
            if (!vals[c] || !*vals[c]) {
                continue;
            }
            lxw_error rc = worksheet_write_string(s->ws, s->row, (lxw_col_t)c, vals[c],
                                                  header ? s->head : s->text);
            if (rc != LXW_NO_ERROR) {
                return err_set(e, ERR_INTERNAL, "export_failed", "",
                               "could not write the spreadsheet: %s", lxw_strerror(rc));
            }
        }
        s->row++;
    }
    if (!header) {
        s->n_rows++;
    }
    return 0;
}

/* The columns a may see: the meta columns' names, then fields. n_out gets
 * the number of exported columns (without id). */
static const struct child_field **visible_fields(const struct actor *a, int *n_out)
{
    int n;
    const struct child_field *f = children_fields(&n);
    const struct child_field **out = xcalloc((size_t)n, sizeof(*out));
    bool health = actor_can(a, PERM_CHILDREN_HEALTH);
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!f[i].sealed || health) {
            out[k++] = &f[i];
        }
    }
    *n_out = k;
    return out;
}

/* The SELECT of the visible fields; where is appended after the org filter. */
static char *select_sql(const struct child_field **fields, int n, const char *where)
{
    struct buf b = BUF_INIT;
    buf_adds(&b, "SELECT id, file_no, status");
    for (int i = 0; i < n; i++) {
        buf_addf(&b, ", %s", fields[i]->name); /* names are the field table's constants */
    }
    buf_addf(&b, " FROM children WHERE org_id = $1%s", where);
    return buf_detach(&b, NULL);
}

/* Copies the current row of s into vals (META + n entries, in ar), opening
 * sealed fields. Returns 0 or -1 with e. */
static int read_row(struct db *db, struct db_stmt *s, struct arena *ar, const struct actor *a,
                    const struct child_field **fields, int n, const char **vals, struct err *e)
{
    for (int c = 0; c < META + n; c++) {
        vals[c] = arena_strdup(ar, db_col_text(s, c));
    }
    for (int i = 0; i < n; i++) {
        const char *v = vals[META + i];
        if (fields[i]->sealed && v) {
            vals[META + i] = keys_open(db, ar, a->org_id, vals[0], fields[i]->name, v, NULL, e);
            if (!vals[META + i]) {
                return err_set(e, ERR_INTERNAL, "decrypt_failed", fields[i]->name,
                               "could not open '%s' of child '%s'", fields[i]->name, vals[1]);
            }
        }
    }
    return 0;
}

/* Every child of the organization, by file number. */
static int rows_all(struct db *db, const struct actor *a, const struct child_field **fields,
                    int n, struct sink *sk, struct err *e)
{
    char *sql = select_sql(fields, n, " ORDER BY file_no");
    struct db_stmt *s = db_prepare(db, sql, e);
    free(sql);
    if (!s) {
        return -1;
    }
    db_bind_text(s, 1, a->org_id);
    const char **vals = xcalloc((size_t)(META + n), sizeof(char *));
    struct arena ar;
    arena_init(&ar);
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        if (read_row(db, s, &ar, a, fields, n, vals, e) < 0 ||
            sink_row(sk, vals + 1, META - 1 + n, false, e) < 0) {
            rc = -1;
            break;
        }
        arena_release(&ar);
    }
    db_done(s);
    arena_release(&ar);
    free(vals);
    return rc < 0 ? -1 : 0;
}

/* Writes the children whose ids are ids[0..n_ids) (at most BATCH), in that order. */
static int rows_batch(struct db *db, const struct actor *a, const struct child_field **fields,
                      int n, const char **ids, size_t n_ids, struct sink *sk, struct err *e)
{
    struct buf where = BUF_INIT;
    buf_adds(&where, " AND id IN (");
    for (int i = 0; i < BATCH; i++) {
        buf_addf(&where, "%s$%d", i ? ", " : "", i + 2);
    }
    buf_adds(&where, ")");
    char *sql = select_sql(fields, n, where.buf);
    buf_release(&where);
    struct db_stmt *s = db_prepare(db, sql, e);
    free(sql);
    if (!s) {
        return -1;
    }
    db_bind_text(s, 1, a->org_id);
    for (size_t i = 0; i < BATCH; i++) {
        db_bind_text(s, (int)i + 2, i < n_ids ? ids[i] : NULL); /* IN (NULL) matches nothing */
    }
    struct arena ar;
    arena_init(&ar);
    const char ***rows = xcalloc(n_ids ? n_ids : 1, sizeof(*rows));
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        const char **vals = arena_zalloc(&ar, (size_t)(META + n) * sizeof(char *));
        if (read_row(db, s, &ar, a, fields, n, vals, e) < 0) {
            rc = -1;
            break;
        }
        for (size_t i = 0; i < n_ids; i++) {
            if (!rows[i] && strcmp(ids[i], vals[0]) == 0) {
                rows[i] = vals;
                break;
            }
        }
    }
    db_done(s);
    for (size_t i = 0; rc == 0 && i < n_ids; i++) {
        if (rows[i] && sink_row(sk, rows[i] + 1, META - 1 + n, false, e) < 0) {
            rc = -1;
        }
    }
    free(rows);
    arena_release(&ar);
    return rc < 0 ? -1 : 0;
}

/* The children q finds, page after page of the search, in its order. */
static int rows_search(struct db *db, const struct actor *a, const struct child_query *q,
                       const struct child_field **fields, int n, struct sink *sk, struct err *e)
{
    struct child_query page = *q;
    page.per_page = SEARCH_PAGE;
    for (page.page = 1;; page.page++) {
        json_t *res = children_search(db, a, &page, e);
        if (!res) {
            return -1;
        }
        json_t *items = json_object_get(res, "items");
        size_t n_items = json_array_size(items);
        const char *ids[BATCH];
        size_t k = 0;
        for (size_t i = 0; i < n_items; i++) {
            const char *id = json_string_value(json_object_get(json_array_get(items, i), "id"));
            if (id) {
                ids[k++] = id;
            }
            if (k == BATCH || (i + 1 == n_items && k)) {
                if (rows_batch(db, a, fields, n, ids, k, sk, e) < 0) {
                    json_decref(res);
                    return -1;
                }
                k = 0;
            }
        }
        json_int_t total = json_integer_value(json_object_get(res, "total"));
        json_decref(res);
        if (n_items < SEARCH_PAGE || (json_int_t)page.page * SEARCH_PAGE >= total) {
            return 0;
        }
    }
}

/* The header label of a column in lang. */
static const char *label(const char *lang, const char *name, char *key, size_t cap)
{
    snprintf(key, cap, "field.%s", name);
    return i18n_has(key) ? i18n_get(lang, key) : name;
}

/* Writes the whole file at path from bytes. Returns 0 or -1 with e. */
static int write_file(const char *path, const char *bytes, size_t n, struct err *e)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        return err_set(e, ERR_INTERNAL, "write_failed", "", "could not write '%s': %s", path,
                       strerror(errno));
    }
    bool ok = fwrite(bytes, 1, n, f) == n;
    ok = fclose(f) == 0 && ok;
    if (!ok) {
        unlink(path);
        return err_set(e, ERR_INTERNAL, "write_failed", "", "could not write '%s'", path);
    }
    return 0;
}

/* Reads a whole file into out. Returns 0 or -1 with e. */
static int read_file(const char *path, struct buf *out, struct err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return err_set(e, ERR_INTERNAL, "read_failed", "", "could not read '%s': %s", path,
                       strerror(errno));
    }
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        buf_add(out, chunk, got);
    }
    bool bad = ferror(f) != 0;
    fclose(f);
    return bad ? err_set(e, ERR_INTERNAL, "read_failed", "", "could not read '%s'", path) : 0;
}

int children_export(struct db *db, const struct actor *a, const struct child_query *q,
                    enum export_format fmt, const char *path, struct buf *out, size_t *rows_out,
                    struct err *e)
{
    if (rows_out) {
        *rows_out = 0;
    }
    if (!actor_can(a, PERM_CHILDREN_READ)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", "", "not allowed to export children");
    }
    if ((path == NULL) == (out == NULL)) {
        return err_set(e, ERR_INTERNAL, "internal", "", "export needs a path or a buffer");
    }
    int n;
    const struct child_field **fields = visible_fields(a, &n);
    const char **head = xcalloc((size_t)n + 2, sizeof(char *));
    struct buf csv = BUF_INIT;
    struct sink sk = {fmt, &csv, NULL, NULL, NULL, NULL, 0, 0};
    char tmp[4096] = "";
    const char *lang = strcmp(a->lang, "en") == 0 ? "en" : "ar";
    char keys[2][80];
    int rc = 0;
    if (fmt == EXPORT_CSV) {
        buf_adds(&csv, "\xEF\xBB\xBF"); /* the BOM makes Excel read UTF-8 (Arabic) correctly */
        head[0] = "file_no";
        head[1] = "status";
        for (int i = 0; i < n; i++) {
            head[2 + i] = fields[i]->name;
        }
    } else {
        if (path) {
            snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        } else {
            const char *dir = getenv("TMPDIR");
            snprintf(tmp, sizeof(tmp), "%s/sanad-export-XXXXXX", dir && *dir ? dir : "/tmp");
            int fd = mkstemp(tmp);
            if (fd < 0) {
                rc = err_set(e, ERR_INTERNAL, "write_failed", "",
                             "could not create a temporary file: %s", strerror(errno));
                tmp[0] = '\0';
            } else {
                close(fd);
            }
        }
        if (rc == 0) {
            lxw_workbook_options opt = {.constant_memory = LXW_FALSE, .tmpdir = NULL};
            sk.wb = workbook_new_opt(tmp, &opt);
            sk.ws = sk.wb ? workbook_add_worksheet(sk.wb, NULL) : NULL;
            if (!sk.ws) {
                rc = err_set(e, ERR_INTERNAL, "write_failed", "",
                             "could not create the spreadsheet '%s'", tmp);
            }
        }
        if (rc == 0) {
            if (strcmp(lang, "ar") == 0) {
                worksheet_right_to_left(sk.ws);
            }
            sk.head = workbook_add_format(sk.wb);
            format_set_bold(sk.head);
            sk.text = workbook_add_format(sk.wb);
            format_set_num_format(sk.text, "@");
            worksheet_freeze_panes(sk.ws, 1, 0);
            worksheet_set_column(sk.ws, 0, (lxw_col_t)(n + 1), 18, NULL);
            head[0] = label(lang, "file_no", keys[0], sizeof(keys[0]));
            head[1] = label(lang, "status", keys[1], sizeof(keys[1]));
            for (int i = 0; i < n; i++) {
                char key[80];
                head[2 + i] = label(lang, fields[i]->name, key, sizeof(key));
            }
        }
    }
    if (rc == 0) {
        rc = sink_row(&sk, head, n + 2, true, e);
    }
    if (rc == 0 && db_begin(db, true, e) < 0) {
        rc = -1;
    } else if (rc == 0) {
        bool everything = !q || ((!q->q || !*q->q) && !q->status && !q->sex && q->age_min < 0 &&
                                 q->age_max < 0 && !q->governorate && !q->need &&
                                 q->sponsored < 0);
        rc = everything ? rows_all(db, a, fields, n, &sk, e)
                        : rows_search(db, a, q, fields, n, &sk, e);
        db_rollback(db); /* read only: nothing to keep */
    }
    if (sk.wb) {
        lxw_error x = workbook_close(sk.wb);
        if (x != LXW_NO_ERROR && rc == 0) {
            rc = err_set(e, ERR_INTERNAL, "write_failed", "", "could not write '%s': %s", tmp,
                         lxw_strerror(x));
        }
    }
    /* One audit entry for the whole export; without it nothing is delivered. */
    if (rc == 0) {
        char detail[64];
        snprintf(detail, sizeof(detail), "format=%s rows=%zu", fmt == EXPORT_CSV ? "csv" : "xlsx",
                 sk.n_rows);
        if (db_begin(db, false, e) < 0 ||
            actor_audit(db, a, "children.export", "child", NULL, "ok", detail, e) < 0 ||
            db_commit(db, e) < 0) {
            db_rollback(db);
            rc = -1;
        }
    }
    if (rc == 0) {
        if (fmt == EXPORT_CSV) {
            rc = path ? write_file(path, csv.buf, csv.len, e) : (buf_add(out, csv.buf, csv.len), 0);
        } else if (path) {
            if (rename(tmp, path) < 0) {
                rc = err_set(e, ERR_INTERNAL, "write_failed", "", "could not write '%s': %s",
                             path, strerror(errno));
            }
        } else {
            rc = read_file(tmp, out, e);
        }
    }
    if (tmp[0]) {
        unlink(tmp); /* gone after the rename; removes it on every other path */
    }
    if (rc == 0 && rows_out) {
        *rows_out = sk.n_rows;
    }
    buf_release(&csv);
    free(head);
    free((void *)fields);
    return rc;
}
