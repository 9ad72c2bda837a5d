-- Route plans of a store's day, and each order's place in its technician's day.
CREATE TABLE dispatch_plans (
    id INTEGER PRIMARY KEY,
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    day TEXT NOT NULL,
    status TEXT NOT NULL,
    plan TEXT NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    committed_at TEXT
);
CREATE INDEX dispatch_plans_unit_day ON dispatch_plans(org_unit_id, day);
ALTER TABLE work_orders ADD COLUMN planned_seq INTEGER;
ALTER TABLE work_orders ADD COLUMN planned_arrival TEXT;
