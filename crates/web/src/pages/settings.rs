//! The admin's settings: SLA rules (the working calendar's form is `calendar.rs`) and fee
//! rules, each an editable table. An empty row is there
//! to add a rule; clearing a row's numbers removes it. A refused table saves nothing and says
//! which row and field to fix.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use shouhou_app::geocoding::{GeocodingInput, GeocodingSettings, Provider};
use shouhou_app::AppError;
use shouhou_domain::money::{parse_yuan, yuan};
use shouhou_domain::sla::{self, SlaClock, SlaRule};
use shouhou_domain::{Category, Lang, Priority, Role, Tier, WorkOrderType};
use shouhou_store::service::FeeRule;

use super::{html, render, Chrome, Page};
use crate::extract::Form;
use crate::i18n::T;
use crate::AppState;

#[derive(Template)]
#[template(path = "settings.html")]
struct Settings {
    c: Chrome,
    sla_form: String,
    calendar_form: String,
    fee_form: String,
    geocoding_form: String,
}

#[derive(Template)]
#[template(path = "settings_geocoding_partial.html")]
struct GeocodingForm {
    t: T,
    version: i64,
    amap: bool,
    /// The stored key as shown (its last four characters), empty when none.
    masked_key: String,
    city: String,
    endpoint: String,
    default_endpoint: &'static str,
    saved: bool,
    error: String,
    error_field: String,
}

fn geocoding_form(
    lang: Lang,
    version: i64,
    g: &GeocodingSettings,
    saved: bool,
    error: (String, String),
) -> String {
    GeocodingForm {
        t: T(lang),
        version,
        amap: g.provider == Some(Provider::Amap),
        masked_key: g.masked_key(),
        city: g.city.clone().unwrap_or_default(),
        endpoint: g.endpoint.clone().unwrap_or_default(),
        default_endpoint: shouhou_app::geocoding::AMAP_ENDPOINT,
        saved,
        error: error.0,
        error_field: error.1,
    }
    .render()
    .unwrap_or_default()
}

#[derive(serde::Deserialize)]
pub struct GeocodingPost {
    #[serde(rename = "_version")]
    version: Option<i64>,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    api_key: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    endpoint: String,
}

/// `POST /settings/geocoding` (admin): the service that turns addresses into places. An empty
/// key keeps the stored one.
pub async fn save_geocoding(
    State(s): State<AppState>,
    p: Page,
    Form(f): Form<GeocodingPost>,
) -> Response {
    let lang = p.actor.lang;
    let input = GeocodingInput {
        provider: (f.provider == "amap").then_some(Provider::Amap),
        api_key: Some(f.api_key.clone()),
        city: Some(f.city.clone()),
        endpoint: Some(f.endpoint.clone()),
    };
    match shouhou_app::geocoding::set_settings(&s.app, &p.actor, f.version, input).await {
        Ok((g, v)) => html(geocoding_form(lang, v, &g, true, Default::default())),
        Err(e) => {
            let (g, v) = shouhou_app::geocoding::settings(&s.app)
                .await
                .unwrap_or_default();
            let shown = GeocodingSettings {
                provider: (f.provider == "amap").then_some(Provider::Amap),
                key: g.key.clone(),
                city: Some(f.city),
                endpoint: Some(f.endpoint),
            };
            let field = e.field().unwrap_or("").to_string();
            let msg = if field.is_empty() {
                e.message(lang)
            } else {
                e.detail(lang)
            };
            html(geocoding_form(lang, v, &shown, false, (msg, field)))
        }
    }
}

/// An SLA rule as typed: (priority, tier or "", clock, respond, arrive, resolve hours).
type SlaRow = (String, String, String, String, String, String);
/// A fee rule as typed: (type, category or "*", labour yuan, travel yuan).
type FeeRow = (String, String, String, String);

#[derive(Template)]
#[template(path = "settings_sla_partial.html")]
struct SlaForm {
    t: T,
    /// The version the form shows, sent back as `_version` (a stale one is refused).
    version: i64,
    rows: Vec<SlaRow>,
    priorities: Vec<(String, String)>,
    tiers: Vec<(String, String)>,
    clocks: Vec<(String, String)>,
    saved: bool,
    error: String,
}

#[derive(Template)]
#[template(path = "settings_fees_partial.html")]
struct FeeForm {
    t: T,
    /// The version the form shows, sent back as `_version` (a stale one is refused).
    version: i64,
    rows: Vec<FeeRow>,
    kinds: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    saved: bool,
    error: String,
}

fn sla_form(
    lang: Lang,
    version: i64,
    rules: &[SlaRule],
    rows: Option<Vec<SlaRow>>,
    saved: bool,
    error: String,
) -> String {
    let mut rows = rows.unwrap_or_else(|| {
        rules
            .iter()
            .map(|r| {
                (
                    r.priority.as_str().to_string(),
                    r.tier.map(|t| t.as_str().to_string()).unwrap_or_default(),
                    r.clock.as_str().to_string(),
                    sla::hours_text(r.respond_hours),
                    sla::hours_text(r.arrive_hours),
                    sla::hours_text(r.resolve_hours),
                )
            })
            .collect()
    });
    rows.push((
        "normal".into(),
        String::new(),
        SlaClock::WorkingHours.as_str().into(),
        String::new(),
        String::new(),
        String::new(),
    ));
    let mut tiers = vec![(String::new(), T(lang).t("common.all"))];
    tiers.extend(
        Tier::ALL
            .iter()
            .map(|t| (t.as_str().to_string(), t.label(lang).to_string())),
    );
    SlaForm {
        t: T(lang),
        version,
        rows,
        priorities: Priority::ALL
            .iter()
            .map(|p| (p.as_str().to_string(), p.label(lang).to_string()))
            .collect(),
        tiers,
        clocks: SlaClock::ALL
            .iter()
            .map(|c| (c.as_str().to_string(), c.label(lang).to_string()))
            .collect(),
        saved,
        error,
    }
    .render()
    .unwrap_or_default()
}

fn fee_form(
    lang: Lang,
    version: i64,
    rules: &[FeeRule],
    rows: Option<Vec<FeeRow>>,
    saved: bool,
    error: String,
) -> String {
    let mut rows = rows.unwrap_or_else(|| {
        rules
            .iter()
            .map(|r| {
                (
                    r.kind.clone(),
                    r.category.clone(),
                    yuan(r.labour_fen),
                    yuan(r.travel_fen),
                )
            })
            .collect()
    });
    rows.push((
        "repair_onsite".into(),
        "*".into(),
        String::new(),
        String::new(),
    ));
    let mut categories = vec![("*".to_string(), T(lang).t("settings.any_category"))];
    categories.extend(
        Category::ALL
            .iter()
            .map(|c| (c.as_str().to_string(), c.label(lang).to_string())),
    );
    FeeForm {
        t: T(lang),
        version,
        rows,
        kinds: WorkOrderType::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), k.label(lang).to_string()))
            .collect(),
        categories,
        saved,
        error,
    }
    .render()
    .unwrap_or_default()
}

fn forbidden() -> Response {
    crate::error::ApiError(AppError::Forbidden).into_response()
}

/// `GET /settings` (admin).
pub async fn page(State(s): State<AppState>, p: Page) -> Response {
    if p.actor.role() != Role::Admin {
        return forbidden();
    }
    let lang = p.actor.lang;
    let (sla, sla_version) = shouhou_app::catalog::sla_rules_versioned(&s.app)
        .await
        .unwrap_or_default();
    let (cal, cal_version) = shouhou_app::calendar::calendar(&s.app)
        .await
        .unwrap_or_else(|_| (shouhou_domain::calendar::default_calendar(), 1));
    let (fees, fee_version) = shouhou_app::service::fee_rules_versioned(&s.app)
        .await
        .unwrap_or_default();
    let (geo, geo_version) = shouhou_app::geocoding::settings(&s.app)
        .await
        .unwrap_or_default();
    render(&Settings {
        sla_form: sla_form(lang, sla_version, &sla, None, false, String::new()),
        calendar_form: super::calendar::form(lang, cal_version, &cal),
        fee_form: fee_form(lang, fee_version, &fees, None, false, String::new()),
        geocoding_form: geocoding_form(lang, geo_version, &geo, false, Default::default()),
        c: p.chrome(),
    })
}

/// Splits repeated form fields into rows: a new row starts at each `first` field.
fn rows(pairs: &[(String, String)], first: &str, width: usize) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for (k, v) in pairs {
        if k == first {
            out.push(Vec::with_capacity(width));
        }
        if let Some(r) = out.last_mut() {
            r.push(v.trim().to_string());
        }
    }
    out.into_iter().filter(|r| r.len() == width).collect()
}

/// The `_version` a settings form was drawn with.
pub(super) fn form_version(pairs: &[(String, String)]) -> Option<i64> {
    pairs
        .iter()
        .find(|(k, _)| k == "_version")
        .and_then(|(_, v)| v.parse().ok())
}

fn row_error(lang: Lang, n: usize, field: &str) -> String {
    lang.pick(&format!("第 {n} 行：{field}"), &format!("row {n}: {field}"))
}

/// Hours as typed: `2`, `0.5` (a decimal comma too).
fn parse_hours(v: &str) -> Option<f64> {
    v.trim()
        .replace(['，', ','], ".")
        .parse::<f64>()
        .ok()
        .filter(|h| h.is_finite())
}

/// `"rules[2].arrive_hours: …"` → `"row 3: …"`, counting the rows as the form showed them.
fn rules_row_error(lang: Lang, e: &AppError, kept: &[usize]) -> String {
    match e
        .field()
        .and_then(|f| f.strip_prefix("rules["))
        .and_then(|f| f.split(']').next())
        .and_then(|n| n.parse::<usize>().ok())
    {
        Some(n) => {
            let field = e.field().and_then(|f| f.rsplit('.').next()).unwrap_or("");
            let label = shouhou_domain::fields::label_start(field, lang);
            let sep = lang.pick("：", ": ");
            row_error(
                lang,
                kept.get(n).map(|i| i + 1).unwrap_or(n + 1),
                &format!("{label}{sep}{}", e.detail(lang)),
            )
        }
        None => e.message(lang),
    }
}

/// `POST /settings/sla`.
pub async fn save_sla(
    State(s): State<AppState>,
    p: Page,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let lang = p.actor.lang;
    let version = form_version(&pairs);
    let raw = rows(&pairs, "priority", 6);
    let kept: Vec<(usize, &Vec<String>)> = raw
        .iter()
        .enumerate()
        .filter(|(_, r)| r[3..].iter().any(|x| !x.is_empty()))
        .collect();
    let mut rules = Vec::new();
    let back = |e: String| {
        let shown = kept
            .iter()
            .map(|(_, r)| {
                (
                    r[0].clone(),
                    r[1].clone(),
                    r[2].clone(),
                    r[3].clone(),
                    r[4].clone(),
                    r[5].clone(),
                )
            })
            .collect();
        html(sla_form(
            lang,
            version.unwrap_or(0),
            &[],
            Some(shown),
            false,
            e,
        ))
    };
    for (i, r) in &kept {
        let n = i + 1;
        let num = |v: &str, label: &str| {
            parse_hours(v).ok_or_else(|| {
                row_error(
                    lang,
                    n,
                    &format!(
                        "{label} {}",
                        lang.pick(
                            "请输入小时数（可填小数，如 0.5）",
                            "enter hours (decimals allowed, e.g. 0.5)"
                        )
                    ),
                )
            })
        };
        let t = T(lang);
        let rule = (|| {
            Ok::<_, String>(SlaRule {
                priority: Priority::parse_field(&r[0], "priority").map_err(|e| e.message(lang))?,
                tier: if r[1].is_empty() {
                    None
                } else {
                    Some(Tier::parse_field(&r[1], "tier").map_err(|e| e.message(lang))?)
                },
                clock: SlaClock::parse(&r[2]).unwrap_or(SlaClock::WorkingHours),
                respond_hours: num(&r[3], &t.t("wo.respond_by"))?,
                arrive_hours: num(&r[4], &t.t("wo.arrive_by"))?,
                resolve_hours: num(&r[5], &t.t("wo.resolve_by"))?,
            })
        })();
        match rule {
            Ok(x) => rules.push(x),
            Err(e) => return back(e),
        }
    }
    let shown: Vec<usize> = kept.iter().map(|(i, _)| *i).collect();
    match shouhou_app::catalog::set_sla_rules(&s.app, &p.actor, version, rules).await {
        Ok((saved, v)) => html(sla_form(lang, v, &saved, None, true, String::new())),
        Err(e) => back(rules_row_error(lang, &e, &shown)),
    }
}

/// `POST /settings/fees`.
pub async fn save_fees(
    State(s): State<AppState>,
    p: Page,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let lang = p.actor.lang;
    let version = form_version(&pairs);
    let raw = rows(&pairs, "kind", 4);
    let kept: Vec<(usize, &Vec<String>)> = raw
        .iter()
        .enumerate()
        .filter(|(_, r)| r[2..].iter().any(|x| !x.is_empty()))
        .collect();
    let back = |e: String| {
        let shown = kept
            .iter()
            .map(|(_, r)| (r[0].clone(), r[1].clone(), r[2].clone(), r[3].clone()))
            .collect();
        html(fee_form(
            lang,
            version.unwrap_or(0),
            &[],
            Some(shown),
            false,
            e,
        ))
    };
    let mut rules = Vec::new();
    for (i, r) in &kept {
        let money = |v: &str, key: &str| {
            if v.is_empty() {
                return Ok(0);
            }
            parse_yuan(v).ok_or_else(|| {
                row_error(
                    lang,
                    i + 1,
                    &format!(
                        "{} {}",
                        T(lang).t(key),
                        lang.pick("请输入金额（元）", "enter an amount in yuan")
                    ),
                )
            })
        };
        let (labour, travel) = match (
            money(&r[2], "settings.labour_fee"),
            money(&r[3], "settings.travel_fee"),
        ) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return back(e),
        };
        rules.push(FeeRule {
            id: 0,
            kind: r[0].clone(),
            category: r[1].clone(),
            labour_fen: labour,
            travel_fen: travel,
        });
    }
    match shouhou_app::service::set_fee_rules(&s.app, &p.actor, version, rules).await {
        Ok((saved, v)) => html(fee_form(lang, v, &saved, None, true, String::new())),
        Err(e) => {
            // "rules[2].category: …" → "row 3: …"
            let msg = match e
                .field()
                .and_then(|f| f.strip_prefix("rules["))
                .and_then(|f| f.split(']').next())
                .and_then(|n| n.parse::<usize>().ok())
            {
                Some(n) => row_error(
                    lang,
                    kept.get(n).map(|(i, _)| i + 1).unwrap_or(n + 1),
                    &e.detail(lang),
                ),
                None => e.message(lang),
            };
            back(msg)
        }
    }
}
