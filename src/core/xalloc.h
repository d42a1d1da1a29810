/*
 * xalloc.h: allocation wrappers that abort the process on out-of-memory,
 * so that callers never check for NULL. The caller frees with free().
 */
#ifndef SANAD_CORE_XALLOC_H
#define SANAD_CORE_XALLOC_H

#include <stddef.h>

/* malloc that aborts on failure; never returns NULL (size 0 gives 1 byte). */
void *xmalloc(size_t size);
/* calloc that aborts on failure or on n * size overflow. */
void *xcalloc(size_t n, size_t size);
/* realloc that aborts on failure. */
void *xrealloc(void *p, size_t size);
/* strdup that aborts on failure; s must not be NULL. */
char *xstrdup(const char *s);
/* Copies the first n bytes of s into a new NUL-terminated string. */
char *xstrndup(const char *s, size_t n);
/* Multiplies a and b, aborting on overflow (for array sizes). */
size_t xmul(size_t a, size_t b);

#endif
