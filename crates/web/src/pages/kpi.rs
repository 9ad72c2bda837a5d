//! The manager's dashboard (看板): every KPI of a period (today, this week, month, quarter, year
//! or chosen dates) with its numerator and denominator, the change against the period before and
//! a trend line; a table by store, technician or any other grouping with a bar chart; the weekly
//! p-chart of first-time fix and the technicians' funnel plot. Every figure links to the orders
//! behind it (`/kpis/{key}/orders`).

pub(crate) mod charts;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{Duration, NaiveDate};
use serde::Deserialize;
use shouhou_app::kpi::{self as uc, By, Period, Query as KpiQuery, Side, Table};
use shouhou_domain::kpi::{self as def, Direction, Kpi, Shape, Value};
use shouhou_domain::{Category, Lang, OrgKind, WorkOrderType};
use shouhou_store::repo::Page as Paging;

use super::{err, render, Chrome, Page};
use crate::extract::{Path, Query};
use crate::i18n::T;
use crate::AppState;

#[derive(Debug, Deserialize, Default)]
pub struct Form {
    pub(crate) period: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    pub(crate) by: Option<String>,
    unit_id: Option<i64>,
    technician_id: Option<i64>,
    category: Option<String>,
    brand: Option<String>,
    kind: Option<String>,
    /// The KPI the bar chart compares.
    chart: Option<String>,
}

/// One KPI card.
pub struct Card {
    pub key: &'static str,
    pub name: String,
    pub value: String,
    /// "n / d" with links to the orders, or the count of a duration.
    pub numerator: Option<(String, String)>,
    pub denominator: Option<(String, String)>,
    pub detail: String,
    pub change: String,
    /// `better`, `worse` or empty.
    pub change_class: &'static str,
    pub spark: String,
    pub provisional: bool,
    /// The denominator is a count of orders (durations): "n 单".
    pub count: bool,
    /// The period's target, if one is set: (badge class, status, committed/stretch).
    pub target: Option<(&'static str, String, String)>,
}

/// One row of the comparison table.
pub struct GroupRow {
    pub name: String,
    pub href: String,
    pub cells: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "kpi.html")]
struct Dashboard {
    c: Chrome,
    periods: Vec<(String, String, bool)>,
    from: String,
    to: String,
    range: String,
    units: Vec<(i64, String, bool)>,
    filters: String,
    cards: Vec<Card>,
    no_data: Vec<String>,
    bys: Vec<(String, String, bool)>,
    by_label: String,
    head: Vec<String>,
    groups: Vec<GroupRow>,
    charts: Vec<(String, String, bool)>,
    bar_chart: String,
    p_chart: String,
    funnel: String,
    /// Satisfaction by item against the period before.
    radar_csi: String,
    /// A technician's profile across KPIs against the team (when narrowed to a technician).
    radar_tech: String,
    /// The comparison table as Excel.
    export: String,
}

fn shown(k: Kpi, v: &Value, lang: Lang) -> String {
    let zh = lang == Lang::ZhCn;
    match (k.shape(), v) {
        (_, Value::NoData { .. }) => if zh { "暂无数据" } else { "no data yet" }.into(),
        (Shape::Ratio, Value::Rate(r)) => r
            .value
            .map(|v| format!("{:.1}", def::round_half_away(v, 1)))
            .unwrap_or_else(|| "—".into()),
        (_, Value::Rate(r)) => def::percent(r),
        (Shape::Duration(u), Value::Durations(d)) => match d.median {
            Some(m) => format!("{:.1} {}", def::round_half_away(m, 1), unit_word(u, lang)),
            None => "—".into(),
        },
        (_, Value::Money(m)) => format!("¥{}", shouhou_domain::money::yuan(m.fen)),
        _ => "—".into(),
    }
}

/// Seconds as hours with one decimal: "1,393.4 小时".
fn hours(seconds: i64, lang: Lang) -> String {
    format!(
        "{:.1} {}",
        def::round_half_away(seconds as f64 / 3600.0, 1),
        unit_word(def::DurationUnit::Hours, lang)
    )
}

fn unit_word(u: def::DurationUnit, lang: Lang) -> &'static str {
    match (u, lang) {
        (def::DurationUnit::Minutes, Lang::ZhCn) => "分钟",
        (def::DurationUnit::Minutes, Lang::En) => "min",
        (def::DurationUnit::Hours, Lang::ZhCn) => "小时",
        (def::DurationUnit::Hours, Lang::En) => "h",
    }
}

/// The change from `prev` to `now`: points for rates, units for durations and ratios, percent
/// for money; with whether it is an improvement.
fn change(k: Kpi, now: &Value, prev: &Value, lang: Lang) -> (String, &'static str) {
    let (Some(a), Some(b)) = (now.number(), prev.number()) else {
        return (String::new(), "");
    };
    let d = a - b;
    let better = match k.direction() {
        Direction::HigherIsBetter => d > 0.0,
        Direction::LowerIsBetter => d < 0.0,
    };
    let class = if d.abs() < 1e-9 {
        ""
    } else if better {
        "better"
    } else {
        "worse"
    };
    let arrow = if d > 0.0 {
        "▲"
    } else if d < 0.0 {
        "▼"
    } else {
        "="
    };
    let text = match k.shape() {
        Shape::Rate => format!(
            "{arrow} {:.1} {}",
            def::round_half_away(d.abs() * 100.0, 1),
            if lang == Lang::ZhCn {
                "个百分点"
            } else {
                "pt"
            }
        ),
        Shape::Duration(u) => format!(
            "{arrow} {:.1} {}",
            def::round_half_away(d.abs(), 1),
            unit_word(u, lang)
        ),
        Shape::Ratio => format!("{arrow} {:.1}", def::round_half_away(d.abs(), 1)),
        Shape::Money => {
            if b.abs() < 1e-9 {
                return (String::new(), "");
            }
            format!(
                "{arrow} {:.1}%",
                def::round_half_away(d.abs() / b.abs() * 100.0, 1)
            )
        }
    };
    (text, class)
}

/// The filter part of a link (`&unit_id=…&category=…`), always starting with `&` when not empty.
pub(crate) fn filter_args(q: &KpiQuery) -> String {
    let mut s = String::new();
    if let Some(u) = q.unit_id {
        s.push_str(&format!("&unit_id={u}"));
    }
    if let Some(t) = q.technician_id {
        s.push_str(&format!("&technician_id={t}"));
    }
    if let Some(c) = q.category {
        s.push_str(&format!("&category={}", c.as_str()));
    }
    if let Some(b) = &q.brand {
        s.push_str(&format!("&brand={}", urlencoding(b)));
    }
    if let Some(k) = q.kind {
        s.push_str(&format!("&kind={}", k.as_str()));
    }
    s
}

fn urlencoding(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn orders_link(k: Kpi, side: &str, q: &KpiQuery) -> String {
    format!(
        "/kpis/{}/orders?side={side}&from={}&to={}{}",
        k.as_str(),
        q.from,
        q.to,
        filter_args(q)
    )
}

/// The link that narrows the dashboard to one group of a table row.
fn narrow(q: &KpiQuery, by: By, g: &uc::GroupInfo) -> Option<KpiQuery> {
    let mut n = q.clone();
    n.by = By::All;
    match by {
        By::Store | By::Region => n.unit_id = Some(g.id?),
        By::Technician => n.technician_id = Some(g.id?),
        By::Category => n.category = g.key.as_deref()?.parse::<Category>().ok(),
        By::Brand => n.brand = g.key.clone(),
        By::Kind => n.kind = g.key.as_deref()?.parse::<WorkOrderType>().ok(),
        By::Day | By::Week | By::Month => {
            let from: NaiveDate = g.key.as_deref()?.parse().ok()?;
            let to = match by {
                By::Day => from,
                By::Week => from + Duration::days(6),
                _ => def::add_months(from, 1) - Duration::days(1),
            };
            n.from = from.max(q.from);
            n.to = to.min(q.to);
        }
        _ => return None,
    }
    Some(n)
}

/// The KPI's numerator and denominator are one set of records (or its denominator is none:
/// technician-days, shift hours), so its records have no second side.
fn one_set(k: Kpi) -> bool {
    k.sets().is_some_and(|(num, den)| num == den)
}

fn card(
    k: Kpi,
    now: &Value,
    prev: &Value,
    spark: &[Option<f64>],
    q: &KpiQuery,
    t: T,
    provisional: bool,
) -> Card {
    let lang = t.0;
    let (numerator, denominator, detail) = match now {
        // Seconds on site and of shifts read as hours.
        // The shifts' hours are no records: the denominator links nowhere.
        Value::Rate(r) if k == Kpi::EffectiveOnsiteShare => (
            Some((hours(r.numerator, lang), orders_link(k, "numerator", q))),
            Some((hours(r.denominator, lang), String::new())),
            String::new(),
        ),
        // Σ thirds ÷ 3·answers: the card names the answers, the CSI page the items.
        Value::Rate(r) if k == Kpi::CsiByItem => (
            None,
            Some((
                format!(
                    "{} {}",
                    r.denominator / 3,
                    if lang == Lang::ZhCn {
                        "条答复"
                    } else {
                        "answers"
                    }
                ),
                format!("/csi?from={}&to={}{}", q.from, q.to, filter_args(q)),
            )),
            String::new(),
        ),
        Value::Rate(r) => (
            Some((r.numerator.to_string(), orders_link(k, "numerator", q))),
            Some((
                r.denominator.to_string(),
                // Technician-days are no records either.
                match one_set(k) {
                    true => String::new(),
                    false => orders_link(k, "denominator", q),
                },
            )),
            String::new(),
        ),
        Value::Durations(d) => (
            None,
            Some((d.n.to_string(), orders_link(k, "denominator", q))),
            match (d.p90, k.shape()) {
                (Some(p), Shape::Duration(u)) => {
                    format!(
                        "p90 {:.1} {}",
                        def::round_half_away(p, 1),
                        unit_word(u, lang)
                    )
                }
                _ => String::new(),
            },
        ),
        Value::Money(_) => (
            None,
            Some((t.t("kpi.orders_behind"), orders_link(k, "numerator", q))),
            String::new(),
        ),
        Value::NoData { .. } => (None, None, String::new()),
    };
    let (change, change_class) = change(k, now, prev, lang);
    Card {
        key: k.as_str(),
        name: k.label(lang).to_string(),
        value: shown(k, now, lang),
        numerator,
        denominator,
        detail,
        change,
        change_class,
        spark: charts::sparkline(spark, 120.0, 28.0),
        provisional: provisional && k == Kpi::RepeatRepairRate,
        count: matches!(now, Value::Durations(_)),
        target: None,
    }
}

fn total(t: &Table) -> Option<&uc::Row> {
    t.rows.first()
}

/// The columns of the comparison table.
const COLUMNS: &[Kpi] = &[
    Kpi::FirstTimeFixRate,
    Kpi::ArrivalCompliance,
    Kpi::RepairCycleHours,
    Kpi::RepeatRepairRate,
    Kpi::SatisfactionRate,
    Kpi::ComplaintRate,
    Kpi::CallsPerTechnicianDay,
    Kpi::ResponseTimeMinutes,
    Kpi::ServiceRevenue,
];

pub(crate) fn query_of(f: &Form, today: NaiveDate) -> (KpiQuery, Option<Period>) {
    let period = f.period.as_deref().and_then(Period::parse);
    let (period, (from, to)) = match (f.from, f.to, period) {
        (Some(a), Some(b), None) => (None, (a, b)),
        (_, _, p) => {
            let p = p.unwrap_or(Period::Month);
            (Some(p), p.range(today))
        }
    };
    let mut q = KpiQuery::new(from, to, By::All);
    q.unit_id = f.unit_id;
    q.technician_id = f.technician_id;
    q.category = f.category.as_deref().and_then(|c| c.parse().ok());
    q.brand = f.brand.clone().filter(|b| !b.is_empty());
    q.kind = f.kind.as_deref().and_then(|c| c.parse().ok());
    (q, period)
}

pub async fn dashboard(State(s): State<AppState>, p: Page, Query(f): Query<Form>) -> Response {
    let lang = p.actor.lang;
    let today = s.app.today();
    let (q, period) = query_of(&f, today);
    let by =
        f.by.as_deref()
            .and_then(By::parse)
            .filter(|b| *b != By::All)
            .unwrap_or(if p.actor.vis.technician_id.is_some() {
                By::Week
            } else {
                By::Store
            });
    let chart_kpi = f
        .chart
        .as_deref()
        .and_then(|c| c.parse::<Kpi>().ok())
        .filter(|k| COLUMNS.contains(k))
        .unwrap_or(Kpi::FirstTimeFixRate);
    let prev_q = q.previous();
    // The tables, the units and the satisfaction radar side by side.
    let (result, radar_csi) = tokio::join!(
        async {
            tokio::try_join!(uc::dashboard(&s.app, &p.actor, &q, period, by), async {
                s.app.units.units(&s.app.db).await
            },)
        },
        csi_radar(&s, &p, &q, &prev_q),
    );
    let (
        uc::Dashboard {
            now,
            prev,
            trend,
            groups,
            weeks,
            technicians: techs,
        },
        units,
    ) = match result {
        Ok(r) => r,
        Err(e) => return err(e),
    };

    let empty = uc::Row {
        group: uc::GroupInfo {
            by: "all",
            id: None,
            key: None,
            name: String::new(),
        },
        kpis: Default::default(),
        provisional: false,
        sums: Default::default(),
    };
    let total_now = total(&now).unwrap_or(&empty);
    let total_prev = total(&prev).unwrap_or(&empty);
    let nodata = Value::NoData { no_data: true };
    let mut cards = Vec::new();
    let mut no_data = Vec::new();
    for k in Kpi::DASHBOARD {
        if !k.available() {
            no_data.push(k.label(lang).to_string());
            continue;
        }
        let v = total_now.kpis.get(k.as_str()).unwrap_or(&nodata);
        let pv = total_prev.kpis.get(k.as_str()).unwrap_or(&nodata);
        let spark: Vec<Option<f64>> = trend
            .rows
            .iter()
            .map(|r| r.kpis.get(k.as_str()).and_then(Value::number))
            .collect();
        cards.push(card(*k, v, pv, &spark, &q, p.t, total_now.provisional));
    }
    super::targets::mark_cards(&s, &p, &q, period, &mut cards, total_now).await;

    let head: Vec<String> = COLUMNS.iter().map(|k| k.label(lang).to_string()).collect();
    let group_rows: Vec<GroupRow> = groups
        .rows
        .iter()
        .map(|r| {
            let nq = narrow(&q, by, &r.group);
            let cells = COLUMNS
                .iter()
                .map(|k| {
                    let v = r.kpis.get(k.as_str()).unwrap_or(&nodata);
                    let mut lq = nq.clone().unwrap_or_else(|| q.clone());
                    lq.by = By::All;
                    (shown(*k, v, lang), orders_link(*k, "denominator", &lq))
                })
                .collect();
            GroupRow {
                name: r.group.name.clone(),
                href: nq
                    .map(|n| dashboard_link(&n, period, by))
                    .unwrap_or_default(),
                cells,
            }
        })
        .collect();
    let bar_items: Vec<(String, Option<f64>, String, String)> = groups
        .rows
        .iter()
        .map(|r| {
            let v = r.kpis.get(chart_kpi.as_str()).unwrap_or(&nodata);
            let mut lq = narrow(&q, by, &r.group).unwrap_or_else(|| q.clone());
            lq.by = By::All;
            (
                r.group.name.clone(),
                v.number(),
                shown(chart_kpi, v, lang),
                orders_link(chart_kpi, "denominator", &lq),
            )
        })
        .collect();
    let bar_max = match chart_kpi.shape() {
        Shape::Rate => 1.0,
        _ => bar_items.iter().filter_map(|b| b.1).fold(0.0, f64::max),
    };
    let zh = lang == Lang::ZhCn;
    let bar_chart = if bar_items.is_empty() {
        String::new()
    } else {
        charts::bars(
            &bar_items,
            bar_max,
            &format!("{} · {}", chart_kpi.label(lang), by.label(lang)),
        )
    };

    // p-chart of first-time fix by week.
    let wk: Vec<(i64, i64)> = weeks
        .rows
        .iter()
        .map(|r| match r.kpis.get(Kpi::FirstTimeFixRate.as_str()) {
            Some(Value::Rate(x)) => (x.numerator, x.denominator),
            _ => (0, 0),
        })
        .collect();
    let (pbar, pts) = def::p_chart(&wk);
    let labels: Vec<String> = weeks.rows.iter().map(|r| r.group.name.clone()).collect();
    let values: Vec<Option<f64>> = pts.iter().map(|p| p.p).collect();
    let band: Vec<(Option<f64>, Option<f64>)> = pts.iter().map(|p| (p.lower, p.upper)).collect();
    let p_chart = if wk.iter().all(|w| w.1 == 0) {
        String::new()
    } else {
        charts::line(&charts::Line {
            title: if zh {
                "一次修复率 p 控制图（按周，控制限随每周单量变化）"
            } else {
                "First-time fix p-chart by week (limits vary with each week's count)"
            },
            labels: &labels,
            values: &values,
            band: Some(&band),
            centre: pbar,
            legend: &[
                (
                    "series",
                    if zh {
                        "每周一次修复率"
                    } else {
                        "weekly rate"
                    },
                ),
                (
                    "centre",
                    if zh {
                        "中心线 p̄"
                    } else {
                        "centre line p̄"
                    },
                ),
                (
                    "limit",
                    if zh {
                        "±3σ 控制限"
                    } else {
                        "±3σ limits"
                    },
                ),
            ],
        })
    };

    // Funnel plot of technicians' first-time fix against their counts.
    let fpoints: Vec<(String, i64, f64, String)> = techs
        .rows
        .iter()
        .filter_map(
            |r| match (r.group.id, r.kpis.get(Kpi::FirstTimeFixRate.as_str())) {
                (Some(id), Some(Value::Rate(x))) if x.denominator > 0 => {
                    let mut lq = q.clone();
                    lq.technician_id = Some(id);
                    Some((
                        r.group.name.clone(),
                        x.denominator,
                        x.value.unwrap_or(0.0),
                        orders_link(Kpi::FirstTimeFixRate, "denominator", &lq),
                    ))
                }
                _ => None,
            },
        )
        .collect();
    let (sn, sd) = fpoints
        .iter()
        .fold((0.0, 0i64), |(a, b), p| (a + p.2 * p.1 as f64, b + p.1));
    let funnel = if fpoints.len() < 2 || sd == 0 {
        String::new()
    } else {
        let centre = sn / sd as f64;
        charts::funnel(
            if zh {
                "技术员一次修复率漏斗图（单量越少，允许偏差越大）"
            } else {
                "Technicians' first-time fix funnel plot (fewer calls, wider limits)"
            },
            if zh {
                "计入的维修单数"
            } else {
                "repairs counted"
            },
            &fpoints,
            centre,
            &|n| def::funnel_limits(centre, n),
            &[
                ("centre", if zh { "整体水平" } else { "group rate" }),
                ("limit95", if zh { "95% 限" } else { "95% limits" }),
                ("limit", if zh { "99.8% 限" } else { "99.8% limits" }),
            ],
        )
    };

    let radar_tech = match q.technician_id {
        Some(_) => {
            let mut team_q = q.clone();
            team_q.technician_id = None;
            match uc::table(&s.app, &p.actor, &team_q).await {
                Ok(team) => {
                    let name = q
                        .technician_id
                        .and_then(|t| techs.rows.iter().find(|r| r.group.id == Some(t)))
                        .map(|r| r.group.name.clone())
                        .unwrap_or_default();
                    technician_radar(&name, total_now, total(&team).unwrap_or(&empty), lang)
                }
                Err(_) => String::new(),
            }
        }
        None => String::new(),
    };

    let visible_units: Vec<(i64, String, bool)> = units
        .iter()
        .filter(|u| p.actor.sees_unit(u.id) && u.kind != OrgKind::Partner)
        .map(|u| (u.id, u.name.clone(), q.unit_id == Some(u.id)))
        .collect();
    let periods = Period::ALL
        .iter()
        .map(|pp| {
            (
                format!(
                    "/kpis?period={}{}&by={}",
                    pp.as_str(),
                    filter_args(&q),
                    by.as_str()
                ),
                pp.label(lang).to_string(),
                period == Some(*pp),
            )
        })
        .collect();
    let base = format!("/kpis?from={}&to={}{}", q.from, q.to, filter_args(&q));
    let bys = [
        By::Store,
        By::Region,
        By::Technician,
        By::Category,
        By::Brand,
        By::Kind,
        By::Warranty,
        By::Tier,
        By::Channel,
        By::Month,
        By::Week,
    ]
    .iter()
    .map(|b| {
        (
            format!("{base}&by={}&chart={}", b.as_str(), chart_kpi.as_str()),
            b.label(lang).to_string(),
            *b == by,
        )
    })
    .collect();
    let chart_links = COLUMNS
        .iter()
        .map(|k| {
            (
                format!("{base}&by={}&chart={}", by.as_str(), k.as_str()),
                k.label(lang).to_string(),
                *k == chart_kpi,
            )
        })
        .collect();
    let mut filters = Vec::new();
    if let Some(t) = q.technician_id {
        if let Some(r) = techs.rows.iter().find(|r| r.group.id == Some(t)) {
            filters.push(r.group.name.clone());
        }
    }
    if let Some(c) = q.category {
        filters.push(c.label(lang).to_string());
    }
    if let Some(b) = &q.brand {
        filters.push(b.clone());
    }
    if let Some(k) = q.kind {
        filters.push(k.label(lang).to_string());
    }
    render(&Dashboard {
        c: p.chrome(),
        periods,
        from: q.from.to_string(),
        to: q.to.to_string(),
        range: if q.from == q.to {
            q.from.to_string()
        } else {
            format!("{} – {}", q.from, q.to)
        },
        units: visible_units,
        filters: filters.join(" · "),
        cards,
        no_data,
        bys,
        by_label: by.label(lang).to_string(),
        head,
        groups: group_rows,
        charts: chart_links,
        bar_chart,
        p_chart,
        funnel,
        radar_csi,
        radar_tech,
        export: format!(
            "/kpis/export.xlsx?from={}&to={}{}&by={}",
            q.from,
            q.to,
            filter_args(&q),
            by.as_str()
        ),
    })
}

/// The radar of satisfaction by item, this period against the one before (empty where the
/// user may not read CSI or nobody answered).
async fn csi_radar(s: &AppState, p: &Page, q: &KpiQuery, prev_q: &KpiQuery) -> String {
    let lang = p.actor.lang;
    let (Ok(now), Ok(prev)) = tokio::join!(
        shouhou_app::csi::table(&s.app, &p.actor, q),
        shouhou_app::csi::table(&s.app, &p.actor, prev_q),
    ) else {
        return String::new();
    };
    let Some(items) = now.rows.first().map(|r| &r.items) else {
        return String::new();
    };
    let before = |item: &str| {
        prev.rows
            .first()
            .and_then(|r| r.items.iter().find(|i| i.item == item))
            .and_then(|i| i.csi)
            .map(|v| v / 100.0)
    };
    let zh = lang == Lang::ZhCn;
    let axes: Vec<String> = items
        .iter()
        .map(|i| shouhou_app::csi::item_label(&i.item, lang))
        .collect();
    charts::radar(
        if zh {
            "分项满意度（满分 100）"
        } else {
            "Satisfaction by item (out of 100)"
        },
        &axes,
        &[
            (
                if zh { "本期" } else { "This period" }.to_string(),
                "now",
                items.iter().map(|i| i.csi.map(|v| v / 100.0)).collect(),
            ),
            (
                if zh { "上期" } else { "Previous period" }.to_string(),
                "before",
                items.iter().map(|i| before(&i.item)).collect(),
            ),
        ],
    )
}

/// A technician's profile: first-time fix, arrival on time, satisfaction, CSI, repairs not
/// repeated and on-site share (each 0–100 %), against the team's.
fn technician_radar(name: &str, tech: &uc::Row, team: &uc::Row, lang: Lang) -> String {
    let zh = lang == Lang::ZhCn;
    let rate = |r: &uc::Row, k: Kpi| match r.kpis.get(k.as_str()) {
        Some(Value::Rate(x)) => x.value,
        _ => None,
    };
    let axes_kpis = [
        Kpi::FirstTimeFixRate,
        Kpi::ArrivalCompliance,
        Kpi::SatisfactionRate,
        Kpi::CsiByItem,
        Kpi::RepeatRepairRate,
        Kpi::EffectiveOnsiteShare,
    ];
    let values = |r: &uc::Row| -> Vec<Option<f64>> {
        axes_kpis
            .iter()
            .map(|k| {
                let v = rate(r, *k);
                if *k == Kpi::RepeatRepairRate {
                    v.map(|x| 1.0 - x)
                } else {
                    v
                }
            })
            .collect()
    };
    let axes: Vec<String> = axes_kpis
        .iter()
        .map(|k| {
            if *k == Kpi::RepeatRepairRate {
                if zh {
                    "无重复维修"
                } else {
                    "Not repeated"
                }
                .to_string()
            } else {
                k.label(lang).to_string()
            }
        })
        .collect();
    charts::radar(
        &format!(
            "{name} · {}",
            if zh {
                "技术员画像（与团队相比）"
            } else {
                "technician profile against the team"
            }
        ),
        &axes,
        &[
            (
                if zh { "技术员" } else { "Technician" }.to_string(),
                "now",
                values(tech),
            ),
            (
                if zh { "团队" } else { "Team" }.to_string(),
                "team",
                values(team),
            ),
        ],
    )
}

fn dashboard_link(q: &KpiQuery, period: Option<Period>, by: By) -> String {
    let next_by = match by {
        By::Store | By::Region => By::Technician,
        _ => By::Store,
    };
    match period {
        Some(p)
            if matches!(
                by,
                By::Store | By::Region | By::Technician | By::Category | By::Brand | By::Kind
            ) =>
        {
            format!(
                "/kpis?period={}{}&by={}",
                p.as_str(),
                filter_args(q),
                next_by.as_str()
            )
        }
        _ => format!(
            "/kpis?from={}&to={}{}&by={}",
            q.from,
            q.to,
            filter_args(q),
            next_by.as_str()
        ),
    }
}

// ------------------------------------------------------------------------- orders behind

#[derive(Debug, Deserialize, Default)]
pub struct OrdersForm {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    side: Option<String>,
    unit_id: Option<i64>,
    technician_id: Option<i64>,
    category: Option<String>,
    brand: Option<String>,
    kind: Option<String>,
    offset: Option<i64>,
}

pub struct OrderRow {
    pub id: i64,
    pub number: String,
    pub day: String,
    pub customer: String,
    pub kind: String,
    pub status: String,
    pub technician: String,
    pub measure: String,
}

#[derive(Template)]
#[template(path = "kpi_orders.html")]
struct OrdersPage {
    c: Chrome,
    heading: String,
    explain: String,
    other: (String, String),
    back: String,
    rows: Vec<OrderRow>,
    measure: String,
    prev: Option<String>,
    next: Option<String>,
}

const PAGE: i64 = 50;

pub async fn orders(
    State(s): State<AppState>,
    p: Page,
    Path(key): Path<String>,
    Query(f): Query<OrdersForm>,
) -> Response {
    let lang = p.actor.lang;
    let zh = lang == Lang::ZhCn;
    let Ok(k) = key.parse::<Kpi>() else {
        return super::not_found(lang);
    };
    let today = s.app.today();
    let (from, to) = match (f.from, f.to) {
        (Some(a), Some(b)) => (a, b),
        _ => Period::Month.range(today),
    };
    let mut q = KpiQuery::new(from, to, By::All);
    q.unit_id = f.unit_id;
    q.technician_id = f.technician_id;
    q.category = f.category.as_deref().and_then(|c| c.parse().ok());
    q.brand = f.brand.clone().filter(|b| !b.is_empty());
    q.kind = f.kind.as_deref().and_then(|c| c.parse().ok());
    let is_duration = matches!(k.shape(), Shape::Duration(_));
    let side = match f.side.as_deref() {
        Some("numerator") => Side::Numerator,
        _ if one_set(k) && !is_duration => Side::Numerator,
        _ => Side::Denominator,
    };
    let offset = f.offset.unwrap_or(0).max(0);
    let page = Paging {
        limit: PAGE,
        offset,
    };
    let found = match uc::orders(&s.app, &p.actor, k, side, &q, page).await {
        Ok(x) => x,
        Err(e) => return err(e),
    };
    let rows = found
        .items
        .iter()
        .map(|o| OrderRow {
            id: o.id,
            number: o.number.clone(),
            day: o.day.to_string(),
            customer: o.customer_name.clone(),
            kind: o
                .kind
                .parse::<WorkOrderType>()
                .map(|x| x.label(lang).to_string())
                .unwrap_or_else(|_| o.kind.clone()),
            status: o
                .status
                .parse::<shouhou_domain::Status>()
                .map(|x| x.label(lang).to_string())
                .unwrap_or_else(|_| o.status.clone()),
            technician: o.technician_name.clone().unwrap_or_else(|| "—".into()),
            measure: match (o.seconds, k.shape()) {
                (Some(sec), Shape::Duration(u)) => format!(
                    "{:.1} {}",
                    def::round_half_away(sec as f64 / u.seconds(), 1),
                    unit_word(u, lang)
                ),
                _ => String::new(),
            },
        })
        .collect();
    let side_word = |s: Side| match (s, zh) {
        (Side::Numerator, true) => "分子",
        (Side::Numerator, false) => "numerator",
        (Side::Denominator, true) => "分母",
        (Side::Denominator, false) => "denominator",
    };
    let heading = if is_duration {
        format!(
            "{} · {}",
            k.label(lang),
            if zh {
                "计入的工单"
            } else {
                "orders measured"
            }
        )
    } else {
        format!("{} · {}", k.label(lang), side_word(side))
    };
    // What a row is: an order, or one of its visits or complaints (the figure counts those).
    let basis = k.sets().map(|(num, den)| match side {
        Side::Numerator => num.basis(),
        Side::Denominator => den.basis(),
    });
    let rows_word = match (basis, zh) {
        (Some(def::Basis::VisitArrived), true) => "次上门",
        (Some(def::Basis::VisitArrived), false) => "visits",
        (Some(def::Basis::ComplaintCreated | def::Basis::ComplaintDue), true) => "件投诉",
        (Some(def::Basis::ComplaintCreated | def::Basis::ComplaintDue), false) => "complaints",
        (_, true) => "张工单",
        (_, false) => "work orders",
    };
    let explain = format!(
        "{} {} – {} · {} {}",
        if zh { "期间" } else { "Period" },
        from,
        to,
        found.total_text(),
        rows_word
    );
    let other_side = match side {
        Side::Numerator => Side::Denominator,
        Side::Denominator => Side::Numerator,
    };
    let base = format!(
        "/kpis/{}/orders?from={from}&to={to}{}",
        k.as_str(),
        filter_args(&q)
    );
    let other = if is_duration || one_set(k) {
        (String::new(), String::new())
    } else {
        (
            format!(
                "{base}&side={}",
                if other_side == Side::Numerator {
                    "numerator"
                } else {
                    "denominator"
                }
            ),
            format!(
                "{} {}",
                if zh { "查看" } else { "See the" },
                side_word(other_side)
            ),
        )
    };
    let this = format!(
        "{base}&side={}",
        if side == Side::Numerator {
            "numerator"
        } else {
            "denominator"
        }
    );
    render(&OrdersPage {
        c: p.chrome(),
        heading,
        explain,
        other,
        back: format!("/kpis?from={from}&to={to}{}", filter_args(&q)),
        rows,
        measure: if is_duration {
            measure_heading(k, lang)
        } else {
            String::new()
        },
        prev: (offset > 0).then(|| format!("{this}&offset={}", (offset - PAGE).max(0))),
        next: found
            .has_more()
            .then(|| format!("{this}&offset={}", offset + PAGE)),
    })
}

fn measure_heading(k: Kpi, lang: Lang) -> String {
    match k.shape() {
        Shape::Duration(u) => format!("{}（{}）", k.label(lang), unit_word(u, lang)),
        _ => String::new(),
    }
}

// ----------------------------------------------------------------------------------- export

/// The dashboard's table as an Excel workbook: the total and one row per group, each KPI with
/// its value and what it is made of (numerator and denominator, or count, median and p90), headers
/// in the reader's language. The same numbers as the page: rates are the exact fractions shown
/// with one decimal.
pub async fn export(State(s): State<AppState>, p: Page, Query(f): Query<Form>) -> Response {
    use rust_xlsxwriter::{Format, Workbook};
    let lang = p.actor.lang;
    let zh = lang == Lang::ZhCn;
    let (q, _) = query_of(&f, s.app.today());
    let by = f.by.as_deref().and_then(By::parse).unwrap_or(By::Store);
    let mut gq = q.clone();
    gq.by = by;
    let tables = async {
        let total = uc::table(&s.app, &p.actor, &q).await?;
        let groups = if by == By::All {
            None
        } else {
            Some(uc::table(&s.app, &p.actor, &gq).await?)
        };
        Ok::<_, shouhou_app::AppError>((total, groups))
    }
    .await;
    let (total, groups) = match tables {
        Ok(t) => t,
        Err(e) => return err(e),
    };
    let kpis: Vec<Kpi> = Kpi::DASHBOARD
        .iter()
        .copied()
        .filter(|k| k.available())
        .collect();
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0.0%");
    let one = Format::new().set_num_format("0.0");
    let yuan = Format::new().set_num_format("#,##0.00");
    let sheet = book.add_worksheet();
    let written = (|| -> Result<(), rust_xlsxwriter::XlsxError> {
        sheet.set_name(if zh { "服务看板" } else { "KPIs" })?;
        sheet.write_string_with_format(
            0,
            0,
            format!(
                "{} {} – {}",
                if zh { "期间" } else { "Period" },
                q.from,
                q.to
            ),
            &bold,
        )?;
        // Two header rows: the KPI, then its parts.
        let (h1, h2) = (2u32, 3u32);
        sheet.write_string_with_format(h1, 0, by.label(lang), &bold)?;
        let mut col = 1u16;
        let mut layout = Vec::new();
        for k in &kpis {
            let parts: Vec<&str> = match k.shape() {
                Shape::Duration(_) => {
                    if zh {
                        vec!["中位数", "P90", "单数"]
                    } else {
                        vec!["median", "p90", "count"]
                    }
                }
                Shape::Money => vec![if zh { "元" } else { "yuan" }],
                _ => {
                    if zh {
                        vec!["值", "分子", "分母"]
                    } else {
                        vec!["value", "numerator", "denominator"]
                    }
                }
            };
            let name = match k.shape() {
                Shape::Duration(u) => format!("{}（{}）", k.label(lang), unit_word(u, lang)),
                _ => k.label(lang).to_string(),
            };
            sheet.write_string_with_format(h1, col, name, &bold)?;
            for (i, part) in parts.iter().enumerate() {
                sheet.write_string(h2, col + i as u16, *part)?;
            }
            layout.push((*k, col));
            col += parts.len() as u16;
        }
        let rows = total
            .rows
            .iter()
            .chain(groups.iter().flat_map(|g| g.rows.iter()));
        for (i, r) in rows.enumerate() {
            let row = h2 + 1 + i as u32;
            sheet.write_string(row, 0, &r.group.name)?;
            for (k, c) in &layout {
                match r.kpis.get(k.as_str()) {
                    Some(Value::Rate(x)) => {
                        if let Some(v) = x.value {
                            let f = if k.shape() == Shape::Ratio {
                                &one
                            } else {
                                &pct
                            };
                            sheet.write_number_with_format(row, *c, v, f)?;
                        }
                        sheet.write_number(row, c + 1, x.numerator as f64)?;
                        sheet.write_number(row, c + 2, x.denominator as f64)?;
                    }
                    Some(Value::Durations(d)) => {
                        if let Some(m) = d.median {
                            sheet.write_number_with_format(row, *c, m, &one)?;
                        }
                        if let Some(p90) = d.p90 {
                            sheet.write_number_with_format(row, c + 1, p90, &one)?;
                        }
                        sheet.write_number(row, c + 2, d.n as f64)?;
                    }
                    Some(Value::Money(m)) => {
                        sheet.write_number_with_format(row, *c, m.fen as f64 / 100.0, &yuan)?;
                    }
                    _ => {}
                }
            }
        }
        sheet.set_column_width(0, 18)?;
        Ok(())
    })();
    super::xlsx(
        written.and_then(|_| book.save_to_buffer()),
        &format!("kpis-{}-{}-{}.xlsx", q.from, q.to, by.as_str()),
    )
}
