-- Bank statement import (src/sponsorship/bank.c): what an import found
-- besides its lines, and the candidates proposed for each line.
--
-- bank_imports: the default currency chosen at upload (NULL when the file
-- has a currency column), the credit and debit lines stored, and the lines
-- skipped because they were imported before (n_duplicates; duplicates holds
-- their rows and earlier imports as JSON [{"row", "import_id"}]).
-- bank_lines.status also takes "skipped" for a debit (money going out),
-- stored with a negative amount so the whole statement can be read back.
ALTER TABLE bank_imports ADD COLUMN currency TEXT;
ALTER TABLE bank_imports ADD COLUMN n_credits INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bank_imports ADD COLUMN n_debits INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bank_imports ADD COLUMN n_duplicates INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bank_imports ADD COLUMN duplicates TEXT;
CREATE INDEX bank_imports_org ON bank_imports (org_id, created_at);

-- Up to five candidates per line, best first (rank 1 is the proposal held
-- in bank_lines.donor_id), each with its score (0..100) and its reason
-- codes (space-separated, rendered through the catalog keys bk.reason.*).
CREATE TABLE bank_line_candidates (
    line_id   TEXT NOT NULL REFERENCES bank_lines(id),
    rank      INTEGER NOT NULL,
    donor_id  TEXT NOT NULL REFERENCES donors(id),
    score     INTEGER NOT NULL,
    reason    TEXT NOT NULL,
    PRIMARY KEY (line_id, rank)
);

-- A payer's known references: earlier payments and confirmed bank lines
-- are looked up by their exact reference.
CREATE INDEX payments_reference ON payments (org_id, reference);
CREATE INDEX bank_lines_reference ON bank_lines (org_id, reference, status);
