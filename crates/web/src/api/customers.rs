//! Customers and deals.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use cunjin_core::{CustomerId, DealId, DealStage, Money, Permission};
use cunjin_store::ledger::customers::{Customer, Deal, NewDeal};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{parse_date, ApiJson, ApiPath, ApiQuery};
use crate::AppState;

/// The endpoints of this module, with their OpenAPI descriptions.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list_customers, create_customer))
        .routes(routes!(get_customer))
        .routes(routes!(list_deals, create_deal))
        .routes(routes!(get_deal))
}

/// A customer to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomer {
    /// Name, e.g. "浙江省人民医院".
    pub name: String,
    /// Weight of its requests in the roadmap (default 1.0).
    pub weight: Option<f64>,
}

/// The customers of the workspace.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers",
    responses((status = 200, body = Vec<Customer>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn list_customers(
    caller: Caller,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<Customer>>> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.store.list_customers(caller.ws()).await?))
}

/// Creates a customer.
#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", request_body = CreateCustomer,
    responses((status = 201, body = Customer), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn create_customer(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateCustomer>,
) -> ApiResult<(StatusCode, Json<Customer>)> {
    caller.require(Permission::EditCustomers, "change customers")?;
    let c = state
        .store
        .create_customer(caller.ws(), &body.name, body.weight)
        .await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// One customer.
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = Customer), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn get_customer(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Customer>> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(
        state
            .store
            .get_customer(caller.ws(), CustomerId(id))
            .await?,
    ))
}

/// Filters of the deal list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DealQuery {
    /// Only this customer's deals.
    pub customer_id: Option<i64>,
}

/// Deals.
#[utoipa::path(get, path = "/api/v1/deals", tag = "customers", params(DealQuery),
    responses((status = 200, body = Vec<Deal>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn list_deals(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DealQuery>,
) -> ApiResult<Json<Vec<Deal>>> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(
        state
            .store
            .list_deals(caller.ws(), q.customer_id.map(CustomerId))
            .await?,
    ))
}

/// A deal to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDeal {
    /// Customer.
    pub customer_id: i64,
    /// Name.
    pub name: String,
    /// lead, qualified, proposal, negotiation, won or lost (default won).
    pub stage: Option<String>,
    /// Contract value, up to two decimals (default 0).
    pub contract_value: Option<f64>,
    /// Acceptance date, YYYY-MM-DD.
    pub acceptance_date: Option<String>,
    /// A pilot customer.
    #[serde(default)]
    pub pilot: bool,
}

/// Creates a deal.
#[utoipa::path(post, path = "/api/v1/deals", tag = "customers", request_body = CreateDeal,
    responses((status = 201, body = Deal), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn create_deal(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateDeal>,
) -> ApiResult<(StatusCode, Json<Deal>)> {
    caller.require(Permission::EditCustomers, "change deals")?;
    let new = NewDeal {
        customer_id: CustomerId(body.customer_id),
        name: body.name,
        stage: body
            .stage
            .as_deref()
            .map(DealStage::parse)
            .transpose()?
            .unwrap_or(DealStage::Won),
        contract_value: Money::from_units(body.contract_value.unwrap_or(0.0))?,
        acceptance_date: parse_date("acceptance_date", body.acceptance_date.as_deref())?,
        pilot: body.pilot,
    };
    let d = state.store.create_deal(caller.ws(), new).await?;
    Ok((StatusCode::CREATED, Json(d)))
}

/// One deal.
#[utoipa::path(get, path = "/api/v1/deals/{id}", tag = "customers",
    params(("id" = i64, Path, description = "Deal id")),
    responses((status = 200, body = Deal), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn get_deal(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Deal>> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.store.get_deal(caller.ws(), DealId(id)).await?))
}
