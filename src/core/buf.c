#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "core/banned.h"

char buf_empty[1];

void buf_init(struct buf *b)
{
    b->buf = buf_empty;
    b->len = 0;
    b->alloc = 0;
}

void buf_release(struct buf *b)
{
    if (b->alloc) {
        free(b->buf);
    }
    buf_init(b);
}

void buf_grow(struct buf *b, size_t extra)
{
    if (extra > (size_t)-1 / 2 - b->len) {
        fprintf(stderr, "sanad: buffer too large\n");
        abort();
    }
    size_t need = b->len + extra + 1;
    if (need <= b->alloc) {
        return;
    }
    size_t cap = b->alloc ? b->alloc : 64;
    while (cap < need) {
        cap = cap * 3 / 2 + 16;
    }
    if (b->alloc) {
        b->buf = xrealloc(b->buf, cap);
    } else {
        b->buf = xmalloc(cap);
        b->buf[0] = '\0';
    }
    b->alloc = cap;
}

void buf_setlen(struct buf *b, size_t n)
{
    if (!b->alloc) {
        if (n == 0) {
            return;
        }
        buf_grow(b, n);
    }
    b->len = n;
    b->buf[n] = '\0';
}

void buf_reset(struct buf *b)
{
    buf_setlen(b, 0);
}

void buf_add(struct buf *b, const void *data, size_t n)
{
    if (n == 0) {
        return;
    }
    buf_grow(b, n);
    memcpy(b->buf + b->len, data, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void buf_addch(struct buf *b, int c)
{
    buf_grow(b, 1);
    b->buf[b->len++] = (char)c;
    b->buf[b->len] = '\0';
}

void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    buf_grow(b, 64);
    int n = vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, cp);
    va_end(cp);
    if (n < 0) {
        return;
    }
    if ((size_t)n >= b->alloc - b->len) {
        buf_grow(b, (size_t)n);
        n = vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, ap);
    }
    b->len += (size_t)n;
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(b, fmt, ap);
    va_end(ap);
}

char *buf_detach(struct buf *b, size_t *len)
{
    char *p = b->alloc ? b->buf : xstrdup("");
    if (len) {
        *len = b->len;
    }
    buf_init(b);
    return p;
}
