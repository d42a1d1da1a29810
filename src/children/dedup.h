/*
 * dedup.h: duplicate children inside one organization, found by the matching
 * engine (src/match): candidates of one record with scores and field-by-field
 * explanations, the organization's "possible duplicates" pairs, the
 * decisions ("same child" / "different children", kept in child_distinct and
 * used next time) and the merge of two records that keeps both histories.
 */
#ifndef SANAD_CHILDREN_DEDUP_H
#define SANAD_CHILDREN_DEDUP_H

#include <jansson.h>

#include "auth/auth.h"
#include "core/err.h"
#include "db/db.h"

/* Most neighbours of one record loaded from the database and scored. */
#define DEDUP_MAX_NEIGHBOURS 2000
/* Most children the organization-wide page runs the engine over. */
#define DEDUP_MAX_CHILDREN 200000

/*
 * Possible duplicates of one record in a's organization, scored by the
 * engine. The record is rec (a JSON object of field values, as a form or the
 * API sends them) or, when rec is NULL, the stored record child_id. The
 * neighbours are the children that share a normalized name or skeleton in at
 * least two of first, father, family and mother's name (first and father
 * also swapped), or one of them and a birth year within one; records merged
 * into another, child_id itself and pairs marked different from child_id are
 * left out. Each neighbour is scored against the record (prior model, see
 * docs/matching.md); those at or above threshold (NAN: the model's) are
 * returned best first as summaries (id, file_no, names, sex, birth_date,
 * status) with "score" and "explain" (see children_explain_json). Needs
 * children.read. Runs inside the caller's transaction. Returns a new array,
 * or NULL with e.
 */
json_t *children_engine_duplicates(struct db *db, const struct actor *a, json_t *rec,
                                   const char *child_id, double threshold, struct err *e);

/*
 * The organization's possible duplicate pairs: the engine (trained on the
 * organization's records) over every child not closed and not merged, pairs
 * at or above threshold (NAN: the model's) that nobody has judged different,
 * best first, one page of per_page (1..200) from page (from 1). Returns
 * {"pairs": [{"a": summary, "b": summary, "score", "explain"}], "total",
 * "page", "per_page", "records", "candidates", "threshold", "ms"} (new
 * reference) or NULL with e. Needs children.read; runs inside the caller's
 * transaction (a read one will do).
 */
json_t *children_duplicate_pairs(struct db *db, const struct actor *a, double threshold, int page,
                                 int per_page, struct err *e);

/*
 * A decision on a pair: "different" records the pair in child_distinct (via
 * children_mark_distinct), so neither the page nor the registration warning
 * offers it again; "same" only checks the pair (the merge follows on its own
 * page). Needs children.write; both children in a's organization and not
 * merged. Opens its own transaction when none is open. Returns 0 or -1 with e.
 */
int children_dedup_decide(struct db *db, const struct actor *a, const char *id_a,
                          const char *id_b, const char *decision, struct err *e);

/*
 * What the merge page shows: {"keep": record, "other": record, "fields":
 * [{"name", "keep", "other", "take_other"}]} for every field whose stored
 * values differ (health fields only for children.health; take_other is the
 * default choice: true when the kept value is empty), and the engine's
 * "score" and "explain" for the pair. Needs children.write. Runs in its own
 * read transaction. NULL with e (ERR_NOT_FOUND, ERR_CONFLICT "already_merged",
 * ERR_INVALID "same_child").
 */
json_t *children_merge_preview(struct db *db, const struct actor *a, const char *keep_id,
                               const char *other_id, struct err *e);

/*
 * Merges other_id into keep_id in one transaction: the fields named in take
 * (an array of field names, may be NULL or empty) get other's values (health
 * fields re-sealed for keep's record; children.health needed for them); a
 * guardian is taken when keep has none; other's documents and consents are
 * re-pointed to keep; other's status and guardian history are copied to keep
 * with a note (and stay on other too); keep's name keys are rebuilt and
 * other's removed; other is closed with reason "duplicate" and merged_into =
 * keep; a child_merges row lists what moved; both records get a child.merge
 * audit entry. Refused: the same record (ERR_INVALID "same_child"), a child
 * of another organization (ERR_NOT_FOUND), a record already merged
 * (ERR_CONFLICT "already_merged"), an unknown field (ERR_INVALID). Needs
 * children.write. On success *summary_out (when not NULL) gets {"kept",
 * "absorbed", "filled": [...], "documents", "consents", "status_history",
 * "guardian_history"} (new reference). Returns 0 or -1 with e.
 */
int children_merge(struct db *db, const struct actor *a, const char *keep_id,
                   const char *other_id, json_t *take, json_t **summary_out, struct err *e);

/* Registers GET /children/duplicates, POST /children/duplicates/decide,
 * GET and POST /children/{id}/merge, and the /api/v1 equivalents. Must be
 * registered before the registry's /children/{id} routes (the router takes
 * the first pattern that matches). */
void children_dedup_register(void);

#endif
