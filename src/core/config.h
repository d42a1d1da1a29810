/*
 * config.h: the process's configuration, read once at start-up and then
 * read-only (Fossil's `g`). Sources, lowest precedence first: built-in
 * defaults, the INI file (DATA/sanad.ini or --config), SANAD_* environment
 * variables, command-line flags.
 */
#ifndef SANAD_CORE_CONFIG_H
#define SANAD_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct config {
    char *data_dir;          /* folder for the database, keys and uploads ("data") */
    char *db_url;            /* "sqlite:PATH" or "postgres://..."; default sqlite:DATA/sanad.db */
    char *listen;            /* "ADDR:PORT" to serve on */
    int threads;             /* HTTP worker threads; 0 means one per core */
    size_t json_body_max;    /* largest JSON request body, bytes */
    size_t form_body_max;    /* largest url-encoded form body, bytes */
    size_t upload_max;       /* largest multipart upload, bytes */
    int max_connections;     /* concurrent connections before new ones are refused */
    int request_timeout;     /* seconds a connection may stay idle */
    char *log_level;         /* debug | info | warn | error */
    char *tls_cert;          /* PEM certificate path: serve HTTPS when set with tls_key */
    char *tls_key;           /* PEM private key path */
    bool behind_tls_proxy;   /* a TLS-terminating proxy (nginx) is in front: cookies get __Host- */
    int session_idle_min;    /* minutes of inactivity that end a session */
    int session_absolute_h;  /* hours after login that end a session regardless */
    int login_max_failures;  /* failed logins per account or address before throttling */
    int login_window_min;    /* the window those failures are counted in, minutes */
    char *key_file;          /* master key file; default DATA/sanad.key */
    char *default_lang;      /* "ar" or "en" for visitors without a choice */
    char *smtp_url;          /* smtp://host:port or smtps://host:port for reminders; NULL: none sent */
    char *smtp_user;         /* SMTP login name; NULL: no authentication */
    char *smtp_password;     /* SMTP password (never printed by `sanad help`) */
    char *smtp_from;         /* sender address of reminders ("sanad@localhost") */
    int reminder_hour;       /* UTC hour (0-23) from which the daily digests are sent */
    int reminder_interval_s; /* seconds between the reminder thread's checks (tests use 1) */
};

extern struct config g_config;

/* Fills g_config with the built-in defaults. */
void config_defaults(void);
/* Sets one option by its INI/flag name ("listen", "db", ...). Returns -1 with
 * e naming the key for an unknown key or a bad value. */
int config_set(const char *key, const char *value, struct err *e);
/* Reads an INI file; a missing file is not an error when optional is true. */
int config_load_file(const char *path, bool optional, struct err *e);
/* Applies every SANAD_<KEY> environment variable (upper-case key). */
int config_load_env(struct err *e);
/* Fills the values derived from data_dir (db_url, key_file) that are still unset. */
void config_finish(void);
/* Writes the option names, one per line with their current values, to f (for `sanad help`). */
void config_print(void *file);

#endif
