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
use utoipa_axum::routes;

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

/// The API routes and the OpenAPI document that describes them.
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(session::login))
        .routes(routes!(session::logout))
        .routes(routes!(session::me))
        .routes(routes!(session::create_token))
        .routes(routes!(session::list_users, session::create_user))
        .routes(routes!(catalogue::list_products, catalogue::create_product))
        .routes(routes!(catalogue::list_features, catalogue::create_feature))
        .routes(routes!(catalogue::get_feature, catalogue::update_feature))
        .routes(routes!(
            customers::list_customers,
            customers::create_customer
        ))
        .routes(routes!(customers::get_customer))
        .routes(routes!(customers::list_deals, customers::create_deal))
        .routes(routes!(customers::get_deal))
        .routes(routes!(
            commitments::list_commitments,
            commitments::record_promise
        ))
        .routes(routes!(commitments::get_commitment))
        .routes(routes!(commitments::transition))
        .routes(routes!(commitments::add_criterion))
        .routes(routes!(commitments::set_criterion))
        .routes(routes!(commitments::audit_trail))
        .routes(routes!(reports::gap))
        .routes(routes!(reports::customer_gap))
        .routes(routes!(reports::roadmap))
        .routes(routes!(progress::gap_history))
        .routes(routes!(progress::week_progress))
        .routes(routes!(releases::list_releases, releases::create_release))
        .routes(routes!(releases::get_release))
        .routes(routes!(releases::deliver_release))
        .routes(routes!(releases::release_notes))
        .routes(routes!(
            releases::get_status_link,
            releases::rotate_status_link
        ))
        .routes(routes!(releases::public_status))
        .routes(routes!(requests::list_requests, requests::create_request))
        .routes(routes!(requests::similar_to_text))
        .routes(routes!(requests::get_request, requests::link_feature))
        .routes(routes!(requests::similar_to_request))
        .routes(routes!(requests::decide))
        .routes(routes!(requests::request_audit))
        .routes(routes!(requests::search))
        .routes(routes!(requests::intake_link))
        .routes(routes!(requests::rotate_intake_link))
        .routes(routes!(requests::intake))
        .routes(routes!(requests::request_status))
        .routes(routes!(
            environments::list_environments,
            environments::create_environment
        ))
        .routes(routes!(
            environments::get_environment,
            environments::update_environment
        ))
        .routes(routes!(environments::run_environment))
        .routes(routes!(environments::environment_runs))
        .routes(routes!(
            environments::list_probes,
            environments::create_probe
        ))
        .routes(routes!(environments::delete_probe))
        .routes(routes!(demos::list_demos, demos::create_demo))
        .routes(routes!(demos::get_demo, demos::update_demo))
        .routes(routes!(demos::check))
        .routes(routes!(demos::record_promises))
        .routes(routes!(hats::list_time_entries, hats::create_time_entry))
        .routes(routes!(hats::delete_time_entry))
        .routes(routes!(hats::hats_report))
        .routes(routes!(webhooks::list_webhooks, webhooks::create_webhook))
        .routes(routes!(
            webhooks::get_webhook,
            webhooks::update_webhook,
            webhooks::delete_webhook
        ))
        .routes(routes!(webhooks::test_webhook))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::calendar_link))
        .routes(routes!(webhooks::rotate_calendar_link))
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
