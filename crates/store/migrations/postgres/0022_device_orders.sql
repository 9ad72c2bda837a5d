-- A device's orders by creation: the KPI facts ask, for each recomputed order, for the next
-- repair order on its device after its completion (a repeat repair), which with an index on
-- the device alone read every order the device ever had (hundreds for a copier under
-- contract). Replaces the index on device_id alone.
DROP INDEX work_orders_device;
CREATE INDEX work_orders_device ON work_orders(device_id, created_at);
ANALYZE work_orders;
