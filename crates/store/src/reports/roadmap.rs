//! The roadmap: features ranked by the money, dates and demand that depend on them.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use cunjin_core::{
    CommitmentDemand, FeatureInput, Money, Requester, RoadmapWeights, ScoreTerms, Stage, Status,
};
use serde::Serialize;

use crate::reports::changes::ChangeLog;
use crate::{parse_date, parse_stored, Result, Store};

/// One ranked feature.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoadmapEntry {
    /// 1 for the most pressing.
    pub rank: u32,
    /// Feature.
    pub feature_id: i64,
    /// Its title.
    pub title: String,
    /// Its menu path.
    pub menu_path: String,
    /// Its product.
    pub product_id: i64,
    /// Its stage.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub stage: Stage,
    /// The score.
    pub score: f64,
    /// Every term of the formula.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub terms: ScoreTerms,
}

/// A page of the roadmap.
#[derive(Debug, Clone, Serialize)]
pub struct RoadmapPage {
    /// How many features are ranked in all (those whose score is not zero).
    pub total: usize,
    /// The weights the scores were computed with.
    #[serde(skip)]
    pub weights: RoadmapWeights,
    /// The features of the page, in rank order.
    pub entries: Vec<RoadmapEntry>,
}

/// A feature in the ranking, with everything its score depends on.
#[derive(Debug, Clone)]
pub(crate) struct RankedFeature {
    pub feature_id: i64,
    pub title: String,
    pub menu_path: String,
    pub product_id: i64,
    pub score: f64,
    pub input: FeatureInput,
}

/// Every ranked feature of a workspace on one day, most pressing first. The features are
/// shared: a ranking brought up to date keeps those of the stale one that did not change.
#[derive(Debug)]
pub(crate) struct Ranking {
    pub weights: RoadmapWeights,
    pub features: Vec<Arc<RankedFeature>>,
    /// Live commitments per deal, over every feature (n(d) of the formula).
    live_on_deal: HashMap<i64, u32>,
    /// The features with a live commitment on each deal: those whose share of it changes when
    /// its count does.
    on_deal: HashMap<i64, Vec<i64>>,
    /// How many features are listed: those whose score is not zero (a released feature with
    /// nothing waiting on it, or one that nothing is worth yet, is not on the roadmap).
    listed: usize,
}

/// Whether a ranked feature is listed on the roadmap.
fn is_listed(f: &RankedFeature) -> bool {
    f.score != 0.0
}

/// At most this many features changed since a kept ranking are read again; more, and the
/// whole ranking is computed again.
const RANKING_FEATURES_BROUGHT_UP: i64 = 256;

impl Ranking {
    /// The ranking of these features (read, not yet scored) on `today` with `weights`: each
    /// live commitment's deal counted over every feature (`live_on_deal`), every feature
    /// scored, most pressing first (ties by feature id).
    pub(crate) fn of(
        weights: RoadmapWeights,
        features: Vec<RankedFeature>,
        today: NaiveDate,
    ) -> Ranking {
        let mut live_on_deal: HashMap<i64, u32> = HashMap::new();
        let mut on_deal: HashMap<i64, Vec<i64>> = HashMap::new();
        for f in &features {
            count_deals(f, 1, &mut live_on_deal, &mut on_deal);
        }
        let features = features
            .into_iter()
            .map(|mut f| {
                f.score = score_with_counts(&mut f, &live_on_deal, &weights, today);
                Arc::new(f)
            })
            .collect();
        let features = sorted(features);
        Ranking {
            weights,
            listed: features.iter().filter(|f| is_listed(f)).count(),
            features,
            live_on_deal,
            on_deal,
        }
    }

    /// This ranking with the features `changed` (sorted ids) replaced by `read_again` (read
    /// anew, not yet scored): the deals of their old and new commitments counted again, and
    /// scored again are those read and those with a commitment on a deal whose count changed.
    /// The other features are shared with this ranking, not copied.
    fn brought_up(
        &self,
        changed: &[i64],
        read_again: Vec<RankedFeature>,
        today: NaiveDate,
    ) -> Ranking {
        if changed.is_empty() {
            // The version moved for something the ranking does not read (a criterion, say).
            return Ranking {
                weights: self.weights,
                features: self.features.clone(),
                live_on_deal: self.live_on_deal.clone(),
                on_deal: self.on_deal.clone(),
                listed: self.listed,
            };
        }
        let mut live_on_deal = self.live_on_deal.clone();
        let mut on_deal = self.on_deal.clone();
        let mut kept = Vec::with_capacity(self.features.len() + read_again.len());
        let mut replaced = Vec::with_capacity(changed.len());
        for f in &self.features {
            if changed.binary_search(&f.feature_id).is_ok() {
                count_deals(f, -1, &mut live_on_deal, &mut on_deal);
                replaced.push(&**f);
            } else {
                kept.push(f.clone());
            }
        }
        for f in &read_again {
            count_deals(f, 1, &mut live_on_deal, &mut on_deal);
        }
        // Deals whose count moved, and the kept features with a commitment on one of them.
        let moved: Vec<i64> = read_again
            .iter()
            .chain(replaced)
            .flat_map(|f| f.input.commitments.iter().filter_map(|c| c.deal_id))
            .filter(|d| live_on_deal.get(d) != self.live_on_deal.get(d))
            .collect();
        let mut rescore: Vec<i64> = moved
            .iter()
            .filter_map(|d| on_deal.get(d))
            .flatten()
            .copied()
            .collect();
        rescore.sort_unstable();
        rescore.dedup();
        for f in &mut kept {
            if rescore.binary_search(&f.feature_id).is_ok() {
                let f = Arc::make_mut(f);
                f.score = score_with_counts(f, &live_on_deal, &self.weights, today);
            }
        }
        for mut f in read_again {
            f.score = score_with_counts(&mut f, &live_on_deal, &self.weights, today);
            kept.push(Arc::new(f));
        }
        let features = sorted(kept);
        Ranking {
            weights: self.weights,
            listed: features.iter().filter(|f| is_listed(f)).count(),
            features,
            live_on_deal,
            on_deal,
        }
    }

    /// How many features are listed (`X-Total-Count`).
    pub(crate) fn listed(&self) -> usize {
        self.listed
    }

    /// `limit` listed features from `offset`, each with every term of the formula.
    pub(crate) fn page(&self, today: NaiveDate, offset: usize, limit: usize) -> RoadmapPage {
        let entries = self
            .features
            .iter()
            .filter(|f| is_listed(f))
            .enumerate()
            .skip(offset)
            .take(limit)
            .map(|(i, f)| {
                let terms = self.weights.score(&f.input, today);
                RoadmapEntry {
                    rank: i as u32 + 1,
                    feature_id: f.feature_id,
                    title: f.title.clone(),
                    menu_path: f.menu_path.clone(),
                    product_id: f.product_id,
                    stage: f.input.stage,
                    score: terms.score,
                    terms,
                }
            })
            .collect();
        RoadmapPage {
            total: self.listed,
            weights: self.weights,
            entries,
        }
    }
}

/// Adds (`by` 1) or takes away (-1) the live commitments of `f` from the count of each deal,
/// and `f` from the features on it.
fn count_deals(
    f: &RankedFeature,
    by: i32,
    live_on_deal: &mut HashMap<i64, u32>,
    on_deal: &mut HashMap<i64, Vec<i64>>,
) {
    for d in f.input.commitments.iter().filter_map(|c| c.deal_id) {
        let n = live_on_deal.entry(d).or_default();
        debug_assert!(by > 0 || *n > 0, "deal {d} counted below zero");
        *n = n.saturating_add_signed(by);
        let features = on_deal.entry(d).or_default();
        if by > 0 {
            // One feature's commitments are added in one call, so a feature already on the
            // list is the last one on it.
            if features.last() != Some(&f.feature_id) {
                features.push(f.feature_id);
            }
        } else {
            features.retain(|id| *id != f.feature_id);
        }
        if *n == 0 {
            live_on_deal.remove(&d);
            on_deal.remove(&d);
        }
    }
}

/// The score of `f` with each commitment's deal count set from `live_on_deal`.
fn score_with_counts(
    f: &mut RankedFeature,
    live_on_deal: &HashMap<i64, u32>,
    weights: &RoadmapWeights,
    today: NaiveDate,
) -> f64 {
    for c in &mut f.input.commitments {
        c.live_on_deal = c
            .deal_id
            .and_then(|d| live_on_deal.get(&d).copied())
            .unwrap_or(0);
    }
    weights.rank_score(&f.input, today)
}

/// Most pressing first, ties by feature id; sorted by keys copied next to each feature rather
/// than through the pointers (20,000 features scattered in memory, some 300,000 comparisons).
fn sorted(features: Vec<Arc<RankedFeature>>) -> Vec<Arc<RankedFeature>> {
    let mut keyed: Vec<(f64, i64, Arc<RankedFeature>)> = features
        .into_iter()
        .map(|f| (f.score, f.feature_id, f))
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    keyed.into_iter().map(|(_, _, f)| f).collect()
}

/// Demand of the roadmap: (feature, customer) pairs of every request that counts, a duplicate
/// counting for its original's feature. `$1` is the workspace.
///
/// `+r.customer_id` keeps SQLite from reading the requests through the customer index (seven in
/// ten requests name a customer, one in twenty a feature): without statistics it took that index
/// for the first part, 0.65 s instead of 0.04 s at 200,000 requests. The unary plus changes
/// nothing on PostgreSQL.
const DEMAND_SQL: &str = "SELECT r.feature_id AS feature_id, r.customer_id AS customer_id \
     FROM requests r WHERE r.workspace_id = $1 AND r.decision NOT IN ('declined', 'duplicate') \
     AND r.feature_id IS NOT NULL AND +r.customer_id IS NOT NULL \
     UNION SELECT o.feature_id, r.customer_id FROM requests r JOIN requests o ON o.id = r.duplicate_of \
     WHERE r.workspace_id = $1 AND o.workspace_id = $1 AND r.decision = 'duplicate' \
     AND o.decision NOT IN ('declined', 'duplicate') AND o.feature_id IS NOT NULL \
     AND +r.customer_id IS NOT NULL";

impl Store {
    /// Every feature with an open or delivered commitment or with demand from requests whose
    /// score is not zero, ranked by score on `today`, with every term of the formula.
    pub async fn roadmap(&self, workspace_id: i64, today: NaiveDate) -> Result<Vec<RoadmapEntry>> {
        Ok(self
            .roadmap_page(workspace_id, today, 0, usize::MAX)
            .await?
            .entries)
    }

    /// `limit` features of the ranking from `offset` (0 for the first), each with every term of
    /// the formula, and how many are ranked. The ranking is kept between calls while nothing it
    /// depends on changes (`reports.rs`); the explanation is built for the features shown only.
    pub async fn roadmap_page(
        &self,
        workspace_id: i64,
        today: NaiveDate,
        offset: usize,
        limit: usize,
    ) -> Result<RoadmapPage> {
        Ok(self
            .kept_ranking(workspace_id, today)
            .await?
            .value
            .page(today, offset, limit))
    }

    /// Every ranked feature with what its score depends on, in rank order.
    pub(crate) async fn compute_ranking(
        &self,
        workspace_id: i64,
        today: NaiveDate,
    ) -> Result<Ranking> {
        let weights = self.settings(workspace_id).await?.roadmap;
        let features = self.ranked_features(workspace_id, None).await?;
        Ok(Ranking::of(weights, features, today))
    }

    /// The ranking `stale`, computed at report version `since`, brought up to date by reading
    /// again the features a write has changed since (`rank_changes`, migration 0010) and
    /// scoring again those whose inputs moved (`Ranking::brought_up`); `None` when the weights
    /// changed or so many features changed that computing everything is faster.
    pub(crate) async fn ranking_brought_up(
        &self,
        workspace_id: i64,
        since: i64,
        today: NaiveDate,
        stale: &Ranking,
    ) -> Result<Option<Ranking>> {
        let weights = self.settings(workspace_id).await?.roadmap;
        // Compared as written, not as numbers: -0.0 equals 0.0, but the explanation shows it.
        if serde_json::to_string(&weights).ok() != serde_json::to_string(&stale.weights).ok() {
            return Ok(None);
        }
        let changed = self
            .changed_since(
                ChangeLog::Rank,
                workspace_id,
                since,
                RANKING_FEATURES_BROUGHT_UP + 1,
            )
            .await?;
        if changed.len() > RANKING_FEATURES_BROUGHT_UP as usize {
            return Ok(None);
        }
        let started = std::time::Instant::now();
        let read_again = if changed.is_empty() {
            Vec::new()
        } else {
            self.ranked_features(workspace_id, Some(&changed)).await?
        };
        let read = started.elapsed();
        let ranking = stale.brought_up(&changed, read_again, today);
        tracing::debug!(
            workspace_id,
            changed = changed.len(),
            read_ms = read.as_secs_f64() * 1e3,
            ranked_ms = (started.elapsed() - read).as_secs_f64() * 1e3,
            "ranking brought up"
        );
        Ok(Some(ranking))
    }

    /// The features that can be ranked (with live commitments or asked for by requests), or
    /// those of them among `only` (sorted ids), with what their score reads; not yet scored,
    /// and their commitments' `live_on_deal` not yet counted (`Ranking::of` and
    /// `Ranking::brought_up` do both).
    async fn ranked_features(
        &self,
        workspace_id: i64,
        only: Option<&[i64]>,
    ) -> Result<Vec<RankedFeature>> {
        // A few features are read by their ids, written out: they are numbers read from the
        // database. Such a query is not kept prepared (its text changes every time).
        let list = only.map(|ids| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
        let only_sql = |column: &str| match &list {
            Some(list) => format!(" AND {column} IN ({list})"),
            None => String::new(),
        };
        let persistent = only.is_none();
        // Plain reads, put together here: joining deals and counting each deal's live
        // commitments in SQL made SQLite read every commitment several times. One row per
        // feature, its live commitments packed into one text: read row by row through the
        // `Any` pool, 162,000 commitment rows took SQLite 2.4 s, seven times the query alone.
        let packed_sql = format!(
            "SELECT feature_id, string_agg(CAST(id AS TEXT) || ',' || CAST(customer_id AS TEXT) \
             || ',' || COALESCE(CAST(deal_id AS TEXT), '') || ',' || CAST(critical AS TEXT) \
             || ',' || COALESCE(due_date, '') || ',' || status, ';') AS packed \
             FROM commitments WHERE workspace_id = $1 AND status IN ('open', 'delivered'){} \
             GROUP BY feature_id",
            only_sql("feature_id")
        );
        let rows: Vec<(i64, String)> = sqlx::query_as(&packed_sql)
            .persistent(persistent)
            .bind(workspace_id)
            .fetch_all(self.reader())
            .await?;
        // Deal values: every deal, or those of the features read.
        let deals_sql = match &list {
            None => "SELECT id, contract_value FROM deals WHERE workspace_id = $1".to_string(),
            Some(list) => format!(
                "SELECT id, contract_value FROM deals WHERE workspace_id = $1 AND id IN \
                 (SELECT deal_id FROM commitments WHERE workspace_id = $1 AND feature_id IN ({list}))"
            ),
        };
        let contract_values: HashMap<i64, i64> = sqlx::query_as::<_, (i64, i64)>(&deals_sql)
            .persistent(persistent)
            .bind(workspace_id)
            .fetch_all(self.reader())
            .await?
            .into_iter()
            .collect();
        let mut by_feature: HashMap<i64, Vec<CommitmentDemand>> = HashMap::new();
        for (feature_id, packed) in &rows {
            let list = packed
                .split(';')
                .map(|c| unpack_commitment(c, &contract_values))
                .collect::<Result<Vec<_>>>()?;
            by_feature.insert(*feature_id, list);
        }
        // In id order, so that sums come out the same on every engine.
        for list in by_feature.values_mut() {
            list.sort_by_key(|c| c.commitment_id);
        }
        // Demand: distinct customers with a request that counts, by feature.
        // For a few features, each part of the demand is read through the features' requests
        // (and their duplicates) instead of filtering the whole workspace's demand. The unary
        // plus keeps SQLite off the customer index, as in `DEMAND_SQL` (0.6 s against 0.2 ms
        // at 200,000 requests).
        let demand = match &list {
            None => DEMAND_SQL.to_string(),
            Some(list) => format!(
                "SELECT r.feature_id AS feature_id, r.customer_id AS customer_id FROM requests r \
                 WHERE r.workspace_id = $1 AND r.feature_id IN ({list}) \
                 AND r.decision NOT IN ('declined', 'duplicate') AND +r.customer_id IS NOT NULL \
                 UNION SELECT o.feature_id, r.customer_id FROM requests o \
                 JOIN requests r ON r.workspace_id = $1 AND r.duplicate_of = o.id \
                 WHERE o.workspace_id = $1 AND o.feature_id IN ({list}) \
                 AND o.decision NOT IN ('declined', 'duplicate') AND r.decision = 'duplicate' \
                 AND +r.customer_id IS NOT NULL"
            ),
        };
        let demand_rows: Vec<(i64, i64, String, f64)> = sqlx::query_as(&format!(
            "SELECT d.feature_id, c.id, c.name, c.weight FROM ({demand}) d \
             JOIN customers c ON c.id = d.customer_id ORDER BY d.feature_id, c.name, c.id"
        ))
        .persistent(persistent)
        .bind(workspace_id)
        .fetch_all(self.reader())
        .await?;
        let mut requesters: HashMap<i64, Vec<Requester>> = HashMap::new();
        for (feature_id, customer_id, name, weight) in demand_rows {
            let list = requesters.entry(feature_id).or_default();
            if list.iter().all(|x| x.customer_id != customer_id) {
                list.push(Requester {
                    customer_id,
                    name,
                    weight,
                });
            }
        }
        // Features with live commitments, and features asked for without any promise: every
        // feature of the workspace read once, those two kinds kept.
        let features: Vec<FeatureRow> = sqlx::query_as(&format!(
            "SELECT id, title, menu_path, product_id, stage, effort_days FROM features \
             WHERE workspace_id = $1{}",
            only_sql("id")
        ))
        .persistent(persistent)
        .bind(workspace_id)
        .fetch_all(self.reader())
        .await?;
        let mut ranked = Vec::with_capacity(features.len());
        for f in features {
            let id = f.id;
            if !by_feature.contains_key(&id) && !requesters.contains_key(&id) {
                continue;
            }
            let input = FeatureInput {
                stage: f.stage,
                effort_days: f.effort_days,
                commitments: by_feature.remove(&id).unwrap_or_default(),
                requesters: requesters.remove(&id).unwrap_or_default(),
            };
            ranked.push(RankedFeature {
                feature_id: id,
                title: f.title,
                menu_path: f.menu_path,
                product_id: f.product_id,
                // Not scored yet (`Ranking::of` scores it).
                score: f64::NAN,
                input,
            });
        }
        Ok(ranked)
    }
}

/// A feature as the ranking reads it.
#[derive(sqlx::FromRow)]
struct FeatureRow {
    id: i64,
    title: String,
    menu_path: String,
    product_id: i64,
    #[sqlx(try_from = "String")]
    stage: Stage,
    effort_days: Option<f64>,
}

/// One live commitment as packed by the ranking's read: `id,customer,deal,critical,due,status`
/// (deal and due empty when absent); its deal's live count is filled in afterwards.
fn unpack_commitment(
    packed: &str,
    contract_values: &HashMap<i64, i64>,
) -> Result<CommitmentDemand> {
    let corrupt = || crate::StoreError::Corrupt(format!("packed commitment '{packed}'"));
    let mut f = packed.split(',');
    let mut next = || f.next().ok_or_else(corrupt);
    let int = |s: &str| s.parse::<i64>().map_err(|_| corrupt());
    let commitment_id = int(next()?)?;
    let customer_id = int(next()?)?;
    let deal_id = match next()? {
        "" => None,
        d => Some(int(d)?),
    };
    let critical = int(next()?)? != 0;
    let due = match next()? {
        "" => None,
        d => parse_date(Some(d.to_string()))?,
    };
    let status = parse_stored(next()?, Status::parse)?;
    Ok(CommitmentDemand {
        commitment_id,
        customer_id,
        deal_id,
        contract_value: Money::from_cents(
            deal_id
                .and_then(|d| contract_values.get(&d).copied())
                .unwrap_or(0),
        ),
        live_on_deal: 0,
        critical,
        due,
        status,
    })
}
