/*
 * keys.h: encryption at rest of sensitive fields (health, psychosocial and
 * session notes, second-factor secrets).
 *
 * The master key (32 random bytes) lives in a file outside the database
 * (g_config.key_file, default DATA/sanad.key). Each organization has data
 * keys, stored in org_keys wrapped by the master key. A field is sealed with
 * XChaCha20-Poly1305 under the organization's newest data key, with the
 * record's id and the field's name as associated data, so a ciphertext moved
 * to another record or field fails to open. Sealed text looks like
 * "v1.<key version>.<base64 nonce+ciphertext>".
 */
#ifndef SANAD_KEYS_KEYS_H
#define SANAD_KEYS_KEYS_H

#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"

#define KEYS_MASTER_BYTES 32

/* Loads the master key from path into locked memory. Returns 0, or -1 with e
 * naming the file (missing, unreadable, wrong size, too open permissions). */
int keys_load_master(const char *path, struct err *e);
/* Creates a new master key file at path (mode 0600); refuses to overwrite. */
int keys_create_master(const char *path, struct err *e);
/* Forgets the master key and every cached data key. */
void keys_shutdown(void);

/* Seals plaintext (n bytes) for org_id under the AD "<record_id>/<field>".
 * Creates the organization's first data key when it has none (so it needs a
 * write transaction then). Returns the sealed text in arena a, or NULL. */
char *keys_seal(struct db *db, struct arena *a, const char *org_id, const char *record_id,
                const char *field, const char *plaintext, size_t n, struct err *e);
/* Opens sealed text made by keys_seal for the same org, record and field.
 * Returns the NUL-terminated plaintext in a (length in *n_out if not NULL),
 * or NULL with e (ERR_INTERNAL "decrypt_failed" when it was tampered with,
 * moved, or sealed under another master key). */
char *keys_open(struct db *db, struct arena *a, const char *org_id, const char *record_id,
                const char *field, const char *sealed, size_t *n_out, struct err *e);

/* Rotates the master key: writes a new key file, re-wraps every data key
 * under it in one transaction, then replaces the file (the old one is kept
 * as PATH.old until the operator removes it). Returns the number of data keys
 * re-wrapped, or -1. */
int keys_rotate_master(struct db *db, const char *path, struct err *e);
/* Adds a new data key version for org_id: later seals use it; older
 * ciphertexts still open with their own version. */
int keys_new_data_key(struct db *db, const char *org_id, struct err *e);

#endif
