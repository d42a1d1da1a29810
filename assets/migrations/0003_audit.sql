-- The hash-chained audit log: one chain per organization (org_id '' holds
-- events of no organization). Each entry's hash covers its fields and the
-- previous entry's hash; audit_heads keeps each chain's last entry, so that
-- removing entries from the end is caught too.

CREATE TABLE audit_log (
    org_id      TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    at          TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    remote      TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    PRIMARY KEY (org_id, seq)
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE audit_heads (
    org_id     TEXT PRIMARY KEY,
    seq        BIGINT NOT NULL,
    hash       TEXT NOT NULL
);
