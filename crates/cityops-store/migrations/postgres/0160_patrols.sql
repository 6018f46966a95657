-- Patrols (巡查): an inspector's time on duty and the positions their phone reported. The
-- patrol's figures (positions, length, last fix) live in its document, recomputed from the
-- track at every batch; the track is one row per fix, its time the key, so a batch the phone
-- sends twice adds nothing. At most one patrol per inspector is open.
CREATE TABLE patrols (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    area TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    doc TEXT NOT NULL
);
CREATE UNIQUE INDEX patrols_one_open ON patrols (user_id) WHERE ended_at IS NULL;
CREATE INDEX patrols_started ON patrols (started_at);
CREATE TABLE patrol_fixes (
    patrol_id TEXT NOT NULL REFERENCES patrols (id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    accuracy_m DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (patrol_id, at)
);
