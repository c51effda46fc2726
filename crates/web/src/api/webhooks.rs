//! Webhooks (WeCom, DingTalk, Feishu, Slack, generic JSON), their deliveries, and the calendar
//! link. Admin and pm only.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use cunjin_core::notify::{Event, WebhookKind};
use cunjin_core::Permission;
use cunjin_store::notify::{Delivery, NewWebhook, Webhook, WebhookChange};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::outbound::Purpose;
use crate::AppState;

/// The endpoints of this module, with their OpenAPI descriptions.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(test_webhook))
        .routes(routes!(deliveries))
        .routes(routes!(calendar_link))
        .routes(routes!(rotate_calendar_link))
}

/// A webhook to add.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// wecom, dingtalk, feishu, slack or generic.
    pub kind: String,
    /// The robot's or endpoint's address (http or https).
    pub url: String,
    /// Events to send: readiness_failed, commitment_due, request_decided, weekly_digest
    /// (default: all of them).
    pub events: Option<Vec<String>>,
    /// Signing secret of a DingTalk or Feishu robot ("加签"); never answered back.
    pub secret: Option<String>,
}

/// Changes to a webhook; missing fields stay.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    /// New address.
    pub url: Option<String>,
    /// New events.
    pub events: Option<Vec<String>>,
    /// New signing secret; an empty string removes it.
    pub secret: Option<String>,
    /// false pauses sending (messages wait), true resumes.
    pub active: Option<bool>,
}

fn parse_events(names: Option<&[String]>) -> Result<Option<Vec<Event>>, cunjin_core::ParseError> {
    names.map(Event::parse_list).transpose()
}

/// Adds a webhook (admin and pm).
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "notifications", request_body = CreateWebhook,
    responses((status = 201, body = Webhook), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn create_webhook(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateWebhook>,
) -> ApiResult<(StatusCode, Json<Webhook>)> {
    caller.require(Permission::ManageWebhooks, "add webhooks")?;
    state.check_outbound(Purpose::Webhook, "url", &body.url)?;
    let new = NewWebhook {
        kind: WebhookKind::parse(body.kind.trim())?,
        url: body.url,
        events: parse_events(body.events.as_deref())?
            .unwrap_or_else(|| Event::SUBSCRIBABLE.to_vec()),
        secret: body.secret,
    };
    let hook = state
        .store
        .create_webhook(caller.ws(), caller.actor(), new)
        .await?;
    Ok((StatusCode::CREATED, Json(hook)))
}

/// The workspace's webhooks (admin and pm).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "notifications",
    responses((status = 200, body = Vec<Webhook>), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn list_webhooks(
    caller: Caller,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<Webhook>>> {
    caller.require(Permission::ManageWebhooks, "see webhooks")?;
    Ok(Json(state.store.list_webhooks(caller.ws()).await?))
}

/// One webhook (admin and pm).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "notifications",
    params(("id" = i64, Path, description = "Webhook id")),
    responses((status = 200, body = Webhook), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn get_webhook(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Webhook>> {
    caller.require(Permission::ManageWebhooks, "see webhooks")?;
    Ok(Json(state.store.get_webhook(caller.ws(), id).await?))
}

/// Changes a webhook: address, events, secret, paused or not (admin and pm).
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "notifications", request_body = UpdateWebhook,
    params(("id" = i64, Path, description = "Webhook id")),
    responses((status = 200, body = Webhook), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn update_webhook(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<UpdateWebhook>,
) -> ApiResult<Json<Webhook>> {
    caller.require(Permission::ManageWebhooks, "change webhooks")?;
    if let Some(url) = &body.url {
        state.check_outbound(Purpose::Webhook, "url", url)?;
    }
    let change = WebhookChange {
        url: body.url,
        events: parse_events(body.events.as_deref())?,
        secret: body
            .secret
            .map(|s| Some(s).filter(|s| !s.trim().is_empty())),
        active: body.active,
    };
    Ok(Json(
        state.store.update_webhook(caller.ws(), id, change).await?,
    ))
}

/// Removes a webhook and its deliveries (admin and pm).
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "notifications",
    params(("id" = i64, Path, description = "Webhook id")),
    responses((status = 204, description = "Removed"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn delete_webhook(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Permission::ManageWebhooks, "remove webhooks")?;
    state.store.delete_webhook(caller.ws(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enqueues a test message to this webhook; it is sent by the next pass of the outbox, like
/// every message (admin and pm).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "notifications",
    params(("id" = i64, Path, description = "Webhook id")),
    responses((status = 202, body = Delivery), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn test_webhook(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<Delivery>)> {
    caller.require(Permission::ManageWebhooks, "test webhooks")?;
    let d = state.store.enqueue_test_message(caller.ws(), id).await?;
    Ok((StatusCode::ACCEPTED, Json(d)))
}

/// Options of the delivery list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// At most this many (default 50, at most 500).
    pub limit: Option<i64>,
}

/// The latest messages to a webhook, newest first: pending, sent, or failed after the last
/// retry, with the last error (admin and pm).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "notifications",
    params(("id" = i64, Path, description = "Webhook id"), DeliveryQuery),
    responses((status = 200, body = Vec<Delivery>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn deliveries(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DeliveryQuery>,
) -> ApiResult<Json<Vec<Delivery>>> {
    caller.require(Permission::ManageWebhooks, "see deliveries")?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    Ok(Json(state.store.deliveries(caller.ws(), id, limit).await?))
}

/// The calendar feed's link.
#[derive(Serialize, ToSchema)]
pub struct CalendarLink {
    /// The secret token.
    pub token: String,
    /// The feed to subscribe to (ICS), relative to the server.
    pub url: String,
}

impl CalendarLink {
    fn new(token: String) -> Self {
        CalendarLink {
            url: format!("/calendar/{token}.ics"),
            token,
        }
    }
}

/// The workspace's calendar link (demos, acceptance dates, commitment due dates), once it was
/// made with `POST /api/v1/calendar-link/rotate`; 404 before (admin and pm). Reading it never
/// makes one: a GET changes nothing.
#[utoipa::path(get, path = "/api/v1/calendar-link", tag = "notifications",
    responses((status = 200, body = CalendarLink), (status = 403, body = ErrorBody),
        (status = 404, description = "No calendar link yet", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn calendar_link(
    caller: Caller,
    State(state): State<AppState>,
) -> ApiResult<Json<CalendarLink>> {
    caller.require(Permission::ManageWebhooks, "see the calendar link")?;
    match state.store.calendar_token(caller.ws()).await? {
        Some(token) => Ok(Json(CalendarLink::new(token))),
        None => Err(ApiError::not_found(
            "no calendar link yet: POST /api/v1/calendar-link/rotate makes it",
        )),
    }
}

/// Makes the calendar link, or replaces it: the old one stops working at once (admin and pm).
#[utoipa::path(post, path = "/api/v1/calendar-link/rotate", tag = "notifications",
    responses((status = 200, body = CalendarLink), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn rotate_calendar_link(
    caller: Caller,
    State(state): State<AppState>,
) -> ApiResult<Json<CalendarLink>> {
    caller.require(Permission::ManageWebhooks, "rotate the calendar link")?;
    let token = state
        .store
        .rotate_calendar_token(caller.ws(), caller.actor())
        .await?;
    Ok(Json(CalendarLink::new(token)))
}
