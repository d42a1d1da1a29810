/*
 * test_money: money arithmetic that needs no database: rates parsed into
 * fixed point (x 10^9), printed back, and conversions between currencies of
 * different decimals, rounded half away from zero, with overflow refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/money.h"

static void test_money(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    int64_t r = 0, out = 0;
    assert_int_equal(money_rate_parse("3.6725", &r, &e), 0);
    assert_int_equal(r, INT64_C(3672500000));
    assert_int_equal(money_rate_parse("1", &r, &e), 0);
    assert_int_equal(r, MONEY_RATE_ONE);
    assert_int_equal(money_rate_parse("0.000000001", &r, &e), 0);
    assert_int_equal(r, 1);
    const char *bad[] = {"", "0", "0.000", "-1", "+1", "1.", ".5", "1.0000000001", "1e3",
                         "abc", "1.2.3", "99999999999", " 1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&e);
        assert_int_equal(money_rate_parse(bad[i], &r, &e), -1);
        assert_string_equal(e.code, "invalid_rate");
    }
    char t[40];
    assert_string_equal(money_rate_format(INT64_C(3672500000), t, sizeof(t)), "3.6725");
    assert_string_equal(money_rate_format(MONEY_RATE_ONE, t, sizeof(t)), "1");
    assert_string_equal(money_rate_format(1, t, sizeof(t)), "0.000000001");
    /* 1.000 JOD at 1.41 USD = 1.41 USD; 3 decimals to 2. */
    assert_int_equal(money_convert(1000, "JOD", INT64_C(1410000000), "USD", &out, &e), 0);
    assert_int_equal(out, 141);
    /* Half away from zero: 0.01 EUR x 1.5 = 0.015 -> 0.02; -0.015 -> -0.02. */
    assert_int_equal(money_convert(1, "EUR", INT64_C(1500000000), "USD", &out, &e), 0);
    assert_int_equal(out, 2);
    assert_int_equal(money_convert(-1, "EUR", INT64_C(1500000000), "USD", &out, &e), 0);
    assert_int_equal(out, -2);
    /* Just below half rounds down. */
    assert_int_equal(money_convert(1, "EUR", INT64_C(1499999999), "USD", &out, &e), 0);
    assert_int_equal(out, 1);
    /* JPY (0 decimals) to KWD (3): 1000 JPY at 0.002 = 2.000 KWD. */
    assert_int_equal(money_convert(1000, "JPY", INT64_C(2000000), "KWD", &out, &e), 0);
    assert_int_equal(out, 2000);
    /* USD to JPY: 1.00 USD at 150.5 = 150.5 -> 151 (half up). */
    assert_int_equal(money_convert(100, "USD", INT64_C(150500000000), "JPY", &out, &e), 0);
    assert_int_equal(out, 151);
    /* Identity at rate 1 for equal exponents, for the extremes too. */
    assert_int_equal(money_convert(INT64_MAX, "USD", MONEY_RATE_ONE, "EUR", &out, &e), 0);
    assert_true(out == INT64_MAX);
    assert_int_equal(money_convert(-INT64_MAX, "USD", MONEY_RATE_ONE, "EUR", &out, &e), 0);
    assert_true(out == -INT64_MAX);
    /* Overflow is refused, not wrapped. */
    err_clear(&e);
    assert_int_equal(money_convert(INT64_MAX, "USD", 2 * MONEY_RATE_ONE, "EUR", &out, &e), -1);
    assert_string_equal(e.code, "amount_too_large");
    err_clear(&e);
    assert_int_equal(money_convert(INT64_MAX, "JPY", INT64_MAX, "KWD", &out, &e), -1);
    assert_string_equal(e.code, "amount_too_large");
    err_clear(&e);
    assert_int_equal(money_convert(1, "XXX", MONEY_RATE_ONE, "USD", &out, &e), -1);
    assert_string_equal(e.code, "unknown_currency");
    err_clear(&e);
    assert_int_equal(money_convert(1, "USD", 0, "EUR", &out, &e), -1);
}

static void test_parse_format(void **state)
{
    (void)state;
    struct err e;
    struct money m;
    const struct {
        const char *text, *cur; /* input */
        int64_t minor;          /* expected, when code is NULL */
        const char *code;       /* expected error code or NULL */
    } cases[] = {
        {"12.50", "USD", 1250, NULL},   {"12.5", "USD", 1250, NULL},
        {"12", "USD", 1200, NULL},      {"0.001", "JOD", 1, NULL},
        {"1.001", "USD", 0, "too_many_decimals"}, {"1.5", "JPY", 0, "too_many_decimals"},
        {"100", "JPY", 100, NULL},      {"1", "XXX", 0, "unknown_currency"},
        {"", "USD", 0, "invalid_amount"}, {"1.", "USD", 0, "invalid_amount"},
        {"1,5", "USD", 0, "invalid_amount"}, {"-0.01", "USD", -1, NULL},
        {"92233720368547758.08", "USD", 0, "amount_too_large"},
        {"92233720368547758.07", "USD", INT64_MAX, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err_clear(&e);
        int rc = money_parse(cases[i].text, cases[i].cur, &m, &e);
        if (cases[i].code) {
            assert_int_equal(rc, -1);
            assert_string_equal(e.code, cases[i].code);
        } else {
            assert_int_equal(rc, 0);
            assert_true(m.minor == cases[i].minor);
        }
    }
    char out[40];
    struct money j = {.minor = -1, .currency = "JOD"};
    assert_string_equal(money_format(&j, out, sizeof(out)), "-0.001");
    struct money y = {.minor = 150, .currency = "JPY"};
    assert_string_equal(money_format(&y, out, sizeof(out)), "150");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_money),
        cmocka_unit_test(test_parse_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
