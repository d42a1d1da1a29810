/*
 * test_schedule.c: the billing schedule (schedule.c): every frequency, month
 * ends kept or clamped (Jan 31 → Feb 28/29 → Mar 31), leap years, pauses,
 * the end date, resuming from next_due, batches, and bad input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sponsorship/billing.h"
#include "core/banned.h"

/* Collects every period of ag through `through` into out (a space-separated
 * list of starts) and the final next_due into next; returns the count. */
static int starts(const struct sched_agreement *ag, const char *through, char *out, size_t n,
                  char next[11])
{
    struct sched_period p[400];
    struct err e;
    err_clear(&e);
    int got = sched_periods(ag, through, p, 400, next, &e);
    assert_true(got >= 0);
    out[0] = '\0';
    size_t len = 0;
    for (int i = 0; i < got; i++) {
        len += (size_t)snprintf(out + len, n - len, "%s%s", i ? " " : "", p[i].start);
        assert_true(len < n);
    }
    return got;
}

static void test_step_months(void **state)
{
    (void)state;
    assert_int_equal(sched_step_months("monthly"), 1);
    assert_int_equal(sched_step_months("quarterly"), 3);
    assert_int_equal(sched_step_months("half_yearly"), 6);
    assert_int_equal(sched_step_months("yearly"), 12);
    assert_int_equal(sched_step_months("weekly"), 0);
    assert_int_equal(sched_step_months(""), 0);
    assert_int_equal(sched_step_months(NULL), 0);
}

static void test_month_ends(void **state)
{
    (void)state;
    char d[11];
    /* Jan 31 keeps its day where the month has it. */
    const char *want31[] = {"2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30",
                            "2025-05-31", "2025-06-30", "2025-07-31", "2025-08-31",
                            "2025-09-30", "2025-10-31", "2025-11-30", "2025-12-31",
                            "2026-01-31"};
    for (int k = 0; k < 13; k++) {
        assert_int_equal(sched_period_start("2025-01-31", 1, k, d), 0);
        assert_string_equal(d, want31[k]);
    }
    /* Leap years: Feb 29 in 2024 and 2000, not in 2100 or 2023. */
    assert_int_equal(sched_period_start("2024-01-31", 1, 1, d), 0);
    assert_string_equal(d, "2024-02-29");
    assert_int_equal(sched_period_start("2000-01-30", 1, 1, d), 0);
    assert_string_equal(d, "2000-02-29");
    assert_int_equal(sched_period_start("2100-01-29", 1, 1, d), 0);
    assert_string_equal(d, "2100-02-28");
    assert_int_equal(sched_period_start("2023-01-29", 1, 1, d), 0);
    assert_string_equal(d, "2023-02-28");
    /* A Feb 29 start, yearly: Feb 28 in common years, Feb 29 again in leap ones. */
    const char *want29[] = {"2024-02-29", "2025-02-28", "2026-02-28", "2027-02-28",
                            "2028-02-29"};
    for (int k = 0; k < 5; k++) {
        assert_int_equal(sched_period_start("2024-02-29", 12, k, d), 0);
        assert_string_equal(d, want29[k]);
    }
    /* The 30th, quarterly: Nov 30 → Feb 28 → May 30 → Aug 30 → Nov 30. */
    const char *want30[] = {"2025-11-30", "2026-02-28", "2026-05-30", "2026-08-30",
                            "2026-11-30"};
    for (int k = 0; k < 5; k++) {
        assert_int_equal(sched_period_start("2025-11-30", 3, k, d), 0);
        assert_string_equal(d, want30[k]);
    }
    /* Half-yearly from Aug 31: Feb 28/29 then Aug 31. */
    assert_int_equal(sched_period_start("2023-08-31", 6, 1, d), 0);
    assert_string_equal(d, "2024-02-29");
    assert_int_equal(sched_period_start("2023-08-31", 6, 2, d), 0);
    assert_string_equal(d, "2024-08-31");
    /* Year crossings. */
    assert_int_equal(sched_period_start("2025-12-15", 1, 1, d), 0);
    assert_string_equal(d, "2026-01-15");
    assert_int_equal(sched_period_start("2025-11-01", 3, 1, d), 0);
    assert_string_equal(d, "2026-02-01");
    /* Bad input. */
    assert_int_equal(sched_period_start("2025-02-29", 1, 0, d), -1);
    assert_int_equal(sched_period_start("2025-13-01", 1, 0, d), -1);
    assert_int_equal(sched_period_start("2025-1-01", 1, 0, d), -1);
    assert_int_equal(sched_period_start("", 1, 0, d), -1);
    assert_int_equal(sched_period_start(NULL, 1, 0, d), -1);
    assert_int_equal(sched_period_start("2025-01-01", 0, 1, d), -1);
    assert_int_equal(sched_period_start("2025-01-01", 1, -1, d), -1);
    assert_int_equal(sched_period_start("9999-12-01", 1, 1, d), -1);
    assert_int_equal(sched_period_start("2025-01-01", 12, INT64_MAX / 2, d), -1);
}

static void test_index(void **state)
{
    (void)state;
    int64_t k = -1;
    assert_int_equal(sched_index_at_or_after("2025-01-31", 1, "2025-01-01", &k), 0);
    assert_int_equal(k, 0);
    assert_int_equal(sched_index_at_or_after("2025-01-31", 1, "2025-01-31", &k), 0);
    assert_int_equal(k, 0);
    assert_int_equal(sched_index_at_or_after("2025-01-31", 1, "2025-02-28", &k), 0);
    assert_int_equal(k, 1);
    assert_int_equal(sched_index_at_or_after("2025-01-31", 1, "2025-03-01", &k), 0);
    assert_int_equal(k, 2);
    assert_int_equal(sched_index_at_or_after("2025-01-31", 1, "2025-03-31", &k), 0);
    assert_int_equal(k, 2);
    assert_int_equal(sched_index_at_or_after("2025-01-15", 3, "2025-04-16", &k), 0);
    assert_int_equal(k, 2);
    assert_int_equal(sched_index_at_or_after("2025-01-15", 12, "2030-01-15", &k), 0);
    assert_int_equal(k, 5);
    assert_int_equal(sched_index_at_or_after("2025-01-15", 12, "2030-x", &k), -1);
}

static void test_every_frequency(void **state)
{
    (void)state;
    char got[4096], next[11];
    struct sched_agreement ag = {.start_date = "2025-01-31", .frequency = "monthly"};
    assert_int_equal(starts(&ag, "2025-06-30", got, sizeof(got), next), 6);
    assert_string_equal(got, "2025-01-31 2025-02-28 2025-03-31 2025-04-30 2025-05-31 2025-06-30");
    assert_string_equal(next, "2025-07-31");
    ag.frequency = "quarterly";
    assert_int_equal(starts(&ag, "2025-12-31", got, sizeof(got), next), 4);
    assert_string_equal(got, "2025-01-31 2025-04-30 2025-07-31 2025-10-31");
    assert_string_equal(next, "2026-01-31");
    ag.frequency = "half_yearly";
    assert_int_equal(starts(&ag, "2026-12-31", got, sizeof(got), next), 4);
    assert_string_equal(got, "2025-01-31 2025-07-31 2026-01-31 2026-07-31");
    ag.frequency = "yearly";
    ag.start_date = "2024-02-29";
    assert_int_equal(starts(&ag, "2028-03-01", got, sizeof(got), next), 5);
    assert_string_equal(got, "2024-02-29 2025-02-28 2026-02-28 2027-02-28 2028-02-29");
    assert_string_equal(next, "2029-02-28");
    /* Period ends: the day before the next start. */
    struct sched_period p[4];
    struct err e;
    err_clear(&e);
    struct sched_agreement m = {.start_date = "2024-01-31", .frequency = "monthly"};
    assert_int_equal(sched_periods(&m, "2024-03-31", p, 4, next, &e), 3);
    assert_string_equal(p[0].end, "2024-02-28");
    assert_string_equal(p[1].start, "2024-02-29");
    assert_string_equal(p[1].end, "2024-03-30");
    assert_string_equal(p[2].end, "2024-04-29");
    struct sched_agreement y = {.start_date = "2025-03-01", .frequency = "yearly"};
    assert_int_equal(sched_periods(&y, "2025-03-01", p, 4, next, &e), 1);
    assert_string_equal(p[0].end, "2026-02-28");
    struct sched_agreement q = {.start_date = "2023-12-01", .frequency = "quarterly"};
    assert_int_equal(sched_periods(&q, "2024-01-01", p, 4, next, &e), 1);
    assert_string_equal(p[0].end, "2024-02-29");
}

static void test_bounds_and_resume(void **state)
{
    (void)state;
    char got[4096], next[11];
    /* Nothing before the start; the start day itself is due. */
    struct sched_agreement ag = {.start_date = "2025-03-10", .frequency = "monthly"};
    assert_int_equal(starts(&ag, "2025-03-09", got, sizeof(got), next), 0);
    assert_string_equal(next, "2025-03-10");
    assert_int_equal(starts(&ag, "2025-03-10", got, sizeof(got), next), 1);
    /* Nothing after the end date; a period starting on it is due. */
    ag.end_date = "2025-06-10";
    assert_int_equal(starts(&ag, "2026-01-01", got, sizeof(got), next), 4);
    assert_string_equal(got, "2025-03-10 2025-04-10 2025-05-10 2025-06-10");
    ag.end_date = "2025-06-09";
    assert_int_equal(starts(&ag, "2026-01-01", got, sizeof(got), next), 3);
    assert_string_equal(next, "2025-06-10");
    /* Resuming from next_due produces only the rest, and nothing twice. */
    ag.end_date = NULL;
    ag.next_due = "2025-05-10";
    assert_int_equal(starts(&ag, "2025-07-31", got, sizeof(got), next), 3);
    assert_string_equal(got, "2025-05-10 2025-06-10 2025-07-10");
    ag.next_due = next;
    char again[11];
    assert_int_equal(starts(&ag, "2025-07-31", got, sizeof(got), again), 0);
    assert_string_equal(again, "2025-08-10");
    /* A clamped next_due resumes on the right days. */
    struct sched_agreement e31 = {
        .start_date = "2025-01-31", .frequency = "monthly", .next_due = "2025-02-28"};
    assert_int_equal(starts(&e31, "2025-04-30", got, sizeof(got), next), 3);
    assert_string_equal(got, "2025-02-28 2025-03-31 2025-04-30");
    /* Batches: max periods at a time, continuing from next_out. */
    struct sched_period p[2];
    struct err e;
    err_clear(&e);
    struct sched_agreement b = {.start_date = "2025-01-01", .frequency = "monthly"};
    char nx[11];
    assert_int_equal(sched_periods(&b, "2025-05-15", p, 2, nx, &e), 2);
    assert_string_equal(nx, "2025-03-01");
    b.next_due = nx;
    char nx2[11];
    assert_int_equal(sched_periods(&b, "2025-05-15", p, 2, nx2, &e), 2);
    assert_string_equal(p[0].start, "2025-03-01");
    assert_string_equal(nx2, "2025-05-01");
    b.next_due = nx2;
    assert_int_equal(sched_periods(&b, "2025-05-15", p, 2, nx, &e), 1);
    assert_string_equal(p[0].start, "2025-05-01");
    assert_string_equal(nx, "2025-06-01");
    /* Ten years monthly in one go. */
    struct sched_agreement ten = {.start_date = "2016-02-29", .frequency = "monthly"};
    assert_int_equal(starts(&ten, "2026-02-28", got, sizeof(got), next), 121);
}

static void test_pauses(void **state)
{
    (void)state;
    char got[4096], next[11];
    struct sched_pause pauses[2] = {{"2025-03-01", "2025-04-30"}, {"2025-09-15", ""}};
    struct sched_agreement ag = {
        .start_date = "2025-01-01", .frequency = "monthly", .pauses = pauses, .n_pauses = 1};
    assert_int_equal(starts(&ag, "2025-06-30", got, sizeof(got), next), 4);
    assert_string_equal(got, "2025-01-01 2025-02-01 2025-05-01 2025-06-01");
    assert_string_equal(next, "2025-07-01");
    /* An open pause stops everything from its first day on; paused periods
     * still move next_due so they are never billed later. */
    ag.n_pauses = 2;
    assert_int_equal(starts(&ag, "2025-12-31", got, sizeof(got), next), 7);
    assert_string_equal(got, "2025-01-01 2025-02-01 2025-05-01 2025-06-01 2025-07-01 "
                             "2025-08-01 2025-09-01");
    assert_string_equal(next, "2026-01-01");
    /* A pause that begins mid-period leaves that period due (its start is
     * before the pause); one that ends on a period start covers it. */
    struct sched_pause mid[1] = {{"2025-02-15", "2025-03-01"}};
    struct sched_agreement m = {
        .start_date = "2025-01-01", .frequency = "monthly", .pauses = mid, .n_pauses = 1};
    assert_int_equal(starts(&m, "2025-04-01", got, sizeof(got), next), 3);
    assert_string_equal(got, "2025-01-01 2025-02-01 2025-04-01");
    /* Quarterly with a pause over one quarter start. */
    struct sched_pause q1[1] = {{"2025-04-01", "2025-04-01"}};
    struct sched_agreement q = {
        .start_date = "2025-01-01", .frequency = "quarterly", .pauses = q1, .n_pauses = 1};
    assert_int_equal(starts(&q, "2025-12-31", got, sizeof(got), next), 3);
    assert_string_equal(got, "2025-01-01 2025-07-01 2025-10-01");
    assert_true(sched_paused(q1, 1, "2025-04-01"));
    assert_false(sched_paused(q1, 1, "2025-04-02"));
    assert_false(sched_paused(q1, 1, "2025-03-31"));
    assert_false(sched_paused(NULL, 0, "2025-03-31"));
}

static void test_bad_input(void **state)
{
    (void)state;
    struct sched_period p[4];
    char next[11];
    struct err e;
    err_clear(&e);
    struct sched_agreement ag = {.start_date = "2025-01-01", .frequency = "weekly"};
    assert_int_equal(sched_periods(&ag, "2025-06-01", p, 4, next, &e), -1);
    assert_string_equal(e.field, "frequency");
    ag.frequency = "monthly";
    ag.start_date = "2025-02-30";
    assert_int_equal(sched_periods(&ag, "2025-06-01", p, 4, next, &e), -1);
    assert_string_equal(e.field, "start_date");
    ag.start_date = "2025-01-01";
    ag.end_date = "soon";
    assert_int_equal(sched_periods(&ag, "2025-06-01", p, 4, next, &e), -1);
    assert_string_equal(e.field, "end_date");
    ag.end_date = NULL;
    assert_int_equal(sched_periods(&ag, "2025-06-31", p, 4, next, &e), -1);
    assert_string_equal(e.field, "through");
    assert_int_equal(sched_periods(&ag, NULL, p, 4, next, &e), -1);
    ag.next_due = "2025-00-01";
    assert_int_equal(sched_periods(&ag, "2025-06-01", p, 4, next, &e), -1);
    assert_string_equal(e.field, "next_due");
}

static void test_months_between(void **state)
{
    (void)state;
    assert_int_equal(sched_months_between("2025-01-01", "2025-01-31"), 0);
    assert_int_equal(sched_months_between("2025-01-01", "2025-02-01"), 1);
    assert_int_equal(sched_months_between("2025-01-31", "2025-02-28"), 1);
    assert_int_equal(sched_months_between("2025-01-31", "2025-02-27"), 0);
    assert_int_equal(sched_months_between("2024-01-31", "2024-02-29"), 1);
    assert_int_equal(sched_months_between("2024-11-15", "2025-03-14"), 3);
    assert_int_equal(sched_months_between("2024-11-15", "2025-03-15"), 4);
    assert_int_equal(sched_months_between("2025-03-15", "2025-03-01"), 0);
    assert_int_equal(sched_months_between("bad", "2025-03-01"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_months),    cmocka_unit_test(test_month_ends),
        cmocka_unit_test(test_index),          cmocka_unit_test(test_every_frequency),
        cmocka_unit_test(test_bounds_and_resume), cmocka_unit_test(test_pauses),
        cmocka_unit_test(test_bad_input),      cmocka_unit_test(test_months_between),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
