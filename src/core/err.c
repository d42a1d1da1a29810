#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/banned.h"

void err_clear(struct err *e)
{
    memset(e, 0, sizeof(*e));
}

int err_set(struct err *e, enum err_kind kind, const char *code, const char *field,
            const char *fmt, ...)
{
    if (!e) {
        return -1;
    }
    e->kind = kind;
    snprintf(e->code, sizeof(e->code), "%s", code ? code : "");
    snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return -1;
}

bool err_failed(const struct err *e)
{
    return e->kind != ERR_NONE;
}
