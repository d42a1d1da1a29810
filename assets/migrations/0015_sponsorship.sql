-- Sponsorship (kafala): donors, agreements, what is due and what was
-- received, receipts, disbursements to guardians, in-kind distributions,
-- bank statements, the sponsor portal's letters and progress reports.
-- Money columns are int64 minor units of the row's currency.

-- Per organization: sponsorship settings (the age limit is the registry's).
CREATE TABLE sponsorship_settings (
    org_id              TEXT PRIMARY KEY REFERENCES organizations(id),
    notice_months       INTEGER NOT NULL DEFAULT 3,
    report_every_months INTEGER NOT NULL DEFAULT 6,
    mail_from           TEXT,
    updated_at          TEXT NOT NULL
);

-- Counters without gaps, per organization and kind ("donor", "agreement",
-- "payment", "disbursement") and year (0 for counters that never restart).
CREATE TABLE sponsorship_counters (
    org_id   TEXT NOT NULL,
    kind     TEXT NOT NULL,
    year     INTEGER NOT NULL,
    next_no  BIGINT NOT NULL,
    PRIMARY KEY (org_id, kind, year)
);

-- Donors and sponsors. kind: person family company mosque church
-- association group. payer_id: the donor who pays for this one (a group
-- sponsors while another party pays). user_id: the portal login.
CREATE TABLE donors (
    id                 TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL REFERENCES organizations(id),
    donor_no           TEXT NOT NULL,
    kind               TEXT NOT NULL,
    name               TEXT NOT NULL,
    name_latin         TEXT,
    email              TEXT,
    phone              TEXT,
    address            TEXT,
    city               TEXT,
    country            TEXT,
    preferred_lang     TEXT NOT NULL DEFAULT 'ar',
    preferred_channel  TEXT NOT NULL DEFAULT 'email',
    contact_consent    INTEGER NOT NULL DEFAULT 0,
    tax_name           TEXT,
    tax_id             TEXT,
    payer_id           TEXT REFERENCES donors(id),
    user_id            TEXT REFERENCES users(id),
    notes              TEXT,
    status             TEXT NOT NULL DEFAULT 'active',
    created_by         TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (org_id, donor_no)
);
CREATE INDEX donors_org_name ON donors (org_id, name);
CREATE UNIQUE INDEX donors_user ON donors (user_id);

-- Agreements: child <-> sponsor. frequency: monthly quarterly half_yearly
-- yearly. purpose: general education medical. status: pending active paused
-- ended. group_id ties siblings sponsored together. next_due: the first day
-- of the next period not yet generated into sponsorship_dues.
CREATE TABLE sponsorships (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    agreement_no  TEXT NOT NULL,
    child_id      TEXT NOT NULL REFERENCES children(id),
    donor_id      TEXT NOT NULL REFERENCES donors(id),
    payer_id      TEXT NOT NULL REFERENCES donors(id),
    amount        BIGINT NOT NULL,
    currency      TEXT NOT NULL,
    frequency     TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    start_date    TEXT NOT NULL,
    end_date      TEXT,
    status        TEXT NOT NULL,
    end_reason    TEXT,
    group_id      TEXT,
    next_due      TEXT NOT NULL,
    notice_sent_at TEXT,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (org_id, agreement_no)
);
CREATE INDEX sponsorships_child ON sponsorships (child_id, status);
CREATE INDEX sponsorships_donor ON sponsorships (donor_id, status);
CREATE INDEX sponsorships_payer ON sponsorships (payer_id, status);
CREATE INDEX sponsorships_due ON sponsorships (org_id, status, next_due);

-- Pauses: no dues for periods starting in [from_date, to_date].
CREATE TABLE sponsorship_pauses (
    id              TEXT PRIMARY KEY,
    sponsorship_id  TEXT NOT NULL REFERENCES sponsorships(id),
    from_date       TEXT NOT NULL,
    to_date         TEXT,
    reason          TEXT,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX sponsorship_pauses_sp ON sponsorship_pauses (sponsorship_id);

-- The agreement's history: created, activated, paused, resumed, ended,
-- amount changed, sponsor changed (with the previous agreement).
CREATE TABLE sponsorship_events (
    id              TEXT PRIMARY KEY,
    sponsorship_id  TEXT NOT NULL REFERENCES sponsorships(id),
    org_id          TEXT NOT NULL,
    kind            TEXT NOT NULL,
    detail          TEXT,
    actor_id        TEXT,
    at              TEXT NOT NULL
);
CREATE INDEX sponsorship_events_sp ON sponsorship_events (sponsorship_id, at);

-- What is due per period. paid: allocated so far. status: open partial
-- paid cancelled.
CREATE TABLE sponsorship_dues (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL,
    sponsorship_id  TEXT NOT NULL REFERENCES sponsorships(id),
    donor_id        TEXT NOT NULL,
    payer_id        TEXT NOT NULL,
    child_id        TEXT NOT NULL,
    period_start    TEXT NOT NULL,
    period_end      TEXT NOT NULL,
    due_date        TEXT NOT NULL,
    amount          BIGINT NOT NULL,
    currency        TEXT NOT NULL,
    fund            TEXT NOT NULL,
    paid            BIGINT NOT NULL DEFAULT 0,
    status          TEXT NOT NULL,
    entry_id        TEXT,
    created_at      TEXT NOT NULL,
    UNIQUE (sponsorship_id, period_start)
);
CREATE INDEX sponsorship_dues_payer ON sponsorship_dues (payer_id, status, due_date);
CREATE INDEX sponsorship_dues_org ON sponsorship_dues (org_id, due_date, status);
CREATE INDEX sponsorship_dues_child ON sponsorship_dues (child_id, period_start);

-- Payments received. method: cash bank_transfer card mobile_money
-- standing_order. external_ref: the gateway's or bank's transaction id,
-- unique per organization so that one payment is never recorded twice.
-- unallocated: what is not yet allocated to dues (an advance).
-- status: recorded reversed.
CREATE TABLE payments (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    payment_no    TEXT NOT NULL,
    donor_id      TEXT NOT NULL REFERENCES donors(id),
    amount        BIGINT NOT NULL,
    fee           BIGINT NOT NULL DEFAULT 0,
    currency      TEXT NOT NULL,
    method        TEXT NOT NULL,
    received_on   TEXT NOT NULL,
    reference     TEXT,
    external_ref  TEXT,
    unallocated   BIGINT NOT NULL,
    status        TEXT NOT NULL,
    entry_id      TEXT,
    bank_line_id  TEXT,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (org_id, payment_no)
);
CREATE UNIQUE INDEX payments_external ON payments (org_id, external_ref);
CREATE INDEX payments_donor ON payments (donor_id, received_on);
CREATE INDEX payments_org ON payments (org_id, received_on);

-- Allocation of a payment to a due. disbursement_line_id: the payout that
-- passed this money on to the guardian.
CREATE TABLE payment_allocations (
    id                    TEXT PRIMARY KEY,
    org_id                TEXT NOT NULL,
    payment_id            TEXT NOT NULL REFERENCES payments(id),
    due_id                TEXT NOT NULL REFERENCES sponsorship_dues(id),
    amount                BIGINT NOT NULL,
    entry_id              TEXT,
    disbursement_line_id  TEXT,
    created_at            TEXT NOT NULL
);
CREATE INDEX payment_allocations_payment ON payment_allocations (payment_id);
CREATE INDEX payment_allocations_due ON payment_allocations (due_id);
CREATE INDEX payment_allocations_undisbursed ON payment_allocations (org_id, disbursement_line_id);

-- Receipts: numbered without gaps per organization and year (seq); a
-- receipt is voided (never deleted, never renumbered) when its payment is
-- reversed.
CREATE TABLE receipts (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    year        INTEGER NOT NULL,
    seq         BIGINT NOT NULL,
    receipt_no  TEXT NOT NULL,
    payment_id  TEXT NOT NULL REFERENCES payments(id),
    donor_id    TEXT NOT NULL,
    amount      BIGINT NOT NULL,
    currency    TEXT NOT NULL,
    issued_on   TEXT NOT NULL,
    voided_at   TEXT,
    void_reason TEXT,
    created_at  TEXT NOT NULL,
    UNIQUE (org_id, year, seq),
    UNIQUE (org_id, receipt_no)
);
CREATE INDEX receipts_donor ON receipts (donor_id, issued_on);

-- Disbursement runs: the monthly payout list to guardians, per currency.
-- status: draft confirmed.
CREATE TABLE disbursement_runs (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    run_no        TEXT NOT NULL,
    period        TEXT NOT NULL,
    currency      TEXT NOT NULL,
    status        TEXT NOT NULL,
    total         BIGINT NOT NULL,
    n_lines       INTEGER NOT NULL,
    entry_id      TEXT,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (org_id, run_no)
);

-- One payout: a child's guardian, the amount passed on, how, and the proof.
-- status: pending paid failed. proof_kind: signature reference.
CREATE TABLE disbursement_lines (
    id            TEXT PRIMARY KEY,
    run_id        TEXT NOT NULL REFERENCES disbursement_runs(id),
    org_id        TEXT NOT NULL,
    child_id      TEXT NOT NULL,
    guardian_id   TEXT,
    amount        BIGINT NOT NULL,
    currency      TEXT NOT NULL,
    fund          TEXT NOT NULL,
    method        TEXT NOT NULL,
    status        TEXT NOT NULL,
    proof_kind    TEXT,
    proof_ref     TEXT,
    proof_doc     TEXT,
    paid_on       TEXT,
    entry_id      TEXT,
    confirmed_by  TEXT,
    confirmed_at  TEXT
);
CREATE INDEX disbursement_lines_run ON disbursement_lines (run_id);
CREATE INDEX disbursement_lines_child ON disbursement_lines (child_id);

-- In-kind distributions recorded against the child: food parcels, school
-- kits, devices; value optional (posted when given).
CREATE TABLE inkind_distributions (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    child_id      TEXT NOT NULL REFERENCES children(id),
    kind          TEXT NOT NULL,
    description   TEXT,
    quantity      INTEGER NOT NULL,
    value         BIGINT,
    currency      TEXT,
    fund          TEXT,
    donor_id      TEXT,
    distributed_on TEXT NOT NULL,
    proof_ref     TEXT,
    entry_id      TEXT,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX inkind_child ON inkind_distributions (child_id, distributed_on);

-- Bank statements imported from CSV, and their lines with the proposed
-- match. status of a line: matched (certain), uncertain, unmatched,
-- confirmed (a payment was recorded), ignored. line_hash keeps a line from
-- being imported twice.
CREATE TABLE bank_imports (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    filename    TEXT,
    account     TEXT NOT NULL,
    n_lines     INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE TABLE bank_lines (
    id          TEXT PRIMARY KEY,
    import_id   TEXT NOT NULL REFERENCES bank_imports(id),
    org_id      TEXT NOT NULL,
    line_no     INTEGER NOT NULL,
    booked_on   TEXT NOT NULL,
    amount      BIGINT NOT NULL,
    currency    TEXT NOT NULL,
    reference   TEXT,
    payer_name  TEXT,
    line_hash   TEXT NOT NULL,
    donor_id    TEXT,
    score       INTEGER NOT NULL DEFAULT 0,
    reason      TEXT,
    status      TEXT NOT NULL,
    payment_id  TEXT,
    decided_by  TEXT,
    decided_at  TEXT
);
CREATE UNIQUE INDEX bank_lines_hash ON bank_lines (org_id, line_hash);
CREATE INDEX bank_lines_import ON bank_lines (import_id, line_no);

-- Letters from a sponsor to a child: staff review before passing them on.
-- status: pending approved rejected delivered.
CREATE TABLE sponsor_letters (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL,
    donor_id      TEXT NOT NULL REFERENCES donors(id),
    child_id      TEXT NOT NULL REFERENCES children(id),
    body          TEXT NOT NULL,
    status        TEXT NOT NULL,
    review_note   TEXT,
    reviewed_by   TEXT,
    reviewed_at   TEXT,
    created_at    TEXT NOT NULL
);
CREATE INDEX sponsor_letters_org ON sponsor_letters (org_id, status, created_at);

-- Periodic progress reports per child for its sponsors: a short note
-- (shown to sponsors only when consented), school results, a consented
-- photo and a letter or drawing (child_documents). status: draft approved
-- sent.
CREATE TABLE progress_reports (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL,
    child_id        TEXT NOT NULL REFERENCES children(id),
    period          TEXT NOT NULL,
    note            TEXT NOT NULL,
    note_en         TEXT,
    school_results  TEXT,
    photo_doc       TEXT,
    drawing_doc     TEXT,
    status          TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    approved_by     TEXT,
    approved_at     TEXT,
    UNIQUE (child_id, period)
);
CREATE TABLE progress_report_sends (
    report_id   TEXT NOT NULL REFERENCES progress_reports(id),
    donor_id    TEXT NOT NULL REFERENCES donors(id),
    sent_at     TEXT NOT NULL,
    channel     TEXT NOT NULL,
    PRIMARY KEY (report_id, donor_id)
);
