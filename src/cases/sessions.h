/*
 * sessions.h: care sessions, in person and remote. A session is individual
 * (one case, that case's child) or a group (several children of the
 * organization, optionally tied to a case), in person or by phone, video or
 * chat, scheduled for one worker. A video session gets a meeting link on the
 * organization's meeting service (case_settings.meeting_base_url) with an
 * unguessable room name (160 random bits). Its outcome is held (attendance
 * per child, duration, topics), missed (with a reason) or cancelled.
 *
 * Times are stored as ISO 8601 UTC ("2025-01-31T08:30:00.000Z"). Forms take
 * a local date, time and duration with the organization's UTC offset, which
 * the form carries (field "utc_offset", default SESSIONS_DEFAULT_OFFSET_MIN,
 * UTC+3); the API takes UTC, or any explicit offset.
 *
 * Session notes are sealed at rest (keys_seal, record = session id, field
 * "notes"); only psych.notes reads or writes them, and every read is audited
 * as session.notes_view. Every change is audited in its transaction.
 *
 * Permissions: cases.read to see sessions, cases.write to schedule and
 * record them, psych.notes for the notes.
 */
#ifndef SANAD_CASES_SESSIONS_H
#define SANAD_CASES_SESSIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/auth.h"
#include "core/buf.h"
#include "core/err.h"
#include "db/db.h"

#define SESSION_KINDS " individual group "
#define SESSION_MODES " in_person phone video chat "
#define SESSION_STATUSES " scheduled held missed cancelled "
/* Why a session was missed; the dashboards count no_device and no_connection. */
#define SESSION_MISSED_REASONS                                                                    \
    " no_device no_connection no_electricity child_unavailable worker_unavailable other "
/* The longest session, minutes. */
#define SESSION_MAX_MINUTES 480
/* Most children in a group session. */
#define SESSION_MAX_CHILDREN 50
/* The offset from UTC that forms assume when none is given (UTC+3), minutes. */
#define SESSIONS_DEFAULT_OFFSET_MIN 180
/* The feed covers sessions from this many days back to FEED_DAYS_AHEAD ahead. */
#define SESSIONS_FEED_DAYS_BACK 30
#define SESSIONS_FEED_DAYS_AHEAD 180

/* Parses an ISO 8601 date-time with "Z" or a "+HH:MM"/"-HH:MM" offset
 * ("2025-01-31T08:30Z", seconds and milliseconds optional) into ms since the
 * epoch. Returns 0, or -1 when malformed or impossible. */
int sessions_parse_time(const char *s, int64_t *ms_out);
/* Parses a form's local date ("YYYY-MM-DD") and time ("HH:MM") at offset_min
 * minutes east of UTC into ms since the epoch. Returns 0 or -1. */
int sessions_parse_local(const char *date, const char *hm, int offset_min, int64_t *ms_out);
/* Parses a UTC offset "+03:00", "-05:30", "+3" or minutes "180" (-720..840).
 * Returns 0 or -1. */
int sessions_parse_offset(const char *s, int *min_out);
/* Parses an ISO week "YYYY-Www" into the ms of its Monday 00:00 UTC.
 * Returns 0 or -1. */
int sessions_parse_week(const char *s, int64_t *monday_ms);
/* Writes the ISO week ("2025-W05") that day (days since the epoch) is in. */
void sessions_format_week(int64_t day, char *out, size_t n);

/* Schedules a session. input: {"kind": SESSION_KINDS, "mode": SESSION_MODES,
 * "case_id": id (required for individual), "child_ids": [ids] (group: at
 * least two, each a child of a's organization; the case's child is added),
 * "worker_id": a user of a's organization (default the actor),
 * "starts_at", "ends_at": ISO date-times (start not in the past, end after
 * start, at most SESSION_MAX_MINUTES), "topics": text, "notes": text
 * (psych.notes only)}. Refuses with the field named; a clash with another
 * non-cancelled session of the worker is ERR_CONFLICT "overlap" naming its
 * time. Writes the new id into id_out. */
int session_create(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                   struct err *e);
/* The session as JSON: id, case_id, case_no, child (individual), children
 * [{id, file_no, name, attended}], worker {id, name}, kind, mode, status,
 * starts_at, ends_at, missed_reason, duration_min, topics, meeting_url
 * (video), created_at, updated_at, and "notes" only for psych.notes (that
 * read is audited as session.notes_view; "notes_hidden": true otherwise).
 * NULL with ERR_NOT_FOUND for another organization's session. */
json_t *session_get(struct db *db, const struct actor *a, const char *id, struct err *e);
/* Filters for session_list; NULL members do not filter. */
struct session_filter {
    const char *from;      /* sessions ending after this ISO time */
    const char *to;        /* sessions starting before this ISO time */
    const char *worker_id; /* of this worker */
    const char *case_id;   /* of this case */
    int limit;             /* 1..1000; 0 means 500 */
};
/* Sessions of a's organization, soonest first, without notes:
 * {"items": [...]} as session_get's fields (children without attendance). */
json_t *session_list(struct db *db, const struct actor *a, const struct session_filter *f,
                     struct err *e);
/* Changes a scheduled session: any of "mode", "worker_id", "starts_at",
 * "ends_at", "topics", "child_ids" (group), and "notes" (psych.notes; allowed
 * in any status). The same checks as session_create. */
int session_update(struct db *db, const struct actor *a, const char *id, json_t *input,
                   struct err *e);
/* Records the outcome. input: {"status": held | missed | cancelled,
 * "attendance": {child_id: bool} for held (every child of the session named,
 * at least one present), "duration_min": 1..480 (held; default the scheduled
 * length), "topics": text, "missed_reason": SESSION_MISSED_REASONS (missed),
 * "notes": text (psych.notes)}. Held and missed are refused before the
 * session starts; a cancelled session takes no outcome. */
int session_outcome(struct db *db, const struct actor *a, const char *id, json_t *input,
                    struct err *e);
/* Cancels a scheduled session (reason optional, kept in the audit log). */
int session_cancel(struct db *db, const struct actor *a, const char *id, const char *reason,
                   struct err *e);

/* The other session that a session of worker_id from starts_at to ends_at
 * (ISO, as stored) would clash with, ignoring exclude_id (may be NULL):
 * returns 1 with its id and times written (40 and 32 bytes), 0 when none,
 * -1 on error. Inside the caller's transaction. */
int session_overlap_find(struct db *db, const char *org_id, const char *worker_id,
                         const char *starts_at, const char *ends_at, const char *exclude_id,
                         char other_id[40], char other_start[32], char other_end[32],
                         struct err *e);

/* Creates (or replaces, which revokes the old) the actor's private calendar
 * feed. The token is written into token_out (shown once) and only its hash
 * is stored. Audited as calendar.feed_create. */
int calendar_feed_create(struct db *db, const struct actor *a, char token_out[64],
                         struct err *e);
/* Revokes the actor's feed; 0 also when there was none. Audited. */
int calendar_feed_revoke(struct db *db, const struct actor *a, struct err *e);
/* 1 when the actor has a feed (created_at written, 32 bytes), 0 when not, -1. */
int calendar_feed_status(struct db *db, const struct actor *a, char created_at[32],
                         struct err *e);
/* Appends the iCalendar text of the feed whose token is given: the owner's
 * sessions from SESSIONS_FEED_DAYS_BACK days ago to SESSIONS_FEED_DAYS_AHEAD
 * ahead, without child names or notes (summary: "Session", mode, case number;
 * the meeting link for video). Returns 1, 0 for an unknown or revoked token
 * (or an inactive owner), -1 on error. Opens its own read transaction. */
int calendar_feed_render(struct db *db, const char *token, struct buf *out, struct err *e);

/* Adds the routes of sessions_web.c: /api/v1/sessions..., /api/v1/calendar/feed...,
 * the pages /calendar, /sessions/new, /sessions/{id} and their forms, and the
 * public feed GET /calendar/feed/{token}.ics. */
void sessions_register(void);

#endif
