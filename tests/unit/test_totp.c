/*
 * test_totp.c: SHA-1 against known digests, HOTP (RFC 4226) and TOTP
 * (RFC 6238) test vectors, base32 edge cases, the verification window and
 * replay refusal, otpauth URIs and QR codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/totp.h"
#include "core/buf.h"
#include "core/text.h"
#include "core/xalloc.h"
#include "core/banned.h"

/* The RFC 4226 / RFC 6238 SHA-1 test key and its base32 form. */
static const unsigned char rfc_key[] = "12345678901234567890";
#define RFC_KEY_LEN 20
#define RFC_KEY_B32 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

/* Hex SHA-1 of data. */
static void sha1_hex(const void *data, size_t n, char out[41])
{
    unsigned char d[20];
    sha1(data, n, d);
    text_hex(d, 20, out);
}

static void test_sha1_known(void **state)
{
    (void)state;
    char hex[41];
    sha1_hex("", 0, hex);
    assert_string_equal(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    sha1_hex("abc", 3, hex);
    assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha1_hex(two, strlen(two), hex);
    assert_string_equal(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    /* lengths at the padding boundaries (55, 56, 63, 64, 65, 119, 120 bytes) */
    static const struct {
        size_t n;
        const char *hex;
    } as[] = {
        {55, "c1c8bbdc22796e28c0e15163d20899b65621d65a"},
        {56, "c2db330f6083854c99d4b5bfb6e8f29f201be699"},
        {63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5"},
        {64, "0098ba824b5c16427bd7a1122a5a442a25ec644d"},
        {65, "11655326c708d70319be2610e8a57d9a5b959d3b"},
        {119, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56"},
        {120, "f34c1488385346a55709ba056ddd08280dd4c6d6"},
    };
    char a[128];
    memset(a, 'a', sizeof(a));
    for (size_t i = 0; i < sizeof(as) / sizeof(as[0]); i++) {
        sha1_hex(a, as[i].n, hex);
        if (strcmp(hex, as[i].hex) != 0) {
            fail_msg("sha1 of %zu 'a': %s", as[i].n, hex);
        }
    }
    /* all byte values */
    unsigned char all[768];
    for (int i = 0; i < 768; i++) {
        all[i] = (unsigned char)i;
    }
    sha1_hex(all, sizeof(all), hex);
    assert_string_equal(hex, "ac2a264c8ec1f4232a40854e8239bc3a697ab1d2");
}

static void test_sha1_million(void **state)
{
    (void)state;
    size_t n = 1000000;
    char *m = xmalloc(n);
    memset(m, 'a', n);
    char hex[41];
    sha1_hex(m, n, hex);
    free(m);
    assert_string_equal(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

static void test_hotp_rfc4226(void **state)
{
    (void)state;
    static const uint32_t want[] = {755224, 287082, 359152, 969429, 338314,
                                    254676, 287922, 162583, 399871, 520489};
    for (uint64_t c = 0; c < 10; c++) {
        assert_int_equal(hotp(rfc_key, RFC_KEY_LEN, c, 6), want[c]);
    }
}

static void test_totp_rfc6238(void **state)
{
    (void)state;
    /* RFC 6238 appendix B, SHA-1, 8 digits: counter = T / 30 */
    static const struct {
        int64_t t;
        uint32_t code;
    } v[] = {
        {59, 94287082},         {1111111109, 7081804},  {1111111111, 14050471},
        {1234567890, 89005924}, {2000000000, 69279037}, {20000000000LL, 65353130},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint32_t got = hotp(rfc_key, RFC_KEY_LEN, (uint64_t)(v[i].t / 30), 8);
        if (got != v[i].code) {
            fail_msg("T=%lld: %08u, wanted %08u", (long long)v[i].t, got, v[i].code);
        }
    }
    /* the same through totp_verify with 6 digits (the last six of the 8) */
    char code[8];
    snprintf(code, sizeof(code), "%06u", 94287082u % 1000000);
    assert_int_equal(totp_verify(RFC_KEY_B32, code, 59, 0), 1);
    snprintf(code, sizeof(code), "%06u", 65353130u % 1000000);
    assert_int_equal(totp_verify(RFC_KEY_B32, code, 20000000000LL, 0), 20000000000LL / 30);
    /* a key longer than the SHA-1 block is hashed first (RFC 2104) */
    unsigned char long_key[100];
    memset(long_key, 0x31, sizeof(long_key));
    unsigned char digest[20];
    sha1(long_key, sizeof(long_key), digest);
    assert_int_equal(hotp(long_key, sizeof(long_key), 5, 6), hotp(digest, 20, 5, 6));
}

/* Decodes in and compares with want (a string), or expects -1 when want is NULL. */
static void b32_expect(const char *in, size_t cap, const char *want)
{
    unsigned char out[64];
    memset(out, 0xee, sizeof(out));
    int n = base32_decode(in, out, cap);
    if (!want) {
        if (n != -1) {
            fail_msg("'%s' decoded to %d bytes", in, n);
        }
        return;
    }
    if (n != (int)strlen(want) || memcmp(out, want, strlen(want)) != 0) {
        fail_msg("'%s' gave %d bytes, wanted '%s'", in, n, want);
    }
    assert_int_equal(out[n], 0xee); /* nothing beyond */
}

static void test_base32(void **state)
{
    (void)state;
    /* RFC 4648 section 10 */
    b32_expect("", 64, "");
    b32_expect("MY======", 64, "f");
    b32_expect("MZXQ====", 64, "fo");
    b32_expect("MZXW6===", 64, "foo");
    b32_expect("MZXW6YQ=", 64, "foob");
    b32_expect("MZXW6YTB", 64, "fooba");
    b32_expect("MZXW6YTBOI======", 64, "foobar");
    /* without padding, lower case, with spaces and dashes */
    b32_expect("MZXW6YTBOI", 64, "foobar");
    b32_expect("mzxw6ytboi", 64, "foobar");
    b32_expect("mZxW 6yTb-Oi", 64, "foobar");
    b32_expect("====", 64, "");
    b32_expect(RFC_KEY_B32, 64, "12345678901234567890");
    /* malformed: digits 0, 1, 8, 9 are not in the alphabet; punctuation; non-ASCII */
    b32_expect("MZXW0", 64, NULL);
    b32_expect("MZXW1", 64, NULL);
    b32_expect("MZXW8", 64, NULL);
    b32_expect("MZXW9", 64, NULL);
    b32_expect("MZ!W6", 64, NULL);
    b32_expect("MZ\tW6", 64, NULL);
    b32_expect("MZXW6\n", 64, NULL);
    b32_expect("مرحبا", 64, NULL);
    b32_expect("\xff", 64, NULL);
    /* capacity: exactly enough, and one short */
    b32_expect("MZXW6YTBOI", 6, "foobar");
    b32_expect("MZXW6YTBOI", 5, NULL);
    b32_expect("MY", 0, NULL);
    b32_expect("M", 0, ""); /* 5 bits make no byte */
    /* a long secret */
    char big[1601];
    memset(big, 'A', 1600);
    big[1600] = '\0';
    unsigned char out[1000];
    assert_int_equal(base32_decode(big, out, sizeof(out)), 1000);
    assert_int_equal(base32_decode(big, out, 999), -1);
}

static void test_totp_new_secret(void **state)
{
    (void)state;
    char a[TOTP_SECRET_B32], b[TOTP_SECRET_B32];
    totp_new_secret(a);
    totp_new_secret(b);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), 32);
    assert_string_not_equal(a, b);
    unsigned char key[32];
    assert_int_equal(base32_decode(a, key, sizeof(key)), 20);
}

/* The 6-digit code of key for step, as text. */
static void code_at(int64_t step, char out[7])
{
    snprintf(out, 7, "%06u", hotp(rfc_key, RFC_KEY_LEN, (uint64_t)step, 6));
}

static void test_totp_window(void **state)
{
    (void)state;
    int64_t now = 30 * 1000000 + 17; /* step 1000000 */
    int64_t step = now / 30;
    char c[7];
    for (int64_t d = -1; d <= 1; d++) {
        code_at(step + d, c);
        assert_int_equal(totp_verify(RFC_KEY_B32, c, now, 0), step + d);
    }
    /* two steps away is refused (the codes of this key differ over the window) */
    code_at(step - 2, c);
    assert_int_equal(totp_verify(RFC_KEY_B32, c, now, 0), -1);
    code_at(step + 2, c);
    assert_int_equal(totp_verify(RFC_KEY_B32, c, now, 0), -1);
    /* at the edges of a step */
    code_at(step, c);
    assert_int_equal(totp_verify(RFC_KEY_B32, c, step * 30, 0), step);
    assert_int_equal(totp_verify(RFC_KEY_B32, c, step * 30 + 29, 0), step);
    assert_int_equal(totp_verify(RFC_KEY_B32, c, step * 30 + 30, 0), step);      /* drift -1 */
    assert_int_equal(totp_verify(RFC_KEY_B32, c, step * 30 + 60, 0), -1);
    assert_int_equal(totp_verify(RFC_KEY_B32, c, step * 30 - 1, 0), step);       /* drift +1 */
    assert_int_equal(totp_verify(RFC_KEY_B32, c, step * 30 - 31, 0), -1);
    /* the secret in lower case with spaces works too */
    assert_int_equal(totp_verify("gezd gnbv gy3t qojq gezd gnbv gy3t qojq", c, now, 0), step);
}

static void test_totp_replay(void **state)
{
    (void)state;
    int64_t now = 30 * 2000000 + 3;
    int64_t step = now / 30;
    char c[7];
    code_at(step, c);
    int64_t used = totp_verify(RFC_KEY_B32, c, now, 0);
    assert_int_equal(used, step);
    /* the same code again, with last_step stored: refused */
    assert_int_equal(totp_verify(RFC_KEY_B32, c, now, used), -1);
    assert_int_equal(totp_verify(RFC_KEY_B32, c, now + 20, used), -1);
    /* an earlier step's code after a later one was used: refused */
    code_at(step - 1, c);
    assert_int_equal(totp_verify(RFC_KEY_B32, c, now, step), -1);
    /* the next step is still fine */
    code_at(step + 1, c);
    assert_int_equal(totp_verify(RFC_KEY_B32, c, now, step), step + 1);
    /* last_step far in the future refuses everything */
    code_at(step, c);
    assert_int_equal(totp_verify(RFC_KEY_B32, c, now, INT64_MAX), -1);
}

static void test_totp_bad_input(void **state)
{
    (void)state;
    int64_t now = 59;
    static const char *bad[] = {
        "", "28708", "2870821", "28708a", " 87082", "287082 ", "-87082", "+87082",
        "٢٨٧٠٨٢", "28 082", "0x1234",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(totp_verify(RFC_KEY_B32, bad[i], now, 0), -1);
    }
    assert_int_equal(totp_verify(RFC_KEY_B32, NULL, now, 0), -1);
    /* a good code with a bad or empty secret */
    char c[7];
    code_at(1, c);
    assert_int_equal(totp_verify(RFC_KEY_B32, c, now, 0), 1);
    assert_int_equal(totp_verify("", c, now, 0), -1);
    assert_int_equal(totp_verify("0000", c, now, 0), -1);
    assert_int_equal(totp_verify("====", c, now, 0), -1);
    char huge[400];
    memset(huge, 'A', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    assert_int_equal(totp_verify(huge, c, now, 0), -1); /* longer than the key buffer */
    /* time 0: the window reaches step -1 without harm */
    code_at(0, c);
    assert_int_equal(totp_verify(RFC_KEY_B32, c, 0, -1), 0);
}

static void test_totp_uri(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    totp_uri(&b, "Sanad", "hope-org/ahmad", RFC_KEY_B32);
    assert_string_equal(b.buf, "otpauth://totp/Sanad:hope-org%2Fahmad?secret=" RFC_KEY_B32
                               "&issuer=Sanad&algorithm=SHA1&digits=6&period=30");
    buf_reset(&b);
    totp_uri(&b, "سند & co", "a:b?c", "ABC");
    assert_string_equal(b.buf, "otpauth://totp/%D8%B3%D9%86%D8%AF%20%26%20co:a%3Ab%3Fc"
                               "?secret=ABC&issuer=%D8%B3%D9%86%D8%AF%20%26%20co"
                               "&algorithm=SHA1&digits=6&period=30");
    buf_release(&b);
}

static void test_qr_svg(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    assert_int_equal(qr_svg(&b, "otpauth://totp/Sanad:x?secret=" RFC_KEY_B32), 0);
    assert_int_equal(strncmp(b.buf, "<svg ", 5), 0);
    assert_non_null(strstr(b.buf, "</svg>"));
    assert_non_null(strstr(b.buf, "M4 4h1v1h-1z")); /* the finder pattern's first module */
    size_t first = b.len;
    buf_reset(&b);
    assert_int_equal(qr_svg(&b, "مرحبا"), 0);
    assert_true(b.len > 100);
    buf_reset(&b);
    /* far beyond what a QR code holds */
    char *big = xmalloc(10001);
    memset(big, 'x', 10000);
    big[10000] = '\0';
    assert_int_equal(qr_svg(&b, big), -1);
    assert_int_equal(b.len, 0);
    free(big);
    buf_release(&b);
    assert_true(first > 1000);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha1_known),
        cmocka_unit_test(test_sha1_million),
        cmocka_unit_test(test_hotp_rfc4226),
        cmocka_unit_test(test_totp_rfc6238),
        cmocka_unit_test(test_base32),
        cmocka_unit_test(test_totp_new_secret),
        cmocka_unit_test(test_totp_window),
        cmocka_unit_test(test_totp_replay),
        cmocka_unit_test(test_totp_bad_input),
        cmocka_unit_test(test_totp_uri),
        cmocka_unit_test(test_qr_svg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
