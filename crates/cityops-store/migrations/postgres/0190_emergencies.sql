-- Emergencies (应急): warnings, incidents with their timelines and links, and contingency
-- plans. Each is a JSON document beside the columns its reads filter on; a document is
-- written against the version it was read at.
CREATE TABLE warnings (
    id TEXT PRIMARY KEY,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    lifted_at BIGINT,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX warnings_expiry ON warnings (expires_at);
-- The CAP alerts (sender|identifier) applied to a warning: the one that issued it and the
-- updates and cancellation that referenced it. An alert is applied once.
CREATE TABLE warning_cap_keys (
    cap_key TEXT PRIMARY KEY,
    warning_id TEXT NOT NULL REFERENCES warnings (id)
);
CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX incidents_opened ON incidents (opened_at);
CREATE TABLE incident_events (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (incident_id, seq)
);
-- The alarms and cases an incident holds: linked by hand or by area while it is active
-- (`auto` 1), unlinked by hand (`unlinked` 1, so the automatic link does not come back).
CREATE TABLE incident_links (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    at BIGINT NOT NULL,
    auto BIGINT NOT NULL,
    unlinked BIGINT NOT NULL,
    PRIMARY KEY (incident_id, kind, target)
);
CREATE TABLE contingency_plans (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);
