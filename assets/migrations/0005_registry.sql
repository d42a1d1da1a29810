-- The children and families registry. Every row belongs to an organization.
-- Health fields are stored sealed (see src/keys); the rest in the clear.

CREATE TABLE org_settings (
    org_id        TEXT PRIMARY KEY REFERENCES organizations(id),
    file_pattern  TEXT NOT NULL DEFAULT '{ORG}-{YYYY}-{NNNNNN}',
    age_limit     INTEGER NOT NULL DEFAULT 18
);

CREATE TABLE file_counters (
    org_id  TEXT NOT NULL,
    year    INTEGER NOT NULL,
    last    BIGINT NOT NULL,
    PRIMARY KEY (org_id, year)
);

CREATE TABLE households (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    name        TEXT NOT NULL,
    governorate TEXT,
    district    TEXT,
    locality    TEXT,
    camp        TEXT,
    shelter     TEXT,
    phone       TEXT,
    notes       TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX households_org ON households (org_id);

CREATE TABLE guardians (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations(id),
    household_id   TEXT REFERENCES households(id),
    full_name      TEXT NOT NULL,
    relation       TEXT NOT NULL,
    phone          TEXT,
    phone_digits   TEXT,
    id_doc_type    TEXT,
    id_doc_number  TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX guardians_org_phone ON guardians (org_id, phone_digits);
CREATE INDEX guardians_household ON guardians (household_id);

CREATE TABLE children (
    id                      TEXT PRIMARY KEY,
    org_id                  TEXT NOT NULL REFERENCES organizations(id),
    file_no                 TEXT NOT NULL,
    first_name              TEXT NOT NULL,
    father_name             TEXT NOT NULL,
    grandfather_name        TEXT,
    family_name             TEXT,
    mother_name             TEXT,
    first_name_latin        TEXT,
    father_name_latin       TEXT,
    grandfather_name_latin  TEXT,
    family_name_latin       TEXT,
    sex                     TEXT NOT NULL,
    birth_date              TEXT NOT NULL,
    birth_date_estimated    INTEGER NOT NULL DEFAULT 0,
    birth_place             TEXT,
    nationality             TEXT,
    id_doc_type             TEXT,
    id_doc_number           TEXT,
    id_doc_issuer           TEXT,
    orphan_status           TEXT NOT NULL,
    father_death_date       TEXT,
    mother_death_date       TEXT,
    death_document          TEXT,
    living_situation        TEXT,
    governorate             TEXT,
    district                TEXT,
    locality                TEXT,
    camp                    TEXT,
    shelter                 TEXT,
    latitude                TEXT,
    longitude               TEXT,
    school_name             TEXT,
    school_grade            TEXT,
    school_attendance       TEXT,
    school_results          TEXT,
    health_conditions       TEXT,
    disability              TEXT,
    medication              TEXT,
    needs                   TEXT,
    languages               TEXT,
    household_id            TEXT REFERENCES households(id),
    guardian_id             TEXT REFERENCES guardians(id),
    status                  TEXT NOT NULL,
    status_reason           TEXT,
    sponsored               INTEGER NOT NULL DEFAULT 0,
    created_by              TEXT NOT NULL,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    version                 INTEGER NOT NULL DEFAULT 1,
    UNIQUE (org_id, file_no)
);
CREATE INDEX children_org_status ON children (org_id, status);
CREATE INDEX children_org_birth ON children (org_id, birth_date);
CREATE INDEX children_org_iddoc ON children (org_id, id_doc_number);
CREATE INDEX children_household ON children (household_id);

-- Normalized name keys for Arabic-tolerant search (one row per name field).
CREATE TABLE child_name_keys (
    org_id    TEXT NOT NULL,
    child_id  TEXT NOT NULL REFERENCES children(id),
    field     TEXT NOT NULL,
    norm      TEXT NOT NULL,
    skel      TEXT NOT NULL
);
CREATE INDEX child_name_keys_norm ON child_name_keys (org_id, norm);
CREATE INDEX child_name_keys_skel ON child_name_keys (org_id, skel);
CREATE INDEX child_name_keys_child ON child_name_keys (child_id);

CREATE TABLE child_status_history (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL,
    child_id     TEXT NOT NULL REFERENCES children(id),
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    reason       TEXT,
    by_user      TEXT NOT NULL,
    at           TEXT NOT NULL
);
CREATE INDEX child_status_history_child ON child_status_history (child_id, at);

CREATE TABLE child_guardian_history (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL,
    child_id     TEXT NOT NULL REFERENCES children(id),
    guardian_id  TEXT REFERENCES guardians(id),
    household_id TEXT REFERENCES households(id),
    reason       TEXT,
    by_user      TEXT NOT NULL,
    at           TEXT NOT NULL
);
CREATE INDEX child_guardian_history_child ON child_guardian_history (child_id, at);

CREATE TABLE consents (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL,
    child_id          TEXT NOT NULL REFERENCES children(id),
    scope             TEXT NOT NULL,
    target_org        TEXT,
    guardian_consent  INTEGER NOT NULL,
    child_assent      INTEGER NOT NULL,
    given_by          TEXT,
    legal_basis       TEXT,
    recorded_by       TEXT NOT NULL,
    recorded_at       TEXT NOT NULL,
    withdrawn_at      TEXT,
    withdrawn_by      TEXT
);
CREATE INDEX consents_child ON consents (child_id, scope);

CREATE TABLE child_documents (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL,
    child_id      TEXT NOT NULL REFERENCES children(id),
    kind          TEXT NOT NULL,
    filename      TEXT NOT NULL,
    stored_name   TEXT NOT NULL UNIQUE,
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    uploaded_by   TEXT NOT NULL,
    uploaded_at   TEXT NOT NULL,
    deleted_at    TEXT
);
CREATE INDEX child_documents_child ON child_documents (child_id);

-- "Different child" decisions at registration, so the same pair is not asked again.
CREATE TABLE child_distinct (
    org_id      TEXT NOT NULL,
    child_a     TEXT NOT NULL,
    child_b     TEXT NOT NULL,
    decided_by  TEXT NOT NULL,
    decided_at  TEXT NOT NULL,
    PRIMARY KEY (child_a, child_b)
);
