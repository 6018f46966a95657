-- Photos of a unit's report on its task in an incident, stored as uploaded cases' are: the
-- file (cleaned of EXIF) under the data directory, its row here; a task's report names them.
CREATE TABLE incident_photos (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    task BIGINT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    path TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    UNIQUE (incident_id, task, sha256)
);
