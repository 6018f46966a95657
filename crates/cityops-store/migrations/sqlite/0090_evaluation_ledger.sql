-- The evaluation's ledger: what each timeline event adds to the standard indicators
-- (`cityops_domain::evaluation::entries`), one row per entry, written with the event. A
-- period's figures are sums over its days; every number drills down to its cases.
-- Installations with cases from before are filled by `cityops evaluation rebuild` (the server
-- runs it at start when the ledger is empty and cases exist).
CREATE TABLE evaluation_ledger (
    case_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    day TEXT NOT NULL,
    counter TEXT NOT NULL,
    area TEXT NOT NULL,
    unit_grid TEXT,
    unit TEXT,
    user_id TEXT,
    role TEXT
);
CREATE INDEX evaluation_ledger_day ON evaluation_ledger (day, counter);
CREATE INDEX evaluation_ledger_case ON evaluation_ledger (case_id, seq);
