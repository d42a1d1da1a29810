/*
 * test_dedup: duplicates found by the matching engine in the registry
 * (src/children/dedup.c): candidates of one record best first with their
 * explanations, the organization's pairs, "different children" decisions
 * kept and used, the merge (fields chosen, sealed fields re-sealed,
 * documents and consents moved, both histories kept, audit on both
 * records), refusals and isolation between organizations. Runs on
 * SANAD_TEST_DB or a temporary SQLite file, in new organizations each run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "children/children.h"
#include "children/dedup.h"
#include "children/search.h"
#include "core/config.h"
#include "core/time.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "keys/keys.h"
#include "testlib.h"

static struct testenv env;
static struct db *db;
static struct actor worker;  /* case_worker of org A */
static struct actor officer; /* sponsorship_officer of org A: reads only */
static struct actor other;   /* case_worker of org B */

/* Makes an actor of role in an organization. */
static void make_actor(struct actor *a, const char *role, const char *org_id, const char *slug)
{
    memset(a, 0, sizeof(*a));
    uuid_v7(a->user_id);
    snprintf(a->org_id, sizeof(a->org_id), "%s", org_id);
    snprintf(a->org_slug, sizeof(a->org_slug), "%s", slug);
    snprintf(a->username, sizeof(a->username), "%s", role);
    snprintf(a->display_name, sizeof(a->display_name), "%s", role);
    snprintf(a->role, sizeof(a->role), "%s", role);
    snprintf(a->lang, sizeof(a->lang), "en");
    a->mfa_ok = true;
}

static int setup(void **state)
{
    (void)state;
    if (testenv_open(&env, "dedup") < 0) {
        return -1;
    }
    db = env.db;
    char a[40], b[40], sa[32], sb[32];
    testenv_org(&env, a, sa);
    testenv_org(&env, b, sb);
    make_actor(&worker, "case_worker", a, sa);
    make_actor(&officer, "sponsorship_officer", a, sa);
    make_actor(&other, "case_worker", b, sb);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return testenv_close(&env);
}

/* Registers a child for actor a; fails the test on error. */
static void add(const struct actor *a, const char *first, const char *father, const char *gf,
                const char *family, const char *mother, const char *sex, const char *birth,
                const char *extra_field, const char *extra_value, char id[40])
{
    json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s}", "first_name", first, "father_name",
                           father, "sex", sex, "birth_date", birth, "orphan_status",
                           "father_deceased");
    if (gf) {
        json_object_set_new(in, "grandfather_name", json_string(gf));
    }
    if (family) {
        json_object_set_new(in, "family_name", json_string(family));
    }
    if (mother) {
        json_object_set_new(in, "mother_name", json_string(mother));
    }
    if (extra_field) {
        json_object_set_new(in, extra_field, json_string(extra_value));
    }
    struct err e;
    err_clear(&e);
    json_t *errors = NULL;
    char file_no[64];
    if (child_create(db, a, in, id, file_no, &errors, &e) != 0) {
        fail_msg("create %s: %s", first, e.msg);
    }
    json_decref(in);
}

/* The position of id in an array of summaries, -1 when absent. */
static int pos_of(json_t *arr, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "id")), id) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* Candidates of the stored child id for a, in a read transaction. */
static json_t *cands(const struct actor *a, const char *id, struct err *e)
{
    err_clear(e);
    assert_int_equal(db_begin(db, true, e), 0);
    json_t *r = children_engine_duplicates(db, a, NULL, id, NAN, e);
    db_rollback(db);
    return r;
}

/* The organization's pairs for a. */
static json_t *pairs(const struct actor *a, struct err *e)
{
    err_clear(e);
    assert_int_equal(db_begin(db, true, e), 0);
    json_t *r = children_duplicate_pairs(db, a, NAN, 1, 200, e);
    db_rollback(db);
    return r;
}

/* True when the pairs hold (x, y) in either order. */
static bool has_pair(json_t *res, const char *x, const char *y)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(res, "pairs"), i, p)
    {
        const char *a = json_string_value(json_object_get(json_object_get(p, "a"), "id"));
        const char *b = json_string_value(json_object_get(json_object_get(p, "b"), "id"));
        if ((strcmp(a, x) == 0 && strcmp(b, y) == 0) || (strcmp(a, y) == 0 && strcmp(b, x) == 0)) {
            return true;
        }
    }
    return false;
}

/* Ids of the test's children in org A. */
static char kid_a[40], kid_b[40], kid_c[40], kid_sib[40], kid_far[40];

/* Candidates are scored, explained and ordered; siblings and strangers stay out. */
static void test_candidates(void **state)
{
    (void)state;
    add(&worker, "محمد", "أحمد", "علي", "الخطيب", "فاطمة", "M", "2015-03-04", NULL, NULL, kid_a);
    add(&worker, "محمّد", "احمد", "علي", "الخطيب", "فاطمه", "M", "2015-03-04", "school_name",
        "مدرسة النور", kid_b);
    add(&worker, "محمد", "احمد", NULL, "خطيب", NULL, "M", "2015-01-01", NULL, NULL, kid_c);
    add(&worker, "خالد", "أحمد", "علي", "الخطيب", "فاطمة", "M", "2012-08-19", NULL, NULL, kid_sib);
    add(&worker, "سمير", "يوسف", "حسن", "النجار", "ليلى", "M", "2016-02-02", NULL, NULL, kid_far);
    struct err e;
    json_t *r = cands(&worker, kid_a, &e);
    assert_non_null(r);
    int pb = pos_of(r, kid_b), pc = pos_of(r, kid_c);
    assert_true(pb >= 0);
    assert_true(pc >= 0);
    assert_true(pb < pc); /* the full record agrees on more than the partial one */
    assert_int_equal(pos_of(r, kid_sib), -1);
    assert_int_equal(pos_of(r, kid_far), -1);
    assert_int_equal(pos_of(r, kid_a), -1); /* not itself */
    double prev = INFINITY;
    size_t i;
    json_t *v;
    json_array_foreach(r, i, v)
    {
        double s = json_real_value(json_object_get(v, "score"));
        assert_true(s <= prev);
        prev = s;
        json_t *ex = json_object_get(v, "explain");
        json_t *terms = json_object_get(ex, "terms");
        assert_int_equal(json_array_size(terms), 9);
        assert_string_equal(json_string_value(json_object_get(json_array_get(terms, 0), "field")),
                            "first_name");
    }
    json_t *b = json_array_get(r, (size_t)pb);
    json_t *t0 = json_array_get(json_object_get(json_object_get(b, "explain"), "terms"), 0);
    assert_string_equal(json_string_value(json_object_get(t0, "level")), "exact");
    assert_true(json_real_value(json_object_get(t0, "weight")) > 0);
    json_decref(r);

    /* a record not saved yet, in another spelling, finds them too */
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s}", "first_name", "محمد", "father_name",
                            "احمد", "family_name", "خطيب", "sex", "M", "birth_date",
                            "2015-03-04");
    err_clear(&e);
    assert_int_equal(db_begin(db, true, &e), 0);
    r = children_engine_duplicates(db, &worker, rec, NULL, NAN, &e);
    db_rollback(db);
    json_decref(rec);
    assert_non_null(r);
    assert_true(pos_of(r, kid_a) >= 0);
    assert_true(pos_of(r, kid_b) >= 0);
    json_decref(r);
}

/* Nasty records: empty, huge, invalid UTF-8, not an object. */
static void test_nasty_records(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    assert_int_equal(db_begin(db, true, &e), 0);
    json_t *empty = json_object();
    json_t *r = children_engine_duplicates(db, &worker, empty, NULL, NAN, &e);
    assert_non_null(r);
    assert_int_equal(json_array_size(r), 0);
    json_decref(r);
    json_decref(empty);
    size_t big = 1 << 20;
    char *huge = malloc(big + 1);
    for (size_t i = 0; i + 1 < big; i += 2) {
        huge[i] = (char)0xD9; /* م repeated */
        huge[i + 1] = (char)0x85;
    }
    huge[big] = '\0';
    json_t *rec = json_pack("{s:s, s:s, s:s}", "first_name", huge, "father_name", huge,
                            "birth_date", "not a date");
    r = children_engine_duplicates(db, &worker, rec, NULL, NAN, &e);
    assert_non_null(r);
    json_decref(r);
    json_decref(rec);
    free(huge);
    rec = json_object();
    json_object_set_new(rec, "first_name", json_stringn_nocheck("\xff\xfe\xd9", 3));
    json_object_set_new(rec, "father_name", json_string("احمد"));
    r = children_engine_duplicates(db, &worker, rec, NULL, NAN, &e);
    assert_non_null(r);
    json_decref(r);
    json_decref(rec);
    json_t *arr = json_array();
    assert_null(children_engine_duplicates(db, &worker, arr, NULL, NAN, &e));
    assert_int_equal(e.kind, ERR_INVALID);
    json_decref(arr);
    err_clear(&e);
    assert_null(children_engine_duplicates(db, &worker, NULL, "not-an-id", NAN, &e));
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    db_rollback(db);
}

/* The organization's page lists the pair, then not once judged different. */
static void test_pairs_and_distinct(void **state)
{
    (void)state;
    struct err e;
    json_t *p = pairs(&worker, &e);
    assert_non_null(p);
    assert_true(has_pair(p, kid_a, kid_b));
    assert_false(has_pair(p, kid_a, kid_sib));
    assert_false(has_pair(p, kid_a, kid_far));
    assert_true(json_integer_value(json_object_get(p, "records")) >= 5);
    json_t *first = json_array_get(json_object_get(p, "pairs"), 0);
    assert_non_null(json_object_get(json_object_get(first, "explain"), "terms"));
    json_decref(p);
    /* paging and bad parameters */
    err_clear(&e);
    assert_int_equal(db_begin(db, true, &e), 0);
    p = children_duplicate_pairs(db, &worker, NAN, 1000, 10, &e);
    assert_non_null(p);
    assert_int_equal(json_array_size(json_object_get(p, "pairs")), 0);
    json_decref(p);
    assert_null(children_duplicate_pairs(db, &worker, NAN, 0, 10, &e));
    assert_string_equal(e.field, "page");
    err_clear(&e);
    assert_null(children_duplicate_pairs(db, &worker, NAN, 1, 201, &e));
    assert_string_equal(e.field, "per_page");
    db_rollback(db);

    /* decisions: reading is not enough, the decision must be known */
    err_clear(&e);
    assert_int_equal(children_dedup_decide(db, &officer, kid_a, kid_c, "different", &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_int_equal(children_dedup_decide(db, &worker, kid_a, kid_c, "maybe", &e), -1);
    assert_string_equal(e.field, "decision");
    err_clear(&e);
    assert_int_equal(children_dedup_decide(db, &worker, kid_a, kid_a, "different", &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    err_clear(&e);
    assert_int_equal(children_dedup_decide(db, &other, kid_a, kid_c, "different", &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    err_clear(&e);
    assert_int_equal(children_dedup_decide(db, &worker, kid_a, kid_c, "same", &e), 0);
    assert_int_equal(children_dedup_decide(db, &worker, kid_c, kid_a, "different", &e), 0);
    /* kept and used: by the page, by the engine's candidates and by the warning */
    p = pairs(&worker, &e);
    assert_false(has_pair(p, kid_a, kid_c));
    assert_true(has_pair(p, kid_a, kid_b));
    json_decref(p);
    json_t *r = cands(&worker, kid_a, &e);
    assert_int_equal(pos_of(r, kid_c), -1);
    assert_true(pos_of(r, kid_b) >= 0);
    json_decref(r);
    assert_int_equal(db_begin(db, true, &e), 0);
    json_t *rec = json_pack("{s:s, s:s}", "first_name", "محمد", "father_name", "احمد");
    r = children_duplicates(db, &worker, rec, kid_a, &e);
    db_rollback(db);
    assert_non_null(r);
    assert_int_equal(pos_of(r, kid_c), -1);
    json_decref(r);
    json_decref(rec);
}

/* Another organization sees nothing of A's children. */
static void test_isolation(void **state)
{
    (void)state;
    struct err e;
    assert_null(cands(&other, kid_a, &e));
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    char b1[40], b2[40];
    add(&other, "محمد", "أحمد", "علي", "الخطيب", "فاطمة", "M", "2015-03-04", NULL, NULL, b1);
    add(&other, "محمد", "احمد", "علي", "الخطيب", "فاطمة", "M", "2015-03-04", NULL, NULL, b2);
    json_t *p = pairs(&other, &e);
    assert_non_null(p);
    assert_int_equal(json_integer_value(json_object_get(p, "records")), 2);
    assert_true(has_pair(p, b1, b2));
    assert_false(has_pair(p, kid_a, kid_b));
    json_decref(p);
    json_t *r = cands(&other, b1, &e);
    assert_int_equal(pos_of(r, kid_a), -1);
    assert_int_equal(pos_of(r, kid_b), -1);
    assert_true(pos_of(r, b2) >= 0);
    json_decref(r);
    err_clear(&e);
    assert_int_equal(children_merge(db, &other, b1, kid_a, NULL, NULL, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    err_clear(&e);
    assert_null(children_merge_preview(db, &other, kid_a, kid_b, &e));
    assert_int_equal(e.kind, ERR_NOT_FOUND);
}

/* Counts rows of sql with one text parameter. */
static long count(const char *sql, const char *p1, const char *p2)
{
    struct err e;
    err_clear(&e);
    int found;
    struct db_stmt *s = p2 ? db_row(db, &e, &found, sql, "tt", p1, p2)
                           : db_row(db, &e, &found, sql, "t", p1);
    if (!s) {
        fail_msg("count: %s", e.msg);
    }
    long n = (long)db_col_int64(s, 0);
    db_done(s);
    return n;
}

/* A merge moves rows, fills chosen fields, keeps both histories, audits both. */
static void test_merge(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    char kid_d[40], kid_e[40];
    add(&worker, "يوسف", "إبراهيم", "سالم", "العلي", NULL, "M", "2014-07-07", NULL, NULL, kid_d);
    add(&worker, "يوسف", "ابراهيم", "سالم", "العلي", "مريم", "M", "2014-07-07",
        "health_conditions", "ربو", kid_e);
    assert_int_equal(child_set_status(db, &worker, kid_e, "active", NULL, &e), 0);
    json_t *in = json_pack("{s:s, s:b, s:b}", "scope", "sponsor_media", "guardian_consent", 1,
                           "child_assent", 1);
    char cid[40];
    assert_int_equal(consent_record(db, &worker, kid_e, in, cid, &e), 0);
    json_decref(in);
    char doc[40], now[32];
    uuid_v7(doc);
    time_format_iso(time_now_ms(), now, sizeof(now));
    assert_int_equal(db_run(db, &e,
                            "INSERT INTO child_documents (id, org_id, child_id, kind, filename,"
                            " stored_name, content_type, size, sha256, uploaded_by, uploaded_at)"
                            " VALUES ($1, $2, $3, 'photo', 'a.jpg', $1, 'image/jpeg', 1, 'x',"
                            " 'test', $4)",
                            "tttt", doc, worker.org_id, kid_e, now),
                     1);

    /* the preview offers the differing fields, the empty ones chosen from other */
    json_t *pv = children_merge_preview(db, &worker, kid_d, kid_e, &e);
    assert_non_null(pv);
    bool saw_mother = false, saw_father = false;
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(pv, "fields"), i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        if (strcmp(name, "mother_name") == 0) {
            saw_mother = json_is_true(json_object_get(f, "take_other"));
        }
        if (strcmp(name, "father_name") == 0) {
            saw_father = json_is_false(json_object_get(f, "take_other"));
        }
    }
    assert_true(saw_mother);
    assert_true(saw_father);
    assert_non_null(json_object_get(pv, "explain"));
    json_decref(pv);

    /* refusals */
    json_t *take = json_pack("[s, s]", "mother_name", "health_conditions");
    err_clear(&e);
    assert_int_equal(children_merge(db, &officer, kid_d, kid_e, take, NULL, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_int_equal(children_merge(db, &worker, kid_d, kid_d, take, NULL, &e), -1);
    assert_string_equal(e.code, "same_child");
    json_t *bad = json_pack("[s]", "no_such_field");
    err_clear(&e);
    assert_int_equal(children_merge(db, &worker, kid_d, kid_e, bad, NULL, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    json_decref(bad);
    bad = json_pack("{s:s}", "x", "y");
    err_clear(&e);
    assert_int_equal(children_merge(db, &worker, kid_d, kid_e, bad, NULL, &e), -1);
    json_decref(bad);
    assert_int_equal(count("SELECT COUNT(*) FROM children WHERE id = $1 AND merged_into IS NULL",
                           kid_e, NULL),
                     1);

    /* the merge */
    json_t *sum = NULL;
    err_clear(&e);
    if (children_merge(db, &worker, kid_d, kid_e, take, &sum, &e) != 0) {
        fail_msg("merge: %s", e.msg);
    }
    json_decref(take);
    assert_int_equal(json_integer_value(json_object_get(sum, "documents")), 1);
    assert_int_equal(json_integer_value(json_object_get(sum, "consents")), 1);
    assert_true(json_integer_value(json_object_get(sum, "status_history")) >= 2);
    assert_int_equal(json_array_size(json_object_get(sum, "filled")), 2);
    json_decref(sum);
    json_t *kept = child_get(db, &worker, kid_d, &e);
    assert_non_null(kept);
    assert_string_equal(json_string_value(json_object_get(kept, "mother_name")), "مريم");
    assert_string_equal(json_string_value(json_object_get(kept, "health_conditions")), "ربو");
    assert_string_equal(json_string_value(json_object_get(kept, "father_name")), "إبراهيم");
    json_decref(kept);
    json_t *gone = child_get(db, &worker, kid_e, &e);
    assert_non_null(gone); /* still readable */
    assert_string_equal(json_string_value(json_object_get(gone, "status")), "closed");
    assert_string_equal(json_string_value(json_object_get(gone, "status_reason")), "duplicate");
    assert_string_equal(json_string_value(json_object_get(gone, "health_conditions")), "ربو");
    json_decref(gone);
    assert_int_equal(count("SELECT COUNT(*) FROM children WHERE id = $1 AND merged_into = $2",
                           kid_e, kid_d),
                     1);
    assert_int_equal(count("SELECT COUNT(*) FROM child_documents WHERE child_id = $1", kid_d,
                           NULL),
                     1);
    assert_int_equal(count("SELECT COUNT(*) FROM consents WHERE child_id = $1", kid_d, NULL), 1);
    /* both histories: other's rows stay and are copied to keep with a note */
    assert_int_equal(count("SELECT COUNT(*) FROM child_status_history WHERE child_id = $1", kid_e,
                           NULL),
                     3); /* registered, active, closed (duplicate) */
    assert_int_equal(count("SELECT COUNT(*) FROM child_status_history WHERE child_id = $1 AND "
                           "reason LIKE 'merged from %'",
                           kid_d, NULL),
                     2);
    assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE action = 'child.merge' AND "
                           "entity_id = $1 AND org_id = $2",
                           kid_d, worker.org_id),
                     1);
    assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE action = 'child.merge' AND "
                           "entity_id = $1 AND org_id = $2",
                           kid_e, worker.org_id),
                     1);
    assert_int_equal(count("SELECT COUNT(*) FROM child_merges WHERE kept_id = $1", kid_d, NULL),
                     1);
    /* names: the kept record's keys hold the filled mother's name, other's are gone */
    assert_int_equal(count("SELECT COUNT(*) FROM child_name_keys WHERE child_id = $1 AND "
                           "field = 'mother_name'",
                           kid_d, NULL),
                     1);
    assert_int_equal(count("SELECT COUNT(*) FROM child_name_keys WHERE child_id = $1", kid_e,
                           NULL),
                     0);
    /* a merged record is merged once, and is no longer offered */
    err_clear(&e);
    assert_int_equal(children_merge(db, &worker, kid_d, kid_e, NULL, NULL, &e), -1);
    assert_string_equal(e.code, "already_merged");
    err_clear(&e);
    assert_int_equal(children_merge(db, &worker, kid_e, kid_d, NULL, NULL, &e), -1);
    assert_string_equal(e.code, "already_merged");
    err_clear(&e);
    assert_int_equal(children_dedup_decide(db, &worker, kid_d, kid_e, "same", &e), -1);
    assert_int_equal(e.kind, ERR_CONFLICT);
    json_t *r = cands(&worker, kid_d, &e);
    assert_int_equal(pos_of(r, kid_e), -1);
    json_decref(r);
    json_t *p = pairs(&worker, &e);
    assert_false(has_pair(p, kid_d, kid_e));
    json_decref(p);
}

/* A merge without health permission cannot take health fields. */
static void test_merge_health_permission(void **state)
{
    (void)state;
    struct actor admin;
    make_actor(&admin, "admin", worker.org_id, worker.org_slug);
    json_t *take = json_pack("[s]", "disability");
    struct err e;
    err_clear(&e);
    assert_int_equal(children_merge(db, &admin, kid_a, kid_b, take, NULL, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    json_decref(take);
    /* nothing changed */
    assert_int_equal(count("SELECT COUNT(*) FROM children WHERE id = $1 AND merged_into IS NULL",
                           kid_b, NULL),
                     1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_candidates),
        cmocka_unit_test(test_nasty_records),
        cmocka_unit_test(test_pairs_and_distinct),
        cmocka_unit_test(test_isolation),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_merge_health_permission),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
