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

-- Creating a run points each allocation at its line by (run, child, fund).
CREATE INDEX disbursement_lines_run_child ON disbursement_lines (run_id, child_id, fund);
CREATE INDEX disbursement_runs_org ON disbursement_runs (org_id, created_at);
CREATE INDEX inkind_org ON inkind_distributions (org_id, distributed_on);
