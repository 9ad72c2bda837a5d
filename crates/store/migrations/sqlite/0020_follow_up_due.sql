-- The orders due a follow-up call (回访): completed, reviewed or closed, with no answer, not
-- refused, and called fewer than 3 times without an answer (store::followups::MAX_CALL_ATTEMPTS).
-- Kept in the transaction of every change to an order, its answer or its calls
-- (store::followups::refresh_due), so the follow-up list reads a page of it in order instead of
-- scanning every order ever completed.
CREATE TABLE follow_up_due (
    work_order_id INTEGER PRIMARY KEY REFERENCES work_orders(id),
    completed_at TEXT
);
CREATE INDEX follow_up_due_completed ON follow_up_due(completed_at, work_order_id);
INSERT INTO follow_up_due (work_order_id, completed_at)
SELECT wo.id, wo.completed_at FROM work_orders wo
WHERE wo.status IN ('completed', 'reviewed', 'closed')
  AND NOT EXISTS (SELECT 1 FROM follow_ups f WHERE f.work_order_id = wo.id)
  AND NOT EXISTS (SELECT 1 FROM follow_up_calls fc WHERE fc.work_order_id = wo.id AND fc.outcome = 'refused')
  AND (SELECT COUNT(*) FROM follow_up_calls fc WHERE fc.work_order_id = wo.id AND fc.outcome = 'no_answer') < 3;
-- Statistics, so the planner reads the list from the queue (small) rather than the orders.
ANALYZE follow_up_due;
