//! A work order as the history builds it — its lifecycle events and visits in time order — and
//! its rows (work_orders, work_order_events, visits), written in chunks with the money, reviews
//! and follow-ups. Whatever lies after "now" is cut off before it is written, so every order is
//! in the state its last event says.

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use shouhou_domain::sla::SlaDeadlines;
use shouhou_domain::{Channel, Priority, Status, VisitOutcome, WarrantyDecision, WorkOrderType};
use shouhou_store::{args, Arg};

use super::archive::{Base, Device};
use super::crm::{self, Call, FollowUp};
use super::history::History;
use super::names::{work_done, SIGNATURE};
use super::org::{Org, PARTNER_UNIT};
use super::service::{self, Money, Review, CHARGE_COLS, PART_COLS, PHOTO_COLS, REVIEW_COLS};
use super::{Calendar, Progress};
use crate::{App, Result};

/// A lifecycle step: state, actor (user id), time, position.
#[derive(Debug, Clone, Copy)]
pub struct Event {
    pub status: Status,
    pub actor: i64,
    pub at: DateTime<Utc>,
    pub pos: Option<(f64, f64)>,
}

/// One trip: technician (none: the partner), times, outcome.
#[derive(Debug, Clone, Copy)]
pub struct Visit {
    pub tech: Option<usize>,
    pub departed: DateTime<Utc>,
    pub arrived: Option<DateTime<Utc>>,
    pub left: Option<DateTime<Utc>>,
    pub outcome: VisitOutcome,
}

pub struct Order {
    pub id: i64,
    pub number: String,
    pub device: usize,
    pub store: i64,
    pub kind: WorkOrderType,
    pub channel: Channel,
    pub priority: Priority,
    pub fault: &'static str,
    pub created: DateTime<Utc>,
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub sla: SlaDeadlines,
    pub warranty: WarrantyDecision,
    /// The technician (index) the order is given to.
    pub tech: Option<usize>,
    pub partner: bool,
    pub events: Vec<Event>,
    pub visits: Vec<Visit>,
    /// The customer will cancel at this time unless a technician is on the way by then.
    pub cancel: Option<DateTime<Utc>>,
    pub cancelled: bool,
    /// Today's place in the technician's day: sequence and planned arrival.
    pub planned: Option<(i64, DateTime<Utc>)>,
    pub review: Option<Review>,
    pub follow_up: Option<FollowUp>,
    /// Follow-up calls that got no rating.
    pub calls: Vec<Call>,
}

impl Order {
    pub fn status(&self) -> Status {
        self.events.last().map_or(Status::New, |e| e.status)
    }

    pub fn at(&self, s: Status) -> Option<DateTime<Utc>> {
        self.events.iter().find(|e| e.status == s).map(|e| e.at)
    }

    pub fn push(&mut self, status: Status, actor: i64, at: DateTime<Utc>) {
        self.events.push(Event {
            status,
            actor,
            at,
            pos: None,
        });
    }

    /// The user who works the order in the field.
    pub fn doer(&self, org: &Org) -> i64 {
        match self.tech {
            Some(k) if !self.partner => org.techs[k].user,
            _ => org.staff.partner,
        }
    }

    /// Cancels at `at`: steps after it never happened.
    pub fn cancel_at(&mut self, at: DateTime<Utc>, by: i64) {
        self.events.retain(|e| e.at < at);
        self.push(Status::Cancelled, by, at);
        self.cancelled = true;
        self.cancel = None;
    }

    /// The first visit that arrived was late (after the arrive-by).
    pub fn late(&self) -> Option<i64> {
        let first = self.visits.iter().find_map(|v| v.arrived)?;
        let late = (first - self.sla.arrive_by).num_minutes();
        Some(late.max(0))
    }

    /// Forgets what happens after `now`.
    pub fn cut(&mut self, now: DateTime<Utc>) {
        self.events.retain(|e| e.at <= now);
        self.visits.retain(|v| v.departed <= now);
        for v in &mut self.visits {
            v.arrived = v.arrived.filter(|t| *t <= now);
            v.left = v.left.filter(|t| *t <= now);
        }
    }
}

pub const ORDER_COLS: &[&str] = &[
    "id",
    "number",
    "org_unit_id",
    "customer_id",
    "device_id",
    "address_id",
    "kind",
    "channel",
    "priority",
    "status",
    "fault_description",
    "appointment_start",
    "appointment_end",
    "respond_by",
    "arrive_by",
    "resolve_by",
    "warranty_decision",
    "technician_id",
    "partner_unit_id",
    "created_by",
    "created_at",
    "updated_at",
    "accepted_at",
    "completed_at",
    "reviewed_at",
    "closed_at",
    "cancelled_at",
    "cancel_reason",
    "version",
    "planned_seq",
    "planned_arrival",
];

pub const EVENT_COLS: &[&str] = &[
    "work_order_id",
    "from_status",
    "to_status",
    "actor_id",
    "at",
    "lat",
    "lng",
];

pub const VISIT_COLS: &[&str] = &[
    "id",
    "work_order_id",
    "technician_id",
    "seq",
    "departed_at",
    "arrived_at",
    "arrived_lat",
    "arrived_lng",
    "left_at",
    "outcome",
    "findings",
    "work_done",
    "labour_minutes",
    "signature",
    "signed_by",
    "signed_at",
];

/// Rows of work orders, their events and their visits.
#[derive(Default)]
pub struct Rows {
    pub orders: Vec<Vec<Arg>>,
    pub events: Vec<Vec<Arg>>,
    pub visits: Vec<Vec<Arg>>,
}

/// The order's row, its events' rows, and its visits' rows (ids from `next_visit`).
pub fn rows_of(
    o: &Order,
    dev: &Device,
    org: &Org,
    clerk: i64,
    next_visit: &mut i64,
    out: &mut Rows,
) -> Vec<i64> {
    let status = o.status();
    let assigned = status != Status::New && !(o.cancelled && o.at(Status::Assigned).is_none());
    let tech_id = o
        .tech
        .filter(|_| assigned && !o.partner)
        .map(|k| org.techs[k].id);
    let last = o.events.last().map_or(o.created, |e| e.at);
    out.orders.push(vec![
        Arg::from(o.id),
        o.number.as_str().into(),
        o.store.into(),
        dev.customer.into(),
        Some(dev.id).into(),
        Some(dev.address).into(),
        o.kind.as_str().into(),
        o.channel.as_str().into(),
        o.priority.as_str().into(),
        status.as_str().into(),
        o.fault.into(),
        o.window.map(|w| w.0).into(),
        o.window.map(|w| w.1).into(),
        o.sla.respond_by.into(),
        o.sla.arrive_by.into(),
        o.sla.resolve_by.into(),
        o.warranty.as_str().into(),
        tech_id.into(),
        (assigned && o.partner).then_some(PARTNER_UNIT).into(),
        clerk.into(),
        o.created.into(),
        last.into(),
        o.at(Status::Accepted).into(),
        o.at(Status::Completed).into(),
        o.at(Status::Reviewed).into(),
        o.at(Status::Closed).into(),
        o.at(Status::Cancelled).into(),
        o.cancelled.then_some("客户取消").into(),
        (o.events.len() as i64).into(),
        o.planned.map(|p| p.0).into(),
        o.planned.map(|p| p.1).into(),
    ]);
    let mut prev: Option<Status> = None;
    for e in &o.events {
        out.events.push(args![
            o.id,
            prev.map(|p| p.as_str()),
            e.status.as_str(),
            e.actor,
            e.at,
            e.pos.map(|p| p.0),
            e.pos.map(|p| p.1)
        ]);
        prev = Some(e.status);
    }
    let findings = format!("现场检查：{}", o.fault);
    let mut ids = Vec::new();
    for (i, v) in o.visits.iter().enumerate() {
        let id = *next_visit;
        *next_visit += 1;
        ids.push(id);
        let done = v.left.is_some();
        let pos = o
            .events
            .iter()
            .filter(|e| e.status == Status::OnSite)
            .nth(i)
            .and_then(|e| e.pos);
        let signed = done && v.outcome == VisitOutcome::Fixed;
        out.visits.push(args![
            id,
            o.id,
            v.tech.filter(|_| !o.partner).map(|k| org.techs[k].id),
            i as i64 + 1,
            v.departed,
            v.arrived,
            v.arrived.and(pos.map(|p| p.0)),
            v.arrived.and(pos.map(|p| p.1)),
            v.left,
            done.then(|| v.outcome.as_str()),
            done.then(|| findings.clone()),
            done.then(|| work_done(v.outcome).to_string()),
            v.arrived.zip(v.left).map(|(a, l)| (l - a).num_minutes()),
            signed.then(|| SIGNATURE.to_string()),
            signed.then(|| "客户本人".to_string()),
            v.left.filter(|_| signed)
        ]);
    }
    ids
}

/// Writes the orders with their events, visits, money, reviews and follow-ups; returns the
/// number of visits.
#[allow(clippy::too_many_arguments)]
pub async fn write(
    app: &App,
    rng: &mut StdRng,
    h: &History,
    base: &Base,
    org: &Org,
    cal: &Calendar,
    money: &Money,
    progress: Progress<'_>,
) -> Result<usize> {
    // The demo's questionnaires besides the general one the migration made.
    let mut tx = app.db.begin().await?;
    let now = cal.now;
    for (id, name, brand, kind, items) in crm::QUESTIONNAIRES.iter().skip(1) {
        tx.bulk_insert(
            "questionnaires",
            &[
                "id",
                "name",
                "brand",
                "kind",
                "active",
                "created_at",
                "updated_at",
            ],
            vec![args![*id, *name, *brand, *kind, true, now, now]],
        )
        .await?;
        let rows = items
            .iter()
            .enumerate()
            .map(|(i, (label, _))| args![*id, i as i64 + 1, *label])
            .collect();
        tx.bulk_insert(
            "questionnaire_items",
            &["questionnaire_id", "position", "label"],
            rows,
        )
        .await?;
    }
    tx.commit().await?;
    let (mut next_visit, mut next_follow_up, mut next_complaint) = (1i64, 1i64, 1i64);
    for (n, part) in h.orders.chunks(2_000).enumerate() {
        let mut rows = Rows::default();
        let mut m = service::Rows::default();
        let mut c = crm::Rows::default();
        for o in part {
            let dev = &base.devices[o.device];
            let ids = rows_of(o, dev, org, org.staff.clerk, &mut next_visit, &mut rows);
            money.rows(rng, o, dev, &ids, org, cal, &mut m);
            let next = (&mut next_follow_up, &mut next_complaint);
            crm::rows(rng, o, dev, org, cal, next, &mut c);
        }
        let mut tx = app.db.begin().await?;
        tx.bulk_insert("work_orders", ORDER_COLS, rows.orders)
            .await?;
        tx.bulk_insert("work_order_events", EVENT_COLS, rows.events)
            .await?;
        tx.bulk_insert("visits", VISIT_COLS, rows.visits).await?;
        tx.bulk_insert("charges", CHARGE_COLS, m.charges).await?;
        tx.bulk_insert("part_lines", PART_COLS, m.parts).await?;
        tx.bulk_insert("photos", PHOTO_COLS, m.photos).await?;
        tx.bulk_insert("reviews", REVIEW_COLS, m.reviews).await?;
        tx.bulk_insert("follow_ups", crm::FOLLOW_UP_COLS, c.follow_ups)
            .await?;
        tx.bulk_insert("follow_up_answers", crm::ANSWER_COLS, c.answers)
            .await?;
        tx.bulk_insert("follow_up_calls", crm::CALL_COLS, c.calls)
            .await?;
        tx.bulk_insert("complaints", crm::COMPLAINT_COLS, c.complaints)
            .await?;
        tx.bulk_insert("complaint_actions", crm::ACTION_COLS, c.actions)
            .await?;
        tx.bulk_insert("opportunities", crm::LEAD_COLS, c.leads)
            .await?;
        tx.commit().await?;
        progress(
            "work orders",
            ((n + 1) * 2_000).min(h.orders.len()) as u64,
            h.orders.len() as u64,
        );
    }
    Ok((next_visit - 1) as usize)
}
