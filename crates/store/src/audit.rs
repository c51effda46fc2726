//! The audit trail: who changed what, when, from what to what, and why. Only ever appended to.

use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use crate::{now, Result, Store};

/// One change in the trail.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Id.
    pub id: i64,
    /// Kind of record (`commitment`, `feature`, `criterion`…).
    pub entity: String,
    /// Its id.
    pub entity_id: i64,
    /// What happened (`create`, `transition`, `criterion`, `update`).
    pub action: String,
    /// Who did it (an e-mail address).
    pub actor: String,
    /// When (RFC 3339).
    pub at: String,
    /// The record before, as JSON.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub before: Option<serde_json::Value>,
    /// The record after, as JSON.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub after: Option<serde_json::Value>,
    /// The reason given.
    pub reason: Option<String>,
}

/// Appends one change inside the transaction that makes it, so the trail and the data never
/// disagree.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record<B: Serialize, A: Serialize>(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
    entity: &str,
    entity_id: i64,
    action: &str,
    actor: &str,
    before: Option<&B>,
    after: Option<&A>,
    reason: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (workspace_id, entity, entity_id, action, actor, at, before_json, after_json, reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(workspace_id)
    .bind(entity)
    .bind(entity_id)
    .bind(action)
    .bind(actor)
    .bind(now())
    .bind(before.and_then(|b| serde_json::to_string(b).ok()))
    .bind(after.and_then(|a| serde_json::to_string(a).ok()))
    .bind(reason)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// The trail of one record, oldest first. Criteria changes are filed under their commitment.
    pub async fn audit_trail(
        &self,
        workspace_id: i64,
        entity: &str,
        entity_id: i64,
    ) -> Result<Vec<AuditEntry>> {
        sqlx::query(
            "SELECT id, entity, entity_id, action, actor, at, before_json, after_json, reason \
             FROM audit_log WHERE workspace_id = $1 AND entity = $2 AND entity_id = $3 ORDER BY id",
        )
        .bind(workspace_id)
        .bind(entity)
        .bind(entity_id)
        .fetch_all(self.reader())
        .await?
        .iter()
        .map(|r| {
            let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
            Ok(AuditEntry {
                id: r.try_get("id")?,
                entity: r.try_get("entity")?,
                entity_id: r.try_get("entity_id")?,
                action: r.try_get("action")?,
                actor: r.try_get("actor")?,
                at: r.try_get("at")?,
                before: parse(r.try_get("before_json")?),
                after: parse(r.try_get("after_json")?),
                reason: r.try_get("reason")?,
            })
        })
        .collect()
    }
}
