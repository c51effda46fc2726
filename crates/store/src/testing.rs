//! Fresh, isolated databases for tests: a new SQLite file, or a new PostgreSQL database on the
//! server named by `CUNJIN_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/test`).
//!
//! A test that asks for PostgreSQL and cannot reach it fails loudly: it never skips.

use chrono::NaiveDate;
use sqlx::{Connection, Executor};

use crate::reports::changes::ChangeLog;
use crate::{Result, Store, StoreError};

/// Which engine a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestEngine {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A new database on the test PostgreSQL server.
    Postgres,
}

/// A database that exists for one test; dropped (SQLite file removed, PostgreSQL database
/// dropped) when the test ends.
#[derive(Debug)]
pub struct TestDb {
    /// The URL to hand to `Store::open` or `cunjin --db`.
    pub url: String,
    /// Keeps the SQLite file's directory alive.
    _dir: Option<std::path::PathBuf>,
    /// The PostgreSQL database to drop.
    pg_name: Option<String>,
}

/// The PostgreSQL server used by tests.
pub fn test_pg_url() -> String {
    std::env::var("CUNJIN_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

impl TestDb {
    /// Creates a fresh, empty database on `engine`.
    pub async fn new(engine: TestEngine) -> Result<TestDb> {
        sqlx::any::install_default_drivers();
        // The creation time in the name lets the test script drop what crashed runs left behind
        // without touching a run that is still going.
        let epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let unique = format!(
            "cunjin_t_{epoch}_{}",
            &crate::access::auth::new_secret()[..12]
        );
        match engine {
            TestEngine::Sqlite => {
                let dir = std::env::temp_dir().join(unique);
                std::fs::create_dir_all(&dir).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let url = format!("sqlite://{}?mode=rwc", dir.join("cunjin.db").display());
                Ok(TestDb {
                    url,
                    _dir: Some(dir),
                    pg_name: None,
                })
            }
            TestEngine::Postgres => {
                let admin = test_pg_url();
                let mut conn = sqlx::AnyConnection::connect(&admin).await.map_err(|e| {
                    StoreError::Corrupt(format!(
                        "PostgreSQL for tests is not reachable at {admin} ({e}); start it with \
                         `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` \
                         or set CUNJIN_TEST_PG"
                    ))
                })?;
                conn.execute(format!("CREATE DATABASE {unique}").as_str())
                    .await?;
                conn.close().await?;
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                Ok(TestDb {
                    url: format!("{base}/{unique}"),
                    _dir: None,
                    pg_name: Some(unique),
                })
            }
        }
    }

    /// Opens the database with migrations applied.
    pub async fn store(&self) -> Result<Store> {
        Store::open(&self.url).await
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = &self._dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some(name) = self.pg_name.take() {
            // Drop is not async and may run inside a runtime: a thread of its own does the work.
            let dropped = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let mut conn = sqlx::AnyConnection::connect(&test_pg_url()).await.ok()?;
                    conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await
                        .ok()?;
                    conn.close().await.ok()
                })
            })
            .join();
            if !matches!(dropped, Ok(Some(()))) {
                eprintln!(
                    "note: the test database could not be dropped; the test script drops it later"
                );
            }
        }
    }
}

/// The number of rows in every table, to prove that a refused request wrote nothing.
pub async fn row_counts(store: &Store) -> Result<std::collections::BTreeMap<String, i64>> {
    let list = match store.engine() {
        crate::Engine::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'"
        }
        crate::Engine::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%'"
        }
    };
    let tables: Vec<String> = sqlx::query_scalar(list).fetch_all(store.reader()).await?;
    let mut counts = std::collections::BTreeMap::new();
    for t in tables {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {t}"))
            .fetch_one(store.reader())
            .await?;
        counts.insert(t, n);
    }
    Ok(counts)
}

/// The exact terms of a search query in the order the query is driven: the first one's
/// postings are read, the others probed. Empty when the query cannot match.
pub async fn search_plan(
    store: &Store,
    workspace_id: i64,
    kind: crate::search::DocKind,
    q: &str,
) -> Result<Vec<String>> {
    Ok(store
        .plan_query(workspace_id, kind, q)
        .await?
        .map(|p| p.exact)
        .unwrap_or_default())
}

/// Two instances indexing the backlog at once, in a fixed order: both read the oldest entry,
/// then each tries to index it as read. Returns how many ids each covered.
pub async fn index_backlog_race(first: &Store, second: &Store) -> Result<(i64, i64)> {
    let a = first.backlog_head().await?;
    let b = second.backlog_head().await?;
    let (Some(a), Some(b)) = (a, b) else {
        return Ok((0, 0));
    };
    let one = first.index_backlog_part(&a).await?;
    let two = second.index_backlog_part(&b).await?;
    Ok((one, two))
}

/// The customers whose gap a write may have changed since report version `since`, by id.
pub async fn gap_changes_since(store: &Store, workspace_id: i64, since: i64) -> Result<Vec<i64>> {
    store
        .changed_since(ChangeLog::Gap, workspace_id, since, i64::MAX)
        .await
}

/// The portfolio gap `stale`, computed at report version `since`, brought up to date customer
/// by customer; `None` when the whole portfolio would be computed again instead.
pub async fn gap_brought_up(
    store: &Store,
    workspace_id: i64,
    since: i64,
    stale: &crate::reports::gap::PortfolioGap,
) -> Result<Option<crate::reports::gap::PortfolioGap>> {
    store.gap_brought_up(workspace_id, since, stale).await
}

/// The features whose score a write may have changed since report version `since`, by id.
pub async fn rank_changes_since(store: &Store, workspace_id: i64, since: i64) -> Result<Vec<i64>> {
    store
        .changed_since(ChangeLog::Rank, workspace_id, since, i64::MAX)
        .await
}

/// A roadmap ranking computed now, and the report version it was computed at.
pub struct StaleRanking {
    version: i64,
    ranking: crate::reports::roadmap::Ranking,
}

/// The ranking of the workspace on `today`, computed now.
pub async fn stale_ranking(
    store: &Store,
    workspace_id: i64,
    today: NaiveDate,
) -> Result<StaleRanking> {
    let version = store.report_version(workspace_id).await?;
    let ranking = store.compute_ranking(workspace_id, today).await?;
    Ok(StaleRanking { version, ranking })
}

/// The ranking `stale` brought up to date feature by feature, every feature with every term;
/// `None` when the whole ranking would be computed again instead. Each entry's `score` is the
/// one the ranking keeps (and sorts by), not the one its terms add up to again, so that a kept
/// score that was not brought up to date shows.
pub async fn ranking_brought_up(
    store: &Store,
    workspace_id: i64,
    stale: &StaleRanking,
    today: NaiveDate,
) -> Result<Option<Vec<crate::reports::roadmap::RoadmapEntry>>> {
    Ok(store
        .ranking_brought_up(workspace_id, stale.version, today, &stale.ranking)
        .await?
        .map(|r| {
            let mut entries = r.page(today, 0, usize::MAX).entries;
            for (e, f) in entries.iter_mut().zip(&r.features) {
                e.score = f.score;
            }
            entries
        }))
}

/// Every stored value of the columns that hold secrets, as the database has it, to prove that
/// no secret is stored in clear text.
pub async fn raw_secret_values(store: &Store) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for c in crate::ops::secrets::SecretColumn::ALL {
        let values: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT {col} FROM {table} WHERE {col} IS NOT NULL ORDER BY id",
            col = c.column(),
            table = c.table()
        ))
        .fetch_all(store.reader())
        .await?;
        out.extend(values);
    }
    Ok(out)
}

/// Writes `value` into a secret column as it is, past encryption: a database written by a
/// version before encryption, or changed outside cunjin.
pub async fn write_raw_secret(
    store: &Store,
    column: crate::ops::secrets::SecretColumn,
    id: i64,
    value: &str,
) -> Result<()> {
    sqlx::query(&format!(
        "UPDATE {} SET {} = $1 WHERE id = $2",
        column.table(),
        column.column()
    ))
    .bind(value)
    .bind(id)
    .execute(store.writer())
    .await?;
    Ok(())
}

/// SQLite's `PRAGMA integrity_check`: `Some("ok")` when the file is sound, the problems found
/// otherwise; `None` on PostgreSQL, which has no such check.
pub async fn integrity_check(store: &Store) -> Result<Option<String>> {
    if store.engine() != crate::Engine::Sqlite {
        return Ok(None);
    }
    let lines: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(store.reader())
        .await?;
    Ok(Some(lines.join("\n")))
}
