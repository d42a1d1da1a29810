-- Billing (src/sponsorship/billing.c): what the 0015 tables need besides.

-- A payment is allocated to a due once: a second allocation of the same
-- pair is refused (the service says so first, with a clear error).
CREATE UNIQUE INDEX payment_allocations_pair ON payment_allocations (payment_id, due_id);

-- Payments with an unallocated remainder (advances), found when dues are
-- generated without reading every payment of the organization.
CREATE INDEX payments_advances ON payments (org_id, received_on)
    WHERE status = 'recorded' AND unallocated > 0;

-- Arrears warnings: one open alert per payer and currency while the payer
-- is two periods or more late; raising it makes a task for the role
-- sponsorship_officer (tasks.id in task_id). cleared_on is set when the
-- payer is no longer two periods late, so the next time is a new episode.
CREATE TABLE billing_arrears_alerts (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    payer_id    TEXT NOT NULL REFERENCES donors(id),
    currency    TEXT NOT NULL,
    oldest_due  TEXT NOT NULL,
    n_periods   INTEGER NOT NULL,
    amount      BIGINT NOT NULL,
    task_id     TEXT,
    raised_on   TEXT NOT NULL,
    cleared_on  TEXT,
    created_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX billing_arrears_open ON billing_arrears_alerts (org_id, payer_id, currency)
    WHERE cleared_on IS NULL;
