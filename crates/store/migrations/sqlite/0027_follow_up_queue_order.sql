-- The follow-up queue in the order calls are made: each order at the time its next call is due
-- (its completion, or after an unanswered call the retry time), with its unanswered calls so far
-- and that retry time, so a page of the list reads the queue in order without counting each
-- order's calls, and calls waiting for tomorrow do not hold the top of the list.
-- Kept by store::followups::refresh_due like the queue itself.
ALTER TABLE follow_up_due ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE follow_up_due ADD COLUMN retry_at TEXT;
ALTER TABLE follow_up_due ADD COLUMN call_at TEXT;
UPDATE follow_up_due SET
    attempts = (SELECT COUNT(*) FROM follow_up_calls fc WHERE fc.work_order_id = follow_up_due.work_order_id AND fc.outcome = 'no_answer'),
    retry_at = (SELECT MAX(fc.retry_at) FROM follow_up_calls fc WHERE fc.work_order_id = follow_up_due.work_order_id);
UPDATE follow_up_due SET call_at = COALESCE(retry_at, completed_at);
DROP INDEX follow_up_due_completed;
CREATE INDEX follow_up_due_call ON follow_up_due(call_at, work_order_id);
ANALYZE follow_up_due;
