-- Hats: where a person's time goes (planning, implementation, testing, presales, relay).
CREATE TABLE time_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    person TEXT NOT NULL,
    date TEXT NOT NULL,
    hat TEXT NOT NULL,
    minutes INTEGER NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX time_entries_by_date ON time_entries (workspace_id, date);
CREATE INDEX time_entries_by_person ON time_entries (workspace_id, person, date);
