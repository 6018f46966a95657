-- The open cases counted per what the city screen tells them apart by (area, unit, class,
-- urgent, supervised), moved in the transaction that moves a case: the screen of a city with
-- ten million cases sums these few rows instead of reading every case. '' stands for none.
CREATE TABLE case_tallies (
    area TEXT NOT NULL,
    unit TEXT NOT NULL,
    category TEXT NOT NULL,
    urgent BIGINT NOT NULL,
    supervised BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (area, unit, category, urgent, supervised)
);
INSERT INTO case_tallies (area, unit, category, urgent, supervised, n)
SELECT area, COALESCE(unit, ''), COALESCE(category, ''), urgent, supervised, COUNT(*)
FROM cases
WHERE state NOT IN ('invalid', 'closed', 'cancelled')
GROUP BY area, COALESCE(unit, ''), COALESCE(category, ''), urgent, supervised;

-- The screen's other reads are ranges of time, each answered from its index alone (the area
-- and whatever else it counts by are in the index, so no case row is read): the overdue cases,
-- those whose running deadline is past (the column is empty for a case finished or parked, so
-- this index holds only the open cases with a clock), and today's reports and closings.
CREATE INDEX cases_deadline ON cases (deadline, area, unit) WHERE deadline IS NOT NULL;
DROP INDEX cases_created;
CREATE INDEX cases_created ON cases (created_at, area, unit, source, category);
DROP INDEX cases_closed;
CREATE INDEX cases_closed ON cases (closed_at, state, area, unit);
