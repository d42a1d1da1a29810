/*
 * db_sqlite.c: the SQLite backend. One sqlite3 handle per connection, opened
 * with SQLITE_OPEN_NOMUTEX because a connection never crosses threads.
 * Placeholders are PostgreSQL's $1..$n; SQLite treats "$1" as a named
 * parameter, so each statement keeps a map from $N to SQLite's index.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/xalloc.h"
#include "db/db_internal.h"
#include "core/banned.h"

struct sqlite_db {
    struct db base; /* must be first */
    sqlite3 *h;     /* the engine's handle */
};

struct sqlite_stmt {
    struct db_stmt base; /* must be first */
    sqlite3_stmt *st;    /* the engine's statement */
    int *index;          /* SQLite's parameter index of $N at index[N-1] */
    int64_t changes;     /* rows changed, captured when the statement finished */
};

/* Fills e from the engine's last error on h; returns -1. */
static int sqlite_error(struct db *db, sqlite3 *h, struct err *e)
{
    int ext = sqlite3_extended_errcode(h);
    const char *msg = sqlite3_errmsg(h);
    switch (ext) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return err_set(e, ERR_CONFLICT, "unique_violation", "", "%s", msg);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return err_set(e, ERR_CONFLICT, "foreign_key_violation", "", "%s", msg);
    case SQLITE_CONSTRAINT_NOTNULL:
        return err_set(e, ERR_INVALID, "not_null_violation", "", "%s", msg);
    case SQLITE_CONSTRAINT_CHECK:
        return err_set(e, ERR_INVALID, "check_violation", "", "%s", msg);
    default:
        break;
    }
    switch (ext & 0xff) {
    case SQLITE_CONSTRAINT:
        return err_set(e, ERR_INVALID, "constraint_violation", "", "%s", msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return err_set(e, ERR_UNAVAILABLE, "database_busy", "", "the database is busy: %s", msg);
    case SQLITE_READONLY:
        if (db && db->tx_read_only) {
            return err_set(e, ERR_INTERNAL, "read_only_transaction", "",
                           "a write was attempted in a read-only transaction: %s", msg);
        }
        return err_set(e, ERR_UNAVAILABLE, "database_unavailable", "", "%s", msg);
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
        return err_set(e, ERR_UNAVAILABLE, "database_unavailable", "", "%s", msg);
    case SQLITE_ERROR:
        return err_set(e, ERR_INTERNAL, "database_error", "", "%s", msg);
    default:
        return err_set(e, ERR_INTERNAL, "database_error", "", "%s", msg);
    }
}

/* Frees the handle and the connection struct. */
static void sq_close(struct db *db)
{
    struct sqlite_db *d = (struct sqlite_db *)db;
    sqlite3_close_v2(d->h);
    free(d);
}

/* Runs SQL text with sqlite3_exec. */
static int sq_exec(struct db *db, const char *sql, struct err *e)
{
    struct sqlite_db *d = (struct sqlite_db *)db;
    char *msg = NULL;
    int rc = sqlite3_exec(d->h, sql, NULL, NULL, &msg);
    sqlite3_free(msg); /* sqlite3_errmsg still holds the same text */
    if (rc != SQLITE_OK) {
        return sqlite_error(db, d->h, e);
    }
    return 0;
}

/* A file connection is never lost. */
static int sq_reconnect(struct db *db, struct err *e)
{
    (void)db;
    (void)e;
    return 0;
}

/* True when s holds only white space, semicolons and SQL comments. */
static bool sql_tail_empty(const char *s)
{
    while (*s) {
        if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == ';') {
            s++;
        } else if (s[0] == '-' && s[1] == '-') {
            while (*s && *s != '\n') {
                s++;
            }
        } else {
            return false;
        }
    }
    return true;
}

static struct db_stmt *sq_prepare(struct db *db, const char *sql, struct err *e)
{
    struct sqlite_db *d = (struct sqlite_db *)db;
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    if (sqlite3_prepare_v3(d->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, &tail) != SQLITE_OK) {
        sqlite_error(db, d->h, e);
        return NULL;
    }
    if (!st) {
        err_set(e, ERR_INTERNAL, "invalid_sql", "", "sql text has no statement");
        return NULL;
    }
    if (tail && !sql_tail_empty(tail)) {
        sqlite3_finalize(st);
        err_set(e, ERR_INTERNAL, "invalid_sql", "",
                "db_prepare takes one statement; use db_exec for several");
        return NULL;
    }
    int n = sqlite3_bind_parameter_count(st);
    if (n > DB_MAX_PARAMS) {
        sqlite3_finalize(st);
        err_set(e, ERR_INTERNAL, "invalid_sql", "", "too many parameters (%d)", n);
        return NULL;
    }
    int *index = n ? xcalloc((size_t)n, sizeof(*index)) : NULL;
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof(name), "$%d", i + 1);
        index[i] = sqlite3_bind_parameter_index(st, name);
        if (index[i] == 0) {
            free(index);
            sqlite3_finalize(st);
            err_set(e, ERR_INTERNAL, "invalid_sql", "",
                    "parameters must be written $1..$%d without gaps ($%d is missing)", n, i + 1);
            return NULL;
        }
    }
    struct sqlite_stmt *s = xcalloc(1, sizeof(*s));
    s->st = st;
    s->index = index;
    s->base.n_params = n;
    return &s->base;
}

/* Hands the statement's copied values to SQLite (they outlive the run). */
static int bind_all(struct sqlite_stmt *s, sqlite3 *h, struct err *e)
{
    for (int i = 0; i < s->base.n_params; i++) {
        const struct db_value *v = &s->base.params[i];
        int idx = s->index[i], rc = SQLITE_OK;
        switch (v->type) {
        case DBV_INT:
            rc = sqlite3_bind_int64(s->st, idx, v->i);
            break;
        case DBV_TEXT:
            rc = sqlite3_bind_text64(s->st, idx, v->p, v->n, SQLITE_STATIC, SQLITE_UTF8);
            break;
        case DBV_BLOB:
            rc = sqlite3_bind_blob64(s->st, idx, v->p, v->n, SQLITE_STATIC);
            break;
        case DBV_NULL:
        case DBV_UNSET:
            rc = sqlite3_bind_null(s->st, idx);
            break;
        }
        if (rc != SQLITE_OK) {
            return sqlite_error(s->base.db, h, e);
        }
    }
    return 0;
}

static int sq_step(struct db_stmt *base, struct err *e)
{
    struct sqlite_stmt *s = (struct sqlite_stmt *)base;
    sqlite3 *h = ((struct sqlite_db *)base->db)->h;
    if (base->state == DBS_FRESH && bind_all(s, h, e) != 0) {
        return -1;
    }
    int rc = sqlite3_step(s->st);
    if (rc == SQLITE_ROW) {
        return 1;
    }
    if (rc == SQLITE_DONE) {
        s->changes = sqlite3_changes64(h);
        return 0;
    }
    /* sqlite3_step's own code is the extended one; errmsg/errcode agree after v2 prepare. */
    sqlite_error(base->db, h, e);
    sqlite3_reset(s->st);
    return -1;
}

static void sq_reset(struct db_stmt *base)
{
    struct sqlite_stmt *s = (struct sqlite_stmt *)base;
    sqlite3_reset(s->st);
    sqlite3_clear_bindings(s->st);
    s->changes = 0;
}

static void sq_finalize(struct db_stmt *base)
{
    struct sqlite_stmt *s = (struct sqlite_stmt *)base;
    sqlite3_finalize(s->st);
    free(s->index);
    free(s);
}

static int sq_column_count(struct db_stmt *base)
{
    return sqlite3_column_count(((struct sqlite_stmt *)base)->st);
}

static bool sq_col_null(struct db_stmt *base, int col)
{
    return sqlite3_column_type(((struct sqlite_stmt *)base)->st, col) == SQLITE_NULL;
}

static const char *sq_col_text(struct db_stmt *base, int col)
{
    const char *t = (const char *)sqlite3_column_text(((struct sqlite_stmt *)base)->st, col);
    return t ? t : "";
}

static int64_t sq_col_int64(struct db_stmt *base, int col)
{
    return sqlite3_column_int64(((struct sqlite_stmt *)base)->st, col);
}

static const void *sq_col_blob(struct db_stmt *base, int col, size_t *n)
{
    sqlite3_stmt *st = ((struct sqlite_stmt *)base)->st;
    const void *p = sqlite3_column_blob(st, col);
    *n = (size_t)sqlite3_column_bytes(st, col);
    /* An empty blob comes back as NULL from SQLite; it is not SQL NULL. */
    return p ? p : "";
}

static int64_t sq_changes(struct db_stmt *base)
{
    struct sqlite_stmt *s = (struct sqlite_stmt *)base;
    if (base->state == DBS_DONE) {
        return s->changes;
    }
    return sqlite3_changes64(((struct sqlite_db *)base->db)->h);
}

static const struct db_ops sqlite_ops = {
    .close = sq_close,
    .exec = sq_exec,
    .reconnect = sq_reconnect,
    .prepare = sq_prepare,
    .step = sq_step,
    .reset = sq_reset,
    .finalize = sq_finalize,
    .column_count = sq_column_count,
    .col_null = sq_col_null,
    .col_text = sq_col_text,
    .col_int64 = sq_col_int64,
    .col_blob = sq_col_blob,
    .changes = sq_changes,
};

/* Checks that the folder that will hold path exists, for a clear message. */
static int check_folder(const char *path, struct err *e)
{
    if (strcmp(path, ":memory:") == 0) {
        return 0;
    }
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) {
        return 0;
    }
    char *dir = xstrndup(path, (size_t)(slash - path));
    struct stat st;
    int rc = 0;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = err_set(e, ERR_UNAVAILABLE, "database_unavailable", "db",
                     "could not open database '%s': folder '%s' does not exist", path, dir);
    }
    free(dir);
    return rc;
}

int db_sqlite_open(const char *path, struct db **out, struct err *e)
{
    *out = NULL;
    if (check_folder(path, e) != 0) {
        return -1;
    }
    sqlite3 *h = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &h, flags, NULL) != SQLITE_OK) {
        err_set(e, ERR_UNAVAILABLE, "database_unavailable", "db",
                "could not open database '%s': %s", path, h ? sqlite3_errmsg(h) : "out of memory");
        sqlite3_close_v2(h);
        return -1;
    }
    sqlite3_extended_result_codes(h, 1);
    sqlite3_busy_timeout(h, 5000);
    struct sqlite_db *d = xcalloc(1, sizeof(*d));
    d->base.ops = &sqlite_ops;
    d->base.backend = DB_SQLITE;
    d->h = h;
    struct err inner;
    err_clear(&inner);
    /* temp_store=MEMORY: statement journals (one per write statement inside a
     * transaction) and sorts stay in memory instead of temporary files; a
     * run that posts 100,000 journal entries wrote ~23 small files' worth of
     * syscalls per entry and took twice as long. */
    if (sq_exec(&d->base,
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
                "PRAGMA busy_timeout=5000; PRAGMA cache_size=-16384; PRAGMA mmap_size=1073741824; "
                "PRAGMA temp_store=MEMORY",
                &inner) != 0) {
        err_set(e, inner.kind == ERR_INTERNAL ? ERR_UNAVAILABLE : inner.kind,
                "database_unavailable", "db", "could not set up database '%s': %s", path,
                inner.msg);
        sq_close(&d->base);
        return -1;
    }
    *out = &d->base;
    return 0;
}
