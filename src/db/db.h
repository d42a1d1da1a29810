/*
 * db.h: the one storage interface. Two backends, SQLite (embedded, default)
 * and PostgreSQL (libpq), chosen by URL: "sqlite:PATH" or "postgres://..."
 * (also "postgresql://" and libpq key=value strings after "postgres:").
 *
 * SQL is written once, in the subset both engines share, with PostgreSQL's
 * numbered placeholders $1, $2, ... Values only ever travel as bound
 * parameters; nothing user-supplied is formatted into SQL text.
 *
 * Connections are not thread-safe: each worker thread uses its own, from
 * db_thread(). Statements are prepared once per connection and cached.
 */
#ifndef SANAD_DB_DB_H
#define SANAD_DB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct db;      /* one connection */
struct db_stmt; /* a prepared statement with its bindings and current row */

enum db_backend { DB_SQLITE, DB_POSTGRES };

/* Opens a connection for url; SQLite gets WAL, synchronous=FULL,
 * foreign_keys=ON and a busy timeout. Returns 0, or -1 with e filled
 * (ERR_UNAVAILABLE when the server cannot be reached). *out is owned by the
 * caller and freed with db_close. */
int db_open(const char *url, struct db **out, struct err *e);
/* Closes the connection and frees its cached statements. NULL is a no-op. */
void db_close(struct db *db);
/* Which engine this connection talks to. */
enum db_backend db_backend_of(const struct db *db);

/* Starts a transaction. read_only gives PostgreSQL `BEGIN READ ONLY` and SQLite
 * a deferred transaction with writes refused; a write transaction on SQLite is
 * `BEGIN IMMEDIATE`. Nested calls are refused (ERR_INTERNAL). */
int db_begin(struct db *db, bool read_only, struct err *e);
/* Commits; on failure the transaction is rolled back and -1 returned. */
int db_commit(struct db *db, struct err *e);
/* Rolls back the open transaction, if any. Never fails visibly. */
void db_rollback(struct db *db);
/* True while a transaction is open. */
bool db_in_transaction(const struct db *db);

/* Runs SQL text with no parameters and no rows (DDL, several statements
 * separated by ';' allowed). Returns 0 or -1. */
int db_exec(struct db *db, const char *sql, struct err *e);

/* Returns the prepared statement for sql, preparing it on first use on this
 * connection. The statement belongs to the connection: call db_done when
 * finished with it. Returns NULL with e filled on a syntax error. */
struct db_stmt *db_prepare(struct db *db, const char *sql, struct err *e);
/* Binds parameter i (1-based, $i in the SQL). Text and blobs are copied.
 * db_bind_text with NULL binds SQL NULL. */
void db_bind_text(struct db_stmt *s, int i, const char *v);
void db_bind_textn(struct db_stmt *s, int i, const char *v, size_t n);
void db_bind_int64(struct db_stmt *s, int i, int64_t v);
void db_bind_null(struct db_stmt *s, int i);
void db_bind_blob(struct db_stmt *s, int i, const void *p, size_t n);
/* Executes on the first call, then moves to the next row. Returns 1 when a
 * row is available, 0 when there are no (more) rows, -1 on failure with e
 * filled: ERR_CONFLICT/"unique_violation" for a unique or primary key clash,
 * ERR_CONFLICT/"foreign_key_violation", ERR_UNAVAILABLE when the connection
 * was lost (the connection will try to reconnect on the next db_begin). */
int db_step(struct db_stmt *s, struct err *e);
/* Number of columns in the result. */
int db_column_count(struct db_stmt *s);
/* Column accessors for the current row, columns 0-based. Pointers stay valid
 * until the next db_step or db_done. */
bool db_col_null(struct db_stmt *s, int col);
const char *db_col_text(struct db_stmt *s, int col);   /* NULL for SQL NULL */
int64_t db_col_int64(struct db_stmt *s, int col);       /* 0 for SQL NULL */
const void *db_col_blob(struct db_stmt *s, int col, size_t *n);
/* Rows changed by the INSERT, UPDATE or DELETE just stepped. */
int64_t db_changes(struct db_stmt *s);
/* Resets the statement and clears its bindings, returning it to the cache. */
void db_done(struct db_stmt *s);

/* Applies every embedded migration (assets/migrations/NNNN_name.sql, in name
 * order) not yet recorded in schema_migrations, each in its own transaction.
 * A file may hold `-- @sqlite` and `-- @postgres` lines: what follows such a
 * line, up to the next marker or `-- @all`, runs only on that engine.
 * Returns 0, or -1 naming the migration that failed. */
int db_migrate(struct db *db, struct err *e);
/* The highest migration version applied, 0 for a new database, -1 on error. */
int db_schema_version(struct db *db, struct err *e);

/* Sets the URL that db_thread connects with. Call once at start-up. */
void db_set_url(const char *url);
/* The calling thread's connection, opened on first use and reconnected after
 * a loss; NULL with e filled (ERR_UNAVAILABLE) when the database is down.
 * Closed automatically when the thread exits. */
struct db *db_thread(struct err *e);
/* Closes the calling thread's connection now (tests, shutdown). */
void db_thread_close(void);

#endif
