//! The customer's pages behind the device's QR code, no login: `/s/{token}` shows the device and
//! its warranty, takes a fault report, tracks the order and takes the rating. Rate-limited per
//! client address and per token; an unknown token is 404. Also the clerk's decision on a
//! self-service request (listed on the intake page).

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use shouhou_app::followups::FollowUpInput;
use shouhou_app::selfservice::{self as uc, Reported, Tracking};
use shouhou_app::AppError;
use shouhou_domain::fees::ChargeKind;
use shouhou_domain::money::yuan;
use shouhou_domain::{Lang, Rating, Status, ValidationError, WarrantyDecision};

use super::{html, lang_of, local_time, render, Page};
use crate::extract::{ClientAddr, Form, Path, Query};
use crate::i18n::T;
use crate::AppState;

/// Request budgets of the public pages.
pub struct PublicLimits {
    by_addr: DefaultKeyedRateLimiter<String>,
    by_token: DefaultKeyedRateLimiter<String>,
    checks: AtomicU64,
}

impl PublicLimits {
    /// `per_addr` and `per_token` requests a minute, with bursts of a quarter of that.
    pub fn new(per_addr: u32, per_token: u32) -> PublicLimits {
        let q = |n: u32| {
            let n = NonZeroU32::new(n.max(4)).unwrap_or(NonZeroU32::MIN);
            Quota::per_minute(n)
                .allow_burst(NonZeroU32::new(n.get() / 4).unwrap_or(NonZeroU32::MIN))
        };
        PublicLimits {
            by_addr: RateLimiter::keyed(q(per_addr)),
            by_token: RateLimiter::keyed(q(per_token)),
            checks: AtomicU64::new(0),
        }
    }

    fn allow(&self, addr: &str, token: &str) -> bool {
        // Forget idle keys now and then so the maps stay small.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.by_addr.retain_recent();
            self.by_token.retain_recent();
        }
        self.by_addr.check_key(&addr.to_string()).is_ok()
            && self.by_token.check_key(&token.to_string()).is_ok()
    }
}

impl Default for PublicLimits {
    fn default() -> Self {
        PublicLimits::new(120, 60)
    }
}

pub struct TrackView {
    number: String,
    status: String,
    technician: String,
    /// The appointment window, if one is booked.
    window: String,
    /// When the technician comes, in words: "预计 10:40 到达", on the way, on site, or to be
    /// arranged.
    arrival: String,
    rating: String,
    may_rate: bool,
    /// The questionnaire's items, asked before the overall rating.
    questions: Vec<String>,
}

#[derive(Template)]
#[template(path = "public_device.html")]
struct DevicePage {
    t: T,
    token: String,
    product: String,
    serial: String,
    warranty: String,
    whole_unit_until: String,
    main_parts_until: String,
    manufacturer: String,
    hotline: String,
    /// Said before the customer reports a fault when the visit is charged.
    charge_note: String,
    /// `?lang=` of the other language (the switch), and of this one (carried by the forms).
    other_lang: &'static str,
    lang_q: &'static str,
    track: Option<TrackView>,
    ratings: Vec<(String, String)>,
    may_report: bool,
    notice: String,
    description: String,
    phone: String,
    field: String,
    error: String,
    rate_error: String,
}

#[derive(Default)]
struct Form0 {
    notice: String,
    description: String,
    phone: String,
    field: String,
    error: String,
    rate_error: String,
}

fn too_many(lang: Lang) -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, "60")],
        lang.pick(
            "请求太频繁，请一分钟后再试",
            "Too many requests; try again in a minute",
        ),
    )
        .into_response()
}

fn not_found(lang: Lang) -> Response {
    (
        StatusCode::NOT_FOUND,
        lang.pick(
            "没有找到这台设备，请核对二维码",
            "No such device; check the QR code",
        ),
    )
        .into_response()
}

/// An amount for a customer: "50" for whole yuan, else "52.50".
fn price(fen: i64) -> String {
    if fen % 100 == 0 {
        (fen / 100).to_string()
    } else {
        yuan(fen)
    }
}

/// A time of the org's day: "10:40" today, "03-12 10:40" another day.
fn clock(s: &AppState, t: DateTime<Utc>) -> String {
    let tz = &s.app.settings.time_zone;
    if t.with_timezone(tz).date_naive() == s.app.now().with_timezone(tz).date_naive() {
        t.with_timezone(tz).format("%H:%M").to_string()
    } else {
        local_time(s, t)
    }
}

fn arrival(s: &AppState, k: &Tracking, lang: Lang) -> String {
    let t = T(lang);
    let eta = |key: &str| {
        k.eta
            .map(|e| t.t(key).replace("{t}", &clock(s, e)))
            .unwrap_or_default()
    };
    match k.status {
        Status::EnRoute => match k.eta {
            Some(_) => eta("public.on_the_way_eta"),
            None => t.t("public.on_the_way"),
        },
        Status::OnSite => t.t("public.on_site"),
        Status::Assigned | Status::Accepted if k.eta.is_some() => eta("public.eta_at"),
        Status::New | Status::Assigned | Status::Accepted | Status::WaitingParts
            if k.appointment_start.is_none() =>
        {
            t.t("public.to_be_arranged")
        }
        _ => String::new(),
    }
}

fn track_view(s: &AppState, k: &Tracking, lang: Lang) -> TrackView {
    TrackView {
        number: k.number.clone(),
        status: k.status.label(lang).to_string(),
        technician: k.technician.clone().unwrap_or_default(),
        window: match (k.appointment_start, k.appointment_end) {
            (Some(a), Some(b)) => format!("{} – {}", local_time(s, a), clock(s, b)),
            _ => String::new(),
        },
        arrival: arrival(s, k, lang),
        rating: k
            .rating
            .as_deref()
            .and_then(|r| Rating::parse_field(r, "rating").ok())
            .map(|r| r.label(lang).to_string())
            .unwrap_or_default(),
        may_rate: k.may_rate(s.app.now()),
        questions: k.questions.clone(),
    }
}

async fn page(s: &AppState, token: &str, lang: Lang, f: Form0) -> Response {
    let (d, track) = match uc::device(&s.app, token).await {
        Ok(v) => v,
        Err(AppError::NotFound) => return not_found(lang),
        Err(e) => return crate::error::ApiError(e).into_response(),
    };
    let may_report = !track.as_ref().is_some_and(|k| k.status.is_open());
    let charge_note = match d.visit_fee {
        Some(fee) => {
            let t = T(lang);
            let lead = match d.warranty {
                WarrantyDecision::MainPartsOnly => t.t("public.charged_main_parts"),
                _ => t.t("public.charged_out_of_warranty"),
            };
            let fees: Vec<String> = [
                (ChargeKind::Travel, fee.travel_fen),
                (ChargeKind::Labour, fee.labour_fen),
            ]
            .into_iter()
            .filter(|(_, f)| *f > 0)
            .map(|(k, f)| format!("{} ¥{}", k.label(lang), price(f)))
            .collect();
            if fees.is_empty() {
                format!("{lead}{}", t.t("public.charged_quote"))
            } else {
                format!(
                    "{lead}{}",
                    t.t("public.charged_fees")
                        .replace("{fees}", &fees.join(lang.pick("，", ", ").as_str()))
                )
            }
        }
        None => String::new(),
    };
    render(&DevicePage {
        t: T(lang),
        hotline: d.hotline.unwrap_or_default(),
        charge_note,
        other_lang: lang_param(match lang {
            Lang::ZhCn => Lang::En,
            Lang::En => Lang::ZhCn,
        }),
        lang_q: lang_param(lang),
        token: token.to_string(),
        product: d.product,
        serial: d.serial,
        warranty: d.warranty.label(lang).to_string(),
        whole_unit_until: d.whole_unit_until.to_string(),
        main_parts_until: d.main_parts_until.to_string(),
        manufacturer: d.manufacturer,
        track: track.as_ref().map(|k| track_view(s, k, lang)),
        ratings: Rating::ALL
            .iter()
            .map(|r| (r.as_str().to_string(), r.label(lang).to_string()))
            .collect(),
        may_report,
        notice: f.notice,
        description: f.description,
        phone: f.phone,
        field: f.field,
        error: f.error,
        rate_error: f.rate_error,
    })
}

#[derive(Deserialize)]
pub struct Shown {
    sent: Option<String>,
    /// The language the customer switched to (`zh` or `en`); else the browser's.
    lang: Option<String>,
}

/// The page's language: the switch's choice, else the browser's.
fn page_lang(headers: &HeaderMap, chosen: Option<&str>) -> Lang {
    match chosen {
        Some(l) if !l.is_empty() => Lang::from_header(l),
        _ => lang_of(headers),
    }
}

fn lang_param(lang: Lang) -> &'static str {
    match lang {
        Lang::ZhCn => "zh",
        Lang::En => "en",
    }
}

/// `GET /s/{token}`.
pub async fn device(
    State(s): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(q): Query<Shown>,
) -> Response {
    let lang = page_lang(&headers, q.lang.as_deref());
    if !s.public_limits.allow(&addr, &token) {
        return too_many(lang);
    }
    let notice = match q.sent.as_deref() {
        Some("order") => T(lang).t("public.sent_order"),
        Some("pending") => T(lang).t("public.sent_pending"),
        Some("rated") => T(lang).t("public.sent_rating"),
        _ => String::new(),
    };
    page(
        &s,
        &token,
        lang,
        Form0 {
            notice,
            ..Default::default()
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct FaultForm {
    description: String,
    phone: String,
    lang: Option<String>,
}

/// `POST /s/{token}/report`: the fault report; redirects to the tracking view.
pub async fn report(
    State(s): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(f): Form<FaultForm>,
) -> Response {
    let lang = page_lang(&headers, f.lang.as_deref());
    let l = lang_param(lang);
    if !s.public_limits.allow(&addr, &token) {
        return too_many(lang);
    }
    match uc::report_fault(&s.app, &token, &f.phone, &f.description).await {
        Ok(Reported::Created(_)) => {
            Redirect::to(&format!("/s/{token}?sent=order&lang={l}")).into_response()
        }
        Ok(Reported::Pending) => {
            Redirect::to(&format!("/s/{token}?sent=pending&lang={l}")).into_response()
        }
        Err(AppError::NotFound) => not_found(lang),
        Err(e) => {
            let field = e.field().unwrap_or("").to_string();
            let mut r = page(
                &s,
                &token,
                lang,
                Form0 {
                    description: f.description,
                    phone: f.phone,
                    error: e.detail(lang),
                    field,
                    ..Default::default()
                },
            )
            .await;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}

/// The rating form: `rating` (the overall answer; none or empty when the customer chose
/// nothing: refused with a message, never defaulted), `comment`, `lang`, and `item:<item>` for
/// each questionnaire item the customer rated.
pub struct RateForm {
    rating: Option<String>,
    comment: Option<String>,
    lang: Option<String>,
    items: Vec<(String, String)>,
}

impl<'de> Deserialize<'de> for RateForm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let pairs = Vec::<(String, String)>::deserialize(d)?;
        let mut f = RateForm {
            rating: None,
            comment: None,
            lang: None,
            items: Vec::new(),
        };
        for (k, v) in pairs {
            match k.as_str() {
                "rating" => f.rating = Some(v),
                "comment" => f.comment = Some(v),
                "lang" => f.lang = Some(v),
                _ => {
                    if let Some(item) = k.strip_prefix("item:") {
                        f.items.push((item.to_string(), v));
                    }
                }
            }
        }
        Ok(f)
    }
}

/// The items a form rated (`item:<item>` = rating; an empty value was left unanswered).
pub fn item_answers(
    pairs: &[(String, String)],
) -> Result<Vec<shouhou_app::csi::ItemAnswer>, AppError> {
    pairs
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(item, v)| {
            Ok(shouhou_app::csi::ItemAnswer {
                item: item.clone(),
                rating: Rating::parse_field(v.trim(), "items")?,
            })
        })
        .collect()
}

/// `POST /s/{token}/rate`: the customer's follow-up answer.
pub async fn rate(
    State(s): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(f): Form<RateForm>,
) -> Response {
    let lang = page_lang(&headers, f.lang.as_deref());
    if !s.public_limits.allow(&addr, &token) {
        return too_many(lang);
    }
    let rating = match f.rating.as_deref().map(str::trim) {
        None | Some("") => Err(AppError::invalid("rating", ValidationError::Required)),
        Some(r) => Rating::parse_field(r, "rating").map_err(AppError::from),
    };
    let result = match rating.and_then(|r| Ok((r, item_answers(&f.items)?))) {
        Ok((rating, items)) => {
            let input = FollowUpInput {
                rating,
                comment: f.comment,
                items,
            };
            uc::rate(&s.app, &token, input).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Redirect::to(&format!("/s/{token}?sent=rated&lang={}", lang_param(lang)))
            .into_response(),
        Err(AppError::NotFound) => not_found(lang),
        Err(e) => {
            let mut r = page(
                &s,
                &token,
                lang,
                Form0 {
                    rate_error: e.detail(lang),
                    ..Default::default()
                },
            )
            .await;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}

#[derive(Deserialize)]
pub struct Decision {
    accept: bool,
}

/// `POST /intake/requests/{id}` (htmx): the clerk accepts (creates the order) or rejects a
/// self-service request.
pub async fn decide_request(
    State(s): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(f): Form<Decision>,
) -> Response {
    match shouhou_app::selfservice::decide(&s.app, &p.actor, id, f.accept).await {
        Ok(Some(w)) => html(format!(
            "<li class=\"notice\" id=\"request-{id}\"><a href=\"/work-orders/{}\">{}</a></li>",
            w.id, w.number
        )),
        Ok(None) => html(format!(
            "<li class=\"notice\" id=\"request-{id}\">{}</li>",
            p.t.t("intake.request_rejected")
        )),
        Err(e) => html(format!(
            "<li class=\"error\" id=\"request-{id}\">{}</li>",
            e.message(p.actor.lang).replace('<', "&lt;")
        )),
    }
}
