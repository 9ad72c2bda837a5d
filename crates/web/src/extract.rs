//! Extractors: the signed-in actor (session cookie with CSRF, or bearer token), JSON bodies whose
//! errors name the field, `If-Match`, paging (`limit`, `offset`), the client's address.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum_extra::extract::CookieJar;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use shouhou_app::{auth, Actor, AppError};
use shouhou_domain::{validate, ValidationError};
use shouhou_store::repo::Page;
use utoipa::IntoParams;

use crate::error::{ApiError, LangSlot};
use crate::input;
use crate::AppState;

pub const SESSION_COOKIE: &str = "shouhou_session";
pub const CSRF_COOKIE: &str = "shouhou_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Over HTTPS the cookies' names carry this prefix: the browser then takes them only with
/// `Secure`, `Path=/` and no `Domain`, so no other host or plain-HTTP page can set them.
const HOST_PREFIX: &str = "__Host-";

/// A `Set-Cookie` value for one of the session's cookies (`max_age` 0 removes it).
pub fn cookie(name: &str, value: &str, http_only: bool, secure: bool, max_age: i64) -> HeaderValue {
    let prefix = if secure { HOST_PREFIX } else { "" };
    let mut c = format!("{prefix}{name}={value}; Path=/; SameSite=Lax; Max-Age={max_age}");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The session token of a request and whether it came in a cookie (under either name).
pub fn token_of(parts: &Parts) -> Option<(String, bool)> {
    session_token(&parts.headers)
}

/// [`token_of`] from the headers alone.
pub fn session_token(headers: &HeaderMap) -> Option<(String, bool)> {
    if let Some(t) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some((t.trim().to_string(), false));
    }
    let jar = CookieJar::from_headers(headers);
    jar.get(&format!("{HOST_PREFIX}{SESSION_COOKIE}"))
        .or_else(|| jar.get(SESSION_COOKIE))
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

/// A JSON body; a malformed one is refused with 422 naming the field that is wrong, and so is
/// any string in it with a control character (NUL …); a body over [`crate::BODY_LIMIT`] gets 413.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        // Read once as a document: syntax errors name the body, control characters their path.
        let mut doc: serde_json::Value = {
            let de = &mut serde_json::Deserializer::from_slice(&bytes);
            serde_path_to_error::deserialize(de).map_err(input::json_error)?
        };
        input::whole_numbers(&mut doc);
        // Unknown fields are ignored; what they hold is not checked either.
        let mut ignored = Vec::new();
        let typed: T = {
            let mut note = |path: serde_ignored::Path<'_>| ignored.push(input::segments(&path));
            let de = serde_ignored::Deserializer::new(doc.clone(), &mut note);
            serde_path_to_error::deserialize(de).map_err(input::json_error)?
        };
        for path in &ignored {
            input::remove(&mut doc, path);
        }
        input::check_json_text(&doc)?;
        Ok(JsonBody(typed))
    }
}

/// The raw body (a photo); over [`crate::BODY_LIMIT`] it is refused with 413.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|rej| {
                use axum::extract::rejection::BytesRejection;
                let BytesRejection::FailedToBufferBody(e) = &rej else {
                    return ApiError(AppError::Internal(rej.body_text()));
                };
                if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    return ApiError(AppError::TooLarge {
                        max_bytes: crate::BODY_LIMIT,
                    });
                }
                ApiError(input::body_error(e))
            })
    }
}

/// A query string read as `T`; a missing or malformed parameter, or one with a control
/// character, is refused with 422 naming it.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let raw = parts.uri.query().unwrap_or("").as_bytes();
        input::check_pairs(raw, false)?;
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|e| ApiError(input::form_error(e)))
    }
}

/// A form post (`application/x-www-form-urlencoded`) read as `T`; text areas may hold tabs and
/// line breaks, no other control character.
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        input::check_pairs(&bytes, true)?;
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(&bytes));
        serde_path_to_error::deserialize(de)
            .map(Form)
            .map_err(|e| ApiError(input::form_error(e)))
    }
}

/// Path parameters read as `T`; a segment that does not parse, or holds a control character,
/// is refused with 422 naming the parameter (`id`).
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let mut keys = Vec::new();
        match RawPathParams::from_request_parts(parts, state).await {
            Ok(raw) => {
                for (k, v) in &raw {
                    validate::one_line(v, k).map_err(AppError::from)?;
                    keys.push(k.to_string());
                }
            }
            Err(rej) => return Err(ApiError(input::raw_path_error(rej))),
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|rej| ApiError(input::path_error(rej, &keys)))
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
        // `*`: any current version (the record must exist, which the change checks anyway).
        if s == "*" {
            return Ok(IfMatch(None));
        }
        // An ETag as the API sends it, `"7"` (or weak, `W/"7"`): a bare or half-quoted number
        // is refused, as the documented pattern says, not read as a version.
        let quoted = s
            .strip_prefix("W/")
            .unwrap_or(s)
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()));
        quoted
            .and_then(|t| t.parse::<i64>().ok())
            .map(|n| IfMatch(Some(n)))
            .ok_or_else(|| {
                ApiError(AppError::invalid(
                    "If-Match",
                    ValidationError::Invalid {
                        zh: "应为记录的 ETag，如 \"3\"".into(),
                        en: "expected the record's ETag, e.g. \"3\"".into(),
                    },
                ))
            })
    }
}

pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// A record answered with its version as the `ETag` (send it back as `If-Match` to change it).
pub struct Tagged<T>(pub axum::http::StatusCode, pub T, pub i64);

impl<T: serde::Serialize> axum::response::IntoResponse for Tagged<T> {
    fn into_response(self) -> axum::response::Response {
        (self.0, [(header::ETAG, etag(self.2))], axum::Json(self.1)).into_response()
    }
}

/// The answer of a handler that returns one versioned record.
pub type TaggedResult<T> = Result<Tagged<T>, ApiError>;

/// 200 with the record's version as the ETag.
pub fn tagged<T>(v: T, version: i64) -> Tagged<T> {
    Tagged(axum::http::StatusCode::OK, v, version)
}

/// The paging parameters of every collection: `limit` rows after `offset`. A value outside
/// the bounds is refused with 422 naming the parameter, never clamped.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Rows per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// Rows to skip, 0 or more (default 0).
    #[param(minimum = 0, default = 0)]
    pub offset: Option<i64>,
}

/// The page a list request asks for, from `limit` and `offset` in its query string (the other
/// parameters are the list's own); see [`PageQuery`].
pub struct Paging(pub Page);

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(q) = Query::<PageQuery>::from_request_parts(parts, state).await?;
        Page::parse(q.limit, q.offset)
            .map(Paging)
            .map_err(|e| ApiError(AppError::from(e)))
    }
}

/// The client's address (the TCP peer).
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_else(|| "unknown".into()),
        ))
    }
}
