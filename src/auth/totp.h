/*
 * totp.h: time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second
 * steps, 6 digits, the parameters every authenticator app accepts), base32
 * secrets, otpauth:// URIs and their QR code as SVG (libqrencode).
 */
#ifndef SANAD_AUTH_TOTP_H
#define SANAD_AUTH_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define TOTP_SECRET_B32 33 /* 20 random bytes as 32 base32 characters and the NUL */

/* Writes a new random secret (base32, no padding) into out. */
void totp_new_secret(char out[TOTP_SECRET_B32]);
/* Decodes base32 (RFC 4648, case-insensitive, padding and spaces ignored)
 * into out (capacity cap). Returns the byte count or -1 when malformed. */
int base32_decode(const char *in, unsigned char *out, size_t cap);
/* HOTP value (RFC 4226) of key for counter, reduced to `digits` digits. */
uint32_t hotp(const unsigned char *key, size_t key_len, uint64_t counter, int digits);
/* Checks a 6-digit code against secret at time now_s, allowing one step of
 * clock drift either way. A step at or before last_step is refused (replay).
 * Returns the matching step, or -1. */
int64_t totp_verify(const char *secret_b32, const char *code, int64_t now_s, int64_t last_step);
/* Appends the otpauth:// URI for an authenticator app to out. */
void totp_uri(struct buf *out, const char *issuer, const char *account, const char *secret_b32);
/* Appends an SVG QR code of text to out. Returns 0, or -1 when text is too long. */
int qr_svg(struct buf *out, const char *text);
/* The SHA-1 digest of data (needed by HOTP; not used for anything else). */
void sha1(const unsigned char *data, size_t n, unsigned char out[20]);

#endif
