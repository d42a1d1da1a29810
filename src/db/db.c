/*
 * db.c: the engine-independent half of db.h: URL dispatch, the statement
 * cache, bindings, transactions, the thread-local connection and embedded
 * migrations. The engines live in db_sqlite.c and db_pg.c.
 */
#include "db/db.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/text.h"
#include "core/time.h"
#include "core/xalloc.h"
#include "db/db_internal.h"
#include "web/assets.h"
#include "core/banned.h"

/* Key of the PostgreSQL advisory lock that serializes migrations ("SANAD"). */
#define MIGRATE_LOCK_KEY "357895480644"

int db_open(const char *url, struct db **out, struct err *e)
{
    *out = NULL;
    if (!url || !*url) {
        return err_set(e, ERR_INVALID, "invalid_url", "db", "database url is empty");
    }
    if (strncmp(url, "sqlite:", 7) == 0) {
        if (!url[7]) {
            return err_set(e, ERR_INVALID, "invalid_url", "db", "database url '%s' has no path",
                           url);
        }
        return db_sqlite_open(url + 7, out, e);
    }
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
        return db_pg_open(url, out, e);
    }
    if (strncmp(url, "postgres:", 9) == 0) {
        return db_pg_open(url + 9, out, e);
    }
    return err_set(e, ERR_INVALID, "invalid_url", "db",
                   "database url '%.64s' is neither 'sqlite:PATH' nor 'postgres://...'", url);
}

/* Frees a statement entirely: the engine's side and the base members. */
static void stmt_free(struct db_stmt *s)
{
    char *sql = s->sql;
    struct db_value *params = s->params;
    int n = s->n_params;
    s->db->ops->finalize(s);
    for (int i = 0; i < n; i++) {
        free(params[i].p);
    }
    free(params);
    free(sql);
}

void db_close(struct db *db)
{
    if (!db) {
        return;
    }
    if (db->in_tx) {
        db_rollback(db);
    }
    db->closing = true;
    for (size_t b = 0; b < DB_CACHE_BUCKETS; b++) {
        struct db_stmt *s = db->cache[b];
        while (s) {
            struct db_stmt *next = s->next;
            stmt_free(s);
            s = next;
        }
        db->cache[b] = NULL;
    }
    db->ops->close(db);
}

enum db_backend db_backend_of(const struct db *db)
{
    return db->backend;
}

void db_mark_broken(struct db *db)
{
    db->broken = true;
    db->in_tx = false;
    db->tx_read_only = false;
    db->tx_failed = false;
}

/* Makes a lost connection usable again, once; 0 when usable. */
static int ensure_connected(struct db *db, struct err *e)
{
    if (!db->broken) {
        return 0;
    }
    if (db->ops->reconnect(db, e) != 0) {
        return -1;
    }
    db->broken = false;
    return 0;
}

/* Starts a transaction; a connection found lost by BEGIN itself is
 * reconnected and BEGIN retried, once. */
int db_begin(struct db *db, bool read_only, struct err *e)
{
    if (db->in_tx) {
        return err_set(e, ERR_INTERNAL, "nested_transaction", "",
                       "a transaction is already open on this connection");
    }
    bool was_broken = db->broken;
    if (ensure_connected(db, e) != 0) {
        return -1;
    }
    const char *sql;
    if (db->backend == DB_POSTGRES) {
        sql = read_only ? "BEGIN READ ONLY" : "BEGIN";
    } else {
        sql = read_only ? "BEGIN; PRAGMA query_only=1" : "BEGIN IMMEDIATE";
    }
    int rc = db->ops->exec(db, sql, e);
    if (rc != 0 && db->broken && !was_broken) {
        /* The server went away while the connection sat idle: this is the
         * first time we hear of it, so reconnect once and try again. */
        if (ensure_connected(db, e) != 0) {
            return -1;
        }
        rc = db->ops->exec(db, sql, e);
    }
    if (rc != 0) {
        if (db->backend == DB_SQLITE && read_only) {
            db->ops->exec(db, "ROLLBACK; PRAGMA query_only=0", NULL);
        }
        if (db->backend == DB_POSTGRES && !db->broken) {
            db->ops->exec(db, "ROLLBACK", NULL);
        }
        return -1;
    }
    db->in_tx = true;
    db->tx_read_only = read_only;
    db->tx_failed = false;
    return 0;
}

/* Forgets the transaction and lifts SQLite's write refusal. */
static void end_transaction(struct db *db)
{
    bool was_ro = db->tx_read_only;
    db->in_tx = false;
    db->tx_read_only = false;
    db->tx_failed = false;
    if (was_ro && db->backend == DB_SQLITE) {
        db->ops->exec(db, "PRAGMA query_only=0", NULL);
    }
}

int db_commit(struct db *db, struct err *e)
{
    if (!db->in_tx) {
        if (db->broken) {
            return err_set(e, ERR_UNAVAILABLE, "database_unavailable", "",
                           "the database connection was lost; the transaction was not committed");
        }
        return err_set(e, ERR_INTERNAL, "no_transaction", "", "no transaction is open to commit");
    }
    if (db->tx_failed) {
        db_rollback(db);
        return err_set(e, ERR_INTERNAL, "transaction_aborted", "",
                       "a statement failed in this transaction; it was rolled back");
    }
    if (db->ops->exec(db, "COMMIT", e) != 0) {
        db_rollback(db);
        return -1;
    }
    end_transaction(db);
    return 0;
}

void db_rollback(struct db *db)
{
    if (!db->in_tx) {
        return;
    }
    if (!db->broken) {
        db->ops->exec(db, "ROLLBACK", NULL);
    }
    end_transaction(db);
}

bool db_in_transaction(const struct db *db)
{
    return db->in_tx;
}

/* Refuses statements in a transaction that already failed, as PostgreSQL
 * does, so that both engines behave alike. 0 when the statement may run. */
static int check_tx_usable(struct db *db, struct err *e)
{
    if (db->in_tx && db->tx_failed) {
        return err_set(e, ERR_INTERNAL, "transaction_aborted", "",
                       "a statement already failed in this transaction; roll it back");
    }
    if (!db->in_tx && ensure_connected(db, e) != 0) {
        return -1;
    }
    if (db->broken) {
        return err_set(e, ERR_UNAVAILABLE, "database_unavailable", "",
                       "the database connection was lost");
    }
    return 0;
}

int db_exec(struct db *db, const char *sql, struct err *e)
{
    if (check_tx_usable(db, e) != 0) {
        return -1;
    }
    if (db->ops->exec(db, sql, e) != 0) {
        if (db->in_tx) {
            db->tx_failed = true;
        }
        return -1;
    }
    return 0;
}

/* FNV-1a of a NUL-terminated string. */
static uint64_t hash_sql(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* Frees the least recently used idle statement, if any (a scan, but only
 * when a full cache misses). */
static void evict_one(struct db *db)
{
    struct db_stmt **victim = NULL;
    for (size_t b = 0; b < DB_CACHE_BUCKETS; b++) {
        for (struct db_stmt **pp = &db->cache[b]; *pp; pp = &(*pp)->next) {
            if (!(*pp)->busy && (!victim || (*pp)->last_used < (*victim)->last_used)) {
                victim = pp;
            }
        }
    }
    if (victim) {
        struct db_stmt *s = *victim;
        *victim = s->next;
        db->n_stmts--;
        stmt_free(s);
    }
}

struct db_stmt *db_prepare(struct db *db, const char *sql, struct err *e)
{
    if (!sql || text_blank(sql)) {
        err_set(e, ERR_INTERNAL, "invalid_sql", "", "sql text is empty");
        return NULL;
    }
    if (check_tx_usable(db, e) != 0) {
        return NULL;
    }
    uint64_t h = hash_sql(sql);
    size_t b = (size_t)(h & (DB_CACHE_BUCKETS - 1));
    db->tick++;
    for (struct db_stmt *s = db->cache[b]; s; s = s->next) {
        if (!s->busy && s->hash == h && (s->sql == sql || strcmp(s->sql, sql) == 0)) {
            s->busy = true;
            s->last_used = db->tick;
            return s;
        }
    }
    if (db->n_stmts >= DB_CACHE_MAX) {
        evict_one(db);
    }
    struct db_stmt *s = db->ops->prepare(db, sql, e);
    if (!s) {
        if (db->in_tx) {
            db->tx_failed = true;
        }
        return NULL;
    }
    s->db = db;
    s->sql = xstrdup(sql);
    s->hash = h;
    s->busy = true;
    s->last_used = db->tick;
    s->state = DBS_FRESH;
    s->params = s->n_params ? xcalloc((size_t)s->n_params, sizeof(*s->params)) : NULL;
    s->next = db->cache[b];
    db->cache[b] = s;
    db->n_stmts++;
    return s;
}

/* The slot for parameter i, or NULL after recording why i is refused. */
static struct db_value *param_slot(struct db_stmt *s, int i)
{
    if (i < 1 || i > s->n_params) {
        if (!s->bad_param) {
            s->bad_param = i < 1 ? -1 : i;
            snprintf(s->bad_reason, sizeof(s->bad_reason), "the statement has %d parameters",
                     s->n_params);
        }
        return NULL;
    }
    return &s->params[i - 1];
}

/* Stores n bytes (plus a NUL) in v, reusing its memory. */
static void value_set_bytes(struct db_value *v, enum db_value_type type, const void *p, size_t n)
{
    if (v->cap < n + 1) {
        free(v->p);
        v->cap = n + 1 < 64 ? 64 : n + 1;
        v->p = xmalloc(v->cap);
    }
    if (n) {
        memcpy(v->p, p, n);
    }
    v->p[n] = '\0';
    v->n = n;
    v->type = type;
}

/* True when s[0..n) is well-formed UTF-8 without NUL bytes. Control
 * characters are allowed (utf8_valid refuses them, so it is called on the
 * runs between them: a control byte never sits inside a multi-byte sequence). */
static bool text_storable(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || ((unsigned char)s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' &&
                       s[i] != '\r')) {
            if (i < n && s[i] == '\0') {
                return false;
            }
            if (i > start && !utf8_valid(s + start, i - start)) {
                return false;
            }
            start = i + 1;
        }
    }
    return true;
}

void db_bind_textn(struct db_stmt *s, int i, const char *v, size_t n)
{
    struct db_value *slot = param_slot(s, i);
    if (!slot) {
        return;
    }
    if (!v) {
        slot->type = DBV_NULL;
        return;
    }
    if (!text_storable(v, n)) {
        slot->type = DBV_NULL;
        if (!s->bad_param) {
            s->bad_param = i;
            snprintf(s->bad_reason, sizeof(s->bad_reason),
                     "text is not valid UTF-8 or holds a NUL byte");
        }
        return;
    }
    value_set_bytes(slot, DBV_TEXT, v, n);
}

void db_bind_text(struct db_stmt *s, int i, const char *v)
{
    db_bind_textn(s, i, v, v ? strlen(v) : 0);
}

void db_bind_int64(struct db_stmt *s, int i, int64_t v)
{
    struct db_value *slot = param_slot(s, i);
    if (slot) {
        slot->type = DBV_INT;
        slot->i = v;
    }
}

void db_bind_null(struct db_stmt *s, int i)
{
    struct db_value *slot = param_slot(s, i);
    if (slot) {
        slot->type = DBV_NULL;
    }
}

void db_bind_blob(struct db_stmt *s, int i, const void *p, size_t n)
{
    struct db_value *slot = param_slot(s, i);
    if (!slot) {
        return;
    }
    if (!p && n) {
        slot->type = DBV_NULL;
        return;
    }
    value_set_bytes(slot, DBV_BLOB, p, n);
}

int db_step(struct db_stmt *s, struct err *e)
{
    struct db *db = s->db;
    switch (s->state) {
    case DBS_DONE:
        return 0;
    case DBS_FAILED:
        return err_set(e, ERR_INTERNAL, "statement_failed", "",
                       "the statement already failed; call db_done");
    case DBS_ROW:
        break;
    case DBS_FRESH:
        if (s->bad_param) {
            s->state = DBS_FAILED;
            if (s->bad_param < 0) {
                return err_set(e, ERR_INTERNAL, "invalid_parameter", "",
                               "parameter numbers start at 1 (%s)", s->bad_reason);
            }
            return err_set(e, ERR_INVALID, "invalid_parameter", "",
                           "parameter $%d refused: %s", s->bad_param, s->bad_reason);
        }
        for (int i = 0; i < s->n_params; i++) {
            if (s->params[i].type == DBV_UNSET) {
                s->state = DBS_FAILED;
                return err_set(e, ERR_INTERNAL, "invalid_parameter", "",
                               "parameter $%d is not bound", i + 1);
            }
        }
        if (check_tx_usable(db, e) != 0) {
            s->state = DBS_FAILED;
            return -1;
        }
        break;
    }
    int rc = db->ops->step(s, e);
    if (rc < 0) {
        s->state = DBS_FAILED;
        if (db->in_tx) {
            db->tx_failed = true;
        }
        return -1;
    }
    s->state = rc ? DBS_ROW : DBS_DONE;
    return rc;
}

int db_column_count(struct db_stmt *s)
{
    return s->db->ops->column_count(s);
}

/* True when a row is current and col names one of its columns. */
static bool col_ok(struct db_stmt *s, int col)
{
    return s->state == DBS_ROW && col >= 0 && col < s->db->ops->column_count(s);
}

bool db_col_null(struct db_stmt *s, int col)
{
    return !col_ok(s, col) || s->db->ops->col_null(s, col);
}

const char *db_col_text(struct db_stmt *s, int col)
{
    if (!col_ok(s, col) || s->db->ops->col_null(s, col)) {
        return NULL;
    }
    return s->db->ops->col_text(s, col);
}

int64_t db_col_int64(struct db_stmt *s, int col)
{
    if (!col_ok(s, col) || s->db->ops->col_null(s, col)) {
        return 0;
    }
    return s->db->ops->col_int64(s, col);
}

const void *db_col_blob(struct db_stmt *s, int col, size_t *n)
{
    *n = 0;
    if (!col_ok(s, col) || s->db->ops->col_null(s, col)) {
        return NULL;
    }
    return s->db->ops->col_blob(s, col, n);
}

int64_t db_changes(struct db_stmt *s)
{
    if (s->state != DBS_ROW && s->state != DBS_DONE) {
        return 0;
    }
    return s->db->ops->changes(s);
}

void db_done(struct db_stmt *s)
{
    if (!s) {
        return;
    }
    struct db *db = s->db;
    db->ops->reset(s);
    for (int i = 0; i < s->n_params; i++) {
        s->params[i].type = DBV_UNSET;
        if (s->params[i].cap > 4096) {
            free(s->params[i].p);
            s->params[i].p = NULL;
            s->params[i].cap = 0;
        }
    }
    s->bad_param = 0;
    s->bad_reason[0] = '\0';
    s->state = DBS_FRESH;
    s->busy = false;
}

/* ---- migrations ---- */

char *db_migration_sql_for(const char *sql, size_t len, enum db_backend backend,
                           const char *file, struct err *e)
{
    struct buf out = BUF_INIT;
    bool keep = true;
    size_t line_no = 0;
    const char *p = sql, *end = sql + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        line_no++;
        const char *q = p;
        while (q < eol && (*q == ' ' || *q == '\t')) {
            q++;
        }
        if (eol - q >= 4 && memcmp(q, "-- @", 4) == 0) {
            const char *w = q + 4, *we = w;
            while (we < eol && *we != ' ' && *we != '\t' && *we != '\r') {
                we++;
            }
            size_t wn = (size_t)(we - w);
            if (wn == 6 && memcmp(w, "sqlite", 6) == 0) {
                keep = backend == DB_SQLITE;
            } else if (wn == 8 && memcmp(w, "postgres", 8) == 0) {
                keep = backend == DB_POSTGRES;
            } else if (wn == 3 && memcmp(w, "all", 3) == 0) {
                keep = true;
            } else {
                buf_release(&out);
                err_set(e, ERR_INTERNAL, "migration_failed", file,
                        "migration '%s' line %zu: unknown section marker '-- @%.*s'", file,
                        line_no, (int)(wn > 32 ? 32 : wn), w);
                return NULL;
            }
            buf_addch(&out, '\n');
        } else if (keep) {
            buf_add(&out, p, (size_t)(eol - p));
            buf_addch(&out, '\n');
        } else {
            buf_addch(&out, '\n'); /* keeps line numbers in engine messages */
        }
        p = nl ? nl + 1 : end;
    }
    return buf_detach(&out, NULL);
}

/* Takes the migration lock (PostgreSQL) inside the open transaction, and
 * creates schema_migrations when missing. */
static int migrate_lock(struct db *db, struct err *e)
{
    if (db->backend == DB_POSTGRES &&
        db_exec(db, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")", e) != 0) {
        return -1;
    }
    return db_exec(db,
                   "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
                   e);
}

/* Sets *applied to whether version is recorded. 0 or -1. */
static int migration_applied(struct db *db, int version, bool *applied, struct err *e)
{
    struct db_stmt *s = db_prepare(db, "SELECT 1 FROM schema_migrations WHERE version = $1", e);
    if (!s) {
        return -1;
    }
    db_bind_int64(s, 1, version);
    int rc = db_step(s, e);
    db_done(s);
    *applied = rc == 1;
    return rc < 0 ? -1 : 0;
}

/* Runs one migration in its own transaction, unless already recorded. */
static int migrate_one(struct db *db, const struct db_migration *m, struct err *e)
{
    char *sql = db_migration_sql_for(m->sql, m->len, db->backend, m->file, e);
    if (!sql) {
        return -1;
    }
    int rc = -1;
    bool applied = false;
    if (db_begin(db, false, e) != 0 || migrate_lock(db, e) != 0 ||
        migration_applied(db, m->version, &applied, e) != 0) {
        goto out;
    }
    if (applied) {
        db_rollback(db);
        rc = 0;
        goto out;
    }
    if (!text_blank(sql) && db_exec(db, sql, e) != 0) {
        goto out;
    }
    struct db_stmt *s = db_prepare(
        db, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", e);
    if (!s) {
        goto out;
    }
    char now[32];
    time_format_iso(time_now_ms(), now, sizeof(now));
    const char *base = strrchr(m->file, '/');
    db_bind_int64(s, 1, m->version);
    db_bind_text(s, 2, base ? base + 1 : m->file);
    db_bind_text(s, 3, now);
    int step = db_step(s, e);
    db_done(s);
    if (step < 0 || db_commit(db, e) != 0) {
        goto out;
    }
    rc = 0;
out:
    db_rollback(db);
    free(sql);
    return rc;
}

/* Rewrites e as the failure of migration file, keeping the engine's message. */
static int migration_error(struct err *e, const char *file)
{
    if (!e) {
        return -1;
    }
    char inner[sizeof(e->msg)];
    snprintf(inner, sizeof(inner), "%s", e->msg);
    enum err_kind kind = e->kind == ERR_UNAVAILABLE ? ERR_UNAVAILABLE : ERR_INTERNAL;
    if (strncmp(inner, "migration '", 11) == 0) {
        return err_set(e, kind, "migration_failed", file, "%s", inner);
    }
    return err_set(e, kind, "migration_failed", file, "migration '%s' failed: %s", file, inner);
}

int db_migrate_list(struct db *db, const struct db_migration *list, size_t n, struct err *e)
{
    if (db->in_tx) {
        return err_set(e, ERR_INTERNAL, "nested_transaction", "",
                       "migrations cannot run inside an open transaction");
    }
    for (size_t i = 1; i < n; i++) {
        if (list[i].version <= list[i - 1].version) {
            return err_set(e, ERR_INTERNAL, "migration_failed", list[i].file,
                           "migration '%s' has the same or a lower version than '%s'",
                           list[i].file, list[i - 1].file);
        }
    }
    if (db_begin(db, false, e) != 0 || migrate_lock(db, e) != 0 || db_commit(db, e) != 0) {
        db_rollback(db);
        return -1;
    }
    int current = db_schema_version(db, e);
    if (current < 0) {
        return -1;
    }
    int known = n ? list[n - 1].version : 0;
    if (current > known) {
        return err_set(e, ERR_INTERNAL, "schema_too_new", "",
                       "the database is at schema version %d but this program knows only up to "
                       "%d; use a newer sanad",
                       current, known);
    }
    for (size_t i = 0; i < n; i++) {
        if (list[i].version <= current) {
            bool applied = false;
            if (migration_applied(db, list[i].version, &applied, e) != 0) {
                return -1;
            }
            if (applied) {
                continue;
            }
        }
        if (migrate_one(db, &list[i], e) != 0) {
            return migration_error(e, list[i].file);
        }
    }
    return 0;
}

/* Parses "migrations/NNNN_name.sql" into its version; -1 when malformed. */
static int migration_version(const char *name)
{
    const char *p = name + strlen("migrations/");
    long v = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 9) {
        v = v * 10 + (*p - '0');
        p++;
        digits++;
    }
    size_t len = strlen(p);
    if (digits == 0 || *p != '_' || len < 6 || strcmp(p + len - 4, ".sql") != 0 || v == 0) {
        return -1;
    }
    return (int)v;
}

int db_migrate(struct db *db, struct err *e)
{
    size_t n = 0, cap = 16;
    struct db_migration *list = xcalloc(cap, sizeof(*list));
    for (size_t i = 0; i < n_assets; i++) {
        const char *name = assets[i].name;
        if (strncmp(name, "migrations/", 11) != 0) {
            continue;
        }
        int v = migration_version(name);
        if (v < 0) {
            free(list);
            return err_set(e, ERR_INTERNAL, "migration_failed", name,
                           "migration file '%s' is not named NNNN_name.sql", name);
        }
        if (n == cap) {
            cap *= 2;
            list = xrealloc(list, xmul(cap, sizeof(*list)));
        }
        list[n].file = name;
        list[n].version = v;
        list[n].sql = (const char *)assets[i].data;
        list[n].len = assets[i].len;
        n++;
    }
    /* The assets are sorted by name; equal-width numbers keep that the version order, and
     * db_migrate_list refuses anything out of order or duplicated. */
    int rc = db_migrate_list(db, list, n, e);
    free(list);
    return rc;
}

int db_schema_version(struct db *db, struct err *e)
{
    const char *exists_sql = db->backend == DB_POSTGRES
                                 ? "SELECT 1 WHERE to_regclass('schema_migrations') IS NOT NULL"
                                 : "SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                   "name = 'schema_migrations'";
    struct db_stmt *s = db_prepare(db, exists_sql, e);
    if (!s) {
        return -1;
    }
    int rc = db_step(s, e);
    db_done(s);
    if (rc <= 0) {
        return rc;
    }
    s = db_prepare(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", e);
    if (!s) {
        return -1;
    }
    rc = db_step(s, e);
    int64_t v = rc == 1 ? db_col_int64(s, 0) : 0;
    db_done(s);
    return rc < 0 ? -1 : (int)v;
}

/* ---- the thread-local connection ---- */

static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t thread_key;
static pthread_mutex_t url_lock = PTHREAD_MUTEX_INITIALIZER;
static char *thread_url; /* set by db_set_url, owned here */

/* pthread key destructor: closes an exiting thread's connection. */
static void thread_conn_free(void *p)
{
    db_close(p);
}

/* Creates the key once per process. */
static void thread_key_make(void)
{
    if (pthread_key_create(&thread_key, thread_conn_free) != 0) {
        abort();
    }
}

void db_set_url(const char *url)
{
    pthread_mutex_lock(&url_lock);
    free(thread_url);
    thread_url = url ? xstrdup(url) : NULL;
    pthread_mutex_unlock(&url_lock);
}

struct db *db_thread(struct err *e)
{
    pthread_once(&thread_key_once, thread_key_make);
    struct db *db = pthread_getspecific(thread_key);
    if (db) {
        if (!db->in_tx && ensure_connected(db, e) != 0) {
            return NULL;
        }
        return db;
    }
    pthread_mutex_lock(&url_lock);
    char *url = thread_url ? xstrdup(thread_url) : NULL;
    pthread_mutex_unlock(&url_lock);
    if (!url) {
        err_set(e, ERR_INTERNAL, "no_database_url", "db", "db_set_url was not called");
        return NULL;
    }
    int rc = db_open(url, &db, e);
    free(url);
    if (rc != 0) {
        return NULL;
    }
    pthread_setspecific(thread_key, db);
    return db;
}

void db_thread_close(void)
{
    pthread_once(&thread_key_once, thread_key_make);
    struct db *db = pthread_getspecific(thread_key);
    if (db) {
        pthread_setspecific(thread_key, NULL);
        db_close(db);
    }
}
