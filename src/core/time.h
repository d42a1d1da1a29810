/*
 * time.h: UTC time. Timestamps are int64 milliseconds since the Unix epoch;
 * text form is ISO 8601 `YYYY-MM-DDTHH:MM:SS.mmmZ`. Calendar dates are
 * `YYYY-MM-DD` and validated (leap years included).
 */
#ifndef SANAD_CORE_TIME_H
#define SANAD_CORE_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Now, in ms since the epoch (wall clock, UTC). */
int64_t time_now_ms(void);
/* A monotonic clock in nanoseconds, for durations. */
int64_t time_mono_ns(void);
/* Writes ms as ISO 8601 UTC into out (at least 25 bytes). */
void time_format_iso(int64_t ms, char *out, size_t n);
/* Writes the HTTP date (RFC 9110 IMF-fixdate) of seconds s into out (>= 30 bytes). */
void time_format_http(int64_t s, char *out, size_t n);
/* True when y-m-d is a real Gregorian date. */
bool time_date_valid(int y, int m, int d);
/* Parses "YYYY-MM-DD" strictly; returns -1 when malformed or impossible. */
int time_date_parse(const char *s, int *y, int *m, int *d);
/* Days since 1970-01-01 of a valid date (may be negative). */
int64_t time_days_from_civil(int y, int m, int d);
/* The civil date of days since 1970-01-01. */
void time_civil_from_days(int64_t days, int *y, int *m, int *d);
/* Today's UTC date. */
void time_today(int *y, int *m, int *d);

#endif
