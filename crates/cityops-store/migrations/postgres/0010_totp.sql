-- The optional second factor (RFC 6238 TOTP): the shared secret, sealed like personal data,
-- whether it is confirmed, and the last time step used (a code is accepted once).
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
