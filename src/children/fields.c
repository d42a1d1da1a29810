/*
 * fields.c: the one table of a child's fields, and their validation.
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "children/children.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "core/banned.h"

#define NAME 60
#define PLACE 100

/* Needs seen at registration. */
#define NEEDS " food shelter school_fees medical_care device internet electricity "

static const struct child_field fields[] = {
    {"first_name", FIELD_NAME, NAME, true, false, false, NULL, "overview"},
    {"father_name", FIELD_NAME, NAME, true, false, false, NULL, "overview"},
    {"grandfather_name", FIELD_NAME, NAME, false, false, false, NULL, "overview"},
    {"family_name", FIELD_NAME, NAME, false, false, false, NULL, "overview"},
    {"mother_name", FIELD_NAME, 2 * NAME, false, false, false, NULL, "family"},
    {"first_name_latin", FIELD_NAME, NAME, false, true, false, NULL, "overview"},
    {"father_name_latin", FIELD_NAME, NAME, false, true, false, NULL, "overview"},
    {"grandfather_name_latin", FIELD_NAME, NAME, false, true, false, NULL, "overview"},
    {"family_name_latin", FIELD_NAME, NAME, false, true, false, NULL, "overview"},
    {"sex", FIELD_ENUM, 1, true, false, false, " M F ", "overview"},
    {"birth_date", FIELD_DATE, 10, true, false, false, NULL, "overview"},
    {"birth_date_estimated", FIELD_BOOL, 5, false, false, false, NULL, "overview"},
    {"birth_place", FIELD_TEXT, PLACE, false, false, false, NULL, "overview"},
    {"nationality", FIELD_TEXT, NAME, false, false, false, NULL, "overview"},
    {"id_doc_type", FIELD_ENUM, 30, false, false, false,
     " birth_certificate national_id passport refugee_card family_book other ", "overview"},
    {"id_doc_number", FIELD_TEXT, 40, false, false, false, NULL, "overview"},
    {"id_doc_issuer", FIELD_TEXT, PLACE, false, false, false, NULL, "overview"},
    {"orphan_status", FIELD_ENUM, 30, true, false, false,
     " father_deceased mother_deceased both_deceased abandoned other_vulnerable ", "family"},
    {"father_death_date", FIELD_DATE, 10, false, false, false, NULL, "family"},
    {"mother_death_date", FIELD_DATE, 10, false, false, false, NULL, "family"},
    {"death_document", FIELD_TEXT, 200, false, false, false, NULL, "family"},
    {"living_situation", FIELD_ENUM, 30, false, false, false,
     " with_mother with_relatives foster_family institution street other ", "family"},
    {"governorate", FIELD_TEXT, PLACE, false, false, false, NULL, "overview"},
    {"district", FIELD_TEXT, PLACE, false, false, false, NULL, "overview"},
    {"locality", FIELD_TEXT, PLACE, false, false, false, NULL, "overview"},
    {"camp", FIELD_TEXT, PLACE, false, false, false, NULL, "overview"},
    {"shelter", FIELD_TEXT, PLACE, false, false, false, NULL, "overview"},
    {"latitude", FIELD_COORD, 12, false, false, false, NULL, "overview"},
    {"longitude", FIELD_COORD, 12, false, false, false, NULL, "overview"},
    {"school_name", FIELD_TEXT, 120, false, false, false, NULL, "education"},
    {"school_grade", FIELD_TEXT, 20, false, false, false, NULL, "education"},
    {"school_attendance", FIELD_ENUM, 20, false, false, false,
     " regular irregular not_enrolled dropped_out ", "education"},
    {"school_results", FIELD_NOTE, 500, false, false, false, NULL, "education"},
    {"health_conditions", FIELD_NOTE, 1000, false, false, true, NULL, "health"},
    {"disability", FIELD_NOTE, 500, false, false, true, NULL, "health"},
    {"medication", FIELD_NOTE, 500, false, false, true, NULL, "health"},
    {"needs", FIELD_LIST, 200, false, false, false, NEEDS, "overview"},
    {"languages", FIELD_TEXT, 100, false, false, false, NULL, "overview"},
    {"household_id", FIELD_ID, 36, false, false, false, NULL, "family"},
};

const struct child_field *children_fields(int *n_out)
{
    *n_out = (int)(sizeof(fields) / sizeof(fields[0]));
    return fields;
}

const struct child_field *children_field(const char *name)
{
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (strcmp(fields[i].name, name) == 0) {
            return &fields[i];
        }
    }
    return NULL;
}

/* Appends one problem to errors. */
static void problem(json_t *errors, const char *field, const char *code, const char *message)
{
    json_array_append_new(errors, json_pack("{s:s, s:s, s:s}", "field", field, "code", code,
                                            "message", message));
}

/* True when word (no spaces) is one of the space-separated values. */
static bool in_values(const char *values, const char *word, size_t n)
{
    if (n == 0) {
        return false;
    }
    for (const char *p = strstr(values, " "); p; p = strstr(p + 1, " ")) {
        if (strncmp(p + 1, word, n) == 0 && p[1 + n] == ' ') {
            return true;
        }
    }
    return false;
}

/* Checks a name: letters (and their marks), spaces, apostrophe, hyphen, dot;
 * Arabic script only in Arabic fields and Latin only in *_latin fields.
 * Returns NULL when fine, else the problem's code. */
static const char *check_name(const char *s, bool latin)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(s);
    bool any_letter = false;
    while (left > 0) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(p, left, &c);
        if (k <= 0) {
            return "invalid_utf8";
        }
        p += k;
        left -= k;
        utf8proc_category_t cat = utf8proc_category(c);
        bool letter = cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
        bool mark = cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME;
        if (letter) {
            any_letter = true;
            bool arabic = text_is_arabic((uint32_t)c);
            if (latin ? arabic : !arabic) {
                return "mixed_scripts";
            }
        } else if (!(mark || c == ' ' || c == '\'' || c == '-' || c == '.' || c == 0x0640 ||
                     c == 0x2019)) {
            return "invalid_name";
        }
    }
    return any_letter ? NULL : "invalid_name";
}

/* Checks a decimal coordinate within bound (90 or 180). */
static bool coord_ok(const char *s, int bound)
{
    char *end;
    const char *p = s;
    if (*p == '-') {
        p++;
    }
    size_t digits = strspn(p, "0123456789");
    if (digits == 0 || digits > 3) {
        return false;
    }
    if (p[digits] == '.') {
        size_t frac = strspn(p + digits + 1, "0123456789");
        if (frac == 0 || frac > 7 || p[digits + 1 + frac]) {
            return false;
        }
    } else if (p[digits]) {
        return false;
    }
    long whole = strtol(p, &end, 10);
    return whole < bound || (whole == bound && !strchr(p, '.'));
}

/* The text of a JSON value for field f as a new NFC string, or NULL when it
 * has the wrong type (*bad set). Booleans become "1"/"0". */
static char *value_text(const struct child_field *f, json_t *v, bool *bad)
{
    *bad = false;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (strlen(s) != n || !utf8_valid(s, n)) {
            *bad = true;
            return NULL;
        }
        return (char *)utf8proc_NFC((const utf8proc_uint8_t *)s);
    }
    if (f->type == FIELD_BOOL && json_is_boolean(v)) {
        return strdup(json_is_true(v) ? "1" : "0");
    }
    if (f->type == FIELD_COORD && json_is_number(v)) {
        *bad = true; /* numbers lose digits as doubles: coordinates travel as strings */
        return NULL;
    }
    *bad = true;
    return NULL;
}

int children_validate(json_t *input, bool creating, int age_limit, json_t *errors)
{
    size_t before = json_array_size(errors);
    if (!json_is_object(input)) {
        problem(errors, "", "not_an_object", "the record must be an object");
        return 1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(input, key, v)
    {
        if (!children_field(key)) {
            problem(errors, key, "unknown_field", "unknown field");
        }
    }
    int y, m, d;
    time_today(&y, &m, &d);
    int64_t today = time_days_from_civil(y, m, d);
    int64_t birth_days = INT64_MIN;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const struct child_field *f = &fields[i];
        v = json_object_get(input, f->name);
        if (!v || json_is_null(v)) {
            if (f->required && (creating || v)) {
                problem(errors, f->name, "required", "required");
            }
            continue;
        }
        bool bad;
        char *s = value_text(f, v, &bad);
        if (bad || !s) {
            problem(errors, f->name, "invalid_type", "must be text");
            free(s);
            continue;
        }
        /* Blank means "not given": stored as NULL, refused when required. */
        if (text_blank(s)) {
            if (f->required) {
                problem(errors, f->name, "required", "required");
            }
            json_object_set_new(input, f->name, json_null());
            free(s);
            continue;
        }
        size_t len = strlen(s);
        if (utf8_length(s, len) > f->max_chars) {
            problem(errors, f->name, "too_long", "too long");
            free(s);
            continue;
        }
        if (f->type != FIELD_NOTE && (strchr(s, '\n') || strchr(s, '\r') || strchr(s, '\t'))) {
            problem(errors, f->name, "invalid_text", "must be on one line");
            free(s);
            continue;
        }
        const char *code = NULL;
        int yy, mm, dd;
        switch (f->type) {
        case FIELD_NAME:
            code = check_name(s, f->latin);
            break;
        case FIELD_DATE:
            if (time_date_parse(s, &yy, &mm, &dd) < 0) {
                code = "invalid_date";
            } else if (time_days_from_civil(yy, mm, dd) > today) {
                code = "future_date";
            } else if (strcmp(f->name, "birth_date") == 0) {
                birth_days = time_days_from_civil(yy, mm, dd);
                int age = y - yy - ((m < mm || (m == mm && d < dd)) ? 1 : 0);
                if (creating && age >= age_limit) {
                    code = "over_age_limit";
                }
            }
            break;
        case FIELD_BOOL:
            if (!strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, "on")) {
                json_object_set_new(input, f->name, json_string("1"));
            } else if (!strcmp(s, "0") || !strcmp(s, "false")) {
                json_object_set_new(input, f->name, json_string("0"));
            } else {
                code = "invalid_bool";
            }
            free(s);
            s = NULL;
            break;
        case FIELD_ENUM:
            if (strchr(s, ' ') || !in_values(f->values, s, len)) {
                code = "invalid_choice";
            }
            break;
        case FIELD_LIST:
            for (const char *p = s; *p;) {
                size_t n = strcspn(p, ",");
                while (n && p[n - 1] == ' ') {
                    n--;
                }
                while (*p == ' ' && n) {
                    p++;
                    n--;
                }
                if (!in_values(f->values, p, n)) {
                    code = "invalid_choice";
                    break;
                }
                p += strcspn(p, ",");
                if (*p == ',') {
                    p++;
                }
            }
            break;
        case FIELD_COORD:
            if (!coord_ok(s, strcmp(f->name, "latitude") == 0 ? 90 : 180)) {
                code = "invalid_coordinate";
            }
            break;
        case FIELD_ID:
            if (!uuid_valid(s)) {
                code = "invalid_id";
            }
            break;
        case FIELD_TEXT:
        case FIELD_NOTE:
            break;
        }
        if (code) {
            problem(errors, f->name, code, code);
        } else if (s) {
            json_object_set_new(input, f->name, json_string(s)); /* the NFC form is stored */
        }
        free(s);
    }
    /* A parent's death may come before the birth (by up to ten months), never long before. */
    static const char *const deaths[] = {"father_death_date", "mother_death_date"};
    for (int i = 0; i < 2 && birth_days != INT64_MIN; i++) {
        const char *s = json_string_value(json_object_get(input, deaths[i]));
        int yy, mm, dd;
        if (s && time_date_parse(s, &yy, &mm, &dd) == 0 &&
            time_days_from_civil(yy, mm, dd) < birth_days - 300) {
            problem(errors, deaths[i], "death_before_birth", "death_before_birth");
        }
    }
    return (int)(json_array_size(errors) - before);
}
