#include "auth/password.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "core/xalloc.h"
#include "web/assets.h"
#include "core/banned.h"

#define PW_OPS crypto_pwhash_OPSLIMIT_INTERACTIVE
#define PW_MEM crypto_pwhash_MEMLIMIT_INTERACTIVE

/* The common-password list, lower-cased and sorted, loaded once. */
static char **common;
static size_t n_common;
static pthread_once_t common_once = PTHREAD_ONCE_INIT;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lower-cases ASCII letters of s in place. */
static void ascii_lower(char *s)
{
    for (; *s; s++) {
        *s = (char)tolower((unsigned char)*s);
    }
}

/* Loads assets/passwords/common.txt (one password per line). */
static void load_common(void)
{
    const struct asset *a = asset_find("passwords/common.txt");
    if (!a) {
        return;
    }
    size_t cap = 1024;
    common = xmalloc(cap * sizeof(char *));
    const char *p = (const char *)a->data, *end = p + a->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t n = (size_t)(le - p);
        if (n && p[n - 1] == '\r') {
            n--;
        }
        if (n && p[0] != '#') {
            if (n_common == cap) {
                cap *= 2;
                common = xrealloc(common, cap * sizeof(char *));
            }
            common[n_common] = xstrndup(p, n);
            ascii_lower(common[n_common]);
            n_common++;
        }
        p = le + 1;
    }
    qsort(common, n_common, sizeof(char *), cmp_str);
}

bool password_is_common(const char *pw)
{
    pthread_once(&common_once, load_common);
    char *low = xstrdup(pw);
    ascii_lower(low);
    bool found = bsearch(&low, common, n_common, sizeof(char *), cmp_str) != NULL;
    free(low);
    return found;
}

int password_check_policy(const char *pw, const char *username, const char *field, struct err *e)
{
    size_t len = strlen(pw);
    if (!utf8_valid(pw, len)) {
        return err_set(e, ERR_INVALID, "invalid_utf8", field, "password is not valid UTF-8");
    }
    size_t chars = utf8_length(pw, len);
    if (chars < PASSWORD_MIN) {
        return err_set(e, ERR_INVALID, "password_too_short", field,
                       "password must have at least %d characters", PASSWORD_MIN);
    }
    if (chars > PASSWORD_MAX) {
        return err_set(e, ERR_INVALID, "password_too_long", field,
                       "password must have at most %d characters", PASSWORD_MAX);
    }
    if (username && *username && strcasecmp(pw, username) == 0) {
        return err_set(e, ERR_INVALID, "password_is_username", field,
                       "password must not be the username");
    }
    if (password_is_common(pw)) {
        return err_set(e, ERR_INVALID, "password_common", field,
                       "password is too common: choose another");
    }
    return 0;
}

int password_hash(const char *pw, char out[PASSWORD_HASH_MAX], struct err *e)
{
    if (crypto_pwhash_str(out, pw, strlen(pw), PW_OPS, PW_MEM) != 0) {
        return err_set(e, ERR_UNAVAILABLE, "internal", NULL, "could not hash the password");
    }
    return 0;
}

bool password_verify(const char *hash, const char *pw)
{
    if (!hash || !*hash) {
        /* One argon2 computation of the same cost as a real check, so that an
         * unknown account takes as long to refuse as a wrong password. */
        char tmp[PASSWORD_HASH_MAX];
        if (crypto_pwhash_str(tmp, pw, strlen(pw), PW_OPS, PW_MEM) != 0) {
            return false;
        }
        return false;
    }
    return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

bool password_needs_rehash(const char *hash)
{
    return crypto_pwhash_str_needs_rehash(hash, PW_OPS, PW_MEM) != 0;
}
