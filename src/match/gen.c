/*
 * gen.c: synthetic registration records with known truth; see gen.h.
 *
 * Names are common Arab names with their usual Latin spellings. Families
 * have several children (siblings share father, grandfather, family name,
 * mother and birth place), some have twins (the same birth date too), and
 * some have cousin families (same grandfather and family name). Every child
 * is registered one or more times, each time with the variations of the
 * profile.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "core/banned.h"
#include "match/gen.h"

/* A name in Arabic and its Latin spellings separated by '|'. */
struct gname {
    const char *ar;  /* Arabic, UTF-8 */
    const char *lat; /* Latin spellings */
};

/* Boys' and men's names. */
static const struct gname male[] = {
    {"محمد", "Mohammed|Muhammad|Mohamed|Mohammad"}, {"أحمد", "Ahmed|Ahmad"},
    {"علي", "Ali"}, {"حسن", "Hassan|Hasan"}, {"حسين", "Hussein|Hussain|Husein"},
    {"عمر", "Omar|Umar"}, {"خالد", "Khaled|Khalid"}, {"يوسف", "Youssef|Yousef|Yusuf"},
    {"إبراهيم", "Ibrahim|Ebrahim"}, {"مصطفى", "Mustafa|Moustafa|Mostafa"},
    {"عبد الله", "Abdullah|Abdallah|Abd Allah"},
    {"عبد الرحمن", "Abdulrahman|Abdelrahman|Abd al-Rahman|Abdul Rahman"},
    {"عبد العزيز", "Abdulaziz|Abdelaziz|Abd al-Aziz"},
    {"عبد القادر", "Abdelkader|Abdulqader|Abd al-Qadir"}, {"سعيد", "Saeed|Said"},
    {"سعد", "Saad"}, {"محمود", "Mahmoud|Mahmud"}, {"ياسر", "Yasser|Yasir"},
    {"طارق", "Tariq|Tarek|Tareq"}, {"زياد", "Ziad|Ziyad|Zeyad"}, {"وليد", "Walid|Waleed"},
    {"وائل", "Wael|Wa'il"}, {"فادي", "Fadi|Fady"}, {"رامي", "Rami|Ramy"}, {"سامر", "Samer"},
    {"سمير", "Samir|Sameer"}, {"نبيل", "Nabil|Nabeel"}, {"جمال", "Jamal"},
    {"كريم", "Karim|Kareem"}, {"ماجد", "Majed|Majid"}, {"ماهر", "Maher|Mahir"},
    {"هاني", "Hani|Hany"}, {"هشام", "Hisham|Hesham"}, {"عماد", "Imad|Emad"},
    {"إياد", "Iyad|Eyad"}, {"أنس", "Anas"}, {"أيمن", "Ayman|Aymen"}, {"بلال", "Bilal|Belal"},
    {"حمزة", "Hamza|Hamzah"}, {"حازم", "Hazem|Hazim"}, {"حسام", "Hussam|Hossam"},
    {"جعفر", "Jaafar|Jafar"}, {"قاسم", "Qasim|Kassem|Kasim"}, {"موسى", "Musa|Moussa"},
    {"عيسى", "Issa|Eisa"}, {"إلياس", "Elias|Ilyas"}, {"يحيى", "Yahya|Yehia"},
    {"زكريا", "Zakaria|Zakariya"}, {"معاذ", "Muadh|Moaz|Muaz"}, {"منصور", "Mansour|Mansur"},
    {"نزار", "Nizar|Nezar"}, {"راشد", "Rashed|Rashid"}, {"رائد", "Raed"},
    {"صالح", "Saleh|Salih"}, {"سليم", "Salim|Saleem"}, {"سليمان", "Suleiman|Sulaiman"},
    {"شادي", "Shadi|Shady"}, {"طه", "Taha"}, {"عادل", "Adel|Adil"}, {"عصام", "Issam|Essam"},
    {"فيصل", "Faisal|Faysal"}, {"فراس", "Firas|Feras"}, {"مازن", "Mazen|Mazin"},
    {"مراد", "Murad|Mourad"}, {"مهدي", "Mahdi|Mehdi"}, {"هيثم", "Haitham|Haytham"},
    {"نور الدين", "Nour al-Din|Noureddine|Nour Eddine"},
    {"صلاح الدين", "Salah al-Din|Salaheddine|Salah Eddine"}, {"عثمان", "Othman|Osman"},
    {"ثامر", "Thamer|Thamir"}, {"غسان", "Ghassan"}, {"خليل", "Khalil|Khaleel"},
    {"باسل", "Basel|Basil"}, {"أسامة", "Osama|Usama"}, {"تامر", "Tamer|Tamir"},
    {"رياض", "Riad|Riyad"}, {"لؤي", "Luay|Louay"}, {"مؤمن", "Moamen|Mumin"},
    {"قصي", "Qusai|Qusay"}, {"عمار", "Ammar"}, {"منير", "Munir|Mounir"}, {"هادي", "Hadi|Hady"},
};

/* Girls' and women's names. */
static const struct gname female[] = {
    {"فاطمة", "Fatima|Fatma|Fatimah"}, {"عائشة", "Aisha|Aicha|Ayesha"},
    {"مريم", "Maryam|Mariam"}, {"زينب", "Zainab|Zeinab"}, {"خديجة", "Khadija|Khadijah"},
    {"آمنة", "Amina|Amna"}, {"سارة", "Sara|Sarah"}, {"ليلى", "Layla|Leila|Laila"},
    {"نور", "Nour|Noor"}, {"هدى", "Huda|Hoda"}, {"رنا", "Rana"}, {"ريم", "Reem|Rim"},
    {"سلمى", "Salma|Selma"}, {"دعاء", "Doaa|Duaa"}, {"آلاء", "Alaa"}, {"أسماء", "Asmaa|Asma"},
    {"إسراء", "Israa|Esraa"}, {"شيماء", "Shaimaa|Shaima"}, {"رقية", "Ruqaya|Roqaya"},
    {"بشرى", "Bushra|Boushra"}, {"جنى", "Jana"}, {"لجين", "Lujain|Lojain"},
    {"هبة", "Hiba|Heba"}, {"منى", "Mona|Muna"}, {"سناء", "Sanaa|Sana"}, {"رغد", "Raghad"},
    {"ياسمين", "Yasmin|Yasmine"}, {"أمل", "Amal"}, {"إيمان", "Iman|Eman"},
    {"سعاد", "Souad|Suad"}, {"حنان", "Hanan"}, {"حنين", "Haneen|Hanin"},
    {"غدير", "Ghadeer|Ghadir"}, {"ملك", "Malak"}, {"تالا", "Tala"}, {"رزان", "Razan"},
    {"سجى", "Saja"}, {"بتول", "Batoul|Batool"}, {"رحمة", "Rahma|Rahmah"},
    {"نادين", "Nadine|Nadeen"}, {"لمى", "Lama"}, {"دينا", "Dina|Deena"}, {"هالة", "Hala"},
    {"عبير", "Abeer|Abir"}, {"وفاء", "Wafaa|Wafa"}, {"نهى", "Noha|Nuha"}, {"سمر", "Samar"},
    {"ميار", "Mayar"}, {"جود", "Joud"}, {"بيان", "Bayan"}, {"ولاء", "Walaa"},
    {"صفاء", "Safaa|Safa"}, {"ندى", "Nada"}, {"مروة", "Marwa|Marwah"}, {"أميرة", "Amira|Ameera"},
    {"هاجر", "Hajar|Hagar"}, {"زهراء", "Zahraa|Zahra"}, {"رهف", "Rahaf"},
};

/* Family names; those with the article get Latin prefixes (Al-, El, ...). */
static const struct gname family[] = {
    {"الخطيب", "Khatib|Khateeb"}, {"الحسن", "Hassan|Hasan"}, {"الشريف", "Sharif|Shareef"},
    {"المصري", "Masri|Misri"}, {"الحلبي", "Halabi"}, {"النجار", "Najjar|Najar"},
    {"الأحمد", "Ahmad|Ahmed"}, {"العلي", "Ali"}, {"الزعبي", "Zoubi|Zubi"},
    {"الحمادي", "Hammadi"}, {"البغدادي", "Baghdadi"}, {"الشامي", "Shami"},
    {"الكردي", "Kurdi"}, {"التميمي", "Tamimi"}, {"العتيبي", "Otaibi"},
    {"الهاشمي", "Hashemi|Hashimi"}, {"الجبوري", "Jubouri|Jabouri"}, {"الدليمي", "Dulaimi"},
    {"الرفاعي", "Rifai|Refaei"}, {"العمر", "Omar"}, {"الصالح", "Saleh|Salih"},
    {"الأنصاري", "Ansari"}, {"القاضي", "Qadi|Kadi"}, {"الطويل", "Tawil|Taweel"},
    {"الحوراني", "Hourani|Horani"}, {"السيد", "Sayed|Sayyid"}, {"العطار", "Attar"},
    {"الفارس", "Fares|Faris"}, {"البنا", "Banna"}, {"الزين", "Zein|Zain"},
    {"الخوري", "Khoury|Khouri"}, {"الحداد", "Haddad"}, {"الراشد", "Rashed|Rashid"},
    {"السعدي", "Saadi"}, {"الشمري", "Shammari"}, {"الكعبي", "Kaabi"}, {"المطيري", "Mutairi"},
    {"الحربي", "Harbi"}, {"العنزي", "Enezi|Anazi"}, {"حمدان", "Hamdan"},
    {"سليمان", "Suleiman|Sulaiman"}, {"درويش", "Darwish|Darweesh"}, {"عودة", "Odeh|Awda"},
    {"جابر", "Jaber|Jabir"}, {"سرحان", "Sarhan"}, {"ضاهر", "Daher|Dahir"},
    {"شحادة", "Shehadeh|Shahada"}, {"سلامة", "Salameh|Salama"}, {"زيدان", "Zeidan|Zidan"},
    {"أبو زيد", "Abu Zaid|Abou Zeid"}, {"أبو علي", "Abu Ali|Abou Ali"},
    {"عبد الله", "Abdullah|Abdallah"}, {"حجازي", "Hijazi|Hegazi"}, {"عبيد", "Obeid|Ubaid"},
    {"نصر", "Nasr"}, {"صبري", "Sabri|Sabry"}, {"الإدلبي", "Idlibi"}, {"النعيمي", "Naimi|Nuaimi"},
    {"الظاهر", "Dhaher|Zaher"}, {"الرشيد", "Rashid|Rasheed"}, {"البيطار", "Bitar|Baytar"},
};

/* Birth places. */
static const struct gname place[] = {
    {"عمان", "Amman"}, {"الزرقاء", "Zarqa"}, {"إربد", "Irbid"}, {"المفرق", "Mafraq"},
    {"دمشق", "Damascus|Dimashq"}, {"حلب", "Aleppo|Halab"}, {"حمص", "Homs"}, {"إدلب", "Idlib"},
    {"الرقة", "Raqqa"}, {"دير الزور", "Deir ez-Zor|Deir al-Zour"}, {"بيروت", "Beirut"},
    {"طرابلس", "Tripoli|Trablous"}, {"صيدا", "Saida|Sidon"}, {"صور", "Tyre|Sour"},
    {"عكار", "Akkar"}, {"بغداد", "Baghdad"}, {"البصرة", "Basra|Basrah"}, {"الموصل", "Mosul"},
    {"غزة", "Gaza"}, {"رفح", "Rafah"}, {"نابلس", "Nablus"}, {"الخليل", "Hebron|Khalil"},
    {"صنعاء", "Sanaa"}, {"عدن", "Aden"}, {"تعز", "Taiz"}, {"الحديدة", "Hodeidah"},
    {"الخرطوم", "Khartoum"}, {"نيالا", "Nyala"}, {"الفاشر", "El Fasher"}, {"بعلبك", "Baalbek"},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Built-in profiles. */
static const struct match_gen_profile profiles[] = {
    /* like the shared development set */
    {"dev", 0.05, 0.12, 0.4, 0.10, 0.05, 0.06, 0.20, 0.15, 0.04, 0.25, 0.04, 0.35, 0.06, 0.03,
     0.04, 0.05, 0.02, 0.02, 0.05, 0.15, 2.8, 0.7},
    /* more of everything that hurts */
    {"hard", 0.12, 0.25, 0.5, 0.2, 0.12, 0.12, 0.35, 0.3, 0.1, 0.4, 0.1, 0.5, 0.12, 0.06, 0.08,
     0.1, 0.05, 0.04, 0.12, 0.3, 3.5, 0.9},
    /* careful clerks */
    {"clean", 0.02, 0.05, 0.2, 0.05, 0.02, 0.03, 0.1, 0.05, 0.02, 0.1, 0.02, 0.3, 0.03, 0.01,
     0.02, 0.02, 0.01, 0.01, 0.03, 0.1, 2.5, 0.5},
    /* a mixed Arabic/Latin registry */
    {"latin", 0.35, 0.1, 0.3, 0.1, 0.05, 0.05, 0.2, 0.15, 0.04, 0.25, 0.04, 0.35, 0.06, 0.03,
     0.04, 0.05, 0.02, 0.02, 0.05, 0.15, 2.8, 0.7},
};

/* Looks up a profile; see gen.h. */
const struct match_gen_profile *match_gen_profile_find(const char *name)
{
    for (size_t i = 0; i < N_OF(profiles); i++) {
        if (strcmp(profiles[i].name, name) == 0) {
            return &profiles[i];
        }
    }
    return NULL;
}

/* Random state (xorshift64*). */
static uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, n). */
static size_t pick(uint64_t *s, size_t n)
{
    return (size_t)(rnd(s) % n);
}

/* True with probability p. */
static bool chance(uint64_t *s, double p)
{
    return (double)(rnd(s) >> 11) / 9007199254740992.0 < p;
}

/* A string as code points, for editing. */
struct cps {
    uint32_t c[256]; /* code points */
    int n;           /* count */
};

/* Decodes UTF-8 into cps (input is our own valid tables). */
static void to_cps(const char *s, struct cps *o)
{
    const unsigned char *p = (const unsigned char *)s;
    o->n = 0;
    while (*p && o->n < 255) {
        uint32_t c = *p;
        int k = 0;
        if (c >= 0xF0) {
            c &= 0x07;
            k = 3;
        } else if (c >= 0xE0) {
            c &= 0x0F;
            k = 2;
        } else if (c >= 0xC0) {
            c &= 0x1F;
            k = 1;
        }
        p++;
        for (int i = 0; i < k && *p; i++, p++) {
            c = (c << 6) | (*p & 0x3F);
        }
        o->c[o->n++] = c;
    }
}

/* Appends cps as UTF-8 to b. */
static void add_cps(struct buf *b, const struct cps *o)
{
    for (int i = 0; i < o->n; i++) {
        uint32_t c = o->c[i];
        if (c < 0x80) {
            buf_addch(b, (int)c);
        } else if (c < 0x800) {
            buf_addch(b, (int)(0xC0 | (c >> 6)));
            buf_addch(b, (int)(0x80 | (c & 0x3F)));
        } else {
            buf_addch(b, (int)(0xE0 | (c >> 12)));
            buf_addch(b, (int)(0x80 | ((c >> 6) & 0x3F)));
            buf_addch(b, (int)(0x80 | (c & 0x3F)));
        }
    }
}

/* Inserts c at position i. */
static void cps_insert(struct cps *o, int i, uint32_t c)
{
    if (o->n >= 255) {
        return;
    }
    memmove(o->c + i + 1, o->c + i, sizeof(uint32_t) * (size_t)(o->n - i));
    o->c[i] = c;
    o->n++;
}

/* Removes position i. */
static void cps_remove(struct cps *o, int i)
{
    memmove(o->c + i, o->c + i + 1, sizeof(uint32_t) * (size_t)(o->n - i - 1));
    o->n--;
}

/* Groups of letters that sound alike (clerks confuse them). */
static const uint32_t sound_alike[][3] = {
    {0x633, 0x635, 0x62B}, /* س ص ث */
    {0x62A, 0x637, 0},     /* ت ط */
    {0x643, 0x642, 0},     /* ك ق */
    {0x630, 0x632, 0x638}, /* ذ ز ظ */
    {0x636, 0x638, 0x62F}, /* ض ظ د */
    {0x62D, 0x647, 0},     /* ح ه */
    {0x639, 0x621, 0},     /* ع ء */
};

/* Spelling variant: ta marbuta, alef maqsura, hamza forms. */
static void spell(struct cps *o, uint64_t *s)
{
    for (int tries = 0; tries < 6; tries++) {
        int i = (int)pick(s, (size_t)o->n);
        uint32_t c = o->c[i];
        uint32_t r = 0;
        if (c == 0x629) {
            r = 0x647; /* ة -> ه */
        } else if (c == 0x647 && i == o->n - 1) {
            r = 0x629;
        } else if (c == 0x649) {
            r = 0x64A; /* ى -> ي */
        } else if (c == 0x64A && i == o->n - 1) {
            r = 0x649;
        } else if (c == 0x623 || c == 0x625 || c == 0x622) {
            r = 0x627; /* أ إ آ -> ا */
        } else if (c == 0x627 && i == 0) {
            r = chance(s, 0.5) ? 0x623 : 0x625;
        } else if (c == 0x626) {
            r = 0x621;
        } else if (c == 0x621) {
            r = 0x626;
        } else if (c == 0x624) {
            r = 0x648;
        }
        if (r) {
            o->c[i] = r;
            return;
        }
    }
}

/* A typo: a sound-alike letter, a dropped, doubled or swapped letter. */
static void typo(struct cps *o, uint64_t *s)
{
    if (o->n < 3) {
        return;
    }
    int kind = (int)pick(s, 4);
    int i = 1 + (int)pick(s, (size_t)(o->n - 1));
    if (o->c[i] == ' ' || o->c[i - 1] == ' ') {
        return;
    }
    if (kind == 0) {
        for (size_t g = 0; g < N_OF(sound_alike); g++) {
            for (int k = 0; k < 3; k++) {
                if (sound_alike[g][k] && sound_alike[g][k] == o->c[i]) {
                    uint32_t r = sound_alike[g][(k + 1 + pick(s, 2)) % 3];
                    o->c[i] = r ? r : sound_alike[g][(k + 1) % 2];
                    return;
                }
            }
        }
        kind = 1;
    }
    if (kind == 1 && o->n > 3) {
        cps_remove(o, i);
    } else if (kind == 2) {
        cps_insert(o, i, o->c[i]);
    } else if (i + 1 < o->n && o->c[i + 1] != ' ') {
        uint32_t t = o->c[i];
        o->c[i] = o->c[i + 1];
        o->c[i + 1] = t;
    }
}

/* Stray marks: a diacritic, a tatweel, or spaces. */
static void marks(struct cps *o, uint64_t *s)
{
    int kind = (int)pick(s, 4);
    int i = 1 + (int)pick(s, (size_t)o->n);
    if (i > o->n) {
        i = o->n;
    }
    if (kind == 0) {
        cps_insert(o, i, 0x64B + (uint32_t)pick(s, 8)); /* fatha, damma, kasra, sukun ... */
    } else if (kind == 1 && i < o->n) {
        cps_insert(o, i, 0x640); /* tatweel */
    } else if (kind == 2) {
        cps_insert(o, 0, ' ');
    } else {
        for (int k = 0; k < o->n; k++) {
            if (o->c[k] == ' ') {
                cps_insert(o, k, ' ');
                return;
            }
        }
        cps_insert(o, o->n, ' ');
    }
}

/* Compound written the other way: joined or split (عبد الرحمن / عبدالرحمن). */
static void compound(struct cps *o)
{
    for (int k = 0; k < o->n; k++) {
        if (o->c[k] == ' ') {
            cps_remove(o, k);
            return;
        }
    }
}

/* Appends an Arabic name with the profile's variations. kind: 0 given, 1 family/place. */
static void add_arabic(struct buf *b, const char *name, int kind,
                       const struct match_gen_profile *p, uint64_t *s)
{
    struct cps o;
    to_cps(name, &o);
    bool has_space = false;
    for (int k = 0; k < o.n; k++) {
        has_space |= o.c[k] == ' ';
    }
    if (has_space && chance(s, p->p_compound)) {
        compound(&o);
    }
    if (kind == 1 && !has_space && chance(s, p->p_article)) {
        if (o.n > 4 && o.c[0] == 0x627 && o.c[1] == 0x644) {
            cps_remove(&o, 0);
            cps_remove(&o, 0);
        } else {
            cps_insert(&o, 0, 0x644);
            cps_insert(&o, 0, 0x627);
        }
    }
    if (chance(s, p->p_spell)) {
        spell(&o, s);
    }
    if (chance(s, p->p_typo)) {
        typo(&o, s);
    }
    if (chance(s, p->p_mark)) {
        marks(&o, s);
    }
    add_cps(b, &o);
}

/* Appends one of a name's Latin spellings with case and typo variations. */
static void add_latin(struct buf *b, const struct gname *g, int kind,
                      const struct match_gen_profile *p, uint64_t *s)
{
    const char *alts = g->lat;
    size_t n_alts = 1;
    for (const char *q = alts; *q; q++) {
        n_alts += *q == '|';
    }
    size_t want = pick(s, n_alts);
    const char *st = alts;
    for (size_t k = 0; k < want; k++) {
        st = strchr(st, '|') + 1;
    }
    const char *en = strchr(st, '|');
    size_t len = en ? (size_t)(en - st) : strlen(st);
    char tmp[128];
    size_t w = 0;
    bool article = kind == 1 && strncmp(g->ar, "ال", strlen("ال")) == 0;
    if (article && !chance(s, p->p_article)) {
        static const char *const pre[] = {"Al-", "Al ", "El-", "El ", "al-", "Al", "el-"};
        const char *x = pre[pick(s, N_OF(pre))];
        size_t xl = strlen(x);
        memcpy(tmp, x, xl);
        w = xl;
    }
    memcpy(tmp + w, st, len);
    w += len;
    tmp[w] = '\0';
    int c = (int)pick(s, 10);
    for (size_t k = 0; k < w; k++) {
        if (c == 0 && tmp[k] >= 'a' && tmp[k] <= 'z') {
            tmp[k] = (char)(tmp[k] - 32); /* UPPER */
        } else if (c == 1 && tmp[k] >= 'A' && tmp[k] <= 'Z') {
            tmp[k] = (char)(tmp[k] + 32); /* lower */
        }
    }
    if (chance(s, p->p_typo / 2) && w > 4) {
        size_t i = 1 + pick(s, w - 2);
        if (tmp[i] != ' ' && tmp[i + 1] != ' ' && tmp[i] != '-' && tmp[i + 1] != '-') {
            char t = tmp[i];
            tmp[i] = tmp[i + 1];
            tmp[i + 1] = t;
        }
    }
    buf_add(b, tmp, w);
}

/* A child: one entity of the truth. */
struct child {
    int first;       /* index into male[] or female[] */
    int sex;         /* 1 male, 2 female */
    int y, m, d;     /* true birth date */
    bool twin;       /* has a twin */
};

/* A household. */
struct household {
    int father, grandfather, fam, mother, mother_fam, place; /* name indexes */
};

/* Days in a month (ignoring leap years beyond February 28). */
static int mdays(int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return d[m - 1];
}

/* Appends one CSV record of child c of household h to b with variations. */
static void add_record(struct buf *b, const struct household *h, const struct child *c,
                       const struct match_gen_profile *p, uint64_t *s)
{
    bool latin = chance(s, p->p_latin);
    const struct gname *first = c->sex == 1 ? &male[c->first] : &female[c->first];
    const struct gname *cols[2] = {first, &male[h->father]};
    if (chance(s, p->p_swap)) {
        cols[0] = &male[h->father];
        cols[1] = first;
    }
#define NAME(g, kind)                                                                         \
    do {                                                                                     \
        if (latin) {                                                                         \
            add_latin(b, (g), (kind), p, s);                                                 \
        } else {                                                                             \
            add_arabic(b, (g)->ar, (kind), p, s);                                            \
        }                                                                                    \
    } while (0)
    NAME(cols[0], 0);
    buf_addch(b, ',');
    NAME(cols[1], 0);
    buf_addch(b, ',');
    if (!chance(s, p->p_miss_gf)) {
        NAME(&male[h->grandfather], 0);
    }
    buf_addch(b, ',');
    if (!chance(s, p->p_miss_family)) {
        NAME(&family[h->fam], 1);
    }
    buf_addch(b, ',');
    if (!chance(s, p->p_miss_mother)) {
        NAME(&female[h->mother], 0);
        if (chance(s, p->p_mother_fam)) {
            buf_addch(b, ' ');
            NAME(&family[h->mother_fam], 1);
        }
    }
#undef NAME
    int sex = c->sex;
    if (chance(s, p->p_sex)) {
        sex = 3 - sex;
    }
    buf_addf(b, ",%c,", sex == 1 ? 'M' : 'F');
    if (!chance(s, p->p_miss_dob)) {
        int y = c->y, m = c->m, d = c->d;
        if (chance(s, p->p_dob_est)) {
            m = d = 1;
        } else {
            if (chance(s, p->p_dob_swap) && d <= 12 && d != m) {
                int t = d;
                d = m;
                m = t;
            }
            if (chance(s, p->p_dob_year)) {
                y += chance(s, 0.5) ? 1 : -1;
            }
            if (chance(s, p->p_dob_days)) {
                d += 1 + (int)pick(s, 4);
                if (d > mdays(m)) {
                    d -= mdays(m);
                    m = m % 12 + 1;
                }
            }
        }
        buf_addf(b, "%04d-%02d-%02d", y, m, d);
    }
    buf_addch(b, ',');
    if (!chance(s, p->p_miss_place)) {
        if (latin) {
            add_latin(b, &place[h->place], 1, p, s);
        } else {
            add_arabic(b, place[h->place].ar, 1, p, s);
        }
    }
}

/* A generated record before shuffling. */
struct grec {
    char *line;       /* CSV fields after record_id (owned) */
    uint32_t entity;  /* child number */
    uint32_t fam;     /* household number */
    bool twin;        /* the child is a twin */
};

/* Writes records; see gen.h. */
int match_gen_write(const struct match_gen_profile *p, size_t n_records, uint64_t seed,
                    FILE *data, FILE *truth)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 0x1234567ULL;
    if (!s) {
        s = 1;
    }
    struct grec *recs = xcalloc(n_records ? n_records : 1, sizeof(*recs));
    size_t n = 0;
    uint32_t n_ent = 0, n_fam = 0;
    struct household prev;
    bool have_prev = false;
    struct buf b = BUF_INIT;
    while (n < n_records) {
        struct household h;
        if (have_prev && chance(&s, p->p_cousins)) {
            h = prev; /* cousins: same grandfather and family name */
            int f;
            do {
                f = (int)pick(&s, N_OF(male));
            } while (f == prev.father);
            h.father = f;
            h.mother = (int)pick(&s, N_OF(female));
            h.mother_fam = (int)pick(&s, N_OF(family));
        } else {
            h.father = (int)pick(&s, N_OF(male));
            do {
                h.grandfather = (int)pick(&s, N_OF(male));
            } while (h.grandfather == h.father);
            h.fam = (int)pick(&s, N_OF(family));
            h.mother = (int)pick(&s, N_OF(female));
            h.mother_fam = (int)pick(&s, N_OF(family));
            h.place = (int)pick(&s, N_OF(place));
        }
        prev = h;
        have_prev = true;
        uint32_t fam_id = n_fam++;
        /* children: 1 + geometric, distinct first names */
        int k = 1;
        double cont = 1.0 - 1.0 / p->mean_children;
        while (k < 8 && chance(&s, cont)) {
            k++;
        }
        struct child kids[9];
        int y = 2006 + (int)pick(&s, 12);
        int n_kids = 0;
        bool twins = k >= 2 && chance(&s, p->p_twins);
        for (int i = 0; i < k; i++) {
            struct child *c = &kids[n_kids];
            c->sex = 1 + (int)pick(&s, 2);
            bool dup;
            do {
                c->first = (int)pick(&s, c->sex == 1 ? N_OF(male) : N_OF(female));
                dup = c->sex == 1 && c->first == h.father;
                for (int j = 0; j < n_kids; j++) {
                    dup |= kids[j].sex == c->sex && kids[j].first == c->first;
                }
            } while (dup);
            c->twin = false;
            if (twins && i == 1) {
                c->y = kids[0].y;
                c->m = kids[0].m;
                c->d = kids[0].d;
                c->twin = kids[0].twin = true;
            } else {
                c->y = y;
                c->m = 1 + (int)pick(&s, 12);
                c->d = 1 + (int)pick(&s, (size_t)mdays(c->m));
                y += 1 + (int)pick(&s, 3);
                if (y > 2024) {
                    y = 2024;
                }
            }
            n_kids++;
        }
        for (int i = 0; i < n_kids && n < n_records; i++) {
            uint32_t ent = n_ent++;
            int copies = 1;
            double more = p->dup_rate / (1.0 + p->dup_rate);
            while (copies < 6 && chance(&s, more)) {
                copies++;
            }
            for (int c = 0; c < copies && n < n_records; c++) {
                buf_reset(&b);
                add_record(&b, &h, &kids[i], p, &s);
                recs[n].line = xstrdup(b.buf);
                recs[n].entity = ent;
                recs[n].fam = fam_id;
                recs[n].twin = kids[i].twin;
                n++;
            }
        }
    }
    buf_release(&b);
    for (size_t i = n; i > 1; i--) {
        size_t j = pick(&s, i);
        struct grec t = recs[i - 1];
        recs[i - 1] = recs[j];
        recs[j] = t;
    }
    int rc = 0;
    fputs("record_id,first_name,father_name,grandfather_name,family_name,mother_name,sex,"
          "birth_date,birth_place\n",
          data);
    if (truth) {
        fputs("record_id,entity_id,family_id,twin\n", truth);
    }
    for (size_t i = 0; i < n; i++) {
        fprintf(data, "G%llu-%07zu,%s\n", (unsigned long long)seed, i, recs[i].line);
        if (truth) {
            fprintf(truth, "G%llu-%07zu,E%u,F%u,%d\n", (unsigned long long)seed, i,
                    recs[i].entity, recs[i].fam, recs[i].twin ? 1 : 0);
        }
        free(recs[i].line);
    }
    free(recs);
    if (ferror(data) || (truth && ferror(truth))) {
        rc = -1;
    }
    return rc;
}
