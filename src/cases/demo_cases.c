/*
 * demo_cases.c: three months of case work for the demo organization, made
 * through the case services (cases.h, sessions.h, instruments.h) as the demo
 * users would have made it.
 *
 * The services stamp everything with the present moment and refuse to
 * schedule a session in the past, and none of them records history after the
 * fact. So that the case pages and the quality dashboard show three months
 * and not one afternoon, each step is made through its service now and then
 * moved back to the moment it stands for: one documented UPDATE of the
 * timestamp columns the step wrote (stamp_case, past_session). Nothing else
 * is written by hand, and the audit log keeps the true time at which the
 * demo was made (it is never touched, so `sanad audit verify` holds).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cases/cases.h"
#include "cases/demo_cases.h"
#include "cases/instruments.h"
#include "cases/sessions.h"
#include "core/time.h"
#include "db/db_util.h"
#include "core/banned.h"

#define DEMO_CASES_SEED 0x5a4ad2026ca5e5ull
#define N_CASES 60
#define MS_HOUR 3600000LL
#define MS_DAY 86400000LL
/* The organization's clock: local hours are UTC+3 (SESSIONS_DEFAULT_OFFSET_MIN). */
#define LOCAL_OFFSET_MS ((int64_t)SESSIONS_DEFAULT_OFFSET_MIN * 60000LL)
/* Past sessions are first scheduled this far after the moment they stand for
 * (so in the future, as session_create requires) and then moved back. */
#define PLACEHOLDER_SHIFT_MS (400 * MS_DAY)
/* Days back that past sessions may be placed; the slot grid's size. */
#define SLOT_DAYS 100
#define SLOTS_PER_DAY 7

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
static bool rng_pct(struct rng *g, int pct)
{
    return rng_range(g, 0, 99) < pct;
}

#define COUNT(arr) ((int)(sizeof(arr) / sizeof((arr)[0])))
#define PICK(g, arr) ((arr)[rng_range((g), 0, COUNT(arr) - 1)])

/* A service provider of the demo organization. */
struct provider_def {
    const char *name;     /* its name */
    const char *kind;     /* internal or external */
    const char *phone;    /* a telephone number */
    const char *address;  /* where it is */
    const char *services; /* what it offers */
};

static const struct provider_def providers[] = {
    {"برنامج الدعم النفسي الاجتماعي", "internal", "+962 6 555 0101", "مقر الجمعية، عمّان",
     "جلسات فردية وجماعية، إرشاد أسري"},
    {"برنامج الدعم المدرسي والتقوية", "internal", "+962 6 555 0102", "مقر الجمعية، عمّان",
     "حصص تقوية في الرياضيات واللغة العربية والإنجليزية"},
    {"برنامج التمكين الرقمي", "internal", "+962 6 555 0103", "مركز الجمعية، الزرقاء",
     "إعارة أجهزة لوحية، باقات إنترنت، تدريب على التعلم عن بعد"},
    {"برنامج المساعدات العينية", "internal", "+962 6 555 0104", "مستودع الجمعية، عمّان",
     "طرود غذائية، كسوة، مستلزمات مدرسية"},
    {"مستشفى الرحمة الخيري", "external", "+962 6 555 0201", "جبل الحسين، عمّان",
     "طب أطفال، أسنان، فحوص دورية"},
    {"مركز الأمل للإرشاد الأسري", "external", "+962 6 555 0202", "الرصيفة",
     "إرشاد أسري، وساطة، حماية الطفل"},
    {"مدرسة الفجر الأساسية", "external", "+962 5 555 0203", "الزرقاء الجديدة",
     "متابعة الحضور والتحصيل، برنامج الدمج"},
    {"جمعية النور للتأهيل", "external", "+962 6 555 0204", "ماركا الشمالية",
     "علاج نطق، علاج وظيفي، تأهيل"},
    {"مؤسسة الإنارة للطاقة الشمسية", "external", "+962 6 555 0205", "سحاب",
     "ألواح شمسية منزلية وبطاريات للأسر"},
};

/* A goal of a plan with two actions and which provider does them. */
struct goal_def {
    const char *goal;      /* the goal */
    const char *action1;   /* the first action */
    int provider1;         /* index into providers, -1 for none */
    const char *action2;   /* the second action */
    int provider2;         /* index into providers, -1 for none */
    const char *outcome;   /* what came of the first action when done */
};

static const struct goal_def goals[] = {
    {"تحسين التحصيل الدراسي في الرياضيات والقراءة", "حصص تقوية مرتين أسبوعياً", 1,
     "متابعة شهرية مع المرشد التربوي في المدرسة", 6, "ارتفع معدل الطالب في الرياضيات"},
    {"انتظام الحضور المدرسي", "زيارة المدرسة والاتفاق على خطة حضور", 6,
     "تأمين المواصلات والمستلزمات المدرسية", 3, "تحسن الحضور إلى أربعة أيام أسبوعياً"},
    {"تخفيف أعراض القلق واضطراب النوم", "ثماني جلسات دعم نفسي فردية", 0,
     "إرشاد الأم حول روتين النوم", 5, "تحسن النوم بحسب تقرير الأم"},
    {"تعزيز التواصل داخل الأسرة", "جلسات إرشاد أسري", 5, "نشاط أسري شهري في الجمعية", 0,
     "حضرت الأسرة ثلاث جلسات"},
    {"المتابعة الصحية وعلاج الأسنان", "فحص طب أطفال شامل", 4, "علاج الأسنان على مراحل", 4,
     "أُجري الفحص ولا توجد مشكلات عاجلة"},
    {"الوصول إلى التعلم عن بعد", "إعارة جهاز لوحي مع باقة إنترنت", 2,
     "تدريب الطفل وولي الأمر على منصة المدرسة", 2, "استلمت الأسرة الجهاز والباقة"},
    {"توفير مصدر كهرباء ثابت للدراسة مساءً", "تركيب وحدة طاقة شمسية صغيرة", 8,
     "متابعة استخدام الوحدة بعد شهر", -1, "رُكبت الوحدة وتعمل"},
    {"تنمية مهارات النطق والتواصل", "تقييم النطق وجلسات علاج أسبوعية", 7,
     "تمارين منزلية مع ولي الأمر", -1, "أُنجز التقييم وبدأت الجلسات"},
    {"تأمين الاحتياجات الأساسية للأسرة", "طرد غذائي شهري لمدة ثلاثة أشهر", 3,
     "إحالة إلى برنامج الكفالة", -1, "تسلمت الأسرة الطرد الأول"},
    {"الحماية من العمل المبكر والعودة إلى المدرسة", "جلسة توعية مع ولي الأمر", 5,
     "تسجيل الطفل في برنامج الدمج المدرسي", 6, "وافق ولي الأمر على عودة الطفل"},
};

static const char *const session_topics[] = {
    "التعرف على الطفل وبناء الثقة",
    "متابعة الخطة الدراسية والواجبات",
    "التعبير عن المشاعر بالرسم واللعب",
    "مهارات التعامل مع القلق والتنفس العميق",
    "روتين النوم والاستيقاظ",
    "العلاقة مع الإخوة والأقران",
    "مراجعة الأهداف مع ولي الأمر",
    "التعامل مع الحزن والفقد",
    "السلامة على الإنترنت",
    "التحضير للامتحانات",
};

static const char *const psych_notes[] = {
    "الطفل أكثر انفتاحاً من الجلسة السابقة، تحدث عن والده بهدوء.",
    "ما زال يجد صعوبة في النوم، اتفقنا على تمرين تنفس قبل النوم.",
    "تفاعل جيد في النشاط، يحتاج إلى تشجيع في المدرسة.",
};

static const char *const closure_reasons[] = {"goals_met", "child_moved", "goals_met",
                                              "family_refused"};

/* Everything the demo keeps while it works. */
struct demo {
    struct db *db;     /* the database */
    struct err *e;     /* where failures go */
    struct rng g;      /* the generator */
    struct actor sys;  /* the command line, for what an administrator sets up */
    struct actor cw;   /* the case worker */
    struct actor psy;  /* the psychosocial specialist */
    struct actor sup;  /* the supervisor, who approves */
    int64_t now;       /* the moment the demo started, ms */
    int64_t midnight;  /* today 00:00 local time, as ms UTC */
    char prov[COUNT(providers)][40]; /* ids of the providers made */
    bool used[2][SLOT_DAYS][SLOTS_PER_DAY]; /* past session slots taken, per worker */
    int n_sessions;    /* sessions made */
    int n_responses;   /* instrument responses recorded */
};

/* One case under construction. */
struct dcase {
    char id[40];         /* the case */
    char child_id[40];   /* its child */
    int age;             /* the child's age in whole years */
    struct actor *w;     /* who works it */
    int64_t t;           /* the moment of its latest step, ms */
    int64_t last_contact; /* the moment of its latest contact with the child, ms */
    char risk[12];       /* its risk level (set by an approved assessment) */
    char assessed[12];   /* the risk of its latest assessment */
};

/* Today's local date as days since the epoch (1970-01-01 was a Thursday). */
static int64_t local_day(const struct demo *d)
{
    return (d->midnight + LOCAL_OFFSET_MS) / MS_DAY;
}

/* ISO 8601 of ms into out (32 bytes). */
static void iso(int64_t ms, char out[32])
{
    time_format_iso(ms, out, 32);
}

/* The moment days_ago days before today at a random working hour (local
 * 9:00 to 15:30), never later than an hour ago. */
static int64_t day_at(struct demo *d, int days_ago)
{
    int64_t t = d->midnight - (int64_t)days_ago * MS_DAY + 9 * MS_HOUR +
                rng_range(&d->g, 0, 13) * (MS_HOUR / 2);
    return t > d->now - MS_HOUR ? d->now - MS_HOUR - rng_range(&d->g, 1, 50) * 60000LL : t;
}

/* A moment min_days..max_days after c's latest step (a working hour), kept
 * after it and in the past. */
static int64_t later(struct demo *d, struct dcase *c, int min_days, int max_days)
{
    int days_ago = (int)((d->midnight - c->t) / MS_DAY) + 1 - rng_range(&d->g, min_days, max_days);
    int64_t t = day_at(d, days_ago < 0 ? 0 : days_ago);
    if (t <= c->t) {
        t = c->t + rng_range(&d->g, 20, 90) * 60000LL;
    }
    return t < d->now - 60000LL ? t : d->now - 60000LL;
}

/* Moves what the last service call wrote for case c (everything stamped at
 * or after mark) back to the moment at, and records at as c's latest step.
 * The services stamp the present; this is the one place that rewrites their
 * timestamps (see the top of the file). Returns 0 or -1. */
static int stamp_case(struct demo *d, struct dcase *c, const char *mark, int64_t at_ms)
{
    char at[32];
    iso(at_ms, at);
    if (db_begin(d->db, false, d->e) < 0) {
        return -1;
    }
    if (db_run(d->db, d->e, "UPDATE case_events SET at = $1 WHERE case_id = $2 AND at >= $3",
               "ttt", at, c->id, mark) < 0 ||
        db_run(d->db, d->e,
               "UPDATE cases SET opened_at = CASE WHEN opened_at >= $3 THEN $1 ELSE opened_at END,"
               " plan_approved_at = CASE WHEN plan_approved_at >= $3 THEN $1"
               " ELSE plan_approved_at END,"
               " closed_at = CASE WHEN closed_at >= $3 THEN $1 ELSE closed_at END,"
               " updated_at = $1 WHERE id = $2",
               "ttt", at, c->id, mark) < 0 ||
        db_run(d->db, d->e,
               "UPDATE assessments SET created_at = CASE WHEN created_at >= $3 THEN $1"
               " ELSE created_at END, updated_at = CASE WHEN updated_at >= $3 THEN $1"
               " ELSE updated_at END WHERE case_id = $2",
               "ttt", at, c->id, mark) < 0 ||
        db_run(d->db, d->e,
               "UPDATE plans SET created_at = CASE WHEN created_at >= $3 THEN $1"
               " ELSE created_at END, updated_at = CASE WHEN updated_at >= $3 THEN $1"
               " ELSE updated_at END WHERE case_id = $2",
               "ttt", at, c->id, mark) < 0 ||
        db_run(d->db, d->e,
               "UPDATE tasks SET created_at = CASE WHEN created_at >= $3 THEN $1"
               " ELSE created_at END, done_at = CASE WHEN done_at >= $3 THEN $1"
               " ELSE done_at END WHERE case_id = $2",
               "ttt", at, c->id, mark) < 0 ||
        db_run(d->db, d->e,
               "UPDATE instrument_responses SET administered_at = $1"
               " WHERE case_id = $2 AND administered_at >= $3",
               "ttt", at, c->id, mark) < 0 ||
        db_commit(d->db, d->e) < 0) {
        db_rollback(d->db);
        return -1;
    }
    c->t = at_ms;
    if (at_ms > c->last_contact) {
        c->last_contact = at_ms;
    }
    return 0;
}

/* The present as ISO, the mark before a service call that stamp_case moves. */
static void mark_now(char mark[32])
{
    iso(time_now_ms(), mark);
}

/* Fills a with the user username of a's organization, as a logged-in actor
 * would be. Returns 0, or -1 with e when there is no such user. */
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

/* Makes the providers. Returns 0 or -1. */
static int make_providers(struct demo *d)
{
    for (int i = 0; i < COUNT(providers); i++) {
        json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", providers[i].name, "kind",
                               providers[i].kind, "phone", providers[i].phone, "address",
                               providers[i].address, "services", providers[i].services);
        int rc = provider_create(d->db, &d->sys, in, d->prov[i], d->e);
        json_decref(in);
        if (rc < 0) {
            return -1;
        }
    }
    return 0;
}

/* Saves an assessment of c (submitted or a draft) rated for risk, at the
 * moment at. Returns 0 or -1. */
static int assess(struct demo *d, struct dcase *c, const char *risk, bool submit, int64_t at)
{
    int base = strcmp(risk, "low") == 0 ? 1 : strcmp(risk, "medium") == 0 ? 2 : 3;
    bool device = rng_pct(&d->g, 55), connection = rng_pct(&d->g, 60);
    bool electricity = rng_pct(&d->g, 75);
    json_t *ratings = json_object();
    static const char *const areas[] = {"basic_needs", "education",    "health",
                                        "protection",  "psychosocial", "family"};
    for (int i = 0; i < COUNT(areas); i++) {
        int r = base + rng_range(&d->g, -1, 1);
        json_object_set_new(ratings, areas[i], json_integer(r < 1 ? 1 : r > 4 ? 4 : r));
    }
    int digital = 1 + !device + !connection + !electricity;
    json_object_set_new(ratings, "digital_access", json_integer(digital > 4 ? 4 : digital));
    json_t *risks = json_array();
    if (strcmp(risk, "high") == 0) {
        json_array_append_new(risks, json_string(rng_pct(&d->g, 50) ? "neglect" : "child_labour"));
    }
    json_t *in = json_pack("{s:o, s:o, s:{s:b, s:b, s:b, s:b}, s:s, s:s, s:b}", "ratings",
                           ratings, "risks", risks, "digital", "device", device, "connection",
                           connection, "electricity", electricity, "skills", rng_pct(&d->g, 50),
                           "overall_risk", risk, "notes",
                           "زيارة منزلية مع الأم والجدة. الطفل هادئ ويحتاج إلى متابعة دراسية.",
                           "submit", submit);
    char mark[32], id[40];
    mark_now(mark);
    json_t *errors = NULL;
    int rc = assessment_save(d->db, c->w, c->id, in, id, &errors, d->e);
    json_decref(in);
    json_decref(errors);
    if (rc < 0 || stamp_case(d, c, mark, at) < 0) {
        return -1;
    }
    snprintf(c->assessed, sizeof(c->assessed), "%s", risk);
    return 0;
}

/* The supervisor's decision on what c has pending, at the moment at. */
static int decide(struct demo *d, struct dcase *c, bool approve, const char *comment, int64_t at)
{
    char mark[32];
    mark_now(mark);
    if (case_decide(d->db, &d->sup, c->id, approve, comment, d->e) < 0) {
        return -1;
    }
    if (approve && c->assessed[0]) {
        snprintf(c->risk, sizeof(c->risk), "%s", c->assessed);
    }
    return stamp_case(d, c, mark, at);
}

/* Saves a plan of one to three goals for c (submitted or a draft), at the
 * moment at; with plan_id_out (40 bytes, may be NULL) its id. */
static int make_plan(struct demo *d, struct dcase *c, bool submit, int64_t at, char *plan_id_out)
{
    json_t *gs = json_array();
    int n = rng_range(&d->g, 1, 3), first = rng_range(&d->g, 0, COUNT(goals) - 1);
    for (int i = 0; i < n; i++) {
        const struct goal_def *gd = &goals[(first + i * 3) % COUNT(goals)];
        json_t *acts = json_array();
        char due[11];
        case_date_after(rng_range(&d->g, 7, 45), due);
        json_t *a1 = json_pack("{s:s, s:s, s:s}", "action", gd->action1, "responsible",
                               c->w->display_name, "due_date", due);
        if (gd->provider1 >= 0) {
            json_object_set_new(a1, "provider_id", json_string(d->prov[gd->provider1]));
        }
        json_array_append_new(acts, a1);
        case_date_after(rng_range(&d->g, 30, 90), due);
        json_t *a2 = json_pack("{s:s, s:s, s:s}", "action", gd->action2, "responsible",
                               gd->provider2 >= 0 ? providers[gd->provider2].name
                                                  : "ولي الأمر",
                               "due_date", due);
        if (gd->provider2 >= 0) {
            json_object_set_new(a2, "provider_id", json_string(d->prov[gd->provider2]));
        }
        json_array_append_new(acts, a2);
        json_array_append_new(gs, json_pack("{s:s, s:o}", "goal", gd->goal, "actions", acts));
    }
    json_t *in = json_pack("{s:o, s:b}", "goals", gs, "submit", submit);
    char mark[32], id[40];
    mark_now(mark);
    json_t *errors = NULL;
    int rc = plan_save(d->db, c->w, c->id, in, id, &errors, d->e);
    json_decref(in);
    json_decref(errors);
    if (rc < 0) {
        return -1;
    }
    if (plan_id_out) {
        snprintf(plan_id_out, 40, "%s", id);
    }
    return stamp_case(d, c, mark, at);
}

/* Records progress on the actions of plan plan_id: the first of each goal in
 * progress or done (done when far along), the others planned. */
static int progress_actions(struct demo *d, struct dcase *c, const char *plan_id, bool far_along)
{
    struct db_stmt *s = db_query(d->db, d->e,
                                 "SELECT a.id, a.position, g.goal FROM plan_actions a"
                                 " JOIN plan_goals g ON g.id = a.goal_id WHERE g.plan_id = $1"
                                 " ORDER BY g.position, a.position",
                                 "t", plan_id);
    if (!s) {
        return -1;
    }
    char ids[8][40];
    int pos[8], n = 0, rc;
    char goal_text[8][256];
    while ((rc = db_step(s, d->e)) == 1 && n < 8) {
        snprintf(ids[n], 40, "%s", db_col_text(s, 0));
        pos[n] = (int)db_col_int64(s, 1);
        snprintf(goal_text[n], sizeof(goal_text[n]), "%s", db_col_text(s, 2));
        n++;
    }
    db_done(s);
    if (rc < 0) {
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const char *outcome = NULL;
        for (int k = 0; k < COUNT(goals); k++) {
            if (strcmp(goals[k].goal, goal_text[i]) == 0) {
                outcome = goals[k].outcome;
            }
        }
        const char *status = pos[i] == 0 ? (far_along || rng_pct(&d->g, 40) ? "done"
                                                                            : "in_progress")
                                         : (far_along && rng_pct(&d->g, 50) ? "in_progress"
                                                                             : NULL);
        if (status && plan_action_update(d->db, c->w, ids[i], status,
                                         strcmp(status, "done") == 0 ? outcome : NULL,
                                         d->e) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Takes a free past slot of worker (0 case worker, 1 specialist) on or after
 * days_ago days back: writes its start; false when none is left. */
static bool take_slot(struct demo *d, int worker, int days_ago, int64_t *start)
{
    for (int day = days_ago; day >= 1; day--) {
        int64_t wd = (local_day(d) - day + 3) % 7; /* 0 Monday .. 6 Sunday */
        if (wd == 4) { /* Friday, the weekend */
            continue;
        }
        int first = rng_range(&d->g, 0, SLOTS_PER_DAY - 1);
        for (int k = 0; k < SLOTS_PER_DAY; k++) {
            int slot = (first + k) % SLOTS_PER_DAY;
            if (day < SLOT_DAYS && !d->used[worker][day][slot]) {
                d->used[worker][day][slot] = true;
                *start = d->midnight - day * MS_DAY + (9 + slot) * MS_HOUR;
                return true;
            }
        }
    }
    return false;
}

/* Makes a session that took place at start (45 minutes) and records its
 * outcome: scheduled through session_create at a future placeholder time,
 * moved back to start with one UPDATE (the service has no way to record a
 * session after the fact; see the top of the file), then given its outcome
 * through session_outcome. child_ids (may be NULL) makes it a group session.
 * missed_reason NULL means held. Returns 0 or -1. */
static int past_session(struct demo *d, struct dcase *c, struct actor *w, json_t *child_ids,
                        const char *mode, int64_t start, const char *missed_reason)
{
    int64_t end = start + 45 * 60000LL;
    char s_iso[32], e_iso[32], ps[32], pe[32], created[32];
    iso(start, s_iso);
    iso(end, e_iso);
    iso(start + PLACEHOLDER_SHIFT_MS, ps);
    iso(end + PLACEHOLDER_SHIFT_MS, pe);
    iso(start - rng_range(&d->g, 2, 6) * MS_DAY, created);
    const char *topics = PICK(&d->g, session_topics);
    json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kind",
                           child_ids ? "group" : "individual", "mode", mode, "worker_id",
                           w->user_id, "starts_at", ps, "ends_at", pe, "topics", topics);
    if (c) {
        json_object_set_new(in, "case_id", json_string(c->id));
    }
    if (child_ids) {
        json_object_set(in, "child_ids", child_ids);
    }
    char id[40];
    int rc = session_create(d->db, w, in, id, d->e);
    json_decref(in);
    if (rc < 0) {
        return -1;
    }
    if (db_run(d->db, d->e,
               "UPDATE sessions_care SET starts_at = $1, ends_at = $2, created_at = $3,"
               " updated_at = $3 WHERE id = $4",
               "tttt", s_iso, e_iso, created, id) < 0) {
        return -1;
    }
    json_t *out;
    if (missed_reason) {
        out = json_pack("{s:s, s:s}", "status", "missed", "missed_reason", missed_reason);
    } else {
        json_t *att = json_object();
        if (child_ids) {
            size_t i;
            json_t *v;
            json_array_foreach(child_ids, i, v)
            {
                json_object_set_new(att, json_string_value(v), json_boolean(i != 2));
            }
        }
        if (c) {
            json_object_set_new(att, c->child_id, json_true());
        }
        out = json_pack("{s:s, s:o, s:i}", "status", "held", "attendance", att, "duration_min",
                        rng_range(&d->g, 30, 45));
        if (w == &d->psy && c) {
            json_object_set_new(out, "notes", json_string(PICK(&d->g, psych_notes)));
        }
    }
    rc = session_outcome(d->db, w, id, out, d->e);
    json_decref(out);
    if (rc < 0 || db_run(d->db, d->e, "UPDATE sessions_care SET updated_at = $1 WHERE id = $2",
                         "tt", e_iso, id) < 0) {
        return -1;
    }
    d->n_sessions++;
    if (c && !missed_reason && start > c->last_contact) {
        c->last_contact = start;
    }
    return 0;
}

/* Past sessions of c from days_from to days_to days back, about weekly. */
static int sessions_between(struct demo *d, struct dcase *c, int days_from, int days_to)
{
    for (int day = days_from; day > days_to && day >= 1; day -= rng_range(&d->g, 6, 12)) {
        bool by_psy = c->w == &d->psy || (rng_pct(&d->g, 35) && d->psy.user_id[0]);
        struct actor *w = by_psy ? &d->psy : c->w;
        static const char *const modes[] = {"in_person", "in_person", "phone", "video", "video",
                                            "chat"};
        const char *mode = PICK(&d->g, modes);
        const char *missed = NULL;
        if (strcmp(mode, "in_person") != 0 && rng_pct(&d->g, 22)) {
            static const char *const why[] = {"no_connection", "no_device", "no_electricity",
                                              "no_connection", "child_unavailable"};
            missed = PICK(&d->g, why);
        } else if (rng_pct(&d->g, 5)) {
            missed = "child_unavailable";
        }
        int64_t start;
        if (!take_slot(d, w == &d->psy, day, &start)) {
            continue;
        }
        if (past_session(d, c, w, NULL, mode, start, missed) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Answers of an instrument whose items score 0..max, summing to total. */
static json_t *answers_for(struct demo *d, const struct instrument *in, int total)
{
    int max = in->scale[in->n_scale - 1].value, n = (int)in->n_items;
    int v[64] = {0};
    n = n > 64 ? 64 : n;
    total = total > max * n ? max * n : total < 0 ? 0 : total;
    for (int left = total; left > 0;) {
        int i = rng_range(&d->g, 0, n - 1);
        if (v[i] < max) {
            v[i]++;
            left--;
        }
    }
    json_t *a = json_object();
    for (int i = 0; i < n; i++) {
        /* Reverse-scored items are stored as answered. */
        int answer = in->items[i].reverse ? max - v[i] : v[i];
        json_object_set_new(a, in->items[i].id, json_integer(answer));
    }
    return a;
}

/* Records instrument id for c with raw sum raw at the moment at (skipped
 * when the child's age is outside the instrument's range). */
static int score(struct demo *d, struct dcase *c, const char *id, int raw, int64_t at)
{
    const struct instrument *in = instrument_find(id);
    if (!in || !instrument_age_ok(in, c->age)) {
        return 0;
    }
    json_t *answers = answers_for(d, in, raw);
    char mark[32], rid[40];
    mark_now(mark);
    int rc = instrument_record(d->db, &d->psy, c->id, id, answers, NULL, rid, NULL, d->e);
    json_decref(answers);
    if (rc < 0) {
        return -1;
    }
    d->n_responses++;
    int64_t keep = c->t;
    if (stamp_case(d, c, mark, at) < 0) {
        return -1;
    }
    c->t = keep > at ? keep : at;
    return 0;
}

/* PSC-17 and WHO-5 for c at two or three moments from first to last: most
 * children improve, some do not. */
static int scores_over_time(struct demo *d, struct dcase *c, int64_t first, int64_t last,
                            int points)
{
    bool improves = rng_pct(&d->g, 75);
    int psc = rng_range(&d->g, 14, 26), who = rng_range(&d->g, 5, 12);
    for (int i = 0; i < points; i++) {
        int64_t at = points == 1 ? first : first + (last - first) * i / (points - 1);
        if (score(d, c, "psc17", psc, at) < 0 || score(d, c, "who5", who, at + 20 * 60000LL) < 0) {
            return -1;
        }
        psc += improves ? -rng_range(&d->g, 2, 6) : rng_range(&d->g, 0, 3);
        who += improves ? rng_range(&d->g, 2, 5) : -rng_range(&d->g, 0, 2);
    }
    return 0;
}

/* Raises c's urgent flag now, as a worker does on a disclosure. */
static int raise_urgent(struct demo *d, struct dcase *c, const char *reason)
{
    if (db_begin(d->db, false, d->e) < 0) {
        return -1;
    }
    if (case_raise_urgent_tx(d->db, c->w, c->id, reason, d->e) < 0 ||
        db_commit(d->db, d->e) < 0) {
        db_rollback(d->db);
        return -1;
    }
    return 0;
}

/* A task for c's worker due in due_days (negative: overdue), at the moment at. */
static int add_task(struct demo *d, struct dcase *c, const char *title, int due_days, int64_t at)
{
    char due[11], mark[32], id[40];
    case_date_after(due_days, due);
    mark_now(mark);
    if (db_begin(d->db, false, d->e) < 0) {
        return -1;
    }
    if (task_create_tx(d->db, c->w, c->id, c->w->user_id, NULL, "task", title, due, false, id,
                       d->e) < 0 ||
        db_commit(d->db, d->e) < 0) {
        db_rollback(d->db);
        return -1;
    }
    int64_t keep = c->t;
    if (stamp_case(d, c, mark, at) < 0) {
        return -1;
    }
    c->t = keep;
    return 0;
}

/* Sets c's next contact to its last contact plus the interval of its risk
 * level: the follow-up date its worker keeps (the services set it only at
 * an approval, and stamp_case moved that approval back). */
static int set_next_contact(struct demo *d, struct dcase *c)
{
    int days = case_contact_days(c->risk);
    int64_t day = (c->last_contact + LOCAL_OFFSET_MS) / MS_DAY + (days < 0 ? 14 : days);
    int y, m, dd;
    time_civil_from_days(day, &y, &m, &dd);
    char next[16];
    snprintf(next, sizeof(next), "%04d-%02d-%02d", y, m, dd);
    return db_run(d->db, d->e, "UPDATE cases SET next_contact = $1 WHERE id = $2 AND urgent = 0",
                  "tt", next, c->id) < 0
               ? -1
               : 0;
}

/* The stage a case of index k (0..N_CASES-1) is taken to. */
enum target {
    T_NEW,          /* opened, nothing saved */
    T_ASSESS_DRAFT, /* an assessment draft */
    T_ASSESS_SENT,  /* an assessment waiting for approval */
    T_PLAN,         /* assessment approved, no plan yet or a draft */
    T_PLAN_SENT,    /* a plan waiting for approval */
    T_SERVICES,     /* plan approved, services under way */
    T_FOLLOW_UP,    /* services done, follow-up */
    T_CLOSURE_SENT, /* follow-up with closure waiting for approval */
    T_CLOSED,       /* closed */
    T_REOPENED      /* closed and reopened */
};

/* The target of case k: the first band whose bound k is below. */
static enum target target_of(int k)
{
    static const struct {
        int below;
        enum target t;
    } bands[] = {{1, T_NEW},        {4, T_ASSESS_DRAFT},  {9, T_ASSESS_SENT},
                 {13, T_PLAN},      {16, T_PLAN_SENT},    {41, T_SERVICES},
                 {53, T_FOLLOW_UP}, {55, T_CLOSURE_SENT}, {59, T_CLOSED}};
    for (size_t i = 0; i < sizeof(bands) / sizeof(bands[0]); i++) {
        if (k < bands[i].below) {
            return bands[i].t;
        }
    }
    return T_REOPENED;
}

/* Days back a case of this target was opened. */
static int opened_days_ago(struct demo *d, enum target t)
{
    switch (t) {
    case T_NEW:
    case T_ASSESS_DRAFT:
        return rng_range(&d->g, 1, 6);
    case T_ASSESS_SENT:
        return rng_range(&d->g, 4, 12);
    case T_PLAN:
    case T_PLAN_SENT:
        return rng_range(&d->g, 14, 40);
    case T_SERVICES:
        return rng_range(&d->g, 35, 80);
    default:
        return rng_range(&d->g, 70, 88);
    }
}

/* Opens and works the case of index k for the child child_id (age in whole
 * years). Returns 0 or -1. */
static int work_case(struct demo *d, int k, const char *child_id, int age)
{
    struct dcase c;
    memset(&c, 0, sizeof(c));
    snprintf(c.child_id, sizeof(c.child_id), "%s", child_id);
    snprintf(c.risk, sizeof(c.risk), "medium");
    c.age = age;
    c.w = k % 4 == 3 ? &d->psy : &d->cw;
    const char *specialist = c.w == &d->cw && k % 2 == 0 ? d->psy.user_id : NULL;
    enum target t = target_of(k);
    char mark[32], case_no[32];
    mark_now(mark);
    if (case_open(d->db, &d->sup, child_id, c.w->user_id, specialist, c.id, case_no, d->e) < 0 ||
        stamp_case(d, &c, mark, day_at(d, opened_days_ago(d, t))) < 0) {
        return -1;
    }
    if (t == T_NEW) {
        return set_next_contact(d, &c);
    }
    static const char *const risks[] = {"low", "medium", "medium", "high", "medium", "low",
                                        "high"};
    const char *risk = PICK(&d->g, risks);
    if (t == T_ASSESS_DRAFT) {
        return assess(d, &c, risk, false, later(d, &c, 0, 2)) < 0 ? -1 : set_next_contact(d, &c);
    }
    if (assess(d, &c, risk, true, later(d, &c, 1, 3)) < 0) {
        return -1;
    }
    if (k == 4 || k == 10) { /* sent back once, then corrected */
        if (decide(d, &c, false, "يرجى استكمال تقييم الوصول الرقمي وذكر مصدر الكهرباء في المنزل",
                   later(d, &c, 1, 1)) < 0 ||
            assess(d, &c, risk, true, later(d, &c, 1, 2)) < 0) {
            return -1;
        }
    }
    if (t == T_ASSESS_SENT) {
        if (k == 6) {
            return raise_urgent(d, &c, "إفصاح الطفل عن تعرّضه للعنف خلال الزيارة المنزلية");
        }
        return set_next_contact(d, &c);
    }
    if (decide(d, &c, true, NULL, later(d, &c, 1, 4)) < 0) {
        return -1;
    }
    if (t == T_PLAN) {
        /* Some wait on a plan past their follow-up date. */
        if (k % 2 == 0 && make_plan(d, &c, false, later(d, &c, 1, 3), NULL) < 0) {
            return -1;
        }
        return set_next_contact(d, &c);
    }
    char plan_id[40];
    if (make_plan(d, &c, true, later(d, &c, 2, 6), plan_id) < 0) {
        return -1;
    }
    if (k == 15) {
        if (decide(d, &c, false, "الهدف الثاني يحتاج إلى إجراء محدد ومدة زمنية واضحة",
                   later(d, &c, 1, 2)) < 0 ||
            make_plan(d, &c, true, later(d, &c, 1, 2), plan_id) < 0) {
            return -1;
        }
    }
    if (t == T_PLAN_SENT) {
        return set_next_contact(d, &c);
    }
    if (decide(d, &c, true, "خطة مناسبة، يرجى التنسيق مع المدرسة", later(d, &c, 1, 3)) < 0) {
        return -1;
    }
    int64_t plan_at = c.t;
    int plan_days = (int)((d->midnight - plan_at) / MS_DAY);
    /* The actions' progress, recorded a week or two into the services. */
    bool long_ago = plan_days > 20;
    mark_now(mark);
    if (progress_actions(d, &c, plan_id, t != T_SERVICES) < 0 ||
        stamp_case(d, &c, mark, later(d, &c, long_ago ? 7 : 1, long_ago ? 14 : 3)) < 0) {
        return -1;
    }
    if (k % 5 == 0 &&
        add_task(d, &c,
                 k % 10 == 0 ? "زيارة منزلية للتحقق من الوضع المعيشي"
                             : "الاتصال بالمدرسة لمتابعة الحضور",
                 rng_range(&d->g, -3, 6), later(d, &c, 0, 1)) < 0) {
        return -1;
    }
    /* Services, with sessions about weekly. A case still at services has
     * them up to now, except one left without contact for weeks; the others
     * spent two thirds of the time there, then moved to follow-up. */
    bool lapsed = k == 22;
    int fu_days = t == T_SERVICES ? 0 : plan_days / 3;
    int services_end = lapsed ? plan_days / 2 : fu_days > 0 ? fu_days : 1;
    if (sessions_between(d, &c, plan_days - 1, services_end) < 0) {
        return -1;
    }
    int64_t last_score = t == T_SERVICES ? d->now - rng_range(&d->g, 2, 6) * MS_DAY
                                         : d->midnight - (int64_t)(fu_days + 1) * MS_DAY;
    if (lapsed) {
        last_score = d->midnight - (int64_t)services_end * MS_DAY;
    }
    int points = t == T_SERVICES && plan_days < 40 ? 2 : 3;
    if (scores_over_time(d, &c, plan_at + 2 * MS_HOUR, last_score, points) < 0) {
        return -1;
    }
    if (t == T_SERVICES) {
        if (k == 20 || k == 33) {
            return raise_urgent(d, &c,
                                k == 20 ? "انقطاع الطفل عن المدرسة وعمله في ورشة"
                                        : "تدهور مفاجئ في الحالة النفسية بعد وفاة الجدة");
        }
        return set_next_contact(d, &c);
    }
    mark_now(mark);
    if (case_move(d->db, c.w, c.id, "follow_up", d->e) < 0 ||
        stamp_case(d, &c, mark, day_at(d, fu_days)) < 0) {
        return -1;
    }
    /* Follow-up: fewer contacts; some cases have had none since the move
     * and are now overdue, closed cases stopped twelve days ago. */
    bool closing = t == T_CLOSED || t == T_REOPENED;
    bool quiet = t == T_FOLLOW_UP && k % 4 == 1;
    int fu_end = closing ? 12 : 1;
    if (!quiet && fu_days - 1 > fu_end) {
        for (int day = fu_days - rng_range(&d->g, 7, 14); day > fu_end; day -= 14) {
            int64_t start;
            struct actor *w = c.w;
            if (take_slot(d, w == &d->psy, day, &start) &&
                past_session(d, &c, w, NULL, rng_pct(&d->g, 50) ? "phone" : "in_person", start,
                             NULL) < 0) {
                return -1;
            }
        }
    }
    if (t == T_FOLLOW_UP) {
        if (k == 45) {
            return raise_urgent(d, &c, "إبلاغ من المدرسة عن علامات إهمال");
        }
        return set_next_contact(d, &c);
    }
    const char *reason = t == T_CLOSURE_SENT ? "goals_met" : closure_reasons[k % 4];
    const char *note = strcmp(reason, "child_moved") == 0
                           ? "انتقلت الأسرة إلى محافظة أخرى وأُحيلت الحالة إلى الشريك المحلي"
                       : strcmp(reason, "family_refused") == 0
                           ? "اعتذرت الأسرة عن متابعة الخدمات بعد عدة محاولات"
                           : "تحققت أهداف الخطة واستقر وضع الطفل الدراسي والنفسي";
    mark_now(mark);
    if (case_submit(d->db, c.w, c.id, "closure", reason, note, d->e) < 0 ||
        stamp_case(d, &c, mark, closing ? day_at(d, 11) : later(d, &c, 0, 1)) < 0) {
        return -1;
    }
    if (t == T_CLOSURE_SENT) {
        return set_next_contact(d, &c);
    }
    if (decide(d, &c, true, "موافقة على الإغلاق", later(d, &c, 1, 2)) < 0) {
        return -1;
    }
    if (t == T_CLOSED) {
        return 0;
    }
    /* Reopened: the family came back. */
    mark_now(mark);
    if (case_reopen(d->db, c.w, c.id, "عادت الأسرة وطلبت الدعم بعد انقطاع الطفل عن المدرسة",
                    d->e) < 0 ||
        stamp_case(d, &c, mark, day_at(d, 4)) < 0 ||
        assess(d, &c, "high", false, day_at(d, 2)) < 0) {
        return -1;
    }
    return set_next_contact(d, &c);
}

/* Sessions of the coming week for the case worker and the specialist, on
 * the n_ids open cases case_ids (cw[i]: the case worker works it, psy[i]:
 * the specialist works it or takes part), some of them by video. */
static int upcoming_sessions(struct demo *d, char (*case_ids)[40], const bool *cw,
                             const bool *psy, int n_ids)
{
    static const char *const modes[] = {"video", "in_person", "video", "phone", "in_person",
                                        "video"};
    int made = 0;
    for (int day = 0; day <= 6; day++) {
        int64_t wd = (local_day(d) + day + 3) % 7; /* 0 Monday .. 6 Sunday */
        if (wd == 4) {
            continue;
        }
        for (int h = 9; h <= 14; h += 2) {
            for (int who = 0; who < 2; who++) {
                struct actor *w = who ? &d->psy : &d->cw;
                int64_t start = d->midnight + day * MS_DAY + (h + who) * MS_HOUR;
                if (start < d->now + MS_HOUR || rng_pct(&d->g, 35)) {
                    continue;
                }
                int pick = -1;
                for (int tries = 0; tries < 20 && pick < 0; tries++) {
                    int i = rng_range(&d->g, 0, n_ids - 1);
                    if (who ? psy[i] : cw[i]) {
                        pick = i;
                    }
                }
                if (pick < 0) {
                    continue;
                }
                char s_iso[32], e_iso[32], id[40];
                iso(start, s_iso);
                iso(start + 45 * 60000LL, e_iso);
                json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kind",
                                       "individual", "mode", PICK(&d->g, modes), "case_id",
                                       case_ids[pick], "worker_id", w->user_id, "starts_at",
                                       s_iso, "ends_at", e_iso, "topics",
                                       PICK(&d->g, session_topics));
                int rc = session_create(d->db, w, in, id, d->e);
                json_decref(in);
                if (rc < 0) {
                    return -1;
                }
                made++;
            }
        }
    }
    d->n_sessions += made;
    return 0;
}

/* A group session of the specialist: one held two weeks ago and one
 * upcoming, for children of cases_ids. */
static int group_sessions(struct demo *d, char (*child_ids)[40], int n)
{
    json_t *ids = json_array();
    for (int i = 0; i < n && i < 6; i++) {
        json_array_append_new(ids, json_string(child_ids[i]));
    }
    int64_t start;
    int rc = 0;
    if (take_slot(d, 1, 14, &start)) {
        rc = past_session(d, NULL, &d->psy, ids, "in_person", start, NULL);
    }
    if (rc == 0) {
        int64_t up = d->midnight + 3 * MS_DAY + 16 * MS_HOUR;
        char s_iso[32], e_iso[32], id[40];
        iso(up, s_iso);
        iso(up + 90 * 60000LL, e_iso);
        json_t *in = json_pack("{s:s, s:s, s:O, s:s, s:s, s:s}", "kind", "group", "mode", "video",
                               "child_ids", ids, "starts_at", s_iso, "ends_at", e_iso, "topics",
                               "مجموعة دعم للأطفال الذين فقدوا أحد الوالدين: التعبير عن الفقد");
        rc = session_create(d->db, &d->psy, in, id, d->e);
        json_decref(in);
        d->n_sessions += rc == 0;
    }
    json_decref(ids);
    return rc;
}

/* Age in whole years on today of a birth date "YYYY-MM-DD"; -1 when malformed. */
static int age_of(const char *birth)
{
    int by, bm, bd, y, m, d;
    if (!birth || time_date_parse(birth, &by, &bm, &bd) < 0) {
        return -1;
    }
    time_today(&y, &m, &d);
    return y - by - (m < bm || (m == bm && d < bd));
}

/* Makes the whole demo: cases_demo without the syncing. */
static int work_all(struct db *db, const struct actor *a, struct err *e)
{
    static struct demo d; /* large (the slot grid); one demo at a time */
    memset(&d, 0, sizeof(d));
    d.db = db;
    d.e = e;
    d.g.s = DEMO_CASES_SEED;
    d.sys = *a;
    d.now = time_now_ms();
    d.midnight = (d.now + LOCAL_OFFSET_MS) / MS_DAY * MS_DAY - LOCAL_OFFSET_MS;
    if (load_actor(&d, "caseworker", &d.cw) < 0 || load_actor(&d, "psychologist", &d.psy) < 0 ||
        load_actor(&d, "supervisor", &d.sup) < 0 || make_providers(&d) < 0) {
        return -1;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT COUNT(*) FROM children WHERE org_id = $1"
                               " AND status <> 'closed'",
                               "t", a->org_id);
    if (!s) {
        return -1;
    }
    /* Every step-th child, so that the cases spread over the households. */
    int64_t step = db_col_int64(s, 0) / N_CASES;
    db_done(s);
    step = step < 1 ? 1 : step;
    s = db_query(db, e,
                 "SELECT id, birth_date FROM children WHERE org_id = $1"
                 " AND status <> 'closed' ORDER BY file_no, id",
                 "t", a->org_id);
    if (!s) {
        return -1;
    }
    static char ids[N_CASES][40];
    int ages[N_CASES], n = 0, rc;
    int64_t row = 0;
    while ((rc = db_step(s, e)) == 1 && n < N_CASES) {
        if (row++ % step == 0) {
            snprintf(ids[n], 40, "%s", db_col_text(s, 0));
            ages[n] = age_of(db_col_text(s, 1));
            n++;
        }
    }
    db_done(s);
    if (rc < 0) {
        return -1;
    }
    /* Cases are worked in an order mixed by the seed, so that the stages do
     * not follow the file numbers. */
    int order[N_CASES];
    for (int i = 0; i < n; i++) {
        order[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
        int j = rng_range(&d.g, 0, i), tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    static char open_cases[N_CASES][40];
    bool by_cw[N_CASES], by_psy[N_CASES];
    static char psy_children[N_CASES][40];
    int n_open = 0, n_psy = 0;
    for (int i = 0; i < n; i++) {
        int k = order[i];
        if (work_case(&d, k, ids[i], ages[i]) < 0) {
            return -1;
        }
    }
    /* The open cases at services or follow-up get this week's sessions. */
    s = db_query(db, e,
                 "SELECT id, worker_id, specialist_id, child_id FROM cases WHERE org_id = $1"
                 " AND status = 'open' AND stage IN ('services', 'follow_up') ORDER BY case_no",
                 "t", a->org_id);
    if (!s) {
        return -1;
    }
    while ((rc = db_step(s, e)) == 1 && n_open < N_CASES) {
        snprintf(open_cases[n_open], 40, "%s", db_col_text(s, 0));
        bool psy = strcmp(db_col_text(s, 1), d.psy.user_id) == 0 ||
                   (db_col_text(s, 2) && strcmp(db_col_text(s, 2), d.psy.user_id) == 0);
        by_cw[n_open] = strcmp(db_col_text(s, 1), d.cw.user_id) == 0;
        by_psy[n_open++] = psy;
        if (psy) {
            snprintf(psy_children[n_psy++], 40, "%s", db_col_text(s, 3));
        }
    }
    db_done(s);
    if (rc < 0 || (n_open > 0 && upcoming_sessions(&d, open_cases, by_cw, by_psy, n_open) < 0) ||
        (n_psy >= 3 && group_sessions(&d, psy_children, n_psy) < 0)) {
        return -1;
    }
    return n;
}

int cases_demo(struct db *db, const struct actor *a, struct err *e)
{
    /* A thousand small commits: on SQLite, wait for the disk only at
     * checkpoints while the demo is made (WAL keeps the file consistent; a
     * demo lost to a power cut is made again), then restore full syncing. */
    bool sqlite = db_backend_of(db) == DB_SQLITE;
    if (sqlite && db_exec(db, "PRAGMA synchronous = NORMAL", e) < 0) {
        return -1;
    }
    int n = work_all(db, a, e);
    struct err e2;
    err_clear(&e2);
    if (sqlite && db_exec(db, "PRAGMA synchronous = FULL", n < 0 ? &e2 : e) < 0 && n >= 0) {
        return -1;
    }
    return n;
}
