/*
 * svg.c: the chart writers. Geometry is computed in logical coordinates
 * (distance from the inline start) and mirrored for right-to-left pages;
 * the <svg> then carries direction="rtl" so text anchors mirror too.
 */
#include "web/svg.h"

#include <math.h>
#include <string.h>

#include "core/text.h"
#include "web/html.h"
#include "web/tmpl.h"
#include "core/banned.h"

/* Width of every chart's coordinate system. */
#define CHART_W 640.0
/* Bar chart: label column, value column, row and bar heights. */
#define BAR_LABEL_W 200.0
#define BAR_VALUE_W 96.0
#define BAR_ROW_H 30.0
#define BAR_H 20.0
/* Longest label drawn in full, in code points. */
#define LABEL_MAX 22
/* Line chart: height, margins, and the most x labels drawn. */
#define LINE_H 260.0
#define LINE_PAD_START 16.0
#define LINE_PAD_END 16.0
#define LINE_PAD_TOP 28.0
#define LINE_PAD_BOTTOM 44.0
#define LINE_MAX_LABELS 12

/* The value of p, with NaN and infinities as 0. */
static double point_value(const struct svg_point *p)
{
    return isfinite(p->value) ? p->value : 0.0;
}

/* Physical x of logical position u. */
static double phys_x(double u, bool rtl)
{
    return rtl ? CHART_W - u : u;
}

/* Labels take the direction of their first strong letter (FSI ... PDI);
 * drawn values start with a LEFT-TO-RIGHT MARK so "-20" never shows as "20-"
 * in a right-to-left chart. */
#define LRM "\xe2\x80\x8e"
#define FSI "\xe2\x81\xa8"
#define PDI "\xe2\x81\xa9"

/* Appends the text of p's value, escaped. */
static void add_value_text(struct buf *out, const struct svg_point *p)
{
    if (p->value_text) {
        html_escape(out, p->value_text);
        return;
    }
    double v = point_value(p);
    if (v == floor(v) && fabs(v) < 1e15) {
        buf_addf(out, "%.0f", v);
    } else {
        buf_addf(out, "%.2f", v);
    }
}

/* Appends label escaped, shortened to LABEL_MAX code points with "…". */
static void add_short_label(struct buf *out, const char *label)
{
    size_t n = strlen(label);
    if (!utf8_valid(label, n) || utf8_length(label, n) <= LABEL_MAX) {
        html_escape_n(out, label, n);
        return;
    }
    size_t cut = 0, cps = 0;
    while (cut < n && cps < LABEL_MAX - 1) {
        cut++;
        while (cut < n && ((unsigned char)label[cut] & 0xc0) == 0x80) {
            cut++;
        }
        cps++;
    }
    html_escape_n(out, label, cut);
    buf_adds(out, "\xe2\x80\xa6");
}

/* Appends the opening <svg> with its <title>, sized width x height. */
static void open_svg(struct buf *out, const char *kind, const char *title, double height, bool rtl)
{
    buf_addf(out,
             "<svg class=\"chart chart-%s\" xmlns=\"http://www.w3.org/2000/svg\" "
             "viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\" "
             "direction=\"%s\" font-size=\"14\">",
             kind, CHART_W, height, CHART_W, height, rtl ? "rtl" : "ltr");
    buf_adds(out, "<title>");
    html_escape(out, title ? title : "");
    buf_adds(out, "</title>");
}

/* The lowest and highest values of pts, widened to include 0 and never equal. */
static void value_range(const struct svg_point *pts, size_t n, double *lo, double *hi)
{
    *lo = 0.0;
    *hi = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = point_value(&pts[i]);
        if (v < *lo) {
            *lo = v;
        }
        if (v > *hi) {
            *hi = v;
        }
    }
    if (*hi - *lo <= 0.0 || !isfinite(*hi - *lo)) {
        *hi = *lo + 1.0;
    }
}

/* Appends "label: value" for a <title>. */
static void add_point_title(struct buf *out, const struct svg_point *p)
{
    buf_adds(out, "<title>");
    html_escape(out, p->label ? p->label : "");
    buf_adds(out, ": ");
    add_value_text(out, p);
    buf_adds(out, "</title>");
}

void svg_bar_chart(struct buf *out, const char *title, const struct svg_point *pts, size_t n,
                   bool rtl)
{
    double height = BAR_ROW_H * (double)n + 10.0;
    open_svg(out, "bar", title, height, rtl);
    double lo, hi;
    value_range(pts, n, &lo, &hi);
    double bar_start = BAR_LABEL_W + 8.0;
    double bar_w = CHART_W - bar_start - BAR_VALUE_W;
    double span = hi - lo;
    double zero_u = bar_start + (0.0 - lo) / span * bar_w;
    for (size_t i = 0; i < n; i++) {
        const struct svg_point *p = &pts[i];
        double v = point_value(p);
        double y = 5.0 + BAR_ROW_H * (double)i;
        double end_u = bar_start + (v - lo) / span * bar_w;
        double u0 = v < 0 ? end_u : zero_u, u1 = v < 0 ? zero_u : end_u;
        double x = rtl ? phys_x(u1, rtl) : u0;
        buf_adds(out, "<g class=\"chart-row\">");
        add_point_title(out, p);
        buf_addf(out, "<text class=\"chart-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                 "dominant-baseline=\"middle\" fill=\"#1b1f24\">",
                 phys_x(BAR_LABEL_W, rtl), y + BAR_H / 2);
        buf_adds(out, FSI);
        add_short_label(out, p->label ? p->label : "");
        buf_adds(out, PDI "</text>");
        buf_addf(out, "<rect class=\"chart-bar%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                 "height=\"%.1f\" fill=\"%s\"/>",
                 v < 0 ? " chart-bar-negative" : "", x, y, u1 - u0, BAR_H,
                 v < 0 ? "#9b1c1c" : "#0d5c4a");
        /* the number sits just past the bar's far end (or the zero line) */
        double text_u = (v < 0 ? zero_u : end_u) + 6.0;
        buf_addf(out, "<text class=\"chart-value\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"start\" "
                 "dominant-baseline=\"middle\" fill=\"#1b1f24\">",
                 phys_x(text_u, rtl), y + BAR_H / 2);
        buf_adds(out, LRM);
        add_value_text(out, p);
        buf_adds(out, "</text></g>");
    }
    buf_adds(out, "</svg>");
}

void svg_line_chart(struct buf *out, const char *title, const struct svg_point *pts, size_t n,
                    bool rtl)
{
    open_svg(out, "line", title, LINE_H, rtl);
    double lo, hi;
    value_range(pts, n, &lo, &hi);
    double plot_w = CHART_W - LINE_PAD_START - LINE_PAD_END;
    double plot_h = LINE_H - LINE_PAD_TOP - LINE_PAD_BOTTOM;
    double base_y = LINE_PAD_TOP + hi / (hi - lo) * plot_h; /* the zero line */
    buf_addf(out, "<line class=\"chart-axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
             "stroke=\"#6b7684\"/>",
             phys_x(LINE_PAD_START, rtl), base_y, phys_x(CHART_W - LINE_PAD_END, rtl), base_y);
    size_t every = n > LINE_MAX_LABELS ? (n + LINE_MAX_LABELS - 1) / LINE_MAX_LABELS : 1;
    if (n > 1) {
        buf_adds(out, "<polyline class=\"chart-line\" fill=\"none\" stroke=\"#0d5c4a\" "
                      "stroke-width=\"2.5\" points=\"");
        for (size_t i = 0; i < n; i++) {
            double u = LINE_PAD_START + plot_w * (double)i / (double)(n - 1);
            double y = LINE_PAD_TOP + (hi - point_value(&pts[i])) / (hi - lo) * plot_h;
            buf_addf(out, "%s%.1f,%.1f", i ? " " : "", phys_x(u, rtl), y);
        }
        buf_adds(out, "\"/>");
    }
    for (size_t i = 0; i < n; i++) {
        const struct svg_point *p = &pts[i];
        double u = n > 1 ? LINE_PAD_START + plot_w * (double)i / (double)(n - 1)
                         : LINE_PAD_START + plot_w / 2;
        double x = phys_x(u, rtl);
        double y = LINE_PAD_TOP + (hi - point_value(p)) / (hi - lo) * plot_h;
        /* the first and last values lean inward so they stay inside the box */
        const char *anchor = n > 1 && i == 0 ? "start" : (n > 1 && i == n - 1 ? "end" : "middle");
        buf_adds(out, "<g class=\"chart-point-group\">");
        add_point_title(out, p);
        buf_addf(out, "<circle class=\"chart-point\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" "
                 "fill=\"#0d5c4a\"/>", x, y);
        buf_addf(out, "<text class=\"chart-value\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" "
                 "fill=\"#1b1f24\">", x, y - 10.0, anchor);
        buf_adds(out, LRM);
        add_value_text(out, p);
        buf_adds(out, "</text>");
        if (i % every == 0 || i == n - 1) {
            buf_addf(out, "<text class=\"chart-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" "
                     "fill=\"#1b1f24\">", x, LINE_H - LINE_PAD_BOTTOM / 2 + 4.0, anchor);
            buf_adds(out, FSI);
            add_short_label(out, p->label ? p->label : "");
            buf_adds(out, PDI "</text>");
        }
        buf_adds(out, "</g>");
    }
    buf_adds(out, "</svg>");
}
