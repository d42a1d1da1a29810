/*
 * test_bank: bank statement import. The parser (quotes, semicolons, BOM,
 * Arabic headers and digits, DD/MM/YYYY, credit and debit columns,
 * thousands separators, malformed lines named by row and column, too many
 * decimals, unknown currency, empty and huge files), the name comparison
 * (spelling variants, scripts, order, a brother's name), and, on the
 * database, matching (the reference wins, Arabic spelling variants match,
 * a different person with a fitting amount stays uncertain, a reference
 * learnt from an earlier payment), the donor search, duplicates,
 * all-or-nothing refusal, decisions taken once, permissions. On SQLite, or
 * the database in SANAD_TEST_DB.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testlib.h"

#include "core/buf.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "finance/ledger.h"
#include "sponsorship/bank.h"
#include "sponsorship/billing.h"

static struct testenv env;

/* Parses text with default currency cur; returns bank_parse's result. */
static int parse(const char *text, const char *cur, struct bank_statement *st, json_t **errors,
                 struct err *e)
{
    err_clear(e);
    return bank_parse(text, strlen(text), cur, st, errors, e);
}

/* ---- parser ---- */

static void test_parse_plain(void **state)
{
    (void)state;
    struct bank_statement st;
    json_t *errors;
    struct err e;
    const char *csv = "date,amount,currency,reference,name\n"
                      "2026-03-01,50.00,USD,Kafala D-000001,Mohammed Khatib\n"
                      "2026-03-02,\"1,234.50\",usd,\"ref, with comma\",\"Ali \"\"the\"\" Smith\"\n"
                      "2026-03-03,-20.00,USD,bank fee,\n";
    assert_int_equal(parse(csv, NULL, &st, &errors, &e), 0);
    assert_int_equal(st.n, 3);
    assert_int_equal(st.n_credits, 2);
    assert_int_equal(st.n_debits, 1);
    assert_string_equal(st.lines[0].booked_on, "2026-03-01");
    assert_int_equal(st.lines[0].amount, 5000);
    assert_string_equal(st.lines[0].currency, "USD");
    assert_string_equal(st.lines[0].reference, "Kafala D-000001");
    assert_string_equal(st.lines[0].payer_name, "Mohammed Khatib");
    assert_int_equal(st.lines[1].amount, 123450);
    assert_string_equal(st.lines[1].currency, "USD");
    assert_string_equal(st.lines[1].reference, "ref, with comma");
    assert_string_equal(st.lines[1].payer_name, "Ali \"the\" Smith");
    assert_int_equal(st.lines[2].amount, -2000);
    assert_int_equal(st.lines[2].row, 4);
    assert_int_equal(strlen(st.lines[0].hash), 64);
    bank_statement_release(&st);
}

static void test_parse_arabic_semicolon_bom(void **state)
{
    (void)state;
    struct bank_statement st;
    json_t *errors;
    struct err e;
    const char *csv = "\xEF\xBB\xBFالتاريخ;المبلغ;العملة;البيان;اسم المحول\r\n"
                      "٠١/٠٢/٢٠٢٦;١٬٢٣٤٫٥٠;JOD;\"كفالة; D-٠٠٠٠٠١\";محمد الخطيب\r\n"
                      "15/02/2026;\"1.234,5\";EUR;;\r\n";
    assert_int_equal(parse(csv, NULL, &st, &errors, &e), 0);
    assert_int_equal(st.n, 2);
    assert_string_equal(st.lines[0].booked_on, "2026-02-01");
    assert_int_equal(st.lines[0].amount, 1234500); /* JOD has 3 decimals */
    assert_string_equal(st.lines[0].currency, "JOD");
    assert_string_equal(st.lines[0].reference, "كفالة; D-٠٠٠٠٠١");
    assert_string_equal(st.lines[0].payer_name, "محمد الخطيب");
    assert_string_equal(st.lines[1].booked_on, "2026-02-15");
    assert_int_equal(st.lines[1].amount, 123450);
    bank_statement_release(&st);
}

static void test_parse_credit_debit_columns(void **state)
{
    (void)state;
    struct bank_statement st;
    json_t *errors;
    struct err e;
    const char *csv = "Booking Date;Description;Credit;Debit;Payer\n"
                      "2026-01-05;SO 4471;25.00;;Sara Haddad\n"
                      "2026-01-06;rent;;300.00;\n"
                      "2026-01-07;card;0.00;12.50;\n";
    assert_int_equal(parse(csv, "USD", &st, &errors, &e), 0);
    assert_int_equal(st.n, 3);
    assert_int_equal(st.lines[0].amount, 2500);
    assert_string_equal(st.lines[0].currency, "USD");
    assert_int_equal(st.lines[1].amount, -30000);
    assert_int_equal(st.lines[2].amount, -1250);
    assert_int_equal(st.n_debits, 2);
    bank_statement_release(&st);
    /* both a credit and a debit on one line */
    const char *both = "date,credit,debit\n2026-01-05,1.00,2.00\n";
    assert_int_equal(parse(both, "USD", &st, &errors, &e), -1);
    assert_string_equal(e.code, "invalid_rows");
    assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "code")),
                        "both_amounts");
    json_decref(errors);
}

static void test_parse_malformed_rows(void **state)
{
    (void)state;
    struct bank_statement st;
    json_t *errors;
    struct err e;
    const char *csv = "date,amount,currency,reference\n"
                      "2026-03-01,50.00,USD,fine\n"
                      "2026-02-30,50.00,USD,no such day\n"
                      "2026-03-02,12.345,USD,three decimals\n"
                      "2026-03-03,abc,USD,not a number\n"
                      "2026-03-04,10.00,XYZ,unknown currency\n"
                      "2026-03-05,0,USD,zero\n";
    assert_int_equal(parse(csv, NULL, &st, &errors, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_string_equal(e.code, "invalid_rows");
    assert_int_equal(st.n, 0);
    assert_null(st.lines);
    assert_non_null(errors);
    assert_int_equal(json_array_size(errors), 5);
    assert_int_equal(st.n_problems, 5);
    static const struct {
        int row;
        const char *column, *code;
    } want[] = {{3, "date", "invalid_date"},
                {4, "amount", "too_many_decimals"},
                {5, "amount", "invalid_amount"},
                {6, "currency", "unknown_currency"},
                {7, "amount", "zero_amount"}};
    for (size_t i = 0; i < 5; i++) {
        json_t *p = json_array_get(errors, i);
        assert_int_equal(json_integer_value(json_object_get(p, "row")), want[i].row);
        assert_string_equal(json_string_value(json_object_get(p, "column")), want[i].column);
        assert_string_equal(json_string_value(json_object_get(p, "code")), want[i].code);
    }
    json_decref(errors);
    /* many bad lines: BANK_MAX_ERRORS listed, all counted */
    struct buf b = BUF_INIT;
    buf_adds(&b, "date,amount\n");
    for (int i = 0; i < BANK_MAX_ERRORS + 50; i++) {
        buf_adds(&b, "2026-01-01,x\n");
    }
    err_clear(&e);
    assert_int_equal(bank_parse(b.buf, b.len, "USD", &st, &errors, &e), -1);
    assert_int_equal(json_array_size(errors), BANK_MAX_ERRORS);
    assert_int_equal(st.n_problems, BANK_MAX_ERRORS + 50);
    json_decref(errors);
    buf_release(&b);
    /* a broken quote is the reader's: the row is named */
    assert_int_equal(parse("date,amount\n2026-01-01,\"5\n", "USD", &st, &errors, &e), -1);
    assert_null(errors);
    assert_string_equal(e.field, "row 2");
    /* a row with a missing cell */
    assert_int_equal(parse("date,amount,name\n2026-01-01,5\n", "USD", &st, &errors, &e), -1);
    assert_string_equal(e.field, "row 2");
}

static void test_parse_refusals(void **state)
{
    (void)state;
    struct bank_statement st;
    json_t *errors;
    struct err e;
    assert_int_equal(parse("", "USD", &st, &errors, &e), -1);
    assert_string_equal(e.code, "empty_file");
    assert_int_equal(parse("date,amount\n", "USD", &st, &errors, &e), -1);
    assert_string_equal(e.code, "empty_file");
    assert_int_equal(parse("date,amount\n2026-01-01,5\n", NULL, &st, &errors, &e), -1);
    assert_string_equal(e.code, "missing_column");
    assert_string_equal(e.field, "currency");
    assert_int_equal(parse("amount,currency\n5,USD\n", NULL, &st, &errors, &e), -1);
    assert_string_equal(e.code, "missing_column");
    assert_string_equal(e.field, "date");
    assert_int_equal(parse("date,amount\n2026-01-01,5\n", "ZZZ", &st, &errors, &e), -1);
    assert_string_equal(e.code, "bank_currency");
    /* a file over the byte limit */
    size_t big = BANK_MAX_BYTES + 10;
    char *huge = malloc(big + 1);
    memset(huge, 'x', big);
    huge[big] = '\0';
    memcpy(huge, "date,amount\n", 12);
    err_clear(&e);
    assert_int_equal(bank_parse(huge, big, "USD", &st, &errors, &e), -1);
    assert_int_equal(e.kind, ERR_LIMIT);
    assert_string_equal(e.code, "too_large");
    free(huge);
    /* too many lines, within the byte limit */
    struct buf b = BUF_INIT;
    buf_adds(&b, "date,amount\n");
    for (int i = 0; i <= BANK_MAX_LINES; i++) {
        buf_adds(&b, "2026-01-01,1\n");
    }
    err_clear(&e);
    assert_int_equal(bank_parse(b.buf, b.len, "USD", &st, &errors, &e), -1);
    assert_int_equal(e.kind, ERR_LIMIT);
    assert_string_equal(e.code, "bank_too_many_lines");
    buf_release(&b);
}

static void test_amounts(void **state)
{
    (void)state;
    static const struct {
        const char *text, *cur;
        int64_t want; /* INT64_MIN: refused */
    } cases[] = {
        {"1,234.50", "USD", 123450},
        {"1.234,50", "EUR", 123450},
        {"1 234,50", "EUR", 123450},
        {"1\xC2\xA0"
         "234.5",
         "USD", 123450},
        {"(12.00)", "USD", -1200},
        {"12-", "USD", -1200},
        {"+7", "USD", 700},
        {"1,234", "USD", 123400},
        {"0,500", "JOD", 500},
        {"12,5", "EUR", 1250},
        {"1,234,567.89", "USD", 123456789},
        {"١٢٣٫٤٥", "USD", 12345},
        {"1000", "JPY", 1000},
        {"1.5", "JPY", INT64_MIN},
        {"12.345", "USD", INT64_MIN},
        {"1,23,4", "USD", INT64_MIN},
        {"abc", "USD", INT64_MIN},
        {"", "USD", INT64_MIN},
        {"1.234.5", "EUR", INT64_MIN},
        {"5", "XXY", INT64_MIN},
        {"1,2.3", "USD", INT64_MIN},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err e;
        err_clear(&e);
        int64_t v = 0;
        int rc = bank_amount_parse(cases[i].text, cases[i].cur, &v, &e);
        if (cases[i].want == INT64_MIN) {
            if (rc != -1) {
                fail_msg("'%s' %s should be refused, got %lld", cases[i].text, cases[i].cur,
                         (long long)v);
            }
        } else if (rc != 0 || v != cases[i].want) {
            fail_msg("'%s' %s: rc %d value %lld (%s)", cases[i].text, cases[i].cur, rc,
                     (long long)v, e.msg);
        }
    }
}

static void test_line_hashes(void **state)
{
    (void)state;
    struct bank_statement a, b;
    json_t *errors;
    struct err e;
    const char *csv = "date,amount,reference\n2026-01-01,5,x\n2026-01-01,5,x\n2026-01-01,5,y\n";
    assert_int_equal(parse(csv, "USD", &a, &errors, &e), 0);
    assert_int_equal(parse(csv, "USD", &b, &errors, &e), 0);
    assert_string_not_equal(a.lines[0].hash, a.lines[1].hash); /* two equal transfers */
    assert_string_not_equal(a.lines[0].hash, a.lines[2].hash);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(a.lines[i].hash, b.lines[i].hash); /* the same file again */
    }
    bank_statement_release(&a);
    bank_statement_release(&b);
}

static void test_columns(void **state)
{
    (void)state;
    assert_string_equal(bank_column_of("Date"), "date");
    assert_string_equal(bank_column_of("التاريخ"), "date");
    assert_string_equal(bank_column_of("تاريخ العملية"), "date");
    assert_string_equal(bank_column_of("المبلغ"), "amount");
    assert_string_equal(bank_column_of("Paid in"), "credit");
    assert_string_equal(bank_column_of("دائن"), "credit");
    assert_string_equal(bank_column_of("مدين"), "debit");
    assert_string_equal(bank_column_of("العملة"), "currency");
    assert_string_equal(bank_column_of("البيان"), "reference");
    assert_string_equal(bank_column_of("Payer name"), "name");
    assert_string_equal(bank_column_of("الاسم"), "name");
    assert_null(bank_column_of("Balance"));
    assert_null(bank_column_of(""));
}

static void test_names(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        int min, max; /* the level must lie in [min, max] */
    } cases[] = {
        {"محمد أحمد الخطيب", "MOHAMMED AHMAD AL-KHATIB", BANK_NAME_SAME, BANK_NAME_SAME},
        {"محمد الخطيب", "Muhammad Alkhatib", BANK_NAME_SAME, BANK_NAME_SAME},
        {"عبد الله يوسف", "عبدالله يوسف", BANK_NAME_SAME, BANK_NAME_SAME},
        {"أحمد الخطيب", "احمد خطيب", BANK_NAME_SAME, BANK_NAME_SAME},
        {"فاطمة الزهراء", "فاطمه الزهراء", BANK_NAME_SAME, BANK_NAME_SAME},
        {"KHATIB MOHAMMED", "Mohammed Al Khatib", BANK_NAME_SAME, BANK_NAME_SAME},
        {"محمد بن علي الخطيب", "محمد علي الخطيب", BANK_NAME_SAME, BANK_NAME_SAME},
        {"محمد الخطيب", "أحمد الخطيب", BANK_NAME_NONE, BANK_NAME_PARTIAL},
        {"Sara Haddad", "Samir Haddad", BANK_NAME_NONE, BANK_NAME_PARTIAL},
        {"محمد الخطيب", "محمود الخطيب", BANK_NAME_NONE, BANK_NAME_PARTIAL},
        {"سامر حداد", "ثامر حداد", BANK_NAME_NONE, BANK_NAME_PARTIAL},
        {"Mohamed Nasser", "Mohammed Naser", BANK_NAME_SIMILAR, BANK_NAME_SAME},
        {"محمد", "محمد الخطيب", BANK_NAME_PARTIAL, BANK_NAME_PARTIAL},
        {"Mohammed Khatib", "Omar Nasser", BANK_NAME_NONE, BANK_NAME_NONE},
        {"", "Omar Nasser", BANK_NAME_NONE, BANK_NAME_NONE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int score;
        int lv = (int)bank_name_compare(cases[i].a, cases[i].b, &score);
        if (lv < cases[i].min || lv > cases[i].max) {
            fail_msg("'%s' vs '%s': level %d (score %d), want %d..%d", cases[i].a, cases[i].b, lv,
                     score, cases[i].min, cases[i].max);
        }
    }
}

/* ---- on the database ---- */

/* The organization and its people for the database tests. */
static char org[40], slug[32];
static struct actor finance, officer, worker, auditor;

/* Inserts a donor with number no; fills id. */
static void add_donor(const char *no, const char *name, const char *latin, char id[40])
{
    struct err e;
    err_clear(&e);
    uuid_v7(id);
    assert_int_equal(db_run(env.db, &e,
                            "INSERT INTO donors (id, org_id, donor_no, kind, name, name_latin,"
                            " created_by, created_at, updated_at) VALUES ($1, $2, $3, 'person',"
                            " $4, $5, 'test', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
                            "ttttt", id, org, no, name, latin),
                     1);
}

/* Inserts an active monthly agreement no paid by donor for a new child
 * (one live agreement per child and purpose), with one open due of amount
 * (minor units) in currency. */
static void add_agreement(const char *no, const char *donor, int64_t amount, const char *cur)
{
    struct err e;
    err_clear(&e);
    char sp[40], due[40], child_id[40];
    testenv_child(&env, &worker, "ليلى", "2015-04-02", child_id);
    uuid_v7(sp);
    uuid_v7(due);
    assert_int_equal(
        db_run(env.db, &e,
               "INSERT INTO sponsorships (id, org_id, agreement_no, child_id, donor_id, payer_id,"
               " amount, currency, frequency, purpose, start_date, status, next_due, created_by,"
               " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, 'monthly',"
               " 'general', '2026-01-01', 'active', '2026-02-01', 'test', '2026-01-01T00:00:00Z',"
               " '2026-01-01T00:00:00Z')",
               "tttttit", sp, org, no, child_id, donor, amount, cur),
        1);
    assert_int_equal(
        db_run(env.db, &e,
               "INSERT INTO sponsorship_dues (id, org_id, sponsorship_id, donor_id, payer_id,"
               " child_id, period_start, period_end, due_date, amount, currency, fund, status,"
               " created_at) VALUES ($1, $2, $3, $4, $4, $5, '2026-01-01', '2026-01-31',"
               " '2026-01-01', $6, $7, 'sponsorship', 'open', '2026-01-01T00:00:00Z')",
               "tttttit", due, org, sp, donor, child_id, amount, cur),
        1);
}

/* Donors of the matching tests. */
static char d_khatib[40], d_khatib2[40], d_abdrahman[40], d_nasser[40];

static int db_setup(void **state)
{
    (void)state;
    if (testenv_open(&env, "bank") < 0) {
        return -1;
    }
    return 0;
}

static int db_teardown(void **state)
{
    (void)state;
    return testenv_close(&env);
}

/* A fresh organization with its people, donors and agreements. */
static void fresh_org(void)
{
    testenv_org(&env, org, slug);
    testenv_user(&env, &finance, "finance_officer", org, slug);
    testenv_user(&env, &officer, "sponsorship_officer", org, slug);
    testenv_user(&env, &worker, "case_worker", org, slug);
    testenv_user(&env, &auditor, "auditor", org, slug);
    add_donor("D-000001", "محمد أحمد الخطيب", "Mohammed Ahmad Al-Khatib", d_khatib);
    add_donor("D-000002", "محمد أحمد الخطيب", NULL, d_khatib2); /* the same name, another man */
    add_donor("D-000003", "عبد الرحمن يوسف", "Abdul Rahman Yousef", d_abdrahman);
    add_donor("D-000004", "عمر ناصر", "Omar Nasser", d_nasser);
    struct err e;
    err_clear(&e);
    /* JOD needs a rate against the base currency (USD) for the payments */
    assert_int_equal(ledger_set_rate(env.db, &finance, "JOD", "2025-12-01", "1.41", &e), 0);
    add_agreement("S-2026-00001", d_khatib, 50000, "JOD");
    add_agreement("S-2026-00002", d_nasser, 30000, "JOD");
}

/* Imports text as a; returns bank_import's result and fills res. */
static int import(const struct actor *a, const char *text, char id[40], json_t **res, struct err *e)
{
    err_clear(e);
    return bank_import(env.db, a, "s.csv", NULL, text, strlen(text), "JOD", id, res, e);
}

/* The line of import id at spreadsheet row, from bank_import_get. */
static json_t *line_at(json_t *imp, int row)
{
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(imp, "lines_detail"), i, l)
    {
        if (json_integer_value(json_object_get(l, "row")) == row) {
            return l;
        }
    }
    fail_msg("no line at row %d", row);
    return NULL;
}

/* True when the line's reasons hold code. */
static bool has_reason(json_t *line, const char *code)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(line, "reason"), i, c)
    {
        if (strcmp(json_string_value(c), code) == 0) {
            return true;
        }
    }
    return false;
}

static void test_matching(void **state)
{
    (void)state;
    fresh_org();
    const char *csv =
        "التاريخ;المبلغ;البيان;الاسم\n"
        /* 2: the reference names the second Khatib: it wins over the first's equal name */
        "2026-02-01;50.000;كفالة D-000002;محمد أحمد الخطيب\n"
        /* 3: the agreement's number and the amount due: certain, the first Khatib */
        "2026-02-01;50.000;S-2026-00001;\n"
        /* 4: a spelling variant of a name, no reference: uncertain, with the donor */
        "2026-02-02;20.000;تبرع;عبدالرحمن يوسف\n"
        /* 5: another person whose amount fits Nasser's due: uncertain */
        "2026-02-03;30.000;تحويل;سمير حداد\n"
        /* 6: nothing fits */
        "2026-02-03;7.000;;\n"
        /* 7: a debit */
        "2026-02-04;-3.000;رسوم;\n"
        /* 8: a reference naming one donor, a name that is clearly another: conflicting */
        "2026-02-05;11.000;D-000004;Abdul Rahman Yousef\n";
    char id[40];
    json_t *res;
    struct err e;
    if (import(&finance, csv, id, &res, &e) < 0) {
        fail_msg("import: %s", e.msg);
    }
    assert_int_equal(json_integer_value(json_object_get(res, "lines")), 7);
    assert_int_equal(json_integer_value(json_object_get(res, "debits")), 1);
    assert_int_equal(json_integer_value(json_object_get(res, "matched")), 2);
    json_decref(res);
    json_t *imp = bank_import_get(env.db, &finance, id, &e);
    assert_non_null(imp);

    json_t *l = line_at(imp, 2);
    assert_string_equal(json_string_value(json_object_get(l, "status")), "matched");
    assert_string_equal(json_string_value(json_object_get(json_object_get(l, "donor"), "id")),
                        d_khatib2);
    assert_true(has_reason(l, "ref_donor"));
    assert_true(has_reason(l, "name_same"));

    l = line_at(imp, 3);
    assert_string_equal(json_string_value(json_object_get(l, "status")), "matched");
    assert_string_equal(json_string_value(json_object_get(json_object_get(l, "donor"), "id")),
                        d_khatib);
    assert_true(has_reason(l, "ref_agreement"));
    assert_true(has_reason(l, "amount_due"));

    l = line_at(imp, 4);
    assert_string_equal(json_string_value(json_object_get(l, "status")), "uncertain");
    assert_string_equal(json_string_value(json_object_get(json_object_get(l, "donor"), "id")),
                        d_abdrahman);
    assert_true(has_reason(l, "name_same"));

    l = line_at(imp, 5);
    assert_string_equal(json_string_value(json_object_get(l, "status")), "uncertain");
    assert_string_equal(json_string_value(json_object_get(json_object_get(l, "donor"), "id")),
                        d_nasser);
    assert_true(has_reason(l, "amount_due"));
    assert_false(has_reason(l, "name_same"));

    l = line_at(imp, 6);
    assert_string_equal(json_string_value(json_object_get(l, "status")), "unmatched");
    assert_true(json_is_null(json_object_get(l, "donor")));

    l = line_at(imp, 7);
    assert_string_equal(json_string_value(json_object_get(l, "status")), "skipped");
    assert_int_equal(json_integer_value(json_object_get(l, "amount_minor")), -3000);

    l = line_at(imp, 8);
    assert_string_equal(json_string_value(json_object_get(l, "status")), "uncertain");
    assert_true(json_array_size(json_object_get(l, "candidates")) >= 2);

    /* the certain lines the officer left ticked, then the rest */
    json_t *only = json_pack("[s, s]", json_string_value(json_object_get(line_at(imp, 3), "id")),
                             json_string_value(json_object_get(line_at(imp, 4), "id")));
    json_decref(imp);
    int ok, failed;
    err_clear(&e);
    /* Confirming records money: only finance.write, refused whole for the
     * sponsorship officer (who imports and reviews). */
    assert_int_equal(bank_confirm_certain(env.db, &officer, id, NULL, &ok, &failed, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_int_equal(bank_confirm_certain(env.db, &finance, id, only, &ok, &failed, &e), 0);
    assert_int_equal(ok, 1); /* row 4 is not certain: left alone */
    assert_int_equal(failed, 0);
    assert_int_equal(bank_confirm_certain(env.db, &finance, id, NULL, &ok, &failed, &e), 0);
    assert_int_equal(ok, 1);
    json_decref(only);
    imp = bank_import_get(env.db, &finance, id, &e);
    for (int row = 2; row <= 4; row++) {
        assert_string_equal(json_string_value(json_object_get(line_at(imp, row), "status")),
                            row < 4 ? "confirmed" : "uncertain");
    }
    json_decref(imp);
}

static void test_duplicates_and_refusal(void **state)
{
    (void)state;
    fresh_org();
    char id[40];
    json_t *res;
    struct err e;
    const char *bad = "date,amount,reference\n2026-02-01,5.000,x\n2026-02-31,5.000,y\n";
    assert_int_equal(import(&finance, bad, id, &res, &e), -1);
    assert_string_equal(e.code, "invalid_rows");
    assert_non_null(res);
    json_t *p = json_array_get(json_object_get(res, "errors"), 0);
    assert_int_equal(json_integer_value(json_object_get(p, "row")), 3);
    json_decref(res);
    int found;
    struct db_stmt *s =
        db_row(env.db, &e, &found, "SELECT COUNT(*) FROM bank_imports WHERE org_id = $1", "t", org);
    assert_non_null(s);
    assert_int_equal(db_col_int64(s, 0), 0); /* nothing stored */
    db_done(s);

    const char *first = "date,amount,reference\n2026-02-01,5.000,x\n2026-02-02,6.000,y\n";
    assert_int_equal(import(&finance, first, id, &res, &e), 0);
    json_decref(res);
    assert_int_equal(import(&finance, first, id, &res, &e), -1);
    assert_int_equal(e.kind, ERR_CONFLICT);
    assert_string_equal(e.code, "bank_already_imported");
    json_decref(res);
    const char *more = "date,amount,reference\n2026-02-02,6.000,y\n2026-02-03,7.000,z\n";
    assert_int_equal(import(&finance, more, id, &res, &e), 0);
    assert_int_equal(json_integer_value(json_object_get(res, "lines")), 1);
    json_t *dups = json_object_get(res, "duplicates");
    assert_int_equal(json_array_size(dups), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(dups, 0), "row")), 2);
    json_decref(res);
    json_t *list = bank_import_list(env.db, &auditor, &e);
    assert_non_null(list);
    assert_int_equal(json_array_size(list), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "duplicates")), 1);
    json_decref(list);
}

static void test_decisions(void **state)
{
    (void)state;
    fresh_org();
    char id[40];
    json_t *res;
    struct err e;
    const char *csv = "date,amount,reference,name\n"
                      "2026-02-01,50.000,D-000001,Mohammed Khatib\n"
                      "2026-02-02,9.000,,\n"
                      "2026-02-02,8.000,,\n";
    assert_int_equal(import(&finance, csv, id, &res, &e), 0);
    json_decref(res);
    json_t *imp = bank_import_get(env.db, &finance, id, &e);
    char l1[40], l2[40], l3[40];
    snprintf(l1, 40, "%s", json_string_value(json_object_get(line_at(imp, 2), "id")));
    snprintf(l2, 40, "%s", json_string_value(json_object_get(line_at(imp, 3), "id")));
    snprintf(l3, 40, "%s", json_string_value(json_object_get(line_at(imp, 4), "id")));
    json_decref(imp);

    /* ignoring: once */
    err_clear(&e);
    assert_int_equal(bank_line_ignore(env.db, &worker, l3, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    assert_int_equal(bank_line_ignore(env.db, &finance, l3, &e), 0);
    assert_int_equal(bank_line_ignore(env.db, &finance, l3, &e), -1);
    assert_string_equal(e.code, "bank_line_decided");
    err_clear(&e);
    assert_int_equal(bank_line_confirm(env.db, &finance, l3, d_khatib, NULL, &e), -1);
    assert_string_equal(e.code, "bank_line_decided");

    /* an unmatched line needs a donor */
    err_clear(&e);
    assert_int_equal(bank_line_confirm(env.db, &finance, l2, NULL, NULL, &e), -1);
    assert_string_equal(e.code, "bank_donor_required");
    err_clear(&e);
    assert_int_equal(bank_line_confirm(env.db, &finance, l2, "nope", NULL, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);

    /* confirming: once */
    char pay[40];
    err_clear(&e);
    if (bank_line_confirm(env.db, &finance, l1, NULL, pay, &e) < 0) {
        fail_msg("confirm: %s", e.msg);
    }
    assert_true(pay[0] != '\0');
    assert_int_equal(bank_line_confirm(env.db, &finance, l1, NULL, pay, &e), -1);
    assert_string_equal(e.code, "bank_line_decided");
    int found;
    struct db_stmt *s = db_row(env.db, &e, &found,
                               "SELECT p.donor_id, p.amount, p.method, p.received_on,"
                               " p.external_ref, l.status, l.payment_id FROM bank_lines l"
                               " JOIN payments p ON p.id = l.payment_id WHERE l.id = $1",
                               "t", l1);
    assert_non_null(s);
    assert_string_equal(db_col_text(s, 0), d_khatib);
    assert_int_equal(db_col_int64(s, 1), 50000);
    assert_string_equal(db_col_text(s, 2), "bank_transfer");
    assert_string_equal(db_col_text(s, 3), "2026-02-01");
    assert_memory_equal(db_col_text(s, 4), "bank:", 5);
    assert_string_equal(db_col_text(s, 5), "confirmed");
    db_done(s);
    /* a payment billing refuses (no EUR rate) leaves the line undecided */
    assert_int_equal(import(&finance, "date,amount,currency\n2026-02-05,10.00,EUR\n", id, &res, &e),
                     0);
    json_decref(res);
    imp = bank_import_get(env.db, &finance, id, &e);
    char l4[40];
    snprintf(l4, 40, "%s", json_string_value(json_object_get(line_at(imp, 2), "id")));
    json_decref(imp);
    err_clear(&e);
    assert_int_equal(bank_line_confirm(env.db, &finance, l4, d_nasser, pay, &e), -1);
    assert_string_equal(e.code, "rate_missing");
    s = db_row(env.db, &e, &found, "SELECT status, payment_id FROM bank_lines WHERE id = $1", "t",
               l4);
    assert_non_null(s);
    assert_string_equal(db_col_text(s, 0), "unmatched");
    assert_null(db_col_text(s, 1));
    db_done(s);
    /* another donor for the unmatched line */
    err_clear(&e);
    if (bank_line_confirm(env.db, &finance, l2, d_nasser, pay, &e) < 0) {
        fail_msg("confirm with another donor: %s", e.msg);
    }
}

static void test_known_reference(void **state)
{
    (void)state;
    fresh_org();
    char id[40];
    json_t *res;
    struct err e;
    /* a standing order nobody recognises, confirmed for Nasser by hand */
    assert_int_equal(import(&finance, "date,amount,reference\n2026-02-01,12.000,SO 4471 MONTHLY\n",
                            id, &res, &e),
                     0);
    json_decref(res);
    json_t *imp = bank_import_get(env.db, &finance, id, &e);
    json_t *l = line_at(imp, 2);
    assert_string_equal(json_string_value(json_object_get(l, "status")), "unmatched");
    char line[40];
    snprintf(line, sizeof(line), "%s", json_string_value(json_object_get(l, "id")));
    json_decref(imp);
    err_clear(&e);
    if (bank_line_confirm(env.db, &finance, line, d_nasser, NULL, &e) < 0) {
        fail_msg("confirm: %s", e.msg);
    }
    /* next month the same reference is Nasser's; with his periodic total it is certain */
    assert_int_equal(import(&finance, "date,amount,reference\n2026-03-01,30.000,SO 4471 MONTHLY\n",
                            id, &res, &e),
                     0);
    assert_int_equal(json_integer_value(json_object_get(res, "matched")), 1);
    json_decref(res);
    imp = bank_import_get(env.db, &finance, id, &e);
    l = line_at(imp, 2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(l, "donor"), "id")),
                        d_nasser);
    assert_true(has_reason(l, "ref_known"));
    assert_true(has_reason(l, "amount_total"));
    json_decref(imp);
    /* the review page's donor search: by number and by part of a name */
    assert_int_equal(db_begin(env.db, true, &e), 0);
    json_t *found = bank_donor_search(env.db, &finance, "d-4", &e);
    assert_int_equal(json_array_size(found), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(found, 0), "id")),
                        d_nasser);
    json_decref(found);
    found = bank_donor_search(env.db, &finance, "khatib", &e);
    assert_int_equal(json_array_size(found), 1);
    json_decref(found);
    found = bank_donor_search(env.db, &finance, "الخطيب", &e);
    assert_int_equal(json_array_size(found), 2);
    json_decref(found);
    db_rollback(env.db);
}

static void test_permissions(void **state)
{
    (void)state;
    fresh_org();
    char id[40];
    json_t *res;
    struct err e;
    const char *csv = "date,amount\n2026-02-01,5.000\n";
    assert_int_equal(import(&worker, csv, id, &res, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    assert_int_equal(import(&auditor, csv, id, &res, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_null(bank_import_list(env.db, &worker, &e));
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    /* the sponsorship officer imports */
    assert_int_equal(import(&officer, csv, id, &res, &e), 0);
    json_decref(res);
    /* another organization's import is not found */
    char org2[40], slug2[32];
    struct actor other;
    testenv_org(&env, org2, slug2);
    testenv_user(&env, &other, "finance_officer", org2, slug2);
    err_clear(&e);
    assert_null(bank_import_get(env.db, &other, id, &e));
    assert_int_equal(e.kind, ERR_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_parse_plain),
        cmocka_unit_test(test_parse_arabic_semicolon_bom),
        cmocka_unit_test(test_parse_credit_debit_columns),
        cmocka_unit_test(test_parse_malformed_rows),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_amounts),
        cmocka_unit_test(test_line_hashes),
        cmocka_unit_test(test_columns),
        cmocka_unit_test(test_names),
    };
    const struct CMUnitTest with_db[] = {
        cmocka_unit_test(test_matching),    cmocka_unit_test(test_duplicates_and_refusal),
        cmocka_unit_test(test_decisions),   cmocka_unit_test(test_known_reference),
        cmocka_unit_test(test_permissions),
    };
    int failed = cmocka_run_group_tests_name("bank parser", pure, NULL, NULL);
    failed += cmocka_run_group_tests_name("bank on the database", with_db, db_setup, db_teardown);
    return failed ? 1 : 0;
}
