/*
 * normalize.c: Arabic and Latin name normalization and the cross-script
 * consonant skeleton.
 *
 * Arabic letters are kept internally as one byte each (0x80 + index into
 * ar_letters) so that the similarity functions work on bytes; Latin letters
 * are lower-case ASCII. The skeleton maps both scripts to the same consonant
 * classes (vowels, alef, ain and hamza dropped; sound-alike letters merged),
 * so that محمد, Mohammed and Muhammad all become "mhmd".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "core/banned.h"
#include "match/match.h"

/* Normalized Arabic letters; internal code = 0x80 + index. */
static const uint32_t ar_letters[] = {
    0x0627, 0x0628, 0x062A, 0x062B, 0x062C, 0x062D, 0x062E, 0x062F, 0x0630, 0x0631,
    0x0632, 0x0633, 0x0634, 0x0635, 0x0636, 0x0637, 0x0638, 0x0639, 0x063A, 0x0641,
    0x0642, 0x0643, 0x0644, 0x0645, 0x0646, 0x0647, 0x0648, 0x064A, 0x0621,
};
#define N_AR_LETTERS ((int)(sizeof(ar_letters) / sizeof(ar_letters[0])))

/* Letter indexes used by the rules below. */
enum {
    AR_ALEF = 0, AR_BA, AR_TA, AR_THA, AR_JIM, AR_HHA, AR_KHA, AR_DAL, AR_THAL, AR_RA,
    AR_ZAY, AR_SIN, AR_SHIN, AR_SAD, AR_DAD, AR_TTA, AR_DTHA, AR_AIN, AR_GHAIN, AR_FA,
    AR_QAF, AR_KAF, AR_LAM, AR_MIM, AR_NUN, AR_HA, AR_WAW, AR_YA, AR_HAMZA
};

/* Skeleton class of each Arabic letter; 0 is a vowel (dropped), 'W'/'Y' are
 * consonants only at the start of a word. */
static const char ar_skel[] = {
    0, 'b', 't', 's', 'j', 'h', 'x', 'd', 'z', 'r', 'z', 's', 'c', 's', 'd',
    't', 'z', 0, 'g', 'f', 'k', 'k', 'l', 'm', 'n', 'h', 'W', 'Y', 0,
};

/* What a code point in U+0600..U+06FF becomes. */
#define MAP_SEP (-1)   /* a word separator */
#define MAP_DROP (-2)  /* dropped without separating (marks, tatweel) */
#define MAP_DIGIT 100  /* MAP_DIGIT + d for digit d */

/* Fills the U+0600..U+06FF map; called once, the table is then read-only. */
static void arabic_map_fill(int16_t map[256])
{
    for (int i = 0; i < 256; i++) {
        map[i] = MAP_SEP;
    }
    for (int i = 0; i < N_AR_LETTERS; i++) {
        map[ar_letters[i] - 0x600] = (int16_t)i;
    }
    /* alef forms */
    map[0x22] = map[0x23] = map[0x25] = AR_ALEF;
    map[0x71] = map[0x72] = map[0x73] = map[0x75] = AR_ALEF;
    /* hamza carriers all become the bare hamza, so وائل and واءل meet */
    map[0x24] = map[0x26] = AR_HAMZA;
    /* ta marbuta and the Persian/Urdu ha forms */
    map[0x29] = AR_HA;
    map[0xBE] = map[0xC0] = map[0xC1] = map[0xC2] = map[0xC3] = map[0xD5] = AR_HA;
    /* alef maqsura and ya forms */
    map[0x49] = AR_YA;
    map[0x78] = map[0xCC] = map[0xCD] = map[0xCE] = map[0xD0] = map[0xD1] = AR_YA;
    map[0xD2] = map[0xD3] = AR_YA;
    /* waw forms */
    map[0x76] = map[0x77] = map[0xC4] = map[0xC5] = map[0xC6] = map[0xC7] = AR_WAW;
    map[0xC8] = map[0xC9] = map[0xCA] = map[0xCB] = map[0xCF] = AR_WAW;
    /* Persian and Urdu consonants */
    map[0x6E] = map[0x7E] = AR_BA;                /* ٮ پ */
    map[0x6F] = AR_QAF;                           /* ٯ */
    map[0x79] = map[0x7A] = map[0x7B] = AR_TA;    /* ٹ */
    map[0x86] = map[0x87] = AR_JIM;               /* چ */
    map[0x88] = map[0x89] = map[0x8A] = AR_DAL;   /* ڈ */
    map[0x91] = map[0x92] = AR_RA;                /* ڑ */
    map[0x98] = AR_ZAY;                           /* ژ */
    map[0xA4] = map[0xA5] = map[0xA6] = AR_FA;    /* ڤ */
    map[0xA9] = map[0xAA] = map[0xAB] = map[0xAF] = map[0xB3] = AR_KAF; /* ک ڪ گ */
    map[0xBA] = map[0xBB] = AR_NUN;               /* ں */
    /* diacritics, tatweel, Quranic marks and the superscript alef */
    for (int i = 0x10; i <= 0x1A; i++) {
        map[i] = MAP_DROP;
    }
    for (int i = 0x4B; i <= 0x5F; i++) {
        map[i] = MAP_DROP;
    }
    map[0x40] = map[0x70] = MAP_DROP;
    for (int i = 0xD6; i <= 0xED; i++) {
        map[i] = MAP_DROP;
    }
    map[0xE5] = AR_WAW; /* small waw */
    map[0xE6] = AR_YA;  /* small ya */
    /* Arabic-Indic and extended Arabic-Indic digits */
    for (int d = 0; d < 10; d++) {
        map[0x60 + d] = (int16_t)(MAP_DIGIT + d);
        map[0xF0 + d] = (int16_t)(MAP_DIGIT + d);
    }
}

/* The U+0600..U+06FF map, filled on first use (idempotent, so a race is benign). */
static int16_t arabic_map[256];
static volatile int arabic_map_ready;

/* Returns the filled map. */
static const int16_t *arabic_map_get(void)
{
    if (!arabic_map_ready) {
        int16_t tmp[256];
        arabic_map_fill(tmp);
        memcpy(arabic_map, tmp, sizeof(tmp));
        __atomic_store_n(&arabic_map_ready, 1, __ATOMIC_RELEASE);
    }
    return arabic_map;
}

/* Decodes one UTF-8 code point from s[*i..n); returns it, or -1 for an invalid
 * byte (skipped). Advances *i. */
static int32_t utf8_next(const unsigned char *s, size_t n, size_t *i)
{
    unsigned c = s[*i];
    if (c < 0x80) {
        (*i)++;
        return (int32_t)c;
    }
    int extra;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        extra = 1;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        extra = 2;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        extra = 3;
        cp = c & 0x07;
    } else {
        (*i)++;
        return -1;
    }
    if (*i + (size_t)extra >= n) {
        (*i)++;
        return -1;
    }
    for (int k = 1; k <= extra; k++) {
        unsigned cc = s[*i + (size_t)k];
        if ((cc & 0xC0) != 0x80) {
            (*i)++;
            return -1;
        }
        cp = (cp << 6) | (cc & 0x3F);
    }
    if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
        (*i)++;
        return -1;
    }
    *i += (size_t)extra + 1;
    return (int32_t)cp;
}

/* Maximum words kept from one value; later words are ignored for matching. */
#define MAX_TOKENS 48

/* A word during normalization. */
struct token {
    unsigned char s[MATCH_NAME_MAX + 1]; /* letters: Arabic codes, a-z or digits */
    size_t n;                            /* bytes in s */
    int n_ar;                            /* Arabic letters in s */
    int n_lat;                           /* Latin letters in s */
};

/* Words of one value. */
struct tokens {
    struct token t[MAX_TOKENS]; /* the words */
    int n;                      /* words in use */
    bool open;                  /* the last word is still being built */
};

/* Script of a letter byte: 1 Arabic, 2 Latin, 0 digit. */
static int byte_script(unsigned char c)
{
    if (c >= 0x80) {
        return 1;
    }
    if (c >= 'a' && c <= 'z') {
        return 2;
    }
    return 0;
}

/* Ends the current word. */
static void tok_break(struct tokens *ts)
{
    ts->open = false;
}

/* Appends a letter byte to the current word, starting a new one at a script
 * change. Letters past the limits are ignored. */
static void tok_add(struct tokens *ts, unsigned char c)
{
    int sc = byte_script(c);
    if (ts->open) {
        struct token *t = &ts->t[ts->n - 1];
        int cur = t->n_ar > 0 ? 1 : (t->n_lat > 0 ? 2 : 0);
        if (sc != 0 && cur != 0 && sc != cur) {
            ts->open = false;
        }
    }
    if (!ts->open) {
        if (ts->n == MAX_TOKENS) {
            return;
        }
        struct token *t = &ts->t[ts->n++];
        t->n = 0;
        t->n_ar = t->n_lat = 0;
        ts->open = true;
    }
    struct token *t = &ts->t[ts->n - 1];
    if (t->n >= MATCH_NAME_MAX) {
        return;
    }
    t->s[t->n++] = c;
    if (sc == 1) {
        t->n_ar++;
    } else if (sc == 2) {
        t->n_lat++;
    }
}

/* Adds the Latin letters of a non-ASCII Latin code point (é -> e, ß -> ss). */
static void add_latin_extended(struct tokens *ts, int32_t cp)
{
    utf8proc_int32_t dst[8];
    utf8proc_ssize_t n = utf8proc_decompose_char(
        cp, dst, 8, (utf8proc_option_t)(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_STRIPMARK |
                            UTF8PROC_CASEFOLD),
        NULL);
    if (n <= 0 || n > 8) {
        tok_break(ts);
        return;
    }
    for (utf8proc_ssize_t k = 0; k < n; k++) {
        int32_t c = dst[k];
        if (c >= 'A' && c <= 'Z') {
            c += 'a' - 'A';
        }
        if (c >= 'a' && c <= 'z') {
            tok_add(ts, (unsigned char)c);
        } else if (c == 0x0131) { /* dotless i */
            tok_add(ts, 'i');
        } else if (c == 0x00F8) {
            tok_add(ts, 'o');
        } else if (c == 0x00E6) {
            tok_add(ts, 'a');
            tok_add(ts, 'e');
        } else if (c == 0x0111 || c == 0x00F0) {
            tok_add(ts, 'd');
        } else if (c == 0x0142) {
            tok_add(ts, 'l');
        }
    }
}

/* True for code points dropped without separating words: zero-width and
 * direction marks, soft hyphen, combining marks and apostrophes (Sa'id). */
static bool cp_is_silent(int32_t cp)
{
    return cp == '\'' || cp == '`' || cp == 0x00AD || (cp >= 0x0300 && cp <= 0x036F) ||
           (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2060 && cp <= 0x2069) || cp == 0xFEFF || cp == 0x2018 || cp == 0x2019 ||
           cp == 0x02BC || cp == 0x02BE || cp == 0x02BF || cp == 0x02B9 || cp == 0x00B4;
}

/* True when a code point needs NFKC before our tables (presentation forms,
 * full-width letters, ligatures). */
static bool cp_needs_nfkc(int32_t cp)
{
    return (cp >= 0xFB00 && cp <= 0xFDFF) || (cp >= 0xFE70 && cp <= 0xFEFF) ||
           (cp >= 0xFF00 && cp <= 0xFFEF) || (cp >= 0x1D400 && cp <= 0x1D7FF) ||
           (cp >= 0x2100 && cp <= 0x214F) || (cp >= 0x3000 && cp <= 0x303F) ||
           (cp >= 0x0080 && cp <= 0x00BF) || (cp >= 0x1E00 && cp <= 0x1EFF) ||
           (cp >= 0x2000 && cp <= 0x206F);
}

/* Splits s[0..len) into words of normalized letters. */
static void tokenize(const unsigned char *s, size_t len, struct tokens *ts)
{
    const int16_t *amap = arabic_map_get();
    ts->n = 0;
    ts->open = false;
    size_t i = 0;
    while (i < len) {
        int32_t cp = utf8_next(s, len, &i);
        if (cp < 0) {
            tok_break(ts);
        } else if (cp < 0x80) {
            if (cp >= 'A' && cp <= 'Z') {
                tok_add(ts, (unsigned char)(cp + 'a' - 'A'));
            } else if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
                tok_add(ts, (unsigned char)cp);
            } else if (cp_is_silent(cp)) {
                /* joined: Sa'id -> said */
            } else {
                tok_break(ts);
            }
        } else if (cp >= 0x0600 && cp <= 0x06FF) {
            int m = amap[cp - 0x600];
            if (m == MAP_SEP) {
                tok_break(ts);
            } else if (m == MAP_DROP) {
                /* marks and tatweel */
            } else if (m >= MAP_DIGIT) {
                tok_add(ts, (unsigned char)('0' + m - MAP_DIGIT));
            } else {
                tok_add(ts, (unsigned char)(0x80 + m));
            }
        } else if (cp_is_silent(cp)) {
            /* invisible */
        } else if ((cp >= 0x00C0 && cp <= 0x024F) || (cp >= 0x1E00 && cp <= 0x1EFF)) {
            add_latin_extended(ts, cp);
        } else {
            tok_break(ts);
        }
    }
}

/* True when token t equals the n bytes of w. */
static bool tok_is(const struct token *t, const char *w)
{
    size_t n = strlen(w);
    return t->n == n && memcmp(t->s, w, n) == 0;
}

/* True when t is one of the NULL-terminated words. */
static bool tok_in(const struct token *t, const char *const *words)
{
    for (int i = 0; words[i]; i++) {
        if (tok_is(t, words[i])) {
            return true;
        }
    }
    return false;
}

/* Arabic words in internal codes (see ar_letters). */
#define W_ABD "\x91\x81\x87"        /* عبد */
#define W_ABU "\x80\x81\x9A"        /* ابو */
#define W_ABI "\x80\x81\x9B"        /* ابي */
#define W_ABA "\x80\x81\x80"        /* ابا */
#define W_BU "\x81\x9A"             /* بو */
#define W_BIN "\x81\x98"            /* بن */
#define W_IBN "\x80\x81\x98"        /* ابن */
#define W_BINT "\x81\x98\x82"       /* بنت */
#define W_AL "\x80\x96"             /* ال */

/* Words that join the following word: عبد الله, ابو بكر, Abdel Kader, Abu Ali. */
static const char *const prefix_words[] = {
    W_ABD, W_ABU, W_ABI, W_ABA, W_BU, "abd", "abdel", "abdul", "abdal", "abdol", "abdu",
    "abu", "abou", "abo", "bou", "abi", NULL,
};
/* Words that join the preceding one: نور الدين, جار الله, Nour Eddine. */
static const char *const suffix_words[] = {
    "\x80\x96\x87\x9B\x98",             /* الدين */
    "\x80\x96\x96\x99",                 /* الله */
    "\x80\x96\x80\x8B\x96\x80\x97",     /* الاسلام */
    "\x80\x96\x85\x94",                 /* الحق */
    "\x80\x96\x8A\x97\x80\x98",         /* الزمان */
    "din", "deen", "eddine", "eddin", "uddin", "uddeen", "allah", "ullah", "illah", "alla",
    "lah", "ddin", NULL,
};
/* bin / ibn / bint: separators between a person's names, dropped. */
static const char *const separator_words[] = {
    W_BIN, W_IBN, W_BINT, "bin", "ibn", "bint", "ben", "bnt", NULL,
};
/* Latin forms of the article, including sun-letter assimilation (ash-Shami). */
static const char *const latin_articles[] = {
    "al", "el", "ul", "il", "ad", "ar", "as", "at", "az", "an", "ash", "ed", "er", "es",
    "et", "ez", "en", "ud", "ur", "us", "ut", "uz", "un", NULL,
};

/* Appends token b to token a (within the size limit). */
static void tok_join(struct token *a, const struct token *b)
{
    size_t room = MATCH_NAME_MAX - a->n;
    size_t k = b->n < room ? b->n : room;
    memcpy(a->s + a->n, b->s, k);
    a->n += k;
    a->n_ar += b->n_ar;
    a->n_lat += b->n_lat;
}

/* Joins compounds and drops separators, in place. */
static void join_compounds(struct tokens *ts)
{
    struct tokens out;
    out.n = 0;
    int i = 0;
    while (i < ts->n) {
        struct token *t = &ts->t[i];
        if (ts->n > 1 && tok_in(t, separator_words)) {
            i++;
            continue;
        }
        struct token cur = *t;
        i++;
        /* prefix + [article] + word */
        if (tok_in(&cur, prefix_words) && i < ts->n && !tok_in(&ts->t[i], separator_words)) {
            tok_join(&cur, &ts->t[i]);
            bool art = tok_in(&ts->t[i], latin_articles) || tok_is(&ts->t[i], W_AL);
            i++;
            if (art && i < ts->n) {
                tok_join(&cur, &ts->t[i]);
                i++;
            }
        }
        /* word + [article] + suffix */
        for (;;) {
            if (i < ts->n && tok_in(&ts->t[i], suffix_words)) {
                tok_join(&cur, &ts->t[i]);
                i++;
            } else if (i + 1 < ts->n &&
                       (tok_in(&ts->t[i], latin_articles) || tok_is(&ts->t[i], W_AL)) &&
                       tok_in(&ts->t[i + 1], suffix_words)) {
                tok_join(&cur, &ts->t[i]);
                tok_join(&cur, &ts->t[i + 1]);
                i += 2;
            } else {
                break;
            }
        }
        out.t[out.n++] = cur;
    }
    memcpy(ts->t, out.t, sizeof(out.t[0]) * (size_t)out.n);
    ts->n = out.n;
}

/* True for a Latin vowel. */
static bool is_vowel(unsigned char c)
{
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

/* Drops the article of word k of ts (family and place names), or the whole
 * word when it is a separate article followed by another word. Returns
 * false when the word should be removed. */
static bool strip_article(struct tokens *ts, int k)
{
    struct token *t = &ts->t[k];
    if (t->n_ar > 0) {
        if (t->n >= 4 && t->s[0] == 0x80 && t->s[1] == 0x96) {
            memmove(t->s, t->s + 2, t->n - 2);
            t->n -= 2;
            t->n_ar -= 2;
        } else if (tok_is(t, W_AL) && k + 1 < ts->n) {
            return false;
        }
        return true;
    }
    if (k + 1 < ts->n && tok_in(t, latin_articles)) {
        return false;
    }
    if (t->n >= 5 && (t->s[0] == 'a' || t->s[0] == 'e') && t->s[1] == 'l' && !is_vowel(t->s[2]) &&
        t->s[2] != 'l') {
        memmove(t->s, t->s + 2, t->n - 2);
        t->n -= 2;
        t->n_lat -= 2;
    }
    return true;
}

/* Skeleton builder: appends consonant classes, collapsing repeats. */
struct skel {
    char *s;    /* output */
    size_t n;   /* bytes used */
    size_t cap; /* capacity, excluding the NUL */
};

/* Appends class c unless it repeats the last one. */
static void skel_put(struct skel *k, char c)
{
    if (k->n > 0 && k->s[k->n - 1] == c) {
        return;
    }
    if (k->n < k->cap) {
        k->s[k->n++] = c;
    }
}

/* Appends the skeleton of one word. */
static void skel_word(struct skel *k, const struct token *t)
{
    size_t start = k->n;
    for (size_t j = 0; j < t->n; j++) {
        unsigned char c = t->s[j];
        char out = 0;
        if (c >= 0x80) {
            int idx = c - 0x80;
            out = idx < N_AR_LETTERS ? ar_skel[idx] : 0;
            if (out == 'W') {
                out = j == 0 ? 'w' : 0;
            } else if (out == 'Y') {
                out = j == 0 ? 'y' : 0;
            }
        } else if (c >= '0' && c <= '9') {
            out = (char)c;
        } else {
            unsigned char nx = j + 1 < t->n ? t->s[j + 1] : 0;
            bool two = true;
            if (c == 'k' && nx == 'h') {
                out = 'x';
            } else if ((c == 's' || c == 'c') && nx == 'h') {
                out = 'c';
            } else if (c == 't' && nx == 'h') {
                out = 's';
            } else if (c == 'd' && nx == 'h') {
                out = 'z';
            } else if (c == 'g' && nx == 'h') {
                out = 'g';
            } else if (c == 'p' && nx == 'h') {
                out = 'f';
            } else if (c == 'c' && nx == 'k') {
                out = 'k';
            } else {
                two = false;
                switch (c) {
                case 'a': case 'e': case 'i': case 'o': case 'u':
                    out = 0;
                    break;
                case 'y':
                    out = j == 0 ? 'y' : 0;
                    break;
                case 'w':
                    out = j == 0 ? 'w' : 0;
                    break;
                case 'c': case 'q':
                    out = 'k';
                    break;
                case 'p':
                    out = 'b';
                    break;
                case 'v':
                    out = 'f';
                    break;
                case 'x':
                    skel_put(k, 'k');
                    out = 's';
                    break;
                default:
                    out = (char)c;
                }
            }
            if (two) {
                j++;
            }
        }
        if (out) {
            skel_put(k, out);
        }
    }
    /* a final h is silent in Latin (Fatimah, Saleh) and often ة in Arabic */
    if (k->n > start && k->s[k->n - 1] == 'h') {
        k->n--;
    }
}

/* Applies whole-name skeleton rules shared by both scripts. */
static void skel_finish(struct skel *k)
{
    /* Abdel-, Abdul-, Abdur-: the article is often assimilated or dropped */
    if (k->n >= 3 && memcmp(k->s, "bdl", 3) == 0) {
        memmove(k->s + 2, k->s + 3, k->n - 3);
        k->n--;
    }
    /* -al-din / -eddine */
    if (k->n >= 4 && memcmp(k->s + k->n - 3, "ldn", 3) == 0) {
        k->s[k->n - 3] = 'd';
        k->s[k->n - 2] = 'n';
        k->n--;
    }
    /* collapse repeats created by the rules */
    size_t w = 0;
    for (size_t r = 0; r < k->n; r++) {
        if (w > 0 && k->s[w - 1] == k->s[r]) {
            continue;
        }
        k->s[w++] = k->s[r];
    }
    k->n = w;
    k->s[k->n] = '\0';
}

/* Writes words [from, to) of ts joined into norm and their skeleton into skel;
 * returns the script of the majority of letters. */
static enum match_script emit(const struct tokens *ts, int from, int to, char *norm,
                              size_t *n_norm, char *skel, size_t *n_skel)
{
    size_t n = 0;
    int ar = 0, lat = 0;
    struct skel k = {skel, 0, MATCH_NAME_MAX};
    for (int i = from; i < to; i++) {
        const struct token *t = &ts->t[i];
        size_t room = MATCH_NAME_MAX - n;
        size_t c = t->n < room ? t->n : room;
        memcpy(norm + n, t->s, c);
        n += c;
        ar += t->n_ar;
        lat += t->n_lat;
        skel_word(&k, t);
    }
    norm[n] = '\0';
    *n_norm = n;
    skel_finish(&k);
    *n_skel = k.n;
    if (n == 0) {
        return MATCH_SCRIPT_NONE;
    }
    return ar >= lat && ar > 0 ? MATCH_SCRIPT_ARABIC : MATCH_SCRIPT_LATIN;
}

/* Normalizes a name; see match.h. */
void match_normalize(const char *s, size_t len, enum match_kind kind, bool split_rest,
                     struct match_norm *out)
{
    static __thread struct tokens ts;
    const unsigned char *in = (const unsigned char *)s;
    unsigned char *nfkc = NULL;
    bool need = false;
    for (size_t i = 0; i < len;) {
        int32_t cp = utf8_next(in, len, &i);
        if (cp >= 0x80 && !(cp >= 0x600 && cp <= 0x6FF) && cp_needs_nfkc(cp)) {
            need = true;
            break;
        }
    }
    if (need) {
        utf8proc_ssize_t r = utf8proc_map(
            in, (utf8proc_ssize_t)len, &nfkc,
            (utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE));
        if (r >= 0 && nfkc) {
            in = nfkc;
            len = (size_t)r;
        } else {
            free(nfkc);
            nfkc = NULL;
        }
    }
    tokenize(in, len, &ts);
    free(nfkc);
    join_compounds(&ts);
    /* the article is optional in family and place names, and in a mother's
     * family name */
    int w = 0;
    for (int i = 0; i < ts.n; i++) {
        bool keep = true;
        if (kind != MATCH_KIND_GIVEN || (split_rest && i > 0)) {
            keep = strip_article(&ts, i);
        }
        if (keep && ts.t[i].n > 0) {
            if (w != i) {
                ts.t[w] = ts.t[i];
            }
            w++;
        }
    }
    ts.n = w;
    int first_end = split_rest && ts.n > 0 ? 1 : ts.n;
    out->script = emit(&ts, 0, first_end, out->norm, &out->n_norm, out->skel, &out->n_skel);
    out->n_rest = out->n_rest_skel = 0;
    out->rest[0] = out->rest_skel[0] = '\0';
    if (split_rest && ts.n > 1) {
        emit(&ts, 1, ts.n, out->rest, &out->n_rest, out->rest_skel, &out->n_rest_skel);
    }
}

/* Writes internal-form letters as UTF-8; see match.h. */
size_t match_norm_to_utf8(const char *norm, size_t n, char *dst, size_t cap)
{
    size_t w = 0;
    if (cap == 0) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)norm[i];
        if (c >= 0x80 && c - 0x80 < N_AR_LETTERS) {
            uint32_t cp = ar_letters[c - 0x80];
            if (w + 2 >= cap) {
                break;
            }
            dst[w++] = (char)(0xC0 | (cp >> 6));
            dst[w++] = (char)(0x80 | (cp & 0x3F));
        } else if (c < 0x80) {
            if (w + 1 >= cap) {
                break;
            }
            dst[w++] = (char)c;
        }
    }
    dst[w] = '\0';
    return w;
}
