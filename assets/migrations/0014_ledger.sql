-- The books (src/finance/ledger.c): a double-entry journal under every money
-- event. Entries are never changed or deleted (triggers refuse it on both
-- engines); a correction is a reversing entry. Amounts are int64 minor units
-- of their currency; each line also carries its value in the organization's
-- base currency at the rate stored on the entry.

-- One row per organization: its base currency for reports.
CREATE TABLE fin_settings (
    org_id         TEXT PRIMARY KEY REFERENCES organizations(id),
    base_currency  TEXT NOT NULL DEFAULT 'USD',
    updated_at     TEXT NOT NULL
);

-- The chart of accounts, per organization (seeded by ledger_ensure_chart).
-- kind: asset liability equity income expense. Codes are the stable names
-- services post to ("1010"); labels come from the catalogs (account.CODE)
-- unless name is set by the organization.
CREATE TABLE fin_accounts (
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    code        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    name        TEXT,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (org_id, code)
);

-- Funds kept apart: unrestricted, sponsorship (the pool), education and
-- medical (restricted by purpose), endowment, grants.
CREATE TABLE fin_funds (
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    code        TEXT NOT NULL,
    restricted  INTEGER NOT NULL,
    name        TEXT,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (org_id, code)
);

-- Exchange rates of the day: units of the base currency for one unit of
-- currency, as a decimal with up to 9 places, and the same times 10^9.
CREATE TABLE fx_rates (
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    currency    TEXT NOT NULL,
    day         TEXT NOT NULL,
    rate        TEXT NOT NULL,
    rate_e9     BIGINT NOT NULL,
    created_by  TEXT,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (org_id, currency, day)
);

-- Closed periods (YYYY-MM): nothing is posted into them.
CREATE TABLE fin_periods (
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    period      TEXT NOT NULL,
    closed_at   TEXT NOT NULL,
    closed_by   TEXT,
    PRIMARY KEY (org_id, period)
);

CREATE TABLE entry_counters (
    org_id   TEXT PRIMARY KEY,
    next_no  BIGINT NOT NULL
);

-- A journal entry: entry_no counts per organization without gaps; source
-- names the money event that made it ("payment", id) for tracing;
-- reverses_id points at the entry a reversal undoes (reversed_by is kept in
-- journal_reversals, since entries themselves never change).
CREATE TABLE journal_entries (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    entry_no      BIGINT NOT NULL,
    entry_date    TEXT NOT NULL,
    period        TEXT NOT NULL,
    memo          TEXT NOT NULL,
    source_kind   TEXT,
    source_id     TEXT,
    reverses_id   TEXT REFERENCES journal_entries(id),
    base_currency TEXT NOT NULL,
    rate          TEXT,
    created_by    TEXT,
    created_at    TEXT NOT NULL,
    UNIQUE (org_id, entry_no)
);
CREATE INDEX journal_entries_date ON journal_entries (org_id, entry_date);
CREATE INDEX journal_entries_source ON journal_entries (source_kind, source_id);

CREATE TABLE journal_reversals (
    entry_id     TEXT PRIMARY KEY REFERENCES journal_entries(id),
    reversed_by  TEXT NOT NULL REFERENCES journal_entries(id)
);

-- The lines: amount signed (debit positive, credit negative) in currency;
-- base_amount in the entry's base currency. Dimensions (donor, child,
-- sponsorship, due) let statements be traced through the books.
CREATE TABLE journal_lines (
    id              TEXT PRIMARY KEY,
    entry_id        TEXT NOT NULL REFERENCES journal_entries(id),
    org_id          TEXT NOT NULL,
    line_no         INTEGER NOT NULL,
    account         TEXT NOT NULL,
    fund            TEXT NOT NULL,
    currency        TEXT NOT NULL,
    amount          BIGINT NOT NULL,
    base_amount     BIGINT NOT NULL,
    entry_date      TEXT NOT NULL,
    donor_id        TEXT,
    child_id        TEXT,
    sponsorship_id  TEXT,
    memo            TEXT
);
CREATE INDEX journal_lines_entry ON journal_lines (entry_id);
CREATE INDEX journal_lines_account ON journal_lines (org_id, account, fund, currency, entry_date);
CREATE INDEX journal_lines_donor ON journal_lines (donor_id, entry_date);
CREATE INDEX journal_lines_child ON journal_lines (child_id, entry_date);

-- @sqlite
CREATE TRIGGER journal_entries_no_update BEFORE UPDATE ON journal_entries
BEGIN SELECT RAISE(ABORT, 'journal entries are never changed; post a reversing entry'); END;
CREATE TRIGGER journal_entries_no_delete BEFORE DELETE ON journal_entries
BEGIN SELECT RAISE(ABORT, 'journal entries are never deleted; post a reversing entry'); END;
CREATE TRIGGER journal_lines_no_update BEFORE UPDATE ON journal_lines
BEGIN SELECT RAISE(ABORT, 'journal entries are never changed; post a reversing entry'); END;
CREATE TRIGGER journal_lines_no_delete BEFORE DELETE ON journal_lines
BEGIN SELECT RAISE(ABORT, 'journal entries are never deleted; post a reversing entry'); END;
-- @postgres
CREATE FUNCTION journal_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'journal entries are never changed or deleted; post a reversing entry';
END $$ LANGUAGE plpgsql;
CREATE TRIGGER journal_entries_immutable BEFORE UPDATE OR DELETE ON journal_entries
FOR EACH ROW EXECUTE FUNCTION journal_immutable();
CREATE TRIGGER journal_lines_immutable BEFORE UPDATE OR DELETE ON journal_lines
FOR EACH ROW EXECUTE FUNCTION journal_immutable();
-- @all
