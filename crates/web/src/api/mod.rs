//! The JSON API under `/api/v1`, with its OpenAPI document generated from the handlers.

mod catalogue;
mod commitments;
pub use commitments::CreateCommitment;
mod customers;
mod demos;
mod progress;
mod releases;
pub use demos::{parse_starts_at, CreateDemo, ScriptItemInput};
mod environments;
pub mod hats;
mod reports;
pub mod requests;
mod session;
mod webhooks;

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::error::{ApiError, ErrorBody};
use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "cunjin (寸进) API",
        description = "Record every promise made to a customer, measure the gap in 尺 and 寸, rank the roadmap."
    ),
    modifiers(&Security),
    components(schemas(ErrorBody)),
    tags(
        (name = "session", description = "Login, tokens, users"),
        (name = "catalogue", description = "Products and features"),
        (name = "customers", description = "Customers and deals"),
        (name = "commitments", description = "Promises, criteria, transitions, audit"),
        (name = "reports", description = "Gap and roadmap"),
        (name = "delivery", description = "Releases, delivery to customers, release notes, status links"),
        (name = "requests", description = "Requests, triage decisions, search, intake and status links"),
        (name = "demos", description = "Demo environments, probes, demos and their readiness"),
        (name = "hats", description = "Where the product manager's time goes"),
        (name = "notifications", description = "Webhooks, their deliveries, and the calendar link"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        c.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

/// The API routes and the OpenAPI document that describes them: each module's own list
/// (`routes()`), merged here.
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(session::routes())
        .merge(catalogue::routes())
        .merge(customers::routes())
        .merge(commitments::routes())
        .merge(reports::routes())
        .merge(progress::routes())
        .merge(releases::routes())
        .merge(requests::routes())
        .merge(environments::routes())
        .merge(demos::routes())
        .merge(hats::routes())
        .merge(webhooks::routes())
        .split_for_parts();
    let doc_json = doc.clone();
    let router = router
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let d = doc_json.clone();
                async move { Json(d) }
            }),
        )
        .route("/api/v1/{*rest}", axum::routing::any(unknown_endpoint));
    (router, doc)
}

async fn unknown_endpoint() -> ApiError {
    ApiError::not_found("no such endpoint; see /api/v1/openapi.json")
}

/// A list answered as a JSON array.
pub type JsonList<T> = Json<Vec<T>>;
