/*
 * reminders.c: the daily digest by e-mail, its background thread and
 * `sanad remind`.
 */
#include "cases/reminders.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/authz.h"
#include "cases/home.h"
#include "cases/mail.h"
#include "cli/cli.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/log.h"
#include "core/time.h"
#include "db/db_util.h"
#include "web/i18n.h"
#include "core/banned.h"

/* The most lines of one list in a digest; the rest is "and N more". */
#define DIGEST_LINES 15

/* Appends one list of the digest: a heading with the count, then one line
 * per item (at most DIGEST_LINES), children by first name and case number. */
static void digest_list(struct buf *body, struct arena *ar, const char *lang, const char *title_key,
                        json_t *items, json_int_t total, bool sessions)
{
    if (total <= 0) {
        return;
    }
    buf_addf(body, "%s (%lld)\n", i18n_get(lang, title_key), (long long)total);
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        if (i >= DIGEST_LINES) {
            break;
        }
        const char *no = json_string_value(json_object_get(it, "case_no"));
        const char *first = json_string_value(json_object_get(it, "child_first"));
        buf_adds(body, "- ");
        if (sessions) {
            const char *mode = json_string_value(json_object_get(it, "mode"));
            const char *mk = arena_printf(ar, "home.mode.%s", mode ? mode : "");
            buf_addf(body, "%s-%s · %s · ", json_string_value(json_object_get(it, "time")),
                     json_string_value(json_object_get(it, "end_time")),
                     i18n_has(mk) ? i18n_get(lang, mk) : (mode ? mode : ""));
        }
        if (no) {
            buf_addf(body, "%s %s", no, first ? first : "");
        } else {
            buf_adds(body, i18n_get(lang, "remind.no_case"));
        }
        const char *nc = json_string_value(json_object_get(it, "next_contact"));
        const char *pend = json_string_value(json_object_get(it, "pending"));
        if (!sessions && pend && strcmp(title_key, "remind.overdue") != 0) {
            const char *pk = arena_printf(ar, "home.pending.%s", pend);
            buf_addf(body, " · %s", i18n_has(pk) ? i18n_get(lang, pk) : pend);
        } else if (!sessions && nc) {
            buf_addf(body, " · %s", i18n_format(ar, lang, "remind.due", "date", nc, NULL));
        }
        buf_addch(body, '\n');
    }
    if (total > DIGEST_LINES && (size_t)total > json_array_size(items) &&
        json_array_size(items) >= DIGEST_LINES) {
        char n[24];
        snprintf(n, sizeof(n), "%lld", (long long)(total - DIGEST_LINES));
        buf_addf(body, "  %s\n", i18n_format(ar, lang, "remind.more", "n", n, NULL));
    } else if ((size_t)total > json_array_size(items) && json_array_size(items) < DIGEST_LINES) {
        char n[24];
        snprintf(n, sizeof(n), "%lld", (long long)(total - (json_int_t)json_array_size(items)));
        buf_addf(body, "  %s\n", i18n_format(ar, lang, "remind.more", "n", n, NULL));
    }
    buf_addch(body, '\n');
}

bool reminders_digest(json_t *home, const char *lang, const char *name, const char *day,
                      struct buf *subject, struct buf *body)
{
    json_int_t n_sessions = (json_int_t)json_array_size(json_object_get(home, "sessions"));
    json_int_t n_overdue = json_integer_value(json_object_get(home, "n_overdue"));
    json_int_t n_pending = json_integer_value(json_object_get(home, "n_pending"));
    if (n_sessions + n_overdue + n_pending == 0) {
        return false;
    }
    struct arena ar;
    arena_init(&ar);
    buf_adds(subject, i18n_format(&ar, lang, "remind.subject", "date", day, NULL));
    buf_addf(body, "%s\n\n", i18n_format(&ar, lang, "remind.greeting", "name", name, NULL));
    digest_list(body, &ar, lang, "remind.sessions", json_object_get(home, "sessions"), n_sessions,
                true);
    digest_list(body, &ar, lang, "remind.overdue", json_object_get(home, "overdue"), n_overdue,
                false);
    digest_list(body, &ar, lang,
                json_is_true(json_object_get(home, "approver")) ? "remind.pending"
                                                                 : "remind.pending_own",
                json_object_get(home, "pending"), n_pending, false);
    buf_addf(body, "%s\n", i18n_get(lang, "remind.footer"));
    arena_release(&ar);
    return true;
}

/* Writes the UTC date of ms as "YYYY-MM-DD" into out (11 bytes). */
static void day_of(int64_t ms, char out[11])
{
    int y, m, d;
    char tmp[32];
    time_civil_from_days(ms / 86400000, &y, &m, &d);
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", y, m, d);
    memcpy(out, tmp, 10);
    out[10] = '\0';
}

/* The users a round considers: active, with an address, in an active
 * organization. A new array of {id, org_id, slug, name, role, lang, email}. */
static json_t *digest_users(struct db *db, struct err *e)
{
    struct db_stmt *s = db_query(db, e,
                                 "SELECT u.id, u.org_id, o.slug, u.display_name, u.role, u.lang,"
                                 " u.email FROM users u JOIN organizations o ON o.id = u.org_id"
                                 " WHERE u.active = 1 AND o.active = 1 AND u.email IS NOT NULL"
                                 " AND u.email <> '' ORDER BY u.org_id, u.id",
                                 "");
    if (!s) {
        return NULL;
    }
    json_t *arr = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        if (!authz_allows(db_col_text(s, 4), PERM_CASES_WRITE)) {
            continue;
        }
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id",
                                             db_col_text(s, 0), "org_id", db_col_text(s, 1),
                                             "slug", db_col_text(s, 2), "name", db_col_text(s, 3),
                                             "role", db_col_text(s, 4), "lang", db_col_text(s, 5),
                                             "email", db_col_text(s, 6)));
    }
    db_done(s);
    if (rc < 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

/* Claims (kind digest, user, day). Returns 1 claimed, 0 claimed before, -1. */
static int claim(struct db *db, const char *user_id, const char *day, int64_t now_ms,
                 struct err *e)
{
    char at[32];
    time_format_iso(now_ms, at, sizeof(at));
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    int64_t n = db_run(db, e,
                       "INSERT INTO reminders_sent (kind, ref_id, day, sent_at)"
                       " VALUES ('digest', $1, $2, $3)",
                       "ttt", user_id, day, at);
    if (n < 0) {
        db_rollback(db);
        if (strcmp(e->code, "unique_violation") == 0) {
            err_clear(e);
            return 0;
        }
        return -1;
    }
    return db_commit(db, e) < 0 ? -1 : 1;
}

/* Gives a claim back after a failed send. */
static void unclaim(struct db *db, const char *user_id, const char *day)
{
    struct err e;
    err_clear(&e);
    if (db_begin(db, false, &e) == 0) {
        if (db_run(db, &e,
                   "DELETE FROM reminders_sent WHERE kind = 'digest' AND ref_id = $1"
                   " AND day = $2",
                   "tt", user_id, day) < 0 ||
            db_commit(db, &e) < 0) {
            db_rollback(db);
        }
    }
    if (err_failed(&e)) {
        log_warn("reminder claim kept", "user=%s error=\"%s\"", user_id, e.msg);
    }
}

/* True when the digest of (user, day) went out before. */
static int sent_before(struct db *db, const char *user_id, const char *day, struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT 1 FROM reminders_sent WHERE kind = 'digest'"
                               " AND ref_id = $1 AND day = $2",
                               "tt", user_id, day);
    if (s) {
        db_done(s);
    }
    return found;
}

/* One user's part of a round. Returns 0 (st counts what happened) or -1 for a
 * database failure. */
static int remind_one(struct db *db, json_t *u, const char *day, int64_t now_ms, bool dry_run,
                      struct reminders_stats *st, struct err *e)
{
    struct actor a;
    memset(&a, 0, sizeof(a));
    snprintf(a.user_id, sizeof(a.user_id), "%s", json_string_value(json_object_get(u, "id")));
    snprintf(a.org_id, sizeof(a.org_id), "%s", json_string_value(json_object_get(u, "org_id")));
    snprintf(a.org_slug, sizeof(a.org_slug), "%s", json_string_value(json_object_get(u, "slug")));
    snprintf(a.display_name, sizeof(a.display_name), "%s",
             json_string_value(json_object_get(u, "name")));
    snprintf(a.role, sizeof(a.role), "%s", json_string_value(json_object_get(u, "role")));
    const char *lang = json_string_value(json_object_get(u, "lang"));
    snprintf(a.lang, sizeof(a.lang), "%s", i18n_lang_valid(lang) ? lang : "ar");
    a.mfa_ok = true;
    const char *email = json_string_value(json_object_get(u, "email"));
    int before = sent_before(db, a.user_id, day, e);
    if (before < 0) {
        return -1;
    }
    if (before) {
        st->already++;
        return 0;
    }
    if (db_begin(db, true, e) < 0) {
        return -1;
    }
    json_t *home = home_query(db, &a, day, false, e);
    db_rollback(db);
    if (!home) {
        return -1;
    }
    struct buf subject = BUF_INIT, body = BUF_INIT, msg = BUF_INIT;
    bool any = reminders_digest(home, a.lang, a.display_name, day, &subject, &body);
    json_decref(home);
    int ret = 0;
    if (!any) {
        st->empty++;
        goto out;
    }
    struct mail_msg m = {
        .from = g_config.smtp_from,
        .from_name = i18n_get(a.lang, "remind.from_name"),
        .to = email,
        .subject = subject.buf,
        .body = body.buf,
        .date_ms = now_ms,
    };
    struct err me;
    err_clear(&me);
    if (mail_build(&m, &msg, &me) < 0) {
        log_warn("reminder not built", "user=%s error=\"%s\"", a.user_id, me.msg);
        st->failed++;
        goto out;
    }
    if (dry_run) {
        printf("would send to %s: %s\n%s\n", email, subject.buf, body.buf);
        st->sent++;
        goto out;
    }
    int c = claim(db, a.user_id, day, now_ms, e);
    if (c <= 0) {
        if (c == 0) {
            st->already++;
        }
        ret = c;
        goto out;
    }
    struct mail_server srv = {g_config.smtp_url, g_config.smtp_user, g_config.smtp_password};
    if (mail_send(&srv, g_config.smtp_from, email, msg.buf, msg.len, &me) < 0) {
        log_warn("reminder not sent", "user=%s error=\"%s\"", a.user_id, me.msg);
        unclaim(db, a.user_id, day);
        st->failed++;
    } else {
        st->sent++;
    }
out:
    buf_release(&subject);
    buf_release(&body);
    buf_release(&msg);
    return ret;
}

int reminders_run(struct db *db, int64_t now_ms, bool dry_run, struct reminders_stats *st,
                  struct err *e)
{
    memset(st, 0, sizeof(*st));
    if (!dry_run && (!g_config.smtp_url || !*g_config.smtp_url)) {
        return err_set(e, ERR_INVALID, "bad_config", "smtp_url",
                       "'smtp_url' is not set: no reminders can be sent");
    }
    char day[11];
    day_of(now_ms, day);
    if (db_begin(db, true, e) < 0) {
        return -1;
    }
    json_t *users = digest_users(db, e);
    db_rollback(db);
    if (!users) {
        return -1;
    }
    st->users = (int)json_array_size(users);
    size_t i;
    json_t *u;
    int ret = 0;
    json_array_foreach(users, i, u)
    {
        if (remind_one(db, u, day, now_ms, dry_run, st, e) < 0) {
            ret = -1;
            break;
        }
    }
    json_decref(users);
    return ret;
}

/* The reminder thread: a round whenever the configured hour has passed. */
static void *reminder_loop(void *arg)
{
    (void)arg;
    for (;;) {
        int64_t now = time_now_ms();
        int hour = (int)(now / 3600000 % 24);
        if (hour >= g_config.reminder_hour) {
            struct err e;
            err_clear(&e);
            struct db *db = db_thread(&e);
            struct reminders_stats st;
            if (!db || reminders_run(db, now, false, &st, &e) < 0) {
                log_warn("reminders failed", "error=\"%s\"", e.msg);
            } else if (st.sent || st.failed) {
                log_info("reminders sent", "sent=%d failed=%d", st.sent, st.failed);
            }
        }
        sleep((unsigned)(g_config.reminder_interval_s > 0 ? g_config.reminder_interval_s : 300));
    }
    return NULL;
}

void reminders_start(void)
{
    if (!g_config.smtp_url || !*g_config.smtp_url) {
        log_info("reminders off", "reason=\"no smtp_url\"%s", "");
        return;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, reminder_loop, NULL) == 0) {
        pthread_detach(t);
    } else {
        log_warn("reminders off", "reason=\"could not start the thread\"%s", "");
    }
}

int cli_remind(int argc, char **argv)
{
    argc = cli_config(argc, argv);
    bool dry = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0) {
            dry = true;
        } else {
            fprintf(stderr, "sanad: unknown option '%s' for remind\n"
                            "usage: sanad remind [--dry-run]\n",
                    argv[i]);
            return 2;
        }
    }
    cli_start();
    struct err e;
    err_clear(&e);
    struct db *db;
    if (db_open(g_config.db_url, &db, &e) < 0) {
        die("could not open the database: %s", e.msg);
    }
    if (db_migrate(db, &e) < 0) {
        db_close(db);
        die("migration failed: %s", e.msg);
    }
    struct reminders_stats st;
    int rc = reminders_run(db, time_now_ms(), dry, &st, &e);
    db_close(db);
    if (rc < 0) {
        die("%s", e.msg);
    }
    printf("reminders: %d users, %d %s, %d sent before today, %d with nothing due, %d failed\n",
           st.users, st.sent, dry ? "would be sent" : "sent", st.already, st.empty, st.failed);
    return st.failed ? 1 : 0;
}
