//! Workspaces: one vendor each; every top-level record belongs to one.

use cunjin_core::RoadmapWeights;
use serde::Serialize;

use crate::{now, AloneLock, Result, Store, StoreError};

/// The name of the workspace made on a database that has none (first start, first import).
pub const DEFAULT_WORKSPACE: &str = "默认工作区 Default workspace";

/// A vendor's workspace.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Workspace {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
}

/// Per-workspace settings, stored as JSON so that later settings need no migration.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Weights of the roadmap score.
    pub roadmap: RoadmapWeights,
}

const FIRST_WORKSPACE: &str = "SELECT id, name FROM workspaces ORDER BY id LIMIT 1";

impl Store {
    /// Creates a workspace.
    pub async fn create_workspace(&self, name: &str) -> Result<Workspace> {
        let name = cunjin_core::required_text("name", name, 200)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO workspaces (name, settings, created_at) VALUES ($1, '{}', $2) RETURNING id",
        )
        .bind(&name)
        .bind(now())
        .fetch_one(self.writer())
        .await?;
        Ok(Workspace { id, name })
    }

    /// The first workspace, made with `name` when the database has none. Instances (or verbs
    /// such as `cunjin user add`) starting together on an empty database all get the same one:
    /// the look and the insert run alone among them ([`Store::begin_alone`]).
    pub async fn first_or_new_workspace(&self, name: &str) -> Result<Workspace> {
        let name = cunjin_core::required_text("name", name, 200)?;
        let mut tx = self.begin_alone(AloneLock::FirstStart).await?;
        let ws = first_or_new_workspace_in(&mut tx, &name).await?;
        tx.commit().await?;
        Ok(ws)
    }

    /// The first workspace, the one a single-vendor deployment uses.
    pub async fn first_workspace(&self) -> Result<Option<Workspace>> {
        Ok(sqlx::query_as(FIRST_WORKSPACE)
            .fetch_optional(self.reader())
            .await?)
    }

    /// Every workspace, oldest first.
    pub async fn list_workspaces(&self) -> Result<Vec<Workspace>> {
        Ok(
            sqlx::query_as("SELECT id, name FROM workspaces ORDER BY id")
                .fetch_all(self.reader())
                .await?,
        )
    }

    /// A workspace's settings.
    pub async fn settings(&self, workspace_id: i64) -> Result<Settings> {
        let raw: String = sqlx::query_scalar("SELECT settings FROM workspaces WHERE id = $1")
            .bind(workspace_id)
            .fetch_optional(self.reader())
            .await?
            .ok_or_else(|| StoreError::not_found("workspace", workspace_id))?;
        serde_json::from_str(&raw).map_err(|e| StoreError::Corrupt(format!("settings: {e}")))
    }

    /// Replaces a workspace's settings.
    pub async fn save_settings(&self, workspace_id: i64, settings: &Settings) -> Result<()> {
        let raw = serde_json::to_string(settings)
            .map_err(|e| StoreError::Corrupt(format!("settings: {e}")))?;
        // The roadmap weights are part of the settings: the kept ranking is stale.
        sqlx::query(
            "UPDATE workspaces SET settings = $1, report_version = report_version + 1 WHERE id = $2",
        )
            .bind(raw)
            .bind(workspace_id)
            .execute(self.writer())
            .await?;
        Ok(())
    }
}

/// The first workspace, or a new one named `name` (already checked) when there is none, inside a
/// transaction begun with [`Store::begin_alone`].
pub(crate) async fn first_or_new_workspace_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    name: &str,
) -> Result<Workspace> {
    let first: Option<Workspace> = sqlx::query_as(FIRST_WORKSPACE)
        .fetch_optional(&mut **tx)
        .await?;
    if let Some(ws) = first {
        return Ok(ws);
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO workspaces (name, settings, created_at) VALUES ($1, '{}', $2) RETURNING id",
    )
    .bind(name)
    .bind(now())
    .fetch_one(&mut **tx)
    .await?;
    Ok(Workspace {
        id,
        name: name.to_string(),
    })
}
