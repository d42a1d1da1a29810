/*
 * fuzz_money_rate.c: exchange rates in fixed point. money_rate_parse on
 * arbitrary text: an accepted rate is > 0 and prints back (money_rate_format)
 * to text that parses to the same value. money_convert on the first 16
 * bytes as an amount and a rate: the result is symmetric in sign
 * (convert(-x) == -convert(x), rounding half away from zero), never grows
 * past the exact quotient by more than half a unit (checked in 128 bits),
 * and a rate of 1 between currencies of equal decimals is the identity.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"
#include "core/banned.h"

/* Checks money_convert's properties for one amount and rate. */
static void check_convert(int64_t minor, int64_t rate, const char *from, const char *to)
{
    if (minor == INT64_MIN) {
        minor = INT64_MAX;
    }
    struct err e;
    err_clear(&e);
    int64_t out = 0, neg = 0;
    int rc = money_convert(minor, from, rate, to, &out, &e);
    if (rate <= 0) {
        if (rc == 0) {
            abort();
        }
        return;
    }
    if (rc < 0) {
        if (strcmp(e.code, "amount_too_large") != 0) {
            abort();
        }
        return;
    }
    if (money_convert(-minor, from, rate, to, &neg, &e) != 0 || neg != -out) {
        abort();
    }
    /* |out - minor*rate*10^et/(10^9*10^ef)| <= 1/2, i.e. 2*|out*den - num| <= den. */
    int ef = money_exponent(from), et = money_exponent(to);
    __int128 num = (__int128)minor * rate, den = 1000000000;
    for (int i = 0; i < et; i++) {
        num *= 10;
    }
    for (int i = 0; i < ef; i++) {
        den *= 10;
    }
    __int128 diff = (__int128)out * den - num;
    if (diff < 0) {
        diff = -diff;
    }
    if (2 * diff > den) {
        abort();
    }
    if (rate == MONEY_RATE_ONE && ef == et && out != minor) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *curs[] = {"USD", "JOD", "JPY", "KWD", "EUR"};
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    int64_t r = 0;
    struct err e;
    err_clear(&e);
    if (money_rate_parse(text, &r, &e) == 0) {
        char out[48];
        int64_t back = 0;
        if (r <= 0 || money_rate_parse(money_rate_format(r, out, sizeof(out)), &back, &e) != 0 ||
            back != r) {
            abort();
        }
    } else if (!err_failed(&e) || strcmp(e.code, "invalid_rate") != 0) {
        abort();
    }
    free(text);
    if (size >= 17) {
        int64_t minor, rate;
        memcpy(&minor, data, 8);
        memcpy(&rate, data + 8, 8);
        check_convert(minor, rate, curs[data[16] % 5], curs[(data[16] / 5) % 5]);
        check_convert(minor % 100000000, rate % 100000000000, curs[data[16] % 5],
                      curs[(data[16] / 5) % 5]);
    }
    return 0;
}
