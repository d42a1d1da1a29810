/*
 * test_children: the registry service: validation of every kind of field,
 * file numbers, sealed health fields and who sees them, audited views,
 * lost-update protection, status moves, households, guardians, consent, and
 * isolation between organizations. Runs on SANAD_TEST_DB or a temp SQLite file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "children/children.h"
#include "children/search.h"
#include "core/config.h"
#include "core/time.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "keys/keys.h"
#include "testlib.h"

static struct db *db;
static struct actor worker;   /* case_worker of org A */
static struct actor officer;  /* sponsorship_officer of org A */
static struct actor other;    /* case_worker of org B */

/* Makes an organization with a random slug and an actor of role in it. */
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

static struct testenv env;

static int setup(void **state)
{
    (void)state;
    if (testenv_open(&env, "children") < 0) {
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

/* A valid child, as the API would send it. */
static json_t *sample(const char *first)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "first_name", first,
                     "father_name", "محمد", "grandfather_name", "علي", "family_name", "الخطيب",
                     "sex", "M", "birth_date", "2015-03-10", "orphan_status", "father_deceased",
                     "health_conditions", "ربو");
}

/* The field named in the first problem of errors. */
static const char *first_field(json_t *errors)
{
    return json_string_value(json_object_get(json_array_get(errors, 0), "field"));
}

/* Validates one member set on a sample and returns the first problem's code (or NULL). */
static char *code_for(const char *field, json_t *value)
{
    static char code[64];
    json_t *in = sample("أحمد");
    json_object_set_new(in, field, value);
    json_t *errors = json_array();
    int n = children_validate(in, true, 18, errors);
    code[0] = '\0';
    if (n > 0) {
        snprintf(code, sizeof(code), "%s",
                 json_string_value(json_object_get(json_array_get(errors, 0), "code")));
        assert_string_equal(first_field(errors), field);
    }
    json_decref(errors);
    json_decref(in);
    return n ? code : NULL;
}

/* Ages in whole years: the birthday counts from its day, a future date is 0, no date is -1. */
static void test_age(void **state)
{
    (void)state;
    int y, m, d;
    time_today(&y, &m, &d);
    char date[48];
    snprintf(date, sizeof(date), "%04d-%02d-%02d", y - 10, m, d);
    if (m == 2 && d == 29) {
        snprintf(date, sizeof(date), "%04d-02-28", y - 10); /* no 29th ten years ago */
    }
    assert_int_equal(child_age(date), 10);
    snprintf(date, sizeof(date), "%04d-12-31", y - 10);
    assert_int_equal(child_age(date), m == 12 && d == 31 ? 10 : 9);
    snprintf(date, sizeof(date), "%04d-01-01", y + 1);
    assert_int_equal(child_age(date), 0);
    assert_int_equal(child_age(NULL), -1);
    assert_int_equal(child_age(""), -1);
    assert_int_equal(child_age("2015-02-30"), -1);
    assert_int_equal(child_age("not a date"), -1);
}

static void test_validation(void **state)
{
    (void)state;
    assert_null(code_for("first_name", json_string("عبد الله")));
    assert_string_equal(code_for("first_name", json_string("")), "required");
    assert_string_equal(code_for("first_name", json_string("   ")), "required");
    assert_string_equal(code_for("first_name", json_string("Ahmad")), "mixed_scripts");
    assert_string_equal(code_for("first_name", json_string("أحمدX")), "mixed_scripts");
    assert_string_equal(code_for("first_name_latin", json_string("أحمد")), "mixed_scripts");
    assert_null(code_for("first_name_latin", json_string("Ahmad")));
    assert_string_equal(code_for("first_name", json_string("أحمد1")), "invalid_name");
    assert_string_equal(code_for("first_name", json_string("أحمد\nعلي")), "invalid_text");
    assert_string_equal(code_for("first_name", json_integer(5)), "invalid_type");
    /* Huge: refused as too long, not truncated. */
    char *big = malloc(10 * 1024 * 1024 + 1);
    memset(big, 'a', 10 * 1024 * 1024);
    big[10 * 1024 * 1024] = '\0';
    assert_string_equal(code_for("first_name_latin", json_string(big)), "too_long");
    free(big);
    assert_string_equal(code_for("birth_date", json_string("2023-02-31")), "invalid_date");
    assert_string_equal(code_for("birth_date", json_string("31/02/2023")), "invalid_date");
    assert_string_equal(code_for("birth_date", json_string("2999-01-01")), "future_date");
    int y, m, d;
    time_today(&y, &m, &d);
    char old[32];
    snprintf(old, sizeof(old), "%04d-01-01", y - 19);
    assert_string_equal(code_for("birth_date", json_string(old)), "over_age_limit");
    assert_null(code_for("birth_date", json_string("2016-02-29")));
    assert_string_equal(code_for("birth_date", json_string("2015-02-29")), "invalid_date");
    assert_string_equal(code_for("sex", json_string("X")), "invalid_choice");
    assert_string_equal(code_for("sex", json_string("m")), "invalid_choice");
    assert_null(code_for("needs", json_string("food, device,electricity")));
    assert_string_equal(code_for("needs", json_string("food,cars")), "invalid_choice");
    assert_string_equal(code_for("latitude", json_string("91")), "invalid_coordinate");
    assert_null(code_for("latitude", json_string("31.9539")));
    assert_null(code_for("longitude", json_string("-35.91")));
    assert_string_equal(code_for("longitude", json_string("35,9")), "invalid_coordinate");
    assert_null(code_for("birth_date_estimated", json_true()));
    assert_string_equal(code_for("birth_date_estimated", json_string("maybe")), "invalid_bool");
    assert_string_equal(code_for("household_id", json_string("nope")), "invalid_id");
    assert_string_equal(code_for("father_death_date", json_string("2000-01-01")),
                        "death_before_birth");
    assert_null(code_for("father_death_date", json_string("2014-09-01")));
    assert_string_equal(code_for("nonsense", json_string("x")), "unknown_field");
    /* Invalid UTF-8 inside a JSON string (jansson allows it only via json_stringn_nocheck). */
    assert_string_equal(code_for("first_name", json_stringn_nocheck("\xff\xfe", 2)),
                        "invalid_type");
    /* Every problem is listed, not only the first. */
    json_t *in = json_object();
    json_t *errors = json_array();
    assert_true(children_validate(in, true, 18, errors) >= 5);
    json_decref(errors);
    json_decref(in);
    /* Names come back in NFC: alef + combining hamza above is the composed letter. */
    in = sample("\xd8\xa7\xd9\x94\xd8\xad\xd9\x85\xd8\xaf");
    errors = json_array();
    assert_int_equal(children_validate(in, true, 18, errors), 0);
    assert_string_equal(json_string_value(json_object_get(in, "first_name")), "أحمد");
    json_decref(errors);
    json_decref(in);
}

/* Counts the rows of a table for org (to check nothing was half-written). */
static int64_t count(const char *sql, const char *org)
{
    struct err e;
    err_clear(&e);
    int found;
    struct db_stmt *s = db_row(db, &e, &found, sql, "t", org);
    assert_non_null(s);
    int64_t n = db_col_int64(s, 0);
    db_done(s);
    return n;
}

static void test_create_read_update(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    char id[40], file_no[64];
    json_t *errors = NULL;
    json_t *in = sample("يوسف");
    assert_int_equal(child_create(db, &worker, in, id, file_no, &errors, &e), 0);
    json_decref(in);
    int y, m, d;
    time_today(&y, &m, &d);
    char prefix[128];
    snprintf(prefix, sizeof(prefix), "%s-%04d-", worker.org_slug, y);
    for (char *p = prefix; *p; p++) {
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    }
    assert_true(strncmp(file_no, prefix, strlen(prefix)) == 0);
    assert_int_equal(strlen(file_no), strlen(prefix) + 6);
    /* The health text is not stored in clear. */
    int found;
    struct db_stmt *s = db_row(db, &e, &found,
                               "SELECT health_conditions, first_name FROM children WHERE id = $1",
                               "t", id);
    assert_non_null(s);
    assert_null(strstr(db_col_text(s, 0), "ربو"));
    assert_true(strncmp(db_col_text(s, 0), "v1.", 3) == 0);
    db_done(s);
    /* The case worker sees health; the sponsorship officer does not. */
    json_t *j = child_get(db, &worker, id, &e);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "health_conditions")), "ربو");
    assert_string_equal(json_string_value(json_object_get(j, "status")), "registered");
    assert_true(json_integer_value(json_object_get(j, "age")) >= 10);
    json_int_t version = json_integer_value(json_object_get(j, "version"));
    json_decref(j);
    j = child_get(db, &officer, id, &e);
    assert_non_null(j);
    assert_null(json_object_get(j, "health_conditions"));
    assert_null(json_object_get(j, "medication"));
    json_decref(j);
    /* Another organization does not see it at all. */
    assert_null(child_get(db, &other, id, &e));
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    /* Views are audited. */
    assert_true(count("SELECT COUNT(*) FROM audit_log WHERE org_id = $1 AND action = 'child.view'",
                      worker.org_id) >= 2);
    /* The officer may not write health fields. */
    json_t *patch = json_pack("{s:s}", "medication", "x");
    assert_int_equal(child_update(db, &officer, id, patch, 0, &errors, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    json_decref(patch);
    /* An update with the right version works; the stale one is refused. */
    patch = json_pack("{s:s, s:s}", "school_name", "مدرسة الأمل", "medication", "فنتولين");
    assert_int_equal(child_update(db, &worker, id, patch, version, &errors, &e), 0);
    assert_int_equal(child_update(db, &worker, id, patch, version, &errors, &e), -1);
    assert_string_equal(e.code, "version_conflict");
    json_decref(patch);
    j = child_get(db, &worker, id, &e);
    assert_string_equal(json_string_value(json_object_get(j, "medication")), "فنتولين");
    assert_string_equal(json_string_value(json_object_get(j, "health_conditions")), "ربو");
    json_decref(j);
    /* A bad update names the field and changes nothing. */
    patch = json_pack("{s:s, s:s}", "school_name", "أخرى", "birth_date", "2015-13-01");
    assert_int_equal(child_update(db, &worker, id, patch, 0, &errors, &e), -1);
    assert_string_equal(first_field(errors), "birth_date");
    json_decref(errors);
    errors = NULL;
    json_decref(patch);
    j = child_get(db, &worker, id, &e);
    assert_string_equal(json_string_value(json_object_get(j, "school_name")), "مدرسة الأمل");
    json_decref(j);
    /* A failed create writes nothing. */
    int64_t before = count("SELECT COUNT(*) FROM children WHERE org_id = $1", worker.org_id);
    in = sample("");
    assert_int_equal(child_create(db, &worker, in, id, file_no, &errors, &e), -1);
    assert_string_equal(first_field(errors), "first_name");
    json_decref(errors);
    json_decref(in);
    assert_int_equal(count("SELECT COUNT(*) FROM children WHERE org_id = $1", worker.org_id),
                     before);
    /* File numbers follow each other. */
    char id2[40], file2[64];
    in = sample("سارة");
    json_object_set_new(in, "sex", json_string("F"));
    assert_int_equal(child_create(db, &worker, in, id2, file2, &errors, &e), 0);
    json_decref(in);
    assert_true(strcmp(file2, file_no) > 0);
}

static void test_status_moves(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    char id[40], file_no[64];
    json_t *errors = NULL;
    json_t *in = sample("خالد");
    assert_int_equal(child_create(db, &worker, in, id, file_no, &errors, &e), 0);
    json_decref(in);
    assert_int_equal(child_set_status(db, &worker, id, "active", NULL, &e), 0);
    assert_int_equal(child_set_status(db, &worker, id, "closed", NULL, &e), -1);
    assert_string_equal(e.field, "reason");
    assert_int_equal(child_set_status(db, &worker, id, "flying", NULL, &e), -1);
    assert_int_equal(child_set_status(db, &worker, id, "registered", NULL, &e), -1);
    assert_string_equal(e.code, "invalid_transition");
    assert_int_equal(child_set_status(db, &worker, id, "closed", "moved_away", &e), 0);
    assert_int_equal(child_set_status(db, &other, id, "active", NULL, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    json_t *h = child_history(db, &worker, id, &e);
    assert_non_null(h);
    json_t *st = json_object_get(h, "status");
    assert_int_equal(json_array_size(st), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(st, 0), "to")), "closed");
    assert_string_equal(json_string_value(json_object_get(json_array_get(st, 0), "reason")),
                        "moved_away");
    json_decref(h);
}

static void test_households_guardians_consent(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    char hh[40], g1[40], g2[40], kid[40], file_no[64];
    json_t *in = json_pack("{s:s, s:s}", "name", "أسرة الخطيب", "camp", "مخيم البقعة");
    assert_int_equal(household_create(db, &worker, in, hh, &e), 0);
    json_decref(in);
    in = json_pack("{s:s, s:s, s:s, s:s}", "full_name", "ريم الخطيب", "relation", "mother",
                   "phone", "٠٧٩١٢٣٤٥٦٧", "household_id", hh);
    assert_int_equal(guardian_create(db, &worker, in, g1, &e), 0);
    json_decref(in);
    in = json_pack("{s:s, s:s}", "full_name", "سعيد الخطيب", "relation", "neighbour");
    assert_int_equal(guardian_create(db, &worker, in, g2, &e), -1);
    assert_string_equal(e.field, "relation");
    json_decref(in);
    in = json_pack("{s:s, s:s, s:s}", "full_name", "سعيد الخطيب", "relation", "uncle",
                   "household_id", hh);
    assert_int_equal(guardian_create(db, &worker, in, g2, &e), 0);
    json_decref(in);
    /* Phone digits are kept for search, Arabic-Indic digits included. */
    int found;
    struct db_stmt *s = db_row(db, &e, &found, "SELECT phone_digits FROM guardians WHERE id = $1",
                               "t", g1);
    assert_non_null(s);
    assert_string_equal(db_col_text(s, 0), "0791234567");
    db_done(s);
    json_t *errors = NULL;
    in = sample("ليلى");
    json_object_set_new(in, "sex", json_string("F"));
    json_object_set_new(in, "household_id", json_string(hh));
    assert_int_equal(child_create(db, &worker, in, kid, file_no, &errors, &e), 0);
    json_decref(in);
    assert_int_equal(child_set_guardian(db, &worker, kid, g1, "registration", &e), 0);
    assert_int_equal(child_set_guardian(db, &worker, kid, g2, "mother travelled", &e), 0);
    assert_int_equal(child_set_guardian(db, &other, kid, g1, NULL, &e), -1);
    json_t *h = child_history(db, &worker, kid, &e);
    json_t *gh = json_object_get(h, "guardians");
    assert_int_equal(json_array_size(gh), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(gh, 0), "reason")),
                        "mother travelled");
    json_decref(h);
    json_t *house = household_get(db, &worker, hh, &e);
    assert_non_null(house);
    assert_int_equal(json_array_size(json_object_get(house, "children")), 1);
    assert_int_equal(json_array_size(json_object_get(house, "guardians")), 2);
    json_decref(house);
    assert_null(household_get(db, &other, hh, &e));
    /* A household of another organization cannot be given to a child. */
    char hh_b[40];
    in = json_pack("{s:s}", "name", "other");
    assert_int_equal(household_create(db, &other, in, hh_b, &e), 0);
    json_decref(in);
    json_t *patch = json_pack("{s:s}", "household_id", hh_b);
    assert_int_equal(child_update(db, &worker, kid, patch, 0, &errors, &e), -1);
    assert_string_equal(e.field, "household_id");
    json_decref(patch);

    /* Consent: recorded, in force, withdrawn at once. */
    char cid[40];
    in = json_pack("{s:s, s:b, s:b, s:s}", "scope", "sponsor_media", "guardian_consent", 1,
                   "child_assent", 1, "given_by", "ريم الخطيب");
    assert_int_equal(consent_record(db, &worker, kid, in, cid, &e), 0);
    json_decref(in);
    assert_true(consent_active(db, kid, "sponsor_media", NULL));
    assert_false(consent_active(db, kid, "public_media", NULL));
    in = json_pack("{s:s, s:b}", "scope", "share_org", "guardian_consent", 1);
    assert_int_equal(consent_record(db, &worker, kid, in, cid, &e), -1);
    assert_string_equal(e.field, "target_org");
    json_decref(in);
    in = json_pack("{s:s, s:b}", "scope", "services", "guardian_consent", 0);
    assert_int_equal(consent_record(db, &worker, kid, in, cid, &e), -1);
    assert_string_equal(e.field, "legal_basis");
    json_decref(in);
    json_t *list = consent_list(db, &worker, kid, &e);
    assert_int_equal(json_array_size(list), 1);
    const char *consent_id = json_string_value(json_object_get(json_array_get(list, 0), "id"));
    char keep[40];
    snprintf(keep, sizeof(keep), "%s", consent_id);
    json_decref(list);
    assert_int_equal(consent_withdraw(db, &other, keep, &e), -1);
    assert_int_equal(consent_withdraw(db, &worker, keep, &e), 0);
    assert_false(consent_active(db, kid, "sponsor_media", NULL));
    assert_int_equal(consent_withdraw(db, &worker, keep, &e), -1);
}

static void test_permissions(void **state)
{
    (void)state;
    struct actor donor;
    make_actor(&donor, "donor", worker.org_id, worker.org_slug);
    struct err e;
    err_clear(&e);
    char id[40], file_no[64];
    json_t *errors = NULL;
    json_t *in = sample("سامي");
    assert_int_equal(child_create(db, &donor, in, id, file_no, &errors, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    /* A sponsorship officer cannot register health details. */
    assert_int_equal(child_create(db, &officer, in, id, file_no, &errors, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    json_decref(in);
}

static void test_settings_and_graduation(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    char org[40], slug[32];
    testenv_org(&env, org, slug);
    struct actor w, cli;
    make_actor(&w, "case_worker", org, slug);
    actor_system(&cli, org);
    snprintf(cli.org_slug, sizeof(cli.org_slug), "%s", slug);
    /* A case worker may not change settings; bad patterns and limits are refused. */
    assert_int_equal(children_settings_set(db, &w, "X-{NNNN}", 0, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    assert_int_equal(children_settings_set(db, &cli, "X-{N}", 0, &e), -1);
    assert_string_equal(e.field, "file_pattern");
    assert_int_equal(children_settings_set(db, &cli, "no counter", 0, &e), -1);
    assert_int_equal(children_settings_set(db, &cli, NULL, 40, &e), -1);
    assert_string_equal(e.field, "age_limit");
    assert_int_equal(children_settings_set(db, &cli, "DAR/{YYYY}/{NNNN}", 0, &e), 0);
    char id[40], file_no[64], old_id[40];
    json_t *errors = NULL;
    json_t *in = sample("مريم");
    json_object_set_new(in, "sex", json_string("F"));
    assert_int_equal(child_create(db, &w, in, old_id, file_no, &errors, &e), 0);
    json_decref(in);
    int y, m, d;
    time_today(&y, &m, &d);
    char want[32];
    snprintf(want, sizeof(want), "DAR/%04d/0001", y);
    assert_string_equal(file_no, want);
    in = sample("رامي");
    json_object_set_new(in, "birth_date", json_string("2020-01-01"));
    assert_int_equal(child_create(db, &w, in, id, file_no, &errors, &e), 0);
    json_decref(in);
    /* With the limit lowered to 10, the 2015 child has reached it; the 2020 one has not. */
    assert_int_equal(children_settings_set(db, &cli, NULL, 10, &e), 0);
    assert_int_equal(children_age_limit(db, org), 10);
    assert_int_equal(children_graduate_due(db, &cli, &e), 1);
    assert_int_equal(children_graduate_due(db, &cli, &e), 0);
    json_t *j = child_get(db, &w, old_id, &e);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "graduated");
    assert_string_equal(json_string_value(json_object_get(j, "status_reason")), "age_limit");
    json_decref(j);
    j = child_get(db, &w, id, &e);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "registered");
    json_decref(j);
    /* Registration now refuses a child over the new limit. */
    in = sample("ثامر");
    assert_int_equal(child_create(db, &w, in, id, file_no, &errors, &e), -1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "code")),
                        "over_age_limit");
    json_decref(errors);
    json_decref(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_age),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_create_read_update),
        cmocka_unit_test(test_status_moves),
        cmocka_unit_test(test_households_guardians_consent),
        cmocka_unit_test(test_permissions),
        cmocka_unit_test(test_settings_and_graduation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
