-- The leads and complaints lists newest first (a chain has tens of thousands of each): a page
-- reads its rows from an index in order instead of sorting every row the user sees. Leads of
-- one status in order; the open leads' count and value summed from the index alone.
CREATE INDEX opportunities_created ON opportunities(created_at);
CREATE INDEX opportunities_status_created ON opportunities(status, created_at);
CREATE INDEX opportunities_status_value ON opportunities(status, org_unit_id, value_fen);
CREATE INDEX complaints_created ON complaints(created_at);
ANALYZE opportunities;
ANALYZE complaints;
