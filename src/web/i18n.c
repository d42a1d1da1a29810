/*
 * i18n.c: the Arabic and English message catalogs, loaded once at start-up
 * from assets/i18n/{ar,en}.tsv into sorted arrays, and read without locks
 * afterwards. Also Accept-Language negotiation and {name} placeholders.
 */
#include "web/i18n.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/text.h"
#include "core/xalloc.h"
#include "web/assets.h"
#include "core/banned.h"

/* One catalog line. */
struct entry {
    const char *key;  /* the key, NUL-terminated, inside the catalog's mem */
    const char *text; /* the text, NUL-terminated, inside the catalog's mem */
    int line;         /* line number in the file, for error messages */
};

/* One language's catalog. */
struct catalog {
    char *mem;             /* a private copy of the file, cut into strings; owned */
    struct entry *entries; /* sorted by key; owned */
    size_t n_entries;      /* number of entries */
};

/* The languages, in catalog order. */
enum { LANG_AR = 0, LANG_EN = 1, N_LANGS = 2 };

/* Catalog file names, by language index, as named in error messages. */
static const char *const catalog_file[N_LANGS] = {"i18n/ar.tsv", "i18n/en.tsv"};

/* The loaded catalogs: written only by i18n_load and i18n_shutdown. */
static struct catalog catalogs[N_LANGS];

/* Language index of lang: English for "en", Arabic (the default) otherwise. */
static int lang_index(const char *lang)
{
    return (lang && strcmp(lang, "en") == 0) ? LANG_EN : LANG_AR;
}

bool i18n_lang_valid(const char *lang)
{
    return lang && (strcmp(lang, "ar") == 0 || strcmp(lang, "en") == 0);
}

/* Frees what c owns and empties it. */
static void catalog_release(struct catalog *c)
{
    free(c->mem);
    free(c->entries);
    memset(c, 0, sizeof(*c));
}

/* Orders entries by key, then by line, so that duplicates sit together with
 * the first occurrence first. */
static int entry_cmp(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);
    if (c) {
        return c;
    }
    return (a->line > b->line) - (a->line < b->line);
}

/* True for a well-formed key: one or more of [A-Za-z0-9_.-]. */
static bool key_valid(const char *k)
{
    if (!*k) {
        return false;
    }
    for (; *k; k++) {
        char ch = *k;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-')) {
            return false;
        }
    }
    return true;
}

/* True when the line s[0..n) holds only spaces and tabs. */
static bool line_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t') {
            return false;
        }
    }
    return true;
}

/* Parses the catalog text[0..len) named file into c. Returns 0, or -1 with e
 * naming the file and line; c is then left empty. */
static int catalog_parse(struct catalog *c, const char *file, const char *text, size_t len,
                         struct err *e)
{
    memset(c, 0, sizeof(*c));
    c->mem = xmalloc(len + 1);
    memcpy(c->mem, text, len);
    c->mem[len] = '\0';
    size_t cap = 0;
    int line = 0;
    char *p = c->mem, *end = c->mem + len;
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
        p += 3; /* a byte-order mark some editors add */
    }
    while (p < end) {
        line++;
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl ? nl : end;
        char *next = nl ? nl + 1 : end;
        if (eol > p && eol[-1] == '\r') {
            eol--;
        }
        size_t n = (size_t)(eol - p);
        if (n == 0 || p[0] == '#' || line_blank(p, n)) {
            p = next;
            continue;
        }
        if (!utf8_valid(p, n)) {
            err_set(e, ERR_INTERNAL, "catalog_invalid", "", "%s:%d: invalid utf-8", file, line);
            goto fail;
        }
        char *tab = memchr(p, '\t', n);
        if (!tab) {
            err_set(e, ERR_INTERNAL, "catalog_invalid", "", "%s:%d: no tab between key and text",
                    file, line);
            goto fail;
        }
        *tab = '\0';
        *eol = '\0';
        if (!key_valid(p)) {
            err_set(e, ERR_INTERNAL, "catalog_invalid", "", "%s:%d: invalid key '%.64s'", file,
                    line, p);
            goto fail;
        }
        if (text_blank(tab + 1)) {
            err_set(e, ERR_INTERNAL, "catalog_invalid", "", "%s:%d: empty text for key '%.64s'",
                    file, line, p);
            goto fail;
        }
        if (c->n_entries == cap) {
            cap = cap ? cap * 2 : 256;
            c->entries = xrealloc(c->entries, xmul(cap, sizeof(*c->entries)));
        }
        c->entries[c->n_entries++] = (struct entry){p, tab + 1, line};
        p = next;
    }
    if (c->n_entries) {
        qsort(c->entries, c->n_entries, sizeof(*c->entries), entry_cmp);
    }
    for (size_t i = 1; i < c->n_entries; i++) {
        if (strcmp(c->entries[i - 1].key, c->entries[i].key) == 0) {
            err_set(e, ERR_INTERNAL, "catalog_invalid", "",
                    "%s:%d: duplicate key '%.64s' (first on line %d)", file, c->entries[i].line,
                    c->entries[i].key, c->entries[i - 1].line);
            goto fail;
        }
    }
    return 0;
fail:
    catalog_release(c);
    return -1;
}

/* Checks that a and b have the same keys. Returns 0, or -1 with e naming the
 * first key (in sorted order) found in one catalog only. */
static int catalogs_check_parity(struct err *e)
{
    const struct catalog *a = &catalogs[LANG_AR], *b = &catalogs[LANG_EN];
    size_t i = 0, j = 0;
    while (i < a->n_entries || j < b->n_entries) {
        int c;
        if (i == a->n_entries) {
            c = 1;
        } else if (j == b->n_entries) {
            c = -1;
        } else {
            c = strcmp(a->entries[i].key, b->entries[j].key);
        }
        if (c < 0) {
            return err_set(e, ERR_INTERNAL, "catalog_mismatch", "",
                           "key '%.64s' (%s:%d) is missing from '%s'", a->entries[i].key,
                           catalog_file[LANG_AR], a->entries[i].line, catalog_file[LANG_EN]);
        }
        if (c > 0) {
            return err_set(e, ERR_INTERNAL, "catalog_mismatch", "",
                           "key '%.64s' (%s:%d) is missing from '%s'", b->entries[j].key,
                           catalog_file[LANG_EN], b->entries[j].line, catalog_file[LANG_AR]);
        }
        i++;
        j++;
    }
    return 0;
}

int i18n_load(const char *ar, size_t ar_len, const char *en, size_t en_len, struct err *e)
{
    i18n_shutdown();
    if (catalog_parse(&catalogs[LANG_AR], catalog_file[LANG_AR], ar, ar_len, e) < 0 ||
        catalog_parse(&catalogs[LANG_EN], catalog_file[LANG_EN], en, en_len, e) < 0 ||
        catalogs_check_parity(e) < 0) {
        i18n_shutdown();
        return -1;
    }
    return 0;
}

/* True when asset name is a catalog part of language lang ("ar"): the main
 * catalog "i18n/ar.tsv" or a module's "i18n/<module>.ar.tsv". */
static bool catalog_part(const char *name, const char *lang)
{
    char main_name[16], suffix[16];
    snprintf(main_name, sizeof(main_name), "i18n/%s.tsv", lang);
    snprintf(suffix, sizeof(suffix), ".%s.tsv", lang);
    size_t n = strlen(name), ns = strlen(suffix);
    return strcmp(name, main_name) == 0 ||
           (strncmp(name, "i18n/", 5) == 0 && n > 5 + ns && strcmp(name + n - ns, suffix) == 0);
}

/* Appends every embedded catalog part of lang to out, in name order, so
 * that modules keep their texts in their own files (i18n/sponsorship.ar.tsv)
 * and are checked as one catalog (duplicates and parity across all parts). */
static int catalog_gather(const char *lang, struct buf *out)
{
    int n_parts = 0;
    for (size_t i = 0; i < n_assets; i++) {
        if (!catalog_part(assets[i].name, lang)) {
            continue;
        }
        buf_add(out, assets[i].data, assets[i].len);
        if (assets[i].len && assets[i].data[assets[i].len - 1] != '\n') {
            buf_addch(out, '\n');
        }
        n_parts++;
    }
    return n_parts;
}

int i18n_init(struct err *e)
{
    struct buf ar = BUF_INIT, en = BUF_INIT;
    if (catalog_gather("ar", &ar) == 0 || catalog_gather("en", &en) == 0) {
        buf_release(&ar);
        buf_release(&en);
        return err_set(e, ERR_INTERNAL, "catalog_missing", "", "catalog '%s' is not embedded",
                       catalog_file[LANG_AR]);
    }
    int rc = i18n_load(ar.buf, ar.len, en.buf, en.len, e);
    buf_release(&ar);
    buf_release(&en);
    return rc;
}

void i18n_shutdown(void)
{
    for (int i = 0; i < N_LANGS; i++) {
        catalog_release(&catalogs[i]);
    }
}

/* The text for key in catalog c, or NULL. */
static const char *catalog_find(const struct catalog *c, const char *key)
{
    size_t lo = 0, hi = c->n_entries;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(c->entries[mid].key, key);
        if (cmp == 0) {
            return c->entries[mid].text;
        }
        if (cmp < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

const char *i18n_get(const char *lang, const char *key)
{
    if (!key) {
        return "";
    }
    const char *t = catalog_find(&catalogs[lang_index(lang)], key);
    if (!t) {
        t = catalog_find(&catalogs[LANG_EN], key);
    }
    return t ? t : key;
}

bool i18n_has(const char *key)
{
    return key && (catalog_find(&catalogs[LANG_AR], key) || catalog_find(&catalogs[LANG_EN], key));
}

/* A placeholder's name and value, from i18n_format's arguments. */
struct pair {
    const char *name;  /* placeholder name, without braces */
    const char *value; /* replacement text ("" for NULL) */
};

char *i18n_format(struct arena *a, const char *lang, const char *key, ...)
{
    va_list ap;
    size_t n_pairs = 0;
    va_start(ap, key);
    while (va_arg(ap, const char *)) {
        (void)va_arg(ap, const char *);
        n_pairs++;
    }
    va_end(ap);
    struct pair *pairs = arena_alloc(a, xmul(n_pairs ? n_pairs : 1, sizeof(*pairs)));
    va_start(ap, key);
    for (size_t i = 0; i < n_pairs; i++) {
        pairs[i].name = va_arg(ap, const char *);
        const char *v = va_arg(ap, const char *);
        pairs[i].value = v ? v : "";
    }
    va_end(ap);

    const char *t = i18n_get(lang, key);
    struct buf out = BUF_INIT;
    const char *p = t;
    while (*p) {
        const char *open = strchr(p, '{');
        if (!open) {
            buf_adds(&out, p);
            break;
        }
        buf_add(&out, p, (size_t)(open - p));
        const char *q = open + 1;
        while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
               *q == '_') {
            q++;
        }
        const struct pair *hit = NULL;
        if (*q == '}' && q > open + 1) {
            size_t nlen = (size_t)(q - open - 1);
            for (size_t i = 0; i < n_pairs && !hit; i++) {
                if (strlen(pairs[i].name) == nlen && memcmp(pairs[i].name, open + 1, nlen) == 0) {
                    hit = &pairs[i];
                }
            }
        }
        if (hit) {
            buf_adds(&out, hit->value);
            p = q + 1;
        } else {
            buf_addch(&out, '{'); /* not a placeholder we were given: kept as written */
            p = open + 1;
        }
    }
    char *res = arena_strndup(a, out.buf, out.len);
    buf_release(&out);
    return res;
}

/* Skips optional white space (spaces and tabs) at s. */
static const char *skip_ows(const char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    return s;
}

/* Parses an RFC 9110 qvalue at s[0..n) into thousandths; -1 when malformed. */
static int parse_qvalue(const char *s, size_t n)
{
    if (n == 0 || n > 5 || (s[0] != '0' && s[0] != '1')) {
        return -1;
    }
    int q = (s[0] - '0') * 1000;
    if (n == 1) {
        return q;
    }
    if (s[1] != '.') {
        return -1;
    }
    int scale = 100;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        q += (s[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

const char *i18n_negotiate(const char *accept_language, const char *fallback)
{
    const char *fb = (fallback && strcmp(fallback, "en") == 0) ? "en" : "ar";
    if (!accept_language) {
        return fb;
    }
    int best_q[N_LANGS] = {-1, -1};   /* the highest q given to each language */
    size_t best_at[N_LANGS] = {0, 0}; /* position of that range, to break ties */
    size_t pos = 0;
    const char *p = accept_language;
    while (*p) {
        const char *item = skip_ows(p);
        const char *end = strchr(item, ',');
        if (!end) {
            end = item + strlen(item);
        }
        p = *end ? end + 1 : end;
        pos++;
        /* the language range: letters, digits, '-' and '*' up to ';' or OWS */
        const char *r = item;
        while (r < end && *r != ';' && *r != ' ' && *r != '\t') {
            r++;
        }
        size_t rlen = (size_t)(r - item);
        int q = 1000;
        const char *param = r;
        while (param < end) {
            param = skip_ows(param);
            if (param >= end) {
                break;
            }
            if (*param != ';') {
                q = -1;
                break;
            }
            param = skip_ows(param + 1);
            const char *pend = param;
            while (pend < end && *pend != ';') {
                pend++;
            }
            const char *vend = pend;
            while (vend > param && (vend[-1] == ' ' || vend[-1] == '\t')) {
                vend--;
            }
            if (vend - param >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
                q = parse_qvalue(param + 2, (size_t)(vend - param - 2));
                if (q < 0) {
                    break;
                }
            }
            param = pend;
        }
        if (q <= 0 || rlen < 2) {
            continue;
        }
        int li = -1;
        if ((item[0] == 'a' || item[0] == 'A') && (item[1] == 'r' || item[1] == 'R')) {
            li = LANG_AR;
        } else if ((item[0] == 'e' || item[0] == 'E') && (item[1] == 'n' || item[1] == 'N')) {
            li = LANG_EN;
        }
        if (li < 0 || (rlen > 2 && item[2] != '-')) {
            continue;
        }
        if (q > best_q[li]) {
            best_q[li] = q;
            best_at[li] = pos;
        }
    }
    if (best_q[LANG_AR] < 0 && best_q[LANG_EN] < 0) {
        return fb;
    }
    if (best_q[LANG_EN] > best_q[LANG_AR] ||
        (best_q[LANG_EN] == best_q[LANG_AR] && best_at[LANG_EN] < best_at[LANG_AR])) {
        return "en";
    }
    return "ar";
}
