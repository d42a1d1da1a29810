/*
 * sessions.c: care sessions and the workers' calendar feeds (see sessions.h).
 */
#include "cases/sessions.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "cases/ics.h"
#include "core/arena.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "db/db_util.h"
#include "keys/keys.h"
#include "web/i18n.h"
#include "core/banned.h"

#define DEFAULT_MEETING_BASE "https://meet.jit.si/"
/* A start this close to now still counts as not in the past (a form takes time). */
#define PAST_GRACE_MS (5 * 60 * 1000)
#define TOPICS_MAX_CHARS 2000
#define NOTES_MAX_CHARS 20000
#define MS_PER_MIN 60000LL
#define MS_PER_DAY 86400000LL

/* True when w is one of the words of list (" a b c "). */
static bool word_in(const char *list, const char *w)
{
    if (!w || !*w || strchr(w, ' ')) {
        return false;
    }
    size_t n = strlen(w);
    for (const char *p = strstr(list, w); p; p = strstr(p + 1, w)) {
        if (p[-1] == ' ' && p[n] == ' ') {
            return true;
        }
    }
    return false;
}

/* Reads exactly n digits at s into *v. Returns false when they are not digits. */
static bool digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        *v = *v * 10 + (s[i] - '0');
    }
    return true;
}

/* Parses "HH:MM" (optionally ":SS" and ".mmm") at *s, moving *s past it. */
static bool parse_hms(const char **s, int64_t *ms)
{
    const char *p = *s;
    int h, mi, sec = 0, frac = 0;
    if (!digits(p, 2, &h) || p[2] != ':' || !digits(p + 3, 2, &mi)) {
        return false;
    }
    p += 5;
    if (*p == ':') {
        if (!digits(p + 1, 2, &sec)) {
            return false;
        }
        p += 3;
        if (*p == '.') {
            p++;
            int nd = 0;
            while (*p >= '0' && *p <= '9') {
                if (nd < 3) {
                    frac = frac * 10 + (*p - '0');
                }
                nd++;
                p++;
            }
            if (nd == 0 || nd > 9) {
                return false;
            }
            for (; nd < 3; nd++) {
                frac *= 10;
            }
        }
    }
    if (h > 23 || mi > 59 || sec > 59) {
        return false;
    }
    *ms = ((int64_t)h * 3600 + mi * 60 + sec) * 1000 + frac;
    *s = p;
    return true;
}

/* Parses "YYYY-MM-DD" at s into days since the epoch. */
static bool parse_day(const char *s, int64_t *days)
{
    char d[11];
    if (strlen(s) < 10) {
        return false;
    }
    memcpy(d, s, 10);
    d[10] = '\0';
    int y, m, dd;
    if (time_date_parse(d, &y, &m, &dd) < 0) {
        return false;
    }
    *days = time_days_from_civil(y, m, dd);
    return true;
}

int sessions_parse_offset(const char *s, int *min_out)
{
    if (!s || !*s || strlen(s) > 8) {
        return -1;
    }
    int sign = 1, h = 0, m = 0;
    const char *p = s;
    if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
        if (digits(p, 2, &h) && p[2] == ':' && digits(p + 3, 2, &m) && p[5] == '\0') {
            /* +HH:MM */
        } else if (digits(p, 2, &h) && p[2] == '\0') {
            /* +HH */
        } else if (digits(p, 1, &h) && p[1] == '\0') {
            /* +H */
        } else {
            return -1;
        }
        if (m > 59) {
            return -1;
        }
        m += h * 60;
    } else {
        /* minutes east of UTC */
        char *end;
        long v = strtol(s, &end, 10);
        if (*end || end == s) {
            return -1;
        }
        m = (int)(v < -10000 || v > 10000 ? 10000 : v);
    }
    m *= sign;
    if (m < -720 || m > 840) {
        return -1;
    }
    *min_out = m;
    return 0;
}

int sessions_parse_time(const char *s, int64_t *ms_out)
{
    int64_t days, tod;
    if (!s || strlen(s) > 40 || !parse_day(s, &days) || (s[10] != 'T' && s[10] != 't')) {
        return -1;
    }
    const char *p = s + 11;
    if (!parse_hms(&p, &tod)) {
        return -1;
    }
    int off = 0;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        off = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && sessions_parse_offset(p, &off) == 0) {
        /* explicit offset */
    } else {
        return -1;
    }
    *ms_out = days * MS_PER_DAY + tod - (int64_t)off * MS_PER_MIN;
    return 0;
}

int sessions_parse_local(const char *date, const char *hm, int offset_min, int64_t *ms_out)
{
    int64_t days, tod;
    if (!date || !hm || strlen(date) != 10 || !parse_day(date, &days)) {
        return -1;
    }
    const char *p = hm;
    if (!parse_hms(&p, &tod) || *p) {
        return -1;
    }
    *ms_out = days * MS_PER_DAY + tod - (int64_t)offset_min * MS_PER_MIN;
    return 0;
}

/* Days since the epoch of the Monday of ISO week 1 of year y. */
static int64_t iso_week1_monday(int y)
{
    int64_t jan4 = time_days_from_civil(y, 1, 4);
    /* 1970-01-01 was a Thursday: weekday 0 = Monday */
    int64_t wd = ((jan4 + 3) % 7 + 7) % 7;
    return jan4 - wd;
}

int sessions_parse_week(const char *s, int64_t *monday_ms)
{
    int y, w;
    if (!s || strlen(s) != 8 || !digits(s, 4, &y) || s[4] != '-' || (s[5] != 'W' && s[5] != 'w') ||
        !digits(s + 6, 2, &w) || y < 1970 || w < 1) {
        return -1;
    }
    int64_t monday = iso_week1_monday(y) + (int64_t)(w - 1) * 7;
    if (monday >= iso_week1_monday(y + 1)) {
        return -1; /* week 53 in a 52-week year */
    }
    *monday_ms = monday * MS_PER_DAY;
    return 0;
}

void sessions_format_week(int64_t day, char *out, size_t n)
{
    int64_t wd = ((day + 3) % 7 + 7) % 7;
    int64_t thursday = day - wd + 3; /* the week belongs to its Thursday's year */
    int y, m, d;
    time_civil_from_days(thursday, &y, &m, &d);
    int64_t week = (thursday - iso_week1_monday(y)) / 7 + 1;
    snprintf(out, n, "%04d-W%02d", y, (int)week);
}

/* Reads string member key of obj: absent or null gives NULL; another type,
 * invalid UTF-8 or more than max_chars characters is an error naming key. */
static int str_member(json_t *obj, const char *key, bool required, size_t max_chars,
                      const char **out, struct err *e)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required) {
            return err_set(e, ERR_INVALID, "required", key, "'%s' is required", key);
        }
        return 0;
    }
    if (!json_is_string(v)) {
        return err_set(e, ERR_INVALID, "invalid_type", key, "'%s' must be text", key);
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n || !utf8_valid(s, n)) {
        return err_set(e, ERR_INVALID, "invalid_utf8", key, "'%s' is not valid UTF-8", key);
    }
    if (utf8_length(s, n) > max_chars) {
        return err_set(e, ERR_INVALID, "too_long", key, "'%s' is longer than %zu characters", key,
                       max_chars);
    }
    if (required && text_blank(s)) {
        return err_set(e, ERR_INVALID, "required", key, "'%s' is required", key);
    }
    *out = s;
    return 0;
}

/* Refuses members of obj not named in allowed (NULL-terminated). */
static int known_members(json_t *obj, const char *const *allowed, struct err *e)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++) {
            ok = strcmp(allowed[i], key) == 0;
        }
        if (!ok) {
            return err_set(e, ERR_INVALID, "unknown_field", key, "'%.40s' is not a known field",
                           key);
        }
    }
    return 0;
}

/* Parses an ISO time member into ms and its stored form (25 bytes). */
static int time_member(json_t *obj, const char *key, bool required, bool *given, int64_t *ms,
                       char out[32], struct err *e)
{
    const char *s;
    if (str_member(obj, key, required, 40, &s, e) < 0) {
        return -1;
    }
    *given = s != NULL;
    if (!s) {
        return 0;
    }
    if (sessions_parse_time(s, ms) < 0) {
        return err_set(e, ERR_INVALID, "invalid_datetime", key,
                       "'%s' must be a date and time such as 2025-01-31T08:30:00Z", key);
    }
    time_format_iso(*ms, out, 32);
    return 0;
}

/* Parses a stored ISO time; 0 when it cannot be read (never for stored rows). */
static int64_t ms_of(const char *iso)
{
    int64_t ms = 0;
    if (iso) {
        sessions_parse_time(iso, &ms);
    }
    return ms;
}

/* Checks a schedule: end after start, at most SESSION_MAX_MINUTES, and (when
 * check_past) a start not in the past. */
static int check_times(int64_t start, int64_t end, bool check_past, struct err *e)
{
    if (check_past && start < time_now_ms() - PAST_GRACE_MS) {
        return err_set(e, ERR_INVALID, "in_past", "starts_at",
                       "an upcoming session cannot start in the past");
    }
    if (end <= start) {
        return err_set(e, ERR_INVALID, "ends_before_start", "ends_at",
                       "the session must end after it starts");
    }
    if (end - start > SESSION_MAX_MINUTES * MS_PER_MIN) {
        return err_set(e, ERR_INVALID, "session_too_long", "ends_at",
                       "a session lasts at most %d hours", SESSION_MAX_MINUTES / 60);
    }
    return 0;
}

int session_overlap_find(struct db *db, const char *org_id, const char *worker_id,
                         const char *starts_at, const char *ends_at, const char *exclude_id,
                         char other_id[40], char other_start[32], char other_end[32],
                         struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT id, starts_at, ends_at FROM sessions_care"
                               " WHERE org_id = $1 AND worker_id = $2 AND status <> 'cancelled'"
                               " AND starts_at < $4 AND ends_at > $3 AND id <> $5"
                               " ORDER BY starts_at LIMIT 1",
                               "ttttt", org_id, worker_id, starts_at, ends_at,
                               exclude_id ? exclude_id : "");
    if (!s) {
        return found < 0 ? -1 : 0;
    }
    snprintf(other_id, 40, "%s", db_col_text(s, 0));
    snprintf(other_start, 32, "%s", db_col_text(s, 1));
    snprintf(other_end, 32, "%s", db_col_text(s, 2));
    db_done(s);
    return 1;
}

/* Refuses a schedule that clashes with another session of the worker. On
 * PostgreSQL the worker's row is locked first, so two schedules for one
 * worker are decided one after the other (SQLite writes one at a time). */
static int check_overlap(struct db *db, const char *org_id, const char *worker_id,
                         const char *starts_at, const char *ends_at, const char *exclude_id,
                         struct err *e)
{
    if (db_backend_of(db) == DB_POSTGRES &&
        db_run(db, e, "SELECT id FROM users WHERE id = $1 FOR UPDATE", "t", worker_id) < 0) {
        return -1;
    }
    char oid[40], os[32], oe[32];
    int rc = session_overlap_find(db, org_id, worker_id, starts_at, ends_at, exclude_id, oid, os,
                                  oe, e);
    if (rc < 0) {
        return -1;
    }
    if (rc > 0) {
        return err_set(e, ERR_CONFLICT, "overlap", "starts_at",
                       "the worker has another session from %s to %s", os, oe);
    }
    return 0;
}

/* Checks that worker_id is an active user of org_id whose role works cases. */
static int check_worker(struct db *db, const char *org_id, const char *worker_id, struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT role, active FROM users WHERE id = $1 AND org_id = $2", "tt",
                               worker_id, org_id);
    if (!s) {
        if (found < 0) {
            return -1;
        }
        return err_set(e, ERR_INVALID, "unknown_worker", "worker_id",
                       "'worker_id' is not a user of this organization");
    }
    bool ok = db_col_int64(s, 1) && authz_allows(db_col_text(s, 0), PERM_CASES_WRITE);
    db_done(s);
    if (!ok) {
        return err_set(e, ERR_INVALID, "invalid_worker", "worker_id",
                       "'worker_id' is not an active case or psychosocial worker");
    }
    return 0;
}

/* Finds an open case of org_id: writes its child id. */
static int check_case(struct db *db, const char *org_id, const char *case_id, char child_id[40],
                      struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT child_id, status FROM cases WHERE id = $1 AND org_id = $2",
                               "tt", case_id, org_id);
    if (!s) {
        if (found < 0) {
            return -1;
        }
        return err_set(e, ERR_INVALID, "unknown_case", "case_id",
                       "'case_id' is not a case of this organization");
    }
    snprintf(child_id, 40, "%s", db_col_text(s, 0));
    bool closed = strcmp(db_col_text(s, 1), "closed") == 0;
    db_done(s);
    if (closed) {
        return err_set(e, ERR_INVALID, "case_closed", "case_id", "the case is closed");
    }
    return 0;
}

/* Checks that child_id is a child of org_id (another organization's child
 * looks the same as none). */
static int check_child(struct db *db, const char *org_id, const char *child_id, struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found, "SELECT id FROM children WHERE id = $1 AND org_id = $2",
                               "tt", child_id, org_id);
    if (!s) {
        if (found < 0) {
            return -1;
        }
        return err_set(e, ERR_INVALID, "unknown_child", "child_ids",
                       "'child_ids' names a child who is not of this organization");
    }
    db_done(s);
    return 0;
}

/* Collects the children of a session: the case's child (may be "") and the
 * child_ids member, without repeats, checked against the organization. The
 * ids are written into ids (SESSION_MAX_CHILDREN) and counted in *n. */
static int collect_children(struct db *db, const char *org_id, const char *case_child,
                            json_t *list, char ids[][40], int *n, struct err *e)
{
    *n = 0;
    if (case_child && *case_child) {
        snprintf(ids[(*n)++], 40, "%s", case_child);
    }
    if (!list || json_is_null(list)) {
        return 0;
    }
    if (!json_is_array(list)) {
        return err_set(e, ERR_INVALID, "invalid_type", "child_ids",
                       "'child_ids' must be a list of child ids");
    }
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *id = json_string_value(v);
        if (!id || !uuid_valid(id)) {
            return err_set(e, ERR_INVALID, "invalid_type", "child_ids",
                           "'child_ids' must be a list of child ids");
        }
        bool dup = false;
        for (int k = 0; k < *n && !dup; k++) {
            dup = strcmp(ids[k], id) == 0;
        }
        if (dup) {
            continue;
        }
        if (*n >= SESSION_MAX_CHILDREN) {
            return err_set(e, ERR_INVALID, "too_many", "child_ids",
                           "a group session has at most %d children", SESSION_MAX_CHILDREN);
        }
        if (check_child(db, org_id, id, e) < 0) {
            return -1;
        }
        snprintf(ids[(*n)++], 40, "%s", id);
    }
    return 0;
}

/* Writes a new random room name ("sanad-" and 32 base32 characters: 160 bits). */
static void new_room(char out[48])
{
    static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
    unsigned char r[20];
    randombytes_buf(r, sizeof(r));
    memcpy(out, "sanad-", 6);
    size_t o = 6;
    /* 20 bytes = 160 bits = 32 groups of 5 bits */
    for (size_t bit = 0; bit < 160; bit += 5) {
        size_t byte = bit / 8, shift = bit % 8;
        unsigned v = (unsigned)r[byte] << 8 | (byte + 1 < sizeof(r) ? r[byte + 1] : 0);
        out[o++] = b32[(v >> (11 - shift)) & 31];
    }
    out[o] = '\0';
    sodium_memzero(r, sizeof(r));
}

/* The organization's meeting service base URL, ending in '/', into out. */
static int meeting_base(struct db *db, const char *org_id, char *out, size_t n, struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT meeting_base_url FROM case_settings WHERE org_id = $1", "t",
                               org_id);
    if (!s && found < 0) {
        return -1;
    }
    const char *v = s ? db_col_text(s, 0) : NULL;
    if (!v || strncmp(v, "https://", 8) != 0) {
        v = DEFAULT_MEETING_BASE;
    }
    size_t len = strlen(v);
    snprintf(out, n, "%s%s", v, len && v[len - 1] == '/' ? "" : "/");
    if (s) {
        db_done(s);
    }
    return 0;
}

/* Seals notes for session id into the arena; NULL on failure. */
static const char *seal_notes(struct db *db, struct arena *ar, const struct actor *a,
                              const char *id, const char *notes, struct err *e)
{
    return keys_seal(db, ar, a->org_id, id, "notes", notes, strlen(notes), e);
}

/* Refuses notes from an actor without psych.notes. */
static int notes_allowed(const struct actor *a, const char *notes, struct err *e)
{
    if (notes && !actor_can(a, PERM_PSYCH_NOTES)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", "notes",
                       "only psychosocial staff and supervisors write session notes");
    }
    return 0;
}

/* Replaces the children of session id. */
static int store_children(struct db *db, const char *id, char ids[][40], int n, struct err *e)
{
    if (db_run(db, e, "DELETE FROM session_children WHERE session_id = $1", "t", id) < 0) {
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (db_run(db, e, "INSERT INTO session_children (session_id, child_id) VALUES ($1, $2)",
                   "tt", id, ids[i]) < 0) {
            return -1;
        }
    }
    return 0;
}

int session_create(struct db *db, const struct actor *a, json_t *input, char id_out[40],
                   struct err *e)
{
    if (!actor_can(a, PERM_CASES_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to schedule sessions");
    }
    if (!json_is_object(input)) {
        return err_set(e, ERR_INVALID, "invalid_type", NULL, "the session must be an object");
    }
    static const char *const allowed[] = {"kind",     "mode",      "case_id", "child_ids",
                                          "worker_id", "starts_at", "ends_at", "topics",
                                          "notes",    NULL};
    const char *kind, *mode, *case_id, *worker_id, *topics, *notes;
    int64_t start = 0, end = 0;
    char starts_at[32], ends_at[32];
    bool given;
    if (known_members(input, allowed, e) < 0 ||
        str_member(input, "kind", true, 20, &kind, e) < 0 ||
        str_member(input, "mode", true, 20, &mode, e) < 0 ||
        str_member(input, "case_id", false, 40, &case_id, e) < 0 ||
        str_member(input, "worker_id", false, 40, &worker_id, e) < 0 ||
        time_member(input, "starts_at", true, &given, &start, starts_at, e) < 0 ||
        time_member(input, "ends_at", true, &given, &end, ends_at, e) < 0 ||
        str_member(input, "topics", false, TOPICS_MAX_CHARS, &topics, e) < 0 ||
        str_member(input, "notes", false, NOTES_MAX_CHARS, &notes, e) < 0) {
        return -1;
    }
    if (!word_in(SESSION_KINDS, kind)) {
        return err_set(e, ERR_INVALID, "invalid_choice", "kind",
                       "'kind' must be individual or group");
    }
    if (!word_in(SESSION_MODES, mode)) {
        return err_set(e, ERR_INVALID, "invalid_choice", "mode",
                       "'mode' must be in_person, phone, video or chat");
    }
    bool group = strcmp(kind, "group") == 0;
    if (!group && !case_id) {
        return err_set(e, ERR_INVALID, "required", "case_id",
                       "'case_id' is required for an individual session");
    }
    if (!group && json_object_get(input, "child_ids")) {
        return err_set(e, ERR_INVALID, "not_for_individual", "child_ids",
                       "an individual session is for the case's child only");
    }
    if (!worker_id || !*worker_id) {
        worker_id = a->user_id;
    }
    if (notes_allowed(a, notes, e) < 0 || check_times(start, end, true, e) < 0) {
        return -1;
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    char case_child[40] = "";
    char ids[SESSION_MAX_CHILDREN][40];
    int n_ids = 0;
    char id[UUID_STR_LEN], now[32], room[48] = "";
    uuid_v7(id);
    time_format_iso(time_now_ms(), now, sizeof(now));
    if (strcmp(mode, "video") == 0) {
        new_room(room);
    }
    struct arena ar;
    arena_init(&ar);
    const char *sealed = NULL;
    int rc = -1;
    if (check_worker(db, a->org_id, worker_id, e) < 0 ||
        (case_id && check_case(db, a->org_id, case_id, case_child, e) < 0) ||
        collect_children(db, a->org_id, case_child, json_object_get(input, "child_ids"), ids,
                         &n_ids, e) < 0) {
        goto out;
    }
    if (group && n_ids < 2) {
        err_set(e, ERR_INVALID, "too_few", "child_ids", "a group session needs at least two children");
        goto out;
    }
    if (check_overlap(db, a->org_id, worker_id, starts_at, ends_at, NULL, e) < 0) {
        goto out;
    }
    if (notes && !(sealed = seal_notes(db, &ar, a, id, notes, e))) {
        goto out;
    }
    if (db_run(db, e,
               "INSERT INTO sessions_care (id, org_id, case_id, worker_id, kind, mode, starts_at,"
               " ends_at, status, room, topics, notes, created_by, created_at, updated_at)"
               " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'scheduled', $9, $10, $11, $12, $13, $13)",
               "ttttttttttttt", id, a->org_id, case_id, worker_id, kind, mode, starts_at, ends_at,
               *room ? room : NULL, topics, sealed, a->user_id[0] ? a->user_id : worker_id,
               now) < 0 ||
        store_children(db, id, ids, n_ids, e) < 0) {
        goto out;
    }
    char detail[160];
    snprintf(detail, sizeof(detail), "%s %s %s%s", kind, mode, starts_at,
             notes ? " with notes" : "");
    if (actor_audit(db, a, "session.create", "session", id, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        goto out;
    }
    snprintf(id_out, 40, "%s", id);
    rc = 0;
out:
    if (rc < 0) {
        db_rollback(db);
    }
    arena_release(&ar);
    return rc;
}

/* A child's display name from its name columns (first, father, family). */
static json_t *child_name(struct db_stmt *s, int col)
{
    struct buf b = BUF_INIT;
    for (int i = 0; i < 3; i++) {
        const char *v = db_col_text(s, col + i);
        if (v && *v) {
            if (b.len) {
                buf_addch(&b, ' ');
            }
            buf_adds(&b, v);
        }
    }
    json_t *j = json_string(b.buf);
    buf_release(&b);
    return j;
}

/* The children of session id as a JSON array; attendance when with_attendance. */
static json_t *load_children(struct db *db, const char *id, bool with_attendance, struct err *e)
{
    struct db_stmt *s = db_query(db, e,
                                 "SELECT sc.child_id, ch.file_no, ch.first_name, ch.father_name,"
                                 " ch.family_name, sc.attended FROM session_children sc"
                                 " JOIN children ch ON ch.id = sc.child_id"
                                 " WHERE sc.session_id = $1 ORDER BY ch.file_no",
                                 "t", id);
    if (!s) {
        return NULL;
    }
    json_t *arr = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_t *c = json_pack("{s:s, s:s, s:o}", "id", db_col_text(s, 0), "file_no",
                              db_col_text(s, 1), "name", child_name(s, 2));
        if (with_attendance) {
            json_object_set_new(c, "attended",
                                db_col_null(s, 5) ? json_null() : json_boolean(db_col_int64(s, 5)));
        }
        json_array_append_new(arr, c);
    }
    db_done(s);
    if (rc < 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

/* The columns every session read selects, in the order row_json reads them. */
#define SESSION_COLS                                                                              \
    "s.id, s.case_id, c.case_no, s.worker_id, u.display_name, s.kind, s.mode, s.starts_at,"     \
    " s.ends_at, s.status, s.missed_reason, s.room, s.duration_min, s.topics, s.created_at,"    \
    " s.updated_at, s.notes"
#define SESSION_FROM                                                                              \
    " FROM sessions_care s LEFT JOIN cases c ON c.id = s.case_id"                               \
    " JOIN users u ON u.id = s.worker_id"

/* Text column col of s as JSON (null for SQL NULL). */
static json_t *col_json(struct db_stmt *s, int col)
{
    return db_col_null(s, col) ? json_null() : json_string(db_col_text(s, col));
}

/* One session row as JSON (without notes and children). */
static json_t *row_json(struct db_stmt *s, const char *base)
{
    json_t *j = json_object();
    static const char *const names[] = {"id", "case_id", "case_no"};
    for (int i = 0; i < 3; i++) {
        json_object_set_new(j, names[i], col_json(s, i));
    }
    json_object_set_new(j, "worker", json_pack("{s:s, s:s}", "id", db_col_text(s, 3), "name",
                                               db_col_text(s, 4)));
    json_object_set_new(j, "worker_id", json_string(db_col_text(s, 3)));
    static const char *const more[] = {"kind",   "mode",          "starts_at",
                                       "ends_at", "status",       "missed_reason"};
    for (int i = 0; i < 6; i++) {
        json_object_set_new(j, more[i], col_json(s, 5 + i));
    }
    if (!db_col_null(s, 11) && base) {
        char url[512];
        snprintf(url, sizeof(url), "%s%s", base, db_col_text(s, 11));
        json_object_set_new(j, "meeting_url", json_string(url));
    }
    json_object_set_new(j, "duration_min",
                        db_col_null(s, 12) ? json_null() : json_integer(db_col_int64(s, 12)));
    json_object_set_new(j, "topics", col_json(s, 13));
    json_object_set_new(j, "created_at", col_json(s, 14));
    json_object_set_new(j, "updated_at", col_json(s, 15));
    int64_t len = (ms_of(db_col_text(s, 8)) - ms_of(db_col_text(s, 7))) / MS_PER_MIN;
    json_object_set_new(j, "scheduled_min", json_integer(len));
    return j;
}

json_t *session_get(struct db *db, const struct actor *a, const char *id, struct err *e)
{
    if (!actor_can(a, PERM_CASES_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to see sessions");
        return NULL;
    }
    bool notes_ok = actor_can(a, PERM_PSYCH_NOTES);
    /* reading notes is audited, in the same transaction */
    if (db_begin(db, !notes_ok, e) < 0) {
        return NULL;
    }
    char base[300];
    json_t *j = NULL;
    char *sealed = NULL;
    int found;
    if (meeting_base(db, a->org_id, base, sizeof(base), e) < 0) {
        goto fail;
    }
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT " SESSION_COLS SESSION_FROM
                               " WHERE s.id = $1 AND s.org_id = $2",
                               "tt", id, a->org_id);
    if (!s) {
        if (found == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", NULL, "no session '%.40s'", id);
        }
        goto fail;
    }
    j = row_json(s, base);
    sealed = db_col_null(s, 16) ? NULL : strdup(db_col_text(s, 16));
    db_done(s);
    json_t *kids = load_children(db, id, true, e);
    if (!kids) {
        goto fail;
    }
    json_object_set_new(j, "children", kids);
    if (strcmp(json_string_value(json_object_get(j, "kind")), "individual") == 0 &&
        json_array_size(kids) > 0) {
        json_object_set(j, "child", json_array_get(kids, 0));
    }
    if (!notes_ok) {
        json_object_set_new(j, "notes_hidden", json_true());
        db_rollback(db);
    } else {
        json_object_set_new(j, "notes_hidden", json_false());
        json_object_set_new(j, "notes", json_null());
        if (sealed) {
            struct arena ar;
            arena_init(&ar);
            const char *plain = keys_open(db, &ar, a->org_id, id, "notes", sealed, NULL, e);
            if (plain) {
                json_object_set_new(j, "notes", json_string(plain));
            }
            arena_release(&ar);
            if (!plain ||
                actor_audit(db, a, "session.notes_view", "session", id, "ok", NULL, e) < 0) {
                goto fail;
            }
        }
        if (db_commit(db, e) < 0) {
            goto fail;
        }
    }
    free(sealed);
    return j;
fail:
    db_rollback(db);
    free(sealed);
    json_decref(j);
    return NULL;
}

json_t *session_list(struct db *db, const struct actor *a, const struct session_filter *f,
                     struct err *e)
{
    if (!actor_can(a, PERM_CASES_READ)) {
        err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to see sessions");
        return NULL;
    }
    char from[32] = "", to[32] = "";
    int64_t ms;
    if (f->from && *f->from) {
        if (sessions_parse_time(f->from, &ms) < 0) {
            err_set(e, ERR_INVALID, "invalid_datetime", "from",
                    "'from' must be a date and time such as 2025-01-31T00:00:00Z");
            return NULL;
        }
        time_format_iso(ms, from, sizeof(from));
    }
    if (f->to && *f->to) {
        if (sessions_parse_time(f->to, &ms) < 0) {
            err_set(e, ERR_INVALID, "invalid_datetime", "to",
                    "'to' must be a date and time such as 2025-02-07T00:00:00Z");
            return NULL;
        }
        time_format_iso(ms, to, sizeof(to));
    }
    int limit = f->limit > 0 && f->limit <= 1000 ? f->limit : 500;
    bool own_tx = !db_in_transaction(db);
    if (own_tx && db_begin(db, true, e) < 0) {
        return NULL;
    }
    char base[300];
    json_t *items = NULL;
    if (meeting_base(db, a->org_id, base, sizeof(base), e) < 0) {
        goto out;
    }
    struct db_stmt *s = db_query(
        db, e,
        "SELECT " SESSION_COLS SESSION_FROM
        " WHERE s.org_id = $1 AND (CAST($2 AS TEXT) IS NULL OR s.ends_at > $2)"
        " AND (CAST($3 AS TEXT) IS NULL OR s.starts_at < $3)"
        " AND (CAST($4 AS TEXT) IS NULL OR s.worker_id = $4)"
        " AND (CAST($5 AS TEXT) IS NULL OR s.case_id = $5)"
        " ORDER BY s.starts_at, s.id LIMIT $6",
        "tttttt", a->org_id, *from ? from : NULL, *to ? to : NULL,
        f->worker_id && *f->worker_id ? f->worker_id : NULL,
        f->case_id && *f->case_id ? f->case_id : NULL, NULL);
    if (!s) {
        goto out;
    }
    db_bind_int64(s, 6, limit);
    items = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_array_append_new(items, row_json(s, base));
    }
    db_done(s);
    if (rc < 0) {
        json_decref(items);
        items = NULL;
        goto out;
    }
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        json_t *kids = load_children(db, json_string_value(json_object_get(it, "id")), false, e);
        if (!kids) {
            json_decref(items);
            items = NULL;
            goto out;
        }
        json_object_set_new(it, "children", kids);
    }
out:
    if (own_tx) {
        db_rollback(db);
    }
    return items ? json_pack("{s:o}", "items", items) : NULL;
}

/* What session_update and session_outcome need of a stored session. */
struct stored {
    char kind[16];       /* individual | group */
    char mode[16];       /* SESSION_MODES */
    char status[16];     /* SESSION_STATUSES */
    char worker_id[40];  /* users.id */
    char case_child[40]; /* the case's child, "" without a case */
    char starts_at[32];  /* ISO UTC */
    char ends_at[32];    /* ISO UTC */
    bool has_room;       /* a meeting room exists */
};

/* Loads session id of a's organization (inside the caller's transaction). */
static int load_stored(struct db *db, const struct actor *a, const char *id, struct stored *st,
                       struct err *e)
{
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT s.kind, s.mode, s.status, s.worker_id, c.child_id,"
                               " s.starts_at, s.ends_at, s.room FROM sessions_care s"
                               " LEFT JOIN cases c ON c.id = s.case_id"
                               " WHERE s.id = $1 AND s.org_id = $2",
                               "tt", id, a->org_id);
    if (!s) {
        return found < 0 ? -1
                         : err_set(e, ERR_NOT_FOUND, "not_found", NULL, "no session '%.40s'", id);
    }
    snprintf(st->kind, sizeof(st->kind), "%s", db_col_text(s, 0));
    snprintf(st->mode, sizeof(st->mode), "%s", db_col_text(s, 1));
    snprintf(st->status, sizeof(st->status), "%s", db_col_text(s, 2));
    snprintf(st->worker_id, sizeof(st->worker_id), "%s", db_col_text(s, 3));
    snprintf(st->case_child, sizeof(st->case_child), "%s",
             db_col_null(s, 4) ? "" : db_col_text(s, 4));
    snprintf(st->starts_at, sizeof(st->starts_at), "%s", db_col_text(s, 5));
    snprintf(st->ends_at, sizeof(st->ends_at), "%s", db_col_text(s, 6));
    st->has_room = !db_col_null(s, 7);
    db_done(s);
    return 0;
}

int session_update(struct db *db, const struct actor *a, const char *id, json_t *input,
                   struct err *e)
{
    if (!actor_can(a, PERM_CASES_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to change sessions");
    }
    if (!json_is_object(input)) {
        return err_set(e, ERR_INVALID, "invalid_type", NULL, "the change must be an object");
    }
    static const char *const allowed[] = {"mode",   "worker_id", "starts_at", "ends_at",
                                          "topics", "notes",     "child_ids", NULL};
    const char *mode, *worker_id, *topics, *notes;
    int64_t start = 0, end = 0;
    char starts_at[32], ends_at[32];
    bool start_given, end_given;
    if (known_members(input, allowed, e) < 0 ||
        str_member(input, "mode", false, 20, &mode, e) < 0 ||
        str_member(input, "worker_id", false, 40, &worker_id, e) < 0 ||
        time_member(input, "starts_at", false, &start_given, &start, starts_at, e) < 0 ||
        time_member(input, "ends_at", false, &end_given, &end, ends_at, e) < 0 ||
        str_member(input, "topics", false, TOPICS_MAX_CHARS, &topics, e) < 0 ||
        str_member(input, "notes", false, NOTES_MAX_CHARS, &notes, e) < 0 ||
        notes_allowed(a, notes, e) < 0) {
        return -1;
    }
    if (mode && !word_in(SESSION_MODES, mode)) {
        return err_set(e, ERR_INVALID, "invalid_choice", "mode",
                       "'mode' must be in_person, phone, video or chat");
    }
    json_t *child_ids = json_object_get(input, "child_ids");
    bool schedule = mode || worker_id || start_given || end_given || child_ids;
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    struct stored st;
    struct arena ar;
    arena_init(&ar);
    int rc = -1;
    struct buf changed = BUF_INIT;
    if (load_stored(db, a, id, &st, e) < 0) {
        goto out;
    }
    if (schedule && strcmp(st.status, "scheduled") != 0) {
        err_set(e, ERR_CONFLICT, "not_scheduled", "status",
                "only a scheduled session can be changed; this one is %s", st.status);
        goto out;
    }
    if (!start_given) {
        snprintf(starts_at, sizeof(starts_at), "%s", st.starts_at);
        start = ms_of(st.starts_at);
    }
    if (!end_given) {
        snprintf(ends_at, sizeof(ends_at), "%s", st.ends_at);
        end = ms_of(st.ends_at);
    }
    const char *worker = worker_id && *worker_id ? worker_id : st.worker_id;
    if ((start_given || end_given) && check_times(start, end, start_given, e) < 0) {
        goto out;
    }
    if (worker_id && check_worker(db, a->org_id, worker, e) < 0) {
        goto out;
    }
    if ((start_given || end_given || worker_id) &&
        check_overlap(db, a->org_id, worker, starts_at, ends_at, id, e) < 0) {
        goto out;
    }
    if (child_ids) {
        if (strcmp(st.kind, "group") != 0) {
            err_set(e, ERR_INVALID, "not_for_individual", "child_ids",
                    "an individual session is for the case's child only");
            goto out;
        }
        char ids[SESSION_MAX_CHILDREN][40];
        int n_ids;
        if (collect_children(db, a->org_id, st.case_child, child_ids, ids, &n_ids, e) < 0) {
            goto out;
        }
        if (n_ids < 2) {
            err_set(e, ERR_INVALID, "too_few", "child_ids",
                    "a group session needs at least two children");
            goto out;
        }
        if (store_children(db, id, ids, n_ids, e) < 0) {
            goto out;
        }
        buf_adds(&changed, " child_ids");
    }
    const char *new_mode = mode ? mode : st.mode;
    char room[48] = "";
    bool video = strcmp(new_mode, "video") == 0;
    if (video && !st.has_room) {
        new_room(room);
    }
    const char *sealed = NULL;
    if (notes && !(sealed = seal_notes(db, &ar, a, id, notes, e))) {
        goto out;
    }
    char now[32];
    time_format_iso(time_now_ms(), now, sizeof(now));
    /* room: a new one when becoming video, none when no longer video */
    if (db_run(db, e,
               "UPDATE sessions_care SET mode = $2, worker_id = $3, starts_at = $4, ends_at = $5,"
               " topics = COALESCE($6, topics), notes = COALESCE($7, notes),"
               " room = CASE WHEN $8 = 'keep' THEN room WHEN $8 = 'none' THEN NULL ELSE $8 END,"
               " updated_at = $9 WHERE id = $1",
               "ttttttttt", id, new_mode, worker, starts_at, ends_at, topics, sealed,
               !video ? "none" : *room ? room : "keep", now) < 0) {
        goto out;
    }
    const char *names[] = {"mode", "worker_id", "starts_at", "ends_at", "topics", "notes"};
    bool given[] = {mode != NULL, worker_id != NULL, start_given, end_given, topics != NULL,
                    notes != NULL};
    for (int i = 0; i < 6; i++) {
        if (given[i]) {
            buf_addf(&changed, " %s", names[i]);
        }
    }
    if (actor_audit(db, a, "session.update", "session", id, "ok",
                    changed.len ? changed.buf + 1 : "nothing", e) < 0 ||
        db_commit(db, e) < 0) {
        goto out;
    }
    rc = 0;
out:
    if (rc < 0) {
        db_rollback(db);
    }
    buf_release(&changed);
    arena_release(&ar);
    return rc;
}

/* Sets the session's status to cancelled (inside the caller's transaction). */
static int cancel_tx(struct db *db, const struct actor *a, const char *id, const struct stored *st,
                     const char *reason, struct err *e)
{
    if (strcmp(st->status, "scheduled") != 0) {
        return err_set(e, ERR_CONFLICT, "not_scheduled", "status",
                       "only a scheduled session can be cancelled; this one is %s", st->status);
    }
    char now[32];
    time_format_iso(time_now_ms(), now, sizeof(now));
    if (db_run(db, e, "UPDATE sessions_care SET status = 'cancelled', updated_at = $2 WHERE id = $1",
               "tt", id, now) < 0) {
        return -1;
    }
    return actor_audit(db, a, "session.cancel", "session", id, "ok", reason, e);
}

int session_cancel(struct db *db, const struct actor *a, const char *id, const char *reason,
                   struct err *e)
{
    if (!actor_can(a, PERM_CASES_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to cancel sessions");
    }
    if (reason && (!utf8_valid(reason, strlen(reason)) ||
                   utf8_length(reason, strlen(reason)) > 500)) {
        return err_set(e, ERR_INVALID, "too_long", "reason",
                       "'reason' must be valid text of at most 500 characters");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    struct stored st;
    if (load_stored(db, a, id, &st, e) < 0 || cancel_tx(db, a, id, &st, reason, e) < 0 ||
        db_commit(db, e) < 0) {
        db_rollback(db);
        return -1;
    }
    return 0;
}

/* Applies the attendance object of a held session: every child of the
 * session named with true or false, at least one true. */
static int apply_attendance(struct db *db, const char *id, json_t *att, struct err *e)
{
    if (!att || json_is_null(att)) {
        return err_set(e, ERR_INVALID, "attendance_required", "attendance",
                       "a held session needs the attendance of each child");
    }
    if (!json_is_object(att)) {
        return err_set(e, ERR_INVALID, "invalid_type", "attendance",
                       "'attendance' must map each child id to true or false");
    }
    struct db_stmt *s = db_query(db, e, "SELECT child_id FROM session_children WHERE session_id = $1",
                                 "t", id);
    if (!s) {
        return -1;
    }
    char ids[SESSION_MAX_CHILDREN][40];
    int n = 0, rc;
    while ((rc = db_step(s, e)) == 1 && n < SESSION_MAX_CHILDREN) {
        snprintf(ids[n++], 40, "%s", db_col_text(s, 0));
    }
    db_done(s);
    if (rc < 0) {
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(att, key, v)
    {
        bool known = false;
        for (int i = 0; i < n && !known; i++) {
            known = strcmp(ids[i], key) == 0;
        }
        if (!known) {
            return err_set(e, ERR_INVALID, "unknown_child", "attendance",
                           "'attendance' names a child who is not in this session");
        }
        if (!json_is_boolean(v)) {
            return err_set(e, ERR_INVALID, "invalid_type", "attendance",
                           "'attendance' must map each child id to true or false");
        }
    }
    int present = 0;
    for (int i = 0; i < n; i++) {
        json_t *one = json_object_get(att, ids[i]);
        if (!one) {
            return err_set(e, ERR_INVALID, "attendance_required", "attendance",
                           "a held session needs the attendance of each child");
        }
        present += json_is_true(one);
    }
    if (present == 0) {
        return err_set(e, ERR_INVALID, "attendance_required", "attendance",
                       "a held session needs at least one child present");
    }
    for (int i = 0; i < n; i++) {
        if (db_run(db, e,
                   "UPDATE session_children SET attended = $3 WHERE session_id = $1 AND child_id = $2",
                   "ttb", id, ids[i], (int)json_is_true(json_object_get(att, ids[i]))) < 0) {
            return -1;
        }
    }
    return 0;
}

int session_outcome(struct db *db, const struct actor *a, const char *id, json_t *input,
                    struct err *e)
{
    if (!actor_can(a, PERM_CASES_WRITE)) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to record sessions");
    }
    if (!json_is_object(input)) {
        return err_set(e, ERR_INVALID, "invalid_type", NULL, "the outcome must be an object");
    }
    static const char *const allowed[] = {"status",        "attendance", "duration_min", "topics",
                                          "missed_reason", "notes",      "reason",       NULL};
    const char *status, *topics, *notes, *reason, *cancel_reason;
    if (known_members(input, allowed, e) < 0 ||
        str_member(input, "status", true, 20, &status, e) < 0 ||
        str_member(input, "topics", false, TOPICS_MAX_CHARS, &topics, e) < 0 ||
        str_member(input, "missed_reason", false, 40, &reason, e) < 0 ||
        str_member(input, "reason", false, 500, &cancel_reason, e) < 0 ||
        str_member(input, "notes", false, NOTES_MAX_CHARS, &notes, e) < 0 ||
        notes_allowed(a, notes, e) < 0) {
        return -1;
    }
    // NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): set, or err_set returned -1
    bool held = strcmp(status, "held") == 0, missed = strcmp(status, "missed") == 0;
    bool cancelled = strcmp(status, "cancelled") == 0;
    if (!held && !missed && !cancelled) {
        return err_set(e, ERR_INVALID, "invalid_choice", "status",
                       "'status' must be held, missed or cancelled");
    }
    if (missed && !reason) {
        return err_set(e, ERR_INVALID, "required", "missed_reason",
                       "'missed_reason' is required for a missed session");
    }
    if (missed && !word_in(SESSION_MISSED_REASONS, reason)) {
        return err_set(e, ERR_INVALID, "invalid_choice", "missed_reason",
                       "'missed_reason' must be one of%s", SESSION_MISSED_REASONS);
    }
    if (!missed && reason) {
        return err_set(e, ERR_INVALID, "only_for_missed", "missed_reason",
                       "'missed_reason' is only for a missed session");
    }
    json_t *dur = json_object_get(input, "duration_min");
    if (dur && !json_is_null(dur)) {
        if (!held) {
            return err_set(e, ERR_INVALID, "only_for_held", "duration_min",
                           "'duration_min' is only for a held session");
        }
        if (!json_is_integer(dur) || json_integer_value(dur) < 1 ||
            json_integer_value(dur) > SESSION_MAX_MINUTES) {
            return err_set(e, ERR_INVALID, "out_of_range", "duration_min",
                           "'duration_min' must be a number of minutes from 1 to %d",
                           SESSION_MAX_MINUTES);
        }
    }
    if (!held && json_object_get(input, "attendance")) {
        return err_set(e, ERR_INVALID, "only_for_held", "attendance",
                       "'attendance' is only for a held session");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    struct stored st;
    struct arena ar;
    arena_init(&ar);
    int rc = -1;
    if (load_stored(db, a, id, &st, e) < 0) {
        goto out;
    }
    if (cancelled) {
        if (notes || topics) {
            err_set(e, ERR_INVALID, "only_for_held", notes ? "notes" : "topics",
                    "a cancelled session takes no notes or topics");
            goto out;
        }
        if (cancel_tx(db, a, id, &st, cancel_reason, e) < 0 || db_commit(db, e) < 0) {
            goto out;
        }
        rc = 0;
        goto out;
    }
    if (strcmp(st.status, "cancelled") == 0) {
        err_set(e, ERR_CONFLICT, "cancelled", "status", "the session was cancelled");
        goto out;
    }
    int64_t start = ms_of(st.starts_at), end = ms_of(st.ends_at);
    if (start > time_now_ms()) {
        err_set(e, ERR_INVALID, "not_started", "status",
                "the outcome of a session is recorded once it has started");
        goto out;
    }
    int64_t minutes = 0;
    if (held) {
        minutes = dur && !json_is_null(dur) ? json_integer_value(dur) : (end - start) / MS_PER_MIN;
        if (apply_attendance(db, id, json_object_get(input, "attendance"), e) < 0) {
            goto out;
        }
    } else if (db_run(db, e, "UPDATE session_children SET attended = NULL WHERE session_id = $1",
                      "t", id) < 0) {
        goto out;
    }
    const char *sealed = NULL;
    if (notes && !(sealed = seal_notes(db, &ar, a, id, notes, e))) {
        goto out;
    }
    char now[32];
    time_format_iso(time_now_ms(), now, sizeof(now));
    struct db_stmt *s = db_prepare(
        db,
        "UPDATE sessions_care SET status = $2, missed_reason = $3, duration_min = $4,"
        " topics = COALESCE($5, topics), notes = COALESCE($6, notes), updated_at = $7"
        " WHERE id = $1",
        e);
    if (!s) {
        goto out;
    }
    db_bind_text(s, 1, id);
    db_bind_text(s, 2, status);
    db_bind_text(s, 3, missed ? reason : NULL);
    if (held) {
        db_bind_int64(s, 4, minutes);
    } else {
        db_bind_null(s, 4);
    }
    db_bind_text(s, 5, topics);
    db_bind_text(s, 6, sealed);
    db_bind_text(s, 7, now);
    int step = db_step(s, e);
    db_done(s);
    if (step < 0) {
        goto out;
    }
    char detail[96];
    snprintf(detail, sizeof(detail), "%s%s%s%s", status, missed ? ": " : "", missed ? reason : "",
             notes ? " with notes" : "");
    if (actor_audit(db, a, "session.outcome", "session", id, "ok", detail, e) < 0 ||
        db_commit(db, e) < 0) {
        goto out;
    }
    rc = 0;
out:
    if (rc < 0) {
        db_rollback(db);
    }
    arena_release(&ar);
    return rc;
}

int calendar_feed_create(struct db *db, const struct actor *a, char token_out[64], struct err *e)
{
    if (!actor_can(a, PERM_CASES_READ) || !a->user_id[0]) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to have a session feed");
    }
    char token[64], hash[65], now[32];
    auth_new_token("cal_", token, sizeof(token));
    auth_token_hash(token, hash);
    time_format_iso(time_now_ms(), now, sizeof(now));
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    if (db_run(db, e, "DELETE FROM calendar_feeds WHERE user_id = $1", "t", a->user_id) < 0 ||
        db_run(db, e,
               "INSERT INTO calendar_feeds (user_id, org_id, token_hash, created_at)"
               " VALUES ($1, $2, $3, $4)",
               "tttt", a->user_id, a->org_id, hash, now) < 0 ||
        actor_audit(db, a, "calendar.feed_create", "user", a->user_id, "ok", NULL, e) < 0 ||
        db_commit(db, e) < 0) {
        db_rollback(db);
        sodium_memzero(token, sizeof(token));
        return -1;
    }
    snprintf(token_out, 64, "%s", token);
    sodium_memzero(token, sizeof(token));
    return 0;
}

int calendar_feed_revoke(struct db *db, const struct actor *a, struct err *e)
{
    if (!a->user_id[0]) {
        return err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "the command line has no feed");
    }
    if (db_begin(db, false, e) < 0) {
        return -1;
    }
    int64_t n = db_run(db, e, "DELETE FROM calendar_feeds WHERE user_id = $1", "t", a->user_id);
    if (n < 0 || (n > 0 && actor_audit(db, a, "calendar.feed_revoke", "user", a->user_id, "ok",
                                       NULL, e) < 0) ||
        db_commit(db, e) < 0) {
        db_rollback(db);
        return -1;
    }
    return 0;
}

int calendar_feed_status(struct db *db, const struct actor *a, char created_at[32], struct err *e)
{
    int found;
    bool own_tx = !db_in_transaction(db);
    if (own_tx && db_begin(db, true, e) < 0) {
        return -1;
    }
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT created_at FROM calendar_feeds WHERE user_id = $1", "t",
                               a->user_id);
    if (s) {
        snprintf(created_at, 32, "%s", db_col_text(s, 0));
        db_done(s);
    }
    if (own_tx) {
        db_rollback(db);
    }
    return s ? 1 : found < 0 ? -1 : 0;
}

/* The catalog text for key in lang, or fallback when the catalogs lack it. */
static const char *label(const char *lang, const char *key, const char *fallback)
{
    return i18n_has(key) ? i18n_get(lang, key) : fallback;
}

int calendar_feed_render(struct db *db, const char *token, struct buf *out, struct err *e)
{
    if (!token || strlen(token) < 8 || strlen(token) > 100) {
        return 0;
    }
    char hash[65];
    auth_token_hash(token, hash);
    if (db_begin(db, true, e) < 0) {
        return -1;
    }
    int found;
    int rc = -1;
    char user_id[40], org_id[40], lang[4];
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT f.user_id, f.org_id, u.lang, u.role, u.active"
                               " FROM calendar_feeds f JOIN users u ON u.id = f.user_id"
                               " WHERE f.token_hash = $1",
                               "t", hash);
    if (!s) {
        db_rollback(db);
        return found < 0 ? -1 : 0;
    }
    snprintf(user_id, sizeof(user_id), "%s", db_col_text(s, 0));
    snprintf(org_id, sizeof(org_id), "%s", db_col_text(s, 1));
    snprintf(lang, sizeof(lang), "%s", i18n_lang_valid(db_col_text(s, 2)) ? db_col_text(s, 2) : "ar");
    /* a deactivated account, or one moved to a role without cases, has no feed */
    bool live = db_col_int64(s, 4) && authz_allows(db_col_text(s, 3), PERM_CASES_READ);
    db_done(s);
    if (!live) {
        db_rollback(db);
        return 0;
    }
    char base[300], from[32], to[32];
    int64_t now = time_now_ms();
    time_format_iso(now - SESSIONS_FEED_DAYS_BACK * MS_PER_DAY, from, sizeof(from));
    time_format_iso(now + SESSIONS_FEED_DAYS_AHEAD * MS_PER_DAY, to, sizeof(to));
    if (meeting_base(db, org_id, base, sizeof(base), e) < 0) {
        goto out;
    }
    /* Only what a phone's calendar may hold: no child names, no notes. */
    s = db_query(db, e,
                 "SELECT s.id, s.mode, s.kind, s.status, s.starts_at, s.ends_at, s.room,"
                 " s.created_at, s.updated_at, c.case_no FROM sessions_care s"
                 " LEFT JOIN cases c ON c.id = s.case_id"
                 " WHERE s.worker_id = $1 AND s.org_id = $2 AND s.ends_at > $3"
                 " AND s.starts_at < $4 ORDER BY s.starts_at LIMIT 5000",
                 "tttt", user_id, org_id, from, to);
    if (!s) {
        goto out;
    }
    ics_begin(out, "-//Sanad//Sessions 1.0//EN", label(lang, "calendar.feed_name", "Sanad sessions"));
    int step;
    while ((step = db_step(s, e)) == 1) {
        char uid[64], key[64], summary[256], url[512] = "", desc[600] = "";
        snprintf(uid, sizeof(uid), "%s@sanad", db_col_text(s, 0));
        snprintf(key, sizeof(key), "session.mode.%s", db_col_text(s, 1));
        const char *mode = label(lang, key, db_col_text(s, 1));
        const char *word = label(lang, "session.ics_summary", "Session");
        if (db_col_null(s, 9)) {
            snprintf(key, sizeof(key), "session.kind.%s", db_col_text(s, 2));
            snprintf(summary, sizeof(summary), "%s · %s · %s", word, mode,
                     label(lang, key, db_col_text(s, 2)));
        } else {
            snprintf(summary, sizeof(summary), "%s · %s · %s", word, mode, db_col_text(s, 9));
        }
        bool video = strcmp(db_col_text(s, 1), "video") == 0 && !db_col_null(s, 6);
        if (video) {
            snprintf(url, sizeof(url), "%s%s", base, db_col_text(s, 6));
            snprintf(desc, sizeof(desc), "%s: %s", label(lang, "session.meeting_link", "Meeting link"),
                     url);
        }
        int64_t created = ms_of(db_col_text(s, 7)), updated = ms_of(db_col_text(s, 8));
        struct ics_event ev = {
            .uid = uid,
            .stamp_ms = updated,
            .start_ms = ms_of(db_col_text(s, 4)),
            .end_ms = ms_of(db_col_text(s, 5)),
            /* each change moves updated_at on, so whole seconds since creation
             * grow with every revision (two changes in one second share one) */
            .sequence = (updated - created) / 1000,
            .summary = summary,
            .description = video ? desc : NULL,
            .location = video ? url : NULL,
            .url = video ? url : NULL,
            .cancelled = strcmp(db_col_text(s, 3), "cancelled") == 0,
        };
        ics_add_event(out, &ev);
    }
    db_done(s);
    if (step < 0) {
        goto out;
    }
    ics_end(out);
    rc = 1;
out:
    db_rollback(db);
    return rc;
}
