#include "db/db_util.h"

#include <stdarg.h>

#include "core/banned.h"

/* Binds the arguments in ap to s as types describes. */
static void bind_va(struct db_stmt *s, const char *types, va_list ap)
{
    for (int i = 0; types[i]; i++) {
        switch (types[i]) {
        case 't':
            db_bind_text(s, i + 1, va_arg(ap, const char *));
            break;
        case 'i':
            db_bind_int64(s, i + 1, va_arg(ap, int64_t));
            break;
        case 'b':
            db_bind_int64(s, i + 1, va_arg(ap, int) ? 1 : 0);
            break;
        default:
            db_bind_null(s, i + 1);
            break;
        }
    }
}

int64_t db_run(struct db *db, struct err *e, const char *sql, const char *types, ...)
{
    struct db_stmt *s = db_prepare(db, sql, e);
    if (!s) {
        return -1;
    }
    va_list ap;
    va_start(ap, types);
    bind_va(s, types, ap);
    va_end(ap);
    int rc;
    while ((rc = db_step(s, e)) == 1) {
    }
    int64_t n = rc < 0 ? -1 : db_changes(s);
    db_done(s);
    return n;
}

struct db_stmt *db_row(struct db *db, struct err *e, int *found, const char *sql,
                       const char *types, ...)
{
    *found = -1;
    struct db_stmt *s = db_prepare(db, sql, e);
    if (!s) {
        return NULL;
    }
    va_list ap;
    va_start(ap, types);
    bind_va(s, types, ap);
    va_end(ap);
    int rc = db_step(s, e);
    if (rc == 1) {
        *found = 1;
        return s;
    }
    *found = rc;
    db_done(s);
    return NULL;
}

struct db_stmt *db_query(struct db *db, struct err *e, const char *sql, const char *types, ...)
{
    struct db_stmt *s = db_prepare(db, sql, e);
    if (!s) {
        return NULL;
    }
    va_list ap;
    va_start(ap, types);
    bind_va(s, types, ap);
    va_end(ap);
    return s;
}
