/*
 * similarity.c: string and date comparisons on normalized values:
 * Jaro-Winkler, Damerau-Levenshtein (optimal string alignment), token-set
 * similarity, and the birth-date comparison that knows estimated dates.
 */
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"
#include "match/match.h"

/* Jaro-Winkler similarity; see match.h. Works on bytes (internal letters). */
double match_jaro_winkler(const char *a, size_t na, const char *b, size_t nb)
{
    if (na == 0 && nb == 0) {
        return 1.0;
    }
    if (na == 0 || nb == 0) {
        return 0.0;
    }
    if (na > MATCH_NAME_MAX) {
        na = MATCH_NAME_MAX;
    }
    if (nb > MATCH_NAME_MAX) {
        nb = MATCH_NAME_MAX;
    }
    if (na == nb && memcmp(a, b, na) == 0) {
        return 1.0;
    }
    size_t range = (na > nb ? na : nb) / 2;
    range = range > 0 ? range - 1 : 0;
    unsigned char ma[MATCH_NAME_MAX];
    unsigned char mb[MATCH_NAME_MAX];
    memset(ma, 0, na);
    memset(mb, 0, nb);
    size_t m = 0;
    for (size_t i = 0; i < na; i++) {
        size_t lo = i > range ? i - range : 0;
        size_t hi = i + range + 1 < nb ? i + range + 1 : nb;
        for (size_t j = lo; j < hi; j++) {
            if (!mb[j] && a[i] == b[j]) {
                ma[i] = mb[j] = 1;
                m++;
                break;
            }
        }
    }
    if (m == 0) {
        return 0.0;
    }
    size_t t = 0;
    size_t k = 0;
    for (size_t i = 0; i < na; i++) {
        if (!ma[i]) {
            continue;
        }
        while (!mb[k]) {
            k++;
        }
        if (a[i] != b[k]) {
            t++;
        }
        k++;
    }
    double md = (double)m;
    double jaro = (md / (double)na + md / (double)nb + (md - (double)t / 2.0) / md) / 3.0;
    size_t l = 0;
    while (l < 4 && l < na && l < nb && a[l] == b[l]) {
        l++;
    }
    return jaro + (double)l * 0.1 * (1.0 - jaro);
}

/* Damerau-Levenshtein (OSA) distance with early exit; see match.h. */
int match_damerau(const char *a, size_t na, const char *b, size_t nb, int max)
{
    if (na > MATCH_NAME_MAX) {
        na = MATCH_NAME_MAX;
    }
    if (nb > MATCH_NAME_MAX) {
        nb = MATCH_NAME_MAX;
    }
    int diff = (int)na - (int)nb;
    if (diff < 0) {
        diff = -diff;
    }
    if (diff > max) {
        return max + 1;
    }
    if (na == 0 || nb == 0) {
        return (int)(na + nb);
    }
    /* three rolling rows: i-2, i-1, i */
    int rows[3][MATCH_NAME_MAX + 1];
    int *p2 = rows[0], *p1 = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= nb; j++) {
        p1[j] = (int)j;
    }
    for (size_t i = 1; i <= na; i++) {
        cur[0] = (int)i;
        int best = cur[0];
        for (size_t j = 1; j <= nb; j++) {
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int v = p1[j] + 1;
            if (cur[j - 1] + 1 < v) {
                v = cur[j - 1] + 1;
            }
            if (p1[j - 1] + cost < v) {
                v = p1[j - 1] + cost;
            }
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                p2[j - 2] + 1 < v) {
                v = p2[j - 2] + 1;
            }
            cur[j] = v;
            if (v < best) {
                best = v;
            }
        }
        if (best > max) {
            return max + 1;
        }
        int *tmp = p2;
        p2 = p1;
        p1 = cur;
        cur = tmp;
    }
    return p1[nb] > max ? max + 1 : p1[nb];
}

/* Word boundaries of a space-separated list. */
struct words {
    const char *s[32]; /* word starts */
    size_t n[32];      /* word lengths */
    int count;         /* words */
};

/* Splits s[0..len) on spaces into at most 32 words. */
static void split_words(const char *s, size_t len, struct words *w)
{
    w->count = 0;
    size_t i = 0;
    while (i < len && w->count < 32) {
        while (i < len && s[i] == ' ') {
            i++;
        }
        size_t st = i;
        while (i < len && s[i] != ' ') {
            i++;
        }
        if (i > st) {
            w->s[w->count] = s + st;
            w->n[w->count] = i - st;
            w->count++;
        }
    }
}

/* Mean over x's words of the best Jaro-Winkler against y's words. */
static double monge_elkan(const struct words *x, const struct words *y)
{
    double sum = 0;
    for (int i = 0; i < x->count; i++) {
        double best = 0;
        for (int j = 0; j < y->count; j++) {
            double s = match_jaro_winkler(x->s[i], x->n[i], y->s[j], y->n[j]);
            if (s > best) {
                best = s;
            }
        }
        sum += best;
    }
    return sum / x->count;
}

/* Symmetric token-set similarity; see match.h. */
double match_token_set(const char *a, size_t na, const char *b, size_t nb)
{
    struct words wa, wb;
    split_words(a, na, &wa);
    split_words(b, nb, &wb);
    if (wa.count == 0 || wb.count == 0) {
        return 0.0;
    }
    return (monge_elkan(&wa, &wb) + monge_elkan(&wb, &wa)) / 2.0;
}

/* True for a leap year. */
static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days in month m of year y. */
static int month_days(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* Parses a birth date; see match.h. */
int match_date_parse(const char *s, size_t len, struct match_date *out)
{
    out->y = 0;
    out->m = out->d = 0;
    while (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
        len--;
    }
    if (len == 0) {
        return 0;
    }
    if (len != 10 || s[4] != '-' || s[7] != '-') {
        return -1;
    }
    int v[3] = {0, 0, 0};
    static const int pos[3][2] = {{0, 4}, {5, 7}, {8, 10}};
    for (int k = 0; k < 3; k++) {
        for (int i = pos[k][0]; i < pos[k][1]; i++) {
            if (s[i] < '0' || s[i] > '9') {
                return -1;
            }
            v[k] = v[k] * 10 + (s[i] - '0');
        }
    }
    if (v[0] < 1900 || v[0] > 2100 || v[1] < 1 || v[1] > 12 || v[2] < 1 ||
        v[2] > month_days(v[0], v[1])) {
        return -1;
    }
    out->y = (int16_t)v[0];
    out->m = (uint8_t)v[1];
    out->d = (uint8_t)v[2];
    return 0;
}

/* Days since 1900-01-01 (proleptic Gregorian), for differences. */
static long day_number(struct match_date x)
{
    long y = x.y, m = x.m;
    if (m <= 2) {
        y--;
        m += 12;
    }
    return 365 * y + y / 4 - y / 100 + y / 400 + (153 * (m - 3) + 2) / 5 + x.d;
}

/* Compares birth dates; see match.h. */
int match_date_compare(struct match_date a, struct match_date b)
{
    if (a.y == 0 || b.y == 0) {
        return -1;
    }
    if (a.y == b.y && a.m == b.m && a.d == b.d) {
        return MATCH_DATE_EXACT;
    }
    int dy = a.y - b.y;
    if (dy < 0) {
        dy = -dy;
    }
    bool est_a = a.m == 1 && a.d == 1;
    bool est_b = b.m == 1 && b.d == 1;
    if (dy == 0 && a.m == b.d && a.d == b.m) {
        return MATCH_DATE_CLOSE; /* day and month swapped */
    }
    if (dy == 1 && a.m == b.m && a.d == b.d && !est_a) {
        return MATCH_DATE_CLOSE; /* a year off */
    }
    long dd = day_number(a) - day_number(b);
    if (dd < 0) {
        dd = -dd;
    }
    if (dd <= 7) {
        return MATCH_DATE_CLOSE; /* a few days off */
    }
    if (dy == 0 && (est_a || est_b)) {
        return MATCH_DATE_EST; /* only the year was known */
    }
    if (dy <= 1) {
        return MATCH_DATE_NEAR;
    }
    return MATCH_DATE_DIFF;
}
