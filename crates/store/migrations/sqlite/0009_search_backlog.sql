-- Documents written without their search terms: a bulk import writes its requests at once and
-- leaves their terms to `cunjin serve`, which indexes the backlog in the background. Until a
-- range is indexed, search reads the text of its documents directly, so it finds them all along.
CREATE TABLE search_backlog (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    kind TEXT NOT NULL,
    first_id INTEGER NOT NULL,
    last_id INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX search_backlog_by_workspace ON search_backlog (workspace_id, kind);
