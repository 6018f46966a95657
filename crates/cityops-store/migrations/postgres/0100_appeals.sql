-- Appeals (申诉): how many of a case's appeals wait for an evaluator's decision, so the
-- evaluators' queue reads only the cases that have one.
ALTER TABLE cases ADD COLUMN appeals_pending INTEGER NOT NULL DEFAULT 0;
CREATE INDEX cases_appeals_pending ON cases (appeals_pending) WHERE appeals_pending > 0;
