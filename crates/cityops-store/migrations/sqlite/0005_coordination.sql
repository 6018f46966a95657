-- The center whose coordination queue a case waits in (NULL when none).
ALTER TABLE cases ADD COLUMN coordination TEXT;
CREATE INDEX cases_coordination ON cases (coordination);
