/*
 * instruments.h: standardized questionnaires as data. Each instrument is a
 * JSON file (assets/instruments/NAME.json, embedded, plus an organization's own
 * files in DATA/instruments/NAME.json) giving its items in Arabic and English,
 * the response scale, how it is scored (a sum, an optional multiplier,
 * reverse-scored items, subscales), severity bands with cut-offs, the ages it
 * is meant for, what to do with unanswered items, and its source and terms
 * of use. The file format is described at the top of instruments.c.
 *
 * Scores are computed by the server. Answers are sealed at rest (only
 * psych.notes may read them, and each read is audited); scores are stored in
 * the clear so that they can be charted over time. An answer on an item
 * flagged critical raises the case's urgent flag in the same transaction.
 */
#ifndef SANAD_CASES_INSTRUMENTS_H
#define SANAD_CASES_INSTRUMENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "auth/auth.h"
#include "core/err.h"
#include "db/db.h"

/* Longest instrument or item id, in bytes. */
#define INSTRUMENT_ID_MAX 32

/* One point of the response scale. */
struct instrument_choice {
    int value;            /* the number scored */
    const char *label_ar; /* its label in Arabic */
    const char *label_en; /* its label in English */
};

/* One question. */
struct instrument_item {
    const char *id;      /* unique within the instrument, [A-Za-z0-9_.-] */
    const char *text_ar; /* the question in Arabic */
    const char *text_en; /* the question in English */
    bool reverse;        /* scored as (scale max + scale min - value) */
    int critical[16];    /* answer values that make this item critical */
    size_t n_critical;   /* how many of critical are used (0: never critical) */
};

/* A severity band of a score: [min, max], inclusive. */
struct instrument_band {
    const char *id;       /* e.g. "positive", used in stored results */
    int min;              /* lowest score in the band */
    int max;              /* highest score in the band */
    const char *label_ar; /* its name in Arabic */
    const char *label_en; /* its name in English */
    bool concern;         /* a band that calls for attention (drawn as a warning) */
};

/* A score: the total or a subscale. */
struct instrument_scale {
    const char *id;                 /* "total" or the subscale's id */
    const char *name_ar;            /* its name in Arabic */
    const char *name_en;            /* its name in English */
    size_t *items;                  /* indexes into instrument.items of the items summed */
    size_t n_items;                 /* their number */
    int min;                        /* lowest possible score (after the multiplier) */
    int max;                        /* highest possible score */
    struct instrument_band *bands;  /* bands covering min..max without gaps, ascending */
    size_t n_bands;                 /* their number (0: no bands) */
    int cutoffs[4];                 /* cut-off values drawn on the chart */
    size_t n_cutoffs;               /* how many are used */
};

/* What to do with items left unanswered (null answers). */
enum instrument_missing {
    MISSING_NONE,    /* every item must be answered */
    MISSING_ZERO,    /* unanswered items count as 0, up to max_missing of them */
    MISSING_PRORATE  /* the sum is scaled up to all items, up to max_missing unanswered */
};

/* A loaded instrument. Every string points into doc. */
struct instrument {
    const char *id;             /* e.g. "psc17" */
    const char *version;        /* the file's version of the instrument */
    const char *name_ar;        /* full name in Arabic */
    const char *name_en;        /* full name in English */
    const char *respondent;     /* "parent", "self" or "clinician" */
    int age_min;                /* youngest age meant for, in whole years */
    int age_max;                /* oldest age meant for; -1 for no upper limit */
    struct instrument_choice *scale; /* the response scale, ascending values */
    size_t n_scale;             /* its number of points */
    struct instrument_item *items; /* the items in the order asked */
    size_t n_items;             /* their number */
    int multiplier;             /* the sum is multiplied by this (WHO-5: 4) */
    enum instrument_missing missing; /* the rule for unanswered items */
    int max_missing;            /* most items that may be unanswered */
    struct instrument_scale total;   /* the total score */
    struct instrument_scale *subscales; /* subscales, possibly none */
    size_t n_subscales;         /* their number */
    const char *citation;       /* the source to cite */
    const char *url;            /* where the instrument and its terms are published; may be NULL */
    const char *terms;          /* the terms of use in short */
    const char *file;           /* where it was loaded from ("assets/instruments/x.json") */
    json_t *doc;                /* the parsed file, owning every string above */
};

/* Parses and checks one instrument file (text of n bytes, named file in
 * messages). Returns a new instrument (free with instrument_free), or NULL
 * with e (ERR_INVALID "invalid_instrument") naming the file, the line and the
 * field or item at fault. */
struct instrument *instrument_parse(const char *file, const char *text, size_t n, struct err *e);
/* Frees an instrument made by instrument_parse. NULL is a no-op. */
void instrument_free(struct instrument *in);

/* Loads the embedded instruments, then every .json file in extra_dir (may be
 * NULL, or a folder that does not exist). Refuses a malformed file or a
 * duplicate id, naming the file and line. Call once at start-up, before
 * serving; replaces any instruments loaded before. Returns 0 or -1. */
int instruments_init(const char *extra_dir, struct err *e);
/* Frees every loaded instrument. */
void instruments_shutdown(void);
/* The loaded instrument with id, or NULL. */
const struct instrument *instrument_find(const char *id);
/* The number of loaded instruments, and the i-th (sorted by id). */
size_t instruments_count(void);
const struct instrument *instrument_at(size_t i);
/* The instrument's name in lang ("ar" or "en"). */
const char *instrument_name(const struct instrument *in, const char *lang);
/* True when age (whole years) is within the instrument's range. */
bool instrument_age_ok(const struct instrument *in, int age);
/* The instrument as JSON for the API (everything but the scoring internals
 * in their parsed form: the file's own document, plus "file"). New reference. */
json_t *instrument_json(const struct instrument *in);

/* Scores answers ({item_id: value or null}: null is an item skipped; every
 * item must be present). *result (new reference) gets {"instrument",
 * "version", "total", "band", "raw", "answered", "missing", "prorated",
 * "valid", "subscales": {id: {"score", "band"}}, "critical": [item ids]};
 * total, band and subscale scores are null when too many items are missing
 * (valid false). Refuses (ERR_INVALID, field "answers.<item>") an unknown
 * item ("unknown_item"), an absent item ("missing_item"), a value that is not
 * on the scale ("not_on_scale"); field "answers" when answers is not an
 * object. Returns 0 or -1. */
int instrument_score(const struct instrument *in, json_t *answers, json_t **result,
                     struct err *e);

/* Records a response on case case_id of a's organization: needs cases.write,
 * an open case, and a child whose age is within the instrument's range
 * (ERR_INVALID "age_out_of_range" otherwise, unless age_override_reason is a
 * non-blank reason, kept with the scores). Refuses answers that cannot be
 * scored (as instrument_score, and "too_many_missing"). Answers are sealed;
 * scores are stored in the clear. A critical answer raises the case's urgent
 * flag ("instrument:<id>:<item>") in the same transaction. Audited as
 * instrument.record. Writes the new id; *result (may be NULL) gets the scores
 * as instrument_score gives them, with "id". Returns 0 or -1. */
int instrument_record(struct db *db, const struct actor *a, const char *case_id,
                      const char *instrument_id, json_t *answers,
                      const char *age_override_reason, char id_out[40], json_t **result,
                      struct err *e);
/* One response with its answers opened: {"id", "case_id", "child_id",
 * "instrument", "answers", "total", "scores", "band", "critical",
 * "administered_by", "administered_at"}. Needs psych.notes; audited as
 * instrument.view. NULL with ERR_NOT_FOUND for another organization's. */
json_t *instrument_response_get(struct db *db, const struct actor *a, const char *id,
                                struct err *e);
/* The child's scores over time, oldest first, without answers: an array of
 * {"id", "instrument", "total", "band", "scores", "critical",
 * "administered_at"}. instrument_id NULL gives every instrument. Needs
 * cases.read; runs inside the caller's transaction when one is open. */
json_t *instrument_history(struct db *db, const struct actor *a, const char *child_id,
                           const char *instrument_id, struct err *e);

struct http_req;
/* The child's scores drawn over time, one chart per instrument with scored
 * results, as HTML (figures with captions, every text escaped) for a page in
 * r's language, allocated in r's arena; "" when there are none. For
 * {{{...}}} in a template (the child's page). Runs inside the caller's
 * transaction if one is open. NULL with e on failure (cases.read needed). */
const char *instruments_charts_html(struct http_req *r, struct db *db, const char *child_id,
                                    struct err *e);

/* Registers the instrument pages and /api/v1 routes (instruments_web.c). */
void instruments_register(void);

#endif
