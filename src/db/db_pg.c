/*
 * db_pg.c: the PostgreSQL backend over libpq. Statements are prepared on the
 * server once per connection (names s1, s2, ...) and described once, so the
 * parameter count and types are known before the first run. Parameters go
 * as text, blobs as binary; results come back whole, in text format, and
 * db_step walks the rows of the PGresult.
 *
 * A lost connection marks the struct db broken; the next db_begin (or
 * db_prepare outside a transaction) calls PQreset once. Prepared statements
 * die with the server session, so each statement remembers the connection
 * generation it was prepared in and is prepared again when that changed.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "db/db_internal.h"
#include "core/banned.h"

/* Type oids from PostgreSQL's catalog (pg_type.dat); stable across versions. */
#define PG_BOOLOID 16
#define PG_BYTEAOID 17

struct pg_db {
    struct db base;      /* must be first */
    PGconn *conn;        /* the libpq connection */
    unsigned gen;        /* bumped on every reconnect; older prepared names are gone */
    unsigned next_name;  /* number for the next prepared statement's name */
};

struct pg_stmt {
    struct db_stmt base;   /* must be first */
    char name[24];         /* server-side name, "s<N>" */
    unsigned gen;          /* pg_db.gen when prepared */
    int n_fields;          /* result columns, from the description */
    Oid *param_types;      /* n_params types the server inferred */
    const char **values;   /* n_params value pointers for PQexecPrepared */
    int *lengths;          /* n_params lengths (binary parameters only) */
    int *formats;          /* n_params formats: 0 text, 1 binary */
    PGresult *res;         /* the result of the current run, NULL before */
    int row;               /* current row in res, -1 before the first */
    unsigned char **dec;   /* bytea values decoded for the current row, freed on step */
    size_t n_dec;          /* entries in dec */
    size_t cap_dec;        /* slots allocated in dec */
};

/* Copies the first line of libpq's connection message into out. */
static void conn_message(PGconn *conn, char *out, size_t n)
{
    const char *m = conn ? PQerrorMessage(conn) : "out of memory";
    size_t len = strcspn(m, "\n");
    snprintf(out, n, "%.*s", (int)len, m);
    if (!*out) {
        snprintf(out, n, "no message");
    }
}

/* Fills e for a failed result (res may be NULL), marking a lost connection. */
static int pg_error(struct pg_db *d, PGresult *res, struct err *e)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char msg[200];
    if (primary) {
        snprintf(msg, sizeof(msg), "%s", primary);
    } else {
        conn_message(d->conn, msg, sizeof(msg));
    }
    if (PQstatus(d->conn) != CONNECTION_OK ||
        (state && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0))) {
        db_mark_broken(&d->base);
        return err_set(e, ERR_UNAVAILABLE, "database_unavailable", "",
                       "the database connection was lost: %s", msg);
    }
    if (!state) {
        return err_set(e, ERR_INTERNAL, "database_error", "", "%s", msg);
    }
    if (strcmp(state, "23505") == 0) {
        return err_set(e, ERR_CONFLICT, "unique_violation", "", "%s", msg);
    }
    if (strcmp(state, "23503") == 0) {
        return err_set(e, ERR_CONFLICT, "foreign_key_violation", "", "%s", msg);
    }
    if (strcmp(state, "23502") == 0) {
        return err_set(e, ERR_INVALID, "not_null_violation", "", "%s", msg);
    }
    if (strcmp(state, "23514") == 0) {
        return err_set(e, ERR_INVALID, "check_violation", "", "%s", msg);
    }
    if (strncmp(state, "23", 2) == 0) {
        return err_set(e, ERR_INVALID, "constraint_violation", "", "%s", msg);
    }
    if (strncmp(state, "22", 2) == 0) {
        return err_set(e, ERR_INVALID, "invalid_value", "", "%s", msg);
    }
    if (strcmp(state, "25006") == 0) {
        return err_set(e, ERR_INTERNAL, "read_only_transaction", "",
                       "a write was attempted in a read-only transaction: %s", msg);
    }
    if (strcmp(state, "25P02") == 0) {
        return err_set(e, ERR_INTERNAL, "transaction_aborted", "", "%s", msg);
    }
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
        strcmp(state, "55P03") == 0) {
        return err_set(e, ERR_UNAVAILABLE, "database_busy", "", "the database is busy: %s", msg);
    }
    if (strncmp(state, "53", 2) == 0) {
        return err_set(e, ERR_UNAVAILABLE, "database_unavailable", "", "%s", msg);
    }
    if (strncmp(state, "42", 2) == 0) {
        return err_set(e, ERR_INTERNAL, "invalid_sql", "", "%s", msg);
    }
    return err_set(e, ERR_INTERNAL, "database_error", "", "%s (sqlstate %s)", msg, state);
}

/* Notices ("table already exists, skipping") are expected and not shown. */
static void pg_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Session settings every connection needs; run after connecting and after reset. */
static int pg_session_setup(struct pg_db *d, struct err *e)
{
    PQsetNoticeProcessor(d->conn, pg_notice, NULL);
    PGresult *res = PQexec(d->conn, "SET TIME ZONE 'UTC'");
    int rc = 0;
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = pg_error(d, res, e);
    }
    PQclear(res);
    return rc;
}

static void pg_close(struct db *db)
{
    struct pg_db *d = (struct pg_db *)db;
    PQfinish(d->conn);
    free(d);
}

static int pg_exec(struct db *db, const char *sql, struct err *e)
{
    struct pg_db *d = (struct pg_db *)db;
    PGresult *res = PQexec(d->conn, sql);
    int rc = 0;
    switch (PQresultStatus(res)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY:
        /* COMMIT of a transaction that had failed answers ROLLBACK, not an error. */
        if (strcmp(sql, "COMMIT") == 0 && strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
            rc = err_set(e, ERR_INTERNAL, "transaction_aborted", "",
                         "the transaction had failed and was rolled back");
        }
        break;
    default:
        rc = pg_error(d, res, e);
        break;
    }
    PQclear(res);
    return rc;
}

static int pg_reconnect(struct db *db, struct err *e)
{
    struct pg_db *d = (struct pg_db *)db;
    PQreset(d->conn);
    if (PQstatus(d->conn) != CONNECTION_OK) {
        char msg[200];
        conn_message(d->conn, msg, sizeof(msg));
        return err_set(e, ERR_UNAVAILABLE, "database_unavailable", "",
                       "could not reconnect to the database: %s", msg);
    }
    d->gen++;
    return pg_session_setup(d, e);
}

/* Prepares and describes s->base.sql on the server under a new name. */
static int pg_prepare_on_server(struct pg_db *d, struct pg_stmt *s, const char *sql,
                                struct err *e)
{
    snprintf(s->name, sizeof(s->name), "s%u", ++d->next_name);
    PGresult *res = PQprepare(d->conn, s->name, sql, 0, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        pg_error(d, res, e);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    res = PQdescribePrepared(d->conn, s->name);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        pg_error(d, res, e);
        PQclear(res);
        return -1;
    }
    int n = PQnparams(res);
    if (n > DB_MAX_PARAMS) {
        PQclear(res);
        return err_set(e, ERR_INTERNAL, "invalid_sql", "", "too many parameters (%d)", n);
    }
    if (s->param_types && n != s->base.n_params) {
        PQclear(res);
        return err_set(e, ERR_INTERNAL, "invalid_sql", "",
                       "the statement changed its parameters after a reconnect");
    }
    if (!s->param_types && n) {
        s->param_types = xcalloc((size_t)n, sizeof(*s->param_types));
        s->values = xcalloc((size_t)n, sizeof(*s->values));
        s->lengths = xcalloc((size_t)n, sizeof(*s->lengths));
        s->formats = xcalloc((size_t)n, sizeof(*s->formats));
    }
    for (int i = 0; i < n; i++) {
        s->param_types[i] = PQparamtype(res, i);
    }
    s->base.n_params = n;
    s->n_fields = PQnfields(res);
    s->gen = d->gen;
    PQclear(res);
    return 0;
}

static struct db_stmt *pg_prepare(struct db *db, const char *sql, struct err *e)
{
    struct pg_db *d = (struct pg_db *)db;
    struct pg_stmt *s = xcalloc(1, sizeof(*s));
    s->row = -1;
    if (pg_prepare_on_server(d, s, sql, e) != 0) {
        free(s->param_types);
        free(s->values);
        free(s->lengths);
        free(s->formats);
        free(s);
        return NULL;
    }
    return &s->base;
}

/* Frees the bytea values decoded for the current row. */
static void free_decoded(struct pg_stmt *s)
{
    for (size_t i = 0; i < s->n_dec; i++) {
        PQfreemem(s->dec[i]);
    }
    s->n_dec = 0;
}

/* Runs the prepared statement with its bound values; 0 or -1. */
static int pg_run(struct pg_db *d, struct pg_stmt *s, struct err *e)
{
    if (s->gen != d->gen && pg_prepare_on_server(d, s, s->base.sql, e) != 0) {
        return -1;
    }
    for (int i = 0; i < s->base.n_params; i++) {
        struct db_value *v = &s->base.params[i];
        s->formats[i] = 0;
        s->lengths[i] = 0;
        switch (v->type) {
        case DBV_INT:
            snprintf(v->num, sizeof(v->num), "%lld", (long long)v->i);
            s->values[i] = v->num;
            break;
        case DBV_TEXT:
            s->values[i] = v->p;
            break;
        case DBV_BLOB:
            if (s->param_types[i] != PG_BYTEAOID) {
                return err_set(e, ERR_INTERNAL, "invalid_parameter", "",
                               "parameter $%d is bound as a blob but is not a BYTEA value in "
                               "the sql (type oid %u)",
                               i + 1, (unsigned)s->param_types[i]);
            }
            if (v->n > 0x7fffffff) {
                return err_set(e, ERR_LIMIT, "too_large", "", "parameter $%d is over 2 GiB",
                               i + 1);
            }
            s->values[i] = v->p;
            s->lengths[i] = (int)v->n;
            s->formats[i] = 1;
            break;
        case DBV_NULL:
        case DBV_UNSET:
            s->values[i] = NULL;
            break;
        }
    }
    PGresult *res = PQexecPrepared(d->conn, s->name, s->base.n_params, s->values, s->lengths,
                                   s->formats, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        pg_error(d, res, e);
        PQclear(res);
        return -1;
    }
    s->res = res;
    s->row = -1;
    return 0;
}

static int pg_step(struct db_stmt *base, struct err *e)
{
    struct pg_stmt *s = (struct pg_stmt *)base;
    struct pg_db *d = (struct pg_db *)base->db;
    free_decoded(s);
    if (base->state == DBS_FRESH) {
        PQclear(s->res);
        s->res = NULL;
        if (pg_run(d, s, e) != 0) {
            return -1;
        }
    }
    if (!s->res) {
        return 0;
    }
    if (s->row + 1 < PQntuples(s->res)) {
        s->row++;
        return 1;
    }
    return 0;
}

static void pg_reset(struct db_stmt *base)
{
    struct pg_stmt *s = (struct pg_stmt *)base;
    free_decoded(s);
    PQclear(s->res);
    s->res = NULL;
    s->row = -1;
}

static void pg_finalize(struct db_stmt *base)
{
    struct pg_stmt *s = (struct pg_stmt *)base;
    struct pg_db *d = (struct pg_db *)base->db;
    pg_reset(base);
    /* A statement dropped from a full cache is closed on the server too; at
     * db_close the server drops them all with the session. */
    if (!d->base.closing && s->gen == d->gen && PQstatus(d->conn) == CONNECTION_OK) {
        char sql[40];
        snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
        PQclear(PQexec(d->conn, sql));
    }
    free(s->dec);
    free(s->param_types);
    free(s->values);
    free(s->lengths);
    free(s->formats);
    free(s);
}

static int pg_column_count(struct db_stmt *base)
{
    return ((struct pg_stmt *)base)->n_fields;
}

/* True when the current row exists in the result (it may not after a reconnect). */
static bool have_row(struct pg_stmt *s, int col)
{
    return s->res && s->row >= 0 && s->row < PQntuples(s->res) && col < PQnfields(s->res);
}

static bool pg_col_null(struct db_stmt *base, int col)
{
    struct pg_stmt *s = (struct pg_stmt *)base;
    return !have_row(s, col) || PQgetisnull(s->res, s->row, col);
}

static const char *pg_col_text(struct db_stmt *base, int col)
{
    struct pg_stmt *s = (struct pg_stmt *)base;
    return PQgetvalue(s->res, s->row, col);
}

static int64_t pg_col_int64(struct db_stmt *base, int col)
{
    struct pg_stmt *s = (struct pg_stmt *)base;
    const char *v = PQgetvalue(s->res, s->row, col);
    if (PQftype(s->res, col) == PG_BOOLOID) {
        return v[0] == 't';
    }
    return strtoll(v, NULL, 10);
}

static const void *pg_col_blob(struct db_stmt *base, int col, size_t *n)
{
    struct pg_stmt *s = (struct pg_stmt *)base;
    const char *v = PQgetvalue(s->res, s->row, col);
    if (PQftype(s->res, col) != PG_BYTEAOID) {
        *n = (size_t)PQgetlength(s->res, s->row, col);
        return v;
    }
    size_t len = 0;
    unsigned char *p = PQunescapeBytea((const unsigned char *)v, &len);
    if (!p) {
        fprintf(stderr, "sanad: out of memory decoding a bytea value\n");
        abort();
    }
    if (s->n_dec == s->cap_dec) {
        s->cap_dec = s->cap_dec ? s->cap_dec * 2 : 4;
        s->dec = xrealloc(s->dec, xmul(s->cap_dec, sizeof(*s->dec)));
    }
    s->dec[s->n_dec++] = p;
    *n = len;
    return p;
}

static int64_t pg_changes(struct db_stmt *base)
{
    struct pg_stmt *s = (struct pg_stmt *)base;
    if (!s->res) {
        return 0;
    }
    return strtoll(PQcmdTuples(s->res), NULL, 10);
}

static const struct db_ops pg_ops = {
    .close = pg_close,
    .exec = pg_exec,
    .reconnect = pg_reconnect,
    .prepare = pg_prepare,
    .step = pg_step,
    .reset = pg_reset,
    .finalize = pg_finalize,
    .column_count = pg_column_count,
    .col_null = pg_col_null,
    .col_text = pg_col_text,
    .col_int64 = pg_col_int64,
    .col_blob = pg_col_blob,
    .changes = pg_changes,
};

int db_pg_open(const char *conninfo, struct db **out, struct err *e)
{
    *out = NULL;
    /* Later entries override earlier ones: the URL may set its own timeout,
     * but the encoding is always UTF-8. */
    const char *keys[] = {"connect_timeout", "fallback_application_name", "dbname",
                          "client_encoding", NULL};
    const char *vals[] = {"10", "sanad", conninfo, "UTF8", NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        char msg[200];
        conn_message(conn, msg, sizeof(msg));
        PQfinish(conn);
        return err_set(e, ERR_UNAVAILABLE, "database_unavailable", "db",
                       "could not connect to the database: %s", msg);
    }
    struct pg_db *d = xcalloc(1, sizeof(*d));
    d->base.ops = &pg_ops;
    d->base.backend = DB_POSTGRES;
    d->conn = conn;
    if (pg_session_setup(d, e) != 0) {
        pg_close(&d->base);
        return -1;
    }
    *out = &d->base;
    return 0;
}
