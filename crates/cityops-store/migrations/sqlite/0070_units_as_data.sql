-- Units as data: what sort of body each unit is, the unit above it, its duty phone and
-- contact (each sealed like a citizen's contact), and its retirement with the successor that
-- took over its open cases. The shipped defaults get the organization and parent their kind
-- and area imply.
ALTER TABLE units ADD COLUMN organization TEXT NOT NULL DEFAULT 'department';
ALTER TABLE units ADD COLUMN parent TEXT;
ALTER TABLE units ADD COLUMN duty_phone TEXT;
ALTER TABLE units ADD COLUMN contact_name TEXT;
ALTER TABLE units ADD COLUMN contact_phone TEXT;
ALTER TABLE units ADD COLUMN retired_at BIGINT;
ALTER TABLE units ADD COLUMN successor TEXT;

UPDATE units SET organization = 'operations_center'
    WHERE kind IN ('city_center', 'district_center', 'street_center');
UPDATE units SET organization = 'public_utility'
    WHERE kind IN ('power', 'gas', 'water_supply', 'telecom');
UPDATE units SET organization = 'street_office' WHERE kind = 'street_office';
UPDATE units SET organization = 'town' WHERE kind = 'street_office' AND name LIKE '%人民政府';
UPDATE units SET parent = (SELECT 'C-' || areas.parent FROM areas WHERE areas.code = units.jurisdiction)
    WHERE kind IN ('district_center', 'street_center');
