#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/config.h"
#include "core/log.h"
#include "cases/instruments.h"
#include "db/db.h"
#include "keys/keys.h"
#include "web/i18n.h"
#include "web/tmpl.h"
#include "core/banned.h"

void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("sanad: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

const char *cli_opt(int argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++) {
        // NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): argv[i] is not NULL for i < argc
        if (strcmp(argv[i], name) == 0) {
            if (i + 1 >= argc) {
                die("option '%s' needs a value", name);
            }
            return argv[i + 1];
        }
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') {
            return argv[i] + n + 1;
        }
    }
    return NULL;
}

int cli_flag(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

char *cli_read_line(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
        line[--n] = '\0';
    }
    return line;
}

/* Options that are configuration keys, with the flag spelling people use. */
static const struct {
    const char *flag; /* command-line spelling */
    const char *key;  /* configuration key */
} config_flags[] = {
    {"--data", "data"},         {"--db", "db"},           {"--listen", "listen"},
    {"--threads", "threads"},   {"--log-level", "log_level"}, {"--tls-cert", "tls_cert"},
    {"--tls-key", "tls_key"},   {"--key-file", "key_file"},
};

int cli_config(int argc, char **argv)
{
    config_defaults();
    struct err e;
    err_clear(&e);
    /* The data folder and config file must be known before the file is read. */
    const char *data = cli_opt(argc, argv, "--data");
    if (!data) {
        data = getenv("SANAD_DATA");
    }
    if (data && config_set("data", data, &e) < 0) {
        die("%s", e.msg);
    }
    const char *file = cli_opt(argc, argv, "--config");
    char path[4096] = "";
    if (!file) {
        snprintf(path, sizeof(path), "%s/sanad.ini", g_config.data_dir);
    }
    if (config_load_file(file ? file : path, file == NULL, &e) < 0 || config_load_env(&e) < 0) {
        die("%s", e.msg);
    }
    int out = 1;
    for (int i = 1; i < argc; i++) {
        const char *key = NULL;
        const char *val = NULL;
        for (size_t k = 0; k < sizeof(config_flags) / sizeof(config_flags[0]); k++) {
            size_t n = strlen(config_flags[k].flag);
            // NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): argv[i] is not NULL for i < argc
            if (strcmp(argv[i], config_flags[k].flag) == 0 && i + 1 < argc) {
                key = config_flags[k].key;
                val = argv[++i];
                break;
            }
            if (strncmp(argv[i], config_flags[k].flag, n) == 0 && argv[i][n] == '=') {
                key = config_flags[k].key;
                val = argv[i] + n + 1;
                break;
            }
        }
        // NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): argv[i] is not NULL for i < argc
        if (!key && strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            i++;
            continue;
        }
        if (!key) {
            argv[out++] = argv[i];
            continue;
        }
        if (config_set(key, val, &e) < 0) {
            die("%s", e.msg);
        }
    }
    argv[out] = NULL;
    config_finish();
    enum log_level lvl;
    if (log_level_parse(g_config.log_level, &lvl) < 0) {
        die("'log_level' must be debug, info, warn or error");
    }
    log_set_level(lvl);
    return out;
}

void cli_start(void)
{
    if (sodium_init() < 0) {
        die("could not initialise libsodium");
    }
    struct err e;
    err_clear(&e);
    char instruments[4200];
    snprintf(instruments, sizeof(instruments), "%s/instruments", g_config.data_dir);
    if (i18n_init(&e) < 0 || tmpl_init(&e) < 0 || instruments_init(instruments, &e) < 0) {
        die("%s", e.msg);
    }
    db_set_url(g_config.db_url);
}

struct db *cli_open_db(void)
{
    struct err e;
    err_clear(&e);
    struct db *db;
    if (db_open(g_config.db_url, &db, &e) < 0) {
        die("could not open the database: %s", e.msg);
    }
    if (db_migrate(db, &e) < 0) {
        die("migration failed: %s", e.msg);
    }
    return db;
}

void cli_load_master_key(void)
{
    struct err e;
    err_clear(&e);
    if (keys_load_master(g_config.key_file, &e) < 0) {
        die("%s (the master key is made by 'sanad init'; see docs/operations.md)", e.msg);
    }
}
