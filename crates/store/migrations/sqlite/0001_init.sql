-- shouhou schema, SQLite flavour. Keep tables and columns identical to ../postgres/0001_init.sql.
CREATE TABLE org_units (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES org_units(id),
    kind TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    address TEXT,
    lat REAL,
    lng REAL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    phone TEXT,
    lang TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    tier TEXT NOT NULL,
    note TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX customers_unit ON customers(org_unit_id);

CREATE TABLE customer_phones (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    phone TEXT NOT NULL,
    position INTEGER NOT NULL,
    UNIQUE (customer_id, phone)
);
CREATE INDEX customer_phones_phone ON customer_phones(phone);

CREATE TABLE customer_addresses (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    label TEXT,
    address TEXT NOT NULL,
    lat REAL NOT NULL,
    lng REAL NOT NULL,
    position INTEGER NOT NULL
);
CREATE INDEX customer_addresses_customer ON customer_addresses(customer_id);

CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    brand TEXT NOT NULL,
    model TEXT NOT NULL,
    category TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (brand, model)
);

CREATE TABLE warranty_policies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    manufacturer TEXT NOT NULL,
    whole_unit_months INTEGER NOT NULL,
    main_parts_months INTEGER NOT NULL,
    main_parts TEXT NOT NULL,
    labour_months INTEGER NOT NULL,
    starts_from TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE devices (
    id INTEGER PRIMARY KEY,
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    brand TEXT NOT NULL,
    serial TEXT NOT NULL,
    site_address_id INTEGER REFERENCES customer_addresses(id),
    purchase_date TEXT NOT NULL,
    purchase_store_id INTEGER REFERENCES org_units(id),
    install_date TEXT,
    policy_id INTEGER NOT NULL REFERENCES warranty_policies(id),
    qr_token TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (brand, serial)
);
CREATE INDEX devices_customer ON devices(customer_id);
CREATE INDEX devices_unit ON devices(org_unit_id);

CREATE TABLE technicians (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL UNIQUE REFERENCES users(id),
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    skills TEXT NOT NULL,
    start_address TEXT,
    start_lat REAL NOT NULL,
    start_lng REAL NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE shifts (
    id INTEGER PRIMARY KEY,
    technician_id INTEGER NOT NULL REFERENCES technicians(id),
    day TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    UNIQUE (technician_id, day)
);

CREATE TABLE sla_rules (
    id INTEGER PRIMARY KEY,
    priority TEXT NOT NULL,
    tier TEXT,
    respond_minutes INTEGER NOT NULL,
    arrive_minutes INTEGER NOT NULL,
    resolve_minutes INTEGER NOT NULL
);

CREATE TABLE wo_counters (
    day TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE work_orders (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    device_id INTEGER REFERENCES devices(id),
    address_id INTEGER REFERENCES customer_addresses(id),
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    fault_description TEXT NOT NULL,
    appointment_start TEXT,
    appointment_end TEXT,
    respond_by TEXT NOT NULL,
    arrive_by TEXT NOT NULL,
    resolve_by TEXT NOT NULL,
    warranty_decision TEXT NOT NULL,
    technician_id INTEGER REFERENCES technicians(id),
    partner_unit_id INTEGER REFERENCES org_units(id),
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    accepted_at TEXT,
    completed_at TEXT,
    reviewed_at TEXT,
    closed_at TEXT,
    cancelled_at TEXT,
    cancel_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX work_orders_unit_status ON work_orders(org_unit_id, status);
CREATE INDEX work_orders_technician ON work_orders(technician_id, status);
CREATE INDEX work_orders_device ON work_orders(device_id);
CREATE INDEX work_orders_customer ON work_orders(customer_id);
CREATE INDEX work_orders_created ON work_orders(created_at);
CREATE INDEX work_orders_completed ON work_orders(completed_at);
CREATE INDEX work_orders_partner ON work_orders(partner_unit_id);

CREATE TABLE work_order_events (
    id INTEGER PRIMARY KEY,
    work_order_id INTEGER NOT NULL REFERENCES work_orders(id),
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor_id INTEGER NOT NULL REFERENCES users(id),
    at TEXT NOT NULL,
    lat REAL,
    lng REAL,
    note TEXT
);
CREATE INDEX work_order_events_order ON work_order_events(work_order_id);

CREATE TABLE visits (
    id INTEGER PRIMARY KEY,
    work_order_id INTEGER NOT NULL REFERENCES work_orders(id),
    technician_id INTEGER REFERENCES technicians(id),
    seq INTEGER NOT NULL,
    departed_at TEXT,
    arrived_at TEXT,
    arrived_lat REAL,
    arrived_lng REAL,
    left_at TEXT,
    outcome TEXT,
    UNIQUE (work_order_id, seq)
);
CREATE INDEX visits_technician ON visits(technician_id, arrived_at);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    entity TEXT NOT NULL,
    entity_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    actor_id INTEGER REFERENCES users(id),
    at TEXT NOT NULL,
    changes TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);

CREATE TABLE idempotency_keys (
    user_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER,
    body TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- Lookup: one row per customer and per device; two FTS5 indexes over it.
CREATE TABLE search_docs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    ref_id INTEGER NOT NULL,
    org_unit_id INTEGER NOT NULL,
    doc TEXT NOT NULL,
    cjk TEXT NOT NULL,
    UNIQUE (kind, ref_id)
);
CREATE VIRTUAL TABLE search_tri USING fts5(doc, content='search_docs', content_rowid='id', tokenize='trigram');
CREATE VIRTUAL TABLE search_cjk USING fts5(cjk, content='search_docs', content_rowid='id', tokenize='unicode61');
CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_tri(rowid, doc) VALUES (new.id, new.doc);
    INSERT INTO search_cjk(rowid, cjk) VALUES (new.id, new.cjk);
END;
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_tri(search_tri, rowid, doc) VALUES ('delete', old.id, old.doc);
    INSERT INTO search_cjk(search_cjk, rowid, cjk) VALUES ('delete', old.id, old.cjk);
END;
CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN
    INSERT INTO search_tri(search_tri, rowid, doc) VALUES ('delete', old.id, old.doc);
    INSERT INTO search_cjk(search_cjk, rowid, cjk) VALUES ('delete', old.id, old.cjk);
    INSERT INTO search_tri(rowid, doc) VALUES (new.id, new.doc);
    INSERT INTO search_cjk(rowid, cjk) VALUES (new.id, new.cjk);
END;
