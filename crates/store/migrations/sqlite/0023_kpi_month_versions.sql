-- The version of each month of the KPI sums: moved in the transaction of every change to that
-- month's facts, answer counts, durations or shifts, so a server that keeps readings of finished
-- months in memory knows whether they still hold (store::kpi::memo). The row of 0001-01-01 is
-- the epoch, moved by a rebuild.
CREATE TABLE kpi_month_versions (
    month TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);
