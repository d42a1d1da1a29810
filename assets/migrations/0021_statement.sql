-- Statements (src/sponsorship/statement.c): the lookups a donor's
-- statement and receipts make, so that a statement over years of monthly
-- history stays a handful of index probes.
-- A payment's receipt.
CREATE INDEX receipts_payment ON receipts (payment_id);
-- A payer's dues by due date, whatever their status (the shortfall and
-- the ledger check read paid and open dues alike).
CREATE INDEX sponsorship_dues_payer_date ON sponsorship_dues (payer_id, due_date);
