-- Merging duplicate records of a child (src/children/dedup.c).
--
-- The absorbed record is kept, closed with the reason "duplicate", and
-- points at the record it was merged into; child_merges keeps what moved.
ALTER TABLE children ADD COLUMN merged_into TEXT REFERENCES children(id);
CREATE INDEX children_merged_into ON children (merged_into);

CREATE TABLE child_merges (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL,
    kept_id      TEXT NOT NULL REFERENCES children(id),
    absorbed_id  TEXT NOT NULL REFERENCES children(id) UNIQUE,
    filled       TEXT,
    moved        TEXT NOT NULL,
    score        TEXT,
    by_user      TEXT NOT NULL,
    at           TEXT NOT NULL
);
CREATE INDEX child_merges_kept ON child_merges (kept_id);

-- The organization's "different children" decisions, read as a whole by the
-- possible-duplicates page.
CREATE INDEX child_distinct_org ON child_distinct (org_id);
