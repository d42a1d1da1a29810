-- Summaries for the supervisor's team home and the quality dashboard
-- (src/cases/home.c), kept exact by triggers inside the transaction of every
-- write to cases, sessions_care and case_events, whoever makes it (the
-- services, imports, the demo data, an operator's SQL).
--
-- case_contact_windows: the days of contact that belong to a follow-up, per
-- risk level (case_contact_days in src/cases/cases.c; test_home checks that
-- the two agree). A level not listed counts as medium.
CREATE TABLE case_contact_windows (
    risk_level  TEXT PRIMARY KEY,
    days        INTEGER NOT NULL
);
INSERT INTO case_contact_windows (risk_level, days) VALUES
    ('urgent', 1), ('high', 7), ('medium', 14), ('low', 30);

-- case_followups: one row per case with a next-contact date: whether a held
-- session or a case event of the case lies in the contact window of that
-- date (on_time 1), so that "follow-ups on time" counts rows instead of
-- probing sessions and events case by case.
CREATE TABLE case_followups (
    case_id       TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL,
    worker_id     TEXT NOT NULL,
    next_contact  TEXT NOT NULL,
    on_time       INTEGER NOT NULL
);
CREATE INDEX case_followups_period ON case_followups (org_id, next_contact, worker_id, on_time);

-- session_days: held and missed sessions per organization, day (the first
-- ten characters of starts_at) and worker, counted by mode and missed reason.
CREATE TABLE session_days (
    org_id                TEXT NOT NULL,
    day                   TEXT NOT NULL,
    worker_id             TEXT NOT NULL,
    held_in_person        BIGINT NOT NULL DEFAULT 0,
    held_phone            BIGINT NOT NULL DEFAULT 0,
    held_video            BIGINT NOT NULL DEFAULT 0,
    held_chat             BIGINT NOT NULL DEFAULT 0,
    held_remote_other     BIGINT NOT NULL DEFAULT 0,
    missed_remote         BIGINT NOT NULL DEFAULT 0,
    missed_no_device      BIGINT NOT NULL DEFAULT 0,
    missed_no_connection  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, day, worker_id)
);
CREATE INDEX session_days_worker ON session_days (org_id, worker_id, day);

-- case_open_days: open cases per organization, worker, risk level and
-- next-contact date (has_next 0 and next_contact '' for none), with how many
-- are urgent and pending.
CREATE TABLE case_open_days (
    org_id        TEXT NOT NULL,
    worker_id     TEXT NOT NULL,
    risk_level    TEXT NOT NULL,
    has_next      INTEGER NOT NULL,
    next_contact  TEXT NOT NULL,
    n_open        BIGINT NOT NULL DEFAULT 0,
    n_urgent      BIGINT NOT NULL DEFAULT 0,
    n_pending     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, worker_id, risk_level, has_next, next_contact)
);

-- Cases waiting for a decision, in the order the home lists them: a partial
-- index, as "pending IS NOT NULL" cannot narrow (org_id, pending) and SQLite
-- would scan every case of the organization.
CREATE INDEX cases_pending_list ON cases (org_id, updated_at, case_no, worker_id, specialist_id)
    WHERE pending IS NOT NULL;

-- @sqlite
-- Whether each case's follow-up is on time, as the dashboard defined it
-- before this summary (the triggers copy one case's row into case_followups).
CREATE VIEW case_followup_state AS
SELECT c.id AS case_id, c.org_id AS org_id, c.worker_id AS worker_id,
       c.next_contact AS next_contact,
       CASE WHEN EXISTS (SELECT 1 FROM sessions_care s WHERE s.case_id = c.id
                         AND s.status = 'held'
                         AND s.starts_at >= date(c.next_contact, '-' || COALESCE(
                             (SELECT w.days FROM case_contact_windows w
                              WHERE w.risk_level = c.risk_level),
                             (SELECT w.days FROM case_contact_windows w
                              WHERE w.risk_level = 'medium')) || ' days')
                         AND s.starts_at <= c.next_contact || 'T99')
              OR EXISTS (SELECT 1 FROM case_events v WHERE v.case_id = c.id
                         AND v.at >= date(c.next_contact, '-' || COALESCE(
                             (SELECT w.days FROM case_contact_windows w
                              WHERE w.risk_level = c.risk_level),
                             (SELECT w.days FROM case_contact_windows w
                              WHERE w.risk_level = 'medium')) || ' days')
                         AND v.at <= c.next_contact || 'T99')
            THEN 1 ELSE 0 END AS on_time
FROM cases c WHERE c.next_contact IS NOT NULL;

CREATE TRIGGER case_followups_case_ins AFTER INSERT ON cases BEGIN
    DELETE FROM case_followups WHERE case_id = NEW.id;
    INSERT INTO case_followups SELECT * FROM case_followup_state WHERE case_id = NEW.id;
END;
CREATE TRIGGER case_followups_case_upd
AFTER UPDATE OF id, org_id, worker_id, next_contact, risk_level ON cases BEGIN
    DELETE FROM case_followups WHERE case_id IN (OLD.id, NEW.id);
    INSERT INTO case_followups SELECT * FROM case_followup_state WHERE case_id = NEW.id;
END;
CREATE TRIGGER case_followups_case_del AFTER DELETE ON cases BEGIN
    DELETE FROM case_followups WHERE case_id = OLD.id;
END;
CREATE TRIGGER case_followups_session_ins AFTER INSERT ON sessions_care
WHEN NEW.case_id IS NOT NULL AND NEW.status = 'held' BEGIN
    DELETE FROM case_followups WHERE case_id = NEW.case_id;
    INSERT INTO case_followups SELECT * FROM case_followup_state WHERE case_id = NEW.case_id;
END;
CREATE TRIGGER case_followups_session_upd
AFTER UPDATE OF case_id, status, starts_at ON sessions_care
WHEN OLD.status = 'held' OR NEW.status = 'held' BEGIN
    DELETE FROM case_followups WHERE case_id IN (OLD.case_id, NEW.case_id);
    INSERT INTO case_followups SELECT * FROM case_followup_state
    WHERE case_id IN (OLD.case_id, NEW.case_id);
END;
CREATE TRIGGER case_followups_session_del AFTER DELETE ON sessions_care
WHEN OLD.case_id IS NOT NULL AND OLD.status = 'held' BEGIN
    DELETE FROM case_followups WHERE case_id = OLD.case_id;
    INSERT INTO case_followups SELECT * FROM case_followup_state WHERE case_id = OLD.case_id;
END;
CREATE TRIGGER case_followups_event_ins AFTER INSERT ON case_events BEGIN
    DELETE FROM case_followups WHERE case_id = NEW.case_id;
    INSERT INTO case_followups SELECT * FROM case_followup_state WHERE case_id = NEW.case_id;
END;
CREATE TRIGGER case_followups_event_upd AFTER UPDATE OF case_id, at ON case_events BEGIN
    DELETE FROM case_followups WHERE case_id IN (OLD.case_id, NEW.case_id);
    INSERT INTO case_followups SELECT * FROM case_followup_state
    WHERE case_id IN (OLD.case_id, NEW.case_id);
END;
CREATE TRIGGER case_followups_event_del AFTER DELETE ON case_events BEGIN
    DELETE FROM case_followups WHERE case_id = OLD.case_id;
    INSERT INTO case_followups SELECT * FROM case_followup_state WHERE case_id = OLD.case_id;
END;

-- A session's share of session_days, added on insert and taken back on delete;
-- an update takes back the old row's share and adds the new one's.
CREATE TRIGGER session_days_ins AFTER INSERT ON sessions_care
WHEN NEW.status IN ('held', 'missed') BEGIN
    INSERT INTO session_days VALUES (NEW.org_id, substr(NEW.starts_at, 1, 10), NEW.worker_id,
        NEW.status = 'held' AND NEW.mode = 'in_person',
        NEW.status = 'held' AND NEW.mode = 'phone',
        NEW.status = 'held' AND NEW.mode = 'video',
        NEW.status = 'held' AND NEW.mode = 'chat',
        NEW.status = 'held' AND NEW.mode NOT IN ('in_person', 'phone', 'video', 'chat'),
        NEW.status = 'missed' AND NEW.mode <> 'in_person',
        NEW.status = 'missed' AND NEW.mode <> 'in_person' AND NEW.missed_reason IS 'no_device',
        NEW.status = 'missed' AND NEW.mode <> 'in_person'
            AND NEW.missed_reason IS 'no_connection')
    ON CONFLICT (org_id, day, worker_id) DO UPDATE SET
        held_in_person = held_in_person + excluded.held_in_person,
        held_phone = held_phone + excluded.held_phone,
        held_video = held_video + excluded.held_video,
        held_chat = held_chat + excluded.held_chat,
        held_remote_other = held_remote_other + excluded.held_remote_other,
        missed_remote = missed_remote + excluded.missed_remote,
        missed_no_device = missed_no_device + excluded.missed_no_device,
        missed_no_connection = missed_no_connection + excluded.missed_no_connection;
END;
CREATE TRIGGER session_days_del AFTER DELETE ON sessions_care
WHEN OLD.status IN ('held', 'missed') BEGIN
    INSERT INTO session_days VALUES (OLD.org_id, substr(OLD.starts_at, 1, 10), OLD.worker_id,
        -(OLD.status = 'held' AND OLD.mode = 'in_person'),
        -(OLD.status = 'held' AND OLD.mode = 'phone'),
        -(OLD.status = 'held' AND OLD.mode = 'video'),
        -(OLD.status = 'held' AND OLD.mode = 'chat'),
        -(OLD.status = 'held' AND OLD.mode NOT IN ('in_person', 'phone', 'video', 'chat')),
        -(OLD.status = 'missed' AND OLD.mode <> 'in_person'),
        -(OLD.status = 'missed' AND OLD.mode <> 'in_person'
            AND OLD.missed_reason IS 'no_device'),
        -(OLD.status = 'missed' AND OLD.mode <> 'in_person'
            AND OLD.missed_reason IS 'no_connection'))
    ON CONFLICT (org_id, day, worker_id) DO UPDATE SET
        held_in_person = held_in_person + excluded.held_in_person,
        held_phone = held_phone + excluded.held_phone,
        held_video = held_video + excluded.held_video,
        held_chat = held_chat + excluded.held_chat,
        held_remote_other = held_remote_other + excluded.held_remote_other,
        missed_remote = missed_remote + excluded.missed_remote,
        missed_no_device = missed_no_device + excluded.missed_no_device,
        missed_no_connection = missed_no_connection + excluded.missed_no_connection;
END;
CREATE TRIGGER session_days_upd_old
AFTER UPDATE OF org_id, starts_at, worker_id, mode, status, missed_reason ON sessions_care
WHEN OLD.status IN ('held', 'missed') BEGIN
    INSERT INTO session_days VALUES (OLD.org_id, substr(OLD.starts_at, 1, 10), OLD.worker_id,
        -(OLD.status = 'held' AND OLD.mode = 'in_person'),
        -(OLD.status = 'held' AND OLD.mode = 'phone'),
        -(OLD.status = 'held' AND OLD.mode = 'video'),
        -(OLD.status = 'held' AND OLD.mode = 'chat'),
        -(OLD.status = 'held' AND OLD.mode NOT IN ('in_person', 'phone', 'video', 'chat')),
        -(OLD.status = 'missed' AND OLD.mode <> 'in_person'),
        -(OLD.status = 'missed' AND OLD.mode <> 'in_person'
            AND OLD.missed_reason IS 'no_device'),
        -(OLD.status = 'missed' AND OLD.mode <> 'in_person'
            AND OLD.missed_reason IS 'no_connection'))
    ON CONFLICT (org_id, day, worker_id) DO UPDATE SET
        held_in_person = held_in_person + excluded.held_in_person,
        held_phone = held_phone + excluded.held_phone,
        held_video = held_video + excluded.held_video,
        held_chat = held_chat + excluded.held_chat,
        held_remote_other = held_remote_other + excluded.held_remote_other,
        missed_remote = missed_remote + excluded.missed_remote,
        missed_no_device = missed_no_device + excluded.missed_no_device,
        missed_no_connection = missed_no_connection + excluded.missed_no_connection;
END;
CREATE TRIGGER session_days_upd_new
AFTER UPDATE OF org_id, starts_at, worker_id, mode, status, missed_reason ON sessions_care
WHEN NEW.status IN ('held', 'missed') BEGIN
    INSERT INTO session_days VALUES (NEW.org_id, substr(NEW.starts_at, 1, 10), NEW.worker_id,
        NEW.status = 'held' AND NEW.mode = 'in_person',
        NEW.status = 'held' AND NEW.mode = 'phone',
        NEW.status = 'held' AND NEW.mode = 'video',
        NEW.status = 'held' AND NEW.mode = 'chat',
        NEW.status = 'held' AND NEW.mode NOT IN ('in_person', 'phone', 'video', 'chat'),
        NEW.status = 'missed' AND NEW.mode <> 'in_person',
        NEW.status = 'missed' AND NEW.mode <> 'in_person' AND NEW.missed_reason IS 'no_device',
        NEW.status = 'missed' AND NEW.mode <> 'in_person'
            AND NEW.missed_reason IS 'no_connection')
    ON CONFLICT (org_id, day, worker_id) DO UPDATE SET
        held_in_person = held_in_person + excluded.held_in_person,
        held_phone = held_phone + excluded.held_phone,
        held_video = held_video + excluded.held_video,
        held_chat = held_chat + excluded.held_chat,
        held_remote_other = held_remote_other + excluded.held_remote_other,
        missed_remote = missed_remote + excluded.missed_remote,
        missed_no_device = missed_no_device + excluded.missed_no_device,
        missed_no_connection = missed_no_connection + excluded.missed_no_connection;
END;

-- An open case's share of case_open_days, taken back and added the same way.
CREATE TRIGGER case_open_days_ins AFTER INSERT ON cases WHEN NEW.status = 'open' BEGIN
    INSERT INTO case_open_days VALUES (NEW.org_id, NEW.worker_id, NEW.risk_level,
        NEW.next_contact IS NOT NULL, COALESCE(NEW.next_contact, ''), 1, NEW.urgent = 1,
        NEW.pending IS NOT NULL)
    ON CONFLICT (org_id, worker_id, risk_level, has_next, next_contact) DO UPDATE SET
        n_open = n_open + excluded.n_open, n_urgent = n_urgent + excluded.n_urgent,
        n_pending = n_pending + excluded.n_pending;
END;
CREATE TRIGGER case_open_days_del AFTER DELETE ON cases WHEN OLD.status = 'open' BEGIN
    INSERT INTO case_open_days VALUES (OLD.org_id, OLD.worker_id, OLD.risk_level,
        OLD.next_contact IS NOT NULL, COALESCE(OLD.next_contact, ''), -1, -(OLD.urgent = 1),
        -(OLD.pending IS NOT NULL))
    ON CONFLICT (org_id, worker_id, risk_level, has_next, next_contact) DO UPDATE SET
        n_open = n_open + excluded.n_open, n_urgent = n_urgent + excluded.n_urgent,
        n_pending = n_pending + excluded.n_pending;
END;
CREATE TRIGGER case_open_days_upd_old
AFTER UPDATE OF org_id, worker_id, risk_level, next_contact, status, urgent, pending ON cases
WHEN OLD.status = 'open' BEGIN
    INSERT INTO case_open_days VALUES (OLD.org_id, OLD.worker_id, OLD.risk_level,
        OLD.next_contact IS NOT NULL, COALESCE(OLD.next_contact, ''), -1, -(OLD.urgent = 1),
        -(OLD.pending IS NOT NULL))
    ON CONFLICT (org_id, worker_id, risk_level, has_next, next_contact) DO UPDATE SET
        n_open = n_open + excluded.n_open, n_urgent = n_urgent + excluded.n_urgent,
        n_pending = n_pending + excluded.n_pending;
END;
CREATE TRIGGER case_open_days_upd_new
AFTER UPDATE OF org_id, worker_id, risk_level, next_contact, status, urgent, pending ON cases
WHEN NEW.status = 'open' BEGIN
    INSERT INTO case_open_days VALUES (NEW.org_id, NEW.worker_id, NEW.risk_level,
        NEW.next_contact IS NOT NULL, COALESCE(NEW.next_contact, ''), 1, NEW.urgent = 1,
        NEW.pending IS NOT NULL)
    ON CONFLICT (org_id, worker_id, risk_level, has_next, next_contact) DO UPDATE SET
        n_open = n_open + excluded.n_open, n_urgent = n_urgent + excluded.n_urgent,
        n_pending = n_pending + excluded.n_pending;
END;
-- @all

-- @postgres
-- The first day of a follow-up's contact window: day minus n days, or NULL
-- for a day that is not a date (as SQLite's date() answers; a cast alone
-- would fail the write that fired the trigger).
CREATE FUNCTION case_window_start(day TEXT, n INTEGER) RETURNS TEXT AS $$
BEGIN
    IF day IS NULL OR day !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}' THEN
        RETURN NULL;
    END IF;
    RETURN to_char(CAST(substr(day, 1, 10) AS date) - n, 'YYYY-MM-DD');
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$ LANGUAGE plpgsql IMMUTABLE;

CREATE VIEW case_followup_state AS
SELECT c.id AS case_id, c.org_id AS org_id, c.worker_id AS worker_id,
       c.next_contact AS next_contact,
       CASE WHEN EXISTS (SELECT 1 FROM sessions_care s WHERE s.case_id = c.id
                         AND s.status = 'held'
                         AND s.starts_at >= case_window_start(c.next_contact, COALESCE(
                             (SELECT w.days FROM case_contact_windows w
                              WHERE w.risk_level = c.risk_level),
                             (SELECT w.days FROM case_contact_windows w
                              WHERE w.risk_level = 'medium')))
                         AND s.starts_at <= c.next_contact || 'T99')
              OR EXISTS (SELECT 1 FROM case_events v WHERE v.case_id = c.id
                         AND v.at >= case_window_start(c.next_contact, COALESCE(
                             (SELECT w.days FROM case_contact_windows w
                              WHERE w.risk_level = c.risk_level),
                             (SELECT w.days FROM case_contact_windows w
                              WHERE w.risk_level = 'medium')))
                         AND v.at <= c.next_contact || 'T99')
            THEN 1 ELSE 0 END AS on_time
FROM cases c WHERE c.next_contact IS NOT NULL;

-- Writes one case's row of case_followups again. The case's row lock is taken
-- first, so that two transactions touching the same case (a session held
-- while the next contact moves) refresh one after the other, the second
-- seeing what the first committed (READ COMMITTED: each statement here takes
-- a new snapshot).
CREATE FUNCTION case_followups_refresh(cid TEXT) RETURNS void AS $$
BEGIN
    IF cid IS NULL THEN
        RETURN;
    END IF;
    PERFORM 1 FROM cases WHERE id = cid FOR NO KEY UPDATE;
    DELETE FROM case_followups WHERE case_id = cid;
    INSERT INTO case_followups SELECT * FROM case_followup_state WHERE case_id = cid;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION case_followups_on_case() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM case_followups_refresh(OLD.id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.id IS DISTINCT FROM OLD.id) THEN
        PERFORM case_followups_refresh(NEW.id);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER case_followups_case
AFTER INSERT OR DELETE OR UPDATE OF id, org_id, worker_id, next_contact, risk_level ON cases
FOR EACH ROW EXECUTE FUNCTION case_followups_on_case();

CREATE FUNCTION case_followups_on_session() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status = 'held' THEN
            PERFORM case_followups_refresh(NEW.case_id);
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        IF OLD.status = 'held' THEN
            PERFORM case_followups_refresh(OLD.case_id);
        END IF;
    ELSIF OLD.status = 'held' OR NEW.status = 'held' THEN
        PERFORM case_followups_refresh(OLD.case_id);
        IF NEW.case_id IS DISTINCT FROM OLD.case_id THEN
            PERFORM case_followups_refresh(NEW.case_id);
        END IF;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER case_followups_session
AFTER INSERT OR DELETE OR UPDATE OF case_id, status, starts_at ON sessions_care
FOR EACH ROW EXECUTE FUNCTION case_followups_on_session();

CREATE FUNCTION case_followups_on_event() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM case_followups_refresh(OLD.case_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.case_id IS DISTINCT FROM OLD.case_id) THEN
        PERFORM case_followups_refresh(NEW.case_id);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER case_followups_event
AFTER INSERT OR DELETE OR UPDATE OF case_id, at ON case_events
FOR EACH ROW EXECUTE FUNCTION case_followups_on_event();

-- Adds k times a session's share to session_days (k is 1 or -1).
CREATE FUNCTION session_days_add(s sessions_care, k INTEGER) RETURNS void AS $$
BEGIN
    IF s.status IS NULL OR s.status NOT IN ('held', 'missed') THEN
        RETURN;
    END IF;
    INSERT INTO session_days VALUES (s.org_id, substr(s.starts_at, 1, 10), s.worker_id,
        k * (CASE WHEN s.status = 'held' AND s.mode = 'in_person' THEN 1 ELSE 0 END),
        k * (CASE WHEN s.status = 'held' AND s.mode = 'phone' THEN 1 ELSE 0 END),
        k * (CASE WHEN s.status = 'held' AND s.mode = 'video' THEN 1 ELSE 0 END),
        k * (CASE WHEN s.status = 'held' AND s.mode = 'chat' THEN 1 ELSE 0 END),
        k * (CASE WHEN s.status = 'held' AND s.mode NOT IN ('in_person', 'phone', 'video', 'chat')
             THEN 1 ELSE 0 END),
        k * (CASE WHEN s.status = 'missed' AND s.mode <> 'in_person' THEN 1 ELSE 0 END),
        k * (CASE WHEN s.status = 'missed' AND s.mode <> 'in_person'
             AND s.missed_reason = 'no_device' THEN 1 ELSE 0 END),
        k * (CASE WHEN s.status = 'missed' AND s.mode <> 'in_person'
             AND s.missed_reason = 'no_connection' THEN 1 ELSE 0 END))
    ON CONFLICT (org_id, day, worker_id) DO UPDATE SET
        held_in_person = session_days.held_in_person + excluded.held_in_person,
        held_phone = session_days.held_phone + excluded.held_phone,
        held_video = session_days.held_video + excluded.held_video,
        held_chat = session_days.held_chat + excluded.held_chat,
        held_remote_other = session_days.held_remote_other + excluded.held_remote_other,
        missed_remote = session_days.missed_remote + excluded.missed_remote,
        missed_no_device = session_days.missed_no_device + excluded.missed_no_device,
        missed_no_connection = session_days.missed_no_connection + excluded.missed_no_connection;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION session_days_on_session() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM session_days_add(OLD, -1);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM session_days_add(NEW, 1);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER session_days_session
AFTER INSERT OR DELETE OR UPDATE OF org_id, starts_at, worker_id, mode, status, missed_reason
ON sessions_care FOR EACH ROW EXECUTE FUNCTION session_days_on_session();

-- Adds k times an open case's share to case_open_days (k is 1 or -1).
CREATE FUNCTION case_open_days_add(c cases, k INTEGER) RETURNS void AS $$
BEGIN
    IF c.status IS DISTINCT FROM 'open' THEN
        RETURN;
    END IF;
    INSERT INTO case_open_days VALUES (c.org_id, c.worker_id, c.risk_level,
        CASE WHEN c.next_contact IS NULL THEN 0 ELSE 1 END, COALESCE(c.next_contact, ''), k,
        k * (CASE WHEN c.urgent = 1 THEN 1 ELSE 0 END),
        k * (CASE WHEN c.pending IS NOT NULL THEN 1 ELSE 0 END))
    ON CONFLICT (org_id, worker_id, risk_level, has_next, next_contact) DO UPDATE SET
        n_open = case_open_days.n_open + excluded.n_open,
        n_urgent = case_open_days.n_urgent + excluded.n_urgent,
        n_pending = case_open_days.n_pending + excluded.n_pending;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION case_open_days_on_case() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM case_open_days_add(OLD, -1);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM case_open_days_add(NEW, 1);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER case_open_days_case
AFTER INSERT OR DELETE OR UPDATE OF org_id, worker_id, risk_level, next_contact, status, urgent,
    pending ON cases
FOR EACH ROW EXECUTE FUNCTION case_open_days_on_case();
-- @all

-- The summaries of what is already there.
INSERT INTO case_followups SELECT * FROM case_followup_state;
INSERT INTO session_days
SELECT org_id, substr(starts_at, 1, 10), worker_id,
       SUM(CASE WHEN status = 'held' AND mode = 'in_person' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'held' AND mode = 'phone' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'held' AND mode = 'video' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'held' AND mode = 'chat' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'held' AND mode NOT IN ('in_person', 'phone', 'video', 'chat')
           THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'missed' AND mode <> 'in_person' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'missed' AND mode <> 'in_person' AND missed_reason = 'no_device'
           THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'missed' AND mode <> 'in_person'
           AND missed_reason = 'no_connection' THEN 1 ELSE 0 END)
FROM sessions_care WHERE status IN ('held', 'missed')
GROUP BY org_id, substr(starts_at, 1, 10), worker_id;
INSERT INTO case_open_days
SELECT org_id, worker_id, risk_level, CASE WHEN next_contact IS NULL THEN 0 ELSE 1 END,
       COALESCE(next_contact, ''), COUNT(*), SUM(CASE WHEN urgent = 1 THEN 1 ELSE 0 END),
       SUM(CASE WHEN pending IS NOT NULL THEN 1 ELSE 0 END)
FROM cases WHERE status = 'open'
GROUP BY org_id, worker_id, risk_level, CASE WHEN next_contact IS NULL THEN 0 ELSE 1 END,
         COALESCE(next_contact, '');
