/*
 * dedup.c: the dedup driver: train, block, score on threads, cluster.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/xalloc.h"
#include "core/banned.h"
#include "match/match.h"

/* The prior share of matches (EM) at which the default threshold was tuned. */
#define MATCH_LAMBDA_REF 0.05

/* Seconds on the monotonic clock. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fills defaults; see match.h. */
void match_dedup_init(struct match_dedup *d)
{
    memset(d, 0, sizeof(*d));
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    d->n_threads = cpus > 0 ? (int)(cpus > 64 ? 64 : cpus) : 1;
    d->threshold = NAN;
    d->seed = 0x5a4ad5eedULL;
    match_model_init(&d->model);
}

/* Frees results; see match.h. */
void match_dedup_release(struct match_dedup *d)
{
    free(d->pairs);
    free(d->cluster);
    d->pairs = NULL;
    d->cluster = NULL;
    d->n_pairs = 0;
}

/* Per-thread list of pairs at or above the threshold. */
struct pair_list {
    struct match_pair *p; /* pairs (owned) */
    size_t n, cap;        /* used, allocated */
    char pad[40];         /* keeps threads' lists on separate cache lines */
};

/* Scoring context shared by the blocking threads. */
struct score_ctx {
    const struct match_model *model; /* the model */
    const struct match_set *set;     /* the records */
    double threshold;                /* keep pairs at or above */
    struct pair_list *lists;         /* one per thread */
};

/* Scores one candidate pair and keeps it when it matches. */
static void score_pair(void *arg, int thread, uint32_t a, uint32_t b)
{
    struct score_ctx *c = arg;
    double s = match_score_bounded(c->model, c->set, a, b, c->threshold);
    if (s < c->threshold) {
        return;
    }
    struct pair_list *l = &c->lists[thread];
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 1024;
        l->p = xrealloc(l->p, l->cap * sizeof(*l->p));
    }
    l->p[l->n].a = a;
    l->p[l->n].b = b;
    l->p[l->n].score = (float)s;
    l->n++;
}

/* Raises the threshold for low prior odds; see match.h. */
void match_model_default_threshold(struct match_model *model)
{
    if (model->em_used && model->lambda > 0 && model->lambda < MATCH_LAMBDA_REF) {
        /* Fewer duplicates among the candidates (a larger or cleaner set)
         * mean lower prior odds: raise the bar by the log-ratio of the
         * priors, as Fellegi-Sunter's decision rule asks. */
        double up = log2(MATCH_LAMBDA_REF / model->lambda);
        model->threshold += up > 6.0 ? 6.0 : up;
    }
}

/* Runs dedup; see match.h. */
int match_dedup_run(struct match_dedup *d, const struct match_set *set)
{
    double t0 = now();
    match_model_train(&d->model, set, d->seed);
    if (!isnan(d->threshold)) {
        d->model.threshold = d->threshold;
    } else {
        match_model_default_threshold(&d->model);
    }
    double threshold = d->model.threshold;
    double t1 = now();
    d->t_train = t1 - t0;
    if (d->progress) {
        d->progress(d->progress_ctx, "trained", 1, 1);
    }
    int nt = d->n_threads < 1 ? 1 : d->n_threads;
    struct score_ctx ctx;
    ctx.model = &d->model;
    ctx.set = set;
    ctx.threshold = threshold;
    ctx.lists = xcalloc((size_t)nt, sizeof(struct pair_list));
    d->n_candidates =
        match_block_run(set, nt, score_pair, &ctx, d->progress, d->progress_ctx);
    size_t total = 0;
    for (int t = 0; t < nt; t++) {
        total += ctx.lists[t].n;
    }
    d->pairs = xcalloc(total ? total : 1, sizeof(*d->pairs));
    d->n_pairs = 0;
    for (int t = 0; t < nt; t++) {
        if (ctx.lists[t].n) {
            memcpy(d->pairs + d->n_pairs, ctx.lists[t].p, ctx.lists[t].n * sizeof(*d->pairs));
        }
        d->n_pairs += ctx.lists[t].n;
        free(ctx.lists[t].p);
    }
    free(ctx.lists);
    double t2 = now();
    d->t_block = t2 - t1;
    d->cluster = xcalloc(set->n ? set->n : 1, sizeof(uint32_t));
    match_cluster(&d->model, set, d->pairs, d->n_pairs, threshold, threshold - 12.0,
                  d->cluster);
    d->t_cluster = now() - t2;
    return 0;
}
