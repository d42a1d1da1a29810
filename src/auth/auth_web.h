/*
 * auth_web.h: the HTTP side of accounts: the auth hook, and the route tables
 * of the account API and pages, registered by auth_web_register.
 */
#ifndef SANAD_AUTH_AUTH_WEB_H
#define SANAD_AUTH_AUTH_WEB_H

#include <stdbool.h>

#include "http/http.h"

/* The http_auth_hook: see auth_hook.c. */
int auth_hook(struct http_req *r);
/* True when r carries the session's CSRF token (X-CSRF-Token header or "csrf" field). */
bool auth_csrf_ok(struct http_req *r);
/* s percent-encoded for a query value, in the request arena. */
const char *auth_url_escape(struct http_req *r, const char *s);
/* Registers the account, user, token and audit routes and the auth hook. */
void auth_web_register(void);

#endif
