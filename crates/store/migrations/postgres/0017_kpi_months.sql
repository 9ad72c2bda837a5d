-- Whole months. A year's dashboard at a chain's size read 365 days of daily sums and a row per
-- order for its durations; these keep the same numbers per calendar month (the month's first
-- day). A reading takes the months it holds whole from here and the days around them from the
-- daily tables. Every table below moves in the transaction that changes what it sums.

-- The counters of kpi_daily_unit per month × unit × technician (readings by or of a technician)
-- and per month × unit (the others).
CREATE TABLE kpi_monthly_unit (
    month DATE NOT NULL,
    org_unit_id BIGINT NOT NULL,
    unit_id BIGINT NOT NULL,
    partner_unit_id BIGINT NOT NULL,
    technician_id BIGINT NOT NULL,
    ftf_den BIGINT NOT NULL DEFAULT 0,
    ftf_num BIGINT NOT NULL DEFAULT 0,
    remote_den BIGINT NOT NULL DEFAULT 0,
    remote_num BIGINT NOT NULL DEFAULT 0,
    arrived_first BIGINT NOT NULL DEFAULT 0,
    arrived_on_time BIGINT NOT NULL DEFAULT 0,
    not_arrived BIGINT NOT NULL DEFAULT 0,
    repeat_den BIGINT NOT NULL DEFAULT 0,
    repeat_num BIGINT NOT NULL DEFAULT 0,
    repeat_open BIGINT NOT NULL DEFAULT 0,
    visits BIGINT NOT NULL DEFAULT 0,
    onsite_seconds BIGINT NOT NULL DEFAULT 0,
    completed BIGINT NOT NULL DEFAULT 0,
    answered BIGINT NOT NULL DEFAULT 0,
    very_satisfied BIGINT NOT NULL DEFAULT 0,
    satisfied BIGINT NOT NULL DEFAULT 0,
    neutral BIGINT NOT NULL DEFAULT 0,
    dissatisfied BIGINT NOT NULL DEFAULT 0,
    complaints BIGINT NOT NULL DEFAULT 0,
    complaints_due BIGINT NOT NULL DEFAULT 0,
    complaints_on_time BIGINT NOT NULL DEFAULT 0,
    customer_fen BIGINT NOT NULL DEFAULT 0,
    manufacturer_fen BIGINT NOT NULL DEFAULT 0,
    csi_answers BIGINT NOT NULL DEFAULT 0,
    csi_points BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (month, org_unit_id, unit_id, partner_unit_id, technician_id)
);

INSERT INTO kpi_monthly_unit (month, org_unit_id, unit_id, partner_unit_id, technician_id, ftf_den, ftf_num, remote_den, remote_num, arrived_first, arrived_on_time, not_arrived, repeat_den, repeat_num, repeat_open, visits, onsite_seconds, completed, answered, very_satisfied, satisfied, neutral, dissatisfied, complaints, complaints_due, complaints_on_time, customer_fen, manufacturer_fen, csi_answers, csi_points)
SELECT CAST(date_trunc('month', day) AS DATE), org_unit_id, unit_id, partner_unit_id, technician_id, SUM(ftf_den), SUM(ftf_num), SUM(remote_den), SUM(remote_num), SUM(arrived_first), SUM(arrived_on_time), SUM(not_arrived), SUM(repeat_den), SUM(repeat_num), SUM(repeat_open), SUM(visits), SUM(onsite_seconds), SUM(completed), SUM(answered), SUM(very_satisfied), SUM(satisfied), SUM(neutral), SUM(dissatisfied), SUM(complaints), SUM(complaints_due), SUM(complaints_on_time), SUM(customer_fen), SUM(manufacturer_fen), SUM(csi_answers), SUM(csi_points)
FROM kpi_daily_unit GROUP BY 1, 2, 3, 4, 5;

CREATE TABLE kpi_monthly_store (
    month DATE NOT NULL,
    org_unit_id BIGINT NOT NULL,
    unit_id BIGINT NOT NULL,
    partner_unit_id BIGINT NOT NULL,
    ftf_den BIGINT NOT NULL DEFAULT 0,
    ftf_num BIGINT NOT NULL DEFAULT 0,
    remote_den BIGINT NOT NULL DEFAULT 0,
    remote_num BIGINT NOT NULL DEFAULT 0,
    arrived_first BIGINT NOT NULL DEFAULT 0,
    arrived_on_time BIGINT NOT NULL DEFAULT 0,
    not_arrived BIGINT NOT NULL DEFAULT 0,
    repeat_den BIGINT NOT NULL DEFAULT 0,
    repeat_num BIGINT NOT NULL DEFAULT 0,
    repeat_open BIGINT NOT NULL DEFAULT 0,
    visits BIGINT NOT NULL DEFAULT 0,
    onsite_seconds BIGINT NOT NULL DEFAULT 0,
    completed BIGINT NOT NULL DEFAULT 0,
    answered BIGINT NOT NULL DEFAULT 0,
    very_satisfied BIGINT NOT NULL DEFAULT 0,
    satisfied BIGINT NOT NULL DEFAULT 0,
    neutral BIGINT NOT NULL DEFAULT 0,
    dissatisfied BIGINT NOT NULL DEFAULT 0,
    complaints BIGINT NOT NULL DEFAULT 0,
    complaints_due BIGINT NOT NULL DEFAULT 0,
    complaints_on_time BIGINT NOT NULL DEFAULT 0,
    customer_fen BIGINT NOT NULL DEFAULT 0,
    manufacturer_fen BIGINT NOT NULL DEFAULT 0,
    csi_answers BIGINT NOT NULL DEFAULT 0,
    csi_points BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (month, org_unit_id, unit_id, partner_unit_id)
);

INSERT INTO kpi_monthly_store (month, org_unit_id, unit_id, partner_unit_id, ftf_den, ftf_num, remote_den, remote_num, arrived_first, arrived_on_time, not_arrived, repeat_den, repeat_num, repeat_open, visits, onsite_seconds, completed, answered, very_satisfied, satisfied, neutral, dissatisfied, complaints, complaints_due, complaints_on_time, customer_fen, manufacturer_fen, csi_answers, csi_points)
SELECT CAST(date_trunc('month', day) AS DATE), org_unit_id, unit_id, partner_unit_id, SUM(ftf_den), SUM(ftf_num), SUM(remote_den), SUM(remote_num), SUM(arrived_first), SUM(arrived_on_time), SUM(not_arrived), SUM(repeat_den), SUM(repeat_num), SUM(repeat_open), SUM(visits), SUM(onsite_seconds), SUM(completed), SUM(answered), SUM(very_satisfied), SUM(satisfied), SUM(neutral), SUM(dissatisfied), SUM(complaints), SUM(complaints_due), SUM(complaints_on_time), SUM(customer_fen), SUM(manufacturer_fen), SUM(csi_answers), SUM(csi_points)
FROM kpi_daily_unit GROUP BY 1, 2, 3, 4;

-- The answer counts of kpi_csi_daily per month × unit × item, a column per rating (readings
-- without a technician, category, brand or type).
CREATE TABLE kpi_csi_monthly (
    month DATE NOT NULL,
    org_unit_id BIGINT NOT NULL,
    unit_id BIGINT NOT NULL,
    partner_unit_id BIGINT NOT NULL,
    item TEXT NOT NULL,
    very_satisfied BIGINT NOT NULL DEFAULT 0,
    satisfied BIGINT NOT NULL DEFAULT 0,
    neutral BIGINT NOT NULL DEFAULT 0,
    dissatisfied BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (month, org_unit_id, unit_id, partner_unit_id, item)
);

INSERT INTO kpi_csi_monthly (month, org_unit_id, unit_id, partner_unit_id, item, very_satisfied, satisfied, neutral, dissatisfied)
SELECT CAST(date_trunc('month', day) AS DATE), org_unit_id, unit_id, partner_unit_id, item, SUM(CASE WHEN rating = 'very_satisfied' THEN n ELSE 0 END), SUM(CASE WHEN rating = 'satisfied' THEN n ELSE 0 END), SUM(CASE WHEN rating = 'neutral' THEN n ELSE 0 END), SUM(CASE WHEN rating = 'dissatisfied' THEN n ELSE 0 END)
FROM kpi_csi_daily GROUP BY 1, 2, 3, 4, 5;

-- The same per day (readings without a technician, category, brand or type: the days around
-- their whole months).
CREATE TABLE kpi_csi_daily_unit (
    day DATE NOT NULL,
    org_unit_id BIGINT NOT NULL,
    unit_id BIGINT NOT NULL,
    partner_unit_id BIGINT NOT NULL,
    item TEXT NOT NULL,
    very_satisfied BIGINT NOT NULL DEFAULT 0,
    satisfied BIGINT NOT NULL DEFAULT 0,
    neutral BIGINT NOT NULL DEFAULT 0,
    dissatisfied BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, org_unit_id, unit_id, partner_unit_id, item)
);

INSERT INTO kpi_csi_daily_unit (day, org_unit_id, unit_id, partner_unit_id, item, very_satisfied, satisfied, neutral, dissatisfied)
SELECT day, org_unit_id, unit_id, partner_unit_id, item, SUM(CASE WHEN rating = 'very_satisfied' THEN n ELSE 0 END), SUM(CASE WHEN rating = 'satisfied' THEN n ELSE 0 END), SUM(CASE WHEN rating = 'neutral' THEN n ELSE 0 END), SUM(CASE WHEN rating = 'dissatisfied' THEN n ELSE 0 END)
FROM kpi_csi_daily GROUP BY 1, 2, 3, 4, 5;

-- Exact durations (response time, repair cycle) of the facts packed per month and unit: one row
-- holds every order's duration of that month and unit (order, technician, day of the month,
-- seconds; store::kpi::durations::Entry), rewritten in the transaction that replaces the
-- orders' facts. A year's medians read a few thousand rows instead of a row per order; the
-- values are the facts' own, so medians and p90 stay exact.
CREATE TABLE kpi_durations (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    which BIGINT NOT NULL,
    month DATE NOT NULL,
    org_unit_id BIGINT NOT NULL,
    unit_id BIGINT NOT NULL,
    partner_unit_id BIGINT NOT NULL,
    n BIGINT NOT NULL,
    entries BYTEA NOT NULL
);
CREATE UNIQUE INDEX kpi_durations_key ON kpi_durations(which, month, org_unit_id, unit_id, partner_unit_id);

-- Work the KPI catch-up owes once: 'durations' packs the durations of the facts that exist (a
-- migration cannot pack them in SQL).
CREATE TABLE kpi_pending (
    what TEXT PRIMARY KEY
);
INSERT INTO kpi_pending (what) VALUES ('durations');

-- Technicians' working days (shifts) counted and their lengths summed per month, moved with
-- every change of a shift (store::repo::technicians) and summed again by a KPI rebuild: the
-- denominators of calls per technician-day and of the on-site share.
CREATE TABLE shift_months (
    month DATE NOT NULL,
    technician_id BIGINT NOT NULL,
    days BIGINT NOT NULL,
    seconds BIGINT NOT NULL,
    PRIMARY KEY (month, technician_id)
);

INSERT INTO shift_months (month, technician_id, days, seconds)
SELECT CAST(date_trunc('month', day) AS DATE), technician_id, COUNT(*), SUM(CASE WHEN ends_at > starts_at THEN CAST(EXTRACT(EPOCH FROM date_trunc('second', ends_at)) - EXTRACT(EPOCH FROM date_trunc('second', starts_at)) AS BIGINT) ELSE 0 END)
FROM shifts GROUP BY 1, 2;
