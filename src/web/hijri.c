/*
 * hijri.c: the tabular Islamic calendar, in integer arithmetic. The Kuwaiti
 * algorithm's floating-point formulas reduce to: 1 Muharram of year Y is day
 * EPOCH + 354 (Y - 1) + floor((11 Y + 4) / 30) (Julian day numbers), and
 * month M starts ceil(29.5 (M - 1)) days after that. A test compares this
 * with the published algorithm on known dates.
 */
#include "web/hijri.h"

#include <stdbool.h>
#include <string.h>

#include "core/time.h"
#include "core/banned.h"

/* Julian day number of 1 Muharram 1 AH (astronomical epoch, 15 July 622). */
#define HIJRI_EPOCH_JDN 1948439
/* Julian day number of 1970-01-01. */
#define UNIX_EPOCH_JDN 2440588
/* Days in 30 Hijri years. */
#define CYCLE_DAYS 10631

/* Julian day number of the first day of Hijri year. */
static int64_t year_start(int64_t year)
{
    return HIJRI_EPOCH_JDN + 354 * (year - 1) + (11 * year + 4) / 30;
}

/* Days from the start of a year to the start of month (1..12). */
static int month_offset(int month)
{
    return (59 * (month - 1) + 1) / 2; /* ceil(29.5 * (month - 1)) */
}

int hijri_month_days(int year, int month)
{
    if (month < 1 || month > 12 || year < 1) {
        return 0;
    }
    if (month < 12) {
        return month_offset(month + 1) - month_offset(month);
    }
    return (int)(year_start(year + 1) - year_start(year)) - month_offset(12);
}

int hijri_from_gregorian(int y, int m, int d, struct hijri_date *h)
{
    if (y < 622 || y > 9999 || !time_date_valid(y, m, d)) {
        return -1;
    }
    int64_t jdn = time_days_from_civil(y, m, d) + UNIX_EPOCH_JDN;
    if (jdn < HIJRI_EPOCH_JDN) {
        return -1;
    }
    int64_t year = (30 * (jdn - HIJRI_EPOCH_JDN) + 10646) / CYCLE_DAYS;
    if (year < 1) {
        year = 1;
    }
    while (year_start(year + 1) <= jdn) {
        year++;
    }
    while (year > 1 && year_start(year) > jdn) {
        year--;
    }
    int doy = (int)(jdn - year_start(year));
    int month = 12;
    while (month > 1 && month_offset(month) > doy) {
        month--;
    }
    h->year = (int)year;
    h->month = month;
    h->day = doy - month_offset(month) + 1;
    return 0;
}

int hijri_to_gregorian(const struct hijri_date *h, int *y, int *m, int *d)
{
    if (h->year < 1 || h->year > 9700 || h->day < 1 || h->day > hijri_month_days(h->year, h->month)) {
        return -1;
    }
    int64_t jdn = year_start(h->year) + month_offset(h->month) + h->day - 1;
    time_civil_from_days(jdn - UNIX_EPOCH_JDN, y, m, d);
    return 0;
}

/* Month names in Arabic, as used in the Levant and the Gulf. */
static const char *const names_ar[12] = {
    "محرم", "صفر", "ربيع الأول", "ربيع الآخر", "جمادى الأولى", "جمادى الآخرة",
    "رجب", "شعبان", "رمضان", "شوال", "ذو القعدة", "ذو الحجة",
};

/* Month names in English transliteration. */
static const char *const names_en[12] = {
    "Muharram", "Safar", "Rabi I", "Rabi II", "Jumada I", "Jumada II",
    "Rajab", "Sha'ban", "Ramadan", "Shawwal", "Dhu al-Qi'dah", "Dhu al-Hijjah",
};

const char *hijri_month_name(int month, const char *lang)
{
    if (month < 1 || month > 12) {
        return "";
    }
    bool ar = !lang || strcmp(lang, "en") != 0;
    return ar ? names_ar[month - 1] : names_en[month - 1];
}

void hijri_format(struct buf *out, const struct hijri_date *h, const char *lang)
{
    buf_addf(out, "%d %s %d", h->day, hijri_month_name(h->month, lang), h->year);
}

int hijri_format_iso(struct buf *out, const char *date, const char *lang)
{
    int y, m, d;
    struct hijri_date h;
    if (!date || time_date_parse(date, &y, &m, &d) < 0 || hijri_from_gregorian(y, m, d, &h) < 0) {
        return -1;
    }
    hijri_format(out, &h, lang);
    return 0;
}
