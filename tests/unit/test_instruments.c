/*
 * test_instruments: standardized instruments. The shipped PSC-17 and WHO-5
 * score hand-computed examples (bands at the exact cut-offs, unanswered
 * items counted as 0, prorated, or too many for a score); a test instrument
 * with a reverse-scored item and a critical item, loaded from a folder;
 * every kind of malformed file refused with its file and line named; and the
 * service on the configured backend: answers sealed at rest, scores in the
 * clear, the age range, a closed case, another organization, permissions,
 * the urgent flag raised by a critical answer, audited views, history.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/auth.h"
#include "cases/cases.h"
#include "cases/instruments.h"
#include "children/children.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/text.h"
#include "core/time.h"
#include "core/xalloc.h"
#include "core/uuid.h"
#include "db/db.h"
#include "db/db_util.h"
#include "http/http.h"
#include "http/http_internal.h"
#include "web/i18n.h"
#include "web/tmpl.h"
#include "keys/keys.h"

static char dir[64];

/* ---- helpers ---- */

/* Writes text to dir/name. */
static void write_file(const char *folder, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", folder, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Answers {"1": v[0], ...} for n items; a value of -1 is null (skipped). */
static json_t *answers_of(const int *v, size_t n)
{
    json_t *a = json_object();
    for (size_t i = 0; i < n; i++) {
        char k[24];
        snprintf(k, sizeof(k), "%zu", i + 1);
        json_object_set_new(a, k, v[i] < 0 ? json_null() : json_integer(v[i]));
    }
    return a;
}

/* Scores answers (taken) with instrument id; returns the result (owned). */
static json_t *score(const char *id, json_t *answers)
{
    const struct instrument *in = instrument_find(id);
    assert_non_null(in);
    struct err e;
    err_clear(&e);
    json_t *res = NULL;
    int rc = instrument_score(in, answers, &res, &e);
    if (rc < 0) {
        fprintf(stderr, "score: %s\n", e.msg);
    }
    assert_int_equal(rc, 0);
    json_decref(answers);
    return res;
}

/* The integer at path "a" or "a.b" of j, or -999 when null or absent. */
static long num(json_t *j, const char *a, const char *b)
{
    json_t *v = json_object_get(j, a);
    if (b) {
        v = json_object_get(json_object_get(v, b), "score");
    }
    return json_is_integer(v) ? (long)json_integer_value(v) : -999;
}

/* The string at a (or a's subscale b's band), or "" when null. */
static const char *str(json_t *j, const char *a, const char *b)
{
    json_t *v = json_object_get(j, a);
    if (b) {
        v = json_object_get(json_object_get(v, b), "band");
    }
    return json_is_string(v) ? json_string_value(v) : "";
}

/* ---- the shipped instruments ---- */

static void test_shipped(void **state)
{
    (void)state;
    assert_true(instruments_count() >= 2);
    const struct instrument *p = instrument_find("psc17");
    assert_non_null(p);
    assert_int_equal(p->n_items, 17);
    assert_int_equal(p->n_scale, 3);
    assert_int_equal(p->n_subscales, 3);
    assert_int_equal(p->total.max, 34);
    assert_int_equal(p->age_min, 4);
    assert_int_equal(p->age_max, 16);
    assert_string_equal(p->respondent, "parent");
    assert_non_null(strstr(p->citation, "Gardner"));
    const struct instrument *w = instrument_find("who5");
    assert_non_null(w);
    assert_int_equal(w->n_items, 5);
    assert_int_equal(w->multiplier, 4);
    assert_int_equal(w->total.min, 0);
    assert_int_equal(w->total.max, 100);
    assert_int_equal(w->age_max, -1);
    assert_true(instrument_age_ok(w, 9) && instrument_age_ok(w, 30) && !instrument_age_ok(w, 8));
    assert_true(instrument_age_ok(p, 4) && instrument_age_ok(p, 16) && !instrument_age_ok(p, 17));
    assert_non_null(strstr(w->terms, "WHO Regional Office for Europe 1998"));
    for (size_t i = 0; i < p->n_items; i++) {
        assert_true(strlen(p->items[i].text_ar) > 0 && strlen(p->items[i].text_en) > 0);
        assert_int_equal(p->items[i].n_critical, 0);
    }
    assert_null(instrument_find("nope"));
    assert_null(instrument_find(NULL));
    assert_string_equal(instrument_name(w, "en"), "WHO-5 Well-Being Index");
    json_t *j = instrument_json(p);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "psc17");
    assert_null(json_object_get(j, "$comment"));
    json_decref(j);
}

static void test_psc17(void **state)
{
    (void)state;
    /* internalizing 1+1+1+0+2 = 5, attention 2+0+2+1+2 = 7,
     * externalizing 1+2+0+1+2+0+1 = 7: each exactly at its cut-off; total 19 */
    int v[17] = {2, 1, 0, 1, 2, 1, 2, 0, 1, 1, 0, 2, 1, 0, 2, 1, 2};
    json_t *r = score("psc17", answers_of(v, 17));
    assert_int_equal(num(r, "total", NULL), 19);
    assert_string_equal(str(r, "band", NULL), "positive");
    assert_int_equal(num(r, "subscales", "internalizing"), 5);
    assert_int_equal(num(r, "subscales", "attention"), 7);
    assert_int_equal(num(r, "subscales", "externalizing"), 7);
    assert_string_equal(str(r, "subscales", "internalizing"), "positive");
    assert_string_equal(str(r, "subscales", "attention"), "positive");
    assert_string_equal(str(r, "subscales", "externalizing"), "positive");
    assert_int_equal(num(r, "missing", NULL), 0);
    assert_true(json_is_true(json_object_get(r, "valid")));
    assert_int_equal(json_array_size(json_object_get(r, "critical")), 0);
    json_decref(r);

    /* one below every cut-off: internalizing 4, attention 6, externalizing 4, total 14 */
    int below[17] = {2, 1, 2, 1, 1, 1, 2, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0};
    r = score("psc17", answers_of(below, 17));
    assert_int_equal(num(r, "total", NULL), 14);
    assert_string_equal(str(r, "band", NULL), "negative");
    assert_int_equal(num(r, "subscales", "internalizing"), 4);
    assert_int_equal(num(r, "subscales", "attention"), 6);
    assert_int_equal(num(r, "subscales", "externalizing"), 4);
    assert_string_equal(str(r, "subscales", "internalizing"), "negative");
    assert_string_equal(str(r, "subscales", "attention"), "negative");
    json_decref(r);

    /* total exactly 15 */
    int at15[17] = {2, 1, 2, 1, 1, 1, 2, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
    r = score("psc17", answers_of(at15, 17));
    assert_int_equal(num(r, "total", NULL), 15);
    assert_string_equal(str(r, "band", NULL), "positive");
    json_decref(r);

    /* three blanks count as 0 (PSC rule): 19 - 2 - 1 - 1 = 15 */
    int blank3[17] = {-1, -1, 0, -1, 2, 1, 2, 0, 1, 1, 0, 2, 1, 0, 2, 1, 2};
    r = score("psc17", answers_of(blank3, 17));
    assert_int_equal(num(r, "total", NULL), 15);
    assert_int_equal(num(r, "missing", NULL), 3);
    assert_int_equal(num(r, "answered", NULL), 14);
    assert_false(json_is_true(json_object_get(r, "prorated")));
    assert_true(json_is_true(json_object_get(r, "valid")));
    assert_int_equal(num(r, "subscales", "internalizing"), 4);
    json_decref(r);

    /* four blanks: no score at all */
    int blank4[17] = {-1, -1, -1, -1, 2, 1, 2, 0, 1, 1, 0, 2, 1, 0, 2, 1, 2};
    r = score("psc17", answers_of(blank4, 17));
    assert_int_equal(num(r, "total", NULL), -999);
    assert_string_equal(str(r, "band", NULL), "");
    assert_int_equal(num(r, "subscales", "attention"), -999);
    assert_false(json_is_true(json_object_get(r, "valid")));
    assert_int_equal(num(r, "missing", NULL), 4);
    json_decref(r);
}

static void test_who5(void **state)
{
    (void)state;
    int a[5] = {5, 4, 3, 2, 1};
    json_t *r = score("who5", answers_of(a, 5));
    assert_int_equal(num(r, "total", NULL), 60);
    assert_int_equal(num(r, "raw", NULL), 15);
    assert_string_equal(str(r, "band", NULL), "adequate");
    json_decref(r);
    int b[5] = {2, 2, 2, 1, 0}; /* 7 x 4 = 28: exactly the depression cut-off */
    r = score("who5", answers_of(b, 5));
    assert_int_equal(num(r, "total", NULL), 28);
    assert_string_equal(str(r, "band", NULL), "likely_depression");
    json_decref(r);
    int c[5] = {2, 2, 2, 2, 0}; /* 32: poor */
    r = score("who5", answers_of(c, 5));
    assert_int_equal(num(r, "total", NULL), 32);
    assert_string_equal(str(r, "band", NULL), "poor");
    json_decref(r);
    int d[5] = {3, 3, 3, 3, 0}; /* 48: poor; 52 is adequate */
    r = score("who5", answers_of(d, 5));
    assert_string_equal(str(r, "band", NULL), "poor");
    json_decref(r);
    int d2[5] = {3, 3, 3, 3, 1};
    r = score("who5", answers_of(d2, 5));
    assert_int_equal(num(r, "total", NULL), 52);
    assert_string_equal(str(r, "band", NULL), "adequate");
    json_decref(r);
    int zero[5] = {0, 0, 0, 0, 0}, full[5] = {5, 5, 5, 5, 5};
    r = score("who5", answers_of(zero, 5));
    assert_int_equal(num(r, "total", NULL), 0);
    json_decref(r);
    r = score("who5", answers_of(full, 5));
    assert_int_equal(num(r, "total", NULL), 100);
    json_decref(r);
    /* one unanswered is prorated: 12 x 5/4 = 15 -> 60 */
    int p[5] = {3, 3, -1, 3, 3};
    r = score("who5", answers_of(p, 5));
    assert_int_equal(num(r, "total", NULL), 60);
    assert_true(json_is_true(json_object_get(r, "prorated")));
    json_decref(r);
    /* 7 x 5/4 = 8.75 -> 9 -> 36 */
    int p2[5] = {2, -1, 2, 1, 2};
    r = score("who5", answers_of(p2, 5));
    assert_int_equal(num(r, "total", NULL), 36);
    assert_string_equal(str(r, "band", NULL), "poor");
    json_decref(r);
    /* two unanswered: no score */
    int p3[5] = {2, -1, -1, 1, 2};
    r = score("who5", answers_of(p3, 5));
    assert_int_equal(num(r, "total", NULL), -999);
    assert_false(json_is_true(json_object_get(r, "valid")));
    assert_false(json_is_true(json_object_get(r, "prorated")));
    json_decref(r);
}

/* Expects instrument_score to refuse answers (JSON text) with code and field. */
static void refuse_answers(const char *id, const char *text, const char *code, const char *field)
{
    const struct instrument *in = instrument_find(id);
    json_t *a = json_loads(text, JSON_DECODE_ANY, NULL);
    struct err e;
    err_clear(&e);
    json_t *res = (json_t *)1;
    assert_int_equal(instrument_score(in, a, &res, &e), -1);
    assert_null(res);
    assert_string_equal(e.code, code);
    assert_string_equal(e.field, field);
    json_decref(a);
}

static void test_bad_answers(void **state)
{
    (void)state;
    refuse_answers("who5", "{\"1\":1,\"2\":1,\"3\":1,\"4\":1,\"5\":6}", "not_on_scale",
                   "answers.5");
    refuse_answers("who5", "{\"1\":-1,\"2\":1,\"3\":1,\"4\":1,\"5\":1}", "not_on_scale",
                   "answers.1");
    refuse_answers("who5", "{\"1\":\"3\",\"2\":1,\"3\":1,\"4\":1,\"5\":1}", "not_on_scale",
                   "answers.1");
    refuse_answers("who5", "{\"1\":1.5,\"2\":1,\"3\":1,\"4\":1,\"5\":1}", "not_on_scale",
                   "answers.1");
    refuse_answers("who5", "{\"1\":true,\"2\":1,\"3\":1,\"4\":1,\"5\":1}", "not_on_scale",
                   "answers.1");
    refuse_answers("who5", "{\"1\":1,\"2\":1,\"3\":1,\"4\":1}", "missing_item", "answers.5");
    refuse_answers("who5", "{}", "missing_item", "answers.1");
    refuse_answers("who5", "{\"1\":1,\"2\":1,\"3\":1,\"4\":1,\"5\":1,\"6\":1}", "unknown_item",
                   "answers.6");
    refuse_answers("who5", "{\"1\":1,\"2\":1,\"3\":1,\"4\":1,\"5\":1,\"\\u00e9\":1}",
                   "unknown_item", "answers.\xc3\xa9");
    refuse_answers("who5", "[1,2,3,4,5]", "invalid_type", "answers");
    refuse_answers("who5", "null", "invalid_type", "answers");
    refuse_answers("who5", "5", "invalid_type", "answers");
    struct err e;
    err_clear(&e);
    json_t *res = NULL;
    assert_int_equal(instrument_score(instrument_find("who5"), NULL, &res, &e), -1);
    /* a long key of three-byte letters is cut at a character boundary in the message */
    json_t *a = json_pack("{s:i, s:i, s:i, s:i, s:i}", "1", 1, "2", 1, "3", 1, "4", 1, "5", 1);
    struct buf k = BUF_INIT;
    for (int i = 0; i < 20; i++) {
        buf_adds(&k, "\xe2\x82\xac");
    }
    json_object_set_new(a, k.buf, json_integer(1));
    err_clear(&e);
    assert_int_equal(instrument_score(instrument_find("who5"), a, &res, &e), -1);
    assert_string_equal(e.code, "unknown_item");
    assert_true(utf8_valid(e.msg, strlen(e.msg)));
    assert_true(utf8_valid(e.field, strlen(e.field)));
    assert_non_null(strstr(e.msg, "\xe2\x82\xac"));
    buf_release(&k);
    json_decref(a);
}

/* ---- files ---- */

/* A valid test instrument: item "a" reversed, "c" critical on 3; lines are
 * numbered in the comments for the malformed-file tests. */
static const char test_doc[] =
    "{\n"                                                                             /* 1 */
    "\"id\": \"trev\", \"version\": \"1\", \"respondent\": \"self\",\n"               /* 2 */
    "\"name\": {\"ar\": \"اختبار\", \"en\": \"Test\"},\n"                             /* 3 */
    "\"age\": {\"min\": 0},\n"                                                        /* 4 */
    "\"scale\": [{\"value\": 0, \"label\": {\"ar\": \"أبداً\", \"en\": \"Never\"}},\n" /* 5 */
    "  {\"value\": 1, \"label\": {\"ar\": \"قليلاً\", \"en\": \"A little\"}},\n"       /* 6 */
    "  {\"value\": 2, \"label\": {\"ar\": \"كثيراً\", \"en\": \"A lot\"}},\n"          /* 7 */
    "  {\"value\": 3, \"label\": {\"ar\": \"دائماً\", \"en\": \"Always\"}}],\n"        /* 8 */
    "\"items\": [\n"                                                                  /* 9 */
    "  {\"id\": \"a\", \"text\": {\"ar\": \"أ\", \"en\": \"A\"}, \"reverse\": true},\n" /* 10 */
    "  {\"id\": \"b\", \"text\": {\"ar\": \"ب\", \"en\": \"B\"}},\n"                  /* 11 */
    "  {\"id\": \"c\", \"text\": {\"ar\": \"ج\", \"en\": \"C\"}, \"critical\": [3]}\n" /* 12 */
    "],\n"                                                                            /* 13 */
    "\"scoring\": {\"missing\": {\"rule\": \"prorate\", \"max\": 1}},\n"              /* 14 */
    "\"total\": {\"bands\": [\n"                                                      /* 15 */
    "  {\"id\": \"low\", \"min\": 0, \"max\": 4, \"label\": {\"ar\": \"م\", \"en\": \"Low\"}},\n"
    "  {\"id\": \"high\", \"min\": 5, \"max\": 9, \"label\": {\"ar\": \"ع\", \"en\": \"High\"},"
    " \"concern\": true}], \"cutoffs\": [5]},\n"                                      /* 17 */
    "\"subscales\": [\n"                                                              /* 18 */
    "  {\"id\": \"s\", \"name\": {\"ar\": \"س\", \"en\": \"S\"}, \"items\": [\"a\", \"b\"]}\n"
    "],\n"                                                                            /* 20 */
    "\"source\": {\"citation\": \"test\", \"terms\": \"test only\"}\n"                /* 21 */
    "}\n";

/* test_doc with the first occurrence of from replaced by to. */
static char *doc_with(const char *from, const char *to)
{
    const char *at = strstr(test_doc, from);
    assert_non_null(at);
    struct buf b = BUF_INIT;
    buf_add(&b, test_doc, (size_t)(at - test_doc));
    buf_adds(&b, to);
    buf_adds(&b, at + strlen(from));
    return buf_detach(&b, NULL);
}

/* Expects text (taken) to be refused with each of the texts in want (NULL-ended). */
static void refuse_doc(char *text, ...)
{
    struct err e;
    err_clear(&e);
    struct instrument *in = instrument_parse("org/t.json", text, strlen(text), &e);
    if (in) {
        fprintf(stderr, "accepted: %s\n", text);
    }
    assert_null(in);
    assert_string_equal(e.code, "invalid_instrument");
    va_list ap;
    va_start(ap, text);
    const char *want;
    while ((want = va_arg(ap, const char *)) != NULL) {
        if (!strstr(e.msg, want)) {
            fprintf(stderr, "message '%s' lacks '%s'\n", e.msg, want);
        }
        assert_non_null(strstr(e.msg, want));
    }
    va_end(ap);
    free(text);
}

static void test_malformed(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    struct instrument *ok = instrument_parse("t.json", test_doc, strlen(test_doc), &e);
    if (!ok) {
        fprintf(stderr, "%s\n", e.msg);
    }
    assert_non_null(ok);
    assert_true(ok->items[0].reverse);
    assert_int_equal(ok->items[2].n_critical, 1);
    instrument_free(ok);
    /* syntax: jansson's line */
    refuse_doc(doc_with("\"items\": [\n", "\"items\": [,\n"), "'org/t.json' line 9", NULL);
    refuse_doc(xstrdup(""), "'org/t.json' line 1", NULL);
    refuse_doc(xstrdup("{\"id\": \"x\", \"id\": \"y\"}"), "'org/t.json' line 1", NULL);
    refuse_doc(xstrdup("{\"id\": \"\xff\"}"), "org/t.json", NULL);
    refuse_doc(xstrdup("[]"), "org/t.json", "one JSON object", NULL);
    /* an item without its text, or without an id; no items at all */
    refuse_doc(doc_with("\"text\": {\"ar\": \"ب\", \"en\": \"B\"}", "\"txt\": 1"),
               "line 11", "item 'b'", NULL);
    refuse_doc(doc_with(", \"text\": {\"ar\": \"ب\", \"en\": \"B\"}", ""), "line 11",
               "item 'b'", "missing 'text'", NULL);
    refuse_doc(doc_with("\"en\": \"B\"}", "\"en\": \"\"}"), "item 'b'", NULL);
    refuse_doc(doc_with("{\"id\": \"b\", ", "{"), "item 2", "'id'", NULL);
    refuse_doc(doc_with("{\"id\": \"b\", ", "{\"id\": \"a\", "), "line 11", "duplicate", NULL);
    refuse_doc(doc_with("\"items\": [\n", "\"itemz\": [\n"), "line 9", "unknown member", NULL);
    /* a cut-off outside the possible range 0..9 */
    refuse_doc(doc_with("\"max\": 9,", "\"max\": 40,"), "line 17", "band 'high'",
               "outside the possible range 0..9", NULL);
    refuse_doc(doc_with("\"cutoffs\": [5]", "\"cutoffs\": [10]"), "line 17", "cut-off", NULL);
    refuse_doc(doc_with("\"min\": 5, \"max\": 9", "\"min\": 6, \"max\": 9"), "line 17",
               "band 'high'", "gaps", NULL);
    refuse_doc(doc_with("\"min\": 5, \"max\": 9", "\"min\": 5, \"max\": 8"), "line 17",
               "highest possible", NULL);
    /* a scale with duplicate values */
    refuse_doc(doc_with("{\"value\": 2,", "{\"value\": 1,"), "line 7", "duplicate value 1",
               NULL);
    refuse_doc(doc_with("{\"value\": 2,", "{\"value\": 500,"), "line 7", "'value'", NULL);
    /* a subscale naming an unknown item */
    refuse_doc(doc_with("[\"a\", \"b\"]", "[\"a\", \"z\"]"), "line 19", "subscale 's'",
               "unknown item 'z'", NULL);
    refuse_doc(doc_with("[\"a\", \"b\"]", "[\"a\", \"a\"]"), "line 19", "twice", NULL);
    /* a critical value not on the scale */
    refuse_doc(doc_with("\"critical\": [3]", "\"critical\": [4]"), "line 12", "item 'c'",
               "critical value 1 is not on the scale", NULL);
    /* other fields */
    refuse_doc(doc_with("\"respondent\": \"self\"", "\"respondent\": \"robot\""), "line 2",
               "respondent", NULL);
    refuse_doc(doc_with("\"age\": {\"min\": 0}", "\"age\": {\"min\": 10, \"max\": 5}"), "line 4",
               "'max'", NULL);
    refuse_doc(doc_with("\"max\": 1}}", "\"max\": 3}}"), "line 14", "'max'", NULL);
    refuse_doc(doc_with("\"prorate\"", "\"guess\""), "line 14", "rule", NULL);
    refuse_doc(doc_with("\"citation\": \"test\", ", ""), "line 21", "citation", NULL);
    refuse_doc(doc_with("\"id\": \"trev\"", "\"id\": \"Bad Id\""), "line 2", "'id'", NULL);
}

static void test_dir(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    char org[128];
    snprintf(org, sizeof(org), "%s/instruments", dir);
    mkdir(org, 0700);
    write_file(org, "trev.json", test_doc);
    write_file(org, "notes.txt", "not an instrument");
    assert_int_equal(instruments_init(org, &e), 0);
    const struct instrument *t = instrument_find("trev");
    assert_non_null(t);
    assert_non_null(strstr(t->file, "trev.json"));
    assert_non_null(instrument_find("psc17"));
    /* reverse: a=0 counts 3; b=1; c=3 is critical; total 7 high; s = 4 */
    json_t *r = score("trev", json_pack("{s:i, s:i, s:i}", "a", 0, "b", 1, "c", 3));
    assert_int_equal(num(r, "total", NULL), 7);
    assert_string_equal(str(r, "band", NULL), "high");
    assert_int_equal(num(r, "subscales", "s"), 4);
    json_t *crit = json_object_get(r, "critical");
    assert_int_equal(json_array_size(crit), 1);
    assert_string_equal(json_string_value(json_array_get(crit, 0)), "c");
    json_decref(r);
    /* a=3 counts 0: exactly 4 = low, not critical */
    r = score("trev", json_pack("{s:i, s:i, s:i}", "a", 3, "b", 2, "c", 2));
    assert_int_equal(num(r, "total", NULL), 4);
    assert_string_equal(str(r, "band", NULL), "low");
    assert_int_equal(json_array_size(json_object_get(r, "critical")), 0);
    json_decref(r);
    /* prorated subscale: a skipped: s = 2 x 2/1 = 4; total (2+3) x 3/2 = 7.5 -> 8 */
    r = score("trev", json_pack("{s:n, s:i, s:i}", "a", "b", 2, "c", 3));
    assert_int_equal(num(r, "subscales", "s"), 4);
    assert_int_equal(num(r, "total", NULL), 8);
    assert_true(json_is_true(json_object_get(r, "prorated")));
    json_decref(r);

    /* a broken org file stops start-up, naming the file and line, and keeps the old set */
    char *bad = doc_with("\"critical\": [3]", "\"critical\": [7]");
    bad[strlen(bad) - 2] = '}';
    write_file(org, "zz.json", bad);
    free(bad);
    err_clear(&e);
    assert_int_equal(instruments_init(org, &e), -1);
    assert_non_null(strstr(e.msg, "zz.json' line 12"));
    assert_non_null(instrument_find("trev"));
    /* a second file with an id already used */
    write_file(org, "zz.json", test_doc);
    err_clear(&e);
    assert_int_equal(instruments_init(org, &e), -1);
    assert_non_null(strstr(e.msg, "zz.json"));
    assert_non_null(strstr(e.msg, "already used"));
    /* an org file may not take a shipped id either */
    char *dup = doc_with("\"id\": \"trev\"", "\"id\": \"who5\"");
    write_file(org, "zz.json", dup);
    free(dup);
    assert_int_equal(instruments_init(org, &e), -1);
    assert_non_null(strstr(e.msg, "already used"));
    char zz[160];
    snprintf(zz, sizeof(zz), "%s/zz.json", org);
    unlink(zz);
    /* a missing folder is fine */
    assert_int_equal(instruments_init("/nonexistent/sanad-instruments", &e), 0);
    assert_null(instrument_find("trev"));
    assert_int_equal(instruments_init(org, &e), 0);
    assert_non_null(instrument_find("trev"));
}

/* Huge and hostile documents are refused without a crash. */
static void test_hostile(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    buf_adds(&b, "\"items\": [\n");
    for (int i = 0; i < 300; i++) {
        buf_addf(&b, "{\"id\": \"i%d\", \"text\": {\"ar\": \"x\", \"en\": \"x\"}},\n", i);
    }
    char *big = doc_with("\"items\": [\n", b.buf);
    buf_release(&b);
    refuse_doc(big, "line 9", "1 to 200 items", NULL);
    struct err e;
    err_clear(&e);
    for (int depth = 0; depth < 3000; depth++) {
        buf_addch(&b, '[');
    }
    assert_null(instrument_parse("deep.json", b.buf, b.len, &e));
    buf_release(&b);
    /* a text of 3,000 letters, and an item id of 33 characters */
    for (int i = 0; i < 3000; i++) {
        buf_adds(&b, "\xd8\xa8");
    }
    char *longtext = doc_with("\"ar\": \"ب\"", "\"ar\": \"PLACEHOLDER\"");
    char *at = strstr(longtext, "PLACEHOLDER");
    struct buf d = BUF_INIT;
    buf_add(&d, longtext, (size_t)(at - longtext));
    buf_adds(&d, b.buf);
    buf_adds(&d, at + 11);
    free(longtext);
    buf_release(&b);
    refuse_doc(buf_detach(&d, NULL), "item 'b'", "2000", NULL);
    refuse_doc(doc_with("\"id\": \"b\"", "\"id\": \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\""),
               "item 2", NULL);
    /* not NUL-terminated within n: only n bytes are read */
    assert_null(instrument_parse("n.json", test_doc, 10, &e));
}

/* ---- the service ---- */

static struct db *db;
static char org1[40], org2[40], user1[40], user2[40];

/* An actor of org acting as user with role. */
static struct actor actor_of(const char *org, const char *user, const char *role)
{
    struct actor a;
    memset(&a, 0, sizeof(a));
    snprintf(a.user_id, sizeof(a.user_id), "%s", user);
    snprintf(a.org_id, sizeof(a.org_id), "%s", org);
    snprintf(a.org_slug, sizeof(a.org_slug), "t%.6s", org + 30);
    snprintf(a.username, sizeof(a.username), "u%.6s", user + 30);
    snprintf(a.role, sizeof(a.role), "%s", role);
    snprintf(a.lang, sizeof(a.lang), "en");
    a.mfa_ok = true;
    return a;
}

/* Registers a child born on birth in the actor's organization and opens a case. */
static void new_case(const struct actor *a, const char *birth, char child[40], char case_id[40])
{
    json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "first_name", "محمد", "father_name",
                           "أحمد", "family_name", "الخطيب", "sex", "M", "birth_date", birth,
                           "orphan_status", "father_deceased");
    struct err e;
    err_clear(&e);
    json_t *errors = NULL;
    char file_no[64], case_no[32];
    int rc = child_create(db, a, in, child, file_no, &errors, &e);
    if (rc < 0) {
        fprintf(stderr, "child_create: %s\n", e.msg);
    }
    assert_int_equal(rc, 0);
    json_decref(in);
    rc = case_open(db, a, child, NULL, NULL, case_id, case_no, &e);
    if (rc < 0) {
        fprintf(stderr, "case_open: %s\n", e.msg);
    }
    assert_int_equal(rc, 0);
}

/* The birth date of a child aged years (birthday a month ago). */
static void born(int years, char out[11])
{
    int y, m, d;
    time_today(&y, &m, &d);
    int64_t days = time_days_from_civil(y - years, m, d > 28 ? 28 : d) - 31;
    time_civil_from_days(days, &y, &m, &d);
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

/* Counts rows of sql with one text parameter p. */
static int64_t count(const char *sql, const char *p)
{
    struct err e;
    err_clear(&e);
    int found;
    struct db_stmt *s = db_row(db, &e, &found, sql, "t", p);
    assert_non_null(s);
    int64_t n = db_col_int64(s, 0);
    db_done(s);
    return n;
}

static void test_service(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    struct actor ps = actor_of(org1, user1, "psychosocial_specialist");
    struct actor sup = actor_of(org1, user1, "supervisor");
    struct actor cw = actor_of(org1, user1, "case_worker");
    struct actor so = actor_of(org1, user1, "sponsorship_officer");
    struct actor other = actor_of(org2, user2, "supervisor");
    char bd[11], child[40], kase[40];
    born(10, bd);
    new_case(&sup, bd, child, kase);

    int v[5] = {2, 2, 2, 1, 0};
    json_t *ans = answers_of(v, 5);
    char id[40];
    json_t *res = NULL;
    int rc = instrument_record(db, &cw, kase, "who5", ans, NULL, id, &res, &e);
    if (rc < 0) {
        fprintf(stderr, "record: %s\n", e.msg);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(num(res, "total", NULL), 28);
    assert_string_equal(str(res, "id", NULL), id);
    json_decref(res);
    /* answers sealed at rest; scores in the clear */
    int found;
    struct db_stmt *s = db_row(db, &e, &found,
                               "SELECT answers, total, band, critical, scores, child_id"
                               " FROM instrument_responses WHERE id = $1",
                               "t", id);
    assert_non_null(s);
    assert_true(strncmp(db_col_text(s, 0), "v1.", 3) == 0);
    assert_null(strstr(db_col_text(s, 0), "\"1\""));
    assert_int_equal(db_col_int64(s, 1), 28);
    assert_string_equal(db_col_text(s, 2), "likely_depression");
    assert_int_equal(db_col_int64(s, 3), 0);
    assert_non_null(strstr(db_col_text(s, 4), "\"valid\":true"));
    assert_string_equal(db_col_text(s, 5), child);
    db_done(s);
    assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE action = 'instrument.record'"
                           " AND entity_id = $1", id), 1);

    /* reading the answers: psych.notes only, audited */
    json_t *got = instrument_response_get(db, &cw, id, &e);
    assert_null(got);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    got = instrument_response_get(db, &other, id, &e);
    assert_null(got);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    err_clear(&e);
    got = instrument_response_get(db, &ps, id, &e);
    assert_non_null(got);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(got, "answers"), "4")),
                     1);
    assert_int_equal(num(got, "total", NULL), 28);
    json_decref(got);
    assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE action = 'instrument.view'"
                           " AND entity_id = $1", id), 1);
    assert_null(instrument_response_get(db, &ps, "not-an-id", &e));

    /* refusals change nothing */
    int64_t before = count("SELECT COUNT(*) FROM instrument_responses WHERE child_id = $1", child);
    err_clear(&e);
    assert_int_equal(instrument_record(db, &so, kase, "who5", ans, NULL, id, NULL, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_int_equal(instrument_record(db, &other, kase, "who5", ans, NULL, id, NULL, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    err_clear(&e);
    assert_int_equal(instrument_record(db, &cw, kase, "nope", ans, NULL, id, NULL, &e), -1);
    assert_string_equal(e.code, "unknown_instrument");
    err_clear(&e);
    /* PSC-17 is for ages 4..16 only... the child is 10: a 17-year-old below */
    json_object_set_new(ans, "5", json_integer(9));
    assert_int_equal(instrument_record(db, &cw, kase, "who5", ans, NULL, id, NULL, &e), -1);
    assert_string_equal(e.code, "not_on_scale");
    assert_string_equal(e.field, "answers.5");
    err_clear(&e);
    json_object_set_new(ans, "5", json_null());
    json_object_set_new(ans, "4", json_null());
    assert_int_equal(instrument_record(db, &cw, kase, "who5", ans, NULL, id, NULL, &e), -1);
    assert_string_equal(e.code, "too_many_missing");
    assert_int_equal(before,
                     count("SELECT COUNT(*) FROM instrument_responses WHERE child_id = $1", child));
    json_decref(ans);

    /* the age range: a 7-year-old is too young for WHO-5 unless a reason is given */
    char bd7[11], child7[40], case7[40];
    born(7, bd7);
    new_case(&sup, bd7, child7, case7);
    int w[5] = {5, 5, 5, 5, 5};
    ans = answers_of(w, 5);
    err_clear(&e);
    assert_int_equal(instrument_record(db, &cw, case7, "who5", ans, NULL, id, NULL, &e), -1);
    assert_string_equal(e.code, "age_out_of_range");
    assert_non_null(strstr(e.msg, "9 and over"));
    err_clear(&e);
    assert_int_equal(instrument_record(db, &cw, case7, "who5", ans, "  ", id, NULL, &e), -1);
    err_clear(&e);
    res = NULL;
    assert_int_equal(instrument_record(db, &cw, case7, "who5", ans,
                                       "reads well; supervisor agreed", id, &res, &e),
                     0);
    assert_int_equal(num(json_object_get(res, "age_override"), "age", NULL), 7);
    json_decref(res);
    json_decref(ans);

    /* history: oldest first, no answers; cases.read needed; other organizations see nothing */
    int v2[5] = {5, 4, 3, 2, 1};
    ans = answers_of(v2, 5);
    assert_int_equal(instrument_record(db, &cw, kase, "who5", ans, NULL, id, NULL, &e), 0);
    json_decref(ans);
    json_t *h = instrument_history(db, &cw, child, "who5", &e);
    assert_non_null(h);
    assert_int_equal(json_array_size(h), 2);
    assert_int_equal(num(json_array_get(h, 0), "total", NULL), 28);
    assert_int_equal(num(json_array_get(h, 1), "total", NULL), 60);
    assert_null(json_object_get(json_array_get(h, 0), "answers"));
    json_decref(h);
    h = instrument_history(db, &cw, child, "psc17", &e);
    assert_int_equal(json_array_size(h), 0);
    json_decref(h);
    h = instrument_history(db, &cw, child, NULL, &e);
    assert_int_equal(json_array_size(h), 2);
    json_decref(h);
    struct actor fin = actor_of(org1, user1, "finance_officer");
    assert_null(instrument_history(db, &fin, child, NULL, &e));
    err_clear(&e);
    assert_null(instrument_history(db, &other, child, NULL, &e));
    assert_int_equal(e.kind, ERR_NOT_FOUND);

    /* a closed case takes no responses */
    char bd12[11], child12[40], case12[40];
    born(12, bd12);
    new_case(&sup, bd12, child12, case12);
    assert_int_equal(db_run(db, &e, "UPDATE cases SET status = 'closed' WHERE id = $1", "t",
                            case12), 1);
    ans = answers_of(v2, 5);
    err_clear(&e);
    assert_int_equal(instrument_record(db, &cw, case12, "who5", ans, NULL, id, NULL, &e), -1);
    assert_string_equal(e.code, "case_closed");
    json_decref(ans);
}

/* A critical answer raises the case's urgent flag and a task, in the same transaction. */
static void test_critical(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    char org_dir[128];
    snprintf(org_dir, sizeof(org_dir), "%s/instruments", dir);
    mkdir(org_dir, 0700);
    write_file(org_dir, "trev.json", test_doc);
    assert_int_equal(instruments_init(org_dir, &e), 0);
    struct actor ps = actor_of(org1, user1, "psychosocial_specialist");
    struct actor sup = actor_of(org1, user1, "supervisor");
    char bd[11], child[40], kase[40], id[40];
    born(11, bd);
    new_case(&sup, bd, child, kase);
    json_t *ans = json_pack("{s:i, s:i, s:i}", "a", 1, "b", 1, "c", 2);
    assert_int_equal(instrument_record(db, &ps, kase, "trev", ans, NULL, id, NULL, &e), 0);
    json_decref(ans);
    assert_int_equal(count("SELECT urgent FROM cases WHERE id = $1", kase), 0);
    ans = json_pack("{s:i, s:i, s:i}", "a", 1, "b", 1, "c", 3);
    json_t *res = NULL;
    int rc = instrument_record(db, &ps, kase, "trev", ans, NULL, id, &res, &e);
    if (rc < 0) {
        fprintf(stderr, "record: %s\n", e.msg);
    }
    assert_int_equal(rc, 0);
    json_decref(ans);
    assert_string_equal(json_string_value(json_array_get(json_object_get(res, "critical"), 0)),
                        "c");
    json_decref(res);
    assert_int_equal(count("SELECT urgent FROM cases WHERE id = $1", kase), 1);
    assert_int_equal(count("SELECT critical FROM instrument_responses WHERE id = $1", id), 1);
    assert_int_equal(count("SELECT COUNT(*) FROM tasks WHERE case_id = $1 AND urgent = 1", kase),
                     1);
    assert_int_equal(count("SELECT COUNT(*) FROM case_events WHERE case_id = $1"
                           " AND detail = 'instrument:trev:c'", kase),
                     1);
}


/* ---- HTTP: the API and the pages, through the real server ---- */

static int port;
/* The actor the test auth hook gives every request, chosen by X-Test-Role. */
static __thread struct actor hook_actor;

/* Stands in for the real auth hook: the actor of org1 with the role named by
 * the X-Test-Role header, and the route's permission checked the same way. */
static int test_auth(struct http_req *r)
{
    const char *role = http_header(r, "X-Test-Role");
    hook_actor = actor_of(org1, user1, role ? role : "supervisor");
    r->actor = &hook_actor;
    r->csrf_token = "csrf-test";
    if (r->route && r->route->perm && !actor_can(r->actor, r->route->perm)) {
        struct err e;
        err_set(&e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed");
        http_reply_err(r, &e);
        return -1;
    }
    return 0;
}

/* One response as the client saw it. */
struct resp {
    long status;     /* status code */
    struct buf body; /* the body */
    char location[512]; /* the Location header, "" when none */
};

/* Collects body bytes. */
static size_t collect(char *p, size_t size, size_t n, void *userdata)
{
    buf_add(userdata, p, size * n);
    return size * n;
}

/* Sends method path with body (may be NULL) of content type ctype as role. */
static void request(struct resp *out, const char *method, const char *path, const char *ctype,
                    const char *body, const char *role, const char *lang)
{
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[512], h1[96], h2[96], h3[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    buf_init(&out->body);
    struct curl_slist *hl = NULL;
    snprintf(h1, sizeof(h1), "X-Test-Role: %s", role);
    snprintf(h2, sizeof(h2), "Content-Type: %s", ctype ? ctype : "text/plain");
    snprintf(h3, sizeof(h3), "Accept-Language: %s", lang);
    hl = curl_slist_append(hl, h1);
    hl = curl_slist_append(hl, h2);
    hl = curl_slist_append(hl, h3);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    char *loc = NULL;
    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
    snprintf(out->location, sizeof(out->location), "%s", loc ? loc : "");
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
}

/* Counts the occurrences of needle in hay. */
static int occurrences(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) {
        n++;
    }
    return n;
}

static void test_web(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    struct actor sup = actor_of(org1, user1, "supervisor");
    char bd[11], child[40], kase[40], path[256];
    born(10, bd);
    new_case(&sup, bd, child, kase);
    struct resp r;

    request(&r, "GET", "/api/v1/instruments", NULL, NULL, "case_worker", "en");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.buf, "\"psc17\""));
    assert_non_null(strstr(r.body.buf, "\"who5\""));
    buf_release(&r.body);
    request(&r, "GET", "/api/v1/instruments/who5", NULL, NULL, "case_worker", "en");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.buf, "At no time"));
    buf_release(&r.body);
    request(&r, "GET", "/api/v1/instruments/nope", NULL, NULL, "case_worker", "en");
    assert_int_equal(r.status, 404);
    buf_release(&r.body);
    request(&r, "GET", "/api/v1/instruments", NULL, NULL, "finance_officer", "en");
    assert_int_equal(r.status, 403);
    buf_release(&r.body);

    /* the API records, refuses with the item named, and lists scores */
    snprintf(path, sizeof(path), "/api/v1/cases/%s/responses", kase);
    request(&r, "POST", path, "application/json",
            "{\"instrument\":\"who5\",\"answers\":{\"1\":3,\"2\":3,\"3\":3,\"4\":3,\"5\":9}}",
            "case_worker", "en");
    assert_int_equal(r.status, 422 == r.status ? 422 : 400);
    assert_non_null(strstr(r.body.buf, "answers.5"));
    buf_release(&r.body);
    request(&r, "POST", path, "application/json",
            "{\"instrument\":\"who5\",\"answers\":{\"1\":3,\"2\":3,\"3\":3,\"4\":3,\"5\":1},"
            "\"extra\":1}",
            "case_worker", "en");
    assert_int_equal(r.status / 100, 4);
    buf_release(&r.body);
    request(&r, "POST", path, "application/json",
            "{\"instrument\":\"who5\",\"answers\":{\"1\":3,\"2\":3,\"3\":3,\"4\":3,\"5\":1}}",
            "case_worker", "en");
    assert_int_equal(r.status, 201);
    json_t *j = json_loads(r.body.buf, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 52);
    char rid[40];
    snprintf(rid, sizeof(rid), "%s", json_string_value(json_object_get(j, "id")));
    json_decref(j);
    buf_release(&r.body);
    snprintf(path, sizeof(path), "/api/v1/children/%s/scores?instrument=who5", child);
    request(&r, "GET", path, NULL, NULL, "case_worker", "en");
    assert_int_equal(r.status, 200);
    assert_true(strstr(r.body.buf, "\"total\": 52") || strstr(r.body.buf, "\"total\":52"));
    assert_null(strstr(r.body.buf, "answers"));
    buf_release(&r.body);
    snprintf(path, sizeof(path), "/api/v1/children/%s/scores?instrument=zzz", child);
    request(&r, "GET", path, NULL, NULL, "case_worker", "en");
    assert_int_equal(r.status / 100, 4);
    buf_release(&r.body);
    snprintf(path, sizeof(path), "/api/v1/responses/%s", rid);
    request(&r, "GET", path, NULL, NULL, "case_worker", "en");
    assert_int_equal(r.status, 403);
    buf_release(&r.body);
    request(&r, "GET", path, NULL, NULL, "psychosocial_specialist", "en");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.buf, "\"answers\""));
    buf_release(&r.body);

    /* the pages: the list with the chart, the form, a refusal next to its item, a save */
    snprintf(path, sizeof(path), "/cases/%s/instruments", kase);
    request(&r, "GET", path, NULL, NULL, "case_worker", "ar");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.buf, "<svg"));
    assert_non_null(strstr(r.body.buf, "direction=\"rtl\""));
    assert_non_null(strstr(r.body.buf, "حدّ الفصل 50"));
    assert_non_null(strstr(r.body.buf, "\xe2\x80\x8e" "52</text>"));
    assert_non_null(strstr(r.body.buf, "قائمة أعراض الأطفال"));
    assert_null(strstr(r.body.buf, "/instrument-responses/")); /* no psych.notes */
    buf_release(&r.body);
    request(&r, "GET", path, NULL, NULL, "psychosocial_specialist", "en");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.buf, "/instrument-responses/"));
    assert_non_null(strstr(r.body.buf, "Cut-off 28"));
    buf_release(&r.body);
    snprintf(path, sizeof(path), "/cases/%s/instruments/psc17/new", kase);
    request(&r, "GET", path, NULL, NULL, "case_worker", "en");
    assert_int_equal(r.status, 200);
    assert_int_equal(occurrences(r.body.buf, "type=\"radio\""), 17 * 4);
    assert_non_null(strstr(r.body.buf, "Fidgety, unable to sit still"));
    buf_release(&r.body);
    request(&r, "GET", path, NULL, NULL, "case_worker", "ar");
    assert_non_null(strstr(r.body.buf, "يتشتت انتباهه بسهولة"));
    buf_release(&r.body);
    snprintf(path, sizeof(path), "/cases/%s/instruments/psc17", kase);
    struct buf form = BUF_INIT;
    for (int i = 1; i <= 17; i++) {
        buf_addf(&form, "%sq_%d=%s", i > 1 ? "&" : "", i, i == 3 ? "7" : "1");
    }
    request(&r, "POST", path, "application/x-www-form-urlencoded", form.buf, "case_worker", "en");
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body.buf, "id=\"q-3-error\""));
    assert_non_null(strstr(r.body.buf, "Choose one of the answers shown"));
    assert_non_null(strstr(r.body.buf, "name=\"q_1\" value=\"1\" checked"));
    buf_release(&r.body);
    buf_reset(&form);
    for (int i = 1; i <= 17; i++) {
        buf_addf(&form, "%sq_%d=%s", i > 1 ? "&" : "", i, i <= 4 ? "" : "1");
    }
    request(&r, "POST", path, "application/x-www-form-urlencoded", form.buf, "case_worker", "en");
    assert_int_equal(r.status, 422);
    assert_int_equal(occurrences(r.body.buf, "too many are left unanswered"), 4);
    buf_release(&r.body);
    buf_reset(&form);
    for (int i = 1; i <= 17; i++) {
        buf_addf(&form, "%sq_%d=%s", i > 1 ? "&" : "", i, i == 2 ? "" : "1");
    }
    request(&r, "POST", path, "application/x-www-form-urlencoded", form.buf, "case_worker", "en");
    assert_int_equal(r.status, 303);
    assert_non_null(strstr(r.location, "flash.instrument_recorded"));
    buf_release(&r.body);
    buf_release(&form);
    snprintf(path, sizeof(path), "/instrument-responses/%s", rid);
    request(&r, "GET", path, NULL, NULL, "psychosocial_specialist", "en");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.buf, "More than half of the time"));
    buf_release(&r.body);
    request(&r, "GET", path, NULL, NULL, "case_worker", "en");
    assert_int_equal(r.status, 403);
    buf_release(&r.body);
    /* the charts for the child's page */
    struct http_req fake;
    memset(&fake, 0, sizeof(fake));
    arena_init(&fake.arena);
    fake.lang = "en";
    struct actor cw = actor_of(org1, user1, "case_worker");
    fake.actor = &cw;
    const char *html = instruments_charts_html(&fake, db, child, &e);
    assert_non_null(html);
    assert_int_equal(occurrences(html, "<svg"), 2); /* WHO-5 and PSC-17 */
    assert_non_null(strstr(html, "<h3>WHO-5 Well-Being Index</h3>"));
    assert_non_null(strstr(html, "Cut-off 15"));
    char empty_child[40], empty_case[40];
    new_case(&sup, bd, empty_child, empty_case);
    html = instruments_charts_html(&fake, db, empty_child, &e);
    assert_string_equal(html, "");
    struct actor fin = actor_of(org1, user1, "finance_officer");
    fake.actor = &fin;
    assert_null(instruments_charts_html(&fake, db, child, &e));
    arena_release(&fake.arena);
    snprintf(path, sizeof(path), "/cases/%s/instruments", "00000000-0000-7000-8000-000000000000");
    request(&r, "GET", path, NULL, NULL, "case_worker", "en");
    assert_int_equal(r.status, 404);
    buf_release(&r.body);
}

/* Starts the server with the instrument routes and the test auth hook. */
static int web_setup(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    free(g_config.listen);
    g_config.listen = strdup("127.0.0.1:0");
    g_config.threads = 2;
    if (i18n_init(&e) < 0 || tmpl_init(&e) < 0) {
        fprintf(stderr, "web setup: %s\n", e.msg);
        return -1;
    }
    instruments_register();
    http_set_auth_hook(test_auth);
    curl_global_init(CURL_GLOBAL_ALL);
    if (http_server_start(&e) < 0) {
        fprintf(stderr, "start: %s\n", e.msg);
        return -1;
    }
    port = http_server_port();
    return port > 0 ? 0 : -1;
}

/* Stops the server. */
static int web_teardown(void **state)
{
    (void)state;
    http_server_stop();
    curl_global_cleanup();
    tmpl_shutdown();
    i18n_shutdown();
    return 0;
}

static int setup(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    snprintf(dir, sizeof(dir), "/tmp/sanad-instr-XXXXXX");
    if (!mkdtemp(dir) || sodium_init() < 0) {
        return -1;
    }
    config_defaults();
    free(g_config.data_dir);
    g_config.data_dir = strdup(dir);
    if (instruments_init(NULL, &e) < 0) {
        fprintf(stderr, "instruments_init: %s\n", e.msg);
        return -1;
    }
    char key_path[128], db_path[160];
    snprintf(key_path, sizeof(key_path), "%s/sanad.key", dir);
    snprintf(db_path, sizeof(db_path), "sqlite:%s/t.db", dir);
    const char *url = getenv("SANAD_TEST_DB");
    db_set_url(url && *url ? url : db_path);
    if (keys_create_master(key_path, &e) < 0 || keys_load_master(key_path, &e) < 0 ||
        db_open(url && *url ? url : db_path, &db, &e) < 0 || db_migrate(db, &e) < 0) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    struct actor sys;
    actor_system(&sys, "");
    for (int i = 0; i < 2; i++) {
        char u[40], slug[16], inv[64];
        uuid_v7(u);
        snprintf(slug, sizeof(slug), "i%.8s", u + 28);
        char *org = i ? org2 : org1;
        if (org_create(db, &sys, slug, "Instruments", org, &e) < 0) {
            fprintf(stderr, "org_create: %s\n", e.msg);
            return -1;
        }
        struct user_new un = {"worker", "Worker", NULL, "supervisor", "en", NULL};
        actor_system(&sys, org);
        if (user_create(db, &sys, org, &un, i ? user2 : user1, inv, &e) < 0) {
            fprintf(stderr, "user_create: %s\n", e.msg);
            return -1;
        }
        actor_system(&sys, "");
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    instruments_shutdown();
    db_thread_close();
    keys_shutdown();
    db_close(db);
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped),   cmocka_unit_test(test_psc17),
        cmocka_unit_test(test_who5),      cmocka_unit_test(test_bad_answers),
        cmocka_unit_test(test_malformed), cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_dir),       cmocka_unit_test(test_service),
        cmocka_unit_test(test_critical),
        cmocka_unit_test_setup_teardown(test_web, web_setup, web_teardown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
