/*
 * hijri.h: Gregorian to Hijri dates by the tabular Islamic calendar, exactly
 * as the "Kuwaiti algorithm" computes it (astronomical epoch, Thursday
 * 15 July 622 Julian; leap years 2, 5, 7, 10, 13, 15, 18, 21, 24, 26, 29 of
 * each 30-year cycle; odd months 30 days, even months 29, Dhu al-Hijjah 30 in
 * leap years). The tabular calendar may differ from a sighted or Umm al-Qura
 * date by a day or two, so pages show it beside the Gregorian date, never
 * instead of it. Gregorian dates are proleptic (the Kuwaiti code switches to
 * Julian before 1583; Sanad has no such dates).
 */
#ifndef SANAD_WEB_HIJRI_H
#define SANAD_WEB_HIJRI_H

#include <stdint.h>

#include "core/buf.h"

/* A date of the Hijri calendar. */
struct hijri_date {
    int year;  /* 1 and up (anno Hegirae) */
    int month; /* 1 (Muharram) .. 12 (Dhu al-Hijjah) */
    int day;   /* 1 .. 30 */
};

/* Converts the Gregorian date y-m-d to h. Returns 0, or -1 when y-m-d is not
 * a real date or falls before 1 Muharram 1 AH or after year 9999. */
int hijri_from_gregorian(int y, int m, int d, struct hijri_date *h);
/* Converts h back to the Gregorian *y-*m-*d. Returns 0, or -1 when h is not
 * a real date of the tabular calendar (e.g. 30 Safar, or year < 1). */
int hijri_to_gregorian(const struct hijri_date *h, int *y, int *m, int *d);
/* Days (1..30) in month of Hijri year, or 0 for a month out of range. */
int hijri_month_days(int year, int month);
/* The month's name in lang ("ar", else English), e.g. "جمادى الآخرة" or
 * "Jumada II"; "" for a month out of range. Static strings. */
const char *hijri_month_name(int month, const char *lang);
/* Appends h as "15 جمادى الآخرة 1448" (ar) or "15 Jumada II 1448" (en). */
void hijri_format(struct buf *out, const struct hijri_date *h, const char *lang);
/* Appends the Hijri form of the Gregorian "YYYY-MM-DD" date. Returns 0, or
 * -1 (appending nothing) when the text is not a valid date in range. */
int hijri_format_iso(struct buf *out, const char *date, const char *lang);

#endif
