/*
 * model.c: the Fellegi-Sunter model: u-probabilities from random pairs,
 * m-probabilities by expectation-maximization without labels, weights with
 * term-frequency adjustment, the household cap and first-name guard that keep
 * siblings and twins apart, and explanations.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "core/banned.h"
#include "match/match.h"

const int match_field_levels[MF_COUNT] = {4, 4, 4, 4, 4, 4, 4, 2, 5};

/* Household fields: together they identify a family, not a child. */
static const bool is_household[MF_COUNT] = {
    false, true, true, true, true, true, true, false, false,
};

/* Level names for explanations. */
static const char *const name_level_names[] = {"different", "fuzzy", "close", "exact"};
static const char *const date_level_names[] = {"different", "near", "year only", "close",
                                               "exact"};
static const char *const sex_level_names[] = {"different", "same"};

/* Returns the printable name of level l of field f. */
static const char *level_name(int f, int l)
{
    if (l < 0) {
        return "missing";
    }
    if (f == MF_DOB) {
        return date_level_names[l];
    }
    if (f == MF_SEX) {
        return sex_level_names[l];
    }
    return name_level_names[l];
}

/* Fills the model with priors; see match.h. */
void match_model_init(struct match_model *model)
{
    memset(model, 0, sizeof(*model));
    static const double m_name[4] = {0.03, 0.04, 0.08, 0.85};
    static const double u_name[4] = {0.95, 0.03, 0.01, 0.01};
    for (int f = 0; f < MATCH_N_NAMES; f++) {
        memcpy(model->m[f], m_name, sizeof(m_name));
        memcpy(model->u[f], u_name, sizeof(u_name));
        model->u_exact_tf[f] = u_name[MATCH_NAME_EXACT];
    }
    model->m[MF_FIRST][MATCH_NAME_DIFF] = 0.01;
    model->m[MF_FIRST][MATCH_NAME_EXACT] = 0.87;
    model->m[MF_PLACE][MATCH_NAME_DIFF] = 0.10;
    model->m[MF_PLACE][MATCH_NAME_EXACT] = 0.78;
    model->u[MF_PLACE][MATCH_NAME_EXACT] = 0.05;
    model->u[MF_PLACE][MATCH_NAME_DIFF] = 0.91;
    model->u_exact_tf[MF_PLACE] = 0.05;
    model->m[MF_SEX][0] = 0.03;
    model->m[MF_SEX][1] = 0.97;
    model->u[MF_SEX][0] = 0.5;
    model->u[MF_SEX][1] = 0.5;
    static const double m_dob[5] = {0.05, 0.08, 0.10, 0.17, 0.60};
    static const double u_dob[5] = {0.88, 0.11, 0.005, 0.004, 0.001};
    memcpy(model->m[MF_DOB], m_dob, sizeof(m_dob));
    memcpy(model->u[MF_DOB], u_dob, sizeof(u_dob));
    model->u_exact_tf[MF_DOB] = u_dob[MATCH_DATE_EXACT];
    model->lambda = 0.3;
    model->household_cap = 14.0;
    model->threshold = 13.0;
    model->tf_clamp = 4.0;
    match_model_weights(model);
}

/* Recomputes weights; see match.h. */
void match_model_weights(struct match_model *model)
{
    for (int f = 0; f < MF_COUNT; f++) {
        for (int l = 0; l < MATCH_MAX_LEVELS; l++) {
            double w = 0;
            if (l < match_field_levels[f]) {
                double m = model->m[f][l] > 1e-6 ? model->m[f][l] : 1e-6;
                double u = model->u[f][l] > 1e-7 ? model->u[f][l] : 1e-7;
                w = log2(m / u);
                if (w > 16) {
                    w = 16;
                } else if (w < -14) {
                    w = -14;
                }
            }
            model->w[f][l] = w;
        }
    }
}

/* A small fast generator (xorshift64*) for sampling. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Estimates u from random pairs, blending in the prior for small sets. */
static void estimate_u(struct match_model *model, const struct match_set *set, uint64_t *rng)
{
    size_t n = set->n;
    if (n < 500) {
        return; /* a handful of records (often one family) says nothing about random pairs */
    }
    double all = (double)n * (double)(n - 1) / 2.0;
    size_t k = all < 400000 ? (size_t)all : 400000;
    double count[MF_COUNT][MATCH_MAX_LEVELS] = {{0}};
    double tot[MF_COUNT] = {0};
    struct match_cmp cmp;
    size_t a = 0, b = 1;
    for (size_t i = 0; i < k; i++) {
        if (all < 400000) {
            /* small sets: every pair once */
            match_compare(set, a, b, &cmp);
            if (++b == n) {
                a++;
                b = a + 1;
            }
        } else {
            size_t x = rng_next(rng) % n, y = rng_next(rng) % n;
            if (x == y) {
                continue;
            }
            match_compare(set, x, y, &cmp);
        }
        for (int f = 0; f < MF_COUNT; f++) {
            if (cmp.level[f] >= 0) {
                count[f][cmp.level[f]] += 1;
                tot[f] += 1;
            }
        }
    }
    const double alpha = 200.0; /* prior pseudo-count */
    for (int f = 0; f < MF_COUNT; f++) {
        for (int l = 0; l < match_field_levels[f]; l++) {
            double u = (count[f][l] + alpha * model->u[f][l]) / (tot[f] + alpha);
            model->u[f][l] = u > 1e-7 ? u : 1e-7;
        }
    }
    /* the chance that two random records share a value, for the TF adjustment */
    for (int f = 0; f < MATCH_N_NAMES; f++) {
        double s = 0;
        for (size_t i = 0; i < n; i++) {
            s += set->rec[i].name[f].freq;
        }
        double nn = set->n_nonempty[f];
        if (nn > 50) {
            model->u_exact_tf[f] = s / (nn * nn);
        }
    }
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        s += set->rec[i].dob_freq;
    }
    double nn = set->n_nonempty[MF_DOB];
    if (nn > 50) {
        model->u_exact_tf[MF_DOB] = s / (nn * nn);
    }
}

/* Runs EM; see match.h. */
int match_em(struct match_model *model, const struct match_cmp *cmp, size_t n,
             const bool learn[MF_COUNT], int max_iter)
{
    if (n == 0) {
        return 0;
    }
    double lambda = model->lambda;
    int it;
    for (it = 0; it < max_iter; it++) {
        double lm[MF_COUNT][MATCH_MAX_LEVELS], lu[MF_COUNT][MATCH_MAX_LEVELS];
        for (int f = 0; f < MF_COUNT; f++) {
            for (int l = 0; l < match_field_levels[f]; l++) {
                lm[f][l] = log(model->m[f][l] > 1e-9 ? model->m[f][l] : 1e-9);
                lu[f][l] = log(model->u[f][l] > 1e-9 ? model->u[f][l] : 1e-9);
            }
        }
        double acc[MF_COUNT][MATCH_MAX_LEVELS] = {{0}};
        double tot[MF_COUNT] = {0};
        double sum_p = 0;
        double ll = log(lambda), lnl = log(1 - lambda);
        for (size_t i = 0; i < n; i++) {
            double pm = ll, pu = lnl;
            for (int f = 0; f < MF_COUNT; f++) {
                int l = cmp[i].level[f];
                if (learn[f] && l >= 0) {
                    pm += lm[f][l];
                    pu += lu[f][l];
                }
            }
            double d = pu - pm;
            double p = d > 40 ? 0.0 : 1.0 / (1.0 + exp(d));
            sum_p += p;
            for (int f = 0; f < MF_COUNT; f++) {
                int l = cmp[i].level[f];
                if (learn[f] && l >= 0) {
                    acc[f][l] += p;
                    tot[f] += p;
                }
            }
        }
        double change = 0;
        for (int f = 0; f < MF_COUNT; f++) {
            if (!learn[f] || tot[f] <= 0) {
                continue;
            }
            int nl = match_field_levels[f];
            for (int l = 0; l < nl; l++) {
                double m = (acc[f][l] + 0.5) / (tot[f] + 0.5 * nl);
                change = fmax(change, fabs(m - model->m[f][l]));
                model->m[f][l] = m;
            }
        }
        double nl = sum_p / (double)n;
        nl = nl < 1e-4 ? 1e-4 : (nl > 0.9999 ? 0.9999 : nl);
        change = fmax(change, fabs(nl - lambda));
        lambda = nl;
        if (change < 1e-5) {
            it++;
            break;
        }
    }
    model->lambda = lambda;
    return it;
}

/* Training pairs sampled from runs of equal keys. */
struct sample {
    struct match_cmp *cmp; /* comparison vectors (owned) */
    size_t n, cap;         /* used and allocated */
};

/* A record index with its key, for sorting. */
struct keyed {
    uint64_t key; /* blocking key, 0 = none */
    uint32_t i;   /* record index */
};

/* Orders keyed records by key, then index. */
static int keyed_cmp(const void *x, const void *y)
{
    const struct keyed *a = x, *b = y;
    if (a->key != b->key) {
        return a->key < b->key ? -1 : 1;
    }
    return a->i < b->i ? -1 : (a->i > b->i);
}

/* Hashes bytes into a key component. */
static uint64_t mix(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    h ^= 0xff;
    h *= 1099511628211ULL;
    return h;
}

/* Samples up to max_pairs pairs of records sharing the key given by `which`
 * (0: father and family skeletons, 1: first-name skeleton and birth year). */
static void sample_pairs(const struct match_set *set, int which, size_t max_pairs,
                         uint64_t *rng, struct sample *out)
{
    size_t n = set->n;
    struct keyed *k = xcalloc(n ? n : 1, sizeof(*k));
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const struct match_prec *r = &set->rec[i];
        uint64_t h = 1469598103934665603ULL + (uint64_t)which;
        if (which == 0) {
            if (!r->name[MF_FATHER].n_skel || !r->name[MF_FAMILY].n_skel) {
                continue;
            }
            h = mix(h, match_set_skel(set, i, MF_FATHER), r->name[MF_FATHER].n_skel);
            h = mix(h, match_set_skel(set, i, MF_FAMILY), r->name[MF_FAMILY].n_skel);
        } else {
            if (!r->name[MF_FIRST].n_skel || !r->dob.y) {
                continue;
            }
            h = mix(h, match_set_skel(set, i, MF_FIRST), r->name[MF_FIRST].n_skel);
            h ^= (uint64_t)r->dob.y * 0x9E3779B97F4A7C15ULL;
        }
        k[m].key = h | 1;
        k[m].i = (uint32_t)i;
        m++;
    }
    qsort(k, m, sizeof(*k), keyed_cmp);
    /* keep a run's pairs with a probability that bounds the total */
    double total = 0;
    for (size_t s = 0; s < m;) {
        size_t e = s + 1;
        while (e < m && k[e].key == k[s].key) {
            e++;
        }
        double len = (double)(e - s);
        total += len > 40 ? 40 * len : len * (len - 1) / 2;
        s = e;
    }
    double keep = total > (double)max_pairs ? (double)max_pairs / total : 1.0;
    for (size_t s = 0; s < m;) {
        size_t e = s + 1;
        while (e < m && k[e].key == k[s].key) {
            e++;
        }
        size_t len = e - s;
        if (len >= 2) {
            size_t want = len > 40 ? 40 * len : len * (len - 1) / 2;
            for (size_t t = 0; t < want; t++) {
                if (keep < 1.0 && (double)(rng_next(rng) >> 11) / 9007199254740992.0 >= keep) {
                    continue;
                }
                size_t x, y;
                if (len > 40) {
                    x = s + rng_next(rng) % len;
                    y = s + rng_next(rng) % len;
                    if (x == y) {
                        continue;
                    }
                } else {
                    /* the t-th pair of the run */
                    x = 0;
                    size_t rem = t;
                    while (rem >= len - 1 - x) {
                        rem -= len - 1 - x;
                        x++;
                    }
                    y = s + x + 1 + rem;
                    x += s;
                }
                if (out->n == out->cap) {
                    out->cap = out->cap ? 2 * out->cap : 4096;
                    out->cmp = xrealloc(out->cmp, out->cap * sizeof(*out->cmp));
                }
                match_compare(set, k[x].i, k[y].i, &out->cmp[out->n++]);
            }
        }
        s = e;
    }
    free(k);
}

/* Most that EM may put on a clear disagreement of the child's own fields
 * among matches. Pairs blocked on the household are mostly siblings, and
 * EM's match class takes some of them in, which makes a different birth
 * date look common among duplicates (at a million records it weighed -1.5
 * bits, and namesakes in other families merged). Clerks do write a wholly
 * wrong date, but rarely. */
static const double m_disagree_max[MF_COUNT] = {
    [MF_FIRST] = 0.03, [MF_SEX] = 0.05, [MF_DOB] = 0.04,
};

/* Bounds m of the DIFF level of the child's fields; see match.h. */
void match_model_bound_disagreement(struct match_model *model)
{
    for (int f = 0; f < MF_COUNT; f++) {
        double mx = m_disagree_max[f];
        if (mx <= 0 || model->m[f][0] <= mx) {
            continue;
        }
        double rest = 1.0 - model->m[f][0];
        for (int l = 1; l < match_field_levels[f]; l++) {
            model->m[f][l] = rest > 0 ? model->m[f][l] / rest * (1.0 - mx)
                                      : (1.0 - mx) / (match_field_levels[f] - 1);
        }
        model->m[f][0] = mx;
    }
}

/* Trains the model; see match.h. */
int match_model_train(struct match_model *model, const struct match_set *set, uint64_t seed)
{
    uint64_t rng = seed ? seed : 0x5eed5eed5eedULL;
    estimate_u(model, set, &rng);
    model->em_used = false;
    model->em_iterations = 0;
    /* session 1: pairs in the same household teach the child's fields */
    struct sample s = {NULL, 0, 0};
    sample_pairs(set, 0, 300000, &rng, &s);
    if (s.n >= 200) {
        bool learn[MF_COUNT] = {false};
        learn[MF_FIRST] = learn[MF_SEX] = learn[MF_DOB] = true;
        struct match_model tmp = *model;
        tmp.lambda = 0.3;
        model->em_iterations += match_em(&tmp, s.cmp, s.n, learn, 60);
        for (int f = 0; f < MF_COUNT; f++) {
            if (learn[f]) {
                memcpy(model->m[f], tmp.m[f], sizeof(tmp.m[f]));
            }
        }
        match_model_bound_disagreement(model);
        model->em_used = true;
    }
    s.n = 0;
    /* session 2: pairs of the same first name and year teach the household's */
    sample_pairs(set, 1, 300000, &rng, &s);
    if (s.n >= 200) {
        bool learn[MF_COUNT] = {false};
        for (int f = 0; f < MF_COUNT; f++) {
            learn[f] = is_household[f];
        }
        struct match_model tmp = *model;
        tmp.lambda = 0.1;
        model->em_iterations += match_em(&tmp, s.cmp, s.n, learn, 60);
        for (int f = 0; f < MF_COUNT; f++) {
            if (learn[f]) {
                memcpy(model->m[f], tmp.m[f], sizeof(tmp.m[f]));
            }
        }
        model->lambda = tmp.lambda;
        model->em_used = true;
    }
    free(s.cmp);
    match_model_weights(model);
    return 0;
}

/* Term-frequency adjustment in bits for an exact agreement on a value seen
 * freq times among n_nonempty records. */
static double tf_adjust(const struct match_model *model, int f, uint32_t freq, uint32_t n_nonempty)
{
    if (!freq || n_nonempty < 50) {
        return 0;
    }
    double tf = (double)freq / (double)n_nonempty;
    double adj = log2(model->u_exact_tf[f] / tf);
    if (adj > model->tf_clamp) {
        adj = model->tf_clamp;
    } else if (adj < -model->tf_clamp) {
        adj = -model->tf_clamp;
    }
    return adj;
}

/* Scores a computed comparison; see match.h. */
double match_score_cmp(const struct match_model *model, const struct match_set *set, size_t a,
                       size_t b, const struct match_cmp *cmp, struct match_explain *ex)
{
    double house = 0, house_tf = 0, child = 0;
    const struct match_prec *ra = &set->rec[a];
    const struct match_prec *rb = &set->rec[b];
    for (int f = 0; f < MF_COUNT; f++) {
        int l = cmp->level[f];
        double w = 0, adj = 0;
        if (l >= 0) {
            w = model->w[f][l];
            if (f < MATCH_N_NAMES && l == MATCH_NAME_EXACT) {
                int fa = f;
                if (cmp->swapped && (f == MF_FIRST || f == MF_FATHER)) {
                    fa = f == MF_FIRST ? MF_FATHER : MF_FIRST;
                }
                uint32_t fr = ra->name[f].freq > rb->name[fa].freq ? ra->name[f].freq
                                                                    : rb->name[fa].freq;
                adj = tf_adjust(model, f, fr, set->n_nonempty[f]);
            } else if (f == MF_DOB && l == MATCH_DATE_EXACT) {
                adj = tf_adjust(model, f, ra->dob_freq, set->n_nonempty[MF_DOB]);
            }
            w += adj;
        }
        if (is_household[f]) {
            house += w - adj;
            house_tf += adj;
        } else {
            child += w;
        }
        if (ex) {
            ex->term[f].level = l;
            ex->term[f].weight = w;
            ex->term[f].tf_adjust = adj;
        }
    }
    /* The cap bounds what a shared household says; a common household
     * (محمد, الأحمد) says less, so negative term-frequency adjustments count
     * after the cap. */
    double used = house > model->household_cap ? model->household_cap : house;
    if (house_tf < 0) {
        used += house_tf;
    }
    house += house_tf;
    bool guard = false;
    /* Siblings have similar names (محمد, محمود; نور, نورة) and other birth
     * dates; the same child with a misspelt name and a wrong date at once is
     * rare. Without an exact first name, a clearly different date halves
     * the household. */
    if (cmp->level[MF_FIRST] >= 0 && cmp->level[MF_FIRST] < MATCH_NAME_EXACT &&
        cmp->level[MF_DOB] >= 0 && cmp->level[MF_DOB] <= MATCH_DATE_NEAR && used > 0) {
        used *= MATCH_SIBLING_GUARD;
        guard = true;
    }
    /* Siblings and twins share every household field; only the child's own
     * name tells them apart. Without agreement on it, the household says
     * nothing about whether this is the same child. */
    if (cmp->level[MF_FIRST] == MATCH_NAME_DIFF && used > 0) {
        used = 0;
        guard = true;
    }
    /* Cousins share the grandfather and the family name: without the
     * father's name, those say nothing about the child either. */
    if (cmp->level[MF_FATHER] == MATCH_NAME_DIFF && used > 0) {
        used = 0;
        guard = true;
    }
    double score = child + used;
    if (ex) {
        ex->household = house;
        ex->household_used = used;
        ex->child = child;
        ex->guard = guard;
        ex->swapped = cmp->swapped;
        ex->score = score;
    }
    return score;
}

/* Scores a pair; see match.h. */
double match_score(const struct match_model *model, const struct match_set *set, size_t a,
                   size_t b, struct match_explain *ex)
{
    struct match_cmp cmp;
    match_compare(set, a, b, &cmp);
    return match_score_cmp(model, set, a, b, &cmp, ex);
}

/* Scores with an early exit; see match.h. */
double match_score_bounded(const struct match_model *model, const struct match_set *set,
                           size_t a, size_t b, double floor)
{
    struct match_cmp cmp;
    match_compare_child(set, a, b, &cmp);
    struct match_explain ex;
    match_score_cmp(model, set, a, b, &cmp, &ex);
    /* the household can add at most the cap, and nothing when the first
     * names differ */
    double bound = ex.child;
    if (cmp.level[MF_FIRST] != MATCH_NAME_DIFF) {
        bound += model->household_cap;
    }
    if (bound < floor) {
        return bound;
    }
    match_compare_rest(set, a, b, &cmp);
    return match_score_cmp(model, set, a, b, &cmp, NULL);
}

/* Appends field f of record i as readable text. */
static void add_value(const struct match_set *set, size_t i, int f, struct buf *out)
{
    char tmp[4 * MATCH_NAME_MAX + 8];
    const struct match_prec *r = &set->rec[i];
    if (f < MATCH_N_NAMES) {
        if (!r->name[f].n_norm) {
            buf_adds(out, "-");
            return;
        }
        match_norm_to_utf8(match_set_norm(set, i, f), r->name[f].n_norm, tmp, sizeof(tmp));
        buf_adds(out, tmp);
        buf_addf(out, " [%s]", match_set_skel(set, i, f));
    } else if (f == MF_SEX) {
        buf_adds(out, r->sex == 1 ? "M" : r->sex == 2 ? "F" : "-");
    } else if (r->dob.y) {
        buf_addf(out, "%04d-%02d-%02d", r->dob.y, r->dob.m, r->dob.d);
    } else {
        buf_adds(out, "-");
    }
}

/* Writes the explanation of a pair; see match.h. */
void match_explain_text(const struct match_model *model, const struct match_set *set, size_t a,
                        size_t b, struct buf *out)
{
    struct match_explain ex;
    double score = match_score(model, set, a, b, &ex);
    buf_addf(out, "records '%s' and '%s'\n", set->ids[a], set->ids[b]);
    if (ex.swapped) {
        buf_adds(out, "note: first and father's names are swapped in one record\n");
    }
    for (int f = 0; f < MF_COUNT; f++) {
        if (f == 0) {
            buf_adds(out, "child's own fields:\n");
        } else if (f == MF_FATHER) {
            buf_adds(out, "household fields:\n");
        } else if (f == MF_SEX) {
            buf_adds(out, "child's own fields (continued):\n");
        }
        buf_addf(out, "  %-17s ", match_field_names[f]);
        add_value(set, a, f, out);
        buf_adds(out, "  |  ");
        add_value(set, b, f, out);
        buf_addf(out, "\n  %-17s %-10s %+6.2f", "", level_name(f, ex.term[f].level),
                 ex.term[f].weight);
        if (ex.term[f].tf_adjust != 0) {
            buf_addf(out, " (term frequency %+.2f)", ex.term[f].tf_adjust);
        }
        buf_adds(out, "\n");
    }
    buf_addf(out, "household evidence %+.2f, counted %+.2f (cap %+.2f)%s\n", ex.household,
             ex.household_used, model->household_cap,
             ex.guard ? "; the first or the father's names differ, so the household is not "
                        "counted (siblings, twins and cousins share it)"
                      : "");
    buf_addf(out, "child evidence %+.2f\n", ex.child);
    buf_addf(out, "score %+.2f, threshold %+.2f: %s\n", score, model->threshold,
             score >= model->threshold ? "same child" : "different children");
}
