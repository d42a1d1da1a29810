/*
 * cluster.c: one cluster per child from scored pairs, resisting chains.
 *
 * Plain connected components glue different children together through one
 * weak link each (A~B, B~C, but A and C are siblings). Here clusters are
 * merged best pair first, and a merge is refused when any pair across the two
 * clusters scores below `cannot_link` (for example the first names differ)
 * or when the average across them falls below the threshold.
 */
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "core/banned.h"
#include "match/match.h"

/* Clusters never grow beyond this many records. */
#define CLUSTER_MAX 64

/* Orders pairs by score, best first, then by indexes for determinism. */
static int pair_cmp(const void *x, const void *y)
{
    const struct match_pair *a = x, *b = y;
    if (a->score != b->score) {
        return a->score > b->score ? -1 : 1;
    }
    if (a->a != b->a) {
        return a->a < b->a ? -1 : 1;
    }
    return a->b < b->b ? -1 : (a->b > b->b);
}

/* Finds the root of x with path halving. */
static uint32_t find(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

/* Clusters records; see match.h. */
void match_cluster(const struct match_model *model, const struct match_set *set,
                   struct match_pair *pairs, size_t n_pairs, double threshold,
                   double cannot_link, uint32_t *cluster)
{
    size_t n = set->n;
    uint32_t *parent = xcalloc(n ? n : 1, sizeof(uint32_t));
    uint32_t *size = xcalloc(n ? n : 1, sizeof(uint32_t));
    uint32_t *next = xcalloc(n ? n : 1, sizeof(uint32_t)); /* member ring */
    for (size_t i = 0; i < n; i++) {
        parent[i] = (uint32_t)i;
        size[i] = 1;
        next[i] = (uint32_t)i;
    }
    qsort(pairs, n_pairs, sizeof(*pairs), pair_cmp);
    for (size_t p = 0; p < n_pairs; p++) {
        if (pairs[p].score < threshold) {
            break;
        }
        uint32_t ra = find(parent, pairs[p].a), rb = find(parent, pairs[p].b);
        if (ra == rb) {
            continue;
        }
        if (size[ra] + size[rb] > CLUSTER_MAX) {
            continue;
        }
        bool ok = true;
        if (size[ra] > 1 || size[rb] > 1) {
            double sum = 0;
            size_t cnt = 0;
            uint32_t x = ra;
            do {
                uint32_t y = rb;
                do {
                    double s = match_score(model, set, x < y ? x : y, x < y ? y : x, NULL);
                    if (s < cannot_link) {
                        ok = false;
                    }
                    sum += s;
                    cnt++;
                    y = next[y];
                } while (ok && y != rb);
                x = next[x];
            } while (ok && x != ra);
            if (ok && sum / (double)cnt < threshold) {
                ok = false;
            }
        }
        if (!ok) {
            continue;
        }
        /* union: the smaller index becomes the root; splice the rings */
        uint32_t root = ra < rb ? ra : rb, other = ra < rb ? rb : ra;
        parent[other] = root;
        size[root] += size[other];
        uint32_t t = next[root];
        next[root] = next[other];
        next[other] = t;
    }
    for (size_t i = 0; i < n; i++) {
        cluster[i] = find(parent, (uint32_t)i);
    }
    free(parent);
    free(size);
    free(next);
}
