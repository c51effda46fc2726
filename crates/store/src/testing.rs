//! Fresh, isolated databases for tests: a new SQLite file, or a new PostgreSQL database on the
//! server named by `CUNJIN_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/test`).
//!
//! A test that asks for PostgreSQL and cannot reach it fails loudly: it never skips.

use sqlx::{Connection, Executor};

use crate::{Result, Store, StoreError};

/// Which engine a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestEngine {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A new database on the test PostgreSQL server.
    Postgres,
}

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDb {
    /// The URL to hand to `Store::open` or `cunjin --db`.
    pub url: String,
    /// Keeps the SQLite file's directory alive.
    _dir: Option<std::path::PathBuf>,
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
        let unique = format!("cunjin_t_{epoch}_{}", &crate::auth::new_secret()[..12]);
        match engine {
            TestEngine::Sqlite => {
                let dir = std::env::temp_dir().join(unique);
                std::fs::create_dir_all(&dir).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let url = format!("sqlite://{}?mode=rwc", dir.join("cunjin.db").display());
                Ok(TestDb {
                    url,
                    _dir: Some(dir),
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
    }
}
