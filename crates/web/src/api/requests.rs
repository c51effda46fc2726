//! Requests: filing, the triage inbox and its search, similar requests, decisions, the public
//! intake link and the requester's status link.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use cunjin_core::{Decision, Permission, SourceRole};
use cunjin_store::ledger::catalogue::Feature;
use cunjin_store::requests::{
    FeatureLink, NewDecision, NewRequest, Request, RequestFilter, RequestStatus, SimilarRequest,
    Via,
};
use cunjin_store::search::DocKind;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::intake::{spam_check, ClientIp};
use crate::AppState;

/// The endpoints of this module, with their OpenAPI descriptions.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list_requests, create_request))
        .routes(routes!(similar_to_text))
        .routes(routes!(get_request, link_feature))
        .routes(routes!(similar_to_request))
        .routes(routes!(decide))
        .routes(routes!(request_audit))
        .routes(routes!(search))
        .routes(routes!(intake_link))
        .routes(routes!(rotate_intake_link))
        .routes(routes!(intake))
        .routes(routes!(request_status))
}

/// Filters of the request list.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct RequestQuery {
    /// Words to find, Chinese or English; every word must match.
    pub q: Option<String>,
    /// customer, implementation, rnd, sales, presales, leadership or product.
    pub source_role: Option<String>,
    /// One customer.
    pub customer_id: Option<i64>,
    /// new, accepted, deferred, declined, duplicate or needs_info.
    pub decision: Option<String>,
    /// One product.
    pub product_id: Option<i64>,
    /// One feature.
    pub feature_id: Option<i64>,
    /// At most this many (default 200, at most 5000).
    pub limit: Option<i64>,
    /// Skip this many.
    pub offset: Option<i64>,
}

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl RequestQuery {
    /// The filter this query asks for.
    pub fn filter(&self) -> Result<RequestFilter, ApiError> {
        Ok(RequestFilter {
            q: blank(&self.q).map(str::to_string),
            source_role: blank(&self.source_role)
                .map(SourceRole::parse)
                .transpose()?,
            customer_id: self.customer_id,
            decision: blank(&self.decision).map(Decision::parse).transpose()?,
            product_id: self.product_id,
            feature_id: self.feature_id,
            limit: self.limit,
            offset: self.offset,
        })
    }
}

/// Requests, newest first; `q` searches their text.
#[utoipa::path(get, path = "/api/v1/requests", tag = "requests", params(RequestQuery),
    responses((status = 200, body = Vec<Request>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn list_requests(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RequestQuery>,
) -> ApiResult<Json<Vec<Request>>> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(
        state.store.list_requests(caller.ws(), &q.filter()?).await?,
    ))
}

/// A request to file.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    /// What is asked for, in the requester's words (at most 2000 characters).
    pub text: String,
    /// customer, implementation, rnd, sales, presales, leadership or product.
    pub source_role: String,
    /// The customer it is for.
    pub customer_id: Option<i64>,
    /// Who asked.
    pub requester: Option<String>,
    /// How to reach them.
    pub contact: Option<String>,
    /// The product it concerns.
    pub product_id: Option<i64>,
    /// A feature known to meet it.
    pub feature_id: Option<i64>,
}

impl CreateRequest {
    /// The request to file.
    pub fn into_new(self) -> Result<NewRequest, ApiError> {
        Ok(NewRequest {
            text: self.text,
            source_role: SourceRole::parse(self.source_role.trim())?,
            customer_id: self.customer_id,
            requester: self.requester.unwrap_or_default(),
            contact: self.contact.unwrap_or_default(),
            product_id: self.product_id,
            feature_id: self.feature_id,
        })
    }
}

/// Files a request. Every role but viewer may.
#[utoipa::path(post, path = "/api/v1/requests", tag = "requests", request_body = CreateRequest,
    responses((status = 201, body = Request), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn create_request(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateRequest>,
) -> ApiResult<(StatusCode, Json<Request>)> {
    caller.require(Permission::CreateRequest, "file requests")?;
    let r = state
        .store
        .create_request(caller.ws(), caller.actor(), Via::Api, body.into_new()?)
        .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// One request.
#[utoipa::path(get, path = "/api/v1/requests/{id}", tag = "requests",
    params(("id" = i64, Path, description = "Request id")),
    responses((status = 200, body = Request), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn get_request(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Request>> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.store.get_request(caller.ws(), id).await?))
}

/// How many similar requests to return.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SimilarQuery {
    /// At most this many (default 5, at most 50).
    pub limit: Option<usize>,
}

/// A feature to link a request to, before or without deciding.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkFeature {
    /// The feature that would meet the request.
    pub feature_id: i64,
}

/// Links a request to a feature (admin and pm); the customer's demand then counts for it.
#[utoipa::path(patch, path = "/api/v1/requests/{id}", tag = "requests", request_body = LinkFeature,
    params(("id" = i64, Path, description = "Request id")),
    responses((status = 200, body = Request), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn link_feature(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<LinkFeature>,
) -> ApiResult<Json<Request>> {
    caller.require(Permission::TriageRequests, "link requests to features")?;
    Ok(Json(
        state
            .store
            .link_request_feature(caller.ws(), caller.actor(), id, body.feature_id)
            .await?,
    ))
}

/// Requests that look like this one (near-duplicates), most alike first.
#[utoipa::path(get, path = "/api/v1/requests/{id}/similar", tag = "requests",
    params(("id" = i64, Path, description = "Request id"), SimilarQuery),
    responses((status = 200, body = Vec<SimilarRequest>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn similar_to_request(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<SimilarQuery>,
) -> ApiResult<Json<Vec<SimilarRequest>>> {
    caller.require(Permission::Read, "read")?;
    let r = state.store.get_request(caller.ws(), id).await?;
    Ok(Json(
        state
            .store
            .similar_requests(caller.ws(), &r.text, Some(id), q.limit.unwrap_or(5))
            .await?,
    ))
}

/// A text to compare before filing it.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SimilarTextQuery {
    /// The text of the request about to be filed.
    pub text: String,
    /// At most this many (default 5, at most 50).
    pub limit: Option<usize>,
}

/// Requests like a text not filed yet: shown while a request is typed, so that a near-duplicate
/// is found before it is filed.
#[utoipa::path(get, path = "/api/v1/requests/similar", tag = "requests", params(SimilarTextQuery),
    responses((status = 200, body = Vec<SimilarRequest>), (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn similar_to_text(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SimilarTextQuery>,
) -> ApiResult<Json<Vec<SimilarRequest>>> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(
        state
            .store
            .similar_requests(caller.ws(), &q.text, None, q.limit.unwrap_or(5))
            .await?,
    ))
}

/// A decision on a request.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DecideRequest {
    /// accepted, deferred, declined, duplicate or needs_info.
    pub decision: String,
    /// Why; required to decline. The requester reads it.
    pub reason: Option<String>,
    /// Link to this feature (required to accept unless linked already).
    pub feature_id: Option<i64>,
    /// Or create an idea feature with this title and link it.
    pub feature_title: Option<String>,
    /// Product of the created feature.
    pub product_id: Option<i64>,
    /// For duplicate: the original request, which takes over the demand.
    pub duplicate_of: Option<i64>,
    /// For accepted: the planned release, e.g. v5.3.
    pub planned_release: Option<String>,
}

impl DecideRequest {
    /// The decision to make.
    pub fn into_new(self) -> Result<NewDecision, ApiError> {
        let title = self
            .feature_title
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        let feature = match (self.feature_id, title) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid(
                    "give feature_id or feature_title, not both",
                ))
            }
            (Some(id), None) => Some(FeatureLink::Id(id)),
            (None, Some(title)) => Some(FeatureLink::Create {
                title,
                product_id: self.product_id,
            }),
            (None, None) => None,
        };
        Ok(NewDecision {
            decision: Decision::parse(self.decision.trim())?,
            reason: self.reason,
            feature,
            duplicate_of: self.duplicate_of,
            planned_release: self.planned_release,
        })
    }
}

/// Decides on a request (admin and pm). A duplicate's demand moves to its original.
#[utoipa::path(post, path = "/api/v1/requests/{id}/decision", tag = "requests", request_body = DecideRequest,
    params(("id" = i64, Path, description = "Request id")),
    responses((status = 200, body = Request), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn decide(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<DecideRequest>,
) -> ApiResult<Json<Request>> {
    caller.require(Permission::TriageRequests, "decide on requests")?;
    Ok(Json(
        state
            .store
            .decide_request(caller.ws(), caller.actor(), id, body.into_new()?)
            .await?,
    ))
}

/// The trail of a request: filed, linked, each decision with who, when and why.
#[utoipa::path(get, path = "/api/v1/requests/{id}/audit", tag = "requests",
    params(("id" = i64, Path, description = "Request id")),
    responses((status = 200, body = Vec<cunjin_store::access::audit::AuditEntry>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn request_audit(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<cunjin_store::access::audit::AuditEntry>>> {
    caller.require(Permission::Read, "read")?;
    state.store.get_request(caller.ws(), id).await?;
    Ok(Json(
        state.store.audit_trail(caller.ws(), "request", id).await?,
    ))
}

/// What a search finds.
#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    /// Matching requests, newest first.
    pub requests: Vec<Request>,
    /// Matching features (title or menu path), newest first.
    pub features: Vec<Feature>,
}

/// The words to find.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Chinese or English words; every word must match.
    pub q: String,
    /// At most this many of each kind (default 50, at most 500).
    pub limit: Option<i64>,
}

/// Searches requests and features at once.
#[utoipa::path(get, path = "/api/v1/search", tag = "requests", params(SearchQuery),
    responses((status = 200, body = SearchResults), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn search(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<Json<SearchResults>> {
    caller.require(Permission::Read, "read")?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let filter = RequestFilter {
        q: Some(q.q.clone()),
        limit: Some(limit),
        ..Default::default()
    };
    let requests = state.store.list_requests(caller.ws(), &filter).await?;
    let mut features = Vec::new();
    for id in state
        .store
        .search_ids(caller.ws(), DocKind::Feature, &q.q, limit)
        .await?
    {
        features.push(state.store.get_feature(caller.ws(), id).await?);
    }
    Ok(Json(SearchResults { requests, features }))
}

/// The workspace's public intake link.
#[derive(Serialize, ToSchema)]
pub struct IntakeLink {
    /// The secret token.
    pub token: String,
    /// The form to hand out (HTML).
    pub form_url: String,
    /// Where scripts post (JSON).
    pub api_url: String,
}

impl IntakeLink {
    fn new(token: String) -> Self {
        IntakeLink {
            form_url: format!("/intake/{token}"),
            api_url: format!("/api/v1/intake/{token}"),
            token,
        }
    }
}

/// The intake link to hand to implementation consultants and customers (admin and pm).
#[utoipa::path(get, path = "/api/v1/intake-link", tag = "requests",
    responses((status = 200, body = IntakeLink), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn intake_link(
    caller: Caller,
    State(state): State<AppState>,
) -> ApiResult<Json<IntakeLink>> {
    caller.require(Permission::TriageRequests, "see the intake link")?;
    let token = state
        .store
        .intake_token(caller.ws(), caller.actor())
        .await?;
    Ok(Json(IntakeLink::new(token)))
}

/// Replaces the intake link; the old one stops working at once (admin and pm).
#[utoipa::path(post, path = "/api/v1/intake-link/rotate", tag = "requests",
    responses((status = 200, body = IntakeLink), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn rotate_intake_link(
    caller: Caller,
    State(state): State<AppState>,
) -> ApiResult<Json<IntakeLink>> {
    caller.require(Permission::TriageRequests, "rotate the intake link")?;
    let token = state
        .store
        .rotate_intake_token(caller.ws(), caller.actor())
        .await?;
    Ok(Json(IntakeLink::new(token)))
}

/// A request sent through the intake link, without an account.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct IntakeRequest {
    /// What is asked for (4 to 2000 characters, at most 2 links).
    pub text: String,
    /// Your name.
    pub requester: Option<String>,
    /// Your hospital or company.
    pub organization: Option<String>,
    /// How to reach you.
    pub contact: Option<String>,
    /// customer (default) or implementation, or another source role.
    pub source_role: Option<String>,
    /// Leave empty: a field only robots fill in.
    pub website: Option<String>,
}

/// What the sender of an intake request gets back: the link to follow its decision.
#[derive(Serialize, ToSchema)]
pub struct IntakeReceipt {
    /// The text filed.
    pub text: String,
    /// `new` until product management decides.
    #[schema(value_type = String)]
    pub decision: Decision,
    /// Where to read the decision and its reason (HTML; JSON with Accept: application/json).
    pub status_url: String,
}

/// Files a request through the workspace's intake link, without an account. Rate-limited per
/// client address and per link (429 with Retry-After).
pub async fn file_through_intake(
    state: &AppState,
    ip: &str,
    token: &str,
    body: IntakeRequest,
) -> ApiResult<IntakeReceipt> {
    let Some(ws) = state.store.workspace_for_intake(token).await? else {
        return Err(ApiError::not_found(
            "this intake link does not exist or was replaced; ask for the current one",
        ));
    };
    if let Err(wait) = state.intake.check(ip, token) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            format!("too many requests from here; try again in {wait} seconds"),
        )
        .retry_after(u32::try_from(wait).unwrap_or(u32::MAX)));
    }
    spam_check(&body.text, body.website.as_deref().unwrap_or(""))
        .map_err(|m| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::Rejected, m))?;
    let requester = body.requester.unwrap_or_default().trim().to_string();
    let organization = body.organization.unwrap_or_default().trim().to_string();
    // An organisation that is a known customer links the request to it; otherwise its name is
    // kept with the requester's. Nothing about customers is ever shown back.
    let customer = if organization.is_empty() {
        None
    } else {
        state.store.find_customer_by_name(ws, &organization).await?
    };
    let requester = match (&customer, organization.is_empty()) {
        (None, false) if requester.is_empty() => organization,
        (None, false) => format!("{requester} ({organization})"),
        _ => requester,
    };
    let source_role = match body.source_role.as_deref().map(str::trim) {
        None | Some("") => SourceRole::Customer,
        Some(s) => SourceRole::parse(s)?,
    };
    let r = state
        .store
        .create_request(
            ws,
            "intake",
            Via::Intake,
            NewRequest {
                text: body.text,
                source_role,
                customer_id: customer.map(|c| c.id.0),
                requester,
                contact: body.contact.unwrap_or_default(),
                product_id: None,
                feature_id: None,
            },
        )
        .await?;
    Ok(IntakeReceipt {
        text: r.text,
        decision: r.decision,
        status_url: r.status_url,
    })
}

/// Files a request through a workspace's public intake link: no account needed.
#[utoipa::path(post, path = "/api/v1/intake/{token}", tag = "requests", request_body = IntakeRequest,
    params(("token" = String, Path, description = "The workspace's intake token")),
    responses((status = 201, body = IntakeReceipt), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn intake(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPath(token): ApiPath<String>,
    ApiJson(body): ApiJson<IntakeRequest>,
) -> Response {
    match file_through_intake(&state, &ip, &token, body).await {
        Ok(receipt) => (StatusCode::CREATED, Json(receipt)).into_response(),
        // A 429 carries its Retry-After.
        Err(e) => e.into_response(),
    }
}

/// A request's status for its requester: text, decision, reason, planned release; nothing else.
#[utoipa::path(get, path = "/api/v1/status/r/{token}", tag = "requests",
    params(("token" = String, Path, description = "The request's status token")),
    responses((status = 200, body = RequestStatus), (status = 404, body = ErrorBody)))]
pub async fn request_status(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Json<RequestStatus>> {
    state
        .store
        .request_status(&token)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("no request behind this link"))
}
