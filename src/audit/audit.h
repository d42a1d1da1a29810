/*
 * audit.h: the append-only, hash-chained audit log.
 *
 * Every write, every login (good or bad), logout and permission denial, and
 * every read of a child's sensitive record is appended IN THE SAME
 * TRANSACTION as the action: if the audit write fails, the action fails.
 * Entries say who, which organization, what, which record, when and the
 * outcome; never the sensitive data itself.
 */
#ifndef SANAD_AUDIT_AUDIT_H
#define SANAD_AUDIT_AUDIT_H

#include <stdio.h>

#include "core/err.h"
#include "db/db.h"

struct audit_event {
    const char *org_id;     /* the organization's id; NULL or "" for none */
    const char *actor_id;   /* the user's id; NULL for the system or the CLI */
    const char *actor_name; /* "slug/username", "cli" or "system" */
    const char *action;     /* dotted verb, e.g. "auth.login", "user.create" */
    const char *entity;     /* kind of record, e.g. "user"; NULL for none */
    const char *entity_id;  /* the record's id; NULL for none */
    const char *outcome;    /* "ok", "failed" or "denied" */
    const char *remote;     /* client address, NULL from the CLI */
    const char *request_id; /* the request's id, NULL from the CLI */
    const char *detail;     /* short non-sensitive note, e.g. "role=admin"; may be NULL */
};

/* Appends ev to its organization's chain. Must run inside a write
 * transaction on db. Returns 0, or -1 with e filled (the caller then rolls
 * back the whole action). */
int audit_append(struct db *db, const struct audit_event *ev, struct err *e);

/* Walks every chain and checks each entry's hash, its link to the previous
 * entry, the sequence numbers and the chain heads. Prints a line per problem
 * (the first one per chain) to out. Returns 0 when intact, 1 when a change,
 * removal or reordering was found, -1 on a database error. */
int audit_verify(struct db *db, FILE *out, struct err *e);

#endif
