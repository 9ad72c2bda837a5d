//! HTTP clients for tests against [`crate::spawn_app`]: a bearer-token API client and a
//! cookie-session page client with its CSRF token.

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::Client;

use crate::fixture::PASSWORD;
use crate::TestServer;

/// Signs `user` in through the API; the client sends the bearer token. Returns the token too.
pub async fn bearer(s: &TestServer, user: &str) -> (Client, String) {
    let r: serde_json::Value = Client::new()
        .post(format!("{}/api/v1/auth/login", s.base))
        .json(&serde_json::json!({"username": user, "password": PASSWORD}))
        .send()
        .await
        .expect("login request")
        .json()
        .await
        .expect("login answer");
    let token = r["token"].as_str().expect("token").to_string();
    let mut h = HeaderMap::new();
    h.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
    );
    (
        Client::builder()
            .default_headers(h)
            .build()
            .expect("client"),
        token,
    )
}

/// Signs `user` in on the login page (browser language `lang`); the client keeps the session
/// cookie and does not follow redirects. Returns the CSRF token for changes.
pub async fn page_login(s: &TestServer, user: &str, lang: &str) -> (Client, String) {
    let mut h = HeaderMap::new();
    h.insert(
        "accept-language",
        HeaderValue::from_str(lang).expect("header"),
    );
    let http = Client::builder()
        .cookie_store(true)
        .default_headers(h)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let r = http
        .post(format!("{}/login", s.base))
        .form(&[("username", user), ("password", PASSWORD)])
        .send()
        .await
        .expect("login request");
    assert_eq!(
        r.status(),
        reqwest::StatusCode::SEE_OTHER,
        "{user} signs in"
    );
    let csrf = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("shouhou_csrf="))
        .map(|c| c.split(';').next().unwrap_or("").to_string())
        .expect("csrf cookie");
    (http, csrf)
}
