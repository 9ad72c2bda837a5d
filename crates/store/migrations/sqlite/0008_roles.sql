-- Follow-up calls that got no rating: 'no_answer' (retried at retry_at, up to three calls) or
-- 'refused' (the customer declined; the call is closed without a rating). An answered call is
-- its follow_ups row.
CREATE TABLE follow_up_calls (
    id INTEGER PRIMARY KEY,
    work_order_id INTEGER NOT NULL REFERENCES work_orders(id),
    outcome TEXT NOT NULL,
    user_id INTEGER REFERENCES users(id),
    at TEXT NOT NULL,
    retry_at TEXT
);
CREATE INDEX follow_up_calls_order ON follow_up_calls(work_order_id);
