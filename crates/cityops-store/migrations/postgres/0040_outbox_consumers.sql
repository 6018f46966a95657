-- Who reads the outbox, and how far. Each consumer (a node's relay to its live stream, named
-- by its `node_name`) records the last outbox id it has seen; a row every consumer has seen
-- and older than the retention may then be deleted, so the outbox no longer grows without
-- bound. A consumer silent for longer than the retention holds nothing back.
CREATE TABLE outbox_consumers (
    name TEXT PRIMARY KEY,
    last_seen BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
