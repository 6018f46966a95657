-- Keys for machines (gateways, integrations): a role within a scope, narrowed to named
-- permissions. Only the SHA-256 of the secret is kept; revoked keys stay for the record.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    unit TEXT,
    scope TEXT NOT NULL,
    permissions TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);
