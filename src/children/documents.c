/*
 * documents.c: photos and documents of a child: type checks by content,
 * metadata stripping, storage under random names, and the service calls
 * (add, list, open, delete), each audited in its own transaction.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "auth/authz.h"
#include "children/documents.h"
#include "core/config.h"
#include "core/log.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "core/banned.h"

/* Size limit used when the configuration leaves it at 0. */
#define DOC_DEFAULT_MAX (10u << 20)
/* Longest display name kept, in characters. */
#define DOC_NAME_MAX_CHARS 120

/* Fills e for a damaged file of type what and returns -1. */
static int malformed(struct err *e, const char *what, const char *why)
{
    return err_set(e, ERR_INVALID, "malformed_file", "file", "'file' is a damaged %s: %s", what,
                   why);
}

/* Big-endian 16 and 32 bit reads, little-endian 32 bit read. */
static unsigned be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

enum doc_type doc_sniff(const unsigned char *p, size_t n)
{
    if (!p) {
        return DOC_UNKNOWN;
    }
    if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) {
        return DOC_JPEG;
    }
    if (n >= 8 && memcmp(p, png_sig, 8) == 0) {
        return DOC_PNG;
    }
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0) {
        return DOC_WEBP;
    }
    if (n >= 5 && memcmp(p, "%PDF-", 5) == 0) {
        return DOC_PDF;
    }
    return DOC_UNKNOWN;
}

const char *doc_media_type(enum doc_type t)
{
    switch (t) {
    case DOC_JPEG:
        return "image/jpeg";
    case DOC_PNG:
        return "image/png";
    case DOC_WEBP:
        return "image/webp";
    case DOC_PDF:
        return "application/pdf";
    case DOC_UNKNOWN:
        break;
    }
    return NULL;
}

/* True for JPEG segments that can carry location or other personal data:
 * APP1 (Exif, XMP), APP13 (Photoshop/IPTC), COM, and APP2 "MPF" (whose
 * extra pictures, with their own Exif, follow the end of the image). */
static bool jpeg_drop(unsigned marker, const unsigned char *payload, size_t len)
{
    if (marker == 0xe1 || marker == 0xed || marker == 0xfe) {
        return true;
    }
    return marker == 0xe2 && len >= 4 && memcmp(payload, "MPF", 4) == 0;
}

int doc_strip_jpeg(const unsigned char *p, size_t n, struct buf *out, struct err *e)
{
    if (n < 4 || p[0] != 0xff || p[1] != 0xd8) {
        return malformed(e, "JPEG", "no start of image");
    }
    size_t start = out->len;
    buf_add(out, p, 2);
    size_t i = 2;
    bool seen_sos = false, in_scan = false;
    for (;;) {
        if (in_scan) {
            /* Entropy-coded data: FF 00 is a stuffed byte and FF D0..D7 a
             * restart marker; any other FF xx ends the scan. */
            size_t from = i;
            while (i + 1 < n) {
                if (p[i] == 0xff) {
                    unsigned m = p[i + 1];
                    if (m == 0x00 || (m >= 0xd0 && m <= 0xd7)) {
                        i += 2;
                        continue;
                    }
                    if (m != 0xff) {
                        break;
                    }
                }
                i++;
            }
            if (i + 1 >= n) {
                buf_setlen(out, start);
                return malformed(e, "JPEG", "truncated image data");
            }
            buf_add(out, p + from, i - from);
            in_scan = false;
        }
        if (i >= n) {
            buf_setlen(out, start);
            return malformed(e, "JPEG", "truncated before the end of image");
        }
        if (p[i] != 0xff) {
            buf_setlen(out, start);
            return malformed(e, "JPEG", "a segment does not start with a marker");
        }
        while (i < n && p[i] == 0xff) {
            i++; /* fill bytes */
        }
        if (i >= n) {
            buf_setlen(out, start);
            return malformed(e, "JPEG", "truncated marker");
        }
        unsigned m = p[i++];
        if (m == 0xd9) {
            if (!seen_sos) {
                buf_setlen(out, start);
                return malformed(e, "JPEG", "end of image before any image data");
            }
            buf_add(out, "\xff\xd9", 2);
            return 0; /* whatever follows the end of image is dropped */
        }
        if (m == 0x00 || m == 0x01 || m == 0xd8 || (m >= 0xd0 && m <= 0xd7)) {
            buf_setlen(out, start);
            return malformed(e, "JPEG", "unexpected marker");
        }
        if (n - i < 2) {
            buf_setlen(out, start);
            return malformed(e, "JPEG", "truncated segment length");
        }
        size_t len = be16(p + i);
        if (len < 2) {
            buf_setlen(out, start);
            return malformed(e, "JPEG", "segment length below 2");
        }
        if (len > n - i) {
            buf_setlen(out, start);
            return malformed(e, "JPEG", "segment longer than the file");
        }
        if (!jpeg_drop(m, p + i + 2, len - 2)) {
            buf_addch(out, 0xff);
            buf_addch(out, (int)m);
            buf_add(out, p + i, len);
        }
        i += len;
        if (m == 0xda) {
            seen_sos = true;
            in_scan = true;
        }
    }
}

/* True for PNG chunks that carry text or Exif (and so possibly a location). */
static bool png_drop(const unsigned char *type)
{
    return memcmp(type, "eXIf", 4) == 0 || memcmp(type, "tEXt", 4) == 0 ||
           memcmp(type, "zTXt", 4) == 0 || memcmp(type, "iTXt", 4) == 0;
}

/* True when the 4 bytes are ASCII letters, as chunk types must be. */
static bool fourcc_letters(const unsigned char *t)
{
    for (int k = 0; k < 4; k++) {
        if (!((t[k] >= 'A' && t[k] <= 'Z') || (t[k] >= 'a' && t[k] <= 'z'))) {
            return false;
        }
    }
    return true;
}

int doc_strip_png(const unsigned char *p, size_t n, struct buf *out, struct err *e)
{
    if (n < 8 || memcmp(p, png_sig, 8) != 0) {
        return malformed(e, "PNG", "no PNG signature");
    }
    size_t start = out->len;
    buf_add(out, p, 8);
    size_t i = 8;
    bool first = true;
    for (;;) {
        if (n - i < 12) {
            buf_setlen(out, start);
            return malformed(e, "PNG", "truncated before the end chunk");
        }
        uint32_t len = be32(p + i);
        const unsigned char *type = p + i + 4;
        if (len > 0x7fffffffu || len > n - i - 12) {
            buf_setlen(out, start);
            return malformed(e, "PNG", "chunk longer than the file");
        }
        if (!fourcc_letters(type)) {
            buf_setlen(out, start);
            return malformed(e, "PNG", "chunk type is not four letters");
        }
        uint32_t want = be32(p + i + 8 + len);
        uint32_t got = (uint32_t)crc32(crc32(0L, Z_NULL, 0), type, (uInt)(4 + len));
        if (want != got) {
            buf_setlen(out, start);
            return malformed(e, "PNG", "chunk checksum does not match");
        }
        if (first && (memcmp(type, "IHDR", 4) != 0 || len != 13)) {
            buf_setlen(out, start);
            return malformed(e, "PNG", "the first chunk is not the header");
        }
        first = false;
        if (!png_drop(type)) {
            buf_add(out, p + i, 12 + (size_t)len);
        }
        i += 12 + (size_t)len;
        if (memcmp(type, "IEND", 4) == 0) {
            return 0; /* whatever follows the end chunk is dropped */
        }
    }
}

int doc_strip_webp(const unsigned char *p, size_t n, struct buf *out, struct err *e)
{
    if (n < 12 || memcmp(p, "RIFF", 4) != 0 || memcmp(p + 8, "WEBP", 4) != 0) {
        return malformed(e, "WebP", "no RIFF WEBP header");
    }
    uint32_t riff = le32(p + 4);
    if (riff < 4 + 8) {
        return malformed(e, "WebP", "RIFF size too small");
    }
    if ((size_t)riff > n - 8) {
        return malformed(e, "WebP", "truncated: RIFF size beyond the file");
    }
    size_t end = 8 + (size_t)riff;
    size_t start = out->len;
    buf_add(out, p, 12);
    size_t i = 12;
    size_t vp8x_flags = 0; /* offset of the VP8X flags byte in out, 0 when none */
    bool first = true;
    while (i < end) {
        if (end - i < 8) {
            buf_setlen(out, start);
            return malformed(e, "WebP", "truncated chunk header");
        }
        const unsigned char *fourcc = p + i;
        uint32_t size = le32(p + i + 4);
        size_t padded = (size_t)size + (size & 1);
        if (padded > end - i - 8) {
            buf_setlen(out, start);
            return malformed(e, "WebP", "chunk longer than the file");
        }
        if (first) {
            if (memcmp(fourcc, "VP8 ", 4) != 0 && memcmp(fourcc, "VP8L", 4) != 0 &&
                memcmp(fourcc, "VP8X", 4) != 0) {
                buf_setlen(out, start);
                return malformed(e, "WebP", "the first chunk is not an image chunk");
            }
            first = false;
        }
        if (memcmp(fourcc, "EXIF", 4) != 0 && memcmp(fourcc, "XMP ", 4) != 0) {
            if (memcmp(fourcc, "VP8X", 4) == 0) {
                if (size < 10) {
                    buf_setlen(out, start);
                    return malformed(e, "WebP", "extended header too short");
                }
                vp8x_flags = out->len + 8;
            }
            buf_add(out, p + i, 8 + padded);
        }
        i += 8 + padded;
    }
    if (first) {
        buf_setlen(out, start);
        return malformed(e, "WebP", "no image chunk");
    }
    if (vp8x_flags) {
        out->buf[vp8x_flags] = (char)((unsigned char)out->buf[vp8x_flags] & ~0x0cu);
    }
    uint32_t size = (uint32_t)(out->len - start - 8);
    unsigned char le[4] = {(unsigned char)size, (unsigned char)(size >> 8),
                           (unsigned char)(size >> 16), (unsigned char)(size >> 24)};
    memcpy(out->buf + start + 4, le, 4);
    return 0;
}

/* Checks that a PDF ends with an end-of-file marker (not cut short). */
static int check_pdf(const unsigned char *p, size_t n, struct err *e)
{
    size_t from = n > 1024 ? n - 1024 : 0;
    for (size_t i = from; i + 5 <= n; i++) {
        if (memcmp(p + i, "%%EOF", 5) == 0) {
            return 0;
        }
    }
    return malformed(e, "PDF", "truncated: no end-of-file marker");
}

/* Fills e with why p is refused (a type other than the four accepted). */
static void refuse_unknown(const unsigned char *p, size_t n, struct err *e)
{
    size_t i = 0;
    if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
        i = 3; /* UTF-8 byte-order mark */
    }
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) {
        i++;
    }
    if ((n >= 4 && memcmp(p, "\x7f" "ELF", 4) == 0) || (n >= 2 && memcmp(p, "MZ", 2) == 0) ||
        (n >= 2 && memcmp(p, "#!", 2) == 0) || (n >= 4 && be32(p) == 0xcafebabeu) ||
        (n >= 4 && (be32(p) == 0xfeedfaceu || be32(p) == 0xfeedfacfu || be32(p) == 0xcffaedfeu))) {
        err_set(e, ERR_INVALID, "unsupported_file_type", "file",
                "'file' is a program, not an image or a PDF");
    } else if (i < n && p[i] == '<') {
        err_set(e, ERR_INVALID, "unsupported_file_type", "file",
                "'file' is HTML, XML or SVG, not an image or a PDF");
    } else {
        err_set(e, ERR_INVALID, "unsupported_file_type", "file",
                "'file' is not a JPEG, PNG, WebP or PDF file");
    }
}

enum doc_type doc_prepare(const unsigned char *p, size_t n, size_t max, struct buf *out,
                          struct err *e)
{
    if (!p || n == 0) {
        err_set(e, ERR_INVALID, "empty_file", "file", "'file' is empty");
        return DOC_UNKNOWN;
    }
    if (max == 0) {
        max = DOC_DEFAULT_MAX;
    }
    if (n > max) {
        err_set(e, ERR_LIMIT, "file_too_large", "file", "'file' is larger than %zu bytes", max);
        return DOC_UNKNOWN;
    }
    enum doc_type t = doc_sniff(p, n);
    int rc = -1;
    switch (t) {
    case DOC_JPEG:
        rc = doc_strip_jpeg(p, n, out, e);
        break;
    case DOC_PNG:
        rc = doc_strip_png(p, n, out, e);
        break;
    case DOC_WEBP:
        rc = doc_strip_webp(p, n, out, e);
        break;
    case DOC_PDF:
        rc = check_pdf(p, n, e);
        if (rc == 0) {
            buf_add(out, p, n);
        }
        break;
    case DOC_UNKNOWN:
        refuse_unknown(p, n, e);
        break;
    }
    return rc < 0 ? DOC_UNKNOWN : t;
}

/* Decodes one code point of valid UTF-8 at s; *len gets its byte count. */
static uint32_t utf8_next(const unsigned char *s, size_t *len)
{
    if (s[0] < 0x80) {
        *len = 1;
        return s[0];
    }
    if (s[0] < 0xe0) {
        *len = 2;
        return (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
    }
    if (s[0] < 0xf0) {
        *len = 3;
        return (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
    }
    *len = 4;
    return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
           (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
}

/* True for characters a shown file name must not hold: controls, and the
 * marks that reorder text (which make "gpj.exe" look like "exe.jpg"). */
static bool name_char_banned(uint32_t c)
{
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x200e || c == 0x200f ||
           (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0x061c ||
           c == 0xfeff;
}

char *doc_display_name(struct arena *a, const char *filename)
{
    if (!filename) {
        return arena_strdup(a, "document");
    }
    const char *base = filename;
    for (const char *s = filename; *s; s++) {
        if (*s == '/' || *s == '\\') {
            base = s + 1;
        }
    }
    size_t n = strlen(base);
    if (!utf8_valid(base, n)) {
        return arena_strdup(a, "document");
    }
    struct buf b = BUF_INIT;
    size_t chars = 0;
    for (size_t i = 0; i < n && chars < DOC_NAME_MAX_CHARS;) {
        size_t len;
        uint32_t c = utf8_next((const unsigned char *)base + i, &len);
        if (!name_char_banned(c)) {
            buf_add(&b, base + i, len);
            chars++;
        }
        i += len;
    }
    char *trimmed = text_trim(b.buf);
    char *res = arena_strdup(a, *trimmed ? trimmed : "document");
    buf_release(&b);
    return res;
}

/* Writes all n bytes to fd. Returns 0 or -1 with errno. */
static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Makes folder path (mode 0700) unless it exists. */
static int make_dir(const char *path, struct err *e)
{
    if (mkdir(path, 0700) < 0 && errno != EEXIST) {
        return err_set(e, ERR_INTERNAL, "io_error", NULL, "could not create '%s': %s", path,
                       strerror(errno));
    }
    return 0;
}

/* fsyncs a folder so that a rename in it survives a crash. */
static void sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        if (fsync(fd) < 0) {
            log_warn("could not sync the uploads folder", "error=%s", strerror(errno));
        }
        close(fd);
    }
}

int doc_write_file(const char *data_dir, const unsigned char *p, size_t n, char stored_out[40],
                   struct err *e)
{
    if (sodium_init() < 0) {
        return err_set(e, ERR_INTERNAL, "sodium_init", NULL, "could not initialise libsodium");
    }
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof(rnd));
    char hex[33];
    text_hex(rnd, sizeof(rnd), hex);
    struct buf dir = BUF_INIT, tmp = BUF_INIT, dst = BUF_INIT;
    buf_addf(&dir, "%s/uploads", data_dir && *data_dir ? data_dir : ".");
    int rc = make_dir(dir.buf, e);
    buf_addf(&dir, "/%.2s", hex);
    if (rc == 0) {
        rc = make_dir(dir.buf, e);
    }
    buf_addf(&tmp, "%s/%s.tmp", dir.buf, hex);
    buf_addf(&dst, "%s/%s", dir.buf, hex);
    int fd = -1;
    if (rc == 0) {
        fd = open(tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
            rc = err_set(e, ERR_INTERNAL, "io_error", NULL, "could not create '%s': %s", tmp.buf,
                         strerror(errno));
        }
    }
    if (fd >= 0) {
        if (write_all(fd, p, n) < 0 || fsync(fd) < 0) {
            rc = err_set(e, ERR_INTERNAL, "io_error", NULL, "could not write '%s': %s", tmp.buf,
                         strerror(errno));
        }
        if (close(fd) < 0 && rc == 0) {
            rc = err_set(e, ERR_INTERNAL, "io_error", NULL, "could not write '%s': %s", tmp.buf,
                         strerror(errno));
        }
        if (rc == 0 && rename(tmp.buf, dst.buf) < 0) {
            rc = err_set(e, ERR_INTERNAL, "io_error", NULL, "could not rename '%s': %s", tmp.buf,
                         strerror(errno));
        }
        if (rc < 0) {
            unlink(tmp.buf);
        } else {
            sync_dir(dir.buf);
        }
    }
    if (rc == 0) {
        snprintf(stored_out, 40, "%.2s/%s", hex, hex);
    }
    buf_release(&dir);
    buf_release(&tmp);
    buf_release(&dst);
    return rc;
}

/* True for a stored name this module made: "<2 hex>/<32 hex>", same first two. */
static bool stored_name_ok(const char *s)
{
    if (!s || strlen(s) != 35 || s[2] != '/' || s[0] != s[3] || s[1] != s[4]) {
        return false;
    }
    for (int i = 0; i < 35; i++) {
        if (i != 2 && !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

/* The full path of a stored file, in b. */
static void stored_path(struct buf *b, const char *data_dir, const char *stored)
{
    buf_addf(b, "%s/uploads/%s", data_dir && *data_dir ? data_dir : ".", stored);
}

int doc_read_file(const char *data_dir, const char *stored, struct buf *out, struct err *e)
{
    if (!stored_name_ok(stored)) {
        return err_set(e, ERR_INTERNAL, "io_error", NULL, "stored name '%s' is not valid",
                       stored ? stored : "");
    }
    struct buf path = BUF_INIT;
    stored_path(&path, data_dir, stored);
    int fd = open(path.buf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int rc = 0;
    if (fd < 0) {
        rc = err_set(e, ERR_INTERNAL, "io_error", NULL, "could not open '%s': %s", path.buf,
                     strerror(errno));
    }
    while (fd >= 0) {
        buf_grow(out, 65536);
        ssize_t got = read(fd, out->buf + out->len, 65536);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            rc = err_set(e, ERR_INTERNAL, "io_error", NULL, "could not read '%s': %s", path.buf,
                         strerror(errno));
            break;
        }
        if (got == 0) {
            break;
        }
        buf_setlen(out, out->len + (size_t)got);
    }
    if (fd >= 0) {
        close(fd);
    }
    buf_release(&path);
    return rc;
}

/* Removes a stored file; a failure is logged (the row is already marked). */
static void remove_stored(const char *stored)
{
    if (!stored_name_ok(stored)) {
        return;
    }
    struct buf path = BUF_INIT;
    stored_path(&path, g_config.data_dir, stored);
    if (unlink(path.buf) < 0 && errno != ENOENT) {
        log_warn("could not remove a deleted document's file", "file=%s error=%s", path.buf,
                 strerror(errno));
    }
    buf_release(&path);
}

/* True when kind is one of DOCUMENT_KINDS. */
static bool kind_valid(const char *kind)
{
    if (!kind || !*kind || strlen(kind) > 30 || strchr(kind, ' ')) {
        return false;
    }
    char w[40];
    snprintf(w, sizeof(w), " %s ", kind);
    return strstr(DOCUMENT_KINDS, w) != NULL;
}

/* Ends a failed transaction and passes on -1. */
static int fail(struct db *db)
{
    db_rollback(db);
    return -1;
}

/* Checks that child_id is a child of a's organization (inside a transaction). */
static int check_child(struct db *db, const struct actor *a, const char *child_id, struct err *e)
{
    if (!child_id || !uuid_valid(child_id)) {
        return err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such child");
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT id FROM children WHERE id = $1 AND org_id = $2", "tt",
                               child_id, a->org_id);
    if (!s) {
        return found < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such child");
    }
    db_done(s);
    return 0;
}

int document_add(struct db *db, const struct actor *a, const char *child_id, const char *kind,
                 const char *filename, const unsigned char *data, size_t n, char id_out[40],
                 struct err *e)
{
    if (!actor_can(a, PERM_CHILDREN_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to add documents");
    }
    if (!kind || !*kind) {
        return err_set(e, ERR_INVALID, "required", "kind", "'kind' is required");
    }
    if (!kind_valid(kind)) {
        return err_set(e, ERR_INVALID, "invalid_choice", "kind", "'kind' is not a document kind");
    }
    if (strcmp(kind, "medical") == 0 && !actor_can(a, PERM_CHILDREN_HEALTH)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", "kind",
                       "not allowed to add medical documents");
    }
    struct buf clean = BUF_INIT;
    enum doc_type t = doc_prepare(data, n, g_config.upload_max, &clean, e);
    if (t == DOC_UNKNOWN) {
        buf_release(&clean);
        return -1;
    }
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)clean.buf, clean.len);
    char sha[2 * crypto_hash_sha256_BYTES + 1];
    text_hex(digest, sizeof(digest), sha);
    struct arena ar;
    arena_init(&ar);
    const char *shown = doc_display_name(&ar, filename);
    char stored[40] = "", id[UUID_STR_LEN], at[32];
    uuid_v7(id);
    time_format_iso(time_now_ms(), at, sizeof(at));
    int rc = -1;
    if (db_begin(db, false, e) < 0) {
        goto out;
    }
    if (check_child(db, a, child_id, e) < 0 ||
        doc_write_file(g_config.data_dir, (const unsigned char *)clean.buf, clean.len, stored,
                       e) < 0) {
        fail(db);
        goto out;
    }
    char detail[96];
    snprintf(detail, sizeof(detail), "document %s %s", id, kind);
    if (db_run(db, e,
               "INSERT INTO child_documents (id, org_id, child_id, kind, filename, stored_name,"
               " content_type, size, sha256, uploaded_by, uploaded_at)"
               " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
               "tttttttittt", id, a->org_id, child_id, kind, shown, stored, doc_media_type(t),
               (int64_t)clean.len, sha, a->user_id[0] ? a->user_id : "cli", at) < 0 ||
        actor_audit(db, a, "document.upload", "child", child_id, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        fail(db);
        remove_stored(stored);
        goto out;
    }
    snprintf(id_out, 40, "%s", id);
    rc = 0;
out:
    arena_release(&ar);
    buf_release(&clean);
    return rc;
}

json_t *document_list(struct db *db, const struct actor *a, const char *child_id, struct err *e)
{
    if (!actor_can(a, PERM_CHILDREN_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to read children");
        return NULL;
    }
    if (check_child(db, a, child_id, e) < 0) {
        return NULL;
    }
    bool health = actor_can(a, PERM_CHILDREN_HEALTH);
    struct db_stmt *s =
        db_query(db, e,
                 "SELECT d.id, d.kind, d.filename, d.content_type, d.size, d.sha256,"
                 " d.uploaded_at, COALESCE(u.display_name, d.uploaded_by)"
                 " FROM child_documents d LEFT JOIN users u ON u.id = d.uploaded_by"
                 " WHERE d.child_id = $1 AND d.org_id = $2 AND d.deleted_at IS NULL"
                 " ORDER BY d.uploaded_at DESC, d.id DESC",
                 "tt", child_id, a->org_id);
    if (!s) {
        return NULL;
    }
    json_t *items = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        const char *kind = db_col_text(s, 1);
        if (!health && kind && strcmp(kind, "medical") == 0) {
            continue;
        }
        const char *ct = db_col_text(s, 3);
        json_array_append_new(
            items, json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s?, s:b}", "id",
                             db_col_text(s, 0), "kind", kind, "filename", db_col_text(s, 2),
                             "content_type", ct, "size", (json_int_t)db_col_int64(s, 4), "sha256",
                             db_col_text(s, 5), "uploaded_at", db_col_text(s, 6), "uploaded_by",
                             db_col_text(s, 7), "image", ct && strncmp(ct, "image/", 6) == 0));
    }
    db_done(s);
    if (rc < 0) {
        json_decref(items);
        return NULL;
    }
    return items;
}

/* The live row of document doc_id in a's organization: fills child_id,
 * kind, filename, stored name and content type. Inside a transaction. */
static int load_doc(struct db *db, const struct actor *a, const char *doc_id, char child[40],
                    char kind[32], char *filename, size_t filename_n, char stored[40],
                    char ctype[32], struct err *e)
{
    if (!doc_id || !uuid_valid(doc_id)) {
        return err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such document");
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT child_id, kind, filename, stored_name, content_type"
                               " FROM child_documents WHERE id = $1 AND org_id = $2"
                               " AND deleted_at IS NULL",
                               "tt", doc_id, a->org_id);
    if (!s) {
        return found < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such document");
    }
    snprintf(child, 40, "%s", db_col_text(s, 0));
    snprintf(kind, 32, "%s", db_col_text(s, 1));
    snprintf(filename, filename_n, "%s", db_col_text(s, 2));
    snprintf(stored, 40, "%s", db_col_text(s, 3));
    snprintf(ctype, 32, "%s", db_col_text(s, 4));
    db_done(s);
    if (strcmp(kind, "medical") == 0 && !actor_can(a, PERM_CHILDREN_HEALTH)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to see medical documents");
    }
    return 0;
}

int document_open(struct db *db, const struct actor *a, const char *child_id, const char *doc_id,
                  struct doc_file *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    buf_init(&out->data);
    if (!actor_can(a, PERM_CHILDREN_READ)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to read children");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    char child[40], stored[40];
    if (load_doc(db, a, doc_id, child, out->kind, out->filename, sizeof(out->filename), stored,
                 out->content_type, e) < 0) {
        return fail(db);
    }
    if (child_id && strcmp(child_id, child) != 0) {
        err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such document");
        return fail(db);
    }
    char detail[96];
    snprintf(detail, sizeof(detail), "document %s %s", doc_id, out->kind);
    if (doc_read_file(g_config.data_dir, stored, &out->data, e) < 0 ||
        actor_audit(db, a, "document.view", "child", child, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        buf_release(&out->data);
        return fail(db);
    }
    return 0;
}

int document_delete(struct db *db, const struct actor *a, const char *doc_id, struct err *e)
{
    if (!actor_can(a, PERM_CHILDREN_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to delete documents");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    char child[40], kind[32], filename[512], stored[40] = "", ctype[32], at[32];
    if (load_doc(db, a, doc_id, child, kind, filename, sizeof(filename), stored, ctype, e) < 0) {
        return fail(db);
    }
    time_format_iso(time_now_ms(), at, sizeof(at));
    char detail[96];
    snprintf(detail, sizeof(detail), "document %s %s", doc_id, kind);
    if (db_run(db, e, "UPDATE child_documents SET deleted_at = $1 WHERE id = $2 AND org_id = $3",
               "ttt", at, doc_id, a->org_id) < 0 ||
        actor_audit(db, a, "document.delete", "child", child, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        return fail(db);
    }
    remove_stored(stored);
    return 0;
}
