//! Progress: the gap over time and what this week closed.

use axum::extract::State;
use axum::Json;
use chrono::Days;
use cunjin_core::{CustomerId, Permission};
use cunjin_store::ledger::progress::{GapPoint, WeekProgress};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{parse_date, ApiQuery};
use crate::AppState;

/// The endpoints of this module, with their OpenAPI descriptions.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(gap_history))
        .routes(routes!(week_progress))
}

/// Range and scope of the history.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// First day, YYYY-MM-DD (default: 8 weeks before `to`).
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD (default and at most: today).
    pub to: Option<String>,
    /// One customer (default: the whole portfolio).
    pub customer_id: Option<i64>,
}

/// The gap on every day of a range: the last snapshot on or before each day; today is live.
/// At most 1000 days at once.
#[utoipa::path(get, path = "/api/v1/gap/history", tag = "reports", params(HistoryQuery),
    responses((status = 200, body = Vec<GapPoint>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn gap_history(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> ApiResult<Json<Vec<GapPoint>>> {
    caller.require(Permission::Read, "read")?;
    let today = cunjin_store::today();
    let to = parse_date("to", q.to.as_deref())?
        .unwrap_or(today)
        .min(today);
    let from = parse_date("from", q.from.as_deref())?
        .unwrap_or_else(|| to.checked_sub_days(Days::new(55)).unwrap_or(to));
    Ok(Json(
        state
            .store
            .gap_history(caller.ws(), q.customer_id, from, to)
            .await?,
    ))
}

/// Scope of the week's progress.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WeekQuery {
    /// One customer (default: the whole portfolio).
    pub customer_id: Option<i64>,
}

/// What this week closed: the gap when the week started (Monday) minus the gap now.
#[utoipa::path(get, path = "/api/v1/gap/week", tag = "reports", params(WeekQuery),
    responses((status = 200, body = WeekProgress), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn week_progress(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<WeekQuery>,
) -> ApiResult<Json<WeekProgress>> {
    caller.require(Permission::Read, "read")?;
    if let Some(id) = q.customer_id {
        state
            .store
            .get_customer(caller.ws(), CustomerId(id))
            .await?;
    }
    Ok(Json(
        state
            .store
            .week_progress(caller.ws(), q.customer_id, cunjin_store::today())
            .await?,
    ))
}
