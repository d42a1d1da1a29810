/*
 * test_import: CSV import and CSV/XLSX export of children: the reader's edge
 * cases and refusals, digits and dates, column mapping by Arabic and English
 * labels, the dry run's problems by row and column, all-or-nothing writes,
 * export escaping and formula guard, XLSX output and role-based hiding of
 * health columns. On SQLite, or the database in SANAD_TEST_DB.
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
#include <unistd.h>

#include "children/children.h"
#include "children/export.h"
#include "children/import.h"
#include "core/buf.h"
#include "core/uuid.h"
#include "db/db.h"
#include "db/db_util.h"
#include "keys/keys.h"
#include "web/i18n.h"
#include "testlib.h"

static struct testenv env;
static struct db *db;

/* A fresh folder with a master key, catalogs and a migrated database. */
static int setup(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    if (testenv_open(&env, "import") < 0) {
        return -1;
    }
    db = env.db;
    if (i18n_init(&e) < 0) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return testenv_close(&env);
}

/* A new organization (unique per run) and the command line acting in it. */
static void new_org(struct actor *a)
{
    char id[40], slug[32];
    testenv_org(&env, id, slug);
    actor_system(a, id);
    snprintf(a->org_slug, sizeof(a->org_slug), "%s", slug);
}

/* A staff member of a's organization with role. */
static struct actor staff(const struct actor *org, const char *role)
{
    struct actor a = *org;
    a.system = false;
    uuid_v7(a.user_id);
    snprintf(a.username, sizeof(a.username), "%s", role);
    snprintf(a.role, sizeof(a.role), "%s", role);
    return a;
}

/* Number of children of an organization. */
static int64_t count_children(const char *org_id)
{
    struct err e;
    err_clear(&e);
    int found;
    struct db_stmt *s =
        db_row(db, &e, &found, "SELECT COUNT(*) FROM children WHERE org_id = $1", "t", org_id);
    assert_non_null(s);
    int64_t n = db_col_int64(s, 0);
    db_done(s);
    return n;
}

/* The detail of the organization's last audit entry for action, or "" (static). */
static const char *audit_detail(const char *org_id, const char *action)
{
    static char out[128];
    struct err e;
    err_clear(&e);
    int found;
    struct db_stmt *s = db_row(db, &e, &found,
                               "SELECT detail FROM audit_log WHERE org_id = $1 AND action = $2"
                               " ORDER BY seq DESC",
                               "tt", org_id, action);
    out[0] = '\0';
    if (s) {
        snprintf(out, sizeof(out), "%s", db_col_text(s, 0));
        db_done(s);
    }
    return out;
}

/* Parses text, expecting success. */
static void parse_ok(struct import_csv *csv, const char *text)
{
    struct err e;
    err_clear(&e);
    int rc = import_csv_parse(csv, text, strlen(text), 0, &e);
    if (rc < 0) {
        fprintf(stderr, "parse: %s\n", e.msg);
    }
    assert_int_equal(rc, 0);
}

/* Parses n bytes, expecting a refusal with code; returns the message (static). */
static const char *parse_bad(const char *text, size_t n, size_t limit, const char *code)
{
    static struct err e;
    err_clear(&e);
    struct import_csv csv;
    assert_int_equal(import_csv_parse(&csv, text, n, limit, &e), -1);
    assert_string_equal(e.code, code);
    assert_null(csv.data);
    return e.msg;
}

static void test_reader_shapes(void **state)
{
    (void)state;
    struct import_csv csv;
    /* BOM, semicolons, a quoted cell with the separator, a doubled quote and a line break, CRLF */
    parse_ok(&csv, "\xEF\xBB\xBF" "first_name;father_name;note\r\n"
                   "محمد;\"علي; الحسن\";\"قال \"\"نعم\"\"\r\nثم ذهب\"\r\n"
                   "\r\n"
                   "سارة;أحمد;\r\n");
    assert_int_equal(csv.sep, ';');
    assert_int_equal(csv.n_cols, 3);
    assert_int_equal(csv.n_rows, 2);
    assert_string_equal(csv.header[0], "first_name");
    assert_string_equal(import_csv_cell(&csv, 0, 1, NULL), "علي; الحسن");
    assert_string_equal(import_csv_cell(&csv, 0, 2, NULL), "قال \"نعم\"\r\nثم ذهب");
    size_t n;
    assert_string_equal(import_csv_cell(&csv, 1, 2, &n), "");
    assert_int_equal(n, 0);
    /* rows as a spreadsheet numbers them: the blank line counts */
    assert_int_equal(csv.line[0], 2);
    assert_int_equal(csv.line[1], 4);
    import_csv_release(&csv);
    /* comma with LF, no final newline, commas win the header vote over a quoted semicolon */
    parse_ok(&csv, "a,\"b;c\",d\n1,2,3");
    assert_int_equal(csv.sep, ',');
    assert_int_equal(csv.n_rows, 1);
    assert_string_equal(import_csv_cell(&csv, 0, 2, NULL), "3");
    assert_string_equal(csv.header[1], "b;c");
    import_csv_release(&csv);
    /* header names are trimmed; a header-only file has no rows */
    parse_ok(&csv, " first_name , sex \n");
    assert_string_equal(csv.header[0], "first_name");
    assert_string_equal(csv.header[1], "sex");
    assert_int_equal(csv.n_rows, 0);
    import_csv_release(&csv);
}

static void test_reader_refusals(void **state)
{
    (void)state;
    const char *msg;
    parse_bad("", 0, 0, "empty_file");
    parse_bad("\xEF\xBB\xBF", 3, 0, "empty_file");
    parse_bad("\r\n\n", 3, 0, "empty_file");
    msg = parse_bad("a,b\n1,\xff\xfe\n", 10, 0, "invalid_utf8");
    assert_non_null(strstr(msg, "row 2"));
    assert_non_null(strstr(msg, "'b'"));
    msg = parse_bad("a,b\n1,2\n1,2,3\n", 14, 0, "ragged_row");
    assert_non_null(strstr(msg, "row 3"));
    assert_non_null(strstr(msg, "3 columns, the header has 2"));
    msg = parse_bad("a,b\n1,2\n4\n", 10, 0, "ragged_row");
    assert_non_null(strstr(msg, "1 columns"));
    msg = parse_bad("a,b\n1,\"2\n3,4\n", 13, 0, "unterminated_quote");
    assert_non_null(strstr(msg, "row 2"));
    parse_bad("a,b\n\"1\"x,2\n", 11, 0, "bad_quote");
    parse_bad("a,b\n1\"x,2\n", 10, 0, "bad_quote");
    parse_bad("a,a\n1,2\n", 8, 0, "duplicate_column");
    parse_bad("a,,c\n1,2,3\n", 11, 0, "empty_column_name");
    parse_bad("a, \n1,2\n", 8, 0, "empty_column_name");
    parse_bad("a,b\n1,2\n", 8, 5, "too_large");
    /* a NUL byte is not text */
    parse_bad("a,b\n1,\0\n", 8, 0, "invalid_utf8");
    /* a field over 64 KiB, quoted or not */
    size_t big = IMPORT_MAX_CELL + 10;
    char *huge = malloc(big + 16);
    memcpy(huge, "a\n\"", 3);
    memset(huge + 3, 'x', big);
    memcpy(huge + 3 + big, "\"\n", 2);
    msg = parse_bad(huge, big + 5, 0, "field_too_long");
    assert_non_null(strstr(msg, "row 2"));
    parse_bad(huge + 3, big, 0, "field_too_long"); /* as the header */
    /* exactly the limit passes */
    memset(huge + 3, 'y', IMPORT_MAX_CELL);
    memcpy(huge + 3 + IMPORT_MAX_CELL, "\"\n", 2);
    struct import_csv csv;
    struct err e;
    err_clear(&e);
    assert_int_equal(import_csv_parse(&csv, huge, IMPORT_MAX_CELL + 5, 0, &e), 0);
    size_t n;
    import_csv_cell(&csv, 0, 0, &n);
    assert_int_equal(n, IMPORT_MAX_CELL);
    import_csv_release(&csv);
    free(huge);
}

static void test_digits_dates_sex(void **state)
{
    (void)state;
    char s[64] = "٢٠١٥-٠٣-٠٤ و ۱۲۳۴ ٣٫٥";
    import_ascii_digits(s);
    assert_string_equal(s, "2015-03-04 و 1234 3.5");
    char d[11];
    assert_int_equal(import_date("2015-03-04", d), 0);
    assert_string_equal(d, "2015-03-04");
    assert_int_equal(import_date("4/3/2015", d), 0);
    assert_string_equal(d, "2015-03-04");
    assert_int_equal(import_date(" 04/03/2015 ", d), 0);
    assert_string_equal(d, "2015-03-04");
    assert_int_equal(import_date("٠٤/٠٣/٢٠١٥", d), 0);
    assert_string_equal(d, "2015-03-04");
    assert_int_equal(import_date("۲۰۱۵-۳-۴", d), 0);
    assert_string_equal(d, "2015-03-04");
    assert_int_equal(import_date("31/02/2015", d), 0); /* shape only: the registry refuses it */
    assert_string_equal(d, "2015-02-31");
    assert_int_equal(import_date("2015/03-04", d), -1);
    assert_int_equal(import_date("04/03/15", d), -1);
    assert_int_equal(import_date("123/03/2015", d), -1);
    assert_int_equal(import_date("20150304", d), -1);
    assert_int_equal(import_date("", d), -1);
    assert_int_equal(import_date("4 March 2015", d), -1);
    assert_string_equal(import_sex("ذكر"), "M");
    assert_string_equal(import_sex("أنثى"), "F");
    assert_string_equal(import_sex("انثى"), "F");
    assert_string_equal(import_sex("Male"), "M");
    assert_string_equal(import_sex("FEMALE"), "F");
    assert_string_equal(import_sex("m"), "M");
    assert_string_equal(import_sex("F"), "F");
    assert_null(import_sex("x"));
    assert_null(import_sex(""));
    assert_null(import_sex("males"));
}

static void test_column_labels(void **state)
{
    (void)state;
    assert_string_equal(import_field_for_column("first_name"), "first_name");
    assert_string_equal(import_field_for_column(" First Name "), "first_name");
    assert_string_equal(import_field_for_column("FATHER-NAME"), "father_name");
    assert_string_equal(import_field_for_column("الاسم الأول"), "first_name");
    assert_string_equal(import_field_for_column("اسم الأب"), "father_name");
    assert_string_equal(import_field_for_column("تاريخ الميلاد"), "birth_date");
    assert_string_equal(import_field_for_column("Date of birth"), "birth_date");
    assert_string_equal(import_field_for_column("الجنس"), "sex");
    assert_string_equal(import_field_for_column("Gender"), "sex");
    assert_string_equal(import_field_for_column("Sex"), "sex");
    /* the catalogs' labels, as the XLSX export writes them */
    assert_string_equal(import_field_for_column(i18n_get("ar", "field.health_conditions")),
                        "health_conditions");
    assert_string_equal(import_field_for_column(i18n_get("en", "field.orphan_status")),
                        "orphan_status");
    assert_null(import_field_for_column("record_id"));
    assert_null(import_field_for_column(""));
    struct err e;
    err_clear(&e);
    json_t *m = import_mapping_parse("رقم=,Name 1=first_name, x = sex", &e);
    assert_non_null(m);
    assert_true(json_is_null(json_object_get(m, "رقم")));
    assert_string_equal(json_string_value(json_object_get(m, "Name 1")), "first_name");
    assert_string_equal(json_string_value(json_object_get(m, "x")), "sex");
    json_decref(m);
    assert_null(import_mapping_parse("a=nope", &e));
    assert_string_equal(e.code, "bad_mapping");
    assert_null(import_mapping_parse("a", &e));
    assert_null(import_mapping_parse("=sex", &e));
}

/* An Arabic spreadsheet: labels, semicolons, Arabic-Indic digits, DD/MM/YYYY. */
static const char arabic_csv[] =
    "\xEF\xBB\xBF"
    "الاسم الأول;اسم الأب;اسم العائلة;الجنس;تاريخ الميلاد;orphan_status;رقم السجل\r\n"
    "محمد;علي;الحسن;ذكر;٠٤/٠٣/٢٠١٥;father_deceased;١\r\n"
    "فاطمة;أحمد;;أنثى;2016-07-09;both_deceased;2\r\n"
    ";خالد;;male;31/02/2015;father_deceased;3\r\n"
    "زينب;حسن;;x;01/01/2090;nobody;4\r\n";

/* Finds a problem of the result by row and field; NULL when none. */
static json_t *find_problem(json_t *result, long row, const char *field)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(result, "errors"), i, p)
    {
        const char *f = json_string_value(json_object_get(p, "field"));
        if (json_integer_value(json_object_get(p, "row")) == row && f && !strcmp(f, field)) {
            return p;
        }
    }
    return NULL;
}

static void test_dry_run(void **state)
{
    (void)state;
    struct actor a;
    new_org(&a);
    struct err e;
    err_clear(&e);
    json_t *r = NULL;
    assert_int_equal(import_children(db, &a, arabic_csv, strlen(arabic_csv), NULL, true, false,
                                     &r, &e), 0);
    assert_non_null(r);
    assert_int_equal(json_integer_value(json_object_get(r, "rows")), 4);
    assert_int_equal(json_integer_value(json_object_get(r, "valid")), 2);
    assert_int_equal(json_integer_value(json_object_get(r, "invalid")), 2);
    assert_int_equal(json_integer_value(json_object_get(r, "written")), 0);
    assert_string_equal(json_string_value(json_object_get(r, "row_numbering")),
                        "header_is_row_1");
    /* the unmapped column is listed, not dropped */
    json_t *ignored = json_object_get(r, "ignored");
    assert_int_equal(json_array_size(ignored), 1);
    assert_string_equal(json_string_value(json_array_get(ignored, 0)), "رقم السجل");
    json_t *col = json_array_get(json_object_get(r, "columns"), 4);
    assert_string_equal(json_string_value(json_object_get(col, "column")), "تاريخ الميلاد");
    assert_string_equal(json_string_value(json_object_get(col, "field")), "birth_date");
    /* every problem of every row, by row and column */
    json_t *p = find_problem(r, 4, "first_name");
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "code")), "required");
    assert_string_equal(json_string_value(json_object_get(p, "column")), "الاسم الأول");
    p = find_problem(r, 4, "birth_date");
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "code")), "invalid_date");
    assert_string_equal(json_string_value(json_object_get(p, "column")), "تاريخ الميلاد");
    assert_string_equal(json_string_value(json_object_get(find_problem(r, 5, "sex"), "code")),
                        "invalid_choice");
    assert_string_equal(
        json_string_value(json_object_get(find_problem(r, 5, "birth_date"), "code")),
        "future_date");
    assert_non_null(find_problem(r, 5, "orphan_status"));
    assert_null(find_problem(r, 2, "birth_date"));
    assert_null(find_problem(r, 3, "sex"));
    assert_int_equal(json_integer_value(json_object_get(r, "errors_total")), 5);
    json_decref(r);
    assert_int_equal(count_children(a.org_id), 0);
}

static void test_missing_column_and_mapping(void **state)
{
    (void)state;
    struct actor a;
    new_org(&a);
    struct err e;
    err_clear(&e);
    json_t *r = NULL;
    const char *csv = "first_name,father_name,sex,orphan_status\nمحمد,علي,M,abandoned\n";
    assert_int_equal(import_children(db, &a, csv, strlen(csv), NULL, false, false, &r, &e), -1);
    assert_string_equal(e.code, "missing_column");
    assert_string_equal(e.field, "birth_date");
    assert_non_null(strstr(e.msg, "'birth_date'"));
    json_t *p = find_problem(r, 1, "birth_date");
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "code")), "missing_column");
    json_decref(r);
    /* the dry run reports it too, without failing */
    err_clear(&e);
    assert_int_equal(import_children(db, &a, csv, strlen(csv), NULL, true, false, &r, &e), 0);
    assert_int_equal(json_integer_value(json_object_get(r, "valid")), 0);
    assert_non_null(find_problem(r, 1, "birth_date"));
    json_decref(r);
    /* an explicit mapping gives the odd column its field and ignores another */
    const char *odd = "n1,n2,g,b,o,junk\nمحمد,علي,F,2014-05-06,abandoned,x\n";
    json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:n}", "n1", "first_name", "n2",
                          "father_name", "g", "sex", "b", "birth_date", "o", "orphan_status",
                          "junk");
    err_clear(&e);
    assert_int_equal(import_children(db, &a, odd, strlen(odd), m, true, false, &r, &e), 0);
    assert_int_equal(json_integer_value(json_object_get(r, "valid")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(r, "ignored"), 0)),
                        "junk");
    json_decref(r);
    json_decref(m);
    /* a mapping naming a column the file lacks, an unknown field, or one field twice */
    m = json_pack("{s:s}", "nope", "first_name");
    assert_int_equal(import_children(db, &a, odd, strlen(odd), m, true, false, &r, &e), -1);
    assert_string_equal(e.code, "bad_mapping");
    json_decref(r);
    json_decref(m);
    m = json_pack("{s:s}", "n1", "favourite_colour");
    assert_int_equal(import_children(db, &a, odd, strlen(odd), m, true, false, &r, &e), -1);
    assert_string_equal(e.code, "bad_mapping");
    json_decref(r);
    json_decref(m);
    const char *twice = "first_name,الاسم الأول\nمحمد,محمد\n";
    assert_int_equal(import_children(db, &a, twice, strlen(twice), NULL, true, false, &r, &e),
                     -1);
    assert_string_equal(e.code, "bad_mapping");
    json_decref(r);
    /* a reader refusal gives no result */
    r = NULL;
    assert_int_equal(import_children(db, &a, "a,b\n1\n", 6, NULL, true, false, &r, &e), -1);
    assert_string_equal(e.code, "ragged_row");
    assert_null(r);
    /* without children.write: refused */
    struct actor so = staff(&a, "sponsorship_officer");
    assert_int_equal(import_children(db, &so, odd, strlen(odd), NULL, true, false, &r, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    assert_int_equal(count_children(a.org_id), 0);
}

static void test_all_or_nothing(void **state)
{
    (void)state;
    struct actor a;
    new_org(&a);
    struct err e;
    err_clear(&e);
    json_t *r = NULL;
    /* one bad row: nothing written */
    assert_int_equal(import_children(db, &a, arabic_csv, strlen(arabic_csv), NULL, false, false,
                                     &r, &e), -1);
    assert_string_equal(e.code, "invalid_rows");
    assert_int_equal(json_integer_value(json_object_get(r, "written")), 0);
    json_decref(r);
    assert_int_equal(count_children(a.org_id), 0);
    assert_string_equal(audit_detail(a.org_id, "children.import"), "");
    /* skip_invalid: the valid rows only, in one transaction, audited once */
    err_clear(&e);
    assert_int_equal(import_children(db, &a, arabic_csv, strlen(arabic_csv), NULL, false, true,
                                     &r, &e), 0);
    assert_int_equal(json_integer_value(json_object_get(r, "written")), 2);
    json_decref(r);
    assert_int_equal(count_children(a.org_id), 2);
    assert_string_equal(audit_detail(a.org_id, "children.import"), "rows=2");
    /* the converted values were stored: ASCII date, M/F */
    int found;
    struct db_stmt *s = db_row(db, &e, &found,
                               "SELECT birth_date, sex FROM children WHERE org_id = $1 AND"
                               " first_name = $2", "tt", a.org_id, "محمد");
    assert_non_null(s);
    assert_string_equal(db_col_text(s, 0), "2015-03-04");
    assert_string_equal(db_col_text(s, 1), "M");
    db_done(s);
    /* a write that fails half-way (a household of no one): everything rolled back */
    struct actor b;
    new_org(&b);
    char bogus[40];
    uuid_v7(bogus);
    char csv[512];
    snprintf(csv, sizeof(csv),
             "first_name,father_name,sex,birth_date,orphan_status,household_id\n"
             "محمد,علي,M,2015-01-02,abandoned,\n"
             "سارة,علي,F,2016-01-02,abandoned,%s\n", bogus);
    err_clear(&e);
    assert_int_equal(import_children(db, &b, csv, strlen(csv), NULL, false, false, &r, &e), -1);
    assert_non_null(strstr(e.msg, "row 3"));
    assert_non_null(strstr(e.msg, "nothing was imported"));
    json_decref(r);
    assert_int_equal(count_children(b.org_id), 0);
}

static void test_csv_cell_escaping(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"محمد", "محمد"},
        {"a,b", "\"a,b\""},
        {"a;b", "\"a;b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"two\r\nlines", "\"two\r\nlines\""},
        {" lead", "\" lead\""},
        {"=1+1", "\"'=1+1\""},
        {"+971 50", "\"'+971 50\""},
        {"-2+3", "\"'-2+3\""},
        {"@SUM(A1)", "\"'@SUM(A1)\""},
        {"\tx", "\"'\tx\""},
        {"-35.25", "-35.25"},
        {"12", "12"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf b = BUF_INIT;
        export_csv_cell(&b, cases[i].in);
        assert_string_equal(b.buf, cases[i].out);
        buf_release(&b);
    }
    struct buf b = BUF_INIT;
    export_csv_cell(&b, NULL);
    assert_int_equal(b.len, 0);
    buf_release(&b);
}

/* An organization with two children, one with health details and a hostile place name. */
static void seed_two(struct actor *a)
{
    new_org(a);
    const char *csv =
        "first_name,father_name,sex,birth_date,orphan_status,birth_place,health_conditions\n"
        "محمد,علي,M,2015-03-04,father_deceased,\"=HYPERLINK(\"\"http://x\"\")\",ربو مزمن\n"
        "سارة,أحمد,F,2016-07-09,both_deceased,\"حلب, سوريا\",\n";
    struct err e;
    err_clear(&e);
    json_t *r = NULL;
    int rc = import_children(db, a, csv, strlen(csv), NULL, false, false, &r, &e);
    if (rc < 0) {
        fprintf(stderr, "seed: %s\n", e.msg);
    }
    assert_int_equal(rc, 0);
    json_decref(r);
}

static void test_export_csv(void **state)
{
    (void)state;
    struct actor a;
    seed_two(&a);
    struct actor cw = staff(&a, "case_worker");
    struct err e;
    err_clear(&e);
    struct buf out = BUF_INIT;
    size_t rows;
    assert_int_equal(children_export(db, &cw, NULL, EXPORT_CSV, NULL, &out, &rows, &e), 0);
    assert_int_equal(rows, 2);
    assert_memory_equal(out.buf, "\xEF\xBB\xBF" "file_no,status,first_name,", 28);
    assert_non_null(strstr(out.buf, "\r\n"));
    assert_null(strstr(out.buf, "\n\n"));
    assert_non_null(strstr(out.buf, ",health_conditions,"));
    assert_non_null(strstr(out.buf, "ربو مزمن")); /* opened for a case worker */
    assert_non_null(strstr(out.buf, "\"'=HYPERLINK(\"\"http://x\"\")\""));
    assert_non_null(strstr(out.buf, "\"حلب, سوريا\""));
    assert_null(strstr(out.buf, ",=HYPERLINK"));
    assert_string_equal(audit_detail(a.org_id, "children.export"), "format=csv rows=2");
    /* the exported file reads back: every row valid, file_no and status ignored */
    json_t *r = NULL;
    assert_int_equal(import_children(db, &a, out.buf, out.len, NULL, true, false, &r, &e), 0);
    assert_int_equal(json_integer_value(json_object_get(r, "valid")), 2);
    assert_int_equal(json_array_size(json_object_get(r, "ignored")), 2);
    json_decref(r);
    buf_release(&out);
    /* a sponsorship officer gets no health column and no health text */
    struct actor so = staff(&a, "sponsorship_officer");
    assert_int_equal(children_export(db, &so, NULL, EXPORT_CSV, NULL, &out, &rows, &e), 0);
    assert_int_equal(rows, 2);
    assert_null(strstr(out.buf, "health_conditions"));
    assert_null(strstr(out.buf, "disability"));
    assert_null(strstr(out.buf, "medication"));
    assert_null(strstr(out.buf, "ربو"));
    assert_non_null(strstr(out.buf, "سارة"));
    buf_release(&out);
    /* a donor may not export at all; another organization sees none of these */
    struct actor donor = staff(&a, "donor");
    assert_int_equal(children_export(db, &donor, NULL, EXPORT_CSV, NULL, &out, &rows, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    struct actor other;
    new_org(&other);
    assert_int_equal(children_export(db, &other, NULL, EXPORT_CSV, NULL, &out, &rows, &e), 0);
    assert_int_equal(rows, 0);
    buf_release(&out);
    /* to a file */
    char path[128];
    snprintf(path, sizeof(path), "%s/out.csv", env.dir);
    assert_int_equal(children_export(db, &cw, NULL, EXPORT_CSV, path, NULL, &rows, &e), 0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char head[4] = {0};
    assert_int_equal(fread(head, 1, 3, f), 3);
    fclose(f);
    assert_memory_equal(head, "\xEF\xBB\xBF", 3);
}

static void test_export_xlsx(void **state)
{
    (void)state;
    struct actor a;
    seed_two(&a);
    struct err e;
    err_clear(&e);
    struct buf out = BUF_INIT;
    size_t rows;
    struct actor so = staff(&a, "sponsorship_officer");
    snprintf(so.lang, sizeof(so.lang), "ar");
    assert_int_equal(children_export(db, &so, NULL, EXPORT_XLSX, NULL, &out, &rows, &e), 0);
    assert_int_equal(rows, 2);
    assert_true(out.len > 1000);
    assert_memory_equal(out.buf, "PK\x03\x04", 4);
    assert_string_equal(audit_detail(a.org_id, "children.export"), "format=xlsx rows=2");
    buf_release(&out);
    char path[128];
    snprintf(path, sizeof(path), "%s/out.xlsx", env.dir);
    assert_int_equal(children_export(db, &a, NULL, EXPORT_XLSX, path, NULL, &rows, &e), 0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char head[4];
    assert_int_equal(fread(head, 1, 4, f), 4);
    fclose(f);
    assert_memory_equal(head, "PK\x03\x04", 4);
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    assert_int_equal(access(tmp, F_OK), -1);
    /* an unwritable place: a clear failure */
    assert_int_equal(children_export(db, &a, NULL, EXPORT_XLSX, "/nonexistent/x.xlsx", NULL,
                                     &rows, &e), -1);
    enum export_format fmt;
    assert_int_equal(export_format_parse("xlsx", &fmt, &e), 0);
    assert_int_equal(fmt, EXPORT_XLSX);
    assert_int_equal(export_format_parse("pdf", &fmt, &e), -1);
    assert_int_equal(export_format_parse(NULL, &fmt, &e), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_shapes),
        cmocka_unit_test(test_reader_refusals),
        cmocka_unit_test(test_digits_dates_sex),
        cmocka_unit_test(test_column_labels),
        cmocka_unit_test(test_dry_run),
        cmocka_unit_test(test_missing_column_and_mapping),
        cmocka_unit_test(test_all_or_nothing),
        cmocka_unit_test(test_csv_cell_escaping),
        cmocka_unit_test(test_export_csv),
        cmocka_unit_test(test_export_xlsx),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
