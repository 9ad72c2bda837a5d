//! The dispatch board: unassigned orders beside each technician's day, manual assignment with
//! skills and load visible, and the route planner (propose, then commit).

mod map;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use shouhou_app::actor::subtree;
use shouhou_app::dispatch::{self as uc, Pin, PlanRequest, PlanView};
use shouhou_domain::{Category, OrgKind};
use shouhou_store::repo::{org_units, Page as Paging};

use super::{render, Chrome, Page};
use crate::extract::{Form, Path, Query};
use crate::i18n::T;
use crate::AppState;

#[derive(Deserialize)]
pub struct BoardQuery {
    store: Option<i64>,
    date: Option<NaiveDate>,
}

pub struct OpenRow {
    id: i64,
    number: String,
    kind: String,
    skill: String,
    skill_key: String,
    customer: String,
    address: String,
    fault: String,
    location_confirmed: bool,
    window: String,
    urgent: bool,
    /// Back from the field (waiting for parts or a revisit): the label, else empty.
    back: String,
    /// The order's store when the board covers several stores, else empty.
    store: String,
    /// The technicians its row offers: (id, what the option says).
    choices: Vec<(i64, String)>,
}

pub struct TechRow {
    id: i64,
    name: String,
    /// The technician's colour on the map of the day.
    colour: &'static str,
    /// The shift's start and end in local time, for the shift form.
    shift_start: String,
    shift_end: String,
    skills: Vec<String>,
    skill_labels: String,
    shift: String,
    load: usize,
    /// The day's orders: (id, number, planned time or state).
    orders: Vec<(i64, String, String)>,
    /// Open orders of the technician on other days.
    later: usize,
    /// The technician's store when the board covers several stores, else empty.
    store: String,
}

impl TechRow {
    pub fn has_skill(&self, key: &str) -> bool {
        self.skills.iter().any(|s| s == key)
    }
}

/// A technician of the store without a shift on the day, and their orders booked for it.
pub struct OffRow {
    id: i64,
    name: String,
    orders: usize,
}

#[derive(Template)]
#[template(path = "dispatch.html")]
struct Board {
    c: Chrome,
    stores: Vec<(i64, String)>,
    store: i64,
    date: NaiveDate,
    unassigned: Vec<OpenRow>,
    /// All the orders waiting, of which `unassigned` lists the first [`WAITING_SHOWN`].
    waiting_total: usize,
    techs: Vec<TechRow>,
    off: Vec<OffRow>,
    map: map::DayMap,
}

/// Waiting orders the board lists (and marks on its map), the most urgent first: a chain's
/// head office may have tens of thousands, which no browser renders in a page.
const WAITING_SHOWN: usize = 200;

fn category_label(key: &str, lang: shouhou_domain::Lang) -> String {
    Category::parse_field(key, "category")
        .map(|c| c.label(lang).to_string())
        .unwrap_or_else(|_| key.to_string())
}

pub async fn board(State(s): State<AppState>, p: Page, Query(q): Query<BoardQuery>) -> Response {
    let lang = p.actor.lang;
    let all_units = org_units::list(&s.app.db, &p.actor.vis, Paging::LARGEST)
        .await
        .unwrap_or_default()
        .items;
    let mut stores: Vec<(i64, String)> = all_units
        .iter()
        .filter(|u| u.kind == OrgKind::Store)
        .map(|u| (u.id, u.name.clone()))
        .collect();
    let everything = org_units::all(&s.app.db).await.unwrap_or_default();
    // Head office and regions plan all their stores' day together.
    for u in all_units.iter().filter(|u| u.kind != OrgKind::Store) {
        let below = subtree(&everything, u.id);
        let count = everything
            .iter()
            .filter(|x| x.kind == OrgKind::Store && below.contains(&x.id))
            .count();
        if count >= 2 {
            stores.push((
                u.id,
                format!("{} · {}", u.name, p.t.t("dispatch.all_stores")),
            ));
        }
    }
    let store = q
        .store
        .filter(|id| stores.iter().any(|s| s.0 == *id))
        .or_else(|| stores.first().map(|s| s.0))
        .unwrap_or(p.actor.user.org_unit_id);
    let date = q.date.unwrap_or_else(|| s.app.today());
    let units = subtree(&everything, store);
    // On a board of several stores every order and technician says whose it is.
    let several = everything
        .iter()
        .filter(|u| u.kind == OrgKind::Store && units.contains(&u.id))
        .count()
        > 1;
    let store_of = |unit: i64| -> String {
        if !several {
            return String::new();
        }
        let mut at = everything.iter().find(|u| u.id == unit);
        while let Some(u) = at {
            if u.kind == OrgKind::Store {
                return u.name.clone();
            }
            at = u
                .parent_id
                .and_then(|p| everything.iter().find(|x| x.id == p));
        }
        String::new()
    };
    let tz = s.app.settings.time_zone;
    let from = s.app.day_start(date);
    let to = from + chrono::Duration::days(1);
    let (open, waiting_total) =
        shouhou_store::dispatch::waiting_orders(&s.app.db, &units, from, to, WAITING_SHOWN as i64)
            .await
            .unwrap_or_default();
    let waiting_total = usize::try_from(waiting_total).unwrap_or(0);
    let mut unassigned: Vec<OpenRow> = open
        .iter()
        .map(|o| OpenRow {
            id: o.id,
            number: o.number.clone(),
            kind: shouhou_domain::WorkOrderType::parse_field(&o.kind, "kind")
                .map(|k| k.label(lang).to_string())
                .unwrap_or_default(),
            skill: o
                .category
                .as_deref()
                .map(|c| category_label(c, lang))
                .unwrap_or_default(),
            skill_key: o.category.clone().unwrap_or_default(),
            customer: o.customer_name.clone(),
            address: o.address.clone(),
            fault: o.fault_description.chars().take(40).collect(),
            location_confirmed: o.location_confirmed,
            window: match (o.appointment_start, o.appointment_end) {
                (Some(a), Some(b)) => {
                    format!("{}–{}", p.time(&s, a), b.with_timezone(&tz).format("%H:%M"))
                }
                _ => String::new(),
            },
            urgent: o.priority == "urgent",
            back: if o.status == "waiting_parts" {
                shouhou_domain::Status::WaitingParts.label(lang).to_string()
            } else {
                String::new()
            },
            store: store_of(o.org_unit_id),
            choices: vec![],
        })
        .collect();
    let on_shift = shouhou_store::dispatch::technicians_on(&s.app.db, &units, date)
        .await
        .unwrap_or_default();
    let ids: Vec<i64> = on_shift.iter().map(|t| t.id).collect();
    // One query for every technician's orders.
    let assigned = shouhou_store::work_orders::assigned_to(&s.app.db, &p.actor.vis, &ids)
        .await
        .unwrap_or_default();
    let mut techs = Vec::new();
    let mut routes: Vec<map::Route> = Vec::new();
    // Two technicians of the same name are told apart by their login.
    let same_name = |name: &str| on_shift.iter().filter(|x| x.display_name == name).count() > 1;
    let on_day =
        |at: Option<chrono::DateTime<chrono::Utc>>| at.is_some_and(|a| a >= from && a < to);
    for t in &on_shift {
        let all: Vec<_> = assigned
            .iter()
            .filter(|w| w.technician_id == Some(t.id))
            .collect();
        // The day's orders: planned or booked that day, and those given without a time yet;
        // orders planned or booked for other days are only counted.
        let orders: Vec<_> = all
            .iter()
            .filter(|w| {
                on_day(w.planned_arrival)
                    || on_day(w.appointment_start)
                    || (w.planned_arrival.is_none() && w.appointment_start.is_none())
            })
            .collect();
        let skills: Vec<String> = serde_json::from_str(&t.skills).unwrap_or_default();
        let colour = map::colour(techs.len());
        let name = if same_name(&t.display_name) {
            format!("{}（{}）", t.display_name, t.username)
        } else {
            t.display_name.clone()
        };
        routes.push(map::Route {
            colour,
            name: name.clone(),
            start: (t.start_lat, t.start_lng),
            stops: orders
                .iter()
                .map(|w| map::Stop {
                    order: w.id,
                    label: format!(
                        "{} {}",
                        w.number,
                        w.planned_arrival
                            .map(|a| a.with_timezone(&tz).format("%H:%M").to_string())
                            .unwrap_or_else(|| w.status.label(lang).to_string())
                    ),
                    timed: w.planned_arrival.is_some(),
                })
                .collect(),
        });
        techs.push(TechRow {
            id: t.id,
            name,
            colour,
            shift_start: t.starts_at.with_timezone(&tz).format("%H:%M").to_string(),
            shift_end: t.ends_at.with_timezone(&tz).format("%H:%M").to_string(),
            skill_labels: skills
                .iter()
                .map(|k| category_label(k, lang))
                .collect::<Vec<_>>()
                .join("、"),
            skills,
            shift: format!(
                "{}–{}",
                t.starts_at.with_timezone(&tz).format("%H:%M"),
                t.ends_at.with_timezone(&tz).format("%H:%M")
            ),
            load: all.len(),
            later: all.len() - orders.len(),
            store: store_of(t.org_unit_id),
            orders: orders
                .iter()
                .map(|w| {
                    (
                        w.id,
                        w.number.clone(),
                        w.planned_arrival
                            .map(|a| a.with_timezone(&tz).format("%H:%M").to_string())
                            .unwrap_or_else(|| w.status.label(lang).to_string()),
                    )
                })
                .collect(),
        });
    }
    // Whom each waiting order's row offers. One store's board: every technician on shift, those
    // with the skill first and marked. A board of several stores (a chain's head office has hundreds on
    // shift): the order's store's technicians, else (none on shift, or an order of no store)
    // those of every store with the skill, else all. Any technician on the board still takes
    // an order dragged onto their row.
    for o in &mut unassigned {
        let own: Vec<&TechRow> = techs
            .iter()
            .filter(|t| !several || (!o.store.is_empty() && t.store == o.store))
            .collect();
        let mut offered: Vec<&TechRow> = if !own.is_empty() {
            own
        } else if techs.iter().any(|t| t.has_skill(&o.skill_key)) {
            techs.iter().filter(|t| t.has_skill(&o.skill_key)).collect()
        } else {
            techs.iter().collect()
        };
        // Those with the skill first: the one a quick "Assign" gives it to can do the job.
        offered.sort_by_key(|t| !t.has_skill(&o.skill_key));
        o.choices = offered
            .into_iter()
            .map(|t| {
                let mut label = t.name.clone();
                if t.store != o.store {
                    label.push_str(&format!(" · {}", t.store));
                }
                if t.has_skill(&o.skill_key) {
                    label.push_str(&format!(" · {}", p.t.t("dispatch.has_skill")));
                }
                label.push_str(&format!(" · {} {}", p.t.t("dispatch.load"), t.load));
                (t.id, label)
            })
            .collect();
    }
    // Technicians of the store off that day, with the orders they still hold for it.
    let off_duty = shouhou_store::dispatch::technicians_off(&s.app.db, &units, date)
        .await
        .unwrap_or_default();
    let off_ids: Vec<i64> = off_duty.iter().map(|t| t.0).collect();
    let held = shouhou_store::work_orders::assigned_to(&s.app.db, &p.actor.vis, &off_ids)
        .await
        .unwrap_or_default();
    let off_names: Vec<String> = off_duty.iter().map(|t| t.1.clone()).collect();
    let off = off_duty
        .into_iter()
        .map(|(id, name, username)| OffRow {
            id,
            name: if on_shift.iter().any(|x| x.display_name == name)
                || off_names.iter().filter(|n| **n == name).count() > 1
            {
                format!("{name}（{username}）")
            } else {
                name.clone()
            },
            orders: held
                .iter()
                .filter(|w| {
                    w.technician_id == Some(id)
                        && (on_day(w.planned_arrival)
                            || on_day(w.appointment_start)
                            || (w.planned_arrival.is_none() && w.appointment_start.is_none()))
                })
                .count(),
        })
        .collect();
    // Where each technician's orders are (the waiting ones' places came with them).
    let shown: Vec<i64> = routes
        .iter()
        .flat_map(|r| r.stops.iter().map(|st| st.order))
        .collect();
    let places = shouhou_store::dispatch::places(&s.app.db, &shown)
        .await
        .unwrap_or_default();
    let waiting: Vec<map::Waiting> = open
        .iter()
        .map(|o| map::Waiting {
            order: o.id,
            label: format!("{} {} · {}", o.number, o.customer_name, o.address),
            at: (o.lat, o.lng),
            confirmed: o.location_confirmed,
        })
        .collect();
    let map = map::DayMap::draw(&routes, &waiting, &places);
    render(&Board {
        c: p.chrome(),
        stores,
        store,
        date,
        unassigned,
        waiting_total,
        techs,
        off,
        map,
    })
}

#[derive(Template)]
#[template(path = "plan_partial.html")]
struct PlanPartial {
    t: T,
    plan: PlanView,
    status: String,
    status_key: String,
    /// (technician, left %, width %, title) of each stop on its time bar.
    bars: Vec<(i64, f64, f64, String)>,
    /// (technician, left %, width %) of each technician's shift on the same scale.
    shifts: Vec<(i64, f64, f64)>,
    /// The scale's hours: (left %, local time, the label's anchor).
    ticks: Vec<(f64, String, &'static str)>,
    /// The pins this plan was made with.
    pins: Vec<Pin>,
    /// Each stop's arrival and each backlog order's deadline in the org's time zone, by order.
    local: std::collections::HashMap<i64, String>,
}

impl PlanPartial {
    /// The local time shown for an order of the plan.
    fn local(&self, order: &i64) -> &str {
        self.local.get(order).map(String::as_str).unwrap_or("")
    }

    /// Whether the plan covers the technicians of more than one store.
    fn several_stores(&self) -> bool {
        self.plan
            .routes
            .iter()
            .any(|r| r.store_name != self.plan.routes[0].store_name)
    }

    fn pinned(&self, order: &i64, technician: &i64) -> bool {
        self.pins
            .iter()
            .any(|p| p.work_order_id == *order && p.technician_id == *technician)
    }
}

fn plan_partial(s: &AppState, p: &Page, mut plan: PlanView, pins: Vec<Pin>) -> Response {
    let t = p.t;
    for u in plan.unassigned.iter_mut() {
        u.reason = t.t(&format!("dispatch.reason.{}", u.reason));
    }
    let tz = s.app.settings.time_zone;
    // Every technician's bar on one scale: the whole hours from the earliest shift start to
    // the latest shift end, each shift shaded and each stop a block on it.
    let lo = plan.routes.iter().map(|r| r.shift_start).min();
    let hi = plan.routes.iter().map(|r| r.shift_end).max();
    let (mut bars, mut shifts, mut ticks) = (Vec::new(), Vec::new(), Vec::new());
    if let (Some(lo), Some(hi)) = (lo, hi) {
        use chrono::Timelike;
        let hour = |t: chrono::DateTime<chrono::Utc>| {
            let l = t.with_timezone(&tz);
            t - chrono::Duration::seconds(l.minute() as i64 * 60 + l.second() as i64)
        };
        let lo = hour(lo);
        let hi = if hour(hi) < hi {
            hour(hi) + chrono::Duration::hours(1)
        } else {
            hi
        };
        let len = (hi - lo).num_seconds().max(1) as f64;
        let x = |t: chrono::DateTime<chrono::Utc>| {
            ((t - lo).num_seconds() as f64 / len * 1000.0).round() / 10.0
        };
        let hours = (hi - lo).num_hours();
        let step = if hours > 12 { 2 } else { 1 };
        let mut t = lo;
        while t <= hi {
            let anchor = if t == lo {
                "start"
            } else if t + chrono::Duration::hours(step) > hi {
                "end"
            } else {
                "middle"
            };
            ticks.push((
                x(t),
                t.with_timezone(&tz).format("%H:%M").to_string(),
                anchor,
            ));
            t += chrono::Duration::hours(step);
        }
        for r in &plan.routes {
            shifts.push((
                r.technician_id,
                x(r.shift_start),
                x(r.shift_end) - x(r.shift_start),
            ));
            for st in &r.stops {
                bars.push((
                    r.technician_id,
                    x(st.arrival),
                    (x(st.departure) - x(st.arrival)).max(0.3),
                    format!(
                        "{} {}–{}",
                        st.number,
                        st.arrival.with_timezone(&tz).format("%H:%M"),
                        st.departure.with_timezone(&tz).format("%H:%M")
                    ),
                ));
            }
        }
    }
    let mut local = std::collections::HashMap::new();
    for st in plan.routes.iter().flat_map(|r| r.stops.iter()) {
        local.insert(
            st.work_order_id,
            st.arrival.with_timezone(&tz).format("%H:%M").to_string(),
        );
    }
    for b in &plan.backlog {
        local.insert(
            b.work_order_id,
            b.arrive_by
                .with_timezone(&tz)
                .format("%m-%d %H:%M")
                .to_string(),
        );
    }
    let status_key = plan.status.clone();
    let status = match plan.status.as_str() {
        "proposed" => p.t.t("dispatch.status.proposed"),
        "committed" => p.t.t("dispatch.status.committed"),
        other => other.to_string(),
    };
    render(&PlanPartial {
        t,
        plan,
        status,
        status_key,
        bars,
        shifts,
        ticks,
        pins,
        local,
    })
}

/// `POST /dispatch/plan`: `store`, `date` and any number of `pin` = `order:technician` (an empty
/// technician leaves the order free) → a new proposal.
pub async fn plan(
    State(s): State<AppState>,
    p: Page,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
    };
    let store = get("store").and_then(|v| v.parse::<i64>().ok());
    let date = get("date").and_then(|v| v.parse::<NaiveDate>().ok());
    let (Some(store), Some(date)) = (store, date) else {
        return axum::response::Html(format!(
            "<p class=\"error\" id=\"plan-error\">{}</p>",
            p.t.t("dispatch.choose_store")
        ))
        .into_response();
    };
    let pins: Vec<Pin> = f
        .iter()
        .filter(|(n, _)| n == "pin")
        .filter_map(|(_, v)| {
            let (o, t) = v.split_once(':')?;
            Some(Pin {
                work_order_id: o.parse().ok()?,
                technician_id: t.parse().ok()?,
            })
        })
        .collect();
    match uc::propose(
        &s.app,
        &p.actor,
        PlanRequest {
            store_id: store,
            date,
            pins: pins.clone(),
            seconds: Some(3),
        },
    )
    .await
    {
        Ok(plan) => plan_partial(&s, &p, plan, pins),
        Err(e) => axum::response::Html(format!(
            "<p class=\"error\" id=\"plan-error\">{}</p>",
            e.message(p.actor.lang).replace('<', "&lt;")
        ))
        .into_response(),
    }
}

pub async fn commit(State(s): State<AppState>, p: Page, Path(id): Path<i64>) -> Response {
    match uc::commit(&s.app, &p.actor, id).await {
        Ok(plan) => plan_partial(&s, &p, plan, vec![]),
        Err(e) => axum::response::Html(format!(
            "<p class=\"error\">{}</p>",
            e.message(p.actor.lang).replace('<', "&lt;")
        ))
        .into_response(),
    }
}

#[derive(Deserialize)]
pub struct ShiftForm {
    technician_id: i64,
    date: NaiveDate,
    /// Local start and end ("08:30"); absent when the technician is taken off the day.
    starts: Option<String>,
    ends: Option<String>,
    /// "1": leave or rest day — the day's shift is removed.
    off: Option<String>,
}

/// `POST /dispatch/shift`: the board's shift form — set a technician's hours for the day, or take
/// them off it (leave). The board reloads on success.
pub async fn shift(State(s): State<AppState>, p: Page, Form(f): Form<ShiftForm>) -> Response {
    let refused = |msg: String| {
        axum::response::Html(format!(
            "<p class=\"error\" role=\"alert\">{}</p>",
            msg.replace('<', "&lt;")
        ))
        .into_response()
    };
    let done = if f.off.as_deref() == Some("1") {
        shouhou_app::org::clear_shift(&s.app, &p.actor, f.technician_id, f.date).await
    } else {
        let tz = s.app.settings.time_zone;
        let at = |v: &Option<String>| {
            v.as_deref()
                .and_then(|t| chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M").ok())
                .and_then(|t| f.date.and_time(t).and_local_timezone(tz).single())
                .map(|t| t.with_timezone(&chrono::Utc))
        };
        let (Some(starts_at), Some(ends_at)) = (at(&f.starts), at(&f.ends)) else {
            return refused(p.t.t("dispatch.shift_times"));
        };
        shouhou_app::org::set_shift(
            &s.app,
            &p.actor,
            f.technician_id,
            shouhou_app::org::NewShift {
                day: f.date,
                starts_at,
                ends_at,
            },
        )
        .await
        .map(|_| ())
    };
    match done {
        Ok(()) => ([("HX-Refresh", "true")], "").into_response(),
        Err(e) => refused(e.message(p.actor.lang)),
    }
}
