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
 * On SQLite the children holding every word are found by one FTS5 query
 * over a document of each child's keys (migration 0012: posting lists
 * merged, whatever how common the names are); on PostgreSQL by walking the
 * index range of the rarest word and probing each child for the others.
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

/* ---- signatures ----
 *
 * Every key row of a child carries two 63-bit Bloom signatures of all the
 * child's keys: sig_n holds the normalized forms, sig_p their first two and
 * three letters and the skeletons. A query walks the index range of its
 * rarest word and, before probing a child's keys for the other words, drops
 * the rows whose signatures cannot hold them (read from the same index
 * entry). A NULL signature (rows written before migration 0008) passes. */

/* Sets the two bits of item s (tag: 'n' form, 'p' prefix, 's' skeleton) in *sig. */
static void sig_add(int64_t *sig, char tag, const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    h = (h ^ (unsigned char)tag) * 1099511628211ull;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    }
    /* 63 bits: a mask with bit 63 would be a negative literal PostgreSQL reads as numeric */
    *sig |= (int64_t)1 << (h % 63);
    *sig |= (int64_t)1 << ((h >> 32) % 63);
}

/* Bytes of the first `letters` characters of the UTF-8 text s, or 0 when s
 * has fewer. */
static size_t utf8_prefix(const char *s, int letters)
{
    size_t i = 0;
    for (int c = 0; c < letters; c++) {
        if (!s[i]) {
            return 0;
        }
        i++;
        while (((unsigned char)s[i] & 0xC0) == 0x80) {
            i++;
        }
    }
    return i;
}

/* The mask of a prefix item: its first three letters (two when it has only
 * two), as sig_keys stores them. Returns 0 when p is shorter. */
static int64_t sig_prefix_mask(const char *p)
{
    int64_t m = 0;
    size_t n = utf8_prefix(p, 3);
    if (!n) {
        n = utf8_prefix(p, 2);
    }
    if (n) {
        sig_add(&m, 'p', p, n);
    }
    return m;
}

/* A key about to be written. */
struct pending_key {
    const char *field;  /* child_name_keys.field */
    struct name_key k;  /* its normalized form and skeleton */
};

/* Adds the items of the key k to the signatures. */
static void sig_keys(const struct name_key *k, int64_t *sig_n, int64_t *sig_p)
{
    sig_add(sig_n, 'n', k->norm, strlen(k->norm));
    for (int l = 2; l <= 3; l++) {
        size_t n = utf8_prefix(k->norm, l);
        if (n) {
            sig_add(sig_p, 'p', k->norm, n);
        }
    }
    if (k->skel[0]) {
        sig_add(sig_p, 's', k->skel, strlen(k->skel));
    }
}

/* Inserts one key row with the child's signatures. Returns 0 or -1. */
static int key_insert(struct db *db, const char *org_id, const char *child_id,
                      const struct pending_key *pk, int64_t sig_n, int64_t sig_p, struct err *e)
{
    struct db_stmt *s = db_prepare(db,
                                   "INSERT INTO child_name_keys (org_id, child_id, field, norm, "
                                   "skel, sig_n, sig_p) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                                   e);
    if (!s) {
        return -1;
    }
    db_bind_text(s, 1, org_id);
    db_bind_text(s, 2, child_id);
    db_bind_text(s, 3, pk->field);
    db_bind_text(s, 4, pk->k.norm);
    db_bind_text(s, 5, pk->k.skel);
    db_bind_int64(s, 6, sig_n);
    db_bind_int64(s, 7, sig_p);
    int rc = db_step(s, e);
    db_done(s);
    return rc < 0 ? -1 : 0;
}

/* Most keys of one child: each field whole and its words. */
#define MAX_CHILD_KEYS (N_NAME_FIELDS * (MAX_VALUE_WORDS + 1))

/* Collects the keys of one name value (the whole value, then each word when
 * there are several) into keys[*n...]. */
static void index_value(const struct name_field *f, const char *v, size_t n,
                        struct pending_key *keys, size_t *nk)
{
    struct pending_key *full = &keys[*nk];
    key_of(v, n, f->kind, &full->k);
    if (full->k.norm[0] == '\0') {
        return;
    }
    full->field = f->name;
    (*nk)++;
    struct span w[MAX_VALUE_WORDS];
    int nw = split_words(v, n, w, MAX_VALUE_WORDS);
    if (nw > MAX_VALUE_WORDS) {
        nw = MAX_VALUE_WORDS; /* later words stay searchable through the whole-value key */
    }
    if (nw < 2) {
        return;
    }
    /* each word once, and not again when it equals the whole value */
    size_t first = *nk;
    for (int i = 0; i < nw; i++) {
        enum match_kind kind = f->rest_family && i > 0 ? MATCH_KIND_FAMILY : f->kind;
        struct pending_key *pk = &keys[*nk];
        key_of(v + w[i].off, w[i].len, kind, &pk->k);
        if (pk->k.norm[0] == '\0' || strcmp(pk->k.norm, full->k.norm) == 0) {
            continue;
        }
        bool seen = false;
        for (size_t j = first; j < *nk && !seen; j++) {
            seen = strcmp(keys[j].k.norm, pk->k.norm) == 0;
        }
        if (!seen) {
            pk->field = f->word_name;
            (*nk)++;
        }
    }
}

/* Appends the full-text term of s (tag 'n' a normalized form, 's' a
 * skeleton): the tag and the lower-case hex of its bytes (migration 0012). */
static void fts_term(struct buf *out, char tag, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    buf_addch(out, tag);
    for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
        buf_addch(out, hex[*u >> 4]);
        buf_addch(out, hex[*u & 15]);
    }
}

/* Runs one statement of a few text parameters (NULL binds NULL) that
 * returns no row. Returns 0 or -1 with e. */
static int exec_texts(struct db *db, const char *sql, const char *const *v, int n, struct err *e)
{
    struct db_stmt *s = db_prepare(db, sql, e);
    if (!s) {
        return -1;
    }
    for (int i = 0; i < n; i++) {
        db_bind_text(s, i + 1, v[i]);
    }
    int rc = db_step(s, e);
    db_done(s);
    return rc < 0 ? -1 : 0;
}

/* Replaces the full-text document of a child (SQLite, migration 0012) with
 * the terms of its nk keys: removes the old terms from the index, rewrites
 * the document and indexes it again. Returns 0 or -1 with e. */
static int fts_write(struct db *db, const char *org_id, const char *child_id,
                     const struct pending_key *keys, size_t nk, struct err *e)
{
    struct db_stmt *s = db_prepare(db, "SELECT doc, terms FROM child_name_docs WHERE child_id = $1",
                                   e);
    if (!s) {
        return -1;
    }
    db_bind_text(s, 1, child_id);
    int rc = db_step(s, e);
    char doc[32] = "";
    char *old = NULL;
    if (rc == 1) {
        snprintf(doc, sizeof(doc), "%lld", (long long)db_col_int64(s, 0));
        old = xstrdup(db_col_text(s, 1) ? db_col_text(s, 1) : "");
    }
    db_done(s);
    if (rc < 0) {
        return -1;
    }
    struct buf terms = BUF_INIT;
    for (size_t i = 0; i < nk; i++) {
        fts_term(&terms, 'n', keys[i].k.norm);
        buf_addch(&terms, ' ');
        if (keys[i].k.skel[0]) {
            fts_term(&terms, 's', keys[i].k.skel);
            buf_addch(&terms, ' ');
        }
    }
    const char *text = terms.buf ? terms.buf : "";
    if (old) {
        const char *del[] = {doc, old};
        rc = exec_texts(db, "INSERT INTO child_name_fts (child_name_fts, rowid, terms) VALUES "
                            "('delete', CAST($1 AS INTEGER), $2)", del, 2, e);
        const char *upd[] = {doc, text};
        if (rc == 0) {
            rc = exec_texts(db, "UPDATE child_name_docs SET terms = $2 WHERE doc = "
                                "CAST($1 AS INTEGER)", upd, 2, e);
        }
    } else {
        const char *ins[] = {org_id, child_id, text};
        rc = exec_texts(db, "INSERT INTO child_name_docs (org_id, child_id, terms) VALUES "
                            "($1, $2, $3)", ins, 3, e);
    }
    if (rc == 0) {
        const char *add[] = {child_id};
        rc = exec_texts(db, "INSERT INTO child_name_fts (rowid, terms) SELECT doc, terms FROM "
                            "child_name_docs WHERE child_id = $1", add, 1, e);
    }
    free(old);
    buf_release(&terms);
    return rc;
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
    struct pending_key *keys = xcalloc(MAX_CHILD_KEYS, sizeof(*keys));
    size_t nk = 0;
    for (size_t i = 0; i < N_NAME_FIELDS; i++) {
        json_t *v = json_object_get(rec, name_fields[i].name);
        if (json_is_string(v)) {
            index_value(&name_fields[i], json_string_value(v), json_string_length(v), keys, &nk);
        }
    }
    int64_t sig_n = 0, sig_p = 0;
    for (size_t i = 0; i < nk; i++) {
        sig_keys(&keys[i].k, &sig_n, &sig_p);
    }
    rc = 0;
    for (size_t i = 0; i < nk && rc == 0; i++) {
        rc = key_insert(db, org_id, child_id, &keys[i], sig_n, sig_p, e);
    }
    if (rc == 0 && db_backend_of(db) == DB_SQLITE) {
        rc = fts_write(db, org_id, child_id, keys, nk, e);
    }
    free(keys);
    return rc;
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

/* Matches counted exactly; beyond this many the total is a lower bound
 * ("total_capped"), and the page is found by walking the children in the
 * requested order instead of sorting every match. */
#define COUNT_CAP 1000
/* Most matches sorted by relevance (each costs a read of the child's row);
 * beyond, relevance is the order found: the rarest word's whole forms
 * first, then its skeletons and prefixes, each in registration order. A
 * sort the user asks for is kept up to COUNT_CAP. */
#define SORT_CAP 200
/* Key rows counted per query word to find the rarest word (a capped count:
 * a word more common than this is as good as any other common word). */
#define ESTIMATE_CAP 4000
/* Most normalized forms one query word is matched on whole. */
#define TOK_MAX_EXACT 6

/* What the last name search did, for the registry bench (see
 * children_search_trace); filled only while tracing is on. */
static struct {
    int level;                 /* 0 off, 1 phases, 2 also the walk replayed and counted */
    int n_words;               /* words of the query */
    int64_t est[Q_MAX_WORDS];  /* capped key counts per word */
    int rarest;                /* the word walked */
    int comps;                 /* values or ranges of the rarest word walked */
    size_t found;              /* children found by the walk */
    size_t fetched;            /* children rows read for the page */
    int64_t ns_count;          /* estimate_words */
    int64_t ns_walk;           /* drive_words: walk and checks */
    int64_t ns_fetch;          /* the page (sort or fetch by id) */
    int64_t walked;            /* level 2: key rows walked until the walk stopped */
    int64_t checked;           /* level 2: of them, rows the signatures let through */
    int64_t ns_walk_only;      /* level 2: the same walk without the probes */
    char last_id[TOK_MAX_EXACT + 4][40]; /* per value or range walked: last child found */
    bool stopped;              /* the walk stopped early (enough found) */
    bool fts;                  /* found by the full-text index (SQLite): no estimate, no walk */
} trace;

/* Turns tracing of name searches on (1: phase times; 2: also replays the
 * walk untimed to count rows) or off (0). For benches; not thread-safe. */
void children_search_trace_set(int level);
void children_search_trace_set(int level)
{
    trace.level = level;
}

/* Parameter numbers ($n) of one query word's values in a statement. A key
 * row matches the word when its norm is one of exact (the word as a given
 * or family name, or a pair of adjacent words written as one), its skel is
 * one of skel, or its norm lies in one of the prefix ranges. */
struct tok_params {
    int exact[TOK_MAX_EXACT]; /* normalized forms matched whole */
    int n_exact;              /* used entries of exact */
    int skel[2];              /* skeletons matched (Latin words only) */
    int n_skel;               /* used entries of skel */
    int lo[2];                /* prefix range starts (the last word, typed as you go) */
    int hi[2];                /* the matching range ends */
    int n_range;              /* used entries of lo and hi */
    int64_t estimate;         /* key rows matching, counted up to ESTIMATE_CAP */
};

/* Adds a text parameter, reusing the number of an equal text parameter
 * already bound (PostgreSQL wants every parameter used, SQLite does not
 * mind, and fewer values keep b under MAX_PARAMS). Returns its number. s
 * must outlive the statement. */
static int sq_param(struct sqlb *b, const char *s)
{
    for (int i = 0; i < b->n; i++) {
        if (!b->p[i].is_int && b->p[i].s && strcmp(b->p[i].s, s) == 0) {
            return i + 1;
        }
    }
    if (b->n >= MAX_PARAMS) {
        abort(); /* bounded by Q_MAX_WORDS: a bug if reached */
    }
    b->p[b->n].s = s;
    b->p[b->n].is_int = false;
    return ++b->n;
}

/* Appends v to the n first entries of a (at most max) unless it is there. */
static void add_unique(int *a, int *n, int max, int v)
{
    for (int i = 0; i < *n; i++) {
        if (a[i] == v) {
            return;
        }
    }
    if (*n < max) {
        a[(*n)++] = v;
    }
}

/* The values one query word is matched on (NULL-free, each once). */
struct tok_values {
    const char *exact[TOK_MAX_EXACT]; /* normalized forms matched whole */
    int n_exact;                      /* used entries of exact */
    const char *skel[2];              /* skeletons (Latin words only) */
    int n_skel;                       /* used entries of skel */
    const char *lo[2];                /* prefix range starts */
    const char *hi[2];                /* prefix range ends */
    int n_range;                      /* used entries of lo and hi */
};

/* Appends s to the n first entries of a (at most max) unless it is empty
 * or there already. */
static void add_value(const char **a, int *n, int max, const char *s)
{
    if (!s || !*s) {
        return;
    }
    for (int i = 0; i < *n; i++) {
        if (strcmp(a[i], s) == 0) {
            return;
        }
    }
    if (*n < max) {
        a[(*n)++] = s;
    }
}

/* Fills v with what query word i of qp matches: its normalized forms as a
 * given and as a family name, the pairs it forms with its neighbours
 * written as one word, its skeletons (Latin words) and, for the last word,
 * the prefix ranges. The strings point into qp. */
static void tok_values_of(const struct qparse *qp, int i, struct tok_values *v)
{
    const struct qword *w = &qp->w[i];
    memset(v, 0, sizeof(*v));
    add_value(v->exact, &v->n_exact, TOK_MAX_EXACT, w->given.norm);
    add_value(v->exact, &v->n_exact, TOK_MAX_EXACT, w->family.norm);
    if (i > 0) {
        add_value(v->exact, &v->n_exact, TOK_MAX_EXACT, qp->pair[i - 1].given.norm);
        add_value(v->exact, &v->n_exact, TOK_MAX_EXACT, qp->pair[i - 1].family.norm);
    }
    if (i + 1 < qp->n_words) {
        add_value(v->exact, &v->n_exact, TOK_MAX_EXACT, qp->pair[i].given.norm);
        add_value(v->exact, &v->n_exact, TOK_MAX_EXACT, qp->pair[i].family.norm);
    }
    if (v->n_exact == 0) {
        v->exact[v->n_exact++] = ""; /* never "IN ()": "" is no key's norm */
    }
    if (word_skel_usable(&w->given)) {
        add_value(v->skel, &v->n_skel, 2, w->given.skel);
        if (word_skel_usable(&w->family)) {
            add_value(v->skel, &v->n_skel, 2, w->family.skel);
        }
    }
    if (w->prefix[0]) {
        v->lo[v->n_range] = w->prefix;
        v->hi[v->n_range++] = w->prefix_hi;
    }
    if (w->prefix2[0]) {
        v->lo[v->n_range] = w->prefix2;
        v->hi[v->n_range++] = w->prefix2_hi;
    }
}

/* Binds the values of query word i of qp into b and records their numbers
 * in t (estimate left at 0); exact_only binds the whole forms alone (every
 * bound parameter must be used on PostgreSQL). */
static void tok_bind(struct sqlb *b, const struct qparse *qp, int i, struct tok_params *t,
                     bool exact_only)
{
    struct tok_values v;
    tok_values_of(qp, i, &v);
    memset(t, 0, sizeof(*t));
    for (int k = 0; k < v.n_exact; k++) {
        add_unique(t->exact, &t->n_exact, TOK_MAX_EXACT, sq_param(b, v.exact[k]));
    }
    if (exact_only) {
        return;
    }
    for (int k = 0; k < v.n_skel; k++) {
        add_unique(t->skel, &t->n_skel, 2, sq_param(b, v.skel[k]));
    }
    for (int k = 0; k < v.n_range; k++) {
        t->lo[t->n_range] = sq_param(b, v.lo[k]);
        t->hi[t->n_range++] = sq_param(b, v.hi[k]);
    }
}

/* Appends the condition "key row x matches word t" (exact_only: on its
 * whole normalized forms only, what relevance counts). */
static void tok_cond(struct buf *sql, const char *x, const struct tok_params *t, bool exact_only)
{
    buf_addf(sql, "(%s.norm IN (", x);
    for (int i = 0; i < t->n_exact; i++) {
        buf_addf(sql, "%s$%d", i ? ", " : "", t->exact[i]);
    }
    buf_adds(sql, ")");
    if (!exact_only) {
        if (t->n_skel) {
            buf_addf(sql, " OR %s.skel IN (", x);
            for (int i = 0; i < t->n_skel; i++) {
                buf_addf(sql, "%s$%d", i ? ", " : "", t->skel[i]);
            }
            buf_adds(sql, ")");
        }
        for (int i = 0; i < t->n_range; i++) {
            buf_addf(sql, " OR (%s.norm >= $%d AND %s.norm < $%d)", x, t->lo[i], x, t->hi[i]);
        }
    }
    buf_adds(sql, ")");
}

/* Appends "EXISTS (a key of child `id` matches word t)"; the lookup is one
 * probe of the (child_id, norm, skel) index. */
static void tok_exists(struct buf *sql, const char *id, const struct tok_params *t,
                       bool exact_only)
{
    buf_addf(sql, "EXISTS (SELECT 1 FROM child_name_keys x WHERE x.child_id = %s AND ", id);
    tok_cond(sql, "x", t, exact_only);
    buf_adds(sql, ")");
}

/* Counts, for each word of qp, the key rows of the organization it matches
 * (up to ESTIMATE_CAP per value or range) into est. One capped count per
 * value or range: an OR of them would make SQLite walk the organization's
 * whole index. Returns 0 or -1 with e. */
static int estimate_words(struct db *db, const char *org_id, const struct qparse *qp,
                          int64_t *est, struct err *e)
{
    struct sqlb *b = xcalloc(1, sizeof(*b));
    buf_init(&b->sql);
    sq_param(b, org_id);
    buf_adds(&b->sql, "SELECT ");
    int t = 0;
    for (int i = 0; i < qp->n_words; i++) {
        struct tok_values v;
        tok_values_of(qp, i, &v);
        buf_adds(&b->sql, i ? ", " : "");
        int n_comp = v.n_exact + v.n_skel + v.n_range;
        for (int c = 0; c < n_comp; c++) {
            buf_addf(&b->sql, "%s(SELECT COUNT(*) FROM (SELECT 1 FROM child_name_keys k WHERE "
                              "k.org_id = $1 AND ", c ? " + " : "");
            if (c < v.n_exact) {
                buf_addf(&b->sql, "k.norm = $%d", sq_param(b, v.exact[c]));
            } else if (c < v.n_exact + v.n_skel) {
                buf_addf(&b->sql, "k.skel = $%d", sq_param(b, v.skel[c - v.n_exact]));
            } else {
                int k = c - v.n_exact - v.n_skel;
                int lo = sq_param(b, v.lo[k]), hi = sq_param(b, v.hi[k]);
                buf_addf(&b->sql, "k.norm >= $%d AND k.norm < $%d", lo, hi);
            }
            buf_addf(&b->sql, " LIMIT %d) t%d)", ESTIMATE_CAP, t++);
        }
    }
    int rc = -1;
    struct db_stmt *s = sq_prepare(db, b, e);
    if (s) {
        rc = db_step(s, e);
        for (int i = 0; rc == 1 && i < qp->n_words; i++) {
            est[i] = db_col_int64(s, i);
        }
        db_done(s);
    }
    buf_release(&b->sql);
    free(b);
    return rc == 1 ? 0 : -1;
}

/* Sort orders: query value, ORDER BY text. */
static const struct {
    const char *name;  /* child_query.sort value */
    const char *order; /* ORDER BY clause */
} sorts[] = {
    /* the first 60 characters (the longest name a record takes) of each name, as
     * the children_org_name index of migration 0008 holds them: an index row must
     * stay small on PostgreSQL, whatever a row inserted by hand holds */
    {"name", "substr(c.first_name, 1, 60), substr(c.father_name, 1, 60), "
             "substr(COALESCE(c.grandfather_name, ''), 1, 60), "
             "substr(COALESCE(c.family_name, ''), 1, 60), c.id"},
    {"-name", "substr(c.first_name, 1, 60) DESC, substr(c.father_name, 1, 60) DESC, "
              "substr(COALESCE(c.grandfather_name, ''), 1, 60) DESC, "
              "substr(COALESCE(c.family_name, ''), 1, 60) DESC, c.id DESC"},
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
    int age = child_age(bd);
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

/* Room for the texts the filters bind; lives as long as the statement. */
struct filter_bufs {
    char age_lo[40];   /* latest birth date for age_min */
    char age_hi[40];   /* earliest birth date (exclusive) for age_max */
    char need_pat[64]; /* LIKE pattern of the need */
};

/* True when q has a filter besides the text. */
static bool has_filters(const struct child_query *q)
{
    return q->status || q->sex || q->age_min >= 0 || q->age_max >= 0 || q->governorate ||
           q->need || q->sponsored >= 0;
}

/* Counts the children of the organization matching the filters of q, up to
 * COUNT_CAP + 1. Returns the count or -1 with e. */
static int64_t count_capped(struct db *db, const char *org_id, const struct child_query *q,
                            struct err *e)
{
    struct sqlb *b = xcalloc(1, sizeof(*b));
    struct filter_bufs fb;
    buf_init(&b->sql);
    sq_param(b, org_id);
    buf_adds(&b->sql, "SELECT COUNT(*) FROM (SELECT 1 FROM children c WHERE c.org_id = $1");
    add_filters(b, q, fb.age_lo, fb.age_hi, fb.need_pat);
    buf_addf(&b->sql, " LIMIT %d) t", COUNT_CAP + 1);
    int64_t n = -1;
    struct db_stmt *s = sq_prepare(db, b, e);
    if (s) {
        int rc = db_step(s, e);
        n = rc == 1 ? db_col_int64(s, 0) : rc == 0 ? 0 : -1;
        db_done(s);
    }
    buf_release(&b->sql);
    free(b);
    return n;
}

/* Runs the page statement b, appending up to per_page summaries to items;
 * sets *more when a row beyond them came back. Returns 0 or -1 with e. */
static int fetch_page(struct db *db, struct sqlb *b, int per_page, json_t *items, bool *more,
                      struct err *e)
{
    *more = false;
    struct db_stmt *s = sq_prepare(db, b, e);
    if (!s) {
        return -1;
    }
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        if ((int)json_array_size(items) == per_page) {
            *more = true;
            break;
        }
        json_array_append_new(items, summary_of(s));
    }
    db_done(s);
    return rc < 0 ? -1 : 0;
}

/* Appends ORDER BY, LIMIT and OFFSET: order (NULL for relevance then name;
 * rel says whether a "rel" column exists) and the page of q, one row more
 * than the page to tell whether more follow. */
static void add_order_page(struct sqlb *b, const char *order, bool rel,
                           const struct child_query *q)
{
    if (order) {
        buf_addf(&b->sql, " ORDER BY %s", order);
    } else if (rel) {
        buf_addf(&b->sql, " ORDER BY rel DESC, %s", sorts[0].order);
    } else {
        buf_addf(&b->sql, " ORDER BY %s", sorts[0].order);
    }
    buf_adds(&b->sql, " LIMIT ");
    sq_int(b, q->per_page + 1);
    buf_adds(&b->sql, " OFFSET ");
    sq_int(b, (int64_t)(q->page - 1) * q->per_page);
}

/* A set of child ids seen, in the order found (open addressing). */
struct idset {
    char **slot;  /* hash table of the ids (owned copies in ids), NULL for free */
    size_t cap;   /* slots, a power of two */
    char **ids;   /* the ids in the order found (owned) */
    size_t n;     /* ids held */
};

/* FNV-1a hash of s. */
static uint64_t id_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return h;
}

/* Adds a copy of id unless held; returns true when it was new. */
static bool idset_add(struct idset *set, const char *id)
{
    if ((set->n + 1) * 2 > set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 256;
        char **slot = xcalloc(cap, sizeof(char *));
        for (size_t i = 0; i < set->n; i++) {
            size_t j = id_hash(set->ids[i]) & (cap - 1);
            while (slot[j]) {
                j = (j + 1) & (cap - 1);
            }
            slot[j] = set->ids[i];
        }
        free(set->slot);
        set->slot = slot;
        set->cap = cap;
        set->ids = xrealloc(set->ids, cap / 2 * sizeof(char *));
    }
    size_t j = id_hash(id) & (set->cap - 1);
    while (set->slot[j]) {
        if (strcmp(set->slot[j], id) == 0) {
            return false;
        }
        j = (j + 1) & (set->cap - 1);
    }
    char *copy = xstrdup(id);
    set->slot[j] = copy;
    set->ids[set->n++] = copy;
    return true;
}

/* Frees the contents of set. */
static void idset_release(struct idset *set)
{
    for (size_t i = 0; i < set->n; i++) {
        free(set->ids[i]);
    }
    free(set->ids);
    free(set->slot);
    memset(set, 0, sizeof(*set));
}

/* Appends " FROM (the ids of the JSON array json_ids) JOIN children c WHERE
 * c.org_id = $1", for the engine of db. The ids lead the join: SQLite would
 * rather walk every child of the organization and test the list. */
static void add_id_list(struct db *db, struct sqlb *b, const char *json_ids)
{
    int k = sq_param(b, json_ids);
    if (db_backend_of(db) == DB_POSTGRES) {
        buf_addf(&b->sql, " FROM json_array_elements_text($%d::json) AS j(value) JOIN children c "
                          "ON c.id = j.value WHERE c.org_id = $1", k);
    } else {
        buf_addf(&b->sql, " FROM json_each($%d) AS j CROSS JOIN children c ON c.id = j.value "
                          "WHERE c.org_id = $1", k);
    }
}

/* JSON array text of ids[from..to) (malloc'ed). */
static char *ids_json(char **ids, size_t from, size_t to)
{
    json_t *a = json_array();
    for (size_t i = from; i < to; i++) {
        json_array_append_new(a, json_string(ids[i]));
    }
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s ? s : xstrdup("[]");
}

/* Appends " AND (the signatures of k0 may hold word i of qp)": one of its
 * whole forms (sig_n), skeletons or prefixes (sig_p); literals, not
 * parameters: the masks are computed here, not user text. */
static void add_sig_filter(struct buf *sql, const struct qparse *qp, int i)
{
    struct tok_values v;
    tok_values_of(qp, i, &v);
    buf_adds(sql, " AND (k0.sig_n IS NULL");
    for (int k = 0; k < v.n_exact; k++) {
        int64_t m = 0;
        sig_add(&m, 'n', v.exact[k], strlen(v.exact[k]));
        buf_addf(sql, " OR (k0.sig_n & %lld) = %lld", (long long)m, (long long)m);
    }
    for (int k = 0; k < v.n_skel; k++) {
        int64_t m = 0;
        sig_add(&m, 's', v.skel[k], strlen(v.skel[k]));
        buf_addf(sql, " OR (k0.sig_p & %lld) = %lld", (long long)m, (long long)m);
    }
    for (int k = 0; k < v.n_range; k++) {
        int64_t m = sig_prefix_mask(v.lo[k]);
        buf_addf(sql, " OR (k0.sig_p & %lld) = %lld", (long long)m, (long long)m);
    }
    buf_adds(sql, ")");
}

/* Appends " WHERE" and the index range of value or range `comp` of the
 * word values v (its whole forms, then skeletons, then prefix ranges) for
 * key row k0 of organization $1; returns the ORDER BY that walks it in
 * index order. */
static const char *drive_range(struct sqlb *b, const struct tok_values *v, int comp)
{
    if (comp < v->n_exact) {
        buf_addf(&b->sql, " WHERE k0.org_id = $1 AND k0.norm = $%d", sq_param(b, v->exact[comp]));
        return " ORDER BY k0.norm, k0.child_id";
    }
    if (comp < v->n_exact + v->n_skel) {
        buf_addf(&b->sql, " WHERE k0.org_id = $1 AND k0.skel = $%d",
                 sq_param(b, v->skel[comp - v->n_exact]));
        return " ORDER BY k0.skel, k0.child_id";
    }
    int k = comp - v->n_exact - v->n_skel;
    int lo = sq_param(b, v->lo[k]), hi = sq_param(b, v->hi[k]);
    buf_addf(&b->sql, " WHERE k0.org_id = $1 AND k0.norm >= $%d AND k0.norm < $%d", lo, hi);
    return " ORDER BY k0.norm, k0.child_id";
}

/* Walks the index range(s) of the rarest word r of qp, one value or range
 * at a time in index order (name form, then child id: registration order),
 * keeping the children whose keys match every other word (checked per
 * child, rarest first) and the filters of q, until set holds `need`.
 * Returns 0 or -1 with e. */
static int drive_words(struct db *db, const char *org_id, const struct qparse *qp,
                       const int64_t *est, int r, const struct child_query *q, size_t need,
                       struct idset *set, struct err *e)
{
    struct tok_values v;
    tok_values_of(qp, r, &v);
    int n_comp = v.n_exact + v.n_skel + v.n_range;
    bool filters = has_filters(q);
    /* the other words, rarest first: most children fail the first check */
    int order[Q_MAX_WORDS], n = 0;
    for (int i = 0; i < qp->n_words; i++) {
        if (i == r) {
            continue;
        }
        int j = n++;
        while (j > 0 && est[order[j - 1]] > est[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (int comp = 0; comp < n_comp && set->n < need; comp++) {
        struct sqlb *b = xcalloc(1, sizeof(*b));
        struct filter_bufs fb;
        buf_init(&b->sql);
        sq_param(b, org_id);
        buf_adds(&b->sql, "SELECT k0.child_id FROM child_name_keys k0");
        if (filters) {
            buf_adds(&b->sql, " JOIN children c ON c.id = k0.child_id");
        }
        const char *ord = drive_range(b, &v, comp);
        for (int i = 0; i < n; i++) {
            add_sig_filter(&b->sql, qp, order[i]);
        }
        for (int i = 0; i < n; i++) {
            struct tok_params t;
            tok_bind(b, qp, order[i], &t, false);
            buf_adds(&b->sql, " AND ");
            tok_exists(&b->sql, "k0.child_id", &t, false);
        }
        if (filters) {
            buf_adds(&b->sql, " AND c.org_id = $1");
            add_filters(b, q, fb.age_lo, fb.age_hi, fb.need_pat);
        }
        buf_adds(&b->sql, ord);
        struct db_stmt *s = sq_prepare(db, b, e);
        int rc = -1;
        if (s) {
            while ((rc = db_step(s, e)) == 1) {
                const char *id = db_col_text(s, 0);
                if (id && idset_add(set, id)) {
                    if (trace.level && comp < (int)(sizeof(trace.last_id) / 40)) {
                        snprintf(trace.last_id[comp], 40, "%s", id);
                    }
                    if (set->n >= need) {
                        trace.stopped = true;
                        break;
                    }
                }
            }
            db_done(s);
        }
        trace.comps = comp + 1;
        buf_release(&b->sql);
        free(b);
        if (rc < 0) {
            return -1;
        }
    }
    return 0;
}

/* Writes into out the FTS5 expression of qp: per word, its whole forms,
 * skeletons and prefixes as terms ORed (see tok_values_of), the words
 * ANDed. Every term is quoted hex: no user text reaches the syntax. */
static void fts_expr(const struct qparse *qp, struct buf *out)
{
    for (int i = 0; i < qp->n_words; i++) {
        struct tok_values v;
        tok_values_of(qp, i, &v);
        buf_adds(out, i ? " AND (" : "(");
        int n = 0;
        for (int k = 0; k < v.n_exact; k++) {
            if (v.exact[k][0]) {
                buf_adds(out, n++ ? " OR \"" : "\"");
                fts_term(out, 'n', v.exact[k]);
                buf_adds(out, "\"");
            }
        }
        for (int k = 0; k < v.n_skel; k++) {
            buf_adds(out, n++ ? " OR \"" : "\"");
            fts_term(out, 's', v.skel[k]);
            buf_adds(out, "\"");
        }
        for (int k = 0; k < v.n_range; k++) {
            buf_adds(out, n++ ? " OR \"" : "\"");
            fts_term(out, 'n', v.lo[k]);
            buf_adds(out, "\" *");
        }
        if (n == 0) {
            buf_adds(out, "\"x\""); /* no term is "x": matches nothing */
        }
        buf_adds(out, ")");
    }
}

/* drive_words on SQLite: the children of the organization whose full-text
 * document (migration 0012) holds every word of qp, that pass the filters
 * of q, in registration order, until set holds `need`. Returns 0 or -1
 * with e. */
static int drive_fts(struct db *db, const char *org_id, const struct qparse *qp,
                     const struct child_query *q, size_t need, struct idset *set, struct err *e)
{
    struct buf expr = BUF_INIT;
    fts_expr(qp, &expr);
    struct sqlb *b = xcalloc(1, sizeof(*b));
    struct filter_bufs fb;
    buf_init(&b->sql);
    sq_param(b, org_id);
    bool filters = has_filters(q);
    buf_addf(&b->sql, "SELECT d.child_id FROM child_name_fts f CROSS JOIN child_name_docs d "
                      "ON d.doc = f.rowid%s WHERE child_name_fts MATCH $%d AND d.org_id = $1",
             filters ? " CROSS JOIN children c ON c.id = d.child_id" : "",
             sq_param(b, expr.buf));
    if (filters) {
        buf_adds(&b->sql, " AND c.org_id = $1");
        add_filters(b, q, fb.age_lo, fb.age_hi, fb.need_pat);
    }
    buf_adds(&b->sql, " ORDER BY f.rowid");
    struct db_stmt *s = sq_prepare(db, b, e);
    int rc = -1;
    if (s) {
        while ((rc = db_step(s, e)) == 1) {
            const char *id = db_col_text(s, 0);
            if (id && idset_add(set, id) && set->n >= need) {
                trace.stopped = true;
                break;
            }
        }
        db_done(s);
    }
    trace.comps = 1;
    buf_release(&b->sql);
    free(b);
    buf_release(&expr);
    return rc < 0 ? -1 : 0;
}

/* Appends the summaries of the children ids[from..to) in that order to
 * items. Returns 0 or -1 with e. */
static int fetch_ids(struct db *db, const char *org_id, char **ids, size_t from, size_t to,
                     json_t *items, struct err *e)
{
    if (from >= to) {
        return 0;
    }
    struct sqlb *b = xcalloc(1, sizeof(*b));
    buf_init(&b->sql);
    sq_param(b, org_id);
    char *list = ids_json(ids, from, to);
    buf_adds(&b->sql, "SELECT " SUMMARY_COLS);
    add_id_list(db, b, list);
    json_t *by_id = json_object();
    int rc = -1;
    struct db_stmt *s = sq_prepare(db, b, e);
    if (s) {
        while ((rc = db_step(s, e)) == 1) {
            json_t *sum = summary_of(s);
            json_object_set_new(by_id, json_string_value(json_object_get(sum, "id")), sum);
        }
        db_done(s);
    }
    for (size_t i = from; rc == 0 && i < to; i++) {
        json_t *sum = json_object_get(by_id, ids[i]);
        if (sum) {
            json_array_append(items, sum);
        }
    }
    json_decref(by_id);
    free(list);
    buf_release(&b->sql);
    free(b);
    return rc < 0 ? -1 : 0;
}

/* Replays the walk of the last name search (trace level 2), untimed by the
 * caller: counts the key rows walked until the walk stopped and those the
 * signatures let through to the probes, and times the walk alone. */
static void trace_replay(struct db *db, const char *org_id, const struct qparse *qp, int r)
{
    struct tok_values v;
    tok_values_of(qp, r, &v);
    trace.walked = trace.checked = 0;
    int64_t t0 = time_mono_ns();
    for (int comp = 0; comp < trace.comps && comp < (int)(sizeof(trace.last_id) / 40); comp++) {
        struct sqlb *b = xcalloc(1, sizeof(*b));
        buf_init(&b->sql);
        sq_param(b, org_id);
        buf_adds(&b->sql, "SELECT k0.child_id, (1 = 1");
        for (int i = 0; i < qp->n_words; i++) {
            if (i != r) {
                add_sig_filter(&b->sql, qp, i);
            }
        }
        buf_adds(&b->sql, ") FROM child_name_keys k0");
        const char *ord = drive_range(b, &v, comp);
        buf_adds(&b->sql, ord);
        struct err e;
        err_clear(&e);
        struct db_stmt *s = sq_prepare(db, b, &e);
        bool last = trace.stopped && comp == trace.comps - 1;
        while (s && db_step(s, &e) == 1) {
            trace.walked++;
            trace.checked += db_col_int64(s, 1) != 0;
            const char *id = db_col_text(s, 0);
            if (last && id && strcmp(id, trace.last_id[comp]) == 0) {
                break;
            }
        }
        if (s) {
            db_done(s);
        }
        buf_release(&b->sql);
        free(b);
    }
    trace.ns_walk_only = time_mono_ns() - t0;
}

/* What the last name search did while tracing was on, as one line of text
 * (a static buffer, overwritten by the next call); "" when none. */
const char *children_search_trace(void);
const char *children_search_trace(void)
{
    static char out[512];
    if (!trace.level || trace.n_words == 0) {
        return "";
    }
    int n = snprintf(out, sizeof(out), "%s", trace.fts ? "fts" : "est");
    for (int i = 0; !trace.fts && i < trace.n_words && n < (int)sizeof(out); i++) {
        n += snprintf(out + n, sizeof(out) - (size_t)n, "%s%lld%s", i ? "," : "=",
                      (long long)trace.est[i], i == trace.rarest ? "*" : "");
    }
    if (n < (int)sizeof(out)) {
        n += snprintf(out + n, sizeof(out) - (size_t)n,
                      " comps=%d found=%zu%s fetched=%zu count=%.1fms walk=%.1fms fetch=%.1fms",
                      trace.comps, trace.found, trace.stopped ? "(stop)" : "", trace.fetched,
                      (double)trace.ns_count / 1e6, (double)trace.ns_walk / 1e6,
                      (double)trace.ns_fetch / 1e6);
    }
    if (trace.level > 1 && !trace.fts && n < (int)sizeof(out)) {
        snprintf(out + n, sizeof(out) - (size_t)n, " walked=%lld checked=%lld walk_only=%.1fms",
                 (long long)trace.walked, (long long)trace.checked,
                 (double)trace.ns_walk_only / 1e6);
    }
    return out;
}

/* The page of a name search into items, with its total. The children are
 * found from the rarest word (see drive_words). At most SORT_CAP match (or
 * COUNT_CAP when a sort is asked for): all of them are sorted as asked
 * (relevance: how many words matched whole, then name). More: the pages
 * follow the order found (name form, then registration) so that no page
 * reads every match; past COUNT_CAP the total is a lower bound (*capped):
 * COUNT_CAP, or one more than the page reached when more follow. Returns 0
 * or -1 with e. */
static int search_words(struct db *db, const char *org_id, const struct qparse *qp,
                        const struct child_query *q, const char *order, json_t *items,
                        int64_t *total, bool *capped, struct err *e)
{
    int64_t est[Q_MAX_WORDS] = {0};
    int64_t t0 = trace.level ? time_mono_ns() : 0;
    bool fts = db_backend_of(db) == DB_SQLITE;
    if (!fts && qp->n_words > 1 && estimate_words(db, org_id, qp, est, e) != 0) {
        return -1;
    }
    int r = 0;
    for (int i = 1; i < qp->n_words; i++) {
        if (est[i] < est[r]) {
            r = i;
        }
    }
    int64_t t1 = trace.level ? time_mono_ns() : 0;
    size_t off = (size_t)(q->page - 1) * (size_t)q->per_page;
    size_t end = off + (size_t)q->per_page;
    size_t need = (end + 1 > COUNT_CAP ? end + 1 : COUNT_CAP) + 1;
    struct idset set = {0};
    trace.stopped = false;
    trace.comps = 0;
    int rc = fts ? drive_fts(db, org_id, qp, q, need, &set, e)
                 : drive_words(db, org_id, qp, est, r, q, need, &set, e);
    int64_t t2 = trace.level ? time_mono_ns() : 0;
    if (trace.level) {
        trace.n_words = qp->n_words;
        trace.fts = fts;
        memcpy(trace.est, est, sizeof(est));
        trace.rarest = r;
        trace.found = set.n;
        trace.ns_count = t1 - t0;
        trace.ns_walk = t2 - t1;
        trace.fetched = set.n <= (order ? COUNT_CAP : SORT_CAP) ? set.n : (size_t)q->per_page;
    }
    if (rc == 0 && set.n <= (order ? COUNT_CAP : SORT_CAP)) {
        /* every match is known: sort them all */
        *total = (int64_t)set.n;
        *capped = false;
        struct sqlb *b = xcalloc(1, sizeof(*b));
        buf_init(&b->sql);
        sq_param(b, org_id);
        char *list = ids_json(set.ids, 0, set.n);
        buf_adds(&b->sql, "SELECT " SUMMARY_COLS);
        if (!order) {
            buf_adds(&b->sql, ", (");
            for (int i = 0; i < qp->n_words; i++) {
                struct tok_params t;
                tok_bind(b, qp, i, &t, true);
                buf_adds(&b->sql, i ? " + CASE WHEN " : "CASE WHEN ");
                tok_exists(&b->sql, "c.id", &t, true);
                buf_adds(&b->sql, " THEN 1 ELSE 0 END");
            }
            buf_adds(&b->sql, ") AS rel");
        }
        add_id_list(db, b, list);
        add_order_page(b, order, !order, q);
        bool more;
        rc = fetch_page(db, b, q->per_page, items, &more, e);
        free(list);
        buf_release(&b->sql);
        free(b);
    } else if (rc == 0) {
        /* many: the page in the order found */
        bool more = set.n > end;
        rc = fetch_ids(db, org_id, set.ids, off < set.n ? off : set.n, more ? end : set.n, items,
                       e);
        if (set.n < need) {
            *total = (int64_t)set.n; /* all found after all (a page far down) */
            *capped = false;
        } else {
            *total = (int64_t)(end + 1 > COUNT_CAP ? end + 1 : COUNT_CAP);
            *capped = true;
        }
    }
    idset_release(&set);
    if (trace.level) {
        trace.ns_fetch = time_mono_ns() - t2;
        if (trace.level > 1 && rc == 0 && !fts) {
            trace_replay(db, org_id, qp, r);
        }
    }
    return rc;
}

/* The page of a search without text (filters alone) into items, with its
 * total: counted up to COUNT_CAP, the page read in order from the
 * organization's children (the sort orders have indexes). Beyond
 * COUNT_CAP the total is a lower bound (*capped): COUNT_CAP, or one more
 * than the page reached when more follow. Returns 0 or -1 with e. */
static int search_list(struct db *db, const char *org_id, const struct child_query *q,
                       const char *order, json_t *items, int64_t *total, bool *capped,
                       struct err *e)
{
    int64_t n = count_capped(db, org_id, q, e);
    if (n < 0) {
        return -1;
    }
    struct sqlb *b = xcalloc(1, sizeof(*b));
    struct filter_bufs fb;
    buf_init(&b->sql);
    sq_param(b, org_id);
    buf_adds(&b->sql, "SELECT " SUMMARY_COLS " FROM children c WHERE c.org_id = $1");
    add_filters(b, q, fb.age_lo, fb.age_hi, fb.need_pat);
    add_order_page(b, order, false, q);
    bool more;
    int rc = fetch_page(db, b, q->per_page, items, &more, e);
    buf_release(&b->sql);
    free(b);
    if (rc != 0) {
        return -1;
    }
    int64_t seen = (int64_t)(q->page - 1) * q->per_page + (int64_t)json_array_size(items);
    *capped = false;
    *total = n;
    if (n > COUNT_CAP) {
        if (json_array_size(items) > 0 && !more) {
            *total = seen; /* the last page: exact after all */
        } else {
            *capped = true;
            *total = more && seen + 1 > COUNT_CAP ? seen + 1 : COUNT_CAP;
        }
    }
    return 0;
}

/* The children whose file number starts with qp's, or whose identity
 * number or guardian's phone is qp's digits, into items with the total:
 * few, so they are counted exactly. Returns 0 or -1 with e. */
static int search_number(struct db *db, const char *org_id, const struct qparse *qp,
                         const struct child_query *q, const char *order, json_t *items,
                         int64_t *total, struct err *e)
{
    struct sqlb *b = xcalloc(1, sizeof(*b));
    struct filter_bufs fb;
    buf_init(&b->sql);
    sq_text(b, org_id); /* $1 */
    buf_reset(&b->sql);
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
    add_filters(b, q, fb.age_lo, fb.age_hi, fb.need_pat);
    add_order_page(b, order, true, q);
    int rc = -1;
    *total = -1;
    struct db_stmt *s = sq_prepare(db, b, e);
    if (s) {
        while ((rc = db_step(s, e)) == 1) {
            *total = db_col_int64(s, 12);
            if ((int)json_array_size(items) < q->per_page) {
                json_array_append_new(items, summary_of(s));
            }
        }
        db_done(s);
    }
    if (rc == 0 && *total < 0 && q->page > 1) {
        /* past the last page: count without the page */
        char *sql = buf_detach(&b->sql, NULL);
        char *lim = strstr(sql, " ORDER BY ");
        buf_init(&b->sql);
        buf_adds(&b->sql, "SELECT COUNT(*) FROM (");
        buf_add(&b->sql, sql, (size_t)(lim - sql));
        buf_adds(&b->sql, ") t");
        free(sql);
        b->n -= 2; /* the LIMIT and OFFSET parameters */
        s = sq_prepare(db, b, e);
        rc = -1;
        if (s) {
            rc = db_step(s, e);
            *total = rc == 1 ? db_col_int64(s, 0) : 0;
            db_done(s);
        }
    }
    if (*total < 0) {
        *total = 0;
    }
    buf_release(&b->sql);
    free(b);
    return rc < 0 ? -1 : 0;
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
    json_t *result = NULL;
    if (parse_query(q->q, qp, e) != 0) {
        goto out;
    }
    json_t *items = json_array();
    int64_t total = 0;
    bool capped = false;
    int rc = 0;
    if (qp->nothing) {
        total = 0;
    } else if (qp->number) {
        rc = search_number(db, a->org_id, qp, q, order, items, &total, e);
    } else {
        rc = qp->n_words > 0
                 ? search_words(db, a->org_id, qp, q, order, items, &total, &capped, e)
                 // NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): set, or err_set returned -1
                 : search_list(db, a->org_id, q, order, items, &total, &capped, e);
    }
    if (rc != 0) {
        json_decref(items);
        goto out;
    }
    result = json_pack("{s:o, s:I, s:b, s:i, s:i}", "items", items, "total", (json_int_t)total,
                       "total_capped", capped, "page", q->page, "per_page", q->per_page);
out:
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
