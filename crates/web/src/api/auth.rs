use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::{Deserialize, Serialize};
use shouhou_app::auth as app_auth;
use shouhou_app::AppError;
use shouhou_store::records::User;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::extract::{Auth, ClientAddr, JsonBody, CSRF_COOKIE, SESSION_COOKIE};
use crate::AppState;

/// Sign-in requests (`POST /api/v1/auth/login` and `POST /login` together) allowed per client
/// address — the TCP peer, as for the QR pages; behind a reverse proxy every client shares the
/// proxy's address, so raise the limit there. Limits guessing across usernames from one
/// address; the counters per username are in the store (`shouhou_app::auth`). Each process
/// keeps its own budget.
pub struct LoginLimits {
    by_addr: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl LoginLimits {
    /// A burst of `per_minute` requests, then `per_minute` a minute.
    pub fn new(per_minute: u32) -> LoginLimits {
        let n = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        LoginLimits {
            by_addr: RateLimiter::keyed(Quota::per_minute(n).allow_burst(n)),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// Takes one request of `addr`'s budget, or says when the next one is allowed.
    pub fn check(&self, addr: &str) -> Result<(), AppError> {
        // Forget idle addresses now and then so the map stays small.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.by_addr.retain_recent();
        }
        self.by_addr
            .check_key(&addr.to_string())
            .map_err(|not_until| AppError::RateLimited {
                retry_after: i64::try_from(
                    not_until
                        .wait_time_from(self.clock.now())
                        .as_secs()
                        .saturating_add(1),
                )
                .unwrap_or(60),
            })
    }
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits::new(20)
    }
}

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

/// Sign in: sets the session cookie and returns a bearer token. An unknown username and a wrong
/// password answer alike (401, `bad_credentials`); repeated failures lock the username for the
/// client's address, and many for every address (429, `account_locked`, with `Retry-After`).
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse),
        (status = 401, description = "wrong username or password"),
        (status = 429, description = "locked after repeated failures, or too many sign-ins from this address; see Retry-After"),
        (status = 503, description = "too many sign-ins being checked; see Retry-After")))]
pub async fn login(
    State(s): State<AppState>,
    ClientAddr(addr): ClientAddr,
    JsonBody(r): JsonBody<LoginRequest>,
) -> Result<Response, ApiError> {
    s.login_limits.check(&addr)?;
    let signed = app_auth::login(&s.app, &r.username, &r.password, &addr).await?;
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
