/*
 * demo.c: demonstration households of orphans in Jordan, Lebanon, Syria,
 * Iraq, Gaza and Yemen, made through the registry's services.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "children/children.h"
#include "children/demo.h"
#include "core/time.h"
#include "core/banned.h"

#define DEMO_SEED 0x5a4ad2026u

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

/* A number in [0, n). */
static int rng_below(struct rng *g, int n)
{
    return n <= 0 ? 0 : (int)(rng_next(g) % (uint64_t)n);
}

/* True with probability pct percent. */
static bool rng_pct(struct rng *g, int pct)
{
    return rng_below(g, 100) < pct;
}

#define PICK(g, arr) ((arr)[rng_below((g), (int)(sizeof(arr) / sizeof((arr)[0])))])

/* A given name with its usual Latin spelling. */
struct name {
    const char *ar;    /* as written in Arabic */
    const char *latin; /* a common Latin spelling */
};

static const struct name boys[] = {
    {"محمد", "Mohammed"},   {"أحمد", "Ahmad"},     {"عبدالله", "Abdullah"}, {"عمر", "Omar"},
    {"يوسف", "Yousef"},     {"علي", "Ali"},        {"حسن", "Hasan"},        {"حسين", "Hussein"},
    {"خالد", "Khaled"},     {"إبراهيم", "Ibrahim"}, {"مصطفى", "Mustafa"},    {"محمود", "Mahmoud"},
    {"زيد", "Zaid"},        {"كريم", "Karim"},     {"آدم", "Adam"},         {"إياد", "Iyad"},
    {"مالك", "Malek"},      {"تيم", "Taym"},       {"ياسين", "Yassin"},     {"حمزة", "Hamza"},
    {"عبد الرحمن", "Abdulrahman"}, {"أنس", "Anas"}, {"سليمان", "Suleiman"}, {"بلال", "Bilal"},
    {"مؤمن", "Moamen"},     {"يزن", "Yazan"},      {"ليث", "Laith"},        {"سيف", "Saif"},
};

static const struct name girls[] = {
    {"فاطمة", "Fatima"},  {"مريم", "Maryam"},  {"زينب", "Zainab"}, {"نور", "Nour"},
    {"سارة", "Sara"},     {"آية", "Aya"},      {"رهف", "Rahaf"},   {"جنى", "Jana"},
    {"ليان", "Layan"},    {"هبة", "Hiba"},     {"رغد", "Raghad"},  {"شهد", "Shahd"},
    {"ملك", "Malak"},     {"لين", "Leen"},     {"دعاء", "Duaa"},   {"أسماء", "Asmaa"},
    {"خديجة", "Khadija"}, {"سلمى", "Salma"},   {"بتول", "Batoul"}, {"رزان", "Razan"},
    {"حلا", "Hala"},      {"تسنيم", "Tasneem"}, {"إسراء", "Israa"}, {"ضحى", "Doha"},
};

/* Fathers' and grandfathers' names (older generations). */
static const char *const elders[] = {
    "محمد",  "أحمد",   "عبدالله", "إبراهيم", "إسماعيل", "جمال",   "ناصر",    "سعيد",
    "رامي",  "وليد",   "ماجد",   "فادي",    "عبد الكريم", "صالح",  "حسن",    "علي",
    "يوسف",  "خليل",   "عثمان",  "طارق",    "نبيل",    "سمير",   "عادل",    "منصور",
    "عبدالرحيم", "قاسم", "حسين",  "عمر",     "مصطفى",   "جابر",   "رشيد",    "فيصل",
};

/* Mothers' given names. */
static const char *const mothers[] = {
    "آمنة", "فاطمة", "عائشة", "مريم",  "خديجة", "سعاد", "هدى",  "منى",  "سمر",  "رنا",
    "وفاء", "نادية", "إيمان", "حنان",  "لمى",   "عبير", "سهام", "غادة", "ريم",  "نسرين",
};

/* A place where families live, with the family names common there. */
struct place {
    const char *country;     /* nationality as written on papers */
    const char *governorate; /* governorate (muhafaza) */
    const char *district;    /* district or city */
    const char *camp;        /* camp, or NULL */
    const char *phone;       /* international prefix and first digits */
    int region;              /* index into families[] */
};

static const struct place places[] = {
    {"أردنية", "عمّان", "ماركا", "مخيم الوحدات", "+962 79", 0},
    {"أردنية", "إربد", "إربد", "مخيم إربد", "+962 77", 0},
    {"أردنية", "الزرقاء", "الرصيفة", NULL, "+962 78", 0},
    {"سورية", "المفرق", "الزعتري", "مخيم الزعتري", "+962 79", 1},
    {"لبنانية", "بيروت", "برج البراجنة", "مخيم برج البراجنة", "+961 3", 2},
    {"فلسطينية", "الجنوب", "صيدا", "مخيم عين الحلوة", "+961 70", 2},
    {"لبنانية", "الشمال", "طرابلس", "مخيم البداوي", "+961 71", 2},
    {"سورية", "البقاع", "بر الياس", NULL, "+961 76", 1},
    {"سورية", "حلب", "حلب", NULL, "+963 944", 1},
    {"سورية", "إدلب", "حارم", "مخيم أطمة", "+963 933", 1},
    {"سورية", "حمص", "حمص", NULL, "+963 955", 1},
    {"فلسطينية", "ريف دمشق", "اليرموك", "مخيم اليرموك", "+963 988", 2},
    {"عراقية", "نينوى", "الموصل", "مخيم حسن شام", "+964 770", 3},
    {"عراقية", "الأنبار", "الفلوجة", NULL, "+964 780", 3},
    {"عراقية", "بغداد", "الكرخ", NULL, "+964 790", 3},
    {"عراقية", "دهوك", "زاخو", "مخيم شاريا", "+964 750", 3},
    {"فلسطينية", "شمال غزة", "جباليا", "مخيم جباليا", "+970 599", 4},
    {"فلسطينية", "غزة", "الرمال", NULL, "+970 592", 4},
    {"فلسطينية", "دير البلح", "النصيرات", "مخيم النصيرات", "+970 597", 4},
    {"فلسطينية", "خان يونس", "خان يونس", "مخيم خان يونس", "+970 598", 4},
    {"فلسطينية", "رفح", "رفح", "مخيم الشابورة", "+970 595", 4},
    {"يمنية", "صنعاء", "معين", NULL, "+967 77", 5},
    {"يمنية", "تعز", "المظفر", NULL, "+967 73", 5},
    {"يمنية", "الحديدة", "الحالي", NULL, "+967 71", 5},
    {"يمنية", "عدن", "الشيخ عثمان", NULL, "+967 78", 5},
    {"يمنية", "مأرب", "مدينة مأرب", "مخيم الجفينة", "+967 77", 5},
};

/* Family names by region: Jordan, Syria, Palestine/Lebanon, Iraq, Gaza, Yemen. */
static const char *const families[6][10] = {
    {"العبادي", "الزعبي", "الخطيب", "الحوراني", "المومني", "النسور", "الشريدة", "العمري",
     "الطراونة", "الرواشدة"},
    {"الحلبي", "الشامي", "الأتاسي", "البيطار", "الحمصي", "القاسم", "الإدلبي", "السيد",
     "العلي", "النجار"},
    {"عيسى", "حمدان", "الحاج", "سعد", "الأسعد", "شحادة", "عوض", "الخليل", "موسى", "يونس"},
    {"الجبوري", "الدليمي", "العبيدي", "الشمري", "الكبيسي", "التميمي", "الزبيدي", "الساعدي",
     "الحديثي", "البياتي"},
    {"أبو شمالة", "الأغا", "شعت", "الحلو", "أبو زيد", "أبو ندى", "الكرد", "عاشور", "حمد",
     "البطش"},
    {"الأهدل", "العريقي", "الشرعبي", "المقطري", "الحكيمي", "الصبري", "العامري", "الأغبري",
     "الوصابي", "الحميري"},
};

static const char *const conditions[] = {
    "ربو خفيف يحتاج بخاخًا عند اللزوم",
    "فقر دم بسبب نقص الحديد",
    "سكري من النوع الأول",
    "صعوبات في السمع في الأذن اليسرى",
    "آثار حروق قديمة في الذراع",
};

static const char *const schools[] = {
    "مدرسة الأونروا الابتدائية", "مدرسة الشهداء الأساسية", "مدرسة خديجة بنت خويلد",
    "مدرسة الفجر الأساسية", "مدرسة النهضة", "مدرسة الأمل المختلطة",
};

static const char *const needs_list[] = {"food", "shelter", "school_fees", "medical_care",
                                         "device", "internet", "electricity"};

/* A household's shared facts, chosen once for all its children. */
struct family {
    const struct place *place; /* where they live */
    const char *father;        /* the father's given name */
    const char *grandfather;   /* the father's father */
    const char *surname;       /* the family name */
    char mother[160];          /* the mother's full name */
    bool father_dead;          /* the father has died */
    bool mother_dead;          /* the mother has died */
    int64_t death_day;         /* the day the father (or a parent) died, in days since 1970 */
};

/* Writes a birth date for age years (1..17) into out, on or before today. */
static void birth_date(struct rng *g, int age, bool estimated, char out[16])
{
    int y, m, d;
    time_today(&y, &m, &d);
    int64_t today = time_days_from_civil(y, m, d);
    /* somewhere between age years and age+1 years ago, less a day */
    int64_t back = (int64_t)age * 365 + 1 + rng_below(g, 360);
    int by, bm, bd;
    time_civil_from_days(today - back, &by, &bm, &bd);
    if (estimated) {
        bm = 1; /* refugee papers often carry 1 January */
        bd = 1;
    }
    snprintf(out, 16, "%04d-%02d-%02d", by, bm, bd);
}

/* A phone number of the place: its prefix and random digits. */
static void phone_of(struct rng *g, const struct place *p, char out[32])
{
    snprintf(out, 32, "%s %03d %04d", p->phone, rng_below(g, 1000), rng_below(g, 10000));
}

/* Makes one household with its guardian and n children; adds the children made to *made. */
static int make_household(struct db *db, const struct actor *a, struct rng *g, int n,
                          int *made, struct err *e)
{
    struct family f;
    f.place = &PICK(g, places);
    f.father = PICK(g, elders);
    do {
        f.grandfather = PICK(g, elders);
    } while (f.grandfather == f.father);
    f.surname = families[f.place->region][rng_below(g, 10)];
    snprintf(f.mother, sizeof(f.mother), "%s %s %s", PICK(g, mothers), PICK(g, elders),
             families[f.place->region][rng_below(g, 10)]);
    int roll = rng_below(g, 100);
    f.father_dead = roll < 85;
    f.mother_dead = roll >= 70;
    int y, m, d;
    time_today(&y, &m, &d);
    f.death_day = time_days_from_civil(y, m, d) - 30 - rng_below(g, 1500);

    char hname[200], hid[40], gid[40], phone[32];
    snprintf(hname, sizeof(hname), "أسرة %s %s", f.father, f.surname);
    phone_of(g, f.place, phone);
    json_t *h = json_pack("{s:s, s:s, s:s, s:s}", "name", hname, "governorate",
                          f.place->governorate, "district", f.place->district, "phone", phone);
    if (f.place->camp) {
        json_object_set_new(h, "camp", json_string(f.place->camp));
        char shelter[64];
        snprintf(shelter, sizeof(shelter), "بلوك %d، وحدة %d", 1 + rng_below(g, 30),
                 1 + rng_below(g, 200));
        json_object_set_new(h, "shelter", json_string(shelter));
    }
    int rc = household_create(db, a, h, hid, e);
    json_decref(h);
    if (rc < 0) {
        return -1;
    }
    /* The guardian: the mother while she lives, else a grandparent, an uncle or an aunt. */
    const char *relation = "mother";
    char gname[200];
    if (!f.mother_dead) {
        snprintf(gname, sizeof(gname), "%s", f.mother);
    } else {
        static const char *const rels[] = {"grandmother", "grandfather", "uncle", "aunt"};
        relation = PICK(g, rels);
        if (!strcmp(relation, "grandfather")) {
            snprintf(gname, sizeof(gname), "%s %s", f.grandfather, f.surname);
        } else if (!strcmp(relation, "uncle")) {
            snprintf(gname, sizeof(gname), "%s %s %s", PICK(g, elders), f.grandfather,
                     f.surname);
        } else {
            snprintf(gname, sizeof(gname), "%s %s %s", PICK(g, mothers), PICK(g, elders),
                     f.surname);
        }
    }
    json_t *gj = json_pack("{s:s, s:s, s:s, s:s}", "full_name", gname, "relation", relation,
                           "phone", phone, "household_id", hid);
    if (rng_pct(g, 60)) {
        char no[24];
        snprintf(no, sizeof(no), "%09d", rng_below(g, 1000000000));
        json_object_set_new(gj, "id_doc_type", json_string("national_id"));
        json_object_set_new(gj, "id_doc_number", json_string(no));
    }
    rc = guardian_create(db, a, gj, gid, e);
    json_decref(gj);
    if (rc < 0) {
        return -1;
    }
    for (int i = 0; i < n; i++) {
        bool boy = rng_pct(g, 50);
        const struct name *nm = boy ? &PICK(g, boys) : &PICK(g, girls);
        int age = 1 + rng_below(g, 17);
        bool estimated = rng_pct(g, 15);
        char born[16];
        birth_date(g, age, estimated, born);
        const char *orphan = f.father_dead && f.mother_dead ? "both_deceased"
                             : f.father_dead                ? "father_deceased"
                             : f.mother_dead                ? "mother_deceased"
                                                            : "other_vulnerable";
        json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                              "first_name", nm->ar, "father_name", f.father, "grandfather_name",
                              f.grandfather, "family_name", f.surname, "mother_name", f.mother,
                              "sex", boy ? "M" : "F", "birth_date", born, "orphan_status",
                              orphan, "nationality", f.place->country, "governorate",
                              f.place->governorate, "district", f.place->district,
                              "household_id", hid);
        json_object_set_new(c, "birth_date_estimated", json_string(estimated ? "1" : "0"));
        json_object_set_new(c, "living_situation",
                            json_string(f.mother_dead ? (rng_pct(g, 80) ? "with_relatives"
                                                                        : "foster_family")
                                                      : "with_mother"));
        if (f.place->camp) {
            json_object_set_new(c, "camp", json_string(f.place->camp));
        }
        if (rng_pct(g, 40)) {
            json_object_set_new(c, "first_name_latin", json_string(nm->latin));
        }
        /* one death day for the household, but never long before this child's birth */
        int bdy, bdm, bdd;
        time_date_parse(born, &bdy, &bdm, &bdd);
        int64_t dday = f.death_day;
        if (dday < time_days_from_civil(bdy, bdm, bdd)) {
            dday = time_days_from_civil(bdy, bdm, bdd);
        }
        int dy, dm, dd;
        time_civil_from_days(dday, &dy, &dm, &dd);
        char death[16];
        snprintf(death, sizeof(death), "%04d-%02d-%02d", dy, dm, dd);
        if (f.father_dead) {
            json_object_set_new(c, "father_death_date", json_string(death));
        }
        if (f.mother_dead) {
            json_object_set_new(c, "mother_death_date", json_string(death));
        }
        if (age >= 6) {
            json_object_set_new(c, "school_name", json_string(PICK(g, schools)));
            char grade[16];
            snprintf(grade, sizeof(grade), "%d", age - 5 > 12 ? 12 : age - 5);
            json_object_set_new(c, "school_grade", json_string(grade));
            static const char *const att[] = {"regular", "regular", "regular", "irregular",
                                              "dropped_out"};
            json_object_set_new(c, "school_attendance", json_string(PICK(g, att)));
        }
        if (rng_pct(g, 70)) {
            char needs[120] = "";
            size_t len = 0;
            for (size_t k = 0; k < sizeof(needs_list) / sizeof(needs_list[0]); k++) {
                if (rng_pct(g, 30)) {
                    len += (size_t)snprintf(needs + len, sizeof(needs) - len, "%s%s",
                                            len ? "," : "", needs_list[k]);
                }
            }
            if (len) {
                json_object_set_new(c, "needs", json_string(needs));
            }
        }
        if (rng_pct(g, 8)) {
            json_object_set_new(c, "health_conditions", json_string(PICK(g, conditions)));
        }
        json_object_set_new(c, "id_doc_type",
                            json_string(rng_pct(g, 70) ? "birth_certificate" : "family_book"));
        json_object_set_new(c, "languages", json_string("العربية"));
        char id[40], file_no[64];
        json_t *errors = NULL;
        rc = child_create(db, a, c, id, file_no, &errors, e);
        json_decref(c);
        if (rc < 0) {
            if (errors) {
                json_t *first = json_array_get(errors, 0);
                err_set(e, ERR_INVALID, "validation_failed", "", "demo child '%s': '%s' %s",
                        nm->ar, json_string_value(json_object_get(first, "field")),
                        json_string_value(json_object_get(first, "code")));
                json_decref(errors);
            }
            return -1;
        }
        (*made)++;
        if (child_set_guardian(db, a, id, gid, NULL, e) < 0) {
            return -1;
        }
        if (rng_pct(g, 60)) {
            json_t *cs = json_pack("{s:s, s:b, s:b, s:s}", "scope", "services",
                                   "guardian_consent", 1, "child_assent", age >= 7, "given_by",
                                   gname);
            char cid[40];
            rc = consent_record(db, a, id, cs, cid, e);
            json_decref(cs);
            if (rc < 0) {
                return -1;
            }
            if (rng_pct(g, 30)) {
                cs = json_pack("{s:s, s:b, s:s}", "scope", "sponsor_media", "guardian_consent",
                               1, "given_by", gname);
                rc = consent_record(db, a, id, cs, cid, e);
                json_decref(cs);
                if (rc < 0) {
                    return -1;
                }
            }
        }
        int st = rng_below(g, 100);
        if (st < 65 && child_set_status(db, a, id, "active", NULL, e) < 0) {
            return -1;
        }
        if (st >= 95 && child_set_status(db, a, id, "closed", "moved_away", e) < 0) {
            return -1;
        }
    }
    return 0;
}

int children_demo(struct db *db, const struct actor *a, int n_children, struct err *e)
{
    if (n_children < 1 || n_children > 100000) {
        return err_set(e, ERR_INVALID, "invalid_field", "n_children",
                       "'n_children' must be from 1 to 100000");
    }
    struct rng g = {DEMO_SEED};
    int made = 0;
    while (made < n_children) {
        /* families of one to five children, most of two or three */
        static const int sizes[] = {1, 2, 2, 3, 3, 3, 4, 4, 5};
        if (make_household(db, a, &g, PICK(&g, sizes), &made, e) < 0) {
            return -1;
        }
    }
    return made;
}
