//! The API's error body `{"error": {"code", "message", "field"}}`, in the user's language.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use shouhou_app::AppError;
use shouhou_domain::{DomainError, Lang};

/// An error of a handler; rendered in zh-CN, then [`localize`] swaps in English when the user
/// reads English.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

/// The English body of an error response, kept for [`localize`].
#[derive(Clone)]
pub(crate) struct EnglishBody(pub(crate) String);

/// The language of this request; the auth extractor sets the user's own.
#[derive(Clone)]
pub struct LangSlot(pub Arc<Mutex<Lang>>);

impl LangSlot {
    pub fn set(&self, l: Lang) {
        if let Ok(mut g) = self.0.lock() {
            *g = l;
        }
    }
    pub fn get(&self) -> Lang {
        self.0.lock().map(|g| *g).unwrap_or_default()
    }
}

pub fn status_of(e: &AppError) -> StatusCode {
    use shouhou_store::StoreError;
    match e {
        AppError::Domain(DomainError::Validation { .. }) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Domain(DomainError::IllegalTransition { .. }) => StatusCode::CONFLICT,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Unauthenticated | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
        AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
        AppError::Locked { .. } | AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Stale { .. } => StatusCode::PRECONDITION_FAILED,
        AppError::KeyReused => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::InProgress => StatusCode::CONFLICT,
        AppError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        AppError::UnknownRoute => StatusCode::NOT_FOUND,
        AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        AppError::Store(StoreError::Conflict(_)) => StatusCode::CONFLICT,
        AppError::Store(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The `Retry-After` value of a refusal that ends by itself (locks, limits, busy).
pub fn retry_after(e: &AppError) -> Option<HeaderValue> {
    e.retry_after().map(HeaderValue::from)
}

pub fn body_of(e: &AppError, lang: Lang) -> serde_json::Value {
    let mut err = json!({
        "code": e.code(),
        "message": e.message(lang),
        "field": e.field(),
    });
    if let AppError::Stale {
        current_version,
        changed_by,
        changes,
    } = e
    {
        err["current_version"] = json!(current_version);
        err["changed_by"] = json!(changed_by);
        err["changes"] = changes.clone();
    }
    json!({ "error": err })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(&self.0);
        // "Busy" is a refusal under load, not a failure: not logged per request.
        if status.is_server_error() && !matches!(self.0, AppError::Busy { .. }) {
            tracing::error!(error = ?self.0, "request failed");
        }
        let zh = body_of(&self.0, Lang::ZhCn).to_string();
        let en = body_of(&self.0, Lang::En).to_string();
        let mut r = (status, [(header::CONTENT_TYPE, "application/json")], zh).into_response();
        if let Some(v) = retry_after(&self.0) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r.extensions_mut().insert(EnglishBody(en));
        r
    }
}

/// Picks the request's language (`?lang=`, then `Accept-Language`; the signed-in user's own
/// setting wins) and renders error bodies in it.
pub async fn localize(mut req: Request, next: Next) -> Response {
    let from_query = req.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("lang="))
            .map(Lang::from_header)
    });
    let lang = from_query.unwrap_or_else(|| {
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(Lang::from_header)
            .unwrap_or_default()
    });
    let slot = LangSlot(Arc::new(Mutex::new(lang)));
    req.extensions_mut().insert(slot.clone());
    let mut res = next.run(req).await;
    // Refusals made below the handlers (a body over the limit, a method the route does not
    // take) carry no body of ours: give them the JSON error body too.
    if res.extensions().get::<EnglishBody>().is_none() {
        let ours = match res.status() {
            StatusCode::PAYLOAD_TOO_LARGE => Some(AppError::TooLarge {
                max_bytes: crate::BODY_LIMIT,
            }),
            StatusCode::METHOD_NOT_ALLOWED => Some(AppError::MethodNotAllowed),
            _ => None,
        };
        if let Some(e) = ours {
            let allow = res.headers().get(header::ALLOW).cloned();
            res = ApiError(e).into_response();
            if let Some(a) = allow {
                res.headers_mut().insert(header::ALLOW, a);
            }
        }
    }
    if let Some(EnglishBody(en)) = res.extensions_mut().remove::<EnglishBody>() {
        if slot.get() == Lang::En {
            let (mut parts, _) = res.into_parts();
            parts.headers.remove(header::CONTENT_LENGTH);
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return Response::from_parts(parts, Body::from(en));
        }
    }
    res
}
