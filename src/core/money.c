#include "core/money.h"

#include <stdio.h>
#include <string.h>

#include "core/banned.h"

/* The currencies an orphan-care organization in the region meets; more can be
 * added here. Exponents from ISO 4217. */
static const struct {
    const char *code;
    int exponent;
} currencies[] = {
    {"AED", 2}, {"AUD", 2}, {"BHD", 3}, {"CAD", 2}, {"CHF", 2}, {"CNY", 2}, {"DKK", 2},
    {"DZD", 2}, {"EGP", 2}, {"EUR", 2}, {"GBP", 2}, {"IDR", 2}, {"ILS", 2}, {"INR", 2},
    {"IQD", 3}, {"IRR", 2}, {"JOD", 3}, {"JPY", 0}, {"KWD", 3}, {"LBP", 2}, {"LYD", 3},
    {"MAD", 2}, {"MRU", 2}, {"MYR", 2}, {"NOK", 2}, {"OMR", 3}, {"PKR", 2}, {"QAR", 2},
    {"SAR", 2}, {"SDG", 2}, {"SEK", 2}, {"SOS", 2}, {"SYP", 2}, {"TND", 3}, {"TRY", 2},
    {"USD", 2}, {"YER", 2},
};

int money_exponent(const char *currency)
{
    for (size_t i = 0; i < sizeof(currencies) / sizeof(currencies[0]); i++) {
        if (strcmp(currencies[i].code, currency) == 0) {
            return currencies[i].exponent;
        }
    }
    return -1;
}

int money_parse(const char *text, const char *currency, struct money *m, struct err *e)
{
    int exp = money_exponent(currency);
    if (exp < 0) {
        return err_set(e, ERR_INVALID, "unknown_currency", "currency",
                       "unknown currency '%.8s'", currency);
    }
    const char *p = text;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    if (*p < '0' || *p > '9') {
        return err_set(e, ERR_INVALID, "invalid_amount", "amount", "amount is not a number");
    }
    int64_t v = 0;
    int decimals = -1;
    for (; *p; p++) {
        if (*p == '.' && decimals < 0) {
            decimals = 0;
            continue;
        }
        if (*p < '0' || *p > '9') {
            return err_set(e, ERR_INVALID, "invalid_amount", "amount", "amount is not a number");
        }
        if (decimals >= 0 && ++decimals > exp) {
            return err_set(e, ERR_INVALID, "too_many_decimals", "amount",
                           "%s takes at most %d decimals", currency, exp);
        }
        int digit = *p - '0';
        if (v > (INT64_MAX - digit) / 10) {
            return err_set(e, ERR_INVALID, "amount_too_large", "amount", "amount is too large");
        }
        v = v * 10 + digit;
    }
    if (decimals == 0) {
        return err_set(e, ERR_INVALID, "invalid_amount", "amount", "amount is not a number");
    }
    for (int i = decimals < 0 ? 0 : decimals; i < exp; i++) {
        if (v > INT64_MAX / 10) {
            return err_set(e, ERR_INVALID, "amount_too_large", "amount", "amount is too large");
        }
        v *= 10;
    }
    m->minor = neg ? -v : v;
    memcpy(m->currency, currency, 3);
    m->currency[3] = '\0';
    return 0;
}

char *money_format(const struct money *m, char *out, size_t n)
{
    int exp = money_exponent(m->currency);
    if (exp <= 0) {
        snprintf(out, n, "%lld", (long long)m->minor);
        return out;
    }
    uint64_t mag = m->minor < 0 ? (uint64_t)0 - (uint64_t)m->minor : (uint64_t)m->minor;
    uint64_t scale = 1;
    for (int i = 0; i < exp; i++) {
        scale *= 10;
    }
    char frac[24];
    snprintf(frac, sizeof(frac), "%04llu", (unsigned long long)(mag % scale)); /* exp <= 3 */
    snprintf(out, n, "%s%llu.%s", m->minor < 0 ? "-" : "", (unsigned long long)(mag / scale),
             frac + 4 - exp);
    return out;
}

int money_add(const struct money *a, const struct money *b, struct money *out, struct err *e)
{
    if (strcmp(a->currency, b->currency) != 0) {
        return err_set(e, ERR_INVALID, "currency_mismatch", "currency",
                       "cannot add %s to %s", b->currency, a->currency);
    }
    int64_t r;
    if (__builtin_add_overflow(a->minor, b->minor, &r)) {
        return err_set(e, ERR_INVALID, "amount_too_large", "amount", "amount is too large");
    }
    out->minor = r;
    memcpy(out->currency, a->currency, 4);
    return 0;
}

int money_sub(const struct money *a, const struct money *b, struct money *out, struct err *e)
{
    if (strcmp(a->currency, b->currency) != 0) {
        return err_set(e, ERR_INVALID, "currency_mismatch", "currency",
                       "cannot subtract %s from %s", b->currency, a->currency);
    }
    int64_t r;
    if (__builtin_sub_overflow(a->minor, b->minor, &r)) {
        return err_set(e, ERR_INVALID, "amount_too_large", "amount", "amount is too large");
    }
    out->minor = r;
    memcpy(out->currency, a->currency, 4);
    return 0;
}

int money_rate_parse(const char *text, int64_t *rate_e9, struct err *e)
{
    if (!text || !*text) {
        return err_set(e, ERR_INVALID, "invalid_rate", "rate", "rate is missing");
    }
    int64_t v = 0;
    int decimals = -1;
    for (const char *p = text; *p; p++) {
        if (*p == '.' && decimals < 0) {
            decimals = 0;
            continue;
        }
        if (*p < '0' || *p > '9') {
            return err_set(e, ERR_INVALID, "invalid_rate", "rate",
                           "rate must be a positive decimal number");
        }
        if (decimals >= 0 && ++decimals > 9) {
            return err_set(e, ERR_INVALID, "invalid_rate", "rate",
                           "rate takes at most 9 decimals");
        }
        int digit = *p - '0';
        if (v > (INT64_MAX - digit) / 10) {
            return err_set(e, ERR_INVALID, "invalid_rate", "rate", "rate is too large");
        }
        v = v * 10 + digit;
    }
    if (decimals == 0 || text[0] == '.') {
        return err_set(e, ERR_INVALID, "invalid_rate", "rate",
                       "rate must be a positive decimal number");
    }
    for (int i = decimals < 0 ? 0 : decimals; i < 9; i++) {
        if (v > INT64_MAX / 10) {
            return err_set(e, ERR_INVALID, "invalid_rate", "rate", "rate is too large");
        }
        v *= 10;
    }
    if (v <= 0) {
        return err_set(e, ERR_INVALID, "invalid_rate", "rate", "rate must be greater than 0");
    }
    *rate_e9 = v;
    return 0;
}

char *money_rate_format(int64_t rate_e9, char *out, size_t n)
{
    uint64_t mag = rate_e9 < 0 ? (uint64_t)0 - (uint64_t)rate_e9 : (uint64_t)rate_e9;
    char frac[16];
    snprintf(frac, sizeof(frac), "%09llu", (unsigned long long)(mag % 1000000000u));
    size_t len = strlen(frac);
    while (len > 0 && frac[len - 1] == '0') {
        frac[--len] = '\0';
    }
    snprintf(out, n, "%s%llu%s%s", rate_e9 < 0 ? "-" : "", (unsigned long long)(mag / 1000000000u),
             len ? "." : "", frac);
    return out;
}

int money_convert(int64_t minor, const char *from, int64_t rate_e9, const char *to,
                  int64_t *out, struct err *e)
{
    int ef = money_exponent(from), et = money_exponent(to);
    if (ef < 0 || et < 0) {
        return err_set(e, ERR_INVALID, "unknown_currency", "currency", "unknown currency '%.8s'",
                       ef < 0 ? from : to);
    }
    if (rate_e9 <= 0) {
        return err_set(e, ERR_INVALID, "invalid_rate", "rate", "rate must be greater than 0");
    }
    /* |minor| < 2^63 and rate_e9 < 2^63, so the product fits in 126 bits; the
     * further x 10^et (et <= 3) is checked. */
    __int128 num = (__int128)minor * rate_e9;
    for (int i = 0; i < et; i++) {
        if (__builtin_mul_overflow(num, 10, &num)) {
            return err_set(e, ERR_INVALID, "amount_too_large", "amount", "amount is too large");
        }
    }
    __int128 den = 1000000000;
    for (int i = 0; i < ef; i++) {
        den *= 10;
    }
    __int128 mag = num < 0 ? -num : num;
    __int128 q = mag / den, r = mag % den;
    if (r * 2 >= den) {
        q++;
    }
    if (q > INT64_MAX) {
        return err_set(e, ERR_INVALID, "amount_too_large", "amount", "amount is too large");
    }
    *out = num < 0 ? -(int64_t)q : (int64_t)q;
    return 0;
}
