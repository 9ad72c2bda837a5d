//! Dispatch with the route planner: propose a plan for a store's day, let the dispatcher pin
//! jobs and plan again, commit it (orders assigned, each technician's day ordered), and insert a
//! new urgent order into a committed day with the least disruption.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shouhou_domain::{Role, Status, ValidationError, WorkOrderType};
use shouhou_routing as routing;
use shouhou_store::dispatch as store;
use shouhou_store::Tx;
use utoipa::ToSchema;

use crate::actor::subtree;
use crate::work_orders::{save_in, transition_in, Transition};
use crate::{Actor, App, AppError, Result};

const DISPATCH_ROLES: &[Role] = &[Role::Admin, Role::Manager, Role::Dispatcher];

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Pin {
    pub work_order_id: i64,
    pub technician_id: i64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PlanRequest {
    pub store_id: i64,
    pub date: NaiveDate,
    /// Orders the dispatcher fixed to a technician.
    #[serde(default)]
    pub pins: Vec<Pin>,
    /// Solver time, 1–60 s (default 5).
    pub seconds: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StopView {
    pub work_order_id: i64,
    pub number: String,
    pub arrival: DateTime<Utc>,
    pub departure: DateTime<Utc>,
    pub travel_minutes: i64,
    /// In a plan of several stores: the order's store, when it is not the technician's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_store: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RouteView {
    pub technician_id: i64,
    pub technician_name: String,
    /// The technician's store.
    #[serde(default)]
    pub store_name: String,
    pub shift_start: DateTime<Utc>,
    pub shift_end: DateTime<Utc>,
    pub stops: Vec<StopView>,
    pub travel_minutes: i64,
    pub onsite_minutes: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UnassignedView {
    pub work_order_id: i64,
    pub number: String,
    /// no_skill, outside_windows or no_time_left
    pub reason: String,
}

/// An open order the day's plan leaves out (no appointment that day, not urgent, not due): the
/// dispatcher pins it into the plan to take it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BacklogView {
    pub work_order_id: i64,
    pub number: String,
    pub arrive_by: DateTime<Utc>,
}

/// The backlog a plan shows, oldest deadline first.
pub const BACKLOG_SHOWN: usize = 30;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlanView {
    pub id: i64,
    pub store_id: i64,
    pub date: NaiveDate,
    /// proposed, committed or superseded
    pub status: String,
    pub routes: Vec<RouteView>,
    pub unassigned: Vec<UnassignedView>,
    /// The first [`BACKLOG_SHOWN`] orders of the backlog, and how many there are.
    pub backlog: Vec<BacklogView>,
    pub backlog_total: usize,
    pub travel_minutes: i64,
    pub onsite_minutes: i64,
}

/// What is stored with a plan: its inputs (for insertion later) and the solver's plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    techs: Vec<routing::Technician>,
    names: Vec<(i64, String)>,
    jobs: Vec<routing::Job>,
    /// Open orders not due that day (pinning one moves it into `jobs`), deadline first.
    #[serde(default)]
    backlog: Vec<(routing::Job, DateTime<Utc>)>,
    numbers: Vec<(i64, String)>,
    /// The stores in the plan (id, name).
    #[serde(default)]
    stores: Vec<(i64, String)>,
    plan: routing::Plan,
}

/// Minutes on site by order type until fee rules and history give better estimates.
fn service_minutes(kind: &str) -> i64 {
    match kind {
        "install" => 90,
        "replacement" => 75,
        "inspection" => 45,
        _ => 60,
    }
}

fn day_bounds(app: &App, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = app.day_start(date);
    (start, start + Duration::days(1))
}

fn tech_key(id: i64) -> String {
    format!("t{id}")
}

fn parse_key(s: &str) -> Option<i64> {
    s.trim_start_matches('t').parse().ok()
}

fn view(id: i64, store_id: i64, date: NaiveDate, status: &str, s: &Stored) -> PlanView {
    let number = |id: i64| {
        s.numbers
            .iter()
            .find(|n| n.0 == id)
            .map(|n| n.1.clone())
            .unwrap_or_default()
    };
    let name = |id: i64| {
        s.names
            .iter()
            .find(|n| n.0 == id)
            .map(|n| n.1.clone())
            .unwrap_or_default()
    };
    let store_name = |key: Option<&String>| -> String {
        let id: i64 = key.and_then(|k| k.parse().ok()).unwrap_or(0);
        s.stores
            .iter()
            .find(|x| x.0 == id)
            .map(|x| x.1.clone())
            .unwrap_or_default()
    };
    let job_store = |wo: i64| -> Option<&String> {
        let key = wo.to_string();
        s.jobs
            .iter()
            .find(|j| j.id == key)
            .and_then(|j| j.store.as_ref())
    };
    let mut routes: Vec<RouteView> = s
        .techs
        .iter()
        .map(|t| {
            let tid = parse_key(&t.id).unwrap_or(0);
            let r = s.plan.routes.iter().find(|r| r.technician_id == t.id);
            RouteView {
                technician_id: tid,
                technician_name: name(tid),
                store_name: store_name(t.store.as_ref()),
                shift_start: t.shift_start,
                shift_end: t.shift_end,
                stops: r
                    .map(|r| {
                        r.stops
                            .iter()
                            .map(|st| {
                                let wo = st.job_id.parse().unwrap_or(0);
                                let home = job_store(wo);
                                StopView {
                                    work_order_id: wo,
                                    number: number(wo),
                                    arrival: st.arrival,
                                    departure: st.departure,
                                    travel_minutes: (st.travel_secs + 30) / 60,
                                    other_store: (home.is_some() && home != t.store.as_ref())
                                        .then(|| store_name(home)),
                                }
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                travel_minutes: r.map(|r| (r.travel_secs + 30) / 60).unwrap_or(0),
                onsite_minutes: r.map(|r| r.onsite_secs / 60).unwrap_or(0),
            }
        })
        .collect();
    routes.sort_by_key(|r| r.technician_id);
    PlanView {
        id,
        store_id,
        date,
        status: status.to_string(),
        unassigned: s
            .plan
            .unassigned
            .iter()
            .map(|u| {
                let wo = u.job_id.parse().unwrap_or(0);
                UnassignedView {
                    work_order_id: wo,
                    number: number(wo),
                    reason: serde_json::to_value(u.reason)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                }
            })
            .collect(),
        backlog: s
            .backlog
            .iter()
            .take(BACKLOG_SHOWN)
            .map(|(j, arrive_by)| {
                let wo = j.id.parse().unwrap_or(0);
                BacklogView {
                    work_order_id: wo,
                    number: number(wo),
                    arrive_by: *arrive_by,
                }
            })
            .collect(),
        backlog_total: s.backlog.len(),
        travel_minutes: routes.iter().map(|r| r.travel_minutes).sum(),
        onsite_minutes: routes.iter().map(|r| r.onsite_minutes).sum(),
        routes,
    }
}

fn to_json(s: &Stored) -> Result<String> {
    serde_json::to_string(s).map_err(|e| AppError::Internal(e.to_string()))
}

fn from_json(s: &str) -> Result<Stored> {
    serde_json::from_str(s).map_err(|e| AppError::Internal(e.to_string()))
}

async fn inputs(
    app: &App,
    actor: &Actor,
    store_id: i64,
    date: NaiveDate,
) -> Result<(Vec<i64>, Stored)> {
    actor.require(DISPATCH_ROLES)?;
    if !actor.sees_unit(store_id) {
        return Err(AppError::invalid(
            "store_id",
            ValidationError::UnknownReference,
        ));
    }
    let all_units = app.units.units(&app.db).await?;
    let units = subtree(&all_units, store_id);
    let stores: Vec<(i64, String)> = all_units
        .iter()
        .filter(|u| u.kind == shouhou_domain::OrgKind::Store && units.contains(&u.id))
        .map(|u| (u.id, u.name.clone()))
        .collect();
    let techs = store::technicians_on(&app.db, &units, date).await?;
    if techs.is_empty() {
        return Err(AppError::invalid(
            "date",
            ValidationError::Invalid {
                zh: "这一天该门店没有技术员排班".into(),
                en: "no technician of this store has a shift that day".into(),
            },
        ));
    }
    let (from, to) = day_bounds(app, date);
    // Orders back from the field wait for parts or a revisit: the dispatcher brings them back
    // by hand from the board when they are ready, the planner leaves them.
    let orders: Vec<_> = store::open_orders(&app.db, &units, from, to)
        .await?
        .into_iter()
        .filter(|o| o.status != "waiting_parts")
        .collect();
    let rtechs = techs
        .iter()
        .map(|t| routing::Technician {
            id: tech_key(t.id),
            start: routing::Point {
                lat: t.start_lat,
                lng: t.start_lng,
            },
            end: None,
            shift_start: t.starts_at,
            shift_end: t.ends_at,
            breaks: vec![],
            skills: serde_json::from_str(&t.skills).unwrap_or_default(),
            store: Some(t.org_unit_id.to_string()),
        })
        .collect();
    let on_shift = |t: Option<i64>| t.filter(|t| techs.iter().any(|x| x.id == *t));
    let mut jobs = Vec::new();
    let mut backlog = Vec::new();
    // An order accepted by a technician who is not working that day stays theirs: it is not the
    // day's to plan.
    for (o, job) in orders
        .iter()
        .filter(|o| o.status != "accepted" || on_shift(o.technician_id).is_some())
        .map(|o| {
            (
                o,
                routing::Job {
                    id: o.id.to_string(),
                    location: routing::Point {
                        lat: o.lat,
                        lng: o.lng,
                    },
                    service_secs: service_minutes(&o.kind) * 60,
                    // The appointment; an urgent order without one must be reached by its arrive-by
                    // deadline (the planner leaves it unassigned, "outside windows", if nobody can).
                    window: match (o.appointment_start, o.appointment_end) {
                        (Some(a), Some(b)) => Some((a.max(from), b.min(to))),
                        _ if o.priority == "urgent" && o.arrive_by > from && o.arrive_by < to => {
                            Some((from, o.arrive_by))
                        }
                        _ => None,
                    },
                    skill: o.category.clone(),
                    urgent: o.priority == "urgent" || o.arrive_by < to,
                    // An order its technician accepted stays with them.
                    pinned_to: (o.status == "accepted")
                        .then(|| on_shift(o.technician_id))
                        .flatten()
                        .map(tech_key),
                    // An order of head office or a region belongs to no store.
                    store: stores
                        .iter()
                        .any(|x| x.0 == o.org_unit_id)
                        .then(|| o.org_unit_id.to_string()),
                },
            )
        })
    {
        // The day's jobs: appointments that day, urgent orders and those due by its end (or
        // already accepted); the rest wait in the backlog.
        let due = o.appointment_start.is_some()
            || o.priority == "urgent"
            || o.arrive_by < to
            || o.status == "assigned"
            || job.pinned_to.is_some();
        if due {
            jobs.push(job);
        } else {
            backlog.push((job, o.arrive_by));
        }
    }
    let stored = Stored {
        techs: rtechs,
        names: techs
            .iter()
            .map(|t| (t.id, t.display_name.clone()))
            .collect(),
        jobs,
        backlog,
        numbers: orders.iter().map(|o| (o.id, o.number.clone())).collect(),
        stores,
        plan: routing::Plan {
            routes: vec![],
            unassigned: vec![],
        },
    };
    Ok((units, stored))
}

/// Children of the search per second asked for: about what a store's day of 110 jobs and 12
/// technicians takes on one core of a small server (250–280 a second measured).
const CHILDREN_PER_SECOND: usize = 200;

async fn solve(mut s: Stored, seconds: usize) -> Result<Stored> {
    let seconds = seconds.clamp(1, 60);
    let opts = routing::SolveOptions {
        // Our hybrid genetic search on one core, repeatable: a fixed seed and a number of
        // children, so planning again with nothing changed gives the same day; the time is
        // only a cap, for days larger than a store's (docs/BENCHMARKS.md, "The planner on our
        // own search").
        max_seconds: Some(2 * seconds),
        max_generations: Some(CHILDREN_PER_SECOND * seconds),
        repeatable: true,
        threads: Some(1),
        search: routing::Search::Hgs,
    };
    tokio::task::spawn_blocking(move || {
        let plan = routing::plan(&s.techs, &s.jobs, &routing::TravelModel::default(), &opts)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        s.plan = plan;
        Ok(s)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

/// Proposes a plan for the store's day (nothing is assigned until it is committed).
pub async fn propose(app: &App, actor: &Actor, r: PlanRequest) -> Result<PlanView> {
    let (_, mut s) = inputs(app, actor, r.store_id, r.date).await?;
    for (i, p) in r.pins.iter().enumerate() {
        let key = p.work_order_id.to_string();
        if let Some(at) = s.backlog.iter().position(|(j, _)| j.id == key) {
            let (job, _) = s.backlog.remove(at);
            s.jobs.push(job);
        }
        let job = s
            .jobs
            .iter_mut()
            .find(|j| j.id == p.work_order_id.to_string())
            .ok_or_else(|| {
                AppError::invalid(
                    &format!("pins[{i}].work_order_id"),
                    ValidationError::UnknownReference,
                )
            })?;
        if !s.techs.iter().any(|t| t.id == tech_key(p.technician_id)) {
            return Err(AppError::invalid(
                &format!("pins[{i}].technician_id"),
                ValidationError::UnknownReference,
            ));
        }
        job.pinned_to = Some(tech_key(p.technician_id));
    }
    let s = solve(s, r.seconds.unwrap_or(5)).await?;
    let mut tx = app.db.begin().await?;
    let id = store::insert(
        &mut tx,
        r.store_id,
        r.date,
        &to_json(&s)?,
        actor.id(),
        app.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(view(id, r.store_id, r.date, "proposed", &s))
}

pub async fn get(app: &App, actor: &Actor, id: i64) -> Result<PlanView> {
    actor.require(DISPATCH_ROLES)?;
    let row = store::get(&app.db, id).await?;
    if !actor.sees_unit(row.org_unit_id) {
        return Err(AppError::NotFound);
    }
    Ok(view(
        row.id,
        row.org_unit_id,
        row.day,
        &row.status,
        &from_json(&row.plan)?,
    ))
}

/// Puts each stop's order on its technician's day at its place (assigning new orders).
async fn apply_route(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    tech: i64,
    route: &routing::Route,
) -> Result<()> {
    for (seq, st) in route.stops.iter().enumerate() {
        let id: i64 = st
            .job_id
            .parse()
            .map_err(|_| AppError::Internal("bad job id".into()))?;
        let mut w = shouhou_store::work_orders::get_for_update(tx, &actor.vis, id).await?;
        if w.status == Status::New {
            let t = Transition {
                to: Status::Assigned,
                technician_id: Some(tech),
                partner_unit_id: None,
                reason: None,
                note: Some("dispatch plan".into()),
                lat: None,
                lng: None,
                outcome: None,
            };
            w = transition_in(app, tx, actor, id, None, t).await?;
        }
        let mut after = w.clone();
        if w.status == Status::Assigned {
            after.technician_id = Some(tech);
        } else if w.technician_id != Some(tech) {
            // Accepted by someone else meanwhile: leave it with them.
            continue;
        }
        after.planned_seq = Some(seq as i64 + 1);
        after.planned_arrival = Some(st.arrival);
        after.updated_at = app.now();
        if after.planned_seq != w.planned_seq
            || after.planned_arrival != w.planned_arrival
            || after.technician_id != w.technician_id
        {
            save_in(app, tx, actor, &w, &after).await?;
        }
    }
    Ok(())
}

/// Commits a proposed plan: orders are assigned and each technician's day is ordered.
pub async fn commit(app: &App, actor: &Actor, id: i64) -> Result<PlanView> {
    actor.require(DISPATCH_ROLES)?;
    let mut tx = app.db.begin().await?;
    let row = store::get_tx(&mut tx, id).await?;
    if !actor.sees_unit(row.org_unit_id) {
        return Err(AppError::NotFound);
    }
    if row.status != "proposed" {
        return Err(AppError::invalid(
            "status",
            ValidationError::Invalid {
                zh: "只有待确认的方案可以确认".into(),
                en: "only a proposed plan can be committed".into(),
            },
        ));
    }
    let s = from_json(&row.plan)?;
    for r in &s.plan.routes {
        let tech = parse_key(&r.technician_id)
            .ok_or_else(|| AppError::Internal("bad technician id".into()))?;
        apply_route(app, &mut tx, actor, tech, r).await?;
    }
    // Orders this plan could not place lose the time an earlier plan gave them.
    for u in &s.plan.unassigned {
        let Ok(id) = u.job_id.parse::<i64>() else {
            continue;
        };
        let w = shouhou_store::work_orders::get_for_update(&mut tx, &actor.vis, id).await?;
        if w.planned_seq.is_some() || w.planned_arrival.is_some() {
            let mut after = w.clone();
            after.planned_seq = None;
            after.planned_arrival = None;
            after.updated_at = app.now();
            save_in(app, &mut tx, actor, &w, &after).await?;
        }
    }
    let now = app.now();
    store::set(&mut tx, id, "committed", &row.plan, Some(now)).await?;
    store::supersede(&mut tx, row.org_unit_id, row.day, id).await?;
    shouhou_store::repo::audit::insert(
        &mut tx,
        "dispatch_plan",
        id,
        "commit",
        Some(actor.id()),
        now,
        &serde_json::json!({"status": ["proposed", "committed"]}),
    )
    .await?;
    tx.commit().await?;
    Ok(view(id, row.org_unit_id, row.day, "committed", &s))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct InsertRequest {
    pub work_order_id: i64,
}

/// Inserts a new order (typically urgent) into a committed day where it disturbs least.
pub async fn insert(app: &App, actor: &Actor, id: i64, r: InsertRequest) -> Result<PlanView> {
    actor.require(DISPATCH_ROLES)?;
    let row = store::get(&app.db, id).await?;
    if !actor.sees_unit(row.org_unit_id) {
        return Err(AppError::NotFound);
    }
    if row.status != "committed" {
        return Err(AppError::invalid(
            "status",
            ValidationError::Invalid {
                zh: "只能向已确认的方案插单".into(),
                en: "orders are inserted into a committed plan only".into(),
            },
        ));
    }
    let mut s = from_json(&row.plan)?;
    let key = r.work_order_id.to_string();
    if s.plan
        .routes
        .iter()
        .any(|rt| rt.stops.iter().any(|st| st.job_id == key))
    {
        return Err(AppError::invalid(
            "work_order_id",
            ValidationError::Duplicate,
        ));
    }
    // The order as planning sees it today.
    let (_, fresh) = inputs(app, actor, row.org_unit_id, row.day).await?;
    let job = fresh
        .jobs
        .iter()
        .find(|j| j.id == key)
        .cloned()
        .ok_or_else(|| {
            AppError::invalid(
                "work_order_id",
                ValidationError::Invalid {
                    zh: "该工单不是这一天待派的上门工单".into(),
                    en: "not an open field order of this store and day".into(),
                },
            )
        })?;
    if let Some(n) = fresh.numbers.iter().find(|n| n.0 == r.work_order_id) {
        s.numbers.push(n.clone());
    }
    let kind_ok = shouhou_store::work_orders::get(&app.db, &actor.vis, r.work_order_id)
        .await?
        .kind
        != WorkOrderType::RepairPhone;
    if !kind_ok {
        return Err(AppError::invalid(
            "work_order_id",
            ValidationError::UnknownReference,
        ));
    }
    s.jobs.retain(|j| j.id != key);
    let inserted = routing::insert::insert(
        &s.techs,
        &s.jobs,
        &s.plan,
        &job,
        &routing::TravelModel::default(),
    )
    .map_err(|e| AppError::Internal(e.to_string()))?;
    s.jobs.push(job);
    s.plan = inserted.plan;
    let mut tx = app.db.begin().await?;
    // The route the new order joined and, when a planned order moved to make room for it, the
    // route that order moved to.
    let changed: Vec<&routing::Route> = s
        .plan
        .routes
        .iter()
        .filter(|rt| {
            rt.stops.iter().any(|st| st.job_id == key)
                || inserted
                    .moved
                    .as_ref()
                    .is_some_and(|m| m.to == rt.technician_id)
        })
        .collect();
    for route in changed {
        let tech = parse_key(&route.technician_id)
            .ok_or_else(|| AppError::Internal("bad technician id".into()))?;
        apply_route(app, &mut tx, actor, tech, route).await?;
    }
    store::set(&mut tx, id, "committed", &to_json(&s)?, None).await?;
    shouhou_store::repo::audit::insert(
        &mut tx,
        "dispatch_plan",
        id,
        "insert",
        Some(actor.id()),
        app.now(),
        &match &inserted.moved {
            None => serde_json::json!({"work_order_id": [null, r.work_order_id]}),
            Some(m) => serde_json::json!({
                "work_order_id": [null, r.work_order_id],
                "moved_work_order_id": [null, m.job_id.parse::<i64>().ok()],
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(view(id, row.org_unit_id, row.day, "committed", &s))
}
