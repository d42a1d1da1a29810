/*
 * children.h: the registry of children, their households, guardians,
 * consent and status history.
 *
 * One table of fields (children_fields) drives validation, storage, the JSON
 * API, the forms, CSV import and export, and who may see what: a field is
 * described once. Services open their own transactions (the *_tx variants
 * run inside the caller's write transaction, for imports), check the actor's
 * permissions and organization, and audit every write and every view of a
 * child's record in the same transaction.
 */
#ifndef SANAD_CHILDREN_CHILDREN_H
#define SANAD_CHILDREN_CHILDREN_H

#include <jansson.h>
#include <stdbool.h>

#include "auth/auth.h"
#include "core/err.h"
#include "db/db.h"

/* How a field's text is checked and stored. */
enum field_type {
    FIELD_NAME,   /* a name in Arabic script (or Latin for *_latin fields): letters, spaces, ' - */
    FIELD_TEXT,   /* free text on one line */
    FIELD_NOTE,   /* free text, several lines */
    FIELD_DATE,   /* YYYY-MM-DD, a real date, not in the future */
    FIELD_BOOL,   /* true/false ("1"/"0", "on" from forms) */
    FIELD_ENUM,   /* one of the listed values */
    FIELD_LIST,   /* a comma-separated subset of the listed values */
    FIELD_COORD,  /* a decimal latitude or longitude */
    FIELD_ID      /* the id of another record (household) */
};

/* One field of a child's record. */
struct child_field {
    const char *name;       /* JSON member, form field, CSV column and table column */
    enum field_type type;   /* how it is checked */
    unsigned max_chars;     /* longest text accepted, in characters */
    bool required;          /* must be present and not blank */
    bool latin;             /* a name written in Latin letters */
    bool sealed;            /* sensitive: encrypted at rest, needs children.health to see */
    const char *values;     /* enum/list values, space-separated (" a b c ") */
    const char *section;    /* the profile tab it belongs to (overview, family, ...) */
};

/* The fields, in display order; n_out gets their number. */
const struct child_field *children_fields(int *n_out);
/* The field named name, or NULL. */
const struct child_field *children_field(const char *name);

/* Statuses a record moves through. */
#define CHILD_STATUSES " registered active graduated transferred reunified closed "
/* Reasons a record is closed. */
#define CHILD_CLOSE_REASONS " moved_away deceased no_longer_eligible duplicate other "
/* A guardian's relation to the child. */
#define GUARDIAN_RELATIONS                                                                        \
    " mother father grandmother grandfather aunt uncle sibling foster_parent relative other "
/* Consent scopes. */
#define CONSENT_SCOPES " services share_org dedup_across sponsor_media public_media "

/* Validates input (a JSON object of field values as strings, booleans or
 * numbers; unknown members refused) for a new record (creating) or a change.
 * Appends one {"field", "code", "message"} object per problem to errors (so a
 * form or an API can show every problem at once). Returns the number of
 * problems. Names are normalized to NFC; nothing is truncated. */
int children_validate(json_t *input, bool creating, int age_limit, json_t *errors);

/* Age in whole years at today's date (UTC) of a YYYY-MM-DD birth date: 0 for a
 * date not yet reached, -1 when birth is NULL or not a date. */
int child_age(const char *birth);

/* Creates a child in a's organization from input. On success writes the new
 * id and file number; on invalid input returns -1 with e (ERR_INVALID,
 * "validation_failed") and *errors_out (new reference) listing every problem.
 * The _tx variant runs inside the caller's open write transaction. */
int child_create(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                 char file_no_out[64], json_t **errors_out, struct err *e);
int child_create_tx(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                    char file_no_out[64], json_t **errors_out, struct err *e);
/* Changes the fields present in input (null clears an optional field). When
 * version > 0 and the record has moved on, fails with ERR_CONFLICT
 * "version_conflict" (someone else saved first). */
int child_update(struct db *db, const struct actor *a, const char *id, json_t *input,
                 int64_t version, json_t **errors_out, struct err *e);
/* The record as JSON with the fields a may see (health ones only with
 * children.health), plus id, file_no, status, age, version, household and
 * guardian summaries. Audits the view (action child.view) in a write
 * transaction. NULL with ERR_NOT_FOUND for another organization's child. */
json_t *child_get(struct db *db, const struct actor *a, const char *id, struct err *e);
/* Moves a record to a new status with a reason; keeps who, when and why. */
int child_set_status(struct db *db, const struct actor *a, const char *id, const char *status,
                     const char *reason, struct err *e);
/* The status and guardian history of a child, newest first. */
json_t *child_history(struct db *db, const struct actor *a, const char *id, struct err *e);

/* Households and guardians. */
int household_create(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                     struct err *e);
json_t *household_get(struct db *db, const struct actor *a, const char *id, struct err *e);
int guardian_create(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                    struct err *e);
/* Puts a child in the care of a guardian (and their household), keeping the
 * history of earlier guardians. */
int child_set_guardian(struct db *db, const struct actor *a, const char *child_id,
                       const char *guardian_id, const char *reason, struct err *e);

/* Consent. scope is one of CONSENT_SCOPES; target_org is needed for share_org. */
int consent_record(struct db *db, const struct actor *a, const char *child_id, json_t *input,
                   char id_out[40], struct err *e);
int consent_withdraw(struct db *db, const struct actor *a, const char *consent_id,
                     struct err *e);
json_t *consent_list(struct db *db, const struct actor *a, const char *child_id, struct err *e);
/* True when the child has a live (not withdrawn) consent for scope (and
 * target_org when given). Read inside the caller's transaction. */
bool consent_active(struct db *db, const char *child_id, const char *scope,
                    const char *target_org);

/* The organization's age limit (18 unless set). */
int children_age_limit(struct db *db, const char *org_id);
/* Sets the organization's file-number pattern ({ORG}, {YYYY} and {NNN...}
 * for the counter; NULL keeps it) and age limit (0 keeps it; 1..25). Needs
 * users.manage, or the command line. */
int children_settings_set(struct db *db, const struct actor *a, const char *file_pattern,
                          int age_limit, struct err *e);
/* Moves every registered or active child of a's organization (every
 * organization for the command line with an empty org) who has reached the
 * age limit to "graduated", with the reason "age_limit", keeping the
 * history. Returns how many, or -1. */
int children_graduate_due(struct db *db, const struct actor *a, struct err *e);

#endif
