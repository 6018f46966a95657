-- Inspectors (网格监督员) assigned to responsibility grids (责任网格): a report in a grid takes
-- its inspector, who is sent its verification and check, and who missed it when someone
-- else reported it. A case keeps the inspector it was reported under, in a column its
-- inspector's queue is read by.
CREATE TABLE grid_inspectors (
    grid TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    assigned_by TEXT NOT NULL,
    assigned_at BIGINT NOT NULL
);
CREATE INDEX grid_inspectors_user ON grid_inspectors (user_id);
ALTER TABLE cases ADD COLUMN inspector TEXT;
CREATE INDEX cases_inspector_state ON cases (inspector, state);
