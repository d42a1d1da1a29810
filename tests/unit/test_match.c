/*
 * test_match.c: unit tests of the matching engine (src/match): normalization
 * rules, cross-script skeletons, comparisons, dates, EM, scoring of hard
 * negatives, clustering against chains, CLK encodings and the CSV reader.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "match/clk.h"
#include "match/csv.h"
#include "match/gen.h"
#include "match/match.h"

/* Normalizes s as `kind` and returns the readable form in a static buffer. */
static const char *norm(const char *s, enum match_kind kind)
{
    static char out[1100];
    static struct match_norm n;
    match_normalize(s, strlen(s), kind, false, &n);
    match_norm_to_utf8(n.norm, n.n_norm, out, sizeof(out));
    return out;
}

/* The skeleton of s. */
static const char *skel(const char *s, enum match_kind kind)
{
    static struct match_norm n;
    match_normalize(s, strlen(s), kind, false, &n);
    return n.skel;
}

static void test_normalize_arabic_rules(void **state)
{
    (void)state;
    /* alef forms, ta marbuta, alef maqsura, diacritics, tatweel */
    assert_string_equal(norm("أحمد", MATCH_KIND_GIVEN), "احمد");
    assert_string_equal(norm("إبراهيم", MATCH_KIND_GIVEN), "ابراهيم");
    assert_string_equal(norm("آمنة", MATCH_KIND_GIVEN), "امنه");
    assert_string_equal(norm("مصطفى", MATCH_KIND_GIVEN), norm("مصطفي", MATCH_KIND_GIVEN));
    assert_string_equal(norm("مُحَمَّد", MATCH_KIND_GIVEN), "محمد");
    assert_string_equal(norm("محـــمد", MATCH_KIND_GIVEN), "محمد");
    /* hamza carriers meet */
    assert_string_equal(norm("وائل", MATCH_KIND_GIVEN), norm("واءل", MATCH_KIND_GIVEN));
    assert_string_equal(norm("دعائ", MATCH_KIND_GIVEN), norm("دعاء", MATCH_KIND_GIVEN));
    assert_string_equal(norm("لؤي", MATCH_KIND_GIVEN), norm("لءي", MATCH_KIND_GIVEN));
    /* Persian and Urdu letters */
    assert_string_equal(norm("کریم", MATCH_KIND_GIVEN), "كريم");
    assert_string_equal(norm("پاسم", MATCH_KIND_GIVEN), "باسم");
    /* presentation forms go through NFKC */
    assert_string_equal(norm("ﻣﺤﻤﺪ", MATCH_KIND_GIVEN), "محمد");
    /* Arabic-Indic digits */
    assert_string_equal(norm("١٢٣", MATCH_KIND_GIVEN), "123");
    assert_string_equal(norm("۴۵", MATCH_KIND_GIVEN), "45");
    /* stray spaces and zero-width marks */
    assert_string_equal(norm("  محمد\xe2\x80\x8c ", MATCH_KIND_GIVEN), "محمد");
}

static void test_normalize_compounds(void **state)
{
    (void)state;
    assert_string_equal(norm("عبد الرحمن", MATCH_KIND_GIVEN), "عبدالرحمن");
    assert_string_equal(norm("عبدالرحمن", MATCH_KIND_GIVEN), "عبدالرحمن");
    assert_string_equal(norm("أبو بكر", MATCH_KIND_GIVEN), "ابوبكر");
    assert_string_equal(norm("ابو علي", MATCH_KIND_FAMILY), "ابوعلي");
    assert_string_equal(norm("نور الدين", MATCH_KIND_GIVEN), "نورالدين");
    assert_string_equal(norm("صلاح الدين", MATCH_KIND_GIVEN), "صلاحالدين");
    assert_string_equal(norm("جار الله", MATCH_KIND_GIVEN), "جارالله");
    /* bin / ibn / bint are separators */
    assert_string_equal(norm("محمد بن سلمان", MATCH_KIND_GIVEN), "محمدسلمان");
    assert_string_equal(norm("Khalid bin Walid", MATCH_KIND_GIVEN), "khalidwalid");
    /* the article is optional in family and place names only */
    assert_string_equal(norm("الخطيب", MATCH_KIND_FAMILY), "خطيب");
    assert_string_equal(norm("خطيب", MATCH_KIND_FAMILY), "خطيب");
    assert_string_equal(norm("الياس", MATCH_KIND_GIVEN), "الياس");
    assert_string_equal(norm("البصرة", MATCH_KIND_PLACE), norm("بصره", MATCH_KIND_PLACE));
}

static void test_normalize_latin(void **state)
{
    (void)state;
    assert_string_equal(norm("Al-Khatib", MATCH_KIND_FAMILY), "khatib");
    assert_string_equal(norm("El Khatib", MATCH_KIND_FAMILY), "khatib");
    assert_string_equal(norm("Alkhatib", MATCH_KIND_FAMILY), "khatib");
    assert_string_equal(norm("AL-HAMMADI", MATCH_KIND_FAMILY), "hammadi");
    assert_string_equal(norm("Sa'id", MATCH_KIND_GIVEN), "said");
    assert_string_equal(norm("José", MATCH_KIND_GIVEN), "jose");
    assert_string_equal(norm("Abd al-Rahman", MATCH_KIND_GIVEN), "abdalrahman");
    assert_string_equal(norm("Nour El Din", MATCH_KIND_GIVEN), "noureldin");
}

static void test_cross_script(void **state)
{
    (void)state;
    const char *mhmd[] = {"محمد", "Mohammed", "Muhammad", "Mohamed", "Mohammad"};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(skel(mhmd[i], MATCH_KIND_GIVEN), "mhmd");
    }
    const char *khatib[] = {"الخطيب", "Al-Khatib", "Alkhatib", "El Khatib", "Khatib"};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(skel(khatib[i], MATCH_KIND_FAMILY), "xtb");
    }
    static const char *pairs[][2] = {
        {"عبد الرحمن", "Abdelrahman"}, {"عبد الرحمن", "Abd al-Rahman"},
        {"نور الدين", "Noureddine"},   {"نور الدين", "Nour al-Din"},
        {"وائل", "Wael"},              {"فاطمة", "Fatima"},
        {"صالح", "Saleh"},             {"هيثم", "Haitham"},
        {"مصطفى", "Moustafa"},         {"قاسم", "Qasim"},
        {"قاسم", "Kassem"},            {"عائشة", "Aicha"},
        {"يوسف", "Youssef"},           {"عبد القادر", "Abdulqader"},
        {"عبد العزيز", "Abdelaziz"},   {"خالد", "Khaled"},
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        char a[MATCH_NAME_MAX + 1];
        snprintf(a, sizeof(a), "%s", skel(pairs[i][0], MATCH_KIND_GIVEN));
        assert_string_equal(a, skel(pairs[i][1], MATCH_KIND_GIVEN));
    }
    /* different names keep different skeletons */
    char a[MATCH_NAME_MAX + 1];
    snprintf(a, sizeof(a), "%s", skel("عبد الله", MATCH_KIND_GIVEN));
    assert_string_not_equal(a, skel("عبد العزيز", MATCH_KIND_GIVEN));
}

static void test_normalize_nasty(void **state)
{
    (void)state;
    struct match_norm n;
    match_normalize("", 0, MATCH_KIND_GIVEN, false, &n);
    assert_int_equal(n.n_norm, 0);
    assert_int_equal(n.script, MATCH_SCRIPT_NONE);
    match_normalize("\xff\xfe\xc3", 3, MATCH_KIND_GIVEN, false, &n); /* invalid UTF-8 */
    assert_int_equal(n.n_norm, 0);
    match_normalize("!!! --- ...", 11, MATCH_KIND_FAMILY, false, &n);
    assert_int_equal(n.n_norm, 0);
    /* a huge name is cut, never overflows */
    size_t big = 1 << 20;
    char *s = malloc(big);
    for (size_t i = 0; i + 1 < big; i += 2) {
        s[i] = (char)0xd9;
        s[i + 1] = (char)0x85; /* م */
    }
    match_normalize(s, big, MATCH_KIND_GIVEN, true, &n);
    assert_true(n.n_norm <= MATCH_NAME_MAX);
    free(s);
    /* mixed scripts split into words; the mother's family name goes to rest */
    match_normalize("رغد ضاهر", strlen("رغد ضاهر"), MATCH_KIND_GIVEN, true, &n);
    assert_int_equal(n.n_norm, 3);
    assert_int_equal(n.n_rest, 4);
    match_normalize("Samar محمد", strlen("Samar محمد"), MATCH_KIND_GIVEN, false, &n);
    assert_int_equal(n.script, MATCH_SCRIPT_LATIN);
}

static void test_jaro_winkler(void **state)
{
    (void)state;
    assert_true(fabs(match_jaro_winkler("martha", 6, "marhta", 6) - 0.9611) < 1e-3);
    assert_true(fabs(match_jaro_winkler("dwayne", 6, "duane", 5) - 0.84) < 1e-3);
    assert_true(fabs(match_jaro_winkler("", 0, "", 0) - 1.0) < 1e-9);
    assert_true(match_jaro_winkler("", 0, "abc", 3) == 0.0);
    assert_true(match_jaro_winkler("abc", 3, "xyz", 3) == 0.0);
    assert_true(fabs(match_jaro_winkler("a", 1, "a", 1) - 1.0) < 1e-9);
}

static void test_damerau(void **state)
{
    (void)state;
    assert_int_equal(match_damerau("abcd", 4, "abdc", 4, 3), 1); /* transposition */
    assert_int_equal(match_damerau("abc", 3, "abc", 3, 2), 0);
    assert_int_equal(match_damerau("abc", 3, "", 0, 5), 3);
    assert_int_equal(match_damerau("kitten", 6, "sitting", 7, 5), 3);
    assert_int_equal(match_damerau("kitten", 6, "sitting", 7, 1), 2); /* early exit: max + 1 */
    assert_int_equal(match_damerau("a", 1, "abcdef", 6, 2), 3);
}

static void test_token_set(void **state)
{
    (void)state;
    assert_true(fabs(match_token_set("rana khatib", 11, "khatib rana", 11) - 1.0) < 1e-9);
    assert_true(match_token_set("", 0, "rana", 4) == 0.0);
    assert_true(match_token_set("rana", 4, "rana khatib", 11) > 0.7);
}

/* Parses a date or fails the test. */
static struct match_date D(const char *s)
{
    struct match_date d;
    assert_int_equal(match_date_parse(s, strlen(s), &d), 0);
    return d;
}

static void test_dates(void **state)
{
    (void)state;
    struct match_date d;
    assert_int_equal(match_date_parse("2012-02-30", 10, &d), -1);
    assert_int_equal(match_date_parse("2012-13-01", 10, &d), -1);
    assert_int_equal(match_date_parse("12-01-2012", 10, &d), -1);
    assert_int_equal(match_date_parse("2011-02-29", 10, &d), -1);
    assert_int_equal(match_date_parse("2012-02-29", 10, &d), 0); /* leap day */
    assert_int_equal(match_date_parse("", 0, &d), 0);
    assert_int_equal(d.y, 0);
    assert_int_equal(match_date_compare(D("2012-03-04"), D("2012-03-04")), MATCH_DATE_EXACT);
    assert_int_equal(match_date_compare(D("2012-03-04"), D("2012-04-03")), MATCH_DATE_CLOSE);
    assert_int_equal(match_date_compare(D("2012-03-04"), D("2013-03-04")), MATCH_DATE_CLOSE);
    assert_int_equal(match_date_compare(D("2012-03-04"), D("2012-03-08")), MATCH_DATE_CLOSE);
    assert_int_equal(match_date_compare(D("2012-12-30"), D("2013-01-02")), MATCH_DATE_CLOSE);
    assert_int_equal(match_date_compare(D("2012-01-01"), D("2012-07-19")), MATCH_DATE_EST);
    assert_int_equal(match_date_compare(D("2012-03-04"), D("2013-09-19")), MATCH_DATE_NEAR);
    assert_int_equal(match_date_compare(D("2012-03-04"), D("2016-03-05")), MATCH_DATE_DIFF);
    assert_int_equal(match_date_compare(D("2012-03-04"), (struct match_date){0, 0, 0}), -1);
}

/* Builds a set from rows of 9 columns. */
static void make_set(struct match_set *set, const char *rows[][MATCH_N_COLS], size_t n)
{
    struct match_input *in = calloc(n, sizeof(*in));
    for (size_t r = 0; r < n; r++) {
        for (int c = 0; c < MATCH_N_COLS; c++) {
            in[r].val[c] = rows[r][c];
            in[r].len[c] = rows[r][c] ? strlen(rows[r][c]) : 0;
        }
    }
    match_set_build(set, in, n, 2);
    free(in);
}

static const char *family_rows[][MATCH_N_COLS] = {
    /* 0, 1: the same child, spelled differently, one in Latin letters */
    {"a1", "أحمد", "محمد", "علي", "الخطيب", "فاطمة", "M", "2012-03-04", "حلب"},
    {"a2", "Ahmed", "Mohammed", "Ali", "Al-Khatib", "Fatima", "M", "2012-04-03", "Halab"},
    /* 2: his brother */
    {"b1", "يوسف", "محمد", "علي", "الخطيب", "فاطمة", "M", "2014-08-10", "حلب"},
    /* 3: his twin sister */
    {"c1", "مريم", "محمد", "علي", "الخطيب", "فاطمة", "F", "2012-03-04", "حلب"},
    /* 4: his cousin with the same first name */
    {"d1", "أحمد", "خالد", "علي", "الخطيب", "سعاد", "M", "2011-05-06", "حلب"},
    /* 5: the first and father's names swapped */
    {"a3", "محمد", "احمد", "علي", "خطيب", "فاطمه", "M", "2012-03-04", ""},
};

static void test_scoring_hard_negatives(void **state)
{
    (void)state;
    struct match_set set;
    make_set(&set, family_rows, 6);
    struct match_model m;
    match_model_init(&m);
    double same = match_score(&m, &set, 0, 1, NULL);
    double swapped = match_score(&m, &set, 0, 5, NULL);
    double brother = match_score(&m, &set, 0, 2, NULL);
    double twin = match_score(&m, &set, 0, 3, NULL);
    double cousin = match_score(&m, &set, 0, 4, NULL);
    assert_true(same >= m.threshold);
    assert_true(swapped >= m.threshold);
    assert_true(brother < m.threshold);
    assert_true(twin < m.threshold);
    assert_true(cousin < m.threshold);
    struct match_explain ex;
    match_score(&m, &set, 0, 3, &ex);
    assert_true(ex.guard);
    match_score(&m, &set, 0, 5, &ex);
    assert_true(ex.swapped);
    struct buf out = BUF_INIT;
    match_explain_text(&m, &set, 0, 1, &out);
    assert_non_null(strstr(out.buf, "first_name"));
    assert_non_null(strstr(out.buf, "same child"));
    buf_release(&out);
    match_set_release(&set);
}

static void test_term_frequency(void **state)
{
    (void)state;
    /* 60 records; "محمد" is common, "نزار" rare: agreeing on the rare one counts more */
    const char *(*rows)[MATCH_N_COLS] = calloc(60, sizeof(*rows));
    char ids[60][16];
    for (int i = 0; i < 60; i++) {
        snprintf(ids[i], sizeof(ids[i]), "r%d", i);
        rows[i][0] = ids[i];
        rows[i][1] = i < 40 ? "محمد" : (i < 42 ? "نزار" : "سعيد");
        rows[i][2] = "خالد";
        rows[i][7] = "2012-03-04";
    }
    struct match_set set;
    make_set(&set, rows, 60);
    struct match_model m;
    match_model_init(&m);
    m.u_exact_tf[MF_FIRST] = 0.1;
    struct match_explain common, rare;
    match_score(&m, &set, 0, 1, &common);
    match_score(&m, &set, 40, 41, &rare);
    assert_true(rare.term[MF_FIRST].weight > common.term[MF_FIRST].weight);
    assert_true(common.term[MF_FIRST].tf_adjust < 0);
    match_set_release(&set);
    free(rows);
}

static void test_em_known_parameters(void **state)
{
    (void)state;
    /* draw vectors from a known two-class model and recover m and lambda */
    const double lambda = 0.3;
    const double m_true[3][5] = {{0.05, 0.05, 0.1, 0.8}, {0.05, 0.95}, {0.05, 0.05, 0.1, 0.2, 0.6}};
    const double u_true[3][5] = {{0.9, 0.05, 0.03, 0.02}, {0.5, 0.5},
                                 {0.8, 0.15, 0.02, 0.02, 0.01}};
    const int fields[3] = {MF_FIRST, MF_SEX, MF_DOB};
    size_t n = 40000;
    struct match_cmp *cmp = calloc(n, sizeof(*cmp));
    uint64_t s = 42;
    for (size_t i = 0; i < n; i++) {
        memset(cmp[i].level, -1, sizeof(cmp[i].level));
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        bool match = (double)(s >> 11) / 9007199254740992.0 < lambda;
        for (int f = 0; f < 3; f++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            double r = (double)(s >> 11) / 9007199254740992.0, acc = 0;
            int nl = match_field_levels[fields[f]];
            int l = nl - 1;
            for (int k = 0; k < nl; k++) {
                acc += match ? m_true[f][k] : u_true[f][k];
                if (r < acc) {
                    l = k;
                    break;
                }
            }
            cmp[i].level[fields[f]] = (int8_t)l;
        }
    }
    struct match_model m;
    match_model_init(&m);
    bool learn[MF_COUNT] = {false};
    for (int f = 0; f < 3; f++) {
        learn[fields[f]] = true;
        memcpy(m.u[fields[f]], u_true[f], sizeof(u_true[f]));
    }
    m.lambda = 0.5;
    int it = match_em(&m, cmp, n, learn, 200);
    assert_true(it > 1);
    assert_true(fabs(m.lambda - lambda) < 0.03);
    for (int f = 0; f < 3; f++) {
        for (int k = 0; k < match_field_levels[fields[f]]; k++) {
            assert_true(fabs(m.m[fields[f]][k] - m_true[f][k]) < 0.04);
        }
    }
    free(cmp);
}

static void test_cluster_resists_chains(void **state)
{
    (void)state;
    struct match_set set;
    make_set(&set, family_rows, 6);
    struct match_model m;
    match_model_init(&m);
    /* a chain: 0~1 (same child) and 1~3 (forced high), but 0 and 3 are twins */
    struct match_pair pairs[2] = {{0, 1, 30.0f}, {1, 3, 20.0f}};
    uint32_t cl[6];
    match_cluster(&m, &set, pairs, 2, m.threshold, m.threshold - 12, cl);
    assert_int_equal(cl[0], cl[1]);
    assert_int_not_equal(cl[0], cl[3]);
    assert_int_equal(cl[2], 2); /* alone: its own cluster */
    match_set_release(&set);
}

static void test_dedup_end_to_end(void **state)
{
    (void)state;
    struct match_set set;
    make_set(&set, family_rows, 6);
    struct match_dedup d;
    match_dedup_init(&d);
    d.n_threads = 2;
    match_dedup_run(&d, &set);
    assert_true(d.n_candidates > 0);
    assert_int_equal(d.cluster[1], d.cluster[0]);
    assert_int_equal(d.cluster[5], d.cluster[0]);
    assert_int_not_equal(d.cluster[2], d.cluster[0]);
    assert_int_not_equal(d.cluster[3], d.cluster[0]);
    assert_int_not_equal(d.cluster[4], d.cluster[0]);
    match_dedup_release(&d);
    match_set_release(&set);
}

static void test_clk(void **state)
{
    (void)state;
    unsigned char secret[32], other[32];
    for (int i = 0; i < 32; i++) {
        secret[i] = (unsigned char)i;
        other[i] = (unsigned char)(i + 1);
    }
    struct match_clk_key k1, k2;
    struct err e;
    err_clear(&e);
    assert_int_equal(match_clk_key_init(&k1, secret, 31, &e), -1);
    assert_non_null(strstr(e.msg, "too short"));
    assert_int_equal(match_clk_key_init(&k1, secret, 32, &e), 0);
    assert_int_equal(match_clk_key_init(&k2, other, 32, &e), 0);
    struct match_set set;
    make_set(&set, family_rows, 6);
    uint64_t a[MATCH_CLK_WORDS], a2[MATCH_CLK_WORDS], b[MATCH_CLK_WORDS];
    uint64_t x[MATCH_CLK_WORDS], sib[MATCH_CLK_WORDS];
    match_clk_encode(&k1, &set, 0, a);
    match_clk_encode(&k1, &set, 0, a2);
    assert_memory_equal(a, a2, sizeof(a)); /* same input and key: same encoding */
    match_clk_encode(&k2, &set, 0, x);
    int pa = match_clk_popcount(a), px = match_clk_popcount(x);
    assert_true(pa > MATCH_CLK_BITS / 4 && pa < 3 * MATCH_CLK_BITS / 4);
    assert_true(match_clk_dice(a, pa, x, px) < 0.65); /* another key: unrelated */
    match_clk_encode(&k1, &set, 1, b);
    match_clk_encode(&k1, &set, 2, sib);
    double d_same = match_clk_dice(a, pa, b, match_clk_popcount(b));
    double d_sib = match_clk_dice(a, pa, sib, match_clk_popcount(sib));
    assert_true(d_same > d_sib);
    /* base64 round trip */
    char b64[MATCH_CLK_B64_LEN + 1];
    match_clk_to_base64(a, b64);
    assert_int_equal(strlen(b64), MATCH_CLK_B64_LEN);
    assert_int_equal(match_clk_from_base64(b64, strlen(b64), a2), 0);
    assert_memory_equal(a, a2, sizeof(a));
    b64[5] = '*';
    assert_int_equal(match_clk_from_base64(b64, strlen(b64), a2), -1);
    assert_int_equal(match_clk_from_base64("abc", 3, a2), -1);
    /* scan agrees with dice */
    uint16_t pb[2] = {(uint16_t)match_clk_popcount(b), (uint16_t)match_clk_popcount(sib)};
    uint64_t B[2 * MATCH_CLK_WORDS];
    memcpy(B, b, sizeof(b));
    memcpy(B + MATCH_CLK_WORDS, sib, sizeof(sib));
    size_t want = (d_same >= 0.5) + (d_sib >= 0.5);
    assert_int_equal(match_clk_scan(a, pa, B, pb, 2, 0.5), want);
    match_clk_key_wipe(&k1);
    match_clk_key_wipe(&k2);
    match_set_release(&set);
}

/* Parses text as CSV; returns the result code and fills msg. */
static int parse_text(const char *text, struct match_csv *csv, char *msg, size_t cap)
{
    size_t n = strlen(text);
    char *data = malloc(n + 1);
    memcpy(data, text, n + 1);
    struct err e;
    err_clear(&e);
    int rc = match_csv_parse(csv, data, n, 64, "t.csv", &e);
    snprintf(msg, cap, "%s", e.msg);
    return rc;
}

static void test_csv(void **state)
{
    (void)state;
    struct match_csv csv;
    char msg[300];
    assert_int_equal(parse_text("a,b\r\n1,\"x,\"\"y\"\"\"\n\n2,\n", &csv, msg, sizeof(msg)), 0);
    assert_int_equal(csv.n_cols, 2);
    assert_int_equal(csv.n_rows, 2);
    assert_string_equal(match_csv_cell(&csv, 0, 1, NULL), "x,\"y\"");
    assert_string_equal(match_csv_cell(&csv, 1, 1, NULL), "");
    match_csv_release(&csv);
    assert_int_equal(parse_text("\xEF\xBB\xBFid\n7", &csv, msg, sizeof(msg)), 0);
    assert_string_equal(csv.header[0], "id");
    assert_string_equal(match_csv_cell(&csv, 0, 0, NULL), "7");
    match_csv_release(&csv);
    assert_int_equal(parse_text("", &csv, msg, sizeof(msg)), -1);
    assert_non_null(strstr(msg, "empty file"));
    assert_int_equal(parse_text("a,b\n1,2\n3\n", &csv, msg, sizeof(msg)), -1);
    assert_string_equal(msg, "'t.csv' row 3: 1 fields, the header has 2");
    assert_int_equal(parse_text("a,b\n1,\xff\n", &csv, msg, sizeof(msg)), -1);
    assert_string_equal(msg, "'t.csv' row 2: invalid UTF-8 in column 'b'");
    assert_int_equal(parse_text("a\n\"open\n", &csv, msg, sizeof(msg)), -1);
    assert_non_null(strstr(msg, "unterminated quote"));
    assert_int_equal(parse_text("a\n0123456789012345678901234567890123456789012345678901234567890"
                                "123456789\n",
                                &csv, msg, sizeof(msg)),
                     -1);
    assert_non_null(strstr(msg, "value too long in column 'a'"));
}

static void test_generator(void **state)
{
    (void)state;
    const struct match_gen_profile *p = match_gen_profile_find("dev");
    assert_non_null(p);
    assert_null(match_gen_profile_find("nope"));
    char *d1 = NULL, *d2 = NULL;
    size_t n1, n2;
    FILE *f1 = open_memstream(&d1, &n1), *f2 = open_memstream(&d2, &n2);
    assert_int_equal(match_gen_write(p, 200, 5, f1, NULL), 0);
    assert_int_equal(match_gen_write(p, 200, 5, f2, NULL), 0);
    fclose(f1);
    fclose(f2);
    assert_int_equal(n1, n2);
    assert_memory_equal(d1, d2, n1); /* deterministic */
    size_t lines = 0;
    for (size_t i = 0; i < n1; i++) {
        lines += d1[i] == '\n';
    }
    assert_int_equal(lines, 201);
    free(d1);
    free(d2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_arabic_rules),
        cmocka_unit_test(test_normalize_compounds),
        cmocka_unit_test(test_normalize_latin),
        cmocka_unit_test(test_cross_script),
        cmocka_unit_test(test_normalize_nasty),
        cmocka_unit_test(test_jaro_winkler),
        cmocka_unit_test(test_damerau),
        cmocka_unit_test(test_token_set),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_scoring_hard_negatives),
        cmocka_unit_test(test_term_frequency),
        cmocka_unit_test(test_em_known_parameters),
        cmocka_unit_test(test_cluster_resists_chains),
        cmocka_unit_test(test_dedup_end_to_end),
        cmocka_unit_test(test_clk),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_generator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
