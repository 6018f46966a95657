-- Digital vital signs: the indicator catalogue, devices, telemetry rules, alarms, readings,
-- their rollups and the dead letters of ingestion.
CREATE TABLE indicators (
    key TEXT PRIMARY KEY,
    position BIGINT NOT NULL,
    doc TEXT NOT NULL
);

CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    area TEXT NOT NULL,
    status TEXT NOT NULL,
    doc TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX devices_area ON devices (area);

CREATE TABLE telemetry_rules (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE alarms (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    level TEXT NOT NULL,
    active BIGINT NOT NULL,
    acknowledged BIGINT NOT NULL,
    area TEXT NOT NULL,
    raised_at BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    case_id TEXT,
    doc TEXT NOT NULL
);
-- One active alarm per device and rule, whatever the writers do.
CREATE UNIQUE INDEX alarms_one_active ON alarms (device_id, rule_id) WHERE active = 1;
CREATE INDEX alarms_area ON alarms (area, raised_at);
CREATE INDEX alarms_raised ON alarms (raised_at);

-- Raw readings, de-duplicated by (device, indicator, timestamp); kept for a window.
CREATE TABLE readings (
    device_id TEXT NOT NULL,
    indicator TEXT NOT NULL,
    at BIGINT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (device_id, indicator, at)
);
CREATE INDEX readings_at ON readings (at);

-- Per-area downsampled history for charts: resolution 'minute' or 'hour'.
CREATE TABLE rollups (
    resolution TEXT NOT NULL,
    area TEXT NOT NULL,
    indicator TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    count BIGINT NOT NULL,
    sum DOUBLE PRECISION NOT NULL,
    min DOUBLE PRECISION NOT NULL,
    max DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (resolution, area, indicator, bucket)
);

-- Payloads ingestion could not use, bounded, for integrators to inspect.
CREATE TABLE dead_letters (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at BIGINT NOT NULL,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    payload TEXT NOT NULL
);
