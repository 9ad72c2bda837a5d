-- Idempotent requests survive a crash: an unfinished claim carries the token of the request that
-- holds it and a lease; the stored answer keeps the headers a replay needs (ETag, Location).
ALTER TABLE idempotency_keys ADD COLUMN claim_token TEXT;
ALTER TABLE idempotency_keys ADD COLUMN locked_until TEXT;
ALTER TABLE idempotency_keys ADD COLUMN headers TEXT;
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

-- Every record two people may edit at once carries a version: a change based on an older one
-- (`If-Match`) is refused with 412 instead of overwriting the other person's.
ALTER TABLE org_units ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE products ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE warranty_policies ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE devices ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE technicians ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE kb_articles ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
-- Settings edited as a whole (SLA rules, fee rules) carry a version of their own.
CREATE TABLE setting_versions (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);
