/*
 * test_ics.c: the iCalendar writer: UTC date-times (epoch, leap day, before
 * 1970), TEXT escaping of every special character and of control bytes,
 * folding at 75 octets that never splits a UTF-8 character (Arabic, 3- and
 * 4-byte characters, invalid UTF-8, empty and huge lines), and a whole
 * calendar with its required properties.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases/ics.h"
#include "core/buf.h"
#include "core/banned.h"

static void test_format_utc(void **state)
{
    (void)state;
    char t[32];
    ics_format_utc(0, t, sizeof(t));
    assert_string_equal(t, "19700101T000000Z");
    ics_format_utc(951782400000LL + 3723000, t, sizeof(t)); /* 2000-02-29 01:02:03 */
    assert_string_equal(t, "20000229T010203Z");
    ics_format_utc(-1000, t, sizeof(t));
    assert_string_equal(t, "19691231T235959Z");
    ics_format_utc(-1, t, sizeof(t)); /* partial seconds round down */
    assert_string_equal(t, "19691231T235959Z");
    ics_format_utc(1735689599999LL, t, sizeof(t));
    assert_string_equal(t, "20241231T235959Z");
}

/* The escaped form of s, in a static buffer. */
static const char *esc(const char *s)
{
    static char out[256];
    struct buf b = BUF_INIT;
    ics_escape_text(&b, s);
    snprintf(out, sizeof(out), "%s", b.buf);
    buf_release(&b);
    return out;
}

static void test_escape(void **state)
{
    (void)state;
    assert_string_equal(esc(""), "");
    assert_string_equal(esc("plain"), "plain");
    assert_string_equal(esc("a,b;c\\d"), "a\\,b\\;c\\\\d");
    assert_string_equal(esc("l1\nl2\r\nl3\rl4"), "l1\\nl2\\nl3\\nl4");
    assert_string_equal(esc("tab\there\x01\x1f\x7f"), "tab\there   ");
    assert_string_equal(esc("جلسة، فيديو; C-2025"), "جلسة، فيديو\\; C-2025");
    assert_string_equal(esc("\\n"), "\\\\n"); /* a literal backslash-n stays literal */
    struct buf b = BUF_INIT;
    ics_escape_text(&b, NULL);
    assert_int_equal(b.len, 0);
    buf_release(&b);
}

/* Checks the folded text: CRLF endings, every physical line at most 75
 * octets, continuation lines starting with one space, no line starting or
 * ending inside a UTF-8 sequence when the input was valid, and unfolding
 * gives back the input. */
static void check_folded(const char *in, size_t n, bool valid_utf8)
{
    struct buf b = BUF_INIT;
    ics_fold_line(&b, in, n);
    assert_true(b.len >= 2);
    assert_memory_equal(b.buf + b.len - 2, "\r\n", 2);
    struct buf unfolded = BUF_INIT;
    size_t start = 0;
    int lineno = 0;
    while (start < b.len) {
        const char *crlf = strstr(b.buf + start, "\r\n");
        assert_non_null(crlf);
        size_t end = (size_t)(crlf - b.buf);
        size_t len = end - start;
        assert_true(len <= ICS_LINE_OCTETS);
        const char *content = b.buf + start;
        size_t clen = len;
        if (lineno > 0) {
            assert_true(len >= 1);
            assert_int_equal(content[0], ' ');
            content++;
            clen--;
            assert_true(clen > 0); /* no empty continuation lines */
        }
        if (valid_utf8 && clen > 0) {
            assert_int_not_equal((unsigned char)content[0] & 0xC0, 0x80);
            /* the next line (if any) does not start with a continuation byte either */
        }
        buf_add(&unfolded, content, clen);
        start = end + 2;
        lineno++;
    }
    assert_int_equal(unfolded.len, n);
    assert_memory_equal(unfolded.buf, in, n);
    buf_release(&unfolded);
    buf_release(&b);
}

static void test_fold(void **state)
{
    (void)state;
    check_folded("", 0, true);
    check_folded("SUMMARY:short", 13, true);
    char line[2048];
    /* exactly 75 octets: one line; 76: two */
    memset(line, 'a', 76);
    struct buf b = BUF_INIT;
    ics_fold_line(&b, line, 75);
    assert_int_equal(b.len, 77);
    buf_reset(&b);
    ics_fold_line(&b, line, 76);
    assert_int_equal(b.len, 75 + 2 + 1 + 1 + 2);
    assert_memory_equal(b.buf + 75, "\r\n a\r\n", 6);
    buf_release(&b);
    check_folded(line, 76, true);
    /* Arabic (2 octets a character) at every alignment */
    for (int shift = 0; shift < 4; shift++) {
        size_t n = 0;
        for (int i = 0; i < shift; i++) {
            line[n++] = 'x';
        }
        while (n + 2 < 600) {
            memcpy(line + n, "ج", 2);
            n += 2;
        }
        check_folded(line, n, true);
    }
    /* 3- and 4-octet characters at every alignment */
    for (int shift = 0; shift < 5; shift++) {
        size_t n = 0;
        for (int i = 0; i < shift; i++) {
            line[n++] = 'y';
        }
        while (n + 7 < 1000) {
            memcpy(line + n, "€", 3);
            memcpy(line + n + 3, "😀", 4);
            n += 7;
        }
        check_folded(line, n, true);
    }
    /* invalid UTF-8: a long run of continuation bytes is still cut within 75 */
    memset(line, 0x80, 500);
    check_folded(line, 500, false);
    /* a huge line */
    char *huge = malloc(200000);
    assert_non_null(huge);
    for (size_t i = 0; i + 2 <= 200000; i += 2) {
        memcpy(huge + i, "ب", 2);
    }
    check_folded(huge, 200000, true);
    free(huge);
}

static void test_calendar(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    ics_begin(&b, "-//Sanad//Sessions//EN", "Sanad, sessions");
    struct ics_event ev = {
        .uid = "0190a0b0-0000-7000-8000-000000000001@sanad",
        .stamp_ms = 1735689600000LL,
        .start_ms = 1735722000000LL,
        .end_ms = 1735725600000LL,
        .sequence = 3,
        .summary = "جلسة, فيديو; C-2025-00001",
        .description = "line one\nline two",
        .url = "https://meet.jit.si/sanad-abc\r\nX-EVIL:1",
        .cancelled = true,
    };
    ics_add_event(&b, &ev);
    ics_end(&b);
    const char *s = b.buf;
    assert_non_null(strstr(s, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Sanad//Sessions//EN\r\n"));
    assert_non_null(strstr(s, "CALSCALE:GREGORIAN\r\n"));
    assert_non_null(strstr(s, "X-WR-CALNAME:Sanad\\, sessions\r\n"));
    assert_non_null(strstr(s, "UID:0190a0b0-0000-7000-8000-000000000001@sanad\r\n"));
    assert_non_null(strstr(s, "DTSTAMP:20250101T000000Z\r\n"));
    assert_non_null(strstr(s, "DTSTART:20250101T090000Z\r\n"));
    assert_non_null(strstr(s, "DTEND:20250101T100000Z\r\n"));
    assert_non_null(strstr(s, "SEQUENCE:3\r\n"));
    assert_non_null(strstr(s, "STATUS:CANCELLED\r\n"));
    assert_non_null(strstr(s, "SUMMARY:جلسة\\, فيديو\\; C-2025-00001\r\n"));
    assert_non_null(strstr(s, "DESCRIPTION:line one\\nline two\r\n"));
    /* a line break smuggled into a URI cannot start a property of its own */
    assert_null(strstr(s, "\r\nX-EVIL"));
    assert_null(strstr(s, "LOCATION"));
    assert_true(b.len > 15);
    assert_string_equal(s + b.len - 15, "END:VCALENDAR\r\n");
    /* every LF is part of a CRLF */
    for (size_t i = 0; i < b.len; i++) {
        if (s[i] == '\n') {
            assert_true(i > 0 && s[i - 1] == '\r');
        }
    }
    ev.cancelled = false;
    ev.sequence = -5;
    buf_reset(&b);
    ics_add_event(&b, &ev);
    assert_non_null(strstr(b.buf, "STATUS:CONFIRMED\r\n"));
    assert_non_null(strstr(b.buf, "SEQUENCE:0\r\n"));
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_utc),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_fold),
        cmocka_unit_test(test_calendar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
