/*
 * demo.h: demonstration data for `sanad init --demo` and `make run`: a few
 * hundred children in households of siblings, with realistic Arabic names and
 * places, guardians, consent and status changes, written through the
 * registry's services (so everything is validated, audited and indexed).
 */
#ifndef SANAD_CHILDREN_DEMO_H
#define SANAD_CHILDREN_DEMO_H

#include "auth/auth.h"
#include "core/err.h"
#include "db/db.h"

/* Registers about n_children children (whole households, so a few more may be
 * made; 1..100000) in a's organization. The data are the same for the same
 * n_children on every run (a fixed seed), apart from ids, file numbers and
 * dates relative to today. Returns the number of children made, or -1 with e
 * (the households written before the failure stay: each service call commits
 * on its own). a needs children.write and children.health (the command
 * line's actor holds every permission). */
int children_demo(struct db *db, const struct actor *a, int n_children, struct err *e);

#endif
