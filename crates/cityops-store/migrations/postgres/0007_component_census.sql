-- The component census (部件普查) and imported area boundaries.
CREATE TABLE components (
    id TEXT PRIMARY KEY,
    class TEXT NOT NULL,
    area TEXT NOT NULL,
    status TEXT NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    doc TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX components_area ON components (area, id);
CREATE INDEX components_lon ON components (lon);

-- Boundaries a city imported (GeoJSON geometry, WGS-84) replace the generated ones of their
-- level: one row per area, its level one of district, street, community, grid.
CREATE TABLE boundaries (
    code TEXT PRIMARY KEY,
    level TEXT NOT NULL,
    parent TEXT NOT NULL,
    name TEXT NOT NULL,
    responsibility_grid TEXT,
    geometry TEXT NOT NULL
);
CREATE INDEX boundaries_level ON boundaries (level, code);
