-- The orders behind a KPI (its drill-down list): each order's fact of one basis (completion,
-- acceptance, arrive-by hold one per order) in the list's order, latest day first, so a page
-- reads a page of the index instead of grouping the period's facts (store::kpi::orders).
CREATE INDEX kpi_facts_basis_day ON kpi_facts(basis, day, work_order_id);
