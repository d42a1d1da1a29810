/*
 * cli_admin.c: init, serve, migrate, org, user and audit commands.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "auth/auth_web.h"
#include "cli/cli.h"
#include "core/config.h"
#include "core/log.h"
#include "core/time.h"
#include "db/db.h"
#include "http/http.h"
#include "keys/keys.h"
#include "children/children_web.h"
#include "cases/cases_web.h"
#include "cases/demo_cases.h"
#include "cases/home.h"
#include "cases/instruments.h"
#include "cases/reminders.h"
#include "cases/sessions.h"
#include "children/children.h"
#include "children/demo.h"
#include "children/dedup.h"
#include "finance/ledger.h"
#include "sponsorship/demo_sponsorship.h"
#include "sponsorship/sponsorship.h"
#include "children/documents.h"
#include "core/banned.h"

/* Makes the master key file when it does not exist yet. */
static void ensure_master_key(void)
{
    struct err e;
    err_clear(&e);
    if (access(g_config.key_file, F_OK) != 0 && keys_create_master(g_config.key_file, &e) < 0) {
        die("%s", e.msg);
    }
}

/* A random password of 20 characters from an unambiguous alphabet, for first accounts. */
static void generate_password(char out[21])
{
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    for (int i = 0; i < 20; i++) {
        out[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
    }
    out[20] = '\0';
}

/* Demo accounts made by `init --demo`: one per staff role besides admin. */
static const struct {
    const char *username; /* login name */
    const char *name;     /* display name */
    const char *role;     /* role id */
} demo_users[] = {
    {"supervisor", "سلمى الخطيب", "supervisor"},
    {"caseworker", "أحمد العلي", "case_worker"},
    {"psychologist", "ريم حداد", "psychosocial_specialist"},
    {"sponsorship", "خالد منصور", "sponsorship_officer"},
    {"finance", "ليلى يوسف", "finance_officer"},
    {"coordinator", "عمر السيد", "coordinator"},
    {"auditor", "هدى سليمان", "auditor"},
    {"donor", "Sarah Thompson", "donor"},
};

int cli_init(int argc, char **argv)
{
    argc = cli_config(argc, argv);
    const char *slug = cli_opt(argc, argv, "--org");
    const char *org_name = cli_opt(argc, argv, "--org-name");
    bool demo = cli_flag(argc, argv, "--demo");
    slug = slug ? slug : "main";
    cli_start();
    if (mkdir(g_config.data_dir, 0700) < 0 && errno != EEXIST) {
        die("could not create '%s': %s", g_config.data_dir, strerror(errno));
    }
    ensure_master_key();
    struct db *db = cli_open_db();
    struct err e;
    err_clear(&e);
    char org_id[40];
    int found = org_find(db, slug, org_id, &e);
    if (found < 0) {
        die("%s", e.msg);
    }
    if (found == 1) {
        printf("organization '%s' exists already: nothing to do\n", slug);
        db_close(db);
        return 0;
    }
    struct actor cli;
    actor_system(&cli, "");
    if (org_create(db, &cli, slug, org_name ? org_name : (demo ? "جمعية سند النموذجية" : slug),
                   org_id, &e) < 0) {
        die("%s", e.msg);
    }
    actor_system(&cli, org_id);
    char generated[21];
    char *from_stdin = NULL;
    const char *password;
    if (cli_flag(argc, argv, "--admin-password-stdin")) {
        from_stdin = cli_read_line();
        if (!from_stdin) {
            die("no password on standard input");
        }
        password = from_stdin;
    } else {
        generate_password(generated);
        password = generated;
    }
    struct user_new u = {"admin", demo ? "مدير النظام" : "Administrator", NULL, "admin", "ar",
                         password};
    char uid[40];
    if (user_create(db, &cli, org_id, &u, uid, NULL, &e) < 0) {
        die("'admin': %s", e.msg);
    }
    printf("created organization '%s' with user 'admin'\n", slug);
    if (!from_stdin) {
        printf("admin password (shown once): %s\n", generated);
    }
    if (demo) {
        for (size_t i = 0; i < sizeof(demo_users) / sizeof(demo_users[0]); i++) {
            char pw[21];
            generate_password(pw);
            struct user_new d = {
                demo_users[i].username, demo_users[i].name, NULL, demo_users[i].role, "ar", pw};
            if (user_create(db, &cli, org_id, &d, uid, NULL, &e) < 0) {
                die("'%s': %s", demo_users[i].username, e.msg);
            }
            printf("demo user %-13s role %-24s password %s\n", demo_users[i].username,
                   demo_users[i].role, pw);
        }
        /* Children are written with sealed health notes: the master key is needed. */
        if (keys_load_master(g_config.key_file, &e) < 0) {
            die("%s", e.msg);
        }
        snprintf(cli.org_slug, sizeof(cli.org_slug), "%s", slug);
        int made = children_demo(db, &cli, 300, &e);
        if (made < 0) {
            die("demo children: %s", e.msg);
        }
        printf("demo: %d children in their households\n", made);
        int cases = cases_demo(db, &cli, &e);
        if (cases < 0) {
            die("demo cases: %s", e.msg);
        }
        printf("demo: %d cases with assessments, plans, sessions and scores\n", cases);
        int agreements = sponsorship_demo(db, &cli, &e);
        if (agreements < 0) {
            die("demo sponsorship: %s", e.msg);
        }
        printf("demo: %d sponsorship agreements with a year of dues, payments, receipts and "
               "payouts\n",
               agreements);
        keys_shutdown();
    }
    free(from_stdin);
    db_close(db);
    return 0;
}

/* Seconds after start before the first sponsorship round: at a national
 * network's size the round writes for seconds, and a server that was just
 * (re)started should first answer its users. */
#define DAILY_ROUND_DELAY_S 600

/* Once an hour, in the background: children who reached their organization's
 * age limit become "graduated" (with the history and the audit entry); and
 * once a UTC day (the first hourly check at least DAILY_ROUND_DELAY_S after
 * start, then the first of each new day), the sponsorship round: dues that
 * fell due, arrears alerts, age-limit notices and endings. */
static void *graduation_loop(void *arg)
{
    (void)arg;
    char last_day[11] = "";
    int64_t started_ms = time_now_ms();
    for (;;) {
        struct err e;
        err_clear(&e);
        struct db *db = db_thread(&e);
        if (db) {
            struct actor cli;
            actor_system(&cli, "");
            int n = children_graduate_due(db, &cli, &e);
            if (n > 0) {
                log_info("children graduated", "count=%d", n);
            } else if (n < 0) {
                log_warn("graduation failed", "error=\"%s\"", e.msg);
            }
            char today[11];
            int y, m, d;
            time_today(&y, &m, &d);
            snprintf(today, sizeof(today), "%04d-%02d-%02d", y, m, d);
            struct sponsorship_daily_stats st;
            err_clear(&e);
            bool settled = time_now_ms() - started_ms >= (int64_t)DAILY_ROUND_DELAY_S * 1000;
            if (settled && strcmp(today, last_day) != 0) {
                if (sponsorship_daily(db, NULL, today, &st, &e) < 0) {
                    log_warn("sponsorship round failed", "error=\"%s\"", e.msg);
                } else {
                    snprintf(last_day, sizeof(last_day), "%s", today);
                    log_info("sponsorship round",
                             "dues=%lld alerts=%lld noticed=%d ended=%d "
                             "failed=%d",
                             (long long)st.n_dues, (long long)st.n_alerts, st.n_noticed, st.n_ended,
                             st.n_failed);
                }
            }
        }
        sleep(3600);
    }
    return NULL;
}

int cli_serve(int argc, char **argv)
{
    argc = cli_config(argc, argv);
    if (argc > 1) {
        die("unknown option '%s' for serve", argv[1]);
    }
    cli_start();
    cli_load_master_key();
    struct db *db = cli_open_db();
    db_close(db);
    /* The router takes the first matching route in this order: the pages' catch-all
     * /children/{id} comes after the more specific /children/... routes. */
    auth_web_register();
    children_dedup_register();
    children_import_register(); /* /api/v1/children/import|export before .../{id} */
    children_api_register();
    cases_home_register(); /* /cases/home and /cases/dashboard before /cases/{id} */
    instruments_register();
    cases_api_register();
    sessions_register();
    children_documents_register();
    children_pages_register();
    cases_pages_register();
    finance_register();
    sponsorship_register();
    billing_register();
    bank_register();
    disburse_register();
    statement_register();
    portal_register();
    reminders_start();
    pthread_t grad;
    if (pthread_create(&grad, NULL, graduation_loop, NULL) == 0) {
        pthread_detach(grad);
    }
    struct err e;
    err_clear(&e);
    if (http_serve(&e) < 0) {
        die("%s", e.msg);
    }
    db_thread_close();
    return 0;
}

int cli_migrate(int argc, char **argv)
{
    argc = cli_config(argc, argv);
    (void)argc;
    cli_start();
    struct db *db = cli_open_db();
    struct err e;
    err_clear(&e);
    printf("database at schema version %d\n", db_schema_version(db, &e));
    db_close(db);
    return 0;
}

/* `sanad org set --slug SLUG [--file-pattern P] [--age-limit N]` */
static int org_set(int argc, char **argv)
{
    const char *slug = cli_opt(argc, argv, "--slug");
    const char *pattern = cli_opt(argc, argv, "--file-pattern");
    const char *limit = cli_opt(argc, argv, "--age-limit");
    const char *stages = cli_opt(argc, argv, "--case-stages");
    const char *meeting = cli_opt(argc, argv, "--meeting-url");
    if (!slug || (!pattern && !limit && !stages && !meeting)) {
        fputs("usage: sanad org set --slug SLUG [--file-pattern PATTERN] [--age-limit YEARS]\n"
              "                     [--case-stages 'assessment plan services follow_up']"
              " [--meeting-url https://...]\n",
              stderr);
        return 2;
    }
    int age = 0;
    if (limit) {
        char *end;
        long v = strtol(limit, &end, 10);
        if (*end || v < 1 || v > 25) {
            die("'--age-limit' must be a whole number from 1 to 25");
        }
        age = (int)v;
    }
    cli_start();
    struct db *db = cli_open_db();
    struct err e;
    err_clear(&e);
    char org_id[40];
    int found = org_find(db, slug, org_id, &e);
    if (found <= 0) {
        die(found < 0 ? "%s" : "no organization '%s'", found < 0 ? e.msg : slug);
    }
    struct actor cli;
    actor_system(&cli, org_id);
    snprintf(cli.org_slug, sizeof(cli.org_slug), "%s", slug);
    if ((pattern || age) && children_settings_set(db, &cli, pattern, age, &e) < 0) {
        die("%s", e.msg);
    }
    if ((stages || meeting) && case_settings_set(db, &cli, stages, meeting, &e) < 0) {
        die("%s: %s", e.field, e.msg);
    }
    printf("settings of '%s' saved\n", slug);
    db_close(db);
    return 0;
}

int cli_org(int argc, char **argv)
{
    argc = cli_config(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "set") == 0) {
        return org_set(argc, argv);
    }
    if (argc < 2 || strcmp(argv[1], "add") != 0) {
        fputs("usage: sanad org add --slug SLUG --name NAME\n"
              "       sanad org set --slug SLUG [--file-pattern PATTERN] [--age-limit YEARS]\n",
              stderr);
        return 2;
    }
    const char *slug = cli_opt(argc, argv, "--slug"), *name = cli_opt(argc, argv, "--name");
    if (!slug || !name) {
        fputs("usage: sanad org add --slug SLUG --name NAME\n", stderr);
        return 2;
    }
    cli_start();
    struct db *db = cli_open_db();
    struct actor cli;
    actor_system(&cli, "");
    struct err e;
    err_clear(&e);
    char id[40];
    if (org_create(db, &cli, slug, name, id, &e) < 0) {
        die("%s", e.msg);
    }
    printf("created organization '%s' (%s)\n", slug, id);
    db_close(db);
    return 0;
}

int cli_user(int argc, char **argv)
{
    argc = cli_config(argc, argv);
    static const char usage[] = "usage: sanad user add --org SLUG --username NAME --role ROLE"
                                " [--name DISPLAY_NAME] --password-stdin\n";
    const char *org = cli_opt(argc, argv, "--org"), *user = cli_opt(argc, argv, "--username");
    const char *role = cli_opt(argc, argv, "--role"), *name = cli_opt(argc, argv, "--name");
    if (argc < 2 || strcmp(argv[1], "add") != 0 || !org || !user || !role ||
        !cli_flag(argc, argv, "--password-stdin")) {
        fputs(usage, stderr);
        return 2;
    }
    cli_start();
    struct db *db = cli_open_db();
    struct err e;
    err_clear(&e);
    char org_id[40];
    int found = org_find(db, org, org_id, &e);
    if (found <= 0) {
        die(found < 0 ? "%s" : "no organization '%s'", found < 0 ? e.msg : org);
    }
    char *pw = cli_read_line();
    if (!pw) {
        die("no password on standard input");
    }
    struct actor cli;
    actor_system(&cli, org_id);
    struct user_new u = {user, name ? name : user, NULL, role, "ar", pw};
    char id[40];
    int rc = user_create(db, &cli, org_id, &u, id, NULL, &e);
    sodium_memzero(pw, strlen(pw));
    free(pw);
    if (rc < 0) {
        die("%s%s%s", e.field[0] ? e.field : "", e.field[0] ? ": " : "", e.msg);
    }
    printf("created user '%s' in '%s' (%s)\n", user, org, id);
    db_close(db);
    return 0;
}

int cli_audit(int argc, char **argv)
{
    argc = cli_config(argc, argv);
    if (argc < 2 || strcmp(argv[1], "verify") != 0) {
        fputs("usage: sanad audit verify\n", stderr);
        return 2;
    }
    cli_start();
    struct db *db = cli_open_db();
    struct err e;
    err_clear(&e);
    int rc = audit_verify(db, stdout, &e);
    db_close(db);
    if (rc < 0) {
        die("%s", e.msg);
    }
    return rc;
}

int cli_key(int argc, char **argv)
{
    argc = cli_config(argc, argv);
    if (argc < 2 || strcmp(argv[1], "rotate") != 0) {
        fputs("usage: sanad key rotate\n", stderr);
        return 2;
    }
    cli_start();
    cli_load_master_key();
    struct db *db = cli_open_db();
    struct err e;
    err_clear(&e);
    int n = keys_rotate_master(db, g_config.key_file, &e);
    if (n < 0) {
        die("%s", e.msg);
    }
    struct actor cli;
    actor_system(&cli, "");
    if (db_begin(db, false, &e) == 0) {
        char detail[64];
        snprintf(detail, sizeof(detail), "rewrapped=%d", n);
        if (actor_audit(db, &cli, "key.rotate", "master_key", NULL, "ok", detail, &e) < 0 ||
            db_commit(db, &e) < 0) {
            db_rollback(db);
        }
    }
    printf("new master key in '%s'; %d data keys re-wrapped; the old key is '%s.old':\n"
           "remove it once backups made with it are no longer needed\n",
           g_config.key_file, n, g_config.key_file);
    db_close(db);
    keys_shutdown();
    return 0;
}

/* sanad sponsorship daily [--org SLUG] [--today YYYY-MM-DD]: runs the daily
 * sponsorship round now (what `sanad serve` does once a day). */
int cli_sponsorship(int argc, char **argv)
{
    argc = cli_config(argc, argv);
    if (argc < 2 || strcmp(argv[1], "daily") != 0) {
        fputs("usage: sanad sponsorship daily [--org SLUG] [--today YYYY-MM-DD]\n", stderr);
        return 2;
    }
    cli_start();
    cli_load_master_key();
    struct db *db = cli_open_db();
    struct err e;
    err_clear(&e);
    char org_id[40] = "";
    const char *slug = cli_opt(argc, argv, "--org");
    if (slug && org_find(db, slug, org_id, &e) != 1) {
        die("no organization '%s'", slug);
    }
    char today[11];
    const char *given = cli_opt(argc, argv, "--today");
    int y, m, d;
    if (given) {
        if (time_date_parse(given, &y, &m, &d) < 0) {
            die("'--today' must be a date YYYY-MM-DD");
        }
    } else {
        time_today(&y, &m, &d);
    }
    snprintf(today, sizeof(today), "%04d-%02d-%02d", y, m, d);
    struct sponsorship_daily_stats st;
    if (sponsorship_daily(db, org_id[0] ? org_id : NULL, today, &st, &e) < 0) {
        die("%s", e.msg);
    }
    printf("%lld dues generated, %lld arrears alerts, %d age-limit notices, %d agreements "
           "ended, %d organizations failed\n",
           (long long)st.n_dues, (long long)st.n_alerts, st.n_noticed, st.n_ended, st.n_failed);
    db_close(db);
    return st.n_failed ? 1 : 0;
}

int cli_children(int argc, char **argv)
{
    argc = cli_config(argc, argv);
    if (argc < 2 || strcmp(argv[1], "graduate") != 0) {
        fputs("usage: sanad children graduate [--org SLUG]\n", stderr);
        return 2;
    }
    const char *slug = cli_opt(argc, argv, "--org");
    cli_start();
    struct db *db = cli_open_db();
    struct err e;
    err_clear(&e);
    char org_id[40] = "";
    if (slug) {
        int found = org_find(db, slug, org_id, &e);
        if (found <= 0) {
            die(found < 0 ? "%s" : "no organization '%s'", found < 0 ? e.msg : slug);
        }
    }
    struct actor cli;
    actor_system(&cli, org_id);
    int n = children_graduate_due(db, &cli, &e);
    if (n < 0) {
        die("%s", e.msg);
    }
    printf("%d children reached the age limit and were marked graduated\n", n);
    db_close(db);
    return 0;
}
