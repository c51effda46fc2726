//! The schema: migrations kept per engine (`migrations/sqlite`, `migrations/postgres`), applied on
//! every start.

use crate::{Engine, Result, Store};

impl Store {
    /// Applies pending migrations; safe to run on every start.
    pub async fn migrate(&self) -> Result<()> {
        match self.engine {
            Engine::Sqlite => self.migrate_sqlite().await?,
            Engine::Postgres => {
                sqlx::migrate!("migrations/postgres")
                    .run(&self.writer)
                    .await?
            }
        }
        // Features written before the search index existed get their terms once.
        self.index_unindexed_features().await?;
        Ok(())
    }

    /// Applies SQLite's pending migrations. sqlx takes no lock around them on SQLite (it does
    /// on PostgreSQL): instances starting together on a new file each read that a migration is
    /// pending, and all but the first then fail to apply it ("table … already exists", or the
    /// row recording it is a duplicate). Each migration is one transaction, so a failed attempt
    /// left nothing: while other instances are making progress (more migrations are recorded
    /// as applied than before the attempt), the run is tried again; a migration that fails with
    /// nobody else applying it is an error.
    async fn migrate_sqlite(&self) -> Result<()> {
        let migrator = sqlx::migrate!("migrations/sqlite");
        let mut applied = self.sqlite_migrations_applied().await;
        loop {
            let failed = match migrator.run(&self.writer).await {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            let now = self.sqlite_migrations_applied().await;
            if now <= applied {
                return Err(failed.into());
            }
            tracing::debug!(error = %failed, "migrations applied by another instance meanwhile");
            applied = now;
        }
    }

    /// How many migrations the SQLite file records as applied (0 before the first).
    async fn sqlite_migrations_applied(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = 1")
            .fetch_one(&self.writer)
            .await
            .unwrap_or(0)
    }
}
