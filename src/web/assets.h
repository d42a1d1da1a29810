/*
 * assets.h: files compiled into the binary from the assets/ folder
 * (templates, static files, migrations, catalogs). The table is sorted by name.
 */
#ifndef SANAD_WEB_ASSETS_H
#define SANAD_WEB_ASSETS_H

#include <stddef.h>

struct asset {
    const char *name;          /* path below assets/, e.g. "static/app.css" */
    const unsigned char *data; /* the bytes, followed by a NUL not counted in len */
    size_t len;                /* size in bytes */
};

extern const struct asset assets[];
extern const size_t n_assets;

/* Finds an asset by exact name; NULL when there is none. */
const struct asset *asset_find(const char *name);

#endif
