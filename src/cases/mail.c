/*
 * mail.c: building RFC 5322 messages and sending them with libcurl's SMTP.
 */
#include "cases/mail.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "core/banned.h"

/* Octets of one encoded-word's payload before base64 (45 -> 60 characters;
 * with "=?UTF-8?B?" and "?=" the word is 72 octets, under RFC 2047's 75). */
#define WORD_RAW 45
/* Characters of base64 per body line (RFC 2045 allows up to 76). */
#define BODY_LINE 76

bool mail_address_valid(const char *addr)
{
    if (!addr || !*addr || strlen(addr) > 254) {
        return false;
    }
    const char *at = strchr(addr, '@');
    if (!at || at == addr || strchr(at + 1, '@') || !at[1]) {
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)addr; *p; p++) {
        if (*p <= ' ' || *p >= 127 || strchr("\"<>(),;:\\[]", *p)) {
            return false;
        }
    }
    const char *dom = at + 1;
    if (dom[0] == '.' || dom[0] == '-' || dom[strlen(dom) - 1] == '.' || strstr(dom, "..")) {
        return false;
    }
    return strchr(dom, '.') != NULL || strcmp(dom, "localhost") == 0;
}

/* Appends n bytes of p as base64 (standard alphabet, padded). */
static void add_base64(struct buf *out, const unsigned char *p, size_t n)
{
    size_t len = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
    buf_grow(out, len);
    sodium_bin2base64(out->buf + out->len, len, p, n, sodium_base64_VARIANT_ORIGINAL);
    buf_setlen(out, out->len + len - 1);
}

/* Length of the UTF-8 sequence starting with lead byte c (1 for a stray byte). */
static size_t seq_len(unsigned char c)
{
    if (c >= 0xF0) {
        return 4;
    }
    if (c >= 0xE0) {
        return 3;
    }
    if (c >= 0xC0) {
        return 2;
    }
    return 1;
}

void mail_encode_words(struct buf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    bool first = true;
    while (n > 0 || first) {
        size_t take = 0;
        while (take < n) {
            size_t k = seq_len(p[take]);
            if (take + k > WORD_RAW || take + k > n) {
                break;
            }
            take += k;
        }
        if (take == 0 && n > 0) {
            take = n < WORD_RAW ? n : WORD_RAW; /* unreachable for valid UTF-8 */
        }
        if (!first) {
            buf_adds(out, "\r\n ");
        }
        buf_adds(out, "=?UTF-8?B?");
        add_base64(out, p, take);
        buf_adds(out, "?=");
        p += take;
        n -= take;
        first = false;
    }
}

/* True when s (valid UTF-8) is all printable ASCII that needs no encoding,
 * and holds no "=?" that a reader would take for an encoded-word. */
static bool plain_ascii(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < ' ' || *p >= 127) {
            return false;
        }
    }
    return strstr(s, "=?") == NULL && strlen(s) <= 60;
}

void mail_format_date(int64_t ms, struct buf *out)
{
    /* The HTTP date with the numeric zone RFC 5322 asks for instead of "GMT". */
    char http[40];
    time_format_http(ms >= 0 ? ms / 1000 : (ms - 999) / 1000, http, sizeof(http));
    buf_add(out, http, strlen(http) - strlen("GMT"));
    buf_adds(out, "+0000");
}

/* Checks one text member: valid UTF-8, and for one-line texts no control
 * characters. Returns 0 or -1 naming field. */
static int check_text(const char *v, const char *field, bool one_line, struct err *e)
{
    if (!v) {
        return err_set(e, ERR_INVALID, "required", field, "'%s' is required", field);
    }
    if (!utf8_valid(v, strlen(v))) {
        return err_set(e, ERR_INVALID, "invalid_utf8", field, "'%s' is not valid utf-8", field);
    }
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        bool bad = one_line ? (*p < ' ' || *p == 127) : (*p < ' ' && *p != '\n' && *p != '\r' &&
                                                         *p != '\t');
        if (bad) {
            return err_set(e, ERR_INVALID, "invalid_text", field,
                           "'%s' holds a control character", field);
        }
    }
    return 0;
}

/* Checks m and appends its header lines up to and including "MIME-Version"
 * (each line ended by CRLF). Returns 0 or -1 with e as mail_build. */
static int build_head(const struct mail_msg *m, struct buf *out, struct err *e)
{
    if (!mail_address_valid(m->from)) {
        return err_set(e, ERR_INVALID, "invalid_email", "from", "'from' is not a valid address");
    }
    if (!mail_address_valid(m->to)) {
        return err_set(e, ERR_INVALID, "invalid_email", "to", "'to' is not a valid address");
    }
    if (check_text(m->subject, "subject", true, e) < 0 || check_text(m->body, "body", false, e) < 0 ||
        (m->from_name && check_text(m->from_name, "from_name", true, e) < 0)) {
        return -1;
    }
    buf_adds(out, "Date: ");
    mail_format_date(m->date_ms ? m->date_ms : time_now_ms(), out);
    buf_adds(out, "\r\nFrom: ");
    if (m->from_name && *m->from_name) {
        if (plain_ascii(m->from_name) && !strpbrk(m->from_name, "\"\\()<>[]:;@,.")) {
            buf_adds(out, m->from_name);
        } else {
            mail_encode_words(out, m->from_name);
        }
        buf_addf(out, " <%s>", m->from);
    } else {
        buf_adds(out, m->from);
    }
    buf_addf(out, "\r\nTo: %s\r\nSubject: ", m->to);
    if (plain_ascii(m->subject)) {
        buf_adds(out, m->subject);
    } else {
        mail_encode_words(out, m->subject);
    }
    char id[40];
    uuid_v7(id);
    buf_addf(out, "\r\nMessage-ID: <%s@%s>\r\n", id, strchr(m->from, '@') + 1);
    buf_adds(out, "MIME-Version: 1.0\r\n");
    return 0;
}

/* Appends n bytes at p as base64 in lines of BODY_LINE characters, each ended by CRLF. */
static void add_base64_lines(struct buf *out, const unsigned char *p, size_t n)
{
    const size_t raw_line = BODY_LINE / 4 * 3;
    for (size_t i = 0; i < n; i += raw_line) {
        size_t k = n - i < raw_line ? n - i : raw_line;
        add_base64(out, p + i, k);
        buf_adds(out, "\r\n");
    }
}

/* Appends the text body: the content headers, a blank line and the text in
 * canonical form (every line break CRLF) as base64 lines. */
static void add_text_part(struct buf *out, const char *body)
{
    buf_adds(out, "Content-Type: text/plain; charset=utf-8\r\n"
                  "Content-Transfer-Encoding: base64\r\n\r\n");
    /* Canonical text: every line break becomes CRLF before encoding. */
    struct buf canon = BUF_INIT;
    for (const char *p = body; *p; p++) {
        if (*p == '\r') {
            buf_adds(&canon, "\r\n");
            if (p[1] == '\n') {
                p++;
            }
        } else if (*p == '\n') {
            buf_adds(&canon, "\r\n");
        } else {
            buf_addch(&canon, *p);
        }
    }
    add_base64_lines(out, (const unsigned char *)canon.buf, canon.len);
    buf_release(&canon);
}

int mail_build(const struct mail_msg *m, struct buf *out, struct err *e)
{
    if (build_head(m, out, e) < 0) {
        return -1;
    }
    add_text_part(out, m->body);
    return 0;
}

/* True when s is a media type "type/subtype" of RFC 2045 token characters. */
static bool media_type_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 100) {
        return false;
    }
    int slashes = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '/') {
            slashes++;
        } else if (*p <= ' ' || *p >= 127 || strchr("()<>@,;:\\\"[]?=", *p)) {
            return false;
        }
    }
    return slashes == 1 && s[0] != '/' && s[strlen(s) - 1] != '/';
}

/* Appends the attachment's name as RFC 2231 parameters: an ASCII fallback
 * filename="..." (other characters become '_') and filename*=UTF-8''<pct>. */
static void add_filename(struct buf *out, const char *name)
{
    static const char hex[] = "0123456789ABCDEF";
    buf_adds(out, "filename=\"");
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        bool plain = *p > ' ' && *p < 127 && !strchr("\"\\%", *p);
        buf_addch(out, plain ? *p : '_');
    }
    buf_adds(out, "\";\r\n filename*=UTF-8''");
    /* One line: names are at most 200 octets, so at most 600 encoded, under
     * the 998-octet line limit, and readers need no RFC 2231 continuations. */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p)) {
            buf_addch(out, *p);
        } else {
            buf_addch(out, '%');
            buf_addch(out, hex[*p >> 4]);
            buf_addch(out, hex[*p & 15]);
        }
    }
}

int mail_build_attached(const struct mail_msg *m, const struct mail_attachment *att,
                        size_t n_att, struct buf *out, struct err *e)
{
    if (n_att == 0) {
        return mail_build(m, out, e);
    }
    for (size_t i = 0; i < n_att; i++) {
        if (check_text(att[i].filename, "filename", true, e) < 0) {
            return -1;
        }
        if (!*att[i].filename || strlen(att[i].filename) > 200) {
            return err_set(e, ERR_INVALID, "invalid_text", "filename",
                           "'filename' must hold 1 to 200 octets");
        }
        if (!media_type_ok(att[i].content_type)) {
            return err_set(e, ERR_INVALID, "invalid_text", "content_type",
                           "'content_type' is not a media type");
        }
        if (!att[i].data && att[i].len) {
            return err_set(e, ERR_INVALID, "required", "data", "the attachment has no bytes");
        }
    }
    size_t start = out->len;
    if (build_head(m, out, e) < 0) {
        buf_setlen(out, start);
        return -1;
    }
    char boundary[64], id[40];
    uuid_v7(id);
    snprintf(boundary, sizeof(boundary), "=_sanad_%s", id);
    buf_addf(out, "Content-Type: multipart/mixed;\r\n boundary=\"%s\"\r\n\r\n", boundary);
    buf_adds(out, "This is a message in MIME format.\r\n");
    buf_addf(out, "--%s\r\n", boundary);
    add_text_part(out, m->body);
    for (size_t i = 0; i < n_att; i++) {
        buf_addf(out, "--%s\r\nContent-Type: %s\r\n", boundary, att[i].content_type);
        buf_adds(out, "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment;\r\n ");
        add_filename(out, att[i].filename);
        buf_adds(out, "\r\n\r\n");
        add_base64_lines(out, att[i].data, att[i].len);
    }
    buf_addf(out, "--%s--\r\n", boundary);
    return 0;
}

/* What the read callback hands libcurl. */
struct upload {
    const char *p; /* the next byte to send */
    size_t left;   /* bytes still to send */
};

/* libcurl's read callback: copies the next piece of the message. */
static size_t read_cb(char *dst, size_t size, size_t nmemb, void *user)
{
    struct upload *u = user;
    size_t room = size * nmemb;
    size_t n = u->left < room ? u->left : room;
    memcpy(dst, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

/* curl_global_init is not thread-safe: it runs once, whoever sends first. */
static void curl_start(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* True when the URL's host is the loopback interface. */
static bool url_loopback(const char *url)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    const char *at = strchr(h, '@');
    const char *slash = strchr(h, '/');
    if (at && (!slash || at < slash)) {
        h = at + 1;
    }
    return strncmp(h, "127.", 4) == 0 || strncmp(h, "localhost", 9) == 0 ||
           strncmp(h, "[::1]", 5) == 0;
}

int mail_send(const struct mail_server *srv, const char *from, const char *to, const char *text,
              size_t n, struct err *e)
{
    if (!srv->url || (strncmp(srv->url, "smtp://", 7) != 0 && strncmp(srv->url, "smtps://", 8))) {
        return err_set(e, ERR_INVALID, "bad_config", "smtp_url",
                       "'smtp_url' must start with smtp:// or smtps://");
    }
    if (!mail_address_valid(from) || !mail_address_valid(to)) {
        return err_set(e, ERR_INVALID, "invalid_email", "to", "'%s' is not a valid address",
                       mail_address_valid(from) ? "to" : "from");
    }
    pthread_once(&curl_once, curl_start);
    CURL *c = curl_easy_init();
    if (!c) {
        return err_set(e, ERR_INTERNAL, "smtp_failed", "smtp_url", "could not start libcurl");
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    char env_from[300];
    snprintf(env_from, sizeof(env_from), "<%s>", from);
    struct curl_slist *rcpt = curl_slist_append(NULL, to);
    struct upload up = {text, n};
    bool has_login = srv->user && *srv->user;
    curl_easy_setopt(c, CURLOPT_URL, srv->url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, env_from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)n);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    if (strncmp(srv->url, "smtp://", 7) == 0) {
        /* A password is never sent in clear to another machine. */
        curl_easy_setopt(c, CURLOPT_USE_SSL,
                         has_login && !url_loopback(srv->url) ? (long)CURLUSESSL_ALL
                                                               : (long)CURLUSESSL_TRY);
    }
    if (has_login) {
        curl_easy_setopt(c, CURLOPT_USERNAME, srv->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, srv->password ? srv->password : "");
    }
    CURLcode rc = curl_easy_perform(c);
    int ret = 0;
    if (rc != CURLE_OK) {
        ret = err_set(e, ERR_UNAVAILABLE, "smtp_failed", "smtp_url", "could not send mail to '%s': %s",
                      to, errbuf[0] ? errbuf : curl_easy_strerror(rc));
    }
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    return ret;
}
