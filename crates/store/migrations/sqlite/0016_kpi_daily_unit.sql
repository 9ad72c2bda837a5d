-- The daily sums with only the dimensions a dashboard groups by when no category, brand or type
-- is asked for (day × unit × technician): the same counters as kpi_daily summed over the other
-- dimensions, moved in the same transaction. At a chain's size kpi_daily holds about a row per
-- order; this one a row per technician and day.
CREATE TABLE kpi_daily_unit (
    day TEXT NOT NULL,
    org_unit_id INTEGER NOT NULL,
    unit_id INTEGER NOT NULL,
    partner_unit_id INTEGER NOT NULL,
    technician_id INTEGER NOT NULL,
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
    csi_answers INTEGER NOT NULL DEFAULT 0,
    csi_points INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, org_unit_id, unit_id, partner_unit_id, technician_id)
) WITHOUT ROWID;

-- Filled from the daily sums as they stand.
INSERT INTO kpi_daily_unit (day, org_unit_id, unit_id, partner_unit_id, technician_id, ftf_den, ftf_num, remote_den, remote_num, arrived_first, arrived_on_time, not_arrived, repeat_den, repeat_num, repeat_open, visits, onsite_seconds, completed, answered, very_satisfied, satisfied, neutral, dissatisfied, complaints, complaints_due, complaints_on_time, customer_fen, manufacturer_fen, csi_answers, csi_points)
SELECT day, org_unit_id, unit_id, partner_unit_id, technician_id, SUM(ftf_den), SUM(ftf_num), SUM(remote_den), SUM(remote_num), SUM(arrived_first), SUM(arrived_on_time), SUM(not_arrived), SUM(repeat_den), SUM(repeat_num), SUM(repeat_open), SUM(visits), SUM(onsite_seconds), SUM(completed), SUM(answered), SUM(very_satisfied), SUM(satisfied), SUM(neutral), SUM(dissatisfied), SUM(complaints), SUM(complaints_due), SUM(complaints_on_time), SUM(customer_fen), SUM(manufacturer_fen), SUM(csi_answers), SUM(csi_points)
FROM kpi_daily GROUP BY day, org_unit_id, unit_id, partner_unit_id, technician_id;
