-- Indexes for fast children search at a million children (src/children/search.c).
--
-- A name query walks the index range of its rarest word and checks every
-- other word per child: one probe of (child_id, norm, skel), answered from
-- the index alone. It replaces the (child_id) index of 0005, its prefix
-- (deleting a child's keys still uses it).
DROP INDEX child_name_keys_child;
CREATE INDEX child_name_keys_child_keys ON child_name_keys (child_id, norm, skel);

-- Every key row carries two 63-bit Bloom signatures of all its child's keys
-- (sig_n: normalized forms; sig_p: their first two and three letters and
-- the skeletons). Walking the rarest word's range, the rows whose child
-- cannot hold the other words are dropped from the index entry itself,
-- before any probe. NULL (rows written before this migration, until the
-- child is saved again) lets every row through.
ALTER TABLE child_name_keys ADD COLUMN sig_n BIGINT;
ALTER TABLE child_name_keys ADD COLUMN sig_p BIGINT;
DROP INDEX child_name_keys_org_norm;
DROP INDEX child_name_keys_org_skel;
CREATE INDEX child_name_keys_org_norm ON child_name_keys (org_id, norm, child_id, sig_n, sig_p);
CREATE INDEX child_name_keys_org_skel ON child_name_keys (org_id, skel, child_id, sig_n, sig_p);

-- When a search matches more than a thousand children, its page is found by
-- walking the children in the requested order: by name (also the order for
-- relevance) and by registration date need their own index; file numbers
-- (UNIQUE (org_id, file_no)) and birth dates (0005) have one. The name
-- expressions are exactly those of the ORDER BY in search.c: the first 60
-- characters of each name (a record takes no longer one), so that an index
-- row stays under PostgreSQL's limit whatever a row written by hand holds.
CREATE INDEX children_org_name ON children (org_id, (substr(first_name, 1, 60)),
    (substr(father_name, 1, 60)), (substr(COALESCE(grandfather_name, ''), 1, 60)),
    (substr(COALESCE(family_name, ''), 1, 60)), id);
CREATE INDEX children_org_created ON children (org_id, created_at, id);
