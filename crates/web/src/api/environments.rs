//! Demo environments and their probes: create, change, list with latest results, run now.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use cunjin_core::Permission;
use cunjin_store::demos::environments::{
    Environment, EnvironmentChange, NewEnvironment, NewProbe, Probe, ProbeRun,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::outbound::Purpose;
use crate::readiness::{check_environment, EnvironmentCheck};
use crate::AppState;

/// The endpoints of this module, with their OpenAPI descriptions.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list_environments, create_environment))
        .routes(routes!(get_environment, update_environment))
        .routes(routes!(run_environment))
        .routes(routes!(environment_runs))
        .routes(routes!(list_probes, create_probe))
        .routes(routes!(delete_probe))
}

/// The demo environments of the workspace; header values masked.
#[utoipa::path(get, path = "/api/v1/environments", tag = "demos",
    responses((status = 200, body = Vec<Environment>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn list_environments(
    caller: Caller,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<Environment>>> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.store.list_environments(caller.ws()).await?))
}

/// An environment to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEnvironment {
    /// Name, e.g. "演示环境-华东".
    pub name: String,
    /// Base URL, e.g. https://demo.example.cn/his.
    pub base_url: String,
    /// Headers sent with every probe, e.g. {"X-Demo-Token": "…"}; stored, answered masked.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Seconds between scheduled runs, 30–86400 (default 300).
    pub interval_s: Option<i64>,
}

/// Creates an environment.
#[utoipa::path(post, path = "/api/v1/environments", tag = "demos", request_body = CreateEnvironment,
    responses((status = 201, body = Environment), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn create_environment(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateEnvironment>,
) -> ApiResult<(StatusCode, Json<Environment>)> {
    caller.require(Permission::EditEnvironments, "change demo environments")?;
    state.check_outbound(Purpose::Probe, "base_url", &body.base_url)?;
    let e = state
        .store
        .create_environment(
            caller.ws(),
            NewEnvironment {
                name: body.name,
                base_url: body.base_url,
                headers: body.headers,
                interval_s: body.interval_s,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(e)))
}

/// One environment.
#[utoipa::path(get, path = "/api/v1/environments/{id}", tag = "demos",
    params(("id" = i64, Path, description = "Environment id")),
    responses((status = 200, body = Environment), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn get_environment(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Environment>> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.store.get_environment(caller.ws(), id).await?))
}

/// Changes to an environment. Headers: a value replaces, `null` removes, a header not named is
/// kept as it is — except when `base_url` changes: then the stored headers are dropped (they
/// may hold a demo login token meant for the old host) and only those given in the same change
/// are kept.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEnvironment {
    /// New name.
    pub name: Option<String>,
    /// New base URL.
    pub base_url: Option<String>,
    /// Header changes.
    #[serde(default)]
    pub headers: BTreeMap<String, Option<String>>,
    /// New interval in seconds.
    pub interval_s: Option<i64>,
}

/// Changes an environment.
#[utoipa::path(patch, path = "/api/v1/environments/{id}", tag = "demos", request_body = UpdateEnvironment,
    params(("id" = i64, Path, description = "Environment id")),
    responses((status = 200, body = Environment), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn update_environment(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<UpdateEnvironment>,
) -> ApiResult<Json<Environment>> {
    caller.require(Permission::EditEnvironments, "change demo environments")?;
    if let Some(url) = &body.base_url {
        state.check_outbound(Purpose::Probe, "base_url", url)?;
    }
    let change = EnvironmentChange {
        name: body.name,
        base_url: body.base_url,
        headers: body.headers,
        interval_s: body.interval_s,
    };
    Ok(Json(
        state
            .store
            .update_environment(caller.ws(), id, change)
            .await?,
    ))
}

/// Runs every probe of the environment now; the runs are kept in its history.
#[utoipa::path(post, path = "/api/v1/environments/{id}/run", tag = "demos",
    params(("id" = i64, Path, description = "Environment id")),
    responses((status = 200, body = EnvironmentCheck), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn run_environment(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<EnvironmentCheck>> {
    caller.require(Permission::EditEnvironments, "run probes")?;
    Ok(Json(
        check_environment(&state.store, &state.prober, caller.ws(), id).await?,
    ))
}

/// How much history.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunsQuery {
    /// At most this many runs (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// The latest probe runs of an environment, newest first.
#[utoipa::path(get, path = "/api/v1/environments/{id}/runs", tag = "demos", params(("id" = i64, Path, description = "Environment id"), RunsQuery),
    responses((status = 200, body = Vec<ProbeRun>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn environment_runs(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<RunsQuery>,
) -> ApiResult<Json<Vec<ProbeRun>>> {
    caller.require(Permission::Read, "read")?;
    state.store.get_environment(caller.ws(), id).await?;
    Ok(Json(
        state
            .store
            .probe_history(caller.ws(), id, q.limit.unwrap_or(100))
            .await?,
    ))
}

/// Filters of the probe list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProbeQuery {
    /// One environment.
    pub environment_id: Option<i64>,
}

/// Probes with their latest runs.
#[utoipa::path(get, path = "/api/v1/probes", tag = "demos", params(ProbeQuery),
    responses((status = 200, body = Vec<Probe>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn list_probes(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ProbeQuery>,
) -> ApiResult<Json<Vec<Probe>>> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(
        state
            .store
            .list_probes(caller.ws(), q.environment_id)
            .await?,
    ))
}

/// A probe to create: tied to a feature (`feature_id`, the feature works) or to demo data
/// (`dataset`, the data is there).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProbe {
    /// Environment.
    pub environment_id: i64,
    /// The feature it checks, or
    pub feature_id: Option<i64>,
    /// the demo data it checks, e.g. "患者张三".
    pub dataset: Option<String>,
    /// GET, HEAD or POST (default GET).
    pub method: Option<String>,
    /// Path joined to the base URL, e.g. /api/patients?name=张三.
    pub path: String,
    /// Expected status (default 200).
    pub expect_status: Option<i64>,
    /// Text the body must contain.
    pub expect_body: Option<String>,
    /// Regular expression the body must match.
    pub expect_regex: Option<String>,
    /// JSON pointer into the body (RFC 6901), e.g. /data/0/name …
    pub json_pointer: Option<String>,
    /// … and the value it must point at: JSON (`"张三"`, `3`, `true`) or plain text.
    pub json_value: Option<String>,
    /// Timeout in milliseconds, 100–60000 (default 5000).
    pub timeout_ms: Option<i64>,
}

/// Creates a probe.
#[utoipa::path(post, path = "/api/v1/probes", tag = "demos", request_body = CreateProbe,
    responses((status = 201, body = Probe), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn create_probe(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(b): ApiJson<CreateProbe>,
) -> ApiResult<(StatusCode, Json<Probe>)> {
    caller.require(Permission::EditEnvironments, "change probes")?;
    let p = state
        .store
        .create_probe(
            caller.ws(),
            NewProbe {
                environment_id: b.environment_id,
                feature_id: b.feature_id,
                dataset: b.dataset,
                method: b.method,
                path: b.path,
                expect_status: b.expect_status,
                expect_body: b.expect_body,
                expect_regex: b.expect_regex,
                json_pointer: b.json_pointer,
                json_value: b.json_value,
                timeout_ms: b.timeout_ms,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(p)))
}

/// Deletes a probe and its history.
#[utoipa::path(delete, path = "/api/v1/probes/{id}", tag = "demos",
    params(("id" = i64, Path, description = "Probe id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn delete_probe(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Permission::EditEnvironments, "change probes")?;
    state.store.delete_probe(caller.ws(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
