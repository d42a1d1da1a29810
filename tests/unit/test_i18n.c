/*
 * test_i18n.c: the catalogs (parity of ar and en, required keys, malformed
 * files), lookups with fallbacks, {name} placeholders and Accept-Language.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "web/assets.h"
#include "web/i18n.h"
#include "core/banned.h"

/* Loads the embedded catalogs before each test. */
static int setup(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    if (i18n_init(&e) < 0) {
        fprintf(stderr, "i18n_init: %s\n", e.msg);
        return -1;
    }
    return 0;
}

/* Frees the catalogs after each test. */
static int teardown(void **state)
{
    (void)state;
    i18n_shutdown();
    return 0;
}

/* Collects the keys of a catalog file, read here independently of i18n.c:
 * each non-comment, non-blank line's text before the first tab. Returns a
 * NULL-terminated array of keys (caller frees each and the array). */
static char **read_keys(const char *asset)
{
    const struct asset *a = asset_find(asset);
    assert_non_null(a);
    size_t n = 0, cap = 16;
    char **keys = malloc(cap * sizeof(*keys));
    const char *p = (const char *)a->data, *end = p + a->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        const char *tab = memchr(p, '\t', (size_t)(eol - p));
        if (eol > p && *p != '#' && tab) {
            if (n + 1 >= cap) {
                cap *= 2;
                keys = realloc(keys, cap * sizeof(*keys));
            }
            keys[n++] = strndup(p, (size_t)(tab - p));
        }
        p = nl ? nl + 1 : end;
    }
    keys[n] = NULL;
    return keys;
}

/* True when keys holds key. */
static bool has_key(char **keys, const char *key)
{
    for (; *keys; keys++) {
        if (strcmp(*keys, key) == 0) {
            return true;
        }
    }
    return false;
}

/* Frees what read_keys returned. */
static void free_keys(char **keys)
{
    for (char **k = keys; *k; k++) {
        free(*k);
    }
    free(keys);
}

static void test_catalog_parity(void **state)
{
    (void)state;
    char **ar = read_keys("i18n/ar.tsv");
    char **en = read_keys("i18n/en.tsv");
    int missing = 0;
    for (char **k = ar; *k; k++) {
        if (!has_key(en, *k)) {
            fprintf(stderr, "key '%s' is in ar.tsv only\n", *k);
            missing++;
        }
    }
    for (char **k = en; *k; k++) {
        if (!has_key(ar, *k)) {
            fprintf(stderr, "key '%s' is in en.tsv only\n", *k);
            missing++;
        }
    }
    assert_int_equal(missing, 0);
    assert_non_null(ar[0]);
    free_keys(ar);
    free_keys(en);
}

static void test_required_keys(void **state)
{
    (void)state;
    static const char *const keys[] = {
        "app.name", "app.tagline", "nav.dashboard", "nav.children", "nav.cases",
        "nav.sponsorship", "nav.finance", "nav.users", "nav.audit", "nav.account", "nav.skip",
        "action.logout", "action.save", "action.cancel", "action.login", "lang.switch",
        "lang.ar", "lang.en", "error.title", "error.not_found", "error.forbidden",
        "error.server", "error.back_home", "footer.text", "err.invalid_field",
        "err.malformed_json", "err.invalid_utf8", "err.not_an_object",
        "err.unsupported_media_type", "err.payload_too_large", "err.not_found",
        "err.method_not_allowed", "err.forbidden", "err.unauthorized", "err.csrf_failed",
        "err.too_many_requests", "err.database_unavailable", "err.internal",
        "err.unique_violation", "err.bad_request", "lang.other", "nav.menu", "nav.main",
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (!i18n_has(keys[i])) {
            fail_msg("missing key '%s'", keys[i]);
        }
        /* a real translation in each language, not the key echoed back */
        assert_string_not_equal(i18n_get("ar", keys[i]), keys[i]);
        assert_string_not_equal(i18n_get("en", keys[i]), keys[i]);
    }
    assert_string_equal(i18n_get("ar", "app.name"), "سند");
    assert_string_equal(i18n_get("en", "app.name"), "Sanad");
    assert_string_equal(i18n_get("ar", "lang.switch"), "English");
    assert_string_equal(i18n_get("en", "lang.switch"), "العربية");
    assert_string_equal(i18n_get("ar", "lang.other"), "en");
    assert_string_equal(i18n_get("en", "lang.other"), "ar");
}

static void test_get_fallbacks(void **state)
{
    (void)state;
    assert_string_equal(i18n_get("en", "action.save"), "Save");
    assert_string_equal(i18n_get("ar", "action.save"), "حفظ");
    /* an unknown language reads Arabic, the default */
    assert_string_equal(i18n_get("fr", "action.save"), "حفظ");
    assert_string_equal(i18n_get(NULL, "action.save"), "حفظ");
    /* an unknown key comes back as itself */
    assert_string_equal(i18n_get("en", "no.such.key"), "no.such.key");
    assert_string_equal(i18n_get("en", ""), "");
    assert_string_equal(i18n_get("en", NULL), "");
    assert_false(i18n_has("no.such.key"));
    assert_false(i18n_has(NULL));
    assert_false(i18n_has(""));
    assert_true(i18n_lang_valid("ar"));
    assert_true(i18n_lang_valid("en"));
    assert_false(i18n_lang_valid("EN"));
    assert_false(i18n_lang_valid("en-US"));
    assert_false(i18n_lang_valid(""));
    assert_false(i18n_lang_valid(NULL));
    /* after shutdown, keys echo back; nothing crashes */
    i18n_shutdown();
    assert_string_equal(i18n_get("ar", "action.save"), "action.save");
    assert_false(i18n_has("action.save"));
}

/* Loads ar and en texts; returns the result and the message in msg. */
static int load(const char *ar, const char *en, char *msg, size_t n)
{
    struct err e;
    err_clear(&e);
    int rc = i18n_load(ar, strlen(ar), en, strlen(en), &e);
    snprintf(msg, n, "%s", e.msg);
    return rc;
}

static void test_load_format(void **state)
{
    (void)state;
    char msg[256];
    /* comments, blank lines, CRLF, a byte-order mark, tabs inside the text */
    assert_int_equal(load("\xef\xbb\xbf# c\n\n  \na.b\tنص\r\nc\tx\ty\n", "a.b\ttext\nc\tz", msg,
                          sizeof(msg)), 0);
    assert_string_equal(i18n_get("ar", "a.b"), "نص");
    assert_string_equal(i18n_get("ar", "c"), "x\ty");
    assert_string_equal(i18n_get("en", "c"), "z");
    /* empty catalogs are consistent */
    assert_int_equal(load("", "# nothing\n", msg, sizeof(msg)), 0);
    assert_false(i18n_has("a.b"));
}

static void test_load_errors(void **state)
{
    (void)state;
    char msg[256];
    assert_int_equal(load("a\tx\n# c\nb\ty\na\tz\n", "a\tx\nb\ty\n", msg, sizeof(msg)), -1);
    assert_string_equal(msg, "i18n/ar.tsv:4: duplicate key 'a' (first on line 1)");
    /* on failure nothing stays loaded */
    assert_false(i18n_has("b"));
    assert_int_equal(load("a\tx\n", "a\tx\n\n\na\ty\n", msg, sizeof(msg)), -1);
    assert_string_equal(msg, "i18n/en.tsv:4: duplicate key 'a' (first on line 1)");
    assert_int_equal(load("a\tx\nb x\n", "a\tx\n", msg, sizeof(msg)), -1);
    assert_string_equal(msg, "i18n/ar.tsv:2: no tab between key and text");
    assert_int_equal(load("a b\tx\n", "a\tx\n", msg, sizeof(msg)), -1);
    assert_string_equal(msg, "i18n/ar.tsv:1: invalid key 'a b'");
    assert_int_equal(load("\tx\n", "a\tx\n", msg, sizeof(msg)), -1);
    assert_string_equal(msg, "i18n/ar.tsv:1: invalid key ''");
    assert_int_equal(load("a\t \n", "a\tx\n", msg, sizeof(msg)), -1);
    assert_string_equal(msg, "i18n/ar.tsv:1: empty text for key 'a'");
    assert_int_equal(load("a\tx\xff\n", "a\tx\n", msg, sizeof(msg)), -1);
    assert_string_equal(msg, "i18n/ar.tsv:1: invalid utf-8");
    /* a key in one catalog only */
    assert_int_equal(load("a\tx\nb\ty\n", "a\tx\n", msg, sizeof(msg)), -1);
    assert_string_equal(msg, "key 'b' (i18n/ar.tsv:2) is missing from 'i18n/en.tsv'");
    assert_int_equal(load("a\tx\n", "a\tx\n\nc\ty\n", msg, sizeof(msg)), -1);
    assert_string_equal(msg, "key 'c' (i18n/en.tsv:3) is missing from 'i18n/ar.tsv'");
    /* a NUL inside the file */
    struct err e;
    err_clear(&e);
    assert_int_equal(i18n_load("a\tx\0y\n", 6, "a\tx\n", 4, &e), -1);
    assert_string_equal(e.msg, "i18n/ar.tsv:1: invalid utf-8");
}

static void test_format(void **state)
{
    (void)state;
    char msg[256];
    assert_int_equal(load("f\tالحقل {field} في {form} و{field}\nn\tلا شيء\nb\t{ {} {x {bad-name} }\n",
                          "f\tField {field} in {form}, {field} again\nn\tnothing\nb\t{ {} {x {bad-name} }\n",
                          msg, sizeof(msg)), 0);
    struct arena a;
    arena_init(&a);
    assert_string_equal(i18n_format(&a, "en", "f", "field", "name", "form", "<child>", NULL),
                        "Field name in <child>, name again");
    assert_string_equal(i18n_format(&a, "ar", "f", "field", "الاسم", "form", "التسجيل", NULL),
                        "الحقل الاسم في التسجيل والاسم");
    /* a placeholder without a value stays as written; NULL values are empty */
    assert_string_equal(i18n_format(&a, "en", "f", "field", NULL, NULL),
                        "Field  in {form},  again");
    assert_string_equal(i18n_format(&a, "en", "n", NULL), "nothing");
    assert_string_equal(i18n_format(&a, "en", "b", "x", "X", NULL), "{ {} {x {bad-name} }");
    /* a value that looks like a placeholder is not expanded again */
    assert_string_equal(i18n_format(&a, "en", "f", "field", "{form}", "form", "F", NULL),
                        "Field {form} in F, {form} again");
    /* unknown keys come back as themselves */
    assert_string_equal(i18n_format(&a, "en", "missing.{field}", "field", "x", NULL),
                        "missing.x");
    arena_release(&a);
}

static void test_negotiate(void **state)
{
    (void)state;
    assert_string_equal(i18n_negotiate("en-US,en;q=0.9,ar;q=0.8", "ar"), "en");
    assert_string_equal(i18n_negotiate("ar-JO", "en"), "ar");
    assert_string_equal(i18n_negotiate("ar-JO", "ar"), "ar");
    assert_string_equal(i18n_negotiate("ar;q=0.5, en;q=0.6", "ar"), "en");
    assert_string_equal(i18n_negotiate("en;q=0.5, ar;q=0.6", "en"), "ar");
    assert_string_equal(i18n_negotiate("fr-FR, fr;q=0.9, en;q=0.5", "ar"), "en");
    assert_string_equal(i18n_negotiate("fr-FR, de", "ar"), "ar");
    assert_string_equal(i18n_negotiate("fr-FR, de", "en"), "en");
    assert_string_equal(i18n_negotiate("EN-gb", "ar"), "en");
    assert_string_equal(i18n_negotiate("  en  ;  q=0.7 , ar ; q=0.6", "ar"), "en");
    /* q=0 means "not acceptable" */
    assert_string_equal(i18n_negotiate("en;q=0, ar", "en"), "ar");
    assert_string_equal(i18n_negotiate("en;q=0", "ar"), "ar");
    /* ties go to the earlier range */
    assert_string_equal(i18n_negotiate("ar, en", "en"), "ar");
    assert_string_equal(i18n_negotiate("en, ar", "ar"), "en");
    assert_string_equal(i18n_negotiate("en;q=0.8, ar;q=0.800", "ar"), "en");
    /* precision: 0.801 beats 0.8 */
    assert_string_equal(i18n_negotiate("ar;q=0.8, en;q=0.801", "ar"), "en");
    /* not English: "english", "eng", "enx-y" */
    assert_string_equal(i18n_negotiate("english, eng, arabic", "ar"), "ar");
    assert_string_equal(i18n_negotiate("eng", "ar"), "ar");
    /* malformed q-values drop their range */
    assert_string_equal(i18n_negotiate("en;q=abc", "ar"), "ar");
    assert_string_equal(i18n_negotiate("en;q=1.5", "ar"), "ar");
    assert_string_equal(i18n_negotiate("en;q=0.12345", "ar"), "ar");
    assert_string_equal(i18n_negotiate("en;q=", "ar"), "ar");
    assert_string_equal(i18n_negotiate("en;q=1.000", "ar"), "en");
    assert_string_equal(i18n_negotiate("en;level=1;q=0.9", "ar"), "en");
    /* garbage, empty, wildcard, NULL */
    assert_string_equal(i18n_negotiate("\x01\xff;;,,,;q", "en"), "en");
    assert_string_equal(i18n_negotiate("", "en"), "en");
    assert_string_equal(i18n_negotiate(",,,", "ar"), "ar");
    assert_string_equal(i18n_negotiate("*", "en"), "en");
    assert_string_equal(i18n_negotiate(NULL, "en"), "en");
    assert_string_equal(i18n_negotiate(NULL, NULL), "ar");
    assert_string_equal(i18n_negotiate("fr", "de"), "ar");
    /* a huge header */
    size_t n = 100000;
    char *big = malloc(n + 16);
    for (size_t i = 0; i + 3 < n; i += 3) {
        memcpy(big + i, "fr,", 3);
    }
    memcpy(big + n - n % 3, "en;q=0.1", 9);
    assert_string_equal(i18n_negotiate(big, "ar"), "en");
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_catalog_parity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_required_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_fallbacks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_negotiate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
