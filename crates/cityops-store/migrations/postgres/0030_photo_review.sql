-- A photo is shown outside the staff who handle its case only after review: `review` is
-- pending until staff publish it (with the regions they blurred) or keep it private. The
-- public copy is a separate file, made from the stored copy with those regions blurred.
ALTER TABLE attachments ADD COLUMN review TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE attachments ADD COLUMN blur TEXT;
ALTER TABLE attachments ADD COLUMN public_path TEXT;
ALTER TABLE attachments ADD COLUMN public_content_type TEXT;
ALTER TABLE attachments ADD COLUMN public_sha256 TEXT;
ALTER TABLE attachments ADD COLUMN public_size BIGINT;
ALTER TABLE attachments ADD COLUMN reviewed_by TEXT;
ALTER TABLE attachments ADD COLUMN reviewed_at BIGINT;
