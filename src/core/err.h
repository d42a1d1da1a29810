/*
 * err.h: runtime failure values. A function that can fail returns 0 on
 * success or -1 on failure and fills a caller's struct err, which carries a
 * machine code, the field at fault (if any) and a human message.
 */
#ifndef SANAD_CORE_ERR_H
#define SANAD_CORE_ERR_H

#include <stdbool.h>

/* Kinds of failure; the HTTP layer maps them to status codes. */
enum err_kind {
    ERR_NONE = 0,
    ERR_INVALID,    /* bad input from the caller (400/422) */
    ERR_NOT_FOUND,  /* no such record, or not visible to the actor (404) */
    ERR_FORBIDDEN,  /* the actor may not do this (403) */
    ERR_UNAUTH,     /* no valid credentials (401) */
    ERR_CONFLICT,   /* clashes with existing state (409) */
    ERR_LIMIT,      /* too large or too many (413/429) */
    ERR_UNAVAILABLE,/* a dependency is down, e.g. the database (503) */
    ERR_INTERNAL    /* a bug or an unexpected system failure (500) */
};

struct err {
    enum err_kind kind; /* ERR_NONE while nothing failed */
    char code[48];      /* machine-readable code, e.g. "invalid_field" */
    char field[64];     /* the field or row at fault, "" when none */
    char msg[256];      /* human message (English, lower-case, no full stop) */
};

/* Clears e to "no error". */
void err_clear(struct err *e);
/* Fills e and returns -1, so that `return err_set(...)` reads well. e may be NULL. */
int err_set(struct err *e, enum err_kind kind, const char *code, const char *field,
            const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* True when e holds a failure. */
bool err_failed(const struct err *e);

#endif
