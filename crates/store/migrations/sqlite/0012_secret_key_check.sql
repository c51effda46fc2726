-- Which key encrypts this database's stored secrets (probe headers, webhook signing secrets):
-- its id and a known text encrypted with it, so that a server started with another key says so
-- at once instead of failing at the first probe or webhook. One row; belongs to this database
-- and is not carried in backups (every encrypted value names its key anyway).
CREATE TABLE secret_key_check (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    key_id TEXT NOT NULL,
    check_value TEXT NOT NULL,
    created_at TEXT NOT NULL
);
