//! The dashboard: the workspace's gap and the customers with the largest one.

use axum::extract::State;

use super::views::*;
use super::{fail, PageResult};
use super::{render, Page};
use crate::AppState;

/// The pages of this module and the forms they post to.
pub(super) fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new().route("/", get(dashboard))
}

/// Customers listed on the dashboard, largest gap first; the rest are on the customers page.
const DASHBOARD_CUSTOMERS: usize = 200;

pub async fn dashboard(p: Page, State(state): State<AppState>) -> PageResult {
    let mut gap = state
        .store
        .gap(p.caller.ws(), None)
        .await
        .map_err(fail(&p))?;
    let all_customers = gap.customers.len();
    gap.customers.truncate(DASHBOARD_CUSTOMERS);
    let max_chi = gap
        .customers
        .iter()
        .map(|c| c.chi)
        .max()
        .unwrap_or(1)
        .max(1);
    let today = cunjin_store::today();
    let week = state
        .store
        .week_progress(p.caller.ws(), None, today)
        .await
        .map_err(fail(&p))?;
    let from = cunjin_core::progress::week_start(today) - chrono::Days::new(7 * 7);
    let history = state
        .store
        .gap_history(p.caller.ws(), None, from, today)
        .await
        .map_err(fail(&p))?;
    Ok(render(&DashboardPage {
        frame: p.frame("dashboard"),
        more_customers: all_customers - gap.customers.len(),
        gap,
        max_chi,
        week,
        chart: super::chart::gap_chart(p.l, &history),
    }))
}
