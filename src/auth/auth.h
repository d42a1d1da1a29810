/*
 * auth.h: accounts, sessions, API tokens and the actor every service call
 * carries. Services here open their own transactions on the db they are
 * given and write the audit entry in the same transaction as the change.
 */
#ifndef SANAD_AUTH_AUTH_H
#define SANAD_AUTH_AUTH_H

#include <jansson.h>
#include <stdbool.h>

#include "audit/audit.h"
#include "core/err.h"
#include "db/db.h"

/* Who is acting: a logged-in user, an API token's user, or the command line. */
struct actor {
    char user_id[40];       /* users.id; "" for the command line */
    char org_id[40];        /* organizations.id of the user */
    char org_slug[64];      /* the organization's slug */
    char username[64];      /* login name within the organization */
    char display_name[192]; /* name shown to people */
    char role[32];          /* role id (auth/authz.h) */
    char lang[4];           /* preferred language, "ar" or "en" */
    bool system;            /* the command line, acting for the operator: all permissions */
    bool mfa_ok;            /* the second factor was given (or is not enabled) */
    bool totp_enabled;      /* the account has a second factor */
    bool via_bearer;        /* authenticated by an Authorization: Bearer token */
    char session_hash[72];  /* hex SHA-256 of the session token; "" for API tokens */
    char csrf[48];          /* the session's anti-forgery token */
    const char *remote;     /* client address for the audit log (borrowed) */
    const char *request_id; /* request id for the audit log (borrowed) */
};

/* Fills a for the command line acting on organization org_id (may be ""). */
void actor_system(struct actor *a, const char *org_id);
/* True when the actor holds perm (the command line holds all). */
bool actor_can(const struct actor *a, const char *perm);
/* Appends an audit entry for a's action to db (inside the caller's write
 * transaction). Returns 0 or -1. */
int actor_audit(struct db *db, const struct actor *a, const char *action, const char *entity,
                const char *entity_id, const char *outcome, const char *detail, struct err *e);

/* What a successful login gives back. */
struct login_result {
    char token[64];     /* the session token (cookie value and bearer token), shown once */
    struct actor actor; /* the logged-in user */
    bool mfa_pending;   /* the password was right; the second factor is still due */
};

/* Logs in. With a second factor enabled, totp must hold the current code
 * unless mfa_later (pages ask for it on a second screen). Throttles per
 * account and per address. Failures are audited and give ERR_UNAUTH
 * "invalid_credentials" (the same for a wrong organization, user or
 * password), "totp_required" or "invalid_totp"; ERR_LIMIT
 * "too_many_requests" when throttled. */
int auth_login(struct db *db, const char *org_slug, const char *username, const char *password,
               const char *totp, bool mfa_later, const char *remote, const char *request_id,
               struct login_result *out, struct err *e);
/* Completes a login that is waiting for the second factor. */
int auth_login_mfa(struct db *db, struct actor *a, const char *code, struct err *e);
/* Resolves a session token (cookie or bearer) into an actor, ending it when
 * idle or too old. Returns 1 found, 0 not found/expired, -1 on error. */
int auth_session_find(struct db *db, const char *token, struct actor *out, struct err *e);
/* Resolves an API token. Returns 1, 0 or -1 as auth_session_find. */
int auth_token_find(struct db *db, const char *token, struct actor *out, struct err *e);
/* Ends the actor's session on the server. */
int auth_logout(struct db *db, const struct actor *a, struct err *e);

/* Creates an organization (command line). slug: [a-z0-9-], 2..40. */
int org_create(struct db *db, const struct actor *a, const char *slug, const char *name,
               char org_id_out[40], struct err *e);
/* Finds an organization's id by slug. Returns 1, 0 or -1. */
int org_find(struct db *db, const char *slug, char org_id_out[40], struct err *e);

/* A new account's details. */
struct user_new {
    const char *username;     /* [a-z0-9._-], 2..64, unique in the organization */
    const char *display_name; /* 1..120 characters */
    const char *email;        /* optional */
    const char *role;         /* a role id */
    const char *lang;         /* "ar" or "en"; NULL for ar */
    const char *password;     /* NULL to invite: the user sets it through a link */
};
/* Creates a user in a's organization (or org_id for the command line).
 * Without a password an invite token valid for 7 days is written into
 * invite_out (may be NULL when a password is given). */
int user_create(struct db *db, const struct actor *a, const char *org_id,
                const struct user_new *u, char user_id_out[40], char invite_out[64],
                struct err *e);
/* Sets the password of the account invited with token. */
int user_accept_invite(struct db *db, const char *token, const char *password,
                       const char *remote, struct err *e);
/* Looks up an invitation: fills org slug and username. Returns 1, 0 or -1. */
int user_invite_find(struct db *db, const char *token, char org_slug[64], char username[64],
                     struct err *e);
/* Lists the users of a's organization as a JSON array (new reference). */
json_t *user_list(struct db *db, const struct actor *a, struct err *e);
/* One user of a's organization as JSON, or NULL (ERR_NOT_FOUND). */
json_t *user_get(struct db *db, const struct actor *a, const char *user_id, struct err *e);
/* Changes a user's role; refuses the actor's own account. */
int user_set_role(struct db *db, const struct actor *a, const char *user_id, const char *role,
                  struct err *e);
/* Activates or deactivates a user; deactivation ends their sessions. Refuses
 * the actor's own account. */
int user_set_active(struct db *db, const struct actor *a, const char *user_id, bool active,
                    struct err *e);
/* Removes a user's second factor (lost phone); they enrol again at next login. */
int user_reset_totp(struct db *db, const struct actor *a, const char *user_id, struct err *e);
/* Changes the actor's own password after checking the current one; ends the
 * actor's other sessions. */
int user_change_password(struct db *db, const struct actor *a, const char *current,
                         const char *password, struct err *e);
/* Stores the actor's preferred language. */
int user_set_lang(struct db *db, const struct actor *a, const char *lang, struct err *e);
/* Starts second-factor enrolment: a new secret is kept pending and returned. */
int user_totp_begin(struct db *db, const struct actor *a, char secret_out[40], struct err *e);
/* The actor's pending enrolment secret (opened); returns 1 with it in
 * secret_out, 0 when none is pending, -1 on error. */
int user_totp_pending(struct db *db, const struct actor *a, char secret_out[40], struct err *e);
/* Confirms enrolment with a code from the app; the second factor is then on. */
int user_totp_confirm(struct db *db, struct actor *a, const char *code, struct err *e);

/* Creates an API token acting as user_id (a user of a's organization).
 * The token is written into token_out and never stored in clear. */
int token_create(struct db *db, const struct actor *a, const char *user_id, const char *name,
                 char token_id_out[40], char token_out[64], struct err *e);
/* The organization's tokens (without secrets) as a JSON array. */
json_t *token_list(struct db *db, const struct actor *a, struct err *e);
/* Revokes a token of a's organization. */
int token_revoke(struct db *db, const struct actor *a, const char *token_id, struct err *e);

/* Hex SHA-256 of a token, as stored. out must hold 65 bytes. */
void auth_token_hash(const char *token, char *out);
/* A new random token: prefix followed by 43 base64url characters (256 bits). */
void auth_new_token(const char *prefix, char *out, size_t n);

#endif
