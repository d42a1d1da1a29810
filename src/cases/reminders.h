/*
 * reminders.h: the daily e-mail digest. Each active user who works cases
 * and has an e-mail address gets, once per UTC day, one message listing
 * today's sessions, overdue follow-ups and (for those who approve) cases
 * waiting for approval, in their language. Children appear by first name and
 * case number only. The table reminders_sent (kind "digest", the user, the
 * day) is claimed before sending, so a restart or a second server never sends
 * twice; a failed send gives the claim back for the next round.
 */
#ifndef SANAD_CASES_REMINDERS_H
#define SANAD_CASES_REMINDERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "db/db.h"

/* What one round did. */
struct reminders_stats {
    int users;   /* users with an address who work cases */
    int sent;    /* digests sent (or, in a dry run, that would be sent) */
    int already; /* users whose digest for the day went out before */
    int empty;   /* users with nothing to be reminded of */
    int failed;  /* sends that failed (to be retried next round) */
};

/* Writes the digest of home (from home_query, team false) for a user named
 * name, in lang, into subject and body (both appended; UTF-8, body with LF
 * line ends). day is the UTC date shown. Returns false when there is nothing
 * to remind of (no sessions today, nothing overdue, nothing pending). */
bool reminders_digest(json_t *home, const char *lang, const char *name, const char *day,
                      struct buf *subject, struct buf *body);
/* Runs one round for the UTC day of now_ms, sending through g_config's SMTP
 * server (or, with dry_run, printing who would get what to stdout and
 * claiming nothing). Returns 0 (failed sends are counted in st, not fatal),
 * or -1 with e when the database fails or no SMTP server is configured. */
int reminders_run(struct db *db, int64_t now_ms, bool dry_run, struct reminders_stats *st,
                  struct err *e);
/* Starts the background thread of `sanad serve`: every
 * reminder_interval_seconds it runs a round once the UTC hour has reached
 * reminder_hour. Does nothing (and says so in the log) without smtp_url. */
void reminders_start(void);
/* `sanad remind [--dry-run]`: one round now, whatever the hour. Exit code 0,
 * 1 when a send or the database failed, 2 for bad usage. */
int cli_remind(int argc, char **argv);

#endif
