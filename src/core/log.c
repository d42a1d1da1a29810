#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/time.h"
#include "core/banned.h"

static enum log_level min_level = LOG_INFO;
static _Thread_local const char *thread_rid;

void log_set_level(enum log_level level)
{
    min_level = level;
}

int log_level_parse(const char *s, enum log_level *out)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

void log_set_request_id(const char *rid)
{
    thread_rid = rid;
}

/* Appends s as a logfmt quoted value, escaping quotes, backslashes and controls. */
static void add_quoted(struct buf *b, const char *s)
{
    buf_addch(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf_addch(b, '\\');
            buf_addch(b, c);
        } else if (c < 0x20) {
            buf_addf(b, "\\x%02x", c);
        } else {
            buf_addch(b, c);
        }
    }
    buf_addch(b, '"');
}

void log_write(enum log_level level, const char *msg, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (level < min_level) {
        return;
    }
    char ts[32];
    time_format_iso(time_now_ms(), ts, sizeof(ts));
    struct buf b = BUF_INIT;
    buf_addf(&b, "ts=%s level=%s", ts, names[level]);
    if (thread_rid) {
        buf_addf(&b, " rid=%s", thread_rid);
    }
    buf_adds(&b, " msg=");
    add_quoted(&b, msg);
    if (fmt && *fmt) {
        buf_addch(&b, ' ');
        va_list ap;
        va_start(ap, fmt);
        buf_vaddf(&b, fmt, ap);
        va_end(ap);
    }
    buf_addch(&b, '\n');
    fwrite(b.buf, 1, b.len, stderr);
    buf_release(&b);
}
