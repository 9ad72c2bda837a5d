//! The targets page (目标) for admins and managers: pick a period and a KPI, see the user's unit,
//! the units below and their technicians with committed (确保值) and stretch (挑战值) values, the
//! parent's target beside each line, a warning where the children's targets do not add up to the
//! parent's (service revenue), the value so far with its status, and set each line's target in
//! place. Rates are entered and shown as percentages, money in yuan, durations in their unit.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use shouhou_app::targets::{self as uc, Line, SetTarget, Sheet, SheetQuery, Values};
use shouhou_domain::kpi::{self as def, DurationUnit, Kpi, Shape};
use shouhou_domain::targets::{self as rules, PeriodKind, Status};
use shouhou_domain::Lang;

use super::{err, render, Chrome, Page};
use crate::extract::{Form, Query};
use crate::i18n::T;
use crate::AppState;

#[derive(Debug, Deserialize, Default)]
pub struct ViewForm {
    kpi: Option<String>,
    period_kind: Option<String>,
    day: Option<NaiveDate>,
}

/// A number in the KPI's unit as a person enters it: a rate in percent, money in yuan.
pub fn to_display(kpi: Kpi, v: f64) -> f64 {
    match kpi.shape() {
        Shape::Rate => v * 100.0,
        Shape::Money => v / 100.0,
        _ => v,
    }
}

fn from_display(kpi: Kpi, v: f64) -> f64 {
    match kpi.shape() {
        Shape::Rate => v / 100.0,
        Shape::Money => (v * 100.0).round(),
        _ => v,
    }
}

/// The unit a KPI's target is entered in: `%`, `元`, `小时` …
pub fn unit_word(kpi: Kpi, t: T) -> String {
    match kpi.shape() {
        Shape::Rate => "%".into(),
        Shape::Money => t.t("targets.unit_yuan"),
        Shape::Duration(DurationUnit::Minutes) => t.t("targets.unit_minutes"),
        Shape::Duration(DurationUnit::Hours) => t.t("targets.unit_hours"),
        Shape::Ratio => String::new(),
    }
}

/// A value in the KPI's unit as shown: `85.0%`, `¥1,200.00` (as `¥1200.00`), `24.0 小时`.
pub fn shown(kpi: Kpi, v: f64, t: T) -> String {
    match kpi.shape() {
        Shape::Rate => format!("{:.1}%", def::round_half_away(v * 100.0, 1)),
        Shape::Money => format!("¥{}", shouhou_domain::money::yuan(v.round() as i64)),
        Shape::Duration(_) => format!("{:.1} {}", def::round_half_away(v, 1), unit_word(kpi, t)),
        Shape::Ratio => format!("{:.1}", def::round_half_away(v, 1)),
    }
}

/// The editable form of a value: `85`, `1200`, `24.5`.
fn input_value(kpi: Kpi, v: f64) -> String {
    let d = to_display(kpi, v);
    let r = def::round_half_away(d, 2);
    if (r - r.round()).abs() < 1e-9 {
        format!("{}", r.round() as i64)
    } else {
        format!("{r}")
    }
}

/// A status as a badge: (class, label).
pub fn badge(s: Option<Status>, t: T) -> (&'static str, String) {
    match s {
        Some(Status::Stretch) => ("target-stretch", t.t("targets.status_stretch")),
        Some(Status::Committed) => ("target-committed", t.t("targets.status_committed")),
        Some(Status::Below) => ("target-below", t.t("targets.status_below")),
        None => ("target-none", t.t("targets.status_none")),
    }
}

/// One line as the page shows it.
pub struct LineView {
    pub id: String,
    pub depth: usize,
    pub name: String,
    pub kind_label: String,
    pub unit_id: i64,
    pub technician_id: Option<i64>,
    pub parent: String,
    pub committed: String,
    pub stretch: String,
    pub committed_input: String,
    pub stretch_input: String,
    pub children_sum: String,
    pub mismatch: bool,
    pub actual: String,
    pub status_class: &'static str,
    pub status: String,
    pub editable: bool,
}

#[derive(Template)]
#[template(path = "targets_sheet_partial.html")]
struct SheetPartial {
    t: T,
    kpi: String,
    period_kind: String,
    period_start: String,
    unit: String,
    direction: String,
    summable: bool,
    lines: Vec<LineView>,
    mismatches: usize,
    message: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "targets.html")]
struct TargetsPage {
    c: Chrome,
    kpis: Vec<(String, String, bool)>,
    kinds: Vec<(String, String, bool)>,
    day: String,
    period: String,
    prev: String,
    next: String,
    /// The sheet, rendered by its partial (the same one a change answers with).
    sheet: String,
}

fn pair(kpi: Kpi, v: Option<Values>, t: T) -> String {
    match v {
        Some(v) => format!(
            "{} / {}",
            shown(kpi, v.committed, t),
            shown(kpi, v.stretch, t)
        ),
        None => "—".into(),
    }
}

fn line_view(kpi: Kpi, l: &Line, t: T) -> LineView {
    let lang = t.0;
    let kind_label = match l.unit_kind.parse::<shouhou_domain::OrgKind>() {
        Ok(k) => k.label(lang).to_string(),
        Err(_) => t.t("targets.technician"),
    };
    let (status_class, status) = badge(l.status, t);
    LineView {
        id: match l.technician_id {
            Some(x) => format!("tech-{x}"),
            None => format!("unit-{}", l.unit_id),
        },
        depth: l.depth,
        name: l.name.clone(),
        kind_label,
        unit_id: l.unit_id,
        technician_id: l.technician_id,
        parent: pair(kpi, l.parent, t),
        committed: l
            .target
            .map(|v| shown(kpi, v.committed, t))
            .unwrap_or_else(|| "—".into()),
        stretch: l
            .target
            .map(|v| shown(kpi, v.stretch, t))
            .unwrap_or_else(|| "—".into()),
        committed_input: l
            .target
            .map(|v| input_value(kpi, v.committed))
            .unwrap_or_default(),
        stretch_input: l
            .target
            .map(|v| input_value(kpi, v.stretch))
            .unwrap_or_default(),
        children_sum: match l.children_sum {
            Some(_) => pair(kpi, l.children_sum, t),
            None => String::new(),
        },
        mismatch: l.mismatch,
        actual: l
            .actual
            .map(|a| shown(kpi, a, t))
            .unwrap_or_else(|| "—".into()),
        status_class: if l.target.is_some() { status_class } else { "" },
        status: if l.target.is_some() {
            status
        } else {
            String::new()
        },
        editable: l.editable,
    }
}

fn partial(s: &Sheet, t: T, message: Option<String>, error: Option<String>) -> SheetPartial {
    let lines: Vec<LineView> = s.lines.iter().map(|l| line_view(s.kpi, l, t)).collect();
    SheetPartial {
        t,
        kpi: s.kpi.as_str().into(),
        period_kind: s.period_kind.as_str().into(),
        period_start: s.period_start.to_string(),
        unit: unit_word(s.kpi, t),
        direction: match s.kpi.direction() {
            def::Direction::HigherIsBetter => t.t("targets.higher_is_better"),
            def::Direction::LowerIsBetter => t.t("targets.lower_is_better"),
        },
        summable: s.summable,
        mismatches: lines.iter().filter(|l| l.mismatch).count(),
        lines,
        message,
        error,
    }
}

/// The KPIs a target may be set for, in the dashboard's order.
fn kpis() -> impl Iterator<Item = Kpi> {
    Kpi::DASHBOARD
        .iter()
        .copied()
        .filter(|k| rules::targetable(*k))
}

fn view_query(f: &ViewForm, today: NaiveDate) -> SheetQuery {
    SheetQuery {
        kpi: f
            .kpi
            .as_deref()
            .and_then(|k| k.parse::<Kpi>().ok())
            .filter(|k| rules::targetable(*k))
            .unwrap_or(Kpi::FirstTimeFixRate),
        period_kind: f
            .period_kind
            .as_deref()
            .and_then(|k| k.parse::<PeriodKind>().ok())
            .unwrap_or(PeriodKind::Month),
        day: Some(f.day.unwrap_or(today)),
        as_of: None,
    }
}

fn link(kpi: Kpi, kind: PeriodKind, day: NaiveDate) -> String {
    format!(
        "/targets?kpi={}&period_kind={}&day={day}",
        kpi.as_str(),
        kind.as_str()
    )
}

/// `GET /targets`: the sheet of one KPI and period.
pub async fn page(State(s): State<AppState>, p: Page, Query(f): Query<ViewForm>) -> Response {
    let lang = p.actor.lang;
    let q = view_query(&f, s.app.today());
    let sheet = match uc::sheet(&s.app, &p.actor, &q).await {
        Ok(x) => x,
        Err(e) => return err(e),
    };
    let start = sheet.period_start;
    let months = match q.period_kind {
        PeriodKind::Month => 1,
        PeriodKind::Quarter => 3,
        PeriodKind::Year => 12,
    };
    render(&TargetsPage {
        kpis: kpis()
            .map(|k| (k.as_str().into(), k.label(lang).into(), k == q.kpi))
            .collect(),
        kinds: PeriodKind::ALL
            .iter()
            .map(|k| (k.as_str().into(), k.label(lang).into(), *k == q.period_kind))
            .collect(),
        day: start.to_string(),
        period: q.period_kind.period_label(start),
        prev: link(q.kpi, q.period_kind, def::add_months(start, -months)),
        next: link(q.kpi, q.period_kind, def::add_months(start, months)),
        sheet: partial(&sheet, p.t, None, None)
            .render()
            .unwrap_or_default(),
        c: p.chrome(),
    })
}

#[derive(Debug, Deserialize)]
pub struct SetForm {
    kpi: String,
    period_kind: String,
    period_start: NaiveDate,
    unit_id: Option<i64>,
    technician_id: Option<i64>,
    committed: String,
    stretch: String,
}

fn number(s: &str) -> Option<f64> {
    s.trim()
        .trim_start_matches(['¥', '￥'])
        .trim_end_matches('%')
        .replace(',', "")
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

/// `POST /targets` (htmx): sets one line's target and answers the sheet again, with what was
/// saved or why not.
pub async fn set(State(s): State<AppState>, p: Page, Form(f): Form<SetForm>) -> Response {
    let t = p.t;
    let Ok(kpi) = f.kpi.parse::<Kpi>() else {
        return err(shouhou_app::AppError::NotFound);
    };
    let kind = f
        .period_kind
        .parse::<PeriodKind>()
        .unwrap_or(PeriodKind::Month);
    let q = SheetQuery {
        kpi,
        period_kind: kind,
        day: Some(f.period_start),
        as_of: None,
    };
    let outcome = match (number(&f.committed), number(&f.stretch)) {
        (Some(c), Some(st)) => uc::set(
            &s.app,
            &p.actor,
            SetTarget {
                kpi,
                unit_id: f.unit_id,
                technician_id: f.technician_id,
                period_kind: kind,
                period_start: f.period_start,
                committed: from_display(kpi, c),
                stretch: from_display(kpi, st),
                effective_from: None,
            },
        )
        .await
        .map(|_| ())
        .map_err(|e| error_text(&e, p.actor.lang)),
        _ => Err(t.t("targets.enter_numbers")),
    };
    let sheet = match uc::sheet(&s.app, &p.actor, &q).await {
        Ok(x) => x,
        Err(e) => return err(e),
    };
    let (message, error) = match outcome {
        Ok(()) => (Some(t.t("targets.saved")), None),
        Err(e) => (None, Some(e)),
    };
    render(&partial(&sheet, t, message, error))
}

fn error_text(e: &shouhou_app::AppError, lang: Lang) -> String {
    e.message(lang)
}

/// The dashboard's part: on each KPI card of a month, quarter or year whose unit (or technician)
/// has a target, the status and the committed and stretch values.
pub async fn mark_cards(
    s: &AppState,
    p: &Page,
    q: &shouhou_app::kpi::Query,
    period: Option<shouhou_app::kpi::Period>,
    cards: &mut [super::kpi::Card],
    total: &shouhou_app::kpi::Row,
) {
    use shouhou_app::kpi::Period;
    let kind = match period {
        Some(Period::Month) => PeriodKind::Month,
        Some(Period::Quarter) => PeriodKind::Quarter,
        Some(Period::Year) => PeriodKind::Year,
        _ => return,
    };
    let subject = match (q.technician_id, p.actor.technician_id) {
        (Some(t), _) | (None, Some(t)) => uc::Subject::Technician(t),
        (None, None) => uc::Subject::Unit(q.unit_id.unwrap_or(p.actor.user.org_unit_id)),
    };
    let Ok(targets) = uc::targets_of(&s.app, &p.actor, subject, kind, q.from).await else {
        return;
    };
    let t = p.t;
    for c in cards.iter_mut() {
        let Ok(kpi) = c.key.parse::<Kpi>() else {
            continue;
        };
        let Some(g) = targets.iter().find(|g| g.kpi == c.key) else {
            continue;
        };
        let status = total
            .kpis
            .get(c.key)
            .and_then(|v| v.number())
            .map(|a| rules::status(kpi.direction(), a, g.committed, g.stretch));
        let (class, label) = badge(status, t);
        c.target = Some((
            class,
            label,
            t.t("targets.card")
                .replace("{committed}", &shown(kpi, g.committed, t))
                .replace("{stretch}", &shown(kpi, g.stretch, t)),
        ));
    }
}

/// One of a technician's targets as the phone shows it.
pub struct PhoneTarget {
    pub kpi: String,
    pub actual: String,
    pub class: &'static str,
    pub status: String,
    /// 确保 85.0% · 挑战 90.0%
    pub values: String,
}

/// The signed-in technician's targets of this month with where they stand (none for others).
pub async fn phone(s: &AppState, p: &Page) -> Vec<PhoneTarget> {
    let Some(me) = p.actor.technician_id else {
        return Vec::new();
    };
    let t = p.t;
    let today = s.app.today();
    let Ok(progress) = uc::progress(
        &s.app,
        &p.actor,
        uc::Subject::Technician(me),
        PeriodKind::Month,
        today,
    )
    .await
    else {
        return Vec::new();
    };
    progress
        .into_iter()
        .map(|g| {
            let (class, status) = badge(g.status, t);
            PhoneTarget {
                kpi: g.kpi.label(t.0).to_string(),
                actual: g
                    .actual
                    .map(|a| shown(g.kpi, a, t))
                    .unwrap_or_else(|| "—".into()),
                class,
                status,
                values: format!(
                    "{} {} · {} {}",
                    t.t("targets.committed"),
                    shown(g.kpi, g.committed, t),
                    t.t("targets.stretch"),
                    shown(g.kpi, g.stretch, t)
                ),
            }
        })
        .collect()
}
