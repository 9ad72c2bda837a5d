-- Complaints as records of their own: what they are about, how severe, due by severity (normal
-- 48 h, severe 24 h after creation), the resolution they were closed with, to whom they were
-- escalated, a version for concurrent edits, and a log of what was done.
ALTER TABLE complaints ADD COLUMN category TEXT NOT NULL DEFAULT 'other';
ALTER TABLE complaints ADD COLUMN severity TEXT NOT NULL DEFAULT 'normal';
ALTER TABLE complaints ADD COLUMN due_at TEXT;
ALTER TABLE complaints ADD COLUMN resolution TEXT;
ALTER TABLE complaints ADD COLUMN escalated_to INTEGER REFERENCES users(id);
ALTER TABLE complaints ADD COLUMN escalated_at TEXT;
ALTER TABLE complaints ADD COLUMN created_by INTEGER REFERENCES users(id);
ALTER TABLE complaints ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
-- Complaints opened before: normal, due 48 h after creation (times are fixed-width RFC 3339).
UPDATE complaints SET due_at = strftime('%Y-%m-%dT%H:%M:%S', created_at, '+48 hours') || substr(created_at, 20);
CREATE INDEX complaints_due ON complaints(status, due_at);
CREATE INDEX complaints_order ON complaints(work_order_id);

-- What was done about a complaint: 'note' (an action), 'escalated', 'closed'; by whom (none:
-- the automatic escalation of an overdue complaint).
CREATE TABLE complaint_actions (
    id INTEGER PRIMARY KEY,
    complaint_id INTEGER NOT NULL REFERENCES complaints(id),
    kind TEXT NOT NULL,
    note TEXT NOT NULL,
    user_id INTEGER REFERENCES users(id),
    -- An escalation: the manager it went to.
    to_user_id INTEGER REFERENCES users(id),
    at TEXT NOT NULL
);
CREATE INDEX complaint_actions_complaint ON complaint_actions(complaint_id, at);
