-- What a place search reads of a component: its name and where it stands (location_text),
-- kept beside the document so that the intake console finds "南京东路 井盖" without
-- decoding every document.
ALTER TABLE components ADD COLUMN label TEXT NOT NULL DEFAULT '';
UPDATE components SET label = COALESCE(json_extract(doc, '$.name'), '') || ' ' ||
    COALESCE(json_extract(doc, '$.location_text'), '');
