/*
 * test_core.c: the core helpers (buf, arena, err, xalloc, time, money, uuid,
 * text, config, log) with the nasty inputs: empty, huge, invalid UTF-8, mixed
 * scripts, zero and negative money, int64 overflow, leap days, far dates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/money.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "core/xalloc.h"
#include "core/banned.h"

/* ---------------------------------------------------------------- buf */

/* Checks the documented invariants of b: never NULL, NUL at len, len < alloc. */
static void buf_check(const struct buf *b)
{
    assert_non_null(b->buf);
    assert_int_equal(b->buf[b->len], '\0');
    if (b->alloc) {
        assert_true(b->len < b->alloc);
    } else {
        assert_int_equal(b->len, 0);
        assert_ptr_equal(b->buf, buf_empty);
    }
}

static void test_buf_empty(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    buf_check(&b);
    assert_string_equal(b.buf, "");
    buf_add(&b, "x", 0); /* nothing added: still owns nothing */
    buf_check(&b);
    assert_int_equal(b.alloc, 0);
    buf_adds(&b, "");
    buf_check(&b);
    buf_reset(&b);
    buf_check(&b);
    buf_release(&b);
    buf_check(&b);
    buf_release(&b); /* twice is harmless */
    buf_check(&b);
    size_t n = 99;
    char *p = buf_detach(&b, &n);
    assert_non_null(p);
    assert_string_equal(p, "");
    assert_int_equal(n, 0);
    assert_ptr_not_equal(p, buf_empty); /* the caller may free it */
    free(p);
    buf_check(&b);
    struct buf c;
    buf_init(&c);
    buf_check(&c);
}

static void test_buf_grows(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    for (int i = 0; i < 100000; i++) {
        buf_addch(&b, 'a' + i % 26);
        if (i % 997 == 0) {
            buf_check(&b);
        }
    }
    buf_check(&b);
    assert_int_equal(b.len, 100000);
    for (int i = 0; i < 100000; i++) {
        assert_int_equal(b.buf[i], 'a' + i % 26);
    }
    buf_setlen(&b, 3);
    buf_check(&b);
    assert_string_equal(b.buf, "abc");
    buf_reset(&b);
    buf_check(&b);
    assert_true(b.alloc > 0); /* memory kept */
    buf_add(&b, "a\0b", 3);   /* embedded NUL kept */
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.buf, "a\0b", 4);
    buf_release(&b);

    /* addch of a high byte and of NUL */
    buf_addch(&b, 0xd8);
    buf_addch(&b, 0);
    assert_int_equal(b.len, 2);
    assert_int_equal((unsigned char)b.buf[0], 0xd8);
    buf_check(&b);
    buf_release(&b);

    /* grow reserves without changing the content */
    buf_adds(&b, "keep");
    buf_grow(&b, 1 << 20);
    assert_true(b.alloc >= (1u << 20) + 5);
    assert_string_equal(b.buf, "keep");
    buf_check(&b);
    buf_release(&b);

    /* setlen on an empty buffer allocates */
    buf_setlen(&b, 0);
    buf_check(&b);
    buf_setlen(&b, 10);
    assert_int_equal(b.len, 10);
    assert_int_equal(b.buf[10], '\0');
    buf_release(&b);
}

static void test_buf_addf(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    buf_addf(&b, "%s", "");
    buf_check(&b);
    assert_int_equal(b.len, 0);
    buf_addf(&b, "%d-%s", 42, "مرحبا");
    assert_string_equal(b.buf, "42-مرحبا");
    buf_check(&b);
    /* a long string, far beyond the first guess of 64 bytes */
    char *big = xmalloc(200001);
    memset(big, 'x', 200000);
    big[200000] = '\0';
    buf_addf(&b, "[%s]", big);
    buf_check(&b);
    assert_int_equal(b.len, strlen("42-مرحبا") + 200002);
    assert_int_equal(b.buf[b.len - 1], ']');
    assert_int_equal(b.buf[strlen("42-مرحبا")], '[');
    /* exactly at a boundary: fill to alloc - 1 then format more */
    buf_reset(&b);
    size_t room = b.alloc - 1;
    char *fill = xmalloc(room + 1);
    memset(fill, 'y', room);
    fill[room] = '\0';
    buf_adds(&b, fill);
    free(fill);
    buf_addf(&b, "%s", "z");
    buf_check(&b);
    assert_int_equal(b.len, room + 1);
    assert_int_equal(b.buf[room], 'z');
    /* many small additions */
    buf_reset(&b);
    for (int i = 0; i < 10000; i++) {
        buf_addf(&b, "%04d", i);
    }
    buf_check(&b);
    assert_int_equal(b.len, 40000);
    assert_memory_equal(b.buf + 4 * 9999, "9999", 4);
    free(big);

    size_t n = 0;
    char *p = buf_detach(&b, &n);
    assert_int_equal(n, 40000);
    assert_int_equal(strlen(p), 40000);
    buf_check(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.alloc, 0);
    free(p);
    buf_adds(&b, "again");
    p = buf_detach(&b, NULL);
    assert_string_equal(p, "again");
    free(p);
}

/* -------------------------------------------------------------- arena */

static void test_arena_alignment(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    for (size_t n = 0; n < 300; n++) {
        unsigned char *p = arena_alloc(&a, n);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        memset(p, 0xab, n); /* ASan catches an overrun here */
    }
    /* a big one-off in the middle: alignment kept, earlier memory intact */
    char *s1 = arena_strdup(&a, "before");
    unsigned char *big = arena_alloc(&a, 1 << 20);
    assert_int_equal((uintptr_t)big % 16, 0);
    memset(big, 1, 1 << 20);
    char *s2 = arena_strdup(&a, "after");
    assert_string_equal(s1, "before");
    assert_string_equal(s2, "after");
    assert_int_equal(big[(1 << 20) - 1], 1);
    assert_true(a.total >= (1u << 20));
    /* zalloc zeroes even reused memory */
    unsigned char *z = arena_zalloc(&a, 1000);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(z[i], 0);
    }
    /* many blocks */
    for (int i = 0; i < 10000; i++) {
        char *p = arena_printf(&a, "item %d", i);
        assert_int_equal((uintptr_t)p % 16, 0);
    }
    arena_release(&a);
    assert_null(a.head);
    assert_int_equal(a.total, 0);
    /* usable after release */
    assert_string_equal(arena_strdup(&a, "ok"), "ok");
    arena_release(&a);
}

static void test_arena_strings(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    assert_null(arena_strdup(&a, NULL));
    assert_string_equal(arena_strdup(&a, ""), "");
    assert_string_equal(arena_strdup(&a, "يتيم orphan"), "يتيم orphan");
    char *p = arena_strndup(&a, "abcdef", 3);
    assert_string_equal(p, "abc");
    p = arena_strndup(&a, "abc", 0);
    assert_string_equal(p, "");
    assert_string_equal(arena_printf(&a, "%s", ""), "");
    assert_string_equal(arena_printf(&a, "%d/%s", -7, "x"), "-7/x");
    /* longer than the 256-byte first try */
    char big[5000];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    p = arena_printf(&a, "<%s>", big);
    assert_int_equal(strlen(p), sizeof(big) - 1 + 2);
    assert_int_equal(p[0], '<');
    assert_int_equal(p[sizeof(big)], '>');
    /* exactly 255 and 256 characters: the edge of the small buffer */
    p = arena_printf(&a, "%.255s", big);
    assert_int_equal(strlen(p), 255);
    p = arena_printf(&a, "%.256s", big);
    assert_int_equal(strlen(p), 256);
    /* a huge strdup */
    char *huge = xmalloc(100001);
    memset(huge, 'h', 100000);
    huge[100000] = '\0';
    p = arena_strdup(&a, huge);
    assert_int_equal(strlen(p), 100000);
    free(huge);
    arena_release(&a);
}

/* ---------------------------------------------------------- err, xalloc */

static void test_err(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    assert_false(err_failed(&e));
    assert_int_equal(e.kind, ERR_NONE);
    assert_int_equal(err_set(&e, ERR_INVALID, "bad", "name", "'%s' is bad", "name"), -1);
    assert_true(err_failed(&e));
    assert_string_equal(e.code, "bad");
    assert_string_equal(e.field, "name");
    assert_string_equal(e.msg, "'name' is bad");
    assert_int_equal(err_set(NULL, ERR_INTERNAL, "x", NULL, "no struct"), -1);
    err_set(&e, ERR_LIMIT, NULL, NULL, "x");
    assert_string_equal(e.code, "");
    assert_string_equal(e.field, "");
    /* long values are cut, never overrun */
    char big[1000];
    memset(big, 'm', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    err_set(&e, ERR_INVALID, big, big, "%s", big);
    assert_int_equal(strlen(e.code), sizeof(e.code) - 1);
    assert_int_equal(strlen(e.field), sizeof(e.field) - 1);
    assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
    err_clear(&e);
    assert_false(err_failed(&e));
}

static void test_xalloc(void **state)
{
    (void)state;
    void *p = xmalloc(0);
    assert_non_null(p);
    free(p);
    int *z = xcalloc(100, sizeof(int));
    for (int i = 0; i < 100; i++) {
        assert_int_equal(z[i], 0);
    }
    z = xrealloc(z, 0);
    assert_non_null(z);
    free(z);
    char *s = xstrdup("");
    assert_string_equal(s, "");
    free(s);
    s = xstrndup("abcdef", 2);
    assert_string_equal(s, "ab");
    free(s);
    assert_int_equal(xmul(0, SIZE_MAX), 0);
    assert_int_equal(xmul(SIZE_MAX, 1), SIZE_MAX);
    assert_int_equal(xmul(1u << 16, 1u << 16), (size_t)1 << 32);
}

/* --------------------------------------------------------------- time */

static void test_time_leap_days(void **state)
{
    (void)state;
    assert_true(time_date_valid(2024, 2, 29));
    assert_false(time_date_valid(2023, 2, 29));
    assert_false(time_date_valid(1900, 2, 29));
    assert_true(time_date_valid(2000, 2, 29));
    assert_false(time_date_valid(2100, 2, 29));
    assert_true(time_date_valid(2400, 2, 29));
    assert_true(time_date_valid(4, 2, 29));
    assert_false(time_date_valid(2024, 2, 30));
    assert_true(time_date_valid(2023, 2, 28));
    /* month lengths */
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int m = 1; m <= 12; m++) {
        assert_true(time_date_valid(2023, m, mdays[m - 1]));
        assert_false(time_date_valid(2023, m, mdays[m - 1] + 1));
        assert_false(time_date_valid(2023, m, 0));
    }
    assert_false(time_date_valid(2023, 0, 1));
    assert_false(time_date_valid(2023, 13, 1));
    assert_false(time_date_valid(2023, -1, 1));
    assert_false(time_date_valid(2023, 1, -1));
    assert_false(time_date_valid(0, 1, 1));
    assert_false(time_date_valid(10000, 1, 1));
    assert_true(time_date_valid(1, 1, 1));
    assert_true(time_date_valid(9999, 12, 31));
}

static void test_time_date_parse(void **state)
{
    (void)state;
    int y = 0, m = 0, d = 0;
    assert_int_equal(time_date_parse("2024-02-29", &y, &m, &d), 0);
    assert_int_equal(y, 2024);
    assert_int_equal(m, 2);
    assert_int_equal(d, 29);
    assert_int_equal(time_date_parse("2000-02-29", &y, &m, &d), 0);
    assert_int_equal(time_date_parse("0001-01-01", &y, &m, &d), 0);
    assert_int_equal(time_date_parse("9999-12-31", &y, &m, &d), 0);
    y = m = d = -5;
    static const char *bad[] = {
        "2023-02-29", "1900-02-29", "", "2024", "2024-02", "2024-02-2", "2024-2-29",
        "2024-02-29 ", " 2024-02-29", "2024-02-29T00:00", "2024/02/29", "24-02-29",
        "0000-01-01", "2024-00-10", "2024-13-01", "2024-01-00", "2024-01-32", "+024-01-01",
        "-024-01-01", "2024-0a-01", "٢٠٢٤-٠٢-٢٩", ("2024\xe2\x80\x91" "02-29"), "20240229",
        "2024-02-29\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (time_date_parse(bad[i], &y, &m, &d) != -1) {
            fail_msg("'%s' was accepted", bad[i]);
        }
    }
    assert_int_equal(y, -5); /* untouched on failure */
}

static void test_time_civil_known(void **state)
{
    (void)state;
    assert_int_equal(time_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(time_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(time_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(time_days_from_civil(2024, 2, 29), 19782);
    assert_int_equal(time_days_from_civil(2024, 3, 1), 19783);
    assert_int_equal(time_days_from_civil(1900, 3, 1) - time_days_from_civil(1900, 2, 28), 1);
    assert_int_equal(time_days_from_civil(2000, 3, 1) - time_days_from_civil(2000, 2, 28), 2);
    assert_int_equal(time_days_from_civil(0, 3, 1), -719468);
    assert_int_equal(time_days_from_civil(1, 1, 1), -719162);
    int y, m, d;
    time_civil_from_days(-719162, &y, &m, &d);
    assert_int_equal(y, 1);
    assert_int_equal(m, 1);
    assert_int_equal(d, 1);
    time_civil_from_days(2932896, &y, &m, &d);
    assert_int_equal(y, 9999);
    assert_int_equal(m, 12);
    assert_int_equal(d, 31);
}

/* Every day over +-1 million days round-trips, and consecutive days are
 * consecutive dates; plus a sparse sweep out to +-5 million years. */
static void test_time_civil_roundtrip(void **state)
{
    (void)state;
    int py = 0, pm = 0, pd = 0;
    time_civil_from_days(-1000001, &py, &pm, &pd);
    for (int64_t z = -1000000; z <= 1000000; z++) {
        int y, m, d;
        time_civil_from_days(z, &y, &m, &d);
        if (time_days_from_civil(y, m, d) != z) {
            fail_msg("day %lld gave %d-%d-%d which maps back elsewhere", (long long)z, y, m, d);
        }
        if (y >= 1 && y <= 9999 && !time_date_valid(y, m, d)) {
            fail_msg("day %lld gave impossible %d-%d-%d", (long long)z, y, m, d);
        }
        /* the next day after the previous one */
        bool next = (y == py && m == pm && d == pd + 1) || (y == py && m == pm + 1 && d == 1) ||
                    (y == py + 1 && m == 1 && d == 1 && pm == 12 && pd == 31);
        if (!next) {
            fail_msg("%d-%d-%d does not follow %d-%d-%d", y, m, d, py, pm, pd);
        }
        py = y;
        pm = m;
        pd = d;
    }
    for (int64_t z = -1800000000LL; z <= 1800000000LL; z += 99991) {
        int y, m, d;
        time_civil_from_days(z, &y, &m, &d);
        assert_true(m >= 1 && m <= 12 && d >= 1 && d <= 31);
        assert_int_equal(time_days_from_civil(y, m, d), z);
    }
}

static void test_time_format(void **state)
{
    (void)state;
    char out[64];
    time_format_iso(0, out, sizeof(out));
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    time_format_iso(-1, out, sizeof(out));
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    time_format_iso(-86400000, out, sizeof(out));
    assert_string_equal(out, "1969-12-31T00:00:00.000Z");
    time_format_iso(951782400123LL, out, sizeof(out));
    assert_string_equal(out, "2000-02-29T00:00:00.123Z");
    time_format_iso(253402300799999LL, out, sizeof(out));
    assert_string_equal(out, "9999-12-31T23:59:59.999Z");
    time_format_iso(1709251199000LL, out, sizeof(out));
    assert_string_equal(out, "2024-02-29T23:59:59.000Z");
    /* a too-small buffer is cut, never overrun */
    char small[8];
    time_format_iso(0, small, sizeof(small));
    assert_string_equal(small, "1970-01");
    time_format_http(0, out, sizeof(out));
    assert_string_equal(out, "Thu, 01 Jan 1970 00:00:00 GMT");
    time_format_http(784111777, out, sizeof(out));
    assert_string_equal(out, "Sun, 06 Nov 1994 08:49:37 GMT");
    time_format_http(1709164800, out, sizeof(out));
    assert_string_equal(out, "Thu, 29 Feb 2024 00:00:00 GMT");
    /* the clocks move forward and today agrees with now */
    int64_t a = time_now_ms(), n1 = time_mono_ns();
    assert_true(a > 1700000000000LL);
    int64_t n2 = time_mono_ns();
    assert_true(n2 >= n1);
    int y, m, d;
    time_today(&y, &m, &d);
    assert_true(time_date_valid(y, m, d));
    int64_t today = time_days_from_civil(y, m, d);
    assert_true(today == a / 86400000 || today == a / 86400000 + 1);
}

/* -------------------------------------------------------------- money */

/* Parses text for cur, expecting success and minor. */
static void money_ok(const char *text, const char *cur, int64_t minor)
{
    struct money m;
    struct err e;
    err_clear(&e);
    if (money_parse(text, cur, &m, &e) != 0) {
        fail_msg("'%s' %s refused: %s", text, cur, e.msg);
    }
    if (m.minor != minor) {
        fail_msg("'%s' %s gave %lld, wanted %lld", text, cur, (long long)m.minor,
                 (long long)minor);
    }
    assert_string_equal(m.currency, cur);
}

/* Parses text for cur, expecting a refusal with code. */
static void money_bad(const char *text, const char *cur, const char *code)
{
    struct money m = {123, "XXX"};
    struct err e;
    err_clear(&e);
    if (money_parse(text, cur, &m, &e) != -1) {
        fail_msg("'%s' %s accepted as %lld", text, cur, (long long)m.minor);
    }
    assert_int_equal(e.kind, ERR_INVALID);
    if (strcmp(e.code, code) != 0) {
        fail_msg("'%s' %s: code '%s', wanted '%s'", text, cur, e.code, code);
    }
    assert_true(strcmp(e.field, "amount") == 0 || strcmp(e.field, "currency") == 0);
    assert_int_equal(m.minor, 123); /* untouched */
}

static void test_money_exponent(void **state)
{
    (void)state;
    assert_int_equal(money_exponent("USD"), 2);
    assert_int_equal(money_exponent("JOD"), 3);
    assert_int_equal(money_exponent("KWD"), 3);
    assert_int_equal(money_exponent("JPY"), 0);
    assert_int_equal(money_exponent("EUR"), 2);
    assert_int_equal(money_exponent("usd"), -1);
    assert_int_equal(money_exponent(""), -1);
    assert_int_equal(money_exponent("US"), -1);
    assert_int_equal(money_exponent("USDX"), -1);
    assert_int_equal(money_exponent("XXX"), -1);
}

static void test_money_parse(void **state)
{
    (void)state;
    money_ok("12.50", "USD", 1250);
    money_ok("12.5", "USD", 1250);
    money_ok("12", "USD", 1200);
    money_ok("0", "USD", 0);
    money_ok("0.00", "USD", 0);
    money_ok("-0", "USD", 0);
    money_ok("-3", "USD", -300);
    money_ok("-0.01", "USD", -1);
    money_ok("007.10", "USD", 710);
    money_ok("1.234", "JOD", 1234);
    money_ok("0.001", "JOD", 1);
    money_ok("-1.5", "JOD", -1500);
    money_ok("1500", "JPY", 1500);
    money_ok("-1500", "JPY", -1500);
    /* near the top of int64 */
    money_ok("92233720368547757.99", "USD", 9223372036854775799LL);
    money_ok("-92233720368547757.99", "USD", -9223372036854775799LL);
    money_ok("922337203685477580", "JPY", 922337203685477580LL);

    money_bad("1.234", "USD", "too_many_decimals");
    money_bad("1.0001", "JOD", "too_many_decimals");
    money_bad("1.0", "JPY", "too_many_decimals");
    money_bad("0.000", "USD", "too_many_decimals");
    money_bad("1", "XXX", "unknown_currency");
    money_bad("1", "usd", "unknown_currency");
    money_bad("1", "", "unknown_currency");
    static const char *junk[] = {
        "", "-", ".", "-.", ".5", "1.", "1..0", "1.2.3", "+1", " 1", "1 ", "1,000", "1e3",
        "0x10", "--1", "1-", "١٢", "12\xd9", "NaN", "inf", "1.\n", "\t1",
    };
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        money_bad(junk[i], "USD", "invalid_amount");
    }
    /* overflow: in the digits and in the scaling to minor units */
    money_bad("99999999999999999999", "JPY", "amount_too_large");
    money_bad("92233720368547758.08", "USD", "amount_too_large");
    money_bad("92233720368547759", "USD", "amount_too_large");
    money_bad("-92233720368547759", "USD", "amount_too_large");
    money_bad("9223372036854775808", "JPY", "amount_too_large");
    money_bad("9223372036854776", "JOD", "amount_too_large");
    char huge[5000];
    memset(huge, '9', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    money_bad(huge, "USD", "amount_too_large");
}

/* INT64_MAX minor units is a representable amount and must parse: the
 * overflow check must refuse only what really overflows. */
static void test_money_parse_int64_max(void **state)
{
    (void)state;
    money_ok("9223372036854775807", "JPY", INT64_MAX);
    money_ok("92233720368547758.07", "USD", INT64_MAX);
    money_ok("92233720368547758.00", "USD", 9223372036854775800LL);
    money_ok("-9223372036854775807", "JPY", -INT64_MAX);
}

static void test_money_format(void **state)
{
    (void)state;
    char out[40];
    struct money m = {1250, "USD"};
    assert_string_equal(money_format(&m, out, sizeof(out)), "12.50");
    m = (struct money){0, "USD"};
    assert_string_equal(money_format(&m, out, sizeof(out)), "0.00");
    m = (struct money){-1, "USD"};
    assert_string_equal(money_format(&m, out, sizeof(out)), "-0.01");
    m = (struct money){-100, "USD"};
    assert_string_equal(money_format(&m, out, sizeof(out)), "-1.00");
    m = (struct money){1, "JOD"};
    assert_string_equal(money_format(&m, out, sizeof(out)), "0.001");
    m = (struct money){-1234567, "JOD"};
    assert_string_equal(money_format(&m, out, sizeof(out)), "-1234.567");
    m = (struct money){1500, "JPY"};
    assert_string_equal(money_format(&m, out, sizeof(out)), "1500");
    m = (struct money){-7, "JPY"};
    assert_string_equal(money_format(&m, out, sizeof(out)), "-7");
    m = (struct money){INT64_MAX, "USD"};
    assert_string_equal(money_format(&m, out, sizeof(out)), "92233720368547758.07");
    m = (struct money){INT64_MIN, "USD"};
    assert_string_equal(money_format(&m, out, sizeof(out)), "-92233720368547758.08");
    m = (struct money){INT64_MIN, "JOD"};
    assert_string_equal(money_format(&m, out, sizeof(out)), "-9223372036854775.808");
    m = (struct money){INT64_MIN, "JPY"};
    assert_string_equal(money_format(&m, out, sizeof(out)), "-9223372036854775808");
    /* a small buffer is cut and terminated */
    char small[4];
    m = (struct money){123456, "USD"};
    assert_string_equal(money_format(&m, small, sizeof(small)), "123");

    /* parse(format(x)) == x over a sweep of values in each exponent */
    static const char *curs[] = {"USD", "JOD", "JPY"};
    for (int c = 0; c < 3; c++) {
        for (int64_t v = -100000; v <= 100000; v += 7) {
            struct money a = {v, ""}, b;
            memcpy(a.currency, curs[c], 4);
            struct err e;
            err_clear(&e);
            money_format(&a, out, sizeof(out));
            assert_int_equal(money_parse(out, curs[c], &b, &e), 0);
            assert_int_equal(b.minor, v);
        }
    }
}

static void test_money_arith(void **state)
{
    (void)state;
    struct money a = {1250, "USD"}, b = {-250, "USD"}, r;
    struct err e;
    err_clear(&e);
    assert_int_equal(money_add(&a, &b, &r, &e), 0);
    assert_int_equal(r.minor, 1000);
    assert_string_equal(r.currency, "USD");
    assert_int_equal(money_sub(&a, &b, &r, &e), 0);
    assert_int_equal(r.minor, 1500);
    struct money j = {5, "JOD"};
    assert_int_equal(money_add(&a, &j, &r, &e), -1);
    assert_string_equal(e.code, "currency_mismatch");
    err_clear(&e);
    assert_int_equal(money_sub(&a, &j, &r, &e), -1);
    assert_string_equal(e.code, "currency_mismatch");
    struct money max = {INT64_MAX, "USD"}, min = {INT64_MIN, "USD"}, one = {1, "USD"};
    err_clear(&e);
    assert_int_equal(money_add(&max, &one, &r, &e), -1);
    assert_string_equal(e.code, "amount_too_large");
    err_clear(&e);
    assert_int_equal(money_sub(&min, &one, &r, &e), -1);
    assert_string_equal(e.code, "amount_too_large");
    err_clear(&e);
    assert_int_equal(money_sub(&one, &min, &r, &e), -1);
    err_clear(&e);
    assert_int_equal(money_add(&max, &min, &r, &e), 0);
    assert_int_equal(r.minor, -1);
    /* out may alias an input */
    assert_int_equal(money_add(&a, &a, &a, &e), 0);
    assert_int_equal(a.minor, 2500);
}

/* --------------------------------------------------------------- uuid */

/* The 48-bit timestamp of a UUIDv7 string, in ms. */
static int64_t uuid_ms(const char *u)
{
    int64_t ms = 0;
    for (int i = 0; i < 13; i++) {
        if (u[i] == '-') {
            continue;
        }
        int v = u[i] <= '9' ? u[i] - '0' : u[i] - 'a' + 10;
        ms = ms * 16 + v;
    }
    return ms;
}

/* Checks the canonical v7 shape of u. */
static void uuid_check(const char *u)
{
    assert_int_equal(strlen(u), 36);
    assert_true(uuid_valid(u));
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            assert_int_equal(u[i], '-');
        } else {
            assert_true((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f'));
        }
    }
    assert_int_equal(u[14], '7');                /* version */
    assert_non_null(strchr("89ab", u[19]));       /* variant 10xx */
}

static void test_uuid_one_thread(void **state)
{
    (void)state;
    int64_t before = time_now_ms();
    char prev[UUID_STR_LEN] = "";
    char first[UUID_STR_LEN];
    enum { N = 100000 };
    for (int i = 0; i < N; i++) {
        char u[UUID_STR_LEN];
        uuid_v7(u);
        if (i % 101 == 0) {
            uuid_check(u);
        }
        if (i == 0) {
            memcpy(first, u, sizeof(u));
        }
        if (strcmp(prev, u) >= 0) {
            fail_msg("id %d '%s' does not follow '%s'", i, u, prev);
        }
        memcpy(prev, u, sizeof(u));
    }
    int64_t after = time_now_ms();
    uuid_check(prev);
    /* timestamps near now: a counter overflow may push a few ms ahead */
    assert_true(uuid_ms(first) >= before - 1);
    assert_true(uuid_ms(first) <= after + 100);
    assert_true(uuid_ms(prev) >= before);
    assert_true(uuid_ms(prev) <= after + N / 4096 + 100);
}

enum { UUID_THREADS = 4, UUID_PER_THREAD = 20000 };
static char uuid_ids[UUID_THREADS][UUID_PER_THREAD][UUID_STR_LEN];

/* Makes UUID_PER_THREAD ids into its row of uuid_ids. */
static void *uuid_worker(void *arg)
{
    char(*rows)[UUID_STR_LEN] = arg;
    for (int i = 0; i < UUID_PER_THREAD; i++) {
        uuid_v7(rows[i]);
    }
    return NULL;
}

static int cmp_uuid(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_uuid_threads(void **state)
{
    (void)state;
    pthread_t t[UUID_THREADS];
    for (int i = 0; i < UUID_THREADS; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, uuid_worker, uuid_ids[i]), 0);
    }
    for (int i = 0; i < UUID_THREADS; i++) {
        pthread_join(t[i], NULL);
    }
    for (int i = 0; i < UUID_THREADS; i++) {
        for (int k = 1; k < UUID_PER_THREAD; k++) {
            if (strcmp(uuid_ids[i][k - 1], uuid_ids[i][k]) >= 0) {
                fail_msg("thread %d: id %d does not follow the one before", i, k);
            }
        }
    }
    /* all distinct across threads */
    static char all[UUID_THREADS * UUID_PER_THREAD][UUID_STR_LEN];
    memcpy(all, uuid_ids, sizeof(all));
    qsort(all, UUID_THREADS * UUID_PER_THREAD, UUID_STR_LEN, cmp_uuid);
    for (int i = 1; i < UUID_THREADS * UUID_PER_THREAD; i++) {
        assert_true(strcmp(all[i - 1], all[i]) < 0);
    }
    /* an id made after the threads are done sorts after every one of theirs */
    char later[UUID_STR_LEN];
    uuid_v7(later);
    assert_true(strcmp(all[UUID_THREADS * UUID_PER_THREAD - 1], later) < 0);
}

static void test_uuid_valid(void **state)
{
    (void)state;
    assert_true(uuid_valid("0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b"));
    assert_true(uuid_valid("0190A5B2-7C3D-7E4F-8A1B-2C3D4E5F6A7B"));
    assert_true(uuid_valid("00000000-0000-0000-0000-000000000000"));
    static const char *bad[] = {
        "", "0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7", "0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b0",
        "0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7g", "0190a5b2x7c3d-7e4f-8a1b-2c3d4e5f6a7b",
        "0190a5b27c3d7e4f8a1b2c3d4e5f6a7b", "{0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b}",
        "0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7 ", "0190a5b-27c3d-7e4f-8a1b-2c3d4e5f6a7b",
        "٠190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (uuid_valid(bad[i])) {
            fail_msg("'%s' was accepted", bad[i]);
        }
    }
}

/* --------------------------------------------------------------- text */

/* utf8_valid on a string literal, with its length. */
#define VALID(s) utf8_valid(s, sizeof(s) - 1)

static void test_utf8_valid(void **state)
{
    (void)state;
    assert_true(utf8_valid("", 0));
    assert_true(VALID("hello"));
    assert_true(VALID("مرحبا بالعالم"));
    assert_true(VALID("Ahmad أحمد 😀 中文 \t\r\n"));
    assert_true(VALID("\xc2\x80"));         /* U+0080 */
    assert_true(VALID("\xdf\xbf"));         /* U+07FF */
    assert_true(VALID("\xe0\xa0\x80"));     /* U+0800 */
    assert_true(VALID("\xed\x9f\xbf"));     /* U+D7FF */
    assert_true(VALID("\xee\x80\x80"));     /* U+E000 */
    assert_true(VALID("\xef\xbf\xbf"));     /* U+FFFF */
    assert_true(VALID("\xf0\x90\x80\x80")); /* U+10000 */
    assert_true(VALID("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
    assert_true(VALID("\x7f"));             /* DEL is not a C0 control */
    /* overlongs */
    assert_false(VALID("\xc0\xaf"));
    assert_false(VALID("\xc1\xbf"));
    assert_false(VALID("\xc0\x80"));        /* "modified UTF-8" NUL */
    assert_false(VALID("\xe0\x80\xaf"));
    assert_false(VALID("\xe0\x9f\xbf"));
    assert_false(VALID("\xf0\x80\x80\xaf"));
    assert_false(VALID("\xf0\x8f\xbf\xbf"));
    /* surrogates, halves and pairs */
    assert_false(VALID("\xed\xa0\x80"));
    assert_false(VALID("\xed\xbf\xbf"));
    assert_false(VALID("\xed\xa0\xbd\xed\xb8\x80"));
    /* beyond U+10FFFF */
    assert_false(VALID("\xf4\x90\x80\x80"));
    assert_false(VALID("\xf5\x80\x80\x80"));
    assert_false(VALID("\xf7\xbf\xbf\xbf"));
    assert_false(VALID("\xf8\x88\x80\x80\x80"));
    assert_false(VALID("\xfc\x84\x80\x80\x80\x80"));
    assert_false(VALID("\xfe"));
    assert_false(VALID("\xff"));
    /* truncated sequences, at the end and in the middle */
    assert_false(VALID("\xd9"));
    assert_false(VALID("abc\xd9"));
    assert_false(VALID("\xe2\x82"));
    assert_false(VALID("\xf0\x9f\x98"));
    assert_false(VALID("\xe2\x82x"));
    assert_false(VALID("\xf0\x9f\x98 "));
    /* a lone continuation byte */
    assert_false(VALID("\x80"));
    assert_false(VALID("a\xbf"));
    /* NUL and C0 controls */
    assert_false(utf8_valid("a\0b", 3));
    assert_false(VALID("\x01"));
    assert_false(VALID("a\x1b[31m"));
    assert_false(VALID("\x0b"));
    assert_false(VALID("\x0c"));
    assert_false(VALID("\x1f"));
    /* n limits what is read: a truncated view of valid text is invalid */
    const char *ar = "مرحبا";
    assert_true(utf8_valid(ar, strlen(ar)));
    assert_false(utf8_valid(ar, 3));
    assert_true(utf8_valid(ar, 4));
    /* a long valid text */
    struct buf b = BUF_INIT;
    for (int i = 0; i < 20000; i++) {
        buf_adds(&b, "أ1😀");
    }
    assert_true(utf8_valid(b.buf, b.len));
    b.buf[b.len - 2] = 'x'; /* break the last emoji */
    assert_false(utf8_valid(b.buf, b.len));
    buf_release(&b);
    /* every single byte on its own */
    for (int c = 0; c < 256; c++) {
        char s[1] = {(char)c};
        bool want = (c >= 0x20 && c < 0x80) || c == '\t' || c == '\n' || c == '\r';
        assert_int_equal(utf8_valid(s, 1), want);
    }
}

static void test_utf8_length(void **state)
{
    (void)state;
    assert_int_equal(utf8_length("", 0), 0);
    assert_int_equal(utf8_length("abc", 3), 3);
    const char *ar = "مرحبا";
    assert_int_equal(strlen(ar), 10);
    assert_int_equal(utf8_length(ar, strlen(ar)), 5);
    const char *mixed = "Ahmad أحمد 😀";
    assert_int_equal(utf8_length(mixed, strlen(mixed)), 12);
    const char *pw = "كلمةالسرطويلة"; /* 13 Arabic letters */
    assert_int_equal(utf8_length(pw, strlen(pw)), 13);
    const char *combining = "e\xcc\x81"; /* e + COMBINING ACUTE: two code points */
    assert_int_equal(utf8_length(combining, 3), 2);
}

/* The Arabic blocks and their edges: letters, presentation forms, and the
 * Latin, Hebrew and Syriac neighbours that are not Arabic. */
static void test_text_is_arabic(void **state)
{
    (void)state;
    assert_true(text_is_arabic(0x0627));  /* alef */
    assert_true(text_is_arabic(0x0600));
    assert_true(text_is_arabic(0x06ff));
    assert_true(text_is_arabic(0x0750));
    assert_true(text_is_arabic(0x08a0));
    assert_true(text_is_arabic(0xfe8d));  /* alef, isolated form */
    assert_true(text_is_arabic(0xfdf2));  /* the ligature Allah */
    assert_false(text_is_arabic('a'));
    assert_false(text_is_arabic(0x05d0)); /* Hebrew alef */
    assert_false(text_is_arabic(0x0700)); /* Syriac */
    assert_false(text_is_arabic(0xff21)); /* fullwidth A */
    assert_false(text_is_arabic(0xffffffffu));
}

static void test_text_word_in(void **state)
{
    (void)state;
    assert_true(text_word_in(" low medium high ", "low"));
    assert_true(text_word_in(" low medium high ", "high"));
    assert_true(text_word_in("low medium", "medium")); /* no padding needed */
    assert_false(text_word_in(" low medium high ", "med"));     /* prefix */
    assert_false(text_word_in(" low medium high ", "mediums")); /* longer */
    assert_false(text_word_in(" low medium high ", "low medium")); /* two words */
    assert_false(text_word_in(" low medium high ", ""));
    assert_false(text_word_in(" low medium high ", NULL));
    assert_false(text_word_in("", "low"));
    assert_false(text_word_in("   ", "low"));
}

static void test_text_helpers(void **state)
{
    (void)state;
    assert_true(text_equal_ct("", ""));
    assert_true(text_equal_ct("abc", "abc"));
    assert_false(text_equal_ct("abc", "abd"));
    assert_false(text_equal_ct("abc", "ab"));
    assert_false(text_equal_ct("", "a"));
    assert_true(text_equal_ct("مرحبا", "مرحبا"));

    char hex[2 * 4 + 1];
    const unsigned char bytes[] = {0x00, 0xab, 0x7f, 0xff};
    text_hex(bytes, 4, hex);
    assert_string_equal(hex, "00ab7fff");
    text_hex(bytes, 0, hex);
    assert_string_equal(hex, "");

    char s1[] = "  \t hello world \r\n";
    assert_string_equal(text_trim(s1), "hello world");
    char s2[] = "";
    assert_string_equal(text_trim(s2), "");
    char s3[] = " \t\n\v\f\r ";
    assert_string_equal(text_trim(s3), "");
    char s4[] = "x";
    assert_string_equal(text_trim(s4), "x");
    char s5[] = "\xc2\xa0" "a" "\xc2\xa0"; /* NBSP is not ASCII white space: kept */
    assert_string_equal(text_trim(s5), "\xc2\xa0" "a" "\xc2\xa0");
    char s6[] = " مرحبا ";
    assert_string_equal(text_trim(s6), "مرحبا");

    assert_true(text_blank(NULL));
    assert_true(text_blank(""));
    assert_true(text_blank(" \t\r\n\v\f"));
    assert_false(text_blank(" a "));
    assert_false(text_blank("\xc2\xa0"));
    assert_false(text_blank("ـ"));
}

/* ------------------------------------------------------------- config */

static char g_tmpdir[64]; /* folder for INI files */

/* Writes text into a new INI file and returns its path (static storage). */
static const char *ini_file(const char *text)
{
    static char path[128];
    static int n;
    snprintf(path, sizeof(path), "%s/c%d.ini", g_tmpdir, ++n);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static int config_setup(void **state)
{
    (void)state;
    snprintf(g_tmpdir, sizeof(g_tmpdir), "/tmp/sanad-test-core-XXXXXX");
    if (!mkdtemp(g_tmpdir)) {
        return -1;
    }
    return 0;
}

static int config_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Clears every SANAD_* variable this test sets. */
static void env_clear(void)
{
    unsetenv("SANAD_LISTEN");
    unsetenv("SANAD_THREADS");
    unsetenv("SANAD_SESSION_IDLE_MINUTES");
    unsetenv("SANAD_LOG_LEVEL");
    unsetenv("SANAD_BEHIND_TLS_PROXY");
}

static void test_config_defaults(void **state)
{
    (void)state;
    config_defaults();
    assert_string_equal(g_config.data_dir, "data");
    assert_null(g_config.db_url);
    assert_string_equal(g_config.listen, "127.0.0.1:8080");
    assert_string_equal(g_config.log_level, "info");
    assert_string_equal(g_config.default_lang, "ar");
    assert_int_equal(g_config.session_idle_min, 30);
    assert_int_equal(g_config.session_absolute_h, 12);
    assert_int_equal(g_config.login_max_failures, 5);
    assert_false(g_config.behind_tls_proxy);
    config_finish();
    assert_string_equal(g_config.db_url, "sqlite:data/sanad.db");
    assert_string_equal(g_config.key_file, "data/sanad.key");
    assert_true(g_config.threads > 0);
    /* finish keeps what was set */
    struct err e;
    err_clear(&e);
    config_defaults();
    assert_int_equal(config_set("data", "/srv/سند", &e), 0);
    assert_int_equal(config_set("db", "postgres://x/y", &e), 0);
    assert_int_equal(config_set("threads", "3", &e), 0);
    config_finish();
    assert_string_equal(g_config.db_url, "postgres://x/y");
    assert_string_equal(g_config.key_file, "/srv/سند/sanad.key");
    assert_int_equal(g_config.threads, 3);
    /* config_print names every option */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    config_print(f);
    fclose(f);
    assert_non_null(strstr(text, "listen"));
    assert_non_null(strstr(text, "127.0.0.1:8080"));
    assert_non_null(strstr(text, "session_idle_minutes"));
    assert_non_null(strstr(text, "behind_tls_proxy"));
    free(text);
    config_defaults();
}

static void test_config_set_values(void **state)
{
    (void)state;
    struct err e;
    config_defaults();
    err_clear(&e);
    assert_int_equal(config_set("threads", "0", &e), 0);
    assert_int_equal(config_set("threads", "256", &e), 0);
    assert_int_equal(g_config.threads, 256);
    assert_int_equal(config_set("json_body_max", "1048576", &e), 0);
    assert_int_equal(g_config.json_body_max, 1048576);
    assert_int_equal(config_set("upload_max", "2147483648", &e), 0);
    assert_int_equal(g_config.upload_max, (size_t)2147483648u);
    assert_int_equal(config_set("behind_tls_proxy", "yes", &e), 0);
    assert_true(g_config.behind_tls_proxy);
    assert_int_equal(config_set("behind_tls_proxy", "0", &e), 0);
    assert_false(g_config.behind_tls_proxy);
    assert_int_equal(config_set("default_lang", "en", &e), 0);
    assert_string_equal(g_config.default_lang, "en");
    assert_int_equal(config_set("listen", "", &e), 0); /* strings are taken as given */
    assert_string_equal(g_config.listen, "");
    assert_int_equal(config_set("log_level", "debug", &e), 0);
    assert_false(err_failed(&e));

    /* bad numbers are refused naming the key, and leave the value alone */
    static const struct {
        const char *key, *value;
    } bad[] = {
        {"threads", ""},           {"threads", "abc"},
        {"threads", "12abc"},      {"threads", "-1"},
        {"threads", "257"},        {"threads", "1.5"},
        {"threads", "0x10"},       {"threads", "99999999999999999999999"},
        {"threads", "٣"},          {"json_body_max", "1023"},
        {"json_body_max", "-5"},   {"upload_max", "18446744073709551616"},
        {"session_idle_minutes", "0"}, {"session_idle_minutes", "1441"},
        {"login_max_failures", "1 "}, {"request_timeout", "3601"},
        {"max_connections", "0"},  {"behind_tls_proxy", "maybe"},
        {"behind_tls_proxy", ""},  {"behind_tls_proxy", "TRUE "},
    };
    config_defaults();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&e);
        if (config_set(bad[i].key, bad[i].value, &e) != -1) {
            fail_msg("%s = '%s' accepted", bad[i].key, bad[i].value);
        }
        assert_int_equal(e.kind, ERR_INVALID);
        assert_string_equal(e.field, bad[i].key);
        char quoted[80];
        snprintf(quoted, sizeof(quoted), "'%s'", bad[i].key);
        if (!strstr(e.msg, quoted)) {
            fail_msg("message '%s' does not name %s", e.msg, quoted);
        }
    }
    assert_int_equal(g_config.threads, 0);
    assert_int_equal(g_config.session_idle_min, 30);
    assert_int_equal(g_config.json_body_max, 1 << 20);
    assert_false(g_config.behind_tls_proxy);

    /* unknown keys */
    static const char *unknown[] = {"", "nope", "LISTEN", "listen ", "threads\n", "ليسن"};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        err_clear(&e);
        assert_int_equal(config_set(unknown[i], "1", &e), -1);
        assert_string_equal(e.code, "unknown_config");
        assert_non_null(strstr(e.msg, "unknown option"));
    }
    config_defaults();
}

/* A refused value must not be applied: after config_set fails the option
 * keeps its previous value. */
static void test_config_refused_lang_not_applied(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    config_defaults();
    assert_int_equal(config_set("default_lang", "fr", &e), -1);
    assert_string_equal(e.field, "default_lang");
    assert_string_equal(g_config.default_lang, "ar");
    config_defaults();
}

static void test_config_file(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    config_defaults();
    const char *p = ini_file("; comment\n# another\n[server]\nlisten = 0.0.0.0:9000\n"
                             "threads=4\n\n[auth]\nsession_idle_minutes = 10\n"
                             "data = /var/lib/سند\n");
    assert_int_equal(config_load_file(p, false, &e), 0);
    assert_string_equal(g_config.listen, "0.0.0.0:9000");
    assert_int_equal(g_config.threads, 4);
    assert_int_equal(g_config.session_idle_min, 10);
    assert_string_equal(g_config.data_dir, "/var/lib/سند");

    /* an empty file is fine */
    assert_int_equal(config_load_file(ini_file(""), false, &e), 0);

    /* a missing file: optional or not */
    char missing[128];
    snprintf(missing, sizeof(missing), "%s/none.ini", g_tmpdir);
    assert_int_equal(config_load_file(missing, true, &e), 0);
    assert_false(err_failed(&e));
    assert_int_equal(config_load_file(missing, false, &e), -1);
    assert_non_null(strstr(e.msg, missing));

    /* a syntax error names the file and the line */
    err_clear(&e);
    p = ini_file("listen = a:1\nthreads = 2\nthis line has no equals sign\nthreads = 3\n");
    assert_int_equal(config_load_file(p, false, &e), -1);
    assert_non_null(strstr(e.msg, "line 3"));
    assert_non_null(strstr(e.msg, p));
    err_clear(&e);
    p = ini_file("[unclosed\nlisten = a:1\n");
    assert_int_equal(config_load_file(p, false, &e), -1);
    assert_non_null(strstr(e.msg, "line 1"));

    /* a bad value names the key and the line */
    err_clear(&e);
    p = ini_file("listen = a:1\n\nthreads = lots\n");
    assert_int_equal(config_load_file(p, false, &e), -1);
    assert_string_equal(e.field, "threads");
    assert_non_null(strstr(e.msg, "line 3"));
    assert_non_null(strstr(e.msg, "'threads'"));

    /* an unknown key is refused too */
    err_clear(&e);
    p = ini_file("listen = a:1\nlisten_port = 80\n");
    assert_int_equal(config_load_file(p, false, &e), -1);
    assert_string_equal(e.code, "unknown_config");
    assert_non_null(strstr(e.msg, "line 2"));
    assert_non_null(strstr(e.msg, "listen_port"));

    /* invalid UTF-8 and binary junk do not crash */
    err_clear(&e);
    p = ini_file("listen = \xff\xfe\x01\ndata=\xc0\xaf\n");
    config_load_file(p, false, &e);
    config_defaults();
}

static void test_config_precedence(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    env_clear();
    /* defaults < file < environment < config_set (flags), in the order the
     * command line applies them */
    config_defaults();
    const char *p = ini_file("listen = file:1\nthreads = 5\nsession_idle_minutes = 20\n"
                             "log_level = warn\n");
    setenv("SANAD_LISTEN", "env:2", 1);
    setenv("SANAD_SESSION_IDLE_MINUTES", "25", 1);
    assert_int_equal(config_load_file(p, false, &e), 0);
    assert_int_equal(config_load_env(&e), 0);
    assert_int_equal(config_set("listen", "flag:3", &e), 0);
    assert_string_equal(g_config.listen, "flag:3");               /* flag wins */
    assert_int_equal(g_config.session_idle_min, 25);              /* env over file */
    assert_int_equal(g_config.threads, 5);                        /* file over default */
    assert_string_equal(g_config.log_level, "warn");
    assert_int_equal(g_config.session_absolute_h, 12);            /* default */
    assert_string_equal(g_config.default_lang, "ar");

    /* a bad environment value is refused naming the key */
    err_clear(&e);
    setenv("SANAD_THREADS", "many", 1);
    assert_int_equal(config_load_env(&e), -1);
    assert_string_equal(e.field, "threads");
    assert_non_null(strstr(e.msg, "'threads'"));
    err_clear(&e);
    setenv("SANAD_THREADS", "", 1);
    assert_int_equal(config_load_env(&e), -1);
    setenv("SANAD_THREADS", "7", 1);
    setenv("SANAD_BEHIND_TLS_PROXY", "true", 1);
    err_clear(&e);
    assert_int_equal(config_load_env(&e), 0);
    assert_int_equal(g_config.threads, 7);
    assert_true(g_config.behind_tls_proxy);
    env_clear();
    config_defaults();
}

/* ---------------------------------------------------------------- log */

static void test_log_level_parse(void **state)
{
    (void)state;
    enum log_level l = LOG_ERROR;
    assert_int_equal(log_level_parse("debug", &l), 0);
    assert_int_equal(l, LOG_DEBUG);
    assert_int_equal(log_level_parse("info", &l), 0);
    assert_int_equal(l, LOG_INFO);
    assert_int_equal(log_level_parse("warn", &l), 0);
    assert_int_equal(l, LOG_WARN);
    assert_int_equal(log_level_parse("error", &l), 0);
    assert_int_equal(l, LOG_ERROR);
    static const char *bad[] = {"", "INFO", "Info", "warning", "err", "info ", " info",
                                "debugx", "trace", "fatal", "0"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        l = LOG_WARN;
        assert_int_equal(log_level_parse(bad[i], &l), -1);
        assert_int_equal(l, LOG_WARN);
    }
}

/* Runs log_write with stderr sent to a temporary file; returns what was written (caller frees). */
static char *capture_log(enum log_level level, const char *msg, const char *kv)
{
    fflush(stderr);
    int saved = dup(2);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    dup2(fileno(tmp), 2);
    if (kv) {
        log_write(level, msg, "%s", kv);
    } else {
        log_write(level, msg, NULL);
    }
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    long n = ftell(tmp);
    rewind(tmp);
    char *out = xmalloc((size_t)n + 1);
    size_t got = fread(out, 1, (size_t)n, tmp);
    out[got] = '\0';
    fclose(tmp);
    return out;
}

static void test_log_write(void **state)
{
    (void)state;
    log_set_level(LOG_INFO);
    char *s = capture_log(LOG_INFO, "hello \"world\"\n\\x", "k=v");
    assert_non_null(strstr(s, "level=info"));
    assert_non_null(strstr(s, "msg=\"hello \\\"world\\\"\\x0a\\\\x\""));
    assert_non_null(strstr(s, " k=v\n"));
    assert_int_equal(strncmp(s, "ts=", 3), 0);
    assert_ptr_equal(strchr(s, '\n'), s + strlen(s) - 1); /* one line: the newline was escaped */
    free(s);
    s = capture_log(LOG_DEBUG, "hidden", NULL);
    assert_string_equal(s, "");
    free(s);
    log_set_request_id("req-123");
    s = capture_log(LOG_ERROR, "مرحبا", NULL);
    assert_non_null(strstr(s, "level=error rid=req-123 msg=\"مرحبا\""));
    free(s);
    log_set_request_id(NULL);
    s = capture_log(LOG_WARN, "", NULL);
    assert_null(strstr(s, "rid="));
    assert_non_null(strstr(s, "msg=\"\"\n"));
    free(s);
    log_set_level(LOG_ERROR);
    s = capture_log(LOG_WARN, "quiet", NULL);
    assert_string_equal(s, "");
    free(s);
    log_set_level(LOG_INFO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_empty),
        cmocka_unit_test(test_buf_grows),
        cmocka_unit_test(test_buf_addf),
        cmocka_unit_test(test_arena_alignment),
        cmocka_unit_test(test_arena_strings),
        cmocka_unit_test(test_err),
        cmocka_unit_test(test_xalloc),
        cmocka_unit_test(test_time_leap_days),
        cmocka_unit_test(test_time_date_parse),
        cmocka_unit_test(test_time_civil_known),
        cmocka_unit_test(test_time_civil_roundtrip),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_money_exponent),
        cmocka_unit_test(test_money_parse),
        cmocka_unit_test(test_money_parse_int64_max),
        cmocka_unit_test(test_money_format),
        cmocka_unit_test(test_money_arith),
        cmocka_unit_test(test_uuid_one_thread),
        cmocka_unit_test(test_uuid_threads),
        cmocka_unit_test(test_uuid_valid),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_length),
        cmocka_unit_test(test_text_helpers),
        cmocka_unit_test(test_text_word_in),
        cmocka_unit_test(test_text_is_arabic),
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_set_values),
        cmocka_unit_test(test_config_refused_lang_not_applied),
        cmocka_unit_test(test_config_file),
        cmocka_unit_test(test_config_precedence),
        cmocka_unit_test(test_log_level_parse),
        cmocka_unit_test(test_log_write),
    };
    return cmocka_run_group_tests(tests, config_setup, config_teardown);
}
