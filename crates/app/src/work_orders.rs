//! Work orders from call to close: creation (number, SLA, warranty), edits guarded by version,
//! and lifecycle transitions with their visits.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use shouhou_domain::calendar::WorkingTime;
use shouhou_domain::geo::Point;
use shouhou_domain::kinds::required_text;
use shouhou_domain::lifecycle::{check_transition, next_states};
use shouhou_domain::sla::{deadlines, pick_rule, SlaRule};
use shouhou_domain::{
    validate, Channel, DeclineReason, OrgKind, Priority, Role, Status, ValidationError,
    VisitOutcome, WarrantyDecision, WorkOrderType,
};
use shouhou_store::records::{
    Customer, Device, OrgFingerprint, OrgUnit, Visit, WorkOrder, WorkOrderEvent,
};
use shouhou_store::repo::versions::Versioned;
use shouhou_store::repo::{self, customers, devices, policies, technicians, Page, Paged};
use shouhou_store::{work_orders as store, Tx};
use utoipa::ToSchema;

use crate::catalog::sla_rules_tx;
use crate::org::nearest_store;
use crate::{audit, Actor, App, AppError, Result};

pub const INTAKE_ROLES: &[Role] = &[Role::Admin, Role::Manager, Role::Dispatcher, Role::Clerk];
pub const DISPATCH_ROLES: &[Role] = &[Role::Admin, Role::Manager, Role::Dispatcher];

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewWorkOrder {
    pub customer_id: i64,
    pub device_id: Option<i64>,
    pub address_id: Option<i64>,
    pub kind: WorkOrderType,
    pub channel: Option<Channel>,
    pub priority: Option<Priority>,
    #[schema(min_length = 1, max_length = 2000)]
    pub fault_description: String,
    pub appointment_start: Option<DateTime<Utc>>,
    pub appointment_end: Option<DateTime<Utc>>,
    /// The unit the order is placed under; by default the customer's. Every order is owned by a
    /// store: this unit if it is one, else the store below it nearest the order's address whose
    /// technicians have the skill the device needs (see [`owning_store`]).
    pub org_unit_id: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct WorkOrderPatch {
    #[schema(min_length = 1, max_length = 2000)]
    pub fault_description: Option<String>,
    pub priority: Option<Priority>,
    pub address_id: Option<i64>,
    pub appointment_start: Option<DateTime<Utc>>,
    pub appointment_end: Option<DateTime<Utc>>,
    /// Only while the order is `new`.
    pub kind: Option<WorkOrderType>,
    pub device_id: Option<i64>,
    /// The store that owns the order (dispatchers, managers and admins; only while it is `new`).
    pub org_unit_id: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct Transition {
    pub to: Status,
    /// With `assigned`: the technician (or `partner_unit_id` for an outsourced install).
    pub technician_id: Option<i64>,
    pub partner_unit_id: Option<i64>,
    /// Required with `cancelled` (free text) and with `new` — a technician declining the order —
    /// as one of `skill`, `schedule`, `distance`, `parts`, `unwell`, `other` (the free text goes
    /// in `note`).
    pub reason: Option<String>,
    pub note: Option<String>,
    /// Where the actor is (e.g. the browser's position on arrival).
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// With `completed` (default `fixed`) or `waiting_parts` (default `needs_parts`).
    pub outcome: Option<VisitOutcome>,
}

fn check_window(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> Result<()> {
    match (start, end) {
        (Some(s), Some(e)) if e <= s => Err(AppError::invalid(
            "appointment_end",
            ValidationError::DateOrder {
                other: "appointment_start",
            },
        )),
        (Some(_), None) => Err(AppError::invalid(
            "appointment_end",
            ValidationError::Required,
        )),
        (None, Some(_)) => Err(AppError::invalid(
            "appointment_start",
            ValidationError::Required,
        )),
        _ => Ok(()),
    }
}

/// Checks that device and address belong to the customer; returns the address to use.
async fn check_refs(
    tx: &mut Tx,
    customer: &Customer,
    device_id: Option<i64>,
    address_id: Option<i64>,
) -> Result<(Option<i64>, Option<Device>)> {
    let mut device = None;
    if let Some(d) = device_id {
        device = Some(
            devices::get_tx(tx, d)
                .await
                .ok()
                .filter(|d| d.customer_id == customer.id)
                .ok_or_else(|| AppError::invalid("device_id", ValidationError::UnknownReference))?,
        );
    }
    if let Some(a) = address_id {
        if !customer.addresses.iter().any(|x| x.id == a) {
            return Err(AppError::invalid(
                "address_id",
                ValidationError::UnknownReference,
            ));
        }
        return Ok((Some(a), device));
    }
    let site = device.as_ref().and_then(|d| d.site_address_id);
    Ok((
        site.or_else(|| customer.addresses.first().map(|a| a.id)),
        device,
    ))
}

/// The store that owns an order placed under `unit`: `unit` itself if it is a store (the
/// customer's store, usually); else, among the stores below it, the nearest to the order's
/// address whose active technicians have the skill of the device's category (any store when
/// none has it, or without a device). `unit` when no store lies below it (a one-shop org).
pub async fn owning_store(
    tx: &mut Tx,
    units: &[OrgUnit],
    unit: i64,
    customer: &Customer,
    address_id: Option<i64>,
    device_id: Option<i64>,
) -> Result<i64> {
    if units
        .iter()
        .any(|u| u.id == unit && u.kind == OrgKind::Store)
    {
        return Ok(unit);
    }
    let at = customer
        .addresses
        .iter()
        .find(|a| Some(a.id) == address_id)
        .or(customer.addresses.first())
        .map(|a| Point::new(a.lat, a.lng))
        .or_else(|| crate::org::unit_place(units, unit));
    let skill = match device_id {
        Some(d) => {
            let dev = devices::get_tx(tx, d).await?;
            Some(repo::products::get_tx(tx, dev.product_id).await?.category)
        }
        None => None,
    };
    let skilled: Vec<i64> = match skill {
        Some(cat) => technicians::skills_by_unit(tx)
            .await?
            .into_iter()
            .filter(|(_, skills)| {
                serde_json::from_str::<Vec<String>>(skills)
                    .is_ok_and(|v| v.iter().any(|s| s == cat.as_str()))
            })
            .map(|(u, _)| u)
            .collect(),
        None => Vec::new(),
    };
    let best = if skill.is_some() {
        nearest_store(units, unit, at, |s| skilled.contains(&s))
    } else {
        None
    };
    Ok(best
        .or_else(|| nearest_store(units, unit, at, |_| true))
        .unwrap_or(unit))
}

/// What a new order's checks read that rarely changes: the org tree, the SLA rules and the
/// working calendar. [`create`] reads them before its transaction, so SQLite's one writer is
/// held for the order's own reads and writes only; [`create_in`] reads them inside the
/// caller's transaction.
pub struct Rarely {
    units: Arc<Vec<OrgUnit>>,
    rules: Vec<SlaRule>,
    calendar: WorkingTime,
}

/// The server's [`Rarely`], with the org fingerprint it was read at: every setting it holds is
/// a versioned one, so an unchanged fingerprint means unchanged settings, on this server or any
/// other on the same database.
#[derive(Default)]
pub struct RarelyCache(RwLock<Option<(OrgFingerprint, Arc<Rarely>)>>);

impl Rarely {
    /// Read outside any transaction, from the server's cache when the org's fingerprint (the
    /// one `seen` at sign-in, else read now) is the one it was read at.
    pub async fn read(app: &App, seen: Option<OrgFingerprint>) -> Result<Arc<Rarely>> {
        let now = match seen {
            Some(f) => f,
            None => repo::org_units::fingerprint(&app.db).await?,
        };
        if let Ok(g) = app.rarely.0.read() {
            if let Some((at, r)) = g.as_ref() {
                if *at == now {
                    return Ok(r.clone());
                }
            }
        }
        // Read after the fingerprint: a change in between leaves a stale fingerprint, which the
        // next request finds different and reads again.
        let r = Arc::new(Rarely {
            units: app.units.units_at(&app.db, now).await?,
            rules: crate::catalog::sla_rules(app).await?,
            calendar: crate::calendar::working_time(app).await?,
        });
        if let Ok(mut g) = app.rarely.0.write() {
            *g = Some((now, r.clone()));
        }
        Ok(r)
    }

    async fn read_tx(tx: &mut Tx) -> Result<Rarely> {
        Ok(Rarely {
            units: Arc::new(repo::org_units::all_tx(tx).await?),
            rules: sla_rules_tx(tx).await?,
            calendar: crate::calendar::working_time_tx(tx).await?,
        })
    }
}

/// Creates an order inside `tx`: numbered, with SLA deadlines and a warranty decision.
pub async fn create_in(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    n: &NewWorkOrder,
) -> Result<WorkOrder> {
    let rarely = Rarely::read_tx(tx).await?;
    create_with(app, tx, actor, n, &rarely).await
}

/// The warranty decision for `device` on the org's today, with the (id, version) of the
/// device and of its policy it was decided from; without a device it is not decided (not "out
/// of warranty": the customer would be charged for what the manufacturer may owe).
async fn warranty(
    app: &App,
    tx: &mut Tx,
    device: Option<Device>,
) -> Result<(WarrantyDecision, Option<(i64, i64)>, Option<(i64, i64)>)> {
    let Some(d) = device else {
        return Ok((WarrantyDecision::Undecided, None, None));
    };
    let p = policies::get_tx(tx, d.policy_id).await?;
    let decision = p
        .terms()
        .decide(d.purchase_date, d.install_date, app.today());
    Ok((decision, Some((d.id, d.version)), Some((p.id, p.version))))
}

/// [`create_in`] with the rarely changing settings already read.
pub async fn create_with(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    n: &NewWorkOrder,
    rarely: &Rarely,
) -> Result<WorkOrder> {
    let plan = plan(app, tx, actor, n, rarely).await?;
    write(app, tx, actor, n, rarely, plan).await
}

/// What a new order is computed from the records (its store, address, deadlines, warranty
/// decision), with the versions of the records it was computed from.
struct Plan {
    fault: String,
    priority: Priority,
    customer: (i64, i64),
    device: Option<(i64, i64)>,
    policy: Option<(i64, i64)>,
    unit: i64,
    address_id: Option<i64>,
    rule: SlaRule,
    warranty_decision: WarrantyDecision,
}

impl Plan {
    /// Whether the customer, device and warranty policy are still the versions the plan was
    /// computed from (every change to them raises their version; see `versions::still`).
    async fn holds(&self, tx: &mut Tx) -> Result<bool> {
        Ok(repo::versions::still(tx, &self.records()).await?)
    }

    /// The records the plan was computed from, with their versions.
    fn records(&self) -> Vec<(Versioned, i64, i64)> {
        let mut records = vec![(Versioned::Customer, self.customer.0, self.customer.1)];
        records.extend(self.device.map(|(id, v)| (Versioned::Device, id, v)));
        records.extend(self.policy.map(|(id, v)| (Versioned::Policy, id, v)));
        records
    }
}

async fn plan(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    n: &NewWorkOrder,
    rarely: &Rarely,
) -> Result<Plan> {
    actor.require(INTAKE_ROLES)?;
    let fault = required_text(&n.fault_description, "fault_description", 2000)?;
    check_window(n.appointment_start, n.appointment_end)?;
    let now = app.now();
    if n.appointment_end.is_some_and(|e| e < now) {
        return Err(AppError::invalid(
            "appointment_end",
            ValidationError::Invalid {
                zh: "预约时间已过".into(),
                en: "the appointment window is in the past".into(),
            },
        ));
    }
    let customer = customers::without_phones_tx(tx, n.customer_id)
        .await
        .ok()
        .filter(|c| actor.sees_unit(c.org_unit_id))
        .ok_or_else(|| AppError::invalid("customer_id", ValidationError::UnknownReference))?;
    let (address_id, device) = check_refs(tx, &customer, n.device_id, n.address_id).await?;
    let placed_under = n.org_unit_id.unwrap_or(customer.org_unit_id);
    if !actor.sees_unit(placed_under) {
        return Err(AppError::invalid(
            "org_unit_id",
            ValidationError::UnknownReference,
        ));
    }
    let unit = owning_store(
        tx,
        &rarely.units,
        placed_under,
        &customer,
        address_id,
        n.device_id,
    )
    .await?;
    let priority = n.priority.unwrap_or(Priority::Normal);
    let rule = pick_rule(&rarely.rules, priority, customer.tier);
    let (warranty_decision, device, policy) = warranty(app, tx, device).await?;
    Ok(Plan {
        fault,
        priority,
        customer: (customer.id, customer.version),
        device,
        policy,
        unit,
        address_id,
        rule,
        warranty_decision,
    })
}

/// A planned order as it is written at `now` (not yet numbered).
fn order(
    app: &App,
    actor: &Actor,
    n: &NewWorkOrder,
    rarely: &Rarely,
    p: &Plan,
    now: DateTime<Utc>,
) -> WorkOrder {
    // The deadlines run from the moment the order is written, its creation time.
    let sla = deadlines(
        &p.rule,
        now,
        n.appointment_end,
        &crate::calendar::sla_time(app, &rarely.calendar),
    );
    WorkOrder {
        id: 0,
        number: String::new(),
        org_unit_id: p.unit,
        customer_id: p.customer.0,
        device_id: n.device_id,
        address_id: p.address_id,
        kind: n.kind,
        channel: n.channel.unwrap_or(Channel::Phone),
        priority: p.priority,
        status: Status::New,
        fault_description: p.fault.clone(),
        appointment_start: n.appointment_start,
        appointment_end: n.appointment_end,
        respond_by: sla.respond_by,
        arrive_by: sla.arrive_by,
        resolve_by: sla.resolve_by,
        warranty_decision: p.warranty_decision,
        technician_id: None,
        partner_unit_id: None,
        created_by: actor.id(),
        created_at: now,
        updated_at: now,
        accepted_at: None,
        completed_at: None,
        reviewed_at: None,
        closed_at: None,
        cancelled_at: None,
        cancel_reason: None,
        version: 1,
        planned_seq: None,
        planned_arrival: None,
    }
}

/// What is written with a new, numbered order: its first event and its audit entry.
fn written_with(
    app: &App,
    actor: &Actor,
    w: &WorkOrder,
) -> Result<Vec<(&'static str, Vec<shouhou_store::Arg>)>> {
    let mut then = vec![store::event_statement(
        w.id,
        None,
        Status::New.as_str(),
        actor.id(),
        w.created_at,
        None,
        None,
        None,
    )];
    then.extend(audit::created_statements(
        app,
        Some(actor),
        "work_order",
        w.id,
        w,
    )?);
    Ok(then)
}

/// Numbers and writes a planned order with its first event and audit entry.
async fn write(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    n: &NewWorkOrder,
    rarely: &Rarely,
    p: Plan,
) -> Result<WorkOrder> {
    let now = app.now();
    let day = app.local_date(now);
    let mut w = order(app, actor, n, rarely, &p, now);
    store::insert_numbered(tx, &mut w, day).await?;
    // Its first event and its audit entry in one script (one hand-off on SQLite).
    tx.execute_all(written_with(app, actor, &w)?).await?;
    app.next_order.numbered(&w, day);
    Ok(w)
}

/// On SQLite, writes a planned order as the id and number the server expects next, with its
/// event and audit entry and the check that the plan still holds, in one script: one hand-off
/// to the writer, which every request waits for, instead of three. `None` (nothing written)
/// when no number is expected or the guess or the plan no longer holds.
async fn write_expected(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    n: &NewWorkOrder,
    rarely: &Rarely,
    p: &Plan,
) -> Result<Option<WorkOrder>> {
    if tx.backend() != shouhou_store::Backend::Sqlite {
        return Ok(None);
    }
    let now = app.now();
    let day = app.local_date(now);
    let Some((id, seq)) = app.next_order.next(day) else {
        return Ok(None);
    };
    let mut w = order(app, actor, n, rarely, p, now);
    w.id = id;
    w.number = shouhou_domain::work_order_number::format(day, seq);
    let holds = repo::versions::still_condition(&p.records());
    let then = written_with(app, actor, &w)?;
    if store::insert_expected(tx, &w, day, &holds, then).await? {
        app.next_order.numbered(&w, day);
        Ok(Some(w))
    } else {
        app.next_order.forget();
        Ok(None)
    }
}

/// Creates an order. Everything it is computed from is read first in a read-only transaction
/// (on SQLite a reader connection, beside the other requests); the write transaction — on
/// SQLite the one writer, shared by every request — then checks in one read that the customer,
/// device and policy are still those versions, and only numbers and writes the order. If one
/// of them changed meanwhile, the plan is made again inside the write transaction. (Which of
/// several stores takes an order placed above them is chosen from the snapshot too: a
/// technician's skill changed in that millisecond does not move it.)
pub async fn create(app: &App, actor: &Actor, n: NewWorkOrder) -> Result<WorkOrder> {
    let rarely = Rarely::read(app, actor.org_seen).await?;
    let planned = {
        let mut read = app.db.begin_read().await?;
        let planned = plan(app, &mut read, actor, &n, &rarely).await?;
        read.commit_now().await?;
        planned
    };
    let mut tx = app.db.begin().await?;
    if let Some(w) = write_expected(app, &mut tx, actor, &n, &rarely, &planned).await? {
        tx.commit().await?;
        return Ok(w);
    }
    let planned = if planned.holds(&mut tx).await? {
        planned
    } else {
        plan(app, &mut tx, actor, &n, &rarely).await?
    };
    let w = write(app, &mut tx, actor, &n, &rarely, planned).await?;
    tx.commit().await?;
    Ok(w)
}

pub async fn get(app: &App, actor: &Actor, id: i64) -> Result<WorkOrder> {
    Ok(store::get(&app.db, &actor.vis, id).await?)
}

pub async fn list(
    app: &App,
    actor: &Actor,
    f: &store::Filter,
    page: Page,
) -> Result<Paged<WorkOrder>> {
    Ok(store::list(&app.db, &actor.vis, f, page).await?)
}

/// The transitions of an order the actor sees, oldest first.
pub async fn events(
    app: &App,
    actor: &Actor,
    id: i64,
    page: Page,
) -> Result<Paged<WorkOrderEvent>> {
    store::get(&app.db, &actor.vis, id).await?;
    Ok(store::events(&app.db, id, page).await?)
}

/// The visits of an order the actor sees, in turn.
pub async fn visits(app: &App, actor: &Actor, id: i64, page: Page) -> Result<Paged<Visit>> {
    store::get(&app.db, &actor.vis, id).await?;
    Ok(store::visits(&app.db, id, page).await?)
}

/// The states the actor may move this order to now (for showing only allowed actions).
pub fn allowed_transitions(actor: &Actor, w: &WorkOrder) -> Vec<Status> {
    next_states(w.kind, w.status)
        .iter()
        .copied()
        .filter(|to| may_transition(actor, w, *to))
        .collect()
}

fn may_transition(actor: &Actor, w: &WorkOrder, to: Status) -> bool {
    let role = actor.role();
    let office = DISPATCH_ROLES.contains(&role);
    let doer = (role == Role::Technician
        && actor.technician_id.is_some()
        && w.technician_id == actor.technician_id)
        || (role == Role::Partner && w.partner_unit_id == Some(actor.user.org_unit_id));
    match to {
        Status::Assigned => office,
        Status::Accepted if w.kind == WorkOrderType::RepairPhone => {
            office || matches!(role, Role::Clerk | Role::Technician)
        }
        Status::Accepted | Status::EnRoute | Status::OnSite | Status::WaitingParts => {
            office || doer
        }
        Status::Completed if w.kind == WorkOrderType::RepairPhone => {
            office || matches!(role, Role::Clerk | Role::Technician)
        }
        Status::Completed => office || doer,
        Status::Reviewed => matches!(role, Role::Admin | Role::Manager),
        Status::Closed => matches!(
            role,
            Role::Admin | Role::Manager | Role::Followup | Role::Finance
        ),
        Status::Cancelled => office || role == Role::Clerk,
        // Declining: the one who has the order gives it back before setting off.
        Status::New => doer,
    }
}

/// Refuses a write on an order whose version moved on, saying who changed what last.
async fn stale(tx: &mut Tx, w: &WorkOrder) -> AppError {
    audit::stale(tx, "work_order", w.id, w.version).await
}

/// Writes `after` if the version is still `before`'s, with its audit entry, inside `tx`.
pub async fn save_in(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    before: &WorkOrder,
    after: &WorkOrder,
) -> Result<WorkOrder> {
    if !store::update(tx, after, before.version).await? {
        let cur = store::get_for_update(tx, &actor.vis, before.id).await?;
        return Err(stale(tx, &cur).await);
    }
    let mut saved = after.clone();
    saved.version = before.version + 1;
    audit::updated(app, tx, actor, "work_order", before.id, before, &saved).await?;
    Ok(saved)
}

pub async fn update(
    app: &App,
    actor: &Actor,
    id: i64,
    if_match: Option<i64>,
    p: WorkOrderPatch,
) -> Result<WorkOrder> {
    actor.require(INTAKE_ROLES)?;
    let mut tx = app.db.begin().await?;
    let before = store::get_for_update(&mut tx, &actor.vis, id).await?;
    if if_match.is_some_and(|v| v != before.version) {
        return Err(stale(&mut tx, &before).await);
    }
    if before.status.is_terminal() {
        return Err(AppError::invalid(
            "status",
            ValidationError::Invalid {
                zh: "已关闭或已取消的工单不能修改".into(),
                en: "a closed or cancelled work order cannot be changed".into(),
            },
        ));
    }
    let mut w = before.clone();
    w.updated_at = app.now();
    if let Some(v) = &p.fault_description {
        w.fault_description = required_text(v, "fault_description", 2000)?;
    }
    if let Some(store) = p.org_unit_id.filter(|s| *s != before.org_unit_id) {
        actor.require(DISPATCH_ROLES)?;
        if before.status != Status::New {
            return Err(AppError::invalid(
                "org_unit_id",
                ValidationError::Invalid {
                    zh: "只有新建状态（未派工）的工单可以改派门店".into(),
                    en: "only a new order (not yet assigned) can move to another store".into(),
                },
            ));
        }
        let is_store = repo::org_units::get_tx(&mut tx, store)
            .await
            .is_ok_and(|u| u.kind == OrgKind::Store);
        if !is_store || !actor.sees_unit(store) {
            return Err(AppError::invalid(
                "org_unit_id",
                ValidationError::UnknownReference,
            ));
        }
        w.org_unit_id = store;
    }
    if p.kind.is_some() || p.device_id.is_some() {
        if before.status != Status::New {
            return Err(AppError::invalid(
                if p.kind.is_some() {
                    "kind"
                } else {
                    "device_id"
                },
                ValidationError::Invalid {
                    zh: "只有新建状态的工单可以修改类型或设备".into(),
                    en: "type and device can change only while the order is new".into(),
                },
            ));
        }
        w.kind = p.kind.unwrap_or(w.kind);
        w.device_id = p.device_id.or(w.device_id);
    }
    let customer = customers::get_tx(&mut tx, w.customer_id).await?;
    let mut device = None;
    if p.address_id.is_some() || p.device_id.is_some() {
        (w.address_id, device) = check_refs(
            &mut tx,
            &customer,
            w.device_id,
            p.address_id.or(w.address_id),
        )
        .await?;
    }
    if p.device_id.is_some() {
        w.warranty_decision = warranty(app, &mut tx, device).await?.0;
    }
    if p.appointment_start.is_some() || p.appointment_end.is_some() {
        w.appointment_start = p.appointment_start.or(w.appointment_start);
        w.appointment_end = p.appointment_end.or(w.appointment_end);
        check_window(w.appointment_start, w.appointment_end)?;
    }
    if let Some(pr) = p.priority {
        w.priority = pr;
    }
    if p.priority.is_some() || p.appointment_end.is_some() {
        let rules = sla_rules_tx(&mut tx).await?;
        let calendar = crate::calendar::working_time_tx(&mut tx).await?;
        let d = deadlines(
            &pick_rule(&rules, w.priority, customer.tier),
            w.created_at,
            w.appointment_end,
            &crate::calendar::sla_time(app, &calendar),
        );
        (w.respond_by, w.arrive_by, w.resolve_by) = (d.respond_by, d.arrive_by, d.resolve_by);
    }
    let saved = save_in(app, &mut tx, actor, &before, &w).await?;
    tx.commit().await?;
    Ok(saved)
}

/// Moves an order along its lifecycle, recording who, when and where, and its visits.
pub async fn transition(
    app: &App,
    actor: &Actor,
    id: i64,
    if_match: Option<i64>,
    t: Transition,
) -> Result<WorkOrder> {
    let mut tx = app.db.begin().await?;
    let saved = transition_in(app, &mut tx, actor, id, if_match, t).await?;
    tx.commit().await?;
    Ok(saved)
}

/// [`transition`] inside a caller's transaction (e.g. committing a dispatch plan).
pub async fn transition_in(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    if_match: Option<i64>,
    t: Transition,
) -> Result<WorkOrder> {
    if let Some(v) = t.lat {
        validate::latitude(v, "lat")?;
    }
    if let Some(v) = t.lng {
        validate::longitude(v, "lng")?;
    }
    let before = store::get_for_update(tx, &actor.vis, id).await?;
    if if_match.is_some_and(|v| v != before.version) {
        return Err(stale(tx, &before).await);
    }
    check_transition(before.kind, before.status, t.to)?;
    if !may_transition(actor, &before, t.to) {
        return Err(AppError::Forbidden);
    }
    let now = app.now();
    let mut w = before.clone();
    w.status = t.to;
    w.updated_at = now;
    match t.to {
        Status::Assigned => assign(tx, actor, &mut w, &t).await?,
        Status::Accepted => {
            w.accepted_at.get_or_insert(now);
            if w.kind == WorkOrderType::RepairPhone && w.technician_id.is_none() {
                w.technician_id = actor.technician_id;
            }
        }
        Status::EnRoute => {
            store::start_visit(tx, id, w.technician_id, now).await?;
        }
        Status::OnSite => {
            let v = store::open_visit(tx, id)
                .await?
                .ok_or_else(|| AppError::Internal("no open visit".into()))?;
            store::arrive(tx, v.id, now, t.lat, t.lng).await?;
        }
        Status::WaitingParts | Status::Completed => {
            let (default, allowed): (VisitOutcome, &[VisitOutcome]) = if t.to == Status::Completed {
                (
                    VisitOutcome::Fixed,
                    &[VisitOutcome::Fixed, VisitOutcome::NotFixable],
                )
            } else {
                (
                    VisitOutcome::NeedsParts,
                    &[
                        VisitOutcome::NeedsParts,
                        VisitOutcome::NeedsRevisit,
                        VisitOutcome::CustomerAbsent,
                    ],
                )
            };
            let outcome = t.outcome.unwrap_or(default);
            if !allowed.contains(&outcome) {
                return Err(AppError::invalid(
                    "outcome",
                    ValidationError::UnknownValue {
                        allowed: allowed
                            .iter()
                            .map(|o| o.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    },
                ));
            }
            if w.kind != WorkOrderType::RepairPhone {
                let v = store::open_visit(tx, id)
                    .await?
                    .ok_or_else(|| AppError::Internal("no open visit".into()))?;
                if t.to == Status::Completed && !store::has_report(tx, id, Some(v.id)).await? {
                    return Err(no_report());
                }
                store::leave(tx, v.id, now, Some(outcome.as_str())).await?;
                crate::service::price_visit(tx, &w, v.id).await?;
            }
            if t.to == Status::Completed {
                w.completed_at = Some(now);
            }
        }
        Status::Reviewed => {
            if w.kind.is_field() && !store::has_report(tx, id, None).await? {
                return Err(no_report());
            }
            w.reviewed_at = Some(now);
        }
        Status::Closed => w.closed_at = Some(now),
        Status::Cancelled => {
            let reason = t
                .reason
                .as_deref()
                .map(|r| required_text(r, "reason", 500))
                .transpose()?
                .ok_or_else(|| AppError::invalid("reason", ValidationError::Required))?;
            w.cancelled_at = Some(now);
            w.cancel_reason = Some(reason);
            if let Some(v) = store::open_visit(tx, id).await? {
                store::leave(tx, v.id, now, None).await?;
            }
        }
        Status::New => {
            w.technician_id = None;
            w.partner_unit_id = None;
            w.accepted_at = None;
            w.planned_seq = None;
            w.planned_arrival = None;
        }
    }
    let declined = match t.to {
        Status::New => Some(decline_note(&t)?),
        _ => None,
    };
    let note = declined
        .as_deref()
        .or(t.note.as_deref())
        .or(t.reason.as_deref());
    tx.execute_all(vec![store::event_statement(
        id,
        Some(before.status.as_str()),
        t.to.as_str(),
        actor.id(),
        now,
        t.lat,
        t.lng,
        note,
    )])
    .await?;
    save_in(app, tx, actor, &before, &w).await
}

/// The marker a declined order's event carries: `decline:<reason>`, then the technician's words
/// on the next line; the pages show it in the reader's language ([`declined_note`]).
fn decline_note(t: &Transition) -> Result<String> {
    let code = t
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| AppError::invalid("reason", ValidationError::Required))?;
    let why = DeclineReason::parse_field(code, "reason")?;
    let words = match t.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => format!("\n{}", required_text(n, "note", 500)?),
        None => String::new(),
    };
    Ok(format!("{DECLINE_MARK}{}{words}", why.as_str()))
}

const DECLINE_MARK: &str = "decline:";

/// A declined order's event note as (reason, the technician's words), if `note` is one.
pub fn declined_note(note: &str) -> Option<(DeclineReason, String)> {
    let rest = note.strip_prefix(DECLINE_MARK)?;
    let (code, words) = rest.split_once('\n').unwrap_or((rest, ""));
    let why = DeclineReason::parse_field(code, "reason").ok()?;
    Some((why, words.to_string()))
}

/// The revisit the technician books after a visit that ended needing parts or another visit:
/// the window is stored as the order's appointment, so the dispatcher's day takes it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct Revisit {
    pub appointment_start: DateTime<Utc>,
    pub appointment_end: DateTime<Utc>,
}

/// Books the revisit of an order waiting for parts or another visit (its technician, or the
/// office): audited; the old plan's place is cleared.
pub async fn book_revisit(
    app: &App,
    actor: &Actor,
    id: i64,
    if_match: Option<i64>,
    r: Revisit,
) -> Result<WorkOrder> {
    let mut tx = app.db.begin().await?;
    let before = store::get_for_update(&mut tx, &actor.vis, id).await?;
    if if_match.is_some_and(|v| v != before.version) {
        return Err(stale(&mut tx, &before).await);
    }
    // Whoever may send the order back to a technician (or bring it on site) may book its visit.
    if !may_transition(actor, &before, Status::WaitingParts) {
        return Err(AppError::Forbidden);
    }
    if before.status != Status::WaitingParts {
        return Err(AppError::invalid(
            "appointment_start",
            ValidationError::Invalid {
                zh: "只有需要备件或需再次上门的工单可以预约复访".into(),
                en: "a revisit is booked only for an order that needs parts or another visit"
                    .into(),
            },
        ));
    }
    check_window(Some(r.appointment_start), Some(r.appointment_end))?;
    let now = app.now();
    if r.appointment_end <= now {
        return Err(AppError::invalid(
            "appointment_end",
            ValidationError::Invalid {
                zh: "预约时间已过".into(),
                en: "the appointment window is in the past".into(),
            },
        ));
    }
    if r.appointment_start > now + chrono::Duration::days(90) {
        return Err(AppError::invalid(
            "appointment_start",
            ValidationError::Invalid {
                zh: "复访请预约在 90 天之内".into(),
                en: "book the revisit within 90 days".into(),
            },
        ));
    }
    let mut w = before.clone();
    w.appointment_start = Some(r.appointment_start);
    w.appointment_end = Some(r.appointment_end);
    w.planned_seq = None;
    w.planned_arrival = None;
    w.updated_at = now;
    let saved = save_in(app, &mut tx, actor, &before, &w).await?;
    tx.commit().await?;
    Ok(saved)
}

/// A field order is completed and reviewed on its service report, not without one.
fn no_report() -> AppError {
    AppError::invalid(
        "work_done",
        ValidationError::Invalid {
            zh: "还没有服务报告：请先填写故障现象和处理结果再完工".into(),
            en: "no service report yet: write the findings and the work done first".into(),
        },
    )
}

/// Whether `partner` (an outsourced partner unit) serves the store that owns the order: a
/// partner serves the stores of the unit it hangs under (a partner under head office serves every
/// store, one under a store serves that store).
async fn partner_serves(tx: &mut Tx, partner: &OrgUnit, order_unit: i64) -> Result<bool> {
    let Some(home) = partner.parent_id else {
        return Ok(false);
    };
    let mut unit = Some(order_unit);
    for _ in 0..32 {
        match unit {
            Some(u) if u == home => return Ok(true),
            Some(u) => unit = repo::org_units::get_tx(tx, u).await?.parent_id,
            None => return Ok(false),
        }
    }
    Ok(false)
}

async fn assign(tx: &mut Tx, actor: &Actor, w: &mut WorkOrder, t: &Transition) -> Result<()> {
    match (t.technician_id, t.partner_unit_id) {
        (Some(tid), None) => {
            let tech = technicians::get_tx(tx, tid)
                .await
                .ok()
                .filter(|x| actor.sees_unit(x.org_unit_id) && x.active)
                .ok_or_else(|| {
                    AppError::invalid("technician_id", ValidationError::UnknownReference)
                })?;
            if let Some(d) = w.device_id {
                let dev = devices::get_tx(tx, d).await?;
                let product = repo::products::get_tx(tx, dev.product_id).await?;
                let skill = product.category.as_str();
                if !tech.skills.0.iter().any(|s| s == skill) {
                    return Err(AppError::invalid(
                        "technician_id",
                        ValidationError::Invalid {
                            zh: format!(
                                "{} 没有“{}”技能",
                                tech.display_name,
                                product.category.label(shouhou_domain::Lang::ZhCn)
                            ),
                            en: format!("{} lacks the skill '{}'", tech.display_name, skill),
                        },
                    ));
                }
            }
            w.technician_id = Some(tid);
            w.partner_unit_id = None;
        }
        (None, Some(pid)) => {
            let unknown =
                || AppError::invalid("partner_unit_id", ValidationError::UnknownReference);
            let unit = repo::org_units::get_tx(tx, pid)
                .await
                .ok()
                .filter(|u| u.kind == shouhou_domain::OrgKind::Partner)
                .ok_or_else(unknown)?;
            if !actor.sees_unit(unit.id) && !partner_serves(tx, &unit, w.org_unit_id).await? {
                return Err(unknown());
            }
            w.partner_unit_id = Some(unit.id);
            w.technician_id = None;
        }
        (None, None) if w.technician_id.is_some() || w.partner_unit_id.is_some() => {
            // Back from waiting_parts to the same technician or partner.
        }
        _ => {
            return Err(AppError::invalid(
                "technician_id",
                ValidationError::Invalid {
                    zh: "请指定一名技术员或一个安装网点（二选一）".into(),
                    en: "give either a technician or a partner unit".into(),
                },
            ))
        }
    }
    Ok(())
}

/// Gives an assigned (not yet accepted) order to another technician: a change of the order, not
/// a step of the lifecycle, so it is audited but leaves the state as it is.
pub async fn reassign(
    app: &App,
    actor: &Actor,
    id: i64,
    if_match: Option<i64>,
    technician_id: i64,
) -> Result<WorkOrder> {
    actor.require(DISPATCH_ROLES)?;
    let mut tx = app.db.begin().await?;
    let before = store::get_for_update(&mut tx, &actor.vis, id).await?;
    if if_match.is_some_and(|v| v != before.version) {
        return Err(stale(&mut tx, &before).await);
    }
    if before.status != Status::Assigned {
        return Err(AppError::invalid(
            "status",
            ValidationError::Invalid {
                zh: "只有已派工、尚未接单的工单可以改派".into(),
                en: "only an assigned order not yet accepted can be reassigned".into(),
            },
        ));
    }
    let mut w = before.clone();
    let t = Transition {
        to: Status::Assigned,
        technician_id: Some(technician_id),
        partner_unit_id: None,
        reason: None,
        note: None,
        lat: None,
        lng: None,
        outcome: None,
    };
    assign(&mut tx, actor, &mut w, &t).await?;
    w.planned_seq = None;
    w.planned_arrival = None;
    w.updated_at = app.now();
    let saved = save_in(app, &mut tx, actor, &before, &w).await?;
    tx.commit().await?;
    Ok(saved)
}
