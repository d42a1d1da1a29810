/*
 * dedup.c: duplicate children found by the matching engine, decisions on
 * pairs, and the merge of two records; see dedup.h.
 *
 * The engine is pure (src/match): this file loads children from the
 * database into a struct match_set, runs the engine's scoring, and turns its
 * explanations into JSON. For one record the neighbours come from the name
 * keys that search.c keeps (child_name_keys: normalized form and skeleton of
 * each name), widened like the engine's blocking keys; for the whole
 * organization the engine's own blocking runs over every open record.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "children/children.h"
#include "children/dedup.h"
#include "children/search.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/time.h"
#include "core/uuid.h"
#include "core/xalloc.h"
#include "db/db_util.h"
#include "keys/keys.h"
#include "match/match.h"
#include "core/banned.h"

/* Columns of a child loaded for matching, in the order of enum col. */
#define LOAD_COLS                                                                                 \
    "c.id, c.file_no, c.first_name, c.father_name, c.grandfather_name, c.family_name, "          \
    "c.mother_name, c.sex, c.birth_date, c.birth_place, c.status"

/* Indexes of LOAD_COLS. */
enum col {
    C_ID = 0,
    C_FILE_NO,
    C_FIRST,
    C_FATHER,
    C_GRANDFATHER,
    C_FAMILY,
    C_MOTHER,
    C_SEX,
    C_BIRTH,
    C_PLACE,
    C_STATUS,
    N_COL
};

/* JSON member of each column. */
static const char *const col_names[N_COL] = {
    "id",          "file_no", "first_name", "father_name", "grandfather_name", "family_name",
    "mother_name", "sex",     "birth_date", "birth_place", "status"};

/* One loaded child: column values in rows->ar, NULL for SQL NULL. */
struct crow {
    const char *v[N_COL]; /* values by enum col */
};

/* Loaded children. */
struct rows {
    struct arena ar;  /* holds every string */
    struct crow *r;   /* the rows (owned) */
    size_t n;         /* rows in use */
    size_t cap;       /* rows allocated */
};

/* Frees what rows holds. */
static void rows_release(struct rows *rs)
{
    arena_release(&rs->ar);
    free(rs->r);
    memset(rs, 0, sizeof(*rs));
}

/* Appends an empty row and returns it. */
static struct crow *rows_add(struct rows *rs)
{
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 64;
        rs->r = xrealloc(rs->r, xmul(rs->cap, sizeof(*rs->r)));
    }
    struct crow *c = &rs->r[rs->n++];
    memset(c, 0, sizeof(*c));
    return c;
}

/* Reads every row of s (LOAD_COLS first) into rs, at most max rows (one
 * more is read to tell "too many"). Returns the rows read, or -1 with e.
 * Ends s. */
static long rows_read(struct db_stmt *s, struct rows *rs, size_t max, struct err *e)
{
    int rc;
    long got = 0;
    while ((rc = db_step(s, e)) == 1) {
        if ((size_t)got > max) {
            break;
        }
        struct crow *c = rows_add(rs);
        for (int i = 0; i < N_COL; i++) {
            const char *v = db_col_text(s, i);
            c->v[i] = v ? arena_strdup(&rs->ar, v) : NULL;
        }
        got++;
    }
    db_done(s);
    return rc < 0 ? -1 : got;
}

/* The summary of a loaded child, as the pages and the API show it. */
static json_t *summary_json(const struct crow *c)
{
    json_t *o = json_object();
    for (int i = 0; i < N_COL; i++) {
        json_object_set_new(o, col_names[i], c->v[i] ? json_string(c->v[i]) : json_null());
    }
    return o;
}

/* ---- from rows to the engine ---- */

/* Fills in from row c (the strings stay c's). */
static void input_of(const struct crow *c, struct match_input *in)
{
    memset(in, 0, sizeof(*in));
    static const int map[MATCH_N_COLS] = {C_ID,   C_FIRST, C_FATHER, C_GRANDFATHER, C_FAMILY,
                                          C_MOTHER, C_SEX, C_BIRTH,  C_PLACE};
    for (int k = 0; k < MATCH_N_COLS; k++) {
        const char *v = c->v[map[k]];
        if (v && *v) {
            in->val[k] = v;
            in->len[k] = strlen(v);
        }
    }
    /* A value the engine refuses (a very long place, a date it does not take)
     * is left out of the comparison rather than the child. */
    for (int tries = 0; tries < MATCH_N_COLS; tries++) {
        struct err e;
        err_clear(&e);
        if (match_input_check(in, &e) == 0) {
            return;
        }
        int bad = -1;
        for (int k = 1; k < MATCH_N_COLS; k++) {
            if (e.field[0] && strcmp(e.field, match_col_names[k]) == 0) {
                bad = k;
            }
        }
        if (bad < 0) {
            for (int k = 1; k < MATCH_N_COLS; k++) {
                in->val[k] = NULL; /* not named: compare on nothing but the id */
                in->len[k] = 0;
            }
            return;
        }
        in->val[bad] = NULL;
        in->len[bad] = 0;
    }
}

/* Builds set from rows[0..n) on n_threads threads. Returns 0. */
static int set_of_rows(struct match_set *set, const struct crow *r, size_t n, int n_threads)
{
    struct match_input *in = xcalloc(n ? n : 1, sizeof(*in));
    for (size_t i = 0; i < n; i++) {
        input_of(&r[i], &in[i]);
    }
    int rc = match_set_build(set, in, n, n_threads);
    free(in);
    return rc;
}

/* ---- explanations ---- */

/* The registry's name for each engine field (a catalog key "field.<name>"). */
static const char *const field_keys[MF_COUNT] = {
    "first_name",  "father_name",   "grandfather_name", "family_name", "mother_name",
    "mother_family", "birth_place", "sex",              "birth_date"};

/* The name of an agreement level of field f. */
static const char *level_name(int f, int level)
{
    static const char *const names[] = {"different", "fuzzy", "close", "exact"};
    static const char *const dates[] = {"different", "near", "estimated", "close", "exact"};
    static const char *const sex[] = {"different", "same"};
    if (level < 0) {
        return "missing";
    }
    if (f == MF_DOB) {
        return level < 5 ? dates[level] : "other";
    }
    if (f == MF_SEX) {
        return level < 2 ? sex[level] : "other";
    }
    return level < 4 ? names[level] : "other";
}

/* x rounded to two decimals as a JSON number. */
static json_t *real2(double x)
{
    return json_real(round(x * 100.0) / 100.0);
}

/* The explanation of one score: {"score", "threshold", "terms": [{"field",
 * "level", "weight", "tf"}], "household", "household_used", "child",
 * "guard", "swapped"}. */
static json_t *explain_json(const struct match_explain *ex, double threshold)
{
    json_t *terms = json_array();
    for (int f = 0; f < MF_COUNT; f++) {
        const struct match_term *t = &ex->term[f];
        json_array_append_new(terms, json_pack("{s:s, s:s, s:o, s:o}", "field", field_keys[f],
                                               "level", level_name(f, t->level), "weight",
                                               real2(t->weight), "tf", real2(t->tf_adjust)));
    }
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:b}", "score", real2(ex->score),
                     "threshold", real2(threshold), "terms", terms, "household",
                     real2(ex->household), "household_used", real2(ex->household_used), "child",
                     real2(ex->child), "guard", ex->guard, "swapped", ex->swapped);
}

/* ---- candidates of one record ---- */

/* Normalized form (UTF-8, as child_name_keys.norm) and usable skeleton of a
 * name; both "" when there is nothing to match on. */
struct nkey {
    char norm[2 * MATCH_NAME_MAX + 8]; /* normalized form as UTF-8 */
    char skel[MATCH_NAME_MAX + 1];     /* skeleton, "" when too short to use */
};

/* Fills k from s as a name of kind (the first word only when first_word). */
static void nkey_of(const char *s, enum match_kind kind, bool first_word, struct nkey *k)
{
    k->norm[0] = k->skel[0] = '\0';
    if (!s || !*s) {
        return;
    }
    size_t n = strlen(s);
    if (n > MATCH_FIELD_MAX) {
        n = MATCH_FIELD_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
            n--;
        }
    }
    struct match_norm *mn = xmalloc(sizeof(*mn));
    match_normalize(s, n, kind, first_word, mn);
    match_norm_to_utf8(mn->norm, mn->n_norm, k->norm, sizeof(k->norm));
    /* the same rule as search.c: short Arabic skeletons join different names */
    size_t min = mn->script == MATCH_SCRIPT_LATIN ? 2 : 3;
    if (mn->n_skel >= min) {
        memcpy(k->skel, mn->skel, mn->n_skel);
        k->skel[mn->n_skel] = '\0';
    }
    free(mn);
}

/* NULL for "", so that an empty key matches nothing. */
static const char *or_null(const char *s)
{
    return s && *s ? s : NULL;
}

/* Loads the neighbours of row me (see dedup.h) into rs. Returns 0 or -1. */
static int load_neighbours(struct db *db, const struct actor *a, const struct crow *me,
                           const char *exclude_id, struct rows *rs, struct err *e)
{
    struct nkey *k = xcalloc(4, sizeof(*k));
    nkey_of(me->v[C_FIRST], MATCH_KIND_GIVEN, false, &k[0]);
    nkey_of(me->v[C_FATHER], MATCH_KIND_GIVEN, false, &k[1]);
    nkey_of(me->v[C_FAMILY], MATCH_KIND_FAMILY, false, &k[2]);
    nkey_of(me->v[C_MOTHER], MATCH_KIND_GIVEN, true, &k[3]);
    char lo[32] = "", hi[32] = "";
    int y, m, d;
    if (me->v[C_BIRTH] && time_date_parse(me->v[C_BIRTH], &y, &m, &d) == 0) {
        snprintf(lo, sizeof(lo), "%04d-01-01", y - 1);
        snprintf(hi, sizeof(hi), "%04d-01-01", y + 2);
    }
    struct db_stmt *s = db_prepare(
        db,
        "WITH h AS ("
        /* one arm per index (norm, skel), so each is a range scan of its index */
        "SELECT child_id, 1 AS k FROM child_name_keys WHERE org_id = $1 AND norm IN ($2, $3)"
        " AND field = 'first_name'"
        " UNION ALL SELECT child_id, 1 FROM child_name_keys WHERE org_id = $1 AND skel IN ($4, $5)"
        " AND field = 'first_name'"
        " UNION ALL SELECT child_id, 2 FROM child_name_keys WHERE org_id = $1 AND norm IN ($2, $3)"
        " AND field = 'father_name'"
        " UNION ALL SELECT child_id, 2 FROM child_name_keys WHERE org_id = $1 AND skel IN ($4, $5)"
        " AND field = 'father_name'"
        " UNION ALL SELECT child_id, 4 FROM child_name_keys WHERE org_id = $1 AND norm = $6"
        " AND field = 'family_name'"
        " UNION ALL SELECT child_id, 4 FROM child_name_keys WHERE org_id = $1 AND skel = $7"
        " AND field = 'family_name'"
        " UNION ALL SELECT child_id, 8 FROM child_name_keys WHERE org_id = $1 AND norm = $8"
        " AND field IN ('mother_name', 'mother_name.word')"
        " UNION ALL SELECT child_id, 8 FROM child_name_keys WHERE org_id = $1 AND skel = $9"
        " AND field IN ('mother_name', 'mother_name.word')"
        "), m AS (SELECT child_id, COUNT(DISTINCT k) AS n FROM h GROUP BY child_id) "
        "SELECT " LOAD_COLS " FROM m JOIN children c ON c.id = m.child_id "
        "WHERE c.org_id = $1 AND c.merged_into IS NULL"
        " AND (m.n >= 2 OR (c.birth_date >= $10 AND c.birth_date < $11))"
        " AND c.id <> $12 AND NOT EXISTS (SELECT 1 FROM child_distinct x WHERE"
        " (x.child_a = $12 AND x.child_b = c.id) OR (x.child_a = c.id AND x.child_b = $12))"
        " ORDER BY m.n DESC, c.id LIMIT $13",
        e);
    if (!s) {
        free(k);
        return -1;
    }
    db_bind_text(s, 1, a->org_id);
    db_bind_text(s, 2, or_null(k[0].norm));
    db_bind_text(s, 3, or_null(k[1].norm));
    db_bind_text(s, 4, or_null(k[0].skel));
    db_bind_text(s, 5, or_null(k[1].skel));
    db_bind_text(s, 6, or_null(k[2].norm));
    db_bind_text(s, 7, or_null(k[2].skel));
    db_bind_text(s, 8, or_null(k[3].norm));
    db_bind_text(s, 9, or_null(k[3].skel));
    db_bind_text(s, 10, or_null(lo));
    db_bind_text(s, 11, or_null(hi));
    db_bind_text(s, 12, exclude_id && *exclude_id ? exclude_id : "");
    db_bind_int64(s, 13, DEDUP_MAX_NEIGHBOURS);
    free(k);
    return rows_read(s, rs, DEDUP_MAX_NEIGHBOURS, e) < 0 ? -1 : 0;
}

/* A candidate and its score, for sorting. */
struct scored {
    size_t i;     /* index in the set */
    double score; /* bits */
};

/* Orders scored items best first, then by index (stable for equal scores). */
static int scored_cmp(const void *x, const void *y)
{
    const struct scored *a = x, *b = y;
    if (a->score != b->score) {
        return a->score > b->score ? -1 : 1;
    }
    return a->i < b->i ? -1 : a->i > b->i;
}

/* Copies rec's string members into row c (strings stay rec's). */
static void row_of_json(json_t *rec, struct crow *c)
{
    memset(c, 0, sizeof(*c));
    for (int i = 0; i < N_COL; i++) {
        json_t *v = json_object_get(rec, col_names[i]);
        c->v[i] = json_is_string(v) ? json_string_value(v) : NULL;
    }
    if (!c->v[C_ID]) {
        c->v[C_ID] = ""; /* a record not saved yet */
    }
}

/* Candidates of one record; see dedup.h. */
json_t *children_engine_duplicates(struct db *db, const struct actor *a, json_t *rec,
                                   const char *child_id, double threshold, struct err *e)
{
    if (!actor_can(a, PERM_CHILDREN_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to read children");
        return NULL;
    }
    if (!a->org_id[0]) {
        err_set(e, ERR_INVALID, "no_organization", NULL, "the actor has no organization");
        return NULL;
    }
    if (rec && !json_is_object(rec)) {
        err_set(e, ERR_INVALID, "invalid_body", NULL, "the record is not a JSON object");
        return NULL;
    }
    struct rows me = {0}, nb = {0};
    arena_init(&me.ar);
    arena_init(&nb.ar);
    json_t *out = NULL;
    if (rec) {
        row_of_json(rec, rows_add(&me));
    } else {
        if (!child_id || !uuid_valid(child_id)) {
            err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such child");
            goto done;
        }
        struct db_stmt *s = db_query(db, e,
                                     "SELECT " LOAD_COLS " FROM children c WHERE c.id = $1 AND "
                                     "c.org_id = $2",
                                     "tt", child_id, a->org_id);
        long got = s ? rows_read(s, &me, 1, e) : -1;
        if (got < 0) {
            goto done;
        }
        if (got == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such child");
            goto done;
        }
    }
    if (load_neighbours(db, a, &me.r[0], child_id, &nb, e) < 0) {
        goto done;
    }
    out = json_array();
    if (nb.n == 0) {
        goto done;
    }
    /* the record first, then its neighbours */
    struct crow *all = xcalloc(nb.n + 1, sizeof(*all));
    all[0] = me.r[0];
    if (!all[0].v[C_ID] || !*all[0].v[C_ID]) {
        all[0].v[C_ID] = "new";
    }
    memcpy(all + 1, nb.r, nb.n * sizeof(*all));
    struct match_set set;
    set_of_rows(&set, all, nb.n + 1, 1);
    free(all);
    /* The neighbours all share names with the record, so their frequencies
     * are not the organization's: no term-frequency adjustment here (the
     * engine skips it below 50 records with a value). */
    for (int f = 0; f < MF_COUNT; f++) {
        set.n_nonempty[f] = 0;
    }
    struct match_model model;
    match_model_init(&model);
    double thr = isnan(threshold) ? model.threshold : threshold;
    struct scored *sc = xcalloc(nb.n, sizeof(*sc));
    size_t n_sc = 0;
    for (size_t i = 1; i <= nb.n; i++) {
        double s = match_score(&model, &set, 0, i, NULL);
        if (s >= thr) {
            sc[n_sc].i = i;
            sc[n_sc].score = s;
            n_sc++;
        }
    }
    if (n_sc > 1) {
        qsort(sc, n_sc, sizeof(*sc), scored_cmp);
    }
    for (size_t k = 0; k < n_sc; k++) {
        struct match_explain ex;
        match_score(&model, &set, 0, sc[k].i, &ex);
        json_t *o = summary_json(&nb.r[sc[k].i - 1]);
        json_object_set_new(o, "score", real2(sc[k].score));
        json_object_set_new(o, "explain", explain_json(&ex, thr));
        json_array_append_new(out, o);
    }
    free(sc);
    match_set_release(&set);
done:
    rows_release(&me);
    rows_release(&nb);
    return out;
}

/* ---- the organization's pairs ---- */

/* Orders pairs best first, then by (a, b). */
static int pair_cmp(const void *x, const void *y)
{
    const struct match_pair *p = x, *q = y;
    if (p->score != q->score) {
        return p->score > q->score ? -1 : 1;
    }
    if (p->a != q->a) {
        return p->a < q->a ? -1 : 1;
    }
    return p->b < q->b ? -1 : p->b > q->b;
}

/* Orders 64-bit keys. */
static int u64_cmp(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* The index of id in rows sorted by id, -1 when absent. */
static int id_find(const struct rows *rs, const char *id)
{
    size_t lo = 0, hi = rs->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(rs->r[mid].v[C_ID], id);
        if (c == 0) {
            return (int)mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

/* Orders rows by id, byte-wise. */
static int crow_cmp(const void *x, const void *y)
{
    return strcmp(((const struct crow *)x)->v[C_ID], ((const struct crow *)y)->v[C_ID]);
}

/* The key of an unordered pair of indexes. */
static uint64_t pair_key(uint32_t a, uint32_t b)
{
    return a < b ? ((uint64_t)a << 32) | b : ((uint64_t)b << 32) | a;
}

/* Loads the organization's "different children" pairs as sorted keys of
 * indexes into rs. Returns the count, or -1 with e; *out owned by the caller. */
static long load_distinct(struct db *db, const struct actor *a, const struct rows *rs,
                          uint64_t **out, struct err *e)
{
    *out = NULL;
    struct db_stmt *s = db_query(db, e,
                                 "SELECT child_a, child_b FROM child_distinct WHERE org_id = $1",
                                 "t", a->org_id);
    if (!s) {
        return -1;
    }
    size_t n = 0, cap = 0;
    uint64_t *k = NULL;
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        int x = id_find(rs, db_col_text(s, 0)), y = id_find(rs, db_col_text(s, 1));
        if (x < 0 || y < 0) {
            continue; /* one of them is closed or merged: not on the page anyway */
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            k = xrealloc(k, xmul(cap, sizeof(*k)));
        }
        k[n++] = pair_key((uint32_t)x, (uint32_t)y);
    }
    db_done(s);
    if (rc < 0) {
        free(k);
        return -1;
    }
    if (n) {
        qsort(k, n, sizeof(*k), u64_cmp);
    }
    *out = k;
    return (long)n;
}

/* The organization's pairs; see dedup.h. */
json_t *children_duplicate_pairs(struct db *db, const struct actor *a, double threshold, int page,
                                 int per_page, struct err *e)
{
    if (!actor_can(a, PERM_CHILDREN_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to read children");
        return NULL;
    }
    if (!a->org_id[0]) {
        err_set(e, ERR_INVALID, "no_organization", NULL, "the actor has no organization");
        return NULL;
    }
    if (page < 1 || page > 1000000) {
        err_set(e, ERR_INVALID, "invalid_field", "page", "'page' must be a number from 1");
        return NULL;
    }
    if (per_page < 1 || per_page > 200) {
        err_set(e, ERR_INVALID, "invalid_field", "per_page",
                "'per_page' must be a number from 1 to 200");
        return NULL;
    }
    if (!isnan(threshold) && (threshold < -50 || threshold > 100)) {
        err_set(e, ERR_INVALID, "invalid_field", "threshold",
                "'threshold' must be a number from -50 to 100");
        return NULL;
    }
    int64_t t0 = time_mono_ns();
    struct rows rs = {0};
    arena_init(&rs.ar);
    json_t *out = NULL;
    uint64_t *distinct = NULL;
    /* ids compared byte-wise in both engines, so that id_find's order holds */
    struct db_stmt *s = db_query(db, e,
                                 "SELECT " LOAD_COLS " FROM children c WHERE c.org_id = $1 AND "
                                 "c.merged_into IS NULL AND c.status <> 'closed' ORDER BY c.id",
                                 "t", a->org_id);
    long got = s ? rows_read(s, &rs, DEDUP_MAX_CHILDREN, e) : -1;
    if (got < 0) {
        goto done;
    }
    if ((size_t)got > DEDUP_MAX_CHILDREN) {
        err_set(e, ERR_LIMIT, "too_many_children", NULL,
                "more than %d open records: run 'sanad match dedup' on an export",
                DEDUP_MAX_CHILDREN);
        goto done;
    }
    /* byte order for id_find, whatever the database's collation */
    if (rs.n > 1) {
        qsort(rs.r, rs.n, sizeof(*rs.r), crow_cmp);
    }
    long n_distinct = load_distinct(db, a, &rs, &distinct, e);
    if (n_distinct < 0) {
        goto done;
    }
    struct match_set set;
    set_of_rows(&set, rs.r, rs.n, 2);
    struct match_dedup d;
    match_dedup_init(&d);
    d.n_threads = 2;
    d.threshold = threshold;
    d.seed = 1;
    match_dedup_run(&d, &set);
    double thr = d.model.threshold;
    size_t kept = 0;
    for (size_t i = 0; i < d.n_pairs; i++) {
        uint64_t key = pair_key(d.pairs[i].a, d.pairs[i].b);
        if (n_distinct > 0 &&
            bsearch(&key, distinct, (size_t)n_distinct, sizeof(key), u64_cmp)) {
            continue;
        }
        d.pairs[kept++] = d.pairs[i];
    }
    if (kept) {
        qsort(d.pairs, kept, sizeof(*d.pairs), pair_cmp);
    }
    json_t *pairs = json_array();
    size_t from = (size_t)(page - 1) * (size_t)per_page;
    for (size_t i = from; i < kept && i < from + (size_t)per_page; i++) {
        struct match_explain ex;
        double sc = match_score(&d.model, &set, d.pairs[i].a, d.pairs[i].b, &ex);
        json_array_append_new(pairs, json_pack("{s:o, s:o, s:o, s:o}", "a",
                                               summary_json(&rs.r[d.pairs[i].a]), "b",
                                               summary_json(&rs.r[d.pairs[i].b]), "score",
                                               real2(sc), "explain", explain_json(&ex, thr)));
    }
    int64_t ms = (time_mono_ns() - t0) / 1000000;
    out = json_pack("{s:o, s:I, s:i, s:i, s:I, s:I, s:o, s:I}", "pairs", pairs, "total",
                    (json_int_t)kept, "page", page, "per_page", per_page, "records",
                    (json_int_t)rs.n, "candidates", (json_int_t)d.n_candidates, "threshold",
                    real2(thr), "ms", (json_int_t)ms);
    match_dedup_release(&d);
    match_set_release(&set);
done:
    free(distinct);
    rows_release(&rs);
    return out;
}

/* ---- decisions ---- */

/* State of one child for a decision or a merge. */
struct cstate {
    char file_no[64];     /* file number */
    char status[24];      /* status */
    bool merged;          /* merged into another record */
};

/* Reads id's state in a's organization. Returns 0, or -1 with e
 * (ERR_NOT_FOUND for a child of another organization). */
static int child_state(struct db *db, const struct actor *a, const char *id, struct cstate *st,
                       struct err *e)
{
    if (!id || !uuid_valid(id)) {
        return err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such child");
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT file_no, status, merged_into FROM children WHERE id = $1 "
                               "AND org_id = $2",
                               "tt", id, a->org_id);
    if (!s) {
        return found < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such child");
    }
    snprintf(st->file_no, sizeof(st->file_no), "%s", db_col_text(s, 0));
    snprintf(st->status, sizeof(st->status), "%s", db_col_text(s, 1));
    st->merged = !db_col_null(s, 2);
    db_done(s);
    return 0;
}

/* Checks a pair for a decision or a merge: two different children of a's
 * organization, neither merged. Inside the caller's transaction. */
static int check_pair(struct db *db, const struct actor *a, const char *id_a, const char *id_b,
                      struct cstate *sa, struct cstate *sb, struct err *e)
{
    if (id_a && id_b && strcmp(id_a, id_b) == 0) {
        return err_set(e, ERR_INVALID, "same_child", "other_id",
                       "a record cannot be merged with itself");
    }
    if (child_state(db, a, id_a, sa, e) < 0 || child_state(db, a, id_b, sb, e) < 0) {
        return -1;
    }
    // NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Branch): set, or err_set returned -1
    if (sa->merged || sb->merged) {
        return err_set(e, ERR_CONFLICT, "already_merged", "id",
                       "record '%s' was merged already", sa->merged ? sa->file_no : sb->file_no);
    }
    return 0;
}

/* A decision on a pair; see dedup.h. */
int children_dedup_decide(struct db *db, const struct actor *a, const char *id_a,
                          const char *id_b, const char *decision, struct err *e)
{
    if (!actor_can(a, PERM_CHILDREN_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to change children");
    }
    bool different = decision && strcmp(decision, "different") == 0;
    if (!different && !(decision && strcmp(decision, "same") == 0)) {
        return err_set(e, ERR_INVALID, "invalid_choice", "decision",
                       "'decision' must be 'same' or 'different'");
    }
    bool own = !db_in_transaction(db);
    if (own && db_begin(db, false, e) < 0) {
        return -1;
    }
    struct cstate sa, sb;
    if (check_pair(db, a, id_a, id_b, &sa, &sb, e) < 0 ||
        (different && children_mark_distinct(db, a, id_a, id_b, e) < 0)) {
        if (own) {
            db_rollback(db);
        }
        return -1;
    }
    if (own) {
        if (different) {
            return db_commit(db, e) < 0 ? -1 : 0;
        }
        db_rollback(db); /* "same" changes nothing: the merge page follows */
    }
    return 0;
}

/* ---- merge ---- */

/* Reads every field of id (sealed ones opened when open_sealed) plus
 * guardian_id into a JSON object of strings (absent when NULL). Inside the
 * caller's transaction. NULL with e. */
static json_t *load_fields(struct db *db, struct arena *ar, const struct actor *a, const char *id,
                           bool open_sealed, struct err *e)
{
    int n;
    const struct child_field *f = children_fields(&n);
    struct buf sql = BUF_INIT;
    buf_adds(&sql, "SELECT guardian_id");
    for (int i = 0; i < n; i++) {
        buf_addf(&sql, ", %s", f[i].name); /* names from the field table, not user input */
    }
    buf_adds(&sql, " FROM children WHERE id = $1 AND org_id = $2");
    int found;
    struct db_stmt *s = db_row(db, e, &found, sql.buf, "tt", id, a->org_id);
    buf_release(&sql);
    if (!s) {
        if (found == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such child");
        }
        return NULL;
    }
    json_t *j = json_object();
    if (!db_col_null(s, 0)) {
        json_object_set_new(j, "guardian_id", json_string(db_col_text(s, 0)));
    }
    bool ok = true;
    for (int i = 0; i < n && ok; i++) {
        const char *v = db_col_text(s, i + 1);
        if (!v) {
            continue;
        }
        if (f[i].sealed) {
            if (!open_sealed) {
                continue;
            }
            v = keys_open(db, ar, a->org_id, id, f[i].name, v, NULL, e);
            ok = v != NULL;
        }
        if (ok && f[i].type == FIELD_BOOL && strcmp(v, "1") != 0) {
            continue; /* "no" is the empty value of a yes/no field */
        }
        if (ok && *v) {
            json_object_set_new(j, f[i].name, json_string(v));
        }
    }
    db_done(s);
    if (!ok) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* The engine's score and explanation of two loaded records (fields as JSON). */
static void pair_explain(json_t *x, json_t *y, json_t *into)
{
    struct crow r[2];
    row_of_json(x, &r[0]);
    row_of_json(y, &r[1]);
    r[0].v[C_ID] = "a";
    r[1].v[C_ID] = "b";
    struct match_set set;
    set_of_rows(&set, r, 2, 1);
    struct match_model model;
    match_model_init(&model);
    struct match_explain ex;
    double sc = match_score(&model, &set, 0, 1, &ex);
    json_object_set_new(into, "score", real2(sc));
    json_object_set_new(into, "explain", explain_json(&ex, model.threshold));
    match_set_release(&set);
}

/* What the merge page shows; see dedup.h. */
json_t *children_merge_preview(struct db *db, const struct actor *a, const char *keep_id,
                               const char *other_id, struct err *e)
{
    if (!actor_can(a, PERM_CHILDREN_WRITE)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to change children");
        return NULL;
    }
    bool health = actor_can(a, PERM_CHILDREN_HEALTH);
    if (db_begin(db, true, e) < 0) {
        return NULL;
    }
    struct cstate sk, so;
    json_t *out = NULL, *keep = NULL, *other = NULL;
    struct arena ar;
    arena_init(&ar);
    if (check_pair(db, a, keep_id, other_id, &sk, &so, e) < 0 ||
        !(keep = load_fields(db, &ar, a, keep_id, health, e)) ||
        !(other = load_fields(db, &ar, a, other_id, health, e))) {
        goto done;
    }
    json_t *fields = json_array();
    int n;
    const struct child_field *f = children_fields(&n);
    for (int i = 0; i < n; i++) {
        const char *kv = json_string_value(json_object_get(keep, f[i].name));
        const char *ov = json_string_value(json_object_get(other, f[i].name));
        if (!ov || (kv && strcmp(kv, ov) == 0)) {
            continue; /* nothing to take: other has no value, or the same one */
        }
        json_array_append_new(fields, json_pack("{s:s, s:s?, s:s, s:b, s:b}", "name", f[i].name,
                                                "keep", kv, "other", ov, "take_other", !kv,
                                                "sealed", f[i].sealed));
    }
    json_object_set_new(keep, "id", json_string(keep_id));
    json_object_set_new(keep, "file_no", json_string(sk.file_no));
    json_object_set_new(keep, "status", json_string(sk.status));
    json_object_set_new(other, "id", json_string(other_id));
    json_object_set_new(other, "file_no", json_string(so.file_no));
    json_object_set_new(other, "status", json_string(so.status));
    out = json_pack("{s:O, s:O, s:o}", "keep", keep, "other", other, "fields", fields);
    pair_explain(keep, other, out);
done:
    db_rollback(db);
    arena_release(&ar);
    json_decref(keep);
    json_decref(other);
    return out;
}

/* Copies the history rows of table (child_status_history or
 * child_guardian_history) from other to keep, noting where they came from.
 * Returns the rows copied, or -1 with e. */
static long copy_history(struct db *db, const struct actor *a, const char *table,
                         const char *keep_id, const char *other_id, const char *note,
                         struct err *e)
{
    bool status = strcmp(table, "child_status_history") == 0;
    struct db_stmt *s = db_query(
        db, e,
        status ? "SELECT id, from_status, to_status, reason, by_user, at FROM child_status_history"
                 " WHERE child_id = $1 AND org_id = $2 ORDER BY at, id"
               : "SELECT id, guardian_id, household_id, reason, by_user, at FROM"
                 " child_guardian_history WHERE child_id = $1 AND org_id = $2 ORDER BY at, id",
        "tt", other_id, a->org_id);
    if (!s) {
        return -1;
    }
    /* read first: the same connection cannot insert while a query is open */
    struct rows rs = {0};
    arena_init(&rs.ar);
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        struct crow *c = rows_add(&rs);
        for (int i = 0; i < 6; i++) {
            const char *v = db_col_text(s, i);
            c->v[i] = v ? arena_strdup(&rs.ar, v) : NULL;
        }
    }
    db_done(s);
    long copied = rc < 0 ? -1 : 0;
    for (size_t i = 0; i < rs.n && copied >= 0; i++) {
        const struct crow *c = &rs.r[i];
        char id[UUID_STR_LEN];
        uuid_v7(id);
        const char *reason = c->v[3] && *c->v[3]
                                 ? arena_printf(&rs.ar, "%s: %s", note, c->v[3])
                                 : note;
        int64_t k = db_run(db, e,
                           status ? "INSERT INTO child_status_history (id, org_id, child_id,"
                                    " from_status, to_status, reason, by_user, at) VALUES ($1, $2,"
                                    " $3, $4, $5, $6, $7, $8)"
                                  : "INSERT INTO child_guardian_history (id, org_id, child_id,"
                                    " guardian_id, household_id, reason, by_user, at) VALUES ($1,"
                                    " $2, $3, $4, $5, $6, $7, $8)",
                           "tttttttt", id, a->org_id, keep_id, c->v[1], c->v[2], reason, c->v[4],
                           c->v[5]);
        copied = k < 0 ? -1 : copied + 1;
    }
    rows_release(&rs);
    return copied;
}

/* Checks the field names in take. Returns 0 or -1 with e. */
static int check_take(const struct actor *a, json_t *take, struct err *e)
{
    if (!take || json_is_null(take)) {
        return 0;
    }
    if (!json_is_array(take)) {
        return err_set(e, ERR_INVALID, "invalid_type", "take", "'take' must be a list of fields");
    }
    size_t i;
    json_t *v;
    json_array_foreach(take, i, v)
    {
        const char *name = json_string_value(v);
        const struct child_field *f = name ? children_field(name) : NULL;
        if (!f) {
            return err_set(e, ERR_INVALID, "invalid_choice", "take",
                           "'take' names a field that does not exist");
        }
        if (f->sealed && !actor_can(a, PERM_CHILDREN_HEALTH)) {
            return err_set(e, ERR_FORBIDDEN, "forbidden", name,
                           "not allowed to change health details");
        }
    }
    return 0;
}

/* True when take names field. */
static bool takes(json_t *take, const char *field)
{
    size_t i;
    json_t *v;
    json_array_foreach(take, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), field) == 0) {
            return true;
        }
    }
    return false;
}

/* Merges other into keep; see dedup.h. */
int children_merge(struct db *db, const struct actor *a, const char *keep_id,
                   const char *other_id, json_t *take, json_t **summary_out, struct err *e)
{
    if (summary_out) {
        *summary_out = NULL;
    }
    if (!actor_can(a, PERM_CHILDREN_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to change children");
    }
    if (check_take(a, take, e) < 0) {
        return -1;
    }
    bool health = actor_can(a, PERM_CHILDREN_HEALTH);
    bool own = !db_in_transaction(db);
    if (own && db_begin(db, false, e) < 0) {
        return -1;
    }
    struct arena ar;
    arena_init(&ar);
    struct buf sql = BUF_INIT, filled = BUF_INIT;
    json_t *keep = NULL, *other = NULL, *summary = NULL;
    struct cstate sk, so;
    struct db_stmt *s = NULL;
    if (check_pair(db, a, keep_id, other_id, &sk, &so, e) < 0 ||
        !(keep = load_fields(db, &ar, a, keep_id, health, e)) ||
        !(other = load_fields(db, &ar, a, other_id, health, e))) {
        goto fail;
    }
    char at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    /* 1. fields chosen from other (names from the field table) */
    int n;
    const struct child_field *f = children_fields(&n);
    buf_adds(&sql, "UPDATE children SET version = version + 1, updated_at = $1");
    int p = 2;
    const char *vals[128];
    int n_vals = 0;
    for (int i = 0; i < n && n_vals < 120; i++) {
        const char *ov = json_string_value(json_object_get(other, f[i].name));
        const char *kv = json_string_value(json_object_get(keep, f[i].name));
        if (!ov || !takes(take, f[i].name) || (kv && strcmp(kv, ov) == 0)) {
            continue;
        }
        const char *stored = ov;
        if (f[i].sealed) {
            /* sealed under keep's id: a ciphertext is bound to its record */
            stored = keys_seal(db, &ar, a->org_id, keep_id, f[i].name, ov, strlen(ov), e);
            if (!stored) {
                goto fail;
            }
        }
        buf_addf(&sql, ", %s = $%d", f[i].name, p++);
        buf_addf(&filled, "%s%s", filled.len ? "," : "", f[i].name);
        vals[n_vals++] = stored;
        json_object_set_new(keep, f[i].name, json_string(ov));
    }
    const char *guardian = NULL;
    if (!json_object_get(keep, "guardian_id") && json_object_get(other, "guardian_id")) {
        guardian = json_string_value(json_object_get(other, "guardian_id"));
        buf_addf(&sql, ", guardian_id = $%d", p++);
        buf_addf(&filled, "%sguardian_id", filled.len ? "," : "");
        vals[n_vals++] = guardian;
    }
    buf_addf(&sql, " WHERE id = $%d AND org_id = $%d", p, p + 1);
    s = db_prepare(db, sql.buf, e);
    if (!s) {
        goto fail;
    }
    db_bind_text(s, 1, at);
    for (int i = 0; i < n_vals; i++) {
        db_bind_text(s, 2 + i, vals[i]);
    }
    db_bind_text(s, 2 + n_vals, keep_id);
    db_bind_text(s, 3 + n_vals, a->org_id);
    int rc = db_step(s, e);
    db_done(s);
    if (rc < 0) {
        goto fail;
    }
    /* 2. documents and consents follow the child */
    int64_t docs = db_run(db, e,
                          "UPDATE child_documents SET child_id = $1 WHERE child_id = $2 AND "
                          "org_id = $3",
                          "ttt", keep_id, other_id, a->org_id);
    int64_t consents = docs < 0 ? -1
                                : db_run(db, e,
                                         "UPDATE consents SET child_id = $1 WHERE child_id = $2 "
                                         "AND org_id = $3",
                                         "ttt", keep_id, other_id, a->org_id);
    if (consents < 0) {
        goto fail;
    }
    /* 3. both histories: copied with a note, the originals stay on other */
    const char *note = arena_printf(&ar, "merged from %s", so.file_no);
    long st = copy_history(db, a, "child_status_history", keep_id, other_id, note, e);
    long gh = st < 0 ? -1 : copy_history(db, a, "child_guardian_history", keep_id, other_id, note, e);
    if (gh < 0) {
        goto fail;
    }
    /* 4. other is closed, pointing at keep; its names no longer find it */
    char hid[UUID_STR_LEN];
    uuid_v7(hid);
    if (db_run(db, e,
               "UPDATE children SET status = 'closed', status_reason = 'duplicate', merged_into = "
               "$1, updated_at = $2, version = version + 1 WHERE id = $3 AND org_id = $4",
               "tttt", keep_id, at, other_id, a->org_id) < 0 ||
        db_run(db, e,
               "INSERT INTO child_status_history (id, org_id, child_id, from_status, to_status,"
               " reason, by_user, at) VALUES ($1, $2, $3, $4, 'closed', 'duplicate', $5, $6)",
               "tttttt", hid, a->org_id, other_id, so.status, a->user_id[0] ? a->user_id : "cli",
               at) < 0 ||
        db_run(db, e, "DELETE FROM child_name_keys WHERE child_id = $1", "t", other_id) < 0 ||
        children_index_names(db, a->org_id, keep_id, keep, e) < 0) {
        goto fail;
    }
    /* 5. what moved, kept for people and for an audit */
    summary = json_pack("{s:s, s:s, s:[], s:I, s:I, s:I, s:I}", "kept", keep_id, "absorbed",
                        other_id, "filled", "documents", (json_int_t)docs, "consents",
                        (json_int_t)consents, "status_history", (json_int_t)st,
                        "guardian_history", (json_int_t)gh);
    if (filled.len) {
        for (char *tok = filled.buf, *end; tok && *tok; tok = end ? end + 1 : NULL) {
            end = strchr(tok, ',');
            json_array_append_new(json_object_get(summary, "filled"),
                                  json_stringn(tok, end ? (size_t)(end - tok) : strlen(tok)));
        }
    }
    char *moved = json_dumps(summary, JSON_COMPACT);
    char mid[UUID_STR_LEN];
    uuid_v7(mid);
    int64_t ins = db_run(db, e,
                         "INSERT INTO child_merges (id, org_id, kept_id, absorbed_id, filled,"
                         " moved, by_user, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                         "tttttttt", mid, a->org_id, keep_id, other_id,
                         filled.len ? filled.buf : NULL, moved,
                         a->user_id[0] ? a->user_id : "cli", at);
    free(moved);
    const char *dk = arena_printf(&ar,
                                  "absorbed %s (%s); filled %s; moved %lld documents, %lld "
                                  "consents; copied %ld status and %ld guardian history rows",
                                  so.file_no, other_id, filled.len ? filled.buf : "nothing",
                                  (long long)docs, (long long)consents, st, gh);
    const char *dother = arena_printf(&ar, "merged into %s (%s)", sk.file_no, keep_id);
    if (ins < 0 || actor_audit(db, a, "child.merge", "child", keep_id, "ok", dk, e) < 0 ||
        actor_audit(db, a, "child.merge", "child", other_id, "ok", dother, e) < 0) {
        goto fail;
    }
    if (own && db_commit(db, e) < 0) {
        own = false; /* rolled back by the failed commit */
        goto fail;
    }
    buf_release(&sql);
    buf_release(&filled);
    arena_release(&ar);
    json_decref(keep);
    json_decref(other);
    if (summary_out) {
        *summary_out = summary;
    } else {
        json_decref(summary);
    }
    return 0;
fail:
    if (own) {
        db_rollback(db);
    }
    buf_release(&sql);
    buf_release(&filled);
    arena_release(&ar);
    json_decref(keep);
    json_decref(other);
    json_decref(summary);
    return -1;
}
