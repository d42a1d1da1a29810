/*
 * test_pdf.c: the PDF writer. Documents in Arabic and English are written,
 * read back with pdftotext (poppler-utils), and their text, page count and
 * images checked; bad images, nasty text and concurrent documents.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cairo.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "web/pdf.h"
#include "core/banned.h"

/* Writes pdf to a temporary file, runs `cmd FILE after` and returns its
 * output (the caller frees it). */
static char *run_cmd(const struct buf *pdf, const char *cmd, const char *after)
{
    char path[] = "/tmp/sanad-pdf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, pdf->buf, pdf->len), (ssize_t)pdf->len);
    close(fd);
    char line[256];
    snprintf(line, sizeof line, "%s %s %s 2>&1", cmd, path, after);
    FILE *p = popen(line, "r");
    assert_non_null(p);
    struct buf out = BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0) {
        buf_add(&out, chunk, n);
    }
    int rc = pclose(p);
    unlink(path);
    if (rc != 0) {
        fail_msg("'%s' failed: %s", cmd, out.buf);
    }
    return buf_detach(&out, NULL);
}

/* Runs `cmd FILE` on pdf. */
static char *run_on_pdf(const struct buf *pdf, const char *cmd)
{
    return run_cmd(pdf, cmd, "");
}

/* The text of a PDF as pdftotext reads it. */
static char *pdftotext(const struct buf *pdf)
{
    return run_cmd(pdf, "pdftotext -enc UTF-8", "-");
}

/* Fails unless hay contains needle. */
static void assert_has(const char *hay, const char *needle)
{
    if (!strstr(hay, needle)) {
        fail_msg("'%s' not found in:\n%.3000s", needle, hay);
    }
}

/* Makes a w x h PNG with cairo (the caller releases out). */
static cairo_status_t png_sink(void *closure, const unsigned char *data, unsigned int len)
{
    buf_add(closure, data, len);
    return CAIRO_STATUS_SUCCESS;
}
static void make_png(struct buf *out, int w, int h)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 0.1, 0.5, 0.3);
    cairo_paint(cr);
    cairo_destroy(cr);
    assert_int_equal(cairo_surface_write_to_png_stream(s, png_sink, out), CAIRO_STATUS_SUCCESS);
    cairo_surface_destroy(s);
}

/* A smallest baseline JPEG: w x h (multiples of 8), one grey component,
 * every block flat (DC difference 0, end of block at once). */
static void make_jpeg(struct buf *b, int w, int h)
{
    static const unsigned char soi[] = { 0xFF, 0xD8 };
    buf_add(b, soi, sizeof soi);
    static const unsigned char dqt[] = { 0xFF, 0xDB, 0x00, 0x43, 0x00 };
    buf_add(b, dqt, sizeof dqt);
    for (int i = 0; i < 64; i++) {
        buf_addch(b, 1);
    }
    unsigned char sof[] = { 0xFF, 0xC0, 0x00, 0x0B, 0x08, (unsigned char)(h >> 8),
                            (unsigned char)h, (unsigned char)(w >> 8), (unsigned char)w,
                            0x01, 0x01, 0x11, 0x00 };
    buf_add(b, sof, sizeof sof);
    for (int table = 0; table < 2; table++) {
        unsigned char dht[] = { 0xFF, 0xC4, 0x00, 0x14, (unsigned char)(table ? 0x10 : 0x00) };
        buf_add(b, dht, sizeof dht);
        buf_addch(b, 1); /* one code of length 1 */
        for (int i = 0; i < 15; i++) {
            buf_addch(b, 0);
        }
        buf_addch(b, 0); /* the symbol: DC category 0 / AC end of block */
    }
    static const unsigned char sos[] = { 0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01,
                                         0x00, 0x00, 0x3F, 0x00 };
    buf_add(b, sos, sizeof sos);
    /* Two zero bits per block, padded with ones. */
    int bits = (w / 8) * (h / 8) * 2;
    int bytes = (bits + 7) / 8;
    for (int i = 0; i < bytes; i++) {
        int used = bits - i * 8 >= 8 ? 8 : bits - i * 8;
        buf_addch(b, (unsigned char)(0xFF >> used));
    }
    static const unsigned char eoi[] = { 0xFF, 0xD9 };
    buf_add(b, eoi, sizeof eoi);
}

/* An Arabic document over several pages: the Arabic and the English text
 * come out of pdftotext, the footer counts the pages. */
static void test_arabic_document(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    struct pdf_doc *d = pdf_new("ar", "كشف الحساب", &e);
    assert_non_null(d);
    pdf_set_footer(d, "جمعية الرعاية · Care Society", "صفحة {n} من {total} · page {n} of {total}");
    pdf_title(d, "إيصال تبرع");
    pdf_paragraph(d, "Donation receipt");
    pdf_heading(d, "بيانات المتبرع");
    const char *kv[] = { "الاسم", "أحمد المصري", "Tax id", "TX-42", "المبلغ", NULL };
    pdf_kv(d, kv, 3);
    const struct pdf_col cols[3] = { { "الطفل", 2, PDF_ALIGN_START },
                                     { "الفترة", 1, PDF_ALIGN_START },
                                     { "المبلغ", 1, PDF_ALIGN_END } };
    enum { ROWS = 140 };
    static char texts[ROWS][3][32];
    const char *cells[ROWS * 3];
    for (int r = 0; r < ROWS; r++) {
        snprintf(texts[r][0], 32, "Row %d سارة", r);
        snprintf(texts[r][1], 32, "2026-%02d", r % 12 + 1);
        snprintf(texts[r][2], 32, "%d.00", 50 + r);
        for (int c = 0; c < 3; c++) {
            cells[r * 3 + c] = texts[r][c];
        }
    }
    pdf_table_totals(d, cols, 3, cells, ROWS);
    assert_true(pdf_page_count(d) >= 3);
    int pages = pdf_page_count(d);
    struct buf out = BUF_INIT;
    assert_int_equal(pdf_finish(d, &out, &e), 0);
    assert_memory_equal(out.buf, "%PDF-", 5);
    char *text = pdftotext(&out);
    assert_has(text, "Donation receipt");
    assert_has(text, "Care Society");
    assert_has(text, "TX-42");
    assert_has(text, "Row 0");
    assert_has(text, "Row 139");
    assert_has(text, "189.00");
    /* Arabic comes out in reading order, shaped letters mapped back. */
    assert_has(text, "تبرع");
    assert_has(text, "بيانات المتبرع");
    assert_has(text, "أحمد المصري");
    assert_has(text, "سارة");
    char want[64];
    snprintf(want, sizeof want, "page %d of %d", pages, pages);
    assert_has(text, want);
    /* The header row is repeated on every page. */
    int heads = 0;
    for (const char *p = text; (p = strstr(p, "الفترة")) != NULL; p++) {
        heads++;
    }
    assert_int_equal(heads, pages);
    free(text);
    char *info = run_on_pdf(&out, "pdfinfo");
    const char *pl = strstr(info, "Pages:");
    assert_non_null(pl);
    assert_int_equal(atoi(pl + 6), pages);
    assert_has(info, "كشف الحساب");
    free(info);
    /* Fonts are embedded as subsets. */
    char *fonts = run_on_pdf(&out, "pdffonts");
    assert_has(fonts, "Amiri");
    assert_has(fonts, "DejaVuSans");
    free(fonts);
    /* Finishing twice gives a second, equally valid document. */
    struct buf again = BUF_INIT;
    assert_int_equal(pdf_finish(d, &again, &e), 0);
    assert_memory_equal(again.buf, "%PDF-", 5);
    buf_release(&again);
    buf_release(&out);
    pdf_free(d);
}

/* In an Arabic document the first column is on the right; in an English
 * one on the left (checked through pdftotext's word boxes). */
static double x_of(const char *bbox, const char *word)
{
    char needle[96];
    snprintf(needle, sizeof needle, ">%s</word>", word);
    const char *p = strstr(bbox, needle);
    if (!p) {
        fail_msg("word '%s' not in the boxes", word);
    }
    while (p > bbox && strncmp(p, "<word", 5) != 0) {
        p--;
    }
    const char *x = strstr(p, "xMin=\"");
    assert_non_null(x);
    return atof(x + 6);
}
static void test_column_order(void **state)
{
    (void)state;
    const char *langs[2] = { "ar", "en" };
    for (int i = 0; i < 2; i++) {
        struct err e;
        err_clear(&e);
        struct pdf_doc *d = pdf_new(langs[i], NULL, &e);
        assert_non_null(d);
        const struct pdf_col cols[2] = { { "First", 1, PDF_ALIGN_START },
                                         { "Second", 1, PDF_ALIGN_START } };
        const char *cells[2] = { "alpha", "omega" };
        pdf_table(d, cols, 2, cells, 1);
        struct buf out = BUF_INIT;
        assert_int_equal(pdf_finish(d, &out, &e), 0);
        char *html = run_cmd(&out, "pdftotext -bbox -enc UTF-8", "-");
        double xa = x_of(html, "alpha");
        double xo = x_of(html, "omega");
        if (i == 0) {
            assert_true(xa > xo);
            assert_true(x_of(html, "First") > 297); /* right half of the page */
        } else {
            assert_true(xa < xo);
            assert_true(x_of(html, "First") < 297);
        }
        free(html);
        buf_release(&out);
        pdf_free(d);
    }
}

/* PNG and JPEG images; the JPEG is embedded as it is (DCT). */
static void test_images(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    struct pdf_doc *d = pdf_new("en", "Images", &e);
    assert_non_null(d);
    struct buf png = BUF_INIT;
    make_png(&png, 40, 30);
    struct buf jpg = BUF_INIT;
    make_jpeg(&jpg, 24, 16);
    pdf_paragraph(d, "Photo below");
    assert_int_equal(pdf_image(d, png.buf, png.len, 50, 50, &e), 0);
    assert_int_equal(pdf_image(d, jpg.buf, jpg.len, 0, 0, &e), 0);
    struct buf out = BUF_INIT;
    assert_int_equal(pdf_finish(d, &out, &e), 0);
    char *list = run_on_pdf(&out, "pdfimages -list");
    assert_has(list, "jpeg");
    assert_has(list, "   40    30");
    assert_has(list, "   24    16");
    free(list);
    buf_release(&out);
    buf_release(&png);
    buf_release(&jpg);
    pdf_free(d);
}

/* Broken images: an error from pdf_image and from pdf_finish, unless the
 * caller forgets it and goes on. */
static void test_bad_images(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    struct pdf_doc *d = pdf_new("en", NULL, &e);
    assert_non_null(d);
    assert_int_equal(pdf_image(d, "GIF89a....", 10, 0, 0, &e), -1);
    assert_string_equal(e.code, "invalid_image");
    struct buf out = BUF_INIT;
    err_clear(&e);
    assert_int_equal(pdf_finish(d, &out, &e), -1);
    assert_string_equal(e.code, "invalid_image");
    assert_int_equal(out.len, 0);
    pdf_forget_error(d);
    /* A PNG cut short, a JPEG without a frame, an empty one, a huge one. */
    struct buf png = BUF_INIT;
    make_png(&png, 10, 10);
    assert_int_equal(pdf_image(d, png.buf, png.len / 2, 0, 0, &e), -1);
    assert_int_equal(pdf_image(d, png.buf, 12, 0, 0, &e), -1);
    static const unsigned char noframe[] = { 0xFF, 0xD8, 0xFF, 0xD9 };
    assert_int_equal(pdf_image(d, noframe, sizeof noframe, 0, 0, &e), -1);
    assert_int_equal(pdf_image(d, NULL, 0, 0, 0, &e), -1);
    struct buf huge = BUF_INIT;
    make_jpeg(&huge, 8, 8);
    huge.buf[2 + 5 + 64 + 5] = 0xFF; /* height 0xFF08 */
    huge.buf[2 + 5 + 64 + 7] = 0xFF; /* width 0xFF18 */
    assert_int_equal(pdf_image(d, huge.buf, huge.len, 0, 0, &e), -1);
    assert_string_equal(e.code, "invalid_image");
    pdf_forget_error(d);
    pdf_paragraph(d, "still fine");
    assert_int_equal(pdf_finish(d, &out, &e), 0);
    char *text = pdftotext(&out);
    assert_has(text, "still fine");
    free(text);
    buf_release(&huge);
    buf_release(&png);
    buf_release(&out);
    pdf_free(d);
}

/* Nasty text: invalid UTF-8, empty strings, NULL cells, mixed scripts, a
 * paragraph longer than a page, the watermark. */
static void test_nasty_text(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    struct pdf_doc *d = pdf_new("ar", NULL, &e);
    assert_non_null(d);
    pdf_set_watermark(d, "VOID ملغى");
    pdf_title(d, "");
    pdf_paragraph(d, "bad \xff\xfe bytes \xe2\x82 end");
    pdf_paragraph(d, "mixed: محمد Mohammed ١٢٣ 123");
    const struct pdf_col cols[2] = { { NULL, 1, PDF_ALIGN_START }, { NULL, 1, PDF_ALIGN_END } };
    const char *cells[4] = { NULL, "", "x", NULL };
    pdf_table(d, cols, 2, cells, 2);
    pdf_table(d, cols, 0, cells, 2);
    pdf_kv(d, NULL, 0);
    struct buf longtext = BUF_INIT;
    for (int i = 0; i < 900; i++) {
        buf_addf(&longtext, "word%d ", i);
    }
    pdf_paragraph(d, longtext.buf);
    pdf_space(d, 5);
    pdf_rule(d);
    pdf_page_break(d);
    pdf_page_break(d); /* an empty page is not doubled */
    pdf_paragraph(d, "last page");
    struct buf out = BUF_INIT;
    assert_int_equal(pdf_finish(d, &out, &e), 0);
    char *text = pdftotext(&out);
    assert_has(text, "bad");
    assert_has(text, "end");
    assert_has(text, "Mohammed");
    assert_has(text, "word0 ");
    assert_has(text, "word899");
    assert_has(text, "last page");
    free(text);
    /* The watermark is set diagonally: pdftotext -raw gives it a letter
     * a line. */
    text = run_cmd(&out, "pdftotext -raw -enc UTF-8", "-");
    size_t k = 0;
    for (size_t i = 0; text[i]; i++) {
        if (text[i] != '\n' && text[i] != ' ') {
            text[k++] = text[i];
        }
    }
    text[k] = '\0';
    assert_has(text, "VOID");
    free(text);
    /* The long paragraph ran onto a second page, the break made a third. */
    assert_true(pdf_page_count(d) >= 3);
    buf_release(&longtext);
    buf_release(&out);
    pdf_free(d);
}

/* One thread's work for the concurrency test. */
static void *thread_docs(void *arg)
{
    int *ok = arg;
    for (int i = 0; i < 4; i++) {
        struct err e;
        err_clear(&e);
        struct pdf_doc *d = pdf_new(i % 2 ? "en" : "ar", "t", &e);
        if (!d) {
            return NULL;
        }
        pdf_title(d, "كشف Statement");
        const char *kv[] = { "المبلغ", "12.50 USD", "Child", "سارة" };
        pdf_kv(d, kv, 2);
        for (int k = 0; k < 30; k++) {
            pdf_paragraph(d, "نص عربي طويل بعض الشيء with English words 12345");
        }
        struct buf out = BUF_INIT;
        if (pdf_finish(d, &out, &e) == 0 && out.len > 1000 && memcmp(out.buf, "%PDF", 4) == 0) {
            (*ok)++;
        }
        buf_release(&out);
        pdf_free(d);
    }
    return NULL;
}

/* Documents built at the same time on several threads. */
static void test_threads(void **state)
{
    (void)state;
    enum { N = 4 };
    pthread_t th[N];
    int ok[N] = { 0 };
    for (int i = 0; i < N; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, thread_docs, &ok[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(ok[i], 4);
    }
}

int main(void)
{
    struct err e;
    err_clear(&e);
    if (pdf_init(&e) < 0) {
        fprintf(stderr, "test_pdf: %s\n", e.msg);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arabic_document), cmocka_unit_test(test_column_order),
        cmocka_unit_test(test_images),          cmocka_unit_test(test_bad_images),
        cmocka_unit_test(test_nasty_text),      cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
