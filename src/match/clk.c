/*
 * clk.c: keyed Bloom-filter encodings and their linkage; see clk.h.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <immintrin.h>
#include <sodium.h>

#include "core/xalloc.h"
#include "core/banned.h"
#include "match/clk.h"

/* The comparison loops are built twice, with and without the POPCNT
 * instruction (bodies inlined into both), and chosen at run time. */
#define ALWAYS_INLINE inline __attribute__((always_inline))

/* True when the CPU has POPCNT (checked once; a race is benign). */
static bool have_popcnt(void)
{
    static volatile int known, yes;
    if (!known) {
        __builtin_cpu_init();
        yes = __builtin_cpu_supports("popcnt") != 0;
        __atomic_store_n(&known, 1, __ATOMIC_RELEASE);
    }
    return yes;
}

/* The segments of an encoding (see clk.h): bit offset and width of each. */
const struct match_clk_segment match_clk_segments[MATCH_CLK_N_SEGS] = {
    [MATCH_SEG_FIRST_N] = {0, 128},        [MATCH_SEG_FIRST_S] = {128, 64},
    [MATCH_SEG_FATHER_N] = {192, 128},     [MATCH_SEG_FATHER_S] = {320, 64},
    [MATCH_SEG_GRANDFATHER_N] = {384, 64}, [MATCH_SEG_GRANDFATHER_S] = {448, 64},
    [MATCH_SEG_FAMILY_N] = {512, 64},      [MATCH_SEG_FAMILY_S] = {576, 64},
    [MATCH_SEG_MOTHER_N] = {640, 64},      [MATCH_SEG_MOTHER_S] = {704, 64},
    [MATCH_SEG_MOTHER_FAMILY] = {768, 32}, [MATCH_SEG_SEX] = {800, 32},
    [MATCH_SEG_PLACE] = {832, 64},         [MATCH_SEG_YEAR] = {896, 64},
    [MATCH_SEG_MONTH_DAY] = {960, 64},
};

/* Segments of each name field: normal form and skeleton (or one for both). */
static const int name_seg[MATCH_N_NAMES][2] = {
    {MATCH_SEG_FIRST_N, MATCH_SEG_FIRST_S},
    {MATCH_SEG_FATHER_N, MATCH_SEG_FATHER_S},
    {MATCH_SEG_GRANDFATHER_N, MATCH_SEG_GRANDFATHER_S},
    {MATCH_SEG_FAMILY_N, MATCH_SEG_FAMILY_S},
    {MATCH_SEG_MOTHER_N, MATCH_SEG_MOTHER_S},
    {MATCH_SEG_MOTHER_FAMILY, MATCH_SEG_MOTHER_FAMILY},
    {MATCH_SEG_PLACE, MATCH_SEG_PLACE},
};

/* Key slots: the first and father's names share one (a swap is found by
 * comparing one's first-name segment with the other's father segment). */
static const int name_key[MATCH_N_NAMES] = {0, 0, 2, 3, 4, 5, 6};
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
        int len = snprintf(label, sizeof(label), "sanad-clk-v2 field %d", f);
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

/* Sets k (at most 64) bit positions of segment seg chosen by the keyed hash
 * of token[0..n). The positions of a token are the same for every k, so a
 * token shared by two records sets min(k) common bits. */
static void set_token_at(uint64_t *bits, unsigned off, unsigned width,
                         const unsigned char *fkey, const unsigned char *token, size_t n, int k)
{
    unsigned char h[64];
    crypto_generichash(h, sizeof(h), token, n, fkey, 32);
    for (int j = 0; j < k && j < 64; j++) {
        unsigned pos = off + (h[j] & (width - 1)); /* widths are powers of two */
        bits[pos / 64] |= 1ULL << (pos % 64);
    }
}

/* Sets a token's k bits in the whole of segment seg. */
static void set_token(uint64_t *bits, int seg, const unsigned char *fkey,
                      const unsigned char *token, size_t n, int k)
{
    set_token_at(bits, match_clk_segments[seg].off, match_clk_segments[seg].bits, fkey, token, n,
                 k);
}

/* Sets a token in 16-bit block `block` (0..3) of a 64-bit date segment; 11
 * bits fill about half of it. Blocks make a shared date part exact: the
 * same token gives the same block, another one almost never does. */
static void set_date_block(uint64_t *bits, int seg, int block, const unsigned char *fkey,
                           const unsigned char *token, size_t n)
{
    set_token_at(bits, match_clk_segments[seg].off + 16 * (unsigned)block, 16, fkey, token, n,
                 11);
}

/* Bits per token that fill about half of a segment of `width` bits with
 * n_tokens tokens: 1 - exp(-k n / width) = 1/2. */
static int balanced_k(unsigned width, size_t n_tokens)
{
    if (n_tokens == 0) {
        return 0;
    }
    int k = (int)(0.6931 * (double)width / (double)n_tokens + 0.5);
    return k < 1 ? 1 : k > 64 ? 64 : k;
}

/* Sets the bigrams of s[0..n) (padded with '^' and '$'), tagged with `tag`,
 * k bits each, in segment seg. */
static void set_bigrams(uint64_t *bits, int seg, const unsigned char *fkey, char tag,
                        const char *s, size_t n, int k)
{
    if (n == 0 || k == 0) {
        return;
    }
    unsigned char tok[3];
    tok[0] = (unsigned char)tag;
    for (size_t i = 0; i <= n; i++) {
        tok[1] = i == 0 ? '^' : (unsigned char)s[i - 1];
        tok[2] = i == n ? '$' : (unsigned char)s[i];
        set_token(bits, seg, fkey, tok, 3, k);
    }
}

/* Day of the year (0..365) of a date, for the window tokens. */
static int day_of_year(struct match_date d)
{
    static const int before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    return before[(d.m - 1) % 12] + d.d - 1;
}

/* Encodes one record; see clk.h. */
void match_clk_encode(const struct match_clk_key *key, const struct match_set *set, size_t i,
                      uint64_t *bits)
{
    memset(bits, 0, MATCH_CLK_WORDS * sizeof(uint64_t));
    const struct match_prec *r = &set->rec[i];
    for (int f = 0; f < MATCH_N_NAMES; f++) {
        if (!r->name[f].n_norm) {
            continue; /* a missing name leaves its segments empty */
        }
        const unsigned char *fk = key->field[name_key[f]];
        size_t nn = r->name[f].n_norm, ns = r->name[f].n_skel;
        int sn = name_seg[f][0], ss = name_seg[f][1];
        if (sn == ss) {
            /* one segment for both: the skeleton's bigrams count as much */
            int k = balanced_k(match_clk_segments[sn].bits, nn + 1 + (ns ? ns + 1 : 0));
            set_bigrams(bits, sn, fk, 'n', match_set_norm(set, i, f), nn, k);
            set_bigrams(bits, sn, fk, 's', match_set_skel(set, i, f), ns, k);
        } else {
            set_bigrams(bits, sn, fk, 'n', match_set_norm(set, i, f), nn,
                        balanced_k(match_clk_segments[sn].bits, nn + 1));
            if (ns) {
                set_bigrams(bits, ss, fk, 's', match_set_skel(set, i, f), ns,
                            balanced_k(match_clk_segments[ss].bits, ns + 1));
            } else {
                /* a name without consonants still marks its skeleton present */
                unsigned char tok[2] = {'e', 0};
                set_token(bits, ss, fk, tok, 2, 44);
            }
        }
    }
    if (r->dob.y) {
        /* year segment: the year (twice, under two tags), and two
         * half-year tokens of which a year off by one shares exactly one */
        const unsigned char *fk = key->field[KEY_DOB];
        int y = r->dob.y;
        int vals[4] = {y, y / 2, (y + 1) / 2, y};
        static const char tags[4] = {'y', 'h', 'g', 'z'};
        unsigned char tok[4];
        for (int q = 0; q < 4; q++) {
            tok[0] = (unsigned char)tags[q];
            tok[1] = (unsigned char)(vals[q] >> 8);
            tok[2] = (unsigned char)(vals[q] & 0xff);
            set_date_block(bits, MATCH_SEG_YEAR, q, fk, tok, 3);
        }
        bool estimate = r->dob.m == 1 && r->dob.d == 1;
        if (!estimate) {
            /* month/day segment: in order, as an unordered pair (survives
             * their swap) and as two overlapping week windows (a few days
             * off shares one) */
            int doy = day_of_year(r->dob);
            unsigned char lo = r->dob.m < r->dob.d ? r->dob.m : r->dob.d;
            unsigned char hi = r->dob.m < r->dob.d ? r->dob.d : r->dob.m;
            unsigned char md[4][3] = {{'o', r->dob.m, r->dob.d},
                                      {'p', lo, hi},
                                      {'w', (unsigned char)(doy / 8), 0},
                                      {'v', (unsigned char)((doy + 4) / 8), 0}};
            for (int q = 0; q < 4; q++) {
                set_date_block(bits, MATCH_SEG_MONTH_DAY, q, fk, md[q], 3);
            }
        }
    }
    if (r->sex) {
        unsigned char tok[2] = {'x', r->sex};
        set_token(bits, MATCH_SEG_SEX, key->field[KEY_SEX], tok, 2, 22);
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

/* ---- field-by-field comparison ---- */

/* Segment popcounts (body of both builds). */
static ALWAYS_INLINE void seg_counts_body(const uint64_t *bits, uint8_t *counts)
{
    for (int g = 0; g < MATCH_CLK_N_SEGS; g++) {
        unsigned off = match_clk_segments[g].off, w = match_clk_segments[g].bits;
        int c = 0;
        if (w >= 64) {
            for (unsigned k = off / 64; k < (off + w) / 64; k++) {
                c += __builtin_popcountll(bits[k]);
            }
        } else {
            c = __builtin_popcountll((bits[off / 64] >> (off % 64)) & ((1ULL << w) - 1));
        }
        counts[g] = (uint8_t)c;
    }
}

/* Segment popcounts with POPCNT. */
__attribute__((target("popcnt"))) static void seg_counts_popcnt(const uint64_t *bits,
                                                                uint8_t *counts)
{
    seg_counts_body(bits, counts);
}

/* Segment popcounts without. */
static void seg_counts_generic(const uint64_t *bits, uint8_t *counts)
{
    seg_counts_body(bits, counts);
}

/* Segment popcounts; see clk.h. */
void match_clk_seg_counts(const uint64_t *bits, uint8_t *counts)
{
    if (have_popcnt()) {
        seg_counts_popcnt(bits, counts);
    } else {
        seg_counts_generic(bits, counts);
    }
}

/* |a & b| over segment g. */
static ALWAYS_INLINE int seg_and(const uint64_t *a, const uint64_t *b, int g)
{
    unsigned off = match_clk_segments[g].off, w = match_clk_segments[g].bits;
    if (w < 64) {
        return __builtin_popcountll(((a[off / 64] & b[off / 64]) >> (off % 64)) &
                                    ((1ULL << w) - 1));
    }
    int c = 0;
    for (unsigned k = off / 64; k < (off + w) / 64; k++) {
        c += __builtin_popcountll(a[k] & b[k]);
    }
    return c;
}

/* Dice of segment ga of a and segment gb of b (same width); -1 if one is empty. */
static ALWAYS_INLINE double seg_dice2(const uint64_t *a, const uint8_t *ca, int ga,
                                      const uint64_t *b, const uint8_t *cb, int gb)
{
    if (!ca[ga] || !cb[gb]) {
        return -1;
    }
    int c;
    if (ga == gb) {
        c = seg_and(a, b, ga);
    } else {
        /* shift b's segment onto a's: only used for first/father, 64-bit aligned */
        unsigned oa = match_clk_segments[ga].off / 64, ob = match_clk_segments[gb].off / 64;
        c = 0;
        for (unsigned k = 0; k < match_clk_segments[ga].bits / 64; k++) {
            c += __builtin_popcountll(a[oa + k] & b[ob + k]);
        }
    }
    return 2.0 * c / (double)(ca[ga] + cb[gb]);
}

/* Segment Dice; see clk.h. */
double match_clk_seg_dice(const uint64_t *a, const uint8_t *ca, const uint64_t *b,
                          const uint8_t *cb, int seg)
{
    return seg_dice2(a, ca, seg, b, cb, seg);
}

/* Dice bands of the name levels. Two spellings of one name share most
 * bigrams; different names share few, and a half-full segment overlaps a
 * random one by about half its bits, so different names land near 0.5. */
#define BAND_EXACT 0.995 /* the same bigrams: the same normal form */
#define BAND_CLOSE 0.80  /* one edit on a name of average length */
#define BAND_FUZZY 0.70  /* two edits, or a short name with one */
#define BAND_SKEL 0.995  /* the same skeleton (across scripts too) */
#define BAND_SKEL_FUZZY 0.80

/* Level of a name from the Dice of its normal-form and skeleton segments. */
static int name_level(double dn, double ds)
{
    if (dn < 0) {
        return -1;
    }
    if (dn >= BAND_EXACT) {
        return MATCH_NAME_EXACT;
    }
    if (dn >= BAND_CLOSE || ds >= BAND_SKEL) {
        return MATCH_NAME_CLOSE;
    }
    if (dn >= BAND_FUZZY || ds >= BAND_SKEL_FUZZY) {
        return MATCH_NAME_FUZZY;
    }
    return MATCH_NAME_DIFF;
}

/* Level of name field f of a against field g of b. */
static ALWAYS_INLINE int name_field_level(const uint64_t *a, const uint8_t *ca, int f,
                                          const uint64_t *b, const uint8_t *cb, int g)
{
    int na = name_seg[f][0], sa = name_seg[f][1], nb = name_seg[g][0], sb = name_seg[g][1];
    double dn = seg_dice2(a, ca, na, b, cb, nb);
    if (dn < 0) {
        return -1;
    }
    double ds = sa == na ? -1 : seg_dice2(a, ca, sa, b, cb, sb);
    return name_level(dn, ds);
}

/* 16-bit block q of a date segment word. */
static inline unsigned block16(uint64_t w, int q)
{
    return (unsigned)((w >> (16 * q)) & 0xffff);
}

/* Level of a name from its Dice values, -1 when missing. */
static int name_level_d(double dn, double ds)
{
    return dn < 0 ? -1 : name_level(dn, ds);
}

/* Dice from the common count c and the two popcounts; -1 when one is empty. */
static inline double dice_c(int c, int x, int y)
{
    return x && y ? 2.0 * c / (double)(x + y) : -1;
}

/* Field-by-field comparison (body of both builds). */
static ALWAYS_INLINE void compare_body(const uint64_t *a, const uint8_t *ca, const uint64_t *b,
                                       const uint8_t *cb, struct match_cmp *out)
{
    /* common bits per word, then per segment */
    int w[MATCH_CLK_WORDS];
    for (int k = 0; k < MATCH_CLK_WORDS; k++) {
        w[k] = __builtin_popcountll(a[k] & b[k]);
    }
    int c[MATCH_CLK_N_SEGS];
    for (int g = 0; g < MATCH_CLK_N_SEGS; g++) {
        unsigned off = match_clk_segments[g].off, bits = match_clk_segments[g].bits;
        if (bits == 32) {
            c[g] = __builtin_popcountll(((a[off / 64] & b[off / 64]) >> (off % 64)) &
                                        0xffffffffULL);
        } else {
            c[g] = w[off / 64] + (bits == 128 ? w[off / 64 + 1] : 0);
        }
    }
    for (int f = 0; f < MATCH_N_NAMES; f++) {
        int sn = name_seg[f][0], ss = name_seg[f][1];
        double dn = dice_c(c[sn], ca[sn], cb[sn]);
        double ds = ss == sn ? -1 : dice_c(c[ss], ca[ss], cb[ss]);
        out->level[f] = (int8_t)name_level_d(dn, ds);
    }
    out->swapped = false;
    out->cross_script = false;
    int lf = out->level[MF_FIRST], lp = out->level[MF_FATHER];
    if (lf < MATCH_NAME_EXACT && lf >= 0 && lp >= 0) {
        int s1 = name_field_level(a, ca, MF_FIRST, b, cb, MF_FATHER);
        int s2 = name_field_level(a, ca, MF_FATHER, b, cb, MF_FIRST);
        int cur = lf < lp ? lf : lp;
        int sw = s1 < s2 ? s1 : s2;
        if (sw >= MATCH_NAME_CLOSE && sw > cur) {
            out->level[MF_FIRST] = (int8_t)s1;
            out->level[MF_FATHER] = (int8_t)s2;
            out->swapped = true;
        }
    }
    double dx = dice_c(c[MATCH_SEG_SEX], ca[MATCH_SEG_SEX], cb[MATCH_SEG_SEX]);
    out->level[MF_SEX] = (int8_t)(dx < 0 ? -1 : dx >= 0.995 ? 1 : 0);
    int ld = -1;
    if (ca[MATCH_SEG_YEAR] && cb[MATCH_SEG_YEAR]) {
        unsigned yw = match_clk_segments[MATCH_SEG_YEAR].off / 64;
        unsigned mw = match_clk_segments[MATCH_SEG_MONTH_DAY].off / 64;
        uint64_t ya = a[yw], yb = b[yw], ma = a[mw], mb = b[mw];
        bool same_y = ya == yb;
        /* a year off by one shares one of the half-year blocks */
        bool near_y = !same_y && (block16(ya, 1) == block16(yb, 1) ||
                                  block16(ya, 2) == block16(yb, 2));
        if (!ca[MATCH_SEG_MONTH_DAY] || !cb[MATCH_SEG_MONTH_DAY]) {
            /* one date is a year only (1 January) */
            ld = same_y ? MATCH_DATE_EST : near_y ? MATCH_DATE_NEAR : MATCH_DATE_DIFF;
        } else {
            bool same_md = ma == mb;
            /* day and month swapped (the unordered pair), or a few days off
             * (a week window) */
            bool close_md = !same_md && (block16(ma, 1) == block16(mb, 1) ||
                                         block16(ma, 2) == block16(mb, 2) ||
                                         block16(ma, 3) == block16(mb, 3));
            if (same_y) {
                ld = same_md ? MATCH_DATE_EXACT : close_md ? MATCH_DATE_CLOSE : MATCH_DATE_NEAR;
            } else if (near_y) {
                ld = same_md ? MATCH_DATE_CLOSE : MATCH_DATE_NEAR;
            } else {
                ld = MATCH_DATE_DIFF;
            }
        }
    }
    out->level[MF_DOB] = (int8_t)ld;
}

/* The comparison with POPCNT. */
__attribute__((target("popcnt"))) static void compare_popcnt(const uint64_t *a,
                                                             const uint8_t *ca,
                                                             const uint64_t *b,
                                                             const uint8_t *cb,
                                                             struct match_cmp *out)
{
    compare_body(a, ca, b, cb, out);
}

/* The comparison without. */
static void compare_generic(const uint64_t *a, const uint8_t *ca, const uint64_t *b,
                            const uint8_t *cb, struct match_cmp *out)
{
    compare_body(a, ca, b, cb, out);
}

/* Compares two encodings; see clk.h. */
void match_clk_compare(const uint64_t *a, const uint8_t *ca, const uint64_t *b, const uint8_t *cb,
                       struct match_cmp *out)
{
    if (have_popcnt()) {
        compare_popcnt(a, ca, b, cb, out);
    } else {
        compare_generic(a, ca, b, cb, out);
    }
}

/* ---- linkage ---- */

/* Household fields: together they identify a family, not a child. */
static const bool is_household[MF_COUNT] = {
    false, true, true, true, true, true, true, false, false,
};

/* LSH tables and bits sampled per table. */
#define LSH_TABLES 192
#define LSH_BITS 16
/* A pair is compared once it meets in this many tables: true pairs agree on
 * most sampled bits and meet in many, chance pairs in one. */
#define LSH_MIN_HITS 2
/* Keys per table. */
#define LSH_KEYS (1u << LSH_BITS)

/* What the LSH samples: plain bits of the segments that identify a child
 * (family, grandfather and mother skeletons, year, month/day), and, for the
 * first and father's names, symmetric bits (the OR or the AND of the same
 * position in both segments) that do not change when a clerk swaps them. */
enum lsh_src {
    LSH_SYM_NORM = 0, /* first/father normal form, symmetric */
    LSH_SYM_SKEL,     /* first/father skeleton, symmetric */
    LSH_FAMILY,       /* family skeleton */
    LSH_GRANDFATHER,  /* grandfather skeleton */
    LSH_MOTHER,       /* mother skeleton */
    LSH_YEAR,         /* birth year */
    LSH_MONTH_DAY,    /* birth month and day */
    LSH_N_SRC
};
/* Segment of each plain source. */
static const int lsh_seg[LSH_N_SRC] = {
    -1, -1, MATCH_SEG_FAMILY_S, MATCH_SEG_GRANDFATHER_S, MATCH_SEG_MOTHER_S, MATCH_SEG_YEAR,
    MATCH_SEG_MONTH_DAY,
};
/* Symmetric samples are coded above the plain positions. */
#define LSH_SYM_BASE 1024

/* Sampled positions of every table (fixed: they are public, the keys are
 * not), drawn mostly from the names, which vary least. */
static void lsh_positions(uint16_t pos[LSH_TABLES][LSH_BITS])
{
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    static const int pref[] = {LSH_SYM_NORM, LSH_SYM_NORM, LSH_SYM_SKEL,  LSH_SYM_SKEL,
                               LSH_FAMILY,   LSH_FAMILY,   LSH_GRANDFATHER, LSH_MOTHER,
                               LSH_MOTHER,   LSH_YEAR,     LSH_MONTH_DAY,   LSH_MONTH_DAY};
    for (int t = 0; t < LSH_TABLES; t++) {
        for (int b = 0; b < LSH_BITS; b++) {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            uint64_t r = s * 0x2545F4914F6CDD1DULL;
            int src = pref[(r >> 32) % (sizeof(pref) / sizeof(pref[0]))];
            unsigned v = (unsigned)(r & 0xffff);
            if (src == LSH_SYM_NORM) {
                pos[t][b] = (uint16_t)(LSH_SYM_BASE + (v % 256));
            } else if (src == LSH_SYM_SKEL) {
                pos[t][b] = (uint16_t)(LSH_SYM_BASE + 256 + (v % 128));
            } else {
                const struct match_clk_segment *g = &match_clk_segments[lsh_seg[src]];
                pos[t][b] = (uint16_t)(g->off + v % g->bits);
            }
        }
    }
}

/* Bit p of x. */
static inline uint32_t bit_at(const uint64_t *x, unsigned p)
{
    return (uint32_t)((x[p / 64] >> (p % 64)) & 1);
}

/* The LSH key of an encoding in table t. */
static uint32_t lsh_key(const uint64_t *x, const uint16_t *pos)
{
    uint32_t k = 0;
    for (int b = 0; b < LSH_BITS; b++) {
        unsigned p = pos[b];
        uint32_t v;
        if (p < LSH_SYM_BASE) {
            v = bit_at(x, p);
        } else {
            /* the same position in the first and father's segments */
            unsigned q = p - LSH_SYM_BASE;
            bool skel = q >= 256;
            unsigned r = (skel ? q - 256 : q) / 2, op = q & 1;
            unsigned pf = (skel ? match_clk_segments[MATCH_SEG_FIRST_S].off
                                : match_clk_segments[MATCH_SEG_FIRST_N].off) + r;
            unsigned pp = (skel ? match_clk_segments[MATCH_SEG_FATHER_S].off
                                : match_clk_segments[MATCH_SEG_FATHER_N].off) + r;
            v = op ? bit_at(x, pf) & bit_at(x, pp) : bit_at(x, pf) | bit_at(x, pp);
        }
        k = (k << 1) | v;
    }
    return k;
}

/* Fields with a term-frequency adjustment: the names (normal-form segment)
 * and the birth date (year and month/day segments). */
#define TF_FIELDS (MATCH_N_NAMES + 1)

/* Shared state of a link run. */
struct link_ctx {
    const uint64_t *A, *B;           /* encodings */
    size_t na, nb;                   /* counts */
    uint8_t *ca, *cb;                /* segment popcounts, MATCH_CLK_N_SEGS per record */
    uint32_t *fa, *fb;               /* value frequencies, TF_FIELDS per record (0: missing) */
    uint32_t n_nonempty[TF_FIELDS];  /* records with a value in each TF field */
    double u_tf[TF_FIELDS];          /* chance that two random values agree (TF base) */
    uint32_t *start;                 /* per table, 2^LSH_BITS + 1 bucket starts into members */
    uint32_t *members;               /* per table, nb indexes of B grouped by key */
    uint16_t (*pos)[LSH_BITS];       /* sampled positions */
    const struct match_model *model; /* weights (NULL while sampling for training) */
    bool all_pairs;                  /* few records: compare every pair, no LSH */
    double floor_bits;               /* pairs scoring below are dropped */
};

/* Term-frequency adjustment of an exact agreement on a value seen freq times. */
static double link_tf(const struct link_ctx *c, int f, uint32_t freq)
{
    if (!freq || c->n_nonempty[f] < 50) {
        return 0;
    }
    double adj = log2(c->u_tf[f] / ((double)freq / (double)c->n_nonempty[f]));
    double clamp = c->model->tf_clamp;
    return adj > clamp ? clamp : adj < -clamp ? -clamp : adj;
}

/* Scores a comparison of A[a] and B[b] in bits, as the plaintext engine does:
 * household fields summed and capped, dropped unless the first and father's
 * names agree, the child's own fields added. */
static double link_score(const struct link_ctx *c, size_t a, size_t b, const struct match_cmp *cmp)
{
    const struct match_model *m = c->model;
    double house = 0, house_tf = 0, child = 0;
    for (int f = 0; f < MF_COUNT; f++) {
        int l = cmp->level[f];
        if (l < 0) {
            continue;
        }
        double w = m->w[f][l], adj = 0;
        int tf = f < MATCH_N_NAMES ? f : f == MF_DOB ? MATCH_N_NAMES : -1;
        bool exact = f == MF_DOB ? l == MATCH_DATE_EXACT : l == MATCH_NAME_EXACT;
        if (tf >= 0 && exact && !(cmp->swapped && (f == MF_FIRST || f == MF_FATHER))) {
            uint32_t x = c->fa[a * TF_FIELDS + (size_t)tf], y = c->fb[b * TF_FIELDS + (size_t)tf];
            adj = link_tf(c, tf, x > y ? x : y);
        }
        if (is_household[f]) {
            house += w;
            house_tf += adj;
        } else {
            child += w + adj;
        }
    }
    /* as in match_score_cmp: the cap, common households count less, and
     * the first-name, father's-name and sibling guards */
    double used = house > m->household_cap ? m->household_cap : house;
    if (house_tf < 0) {
        used += house_tf;
    }
    if ((cmp->level[MF_FIRST] == MATCH_NAME_DIFF || cmp->level[MF_FATHER] == MATCH_NAME_DIFF) &&
        used > 0) {
        used = 0;
    }
    if (cmp->level[MF_FIRST] >= 0 && cmp->level[MF_FIRST] < MATCH_NAME_EXACT &&
        cmp->level[MF_DOB] >= 0 && cmp->level[MF_DOB] <= MATCH_DATE_NEAR && used > 0) {
        used *= MATCH_SIBLING_GUARD;
    }
    return child + used;
}

/* Output of one link thread. */
struct link_job {
    struct link_ctx *c;     /* shared state */
    size_t from, to;        /* range of A */
    size_t step;            /* every step-th record of the range (training samples) */
    struct match_pair *p;   /* pairs found (owned) */
    size_t n, cap;          /* used, allocated */
    struct match_cmp *cmp;  /* comparisons kept for training (owned), when model is NULL */
    size_t n_cmp, cap_cmp;  /* used, allocated */
    uint32_t *seen;         /* per B record: (last A record that met it + 1) << 8, and in
                               the low byte in how many tables it met it */
    size_t candidates;      /* candidates seen */
    size_t compared;        /* pairs compared */
};

/* Finds and scores the candidates of a range of A in every table. */
static void *link_thread(void *arg)
{
    struct link_job *j = arg;
    struct link_ctx *c = j->c;
    j->seen = xcalloc(c->nb ? c->nb : 1, sizeof(uint32_t));
    uint32_t keys[LSH_TABLES], lo_t[LSH_TABLES], hi_t[LSH_TABLES];
    for (size_t a = j->from; a < j->to; a += j->step) {
        const uint64_t *xa = c->A + a * MATCH_CLK_WORDS;
        const uint8_t *ca = c->ca + a * MATCH_CLK_N_SEGS;
        if (!c->all_pairs) {
            /* the bucket lookups miss the cache: issue them all first */
            for (int t = 0; t < LSH_TABLES; t++) {
                keys[t] = lsh_key(xa, c->pos[t]);
                __builtin_prefetch(c->start + (size_t)t * (LSH_KEYS + 1) + keys[t]);
            }
            for (int t = 0; t < LSH_TABLES; t++) {
                const uint32_t *st = c->start + (size_t)t * (LSH_KEYS + 1);
                lo_t[t] = st[keys[t]];
                hi_t[t] = st[keys[t] + 1];
                __builtin_prefetch(c->members + (size_t)t * c->nb + lo_t[t]);
            }
        }
        for (int t = 0; t < (c->all_pairs ? 1 : LSH_TABLES); t++) {
            uint32_t lo = 0, hi = (uint32_t)c->nb;
            const uint32_t *mem = NULL;
            if (!c->all_pairs) {
                mem = c->members + (size_t)t * c->nb;
                lo = lo_t[t];
                hi = hi_t[t];
            }
            for (uint32_t e = lo; e < hi; e++) {
                uint32_t b = mem ? mem[e] : e;
                if (mem && e + 8 < hi) {
                    __builtin_prefetch(j->seen + mem[e + 8], 1);
                }
                j->candidates++;
                /* one word per B record: the A record that last met it
                 * (plus one) above, the tables that agreed below (the tag
                 * wraps after 2^24 records of A, which can at worst compare
                 * a pair twice or miss one; the assignment drops repeats) */
                uint32_t tag = ((uint32_t)a + 1) << 8, st = j->seen[b];
                uint32_t hits = (st & ~0xffu) == tag ? (st & 0xffu) + 1 : 1;
                if (c->all_pairs) {
                    hits = LSH_MIN_HITS;
                }
                if (hits <= 255) {
                    j->seen[b] = tag | hits;
                }
                if (hits != LSH_MIN_HITS) {
                    continue; /* too few tables agree yet, or compared already */
                }
                j->compared++;
                struct match_cmp cmp;
                match_clk_compare(xa, ca, c->B + (size_t)b * MATCH_CLK_WORDS,
                                  c->cb + (size_t)b * MATCH_CLK_N_SEGS, &cmp);
                if (!c->model) {
                    if (j->n_cmp == j->cap_cmp) {
                        j->cap_cmp = j->cap_cmp ? 2 * j->cap_cmp : 4096;
                        j->cmp = xrealloc(j->cmp, j->cap_cmp * sizeof(*j->cmp));
                    }
                    j->cmp[j->n_cmp++] = cmp;
                    continue;
                }
                double score = link_score(c, a, b, &cmp);
                if (score < c->floor_bits) {
                    continue;
                }
                if (j->n == j->cap) {
                    j->cap = j->cap ? 2 * j->cap : 4096;
                    j->p = xrealloc(j->p, j->cap * sizeof(*j->p));
                }
                j->p[j->n++] = (struct match_pair){(uint32_t)a, b, (float)score};
            }
        }
    }
    free(j->seen);
    j->seen = NULL;
    return NULL;
}

/* Runs link_thread over A (every step-th record) on nt threads into jobs[nt]. */
static void run_jobs(struct link_ctx *c, int nt, size_t step, struct link_job *jobs)
{
    pthread_t *tid = xcalloc((size_t)nt, sizeof(pthread_t));
    bool *started = xcalloc((size_t)nt, sizeof(bool));
    for (int t = 0; t < nt; t++) {
        /* thread t takes records t, t + nt, ... of the stepped sequence */
        memset(&jobs[t], 0, sizeof(jobs[t]));
        jobs[t].c = c;
        jobs[t].from = (size_t)t * step;
        jobs[t].to = c->na;
        jobs[t].step = step * (size_t)nt;
    }
    for (int t = 1; t < nt; t++) {
        started[t] = pthread_create(&tid[t], NULL, link_thread, &jobs[t]) == 0;
        if (!started[t]) {
            link_thread(&jobs[t]);
        }
    }
    link_thread(&jobs[0]);
    for (int t = 1; t < nt; t++) {
        if (started[t]) {
            pthread_join(tid[t], NULL);
        }
    }
    free(started);
    free(tid);
}

/* A value's hash with its record, for counting frequencies. */
struct tf_entry {
    uint64_t h; /* hash of the segment bits */
    uint32_t i; /* record (A first, then B) */
};

/* Orders tf entries by hash. */
static int tf_cmp(const void *x, const void *y)
{
    const struct tf_entry *a = x, *b = y;
    return a->h < b->h ? -1 : a->h > b->h;
}

/* Hash of TF field f of an encoding (0 when it is missing). */
static uint64_t tf_hash(const uint64_t *x, const uint8_t *cnt, int f)
{
    int g0, g1;
    if (f < MATCH_N_NAMES) {
        g0 = g1 = name_seg[f][0];
    } else {
        g0 = MATCH_SEG_YEAR;
        g1 = MATCH_SEG_MONTH_DAY;
        if (!cnt[g1]) {
            return 0; /* a year-only estimate is no date to count */
        }
    }
    if (!cnt[g0]) {
        return 0;
    }
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)f;
    for (int g = g0; g <= g1; g++) {
        unsigned off = match_clk_segments[g].off, w = match_clk_segments[g].bits;
        for (unsigned k = off / 64; k < (off + w + 63) / 64; k++) {
            uint64_t v = x[k];
            if (w < 64) {
                v = (v >> (off % 64)) & ((1ULL << w) - 1);
            }
            h = (h ^ v) * 0xff51afd7ed558ccdULL;
            h ^= h >> 33;
        }
    }
    return h ? h : 1;
}

/* Counts how often each record's values occur in A and B together. */
static void count_values(struct link_ctx *c)
{
    size_t n = c->na + c->nb;
    c->fa = xcalloc((c->na ? c->na : 1) * TF_FIELDS, sizeof(uint32_t));
    c->fb = xcalloc((c->nb ? c->nb : 1) * TF_FIELDS, sizeof(uint32_t));
    struct tf_entry *e = xcalloc(n ? n : 1, sizeof(*e));
    for (int f = 0; f < TF_FIELDS; f++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            bool in_a = i < c->na;
            size_t r = in_a ? i : i - c->na;
            const uint64_t *x = (in_a ? c->A : c->B) + r * MATCH_CLK_WORDS;
            const uint8_t *cnt = (in_a ? c->ca : c->cb) + r * MATCH_CLK_N_SEGS;
            uint64_t h = tf_hash(x, cnt, f);
            if (h) {
                e[m++] = (struct tf_entry){h, (uint32_t)i};
            }
        }
        qsort(e, m, sizeof(*e), tf_cmp);
        double sq = 0;
        for (size_t s = 0; s < m;) {
            size_t t = s + 1;
            while (t < m && e[t].h == e[s].h) {
                t++;
            }
            for (size_t k = s; k < t; k++) {
                size_t i = e[k].i;
                uint32_t *dst = i < c->na ? &c->fa[i * TF_FIELDS] : &c->fb[(i - c->na) * TF_FIELDS];
                dst[f] = (uint32_t)(t - s);
            }
            sq += (double)(t - s) * (double)(t - s);
            s = t;
        }
        c->n_nonempty[f] = (uint32_t)m;
        c->u_tf[f] = m ? sq / ((double)m * (double)m) : 0;
    }
    free(e);
}

/* A small fast generator (xorshift64*) for sampling. */
static uint64_t link_rng(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Estimates u from random pairs of A x B (all pairs when there are few),
 * blended with the prior. */
static void link_estimate_u(struct match_model *model, const struct link_ctx *c)
{
    double all = (double)c->na * (double)c->nb;
    if (c->na < 200 || c->nb < 200) {
        return; /* too few records to say anything about random pairs */
    }
    size_t k = all < 300000 ? (size_t)all : 300000;
    double count[MF_COUNT][MATCH_MAX_LEVELS] = {{0}};
    double tot[MF_COUNT] = {0};
    uint64_t rng = 0x5eed1234ULL;
    for (size_t i = 0; i < k; i++) {
        size_t a, b;
        if (all < 300000) {
            a = i / c->nb;
            b = i % c->nb;
        } else {
            a = link_rng(&rng) % c->na;
            b = link_rng(&rng) % c->nb;
        }
        struct match_cmp cmp;
        match_clk_compare(c->A + a * MATCH_CLK_WORDS, c->ca + a * MATCH_CLK_N_SEGS,
                          c->B + b * MATCH_CLK_WORDS, c->cb + b * MATCH_CLK_N_SEGS, &cmp);
        for (int f = 0; f < MF_COUNT; f++) {
            if (cmp.level[f] >= 0) {
                count[f][cmp.level[f]] += 1;
                tot[f] += 1;
            }
        }
    }
    const double alpha = 200.0;
    for (int f = 0; f < MF_COUNT; f++) {
        for (int l = 0; l < match_field_levels[f]; l++) {
            double u = (count[f][l] + alpha * model->u[f][l]) / (tot[f] + alpha);
            model->u[f][l] = u > 1e-7 ? u : 1e-7;
        }
    }
}

/* Runs one EM session of training on the comparisons it selects: session 0
 * takes pairs that share the household (father and family close or exact)
 * and learns the child's fields, session 1 pairs that share the child (first
 * name close, birth year) and learns the household's. Starts from lambda0.
 * Returns whether there were enough pairs to run it. */
static bool link_em_session(struct match_model *model, const struct match_cmp *cmp, size_t n,
                            int session, double lambda0)
{
    struct match_cmp *s = xcalloc(n ? n : 1, sizeof(*s));
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const int8_t *l = cmp[i].level;
        bool keep = session == 0
                        ? l[MF_FATHER] >= MATCH_NAME_CLOSE && l[MF_FAMILY] >= MATCH_NAME_CLOSE
                        : l[MF_FIRST] >= MATCH_NAME_CLOSE && l[MF_DOB] >= MATCH_DATE_EST;
        if (keep) {
            s[m++] = cmp[i];
        }
    }
    bool used = false;
    if (m >= 200) {
        bool learn[MF_COUNT] = {false};
        for (int f = 0; f < MF_COUNT; f++) {
            learn[f] = session == 0 ? !is_household[f] : is_household[f];
        }
        struct match_model tmp = *model;
        tmp.lambda = lambda0;
        match_em(&tmp, s, m, learn, 60);
        for (int f = 0; f < MF_COUNT; f++) {
            if (learn[f]) {
                memcpy(model->m[f], tmp.m[f], sizeof(tmp.m[f]));
            }
        }
        used = true;
    }
    free(s);
    return used;
}

/* Orders pairs by a, b. */
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

/* Decision threshold of link scores in bits (probability 1/2): the prior
 * odds that a given pair links fall as 1/n with n records per side, so the
 * evidence needed grows as log2(n) (tuned on generated 20k and 100k files);
 * never below LINK_THRESHOLD_MIN. */
#define LINK_THRESHOLD_MIN 12.0
#define LINK_THRESHOLD_OFFSET (-0.5)
/* Below this many A x B pairs, every pair is compared. */
#define LINK_ALL_PAIRS 4e6
/* Records of A sampled for EM on candidate pairs. */
#define LINK_TRAIN_RECORDS 4000

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
    c.ca = xcalloc((na ? na : 1) * MATCH_CLK_N_SEGS, 1);
    c.cb = xcalloc((nb ? nb : 1) * MATCH_CLK_N_SEGS, 1);
    for (size_t i = 0; i < na; i++) {
        match_clk_seg_counts(A + i * MATCH_CLK_WORDS, c.ca + i * MATCH_CLK_N_SEGS);
    }
    for (size_t i = 0; i < nb; i++) {
        match_clk_seg_counts(B + i * MATCH_CLK_WORDS, c.cb + i * MATCH_CLK_N_SEGS);
    }
    count_values(&c);
    c.pos = xcalloc(LSH_TABLES, sizeof(*c.pos));
    lsh_positions(c.pos);
    /* few records: every pair is a candidate (no LSH misses, no tables) */
    c.all_pairs = (double)na * (double)nb <= LINK_ALL_PAIRS;
    /* tables by counting sort: bucket starts, then members */
    int n_tables = c.all_pairs ? 0 : LSH_TABLES;
    c.start = xcalloc((size_t)n_tables * (LSH_KEYS + 1) + 1, sizeof(uint32_t));
    c.members = xcalloc((size_t)n_tables * (nb ? nb : 1) + 1, sizeof(uint32_t));
    uint32_t *keys = xcalloc(nb ? nb : 1, sizeof(uint32_t));
    for (int t = 0; t < n_tables; t++) {
        uint32_t *st = c.start + (size_t)t * (LSH_KEYS + 1);
        uint32_t *mem = c.members + (size_t)t * nb;
        for (size_t i = 0; i < nb; i++) {
            keys[i] = lsh_key(B + i * MATCH_CLK_WORDS, c.pos[t]);
            st[keys[i] + 1]++;
        }
        for (size_t k = 0; k < LSH_KEYS; k++) {
            st[k + 1] += st[k];
        }
        for (size_t i = 0; i < nb; i++) {
            mem[st[keys[i]]++] = (uint32_t)i;
        }
        /* the fill moved each start to the next bucket's: shift back */
        memmove(st + 1, st, LSH_KEYS * sizeof(uint32_t));
        st[0] = 0;
    }
    free(keys);
    if (progress) {
        progress(progress_ctx, "indexed", 1, 1);
    }
    int nt = l->n_threads < 1 ? 1 : l->n_threads > 64 ? 64 : l->n_threads;
    struct link_job *jobs = xcalloc((size_t)nt, sizeof(*jobs));

    /* training: u from random pairs, m by EM on the candidates of a sample of A */
    struct match_model *model = &l->model;
    match_model_init(model);
    link_estimate_u(model, &c);
    size_t step = na > LINK_TRAIN_RECORDS ? na / LINK_TRAIN_RECORDS : 1;
    run_jobs(&c, nt, step, jobs);
    size_t n_cmp = 0;
    for (int t = 0; t < nt; t++) {
        n_cmp += jobs[t].n_cmp;
    }
    struct match_cmp *cmp = xcalloc(n_cmp ? n_cmp : 1, sizeof(*cmp));
    n_cmp = 0;
    for (int t = 0; t < nt; t++) {
        if (jobs[t].n_cmp) {
            memcpy(cmp + n_cmp, jobs[t].cmp, jobs[t].n_cmp * sizeof(*cmp));
        }
        n_cmp += jobs[t].n_cmp;
        free(jobs[t].cmp);
    }
    bool s1 = link_em_session(model, cmp, n_cmp, 0, 0.3);
    if (s1) {
        match_model_bound_disagreement(model);
    }
    bool s2 = link_em_session(model, cmp, n_cmp, 1, 0.1);
    l->em_used = s1 || s2;
    free(cmp);
    match_model_weights(model);
    double nmin = (double)(na < nb ? na : nb);
    l->threshold_bits = nmin > 1 ? log2(nmin) + LINK_THRESHOLD_OFFSET : 0;
    if (l->threshold_bits < LINK_THRESHOLD_MIN) {
        l->threshold_bits = LINK_THRESHOLD_MIN;
    }
    if (progress) {
        progress(progress_ctx, "trained", 1, 1);
    }

    /* scoring: keep pairs whose probability reaches the threshold */
    double t = l->threshold > 0.999999 ? 0.999999 : l->threshold;
    c.model = model;
    c.floor_bits = l->threshold_bits + log2(t / (1 - t));
    run_jobs(&c, nt, 1, jobs);
    size_t total = 0;
    l->n_candidates = l->n_compared = 0;
    for (int k = 0; k < nt; k++) {
        total += jobs[k].n;
        l->n_candidates += jobs[k].candidates;
        l->n_compared += jobs[k].compared;
    }
    struct match_pair *all = xcalloc(total ? total : 1, sizeof(*all));
    size_t n = 0;
    for (int k = 0; k < nt; k++) {
        if (jobs[k].n) {
            memcpy(all + n, jobs[k].p, jobs[k].n * sizeof(*all));
        }
        n += jobs[k].n;
        free(jobs[k].p);
    }
    /* one partner per record on each side, best pairs first */
    qsort(all, n, sizeof(*all), pair_score_cmp);
    bool *used_a = xcalloc(na ? na : 1, sizeof(bool));
    bool *used_b = xcalloc(nb ? nb : 1, sizeof(bool));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (used_a[all[i].a] || used_b[all[i].b]) {
            continue;
        }
        used_a[all[i].a] = used_b[all[i].b] = true;
        all[k] = all[i];
        all[k].score = (float)(1.0 / (1.0 + exp2(l->threshold_bits - all[i].score)));
        k++;
    }
    l->pairs = all;
    l->n_pairs = k;
    free(used_a);
    free(used_b);
    free(jobs);
    free(c.start);
    free(c.members);
    free(c.pos);
    free(c.ca);
    free(c.cb);
    free(c.fa);
    free(c.fb);
    return 0;
}

/* Frees a link result; see clk.h. */
void match_link_release(struct match_link *l)
{
    free(l->pairs);
    l->pairs = NULL;
    l->n_pairs = 0;
}
