//! The last portfolio gap and roadmap ranking of each workspace, kept by this instance.
//!
//! Both reports add up every live promise of a workspace: seconds at the largest vendor's scale
//! (200,000 commitments). Every write that can change them moves `workspaces.report_version` in
//! its own transaction (database triggers, migration 0008, so no code path and no other instance
//! can forget it). A report is served from here while the version it was computed at is still
//! current, and computed again, once however many callers are waiting, when it is not.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use sqlx::Row;
use tokio::sync::Mutex as AsyncMutex;

use crate::gap::PortfolioGap;
use crate::roadmap::Ranking;
use crate::{Result, Store, StoreError};

/// One kept report: the version it was computed at, its key (the day, for the roadmap) and it.
struct Kept<K, V> {
    version: i64,
    key: K,
    value: Arc<V>,
}

/// A slot per workspace; its lock makes concurrent callers of a stale report wait for one
/// computation instead of each starting their own (200 clients asking for the roadmap at once
/// would otherwise hold 200 copies of it).
type Slots<K, V> = Mutex<HashMap<i64, Arc<AsyncMutex<Option<Kept<K, V>>>>>>;

/// The reports kept by one `Store` (shared by its clones).
#[derive(Default)]
pub(crate) struct Reports {
    gaps: Slots<(), PortfolioGap>,
    rankings: Slots<NaiveDate, Ranking>,
}

impl std::fmt::Debug for Reports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reports")
    }
}

fn slot<K, V>(slots: &Slots<K, V>, workspace_id: i64) -> Arc<AsyncMutex<Option<Kept<K, V>>>> {
    slots
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .entry(workspace_id)
        .or_default()
        .clone()
}

/// The kept value when it was computed at `version` or later for `key`, else a new one.
async fn kept_or_compute<K, V, F>(
    slots: &Slots<K, V>,
    workspace_id: i64,
    version: i64,
    key: K,
    compute: F,
) -> Result<Arc<V>>
where
    K: PartialEq,
    F: Future<Output = Result<V>>,
{
    let slot = slot(slots, workspace_id);
    let mut kept = slot.lock().await;
    if let Some(k) = kept.as_ref() {
        // Versions only grow: a report computed at a later version than the one read before
        // waiting is at least as new as the caller needs.
        if k.version >= version && k.key == key {
            return Ok(k.value.clone());
        }
    }
    // The stale report is of no more use: free it before building the next, so that one
    // report per workspace is in memory at a time, not two.
    *kept = None;
    let started = std::time::Instant::now();
    let value = Arc::new(compute.await?);
    tracing::debug!(
        workspace_id,
        version,
        report = std::any::type_name::<V>(),
        ms = started.elapsed().as_millis() as u64,
        "report computed"
    );
    *kept = Some(Kept {
        version,
        key,
        value: value.clone(),
    });
    Ok(value)
}

impl Store {
    /// The workspace's report version, read before the data a report is computed from, so a
    /// report is never labelled newer than what it saw.
    pub async fn report_version(&self, workspace_id: i64) -> Result<i64> {
        sqlx::query("SELECT report_version FROM workspaces WHERE id = $1")
            .bind(workspace_id)
            .fetch_optional(self.reader())
            .await?
            .ok_or_else(|| StoreError::not_found("workspace", workspace_id))?
            .try_get(0)
            .map_err(Into::into)
    }

    /// The portfolio gap, kept while nothing it depends on has changed.
    pub(crate) async fn kept_gap(&self, workspace_id: i64) -> Result<Arc<PortfolioGap>> {
        let version = self.report_version(workspace_id).await?;
        kept_or_compute(
            &self.reports.gaps,
            workspace_id,
            version,
            (),
            self.compute_gap(workspace_id, None),
        )
        .await
    }

    /// The roadmap ranking on `today`, kept while nothing it depends on has changed.
    pub(crate) async fn kept_ranking(
        &self,
        workspace_id: i64,
        today: NaiveDate,
    ) -> Result<Arc<Ranking>> {
        let version = self.report_version(workspace_id).await?;
        kept_or_compute(
            &self.reports.rankings,
            workspace_id,
            version,
            today,
            self.compute_ranking(workspace_id, today),
        )
        .await
    }
}
