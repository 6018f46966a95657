-- The evaluation's monthly sums: the daily sums added up per month (`YYYY-MM`), kept in the same
-- transaction as the daily ones. A period reads its whole months here and only its first and
-- last partial months' days from `evaluation_daily`, so a year costs about as much as a month.
CREATE TABLE evaluation_monthly (
    level TEXT NOT NULL,
    month TEXT NOT NULL,
    subject TEXT NOT NULL,
    role TEXT NOT NULL,
    counter TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (level, month, subject, role, counter)
);
INSERT INTO evaluation_monthly (level, month, subject, role, counter, n)
SELECT level, substr(day, 1, 7), subject, role, counter, SUM(n)
FROM evaluation_daily
GROUP BY level, substr(day, 1, 7), subject, role, counter;
