//! Demos: plan one with its script, check its readiness (the talk track), and record the
//! promises made in it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use cunjin_core::{Mode, Permission};
use cunjin_store::demos::{Demo, DemoChange, DemoCheck, NewDemo, NewDemoItem, PromisePick};
use cunjin_store::ledger::commitments::Commitment;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::readiness::check_demo;
use crate::AppState;

/// The endpoints of this module, with their OpenAPI descriptions.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list_demos, create_demo))
        .routes(routes!(get_demo, update_demo))
        .routes(routes!(check))
        .routes(routes!(record_promises))
}

/// Filters of the demo list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DemoQuery {
    /// Only demos that have not started yet.
    #[serde(default)]
    pub upcoming: bool,
}

/// Demos, soonest first (without their scripts).
#[utoipa::path(get, path = "/api/v1/demos", tag = "demos", params(DemoQuery),
    responses((status = 200, body = Vec<Demo>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn list_demos(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DemoQuery>,
) -> ApiResult<Json<Vec<Demo>>> {
    caller.require(Permission::Read, "read")?;
    let from = q
        .upcoming
        .then(|| cunjin_store::stored_time(chrono::Utc::now()));
    Ok(Json(
        state.store.list_demos(caller.ws(), from.as_deref()).await?,
    ))
}

/// One script item: a catalogue feature or free text.
#[derive(Deserialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct ScriptItemInput {
    /// A catalogue feature, or
    pub feature_id: Option<i64>,
    /// free text (not in the catalogue).
    pub text: Option<String>,
    /// The customer expects to see it.
    #[serde(default)]
    pub must_show: bool,
}

/// A demo to plan.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDemo {
    /// Customer.
    pub customer_id: i64,
    /// Deal.
    pub deal_id: Option<i64>,
    /// Demo environment.
    pub environment_id: Option<i64>,
    /// Title (default: the customer's name).
    pub title: Option<String>,
    /// Start, RFC 3339 (e.g. 2026-12-01T09:30:00+08:00).
    pub starts_at: String,
    /// Who attends.
    #[serde(default)]
    pub attendees: Vec<String>,
    /// The script, in order.
    #[serde(default)]
    pub script: Vec<ScriptItemInput>,
}

/// Parses an RFC 3339 time (a date alone is refused: a demo has an hour).
pub fn parse_starts_at(s: &str) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| {
            ApiError::invalid(format!(
                "starts_at: '{s}' is not an RFC 3339 time like 2026-12-01T09:30:00+08:00"
            ))
        })
}

impl CreateDemo {
    /// The demo to store.
    pub fn into_new(self) -> Result<NewDemo, ApiError> {
        Ok(NewDemo {
            customer_id: self.customer_id,
            deal_id: self.deal_id,
            environment_id: self.environment_id,
            title: self.title,
            starts_at: parse_starts_at(&self.starts_at)?,
            attendees: self.attendees,
            script: self
                .script
                .into_iter()
                .map(|i| NewDemoItem {
                    feature_id: i.feature_id,
                    text: i.text,
                    must_show: i.must_show,
                })
                .collect(),
        })
    }
}

/// Plans a demo.
#[utoipa::path(post, path = "/api/v1/demos", tag = "demos", request_body = CreateDemo,
    responses((status = 201, body = Demo), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn create_demo(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateDemo>,
) -> ApiResult<(StatusCode, Json<Demo>)> {
    caller.require(Permission::RunDemos, "plan demos")?;
    let d = state
        .store
        .create_demo(caller.ws(), body.into_new()?)
        .await?;
    Ok((StatusCode::CREATED, Json(d)))
}

/// One demo with its script and last check.
#[utoipa::path(get, path = "/api/v1/demos/{id}", tag = "demos",
    params(("id" = i64, Path, description = "Demo id")),
    responses((status = 200, body = Demo), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn get_demo(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Demo>> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.store.get_demo(caller.ws(), id).await?))
}

/// Changes to a demo; absent fields are kept.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDemo {
    /// New title.
    pub title: Option<String>,
    /// New start, RFC 3339; the automatic 24 h and 1 h checks are due again.
    pub starts_at: Option<String>,
    /// New environment.
    pub environment_id: Option<i64>,
    /// New attendees.
    pub attendees: Option<Vec<String>>,
    /// A new script replacing the old one (refused once promises were recorded from it).
    pub script: Option<Vec<ScriptItemInput>>,
}

/// Changes a demo: a new time, environment, attendees or script. A new script or environment
/// drops the last check.
#[utoipa::path(patch, path = "/api/v1/demos/{id}", tag = "demos", request_body = UpdateDemo,
    params(("id" = i64, Path, description = "Demo id")),
    responses((status = 200, body = Demo), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn update_demo(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<UpdateDemo>,
) -> ApiResult<Json<Demo>> {
    caller.require(Permission::RunDemos, "change demos")?;
    let change = DemoChange {
        title: body.title,
        starts_at: body.starts_at.as_deref().map(parse_starts_at).transpose()?,
        environment_id: body.environment_id,
        attendees: body.attendees,
        script: body.script.map(|s| {
            s.into_iter()
                .map(|i| NewDemoItem {
                    feature_id: i.feature_id,
                    text: i.text,
                    must_show: i.must_show,
                })
                .collect()
        }),
    };
    Ok(Json(
        state.store.update_demo(caller.ws(), id, change).await?,
    ))
}

/// Checks the demo now: runs its probes and answers the talk track — per item the mode and
/// notes — with the readiness share and `ready`. The check is kept on the demo.
#[utoipa::path(post, path = "/api/v1/demos/{id}/check", tag = "demos",
    params(("id" = i64, Path, description = "Demo id")),
    responses((status = 200, body = DemoCheck), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn check(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<DemoCheck>> {
    caller.require(Permission::RunDemos, "check demos")?;
    Ok(Json(
        check_demo(&state.store, &state.prober, caller.ws(), id, "manual")
            .await?
            .check,
    ))
}

/// One script item to record as a promise.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromiseItemInput {
    /// The script item's id (`script[].id`).
    pub item_id: i64,
    /// The mode it was actually shown in (default: the mode of the last check).
    pub shown_as: Option<String>,
    /// Acceptance-critical (default: its must-show flag).
    pub critical: Option<bool>,
    /// Acceptance criteria in the customer's words.
    #[serde(default)]
    pub criteria: Vec<String>,
}

/// The promises made in a demo.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordDemoPromises {
    /// The chosen script items.
    pub items: Vec<PromiseItemInput>,
}

/// After the demo: records the chosen script items as commitments, all in one transaction.
#[utoipa::path(post, path = "/api/v1/demos/{id}/promises", tag = "demos", request_body = RecordDemoPromises,
    params(("id" = i64, Path, description = "Demo id")),
    responses((status = 201, body = Vec<Commitment>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn record_promises(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RecordDemoPromises>,
) -> ApiResult<(StatusCode, Json<Vec<Commitment>>)> {
    caller.require(Permission::RecordPromise, "record promises")?;
    let picks = body
        .items
        .into_iter()
        .map(|i| {
            if i.criteria.len() > 100 {
                return Err(ApiError::invalid("criteria: at most 100"));
            }
            Ok(PromisePick {
                item_id: i.item_id,
                shown_as: i.shown_as.as_deref().map(Mode::parse).transpose()?,
                critical: i.critical,
                criteria: i.criteria,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let recorded = state
        .store
        .record_demo_promises(caller.ws(), caller.actor(), id, picks)
        .await?;
    Ok((StatusCode::CREATED, Json(recorded)))
}
