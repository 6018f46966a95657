-- Columns the statistics read without parsing case documents.
ALTER TABLE cases ADD COLUMN closed_at BIGINT;
ALTER TABLE cases ADD COLUMN late_count BIGINT NOT NULL DEFAULT 0;
CREATE INDEX cases_closed ON cases (closed_at);
