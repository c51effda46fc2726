//! Search as callers see it: the index, and for requests the backlog not indexed yet, together.

use crate::requests::RequestFilter;
use crate::search::DocKind;
use crate::{Result, Store};

impl Store {
    /// The ids of the documents matching every term of `q`, newest first.
    pub async fn search_ids(
        &self,
        workspace_id: i64,
        kind: DocKind,
        q: &str,
        limit: i64,
    ) -> Result<Vec<i64>> {
        let limit = limit.clamp(1, 5000);
        // The backlog (requests only) is read first: a range indexed after this read is in the
        // index by the time the index is read, so no document falls between the two.
        let backlog = match kind {
            DocKind::Request => self.backlog_ranges(workspace_id, kind).await?,
            DocKind::Feature => Vec::new(),
        };
        let mut ids = self.search_index_ids(workspace_id, kind, q, limit).await?;
        if backlog.is_empty() {
            return Ok(ids);
        }
        let filter = RequestFilter {
            q: Some(q.to_string()),
            ..Default::default()
        };
        let waiting = self
            .backlog_requests(workspace_id, &filter, &backlog, Vec::new(), limit, 0)
            .await?;
        ids.extend(waiting.iter().map(|r| r.id));
        ids.sort_unstable_by(|a, b| b.cmp(a));
        ids.dedup();
        ids.truncate(limit as usize);
        Ok(ids)
    }
}
