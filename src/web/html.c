/*
 * html.c: escaping of text for HTML and XML output. The hot path copies runs
 * of plain bytes with one buf_add, so escaping costs little more than a copy.
 */
#include "web/html.h"

#include <string.h>

#include "web/tmpl.h"
#include "core/banned.h"

/* Byte classes: what the escaper does on meeting each byte. */
enum {
    C_PLAIN = 0, /* copied as is */
    C_SPECIAL,   /* one of & < > " ' ` : replaced by a character reference */
    C_CONTROL,   /* NUL or a C0 control not allowed in HTML text: U+FFFD */
    C_LEAD2,     /* lead byte of a two-byte UTF-8 sequence */
    C_LEAD3,     /* lead byte of a three-byte sequence */
    C_LEAD4,     /* lead byte of a four-byte sequence */
    C_BAD        /* continuation byte out of place, or never valid (C0, C1, F5..FF) */
};

/* The class of each byte value, filled by the designated initialisers below. */
static const unsigned char byte_class[256] = {
    [0x00] = C_CONTROL, [0x01] = C_CONTROL, [0x02] = C_CONTROL, [0x03] = C_CONTROL,
    [0x04] = C_CONTROL, [0x05] = C_CONTROL, [0x06] = C_CONTROL, [0x07] = C_CONTROL,
    [0x08] = C_CONTROL, [0x0b] = C_CONTROL, [0x0e] = C_CONTROL, [0x0f] = C_CONTROL,
    [0x10] = C_CONTROL, [0x11] = C_CONTROL, [0x12] = C_CONTROL, [0x13] = C_CONTROL,
    [0x14] = C_CONTROL, [0x15] = C_CONTROL, [0x16] = C_CONTROL, [0x17] = C_CONTROL,
    [0x18] = C_CONTROL, [0x19] = C_CONTROL, [0x1a] = C_CONTROL, [0x1b] = C_CONTROL,
    [0x1c] = C_CONTROL, [0x1d] = C_CONTROL, [0x1e] = C_CONTROL, [0x1f] = C_CONTROL,
    ['&'] = C_SPECIAL, ['<'] = C_SPECIAL, ['>'] = C_SPECIAL, ['"'] = C_SPECIAL,
    ['\''] = C_SPECIAL, ['`'] = C_SPECIAL,
    [0x80 ... 0xc1] = C_BAD,
    [0xc2 ... 0xdf] = C_LEAD2,
    [0xe0 ... 0xef] = C_LEAD3,
    [0xf0 ... 0xf4] = C_LEAD4,
    [0xf5 ... 0xff] = C_BAD,
};

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
static const char replacement[] = "\xef\xbf\xbd";

/* Length of the well-formed UTF-8 sequence of len bytes at s (lead byte
 * already classified), or 0 when it is cut short, overlong, a surrogate or
 * beyond U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t avail, size_t len)
{
    if (avail < len) {
        return 0;
    }
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80) {
            return 0;
        }
    }
    if (len == 3) {
        if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)) {
            return 0; /* overlong, or a UTF-16 surrogate */
        }
    } else if (len == 4) {
        if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)) {
            return 0; /* overlong, or above U+10FFFF */
        }
    }
    return len;
}

void html_escape_n(struct buf *out, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t run = 0; /* start of the pending run of bytes to copy as they are */
    size_t i = 0;
    while (i < n) {
        unsigned cls = byte_class[s[i]];
        if (cls == C_PLAIN) {
            i++;
            continue;
        }
        if (cls >= C_LEAD2 && cls <= C_LEAD4) {
            size_t len = utf8_seq(s + i, n - i, cls - C_LEAD2 + 2);
            if (len) {
                i += len;
                continue;
            }
        }
        buf_add(out, s + run, i - run);
        switch (s[i]) {
        case '&': buf_add(out, "&amp;", 5); break;
        case '<': buf_add(out, "&lt;", 4); break;
        case '>': buf_add(out, "&gt;", 4); break;
        case '"': buf_add(out, "&quot;", 6); break;
        case '\'': buf_add(out, "&#39;", 5); break;
        case '`': buf_add(out, "&#96;", 5); break;
        default: buf_add(out, replacement, 3); break;
        }
        i++;
        run = i;
    }
    buf_add(out, s + run, n - run);
}

void html_escape(struct buf *out, const char *s)
{
    if (s) {
        html_escape_n(out, s, strlen(s));
    }
}
