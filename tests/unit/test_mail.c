/*
 * test_mail: the message builder (headers, encoded-words that never split a
 * character, CRLF everywhere, base64 body that decodes back and leaves no line
 * starting with '.'), address checks against header injection, the date
 * header, and the sender's refusals (bad URL, unreachable server).
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

#include "cases/mail.h"
#include "core/text.h"

/* Builds a message with the given subject and body; returns its text (freed by caller). */
static char *build(const char *subject, const char *body, int *rc)
{
    struct mail_msg m = {"sanad@example.org", "سند", "worker@example.org", subject, body,
                         86400000LL * 365};
    struct buf b = BUF_INIT;
    struct err e;
    err_clear(&e);
    *rc = mail_build(&m, &b, &e);
    return buf_detach(&b, NULL);
}

/* The decoded body of a built message (after the blank line), freed by caller. */
static char *decoded_body(const char *msg)
{
    const char *p = strstr(msg, "\r\n\r\n");
    assert_non_null(p);
    p += 4;
    size_t cap = strlen(p) + 1;
    unsigned char *out = calloc(1, cap);
    size_t n = 0;
    assert_int_equal(sodium_base642bin(out, cap, p, strlen(p), "\r\n", &n, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    out[n] = '\0';
    return (char *)out;
}

static void test_headers(void **state)
{
    (void)state;
    int rc;
    char *msg = build("Daily digest", "hello\nworld\n", &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(msg, "Date: Fri, 01 Jan 1971 00:00:00 +0000\r\n"));
    assert_non_null(strstr(msg, "\r\nTo: worker@example.org\r\n"));
    assert_non_null(strstr(msg, "\r\nSubject: Daily digest\r\n"));
    assert_non_null(strstr(msg, "\r\nFrom: =?UTF-8?B?"));
    assert_non_null(strstr(msg, "?= <sanad@example.org>\r\n"));
    assert_non_null(strstr(msg, "\r\nMessage-ID: <"));
    assert_non_null(strstr(msg, "@example.org>\r\n"));
    assert_non_null(strstr(msg, "\r\nMIME-Version: 1.0\r\n"));
    assert_non_null(strstr(msg, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
    assert_non_null(strstr(msg, "\r\nContent-Transfer-Encoding: base64\r\n\r\n"));
    /* Every line ends with CRLF: no bare LF, no bare CR, and each line fits 78 octets. */
    for (const char *p = msg; *p; p++) {
        if (*p == '\n') {
            assert_true(p > msg && p[-1] == '\r');
        }
        if (*p == '\r') {
            assert_int_equal(p[1], '\n');
        }
    }
    for (const char *line = msg; *line;) {
        const char *end = strstr(line, "\r\n");
        assert_non_null(end);
        assert_true(end - line <= 78);
        line = end + 2;
    }
    char *body = decoded_body(msg);
    assert_string_equal(body, "hello\r\nworld\r\n");
    free(body);
    free(msg);
}

/* Decodes every encoded-word of a Subject header and joins them. */
static void decode_subject(const char *msg, char *out, size_t cap)
{
    const char *p = strstr(msg, "\r\nSubject: ");
    assert_non_null(p);
    p += 11;
    size_t n = 0;
    out[0] = '\0';
    for (;;) {
        assert_memory_equal(p, "=?UTF-8?B?", 10);
        p += 10;
        const char *q = strstr(p, "?=");
        assert_non_null(q);
        assert_true(q - p + 12 <= 75);
        size_t got = 0;
        assert_int_equal(sodium_base642bin((unsigned char *)out + n, cap - n - 1, p,
                                           (size_t)(q - p), NULL, &got, NULL,
                                           sodium_base64_VARIANT_ORIGINAL),
                         0);
        /* Each word holds whole characters. */
        assert_true(utf8_valid(out + n, got));
        n += got;
        out[n] = '\0';
        p = q + 2;
        if (strncmp(p, "\r\n ", 3) != 0) {
            break;
        }
        p += 3;
    }
    assert_memory_equal(p, "\r\n", 2);
}

static void test_encoded_words(void **state)
{
    (void)state;
    int rc;
    const char *ar = "سند: يومك 2025-01-31 — جلسات ومتابعات متأخرة وحالات بانتظار الاعتماد";
    char *msg = build(ar, "x", &rc);
    assert_int_equal(rc, 0);
    char got[512];
    decode_subject(msg, got, sizeof(got));
    assert_string_equal(got, ar);
    free(msg);
    /* An ASCII subject that looks like an encoded-word is encoded itself. */
    msg = build("=?UTF-8?B?x?=", "x", &rc);
    assert_int_equal(rc, 0);
    decode_subject(msg, got, sizeof(got));
    assert_string_equal(got, "=?UTF-8?B?x?=");
    free(msg);
    /* A long subject of four-byte characters (emoji) still never splits one. */
    char big[4 * 100 + 1];
    for (int i = 0; i < 100; i++) {
        memcpy(big + 4 * i, "\xF0\x9F\x98\x80", 4);
    }
    big[400] = '\0';
    msg = build(big, "x", &rc);
    assert_int_equal(rc, 0);
    char got2[1024];
    decode_subject(msg, got2, sizeof(got2));
    assert_string_equal(got2, big);
    free(msg);
    /* The empty subject is one empty encoded-word. */
    struct buf b = BUF_INIT;
    mail_encode_words(&b, "");
    assert_string_equal(b.buf, "=?UTF-8?B?" "?=");
    buf_release(&b);
}

static void test_dots_and_line_ends(void **state)
{
    (void)state;
    int rc;
    /* Lines starting with '.', a lone ".", CR-only and CRLF line ends. */
    const char *body = ".hidden\n.\n..two\rmid\r\nend. line\n";
    char *msg = build("dots", body, &rc);
    assert_int_equal(rc, 0);
    /* No line of the message starts with '.', so SMTP dot-stuffing (done by
     * libcurl on the wire) cannot change it and no line can end the DATA. */
    assert_null(strstr(msg, "\r\n."));
    assert_true(msg[0] != '.');
    char *dec = decoded_body(msg);
    assert_string_equal(dec, ".hidden\r\n.\r\n..two\r\nmid\r\nend. line\r\n");
    free(dec);
    free(msg);
    /* A long body: base64 lines of 76 characters at most, decoding back. */
    char *big = malloc(100001);
    for (int i = 0; i < 100000; i++) {
        big[i] = (char)(i % 80 == 79 ? '\n' : (i % 80 == 0 ? '.' : 'a' + i % 26));
    }
    big[100000] = '\0';
    msg = build("big", big, &rc);
    assert_int_equal(rc, 0);
    const char *p = strstr(msg, "\r\n\r\n") + 4;
    for (const char *line = p; *line;) {
        const char *end = strstr(line, "\r\n");
        assert_true(end - line <= 76);
        assert_true(*line != '.');
        line = end + 2;
    }
    free(big);
    free(msg);
    /* The empty body is a message with no body lines. */
    msg = build("empty", "", &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(msg, "base64\r\n\r\n"));
    assert_int_equal(strcmp(msg + strlen(msg) - 4, "\r\n\r\n"), 0);
    free(msg);
}

static void test_refusals(void **state)
{
    (void)state;
    int rc;
    char *msg = build("line\r\nBcc: evil@example.org", "x", &rc);
    assert_int_equal(rc, -1);
    free(msg);
    msg = build("bad \xC3\x28 utf8", "x", &rc);
    assert_int_equal(rc, -1);
    free(msg);
    msg = build("ok", "bad \xFF body", &rc);
    assert_int_equal(rc, -1);
    free(msg);
    msg = build("ok", "nul-free but \x01 control", &rc);
    assert_int_equal(rc, -1);
    free(msg);
    const char *bad[] = {"", "no-at", "@example.org", "a@", "a@@example.org", "a b@example.org",
                         "a@example.org\r\nBcc: x@y.org", "<a@example.org>", "a@example", "a@.org",
                         "a@example..org", "\"q\"@example.org", "a,b@example.org", "أحمد@example.org"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(mail_address_valid(bad[i]));
    }
    assert_false(mail_address_valid(NULL));
    char huge[300];
    memset(huge, 'a', sizeof(huge));
    memcpy(huge + 280, "@example.org", 13);
    assert_false(mail_address_valid(huge));
    assert_true(mail_address_valid("worker.one+x@example.org"));
    assert_true(mail_address_valid("ops@localhost"));
    struct mail_msg m = {"sanad@example.org", NULL, "a@b", "s", "b", 0};
    struct buf b = BUF_INIT;
    struct err e;
    err_clear(&e);
    assert_int_equal(mail_build(&m, &b, &e), -1);
    assert_string_equal(e.field, "to");
    m.to = "ok@example.org";
    m.from = "bad";
    err_clear(&e);
    assert_int_equal(mail_build(&m, &b, &e), -1);
    assert_string_equal(e.field, "from");
    m.from = "sanad@example.org";
    m.subject = NULL;
    err_clear(&e);
    assert_int_equal(mail_build(&m, &b, &e), -1);
    assert_string_equal(e.field, "subject");
    buf_release(&b);
    /* A plain ASCII display name is written as is. */
    m.subject = "s";
    m.from_name = "Sanad";
    err_clear(&e);
    assert_int_equal(mail_build(&m, &b, &e), 0);
    assert_non_null(strstr(b.buf, "From: Sanad <sanad@example.org>\r\n"));
    buf_release(&b);
}

static void test_date(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    mail_format_date(0, &b);
    assert_string_equal(b.buf, "Thu, 01 Jan 1970 00:00:00 +0000");
    buf_reset(&b);
    mail_format_date(951782400000LL + 3723000, &b); /* 2000-02-29 01:02:03, a leap day */
    assert_string_equal(b.buf, "Tue, 29 Feb 2000 01:02:03 +0000");
    buf_reset(&b);
    mail_format_date(-1000, &b);
    assert_string_equal(b.buf, "Wed, 31 Dec 1969 23:59:59 +0000");
    buf_release(&b);
}

static void test_send_refusals(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    struct mail_server srv = {"http://127.0.0.1:1", NULL, NULL};
    assert_int_equal(mail_send(&srv, "a@example.org", "b@example.org", "x", 1, &e), -1);
    assert_string_equal(e.field, "smtp_url");
    srv.url = NULL;
    err_clear(&e);
    assert_int_equal(mail_send(&srv, "a@example.org", "b@example.org", "x", 1, &e), -1);
    /* Port 1 on loopback: nobody listens, the failure is reported, not fatal. */
    srv.url = "smtp://127.0.0.1:1";
    err_clear(&e);
    assert_int_equal(mail_send(&srv, "a@example.org", "b@example.org", "x", 1, &e), -1);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    assert_string_equal(e.code, "smtp_failed");
    err_clear(&e);
    assert_int_equal(mail_send(&srv, "a@example.org", "b@example.org\r\nRCPT TO:<x@y.org>", "x",
                               1, &e),
                     -1);
    assert_int_equal(e.kind, ERR_INVALID);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headers),      cmocka_unit_test(test_encoded_words),
        cmocka_unit_test(test_dots_and_line_ends), cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_date),         cmocka_unit_test(test_send_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
