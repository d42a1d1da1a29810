/*
 * daily.c: the sponsorship module's daily round (see sponsorship.h): dues
 * and arrears alerts, then the age-limit notices and endings, organization
 * by organization.
 */
#include "sponsorship/sponsorship.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xalloc.h"
#include "db/db_util.h"
#include "sponsorship/billing.h"
#include "sponsorship/sponsors.h"
#include "core/banned.h"

/* Most organizations one round walks (a national network has hundreds). */
#define DAILY_MAX_ORGS 100000

int sponsorship_daily(struct db *db, const char *org_id, const char *today,
                      struct sponsorship_daily_stats *st, struct err *e)
{
    memset(st, 0, sizeof(*st));
    bool one = org_id && *org_id;
    struct db_stmt *s =
        one ? db_query(db, e, "SELECT id FROM organizations WHERE id = $1", "t", org_id)
            : db_query(db, e, "SELECT id FROM organizations ORDER BY id", "");
    if (!s) {
        return -1;
    }
    size_t n = 0, cap = 0;
    char(*ids)[40] = NULL;
    int rc;
    while ((rc = db_step(s, e)) == 1 && n < DAILY_MAX_ORGS) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            ids = xrealloc(ids, xmul(cap, sizeof(*ids)));
        }
        snprintf(ids[n++], 40, "%s", db_col_text(s, 0));
    }
    db_done(s);
    if (rc < 0) {
        free(ids);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        struct actor cli;
        actor_system(&cli, ids[i]);
        struct err oe;
        err_clear(&oe);
        struct dues_result dues;
        struct sp_age_stats age;
        if (dues_generate(db, &cli, today, &dues, &oe) < 0 ||
            sponsorship_age_check(db, ids[i], today, &age, &oe) < 0) {
            log_warn("sponsorship daily round failed", "org=%s error=\"%s\"", ids[i], oe.msg);
            st->n_failed++;
            continue;
        }
        st->n_dues += dues.n_dues;
        st->n_alerts += dues.n_alerts;
        st->n_noticed += age.noticed;
        st->n_ended += age.ended;
    }
    free(ids);
    return 0;
}
