/*
 * db_internal.h: what the shared layer (db.c) and the two backends
 * (db_sqlite.c, db_pg.c) share, and the few hooks the unit tests call.
 * Nothing outside src/db and tests/unit/test_db.c includes this file.
 *
 * db.c owns everything that is the same on both engines: the statement
 * cache, parameter bindings (copied and checked before they reach an
 * engine), transaction state, the thread-local connection and migrations.
 * A backend is a table of function pointers (struct db_ops) and derives its
 * connection and statement structs from struct db and struct db_stmt by
 * putting them first.
 */
#ifndef SANAD_DB_DB_INTERNAL_H
#define SANAD_DB_DB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

/* Buckets in a connection's statement cache (a power of two). */
#define DB_CACHE_BUCKETS 64
/* Statements kept per connection; beyond this, the least recently used idle
 * one is freed to make room. */
#define DB_CACHE_MAX 256
/* Highest parameter number a statement may use ($1..$DB_MAX_PARAMS). */
#define DB_MAX_PARAMS 32766

/* What a parameter slot holds. */
enum db_value_type { DBV_UNSET = 0, DBV_NULL, DBV_INT, DBV_TEXT, DBV_BLOB };

/* One bound parameter, owned by its statement. */
struct db_value {
    enum db_value_type type; /* DBV_UNSET until bound */
    int64_t i;               /* the value when DBV_INT */
    char *p;                 /* text or blob bytes (NUL-terminated), owned; reused */
    size_t n;                /* bytes in p for text and blobs */
    size_t cap;              /* bytes allocated at p */
    char num[24];            /* decimal text of i, filled by backends that need it */
};

/* Where a statement is in its life between db_prepare and db_done. */
enum db_stmt_state {
    DBS_FRESH = 0, /* bound, not executed yet */
    DBS_ROW,       /* executed, a row is current */
    DBS_DONE,      /* executed, no more rows */
    DBS_FAILED     /* executed and failed; db_step keeps failing until db_done */
};

struct db_stmt {
    struct db *db;              /* the connection it belongs to */
    char *sql;                  /* its SQL text, owned (the cache key) */
    uint64_t hash;              /* hash of sql */
    struct db_stmt *next;       /* next statement in the same cache bucket */
    bool busy;                  /* handed out by db_prepare, not yet db_done */
    uint64_t last_used;         /* db.tick when last handed out, for eviction */
    enum db_stmt_state state;   /* see enum db_stmt_state */
    int n_params;               /* number of parameters: $1..$n_params */
    struct db_value *params;    /* n_params slots, index 0 is $1 */
    int bad_param;              /* first out-of-range or invalid bind ($n), 0 when none */
    char bad_reason[64];        /* why bad_param was refused */
};

struct db_ops {
    /* Frees the backend's connection (the struct db itself included). */
    void (*close)(struct db *db);
    /* Runs parameterless SQL, possibly several statements. 0 or -1 with e. */
    int (*exec)(struct db *db, const char *sql, struct err *e);
    /* Makes a lost connection usable again (one attempt); 0 when usable. */
    int (*reconnect)(struct db *db, struct err *e);
    /* Prepares sql; returns a zeroed derived statement whose n_params is set,
     * or NULL with e filled. db.c fills the other base members. */
    struct db_stmt *(*prepare)(struct db *db, const char *sql, struct err *e);
    /* Executes (state DBS_FRESH) or advances; 1 row, 0 done, -1 with e. */
    int (*step)(struct db_stmt *s, struct err *e);
    /* Forgets the result and the engine's bindings so the statement can run again. */
    void (*reset)(struct db_stmt *s);
    /* Frees the engine's side of a statement and the struct itself (not base members). */
    void (*finalize)(struct db_stmt *s);
    /* Column accessors for the current row; col is already range-checked. */
    int (*column_count)(struct db_stmt *s);
    bool (*col_null)(struct db_stmt *s, int col);
    const char *(*col_text)(struct db_stmt *s, int col);
    int64_t (*col_int64)(struct db_stmt *s, int col);
    const void *(*col_blob)(struct db_stmt *s, int col, size_t *n);
    /* Rows changed by the statement just stepped. */
    int64_t (*changes)(struct db_stmt *s);
};

struct db {
    const struct db_ops *ops;                      /* the backend */
    enum db_backend backend;                       /* which engine */
    bool in_tx;                                    /* a transaction is open */
    bool tx_read_only;                             /* the open transaction is read-only */
    bool tx_failed;                                /* a statement failed in the open transaction */
    bool broken;                                   /* the connection was lost */
    bool closing;                                  /* db_close is freeing everything */
    struct db_stmt *cache[DB_CACHE_BUCKETS];       /* statements by hash of their SQL */
    size_t n_stmts;                                /* statements held in cache[] */
    uint64_t tick;                                 /* counts db_prepare calls */
};

/* Backend constructors: open the connection described by what follows the
 * scheme (a file path for SQLite; a URL or key=value string for libpq).
 * Return 0 with *out set, or -1 with e filled. */
int db_sqlite_open(const char *path, struct db **out, struct err *e);
int db_pg_open(const char *conninfo, struct db **out, struct err *e);

/* Marks the connection lost: the transaction is gone with it. Backends call it. */
void db_mark_broken(struct db *db);

/* One migration: file is the asset name ("migrations/0002_children.sql"). */
struct db_migration {
    const char *file; /* asset name, for messages and schema_migrations.name */
    int version;      /* the number the file name starts with */
    const char *sql;  /* the file's text, with section markers */
    size_t len;       /* bytes in sql */
};

/* Applies the migrations in list (sorted by version, no duplicates) that are
 * not yet recorded, each in its own transaction. Returns 0, or -1 with e
 * naming the file (e->field) that failed; that one is rolled back. */
int db_migrate_list(struct db *db, const struct db_migration *list, size_t n, struct err *e);

/* Keeps the lines of a migration that apply to backend, per the `-- @sqlite`,
 * `-- @postgres` and `-- @all` markers. Returns a string the caller frees,
 * or NULL with e filled when a marker is unknown. */
char *db_migration_sql_for(const char *sql, size_t len, enum db_backend backend,
                           const char *file, struct err *e);

#endif
