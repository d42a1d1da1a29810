/*
 * money.h: amounts as int64 minor units with an ISO 4217 currency code.
 * Never floating point. Each currency has its own number of decimals
 * (USD 2, JOD 3, JPY 0), and amounts are parsed and printed with exactly that.
 */
#ifndef SANAD_CORE_MONEY_H
#define SANAD_CORE_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct money {
    int64_t minor;   /* amount in the currency's minor unit (cents, fils) */
    char currency[4];/* ISO 4217 alphabetic code, upper case, NUL-terminated */
};

/* Number of decimals of an ISO 4217 code, or -1 when the code is unknown. */
int money_exponent(const char *currency);
/* Parses a decimal amount such as "12.50" or "-3" for currency into m.
 * Refuses unknown currencies, too many decimals, junk and int64 overflow,
 * filling e (field names the amount). Returns 0 or -1. */
int money_parse(const char *text, const char *currency, struct money *m, struct err *e);
/* Writes m as a plain decimal ("12.50") into out. Returns out. */
char *money_format(const struct money *m, char *out, size_t n);
/* out = a + b; -1 (ERR_INVALID) when currencies differ or the sum overflows. */
int money_add(const struct money *a, const struct money *b, struct money *out, struct err *e);
/* out = a - b, with the same checks as money_add. */
int money_sub(const struct money *a, const struct money *b, struct money *out, struct err *e);

/* Exchange rates are fixed-point: the rate times 10^9 in an int64 (9 decimal
 * places, up to about 9.2e9), so no floating point touches money. */
#define MONEY_RATE_ONE INT64_C(1000000000)

/* Parses a rate such as "3.6725" (digits, at most one '.', up to 9 decimals,
 * greater than 0) into *rate_e9 = rate x 10^9. Refuses signs, exponents,
 * junk, zero and overflow (ERR_INVALID "invalid_rate", field "rate").
 * Returns 0 or -1. */
int money_rate_parse(const char *text, int64_t *rate_e9, struct err *e);
/* Writes rate_e9 / 10^9 as the shortest decimal ("3.6725", "1") into out. */
char *money_rate_format(int64_t rate_e9, char *out, size_t n);
/* Converts minor units of currency from into minor units of currency to at
 * rate_e9 (units of `to` for one unit of `from`, x 10^9):
 *   out = minor x rate_e9 x 10^exp(to) / (10^9 x 10^exp(from)),
 * computed exactly in 128 bits and rounded half away from zero (commercial
 * rounding: 0.5 minor unit goes up in magnitude, -0.5 goes down). Refuses an
 * unknown currency, a rate <= 0, and a result (or intermediate product) that
 * does not fit (ERR_INVALID "amount_too_large"). Returns 0 or -1. */
int money_convert(int64_t minor, const char *from, int64_t rate_e9, const char *to,
                  int64_t *out, struct err *e);

#endif
