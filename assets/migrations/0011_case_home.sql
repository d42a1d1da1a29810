-- Indexes for the worker's home and the quality dashboard (src/cases/home.c):
-- cases waiting for a decision, urgent open cases, cases opened, closed and
-- given an approved plan in a period, and the period's sessions and
-- instrument answers read from the index alone.
CREATE INDEX cases_pending ON cases (org_id, pending);
CREATE INDEX cases_urgent ON cases (org_id, urgent, status);
CREATE INDEX cases_opened ON cases (org_id, opened_at, worker_id);
CREATE INDEX cases_closed ON cases (org_id, closed_at, worker_id);
CREATE INDEX cases_plan_approved ON cases (org_id, plan_approved_at);
CREATE INDEX cases_open_team ON cases (org_id, status, worker_id, risk_level, next_contact, urgent, pending);
CREATE INDEX sessions_care_period ON sessions_care (org_id, starts_at, status, mode, missed_reason, worker_id);
CREATE INDEX instrument_responses_period ON instrument_responses (org_id, administered_at);
