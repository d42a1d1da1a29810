/*
 * children_web.h: the registry's HTTP side: the JSON API (children_api.c)
 * and the pages (children_pages.c), and what they share.
 */
#ifndef SANAD_CHILDREN_CHILDREN_WEB_H
#define SANAD_CHILDREN_CHILDREN_WEB_H

#include <jansson.h>

#include "children/search.h"
#include "http/http.h"

/* Registers the /api/v1 registry routes. */
void children_api_register(void);
/* Registers CSV import (API and page) and export. */
void children_import_register(void);
/* Registers the registry pages (list, profile, forms, household). */
void children_pages_register(void);
/* Fills q from the request's query string (q, status, sex, age_min, age_max,
 * governorate, need, sponsored, sort, page, per_page). Returns -1 with e
 * naming a bad parameter. Strings point into the request. */
int children_query_from_request(struct http_req *r, struct child_query *q, struct err *e);
/* The children a new record rec may duplicate: the matching engine's scored
 * candidates (with "score" and "explain") joined with the registry's own
 * rule (same name chain, birth year within one: "reasons"), best first.
 * Inside the caller's transaction. A new array, or NULL with e. */
json_t *children_registration_candidates(struct db *db, const struct actor *a, json_t *rec,
                                         struct err *e);

#endif
