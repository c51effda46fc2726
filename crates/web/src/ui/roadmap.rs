//! The roadmap page: features ranked by what depends on them, paged, with their heaviest promises.

use super::Frame;
use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use cunjin_core::CustomerId;
use serde::Deserialize;

use super::views::*;
use super::PageResult;
use super::{api_error_page, render, Page};
use crate::error::{ApiError, ErrorCode};
use crate::i18n::Lang;
use crate::AppState;
use axum::http::StatusCode;

/// The pages of this module and the forms they post to.
pub(super) fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new().route("/roadmap", get(roadmap))
}

/// Features shown on one page of the roadmap.
const ROADMAP_PAGE: usize = 100;
/// Promises listed one by one under a feature of the roadmap page; a feature promised to many
/// customers would otherwise make a page of a megabyte.
const ROADMAP_PROMISES_SHOWN: usize = 10;

#[derive(Deserialize, Default)]
pub struct RoadmapPageQuery {
    /// The rank to start after (0 for the first page).
    offset: Option<usize>,
}

/// The promises of a feature listed one by one on the roadmap page (the heaviest first), and
/// the rest.
fn heaviest_promises(
    all: &[cunjin_core::CommitmentTerm],
) -> (
    Vec<&cunjin_core::CommitmentTerm>,
    Vec<&cunjin_core::CommitmentTerm>,
) {
    let mut heaviest: Vec<&cunjin_core::CommitmentTerm> = all.iter().collect();
    heaviest.sort_by(|a, b| {
        b.weighted
            .total_cmp(&a.weighted)
            .then(a.commitment_id.cmp(&b.commitment_id))
    });
    let rest = heaviest.split_off(heaviest.len().min(ROADMAP_PROMISES_SHOWN));
    (heaviest, rest)
}

pub async fn roadmap(
    p: Page,
    State(state): State<AppState>,
    q: Result<Query<RoadmapPageQuery>, QueryRejection>,
) -> PageResult {
    let ws = p.caller.ws();
    let l = p.l;
    let offset = q.ok().and_then(|q| q.0.offset).unwrap_or(0);
    let today = cunjin_store::today();
    // The table is the same for everyone of the workspace who reads this language: made once
    // per kept ranking (it changes with the report version, which covers the names it shows).
    let table = state
        .store
        .roadmap_rendering(
            ws,
            today,
            offset,
            ROADMAP_PAGE,
            &format!("html:{}", l.short()),
            |page| roadmap_table(&state, ws, l, page, offset),
        )
        .await
        .map_err(|e: ApiError| api_error_page(l, &p.me(), e))?;
    Ok(render(&RoadmapPage {
        frame: Frame::new(l, p.me(), "roadmap"),
        table: String::from_utf8_lossy(&table).into_owned(),
    }))
}

/// The roadmap's table of `page` (ROADMAP_PAGE features from `offset`), with its explanation and
/// pager.
async fn roadmap_table(
    state: &AppState,
    ws: i64,
    l: Lang,
    page: cunjin_store::reports::roadmap::RoadmapPage,
    offset: usize,
) -> Result<bytes::Bytes, ApiError> {
    let weights = page.weights;
    let total = page.total;
    let entries = page.entries;
    // Names of the customers the explanations mention, not of every customer.
    let mut ids: Vec<CustomerId> = entries
        .iter()
        .flat_map(|e| heaviest_promises(&e.terms.commitments).0)
        .map(|c| CustomerId(c.customer_id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let customers: HashMap<CustomerId, String> = state.store.customer_names(ws, &ids).await?;
    let shown = entries.len();
    let views = entries
        .into_iter()
        .map(|e| {
            let t = &e.terms;
            // The heaviest promises one line each; the rest summed on one line, so that the
            // lines still add up to the score (the API lists every promise).
            let (heaviest, rest) = heaviest_promises(&t.commitments);
            let mut terms: Vec<String> = heaviest
                .iter()
                .map(|c| {
                    let days = c
                        .days_until_due
                        .map(|d| format!(", {} {d}", l.t("roadmap.days_left")))
                        .unwrap_or_default();
                    format!(
                        "{}: {} {} × {} {} ÷ {} ({}) = {} · {} {:.2}{} → {}",
                        customers
                            .get(&CustomerId(c.customer_id))
                            .map(String::as_str)
                            .unwrap_or("?"),
                        l.t("col.value"),
                        amount(c.contract_value),
                        l.t("roadmap.share"),
                        c.share,
                        c.live_on_deal,
                        l.t("roadmap.commitments_on_deal"),
                        amount(c.value),
                        l.t("roadmap.urgency"),
                        c.urgency,
                        days,
                        amount(c.weighted),
                    )
                })
                .collect();
            if !rest.is_empty() {
                terms.push(format!(
                    "+ {} {} {}",
                    rest.len(),
                    l.t("roadmap.more_promises"),
                    amount(rest.iter().map(|c| c.weighted).sum())
                ));
            }
            let requesters = if t.requesters.is_empty() {
                String::new()
            } else {
                let names: Vec<String> = t
                    .requesters
                    .iter()
                    .map(|r| format!("{} ×{}", r.name, r.weight))
                    .collect();
                format!(" ({}: {})", l.t("roadmap.requested_by"), names.join(", "))
            };
            terms.push(format!(
                "λ × {} = {} × {} = {}{requesters}",
                l.t("roadmap.demand"),
                amount(t.lambda),
                t.demand,
                amount(t.weighted_demand)
            ));
            terms.push(format!(
                "÷ max({} {}, 1) = {}",
                l.t("roadmap.effort"),
                t.effort_days.map(amount).unwrap_or_else(|| "—".into()),
                t.divisor
            ));
            if t.released_without_live {
                terms.push(l.t("roadmap.released_zero").to_string());
            }
            RoadmapView {
                rank: e.rank,
                summary: format!(
                    "({} + {}) ÷ {} = {}",
                    amount(t.value_urgency),
                    amount(t.weighted_demand),
                    t.divisor,
                    amount(e.score)
                ),
                score: amount(e.score),
                title: e.title,
                menu_path: e.menu_path,
                stage: e.stage,
                terms,
            }
        })
        .collect();
    let table = RoadmapTable {
        l,
        lambda: amount(weights.lambda),
        entries: views,
        total,
        first: offset + 1,
        last: offset + shown,
        prev: (offset > 0).then(|| offset.saturating_sub(ROADMAP_PAGE)),
        next: (offset + shown < total).then_some(offset + shown),
    };
    askama::Template::render(&table)
        .map(bytes::Bytes::from)
        .map_err(|e| {
            tracing::error!(error = %e, "template failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "路线图无法显示 / the roadmap could not be shown",
            )
        })
}
