-- KPI facts (domain::kpi::facts): for every work order, rows dated by the local date of the
-- timestamp each KPI names (completed, accepted, arrive-by, each visit's arrival, each complaint's
-- creation and due time), attributed to the unit and technician the KPI counts them for, carrying
-- integer numerators and denominators and exact durations. Dashboards sum them; never ratios.
CREATE TABLE kpi_facts (
    id INTEGER PRIMARY KEY,
    work_order_id INTEGER NOT NULL REFERENCES work_orders(id),
    basis TEXT NOT NULL,
    day TEXT NOT NULL,
    -- The order's owning unit (what scoping reads) and the unit it counts for (the partner unit
    -- of a partner's order, else the owning unit).
    org_unit_id INTEGER NOT NULL,
    unit_id INTEGER NOT NULL,
    partner_unit_id INTEGER,
    technician_id INTEGER,
    category TEXT,
    brand TEXT,
    kind TEXT NOT NULL,
    warranty TEXT NOT NULL,
    tier TEXT NOT NULL,
    channel TEXT NOT NULL,
    ftf_den INTEGER NOT NULL DEFAULT 0,
    ftf_num INTEGER NOT NULL DEFAULT 0,
    remote_den INTEGER NOT NULL DEFAULT 0,
    remote_num INTEGER NOT NULL DEFAULT 0,
    arrived_first INTEGER NOT NULL DEFAULT 0,
    arrived_on_time INTEGER NOT NULL DEFAULT 0,
    not_arrived INTEGER NOT NULL DEFAULT 0,
    repeat_den INTEGER NOT NULL DEFAULT 0,
    repeat_num INTEGER NOT NULL DEFAULT 0,
    repeat_open INTEGER NOT NULL DEFAULT 0,
    visits INTEGER NOT NULL DEFAULT 0,
    onsite_seconds INTEGER NOT NULL DEFAULT 0,
    completed INTEGER NOT NULL DEFAULT 0,
    answered INTEGER NOT NULL DEFAULT 0,
    very_satisfied INTEGER NOT NULL DEFAULT 0,
    satisfied INTEGER NOT NULL DEFAULT 0,
    neutral INTEGER NOT NULL DEFAULT 0,
    dissatisfied INTEGER NOT NULL DEFAULT 0,
    complaints INTEGER NOT NULL DEFAULT 0,
    complaints_due INTEGER NOT NULL DEFAULT 0,
    complaints_on_time INTEGER NOT NULL DEFAULT 0,
    customer_fen INTEGER NOT NULL DEFAULT 0,
    manufacturer_fen INTEGER NOT NULL DEFAULT 0,
    response_seconds INTEGER,
    cycle_seconds INTEGER,
    late_after TEXT
);
CREATE INDEX kpi_facts_day ON kpi_facts(day, org_unit_id);
-- Exact durations and late unarrived orders are read from the facts: covering partial indexes.
CREATE INDEX kpi_facts_response ON kpi_facts(day, org_unit_id, unit_id, partner_unit_id, technician_id, category, brand, kind, response_seconds) WHERE response_seconds IS NOT NULL;
CREATE INDEX kpi_facts_cycle ON kpi_facts(day, org_unit_id, unit_id, partner_unit_id, technician_id, category, brand, kind, cycle_seconds) WHERE cycle_seconds IS NOT NULL;
CREATE INDEX kpi_facts_late ON kpi_facts(day, late_after) WHERE late_after IS NOT NULL;

-- The facts' counters summed per local day and every grouping dimension (a missing technician,
-- partner, category or brand is 0 / ''), changed by the same transaction that replaces an
-- order's facts (minus the old, plus the new). Dashboards sum these rows.
CREATE TABLE kpi_daily (
    day TEXT NOT NULL,
    org_unit_id INTEGER NOT NULL,
    unit_id INTEGER NOT NULL,
    partner_unit_id INTEGER NOT NULL,
    technician_id INTEGER NOT NULL,
    category TEXT NOT NULL,
    brand TEXT NOT NULL,
    kind TEXT NOT NULL,
    warranty TEXT NOT NULL,
    tier TEXT NOT NULL,
    channel TEXT NOT NULL,
    ftf_den INTEGER NOT NULL DEFAULT 0,
    ftf_num INTEGER NOT NULL DEFAULT 0,
    remote_den INTEGER NOT NULL DEFAULT 0,
    remote_num INTEGER NOT NULL DEFAULT 0,
    arrived_first INTEGER NOT NULL DEFAULT 0,
    arrived_on_time INTEGER NOT NULL DEFAULT 0,
    not_arrived INTEGER NOT NULL DEFAULT 0,
    repeat_den INTEGER NOT NULL DEFAULT 0,
    repeat_num INTEGER NOT NULL DEFAULT 0,
    repeat_open INTEGER NOT NULL DEFAULT 0,
    visits INTEGER NOT NULL DEFAULT 0,
    onsite_seconds INTEGER NOT NULL DEFAULT 0,
    completed INTEGER NOT NULL DEFAULT 0,
    answered INTEGER NOT NULL DEFAULT 0,
    very_satisfied INTEGER NOT NULL DEFAULT 0,
    satisfied INTEGER NOT NULL DEFAULT 0,
    neutral INTEGER NOT NULL DEFAULT 0,
    dissatisfied INTEGER NOT NULL DEFAULT 0,
    complaints INTEGER NOT NULL DEFAULT 0,
    complaints_due INTEGER NOT NULL DEFAULT 0,
    complaints_on_time INTEGER NOT NULL DEFAULT 0,
    customer_fen INTEGER NOT NULL DEFAULT 0,
    manufacturer_fen INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, org_unit_id, unit_id, partner_unit_id, technician_id, category, brand, kind, warranty, tier, channel)
) WITHOUT ROWID;
CREATE INDEX kpi_facts_order ON kpi_facts(work_order_id);

-- Orders whose facts must be computed again: marked in the transaction of the change (with its
-- audit entry), or due at a time when the clock alone changes them (a repeat window closing, a
-- complaint falling due). The KPI catch-up step drains both.
CREATE TABLE kpi_dirty (
    work_order_id INTEGER PRIMARY KEY
);
CREATE TABLE kpi_expiry (
    work_order_id INTEGER PRIMARY KEY,
    at TEXT NOT NULL
);
CREATE INDEX kpi_expiry_at ON kpi_expiry(at);
