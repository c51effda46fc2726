//! The version of a workspace's reports and the logs of what each write may have changed
//! (migration 0010), from which a kept report is brought up to date.

use crate::{Result, Store, StoreError};

/// The logs of what writes may have changed (migration 0010), one id per row with the report
/// version of its last change.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ChangeLog {
    /// `gap_changes`: customers whose gap may have changed.
    Gap,
    /// `rank_changes`: features whose score may have changed.
    Rank,
}

impl Store {
    /// The ids `log` holds above report version `since`, in order, at most `limit` of them.
    pub(crate) async fn changed_since(
        &self,
        log: ChangeLog,
        workspace_id: i64,
        since: i64,
        limit: i64,
    ) -> Result<Vec<i64>> {
        let sql = match log {
            ChangeLog::Gap => {
                "SELECT customer_id FROM gap_changes WHERE workspace_id = $1 AND version > $2 \
                 ORDER BY customer_id LIMIT $3"
            }
            ChangeLog::Rank => {
                "SELECT feature_id FROM rank_changes WHERE workspace_id = $1 AND version > $2 \
                 ORDER BY feature_id LIMIT $3"
            }
        };
        Ok(sqlx::query_scalar(sql)
            .bind(workspace_id)
            .bind(since)
            .bind(limit)
            .fetch_all(self.reader())
            .await?)
    }

    /// The workspace's report version, read before the data a report is computed from, so a
    /// report is never labelled newer than what it saw.
    pub async fn report_version(&self, workspace_id: i64) -> Result<i64> {
        sqlx::query_scalar("SELECT report_version FROM workspaces WHERE id = $1")
            .bind(workspace_id)
            .fetch_optional(self.reader())
            .await?
            .ok_or_else(|| StoreError::not_found("workspace", workspace_id))
    }
}
