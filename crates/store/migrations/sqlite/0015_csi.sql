-- Satisfaction by item (分项满意度, domain::csi). Follow-up questionnaires an admin sets per brand
-- and per work-order type ('' = any); the order's questionnaire is the active one that fits it
-- best (brand and type, then brand, then type, then the default). Every questionnaire also asks
-- the overall item 整体满意, which is the follow-up's own rating.
CREATE TABLE questionnaires (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    brand TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT '',
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX questionnaires_fit ON questionnaires(brand, kind) WHERE active;
CREATE TABLE questionnaire_items (
    questionnaire_id INTEGER NOT NULL REFERENCES questionnaires(id),
    position INTEGER NOT NULL,
    label TEXT NOT NULL,
    PRIMARY KEY (questionnaire_id, position)
);
INSERT INTO questionnaires (name, brand, kind, active, created_at, updated_at)
VALUES ('通用回访问卷', '', '', TRUE, '2000-01-01T00:00:00Z', '2000-01-01T00:00:00Z');
INSERT INTO questionnaire_items (questionnaire_id, position, label) VALUES
    (1, 1, '响应速度'), (1, 2, '上门准时'), (1, 3, '服务态度'), (1, 4, '维修质量'), (1, 5, '收费合理');

-- The answers of a follow-up, one row per item as asked then (the label is kept, so a later
-- change of the questionnaire leaves past answers as they were); position 0 is the overall
-- item, the follow-up's rating.
ALTER TABLE follow_ups ADD COLUMN questionnaire_id INTEGER REFERENCES questionnaires(id);
CREATE TABLE follow_up_answers (
    follow_up_id INTEGER NOT NULL REFERENCES follow_ups(id),
    work_order_id INTEGER NOT NULL REFERENCES work_orders(id),
    position INTEGER NOT NULL,
    item TEXT NOT NULL,
    rating TEXT NOT NULL,
    PRIMARY KEY (follow_up_id, position)
);
CREATE INDEX follow_up_answers_order ON follow_up_answers(work_order_id);
-- Follow-ups answered before questionnaires: their overall rating is their one answer.
INSERT INTO follow_up_answers (follow_up_id, work_order_id, position, item, rating)
SELECT id, work_order_id, 0, '整体满意', rating FROM follow_ups;

-- The KPI facts count the answers and their scores (thirds of 100 points); the orders with a
-- follow-up are recomputed by the next catch-up.
ALTER TABLE kpi_facts ADD COLUMN csi_answers INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_facts ADD COLUMN csi_points INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_daily ADD COLUMN csi_answers INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_daily ADD COLUMN csi_points INTEGER NOT NULL DEFAULT 0;
INSERT INTO kpi_dirty (work_order_id) SELECT work_order_id FROM follow_ups WHERE TRUE
ON CONFLICT (work_order_id) DO NOTHING;

-- The answers as the KPI facts count them: each answer of an order completed on `day`, with
-- the order's grouping dimensions (a missing technician, partner, category or brand is 0 / ''),
-- replaced with the order's facts; and their counts per day, dimension, item and rating, moved
-- in the same transaction (minus the old, plus the new). CSI pages sum the daily counts.
CREATE TABLE kpi_csi_facts (
    work_order_id INTEGER NOT NULL,
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
    item TEXT NOT NULL,
    rating TEXT NOT NULL
);
CREATE INDEX kpi_csi_facts_order ON kpi_csi_facts(work_order_id);
CREATE TABLE kpi_csi_daily (
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
    item TEXT NOT NULL,
    rating TEXT NOT NULL,
    n INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, org_unit_id, unit_id, partner_unit_id, technician_id, category, brand, kind, warranty, tier, channel, item, rating)
) WITHOUT ROWID;
