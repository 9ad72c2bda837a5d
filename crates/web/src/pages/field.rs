//! The technician's phone: the day in route order and the visit page (lifecycle buttons, report,
//! parts, charges, photos, signature, outcome, sales leads).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use shouhou_app::service;

use shouhou_domain::money::yuan;
use shouhou_domain::{DeclineReason, Lang, OpportunityKind, Status, VisitOutcome};
use shouhou_store::records::WorkOrder;
use shouhou_store::repo::Page as Paging;
use shouhou_store::work_orders::{self as orders, Filter, Sort};

use super::service::{charge_label, payer_label};
use super::{err, render, Chrome, Page};
use crate::extract::Path;
use crate::AppState;

pub struct StopRow {
    id: i64,
    /// Place on today's route (1-based); 0 off the route.
    seq: usize,
    number: String,
    status: String,
    kind: String,
    device: String,
    customer: String,
    address: String,
    phone: String,
    nav: Option<Nav>,
    /// The committed plan's arrival ("09:40"), or empty.
    planned: String,
    window: String,
    arrive_by: String,
    resolve_by: String,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "tech_day.html")]
struct Day {
    c: Chrome,
    day: String,
    /// Today's route in stop order: planned stops by their planned arrival, what is under way,
    /// then today's booked visits the plan has not placed.
    route: Vec<StopRow>,
    /// Booked (or planned) for a later day, soonest first.
    later: Vec<StopRow>,
    /// Open orders with neither a place on today's route nor an appointment to come: the
    /// dispatcher's to plan.
    unplanned: Vec<StopRow>,
    /// (order id, number, the manager's comment) of reports returned for correction.
    returned: Vec<(i64, String, String)>,
    /// This month's targets: (KPI, so far, badge class, status, committed / stretch).
    targets: Vec<super::targets::PhoneTarget>,
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

/// Navigation to a stored (WGS-84) place in the map apps technicians use in China: AMap and
/// Apple Maps draw on GCJ-02, Baidu on BD-09, so each link gets the place in its own datum.
pub struct Nav {
    pub amap: String,
    pub baidu: String,
    pub apple: String,
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The three navigation links to `lat`, `lng` (WGS-84), labelled with `name`.
pub fn nav(lat: Option<f64>, lng: Option<f64>, name: &str) -> Option<Nav> {
    use shouhou_domain::geo::{gcj02_to_bd09, wgs84_to_gcj02, Point};
    let (lat, lng) = (lat?, lng?);
    let gcj = wgs84_to_gcj02(Point::new(lat, lng));
    let bd = gcj02_to_bd09(gcj);
    let name = enc(name);
    Some(Nav {
        amap: format!(
            "https://uri.amap.com/navigation?to={:.6},{:.6},{name}&mode=car&coordinate=gaode&callnative=1&src=shouhou",
            gcj.lng, gcj.lat
        ),
        baidu: format!(
            "baidumap://map/direction?destination=latlng:{:.6},{:.6}|name:{name}&coord_type=bd09ll&mode=driving&src=shouhou",
            bd.lat, bd.lng
        ),
        apple: format!(
            "https://maps.apple.com/?daddr={:.6},{:.6}&dirflg=d",
            gcj.lat, gcj.lng
        ),
    })
}

/// The states of the orders a technician's day lists (waiting for parts only once a revisit is
/// booked).
const OPEN_FIELD: &[Status] = &[
    Status::Assigned,
    Status::Accepted,
    Status::EnRoute,
    Status::OnSite,
    Status::WaitingParts,
];

/// Where an order stands on the technician's day.
#[derive(PartialEq)]
enum Place {
    Route,
    Later,
    Unplanned,
    Hidden,
}

/// `GET /tech`: today's route in stop order with the planned arrival times, then the later
/// appointments, then (folded) the orders still to be planned.
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
            limit: 200,
            offset: 0,
        },
    )
    .await
    {
        Ok(v) => v.items,
        Err(e) => return err(e.into()),
    };
    let ids: Vec<i64> = list.iter().map(|w| w.id).collect();
    let stops = orders::stops(&s.app.db, &ids).await.unwrap_or_default();
    let now = s.app.now();
    let lang = p.actor.lang;
    let today = s.app.day_start(s.app.today());
    let tomorrow = s.app.day_start(s.app.today() + chrono::Duration::days(1));
    let on_today = |t: Option<DateTime<Utc>>| t.is_some_and(|t| t >= today && t < tomorrow);
    let place = |w: &WorkOrder| {
        if matches!(w.status, Status::EnRoute | Status::OnSite)
            || on_today(w.planned_arrival)
            || on_today(w.appointment_start) && w.planned_arrival.is_none_or(|t| t < tomorrow)
        {
            Place::Route
        } else if w.appointment_start.is_some_and(|t| t >= tomorrow)
            || w.planned_arrival.is_some_and(|t| t >= tomorrow)
        {
            Place::Later
        } else if w.status == Status::WaitingParts {
            Place::Hidden
        } else {
            Place::Unplanned
        }
    };
    let row = |w: &WorkOrder, seq: usize| {
        let st = stops.iter().find(|x| x.id == w.id);
        let address = st.and_then(|x| x.address.clone()).unwrap_or_default();
        StopRow {
            id: w.id,
            seq,
            number: w.number.clone(),
            status: w.status.label(lang).to_string(),
            kind: w.kind.label(lang).to_string(),
            device: st.and_then(|x| x.device.clone()).unwrap_or_default(),
            customer: st.map(|x| x.customer.clone()).unwrap_or_default(),
            phone: st.and_then(|x| x.phone.clone()).unwrap_or_default(),
            nav: nav(st.and_then(|x| x.lat), st.and_then(|x| x.lng), &address),
            address,
            planned: w
                .planned_arrival
                .filter(|t| *t >= today)
                .map(|t| short(&s, t))
                .unwrap_or_default(),
            window: window(&p, &s, w.appointment_start, w.appointment_end),
            arrive_by: p.time(&s, w.arrive_by),
            resolve_by: p.time(&s, w.resolve_by),
            overdue: w.arrive_by < now
                && matches!(
                    w.status,
                    Status::Assigned | Status::Accepted | Status::EnRoute
                )
                || w.resolve_by < now,
        }
    };
    let mut route: Vec<&WorkOrder> = list.iter().filter(|w| place(w) == Place::Route).collect();
    // Stop order: the plan's arrivals; what is under way without a plan first; booked visits
    // the plan has not placed by their window.
    route.sort_by_key(|w| {
        let under_way = matches!(w.status, Status::EnRoute | Status::OnSite);
        let at = w
            .planned_arrival
            .filter(|t| *t >= today)
            .or(under_way.then_some(today))
            .or(w.appointment_start);
        (at, w.planned_seq, w.id)
    });
    let mut later: Vec<&WorkOrder> = list.iter().filter(|w| place(w) == Place::Later).collect();
    later.sort_by_key(|w| (w.appointment_start.or(w.planned_arrival), w.id));
    let unplanned: Vec<&WorkOrder> = list
        .iter()
        .filter(|w| place(w) == Place::Unplanned)
        .collect();
    render(&Day {
        day: s.app.today().to_string(),
        route: route
            .into_iter()
            .enumerate()
            .map(|(i, w)| row(w, i + 1))
            .collect(),
        later: later.into_iter().map(|w| row(w, 0)).collect(),
        unplanned: unplanned.into_iter().map(|w| row(w, 0)).collect(),
        returned: returned(&s, &p).await,
        targets: super::targets::phone(&s, &p).await,
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
    nav: Option<Nav>,
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
    /// Earlier orders on the device: (date, type, fault, outcome).
    history: Vec<(String, String, String, String)>,
    /// The technician may give the order back (before setting off): (code, reason).
    decline_reasons: Vec<(String, String)>,
    /// A revisit may be booked (the visit needs parts or another visit): the next days
    /// (date, label, the org's UTC offset that day) and the windows ("09:00", "12:00", label).
    revisit_days: Vec<(String, String, String)>,
    revisit_windows: Vec<(String, String, String)>,
}

/// The windows a revisit is booked in (local times).
const REVISIT_WINDOWS: &[(&str, &str)] = &[
    ("09:00", "12:00"),
    ("13:00", "15:00"),
    ("15:00", "18:00"),
    ("18:00", "20:00"),
];

/// The next 14 days a revisit may be booked on: (date, label, UTC offset of the org that day).
fn revisit_days(s: &AppState, lang: Lang) -> Vec<(String, String, String)> {
    let tz = s.app.settings.time_zone;
    let today = s.app.today();
    (1..=14)
        .map(|i| {
            let d = today + chrono::Duration::days(i);
            let noon = d.and_hms_opt(12, 0, 0).unwrap_or_default();
            let offset = noon
                .and_local_timezone(tz)
                .earliest()
                .map(|t| t.format("%:z").to_string())
                .unwrap_or_else(|| "+00:00".into());
            let weekday = match lang {
                Lang::ZhCn => format!(
                    "周{}",
                    ["一", "二", "三", "四", "五", "六", "日"]
                        [chrono::Datelike::weekday(&d).num_days_from_monday() as usize]
                ),
                Lang::En => d.format("%a").to_string(),
            };
            (
                d.to_string(),
                format!("{} {weekday}", d.format("%m-%d")),
                offset,
            )
        })
        .collect()
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
    let stop = orders::stops(&s.app.db, &[id])
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
    let leads = shouhou_store::leads::opportunities_of_order(&s.app.db, id)
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
    let history = shouhou_app::devices::history_of_order(&s.app, &p.actor, id)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|e| {
            let o = e.order;
            let outcome = match e.outcome {
                Some(x) => x.label(lang).to_string(),
                None => o.status.label(lang).to_string(),
            };
            (
                s.app.local_date(o.created_at).to_string(),
                o.kind.label(lang).to_string(),
                o.fault_description,
                outcome,
            )
        })
        .collect();
    let may_decline =
        shouhou_app::work_orders::allowed_transitions(&p.actor, w).contains(&Status::New);
    let decline_reasons = if may_decline {
        DeclineReason::ALL
            .iter()
            .map(|x| (x.as_str().to_string(), x.label(lang).to_string()))
            .collect()
    } else {
        vec![]
    };
    // The technician whose visit ended needing parts or another visit books the next one.
    let may_revisit = w.status == Status::WaitingParts
        && p.actor.technician_id.is_some()
        && w.technician_id == p.actor.technician_id;
    let (revisit_days, revisit_windows) = if may_revisit {
        (
            revisit_days(&s, lang),
            REVISIT_WINDOWS
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string(), format!("{a} – {b}")))
                .collect(),
        )
    } else {
        (vec![], vec![])
    };
    render(&Visit {
        id,
        number: w.number.clone(),
        status_label: w.status.label(lang).to_string(),
        kind: w.kind.label(lang).to_string(),
        warranty: w.warranty_decision.label(lang).to_string(),
        customer: r.customer_name.clone(),
        address: r.address.clone(),
        phone: r.customer_phone.clone(),
        nav: stop.as_ref().and_then(|x| nav(x.lat, x.lng, &r.address)),
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
        history,
        decline_reasons,
        revisit_days,
        revisit_windows,
        c: p.chrome(),
    })
}
