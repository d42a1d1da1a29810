/*
 * ledger_reports.c: reading the books (finance.read): the journal, one
 * entry, the trial balance, the balance sheet and the income statement (see
 * ledger.h for their shapes). Each runs inside the caller's transaction
 * (read-only is enough) and returns a new JSON value or NULL with e.
 */
#include <stdio.h>
#include <string.h>

#include "auth/authz.h"
#include "core/money.h"
#include "core/time.h"
#include "db/db_util.h"
#include "finance/ledger_internal.h"
#include "core/banned.h"

/* Sets key (minor units) and key_text (decimal) on obj. */
static void put_money(json_t *obj, const char *key, int64_t minor, const char *currency)
{
    struct money m = {.minor = minor};
    snprintf(m.currency, sizeof(m.currency), "%s", currency);
    char text[40], k[48];
    money_format(&m, text, sizeof(text));
    snprintf(k, sizeof(k), "%s_text", key);
    json_object_set_new(obj, key, json_integer(minor));
    json_object_set_new(obj, k, json_string(text));
}

/* Refuses an actor without finance.read. */
static int can_read(const struct actor *a, struct err *e)
{
    return actor_can(a, PERM_FINANCE_READ)
               ? 0
               : err_set(e, ERR_FORBIDDEN, "forbidden", NULL, "not allowed to see the books");
}

/* Checks an optional date filter (NULL or "" passes as NULL). */
static int opt_date(const char **d, const char *field, struct err *e)
{
    if (*d && !**d) {
        *d = NULL;
    }
    int y, m, dd;
    if (*d && time_date_parse(*d, &y, &m, &dd) < 0) {
        return err_set(e, ERR_INVALID, "invalid_date", field, "'%s' must be a date (YYYY-MM-DD)",
                       field);
    }
    return 0;
}

/* Checks an optional fund filter. */
static int opt_fund(const char **f, struct err *e)
{
    if (*f && !**f) {
        *f = NULL;
    }
    return *f && !ledger_fund_known(*f)
               ? err_set(e, ERR_INVALID, "unknown_fund", "fund", "no fund '%.24s'", *f)
               : 0;
}

/* Adds the lines of entry id to the array lines. Returns 0 or -1. */
static int entry_lines(struct db *db, const char *id, const char *base, json_t *lines,
                       struct err *e)
{
    struct db_stmt *s =
        db_query(db, e,
                 "SELECT line_no, account, fund, currency, amount, base_amount, donor_id,"
                 " child_id, sponsorship_id, memo FROM journal_lines WHERE entry_id = $1"
                 " ORDER BY line_no",
                 "t", id);
    if (!s) {
        return -1;
    }
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        const char *account = db_col_text(s, 1), *cur = db_col_text(s, 3);
        int64_t amount = db_col_int64(s, 4);
        const char *kind = ledger_account_kind(account);
        json_t *l = json_pack("{s:I, s:s, s:s?, s:s, s:s}", "line_no",
                              (json_int_t)db_col_int64(s, 0), "account", account, "kind", kind,
                              "fund", db_col_text(s, 2), "currency", cur);
        put_money(l, "amount", amount, cur);
        put_money(l, "debit", amount > 0 ? amount : 0, cur);
        put_money(l, "credit", amount < 0 ? -amount : 0, cur);
        put_money(l, "base_amount", db_col_int64(s, 5), base);
        static const char *const dims[] = {"donor_id", "child_id", "sponsorship_id", "memo"};
        for (int k = 0; k < 4; k++) {
            json_object_set_new(l, dims[k],
                                db_col_null(s, 6 + k) ? json_null()
                                                      : json_string(db_col_text(s, 6 + k)));
        }
        json_array_append_new(lines, l);
    }
    db_done(s);
    return rc < 0 ? -1 : 0;
}

/* The columns every entry query selects, in this order. */
#define ENTRY_COLS                                                                              \
    "e.id, e.entry_no, e.entry_date, e.memo, e.source_kind, e.source_id, e.reverses_id,"       \
    " r.reversed_by, e.base_currency, e.rate, e.created_by, e.created_at"

/* A new object with an entry's head from a row of ENTRY_COLS (no lines). */
static json_t *entry_json(struct db_stmt *s)
{
    json_t *o = json_object();
    static const char *const keys[] = {"id",          "entry_no",    "date",
                                       "memo",        "source_kind", "source_id",
                                       "reverses_id", "reversed_by", "base_currency",
                                       "rate",        "created_by",  "created_at"};
    for (int k = 0; k < 12; k++) {
        json_object_set_new(o, keys[k],
                            db_col_null(s, k) ? json_null()
                            : k == 1          ? json_integer(db_col_int64(s, 1))
                                              : json_string(db_col_text(s, k)));
    }
    return o;
}

json_t *ledger_entries(struct db *db, const struct actor *a, const char *account,
                       const char *fund, const char *from, const char *to, int page,
                       int per_page, struct err *e)
{
    if (can_read(a, e) < 0 || opt_date(&from, "from", e) < 0 || opt_date(&to, "to", e) < 0 ||
        opt_fund(&fund, e) < 0) {
        return NULL;
    }
    if (account && !*account) {
        account = NULL;
    }
    if (account && !ledger_account_kind(account)) {
        err_set(e, ERR_INVALID, "unknown_account", "account", "no account '%.16s'", account);
        return NULL;
    }
    if (page < 1) {
        page = 1;
    }
    if (per_page < 1 || per_page > 200) {
        per_page = 50;
    }
#define ENTRY_WHERE                                                                             \
    " WHERE e.org_id = $1 AND (CAST($2 AS TEXT) IS NULL OR e.entry_date >= $2)"                \
    " AND (CAST($3 AS TEXT) IS NULL OR e.entry_date <= $3)"                                     \
    " AND (CAST($4 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM journal_lines l"                   \
    " WHERE l.entry_id = e.id AND l.account = $4))"                                             \
    " AND (CAST($5 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM journal_lines l"                   \
    " WHERE l.entry_id = e.id AND l.fund = $5))"
    int found;
    struct db_stmt *s = db_row(db, e, &found, "SELECT COUNT(*) FROM journal_entries e" ENTRY_WHERE,
                               "ttttt", a->org_id, from, to, account, fund);
    if (!s) {
        return NULL;
    }
    int64_t total = db_col_int64(s, 0);
    db_done(s);
    s = db_query(db, e,
                 "SELECT " ENTRY_COLS " FROM journal_entries e"
                 " LEFT JOIN journal_reversals r ON r.entry_id = e.id" ENTRY_WHERE
                 " ORDER BY e.entry_no DESC LIMIT $6 OFFSET $7",
                 "tttttii", a->org_id, from, to, account, fund, (int64_t)per_page,
                 (int64_t)(page - 1) * per_page);
#undef ENTRY_WHERE
    if (!s) {
        return NULL;
    }
    json_t *items = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_array_append_new(items, entry_json(s));
    }
    db_done(s);
    if (rc < 0) {
        json_decref(items);
        return NULL;
    }
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        json_t *lines = json_array();
        json_object_set_new(it, "lines", lines);
        if (entry_lines(db, json_string_value(json_object_get(it, "id")),
                        json_string_value(json_object_get(it, "base_currency")), lines, e) < 0) {
            json_decref(items);
            return NULL;
        }
    }
    return json_pack("{s:o, s:I, s:i, s:i}", "items", items, "total", (json_int_t)total, "page",
                     page, "per_page", per_page);
}

json_t *ledger_entry_get(struct db *db, const struct actor *a, const char *id, struct err *e)
{
    if (can_read(a, e) < 0) {
        return NULL;
    }
    int found;
    struct db_stmt *s = db_row(db, e, &found,
                               "SELECT " ENTRY_COLS " FROM journal_entries e"
                               " LEFT JOIN journal_reversals r ON r.entry_id = e.id"
                               " WHERE e.id = $1 AND e.org_id = $2",
                               "tt", id ? id : "", a->org_id);
    if (!s) {
        if (found == 0) {
            err_set(e, ERR_NOT_FOUND, "not_found", "id", "no such entry");
        }
        return NULL;
    }
    json_t *o = entry_json(s);
    db_done(s);
    json_t *lines = json_array();
    json_object_set_new(o, "lines", lines);
    if (entry_lines(db, json_string_value(json_object_get(o, "id")),
                    json_string_value(json_object_get(o, "base_currency")), lines, e) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Adds v to *acc, failing on overflow. */
static int add_checked(int64_t *acc, int64_t v, struct err *e)
{
    return __builtin_add_overflow(*acc, v, acc)
               ? err_set(e, ERR_INVALID, "amount_too_large", NULL, "the totals are too large")
               : 0;
}

json_t *ledger_trial_balance(struct db *db, const struct actor *a, const char *as_of,
                             const char *fund, struct err *e)
{
    char today[11];
    if (!as_of || !*as_of) {
        ledger_today(today);
        as_of = today;
    }
    if (can_read(a, e) < 0 || opt_date(&as_of, "as_of", e) < 0 || opt_fund(&fund, e) < 0) {
        return NULL;
    }
    char base[4];
    if (ledger_base_currency(db, a->org_id, base, e) < 0) {
        return NULL;
    }
    struct db_stmt *s = db_query(
        db, e,
        "SELECT account, fund, currency,"
        " CAST(SUM(CASE WHEN amount > 0 THEN amount ELSE 0 END) AS BIGINT),"
        " CAST(SUM(CASE WHEN amount < 0 THEN -amount ELSE 0 END) AS BIGINT),"
        " CAST(SUM(base_amount) AS BIGINT)"
        " FROM journal_lines WHERE org_id = $1 AND entry_date <= $2"
        " AND (CAST($3 AS TEXT) IS NULL OR fund = $3)"
        " GROUP BY account, fund, currency ORDER BY account, fund, currency",
        "ttt", a->org_id, as_of, fund);
    if (!s) {
        return NULL;
    }
    json_t *rows = json_array(), *totals = json_array();
    int64_t base_total = 0;
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        const char *cur = db_col_text(s, 2);
        int64_t debit = db_col_int64(s, 3), credit = db_col_int64(s, 4);
        json_t *row = json_pack("{s:s, s:s?, s:s, s:s}", "account", db_col_text(s, 0), "kind",
                                ledger_account_kind(db_col_text(s, 0)), "fund",
                                db_col_text(s, 1), "currency", cur);
        put_money(row, "debit", debit, cur);
        put_money(row, "credit", credit, cur);
        put_money(row, "balance", debit - credit, cur);
        put_money(row, "base_balance", db_col_int64(s, 5), base);
        json_array_append_new(rows, row);
        if (add_checked(&base_total, db_col_int64(s, 5), e) < 0) {
            rc = -1;
            break;
        }
        json_t *t = NULL;
        size_t i;
        json_array_foreach(totals, i, t)
        {
            if (strcmp(json_string_value(json_object_get(t, "currency")), cur) == 0) {
                break;
            }
        }
        if (i == json_array_size(totals)) {
            t = json_pack("{s:s, s:I, s:I}", "currency", cur, "debit", (json_int_t)0, "credit",
                          (json_int_t)0);
            json_array_append_new(totals, t);
        }
        int64_t td = json_integer_value(json_object_get(t, "debit"));
        int64_t tc = json_integer_value(json_object_get(t, "credit"));
        if (add_checked(&td, debit, e) < 0 || add_checked(&tc, credit, e) < 0) {
            rc = -1;
            break;
        }
        put_money(t, "debit", td, cur);
        put_money(t, "credit", tc, cur);
        put_money(t, "balance", td - tc, cur);
    }
    db_done(s);
    if (rc < 0) {
        json_decref(rows);
        json_decref(totals);
        return NULL;
    }
    json_t *out = json_pack("{s:s, s:s?, s:s, s:o, s:o}", "as_of", as_of, "fund", fund,
                            "base_currency", base, "rows", rows, "totals", totals);
    put_money(out, "base_balance", base_total, base);
    return out;
}

/* The fund object for fund in funds (an object keyed by fund), made with
 * the empty arrays of sections when missing. */
static json_t *fund_obj(json_t *funds_by, const char *fund, const char *const *sections, int n)
{
    json_t *f = json_object_get(funds_by, fund);
    if (!f) {
        f = json_pack("{s:s}", "fund", fund);
        for (int i = 0; i < n; i++) {
            json_object_set_new(f, sections[i], json_array());
        }
        json_object_set_new(funds_by, fund, f);
    }
    return f;
}

/* The funds of funds_by in the chart's order, as a new array; takes funds_by. */
static json_t *funds_in_order(json_t *funds_by)
{
    json_t *arr = json_array();
    for (int i = 0; i < ledger_n_funds(); i++) {
        json_t *f = json_object_get(funds_by, ledger_fund_code(i));
        if (f) {
            json_array_append(arr, f);
        }
    }
    json_decref(funds_by);
    return arr;
}

/* Adds {account, currency, amount, base_amount} (with texts) to section. */
static void add_item(json_t *section, const char *account, const char *cur, int64_t amount,
                     int64_t base_amount, const char *base)
{
    json_t *it = json_pack("{s:s, s:s}", "account", account, "currency", cur);
    put_money(it, "amount", amount, cur);
    put_money(it, "base_amount", base_amount, base);
    json_array_append_new(section, it);
}

/* Adds v to the integer member key of f (0 when missing), keeping key_text. */
static int add_total(json_t *f, const char *key, int64_t v, const char *base, struct err *e)
{
    int64_t t = json_integer_value(json_object_get(f, key));
    if (add_checked(&t, v, e) < 0) {
        return -1;
    }
    put_money(f, key, t, base);
    return 0;
}

json_t *ledger_balance_sheet(struct db *db, const struct actor *a, const char *as_of,
                             struct err *e)
{
    char today[11];
    if (!as_of || !*as_of) {
        ledger_today(today);
        as_of = today;
    }
    if (can_read(a, e) < 0 || opt_date(&as_of, "as_of", e) < 0) {
        return NULL;
    }
    char base[4];
    if (ledger_base_currency(db, a->org_id, base, e) < 0) {
        return NULL;
    }
    struct db_stmt *s = db_query(db, e,
                                 "SELECT fund, account, currency, CAST(SUM(amount) AS BIGINT),"
                                 " CAST(SUM(base_amount) AS BIGINT) FROM journal_lines"
                                 " WHERE org_id = $1 AND entry_date <= $2"
                                 " GROUP BY fund, account, currency"
                                 " ORDER BY fund, account, currency",
                                 "tt", a->org_id, as_of);
    if (!s) {
        return NULL;
    }
    static const char *const sections[] = {"assets", "liabilities", "net_assets"};
    json_t *funds_by = json_object();
    /* The surplus of income over expenses so far, per fund and currency,
     * goes to net assets: {fund: {currency: [amount, base]}}. */
    json_t *surplus = json_object();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        const char *fund = db_col_text(s, 0), *account = db_col_text(s, 1);
        const char *cur = db_col_text(s, 2), *kind = ledger_account_kind(account);
        int64_t amount = db_col_int64(s, 3), base_amount = db_col_int64(s, 4);
        if (!kind || (amount == 0 && base_amount == 0)) {
            continue;
        }
        json_t *f = fund_obj(funds_by, fund, sections, 3);
        if (strcmp(kind, "asset") == 0) {
            add_item(json_object_get(f, "assets"), account, cur, amount, base_amount, base);
            rc = add_total(f, "total_assets", base_amount, base, e);
        } else if (strcmp(kind, "liability") == 0) {
            add_item(json_object_get(f, "liabilities"), account, cur, -amount, -base_amount,
                     base);
            rc = add_total(f, "total_liabilities", -base_amount, base, e);
        } else if (strcmp(kind, "equity") == 0) {
            add_item(json_object_get(f, "net_assets"), account, cur, -amount, -base_amount, base);
            rc = add_total(f, "total_net_assets", -base_amount, base, e);
        } else {
            json_t *sf = json_object_get(surplus, fund);
            if (!sf) {
                sf = json_object();
                json_object_set_new(surplus, fund, sf);
            }
            json_t *pair = json_object_get(sf, cur);
            if (!pair) {
                pair = json_pack("[I, I]", (json_int_t)0, (json_int_t)0);
                json_object_set_new(sf, cur, pair);
            }
            int64_t sa = json_integer_value(json_array_get(pair, 0));
            int64_t sb = json_integer_value(json_array_get(pair, 1));
            rc = add_checked(&sa, -amount, e) < 0 || add_checked(&sb, -base_amount, e) < 0 ? -1 : 0;
            json_array_set_new(pair, 0, json_integer(sa));
            json_array_set_new(pair, 1, json_integer(sb));
            if (rc == 0) {
                rc = add_total(f, "total_net_assets", -base_amount, base, e);
            }
        }
        if (rc < 0) {
            break;
        }
        rc = 1;
    }
    db_done(s);
    if (rc < 0) {
        json_decref(funds_by);
        json_decref(surplus);
        return NULL;
    }
    const char *fund;
    json_t *sf;
    json_object_foreach(surplus, fund, sf)
    {
        json_t *f = json_object_get(funds_by, fund);
        const char *cur;
        json_t *pair;
        json_object_foreach(sf, cur, pair)
        {
            int64_t sa = json_integer_value(json_array_get(pair, 0));
            int64_t sb = json_integer_value(json_array_get(pair, 1));
            if (sa != 0 || sb != 0) {
                add_item(json_object_get(f, "net_assets"), "surplus", cur, sa, sb, base);
            }
        }
    }
    json_decref(surplus);
    json_t *arr = funds_in_order(funds_by);
    size_t i;
    json_t *f;
    json_array_foreach(arr, i, f)
    {
        static const char *const totals[] = {"total_assets", "total_liabilities",
                                             "total_net_assets"};
        for (int k = 0; k < 3; k++) {
            if (!json_object_get(f, totals[k])) {
                put_money(f, totals[k], 0, base);
            }
        }
    }
    return json_pack("{s:s, s:s, s:o}", "as_of", as_of, "base_currency", base, "funds", arr);
}

json_t *ledger_income_statement(struct db *db, const struct actor *a, const char *from,
                                const char *to, struct err *e)
{
    char today[11], jan1[11];
    ledger_today(today);
    snprintf(jan1, sizeof(jan1), "%.4s-01-01", today);
    if (!from || !*from) {
        from = jan1;
    }
    if (!to || !*to) {
        to = today;
    }
    if (can_read(a, e) < 0 || opt_date(&from, "from", e) < 0 || opt_date(&to, "to", e) < 0) {
        return NULL;
    }
    if (strcmp(from, to) > 0) {
        err_set(e, ERR_INVALID, "invalid_range", "to", "'to' must not be before 'from'");
        return NULL;
    }
    char base[4];
    if (ledger_base_currency(db, a->org_id, base, e) < 0) {
        return NULL;
    }
    struct db_stmt *s = db_query(db, e,
                                 "SELECT fund, account, currency, CAST(SUM(amount) AS BIGINT),"
                                 " CAST(SUM(base_amount) AS BIGINT) FROM journal_lines"
                                 " WHERE org_id = $1 AND entry_date >= $2 AND entry_date <= $3"
                                 " AND (account LIKE '4%' OR account LIKE '5%')"
                                 " GROUP BY fund, account, currency"
                                 " ORDER BY fund, account, currency",
                                 "ttt", a->org_id, from, to);
    if (!s) {
        return NULL;
    }
    static const char *const sections[] = {"income", "expenses"};
    json_t *funds_by = json_object();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        const char *fund = db_col_text(s, 0), *account = db_col_text(s, 1);
        const char *cur = db_col_text(s, 2), *kind = ledger_account_kind(account);
        int64_t amount = db_col_int64(s, 3), base_amount = db_col_int64(s, 4);
        if (!kind || (amount == 0 && base_amount == 0)) {
            continue;
        }
        json_t *f = fund_obj(funds_by, fund, sections, 2);
        if (strcmp(kind, "income") == 0) {
            add_item(json_object_get(f, "income"), account, cur, -amount, -base_amount, base);
            rc = add_total(f, "total_income", -base_amount, base, e) < 0 ||
                         add_total(f, "surplus", -base_amount, base, e) < 0
                     ? -1
                     : 1;
        } else if (strcmp(kind, "expense") == 0) {
            add_item(json_object_get(f, "expenses"), account, cur, amount, base_amount, base);
            rc = add_total(f, "total_expenses", base_amount, base, e) < 0 ||
                         add_total(f, "surplus", -base_amount, base, e) < 0
                     ? -1
                     : 1;
        }
        if (rc < 0) {
            break;
        }
    }
    db_done(s);
    if (rc < 0) {
        json_decref(funds_by);
        return NULL;
    }
    json_t *arr = funds_in_order(funds_by);
    size_t i;
    json_t *f;
    json_array_foreach(arr, i, f)
    {
        static const char *const totals[] = {"total_income", "total_expenses", "surplus"};
        for (int k = 0; k < 3; k++) {
            if (!json_object_get(f, totals[k])) {
                put_money(f, totals[k], 0, base);
            }
        }
    }
    return json_pack("{s:s, s:s, s:s, s:o}", "from", from, "to", to, "base_currency", base,
                     "funds", arr);
}

json_t *ledger_rates(struct db *db, const struct actor *a, struct err *e)
{
    if (can_read(a, e) < 0) {
        return NULL;
    }
    char base[4];
    if (ledger_base_currency(db, a->org_id, base, e) < 0) {
        return NULL;
    }
    struct db_stmt *s = db_query(db, e,
                                 "SELECT currency, day, rate, rate_e9, created_by, created_at"
                                 " FROM fx_rates WHERE org_id = $1"
                                 " ORDER BY day DESC, currency LIMIT 500",
                                 "t", a->org_id);
    if (!s) {
        return NULL;
    }
    json_t *items = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_array_append_new(
            items, json_pack("{s:s, s:s, s:s, s:I, s:s?, s:s}", "currency", db_col_text(s, 0),
                             "day", db_col_text(s, 1), "rate", db_col_text(s, 2), "rate_e9",
                             (json_int_t)db_col_int64(s, 3), "created_by", db_col_text(s, 4),
                             "created_at", db_col_text(s, 5)));
    }
    db_done(s);
    if (rc < 0) {
        json_decref(items);
        return NULL;
    }
    return json_pack("{s:s, s:o}", "base_currency", base, "items", items);
}

json_t *ledger_periods(struct db *db, const struct actor *a, struct err *e)
{
    if (can_read(a, e) < 0) {
        return NULL;
    }
    struct db_stmt *s = db_query(db, e,
                                 "SELECT p.period, p.closed_at, p.closed_by, u.display_name"
                                 " FROM fin_periods p LEFT JOIN users u ON u.id = p.closed_by"
                                 " WHERE p.org_id = $1 ORDER BY p.period DESC",
                                 "t", a->org_id);
    if (!s) {
        return NULL;
    }
    json_t *items = json_array();
    int rc;
    while ((rc = db_step(s, e)) == 1) {
        json_array_append_new(
            items, json_pack("{s:s, s:s, s:s?, s:s?}", "period", db_col_text(s, 0), "closed_at",
                             db_col_text(s, 1), "closed_by", db_col_text(s, 2),
                             "closed_by_name", db_col_text(s, 3)));
    }
    db_done(s);
    if (rc < 0) {
        json_decref(items);
        return NULL;
    }
    /* The months that may be closed: the twelve before the current one
     * that are still open, newest first. */
    char today[11];
    ledger_today(today);
    int y = 0, m = 0;
    if (sscanf(today, "%4d-%2d", &y, &m) != 2) {
        y = 2000, m = 1;
    }
    json_t *closable = json_array();
    for (int k = 1; k <= 12; k++) {
        int idx = y * 12 + (m - 1) - k;
        char p[16];
        snprintf(p, sizeof(p), "%04d-%02d", idx / 12, idx % 12 + 1);
        bool closed = false;
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            if (strcmp(json_string_value(json_object_get(it, "period")), p) == 0) {
                closed = true;
            }
        }
        if (!closed) {
            json_array_append_new(closable, json_string(p));
        }
    }
    return json_pack("{s:o, s:o}", "items", items, "closable", closable);
}
