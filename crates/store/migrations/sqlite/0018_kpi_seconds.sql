-- The seconds of each packed durations row alone (little-endian 32-bit integers in the entries'
-- order; NULL where one does not fit): a year's medians over whole months read these, a quarter
-- of the entries' bytes. The catch-up packs every row again once to fill them.
ALTER TABLE kpi_durations ADD COLUMN seconds BLOB;
INSERT INTO kpi_pending (what) VALUES ('durations') ON CONFLICT (what) DO NOTHING;

-- Shifts by day (the working days of the days a period holds outside whole months), covering
-- the columns the KPI reading sums.
CREATE INDEX shifts_day ON shifts(day, technician_id, starts_at, ends_at);

