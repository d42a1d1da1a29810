/*
 * bank_parse.c: reading a bank statement CSV and comparing people's names;
 * see bank.h. No database here, so that the fuzz harness and the unit tests
 * reach it directly.
 *
 * The CSV reader is the registry import's (import_csv_parse: BOM, comma or
 * semicolon, RFC 4180 quotes, rows numbered as a spreadsheet shows them);
 * this file maps the bank's columns and converts each line, collecting every
 * problem before refusing the file.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "children/import.h"
#include "core/money.h"
#include "core/text.h"
#include "core/time.h"
#include "core/xalloc.h"
#include "match/match.h"
#include "sponsorship/bank.h"
#include "sponsorship/bank_internal.h"
#include "core/banned.h"

/* ---- columns ---- */

/* A column role and the header spellings that name it (compared after
 * header_key: ASCII lower-cased, spaces and punctuation removed, Arabic
 * alef forms unified). */
struct column_alias {
    const char *role;  /* "date", "amount", "credit", "debit", "currency", "reference", "name" */
    const char *names; /* spellings separated by '|' */
};

/* Every spelling the import recognises. */
static const struct column_alias column_aliases[] = {
    {"date", "date|bookingdate|bookeddate|booked|transactiondate|txndate|postingdate|valuedate|"
             "datum|تاريخ|التاريخ|تاريخالعمليه|تاريخالحركه|تاريخالقيد|تاريخالاستحقاق|تاريخالايداع"},
    {"amount", "amount|sum|value|transactionamount|المبلغ|مبلغ|القيمه|قيمه|مبلغالحركه"},
    {"credit", "credit|credits|cr|deposit|deposits|paidin|moneyin|in|creditamount|دائن|الدائن|"
               "ايداع|الايداع|ايداعات|وارد|الوارد|له"},
    {"debit", "debit|debits|dr|withdrawal|withdrawals|paidout|moneyout|out|debitamount|مدين|"
              "المدين|سحب|السحب|مسحوبات|صادر|الصادر|عليه"},
    {"currency", "currency|ccy|cur|currencycode|العمله|عمله|رمزالعمله"},
    {"reference", "reference|ref|description|details|narrative|memo|remittanceinformation|"
                  "remittanceinfo|purpose|transactiondetails|البيان|بيان|المرجع|مرجع|رقمالمرجع|"
                  "الوصف|وصف|التفاصيل|تفاصيل|ملاحظات"},
    {"name", "name|payer|payername|sender|sendername|from|orderingparty|counterparty|remitter|"
             "الاسم|اسم|المحول|اسمالمحول|المرسل|اسمالمرسل|الدافع|اسمالدافع|"
             "الجهه|العميل"},
};

/* Writes the comparison key of a header into out: ASCII letters
 * lower-cased, ASCII spaces and punctuation dropped, Arabic tatweel and
 * marks dropped, alef forms as bare alef and ta marbuta as ha. */
static void header_key(const char *h, char *out, size_t cap)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)h;
    while (*p && w + 3 < cap) {
        unsigned char c = *p;
        if (c < 0x80) {
            if ((c >= 'A' && c <= 'Z')) {
                out[w++] = (char)(c - 'A' + 'a');
            } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
                out[w++] = (char)c;
            }
            p++;
            continue;
        }
        if (c == 0xD8 && (p[1] == 0xA2 || p[1] == 0xA3 || p[1] == 0xA5)) { /* آ أ إ */
            out[w++] = (char)0xD8;
            out[w++] = (char)0xA7;
            p += 2;
            continue;
        }
        if (c == 0xD8 && p[1] == 0xA9) { /* ة → ه */
            out[w++] = (char)0xD9;
            out[w++] = (char)0x87;
            p += 2;
            continue;
        }
        if (c == 0xD9 && (p[1] == 0x80 || (p[1] >= 0x8B && p[1] <= 0x92))) { /* tatweel, marks */
            p += 2;
            continue;
        }
        if (c == 0xC2 && p[1] == 0xA0) { /* no-break space */
            p += 2;
            continue;
        }
        out[w++] = (char)*p++;
    }
    out[w] = '\0';
}

const char *bank_column_of(const char *header)
{
    char key[256];
    header_key(header, key, sizeof(key));
    if (!key[0]) {
        return NULL;
    }
    size_t n = strlen(key);
    for (size_t i = 0; i < sizeof(column_aliases) / sizeof(column_aliases[0]); i++) {
        const char *s = column_aliases[i].names;
        while (*s) {
            const char *bar = strchr(s, '|');
            size_t len = bar ? (size_t)(bar - s) : strlen(s);
            if (len == n && memcmp(s, key, n) == 0) {
                return column_aliases[i].role;
            }
            s += len + (bar ? 1 : 0);
        }
    }
    return NULL;
}

/* ---- amounts ---- */

/* True for the bytes of a thousands separator at s (a space, an apostrophe,
 * U+00A0, U+202F or U+066C); *n gets its length. */
static bool group_sep_at(const unsigned char *s, size_t *n)
{
    if (s[0] == ' ' || s[0] == '\'') {
        *n = 1;
        return true;
    }
    if ((s[0] == 0xC2 && s[1] == 0xA0) || (s[0] == 0xD9 && s[1] == 0xAC)) {
        *n = 2;
        return true;
    }
    if (s[0] == 0xE2 && s[1] == 0x80 && s[2] == 0xAF) {
        *n = 3;
        return true;
    }
    return false;
}

/* Checks that digits grouped by sep in s[0..n) have 1 to 3 digits first and
 * exactly 3 after each sep; copies the digits to out. Returns 0 or -1. */
static int ungroup(const char *s, size_t n, char sep, char *out, size_t *w)
{
    size_t group = 0;
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == sep) {
            if (group == 0 || group > 3 || (!first && group != 3)) {
                return -1;
            }
            first = false;
            group = 0;
            continue;
        }
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        out[(*w)++] = s[i];
        group++;
    }
    if (group == 0 || (!first && group != 3)) {
        return -1;
    }
    return 0;
}

int bank_amount_parse(const char *text, const char *currency, int64_t *out, struct err *e)
{
    int exp = money_exponent(currency);
    if (exp < 0) {
        return err_set(e, ERR_INVALID, "unknown_currency", "currency", "unknown currency '%.8s'",
                       currency);
    }
    char tmp[96];
    if (strlen(text) >= sizeof(tmp) - 1) {
        return err_set(e, ERR_INVALID, "invalid_amount", "amount", "amount is not a number");
    }
    snprintf(tmp, sizeof(tmp), "%s", text);
    import_ascii_digits(tmp);
    /* thousands separators that are never decimal marks go first */
    char s[96];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text_trim(tmp); *p;) {
        size_t k;
        if (group_sep_at(p, &k)) {
            s[n++] = '_';
            p += k;
        } else {
            s[n++] = (char)*p++;
        }
    }
    s[n] = '\0';
    /* trim the markers of a removed trailing or leading space */
    char *b = s;
    while (*b == '_') {
        b++;
    }
    while (n > 0 && s[n - 1] == '_') {
        s[--n] = '\0';
    }
    bool neg = false;
    size_t len = strlen(b);
    if (len >= 2 && b[0] == '(' && b[len - 1] == ')') {
        neg = true;
        b[len - 1] = '\0';
        b++;
    }
    if (*b == '-' || *b == '+') {
        neg = neg || *b == '-';
        b++;
    } else if ((len = strlen(b)) > 0 && b[len - 1] == '-') {
        neg = true;
        b[len - 1] = '\0';
    }
    len = strlen(b);
    if (len == 0 || len > 40) {
        return err_set(e, ERR_INVALID, "invalid_amount", "amount", "amount is not a number");
    }
    /* the decimal mark: the last '.' or ','; see bank.h for the one ambiguous case */
    const char *dot = strrchr(b, '.'), *comma = strrchr(b, ',');
    const char *mark = dot > comma ? dot : comma;
    char group = '\0';
    if (dot && comma) {
        group = mark == dot ? ',' : '.';
        if (strchr(mark + 1, group)) {
            return err_set(e, ERR_INVALID, "invalid_amount", "amount", "amount is not a number");
        }
    } else if (mark) {
        char m = *mark;
        if (strchr(b, m) != mark) { /* twice or more: a thousands separator */
            group = m;
            mark = NULL;
        } else if (m == ',' && strlen(mark + 1) == 3 && exp != 3 &&
                   strspn(mark + 1, "0123456789") == 3) {
            group = ',';
            mark = NULL;
        }
    }
    if (strchr(b, '_')) {
        if (group && group != '_') {
            return err_set(e, ERR_INVALID, "invalid_amount", "amount", "amount is not a number");
        }
        group = '_';
    }
    char plain[96];
    size_t w = 0;
    size_t int_len = mark ? (size_t)(mark - b) : strlen(b);
    if (int_len == 0 || ungroup(b, int_len, group, plain, &w) < 0) {
        return err_set(e, ERR_INVALID, "invalid_amount", "amount", "amount is not a number");
    }
    if (mark) {
        plain[w++] = '.';
        const char *f = mark + 1;
        if (!*f || strspn(f, "0123456789") != strlen(f)) {
            return err_set(e, ERR_INVALID, "invalid_amount", "amount", "amount is not a number");
        }
        size_t fl = strlen(f);
        if (w + fl >= sizeof(plain)) {
            return err_set(e, ERR_INVALID, "invalid_amount", "amount", "amount is not a number");
        }
        memcpy(plain + w, f, fl);
        w += fl;
    }
    plain[w] = '\0';
    struct money m;
    if (money_parse(plain, currency, &m, e) < 0) {
        return -1;
    }
    *out = neg ? -m.minor : m.minor;
    return 0;
}

/* ---- the statement ---- */

/* The column index of each role, -1 when absent; reference may join several. */
struct bank_columns {
    int date, amount, credit, debit, currency, name; /* column or -1 */
    int reference[3];                                /* up to three, -1 unused */
};

/* Keeps s as an owned string of st and returns it. */
static char *st_keep(struct bank_statement *st, const char *s)
{
    st->strings = xrealloc(st->strings, xmul(st->n_strings + 1, sizeof(char *)));
    char *copy = xstrdup(s);
    st->strings[st->n_strings++] = copy;
    return copy;
}

void bank_statement_release(struct bank_statement *st)
{
    for (size_t i = 0; i < st->n_strings; i++) {
        free(st->strings[i]);
    }
    free(st->strings);
    free(st->lines);
    memset(st, 0, sizeof(*st));
}

/* Adds one problem to errors (at most BANK_MAX_ERRORS listed) and counts it. */
static void add_problem(json_t *errors, size_t *n_errors, size_t row, const char *column,
                        const char *code, const char *msg)
{
    (*n_errors)++;
    if (json_array_size(errors) < BANK_MAX_ERRORS) {
        json_array_append_new(errors, json_pack("{s:I, s:s, s:s, s:s}", "row", (json_int_t)row,
                                                "column", column, "code", code, "message", msg));
    }
}

/* Collapses runs of white space (and control characters) in s into one
 * space and trims it, in place. */
static void squeeze(char *s)
{
    char *w = s;
    bool space = true;
    for (char *r = s; *r; r++) {
        unsigned char c = (unsigned char)*r;
        if (c <= ' ' || c == 0x7F) {
            if (!space) {
                *w++ = ' ';
                space = true;
            }
        } else {
            *w++ = (char)c;
            space = false;
        }
    }
    if (w > s && w[-1] == ' ') {
        w--;
    }
    *w = '\0';
}

/* Maps the header's columns to roles; the first column of a role wins,
 * later ones are ignored (up to three reference columns are joined). */
static void map_columns(const struct import_csv *csv, struct bank_columns *c)
{
    c->date = c->amount = c->credit = c->debit = c->currency = c->name = -1;
    c->reference[0] = c->reference[1] = c->reference[2] = -1;
    for (size_t i = 0; i < csv->n_cols; i++) {
        const char *role = bank_column_of(csv->header[i]);
        int *slot = NULL;
        if (!role) {
            continue;
        }
        if (!strcmp(role, "reference")) {
            for (int k = 0; k < 3; k++) {
                if (c->reference[k] < 0) {
                    c->reference[k] = (int)i;
                    break;
                }
            }
            continue;
        }
        slot = !strcmp(role, "date")       ? &c->date
               : !strcmp(role, "amount")   ? &c->amount
               : !strcmp(role, "credit")   ? &c->credit
               : !strcmp(role, "debit")    ? &c->debit
               : !strcmp(role, "currency") ? &c->currency
                                           : &c->name;
        if (*slot < 0) {
            *slot = (int)i;
        }
    }
}

/* Parses one money cell of a line; "" and zero give *v = 0. Returns 0, or
 * -1 after adding the problem. */
static int money_cell(const char *s, const char *currency, int64_t *v, size_t row,
                      const char *column, json_t *errors, size_t *n_errors)
{
    *v = 0;
    if (!*s) {
        return 0;
    }
    struct err e;
    err_clear(&e);
    if (bank_amount_parse(s, currency, v, &e) < 0) {
        add_problem(errors, n_errors, row, column, e.code, e.msg);
        return -1;
    }
    return 0;
}

/* Reads a text cell (reference or name) into tmp: white space squeezed,
 * length checked. Returns 0, or -1 after adding the problem. */
static int text_cell(const char *s, char *out, size_t cap, size_t row, const char *column,
                     json_t *errors, size_t *n_errors)
{
    if (strlen(s) > BANK_MAX_TEXT) {
        add_problem(errors, n_errors, row, column, "too_long", "the text is too long");
        return -1;
    }
    snprintf(out, cap, "%s", s);
    squeeze(out);
    return 0;
}

/* The line's base hash (without its occurrence): SHA-256 over the fields
 * that make a line the same line, NUL-separated. */
static void base_hash(const struct bank_line_in *l, unsigned char out[32])
{
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    char amount[32];
    snprintf(amount, sizeof(amount), "%lld", (long long)l->amount);
    const char *parts[] = {"bank-line-v1", l->booked_on, amount,
                           l->currency,    l->reference, l->payer_name};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        crypto_hash_sha256_update(&h, (const unsigned char *)parts[i], strlen(parts[i]) + 1);
    }
    crypto_hash_sha256_final(&h, out);
}

/* Fills each line's hash: the k-th (k > 1) of identical lines in one file
 * hashes its base hash with k, so that two equal transfers on one day stay
 * two lines while importing the same file again finds them all. */
static void hash_lines(struct bank_statement *st)
{
    unsigned char(*base)[32] = xmalloc(xmul(st->n + 1, 32));
    for (size_t i = 0; i < st->n; i++) {
        base_hash(&st->lines[i], base[i]);
        unsigned occurrence = 1;
        for (size_t j = 0; j < i; j++) {
            if (memcmp(base[j], base[i], 32) == 0) {
                occurrence++;
            }
        }
        unsigned char h[32];
        memcpy(h, base[i], 32);
        if (occurrence > 1) {
            char k[16];
            snprintf(k, sizeof(k), "#%u", occurrence);
            crypto_hash_sha256_state s;
            crypto_hash_sha256_init(&s);
            crypto_hash_sha256_update(&s, base[i], 32);
            crypto_hash_sha256_update(&s, (const unsigned char *)k, strlen(k));
            crypto_hash_sha256_final(&s, h);
        }
        text_hex(h, 32, st->lines[i].hash);
    }
    free(base);
}

int bank_parse(const char *data, size_t len, const char *default_currency,
               struct bank_statement *st, json_t **errors_out, struct err *e)
{
    memset(st, 0, sizeof(*st));
    *errors_out = NULL;
    if (len > BANK_MAX_BYTES) {
        return err_set(e, ERR_LIMIT, "too_large", "file",
                       "the file is too large (%zu bytes, the limit is %d)", len, BANK_MAX_BYTES);
    }
    char defcur[4] = "";
    if (default_currency && *default_currency) {
        if (strlen(default_currency) != 3 || money_exponent(default_currency) < 0) {
            return err_set(e, ERR_INVALID, "bank_currency", "currency", "unknown currency '%.8s'",
                           default_currency);
        }
        memcpy(defcur, default_currency, 4);
    }
    struct import_csv csv;
    if (import_csv_parse(&csv, data, len, BANK_MAX_BYTES, e) < 0) {
        if (!e->field[0]) {
            snprintf(e->field, sizeof(e->field), "file"); /* the messages name it */
        }
        return -1;
    }
    if (csv.n_rows == 0) {
        import_csv_release(&csv);
        return err_set(e, ERR_INVALID, "empty_file", "file",
                       "the statement has no lines under its header");
    }
    if (csv.n_rows > BANK_MAX_LINES) {
        size_t n = csv.n_rows;
        import_csv_release(&csv);
        return err_set(e, ERR_LIMIT, "bank_too_many_lines", "file",
                       "the statement has %zu lines, the limit is %d", n, BANK_MAX_LINES);
    }
    struct bank_columns col;
    map_columns(&csv, &col);
    const char *missing = col.date < 0                         ? "date"
                          : (col.amount < 0 && col.credit < 0) ? "amount"
                          : (col.currency < 0 && !defcur[0])   ? "currency"
                                                               : NULL;
    if (missing) {
        import_csv_release(&csv);
        return err_set(e, ERR_INVALID, "missing_column", missing,
                       "the statement has no '%s' column", missing);
    }
    json_t *errors = json_array();
    size_t n_errors = 0;
    st->lines = xcalloc(csv.n_rows, sizeof(st->lines[0]));
    char ref[3 * BANK_MAX_TEXT + 8], one[BANK_MAX_TEXT + 1], name[BANK_MAX_TEXT + 1];
    for (size_t r = 0; r < csv.n_rows; r++) {
        size_t row = csv.line[r];
        size_t before = n_errors;
        struct bank_line_in *l = &st->lines[st->n];
        l->row = (int)row;
        /* date */
        const char *date = import_csv_cell(&csv, r, (size_t)col.date, NULL);
        int y, m, d;
        if (import_date(date, l->booked_on) < 0 || time_date_parse(l->booked_on, &y, &m, &d) < 0 ||
            !time_date_valid(y, m, d)) {
            add_problem(errors, &n_errors, row, csv.header[col.date], "invalid_date",
                        "the date must be YYYY-MM-DD or DD/MM/YYYY");
        }
        /* currency */
        const char *cur =
            col.currency >= 0 ? import_csv_cell(&csv, r, (size_t)col.currency, NULL) : "";
        char cbuf[16];
        snprintf(cbuf, sizeof(cbuf), "%s", cur);
        char *cu = text_trim(cbuf);
        for (char *p = cu; *p; p++) {
            if (*p >= 'a' && *p <= 'z') {
                *p = (char)(*p - 'a' + 'A');
            }
        }
        if (!*cu) {
            cu = defcur;
        }
        if (!*cu || strlen(cu) != 3 || money_exponent(cu) < 0) {
            add_problem(errors, &n_errors, row,
                        col.currency >= 0 ? csv.header[col.currency] : "currency",
                        "unknown_currency", "unknown currency");
            cu = NULL;
        } else {
            memcpy(l->currency, cu, 4);
        }
        /* amount */
        if (cu) {
            int64_t amount = 0, credit = 0, debit = 0;
            int bad = 0;
            if (col.amount >= 0) {
                char tmp[128];
                snprintf(tmp, sizeof(tmp), "%s",
                         import_csv_cell(&csv, r, (size_t)col.amount, NULL));
                bad |= money_cell(text_trim(tmp), cu, &amount, row, csv.header[col.amount], errors,
                                  &n_errors);
            }
            const char *amount_col =
                col.amount >= 0 ? csv.header[col.amount] : csv.header[col.credit];
            if (col.amount < 0) {
                char tmp[128];
                snprintf(tmp, sizeof(tmp), "%s",
                         import_csv_cell(&csv, r, (size_t)col.credit, NULL));
                bad |= money_cell(text_trim(tmp), cu, &credit, row, csv.header[col.credit], errors,
                                  &n_errors);
                if (col.debit >= 0) {
                    snprintf(tmp, sizeof(tmp), "%s",
                             import_csv_cell(&csv, r, (size_t)col.debit, NULL));
                    bad |= money_cell(text_trim(tmp), cu, &debit, row, csv.header[col.debit],
                                      errors, &n_errors);
                }
                if (!bad && credit != 0 && debit != 0) {
                    add_problem(errors, &n_errors, row, amount_col, "both_amounts",
                                "a line is either a credit or a debit, not both");
                    bad = -1;
                }
                amount = credit != 0 ? credit : (debit < 0 ? debit : -debit);
            }
            if (!bad && amount == 0) {
                add_problem(errors, &n_errors, row, amount_col,
                            col.amount >= 0 ? "zero_amount" : "missing_amount",
                            "the line has no amount");
            }
            l->amount = amount;
        }
        /* reference and name */
        ref[0] = '\0';
        for (int k = 0; k < 3 && col.reference[k] >= 0; k++) {
            const char *s = import_csv_cell(&csv, r, (size_t)col.reference[k], NULL);
            if (text_cell(s, one, sizeof(one), row, csv.header[col.reference[k]], errors,
                          &n_errors) == 0 &&
                one[0]) {
                size_t at = strlen(ref);
                snprintf(ref + at, sizeof(ref) - at, "%s%s", at ? " / " : "", one);
            }
        }
        name[0] = '\0';
        if (col.name >= 0) {
            text_cell(import_csv_cell(&csv, r, (size_t)col.name, NULL), name, sizeof(name), row,
                      csv.header[col.name], errors, &n_errors);
        }
        if (n_errors == before) {
            l->reference = st_keep(st, ref);
            l->payer_name = st_keep(st, name);
            if (l->amount > 0) {
                st->n_credits++;
            } else {
                st->n_debits++;
            }
            st->n++;
        }
    }
    import_csv_release(&csv);
    if (n_errors > 0) {
        bank_statement_release(st);
        st->n_problems = n_errors;
        *errors_out = errors;
        return err_set(e, ERR_INVALID, "invalid_rows", "file",
                       "%zu problem%s in the statement: nothing was imported", n_errors,
                       n_errors == 1 ? "" : "s");
    }
    json_decref(errors);
    hash_lines(st);
    return 0;
}

/* ---- names ---- */

/* Most words of a name compared. */
#define NAME_MAX_UNITS 12

/* One word (or compound) of a name, normalized. */
struct name_unit {
    char norm[MATCH_NAME_MAX + 1]; /* internal form */
    size_t n_norm;                 /* its bytes */
    char skel[MATCH_NAME_MAX + 1]; /* cross-script skeleton */
    size_t n_skel;                 /* its bytes */
    int script;                    /* enum match_script */
};

/* A name split into units. */
struct name_units {
    struct name_unit u[NAME_MAX_UNITS]; /* units */
    int n;                              /* their number */
};

/* The normalized forms of the words that glue to a neighbour or separate
 * names, computed once. */
static struct {
    struct match_norm prefix[16]; /* عبد, ابو, abd, abdul, abu ... (glue to the next word) */
    int n_prefix;                 /* their number */
    struct match_norm article[4]; /* ال, al, el (glue to the next word) */
    int n_article;                /* their number */
    struct match_norm suffix[12]; /* الدين, الله, din, allah ... (glue to the previous word) */
    int n_suffix;                 /* their number */
    struct match_norm sep[8];     /* بن, ابن, بنت, bin, ibn, ben, bint (dropped) */
    int n_sep;                    /* their number */
} glue;
static pthread_once_t glue_once = PTHREAD_ONCE_INIT;

/* Fills list with the normalized forms of the NULL-terminated words. */
static int glue_fill(struct match_norm *list, const char *const *words)
{
    int n = 0;
    for (; words[n]; n++) {
        match_normalize(words[n], strlen(words[n]), MATCH_KIND_GIVEN, false, &list[n]);
    }
    return n;
}

/* Computes the glue words (pthread_once). */
static void glue_init(void)
{
    static const char *const prefix[] = {"عبد",   "ابو",  "أبو", "abd",  "abdel", "abdul", "abdal",
                                         "abdol", "abdu", "abu", "abou", "abo",   NULL};
    static const char *const article[] = {"ال", "al", "el", NULL};
    static const char *const suffix[] = {"الدين", "الله",  "din",   "deen",  "eddine", "eddin",
                                         "uddin", "allah", "ullah", "illah", NULL};
    static const char *const sep[] = {"بن", "ابن", "بنت", "bin", "ibn", "bint", "ben", NULL};
    glue.n_prefix = glue_fill(glue.prefix, prefix);
    glue.n_article = glue_fill(glue.article, article);
    glue.n_suffix = glue_fill(glue.suffix, suffix);
    glue.n_sep = glue_fill(glue.sep, sep);
}

/* True when the normalized word w is one of list[0..n). */
static bool norm_in(const struct match_norm *w, const struct match_norm *list, int n)
{
    for (int i = 0; i < n; i++) {
        if (w->n_norm == list[i].n_norm && memcmp(w->norm, list[i].norm, w->n_norm) == 0) {
            return true;
        }
    }
    return false;
}

/* Length of the separator at s[i] (ASCII space or punctuation, U+00A0,
 * U+060C Arabic comma, U+066B/U+066C), 0 for a word character. */
static size_t word_sep_len(const unsigned char *s)
{
    if (s[0] < 0x80) {
        return (s[0] >= '0' && s[0] <= '9') || (s[0] >= 'a' && s[0] <= 'z') ||
                       (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '\''
                   ? 0
                   : 1;
    }
    if ((s[0] == 0xC2 && s[1] == 0xA0) || (s[0] == 0xD8 && s[1] == 0x8C) ||
        (s[0] == 0xD9 && (s[1] == 0xAB || s[1] == 0xAC))) {
        return 2;
    }
    return 0;
}

/* Splits name into normalized units: separators (bin, ibn) dropped, a
 * prefix (عبد, Abu) or a lone article joined to the next word, a suffix
 * (الدين, Allah) to the previous one, each unit normalized as a family name
 * so that the article is optional. */
static void name_split(const char *name, struct name_units *out)
{
    pthread_once(&glue_once, glue_init);
    out->n = 0;
    /* the words as spans of name */
    const char *ws[NAME_MAX_UNITS * 2];
    size_t wl[NAME_MAX_UNITS * 2];
    struct match_norm wn[NAME_MAX_UNITS * 2];
    int nw = 0;
    const unsigned char *p = (const unsigned char *)name;
    size_t total = strlen(name);
    if (total > MATCH_FIELD_MAX) {
        total = MATCH_FIELD_MAX;
    }
    size_t i = 0;
    while (i < total && nw < NAME_MAX_UNITS * 2) {
        size_t k = word_sep_len(p + i);
        if (k) {
            i += k;
            continue;
        }
        size_t start = i;
        while (i < total && word_sep_len(p + i) == 0) {
            i++;
        }
        match_normalize(name + start, i - start, MATCH_KIND_GIVEN, false, &wn[nw]);
        if (wn[nw].n_norm == 0) {
            continue; /* digits or symbols only */
        }
        ws[nw] = name + start;
        wl[nw] = i - start;
        nw++;
    }
    for (int w = 0; w < nw && out->n < NAME_MAX_UNITS; w++) {
        if (nw > 1 && norm_in(&wn[w], glue.sep, glue.n_sep)) {
            continue;
        }
        int last = w;
        if ((norm_in(&wn[w], glue.prefix, glue.n_prefix) ||
             norm_in(&wn[w], glue.article, glue.n_article)) &&
            w + 1 < nw) {
            last = w + 1;
            if (norm_in(&wn[last], glue.article, glue.n_article) && last + 1 < nw) {
                last++;
            }
        }
        while (last + 1 < nw && norm_in(&wn[last + 1], glue.suffix, glue.n_suffix)) {
            last++;
        }
        if (last + 2 < nw && norm_in(&wn[last + 1], glue.article, glue.n_article) &&
            norm_in(&wn[last + 2], glue.suffix, glue.n_suffix)) {
            last += 2;
        }
        const char *from = ws[w];
        size_t len = (size_t)(ws[last] + wl[last] - from);
        struct match_norm mn;
        match_normalize(from, len, MATCH_KIND_FAMILY, false, &mn);
        if (mn.n_norm > 0) {
            struct name_unit *u = &out->u[out->n++];
            memcpy(u->norm, mn.norm, mn.n_norm + 1);
            u->n_norm = mn.n_norm;
            memcpy(u->skel, mn.skel, mn.n_skel + 1);
            u->n_skel = mn.n_skel;
            u->script = (int)mn.script;
        }
        w = last;
    }
}

/* What a pair of words at a level adds to the agreement (of 1). */
static double level_weight(int level)
{
    switch (level) {
    case MATCH_NAME_EXACT:
        return 1.0;
    case MATCH_NAME_CLOSE:
        return 0.9;
    case MATCH_NAME_FUZZY:
        return 0.6;
    default:
        return 0.0;
    }
}

/* The engine's level for two words, made stricter where a bank name is
 * compared with a donor's: in Arabic script one letter apart is another
 * name more often than a typo (محمد, أحمد, محمود), so only equal words are
 * strong there and one edit in a long word is fuzzy; in Latin script a
 * one-edit pair of short words with different skeletons (Omar, Amar) is
 * fuzzy. Across scripts the skeletons decide, as in the engine. */
static int unit_level(const struct name_unit *x, const struct name_unit *y)
{
    int lv = match_compare_names(x->norm, x->n_norm, x->skel, x->n_skel, x->script, y->norm,
                                 y->n_norm, y->skel, y->n_skel, y->script);
    size_t minlen = x->n_norm < y->n_norm ? x->n_norm : y->n_norm;
    bool skel_eq = x->n_skel == y->n_skel && memcmp(x->skel, y->skel, x->n_skel) == 0;
    if (x->script == MATCH_SCRIPT_ARABIC && y->script == MATCH_SCRIPT_ARABIC &&
        lv < MATCH_NAME_EXACT) {
        int d = match_damerau(x->norm, x->n_norm, y->norm, y->n_norm, 2);
        return d <= 1 && minlen >= 5 ? MATCH_NAME_FUZZY : MATCH_NAME_DIFF;
    }
    if (x->script == MATCH_SCRIPT_LATIN && y->script == MATCH_SCRIPT_LATIN &&
        lv == MATCH_NAME_CLOSE && minlen < 5 && !skel_eq) {
        return MATCH_NAME_FUZZY;
    }
    return lv;
}

/* Compares two split names; see bank_name_compare. */
static enum bank_name_level units_compare(const struct name_units *a, const struct name_units *b,
                                          int *score_out)
{
    if (score_out) {
        *score_out = 0;
    }
    if (a->n == 0 || b->n == 0) {
        return BANK_NAME_NONE;
    }
    const struct name_units *s = a->n <= b->n ? a : b; /* the shorter */
    const struct name_units *l = s == a ? b : a;
    int level[NAME_MAX_UNITS][NAME_MAX_UNITS];
    for (int i = 0; i < s->n; i++) {
        for (int j = 0; j < l->n; j++) {
            level[i][j] = unit_level(&s->u[i], &l->u[j]);
        }
    }
    /* pair words one to one, best levels first */
    bool used_s[NAME_MAX_UNITS] = {false}, used_l[NAME_MAX_UNITS] = {false};
    int strong = 0, any = 0;
    double sum = 0;
    for (int round = 0; round < s->n; round++) {
        int bi = -1, bj = -1, best = MATCH_NAME_DIFF;
        for (int i = 0; i < s->n; i++) {
            for (int j = 0; j < l->n && !used_s[i]; j++) {
                if (!used_l[j] && level[i][j] > best) {
                    best = level[i][j];
                    bi = i;
                    bj = j;
                }
            }
        }
        if (bi < 0) {
            break;
        }
        used_s[bi] = used_l[bj] = true;
        sum += level_weight(best);
        any++;
        strong += best >= MATCH_NAME_CLOSE;
    }
    double share = sum / s->n * (0.8 + 0.2 * (double)s->n / l->n);
    if (score_out) {
        *score_out = (int)(share * 100 + 0.5);
    }
    if (s->n == 1) {
        /* one word: the same only when both names are that one word */
        if (strong == 1) {
            return l->n == 1 ? BANK_NAME_SAME : BANK_NAME_PARTIAL;
        }
        return any ? BANK_NAME_PARTIAL : BANK_NAME_NONE;
    }
    if (strong == s->n) {
        return BANK_NAME_SAME;
    }
    if (any == s->n && strong >= 1) {
        return BANK_NAME_SIMILAR;
    }
    if (s->n >= 3 && strong >= 2 && any >= s->n - 1) {
        return BANK_NAME_SIMILAR;
    }
    return any ? BANK_NAME_PARTIAL : BANK_NAME_NONE;
}

enum bank_name_level bank_name_compare(const char *a, const char *b, int *score_out)
{
    struct name_units *ua = xmalloc(sizeof(*ua)), *ub = xmalloc(sizeof(*ub));
    name_split(a ? a : "", ua);
    name_split(b ? b : "", ub);
    enum bank_name_level lv = units_compare(ua, ub, score_out);
    free(ua);
    free(ub);
    return lv;
}

/* ---- prepared names for the matcher (bank.c) ---- */

/* See bank_internal.h. */
void *bank_name_prepare(const char *name)
{
    struct name_units *u = xmalloc(sizeof(*u));
    name_split(name ? name : "", u);
    return u;
}

/* See bank_internal.h. */
int bank_name_keys(const void *prepared, uint64_t *keys, int max)
{
    const struct name_units *u = prepared;
    int n = 0;
    for (int i = 0; i < u->n && n < max; i++) {
        if (u->u[i].n_skel < 2) {
            continue;
        }
        uint64_t h = 1469598103934665603ULL;
        for (size_t k = 0; k < u->u[i].n_skel; k++) {
            h = (h ^ (unsigned char)u->u[i].skel[k]) * 1099511628211ULL;
        }
        keys[n++] = h ? h : 1;
    }
    return n;
}

/* See bank_internal.h. */
int bank_name_units(const void *prepared)
{
    return ((const struct name_units *)prepared)->n;
}

/* See bank_internal.h. */
enum bank_name_level bank_name_compare_prepared(const void *a, const void *b, int *score_out)
{
    return units_compare(a, b, score_out);
}
