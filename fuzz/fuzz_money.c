/*
 * fuzz_money.c: money_parse on arbitrary text for each kind of currency
 * (0, 2 and 3 decimals, and an unknown code); every accepted amount must
 * print back to text that parses to the same amount: parse(format(x)) == x.
 * The first byte picks the currency; the rest is the amount.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *curs[] = {"USD", "JOD", "JPY", "KWD", "EUR", "XXX", "usd", ""};
    if (size < 1) {
        return 0;
    }
    const char *cur = curs[data[0] % 8];
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    struct money m = {0, ""};
    struct err e;
    err_clear(&e);
    if (money_parse(text, cur, &m, &e) == 0) {
        if (money_exponent(cur) < 0 || strcmp(m.currency, cur) != 0) {
            abort(); /* unknown currencies must be refused */
        }
        char out[64];
        money_format(&m, out, sizeof(out));
        struct money back = {0, ""};
        struct err e2;
        err_clear(&e2);
        if (money_parse(out, cur, &back, &e2) != 0 || back.minor != m.minor) {
            abort();
        }
        /* the printed form has exactly the currency's decimals */
        const char *dot = strchr(out, '.');
        int exp = money_exponent(cur);
        if ((exp == 0 && dot) || (exp > 0 && (!dot || (int)strlen(dot + 1) != exp))) {
            abort();
        }
        /* adding zero and subtracting itself are exact */
        struct money zero = {0, ""}, r;
        memcpy(zero.currency, m.currency, 4);
        if (money_add(&m, &zero, &r, &e2) != 0 || r.minor != m.minor ||
            money_sub(&m, &m, &r, &e2) != 0 || r.minor != 0) {
            abort();
        }
    } else if (!err_failed(&e) ||
               (strcmp(e.field, "amount") != 0 && strcmp(e.field, "currency") != 0)) {
        abort();
    }
    free(text);
    return 0;
}
