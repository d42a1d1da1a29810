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

#endif
