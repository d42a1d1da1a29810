/*
 * pdf.h: small printable documents (receipts, statements, progress reports)
 * as PDF, A4 portrait, Arabic right-to-left first and English.
 *
 * Made with pango (shaping, bidi, line breaking) and cairo's PDF surface
 * (subsetted, embedded fonts, real text that pdftotext and screen readers
 * can extract). Fonts are named through fontconfig: "Amiri" for Arabic and
 * "DejaVu Sans" for Latin (Debian: fonts-hosny-amiri, fonts-dejavu-core);
 * pdf_init fails clearly when neither is installed.
 *
 * A document is built block by block from the top of the first page down;
 * a block that does not fit on the page starts a new one (a table repeats
 * its header row on each page it runs onto). Pages are recorded and only
 * written by pdf_finish, so the footer can say "page 2 of 3" and a
 * watermark ("VOID") can be laid over every page.
 *
 * Direction: a document made for "ar" is right-to-left: text starts at the
 * right margin, key-value tables put the key on the right, and table
 * columns run from right to left (cols[0] is the rightmost). Each paragraph
 * still takes its own direction from its first strong letter, so English
 * text in an Arabic document reads left to right (and the other way
 * round); text with no strong letter (numbers, dates) follows the document.
 *
 * Errors: the block functions never fail for the caller; a problem in one
 * (bad UTF-8 is replaced by U+FFFD by pango; a broken image) is kept in the
 * document and reported by pdf_finish, so callers check once at the end.
 * pdf_image also returns its own error for callers that want to go on
 * without the picture.
 *
 * Threads: any number of documents may be built at the same time on
 * different threads (one document belongs to one thread at a time). Pango
 * gives each thread its own font map; fontconfig is initialized once under
 * pthread_once before any document is made.
 *
 * Strings passed in are borrowed (copied when kept). Units: millimetres.
 */
#ifndef SANAD_WEB_PDF_H
#define SANAD_WEB_PDF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

/* A document being built (opaque). */
struct pdf_doc;

/* Horizontal alignment, relative to the document's direction: START is the
 * right edge in an Arabic document and the left edge in an English one. */
enum pdf_align {
    PDF_ALIGN_START = 0, /* where reading starts (the default) */
    PDF_ALIGN_CENTER,    /* centred */
    PDF_ALIGN_END        /* where reading ends (amounts in a table) */
};

/* Flags for pdf_text (may be or-ed). */
enum {
    PDF_TEXT_BOLD = 1 << 0,   /* bold weight */
    PDF_TEXT_SMALL = 1 << 1,  /* smaller size (notes, fine print) */
    PDF_TEXT_MUTED = 1 << 2,  /* grey instead of black */
    PDF_TEXT_CENTER = 1 << 3, /* centred on the line */
    PDF_TEXT_LARGE = 1 << 4   /* larger size (an amount to stand out) */
};

/* One column of pdf_table. */
struct pdf_col {
    const char *header;   /* header text; NULL for all columns = no header row */
    double weight;        /* share of the width (relative to the other columns; <= 0 is 1) */
    enum pdf_align align; /* alignment of the cells (the header follows it) */
};

/* Checks, once per process, that fontconfig finds the fonts (Amiri or
 * DejaVu Sans: at least one; both are wanted for good Arabic and Latin).
 * Thread-safe and cheap after the first call; pdf_new calls it. `sanad
 * serve` calls it at start-up to fail early. Returns 0, or -1 with e
 * (ERR_UNAVAILABLE "pdf_fonts_missing", naming the packages to install). */
int pdf_init(struct err *e);

/* Starts a document for lang ("ar": right-to-left; anything else:
 * left-to-right). title goes into the PDF's metadata (may be NULL).
 * Returns a new document (free with pdf_free), or NULL with e when the
 * fonts are missing. */
struct pdf_doc *pdf_new(const char *lang, const char *title, struct err *e);
/* Frees d and everything it holds (NULL is fine). */
void pdf_free(struct pdf_doc *d);

/* Sets the footer printed at the foot of every page: text (may be NULL) at
 * the start side and the page number at the end side, as page_fmt with
 * "{n}" replaced by the page number and "{total}" by the page count (NULL:
 * "{n} / {total}"). May be called at any time before pdf_finish. */
void pdf_set_footer(struct pdf_doc *d, const char *text, const char *page_fmt);
/* Lays text (e.g. "VOID · ملغى") diagonally, large and light red, over
 * every page (NULL removes it). */
void pdf_set_watermark(struct pdf_doc *d, const char *text);

/* The document's title: large, bold, at the start side. */
void pdf_title(struct pdf_doc *d, const char *text);
/* A section heading: bold, a little larger, with space above. */
void pdf_heading(struct pdf_doc *d, const char *text);
/* A paragraph of body text, wrapped to the page width. */
void pdf_paragraph(struct pdf_doc *d, const char *text);
/* A paragraph with flags (PDF_TEXT_*). */
void pdf_text(struct pdf_doc *d, const char *text, unsigned flags);
/* Key-value rows: pairs[2*i] is a key (drawn bold, on the start side),
 * pairs[2*i+1] its value (NULL or "" drawn as "—"); n pairs. */
void pdf_kv(struct pdf_doc *d, const char *const *pairs, int n);
/* A table: n_cols columns (cols[0] at the start side: rightmost in
 * Arabic), n_rows rows of cells in row-major order (cells[r * n_cols + c];
 * NULL is an empty cell). Rows are never split; a row that does not fit
 * goes to a new page, which repeats the header row. */
void pdf_table(struct pdf_doc *d, const struct pdf_col *cols, int n_cols,
               const char *const *cells, int n_rows);
/* Like pdf_table, with the last row drawn bold (a totals row). */
void pdf_table_totals(struct pdf_doc *d, const struct pdf_col *cols, int n_cols,
                      const char *const *cells, int n_rows);
/* An image from PNG or JPEG bytes (told apart by their signature), scaled
 * down (never up) to fit max_w_mm x max_h_mm (<= 0: the page width / a
 * third of the page height), at the start side. A JPEG is embedded as is
 * (not re-encoded). Returns 0, or -1 with e (ERR_INVALID "invalid_image")
 * for bytes that are neither, or broken; the error is also kept for
 * pdf_finish unless pdf_forget_error is called. */
int pdf_image(struct pdf_doc *d, const void *bytes, size_t len, double max_w_mm,
              double max_h_mm, struct err *e);
/* Clears the error kept by the last failed block (to go on without it). */
void pdf_forget_error(struct pdf_doc *d);
/* Vertical space of mm millimetres (none at the top of a page). */
void pdf_space(struct pdf_doc *d, double mm);
/* A thin horizontal line across the text width. */
void pdf_rule(struct pdf_doc *d);
/* Starts a new page (nothing when the current page is still empty). */
void pdf_page_break(struct pdf_doc *d);
/* The number of pages so far (at least 1). */
int pdf_page_count(const struct pdf_doc *d);

/* Writes the document: appends the PDF bytes to out. Returns 0, or -1 with
 * e (the first error kept by a block, or a cairo failure); out is left as
 * it was on failure. d stays valid (free it with pdf_free); finishing twice
 * writes the same document twice. */
int pdf_finish(struct pdf_doc *d, struct buf *out, struct err *e);

#endif
