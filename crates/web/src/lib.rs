//! The cunjin HTTP server: the JSON API under `/api/v1` (with its OpenAPI document), the
//! server-rendered web UI in zh-CN and English, authentication, and the operational endpoints
//! `/healthz` and `/metrics`.

pub mod api;
pub mod auth;
pub mod calendar;
pub mod delivery;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod inspect;
pub mod intake;
pub mod logins;
mod metrics;
pub mod notify;
pub mod outbound;
pub mod probing;
pub mod readiness;
pub mod scheduler;
pub mod status_cache;
pub mod ui;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use cunjin_store::Store;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Settings of the HTTP server.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Longest a request may take before it is answered 408.
    pub request_timeout: Duration,
    /// Requests handled at once; one more is answered 503 with `Retry-After` at once rather
    /// than queued, so an overloaded server sheds load instead of piling up work.
    pub max_concurrent_requests: usize,
    /// Mark the session cookie `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
    /// Requests the server makes on its own: webhooks and probes ([`outbound`]).
    pub outbound: outbound::OutboundConfig,
    /// Behind a reverse proxy: the header (lower case, e.g. `x-forwarded-for`) in which the
    /// proxy passes the client's address; its last entry is taken. `None`: the address of the
    /// connection, and every such header is ignored (a client could write anything in it).
    pub trusted_proxy_header: Option<String>,
    /// Hits allowed per client address on the public pages (status links, intake form,
    /// calendar feed), which anybody may request without an account.
    pub public_pages_per_client: intake::Rate,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            max_concurrent_requests: 512,
            secure_cookies: false,
            outbound: outbound::OutboundConfig::default(),
            trusted_proxy_header: None,
            // 60 at once, then two a second: a person clicking never meets it, a loop does.
            public_pages_per_client: intake::Rate {
                capacity: 60,
                refill: Duration::from_millis(500),
            },
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Server settings.
    pub config: Arc<WebConfig>,
    /// Sends demo-environment probes, bounded across the server.
    pub prober: probing::Prober,
    metrics: Arc<metrics::Metrics>,
    /// Rate limits of the public intake link.
    pub intake: Arc<intake::IntakeLimiter>,
    /// Hits on public pages per client address (see [`WebConfig::public_pages_per_client`]).
    pub public_pages: Arc<intake::IntakeLimiter>,
    /// Rendered customer status pages (see [`status_cache`]).
    pub status_pages: Arc<status_cache::StatusPageCache>,
    /// Login attempts: per account and client together (see [`logins`]).
    pub logins: Arc<logins::LoginGuard>,
    /// One permit per request being handled (see [`WebConfig::max_concurrent_requests`]).
    in_flight: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// State over a store with the given settings.
    pub fn new(store: Store, config: WebConfig) -> Self {
        AppState {
            store,
            in_flight: Arc::new(tokio::sync::Semaphore::new(
                config.max_concurrent_requests.max(1),
            )),
            prober: probing::Prober::with_outbound(
                scheduler::SchedulerConfig::default().concurrency,
                &config.outbound,
            ),
            public_pages: Arc::new(intake::IntakeLimiter::new(intake::IntakeLimits {
                per_ip: config.public_pages_per_client,
                per_token: config.public_pages_per_client,
            })),
            config: Arc::new(config),
            metrics: Arc::default(),
            intake: Arc::new(intake::IntakeLimiter::new(Default::default())),
            status_pages: Arc::default(),
            logins: Arc::default(),
        }
    }
}

impl AppState {
    /// Refuses, at the moment it is written, a URL whose address the outbound guard would never
    /// reach for `purpose` (a metadata or link-local address written in the URL); names are
    /// checked again when they are resolved, at every send.
    pub fn check_outbound(
        &self,
        purpose: outbound::Purpose,
        field: &str,
        url: &str,
    ) -> Result<(), error::ApiError> {
        let parsed = match reqwest::Url::parse(url.trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            // The store says what is wrong with a URL that is not an http(s) link.
            _ => return Ok(()),
        };
        self.config
            .outbound
            .guard(purpose)
            .check_url(&parsed)
            .map_err(|e| error::ApiError::invalid(format!("{field}: {e}")))
    }
}

/// The whole application as a router.
pub fn app(state: AppState) -> Router {
    let (api, _doc) = api::router();
    let metrics = state.metrics.clone();
    Router::new()
        .merge(api)
        .merge(ui::router())
        .route("/calendar/{file}", get(calendar::feed))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::render))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            inspect::inspect_request,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limit_public_pages,
        ))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            metrics::count,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            time_limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limit_in_flight,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            // Everything is served from here (no CDN). Scripts only from files of this site
            // (/static/app.js), never inline, so that text slipped into a page cannot run;
            // inline styles are the one exception (a style cannot run code).
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                 script-src 'self'; object-src 'none'; frame-ancestors 'none'; \
                 form-action 'self'; base-uri 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Answers 503 with `Retry-After` when as many requests as allowed are already being handled.
/// Health checks and metrics are not counted: a busy server is alive, and says so.
async fn limit_in_flight(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(req.uri().path(), "/healthz" | "/metrics") {
        return next.run(req).await;
    }
    match state.in_flight.clone().try_acquire_owned() {
        Ok(_permit) => next.run(req).await,
        Err(_) => {
            let mut res = refusal(
                req.uri().path(),
                req.headers(),
                StatusCode::SERVICE_UNAVAILABLE,
                error::ErrorCode::Overloaded,
                "the server is handling as many requests as it may; try again in a second",
                "error.busy",
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            res
        }
    }
}

/// Pages anybody may request without an account: each client address has an allowance of
/// them (a status page of a large customer is the most expensive answer the server gives).
fn is_public_page(path: &str) -> bool {
    [
        "/status/",
        "/intake/",
        "/calendar/",
        "/api/v1/status/",
        "/api/v1/intake/",
    ]
    .iter()
    .any(|p| path.starts_with(p))
}

/// Answers 429 with `Retry-After` to a client that asks for public pages faster than allowed.
async fn limit_public_pages(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !is_public_page(req.uri().path()) {
        return next.run(req).await;
    }
    let ip = intake::ClientIp::of(
        req.headers(),
        req.extensions(),
        state.config.trusted_proxy_header.as_deref(),
    );
    match state.public_pages.check_client(&ip.0) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            let mut res = refusal(
                req.uri().path(),
                req.headers(),
                StatusCode::TOO_MANY_REQUESTS,
                error::ErrorCode::TooManyRequests,
                &format!("too many requests from this address; try again in {wait} s"),
                "error.too_many_requests",
            );
            res.headers_mut().insert(header::RETRY_AFTER, wait.into());
            res
        }
    }
}

/// Answers 408 when a request (reading its body included) takes longer than allowed.
async fn time_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // What the refusal needs, taken before the request is handed on.
    let api = req.uri().path().starts_with("/api/");
    let lang = i18n::Lang::from_headers(req.headers());
    match tokio::time::timeout(state.config.request_timeout, next.run(req)).await {
        Ok(res) => res,
        Err(_) => refusal_as(
            api,
            lang,
            StatusCode::REQUEST_TIMEOUT,
            error::ErrorCode::Timeout,
            "the request took longer than the server allows",
            "error.timeout",
        ),
    }
}

/// The 413 answer to a body larger than the server accepts.
pub(crate) fn too_large(path: &str, headers: &HeaderMap) -> Response {
    refusal(
        path,
        headers,
        StatusCode::PAYLOAD_TOO_LARGE,
        error::ErrorCode::PayloadTooLarge,
        "the request body is larger than the server accepts",
        "error.too_large",
    )
}

/// A refusal made before any handler ran: the JSON error shape under `/api/`, the error page
/// in the person's language elsewhere.
pub(crate) fn refusal(
    path: &str,
    headers: &HeaderMap,
    status: StatusCode,
    code: error::ErrorCode,
    message: &str,
    page_key: &'static str,
) -> Response {
    let api = path.starts_with("/api/");
    refusal_as(
        api,
        i18n::Lang::from_headers(headers),
        status,
        code,
        message,
        page_key,
    )
}

/// [`refusal`] once it is known whether the request was an API call and in which language.
fn refusal_as(
    api: bool,
    lang: i18n::Lang,
    status: StatusCode,
    code: error::ErrorCode,
    message: &str,
    page_key: &'static str,
) -> Response {
    if api {
        error::ApiError::new(status, code, message).into_response()
    } else {
        ui::error_page(lang, &ui::Me::default(), status, page_key, "")
    }
}

async fn method_not_allowed(uri: axum::http::Uri) -> axum::response::Response {
    let e = error::ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        error::ErrorCode::MethodNotAllowed,
        "this address does not take that method; see /api/v1/openapi.json",
    );
    if uri.path().starts_with("/api/") {
        e.into_response()
    } else {
        (StatusCode::METHOD_NOT_ALLOWED, e.message).into_response()
    }
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// Serves the application on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// The OpenAPI document, for tools that want it without a running server.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::router().1
}
