/*
 * tmpl.h: HTML templates that escape by default. Templates live in
 * assets/templates/NAME.html, are compiled once at start-up (a malformed one
 * stops start-up with its file and line named) and render a jansson value.
 *
 * Syntax (Mustache-like):
 *   {{name}} / {{a.b.c}}   value, HTML-escaped (strings, numbers, true/false);
 *                          a numeric part indexes an array: {{#items.0}} is
 *                          "items has a first element"
 *   {{.}}                  the current item inside a section
 *   {{#name}}...{{/name}}  section: once if truthy object/true/non-empty string/
 *                          non-zero number, once per element of a non-empty array
 *                          (with that element as the current context)
 *   {{^name}}...{{/name}}  inverted: once if missing/false/null/empty
 *   {{t key.name}}         the catalog text for key in the render language, escaped
 *   {{> other}}            includes templates/other.html with the current context
 *   {{{name}}}             RAW, unescaped: only for HTML built by templates
 *                          (the layout's content); every use is commented
 *   {{! comment }}
 * Name lookup walks outward through the enclosing section contexts; the
 * root context also holds "lang" and "dir" ("rtl"/"ltr"), set by tmpl_render.
 */
#ifndef SANAD_WEB_TMPL_H
#define SANAD_WEB_TMPL_H

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

/* Compiles every embedded template. Returns 0, or -1 with e naming the file
 * and line of the first error. Call once before serving; not thread-safe. */
int tmpl_init(struct err *e);
/* Frees the compiled templates. */
void tmpl_shutdown(void);
/* Compiles template text (for tests and fuzzing) under name, replacing any
 * template of that name. Returns 0 or -1 with file:line in e. */
int tmpl_compile(const char *name, const char *text, size_t len, struct err *e);
/* Renders template name with ctx (borrowed; "lang" and "dir" are added to a
 * copy) in language lang, appending to out. Returns 0, or -1 for an unknown
 * template. Thread-safe after tmpl_init. */
int tmpl_render(const char *name, json_t *ctx, const char *lang, struct buf *out, struct err *e);
/* Appends s HTML-escaped (& < > " ' and `). */
void html_escape(struct buf *out, const char *s);

#endif
