-- An entry numbered past the chain's head must extend it: its predecessor is the head and
-- its prev_hash the head's hash; the head then moves to it. The store appends in a single
-- statement this way (the insert moves the head), and an append computed from a head that
-- has moved since is refused rather than forking the chain. Entries numbered at or below
-- the head (none, in normal operation) are left to the verifier.
CREATE TRIGGER audit_log_extends_head AFTER INSERT ON audit_log
WHEN NEW.seq > (SELECT seq FROM audit_head WHERE id = 1)
BEGIN
    SELECT RAISE(ABORT, 'audit chain head moved')
    WHERE NOT EXISTS (
        SELECT 1 FROM audit_head WHERE id = 1 AND seq = NEW.seq - 1 AND hash = NEW.prev_hash
    );
    UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
END;
