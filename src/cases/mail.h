/*
 * mail.h: plain-text e-mail (RFC 5322 + MIME) and its delivery over SMTP
 * through libcurl (smtp:// with STARTTLS when offered, or smtps://).
 *
 * The message is built in canonical form: CRLF line ends, header lines
 * folded under 78 octets, non-ASCII header text as RFC 2047 encoded-words
 * (UTF-8, base64), and the body as UTF-8 text/plain in base64. The body is
 * base64 because libcurl sends no BODY=8BITMIME: a 7-bit body is the only
 * kind every server must accept, and no encoded line can start with '.', so
 * the SMTP dot-stuffing (which libcurl applies on the wire by itself) can
 * never alter the message.
 */
#ifndef SANAD_CASES_MAIL_H
#define SANAD_CASES_MAIL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

/* One message. Strings are borrowed. */
struct mail_msg {
    const char *from;      /* sender address ("sanad@example.org"), required */
    const char *from_name; /* sender display name (UTF-8) or NULL */
    const char *to;        /* recipient address, required; no display name is written */
    const char *subject;   /* UTF-8, one line, required */
    const char *body;      /* UTF-8 text, LF or CRLF line ends, required (may be "") */
    int64_t date_ms;       /* the Date header, ms since the epoch; 0 means now */
};

/* True when addr is a plain address we are willing to put in a header and an
 * SMTP command: printable ASCII, one '@', a non-empty local part and a domain
 * with a dot or "localhost", no spaces, quotes, angle brackets, commas or
 * semicolons, at most 254 octets. */
bool mail_address_valid(const char *addr);
/* Appends s as RFC 2047 encoded-words ("=?UTF-8?B?...?="), each at most 75
 * octets and never splitting a UTF-8 character, separated by CRLF SP so that
 * the header stays folded. s must be valid UTF-8. */
void mail_encode_words(struct buf *out, const char *s);
/* Appends the whole message (headers and body) to out. Returns 0, or -1 with
 * e naming the field ("from", "to", "subject", "body") when an address is not
 * valid, the subject holds a line break or control character, or a text is
 * not valid UTF-8. */
int mail_build(const struct mail_msg *m, struct buf *out, struct err *e);
/* One attachment; strings and bytes borrowed. */
struct mail_attachment {
    const char *filename;     /* UTF-8 file name shown to the reader, required, one line */
    const char *content_type; /* media type "type/subtype" (token characters only), required */
    const unsigned char *data;/* the bytes */
    size_t len;               /* their number (0 allowed) */
};
/* Appends a message with attachments to out: multipart/mixed with the text
 * as its first part (UTF-8 text/plain, base64) and one base64 part per
 * attachment, its name as RFC 2231 filename* (UTF-8, percent-encoded) with
 * an ASCII-only filename= fallback, lines of 76 characters. The boundary is
 * random and starts with "=_", which base64 never produces. With n_att 0 the
 * output is exactly mail_build's. Returns 0, or -1 with e naming the field
 * ("from", "to", "subject", "body", "filename", "content_type"). */
int mail_build_attached(const struct mail_msg *m, const struct mail_attachment *att,
                        size_t n_att, struct buf *out, struct err *e);
/* Appends the RFC 5322 date of ms ("Thu, 01 Jan 1970 00:00:00 +0000"). */
void mail_format_date(int64_t ms, struct buf *out);

/* The SMTP server to use; strings borrowed. */
struct mail_server {
    const char *url;      /* smtp://host:port or smtps://host:port */
    const char *user;     /* login or NULL */
    const char *password; /* password or NULL */
};
/* Sends one built message (text, n octets) from the envelope sender from to
 * the recipient to. Over smtp:// to another host than loopback with a login
 * set, STARTTLS is required so that the password never travels in clear.
 * Returns 0, or -1 with e (ERR_UNAVAILABLE "smtp_failed" naming the server's
 * or libcurl's complaint; ERR_INVALID for a URL that is neither scheme). */
int mail_send(const struct mail_server *srv, const char *from, const char *to, const char *text,
              size_t n, struct err *e);

#endif
