/*
 * instruments.c: loading, checking and scoring standardized instruments, and
 * the service that records responses.
 *
 * An instrument file is one JSON object (unknown members are refused, so a
 * misspelt key is caught at start-up rather than silently ignored):
 *
 *   "id":          "psc17"                      [a-z0-9_-], 1..32
 *   "version":     "1"
 *   "name":        {"ar": "...", "en": "..."}
 *   "instructions":{"ar": "...", "en": "..."}   optional, shown above the items
 *   "respondent":  "parent" | "self" | "clinician"
 *   "age":         {"min": 4, "max": 16}        whole years; "max" optional
 *   "scale":       [{"value": 0, "label": {"ar", "en"}}, ...]   2..11 points
 *   "items":       [{"id": "1", "text": {"ar", "en"}, "reverse": false,
 *                    "critical": [2]}, ...]     critical: answer values that
 *                                               raise the urgent flag
 *   "scoring":     {"multiplier": 1, "missing": {"rule": "none" | "zero" |
 *                   "prorate", "max": 2}}
 *   "total":       {"bands": [...], "cutoffs": [15]}
 *   "subscales":   [{"id", "name": {"ar", "en"}, "items": ["2", "6"],
 *                    "bands": [...], "cutoffs": [5]}]
 *   "source":      {"citation": "...", "url": "...", "terms": "..."}
 *
 * A band is {"id", "min", "max", "label": {"ar", "en"}, "concern": bool};
 * the bands of a score must cover its possible range (after the multiplier)
 * without gaps or overlaps, so every score falls in exactly one band.
 *
 * Scoring: each answered item gives its value (reversed items give
 * max + min - value); a score is the sum over its items, times the
 * multiplier. Unanswered (null) items: "none" refuses any; "zero" counts them
 * as the scale's lowest value; "prorate" scales the sum of the answered items
 * up to all the score's items (rounded half away from zero). With more than
 * "max" unanswered there is no score.
 */
#include "cases/instruments.h"

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "auth/authz.h"
#include "cases/cases.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "core/xalloc.h"
#include "db/db_util.h"
#include "keys/keys.h"
#include "web/assets.h"
#include "core/banned.h"

/* Limits that keep every sum far from overflow and every page readable. */
#define MAX_ITEMS 200
#define MAX_SCALE 11
#define MAX_SUBSCALES 16
#define MAX_BANDS 10
#define MAX_VALUE 100
#define MAX_MULTIPLIER 100
#define MAX_TEXT 2000
#define MAX_FILE_BYTES (1024 * 1024)

/* ---- parsing ---- */

/* What the checker carries: the file's name and text, for messages. */
struct parse_ctx {
    const char *file; /* the file's name as shown */
    const char *text; /* its text */
    size_t n;         /* its length */
    struct err *e;    /* where the first problem goes */
};

/* The 1-based line of the nth (from 1) `"key"` followed by `: value` (value
 * as written in JSON, e.g. "\"7\"" or "12"; NULL: any value) in the text,
 * or 0 when there is none. */
static int line_of(const struct parse_ctx *p, const char *key, const char *value, int nth)
{
    char pat[80];
    int m = snprintf(pat, sizeof(pat), "\"%s\"", key);
    if (m <= 0 || (size_t)m >= sizeof(pat)) {
        return 0;
    }
    size_t klen = (size_t)m;
    for (size_t i = 0; i + klen <= p->n; i++) {
        if (memcmp(p->text + i, pat, klen) != 0) {
            continue;
        }
        size_t j = i + klen;
        while (j < p->n && strchr(" \t\r\n", p->text[j])) {
            j++;
        }
        if (j >= p->n || p->text[j] != ':') {
            continue;
        }
        j++;
        while (j < p->n && strchr(" \t\r\n", p->text[j])) {
            j++;
        }
        size_t vlen = value ? strlen(value) : 0;
        if (value && (j + vlen > p->n || memcmp(p->text + j, value, vlen) != 0)) {
            continue;
        }
        if (--nth > 0) {
            continue;
        }
        int line = 1;
        for (size_t k = 0; k < i; k++) {
            line += p->text[k] == '\n';
        }
        return line;
    }
    return 0;
}

/* Fills p->e with a problem found near the line where key (with value, may be
 * NULL) appears for the nth time; what names the item or field. Returns -1. */
static int vbad(const struct parse_ctx *p, const char *key, const char *value, int nth,
                const char *what, const char *fmt, va_list ap)
{
    char detail[160];
    vsnprintf(detail, sizeof(detail), fmt, ap);
    int line = key ? line_of(p, key, value, nth) : 0;
    if (line > 0) {
        return err_set(p->e, ERR_INVALID, "invalid_instrument", what, "'%s' line %d: %s: %s",
                       p->file, line, what, detail);
    }
    return err_set(p->e, ERR_INVALID, "invalid_instrument", what, "'%s': %s: %s", p->file, what,
                   detail);
}

/* A problem at the first place key (with value) appears. Returns -1. */
static int bad(const struct parse_ctx *p, const char *key, const char *value, const char *what,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int bad(const struct parse_ctx *p, const char *key, const char *value, const char *what,
               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vbad(p, key, value, 1, what, fmt, ap);
    va_end(ap);
    return -1;
}

/* A duplicate: the problem is at the second place key (with value) appears. */
static int bad_dup(const struct parse_ctx *p, const char *key, const char *value,
                   const char *what, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int bad_dup(const struct parse_ctx *p, const char *key, const char *value,
                   const char *what, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vbad(p, key, value, 2, what, fmt, ap);
    va_end(ap);
    return -1;
}

/* A JSON string literal of s for line_of ("\"s\""), in buf (n bytes). */
static const char *quoted(char *buf, size_t n, const char *s)
{
    snprintf(buf, n, "\"%s\"", s);
    return buf;
}

/* How many bytes of s to show in a message: at most max, cut at a character
 * boundary, and none when s is not valid UTF-8 (messages travel in JSON). */
static int shown(const char *s, int max)
{
    size_t n = s ? strlen(s) : 0;
    if (!s || !utf8_valid(s, n)) {
        return 0;
    }
    size_t k = n < (size_t)max ? n : (size_t)max;
    while (k > 0 && k < n && ((unsigned char)s[k] & 0xc0) == 0x80) {
        k--;
    }
    return (int)k;
}

/* True when s is 1..INSTRUMENT_ID_MAX characters of [A-Za-z0-9_.-] (lower
 * case letters only when lower). */
static bool id_ok(const char *s, bool lower)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > INSTRUMENT_ID_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                  (!lower && ((c >= 'A' && c <= 'Z') || c == '.'));
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* Refuses members of obj not in allowed (NULL-terminated). */
static int known(const struct parse_ctx *p, json_t *obj, const char *where,
                 const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        bool found = false;
        for (size_t i = 0; allowed[i]; i++) {
            found |= strcmp(k, allowed[i]) == 0;
        }
        if (!found) {
            return bad(p, k, NULL, where, "unknown member '%.*s'", shown(k, 40), k);
        }
    }
    return 0;
}

/* A non-empty string member of at most MAX_TEXT characters; NULL after
 * filling p->e (or when absent and optional: then p->e stays clear). */
static const char *str_member(const struct parse_ctx *p, json_t *obj, const char *key,
                              const char *where, bool required)
{
    json_t *v = json_object_get(obj, key);
    if (!v && !required) {
        return NULL;
    }
    const char *s = json_string_value(v);
    if (!s || text_blank(s) || utf8_length(s, strlen(s)) > MAX_TEXT) {
        /* a member left out is looked for by its parent's name */
        bad(p, v ? key : where, NULL, where, "'%s' must be a text of 1 to %d characters", key,
            MAX_TEXT);
        return NULL;
    }
    return s;
}

/* Reads a {"ar", "en"} text pair member key of obj into ar and en. */
static int text_pair(const struct parse_ctx *p, json_t *obj, const char *key, const char *where,
                     const char **ar, const char **en)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_object(v)) {
        return bad(p, key, NULL, where, "'%s' must be an object with 'ar' and 'en' texts", key);
    }
    static const char *const langs[] = {"ar", "en", NULL};
    if (known(p, v, where, langs) < 0) {
        return -1;
    }
    *ar = str_member(p, v, "ar", where, true);
    *en = *ar ? str_member(p, v, "en", where, true) : NULL;
    return *ar && *en ? 0 : -1;
}

/* Reads an integer member in lo..hi into out; absent gives dflt when
 * optional. */
static int int_member(const struct parse_ctx *p, json_t *obj, const char *key, const char *where,
                      bool required, long lo, long hi, long dflt, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v && !required) {
        *out = (int)dflt;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        /* the line of this very number when it is one (several members share the key) */
        char lit[32];
        snprintf(lit, sizeof(lit), "%lld", (long long)json_integer_value(v));
        return bad(p, key, json_is_integer(v) ? lit : NULL, where,
                   "'%s' must be a whole number from %ld to %ld", key, lo, hi);
    }
    *out = (int)json_integer_value(v);
    return 0;
}

/* The index of the item with id, or n_items when none. */
static size_t item_index(const struct instrument *in, const char *id)
{
    for (size_t i = 0; i < in->n_items; i++) {
        if (strcmp(in->items[i].id, id) == 0) {
            return i;
        }
    }
    return in->n_items;
}

/* True when value is a point of the scale. */
static bool on_scale(const struct instrument *in, json_int_t value)
{
    for (size_t i = 0; i < in->n_scale; i++) {
        if (in->scale[i].value == value) {
            return true;
        }
    }
    return false;
}

/* Compares bands by their lowest score, for qsort. */
static int band_cmp(const void *a, const void *b)
{
    const struct instrument_band *x = a, *y = b;
    return (x->min > y->min) - (x->min < y->min);
}

/* Reads the bands and cut-offs of score s (its items and range already set)
 * from obj; where names the score in messages. */
static int parse_bands(const struct parse_ctx *p, json_t *obj, struct instrument_scale *s,
                       const char *where)
{
    json_t *bands = json_object_get(obj, "bands");
    char q[64];
    if (bands && (!json_is_array(bands) || json_array_size(bands) > MAX_BANDS)) {
        return bad(p, "bands", NULL, where, "'bands' must be a list of at most %d bands",
                   MAX_BANDS);
    }
    s->n_bands = json_array_size(bands);
    s->bands = s->n_bands ? xcalloc(s->n_bands, sizeof(*s->bands)) : NULL;
    for (size_t i = 0; i < s->n_bands; i++) {
        json_t *b = json_array_get(bands, i);
        struct instrument_band *d = &s->bands[i];
        static const char *const fields[] = {"id", "min", "max", "label", "concern", NULL};
        if (!json_is_object(b)) {
            return bad(p, "bands", NULL, where, "band %zu must be an object", i + 1);
        }
        if (known(p, b, where, fields) < 0) {
            return -1;
        }
        d->id = json_string_value(json_object_get(b, "id"));
        if (!id_ok(d->id, true)) {
            return bad(p, "bands", NULL, where, "band %zu needs an 'id' of [a-z0-9_-]", i + 1);
        }
        char bw[96];
        snprintf(bw, sizeof(bw), "%s band '%s'", where, d->id);
        const char *qid = quoted(q, sizeof(q), d->id);
        int lo = MAX_ITEMS * MAX_VALUE * MAX_MULTIPLIER;
        if (int_member(p, b, "min", bw, true, -lo, lo, 0, &d->min) < 0 ||
            int_member(p, b, "max", bw, true, -lo, lo, 0, &d->max) < 0) {
            return -1;
        }
        if (text_pair(p, b, "label", bw, &d->label_ar, &d->label_en) < 0) {
            return -1;
        }
        json_t *c = json_object_get(b, "concern");
        if (c && !json_is_boolean(c)) {
            return bad(p, "id", qid, bw, "'concern' must be true or false");
        }
        d->concern = json_is_true(c);
        if (d->min > d->max) {
            return bad(p, "id", qid, bw, "'min' %d is above 'max' %d", d->min, d->max);
        }
        if (d->min < s->min || d->max > s->max) {
            return bad(p, "id", qid, bw, "cut-off %d..%d is outside the possible range %d..%d",
                       d->min, d->max, s->min, s->max);
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(s->bands[k].id, d->id) == 0) {
                return bad_dup(p, "id", qid, bw, "duplicate band id");
            }
        }
    }
    if (s->n_bands > 1) {
        qsort(s->bands, s->n_bands, sizeof(*s->bands), band_cmp);
    }
    for (size_t i = 0; i < s->n_bands; i++) {
        int want = i ? s->bands[i - 1].max + 1 : s->min;
        if (s->bands[i].min != want) {
            const char *qid = quoted(q, sizeof(q), s->bands[i].id);
            return bad(p, "id", qid, where, "band '%s' starts at %d: the bands must cover %d..%d "
                       "without gaps or overlaps (expected %d)", s->bands[i].id, s->bands[i].min,
                       s->min, s->max, want);
        }
    }
    if (s->n_bands && s->bands[s->n_bands - 1].max != s->max) {
        const char *qid = quoted(q, sizeof(q), s->bands[s->n_bands - 1].id);
        return bad(p, "id", qid, where, "the last band ends at %d, not at the highest possible "
                   "score %d", s->bands[s->n_bands - 1].max, s->max);
    }
    json_t *cuts = json_object_get(obj, "cutoffs");
    if (cuts && (!json_is_array(cuts) || json_array_size(cuts) > 4)) {
        return bad(p, "cutoffs", NULL, where, "'cutoffs' must be a list of at most 4 numbers");
    }
    s->n_cutoffs = json_array_size(cuts);
    for (size_t i = 0; i < s->n_cutoffs; i++) {
        json_t *c = json_array_get(cuts, i);
        if (!json_is_integer(c) || json_integer_value(c) < s->min ||
            json_integer_value(c) > s->max) {
            return bad(p, "cutoffs", NULL, where,
                       "cut-off %zu is not a whole number within the possible range %d..%d",
                       i + 1, s->min, s->max);
        }
        s->cutoffs[i] = (int)json_integer_value(c);
    }
    return 0;
}

/* Sets the possible range of score s from its number of items. */
static void score_range(const struct instrument *in, struct instrument_scale *s)
{
    int lo = in->scale[0].value, hi = in->scale[in->n_scale - 1].value;
    s->min = (int)s->n_items * lo * in->multiplier;
    s->max = (int)s->n_items * hi * in->multiplier;
}

/* Compares scale points by value, for qsort. */
static int choice_cmp(const void *a, const void *b)
{
    const struct instrument_choice *x = a, *y = b;
    return (x->value > y->value) - (x->value < y->value);
}

/* Reads the scale. */
static int parse_scale(const struct parse_ctx *p, json_t *doc, struct instrument *in)
{
    json_t *scale = json_object_get(doc, "scale");
    if (!json_is_array(scale) || json_array_size(scale) < 2 ||
        json_array_size(scale) > MAX_SCALE) {
        return bad(p, "scale", NULL, "scale", "'scale' must be a list of 2 to %d points",
                   MAX_SCALE);
    }
    in->n_scale = json_array_size(scale);
    in->scale = xcalloc(in->n_scale, sizeof(*in->scale));
    for (size_t i = 0; i < in->n_scale; i++) {
        json_t *c = json_array_get(scale, i);
        static const char *const fields[] = {"value", "label", NULL};
        char where[48];
        snprintf(where, sizeof(where), "scale point %zu", i + 1);
        if (!json_is_object(c)) {
            return bad(p, "scale", NULL, where, "must be an object with 'value' and 'label'");
        }
        if (known(p, c, where, fields) < 0 ||
            int_member(p, c, "value", where, true, -MAX_VALUE, MAX_VALUE, 0,
                       &in->scale[i].value) < 0 ||
            text_pair(p, c, "label", where, &in->scale[i].label_ar, &in->scale[i].label_en) < 0) {
            return -1;
        }
        for (size_t k = 0; k < i; k++) {
            if (in->scale[k].value == in->scale[i].value) {
                char v[16];
                snprintf(v, sizeof(v), "%d", in->scale[i].value);
                return bad_dup(p, "value", v, "scale", "duplicate value %d",
                               in->scale[i].value);
            }
        }
    }
    qsort(in->scale, in->n_scale, sizeof(*in->scale), choice_cmp);
    return 0;
}

/* Reads the items. */
static int parse_items(const struct parse_ctx *p, json_t *doc, struct instrument *in)
{
    json_t *items = json_object_get(doc, "items");
    if (!json_is_array(items) || json_array_size(items) == 0 ||
        json_array_size(items) > MAX_ITEMS) {
        return bad(p, "items", NULL, "items", "'items' must be a list of 1 to %d items",
                   MAX_ITEMS);
    }
    in->n_items = json_array_size(items);
    in->items = xcalloc(in->n_items, sizeof(*in->items));
    char q[64];
    for (size_t i = 0; i < in->n_items; i++) {
        json_t *it = json_array_get(items, i);
        struct instrument_item *d = &in->items[i];
        static const char *const fields[] = {"id", "text", "reverse", "critical", NULL};
        char where[64];
        snprintf(where, sizeof(where), "item %zu", i + 1);
        if (!json_is_object(it)) {
            return bad(p, "items", NULL, where, "must be an object");
        }
        d->id = json_string_value(json_object_get(it, "id"));
        if (!id_ok(d->id, false)) {
            return bad(p, "items", NULL, where, "missing or malformed 'id' (1 to %d of "
                       "A-Z a-z 0-9 _ . -)", INSTRUMENT_ID_MAX);
        }
        snprintf(where, sizeof(where), "item '%s'", d->id);
        const char *qid = quoted(q, sizeof(q), d->id);
        if (known(p, it, where, fields) < 0) {
            return -1;
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(in->items[k].id, d->id) == 0) {
                return bad_dup(p, "id", qid, where, "duplicate item id");
            }
        }
        json_t *t = json_object_get(it, "text");
        if (!t) {
            return bad(p, "id", qid, where, "missing 'text'");
        }
        if (text_pair(p, it, "text", where, &d->text_ar, &d->text_en) < 0) {
            return -1;
        }
        json_t *rev = json_object_get(it, "reverse");
        if (rev && !json_is_boolean(rev)) {
            return bad(p, "id", qid, where, "'reverse' must be true or false");
        }
        d->reverse = json_is_true(rev);
        json_t *crit = json_object_get(it, "critical");
        size_t nc = json_array_size(crit);
        if (crit && (!json_is_array(crit) || nc == 0 || nc > 16)) {
            return bad(p, "id", qid, where, "'critical' must be a list of 1 to 16 scale values");
        }
        for (size_t k = 0; k < nc; k++) {
            json_t *v = json_array_get(crit, k);
            if (!json_is_integer(v) || !on_scale(in, json_integer_value(v))) {
                return bad(p, "id", qid, where, "critical value %zu is not on the scale", k + 1);
            }
            d->critical[k] = (int)json_integer_value(v);
        }
        d->n_critical = nc;
    }
    return 0;
}

/* Reads the scoring rules, the total and the subscales. */
static int parse_scoring(const struct parse_ctx *p, json_t *doc, struct instrument *in)
{
    json_t *sc = json_object_get(doc, "scoring");
    static const char *const sfields[] = {"multiplier", "missing", NULL};
    static const char *const mfields[] = {"rule", "max", NULL};
    if (sc && !json_is_object(sc)) {
        return bad(p, "scoring", NULL, "scoring", "'scoring' must be an object");
    }
    if (sc && known(p, sc, "scoring", sfields) < 0) {
        return -1;
    }
    if (int_member(p, sc, "multiplier", "scoring", false, 1, MAX_MULTIPLIER, 1,
                   &in->multiplier) < 0) {
        return -1;
    }
    json_t *m = json_object_get(sc, "missing");
    in->missing = MISSING_NONE;
    in->max_missing = 0;
    if (m) {
        const char *rule = json_string_value(json_object_get(m, "rule"));
        if (!json_is_object(m) || known(p, m, "scoring.missing", mfields) < 0 || !rule ||
            (strcmp(rule, "none") && strcmp(rule, "zero") && strcmp(rule, "prorate"))) {
            if (err_failed(p->e)) {
                return -1;
            }
            return bad(p, "missing", NULL, "scoring.missing",
                       "'rule' must be \"none\", \"zero\" or \"prorate\"");
        }
        in->missing = !strcmp(rule, "zero")      ? MISSING_ZERO
                      : !strcmp(rule, "prorate") ? MISSING_PRORATE
                                                 : MISSING_NONE;
        if (int_member(p, m, "max", "scoring.missing", in->missing != MISSING_NONE, 0,
                       (long)in->n_items - 1, 0, &in->max_missing) < 0) {
            return -1;
        }
    }
    /* the total: every item */
    json_t *tot = json_object_get(doc, "total");
    static const char *const tfields[] = {"bands", "cutoffs", NULL};
    if (tot && (!json_is_object(tot) || known(p, tot, "total", tfields) < 0)) {
        return err_failed(p->e) ? -1 : bad(p, "total", NULL, "total", "must be an object");
    }
    in->total.id = "total";
    in->total.n_items = in->n_items;
    in->total.items = xcalloc(in->n_items, sizeof(size_t));
    for (size_t i = 0; i < in->n_items; i++) {
        in->total.items[i] = i;
    }
    score_range(in, &in->total);
    if (parse_bands(p, tot, &in->total, "total") < 0) {
        return -1;
    }
    json_t *subs = json_object_get(doc, "subscales");
    if (subs && (!json_is_array(subs) || json_array_size(subs) > MAX_SUBSCALES)) {
        return bad(p, "subscales", NULL, "subscales", "'subscales' must be a list of at most %d",
                   MAX_SUBSCALES);
    }
    in->n_subscales = json_array_size(subs);
    in->subscales = in->n_subscales ? xcalloc(in->n_subscales, sizeof(*in->subscales)) : NULL;
    char q[64];
    for (size_t i = 0; i < in->n_subscales; i++) {
        json_t *s = json_array_get(subs, i);
        struct instrument_scale *d = &in->subscales[i];
        static const char *const fields[] = {"id", "name", "items", "bands", "cutoffs", NULL};
        char where[64];
        snprintf(where, sizeof(where), "subscale %zu", i + 1);
        if (!json_is_object(s)) {
            return bad(p, "subscales", NULL, where, "must be an object");
        }
        d->id = json_string_value(json_object_get(s, "id"));
        if (!id_ok(d->id, true) || !strcmp(d->id, "total")) {
            return bad(p, "subscales", NULL, where, "missing or malformed 'id' ([a-z0-9_-], "
                       "not \"total\")");
        }
        snprintf(where, sizeof(where), "subscale '%s'", d->id);
        const char *qid = quoted(q, sizeof(q), d->id);
        if (known(p, s, where, fields) < 0 ||
            text_pair(p, s, "name", where, &d->name_ar, &d->name_en) < 0) {
            return -1;
        }
        for (size_t k = 0; k < i; k++) {
            if (!strcmp(in->subscales[k].id, d->id)) {
                return bad_dup(p, "id", qid, where, "duplicate subscale id");
            }
        }
        json_t *ids = json_object_get(s, "items");
        if (!json_is_array(ids) || json_array_size(ids) == 0 ||
            json_array_size(ids) > in->n_items) {
            return bad(p, "id", qid, where, "'items' must list 1 to %zu item ids", in->n_items);
        }
        d->n_items = json_array_size(ids);
        d->items = xcalloc(d->n_items, sizeof(size_t));
        for (size_t k = 0; k < d->n_items; k++) {
            const char *iid = json_string_value(json_array_get(ids, k));
            size_t at = iid ? item_index(in, iid) : in->n_items;
            if (at == in->n_items) {
                return bad(p, "id", qid, where, "names an unknown item '%.*s'",
                           iid ? shown(iid, 40) : 12, iid ? iid : "(not a text)");
            }
            for (size_t j = 0; j < k; j++) {
                if (d->items[j] == at) {
                    return bad(p, "id", qid, where, "names item '%s' twice", iid);
                }
            }
            d->items[k] = at;
        }
        score_range(in, d);
        if (parse_bands(p, s, d, where) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Checks the whole document into in. */
static int parse_doc(const struct parse_ctx *p, json_t *doc, struct instrument *in)
{
    static const char *const fields[] = {"id", "version", "name", "instructions", "respondent",
                                         "age", "scale", "items", "scoring", "total",
                                         "subscales", "source", "$comment", NULL};
    if (!json_is_object(doc)) {
        return bad(p, NULL, NULL, "document", "an instrument file holds one JSON object");
    }
    if (known(p, doc, "document", fields) < 0) {
        return -1;
    }
    in->id = json_string_value(json_object_get(doc, "id"));
    if (!id_ok(in->id, true)) {
        return bad(p, "id", NULL, "id", "missing or malformed 'id' (1 to %d of a-z 0-9 _ -)",
                   INSTRUMENT_ID_MAX);
    }
    in->version = str_member(p, doc, "version", "version", true);
    if (!in->version || text_pair(p, doc, "name", "name", &in->name_ar, &in->name_en) < 0) {
        return -1;
    }
    const char *iar, *ien;
    if (json_object_get(doc, "instructions") &&
        text_pair(p, doc, "instructions", "instructions", &iar, &ien) < 0) {
        return -1;
    }
    in->respondent = json_string_value(json_object_get(doc, "respondent"));
    if (!in->respondent || (strcmp(in->respondent, "parent") && strcmp(in->respondent, "self") &&
                            strcmp(in->respondent, "clinician"))) {
        return bad(p, "respondent", NULL, "respondent",
                   "'respondent' must be \"parent\", \"self\" or \"clinician\"");
    }
    json_t *age = json_object_get(doc, "age");
    static const char *const afields[] = {"min", "max", NULL};
    if (!json_is_object(age)) {
        return bad(p, "age", NULL, "age", "'age' must be an object with 'min' (and 'max')");
    }
    if (known(p, age, "age", afields) < 0 ||
        int_member(p, age, "min", "age", true, 0, 30, 0, &in->age_min) < 0 ||
        int_member(p, age, "max", "age", false, in->age_min, 30, -1, &in->age_max) < 0) {
        return -1;
    }
    if (parse_scale(p, doc, in) < 0 || parse_items(p, doc, in) < 0 ||
        parse_scoring(p, doc, in) < 0) {
        return -1;
    }
    json_t *src = json_object_get(doc, "source");
    static const char *const srcf[] = {"citation", "url", "terms", NULL};
    if (!json_is_object(src)) {
        return bad(p, "source", NULL, "source",
                   "'source' must give the 'citation' and the 'terms' of use");
    }
    if (known(p, src, "source", srcf) < 0) {
        return -1;
    }
    in->citation = str_member(p, src, "citation", "source", true);
    in->terms = in->citation ? str_member(p, src, "terms", "source", true) : NULL;
    in->url = in->terms ? str_member(p, src, "url", "source", false) : NULL;
    return err_failed(p->e) ? -1 : 0;
}

void instrument_free(struct instrument *in)
{
    if (!in) {
        return;
    }
    free(in->scale);
    free(in->items);
    free(in->total.items);
    free(in->total.bands);
    for (size_t i = 0; i < in->n_subscales; i++) {
        free(in->subscales[i].items);
        free(in->subscales[i].bands);
    }
    free(in->subscales);
    free((char *)in->file);
    json_decref(in->doc);
    free(in);
}

struct instrument *instrument_parse(const char *file, const char *text, size_t n, struct err *e)
{
    struct parse_ctx p = {file, text, n, e};
    err_clear(e);
    if (n > MAX_FILE_BYTES) {
        err_set(e, ERR_INVALID, "invalid_instrument", "document", "'%s': larger than %d bytes",
                file, MAX_FILE_BYTES);
        return NULL;
    }
    json_error_t je;
    json_t *doc = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        err_set(e, ERR_INVALID, "invalid_instrument", "document", "'%s' line %d: %s", file,
                je.line, je.text);
        return NULL;
    }
    struct instrument *in = xcalloc(1, sizeof(*in));
    in->doc = doc;
    in->file = xstrdup(file);
    if (parse_doc(&p, doc, in) < 0) {
        instrument_free(in);
        return NULL;
    }
    return in;
}

/* ---- the loaded set ---- */

/* Every loaded instrument, sorted by id; written at start-up only. */
static struct instrument **loaded;
/* How many are loaded. */
static size_t n_loaded;

void instruments_shutdown(void)
{
    for (size_t i = 0; i < n_loaded; i++) {
        instrument_free(loaded[i]);
    }
    free(loaded);
    loaded = NULL;
    n_loaded = 0;
}

/* Compares instruments by id, for qsort. */
static int inst_cmp(const void *a, const void *b)
{
    const struct instrument *const *x = a, *const *y = b;
    return strcmp((*x)->id, (*y)->id);
}

/* Compares C strings, for qsort over char *. */
static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Parses one file and adds it to the set being built, refusing a duplicate id. */
static int add_one(struct instrument ***set, size_t *n, const char *file, const char *text,
                   size_t len, struct err *e)
{
    struct instrument *in = instrument_parse(file, text, len, e);
    if (!in) {
        return -1;
    }
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*set)[i]->id, in->id) == 0) {
            err_set(e, ERR_INVALID, "invalid_instrument", "id",
                    "'%s': id '%s' is already used by '%s'", file, in->id, (*set)[i]->file);
            instrument_free(in);
            return -1;
        }
    }
    *set = xrealloc(*set, xmul(*n + 1, sizeof(**set)));
    (*set)[(*n)++] = in;
    return 0;
}

/* Loads every .json file of dir (sorted by name) into the set. A missing
 * folder is no error. */
static int load_dir(struct instrument ***set, size_t *n, const char *dir, struct err *e)
{
    DIR *d = opendir(dir);
    if (!d) {
        return 0;
    }
    char **names = NULL;
    size_t n_names = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len > 5 && de->d_name[0] != '.' && strcmp(de->d_name + len - 5, ".json") == 0) {
            names = xrealloc(names, xmul(n_names + 1, sizeof(*names)));
            names[n_names++] = xstrdup(de->d_name);
        }
    }
    closedir(d);
    if (n_names > 1) {
        qsort(names, n_names, sizeof(*names), str_cmp);
    }
    int rc = 0;
    for (size_t i = 0; i < n_names; i++) {
        struct buf path = BUF_INIT, text = BUF_INIT;
        buf_addf(&path, "%s/%s", dir, names[i]);
        FILE *f = rc == 0 ? fopen(path.buf, "rb") : NULL;
        if (rc == 0 && !f) {
            rc = err_set(e, ERR_INVALID, "invalid_instrument", "document",
                         "could not open '%s'", path.buf);
        }
        if (f) {
            char chunk[8192];
            size_t got;
            while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0 &&
                   text.len <= MAX_FILE_BYTES) {
                buf_add(&text, chunk, got);
            }
            bool failed = ferror(f);
            fclose(f);
            if (failed) {
                rc = err_set(e, ERR_INVALID, "invalid_instrument", "document",
                             "could not read '%s'", path.buf);
            } else {
                rc = add_one(set, n, path.buf, text.buf, text.len, e);
            }
        }
        buf_release(&path);
        buf_release(&text);
        free(names[i]);
    }
    free(names);
    return rc;
}

int instruments_init(const char *extra_dir, struct err *e)
{
    struct instrument **set = NULL;
    size_t n = 0;
    int rc = 0;
    for (size_t i = 0; i < n_assets && rc == 0; i++) {
        const char *name = assets[i].name;
        size_t len = strlen(name);
        if (strncmp(name, "instruments/", 12) == 0 && len > 17 &&
            strcmp(name + len - 5, ".json") == 0) {
            char file[160];
            snprintf(file, sizeof(file), "assets/%s", name);
            rc = add_one(&set, &n, file, (const char *)assets[i].data, assets[i].len, e);
        }
    }
    if (rc == 0 && extra_dir && *extra_dir) {
        rc = load_dir(&set, &n, extra_dir, e);
    }
    if (rc < 0) {
        for (size_t i = 0; i < n; i++) {
            instrument_free(set[i]);
        }
        free(set);
        return -1;
    }
    instruments_shutdown();
    if (n > 1) {
        qsort(set, n, sizeof(*set), inst_cmp);
    }
    loaded = set;
    n_loaded = n;
    return 0;
}

const struct instrument *instrument_find(const char *id)
{
    for (size_t i = 0; id && i < n_loaded; i++) {
        if (strcmp(loaded[i]->id, id) == 0) {
            return loaded[i];
        }
    }
    return NULL;
}

size_t instruments_count(void)
{
    return n_loaded;
}

const struct instrument *instrument_at(size_t i)
{
    return i < n_loaded ? loaded[i] : NULL;
}

const char *instrument_name(const struct instrument *in, const char *lang)
{
    return lang && strcmp(lang, "en") == 0 ? in->name_en : in->name_ar;
}

bool instrument_age_ok(const struct instrument *in, int age)
{
    return age >= in->age_min && (in->age_max < 0 || age <= in->age_max);
}

json_t *instrument_json(const struct instrument *in)
{
    json_t *j = json_deep_copy(in->doc);
    json_object_del(j, "$comment");
    json_object_set_new(j, "file", json_string(in->file));
    json_object_set_new(j, "min", json_integer(in->total.min));
    json_object_set_new(j, "max", json_integer(in->total.max));
    return j;
}

/* ---- scoring ---- */

/* The band of score s holding v, or NULL. */
static const struct instrument_band *band_of(const struct instrument_scale *s, int v)
{
    for (size_t i = 0; i < s->n_bands; i++) {
        if (v >= s->bands[i].min && v <= s->bands[i].max) {
            return &s->bands[i];
        }
    }
    return NULL;
}

/* Scores s from the per-item values (vals[i] valid when given[i]); *out gets
 * the score; returns false when there is none (nothing answered). */
static bool score_one(const struct instrument *in, const struct instrument_scale *s,
                      const int *vals, const bool *given, int *out)
{
    long sum = 0, answered = 0;
    for (size_t k = 0; k < s->n_items; k++) {
        size_t i = s->items[k];
        if (given[i]) {
            sum += vals[i];
            answered++;
        } else if (in->missing == MISSING_ZERO) {
            sum += in->scale[0].value;
        }
    }
    if (in->missing == MISSING_PRORATE && answered < (long)s->n_items) {
        if (answered == 0) {
            return false;
        }
        sum = lround((double)sum * (double)s->n_items / (double)answered);
    }
    *out = (int)(sum * in->multiplier);
    return true;
}

/* Adds {"score", "band"} for s to obj under key. */
static void put_score(json_t *obj, const char *key, const struct instrument_scale *s, bool ok,
                      int v)
{
    const struct instrument_band *b = ok ? band_of(s, v) : NULL;
    json_object_set_new(obj, key, json_pack("{s:o, s:o}", "score",
                                            ok ? json_integer(v) : json_null(), "band",
                                            b ? json_string(b->id) : json_null()));
}

int instrument_score(const struct instrument *in, json_t *answers, json_t **result,
                     struct err *e)
{
    *result = NULL;
    if (!json_is_object(answers)) {
        return err_set(e, ERR_INVALID, "invalid_type", "answers",
                       "'answers' must be an object of item ids and values");
    }
    const char *k;
    json_t *v;
    json_object_foreach(answers, k, v)
    {
        if (item_index(in, k) == in->n_items) {
            char field[64];
            snprintf(field, sizeof(field), "answers.%.*s", shown(k, 40), k);
            return err_set(e, ERR_INVALID, "unknown_item", field,
                           "'%.*s' is not an item of '%s'", shown(k, 40), k, in->id);
        }
    }
    int *vals = xcalloc(in->n_items, sizeof(int));
    bool *given = xcalloc(in->n_items, sizeof(bool));
    json_t *critical = json_array();
    int missing = 0;
    for (size_t i = 0; i < in->n_items; i++) {
        const struct instrument_item *it = &in->items[i];
        char field[64];
        snprintf(field, sizeof(field), "answers.%s", it->id);
        json_t *a = json_object_get(answers, it->id);
        if (!a) {
            free(vals);
            free(given);
            json_decref(critical);
            return err_set(e, ERR_INVALID, "missing_item", field,
                           "item '%s' is missing (give null for an item left unanswered)",
                           it->id);
        }
        if (json_is_null(a)) {
            missing++;
            continue;
        }
        if (!json_is_integer(a) || !on_scale(in, json_integer_value(a))) {
            free(vals);
            free(given);
            json_decref(critical);
            return err_set(e, ERR_INVALID, "not_on_scale", field,
                           "the answer to item '%s' is not a value of the scale (%d to %d)",
                           it->id, in->scale[0].value, in->scale[in->n_scale - 1].value);
        }
        int raw = (int)json_integer_value(a);
        for (size_t c = 0; c < it->n_critical; c++) {
            if (it->critical[c] == raw) {
                json_array_append_new(critical, json_string(it->id));
                break;
            }
        }
        vals[i] = it->reverse ? in->scale[0].value + in->scale[in->n_scale - 1].value - raw : raw;
        given[i] = true;
    }
    bool valid = missing == 0 || (in->missing != MISSING_NONE && missing <= in->max_missing);
    long raw_sum = 0;
    for (size_t i = 0; i < in->n_items; i++) {
        raw_sum += given[i] ? vals[i] : 0;
    }
    json_t *res = json_object();
    json_object_set_new(res, "instrument", json_string(in->id));
    json_object_set_new(res, "version", json_string(in->version));
    int total = 0;
    bool ok = valid && score_one(in, &in->total, vals, given, &total);
    const struct instrument_band *b = ok ? band_of(&in->total, total) : NULL;
    json_object_set_new(res, "total", ok ? json_integer(total) : json_null());
    json_object_set_new(res, "band", b ? json_string(b->id) : json_null());
    json_object_set_new(res, "raw", json_integer(raw_sum));
    json_object_set_new(res, "answered", json_integer((json_int_t)in->n_items - missing));
    json_object_set_new(res, "missing", json_integer(missing));
    json_object_set_new(res, "prorated",
                        json_boolean(valid && missing > 0 && in->missing == MISSING_PRORATE));
    json_object_set_new(res, "valid", json_boolean(valid));
    json_t *subs = json_object();
    for (size_t s = 0; s < in->n_subscales; s++) {
        int sv = 0;
        bool sok = valid && score_one(in, &in->subscales[s], vals, given, &sv);
        put_score(subs, in->subscales[s].id, &in->subscales[s], sok, sv);
    }
    json_object_set_new(res, "subscales", subs);
    json_object_set_new(res, "critical", critical);
    free(vals);
    free(given);
    *result = res;
    return 0;
}

/* ---- the service ---- */

/* Rolls back the open transaction and returns -1. */
static int fail(struct db *db)
{
    db_rollback(db);
    return -1;
}

/* Whole years from birth date bd (YYYY-MM-DD) to today; -1 when bd is malformed. */
static int age_years(const char *bd)
{
    int by, bm, bdd, y, m, d;
    if (!bd || time_date_parse(bd, &by, &bm, &bdd) < 0) {
        return -1;
    }
    time_today(&y, &m, &d);
    int age = y - by - ((m < bm || (m == bm && d < bdd)) ? 1 : 0);
    return age < 0 ? -1 : age;
}

/* Looks up the open case case_id of a's organization: writes its child's id
 * and the child's age (-1 when unknown). Inside the caller's transaction. */
static int open_case_child(struct db *db, const struct actor *a, const char *case_id,
                           char child_out[40], int *age_out, struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT c.child_id, c.status, ch.birth_date FROM cases c"
                               " JOIN children ch ON ch.id = c.child_id"
                               " WHERE c.id = $1 AND c.org_id = $2",
                               "tt", case_id, a->org_id);
    if (!s) {
        return found < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such case");
    }
    snprintf(child_out, 40, "%s", db_col_text(s, 0));
    bool open = strcmp(db_col_text(s, 1), "open") == 0;
    *age_out = age_years(db_col_text(s, 2));
    db_done(s);
    if (!open) {
        return err_set(e, ERR_CONFLICT, "case_closed", "case_id",
                       "the case is closed: reopen it first");
    }
    return 0;
}

int instrument_record(struct db *db, const struct actor *a, const char *case_id,
                      const char *instrument_id, json_t *answers,
                      const char *age_override_reason, char id_out[40], json_t **result,
                      struct err *e)
{
    if (result) {
        *result = NULL;
    }
    if (!actor_can(a, PERM_CASES_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to record responses");
    }
    const struct instrument *in = instrument_find(instrument_id);
    if (!in) {
        return err_set(e, ERR_INVALID, "unknown_instrument", "instrument",
                       "no instrument '%.*s'", shown(instrument_id, 40),
                       instrument_id ? instrument_id : "");
    }
    if (!case_id || !uuid_valid(case_id)) {
        return err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such case");
    }
    bool override = !text_blank(age_override_reason);
    if (override && (!utf8_valid(age_override_reason, strlen(age_override_reason)) ||
                     utf8_length(age_override_reason, strlen(age_override_reason)) > 500)) {
        return err_set(e, ERR_INVALID, "invalid_field", "override_reason",
                       "'override_reason' must be a text of at most 500 characters");
    }
    json_t *res = NULL;
    if (instrument_score(in, answers, &res, e) < 0) {
        return -1;
    }
    if (!json_is_true(json_object_get(res, "valid"))) {
        json_decref(res);
        const char *field = "answers";
        char fbuf[64];
        for (size_t i = 0; i < in->n_items; i++) {
            if (json_is_null(json_object_get(answers, in->items[i].id))) {
                snprintf(fbuf, sizeof(fbuf), "answers.%s", in->items[i].id);
                field = fbuf;
                break;
            }
        }
        return err_set(e, ERR_INVALID, "too_many_missing", field,
                       "too many items are unanswered to score '%s' (at most %d may be)", in->id,
                       in->missing == MISSING_NONE ? 0 : in->max_missing);
    }
    if (db_begin(db, false, e) < 0) {
        json_decref(res);
        return -1;
    }
    char child[40];
    int age = -1;
    if (open_case_child(db, a, case_id, child, &age, e) < 0) {
        json_decref(res);
        return fail(db);
    }
    if (!instrument_age_ok(in, age) && !override) {
        json_decref(res);
        db_rollback(db);
        if (in->age_max < 0) {
            return err_set(e, ERR_INVALID, "age_out_of_range", "instrument",
                           "'%s' is meant for ages %d and over; the child is %d (give a reason "
                           "to use it anyway)", in->id, in->age_min, age);
        }
        return err_set(e, ERR_INVALID, "age_out_of_range", "instrument",
                       "'%s' is meant for ages %d to %d; the child is %d (give a reason to use "
                       "it anyway)", in->id, in->age_min, in->age_max, age);
    }
    if (!instrument_age_ok(in, age)) {
        json_object_set_new(res, "age_override",
                            json_pack("{s:i, s:s}", "age", age, "reason", age_override_reason));
    }
    char id[UUID_STR_LEN], at[32];
    uuid_v7(id);
    time_format_iso(time_now_ms(), at, sizeof(at));
    struct arena ar;
    arena_init(&ar);
    char *plain = json_dumps(answers, JSON_COMPACT | JSON_SORT_KEYS);
    char *sealed = keys_seal(db, &ar, a->org_id, id, "answers", plain, strlen(plain), e);
    free(plain);
    json_t *crit = json_object_get(res, "critical");
    char *scores = json_dumps(res, JSON_COMPACT | JSON_SORT_KEYS);
    int rc = sealed ? 0 : -1;
    if (rc == 0) {
        /* valid scores always have a total: at least one item is answered */
        rc = db_run(db, e,
                    "INSERT INTO instrument_responses (id, org_id, case_id, child_id, instrument,"
                    " answers, total, scores, band, critical, administered_by, administered_at)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    "ttttttittbtt", id, a->org_id, case_id, child, in->id, sealed,
                    (int64_t)json_integer_value(json_object_get(res, "total")), scores,
                    json_string_value(json_object_get(res, "band")),
                    json_array_size(crit) > 0 ? 1 : 0, a->user_id[0] ? a->user_id : "cli",
                    at) < 0
                 ? -1
                 : 0;
    }
    free(scores);
    arena_release(&ar);
    /* a critical answer raises the urgent flag at once, once per item hit */
    size_t i;
    json_t *c;
    json_array_foreach(crit, i, c)
    {
        char reason[96];
        snprintf(reason, sizeof(reason), "instrument:%s:%s", in->id, json_string_value(c));
        if (rc == 0 && case_raise_urgent_tx(db, a, case_id, reason, e) < 0) {
            rc = -1;
        }
    }
    char detail[96];
    snprintf(detail, sizeof(detail), "%s%s%s", in->id, json_array_size(crit) ? " critical" : "",
             json_object_get(res, "age_override") ? " age_override" : "");
    if (rc < 0 ||
        actor_audit(db, a, "instrument.record", "instrument_response", id, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        json_decref(res);
        return fail(db);
    }
    snprintf(id_out, 40, "%s", id);
    if (result) {
        json_object_set_new(res, "id", json_string(id));
        *result = res;
    } else {
        json_decref(res);
    }
    return 0;
}

json_t *instrument_response_get(struct db *db, const struct actor *a, const char *id,
                                struct err *e)
{
    if (!actor_can(a, PERM_PSYCH_NOTES)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to read instrument answers");
        return NULL;
    }
    if (!id || !uuid_valid(id)) {
        err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such response");
        return NULL;
    }
    if (db_begin(db, false, e) < 0) {
        return NULL;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT case_id, child_id, instrument, answers, total, scores,"
                               " band, critical, administered_by, administered_at"
                               " FROM instrument_responses WHERE id = $1 AND org_id = $2",
                               "tt", id, a->org_id);
    if (!s) {
        if (found == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such response");
        }
        fail(db);
        return NULL;
    }
    struct arena ar;
    arena_init(&ar);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "case_id", db_col_text(s, 0),
                          "child_id", db_col_text(s, 1), "instrument", db_col_text(s, 2));
    char *sealed = arena_strdup(&ar, db_col_text(s, 3));
    json_object_set_new(j, "total", db_col_null(s, 4) ? json_null()
                                                      : json_integer(db_col_int64(s, 4)));
    json_object_set_new(j, "scores", json_loads(db_col_text(s, 5), 0, NULL));
    json_object_set_new(j, "band", db_col_null(s, 6) ? json_null()
                                                     : json_string(db_col_text(s, 6)));
    json_object_set_new(j, "critical", json_boolean(db_col_int64(s, 7) != 0));
    json_object_set_new(j, "administered_by", json_string(db_col_text(s, 8)));
    json_object_set_new(j, "administered_at", json_string(db_col_text(s, 9)));
    db_done(s);
    char *plain = keys_open(db, &ar, a->org_id, id, "answers", sealed, NULL, e);
    json_t *answers = plain ? json_loads(plain, 0, NULL) : NULL;
    if (plain) {
        sodium_memzero(plain, strlen(plain));
    }
    arena_release(&ar);
    if (!answers) {
        if (!err_failed(e)) {
            err_set(e, ERR_INTERNAL, "corrupt", "answers", "the stored answers cannot be read");
        }
        json_decref(j);
        fail(db);
        return NULL;
    }
    json_object_set_new(j, "answers", answers);
    const char *inst = json_string_value(json_object_get(j, "instrument"));
    if (actor_audit(db, a, "instrument.view", "instrument_response", id, "ok", inst, e) < 0 ||
        db_commit(db, e) < 0) {
        json_decref(j);
        fail(db);
        return NULL;
    }
    return j;
}

json_t *instrument_history(struct db *db, const struct actor *a, const char *child_id,
                           const char *instrument_id, struct err *e)
{
    if (!actor_can(a, PERM_CASES_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to read cases");
        return NULL;
    }
    bool own = !db_in_transaction(db);
    if (own && db_begin(db, true, e) < 0) {
        return NULL;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT 1 FROM children WHERE id = $1 AND org_id = $2",
                               "tt", child_id ? child_id : "", a->org_id);
    if (!s) {
        if (found == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such child");
        }
        if (own) {
            db_rollback(db);
        }
        return NULL;
    }
    db_done(s);
    s = db_query(db, e,
                 "SELECT id, instrument, total, band, scores, critical, administered_at"
                 " FROM instrument_responses WHERE child_id = $1 AND org_id = $2"
                 " AND ($3 = '' OR instrument = $3) ORDER BY administered_at, id",
                 "ttt", child_id, a->org_id, instrument_id ? instrument_id : "");
    json_t *out = s ? json_array() : NULL;
    int rc;
    while (s && (rc = db_step(s, e)) == 1) {
        json_t *row = json_pack("{s:s, s:s}", "id", db_col_text(s, 0), "instrument",
                                db_col_text(s, 1));
        json_object_set_new(row, "total", db_col_null(s, 2) ? json_null()
                                                            : json_integer(db_col_int64(s, 2)));
        json_object_set_new(row, "band", db_col_null(s, 3) ? json_null()
                                                           : json_string(db_col_text(s, 3)));
        json_t *sc = json_loads(db_col_text(s, 4), 0, NULL);
        json_object_set_new(row, "scores", sc ? sc : json_object());
        json_object_set_new(row, "critical", json_boolean(db_col_int64(s, 5) != 0));
        json_object_set_new(row, "administered_at", json_string(db_col_text(s, 6)));
        json_array_append_new(out, row);
    }
    if (s) {
        db_done(s);
        if (rc < 0) {
            json_decref(out);
            out = NULL;
        }
    }
    if (own) {
        db_rollback(db);
    }
    return out;
}
