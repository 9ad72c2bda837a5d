//! `Idempotency-Key` on POST: the same key and body get the first answer again and change
//! nothing more; the same key with another body gets 422. Keys are per user and kept 24 hours.
//!
//! The request runs in a [`Unit`]: its writes and its stored answer commit in one transaction,
//! so after a crash a key is either answered (the retry gets the stored answer) or wrote nothing
//! (the retry runs again once the dead request's lease is over — at once on SQLite, whose claims
//! of an earlier process are dropped at start). A retry while the first request still runs gets
//! 409 `request_in_progress` with `Retry-After`.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use shouhou_app::{auth, AppError};
use shouhou_store::idempotency::{self as store, Claim, Stored, Unit};
use shouhou_store::repo::sessions;

use crate::error::ApiError;
use crate::extract::token_of;
use crate::AppState;

pub const HEADER: &str = "idempotency-key";
const MAX_BODY: usize = crate::BODY_LIMIT;
/// Headers of an answer that a replay gives again.
const REPLAYED: [HeaderName; 3] = [header::ETAG, header::LOCATION, header::CONTENT_TYPE];

pub async fn layer(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(raw) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    if raw.is_empty() || raw.len() > 200 {
        return ApiError(AppError::invalid(
            "Idempotency-Key",
            shouhou_domain::ValidationError::TooLong { max: 200 },
        ))
        .into_response();
    }
    // Printable ASCII without spaces, as documented (`^[!-~]+$`): a key of other bytes is
    // refused, not taken for no key (the retry it was meant to guard would run twice).
    if !raw.as_bytes().iter().all(|b| (b'!'..=b'~').contains(b)) {
        return ApiError(AppError::invalid(
            "Idempotency-Key",
            shouhou_domain::ValidationError::Invalid {
                zh: "只能由不含空格的可见 ASCII 字符组成".into(),
                en: "printable ASCII characters without spaces only".into(),
            },
        ))
        .into_response();
    }
    let key = String::from_utf8_lossy(raw.as_bytes()).into_owned();
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
    let token = match store::claim(
        &s.app.db,
        user_id,
        &key,
        &hash,
        s.app.now(),
        s.idempotency_lease,
    )
    .await
    {
        Err(e) => return ApiError(e.into()).into_response(),
        Ok(Claim::Reused) => return ApiError(AppError::KeyReused).into_response(),
        Ok(Claim::Answered(stored)) => return replay(stored),
        Ok(Claim::Running { retry_after_secs }) => return in_progress(retry_after_secs),
        Ok(Claim::Mine(token)) => token,
    };
    // Gives the key up if this request is dropped before it is answered (the client went away).
    let mut guard = Release {
        state: Some((s.clone(), user_id, key.clone(), token.clone())),
    };
    let unit = Unit::new();
    let res = unit
        .scope(next.run(Request::from_parts(parts, Body::from(bytes))))
        .await;
    let (mut rparts, rbody) = res.into_parts();
    let rbytes = match to_bytes(rbody, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "could not read the answer of an idempotent request");
            return ApiError(AppError::Internal(e.to_string())).into_response();
        }
    };
    let parked = unit.take().await;
    if rparts.status.is_server_error() {
        // Nothing of a failed request is kept: its writes roll back and a retry runs it again.
        drop(parked);
        return Response::from_parts(rparts, Body::from(rbytes));
    }
    let mut tx = match parked {
        Some(tx) => tx,
        None => match s.app.db.begin().await {
            Ok(tx) => tx,
            Err(e) => return ApiError(e.into()).into_response(),
        },
    };
    let headers = replayed_headers(&rparts.headers);
    let completed = store::complete(
        &mut tx,
        user_id,
        &key,
        &token,
        i64::from(rparts.status.as_u16()),
        &headers,
        &String::from_utf8_lossy(&rbytes),
    )
    .await;
    match completed {
        Ok(true) => {}
        Ok(false) => {
            // The lease ran out and a retry took the key over: its answer stands, ours goes.
            drop(tx);
            guard.state = None;
            return match store::answer(&s.app.db, user_id, &key).await {
                Ok(Some(stored)) => replay(stored),
                Ok(None) => in_progress(1),
                Err(e) => ApiError(e.into()).into_response(),
            };
        }
        Err(e) => return ApiError(e.into()).into_response(),
    }
    crash_point("idempotency-before-commit");
    if let Err(e) = tx.commit_now().await {
        return ApiError(e.into()).into_response();
    }
    guard.state = None;
    crash_point("idempotency-after-commit");
    rparts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(rparts, Body::from(rbytes))
}

/// Releases a claim whose request ended without a stored answer.
struct Release {
    state: Option<(AppState, i64, String, String)>,
}

impl Drop for Release {
    fn drop(&mut self) {
        if let Some((s, user_id, key, token)) = self.state.take() {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    if let Err(e) = store::release(&s.app.db, user_id, &key, &token).await {
                        tracing::warn!(error = ?e, "could not release an idempotency key");
                    }
                });
            }
        }
    }
}

fn replayed_headers(h: &HeaderMap) -> String {
    let map: serde_json::Map<String, serde_json::Value> = REPLAYED
        .iter()
        .filter_map(|n| {
            h.get(n)
                .and_then(|v| v.to_str().ok())
                .map(|v| (n.as_str().to_string(), v.into()))
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

fn replay(stored: Stored) -> Response {
    let status = stored
        .status
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut r = Response::new(Body::from(stored.body.unwrap_or_default()));
    *r.status_mut() = status;
    let headers: serde_json::Map<String, serde_json::Value> = stored
        .headers
        .as_deref()
        .and_then(|h| serde_json::from_str(h).ok())
        .unwrap_or_default();
    for (name, value) in headers {
        if let (Ok(n), Some(v)) = (
            HeaderName::try_from(name.as_str()),
            value.as_str().and_then(|v| HeaderValue::from_str(v).ok()),
        ) {
            r.headers_mut().insert(n, v);
        }
    }
    r.headers_mut()
        .entry(header::CONTENT_TYPE)
        .or_insert(HeaderValue::from_static("application/json"));
    r.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    r
}

fn in_progress(retry_after_secs: i64) -> Response {
    let mut r = ApiError(AppError::InProgress).into_response();
    if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// Crash injection for the crash tests: with `SHOUHOU_CRASH_AT=<point>` the process aborts at
/// that point, as a power cut would (no unwinding, no answer). Unset, it costs one load.
fn crash_point(point: &str) {
    static AT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if AT
        .get_or_init(|| std::env::var("SHOUHOU_CRASH_AT").ok())
        .as_deref()
        == Some(point)
    {
        std::process::abort();
    }
}
