-- Technician points (积分, domain::points). The rules an admin edits, one JSON document per
-- version, each in force from its effective date (local) until the next version's; the first
-- version holds DOMAIN.md's defaults.
CREATE TABLE points_rules (
    id INTEGER PRIMARY KEY,
    effective_from TEXT NOT NULL,
    rules TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL
);
INSERT INTO points_rules (effective_from, rules, created_by, created_at)
VALUES ('2000-01-01', '{"base":{"install":2.0,"repair_onsite":3.0,"repair_phone":1.0,"replacement":2.0,"maintenance":2.0,"inspection":1.0},"difficulty":{"easy":1.0,"normal":1.5,"hard":2.0},"first_time_fix":1.0,"very_satisfied":1.0,"arrived_late":-1.0,"complaint":-5.0,"repeat_repair":-3.0,"min_visits":20}', NULL, '2000-01-01T00:00:00Z');

-- The ledger: append-only. Order entries are appended by the KPI catch-up step (the difference
-- between what an order's records earn and what its entries already say); adjustments by a
-- manager, with a note. Points in hundredths; day = the local date the entry counts on.
CREATE TABLE points_entries (
    id INTEGER PRIMARY KEY,
    technician_id INTEGER NOT NULL REFERENCES technicians(id),
    work_order_id INTEGER REFERENCES work_orders(id),
    rule_version INTEGER REFERENCES points_rules(id),
    reason TEXT NOT NULL,
    day TEXT NOT NULL,
    points INTEGER NOT NULL,
    note TEXT,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE INDEX points_entries_technician ON points_entries(technician_id, day);
CREATE INDEX points_entries_order ON points_entries(work_order_id);
CREATE INDEX points_entries_day ON points_entries(day);

-- An order's difficulty grade (难度系数): easy, normal, hard.
ALTER TABLE work_orders ADD COLUMN difficulty TEXT NOT NULL DEFAULT 'normal';
