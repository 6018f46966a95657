-- The limits every node sharing the database must hold together (several nodes behind one
-- load balancer): failed sign-ins counted per (account, address) pair and per alert subject,
-- and the public per-address budgets as a GCRA's theoretical arrival time. Times in ms.
-- Rows hold account names and addresses: the retention duty deletes them once forgotten.
CREATE TABLE limit_counts (
    key TEXT PRIMARY KEY,
    count BIGINT NOT NULL,
    first_at BIGINT NOT NULL,
    last_at BIGINT NOT NULL
);

CREATE TABLE limit_budgets (
    key TEXT PRIMARY KEY,
    tat BIGINT NOT NULL
);
