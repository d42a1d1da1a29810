/*
 * search.c: name keys, search and possible duplicates of children; see
 * search.h.
 *
 * Every name field of a child is reduced by match_normalize (the matching
 * engine's normalizer) to a normalized form (stored as UTF-8 in
 * child_name_keys.norm) and a cross-script consonant skeleton (skel). A
 * field of several words also gets one key per word (field "<name>.word"),
 * so that one word of a compound or a double name finds the child.
 *
 * A name query is split into words. Each word must match some key of the
 * child: its normalized form (as a given name, or as a family name without
 * the article), its skeleton (Latin words only, to find Arabic names), or, for the
 * last word, a prefix of a normalized form (typing as you go). Two adjacent
 * words also match as one (عبد الله finds عبدالله and the other way round).
 * The per-word matches are one UNION ALL grouped by child, so the database
 * walks the (org_id, norm) and (org_id, skel) indexes once per word.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "children/children.h"
#include "children/search.h"
#include "core/buf.h"
#include "core/text.h"
#include "core/time.h"
#include "core/xalloc.h"
#include "match/match.h"
#include "core/banned.h"

/* Longest query accepted, in bytes. */
#define Q_MAX_BYTES 512
/* Most words in a name query. */
#define Q_MAX_WORDS 8
/* Room for a normalized form written as UTF-8 (two bytes per Arabic letter). */
#define NORM_UTF8 (2 * MATCH_NAME_MAX + 8)
/* Most bound parameters of one statement. */
#define MAX_PARAMS 96
/* Most words of one name value given their own key. */
#define MAX_VALUE_WORDS 16
/* Upper bound appended to a prefix for a range scan: U+10FFFF, above every
 * character a key holds, in byte order (SQLite BINARY, PostgreSQL "C"). */
#define PREFIX_HIGH "\xF4\x8F\xBF\xBF"
/* Shortest last word (in letters) matched as a prefix. */
#define PREFIX_MIN_LETTERS 2
/* Shortest Arabic skeleton used for matching. */
#define SKEL_MIN_ARABIC 3
/* Shortest Latin skeleton used for matching. */
#define SKEL_MIN_LATIN 2

/* A name field of a child and how it is normalized. */
struct name_field {
    const char *name;       /* JSON member and child_name_keys.field */
    const char *word_name;  /* child_name_keys.field of its per-word keys */
    enum match_kind kind;   /* given or family name */
    bool rest_family;       /* words after the first are a family name (mother) */
};

/* The indexed name fields. */
static const struct name_field name_fields[] = {
    {"first_name", "first_name.word", MATCH_KIND_GIVEN, false},
    {"father_name", "father_name.word", MATCH_KIND_GIVEN, false},
    {"grandfather_name", "grandfather_name.word", MATCH_KIND_GIVEN, false},
    {"family_name", "family_name.word", MATCH_KIND_FAMILY, false},
    {"mother_name", "mother_name.word", MATCH_KIND_GIVEN, true},
    {"first_name_latin", "first_name_latin.word", MATCH_KIND_GIVEN, false},
    {"father_name_latin", "father_name_latin.word", MATCH_KIND_GIVEN, false},
    {"grandfather_name_latin", "grandfather_name_latin.word", MATCH_KIND_GIVEN, false},
    {"family_name_latin", "family_name_latin.word", MATCH_KIND_FAMILY, false},
};
#define N_NAME_FIELDS (sizeof(name_fields) / sizeof(name_fields[0]))

/* One key: normalized form (UTF-8) and skeleton. */
struct name_key {
    char norm[NORM_UTF8];         /* normalized form as UTF-8, "" when nothing is left */
    char skel[MATCH_NAME_MAX + 1]; /* consonant skeleton (ASCII) */
    int letters;                  /* letters in the normalized form */
    enum match_script script;     /* script of the normalized form */
};

/* Normalizes s[0..n) as a name of the given kind into *k. Never fails. */
static void key_of(const char *s, size_t n, enum match_kind kind, struct name_key *k)
{
    struct match_norm mn;
    if (n > MATCH_FIELD_MAX) {
        /* keys only: cut at a character boundary, the value itself is kept whole */
        n = MATCH_FIELD_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
            n--;
        }
    }
    match_normalize(s, n, kind, false, &mn);
    match_norm_to_utf8(mn.norm, mn.n_norm, k->norm, sizeof(k->norm));
    memcpy(k->skel, mn.skel, mn.n_skel);
    k->skel[mn.n_skel] = '\0';
    k->letters = (int)mn.n_norm;
    k->script = mn.script;
}

/* True when a query word is matched on its skeleton too: Latin words only,
 * to find names written in Arabic (Mohammed, Muhammad -> محمد). Arabic words
 * are matched on the normalized form, which already absorbs the letter-form
 * variants; their skeletons would also merge distinct names (محمد and محمود)
 * and double the rows a search walks. */
static bool word_skel_usable(const struct name_key *k)
{
    return k->script == MATCH_SCRIPT_LATIN && strlen(k->skel) >= SKEL_MIN_LATIN;
}

/* True when the skeleton of k is long enough to be worth matching on. */
static bool key_skel_usable(const struct name_key *k)
{
    size_t n = strlen(k->skel);
    if (k->script == MATCH_SCRIPT_LATIN) {
        return n >= SKEL_MIN_LATIN;
    }
    return n >= SKEL_MIN_ARABIC;
}

/* True for a byte that separates the words of a name or a query. */
static bool is_sep_byte(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
           c == '-' || c == ',' || c == '.' || c == '/' || c == '_' || c == ';' || c == ':' ||
           c == '(' || c == ')' || c == '"';
}

/* Length of the separator at s[i..n) (an ASCII separator, a no-break space
 * or the Arabic comma), 0 when s[i] starts a word character. */
static size_t sep_len(const char *s, size_t i, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    if (is_sep_byte(u[i])) {
        return 1;
    }
    if (i + 1 < n && u[i] == 0xC2 && u[i + 1] == 0xA0) {
        return 2; /* no-break space */
    }
    if (i + 1 < n && u[i] == 0xD8 && u[i + 1] == 0x8C) {
        return 2; /* Arabic comma */
    }
    return 0;
}

/* A word of a value: s[off..off+len). */
struct span {
    size_t off; /* first byte */
    size_t len; /* bytes */
};

/* Splits s[0..n) into at most max words; returns how many were found, or
 * max + 1 when there are more. */
static int split_words(const char *s, size_t n, struct span *out, int max)
{
    int k = 0;
    size_t i = 0;
    while (i < n) {
        size_t sl = sep_len(s, i, n);
        if (sl) {
            i += sl;
            continue;
        }
        size_t start = i;
        while (i < n && sep_len(s, i, n) == 0) {
            i++;
        }
        if (k == max) {
            return max + 1;
        }
        out[k].off = start;
        out[k].len = i - start;
        k++;
    }
    return k;
}

/* Inserts one key row. Returns 0 or -1. */
static int key_insert(struct db *db, const char *org_id, const char *child_id,
                      const char *field, const struct name_key *k, struct err *e)
{
    struct db_stmt *s = db_prepare(db,
                                   "INSERT INTO child_name_keys (org_id, child_id, field, norm, "
                                   "skel) VALUES ($1, $2, $3, $4, $5)",
                                   e);
    if (!s) {
        return -1;
    }
    db_bind_text(s, 1, org_id);
    db_bind_text(s, 2, child_id);
    db_bind_text(s, 3, field);
    db_bind_text(s, 4, k->norm);
    db_bind_text(s, 5, k->skel);
    int rc = db_step(s, e);
    db_done(s);
    return rc < 0 ? -1 : 0;
}

/* Writes the keys of one name value (the whole value, then each word when
 * there are several). Returns 0 or -1. */
static int index_value(struct db *db, const char *org_id, const char *child_id,
                       const struct name_field *f, const char *v, size_t n, struct err *e)
{
    struct name_key full;
    key_of(v, n, f->kind, &full);
    if (full.norm[0] == '\0') {
        return 0;
    }
    if (key_insert(db, org_id, child_id, f->name, &full, e) != 0) {
        return -1;
    }
    struct span w[MAX_VALUE_WORDS];
    int nw = split_words(v, n, w, MAX_VALUE_WORDS);
    if (nw > MAX_VALUE_WORDS) {
        nw = MAX_VALUE_WORDS; /* later words stay searchable through the whole-value key */
    }
    if (nw < 2) {
        return 0;
    }
    /* each word once, and not again when it equals the whole value */
    static __thread struct name_key words[MAX_VALUE_WORDS];
    for (int i = 0; i < nw; i++) {
        enum match_kind kind = f->rest_family && i > 0 ? MATCH_KIND_FAMILY : f->kind;
        key_of(v + w[i].off, w[i].len, kind, &words[i]);
        if (words[i].norm[0] == '\0' || strcmp(words[i].norm, full.norm) == 0) {
            continue;
        }
        bool seen = false;
        for (int j = 0; j < i && !seen; j++) {
            seen = strcmp(words[j].norm, words[i].norm) == 0;
        }
        if (!seen && key_insert(db, org_id, child_id, f->word_name, &words[i], e) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Replaces the name keys of a child; see search.h. */
int children_index_names(struct db *db, const char *org_id, const char *child_id, json_t *rec,
                         struct err *e)
{
    if (!org_id || !*org_id || !child_id || !*child_id || !json_is_object(rec)) {
        return err_set(e, ERR_INTERNAL, "invalid_argument", "",
                       "children_index_names needs an organization, a child and a record");
    }
    struct db_stmt *s = db_prepare(db, "DELETE FROM child_name_keys WHERE child_id = $1", e);
    if (!s) {
        return -1;
    }
    db_bind_text(s, 1, child_id);
    int rc = db_step(s, e);
    db_done(s);
    if (rc < 0) {
        return -1;
    }
    for (size_t i = 0; i < N_NAME_FIELDS; i++) {
        json_t *v = json_object_get(rec, name_fields[i].name);
        if (!json_is_string(v)) {
            continue;
        }
        if (index_value(db, org_id, child_id, &name_fields[i], json_string_value(v),
                        json_string_length(v), e) != 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- statements built from fixed fragments and numbered parameters ---- */

/* One bound value. */
struct param {
    const char *s; /* text (NULL binds NULL) unless is_int */
    int64_t i;     /* integer value when is_int */
    bool is_int;   /* bind as an integer */
};

/* SQL text under construction with its parameters. */
struct sqlb {
    struct buf sql;                /* the statement text (fragments and $N only) */
    struct param p[MAX_PARAMS];    /* values of $1..$n */
    int n;                         /* parameters in use */
};

/* Adds a text parameter and appends its placeholder. s must outlive the
 * statement. */
static void sq_text(struct sqlb *b, const char *s)
{
    if (b->n >= MAX_PARAMS) {
        abort(); /* bounded by Q_MAX_WORDS: a bug if reached */
    }
    b->p[b->n].s = s;
    b->p[b->n].is_int = false;
    b->n++;
    buf_addf(&b->sql, "$%d", b->n);
}

/* Adds an integer parameter and appends its placeholder. */
static void sq_int(struct sqlb *b, int64_t v)
{
    if (b->n >= MAX_PARAMS) {
        abort();
    }
    b->p[b->n].i = v;
    b->p[b->n].is_int = true;
    b->n++;
    buf_addf(&b->sql, "$%d", b->n);
}

/* Prepares the statement and binds its parameters; NULL with e on failure. */
static struct db_stmt *sq_prepare(struct db *db, struct sqlb *b, struct err *e)
{
    struct db_stmt *s = db_prepare(db, b->sql.buf, e);
    if (!s) {
        return NULL;
    }
    for (int i = 0; i < b->n; i++) {
        if (b->p[i].is_int) {
            db_bind_int64(s, i + 1, b->p[i].i);
        } else {
            db_bind_text(s, i + 1, b->p[i].s);
        }
    }
    return s;
}

/* ---- query parsing ---- */

/* One word (or two adjacent words joined) of a name query. */
struct qword {
    struct name_key given;  /* as a given name */
    struct name_key family; /* as a family name (article dropped) */
    char prefix[NORM_UTF8];            /* prefix for the range scan, "" for none */
    char prefix_hi[NORM_UTF8 + 4];     /* prefix followed by PREFIX_HIGH */
    char prefix2[NORM_UTF8];           /* prefix without the article, "" for none */
    char prefix2_hi[NORM_UTF8 + 4];    /* prefix2 followed by PREFIX_HIGH */
};

/* A parsed query. */
struct qparse {
    int n_words;                      /* name words, 0 for no name query */
    struct qword w[Q_MAX_WORDS];      /* the words */
    struct qword pair[Q_MAX_WORDS];   /* pair[i]: words i and i+1 written as one */
    bool number;                      /* a file, identity or phone number */
    char file[Q_MAX_BYTES + 1];       /* upper-cased, ASCII digits, spaces dropped */
    char file_hi[Q_MAX_BYTES + 8];    /* file followed by PREFIX_HIGH */
    char digits[Q_MAX_BYTES + 1];     /* the digits alone */
    char digits2[Q_MAX_BYTES + 1];    /* digits without an international 00 */
    bool phone;                       /* digits only: also look at guardians' phones */
    bool nothing;                     /* text that holds no name: matches no child */
};

/* Words that only separate a person's names (بن, ابن, بنت), as normalized. */
static const char *const separator_norms[] = {
    "\xD8\xA8\xD9\x86",                 /* بن */
    "\xD8\xA7\xD8\xA8\xD9\x86",         /* ابن */
    "\xD8\xA8\xD9\x86\xD8\xAA",         /* بنت */
    "bin", "ibn", "bint", "ben", NULL,
};

/* True when a normalized word is a name separator. */
static bool is_separator(const char *norm)
{
    for (int i = 0; separator_norms[i]; i++) {
        if (strcmp(norm, separator_norms[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* Decodes an ASCII or Arabic-Indic digit at s[i]; returns its value and sets
 * *len, or -1 when s[i] is not a digit. */
static int digit_at(const unsigned char *s, size_t i, size_t n, size_t *len)
{
    if (s[i] >= '0' && s[i] <= '9') {
        *len = 1;
        return s[i] - '0';
    }
    if (i + 1 < n && s[i] == 0xD9 && s[i + 1] >= 0xA0 && s[i + 1] <= 0xA9) {
        *len = 2; /* U+0660..U+0669 */
        return s[i + 1] - 0xA0;
    }
    if (i + 1 < n && s[i] == 0xDB && s[i + 1] >= 0xB0 && s[i + 1] <= 0xB9) {
        *len = 2; /* U+06F0..U+06F9 */
        return s[i + 1] - 0xB0;
    }
    return -1;
}

/* Tries q as a file, identity or phone number: digits (ASCII or
 * Arabic-Indic), Latin letters, spaces and + - / . ( ). Returns true and
 * fills qp when it is one. */
static bool parse_number(const char *q, size_t n, struct qparse *qp)
{
    const unsigned char *u = (const unsigned char *)q;
    size_t nf = 0, nd = 0;
    bool letters = false;
    for (size_t i = 0; i < n;) {
        size_t len;
        int d = digit_at(u, i, n, &len);
        if (d >= 0) {
            qp->file[nf++] = (char)('0' + d);
            qp->digits[nd++] = (char)('0' + d);
            i += len;
            continue;
        }
        unsigned char c = u[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
            qp->file[nf++] = (char)(c >= 'a' ? c - 'a' + 'A' : c);
            letters = true;
        } else if (c == '-' || c == '/' || c == '.') {
            qp->file[nf++] = (char)c;
        } else if (c != ' ' && c != '+' && c != '(' && c != ')' && c != '\t') {
            return false;
        }
        i++;
    }
    if (nd == 0) {
        return false;
    }
    qp->file[nf] = '\0';
    qp->digits[nd] = '\0';
    snprintf(qp->file_hi, sizeof(qp->file_hi), "%s%s", qp->file, PREFIX_HIGH);
    snprintf(qp->digits2, sizeof(qp->digits2), "%s",
             nd > 2 && qp->digits[0] == '0' && qp->digits[1] == '0' ? qp->digits + 2 : qp->digits);
    qp->phone = !letters;
    qp->number = true;
    return true;
}

/* The UTF-8 of ال, the article, as a normalized form begins with it. */
#define ARTICLE_UTF8 "\xD8\xA7\xD9\x84"

/* Fills a query word from the text s[0..n); prefix says whether it is the
 * last word (matched as a prefix too). */
static void qword_fill(struct qword *w, const char *s, size_t n, bool prefix)
{
    key_of(s, n, MATCH_KIND_GIVEN, &w->given);
    key_of(s, n, MATCH_KIND_FAMILY, &w->family);
    w->prefix[0] = w->prefix2[0] = '\0';
    if (prefix && w->given.letters >= PREFIX_MIN_LETTERS) {
        snprintf(w->prefix, sizeof(w->prefix), "%s", w->given.norm);
        snprintf(w->prefix_hi, sizeof(w->prefix_hi), "%s%s", w->prefix, PREFIX_HIGH);
        /* family keys are stored without the article: الخط finds خطيب */
        size_t al = sizeof(ARTICLE_UTF8) - 1;
        if (w->given.letters >= PREFIX_MIN_LETTERS + 2 &&
            strncmp(w->given.norm, ARTICLE_UTF8, al) == 0) {
            snprintf(w->prefix2, sizeof(w->prefix2), "%s", w->given.norm + al);
            snprintf(w->prefix2_hi, sizeof(w->prefix2_hi), "%s%s", w->prefix2, PREFIX_HIGH);
        }
    }
}

/* Splits q into name words (or recognizes a number). Returns 0, or -1 with
 * e (ERR_INVALID on field "q") for a query that is too long, not UTF-8 or
 * has too many words. */
static int parse_query(const char *q, struct qparse *qp, struct err *e)
{
    qp->n_words = 0;
    qp->number = false;
    qp->nothing = false;
    if (!q) {
        return 0;
    }
    size_t n = strlen(q);
    if (n > Q_MAX_BYTES) {
        return err_set(e, ERR_INVALID, "invalid_field", "q",
                       "search text 'q' is longer than %d bytes", Q_MAX_BYTES);
    }
    if (!utf8_valid(q, n)) {
        return err_set(e, ERR_INVALID, "invalid_field", "q", "search text 'q' is not UTF-8");
    }
    if (parse_number(q, n, qp)) {
        return 0;
    }
    struct span sp[Q_MAX_WORDS * 2];
    int ns = split_words(q, n, sp, Q_MAX_WORDS * 2);
    if (ns > Q_MAX_WORDS * 2) {
        return err_set(e, ERR_INVALID, "invalid_field", "q",
                       "search text 'q' has more than %d words", Q_MAX_WORDS);
    }
    /* drop words that normalize to nothing (marks alone) and separators */
    struct span keep[Q_MAX_WORDS * 2];
    int nk = 0;
    for (int i = 0; i < ns; i++) {
        struct name_key k;
        key_of(q + sp[i].off, sp[i].len, MATCH_KIND_GIVEN, &k);
        if (k.norm[0] == '\0' || (ns > 1 && is_separator(k.norm))) {
            continue;
        }
        keep[nk++] = sp[i];
    }
    if (nk > Q_MAX_WORDS) {
        return err_set(e, ERR_INVALID, "invalid_field", "q",
                       "search text 'q' has more than %d words", Q_MAX_WORDS);
    }
    for (int i = 0; i < nk; i++) {
        qword_fill(&qp->w[i], q + keep[i].off, keep[i].len, i == nk - 1);
        if (i + 1 < nk) {
            /* the two words as written, with what lies between them */
            size_t len = keep[i + 1].off + keep[i + 1].len - keep[i].off;
            qword_fill(&qp->pair[i], q + keep[i].off, len, false);
        }
    }
    qp->n_words = nk;
    qp->nothing = nk == 0 && !text_blank(q);
    return 0;
}

/* ---- search ---- */

/* Appends the rows "child_id, tok, score" of child_name_keys matching word
 * w (for query word number tok) to the UNION ALL in b. */
static void add_word_match(struct sqlb *b, const struct qword *w, int tok, bool *first)
{
    const char *org = "$1";
    if (!*first) {
        buf_adds(&b->sql, " UNION ALL ");
    }
    *first = false;
    buf_addf(&b->sql, "SELECT child_id, %d AS tok, 2 AS score FROM child_name_keys "
                      "WHERE org_id = %s AND norm IN (", tok, org);
    sq_text(b, w->given.norm);
    buf_adds(&b->sql, ", ");
    sq_text(b, w->family.norm);
    buf_adds(&b->sql, ")");
    if (word_skel_usable(&w->given)) {
        buf_addf(&b->sql, " UNION ALL SELECT child_id, %d, 1 FROM child_name_keys "
                          "WHERE org_id = %s AND skel = ", tok, org);
        sq_text(b, w->given.skel);
        if (strcmp(w->family.skel, w->given.skel) != 0 && word_skel_usable(&w->family)) {
            buf_addf(&b->sql, " UNION ALL SELECT child_id, %d, 1 FROM child_name_keys "
                              "WHERE org_id = %s AND skel = ", tok, org);
            sq_text(b, w->family.skel);
        }
    }
    if (w->prefix[0]) {
        buf_addf(&b->sql, " UNION ALL SELECT child_id, %d, 1 FROM child_name_keys "
                          "WHERE org_id = %s AND norm >= ", tok, org);
        sq_text(b, w->prefix);
        buf_adds(&b->sql, " AND norm < ");
        sq_text(b, w->prefix_hi);
    }
    if (w->prefix2[0]) {
        buf_addf(&b->sql, " UNION ALL SELECT child_id, %d, 1 FROM child_name_keys "
                          "WHERE org_id = %s AND norm >= ", tok, org);
        sq_text(b, w->prefix2);
        buf_adds(&b->sql, " AND norm < ");
        sq_text(b, w->prefix2_hi);
    }
}

/* Appends the rows of a pair of words written as one, counted for both. */
static void add_pair_match(struct sqlb *b, const struct qword *w, int tok)
{
    for (int k = 0; k < 2; k++) {
        buf_addf(&b->sql, " UNION ALL SELECT child_id, %d, 2 FROM child_name_keys "
                          "WHERE org_id = $1 AND norm IN (", tok + k);
        sq_text(b, w->given.norm);
        buf_adds(&b->sql, ", ");
        sq_text(b, w->family.norm);
        buf_adds(&b->sql, ")");
    }
}

/* Sort orders: query value, ORDER BY text. */
static const struct {
    const char *name;  /* child_query.sort value */
    const char *order; /* ORDER BY clause */
} sorts[] = {
    {"name", "c.first_name, c.father_name, COALESCE(c.grandfather_name, ''), "
             "COALESCE(c.family_name, ''), c.id"},
    {"-name", "c.first_name DESC, c.father_name DESC, COALESCE(c.grandfather_name, '') DESC, "
              "COALESCE(c.family_name, '') DESC, c.id DESC"},
    {"file_no", "c.file_no, c.id"},
    {"-file_no", "c.file_no DESC, c.id DESC"},
    {"age", "c.birth_date DESC, c.id"},
    {"-age", "c.birth_date, c.id"},
    {"created", "c.created_at, c.id"},
    {"-created", "c.created_at DESC, c.id DESC"},
};
#define N_SORTS (sizeof(sorts) / sizeof(sorts[0]))

/* True when value is one of the space-separated words of list (" a b "). */
static bool in_list(const char *list, const char *value)
{
    size_t n = strlen(value);
    if (n == 0 || strchr(value, ' ')) {
        return false;
    }
    for (const char *p = strstr(list, value); p; p = strstr(p + 1, value)) {
        if (p > list && p[-1] == ' ' && p[n] == ' ') {
            return true;
        }
    }
    return false;
}

/* Writes the date `years` years before today as YYYY-MM-DD. */
static void years_ago(int years, char out[40])
{
    int y, m, d;
    time_today(&y, &m, &d);
    snprintf(out, 40, "%04d-%02d-%02d", y - years, m, d);
}

/* Whole years from the YYYY-MM-DD date s to today, -1 when s is not a date. */
static int age_of(const char *s)
{
    int y, m, d, ty, tm, td;
    if (!s || time_date_parse(s, &y, &m, &d) != 0) {
        return -1;
    }
    time_today(&ty, &tm, &td);
    int age = ty - y;
    if (tm < m || (tm == m && td < d)) {
        age--;
    }
    return age < 0 ? 0 : age;
}

/* Checks the query's filters. Returns 0, or -1 with e naming the field. */
static int check_query(const struct child_query *q, const char **order, struct err *e)
{
    if (q->status && !in_list(CHILD_STATUSES, q->status)) {
        return err_set(e, ERR_INVALID, "invalid_field", "status", "unknown status '%.40s'",
                       q->status);
    }
    if (q->sex && strcmp(q->sex, "M") != 0 && strcmp(q->sex, "F") != 0) {
        return err_set(e, ERR_INVALID, "invalid_field", "sex", "sex must be 'M' or 'F'");
    }
    if (q->age_min < -1 || q->age_min > 150 || q->age_max < -1 || q->age_max > 150 ||
        (q->age_min >= 0 && q->age_max >= 0 && q->age_min > q->age_max)) {
        return err_set(e, ERR_INVALID, "invalid_field", "age", "age range is not valid");
    }
    if (q->governorate && (strlen(q->governorate) > 400 ||
                           !utf8_valid(q->governorate, strlen(q->governorate)))) {
        return err_set(e, ERR_INVALID, "invalid_field", "governorate",
                       "'governorate' is too long or not UTF-8");
    }
    if (q->need) {
        const struct child_field *f = children_field("needs");
        if (!f || !f->values || !in_list(f->values, q->need)) {
            return err_set(e, ERR_INVALID, "invalid_field", "need", "unknown need '%.40s'",
                           q->need);
        }
    }
    if (q->sponsored < -1 || q->sponsored > 1) {
        return err_set(e, ERR_INVALID, "invalid_field", "sponsored",
                       "'sponsored' must be 1, 0 or -1");
    }
    if (q->page < 1 || q->page > 1000000) {
        return err_set(e, ERR_INVALID, "invalid_field", "page", "'page' must be 1 to 1000000");
    }
    if (q->per_page < 1 || q->per_page > 200) {
        return err_set(e, ERR_INVALID, "invalid_field", "per_page",
                       "'per_page' must be 1 to 200");
    }
    *order = NULL;
    if (q->sort) {
        for (size_t i = 0; i < N_SORTS; i++) {
            if (strcmp(q->sort, sorts[i].name) == 0) {
                *order = sorts[i].order;
            }
        }
        if (!*order) {
            return err_set(e, ERR_INVALID, "invalid_field", "sort", "unknown sort '%.40s'",
                           q->sort);
        }
    }
    return 0;
}

/* Columns of a summary, in the order summary_of reads them. */
#define SUMMARY_COLS                                                                          \
    "c.id, c.file_no, c.first_name, c.father_name, c.grandfather_name, c.family_name, c.sex, " \
    "c.birth_date, c.status, c.governorate, c.sponsored"

/* Builds a summary (new reference) from the SUMMARY_COLS of s's row. */
static json_t *summary_of(struct db_stmt *s)
{
    const char *bd = db_col_text(s, 7);
    int age = age_of(bd);
    json_t *o = json_object();
    static const char *const names[] = {"id", "file_no", "first_name", "father_name",
                                        "grandfather_name", "family_name", "sex", "birth_date",
                                        "status", "governorate"};
    for (int i = 0; i < 10; i++) {
        const char *v = db_col_text(s, i);
        json_object_set_new(o, names[i], v ? json_string(v) : json_null());
    }
    json_object_set_new(o, "age", age >= 0 ? json_integer(age) : json_null());
    json_object_set_new(o, "sponsored", json_boolean(db_col_int64(s, 10) != 0));
    return o;
}

/* Appends the filters of q (AND ...) to b; strings used must outlive b. */
static void add_filters(struct sqlb *b, const struct child_query *q, char age_lo[40],
                        char age_hi[40], char need_pat[64])
{
    if (q->status) {
        buf_adds(&b->sql, " AND c.status = ");
        sq_text(b, q->status);
    }
    if (q->sex) {
        buf_adds(&b->sql, " AND c.sex = ");
        sq_text(b, q->sex);
    }
    if (q->age_min >= 0) {
        years_ago(q->age_min, age_lo);
        buf_adds(&b->sql, " AND c.birth_date <= ");
        sq_text(b, age_lo);
    }
    if (q->age_max >= 0) {
        years_ago(q->age_max + 1, age_hi);
        buf_adds(&b->sql, " AND c.birth_date > ");
        sq_text(b, age_hi);
    }
    if (q->governorate) {
        buf_adds(&b->sql, " AND c.governorate = ");
        sq_text(b, q->governorate);
    }
    if (q->need) {
        /* needs is "a,b,c": look for ",need," in ",a,b,c,"; '_' is a LIKE wildcard */
        size_t k = 0;
        need_pat[k++] = '%';
        need_pat[k++] = ',';
        for (const char *p = q->need; *p && k < 58; p++) {
            if (*p == '_' || *p == '%' || *p == '\\') {
                need_pat[k++] = '\\';
            }
            need_pat[k++] = *p;
        }
        need_pat[k++] = ',';
        need_pat[k++] = '%';
        need_pat[k] = '\0';
        buf_adds(&b->sql, " AND (',' || REPLACE(c.needs, ' ', '') || ',') LIKE ");
        sq_text(b, need_pat);
        buf_adds(&b->sql, " ESCAPE '\\'");
    }
    if (q->sponsored >= 0) {
        buf_adds(&b->sql, " AND c.sponsored = ");
        sq_int(b, q->sponsored);
    }
}

/* Runs q over a's organization; see search.h. */
json_t *children_search(struct db *db, const struct actor *a, const struct child_query *q,
                        struct err *e)
{
    if (!actor_can(a, "children.read")) {
        err_set(e, ERR_FORBIDDEN, "forbidden", "", "reading children is not allowed");
        return NULL;
    }
    if (!a->org_id[0]) {
        err_set(e, ERR_INVALID, "no_organization", "", "the actor has no organization");
        return NULL;
    }
    const char *order;
    if (check_query(q, &order, e) != 0) {
        return NULL;
    }
    struct qparse *qp = xcalloc(1, sizeof(*qp));
    struct sqlb *b = xcalloc(1, sizeof(*b));
    buf_init(&b->sql);
    json_t *result = NULL;
    char age_lo[40], age_hi[40], need_pat[64];
    if (parse_query(q->q, qp, e) != 0) {
        goto out;
    }
    if (qp->nothing) {
        result = json_pack("{s:[], s:i, s:i, s:i}", "items", "total", 0, "page", q->page,
                           "per_page", q->per_page);
        goto out;
    }
    sq_text(b, a->org_id); /* $1 */
    buf_reset(&b->sql);
    const char *rel = "0";
    if (qp->n_words > 0) {
        buf_adds(&b->sql, "WITH h AS (");
        bool first = true;
        for (int i = 0; i < qp->n_words; i++) {
            add_word_match(b, &qp->w[i], i, &first);
        }
        for (int i = 0; i + 1 < qp->n_words; i++) {
            add_pair_match(b, &qp->pair[i], i);
        }
        buf_adds(&b->sql, "), m AS (SELECT child_id, COUNT(DISTINCT CASE WHEN score = 2 THEN "
                          "tok END) AS rel FROM h GROUP BY child_id HAVING COUNT(DISTINCT tok) = ");
        sq_int(b, qp->n_words);
        buf_adds(&b->sql, ") SELECT " SUMMARY_COLS ", m.rel, COUNT(*) OVER () FROM m "
                          "JOIN children c ON c.id = m.child_id WHERE c.org_id = $1");
        rel = "m.rel";
    } else if (qp->number) {
        buf_adds(&b->sql, "WITH m AS (SELECT id AS child_id FROM children WHERE org_id = $1 AND "
                          "file_no >= ");
        sq_text(b, qp->file);
        buf_adds(&b->sql, " AND file_no < ");
        sq_text(b, qp->file_hi);
        buf_adds(&b->sql, " UNION SELECT id FROM children WHERE org_id = $1 AND id_doc_number "
                          "IN ($2, ");
        sq_text(b, qp->digits);
        buf_adds(&b->sql, ")");
        if (qp->phone) {
            buf_adds(&b->sql, " UNION SELECT c.id FROM guardians g JOIN children c ON "
                              "c.guardian_id = g.id WHERE g.org_id = $1 AND c.org_id = $1 AND "
                              "g.phone_digits IN (");
            sq_text(b, qp->digits);
            buf_adds(&b->sql, ", ");
            sq_text(b, qp->digits2);
            buf_adds(&b->sql, ")");
        }
        buf_adds(&b->sql, ") SELECT " SUMMARY_COLS ", CASE WHEN c.file_no = $2 THEN 1 ELSE 0 "
                          "END AS rel, COUNT(*) OVER () FROM m JOIN children c ON "
                          "c.id = m.child_id WHERE c.org_id = $1");
        rel = "rel";
    } else {
        buf_adds(&b->sql, "SELECT " SUMMARY_COLS ", 0, COUNT(*) OVER () FROM children c "
                          "WHERE c.org_id = $1");
    }
    add_filters(b, q, age_lo, age_hi, need_pat);
    if (order) {
        buf_addf(&b->sql, " ORDER BY %s", order);
    } else if (strcmp(rel, "0") == 0) {
        buf_addf(&b->sql, " ORDER BY %s", sorts[0].order); /* a bare 0 is a column number */
    } else {
        buf_addf(&b->sql, " ORDER BY %s DESC, %s", rel, sorts[0].order);
    }
    buf_adds(&b->sql, " LIMIT ");
    sq_int(b, q->per_page);
    buf_adds(&b->sql, " OFFSET ");
    sq_int(b, (int64_t)(q->page - 1) * q->per_page);

    struct db_stmt *s = sq_prepare(db, b, e);
    if (!s) {
        goto out;
    }
    json_t *items = json_array();
    int64_t total = -1;
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_array_append_new(items, summary_of(s));
        total = db_col_int64(s, 12);
    }
    db_done(s);
    if (rc < 0) {
        json_decref(items);
        goto out;
    }
    if (total < 0 && q->page > 1) {
        /* past the last page: count without the page */
        char *sql = buf_detach(&b->sql, NULL);
        char *lim = strstr(sql, " LIMIT ");
        buf_init(&b->sql);
        buf_adds(&b->sql, "SELECT COUNT(*) FROM (");
        buf_add(&b->sql, sql, (size_t)(lim - sql));
        buf_adds(&b->sql, ") t");
        free(sql);
        b->n -= 2; /* the LIMIT and OFFSET parameters */
        s = sq_prepare(db, b, e);
        if (!s) {
            json_decref(items);
            goto out;
        }
        rc = db_step(s, e);
        total = rc == 1 ? db_col_int64(s, 0) : 0;
        db_done(s);
        if (rc < 0) {
            json_decref(items);
            goto out;
        }
    }
    if (total < 0) {
        total = 0;
    }
    result = json_pack("{s:o, s:I, s:i, s:i}", "items", items, "total", (json_int_t)total, "page",
                       q->page, "per_page", q->per_page);
out:
    buf_release(&b->sql);
    free(b);
    free(qp);
    return result;
}

/* ---- possible duplicates ---- */

/* The normalized chain of a record. */
struct chain {
    struct name_key f[4]; /* first, father, grandfather, family */
};

/* Fills c from the four chain fields of rec (missing ones are ""). */
static void chain_of_json(json_t *rec, struct chain *c)
{
    static const char *const names[4] = {"first_name", "father_name", "grandfather_name",
                                         "family_name"};
    for (int i = 0; i < 4; i++) {
        json_t *v = json_object_get(rec, names[i]);
        const char *s = json_is_string(v) ? json_string_value(v) : "";
        size_t n = json_is_string(v) ? json_string_length(v) : 0;
        key_of(s, n, i == 3 ? MATCH_KIND_FAMILY : MATCH_KIND_GIVEN, &c->f[i]);
    }
}

/* True when two keys name the same person's name: equal normalized forms,
 * or equal usable skeletons. */
static bool keys_agree(const struct name_key *x, const struct name_key *y)
{
    if (strcmp(x->norm, y->norm) == 0) {
        return true;
    }
    return key_skel_usable(x) && key_skel_usable(y) && strcmp(x->skel, y->skel) == 0;
}

/* Possible duplicates of rec; see search.h. */
json_t *children_duplicates(struct db *db, const struct actor *a, json_t *rec,
                            const char *exclude_id, struct err *e)
{
    if (!actor_can(a, "children.read")) {
        err_set(e, ERR_FORBIDDEN, "forbidden", "", "reading children is not allowed");
        return NULL;
    }
    if (!json_is_object(rec)) {
        err_set(e, ERR_INVALID, "invalid_body", "", "the record is not a JSON object");
        return NULL;
    }
    struct chain *me = xcalloc(2, sizeof(*me));
    struct chain *other = me + 1;
    chain_of_json(rec, me);
    json_t *out = json_array();
    if (!me->f[0].norm[0] || !me->f[1].norm[0]) {
        free(me); /* without a first and a father's name there is no chain to compare */
        return out;
    }
    int by = 0;
    json_t *bdv = json_object_get(rec, "birth_date");
    if (json_is_string(bdv)) {
        int m, d;
        if (time_date_parse(json_string_value(bdv), &by, &m, &d) != 0) {
            by = 0;
        }
    }
    char lo[40], hi[40];
    struct sqlb *b = xcalloc(1, sizeof(*b));
    buf_init(&b->sql);
    sq_text(b, a->org_id); /* $1 */
    buf_reset(&b->sql);
    buf_adds(&b->sql, "SELECT DISTINCT " SUMMARY_COLS " FROM child_name_keys f "
                      "JOIN child_name_keys p ON p.child_id = f.child_id "
                      "JOIN children c ON c.id = f.child_id "
                      "WHERE f.org_id = $1 AND f.field = 'first_name' AND (f.norm = ");
    sq_text(b, me->f[0].norm);
    buf_adds(&b->sql, " OR f.skel = ");
    sq_text(b, key_skel_usable(&me->f[0]) ? me->f[0].skel : NULL);
    buf_adds(&b->sql, ") AND p.field = 'father_name' AND (p.norm = ");
    sq_text(b, me->f[1].norm);
    buf_adds(&b->sql, " OR p.skel = ");
    sq_text(b, key_skel_usable(&me->f[1]) ? me->f[1].skel : NULL);
    buf_adds(&b->sql, ") AND c.org_id = $1");
    if (by > 0) {
        snprintf(lo, sizeof(lo), "%04d-01-01", by - 1);
        snprintf(hi, sizeof(hi), "%04d-01-01", by + 2);
        buf_adds(&b->sql, " AND c.birth_date >= ");
        sq_text(b, lo);
        buf_adds(&b->sql, " AND c.birth_date < ");
        sq_text(b, hi);
    }
    if (exclude_id && *exclude_id) {
        buf_adds(&b->sql, " AND c.id <> ");
        sq_text(b, exclude_id);
        int x = b->n;
        buf_addf(&b->sql, " AND NOT EXISTS (SELECT 1 FROM child_distinct d WHERE "
                          "(d.child_a = $%d AND d.child_b = c.id) OR "
                          "(d.child_a = c.id AND d.child_b = $%d))", x, x);
    }
    buf_adds(&b->sql, " ORDER BY c.id LIMIT 50");
    struct db_stmt *s = sq_prepare(db, b, e);
    if (!s) {
        goto fail;
    }
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_t *cand = json_object();
        json_object_set_new(cand, "first_name", json_string(db_col_text(s, 2)));
        json_object_set_new(cand, "father_name", json_string(db_col_text(s, 3)));
        const char *gf = db_col_text(s, 4), *fam = db_col_text(s, 5);
        json_object_set_new(cand, "grandfather_name", json_string(gf ? gf : ""));
        json_object_set_new(cand, "family_name", json_string(fam ? fam : ""));
        chain_of_json(cand, other);
        json_decref(cand);
        bool same = true;
        json_t *reasons = json_array();
        json_array_append_new(reasons, json_string("same_names"));
        static const char *const why[4] = {NULL, NULL, "same_grandfather", "same_family"};
        for (int i = 2; i < 4; i++) {
            if (me->f[i].norm[0] && other->f[i].norm[0]) {
                if (!keys_agree(&me->f[i], &other->f[i])) {
                    same = false;
                } else {
                    json_array_append_new(reasons, json_string(why[i]));
                }
            }
        }
        if (same && by > 0) {
            const char *obd = db_col_text(s, 7);
            json_array_append_new(reasons, json_string(obd && json_is_string(bdv) &&
                                                               strcmp(obd, json_string_value(bdv)) == 0
                                                           ? "same_birth_date"
                                                           : "birth_year_close"));
        }
        if (same) {
            json_t *sum = summary_of(s);
            json_object_set_new(sum, "reasons", reasons);
            json_array_append_new(out, sum);
        } else {
            json_decref(reasons);
        }
    }
    db_done(s);
    if (rc < 0) {
        goto fail;
    }
    buf_release(&b->sql);
    free(b);
    free(me);
    return out;
fail:
    buf_release(&b->sql);
    free(b);
    free(me);
    json_decref(out);
    return NULL;
}

/* Records that two children are different; see search.h. Runs inside the
 * caller's write transaction when one is open, else in its own. */
int children_mark_distinct(struct db *db, const struct actor *a, const char *id_a,
                           const char *id_b, struct err *e)
{
    if (!actor_can(a, "children.write")) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", "", "changing children is not allowed");
    }
    if (!id_a || !id_b || !*id_a || !*id_b || strlen(id_a) > 64 || strlen(id_b) > 64) {
        return err_set(e, ERR_INVALID, "invalid_field", "id", "two child ids are needed");
    }
    if (strcmp(id_a, id_b) == 0) {
        return err_set(e, ERR_INVALID, "invalid_field", "id",
                       "a child cannot be marked different from itself");
    }
    const char *lo = strcmp(id_a, id_b) < 0 ? id_a : id_b;
    const char *hi = lo == id_a ? id_b : id_a;
    bool own = !db_in_transaction(db);
    if (own && db_begin(db, false, e) != 0) {
        return -1;
    }
    struct db_stmt *s = db_prepare(
        db, "SELECT COUNT(*) FROM children WHERE org_id = $1 AND id IN ($2, $3)", e);
    if (!s) {
        goto fail;
    }
    db_bind_text(s, 1, a->org_id);
    db_bind_text(s, 2, lo);
    db_bind_text(s, 3, hi);
    int rc = db_step(s, e);
    int64_t n = rc == 1 ? db_col_int64(s, 0) : 0;
    db_done(s);
    if (rc < 0) {
        goto fail;
    }
    if (n != 2) {
        err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such child");
        goto fail;
    }
    char now[32];
    time_format_iso(time_now_ms(), now, sizeof(now));
    s = db_prepare(db,
                   "INSERT INTO child_distinct (org_id, child_a, child_b, decided_by, decided_at) "
                   "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (child_a, child_b) DO NOTHING",
                   e);
    if (!s) {
        goto fail;
    }
    db_bind_text(s, 1, a->org_id);
    db_bind_text(s, 2, lo);
    db_bind_text(s, 3, hi);
    db_bind_text(s, 4, a->user_id[0] ? a->user_id : "cli");
    db_bind_text(s, 5, now);
    rc = db_step(s, e);
    db_done(s);
    if (rc < 0) {
        goto fail;
    }
    char detail[160];
    snprintf(detail, sizeof(detail), "different from %s", hi);
    if (actor_audit(db, a, "child.mark_distinct", "child", lo, "ok", detail, e) != 0) {
        goto fail;
    }
    if (own && db_commit(db, e) != 0) {
        return -1;
    }
    return 0;
fail:
    if (own) {
        db_rollback(db);
    }
    return -1;
}
