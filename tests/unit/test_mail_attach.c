/*
 * test_mail_attach: messages with attachments (multipart/mixed): the text
 * part and each attachment decode back to their bytes, the file name travels
 * as RFC 2231 filename* with an ASCII fallback, the boundary never occurs in
 * a part, no attachment gives mail_build's message, and bad names or media
 * types are refused naming the field.
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

/* A message to build. */
static const struct mail_msg msg = {"sanad@example.org", "سند", "donor@example.org",
                                    "تقرير الكفالة", "مرحبا\nhello\n", 86400000LL * 365};

/* Decodes the base64 lines from p up to the next "\r\n--" into out; returns the length. */
static size_t decode_part(const char *p, unsigned char *out, size_t cap)
{
    const char *end = strstr(p, "\r\n--");
    assert_non_null(end);
    size_t n = 0;
    assert_int_equal(sodium_base642bin(out, cap, p, (size_t)(end - p), "\r\n", &n, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    return n;
}

/* The boundary of a built message (copied into out). */
static void boundary_of(const char *text, char *out, size_t n)
{
    const char *b = strstr(text, "boundary=\"");
    assert_non_null(b);
    b += 10;
    const char *q = strchr(b, '"');
    assert_non_null(q);
    snprintf(out, n, "%.*s", (int)(q - b), b);
}

static void test_two_parts(void **state)
{
    (void)state;
    unsigned char pdf[1000];
    for (size_t i = 0; i < sizeof(pdf); i++) {
        pdf[i] = (unsigned char)(i * 7 + 3);
    }
    memcpy(pdf, "%PDF-1.4\n", 9);
    struct mail_attachment att[2] = {{"تقرير 2026-H1.pdf", "application/pdf", pdf, sizeof(pdf)},
                                     {"plain.txt", "text/plain", (const unsigned char *)"", 0}};
    struct buf b = BUF_INIT;
    struct err e;
    err_clear(&e);
    assert_int_equal(mail_build_attached(&msg, att, 2, &b, &e), 0);
    char bnd[80];
    boundary_of(b.buf, bnd, sizeof(bnd));
    assert_true(strncmp(bnd, "=_", 2) == 0);
    /* Every line ends with CRLF and none is longer than 998 octets. */
    for (const char *p = b.buf; *p;) {
        const char *nl = strstr(p, "\r\n");
        assert_non_null(nl);
        assert_true(nl - p <= 998);
        assert_true(memchr(p, '\n', (size_t)(nl - p)) == NULL);
        p = nl + 2;
    }
    assert_non_null(strstr(b.buf, "Content-Type: multipart/mixed;"));
    assert_non_null(strstr(b.buf, "\r\nSubject: =?UTF-8?B?"));
    char closing[100];
    snprintf(closing, sizeof(closing), "--%s--\r\n", bnd);
    assert_non_null(strstr(b.buf, closing));
    /* The text part decodes back, with CRLF line ends. */
    const char *t = strstr(b.buf, "Content-Type: text/plain; charset=utf-8\r\n");
    assert_non_null(t);
    t = strstr(t, "\r\n\r\n") + 4;
    unsigned char out[2000];
    size_t n = decode_part(t, out, sizeof(out));
    out[n] = 0;
    assert_string_equal((char *)out, "مرحبا\r\nhello\r\n");
    /* The PDF decodes back byte for byte. */
    const char *a = strstr(b.buf, "Content-Type: application/pdf\r\n");
    assert_non_null(a);
    const char *cd = strstr(a, "Content-Disposition: attachment;");
    assert_non_null(cd);
    assert_non_null(strstr(cd, "filename=\"___________2026-H1.pdf\""));
    assert_non_null(strstr(cd, "filename*=UTF-8''%D8%AA%D9%82%D8%B1%D9%8A%D8%B1%202026-H1.pdf"));
    a = strstr(a, "\r\n\r\n") + 4;
    n = decode_part(a, out, sizeof(out));
    assert_int_equal(n, sizeof(pdf));
    assert_memory_equal(out, pdf, sizeof(pdf));
    /* The empty attachment is there, with no lines of content. */
    const char *z = strstr(b.buf, "filename=\"plain.txt\"");
    assert_non_null(z);
    z = strstr(z, "\r\n\r\n") + 4;
    assert_true(strncmp(z, "--", 2) == 0);
    /* The boundary occurs only as delimiters (3 parts + closing + the header). */
    int count = 0;
    for (const char *p = strstr(b.buf, bnd); p; p = strstr(p + 1, bnd)) {
        count++;
    }
    assert_int_equal(count, 5);
    buf_release(&b);
}

static void test_no_attachment_is_plain(void **state)
{
    (void)state;
    struct buf a = BUF_INIT, b = BUF_INIT;
    struct err e;
    err_clear(&e);
    assert_int_equal(mail_build(&msg, &a, &e), 0);
    assert_int_equal(mail_build_attached(&msg, NULL, 0, &b, &e), 0);
    /* Equal but for the random Message-ID. */
    const char *ma = strstr(a.buf, "Message-ID: <"), *mb = strstr(b.buf, "Message-ID: <");
    assert_int_equal(ma - a.buf, mb - b.buf);
    assert_memory_equal(a.buf, b.buf, (size_t)(ma - a.buf));
    assert_string_equal(strchr(ma, '\n'), strchr(mb, '\n'));
    assert_null(strstr(b.buf, "multipart"));
    buf_release(&a);
    buf_release(&b);
}

static void test_refusals(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    struct err e;
    const unsigned char x[] = "x";
    struct mail_attachment bad_name = {"a\r\nBcc: evil@example.org", "text/plain", x, 1};
    err_clear(&e);
    assert_int_equal(mail_build_attached(&msg, &bad_name, 1, &b, &e), -1);
    assert_string_equal(e.field, "filename");
    struct mail_attachment empty_name = {"", "text/plain", x, 1};
    err_clear(&e);
    assert_int_equal(mail_build_attached(&msg, &empty_name, 1, &b, &e), -1);
    assert_string_equal(e.field, "filename");
    struct mail_attachment bad_utf8 = {"\xff\xfe.pdf", "application/pdf", x, 1};
    err_clear(&e);
    assert_int_equal(mail_build_attached(&msg, &bad_utf8, 1, &b, &e), -1);
    assert_string_equal(e.field, "filename");
    static const char *const types[] = {"application", "text/plain; x=1", "a/b\r\nX: y", "/pdf",
                                        "", NULL};
    for (int i = 0; types[i]; i++) {
        struct mail_attachment t = {"a.pdf", types[i], x, 1};
        err_clear(&e);
        assert_int_equal(mail_build_attached(&msg, &t, 1, &b, &e), -1);
        assert_string_equal(e.field, "content_type");
    }
    struct mail_attachment ok = {"a.pdf", "application/pdf", x, 1};
    struct mail_msg bad_to = msg;
    bad_to.to = "x@y.org\r\nBcc: z@y.org";
    err_clear(&e);
    assert_int_equal(mail_build_attached(&bad_to, &ok, 1, &b, &e), -1);
    assert_string_equal(e.field, "to");
    assert_int_equal(b.len, 0);
    buf_release(&b);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_parts),
        cmocka_unit_test(test_no_attachment_is_plain),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
