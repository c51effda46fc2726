-- Demo readiness: demo environments, the probes that check them, the history of probe runs, and
-- demos with their scripts. Times are RFC 3339 UTC text, compared as text (same format everywhere).

CREATE TABLE environments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    base_url TEXT NOT NULL,
    -- JSON object of header name to value; secrets such as demo-login tokens, never answered in full.
    headers TEXT NOT NULL DEFAULT '{}',
    interval_s INTEGER NOT NULL,
    -- The scheduler claims a run by moving this forward with a compare-and-set.
    next_run_at TEXT NOT NULL,
    last_run_at TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE INDEX environments_due ON environments (next_run_at);

CREATE TABLE probes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    environment_id INTEGER NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    feature_id INTEGER REFERENCES features(id),
    dataset TEXT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    expect_status INTEGER NOT NULL,
    expect_body TEXT,
    expect_regex TEXT,
    json_pointer TEXT,
    json_value TEXT,
    timeout_ms INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX probes_by_environment ON probes (workspace_id, environment_id);

CREATE TABLE probe_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    probe_id INTEGER NOT NULL REFERENCES probes(id) ON DELETE CASCADE,
    environment_id INTEGER NOT NULL,
    at TEXT NOT NULL,
    passed INTEGER NOT NULL,
    status INTEGER,
    elapsed_ms INTEGER NOT NULL,
    -- JSON of the core's ProbeFailure, NULL when it passed.
    failure TEXT
);
CREATE INDEX probe_runs_latest ON probe_runs (probe_id, id);
CREATE INDEX probe_runs_by_age ON probe_runs (at);

CREATE TABLE demos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    deal_id INTEGER REFERENCES deals(id),
    environment_id INTEGER REFERENCES environments(id),
    title TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    -- JSON array of names.
    attendees TEXT NOT NULL DEFAULT '[]',
    -- JSON of the last readiness check, and when it ran.
    last_check TEXT,
    last_checked_at TEXT,
    check_24h_done_at TEXT,
    check_1h_done_at TEXT,
    promises_recorded_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX demos_by_start ON demos (starts_at);
CREATE INDEX demos_by_customer ON demos (workspace_id, customer_id);

CREATE TABLE demo_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    demo_id INTEGER NOT NULL REFERENCES demos(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    feature_id INTEGER REFERENCES features(id),
    text TEXT,
    must_show INTEGER NOT NULL DEFAULT 0,
    -- The commitment recorded from this item after the demo.
    commitment_id INTEGER REFERENCES commitments(id)
);
CREATE INDEX demo_items_by_demo ON demo_items (demo_id, position);
