/*
 * static.c: GET /static/... from the assets compiled into the binary. At
 * start-up each asset gets a strong ETag (a BLAKE2b hash of its bytes) and,
 * when it is smaller that way, a gzip copy; both are kept for the life of
 * the process and served without copying.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "core/log.h"
#include "core/text.h"
#include "core/xalloc.h"
#include "http/http_internal.h"
#include "web/assets.h"
#include "core/banned.h"

/* What start-up worked out for one static asset. */
struct static_file {
    const struct asset *asset; /* the embedded file */
    char etag[40];             /* "\"<32 hex>\"" */
    const char *type;          /* Content-Type by extension */
    unsigned char *gz;         /* gzip copy (malloc'd), NULL when not smaller */
    size_t gz_len;             /* its length */
};

static struct static_file *files; /* one per "static/" asset, in asset order (sorted) */
static size_t n_files;            /* how many */
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Content-Type for a file name by its extension. */
static const char *type_of(const char *name)
{
    static const struct {
        const char *ext;  /* extension with the dot */
        const char *type; /* media type */
    } types[] = {
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
        {".json", "application/json"},
        {".webmanifest", "application/manifest+json"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcasecmp(dot, types[i].ext) == 0) {
            return types[i].type;
        }
    }
    return "application/octet-stream";
}

/* Gzips data; returns a malloc'd copy or NULL when it is not smaller. */
static unsigned char *gzip_of(const unsigned char *data, size_t n, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        return NULL;
    }
    size_t cap = deflateBound(&z, (uLong)n) + 32;
    unsigned char *out = xmalloc(cap);
    z.next_in = (unsigned char *)data;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END || len >= n) {
        free(out);
        return NULL;
    }
    *out_len = len;
    return out;
}

/* Builds the table (run once). */
static void build(void)
{
    if (sodium_init() < 0) {
        log_error("could not initialise libsodium", NULL);
    }
    size_t count = 0;
    for (size_t i = 0; i < n_assets; i++) {
        count += strncmp(assets[i].name, "static/", 7) == 0;
    }
    files = xcalloc(count ? count : 1, sizeof(*files));
    for (size_t i = 0; i < n_assets; i++) {
        const struct asset *a = &assets[i];
        if (strncmp(a->name, "static/", 7) != 0) {
            continue;
        }
        struct static_file *f = &files[n_files++];
        unsigned char hash[16];
        char hex[33];
        crypto_generichash(hash, sizeof(hash), a->data, a->len, NULL, 0);
        text_hex(hash, sizeof(hash), hex);
        f->etag[0] = '"';
        memcpy(f->etag + 1, hex, 32);
        f->etag[33] = '"';
        f->etag[34] = '\0';
        f->asset = a;
        f->type = type_of(a->name);
        if (a->len > 256 && strncmp(f->type, "image/png", 9) != 0 &&
            strcmp(f->type, "font/woff2") != 0) {
            f->gz = gzip_of(a->data, a->len, &f->gz_len);
        }
    }
}

void http_static_init(void)
{
    pthread_once(&once, build);
}

void http_static_shutdown(void)
{
    for (size_t i = 0; i < n_files; i++) {
        free(files[i].gz);
    }
    free(files);
    files = NULL;
    n_files = 0;
    once = (pthread_once_t)PTHREAD_ONCE_INIT;
}

/* True when an If-None-Match header value matches etag. */
static bool etag_matches(const char *inm, const char *etag)
{
    if (!inm) {
        return false;
    }
    if (strcmp(inm, "*") == 0) {
        return true;
    }
    return strstr(inm, etag) != NULL;
}

/* True when Accept-Encoding lists gzip without "q=0". */
static bool accepts_gzip(const char *ae)
{
    const char *g = ae ? strcasestr(ae, "gzip") : NULL;
    if (!g) {
        return false;
    }
    const char *end = strchr(g, ',');
    size_t n = end ? (size_t)(end - g) : strlen(g);
    const char *q = memmem(g, n, "q=", 2);
    if (!q) {
        return true;
    }
    q += 2;
    /* q=0, q=0.0, q=0.00 and q=0.000 refuse */
    if (*q != '0') {
        return true;
    }
    for (q++; *q == '.' || *q == '0'; q++) {
    }
    return !(*q == '\0' || *q == ',' || *q == ' ' || *q == ';');
}

void http_static_serve(struct http_req *r, const char *path)
{
    struct http_priv *p = r->priv;
    http_static_init();
    p->is_static = true;
    p->route_label = "/static/*";
    const char *rest = path + strlen("/static/");
    struct static_file *f = NULL;
    if (*rest) {
        const char *name = arena_printf(&r->arena, "static/%s", rest);
        size_t lo = 0, hi = n_files;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            int c = strcmp(files[mid].asset->name, name);
            if (c == 0) {
                f = &files[mid];
                break;
            }
            if (c < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
    }
    if (!f) {
        p->is_static = false;
        http_reply_error_page(r, 404, "not_found", NULL);
        return;
    }
    http_add_header(r, "ETag", f->etag);
    http_add_header(r, "Cache-Control", "public, max-age=3600");
    http_add_header(r, "Vary", "Accept-Encoding");
    if (etag_matches(http_header(r, "If-None-Match"), f->etag)) {
        http_reply(r, 304, f->type, "", 0);
        return;
    }
    const void *body = f->asset->data;
    size_t len = f->asset->len;
    if (f->gz && accepts_gzip(http_header(r, "Accept-Encoding"))) {
        http_add_header(r, "Content-Encoding", "gzip");
        body = f->gz;
        len = f->gz_len;
    }
    r->replied = true;
    p->status = 200;
    p->reply_type = f->type;
    p->reply_body = body;
    p->reply_len = len;
}
