//! Commitments: recording promises, their criteria, transitions and audit trail.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use cunjin_core::{Mode, Permission, Status};
use cunjin_store::access::audit::AuditEntry;
use cunjin_store::ledger::commitments::{Commitment, CommitmentFilter, FeatureRef, NewCommitment};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{parse_date, ApiJson, ApiPath, ApiQuery};
use crate::AppState;

/// The endpoints of this module, with their OpenAPI descriptions.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list_commitments, record_promise))
        .routes(routes!(get_commitment))
        .routes(routes!(transition))
        .routes(routes!(add_criterion))
        .routes(routes!(set_criterion))
        .routes(routes!(audit_trail))
}

/// Filters of the commitment list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommitmentQuery {
    /// One customer.
    pub customer_id: Option<i64>,
    /// One feature.
    pub feature_id: Option<i64>,
    /// One status.
    pub status: Option<String>,
    /// At most this many (default 500, at most 5000).
    pub limit: Option<i64>,
    /// Skip this many.
    pub offset: Option<i64>,
}

/// Commitments, newest first.
#[utoipa::path(get, path = "/api/v1/commitments", tag = "commitments", params(CommitmentQuery),
    responses((status = 200, body = Vec<Commitment>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn list_commitments(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<CommitmentQuery>,
) -> ApiResult<Json<Vec<Commitment>>> {
    caller.require(Permission::Read, "read")?;
    let filter = CommitmentFilter {
        customer_id: q.customer_id,
        feature_id: q.feature_id,
        status: q.status.as_deref().map(Status::parse).transpose()?,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(
        state.store.list_commitments(caller.ws(), &filter).await?,
    ))
}

/// A promise to record: on a catalogue feature (`feature_id`) or in free words
/// (`feature_title`, which becomes an `idea` feature).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCommitment {
    /// Customer.
    pub customer_id: i64,
    /// Deal.
    pub deal_id: Option<i64>,
    /// A catalogue feature.
    pub feature_id: Option<i64>,
    /// Or the words of the promise.
    pub feature_title: Option<String>,
    /// Product to file a new idea under.
    pub product_id: Option<i64>,
    /// live, fallback, unverified, menu, slides, words or promise; by default what the feature's stage allows.
    pub shown_as: Option<String>,
    /// Who promised it (default: the caller).
    pub promised_by: Option<String>,
    /// When (default today), YYYY-MM-DD.
    pub promised_at: Option<String>,
    /// Due date (default: the deal's acceptance date), YYYY-MM-DD.
    pub due_date: Option<String>,
    /// Acceptance-critical (验收必须).
    #[serde(default)]
    pub critical: bool,
    /// Acceptance criteria in the customer's words.
    #[serde(default)]
    pub criteria: Vec<String>,
    /// Must be absent or "open": a promise starts open.
    pub status: Option<String>,
}

impl CreateCommitment {
    /// Parses the request into a promise, or says what is wrong.
    pub fn into_new(self) -> Result<NewCommitment, ApiError> {
        let feature = match (self.feature_id, self.feature_title) {
            (Some(id), None) => FeatureRef::Id(id),
            (None, Some(title)) => FeatureRef::Title {
                title,
                product_id: self.product_id,
            },
            _ => {
                return Err(ApiError::invalid(
                    "give either feature_id or feature_title (one of them)",
                ))
            }
        };
        if let Some(s) = self.status.as_deref() {
            if Status::parse(s)? != Status::Open {
                return Err(ApiError::invalid(
                    "status: a promise starts open; use /commitments/{id}/transition",
                ));
            }
        }
        cunjin_core::check_criteria_count(self.criteria.len())?;
        Ok(NewCommitment {
            customer_id: self.customer_id,
            deal_id: self.deal_id,
            feature,
            shown_as: self.shown_as.as_deref().map(Mode::parse).transpose()?,
            promised_by: self.promised_by,
            promised_at: parse_date("promised_at", self.promised_at.as_deref())?,
            due_date: parse_date("due_date", self.due_date.as_deref())?,
            critical: self.critical,
            criteria: self.criteria,
        })
    }
}

/// Records a promise in one step, with its criteria.
#[utoipa::path(post, path = "/api/v1/commitments", tag = "commitments", request_body = CreateCommitment,
    responses((status = 201, body = Commitment), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn record_promise(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateCommitment>,
) -> ApiResult<(StatusCode, Json<Commitment>)> {
    caller.require(Permission::RecordPromise, "record promises")?;
    let c = state
        .store
        .record_promise(caller.ws(), caller.actor(), body.into_new()?)
        .await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// One commitment with its criteria and gap.
#[utoipa::path(get, path = "/api/v1/commitments/{id}", tag = "commitments",
    params(("id" = i64, Path, description = "Commitment id")),
    responses((status = 200, body = Commitment), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn get_commitment(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Commitment>> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.store.get_commitment(caller.ws(), id).await?))
}

/// A step in the life of a commitment.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// open, delivered, accepted or waived.
    pub to: String,
    /// Required to waive, reopen or reinstate.
    pub reason: Option<String>,
}

/// Moves a commitment: open → delivered → accepted (every criterion met), or waived with a reason.
#[utoipa::path(post, path = "/api/v1/commitments/{id}/transition", tag = "commitments", request_body = Transition,
    params(("id" = i64, Path, description = "Commitment id")),
    responses((status = 200, body = Commitment), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn transition(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Transition>,
) -> ApiResult<Json<Commitment>> {
    caller.require(Permission::ChangeCommitment, "change commitments")?;
    let to = Status::parse(&body.to)
        .map_err(|e| ApiError::invalid(e.to_string().replace("status:", "to:")))?;
    Ok(Json(
        state
            .store
            .transition_commitment(caller.ws(), caller.actor(), id, to, body.reason.as_deref())
            .await?,
    ))
}

/// A criterion to add.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddCriterion {
    /// The customer's words.
    pub text: String,
}

/// Adds an acceptance criterion.
#[utoipa::path(post, path = "/api/v1/commitments/{id}/criteria", tag = "commitments", request_body = AddCriterion,
    params(("id" = i64, Path, description = "Commitment id")),
    responses((status = 201, body = Commitment), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn add_criterion(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AddCriterion>,
) -> ApiResult<(StatusCode, Json<Commitment>)> {
    caller.require(Permission::RecordPromise, "change criteria")?;
    let c = state
        .store
        .add_criterion(caller.ws(), caller.actor(), id, &body.text)
        .await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// Whether a criterion is met.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetCriterion {
    /// Met or not.
    pub met: bool,
}

/// Marks one acceptance criterion met (or not met).
#[utoipa::path(post, path = "/api/v1/commitments/{id}/criteria/{criterion_id}", tag = "commitments", request_body = SetCriterion,
    params(("id" = i64, Path, description = "Commitment id"), ("criterion_id" = i64, Path, description = "Criterion id")),
    responses((status = 200, body = Commitment), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn set_criterion(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath((id, criterion_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<SetCriterion>,
) -> ApiResult<Json<Commitment>> {
    caller.require(Permission::ChangeCommitment, "change commitments")?;
    Ok(Json(
        state
            .store
            .set_criterion(caller.ws(), caller.actor(), id, criterion_id, body.met)
            .await?,
    ))
}

/// Every change to a commitment: who, when, before, after, why.
#[utoipa::path(get, path = "/api/v1/commitments/{id}/audit", tag = "commitments",
    params(("id" = i64, Path, description = "Commitment id")),
    responses((status = 200, body = Vec<AuditEntry>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn audit_trail(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    caller.require(Permission::Read, "read")?;
    state.store.get_commitment(caller.ws(), id).await?;
    Ok(Json(
        state
            .store
            .audit_trail(caller.ws(), "commitment", id)
            .await?,
    ))
}
