/*
 * documents.h: photos and documents attached to a child's record.
 *
 * An upload is accepted only when its bytes (never its name or the client's
 * Content-Type) show a JPEG, PNG, WebP or PDF file within the size limit.
 * Photos lose their metadata before they are stored (JPEG APP1/APP13 and
 * comments, PNG text and eXIf chunks, WebP EXIF and XMP chunks), so that
 * where a picture was taken does not travel with it. Files live outside the
 * database in DATA/uploads/<2 hex>/<32 random hex> (mode 0600, written to a
 * temporary name, synced, then renamed); child_documents keeps the metadata.
 * Every download and every change is written to the audit log.
 */
#ifndef SANAD_CHILDREN_DOCUMENTS_H
#define SANAD_CHILDREN_DOCUMENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "auth/auth.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "db/db.h"

/* The kinds of document a child's record holds. */
#define DOCUMENT_KINDS                                                                            \
    " photo birth_certificate death_certificate identity school medical other "

/* File types accepted, found from the bytes. */
enum doc_type {
    DOC_UNKNOWN = 0, /* anything else: refused */
    DOC_JPEG,        /* image/jpeg */
    DOC_PNG,         /* image/png */
    DOC_WEBP,        /* image/webp */
    DOC_PDF          /* application/pdf */
};

/* The type of the n bytes at p from their magic bytes; DOC_UNKNOWN for
 * anything else (executables, HTML, SVG, empty input). */
enum doc_type doc_sniff(const unsigned char *p, size_t n);
/* The media type of t ("image/jpeg", ...), or NULL for DOC_UNKNOWN. */
const char *doc_media_type(enum doc_type t);

/* Copies a JPEG to out without its APP1 (Exif, XMP), APP13 (IPTC), COM and
 * APP2 multi-picture segments, and without anything after the end of the
 * image. Walks every marker; a truncated or malformed file gives -1 with e
 * (ERR_INVALID, field "file"). out is appended to (the caller owns it). */
int doc_strip_jpeg(const unsigned char *p, size_t n, struct buf *out, struct err *e);
/* Copies a PNG to out without its eXIf, tEXt, zTXt and iTXt chunks; kept
 * chunks keep their CRCs. Every length and CRC is checked; -1 with e for a
 * truncated or malformed file. */
int doc_strip_png(const unsigned char *p, size_t n, struct buf *out, struct err *e);
/* Copies a WebP to out without its EXIF and XMP chunks, with the RIFF size
 * and the VP8X flags made to match. -1 with e for a truncated or malformed file. */
int doc_strip_webp(const unsigned char *p, size_t n, struct buf *out, struct err *e);

/* Checks an upload (not empty, at most max bytes, a known type by content,
 * well-formed) and appends the bytes to store to out (images stripped, PDFs
 * as they are). Returns the type, or DOC_UNKNOWN with e (ERR_INVALID or
 * ERR_LIMIT, field "file") naming the problem. */
enum doc_type doc_prepare(const unsigned char *p, size_t n, size_t max, struct buf *out,
                          struct err *e);

/* The client's file name made safe to show: the last path component,
 * without control or bidirectional-override characters, at most 120
 * characters; "document" when nothing is left or it is not UTF-8.
 * Allocated in a. */
char *doc_display_name(struct arena *a, const char *filename);

/* Writes n bytes under data_dir/uploads as a new random file (0600, temp
 * name, fsync, rename, fsync of the folder). Writes "<2 hex>/<32 hex>" to
 * stored_out. Returns 0, or -1 with e naming the file. */
int doc_write_file(const char *data_dir, const unsigned char *p, size_t n, char stored_out[40],
                   struct err *e);
/* Reads the stored file named stored ("<2 hex>/<32 hex>", checked) into out. */
int doc_read_file(const char *data_dir, const char *stored, struct buf *out, struct err *e);

/* Adds a document to a child of a's organization: checks kind (one of
 * DOCUMENT_KINDS), the permissions (children.write; children.health for
 * medical documents) and the file (doc_prepare with g_config.upload_max),
 * stores the file and writes the row and the audit entry (document.upload)
 * in one transaction; the file is removed again when that fails. Returns 0
 * with the new id, or -1 with e. */
int document_add(struct db *db, const struct actor *a, const char *child_id, const char *kind,
                 const char *filename, const unsigned char *data, size_t n, char id_out[40],
                 struct err *e);
/* The live documents of a child (medical ones only with children.health) as
 * a JSON array (new reference) of {id, kind, filename, content_type, size,
 * sha256, uploaded_at, uploaded_by}; NULL with e (ERR_NOT_FOUND for another
 * organization's child). Runs inside the caller's transaction. */
json_t *document_list(struct db *db, const struct actor *a, const char *child_id, struct err *e);

/* A document read for download. */
struct doc_file {
    struct buf data;          /* the file's bytes */
    char content_type[32];    /* its media type */
    char filename[512];       /* the display name */
    char kind[32];            /* its kind */
};
/* Reads document doc_id of child child_id (NULL: any child of the
 * organization) into out (initialised here; the caller releases out->data)
 * and audits the view (document.view) in the same transaction. ERR_NOT_FOUND
 * for another organization's, a deleted or an unknown document;
 * ERR_FORBIDDEN for a medical document without children.health. */
int document_open(struct db *db, const struct actor *a, const char *child_id, const char *doc_id,
                  struct doc_file *out, struct err *e);
/* Marks a document deleted, audits it (document.delete) and removes its file. */
int document_delete(struct db *db, const struct actor *a, const char *doc_id, struct err *e);

/* Registers the document routes (API and pages). */
void children_documents_register(void);

#endif
