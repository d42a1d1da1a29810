/*
 * fuzz_config.c: the INI reader and config_set on arbitrary bytes. The input
 * is written to a file and loaded; then split at the first NUL into a key and
 * a value for config_set. Nothing may crash, and a refusal must say why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/banned.h"

/* Aborts when a failure left no explanation. */
static void check_err(int rc, const struct err *e)
{
    if (rc != 0 && (!err_failed(e) || !e->msg[0])) {
        abort();
    }
    if (rc == 0 && err_failed(e)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) {
        snprintf(path, sizeof(path), "/tmp/sanad-fuzz-config-%d.ini", (int)getpid());
    }
    config_defaults();
    FILE *f = fopen(path, "wb");
    if (!f) {
        return 0;
    }
    fwrite(data, 1, size, f);
    fclose(f);
    struct err e;
    err_clear(&e);
    check_err(config_load_file(path, false, &e), &e);

    /* key NUL value */
    char *copy = malloc(size + 2);
    memcpy(copy, data, size);
    copy[size] = '\0';
    copy[size + 1] = '\0';
    const char *key = copy;
    size_t klen = strlen(key);
    const char *value = klen < size ? copy + klen + 1 : copy + size + 1;
    err_clear(&e);
    check_err(config_set(key, value, &e), &e);
    config_finish();
    free(copy);
    return 0;
}
