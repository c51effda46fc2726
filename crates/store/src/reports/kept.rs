//! The last portfolio gap and roadmap ranking of each workspace, kept by this instance (see
//! the [module](crate::reports) for when a kept report is served).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::NaiveDate;
use tokio::sync::Mutex as AsyncMutex;

use crate::reports::gap::PortfolioGap;
use crate::reports::roadmap::{Ranking, RoadmapPage};
use crate::{Result, Store, StoreError};

/// One kept report: the version it was computed at, its key (the day, for the roadmap) and it.
struct Kept<K, V> {
    version: i64,
    key: K,
    value: Arc<Report<V>>,
}

/// A report and what has been made from it.
pub(crate) struct Report<V> {
    pub(crate) value: V,
    renderings: Renderings,
}

/// Renderings of one report kept at most, in bytes; the oldest go first.
const RENDERINGS_BYTES: usize = 16 << 20;
/// A rendering larger than this is made for its caller and not kept (a roadmap page of 5,000
/// features with every term).
const RENDERING_MAX: usize = 4 << 20;

/// `value` as JSON.
fn json(value: &impl serde::Serialize) -> Result<Bytes> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| StoreError::Corrupt(format!("a report could not be written as JSON: {e}")))
}

/// What was made from one report, by key (`json`, `json:0:50`, `html:zh:0`, …).
#[derive(Default)]
struct Renderings {
    made: Mutex<VecDeque<(String, Bytes)>>,
}

impl Renderings {
    fn get(&self, key: &str) -> Option<Bytes> {
        let made = self.made.lock().unwrap_or_else(|p| p.into_inner());
        made.iter().find(|(k, _)| k == key).map(|(_, b)| b.clone())
    }

    fn put(&self, key: String, rendering: Bytes) {
        if rendering.len() > RENDERING_MAX {
            return;
        }
        let mut made = self.made.lock().unwrap_or_else(|p| p.into_inner());
        if made.iter().any(|(k, _)| *k == key) {
            return;
        }
        let mut total: usize = made.iter().map(|(_, b)| b.len()).sum::<usize>() + rendering.len();
        while total > RENDERINGS_BYTES {
            match made.pop_front() {
                Some((_, b)) => total -= b.len(),
                None => break,
            }
        }
        made.push_back((key, rendering));
    }
}

impl<V> Report<V> {
    /// The rendering `key` of this report, made by `make` when it has not been made yet.
    /// Renderings made at the same time by two callers are both made; the first is kept.
    async fn rendering<E, F, Fut>(&self, key: String, make: F) -> std::result::Result<Bytes, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::result::Result<Bytes, E>>,
    {
        if let Some(made) = self.renderings.get(&key) {
            return Ok(made);
        }
        let made = make().await?;
        self.renderings.put(key, made.clone());
        Ok(made)
    }
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

/// The kept value when it was computed at `version` or later for `key`, else a new one made by
/// `compute`, which is given the stale report of the same key and its version, if any, to bring
/// up to date instead of starting afresh.
async fn kept_or_compute<K, V, F, Fut>(
    slots: &Slots<K, V>,
    workspace_id: i64,
    version: i64,
    key: K,
    compute: F,
) -> Result<Arc<Report<V>>>
where
    K: PartialEq,
    F: FnOnce(Option<(i64, Arc<Report<V>>)>) -> Fut,
    Fut: Future<Output = Result<V>>,
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
    // The stale report goes to `compute`, which frees it as soon as it has no more use for it
    // (the roadmap at once), so that one report per workspace is in memory at a time, not two.
    let stale = kept
        .take()
        .filter(|k| k.key == key)
        .map(|k| (k.version, k.value));
    let started = std::time::Instant::now();
    let value = Arc::new(Report {
        value: compute(stale).await?,
        renderings: Renderings::default(),
    });
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
    /// The portfolio gap, kept while nothing it depends on has changed.
    pub(crate) async fn kept_gap(&self, workspace_id: i64) -> Result<Arc<Report<PortfolioGap>>> {
        let version = self.report_version(workspace_id).await?;
        kept_or_compute(
            &self.reports.gaps,
            workspace_id,
            version,
            (),
            |stale| async move {
                if let Some((since, stale)) = stale {
                    if let Some(gap) = self
                        .gap_brought_up(workspace_id, since, &stale.value)
                        .await?
                    {
                        return Ok(gap);
                    }
                }
                self.compute_gap(workspace_id, None).await
            },
        )
        .await
    }

    /// The roadmap ranking on `today`, kept while nothing it depends on has changed.
    pub(crate) async fn kept_ranking(
        &self,
        workspace_id: i64,
        today: NaiveDate,
    ) -> Result<Arc<Report<Ranking>>> {
        let version = self.report_version(workspace_id).await?;
        kept_or_compute(
            &self.reports.rankings,
            workspace_id,
            version,
            today,
            |stale| async move {
                if let Some((since, stale)) = stale {
                    let up = self
                        .ranking_brought_up(workspace_id, since, today, &stale.value)
                        .await?;
                    // The stale ranking is of no more use: free it before computing afresh.
                    drop(stale);
                    if let Some(ranking) = up {
                        return Ok(ranking);
                    }
                }
                self.compute_ranking(workspace_id, today).await
            },
        )
        .await
    }

    /// The portfolio gap as JSON (`GET /api/v1/gap`), made once per kept gap.
    pub async fn gap_json(&self, workspace_id: i64) -> Result<Bytes> {
        let report = self.kept_gap(workspace_id).await?;
        report
            .rendering("json".into(), || async { json(&report.value) })
            .await
    }

    /// `limit` features of the roadmap from `offset` as JSON (`GET /api/v1/roadmap`), each
    /// with every term, and how many are ranked; made once per kept ranking.
    pub async fn roadmap_page_json(
        &self,
        workspace_id: i64,
        today: NaiveDate,
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Bytes)> {
        let report = self.kept_ranking(workspace_id, today).await?;
        let json = report
            .rendering(format!("json:{offset}:{limit}"), || async {
                json(&report.value.page(today, offset, limit).entries)
            })
            .await?;
        Ok((report.value.listed(), json))
    }

    /// A rendering of `limit` features of the roadmap on `today` from `offset`, made by `make`
    /// from that page once per kept ranking and kept under `kind` (`html:zh`, say). What `make`
    /// reads besides the page must be covered by the report version (features, customers,
    /// commitments, deals, requests, settings): a rendering is served until the version moves.
    pub async fn roadmap_rendering<E, F, Fut>(
        &self,
        workspace_id: i64,
        today: NaiveDate,
        offset: usize,
        limit: usize,
        kind: &str,
        make: F,
    ) -> std::result::Result<Bytes, E>
    where
        E: From<StoreError>,
        F: FnOnce(RoadmapPage) -> Fut,
        Fut: Future<Output = std::result::Result<Bytes, E>>,
    {
        let report = self.kept_ranking(workspace_id, today).await?;
        report
            .rendering(format!("{kind}:{offset}:{limit}"), || {
                make(report.value.page(today, offset, limit))
            })
            .await
    }
}
