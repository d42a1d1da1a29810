/*
 * bank.h: bank statement import and matching. An officer uploads the CSV
 * export of the organization's bank account; each credit line (incoming
 * money) is matched to a payer by reference, amount and name and stored in
 * bank_lines with its proposal; the officer confirms a line (recording the
 * payment through billing's payment_record_tx) or ignores it.
 *
 * The CSV: UTF-8 (a BOM allowed), comma or semicolon, RFC 4180 quoting (the
 * registry import's reader, src/children/import.h). Columns are recognised
 * by their header in Arabic or English (bank_column_of); dates are
 * YYYY-MM-DD or DD/MM/YYYY; amounts are decimals with exactly the currency's
 * decimals at most (money_parse), Arabic-Indic digits and thousands
 * separators accepted (1,234.50 / 1.234,50 / 1 234,50 / ١٬٢٣٤٫٥٠). A file
 * with any malformed line is refused whole, listing every bad row and
 * column; nothing is stored.
 *
 * Matching, per credit line (reason codes in brackets, rendered through the
 * catalog keys bk.reason.<code>):
 *   reference: a donor number D-000123 [ref_donor], an agreement number
 *     S-2026-00012 (its payer) [ref_agreement], or a reference that an
 *     earlier payment or confirmed bank line of the donor carried
 *     [ref_known]: strong evidence; two references naming different
 *     donors [ref_conflict];
 *   amount: equal to one open due of the payer [amount_due], to the sum of
 *     their oldest open dues [amount_dues] or to the periodic total of their
 *     active agreements [amount_total];
 *   name: the payer name against the donor's name and Latin name, word by
 *     word, with the matching engine's normalizer and name comparison
 *     [name_same, name_similar]; a name that fits another donor better than
 *     the one referenced [name_other].
 * A line is "matched" (certain) when a strong reference agrees with the
 * name or the amount and nothing conflicts; "uncertain" when the evidence
 * is only the name, only the amount, only the reference, or conflicting;
 * "unmatched" otherwise. Up to BANK_MAX_CANDIDATES candidates with their
 * score and reasons are kept per line (bank_line_candidates).
 */
#ifndef SANAD_SPONSORSHIP_BANK_H
#define SANAD_SPONSORSHIP_BANK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "core/err.h"
#include "db/db.h"

/* Largest statement file accepted, in bytes. */
#define BANK_MAX_BYTES (2 * 1024 * 1024)
/* Most data lines in one statement. */
#define BANK_MAX_LINES 5000
/* Longest reference or payer name kept, in bytes. */
#define BANK_MAX_TEXT 500
/* Most candidates kept per line. */
#define BANK_MAX_CANDIDATES 5
/* Most errors listed when a file is refused (the count is always complete). */
#define BANK_MAX_ERRORS 200

/* One line of a parsed statement. */
struct bank_line_in {
    int row;            /* spreadsheet row number (the header is row 1) */
    char booked_on[11]; /* YYYY-MM-DD */
    int64_t amount;     /* minor units; > 0 a credit, < 0 a debit */
    char currency[4];   /* ISO 4217 */
    char *reference;    /* reference or description, "" when none (owned by the statement) */
    char *payer_name;   /* payer's name, "" when none (owned by the statement) */
    char hash[65];      /* line_hash: SHA-256 hex of date, amount, currency, reference,
                         * name and the line's occurrence among identical lines */
};

/* A parsed statement. */
struct bank_statement {
    struct bank_line_in *lines; /* n lines in file order (owned) */
    size_t n;                   /* their number */
    size_t n_credits;           /* lines with amount > 0 */
    size_t n_debits;            /* lines with amount < 0 */
    char **strings;             /* every owned string, freed by bank_statement_release */
    size_t n_strings;           /* their number */
    size_t n_problems;          /* after a refusal for malformed lines: how many problems
                                 * there were (at most BANK_MAX_ERRORS are listed) */
};

/* The column a header names ("date", "amount", "credit", "debit",
 * "currency", "reference", "name"), in Arabic or English, ignoring case,
 * spaces and punctuation; NULL for a column the import ignores. Static. */
const char *bank_column_of(const char *header);

/*
 * Parses an amount written by a bank ("1,234.50", "1.234,50", "-12",
 * "١٬٢٣٤٫٥٠", "(12.00)" for a negative) in currency into *out (minor units).
 * The decimal mark is the last '.' or ',' followed by 1 to 3 digits when the
 * other mark (or a space, U+066C, U+00A0 or an apostrophe) groups the
 * thousands before it; a lone ',' followed by exactly three digits is a
 * thousands separator only when the currency has no 3-decimal minor unit.
 * Returns 0, or -1 with e (code "invalid_amount", "too_many_decimals" or
 * "unknown_currency").
 */
int bank_amount_parse(const char *text, const char *currency, int64_t *out, struct err *e);

/*
 * Parses data[0..len) into *st. default_currency (may be NULL or "") is used
 * when the file has no currency column. Refuses: a file over BANK_MAX_BYTES
 * (ERR_LIMIT "too_large"), more than BANK_MAX_LINES lines (ERR_LIMIT
 * "bank_too_many_lines"), an empty file or one without data lines (ERR_INVALID
 * "empty_file"), a missing column (ERR_INVALID "missing_column", e->field
 * the column), the CSV reader's errors (e->field "row N"), and malformed
 * lines: ERR_INVALID "invalid_rows" with *errors_out (new reference, the
 * caller decrefs) listing up to BANK_MAX_ERRORS problems as {"row",
 * "column", "code", "message"} (codes: invalid_date, invalid_amount,
 * too_many_decimals, unknown_currency, missing_amount, both_amounts,
 * zero_amount, too_long); st->n_problems counts them all. On failure st
 * is otherwise empty.
 */
int bank_parse(const char *data, size_t len, const char *default_currency,
               struct bank_statement *st, json_t **errors_out, struct err *e);
/* Frees what st owns and leaves it empty. */
void bank_statement_release(struct bank_statement *st);

/* How close two people's names are. */
enum bank_name_level {
    BANK_NAME_NONE = 0,    /* different people */
    BANK_NAME_PARTIAL = 1, /* one word in common, or loosely similar */
    BANK_NAME_SIMILAR = 2, /* most words agree, some only fuzzily */
    BANK_NAME_SAME = 3     /* the same name (spelling variants, scripts, order) */
};

/*
 * Compares two full names (Arabic or Latin, any order of words) with the
 * matching engine: each word is normalized by match_normalize (articles,
 * letter forms, compounds such as عبد الله), words are paired one to one by
 * match_compare_names (which also compares across scripts by skeleton), and
 * the share of the shorter name's words that agree decides the level.
 * *score_out (may be NULL) gets 0..100. Never fails.
 */
enum bank_name_level bank_name_compare(const char *a, const char *b, int *score_out);

/*
 * Imports a statement into a's organization: parses it (bank_parse),
 * matches each credit line in a read-only transaction, then, in one write
 * transaction with one "bank.import" audit entry, skips the lines whose
 * line_hash was imported before (listed as duplicates) and stores the
 * import, its new lines (debits with status "skipped") and their
 * candidates. Opens its own transactions. account (may be NULL: "bank") names the bank
 * account; filename may be NULL.
 *
 * *result_out (new reference, caller decrefs; may be set on failure too) is
 * {"id", "lines", "credits", "debits", "duplicates": [{"row", "import_id"}],
 * "matched", "uncertain", "unmatched"} on success, or {"errors": [...],
 * "errors_total"} when lines are malformed.
 *
 * Returns 0 and id_out, or -1 with e: ERR_FORBIDDEN without
 * sponsorship.write or finance.write; bank_parse's errors; ERR_CONFLICT
 * "bank_already_imported" when every line was imported before.
 */
int bank_import(struct db *db, const struct actor *a, const char *filename, const char *account,
                const char *data, size_t len, const char *default_currency, char id_out[40],
                json_t **result_out, struct err *e);

/* The organization's imports, newest first (at most 200), with their counts
 * by status. NULL with e (ERR_FORBIDDEN without sponsorship.read or
 * finance.read). New reference. */
json_t *bank_import_list(struct db *db, const struct actor *a, struct err *e);

/* One import with "lines_detail": its lines in file order, each with its
 * proposal ("donor": id, number and name), status, score, reason codes and
 * candidates. Opens its own write transaction, because the view shows
 * donors' names and is audited ("bank.view"). NULL with e (ERR_FORBIDDEN
 * without sponsorship.read or finance.read; ERR_NOT_FOUND for another
 * organization's import). New reference. */
json_t *bank_import_get(struct db *db, const struct actor *a, const char *id, struct err *e);

/*
 * Confirms bank line line_id as a payment by donor_id (NULL: the proposed
 * donor): records it with payment_record_tx (method bank_transfer,
 * received_on the booked date, external_ref "bank:" + line_hash, so the
 * same line can never be paid twice), sets the line's payment_id, donor_id
 * and status "confirmed", audited "bank.confirm", all in one transaction.
 * payment_id_out (may be NULL) gets the payment's id. Returns 0 or -1 with
 * e: ERR_FORBIDDEN; ERR_NOT_FOUND (line or donor); ERR_CONFLICT
 * "bank_line_decided" for a line confirmed, ignored or skipped before;
 * ERR_INVALID "bank_donor_required" for a line without a proposal and no donor
 * given; the payment's own errors (billing needs finance.write to record a
 * payment: ERR_FORBIDDEN for a sponsorship officer). Nothing is written on
 * failure.
 */
int bank_line_confirm(struct db *db, const struct actor *a, const char *line_id,
                      const char *donor_id, char payment_id_out[40], struct err *e);

/* Marks bank line line_id "ignored" (audited "bank.ignore"). Returns 0 or
 * -1 with e (ERR_FORBIDDEN, ERR_NOT_FOUND, ERR_CONFLICT "bank_line_decided"). */
int bank_line_ignore(struct db *db, const struct actor *a, const char *line_id, struct err *e);

/* Donors of a's organization for the review page's search: q is a donor
 * number (D-000123, exact) or part of a name (Arabic or Latin, case
 * ignored), at most 20, as [{"id", "donor_no", "name", "name_latin"}].
 * Runs in the caller's transaction. NULL with e (ERR_FORBIDDEN without
 * sponsorship.read or finance.read). New reference. */
json_t *bank_donor_search(struct db *db, const struct actor *a, const char *q, struct err *e);

/* Confirms the lines of import_id whose status is "matched" (certain), all
 * of them or, when only (a JSON array of line ids) is not NULL, those it
 * names (other ids are ignored), one transaction each, and counts them into
 * *n_confirmed; a line that fails is left as it was and counted into
 * *n_failed. Returns 0, or -1 with e when the import is not found or a is
 * not allowed. */
int bank_confirm_certain(struct db *db, const struct actor *a, const char *import_id, json_t *only,
                         int *n_confirmed, int *n_failed, struct err *e);

#endif
