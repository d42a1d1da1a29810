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

/* Brothers named محمد and محمود (one edit apart) in one household. */
static const char *brother_rows[][MATCH_N_COLS] = {
    {"m1", "محمد", "خالد", "علي", "الخطيب", "فاطمة", "M", "2012-03-04", "حلب"},
    {"m2", "محمود", "خالد", "علي", "الخطيب", "فاطمة", "M", "2016-09-21", "حلب"},
    /* the first of them again, misspelt, with the date a few days off */
    {"m3", "محمدد", "خالد", "علي", "الخطيب", "فاطمة", "M", "2012-03-06", "حلب"},
};

static void test_sibling_guard(void **state)
{
    (void)state;
    struct match_set set;
    make_set(&set, brother_rows, 3);
    struct match_model m;
    match_model_init(&m);
    struct match_explain ex;
    double brothers = match_score(&m, &set, 0, 1, &ex);
    assert_true(brothers < m.threshold);
    assert_true(ex.guard);
    assert_true(ex.household_used <= m.household_cap * MATCH_SIBLING_GUARD + 1e-9);
    double same = match_score(&m, &set, 0, 2, &ex);
    assert_true(same >= m.threshold);
    assert_false(ex.guard);
    match_set_release(&set);
}

static void test_bound_disagreement(void **state)
{
    (void)state;
    struct match_model m;
    match_model_init(&m);
    /* what EM learns when siblings enter its match class */
    const double dob[5] = {0.40, 0.10, 0.05, 0.15, 0.30};
    memcpy(m.m[MF_DOB], dob, sizeof(dob));
    m.m[MF_FATHER][0] = 0.30; /* household fields are not bounded */
    match_model_bound_disagreement(&m);
    assert_true(m.m[MF_DOB][0] <= 0.05);
    double sum = 0;
    for (int l = 0; l < match_field_levels[MF_DOB]; l++) {
        sum += m.m[MF_DOB][l];
    }
    assert_true(fabs(sum - 1.0) < 1e-9);
    assert_true(m.m[MF_DOB][MATCH_DATE_EXACT] > m.m[MF_DOB][MATCH_DATE_CLOSE]); /* order kept */
    assert_true(fabs(m.m[MF_FATHER][0] - 0.30) < 1e-12);
    match_model_weights(&m);
    assert_true(m.w[MF_DOB][MATCH_DATE_DIFF] < -4.0); /* a different date weighs */
}

/* Rows for the blocking keys. */
static const char *key_rows[][MATCH_N_COLS] = {
    {"k1", "آية", "فراس", "قصي", "زهران", "ياسمين", "F", "2013-06-05", "البصرة"},
    /* the same child: first and father's names swapped */
    {"k2", "فراس", "آية", "قصي", "زهران", "ياسمين", "F", "2013-06-05", ""},
    /* the same child: a year off, household fields missing */
    {"k3", "اية", "فراس", "", "", "", "F", "2014-06-05", ""},
    /* nothing to block on */
    {"k4", "", "", "", "", "", "", "", ""},
};

static void test_blocking_keys(void **state)
{
    (void)state;
    struct match_set set;
    make_set(&set, key_rows, 4);
    uint64_t k[4][MATCH_N_KEYS];
    for (int i = 0; i < 4; i++) {
        match_block_keys(&set, (size_t)i, k[i]);
    }
    /* a first name without consonants (آية) still makes keys */
    assert_true(k[0][0] > 1);
    /* the swap keeps the keys built on both names */
    assert_true(k[0][0] == k[1][0]);
    assert_true(k[0][1] == k[1][1]);
    /* a year off: first and father's names with day and month */
    assert_true(k[0][9] > 1 && k[0][9] == k[2][9]);
    assert_true(k[0][1] != k[2][1]);
    for (int j = 0; j < MATCH_N_KEYS; j++) {
        assert_true(k[3][j] == 0);
    }
    /* every pair of the same child is a candidate, the empty record none */
    struct match_dedup d;
    match_dedup_init(&d);
    d.n_threads = 2;
    d.threshold = -1000;
    assert_int_equal(match_dedup_run(&d, &set), 0);
    assert_int_equal(d.n_candidates, 3);
    match_dedup_release(&d);
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
    /* field by field: the same child across scripts is close on the first
     * name (skeleton) and the date (day and month swapped); his brother
     * differs on the first name and the date */
    uint8_t ca[MATCH_CLK_N_SEGS], cb[MATCH_CLK_N_SEGS], cs[MATCH_CLK_N_SEGS];
    match_clk_seg_counts(a, ca);
    match_clk_seg_counts(b, cb);
    match_clk_seg_counts(sib, cs);
    struct match_cmp cmp;
    match_clk_compare(a, ca, b, cb, &cmp);
    assert_int_equal(cmp.level[MF_FIRST], MATCH_NAME_CLOSE);
    assert_int_equal(cmp.level[MF_FAMILY], MATCH_NAME_CLOSE);
    assert_int_equal(cmp.level[MF_SEX], 1);
    assert_int_equal(cmp.level[MF_DOB], MATCH_DATE_CLOSE);
    match_clk_compare(a, ca, sib, cs, &cmp);
    assert_int_equal(cmp.level[MF_FIRST], MATCH_NAME_DIFF);
    assert_int_equal(cmp.level[MF_FATHER], MATCH_NAME_EXACT);
    assert_int_equal(cmp.level[MF_FAMILY], MATCH_NAME_EXACT);
    assert_int_equal(cmp.level[MF_PLACE], MATCH_NAME_EXACT);
    assert_true(cmp.level[MF_DOB] <= MATCH_DATE_NEAR);
    /* the first and father's names swapped (row 5) are found */
    uint64_t sw[MATCH_CLK_WORDS];
    uint8_t csw[MATCH_CLK_N_SEGS];
    match_clk_encode(&k1, &set, 5, sw);
    match_clk_seg_counts(sw, csw);
    match_clk_compare(a, ca, sw, csw, &cmp);
    assert_true(cmp.swapped);
    assert_int_equal(cmp.level[MF_FIRST], MATCH_NAME_EXACT);
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
    double d_same = match_clk_dice(a, pa, b, match_clk_popcount(b));
    double d_sib = match_clk_dice(a, pa, sib, match_clk_popcount(sib));
    size_t want = (d_same >= 0.5) + (d_sib >= 0.5);
    assert_int_equal(match_clk_scan(a, pa, B, pb, 2, 0.5), want);
    match_clk_key_wipe(&k1);
    match_clk_key_wipe(&k2);
    match_set_release(&set);
}

/* Rows for the per-segment encoding tests. */
static const char *seg_rows[][MATCH_N_COLS] = {
    {"s1", "عبد الرحمن", "محمد", "علي", "الخطيب", "فاطمة الحسن", "M", "2012-03-04", "حلب"},
    /* the same, only the first name differs */
    {"s2", "نزار", "محمد", "علي", "الخطيب", "فاطمة الحسن", "M", "2012-03-04", "حلب"},
    /* everything but the first name missing; a year-only date */
    {"s3", "نزار", "", "", "", "", "", "2012-01-01", ""},
    /* a name of one letter, Latin, and a year off by one */
    {"s4", "A", "Mohammed", "Ali", "Al-Khatib", "Fatima", "F", "2013-03-04", "Halab"},
};

static void test_clk_segments(void **state)
{
    (void)state;
    unsigned char secret[40], other[40];
    for (int i = 0; i < 40; i++) {
        secret[i] = (unsigned char)(3 * i + 1);
        other[i] = (unsigned char)(3 * i + 2);
    }
    struct match_clk_key k1, k2;
    struct err e;
    err_clear(&e);
    assert_int_equal(match_clk_key_init(&k1, secret, 40, &e), 0);
    assert_int_equal(match_clk_key_init(&k2, other, 40, &e), 0);
    struct match_set set;
    make_set(&set, seg_rows, 4);
    uint64_t x[4][MATCH_CLK_WORDS], y[MATCH_CLK_WORDS];
    uint8_t c[4][MATCH_CLK_N_SEGS], cy[MATCH_CLK_N_SEGS];
    for (int i = 0; i < 4; i++) {
        match_clk_encode(&k1, &set, (size_t)i, x[i]);
        match_clk_seg_counts(x[i], c[i]);
    }
    /* the layout covers the 1024 bits exactly once */
    unsigned covered = 0;
    for (int g = 0; g < MATCH_CLK_N_SEGS; g++) {
        covered += match_clk_segments[g].bits;
        unsigned align = match_clk_segments[g].bits < 64 ? match_clk_segments[g].bits : 64;
        assert_int_equal(match_clk_segments[g].off % align, 0);
    }
    assert_int_equal(covered, MATCH_CLK_BITS);
    /* balance: every present segment of record 0 is about half full */
    for (int g = 0; g < MATCH_CLK_N_SEGS; g++) {
        unsigned w = match_clk_segments[g].bits;
        assert_true(c[0][g] >= w / 4 && c[0][g] <= 3 * w / 4);
    }
    /* another key: every segment unrelated (Dice near that of chance) */
    match_clk_encode(&k2, &set, 0, y);
    match_clk_seg_counts(y, cy);
    for (int g = 0; g < MATCH_CLK_N_SEGS; g++) {
        if (g == MATCH_SEG_SEX) {
            continue; /* 32 bits of one token: chance overlap varies too much */
        }
        assert_true(match_clk_seg_dice(x[0], c[0], y, cy, g) < 0.85);
    }
    /* a different first name changes only the first name's segments */
    for (int g = 0; g < MATCH_CLK_N_SEGS; g++) {
        double d = match_clk_seg_dice(x[0], c[0], x[1], c[1], g);
        if (g == MATCH_SEG_FIRST_N || g == MATCH_SEG_FIRST_S) {
            assert_true(d < 0.8);
        } else {
            assert_true(d > 0.999);
        }
    }
    /* missing fields leave empty segments, compared as missing */
    assert_int_equal(c[2][MATCH_SEG_FATHER_N], 0);
    assert_int_equal(c[2][MATCH_SEG_PLACE], 0);
    assert_int_equal(c[2][MATCH_SEG_SEX], 0);
    assert_int_equal(c[2][MATCH_SEG_MONTH_DAY], 0); /* 1 January: only the year */
    assert_true(c[2][MATCH_SEG_YEAR] > 0);
    assert_true(match_clk_seg_dice(x[1], c[1], x[2], c[2], MATCH_SEG_PLACE) < 0);
    struct match_cmp cmp;
    match_clk_compare(x[1], c[1], x[2], c[2], &cmp);
    assert_int_equal(cmp.level[MF_FIRST], MATCH_NAME_EXACT);
    assert_int_equal(cmp.level[MF_FATHER], -1);
    assert_int_equal(cmp.level[MF_SEX], -1);
    assert_int_equal(cmp.level[MF_DOB], MATCH_DATE_EST);
    /* across scripts, a one-letter name, another sex, a year off */
    match_clk_compare(x[0], c[0], x[3], c[3], &cmp);
    assert_true(cmp.level[MF_FATHER] >= MATCH_NAME_CLOSE);
    assert_true(cmp.level[MF_GRANDFATHER] >= MATCH_NAME_CLOSE);
    assert_true(cmp.level[MF_FAMILY] >= MATCH_NAME_CLOSE);
    assert_int_equal(cmp.level[MF_SEX], 0);
    assert_int_equal(cmp.level[MF_DOB], MATCH_DATE_CLOSE);
    /* an empty encoding compares as all missing */
    uint64_t z[MATCH_CLK_WORDS] = {0};
    uint8_t cz[MATCH_CLK_N_SEGS];
    match_clk_seg_counts(z, cz);
    match_clk_compare(x[0], c[0], z, cz, &cmp);
    for (int f = 0; f < MF_COUNT; f++) {
        assert_int_equal(cmp.level[f], -1);
    }
    match_clk_key_wipe(&k1);
    match_clk_key_wipe(&k2);
    match_set_release(&set);
}

/* Links generated data through encodings: one-to-one, mostly right. */
static void test_clk_link(void **state)
{
    (void)state;
    /* the family rows: a1 in A; a2 (same child), b1, c1, d1 in B */
    struct match_set set;
    make_set(&set, family_rows, 6);
    unsigned char secret[32];
    memset(secret, 0x5a, sizeof(secret));
    struct match_clk_key k;
    struct err e;
    err_clear(&e);
    assert_int_equal(match_clk_key_init(&k, secret, 32, &e), 0);
    uint64_t A[MATCH_CLK_WORDS], B[4 * MATCH_CLK_WORDS];
    match_clk_encode(&k, &set, 0, A);
    for (int i = 0; i < 4; i++) {
        match_clk_encode(&k, &set, (size_t)i + 1, B + i * MATCH_CLK_WORDS);
    }
    struct match_link l;
    memset(&l, 0, sizeof(l));
    l.threshold = 0.5;
    l.n_threads = 2;
    assert_int_equal(match_link_run(&l, A, 1, B, 4, NULL, NULL), 0);
    assert_false(l.em_used); /* a handful of records: prior weights */
    assert_int_equal(l.n_pairs, 1);
    assert_int_equal(l.pairs[0].a, 0);
    assert_int_equal(l.pairs[0].b, 0); /* a2, not the brother, twin or cousin */
    assert_true(l.pairs[0].score >= 0.5 && l.pairs[0].score <= 1.0);
    match_link_release(&l);
    /* nothing on one side: no pairs */
    memset(&l, 0, sizeof(l));
    l.threshold = 0.5;
    l.n_threads = 1;
    assert_int_equal(match_link_run(&l, A, 1, B, 0, NULL, NULL), 0);
    assert_int_equal(l.n_pairs, 0);
    match_link_release(&l);
    match_clk_key_wipe(&k);
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
    /* national name frequencies: محمد is the most common boy's name, and
     * the tail is long (hundreds of names) */
    char *d3 = NULL;
    size_t n3;
    FILE *f3 = open_memstream(&d3, &n3);
    assert_int_equal(match_gen_write(p, 20000, 11, f3, NULL), 0);
    fclose(f3);
    size_t mohammed = 0, ahmed = 0, nizar = 0;
    char seen[64][64];
    size_t n_seen = 0;
    for (char *line = strchr(d3, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        const char *first = strchr(line + 1, ',') + 1;
        size_t len = strcspn(first, ",");
        mohammed += len == strlen("محمد") && memcmp(first, "محمد", len) == 0;
        ahmed += len == strlen("أحمد") && memcmp(first, "أحمد", len) == 0;
        nizar += len == strlen("نزار") && memcmp(first, "نزار", len) == 0;
        if (n_seen < 64 && len < 64) {
            bool known = false;
            for (size_t k = 0; k < n_seen; k++) {
                known |= strlen(seen[k]) == len && memcmp(seen[k], first, len) == 0;
            }
            if (!known) {
                memcpy(seen[n_seen], first, len);
                seen[n_seen++][len] = '\0';
            }
        }
    }
    assert_true(mohammed > ahmed);
    assert_true(ahmed > nizar);
    assert_true(mohammed > 20000 / 40); /* several percent of all children */
    assert_int_equal(n_seen, 64);      /* many distinct first names */
    free(d3);
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
        cmocka_unit_test(test_sibling_guard),
        cmocka_unit_test(test_bound_disagreement),
        cmocka_unit_test(test_blocking_keys),
        cmocka_unit_test(test_term_frequency),
        cmocka_unit_test(test_em_known_parameters),
        cmocka_unit_test(test_cluster_resists_chains),
        cmocka_unit_test(test_dedup_end_to_end),
        cmocka_unit_test(test_clk),
        cmocka_unit_test(test_clk_segments),
        cmocka_unit_test(test_clk_link),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_generator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
