#include "auth/totp.h"

#include <qrencode.h>
#include <sodium.h>
#include <string.h>

#include "core/banned.h"

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void totp_new_secret(char out[TOTP_SECRET_B32])
{
    unsigned char key[20];
    randombytes_buf(key, sizeof(key));
    int o = 0;
    for (int i = 0; i < 20; i += 5) {
        uint64_t v = 0;
        for (int k = 0; k < 5; k++) {
            v = (v << 8) | key[i + k];
        }
        for (int k = 7; k >= 0; k--) {
            out[o++] = b32[(v >> (5 * k)) & 31];
        }
    }
    out[o] = '\0';
    sodium_memzero(key, sizeof(key));
}

int base32_decode(const char *in, unsigned char *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (; *in; in++) {
        char c = *in;
        if (c == '=' || c == ' ' || c == '-') {
            continue;
        }
        if (c >= 'a' && c <= 'z') {
            c = (char)(c - 32);
        }
        const char *p = strchr(b32, c);
        if (!p || !c) {
            return -1;
        }
        acc = (acc << 5) | (uint32_t)(p - b32);
        bits += 5;
        if (bits >= 8) {
            if (n == cap) {
                return -1;
            }
            out[n++] = (unsigned char)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    return (int)n;
}

/* SHA-1 (FIPS 180-4), written out because libsodium has none and HOTP needs it. */
static uint32_t rol(uint32_t x, int k)
{
    return (x << k) | (x >> (32 - k));
}

void sha1(const unsigned char *data, size_t n, unsigned char out[20])
{
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    size_t total = ((n + 8) / 64 + 1) * 64;
    unsigned char block[64];
    for (size_t off = 0; off < total; off += 64) {
        for (size_t i = 0; i < 64; i++) {
            size_t pos = off + i;
            if (pos < n) {
                block[i] = data[pos];
            } else if (pos == n) {
                block[i] = 0x80;
            } else if (pos >= total - 8) {
                block[i] = (unsigned char)(((uint64_t)n * 8) >> (8 * (total - 1 - pos)));
            } else {
                block[i] = 0;
            }
        }
        uint32_t w[80];
        for (int i = 0; i < 16; i++) {
            w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 |
                   (uint32_t)block[4 * i + 2] << 8 | block[4 * i + 3];
        }
        for (int i = 16; i < 80; i++) {
            w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        }
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int i = 0; i < 80; i++) {
            uint32_t f, k;
            if (i < 20) {
                f = (b & c) | (~b & d);
                k = 0x5A827999;
            } else if (i < 40) {
                f = b ^ c ^ d;
                k = 0x6ED9EBA1;
            } else if (i < 60) {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8F1BBCDC;
            } else {
                f = b ^ c ^ d;
                k = 0xCA62C1D6;
            }
            uint32_t t = rol(a, 5) + f + e + k + w[i];
            e = d;
            d = c;
            c = rol(b, 30);
            b = a;
            a = t;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
    }
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (unsigned char)(h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(h[i] >> 8);
        out[4 * i + 3] = (unsigned char)h[i];
    }
}

/* HMAC-SHA1 (RFC 2104) of msg under key. */
static void hmac_sha1(const unsigned char *key, size_t key_len, const unsigned char *msg,
                      size_t msg_len, unsigned char out[20])
{
    unsigned char k[64] = {0};
    if (key_len > 64) {
        sha1(key, key_len, k);
    } else {
        memcpy(k, key, key_len);
    }
    unsigned char inner[64 + 64];
    unsigned char ih[20];
    unsigned char outer[64 + 20];
    if (msg_len > 64) {
        msg_len = 64; /* HOTP messages are 8 bytes */
    }
    for (int i = 0; i < 64; i++) {
        inner[i] = k[i] ^ 0x36;
        outer[i] = k[i] ^ 0x5c;
    }
    memcpy(inner + 64, msg, msg_len);
    sha1(inner, 64 + msg_len, ih);
    memcpy(outer + 64, ih, 20);
    sha1(outer, sizeof(outer), out);
    sodium_memzero(k, sizeof(k));
}

uint32_t hotp(const unsigned char *key, size_t key_len, uint64_t counter, int digits)
{
    unsigned char msg[8];
    for (int i = 7; i >= 0; i--) {
        msg[i] = (unsigned char)(counter & 0xff);
        counter >>= 8;
    }
    unsigned char mac[20];
    hmac_sha1(key, key_len, msg, sizeof(msg), mac);
    int off = mac[19] & 0x0f;
    uint32_t bin = (uint32_t)(mac[off] & 0x7f) << 24 | (uint32_t)mac[off + 1] << 16 |
                   (uint32_t)mac[off + 2] << 8 | mac[off + 3];
    uint32_t mod = 1;
    for (int i = 0; i < digits; i++) {
        mod *= 10;
    }
    return bin % mod;
}

int64_t totp_verify(const char *secret_b32, const char *code, int64_t now_s, int64_t last_step)
{
    if (!code || strlen(code) != 6 || strspn(code, "0123456789") != 6) {
        return -1;
    }
    unsigned char key[64];
    int n = base32_decode(secret_b32, key, sizeof(key));
    if (n <= 0) {
        return -1;
    }
    uint32_t want = 0;
    for (int i = 0; i < 6; i++) {
        want = want * 10 + (uint32_t)(code[i] - '0');
    }
    int64_t step = now_s / 30;
    int64_t found = -1;
    /* Check every step of the window, so the time taken does not tell which matched. */
    for (int64_t s = step - 1; s <= step + 1; s++) {
        uint32_t got = hotp(key, (size_t)n, (uint64_t)s, 6);
        if (got == want && s > last_step && found < 0) {
            found = s;
        }
    }
    sodium_memzero(key, sizeof(key));
    return found;
}

/* Appends s percent-encoded for a URI component. */
static void add_uri_component(struct buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            buf_addch(out, c);
        } else {
            buf_addch(out, '%');
            buf_addch(out, hex[c >> 4]);
            buf_addch(out, hex[c & 15]);
        }
    }
}

void totp_uri(struct buf *out, const char *issuer, const char *account, const char *secret_b32)
{
    buf_adds(out, "otpauth://totp/");
    add_uri_component(out, issuer);
    buf_addch(out, ':');
    add_uri_component(out, account);
    buf_adds(out, "?secret=");
    buf_adds(out, secret_b32);
    buf_adds(out, "&issuer=");
    add_uri_component(out, issuer);
    buf_adds(out, "&algorithm=SHA1&digits=6&period=30");
}

int qr_svg(struct buf *out, const char *text)
{
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr) {
        return -1;
    }
    int w = qr->width, margin = 4, size = w + 2 * margin;
    buf_addf(out,
             "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
             "height=\"%d\" shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
             "fill=\"#fff\"/><path fill=\"#000\" d=\"",
             size, size, size * 6, size * 6, size, size);
    for (int y = 0; y < w; y++) {
        for (int x = 0; x < w; x++) {
            if (qr->data[y * w + x] & 1) {
                buf_addf(out, "M%d %dh1v1h-1z", x + margin, y + margin);
            }
        }
    }
    buf_adds(out, "\"/></svg>");
    QRcode_free(qr);
    return 0;
}
