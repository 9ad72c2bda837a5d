//! `Idempotency-Key` on POST: the same key and body get the first response again and create
//! nothing new; the same key with another body gets 422. Keys are per user.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use shouhou_app::{auth, AppError};
use shouhou_store::repo::{idempotency, sessions};

use crate::error::ApiError;
use crate::extract::token_of;
use crate::AppState;

pub const HEADER: &str = "idempotency-key";
const MAX_BODY: usize = crate::BODY_LIMIT;

pub async fn layer(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(key) = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        return next.run(req).await;
    };
    if key.is_empty() || key.len() > 200 {
        return ApiError(AppError::invalid(
            "Idempotency-Key",
            shouhou_domain::ValidationError::TooLong { max: 200 },
        ))
        .into_response();
    }
    let (parts, body) = req.into_parts();
    // Only signed-in requests are remembered; the handler refuses the others.
    let user_id = match token_of(&parts) {
        Some((t, _)) => sessions::get(&s.app.db, &auth::token_hash(&t), s.app.now())
            .await
            .ok()
            .flatten()
            .map(|s| s.user_id),
        None => None,
    };
    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return ApiError(crate::input::body_error(&e)).into_response(),
    };
    let Some(user_id) = user_id else {
        return next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
    };
    let mut h = Sha256::new();
    h.update(parts.method.as_str());
    h.update(parts.uri.path());
    h.update([0]);
    h.update(&bytes);
    let hash = hex::encode(h.finalize());
    match idempotency::claim(&s.app.db, user_id, &key, &hash, s.app.now()).await {
        Err(e) => return ApiError(e.into()).into_response(),
        Ok(Some(stored)) => {
            if stored.request_hash != hash {
                return ApiError(AppError::KeyReused).into_response();
            }
            return match (stored.status, stored.body) {
                (Some(status), Some(body)) => {
                    let mut r = Response::new(Body::from(body));
                    *r.status_mut() = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK);
                    r.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    );
                    r.headers_mut()
                        .insert("idempotent-replayed", HeaderValue::from_static("true"));
                    r
                }
                _ => ApiError(AppError::InProgress).into_response(),
            };
        }
        Ok(None) => {}
    }
    let res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (rparts, rbody) = res.into_parts();
    let rbytes = to_bytes(rbody, MAX_BODY).await.unwrap_or_default();
    let status = rparts.status;
    let stored = if status.is_server_error() {
        idempotency::release(&s.app.db, user_id, &key).await
    } else {
        idempotency::complete(
            &s.app.db,
            user_id,
            &key,
            i64::from(status.as_u16()),
            &String::from_utf8_lossy(&rbytes),
        )
        .await
    };
    if let Err(e) = stored {
        tracing::error!(error = ?e, "could not store the idempotent response");
    }
    Response::from_parts(rparts, Body::from(rbytes))
}
