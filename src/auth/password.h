/*
 * password.h: password hashing (libsodium crypto_pwhash_str, argon2id at
 * least at the INTERACTIVE limits) and the password policy: 12 to 128
 * characters, not a common password, not the username; no composition rules.
 */
#ifndef SANAD_AUTH_PASSWORD_H
#define SANAD_AUTH_PASSWORD_H

#include <sodium.h>
#include <stdbool.h>

#include "core/err.h"

#define PASSWORD_MIN 12
#define PASSWORD_MAX 128
#define PASSWORD_HASH_MAX crypto_pwhash_STRBYTES

/* Checks pw against the policy. field names the form field for the error.
 * Returns 0, or -1 with e (ERR_INVALID, codes password_too_short,
 * password_too_long, password_common, password_is_username, invalid_utf8). */
int password_check_policy(const char *pw, const char *username, const char *field, struct err *e);
/* Hashes pw into out. Returns 0, or -1 when memory for argon2 was refused. */
int password_hash(const char *pw, char out[PASSWORD_HASH_MAX], struct err *e);
/* True when pw matches hash (constant time in pw). A NULL hash never matches,
 * but costs the same time as a real check. */
bool password_verify(const char *hash, const char *pw);
/* True when hash was made with weaker limits than today's. */
bool password_needs_rehash(const char *hash);
/* True when pw is on the shipped list of common passwords (case-insensitive). */
bool password_is_common(const char *pw);

#endif
