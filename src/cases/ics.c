/*
 * ics.c: the iCalendar writer (see ics.h).
 */
#include "cases/ics.h"

#include <stdio.h>
#include <string.h>

#include "core/time.h"
#include "core/banned.h"

void ics_format_utc(int64_t ms, char *out, size_t n)
{
    /* time_format_iso's "YYYY-MM-DDTHH:MM:SS.mmmZ" without separators and milliseconds */
    char iso[32];
    time_format_iso(ms, iso, sizeof(iso));
    snprintf(out, n, "%.4s%.2s%.2sT%.2s%.2s%.2sZ", iso, iso + 5, iso + 8, iso + 11, iso + 14,
             iso + 17);
}

void ics_escape_text(struct buf *out, const char *s)
{
    if (!s) {
        return;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '\\':
        case ';':
        case ',':
            buf_addch(out, '\\');
            buf_addch(out, *p);
            break;
        case '\r':
            buf_adds(out, "\\n");
            if (p[1] == '\n') {
                p++; /* CRLF is one line break */
            }
            break;
        case '\n':
            buf_adds(out, "\\n");
            break;
        default:
            /* TEXT allows no control characters but HTAB (RFC 5545 3.3.11) */
            buf_addch(out, (*p < 0x20 && *p != '\t') || *p == 0x7f ? ' ' : *p);
        }
    }
}

void ics_fold_line(struct buf *out, const char *line, size_t n)
{
    size_t pos = 0;
    /* the first line holds 75 octets; continuation lines start with a space */
    size_t room = ICS_LINE_OCTETS;
    while (n - pos > room) {
        size_t cut = pos + room;
        /* step back to the start of the character that straddles the cut */
        size_t back = cut;
        while (back > pos && ((unsigned char)line[back] & 0xC0) == 0x80) {
            back--;
        }
        if (back > pos && cut - back < 4) {
            cut = back; /* a real character of at most 4 octets: keep it whole */
        }
        buf_add(out, line + pos, cut - pos);
        buf_adds(out, "\r\n ");
        pos = cut;
        room = ICS_LINE_OCTETS - 1;
    }
    buf_add(out, line + pos, n - pos);
    buf_adds(out, "\r\n");
}

/* Appends "NAME:" followed by value escaped as TEXT, as one folded line. */
static void add_text(struct buf *out, const char *name, const char *value)
{
    if (!value) {
        return;
    }
    struct buf line = BUF_INIT;
    buf_adds(&line, name);
    buf_addch(&line, ':');
    ics_escape_text(&line, value);
    ics_fold_line(out, line.buf, line.len);
    buf_release(&line);
}

/* Appends "NAME:value" as it is (a value that needs no escaping), folded. */
static void add_raw(struct buf *out, const char *name, const char *value)
{
    struct buf line = BUF_INIT;
    buf_adds(&line, name);
    buf_addch(&line, ':');
    /* a URI or an id may not hold a line break: drop control characters */
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p >= 0x20 && *p != 0x7f) {
            buf_addch(&line, *p);
        }
    }
    ics_fold_line(out, line.buf, line.len);
    buf_release(&line);
}

/* Appends "NAME:<UTC date-time>". */
static void add_time(struct buf *out, const char *name, int64_t ms)
{
    char t[32];
    ics_format_utc(ms, t, sizeof(t));
    add_raw(out, name, t);
}

void ics_begin(struct buf *out, const char *prodid, const char *name)
{
    buf_adds(out, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n");
    add_text(out, "PRODID", prodid);
    buf_adds(out, "CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n");
    add_text(out, "X-WR-CALNAME", name);
}

void ics_add_event(struct buf *out, const struct ics_event *ev)
{
    buf_adds(out, "BEGIN:VEVENT\r\n");
    add_raw(out, "UID", ev->uid);
    add_time(out, "DTSTAMP", ev->stamp_ms);
    add_time(out, "DTSTART", ev->start_ms);
    add_time(out, "DTEND", ev->end_ms);
    char seq[24];
    snprintf(seq, sizeof(seq), "%lld", (long long)(ev->sequence < 0 ? 0 : ev->sequence));
    add_raw(out, "SEQUENCE", seq);
    add_raw(out, "STATUS", ev->cancelled ? "CANCELLED" : "CONFIRMED");
    add_text(out, "SUMMARY", ev->summary);
    add_text(out, "DESCRIPTION", ev->description);
    add_text(out, "LOCATION", ev->location);
    if (ev->url) {
        add_raw(out, "URL", ev->url);
    }
    buf_adds(out, "END:VEVENT\r\n");
}

void ics_end(struct buf *out)
{
    buf_adds(out, "END:VCALENDAR\r\n");
}
