-- The assisting units (协办) of a case, as `|unit|unit|`, beside its lead in `unit`: a unit
-- handler's queue holds the cases their unit leads or assists on.
ALTER TABLE cases ADD COLUMN assisting TEXT;
