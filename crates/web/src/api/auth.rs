use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use shouhou_app::auth as app_auth;
use shouhou_store::records::User;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::extract::{Auth, JsonBody, CSRF_COOKIE, SESSION_COOKIE};
use crate::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token for API clients (the same session as the cookie).
    pub token: String,
    /// Send as `X-CSRF-Token` on changes made with the session cookie.
    pub csrf_token: String,
    pub user: User,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user: User,
    pub technician_id: Option<i64>,
    pub lang: shouhou_domain::Lang,
}

fn cookie(name: &str, value: &str, http_only: bool, secure: bool, max_age: i64) -> HeaderValue {
    crate::extract::cookie(name, value, http_only, secure, max_age)
}

/// Sign in: sets the session cookie and returns a bearer token.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401), (status = 429, description = "account locked after repeated failures")))]
pub async fn login(
    State(s): State<AppState>,
    JsonBody(r): JsonBody<LoginRequest>,
) -> Result<Response, ApiError> {
    let signed = app_auth::login(&s.app, &r.username, &r.password).await?;
    let max_age = s.app.settings.session_hours * 3600;
    let mut headers = HeaderMap::new();
    headers.append(
        header::SET_COOKIE,
        cookie(
            SESSION_COOKIE,
            &signed.token,
            true,
            s.secure_cookies,
            max_age,
        ),
    );
    headers.append(
        header::SET_COOKIE,
        cookie(
            CSRF_COOKIE,
            &signed.csrf_token,
            false,
            s.secure_cookies,
            max_age,
        ),
    );
    Ok((
        headers,
        Json(LoginResponse {
            token: signed.token,
            csrf_token: signed.csrf_token,
            user: signed.user,
        }),
    )
        .into_response())
}

/// Sign out: ends the session (cookie or bearer).
#[utoipa::path(post, path = "/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(State(s): State<AppState>, a: Auth) -> Result<Response, ApiError> {
    app_auth::logout(&s.app, &a.token).await?;
    let mut headers = HeaderMap::new();
    headers.append(
        header::SET_COOKIE,
        cookie(SESSION_COOKIE, "", true, s.secure_cookies, 0),
    );
    headers.append(
        header::SET_COOKIE,
        cookie(CSRF_COOKIE, "", false, s.secure_cookies, 0),
    );
    Ok((axum::http::StatusCode::NO_CONTENT, headers).into_response())
}

/// The signed-in user.
#[utoipa::path(get, path = "/me", tag = "auth", responses((status = 200, body = Me), (status = 401)))]
pub async fn me(a: Auth) -> Json<Me> {
    Json(Me {
        technician_id: a.actor.technician_id,
        lang: a.actor.lang,
        user: a.actor.user,
    })
}
