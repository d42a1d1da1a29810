/*
 * buf.h: a growable byte buffer (after Git's strbuf).
 *
 * Invariants: `buf` is never NULL and buf[len] == '\0' at all times, so a
 * buffer can always be used as a C string. A buffer made with buf_init or
 * BUF_INIT owns no memory until the first addition.
 */
#ifndef SANAD_CORE_BUF_H
#define SANAD_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *buf;    /* the bytes, NUL-terminated; points at a static "" when alloc == 0 */
    size_t len;   /* bytes in use, not counting the terminating NUL */
    size_t alloc; /* bytes allocated, 0 when buf is the static empty string */
};

extern char buf_empty[];
#define BUF_INIT { buf_empty, 0, 0 }

/* Makes b an empty buffer that owns nothing. */
void buf_init(struct buf *b);
/* Frees what b owns and leaves it empty and reusable. */
void buf_release(struct buf *b);
/* Makes room for at least `extra` more bytes beyond len. */
void buf_grow(struct buf *b, size_t extra);
/* Sets len to n (n <= alloc - 1 or n == 0) and terminates. */
void buf_setlen(struct buf *b, size_t n);
/* Empties b without freeing its memory. */
void buf_reset(struct buf *b);
/* Appends n bytes from data. */
void buf_add(struct buf *b, const void *data, size_t n);
/* Appends a NUL-terminated string. */
void buf_adds(struct buf *b, const char *s);
/* Appends one byte. */
void buf_addch(struct buf *b, int c);
/* Appends printf-formatted text. */
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends vprintf-formatted text. */
void buf_vaddf(struct buf *b, const char *fmt, va_list ap);
/* Takes the bytes out of b: the caller frees the result; b is left empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
