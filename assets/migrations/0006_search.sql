-- Indexes for children search (src/children/search.c).
--
-- Name keys are compared byte-wise: prefix searches are range scans
-- (norm >= 'x' AND norm < 'x' || U+10FFFF), which are only right under a
-- byte-order collation. SQLite's default (BINARY) is one; on PostgreSQL the
-- columns are given the "C" collation whatever the database's locale.
-- @postgres
ALTER TABLE child_name_keys ALTER COLUMN norm TYPE TEXT COLLATE "C";
ALTER TABLE child_name_keys ALTER COLUMN skel TYPE TEXT COLLATE "C";
ALTER TABLE children ALTER COLUMN file_no TYPE TEXT COLLATE "C";
-- @all

-- Covering indexes: a name word is answered from the index alone (the
-- child id is in it), without visiting the table. They replace the
-- (org_id, norm) and (org_id, skel) indexes of 0005, their prefixes.
DROP INDEX child_name_keys_norm;
DROP INDEX child_name_keys_skel;
CREATE INDEX child_name_keys_org_norm ON child_name_keys (org_id, norm, child_id);
CREATE INDEX child_name_keys_org_skel ON child_name_keys (org_id, skel, child_id);

-- A guardian's phone finds the children in their care.
CREATE INDEX children_guardian ON children (guardian_id);
