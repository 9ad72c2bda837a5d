-- Lookup for a store's user in a chain: the full-text index gives every match in the chain
-- before the unit is tested, so a scope of few documents is read through this index instead
-- (`search::lookup`). PostgreSQL puts the unit inside its trigram index (its 0024).
CREATE INDEX IF NOT EXISTS search_docs_unit ON search_docs(org_unit_id);
