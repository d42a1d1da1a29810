/*
 * html.h: HTML escaping shared by the template engine and the SVG writer.
 * html_escape itself is declared in web/tmpl.h (the public contract).
 */
#ifndef SANAD_WEB_HTML_H
#define SANAD_WEB_HTML_H

#include <stddef.h>

#include "core/buf.h"

/* Appends s[0..n) HTML-escaped: & < > " ' and ` become character references,
 * well-formed UTF-8 is copied as is, and each byte of an ill-formed sequence,
 * a NUL or another C0 control other than tab, LF, FF and CR becomes U+FFFD,
 * so the output is always valid UTF-8 that is safe in text and in quoted
 * attribute values (HTML and XML alike). */
void html_escape_n(struct buf *out, const char *s, size_t n);

#endif
