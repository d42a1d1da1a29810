#include "web/assets.h"

#include <string.h>

#include "core/banned.h"

const struct asset *asset_find(const char *name)
{
    size_t lo = 0, hi = n_assets;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(assets[mid].name, name);
        if (c == 0) {
            return &assets[mid];
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}
