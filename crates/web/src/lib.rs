//! HTTP: the JSON API under `/api/v1` (with its OpenAPI document), health and metrics.

pub mod api;
pub mod error;
pub mod extract;
pub mod headers;
pub mod i18n;
pub mod idempotency;
pub mod input;
pub mod metrics;
pub mod pages;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{middleware, Router};
use shouhou_app::{App, AppError};
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
    pub public_limits: Arc<pages::selfservice::PublicLimits>,
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
            public_limits: Arc::new(pages::selfservice::PublicLimits::default()),
            idempotency_lease: chrono::Duration::seconds(30),
            login_limits: Arc::new(api::auth::LoginLimits::default()),
        }
    }
}

/// The largest request body the server reads, API and pages alike: a photo of the largest size
/// the app takes. A larger one is answered 413 with the JSON error body, whether it announces
/// its length or comes in chunks.
pub const BODY_LIMIT: usize = shouhou_app::service::MAX_PHOTO_BYTES;

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
        .merge(pages::router(state.clone()))
        .route("/healthz", get(api::health::healthz))
        .route("/metrics", get(metrics::render))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        // One limit: axum's own (2 MB on extractors) is off, this layer counts every body.
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(CatchPanicLayer::custom(|_| {
            error::ApiError(AppError::Internal("handler panicked".into())).into_response()
        }))
        .layer(middleware::from_fn(error::localize))
        .layer(middleware::map_response(headers::secure))
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

/// No route: the JSON error body under `/api`, a page elsewhere.
async fn not_found(req: Request<axum::body::Body>) -> Response {
    let path = req.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        return error::ApiError(AppError::UnknownRoute).into_response();
    }
    let lang = req
        .extensions()
        .get::<error::LangSlot>()
        .map(error::LangSlot::get)
        .unwrap_or_default();
    pages::not_found(lang)
}
