-- The evaluation's daily sums: for each day, level (district, street, community, grid, unit,
-- position) and subject, how many entries of each counter the ledger holds. Kept in the same
-- transaction as the ledger rows they sum, so a period's figures read one row per subject,
-- counter and day instead of every entry. Filled from the ledger at start when empty
-- (`cityops evaluation rebuild` rebuilds both; `check` compares them with a recomputation).
CREATE TABLE evaluation_daily (
    level TEXT NOT NULL,
    day TEXT NOT NULL,
    subject TEXT NOT NULL,
    role TEXT NOT NULL,
    counter TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (level, day, subject, role, counter)
);
