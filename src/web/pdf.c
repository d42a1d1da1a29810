/*
 * pdf.c: small A4 documents with pango and cairo (see pdf.h).
 *
 * Each page is drawn into a cairo recording surface while the document is
 * built; pdf_finish replays the pages into a PDF surface and adds the
 * watermark and the footer ("page 2 of 3" needs the count), so nothing is
 * written twice and a document can be finished more than once.
 *
 * Units inside are PostScript points (1/72 inch); the pango contexts are
 * set to 72 dpi so that a font size in points is a size in user units.
 *
 * Fonts: every text is split into runs of Arabic script, which get
 * "Amiri", and the rest, which gets "DejaVu Sans" (each falls back on the
 * other for characters it lacks), so that Arabic is set in a proper naskh
 * face and Latin and digits in a clear sans face in both languages.
 */
#include "web/pdf.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "core/xalloc.h"

#include "core/text.h"
#include "core/banned.h"

#define PT_PER_MM (72.0 / 25.4)
#define PAGE_W 595.2756 /* A4 width in points */
#define PAGE_H 841.8898 /* A4 height in points */
#define MARGIN_X (18.0 * PT_PER_MM)
#define MARGIN_TOP (18.0 * PT_PER_MM)
#define MARGIN_BOTTOM (22.0 * PT_PER_MM) /* the footer sits inside it */
#define FOOTER_Y (PAGE_H - 14.0 * PT_PER_MM)
#define CONTENT_W (PAGE_W - 2 * MARGIN_X)
#define CONTENT_BOTTOM (PAGE_H - MARGIN_BOTTOM)
#define CELL_PAD (1.6 * PT_PER_MM)

#define SIZE_BODY 10.0
#define SIZE_SMALL 8.0
#define SIZE_TABLE 9.0 /* cells of a table with columns (key-value rows use SIZE_BODY) */
#define SIZE_LARGE 14.0
#define SIZE_HEADING 12.5
#define SIZE_TITLE 17.0
#define SIZE_WATERMARK 64.0

/* Images bigger than this (pixels) are refused: a JPEG's surface is
 * allocated (never drawn) at full size. */
#define IMAGE_MAX_SIDE 12000
#define IMAGE_MAX_PIXELS (40L * 1000 * 1000)

/* What pdf_init found, written once under pthread_once. */
static struct {
    pthread_once_t once; /* guards the one check */
    int ok;              /* 1 when at least one font was found */
    int has_amiri;       /* "Amiri" is installed */
    int has_dejavu;      /* "DejaVu Sans" is installed */
    char msg[256];       /* the failure, when ok == 0 */
} fonts = {PTHREAD_ONCE_INIT, 0, 0, 0, ""};

struct pdf_doc {
    int rtl;                 /* 1 for an Arabic (right-to-left) document */
    char *title;             /* metadata title or NULL */
    char *footer_text;       /* footer at the start side or NULL */
    char *page_fmt;          /* "{n} / {total}" or the caller's */
    char *watermark;         /* text over every page or NULL */
    cairo_surface_t **pages; /* recording surface per page */
    int n_pages;             /* pages in use */
    int cap_pages;           /* room in pages */
    cairo_t *cr;             /* drawing on the last page */
    PangoFontMap *fontmap;   /* borrowed from the pool until pdf_free */
    PangoContext *ctx_ltr;   /* context with a left-to-right base */
    PangoContext *ctx_rtl;   /* context with a right-to-left base */
    double y;                /* the cursor: top of the next block, in points */
    int page_empty;          /* nothing drawn on the last page yet */
    struct err err;          /* the first error a block kept */
};

/* LeakSanitizer's built-in suppressions (it calls this hook when the
 * program defines it; unused outside sanitizer builds). Fontconfig keeps a
 * pattern's elements as an offset from the pattern rather than a pointer,
 * so the patterns pango caches look unreachable to LeakSanitizer though
 * they are not lost; the same holds for what pango's fontconfig backend
 * keeps of them. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n"
           "leak:libpangoft2-1.0.so\n";
}

/* Font maps not in use, for the next document. A pango font map must not be
 * used by two threads at once, and making one is costly (it loads the font
 * list), so each document borrows one from this pool and gives it back.
 * Kept in a global (not in pango's per-thread default) so that they are
 * reachable until exit: LeakSanitizer then does not take pango's and
 * fontconfig's caches for leaks. */
#define POOL_MAX 64
static struct {
    pthread_mutex_t lock;         /* guards the rest */
    PangoFontMap *maps[POOL_MAX]; /* idle font maps */
    int n;                        /* how many */
} pool = {PTHREAD_MUTEX_INITIALIZER, {NULL}, 0};

/* Borrows a font map (a new one when none is idle). */
static PangoFontMap *fontmap_take(void)
{
    PangoFontMap *m = NULL;
    pthread_mutex_lock(&pool.lock);
    if (pool.n > 0) {
        m = pool.maps[--pool.n];
    }
    pthread_mutex_unlock(&pool.lock);
    return m ? m : pango_cairo_font_map_new();
}

/* Gives a font map back (dropped when the pool is full). */
static void fontmap_give(PangoFontMap *m)
{
    pthread_mutex_lock(&pool.lock);
    if (pool.n < POOL_MAX) {
        pool.maps[pool.n++] = m;
        m = NULL;
    }
    pthread_mutex_unlock(&pool.lock);
    if (m) {
        g_object_unref(m);
    }
}

/* The one-time check behind pdf_init: lists the font families that pango
 * finds through fontconfig. Done under pthread_once because older
 * fontconfig releases raced when first initialized from several threads;
 * the font map made here becomes the pool's first. */
static void fonts_check(void)
{
    PangoFontMap *map = pango_cairo_font_map_new();
    PangoFontFamily **families = NULL;
    int n = 0;
    pango_font_map_list_families(map, &families, &n);
    for (int i = 0; i < n; i++) {
        const char *name = pango_font_family_get_name(families[i]);
        if (strcasecmp(name, "Amiri") == 0) {
            fonts.has_amiri = 1;
        } else if (strcasecmp(name, "DejaVu Sans") == 0) {
            fonts.has_dejavu = 1;
        }
    }
    g_free(families);
    fontmap_give(map);
    if (!fonts.has_amiri && !fonts.has_dejavu) {
        snprintf(fonts.msg, sizeof fonts.msg,
                 "no font for PDF documents: install fonts-hosny-amiri (Arabic) and "
                 "fonts-dejavu-core (Latin)");
        return;
    }
    fonts.ok = 1;
}

int pdf_init(struct err *e)
{
    pthread_once(&fonts.once, fonts_check);
    if (!fonts.ok) {
        return err_set(e, ERR_UNAVAILABLE, "pdf_fonts_missing", "", "%s", fonts.msg);
    }
    return 0;
}

/* The family for Arabic runs and for the rest. */
static const char *family_arabic(void)
{
    return fonts.has_amiri ? "Amiri" : "DejaVu Sans";
}
static const char *family_latin(void)
{
    return fonts.has_dejavu ? "DejaVu Sans" : "Amiri";
}

/* Keeps the first error of the document. */
static void keep_error(struct pdf_doc *d, const struct err *e)
{
    if (d->err.kind == ERR_NONE && e && e->kind != ERR_NONE) {
        d->err = *e;
    }
}

/* A pango context for base direction dir, at 72 dpi, unhinted (the PDF is
 * scaled by the viewer, so hinting only distorts the spacing). */
static PangoContext *context_new(PangoFontMap *fontmap, PangoDirection dir, int rtl_doc)
{
    PangoContext *ctx = pango_font_map_create_context(fontmap);
    pango_cairo_context_set_resolution(ctx, 72.0);
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    pango_cairo_context_set_font_options(ctx, fo);
    cairo_font_options_destroy(fo);
    pango_context_set_round_glyph_positions(ctx, FALSE);
    pango_context_set_base_dir(ctx, dir);
    pango_context_set_language(ctx, pango_language_from_string(rtl_doc ? "ar" : "en"));
    return ctx;
}

/* Starts a new, empty page and points d->cr at it. */
static void page_add(struct pdf_doc *d)
{
    if (d->cr) {
        cairo_destroy(d->cr);
        d->cr = NULL;
    }
    if (d->n_pages == d->cap_pages) {
        d->cap_pages = d->cap_pages ? d->cap_pages * 2 : 4;
        d->pages = xrealloc(d->pages, xmul((size_t)d->cap_pages, sizeof *d->pages));
    }
    cairo_rectangle_t ext = {0, 0, PAGE_W, PAGE_H};
    cairo_surface_t *rec = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, &ext);
    d->pages[d->n_pages++] = rec;
    d->cr = cairo_create(rec);
    d->y = MARGIN_TOP;
    d->page_empty = 1;
}

struct pdf_doc *pdf_new(const char *lang, const char *title, struct err *e)
{
    if (pdf_init(e) < 0) {
        return NULL;
    }
    struct pdf_doc *d = xcalloc(1, sizeof *d);
    d->rtl = lang && strcmp(lang, "ar") == 0;
    d->title = title ? xstrdup(title) : NULL;
    d->page_fmt = xstrdup("{n} / {total}");
    d->fontmap = fontmap_take();
    d->ctx_ltr = context_new(d->fontmap, PANGO_DIRECTION_LTR, d->rtl);
    d->ctx_rtl = context_new(d->fontmap, PANGO_DIRECTION_RTL, d->rtl);
    err_clear(&d->err);
    page_add(d);
    return d;
}

void pdf_free(struct pdf_doc *d)
{
    if (!d) {
        return;
    }
    if (d->cr) {
        cairo_destroy(d->cr);
    }
    for (int i = 0; i < d->n_pages; i++) {
        cairo_surface_destroy(d->pages[i]);
    }
    free(d->pages);
    if (d->ctx_ltr) {
        g_object_unref(d->ctx_ltr);
    }
    if (d->ctx_rtl) {
        g_object_unref(d->ctx_rtl);
    }
    if (d->fontmap) {
        fontmap_give(d->fontmap);
    }
    free(d->title);
    free(d->footer_text);
    free(d->page_fmt);
    free(d->watermark);
    free(d);
}

/* Replaces *slot with a copy of s (NULL clears it). */
static void set_string(char **slot, const char *s)
{
    free(*slot);
    *slot = s ? xstrdup(s) : NULL;
}

void pdf_set_footer(struct pdf_doc *d, const char *text, const char *page_fmt)
{
    set_string(&d->footer_text, text);
    set_string(&d->page_fmt, page_fmt ? page_fmt : "{n} / {total}");
}

void pdf_set_watermark(struct pdf_doc *d, const char *text)
{
    set_string(&d->watermark, text);
}

int pdf_page_count(const struct pdf_doc *d)
{
    return d->n_pages;
}

/* Decodes the UTF-8 character at s[*i] (advancing *i) with utf8proc;
 * invalid bytes give U+FFFD and advance by one. */
static uint32_t utf8_next(const char *s, size_t len, size_t *i)
{
    utf8proc_int32_t c;
    utf8proc_ssize_t k =
        utf8proc_iterate((const utf8proc_uint8_t *)s + *i, (utf8proc_ssize_t)(len - *i), &c);
    if (k <= 0) {
        (*i)++;
        return 0xFFFD;
    }
    *i += (size_t)k;
    return (uint32_t)c;
}

/* True for characters that join the run around them (spaces, punctuation
 * that Arabic shares), so "محمد علي" stays one run in one font. */
static int is_joiner(uint32_t c)
{
    return c == ' ' || c == 0x00A0 || c == 0x200C || c == 0x200D || c == 0x200F || c == '-';
}

/* Adds a family attribute per run: Arabic runs get the Arabic face. */
static void add_script_fonts(PangoAttrList *attrs, const char *text, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t start = i;
        uint32_t c = utf8_next(text, len, &i);
        if (!text_is_arabic(c)) {
            continue;
        }
        size_t end = i;
        size_t j = i;
        while (j < len) {
            size_t at = j;
            uint32_t n = utf8_next(text, len, &j);
            if (text_is_arabic(n)) {
                end = j;
            } else if (!is_joiner(n)) {
                j = at;
                break;
            }
        }
        PangoAttribute *a = pango_attr_family_new(family_arabic());
        a->start_index = (guint)start;
        a->end_index = (guint)end;
        pango_attr_list_insert(attrs, a);
        i = end;
    }
}

/* How a block of text is set. */
struct text_style {
    double size;          /* points */
    int bold;             /* 1 for bold */
    enum pdf_align align; /* relative to the direction chosen below */
    int own_dir;          /* 1: the text's own direction rules alignment; 0: the document's */
};

/* The direction of text: from its first strong letter, else the
 * document's. */
static int text_is_rtl(const struct pdf_doc *d, const char *text)
{
    size_t len = strlen(text);
    size_t i = 0;
    while (i < len) {
        uint32_t c = utf8_next(text, len, &i);
        if ((c >= 0x0590 && c <= 0x08FF) || (c >= 0xFB1D && c <= 0xFDFF) ||
            (c >= 0xFE70 && c <= 0xFEFF)) {
            return 1;
        }
        if (c != 0xFFFD && g_unichar_isalpha(c)) {
            return 0;
        }
    }
    return d->rtl;
}

/* Makes a layout of text, width points wide (the caller unrefs it). */
static PangoLayout *layout_new(struct pdf_doc *d, const char *text, double width,
                               const struct text_style *st)
{
    if (!text) {
        text = "";
    }
    int rtl = text_is_rtl(d, text); /* utf8_next copes with bad bytes */
    PangoLayout *lay = pango_layout_new(rtl ? d->ctx_rtl : d->ctx_ltr);
    pango_layout_set_auto_dir(lay, FALSE);
    PangoFontDescription *fd = pango_font_description_new();
    char families[64];
    snprintf(families, sizeof families, "%s,%s", family_latin(), family_arabic());
    pango_font_description_set_family(fd, families);
    pango_font_description_set_size(fd, (gint)(st->size * PANGO_SCALE));
    pango_font_description_set_weight(fd, st->bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(lay, fd);
    pango_font_description_free(fd);
    pango_layout_set_width(lay, (int)(width * PANGO_SCALE));
    pango_layout_set_wrap(lay, PANGO_WRAP_WORD_CHAR);
    /* Physical side: START is the right edge for right-to-left (the
     * text's own direction, or the document's for table cells). */
    int side_rtl = st->own_dir ? rtl : d->rtl;
    PangoAlignment al = PANGO_ALIGN_CENTER;
    if (st->align == PDF_ALIGN_START) {
        al = side_rtl ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT;
    } else if (st->align == PDF_ALIGN_END) {
        al = side_rtl ? PANGO_ALIGN_LEFT : PANGO_ALIGN_RIGHT;
    }
    /* With auto_dir off, pango takes LEFT and RIGHT as physical sides. */
    pango_layout_set_alignment(lay, al);
    /* Pango refuses the whole text when a byte is wrong: replace the bad
     * bytes with U+FFFD instead, so the rest still shows. */
    char *valid = NULL;
    if (!g_utf8_validate(text, -1, NULL)) {
        valid = g_utf8_make_valid(text, -1);
        text = valid;
    }
    size_t len = strlen(text);
    PangoAttrList *attrs = pango_attr_list_new();
    add_script_fonts(attrs, text, len);
    pango_layout_set_attributes(lay, attrs);
    pango_attr_list_unref(attrs);
    pango_layout_set_text(lay, text, (int)len);
    g_free(valid);
    return lay;
}

/* The height of a layout in points. */
static double layout_height(PangoLayout *lay)
{
    int w = 0;
    int h = 0;
    pango_layout_get_size(lay, &w, &h);
    return (double)h / PANGO_SCALE;
}

/* Draws lay with its top-left corner at (x, y), in grey when muted. */
static void layout_draw(struct pdf_doc *d, PangoLayout *lay, double x, double y, int muted)
{
    cairo_save(d->cr);
    if (muted) {
        cairo_set_source_rgb(d->cr, 0.35, 0.35, 0.35);
    } else {
        cairo_set_source_rgb(d->cr, 0, 0, 0);
    }
    cairo_move_to(d->cr, x, y);
    pango_cairo_update_layout(d->cr, lay);
    pango_cairo_show_layout(d->cr, lay);
    cairo_restore(d->cr);
}

/* Makes room for a block h points high: a new page when it does not fit
 * (unless the page is still empty: a block taller than a page is drawn
 * anyway and runs over the margin). */
static void need(struct pdf_doc *d, double h)
{
    if (d->y + h > CONTENT_BOTTOM && !d->page_empty) {
        page_add(d);
    }
}

/* Lays out one block of text across the text width, after space_above
 * points (dropped at the top of a page). A block runs onto the next page
 * line by line when it does not fit. */
static void text_block(struct pdf_doc *d, const char *text, const struct text_style *st,
                       double space_above, int muted)
{
    PangoLayout *lay = layout_new(d, text, CONTENT_W, st);
    if (!d->page_empty) {
        d->y += space_above;
    }
    cairo_save(d->cr);
    cairo_set_source_rgb(d->cr, muted ? 0.35 : 0, muted ? 0.35 : 0, muted ? 0.35 : 0);
    pango_cairo_update_layout(d->cr, lay);
    double shift = d->y; /* the page y of the layout's top */
    double bottom;       /* the page y of the last line's foot */
    PangoLayoutIter *it = pango_layout_get_iter(lay);
    do {
        int y0 = 0;
        int y1 = 0;
        pango_layout_iter_get_line_yrange(it, &y0, &y1);
        if (shift + (double)y1 / PANGO_SCALE > CONTENT_BOTTOM && !d->page_empty) {
            cairo_restore(d->cr);
            page_add(d);
            cairo_save(d->cr);
            cairo_set_source_rgb(d->cr, muted ? 0.35 : 0, muted ? 0.35 : 0, muted ? 0.35 : 0);
            pango_cairo_update_layout(d->cr, lay);
            shift = d->y - (double)y0 / PANGO_SCALE;
        }
        PangoRectangle logical;
        pango_layout_iter_get_line_extents(it, NULL, &logical);
        int baseline = pango_layout_iter_get_baseline(it);
        cairo_move_to(d->cr, MARGIN_X + (double)logical.x / PANGO_SCALE,
                      shift + (double)baseline / PANGO_SCALE);
        pango_cairo_show_layout_line(d->cr, pango_layout_iter_get_line_readonly(it));
        bottom = shift + (double)y1 / PANGO_SCALE;
        d->page_empty = 0;
    } while (pango_layout_iter_next_line(it));
    pango_layout_iter_free(it);
    cairo_restore(d->cr);
    d->y = bottom;
    g_object_unref(lay);
}

void pdf_title(struct pdf_doc *d, const char *text)
{
    struct text_style st = {SIZE_TITLE, 1, PDF_ALIGN_START, 1};
    text_block(d, text, &st, 0, 0);
    d->y += 2.5 * PT_PER_MM;
}

void pdf_heading(struct pdf_doc *d, const char *text)
{
    struct text_style st = {SIZE_HEADING, 1, PDF_ALIGN_START, 1};
    /* A heading alone at the foot of a page goes to the next one. */
    need(d, 4 * PT_PER_MM + 3 * SIZE_HEADING);
    text_block(d, text, &st, 4 * PT_PER_MM, 0);
    d->y += 1.5 * PT_PER_MM;
}

void pdf_paragraph(struct pdf_doc *d, const char *text)
{
    pdf_text(d, text, 0);
}

void pdf_text(struct pdf_doc *d, const char *text, unsigned flags)
{
    struct text_style st = {SIZE_BODY, 0, PDF_ALIGN_START, 1};
    if (flags & PDF_TEXT_SMALL) {
        st.size = SIZE_SMALL;
    }
    if (flags & PDF_TEXT_LARGE) {
        st.size = SIZE_LARGE;
    }
    st.bold = (flags & PDF_TEXT_BOLD) != 0;
    if (flags & PDF_TEXT_CENTER) {
        st.align = PDF_ALIGN_CENTER;
    }
    text_block(d, text, &st, 1.2 * PT_PER_MM, (flags & PDF_TEXT_MUTED) != 0);
}

void pdf_space(struct pdf_doc *d, double mm)
{
    if (d->page_empty || mm <= 0) {
        return;
    }
    d->y += mm * PT_PER_MM;
    if (d->y > CONTENT_BOTTOM) {
        page_add(d);
    }
}

void pdf_rule(struct pdf_doc *d)
{
    need(d, 3 * PT_PER_MM);
    d->y += 1.5 * PT_PER_MM;
    cairo_save(d->cr);
    cairo_set_source_rgb(d->cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(d->cr, 0.6);
    cairo_move_to(d->cr, MARGIN_X, d->y);
    cairo_line_to(d->cr, MARGIN_X + CONTENT_W, d->y);
    cairo_stroke(d->cr);
    cairo_restore(d->cr);
    d->y += 1.5 * PT_PER_MM;
    d->page_empty = 0;
}

void pdf_page_break(struct pdf_doc *d)
{
    if (!d->page_empty) {
        page_add(d);
    }
}

/* A table being drawn: column geometry and the header's layouts. */
struct table {
    int n_cols;                 /* columns */
    double *x;                  /* physical left edge of each column */
    double *w;                  /* width of each column */
    const struct pdf_col *cols; /* the caller's columns */
    int has_header;             /* 1 when a header row is drawn */
    int grid;                   /* 1: header background and lines between rows */
    double size;                /* font size of the cells */
};

/* Lays out the cells of one row (layouts[c]) and returns the row height. */
static double row_layouts(struct pdf_doc *d, const struct table *t, const char *const *cells,
                          int bold, int bold_first, PangoLayout **layouts)
{
    double h = 0;
    for (int c = 0; c < t->n_cols; c++) {
        struct text_style st = {t->size, bold || (bold_first && c == 0), t->cols[c].align, 0};
        const char *cell = cells[c];
        layouts[c] = layout_new(d, cell ? cell : "", t->w[c] - 2 * CELL_PAD, &st);
        double ch = layout_height(layouts[c]);
        if (ch > h) {
            h = ch;
        }
    }
    return h + 2 * CELL_PAD;
}

/* Draws a laid-out row at d->y, h high, and frees the layouts. */
static void row_draw(struct pdf_doc *d, const struct table *t, PangoLayout **layouts, double h,
                     int shaded, int line_below)
{
    if (shaded) {
        cairo_save(d->cr);
        cairo_set_source_rgb(d->cr, 0.91, 0.93, 0.92);
        cairo_rectangle(d->cr, MARGIN_X, d->y, CONTENT_W, h);
        cairo_fill(d->cr);
        cairo_restore(d->cr);
    }
    for (int c = 0; c < t->n_cols; c++) {
        layout_draw(d, layouts[c], t->x[c] + CELL_PAD, d->y + CELL_PAD, 0);
        g_object_unref(layouts[c]);
        layouts[c] = NULL;
    }
    if (line_below) {
        cairo_save(d->cr);
        cairo_set_source_rgb(d->cr, 0.78, 0.78, 0.78);
        cairo_set_line_width(d->cr, 0.5);
        cairo_move_to(d->cr, MARGIN_X, d->y + h);
        cairo_line_to(d->cr, MARGIN_X + CONTENT_W, d->y + h);
        cairo_stroke(d->cr);
        cairo_restore(d->cr);
    }
    d->y += h;
    d->page_empty = 0;
}

/* Draws the header row (when the table has one) at d->y. */
static void header_draw(struct pdf_doc *d, const struct table *t, const char **heads)
{
    if (!t->has_header) {
        return;
    }
    PangoLayout **layouts = xcalloc((size_t)t->n_cols, sizeof *layouts);
    double h = row_layouts(d, t, heads, 1, 0, layouts);
    row_draw(d, t, layouts, h, 1, 1);
    free(layouts);
}

/* The common body of pdf_table, pdf_table_totals and pdf_kv. bold_last:
 * the last row is a totals row; bold_first_col: keys of a key-value table. */
static void table_draw(struct pdf_doc *d, const struct pdf_col *cols, int n_cols,
                       const char *const *cells, int n_rows, int bold_last, int bold_first_col,
                       int grid)
{
    if (n_cols <= 0 || n_rows < 0) {
        return;
    }
    struct table t = {n_cols,
                      xcalloc((size_t)n_cols, sizeof(double)),
                      xcalloc((size_t)n_cols, sizeof(double)),
                      cols,
                      0,
                      grid,
                      grid ? SIZE_TABLE : SIZE_BODY};
    double total = 0;
    for (int c = 0; c < n_cols; c++) {
        total += cols[c].weight > 0 ? cols[c].weight : 1;
        if (cols[c].header) {
            t.has_header = 1;
        }
    }
    double at = 0;
    for (int c = 0; c < n_cols; c++) {
        t.w[c] = CONTENT_W * (cols[c].weight > 0 ? cols[c].weight : 1) / total;
        t.x[c] = d->rtl ? MARGIN_X + CONTENT_W - at - t.w[c] : MARGIN_X + at;
        at += t.w[c];
    }
    const char **heads = xcalloc((size_t)n_cols, sizeof *heads);
    for (int c = 0; c < n_cols; c++) {
        heads[c] = cols[c].header ? cols[c].header : "";
    }
    PangoLayout **layouts = xcalloc((size_t)n_cols, sizeof *layouts);
    if (!d->page_empty) {
        d->y += 1.5 * PT_PER_MM;
    }
    /* The header and the first row go together onto a page. */
    if (t.has_header && n_rows > 0) {
        double hh = row_layouts(d, &t, heads, 1, 0, layouts);
        for (int c = 0; c < n_cols; c++) {
            g_object_unref(layouts[c]);
        }
        double h1 = row_layouts(d, &t, cells, bold_last && n_rows == 1, bold_first_col, layouts);
        for (int c = 0; c < n_cols; c++) {
            g_object_unref(layouts[c]);
        }
        need(d, hh + h1);
    }
    header_draw(d, &t, heads);
    for (int r = 0; r < n_rows; r++) {
        int bold = bold_last && r == n_rows - 1;
        double h =
            row_layouts(d, &t, cells + (size_t)r * (size_t)n_cols, bold, bold_first_col, layouts);
        if (d->y + h > CONTENT_BOTTOM && !d->page_empty) {
            page_add(d);
            header_draw(d, &t, heads);
            if (d->y + h > CONTENT_BOTTOM) {
                /* Taller than a page: drawn anyway, over the margin. */
                d->page_empty = 1;
            }
        }
        row_draw(d, &t, layouts, h, bold && grid, grid || r < n_rows - 1);
    }
    d->y += 1.5 * PT_PER_MM;
    free(layouts);
    free(heads);
    free(t.x);
    free(t.w);
}

void pdf_table(struct pdf_doc *d, const struct pdf_col *cols, int n_cols, const char *const *cells,
               int n_rows)
{
    table_draw(d, cols, n_cols, cells, n_rows, 0, 0, 1);
}

void pdf_table_totals(struct pdf_doc *d, const struct pdf_col *cols, int n_cols,
                      const char *const *cells, int n_rows)
{
    table_draw(d, cols, n_cols, cells, n_rows, 1, 0, 1);
}

void pdf_kv(struct pdf_doc *d, const char *const *pairs, int n)
{
    if (n <= 0) {
        return;
    }
    static const struct pdf_col kv_cols[2] = {{NULL, 1.0, PDF_ALIGN_START},
                                              {NULL, 2.0, PDF_ALIGN_START}};
    const char **cells = xcalloc(xmul((size_t)n, 2), sizeof *cells);
    for (int i = 0; i < n; i++) {
        cells[2 * i] = pairs[2 * i] ? pairs[2 * i] : "";
        const char *v = pairs[2 * i + 1];
        cells[2 * i + 1] = v && *v ? v : "—";
    }
    table_draw(d, kv_cols, 2, cells, n, 0, 1, 0);
    free(cells);
}

/* Reading state for cairo's PNG stream reader. */
struct png_reader {
    const unsigned char *p; /* the bytes */
    size_t len;             /* how many */
    size_t at;              /* read so far */
};

/* cairo_read_func_t over a byte array. */
static cairo_status_t png_read(void *closure, unsigned char *data, unsigned int length)
{
    struct png_reader *r = closure;
    if (r->len - r->at < length) {
        return CAIRO_STATUS_READ_ERROR;
    }
    memcpy(data, r->p + r->at, length);
    r->at += length;
    return CAIRO_STATUS_SUCCESS;
}

/* Finds a JPEG's size in its start-of-frame marker. Returns 0 or -1. */
static int jpeg_size(const unsigned char *p, size_t len, int *w, int *h)
{
    if (len < 4 || p[0] != 0xFF || p[1] != 0xD8) {
        return -1;
    }
    size_t i = 2;
    while (i + 4 <= len) {
        if (p[i] != 0xFF) {
            return -1;
        }
        unsigned m = p[i + 1];
        if (m == 0xFF) { /* fill byte */
            i++;
            continue;
        }
        if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) { /* no length */
            i += 2;
            continue;
        }
        if (m == 0xD9 || m == 0xDA) { /* end of image, start of scan: no frame seen */
            return -1;
        }
        size_t seg = ((size_t)p[i + 2] << 8) | p[i + 3];
        if (seg < 2 || i + 2 + seg > len) {
            return -1;
        }
        /* SOF0..SOF15 but DHT (C4), JPG (C8) and DAC (CC). */
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (seg < 7) {
                return -1;
            }
            *h = (p[i + 5] << 8) | p[i + 6];
            *w = (p[i + 7] << 8) | p[i + 8];
            return *w > 0 && *h > 0 ? 0 : -1;
        }
        i += 2 + seg;
    }
    return -1;
}

/* Frees the copy of the JPEG bytes attached to a surface. */
static void free_bytes(void *p)
{
    free(p);
}

/* Makes a cairo surface from PNG or JPEG bytes, or NULL with e. */
static cairo_surface_t *image_surface(const void *bytes, size_t len, struct err *e)
{
    const unsigned char *p = bytes;
    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (len >= 8 && memcmp(p, png_sig, 8) == 0) {
        /* Check the size in the header before cairo decodes it all. */
        if (len < 24) {
            err_set(e, ERR_INVALID, "invalid_image", "image", "the PNG image is cut short");
            return NULL;
        }
        uint32_t w =
            ((uint32_t)p[16] << 24) | ((uint32_t)p[17] << 16) | ((uint32_t)p[18] << 8) | p[19];
        uint32_t h =
            ((uint32_t)p[20] << 24) | ((uint32_t)p[21] << 16) | ((uint32_t)p[22] << 8) | p[23];
        if (w == 0 || h == 0 || w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE ||
            (long)w * (long)h > IMAGE_MAX_PIXELS) {
            err_set(e, ERR_INVALID, "invalid_image", "image", "the PNG image is too large");
            return NULL;
        }
        struct png_reader r = {p, len, 0};
        cairo_surface_t *s = cairo_image_surface_create_from_png_stream(png_read, &r);
        if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
            cairo_surface_destroy(s);
            err_set(e, ERR_INVALID, "invalid_image", "image", "the PNG image could not be read");
            return NULL;
        }
        return s;
    }
    int w = 0;
    int h = 0;
    if (jpeg_size(p, len, &w, &h) < 0) {
        err_set(e, ERR_INVALID, "invalid_image", "image",
                "the image is neither a PNG nor a readable JPEG");
        return NULL;
    }
    if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE || (long)w * (long)h > IMAGE_MAX_PIXELS) {
        err_set(e, ERR_INVALID, "invalid_image", "image", "the JPEG image is too large");
        return NULL;
    }
    /* The PDF surface embeds the JPEG data as it is (DCTDecode); the
     * pixels of this surface are never drawn, only its size is used. */
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        err_set(e, ERR_INTERNAL, "pdf_failed", "image", "could not make an image surface");
        return NULL;
    }
    unsigned char *copy = xmalloc(len);
    memcpy(copy, p, len);
    if (cairo_surface_set_mime_data(s, CAIRO_MIME_TYPE_JPEG, copy, len, free_bytes, copy) !=
        CAIRO_STATUS_SUCCESS) {
        free(copy);
        cairo_surface_destroy(s);
        err_set(e, ERR_INTERNAL, "pdf_failed", "image", "could not attach the JPEG data");
        return NULL;
    }
    return s;
}

int pdf_image(struct pdf_doc *d, const void *bytes, size_t len, double max_w_mm, double max_h_mm,
              struct err *e)
{
    struct err local;
    err_clear(&local);
    cairo_surface_t *img = bytes && len ? image_surface(bytes, len, &local) : NULL;
    if (!img) {
        if (local.kind == ERR_NONE) {
            err_set(&local, ERR_INVALID, "invalid_image", "image", "the image is empty");
        }
        keep_error(d, &local);
        if (e) {
            *e = local;
        }
        return -1;
    }
    double iw = cairo_image_surface_get_width(img);
    double ih = cairo_image_surface_get_height(img);
    double max_w = max_w_mm > 0 ? max_w_mm * PT_PER_MM : CONTENT_W;
    double max_h = max_h_mm > 0 ? max_h_mm * PT_PER_MM : (CONTENT_BOTTOM - MARGIN_TOP) / 3;
    if (max_w > CONTENT_W) {
        max_w = CONTENT_W;
    }
    /* One pixel is one point at most (72 dpi): never scaled up. */
    double s = 1.0;
    if (iw * s > max_w) {
        s = max_w / iw;
    }
    if (ih * s > max_h) {
        s = max_h / ih;
    }
    double w = iw * s;
    double h = ih * s;
    if (!d->page_empty) {
        d->y += 1.5 * PT_PER_MM;
    }
    need(d, h);
    double x = d->rtl ? MARGIN_X + CONTENT_W - w : MARGIN_X;
    cairo_save(d->cr);
    cairo_translate(d->cr, x, d->y);
    cairo_scale(d->cr, s, s);
    cairo_set_source_surface(d->cr, img, 0, 0);
    cairo_paint(d->cr);
    cairo_restore(d->cr);
    cairo_surface_destroy(img);
    d->y += h + 1.5 * PT_PER_MM;
    d->page_empty = 0;
    return 0;
}

void pdf_forget_error(struct pdf_doc *d)
{
    err_clear(&d->err);
}

/* cairo_write_func_t into a struct buf. */
static cairo_status_t buf_write(void *closure, const unsigned char *data, unsigned int length)
{
    buf_add(closure, data, length);
    return CAIRO_STATUS_SUCCESS;
}

/* Replaces "{n}" and "{total}" in fmt. */
static void page_label(struct buf *out, const char *fmt, int n, int total)
{
    for (const char *p = fmt; *p;) {
        if (strncmp(p, "{n}", 3) == 0) {
            buf_addf(out, "%d", n);
            p += 3;
        } else if (strncmp(p, "{total}", 7) == 0) {
            buf_addf(out, "%d", total);
            p += 7;
        } else {
            buf_addch(out, *p++);
        }
    }
}

/* Draws the watermark and the footer of page n (1-based) on cr. */
static void page_decorate(struct pdf_doc *d, cairo_t *cr, int n)
{
    cairo_t *saved = d->cr;
    d->cr = cr;
    if (d->watermark) {
        struct text_style st = {SIZE_WATERMARK, 1, PDF_ALIGN_CENTER, 1};
        PangoLayout *lay = layout_new(d, d->watermark, PAGE_H, &st);
        double h = layout_height(lay);
        cairo_save(cr);
        cairo_translate(cr, PAGE_W / 2, PAGE_H / 2);
        cairo_rotate(cr, -atan2(PAGE_H, PAGE_W));
        cairo_set_source_rgba(cr, 0.8, 0.1, 0.1, 0.22);
        cairo_move_to(cr, -PAGE_H / 2, -h / 2);
        pango_cairo_update_layout(cr, lay);
        pango_cairo_show_layout(cr, lay);
        cairo_restore(cr);
        g_object_unref(lay);
    }
    struct text_style st = {SIZE_SMALL, 0, PDF_ALIGN_START, 0};
    double half = CONTENT_W * 0.7;
    if (d->footer_text) {
        PangoLayout *lay = layout_new(d, d->footer_text, half, &st);
        double x = d->rtl ? MARGIN_X + CONTENT_W - half : MARGIN_X;
        layout_draw(d, lay, x, FOOTER_Y, 1);
        g_object_unref(lay);
    }
    struct buf label = BUF_INIT;
    page_label(&label, d->page_fmt ? d->page_fmt : "{n} / {total}", n, d->n_pages);
    st.align = PDF_ALIGN_END;
    double rest = CONTENT_W - half;
    PangoLayout *lay = layout_new(d, label.buf, rest, &st);
    double x = d->rtl ? MARGIN_X : MARGIN_X + half;
    layout_draw(d, lay, x, FOOTER_Y, 1);
    g_object_unref(lay);
    buf_release(&label);
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.75, 0.75, 0.75);
    cairo_set_line_width(cr, 0.5);
    cairo_move_to(cr, MARGIN_X, FOOTER_Y - 1.5 * PT_PER_MM);
    cairo_line_to(cr, MARGIN_X + CONTENT_W, FOOTER_Y - 1.5 * PT_PER_MM);
    cairo_stroke(cr);
    cairo_restore(cr);
    d->cr = saved;
}

int pdf_finish(struct pdf_doc *d, struct buf *out, struct err *e)
{
    if (d->err.kind != ERR_NONE) {
        if (e) {
            *e = d->err;
        }
        return -1;
    }
    struct buf pdf = BUF_INIT;
    cairo_surface_t *surf = cairo_pdf_surface_create_for_stream(buf_write, &pdf, PAGE_W, PAGE_H);
    if (d->title) {
        cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_TITLE, d->title);
    }
    cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_CREATOR, "Sanad");
    cairo_t *cr = cairo_create(surf);
    for (int i = 0; i < d->n_pages; i++) {
        cairo_surface_flush(d->pages[i]);
        cairo_save(cr);
        cairo_set_source_surface(cr, d->pages[i], 0, 0);
        cairo_paint(cr);
        cairo_restore(cr);
        page_decorate(d, cr, i + 1);
        cairo_show_page(cr);
    }
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_finish(surf);
    if (st == CAIRO_STATUS_SUCCESS) {
        st = cairo_surface_status(surf);
    }
    cairo_surface_destroy(surf);
    if (st != CAIRO_STATUS_SUCCESS) {
        buf_release(&pdf);
        return err_set(e, ERR_INTERNAL, "pdf_failed", "", "could not write the PDF: %s",
                       cairo_status_to_string(st));
    }
    buf_add(out, pdf.buf, pdf.len);
    buf_release(&pdf);
    return 0;
}
