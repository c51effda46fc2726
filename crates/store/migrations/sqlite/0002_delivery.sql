-- Delivery to acceptance: releases ship features, deliveries hand them to customers, customers
-- read their status through a link, and the gap is kept day by day to show progress.

CREATE TABLE releases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    version TEXT NOT NULL,
    date TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (workspace_id, version)
);

CREATE TABLE release_features (
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    release_id INTEGER NOT NULL REFERENCES releases(id),
    feature_id INTEGER NOT NULL REFERENCES features(id),
    PRIMARY KEY (release_id, feature_id)
);
CREATE INDEX release_features_by_feature ON release_features (workspace_id, feature_id);

-- A release delivered (deployed) at a customer.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    release_id INTEGER NOT NULL REFERENCES releases(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    delivered_at TEXT NOT NULL,
    delivered_by TEXT NOT NULL,
    UNIQUE (release_id, customer_id)
);
CREATE INDEX deliveries_by_customer ON deliveries (workspace_id, customer_id);

-- The commitments a delivery marked delivered.
CREATE TABLE delivered_commitments (
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    release_id INTEGER NOT NULL REFERENCES releases(id),
    commitment_id INTEGER NOT NULL REFERENCES commitments(id),
    PRIMARY KEY (release_id, commitment_id)
);

-- One read-only status link per customer; rotating replaces the token.
CREATE TABLE status_links (
    customer_id INTEGER PRIMARY KEY REFERENCES customers(id),
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    token TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- A customer's gap at the end of a day; the gap on any day is the last snapshot on or before it.
CREATE TABLE gap_snapshots (
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    day TEXT NOT NULL,
    chi INTEGER NOT NULL,
    cun INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, customer_id, day)
);
CREATE INDEX gap_snapshots_by_day ON gap_snapshots (workspace_id, day);
