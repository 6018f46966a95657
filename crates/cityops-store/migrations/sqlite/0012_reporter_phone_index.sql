-- The index of reporters' phones: a keyed hash of the phone's digits (PiiKeys::phone_tag),
-- so a citizen's request for their data finds their cases without opening every sealed
-- contact. NULL where there is no phone, and on rows written before this column, which the
-- lookup still reads in full until a re-seal fills them in.
ALTER TABLE cases ADD COLUMN reporter_tag TEXT;
CREATE INDEX cases_reporter_tag ON cases (reporter_tag) WHERE reporter_tag IS NOT NULL;
