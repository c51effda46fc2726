//! Storage for cunjin: the same queries on an embedded SQLite file (the default) and on
//! PostgreSQL (for teams and several `cunjin serve` instances).
//!
//! One folder per aggregate, one file per job inside: `access` (users, sessions, tokens,
//! workspaces, token links, the audit log), `ledger` (catalogue, customers, commitments,
//! progress), `requests`, `search` (the term index and its backlog), `reports` (the portfolio
//! gap, the roadmap and the copies kept of both), `demos` (demos, environments, the calendar),
//! `delivery` (releases, status links), `notify` (webhooks and their outbox), `ops` (migrations,
//! backup, secrets at rest) and `hats` (time entries); `demo`, `generate` and `imports` write
//! sample and imported data through them. Dependencies between them run one way: what several
//! aggregates share (the stored time format, bulk-write helpers, errors) lives here.
//!
//! Both engines run through sqlx's `Any` driver with one query text:
//! `$n` placeholders, ISO 8601 text for dates, 0/1 integers for flags and hundredths for money,
//! so that behaviour cannot drift between engines. Migrations are kept per engine.

pub mod access;
mod column;
pub mod delivery;
pub mod demos;
pub mod hats;
pub mod imports;
pub mod ledger;
pub mod notify;
pub mod ops;
pub mod reports;
pub mod requests;
pub mod sample;
pub mod search;
mod sql;
pub mod testing;

use std::str::FromStr;

use cunjin_core::{ParseError, TransitionError};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions};

/// Values bound per multi-row statement on SQLite. sqlx's SQLite driver finds each `$n` by
/// walking the statement's list of parameter names, so binding costs the square of the values
/// in one statement: with 3,600 values (400 requests) 70 % of an import went there. Near 128
/// values the walk and the cost of one more statement balance. Anonymous `?` placeholders have
/// no names to walk: the bulk insert of requests binds thousands of them per statement.
const SQLITE_VALUES_PER_STATEMENT: usize = 128;
/// Values bound per statement on PostgreSQL, which binds by position (its limit is 65,535).
const POSTGRES_VALUES_PER_STATEMENT: usize = 30_000;

/// How many rows of `values_per_row` bound values one multi-row `INSERT` on `conn` carries: at
/// least one, at most `max_rows`.
pub(crate) fn rows_per_statement(
    conn: &sqlx::AnyConnection,
    values_per_row: usize,
    max_rows: usize,
) -> usize {
    let values = if conn.backend_name() == "SQLite" {
        SQLITE_VALUES_PER_STATEMENT
    } else {
        POSTGRES_VALUES_PER_STATEMENT
    };
    (values / values_per_row.max(1)).clamp(1, max_rows.max(1))
}

/// The elements of a JSON array bound as `$n`, as a table `e` with each element in `e.value`
/// (read with `e.value ->> i`, which both engines have). A bulk write passes its rows this way,
/// as one value: one statement per batch instead of thousands of bound values, each a message
/// to SQLite's worker thread and a name lookup (see [`rows_per_statement`]). Only this `FROM`
/// differs between the engines.
pub(crate) fn json_rows(conn: &sqlx::AnyConnection, n: usize) -> String {
    if conn.backend_name() == "SQLite" {
        format!("json_each(${n}) AS e")
    } else {
        format!("jsonb_array_elements(CAST(${n} AS jsonb)) AS e(value)")
    }
}

/// Which database engine a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Everything that can go wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No record with that id in this workspace.
    #[error("{entity} {id} not found")]
    NotFound {
        /// The kind of record.
        entity: &'static str,
        /// The id that was asked for.
        id: String,
    },
    /// The write would break a uniqueness rule or refers to something inconsistent.
    #[error("{0}")]
    Conflict(String),
    /// A value was not valid.
    #[error(transparent)]
    Invalid(#[from] ParseError),
    /// A commitment cannot make that step.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The URL does not name a supported database.
    #[error("unsupported database URL '{0}': use a file path, sqlite://FILE or postgres://…")]
    BadUrl(String),
    /// A stored value could not be read back; the database was changed outside cunjin.
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// The database cannot be reached or dropped the connection (restarting, down, out of
    /// connections): nothing was written, and the same request may succeed in a few seconds.
    #[error("the database is unavailable: {0}")]
    Unavailable(sqlx::Error),
    /// The transaction lost a race with another one (a deadlock or serialization failure on
    /// PostgreSQL, a lock held too long on SQLite) and was rolled back whole; it may be retried.
    #[error("the database is busy: {0}")]
    Busy(sqlx::Error),
    /// The disk under the database is full: nothing was written; reads still work.
    #[error("the database's disk is full: {0}")]
    Full(sqlx::Error),
    /// The database failed.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The key of the stored secrets is missing or does not match.
    #[error(transparent)]
    SecretKey(#[from] ops::secrets::SecretKeyError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        // PostgreSQL cannot hold U+0000 in text (SQLSTATE 22021); text that reaches it with one
        // is bad input, whatever path it came by, not a failure of the database.
        if let sqlx::Error::Database(d) = &e {
            if d.code().as_deref() == Some("22021") {
                return StoreError::Invalid(ParseError::new(
                    "text",
                    "may not contain the NUL character (U+0000) / 文本不能含有 NUL 字符",
                ));
            }
        }
        // A column that does not read as its row struct says (a bad stored date, an unknown
        // stage name): the data was changed outside cunjin.
        if let sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) = &e {
            return StoreError::Corrupt(e.to_string());
        }
        match failure_kind(&e) {
            Failure::Unavailable => StoreError::Unavailable(e),
            Failure::Busy => StoreError::Busy(e),
            Failure::Full => StoreError::Full(e),
            Failure::Other => StoreError::Database(e),
        }
    }
}

/// What kind of failure a database error is, for the answer a client gets.
#[derive(Debug, PartialEq, Eq)]
enum Failure {
    Unavailable,
    Busy,
    Full,
    Other,
}

fn failure_kind(e: &sqlx::Error) -> Failure {
    match e {
        // The connection broke or none could be made in time (the pool waits for a server that
        // refuses connections while it restarts, then gives up).
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Failure::Unavailable,
        sqlx::Error::Database(d) => {
            let code = d.code().unwrap_or_default();
            match code.as_ref() {
                // PostgreSQL: disk full; out of memory or connections; shutting down,
                // restarting or starting up; class 08, connection exceptions.
                "53100" => Failure::Full,
                "53200" | "53300" | "57P01" | "57P02" | "57P03" => Failure::Unavailable,
                c if c.starts_with("08") => Failure::Unavailable,
                // PostgreSQL: deadlock, serialization failure, lock not available.
                "40P01" | "40001" | "55P03" => Failure::Busy,
                // SQLite primary result codes (the low byte of extended ones): SQLITE_FULL;
                // SQLITE_BUSY and SQLITE_LOCKED.
                c => match c.parse::<i32>().map(|n| n & 0xff) {
                    Ok(13) => Failure::Full,
                    Ok(5) | Ok(6) => Failure::Busy,
                    // SQLITE_IOERR with a message about space: some writes that find the disk
                    // full (the write-ahead log growing) report an I/O error instead.
                    Ok(10) if d.message().contains("full") => Failure::Full,
                    _ => Failure::Other,
                },
            }
        }
        _ => Failure::Other,
    }
}

impl StoreError {
    /// A not-found error for `entity` with `id`.
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        StoreError::NotFound {
            entity,
            id: id.to_string(),
        }
    }
}

/// Result of a storage operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database behind cunjin.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// SQLite allows one writer at a time; writes go through a pool of one connection there so
    /// that transactions queue instead of failing with SQLITE_BUSY. On PostgreSQL it is `pool`.
    writer: AnyPool,
    engine: Engine,
    /// The last portfolio gap and roadmap of each workspace (`reports/kept.rs`).
    reports: std::sync::Arc<reports::kept::Reports>,
    /// The key of the stored secrets (`ops/secrets.rs`).
    keyring: std::sync::Arc<ops::secrets::Keyring>,
    /// The database URL as normalized, where the default key file is found from.
    url: String,
}

/// Turns what a user typed into a database URL: a bare path means a SQLite file.
pub fn normalize_url(db: &str) -> Result<(String, Engine)> {
    let db = db.trim();
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        return Ok((db.to_string(), Engine::Postgres));
    }
    if let Some(rest) = db.strip_prefix("sqlite://").or(db.strip_prefix("sqlite:")) {
        let sep = if rest.contains('?') { '&' } else { '?' };
        let url = if rest.contains("mode=") {
            format!("sqlite://{rest}")
        } else {
            format!("sqlite://{rest}{sep}mode=rwc")
        };
        return Ok((url, Engine::Sqlite));
    }
    if db.is_empty() || db.contains("://") {
        return Err(StoreError::BadUrl(db.to_string()));
    }
    Ok((format!("sqlite://{db}?mode=rwc"), Engine::Sqlite))
}

impl Store {
    /// Connects to `db` (a file path, `sqlite://…` or `postgres://…`) without migrating.
    pub async fn connect(db: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let (url, engine) = normalize_url(db)?;
        let options = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        let keyring = std::sync::Arc::<ops::secrets::Keyring>::default();
        let store = match engine {
            Engine::Sqlite => {
                let pool = sqlite_pool(8, READER_PRAGMAS)
                    .connect_with(options.clone())
                    .await?;
                let writer = sqlite_pool(1, WRITER_PRAGMAS).connect_with(options).await?;
                Store {
                    pool,
                    writer,
                    engine,
                    reports: Default::default(),
                    keyring,
                    url,
                }
            }
            Engine::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    // While the server restarts it refuses connections, and the pool keeps
                    // trying until this deadline (30 s by default): a request then fails with
                    // 503 in seconds instead of hanging until the request timeout.
                    .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await?;
                Store {
                    writer: pool.clone(),
                    pool,
                    engine,
                    reports: Default::default(),
                    keyring,
                    url,
                }
            }
        };
        Ok(store)
    }

    /// Connects, applies every pending migration and loads the key of the stored secrets
    /// from its default place (see [`ops::secrets::SecretKeySource::Default`]).
    pub async fn open(db: &str) -> Result<Store> {
        Store::open_with(db, ops::secrets::SecretKeySource::Default).await
    }

    /// The engine in use.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The pool for reads.
    pub(crate) fn reader(&self) -> &AnyPool {
        &self.pool
    }

    /// The pool for writes.
    pub(crate) fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// A write transaction on the ledger of `workspace_id`: commitments, criteria, features,
    /// customers, deals or requests linked to a feature, whose every write moves the
    /// workspace's report version (triggers of migrations 0008 and 0010 update its row in
    /// `workspaces`). On PostgreSQL that row is locked here, first: the triggers would otherwise
    /// lock it after the rows a statement changes, and two transactions that each changed a
    /// row the other then wanted (a release moving features 1 and 2 while feature 2 is edited)
    /// deadlocked, one of them failing. Taken first, the row orders every ledger write of a
    /// workspace, as the triggers did from their first write on anyway. On SQLite, `BEGIN
    /// IMMEDIATE` takes the write lock at once, so that a transaction that read first cannot
    /// fail when another process wrote meanwhile.
    pub(crate) async fn begin_ledger(
        &self,
        workspace_id: i64,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        match self.engine {
            Engine::Sqlite => Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?),
            Engine::Postgres => {
                let mut tx = self.writer.begin().await?;
                sqlx::query("SELECT id FROM workspaces WHERE id = $1 FOR NO KEY UPDATE")
                    .bind(workspace_id)
                    .execute(&mut *tx)
                    .await?;
                Ok(tx)
            }
        }
    }

    /// A write transaction that runs alone among every instance on the database: `BEGIN
    /// IMMEDIATE` on SQLite (the write lock is taken at once, so two instances cannot both read
    /// "nothing there" and then both write), a transaction-scoped advisory lock on PostgreSQL
    /// (held until commit or rollback). For the rare writes that decide from what is absent,
    /// such as the first start on an empty database.
    pub(crate) async fn begin_alone(
        &self,
        lock: AloneLock,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        match self.engine {
            Engine::Sqlite => Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?),
            Engine::Postgres => {
                let mut tx = self.writer.begin().await?;
                // Wrapped in a query that returns a value: the function itself returns `void`,
                // which the `Any` driver cannot describe.
                sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock($1)) l")
                    .bind(lock as i64)
                    .execute(&mut *tx)
                    .await?;
                Ok(tx)
            }
        }
    }

    /// Checks that the database answers, for `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

/// The keys of PostgreSQL advisory locks taken by [`Store::begin_alone`]; one per kind of
/// decision, so that unrelated ones do not wait for each other. The values are arbitrary but
/// fixed: every instance must use the same.
#[derive(Debug, Clone, Copy)]
#[repr(i64)]
pub(crate) enum AloneLock {
    /// Making the default workspace and the first administrator of an empty database.
    FirstStart = 0x6375_6e6a_0001,
}

/// How long a PostgreSQL query waits for a connection (a free one, or a new one made to a
/// server that refuses them) before it fails as [`StoreError::Unavailable`].
const POSTGRES_ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Connection settings of the SQLite readers beyond the common ones (none).
const READER_PRAGMAS: &[&str] = &[];
/// Of the one SQLite writer. Inside a transaction each statement keeps the pages it changes in
/// a statement journal, to undo that statement alone if it fails; SQLite keeps that journal in
/// a temporary file, and an import of 100,000 requests wrote 300,000 pages to it, a system call
/// each: in memory it costs a copy. A bulk write also touches pages of every index of a table,
/// which with SQLite's 2 MB of cache went out to the write-ahead log and were read back.
const WRITER_PRAGMAS: &[&str] = &["PRAGMA temp_store = MEMORY", "PRAGMA cache_size = -65536"];

fn sqlite_pool(max: u32, extra: &'static [&'static str]) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        // A connection goes back to the pool only outside any transaction. When a COMMIT fails
        // (SQLITE_FULL on a full disk), SQLite rolls the transaction back by itself, sqlx's
        // ROLLBACK on drop then fails, and sqlx goes on counting one transaction open: its next
        // `begin` became a SAVEPOINT, a failure of that one left a real transaction open under
        // sqlx's count, and every later write was "committed" into it, acknowledged but never
        // written (measured: thousands of 201s with the file not growing by a byte). Such a
        // connection is closed, which rolls back whatever it held, and a new one is made.
        .after_release(|conn, _meta| {
            Box::pin(async move {
                // The rollback of a dropped transaction is queued: the ping waits for it.
                sqlx::Connection::ping(&mut *conn).await?;
                if sqlx::Connection::is_in_transaction(conn) {
                    tracing::warn!(
                        "a database connection was left inside a transaction; it is closed"
                    );
                    return Ok(false);
                }
                Ok(true)
            })
        })
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                for pragma in extra {
                    sqlx::Executor::execute(&mut *conn, *pragma).await?;
                }
                // WAL lets readers go on while one writer writes; foreign keys are off by default
                // in SQLite and the schema relies on them.
                for pragma in [
                    "PRAGMA journal_mode = WAL",
                    "PRAGMA synchronous = NORMAL",
                    "PRAGMA foreign_keys = ON",
                    "PRAGMA busy_timeout = 10000",
                ] {
                    sqlx::Executor::execute(&mut *conn, pragma).await?;
                }
                Ok(())
            })
        })
}

/// The current time as stored (see [`stored_time`]).
pub(crate) fn now() -> String {
    stored_time(chrono::Utc::now())
}

/// Stored time format: RFC 3339, UTC, milliseconds, so that text order is time order.
pub fn stored_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Today's date where the server runs (set `TZ`, e.g. Asia/Shanghai): due dates and urgency are
/// about the customer's calendar day, not UTC's.
pub fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

/// Reads a stored ISO date.
pub(crate) fn parse_date(s: Option<String>) -> Result<Option<chrono::NaiveDate>> {
    s.map(|d| {
        chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
            .map_err(|_| StoreError::Corrupt(format!("date '{d}'")))
    })
    .transpose()
}

/// Reads a stored enum by its parser.
pub(crate) fn parse_stored<T>(
    s: &str,
    parse: impl Fn(&str) -> std::result::Result<T, ParseError>,
) -> Result<T> {
    parse(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Maps a unique-constraint violation to a readable conflict.
pub(crate) fn conflict_on_unique(e: sqlx::Error, message: impl FnOnce() -> String) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(message()),
        _ => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            normalize_url("cunjin.db").unwrap(),
            ("sqlite://cunjin.db?mode=rwc".into(), Engine::Sqlite)
        );
        assert_eq!(
            normalize_url("sqlite:///tmp/x.db").unwrap().0,
            "sqlite:///tmp/x.db?mode=rwc"
        );
        assert_eq!(
            normalize_url("postgres://u@h/db").unwrap().1,
            Engine::Postgres
        );
        assert!(normalize_url("mysql://x").is_err());
    }
}
