-- The work-order list newest first within one status (the desk's usual filter): a page reads
-- its rows from this index in order, whatever the status matches, instead of sorting them all.
CREATE INDEX work_orders_status_created ON work_orders(status, created_at);
ANALYZE work_orders;
