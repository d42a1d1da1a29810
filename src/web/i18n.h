/*
 * i18n.h: message catalogs for Arabic (default) and English. Catalogs are
 * assets/i18n/ar.tsv and en.tsv: one `key<TAB>text` per line, '#' comments.
 * Every key must exist in both catalogs (checked at start-up and by a test).
 * Texts may hold {name} placeholders filled by i18n_format.
 */
#ifndef SANAD_WEB_I18N_H
#define SANAD_WEB_I18N_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"

/* Loads both catalogs. Returns -1 with e naming the file, line, or a key that
 * is in one catalog and not the other. */
int i18n_init(struct err *e);
/* Loads both catalogs from the given texts instead of the embedded files
 * (for tests); errors name "i18n/ar.tsv" or "i18n/en.tsv" and the line.
 * Replaces any catalogs loaded before; on failure none are loaded. */
int i18n_load(const char *ar, size_t ar_len, const char *en, size_t en_len, struct err *e);
/* Frees the catalogs. */
void i18n_shutdown(void);
/* True for the languages Sanad speaks: "ar" and "en". */
bool i18n_lang_valid(const char *lang);
/* The text for key in lang (falls back to English, then to the key itself).
 * The string is static for the life of the process. */
const char *i18n_get(const char *lang, const char *key);
/* True when key exists in the catalogs. */
bool i18n_has(const char *key);
/* Text for key with each {name} replaced by the value following it in the
 * NULL-terminated name, value list; allocated in a. */
char *i18n_format(struct arena *a, const char *lang, const char *key, ...);
/* The language chosen by an Accept-Language header: "en" when English ranks
 * above Arabic, else fallback. */
const char *i18n_negotiate(const char *accept_language, const char *fallback);

#endif
