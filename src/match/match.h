/*
 * match.h: the matching engine. Finds the same child across registration
 * records (dedup) and across organizations (link), in Arabic and Latin script.
 *
 * Pure library: no HTTP, no database. Callers hand it rows of strings and get
 * back pairs, scores, explanations and clusters. See docs/matching.md for the
 * model (Fellegi-Sunter with EM, term-frequency adjustment, household cap and
 * first-name guard against siblings and twins, constrained clustering).
 *
 * Pipeline: match_normalize (per name) -> struct match_set (prepared records,
 * term frequencies) -> match_model_train (u from random pairs, m by EM) ->
 * match_dedup (blocking, scoring on threads, clustering).
 */
#ifndef SANAD_MATCH_MATCH_H
#define SANAD_MATCH_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Longest normalized name kept, in internal one-byte letters. */
#define MATCH_NAME_MAX 255
/* Longest accepted input value for one name column, in bytes. */
#define MATCH_FIELD_MAX 1024

/* Script of a normalized name. */
enum match_script {
    MATCH_SCRIPT_NONE = 0, /* empty after normalization */
    MATCH_SCRIPT_ARABIC,   /* Arabic letters (internal codes 0x80..) */
    MATCH_SCRIPT_LATIN     /* lower-case ASCII letters */
};

/* How a name is normalized: the article is optional for family and place. */
enum match_kind {
    MATCH_KIND_GIVEN = 0, /* a personal name: first, father, grandfather, mother */
    MATCH_KIND_FAMILY,    /* a family name: ال / al- / el- is dropped */
    MATCH_KIND_PLACE      /* a place name: like family, article dropped */
};

/* One normalized name. */
struct match_norm {
    char norm[MATCH_NAME_MAX + 1]; /* internal form, tokens joined, NUL-terminated */
    size_t n_norm;                 /* bytes in norm */
    char skel[MATCH_NAME_MAX + 1]; /* cross-script consonant skeleton (ASCII) */
    size_t n_skel;                 /* bytes in skel */
    enum match_script script;      /* script of norm (the majority of letters) */
    char rest[MATCH_NAME_MAX + 1]; /* words after the first (mother's family name) */
    size_t n_rest;                 /* bytes in rest; filled only when asked */
    char rest_skel[MATCH_NAME_MAX + 1]; /* skeleton of rest */
    size_t n_rest_skel;                 /* bytes in rest_skel */
};

/*
 * Normalizes the UTF-8 name s[0..len) of the given kind into *out: NFKC,
 * diacritics and tatweel dropped, letter forms unified, compounds joined,
 * bin/ibn separators dropped, the article dropped for family and place names,
 * Latin lower-cased, and the cross-script skeleton computed. When split_rest
 * is true, only the first word goes to norm and the remaining words (a
 * mother's family name) to rest. Invalid UTF-8 bytes act as separators; the
 * function never fails and allocates nothing. Output longer than
 * MATCH_NAME_MAX is cut at a letter boundary (inputs are limited to
 * MATCH_FIELD_MAX bytes before this point).
 */
void match_normalize(const char *s, size_t len, enum match_kind kind, bool split_rest,
                     struct match_norm *out);

/*
 * Writes the internal form `norm` (n bytes, of the given script) as readable
 * UTF-8 into dst (size cap, always NUL-terminated). Returns the length
 * written. Used by explain output and tests.
 */
size_t match_norm_to_utf8(const char *norm, size_t n, char *dst, size_t cap);

/* ---- similarity (similarity.c) ---- */

/* Jaro-Winkler similarity of two byte strings, in [0, 1]; 1 for two empties. */
double match_jaro_winkler(const char *a, size_t na, const char *b, size_t nb);
/*
 * Damerau-Levenshtein (optimal string alignment) distance of two byte strings
 * of at most MATCH_NAME_MAX bytes, or max+1 when it exceeds max (early exit).
 */
int match_damerau(const char *a, size_t na, const char *b, size_t nb, int max);
/*
 * Token-set similarity of two space-separated word lists: each word is paired
 * with its best Jaro-Winkler partner on the other side, averaged both ways
 * (symmetric Monge-Elkan). 1 for equal sets in any order; 0 when one is empty.
 */
double match_token_set(const char *a, size_t na, const char *b, size_t nb);

/* A birth date; y == 0 means missing. */
struct match_date {
    int16_t y; /* year, 0 when missing */
    uint8_t m; /* month 1..12 */
    uint8_t d; /* day 1..31 */
};

/* Parses "YYYY-MM-DD" (a real calendar date, years 1900..2100) or "" into *out.
 * Returns 0, or -1 for anything else. */
int match_date_parse(const char *s, size_t len, struct match_date *out);

/* Agreement levels of the birth-date comparison, best first. */
enum match_date_level {
    MATCH_DATE_DIFF = 0,  /* different dates */
    MATCH_DATE_NEAR = 1,  /* year within one (siblings land here or at DIFF) */
    MATCH_DATE_EST = 2,   /* same year and one date is an estimate (1 January) */
    MATCH_DATE_CLOSE = 3, /* day/month swapped, a year off, or a few days off */
    MATCH_DATE_EXACT = 4  /* the same date */
};
/* Compares two dates; returns a match_date_level, or -1 when either is missing. */
int match_date_compare(struct match_date a, struct match_date b);

/* ---- records and comparison (record.c, compare.c) ---- */

/* Input columns, in the order of the CLI contract. */
enum match_col {
    MATCH_COL_ID = 0,
    MATCH_COL_FIRST,
    MATCH_COL_FATHER,
    MATCH_COL_GRANDFATHER,
    MATCH_COL_FAMILY,
    MATCH_COL_MOTHER,
    MATCH_COL_SEX,
    MATCH_COL_BIRTH_DATE,
    MATCH_COL_BIRTH_PLACE,
    MATCH_N_COLS
};
/* Column names as they appear in CSV headers, indexed by enum match_col. */
extern const char *const match_col_names[MATCH_N_COLS];

/* Compared fields. The first MATCH_N_NAMES are names. */
enum match_field {
    MF_FIRST = 0,
    MF_FATHER,
    MF_GRANDFATHER,
    MF_FAMILY,
    MF_MOTHER,        /* the mother's first name */
    MF_MOTHER_FAMILY, /* the mother's family name, when given */
    MF_PLACE,
    MF_SEX,
    MF_DOB,
    MF_COUNT
};
#define MATCH_N_NAMES 7
/* Field names for explanations, indexed by enum match_field. */
extern const char *const match_field_names[MF_COUNT];

/* Agreement levels of a name comparison, best first. */
enum match_name_level {
    MATCH_NAME_DIFF = 0,  /* different names */
    MATCH_NAME_FUZZY = 1, /* Jaro-Winkler high or two edits (or skeletons close) */
    MATCH_NAME_CLOSE = 2, /* one edit, or the same skeleton (also across scripts) */
    MATCH_NAME_EXACT = 3  /* the same normalized name */
};
#define MATCH_MAX_LEVELS 5

/* A prepared name inside a match_set: offsets into the set's string pool. */
struct match_pname {
    uint32_t off;   /* offset of norm in the chunk pool; skel follows its NUL */
    uint8_t n_norm; /* bytes of norm (0 = missing) */
    uint8_t n_skel; /* bytes of skel */
    uint8_t script; /* enum match_script */
    uint8_t pad;    /* unused */
    uint32_t freq;  /* records in the set with the same norm in this field */
};

/* A prepared record. */
struct match_prec {
    struct match_pname name[MATCH_N_NAMES]; /* names by enum match_field */
    struct match_date dob;                  /* birth date, y == 0 when missing */
    uint32_t dob_freq;                      /* records with the same birth date */
    uint16_t chunk;                         /* which pool holds the strings */
    uint8_t sex;                            /* 0 unknown, 1 male, 2 female */
};

/* Prepared records with their term frequencies. */
struct match_set {
    size_t n;                          /* records */
    struct match_prec *rec;            /* n prepared records (owned) */
    char **ids;                        /* n record ids (owned strings) */
    char **pool;                       /* n_chunks string pools (owned) */
    size_t n_chunks;                   /* pools */
    uint32_t n_nonempty[MF_COUNT];     /* records with a value in each field */
};

/* Raw input of one record: pointers to UTF-8 values, not owned. */
struct match_input {
    const char *val[MATCH_N_COLS]; /* value of each column, NULL when absent */
    size_t len[MATCH_N_COLS];      /* its length in bytes */
};

/*
 * Normalizes n records in[0..n) into *set on n_threads threads and counts
 * term frequencies. Values must be valid UTF-8 and birth dates and sex
 * already validated (match_input_check). Returns 0. The set owns copies of
 * everything; free with match_set_release.
 */
int match_set_build(struct match_set *set, const struct match_input *in, size_t n,
                    int n_threads);
/* Frees what set owns. */
void match_set_release(struct match_set *set);
/* The normalized name of field f of record i as a pointer into the pool. */
const char *match_set_norm(const struct match_set *set, size_t i, int f);
/* The skeleton of field f of record i. */
const char *match_set_skel(const struct match_set *set, size_t i, int f);

/*
 * Checks one record's values: sex (M/F/male/female/ذكر/أنثى or empty), birth
 * date (YYYY-MM-DD or empty) and lengths. Returns 0, or -1 with e naming the
 * column (e->field) and the problem.
 */
int match_input_check(const struct match_input *in, struct err *e);

/* Comparison of one pair: a level per field, -1 when missing on either side. */
struct match_cmp {
    int8_t level[MF_COUNT]; /* level per field, -1 missing */
    bool swapped;           /* first and father's names were swapped on one side */
    bool cross_script;      /* first names compared across scripts */
};

/* Compares records a and b of set into *out. Never fails. */
void match_compare(const struct match_set *set, size_t a, size_t b, struct match_cmp *out);
/* Compares only the child's own fields (first name, tried against the father's
 * name for a swap, sex, birth date); the other levels are -1. */
void match_compare_child(const struct match_set *set, size_t a, size_t b, struct match_cmp *out);
/* Fills the household levels of a comparison begun by match_compare_child, so
 * that the result equals match_compare's. */
void match_compare_rest(const struct match_set *set, size_t a, size_t b, struct match_cmp *out);
/* Compares two normalized names (norm and skel of each); returns a level. */
int match_compare_names(const char *na, size_t nna, const char *sa, size_t nsa, int scripta,
                        const char *nb, size_t nnb, const char *sb, size_t nsb, int scriptb);

/* ---- model (model.c) ---- */

/* Number of levels per field. */
extern const int match_field_levels[MF_COUNT];

/* Fellegi-Sunter parameters and decision settings. */
struct match_model {
    double m[MF_COUNT][MATCH_MAX_LEVELS]; /* P(level | same child) */
    double u[MF_COUNT][MATCH_MAX_LEVELS]; /* P(level | different children), random pairs */
    double w[MF_COUNT][MATCH_MAX_LEVELS]; /* log2(m / u), the weight of each level */
    double u_exact_tf[MF_COUNT];          /* sum of squared value frequencies (TF base) */
    double lambda;                        /* prior share of matches among candidates */
    double household_cap;   /* most that household fields (parents, family, place) add */
    double threshold;       /* score at or above which a pair is the same child */
    double tf_clamp;        /* bound on the term-frequency adjustment, bits */
    int em_iterations;      /* EM iterations run */
    bool em_used;           /* false when the set was too small and priors were kept */
};

/* Fills *model with prior m and u values and default settings. */
void match_model_init(struct match_model *model);
/*
 * Estimates u from random pairs of set and m by EM on sampled candidate pairs
 * (one session blocked on the household to learn the child's fields, one
 * blocked on the child to learn the household's), then computes weights.
 * Deterministic for a given seed. Keeps the priors where the set is too small.
 * Returns 0.
 */
int match_model_train(struct match_model *model, const struct match_set *set, uint64_t seed);
/*
 * Sets the decision threshold for a trained model as dedup does by default:
 * raised by log2(0.05 / lambda) (at most 6 bits) when EM found a smaller
 * share of duplicates among candidates than in the tuning data. Call once,
 * after match_model_train.
 */
void match_model_default_threshold(struct match_model *model);
/*
 * Bounds m of a clear disagreement (level 0) of the child's own fields (first
 * name, sex, birth date) after EM on household-blocked pairs, where siblings
 * would make it look common among duplicates; the excess goes to the other
 * levels in proportion. Used by training (dedup and link).
 */
void match_model_bound_disagreement(struct match_model *model);
/*
 * Share of the household evidence kept when the first names are similar but
 * not equal and the birth dates clearly differ (the pattern of siblings).
 */
#define MATCH_SIBLING_GUARD 0.5
/* Recomputes w from m and u. */
void match_model_weights(struct match_model *model);
/*
 * Runs EM on n comparison vectors cmp[] for the fields marked in `learn`
 * (others are ignored), with u fixed; updates model->m and model->lambda.
 * Returns the number of iterations run.
 */
int match_em(struct match_model *model, const struct match_cmp *cmp, size_t n,
             const bool learn[MF_COUNT], int max_iter);

/* One field's part in an explanation. */
struct match_term {
    int level;         /* the level, -1 when missing */
    double weight;     /* bits added (negative: removed) */
    double tf_adjust;  /* of which term-frequency adjustment */
};

/* The reasoning behind one score. */
struct match_explain {
    struct match_term term[MF_COUNT]; /* per field */
    double household;     /* sum of the household fields before the cap */
    double household_used;/* after the cap */
    double child;         /* sum of the child's own fields */
    bool guard;           /* a first- or father-name guard dropped the household */
    bool swapped;         /* first and father's names swapped */
    double score;         /* final score, log2 of the likelihood ratio */
};

/*
 * Scores the pair (a, b) of set under model: household fields (father,
 * grandfather, family, mother, place) are summed and capped, the child's own
 * fields (first name, birth date, sex) are added, and a clear first-name
 * disagreement keeps the pair below the threshold. Fills *ex when not NULL.
 * Returns the score in bits.
 */
double match_score(const struct match_model *model, const struct match_set *set, size_t a,
                   size_t b, struct match_explain *ex);
/*
 * Like match_score, but may stop early: returns the exact score when it is
 * at least `floor`, and otherwise some value below floor (an upper bound
 * from the child's own fields and the household cap). Used on candidate
 * pairs, most of which are far from matching.
 */
double match_score_bounded(const struct match_model *model, const struct match_set *set,
                           size_t a, size_t b, double floor);
/* Scores an already computed comparison (used by the scorer and the bench). */
double match_score_cmp(const struct match_model *model, const struct match_set *set, size_t a,
                       size_t b, const struct match_cmp *cmp, struct match_explain *ex);
/* Appends a human explanation of (a, b) to out as text lines. */
struct buf;
void match_explain_text(const struct match_model *model, const struct match_set *set, size_t a,
                        size_t b, struct buf *out);

/* ---- blocking, dedup and clustering (block.c, dedup.c, cluster.c) ---- */

/* A scored pair of records (indexes into a set). */
struct match_pair {
    uint32_t a;  /* first record, a < b */
    uint32_t b;  /* second record */
    float score; /* score in bits */
};

/* Progress callback: stage name and done/total; may be NULL. */
typedef void (*match_progress_fn)(void *ctx, const char *stage, size_t done, size_t total);

/* Options and results of a dedup run. */
struct match_dedup {
    int n_threads;            /* worker threads (>= 1) */
    double threshold;         /* pairs at or above are matches; NAN for the model's */
    uint64_t seed;            /* seed for sampling in training */
    match_progress_fn progress; /* progress callback or NULL */
    void *progress_ctx;         /* its context */
    /* results */
    struct match_model model;  /* the trained model */
    size_t n_candidates;       /* candidate pairs compared */
    struct match_pair *pairs;  /* pairs at or above the threshold (owned) */
    size_t n_pairs;            /* their count */
    uint32_t *cluster;         /* cluster of each record: index of its representative */
    double t_prepare, t_train, t_block, t_cluster; /* seconds per stage */
};

/* Fills d with defaults (threads = online CPUs, threshold = model default). */
void match_dedup_init(struct match_dedup *d);
/* Frees d's results. */
void match_dedup_release(struct match_dedup *d);
/*
 * Trains the model on set, generates candidate pairs by blocking, scores them
 * on d->n_threads threads and clusters the matches. Returns 0.
 */
int match_dedup_run(struct match_dedup *d, const struct match_set *set);

/* Number of blocking keys. */
#define MATCH_N_KEYS 10
/* Computes record i's blocking keys (0 = no key) into keys[MATCH_N_KEYS]. */
void match_block_keys(const struct match_set *set, size_t i, uint64_t keys[MATCH_N_KEYS]);

/* Called for each candidate pair (a < b) by match_block_run, from many threads. */
typedef void (*match_pair_fn)(void *ctx, int thread, uint32_t a, uint32_t b);
/*
 * Generates every candidate pair of set once, on n_threads threads, calling
 * fn for each. Returns the number of candidate pairs.
 */
size_t match_block_run(const struct match_set *set, int n_threads, match_pair_fn fn, void *ctx,
                       match_progress_fn progress, void *progress_ctx);

/*
 * Clusters the n records from pairs (scores at or above threshold) into
 * cluster[] (each record's representative, the smallest index of its
 * cluster). Merges best-first and refuses a merge when the two clusters
 * disagree: a cross pair below `cannot_link` or an average cross score below
 * the threshold. Cross scores come from model and set. Sorts pairs in place.
 */
void match_cluster(const struct match_model *model, const struct match_set *set,
                   struct match_pair *pairs, size_t n_pairs, double threshold,
                   double cannot_link, uint32_t *cluster);

#endif
