//! Releases, their delivery to customers, release notes and customer status links.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cunjin_core::{CustomerId, Permission};
use cunjin_store::delivery::releases::{DeliveryReport, NewRelease, Release, ShippedRelease};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::delivery::{customer_status, notes_csv, notes_markdown, CustomerStatus};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{parse_date, ApiJson, ApiPath, ApiQuery};
use crate::i18n::Lang;
use crate::AppState;

/// The endpoints of this module, with their OpenAPI descriptions.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list_releases, create_release))
        .routes(routes!(get_release))
        .routes(routes!(deliver_release))
        .routes(routes!(release_notes))
        .routes(routes!(get_status_link, rotate_status_link))
        .routes(routes!(public_status))
}

/// Releases, newest first.
#[utoipa::path(get, path = "/api/v1/releases", tag = "delivery",
    responses((status = 200, body = Vec<Release>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn list_releases(
    caller: Caller,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<Release>>> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.store.list_releases(caller.ws()).await?))
}

/// A release to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRelease {
    /// Version, unique in the workspace, e.g. "v5.2".
    pub version: String,
    /// Release date, YYYY-MM-DD (default today).
    pub date: Option<String>,
    /// The features it ships (at least one); each becomes `released`.
    pub feature_ids: Vec<i64>,
}

/// Creates a release: its features move to `released`, each change in the audit trail.
#[utoipa::path(post, path = "/api/v1/releases", tag = "delivery", request_body = CreateRelease,
    responses((status = 201, body = Release), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn create_release(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateRelease>,
) -> ApiResult<(StatusCode, Json<Release>)> {
    caller.require(Permission::ManageReleases, "create releases")?;
    let new = NewRelease {
        version: body.version,
        date: parse_date("date", body.date.as_deref())?.unwrap_or_else(cunjin_store::today),
        feature_ids: body.feature_ids,
    };
    let r = state
        .store
        .create_release(caller.ws(), caller.actor(), new)
        .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// One release, with its features and the customers it was delivered to.
#[utoipa::path(get, path = "/api/v1/releases/{id}", tag = "delivery",
    params(("id" = i64, Path, description = "Release id")),
    responses((status = 200, body = Release), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn get_release(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Release>> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.store.get_release(caller.ws(), id).await?))
}

/// Customers to deliver a release to.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Deliver {
    /// Customers (at least one).
    pub customer_ids: Vec<i64>,
}

/// Delivers a release to customers: their open commitments on its features become `delivered`;
/// commitments already delivered, accepted or waived are left as they are and reported under
/// `unchanged`. All or nothing; delivering again is harmless.
#[utoipa::path(post, path = "/api/v1/releases/{id}/deliver", tag = "delivery", request_body = Deliver,
    params(("id" = i64, Path, description = "Release id")),
    responses((status = 200, body = DeliveryReport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn deliver_release(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Deliver>,
) -> ApiResult<Json<DeliveryReport>> {
    caller.require(Permission::DeliverRelease, "deliver releases")?;
    Ok(Json(
        state
            .store
            .deliver_release(caller.ws(), caller.actor(), id, &body.customer_ids)
            .await?,
    ))
}

/// Options of the release notes.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotesQuery {
    /// `json` (default), `md` (Markdown) or `csv` (a download that opens in Excel).
    pub format: Option<String>,
    /// Only this release (default: every release delivered to the customer).
    pub release_id: Option<i64>,
    /// `zh` or `en` (default: the caller's language).
    pub lang: Option<String>,
}

/// What shipped for a customer: each release delivered to it with the customer's own commitments
/// on its features, as JSON, Markdown or CSV, in zh-CN or English.
#[utoipa::path(get, path = "/api/v1/customers/{id}/release-notes", tag = "delivery", params(
        ("id" = i64, Path, description = "Customer id"), NotesQuery),
    responses(
        (status = 200, body = Vec<ShippedRelease>, description = "JSON; with format=md text/markdown, with format=csv text/csv"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn release_notes(
    caller: Caller,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<NotesQuery>,
) -> ApiResult<Response> {
    caller.require(Permission::Read, "read")?;
    let l = match q.lang.as_deref() {
        None => Lang::from_headers(&headers),
        Some(s) => Lang::parse(s)
            .ok_or_else(|| ApiError::invalid(format!("lang: '{s}' is not one of: zh, en")))?,
    };
    let format = q.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "md" | "csv") {
        return Err(ApiError::invalid(format!(
            "format: '{format}' is not one of: json, md, csv"
        )));
    }
    let customer = state
        .store
        .get_customer(caller.ws(), CustomerId(id))
        .await?;
    let shipped = state
        .store
        .shipped_for_customer(caller.ws(), id, q.release_id)
        .await?;
    let file = |ext: &str| {
        let suffix = q.release_id.map(|r| format!("-r{r}")).unwrap_or_default();
        format!("attachment; filename=\"release-notes-c{id}{suffix}.{ext}\"")
    };
    Ok(match format {
        "md" => (
            [
                (CONTENT_TYPE, "text/markdown; charset=utf-8".to_string()),
                (CONTENT_DISPOSITION, file("md")),
            ],
            notes_markdown(l, &customer.name, &shipped),
        )
            .into_response(),
        "csv" => (
            [
                (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (CONTENT_DISPOSITION, file("csv")),
            ],
            notes_csv(l, &customer.name, &shipped),
        )
            .into_response(),
        _ => Json(shipped).into_response(),
    })
}

/// A customer's status link.
#[derive(Serialize, ToSchema)]
pub struct StatusLinkView {
    /// Customer.
    pub customer_id: i64,
    /// The page to send the customer (relative to this server), or null when none was made.
    pub status_url: Option<String>,
    /// The same as JSON.
    pub status_json_url: Option<String>,
    /// When the current link was made.
    pub created_at: Option<String>,
}

fn link_view(
    customer_id: i64,
    link: Option<cunjin_store::delivery::status_links::StatusLink>,
) -> StatusLinkView {
    StatusLinkView {
        customer_id,
        status_url: link.as_ref().map(|l| format!("/status/c/{}", l.token)),
        status_json_url: link
            .as_ref()
            .map(|l| format!("/api/v1/status/c/{}", l.token)),
        created_at: link.map(|l| l.created_at),
    }
}

/// The customer's current status link.
#[utoipa::path(get, path = "/api/v1/customers/{id}/status-link", tag = "delivery",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = StatusLinkView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn get_status_link(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<StatusLinkView>> {
    // The link opens the customer's data to anyone holding it: only those who may hand it out
    // may see it.
    caller.require(Permission::ShareStatusLink, "see status links")?;
    let link = state.store.status_link(caller.ws(), id).await?;
    Ok(Json(link_view(id, link)))
}

/// Creates the customer's read-only status link, or replaces it: the old link stops working.
#[utoipa::path(post, path = "/api/v1/customers/{id}/status-link", tag = "delivery",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 201, body = StatusLinkView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn rotate_status_link(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<StatusLinkView>)> {
    caller.require(Permission::ShareStatusLink, "share status links")?;
    let link = state
        .store
        .rotate_status_link(caller.ws(), caller.actor(), id)
        .await?;
    Ok((StatusCode::CREATED, Json(link_view(id, Some(link)))))
}

/// A customer's status, read through its link without logging in: its commitments, gap and what
/// shipped for it, nothing else. An unknown or rotated token is a plain 404.
#[utoipa::path(get, path = "/api/v1/status/c/{token}", tag = "delivery",
    params(("token" = String, Path, description = "The secret of the status link")),
    responses((status = 200, body = CustomerStatus), (status = 404, body = ErrorBody)))]
pub async fn public_status(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Response> {
    let Some((ws, customer_id)) = state.store.customer_for_status_token(&token).await? else {
        return Err(ApiError::not_found("not found"));
    };
    let status = customer_status(&state.store, ws, customer_id).await?;
    Ok(([(CACHE_CONTROL, "no-store")], Json(status)).into_response())
}
