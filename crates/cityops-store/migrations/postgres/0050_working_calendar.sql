-- The working calendar's holiday schedules, one row per year: the checked schedule (its
-- notices and listed days) as a JSON document. Working hours are configuration, not data.
CREATE TABLE calendar_years (
    year BIGINT PRIMARY KEY,
    doc TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
