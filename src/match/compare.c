/*
 * compare.c: the comparison vector of a pair of prepared records: an
 * agreement level per field, with the first and father's names tried both
 * ways round (clerks swap them).
 */
#include <string.h>

#include "core/banned.h"
#include "match/match.h"

/* Compares two normalized names; see match.h. */
int match_compare_names(const char *na, size_t nna, const char *sa, size_t nsa, int scripta,
                        const char *nb, size_t nnb, const char *sb, size_t nsb, int scriptb)
{
    if (nna == 0 || nnb == 0) {
        return -1;
    }
    bool skel_eq = nsa > 0 && nsa == nsb && memcmp(sa, sb, nsa) == 0;
    if (scripta == scriptb) {
        if (nna == nnb && memcmp(na, nb, nna) == 0) {
            return MATCH_NAME_EXACT;
        }
        size_t minlen = nna < nnb ? nna : nnb;
        int d = match_damerau(na, nna, nb, nnb, 2);
        if (d <= 1 && minlen >= 3) {
            return MATCH_NAME_CLOSE;
        }
        /* Latin spellings of one name differ by more than typos (Mohammed,
         * Muhammad): there the skeleton decides. In Arabic script it would
         * also join different names (ثامر, سمير), so it is not used. */
        if (skel_eq && scripta == MATCH_SCRIPT_LATIN) {
            return nsa >= 3 ? MATCH_NAME_CLOSE : MATCH_NAME_FUZZY;
        }
        if (d <= 1 || (d <= 2 && minlen >= 5)) {
            return MATCH_NAME_FUZZY;
        }
        if (match_jaro_winkler(na, nna, nb, nnb) >= 0.88) {
            return MATCH_NAME_FUZZY;
        }
        return MATCH_NAME_DIFF;
    }
    /* across scripts only the skeletons can be compared; a short skeleton
     * (Mona and Amina are both "mn") is weak evidence */
    if (skel_eq) {
        return nsa >= 3 ? MATCH_NAME_CLOSE : MATCH_NAME_FUZZY;
    }
    if (nsa == 0 || nsb == 0) {
        return MATCH_NAME_DIFF;
    }
    size_t minlen = nsa < nsb ? nsa : nsb;
    int d = match_damerau(sa, nsa, sb, nsb, 1);
    if ((d <= 1 && minlen >= 3) || match_jaro_winkler(sa, nsa, sb, nsb) >= 0.86) {
        return MATCH_NAME_FUZZY;
    }
    return MATCH_NAME_DIFF;
}

/* Compares field fa of record a with field fb of record b. */
static int cmp_field(const struct match_set *set, size_t a, int fa, size_t b, int fb)
{
    const struct match_pname *pa = &set->rec[a].name[fa];
    const struct match_pname *pb = &set->rec[b].name[fb];
    if (!pa->n_norm || !pb->n_norm) {
        return -1;
    }
    const char *sa = set->pool[set->rec[a].chunk] + pa->off;
    const char *sb = set->pool[set->rec[b].chunk] + pb->off;
    return match_compare_names(sa, pa->n_norm, sa + pa->n_norm + 1, pa->n_skel, pa->script, sb,
                               pb->n_norm, sb + pb->n_norm + 1, pb->n_skel, pb->script);
}

/* Tries the first and father's names the other way round. */
static void try_swap(const struct match_set *set, size_t a, size_t b, struct match_cmp *out)
{
    out->swapped = false;
    int lf = out->level[MF_FIRST], lp = out->level[MF_FATHER];
    if (lf < MATCH_NAME_EXACT) { /* with equal first names a swap cannot help */
        int s1 = cmp_field(set, a, MF_FIRST, b, MF_FATHER);
        int s2 = cmp_field(set, a, MF_FATHER, b, MF_FIRST);
        int cur = lf < lp ? lf : lp;
        int sw = s1 < s2 ? s1 : s2;
        if (sw >= MATCH_NAME_CLOSE && sw > cur) {
            out->level[MF_FIRST] = (int8_t)s1;
            out->level[MF_FATHER] = (int8_t)s2;
            out->swapped = true;
        }
    }
}

/* Compares the child's own fields only; see match.h. */
void match_compare_child(const struct match_set *set, size_t a, size_t b, struct match_cmp *out)
{
    const struct match_prec *ra = &set->rec[a];
    const struct match_prec *rb = &set->rec[b];
    for (int f = 0; f < MF_COUNT; f++) {
        out->level[f] = -1;
    }
    out->level[MF_FIRST] = (int8_t)cmp_field(set, a, MF_FIRST, b, MF_FIRST);
    out->level[MF_FATHER] = -2; /* not compared yet */
    out->swapped = false;
    if (out->level[MF_FIRST] < MATCH_NAME_EXACT) {
        out->level[MF_FATHER] = (int8_t)cmp_field(set, a, MF_FATHER, b, MF_FATHER);
        try_swap(set, a, b, out);
    }
    out->cross_script = ra->name[MF_FIRST].script != rb->name[MF_FIRST].script;
    out->level[MF_SEX] = (int8_t)(ra->sex && rb->sex ? (ra->sex == rb->sex ? 1 : 0) : -1);
    out->level[MF_DOB] = (int8_t)match_date_compare(ra->dob, rb->dob);
}

/* Completes a comparison begun by match_compare_child; see match.h. */
void match_compare_rest(const struct match_set *set, size_t a, size_t b, struct match_cmp *out)
{
    for (int f = MF_GRANDFATHER; f < MATCH_N_NAMES; f++) {
        out->level[f] = (int8_t)cmp_field(set, a, f, b, f);
    }
    if (out->level[MF_FATHER] == -2) {
        /* the swap was not tried: with equal first names it cannot help */
        out->level[MF_FATHER] = (int8_t)cmp_field(set, a, MF_FATHER, b, MF_FATHER);
    }
}

/* Builds the comparison vector; see match.h. */
void match_compare(const struct match_set *set, size_t a, size_t b, struct match_cmp *out)
{
    const struct match_prec *ra = &set->rec[a];
    const struct match_prec *rb = &set->rec[b];
    for (int f = 0; f < MATCH_N_NAMES; f++) {
        out->level[f] = (int8_t)cmp_field(set, a, f, b, f);
    }
    try_swap(set, a, b, out);
    out->cross_script = ra->name[MF_FIRST].script != rb->name[MF_FIRST].script;
    out->level[MF_SEX] = (int8_t)(ra->sex && rb->sex ? (ra->sex == rb->sex ? 1 : 0) : -1);
    out->level[MF_DOB] = (int8_t)match_date_compare(ra->dob, rb->dob);
}
