//! Products and features.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use cunjin_core::{MenuPath, Permission, Stage};
use cunjin_store::ledger::catalogue::{Feature, FeatureChange, FeatureFilter, NewFeature, Product};
use serde::{Deserialize, Deserializer};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::AppState;

/// The endpoints of this module, with their OpenAPI descriptions.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list_products, create_product))
        .routes(routes!(list_features, create_feature))
        .routes(routes!(get_feature, update_feature))
}

/// A product to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProduct {
    /// Name, e.g. "电子病历 EMR".
    pub name: String,
}

/// The products of the workspace.
#[utoipa::path(get, path = "/api/v1/products", tag = "catalogue",
    responses((status = 200, body = Vec<Product>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn list_products(
    caller: Caller,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<Product>>> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.store.list_products(caller.ws()).await?))
}

/// Creates a product.
#[utoipa::path(post, path = "/api/v1/products", tag = "catalogue", request_body = CreateProduct,
    responses((status = 201, body = Product), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn create_product(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateProduct>,
) -> ApiResult<(StatusCode, Json<Product>)> {
    caller.require(Permission::EditCatalogue, "change the catalogue")?;
    let p = state.store.create_product(caller.ws(), &body.name).await?;
    Ok((StatusCode::CREATED, Json(p)))
}

/// Filters of the feature list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeatureQuery {
    /// Only this product.
    pub product_id: Option<i64>,
    /// Only this stage.
    pub stage: Option<String>,
}

/// The catalogue, by product and menu path.
#[utoipa::path(get, path = "/api/v1/features", tag = "catalogue", params(FeatureQuery),
    responses((status = 200, body = Vec<Feature>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn list_features(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<FeatureQuery>,
) -> ApiResult<Json<Vec<Feature>>> {
    caller.require(Permission::Read, "read")?;
    let filter = FeatureFilter {
        product_id: q.product_id,
        stage: q.stage.as_deref().map(Stage::parse).transpose()?,
    };
    Ok(Json(state.store.list_features(caller.ws(), &filter).await?))
}

/// A feature to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFeature {
    /// Product.
    pub product_id: i64,
    /// Place in the menus, e.g. "住院医生站/病历书写/结构化模板".
    pub menu_path: String,
    /// Title; the last menu level when absent.
    pub title: Option<String>,
    /// idea, designed, stubbed, built or released (default idea).
    pub stage: Option<String>,
    /// Effort in person-days.
    pub effort_days: Option<f64>,
    /// Planned release.
    pub target_release: Option<String>,
    /// Slide link.
    pub slide_url: Option<String>,
    /// Recording link.
    pub recording_url: Option<String>,
}

/// Adds a feature to the catalogue.
#[utoipa::path(post, path = "/api/v1/features", tag = "catalogue", request_body = CreateFeature,
    responses((status = 201, body = Feature), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn create_feature(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateFeature>,
) -> ApiResult<(StatusCode, Json<Feature>)> {
    caller.require(Permission::EditCatalogue, "change the catalogue")?;
    let new = NewFeature {
        product_id: body.product_id,
        menu_path: MenuPath::parse(&body.menu_path)?,
        title: body.title,
        stage: body
            .stage
            .as_deref()
            .map(Stage::parse)
            .transpose()?
            .unwrap_or(Stage::Idea),
        effort_days: body.effort_days,
        target_release: nonempty(body.target_release),
        slide_url: nonempty(body.slide_url),
        recording_url: nonempty(body.recording_url),
    };
    let f = state
        .store
        .create_feature(caller.ws(), caller.actor(), new)
        .await?;
    Ok((StatusCode::CREATED, Json(f)))
}

/// One feature.
#[utoipa::path(get, path = "/api/v1/features/{id}", tag = "catalogue",
    params(("id" = i64, Path, description = "Feature id")),
    responses((status = 200, body = Feature), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn get_feature(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Feature>> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.store.get_feature(caller.ws(), id).await?))
}

/// Changes to a feature: absent fields stay, `null` clears an optional field.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields, default)]
pub struct UpdateFeature {
    /// New menu path.
    pub menu_path: Option<String>,
    /// New title.
    pub title: Option<String>,
    /// New stage.
    pub stage: Option<String>,
    /// New effort; null clears.
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    pub effort_days: Option<Option<f64>>,
    /// New planned release; null clears.
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub target_release: Option<Option<String>>,
    /// New slide link; null clears.
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub slide_url: Option<Option<String>>,
    /// New recording link; null clears.
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub recording_url: Option<Option<String>>,
}

/// Tells a field sent as `null` (`Some(None)`) from a field not sent (`None`).
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Changes a feature (its stage, links, effort…); the change lands in the audit trail.
#[utoipa::path(patch, path = "/api/v1/features/{id}", tag = "catalogue", request_body = UpdateFeature,
    params(("id" = i64, Path, description = "Feature id")),
    responses((status = 200, body = Feature), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn update_feature(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<UpdateFeature>,
) -> ApiResult<Json<Feature>> {
    caller.require(Permission::EditCatalogue, "change the catalogue")?;
    let change = FeatureChange {
        menu_path: body.menu_path.as_deref().map(MenuPath::parse).transpose()?,
        title: body.title,
        stage: body.stage.as_deref().map(Stage::parse).transpose()?,
        effort_days: body.effort_days,
        target_release: body.target_release.map(nonempty),
        slide_url: body.slide_url.map(nonempty),
        recording_url: body.recording_url.map(nonempty),
    };
    Ok(Json(
        state
            .store
            .update_feature(caller.ws(), caller.actor(), id, change)
            .await?,
    ))
}
