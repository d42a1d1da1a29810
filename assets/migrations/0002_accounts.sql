-- Organizations (tenants), users, sessions, API tokens, login throttling.
-- Ids are UUIDv7 text; times are ISO-8601 UTC text (people read them) or
-- BIGINT Unix milliseconds where the code compares them.

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL
);

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES organizations(id),
    username            TEXT NOT NULL,
    display_name        TEXT NOT NULL,
    email               TEXT,
    role                TEXT NOT NULL,
    password_hash       TEXT,
    lang                TEXT NOT NULL DEFAULT 'ar',
    active              INTEGER NOT NULL DEFAULT 1,
    totp_secret         TEXT,
    totp_pending        TEXT,
    totp_enabled        INTEGER NOT NULL DEFAULT 0,
    totp_last_step      BIGINT NOT NULL DEFAULT 0,
    invite_hash         TEXT UNIQUE,
    invite_expires_ms   BIGINT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    UNIQUE (org_id, username)
);

CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id),
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    csrf          TEXT NOT NULL,
    mfa_ok        INTEGER NOT NULL,
    created_ms    BIGINT NOT NULL,
    last_seen_ms  BIGINT NOT NULL,
    expires_ms    BIGINT NOT NULL,
    remote        TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    user_id       TEXT NOT NULL REFERENCES users(id),
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_by    TEXT NOT NULL REFERENCES users(id),
    created_at    TEXT NOT NULL,
    last_used_ms  BIGINT,
    revoked_at    TEXT
);

CREATE TABLE login_failures (
    id        TEXT PRIMARY KEY,
    key       TEXT NOT NULL,
    at_ms     BIGINT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at_ms);
