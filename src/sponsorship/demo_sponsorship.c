/*
 * demo_sponsorship.c: the sponsorship part of `sanad init --demo` (see
 * demo_sponsorship.h). Everything goes through the services as the demo
 * users would have done it: the sponsorship officer ("sponsorship") keeps
 * donors and agreements, the finance officer ("finance") records payments,
 * pays guardians and closes the books, the donor ("donor") writes letters.
 */
#include "sponsorship/demo_sponsorship.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"
#include "db/db_util.h"
#include "children/children.h"
#include "finance/ledger.h"
#include "sponsorship/billing.h"
#include "sponsorship/disburse.h"
#include "sponsorship/portal.h"
#include "sponsorship/sponsors.h"
#include "sponsorship/sponsorship.h"
#include "core/banned.h"

/* How many children of the demo get a sponsor (the rest wait). */
#define DEMO_SPONSORED 130
/* The most months of history an agreement has. */
#define DEMO_MONTHS 14

/* A deterministic generator (splitmix64), so the demo is the same on every run. */
struct rng {
    uint64_t s; /* the state */
};

/* The next 64 random bits. */
static uint64_t rng_next(struct rng *g)
{
    uint64_t z = (g->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A number in [lo, hi]. */
static int rng_range(struct rng *g, int lo, int hi)
{
    return hi <= lo ? lo : lo + (int)(rng_next(g) % (uint64_t)(hi - lo + 1));
}

/* True with probability pct percent. */
static bool rng_chance(struct rng *g, int pct)
{
    return rng_range(g, 1, 100) <= pct;
}

/* The demo's state. */
struct demo {
    struct db *db;          /* the database */
    struct err *e;          /* where failures go */
    struct rng rng;         /* the fixed-seed generator */
    struct actor sys;       /* the command line */
    struct actor officer;   /* the sponsorship officer */
    struct actor finance;   /* the finance officer */
    struct actor donor;     /* the donor's portal account */
    int64_t today;          /* today as days since 1970-01-01 (UTC) */
    char donor_ids[32][40]; /* the donors made, in order */
    int n_donors;           /* how many */
};

/* Writes the date `days` (days since the epoch) as YYYY-MM-DD into out. */
static void day_text(int64_t days, char out[11])
{
    int y, m, d;
    time_civil_from_days(days, &y, &m, &d);
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

/* The first day of the month `back` months before this one, as days. */
static int64_t month_start(const struct demo *d, int back)
{
    int y, m, dd;
    time_civil_from_days(d->today, &y, &m, &dd);
    int idx = y * 12 + (m - 1) - back;
    return time_days_from_civil(idx / 12, idx % 12 + 1, 1);
}

/* Writes the month `back` months before this one as YYYY-MM into out. */
static void month_text(const struct demo *d, int back, char out[8])
{
    char day[11];
    day_text(month_start(d, back), day);
    snprintf(out, 8, "%.7s", day);
}

/* Fills out with the demo user username, as a logged-in actor would be.
 * Returns 0, or -1 with e when there is no such user. */
static int load_actor(struct demo *d, const char *username, struct actor *out)
{
    int found;
    struct db_stmt *s = db_row(d->db, d->e, &found,
                               "SELECT id, display_name, role FROM users"
                               " WHERE org_id = $1 AND username = $2 AND active = 1",
                               "tt", d->sys.org_id, username);
    if (!s) {
        return found < 0 ? -1
                         : err_set(d->e, ERR_NOT_FOUND, "not_found", "username",
                                   "no demo user '%s': make the demo users first", username);
    }
    memset(out, 0, sizeof(*out));
    snprintf(out->user_id, sizeof(out->user_id), "%s", db_col_text(s, 0));
    snprintf(out->display_name, sizeof(out->display_name), "%s", db_col_text(s, 1));
    snprintf(out->role, sizeof(out->role), "%s", db_col_text(s, 2));
    db_done(s);
    snprintf(out->org_id, sizeof(out->org_id), "%s", d->sys.org_id);
    snprintf(out->org_slug, sizeof(out->org_slug), "%s", d->sys.org_slug);
    snprintf(out->username, sizeof(out->username), "%s", username);
    snprintf(out->lang, sizeof(out->lang), "ar");
    out->mfa_ok = true;
    out->remote = "demo";
    return 0;
}

/* Joins the problems of a validation failure into e's message, so that a
 * demo that stops says which field was refused. Frees errors. */
static int explain(struct demo *d, const char *what, json_t *errors)
{
    if (errors && json_array_size(errors) > 0) {
        json_t *p = json_array_get(errors, 0);
        const char *field = json_string_value(json_object_get(p, "field"));
        const char *msg = json_string_value(json_object_get(p, "message"));
        err_set(d->e, ERR_INVALID, "demo", field, "%s: '%s' %s", what, field ? field : "",
                msg ? msg : "");
    } else if (d->e->msg[0]) {
        char msg[sizeof(d->e->msg)], field[sizeof(d->e->field)];
        snprintf(msg, sizeof(msg), "%s", d->e->msg);
        snprintf(field, sizeof(field), "%s", d->e->field);
        err_set(d->e, d->e->kind, "demo", field, "%s: %s", what, msg);
    }
    json_decref(errors);
    return -1;
}

/* The demo's donors: kind, Arabic name, Latin name, city, e-mail (NULL for
 * none), and the index of the donor who pays for this one (-1: itself). */
static const struct {
    const char *kind;
    const char *name;
    const char *latin;
    const char *city;
    const char *email;
    int payer;
} donors[] = {
    {"person", "Sarah Thompson", "Sarah Thompson", "London", "donor@example.org", -1},
    {"person", "مريم الحسيني", "Maryam Al-Husseini", "إربد", "maryam@example.org", -1},
    {"family", "عائلة الشريف", "Al-Sharif family", "الزرقاء", NULL, -1},
    {"company", "شركة النور للتجارة", "Al-Noor Trading Co.", "عمّان", "giving@alnoor.example", -1},
    {"mosque", "مسجد الرحمة", "Al-Rahma Mosque", "السلط", NULL, -1},
    {"association", "جمعية أصدقاء الطفولة", "Friends of Childhood Society", "مادبا", NULL, -1},
    {"group", "مجموعة أهل الخير", "Ahl Al-Khair group", "عمّان", NULL, 3},
    {"person", "خالد المصري", "Khaled Al-Masri", "دبي", "khaled@example.org", -1},
    {"person", "فاطمة الزهراني", "Fatima Al-Zahrani", "الرياض", NULL, -1},
    {"person", "عبد الله الخطيب", "Abdullah Al-Khatib", "عمّان", "abdullah@example.org", -1},
    {"church", "كنيسة البشارة", "Annunciation Church", "الناصرة", NULL, -1},
    {"person", "يوسف العلي", "Yousef Al-Ali", "الكويت", NULL, -1},
    {"person", "ليلى حداد", "Layla Haddad", "بيروت", "layla@example.org", -1},
    {"person", "أحمد السعدي", "Ahmad Al-Saadi", "الدوحة", NULL, -1},
    {"family", "عائلة القاسم", "Al-Qasem family", "عمّان", NULL, -1},
    {"person", "Jonas Weber", "Jonas Weber", "Berlin", NULL, -1},
    {"person", "هدى النجار", "Huda Al-Najjar", "غزة", NULL, -1},
    {"person", "سامي عيسى", "Sami Issa", "رام الله", NULL, -1},
    {"company", "مؤسسة الأمل للمقاولات", "Al-Amal Contracting", "العقبة", NULL, -1},
    {"person", "نور الهدى يونس", "Nour Al-Huda Younes", "إربد", NULL, -1},
};

/* Makes the donors and links the demo donor account ("Sarah Thompson", as
 * the demo user is named) to the first. */
static int make_donors(struct demo *d)
{
    for (size_t i = 0; i < sizeof(donors) / sizeof(donors[0]); i++) {
        json_t *in = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "kind", donors[i].kind, "name", donors[i].name,
            "name_latin", donors[i].latin, "city", donors[i].city, "preferred_lang",
            donors[i].name[0] & 0x80 ? "ar" : "en", "preferred_channel",
            donors[i].email ? "email" : "phone", "contact_consent", donors[i].email != NULL);
        if (donors[i].email) {
            json_object_set_new(in, "email", json_string(donors[i].email));
        }
        if (strcmp(donors[i].kind, "company") == 0) {
            json_object_set_new(in, "tax_name", json_string(donors[i].name));
            json_object_set_new(in, "tax_id", json_string("TX-4417"));
        }
        if (donors[i].payer >= 0) {
            json_object_set_new(in, "payer_id", json_string(d->donor_ids[donors[i].payer]));
        }
        json_t *errors = NULL;
        char no[16];
        int rc = donor_create(d->db, &d->officer, in, d->donor_ids[d->n_donors], no, &errors, d->e);
        json_decref(in);
        if (rc < 0) {
            return explain(d, "demo donor", errors);
        }
        d->n_donors++;
    }
    return donor_link_user(d->db, &d->officer, d->donor_ids[0], d->donor.user_id, d->e);
}

/* A child of the demo as the agreements need it. */
struct kid {
    char id[40];        /* children.id */
    char household[40]; /* households.id or "" */
};

/* Reads up to max active children, in file-number order. Returns how many. */
static int load_kids(struct demo *d, struct kid *kids, int max)
{
    struct db_stmt *s = db_query(d->db, d->e,
                                 "SELECT id, household_id FROM children WHERE org_id = $1"
                                 " AND status = 'active' AND merged_into IS NULL"
                                 " ORDER BY file_no",
                                 "t", d->sys.org_id);
    if (!s) {
        return -1;
    }
    int n = 0;
    while (n < max && db_step(s, d->e) == 1) {
        snprintf(kids[n].id, sizeof(kids[n].id), "%s", db_col_text(s, 0));
        const char *h = db_col_text(s, 1);
        snprintf(kids[n].household, sizeof(kids[n].household), "%s", h ? h : "");
        n++;
    }
    db_done(s);
    if (err_failed(d->e)) {
        return -1;
    }
    return n;
}

/* Creates one agreement (or a sibling group when ids holds several) and
 * writes the first agreement's id into first_out (may be NULL). */
static int agree(struct demo *d, json_t *child_ids, const char *donor_id, const char *amount,
                 const char *currency, const char *frequency, const char *purpose,
                 const char *start, const char *status, char *first_out)
{
    json_t *in =
        json_pack("{s:O, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "child_ids", child_ids, "donor_id",
                  donor_id, "amount", amount, "currency", currency, "frequency", frequency,
                  "purpose", purpose, "start_date", start, "status", status);
    json_t *created = NULL, *errors = NULL;
    int rc = sponsorship_create(d->db, &d->officer, in, &created, &errors, d->e);
    json_decref(in);
    if (rc < 0) {
        return explain(d, "demo agreement", errors);
    }
    if (first_out) {
        const char *id = json_string_value(json_object_get(json_array_get(created, 0), "id"));
        snprintf(first_out, 40, "%s", id ? id : "");
    }
    json_decref(created);
    return (int)json_array_size(child_ids);
}

/* Makes the agreements: most monthly in US dollars, some quarterly, a few in
 * Jordanian dinars and euros, siblings of a household together, a second
 * sponsor for education, some pending. Returns how many, or -1. */
static int make_agreements(struct demo *d)
{
    static struct kid kids[DEMO_SPONSORED];
    int n_kids = load_kids(d, kids, DEMO_SPONSORED);
    if (n_kids < 0) {
        return -1;
    }
    int made = 0;
    for (int i = 0; i < n_kids;) {
        /* Siblings of one household, next to each other in file order or not:
         * take the run of children of this household that follow. */
        json_t *ids = json_array();
        json_array_append_new(ids, json_string(kids[i].id));
        int j = i + 1;
        while (j < n_kids && kids[i].household[0] && j - i < 3 &&
               strcmp(kids[j].household, kids[i].household) == 0) {
            json_array_append_new(ids, json_string(kids[j].id));
            j++;
        }
        int donor = i == 0 ? 0 : rng_range(&d->rng, 0, d->n_donors - 1);
        int back = rng_range(&d->rng, 2, DEMO_MONTHS);
        char start[11];
        day_text(month_start(d, back) + (rng_chance(&d->rng, 80) ? 0 : 14), start);
        const char *cur = "USD", *freq = "monthly", *amount = "50";
        int pick = rng_range(&d->rng, 1, 100);
        if (pick <= 10) {
            cur = "JOD";
            amount = "35";
        } else if (pick <= 16) {
            cur = "EUR";
            freq = "quarterly";
            amount = "150";
        } else if (pick <= 40) {
            amount = "75";
        } else if (pick <= 50) {
            amount = "100";
        }
        const char *status = i > 0 && rng_chance(&d->rng, 4) ? "pending" : "active";
        int n =
            agree(d, ids, d->donor_ids[donor], amount, cur, freq, "general", start, status, NULL);
        if (n < 0) {
            json_decref(ids);
            return -1;
        }
        made += n;
        /* Every seventh child also gets an education sponsor. */
        if (i % 7 == 3 && strcmp(status, "active") == 0) {
            json_t *one = json_pack("[s]", kids[i].id);
            n = agree(d, one, d->donor_ids[(donor + 5) % d->n_donors], "20", "USD", "monthly",
                      "education", start, "active", NULL);
            json_decref(one);
            if (n < 0) {
                json_decref(ids);
                return -1;
            }
            made += n;
        }
        json_decref(ids);
        i = j;
    }
    return made;
}

/* Pauses one agreement, ends another at the sponsor's request and hands a
 * third child to a new sponsor, so the history shows each. */
static int make_changes(struct demo *d)
{
    char ids[3][40];
    int n = 0, rc;
    struct db_stmt *s = db_query(d->db, d->e,
                                 "SELECT id FROM sponsorships WHERE org_id = $1 AND status = "
                                 "'active' AND donor_id <> $2 AND start_date <= $3"
                                 " ORDER BY agreement_no LIMIT 3",
                                 "ttt", d->sys.org_id, d->donor_ids[0], "9999");
    if (!s) {
        return -1;
    }
    while (n < 3 && db_step(s, d->e) == 1) {
        snprintf(ids[n++], 40, "%s", db_col_text(s, 0));
    }
    db_done(s);
    if (err_failed(d->e)) {
        return -1;
    }
    if (n < 3) {
        return 0;
    }
    char from[11], to[11], on[11];
    day_text(month_start(d, 4), from);
    day_text(month_start(d, 2) - 1, to);
    if (sponsorship_pause(d->db, &d->officer, ids[0], from, to, "سفر الكافل / sponsor abroad",
                          d->e) < 0) {
        return -1;
    }
    day_text(month_start(d, 1), on);
    if (sponsorship_end(d->db, &d->officer, ids[1], "sponsor_request", on,
                        "طلب الكافل إنهاء الكفالة", d->e) < 0) {
        return -1;
    }
    json_t *in = json_pack("{s:s, s:s}", "donor_id", d->donor_ids[9], "start_date", on);
    json_t *errors = NULL;
    char new_id[40];
    rc = sponsorship_change_sponsor(d->db, &d->officer, ids[2], in, new_id, &errors, d->e);
    json_decref(in);
    return rc < 0 ? explain(d, "demo sponsor change", errors) : 0;
}

/* One due as the payments need it. */
struct due {
    char payer[40];    /* who owes it */
    char id[40];       /* sponsorship_dues.id */
    char currency[4];  /* its currency */
    char due_date[11]; /* when it fell due */
    int64_t amount;    /* minor units */
};

/* Pays most dues a few days after they fall due, by every method; some
 * payers pay two periods at once, some miss the last months (arrears).
 * Returns the number of payments, or -1. */
static int make_payments(struct demo *d)
{
    static const char *const methods[] = {"bank_transfer", "bank_transfer", "standing_order",
                                          "cash",          "card",          "mobile_money"};
    struct db_stmt *s = db_query(d->db, d->e,
                                 "SELECT payer_id, id, currency, due_date, amount"
                                 " FROM sponsorship_dues WHERE org_id = $1"
                                 " ORDER BY due_date, payer_id",
                                 "t", d->sys.org_id);
    if (!s) {
        return -1;
    }
    size_t n = 0, cap = 0;
    struct due *dues = NULL;
    int rc;
    while ((rc = db_step(s, d->e)) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 512;
            struct due *grown = realloc(dues, cap * sizeof(*dues));
            if (!grown) {
                free(dues);
                db_done(s);
                return err_set(d->e, ERR_INTERNAL, "oom", NULL, "out of memory");
            }
            dues = grown;
        }
        snprintf(dues[n].payer, 40, "%s", db_col_text(s, 0));
        snprintf(dues[n].id, 40, "%s", db_col_text(s, 1));
        snprintf(dues[n].currency, 4, "%s", db_col_text(s, 2));
        snprintf(dues[n].due_date, 11, "%s", db_col_text(s, 3));
        dues[n].amount = db_col_int64(s, 4);
        n++;
    }
    db_done(s);
    if (rc < 0) {
        free(dues);
        return -1;
    }
    int made = 0;
    char late_payer[40] = "";
    for (size_t i = 0; i < n; i++) {
        int y, m, dd;
        time_date_parse(dues[i].due_date, &y, &m, &dd);
        int64_t due_day = time_days_from_civil(y, m, dd);
        /* One payer in eleven stops paying in the last three months. */
        bool recent = due_day >= month_start(d, 3);
        if (recent && dues[i].payer[strlen(dues[i].payer) - 1] % 11 == 0) {
            snprintf(late_payer, sizeof(late_payer), "%s", dues[i].payer);
            continue;
        }
        if (rng_chance(&d->rng, 6)) {
            continue; /* a missed month */
        }
        int64_t pay_day = due_day + rng_range(&d->rng, 0, 12);
        if (pay_day > d->today) {
            continue; /* not yet paid */
        }
        char on[11], ext[48];
        day_text(pay_day, on);
        const char *method = methods[rng_range(&d->rng, 0, 5)];
        int64_t amount = dues[i].amount * (rng_chance(&d->rng, 5) ? 2 : 1);
        struct payment_new p = {
            .donor_id = dues[i].payer,
            .amount_minor = amount,
            .fee_minor = strcmp(method, "card") == 0 ? amount * 3 / 100 : 0,
            .currency = dues[i].currency,
            .method = method,
            .received_on = on,
            .reference = strcmp(method, "cash") == 0 ? "إيصال نقدي" : NULL,
        };
        if (strcmp(method, "card") == 0 || strcmp(method, "mobile_money") == 0) {
            snprintf(ext, sizeof(ext), "%s-%06zu", strcmp(method, "card") == 0 ? "GW" : "MM",
                     i + 1);
            p.external_ref = ext;
        }
        char id[40], receipt[32];
        if (payment_record(d->db, &d->finance, &p, id, receipt, d->e) < 0) {
            free(dues);
            return explain(d, "demo payment", NULL);
        }
        made++;
    }
    free(dues);
    return made;
}

/* Produces, confirms and pays the payout list of every past month in each
 * currency (with a reference or a failed transfer now and then); this
 * month's list stays a draft for the finance officer. Returns 0 or -1. */
static int make_payouts(struct demo *d)
{
    static const char *const currencies[] = {"USD", "JOD", "EUR"};
    for (int back = DEMO_MONTHS; back >= 0; back--) {
        char period[8], confirm_on[11];
        month_text(d, back, period);
        int64_t day = month_start(d, back) + 27;
        if (day > d->today) {
            day = d->today;
        }
        day_text(day, confirm_on);
        for (size_t c = 0; c < sizeof(currencies) / sizeof(currencies[0]); c++) {
            char run_id[40], run_no[32];
            int64_t n_lines = 0, total = 0;
            const char *method = c == 1 ? "cash" : "bank";
            if (disb_run_create(d->db, &d->finance, period, currencies[c], method, run_id, run_no,
                                &n_lines, &total, d->e) < 0) {
                if (strcmp(d->e->code, "nothing_to_disburse") == 0) {
                    err_clear(d->e);
                    continue; /* nothing to pass on in this currency and month */
                }
                return explain(d, "demo payout list", NULL);
            }
            if (n_lines == 0 || back == 0) {
                continue;
            }
            if (disb_run_confirm(d->db, &d->finance, run_id, confirm_on, d->e) < 0) {
                return explain(d, "demo payout confirmation", NULL);
            }
            struct db_stmt *s = db_query(d->db, d->e,
                                         "SELECT id FROM disbursement_lines WHERE run_id = $1"
                                         " ORDER BY id",
                                         "t", run_id);
            if (!s) {
                return -1;
            }
            char(*lines)[40] = calloc((size_t)n_lines + 1, 40);
            int n = 0;
            while (lines && n < n_lines && db_step(s, d->e) == 1) {
                snprintf(lines[n++], 40, "%s", db_col_text(s, 0));
            }
            db_done(s);
            if (err_failed(d->e)) {
                free(lines);
                return -1;
            }
            for (int i = 0; lines && i < n; i++) {
                if (back == 1 && rng_chance(&d->rng, 20)) {
                    continue; /* last month's list is still being paid */
                }
                if (rng_chance(&d->rng, 2)) {
                    if (disb_line_failed(d->db, &d->finance, lines[i],
                                         "تعذّر الوصول إلى الوصي / guardian not reached",
                                         d->e) < 0) {
                        free(lines);
                        return explain(d, "demo failed payout", NULL);
                    }
                    continue;
                }
                char ref[48];
                snprintf(ref, sizeof(ref), "%.31s-%03d", run_no, i + 1);
                struct disb_proof proof = {.reference = ref, .paid_on = confirm_on};
                if (disb_line_paid(d->db, &d->finance, lines[i], &proof, d->e) < 0) {
                    free(lines);
                    return explain(d, "demo payout", NULL);
                }
            }
            free(lines);
        }
    }
    return 0;
}

/* Records school kits (with a value, given by a company) and food parcels
 * (without) for sponsored children. Returns 0 or -1. */
static int make_inkind(struct demo *d)
{
    struct db_stmt *s = db_query(d->db, d->e,
                                 "SELECT id FROM children WHERE org_id = $1 AND sponsored = 1"
                                 " ORDER BY file_no LIMIT 24",
                                 "t", d->sys.org_id);
    if (!s) {
        return -1;
    }
    char ids[24][40];
    int n = 0, rc;
    while (n < 24 && db_step(s, d->e) == 1) {
        snprintf(ids[n++], 40, "%s", db_col_text(s, 0));
    }
    db_done(s);
    if (err_failed(d->e)) {
        return -1;
    }
    char kits_on[11], food_on[11];
    day_text(month_start(d, 3) + 2, kits_on);
    day_text(month_start(d, 1) + 9, food_on);
    for (int i = 0; i < n; i++) {
        bool kit = i % 2 == 0;
        json_t *in =
            kit ? json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "child_id", ids[i],
                            "kind", "school_kit", "description", "حقيبة مدرسية وقرطاسية",
                            "quantity", 1, "distributed_on", kits_on, "value", "15.00", "currency",
                            "USD", "fund", "education", "donor_id", d->donor_ids[3])
                : json_pack("{s:s, s:s, s:s, s:i, s:s}", "child_id", ids[i], "kind", "food_parcel",
                            "description", "طرد غذائي شهري", "quantity", 2, "distributed_on",
                            food_on);
        json_t *errors = NULL;
        char id[40];
        rc = inkind_record(d->db, &d->officer, in, id, &errors, d->e);
        json_decref(in);
        if (rc < 0) {
            return explain(d, "demo in-kind", errors);
        }
    }
    return 0;
}

/* The demo donor's letters (one delivered, one waiting for review), the
 * consent to show their children's photos and notes, and progress reports
 * for children of the demo donor and others. Returns 0 or -1. */
static int make_portal(struct demo *d)
{
    struct db_stmt *s = db_query(d->db, d->e,
                                 "SELECT DISTINCT child_id FROM sponsorships WHERE org_id = $1"
                                 " AND status IN ('active', 'paused')"
                                 " ORDER BY child_id LIMIT 6",
                                 "t", d->sys.org_id);
    if (!s) {
        return -1;
    }
    char kids[6][40];
    int n = 0, rc;
    while (n < 6 && db_step(s, d->e) == 1) {
        snprintf(kids[n++], 40, "%s", db_col_text(s, 0));
    }
    db_done(s);
    if (err_failed(d->e)) {
        return -1;
    }
    /* The demo donor's own children first. */
    char own[40] = "";
    s = db_query(d->db, d->e,
                 "SELECT child_id FROM sponsorships WHERE donor_id = $1"
                 " AND status = 'active' ORDER BY agreement_no LIMIT 1",
                 "t", d->donor_ids[0]);
    if (!s) {
        return -1;
    }
    if (db_step(s, d->e) == 1) {
        snprintf(own, sizeof(own), "%s", db_col_text(s, 0));
    }
    db_done(s);
    if (err_failed(d->e)) {
        return -1;
    }
    if (own[0]) {
        json_t *consent =
            json_pack("{s:s, s:b, s:b, s:s}", "scope", "sponsor_media", "guardian_consent", 1,
                      "child_assent", 1, "given_by", "الأم / the mother");
        char cid[40];
        rc = consent_record(d->db, &d->sys, own, consent, cid, d->e);
        json_decref(consent);
        if (rc < 0) {
            return explain(d, "demo consent", NULL);
        }
        char l1[40], l2[40];
        if (letter_create(d->db, &d->donor, own, "أتمنى لك عامًا دراسيًا موفقًا، أنا فخور بك دائمًا.",
                          l1, d->e) < 0 ||
            letter_review(d->db, &d->officer, l1, "approve", NULL, d->e) < 0 ||
            letter_review(d->db, &d->officer, l1, "deliver", NULL, d->e) < 0 ||
            letter_create(d->db, &d->donor, own, "كل عام وأنت بخير بمناسبة العيد!", l2, d->e) < 0) {
            return explain(d, "demo letter", NULL);
        }
    }
    char period[8];
    month_text(d, 1, period);
    for (int i = 0; i <= n; i++) {
        const char *child = i == n ? own : kids[i];
        if (!child[0] || (i < n && strcmp(child, own) == 0)) {
            continue;
        }
        json_t *in =
            json_pack("{s:s, s:s, s:s, s:s, s:s}", "child_id", child, "period", period, "note",
                      "تحسّن ملحوظ في القراءة، ويشارك في نادي الرسم بالمدرسة.", "note_en",
                      "Reading has clearly improved; takes part in the school's "
                      "drawing club.",
                      "school_results", "معدل 84% / average 84%");
        json_t *errors = NULL;
        char id[40];
        rc = report_create(d->db, &d->officer, in, id, &errors, d->e);
        json_decref(in);
        if (rc < 0) {
            return explain(d, "demo progress report", errors);
        }
        if (i % 2 == 0 || i == n) {
            if (report_approve(d->db, &d->officer, id, d->e) < 0) {
                return explain(d, "demo report approval", NULL);
            }
        }
    }
    return 0;
}

/* Exchange rates to the base currency (US dollars) since before the first
 * agreement, refreshed this month. Returns 0 or -1. */
static int make_rates(struct demo *d)
{
    char early[11], recent[11];
    day_text(month_start(d, DEMO_MONTHS + 2), early);
    day_text(month_start(d, 0), recent);
    if (ledger_set_rate(d->db, &d->finance, "JOD", early, "1.410437", d->e) < 0 ||
        ledger_set_rate(d->db, &d->finance, "EUR", early, "1.0815", d->e) < 0 ||
        ledger_set_rate(d->db, &d->finance, "EUR", recent, "1.0562", d->e) < 0) {
        return explain(d, "demo rate", NULL);
    }
    return 0;
}

int sponsorship_demo(struct db *db, const struct actor *a, struct err *e)
{
    static struct demo d;
    memset(&d, 0, sizeof(d));
    d.db = db;
    d.e = e;
    d.rng.s = 0x5a4ad0c0ffee2026ull;
    d.sys = *a;
    int y, m, dd;
    time_today(&y, &m, &dd);
    d.today = time_days_from_civil(y, m, dd);
    if (load_actor(&d, "sponsorship", &d.officer) < 0 ||
        load_actor(&d, "finance", &d.finance) < 0 || load_actor(&d, "donor", &d.donor) < 0) {
        return -1;
    }
    if (make_rates(&d) < 0 || make_donors(&d) < 0) {
        return -1;
    }
    int agreements = make_agreements(&d);
    if (agreements < 0 || make_changes(&d) < 0) {
        return -1;
    }
    char today[11];
    day_text(d.today, today);
    struct dues_result dues;
    if (dues_generate(db, &d.finance, today, &dues, e) < 0) {
        return explain(&d, "demo dues", NULL);
    }
    if (make_payments(&d) < 0 || make_payouts(&d) < 0 || make_inkind(&d) < 0 ||
        make_portal(&d) < 0) {
        return -1;
    }
    /* The books are closed up to three months ago. */
    for (int back = DEMO_MONTHS + 2; back >= 3; back--) {
        char period[8];
        month_text(&d, back, period);
        if (ledger_close_period(db, &d.finance, period, e) < 0) {
            return explain(&d, "demo period closing", NULL);
        }
    }
    struct sp_age_stats stats;
    if (sponsorship_age_check(db, a->org_id, today, &stats, e) < 0) {
        return explain(&d, "demo age check", NULL);
    }
    return agreements;
}
