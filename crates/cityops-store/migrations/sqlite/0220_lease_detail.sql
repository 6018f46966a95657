-- What a lease's holder says of itself: a running node's presence lease carries its release
-- and when it started, so that the administration sees old and new nodes side by side
-- during a rolling upgrade. Nullable: duty leases and nodes of earlier releases leave it out.
ALTER TABLE leases ADD COLUMN detail TEXT;
