-- Sponsorship agreements: one active or paused agreement per child and
-- purpose (several sponsors of one child are split by purpose). The services
-- check it before writing (src/sponsorship/agreements.c, "purpose_taken");
-- this index makes it hold when two officers save at the same moment.
CREATE UNIQUE INDEX sponsorships_child_purpose_live ON sponsorships (child_id, purpose)
    WHERE status IN ('active', 'paused');

-- The waiting list looks up a child's agreements by child and status, and
-- the home page the organization's pending agreements in creation order.
CREATE INDEX sponsorships_org_pending ON sponsorships (org_id, status, created_at);
