/*
 * authz.h: who may do what, decided in one place. Roles and the permissions
 * each holds live in one table in authz.c; everything else asks
 * authz_allows. Anything not granted is denied.
 */
#ifndef SANAD_AUTH_AUTHZ_H
#define SANAD_AUTH_AUTHZ_H

#include <stdbool.h>

/* Permissions, by name. Modules name theirs in their route tables. */
#define PERM_ACCOUNT_SELF "account.self"       /* own profile, password, second factor */
#define PERM_USERS_MANAGE "users.manage"       /* invite, change role, deactivate, tokens */
#define PERM_USERS_READ "users.read"           /* list the organization's users */
#define PERM_AUDIT_READ "audit.read"           /* read the audit log */
#define PERM_DASHBOARD "dashboard.view"        /* the staff dashboard */
#define PERM_CHILDREN_READ "children.read"     /* children's records, non-sensitive parts */
#define PERM_CHILDREN_WRITE "children.write"   /* register and edit children */
#define PERM_CHILDREN_HEALTH "children.health" /* health fields of a child's record */
#define PERM_CASES_READ "cases.read"           /* case files */
#define PERM_CASES_WRITE "cases.write"         /* open and work cases */
#define PERM_CASES_APPROVE "cases.approve"     /* approve assessments, plans, closures */
#define PERM_PSYCH_NOTES "psych.notes"         /* psychosocial notes and instrument answers */
#define PERM_SPONSOR_READ "sponsorship.read"   /* sponsors, agreements, who pays for whom */
#define PERM_SPONSOR_WRITE "sponsorship.write" /* manage sponsorships */
#define PERM_FINANCE_READ "finance.read"       /* the books */
#define PERM_FINANCE_WRITE "finance.write"     /* post money events */
#define PERM_NETWORK "network.coordinate"      /* referrals and cross-organization matching */
#define PERM_PORTAL "portal.donor"             /* the donor and sponsor portal */

/* One role as shown to people: its id and catalog key. */
struct role_info {
    const char *id;       /* "case_worker" */
    const char *label_key;/* catalog key of its name, "role.case_worker" */
    bool staff;           /* works inside the organization (false for donors) */
};

/* All roles, in display order; n_out gets the count. */
const struct role_info *authz_roles(int *n_out);
/* True when role is one of the roles above. */
bool authz_role_valid(const char *role);
/* True when role holds perm. Unknown roles and permissions hold nothing. */
bool authz_allows(const char *role, const char *perm);
/* True for roles that must use a second factor (admins). */
bool authz_role_needs_mfa(const char *role);

#endif
