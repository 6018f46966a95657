-- The foundation: areas, units, categories, users, sessions, cases, their timeline and outbox.
-- Times are Unix milliseconds (BIGINT) in both dialects so the SQL of the store is shared.
CREATE TABLE areas (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent TEXT
);
CREATE INDEX areas_parent ON areas (parent);

CREATE TABLE units (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    jurisdiction TEXT NOT NULL
);
CREATE INDEX units_jurisdiction ON units (jurisdiction);

CREATE TABLE category_catalog (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    version TEXT NOT NULL,
    doc TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    unit TEXT,
    scope TEXT NOT NULL,
    display_name TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE cases (
    row_no BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    number TEXT NOT NULL UNIQUE,
    version BIGINT NOT NULL,
    state TEXT NOT NULL,
    source TEXT NOT NULL,
    category TEXT,
    area TEXT NOT NULL,
    district TEXT NOT NULL,
    unit TEXT,
    deadline BIGINT,
    urgent BIGINT NOT NULL,
    supervised BIGINT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX cases_state ON cases (state, row_no);
CREATE INDEX cases_area ON cases (area);
CREATE INDEX cases_unit ON cases (unit, state);
CREATE INDEX cases_created ON cases (created_at);

CREATE TABLE case_events (
    case_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);

CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    topic TEXT NOT NULL,
    case_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE case_number_seq (
    district TEXT NOT NULL,
    day TEXT NOT NULL,
    last BIGINT NOT NULL,
    PRIMARY KEY (district, day)
);

CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    path TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_case ON attachments (case_id);
