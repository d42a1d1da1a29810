/*
 * record.c: prepared record sets. Normalizes every name of every record once
 * (on several threads), keeps the strings in per-thread pools and counts term
 * frequencies for the term-frequency adjustment.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "core/banned.h"
#include "match/match.h"

const char *const match_col_names[MATCH_N_COLS] = {
    "record_id", "first_name", "father_name", "grandfather_name", "family_name",
    "mother_name", "sex", "birth_date", "birth_place",
};

const char *const match_field_names[MF_COUNT] = {
    "first_name", "father_name", "grandfather_name", "family_name", "mother_name",
    "mother_family", "birth_place", "sex", "birth_date",
};

/* Parses a sex value: returns 0 unknown/empty, 1 male, 2 female, -1 invalid. */
static int parse_sex(const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
        n--;
    }
    if (n == 0) {
        return 0;
    }
    static const char *const male[] = {"m", "male", "\xd8\xb0\xd9\x83\xd8\xb1", "\xd8\xb0", NULL};
    static const char *const female[] = {
        "f", "female", "\xd8\xa3\xd9\x86\xd8\xab\xd9\x89", "\xd8\xa7\xd9\x86\xd8\xab\xd9\x89",
        "\xd8\xa3\xd9\x86\xd8\xab\xd9\x8a", "\xd8\xa7\xd9\x86\xd8\xab\xd9\x8a", "\xd8\xa3",
        "\xd8\xa7", NULL};
    for (int i = 0; male[i]; i++) {
        if (strlen(male[i]) == n && strncasecmp(s, male[i], n) == 0) {
            return 1;
        }
    }
    for (int i = 0; female[i]; i++) {
        if (strlen(female[i]) == n && strncasecmp(s, female[i], n) == 0) {
            return 2;
        }
    }
    return -1;
}

/* Checks one record's values; see match.h. */
int match_input_check(const struct match_input *in, struct err *e)
{
    for (int c = 0; c < MATCH_N_COLS; c++) {
        if (in->val[c] && in->len[c] > MATCH_FIELD_MAX) {
            return err_set(e, ERR_LIMIT, "too_long", match_col_names[c],
                           "value too long in column '%s' (%zu bytes, the limit is %d)",
                           match_col_names[c], in->len[c], MATCH_FIELD_MAX);
        }
    }
    if (in->val[MATCH_COL_SEX] && parse_sex(in->val[MATCH_COL_SEX], in->len[MATCH_COL_SEX]) < 0) {
        return err_set(e, ERR_INVALID, "invalid_sex", "sex",
                       "invalid value in column 'sex' (expected M, F or empty)");
    }
    struct match_date d;
    if (in->val[MATCH_COL_BIRTH_DATE] &&
        match_date_parse(in->val[MATCH_COL_BIRTH_DATE], in->len[MATCH_COL_BIRTH_DATE], &d) < 0) {
        return err_set(e, ERR_INVALID, "invalid_date", "birth_date",
                       "invalid date in column 'birth_date' (expected YYYY-MM-DD or empty)");
    }
    return 0;
}

/* Work of one normalizing thread. */
struct build_job {
    struct match_set *set;        /* the set being built */
    const struct match_input *in; /* all inputs */
    size_t from, to;              /* records of this job */
    uint16_t chunk;               /* pool index */
    struct buf pool;              /* strings of this chunk */
};

/* Appends a normalized name to the pool and fills *p. */
static void put_name(struct buf *pool, struct match_pname *p, const char *norm, size_t n_norm,
                     const char *skel, size_t n_skel, int script)
{
    memset(p, 0, sizeof(*p));
    if (n_norm == 0) {
        return;
    }
    p->off = (uint32_t)pool->len;
    p->n_norm = (uint8_t)n_norm;
    p->n_skel = (uint8_t)n_skel;
    p->script = (uint8_t)script;
    buf_add(pool, norm, n_norm);
    buf_addch(pool, '\0');
    buf_add(pool, skel, n_skel);
    buf_addch(pool, '\0');
}

/* Column of each name field (the mother's family name comes from the mother column). */
static const int field_col[MATCH_N_NAMES] = {
    MATCH_COL_FIRST, MATCH_COL_FATHER, MATCH_COL_GRANDFATHER, MATCH_COL_FAMILY,
    MATCH_COL_MOTHER, MATCH_COL_MOTHER, MATCH_COL_BIRTH_PLACE,
};

/* Normalizes the records of one job. */
static void *build_thread(void *arg)
{
    struct build_job *job = arg;
    struct match_norm *nm = xmalloc(sizeof(*nm));
    for (size_t i = job->from; i < job->to; i++) {
        const struct match_input *in = &job->in[i];
        struct match_prec *r = &job->set->rec[i];
        memset(r, 0, sizeof(*r));
        r->chunk = job->chunk;
        for (int f = 0; f < MATCH_N_NAMES; f++) {
            if (f == MF_MOTHER_FAMILY) {
                continue; /* filled with MF_MOTHER */
            }
            int c = field_col[f];
            enum match_kind kind = f == MF_FAMILY  ? MATCH_KIND_FAMILY
                                   : f == MF_PLACE ? MATCH_KIND_PLACE
                                                   : MATCH_KIND_GIVEN;
            const char *v = in->val[c] ? in->val[c] : "";
            size_t n = in->val[c] ? in->len[c] : 0;
            if (n > MATCH_FIELD_MAX) {
                n = MATCH_FIELD_MAX;
            }
            match_normalize(v, n, kind, f == MF_MOTHER, nm);
            put_name(&job->pool, &r->name[f], nm->norm, nm->n_norm, nm->skel, nm->n_skel,
                     nm->script);
            if (f == MF_MOTHER) {
                put_name(&job->pool, &r->name[MF_MOTHER_FAMILY], nm->rest, nm->n_rest,
                         nm->rest_skel, nm->n_rest_skel,
                         nm->n_rest ? (nm->rest[0] & 0x80 ? MATCH_SCRIPT_ARABIC
                                                          : MATCH_SCRIPT_LATIN)
                                    : MATCH_SCRIPT_NONE);
            }
        }
        if (in->val[MATCH_COL_SEX]) {
            int sx = parse_sex(in->val[MATCH_COL_SEX], in->len[MATCH_COL_SEX]);
            r->sex = (uint8_t)(sx > 0 ? sx : 0);
        }
        if (in->val[MATCH_COL_BIRTH_DATE]) {
            if (match_date_parse(in->val[MATCH_COL_BIRTH_DATE], in->len[MATCH_COL_BIRTH_DATE],
                                 &r->dob) < 0) {
                r->dob.y = 0;
            }
        }
    }
    free(nm);
    return NULL;
}

/* FNV-1a over bytes, seeded with the field. */
static uint64_t hash_bytes(const char *s, size_t n, uint64_t seed)
{
    uint64_t h = 1469598103934665603ULL ^ (seed * 0x9E3779B97F4A7C15ULL);
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h | 1; /* never 0: 0 marks an empty slot */
}

/* Open-addressing counter of 64-bit keys. */
struct counter {
    uint64_t *key;   /* keys, 0 = empty */
    uint32_t *count; /* counts */
    size_t mask;     /* size - 1 (size a power of two) */
};

/* Makes a counter for up to n keys. */
static void counter_init(struct counter *c, size_t n)
{
    size_t size = 16;
    while (size < 2 * n + 16) {
        size <<= 1;
    }
    c->key = xcalloc(size, sizeof(uint64_t));
    c->count = xcalloc(size, sizeof(uint32_t));
    c->mask = size - 1;
}

/* Returns the slot of key k, inserting it. */
static size_t counter_slot(struct counter *c, uint64_t k)
{
    size_t i = (size_t)(k ^ (k >> 29)) & c->mask;
    while (c->key[i] && c->key[i] != k) {
        i = (i + 1) & c->mask;
    }
    c->key[i] = k;
    return i;
}

/* Frees a counter. */
static void counter_release(struct counter *c)
{
    free(c->key);
    free(c->count);
}

/* Counts term frequencies of every name field and the birth date. */
static void count_frequencies(struct match_set *set)
{
    struct counter c;
    counter_init(&c, set->n);
    size_t *slot = xcalloc(set->n ? set->n : 1, sizeof(size_t));
    for (int f = 0; f < MATCH_N_NAMES; f++) {
        memset(c.key, 0, (c.mask + 1) * sizeof(uint64_t));
        memset(c.count, 0, (c.mask + 1) * sizeof(uint32_t));
        set->n_nonempty[f] = 0;
        for (size_t i = 0; i < set->n; i++) {
            struct match_pname *p = &set->rec[i].name[f];
            if (!p->n_norm) {
                continue;
            }
            const char *s = match_set_norm(set, i, f);
            slot[i] = counter_slot(&c, hash_bytes(s, p->n_norm, (uint64_t)f + 1));
            c.count[slot[i]]++;
            set->n_nonempty[f]++;
        }
        for (size_t i = 0; i < set->n; i++) {
            struct match_pname *p = &set->rec[i].name[f];
            if (p->n_norm) {
                p->freq = c.count[slot[i]];
            }
        }
    }
    memset(c.key, 0, (c.mask + 1) * sizeof(uint64_t));
    memset(c.count, 0, (c.mask + 1) * sizeof(uint32_t));
    set->n_nonempty[MF_DOB] = 0;
    set->n_nonempty[MF_SEX] = 0;
    for (size_t i = 0; i < set->n; i++) {
        struct match_prec *r = &set->rec[i];
        if (r->sex) {
            set->n_nonempty[MF_SEX]++;
        }
        if (!r->dob.y) {
            continue;
        }
        uint64_t k = ((uint64_t)r->dob.y * 10000 + r->dob.m * 100 + r->dob.d) * 2 + 1;
        slot[i] = counter_slot(&c, k);
        c.count[slot[i]]++;
        set->n_nonempty[MF_DOB]++;
    }
    for (size_t i = 0; i < set->n; i++) {
        if (set->rec[i].dob.y) {
            set->rec[i].dob_freq = c.count[slot[i]];
        }
    }
    free(slot);
    counter_release(&c);
}

/* Builds a prepared set; see match.h. */
int match_set_build(struct match_set *set, const struct match_input *in, size_t n,
                    int n_threads)
{
    memset(set, 0, sizeof(*set));
    if (n_threads < 1) {
        n_threads = 1;
    }
    if ((size_t)n_threads > n / 1024 + 1) {
        n_threads = (int)(n / 1024 + 1);
    }
    set->n = n;
    set->rec = xcalloc(n ? n : 1, sizeof(*set->rec));
    set->ids = xcalloc(n ? n : 1, sizeof(char *));
    set->n_chunks = (size_t)n_threads;
    set->pool = xcalloc(set->n_chunks, sizeof(char *));
    struct build_job *jobs = xcalloc((size_t)n_threads, sizeof(*jobs));
    pthread_t *tid = xcalloc((size_t)n_threads, sizeof(pthread_t));
    for (int t = 0; t < n_threads; t++) {
        jobs[t].set = set;
        jobs[t].in = in;
        jobs[t].from = n * (size_t)t / (size_t)n_threads;
        jobs[t].to = n * (size_t)(t + 1) / (size_t)n_threads;
        jobs[t].chunk = (uint16_t)t;
        buf_init(&jobs[t].pool);
        buf_addch(&jobs[t].pool, '\0'); /* offset 0 is the empty string */
        if (t > 0 && pthread_create(&tid[t], NULL, build_thread, &jobs[t]) != 0) {
            build_thread(&jobs[t]); /* no thread: do it here */
            tid[t] = 0;
        }
    }
    build_thread(&jobs[0]);
    for (int t = 1; t < n_threads; t++) {
        if (tid[t]) {
            pthread_join(tid[t], NULL);
        }
    }
    for (int t = 0; t < n_threads; t++) {
        set->pool[t] = buf_detach(&jobs[t].pool, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        if (in[i].val[MATCH_COL_ID] && in[i].len[MATCH_COL_ID] > 0) {
            set->ids[i] = xstrndup(in[i].val[MATCH_COL_ID], in[i].len[MATCH_COL_ID]);
        } else {
            char tmp[32];
            snprintf(tmp, sizeof(tmp), "%zu", i + 1);
            set->ids[i] = xstrdup(tmp);
        }
    }
    free(jobs);
    free(tid);
    count_frequencies(set);
    return 0;
}

/* Frees a set; see match.h. */
void match_set_release(struct match_set *set)
{
    if (!set->rec) {
        return;
    }
    for (size_t i = 0; i < set->n; i++) {
        free(set->ids[i]);
    }
    for (size_t c = 0; c < set->n_chunks; c++) {
        free(set->pool[c]);
    }
    free(set->pool);
    free(set->ids);
    free(set->rec);
    memset(set, 0, sizeof(*set));
}

/* Normalized name of a field; see match.h. */
const char *match_set_norm(const struct match_set *set, size_t i, int f)
{
    const struct match_prec *r = &set->rec[i];
    return set->pool[r->chunk] + r->name[f].off;
}

/* Skeleton of a field; see match.h. */
const char *match_set_skel(const struct match_set *set, size_t i, int f)
{
    const struct match_prec *r = &set->rec[i];
    return set->pool[r->chunk] + r->name[f].off + r->name[f].n_norm + 1;
}
