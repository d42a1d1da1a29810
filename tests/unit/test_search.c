/*
 * test_search.c: children search and possible duplicates (src/children/search.c)
 * against a real database: SANAD_TEST_DB (e.g. from scripts/pg-test), else a
 * temporary SQLite file. Children are inserted with SQL and indexed with
 * children_index_names, as child_create will. Every run uses new
 * organizations, so a shared PostgreSQL database is fine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "children/children.h"
#include "children/search.h"
#include "core/time.h"
#include "core/uuid.h"
#include "core/xalloc.h"
#include "db/db.h"
#include "core/banned.h"

static char g_url[512];     /* the database under test */
static char g_path[256];    /* the temporary SQLite file, "" when not ours */
static struct db *g_db;     /* the connection */
static char g_org[40];      /* organization A */
static char g_org_b[40];    /* organization B */
static struct actor g_a;    /* acting for A */
static struct actor g_b;    /* acting for B */
static int g_file_no;       /* counter for file numbers */

/* Runs sql with the string arguments (NULL binds NULL); fails the test on error. */
static void run(const char *sql, int n, const char *const *args)
{
    struct err e;
    err_clear(&e);
    struct db_stmt *s = db_prepare(g_db, sql, &e);
    if (!s) {
        fail_msg("prepare failed: %s (%.200s)", e.msg, sql);
    }
    for (int i = 0; i < n; i++) {
        db_bind_text(s, i + 1, args[i]);
    }
    if (db_step(s, &e) < 0) {
        fail_msg("step failed: %s (%.200s)", e.msg, sql);
    }
    db_done(s);
}

/* Creates an organization with a fresh id. */
static void make_org(char id[40])
{
    uuid_v7(id);
    char slug[64], now[32];
    snprintf(slug, sizeof(slug), "s-%.30s", id + 24);
    time_format_iso(time_now_ms(), now, sizeof(now));
    const char *args[] = {id, slug, "test org", now};
    run("INSERT INTO organizations (id, slug, name, active, created_at) VALUES ($1, $2, $3, 1, $4)",
        4, args);
}

/* A child to insert. */
struct kid {
    const char *first;       /* first_name */
    const char *father;      /* father_name */
    const char *grandfather; /* grandfather_name or NULL */
    const char *family;      /* family_name or NULL */
    const char *mother;      /* mother_name or NULL */
    const char *first_latin; /* first_name_latin or NULL */
    const char *sex;         /* "M"/"F", NULL for M */
    const char *birth;       /* birth_date, NULL for 2015-06-01 */
    const char *status;      /* NULL for registered */
    const char *governorate; /* or NULL */
    const char *needs;       /* comma list or NULL */
    const char *sponsored;   /* "1" or NULL */
    const char *file_no;     /* NULL for a generated one */
    const char *id_doc;      /* id_doc_number or NULL */
    const char *guardian;    /* guardian_id or NULL */
};

/* Inserts a child of org and indexes its names; writes its id. */
static void add_kid(const char *org, const struct kid *k, char id[40])
{
    struct err e;
    err_clear(&e);
    uuid_v7(id);
    char file[64], now[32];
    if (k->file_no) {
        snprintf(file, sizeof(file), "%s", k->file_no);
    } else {
        snprintf(file, sizeof(file), "T-2026-%06d", ++g_file_no);
    }
    time_format_iso(time_now_ms(), now, sizeof(now));
    assert_int_equal(db_begin(g_db, false, &e), 0);
    const char *args[] = {id,
                          org,
                          file,
                          k->first,
                          k->father,
                          k->grandfather,
                          k->family,
                          k->mother,
                          k->first_latin,
                          k->sex ? k->sex : "M",
                          k->birth ? k->birth : "2015-06-01",
                          k->status ? k->status : "registered",
                          k->governorate,
                          k->needs,
                          k->sponsored ? k->sponsored : "0",
                          k->id_doc,
                          k->guardian,
                          now};
    run("INSERT INTO children (id, org_id, file_no, first_name, father_name, grandfather_name, "
        "family_name, mother_name, first_name_latin, sex, birth_date, orphan_status, status, "
        "governorate, needs, sponsored, id_doc_number, guardian_id, created_by, created_at, "
        "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'father_deceased', $12, "
        "$13, $14, $15, $16, $17, 'test', $18, $18)",
        18, args);
    json_t *rec = json_pack("{s:s, s:s}", "first_name", k->first, "father_name", k->father);
    if (k->grandfather) {
        json_object_set_new(rec, "grandfather_name", json_string(k->grandfather));
    }
    if (k->family) {
        json_object_set_new(rec, "family_name", json_string(k->family));
    }
    if (k->mother) {
        json_object_set_new(rec, "mother_name", json_string(k->mother));
    }
    if (k->first_latin) {
        json_object_set_new(rec, "first_name_latin", json_string(k->first_latin));
    }
    if (children_index_names(g_db, org, id, rec, &e) != 0) {
        fail_msg("index: %s", e.msg);
    }
    json_decref(rec);
    assert_int_equal(db_commit(g_db, &e), 0);
}

/* A query with no filters, first page of 50. */
static struct child_query query(const char *q)
{
    struct child_query cq = {q, NULL, NULL, -1, -1, NULL, NULL, -1, NULL, 1, 50};
    return cq;
}

/* Runs a search for actor a; fails the test on error. Returns the result. */
static json_t *search_as(const struct actor *a, const struct child_query *q)
{
    struct err e;
    err_clear(&e);
    assert_int_equal(db_begin(g_db, true, &e), 0);
    json_t *r = children_search(g_db, a, q, &e);
    db_rollback(g_db);
    if (!r) {
        fail_msg("search '%s' failed: %s (%s)", q->q ? q->q : "(null)", e.msg, e.field);
    }
    return r;
}

/* True when the result holds the child id. */
static bool has_id(json_t *r, const char *id)
{
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(r, "items"), i, it) {
        if (strcmp(json_string_value(json_object_get(it, "id")), id) == 0) {
            return true;
        }
    }
    return false;
}

/* Asserts that searching q in A finds id (found) or not. */
static void expect(const char *q, const char *id, bool found)
{
    struct child_query cq = query(q);
    json_t *r = search_as(&g_a, &cq);
    if (has_id(r, id) != found) {
        fail_msg("search '%s' %s the child", q, found ? "did not find" : "found");
    }
    json_decref(r);
}

/* Runs a search expected to fail with ERR_INVALID on field. */
static void expect_invalid(const struct child_query *q, const char *field)
{
    struct err e;
    err_clear(&e);
    assert_int_equal(db_begin(g_db, true, &e), 0);
    json_t *r = children_search(g_db, &g_a, q, &e);
    db_rollback(g_db);
    assert_null(r);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_string_equal(e.field, field);
}

static void test_compounds(void **state)
{
    (void)state;
    char a[40], b[40], c[40], d[40];
    add_kid(g_org, &(struct kid){.first = "عبدالله", .father = "سمير"}, a);
    add_kid(g_org, &(struct kid){.first = "عبد الرحمن", .father = "سمير"}, b);
    add_kid(g_org, &(struct kid){.first = "هالة", .father = "سمير", .family = "أبو زيد",
                                 .sex = "F"}, c);
    add_kid(g_org, &(struct kid){.first = "نادين", .father = "سمير", .family = "ابوعلي",
                                 .sex = "F"}, d);
    expect("عبد الله", a, true);
    expect("عبدالله", a, true);
    expect("عبد الله سمير", a, true);
    expect("عبدالرحمن", b, true);
    expect("عبد الرحمن", b, true);
    expect("ابوزيد", c, true);
    expect("أبو زيد", c, true);
    expect("هالة ابو زيد", c, true);
    expect("أبو علي", d, true);
    expect("زيد", c, true); /* one word of a compound family name */
    expect("عبد الله", b, false);
}

static void test_letter_forms(void **state)
{
    (void)state;
    char a[40], b[40], c[40], d[40], e2[40], f[40], g[40];
    add_kid(g_org, &(struct kid){.first = "أحمد", .father = "إبراهيم"}, a);
    add_kid(g_org, &(struct kid){.first = "فاطمة", .father = "آدم", .sex = "F"}, b);
    add_kid(g_org, &(struct kid){.first = "مصطفى", .father = "يحيى"}, c);
    add_kid(g_org, &(struct kid){.first = "كريم", .father = "لؤي"}, d);
    add_kid(g_org, &(struct kid){.first = "امنه", .father = "احمد", .sex = "F"}, e2);
    add_kid(g_org, &(struct kid){.first = "وائل", .father = "هانئ"}, f);
    add_kid(g_org, &(struct kid){.first = "یوسف", .father = "کمال"}, g); /* Persian forms */
    /* hamza forms, both ways */
    expect("احمد", a, true);
    expect("إحمد", a, true);
    expect("احمد ابراهيم", a, true);
    expect("أحمد", e2, true);
    expect("لئي", d, true);
    expect("واءل", f, true);
    expect("هانيء", f, false); /* a different spelling (extra ya), not a letter form */
    expect("هانء", f, true);
    /* ta marbuta / ha, alef madda */
    expect("فاطمه", b, true);
    expect("فاطمة ادم", b, true);
    expect("آمنة", e2, true);
    /* alef maqsura / ya */
    expect("مصطفي", c, true);
    expect("مصطفى يحيي", c, true);
    /* Persian letter forms, both ways */
    expect("کریم", d, true);
    expect("يوسف كمال", g, true);
    /* diacritics and tatweel */
    expect("كَرِيم", d, true);
    expect("مُصْطَفَى", c, true);
    expect("كـــريم", d, true);
    expect("فـاطِمَـة", b, true);
    /* stored with marks, searched without */
    char h[40];
    add_kid(g_org, &(struct kid){.first = "سَلْمَـى", .father = "حُسَيْن", .sex = "F"}, h);
    expect("سلمى حسين", h, true);
    expect("سلمي", h, true);
}

static void test_article_and_latin(void **state)
{
    (void)state;
    char a[40], b[40], c[40], d[40];
    add_kid(g_org, &(struct kid){.first = "ماهر", .father = "نبيل", .family = "الخطيب"}, a);
    add_kid(g_org, &(struct kid){.first = "ماجد", .father = "نبيل", .family = "خطيب"}, b);
    add_kid(g_org, &(struct kid){.first = "محمد", .father = "غسان", .family = "الحلبي"}, c);
    add_kid(g_org, &(struct kid){.first = "ثامر", .father = "غسان", .first_latin = "Thamer"}, d);
    expect("خطيب", a, true);
    expect("الخطيب", a, true);
    expect("الخطيب", b, true);
    expect("ماهر الخطيب", a, true);
    expect("ماهر خطيب", a, true);
    expect("ماجد نبيل الخطيب", b, true);
    expect("Mohammed", c, true);
    expect("Muhammad", c, true);
    expect("Mohamed Ghassan", c, true);
    expect("thamer", d, true);
    expect("Thamir", d, true); /* Latin spelling variant through the skeleton */
    expect("ثامر", d, true);
    /* typing as you go: the last word is a prefix */
    expect("محمد غس", c, true);
    expect("محمد الحل", c, true);
    expect("الحل", c, true);
    expect("محمد غسانن", c, false);
    expect("Mohamed Ghassann", c, true); /* Latin: doubled letters share a skeleton */
    expect("غس محمد", c, false); /* only the last word is a prefix */
}

static void test_relevance(void **state)
{
    (void)state;
    char exact[40], skel[40], org[40];
    make_org(org);
    add_kid(org, &(struct kid){.first = "محمود", .father = "زياد"}, skel);
    add_kid(org, &(struct kid){.first = "محمد", .father = "زياد", .first_latin = "Mohammed"},
            exact);
    struct actor a;
    actor_system(&a, org);
    struct child_query q = query("محمد");
    json_t *r = search_as(&a, &q);
    json_t *items = json_object_get(r, "items");
    /* Arabic words match on the normalized form: محمود is another name */
    assert_int_equal(json_array_size(items), 1);
    json_decref(r);
    q = query("Mohammed");
    r = search_as(&a, &q);
    items = json_object_get(r, "items");
    assert_int_equal(json_array_size(items), 2); /* same skeleton (m-h-m-d) */
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "id")), exact);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 1), "id")), skel);
    json_decref(r);
}

static void test_numbers(void **state)
{
    (void)state;
    char g[40], a[40], b[40], now[32];
    uuid_v7(g);
    time_format_iso(time_now_ms(), now, sizeof(now));
    const char *args[] = {g, g_org, now};
    run("INSERT INTO guardians (id, org_id, full_name, relation, phone, phone_digits, created_at, "
        "updated_at) VALUES ($1, $2, 'سعاد', 'mother', '+962 79 123 4567', '962791234567', $3, $3)",
        3, args);
    add_kid(g_org, &(struct kid){.first = "رامي", .father = "جمال", .file_no = "LB-2026-000123",
                                 .id_doc = "987654321", .guardian = g}, a);
    add_kid(g_org, &(struct kid){.first = "فادي", .father = "جمال", .file_no = "LB-2026-000124"},
            b);
    expect("LB-2026-000123", a, true);
    expect("LB-٢٠٢٦-٠٠٠١٢٣", a, true);
    expect("lb-2026-000123", a, true);
    expect("LB-۲۰۲۶-۰۰۰۱۲۳", a, true); /* extended (Persian) digits */
    expect("LB-2026-00012", a, true);   /* prefix */
    expect("LB-2026-00012", b, true);
    expect("LB-2026-000123", b, false);
    expect("٩٨٧٦٥٤٣٢١", a, true);
    expect("987654321", b, false);
    expect("+962 79 123 4567", a, true);
    expect("00962791234567", a, true);
    expect("962-79-123-4567", a, true);
    expect("0791234567", a, false); /* the stored digits carry the country code */
    expect("000000", a, false);
}

/* Makes a fresh organization with the children used by the filter tests. */
static void filter_fixture(char org[40], struct actor *a, char ids[6][40])
{
    make_org(org);
    actor_system(a, org);
    int y, m, d;
    time_today(&y, &m, &d);
    (void)m;
    (void)d;
    char b5[40], b10[40], b16[40];
    snprintf(b5, sizeof(b5), "%04d-01-01", y - 5);   /* 5 years old */
    snprintf(b10, sizeof(b10), "%04d-01-01", y - 11); /* 11 */
    snprintf(b16, sizeof(b16), "%04d-01-01", y - 17); /* 17 */
    add_kid(org, &(struct kid){.first = "سارة", .father = "خليل", .sex = "F", .birth = b5,
                               .status = "active", .governorate = "عمان",
                               .needs = "food,school_fees", .sponsored = "1"}, ids[0]);
    add_kid(org, &(struct kid){.first = "سامر", .father = "خليل", .birth = b10,
                               .status = "registered", .governorate = "إربد",
                               .needs = "device,internet"}, ids[1]);
    add_kid(org, &(struct kid){.first = "سمر", .father = "خليل", .sex = "F", .birth = b16,
                               .status = "active", .governorate = "عمان",
                               .needs = "medical_care"}, ids[2]);
}

/* Runs q for a and returns how many items and the total. */
static void count_of(const struct actor *a, const struct child_query *q, size_t *n,
                     int64_t *total)
{
    json_t *r = search_as(a, q);
    *n = json_array_size(json_object_get(r, "items"));
    *total = json_integer_value(json_object_get(r, "total"));
    json_decref(r);
}

static void test_filters(void **state)
{
    (void)state;
    char org[40], ids[6][40];
    struct actor a;
    filter_fixture(org, &a, ids);
    size_t n;
    int64_t total;
    struct child_query q = query("خليل");
    count_of(&a, &q, &n, &total);
    assert_int_equal(n, 3);
    assert_int_equal(total, 3);
    q.status = "active";
    count_of(&a, &q, &n, &total);
    assert_int_equal(total, 2);
    q.sex = "M";
    count_of(&a, &q, &n, &total);
    assert_int_equal(total, 0);
    q = query(NULL);
    q.sex = "F";
    count_of(&a, &q, &n, &total);
    assert_int_equal(total, 2);
    q = query(NULL);
    q.age_min = 4;
    q.age_max = 6;
    json_t *r = search_as(&a, &q);
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 1);
    assert_true(has_id(r, ids[0]));
    json_t *it = json_array_get(json_object_get(r, "items"), 0);
    int age = (int)json_integer_value(json_object_get(it, "age"));
    assert_true(age >= 4 && age <= 5);
    assert_true(json_is_true(json_object_get(it, "sponsored")));
    assert_string_equal(json_string_value(json_object_get(it, "governorate")), "عمان");
    assert_null(json_object_get(it, "health_conditions"));
    assert_null(json_object_get(it, "id_doc_number"));
    json_decref(r);
    q.age_min = 9;
    q.age_max = 18;
    count_of(&a, &q, &n, &total);
    assert_int_equal(total, 2);
    q.age_min = -1;
    q.age_max = 12;
    count_of(&a, &q, &n, &total);
    assert_int_equal(total, 2);
    q = query(NULL);
    q.governorate = "عمان";
    count_of(&a, &q, &n, &total);
    assert_int_equal(total, 2);
    q = query(NULL);
    q.need = "food";
    count_of(&a, &q, &n, &total);
    assert_int_equal(total, 1);
    q.need = "school_fees";
    count_of(&a, &q, &n, &total);
    assert_int_equal(total, 1);
    q.need = "internet";
    r = search_as(&a, &q);
    assert_true(has_id(r, ids[1]));
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 1);
    json_decref(r);
    q.need = "electricity";
    count_of(&a, &q, &n, &total);
    assert_int_equal(total, 0);
    q = query(NULL);
    q.sponsored = 1;
    count_of(&a, &q, &n, &total);
    assert_int_equal(total, 1);
    q.sponsored = 0;
    count_of(&a, &q, &n, &total);
    assert_int_equal(total, 2);
}

static void test_sort_and_pages(void **state)
{
    (void)state;
    char org[40];
    make_org(org);
    struct actor a;
    actor_system(&a, org);
    char ids[25][40];
    const char *firsts[5] = {"باسل", "تامر", "جعفر", "حازم", "خالد"};
    for (int i = 0; i < 25; i++) {
        char birth[16];
        snprintf(birth, sizeof(birth), "2010-%02d-%02d", 1 + i % 12, 1 + i);
        add_kid(org, &(struct kid){.first = firsts[i % 5], .father = "منصور", .birth = birth},
                ids[i]);
    }
    struct child_query q = query("منصور");
    q.per_page = 10;
    q.page = 3;
    size_t n;
    int64_t total;
    count_of(&a, &q, &n, &total);
    assert_int_equal(n, 5);
    assert_int_equal(total, 25);
    q.page = 4;
    count_of(&a, &q, &n, &total);
    assert_int_equal(n, 0);
    assert_int_equal(total, 25);
    q = query(NULL);
    q.page = 9;
    q.per_page = 200;
    count_of(&a, &q, &n, &total);
    assert_int_equal(n, 0);
    assert_int_equal(total, 25);
    /* sorted by name: the five باسل first, in id order */
    q = query("منصور");
    q.sort = "name";
    json_t *r = search_as(&a, &q);
    json_t *items = json_object_get(r, "items");
    assert_int_equal(json_array_size(items), 25);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "first_name")),
                        "باسل");
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 24), "first_name")),
                        "خالد");
    json_decref(r);
    q.sort = "-name";
    r = search_as(&a, &q);
    items = json_object_get(r, "items");
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "first_name")),
                        "خالد");
    json_decref(r);
    /* by age: youngest first */
    q.sort = "age";
    r = search_as(&a, &q);
    items = json_object_get(r, "items");
    const char *prev = NULL;
    for (size_t i = 0; i < json_array_size(items); i++) {
        const char *bd = json_string_value(json_object_get(json_array_get(items, i), "birth_date"));
        if (prev) {
            assert_true(strcmp(prev, bd) >= 0);
        }
        prev = bd;
    }
    json_decref(r);
    q.sort = "-file_no";
    r = search_as(&a, &q);
    items = json_object_get(r, "items");
    const char *f0 = json_string_value(json_object_get(json_array_get(items, 0), "file_no"));
    const char *f1 = json_string_value(json_object_get(json_array_get(items, 1), "file_no"));
    assert_true(strcmp(f0, f1) > 0);
    json_decref(r);
    q.sort = "created";
    r = search_as(&a, &q);
    assert_int_equal(json_array_size(json_object_get(r, "items")), 25);
    json_decref(r);
}

static void test_other_org(void **state)
{
    (void)state;
    char mine[40], theirs[40];
    add_kid(g_org, &(struct kid){.first = "زكريا", .father = "معاذ", .birth = "2014-02-02",
                                 .file_no = "X-1"}, mine);
    add_kid(g_org_b, &(struct kid){.first = "زكريا", .father = "معاذ", .birth = "2014-02-02",
                                   .file_no = "X-1"}, theirs);
    expect("زكريا معاذ", mine, true);
    expect("زكريا معاذ", theirs, false);
    expect("X-1", theirs, false);
    struct child_query q = query(NULL);
    json_t *r = search_as(&g_b, &q);
    assert_true(has_id(r, theirs));
    assert_false(has_id(r, mine));
    json_decref(r);
    /* duplicates stay within the organization */
    struct err e;
    err_clear(&e);
    json_t *rec = json_pack("{s:s, s:s, s:s}", "first_name", "زكريا", "father_name", "معاذ",
                            "birth_date", "2014-05-05");
    json_t *d = children_duplicates(g_db, &g_b, rec, NULL, &e);
    assert_non_null(d);
    assert_int_equal(json_array_size(d), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(d, 0), "id")), theirs);
    json_decref(d);
    /* marking a pair across organizations finds no such child */
    assert_int_equal(children_mark_distinct(g_db, &g_b, theirs, mine, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    json_decref(rec);
}

static void test_bad_input(void **state)
{
    (void)state;
    struct child_query q = query("\xff\xfe");
    expect_invalid(&q, "q");
    char *big = xmalloc(10001);
    memset(big, 'a', 10000);
    big[10000] = '\0';
    q = query(big);
    expect_invalid(&q, "q");
    free(big);
    q = query("a b c d e f g h i");
    expect_invalid(&q, "q");
    q = query(NULL);
    q.status = "sleeping";
    expect_invalid(&q, "status");
    q = query(NULL);
    q.status = "active registered";
    expect_invalid(&q, "status");
    q = query(NULL);
    q.sex = "X";
    expect_invalid(&q, "sex");
    q = query(NULL);
    q.need = "school";
    expect_invalid(&q, "need");
    q = query(NULL);
    q.need = "food,shelter";
    expect_invalid(&q, "need");
    q = query(NULL);
    q.sort = "id; DROP TABLE children";
    expect_invalid(&q, "sort");
    q = query(NULL);
    q.per_page = 0;
    expect_invalid(&q, "per_page");
    q.per_page = 201;
    expect_invalid(&q, "per_page");
    q = query(NULL);
    q.page = 0;
    expect_invalid(&q, "page");
    q = query(NULL);
    q.age_min = 10;
    q.age_max = 5;
    expect_invalid(&q, "age");
    q = query(NULL);
    q.sponsored = 2;
    expect_invalid(&q, "sponsored");
    /* harmless oddities: quotes and LIKE wildcards are just text; marks alone are no words */
    size_t n;
    int64_t total;
    q = query("%' OR 1=1 --");
    count_of(&g_a, &q, &n, &total);
    assert_int_equal(total, 0);
    q = query("_%");
    count_of(&g_a, &q, &n, &total);
    assert_int_equal(total, 0);
    q = query("");
    count_of(&g_a, &q, &n, &total);
    assert_true(total > 0);
    q = query("  ");
    count_of(&g_a, &q, &n, &total);
    assert_true(total > 0);
    q = query("\xd9\x8e\xd9\x8f"); /* marks alone */
    count_of(&g_a, &q, &n, &total);
    assert_int_equal(total, 0);
    q = query("محمد بن غسان");
    count_of(&g_a, &q, &n, &total);
    assert_true(total >= 1); /* بن separates names */
    /* names too long or not UTF-8 still index without failing */
    char id[40];
    char *huge = xmalloc(1 << 20);
    for (size_t i = 0; i + 2 <= (1u << 20) - 1; i += 2) {
        memcpy(huge + i, "\xd8\xb3", 2); /* س */
    }
    huge[(1 << 20) - 1] = '\0';
    add_kid(g_org, &(struct kid){.first = huge, .father = "\xd8\xb3"}, id);
    free(huge);
    struct err e;
    err_clear(&e);
    assert_int_equal(db_begin(g_db, false, &e), 0);
    json_t *bad = json_object();
    json_object_set_new(bad, "first_name", json_string_nocheck("\xd8\xb3\xff\xfe\xd8"));
    json_object_set_new(bad, "family_name", json_integer(7)); /* not text: ignored */
    assert_int_equal(children_index_names(g_db, g_org, id, bad, &e), 0);
    json_decref(bad);
    assert_int_equal(db_commit(g_db, &e), 0);
    json_t *obj = json_object();
    assert_int_equal(children_index_names(g_db, g_org, NULL, obj, &e), -1);
    json_decref(obj);
}

static void test_reindex(void **state)
{
    (void)state;
    char id[40];
    add_kid(g_org, &(struct kid){.first = "رياض", .father = "منير"}, id);
    expect("رياض منير", id, true);
    struct err e;
    err_clear(&e);
    assert_int_equal(db_begin(g_db, false, &e), 0);
    json_t *rec = json_pack("{s:s, s:s, s:s}", "first_name", "رياض", "father_name", "هادي",
                            "mother_name", "ريم الشامي");
    assert_int_equal(children_index_names(g_db, g_org, id, rec, &e), 0);
    json_decref(rec);
    assert_int_equal(db_commit(g_db, &e), 0);
    expect("رياض منير", id, false);
    expect("رياض هادي", id, true);
    expect("ريم", id, true);    /* one word of the mother's name */
    expect("الشامي", id, true); /* her family name, with or without the article */
    expect("شامي", id, true);
}

/* Runs children_duplicates for g_a; fails the test on error. */
static json_t *dups(json_t *rec, const char *exclude)
{
    struct err e;
    err_clear(&e);
    json_t *d = children_duplicates(g_db, &g_a, rec, exclude, &e);
    if (!d) {
        fail_msg("duplicates failed: %s", e.msg);
    }
    return d;
}

/* True when the array of summaries holds id; when reason is given, that it
 * is among its reasons. */
static bool dup_has(json_t *d, const char *id, const char *reason)
{
    size_t i, j;
    json_t *it, *r;
    json_array_foreach(d, i, it) {
        if (strcmp(json_string_value(json_object_get(it, "id")), id) != 0) {
            continue;
        }
        if (!reason) {
            return true;
        }
        json_array_foreach(json_object_get(it, "reasons"), j, r) {
            if (strcmp(json_string_value(r), reason) == 0) {
                return true;
            }
        }
        return false;
    }
    return false;
}

static void test_duplicates(void **state)
{
    (void)state;
    char orig[40], sib[40], cousin[40], newer[40];
    add_kid(g_org, &(struct kid){.first = "عمار", .father = "أحمد", .grandfather = "علي",
                                 .family = "الخطيب", .birth = "2015-03-01"}, orig);
    add_kid(g_org, &(struct kid){.first = "حمزة", .father = "أحمد", .grandfather = "علي",
                                 .family = "الخطيب", .birth = "2015-03-01"}, sib);
    add_kid(g_org, &(struct kid){.first = "عمار", .father = "أحمد", .grandfather = "حسن",
                                 .family = "الخطيب", .birth = "2015-03-01"}, cousin);
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s}", "first_name", "عمّار", "father_name",
                            "احمد", "grandfather_name", "علي", "family_name", "خطيب",
                            "birth_date", "2016-01-01");
    json_t *d = dups(rec, NULL);
    assert_true(dup_has(d, orig, "same_names"));
    assert_true(dup_has(d, orig, "birth_year_close"));
    assert_true(dup_has(d, orig, "same_family"));
    assert_false(dup_has(d, sib, NULL));    /* a sibling: another first name */
    assert_false(dup_has(d, cousin, NULL)); /* another grandfather */
    json_t *it = json_array_get(d, 0);
    assert_non_null(json_object_get(it, "file_no"));
    assert_non_null(json_object_get(it, "age"));
    json_decref(d);
    /* without grandfather and family the first two names decide */
    json_t *rec2 = json_pack("{s:s, s:s, s:s}", "first_name", "عمار", "father_name", "أحمد",
                             "birth_date", "2015-03-01");
    d = dups(rec2, NULL);
    assert_true(dup_has(d, orig, "same_birth_date"));
    assert_true(dup_has(d, cousin, NULL));
    json_decref(d);
    json_decref(rec2);
    /* three years apart is not a duplicate */
    json_object_set_new(rec, "birth_date", json_string("2018-03-01"));
    d = dups(rec, NULL);
    assert_false(dup_has(d, orig, NULL));
    json_decref(d);
    json_object_set_new(rec, "birth_date", json_string("2014-12-31"));
    d = dups(rec, NULL);
    assert_true(dup_has(d, orig, NULL));
    json_decref(d);
    /* the new child is saved; "different child" is kept and not asked again */
    add_kid(g_org, &(struct kid){.first = "عمّار", .father = "احمد", .grandfather = "علي",
                                 .family = "خطيب", .birth = "2014-12-31"}, newer);
    d = dups(rec, newer);
    assert_true(dup_has(d, orig, NULL));
    assert_false(dup_has(d, newer, NULL)); /* itself */
    json_decref(d);
    struct err e;
    err_clear(&e);
    assert_int_equal(children_mark_distinct(g_db, &g_a, newer, orig, &e), 0);
    assert_int_equal(children_mark_distinct(g_db, &g_a, orig, newer, &e), 0); /* same pair */
    d = dups(rec, newer);
    assert_false(dup_has(d, orig, NULL));
    json_decref(d);
    d = dups(rec, NULL); /* a new record has no decisions yet */
    assert_true(dup_has(d, orig, NULL));
    json_decref(d);
    struct db_stmt *s = db_prepare(g_db,
                                   "SELECT COUNT(*) FROM child_distinct WHERE (child_a = $1 AND "
                                   "child_b = $2) OR (child_a = $2 AND child_b = $1)",
                                   &e);
    assert_non_null(s);
    db_bind_text(s, 1, orig);
    db_bind_text(s, 2, newer);
    assert_int_equal(db_step(s, &e), 1);
    assert_int_equal(db_col_int64(s, 0), 1);
    db_done(s);
    s = db_prepare(g_db,
                   "SELECT COUNT(*) FROM audit_log WHERE org_id = $1 AND action = "
                   "'child.mark_distinct'",
                   &e);
    assert_non_null(s);
    db_bind_text(s, 1, g_org);
    assert_int_equal(db_step(s, &e), 1);
    assert_int_equal(db_col_int64(s, 0), 2);
    db_done(s);
    /* inside the caller's transaction: rolled back with it */
    char other[40];
    add_kid(g_org, &(struct kid){.first = "عمار", .father = "أحمد", .birth = "2015-01-01"},
            other);
    assert_int_equal(db_begin(g_db, false, &e), 0);
    assert_int_equal(children_mark_distinct(g_db, &g_a, other, orig, &e), 0);
    db_rollback(g_db);
    d = dups(rec2 = json_pack("{s:s, s:s, s:s}", "first_name", "عمار", "father_name", "أحمد",
                              "birth_date", "2015-01-01"),
             other);
    assert_true(dup_has(d, orig, NULL));
    json_decref(d);
    json_decref(rec2);
    /* refusals */
    assert_int_equal(children_mark_distinct(g_db, &g_a, orig, orig, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_int_equal(children_mark_distinct(g_db, &g_a, orig, "nope", &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    struct actor officer = g_a;
    officer.system = false;
    snprintf(officer.role, sizeof(officer.role), "sponsorship_officer");
    assert_int_equal(children_mark_distinct(g_db, &officer, orig, newer, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    /* a record without names gives no candidates; not an object is refused */
    json_t *empty = json_object();
    d = dups(empty, NULL);
    assert_int_equal(json_array_size(d), 0);
    json_decref(d);
    json_decref(empty);
    json_t *arr = json_array();
    assert_null(children_duplicates(g_db, &g_a, arr, NULL, &e));
    json_decref(arr);
    json_decref(rec);
}

/* Asserts that searching q for actor a finds id (found) or not. */
static void expect_as(const struct actor *a, const char *q, const char *id, bool found)
{
    struct child_query cq = query(q);
    json_t *r = search_as(a, &cq);
    if (has_id(r, id) != found) {
        fail_msg("search '%s' %s the child", q, found ? "did not find" : "found");
    }
    json_decref(r);
}

static void test_capped(void **state)
{
    (void)state;
    /* 1,005 children named نور: more than are counted */
    char org[40];
    make_org(org);
    struct actor a;
    actor_system(&a, org);
    char id[40], rare[3][40];
    const char *fathers[] = {"كمال", "جمال", "منير", "هشام", "وليد"};
    for (int i = 0; i < 1002; i++) {
        add_kid(org, &(struct kid){.first = "نور", .father = fathers[i % 5],
                                   .sex = i % 2 ? "F" : "M"}, id);
    }
    for (int i = 0; i < 3; i++) {
        add_kid(org, &(struct kid){.first = "نور", .father = "سليم", .family = "العلي"},
                rare[i]);
    }
    struct child_query q = query("نور");
    json_t *r = search_as(&a, &q);
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 1000);
    assert_true(json_is_true(json_object_get(r, "total_capped")));
    assert_int_equal(json_array_size(json_object_get(r, "items")), 50);
    json_decref(r);
    /* the pages of a capped search follow one order: every child once */
    q.per_page = 200;
    size_t seen = 0;
    char (*ids)[40] = xcalloc(1100, 40);
    for (q.page = 1; q.page <= 7; q.page++) {
        r = search_as(&a, &q);
        json_t *items = json_object_get(r, "items");
        json_int_t total = json_integer_value(json_object_get(r, "total"));
        bool capped = json_is_true(json_object_get(r, "total_capped"));
        if (q.page < 6) {
            assert_int_equal(json_array_size(items), 200);
            assert_true(capped);
            /* more follow: the total stays above what the pages reached (export reads on) */
            assert_true(total > (json_int_t)q.page * 200 || total == 1000);
            assert_true(total >= 1000);
        } else if (q.page == 6) {
            assert_int_equal(json_array_size(items), 5);
            assert_false(capped);
            assert_int_equal(total, 1005);
        } else {
            assert_int_equal(json_array_size(items), 0);
        }
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) {
            const char *cid = json_string_value(json_object_get(it, "id"));
            for (size_t j = 0; j < seen; j++) {
                if (strcmp(ids[j], cid) == 0) {
                    fail_msg("child '%s' on two pages", cid);
                }
            }
            snprintf(ids[seen++], 40, "%s", cid);
        }
        json_decref(r);
    }
    assert_int_equal(seen, 1005);
    free(ids);
    /* a filter or a second word brings it under the cap: exact again */
    q = query("نور سليم");
    r = search_as(&a, &q);
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 3);
    assert_false(json_is_true(json_object_get(r, "total_capped")));
    for (int i = 0; i < 3; i++) {
        assert_true(has_id(r, rare[i]));
    }
    json_decref(r);
    q = query("العلي نور");
    size_t n;
    int64_t total;
    count_of(&a, &q, &n, &total);
    assert_int_equal(total, 3);
    q = query("نور");
    q.sex = "F";
    r = search_as(&a, &q);
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 501);
    assert_false(json_is_true(json_object_get(r, "total_capped")));
    json_decref(r);
    /* no text: the organization's list is counted the same way */
    q = query(NULL);
    r = search_as(&a, &q);
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 1000);
    assert_true(json_is_true(json_object_get(r, "total_capped")));
    json_decref(r);
    q.per_page = 200;
    q.page = 6;
    count_of(&a, &q, &n, &total);
    assert_int_equal(n, 5);
    assert_int_equal(total, 1005);
    /* a small search says its total is exact */
    q = query("سليم");
    r = search_as(&a, &q);
    assert_false(json_is_true(json_object_get(r, "total_capped")));
    json_decref(r);
}

static void test_rarest_first(void **state)
{
    (void)state;
    char org[40];
    make_org(org);
    struct actor a;
    actor_system(&a, org);
    char id[40], target[40], compound[40], other[40];
    /* many share the common words, one has the whole chain */
    for (int i = 0; i < 40; i++) {
        add_kid(org, &(struct kid){.first = "محمد", .father = "أحمد", .grandfather = "علي"}, id);
    }
    add_kid(org, &(struct kid){.first = "محمد", .father = "أحمد", .grandfather = "خليل",
                               .family = "الزعبي"}, target);
    add_kid(org, &(struct kid){.first = "محمد", .father = "عبدالله", .grandfather = "يوسف",
                               .family = "الزعبي"}, compound);
    add_kid(org, &(struct kid){.first = "أحمد", .father = "محمد", .grandfather = "خليل",
                               .family = "النجار"}, other);
    struct child_query q = query("محمد أحمد خليل الزعبي");
    size_t n;
    int64_t total;
    count_of(&a, &q, &n, &total);
    assert_int_equal(total, 1);
    expect_as(&a, "محمد أحمد خليل الزعبي", target, true);
    expect_as(&a, "الزعبي خليل أحمد محمد", target, true); /* any order */
    expect_as(&a, "محمد احمد خليل زعبي", target, true);    /* hamza and article dropped */
    expect_as(&a, "محمد أحمد علي", target, false);
    q = query("محمد أحمد علي");
    count_of(&a, &q, &n, &total);
    assert_int_equal(total, 40);
    /* the rarest word is a pair written apart, in the middle of the query */
    expect_as(&a, "محمد عبد الله يوسف", compound, true);
    expect_as(&a, "محمد عبد الله الزعبي", compound, true);
    expect_as(&a, "محمد عبد الله الزعبي", target, false);
    /* common words in both children, the rare one decides */
    expect_as(&a, "أحمد محمد خليل", target, true);
    expect_as(&a, "أحمد محمد خليل", other, true);
    expect_as(&a, "أحمد محمد خليل النجار", target, false);
    expect_as(&a, "محمد أحمد خليل الزعبي نبيل", target, false);
    /* relevance: the whole-word matches first */
    q = query("محمد أحمد خليل");
    json_t *r = search_as(&a, &q);
    json_t *items = json_object_get(r, "items");
    assert_int_equal(json_array_size(items), 2);
    json_decref(r);
    /* rows written before the signatures existed (NULL) are still found */
    const char *args[] = {target};
    run("UPDATE child_name_keys SET sig_n = NULL, sig_p = NULL WHERE child_id = $1", 1, args);
    expect_as(&a, "محمد أحمد خليل الزعبي", target, true);
    expect_as(&a, "الزعبي أحمد", target, true);
}

static void test_prefix_typing(void **state)
{
    (void)state;
    char org[40];
    make_org(org);
    struct actor a;
    actor_system(&a, org);
    char id[40], latin[40];
    add_kid(org, &(struct kid){.first = "محمد", .father = "أحمد", .grandfather = "خليل",
                               .family = "الزعبي"}, id);
    add_kid(org, &(struct kid){.first = "سامي", .father = "كريم", .first_latin = "Sami"},
            latin);
    for (int i = 0; i < 20; i++) {
        char x[40];
        add_kid(org, &(struct kid){.first = "محمد", .father = "أمين"}, x);
    }
    /* the last word grows letter by letter */
    expect_as(&a, "محمد أحمد خ", id, false); /* one letter is not a prefix */
    expect_as(&a, "محمد أحمد خل", id, true);
    expect_as(&a, "محمد أحمد خلي", id, true);
    expect_as(&a, "محمد أحمد خليل", id, true);
    expect_as(&a, "محمد أحمد خليلو", id, false);
    expect_as(&a, "محمد زع", id, true);   /* family name stored without the article */
    expect_as(&a, "محمد الزع", id, true); /* or typed with it */
    expect_as(&a, "محمد اح", id, true);
    expect_as(&a, "مح اح", id, false);    /* only the last word is a prefix */
    expect_as(&a, "أحمد مح", id, true);
    expect_as(&a, "sa", latin, true);
    expect_as(&a, "Sami kar", latin, false); /* Latin prefix of an Arabic-only name */
    expect_as(&a, "Sami kareem", latin, true); /* its skeleton matches */
    struct child_query q = query("محمد أم");
    size_t n;
    int64_t total;
    count_of(&a, &q, &n, &total);
    assert_int_equal(total, 20);
}

/* Query text that would be syntax to a full-text engine (quotes, stars,
 * operators, parentheses, column filters) is only ever name text: it
 * never fails and never matches more than its names; prefixes of two,
 * three and four letters (Arabic and Latin) and a name indexed again and
 * again find exactly the current names. */
static void test_fulltext_syntax(void **state)
{
    (void)state;
    char id[40], other[40];
    add_kid(g_org, &(struct kid){.first = "نزار", .father = "قبطان", .family = "الزعتري",
                                 .first_latin = "Nizar"}, id);
    add_kid(g_org_b, &(struct kid){.first = "نزار", .father = "قبطان"}, other);
    static const char *const nasty[] = {
        "\"", "\"\"", "*", "نزار*", "\"نزار\"", "نزار OR قبطان", "NEAR(نزار قبطان)",
        "terms:نزار", "^نزار", "نزار -قبطان", "(نزار", "نزار)", "NOT", "AND OR", "x\" OR \"y",
        "{terms}: نزار", "نزار + قبطان", "n6e", "s6e7a72",
    };
    for (size_t i = 0; i < sizeof(nasty) / sizeof(nasty[0]); i++) {
        struct child_query q = query(nasty[i]);
        json_t *r = search_as(&g_a, &q);
        assert_false(has_id(r, other)); /* never the other organization's child */
        json_decref(r);
    }
    expect("نزار OR", id, false);   /* "OR" is a word the child does not have */
    expect("نزار قبطان", id, true);
    expect("نز", id, true);         /* two letters */
    expect("نزا", id, true);        /* three */
    expect("نزار قبط", id, true);   /* four, after a whole word */
    expect("الزع", id, true);       /* the article typed, then two letters */
    expect("Ni", id, true);         /* Latin: two, three and four letters */
    expect("Niz", id, true);
    expect("Niza", id, true);
    expect("Nizar", id, true);
    expect("قبطان نزار", id, true); /* any order */
    expect("نزار قبطانن", id, false);
    /* indexed again several times: only the last names are found */
    static const char *const fathers[] = {"سليمان", "يونس", "قبطان"};
    for (int k = 0; k < 3; k++) {
        struct err e;
        err_clear(&e);
        assert_int_equal(db_begin(g_db, false, &e), 0);
        json_t *rec = json_pack("{s:s, s:s}", "first_name", "نزار", "father_name", fathers[k]);
        assert_int_equal(children_index_names(g_db, g_org, id, rec, &e), 0);
        json_decref(rec);
        assert_int_equal(db_commit(g_db, &e), 0);
    }
    expect("نزار قبطان", id, true);
    expect("نزار سليمان", id, false);
    expect("نزار يونس", id, false);
    expect("الزعتري", id, false); /* the family name is gone */
    expect("Nizar", id, true);    /* the Arabic name's skeleton still answers a Latin query */
    /* a rolled back index leaves the names as they were */
    struct err e;
    err_clear(&e);
    assert_int_equal(db_begin(g_db, false, &e), 0);
    json_t *rec = json_pack("{s:s, s:s}", "first_name", "نزار", "father_name", "يونس");
    assert_int_equal(children_index_names(g_db, g_org, id, rec, &e), 0);
    json_decref(rec);
    db_rollback(g_db);
    expect("نزار قبطان", id, true);
    expect("نزار يونس", id, false);
}

static int setup(void **state)
{
    (void)state;
    const char *env = getenv("SANAD_TEST_DB");
    if (env && *env) {
        snprintf(g_url, sizeof(g_url), "%s", env);
    } else {
        snprintf(g_path, sizeof(g_path), "/tmp/sanad-test-search-%d.db", (int)getpid());
        snprintf(g_url, sizeof(g_url), "sqlite:%s", g_path);
    }
    struct err e;
    err_clear(&e);
    if (db_open(g_url, &g_db, &e) != 0 || db_migrate(g_db, &e) != 0) {
        fprintf(stderr, "test_search: '%s': %s\n", g_url, e.msg);
        return -1;
    }
    fprintf(stderr, "test_search: backend %s\n",
            db_backend_of(g_db) == DB_POSTGRES ? "postgres" : "sqlite");
    make_org(g_org);
    make_org(g_org_b);
    actor_system(&g_a, g_org);
    actor_system(&g_b, g_org_b);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    db_close(g_db);
    if (g_path[0]) {
        char p[300];
        const char *suffixes[] = {"", "-wal", "-shm"};
        for (int i = 0; i < 3; i++) {
            snprintf(p, sizeof(p), "%s%s", g_path, suffixes[i]);
            unlink(p);
        }
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compounds),   cmocka_unit_test(test_letter_forms),
        cmocka_unit_test(test_article_and_latin), cmocka_unit_test(test_relevance),
        cmocka_unit_test(test_numbers),     cmocka_unit_test(test_filters),
        cmocka_unit_test(test_sort_and_pages), cmocka_unit_test(test_other_org),
        cmocka_unit_test(test_bad_input),   cmocka_unit_test(test_reindex),
        cmocka_unit_test(test_duplicates),  cmocka_unit_test(test_capped),
        cmocka_unit_test(test_rarest_first), cmocka_unit_test(test_prefix_typing),
        cmocka_unit_test(test_fulltext_syntax),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
