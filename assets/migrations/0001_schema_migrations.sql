-- 0001: the table that records which migrations have run.
-- db_migrate creates it too (before reading it), so this file is the
-- documented shape of the table and makes version 1 the first version.
-- Later migrations: one NNNN_name.sql file each, written in the portable
-- subset; engine-only parts go after `-- @sqlite` or `-- @postgres` lines,
-- and `-- @all` returns to text for both.
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
);
