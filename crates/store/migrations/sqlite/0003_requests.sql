-- Requests (需求) from every role, their decisions, the workspace's public intake link, and the
-- search terms of requests and features (see cunjin_core::search: the same table and the same
-- queries on both engines, so search gives the same answers on SQLite and PostgreSQL).

CREATE TABLE requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    text TEXT NOT NULL,
    source_role TEXT NOT NULL,
    customer_id INTEGER REFERENCES customers(id),
    requester TEXT NOT NULL DEFAULT '',
    contact TEXT NOT NULL DEFAULT '',
    product_id INTEGER REFERENCES products(id),
    feature_id INTEGER REFERENCES features(id),
    decision TEXT NOT NULL DEFAULT 'new',
    reason TEXT,
    duplicate_of INTEGER REFERENCES requests(id),
    planned_release TEXT,
    status_token TEXT NOT NULL UNIQUE,
    via TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT
);
CREATE INDEX requests_by_decision ON requests (workspace_id, decision, id);
CREATE INDEX requests_by_feature ON requests (workspace_id, feature_id);
CREATE INDEX requests_by_customer ON requests (workspace_id, customer_id);
CREATE INDEX requests_by_original ON requests (workspace_id, duplicate_of);

CREATE TABLE intake_links (
    workspace_id INTEGER PRIMARY KEY REFERENCES workspaces(id),
    token TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- One row per distinct term of a document (kind 'request' or 'feature').
CREATE TABLE search_terms (
    workspace_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    doc_id INTEGER NOT NULL,
    term TEXT NOT NULL,
    PRIMARY KEY (workspace_id, kind, doc_id, term)
) WITHOUT ROWID;
CREATE INDEX search_terms_by_term ON search_terms (workspace_id, kind, term, doc_id);
