#include "auth/authz.h"

#include <string.h>

#include "core/banned.h"

static const struct role_info roles[] = {
    {"admin", "role.admin", true},
    {"supervisor", "role.supervisor", true},
    {"case_worker", "role.case_worker", true},
    {"psychosocial_specialist", "role.psychosocial_specialist", true},
    {"sponsorship_officer", "role.sponsorship_officer", true},
    {"finance_officer", "role.finance_officer", true},
    {"coordinator", "role.coordinator", true},
    {"auditor", "role.auditor", true},
    {"donor", "role.donor", false},
};

/* The permission table: one row per role, its permissions space-separated.
 * This is the only place where access is granted. */
static const struct {
    const char *role;  /* role id */
    const char *perms; /* " perm perm ... " (leading and trailing space) */
} grants[] = {
    {"admin", " account.self users.manage users.read audit.read dashboard.view children.read"
              " children.write cases.read sponsorship.read finance.read "},
    {"supervisor", " account.self users.read dashboard.view children.read children.write"
                   " children.health cases.read cases.write cases.approve psych.notes "},
    {"case_worker", " account.self dashboard.view children.read children.write children.health"
                    " cases.read cases.write "},
    {"psychosocial_specialist", " account.self dashboard.view children.read children.health"
                                " cases.read cases.write psych.notes "},
    {"sponsorship_officer", " account.self dashboard.view children.read sponsorship.read"
                            " sponsorship.write finance.read "},
    {"finance_officer", " account.self dashboard.view sponsorship.read finance.read"
                        " finance.write "},
    {"coordinator", " account.self dashboard.view children.read network.coordinate "},
    {"auditor", " account.self users.read audit.read dashboard.view children.read cases.read"
                " sponsorship.read finance.read "},
    {"donor", " account.self portal.donor "},
};

const struct role_info *authz_roles(int *n_out)
{
    *n_out = (int)(sizeof(roles) / sizeof(roles[0]));
    return roles;
}

bool authz_role_valid(const char *role)
{
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
        if (strcmp(roles[i].id, role) == 0) {
            return true;
        }
    }
    return false;
}

bool authz_allows(const char *role, const char *perm)
{
    if (!role || !perm || !*perm || strchr(perm, ' ')) {
        return false;
    }
    size_t n = strlen(perm);
    for (size_t i = 0; i < sizeof(grants) / sizeof(grants[0]); i++) {
        if (strcmp(grants[i].role, role) != 0) {
            continue;
        }
        for (const char *p = strstr(grants[i].perms, perm); p; p = strstr(p + 1, perm)) {
            if (p[-1] == ' ' && p[n] == ' ') {
                return true;
            }
        }
        return false;
    }
    return false;
}

bool authz_role_needs_mfa(const char *role)
{
    return role && strcmp(role, "admin") == 0;
}
