-- Case management and psychosocial care: cases with their workflow and
-- approvals, assessments, standardized instruments, plans and services,
-- sessions (in person and remote), tasks and reminders.

CREATE TABLE case_settings (
    org_id            TEXT PRIMARY KEY REFERENCES organizations(id),
    stages            TEXT NOT NULL DEFAULT 'assessment plan services follow_up',
    meeting_base_url  TEXT NOT NULL DEFAULT 'https://meet.jit.si/'
);

CREATE TABLE case_counters (
    org_id  TEXT NOT NULL,
    year    INTEGER NOT NULL,
    last    BIGINT NOT NULL,
    PRIMARY KEY (org_id, year)
);

CREATE TABLE cases (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES organizations(id),
    child_id          TEXT NOT NULL REFERENCES children(id),
    case_no           TEXT NOT NULL,
    worker_id         TEXT NOT NULL REFERENCES users(id),
    specialist_id     TEXT REFERENCES users(id),
    stage             TEXT NOT NULL,
    status            TEXT NOT NULL,
    pending           TEXT,
    risk_level        TEXT NOT NULL DEFAULT 'medium',
    urgent            INTEGER NOT NULL DEFAULT 0,
    next_contact      TEXT,
    opened_at         TEXT NOT NULL,
    plan_approved_at  TEXT,
    closed_at         TEXT,
    close_reason      TEXT,
    updated_at        TEXT NOT NULL,
    version           INTEGER NOT NULL DEFAULT 1,
    UNIQUE (org_id, case_no)
);
CREATE INDEX cases_org_status ON cases (org_id, status, stage);
CREATE INDEX cases_worker ON cases (worker_id, status);
CREATE INDEX cases_specialist ON cases (specialist_id, status);
CREATE INDEX cases_child ON cases (child_id);
CREATE INDEX cases_next_contact ON cases (org_id, status, next_contact);

-- Everything that happened to a case, in order: stage moves, submissions,
-- approvals and send-backs with the supervisor's comment, reassignments,
-- reopening, urgent flags raised and dealt with.
CREATE TABLE case_events (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    case_id     TEXT NOT NULL REFERENCES cases(id),
    kind        TEXT NOT NULL,
    detail      TEXT,
    comment     TEXT,
    by_user     TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, at);

CREATE TABLE assessments (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL,
    case_id         TEXT NOT NULL REFERENCES cases(id),
    ratings         TEXT NOT NULL,
    risks           TEXT,
    digital         TEXT,
    overall_risk    TEXT NOT NULL,
    notes           TEXT,
    status          TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    decided_by      TEXT,
    decision_comment TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX assessments_case ON assessments (case_id, created_at);

CREATE TABLE instrument_responses (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL,
    case_id         TEXT NOT NULL REFERENCES cases(id),
    child_id        TEXT NOT NULL REFERENCES children(id),
    instrument      TEXT NOT NULL,
    answers         TEXT NOT NULL,
    total           INTEGER,
    scores          TEXT NOT NULL,
    band            TEXT,
    critical        INTEGER NOT NULL DEFAULT 0,
    administered_by TEXT NOT NULL,
    administered_at TEXT NOT NULL
);
CREATE INDEX instrument_responses_child ON instrument_responses (child_id, instrument, administered_at);

CREATE TABLE plans (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL,
    case_id          TEXT NOT NULL REFERENCES cases(id),
    status           TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    decided_by       TEXT,
    decision_comment TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX plans_case ON plans (case_id, created_at);

CREATE TABLE plan_goals (
    id        TEXT PRIMARY KEY,
    org_id    TEXT NOT NULL,
    plan_id   TEXT NOT NULL REFERENCES plans(id),
    position  INTEGER NOT NULL,
    goal      TEXT NOT NULL,
    status    TEXT NOT NULL
);
CREATE INDEX plan_goals_plan ON plan_goals (plan_id, position);

CREATE TABLE providers (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    phone       TEXT,
    email       TEXT,
    address     TEXT,
    services    TEXT,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL
);
CREATE INDEX providers_org ON providers (org_id, active);

CREATE TABLE plan_actions (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL,
    goal_id       TEXT NOT NULL REFERENCES plan_goals(id),
    position      INTEGER NOT NULL,
    action        TEXT NOT NULL,
    responsible   TEXT,
    provider_id   TEXT REFERENCES providers(id),
    due_date      TEXT,
    status        TEXT NOT NULL,
    outcome       TEXT
);
CREATE INDEX plan_actions_goal ON plan_actions (goal_id, position);

CREATE TABLE sessions_care (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL,
    case_id         TEXT REFERENCES cases(id),
    worker_id       TEXT NOT NULL REFERENCES users(id),
    kind            TEXT NOT NULL,
    mode            TEXT NOT NULL,
    starts_at       TEXT NOT NULL,
    ends_at         TEXT NOT NULL,
    status          TEXT NOT NULL,
    missed_reason   TEXT,
    room            TEXT,
    duration_min    INTEGER,
    topics          TEXT,
    notes           TEXT,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX sessions_care_worker ON sessions_care (worker_id, starts_at);
CREATE INDEX sessions_care_case ON sessions_care (case_id, starts_at);
CREATE INDEX sessions_care_org ON sessions_care (org_id, starts_at);

-- Children attending a session (one for individual sessions, several for groups).
CREATE TABLE session_children (
    session_id  TEXT NOT NULL REFERENCES sessions_care(id),
    child_id    TEXT NOT NULL REFERENCES children(id),
    attended    INTEGER,
    PRIMARY KEY (session_id, child_id)
);

CREATE TABLE tasks (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL,
    case_id      TEXT REFERENCES cases(id),
    assignee_id  TEXT REFERENCES users(id),
    role         TEXT,
    kind         TEXT NOT NULL,
    title        TEXT NOT NULL,
    due_date     TEXT NOT NULL,
    urgent       INTEGER NOT NULL DEFAULT 0,
    done_at      TEXT,
    done_by      TEXT,
    outcome      TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX tasks_assignee ON tasks (assignee_id, done_at, due_date);
CREATE INDEX tasks_org ON tasks (org_id, done_at, due_date);

CREATE TABLE calendar_feeds (
    user_id     TEXT PRIMARY KEY REFERENCES users(id),
    org_id      TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE reminders_sent (
    kind      TEXT NOT NULL,
    ref_id    TEXT NOT NULL,
    day       TEXT NOT NULL,
    sent_at   TEXT NOT NULL,
    PRIMARY KEY (kind, ref_id, day)
);
