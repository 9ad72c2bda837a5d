-- The technician's visit and service report, parts used, charges, photos, opportunities, the
-- knowledge base, follow-ups with complaints, and the customer's self-service requests.

-- A product's parts list: [{"name": "压缩机", "price_fen": 68000}, …].
ALTER TABLE products ADD COLUMN parts TEXT NOT NULL DEFAULT '[]';
-- Senior technicians may write knowledge-base articles.
ALTER TABLE technicians ADD COLUMN senior BOOLEAN NOT NULL DEFAULT 0;

-- The service report of one visit.
ALTER TABLE visits ADD COLUMN findings TEXT;
ALTER TABLE visits ADD COLUMN work_done TEXT;
ALTER TABLE visits ADD COLUMN labour_minutes INTEGER;
-- The customer's signature as SVG path data, drawn on the technician's screen.
ALTER TABLE visits ADD COLUMN signature TEXT;
ALTER TABLE visits ADD COLUMN signed_by TEXT;
ALTER TABLE visits ADD COLUMN signed_at TEXT;

-- Labour and travel fee by work-order type and product category ('*' = any category).
CREATE TABLE fee_rules (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    category TEXT NOT NULL,
    labour_fen INTEGER NOT NULL,
    travel_fen INTEGER NOT NULL,
    UNIQUE (kind, category)
);

-- Parts used on an order; client_key makes a retried request a no-op.
CREATE TABLE part_lines (
    id INTEGER PRIMARY KEY,
    work_order_id INTEGER NOT NULL REFERENCES work_orders(id),
    visit_id INTEGER REFERENCES visits(id),
    client_key TEXT NOT NULL,
    name TEXT NOT NULL,
    qty INTEGER NOT NULL,
    unit_price_fen INTEGER NOT NULL,
    main_part BOOLEAN NOT NULL,
    payer TEXT NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    UNIQUE (work_order_id, client_key)
);

-- Labour and travel charges of a visit, priced from the fee rules when the report is saved.
CREATE TABLE charges (
    id INTEGER PRIMARY KEY,
    work_order_id INTEGER NOT NULL REFERENCES work_orders(id),
    visit_id INTEGER NOT NULL REFERENCES visits(id),
    kind TEXT NOT NULL,
    amount_fen INTEGER NOT NULL,
    payer TEXT NOT NULL
);
CREATE INDEX charges_order ON charges(work_order_id);

CREATE TABLE photos (
    id INTEGER PRIMARY KEY,
    work_order_id INTEGER NOT NULL REFERENCES work_orders(id),
    visit_id INTEGER REFERENCES visits(id),
    client_key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    UNIQUE (work_order_id, client_key)
);

-- Sales leads (商机) captured on an order.
CREATE TABLE opportunities (
    id INTEGER PRIMARY KEY,
    work_order_id INTEGER NOT NULL REFERENCES work_orders(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    client_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    value_fen INTEGER NOT NULL,
    note TEXT,
    status TEXT NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (work_order_id, client_key)
);
CREATE INDEX opportunities_unit ON opportunities(org_unit_id, status);

-- Knowledge base: symptom → cause → fix, by category and optionally product.
CREATE TABLE kb_articles (
    id INTEGER PRIMARY KEY,
    category TEXT NOT NULL,
    product_id INTEGER REFERENCES products(id),
    title TEXT NOT NULL,
    symptom TEXT NOT NULL,
    cause TEXT NOT NULL,
    fix TEXT NOT NULL,
    author_id INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX kb_articles_category ON kb_articles(category);

-- The follow-up answer (回访), by phone or by the customer on the tracking page; one per order.
CREATE TABLE follow_ups (
    id INTEGER PRIMARY KEY,
    work_order_id INTEGER NOT NULL UNIQUE REFERENCES work_orders(id),
    rating TEXT NOT NULL,
    comment TEXT,
    channel TEXT NOT NULL,
    user_id INTEGER REFERENCES users(id),
    at TEXT NOT NULL
);

-- A dissatisfied answer opens a complaint with an owner.
CREATE TABLE complaints (
    id INTEGER PRIMARY KEY,
    work_order_id INTEGER NOT NULL REFERENCES work_orders(id),
    follow_up_id INTEGER REFERENCES follow_ups(id),
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    owner_id INTEGER REFERENCES users(id),
    status TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE INDEX complaints_unit ON complaints(org_unit_id, status);

-- A fault reported by QR code whose phone did not match the owner's: the clerk verifies it.
CREATE TABLE service_requests (
    id INTEGER PRIMARY KEY,
    device_id INTEGER NOT NULL REFERENCES devices(id),
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    phone TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL,
    work_order_id INTEGER REFERENCES work_orders(id),
    created_at TEXT NOT NULL,
    handled_by INTEGER REFERENCES users(id),
    handled_at TEXT
);
CREATE INDEX service_requests_unit ON service_requests(org_unit_id, status);

-- Starting fee rules (fen); the admin changes them under Settings.
INSERT INTO fee_rules (kind, category, labour_fen, travel_fen) VALUES
    ('repair_onsite', '*', 8000, 3000),
    ('install', '*', 5000, 0),
    ('replacement', '*', 5000, 3000),
    ('maintenance', '*', 6000, 2000),
    ('inspection', '*', 3000, 2000),
    ('repair_phone', '*', 0, 0);
