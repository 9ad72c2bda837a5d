-- The manager's review of a completed order's service report: approved (signed) or returned.
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    work_order_id INTEGER NOT NULL REFERENCES work_orders(id),
    decision TEXT NOT NULL,
    comment TEXT,
    reviewer_id INTEGER NOT NULL REFERENCES users(id),
    at TEXT NOT NULL
);
CREATE INDEX reviews_order ON reviews(work_order_id);
