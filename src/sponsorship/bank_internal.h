/*
 * bank_internal.h: what bank_parse.c gives bank.c (the matcher) and the
 * unit tests: names split and normalized once, their blocking keys and
 * their comparison. Not for other modules.
 */
#ifndef SANAD_SPONSORSHIP_BANK_INTERNAL_H
#define SANAD_SPONSORSHIP_BANK_INTERNAL_H

#include <stdint.h>

#include "sponsorship/bank.h"

/* Splits and normalizes name once (see bank_name_compare). Returns an
 * opaque value the caller frees with free(). Never fails. */
void *bank_name_prepare(const char *name);
/* Writes up to max blocking keys of a prepared name (a hash of each word's
 * cross-script skeleton of two letters or more) into keys. Returns their
 * number. */
int bank_name_keys(const void *prepared, uint64_t *keys, int max);
/* Number of words (units) of a prepared name. */
int bank_name_units(const void *prepared);
/* bank_name_compare on two prepared names. */
enum bank_name_level bank_name_compare_prepared(const void *a, const void *b, int *score_out);

#endif
