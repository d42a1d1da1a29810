/*
 * search.h: finding children by name as people really write names (hamza
 * forms, ta marbuta, alef maqsura, diacritics, joined or split compounds, the
 * article, Persian letter forms, Arabic-Indic digits, Latin spellings), by
 * file number, identity number or guardian's phone; with filters, sorting and
 * pages; and the possible duplicates shown before a new child is saved.
 * Name normalization is src/match's, shared with the matching engine.
 */
#ifndef SANAD_CHILDREN_SEARCH_H
#define SANAD_CHILDREN_SEARCH_H

#include <jansson.h>

#include "auth/auth.h"
#include "core/err.h"
#include "db/db.h"

/* A search as the list page and GET /api/v1/children ask for it. */
struct child_query {
    const char *q;            /* names, a file number, an identity number or a phone; may be NULL */
    const char *status;       /* one status, NULL for any */
    const char *sex;          /* "M", "F" or NULL */
    int age_min;              /* years, -1 for no bound */
    int age_max;              /* years, -1 for no bound */
    const char *governorate;  /* exact, NULL for any */
    const char *need;         /* one of the needs values, NULL for any */
    int sponsored;            /* 1 sponsored, 0 not, -1 any */
    const char *sort;         /* "name", "-name", "file_no", "-file_no", "age", "-age",
                                 "created", "-created"; NULL for relevance then name */
    int page;                 /* from 1 */
    int per_page;             /* 1..200 */
};

/* Replaces the name keys of a child from the name fields of rec (a JSON
 * object holding first_name, father_name, grandfather_name, family_name,
 * mother_name and the *_latin fields). Runs inside the caller's write
 * transaction. Returns 0 or -1. */
int children_index_names(struct db *db, const char *org_id, const char *child_id, json_t *rec,
                         struct err *e);
/* Runs q over a's organization. Returns {"items": [summary...], "total": N,
 * "total_capped": B, "page": P, "per_page": K} (new reference) or NULL with
 * e. Matches are counted up to 1,000: when more match, "total_capped" is true
 * and "total" is a lower bound (1,000, or more when the pages asked for went
 * further: a page that is followed by more matches reports at least one more
 * than it reaches), shown as "1000+"; the pages then follow the requested
 * order (by name for relevance) over all matches. A summary has id,
 * file_no, first_name, father_name, grandfather_name, family_name, sex,
 * birth_date, age, status, governorate, sponsored. Audits nothing (no
 * sensitive field is returned). Runs inside the caller's read transaction. */
json_t *children_search(struct db *db, const struct actor *a, const struct child_query *q,
                        struct err *e);
/* Children of a's organization that may be the child described by rec (same
 * normalized name chain, birth year within one), excluding pairs marked as
 * different and exclude_id. Returns an array of summaries with a "reasons"
 * list, or NULL with e. Runs inside the caller's transaction. */
json_t *children_duplicates(struct db *db, const struct actor *a, json_t *rec,
                            const char *exclude_id, struct err *e);
/* Records that two children were judged different (the pair is not offered again). */
int children_mark_distinct(struct db *db, const struct actor *a, const char *id_a,
                           const char *id_b, struct err *e);

#endif
