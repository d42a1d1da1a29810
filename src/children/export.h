/*
 * export.h: export of children as CSV (UTF-8 with BOM, CRLF, quoted where
 * needed, guarded against formula injection) or XLSX (libxlsxwriter: a
 * header row of labels, right-to-left sheet, text cells), with only the
 * fields the actor may see, as one audited event ("children.export").
 */
#ifndef SANAD_CHILDREN_EXPORT_H
#define SANAD_CHILDREN_EXPORT_H

#include <stddef.h>

#include "auth/auth.h"
#include "children/search.h"
#include "core/buf.h"
#include "core/err.h"
#include "db/db.h"

/* The formats an export is written in. */
enum export_format {
    EXPORT_CSV, /* text/csv; charset=utf-8 */
    EXPORT_XLSX /* application/vnd.openxmlformats-officedocument.spreadsheetml.sheet */
};

/* Reads "csv" or "xlsx" into *out. Returns 0, or -1 with e naming the value. */
int export_format_parse(const char *s, enum export_format *out, struct err *e);
/* The media type of a format (static string). */
const char *export_media_type(enum export_format f);

/*
 * Writes the children of a's organization that q finds (all pages; q NULL:
 * every child, by file number) in format fmt, either to the file at path
 * (written whole, then renamed into place; path NULL to skip) or appended
 * to out (NULL to skip); exactly one of path and out is given. Columns:
 * file_no, status, then every field of the field table a may see (sealed
 * health fields only with children.health, opened with keys_open). CSV's
 * header row holds the field names (so a file exported can be imported
 * again); XLSX's holds the labels in a's language.
 *
 * The rows are read in one read transaction with one query (not one audited
 * view per child), then the export is audited in a write transaction: if the
 * audit fails, nothing is delivered. *rows_out (may be NULL) gets the number
 * of children. Returns 0, or -1 with e: ERR_FORBIDDEN without
 * children.read; ERR_INTERNAL when a sealed field does not open or the file
 * cannot be written.
 */
int children_export(struct db *db, const struct actor *a, const struct child_query *q,
                    enum export_format fmt, const char *path, struct buf *out, size_t *rows_out,
                    struct err *e);

/* Appends one CSV cell to b: an apostrophe before a leading = + - @ tab or
 * CR (unless the cell is a plain number such as -35.2), and quotes (with
 * inner quotes doubled) when it holds a separator, quote, line break or
 * leading or trailing space. v NULL is an empty cell. */
void export_csv_cell(struct buf *b, const char *v);

/* `sanad export children --org SLUG --format csv|xlsx --out FILE [--q TEXT]
 * [--status S] [--sex M|F]`. Returns the exit code. */
int cli_export(int argc, char **argv);

#endif
