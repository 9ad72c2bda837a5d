//! Server-rendered pages for the office (askama templates, htmx for partial updates), in the
//! user's language from the message catalogs. Changes go through the same use cases as the API.

mod archive;
mod calendar;
mod complaints;
mod csi;
mod desk;
mod dispatch;
pub mod field;
mod followups;
pub mod forms;
mod intake;
mod knowledge;
mod kpi;
mod labels;
mod leads;
mod points;
mod review;
pub mod selfservice;
mod service;
mod settings;
mod targets;

use askama::Template;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shouhou_app::{auth, Actor, AppError};
use shouhou_domain::{Lang, Role};

use crate::error::LangSlot;
use crate::extract::{
    cookie, session_token, token_of, Form, Path, CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE,
};
use crate::i18n::T;
use crate::AppState;

pub fn router(state: AppState) -> Router<AppState> {
    // The intake's order form sends an idempotency key per rendering: a double click or a
    // retry gets the first answer, not a second order.
    let idempotent = axum::middleware::from_fn_with_state(state, crate::idempotency::layer);
    Router::new()
        .route("/", get(|| async { Redirect::to("/home") }))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/lang", post(set_lang))
        .route("/home", get(home))
        .route("/kpis", get(kpi::dashboard))
        .route("/csi", get(csi::page))
        .route("/csi/export.xlsx", get(csi::export))
        .route(
            "/csi/questionnaires",
            get(csi::questionnaires).post(csi::create),
        )
        .route("/csi/questionnaires/{id}", post(csi::update))
        .route("/kpis/export.xlsx", get(kpi::export))
        .route("/kpis/{key}/orders", get(kpi::orders))
        .route("/targets", get(targets::page).post(targets::set))
        .route("/work-orders", get(desk::list))
        .route("/work-orders/{id}", get(desk::detail))
        .route("/work-orders/{id}/transitions", post(desk::transition))
        .route("/work-orders/{id}/reassign", post(desk::reassign))
        .route("/work-orders/{id}/store", post(desk::change_store))
        .route("/dispatch", get(dispatch::board))
        .route("/dispatch/plan", post(dispatch::plan))
        .route("/dispatch/plans/{id}/commit", post(dispatch::commit))
        .route("/dispatch/shift", post(dispatch::shift))
        .route("/customers", get(archive::customers))
        .route(
            "/customers/{id}",
            get(archive::customer).post(archive::customer_save),
        )
        .route("/customers/{id}/edit", get(archive::customer_edit))
        .route(
            "/customers/{id}/addresses/{address}/location",
            post(archive::set_location),
        )
        .route("/customers/{id}/merge", post(archive::merge))
        .route("/devices", get(archive::devices))
        .route("/devices/{id}", get(archive::device))
        .route("/products", get(archive::products))
        .route("/warranty-policies", get(archive::policies))
        .route("/technicians", get(archive::technicians))
        .route("/org-units", get(archive::org_units))
        .route("/users", get(archive::users))
        .route("/review", get(review::queue))
        .route("/review/{id}", post(review::decide))
        .route("/intake", get(intake::page))
        .route("/intake/search", get(intake::search))
        .route("/intake/devices/{id}", get(intake::device))
        .route(
            "/intake/orders",
            post(intake::create).route_layer(idempotent),
        )
        .route("/intake/customers/new", get(intake::new_customer_form))
        .route("/intake/customers", post(intake::create_customer))
        .route("/intake/customers/merge", post(intake::merge))
        .route("/intake/customers/{id}", get(intake::customer))
        .route(
            "/intake/customers/{id}/devices/new",
            get(intake::add_device_form),
        )
        .route("/intake/phone-check", get(intake::phone_check))
        .route("/intake/products", get(intake::products))
        .route("/intake/policies", get(intake::policies))
        .route("/intake/devices", post(intake::create_device))
        .route("/s/{token}", get(selfservice::device))
        .route("/s/{token}/report", post(selfservice::report))
        .route("/s/{token}/rate", post(selfservice::rate))
        .route("/tech", get(field::day))
        .route("/opportunities", get(leads::leads))
        .route("/opportunities/{id}/status", post(leads::lead_status))
        .route("/complaints", get(complaints::list))
        .route("/complaints/{id}", get(complaints::detail))
        .route("/complaints/{id}/terms", post(complaints::update))
        .route("/complaints/{id}/actions", post(complaints::add_action))
        .route("/complaints/{id}/escalate", post(complaints::escalate))
        .route("/complaints/{id}/close", post(complaints::close))
        .route("/work-orders/{id}/complaints", post(complaints::create))
        .route("/follow-ups", get(followups::follow_ups))
        .route("/follow-ups/{id}", post(followups::answer))
        .route("/kb", get(knowledge::kb).post(knowledge::kb_create))
        .route("/labels", get(labels::labels))
        .route("/labels/sheet", get(labels::sheet))
        .route("/intake/requests/{id}", post(selfservice::decide_request))
        .route("/settings", get(settings::page))
        .route("/settings/sla", post(settings::save_sla))
        .route("/settings/calendar", post(calendar::save))
        .route("/settings/fees", post(settings::save_fees))
        .route("/settings/geocoding", post(settings::save_geocoding))
        .route("/tech/orders/{id}", get(field::visit))
        .route("/tech/kb", get(knowledge::kb_phone))
        .route("/tech/points", get(points::phone))
        .route("/points", get(points::ranking))
        .route("/points/export.xlsx", get(points::export))
        .route("/points/rules", get(points::rules).post(points::save_rules))
        .route("/points/technicians/{id}", get(points::technician))
        .route("/points/technicians/{id}/adjustments", post(points::adjust))
        .route("/work-orders/{id}/difficulty", post(points::grade))
        .route("/work-orders/{id}/report", get(service::printable))
        .route("/static/{file}", get(asset))
        .merge(forms::routes())
        .layer(axum::middleware::from_fn(html_errors))
}

#[derive(Template)]
#[template(path = "refused.html")]
struct RefusedPage {
    t: T,
    title: String,
    message: String,
}

/// A page the browser opened (not an htmx fragment) that ends in an error is a page in the
/// user's language — 404 the "no such page" page, others the message and a way home — never the
/// API's JSON.
async fn html_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let opened =
        req.method() == axum::http::Method::GET && !req.headers().contains_key("hx-request");
    let slot = req.extensions().get::<LangSlot>().cloned();
    let res = next.run(req).await;
    let status = res.status();
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !opened || !json || !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let lang = slot.map(|s| s.get()).unwrap_or_default();
    if status == StatusCode::NOT_FOUND {
        return not_found(lang);
    }
    let english = res
        .extensions()
        .get::<crate::error::EnglishBody>()
        .map(|e| e.0.clone());
    let body = axum::body::to_bytes(res.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let text = match (lang, english) {
        (Lang::En, Some(en)) => en,
        _ => String::from_utf8_lossy(&body).into_owned(),
    };
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_default();
    let t = T(lang);
    let title = t.t(if status == StatusCode::FORBIDDEN {
        "refused.title"
    } else {
        "refused.error"
    });
    (status, render(&RefusedPage { t, title, message })).into_response()
}

async fn asset(Path(file): Path<String>) -> Response {
    let (body, ctype): (&'static [u8], &str) = match file.as_str() {
        "htmx.min.js" => (
            include_bytes!("../../static/htmx.min.js"),
            "text/javascript",
        ),
        "app.css" => (include_bytes!("../../static/app.css"), "text/css"),
        "field.js" => (include_bytes!("../../static/field.js"), "text/javascript"),
        "boot.js" => (include_bytes!("../../static/boot.js"), "text/javascript"),
        "page.js" => (include_bytes!("../../static/page.js"), "text/javascript"),
        "report.css" => (include_bytes!("../../static/report.css"), "text/css"),
        _ => return not_found(Lang::default()),
    };
    (
        [
            (header::CONTENT_TYPE, ctype),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// The signed-in user of a page; anyone else is sent to the login page. Changes (non-GET)
/// must carry the session's CSRF token in `X-CSRF-Token` (htmx adds it from the page).
pub struct Page {
    pub actor: Actor,
    pub csrf: String,
    pub t: T,
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_login = || Redirect::to("/login").into_response();
        let Some((token, _)) = token_of(parts) else {
            return Err(to_login());
        };
        let slot = parts.extensions.get::<LangSlot>().cloned();
        let browser = slot.as_ref().map(LangSlot::get);
        let (actor, csrf) = auth::authenticate(&state.app, &token, browser)
            .await
            .map_err(|_| to_login())?;
        if let Some(s) = slot {
            s.set(actor.lang);
        }
        if parts.method != Method::GET && parts.method != Method::HEAD {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if sent != csrf {
                return Err((StatusCode::FORBIDDEN, T(actor.lang).t("wo.stale")).into_response());
            }
        }
        Ok(Page {
            t: T(actor.lang),
            actor,
            csrf,
        })
    }
}

/// What every page's frame shows.
pub struct Chrome {
    pub t: T,
    pub csrf: String,
    pub user_name: String,
    pub role: String,
    pub other_lang: &'static str,
    pub admin: bool,
    /// The menu: the pages this role may open (address, label).
    pub nav: Vec<(&'static str, String)>,
}

/// The office pages and the roles that may open them (the same roles the use cases behind each
/// page require).
fn menu(role: Role) -> Vec<(&'static str, &'static str)> {
    use Role::*;
    let all: &[(&str, &str, &[Role])] = &[
        (
            "/home",
            "nav.home",
            &[Admin, Manager, Dispatcher, Clerk, Finance, Followup],
        ),
        ("/kpis", "nav.kpis", &[Admin, Manager, Dispatcher, Finance]),
        ("/targets", "nav.targets", &[Admin, Manager]),
        (
            "/intake",
            "nav.intake",
            &[Admin, Manager, Dispatcher, Clerk],
        ),
        (
            "/work-orders",
            "nav.work_orders",
            &[Admin, Manager, Dispatcher, Clerk, Finance, Followup],
        ),
        ("/dispatch", "nav.dispatch", &[Admin, Manager, Dispatcher]),
        ("/review", "nav.review", &[Admin, Manager]),
        (
            "/customers",
            "nav.archive",
            &[Admin, Manager, Dispatcher, Clerk, Finance, Followup],
        ),
        ("/follow-ups", "nav.follow_ups", &[Admin, Manager, Followup]),
        (
            "/csi",
            "nav.csi",
            &[Admin, Manager, Dispatcher, Finance, Followup],
        ),
        (
            "/complaints",
            "nav.complaints",
            &[Admin, Manager, Dispatcher, Clerk, Followup],
        ),
        ("/points", "nav.points", &[Admin, Manager, Dispatcher]),
        ("/opportunities", "nav.leads", &[Admin, Manager, Dispatcher]),
        (
            "/kb",
            "nav.kb",
            &[Admin, Manager, Dispatcher, Clerk, Finance, Followup],
        ),
        ("/settings", "nav.settings", &[Admin]),
    ];
    all.iter()
        .filter(|(_, _, roles)| roles.contains(&role))
        .map(|(href, key, _)| (*href, *key))
        .collect()
}

impl Page {
    pub fn chrome(&self) -> Chrome {
        Chrome {
            t: self.t,
            csrf: self.csrf.clone(),
            user_name: self.actor.user.display_name.clone(),
            role: self.actor.role().label(self.actor.lang).to_string(),
            other_lang: match self.actor.lang {
                Lang::ZhCn => "en",
                Lang::En => "zh-CN",
            },
            admin: self.actor.role() == Role::Admin,
            nav: menu(self.actor.role())
                .into_iter()
                .map(|(href, key)| (href, self.t.t(key)))
                .collect(),
        }
    }

    /// A time in the org's zone, short.
    pub fn time(&self, state: &AppState, t: DateTime<Utc>) -> String {
        local_time(state, t)
    }
}

/// An error as a response (the API's status codes and localised message).
/// An Excel download (`filename` ends in `.xlsx`) from a workbook written by `rust_xlsxwriter`;
/// a failure to write it is an internal error.
pub(crate) fn xlsx(book: Result<Vec<u8>, rust_xlsxwriter::XlsxError>, filename: &str) -> Response {
    match book {
        Ok(b) => (
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
                ),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{filename}\""),
                ),
            ],
            b,
        )
            .into_response(),
        Err(e) => err(shouhou_app::AppError::Internal(format!("xlsx: {e}"))),
    }
}

/// The answer of an htmx form that changes a setting: "saved" and a page refresh, or the
/// refusal in the user's words where the form shows it (`#action-error`).
pub(crate) fn saved_or_error(p: &Page, r: Result<(), shouhou_app::AppError>) -> Response {
    match r {
        Ok(()) => (
            [("hx-refresh", "true")],
            Html(format!("<p class=\"notice\">{}</p>", p.t.t("wo.saved"))),
        )
            .into_response(),
        Err(e) => Html(format!(
            "<p class=\"error\" id=\"action-error\">{}</p>",
            escape(&e.message(p.actor.lang))
        ))
        .into_response(),
    }
}

/// Text for HTML built in Rust (templates escape on their own).
pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(crate) fn err(e: shouhou_app::AppError) -> Response {
    crate::error::ApiError(e).into_response()
}

/// The product categories as (value, label) options.
pub(crate) fn categories(lang: Lang) -> Vec<(String, String)> {
    shouhou_domain::Category::ALL
        .iter()
        .map(|c| (c.as_str().to_string(), c.label(lang).to_string()))
        .collect()
}

/// A time in the org's zone, short (`MM-DD HH:MM`).
pub(crate) fn local_time(state: &AppState, t: DateTime<Utc>) -> String {
    t.with_timezone(&state.app.settings.time_zone)
        .format("%m-%d %H:%M")
        .to_string()
}

pub fn html(s: String) -> Response {
    Html(s).into_response()
}

pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: T,
    error: Option<String>,
    username: String,
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage {
    t: T,
}

/// The page for an address that has none (404).
pub(crate) fn not_found(lang: Lang) -> Response {
    (StatusCode::NOT_FOUND, render(&NotFoundPage { t: T(lang) })).into_response()
}

pub(crate) fn lang_of(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_header)
        .unwrap_or_default()
}

async fn login_page(headers: HeaderMap) -> Response {
    render(&LoginPage {
        t: T(lang_of(&headers)),
        error: None,
        username: String::new(),
    })
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

async fn login(
    State(s): State<AppState>,
    crate::extract::ClientAddr(addr): crate::extract::ClientAddr,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let t = T(lang_of(&headers));
    let signed = match s.login_limits.check(&addr) {
        Ok(()) => auth::login(&s.app, &f.username, &f.password, &addr).await,
        Err(e) => Err(e),
    };
    match signed {
        Ok(signed) => {
            let max_age = s.app.settings.session_hours * 3600;
            let mut h = HeaderMap::new();
            for (name, value, http_only) in [
                (SESSION_COOKIE, &signed.token, true),
                (CSRF_COOKIE, &signed.csrf_token, false),
            ] {
                h.append(
                    header::SET_COOKIE,
                    cookie(name, value, http_only, s.secure_cookies, max_age),
                );
            }
            (h, Redirect::to("/home")).into_response()
        }
        Err(e) => {
            let status = crate::error::status_of(&e);
            if status.is_server_error() && !matches!(e, AppError::Busy { .. }) {
                tracing::error!(error = ?e, "sign-in failed");
            }
            let msg = match e {
                AppError::BadCredentials => t.t("login.failed"),
                ref other => other.message(t.0),
            };
            let mut h = HeaderMap::new();
            if let Some(v) = crate::error::retry_after(&e) {
                h.insert(header::RETRY_AFTER, v);
            }
            (
                status,
                h,
                render(&LoginPage {
                    t,
                    error: Some(msg),
                    username: f.username,
                }),
            )
                .into_response()
        }
    }
}

async fn logout(State(s): State<AppState>, p: Page, headers: HeaderMap) -> Response {
    if let Some((tok, _)) = session_token(&headers) {
        let _ = auth::logout(&s.app, &tok).await;
    }
    let _ = p;
    let mut h = HeaderMap::new();
    h.insert("hx-redirect", HeaderValue::from_static("/login"));
    for (name, http_only) in [(SESSION_COOKIE, true), (CSRF_COOKIE, false)] {
        h.append(
            header::SET_COOKIE,
            cookie(name, "", http_only, s.secure_cookies, 0),
        );
    }
    (h, "").into_response()
}

#[derive(Deserialize)]
struct LangForm {
    lang: String,
}

async fn set_lang(State(s): State<AppState>, p: Page, Form(f): Form<LangForm>) -> Response {
    let lang = Lang::from_header(&f.lang);
    let patch = shouhou_app::org::UserPatch {
        lang: Some(lang),
        ..Default::default()
    };
    match shouhou_app::org::update_user(&s.app, &p.actor, p.actor.id(), None, patch).await {
        Ok(_) => ([("hx-refresh", "true")], "").into_response(),
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, e.message(p.actor.lang)).into_response(),
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    open: i64,
    overdue: i64,
    awaiting_review: i64,
    completed_today: i64,
}

/// Each role's home: the clerk's is intake; the others see today's counts.
async fn home(State(s): State<AppState>, p: Page) -> Response {
    match p.actor.role() {
        Role::Clerk => return Redirect::to("/intake").into_response(),
        Role::Dispatcher => return Redirect::to("/dispatch").into_response(),
        Role::Technician | Role::Partner => return Redirect::to("/tech").into_response(),
        Role::Admin => return Redirect::to("/settings").into_response(),
        Role::Followup => return Redirect::to("/follow-ups").into_response(),
        _ => {}
    }
    use shouhou_store::work_orders::{count, Filter};
    let now = s.app.now();
    let vis = &p.actor.vis;
    let open_statuses = [
        "new",
        "assigned",
        "accepted",
        "en_route",
        "on_site",
        "waiting_parts",
    ];
    let midnight = s.app.day_start(s.app.today());
    let f = |status: &[&str]| Filter {
        status: status.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let db = &s.app.db;
    let result = async {
        Ok::<_, shouhou_store::StoreError>(HomePage {
            open: count(db, vis, &f(&open_statuses)).await?,
            overdue: count(
                db,
                vis,
                &Filter {
                    overdue_at: Some(now),
                    ..Default::default()
                },
            )
            .await?,
            awaiting_review: count(db, vis, &f(&["completed"])).await?,
            completed_today: count(
                db,
                vis,
                &Filter {
                    completed_from: Some(midnight),
                    ..Default::default()
                },
            )
            .await?,
            c: p.chrome(),
        })
    }
    .await;
    match result {
        Ok(page) => render(&page),
        Err(e) => crate::error::ApiError(e.into()).into_response(),
    }
}
