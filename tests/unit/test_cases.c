/*
 * test_cases: the case workflow at the service level: risk-level scheduling,
 * opening, assessments and plans with their validation, approvals and
 * send-backs (never by the case's own worker or specialist), stage moves,
 * closure and reopening, the urgent flag, stages switched off, sealed notes,
 * isolation between organizations. Runs on SANAD_TEST_DB or a temp SQLite file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cases/cases.h"
#include "core/time.h"
#include "db/db_util.h"
#include "testlib.h"

static struct testenv env;
static struct actor worker, spec, sup, sup2, other, cli;
static char child1[40], child2[40], child3[40], child_b[40];

static int setup(void **state)
{
    (void)state;
    if (testenv_open(&env, "cases") < 0) {
        return -1;
    }
    char a[40], b[40], sa[32], sb[32];
    testenv_org(&env, a, sa);
    testenv_org(&env, b, sb);
    testenv_user(&env, &worker, "case_worker", a, sa);
    testenv_user(&env, &spec, "supervisor", a, sa); /* a supervisor working as specialist */
    testenv_user(&env, &sup, "supervisor", a, sa);
    testenv_user(&env, &sup2, "supervisor", a, sa);
    testenv_user(&env, &other, "case_worker", b, sb);
    actor_system(&cli, a);
    testenv_child(&env, &worker, "مريم", "2014-02-01", child1);
    testenv_child(&env, &worker, "سارة", "2013-05-01", child2);
    testenv_child(&env, &worker, "هدى", "2012-06-01", child3);
    testenv_child(&env, &other, "ليلى", "2012-06-01", child_b);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return testenv_close(&env);
}

/* The case's current stage, risk and next contact, read from the service. */
static void case_state(const char *id, char stage[24], char risk[16], char next[16])
{
    struct err e;
    err_clear(&e);
    json_t *c = case_get(env.db, &sup, id, &e);
    assert_non_null(c);
    snprintf(stage, 24, "%s", json_string_value(json_object_get(c, "stage")));
    snprintf(risk, 16, "%s", json_string_value(json_object_get(c, "risk_level")));
    const char *n = json_string_value(json_object_get(c, "next_contact"));
    snprintf(next, 16, "%s", n ? n : "");
    json_decref(c);
}

/* The first problem's field in errors, then frees errors. */
static char *first_field(json_t *errors)
{
    static char field[64];
    snprintf(field, sizeof(field), "%s",
             json_string_value(json_object_get(json_array_get(errors, 0), "field")));
    json_decref(errors);
    return field;
}

static void test_risk_schedule(void **state)
{
    (void)state;
    assert_int_equal(case_contact_days("urgent"), 1);
    assert_int_equal(case_contact_days("high"), 7);
    assert_int_equal(case_contact_days("medium"), 14);
    assert_int_equal(case_contact_days("low"), 30);
    assert_int_equal(case_contact_days("panic"), -1);
    assert_int_equal(case_contact_days(NULL), -1);
    char d0[11], d30[11];
    case_date_after(0, d0);
    case_date_after(30, d30);
    int y, m, d, y2, m2, d2;
    assert_int_equal(time_date_parse(d0, &y, &m, &d), 0);
    assert_int_equal(time_date_parse(d30, &y2, &m2, &d2), 0);
    assert_int_equal(time_days_from_civil(y2, m2, d2) - time_days_from_civil(y, m, d), 30);
}

/* A complete assessment with overall risk risk. */
static json_t *assessment(const char *risk, bool submit)
{
    return json_pack("{s:{s:i, s:i, s:i, s:i, s:i, s:i, s:i}, s:[s], s:{s:b, s:b, s:b, s:b},"
                     " s:s, s:s, s:b}",
                     "ratings", "basic_needs", 2, "education", 3, "health", 1, "protection", 4,
                     "psychosocial", 3, "family", 2, "digital_access", 4, "risks", "child_labour",
                     "digital", "device", 0, "connection", 0, "electricity", 1, "skills", 0,
                     "overall_risk", risk, "notes", "تعمل الطفلة في محل بعد المدرسة", "submit",
                     submit);
}

static void test_full_workflow(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    char id[40], no[32], doc[40];
    json_t *errors = NULL;
    assert_int_equal(case_open(env.db, &worker, child1, NULL, spec.user_id, id, no, &e), 0);
    assert_true(strncmp(no, "C-", 2) == 0);
    /* One open case per child. */
    char id2[40], no2[32];
    assert_int_equal(case_open(env.db, &worker, child1, NULL, NULL, id2, no2, &e), -1);
    assert_string_equal(e.code, "case_open");
    char stage[24], risk[16], next[16], want[11];
    case_state(id, stage, risk, next);
    assert_string_equal(stage, "assessment");
    assert_string_equal(risk, "medium");
    case_date_after(14, want);
    assert_string_equal(next, want);

    /* Assessment: every problem is named. */
    json_t *bad = assessment("high", false);
    json_object_del(json_object_get(bad, "ratings"), "family");
    assert_int_equal(assessment_save(env.db, &worker, id, bad, doc, &errors, &e), -1);
    assert_string_equal(first_field(errors), "ratings.family");
    json_decref(bad);
    bad = assessment("high", false);
    json_object_set_new(json_object_get(bad, "ratings"), "health", json_integer(5));
    assert_int_equal(assessment_save(env.db, &worker, id, bad, doc, &errors, &e), -1);
    assert_string_equal(first_field(errors), "ratings.health");
    json_decref(bad);
    bad = assessment("catastrophic", false);
    assert_int_equal(assessment_save(env.db, &worker, id, bad, doc, &errors, &e), -1);
    assert_string_equal(first_field(errors), "overall_risk");
    json_decref(bad);
    /* Nothing was submitted by the refusals. */
    assert_int_equal(case_submit(env.db, &worker, id, "assessment", NULL, NULL, &e), -1);
    assert_string_equal(e.code, "nothing_to_submit");

    json_t *good = assessment("high", true);
    assert_int_equal(assessment_save(env.db, &worker, id, good, doc, &errors, &e), 0);
    json_decref(good);
    /* The notes are sealed at rest. */
    int found;
    struct db_stmt *s = db_row(env.db, &e, &found, "SELECT notes FROM assessments WHERE id = $1",
                               "t", doc);
    assert_non_null(s);
    assert_true(strncmp(db_col_text(s, 0), "v1.", 3) == 0);
    assert_null(strstr(db_col_text(s, 0), "محل"));
    db_done(s);

    /* A case worker cannot decide; the case's own specialist (a supervisor) may not either. */
    assert_int_equal(case_decide(env.db, &worker, id, true, NULL, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    assert_int_equal(case_decide(env.db, &spec, id, true, NULL, &e), -1);
    assert_string_equal(e.code, "own_case");
    /* Sending back needs a comment. */
    assert_int_equal(case_decide(env.db, &sup, id, false, "  ", &e), -1);
    assert_string_equal(e.field, "comment");
    assert_int_equal(case_decide(env.db, &sup, id, false, "أضف تفاصيل عن العمل", &e), 0);
    case_state(id, stage, risk, next);
    assert_string_equal(stage, "assessment");
    good = assessment("high", true);
    assert_int_equal(assessment_save(env.db, &worker, id, good, doc, &errors, &e), 0);
    json_decref(good);
    /* Approval: the next stage, and the assessment's risk sets the next contact. */
    assert_int_equal(case_decide(env.db, &sup, id, true, NULL, &e), 0);
    case_state(id, stage, risk, next);
    assert_string_equal(stage, "plan");
    assert_string_equal(risk, "high");
    case_date_after(7, want);
    assert_string_equal(next, want);
    assert_int_equal(case_decide(env.db, &sup, id, true, NULL, &e), -1);
    assert_string_equal(e.code, "nothing_pending");

    /* Plan: at least one goal; no due date in the past. */
    json_t *plan = json_pack("{s:[]}", "goals");
    assert_int_equal(plan_save(env.db, &worker, id, plan, doc, &errors, &e), -1);
    assert_string_equal(first_field(errors), "goals");
    json_decref(plan);
    plan = json_pack("{s:[{s:s, s:[{s:s, s:s}]}]}", "goals", "goal", "العودة إلى المدرسة",
                     "actions", "action", "تسجيل في المدرسة", "due_date", "2001-01-01");
    assert_int_equal(plan_save(env.db, &worker, id, plan, doc, &errors, &e), -1);
    assert_string_equal(first_field(errors), "goals[0].actions[0].due_date");
    json_decref(plan);
    char due[11];
    case_date_after(20, due);
    plan = json_pack("{s:[{s:s, s:[{s:s, s:s, s:s}]}], s:b}", "goals", "goal",
                     "العودة إلى المدرسة", "actions", "action", "تسجيل في المدرسة",
                     "responsible", "الأخصائية", "due_date", due, "submit", 1);
    assert_int_equal(plan_save(env.db, &worker, id, plan, doc, &errors, &e), 0);
    json_decref(plan);
    assert_int_equal(case_decide(env.db, &sup2, id, true, "خطة واضحة", &e), 0);
    json_t *c = case_get(env.db, &sup, id, &e);
    assert_string_equal(json_string_value(json_object_get(c, "stage")), "services");
    assert_non_null(json_string_value(json_object_get(c, "plan_approved_at")));
    json_t *action = json_array_get(
        json_object_get(json_array_get(json_object_get(json_object_get(c, "plan"), "goals"), 0),
                        "actions"),
        0);
    char action_id[40];
    snprintf(action_id, sizeof(action_id), "%s",
             json_string_value(json_object_get(action, "id")));
    json_decref(c);
    assert_int_equal(plan_action_update(env.db, &worker, action_id, "finished", NULL, &e), -1);
    assert_int_equal(plan_action_update(env.db, &worker, action_id, "done", "سُجّلت", &e), 0);
    assert_int_equal(plan_action_update(env.db, &other, action_id, "done", NULL, &e), -1);

    /* Services → follow-up; closure needs a reason and a note; approval closes. */
    assert_int_equal(case_move(env.db, &worker, id, "follow_up", &e), 0);
    assert_int_equal(case_move(env.db, &worker, id, "plan", &e), -1);
    assert_int_equal(case_submit(env.db, &worker, id, "closure", NULL, "x", &e), -1);
    assert_string_equal(e.field, "reason");
    assert_int_equal(case_submit(env.db, &worker, id, "closure", "goals_met", NULL, &e), -1);
    assert_string_equal(e.field, "note");
    assert_int_equal(case_submit(env.db, &worker, id, "closure", "goals_met", "عادت للمدرسة", &e),
                     0);
    assert_int_equal(case_submit(env.db, &worker, id, "closure", "goals_met", "again", &e), -1);
    assert_string_equal(e.code, "already_pending");
    assert_int_equal(case_decide(env.db, &sup, id, true, NULL, &e), 0);
    c = case_get(env.db, &sup, id, &e);
    assert_string_equal(json_string_value(json_object_get(c, "status")), "closed");
    assert_string_equal(json_string_value(json_object_get(c, "close_reason")), "goals_met");
    /* The history tells the story, newest first. */
    json_t *events = json_object_get(c, "events");
    assert_true(json_array_size(events) >= 8);
    assert_string_equal(json_string_value(json_object_get(json_array_get(events, 0), "kind")),
                        "approved");
    json_decref(c);

    /* Reopening needs a reason and starts again at the first stage. */
    assert_int_equal(case_reopen(env.db, &worker, id, "", &e), -1);
    assert_int_equal(case_reopen(env.db, &worker, id, "انقطعت عن المدرسة", &e), 0);
    case_state(id, stage, risk, next);
    assert_string_equal(stage, "assessment");
    assert_int_equal(case_reopen(env.db, &worker, id, "again", &e), -1);
}

static void test_urgent_flag(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    char id[40], no[32];
    assert_int_equal(case_open(env.db, &worker, child2, NULL, NULL, id, no, &e), 0);
    assert_int_equal(case_resolve_urgent(env.db, &worker, id, "done", &e), -1);
    assert_string_equal(e.code, "not_urgent");
    assert_int_equal(db_begin(env.db, false, &e), 0);
    assert_int_equal(case_raise_urgent_tx(env.db, &cli, id, "instrument:test:item9", &e), 0);
    assert_int_equal(db_commit(env.db, &e), 0);
    char stage[24], risk[16], next[16], today[11];
    case_state(id, stage, risk, next);
    case_date_after(0, today);
    assert_string_equal(risk, "urgent");
    assert_string_equal(next, today);
    /* The supervisors have an urgent task; it cannot be closed without an outcome. */
    json_t *tasks = task_list_mine(env.db, &sup, &e);
    assert_non_null(tasks);
    char task[40] = "";
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t)
    {
        const char *u = json_string_value(json_object_get(t, "urgent_text"));
        if (u && json_string_value(json_object_get(t, "case_id")) &&
            strcmp(json_string_value(json_object_get(t, "case_id")), id) == 0) {
            snprintf(task, sizeof(task), "%s", json_string_value(json_object_get(t, "id")));
        }
    }
    json_decref(tasks);
    assert_true(task[0]);
    assert_int_equal(task_done(env.db, &sup, task, "", &e), -1);
    assert_string_equal(e.code, "action_required");
    /* The flag comes down only with the action written down. */
    assert_int_equal(case_resolve_urgent(env.db, &worker, id, "   ", &e), -1);
    assert_string_equal(e.code, "action_required");
    assert_int_equal(case_resolve_urgent(env.db, &worker, id, "زيارة منزلية وإحالة للطبيب", &e),
                     0);
    char want[11];
    case_state(id, stage, risk, next);
    case_date_after(7, want);
    assert_string_equal(risk, "high");
    assert_string_equal(next, want);
    /* Resolving closed the urgent task with the action as its outcome. */
    tasks = task_list_mine(env.db, &sup, &e);
    json_array_foreach(tasks, i, t)
    {
        assert_string_not_equal(json_string_value(json_object_get(t, "id")), task);
    }
    json_decref(tasks);
}

static void test_stages_and_isolation(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    assert_int_equal(case_settings_set(env.db, &worker, "plan", NULL, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    assert_int_equal(case_settings_set(env.db, &cli, "plan flying", NULL, &e), -1);
    assert_string_equal(e.field, "stages");
    assert_int_equal(case_settings_set(env.db, &cli, NULL, "http://insecure.example", &e), -1);
    assert_string_equal(e.field, "meeting_base_url");
    assert_int_equal(case_settings_set(env.db, &cli, "follow_up, services plan", NULL, &e), 0);
    char enabled[128];
    case_stages_enabled(env.db, worker.org_id, enabled, sizeof(enabled));
    assert_string_equal(enabled, " plan services follow_up ");
    char id[40], no[32], stage[24], risk[16], next[16];
    assert_int_equal(case_open(env.db, &worker, child3, NULL, NULL, id, no, &e), 0);
    case_state(id, stage, risk, next);
    assert_string_equal(stage, "plan");
    /* Another organization sees nothing and changes nothing. */
    assert_null(case_get(env.db, &other, id, &e));
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    assert_int_equal(case_assign(env.db, &other, id, other.user_id, NULL, NULL, &e), -1);
    assert_int_equal(case_open(env.db, &other, child1, NULL, NULL, id, no, &e), -1);
    assert_string_equal(e.field, "child_id");
    /* A worker of another organization cannot be assigned. */
    assert_int_equal(case_assign(env.db, &worker, id, other.user_id, NULL, NULL, &e), -1);
    assert_string_equal(e.field, "worker_id");
    struct case_filter f = {.status = "open", .page = 1, .per_page = 50};
    json_t *list = case_list(env.db, &other, &f, &e);
    assert_non_null(list);
    assert_int_equal(json_array_size(json_object_get(list, "items")), 0);
    json_decref(list);
    f.risk = "severe";
    assert_null(case_list(env.db, &worker, &f, &e));
    assert_string_equal(e.field, "risk");
    assert_int_equal(case_settings_set(env.db, &cli, "assessment plan services follow_up", NULL,
                                       &e),
                     0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_risk_schedule),
        cmocka_unit_test(test_full_workflow),
        cmocka_unit_test(test_urgent_flag),
        cmocka_unit_test(test_stages_and_isolation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
