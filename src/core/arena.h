/*
 * arena.h: a region allocator. One arena lives per request; everything
 * allocated from it is freed at once by arena_free when the response is done.
 * Memory from an arena must never be passed to free().
 */
#ifndef SANAD_CORE_ARENA_H
#define SANAD_CORE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena_block;

struct arena {
    struct arena_block *head; /* newest block; older blocks are chained behind it */
    size_t used;              /* bytes used in head */
    size_t total;             /* bytes handed out over the arena's life (for metrics) */
};

/* Makes a an empty arena; the first allocation creates a block. */
void arena_init(struct arena *a);
/* Frees every block of a and leaves it empty and reusable. */
void arena_release(struct arena *a);
/* Returns n bytes aligned for any type; aborts on out-of-memory. */
void *arena_alloc(struct arena *a, size_t n);
/* Returns n zeroed bytes. */
void *arena_zalloc(struct arena *a, size_t n);
/* Copies a NUL-terminated string into the arena (NULL gives NULL). */
char *arena_strdup(struct arena *a, const char *s);
/* Copies n bytes of s and terminates them. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* printf into the arena. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
