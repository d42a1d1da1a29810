/*
 * bank.c: bank statement import, matching, confirmation; see bank.h.
 *
 * An import runs in two steps: the lines are matched inside a read-only
 * transaction (the donors' names are normalized once into an in-memory
 * index keyed by word skeletons), then the import, its new lines and their
 * candidates are written in one write transaction, where the duplicate
 * check (bank_lines.line_hash) is made for good. Nothing is written when
 * any line is malformed.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "core/buf.h"
#include "core/money.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "core/xalloc.h"
#include "db/db_util.h"
#include "sponsorship/bank.h"
#include "sponsorship/bank_internal.h"
#include "sponsorship/billing.h"
#include "sponsorship/sponsors_int.h"
#include "sponsorship/sponsorship.h"
#include "children/import.h"
#include "core/banned.h"

/* Evidence flags of a candidate; each has a reason code (reason_codes). */
enum {
    F_REF_DONOR = 1 << 0,     /* the reference holds the donor's number */
    F_REF_AGREEMENT = 1 << 1, /* the reference holds an agreement the donor pays */
    F_REF_KNOWN = 1 << 2,     /* the donor's earlier payments carried this reference */
    F_NAME_SAME = 1 << 3,     /* the payer name is the donor's */
    F_NAME_SIMILAR = 1 << 4,  /* the payer name is close to the donor's */
    F_AMOUNT_DUE = 1 << 5,    /* the amount is one open due of the donor */
    F_AMOUNT_DUES = 1 << 6,   /* the amount is the donor's oldest open dues together */
    F_AMOUNT_TOTAL = 1 << 7,  /* the amount is the donor's periodic total */
    F_NAME_OTHER = 1 << 8,    /* the name fits another donor rather than this one */
    F_REF_CONFLICT = 1 << 9,  /* the reference also names another donor */
};
#define F_REF (F_REF_DONOR | F_REF_AGREEMENT | F_REF_KNOWN)
#define F_NAME (F_NAME_SAME | F_NAME_SIMILAR)
#define F_AMOUNT (F_AMOUNT_DUE | F_AMOUNT_DUES | F_AMOUNT_TOTAL)

/* Reason codes by flag bit, in the order they are written. */
static const char *const reason_codes[] = {
    "ref_donor",  "ref_agreement", "ref_known",    "name_same",  "name_similar",
    "amount_due", "amount_dues",   "amount_total", "name_other", "ref_conflict",
};
#define N_REASONS (sizeof(reason_codes) / sizeof(reason_codes[0]))

/* True when a may import and confirm. */
static bool can_write(const struct actor *a)
{
    return actor_can(a, PERM_SPONSOR_WRITE) || actor_can(a, PERM_FINANCE_WRITE);
}

/* True when a may confirm a line, which records a payment: the same
 * permission as every other money write (finance.write, billing.h). */
static bool can_confirm(const struct actor *a)
{
    return actor_can(a, PERM_FINANCE_WRITE);
}

/* True when a may see imports. */
static bool can_read(const struct actor *a)
{
    return actor_can(a, PERM_SPONSOR_READ) || actor_can(a, PERM_FINANCE_READ);
}

/* ---- the donors' names, indexed ---- */

/* One donor of the organization. */
struct donor_ent {
    char id[40];      /* donors.id */
    void *name;       /* prepared name (bank_name_prepare) */
    void *name_latin; /* prepared Latin name, NULL when none */
};

/* One blocking key of a donor's name. */
struct key_ent {
    uint64_t key;   /* hash of a word's skeleton */
    uint32_t donor; /* index into matcher.d */
};

/* The organization's donors, ready for matching one import. */
struct matcher {
    struct donor_ent *d;  /* donors sorted by id (owned) */
    size_t n;             /* their number */
    struct key_ent *keys; /* keys sorted by key (owned) */
    size_t n_keys;        /* their number */
    uint16_t *hits;       /* per donor: keys shared with the current name (owned) */
    uint32_t *touched;    /* donors with hits > 0 (owned) */
    size_t n_touched;     /* their number */
};

/* Most keys taken from one name. */
#define MAX_NAME_KEYS 12
/* A key shared by more donors than this is too common to find candidates. */
#define KEY_MAX_POSTINGS 3000
/* Most donors compared in full for one name. */
#define MAX_NAME_COMPARED 400

/* Orders donors by id. */
static int donor_cmp(const void *a, const void *b)
{
    return strcmp(((const struct donor_ent *)a)->id, ((const struct donor_ent *)b)->id);
}

/* Orders keys by key, then donor. */
static int key_cmp(const void *a, const void *b)
{
    const struct key_ent *x = a, *y = b;
    if (x->key != y->key) {
        return x->key < y->key ? -1 : 1;
    }
    return x->donor < y->donor ? -1 : x->donor > y->donor;
}

/* Frees what m owns. */
static void matcher_release(struct matcher *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->d[i].name);
        free(m->d[i].name_latin);
    }
    free(m->d);
    free(m->keys);
    free(m->hits);
    free(m->touched);
    memset(m, 0, sizeof(*m));
}

/* Loads and indexes the donors of org_id. Returns 0 or -1 with e. */
static int matcher_load(struct db *db, const char *org_id, struct matcher *m, struct err *e)
{
    memset(m, 0, sizeof(*m));
    struct db_stmt *s =
        db_query(db, e, "SELECT id, name, name_latin FROM donors WHERE org_id = $1", "t", org_id);
    if (!s) {
        return -1;
    }
    size_t cap = 0;
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        if (m->n == cap) {
            cap = cap ? 2 * cap : 256;
            m->d = xrealloc(m->d, xmul(cap, sizeof(m->d[0])));
        }
        struct donor_ent *d = &m->d[m->n++];
        snprintf(d->id, sizeof(d->id), "%s", db_col_text(s, 0));
        d->name = bank_name_prepare(db_col_text(s, 1));
        const char *latin = db_col_text(s, 2);
        d->name_latin = latin && *latin ? bank_name_prepare(latin) : NULL;
    }
    db_done(s);
    if (rc < 0) {
        matcher_release(m);
        return -1;
    }
    if (m->n) {
        qsort(m->d, m->n, sizeof(m->d[0]), donor_cmp);
    }
    size_t kcap = 0;
    for (size_t i = 0; i < m->n; i++) {
        uint64_t k[2 * MAX_NAME_KEYS];
        int nk = bank_name_keys(m->d[i].name, k, MAX_NAME_KEYS);
        if (m->d[i].name_latin) {
            nk += bank_name_keys(m->d[i].name_latin, k + nk, MAX_NAME_KEYS);
        }
        for (int j = 0; j < nk; j++) {
            if (m->n_keys == kcap) {
                kcap = kcap ? 2 * kcap : 1024;
                m->keys = xrealloc(m->keys, xmul(kcap, sizeof(m->keys[0])));
            }
            m->keys[m->n_keys++] = (struct key_ent){k[j], (uint32_t)i};
        }
    }
    if (m->n_keys) {
        qsort(m->keys, m->n_keys, sizeof(m->keys[0]), key_cmp);
    }
    m->hits = xcalloc(m->n + 1, sizeof(m->hits[0]));
    m->touched = xcalloc(m->n + 1, sizeof(m->touched[0]));
    return 0;
}

/* The index of donor id, or -1. */
static int matcher_find(const struct matcher *m, const char *id)
{
    struct donor_ent key;
    memset(&key, 0, sizeof(key));
    snprintf(key.id, sizeof(key.id), "%s", id ? id : "");
    const struct donor_ent *d = m->n ? bsearch(&key, m->d, m->n, sizeof(m->d[0]), donor_cmp) : NULL;
    return d ? (int)(d - m->d) : -1;
}

/* The better of the donor's two names against a prepared payer name. */
static enum bank_name_level donor_name_level(const struct donor_ent *d, const void *payer,
                                             int *score)
{
    assert(d != NULL); /* candidates exist only when donors were loaded */
    int s1 = 0, s2 = 0;
    enum bank_name_level l1 = bank_name_compare_prepared(payer, d->name, &s1);
    enum bank_name_level l2 =
        d->name_latin ? bank_name_compare_prepared(payer, d->name_latin, &s2) : BANK_NAME_NONE;
    if (l2 > l1 || (l2 == l1 && s2 > s1)) {
        *score = s2;
        return l2;
    }
    *score = s1;
    return l1;
}

/* ---- matching one line ---- */

/* A candidate donor for one line. */
struct cand {
    int donor;      /* index into matcher.d */
    unsigned flags; /* F_* evidence */
    int name_level; /* enum bank_name_level against the payer name */
    int name_score; /* 0..100: how close the names are */
    int score;      /* 0..100 */
};

/* The proposal for one line. */
struct proposal {
    struct cand c[BANK_MAX_CANDIDATES * 4]; /* candidates, best first after ranking */
    int n;                                  /* their number */
    const char *status;                     /* matched, uncertain, unmatched, skipped */
    bool amount_many;                       /* the amount alone fits too many payers */
};

/* The candidate for donor index di in p, added when absent (NULL when full). */
static struct cand *cand_of(struct proposal *p, int di)
{
    for (int i = 0; i < p->n; i++) {
        if (p->c[i].donor == di) {
            return &p->c[i];
        }
    }
    if (p->n == (int)(sizeof(p->c) / sizeof(p->c[0]))) {
        return NULL;
    }
    p->c[p->n] = (struct cand){di, 0, BANK_NAME_NONE, 0, 0};
    return &p->c[p->n++];
}

/* Writes the reason codes of flags, space-separated, into out. */
static void reason_text(unsigned flags, char *out, size_t cap)
{
    size_t w = 0;
    out[0] = '\0';
    for (size_t i = 0; i < N_REASONS; i++) {
        if (flags & (1u << i)) {
            int k = snprintf(out + w, cap - w, "%s%s", w ? " " : "", reason_codes[i]);
            if (k < 0 || (size_t)k >= cap - w) {
                break;
            }
            w += (size_t)k;
        }
    }
}

/* Finds donor numbers (D-000123) and agreement numbers (S-2026-00012) in
 * ref: digits may be Arabic-Indic, the letter either case, the hyphens
 * spaces or missing. Adds the donor or the agreement's payer. Returns 0 or
 * -1 with e. */
static int ref_numbers(struct db *db, const char *org_id, const struct matcher *m, const char *ref,
                       struct proposal *p, struct err *e)
{
    char s[3 * BANK_MAX_TEXT + 8];
    snprintf(s, sizeof(s), "%s", ref);
    import_ascii_digits(s);
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if ((c != 'D' && c != 'd' && c != 'S' && c != 's') ||
            (i > 0 &&
             ((s[i - 1] >= 'A' && s[i - 1] <= 'Z') || (s[i - 1] >= 'a' && s[i - 1] <= 'z') ||
              (s[i - 1] >= '0' && s[i - 1] <= '9')))) {
            continue;
        }
        size_t j = i + 1;
        if (j < n && (s[j] == '-' || s[j] == ' ' || s[j] == '_')) {
            j++;
        }
        long long a = 0, b = -1;
        size_t da = 0;
        while (j < n && s[j] >= '0' && s[j] <= '9' && da < 12) {
            a = a * 10 + (s[j++] - '0');
            da++;
        }
        if (da == 0) {
            continue;
        }
        if ((c == 'S' || c == 's') && da == 4 && j + 1 < n &&
            (s[j] == '-' || s[j] == ' ' || s[j] == '_' || s[j] == '/')) {
            size_t k = j + 1, db_ = 0;
            b = 0;
            while (k < n && s[k] >= '0' && s[k] <= '9' && db_ < 9) {
                b = b * 10 + (s[k++] - '0');
                db_++;
            }
            if (db_ == 0) {
                continue;
            }
            j = k;
        }
        if (j < n && s[j] >= '0' && s[j] <= '9') {
            continue;
        }
        char no[64];
        const char *sql;
        unsigned flag;
        if (c == 'D' || c == 'd') {
            snprintf(no, sizeof(no), "D-%06lld", a);
            sql = "SELECT id FROM donors WHERE org_id = $1 AND donor_no = $2";
            flag = F_REF_DONOR;
        } else if (b >= 0) {
            snprintf(no, sizeof(no), "S-%04lld-%05lld", a, b);
            sql = "SELECT payer_id FROM sponsorships WHERE org_id = $1 AND agreement_no = $2";
            flag = F_REF_AGREEMENT;
        } else {
            continue;
        }
        int found;
        struct db_stmt *st = db_row(db, e, &found, sql, "tt", org_id, no);
        if (found < 0) {
            return -1;
        }
        if (st) {
            int di = matcher_find(m, db_col_text(st, 0));
            db_done(st);
            struct cand *c_ = di >= 0 ? cand_of(p, di) : NULL;
            if (c_) {
                c_->flags |= flag;
            }
        }
        i = j - 1;
    }
    return 0;
}

/* The donor whose earlier payments or confirmed bank lines carried exactly
 * this reference, when there is one and only one. Returns 0 or -1 with e. */
static int ref_known(struct db *db, const char *org_id, const struct matcher *m, const char *ref,
                     struct proposal *p, struct err *e)
{
    if (utf8_length(ref, strlen(ref)) < 4) {
        return 0;
    }
    struct db_stmt *s = db_query(db, e,
                                 "SELECT DISTINCT donor_id FROM payments WHERE org_id = $1"
                                 " AND reference = $2 AND status = 'recorded'"
                                 " UNION SELECT DISTINCT donor_id FROM bank_lines"
                                 " WHERE org_id = $1 AND reference = $2 AND status = 'confirmed'"
                                 " LIMIT 2",
                                 "tt", org_id, ref);
    if (!s) {
        return -1;
    }
    char first[40] = "";
    int n = 0, rc;
    while ((rc = db_step(s, e)) == 1) {
        if (n++ == 0) {
            snprintf(first, sizeof(first), "%s", db_col_text(s, 0));
        }
    }
    db_done(s);
    if (rc < 0) {
        return -1;
    }
    if (n == 1) {
        int di = matcher_find(m, first);
        struct cand *c = di >= 0 ? cand_of(p, di) : NULL;
        if (c) {
            c->flags |= F_REF_KNOWN;
        }
    }
    return 0;
}

/* How the amount agrees with what payer owes: F_AMOUNT_DUE (one open
 * due), F_AMOUNT_DUES (the oldest open dues together), F_AMOUNT_TOTAL (the
 * periodic total of the payer's active agreements), or 0. -1 with e. */
static int amount_flags(struct db *db, const char *payer_id, const struct bank_line_in *l,
                        unsigned *out, struct err *e)
{
    *out = 0;
    struct db_stmt *s = db_query(db, e,
                                 "SELECT amount - paid FROM sponsorship_dues WHERE payer_id = $1"
                                 " AND currency = $2 AND status IN ('open', 'partial')"
                                 " ORDER BY due_date, period_start LIMIT 60",
                                 "tt", payer_id, l->currency);
    if (!s) {
        return -1;
    }
    int rc, k = 0;
    int64_t sum = 0;
    while ((rc = db_step(s, e)) == 1) {
        int64_t v = db_col_int64(s, 0);
        if (v == l->amount) {
            *out |= F_AMOUNT_DUE;
        }
        sum += v;
        if (++k >= 2 && sum == l->amount) {
            *out |= F_AMOUNT_DUES;
        }
    }
    db_done(s);
    if (rc < 0) {
        return -1;
    }
    s = db_query(db, e,
                 "SELECT SUM(amount) FROM sponsorships WHERE payer_id = $1 AND currency = $2"
                 " AND status = 'active' GROUP BY frequency",
                 "tt", payer_id, l->currency);
    if (!s) {
        return -1;
    }
    while ((rc = db_step(s, e)) == 1) {
        if (db_col_int64(s, 0) == l->amount) {
            *out |= F_AMOUNT_TOTAL;
        }
    }
    db_done(s);
    return rc < 0 ? -1 : 0;
}

/* Adds the payers the amount alone fits (one open due or a periodic
 * total), up to BANK_MAX_CANDIDATES; more than that sets amount_many and
 * adds none. Returns 0 or -1 with e. */
static int amount_only(struct db *db, const char *org_id, const struct matcher *m,
                       const struct bank_line_in *l, struct proposal *p, struct err *e)
{
    struct db_stmt *s =
        db_query(db, e,
                 "SELECT payer_id FROM sponsorship_dues WHERE org_id = $1 AND currency = $2"
                 " AND status IN ('open', 'partial') AND amount - paid = $3"
                 " UNION SELECT payer_id FROM sponsorships WHERE org_id = $1 AND currency = $2"
                 " AND status = 'active' GROUP BY payer_id, frequency HAVING SUM(amount) = $3"
                 " LIMIT 6",
                 "tti", org_id, l->currency, l->amount);
    if (!s) {
        return -1;
    }
    char ids[BANK_MAX_CANDIDATES + 1][40];
    int n = 0, rc;
    while ((rc = db_step(s, e)) == 1) {
        if (n <= BANK_MAX_CANDIDATES) {
            snprintf(ids[n++], 40, "%s", db_col_text(s, 0));
        }
    }
    db_done(s);
    if (rc < 0) {
        return -1;
    }
    if (n > BANK_MAX_CANDIDATES) {
        p->amount_many = true;
        return 0;
    }
    for (int i = 0; i < n; i++) {
        int di = matcher_find(m, ids[i]);
        if (di >= 0) {
            (void)cand_of(p, di);
        }
    }
    return 0;
}

/* Adds the donors whose names come close to payer (SIMILAR or SAME): those
 * sharing word keys with it, compared in full. */
static void name_candidates(struct matcher *m, const void *payer, struct proposal *p)
{
    uint64_t keys[MAX_NAME_KEYS];
    int nk = bank_name_keys(payer, keys, MAX_NAME_KEYS);
    int units = bank_name_units(payer);
    m->n_touched = 0;
    /* each key's postings [lo, end) */
    size_t lo[MAX_NAME_KEYS], end[MAX_NAME_KEYS], rarest = SIZE_MAX;
    for (int k = 0; k < nk; k++) {
        struct key_ent probe = {keys[k], 0};
        size_t a = 0, b = m->n_keys;
        while (a < b) {
            size_t mid = (a + b) / 2;
            if (key_cmp(&m->keys[mid], &probe) < 0) {
                a = mid + 1;
            } else {
                b = mid;
            }
        }
        lo[k] = end[k] = a;
        while (end[k] < m->n_keys && m->keys[end[k]].key == keys[k]) {
            end[k]++;
        }
        if (end[k] - lo[k] < rarest) {
            rarest = end[k] - lo[k];
        }
    }
    int used = 0;
    for (int k = 0; k < nk; k++) {
        size_t n = end[k] - lo[k];
        if (n > KEY_MAX_POSTINGS && n != rarest) {
            continue; /* a very common word: the rarer ones find the donor */
        }
        used++;
        uint32_t last = UINT32_MAX;
        for (size_t i = lo[k]; i < end[k]; i++) {
            uint32_t d = m->keys[i].donor;
            if (d == last) {
                continue; /* the same key twice in one donor's names */
            }
            last = d;
            if (m->hits[d]++ == 0) {
                m->touched[m->n_touched++] = d;
            }
        }
    }
    /* the donors sharing most words first; at most MAX_NAME_COMPARED */
    int need = units >= 2 && used >= 2 ? 2 : 1;
    int compared = 0;
    for (int want = used; want >= need && compared < MAX_NAME_COMPARED; want--) {
        for (size_t t = 0; t < m->n_touched && compared < MAX_NAME_COMPARED; t++) {
            uint32_t d = m->touched[t];
            if (m->hits[d] != want) {
                continue;
            }
            compared++;
            int score;
            enum bank_name_level lv = donor_name_level(&m->d[d], payer, &score);
            if (lv >= BANK_NAME_SIMILAR) {
                struct cand *c = cand_of(p, (int)d);
                if (c) {
                    c->name_level = lv;
                    c->name_score = score;
                    c->flags |= lv == BANK_NAME_SAME ? F_NAME_SAME : F_NAME_SIMILAR;
                }
            }
        }
    }
    for (size_t t = 0; t < m->n_touched; t++) {
        m->hits[m->touched[t]] = 0;
    }
    m->n_touched = 0;
}

/* Orders candidates by score, then by donor index (stable results). */
static int cand_cmp(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->score != y->score) {
        return y->score - x->score;
    }
    return x->donor - y->donor;
}

/* Matches one credit line into *p. Returns 0 or -1 with e. */
static int match_line(struct db *db, const char *org_id, struct matcher *m,
                      const struct bank_line_in *l, struct proposal *p, struct err *e)
{
    memset(p, 0, sizeof(*p));
    if (l->amount <= 0) {
        p->status = "skipped";
        return 0;
    }
    if (ref_numbers(db, org_id, m, l->reference, p, e) < 0 ||
        ref_known(db, org_id, m, l->reference, p, e) < 0) {
        return -1;
    }
    /* the payer's name; a statement without one may carry it in the reference */
    const char *name_src = l->payer_name[0] ? l->payer_name : l->reference;
    void *payer = bank_name_prepare(name_src);
    bool has_name = bank_name_units(payer) > 0;
    if (has_name) {
        name_candidates(m, payer, p);
        for (int i = 0; i < p->n; i++) {
            if ((p->c[i].flags & F_REF) && !(p->c[i].flags & F_NAME)) {
                int score;
                enum bank_name_level lv = donor_name_level(&m->d[p->c[i].donor], payer, &score);
                p->c[i].name_level = lv;
                p->c[i].name_score = score;
                p->c[i].flags |= lv == BANK_NAME_SAME      ? F_NAME_SAME
                                 : lv == BANK_NAME_SIMILAR ? F_NAME_SIMILAR
                                                           : 0;
            }
        }
    }
    free(payer);
    if (p->n == 0 && amount_only(db, org_id, m, l, p, e) < 0) {
        return -1;
    }
    for (int i = 0; i < p->n; i++) {
        unsigned f;
        if (amount_flags(db, m->d[p->c[i].donor].id, l, &f, e) < 0) {
            return -1;
        }
        p->c[i].flags |= f;
    }
    /* conflicts: references naming several donors, or a name that fits
     * another donor while not fitting the one referenced */
    int n_ref = 0, n_name_same = 0;
    for (int i = 0; i < p->n; i++) {
        n_ref += (p->c[i].flags & F_REF) != 0;
        n_name_same += (p->c[i].flags & F_NAME_SAME) != 0;
    }
    for (int i = 0; i < p->n; i++) {
        struct cand *c = &p->c[i];
        if ((c->flags & F_REF) && n_ref > 1) {
            c->flags |= F_REF_CONFLICT;
        }
        if ((c->flags & F_REF) && !(c->flags & F_NAME) && n_name_same > 0 && has_name) {
            c->flags |= F_NAME_OTHER;
        }
        int s = 0;
        if (c->flags & F_REF) {
            s = 60 + ((c->flags & F_REF_DONOR) && (c->flags & F_REF_AGREEMENT) ? 5 : 0);
            s += (c->flags & F_NAME_SAME) ? 25 : (c->flags & F_NAME_SIMILAR) ? 15 : 0;
            s += (c->flags & F_AMOUNT) ? 15 : 0;
            if (c->flags & (F_REF_CONFLICT | F_NAME_OTHER)) {
                s = s > 55 ? 55 : s;
            }
        } else {
            /* the closer name first among equals (a longer name holding the payer's) */
            s = (c->flags & F_NAME_SAME)      ? 40 + c->name_score / 10
                : (c->flags & F_NAME_SIMILAR) ? 25 + c->name_score / 10
                                              : 0;
            s += (c->flags & F_AMOUNT) ? (s ? 20 : 25) : 0;
        }
        c->score = s > 100 ? 100 : s;
    }
    qsort(p->c, (size_t)p->n, sizeof(p->c[0]), cand_cmp);
    while (p->n > 0 && p->c[p->n - 1].score == 0) {
        p->n--;
    }
    if (p->n > BANK_MAX_CANDIDATES) {
        p->n = BANK_MAX_CANDIDATES;
    }
    if (p->n == 0) {
        p->status = "unmatched";
        return 0;
    }
    const struct cand *best = &p->c[0];
    bool certain = (best->flags & F_REF) && (best->flags & (F_NAME | F_AMOUNT)) &&
                   !(best->flags & (F_REF_CONFLICT | F_NAME_OTHER));
    p->status = certain ? "matched" : "uncertain";
    return 0;
}

/* ---- the import ---- */

/* Inserts the lines of st not imported before, with their proposals, and
 * counts them; duplicates go to dups. Inside the caller's write
 * transaction. Returns 0 or -1 with e. */
static int store_lines(struct db *db, const struct actor *a, const char *import_id,
                       const struct bank_statement *st, const struct proposal *props,
                       const struct matcher *m, json_t *dups, int counts[4], struct err *e)
{
    for (size_t i = 0; i < st->n; i++) {
        const struct bank_line_in *l = &st->lines[i];
        const struct proposal *p = &props[i];
        int found;
        struct db_stmt *s = db_row(db, e, &found,
                                   "SELECT import_id FROM bank_lines WHERE org_id = $1"
                                   " AND line_hash = $2",
                                   "tt", a->org_id, l->hash);
        if (found < 0) {
            return -1;
        }
        if (s) {
            json_array_append_new(
                dups, json_pack("{s:i, s:s}", "row", l->row, "import_id", db_col_text(s, 0)));
            db_done(s);
            continue;
        }
        char id[40], reason[256] = "";
        uuid_v7(id);
        const char *donor = p->n > 0 ? m->d[p->c[0].donor].id : NULL;
        if (p->n > 0) {
            reason_text(p->c[0].flags, reason, sizeof(reason));
        } else if (p->amount_many) {
            snprintf(reason, sizeof(reason), "amount_many");
        }
        if (db_run(db, e,
                   "INSERT INTO bank_lines (id, import_id, org_id, line_no, booked_on, amount,"
                   " currency, reference, payer_name, line_hash, donor_id, score, reason, status)"
                   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                   "tttititttttitt", id, import_id, a->org_id, (int64_t)l->row, l->booked_on,
                   l->amount, l->currency, l->reference[0] ? l->reference : NULL,
                   l->payer_name[0] ? l->payer_name : NULL, l->hash, donor,
                   (int64_t)(p->n > 0 ? p->c[0].score : 0), reason[0] ? reason : NULL,
                   p->status) < 0) {
            return -1;
        }
        for (int k = 0; k < p->n; k++) {
            reason_text(p->c[k].flags, reason, sizeof(reason));
            if (db_run(db, e,
                       "INSERT INTO bank_line_candidates (line_id, rank, donor_id, score, reason)"
                       " VALUES ($1, $2, $3, $4, $5)",
                       "titit", id, (int64_t)k + 1, m->d[p->c[k].donor].id, (int64_t)p->c[k].score,
                       reason) < 0) {
                return -1;
            }
        }
        int which = !strcmp(p->status, "matched")     ? 0
                    : !strcmp(p->status, "uncertain") ? 1
                    : !strcmp(p->status, "unmatched") ? 2
                                                      : 3;
        counts[which]++;
    }
    return 0;
}

int bank_import(struct db *db, const struct actor *a, const char *filename, const char *account,
                const char *data, size_t len, const char *default_currency, char id_out[40],
                json_t **result_out, struct err *e)
{
    *result_out = NULL;
    id_out[0] = '\0';
    if (!can_write(a)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", "", "not allowed to import bank statements");
    }
    if (account && utf8_length(account, strlen(account)) > 100) {
        return err_set(e, ERR_INVALID, "too_long", "account", "'account' is too long");
    }
    if (filename && strlen(filename) > 255) {
        filename = NULL; /* the client's name is a convenience, not worth refusing for */
    }
    struct bank_statement st;
    json_t *errors = NULL;
    if (bank_parse(data, len, default_currency, &st, &errors, e) < 0) {
        if (errors) {
            *result_out = json_pack("{s:o, s:I}", "errors", errors, "errors_total",
                                    (json_int_t)st.n_problems);
        }
        return -1;
    }
    /* match in a read transaction */
    struct matcher m;
    struct proposal *props = xcalloc(st.n + 1, sizeof(props[0]));
    if (db_begin(db, true, e) < 0) {
        free(props);
        bank_statement_release(&st);
        return -1;
    }
    int rc = matcher_load(db, a->org_id, &m, e);
    for (size_t i = 0; rc == 0 && i < st.n; i++) {
        rc = match_line(db, a->org_id, &m, &st.lines[i], &props[i], e);
    }
    db_rollback(db);
    if (rc < 0) {
        matcher_release(&m);
        free(props);
        bank_statement_release(&st);
        return -1;
    }
    /* write */
    char id[40], now[40];
    uuid_v7(id);
    time_format_iso(time_now_ms(), now, sizeof(now));
    json_t *dups = json_array();
    int counts[4] = {0, 0, 0, 0};
    rc = db_begin(db, false, e);
    if (rc == 0) {
        rc = db_run(db, e,
                    "INSERT INTO bank_imports (id, org_id, filename, account, n_lines, created_by,"
                    " created_at, currency) VALUES ($1, $2, $3, $4, 0, $5, $6, $7)",
                    "ttttttt", id, a->org_id, filename, account && *account ? account : "bank",
                    sp_who(a), now,
                    default_currency && *default_currency ? default_currency : NULL) < 0
                 ? -1
                 : 0;
    }
    if (rc == 0) {
        rc = store_lines(db, a, id, &st, props, &m, dups, counts, e);
    }
    int n_new = counts[0] + counts[1] + counts[2] + counts[3];
    if (rc == 0 && n_new == 0) {
        rc = err_set(e, ERR_CONFLICT, "bank_already_imported", "file",
                     "every line of this statement was imported before");
        *result_out = json_pack("{s:O}", "duplicates", dups);
    }
    char *dup_text = json_dumps(dups, JSON_COMPACT);
    if (rc == 0) {
        char detail[160];
        snprintf(detail, sizeof(detail),
                 "lines=%d matched=%d uncertain=%d unmatched=%d debits=%d duplicates=%zu", n_new,
                 counts[0], counts[1], counts[2], counts[3], json_array_size(dups));
        rc = db_run(db, e,
                    "UPDATE bank_imports SET n_lines = $2, n_credits = $3, n_debits = $4,"
                    " n_duplicates = $5, duplicates = $6 WHERE id = $1",
                    "tiiiit", id, (int64_t)n_new, (int64_t)(n_new - counts[3]), (int64_t)counts[3],
                    (int64_t)json_array_size(dups), json_array_size(dups) ? dup_text : NULL) < 0 ||
                     actor_audit(db, a, "bank.import", "bank_import", id, "ok", detail, e) < 0 ||
                     db_commit(db, e) < 0
                 ? -1
                 : 0;
    } else if (db_in_transaction(db)) {
        db_rollback(db);
    }
    free(dup_text);
    matcher_release(&m);
    free(props);
    bank_statement_release(&st);
    if (rc < 0) {
        db_rollback(db);
        json_decref(dups);
        return -1;
    }
    snprintf(id_out, 40, "%s", id);
    *result_out = json_pack("{s:s, s:i, s:i, s:i, s:o, s:i, s:i, s:i}", "id", id, "lines", n_new,
                            "credits", n_new - counts[3], "debits", counts[3], "duplicates", dups,
                            "matched", counts[0], "uncertain", counts[1], "unmatched", counts[2]);
    return 0;
}

/* ---- reading ---- */

json_t *bank_import_list(struct db *db, const struct actor *a, struct err *e)
{
    if (!can_read(a)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", "", "not allowed to see bank imports");
        return NULL;
    }
    struct db_stmt *s = db_query(
        db, e,
        "SELECT i.id, i.filename, i.account, i.n_lines, i.n_credits, i.n_debits, i.n_duplicates,"
        " i.created_at, i.currency,"
        " (SELECT COUNT(*) FROM bank_lines l WHERE l.import_id = i.id AND l.status = 'matched'),"
        " (SELECT COUNT(*) FROM bank_lines l WHERE l.import_id = i.id AND l.status = 'uncertain'),"
        " (SELECT COUNT(*) FROM bank_lines l WHERE l.import_id = i.id AND l.status = 'unmatched'),"
        " (SELECT COUNT(*) FROM bank_lines l WHERE l.import_id = i.id AND l.status = 'confirmed'),"
        " (SELECT COUNT(*) FROM bank_lines l WHERE l.import_id = i.id AND l.status = 'ignored')"
        " FROM bank_imports i WHERE i.org_id = $1 ORDER BY i.created_at DESC, i.id DESC"
        " LIMIT 200",
        "t", a->org_id);
    if (!s) {
        return NULL;
    }
    json_t *list = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_array_append_new(
            list,
            json_pack(
                "{s:s, s:s?, s:s, s:I, s:I, s:I, s:I, s:s, s:s?, s:{s:I, s:I, s:I, s:I, s:I}}",
                "id", db_col_text(s, 0), "filename", db_col_text(s, 1), "account",
                db_col_text(s, 2), "lines", (json_int_t)db_col_int64(s, 3), "credits",
                (json_int_t)db_col_int64(s, 4), "debits", (json_int_t)db_col_int64(s, 5),
                "duplicates", (json_int_t)db_col_int64(s, 6), "created_at", db_col_text(s, 7),
                "currency", db_col_text(s, 8), "by_status", "matched",
                (json_int_t)db_col_int64(s, 9), "uncertain", (json_int_t)db_col_int64(s, 10),
                "unmatched", (json_int_t)db_col_int64(s, 11), "confirmed",
                (json_int_t)db_col_int64(s, 12), "ignored", (json_int_t)db_col_int64(s, 13)));
    }
    db_done(s);
    if (rc < 0) {
        json_decref(list);
        return NULL;
    }
    return list;
}

/* Reason codes text as a JSON array of strings. */
static json_t *reason_array(const char *text)
{
    json_t *arr = json_array();
    if (!text) {
        return arr;
    }
    const char *p = text;
    while (*p) {
        const char *sp = strchr(p, ' ');
        size_t n = sp ? (size_t)(sp - p) : strlen(p);
        if (n) {
            json_array_append_new(arr, json_stringn(p, n));
        }
        p += n + (sp ? 1 : 0);
    }
    return arr;
}

/* The amount in minor units as a decimal string. */
static json_t *amount_json(int64_t minor, const char *currency)
{
    char out[40];
    return json_string(sp_money_text(minor, currency, out, sizeof(out)));
}

json_t *bank_import_get(struct db *db, const struct actor *a, const char *id, struct err *e)
{
    if (!can_read(a)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", "", "not allowed to see bank imports");
        return NULL;
    }
    if (db_begin(db, false, e) < 0) {
        return NULL;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT id, filename, account, n_lines, n_credits, n_debits,"
                               " n_duplicates, duplicates, created_at, created_by, currency"
                               " FROM bank_imports WHERE id = $1 AND org_id = $2",
                               "tt", id, a->org_id);
    if (!s) {
        if (found == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such bank import");
        }
        db_rollback(db);
        return NULL;
    }
    json_error_t je;
    json_t *dups = db_col_text(s, 7) ? json_loads(db_col_text(s, 7), 0, &je) : NULL;
    json_t *imp = json_pack(
        "{s:s, s:s?, s:s, s:I, s:I, s:I, s:I, s:o, s:s, s:s, s:s?}", "id", db_col_text(s, 0),
        "filename", db_col_text(s, 1), "account", db_col_text(s, 2), "lines",
        (json_int_t)db_col_int64(s, 3), "credits", (json_int_t)db_col_int64(s, 4), "debits",
        (json_int_t)db_col_int64(s, 5), "n_duplicates", (json_int_t)db_col_int64(s, 6),
        "duplicates", dups ? dups : json_array(), "created_at", db_col_text(s, 8), "created_by",
        db_col_text(s, 9), "currency", db_col_text(s, 10));
    db_done(s);
    json_t *lines = json_array();
    json_t *by_id = json_object();
    int rc;
    s = db_query(db, e,
                 "SELECT l.id, l.line_no, l.booked_on, l.amount, l.currency, l.reference,"
                 " l.payer_name, l.status, l.score, l.reason, l.donor_id, d.donor_no, d.name,"
                 " l.payment_id, l.decided_at"
                 " FROM bank_lines l LEFT JOIN donors d ON d.id = l.donor_id"
                 " WHERE l.import_id = $1 AND l.org_id = $2 ORDER BY l.line_no",
                 "tt", id, a->org_id);
    rc = s ? 0 : -1;
    while (s && (rc = db_step(s, e)) == 1) {
        json_t *donor = db_col_text(s, 10)
                            ? json_pack("{s:s, s:s, s:s}", "id", db_col_text(s, 10), "donor_no",
                                        db_col_text(s, 11), "name", db_col_text(s, 12))
                            : json_null();
        json_t *line = json_pack(
            "{s:s, s:I, s:s, s:o, s:I, s:s, s:s?, s:s?, s:s, s:I, s:o, s:o, s:s?, s:s?, s:[]}",
            "id", db_col_text(s, 0), "row", (json_int_t)db_col_int64(s, 1), "booked_on",
            db_col_text(s, 2), "amount", amount_json(db_col_int64(s, 3), db_col_text(s, 4)),
            "amount_minor", (json_int_t)db_col_int64(s, 3), "currency", db_col_text(s, 4),
            "reference", db_col_text(s, 5), "payer_name", db_col_text(s, 6), "status",
            db_col_text(s, 7), "score", (json_int_t)db_col_int64(s, 8), "reason",
            reason_array(db_col_text(s, 9)), "donor", donor, "payment_id", db_col_text(s, 13),
            "decided_at", db_col_text(s, 14), "candidates");
        json_object_set(by_id, db_col_text(s, 0), line);
        json_array_append_new(lines, line);
    }
    if (s) {
        db_done(s);
    }
    if (rc == 0) {
        s = db_query(db, e,
                     "SELECT c.line_id, c.donor_id, d.donor_no, d.name, d.name_latin, c.score,"
                     " c.reason FROM bank_line_candidates c"
                     " JOIN bank_lines l ON l.id = c.line_id"
                     " JOIN donors d ON d.id = c.donor_id"
                     " WHERE l.import_id = $1 AND l.org_id = $2 ORDER BY l.line_no, c.rank",
                     "tt", id, a->org_id);
        rc = s ? 0 : -1;
        while (s && (rc = db_step(s, e)) == 1) {
            json_t *line = json_object_get(by_id, db_col_text(s, 0));
            if (line) {
                json_array_append_new(json_object_get(line, "candidates"),
                                      json_pack("{s:s, s:s, s:s, s:s?, s:I, s:o}", "donor_id",
                                                db_col_text(s, 1), "donor_no", db_col_text(s, 2),
                                                "name", db_col_text(s, 3), "name_latin",
                                                db_col_text(s, 4), "score",
                                                (json_int_t)db_col_int64(s, 5), "reason",
                                                reason_array(db_col_text(s, 6))));
            }
        }
        if (s) {
            db_done(s);
        }
    }
    json_decref(by_id);
    /* the page shows donors' names: a view of donor records, audited */
    if (rc < 0 || actor_audit(db, a, "bank.view", "bank_import", id, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        db_rollback(db);
        json_decref(imp);
        json_decref(lines);
        return NULL;
    }
    json_object_set_new(imp, "lines_detail", lines);
    return imp;
}

/* ---- decisions ---- */

/* The line's fields a decision needs. */
struct line_row {
    char id[40];                           /* bank_lines.id */
    char import_id[40];                    /* its import */
    char status[16];                       /* its status */
    char donor_id[40];                     /* proposed donor, "" when none */
    char booked_on[11];                    /* booked date */
    int64_t amount;                        /* minor units */
    char currency[4];                      /* ISO 4217 */
    char reference[BANK_MAX_TEXT * 3 + 8]; /* reference, "" when none */
    char hash[65];                         /* line_hash */
};

/* Loads line id of a's organization inside the open transaction. Returns 0,
 * or -1 with e (ERR_NOT_FOUND). */
static int load_line(struct db *db, const struct actor *a, const char *id, struct line_row *l,
                     struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT id, import_id, status, donor_id, booked_on, amount,"
                               " currency, reference, line_hash FROM bank_lines"
                               " WHERE id = $1 AND org_id = $2",
                               "tt", id, a->org_id);
    if (!s) {
        return found == 0 ? err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such bank line") : -1;
    }
    snprintf(l->id, sizeof(l->id), "%s", db_col_text(s, 0));
    snprintf(l->import_id, sizeof(l->import_id), "%s", db_col_text(s, 1));
    snprintf(l->status, sizeof(l->status), "%s", db_col_text(s, 2));
    snprintf(l->donor_id, sizeof(l->donor_id), "%s", db_col_text(s, 3) ? db_col_text(s, 3) : "");
    snprintf(l->booked_on, sizeof(l->booked_on), "%s", db_col_text(s, 4));
    l->amount = db_col_int64(s, 5);
    snprintf(l->currency, sizeof(l->currency), "%s", db_col_text(s, 6));
    snprintf(l->reference, sizeof(l->reference), "%s", db_col_text(s, 7) ? db_col_text(s, 7) : "");
    snprintf(l->hash, sizeof(l->hash), "%s", db_col_text(s, 8));
    db_done(s);
    return 0;
}

/* True when a line in status can still be decided. */
static bool undecided(const char *status)
{
    return text_word_in(" matched uncertain unmatched ", status);
}

int bank_line_confirm(struct db *db, const struct actor *a, const char *line_id,
                      const char *donor_id, char payment_id_out[40], struct err *e)
{
    if (payment_id_out) {
        payment_id_out[0] = '\0';
    }
    if (!can_confirm(a)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", "", "not allowed to confirm bank lines");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    struct line_row l;
    memset(&l, 0, sizeof(l));
    if (load_line(db, a, line_id, &l, e) < 0) {
        return sp_fail(db);
    }
    if (!undecided(l.status)) {
        sp_fail(db);
        return err_set(e, ERR_CONFLICT, "bank_line_decided", "id", "this bank line is already %s",
                       l.status);
    }
    const char *donor = donor_id && *donor_id ? donor_id : l.donor_id;
    if (!*donor) {
        sp_fail(db);
        return err_set(e, ERR_INVALID, "bank_donor_required", "donor_id",
                       "choose the donor who made this payment");
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found, "SELECT id FROM donors WHERE id = $1 AND org_id = $2",
                               "tt", donor, a->org_id);
    if (!s) {
        sp_fail(db);
        return found == 0 ? err_set(e, ERR_NOT_FOUND, "not_found", "donor_id", "no such donor")
                          : -1;
    }
    db_done(s);
    char ext[80];
    snprintf(ext, sizeof(ext), "bank:%.64s", l.hash);
    struct payment_new pn = {
        .donor_id = donor,
        .amount_minor = l.amount,
        .currency = l.currency,
        .method = "bank_transfer",
        .received_on = l.booked_on,
        .reference = l.reference[0] ? l.reference : NULL,
        .external_ref = ext,
        .bank_line_id = l.id,
    };
    char pay_id[40];
    if (payment_record_tx(db, a, &pn, pay_id, NULL, e) < 0) {
        return sp_fail(db);
    }
    char now[40], detail[200];
    time_format_iso(time_now_ms(), now, sizeof(now));
    snprintf(detail, sizeof(detail), "payment=%s donor=%s proposed=%s", pay_id, donor,
             l.donor_id[0] ? l.donor_id : "-");
    int64_t n = db_run(db, e,
                       "UPDATE bank_lines SET status = 'confirmed', donor_id = $2, payment_id = $3,"
                       " decided_by = $4, decided_at = $5 WHERE id = $1"
                       " AND status IN ('matched', 'uncertain', 'unmatched')",
                       "ttttt", l.id, donor, pay_id, sp_who(a), now);
    if (n < 0) {
        return sp_fail(db);
    }
    if (n == 0) {
        sp_fail(db);
        return err_set(e, ERR_CONFLICT, "bank_line_decided", "id",
                       "this bank line is already decided");
    }
    if (actor_audit(db, a, "bank.confirm", "bank_line", l.id, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        return sp_fail(db);
    }
    if (payment_id_out) {
        snprintf(payment_id_out, 40, "%s", pay_id);
    }
    return 0;
}

int bank_line_ignore(struct db *db, const struct actor *a, const char *line_id, struct err *e)
{
    if (!can_write(a)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", "", "not allowed to ignore bank lines");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    struct line_row l;
    memset(&l, 0, sizeof(l));
    if (load_line(db, a, line_id, &l, e) < 0) {
        return sp_fail(db);
    }
    char now[40];
    time_format_iso(time_now_ms(), now, sizeof(now));
    int64_t n = undecided(l.status)
                    ? db_run(db, e,
                             "UPDATE bank_lines SET status = 'ignored', decided_by = $2,"
                             " decided_at = $3 WHERE id = $1"
                             " AND status IN ('matched', 'uncertain', 'unmatched')",
                             "ttt", l.id, sp_who(a), now)
                    : 0;
    if (n < 0) {
        return sp_fail(db);
    }
    if (n == 0) {
        sp_fail(db);
        return err_set(e, ERR_CONFLICT, "bank_line_decided", "id", "this bank line is already %s",
                       l.status);
    }
    if (actor_audit(db, a, "bank.ignore", "bank_line", l.id, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        return sp_fail(db);
    }
    return 0;
}

json_t *bank_donor_search(struct db *db, const struct actor *a, const char *q, struct err *e)
{
    if (!can_read(a)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", "", "not allowed to see donors");
        return NULL;
    }
    json_t *list = json_array();
    char buf[160];
    snprintf(buf, sizeof(buf), "%s", q ? q : "");
    char *t = text_trim(buf);
    if (!*t) {
        return list;
    }
    /* a donor number, or names holding the text */
    char like[200];
    snprintf(like, sizeof(like), "%%%s%%", t);
    for (char *c = like; *c; c++) {
        if (*c >= 'A' && *c <= 'Z') {
            *c = (char)(*c - 'A' + 'a');
        }
    }
    char no[40] = "";
    long long n = 0;
    if ((t[0] == 'D' || t[0] == 'd') && sscanf(t + 1 + (t[1] == '-'), "%lld", &n) == 1) {
        snprintf(no, sizeof(no), "D-%06lld", n);
    }
    struct db_stmt *s = db_query(db, e,
                                 "SELECT id, donor_no, name, name_latin FROM donors"
                                 " WHERE org_id = $1 AND (donor_no = $2 OR LOWER(name) LIKE $3"
                                 " OR LOWER(name_latin) LIKE $3) ORDER BY name, donor_no LIMIT 20",
                                 "ttt", a->org_id, no, like);
    if (!s) {
        json_decref(list);
        return NULL;
    }
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s?}", "id", db_col_text(s, 0),
                                              "donor_no", db_col_text(s, 1), "name",
                                              db_col_text(s, 2), "name_latin", db_col_text(s, 3)));
    }
    db_done(s);
    if (rc < 0) {
        json_decref(list);
        return NULL;
    }
    return list;
}

/* True when id is one of the strings of only (a JSON array). */
static bool chosen(json_t *only, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(only, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), id) == 0) {
            return true;
        }
    }
    return false;
}

int bank_confirm_certain(struct db *db, const struct actor *a, const char *import_id, json_t *only,
                         int *n_confirmed, int *n_failed, struct err *e)
{
    *n_confirmed = *n_failed = 0;
    if (!can_confirm(a)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", "", "not allowed to confirm bank lines");
    }
    if (db_begin(db, true, e) < 0) {
        return -1;
    }
    int found;
    struct db_stmt *s =
        db_row(db, e, &found, "SELECT id FROM bank_imports WHERE id = $1 AND org_id = $2", "tt",
               import_id, a->org_id);
    if (!s) {
        db_rollback(db);
        return found == 0 ? err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such bank import")
                          : -1;
    }
    db_done(s);
    s = db_query(db, e,
                 "SELECT id FROM bank_lines WHERE import_id = $1 AND status = 'matched'"
                 " ORDER BY line_no",
                 "t", import_id);
    char(*ids)[40] = NULL;
    size_t n = 0, cap = 0;
    int rc = s ? 0 : -1;
    while (s && (rc = db_step(s, e)) == 1) {
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            ids = xrealloc(ids, xmul(cap, 40));
        }
        snprintf(ids[n++], 40, "%s", db_col_text(s, 0));
    }
    if (s) {
        db_done(s);
    }
    db_rollback(db);
    if (rc < 0) {
        free(ids);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (only && !chosen(only, ids[i])) {
            continue;
        }
        struct err one;
        err_clear(&one);
        if (bank_line_confirm(db, a, ids[i], NULL, NULL, &one) == 0) {
            (*n_confirmed)++;
        } else {
            (*n_failed)++;
        }
    }
    free(ids);
    return 0;
}
