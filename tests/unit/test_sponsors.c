/*
 * test_sponsors: donors and agreements at the service level: validation that
 * writes nothing, donor numbers, the audited donor view, sibling groups,
 * split by purpose, pause and resume, ending, a sponsor change that keeps
 * the history, children.sponsored, the waiting list's order, the age-limit
 * job (one notice, the end at the limit), the officer's home, permissions
 * and isolation between organizations. Runs on SANAD_TEST_DB or SQLite.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/time.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "sponsorship/billing.h"
#include "sponsorship/sponsors.h"
#include "sponsorship/sponsors_int.h"
#include "testlib.h"

static struct testenv env;
static struct actor officer, worker, donor_user, other, admin;
static char org_a[40];
static char kid1[40], kid2[40], kid3[40], kid4[40], kid_b[40];

/* Runs sql with one text parameter (test set-up behind the services' back). */
static void sql1(const char *sql, const char *p1, const char *p2)
{
    struct err e;
    err_clear(&e);
    assert_true(db_begin(env.db, false, &e) == 0);
    assert_true(db_run(env.db, &e, sql, p2 ? "tt" : "t", p1, p2) >= 0);
    assert_true(db_commit(env.db, &e) == 0);
}

/* An integer read with one text parameter. */
static int64_t int1(const char *sql, const char *p1)
{
    struct err e;
    err_clear(&e);
    int found;
    assert_true(db_begin(env.db, true, &e) == 0);
    struct db_stmt *s = db_row(env.db, &e, &found, sql, "t", p1);
    int64_t v = -1;
    if (s) {
        v = db_col_int64(s, 0);
        db_done(s);
    }
    db_rollback(env.db);
    return v;
}

static int setup(void **state)
{
    (void)state;
    if (testenv_open(&env, "sponsors") < 0) {
        return -1;
    }
    char b[40], sa[32], sb[32];
    testenv_org(&env, org_a, sa);
    testenv_org(&env, b, sb);
    testenv_user(&env, &officer, "sponsorship_officer", org_a, sa);
    testenv_user(&env, &worker, "case_worker", org_a, sa);
    testenv_user(&env, &donor_user, "donor", org_a, sa);
    testenv_user(&env, &admin, "admin", org_a, sa);
    testenv_user(&env, &other, "sponsorship_officer", b, sb);
    struct actor reg;
    testenv_user(&env, &reg, "case_worker", org_a, sa);
    testenv_child(&env, &reg, "مريم", "2014-02-01", kid1);
    testenv_child(&env, &reg, "سارة", "2015-05-01", kid2);
    testenv_child(&env, &reg, "هدى", "2012-06-01", kid3);
    testenv_child(&env, &reg, "ليلى", "2013-03-01", kid4);
    struct actor regb;
    testenv_user(&env, &regb, "case_worker", b, sb);
    testenv_child(&env, &regb, "نور", "2012-06-01", kid_b);
    /* kid1 and kid2 are sisters; kid3 lives elsewhere. */
    json_t *h = json_pack("{s:s}", "name", "أسرة الخطيب");
    char hid[40];
    struct err e;
    err_clear(&e);
    assert_int_equal(household_create(env.db, &reg, h, hid, &e), 0);
    json_decref(h);
    sql1("UPDATE children SET household_id = $1 WHERE id IN ($2)", hid, kid1);
    sql1("UPDATE children SET household_id = $1 WHERE id IN ($2)", hid, kid2);
    sql1("UPDATE children SET status = 'active' WHERE org_id = $1", org_a, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return testenv_close(&env);
}

/* Creates a donor named name for officer; writes its id. */
static void new_donor(const char *name, const char *email, char id[40])
{
    json_t *in = json_pack("{s:s, s:s, s:s?, s:b}", "kind", "person", "name", name, "email", email,
                           "contact_consent", 1);
    struct err e;
    err_clear(&e);
    char no[16];
    json_t *errors = NULL;
    if (donor_create(env.db, &officer, in, id, no, &errors, &e) < 0) {
        fail_msg("donor_create: %s", e.msg);
    }
    json_decref(in);
}

/* Creates one agreement from a JSON text; returns 0 with its id, or -1 with e's code. */
static int new_agreement(const char *json, char id[40], char code[48])
{
    json_error_t je;
    json_t *in = json_loads(json, 0, &je);
    assert_non_null(in);
    struct err e;
    err_clear(&e);
    json_t *created = NULL, *errors = NULL;
    int rc = sponsorship_create(env.db, &officer, in, &created, &errors, &e);
    json_decref(in);
    if (rc < 0) {
        const char *c =
            errors ? json_string_value(json_object_get(json_array_get(errors, 0), "code")) : e.code;
        snprintf(code, 48, "%s", c ? c : e.code);
        json_decref(errors);
        return -1;
    }
    if (id) {
        snprintf(id, 40, "%s",
                 json_string_value(json_object_get(json_array_get(created, 0), "id")));
    }
    json_decref(created);
    return 0;
}

static int64_t count_sp(void)
{
    return int1("SELECT COUNT(*) FROM sponsorships WHERE org_id = $1", org_a);
}

static int64_t sponsored(const char *kid)
{
    return int1("SELECT sponsored FROM children WHERE id = $1", kid);
}

static void test_donors(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    char id[40], no[16], id2[40], no2[16];
    json_t *errors = NULL;
    /* Bad input: every problem listed, nothing written, no number taken. */
    json_t *bad = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "alien", "name", " ", "email",
                            "not-an-address", "preferred_channel", "pigeon", "colour", "red");
    assert_int_equal(donor_create(env.db, &officer, bad, id, no, &errors, &e), -1);
    assert_true(json_array_size(errors) >= 5);
    json_decref(errors);
    json_decref(bad);
    assert_int_equal(int1("SELECT COUNT(*) FROM donors WHERE org_id = $1", org_a), 0);
    /* Case roles and donors may not manage donors. */
    json_t *in = json_pack("{s:s, s:s, s:s}", "kind", "mosque", "name", "مسجد النور", "email",
                           "imam@example.org");
    assert_int_equal(donor_create(env.db, &worker, in, id, no, NULL, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    assert_int_equal(donor_create(env.db, &officer, in, id, no, NULL, &e), 0);
    assert_string_equal(no, "D-000001");
    json_decref(in);
    /* A group sponsored while the mosque pays. */
    in = json_pack("{s:s, s:s, s:s}", "kind", "group", "name", "Friends circle", "payer_id", no);
    assert_int_equal(donor_create(env.db, &officer, in, id2, no2, NULL, &e), 0);
    assert_string_equal(no2, "D-000002");
    json_decref(in);
    /* Its own payer is refused. */
    in = json_pack("{s:s}", "payer_id", id2);
    errors = NULL;
    assert_int_equal(donor_update(env.db, &officer, id2, in, &errors, &e), -1);
    json_decref(errors);
    json_decref(in);
    /* The view is audited, and not for another organization or a case worker. */
    int64_t views = int1("SELECT COUNT(*) FROM audit_log WHERE action = 'donor.view'"
                         " AND entity_id = $1",
                         id2);
    json_t *d = donor_get(env.db, &officer, id2, &e);
    assert_non_null(d);
    assert_string_equal(json_string_value(json_object_get(d, "payer_no")), "D-000001");
    json_decref(d);
    assert_int_equal(int1("SELECT COUNT(*) FROM audit_log WHERE action = 'donor.view'"
                          " AND entity_id = $1",
                          id2),
                     views + 1);
    assert_null(donor_get(env.db, &other, id2, &e));
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    assert_null(donor_get(env.db, &worker, id2, &e));
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    assert_null(donor_get(env.db, &donor_user, id2, &e));
    /* Search by number and by name. */
    assert_int_equal(db_begin(env.db, true, &e), 0);
    json_t *l = donor_list(env.db, &officer, "d-000002", NULL, 1, 25, &e);
    assert_int_equal(json_integer_value(json_object_get(l, "total")), 1);
    json_decref(l);
    l = donor_list(env.db, &officer, "النور", NULL, 1, 25, &e);
    assert_int_equal(json_integer_value(json_object_get(l, "total")), 1);
    json_decref(l);
    l = donor_list(env.db, &officer, "%", NULL, 1, 25, &e);
    assert_int_equal(json_integer_value(json_object_get(l, "total")), 0);
    json_decref(l);
    db_rollback(env.db);
    /* Portal link: only an account with the donor role, once. */
    assert_int_equal(donor_link_user(env.db, &officer, id, worker.user_id, &e), -1);
    assert_int_equal(donor_link_user(env.db, &officer, id, donor_user.user_id, &e), 0);
    assert_int_equal(donor_link_user(env.db, &officer, id2, donor_user.user_id, &e), -1);
    assert_int_equal(e.kind, ERR_CONFLICT);
    char found[40];
    assert_int_equal(donor_for_user(env.db, donor_user.user_id, found, &e), 1);
    assert_string_equal(found, id);
    assert_int_equal(donor_for_user(env.db, worker.user_id, found, &e), 0);
}

static void test_agreements(void **state)
{
    (void)state;
    char sponsor[40], sponsor2[40], code[48], id[40], json[1024];
    new_donor("أحمد", "ahmad@example.org", sponsor);
    new_donor("Beth", NULL, sponsor2);
    int64_t before = count_sp();
    /* Bad amounts and currencies change nothing. */
    static const char *const bad[][3] = {
        {"0", "USD", "not_positive"},           {"-5", "USD", "not_positive"},
        {"10.123", "USD", "too_many_decimals"}, {"10.5", "JPY", "too_many_decimals"},
        {"10", "XXY", "unknown_currency"},      {"ten", "USD", "invalid_amount"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(json, sizeof(json),
                 "{\"child_id\":\"%s\",\"donor_id\":\"%s\",\"amount\":\"%s\",\"currency\":\"%s\","
                 "\"frequency\":\"monthly\",\"start_date\":\"2026-01-01\"}",
                 kid1, sponsor, bad[i][0], bad[i][1]);
        assert_int_equal(new_agreement(json, id, code), -1);
        assert_string_equal(code, bad[i][2]);
    }
    assert_int_equal(count_sp(), before);
    /* Siblings together: one group; a child from another household refused. */
    snprintf(json, sizeof(json),
             "{\"child_ids\":[\"%s\",\"%s\",\"%s\"],\"donor_id\":\"%s\",\"amount\":\"40\","
             "\"currency\":\"USD\",\"frequency\":\"monthly\",\"start_date\":\"2026-01-01\","
             "\"status\":\"active\"}",
             kid1, kid2, kid3, sponsor);
    assert_int_equal(new_agreement(json, id, code), -1);
    assert_string_equal(code, "not_siblings");
    assert_int_equal(count_sp(), before);
    snprintf(json, sizeof(json),
             "{\"child_ids\":[\"%s\",\"%s\"],\"donor_id\":\"%s\",\"amount\":\"40\","
             "\"currency\":\"USD\",\"frequency\":\"monthly\",\"start_date\":\"2026-01-01\","
             "\"status\":\"active\"}",
             kid1, kid2, sponsor);
    assert_int_equal(new_agreement(json, id, code), 0);
    assert_int_equal(count_sp(), before + 2);
    assert_int_equal(int1("SELECT COUNT(DISTINCT group_id) FROM sponsorships WHERE org_id = $1"
                          " AND group_id IS NOT NULL",
                          org_a),
                     1);
    assert_int_equal(sponsored(kid1), 1);
    assert_int_equal(sponsored(kid2), 1);
    assert_int_equal(int1("SELECT COUNT(*) FROM sponsorships WHERE next_due = start_date"
                          " AND org_id = $1",
                          org_a),
                     before + 2);
    /* Split by purpose: a second general sponsor refused, an education one accepted. */
    snprintf(json, sizeof(json),
             "{\"child_id\":\"%s\",\"donor_id\":\"%s\",\"amount\":\"15\",\"currency\":\"USD\","
             "\"frequency\":\"yearly\",\"start_date\":\"2026-02-01\",\"status\":\"active\"}",
             kid1, sponsor2);
    assert_int_equal(new_agreement(json, id, code), -1);
    assert_string_equal(code, "purpose_taken");
    snprintf(json, sizeof(json),
             "{\"child_id\":\"%s\",\"donor_id\":\"%s\",\"amount\":\"15\",\"currency\":\"USD\","
             "\"frequency\":\"yearly\",\"purpose\":\"education\",\"start_date\":\"2026-02-01\"}",
             kid1, sponsor2);
    char edu[40];
    assert_int_equal(new_agreement(json, edu, code), 0);
    struct err e;
    err_clear(&e);
    assert_int_equal(sponsorship_activate(env.db, &officer, edu, &e), 0);
    assert_int_equal(sponsorship_activate(env.db, &officer, edu, &e), -1);
    assert_int_equal(e.kind, ERR_CONFLICT);
    /* Payer defaults to the sponsor. */
    assert_int_equal(
        int1("SELECT COUNT(*) FROM sponsorships WHERE id = $1 AND payer_id = donor_id", edu), 1);
    /* Pause and resume; the flag stays while paused. */
    assert_int_equal(sponsorship_pause(env.db, &officer, edu, "2025-01-01", NULL, NULL, &e), -1);
    assert_int_equal(sponsorship_pause(env.db, &officer, edu, "2026-04-01", "2026-03-01", NULL, &e),
                     -1);
    assert_int_equal(sponsorship_pause(env.db, &officer, edu, "2026-04-01", NULL, "travel", &e), 0);
    assert_int_equal(sponsorship_pause(env.db, &officer, edu, "2026-05-01", NULL, NULL, &e), -1);
    assert_int_equal(
        int1("SELECT COUNT(*) FROM sponsorships WHERE id = $1 AND status = 'paused'", edu), 1);
    assert_int_equal(sponsorship_resume(env.db, &officer, edu, "2026-06-01", &e), 0);
    assert_int_equal(int1("SELECT COUNT(*) FROM sponsorship_pauses WHERE sponsorship_id = $1"
                          " AND to_date = '2026-05-31'",
                          edu),
                     1);
    /* Ending the education agreement keeps kid1 sponsored (the general one is active). */
    assert_int_equal(sponsorship_end(env.db, &officer, edu, "whim", NULL, NULL, &e), -1);
    assert_int_equal(
        sponsorship_end(env.db, &officer, edu, "sponsor_request", "2026-07-31", NULL, &e), 0);
    assert_int_equal(sponsored(kid1), 1);
    /* The database holds the rule too: a second live general agreement for kid1 is refused. */
    char dup_id[UUID_STR_LEN];
    uuid_v7(dup_id);
    assert_int_equal(db_begin(env.db, false, &e), 0);
    assert_true(db_run(env.db, &e,
                       "INSERT INTO sponsorships (id, org_id, agreement_no, child_id, donor_id,"
                       " payer_id, amount, currency, frequency, purpose, start_date, status,"
                       " next_due, created_by, created_at, updated_at) SELECT"
                       " CAST($2 AS TEXT), org_id, 'S-TEST', child_id,"
                       " donor_id, payer_id, amount, currency, frequency, purpose, start_date,"
                       " 'paused', next_due, created_by, created_at, updated_at FROM sponsorships"
                       " WHERE child_id = $1 AND purpose = 'general' AND status = 'active'",
                       "tt", kid1, dup_id) < 0);
    assert_string_equal(e.code, "unique_violation");
    db_rollback(env.db);
    err_clear(&e);
    /* A group paid for by another donor: the agreement's payer is that donor. */
    char patron[40], group[40], no[16];
    new_donor("Patron", NULL, patron);
    json_t *gin =
        json_pack("{s:s, s:s, s:s}", "kind", "group", "name", "Circle", "payer_id", patron);
    assert_int_equal(donor_create(env.db, &officer, gin, group, no, NULL, &e), 0);
    json_decref(gin);
    snprintf(json, sizeof(json),
             "{\"child_id\":\"%s\",\"donor_id\":\"%s\",\"amount\":\"9\",\"currency\":\"EUR\","
             "\"frequency\":\"half_yearly\",\"purpose\":\"medical\",\"start_date\":\"2026-02-01\"}",
             kid1, group);
    char med[40];
    assert_int_equal(new_agreement(json, med, code), 0);
    assert_int_equal(
        int1("SELECT COUNT(*) FROM sponsorships WHERE id = $1 AND donor_id <> payer_id", med), 1);
    char payer_seen[40] = "";
    assert_int_equal(db_begin(env.db, true, &e), 0);
    json_t *mj = sponsorship_get(env.db, &officer, med, &e);
    db_rollback(env.db);
    snprintf(payer_seen, sizeof(payer_seen), "%s",
             json_string_value(json_object_get(mj, "payer_id")));
    json_decref(mj);
    assert_string_equal(payer_seen, patron);
    /* Another organization's child, and a merged record, are refused. */
    before = count_sp();
    snprintf(json, sizeof(json),
             "{\"child_id\":\"%s\",\"donor_id\":\"%s\",\"amount\":\"9\",\"currency\":\"EUR\","
             "\"frequency\":\"monthly\",\"start_date\":\"2026-02-01\"}",
             kid_b, sponsor2);
    assert_int_equal(new_agreement(json, id, code), -1);
    assert_string_equal(code, "no_such_child");
    struct actor reg;
    memcpy(&reg, &officer, sizeof(reg));
    snprintf(reg.role, sizeof(reg.role), "admin");
    char merged[40];
    testenv_child(&env, &reg, "رنا", "2015-01-01", merged);
    sql1("UPDATE children SET status = 'active', merged_into = $2 WHERE id = $1", merged, kid2);
    snprintf(json, sizeof(json),
             "{\"child_id\":\"%s\",\"donor_id\":\"%s\",\"amount\":\"9\",\"currency\":\"EUR\","
             "\"frequency\":\"monthly\",\"start_date\":\"2026-02-01\"}",
             merged, sponsor2);
    assert_int_equal(new_agreement(json, id, code), -1);
    assert_string_equal(code, "child_not_active");
    assert_int_equal(count_sp(), before);
    /* A case worker may not see agreements. */
    assert_int_equal(db_begin(env.db, true, &e), 0);
    assert_null(sponsorship_get(env.db, &worker, edu, &e));
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    assert_null(sponsorship_get(env.db, &other, edu, &e));
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    db_rollback(env.db);
}

static void test_change_sponsor(void **state)
{
    (void)state;
    char s1[40], s2[40], code[48], old[40], json[1024];
    new_donor("Carl", NULL, s1);
    new_donor("Dina", NULL, s2);
    snprintf(json, sizeof(json),
             "{\"child_id\":\"%s\",\"donor_id\":\"%s\",\"amount\":\"30.50\",\"currency\":\"USD\","
             "\"frequency\":\"quarterly\",\"start_date\":\"2026-01-01\",\"status\":\"active\"}",
             kid4, s1);
    assert_int_equal(new_agreement(json, old, code), 0);
    struct err e;
    err_clear(&e);
    char new_id[40];
    json_t *errors = NULL;
    /* A bad start date changes nothing. */
    json_t *in = json_pack("{s:s, s:s}", "donor_id", s2, "start_date", "2025-12-01");
    assert_int_equal(sponsorship_change_sponsor(env.db, &officer, old, in, new_id, &errors, &e),
                     -1);
    json_decref(errors);
    json_decref(in);
    assert_int_equal(
        int1("SELECT COUNT(*) FROM sponsorships WHERE id = $1 AND status = 'active'", old), 1);
    in = json_pack("{s:s, s:s}", "donor_id", s2, "start_date", "2026-07-01");
    errors = NULL;
    assert_int_equal(sponsorship_change_sponsor(env.db, &officer, old, in, new_id, &errors, &e), 0);
    json_decref(in);
    assert_int_equal(int1("SELECT COUNT(*) FROM sponsorships WHERE id = $1 AND status = 'ended'"
                          " AND end_reason = 'sponsor_changed' AND end_date = '2026-06-30'",
                          old),
                     1);
    assert_int_equal(int1("SELECT amount FROM sponsorships WHERE id = $1 AND status = 'active'"
                          " AND frequency = 'quarterly'",
                          new_id),
                     3050);
    assert_int_equal(sponsored(kid4), 1);
    assert_int_equal(db_begin(env.db, true, &e), 0);
    json_t *g = sponsorship_get(env.db, &officer, old, &e);
    db_rollback(env.db);
    assert_non_null(g);
    json_t *ev = json_object_get(g, "events");
    assert_true(json_array_size(ev) >= 3);
    const char *last =
        json_string_value(json_object_get(json_array_get(ev, json_array_size(ev) - 1), "kind"));
    assert_string_equal(last, "sponsor_changed");
    json_decref(g);
    /* Ending the last one clears the flag. */
    assert_int_equal(
        sponsorship_end(env.db, &officer, new_id, "child_left", "2026-08-01", NULL, &e), 0);
    assert_int_equal(sponsored(kid4), 0);
}

static void test_waiting(void **state)
{
    (void)state;
    /* kid3 (both parents) first, then kid4 (one parent, waiting since its agreement ended). */
    sql1("UPDATE children SET orphan_status = 'both_deceased' WHERE id = $1", kid3, NULL);
    struct err e;
    err_clear(&e);
    assert_int_equal(db_begin(env.db, true, &e), 0);
    json_t *w = sponsorship_waiting(env.db, &officer, "2026-09-01", 50, &e);
    assert_non_null(w);
    json_t *items = json_object_get(w, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "child_id")),
                        kid3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 1), "child_id")),
                        kid4);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(items, 1), "waiting_since")),
        "2026-08-01");
    json_decref(w);
    assert_null(sponsorship_waiting(env.db, &worker, "2026-09-01", 50, &e));
    db_rollback(env.db);
    /* Arrears: two dues of kid1's general agreement past due, one partly paid, one paid. */
    static const char *const dues[][4] = {{"2026-05-01", "4000", "0", "open"},
                                          {"2026-06-01", "4000", "1500", "partial"},
                                          {"2026-07-01", "4000", "4000", "paid"}};
    for (size_t i = 0; i < 3; i++) {
        char sql[1024], did[UUID_STR_LEN];
        uuid_v7(did); /* the PostgreSQL test database is shared between runs: no fixed ids */
        snprintf(sql, sizeof(sql),
                 "INSERT INTO sponsorship_dues (id, org_id, sponsorship_id, donor_id, payer_id,"
                 " child_id, period_start, period_end, due_date, amount, currency, fund, paid,"
                 " status, created_at) SELECT '%s', org_id,"
                 " id, donor_id, payer_id, child_id, '%s', '%s', '%s', %s, 'USD', 'sponsorship',"
                 " %s, '%s', '2026-01-01' FROM sponsorships WHERE child_id = $1"
                 " AND purpose = 'general'",
                 did, dues[i][0], dues[i][0], dues[i][0], dues[i][1], dues[i][2], dues[i][3]);
        sql1(sql, kid1, NULL);
    }
    /* The home page reads. */
    assert_int_equal(db_begin(env.db, true, &e), 0);
    json_t *h = sponsorship_home(env.db, &officer, "2026-09-01", &e);
    assert_non_null(h);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(h, "waiting"), "total")),
                     2);
    json_t *arr = json_object_get(h, "arrears");
    assert_int_equal(json_array_size(arr), 1);
    json_t *a0 = json_array_get(arr, 0);
    assert_int_equal(json_integer_value(json_object_get(a0, "amount")), 6500);
    assert_string_equal(json_string_value(json_object_get(a0, "amount_text")), "65.00");
    assert_int_equal(json_integer_value(json_object_get(a0, "n_dues")), 2);
    assert_int_equal(json_integer_value(json_object_get(a0, "months_late")), 4);
    assert_true(json_integer_value(json_object_get(h, "n_reports_due")) >= 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(h, "counts"), "active")),
                     2);
    json_decref(h);
    assert_null(sponsorship_home(env.db, &worker, "2026-09-01", &e));
    db_rollback(env.db);
    /* An agreement for one of them takes it off the list. */
    char s[40], code[48], json[512];
    new_donor("Eve", NULL, s);
    snprintf(json, sizeof(json),
             "{\"child_id\":\"%s\",\"donor_id\":\"%s\",\"amount\":\"5\",\"currency\":\"JOD\","
             "\"frequency\":\"monthly\",\"start_date\":\"2026-09-01\",\"status\":\"active\"}",
             kid3, s);
    assert_int_equal(new_agreement(json, NULL, code), 0);
    assert_int_equal(db_begin(env.db, true, &e), 0);
    w = sponsorship_waiting(env.db, &officer, "2026-09-01", 50, &e);
    assert_int_equal(json_integer_value(json_object_get(w, "total")), 1);
    json_decref(w);
    db_rollback(env.db);
}

static void test_age_limit(void **state)
{
    (void)state;
    /* kid3 (born 2012-06-01) reaches 18 on 2030-06-01. */
    struct sp_age_stats st;
    struct err e;
    err_clear(&e);
    assert_int_equal(sponsorship_age_check(env.db, org_a, "2030-02-01", &st, &e), 0);
    assert_int_equal(st.noticed, 0);
    assert_int_equal(sponsorship_age_check(env.db, org_a, "2030-03-15", &st, &e), 0);
    assert_int_equal(st.noticed, 1);
    assert_int_equal(st.ended, 0);
    assert_int_equal(sponsorship_age_check(env.db, org_a, "2030-03-16", &st, &e), 0);
    assert_int_equal(st.noticed, 0); /* once */
    assert_int_equal(int1("SELECT COUNT(*) FROM sponsorships WHERE child_id = $1"
                          " AND notice_sent_at IS NOT NULL",
                          kid3),
                     1);
    /* A sponsor with an address and consent, and an SMTP server that does not answer: the
     * notice is given back and tried again next round. */
    char s2[40], code[48], json[512], sp2[40];
    new_donor("Fay", "fay@example.org", s2);
    snprintf(json, sizeof(json),
             "{\"child_id\":\"%s\",\"donor_id\":\"%s\",\"amount\":\"5\",\"currency\":\"USD\","
             "\"frequency\":\"monthly\",\"purpose\":\"education\",\"start_date\":\"2026-09-01\","
             "\"status\":\"active\"}",
             kid3, s2);
    assert_int_equal(new_agreement(json, sp2, code), 0);
    char *saved_url = g_config.smtp_url, *saved_from = g_config.smtp_from;
    g_config.smtp_url = "smtp://127.0.0.1:1";
    g_config.smtp_from = "kafala@example.org";
    assert_int_equal(sponsorship_age_check(env.db, org_a, "2030-03-20", &st, &e), 0);
    assert_int_equal(st.mail_failed, 1);
    assert_int_equal(st.noticed, 0);
    assert_int_equal(int1("SELECT COUNT(*) FROM sponsorships WHERE id = $1"
                          " AND notice_sent_at IS NULL",
                          sp2),
                     1);
    assert_int_equal(sponsorship_age_check(env.db, org_a, "2030-03-21", &st, &e), 0);
    assert_int_equal(st.mail_failed, 1);
    g_config.smtp_url = saved_url;
    g_config.smtp_from = saved_from;
    assert_int_equal(int1("SELECT COUNT(*) FROM sponsorship_events WHERE sponsorship_id = $1"
                          " AND kind = 'notice_failed'",
                          sp2),
                     2);
    assert_int_equal(sponsorship_age_check(env.db, org_a, "2030-06-01", &st, &e), 0);
    assert_int_equal(st.ended, 2);
    assert_int_equal(int1("SELECT COUNT(*) FROM sponsorships WHERE child_id = $1"
                          " AND status = 'ended' AND end_reason = 'age_limit'"
                          " AND end_date = '2030-06-01'",
                          kid3),
                     2);
    assert_int_equal(sponsored(kid3), 0);
    /* Leap-day birthdays and month arithmetic. */
    char out[11];
    sp_birthday("2008-02-29", 18, out);
    assert_string_equal(out, "2026-03-01");
    sp_birthday("2008-02-29", 20, out);
    assert_string_equal(out, "2028-02-29");
    sp_add_months("2026-01-31", 1, out);
    assert_string_equal(out, "2026-02-28");
    sp_add_months("2026-03-31", -13, out);
    assert_string_equal(out, "2025-02-28");
    assert_int_equal(sched_months_between("2026-01-31", "2026-03-30"), 1);
    assert_int_equal(sched_months_between("2026-01-15", "2026-03-15"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_donors),         cmocka_unit_test(test_agreements),
        cmocka_unit_test(test_change_sponsor), cmocka_unit_test(test_waiting),
        cmocka_unit_test(test_age_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
