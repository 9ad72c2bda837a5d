-- Targets (目标, domain::targets): a committed value (确保值) and a stretch value (挑战值) for a
-- KPI, an org unit or a technician, and a period (month / quarter / year starting on
-- period_start). Values are in the KPI's unit: a rate as a fraction 0–1, a duration's median in
-- minutes or hours, money in fen. A technician's target also carries the technician's unit
-- (org_unit_id), so scoping reads it like the unit's other records.
-- Effective-dated: a change from a later date is a new row; the target in force on a day is the
-- row with the latest effective_from on or before it. Every change is in the audit log.
CREATE TABLE targets (
    id INTEGER PRIMARY KEY,
    kpi TEXT NOT NULL,
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    technician_id INTEGER REFERENCES technicians(id),
    period_kind TEXT NOT NULL,
    period_start TEXT NOT NULL,
    committed REAL NOT NULL,
    stretch REAL NOT NULL,
    effective_from TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX targets_key ON targets(kpi, period_kind, period_start, org_unit_id, COALESCE(technician_id, 0), effective_from);
CREATE INDEX targets_period ON targets(period_kind, period_start, kpi);
