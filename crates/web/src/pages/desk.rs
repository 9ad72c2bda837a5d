//! The work-order desk: a filtered, paged list with overdue orders highlighted, and the detail
//! page with the timeline and only the actions the user's role and the order's state allow.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use shouhou_app::work_orders::{self as uc, Transition};
use shouhou_app::AppError;
use shouhou_domain::points::Difficulty;
use shouhou_domain::{Status, WorkOrderType};
use shouhou_store::repo::{customers, technicians, Page as Paging};
use shouhou_store::work_orders::{Filter, Sort};

use super::{render, Chrome, Page};
use crate::extract::{Form, Path, Query};
use crate::AppState;

const PAGE: i64 = 50;

/// The orders the desk offers, with their labels.
const SORTS: &[(Sort, &str)] = &[
    (Sort::NewestFirst, "wo.sort.newest"),
    (Sort::OldestFirst, "wo.sort.oldest"),
    (Sort::ArriveBy, "wo.sort.arrive_by"),
    (Sort::ResolveBy, "wo.sort.resolve_by"),
];

#[derive(Debug, Deserialize, Default)]
pub struct DeskQuery {
    status: Option<String>,
    store: Option<String>,
    technician: Option<String>,
    from: Option<String>,
    to: Option<String>,
    sort: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    overdue: Option<bool>,
    offset: Option<i64>,
}

pub struct Row {
    id: i64,
    number: String,
    status: String,
    kind: String,
    priority: String,
    created_at: String,
    arrive_by: String,
    resolve_by: String,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "work_orders.html")]
struct DeskPage {
    c: Chrome,
    statuses: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    status: String,
    kind: String,
    overdue: bool,
    stores: Vec<(i64, String)>,
    store_sel: i64,
    technicians: Vec<(i64, String)>,
    technician_sel: i64,
    from: String,
    to: String,
    sorts: Vec<(String, String)>,
    sort: String,
    rows: Vec<Row>,
    total_text: String,
    prev: Option<String>,
    next: Option<String>,
}

pub async fn list(State(s): State<AppState>, p: Page, Query(q): Query<DeskQuery>) -> Response {
    let lang = p.actor.lang;
    let now = s.app.now();
    let status: Vec<String> = q
        .status
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter_map(|x| Status::parse_field(x.trim(), "status").ok())
        .map(|s| s.as_str().to_string())
        .collect();
    let kind = q
        .kind
        .as_deref()
        .and_then(|k| WorkOrderType::parse_field(k, "type").ok());
    let overdue = q.overdue.unwrap_or(false);
    let num = |v: &Option<String>| v.as_deref().and_then(|x| x.parse::<i64>().ok());
    let (store, technician) = (num(&q.store), num(&q.technician));
    let date = |v: &Option<String>| {
        v.as_deref()
            .and_then(|x| x.parse::<chrono::NaiveDate>().ok())
    };
    let (from, to) = (date(&q.from), date(&q.to));
    let at = |d: chrono::NaiveDate| Some(s.app.day_start(d));
    let sort = q
        .sort
        .as_deref()
        .and_then(Sort::parse)
        .filter(|x| SORTS.iter().any(|(s, _)| s == x))
        .unwrap_or_default();
    let f = Filter {
        status: status.clone(),
        kind: kind.map(|k| k.as_str().to_string()),
        overdue_at: overdue.then_some(now),
        org_unit_id: store,
        technician_id: technician,
        created_from: from.and_then(at),
        created_to: to.map(|d| d + chrono::Duration::days(1)).and_then(at),
        sort,
        ..Default::default()
    };
    let offset = q.offset.unwrap_or(0).max(0);
    let page = match uc::list(
        &s.app,
        &p.actor,
        &f,
        Paging {
            limit: PAGE,
            offset,
        },
    )
    .await
    {
        Ok(v) => v,
        Err(e) => return crate::error::ApiError(e).into_response(),
    };
    let rows = page
        .items
        .iter()
        .map(|w| Row {
            id: w.id,
            number: w.number.clone(),
            status: w.status.label(lang).to_string(),
            kind: w.kind.label(lang).to_string(),
            priority: w.priority.label(lang).to_string(),
            created_at: p.time(&s, w.created_at),
            arrive_by: p.time(&s, w.arrive_by),
            resolve_by: p.time(&s, w.resolve_by),
            overdue: w.status.is_open()
                && (w.resolve_by < now
                    || (w.arrive_by < now
                        && matches!(
                            w.status,
                            Status::New | Status::Assigned | Status::Accepted | Status::EnRoute
                        ))),
        })
        .collect();
    let link = |off: i64| {
        let mut u = format!("/work-orders?offset={off}");
        if !status.is_empty() {
            u.push_str(&format!("&status={}", status.join(",")));
        }
        if let Some(k) = kind {
            u.push_str(&format!("&type={}", k.as_str()));
        }
        if overdue {
            u.push_str("&overdue=true");
        }
        for (k, v) in [
            ("store", store.map(|x| x.to_string())),
            ("technician", technician.map(|x| x.to_string())),
            ("from", from.map(|d| d.to_string())),
            ("to", to.map(|d| d.to_string())),
        ] {
            if let Some(v) = v {
                u.push_str(&format!("&{k}={v}"));
            }
        }
        u.push_str(&format!("&sort={}", sort.as_str()));
        u
    };
    let stores = shouhou_store::repo::org_units::list(&s.app.db, &p.actor.vis, Paging::LARGEST)
        .await
        .unwrap_or_default()
        .items
        .into_iter()
        .filter(|u| u.kind == shouhou_domain::OrgKind::Store)
        .map(|u| (u.id, u.name))
        .collect();
    let technicians = technicians::list(&s.app.db, &p.actor.vis, Paging::LARGEST)
        .await
        .unwrap_or_default()
        .items
        .into_iter()
        .map(|t| (t.id, t.display_name))
        .collect();
    let sorts = SORTS
        .iter()
        .map(|(v, k)| (v.as_str().to_string(), p.t.t(k)))
        .collect();
    render(&DeskPage {
        statuses: Status::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), s.label(lang).to_string()))
            .collect(),
        kinds: WorkOrderType::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), k.label(lang).to_string()))
            .collect(),
        status: if status.len() == 1 {
            status[0].clone()
        } else {
            String::new()
        },
        kind: kind.map(|k| k.as_str().to_string()).unwrap_or_default(),
        overdue,
        stores,
        store_sel: store.unwrap_or(0),
        technicians,
        technician_sel: technician.unwrap_or(0),
        from: from.map(|d| d.to_string()).unwrap_or_default(),
        to: to.map(|d| d.to_string()).unwrap_or_default(),
        sorts,
        sort: sort.as_str().to_string(),
        rows,
        total_text: p.t.t("wo.total").replace("{n}", &page.total_text()),
        prev: (offset > 0).then(|| link((offset - PAGE).max(0))),
        next: page.has_more().then(|| link(offset + PAGE)),
        c: p.chrome(),
    })
}

#[derive(Template)]
#[template(path = "work_order.html")]
struct DetailPage {
    c: Chrome,
    /// The difficulty grade (难度系数), its value, the grades and whether the reader may set it.
    difficulty: String,
    difficulty_value: String,
    difficulties: Vec<(String, String)>,
    can_grade: bool,
    w: shouhou_store::records::WorkOrder,
    status_label: String,
    kind_label: String,
    priority_label: String,
    warranty_label: String,
    customer: String,
    technician: String,
    respond_by: String,
    arrive_by: String,
    resolve_by: String,
    actions: Vec<(String, String)>,
    can_reassign: bool,
    technicians: Vec<(i64, String)>,
    events: Vec<(String, String, String, String)>,
    /// The appointment window in the org's time zone, or "未预约".
    appointment: String,
    /// The owning store's name; the stores a dispatcher may move a new order to.
    store: String,
    stores: Vec<(i64, String)>,
    /// The service address and its place (to confirm, with the form to set it).
    place: Option<super::archive::PlaceRow>,
    geocoding: bool,
    device: DeviceFacts,
    visits: Vec<VisitRow>,
    /// (part, qty, unit price, amount, who pays)
    parts: Vec<(String, i64, String, String, String)>,
    /// (charge, amount, who pays)
    charges: Vec<(String, String, String)>,
    customer_total: String,
    manufacturer_total: String,
    photos: Vec<i64>,
    /// "已签字：name · time", or "未签字".
    signature: String,
    signed: bool,
    /// "满意 · comment · by phone · time", or "未回访".
    follow_up: String,
    complaints: Vec<super::complaints::Row>,
    /// Whether the user may register a complaint here; the categories and severities offered.
    may_complain: bool,
    complaint_categories: Vec<(String, String)>,
    severities: Vec<(String, String)>,
}

/// The device of an order as the page shows it.
#[derive(Default)]
pub struct DeviceFacts {
    /// "海尔 冰箱 BCD-470 (Haier BCD-470)"; empty without a device.
    product: String,
    serial: String,
    purchase_date: String,
    device_id: i64,
}

/// One visit in words and local times.
pub struct VisitRow {
    seq: i64,
    technician: String,
    departed: String,
    arrived: String,
    left: String,
    outcome: String,
    findings: String,
    work_done: String,
}

pub async fn detail(State(s): State<AppState>, p: Page, Path(id): Path<i64>) -> Response {
    let lang = p.actor.lang;
    let w = match uc::get(&s.app, &p.actor, id).await {
        Ok(w) => w,
        Err(e) => return crate::error::ApiError(e).into_response(),
    };
    let owner = customers::get(&s.app.db, &p.actor.vis, w.customer_id).await;
    let customer = owner
        .as_ref()
        .map(|c| {
            format!(
                "{} {}",
                c.name,
                c.phones.first().cloned().unwrap_or_default()
            )
        })
        .unwrap_or_default();
    let place = owner.as_ref().ok().and_then(|c| {
        c.addresses
            .iter()
            .find(|a| Some(a.id) == w.address_id)
            .map(|a| super::archive::place_row(&p, c, a))
    });
    let units = shouhou_store::repo::org_units::list(&s.app.db, &p.actor.vis, Paging::LARGEST)
        .await
        .unwrap_or_default()
        .items;
    let store = shouhou_store::repo::org_units::get(&s.app.db, &p.actor.vis, w.org_unit_id)
        .await
        .map(|u| u.name)
        .unwrap_or_default();
    let may_move = w.status == Status::New && uc::DISPATCH_ROLES.contains(&p.actor.role());
    let stores = if may_move {
        units
            .into_iter()
            .filter(|u| u.kind == shouhou_domain::OrgKind::Store)
            .map(|u| (u.id, u.name))
            .collect()
    } else {
        vec![]
    };
    let appointment = match (w.appointment_start, w.appointment_end) {
        (Some(a), Some(b)) => super::intake::window_text(&s, a, b),
        _ => p.t.t("wo.no_appointment"),
    };
    let techs = technicians::list(&s.app.db, &p.actor.vis, Paging::LARGEST)
        .await
        .unwrap_or_default()
        .items;
    let technician = w
        .technician_id
        .and_then(|t| {
            techs
                .iter()
                .find(|x| x.id == t)
                .map(|x| x.display_name.clone())
        })
        .unwrap_or_else(|| "—".into());
    let events = uc::events(&s.app, &p.actor, id, Paging::LARGEST)
        .await
        .unwrap_or_default()
        .items
        .into_iter()
        .map(|e| {
            let to = Status::parse_field(&e.to_status, "to")
                .map(|s| s.label(lang).to_string())
                .unwrap_or(e.to_status);
            // The planner's note and a technician's decline are stored as markers, shown in the
            // reader's language.
            if let Some((why, words)) = e.note.as_deref().and_then(uc::declined_note) {
                let note = if words.is_empty() {
                    why.label(lang).to_string()
                } else {
                    format!("{} — {words}", why.label(lang))
                };
                return (p.time(&s, e.at), p.t.t("wo.declined"), e.actor_name, note);
            }
            let note = match e.note.as_deref() {
                Some("dispatch plan") => p.t.t("dispatch.by_plan"),
                other => other.unwrap_or_default().to_string(),
            };
            (p.time(&s, e.at), to, e.actor_name, note)
        })
        .collect();
    // Visits and (for managers and admins) the audit trail join the transitions, by time.
    let mut events: Vec<(String, String, String, String)> = events;
    let report = shouhou_app::service::report_of(&s.app, w.clone())
        .await
        .ok();
    let outcome_label = |o: &Option<String>| {
        o.as_deref()
            .and_then(|o| shouhou_domain::VisitOutcome::parse_field(o, "outcome").ok())
            .map(|o| o.label(lang).to_string())
            .unwrap_or_default()
    };
    let visit_tech = |v: &shouhou_store::service::VisitReport| {
        v.technician_name
            .clone()
            .unwrap_or_else(|| p.t.t("wo.partner_visit"))
    };
    for v in report.iter().flat_map(|r| r.visits.iter()) {
        if let Some(a) = v.arrived_at {
            let left = v.left_at.map(|l| p.time(&s, l)).unwrap_or_default();
            events.push((
                p.time(&s, a),
                format!("{} #{}", p.t.t("wo.visit"), v.seq),
                visit_tech(v),
                format!("→ {left} {}", outcome_label(&v.outcome)),
            ));
        }
    }
    let unit_names: Vec<(i64, String)> = shouhou_store::repo::org_units::all(&s.app.db)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    if let Ok(trail) =
        shouhou_app::audit::trail(&s.app, &p.actor, "work_order", id, Paging::LARGEST).await
    {
        for a in trail.items.into_iter().filter(|a| a.action != "create") {
            let fields: Vec<String> = a
                .changes
                .0
                .as_object()
                .map(|m| {
                    m.iter()
                        // Times, states and the plan's order show elsewhere on the page.
                        .filter(|(k, _)| {
                            !k.ends_with("_at")
                                && !matches!(k.as_str(), "status" | "version" | "planned_seq")
                        })
                        .map(|(k, v)| {
                            format!(
                                "{}：{} → {}",
                                shouhou_domain::fields::label(k, lang),
                                shown(&s, &a.action, k, &v[0], &techs, &unit_names, lang),
                                shown(&s, &a.action, k, &v[1], &techs, &unit_names, lang)
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            if !fields.is_empty() {
                events.push((
                    p.time(&s, a.at),
                    p.t.t("wo.change"),
                    a.actor_name.unwrap_or_default(),
                    fields.join("; "),
                ));
            }
        }
    }
    events.sort_by(|a, b| a.0.cmp(&b.0));
    let actions = uc::allowed_transitions(&p.actor, &w)
        .into_iter()
        .map(|s| {
            (
                s.as_str().to_string(),
                p.t.t(&format!("wo.action.{}", s.as_str())),
            )
        })
        .collect();
    let time_or_dash = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| p.time(&s, t)).unwrap_or_else(|| "—".into())
    };
    let visits = report
        .iter()
        .flat_map(|r| r.visits.iter())
        .map(|v| VisitRow {
            seq: v.seq,
            technician: visit_tech(v),
            departed: time_or_dash(v.departed_at),
            arrived: time_or_dash(v.arrived_at),
            left: time_or_dash(v.left_at),
            outcome: {
                let o = outcome_label(&v.outcome);
                if o.is_empty() {
                    p.t.t("wo.visit_open")
                } else {
                    o
                }
            },
            findings: v.findings.clone().unwrap_or_default(),
            work_done: v.work_done.clone().unwrap_or_default(),
        })
        .collect();
    let payer = |x: &str| {
        shouhou_domain::fees::Payer::parse_field(x, "payer")
            .map(|x| x.label(lang).to_string())
            .unwrap_or_else(|_| x.to_string())
    };
    let yuan = |f: i64| format!("¥{}", shouhou_domain::money::yuan(f));
    let parts = report
        .iter()
        .flat_map(|r| r.parts.iter())
        .map(|l| {
            let main = if l.main_part {
                p.t.t("report.main_part")
            } else {
                String::new()
            };
            (
                format!("{}{main}", l.name),
                l.qty,
                yuan(l.unit_price_fen),
                yuan(l.unit_price_fen * l.qty),
                payer(&l.payer),
            )
        })
        .collect();
    let charges = report
        .iter()
        .flat_map(|r| r.charges.iter())
        .map(|c| {
            (
                shouhou_domain::fees::ChargeKind::parse_field(&c.kind, "kind")
                    .map(|k| k.label(lang).to_string())
                    .unwrap_or_else(|_| c.kind.clone()),
                yuan(c.amount_fen),
                payer(&c.payer),
            )
        })
        .collect();
    let totals = report
        .as_ref()
        .map(|r| r.totals.clone())
        .unwrap_or_default();
    let signed_visit = report.as_ref().and_then(|r| r.signature().cloned());
    let signature = match &signed_visit {
        Some(v) => {
            p.t.t("wo.signed")
                .replace("{name}", v.signed_by.as_deref().unwrap_or(""))
                .replace("{at}", &time_or_dash(v.signed_at))
        }
        None => p.t.t("report.unsigned"),
    };
    let mut device = DeviceFacts::default();
    if let Some(d) = w.device_id {
        if let Ok(dev) = shouhou_store::repo::devices::get(&s.app.db, &p.actor.vis, d).await {
            device.device_id = dev.id;
            device.serial = dev.serial.clone();
            device.purchase_date = dev.purchase_date.to_string();
            device.product = report
                .as_ref()
                .and_then(|r| r.product.as_ref())
                .map(|x| {
                    // The product's name usually says brand and model already.
                    if x.name.contains(&x.model) {
                        x.name.clone()
                    } else {
                        format!("{} · {} {}", x.name, x.brand, x.model)
                    }
                })
                .unwrap_or(dev.brand);
        }
    }
    let follow_up = match shouhou_app::followups::follow_up(&s.app, &p.actor, id).await {
        Ok(Some(f)) => {
            let mut parts = vec![shouhou_domain::Rating::parse_field(&f.rating, "rating")
                .map(|r| r.label(lang).to_string())
                .unwrap_or(f.rating)];
            if let Some(c) = f.comment.filter(|c| !c.is_empty()) {
                parts.push(format!("“{c}”"));
            }
            parts.push(
                shouhou_domain::FollowUpChannel::parse_field(&f.channel, "channel")
                    .map(|c| c.label(lang).to_string())
                    .unwrap_or(f.channel),
            );
            parts.push(p.time(&s, f.at));
            parts.join(" · ")
        }
        _ => p.t.t("wo.no_follow_up"),
    };
    let complaints = shouhou_app::complaints::of_order(&s.app, &p.actor, id)
        .await
        .unwrap_or_default()
        .iter()
        .map(|k| super::complaints::row(&s, &p, k))
        .collect();
    let grade = shouhou_app::points::difficulty(&s.app, &p.actor, w.id)
        .await
        .unwrap_or(Difficulty::Normal);
    render(&DetailPage {
        difficulty: grade.label(lang).to_string(),
        difficulty_value: grade.as_str().to_string(),
        difficulties: Difficulty::ALL
            .iter()
            .map(|x| (x.as_str().to_string(), x.label(lang).to_string()))
            .collect(),
        can_grade: shouhou_app::points::GRADERS.contains(&p.actor.role())
            && w.status != Status::Cancelled,
        device,
        visits,
        parts,
        charges,
        customer_total: yuan(totals.customer_fen),
        manufacturer_total: yuan(totals.manufacturer_fen),
        photos: report
            .as_ref()
            .map(|r| r.photos.iter().map(|x| x.id).collect())
            .unwrap_or_default(),
        signed: signed_visit.is_some(),
        signature,
        follow_up,
        complaints,
        may_complain: shouhou_app::complaints::CREATORS.contains(&p.actor.role()),
        complaint_categories: shouhou_domain::ComplaintCategory::ALL
            .iter()
            .map(|x| (x.as_str().to_string(), x.label(lang).to_string()))
            .collect(),
        severities: shouhou_domain::Severity::ALL
            .iter()
            .map(|x| (x.as_str().to_string(), x.label(lang).to_string()))
            .collect(),
        status_label: w.status.label(lang).to_string(),
        kind_label: w.kind.label(lang).to_string(),
        priority_label: w.priority.label(lang).to_string(),
        warranty_label: w.warranty_decision.label(lang).to_string(),
        respond_by: p.time(&s, w.respond_by),
        arrive_by: p.time(&s, w.arrive_by),
        resolve_by: p.time(&s, w.resolve_by),
        customer,
        technician,
        actions,
        can_reassign: w.status == Status::Assigned
            && matches!(
                p.actor.role(),
                shouhou_domain::Role::Admin
                    | shouhou_domain::Role::Manager
                    | shouhou_domain::Role::Dispatcher
            ),
        technicians: techs
            .iter()
            .filter(|t| t.active)
            .map(|t| (t.id, t.display_name.clone()))
            .collect(),
        events,
        appointment,
        store,
        stores,
        place,
        geocoding: shouhou_app::geocoding::is_configured(&s.app).await,
        w,
        c: p.chrome(),
    })
}

#[derive(Deserialize)]
pub struct TransitionForm {
    to: String,
    version: Option<i64>,
    technician_id: Option<i64>,
    reason: Option<String>,
}

/// An action from the detail page: on success the page reloads; a refusal (stale version,
/// illegal move, missing reason) is shown next to the buttons.
pub async fn transition(
    State(s): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(f): Form<TransitionForm>,
) -> Response {
    let lang = p.actor.lang;
    let to = match Status::parse_field(&f.to, "to") {
        Ok(v) => v,
        Err(e) => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                Html(format!("<p class=\"error\">{}</p>", e.message(lang))),
            )
                .into_response()
        }
    };
    let t = Transition {
        to,
        technician_id: f.technician_id,
        partner_unit_id: None,
        reason: f.reason.filter(|r| !r.trim().is_empty()),
        note: None,
        lat: None,
        lng: None,
        outcome: None,
    };
    action_result(&p, uc::transition(&s.app, &p.actor, id, f.version, t).await)
}

/// What an action on the detail page answers: on success the page reloads; a refusal (stale
/// version, illegal move, missing reason) is shown next to the buttons. htmx swaps 2xx bodies
/// only, so a refusal is a 200 with the error in place.
pub(super) fn action_result(
    p: &Page,
    r: Result<shouhou_store::records::WorkOrder, AppError>,
) -> Response {
    match r {
        Ok(_) => (
            [("hx-refresh", "true")],
            Html(format!("<p class=\"notice\">{}</p>", p.t.t("wo.saved"))),
        )
            .into_response(),
        Err(e) => {
            let msg = match &e {
                AppError::Stale { changed_by, .. } => format!(
                    "{} ({})",
                    p.t.t("wo.stale"),
                    changed_by.clone().unwrap_or_default()
                ),
                other => other.message(p.actor.lang),
            };
            Html(format!(
                "<p class=\"error\" id=\"action-error\">{}</p>",
                askama_escape(&msg)
            ))
            .into_response()
        }
    }
}

fn askama_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[derive(Deserialize)]
pub struct ReassignForm {
    version: Option<i64>,
    technician_id: i64,
}

pub async fn reassign(
    State(s): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(f): Form<ReassignForm>,
) -> Response {
    action_result(
        &p,
        uc::reassign(&s.app, &p.actor, id, f.version, f.technician_id).await,
    )
}

#[derive(Deserialize)]
pub struct StoreForm {
    version: Option<i64>,
    org_unit_id: i64,
}

/// `POST /work-orders/{id}/store`: the dispatcher gives a new order to another store.
pub async fn change_store(
    State(s): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(f): Form<StoreForm>,
) -> Response {
    let patch = uc::WorkOrderPatch {
        org_unit_id: Some(f.org_unit_id),
        ..Default::default()
    };
    action_result(&p, uc::update(&s.app, &p.actor, id, f.version, patch).await)
}

/// A value of the audit trail as a person reads it: no JSON quotes, "—" for nothing, a
/// technician by name, a time in the org's zone, a vocabulary word by its label (`action` says
/// which vocabulary: a follow-up's channel is not an order's).
fn shown(
    s: &AppState,
    action: &str,
    field: &str,
    v: &serde_json::Value,
    techs: &[shouhou_store::records::Technician],
    units: &[(i64, String)],
    lang: shouhou_domain::Lang,
) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "—".into(),
        Value::Bool(b) => lang.pick(if *b { "是" } else { "否" }, if *b { "yes" } else { "no" }),
        Value::Number(n) if field == "org_unit_id" || field == "partner_unit_id" => n
            .as_i64()
            .and_then(|id| units.iter().find(|u| u.0 == id))
            .map(|u| u.1.clone())
            .unwrap_or_else(|| n.to_string()),
        // A photo is added (its number says nothing to a person).
        Value::Number(_) if field == "photo" => lang.pick("已上传", "uploaded"),
        Value::Number(n) if field == "technician_id" => n
            .as_i64()
            .and_then(|id| techs.iter().find(|t| t.id == id))
            .map(|t| t.display_name.clone())
            .unwrap_or_else(|| n.to_string()),
        Value::String(t) => {
            if let Ok(at) = t.parse::<chrono::DateTime<chrono::Utc>>() {
                return super::local_time(s, at);
            }
            let word = match field {
                "status" => Status::parse_field(t, field)
                    .map(|x| x.label(lang).to_string())
                    .ok(),
                "priority" => shouhou_domain::Priority::parse_field(t, field)
                    .map(|x| x.label(lang).to_string())
                    .ok(),
                "kind" => shouhou_domain::WorkOrderType::parse_field(t, field)
                    .map(|x| x.label(lang).to_string())
                    .ok(),
                "warranty_decision" => shouhou_domain::WarrantyDecision::parse_field(t, field)
                    .map(|x| x.label(lang).to_string())
                    .ok(),
                "channel" if action == "follow_up" => {
                    shouhou_domain::FollowUpChannel::parse_field(t, field)
                        .map(|x| x.label(lang).to_string())
                        .ok()
                }
                "channel" => shouhou_domain::Channel::parse_field(t, field)
                    .map(|x| x.label(lang).to_string())
                    .ok(),
                "difficulty" => Difficulty::parse_field(t, field)
                    .map(|x| x.label(lang).to_string())
                    .ok(),
                "rating" => shouhou_domain::Rating::parse_field(t, field)
                    .map(|x| x.label(lang).to_string())
                    .ok(),
                // A follow-up call without a rating, or a visit's outcome.
                "outcome" => match t.as_str() {
                    "no_answer" => Some(lang.pick("未接通", "no answer")),
                    "refused" => Some(lang.pick("拒访", "refused")),
                    "answered" => Some(lang.pick("已接通", "answered")),
                    _ => shouhou_domain::VisitOutcome::parse_field(t, field)
                        .map(|x| x.label(lang).to_string())
                        .ok(),
                },
                _ => None,
            };
            word.unwrap_or_else(|| t.clone())
        }
        other => other.to_string(),
    }
}
