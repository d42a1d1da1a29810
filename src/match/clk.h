/*
 * clk.h: privacy-preserving record linkage with cryptographic long-term keys
 * (CLK): each record becomes one 1024-bit Bloom filter in which the name
 * bigrams (of the normalized name and of its cross-script skeleton), the
 * birth-date parts and the sex are set by keyed hashing (BLAKE2b keyed with a
 * per-field key derived from the shared secret). Without the secret the
 * positions cannot be recomputed, so names cannot be read back by a
 * dictionary attack. Linking compares encodings with the Dice coefficient
 * on 64-bit popcounts, skips hopeless pairs by their bit counts, blocks with
 * Hamming locality-sensitive hashing, and keeps at most one partner per
 * record on each side.
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

/* Result of a link run. */
struct match_link {
    double threshold;          /* Dice at or above which a pair is kept (input) */
    int n_threads;             /* worker threads (input) */
    size_t n_candidates;       /* pairs that passed blocking */
    size_t n_compared;         /* pairs whose Dice was computed (after the bit-count filter) */
    struct match_pair *pairs;  /* one-to-one pairs (a indexes A, b indexes B), owned */
    size_t n_pairs;            /* their count */
};

/*
 * Links encodings A[0..na) with B[0..nb) (MATCH_CLK_WORDS words each):
 * candidates by Hamming LSH, bit-count filter, Dice, then a greedy
 * one-to-one assignment, best pairs first. Fills l->pairs (free with
 * match_link_release). Returns 0.
 */
int match_link_run(struct match_link *l, const uint64_t *A, size_t na, const uint64_t *B,
                   size_t nb, match_progress_fn progress, void *progress_ctx);
/* Frees a link result. */
void match_link_release(struct match_link *l);

#endif
