/*
 * test_documents: uploads of a child's photos and documents: the type is
 * found from the bytes; photos lose their Exif, XMP, IPTC and text metadata
 * (JPEG, PNG, WebP) and still parse; damaged, truncated, empty, oversized,
 * executable, HTML and SVG files are refused naming the field; stored files
 * are private and named at random; the service keeps organizations apart,
 * hides medical documents without children.health and audits every view.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "auth/auth.h"
#include "children/children.h"
#include "children/documents.h"
#include "core/config.h"
#include "core/uuid.h"
#include "db/db.h"
#include "db/db_util.h"
#include "keys/keys.h"
#include "testlib.h"

/* ---- helpers ---- */

/* True when needle (m bytes) occurs in the n bytes at hay. */
static bool has_bytes(const void *hay, size_t n, const void *needle, size_t m)
{
    const unsigned char *h = hay;
    for (size_t i = 0; m <= n && i + m <= n; i++) {
        if (memcmp(h + i, needle, m) == 0) {
            return true;
        }
    }
    return false;
}

/* Appends a JPEG segment with marker m and payload p (n bytes). */
static void jpeg_seg(struct buf *b, unsigned m, const void *p, size_t n)
{
    buf_addch(b, 0xff);
    buf_addch(b, (int)m);
    buf_addch(b, (int)((n + 2) >> 8));
    buf_addch(b, (int)((n + 2) & 0xff));
    buf_add(b, p, n);
}

/* A small JPEG: JFIF, optionally Exif with GPS, XMP, IPTC, a comment and a
 * multi-picture index; tables, a frame, a scan with stuffed bytes and a
 * restart marker, the end of image, then (with metadata) a second picture
 * carrying its own Exif. *eoi_end gets the offset just after the first EOI. */
static void make_jpeg(struct buf *b, bool meta, size_t *eoi_end)
{
    buf_add(b, "\xff\xd8", 2);
    jpeg_seg(b, 0xe0, "JFIF\0\x01\x01\0\0\x01\0\x01\0\0", 14);
    if (meta) {
        static const char exif[] = "Exif\0\0MM\0*GPSLatitude 33.5138 GPSLongitude 36.2765";
        jpeg_seg(b, 0xe1, exif, sizeof(exif));
        static const char xmp[] = "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta exif:GPSLatitude=\"33\"/>";
        jpeg_seg(b, 0xe1, xmp, sizeof(xmp));
        jpeg_seg(b, 0xed, "Photoshop 3.0\08BIM city=Aleppo", 30);
        jpeg_seg(b, 0xfe, "taken at GPS home", 17);
        jpeg_seg(b, 0xe2, "MPF\0MM\0*", 8);
    }
    jpeg_seg(b, 0xe2, "ICC_PROFILE\0\x01\x01", 14);
    unsigned char dqt[65] = {0};
    jpeg_seg(b, 0xdb, dqt, sizeof(dqt));
    jpeg_seg(b, 0xc0, "\x08\0\x08\0\x08\x01\x01\x11\0", 9);
    jpeg_seg(b, 0xc4, "\0\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 18);
    jpeg_seg(b, 0xda, "\x01\x01\0\0\x3f\0", 6);
    buf_add(b, "\x12\x34\xff\x00\x56\xff\xd0\x78\x9a", 9); /* stuffed byte, restart */
    buf_add(b, "\xff\xff\xd9", 3);                             /* a fill byte, end of image */
    *eoi_end = b->len;
    if (meta) {
        buf_add(b, "\xff\xd8", 2);
        jpeg_seg(b, 0xe1, "Exif\0\0GPS second picture", 24);
        buf_add(b, "\xff\xd9", 2);
    }
}

/* Appends a PNG chunk with a correct CRC. */
static void png_chunk(struct buf *b, const char *type, const void *p, uint32_t n)
{
    unsigned char len[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                            (unsigned char)(n >> 8), (unsigned char)n};
    buf_add(b, len, 4);
    size_t at = b->len;
    buf_add(b, type, 4);
    buf_add(b, p, n);
    uint32_t crc = (uint32_t)crc32(0, (const unsigned char *)b->buf + at, 4 + n);
    unsigned char c[4] = {(unsigned char)(crc >> 24), (unsigned char)(crc >> 16),
                          (unsigned char)(crc >> 8), (unsigned char)crc};
    buf_add(b, c, 4);
}

/* A small PNG, with text and Exif chunks when meta. */
static void make_png(struct buf *b, bool meta)
{
    buf_add(b, "\x89PNG\r\n\x1a\n", 8);
    png_chunk(b, "IHDR", "\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0", 13);
    if (meta) {
        png_chunk(b, "eXIf", "MM\0*GPSLatitude", 15);
        png_chunk(b, "tEXt", "Comment\0GPS 33.5,36.2", 21);
        png_chunk(b, "zTXt", "Raw profile\0\0x", 14);
        png_chunk(b, "iTXt", "XML:com.adobe.xmp\0\0\0\0\0GPS", 26);
    }
    png_chunk(b, "IDAT", "\x78\x9c\x63\x60\x60\x60\0\0\0\x04\0\x01", 12);
    png_chunk(b, "IEND", "", 0);
}

/* Appends a RIFF chunk (padded to an even size). */
static void riff_chunk(struct buf *b, const char *fourcc, const void *p, uint32_t n)
{
    unsigned char le[4] = {(unsigned char)n, (unsigned char)(n >> 8), (unsigned char)(n >> 16),
                           (unsigned char)(n >> 24)};
    buf_add(b, fourcc, 4);
    buf_add(b, le, 4);
    buf_add(b, p, n);
    if (n & 1) {
        buf_addch(b, 0);
    }
}

/* Reads a little-endian 32-bit value. */
static uint32_t rd_le32(const void *v)
{
    const unsigned char *p = v;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A small extended WebP; with meta it has EXIF and XMP chunks and flags. */
static void make_webp(struct buf *b, bool meta)
{
    buf_add(b, "RIFF\0\0\0\0WEBP", 12);
    unsigned char vp8x[10] = {(unsigned char)(0x10 | (meta ? 0x0c : 0)), 0, 0, 0, 0, 0, 0, 0, 0, 0};
    riff_chunk(b, "VP8X", vp8x, 10);
    riff_chunk(b, "VP8L", "\x2f\0\0\0\0\x07", 5); /* odd size: padded */
    if (meta) {
        riff_chunk(b, "EXIF", "MM\0*GPSLatitude", 15);
        riff_chunk(b, "XMP ", "<x:xmpmeta GPS/>", 16);
    }
    uint32_t size = (uint32_t)(b->len - 8);
    unsigned char le[4] = {(unsigned char)size, (unsigned char)(size >> 8),
                           (unsigned char)(size >> 16), (unsigned char)(size >> 24)};
    memcpy(b->buf + 4, le, 4);
}

/* ---- stripping ---- */

static void test_jpeg_strip(void **state)
{
    (void)state;
    struct buf in = BUF_INIT, out = BUF_INIT, again = BUF_INIT;
    size_t eoi;
    make_jpeg(&in, true, &eoi);
    struct err e;
    err_clear(&e);
    assert_true(has_bytes(in.buf, in.len, "GPS", 3));
    assert_int_equal(doc_strip_jpeg((unsigned char *)in.buf, in.len, &out, &e), 0);
    assert_false(has_bytes(out.buf, out.len, "Exif", 4));
    assert_false(has_bytes(out.buf, out.len, "GPS", 3));
    assert_false(has_bytes(out.buf, out.len, "xmpmeta", 7));
    assert_false(has_bytes(out.buf, out.len, "Aleppo", 6));
    assert_false(has_bytes(out.buf, out.len, "MPF", 3));
    assert_true(has_bytes(out.buf, out.len, "JFIF", 4));
    assert_true(has_bytes(out.buf, out.len, "ICC_PROFILE", 11));
    assert_true(has_bytes(out.buf, out.len, "\x12\x34\xff\x00\x56\xff\xd0\x78", 8));
    assert_memory_equal(out.buf, "\xff\xd8", 2);
    assert_memory_equal(out.buf + out.len - 2, "\xff\xd9", 2);
    assert_int_equal(doc_sniff((unsigned char *)out.buf, out.len), DOC_JPEG);
    /* The result parses again and is a fixed point. */
    assert_int_equal(doc_strip_jpeg((unsigned char *)out.buf, out.len, &again, &e), 0);
    assert_int_equal(again.len, out.len);
    assert_memory_equal(again.buf, out.buf, out.len);
    /* Without metadata the file comes back unchanged. */
    struct buf plain = BUF_INIT, plain_out = BUF_INIT;
    make_jpeg(&plain, false, &eoi);
    assert_int_equal(doc_strip_jpeg((unsigned char *)plain.buf, plain.len, &plain_out, &e), 0);
    assert_int_equal(plain_out.len, plain.len);
    assert_memory_equal(plain_out.buf, plain.buf, plain.len);
    buf_release(&in);
    buf_release(&out);
    buf_release(&again);
    buf_release(&plain);
    buf_release(&plain_out);
}

static void test_jpeg_refused(void **state)
{
    (void)state;
    struct buf in = BUF_INIT, out = BUF_INIT;
    size_t eoi;
    make_jpeg(&in, true, &eoi);
    struct err e;
    /* Every cut before the end of the image is refused, and out is left as it was. */
    for (size_t cut = 0; cut < eoi; cut++) {
        err_clear(&e);
        buf_reset(&out);
        buf_adds(&out, "keep");
        assert_int_equal(doc_strip_jpeg((unsigned char *)in.buf, cut, &out, &e), -1);
        assert_string_equal(e.field, "file");
        assert_string_equal(e.code, "malformed_file");
        assert_int_equal(out.len, 4);
    }
    /* A segment length running past the end, and one below 2. */
    static const unsigned char longseg[] = {0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff, 'E', 'x', 0xff, 0xd9};
    err_clear(&e);
    assert_int_equal(doc_strip_jpeg(longseg, sizeof(longseg), &out, &e), -1);
    static const unsigned char shortseg[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, 0xff, 0xd9};
    assert_int_equal(doc_strip_jpeg(shortseg, sizeof(shortseg), &out, &e), -1);
    /* No scan at all, and garbage where a marker should be. */
    static const unsigned char noscan[] = {0xff, 0xd8, 0xff, 0xd9};
    assert_int_equal(doc_strip_jpeg(noscan, sizeof(noscan), &out, &e), -1);
    static const unsigned char garbage[] = {0xff, 0xd8, 0x00, 0x11, 0xff, 0xd9};
    assert_int_equal(doc_strip_jpeg(garbage, sizeof(garbage), &out, &e), -1);
    static const unsigned char restart[] = {0xff, 0xd8, 0xff, 0xd0, 0xff, 0xd9};
    assert_int_equal(doc_strip_jpeg(restart, sizeof(restart), &out, &e), -1);
    buf_release(&in);
    buf_release(&out);
}

static void test_png_strip(void **state)
{
    (void)state;
    struct buf in = BUF_INIT, out = BUF_INIT, again = BUF_INIT, plain = BUF_INIT;
    make_png(&in, true);
    make_png(&plain, false);
    struct err e;
    err_clear(&e);
    assert_int_equal(doc_strip_png((unsigned char *)in.buf, in.len, &out, &e), 0);
    assert_false(has_bytes(out.buf, out.len, "eXIf", 4));
    assert_false(has_bytes(out.buf, out.len, "tEXt", 4));
    assert_false(has_bytes(out.buf, out.len, "zTXt", 4));
    assert_false(has_bytes(out.buf, out.len, "iTXt", 4));
    assert_false(has_bytes(out.buf, out.len, "GPS", 3));
    /* What is kept is byte for byte the file without those chunks (CRCs as they were). */
    assert_int_equal(out.len, plain.len);
    assert_memory_equal(out.buf, plain.buf, plain.len);
    assert_int_equal(doc_strip_png((unsigned char *)out.buf, out.len, &again, &e), 0);
    assert_int_equal(again.len, out.len);
    /* Trailing bytes after IEND are dropped. */
    buf_adds(&in, "GPS trailing");
    buf_reset(&out);
    assert_int_equal(doc_strip_png((unsigned char *)in.buf, in.len, &out, &e), 0);
    assert_int_equal(out.len, plain.len);
    buf_release(&in);
    buf_release(&out);
    buf_release(&again);
    buf_release(&plain);
}

static void test_png_refused(void **state)
{
    (void)state;
    struct buf in = BUF_INIT, out = BUF_INIT;
    make_png(&in, true);
    struct err e;
    for (size_t cut = 0; cut < in.len; cut++) {
        err_clear(&e);
        assert_int_equal(doc_strip_png((unsigned char *)in.buf, cut, &out, &e), -1);
        assert_string_equal(e.field, "file");
        assert_int_equal(out.len, 0);
    }
    /* A flipped bit breaks the CRC. */
    in.buf[20] ^= 1;
    err_clear(&e);
    assert_int_equal(doc_strip_png((unsigned char *)in.buf, in.len, &out, &e), -1);
    assert_non_null(strstr(e.msg, "checksum"));
    in.buf[20] ^= 1;
    /* A huge length. */
    struct buf huge = BUF_INIT;
    buf_add(&huge, in.buf, 8);
    buf_add(&huge, "\x7f\xff\xff\xf0IHDR", 8);
    buf_add(&huge, in.buf + 16, in.len - 16);
    assert_int_equal(doc_strip_png((unsigned char *)huge.buf, huge.len, &out, &e), -1);
    buf_reset(&huge);
    buf_add(&huge, in.buf, 8);
    buf_add(&huge, "\xff\xff\xff\xffIHDR", 8);
    buf_add(&huge, in.buf + 16, in.len - 16);
    assert_int_equal(doc_strip_png((unsigned char *)huge.buf, huge.len, &out, &e), -1);
    /* A first chunk other than IHDR. */
    struct buf noihdr = BUF_INIT;
    buf_add(&noihdr, "\x89PNG\r\n\x1a\n", 8);
    png_chunk(&noihdr, "IDAT", "x", 1);
    png_chunk(&noihdr, "IEND", "", 0);
    assert_int_equal(doc_strip_png((unsigned char *)noihdr.buf, noihdr.len, &out, &e), -1);
    /* A chunk type that is not letters. */
    struct buf badtype = BUF_INIT;
    buf_add(&badtype, "\x89PNG\r\n\x1a\n", 8);
    png_chunk(&badtype, "IHDR", "\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0", 13);
    png_chunk(&badtype, "a<b>", "", 0);
    png_chunk(&badtype, "IEND", "", 0);
    assert_int_equal(doc_strip_png((unsigned char *)badtype.buf, badtype.len, &out, &e), -1);
    assert_int_equal(out.len, 0);
    buf_release(&in);
    buf_release(&out);
    buf_release(&huge);
    buf_release(&noihdr);
    buf_release(&badtype);
}

static void test_webp_strip(void **state)
{
    (void)state;
    struct buf in = BUF_INIT, out = BUF_INIT, again = BUF_INIT, plain = BUF_INIT;
    make_webp(&in, true);
    make_webp(&plain, false);
    struct err e;
    err_clear(&e);
    assert_int_equal(doc_strip_webp((unsigned char *)in.buf, in.len, &out, &e), 0);
    assert_false(has_bytes(out.buf, out.len, "EXIF", 4));
    assert_false(has_bytes(out.buf, out.len, "XMP ", 4));
    assert_false(has_bytes(out.buf, out.len, "GPS", 3));
    /* The RIFF size matches, the Exif and XMP flags are off, alpha is kept. */
    assert_int_equal(rd_le32(out.buf + 4), out.len - 8);
    assert_int_equal((unsigned char)out.buf[20], 0x10);
    assert_int_equal(out.len, plain.len);
    assert_memory_equal(out.buf, plain.buf, plain.len);
    assert_int_equal(doc_strip_webp((unsigned char *)out.buf, out.len, &again, &e), 0);
    assert_int_equal(again.len, out.len);
    buf_release(&in);
    buf_release(&out);
    buf_release(&again);
    buf_release(&plain);
}

static void test_webp_refused(void **state)
{
    (void)state;
    struct buf in = BUF_INIT, out = BUF_INIT;
    make_webp(&in, true);
    struct err e;
    for (size_t cut = 0; cut < in.len; cut++) {
        err_clear(&e);
        assert_int_equal(doc_strip_webp((unsigned char *)in.buf, cut, &out, &e), -1);
        assert_string_equal(e.field, "file");
        assert_int_equal(out.len, 0);
    }
    /* A RIFF size beyond the data, a chunk size beyond the RIFF, a non-image first chunk. */
    struct buf bad = BUF_INIT;
    buf_add(&bad, in.buf, in.len);
    bad.buf[7] = 0x7f;
    assert_int_equal(doc_strip_webp((unsigned char *)bad.buf, bad.len, &out, &e), -1);
    buf_reset(&bad);
    buf_add(&bad, in.buf, in.len);
    bad.buf[16] = (char)0xff; /* VP8X size */
    assert_int_equal(doc_strip_webp((unsigned char *)bad.buf, bad.len, &out, &e), -1);
    buf_reset(&bad);
    buf_add(&bad, "RIFF\x10\0\0\0WEBP", 12);
    riff_chunk(&bad, "EXIF", "GPS!", 4);
    assert_int_equal(doc_strip_webp((unsigned char *)bad.buf, bad.len, &out, &e), -1);
    assert_int_equal(out.len, 0);
    buf_release(&in);
    buf_release(&out);
    buf_release(&bad);
}

/* ---- type checks ---- */

static void test_sniff(void **state)
{
    (void)state;
    assert_int_equal(doc_sniff((const unsigned char *)"\xff\xd8\xff\xe0", 4), DOC_JPEG);
    assert_int_equal(doc_sniff((const unsigned char *)"\x89PNG\r\n\x1a\n", 8), DOC_PNG);
    assert_int_equal(doc_sniff((const unsigned char *)"RIFF\0\0\0\0WEBP", 12), DOC_WEBP);
    assert_int_equal(doc_sniff((const unsigned char *)"RIFF\0\0\0\0WAVE", 12), DOC_UNKNOWN);
    assert_int_equal(doc_sniff((const unsigned char *)"%PDF-1.7", 8), DOC_PDF);
    assert_int_equal(doc_sniff((const unsigned char *)"\x7f" "ELF\x02\x01", 6), DOC_UNKNOWN);
    assert_int_equal(doc_sniff((const unsigned char *)"<svg onload=alert(1)>", 21), DOC_UNKNOWN);
    assert_int_equal(doc_sniff((const unsigned char *)"", 0), DOC_UNKNOWN);
    assert_int_equal(doc_sniff(NULL, 0), DOC_UNKNOWN);
    assert_int_equal(doc_sniff((const unsigned char *)"\xff\xd8", 2), DOC_UNKNOWN);
    assert_string_equal(doc_media_type(DOC_WEBP), "image/webp");
    assert_null(doc_media_type(DOC_UNKNOWN));
}

/* Runs doc_prepare and checks it refused with code on field "file". */
static void expect_refused(const void *p, size_t n, size_t max, const char *code)
{
    struct buf out = BUF_INIT;
    struct err e;
    err_clear(&e);
    assert_int_equal(doc_prepare(p, n, max, &out, &e), DOC_UNKNOWN);
    assert_string_equal(e.code, code);
    assert_string_equal(e.field, "file");
    assert_non_null(strstr(e.msg, "'file'"));
    assert_int_equal(out.len, 0);
    buf_release(&out);
}

static void test_prepare_refusals(void **state)
{
    (void)state;
    expect_refused("", 0, 1024, "empty_file");
    expect_refused(NULL, 0, 1024, "empty_file");
    static const char elf[] = "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0";
    expect_refused(elf, sizeof(elf), 1024, "unsupported_file_type");
    expect_refused("MZ\x90\0\x03", 5, 1024, "unsupported_file_type");
    expect_refused("#!/bin/sh\nrm -rf /\n", 19, 1024, "unsupported_file_type");
    const char *html = "<!DOCTYPE html><script>alert(1)</script>";
    expect_refused(html, strlen(html), 1024, "unsupported_file_type");
    const char *svg = "\xef\xbb\xbf  <?xml version=\"1.0\"?><svg onload=\"alert(1)\"/>";
    expect_refused(svg, strlen(svg), 1024, "unsupported_file_type");
    expect_refused("just text", 9, 1024, "unsupported_file_type");
    /* Over the limit (checked before anything else). */
    char *big = calloc(1, 2049);
    assert_non_null(big);
    memcpy(big, "%PDF-1.4", 8);
    memcpy(big + 2040, "%%EOF\n", 6);
    expect_refused(big, 2049, 2048, "file_too_large");
    struct buf out = BUF_INIT;
    struct err e;
    err_clear(&e);
    assert_int_equal(doc_prepare((unsigned char *)big, 2049, 2048, &out, &e), DOC_UNKNOWN);
    assert_int_equal(e.kind, ERR_LIMIT);
    /* The same PDF within the limit is kept byte for byte. */
    err_clear(&e);
    assert_int_equal(doc_prepare((unsigned char *)big, 2049, 4096, &out, &e), DOC_PDF);
    assert_int_equal(out.len, 2049);
    assert_memory_equal(out.buf, big, 2049);
    /* A PDF cut short. */
    expect_refused("%PDF-1.4\n1 0 obj", 16, 1024, "malformed_file");
    /* A truncated JPEG. */
    expect_refused("\xff\xd8\xff\xe1\x00\x40" "Exif", 10, 1024, "malformed_file");
    free(big);
    buf_release(&out);
}

static void test_prepare_strips(void **state)
{
    (void)state;
    struct buf in = BUF_INIT, out = BUF_INIT;
    size_t eoi;
    make_jpeg(&in, true, &eoi);
    struct err e;
    err_clear(&e);
    assert_int_equal(doc_prepare((unsigned char *)in.buf, in.len, 0, &out, &e), DOC_JPEG);
    assert_false(has_bytes(out.buf, out.len, "GPS", 3));
    buf_reset(&in);
    buf_reset(&out);
    make_png(&in, true);
    assert_int_equal(doc_prepare((unsigned char *)in.buf, in.len, 0, &out, &e), DOC_PNG);
    assert_false(has_bytes(out.buf, out.len, "GPS", 3));
    buf_reset(&in);
    buf_reset(&out);
    make_webp(&in, true);
    assert_int_equal(doc_prepare((unsigned char *)in.buf, in.len, 0, &out, &e), DOC_WEBP);
    assert_false(has_bytes(out.buf, out.len, "GPS", 3));
    buf_release(&in);
    buf_release(&out);
}

static void test_display_name(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    assert_string_equal(doc_display_name(&a, "C:\\Users\\x\\شهادة ميلاد.pdf"), "شهادة ميلاد.pdf");
    assert_string_equal(doc_display_name(&a, "../../etc/passwd"), "passwd");
    /* A right-to-left override that would show "photo\u202egpj.exe" as "photoexe.jpg". */
    assert_string_equal(doc_display_name(&a, "photo\xe2\x80\xae" "gpj.exe"), "photogpj.exe");
    assert_string_equal(doc_display_name(&a, "a\r\nb\tc\x7f"), "abc");
    assert_string_equal(doc_display_name(&a, "bad\xff\xfe.jpg"), "document");
    assert_string_equal(doc_display_name(&a, ""), "document");
    assert_string_equal(doc_display_name(&a, "dir/"), "document");
    assert_string_equal(doc_display_name(&a, "   "), "document");
    assert_string_equal(doc_display_name(&a, NULL), "document");
    char long_name[1000];
    memset(long_name, 'x', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    assert_int_equal(strlen(doc_display_name(&a, long_name)), 120);
    /* 200 Arabic letters keep 120 whole characters (240 bytes). */
    struct buf ar = BUF_INIT;
    for (int i = 0; i < 200; i++) {
        buf_adds(&ar, "س");
    }
    assert_int_equal(strlen(doc_display_name(&a, ar.buf)), 240);
    buf_release(&ar);
    arena_release(&a);
}

/* ---- files ---- */

static struct testenv env;

static void test_files(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    char stored[40], stored2[40];
    assert_int_equal(doc_write_file(env.dir, (const unsigned char *)"hello", 5, stored, &e), 0);
    assert_int_equal(doc_write_file(env.dir, (const unsigned char *)"hello", 5, stored2, &e), 0);
    assert_int_equal(strlen(stored), 35);
    assert_int_equal(stored[2], '/');
    assert_memory_equal(stored, stored + 3, 2);
    assert_string_not_equal(stored, stored2);
    char path[256];
    snprintf(path, sizeof(path), "%s/uploads/%s", env.dir, stored);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 5);
    /* No temporary file is left behind. */
    snprintf(path, sizeof(path), "%s/uploads/%.2s", env.dir, stored);
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        assert_null(strstr(de->d_name, ".tmp"));
    }
    closedir(d);
    struct buf b = BUF_INIT;
    assert_int_equal(doc_read_file(env.dir, stored, &b, &e), 0);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.buf, "hello", 5);
    /* Names this module did not make are refused. */
    const char *bad[] = {"../../etc/passwd", "ab/../../../../etc/passwd", "", "AB/ABCDEF",
                         "aa/bb0123456789abcdef0123456789abcd"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&e);
        assert_int_equal(doc_read_file(env.dir, bad[i], &b, &e), -1);
    }
    assert_int_equal(doc_read_file(env.dir, NULL, &b, &e), -1);
    /* An unwritable folder is an error naming the path. */
    err_clear(&e);
    assert_int_equal(doc_write_file("/proc/nonexistent", (const unsigned char *)"x", 1, stored, &e),
                     -1);
    assert_non_null(strstr(e.msg, "/proc/nonexistent"));
    buf_release(&b);
}

/* ---- service ---- */

static struct db *db;
static char org1[40], org2[40];

/* An actor of org with role. */
static struct actor actor_of(const char *org, const char *role)
{
    struct actor a;
    memset(&a, 0, sizeof(a));
    uuid_v7(a.user_id);
    snprintf(a.org_id, sizeof(a.org_id), "%s", org);
    snprintf(a.org_slug, sizeof(a.org_slug), "t%.6s", org + 30);
    snprintf(a.role, sizeof(a.role), "%s", role);
    snprintf(a.lang, sizeof(a.lang), "en");
    a.mfa_ok = true;
    return a;
}

/* Registers a child in org; returns its id in id. */
static void new_child(const char *org, char id[40])
{
    struct actor a = actor_of(org, "case_worker");
    json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "first_name", "محمد", "father_name",
                           "أحمد", "family_name", "الخطيب", "sex", "M", "birth_date", "2015-03-04",
                           "orphan_status", "father_deceased");
    struct err e;
    err_clear(&e);
    json_t *errors = NULL;
    char file_no[64];
    int rc = child_create(db, &a, in, id, file_no, &errors, &e);
    if (rc < 0) {
        fprintf(stderr, "child_create: %s %s\n", e.msg, errors ? json_dumps(errors, 0) : "");
    }
    assert_int_equal(rc, 0);
    json_decref(in);
}

/* Counts audit entries with action for entity id. */
static int64_t audits(const char *action, const char *child)
{
    struct err e;
    err_clear(&e);
    int found;
    struct db_stmt *s = db_row(db, &e, &found,
                               "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND entity_id = $2",
                               "tt", action, child);
    assert_non_null(s);
    int64_t n = db_col_int64(s, 0);
    db_done(s);
    return n;
}

static void test_service(void **state)
{
    (void)state;
    char child[40], other[40];
    new_child(org1, child);
    new_child(org2, other);
    struct actor cw = actor_of(org1, "case_worker");
    struct actor so = actor_of(org1, "sponsorship_officer");
    struct actor stranger = actor_of(org2, "case_worker");
    struct buf png = BUF_INIT;
    make_png(&png, true);
    struct err e;
    err_clear(&e);
    char photo[40], medical[40], x[40];
    assert_int_equal(document_add(db, &cw, child, "photo", "../me\xe2\x80\xae.png",
                                  (unsigned char *)png.buf, png.len, photo, &e),
                     0);
    assert_int_equal(document_add(db, &cw, child, "medical", "report.pdf",
                                  (const unsigned char *)"%PDF-1.4\nx\n%%EOF\n", 17, medical, &e),
                     0);
    /* Refusals: bad kind, no kind, executable, a sponsorship officer (no write),
     * another organization's child, medical without children.health. */
    err_clear(&e);
    assert_int_equal(document_add(db, &cw, child, "selfie", "a.png", (unsigned char *)png.buf,
                                  png.len, x, &e),
                     -1);
    assert_string_equal(e.field, "kind");
    err_clear(&e);
    assert_int_equal(document_add(db, &cw, child, NULL, "a.png", (unsigned char *)png.buf,
                                  png.len, x, &e),
                     -1);
    assert_string_equal(e.code, "required");
    err_clear(&e);
    assert_int_equal(document_add(db, &cw, child, "photo", "cat.jpg",
                                  (const unsigned char *)"\x7f" "ELF\x02\x01\x01", 7, x, &e),
                     -1);
    assert_string_equal(e.field, "file");
    err_clear(&e);
    assert_int_equal(document_add(db, &so, child, "photo", "a.png", (unsigned char *)png.buf,
                                  png.len, x, &e),
                     -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_int_equal(document_add(db, &stranger, child, "photo", "a.png",
                                  (unsigned char *)png.buf, png.len, x, &e),
                     -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    err_clear(&e);
    assert_int_equal(document_add(db, &cw, "not-a-uuid", "photo", "a.png",
                                  (unsigned char *)png.buf, png.len, x, &e),
                     -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    /* Lists: the case worker sees both, the sponsorship officer only the photo. */
    assert_int_equal(db_begin(db, true, &e), 0);
    json_t *l = document_list(db, &cw, child, &e);
    assert_non_null(l);
    assert_int_equal(json_array_size(l), 2);
    json_decref(l);
    l = document_list(db, &so, child, &e);
    assert_non_null(l);
    assert_int_equal(json_array_size(l), 1);
    json_t *first = json_array_get(l, 0);
    assert_string_equal(json_string_value(json_object_get(first, "kind")), "photo");
    assert_string_equal(json_string_value(json_object_get(first, "filename")), "me.png");
    assert_string_equal(json_string_value(json_object_get(first, "content_type")), "image/png");
    json_decref(l);
    err_clear(&e);
    assert_null(document_list(db, &stranger, child, &e));
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    db_rollback(db);
    /* Opening: the stored photo has no metadata; each view is audited. */
    int64_t before = audits("document.view", child);
    struct doc_file f;
    err_clear(&e);
    assert_int_equal(document_open(db, &so, child, photo, &f, &e), 0);
    assert_false(has_bytes(f.data.buf, f.data.len, "GPS", 3));
    assert_string_equal(f.content_type, "image/png");
    buf_release(&f.data);
    assert_int_equal(audits("document.view", child), before + 1);
    err_clear(&e);
    assert_int_equal(document_open(db, &so, child, medical, &f, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_int_equal(document_open(db, &stranger, NULL, photo, &f, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    err_clear(&e);
    assert_int_equal(document_open(db, &cw, other, photo, &f, &e), -1); /* wrong child in URL */
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    assert_int_equal(audits("document.view", child), before + 1);
    /* Deleting marks the row, removes the file, and the document is gone. */
    err_clear(&e);
    assert_int_equal(document_delete(db, &stranger, photo, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    assert_int_equal(document_delete(db, &cw, photo, &e), 0);
    assert_int_equal(audits("document.delete", child), 1);
    err_clear(&e);
    assert_int_equal(document_open(db, &cw, child, photo, &f, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    assert_int_equal(document_delete(db, &cw, photo, &e), -1);
    int found;
    struct db_stmt *s = db_row(db, &e, &found,
                               "SELECT stored_name, deleted_at FROM child_documents WHERE id = $1",
                               "t", photo);
    assert_non_null(s);
    assert_false(db_col_null(s, 1));
    char path[256];
    snprintf(path, sizeof(path), "%s/uploads/%s", env.dir, db_col_text(s, 0));
    db_done(s);
    assert_int_equal(access(path, F_OK), -1);
    buf_release(&png);
}

static int setup(void **state)
{
    (void)state;
    if (testenv_open(&env, "docs") < 0) {
        return -1;
    }
    db = env.db;
    free(g_config.data_dir);
    g_config.data_dir = strdup(env.dir);
    char slug[32];
    testenv_org(&env, org1, slug);
    testenv_org(&env, org2, slug);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return testenv_close(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jpeg_strip),     cmocka_unit_test(test_jpeg_refused),
        cmocka_unit_test(test_png_strip),      cmocka_unit_test(test_png_refused),
        cmocka_unit_test(test_webp_strip),     cmocka_unit_test(test_webp_refused),
        cmocka_unit_test(test_sniff),          cmocka_unit_test(test_prepare_refusals),
        cmocka_unit_test(test_prepare_strips), cmocka_unit_test(test_display_name),
        cmocka_unit_test(test_files),          cmocka_unit_test(test_service),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
