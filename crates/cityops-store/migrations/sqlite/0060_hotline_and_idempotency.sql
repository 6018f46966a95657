-- Idempotency keys of case reports: the first request with a key from a caller claims it in
-- the transaction that writes its case, so a retry (or a concurrent twin) finds the case
-- instead of writing a second one. Keys older than the configured lifetime are pruned when
-- a new key is claimed.
CREATE TABLE idempotency_keys (
    caller TEXT NOT NULL,
    key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    case_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (caller, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Tickets imported from the city's 12345 hotline system: each once, by its id. Requests,
-- complaints, suggestions and others opened a case (written in the case's transaction);
-- enquiries and praise are kept without one.
CREATE TABLE hotline_tickets (
    ticket_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    content_hash TEXT NOT NULL,
    case_id TEXT,
    imported_at BIGINT NOT NULL
);
CREATE INDEX hotline_tickets_received ON hotline_tickets (received_at);
