/*
 * gen.h: a generator of synthetic registration records with known truth, for
 * tests, tuning and benchmarks. Only made-up data: families (with siblings,
 * twins and cousins) drawn from name lists, each child registered one or
 * more times with the variations clerks make (spelling, compounds, article,
 * typos, diacritics, missing fields, estimated or wrong dates, swapped
 * names, wrong sex, Latin script).
 */
#ifndef SANAD_MATCH_GEN_H
#define SANAD_MATCH_GEN_H

#include <stdint.h>
#include <stdio.h>

/* Probabilities of each variation, per record (or per field where noted). */
struct match_gen_profile {
    const char *name;     /* profile name */
    double p_latin;       /* whole record in Latin letters */
    double p_spell;       /* per name: hamza / ta marbuta / alef maqsura spelling */
    double p_compound;    /* per compound name: joined or split differently */
    double p_article;     /* per family/place name: article dropped or added */
    double p_typo;        /* per name: a typo (sound-alike, dropped, doubled, swapped letter) */
    double p_mark;        /* per name: stray diacritics, tatweel or spaces */
    double p_miss_gf;     /* grandfather missing */
    double p_miss_mother; /* mother missing */
    double p_miss_family; /* family name missing */
    double p_miss_place;  /* birth place missing */
    double p_miss_dob;    /* birth date missing */
    double p_mother_fam;  /* mother written with her family name */
    double p_dob_est;     /* birth date only as a year (1 January) */
    double p_dob_swap;    /* day and month swapped */
    double p_dob_year;    /* year off by one */
    double p_dob_days;    /* a few days off */
    double p_swap;        /* first and father's names swapped */
    double p_sex;         /* wrong sex */
    double p_twins;       /* per family: a pair of twins */
    double p_cousins;     /* per family: a cousin family (same grandfather and family name) */
    double mean_children; /* mean children per family */
    double dup_rate;      /* mean extra records per child */
};

/* Looks up a built-in profile ("dev", "hard", "clean", "latin"); NULL if unknown. */
const struct match_gen_profile *match_gen_profile_find(const char *name);

/*
 * Writes n_records synthetic records to data (CSV with the header of the
 * dedup contract) and the truth (record_id,entity_id,family_id,twin) to
 * truth (may be NULL). Deterministic for a given seed and profile. Returns
 * 0, or -1 on a write error.
 */
int match_gen_write(const struct match_gen_profile *p, size_t n_records, uint64_t seed,
                    FILE *data, FILE *truth);

#endif
