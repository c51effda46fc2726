//! The gap and the roadmap.

use axum::extract::State;
use axum::Json;
use cunjin_core::Permission;
use cunjin_store::gap::{CustomerGap, PortfolioGap};
use cunjin_store::roadmap::RoadmapEntry;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{parse_date, ApiPath, ApiQuery};
use crate::AppState;

/// The portfolio gap: 尺 and 寸 over every customer, and one row per customer.
#[utoipa::path(get, path = "/api/v1/gap", tag = "reports",
    responses((status = 200, body = PortfolioGap), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn gap(caller: Caller, State(state): State<AppState>) -> ApiResult<Json<PortfolioGap>> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.store.gap(caller.ws(), None).await?))
}

/// One customer's gap.
#[utoipa::path(get, path = "/api/v1/customers/{id}/gap", tag = "reports",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = CustomerGap), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn customer_gap(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CustomerGap>> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.store.gap_for_customer(caller.ws(), id).await?))
}

/// Options of the roadmap.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoadmapQuery {
    /// Score as of this day (default today), YYYY-MM-DD.
    pub as_of: Option<String>,
}

/// Features ranked by score, each with every term of the formula.
#[utoipa::path(get, path = "/api/v1/roadmap", tag = "reports", params(RoadmapQuery),
    responses((status = 200, body = Vec<RoadmapEntry>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn roadmap(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RoadmapQuery>,
) -> ApiResult<Json<Vec<RoadmapEntry>>> {
    caller.require(Permission::Read, "read")?;
    let today = parse_date("as_of", q.as_of.as_deref())?.unwrap_or_else(cunjin_store::today);
    Ok(Json(state.store.roadmap(caller.ws(), today).await?))
}
