-- Intake: where an address's coordinates came from and whether a person confirmed them, and
-- settings kept as one JSON document per name (the geocoding service).

-- `located_by`: given (typed or sent), geocoder, district (the district's centre), store (the
-- owning store's place), dispatcher (set by hand). An address placed by a fallback waits for the
-- dispatcher: `location_confirmed` is false until someone sets it.
ALTER TABLE customer_addresses ADD COLUMN located_by TEXT NOT NULL DEFAULT 'given';
ALTER TABLE customer_addresses ADD COLUMN location_confirmed BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
