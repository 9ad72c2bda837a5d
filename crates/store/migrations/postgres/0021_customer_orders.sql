-- A customer's orders of one status newest first (the order page's history, the work-order
-- list filtered by customer): a page reads its rows in order however many orders the customer
-- has (a company account may have thousands). Replaces the index on customer_id alone.
DROP INDEX work_orders_customer;
CREATE INDEX work_orders_customer ON work_orders(customer_id, status, created_at);
ANALYZE work_orders;
