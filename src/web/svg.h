/*
 * svg.h: small charts drawn on the server as inline SVG: a horizontal bar
 * chart and a line chart. No script, no inline style (classes and
 * presentation attributes only, themed by app.css), every label escaped,
 * mirrored for right-to-left pages, with a <title> naming the chart (its
 * accessible name) and each value written beside its bar or point, so the
 * chart reads without colour and prints.
 */
#ifndef SANAD_WEB_SVG_H
#define SANAD_WEB_SVG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* One bar or point. */
struct svg_point {
    const char *label;      /* category or x label, any UTF-8 (escaped); NULL is "" */
    double value;           /* the number; NaN and infinities are drawn as 0 */
    const char *value_text; /* the value as shown (e.g. formatted money); NULL: the number */
};

/* Appends a horizontal bar chart of n points titled title (escaped), bars
 * growing from the inline start (right when rtl). Negative values grow the
 * other way from a zero line. Labels longer than 22 characters are shortened
 * with "…" on the drawing; the whole label stays in each bar's <title>. */
void svg_bar_chart(struct buf *out, const char *title, const struct svg_point *pts, size_t n,
                   bool rtl);
/* Appends a line chart of n points in order, the first at the inline start
 * (right when rtl), each point labelled with its value. With more than 12
 * points only every k-th x label is drawn; every point keeps a <title>. */
void svg_line_chart(struct buf *out, const char *title, const struct svg_point *pts, size_t n,
                    bool rtl);

#endif
