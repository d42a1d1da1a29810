/*
 * sponsorship.c: the waiting list, the age-limit job, the settings and the
 * sponsorship officer's home (see sponsors.h), and the small helpers the
 * donor and agreement files share (sponsors_int.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "cases/mail.h"
#include "children/children.h"
#include "children/export.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/log.h"
#include "core/money.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "sponsorship/sponsors.h"
#include "sponsorship/billing.h"
#include "sponsorship/sponsors_int.h"
#include "sponsorship/sponsorship.h"
#include "web/i18n.h"
#include "core/banned.h"

/* ---- shared helpers ---- */

void sp_problem_msg(json_t *errors, const char *field, const char *code, const char *message)
{
    json_array_append_new(
        errors, json_pack("{s:s, s:s, s:s}", "field", field, "code", code, "message", message));
}

void sp_problem(json_t *errors, const char *field, const char *code)
{
    sp_problem_msg(errors, field, code, code);
}

int sp_invalid(json_t *errors, json_t **errors_out, struct err *e)
{
    json_t *first = json_array_get(errors, 0);
    const char *code = json_string_value(json_object_get(first, "code"));
    const char *field = json_string_value(json_object_get(first, "field"));
    if (json_array_size(errors) == 1 && !errors_out) {
        err_set(e, ERR_INVALID, code, field, "'%s' is not valid (%s)", field, code);
    } else {
        err_set(e, ERR_INVALID, "validation_failed", field, "%zu field(s) are not valid",
                json_array_size(errors));
    }
    if (errors_out) {
        *errors_out = errors;
    } else {
        json_decref(errors);
    }
    return -1;
}

void sp_unknown_members(json_t *obj, const char *allowed, json_t *errors)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        if (!text_word_in(allowed, key)) {
            sp_problem(errors, key, "unknown_field");
        }
    }
}

const char *sp_text(json_t *obj, const char *field, size_t max, bool required, bool multiline,
                    json_t *errors)
{
    json_t *v = json_object_get(obj, field);
    if (!v || json_is_null(v)) {
        if (required) {
            sp_problem(errors, field, "required");
        }
        return NULL;
    }
    if (!json_is_string(v)) {
        sp_problem(errors, field, "invalid_type");
        return NULL;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n || !utf8_valid(s, n)) {
        sp_problem(errors, field, "invalid_type");
        return NULL;
    }
    if (required && text_blank(s)) {
        sp_problem(errors, field, "required");
        return NULL;
    }
    if (utf8_length(s, n) > max) {
        sp_problem(errors, field, "too_long");
        return NULL;
    }
    if (!multiline && (strchr(s, '\n') || strchr(s, '\r') || strchr(s, '\t'))) {
        sp_problem(errors, field, "one_line");
        return NULL;
    }
    return s;
}

int sp_fail(struct db *db)
{
    db_rollback(db);
    return -1;
}

const char *sp_who(const struct actor *a)
{
    return a->user_id[0] ? a->user_id : "cli";
}

int sp_event_tx(struct db *db, const struct actor *a, const char *sp_id, const char *kind,
                const char *detail, struct err *e)
{
    char id[UUID_STR_LEN], at[32];
    uuid_v7(id);
    time_format_iso(time_now_ms(), at, sizeof(at));
    return db_run(db, e,
                  "INSERT INTO sponsorship_events (id, sponsorship_id, org_id, kind, detail,"
                  " actor_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                  "ttttttt", id, sp_id, a->org_id, kind, detail, a->user_id[0] ? a->user_id : NULL,
                  at) < 0
               ? -1
               : 0;
}

const char *sp_money_text(int64_t minor, const char *currency, char *out, size_t n)
{
    if (currency && money_exponent(currency) >= 0) {
        struct money m = {.minor = minor};
        snprintf(m.currency, sizeof(m.currency), "%s", currency);
        return money_format(&m, out, n);
    }
    snprintf(out, n, "%lld", (long long)minor);
    return out;
}

void sp_set_money(json_t *o, const char *key, int64_t minor, const char *currency)
{
    char text[48], name[64];
    sp_money_text(minor, currency, text, sizeof(text));
    json_object_set_new(o, key, json_integer(minor));
    snprintf(name, sizeof(name), "%s_text", key);
    json_object_set_new(o, name, json_string(text));
}

json_t *sp_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

int sp_check_text(const char *v, const char *field, size_t max, bool required, bool plain,
                  struct err *e)
{
    if (!v || (required && text_blank(v))) {
        return required ? err_set(e, ERR_INVALID, "required", field, "'%s' is required", field) : 0;
    }
    size_t n = strlen(v);
    if (!utf8_valid(v, n)) {
        return err_set(e, ERR_INVALID, "invalid_utf8", field, "'%s' is not valid UTF-8", field);
    }
    if (utf8_length(v, n) > max) {
        return err_set(e, ERR_INVALID, "too_long", field, "'%s' is longer than %zu characters",
                       field, max);
    }
    for (const unsigned char *p = (const unsigned char *)v; plain && *p; p++) {
        if ((*p < ' ' && *p != '\n' && *p != '\r' && *p != '\t') || *p == 127) {
            return err_set(e, ERR_INVALID, "invalid_text", field, "'%s' holds a control character",
                           field);
        }
    }
    return 0;
}

void sp_csv_cell(struct buf *out, const char *v, bool last, bool quoted)
{
    if (quoted) {
        /* export_csv_cell quotes only where needed: add the quotes it left out. */
        struct buf cell = BUF_INIT;
        export_csv_cell(&cell, v);
        bool has = cell.len > 0 && cell.buf[0] == '"';
        buf_adds(out, has ? "" : "\"");
        buf_add(out, cell.buf ? cell.buf : "", cell.len);
        buf_adds(out, has ? "" : "\"");
        buf_release(&cell);
    } else {
        export_csv_cell(out, v);
    }
    buf_adds(out, last ? "\r\n" : ",");
}

/* ---- settings ---- */

void sponsorship_settings_get(struct db *db, const char *org_id, int *notice_months,
                              int *report_every_months)
{
    struct err e;
    err_clear(&e);
    int found;
    *notice_months = 3;
    *report_every_months = 6;
    struct db_stmt *s = db_row(db, &e, &found,
                               "SELECT notice_months, report_every_months FROM"
                               " sponsorship_settings WHERE org_id = $1",
                               "t", org_id);
    if (s) {
        *notice_months = (int)db_col_int64(s, 0);
        *report_every_months = (int)db_col_int64(s, 1);
        db_done(s);
    }
}

int sponsorship_settings_set(struct db *db, const struct actor *a, int notice_months,
                             int report_every_months, const char *mail_from, struct err *e)
{
    if (!actor_can(a, PERM_USERS_MANAGE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to change settings");
    }
    if (notice_months < 0 || notice_months > 24) {
        return err_set(e, ERR_INVALID, "out_of_range", "notice_months",
                       "'notice_months' must be 1 to 24");
    }
    if (report_every_months < 0 || report_every_months > 24) {
        return err_set(e, ERR_INVALID, "out_of_range", "report_every_months",
                       "'report_every_months' must be 1 to 24");
    }
    if (mail_from && *mail_from && !mail_address_valid(mail_from)) {
        return err_set(e, ERR_INVALID, "invalid_email", "mail_from", "'mail_from' is not valid");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    int nm, rm;
    sponsorship_settings_get(db, a->org_id, &nm, &rm);
    char at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    if (db_run(db, e,
               "INSERT INTO sponsorship_settings (org_id, notice_months, report_every_months,"
               " mail_from, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id) DO UPDATE"
               " SET notice_months = $2, report_every_months = $3, updated_at = $5",
               "tiitt", a->org_id, (int64_t)(notice_months ? notice_months : nm),
               (int64_t)(report_every_months ? report_every_months : rm),
               mail_from && *mail_from ? mail_from : NULL, at) < 0 ||
        (mail_from &&
         db_run(db, e, "UPDATE sponsorship_settings SET mail_from = $1 WHERE org_id = $2", "tt",
                *mail_from ? mail_from : NULL, a->org_id) < 0) ||
        actor_audit(db, a, "sponsorship.settings", "organization", a->org_id, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        return sp_fail(db);
    }
    return 0;
}

/* ---- the waiting list ---- */

json_t *sponsorship_waiting(struct db *db, const struct actor *a, const char *today, int limit,
                            struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to see sponsorships");
        return NULL;
    }
    if (limit < 1 || limit > 500) {
        limit = 50;
    }
    /* The need score is written out here once, and in docs/api.md. */
    struct db_stmt *s = db_query(
        db, e,
        "SELECT id, file_no, first_name, family_name, birth_date, orphan_status, orphan_pts,"
        " risk_pts, dis_pts, n_sib, since, pending, COUNT(*) OVER () FROM ("
        "SELECT c.id, c.file_no, c.first_name, c.family_name, c.birth_date, c.orphan_status,"
        " CASE WHEN c.orphan_status IN ('both_deceased', 'abandoned') THEN 40"
        " WHEN c.orphan_status IN ('father_deceased', 'mother_deceased') THEN 20 ELSE 0 END"
        " AS orphan_pts,"
        " CASE WHEN EXISTS (SELECT 1 FROM cases k WHERE k.child_id = c.id AND k.status = 'open'"
        " AND (k.risk_level IN ('urgent', 'high') OR k.urgent = 1)) THEN 30 ELSE 0 END"
        " AS risk_pts,"
        " CASE WHEN c.disability IS NOT NULL AND c.disability <> '' THEN 15 ELSE 0 END"
        " AS dis_pts,"
        " (SELECT COUNT(*) FROM children b WHERE c.household_id IS NOT NULL"
        " AND b.household_id = c.household_id AND b.id <> c.id AND b.merged_into IS NULL"
        " AND b.status IN ('registered', 'active')) AS n_sib,"
        " COALESCE((SELECT MAX(s.end_date) FROM sponsorships s WHERE s.child_id = c.id"
        " AND s.status = 'ended'), SUBSTR(c.created_at, 1, 10)) AS since,"
        " CASE WHEN EXISTS (SELECT 1 FROM sponsorships s WHERE s.child_id = c.id"
        " AND s.status = 'pending') THEN 1 ELSE 0 END AS pending"
        " FROM children c WHERE c.org_id = $1 AND c.status = 'active' AND c.merged_into IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM sponsorships s WHERE s.child_id = c.id"
        " AND s.status IN ('active', 'paused'))) w"
        " ORDER BY orphan_pts + risk_pts + dis_pts + CASE WHEN n_sib > 4 THEN 20 ELSE n_sib * 5"
        " END DESC, since, file_no LIMIT $2",
        "ti", a->org_id, (int64_t)limit);
    if (!s) {
        return NULL;
    }
    bool health = actor_can(a, PERM_CHILDREN_HEALTH);
    json_t *items = json_array();
    int64_t total = 0;
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        int64_t orphan = db_col_int64(s, 6), risk = db_col_int64(s, 7), dis = db_col_int64(s, 8);
        int64_t sib = db_col_int64(s, 9);
        int64_t sib_pts = sib > 4 ? 20 : sib * 5;
        int64_t need = orphan + risk + dis + sib_pts;
        int64_t waited = 0;
        json_t *reasons = json_array();
        if (orphan) {
            json_array_append_new(reasons,
                                  json_string(orphan == 40 ? "orphan_both" : "orphan_one"));
        }
        if (risk) {
            json_array_append_new(reasons, json_string("case_risk"));
        }
        /* A disability counts for everyone, but is named only to those who may see health. */
        if (dis) {
            json_array_append_new(reasons, json_string(health ? "disability" : "other_need"));
        }
        if (sib) {
            json_array_append_new(reasons, json_string("siblings"));
        }
        const char *since = db_col_text(s, 10);
        int y1, m1, d1, y2, m2, d2;
        int64_t days = 0;
        if (since && time_date_parse(since, &y1, &m1, &d1) == 0 &&
            time_date_parse(today, &y2, &m2, &d2) == 0) {
            days = time_days_from_civil(y2, m2, d2) - time_days_from_civil(y1, m1, d1);
        }
        waited = days > 0 ? days : 0;
        int age = sp_age(db_col_text(s, 4), today);
        json_array_append_new(
            items,
            json_pack("{s:s, s:s, s:s, s:s?, s:i, s:s, s:I, s:o, s:I, s:s?, s:I, s:b}", "child_id",
                      db_col_text(s, 0), "file_no", db_col_text(s, 1), "first_name",
                      db_col_text(s, 2), "family_name", db_col_text(s, 3), "age", age < 0 ? 0 : age,
                      "orphan_status", db_col_text(s, 5), "need", (json_int_t)need, "need_reasons",
                      reasons, "siblings", (json_int_t)sib, "waiting_since", since, "days_waiting",
                      (json_int_t)waited, "pending", db_col_int64(s, 11) != 0));
        total = db_col_int64(s, 12);
    }
    db_done(s);
    if (rc < 0) {
        json_decref(items);
        return NULL;
    }
    return json_pack("{s:o, s:I}", "items", items, "total", (json_int_t)total);
}

/* ---- the age-limit job ---- */

/* Sends the notice of agreement row (from notices_due) by e-mail. Returns 0 or -1 (me). */
static int notice_mail(struct db *db, json_t *row, const char *limit_day, struct err *me)
{
    const char *org = json_string_value(json_object_get(row, "org_id"));
    const char *lang = json_string_value(json_object_get(row, "lang"));
    if (!i18n_lang_valid(lang)) {
        lang = "ar";
    }
    char from[256];
    snprintf(from, sizeof(from), "%s", g_config.smtp_from ? g_config.smtp_from : "");
    struct err e;
    err_clear(&e);
    int found;
    struct db_stmt *s = db_row(db, &e, &found,
                               "SELECT mail_from FROM sponsorship_settings WHERE org_id = $1"
                               " AND mail_from IS NOT NULL",
                               "t", org);
    if (s) {
        snprintf(from, sizeof(from), "%s", db_col_text(s, 0));
        db_done(s);
    }
    struct arena ar;
    arena_init(&ar);
    const char *child = json_string_value(json_object_get(row, "child"));
    const char *no = json_string_value(json_object_get(row, "agreement_no"));
    const char *name = json_string_value(json_object_get(row, "donor_name"));
    struct buf body = BUF_INIT, msg = BUF_INIT;
    buf_addf(&body, "%s\n\n%s\n\n%s\n",
             i18n_format(&ar, lang, "sp.mail.greeting", "name", name, NULL),
             i18n_format(&ar, lang, "sp.mail.notice_body", "child", child, "date", limit_day, "no",
                         no, NULL),
             i18n_get(lang, "sp.mail.footer"));
    struct mail_msg m = {
        .from = from,
        .from_name = i18n_get(lang, "sp.mail.from_name"),
        .to = json_string_value(json_object_get(row, "email")),
        .subject = i18n_format(&ar, lang, "sp.mail.notice_subject", "child", child, NULL),
        .body = body.buf,
    };
    int rc = mail_build(&m, &msg, me);
    if (rc == 0) {
        struct mail_server srv = {g_config.smtp_url, g_config.smtp_user, g_config.smtp_password};
        rc = mail_send(&srv, from, m.to, msg.buf, msg.len, me);
    }
    buf_release(&body);
    buf_release(&msg);
    arena_release(&ar);
    return rc;
}

/* The open agreements of org whose child is born on or before cutoff, as a new array. */
static json_t *near_limit(struct db *db, const char *org_id, const char *cutoff, struct err *e)
{
    struct db_stmt *s = db_query(
        db, e,
        "SELECT s.id, s.org_id, s.agreement_no, s.status, s.notice_sent_at, s.start_date,"
        " c.birth_date, c.first_name, d.name, d.email, d.contact_consent, d.preferred_lang,"
        " s.end_date FROM sponsorships s JOIN children c ON c.id = s.child_id"
        " JOIN donors d ON d.id = s.donor_id WHERE s.org_id = $1"
        " AND s.status IN ('pending', 'active', 'paused') AND c.birth_date <= $2"
        " ORDER BY c.birth_date, s.agreement_no",
        "tt", org_id, cutoff);
    if (!s) {
        return NULL;
    }
    static const char *const cols[] = {
        "id",         "org_id",     "agreement_no", "status",     "notice_sent_at",
        "start_date", "birth_date", "child",        "donor_name", "email",
        "consent",    "lang",       "end_date"};
    json_t *rows = json_array();
    if (sp_rows_into(s, cols, 13, " consent ", "", rows, e) < 0) {
        json_decref(rows);
        return NULL;
    }
    return rows;
}

/* The organization's cut-off birth date for the notice window: children born on or before
 * it reach limit years by today + months (one day of slack for 29 February). */
static void notice_cutoff(const char *today, int limit, int months, char out[11])
{
    char tmp[11];
    sp_add_months(today, months - 12 * limit, tmp);
    sp_add_days(tmp, 1, out);
}

/* One organization's round. */
static int age_check_org(struct db *db, const char *org_id, const char *today,
                         struct sp_age_stats *st, struct err *e)
{
    struct actor sys;
    actor_system(&sys, org_id);
    if (db_begin(db, true, e) < 0) {
        return -1;
    }
    int limit = children_age_limit(db, org_id);
    int months, every;
    sponsorship_settings_get(db, org_id, &months, &every);
    char cutoff[11];
    notice_cutoff(today, limit, months, cutoff);
    json_t *rows = near_limit(db, org_id, cutoff, e);
    db_rollback(db);
    if (!rows) {
        return -1;
    }
    char horizon[11];
    sp_add_months(today, months, horizon);
    bool smtp = g_config.smtp_url && *g_config.smtp_url;
    size_t i;
    json_t *row;
    int ret = 0;
    json_array_foreach(rows, i, row)
    {
        const char *id = json_string_value(json_object_get(row, "id"));
        const char *status = json_string_value(json_object_get(row, "status"));
        char limit_day[11];
        sp_birthday(json_string_value(json_object_get(row, "birth_date")), limit, limit_day);
        if (strcmp(limit_day, today) <= 0) {
            const char *start = json_string_value(json_object_get(row, "start_date"));
            const char *end_day = strcmp(limit_day, start) < 0 ? start : limit_day;
            if (db_begin(db, false, e) < 0 ||
                sponsorship_end_tx(db, &sys, id, "age_limit", end_day, NULL, e) < 0 ||
                db_commit(db, e) < 0) {
                db_rollback(db);
                ret = -1;
                break;
            }
            st->ended++;
            continue;
        }
        if (strcmp(limit_day, horizon) > 0 ||
            !json_is_null(json_object_get(row, "notice_sent_at")) ||
            !text_word_in(" active paused ", status)) {
            continue;
        }
        const char *email = json_string_value(json_object_get(row, "email"));
        bool mail =
            smtp && email && *email && json_integer_value(json_object_get(row, "consent")) != 0;
        char at[32];
        time_format_iso(time_now_ms(), at, sizeof(at));
        int64_t n;
        if (db_begin(db, false, e) < 0 ||
            (n = db_run(db, e,
                        "UPDATE sponsorships SET notice_sent_at = $1 WHERE id = $2"
                        " AND notice_sent_at IS NULL",
                        "tt", at, id)) < 0) {
            db_rollback(db);
            ret = -1;
            break;
        }
        if (n == 0) {
            db_rollback(db); /* another server's round took it */
            continue;
        }
        if (sp_event_tx(db, &sys, id, "notice", mail ? "email" : "recorded", e) < 0 ||
            actor_audit(db, &sys, "sponsorship.notice", "sponsorship", id, "ok", limit_day, e) <
                0 ||
            db_commit(db, e) < 0) {
            db_rollback(db);
            ret = -1;
            break;
        }
        if (!mail) {
            st->noticed++;
            continue;
        }
        struct err me;
        err_clear(&me);
        if (notice_mail(db, row, limit_day, &me) == 0) {
            st->noticed++;
            st->mailed++;
            continue;
        }
        log_warn("age-limit notice not sent", "agreement=%s error=\"%s\"", id, me.msg);
        st->mail_failed++;
        /* Give the notice back so that the next round tries again. */
        if (db_begin(db, false, e) < 0 ||
            db_run(db, e, "UPDATE sponsorships SET notice_sent_at = NULL WHERE id = $1", "t", id) <
                0 ||
            sp_event_tx(db, &sys, id, "notice_failed", me.code, e) < 0 || db_commit(db, e) < 0) {
            db_rollback(db);
            ret = -1;
            break;
        }
    }
    json_decref(rows);
    return ret;
}

int sponsorship_age_check(struct db *db, const char *org_id, const char *today,
                          struct sp_age_stats *stats, struct err *e)
{
    memset(stats, 0, sizeof(*stats));
    if (!sp_date_ok(today)) {
        return err_set(e, ERR_INVALID, "invalid_date", "today", "'today' is not a date");
    }
    if (db_begin(db, true, e) < 0) {
        return -1;
    }
    struct db_stmt *s = db_query(db, e,
                                 "SELECT DISTINCT org_id FROM sponsorships WHERE status IN"
                                 " ('pending', 'active', 'paused') AND ($1 = '' OR org_id = $1)"
                                 " ORDER BY org_id",
                                 "t", org_id ? org_id : "");
    json_t *orgs = json_array();
    static const char *const cols[] = {"org_id"};
    int rc = s ? sp_rows_into(s, cols, 1, "", "", orgs, e) : -1;
    db_rollback(db);
    size_t i;
    json_t *o;
    json_array_foreach(orgs, i, o)
    {
        if (rc < 0) {
            break;
        }
        rc = age_check_org(db, json_string_value(json_object_get(o, "org_id")), today, stats, e);
    }
    json_decref(orgs);
    return rc < 0 ? -1 : 0;
}

/* ---- the officer's home ---- */

/* Inserts item into arr keeping arr ordered by the string member "date". */
static void insert_by_date(json_t *arr, json_t *item)
{
    const char *d = json_string_value(json_object_get(item, "date"));
    size_t i;
    for (i = 0; i < json_array_size(arr); i++) {
        const char *o = json_string_value(json_object_get(json_array_get(arr, i), "date"));
        if (strcmp(d, o) < 0) {
            break;
        }
    }
    json_array_insert_new(arr, i, item);
}

/* The endings of the coming months into endings: agreements whose end date or whose child's
 * age limit falls between today and horizon. */
static int home_endings(struct db *db, const struct actor *a, const char *today,
                        const char *horizon, int months, json_t *endings, struct err *e)
{
    struct db_stmt *s =
        db_query(db, e,
                 "SELECT s.id, s.agreement_no, c.first_name, c.family_name, d.name, s.end_date"
                 " FROM sponsorships s JOIN children c ON c.id = s.child_id"
                 " JOIN donors d ON d.id = s.donor_id WHERE s.org_id = $1"
                 " AND s.status IN ('active', 'paused') AND s.end_date IS NOT NULL"
                 " AND s.end_date >= $2 AND s.end_date <= $3 ORDER BY s.end_date LIMIT 100",
                 "ttt", a->org_id, today, horizon);
    if (!s) {
        return -1;
    }
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        insert_by_date(endings,
                       json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:s}", "id", db_col_text(s, 0),
                                 "agreement_no", db_col_text(s, 1), "child", db_col_text(s, 2),
                                 "child_family", db_col_text(s, 3), "donor", db_col_text(s, 4),
                                 "date", db_col_text(s, 5), "why", "end_date"));
    }
    db_done(s);
    if (rc < 0) {
        return -1;
    }
    int limit = children_age_limit(db, a->org_id);
    char cutoff[11];
    notice_cutoff(today, limit, months, cutoff);
    json_t *rows = near_limit(db, a->org_id, cutoff, e);
    if (!rows) {
        return -1;
    }
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        char day[11];
        sp_birthday(json_string_value(json_object_get(row, "birth_date")), limit, day);
        const char *status = json_string_value(json_object_get(row, "status"));
        const char *end = json_string_value(json_object_get(row, "end_date"));
        if (!text_word_in(" active paused ", status) || strcmp(day, horizon) > 0 ||
            (end && strcmp(end, day) <= 0) || json_array_size(endings) >= 200) {
            continue;
        }
        insert_by_date(endings, json_pack("{s:O, s:O, s:O, s:O, s:s, s:s, s:b}", "id",
                                          json_object_get(row, "id"), "agreement_no",
                                          json_object_get(row, "agreement_no"), "child",
                                          json_object_get(row, "child"), "donor",
                                          json_object_get(row, "donor_name"), "date", day, "why",
                                          "age_limit", "noticed",
                                          !json_is_null(json_object_get(row, "notice_sent_at"))));
    }
    json_decref(rows);
    return 0;
}

json_t *sponsorship_home(struct db *db, const struct actor *a, const char *today, struct err *e)
{
    if (!actor_can(a, PERM_SPONSOR_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to see sponsorships");
        return NULL;
    }
    int months, every;
    sponsorship_settings_get(db, a->org_id, &months, &every);
    json_t *j = json_object();
    json_object_set_new(j, "today", json_string(today));
    json_object_set_new(j, "notice_months", json_integer(months));
    json_object_set_new(j, "report_every_months", json_integer(every));
    /* Arrears: what is past due and not paid, per payer and currency. */
    json_t *arrears = json_array();
    json_object_set_new(j, "arrears", arrears);
    struct db_stmt *s = db_query(
        db, e,
        "SELECT d.payer_id, dn.donor_no, dn.name, d.currency, SUM(d.amount - d.paid),"
        " MIN(d.due_date), COUNT(*) FROM sponsorship_dues d JOIN donors dn ON dn.id = d.payer_id"
        " WHERE d.org_id = $1 AND d.status IN ('open', 'partial') AND d.due_date < $2"
        " GROUP BY d.payer_id, dn.donor_no, dn.name, d.currency"
        " ORDER BY MIN(d.due_date), dn.donor_no LIMIT 100",
        "tt", a->org_id, today);
    static const char *const acols[] = {"payer_id", "donor_no",   "name",  "currency",
                                        "amount",   "oldest_due", "n_dues"};
    int rc = s ? sp_rows_into(s, acols, 7, " amount n_dues ", " amount ", arrears, e) : -1;
    size_t i;
    json_t *it;
    json_array_foreach(arrears, i, it)
    {
        const char *oldest = json_string_value(json_object_get(it, "oldest_due"));
        json_object_set_new(it, "months_late",
                            json_integer(oldest ? sched_months_between(oldest, today) : 0));
    }
    /* Children waiting. */
    json_t *waiting = rc < 0 ? NULL : sponsorship_waiting(db, a, today, 5, e);
    if (!waiting) {
        json_decref(j);
        return NULL;
    }
    json_object_set_new(j, "waiting", waiting);
    /* Endings coming up. */
    char horizon[11];
    sp_add_months(today, months, horizon);
    json_t *endings = json_array();
    json_object_set_new(j, "endings", endings);
    rc = home_endings(db, a, today, horizon, months, endings, e);
    /* Reports due: sponsored children without a progress report in the last months. */
    json_t *reports = json_array();
    json_object_set_new(j, "reports_due", reports);
    if (rc >= 0) {
        char since[11];
        sp_add_months(today, -every, since);
        s = db_query(db, e,
                     "SELECT c.id, c.file_no, c.first_name, c.family_name, MAX(pr.created_at),"
                     " COUNT(*) OVER () FROM children c"
                     " LEFT JOIN progress_reports pr ON pr.child_id = c.id"
                     " WHERE c.org_id = $1 AND c.sponsored = 1"
                     " GROUP BY c.id, c.file_no, c.first_name, c.family_name"
                     " HAVING MAX(pr.created_at) IS NULL OR MAX(pr.created_at) < $2"
                     " ORDER BY CASE WHEN MAX(pr.created_at) IS NULL THEN 0 ELSE 1 END,"
                     " MAX(pr.created_at), c.file_no LIMIT 20",
                     "tt", a->org_id, since);
        static const char *const rcols[] = {"child_id",    "file_no",     "first_name",
                                            "family_name", "last_report", "total"};
        rc = s ? sp_rows_into(s, rcols, 6, " total ", "", reports, e) : -1;
        json_object_set_new(
            j, "n_reports_due",
            json_integer(json_integer_value(json_object_get(json_array_get(reports, 0), "total"))));
    }
    /* New agreements waiting to be activated. */
    json_t *pending = json_array();
    json_object_set_new(j, "pending", pending);
    if (rc >= 0) {
        s = db_query(db, e,
                     "SELECT s.id, s.agreement_no, c.first_name, c.family_name, d.name, s.amount,"
                     " s.currency, s.start_date, s.created_at FROM sponsorships s"
                     " JOIN children c ON c.id = s.child_id JOIN donors d ON d.id = s.donor_id"
                     " WHERE s.org_id = $1 AND s.status = 'pending'"
                     " ORDER BY s.created_at, s.agreement_no LIMIT 50",
                     "t", a->org_id);
        static const char *const pcols[] = {"id",           "agreement_no", "child",
                                            "child_family", "donor",        "amount",
                                            "currency",     "start_date",   "created_at"};
        rc = s ? sp_rows_into(s, pcols, 9, " amount ", " amount ", pending, e) : -1;
    }
    /* Counts by status. */
    json_t *counts =
        json_pack("{s:i, s:i, s:i, s:i}", "pending", 0, "active", 0, "paused", 0, "ended", 0);
    json_object_set_new(j, "counts", counts);
    if (rc >= 0) {
        s = db_query(db, e,
                     "SELECT status, COUNT(*) FROM sponsorships WHERE org_id = $1 GROUP BY status",
                     "t", a->org_id);
        while (s && (rc = db_step(s, e)) == 1) {
            json_object_set_new(counts, db_col_text(s, 0), json_integer(db_col_int64(s, 1)));
        }
        if (s) {
            db_done(s);
        } else {
            rc = -1;
        }
    }
    if (rc < 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}
