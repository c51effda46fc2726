//! Backup and restore: every table as JSON lines, readable by either engine, so that a backup of
//! a SQLite file restores into PostgreSQL and the other way round.
//!
//! Format: a header line `{"cunjin_backup": 1, "created_at": …, "tables": [...]}`, then one line
//! per row, `{"t": "table", "r": {"column": value, …}}`, tables in dependency order.
//!
//! Secrets (probe headers, webhook signing secrets) are written as stored, encrypted: a backup
//! gives none away, and restores only into a database with the same key (`secrets.rs`).

use std::borrow::Cow;
use std::io::{BufRead, Write};

use futures_util::TryStreamExt;
use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::{Column, Row};

use crate::{now, Engine, Result, Store, StoreError};

/// Version of the backup format.
pub const FORMAT: i64 = 1;

/// Every table, parents before children. A test checks that every table of the schema is here
/// or in `DERIVED`.
pub const TABLES: &[&str] = &[
    "workspaces",
    "users",
    "sessions",
    "api_tokens",
    "products",
    "features",
    "customers",
    "deals",
    "commitments",
    "criteria",
    "audit_log",
    "releases",
    "release_features",
    "deliveries",
    "delivered_commitments",
    "status_links",
    "gap_snapshots",
    "requests",
    "intake_links",
    "search_backlog",
    "search_terms",
    "environments",
    "probes",
    "probe_runs",
    "demos",
    "demo_items",
    "time_entries",
    "webhooks",
    "outbox",
    "calendar_links",
];

/// Tables of derived data, left out of backups: the triggers that fill them fill them again as a
/// backup is restored.
pub const DERIVED: &[&str] = &["gap_changes", "rank_changes"];

/// Tables that belong to one database, not to its data, left out of backups: the check of the
/// key that encrypts its secrets (a backup's secrets stay encrypted and name their key).
pub const LOCAL: &[&str] = &["secret_key_check"];

/// What a backup or restore moved.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Moved {
    /// Rows per table, in table order.
    pub tables: Vec<(String, u64)>,
}

impl Moved {
    /// All rows.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.1).sum()
    }
}

fn value_of(row: &AnyRow, i: usize) -> Value {
    // A column's type is only known at run time here: integers, then floats, then text.
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return v.map_or(Value::Null, Value::from);
    }
    if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
        return v.map_or(Value::Null, Value::from);
    }
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return v.map_or(Value::Null, Value::from);
    }
    if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
        return v.map_or(Value::Null, Value::from);
    }
    Value::Null
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Corrupt(format!("backup file: {e}"))
}

impl Store {
    /// The tables of the schema as the database reports them (without sqlx's own).
    pub async fn schema_tables(&self) -> Result<Vec<String>> {
        let q = match self.engine() {
            Engine::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'"
            }
            Engine::Postgres => {
                "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%'"
            }
        };
        let mut names: Vec<String> = sqlx::query_scalar(q).fetch_all(self.reader()).await?;
        names.sort();
        Ok(names)
    }

    /// Writes every row of every table to `out`, streaming (a table is never held in memory),
    /// inside one read transaction so that the backup is one consistent moment.
    pub async fn backup(
        &self,
        out: &mut impl Write,
        mut progress: impl FnMut(&str, u64),
    ) -> Result<Moved> {
        let header =
            serde_json::json!({"cunjin_backup": FORMAT, "created_at": now(), "tables": TABLES});
        writeln!(out, "{header}").map_err(io)?;
        let mut tx = self.reader().begin().await?;
        if self.engine() == Engine::Postgres {
            // Every table as of the same moment: at PostgreSQL's default level each statement
            // sees its own, and a part of the search backlog indexed between reading
            // `search_backlog` and `search_terms` would be in neither. (A SQLite read
            // transaction keeps one snapshot anyway.)
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let mut moved = Moved::default();
        for table in TABLES {
            let mut n = 0u64;
            let sql = format!("SELECT * FROM {table}");
            let mut rows = sqlx::query(&sql).fetch(&mut *tx);
            while let Some(row) = rows.try_next().await? {
                let mut r = Map::new();
                for (i, c) in row.columns().iter().enumerate() {
                    r.insert(c.name().to_string(), value_of(&row, i));
                }
                let line = serde_json::json!({"t": table, "r": r});
                writeln!(out, "{line}").map_err(io)?;
                n += 1;
                if n.is_multiple_of(10_000) {
                    progress(table, n);
                }
            }
            drop(rows);
            progress(table, n);
            moved.tables.push((table.to_string(), n));
        }
        tx.commit().await?;
        out.flush().map_err(io)?;
        Ok(moved)
    }

    /// Restores a backup into an empty database in one transaction: all of it or nothing.
    pub async fn restore(
        &self,
        input: impl BufRead,
        mut progress: impl FnMut(&str, u64),
    ) -> Result<Moved> {
        let mut lines = input.lines();
        let header: Value = match lines.next() {
            Some(l) => serde_json::from_str(&l.map_err(io)?)
                .map_err(|e| StoreError::Corrupt(format!("not a cunjin backup: {e}")))?,
            None => return Err(StoreError::Corrupt("the backup file is empty".into())),
        };
        if header["cunjin_backup"].as_i64() != Some(FORMAT) {
            return Err(StoreError::Corrupt(
                "not a cunjin backup (no cunjin_backup header)".into(),
            ));
        }
        let used: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM workspaces")
            .fetch_one(self.reader())
            .await?;
        if used > 0 {
            return Err(StoreError::Conflict(
                "the database is not empty: restore into a new database".into(),
            ));
        }
        let mut tx = self.writer().begin().await?;
        if self.engine() == Engine::Sqlite {
            // A row may point at a later row of its own table (a request marked duplicate of a
            // newer one): foreign keys are checked at commit.
            sqlx::query("PRAGMA defer_foreign_keys = ON")
                .execute(&mut *tx)
                .await?;
        }
        let mut moved = Moved::default();
        for (no, line) in lines.enumerate() {
            let line = line.map_err(io)?;
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(&line)
                .map_err(|e| StoreError::Corrupt(format!("line {}: {e}", no + 2)))?;
            let table = v["t"].as_str().unwrap_or_default();
            if !TABLES.contains(&table) {
                return Err(StoreError::Corrupt(format!(
                    "line {}: unknown table '{table}'",
                    no + 2
                )));
            }
            let Some(row) = v["r"].as_object() else {
                return Err(StoreError::Corrupt(format!("line {}: no row", no + 2)));
            };
            // NULL is written as a literal: a NULL parameter carries a type, which PostgreSQL
            // would refuse for a column of another type.
            let mut cols = Vec::with_capacity(row.len());
            let mut vals = Vec::with_capacity(row.len());
            let mut args = Vec::with_capacity(row.len());
            for (k, val) in row {
                if !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(StoreError::Corrupt(format!(
                        "line {}: column '{k}'",
                        no + 2
                    )));
                }
                cols.push(k.as_str());
                // Secrets come encrypted and must open with this database's key; clear text
                // from a backup of an older version is encrypted on the way in.
                let val = match val {
                    Value::String(v) => match self.restored_value(table, k, v)? {
                        Some(sealed) => Cow::Owned(Value::String(sealed)),
                        None => Cow::Borrowed(val),
                    },
                    _ => Cow::Borrowed(val),
                };
                if val.is_null() {
                    vals.push("NULL".to_string());
                } else {
                    args.push(val);
                    vals.push(format!("${}", args.len()));
                }
            }
            let sql = format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                cols.join(", "),
                vals.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for a in args {
                q = match &*a {
                    Value::Number(n) if n.is_i64() => q.bind(n.as_i64()),
                    Value::Number(n) => q.bind(n.as_f64()),
                    Value::Bool(b) => q.bind(i64::from(*b)),
                    Value::String(s) => q.bind(s.clone()),
                    other => q.bind(other.to_string()),
                };
            }
            q.execute(&mut *tx).await?;
            match moved.tables.last_mut() {
                Some((t, n)) if t == table => {
                    *n += 1;
                    if n.is_multiple_of(10_000) {
                        progress(table, *n);
                    }
                }
                _ => {
                    if let Some((t, n)) = moved.tables.last() {
                        progress(t, *n);
                    }
                    moved.tables.push((table.to_string(), 1));
                }
            }
        }
        if let Some((t, n)) = moved.tables.last() {
            progress(t, *n);
        }
        if self.engine() == Engine::Postgres {
            // Identity columns continue after the restored ids. Only tables that have an `id`
            // are asked: an error would abort the transaction, and PostgreSQL answers the COMMIT
            // of an aborted transaction with a silent rollback.
            let with_id: Vec<String> = sqlx::query_scalar(
                "SELECT CAST(table_name AS TEXT) FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND column_name = 'id'",
            )
            .fetch_all(&mut *tx)
            .await?;
            for table in TABLES.iter().filter(|t| with_id.iter().any(|w| w == *t)) {
                let seq: Option<String> =
                    sqlx::query_scalar("SELECT CAST(pg_get_serial_sequence($1, 'id') AS TEXT)")
                        .bind(*table)
                        .fetch_one(&mut *tx)
                        .await?;
                if let Some(seq) = seq {
                    sqlx::query(&format!(
                        "SELECT setval('{seq}', COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                    ))
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(moved)
    }
}
