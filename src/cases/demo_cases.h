/*
 * demo_cases.h: demonstration case work for `sanad init --demo`: cases for
 * some of the demo children at every stage of the workflow, with
 * assessments, plans and their actions, service providers, sessions held,
 * missed and upcoming, urgent flags, tasks and PSC-17 / WHO-5 scores over
 * time, written through the case services so that everything is validated
 * and audited.
 */
#ifndef SANAD_CASES_DEMO_CASES_H
#define SANAD_CASES_DEMO_CASES_H

#include "auth/auth.h"
#include "core/err.h"
#include "db/db.h"

/* Opens about 60 cases for the children of a's organization (made first by
 * children_demo) and works them as the demo users "caseworker",
 * "psychologist" and "supervisor" would have over the last three months
 * (approvals by the supervisor, who never works a case). The same on every
 * run (a fixed seed) apart from ids and dates, which are relative to today.
 * a is the command line's actor with org_id and org_slug set; the master key
 * must be loaded (notes are sealed) and the instruments too (cli_start).
 * Returns the number of cases opened, or -1 with e (what was written before
 * the failure stays: each service call commits on its own). */
int cases_demo(struct db *db, const struct actor *a, struct err *e);

#endif
