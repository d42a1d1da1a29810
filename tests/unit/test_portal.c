/*
 * test_portal: the sponsor portal's services on the test database: the
 * allowlist holds nothing sensitive; a donor sees only their own children
 * (active, paused, recently ended), each only through the allowlist, the
 * photo and note only with consent; staff and unlinked logins are refused;
 * letters are checked (empty, too long, bad UTF-8, control characters,
 * another donor's child, an ended sponsorship) and move only along their
 * review steps; progress reports refuse bad periods, unknown members,
 * another child's or a medical document and a second report for a period,
 * and are approved once; the e-mail needs a configured server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testlib.h"

#include "core/time.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "sponsorship/portal.h"

static struct testenv env;
static char org[40], slug[32];
static struct actor cw, officer, donor1, donor2, unlinked;
static char d1[40], d2[40];

/* Runs one statement; fails the test on error. */
static void sql(const char *q, const char *types, ...)
{
    struct err e;
    err_clear(&e);
    struct db_stmt *s = db_prepare(env.db, q, &e);
    if (!s) {
        fail_msg("prepare: %s", e.msg);
    }
    va_list ap;
    va_start(ap, types);
    for (int i = 0; types[i]; i++) {
        if (types[i] == 't') {
            db_bind_text(s, i + 1, va_arg(ap, const char *));
        } else {
            db_bind_int64(s, i + 1, va_arg(ap, int64_t));
        }
    }
    va_end(ap);
    if (db_step(s, &e) < 0) {
        fail_msg("sql: %s", e.msg);
    }
    db_done(s);
}

/* A donor record linked to user (NULL: none). */
static void add_donor(char id[40], const char *no, const char *user, const char *status)
{
    uuid_v7(id);
    sql("INSERT INTO donors (id, org_id, donor_no, kind, name, email, contact_consent, user_id,"
        " status, created_by, created_at, updated_at) VALUES ($1, $2, $3, 'person', 'كافل',"
        " 'd@example.org', 1, $4, $5, 'test', '2026-01-01', '2026-01-01')",
        "ttttt", id, org, no, user, status);
}

/* An agreement for child with donor, status and end date (NULL: none). */
static void add_agreement(const char *child, const char *donor, const char *status, const char *end)
{
    char id[40], no[32];
    uuid_v7(id);
    snprintf(no, sizeof(no), "S-%.12s", id + 24);
    sql("INSERT INTO sponsorships (id, org_id, agreement_no, child_id, donor_id, payer_id, amount,"
        " currency, frequency, purpose, start_date, end_date, status, next_due, created_by,"
        " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5, 5000, 'USD', 'monthly',"
        " 'general', '2025-01-01', $6, $7, '2026-02-01', 'test', '2026-01-01', '2026-01-01')",
        "ttttttt", id, org, no, child, donor, end, status);
}

/* A document row (no file) of kind for child; returns its id in id. */
static void add_doc(char id[40], const char *child, const char *kind, const char *ctype)
{
    uuid_v7(id);
    char stored[64];
    snprintf(stored, sizeof(stored), "ab/%.32s", id);
    sql("INSERT INTO child_documents (id, org_id, child_id, kind, filename, stored_name,"
        " content_type, size, sha256, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, 'f',"
        " $5, $6, 1, 'x', 'test', '2026-01-01')",
        "tttttt", id, org, child, kind, stored, ctype);
}

/* Records a live sponsor_media consent for child. */
static void add_consent(const char *child)
{
    char id[40];
    uuid_v7(id);
    json_t *in = json_pack("{s:s, s:b, s:b, s:s}", "scope", "sponsor_media", "guardian_consent", 1,
                           "child_assent", 1, "given_by", "الأم");
    struct err e;
    err_clear(&e);
    if (consent_record(env.db, &cw, child, in, id, &e) < 0) {
        fail_msg("consent: %s", e.msg);
    }
    json_decref(in);
}

static int setup(void **state)
{
    (void)state;
    if (testenv_open(&env, "portal") < 0) {
        return -1;
    }
    testenv_org(&env, org, slug);
    testenv_user(&env, &cw, "case_worker", org, slug);
    testenv_user(&env, &officer, "sponsorship_officer", org, slug);
    testenv_user(&env, &donor1, "donor", org, slug);
    testenv_user(&env, &donor2, "donor", org, slug);
    testenv_user(&env, &unlinked, "donor", org, slug);
    add_donor(d1, "D-000001", donor1.user_id, "active");
    add_donor(d2, "D-000002", donor2.user_id, "active");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return testenv_close(&env);
}

static void test_allowlist(void **state)
{
    (void)state;
    int n;
    const struct portal_field *f = portal_fields(&n);
    assert_true(n > 5);
    static const char *const never[] = {
        "health_conditions", "disability",    "medication",  "camp",
        "shelter",           "latitude",      "longitude",   "locality",
        "district",          "mother_name",   "father_name", "family_name",
        "guardian_id",       "household_id",  "birth_date",  "school_results",
        "file_no",           "id_doc_number", NULL};
    for (int i = 0; i < n; i++) {
        for (int k = 0; never[k]; k++) {
            assert_string_not_equal(f[i].name, never[k]);
        }
        assert_true(portal_field_allowed(f[i].name));
        /* The media and the note need consent; nothing else does. */
        bool media = f[i].source == PF_PHOTO || f[i].source == PF_NOTE || f[i].source == PF_NOTE_EN;
        assert_int_equal(f[i].needs_consent, media);
    }
    assert_false(portal_field_allowed("health_conditions"));
    assert_false(portal_field_allowed(""));
}

/* True when every member of o is on the allowlist. */
static bool only_allowed(json_t *o, const char *const *extra)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        bool ok = portal_field_allowed(key);
        for (int i = 0; extra && extra[i]; i++) {
            ok = ok || strcmp(extra[i], key) == 0;
        }
        if (!ok) {
            return false;
        }
    }
    return true;
}

static void test_children_own_only(void **state)
{
    (void)state;
    char a[40], b[40], old[40], recent[40];
    testenv_child(&env, &cw, "ليلى", "2015-06-01", a);
    testenv_child(&env, &cw, "مريم", "2012-02-02", b);
    testenv_child(&env, &cw, "سارة", "2011-01-01", old);
    testenv_child(&env, &cw, "هدى", "2013-01-01", recent);
    json_t *in = json_pack("{s:s, s:s, s:s, s:s}", "health_conditions", "ربو", "camp", "مخيم",
                           "governorate", "حلب", "locality", "قرية");
    struct err e;
    err_clear(&e);
    json_t *errors = NULL;
    assert_int_equal(child_update(env.db, &cw, a, in, 0, &errors, &e), 0);
    json_decref(in);
    add_agreement(a, d1, "active", NULL);
    add_agreement(b, d2, "active", NULL);
    add_agreement(old, d1, "ended", "2020-01-31");
    char end[11];
    int y, m, d;
    time_today(&y, &m, &d);
    snprintf(end, sizeof(end), "%04d-%02d-01", y, m);
    add_agreement(recent, d1, "ended", end);

    json_t *items = portal_children(env.db, &donor1, &e);
    assert_non_null(items);
    assert_int_equal(json_array_size(items), 2); /* a and the recently ended one */
    size_t i;
    json_t *c;
    bool seen_a = false;
    json_array_foreach(items, i, c)
    {
        assert_true(only_allowed(c, NULL));
        const char *id = json_string_value(json_object_get(c, "id"));
        assert_string_not_equal(id, b);
        assert_string_not_equal(id, old);
        if (strcmp(id, a) == 0) {
            seen_a = true;
            assert_string_equal(json_string_value(json_object_get(c, "city")), "حلب");
            assert_string_equal(json_string_value(json_object_get(c, "status")), "active");
            assert_null(json_object_get(c, "photo_url")); /* no consent yet */
        }
    }
    assert_true(seen_a);
    json_decref(items);

    /* One child: the same allowlist, plus reports and can_write. */
    static const char *const extra[] = {"reports", "can_write", NULL};
    json_t *one = portal_child(env.db, &donor1, a, &e);
    assert_non_null(one);
    assert_true(only_allowed(one, extra));
    assert_true(json_is_true(json_object_get(one, "can_write")));
    json_decref(one);
    one = portal_child(env.db, &donor1, recent, &e);
    assert_non_null(one);
    assert_true(json_is_false(json_object_get(one, "can_write")));
    json_decref(one);
    err_clear(&e);
    assert_null(portal_child(env.db, &donor1, b, &e));
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    err_clear(&e);
    assert_null(portal_child(env.db, &donor1, old, &e));
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    err_clear(&e);
    assert_null(portal_child(env.db, &donor2, a, &e));
    assert_int_equal(e.kind, ERR_NOT_FOUND);

    /* Staff and a login without a donor record are refused. */
    err_clear(&e);
    assert_null(portal_children(env.db, &officer, &e));
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_null(portal_children(env.db, &unlinked, &e));
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    assert_string_equal(e.code, "no_donor");

    /* With consent and a photo: photo_url appears; a medical "photo" never counts. */
    char doc[40];
    add_doc(doc, a, "medical", "image/png");
    add_consent(a);
    one = portal_child(env.db, &donor1, a, &e);
    assert_null(json_object_get(one, "photo_url"));
    json_decref(one);
    add_doc(doc, a, "photo", "image/png");
    one = portal_child(env.db, &donor1, a, &e);
    assert_non_null(json_object_get(one, "photo_url"));
    json_decref(one);
}

static void test_letters(void **state)
{
    (void)state;
    char a[40], b[40], ended[40], id[40];
    testenv_child(&env, &cw, "نور", "2014-04-04", a);
    testenv_child(&env, &cw, "ريم", "2014-05-05", b);
    testenv_child(&env, &cw, "آمنة", "2014-06-06", ended);
    add_agreement(a, d1, "paused", NULL);
    add_agreement(b, d2, "active", NULL);
    char end[11];
    int y, m, d;
    time_today(&y, &m, &d);
    snprintf(end, sizeof(end), "%04d-%02d-01", y, m);
    add_agreement(ended, d1, "ended", end);
    struct err e;
    static const struct {
        const char *child; /* which child (NULL: a) */
        const char *body;  /* the letter */
        const char *field; /* the field at fault */
    } bad[] = {
        {NULL, "", "body"},         {NULL, "   \n ", "body"},
        {NULL, "\xff\xfe", "body"}, {NULL, "hi\x01there", "body"},
        {"b", "مرحبا", "child_id"}, {"ended", "مرحبا", "child_id"},
        {"", "مرحبا", "child_id"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *child = !bad[i].child                        ? a
                            : strcmp(bad[i].child, "b") == 0     ? b
                            : strcmp(bad[i].child, "ended") == 0 ? ended
                                                                 : bad[i].child;
        err_clear(&e);
        assert_int_equal(letter_create(env.db, &donor1, child, bad[i].body, id, &e), -1);
        assert_int_equal(e.kind, ERR_INVALID);
        assert_string_equal(e.field, bad[i].field);
    }
    char *longer = malloc(PORTAL_LETTER_MAX * 2 + 3);
    for (int i = 0; i < PORTAL_LETTER_MAX + 1; i++) {
        memcpy(longer + 2 * i, "ب", 2);
    }
    longer[(PORTAL_LETTER_MAX + 1) * 2] = '\0';
    err_clear(&e);
    assert_int_equal(letter_create(env.db, &donor1, a, longer, id, &e), -1);
    assert_string_equal(e.code, "too_long");
    longer[PORTAL_LETTER_MAX * 2] = '\0'; /* exactly the limit, in characters */
    err_clear(&e);
    assert_int_equal(letter_create(env.db, &donor1, a, longer, id, &e), 0);
    free(longer);
    err_clear(&e);
    assert_int_equal(letter_create(env.db, &officer, a, "x", id, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);

    char letter[40];
    err_clear(&e);
    assert_int_equal(letter_create(env.db, &donor1, a, "كيف حالك؟", letter, &e), 0);
    /* Review steps. */
    err_clear(&e);
    assert_int_equal(letter_review(env.db, &donor1, letter, "approve", NULL, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_int_equal(letter_review(env.db, &officer, letter, "deliver", NULL, &e), -1);
    assert_int_equal(e.kind, ERR_CONFLICT);
    err_clear(&e);
    assert_int_equal(letter_review(env.db, &officer, letter, "reject", NULL, &e), -1);
    assert_string_equal(e.field, "note");
    err_clear(&e);
    assert_int_equal(letter_review(env.db, &officer, letter, "burn", NULL, &e), -1);
    assert_string_equal(e.field, "action");
    err_clear(&e);
    assert_int_equal(letter_review(env.db, &officer, letter, "approve", NULL, &e), 0);
    err_clear(&e);
    assert_int_equal(letter_review(env.db, &officer, letter, "approve", NULL, &e), -1);
    assert_int_equal(e.kind, ERR_CONFLICT);
    err_clear(&e);
    assert_int_equal(letter_review(env.db, &officer, letter, "deliver", NULL, &e), 0);
    json_t *own = letter_list_own(env.db, &donor1, &e);
    assert_non_null(own);
    bool delivered = false;
    size_t i;
    json_t *l;
    json_array_foreach(own, i, l)
    {
        if (strcmp(json_string_value(json_object_get(l, "id")), letter) == 0) {
            delivered = strcmp(json_string_value(json_object_get(l, "status")), "delivered") == 0;
        }
    }
    assert_true(delivered);
    json_decref(own);
    own = letter_list_own(env.db, &donor2, &e);
    assert_int_equal(json_array_size(own), 0);
    json_decref(own);
    json_t *queue = letter_list(env.db, &officer, "pending", &e);
    assert_non_null(queue);
    json_decref(queue);
    err_clear(&e);
    assert_null(letter_list(env.db, &officer, "lost", &e));
    assert_string_equal(e.field, "status");
    err_clear(&e);
    assert_null(letter_list(env.db, &donor1, NULL, &e));
    assert_int_equal(e.kind, ERR_FORBIDDEN);
}

static void test_periods(void **state)
{
    (void)state;
    static const char *const good[] = {"2026-01", "2026-12", "2026-H1", "2026-H2", "2000-06"};
    static const char *const badp[] = {"2026-00",  "2026-13", "2026-H3", "2026-h1",
                                       "26-01",    "2026-1",  "2026/01", "1999-01",
                                       "2026-01x", "",        "2026-1H", "abcd-01"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_true(report_period_valid(good[i]));
    }
    for (size_t i = 0; i < sizeof(badp) / sizeof(badp[0]); i++) {
        assert_false(report_period_valid(badp[i]));
    }
    assert_false(report_period_valid(NULL));
}

/* The fields named by a problems list, space-separated and sorted by appearance. */
static void fields_of(json_t *errors, char *out, size_t n)
{
    out[0] = '\0';
    size_t i;
    json_t *p;
    json_array_foreach(errors, i, p)
    {
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%s%s", len ? " " : "",
                 json_string_value(json_object_get(p, "field")));
    }
}

static void test_reports(void **state)
{
    (void)state;
    char a[40], other[40], photo[40], pdf[40], med[40], foreign[40], id[40];
    testenv_child(&env, &cw, "زينب", "2014-04-04", a);
    testenv_child(&env, &cw, "خديجة", "2014-05-05", other);
    add_agreement(a, d1, "active", NULL);
    add_doc(photo, a, "photo", "image/jpeg");
    add_doc(pdf, a, "school", "application/pdf");
    add_doc(med, a, "medical", "image/png");
    add_doc(foreign, other, "photo", "image/png");
    struct err e;
    json_t *errors = NULL;
    char names[200];

    json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:i}", "child_id", a, "period", "2026-13", "note",
                           "  ", "secret", "x", "school_results", 5);
    err_clear(&e);
    assert_int_equal(report_create(env.db, &officer, in, id, &errors, &e), -1);
    fields_of(errors, names, sizeof(names));
    assert_non_null(strstr(names, "secret"));
    assert_non_null(strstr(names, "period"));
    assert_non_null(strstr(names, "note"));
    assert_non_null(strstr(names, "school_results"));
    json_decref(errors);
    json_decref(in);

    in = json_pack("{s:s, s:s, s:s, s:s, s:s}", "child_id", a, "period", "2026-H1", "note",
                   "ملاحظة", "photo_doc", pdf, "drawing_doc", med);
    err_clear(&e);
    assert_int_equal(report_create(env.db, &officer, in, id, &errors, &e), -1);
    fields_of(errors, names, sizeof(names));
    assert_string_equal(names, "photo_doc drawing_doc");
    json_decref(errors);
    json_decref(in);

    in = json_pack("{s:s, s:s, s:s, s:s}", "child_id", a, "period", "2026-H1", "note", "ملاحظة",
                   "photo_doc", foreign);
    err_clear(&e);
    assert_int_equal(report_create(env.db, &officer, in, id, &errors, &e), -1);
    fields_of(errors, names, sizeof(names));
    assert_string_equal(names, "photo_doc");
    json_decref(errors);
    json_decref(in);

    in = json_pack("{s:s, s:s, s:s}", "child_id", "no-such-child", "period", "2026-H1", "note",
                   "ملاحظة");
    err_clear(&e);
    assert_int_equal(report_create(env.db, &officer, in, id, &errors, &e), -1);
    fields_of(errors, names, sizeof(names));
    assert_string_equal(names, "child_id");
    json_decref(errors);
    json_decref(in);

    in = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "child_id", a, "period", "2026-H1", "note",
                   "تتقدم زينب", "note_en", "first draft", "photo_doc", photo, "drawing_doc", pdf);
    err_clear(&e);
    assert_int_equal(report_create(env.db, &donor1, in, id, &errors, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_int_equal(report_create(env.db, &officer, in, id, &errors, &e), 0);
    char again[40];
    err_clear(&e);
    assert_int_equal(report_create(env.db, &officer, in, again, &errors, &e), -1);
    assert_int_equal(e.kind, ERR_CONFLICT);
    assert_string_equal(e.code, "duplicate_period");
    json_decref(in);

    /* A draft can be changed: not its child or period, and only with valid values. */
    json_t *ch = json_pack("{s:s, s:s}", "period", "2026-H2", "note", " ");
    err_clear(&e);
    assert_int_equal(report_update(env.db, &officer, id, ch, &errors, &e), -1);
    fields_of(errors, names, sizeof(names));
    assert_string_equal(names, "period note");
    json_decref(errors);
    json_decref(ch);
    ch = json_pack("{s:s, s:n}", "drawing_doc", med, "photo_doc");
    err_clear(&e);
    assert_int_equal(report_update(env.db, &officer, id, ch, &errors, &e), -1);
    fields_of(errors, names, sizeof(names));
    assert_string_equal(names, "drawing_doc");
    json_decref(errors);
    json_decref(ch);
    ch = json_pack("{s:s}", "note_en", "Zainab is doing well");
    err_clear(&e);
    assert_int_equal(report_update(env.db, &donor1, id, ch, &errors, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_int_equal(report_update(env.db, &officer, id, ch, &errors, &e), 0);
    json_decref(ch);
    /* A draft is not the donor's. */
    json_t *c = portal_child(env.db, &donor1, a, &e);
    assert_int_equal(json_array_size(json_object_get(c, "reports")), 0);
    json_decref(c);
    /* Sending needs approval first, and a mail server. */
    g_config.smtp_url = NULL;
    err_clear(&e);
    assert_int_equal(report_send(env.db, &officer, id, NULL, &e), -1);
    assert_string_equal(e.code, "not_configured");
    err_clear(&e);
    assert_int_equal(report_approve(env.db, &donor1, id, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    err_clear(&e);
    assert_int_equal(report_approve(env.db, &officer, id, &e), 0);
    err_clear(&e);
    assert_int_equal(report_approve(env.db, &officer, id, &e), -1);
    assert_int_equal(e.kind, ERR_CONFLICT);
    ch = json_pack("{s:s}", "note", "تغيير بعد الاعتماد");
    err_clear(&e);
    assert_int_equal(report_update(env.db, &officer, id, ch, &errors, &e), -1);
    assert_int_equal(e.kind, ERR_CONFLICT);
    json_decref(ch);
    /* Approved: the donor sees it; without consent no note, photo or drawing. */
    c = portal_child(env.db, &donor1, a, &e);
    json_t *reports = json_object_get(c, "reports");
    assert_int_equal(json_array_size(reports), 1);
    json_t *r0 = json_array_get(reports, 0);
    assert_null(json_object_get(r0, "note"));
    assert_null(json_object_get(r0, "photo_url"));
    assert_null(json_object_get(c, "note"));
    json_decref(c);
    add_consent(a);
    c = portal_child(env.db, &donor1, a, &e);
    r0 = json_array_get(json_object_get(c, "reports"), 0);
    assert_string_equal(json_string_value(json_object_get(r0, "note")), "تتقدم زينب");
    assert_non_null(json_object_get(r0, "photo_url"));
    assert_non_null(json_object_get(r0, "drawing_url"));
    assert_string_equal(json_string_value(json_object_get(c, "note_en")), "Zainab is doing well");
    json_decref(c);

    /* Staff views: the report, its recipients, the list and what is due. */
    json_t *rep = report_get(env.db, &officer, id, &e);
    assert_non_null(rep);
    assert_string_equal(json_string_value(json_object_get(rep, "status")), "approved");
    assert_int_equal(json_array_size(json_object_get(rep, "recipients")), 1);
    json_decref(rep);
    json_t *list = report_list(env.db, &officer, a, &e);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    json_t *due = report_due(env.db, &officer, &e);
    assert_non_null(due);
    size_t i;
    json_t *it;
    json_array_foreach(due, i, it)
    {
        assert_string_not_equal(json_string_value(json_object_get(it, "child_id")), a);
    }
    json_decref(due);
    err_clear(&e);
    assert_null(report_get(env.db, &donor1, id, &e));
    assert_int_equal(e.kind, ERR_FORBIDDEN);
}

static void test_media_checks(void **state)
{
    (void)state;
    char a[40], doc[40];
    testenv_child(&env, &cw, "سلمى", "2014-04-04", a);
    add_agreement(a, d1, "active", NULL);
    add_doc(doc, a, "photo", "image/png");
    struct err e;
    struct doc_file f;
    /* No consent: not found, whatever the file. */
    err_clear(&e);
    assert_int_equal(portal_media(env.db, &donor1, PM_CHILD_PHOTO, a, &f, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    add_consent(a);
    /* Another donor: not found. */
    err_clear(&e);
    assert_int_equal(portal_media(env.db, &donor2, PM_CHILD_PHOTO, a, &f, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    /* A report that does not exist. */
    err_clear(&e);
    assert_int_equal(portal_media(env.db, &donor1, PM_REPORT_PHOTO, "nope", &f, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowlist), cmocka_unit_test(test_children_own_only),
        cmocka_unit_test(test_letters),   cmocka_unit_test(test_periods),
        cmocka_unit_test(test_reports),   cmocka_unit_test(test_media_checks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
