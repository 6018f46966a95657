-- Nothing to change here: SQLite gains a trigger that moves the audit chain's head with each
-- appended entry (its 0011). PostgreSQL appends with a data-modifying WITH that moves the
-- head in the same statement as the insert, and only if the head is the one the entries
-- were computed from.
SELECT 1;
