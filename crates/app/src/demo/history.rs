//! The history, one day after another up to "now": the day's orders come in and are booked
//! (phone guidance is answered at once), the technicians' days are driven, each visit's outcome
//! moves its order on (completed, or waiting for parts or a revisit that is booked again), a
//! completed order is reviewed, followed up and closed, and a repair that does not hold comes
//! back within the month. Then everything is cut at "now".

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::Rng;
use shouhou_domain::calendar::{default_working_time, WorkingTime};
use shouhou_domain::sla::{deadlines, default_rules, pick_rule, SlaDeadlines, SlaRule, SlaTime};
use shouhou_domain::{
    work_order_number, Category, Priority, Status, VisitOutcome, WarrantyDecision, WorkOrderType,
};

use super::archive::Base;
use super::crm::{self, Facts, FollowUp};
use super::demand::{Arrival, Demand, Want};
use super::names::weighted;
use super::orders::{Event, Order, Visit};
use super::org::Org;
use super::schedule::{Board, Done, Job, Slot};
use super::service;
use super::{Calendar, Progress};

pub struct History {
    pub orders: Vec<Order>,
    /// Devices installed during the history: id and install date.
    pub installed: Vec<(i64, NaiveDate)>,
    /// The last order number of each day.
    pub counters: BTreeMap<NaiveDate, i64>,
}

struct Sim<'a> {
    rng: &'a mut StdRng,
    org: &'a Org,
    cal: &'a Calendar,
    base: &'a mut Base,
    demand: Demand,
    board: Board,
    rules: Vec<SlaRule>,
    /// The working calendar the rules in working hours count by (the default one).
    calendar: WorkingTime,
    orders: Vec<Order>,
    /// Repairs that come back, by day: device and time of the call.
    back: BTreeMap<i64, Vec<(usize, DateTime<Utc>)>>,
    installed: Vec<(i64, NaiveDate, DateTime<Utc>)>,
    counters: BTreeMap<NaiveDate, i64>,
}

fn minutes(rng: &mut StdRng, r: std::ops::Range<i64>) -> Duration {
    Duration::minutes(rng.gen_range(r))
}

/// Time on site at the crew's pace.
fn on_site(rng: &mut StdRng, kind: WorkOrderType, cat: Category) -> i64 {
    use WorkOrderType::*;
    let office = matches!(cat, Category::Copier | Category::Printer);
    rng.gen_range(match kind {
        Install if matches!(cat, Category::Refrigeration | Category::Copier) => 50..100,
        Install => 25..60,
        Maintenance if office => 35..65,
        Maintenance => 25..55,
        Inspection => 15..35,
        Replacement => 25..55,
        _ if office => 30..70,
        _ => 20..50,
    })
}

/// First-time fix of a store's crew: 滨江 learns over the year.
fn store_fix(store: i64, progress: f64) -> f64 {
    match store {
        2 => 0.82,
        3 => 0.78,
        _ => 0.60 + 0.25 * progress,
    }
}

impl Sim<'_> {
    /// When technician `k` (none: the partner) accepts an order given at `at`.
    fn accept(&mut self, k: Option<usize>, at: DateTime<Utc>, urgent: bool) -> DateTime<Utc> {
        let Some(k) = k else {
            return at + minutes(self.rng, 10..90);
        };
        let day = self.cal.index(self.cal.date(at));
        match self.org.shift(k, day) {
            Some((s, e)) if s <= at && at < e => {
                return at + minutes(self.rng, if urgent { 1..8 } else { 2..25 });
            }
            // A later shift today: when it begins.
            Some((s, _)) if at < s => return s + minutes(self.rng, 0..10),
            _ => {}
        }
        // Off duty: half look at the phone in the day, the others accept when their next shift
        // begins.
        if (7 * 60..21 * 60).contains(&self.cal.minute(at)) && self.rng.gen_bool(0.5) {
            return at + minutes(self.rng, 10..120);
        }
        for d in day..day + 10 {
            if let Some((s, _)) = self.org.shift(k, d).filter(|(s, _)| *s > at) {
                return s + minutes(self.rng, 0..15);
            }
        }
        at + Duration::hours(1)
    }

    /// When the dispatcher gives out an order: urgent ones at once in office hours (08:00–20:00),
    /// the others in the round at the top of the next hour (08:00–19:00).
    fn dispatch_at(&mut self, created: DateTime<Utc>, urgent: bool) -> DateTime<Utc> {
        let cal = self.cal;
        let t = if urgent {
            created + minutes(self.rng, 1..10)
        } else {
            let next = created + Duration::minutes(65 - cal.minute(created) % 60);
            next - Duration::minutes(cal.minute(next) % 60) + minutes(self.rng, 5..25)
        };
        let m = cal.minute(t);
        if (8 * 60..20 * 60).contains(&m) {
            return t;
        }
        let day = if m < 8 * 60 {
            cal.date(t)
        } else {
            cal.date(t) + Duration::days(1)
        };
        cal.at(day, 8 * 60 + self.rng.gen_range(0..15))
    }

    /// Gives order `i` to the slot's technician at `at` and puts the job on the board.
    fn assign(&mut self, i: usize, slot: Slot, at: DateTime<Utc>, mut job: Job) {
        let partner = slot.tech.is_none();
        let urgent = self.orders[i].priority == Priority::Urgent;
        let accepted = self.accept(slot.tech, at, urgent);
        let o = &mut self.orders[i];
        o.tech = slot.tech;
        o.partner = partner;
        o.push(Status::Assigned, self.org.staff.dispatcher, at);
        o.push(Status::Accepted, o.doer(self.org), accepted);
        job.start = accepted + Duration::minutes(2);
        if let Some((a, b)) = slot.window {
            job.ready = a;
            job.due = b;
        }
        self.board.put(&slot, job);
    }

    /// An order's deadlines by its rule, on the calendar in the org's time zone.
    fn deadlines(
        &self,
        rule: &SlaRule,
        created: DateTime<Utc>,
        window_end: Option<DateTime<Utc>>,
    ) -> SlaDeadlines {
        let time = SlaTime {
            calendar: &self.calendar,
            tz: &self.cal.tz,
        };
        deadlines(rule, created, window_end, &time)
    }

    fn job(&mut self, i: usize, at: DateTime<Utc>) -> Job {
        let o = &self.orders[i];
        let dev = &self.base.devices[o.device];
        let cat = dev.category();
        let (kind, store, lat, lng, due) = (o.kind, o.store, dev.lat, dev.lng, o.sla.arrive_by);
        let urgent = o.priority == Priority::Urgent && o.visits.is_empty();
        Job {
            order: i,
            store,
            category: cat,
            lat,
            lng,
            minutes: on_site(self.rng, kind, cat),
            start: at,
            ready: at,
            due,
            urgent,
        }
    }

    /// A new order: phone guidance is answered at once; a field order is booked.
    fn arrive(&mut self, a: Arrival) {
        let (org, cal) = (self.org, self.cal);
        let dev = &self.base.devices[a.device];
        let (store, tier, warranty) = (dev.store, dev.tier, dev.warranty(cal.date(a.created)));
        let day = cal.date(a.created);
        let n = self.counters.entry(day).or_insert(0);
        *n += 1;
        let rule = pick_rule(&self.rules, a.priority, tier);
        let i = self.orders.len();
        self.orders.push(Order {
            id: i as i64 + 1,
            number: work_order_number::format(day, *n),
            device: a.device,
            store,
            kind: a.kind,
            channel: a.channel,
            priority: a.priority,
            fault: a.fault,
            created: a.created,
            window: None,
            sla: self.deadlines(&rule, a.created, None),
            warranty,
            tech: None,
            partner: false,
            events: vec![Event {
                status: Status::New,
                actor: org.staff.clerk,
                at: a.created,
                pos: None,
            }],
            visits: Vec::new(),
            cancel: a.cancel,
            cancelled: false,
            planned: None,
            review: None,
            follow_up: None,
            calls: Vec::new(),
        });
        let urgent = a.priority == Priority::Urgent;
        if a.kind == WorkOrderType::RepairPhone {
            let wait = if urgent { 2..12 } else { 5..50 };
            let acc = cal.office(a.created + minutes(self.rng, wait), self.rng);
            let done = acc + minutes(self.rng, 10..40);
            self.orders[i].push(Status::Accepted, org.staff.clerk, acc);
            self.orders[i].push(Status::Completed, org.staff.clerk, done);
            self.close(i, done);
            self.demand.release(a.device);
            return;
        }
        let at = self.dispatch_at(a.created, urgent);
        if let Some(c) = a.cancel.filter(|c| *c <= at) {
            self.orders[i].cancel_at(c, org.staff.clerk);
            self.demand.release(a.device);
            return;
        }
        let job = self.job(i, at);
        let by_partner = a.kind == WorkOrderType::Install && store != 2 && self.rng.gen_bool(0.35);
        let slot = match (by_partner, a.want) {
            (true, Want::Window(d)) => Some(self.board.book_partner(self.rng, cal, d)),
            _ => self.board.book(self.rng, org, cal, &job, at, a.want, None),
        };
        let Some(slot) = slot else {
            return;
        };
        if let Some(w) = slot.window {
            self.orders[i].window = Some(w);
            self.orders[i].sla = self.deadlines(&rule, a.created, Some(w.1));
        }
        let mut job = job;
        job.due = self.orders[i].sla.arrive_by;
        self.assign(i, slot, at, job);
    }

    fn outcome(&mut self, i: usize, tech: Option<usize>, day: i64) -> VisitOutcome {
        use VisitOutcome::*;
        let o = &self.orders[i];
        let tried = o
            .visits
            .iter()
            .filter(|v| v.outcome != CustomerAbsent)
            .count();
        if o.visits.len() < 2 && self.rng.gen_bool(0.03) {
            return CustomerAbsent;
        }
        let rng = &mut *self.rng;
        match o.kind {
            WorkOrderType::RepairOnsite if tried == 0 => {
                let fix = tech.map_or(0.0, |k| self.org.techs[k].fix);
                let p = store_fix(o.store, day as f64 / self.cal.days as f64) + fix;
                if rng.gen_bool(p.clamp(0.3, 0.97)) {
                    Fixed
                } else {
                    [NeedsParts, NeedsRevisit, NotFixable][weighted(rng, &[62.0, 26.0, 12.0])]
                }
            }
            WorkOrderType::RepairOnsite if tried < 3 => {
                [Fixed, NeedsRevisit, NotFixable][weighted(rng, &[92.0, 5.0, 3.0])]
            }
            _ if tried < 2 && rng.gen_bool(0.03) => NeedsRevisit,
            _ => Fixed,
        }
    }

    /// A visit happened: the order moves on.
    fn visited(&mut self, d: Done, day: i64) {
        let (org, cal) = (self.org, self.cal);
        let i = d.job.order;
        if self.orders[i].cancelled {
            return;
        }
        if let Some(c) = self.orders[i].cancel {
            if c < d.departed {
                self.orders[i].cancel_at(c, org.staff.clerk);
                self.demand.release(self.orders[i].device);
                return;
            }
            self.orders[i].cancel = None;
        }
        let outcome = self.outcome(i, d.tech, day);
        let dev = &self.base.devices[self.orders[i].device];
        let pos = (
            dev.lat + self.rng.gen_range(-0.0005..0.0005),
            dev.lng + self.rng.gen_range(-0.0005..0.0005),
        );
        let o = &mut self.orders[i];
        let doer = o.doer(org);
        o.push(Status::EnRoute, doer, d.departed);
        o.events.push(Event {
            status: Status::OnSite,
            actor: doer,
            at: d.arrived,
            pos: Some(pos),
        });
        o.visits.push(Visit {
            tech: d.tech,
            departed: d.departed,
            arrived: Some(d.arrived),
            left: Some(d.left),
            outcome,
        });
        if day == cal.days - 1 && d.tech.is_some() {
            o.planned = Some((d.seq, d.arrived));
        }
        if matches!(outcome, VisitOutcome::Fixed | VisitOutcome::NotFixable) {
            o.push(Status::Completed, doer, d.left);
            let (kind, device) = (o.kind, o.device);
            self.close(i, d.left);
            self.demand.release(device);
            if kind == WorkOrderType::Install {
                let date = cal.date(d.left);
                self.base.devices[device].install = Some(date);
                self.demand.installed(device, day);
                self.installed
                    .push((self.base.devices[device].id, date, d.left));
            }
            let relapse = d.tech.map_or(0.0, |k| org.techs[k].relapse);
            if kind == WorkOrderType::RepairOnsite
                && outcome == VisitOutcome::Fixed
                && self.rng.gen_bool(relapse)
            {
                let t = d.left + minutes(self.rng, 2 * 24 * 60..28 * 24 * 60);
                let t = cal.at(cal.date(t), self.rng.gen_range(8 * 60..19 * 60));
                if t <= cal.now {
                    self.back
                        .entry(cal.index(cal.date(t)))
                        .or_default()
                        .push((device, t));
                }
            }
            return;
        }
        o.push(Status::WaitingParts, doer, d.left);
        let (after, days) = match outcome {
            VisitOutcome::NeedsParts => {
                let h = match self.rng.gen_range(0..100) {
                    0..=74 => self.rng.gen_range(16..44),
                    75..=94 => self.rng.gen_range(60..120),
                    _ => self.rng.gen_range(140..280),
                };
                (Duration::hours(h), 0..2)
            }
            VisitOutcome::NeedsRevisit => (minutes(self.rng, 60..180), 1..3),
            _ => (minutes(self.rng, 10..60), 1..3),
        };
        let at = cal.office(d.left + after, self.rng);
        let want = Want::Window(cal.index(cal.date(at)) + self.rng.gen_range(days));
        let mut job = self.job(i, at);
        job.minutes = job.minutes * 3 / 4;
        let slot = if self.orders[i].partner {
            let Want::Window(w) = want else { return };
            Some(self.board.book_partner(self.rng, cal, w))
        } else {
            self.board.book(self.rng, org, cal, &job, at, want, d.tech)
        };
        if let Some(slot) = slot {
            self.assign(i, slot, at, job);
        }
    }

    /// A job that did not fit its day goes first on the same technician's next working day.
    fn over(&mut self, mut job: Job, day: i64) {
        let i = job.order;
        let carried = self.orders[i].tech.is_some_and(|k| {
            job.ready = self.cal.at(self.cal.day(day + 1), 0);
            self.board.carry(self.org, k, day + 1, job)
        });
        if !carried && !self.orders[i].cancelled {
            // Nobody: the customer is told and cancels.
            let at = self.cal.at(self.cal.day(day + 1), 8 * 60 + 30);
            self.orders[i].cancel_at(at, self.org.staff.clerk);
            self.demand.release(self.orders[i].device);
        }
    }

    /// Review, follow-up and closing of an order completed at `done`.
    fn close(&mut self, i: usize, done: DateTime<Utc>) {
        let (org, cal) = (self.org, self.cal);
        let review = service::review(self.rng, cal, done);
        let o = &self.orders[i];
        let waited = o
            .visits
            .first()
            .and_then(|v| v.left)
            .map_or(0, |l| (done - l).num_days());
        let facts = Facts {
            late: o.late(),
            visits: o.visits.len(),
            not_fixable: o
                .visits
                .last()
                .is_some_and(|v| v.outcome == VisitOutcome::NotFixable),
            waited_days: waited,
            manner: o
                .tech
                .filter(|_| !o.partner)
                .map_or(0.01, |k| org.techs[k].manner),
            paid: o.warranty == WarrantyDecision::OutOfWarranty,
        };
        let follow_up = crm::follow_up(self.rng, cal, done, &facts);
        let calls = match follow_up {
            Some(_) => Vec::new(),
            None => crm::unanswered(self.rng, cal, done),
        };
        let closed = FollowUp::closes(follow_up.as_ref(), &calls, self.rng, cal, review.approved);
        let o = &mut self.orders[i];
        o.push(Status::Reviewed, org.staff.manager, review.approved);
        o.push(Status::Closed, org.staff.followup, closed);
        o.review = Some(review);
        o.follow_up = follow_up;
        o.calls = calls;
    }
}

/// Simulates the history of `orders` orders ending now.
pub fn simulate(
    rng: &mut StdRng,
    org: &Org,
    cal: &Calendar,
    base: &mut Base,
    orders: usize,
    progress: Progress<'_>,
) -> History {
    let demand = Demand::new(base, cal, orders);
    let mut sim = Sim {
        rng,
        org,
        cal,
        base,
        demand,
        board: Board::new(org, cal),
        rules: default_rules(),
        calendar: default_working_time(),
        orders: Vec::with_capacity(orders),
        back: BTreeMap::new(),
        installed: Vec::new(),
        counters: BTreeMap::new(),
    };
    for day in 0..cal.days {
        let back = sim.back.remove(&day).unwrap_or_default();
        let arrivals = sim.demand.day(sim.rng, sim.base, cal, day, back);
        for a in arrivals {
            sim.arrive(a);
        }
        let (mut done, over) = sim.board.run(sim.rng, org, day);
        done.sort_by_key(|d| d.departed);
        for d in done {
            sim.visited(d, day);
        }
        for job in over {
            sim.over(job, day);
        }
        progress("history", day as u64 + 1, cal.days as u64);
    }
    let mut orders = sim.orders;
    for o in &mut orders {
        if let Some(c) = o.cancel.filter(|c| *c <= cal.now && o.visits.is_empty()) {
            o.cancel_at(c, org.staff.clerk);
        }
        o.cut(cal.now);
    }
    History {
        orders,
        installed: sim
            .installed
            .into_iter()
            .filter(|x| x.2 <= cal.now)
            .map(|x| (x.0, x.1))
            .collect(),
        counters: sim.counters,
    }
}
