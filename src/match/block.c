/*
 * block.c: candidate pairs by several blocking keys at once.
 *
 * Each key is a hash of skeletons (so that scripts meet) and date parts.
 * Records sharing a key are compared; a block larger than BLOCK_MAX is
 * ordered by a secondary key and compared within a sliding window, so the
 * number of pairs grows about linearly with the number of records. A pair
 * reached by several keys is emitted only by the first of them.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "core/banned.h"
#include "match/match.h"

/* Blocks up to this size are compared in full. */
#define BLOCK_MAX 64
/* Window of the sorted neighbourhood inside larger blocks. */
#define BLOCK_WINDOW 24

/* FNV-1a step over bytes, followed by a separator. */
static uint64_t mix(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    h ^= 0x1f;
    h *= 1099511628211ULL;
    return h;
}

/* Mixes an integer into h. */
static uint64_t mix_int(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

/* Computes the blocking keys of a record; see match.h. */
/* The skeleton of name f of record i for keys, or its normal form when the
 * skeleton is empty (آية, ايه have no consonant left); length in *n. */
static const char *key_name(const struct match_set *set, size_t i, int f, size_t *n)
{
    const struct match_pname *p = &set->rec[i].name[f];
    if (p->n_skel) {
        *n = p->n_skel;
        return match_set_skel(set, i, f);
    }
    *n = p->n_norm;
    return match_set_norm(set, i, f);
}

void match_block_keys(const struct match_set *set, size_t i, uint64_t keys[MATCH_N_KEYS])
{
    const struct match_prec *r = &set->rec[i];
    size_t nfi, nfa;
    const char *first = key_name(set, i, MF_FIRST, &nfi);
    const char *father = key_name(set, i, MF_FATHER, &nfa);
    const char *family = match_set_skel(set, i, MF_FAMILY);
    const char *mother = match_set_skel(set, i, MF_MOTHER);
    const char *grandfather = match_set_skel(set, i, MF_GRANDFATHER);
    size_t ngf = r->name[MF_GRANDFATHER].n_skel;
    size_t nfm = r->name[MF_FAMILY].n_skel, nmo = r->name[MF_MOTHER].n_skel;
    uint64_t dob = r->dob.y ? (uint64_t)r->dob.y * 10000 + r->dob.m * 100 + r->dob.d : 0;
    const uint64_t base = 1469598103934665603ULL;
    for (int k = 0; k < MATCH_N_KEYS; k++) {
        keys[k] = 0;
    }
    /* the first and father's names in either order (clerks swap them) */
    uint64_t pair = 0;
    if (nfi && nfa) {
        int c = strcmp(first, father);
        const char *x = c <= 0 ? first : father, *y = c <= 0 ? father : first;
        pair = mix(mix(base, x, strlen(x)), y, strlen(y));
    }
    /* With national name frequencies (محمد, أحمد) two names alone make
     * blocks of thousands, so every key has three parts. */
    /* 0: first and father's names, family name */
    if (pair && nfm) {
        keys[0] = mix(pair + 0, family, nfm);
    }
    /* 1: first and father's names, birth year */
    if (pair && r->dob.y) {
        keys[1] = mix_int(pair + 1, (uint64_t)r->dob.y);
    }
    /* 2: first and family names, birth year */
    if (nfi && nfm && r->dob.y) {
        keys[2] = mix_int(mix(mix(base + 2, first, nfi), family, nfm), (uint64_t)r->dob.y);
    }
    /* 3: father's name and birth date (typos in the first name) */
    if (nfa && dob) {
        keys[3] = mix_int(mix(base + 3, father, nfa), dob);
    }
    /* 4: family name and birth date */
    if (nfm && dob) {
        keys[4] = mix_int(mix(base + 4, family, nfm), dob);
    }
    /* 5: first and father's names, mother's name (family missing, date off) */
    if (pair && nmo) {
        keys[5] = mix(pair + 5, mother, nmo);
    }
    /* 6: father, family and birth year (typos in the first name, day unknown) */
    if (nfa && nfm && r->dob.y) {
        keys[6] = mix_int(mix(mix(base + 6, father, nfa), family, nfm), (uint64_t)r->dob.y);
    }
    /* 7: first name and birth date (the household written differently) */
    if (nfi && dob) {
        keys[7] = mix_int(mix(base + 7, first, nfi), dob);
    }
    /* 8: first and father's names, grandfather's name */
    if (pair && ngf) {
        keys[8] = mix(pair + 8, grandfather, ngf);
    }
    /* 9: first and father's names, day and month in either order (a year
     * off, with other household fields missing) */
    if (pair && r->dob.y && !(r->dob.m == 1 && r->dob.d == 1)) {
        uint64_t lo = r->dob.m < r->dob.d ? r->dob.m : r->dob.d;
        uint64_t hi = r->dob.m < r->dob.d ? r->dob.d : r->dob.m;
        keys[9] = mix_int(pair + 9, lo * 100 + hi);
    }
}

/* A record in one key's order. */
struct entry {
    uint64_t key; /* the blocking key */
    uint64_t sec; /* secondary order inside large blocks */
    uint32_t i;   /* record index */
};

/* Orders entries by key, then secondary key, then index. */
static int entry_cmp(const void *x, const void *y)
{
    const struct entry *a = x, *b = y;
    if (a->key != b->key) {
        return a->key < b->key ? -1 : 1;
    }
    if (a->sec != b->sec) {
        return a->sec < b->sec ? -1 : 1;
    }
    return a->i < b->i ? -1 : (a->i > b->i);
}

/* Shared state of a blocking run. */
struct block_run {
    const struct match_set *set; /* records */
    uint64_t *keys;              /* n * MATCH_N_KEYS keys */
    match_pair_fn fn;            /* pair callback */
    void *ctx;                   /* its context */
    int next_key;                /* next key to process (atomic) */
    size_t *count;               /* pairs emitted per thread */
    match_progress_fn progress;  /* progress callback */
    void *progress_ctx;          /* its context */
    int keys_done;               /* keys finished (atomic) */
};

/* Secondary order inside a large block: the birth date for keys without
 * one (the same child's records carry close dates), else the family and
 * first skeletons' first bytes. */
static uint64_t secondary(const struct match_set *set, size_t i, int key)
{
    if (key == 0 || key == 5 || key == 8 || key == 9) {
        const struct match_date d = set->rec[i].dob;
        return ((uint64_t)d.y * 400 + (uint64_t)d.m * 32 + d.d) << 24 |
               (uint64_t)(unsigned char)match_set_skel(set, i, MF_FAMILY)[0] << 16 |
               (uint64_t)(unsigned char)match_set_skel(set, i, MF_FIRST)[0] << 8;
    }
    const char *fam = match_set_skel(set, i, MF_FAMILY);
    const char *fi = match_set_skel(set, i, MF_FIRST);
    uint64_t v = 0;
    int k = 0;
    for (const char *p = fam; *p && k < 5; p++, k++) {
        v = (v << 8) | (unsigned char)*p;
    }
    for (; k < 5; k++) {
        v <<= 8;
    }
    for (const char *p = fi; *p && k < 8; p++, k++) {
        v = (v << 8) | (unsigned char)*p;
    }
    for (; k < 8; k++) {
        v <<= 8;
    }
    return v;
}

/* Emits (x, y) unless an earlier key already joins them. */
static void emit(struct block_run *br, int thread, int key, uint32_t x, uint32_t y)
{
    const uint64_t *kx = br->keys + (size_t)x * MATCH_N_KEYS;
    const uint64_t *ky = br->keys + (size_t)y * MATCH_N_KEYS;
    for (int k = 0; k < key; k++) {
        if (kx[k] > 1 && kx[k] == ky[k]) {
            return;
        }
    }
    br->count[thread]++;
    if (x < y) {
        br->fn(br->ctx, thread, x, y);
    } else {
        br->fn(br->ctx, thread, y, x);
    }
}

/* Worker argument. */
struct block_worker {
    struct block_run *br; /* the run */
    int thread;           /* worker number */
};

/* Processes keys until none are left. */
static void *block_thread(void *arg)
{
    struct block_worker *w = arg;
    struct block_run *br = w->br;
    size_t n = br->set->n;
    struct entry *e = xcalloc(n ? n : 1, sizeof(*e));
    for (;;) {
        int key = __atomic_fetch_add(&br->next_key, 1, __ATOMIC_RELAXED);
        if (key >= MATCH_N_KEYS) {
            break;
        }
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t k = br->keys[i * MATCH_N_KEYS + (size_t)key];
            if (k > 1) {
                e[m].key = k;
                e[m].i = (uint32_t)i;
                e[m].sec = 0;
                m++;
            }
        }
        qsort(e, m, sizeof(*e), entry_cmp);
        for (size_t s = 0; s < m;) {
            size_t t = s + 1;
            while (t < m && e[t].key == e[s].key) {
                t++;
            }
            size_t len = t - s;
            if (len <= BLOCK_MAX) {
                for (size_t x = s; x < t; x++) {
                    for (size_t y = x + 1; y < t; y++) {
                        emit(br, w->thread, key, e[x].i, e[y].i);
                    }
                }
            } else {
                for (size_t x = s; x < t; x++) {
                    e[x].sec = secondary(br->set, e[x].i, key);
                }
                qsort(e + s, len, sizeof(*e), entry_cmp);
                for (size_t x = s; x < t; x++) {
                    size_t end = x + 1 + BLOCK_WINDOW < t ? x + 1 + BLOCK_WINDOW : t;
                    for (size_t y = x + 1; y < end; y++) {
                        emit(br, w->thread, key, e[x].i, e[y].i);
                    }
                }
            }
            s = t;
        }
        int done = __atomic_add_fetch(&br->keys_done, 1, __ATOMIC_RELAXED);
        if (br->progress) {
            br->progress(br->progress_ctx, "blocking", (size_t)done, MATCH_N_KEYS);
        }
    }
    free(e);
    return NULL;
}

/* Generates candidate pairs; see match.h. */
size_t match_block_run(const struct match_set *set, int n_threads, match_pair_fn fn, void *ctx,
                       match_progress_fn progress, void *progress_ctx)
{
    if (n_threads < 1) {
        n_threads = 1;
    }
    struct block_run br;
    memset(&br, 0, sizeof(br));
    br.set = set;
    br.fn = fn;
    br.ctx = ctx;
    br.progress = progress;
    br.progress_ctx = progress_ctx;
    br.keys = xcalloc(set->n ? set->n * MATCH_N_KEYS : 1, sizeof(uint64_t));
    for (size_t i = 0; i < set->n; i++) {
        match_block_keys(set, i, br.keys + i * MATCH_N_KEYS);
    }
    br.count = xcalloc((size_t)n_threads, sizeof(size_t));
    struct block_worker *w = xcalloc((size_t)n_threads, sizeof(*w));
    pthread_t *tid = xcalloc((size_t)n_threads, sizeof(pthread_t));
    bool *started = xcalloc((size_t)n_threads, sizeof(bool));
    for (int t = 0; t < n_threads; t++) {
        w[t].br = &br;
        w[t].thread = t;
        if (t > 0) {
            started[t] = pthread_create(&tid[t], NULL, block_thread, &w[t]) == 0;
        }
    }
    block_thread(&w[0]);
    size_t total = 0;
    for (int t = 0; t < n_threads; t++) {
        if (started[t]) {
            pthread_join(tid[t], NULL);
        }
        total += br.count[t];
    }
    free(started);
    free(tid);
    free(w);
    free(br.count);
    free(br.keys);
    return total;
}
