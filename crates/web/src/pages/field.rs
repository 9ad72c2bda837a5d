//! The technician's phone: the day in route order and the visit page (lifecycle buttons, report,
//! parts, charges, photos, signature, outcome, sales leads); and the printable service report.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use shouhou_app::service::{self, ServiceReport};

use shouhou_domain::money::yuan;
use shouhou_domain::{Lang, OpportunityKind, Status, VisitOutcome};
use shouhou_store::records::WorkOrder;
use shouhou_store::repo::Page as Paging;
use shouhou_store::service as store;
use shouhou_store::work_orders::{self as orders, Filter, Sort};

use super::{err, render, Chrome, Page};
use crate::extract::Path;
use crate::AppState;

pub struct StopRow {
    id: i64,
    seq: usize,
    number: String,
    status: String,
    kind: String,
    device: String,
    customer: String,
    address: String,
    phone: String,
    geo: String,
    window: String,
    arrive_by: String,
    resolve_by: String,
    overdue: bool,
    /// Booked for a later day.
    later: bool,
}

#[derive(Template)]
#[template(path = "tech_day.html")]
struct Day {
    c: Chrome,
    day: String,
    stops: Vec<StopRow>,
    /// (order id, number, the manager's comment) of reports returned for correction.
    returned: Vec<(i64, String, String)>,
}

fn window(p: &Page, s: &AppState, a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> String {
    match (a, b) {
        (Some(a), Some(b)) => format!("{} – {}", p.time(s, a), short(s, b)),
        (Some(a), None) => p.time(s, a),
        _ => p.t.t("field.no_window"),
    }
}

fn short(s: &AppState, t: DateTime<Utc>) -> String {
    t.with_timezone(&s.app.settings.time_zone)
        .format("%H:%M")
        .to_string()
}

/// `geo:` link for the phone's map app, with the address as the label.
fn geo(lat: Option<f64>, lng: Option<f64>, address: &str) -> String {
    match (lat, lng) {
        (Some(a), Some(b)) => format!(
            "geo:{a:.6},{b:.6}?q={a:.6},{b:.6}({})",
            address.replace(['(', ')'], " ")
        ),
        _ => String::new(),
    }
}

const OPEN_FIELD: &[Status] = &[
    Status::Assigned,
    Status::Accepted,
    Status::EnRoute,
    Status::OnSite,
];

/// `GET /tech`: the technician's open orders in route order (the committed plan's sequence, then
/// the appointment, then the arrive-by deadline).
pub async fn day(State(s): State<AppState>, p: Page) -> Response {
    let f = Filter {
        status: OPEN_FIELD.iter().map(|x| x.as_str().to_string()).collect(),
        technician_id: p.actor.technician_id,
        sort: Sort::Planned,
        ..Default::default()
    };
    let list = match orders::list(
        &s.app.db,
        &p.actor.vis,
        &f,
        Paging {
            limit: 100,
            offset: 0,
        },
    )
    .await
    {
        Ok(v) => v.items,
        Err(e) => return err(e.into()),
    };
    let ids: Vec<i64> = list.iter().map(|w| w.id).collect();
    let stops = store::stops(&s.app.db, &ids).await.unwrap_or_default();
    let now = s.app.now();
    let lang = p.actor.lang;
    // Today: what is under way, what has no appointment, what is booked (or planned) before
    // tomorrow; the rest is listed below as later appointments.
    let tomorrow = s.app.day_start(s.app.today() + chrono::Duration::days(1));
    let is_today = |w: &WorkOrder| {
        matches!(w.status, Status::EnRoute | Status::OnSite)
            || w.planned_arrival.is_some_and(|t| t < tomorrow)
            || w.appointment_start.is_none_or(|t| t < tomorrow)
    };
    let (today, later): (Vec<&WorkOrder>, Vec<&WorkOrder>) = list.iter().partition(|w| is_today(w));
    let rows = today
        .into_iter()
        .chain(later.iter().copied())
        .enumerate()
        .map(|(i, w)| {
            let st = stops.iter().find(|x| x.id == w.id);
            let address = st.and_then(|x| x.address.clone()).unwrap_or_default();
            StopRow {
                id: w.id,
                seq: i + 1,
                number: w.number.clone(),
                status: w.status.label(lang).to_string(),
                kind: w.kind.label(lang).to_string(),
                device: st.and_then(|x| x.device.clone()).unwrap_or_default(),
                customer: st.map(|x| x.customer.clone()).unwrap_or_default(),
                phone: st.and_then(|x| x.phone.clone()).unwrap_or_default(),
                geo: geo(st.and_then(|x| x.lat), st.and_then(|x| x.lng), &address),
                address,
                window: window(&p, &s, w.appointment_start, w.appointment_end),
                arrive_by: p.time(&s, w.arrive_by),
                resolve_by: p.time(&s, w.resolve_by),
                overdue: w.arrive_by < now
                    && matches!(
                        w.status,
                        Status::Assigned | Status::Accepted | Status::EnRoute
                    )
                    || w.resolve_by < now,
                later: !is_today(w),
            }
        })
        .collect();
    render(&Day {
        day: s.app.today().to_string(),
        stops: rows,
        returned: returned(&s, &p).await,
        c: p.chrome(),
    })
}

/// Completed orders of the actor whose latest review returned them.
async fn returned(s: &AppState, p: &Page) -> Vec<(i64, String, String)> {
    let f = Filter {
        status: vec![Status::Completed.as_str().to_string()],
        technician_id: p.actor.technician_id,
        ..Default::default()
    };
    let list = orders::list(
        &s.app.db,
        &p.actor.vis,
        &f,
        Paging {
            limit: 50,
            offset: 0,
        },
    )
    .await
    .unwrap_or_default()
    .items;
    // The latest review of each, in one query.
    let ids: Vec<i64> = list.iter().map(|w| w.id).collect();
    let latest = orders::latest_reviews(&s.app.db, &ids)
        .await
        .unwrap_or_default();
    list.into_iter()
        .filter_map(|w| {
            let r = latest.iter().find(|r| r.work_order_id == w.id)?;
            (r.decision == "returned")
                .then(|| (w.id, w.number, r.comment.clone().unwrap_or_default()))
        })
        .collect()
}

pub struct LineRow {
    id: i64,
    name: String,
    qty: i64,
    amount: String,
    payer: String,
}

#[derive(Template)]
#[template(path = "tech_order.html")]
struct Visit {
    c: Chrome,
    id: i64,
    number: String,
    status_label: String,
    kind: String,
    warranty: String,
    customer: String,
    address: String,
    phone: String,
    geo: String,
    device: String,
    category: String,
    product_id: String,
    fault: String,
    window: String,
    review_comment: String,
    /// (target state, button label, send the position).
    actions: Vec<(String, String, bool)>,
    editable: bool,
    on_site: bool,
    findings: String,
    work_done: String,
    labour_minutes: String,
    parts: Vec<LineRow>,
    part_options: Vec<(String, String)>,
    charges: Vec<(String, String, String)>,
    customer_total: String,
    manufacturer_total: String,
    photos: Vec<i64>,
    signature: String,
    signed_by: String,
    outcomes: Vec<(String, String)>,
    leads: Vec<String>,
    lead_kinds: Vec<(String, String)>,
}

fn payer_label(p: &str, lang: Lang) -> String {
    shouhou_domain::fees::Payer::parse_field(p, "payer")
        .map(|x| x.label(lang).to_string())
        .unwrap_or_else(|_| p.to_string())
}

fn charge_label(k: &str, lang: Lang) -> String {
    shouhou_domain::fees::ChargeKind::parse_field(k, "kind")
        .map(|x| x.label(lang).to_string())
        .unwrap_or_else(|_| k.to_string())
}

/// The lifecycle buttons a technician uses on the phone for `w`.
fn actions(p: &Page, w: &WorkOrder) -> Vec<(String, String, bool)> {
    let allowed = shouhou_app::work_orders::allowed_transitions(&p.actor, w);
    [
        (Status::Accepted, "field.accept", false),
        (Status::EnRoute, "field.depart", true),
        (Status::OnSite, "field.arrive", true),
    ]
    .into_iter()
    .filter(|(to, _, _)| allowed.contains(to))
    .map(|(to, key, geo)| (to.as_str().to_string(), p.t.t(key), geo))
    .collect()
}

/// `GET /tech/orders/{id}`: one order on the phone.
pub async fn visit(State(s): State<AppState>, p: Page, Path(id): Path<i64>) -> Response {
    let r = match service::report(&s.app, &p.actor, id).await {
        Ok(r) => r,
        Err(e) => return err(e),
    };
    let lang = p.actor.lang;
    let w = &r.order;
    let stop = store::stops(&s.app.db, &[id])
        .await
        .unwrap_or_default()
        .pop();
    let last = r.visits.last();
    let review_comment = if w.status == Status::Completed {
        orders::reviews(&s.app.db, id, Paging::LARGEST)
            .await
            .unwrap_or_default()
            .items
            .last()
            .filter(|x| x.decision == "returned")
            .and_then(|x| x.comment.clone())
            .unwrap_or_default()
    } else {
        String::new()
    };
    let editable = matches!(w.status, Status::OnSite | Status::Completed) && last.is_some();
    let leads = store::opportunities_of_order(&s.app.db, id)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|o| {
            let k = OpportunityKind::parse_field(&o.kind, "kind")
                .map(|k| k.label(lang))
                .unwrap_or("");
            format!("{k} ¥{}", yuan(o.value_fen))
        })
        .collect();
    let sig = r.signature();
    render(&Visit {
        id,
        number: w.number.clone(),
        status_label: w.status.label(lang).to_string(),
        kind: w.kind.label(lang).to_string(),
        warranty: w.warranty_decision.label(lang).to_string(),
        customer: r.customer_name.clone(),
        address: r.address.clone(),
        phone: r.customer_phone.clone(),
        geo: stop
            .as_ref()
            .map(|x| geo(x.lat, x.lng, &r.address))
            .unwrap_or_default(),
        device: r
            .product
            .as_ref()
            .map(|x| format!("{} · {}", x.name, r.serial.clone().unwrap_or_default()))
            .unwrap_or_default(),
        category: r
            .product
            .as_ref()
            .map(|x| x.category.as_str().to_string())
            .unwrap_or_default(),
        product_id: r
            .product
            .as_ref()
            .map(|x| x.id.to_string())
            .unwrap_or_default(),
        fault: w.fault_description.clone(),
        window: window(&p, &s, w.appointment_start, w.appointment_end),
        review_comment,
        actions: actions(&p, w),
        editable,
        on_site: w.status == Status::OnSite,
        findings: last.and_then(|v| v.findings.clone()).unwrap_or_default(),
        work_done: last.and_then(|v| v.work_done.clone()).unwrap_or_default(),
        labour_minutes: last
            .and_then(|v| v.labour_minutes)
            .map(|m| m.to_string())
            .unwrap_or_default(),
        parts: r
            .parts
            .iter()
            .map(|l| LineRow {
                id: l.id,
                name: l.name.clone(),
                qty: l.qty,
                amount: yuan(l.unit_price_fen * l.qty),
                payer: payer_label(&l.payer, lang),
            })
            .collect(),
        part_options: r
            .product
            .as_ref()
            .map(|x| {
                x.parts
                    .0
                    .iter()
                    .map(|s| (s.name.clone(), yuan(s.price_fen)))
                    .collect()
            })
            .unwrap_or_default(),
        charges: r
            .charges
            .iter()
            .map(|c| {
                (
                    charge_label(&c.kind, lang),
                    yuan(c.amount_fen),
                    payer_label(&c.payer, lang),
                )
            })
            .collect(),
        customer_total: yuan(r.totals.customer_fen),
        manufacturer_total: yuan(r.totals.manufacturer_fen),
        photos: r.photos.iter().map(|x| x.id).collect(),
        signature: sig.and_then(|v| v.signature.clone()).unwrap_or_default(),
        signed_by: sig.and_then(|v| v.signed_by.clone()).unwrap_or_default(),
        outcomes: VisitOutcome::ALL
            .iter()
            .map(|o| (o.as_str().to_string(), o.label(lang).to_string()))
            .collect(),
        leads,
        lead_kinds: OpportunityKind::ALL
            .iter()
            .map(|o| (o.as_str().to_string(), o.label(lang).to_string()))
            .collect(),
        c: p.chrome(),
    })
}

pub struct VisitRow {
    seq: i64,
    technician: String,
    times: String,
    outcome: String,
    findings: String,
    work_done: String,
}

#[derive(Template)]
#[template(path = "report.html")]
struct Printable {
    t: crate::i18n::T,
    id: i64,
    org: String,
    number: String,
    kind: String,
    customer: String,
    phone: String,
    warranty: String,
    address: String,
    device: String,
    fault: String,
    visits: Vec<VisitRow>,
    /// (item, qty, amount, payer)
    lines: Vec<(String, String, String, String)>,
    customer_total: String,
    manufacturer_total: String,
    photos: Vec<i64>,
    signature: String,
    signed_by: String,
    signed_at: String,
}

/// The report's rows in the reader's language, shared by the printable page and the review queue.
pub fn lines(r: &ServiceReport, lang: Lang) -> Vec<(String, String, String, String)> {
    let mut v: Vec<(String, String, String, String)> = r
        .charges
        .iter()
        .map(|c| {
            (
                charge_label(&c.kind, lang),
                "1".into(),
                yuan(c.amount_fen),
                payer_label(&c.payer, lang),
            )
        })
        .collect();
    v.extend(r.parts.iter().map(|l| {
        let main = if l.main_part {
            crate::i18n::T(lang).t("report.main_part")
        } else {
            String::new()
        };
        (
            format!("{}{main}", l.name),
            l.qty.to_string(),
            yuan(l.unit_price_fen * l.qty),
            payer_label(&l.payer, lang),
        )
    }));
    v
}

/// `GET /work-orders/{id}/report`: the service report (服务报告单), printable on A4.
pub async fn printable(State(s): State<AppState>, p: Page, Path(id): Path<i64>) -> Response {
    let r = match service::report(&s.app, &p.actor, id).await {
        Ok(r) => r,
        Err(e) => return err(e),
    };
    let lang = p.actor.lang;
    let org = shouhou_store::repo::org_units::get(&s.app.db, &p.actor.vis, r.order.org_unit_id)
        .await
        .map(|u| u.name)
        .unwrap_or_default();
    let sig = r.signature();
    render(&Printable {
        t: p.t,
        id,
        org,
        number: r.order.number.clone(),
        kind: r.order.kind.label(lang).to_string(),
        customer: r.customer_name.clone(),
        phone: r.customer_phone.clone(),
        warranty: r.order.warranty_decision.label(lang).to_string(),
        address: r.address.clone(),
        device: r
            .product
            .as_ref()
            .map(|x| format!("{} · {}", x.name, r.serial.clone().unwrap_or_default()))
            .unwrap_or_default(),
        fault: r.order.fault_description.clone(),
        visits: r
            .visits
            .iter()
            .map(|v| VisitRow {
                seq: v.seq,
                technician: v.technician_name.clone().unwrap_or_default(),
                times: [v.arrived_at, v.left_at]
                    .iter()
                    .flatten()
                    .map(|t| p.time(&s, *t))
                    .collect::<Vec<_>>()
                    .join(" – "),
                outcome: v
                    .outcome
                    .as_deref()
                    .and_then(|o| VisitOutcome::parse_field(o, "outcome").ok())
                    .map(|o| o.label(lang).to_string())
                    .unwrap_or_default(),
                findings: v.findings.clone().unwrap_or_default(),
                work_done: v.work_done.clone().unwrap_or_default(),
            })
            .collect(),
        lines: lines(&r, lang),
        customer_total: yuan(r.totals.customer_fen),
        manufacturer_total: yuan(r.totals.manufacturer_fen),
        photos: r.photos.iter().map(|x| x.id).collect(),
        signature: sig.and_then(|v| v.signature.clone()).unwrap_or_default(),
        signed_by: sig.and_then(|v| v.signed_by.clone()).unwrap_or_default(),
        signed_at: sig
            .and_then(|v| v.signed_at)
            .map(|t| p.time(&s, t))
            .unwrap_or_default(),
    })
}
