/*
 * import_api.c: CSV import (API and the page with its column-mapping step and
 * dry run) and export of the current search as CSV or XLSX.
 *
 * The page keeps an uploaded file between the dry run and the import in
 * DATA/imports/<random>.csv (mode 0600, removed after the import or after a
 * day), so the user maps columns and checks the dry run before anything is
 * written, without uploading again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/authz.h"
#include "children/children.h"
#include "children/children_web.h"
#include "children/export.h"
#include "children/import.h"
#include "core/config.h"
#include "core/text.h"
#include "core/time.h"
#include "web/i18n.h"
#include "web/page.h"
#include "core/banned.h"

#define STASH_MAX_AGE_S (24 * 3600)

/* True when a query or form flag is set ("1", "true", "on"). */
static bool flag(const char *v)
{
    return v && (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "on"));
}

/* Localizes the messages of an import result's errors. */
static void localize_result(struct http_req *r, json_t *result)
{
    json_t *errors = json_object_get(result, "errors");
    if (json_is_array(errors)) {
        page_localize_errors(r, errors);
    }
}

/* POST /api/v1/children/import?dry_run=1&skip_invalid=1: body text/csv, or
 * multipart/form-data with "file" and optionally "mapping" (JSON object). */
static void api_import(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    const char *data = r->body;
    size_t len = r->body_len;
    json_t *mapping = NULL;
    if (strcmp(r->content_type, "multipart/form-data") == 0) {
        const struct http_upload *up = http_upload(r, "file");
        if (!up) {
            err_set(&e, ERR_INVALID, "required", "file", "'file' is required");
            http_reply_err(r, &e);
            return;
        }
        data = (const char *)up->data;
        len = up->len;
        const char *m = http_form(r, "mapping");
        if (m && *m) {
            json_error_t je;
            mapping = json_loads(m, JSON_REJECT_DUPLICATES, &je);
            if (!json_is_object(mapping)) {
                json_decref(mapping);
                err_set(&e, ERR_INVALID, "bad_mapping", "mapping",
                        "'mapping' must be a JSON object of column to field");
                http_reply_err(r, &e);
                return;
            }
        }
    } else if (strcmp(r->content_type, "text/csv") != 0) {
        http_reply_problem(r, 415, "unsupported_media_type", NULL,
                           "send text/csv or multipart/form-data", NULL);
        return;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(mapping);
        return;
    }
    json_t *result = NULL;
    int rc = import_children(db, r->actor, data, len, mapping, flag(http_query(r, "dry_run")),
                             flag(http_query(r, "skip_invalid")), &result, &e);
    json_decref(mapping);
    if (!result) {
        http_reply_err(r, &e);
        return;
    }
    localize_result(r, result);
    if (rc < 0) {
        http_reply_problem(r, http_status_of(e.kind), e.code, e.field[0] ? e.field : NULL, e.msg,
                           json_pack("{s:o}", "result", result));
        return;
    }
    http_reply_json(r, 200, result);
}

/* Replies with the export of the request's search in the format asked for. */
static void export_reply(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    enum export_format fmt;
    struct child_query q;
    const char *f = http_query(r, "format");
    if (export_format_parse(f ? f : "csv", &fmt, &e) < 0 ||
        children_query_from_request(r, &q, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct buf out = BUF_INIT;
    size_t rows = 0;
    if (children_export(db, r->actor, &q, fmt, NULL, &out, &rows, &e) < 0) {
        buf_release(&out);
        http_reply_err(r, &e);
        return;
    }
    char day[32];
    time_format_iso(time_now_ms(), day, sizeof(day));
    day[10] = '\0';
    http_add_header(r, "Content-Disposition",
                    arena_printf(&r->arena, "attachment; filename=\"children-%s.%s\"", day,
                                 fmt == EXPORT_CSV ? "csv" : "xlsx"));
    http_reply(r, 200, export_media_type(fmt), out.buf, out.len);
    buf_release(&out);
}

/* Removes stashed uploads older than a day. */
static void stash_sweep(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        return;
    }
    struct dirent *de;
    time_t now = time_now_ms() / 1000;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') {
            continue;
        }
        char path[4400];
        snprintf(path, sizeof(path), "%s/%.255s", dir, de->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && now - st.st_mtime > STASH_MAX_AGE_S) {
            unlink(path);
        }
    }
    closedir(d);
}

/* The path of stash token (64 hex characters) in the arena, or NULL for a bad token. */
static const char *stash_path(struct http_req *r, const char *token)
{
    if (!token || strlen(token) != 64 || strspn(token, "0123456789abcdef") != 64) {
        return NULL;
    }
    return arena_printf(&r->arena, "%s/imports/%s.csv", g_config.data_dir, token);
}

/* Keeps data in a new stash file; writes its token (65 bytes). Returns 0 or -1. */
static int stash_put(struct http_req *r, const void *data, size_t len, char token[65],
                     struct err *e)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/imports", g_config.data_dir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        return err_set(e, ERR_INTERNAL, "write_failed", NULL, "could not create '%s'", dir);
    }
    stash_sweep(dir);
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    text_hex(raw, sizeof(raw), token);
    const char *path = stash_path(r, token);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        return err_set(e, ERR_INTERNAL, "write_failed", NULL, "could not keep the upload");
    }
    close(fd);
    return 0;
}

/* Reads a stash file into the arena. NULL when it is gone. */
static char *stash_get(struct http_req *r, const char *token, size_t *len)
{
    const char *path = stash_path(r, token);
    if (!path) {
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) < 0 || (size_t)st.st_size > g_config.upload_max) {
        fclose(f);
        return NULL;
    }
    char *buf = arena_alloc(&r->arena, (size_t)st.st_size + 1);
    *len = fread(buf, 1, (size_t)st.st_size, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* The field choices for the mapping step: every field, with its label. */
static json_t *field_options(struct http_req *r, const char *selected)
{
    int n;
    const struct child_field *f = children_fields(&n);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_array_append_new(arr, json_pack("{s:s, s:s, s:b}", "value", f[i].name, "label",
                                             page_label(r, "field", f[i].name), "selected",
                                             selected && !strcmp(selected, f[i].name)));
    }
    return arr;
}

/* Runs the import (dry or real) of a stash with the mapping from the form and
 * renders the result page. */
static void import_run(struct http_req *r, const char *token, bool real)
{
    struct err e;
    err_clear(&e);
    size_t len = 0;
    char *data = stash_get(r, token, &len);
    if (!data) {
        err_set(&e, ERR_NOT_FOUND, "import_expired", "file",
                "the uploaded file is gone: upload it again");
        json_t *ctx = json_object();
        page_ctx_error(r, ctx, &e);
        page_reply(r, 410, "children_import", "import.title", ctx);
        return;
    }
    /* The mapping step's selects are named map_<n>, with the column in col_<n>. */
    json_t *mapping = NULL;
    for (int i = 0; i < 500; i++) {
        const char *col = http_form(r, arena_printf(&r->arena, "col_%d", i));
        const char *field = http_form(r, arena_printf(&r->arena, "map_%d", i));
        if (!col) {
            break;
        }
        if (!mapping) {
            mapping = json_object();
        }
        json_object_set_new(mapping, col, field && *field ? json_string(field) : json_null());
    }
    struct db *db = db_or_reply(r);
    if (!db) {
        json_decref(mapping);
        return;
    }
    json_t *result = NULL;
    int rc = import_children(db, r->actor, data, len, mapping, !real,
                             flag(http_form(r, "skip_invalid")), &result, &e);
    json_decref(mapping);
    json_t *ctx = json_pack("{s:s}", "token", token);
    if (result) {
        localize_result(r, result);
        json_t *cols = json_object_get(result, "columns");
        size_t i;
        json_t *c;
        json_array_foreach(cols, i, c)
        {
            json_object_set_new(c, "index", json_integer((json_int_t)i));
            json_object_set_new(c, "options",
                                field_options(r, json_string_value(json_object_get(c, "field"))));
        }
        char rows[24], valid[24], invalid[24], written[24];
        snprintf(rows, sizeof(rows), "%lld",
                 (long long)json_integer_value(json_object_get(result, "rows")));
        snprintf(valid, sizeof(valid), "%lld",
                 (long long)json_integer_value(json_object_get(result, "valid")));
        snprintf(invalid, sizeof(invalid), "%lld",
                 (long long)json_integer_value(json_object_get(result, "invalid")));
        snprintf(written, sizeof(written), "%lld",
                 (long long)json_integer_value(json_object_get(result, "written")));
        json_object_set_new(ctx, "summary",
                            json_string(i18n_format(&r->arena, r->lang, "import.summary", "rows",
                                                    rows, "valid", valid, "invalid", invalid,
                                                    NULL)));
        json_object_set_new(ctx, "done_text",
                            json_string(i18n_format(&r->arena, r->lang, "import.done", "written",
                                                    written, NULL)));
        json_object_set_new(ctx, "result", result);
    }
    if (rc < 0) {
        page_ctx_error(r, ctx, &e);
    } else if (real) {
        unlink(stash_path(r, token));
        json_object_set_new(ctx, "done", json_true());
    }
    json_object_set_new(ctx, "can_import",
                        json_boolean(rc == 0 && !real && result &&
                                     json_integer_value(json_object_get(result, "valid")) > 0));
    page_reply(r, rc < 0 ? http_status_of(e.kind) : 200, "children_import", "import.title", ctx);
}

/* GET /children/import */
static void page_import(struct http_req *r)
{
    page_reply(r, 200, "children_import", "import.title", json_object());
}

/* POST /children/import: an upload (stashed, then dry run), a new dry run with
 * the mapping ("token" and action=check) or the import (action=import). */
static void page_import_post(struct http_req *r)
{
    const char *token = http_form(r, "token");
    const char *action = http_form(r, "action");
    if (token && *token) {
        import_run(r, token, action && strcmp(action, "import") == 0);
        return;
    }
    struct err e;
    err_clear(&e);
    const struct http_upload *up = http_upload(r, "file");
    if (!up || up->len == 0) {
        err_set(&e, ERR_INVALID, "required", "file", "'file' is required");
        json_t *ctx = json_object();
        page_ctx_error(r, ctx, &e);
        page_reply(r, 422, "children_import", "import.title", ctx);
        return;
    }
    char fresh[65];
    if (stash_put(r, up->data, up->len, fresh, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    import_run(r, fresh, false);
}

static const struct route routes[] = {
    {"POST", "/api/v1/children/import", api_import, ROUTE_API, PERM_CHILDREN_WRITE},
    {"GET", "/api/v1/children/export", export_reply, ROUTE_API, PERM_CHILDREN_READ},
    {"GET", "/children/export", export_reply, ROUTE_PAGE, PERM_CHILDREN_READ},
    {"GET", "/children/import", page_import, ROUTE_PAGE, PERM_CHILDREN_WRITE},
    {"POST", "/children/import", page_import_post, ROUTE_PAGE, PERM_CHILDREN_WRITE},
};

void children_import_register(void)
{
    http_routes_add(routes, sizeof(routes) / sizeof(routes[0]));
}
