-- A counter of the acceptances (each with its response time measured), summed like the others:
-- the orders behind a response time number their sum, read from the sums instead of counted
-- over the facts. Filled from the facts as they stand.
ALTER TABLE kpi_facts ADD COLUMN responded INTEGER NOT NULL DEFAULT 0;
UPDATE kpi_facts SET responded = 1 WHERE response_seconds IS NOT NULL;
ALTER TABLE kpi_daily ADD COLUMN responded INTEGER NOT NULL DEFAULT 0;
INSERT INTO kpi_daily (day, org_unit_id, unit_id, partner_unit_id, technician_id, category, brand, kind, warranty, tier, channel, responded)
SELECT day, org_unit_id, unit_id, COALESCE(partner_unit_id, 0), COALESCE(technician_id, 0), COALESCE(category, ''), COALESCE(brand, ''), kind, warranty, tier, channel, COUNT(*) FROM kpi_facts WHERE response_seconds IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
ON CONFLICT (day, org_unit_id, unit_id, partner_unit_id, technician_id, category, brand, kind, warranty, tier, channel) DO UPDATE SET responded = excluded.responded;
ALTER TABLE kpi_daily_unit ADD COLUMN responded INTEGER NOT NULL DEFAULT 0;
INSERT INTO kpi_daily_unit (day, org_unit_id, unit_id, partner_unit_id, technician_id, responded)
SELECT day, org_unit_id, unit_id, COALESCE(partner_unit_id, 0), COALESCE(technician_id, 0), COUNT(*) FROM kpi_facts WHERE response_seconds IS NOT NULL GROUP BY 1, 2, 3, 4, 5
ON CONFLICT (day, org_unit_id, unit_id, partner_unit_id, technician_id) DO UPDATE SET responded = excluded.responded;
ALTER TABLE kpi_daily_store ADD COLUMN responded INTEGER NOT NULL DEFAULT 0;
INSERT INTO kpi_daily_store (day, org_unit_id, unit_id, partner_unit_id, responded)
SELECT day, org_unit_id, unit_id, COALESCE(partner_unit_id, 0), COUNT(*) FROM kpi_facts WHERE response_seconds IS NOT NULL GROUP BY 1, 2, 3, 4
ON CONFLICT (day, org_unit_id, unit_id, partner_unit_id) DO UPDATE SET responded = excluded.responded;
ALTER TABLE kpi_monthly_unit ADD COLUMN responded INTEGER NOT NULL DEFAULT 0;
INSERT INTO kpi_monthly_unit (month, org_unit_id, unit_id, partner_unit_id, technician_id, responded)
SELECT substr(day, 1, 8) || '01', org_unit_id, unit_id, COALESCE(partner_unit_id, 0), COALESCE(technician_id, 0), COUNT(*) FROM kpi_facts WHERE response_seconds IS NOT NULL GROUP BY 1, 2, 3, 4, 5
ON CONFLICT (month, org_unit_id, unit_id, partner_unit_id, technician_id) DO UPDATE SET responded = excluded.responded;
ALTER TABLE kpi_monthly_store ADD COLUMN responded INTEGER NOT NULL DEFAULT 0;
INSERT INTO kpi_monthly_store (month, org_unit_id, unit_id, partner_unit_id, responded)
SELECT substr(day, 1, 8) || '01', org_unit_id, unit_id, COALESCE(partner_unit_id, 0), COUNT(*) FROM kpi_facts WHERE response_seconds IS NOT NULL GROUP BY 1, 2, 3, 4
ON CONFLICT (month, org_unit_id, unit_id, partner_unit_id) DO UPDATE SET responded = excluded.responded;
