-- Phones are indexed in their one normalised form (national digits; `+` and digits abroad)
-- from now on. Entries written from the digits as typed (`86139...` for `+86 139...`) would
-- not be found: drop them. Lookups read rows without an entry in full until
-- `cityops pii reseal` indexes them again.
UPDATE cases SET reporter_tag = NULL WHERE reporter_tag IS NOT NULL;
