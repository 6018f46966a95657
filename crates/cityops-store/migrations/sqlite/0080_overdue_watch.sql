-- The overdue watch. `watch_at` is the next moment the watch must look at a case
-- (`Case::watch_at`: the running stage's yellow point, its deadline, the next escalation step,
-- an open supervision notice's deadline), so the watch reads only the cases whose moment has
-- come instead of scanning them all. Cases from before the watch are first looked at when
-- their deadline passes.
ALTER TABLE cases ADD COLUMN watch_at BIGINT;
UPDATE cases SET watch_at = deadline WHERE deadline IS NOT NULL;
CREATE INDEX cases_watch_at ON cases (watch_at) WHERE watch_at IS NOT NULL;

-- Leases: a named duty that exactly one process holds at a time among all that share the
-- database (the overdue watch). A holder renews its lease before it expires; another process
-- takes it over only once it has.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
