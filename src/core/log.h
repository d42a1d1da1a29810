/*
 * log.h: logfmt lines on stderr: `ts=... level=info rid=... msg="..." k=v`.
 * The request id of the current thread's request, if any, is added to every
 * line so that one request's lines can be found together.
 */
#ifndef SANAD_CORE_LOG_H
#define SANAD_CORE_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the lowest level written (default LOG_INFO). */
void log_set_level(enum log_level level);
/* Parses "debug", "info", "warn" or "error"; returns -1 for anything else. */
int log_level_parse(const char *s, enum log_level *out);
/* Sets (or with NULL clears) the request id of the calling thread. The string
 * must stay valid until cleared. */
void log_set_request_id(const char *rid);
/* Writes one line: msg is quoted; kv is extra logfmt pairs already formatted
 * by the caller with log_kv-safe values (may be NULL). */
void log_write(enum log_level level, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(msg, ...) log_write(LOG_DEBUG, msg, __VA_ARGS__)
#define log_info(msg, ...) log_write(LOG_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...) log_write(LOG_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) log_write(LOG_ERROR, msg, __VA_ARGS__)

#endif
