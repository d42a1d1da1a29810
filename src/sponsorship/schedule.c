/*
 * schedule.c: the periods an agreement bills (see billing.h) and the date
 * helpers every file of the module shares (sponsors_int.h). Date arithmetic
 * on YYYY-MM-DD text, no database; only sp_today reads the clock. Dates
 * compare as text because the format is fixed-width.
 */
#include <stdio.h>
#include <string.h>

#include "core/time.h"
#include "sponsorship/billing.h"
#include "sponsorship/sponsors_int.h"
#include "core/banned.h"

/* Days in month m of year y. */
static int month_days(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        return 29;
    }
    return days[m - 1];
}

/* Writes y-m-d as YYYY-MM-DD into out (11 bytes). */
static void put_date(int y, int m, int d, char out[11])
{
    char tmp[40];
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", y, m, d);
    snprintf(out, 11, "%.10s", tmp);
}

/* y-m-d plus months (day clamped to the month's end) into out. Returns 0,
 * or -1 when the year would leave 0..9999. */
static int add_months(int y, int m, int d, int64_t months, char out[11])
{
    int64_t total = (int64_t)y * 12 + (m - 1) + months;
    if (total < 0 || total / 12 > 9999) {
        return -1;
    }
    int ny = (int)(total / 12), nm = (int)(total % 12) + 1;
    int dim = month_days(ny, nm);
    put_date(ny, nm, d < dim ? d : dim, out);
    return 0;
}

void sp_today(char out[11])
{
    int y, m, d;
    time_today(&y, &m, &d);
    put_date(y, m, d, out);
}

void sp_days_ago(int days, char out[11])
{
    int y, m, d;
    time_today(&y, &m, &d);
    time_civil_from_days(time_days_from_civil(y, m, d) - days, &y, &m, &d);
    put_date(y, m, d, out);
}

bool sp_date_ok(const char *s)
{
    int y, m, d;
    return s && strlen(s) == 10 && time_date_parse(s, &y, &m, &d) == 0 && y >= 1900 && y <= 2200;
}

void sp_add_months(const char *date, int months, char out[11])
{
    int y = 1970, m = 1, d = 1;
    time_date_parse(date, &y, &m, &d);
    add_months(y, m, d, months, out);
}

void sp_add_days(const char *date, int days, char out[11])
{
    int y = 1970, m = 1, d = 1;
    time_date_parse(date, &y, &m, &d);
    time_civil_from_days(time_days_from_civil(y, m, d) + days, &y, &m, &d);
    put_date(y, m, d, out);
}

void sp_birthday(const char *birth, int years, char out[11])
{
    int y = 1970, m = 1, d = 1;
    time_date_parse(birth, &y, &m, &d);
    y += years;
    if (m == 2 && d == 29 && month_days(y, 2) == 28) {
        m = 3;
        d = 1;
    }
    put_date(y, m, d, out);
}

int sp_age(const char *birth, const char *today)
{
    int by, bm, bd, y, m, d;
    if (!birth || !today || time_date_parse(birth, &by, &bm, &bd) < 0 ||
        time_date_parse(today, &y, &m, &d) < 0) {
        return -1;
    }
    int age = y - by - ((m < bm || (m == bm && d < bd)) ? 1 : 0);
    return age < 0 ? 0 : age;
}

int sched_step_months(const char *frequency)
{
    static const struct {
        const char *name; /* frequency */
        int months;       /* months per period */
    } table[] = {{"monthly", 1}, {"quarterly", 3}, {"half_yearly", 6}, {"yearly", 12}};
    for (size_t i = 0; frequency && i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcmp(table[i].name, frequency) == 0) {
            return table[i].months;
        }
    }
    return 0;
}

int sched_period_start(const char *start_date, int step, int64_t k, char out[11])
{
    int y, m, d;
    if (!start_date || time_date_parse(start_date, &y, &m, &d) < 0 || step <= 0 || k < 0 ||
        k > 12 * 10000) {
        return -1;
    }
    return add_months(y, m, d, k * step, out);
}

int sched_index_at_or_after(const char *start_date, int step, const char *day, int64_t *k_out)
{
    int sy, sm, sd, dy, dm, dd;
    if (!start_date || !day || time_date_parse(start_date, &sy, &sm, &sd) < 0 ||
        time_date_parse(day, &dy, &dm, &dd) < 0 || step <= 0) {
        return -1;
    }
    if (strcmp(day, start_date) <= 0) {
        *k_out = 0;
        return 0;
    }
    /* Period k starts in month sm + k*step: the first k whose month is not
     * before day's month, then one more when that start is still before day
     * (the same month, an earlier day). */
    int64_t diff = (int64_t)(dy - sy) * 12 + (dm - sm);
    int64_t k = diff / step;
    char start[11];
    for (int i = 0; i < 2; i++) {
        if (sched_period_start(start_date, step, k, start) < 0) {
            return -1;
        }
        if (strcmp(start, day) >= 0) {
            break;
        }
        k++;
    }
    *k_out = k;
    return 0;
}

bool sched_paused(const struct sched_pause *pauses, int n, const char *day)
{
    for (int i = 0; pauses && i < n; i++) {
        if (strcmp(pauses[i].from, day) <= 0 &&
            (!pauses[i].to[0] || strcmp(day, pauses[i].to) <= 0)) {
            return true;
        }
    }
    return false;
}

int sched_periods(const struct sched_agreement *ag, const char *through, struct sched_period *out,
                  int max, char next_out[11], struct err *e)
{
    int y, m, d;
    int step = sched_step_months(ag->frequency);
    if (step == 0) {
        return err_set(e, ERR_INVALID, "invalid_choice", "frequency", "'%s' is not a frequency",
                       ag->frequency ? ag->frequency : "");
    }
    if (!ag->start_date || time_date_parse(ag->start_date, &y, &m, &d) < 0) {
        return err_set(e, ERR_INVALID, "invalid_date", "start_date", "'start_date' is not a date");
    }
    if (ag->end_date && time_date_parse(ag->end_date, &y, &m, &d) < 0) {
        return err_set(e, ERR_INVALID, "invalid_date", "end_date", "'end_date' is not a date");
    }
    if (ag->next_due && time_date_parse(ag->next_due, &y, &m, &d) < 0) {
        return err_set(e, ERR_INVALID, "invalid_date", "next_due", "'next_due' is not a date");
    }
    if (!through || time_date_parse(through, &y, &m, &d) < 0) {
        return err_set(e, ERR_INVALID, "invalid_date", "through", "'through' is not a date");
    }
    int64_t k;
    if (sched_index_at_or_after(ag->start_date, step, ag->next_due ? ag->next_due : ag->start_date,
                                &k) < 0) {
        return err_set(e, ERR_INVALID, "invalid_date", "next_due", "'next_due' is out of range");
    }
    int n = 0;
    char start[11];
    for (;; k++) {
        if (sched_period_start(ag->start_date, step, k, start) < 0) {
            return err_set(e, ERR_INVALID, "invalid_date", "through", "'through' is out of range");
        }
        if (strcmp(start, through) > 0 || (ag->end_date && strcmp(start, ag->end_date) > 0) ||
            n == max) {
            break;
        }
        if (sched_paused(ag->pauses, ag->n_pauses, start)) {
            continue;
        }
        char next[11];
        if (sched_period_start(ag->start_date, step, k + 1, next) < 0 ||
            time_date_parse(next, &y, &m, &d) < 0) {
            return err_set(e, ERR_INVALID, "invalid_date", "through", "'through' is out of range");
        }
        time_civil_from_days(time_days_from_civil(y, m, d) - 1, &y, &m, &d);
        snprintf(out[n].start, sizeof(out[n].start), "%s", start);
        put_date(y, m, d, out[n].end);
        n++;
    }
    snprintf(next_out, 11, "%s", start);
    return n;
}

int sched_months_between(const char *a, const char *b)
{
    int ay, am, ad, by, bm, bd;
    if (!a || !b || time_date_parse(a, &ay, &am, &ad) < 0 ||
        time_date_parse(b, &by, &bm, &bd) < 0 || strcmp(b, a) <= 0) {
        return 0;
    }
    int months = (by - ay) * 12 + (bm - am);
    int dim = month_days(by, bm);
    if (bd < (ad < dim ? ad : dim)) {
        months--;
    }
    return months < 0 ? 0 : months;
}
