/*
 * fuzz_bank_csv.c: libFuzzer harness for the bank statement reader: any
 * bytes must parse or be refused with a message (and, for malformed lines,
 * a list naming rows and columns), never crash or read out of bounds. What
 * parses is checked (dates shaped YYYY-MM-DD, known currencies, non-zero
 * amounts, 64-hex hashes) and its names and references are run through the
 * name comparison and the amount reader.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"
#include "sponsorship/bank.h"

/* Feeds one input to bank_parse (with and without a default currency). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int pass = 0; pass < 2; pass++) {
        struct bank_statement st;
        json_t *errors = NULL;
        struct err e;
        err_clear(&e);
        if (bank_parse((const char *)data, size, pass ? "JOD" : NULL, &st, &errors, &e) < 0) {
            if (!e.msg[0] || st.lines || st.n) {
                abort(); /* every refusal says why and keeps nothing */
            }
            if (errors &&
                (json_array_size(errors) == 0 || json_array_size(errors) > BANK_MAX_ERRORS)) {
                abort();
            }
            json_decref(errors);
            continue;
        }
        if (errors || st.n == 0 || st.n != st.n_credits + st.n_debits) {
            abort();
        }
        for (size_t i = 0; i < st.n; i++) {
            const struct bank_line_in *l = &st.lines[i];
            if (strlen(l->booked_on) != 10 || l->booked_on[4] != '-' || l->amount == 0 ||
                money_exponent(l->currency) < 0 || strlen(l->hash) != 64) {
                abort();
            }
            int score;
            (void)bank_name_compare(l->payer_name, l->reference, &score);
            if (score < 0 || score > 100) {
                abort();
            }
            int64_t v;
            err_clear(&e);
            (void)bank_amount_parse(l->reference, l->currency, &v, &e);
        }
        bank_statement_release(&st);
    }
    return 0;
}
