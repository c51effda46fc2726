-- The promise ledger: workspaces, people, the catalogue, customers and what was promised to them.
-- Dates and times are ISO 8601 text; money is in hundredths; flags are 0/1 integers, the same
-- representation as on PostgreSQL so that one query text serves both engines.

CREATE TABLE workspaces (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT
);

CREATE TABLE products (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE features (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    menu_path TEXT NOT NULL,
    title TEXT NOT NULL,
    stage TEXT NOT NULL,
    effort_days REAL,
    target_release TEXT,
    slide_url TEXT,
    recording_url TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX features_by_product ON features (workspace_id, product_id, menu_path);

CREATE TABLE customers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    weight REAL NOT NULL DEFAULT 1.0,
    created_at TEXT NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE deals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    name TEXT NOT NULL,
    stage TEXT NOT NULL,
    contract_value INTEGER NOT NULL DEFAULT 0,
    acceptance_date TEXT,
    pilot INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX deals_by_customer ON deals (workspace_id, customer_id);

CREATE TABLE commitments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    deal_id INTEGER REFERENCES deals(id),
    feature_id INTEGER NOT NULL REFERENCES features(id),
    shown_as TEXT NOT NULL,
    promised_by TEXT NOT NULL,
    promised_at TEXT NOT NULL,
    due_date TEXT,
    critical INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX commitments_by_customer ON commitments (workspace_id, customer_id);
CREATE INDEX commitments_by_feature ON commitments (workspace_id, feature_id);
CREATE INDEX commitments_by_deal ON commitments (deal_id);

CREATE TABLE criteria (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    commitment_id INTEGER NOT NULL REFERENCES commitments(id),
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    met INTEGER NOT NULL DEFAULT 0,
    met_at TEXT,
    met_by TEXT
);
CREATE INDEX criteria_by_commitment ON criteria (commitment_id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    entity TEXT NOT NULL,
    entity_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    reason TEXT
);
CREATE INDEX audit_by_entity ON audit_log (workspace_id, entity, entity_id);
