/*
 * cli_import.c: `sanad import children` and `sanad export children`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "children/export.h"
#include "children/import.h"
#include "cli/cli.h"
#include "core/config.h"
#include "core/time.h"
#include "core/xalloc.h"
#include "keys/keys.h"
#include "core/banned.h"

/* Fills a as the command line acting in the organization slug; dies when
 * there is none. */
static void org_actor(struct db *db, const char *slug, struct actor *a)
{
    struct err e;
    err_clear(&e);
    char org_id[40];
    int found = org_find(db, slug, org_id, &e);
    if (found <= 0) {
        die(found < 0 ? "%s" : "no organization '%s'", found < 0 ? e.msg : slug);
    }
    actor_system(a, org_id);
    snprintf(a->org_slug, sizeof(a->org_slug), "%s", slug);
}

/* The first argument after argv[from] that is neither an option nor the
 * value of one of the options taking a value; NULL when none. */
static const char *positional(int argc, char **argv, int from)
{
    static const char *const with_value[] = {"--org", "--map", "--format", "--out", "--q",
                                             "--status", "--sex", "--lang"};
    for (int i = from; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0) {
            return argv[i];
        }
        for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++) {
            if (strcmp(argv[i], with_value[k]) == 0) {
                i++;
                break;
            }
        }
    }
    return NULL;
}

/* Reads the file at path, refusing one over limit bytes. The caller frees. */
static char *slurp(const char *path, size_t limit, size_t *n_out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        die("could not open '%s': %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        die("could not read '%s': not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    if (limit && size > limit) {
        die("'%s' is too large (%zu bytes, the limit 'upload_max' is %zu)", path, size, limit);
    }
    char *data = xmalloc(size + 1);
    if (size && fread(data, 1, size, f) != size) {
        die("could not read '%s'", path);
    }
    fclose(f);
    data[size] = '\0';
    *n_out = size;
    return data;
}

/* Prints the result of an import for people. */
static void print_result(json_t *r)
{
    size_t i;
    json_t *v;
    printf("columns:\n");
    json_array_foreach(json_object_get(r, "columns"), i, v)
    {
        const char *field = json_string_value(json_object_get(v, "field"));
        printf("  %-28s -> %s\n", json_string_value(json_object_get(v, "column")),
               field ? field : "(ignored)");
    }
    json_array_foreach(json_object_get(r, "errors"), i, v)
    {
        const char *col = json_string_value(json_object_get(v, "column"));
        printf("row %lld%s%s%s: %s: %s\n", (long long)json_integer_value(json_object_get(v, "row")),
               col ? ", column '" : "", col ? col : "", col ? "'" : "",
               json_string_value(json_object_get(v, "field")),
               json_string_value(json_object_get(v, "message")));
    }
    if (json_is_true(json_object_get(r, "errors_truncated"))) {
        printf("... %lld problems in all\n",
               (long long)json_integer_value(json_object_get(r, "errors_total")));
    }
    printf("rows %lld, valid %lld, invalid %lld, written %lld%s\n",
           (long long)json_integer_value(json_object_get(r, "rows")),
           (long long)json_integer_value(json_object_get(r, "valid")),
           (long long)json_integer_value(json_object_get(r, "invalid")),
           (long long)json_integer_value(json_object_get(r, "written")),
           json_is_true(json_object_get(r, "dry_run")) ? " (dry run: nothing written)" : "");
}

int cli_import(int argc, char **argv)
{
    argc = cli_config(argc, argv);
    static const char usage[] = "usage: sanad import children FILE.csv --org SLUG [--dry-run]"
                                " [--skip-invalid] [--map COLUMN=field,...] [--json]\n";
    const char *org = cli_opt(argc, argv, "--org");
    const char *path = positional(argc, argv, 2);
    if (argc < 3 || strcmp(argv[1], "children") != 0 || !org || !path) {
        fputs(usage, stderr);
        return 2;
    }
    bool dry = cli_flag(argc, argv, "--dry-run"), skip = cli_flag(argc, argv, "--skip-invalid");
    struct err e;
    err_clear(&e);
    json_t *mapping = NULL;
    const char *spec = cli_opt(argc, argv, "--map");
    if (spec && !(mapping = import_mapping_parse(spec, &e))) {
        die("%s", e.msg);
    }
    cli_start();
    if (!dry) {
        cli_load_master_key();
    }
    struct db *db = cli_open_db();
    struct actor a;
    org_actor(db, org, &a);
    size_t n;
    char *data = slurp(path, g_config.upload_max, &n);
    json_t *result = NULL;
    int64_t t0 = time_mono_ns();
    int rc = import_children(db, &a, data, n, mapping, dry, skip, &result, &e);
    double secs = (double)(time_mono_ns() - t0) / 1e9;
    free(data);
    json_decref(mapping);
    if (result && cli_flag(argc, argv, "--json")) {
        json_dumpf(result, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
    } else if (result) {
        print_result(result);
    }
    if (result) {
        fprintf(stderr, "%.2f s, %.0f rows/s\n", secs,
                secs > 0 ? (double)json_integer_value(json_object_get(result, "rows")) / secs : 0);
    }
    json_decref(result);
    db_close(db);
    keys_shutdown();
    if (rc < 0) {
        fprintf(stderr, "sanad: %s\n", e.msg);
        return 1;
    }
    return 0;
}

int cli_export(int argc, char **argv)
{
    argc = cli_config(argc, argv);
    static const char usage[] = "usage: sanad export children --org SLUG --format csv|xlsx"
                                " --out FILE [--q TEXT] [--status S] [--sex M|F] [--lang ar|en]\n";
    const char *org = cli_opt(argc, argv, "--org"), *out = cli_opt(argc, argv, "--out");
    const char *format = cli_opt(argc, argv, "--format"), *lang = cli_opt(argc, argv, "--lang");
    if (argc < 2 || strcmp(argv[1], "children") != 0 || !org || !out || !format) {
        fputs(usage, stderr);
        return 2;
    }
    struct err e;
    err_clear(&e);
    enum export_format fmt;
    if (export_format_parse(format, &fmt, &e) < 0) {
        die("%s", e.msg);
    }
    cli_start();
    cli_load_master_key();
    struct db *db = cli_open_db();
    struct actor a;
    org_actor(db, org, &a);
    snprintf(a.lang, sizeof(a.lang), "%s", lang && strcmp(lang, "en") == 0 ? "en" : "ar");
    struct child_query q = {cli_opt(argc, argv, "--q"), cli_opt(argc, argv, "--status"),
                            cli_opt(argc, argv, "--sex"), -1, -1, NULL, NULL, -1, NULL, 1, 200};
    size_t rows;
    int rc = children_export(db, &a, &q, fmt, out, NULL, &rows, &e);
    db_close(db);
    keys_shutdown();
    if (rc < 0) {
        fprintf(stderr, "sanad: %s\n", e.msg);
        return 1;
    }
    printf("exported %zu children to '%s'\n", rows, out);
    return 0;
}
