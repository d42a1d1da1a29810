-- Per-organization data keys, each wrapped (XChaCha20-Poly1305) by the master
-- key that lives in a file outside the database. A database dump alone yields
-- no key and so no plaintext of the encrypted fields.
CREATE TABLE org_keys (
    org_id      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    wrapped     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (org_id, version)
);
