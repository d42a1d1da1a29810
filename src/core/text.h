/*
 * text.h: small string helpers used everywhere: UTF-8 validation, length in
 * code points, trimming, hex.
 */
#ifndef SANAD_CORE_TEXT_H
#define SANAD_CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when s[0..n) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF)
 * and has no NUL or C0 control other than tab, LF and CR. */
bool utf8_valid(const char *s, size_t n);
/* Number of code points in valid UTF-8 s[0..n). */
size_t utf8_length(const char *s, size_t n);
/* True when a and b are equal, in time independent of where they differ. */
bool text_equal_ct(const char *a, const char *b);
/* Writes 2*n lower-case hex digits of bytes into out (size 2*n+1). */
void text_hex(const unsigned char *bytes, size_t n, char *out);
/* Returns s without leading and trailing ASCII white space, in place (moves the end NUL). */
char *text_trim(char *s);
/* True when word is one of the space-separated words of values (" a b c "):
 * a whole-word match; NULL or empty words never match. */
bool text_word_in(const char *values, const char *word);
/* True when s is NULL or has only ASCII white space. */
bool text_blank(const char *s);
/* True for code points of the Arabic script blocks (Arabic, Arabic
 * Supplement, Arabic Extended-A, Presentation Forms-A and -B). */
bool text_is_arabic(uint32_t c);

#endif
