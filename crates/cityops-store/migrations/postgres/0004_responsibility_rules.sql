-- The responsibility matrix: category (prefix) x area subtree x optional component owner -> unit.
CREATE TABLE responsibility_rules (
    position BIGINT PRIMARY KEY,
    category TEXT NOT NULL,
    area TEXT NOT NULL,
    owner TEXT,
    unit TEXT NOT NULL
);
