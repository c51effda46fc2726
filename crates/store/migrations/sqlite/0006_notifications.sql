-- Notifications: webhooks, the transactional outbox that delivers to them, and the calendar link.
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    -- JSON array of event names.
    events TEXT NOT NULL,
    -- Signing secret of DingTalk and Feishu robots; never answered back.
    secret TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX webhooks_by_workspace ON webhooks (workspace_id);

-- One row per message per webhook, written in the transaction of the change that causes it.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    -- The message as the webhook's service expects it (JSON).
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_by TEXT,
    claimed_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    UNIQUE (webhook_id, dedupe_key)
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_webhook ON outbox (webhook_id, id);

-- The hourly reminder scan looks for commitments by due date across workspaces.
CREATE INDEX commitments_by_due ON commitments (due_date);

CREATE TABLE calendar_links (
    workspace_id INTEGER PRIMARY KEY REFERENCES workspaces(id),
    token TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
