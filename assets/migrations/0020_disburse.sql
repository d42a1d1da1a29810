-- Disbursements (src/sponsorship/disburse.c): what the run and its lines
-- keep beyond 0015. Runs: the default payout method, who confirmed or
-- cancelled them and when, and the confirmation entry's date (payouts are
-- never dated before it). Lines: the proof photo's media type and digest,
-- and why a payout failed.
ALTER TABLE disbursement_runs ADD COLUMN method TEXT;
ALTER TABLE disbursement_runs ADD COLUMN entry_date TEXT;
ALTER TABLE disbursement_runs ADD COLUMN confirmed_by TEXT;
ALTER TABLE disbursement_runs ADD COLUMN confirmed_at TEXT;
ALTER TABLE disbursement_runs ADD COLUMN cancelled_by TEXT;
ALTER TABLE disbursement_runs ADD COLUMN cancelled_at TEXT;
ALTER TABLE disbursement_lines ADD COLUMN proof_type TEXT;
ALTER TABLE disbursement_lines ADD COLUMN proof_sha256 TEXT;
ALTER TABLE disbursement_lines ADD COLUMN failed_reason TEXT;
ALTER TABLE disbursement_lines ADD COLUMN failed_at TEXT;

-- Creating a run points each allocation at its line by (run, child, fund):
-- one line per child and fund in a run, which the database keeps.
CREATE UNIQUE INDEX disbursement_lines_run_child ON disbursement_lines (run_id, child_id, fund);
CREATE INDEX disbursement_runs_org ON disbursement_runs (org_id, created_at);
CREATE INDEX inkind_org ON inkind_distributions (org_id, distributed_on);

-- A payout's amount, currency, fund, child and list never change once the
-- line is made (disburse.c never updates them; this keeps everyone else from
-- it too): a correction is a new list.
-- @sqlite
CREATE TRIGGER disbursement_lines_fixed BEFORE UPDATE OF amount, currency, fund, child_id, run_id
ON disbursement_lines
WHEN OLD.amount <> NEW.amount OR OLD.currency <> NEW.currency OR OLD.fund <> NEW.fund
    OR OLD.child_id <> NEW.child_id OR OLD.run_id <> NEW.run_id
BEGIN SELECT RAISE(ABORT, 'a payout''s amount never changes; make a new list'); END;
-- @postgres
CREATE FUNCTION disbursement_lines_fixed() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a payout''s amount never changes; make a new list';
END $$ LANGUAGE plpgsql;
CREATE TRIGGER disbursement_lines_fixed BEFORE UPDATE ON disbursement_lines
FOR EACH ROW WHEN (OLD.amount IS DISTINCT FROM NEW.amount OR OLD.currency IS DISTINCT FROM NEW.currency
    OR OLD.fund IS DISTINCT FROM NEW.fund OR OLD.child_id IS DISTINCT FROM NEW.child_id
    OR OLD.run_id IS DISTINCT FROM NEW.run_id)
EXECUTE FUNCTION disbursement_lines_fixed();
-- @all
