/*
 * documents_web.c: the routes of a child's photos and documents: the JSON
 * API (list, upload, delete), the documents page with its upload form, and
 * the access-checked download.
 */
#include <string.h>

#include "auth/authz.h"
#include "children/documents.h"
#include "web/i18n.h"
#include "web/page.h"
#include "core/banned.h"

/* The documents of child id as JSON (read-only transaction), or NULL with e. */
static json_t *list_docs(struct db *db, struct http_req *r, const char *id, struct err *e)
{
    if (db_begin(db, true, e) < 0) {
        return NULL;
    }
    json_t *items = document_list(db, r->actor, id, e);
    db_rollback(db);
    return items;
}

/* Stores the upload of a multipart request for child id. Returns 0 with the
 * new id, or -1 with e naming the field at fault. */
static int add_from_request(struct http_req *r, struct db *db, const char *id, char doc_id[40],
                            struct err *e)
{
    if (strcmp(r->content_type, "multipart/form-data") != 0) {
        return err_set(e, ERR_INVALID, "unsupported_media_type", "file",
                       "the upload must be sent as 'multipart/form-data'");
    }
    const struct http_upload *u = http_upload(r, "file");
    if (!u) {
        return err_set(e, ERR_INVALID, "required", "file", "'file' is required");
    }
    return document_add(db, r->actor, id, http_form(r, "kind"), u->filename, u->data, u->len,
                        doc_id, e);
}

/* GET /api/v1/children/{id}/documents */
static void api_list(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *items = list_docs(db, r, r->params[0], &e);
    if (!items) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 200, json_pack("{s:o}", "items", items));
}

/* POST /api/v1/children/{id}/documents (multipart: file, kind) */
static void api_upload(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    char doc_id[40];
    if (add_from_request(r, db, r->params[0], doc_id, &e) < 0) {
        if (strcmp(e.code, "unsupported_media_type") == 0) {
            http_reply_problem(r, 415, e.code, e.field, e.msg, NULL);
        } else {
            http_reply_err(r, &e);
        }
        return;
    }
    const char *url = arena_printf(&r->arena, "/children/%s/documents/%s", r->params[0], doc_id);
    http_add_header(r, "Location", url);
    http_reply_json(r, 201, json_pack("{s:s, s:s}", "id", doc_id, "url", url));
}

/* DELETE /api/v1/documents/{id} */
static void api_delete(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (document_delete(db, r->actor, r->params[0], &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_reply(r, 204, NULL, NULL, 0);
}

/* The kinds offered by the form, with their labels and which one is chosen. */
static json_t *kind_options(struct http_req *r, const char *chosen)
{
    json_t *arr = json_array();
    const char *p = DOCUMENT_KINDS;
    while (*p) {
        while (*p == ' ') {
            p++;
        }
        size_t n = strcspn(p, " ");
        if (n == 0) {
            break;
        }
        char kind[32];
        snprintf(kind, sizeof(kind), "%.*s", (int)n, p);
        p += n;
        if (strcmp(kind, "medical") == 0 && !actor_can(r->actor, PERM_CHILDREN_HEALTH)) {
            continue;
        }
        char key[64];
        snprintf(key, sizeof(key), "doc.kind.%s", kind);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:b}", "value", kind, "label",
                                             i18n_get(r->lang, key), "selected",
                                             chosen && strcmp(chosen, kind) == 0));
    }
    return arr;
}

/* Renders the documents page of child id with status (and e's message when set). */
static void render_page(struct http_req *r, struct db *db, int status, const struct err *failed)
{
    struct err e;
    err_clear(&e);
    json_t *items = list_docs(db, r, r->params[0], &e);
    if (!items) {
        http_reply_err(r, &e);
        return;
    }
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        char key[64];
        snprintf(key, sizeof(key), "doc.kind.%s", json_string_value(json_object_get(it, "kind")));
        json_object_set_new(it, "kind_label", json_string(i18n_get(r->lang, key)));
    }
    json_t *ctx = json_pack("{s:s, s:o, s:b, s:o}", "child_id", r->params[0], "items", items,
                            "can_write", actor_can(r->actor, PERM_CHILDREN_WRITE), "kinds",
                            kind_options(r, failed ? http_form(r, "kind") : NULL));
    if (failed) {
        page_ctx_error(r, ctx, failed);
    }
    page_reply(r, status, "child_documents", "documents.title", ctx);
}

/* GET /children/{id}/documents */
static void page_list(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (db) {
        render_page(r, db, 200, NULL);
    }
}

/* POST /children/{id}/documents (form with csrf, file, kind) */
static void page_upload(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    char doc_id[40];
    if (add_from_request(r, db, r->params[0], doc_id, &e) < 0) {
        if (e.kind == ERR_INVALID || e.kind == ERR_LIMIT) {
            render_page(r, db, e.kind == ERR_LIMIT ? 413 : 422, &e);
        } else {
            http_reply_err(r, &e);
        }
        return;
    }
    http_redirect(r, arena_printf(&r->arena, "/children/%s/documents", r->params[0]));
}

/* POST /children/{id}/documents/{doc}/delete (form with csrf) */
static void page_delete(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    if (document_delete(db, r->actor, r->params[1], &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    http_redirect(r, arena_printf(&r->arena, "/children/%s/documents", r->params[0]));
}

/* GET /children/{id}/documents/{doc}: the file itself, audited. */
static void page_download(struct http_req *r)
{
    struct db *db = db_or_reply(r);
    if (!db) {
        return;
    }
    struct err e;
    err_clear(&e);
    struct doc_file f;
    if (document_open(db, r->actor, r->params[0], r->params[1], &f, &e) < 0) {
        http_reply_err(r, &e);
        return;
    }
    bool pdf = strcmp(f.content_type, "application/pdf") == 0;
    const char *ext = pdf ? "pdf"
                      : strcmp(f.content_type, "image/png") == 0  ? "png"
                      : strcmp(f.content_type, "image/webp") == 0 ? "webp"
                                                                   : "jpg";
    struct buf cd = BUF_INIT;
    /* An ASCII fallback name for old clients, the real one encoded beside it. */
    buf_addf(&cd, "%s; filename=\"document.%s\"; filename*=UTF-8''",
             pdf ? "attachment" : "inline", ext);
    page_add_pct(&cd, f.filename);
    http_add_header(r, "Content-Disposition", cd.buf);
    buf_release(&cd);
    http_reply(r, 200, f.content_type, f.data.buf, f.data.len);
    buf_release(&f.data);
}

static const struct route routes[] = {
    {"GET", "/api/v1/children/{id}/documents", api_list, ROUTE_API, PERM_CHILDREN_READ},
    {"POST", "/api/v1/children/{id}/documents", api_upload, ROUTE_API, PERM_CHILDREN_WRITE},
    {"DELETE", "/api/v1/documents/{id}", api_delete, ROUTE_API, PERM_CHILDREN_WRITE},
    {"GET", "/children/{id}/documents", page_list, ROUTE_PAGE, PERM_CHILDREN_READ},
    {"POST", "/children/{id}/documents", page_upload, ROUTE_PAGE, PERM_CHILDREN_WRITE},
    {"GET", "/children/{id}/documents/{doc}", page_download, ROUTE_PAGE, PERM_CHILDREN_READ},
    {"POST", "/children/{id}/documents/{doc}/delete", page_delete, ROUTE_PAGE,
     PERM_CHILDREN_WRITE},
};

void children_documents_register(void)
{
    http_routes_add(routes, sizeof(routes) / sizeof(routes[0]));
}
