/*
 * clk.h: privacy-preserving record linkage with keyed, field-segmented Bloom
 * filters: each record becomes one 1024-bit encoding cut into segments, one
 * per field (the normal form and the cross-script skeleton of each name get
 * their own, the birth year and the month/day theirs, the sex its own). The
 * tokens of a field (name bigrams, date parts, sex) set bits of its segment
 * chosen by BLAKE2b keyed with a per-field key derived from the shared
 * secret, with the bits per token chosen so that about half of each segment
 * is set. Without the secret the positions cannot be recomputed, so names
 * cannot be read back by a dictionary attack. A missing field leaves its
 * segment empty.
 *
 * Linking compares the segments of two encodings with the Dice coefficient
 * on 64-bit popcounts, turns each field's Dice into an agreement level, and
 * scores the pair with Fellegi-Sunter weights (u from random pairs, m by EM
 * on candidate pairs, term-frequency adjustment on exact segments, the
 * household cap and first-name guard of the plaintext engine). Candidates
 * come from Hamming locality-sensitive hashing on the name and date
 * segments; at most one partner per record on each side is kept.
 */
#ifndef SANAD_MATCH_CLK_H
#define SANAD_MATCH_CLK_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "match/match.h"

#define MATCH_CLK_BITS 1024
#define MATCH_CLK_WORDS (MATCH_CLK_BITS / 64)
/* Characters of a base64 encoding (with padding), without the NUL. */
#define MATCH_CLK_B64_LEN 172
/* Shortest secret accepted, in bytes. */
#define MATCH_CLK_SECRET_MIN 32

/* Segments of an encoding (bit ranges; see match_clk_segments). */
enum match_clk_seg {
    MATCH_SEG_FIRST_N = 0,    /* first name, bigrams of the normal form */
    MATCH_SEG_FIRST_S,        /* first name, bigrams of the skeleton */
    MATCH_SEG_FATHER_N,       /* father's name, normal form (same key as first) */
    MATCH_SEG_FATHER_S,       /* father's name, skeleton */
    MATCH_SEG_GRANDFATHER_N,  /* grandfather's name, normal form */
    MATCH_SEG_GRANDFATHER_S,  /* grandfather's name, skeleton */
    MATCH_SEG_FAMILY_N,       /* family name, normal form */
    MATCH_SEG_FAMILY_S,       /* family name, skeleton */
    MATCH_SEG_MOTHER_N,       /* mother's first name, normal form */
    MATCH_SEG_MOTHER_S,       /* mother's first name, skeleton */
    MATCH_SEG_MOTHER_FAMILY,  /* mother's family name, both forms */
    MATCH_SEG_SEX,            /* sex */
    MATCH_SEG_PLACE,          /* birth place, both forms */
    MATCH_SEG_YEAR,           /* birth year (and half-year tokens for a year off) */
    MATCH_SEG_MONTH_DAY,      /* birth month and day (empty for 1 January estimates) */
    MATCH_CLK_N_SEGS
};

/* Where a segment lies in the encoding. */
struct match_clk_segment {
    unsigned off;  /* first bit */
    unsigned bits; /* width in bits: 32, 64 or 128; starts on a 64-bit word (32: half) */
};
/* The layout, indexed by enum match_clk_seg. */
extern const struct match_clk_segment match_clk_segments[MATCH_CLK_N_SEGS];

/* Keys derived from the shared secret. */
struct match_clk_key {
    unsigned char field[12][32]; /* one BLAKE2b key per encoded field */
};

/*
 * Derives the per-field keys from secret[0..n). Returns 0, or -1 with e set
 * when the secret is shorter than MATCH_CLK_SECRET_MIN bytes.
 */
int match_clk_key_init(struct match_clk_key *key, const unsigned char *secret, size_t n,
                       struct err *e);
/* Wipes the keys. */
void match_clk_key_wipe(struct match_clk_key *key);
/* Encodes record i of set into bits[MATCH_CLK_WORDS]. */
void match_clk_encode(const struct match_clk_key *key, const struct match_set *set, size_t i,
                      uint64_t *bits);
/* Encodes every record of set on n_threads threads into out[n * MATCH_CLK_WORDS]. */
void match_clk_encode_all(const struct match_clk_key *key, const struct match_set *set,
                          int n_threads, uint64_t *out);

/* Number of set bits of an encoding. */
int match_clk_popcount(const uint64_t *bits);
/* Dice coefficient 2|a&b| / (|a| + |b|), with the popcounts pa, pb given; 0 for two empties. */
double match_clk_dice(const uint64_t *a, int pa, const uint64_t *b, int pb);
/*
 * Compares a with every encoding of B[0..nb) (popcounts pb) and returns how
 * many reach the Dice threshold: the raw comparison loop, for benchmarks.
 */
size_t match_clk_scan(const uint64_t *a, int pa, const uint64_t *B, const uint16_t *pb,
                      size_t nb, double threshold);

/* Writes the base64 form of bits into out (at least MATCH_CLK_B64_LEN + 1 bytes). */
void match_clk_to_base64(const uint64_t *bits, char *out);
/* Parses base64 s[0..n) into bits; returns 0, or -1 when it is not a valid encoding. */
int match_clk_from_base64(const char *s, size_t n, uint64_t *bits);

/* Set bits of each segment of an encoding into counts[MATCH_CLK_N_SEGS]. */
void match_clk_seg_counts(const uint64_t *bits, uint8_t *counts);
/* Dice coefficient of segment seg of a and b (segment popcounts ca, cb);
 * -1 when the segment is empty on either side (the field is missing). */
double match_clk_seg_dice(const uint64_t *a, const uint8_t *ca, const uint64_t *b,
                          const uint8_t *cb, int seg);
/*
 * Compares two encodings field by field (segment popcounts ca and cb from
 * match_clk_seg_counts) into the levels of the plaintext engine: a Dice band
 * per name segment (exact, close, fuzzy, different), the birth date from the
 * year and month/day segments, the sex; -1 where a field is missing. The
 * first and father's names are also tried swapped. Never fails.
 */
void match_clk_compare(const uint64_t *a, const uint8_t *ca, const uint64_t *b, const uint8_t *cb,
                       struct match_cmp *out);

/* Result of a link run. */
struct match_link {
    double threshold;          /* match probability at or above which a pair is kept (input) */
    int n_threads;             /* worker threads (input) */
    size_t n_candidates;       /* pairs that passed blocking */
    size_t n_compared;         /* pairs scored field by field */
    struct match_pair *pairs;  /* one-to-one pairs (a indexes A, b indexes B), owned; score is
                                  the match probability 1 / (1 + 2^(T - bits)) */
    size_t n_pairs;            /* their count */
    struct match_model model;  /* the trained model (weights per field and level) */
    double threshold_bits;     /* T: the score in bits that maps to probability 1/2 */
    bool em_used;              /* m was estimated by EM (false: priors, for small files) */
};

/*
 * Links encodings A[0..na) with B[0..nb) (MATCH_CLK_WORDS words each):
 * candidates by Hamming LSH on the name and date segments, field-by-field
 * comparison, Fellegi-Sunter score (trained on these files: u from random
 * pairs, m by EM on candidate pairs), then a greedy one-to-one assignment,
 * best pairs first. Fills l->pairs (free with match_link_release). Returns 0.
 */
int match_link_run(struct match_link *l, const uint64_t *A, size_t na, const uint64_t *B,
                   size_t nb, match_progress_fn progress, void *progress_ctx);
/* Frees a link result. */
void match_link_release(struct match_link *l);

#endif
