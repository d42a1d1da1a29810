/*
 * demo_sponsorship.h: demonstration sponsorship and books for `sanad init
 * --demo`: donors of every kind, agreements (siblings together, split by
 * purpose, paused, ended, a changed sponsor), a year of dues, payments by
 * every method (some late, some missed, some in advance), receipts, monthly
 * payout lists to guardians with proof, in-kind distributions, a donor's
 * letters and progress reports, exchange rates and closed periods, all
 * written through the services so that everything is validated, posted to
 * the ledger and audited.
 */
#ifndef SANAD_SPONSORSHIP_DEMO_SPONSORSHIP_H
#define SANAD_SPONSORSHIP_DEMO_SPONSORSHIP_H

#include "auth/auth.h"
#include "core/err.h"
#include "db/db.h"

/* Runs the demo for a's organization (the command line's actor with org_id
 * and org_slug set), after children_demo and the demo users ("sponsorship",
 * "finance", "donor") exist. The same on every run (a fixed seed) apart from
 * ids and dates, which are relative to today. Returns the number of
 * agreements made, or -1 with e (each service call commits on its own, so
 * what was written before a failure stays). */
int sponsorship_demo(struct db *db, const struct actor *a, struct err *e);

#endif
