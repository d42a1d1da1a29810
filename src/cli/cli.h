/*
 * cli.h: the `sanad` commands. Each takes the arguments after the command
 * name (argv[0] is the command) and returns the process exit code: 0 done,
 * 1 failed, 2 bad usage.
 */
#ifndef SANAD_CLI_CLI_H
#define SANAD_CLI_CLI_H

#include "core/version.h"

int cli_init(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_migrate(int argc, char **argv);
int cli_org(int argc, char **argv);
int cli_user(int argc, char **argv);
int cli_audit(int argc, char **argv);
int cli_key(int argc, char **argv);
int cli_children(int argc, char **argv);
int cli_match(int argc, char **argv);
int cli_sponsorship(int argc, char **argv);

/* Reads the configuration (defaults, INI file, environment) and then every
 * `--key value` / `--key=value` option of argv naming a configuration key,
 * removing those from argv. Other options stay for the command. Dies with a
 * message on a bad value. Returns the new argc. */
int cli_config(int argc, char **argv);
/* Starts what every command needs: libsodium, catalogs, templates, database URL. */
void cli_start(void);
struct db;
/* Opens the database and applies migrations, or dies. The caller closes. */
struct db *cli_open_db(void);
/* Loads the master key (sealed fields, data keys) or dies with a hint. */
void cli_load_master_key(void);
/* The value of option name in argv ("--name VALUE" or "--name=VALUE"), or NULL. */
const char *cli_opt(int argc, char **argv, const char *name);
/* True when flag name (e.g. "--dry-run") is in argv. */
int cli_flag(int argc, char **argv, const char *name);
/* Reads one line from standard input (without its newline) into a new
 * string; NULL on end of input. The caller frees. */
char *cli_read_line(void);
/* Prints "sanad: " and the message to stderr and exits 1. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
