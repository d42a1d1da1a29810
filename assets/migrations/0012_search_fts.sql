-- Name search on SQLite through a full-text index (src/children/search.c).
--
-- At a million children a query of common names (محمد خالد) made the key
-- walk of 0008 read hundreds of thousands of index entries. On SQLite each
-- child now also has one document listing its name keys as terms: "n" and
-- the lower-case hex of each normalized form, "s" and the hex of each
-- skeleton (hex keeps the terms ASCII, so the ascii tokenizer takes them
-- whole, and a prefix of a form is a prefix of its term). A query is one
-- FTS5 expression (each word: its forms, skeletons or prefixes ORed; the
-- words ANDed), answered by merging posting lists. The last word is also
-- a prefix (typing as you go); FTS5 reads the whole posting list of every
-- term of a prefix that has no prefix index (some 50 ms for محمد* at a
-- million children), so there are prefix indexes for 2 to 6 letters:
-- Latin 5, 7, 9, 11, 13 characters, Arabic (two bytes a letter) 9, 13, 17,
-- 21, 25. Longer prefixes cover few terms. The documents' org_id keeps
-- organizations apart.
-- PostgreSQL keeps the key walk of 0008.
-- @sqlite
CREATE TABLE child_name_docs (
    doc       INTEGER PRIMARY KEY,
    org_id    TEXT NOT NULL,
    child_id  TEXT NOT NULL UNIQUE REFERENCES children(id),
    terms     TEXT NOT NULL
);
CREATE VIRTUAL TABLE child_name_fts USING fts5(terms, content='child_name_docs',
    content_rowid='doc', tokenize='ascii', prefix='5 7 9 11 13 17 21 25', detail=none, columnsize=0);
-- Existing keys: one pass over the (child_id, norm, skel) index of 0008 in
-- order (no sort, no temporary table); a norm twice in a document is
-- harmless.
INSERT INTO child_name_docs (org_id, child_id, terms)
    SELECT c.org_id, k.child_id, k.terms FROM (
        SELECT child_id, group_concat('n' || lower(hex(norm)) ||
            CASE WHEN skel <> '' THEN ' s' || lower(hex(skel)) ELSE '' END, ' ') AS terms
        FROM child_name_keys GROUP BY child_id
    ) k CROSS JOIN children c ON c.id = k.child_id;
INSERT INTO child_name_fts (child_name_fts) VALUES ('rebuild');
-- @all
