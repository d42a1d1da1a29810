/*
 * sponsors_int.h: what the sponsorship module's files share; not for other
 * modules. Problem lists and text checks, dates as text (schedule.c), money
 * as text, CSV cells, the event log (the rest in sponsorship.c).
 */
#ifndef SANAD_SPONSORSHIP_SPONSORS_INT_H
#define SANAD_SPONSORSHIP_SPONSORS_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "core/buf.h"
#include "core/err.h"
#include "db/db.h"

/* Appends {field, code, message} to errors. */
void sp_problem_msg(json_t *errors, const char *field, const char *code, const char *message);
/* Appends {field, code, message: code} to errors. */
void sp_problem(json_t *errors, const char *field, const char *code);
/* Fails with ERR_INVALID "validation_failed" naming the first problem's
 * field, handing errors (taken) to *errors_out when not NULL. Returns -1. */
int sp_invalid(json_t *errors, json_t **errors_out, struct err *e);
/* Adds "unknown_field" for members of obj not in allowed (" a b "). */
void sp_unknown_members(json_t *obj, const char *allowed, json_t *errors);
/* Checks optional text member v of obj: a string (or null) of valid UTF-8
 * of at most max characters, one line unless multiline; required refuses
 * absent, null and blank. Returns the text (borrowed) or NULL. */
const char *sp_text(json_t *obj, const char *field, size_t max, bool required, bool multiline,
                    json_t *errors);
/* Checks text v named field: valid UTF-8 of at most max characters; NULL
 * is fine unless required, which also refuses blank text; plain refuses
 * control characters other than tab, CR and LF. Returns 0, or -1 with e
 * (ERR_INVALID) naming field. */
int sp_check_text(const char *v, const char *field, size_t max, bool required, bool plain,
                  struct err *e);
/* Rolls back and returns -1. */
int sp_fail(struct db *db);
/* The user id recorded for a ("cli" for the command line). */
const char *sp_who(const struct actor *a);
/* Today (UTC) as YYYY-MM-DD in out (11 bytes). */
void sp_today(char out[11]);
/* Today (UTC) minus days as YYYY-MM-DD in out (11 bytes). */
void sp_days_ago(int days, char out[11]);
/* True when s is a valid YYYY-MM-DD date. */
bool sp_date_ok(const char *s);
/* date + months (day clamped to the month's end; months may be negative)
 * into out (11 bytes); date must be valid. sched_period_start is the same
 * arithmetic with its arguments checked. */
void sp_add_months(const char *date, int months, char out[11]);
/* date + days into out (11 bytes). */
void sp_add_days(const char *date, int days, char out[11]);
/* The day a child born on birth reaches age years (a 29 February birthday
 * falls on 1 March in other years) into out (11 bytes). */
void sp_birthday(const char *birth, int years, char out[11]);
/* Whole years of a child born on birth as of today (both YYYY-MM-DD; a 29
 * February birthday counts on 1 March in other years); -1 when either is
 * not a date. Whole months between two dates: sched_months_between. */
int sp_age(const char *birth, const char *today);
/* Appends an event (kind, detail) to agreement sp_id's history inside the
 * caller's write transaction. */
int sp_event_tx(struct db *db, const struct actor *a, const char *sp_id, const char *kind,
                const char *detail, struct err *e);

/* Appends a query's rows to arr as objects named by cols. Columns named in
 * ints (" a b ") become numbers; those also named in amounts are money in the
 * row's "currency" column and get a "<name>_text" decimal too. Returns the
 * step result (0 at the end, -1) and finishes s. */
int sp_rows_into(struct db_stmt *s, const char *const *cols, int n, const char *ints,
                 const char *amounts, json_t *arr, struct err *e);
/* minor units of currency as a decimal ("12.50") into out; the bare number
 * when the currency is unknown. Returns out. */
const char *sp_money_text(int64_t minor, const char *currency, char *out, size_t n);
/* Sets o.key (minor units) and o.key_text (sp_money_text). */
void sp_set_money(json_t *o, const char *key, int64_t minor, const char *currency);
/* A new JSON string of s, or null for NULL. */
json_t *sp_str_or_null(const char *s);
/* Appends v (NULL: empty) as one CSV cell, then "," or, for the last cell
 * of a row, CRLF. Text a spreadsheet would run as a formula is neutered
 * (export_csv_cell); quoted puts every cell in double quotes, otherwise
 * only those that need them. */
void sp_csv_cell(struct buf *out, const char *v, bool last, bool quoted);
/* Appends "%q%" to out with LIKE's wildcards (and the escape '\\') escaped,
 * for "LIKE $n ESCAPE '\\'". */
void sp_like(const char *q, struct buf *out);

#endif
