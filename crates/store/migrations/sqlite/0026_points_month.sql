-- The technicians' ranking sums a month's visits and points per technician, once each (a
-- chain's month is ~66,000 facts and ~140,000 ledger entries): the visits' facts by day
-- without the other bases' rows, the ledger by day with its points in the index (the planner
-- may prefer the ledger's (technician_id, day) index where its statistics say so).
CREATE INDEX IF NOT EXISTS kpi_facts_visits ON kpi_facts(day, technician_id, visits) WHERE basis = 'visit';
CREATE INDEX IF NOT EXISTS points_entries_day_sum ON points_entries(day, technician_id, points);
-- No ANALYZE: SQLite's reads every row of these tables (millions in a chain) at the upgrade,
-- and the planner takes the day ranges to these indexes without it.
