//! The gap and the roadmap.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use cunjin_core::Permission;
use cunjin_store::reports::gap::{CustomerGap, PortfolioGap};
use cunjin_store::reports::roadmap::RoadmapEntry;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{parse_date, ApiPath, ApiQuery};
use crate::AppState;

/// The endpoints of this module, with their OpenAPI descriptions.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(gap))
        .routes(routes!(customer_gap))
        .routes(routes!(roadmap))
}

/// JSON made once per kept report (the store keeps it with the report).
fn kept_json(json: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], json).into_response()
}

/// The portfolio gap: 尺 and 寸 over every customer, and one row per customer.
#[utoipa::path(get, path = "/api/v1/gap", tag = "reports",
    responses((status = 200, body = PortfolioGap), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn gap(caller: Caller, State(state): State<AppState>) -> ApiResult<Response> {
    caller.require(Permission::Read, "read")?;
    Ok(kept_json(state.store.gap_json(caller.ws()).await?))
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
    /// At most this many features (default 200, at most 5000); the header `X-Total-Count` says
    /// how many are ranked in all.
    pub limit: Option<i64>,
    /// Skip this many of the most pressing (default 0).
    pub offset: Option<i64>,
}

/// Features ranked by score, most pressing first, each with every term of the formula; a page
/// of them (`limit`, `offset`) with the number ranked in all in `X-Total-Count`.
#[utoipa::path(get, path = "/api/v1/roadmap", tag = "reports", params(RoadmapQuery),
    responses((status = 200, body = Vec<RoadmapEntry>,
        headers(("X-Total-Count" = u64, description = "How many features are ranked in all"))),
        (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn roadmap(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RoadmapQuery>,
) -> ApiResult<([(&'static str, String); 1], Response)> {
    caller.require(Permission::Read, "read")?;
    let today = parse_date("as_of", q.as_of.as_deref())?.unwrap_or_else(cunjin_store::today);
    let limit = q.limit.unwrap_or(200).clamp(1, 5000) as usize;
    let offset = q.offset.unwrap_or(0).max(0) as usize;
    let (total, json) = state
        .store
        .roadmap_page_json(caller.ws(), today, offset, limit)
        .await?;
    Ok(([("x-total-count", total.to_string())], kept_json(json)))
}
