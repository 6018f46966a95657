-- The hotline's knowledge base: articles an operator answers enquiries from (the document
-- holds title, body and keywords), and the enquiries answered on the call, which keep no
-- contact and store their texts masked.
CREATE TABLE knowledge_articles (
    id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE enquiries (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX enquiries_at ON enquiries (at);
