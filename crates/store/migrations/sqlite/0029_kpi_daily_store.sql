-- The daily sums per unit without the technician (day × unit): the days around a reading's
-- whole months when it neither groups by nor asks for a technician. A chain's 28 days per unit
-- are a third of their rows per technician. Moved in the same transaction as the others.
CREATE TABLE kpi_daily_store (
    day TEXT NOT NULL,
    org_unit_id INTEGER NOT NULL,
    unit_id INTEGER NOT NULL,
    partner_unit_id INTEGER NOT NULL,
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
    PRIMARY KEY (day, org_unit_id, unit_id, partner_unit_id)
) WITHOUT ROWID;

INSERT INTO kpi_daily_store (day, org_unit_id, unit_id, partner_unit_id, ftf_den, ftf_num, remote_den, remote_num, arrived_first, arrived_on_time, not_arrived, repeat_den, repeat_num, repeat_open, visits, onsite_seconds, completed, answered, very_satisfied, satisfied, neutral, dissatisfied, complaints, complaints_due, complaints_on_time, customer_fen, manufacturer_fen, csi_answers, csi_points)
SELECT day, org_unit_id, unit_id, partner_unit_id, SUM(ftf_den), SUM(ftf_num), SUM(remote_den), SUM(remote_num), SUM(arrived_first), SUM(arrived_on_time), SUM(not_arrived), SUM(repeat_den), SUM(repeat_num), SUM(repeat_open), SUM(visits), SUM(onsite_seconds), SUM(completed), SUM(answered), SUM(very_satisfied), SUM(satisfied), SUM(neutral), SUM(dissatisfied), SUM(complaints), SUM(complaints_due), SUM(complaints_on_time), SUM(customer_fen), SUM(manufacturer_fen), SUM(csi_answers), SUM(csi_points)
FROM kpi_daily_unit GROUP BY 1, 2, 3, 4;

ANALYZE kpi_daily_store;
