-- The store's hotline, shown to customers on the QR pages.
ALTER TABLE org_units ADD COLUMN phone TEXT;
