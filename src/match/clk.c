/*
 * clk.c: keyed Bloom-filter encodings and their linkage; see clk.h.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <immintrin.h>
#include <sodium.h>

#include "core/xalloc.h"
#include "core/banned.h"
#include "match/clk.h"

/* How many bit positions each token sets, by field: the child's own fields
 * weigh most, so that siblings (who share the household fields) stay apart. */
struct clk_field_k {
    int norm; /* per bigram of the normalized name */
    int skel; /* per bigram of the skeleton (meets across scripts) */
};
static const struct clk_field_k field_k[MATCH_N_NAMES] = {
    {26, 30}, /* first */
    {9, 9},   /* father */
    {7, 7},   /* grandfather */
    {9, 9},   /* family */
    {7, 7},   /* mother */
    {4, 4},   /* mother's family */
    {4, 4},   /* place */
};
#define K_YEAR 30
#define K_MONTH 24
#define K_DAY 24
#define K_MONTHDAY 24
#define K_SEX 16

/* Key slots beyond the names. */
#define KEY_DOB 8
#define KEY_SEX 9

/* Derives keys; see clk.h. */
int match_clk_key_init(struct match_clk_key *key, const unsigned char *secret, size_t n,
                       struct err *e)
{
    if (n < MATCH_CLK_SECRET_MIN) {
        return err_set(e, ERR_INVALID, "short_secret", "secret",
                       "the secret is too short (%zu bytes, at least %d are needed)", n,
                       MATCH_CLK_SECRET_MIN);
    }
    if (sodium_init() < 0) {
        return err_set(e, ERR_INTERNAL, "sodium", "", "libsodium failed to initialize");
    }
    unsigned char master[32];
    crypto_generichash(master, sizeof(master), secret, n, NULL, 0);
    for (int f = 0; f < 12; f++) {
        char label[32];
        int len = snprintf(label, sizeof(label), "sanad-clk-v1 field %d", f);
        crypto_generichash(key->field[f], 32, (const unsigned char *)label, (size_t)len, master,
                           sizeof(master));
    }
    sodium_memzero(master, sizeof(master));
    return 0;
}

/* Wipes keys; see clk.h. */
void match_clk_key_wipe(struct match_clk_key *key)
{
    sodium_memzero(key, sizeof(*key));
}

/* Sets k bit positions chosen by the keyed hash of token[0..n). */
static void set_token(uint64_t *bits, const unsigned char *fkey, const unsigned char *token,
                      size_t n, int k)
{
    unsigned char h[64];
    crypto_generichash(h, sizeof(h), token, n, fkey, 32);
    for (int j = 0; j < k && j < 32; j++) {
        unsigned pos = ((unsigned)h[2 * j] | ((unsigned)h[2 * j + 1] << 8)) % MATCH_CLK_BITS;
        bits[pos / 64] |= 1ULL << (pos % 64);
    }
}

/* Sets the bigrams of s[0..n) (padded with '^' and '$'), tagged with `tag`. */
static void set_bigrams(uint64_t *bits, const unsigned char *fkey, char tag, const char *s,
                        size_t n, int k)
{
    if (n == 0 || k == 0) {
        return;
    }
    unsigned char tok[3];
    tok[0] = (unsigned char)tag;
    for (size_t i = 0; i <= n; i++) {
        tok[1] = i == 0 ? '^' : (unsigned char)s[i - 1];
        tok[2] = i == n ? '$' : (unsigned char)s[i];
        set_token(bits, fkey, tok, 3, k);
    }
}

/* Encodes one record; see clk.h. */
void match_clk_encode(const struct match_clk_key *key, const struct match_set *set, size_t i,
                      uint64_t *bits)
{
    memset(bits, 0, MATCH_CLK_WORDS * sizeof(uint64_t));
    const struct match_prec *r = &set->rec[i];
    for (int f = 0; f < MATCH_N_NAMES; f++) {
        if (!r->name[f].n_norm) {
            continue;
        }
        set_bigrams(bits, key->field[f], 'n', match_set_norm(set, i, f), r->name[f].n_norm,
                    field_k[f].norm);
        set_bigrams(bits, key->field[f], 's', match_set_skel(set, i, f), r->name[f].n_skel,
                    field_k[f].skel);
    }
    if (r->dob.y) {
        unsigned char tok[8];
        tok[0] = 'y';
        tok[1] = (unsigned char)(r->dob.y >> 8);
        tok[2] = (unsigned char)(r->dob.y & 0xff);
        set_token(bits, key->field[KEY_DOB], tok, 3, K_YEAR);
        bool estimate = r->dob.m == 1 && r->dob.d == 1;
        if (!estimate) {
            tok[0] = 'm';
            tok[1] = r->dob.m;
            set_token(bits, key->field[KEY_DOB], tok, 2, K_MONTH);
            tok[0] = 'd';
            tok[1] = r->dob.d;
            set_token(bits, key->field[KEY_DOB], tok, 2, K_DAY);
            /* day and month as an unordered pair survives their swap */
            tok[0] = 'p';
            tok[1] = r->dob.m < r->dob.d ? r->dob.m : r->dob.d;
            tok[2] = r->dob.m < r->dob.d ? r->dob.d : r->dob.m;
            set_token(bits, key->field[KEY_DOB], tok, 3, K_MONTHDAY);
        }
    }
    if (r->sex) {
        unsigned char tok[2] = {'x', r->sex};
        set_token(bits, key->field[KEY_SEX], tok, 2, K_SEX);
    }
}

/* Work of one encoding thread. */
struct enc_job {
    const struct match_clk_key *key; /* keys */
    const struct match_set *set;     /* records */
    size_t from, to;                 /* range */
    uint64_t *out;                   /* output */
};

/* Encodes a range of records. */
static void *enc_thread(void *arg)
{
    struct enc_job *j = arg;
    for (size_t i = j->from; i < j->to; i++) {
        match_clk_encode(j->key, j->set, i, j->out + i * MATCH_CLK_WORDS);
    }
    return NULL;
}

/* Encodes all records; see clk.h. */
void match_clk_encode_all(const struct match_clk_key *key, const struct match_set *set,
                          int n_threads, uint64_t *out)
{
    if (n_threads < 1) {
        n_threads = 1;
    }
    struct enc_job *jobs = xcalloc((size_t)n_threads, sizeof(*jobs));
    pthread_t *tid = xcalloc((size_t)n_threads, sizeof(pthread_t));
    bool *started = xcalloc((size_t)n_threads, sizeof(bool));
    for (int t = 0; t < n_threads; t++) {
        jobs[t] = (struct enc_job){key, set, set->n * (size_t)t / (size_t)n_threads,
                                   set->n * (size_t)(t + 1) / (size_t)n_threads, out};
        if (t > 0) {
            started[t] = pthread_create(&tid[t], NULL, enc_thread, &jobs[t]) == 0;
            if (!started[t]) {
                enc_thread(&jobs[t]);
            }
        }
    }
    enc_thread(&jobs[0]);
    for (int t = 1; t < n_threads; t++) {
        if (started[t]) {
            pthread_join(tid[t], NULL);
        }
    }
    free(started);
    free(tid);
    free(jobs);
}

/* ---- popcount kernels, chosen at run time ---- */

/* Portable |a & b|. */
static int and_count_generic(const uint64_t *a, const uint64_t *b)
{
    int c = 0;
    for (int w = 0; w < MATCH_CLK_WORDS; w++) {
        c += __builtin_popcountll(a[w] & b[w]);
    }
    return c;
}

/* |a & b| with the POPCNT instruction. */
__attribute__((target("popcnt"))) static int and_count_popcnt(const uint64_t *a,
                                                               const uint64_t *b)
{
    int c = 0;
    for (int w = 0; w < MATCH_CLK_WORDS; w++) {
        c += __builtin_popcountll(a[w] & b[w]);
    }
    return c;
}

/* Scan kernel: counts encodings of B within the Dice threshold of a. */
typedef size_t (*scan_fn)(const uint64_t *a, int pa, const uint64_t *B, const uint16_t *pb,
                          size_t nb, double t);

/* Scan with the POPCNT instruction (or the portable fallback when count is it). */
__attribute__((target("popcnt"))) static size_t scan_popcnt(const uint64_t *a, int pa,
                                                             const uint64_t *B,
                                                             const uint16_t *pb, size_t nb,
                                                             double t)
{
    size_t hits = 0;
    for (size_t j = 0; j < nb; j++) {
        const uint64_t *b = B + j * MATCH_CLK_WORDS;
        int c = 0;
        for (int w = 0; w < MATCH_CLK_WORDS; w++) {
            c += __builtin_popcountll(a[w] & b[w]);
        }
        hits += 2.0 * c >= t * (pa + pb[j]);
    }
    return hits;
}

/* Scan with AVX-512 VPOPCNTQ: two 512-bit halves per encoding. */
__attribute__((target("avx512f,avx512vpopcntdq"))) static size_t
scan_avx512(const uint64_t *a, int pa, const uint64_t *B, const uint16_t *pb, size_t nb, double t)
{
    __m512i a0 = _mm512_loadu_si512((const void *)a);
    __m512i a1 = _mm512_loadu_si512((const void *)(a + 8));
    size_t hits = 0;
    /* compare 2c >= t (pa + pb) as integers scaled by 2^16 */
    int64_t tq = (int64_t)(t * 65536.0 + 0.5);
    for (size_t j = 0; j < nb; j++) {
        const uint64_t *b = B + j * MATCH_CLK_WORDS;
        __m512i c = _mm512_add_epi64(
            _mm512_popcnt_epi64(_mm512_and_si512(a0, _mm512_loadu_si512((const void *)b))),
            _mm512_popcnt_epi64(_mm512_and_si512(a1, _mm512_loadu_si512((const void *)(b + 8)))));
        int64_t cnt = _mm512_reduce_add_epi64(c);
        hits += (cnt << 17) >= tq * (pa + pb[j]);
    }
    return hits;
}

/* |a & b| with AVX-512. */
__attribute__((target("avx512f,avx512vpopcntdq"))) static int and_count_avx512(const uint64_t *a,
                                                                                const uint64_t *b)
{
    __m512i c = _mm512_add_epi64(
        _mm512_popcnt_epi64(_mm512_and_si512(_mm512_loadu_si512((const void *)a),
                                             _mm512_loadu_si512((const void *)b))),
        _mm512_popcnt_epi64(_mm512_and_si512(_mm512_loadu_si512((const void *)(a + 8)),
                                             _mm512_loadu_si512((const void *)(b + 8)))));
    return (int)_mm512_reduce_add_epi64(c);
}

/* Portable scan. */
static size_t scan_generic(const uint64_t *a, int pa, const uint64_t *B, const uint16_t *pb,
                           size_t nb, double t)
{
    size_t hits = 0;
    for (size_t j = 0; j < nb; j++) {
        int c = and_count_generic(a, B + j * MATCH_CLK_WORDS);
        hits += 2.0 * c >= t * (pa + pb[j]);
    }
    return hits;
}

/* The kernels for this CPU. */
struct kernels {
    int (*and_count)(const uint64_t *, const uint64_t *); /* |a & b| */
    scan_fn scan;                                        /* the scan loop */
};

/* Picks the kernels once (idempotent, so a race is benign). */
static const struct kernels *kernels_get(void)
{
    static struct kernels k;
    static volatile int ready;
    if (!ready) {
        struct kernels tmp = {and_count_generic, scan_generic};
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512vpopcntdq") && __builtin_cpu_supports("avx512f")) {
            tmp.and_count = and_count_avx512;
            tmp.scan = scan_avx512;
        } else if (__builtin_cpu_supports("popcnt")) {
            tmp.and_count = and_count_popcnt;
            tmp.scan = scan_popcnt;
        }
        k = tmp;
        __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
    }
    return &k;
}

/* Popcount of an encoding; see clk.h. */
int match_clk_popcount(const uint64_t *bits)
{
    int c = 0;
    for (int w = 0; w < MATCH_CLK_WORDS; w++) {
        c += __builtin_popcountll(bits[w]);
    }
    return c;
}

/* Dice coefficient; see clk.h. */
double match_clk_dice(const uint64_t *a, int pa, const uint64_t *b, int pb)
{
    if (pa + pb == 0) {
        return 0.0;
    }
    return 2.0 * kernels_get()->and_count(a, b) / (double)(pa + pb);
}

/* Raw scan; see clk.h. */
size_t match_clk_scan(const uint64_t *a, int pa, const uint64_t *B, const uint16_t *pb,
                      size_t nb, double threshold)
{
    return kernels_get()->scan(a, pa, B, pb, nb, threshold);
}

/* ---- base64 ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Writes base64; see clk.h. */
void match_clk_to_base64(const uint64_t *bits, char *out)
{
    unsigned char raw[MATCH_CLK_BITS / 8];
    for (int w = 0; w < MATCH_CLK_WORDS; w++) {
        for (int k = 0; k < 8; k++) {
            raw[w * 8 + k] = (unsigned char)(bits[w] >> (8 * k));
        }
    }
    size_t o = 0;
    size_t n = sizeof(raw);
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)raw[i] << 16;
        if (i + 1 < n) {
            v |= (unsigned)raw[i + 1] << 8;
        }
        if (i + 2 < n) {
            v |= raw[i + 2];
        }
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o] = '\0';
}

/* Value of a base64 digit or -1. */
static int b64_val(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

/* Parses base64; see clk.h. */
int match_clk_from_base64(const char *s, size_t n, uint64_t *bits)
{
    /* 128 bytes: 42 full groups and one of two bytes with one '=' */
    if (n != MATCH_CLK_B64_LEN || s[n - 1] != '=' || s[n - 2] == '=') {
        return -1;
    }
    unsigned char raw[MATCH_CLK_BITS / 8 + 2];
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (int k = 0; k < 4; k++) {
            v[k] = s[i + (size_t)k] == '=' && i + 4 == n && k >= 2 ? 0 : b64_val(s[i + (size_t)k]);
            if (v[k] < 0) {
                return -1;
            }
        }
        unsigned x = ((unsigned)v[0] << 18) | ((unsigned)v[1] << 12) | ((unsigned)v[2] << 6) |
                     (unsigned)v[3];
        raw[o++] = (unsigned char)(x >> 16);
        raw[o++] = (unsigned char)(x >> 8);
        raw[o++] = (unsigned char)x;
    }
    for (int w = 0; w < MATCH_CLK_WORDS; w++) {
        uint64_t v = 0;
        for (int k = 7; k >= 0; k--) {
            v = (v << 8) | raw[w * 8 + k];
        }
        bits[w] = v;
    }
    return 0;
}

/* ---- linkage ---- */

/* LSH tables and bits sampled per table. */
#define LSH_TABLES 64
#define LSH_BITS 14

/* An encoding's LSH key in one table, with its index. */
struct lsh_entry {
    uint32_t key; /* sampled bits */
    uint32_t i;   /* index into B */
};

/* Orders entries by key. */
static int lsh_cmp(const void *x, const void *y)
{
    const struct lsh_entry *a = x, *b = y;
    if (a->key != b->key) {
        return a->key < b->key ? -1 : 1;
    }
    return a->i < b->i ? -1 : (a->i > b->i);
}

/* Sampled positions of every table (fixed: they are public, the keys are not). */
static void lsh_positions(uint16_t pos[LSH_TABLES][LSH_BITS])
{
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    for (int t = 0; t < LSH_TABLES; t++) {
        for (int b = 0; b < LSH_BITS; b++) {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            pos[t][b] = (uint16_t)((s * 0x2545F4914F6CDD1DULL) >> 54);
        }
    }
}

/* The LSH key of an encoding in table t. */
static uint32_t lsh_key(const uint64_t *x, const uint16_t *pos)
{
    uint32_t k = 0;
    for (int b = 0; b < LSH_BITS; b++) {
        k = (k << 1) | (uint32_t)((x[pos[b] / 64] >> (pos[b] % 64)) & 1);
    }
    return k;
}

/* Shared state of a link run. */
struct link_ctx {
    const uint64_t *A, *B;            /* encodings */
    size_t na, nb;                    /* counts */
    uint16_t *pa, *pb;                /* popcounts */
    struct lsh_entry *tables;         /* LSH_TABLES sorted arrays of nb entries */
    uint16_t (*pos)[LSH_BITS];        /* sampled positions */
    double threshold;                 /* Dice threshold */
};

/* Output of one link thread. */
struct link_job {
    struct link_ctx *c;     /* shared state */
    size_t from, to;        /* range of A */
    struct match_pair *p;   /* pairs found (owned) */
    size_t n, cap;          /* used, allocated */
    size_t candidates;      /* candidates seen */
    size_t compared;        /* Dice computed */
};

/* Finds the candidates of a range of A in every table. */
static void *link_thread(void *arg)
{
    struct link_job *j = arg;
    struct link_ctx *c = j->c;
    const struct kernels *k = kernels_get();
    for (size_t a = j->from; a < j->to; a++) {
        const uint64_t *xa = c->A + a * MATCH_CLK_WORDS;
        int pa = c->pa[a];
        for (int t = 0; t < LSH_TABLES; t++) {
            uint32_t key = lsh_key(xa, c->pos[t]);
            const struct lsh_entry *tab = c->tables + (size_t)t * c->nb;
            size_t lo = 0, hi = c->nb;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (tab[mid].key < key) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            for (size_t e = lo; e < c->nb && tab[e].key == key; e++) {
                uint32_t b = tab[e].i;
                int pb = c->pb[b];
                j->candidates++;
                /* bit-count filter: Dice <= 2 min(pa, pb) / (pa + pb) */
                int mn = pa < pb ? pa : pb;
                if (2.0 * mn < c->threshold * (pa + pb)) {
                    continue;
                }
                j->compared++;
                int cnt = k->and_count(xa, c->B + (size_t)b * MATCH_CLK_WORDS);
                double dice = pa + pb ? 2.0 * cnt / (pa + pb) : 0;
                if (dice < c->threshold) {
                    continue;
                }
                if (j->n == j->cap) {
                    j->cap = j->cap ? 2 * j->cap : 4096;
                    j->p = xrealloc(j->p, j->cap * sizeof(*j->p));
                }
                j->p[j->n++] = (struct match_pair){(uint32_t)a, b, (float)dice};
            }
        }
    }
    return NULL;
}

/* Orders pairs by a, b, then score descending (to drop repeats). */
static int pair_ab_cmp(const void *x, const void *y)
{
    const struct match_pair *a = x, *b = y;
    if (a->a != b->a) {
        return a->a < b->a ? -1 : 1;
    }
    if (a->b != b->b) {
        return a->b < b->b ? -1 : 1;
    }
    return 0;
}

/* Orders pairs by score, best first, then indexes. */
static int pair_score_cmp(const void *x, const void *y)
{
    const struct match_pair *a = x, *b = y;
    if (a->score != b->score) {
        return a->score > b->score ? -1 : 1;
    }
    return pair_ab_cmp(x, y);
}

/* Links two sets of encodings; see clk.h. */
int match_link_run(struct match_link *l, const uint64_t *A, size_t na, const uint64_t *B,
                   size_t nb, match_progress_fn progress, void *progress_ctx)
{
    struct link_ctx c;
    memset(&c, 0, sizeof(c));
    c.A = A;
    c.B = B;
    c.na = na;
    c.nb = nb;
    c.threshold = l->threshold;
    c.pa = xcalloc(na ? na : 1, sizeof(uint16_t));
    c.pb = xcalloc(nb ? nb : 1, sizeof(uint16_t));
    for (size_t i = 0; i < na; i++) {
        c.pa[i] = (uint16_t)match_clk_popcount(A + i * MATCH_CLK_WORDS);
    }
    for (size_t i = 0; i < nb; i++) {
        c.pb[i] = (uint16_t)match_clk_popcount(B + i * MATCH_CLK_WORDS);
    }
    c.pos = xcalloc(LSH_TABLES, sizeof(*c.pos));
    lsh_positions(c.pos);
    c.tables = xcalloc(LSH_TABLES * (nb ? nb : 1), sizeof(struct lsh_entry));
    for (int t = 0; t < LSH_TABLES; t++) {
        struct lsh_entry *tab = c.tables + (size_t)t * nb;
        for (size_t i = 0; i < nb; i++) {
            tab[i].key = lsh_key(B + i * MATCH_CLK_WORDS, c.pos[t]);
            tab[i].i = (uint32_t)i;
        }
        qsort(tab, nb, sizeof(*tab), lsh_cmp);
    }
    if (progress) {
        progress(progress_ctx, "indexed", 1, 1);
    }
    int nt = l->n_threads < 1 ? 1 : l->n_threads;
    struct link_job *jobs = xcalloc((size_t)nt, sizeof(*jobs));
    pthread_t *tid = xcalloc((size_t)nt, sizeof(pthread_t));
    bool *started = xcalloc((size_t)nt, sizeof(bool));
    for (int t = 0; t < nt; t++) {
        jobs[t].c = &c;
        jobs[t].from = na * (size_t)t / (size_t)nt;
        jobs[t].to = na * (size_t)(t + 1) / (size_t)nt;
        if (t > 0) {
            started[t] = pthread_create(&tid[t], NULL, link_thread, &jobs[t]) == 0;
            if (!started[t]) {
                link_thread(&jobs[t]);
            }
        }
    }
    link_thread(&jobs[0]);
    size_t total = 0;
    l->n_candidates = l->n_compared = 0;
    for (int t = 0; t < nt; t++) {
        if (t > 0 && started[t]) {
            pthread_join(tid[t], NULL);
        }
        total += jobs[t].n;
        l->n_candidates += jobs[t].candidates;
        l->n_compared += jobs[t].compared;
    }
    struct match_pair *all = xcalloc(total ? total : 1, sizeof(*all));
    size_t n = 0;
    for (int t = 0; t < nt; t++) {
        if (jobs[t].n) {
            memcpy(all + n, jobs[t].p, jobs[t].n * sizeof(*all));
        }
        n += jobs[t].n;
        free(jobs[t].p);
    }
    /* drop repeats (a pair can meet in several tables) */
    qsort(all, n, sizeof(*all), pair_ab_cmp);
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        if (u > 0 && all[u - 1].a == all[i].a && all[u - 1].b == all[i].b) {
            continue;
        }
        all[u++] = all[i];
    }
    /* one partner per record on each side, best pairs first */
    qsort(all, u, sizeof(*all), pair_score_cmp);
    bool *used_a = xcalloc(na ? na : 1, sizeof(bool));
    bool *used_b = xcalloc(nb ? nb : 1, sizeof(bool));
    size_t k = 0;
    for (size_t i = 0; i < u; i++) {
        if (used_a[all[i].a] || used_b[all[i].b]) {
            continue;
        }
        used_a[all[i].a] = used_b[all[i].b] = true;
        all[k++] = all[i];
    }
    l->pairs = all;
    l->n_pairs = k;
    free(used_a);
    free(used_b);
    free(started);
    free(tid);
    free(jobs);
    free(c.tables);
    free(c.pos);
    free(c.pa);
    free(c.pb);
    return 0;
}

/* Frees a link result; see clk.h. */
void match_link_release(struct match_link *l)
{
    free(l->pairs);
    l->pairs = NULL;
    l->n_pairs = 0;
}
