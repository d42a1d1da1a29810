-- Indexes for fast children search at a million children (src/children/search.c).
--
-- A name query walks the index range of its rarest word and checks every
-- other word per child: one probe of (child_id, norm, skel), answered from
-- the index alone. It replaces the (child_id) index of 0005, its prefix
-- (deleting a child's keys still uses it).
DROP INDEX child_name_keys_child;
CREATE INDEX child_name_keys_child_keys ON child_name_keys (child_id, norm, skel);

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
