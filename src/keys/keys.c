#include "keys/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/time.h"
#include "db/db_util.h"
#include "core/banned.h"

#define KEY_BYTES crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define MAX_CACHED 256

/* An unwrapped data key kept in locked memory. */
struct cached_key {
    char org_id[40];              /* owner */
    int version;                  /* its version within the organization */
    unsigned char *key;           /* KEY_BYTES, sodium_malloc'd */
};

static unsigned char *master;     /* KEYS_MASTER_BYTES in sodium_malloc'd memory, or NULL */
static struct cached_key cache[MAX_CACHED];
static int n_cache;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Reads exactly n bytes of path into out. */
static int read_key_file(const char *path, unsigned char *out, size_t n, struct err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return err_set(e, ERR_INTERNAL, "key_file", "key_file", "could not open '%s': %s", path,
                       strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size != (off_t)n) {
        close(fd);
        return err_set(e, ERR_INTERNAL, "key_file", "key_file",
                       "'%s' must hold exactly %zu bytes", path, n);
    }
    if (st.st_mode & 0077) {
        close(fd);
        return err_set(e, ERR_INTERNAL, "key_file", "key_file",
                       "'%s' is readable by others: chmod 600 it", path);
    }
    ssize_t got = read(fd, out, n);
    close(fd);
    if (got != (ssize_t)n) {
        return err_set(e, ERR_INTERNAL, "key_file", "key_file", "could not read '%s'", path);
    }
    return 0;
}

int keys_load_master(const char *path, struct err *e)
{
    unsigned char *k = sodium_malloc(KEYS_MASTER_BYTES);
    if (!k) {
        return err_set(e, ERR_INTERNAL, "internal", NULL, "no memory for the master key");
    }
    if (read_key_file(path, k, KEYS_MASTER_BYTES, e) < 0) {
        sodium_free(k);
        return -1;
    }
    sodium_mprotect_readonly(k);
    pthread_mutex_lock(&lock);
    if (master) {
        sodium_free(master);
    }
    master = k;
    pthread_mutex_unlock(&lock);
    return 0;
}

/* Writes n random bytes to a new file at path with mode 0600. */
static int write_new_key(const char *path, const unsigned char *key, size_t n, struct err *e)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        return err_set(e, ERR_INTERNAL, "key_file", "key_file", "could not create '%s': %s", path,
                       strerror(errno));
    }
    if (write(fd, key, n) != (ssize_t)n || fsync(fd) < 0) {
        close(fd);
        unlink(path);
        return err_set(e, ERR_INTERNAL, "key_file", "key_file", "could not write '%s'", path);
    }
    close(fd);
    return 0;
}

int keys_create_master(const char *path, struct err *e)
{
    unsigned char k[KEYS_MASTER_BYTES];
    randombytes_buf(k, sizeof(k));
    int rc = write_new_key(path, k, sizeof(k), e);
    sodium_memzero(k, sizeof(k));
    return rc;
}

void keys_shutdown(void)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < n_cache; i++) {
        sodium_free(cache[i].key);
    }
    n_cache = 0;
    if (master) {
        sodium_free(master);
        master = NULL;
    }
    pthread_mutex_unlock(&lock);
}

/* The associated data binding a wrapped data key to its organization and version. */
static void wrap_ad(char *out, size_t n, const char *org_id, int version)
{
    snprintf(out, n, "sanad-data-key/%s/%d", org_id, version);
}

/* Wraps key under mk as base64(nonce || ciphertext) into out (capacity n). */
static void wrap_key(const unsigned char *mk, const unsigned char *key, const char *org_id,
                     int version, char *out, size_t n)
{
    unsigned char buf[NONCE_BYTES + KEY_BYTES + TAG_BYTES];
    char ad[96];
    wrap_ad(ad, sizeof(ad), org_id, version);
    randombytes_buf(buf, NONCE_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(buf + NONCE_BYTES, NULL, key, KEY_BYTES,
                                               (const unsigned char *)ad, strlen(ad), NULL, buf,
                                               mk);
    sodium_bin2base64(out, n, buf, sizeof(buf), sodium_base64_VARIANT_ORIGINAL);
}

/* Unwraps text made by wrap_key into key. Returns 0 or -1. */
static int unwrap_key(const unsigned char *mk, const char *text, const char *org_id, int version,
                      unsigned char *key)
{
    unsigned char buf[NONCE_BYTES + KEY_BYTES + TAG_BYTES];
    size_t len;
    if (sodium_base642bin(buf, sizeof(buf), text, strlen(text), NULL, &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        len != sizeof(buf)) {
        return -1;
    }
    char ad[96];
    wrap_ad(ad, sizeof(ad), org_id, version);
    return crypto_aead_xchacha20poly1305_ietf_decrypt(key, NULL, NULL, buf + NONCE_BYTES,
                                                      KEY_BYTES + TAG_BYTES,
                                                      (const unsigned char *)ad, strlen(ad), buf,
                                                      mk);
}

/* Finds a cached key; the lock must be held. */
static const unsigned char *cache_find(const char *org_id, int version)
{
    for (int i = 0; i < n_cache; i++) {
        if (cache[i].version == version && strcmp(cache[i].org_id, org_id) == 0) {
            return cache[i].key;
        }
    }
    return NULL;
}

/* Copies a data key into the cache (evicting the oldest when full); lock held. */
static void cache_put(const char *org_id, int version, const unsigned char *key)
{
    if (n_cache == MAX_CACHED) {
        sodium_free(cache[0].key);
        memmove(cache, cache + 1, sizeof(cache[0]) * (MAX_CACHED - 1));
        n_cache--;
    }
    struct cached_key *c = &cache[n_cache++];
    snprintf(c->org_id, sizeof(c->org_id), "%s", org_id);
    c->version = version;
    c->key = sodium_malloc(KEY_BYTES);
    memcpy(c->key, key, KEY_BYTES);
}

/* Loads data key `version` of org_id (version 0: the newest) into key and its
 * version into *version_out. With create, makes version 1 when the
 * organization has none. Returns 0, or -1 with e. */
static int data_key(struct db *db, const char *org_id, int version, bool create,
                    unsigned char key[KEY_BYTES], int *version_out, struct err *e)
{
    if (!master) {
        return err_set(e, ERR_INTERNAL, "no_master_key", NULL, "the master key is not loaded");
    }
    int found;
    struct db_stmt *s =
        version > 0
            ? db_row(db, e, &found,
                     "SELECT version, wrapped FROM org_keys WHERE org_id = $1 AND version = $2",
                     "ti", org_id, (int64_t)version)
            : db_row(db, e, &found,
                     "SELECT version, wrapped FROM org_keys WHERE org_id = $1"
                     " ORDER BY version DESC LIMIT 1",
                     "t", org_id);
    if (s) {
        int v = (int)db_col_int64(s, 0);
        pthread_mutex_lock(&lock);
        const unsigned char *c = cache_find(org_id, v);
        int rc = 0;
        if (c) {
            memcpy(key, c, KEY_BYTES);
        } else if ((rc = unwrap_key(master, db_col_text(s, 1), org_id, v, key)) == 0) {
            cache_put(org_id, v, key);
        }
        pthread_mutex_unlock(&lock);
        db_done(s);
        if (rc != 0) {
            return err_set(e, ERR_INTERNAL, "decrypt_failed", NULL,
                           "the data key of this organization does not open with this master key");
        }
        *version_out = v;
        return 0;
    }
    if (found < 0) {
        return -1;
    }
    if (!create || version > 0) {
        return err_set(e, ERR_INTERNAL, "decrypt_failed", NULL, "no data key version %d", version);
    }
    randombytes_buf(key, KEY_BYTES);
    char wrapped[128], at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    wrap_key(master, key, org_id, 1, wrapped, sizeof(wrapped));
    if (db_run(db, e,
               "INSERT INTO org_keys (org_id, version, wrapped, created_at) VALUES ($1, 1, $2, $3)",
               "ttt", org_id, wrapped, at) < 0) {
        return -1;
    }
    *version_out = 1;
    return 0;
}

/* The associated data of a field: which record and which field it belongs to. */
static char *field_ad(struct arena *a, const char *record_id, const char *field)
{
    return arena_printf(a, "%s/%s", record_id, field);
}

char *keys_seal(struct db *db, struct arena *a, const char *org_id, const char *record_id,
                const char *field, const char *plaintext, size_t n, struct err *e)
{
    unsigned char key[KEY_BYTES];
    int version;
    if (data_key(db, org_id, 0, true, key, &version, e) < 0) {
        return NULL;
    }
    size_t blen = NONCE_BYTES + n + TAG_BYTES;
    unsigned char *buf = arena_alloc(a, blen);
    randombytes_buf(buf, NONCE_BYTES);
    const char *ad = field_ad(a, record_id, field);
    crypto_aead_xchacha20poly1305_ietf_encrypt(buf + NONCE_BYTES, NULL,
                                               (const unsigned char *)plaintext, n,
                                               (const unsigned char *)ad, strlen(ad), NULL, buf,
                                               key);
    sodium_memzero(key, sizeof(key));
    size_t b64 = sodium_base64_ENCODED_LEN(blen, sodium_base64_VARIANT_ORIGINAL);
    char *out = arena_alloc(a, b64 + 24);
    // NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): set, or err_set returned -1
    int k = snprintf(out, 24, "v1.%d.", version);
    sodium_bin2base64(out + k, b64, buf, blen, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

char *keys_open(struct db *db, struct arena *a, const char *org_id, const char *record_id,
                const char *field, const char *sealed, size_t *n_out, struct err *e)
{
    int version = 0, used = 0;
    if (!sealed || sscanf(sealed, "v1.%d.%n", &version, &used) != 1 || used == 0 || version < 1) {
        err_set(e, ERR_INTERNAL, "decrypt_failed", field, "'%s' is not sealed text", field);
        return NULL;
    }
    const char *b64 = sealed + used;
    size_t cap = strlen(b64) / 4 * 3 + 3;
    unsigned char *buf = arena_alloc(a, cap);
    size_t blen;
    if (sodium_base642bin(buf, cap, b64, strlen(b64), NULL, &blen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        blen < NONCE_BYTES + TAG_BYTES) {
        err_set(e, ERR_INTERNAL, "decrypt_failed", field, "'%s' is damaged", field);
        return NULL;
    }
    unsigned char key[KEY_BYTES];
    int v;
    if (data_key(db, org_id, version, false, key, &v, e) < 0) {
        return NULL;
    }
    size_t n = blen - NONCE_BYTES - TAG_BYTES;
    char *out = arena_alloc(a, n + 1);
    const char *ad = field_ad(a, record_id, field);
    int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
        (unsigned char *)out, NULL, NULL, buf + NONCE_BYTES, blen - NONCE_BYTES,
        (const unsigned char *)ad, strlen(ad), buf, key);
    sodium_memzero(key, sizeof(key));
    if (rc != 0) {
        err_set(e, ERR_INTERNAL, "decrypt_failed", field,
                "'%s' does not open: it was changed or belongs to another record", field);
        return NULL;
    }
    out[n] = '\0';
    if (n_out) {
        *n_out = n;
    }
    return out;
}

int keys_new_data_key(struct db *db, const char *org_id, struct err *e)
{
    if (!master) {
        return err_set(e, ERR_INTERNAL, "no_master_key", NULL, "the master key is not loaded");
    }
    int found;
    int64_t next = 1;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT COALESCE(MAX(version), 0) FROM org_keys WHERE org_id = $1",
                               "t", org_id);
    if (!s) {
        return -1;
    }
    next = db_col_int64(s, 0) + 1;
    db_done(s);
    unsigned char key[KEY_BYTES];
    randombytes_buf(key, sizeof(key));
    char wrapped[128], at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    wrap_key(master, key, org_id, (int)next, wrapped, sizeof(wrapped));
    sodium_memzero(key, sizeof(key));
    return db_run(db, e,
                  "INSERT INTO org_keys (org_id, version, wrapped, created_at) VALUES ($1, $2, $3, $4)",
                  "titt", org_id, next, wrapped, at) < 0
               ? -1
               : (int)next;
}

int keys_rotate_master(struct db *db, const char *path, struct err *e)
{
    if (!master) {
        return err_set(e, ERR_INTERNAL, "no_master_key", NULL, "the master key is not loaded");
    }
    unsigned char *fresh = sodium_malloc(KEYS_MASTER_BYTES);
    randombytes_buf(fresh, KEYS_MASTER_BYTES);
    char next_path[4096], old_path[4096];
    snprintf(next_path, sizeof(next_path), "%s.new", path);
    snprintf(old_path, sizeof(old_path), "%s.old", path);
    unlink(next_path);
    int count = 0;
    if (write_new_key(next_path, fresh, KEYS_MASTER_BYTES, e) < 0 || db_begin(db, false, e) < 0) {
        sodium_free(fresh);
        unlink(next_path);
        return -1;
    }
    struct db_stmt *s = db_query(db, e, "SELECT org_id, version, wrapped FROM org_keys", "");
    struct { char org[40]; int version; char wrapped[128]; } *rows = NULL;
    size_t n_rows = 0, cap = 0;
    int rc = s ? 0 : -1;
    while (s && (rc = db_step(s, e)) == 1) {
        if (n_rows == cap) {
            cap = cap ? cap * 2 : 16;
            rows = realloc(rows, cap * sizeof(*rows));
            if (!rows) {
                abort();
            }
        }
        unsigned char key[KEY_BYTES];
        const char *org = db_col_text(s, 0);
        int version = (int)db_col_int64(s, 1);
        if (unwrap_key(master, db_col_text(s, 2), org, version, key) != 0) {
            err_set(e, ERR_INTERNAL, "decrypt_failed", NULL,
                    "data key %d of organization %s does not open with the current master key",
                    version, org);
            rc = -1;
            break;
        }
        snprintf(rows[n_rows].org, sizeof(rows[n_rows].org), "%s", org);
        rows[n_rows].version = version;
        wrap_key(fresh, key, org, version, rows[n_rows].wrapped, sizeof(rows[n_rows].wrapped));
        sodium_memzero(key, sizeof(key));
        n_rows++;
    }
    if (s) {
        db_done(s);
    }
    for (size_t i = 0; rc >= 0 && i < n_rows; i++) {
        if (db_run(db, e, "UPDATE org_keys SET wrapped = $1 WHERE org_id = $2 AND version = $3",
                   "tti", rows[i].wrapped, rows[i].org, (int64_t)rows[i].version) < 0) {
            rc = -1;
        }
        count++;
    }
    free(rows);
    /* The new file takes the key's place before the commit: if the commit fails, the
     * old file is put back, so the file on disk always opens what the database holds. */
    if (rc < 0 || rename(path, old_path) < 0 || rename(next_path, path) < 0) {
        if (rc >= 0) {
            err_set(e, ERR_INTERNAL, "key_file", "key_file", "could not replace '%s': %s", path,
                    strerror(errno));
            rename(old_path, path);
        }
        db_rollback(db);
        unlink(next_path);
        sodium_free(fresh);
        return -1;
    }
    if (db_commit(db, e) < 0) {
        rename(path, next_path);
        rename(old_path, path);
        unlink(next_path);
        sodium_free(fresh);
        return -1;
    }
    sodium_mprotect_readonly(fresh);
    pthread_mutex_lock(&lock);
    sodium_free(master);
    master = fresh;
    pthread_mutex_unlock(&lock);
    return count;
}
