/*
 * ics.h: an iCalendar (RFC 5545) writer for the workers' private feeds.
 * Output has CRLF line endings, content lines folded at 75 octets without
 * ever splitting a UTF-8 character, and TEXT values escaped (\\ \; \, \n).
 * It writes only what the feed needs: one VCALENDAR of VEVENTs in UTC.
 */
#ifndef SANAD_CASES_ICS_H
#define SANAD_CASES_ICS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"

/* The longest content line in octets, CRLF not counted (RFC 5545 3.1). */
#define ICS_LINE_OCTETS 75

/* One event of the feed. Strings are borrowed; NULL leaves the property out. */
struct ics_event {
    const char *uid;         /* globally unique id ("<session id>@sanad"), required */
    int64_t stamp_ms;        /* DTSTAMP: when the event was last changed, ms since the epoch */
    int64_t start_ms;        /* DTSTART, UTC */
    int64_t end_ms;          /* DTEND, UTC */
    int64_t sequence;        /* SEQUENCE: grows with each change of the event */
    const char *summary;     /* SUMMARY text */
    const char *description; /* DESCRIPTION text */
    const char *location;    /* LOCATION text */
    const char *url;         /* URL (a URI, not escaped as TEXT) */
    bool cancelled;          /* STATUS:CANCELLED instead of STATUS:CONFIRMED */
};

/* Writes ms as an iCalendar UTC DATE-TIME ("20250131T083000Z") into out (>= 17 bytes). */
void ics_format_utc(int64_t ms, char *out, size_t n);
/* Appends s escaped as an RFC 5545 TEXT value: backslash, semicolon and comma
 * get a backslash, a line break (LF, CRLF or a lone CR) becomes "\n", other
 * control characters become a space. NULL appends nothing. */
void ics_escape_text(struct buf *out, const char *s);
/* Appends the content line (n octets, without its line break) folded: a CRLF
 * and a space are put before 75 octets are exceeded, never inside a UTF-8
 * sequence (a run of bytes that cannot be a character is cut anyway), and the
 * line ends with CRLF. */
void ics_fold_line(struct buf *out, const char *line, size_t n);
/* Appends the calendar's opening lines: BEGIN:VCALENDAR, VERSION:2.0, PRODID
 * (prodid), CALSCALE:GREGORIAN, METHOD:PUBLISH and X-WR-CALNAME (name, may be NULL). */
void ics_begin(struct buf *out, const char *prodid, const char *name);
/* Appends one VEVENT. */
void ics_add_event(struct buf *out, const struct ics_event *ev);
/* Appends END:VCALENDAR. */
void ics_end(struct buf *out);

#endif
