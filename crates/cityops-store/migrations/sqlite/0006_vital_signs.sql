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

-- Raw readings as an append-only log: one row per committed ingestion batch, its readings
-- in the order the rule engine judged them (compact JSON: device and indicator tables plus
-- rows). Appending one row per batch is what keeps durable ingestion at the broker's pace; a
-- restart replays the log's tail in the same order. Kept for a configurable window.
CREATE TABLE reading_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    first_at BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    count BIGINT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX reading_batches_last_at ON reading_batches (last_at);

-- The last reading batch whose readings are in the rollups (written with the rollups).
CREATE TABLE rollup_watermark (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    batch BIGINT NOT NULL
);

-- Per-area downsampled history for charts: resolution 'minute' or 'hour'.
CREATE TABLE rollups (
    resolution TEXT NOT NULL,
    area TEXT NOT NULL,
    indicator TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    count BIGINT NOT NULL,
    sum REAL NOT NULL,
    min REAL NOT NULL,
    max REAL NOT NULL,
    PRIMARY KEY (resolution, area, indicator, bucket)
);

-- Payloads ingestion could not use, bounded, for integrators to inspect.
CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at BIGINT NOT NULL,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    payload TEXT NOT NULL
);
