/*
 * cases_web.h: the HTTP side of case management: the JSON API
 * (cases_api.c) and the pages (cases_pages.c), and what they share.
 */
#ifndef SANAD_CASES_CASES_WEB_H
#define SANAD_CASES_CASES_WEB_H

#include "cases/cases.h"
#include "http/http.h"

/* Registers the /api/v1 case routes. */
void cases_api_register(void);
/* Registers the case pages. */
void cases_pages_register(void);
/* Fills f from the query string (status, stage, risk, worker_id ("me" for the
 * actor), child_id, overdue=1, pending=1, page, per_page). -1 with e naming a
 * bad parameter. */
int cases_filter_from_request(struct http_req *r, struct case_filter *f, struct err *e);

#endif
