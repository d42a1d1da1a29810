#define _GNU_SOURCE
#include "core/config.h"

#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/xalloc.h"
#include "core/banned.h"

struct config g_config;

enum opt_type { OPT_STR, OPT_INT, OPT_SIZE, OPT_BOOL };

/* One option: its name (INI key and flag), type and place in g_config. */
struct opt {
    const char *name;   /* INI key, --flag and, upper-cased, SANAD_ suffix */
    enum opt_type type; /* how the text is parsed */
    size_t offset;      /* offsetof the member in struct config */
    long min, max;      /* bounds for numbers */
};

#define O(n, t, m, lo, hi) {n, t, offsetof(struct config, m), lo, hi}
static const struct opt opts[] = {
    O("data", OPT_STR, data_dir, 0, 0),
    O("db", OPT_STR, db_url, 0, 0),
    O("listen", OPT_STR, listen, 0, 0),
    O("threads", OPT_INT, threads, 0, 256),
    O("json_body_max", OPT_SIZE, json_body_max, 1024, 1L << 30),
    O("form_body_max", OPT_SIZE, form_body_max, 1024, 1L << 30),
    O("upload_max", OPT_SIZE, upload_max, 1024, 1L << 31),
    O("max_connections", OPT_INT, max_connections, 1, 100000),
    O("request_timeout", OPT_INT, request_timeout, 1, 3600),
    O("log_level", OPT_STR, log_level, 0, 0),
    O("tls_cert", OPT_STR, tls_cert, 0, 0),
    O("tls_key", OPT_STR, tls_key, 0, 0),
    O("behind_tls_proxy", OPT_BOOL, behind_tls_proxy, 0, 0),
    O("session_idle_minutes", OPT_INT, session_idle_min, 1, 24 * 60),
    O("session_absolute_hours", OPT_INT, session_absolute_h, 1, 24 * 30),
    O("login_max_failures", OPT_INT, login_max_failures, 1, 1000),
    O("login_window_minutes", OPT_INT, login_window_min, 1, 24 * 60),
    O("key_file", OPT_STR, key_file, 0, 0),
    O("default_lang", OPT_STR, default_lang, 0, 0),
    O("smtp_url", OPT_STR, smtp_url, 0, 0),
    O("smtp_user", OPT_STR, smtp_user, 0, 0),
    O("smtp_password", OPT_STR, smtp_password, 0, 0),
    O("smtp_from", OPT_STR, smtp_from, 0, 0),
    O("reminder_hour", OPT_INT, reminder_hour, 0, 23),
    O("reminder_interval_seconds", OPT_INT, reminder_interval_s, 1, 86400),
};
#undef O

/* Replaces the string member at p with a copy of v. */
static void set_str(char **p, const char *v)
{
    free(*p);
    *p = v ? xstrdup(v) : NULL;
}

void config_defaults(void)
{
    set_str(&g_config.data_dir, "data");
    set_str(&g_config.db_url, NULL);
    set_str(&g_config.listen, "127.0.0.1:8080");
    g_config.threads = 0;
    g_config.json_body_max = 1 << 20;
    g_config.form_body_max = 1 << 20;
    g_config.upload_max = 10 << 20;
    g_config.max_connections = 1024;
    g_config.request_timeout = 30;
    set_str(&g_config.log_level, "info");
    set_str(&g_config.tls_cert, NULL);
    set_str(&g_config.tls_key, NULL);
    g_config.behind_tls_proxy = false;
    g_config.session_idle_min = 30;
    g_config.session_absolute_h = 12;
    g_config.login_max_failures = 5;
    g_config.login_window_min = 15;
    set_str(&g_config.key_file, NULL);
    set_str(&g_config.default_lang, "ar");
    set_str(&g_config.smtp_url, NULL);
    set_str(&g_config.smtp_user, NULL);
    set_str(&g_config.smtp_password, NULL);
    set_str(&g_config.smtp_from, "sanad@localhost");
    g_config.reminder_hour = 6;
    g_config.reminder_interval_s = 300;
}

int config_set(const char *key, const char *value, struct err *e)
{
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        const struct opt *o = &opts[i];
        if (strcmp(o->name, key) != 0) {
            continue;
        }
        void *p = (char *)&g_config + o->offset;
        if (o->type == OPT_STR) {
            if (strcmp(key, "default_lang") == 0 && strcmp(value, "ar") && strcmp(value, "en")) {
                return err_set(e, ERR_INVALID, "bad_config", key, "'%s' must be ar or en", key);
            }
            set_str(p, value);
            return 0;
        }
        if (o->type == OPT_BOOL) {
            if (!strcmp(value, "1") || !strcmp(value, "true") || !strcmp(value, "yes")) {
                *(bool *)p = true;
            } else if (!strcmp(value, "0") || !strcmp(value, "false") || !strcmp(value, "no")) {
                *(bool *)p = false;
            } else {
                return err_set(e, ERR_INVALID, "bad_config", key, "'%s' must be true or false", key);
            }
            return 0;
        }
        char *end;
        long v = strtol(value, &end, 10);
        if (end == value || *end || v < o->min || v > o->max) {
            return err_set(e, ERR_INVALID, "bad_config", key,
                           "'%s' must be a whole number from %ld to %ld", key, o->min, o->max);
        }
        if (o->type == OPT_INT) {
            *(int *)p = (int)v;
        } else {
            *(size_t *)p = (size_t)v;
        }
        return 0;
    }
    return err_set(e, ERR_INVALID, "unknown_config", key, "unknown option '%s'", key);
}

/* inih callback: section names only group keys for people; keys are global. */
static int on_ini_entry(void *user, const char *section, const char *name, const char *value)
{
    (void)section;
    struct err *e = user;
    if (err_failed(e)) {
        return 0;
    }
    return config_set(name, value, e) == 0;
}

int config_load_file(const char *path, bool optional, struct err *e)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (optional) {
            return 0;
        }
        return err_set(e, ERR_INVALID, "config_missing", "config", "could not open '%s'", path);
    }
    struct err local;
    err_clear(&local);
    int line = ini_parse_file(f, on_ini_entry, &local);
    fclose(f);
    if (line != 0) {
        if (err_failed(&local)) {
            return err_set(e, local.kind, local.code, local.field, "'%s' line %d: %s", path, line,
                           local.msg);
        }
        return err_set(e, ERR_INVALID, "bad_config", "config", "'%s' line %d: syntax error",
                       path, line);
    }
    return 0;
}

int config_load_env(struct err *e)
{
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        char env[64] = "SANAD_";
        size_t k = 6;
        for (const char *p = opts[i].name; *p && k < sizeof(env) - 1; p++) {
            env[k++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        }
        env[k] = '\0';
        const char *v = getenv(env);
        if (v && config_set(opts[i].name, v, e) < 0) {
            return -1;
        }
    }
    return 0;
}

void config_finish(void)
{
    char tmp[4096];
    if (!g_config.db_url) {
        snprintf(tmp, sizeof(tmp), "sqlite:%s/sanad.db", g_config.data_dir);
        set_str(&g_config.db_url, tmp);
    }
    if (!g_config.key_file) {
        snprintf(tmp, sizeof(tmp), "%s/sanad.key", g_config.data_dir);
        set_str(&g_config.key_file, tmp);
    }
    if (g_config.threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        g_config.threads = n > 0 ? (int)n : 2;
    }
}

void config_print(void *file)
{
    FILE *f = file;
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        const struct opt *o = &opts[i];
        const void *p = (const char *)&g_config + o->offset;
        switch (o->type) {
        case OPT_STR: {
            const char *s = *(char *const *)p;
            if (s && *s && strcmp(o->name, "smtp_password") == 0) {
                s = "(set)"; /* a secret stays off screens and logs */
            }
            fprintf(f, "  %-24s %s\n", o->name, s ? s : "");
            break;
        }
        case OPT_INT:
            fprintf(f, "  %-24s %d\n", o->name, *(const int *)p);
            break;
        case OPT_SIZE:
            fprintf(f, "  %-24s %zu\n", o->name, *(const size_t *)p);
            break;
        case OPT_BOOL:
            fprintf(f, "  %-24s %s\n", o->name, *(const bool *)p ? "true" : "false");
            break;
        }
    }
}
