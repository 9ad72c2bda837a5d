//! HTTP: the JSON API under `/api/v1` (with its OpenAPI document), health and metrics.

pub mod api;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod idempotency;
pub mod metrics;
pub mod pages;

use std::sync::Arc;

use axum::http::{HeaderName, Request};
use axum::routing::get;
use axum::{middleware, Router};
use shouhou_app::App;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub metrics: Arc<metrics::Metrics>,
    /// Mark session cookies `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// Request budgets of the public (QR) pages.
    pub public_limits: Arc<pages::public::PublicLimits>,
    /// How long an unanswered idempotency key stays with its request before a retry may take it
    /// over (a request that crashed or was abandoned on another server process).
    pub idempotency_lease: chrono::Duration,
    /// Sign-in requests per client address.
    pub login_limits: Arc<api::auth::LoginLimits>,
}

impl AppState {
    pub fn new(app: App) -> AppState {
        AppState {
            app,
            metrics: Arc::new(metrics::Metrics::default()),
            secure_cookies: false,
            public_limits: Arc::new(pages::public::PublicLimits::default()),
            idempotency_lease: chrono::Duration::seconds(30),
            login_limits: Arc::new(api::auth::LoginLimits::default()),
        }
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole HTTP surface of shouhou.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api::router(state.clone());
    let openapi = Arc::new(openapi);
    Router::new()
        .nest("/api/v1", api)
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .merge(pages::router())
        .route("/healthz", get(api::health::healthz))
        .route("/metrics", get(metrics::render))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(middleware::from_fn(error::localize))
        .layer(RequestBodyLimitLayer::new(8 * 1024 * 1024))
        .layer(CatchPanicLayer::new())
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), uri = %req.uri(), request_id = %id)
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}
