/*
 * sanad: the one binary. `sanad help` lists the commands.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "children/export.h"
#include "children/import.h"
#include "cases/reminders.h"
#include "cli/cli.h"
#include "core/banned.h"

/* Prints the commands to f. */
static void usage(FILE *f)
{
    fputs("usage: sanad COMMAND [OPTIONS]\n"
          "\n"
          "commands:\n"
          "  init [--data DIR] [--org SLUG] [--org-name NAME] [--admin-password-stdin] [--demo]\n"
          "                      create the database, the master key, a first organization and\n"
          "                      its user 'admin' (the password is printed once)\n"
          "  serve [--data DIR] [--db URL] [--listen ADDR:PORT]\n"
          "                      run the web server (migrates first)\n"
          "  migrate             apply pending database migrations\n"
          "  org add --slug SLUG --name NAME\n"
          "  org set --slug SLUG [--file-pattern PATTERN] [--age-limit YEARS]\n"
          "          [--case-stages 'assessment plan services follow_up'] [--meeting-url URL]\n"
          "  children graduate [--org SLUG]\n"
          "                      mark children who reached the age limit as graduated\n"
          "                      (serve also does it every hour)\n"
          "  sponsorship daily [--org SLUG] [--today YYYY-MM-DD]\n"
          "                      generate the dues that fell due, raise arrears alerts, send\n"
          "                      age-limit notices and end agreements at the limit (serve\n"
          "                      does it once a day)\n"
          "  user add --org SLUG --username NAME --role ROLE [--name NAME] --password-stdin\n"
          "  audit verify        check the audit log's hash chains; exit 1 when tampered\n"
          "  key rotate          new master key; re-wraps every organization's data keys\n"
          "  import children FILE.csv --org SLUG [--dry-run] [--map COLUMN=field,...]\n"
          "                      [--skip-invalid] [--json]\n"
          "  export children --org SLUG --format csv|xlsx --out FILE [--q TEXT] [--status S]\n"
          "  remind [--dry-run]  send today's reminder digests now (serve sends them daily)\n"
          "  match dedup|encode|link|explain ...\n"
          "                      the matching engine (see docs/matching.md)\n"
          "  version             print the version\n"
          "  help                this text\n"
          "\n"
          "every command takes --data DIR, --db URL and --config FILE; settings are read from\n"
          "DATA/sanad.ini, then SANAD_* environment variables, then flags (docs/operations.md)\n",
          f);
}

int main(int argc, char **argv)
{
    /* Everything Sanad writes (database, keys, uploads, exports) is for its own user only. */
    umask(077);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    static const struct {
        const char *name;              /* command word */
        int (*fn)(int, char **);       /* its implementation */
    } commands[] = {
        {"init", cli_init},   {"serve", cli_serve}, {"migrate", cli_migrate},
        {"org", cli_org},     {"user", cli_user},   {"audit", cli_audit},
        {"match", cli_match},   {"key", cli_key},
        {"import", cli_import}, {"export", cli_export},
        {"children", cli_children}, {"remind", cli_remind},
        {"sponsorship", cli_sponsorship},
    };
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(commands[i].name, cmd) == 0) {
            return commands[i].fn(argc - 1, argv + 1);
        }
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("sanad %s\n", SANAD_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "sanad: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
