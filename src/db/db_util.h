/*
 * db_util.h: shorthands over db.h for the common one-statement cases, so a
 * service reads as its SQL. Types string: one letter per parameter,
 * 't' const char * (NULL binds NULL), 'i' int64_t, 'b' int (0/1 boolean).
 */
#ifndef SANAD_DB_DB_UTIL_H
#define SANAD_DB_DB_UTIL_H

#include <stdint.h>

#include "db/db.h"

/* Prepares sql, binds the arguments described by types, runs it to the end
 * and returns the number of rows changed, or -1 with e filled. */
int64_t db_run(struct db *db, struct err *e, const char *sql, const char *types, ...);
/* Prepares and binds like db_run, then steps once: returns the statement
 * positioned on its first row (the caller reads columns, then db_done), or
 * NULL when there is no row (*found = 0, e clear) or on failure (*found = -1). */
struct db_stmt *db_row(struct db *db, struct err *e, int *found, const char *sql,
                       const char *types, ...);
/* Prepares sql and binds arguments, without stepping: for loops over rows.
 * NULL with e filled on failure. */
struct db_stmt *db_query(struct db *db, struct err *e, const char *sql, const char *types, ...);

#endif
