/*
 * uuid.h: UUIDv7 ids (RFC 9562): 48-bit Unix ms timestamp, then random bits,
 * so ids sort by creation time and can be merged across instances.
 */
#ifndef SANAD_CORE_UUID_H
#define SANAD_CORE_UUID_H

#include <stdbool.h>

#define UUID_STR_LEN 37 /* 36 characters and the NUL */

/* Writes a new UUIDv7 in lower-case canonical form into out. Thread-safe;
 * ids made by one process are strictly increasing. */
void uuid_v7(char out[UUID_STR_LEN]);
/* True when s is a canonical 36-character UUID (any version, lower or upper case). */
bool uuid_valid(const char *s);

#endif
