-- The chain's head moves with each appended entry: the store inserts its entries in one
-- statement, guarded by the head it computed them from, and this trigger moves the head
-- entry by entry. An entry numbered past the head that does not extend it (its predecessor
-- is not the head, or its prev_hash not the head's hash) is refused, so nothing can fork the
-- chain by appending. Entries numbered at or below the head (none, in normal operation) are
-- left to the verifier.
CREATE TRIGGER audit_log_extends_head AFTER INSERT ON audit_log
WHEN NEW.seq > (SELECT seq FROM audit_head WHERE id = 1)
BEGIN
    SELECT RAISE(ABORT, 'audit chain head moved')
    WHERE NOT EXISTS (
        SELECT 1 FROM audit_head WHERE id = 1 AND seq = NEW.seq - 1 AND hash = NEW.prev_hash
    );
    UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
END;
