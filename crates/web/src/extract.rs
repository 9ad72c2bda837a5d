//! Extractors: the signed-in actor (session cookie with CSRF, or bearer token), JSON bodies whose
//! errors name the field, `If-Match`, paging.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum_extra::extract::CookieJar;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use shouhou_app::{auth, Actor, AppError};
use shouhou_domain::{DomainError, ValidationError};
use shouhou_store::repo::Page;
use utoipa::IntoParams;

use crate::error::{ApiError, LangSlot};
use crate::AppState;

pub const SESSION_COOKIE: &str = "shouhou_session";
pub const CSRF_COOKIE: &str = "shouhou_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The session token of a request and whether it came in a cookie.
pub fn token_of(parts: &Parts) -> Option<(String, bool)> {
    if let Some(t) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some((t.trim().to_string(), false));
    }
    let jar = CookieJar::from_headers(&parts.headers);
    jar.get(SESSION_COOKIE)
        .map(|c| (c.value().to_string(), true))
}

/// The signed-in actor. Changes made with a session cookie must carry the session's CSRF token
/// in `X-CSRF-Token`; bearer-token clients need none.
pub struct Auth {
    pub actor: Actor,
    pub token: String,
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (token, via_cookie) = token_of(parts).ok_or(AppError::Unauthenticated)?;
        let slot = parts.extensions.get::<LangSlot>().cloned();
        let browser = slot.as_ref().map(LangSlot::get);
        let (actor, csrf) = auth::authenticate(&state.app, &token, browser).await?;
        if let Some(slot) = slot {
            slot.set(actor.lang);
        }
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if via_cookie && !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if sent.is_empty() || sent != csrf {
                return Err(AppError::Csrf.into());
            }
        }
        Ok(Auth { actor, token })
    }
}

/// A JSON body; a malformed one is refused with 422 naming the field that is wrong.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(de)
            .map(JsonBody)
            .map_err(|e| {
                let inner = e.inner().to_string();
                let mut field = e.path().to_string();
                // serde reports a missing field at its parent; name the field itself.
                if let Some(rest) = inner.strip_prefix("missing field `") {
                    let name = rest.split('`').next().unwrap_or("");
                    field = if field == "." || field.is_empty() {
                        name.to_string()
                    } else {
                        format!("{field}.{name}")
                    };
                }
                if field == "." {
                    field = "body".into();
                }
                let detail = inner
                    .split(" at line ")
                    .next()
                    .unwrap_or(&inner)
                    .to_string();
                let reason = if inner.starts_with("missing field") {
                    ValidationError::Required
                } else {
                    ValidationError::Invalid {
                        zh: format!("格式或取值不对（{detail}）"),
                        en: format!("wrong format or value ({detail})"),
                    }
                };
                ApiError(AppError::Domain(DomainError::invalid(field, reason)))
            })
    }
}

/// The version a change is based on, from `If-Match: "7"` (absent: no check).
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(v) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let s = v.to_str().unwrap_or("").trim();
        let s = s.strip_prefix("W/").unwrap_or(s).trim_matches('"');
        s.parse::<i64>().map(|n| IfMatch(Some(n))).map_err(|_| {
            ApiError(AppError::invalid(
                "If-Match",
                ValidationError::Invalid {
                    zh: "应为工单的 ETag，如 \"3\"".into(),
                    en: "expected the work order's ETag, e.g. \"3\"".into(),
                },
            ))
        })
    }
}

pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
pub struct PageQuery {
    /// Rows per page (1–500, default 50).
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl PageQuery {
    pub fn page(&self) -> Page {
        Page {
            limit: self.limit.unwrap_or(50).clamp(1, 500),
            offset: self.offset.unwrap_or(0).max(0),
        }
    }
}
