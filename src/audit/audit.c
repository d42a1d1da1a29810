#include "audit/audit.h"

#include <inttypes.h>
#include <sodium.h>
#include <string.h>

#include "core/buf.h"
#include "core/text.h"
#include "core/time.h"
#include "core/banned.h"

#define HASH_HEX (crypto_hash_sha256_BYTES * 2 + 1)
/* The hash before an organization's first entry. */
static const char genesis[] = "0000000000000000000000000000000000000000000000000000000000000000";

/* The fields of one entry, as stored. */
struct entry {
    const char *org_id;      /* chain */
    int64_t seq;             /* position in the chain, from 1 */
    const char *fields[11];  /* at, actor_id, actor_name, action, entity, entity_id, outcome,
                                remote, request_id, detail, prev_hash */
};

/* Computes the hex SHA-256 of an entry: each value length-prefixed so that no
 * two different entries serialize alike. */
static void entry_hash(const struct entry *en, char out[HASH_HEX])
{
    struct buf b = BUF_INIT;
    buf_addf(&b, "sanad-audit-v1\n%zu:%s\n%" PRId64 "\n", strlen(en->org_id), en->org_id, en->seq);
    for (int i = 0; i < 11; i++) {
        const char *v = en->fields[i] ? en->fields[i] : "";
        buf_addf(&b, "%zu:%s\n", strlen(v), v);
    }
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)b.buf, b.len);
    text_hex(h, sizeof(h), out);
    buf_release(&b);
}

/* Serializes writers of one chain: PostgreSQL takes a transaction-scoped
 * advisory lock per organization; SQLite's BEGIN IMMEDIATE already holds the
 * only write lock. */
static int lock_chain(struct db *db, const char *org_id, struct err *e)
{
    if (db_backend_of(db) != DB_POSTGRES) {
        return 0;
    }
    struct db_stmt *s = db_prepare(db, "SELECT pg_advisory_xact_lock(hashtext($1))", e);
    if (!s) {
        return -1;
    }
    db_bind_text(s, 1, org_id);
    int rc = db_step(s, e);
    db_done(s);
    return rc < 0 ? -1 : 0;
}

int audit_append(struct db *db, const struct audit_event *ev, struct err *e)
{
    const char *org = ev->org_id ? ev->org_id : "";
    /* An entry outside the action's transaction could survive an action that failed. */
    if (!db_in_transaction(db)) {
        return err_set(e, ERR_INTERNAL, "no_transaction", NULL,
                       "audit entries are written inside the action's transaction");
    }
    if (lock_chain(db, org, e) < 0) {
        return -1;
    }
    int64_t seq = 0;
    char prev[HASH_HEX];
    memcpy(prev, genesis, sizeof(genesis));
    struct db_stmt *s = db_prepare(db, "SELECT seq, hash FROM audit_heads WHERE org_id = $1", e);
    if (!s) {
        return -1;
    }
    db_bind_text(s, 1, org);
    int rc = db_step(s, e);
    if (rc == 1) {
        seq = db_col_int64(s, 0);
        const char *h = db_col_text(s, 1);
        if (h && strlen(h) == HASH_HEX - 1) {
            memcpy(prev, h, HASH_HEX);
        }
    }
    db_done(s);
    if (rc < 0) {
        return -1;
    }

    char at[32];
    time_format_iso(time_now_ms(), at, sizeof(at));
    struct entry en = {
        .org_id = org,
        .seq = seq + 1,
        .fields = {at, ev->actor_id, ev->actor_name, ev->action, ev->entity, ev->entity_id,
                   ev->outcome, ev->remote, ev->request_id, ev->detail, prev},
    };
    for (int i = 0; i < 10; i++) {
        if (!en.fields[i]) {
            en.fields[i] = "";
        }
    }
    char hash[HASH_HEX];
    entry_hash(&en, hash);

    s = db_prepare(db,
                   "INSERT INTO audit_log (org_id, seq, at, actor_id, actor_name, action, entity,"
                   " entity_id, outcome, remote, request_id, detail, prev_hash, hash)"
                   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                   e);
    if (!s) {
        return -1;
    }
    db_bind_text(s, 1, org);
    db_bind_int64(s, 2, en.seq);
    for (int i = 0; i < 11; i++) {
        db_bind_text(s, 3 + i, en.fields[i]);
    }
    db_bind_text(s, 14, hash);
    rc = db_step(s, e);
    db_done(s);
    if (rc < 0) {
        return -1;
    }

    s = db_prepare(db,
                   "INSERT INTO audit_heads (org_id, seq, hash) VALUES ($1, $2, $3)"
                   " ON CONFLICT (org_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                   e);
    if (!s) {
        return -1;
    }
    db_bind_text(s, 1, org);
    db_bind_int64(s, 2, en.seq);
    db_bind_text(s, 3, hash);
    rc = db_step(s, e);
    db_done(s);
    return rc < 0 ? -1 : 0;
}

/* State of the chain being walked by audit_verify. */
struct walk {
    char org[64];          /* chain being walked */
    int64_t seq;           /* last seq seen in it */
    char hash[HASH_HEX];   /* last hash seen in it */
    bool broken;           /* a problem was reported for this chain already */
};

int audit_verify(struct db *db, FILE *out, struct err *e)
{
    if (db_begin(db, true, e) < 0) {
        return -1;
    }
    struct db_stmt *s = db_prepare(
        db,
        "SELECT org_id, seq, at, actor_id, actor_name, action, entity, entity_id, outcome,"
        " remote, request_id, detail, prev_hash, hash FROM audit_log ORDER BY org_id, seq",
        e);
    if (!s) {
        db_rollback(db);
        return -1;
    }
    struct walk w = {.org = "\x01", .seq = 0, .broken = false};
    int problems = 0;
    int64_t n_entries = 0;
    int rc;
    bool started = false;
    while ((rc = db_step(s, e)) == 1) {
        const char *org = db_col_text(s, 0);
        if (!started || strcmp(org, w.org) != 0) {
            started = true;
            snprintf(w.org, sizeof(w.org), "%s", org);
            w.seq = 0;
            memcpy(w.hash, genesis, sizeof(genesis));
            w.broken = false;
        }
        n_entries++;
        struct entry en = {.org_id = org, .seq = db_col_int64(s, 1)};
        for (int i = 0; i < 11; i++) {
            en.fields[i] = db_col_text(s, 2 + i);
        }
        const char *stored = db_col_text(s, 13);
        char hash[HASH_HEX];
        entry_hash(&en, hash);
        if (!w.broken) {
            const char *why = NULL;
            if (en.seq != w.seq + 1) {
                why = en.seq > w.seq + 1 ? "entries before it were removed" : "out of order";
            } else if (strcmp(en.fields[10], w.hash) != 0) {
                why = "it does not follow the entry before it (removed, inserted or reordered)";
            } else if (strcmp(hash, stored) != 0) {
                why = "its content was changed";
            }
            if (why) {
                fprintf(out, "chain '%s': entry %" PRId64 " (%s %s): %s\n", org, en.seq,
                        en.fields[0], en.fields[3], why);
                w.broken = true;
                problems++;
            }
        }
        w.seq = en.seq;
        memcpy(w.hash, stored, strlen(stored) < HASH_HEX ? strlen(stored) + 1 : HASH_HEX);
        w.hash[HASH_HEX - 1] = '\0';
    }
    db_done(s);
    if (rc < 0) {
        db_rollback(db);
        return -1;
    }
    /* Every head must match the last entry of its chain (also catches a chain
     * whose entries were all removed). */
    s = db_prepare(db,
                   "SELECT h.org_id, h.seq, h.hash, (SELECT MAX(seq) FROM audit_log a"
                   " WHERE a.org_id = h.org_id) FROM audit_heads h ORDER BY h.org_id",
                   e);
    if (!s) {
        db_rollback(db);
        return -1;
    }
    while ((rc = db_step(s, e)) == 1) {
        int64_t head_seq = db_col_int64(s, 1);
        int64_t last = db_col_null(s, 3) ? 0 : db_col_int64(s, 3);
        if (head_seq != last) {
            fprintf(out, "chain '%s': last entry is %" PRId64 " but %" PRId64
                         " were written: entries were removed from the end\n",
                    db_col_text(s, 0), last, head_seq);
            problems++;
        }
    }
    db_done(s);
    if (rc == 0) {
        /* Compare each head's hash with its last entry's stored hash. */
        s = db_prepare(db,
                       "SELECT h.org_id FROM audit_heads h JOIN audit_log a"
                       " ON a.org_id = h.org_id AND a.seq = h.seq WHERE a.hash <> h.hash",
                       e);
        if (s) {
            while ((rc = db_step(s, e)) == 1) {
                fprintf(out, "chain '%s': its head does not match its last entry\n",
                        db_col_text(s, 0));
                problems++;
            }
            db_done(s);
        } else {
            rc = -1;
        }
    }
    db_rollback(db);
    if (rc < 0) {
        return -1;
    }
    if (!problems) {
        fprintf(out, "audit log intact: %" PRId64 " entries\n", n_entries);
    }
    return problems ? 1 : 0;
}
