//! The KPIs of DOMAIN.md (指标), defined once: which records count, in which period, for whom.
//!
//! The store keeps, for every work order, the *facts* this module derives from it ([`facts`]):
//! rows of integer numerators and denominators and exact durations, each dated by the timestamp
//! its KPI names and attributed to a unit and a technician. A dashboard sums the facts of a
//! period and group ([`Sums`]) and reads each KPI off the sums ([`Sums::value`]). Nothing here
//! knows SQL or HTTP; the clock and the time zone are parameters.

use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;

use crate::kinds::{Rating, VisitOutcome, WorkOrderType};

crate::str_enum!(
    /// The KPIs of DOMAIN.md's table, by their snake_case English names.
    Kpi {
        FirstTimeFixRate = "first_time_fix_rate" / "一次修复率" / "First-time fix rate",
        RemoteResolutionRate = "remote_resolution_rate" / "远程解决率" / "Remote resolution rate",
        ResponseTimeMinutes = "response_time_minutes" / "响应时间" / "Response time",
        ArrivalCompliance = "arrival_compliance" / "上门及时率" / "Arrival on time",
        RepairCycleHours = "repair_cycle_hours" / "维修周期" / "Repair cycle",
        RepeatRepairRate = "repeat_repair_rate" / "重复维修率" / "Repeat repair rate",
        CallsPerTechnicianDay = "calls_per_technician_day" / "人均日上门" / "Calls per technician-day",
        EffectiveOnsiteShare = "effective_onsite_share" / "有效工作时间占比" / "Effective on-site share",
        GrossMarginPerCall = "gross_margin_per_call" / "单次毛利" / "Gross margin per call",
        SatisfactionRate = "satisfaction_rate" / "满意率" / "Satisfaction rate",
        VerySatisfiedRate = "very_satisfied_rate" / "非常满意率" / "Very satisfied rate",
        DissatisfiedRate = "dissatisfied_rate" / "不满意率" / "Dissatisfied rate",
        ComplaintRate = "complaint_rate" / "投诉率" / "Complaint rate",
        PartsOnTimeRate = "parts_on_time_rate" / "备件准时到货率" / "Parts on time",
        ReturnedPartNoFaultRate = "returned_part_no_fault_rate" / "返还备件无故障率" / "Returned parts without fault",
        WeightedPrintVolume = "weighted_print_volume" / "印量" / "Weighted print volume",
        FollowUpCoverage = "follow_up_coverage" / "回访率" / "Follow-up coverage",
        ComplaintOnTimeClosure = "complaint_on_time_closure" / "投诉按时办结率" / "Complaints closed on time",
        CsiByItem = "csi_by_item" / "分项满意度" / "Satisfaction by item",
        PartsUsageRate = "parts_usage_rate" / "备件使用率" / "Parts usage rate",
        ServiceRevenue = "service_revenue" / "服务收入" / "Service revenue",
    }
);

/// What a KPI's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// numerator ÷ denominator, shown as a percentage with one decimal.
    Rate,
    /// A duration: count, median and p90 in `unit`.
    Duration(DurationUnit),
    /// numerator ÷ denominator shown as a number with one decimal (calls per technician-day).
    Ratio,
    /// Fen: a total, or per call.
    Money,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DurationUnit {
    Minutes,
    Hours,
}

impl DurationUnit {
    pub fn seconds(self) -> f64 {
        match self {
            DurationUnit::Minutes => 60.0,
            DurationUnit::Hours => 3600.0,
        }
    }
}

/// Which way is better: a target is "reached" at or above it, or at or below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
}

/// The timestamp whose local date puts a record in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Completed,
    Accepted,
    ArriveBy,
    VisitArrived,
    ComplaintCreated,
    ComplaintDue,
}

impl Kpi {
    pub fn shape(self) -> Shape {
        use Kpi::*;
        match self {
            ResponseTimeMinutes => Shape::Duration(DurationUnit::Minutes),
            RepairCycleHours => Shape::Duration(DurationUnit::Hours),
            CallsPerTechnicianDay | WeightedPrintVolume => Shape::Ratio,
            GrossMarginPerCall | ServiceRevenue => Shape::Money,
            _ => Shape::Rate,
        }
    }

    pub fn direction(self) -> Direction {
        use Kpi::*;
        match self {
            ResponseTimeMinutes
            | RepairCycleHours
            | RepeatRepairRate
            | DissatisfiedRate
            | ComplaintRate
            | ReturnedPartNoFaultRate => Direction::LowerIsBetter,
            _ => Direction::HigherIsBetter,
        }
    }

    /// The timestamp that decides the period of the KPI's numerator (and of its denominator,
    /// except for the complaint rate, whose denominator is the orders completed in the period).
    pub fn basis(self) -> Basis {
        use Kpi::*;
        match self {
            ResponseTimeMinutes => Basis::Accepted,
            ArrivalCompliance => Basis::ArriveBy,
            CallsPerTechnicianDay | EffectiveOnsiteShare => Basis::VisitArrived,
            ComplaintRate => Basis::ComplaintCreated,
            ComplaintOnTimeClosure => Basis::ComplaintDue,
            _ => Basis::Completed,
        }
    }

    /// Whether today's records feed the KPI. Parts, settlement, contracts and questionnaires
    /// bring the others; until then they read "no data yet".
    pub fn available(self) -> bool {
        use Kpi::*;
        !matches!(
            self,
            PartsOnTimeRate
                | ReturnedPartNoFaultRate
                | WeightedPrintVolume
                | PartsUsageRate
                | GrossMarginPerCall
        )
    }

    /// Whether the KPI splits by a grouping that is not a unit, a technician or a time bucket
    /// (its denominator comes from shifts, which have no product or order type).
    pub fn splits_by_order_attributes(self) -> bool {
        !matches!(self, Kpi::CallsPerTechnicianDay | Kpi::EffectiveOnsiteShare)
    }

    /// The KPIs the dashboard shows, in the order a manager reads them.
    pub const DASHBOARD: &'static [Kpi] = &[
        Kpi::FirstTimeFixRate,
        Kpi::ArrivalCompliance,
        Kpi::RepairCycleHours,
        Kpi::RepeatRepairRate,
        Kpi::SatisfactionRate,
        Kpi::ComplaintRate,
        Kpi::CallsPerTechnicianDay,
        Kpi::ResponseTimeMinutes,
        Kpi::RemoteResolutionRate,
        Kpi::EffectiveOnsiteShare,
        Kpi::VerySatisfiedRate,
        Kpi::DissatisfiedRate,
        Kpi::FollowUpCoverage,
        Kpi::ComplaintOnTimeClosure,
        Kpi::ServiceRevenue,
        Kpi::GrossMarginPerCall,
        Kpi::CsiByItem,
        Kpi::PartsOnTimeRate,
        Kpi::ReturnedPartNoFaultRate,
        Kpi::PartsUsageRate,
        Kpi::WeightedPrintVolume,
    ];
}

// ------------------------------------------------------------------------------------- facts

/// The counters a fact row carries; a dashboard sums them. Index = position in [`Counter::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Counter {
    /// repair_onsite orders completed, first visit not `customer_absent`.
    FtfDen,
    /// … whose first visit was `fixed`.
    FtfNum,
    /// repair_phone + repair_onsite orders completed.
    RemoteDen,
    /// repair_phone orders completed.
    RemoteNum,
    /// Field orders with a first visit that arrived (the arrival KPI's denominator also counts
    /// orders without an arrival whose arrive-by has passed: see [`Sums::arrival_late_unarrived`]).
    ArrivedFirst,
    /// … that arrived at or before arrive-by.
    ArrivedOnTime,
    /// Field orders with no arrival yet; late once their arrive-by has passed.
    NotArrived,
    /// Repair orders completed (each with its repair cycle measured: their number is the
    /// cycles').
    RepeatDen,
    /// … on a device that got another repair order within 30 days of the completion.
    RepeatNum,
    /// … whose 30-day window is still open (the period's figure is provisional).
    RepeatOpen,
    /// Visits that arrived (calls).
    Visits,
    /// Σ (left − arrived) of those visits, seconds.
    OnsiteSeconds,
    /// Non-cancelled orders completed.
    Completed,
    /// Completed orders with an answered follow-up.
    Answered,
    VerySatisfied,
    Satisfied,
    Neutral,
    Dissatisfied,
    /// Complaints created.
    Complaints,
    /// Complaints due (due time passed, or closed).
    ComplaintsDue,
    /// … closed by their due time.
    ComplaintsOnTime,
    /// Charges to customers (labour, travel, parts they pay), fen.
    CustomerFen,
    /// Amounts the manufacturer reimburses (warranty work), fen.
    ManufacturerFen,
    /// Questionnaire answers of completed orders (every item, the overall one included).
    CsiAnswers,
    /// … their scores in thirds of 100 points (非常满意 3, 满意 2, 一般 1, 不满意 0).
    CsiPoints,
    /// Orders accepted (each with its response time measured: their number is the response
    /// times').
    Responded,
}

/// How many counters a fact carries.
pub const COUNTERS: usize = 26;

impl Counter {
    pub const ALL: [Counter; COUNTERS] = [
        Counter::FtfDen,
        Counter::FtfNum,
        Counter::RemoteDen,
        Counter::RemoteNum,
        Counter::ArrivedFirst,
        Counter::ArrivedOnTime,
        Counter::NotArrived,
        Counter::RepeatDen,
        Counter::RepeatNum,
        Counter::RepeatOpen,
        Counter::Visits,
        Counter::OnsiteSeconds,
        Counter::Completed,
        Counter::Answered,
        Counter::VerySatisfied,
        Counter::Satisfied,
        Counter::Neutral,
        Counter::Dissatisfied,
        Counter::Complaints,
        Counter::ComplaintsDue,
        Counter::ComplaintsOnTime,
        Counter::CustomerFen,
        Counter::ManufacturerFen,
        Counter::CsiAnswers,
        Counter::CsiPoints,
        Counter::Responded,
    ];

    /// The column name in the store.
    pub fn column(self) -> &'static str {
        use Counter::*;
        match self {
            FtfDen => "ftf_den",
            FtfNum => "ftf_num",
            RemoteDen => "remote_den",
            RemoteNum => "remote_num",
            ArrivedFirst => "arrived_first",
            ArrivedOnTime => "arrived_on_time",
            NotArrived => "not_arrived",
            RepeatDen => "repeat_den",
            RepeatNum => "repeat_num",
            RepeatOpen => "repeat_open",
            Visits => "visits",
            OnsiteSeconds => "onsite_seconds",
            Completed => "completed",
            Answered => "answered",
            VerySatisfied => "very_satisfied",
            Satisfied => "satisfied",
            Neutral => "neutral",
            Dissatisfied => "dissatisfied",
            Complaints => "complaints",
            ComplaintsDue => "complaints_due",
            ComplaintsOnTime => "complaints_on_time",
            CustomerFen => "customer_fen",
            ManufacturerFen => "manufacturer_fen",
            CsiAnswers => "csi_answers",
            CsiPoints => "csi_points",
            Responded => "responded",
        }
    }

    fn index(self) -> usize {
        Counter::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }

    /// The basis of the facts that carry the counter ([`facts`] adds it to no other).
    pub fn basis(self) -> Basis {
        use Counter::*;
        match self {
            ArrivedFirst | ArrivedOnTime | NotArrived => Basis::ArriveBy,
            Responded => Basis::Accepted,
            Visits | OnsiteSeconds => Basis::VisitArrived,
            Complaints => Basis::ComplaintCreated,
            ComplaintsDue | ComplaintsOnTime => Basis::ComplaintDue,
            FtfDen | FtfNum | RemoteDen | RemoteNum | RepeatDen | RepeatNum | RepeatOpen
            | Completed | Answered | VerySatisfied | Satisfied | Neutral | Dissatisfied
            | CustomerFen | ManufacturerFen | CsiAnswers | CsiPoints => Basis::Completed,
        }
    }
}

impl Counter {
    /// The counter is 0 or 1 on every fact (an order, a visit or a complaint is counted or
    /// not), so the facts it counts in a period are its sum.
    pub fn is_flag(self) -> bool {
        use Counter::*;
        matches!(
            self,
            Visits
                | Responded
                | Complaints
                | ComplaintsDue
                | ComplaintsOnTime
                | FtfDen
                | FtfNum
                | RemoteDen
                | RemoteNum
                | ArrivedFirst
                | ArrivedOnTime
                | NotArrived
                | RepeatDen
                | RepeatNum
                | RepeatOpen
                | Completed
                | Answered
                | VerySatisfied
                | Satisfied
                | Neutral
                | Dissatisfied
        )
    }

    /// An answer's rating: at most one of these is 1 on a fact.
    pub fn is_rating(self) -> bool {
        use Counter::*;
        matches!(self, VerySatisfied | Satisfied | Neutral | Dissatisfied)
    }

    /// The facts where any of `cs` is above zero number the counters' sum: each is a flag, and
    /// at most one of them is 1 on any fact (one counter, or ratings).
    pub fn sum_counts_facts(cs: &[Counter]) -> bool {
        match cs {
            [c] => c.is_flag(),
            _ => !cs.is_empty() && cs.iter().all(|c| c.is_rating()),
        }
    }
}

impl Basis {
    /// An order has at most one fact of this basis (its completion, acceptance, arrive-by);
    /// of the others one per visit or complaint.
    pub fn once_per_order(self) -> bool {
        matches!(self, Basis::Completed | Basis::Accepted | Basis::ArriveBy)
    }
}

/// A visit of an order, as the facts need it.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitRecord {
    pub seq: i64,
    pub technician_id: Option<i64>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub left_at: Option<DateTime<Utc>>,
    pub outcome: Option<VisitOutcome>,
}

/// A complaint of an order, as the facts need it.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplaintRecord {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// One work order with what the KPIs read of it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRecord {
    pub kind: WorkOrderType,
    pub cancelled: bool,
    pub created_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub arrive_by: DateTime<Utc>,
    pub visits: Vec<VisitRecord>,
    pub rating: Option<Rating>,
    /// Every answer of the follow-up questionnaire (the items and the overall rating).
    pub answers: Vec<Rating>,
    /// The creation time of the first later non-cancelled repair order on the same device
    /// (any status), if any.
    pub next_repair_created_at: Option<DateTime<Utc>>,
    pub complaints: Vec<ComplaintRecord>,
    pub customer_fen: i64,
    pub manufacturer_fen: i64,
}

/// One row of facts: a local date, who it is attributed to, what it adds.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    pub basis: Basis,
    pub day: NaiveDate,
    /// The technician the row counts for: the first visit's for order facts, the visit's own
    /// for visit facts; none when nobody arrived.
    pub technician_id: Option<i64>,
    /// Counter values (see [`Counter::ALL`]).
    pub counters: [i64; COUNTERS],
    /// Seconds from creation to acceptance (response time), on the accepted row.
    pub response_seconds: Option<i64>,
    /// Seconds from creation to completion of a repair order (repair cycle), on the completed row.
    pub cycle_seconds: Option<i64>,
    /// When a not-yet-arrived field order becomes late (its arrive-by), on the arrival row.
    pub late_after: Option<DateTime<Utc>>,
}

impl Fact {
    fn new(basis: Basis, day: NaiveDate, technician_id: Option<i64>) -> Fact {
        Fact {
            basis,
            day,
            technician_id,
            counters: [0; COUNTERS],
            response_seconds: None,
            cycle_seconds: None,
            late_after: None,
        }
    }

    fn add(&mut self, c: Counter, v: i64) {
        debug_assert_eq!(c.basis(), self.basis, "{c:?} on a fact of another basis");
        self.counters[c.index()] += v;
        debug_assert!(
            !c.is_flag() || (0..=1).contains(&self.counters[c.index()]),
            "{c:?} is 0 or 1 on a fact"
        );
        debug_assert!(
            Counter::ALL
                .iter()
                .filter(|r| r.is_rating())
                .map(|r| self.counters[r.index()])
                .sum::<i64>()
                <= 1,
            "one rating on a fact"
        );
    }

    pub fn get(&self, c: Counter) -> i64 {
        self.counters[c.index()]
    }
}

/// The 30 × 24 h after a completion in which a new repair order on the device makes it a repeat.
pub const REPEAT_WINDOW_HOURS: i64 = 30 * 24;

/// The first visit: the arrived visit with the lowest `seq` (DOMAIN.md "First visit").
pub fn first_visit(visits: &[VisitRecord]) -> Option<&VisitRecord> {
    visits
        .iter()
        .filter(|v| v.arrived_at.is_some())
        .min_by_key(|v| v.seq)
}

/// The facts of one order as of `now` (which decides whether a repeat window has closed);
/// `local` turns a UTC time into the org's local date. A cancelled order has none.
pub fn facts(
    o: &OrderRecord,
    now: DateTime<Utc>,
    local: &dyn Fn(DateTime<Utc>) -> NaiveDate,
) -> Vec<Fact> {
    if o.cancelled {
        return Vec::new();
    }
    let first = first_visit(&o.visits);
    let tech = first.and_then(|v| v.technician_id);
    let mut out = Vec::new();

    if let Some(done) = o.completed_at {
        let mut f = Fact::new(Basis::Completed, local(done), tech);
        f.add(Counter::Completed, 1);
        if o.kind == WorkOrderType::RepairOnsite {
            let absent = first.and_then(|v| v.outcome) == Some(VisitOutcome::CustomerAbsent);
            if !absent {
                f.add(Counter::FtfDen, 1);
                if first.and_then(|v| v.outcome) == Some(VisitOutcome::Fixed) {
                    f.add(Counter::FtfNum, 1);
                }
            }
        }
        if o.kind.is_repair() {
            f.add(Counter::RemoteDen, 1);
            if o.kind == WorkOrderType::RepairPhone {
                f.add(Counter::RemoteNum, 1);
            }
            f.cycle_seconds = Some((done - o.created_at).num_seconds());
            f.add(Counter::RepeatDen, 1);
            let window_end = done + chrono::Duration::hours(REPEAT_WINDOW_HOURS);
            match o.next_repair_created_at {
                Some(next) if next > done && next <= window_end => f.add(Counter::RepeatNum, 1),
                _ if now < window_end => f.add(Counter::RepeatOpen, 1),
                _ => {}
            }
        }
        if let Some(r) = o.rating {
            f.add(Counter::Answered, 1);
            f.add(
                match r {
                    Rating::VerySatisfied => Counter::VerySatisfied,
                    Rating::Satisfied => Counter::Satisfied,
                    Rating::Neutral => Counter::Neutral,
                    Rating::Dissatisfied => Counter::Dissatisfied,
                },
                1,
            );
        }
        for a in &o.answers {
            f.add(Counter::CsiAnswers, 1);
            f.add(Counter::CsiPoints, crate::csi::thirds(*a));
        }
        f.add(Counter::CustomerFen, o.customer_fen);
        f.add(Counter::ManufacturerFen, o.manufacturer_fen);
        // The repair cycles measured number the repair orders completed (read so).
        debug_assert_eq!(f.cycle_seconds.is_some(), f.get(Counter::RepeatDen) == 1);
        out.push(f);
    }

    if let Some(acc) = o.accepted_at {
        let mut f = Fact::new(Basis::Accepted, local(acc), tech);
        f.response_seconds = Some((acc - o.created_at).num_seconds());
        f.add(Counter::Responded, 1);
        out.push(f);
    }

    if o.kind.is_field() {
        let mut f = Fact::new(Basis::ArriveBy, local(o.arrive_by), tech);
        match first.and_then(|v| v.arrived_at) {
            Some(at) => {
                f.add(Counter::ArrivedFirst, 1);
                if at <= o.arrive_by {
                    f.add(Counter::ArrivedOnTime, 1);
                }
            }
            None => {
                f.add(Counter::NotArrived, 1);
                f.late_after = Some(o.arrive_by);
            }
        }
        out.push(f);
    }

    for v in &o.visits {
        if let Some(at) = v.arrived_at {
            let mut f = Fact::new(Basis::VisitArrived, local(at), v.technician_id);
            f.add(Counter::Visits, 1);
            if let Some(left) = v.left_at {
                f.add(Counter::OnsiteSeconds, (left - at).num_seconds().max(0));
            }
            out.push(f);
        }
    }

    for c in &o.complaints {
        let mut f = Fact::new(Basis::ComplaintCreated, local(c.created_at), tech);
        f.add(Counter::Complaints, 1);
        out.push(f);
        let closed = c.closed_at.is_some();
        if closed || c.due_at <= now {
            let mut f = Fact::new(Basis::ComplaintDue, local(c.due_at), tech);
            f.add(Counter::ComplaintsDue, 1);
            if c.closed_at.is_some_and(|at| at <= c.due_at) {
                f.add(Counter::ComplaintsOnTime, 1);
            }
            out.push(f);
        }
    }
    out
}

/// When the facts of an order change by the clock alone (without any new record): a repeat
/// window closing, a complaint falling due. The store recomputes the order then.
pub fn facts_expire(o: &OrderRecord) -> Option<DateTime<Utc>> {
    if o.cancelled {
        return None;
    }
    let mut at = None;
    if let (Some(done), true) = (o.completed_at, o.kind.is_repair()) {
        at = Some(done + chrono::Duration::hours(REPEAT_WINDOW_HOURS));
    }
    for c in o.complaints.iter().filter(|c| c.closed_at.is_none()) {
        at = Some(at.map_or(c.due_at, |a: DateTime<Utc>| a.min(c.due_at)));
    }
    at
}

/// Which fact rows make up a KPI's numerator or denominator (the orders behind a figure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Set {
    /// Rows where the sum of these counters is above zero.
    Counters(&'static [Counter]),
    /// … or field orders without an arrival whose arrive-by has passed.
    CountersOrLate(&'static [Counter]),
    /// Rows with a response time.
    Response,
    /// Rows with a repair cycle.
    Cycle,
}

impl Set {
    /// The basis of the facts the set is made of: an order's completion, acceptance or
    /// arrive-by (one row per order), or its visits or complaints (a row each).
    pub fn basis(self) -> Basis {
        match self {
            Set::Counters(cs) | Set::CountersOrLate(cs) => {
                cs.first().map(|c| c.basis()).unwrap_or(Basis::Completed)
            }
            Set::Response => Basis::Accepted,
            Set::Cycle => Basis::Completed,
        }
    }
}

impl Kpi {
    /// The numerator and denominator sets; for a duration both are its measured orders. `None`
    /// for KPIs without data yet.
    pub fn sets(self) -> Option<(Set, Set)> {
        use Counter as C;
        use Set::*;
        Some(match self {
            Kpi::FirstTimeFixRate => (Counters(&[C::FtfNum]), Counters(&[C::FtfDen])),
            Kpi::RemoteResolutionRate => (Counters(&[C::RemoteNum]), Counters(&[C::RemoteDen])),
            Kpi::ResponseTimeMinutes => (Response, Response),
            Kpi::ArrivalCompliance => (
                Counters(&[C::ArrivedOnTime]),
                CountersOrLate(&[C::ArrivedFirst]),
            ),
            Kpi::RepairCycleHours => (Cycle, Cycle),
            Kpi::RepeatRepairRate => (Counters(&[C::RepeatNum]), Counters(&[C::RepeatDen])),
            Kpi::CallsPerTechnicianDay | Kpi::EffectiveOnsiteShare => {
                (Counters(&[C::Visits]), Counters(&[C::Visits]))
            }
            Kpi::SatisfactionRate => (
                Counters(&[C::VerySatisfied, C::Satisfied]),
                Counters(&[C::Answered]),
            ),
            Kpi::VerySatisfiedRate => (Counters(&[C::VerySatisfied]), Counters(&[C::Answered])),
            Kpi::DissatisfiedRate => (Counters(&[C::Dissatisfied]), Counters(&[C::Answered])),
            Kpi::ComplaintRate => (Counters(&[C::Complaints]), Counters(&[C::Completed])),
            Kpi::FollowUpCoverage => (Counters(&[C::Answered]), Counters(&[C::Completed])),
            Kpi::ComplaintOnTimeClosure => (
                Counters(&[C::ComplaintsOnTime]),
                Counters(&[C::ComplaintsDue]),
            ),
            Kpi::ServiceRevenue => (
                Counters(&[C::CustomerFen, C::ManufacturerFen]),
                Counters(&[C::Completed]),
            ),
            Kpi::CsiByItem => (Counters(&[C::CsiAnswers]), Counters(&[C::CsiAnswers])),
            Kpi::GrossMarginPerCall
            | Kpi::PartsOnTimeRate
            | Kpi::ReturnedPartNoFaultRate
            | Kpi::WeightedPrintVolume
            | Kpi::PartsUsageRate => return None,
        })
    }
}

// ------------------------------------------------------------------------------------ values

/// A rate: integer numerator and denominator; no value when the denominator is 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = KpiRate)]
pub struct Rate {
    pub numerator: i64,
    pub denominator: i64,
    pub value: Option<f64>,
}

impl Rate {
    pub fn new(numerator: i64, denominator: i64) -> Rate {
        Rate {
            numerator,
            denominator,
            value: (denominator != 0).then(|| numerator as f64 / denominator as f64),
        }
    }
}

/// Count, median and p90 of exact durations, in the KPI's unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = KpiDurations)]
pub struct Durations {
    pub n: i64,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

impl Durations {
    /// From durations in seconds (any order) to `unit`: median = the middle value or the mean of
    /// the two middle values; p90 = the ⌈0.9·n⌉-th smallest.
    pub fn of(mut seconds: Vec<i64>, unit: DurationUnit) -> Durations {
        Durations::of_slice(&mut seconds, unit)
    }

    /// [`Durations::of`] selecting among `seconds` in place (they are reordered, not copied).
    pub fn of_slice(seconds: &mut [i64], unit: DurationUnit) -> Durations {
        let n = seconds.len();
        let s = unit.seconds();
        if n == 0 {
            return Durations {
                n: 0,
                median: None,
                p90: None,
            };
        }
        // Selection, not a sort (a year's durations at a chain's size are a million values):
        // the ⌈0.9·n⌉-th smallest, then the middle one among the values at or below it, then
        // for an even count the largest value below the middle.
        let k = (9 * n).div_ceil(10).max(1) - 1;
        let p90 = *seconds.select_nth_unstable(k).1;
        let mid = n / 2; // ≤ k for every n ≥ 1
        let upper = if mid == k {
            p90
        } else {
            *seconds[..k].select_nth_unstable(mid).1
        };
        let median = if n % 2 == 1 {
            upper as f64
        } else {
            let lower = seconds[..mid].iter().copied().max().unwrap_or(upper);
            (lower as f64 + upper as f64) / 2.0
        };
        Durations {
            n: n as i64,
            median: Some(median / s),
            p90: Some(p90 as f64 / s),
        }
    }
}

impl Durations {
    /// [`Durations::of`] over `loose` (any order; sorted here) and runs already sorted (finished
    /// months kept in memory), without copying the runs: the k-th smallest of all the values is
    /// the least value with at least k values at or below it, found by halving the value range
    /// and counting in each run by binary search.
    pub fn of_runs(loose: &mut [i64], runs: &[Arc<[u32]>], unit: DurationUnit) -> Durations {
        if runs.iter().all(|r| r.is_empty()) {
            return Durations::of_slice(loose, unit);
        }
        loose.sort_unstable();
        let n = loose.len() + runs.iter().map(|r| r.len()).sum::<usize>();
        let ends = runs
            .iter()
            .filter_map(|r| Some((i64::from(*r.first()?), i64::from(*r.last()?))))
            .chain(loose.first().zip(loose.last()).map(|(a, b)| (*a, *b)));
        let (lo, hi) = ends.fold((i64::MAX, i64::MIN), |(lo, hi), (a, b)| {
            (lo.min(a), hi.max(b))
        });
        let at_or_below = |v: i64| -> usize {
            // v < 0: no run value is at or below it.
            let in_runs: usize = match u32::try_from(v.min(i64::from(u32::MAX))) {
                Ok(c) => runs.iter().map(|r| r.partition_point(|x| *x <= c)).sum(),
                Err(_) => 0,
            };
            in_runs + loose.partition_point(|x| *x <= v)
        };
        // The (k+1)-th smallest (k from 0).
        let kth = |k: usize| -> i64 {
            let (mut a, mut b) = (lo, hi);
            while a < b {
                let mid = a + (b - a) / 2;
                if at_or_below(mid) > k {
                    b = mid;
                } else {
                    a = mid + 1;
                }
            }
            a
        };
        let s = unit.seconds();
        let p90 = kth((9 * n).div_ceil(10).max(1) - 1);
        let median = match n % 2 {
            1 => kth(n / 2) as f64,
            _ => (kth(n / 2 - 1) as f64 + kth(n / 2) as f64) / 2.0,
        };
        Durations {
            n: n as i64,
            median: Some(median / s),
            p90: Some(p90 as f64 / s),
        }
    }
}

/// A group's durations in seconds: values in no particular order, and runs kept sorted (the
/// finished months a reading takes from memory, shared with it, not copied).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Seconds {
    pub loose: Vec<i64>,
    pub sorted: Vec<Arc<[u32]>>,
}

impl From<Vec<i64>> for Seconds {
    fn from(loose: Vec<i64>) -> Seconds {
        Seconds {
            loose,
            sorted: Vec::new(),
        }
    }
}

impl Seconds {
    /// How many values.
    pub fn len(&self) -> usize {
        self.loose.len() + self.sorted.iter().map(|r| r.len()).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every value (the loose ones first, then the runs).
    pub fn values(&self) -> impl Iterator<Item = i64> + '_ {
        self.loose.iter().copied().chain(
            self.sorted
                .iter()
                .flat_map(|r| r.iter().map(|s| i64::from(*s))),
        )
    }

    /// Adds another group's or period's values (the runs shared, not copied).
    pub fn merge(&mut self, o: &Seconds) {
        self.loose.extend(&o.loose);
        self.sorted.extend(o.sorted.iter().cloned());
    }

    /// [`Seconds::merge`] taking `o`: moved where these are empty.
    pub fn absorb(&mut self, o: Seconds) {
        if self.is_empty() {
            *self = o;
            return;
        }
        match self.loose.is_empty() {
            true => self.loose = o.loose,
            false => self.loose.extend(o.loose),
        }
        self.sorted.extend(o.sorted);
    }

    /// Count, median and p90 in `unit` (the loose values are reordered).
    pub fn durations(&mut self, unit: DurationUnit) -> Durations {
        Durations::of_runs(&mut self.loose, &self.sorted, unit)
    }
}

/// Money in fen: a total, and per call when the KPI is per call.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = KpiMoney)]
pub struct Money {
    pub fen: i64,
    /// The calls the total is divided by (per-call figures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calls: Option<i64>,
    /// The total ÷ calls, rounded half away from zero to the fen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_call_fen: Option<i64>,
}

/// A KPI's value for one group and period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[schema(as = KpiValue)]
pub enum Value {
    Rate(Rate),
    Durations(Durations),
    Money(Money),
    /// No records feed this KPI yet (parts, settlement, contracts, questionnaires).
    NoData {
        no_data: bool,
    },
}

impl Value {
    /// The number a chart or a target compares: a rate's share, a duration's median, a
    /// ratio, money in fen (per call where per call).
    pub fn number(&self) -> Option<f64> {
        match self {
            Value::Rate(r) => r.value,
            Value::Durations(d) => d.median,
            Value::Money(m) => m.per_call_fen.map(|f| f as f64).or(Some(m.fen as f64)),
            Value::NoData { .. } => None,
        }
    }
}

/// Round half away from zero to `decimals` places (DOMAIN.md's rounding of shown figures).
pub fn round_half_away(x: f64, decimals: i32) -> f64 {
    let m = 10f64.powi(decimals);
    // Work on the decimal string to avoid 0.0445 * 1000 = 44.49999…
    let scaled: f64 = format!("{:.9}", x * m).parse().unwrap_or(x * m);
    scaled.abs().round().copysign(x) / m
}

/// A rate as shown: `"73.3%"`; `"—"` without a denominator.
pub fn percent(r: &Rate) -> String {
    match r.value {
        Some(v) => format!("{:.1}%", round_half_away(v * 100.0, 1)),
        None => "—".into(),
    }
}

/// What `k`'s value reads from [`Sums`]: its counters, and whether it needs the late unarrived
/// orders, the response or cycle durations, or the shifts. A reading of one KPI sums only these
/// (the test `each_kpi_reads_only_what_it_declares` holds [`Sums::value`] to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    pub counters: &'static [Counter],
    pub late_unarrived: bool,
    pub response: bool,
    pub cycle: bool,
    pub shifts: bool,
}

impl Kpi {
    pub fn needs(self) -> Needs {
        use Counter as C;
        let of = |counters: &'static [Counter]| Needs {
            counters,
            late_unarrived: false,
            response: false,
            cycle: false,
            shifts: false,
        };
        match self {
            Kpi::FirstTimeFixRate => of(&[C::FtfNum, C::FtfDen]),
            Kpi::RemoteResolutionRate => of(&[C::RemoteNum, C::RemoteDen]),
            Kpi::ResponseTimeMinutes => Needs {
                response: true,
                ..of(&[])
            },
            Kpi::ArrivalCompliance => Needs {
                late_unarrived: true,
                ..of(&[C::ArrivedOnTime, C::ArrivedFirst])
            },
            Kpi::RepairCycleHours => Needs {
                cycle: true,
                ..of(&[])
            },
            Kpi::RepeatRepairRate => of(&[C::RepeatNum, C::RepeatDen]),
            Kpi::CallsPerTechnicianDay => Needs {
                shifts: true,
                ..of(&[C::Visits])
            },
            Kpi::EffectiveOnsiteShare => Needs {
                shifts: true,
                ..of(&[C::OnsiteSeconds])
            },
            Kpi::SatisfactionRate => of(&[C::VerySatisfied, C::Satisfied, C::Answered]),
            Kpi::VerySatisfiedRate => of(&[C::VerySatisfied, C::Answered]),
            Kpi::DissatisfiedRate => of(&[C::Dissatisfied, C::Answered]),
            Kpi::ComplaintRate => of(&[C::Complaints, C::Completed]),
            Kpi::FollowUpCoverage => of(&[C::Answered, C::Completed]),
            Kpi::ComplaintOnTimeClosure => of(&[C::ComplaintsOnTime, C::ComplaintsDue]),
            Kpi::ServiceRevenue => of(&[C::CustomerFen, C::ManufacturerFen]),
            Kpi::CsiByItem => of(&[C::CsiPoints, C::CsiAnswers]),
            Kpi::GrossMarginPerCall
            | Kpi::PartsOnTimeRate
            | Kpi::ReturnedPartNoFaultRate
            | Kpi::WeightedPrintVolume
            | Kpi::PartsUsageRate => of(&[]),
        }
    }
}

/// Sums of the counters of the facts of one group and period, and their durations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sums {
    pub counters: [i64; COUNTERS],
    /// Field orders without an arrival whose arrive-by has passed (late).
    pub arrival_late_unarrived: i64,
    pub response_seconds: Seconds,
    pub cycle_seconds: Seconds,
    /// Technician working days (days with a shift) and shift seconds, for the visit KPIs.
    pub shift_days: Option<i64>,
    pub shift_seconds: Option<i64>,
}

impl Sums {
    pub fn get(&self, c: Counter) -> i64 {
        self.counters[c.index()]
    }

    pub fn set(&mut self, c: Counter, v: i64) {
        self.counters[c.index()] = v;
    }

    /// Adds one fact (as of `now`).
    pub fn add_fact(&mut self, f: &Fact, now: DateTime<Utc>) {
        for (i, v) in f.counters.iter().enumerate() {
            self.counters[i] += v;
        }
        if f.late_after.is_some_and(|t| t <= now) {
            self.arrival_late_unarrived += 1;
        }
        self.response_seconds.loose.extend(f.response_seconds);
        self.cycle_seconds.loose.extend(f.cycle_seconds);
    }

    /// Adds the sums of another group or period (disjoint from these: time buckets of one
    /// period, say).
    pub fn merge(&mut self, o: &Sums) {
        for (i, v) in o.counters.iter().enumerate() {
            self.counters[i] += v;
        }
        self.arrival_late_unarrived += o.arrival_late_unarrived;
        self.response_seconds.merge(&o.response_seconds);
        self.cycle_seconds.merge(&o.cycle_seconds);
        for (mine, theirs) in [
            (&mut self.shift_days, o.shift_days),
            (&mut self.shift_seconds, o.shift_seconds),
        ] {
            if let Some(t) = theirs {
                *mine.get_or_insert(0) += t;
            }
        }
    }

    /// The value of `k` over these sums, exactly as DOMAIN.md defines it.
    pub fn value(&self, k: Kpi) -> Value {
        use Counter as C;
        let rate = |n: C, d: C| Value::Rate(Rate::new(self.get(n), self.get(d)));
        match k {
            Kpi::FirstTimeFixRate => rate(C::FtfNum, C::FtfDen),
            Kpi::RemoteResolutionRate => rate(C::RemoteNum, C::RemoteDen),
            Kpi::ResponseTimeMinutes => Value::Durations(
                self.response_seconds
                    .clone()
                    .durations(DurationUnit::Minutes),
            ),
            Kpi::ArrivalCompliance => Value::Rate(Rate::new(
                self.get(C::ArrivedOnTime),
                self.get(C::ArrivedFirst) + self.arrival_late_unarrived,
            )),
            Kpi::RepairCycleHours => {
                Value::Durations(self.cycle_seconds.clone().durations(DurationUnit::Hours))
            }
            Kpi::RepeatRepairRate => rate(C::RepeatNum, C::RepeatDen),
            Kpi::CallsPerTechnicianDay => match self.shift_days {
                Some(d) => Value::Rate(Rate::new(self.get(C::Visits), d)),
                None => Value::NoData { no_data: true },
            },
            Kpi::EffectiveOnsiteShare => match self.shift_seconds {
                Some(s) => Value::Rate(Rate::new(self.get(C::OnsiteSeconds), s)),
                None => Value::NoData { no_data: true },
            },
            Kpi::SatisfactionRate => Value::Rate(Rate::new(
                self.get(C::VerySatisfied) + self.get(C::Satisfied),
                self.get(C::Answered),
            )),
            Kpi::VerySatisfiedRate => rate(C::VerySatisfied, C::Answered),
            Kpi::DissatisfiedRate => rate(C::Dissatisfied, C::Answered),
            Kpi::ComplaintRate => rate(C::Complaints, C::Completed),
            Kpi::FollowUpCoverage => rate(C::Answered, C::Completed),
            Kpi::ComplaintOnTimeClosure => rate(C::ComplaintsOnTime, C::ComplaintsDue),
            Kpi::ServiceRevenue => Value::Money(Money {
                fen: self.get(C::CustomerFen) + self.get(C::ManufacturerFen),
                calls: None,
                per_call_fen: None,
            }),
            // All items together: Σ scores in thirds ÷ (3 × answers) = the mean score ÷ 100.
            Kpi::CsiByItem => Value::Rate(Rate::new(
                self.get(C::CsiPoints),
                3 * self.get(C::CsiAnswers),
            )),
            Kpi::GrossMarginPerCall
            | Kpi::PartsOnTimeRate
            | Kpi::ReturnedPartNoFaultRate
            | Kpi::WeightedPrintVolume
            | Kpi::PartsUsageRate => Value::NoData { no_data: true },
        }
    }

    /// [`Sums::value`], the durations selected in place: they are kept in no particular order,
    /// so reordering them changes nothing, and a year's million values are not copied.
    pub fn value_in_place(&mut self, k: Kpi) -> Value {
        match k {
            Kpi::ResponseTimeMinutes => {
                Value::Durations(self.response_seconds.durations(DurationUnit::Minutes))
            }
            Kpi::RepairCycleHours => {
                Value::Durations(self.cycle_seconds.durations(DurationUnit::Hours))
            }
            k => self.value(k),
        }
    }

    /// Whether a repeat-repair figure is provisional (some 30-day windows still open).
    pub fn repeat_provisional(&self) -> bool {
        self.get(Counter::RepeatOpen) > 0
    }
}

/// `a / b` rounded half away from zero (per-call money).
pub fn div_round(a: i64, b: i64) -> Option<i64> {
    if b == 0 {
        return None;
    }
    let (q, r) = (a / b, a % b);
    Some(if 2 * r.abs() >= b.abs() {
        q + if (a < 0) ^ (b < 0) { -1 } else { 1 }
    } else {
        q
    })
}

// ----------------------------------------------------------------------------------- periods

/// A time bucket for trends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Day,
    Week,
    Month,
}

impl Bucket {
    /// The first day of the bucket that holds `d` (ISO weeks start on Monday).
    pub fn start(self, d: NaiveDate) -> NaiveDate {
        match self {
            Bucket::Day => d,
            Bucket::Week => d - chrono::Duration::days(d.weekday().num_days_from_monday() as i64),
            Bucket::Month => d.with_day(1).unwrap_or(d),
        }
    }

    /// The bucket's label: `2026-11-30`, `2026-W49`, `2026-11`.
    pub fn label(self, d: NaiveDate) -> String {
        match self {
            Bucket::Day => d.format("%Y-%m-%d").to_string(),
            Bucket::Week => {
                let w = d.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            Bucket::Month => d.format("%Y-%m").to_string(),
        }
    }
}

/// The period before `from..=to` of the same length (for "change against the previous period");
/// a whole month or quarter or year is compared with the one before it.
pub fn previous_period(from: NaiveDate, to: NaiveDate) -> (NaiveDate, NaiveDate) {
    let whole_months = from.day() == 1 && (to + chrono::Duration::days(1)).day() == 1;
    if whole_months {
        let months = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32 + 1;
        let start = add_months(from, -months);
        return (start, from - chrono::Duration::days(1));
    }
    let len = (to - from).num_days() + 1;
    (
        from - chrono::Duration::days(len),
        from - chrono::Duration::days(1),
    )
}

/// `d` moved by `months` (the 1st stays the 1st).
pub fn add_months(d: NaiveDate, months: i32) -> NaiveDate {
    let m0 = d.year() * 12 + d.month0() as i32 + months;
    NaiveDate::from_ymd_opt(m0.div_euclid(12), m0.rem_euclid(12) as u32 + 1, 1)
        .unwrap_or(d)
        .with_day(d.day())
        .unwrap_or(d)
}

// --------------------------------------------------------------------------------------- SPC

/// One week of a p-chart: the rate and its control limits (DOMAIN.md "SPC").
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PChartPoint {
    pub numerator: i64,
    pub denominator: i64,
    pub p: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// p̄ = Σnumerators ÷ Σdenominators; limits p̄ ± 3·√(p̄(1−p̄)/nᵢ), clipped to 0–1.
pub fn p_chart(weeks: &[(i64, i64)]) -> (Option<f64>, Vec<PChartPoint>) {
    let (sn, sd): (i64, i64) = weeks.iter().fold((0, 0), |(a, b), (n, d)| (a + n, b + d));
    let pbar = (sd > 0).then(|| sn as f64 / sd as f64);
    let points = weeks
        .iter()
        .map(|&(n, d)| {
            let (lower, upper) = match (pbar, d > 0) {
                (Some(p), true) => {
                    let s = 3.0 * (p * (1.0 - p) / d as f64).sqrt();
                    (Some((p - s).max(0.0)), Some((p + s).min(1.0)))
                }
                _ => (None, None),
            };
            PChartPoint {
                numerator: n,
                denominator: d,
                p: (d > 0).then(|| n as f64 / d as f64),
                lower,
                upper,
            }
        })
        .collect();
    (pbar, points)
}

/// Funnel-plot limits around the group's rate `p` for a volume `n`: (95 % low, 95 % high,
/// 99.8 % low, 99.8 % high), clipped to 0–1 (normal approximation, z = 1.96 and 3.09).
pub fn funnel_limits(p: f64, n: i64) -> Option<(f64, f64, f64, f64)> {
    if n <= 0 {
        return None;
    }
    let se = (p * (1.0 - p) / n as f64).sqrt();
    let c = |z: f64, s: f64| (p + s * z * se).clamp(0.0, 1.0);
    Some((c(1.96, -1.0), c(1.96, 1.0), c(3.09, -1.0), c(3.09, 1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The rows behind a figure are facts of one basis (orders, visits or complaints), so a
    /// list of them is one list; and where the figure is a sum of flags, it is their number.
    #[test]
    fn each_set_is_of_one_basis() {
        for k in Kpi::ALL {
            let Some((num, den)) = k.sets() else { continue };
            for set in [num, den] {
                if let Set::Counters(cs) | Set::CountersOrLate(cs) = set {
                    assert!(!cs.is_empty(), "{k:?}");
                    assert!(cs.iter().all(|c| c.basis() == set.basis()), "{k:?} {set:?}");
                }
            }
        }
        assert!(Counter::sum_counts_facts(&[Counter::Visits]));
        assert!(Counter::sum_counts_facts(&[
            Counter::VerySatisfied,
            Counter::Satisfied
        ]));
        assert!(!Counter::sum_counts_facts(&[Counter::CsiAnswers]));
        assert!(!Counter::sum_counts_facts(&[
            Counter::CustomerFen,
            Counter::ManufacturerFen
        ]));
        assert!(!Counter::sum_counts_facts(&[
            Counter::Completed,
            Counter::Answered
        ]));
    }

    /// A KPI's value is the same whatever the sums hold besides what it declares it needs, so a
    /// reading of one KPI may leave the rest unread.
    #[test]
    fn each_kpi_reads_only_what_it_declares() {
        let full = |seed: i64| Sums {
            counters: std::array::from_fn(|i| 7 + seed * (i as i64 + 3) % 41),
            arrival_late_unarrived: 2 + seed,
            response_seconds: vec![60 * seed, 600, 1_200 + seed].into(),
            cycle_seconds: vec![3_600, 7_200 * seed].into(),
            shift_days: Some(3 + seed),
            shift_seconds: Some(30_000 + seed),
        };
        for seed in 1..6 {
            let all = full(seed);
            for k in Kpi::ALL {
                let n = k.needs();
                let mut only = Sums::default();
                for c in n.counters {
                    only.set(*c, all.get(*c));
                }
                if n.late_unarrived {
                    only.arrival_late_unarrived = all.arrival_late_unarrived;
                }
                if n.response {
                    only.response_seconds = all.response_seconds.clone();
                }
                if n.cycle {
                    only.cycle_seconds = all.cycle_seconds.clone();
                }
                if n.shifts {
                    only.shift_days = all.shift_days;
                    only.shift_seconds = all.shift_seconds;
                }
                assert_eq!(
                    only.value(*k),
                    all.value(*k),
                    "{k:?} reads more than it declares"
                );
                // Selected in place, from the values in another order: the same value.
                let mut shuffled = all.clone();
                shuffled.response_seconds.loose.reverse();
                shuffled.cycle_seconds.loose.rotate_left(1);
                assert_eq!(shuffled.value_in_place(*k), all.value(*k), "{k:?} in place");
            }
        }
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// Beijing time (UTC+8, no daylight saving) without a time-zone crate.
    fn bj(at: DateTime<Utc>) -> NaiveDate {
        (at + chrono::Duration::hours(8)).date_naive()
    }

    fn visit(seq: i64, tech: i64, arrived: &str, left: &str, outcome: VisitOutcome) -> VisitRecord {
        VisitRecord {
            seq,
            technician_id: Some(tech),
            arrived_at: Some(t(arrived)),
            left_at: Some(t(left)),
            outcome: Some(outcome),
        }
    }

    fn repair(kind: WorkOrderType) -> OrderRecord {
        OrderRecord {
            kind,
            cancelled: false,
            created_at: t("2026-11-02T01:00:00Z"),
            accepted_at: Some(t("2026-11-02T01:30:00Z")),
            completed_at: Some(t("2026-11-03T05:00:00Z")),
            arrive_by: t("2026-11-02T08:00:00Z"),
            visits: vec![],
            rating: None,
            answers: vec![],
            next_repair_created_at: None,
            complaints: vec![],
            customer_fen: 0,
            manufacturer_fen: 0,
        }
    }

    fn sum(orders: &[OrderRecord], now: DateTime<Utc>) -> Sums {
        let mut s = Sums::default();
        for o in orders {
            for f in facts(o, now, &bj) {
                s.add_fact(&f, now);
            }
        }
        s
    }

    #[test]
    fn first_time_fix_leaves_out_absent_customers_and_counts_other_outcomes_as_failures() {
        let mut fixed = repair(WorkOrderType::RepairOnsite);
        fixed.visits = vec![visit(
            1,
            7,
            "2026-11-02T03:00:00Z",
            "2026-11-02T04:00:00Z",
            VisitOutcome::Fixed,
        )];
        let mut parts = fixed.clone();
        parts.visits[0].outcome = Some(VisitOutcome::NeedsParts);
        parts.visits.push(visit(
            2,
            7,
            "2026-11-03T03:00:00Z",
            "2026-11-03T04:00:00Z",
            VisitOutcome::Fixed,
        ));
        let mut absent = fixed.clone();
        absent.visits[0].outcome = Some(VisitOutcome::CustomerAbsent);
        // A visit that never arrived is not the first visit.
        let mut never = fixed.clone();
        never.visits.insert(
            0,
            VisitRecord {
                seq: 0,
                technician_id: Some(9),
                arrived_at: None,
                left_at: None,
                outcome: None,
            },
        );
        let s = sum(&[fixed, parts, absent, never], t("2026-12-30T00:00:00Z"));
        // fixed ✓, needs_parts ✗, absent left out, never-arrived visit skipped → fixed ✓.
        assert_eq!(s.value(Kpi::FirstTimeFixRate), Value::Rate(Rate::new(2, 3)));
        // Four repair_onsite orders completed, none by phone.
        assert_eq!(
            s.value(Kpi::RemoteResolutionRate),
            Value::Rate(Rate::new(0, 4))
        );
        // Visits: 1 + 2 + 1 + 1 = 5, each one hour on site.
        assert_eq!(s.get(Counter::Visits), 5);
        assert_eq!(s.get(Counter::OnsiteSeconds), 5 * 3600);
    }

    #[test]
    fn durations_take_the_middle_value_and_the_ceiling_rank_for_p90() {
        // Seconds 60..=600 in minutes 1..10: median of an even count is the mean of 5 and 6;
        // p90 = the ⌈9⌉-th = 9.
        let d = Durations::of(
            (1..=10).rev().map(|m| m * 60).collect(),
            DurationUnit::Minutes,
        );
        assert_eq!(d.n, 10);
        assert_eq!(d.median, Some(5.5));
        assert_eq!(d.p90, Some(9.0));
        // Eleven values: median the 6th, p90 the ⌈9.9⌉ = 10th.
        let d = Durations::of((1..=11).map(|m| m * 3600).collect(), DurationUnit::Hours);
        assert_eq!(d.median, Some(6.0));
        assert_eq!(d.p90, Some(10.0));
        let one = Durations::of(vec![90], DurationUnit::Minutes);
        assert_eq!((one.median, one.p90), (Some(1.5), Some(1.5)));
        assert_eq!(Durations::of(vec![], DurationUnit::Minutes).median, None);
    }

    #[test]
    fn selection_agrees_with_sorting_on_any_count_and_ties() {
        // Durations::of selects; the definition sorts. Counts 1..300, values with many ties.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for n in 1..300usize {
            let v: Vec<i64> = (0..n)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((x >> 33) % (n as u64 / 2 + 3)) as i64 * 60
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort_unstable();
            let median = if n % 2 == 1 {
                sorted[n / 2] as f64
            } else {
                (sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0
            };
            let p90 = sorted[(9 * n).div_ceil(10) - 1] as f64;
            let d = Durations::of(v, DurationUnit::Minutes);
            assert_eq!(d.median, Some(median / 60.0), "n = {n}");
            assert_eq!(d.p90, Some(p90 / 60.0), "n = {n}");
        }
    }

    #[test]
    fn sorted_runs_give_what_the_values_together_give() {
        // Any split of the values into sorted runs and loose ones (with ties, empty runs and
        // values past i32) reads as Durations::of over all of them.
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        for case in 0..400u64 {
            let n = 1 + next(250) as usize;
            let spread = [5, 90, 4_000_000_000][case as usize % 3];
            let all: Vec<i64> = (0..n).map(|_| next(spread) as i64).collect();
            let mut runs: Vec<Arc<[u32]>> = Vec::new();
            let mut loose = Vec::new();
            let mut rest = all.as_slice();
            while !rest.is_empty() {
                let take = (1 + next(40) as usize).min(rest.len());
                let (part, tail) = rest.split_at(take);
                rest = tail;
                match next(3) {
                    0 => loose.extend_from_slice(part),
                    _ => {
                        let mut r: Vec<u32> = part.iter().map(|v| *v as u32).collect();
                        r.sort_unstable();
                        runs.push(r.into());
                        if next(5) == 0 {
                            runs.push(Vec::new().into());
                        }
                    }
                }
            }
            let mut s = Seconds {
                loose,
                sorted: runs,
            };
            assert_eq!(s.len(), n);
            let want = Durations::of(all.clone(), DurationUnit::Minutes);
            assert_eq!(
                s.clone().durations(DurationUnit::Minutes),
                want,
                "case {case}"
            );
            assert_eq!(s.durations(DurationUnit::Minutes), want, "case {case}");
        }
        // Only empty runs: no values.
        let mut none = Seconds {
            loose: vec![],
            sorted: vec![Vec::new().into()],
        };
        assert_eq!(none.durations(DurationUnit::Hours).median, None);
    }

    #[test]
    fn a_completion_late_in_the_evening_falls_on_the_local_date() {
        let mut o = repair(WorkOrderType::RepairPhone);
        // 23:30 Beijing time on 30 November is 15:30 UTC.
        o.completed_at = Some(t("2026-11-30T15:30:00Z"));
        let f = facts(&o, t("2026-12-01T00:00:00Z"), &bj);
        let done = f.iter().find(|f| f.basis == Basis::Completed).unwrap();
        assert_eq!(done.day, NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        // 16:00 UTC is already 1 December in Beijing.
        o.completed_at = Some(t("2026-11-30T16:00:00Z"));
        let f = facts(&o, t("2026-12-01T00:00:00Z"), &bj);
        let done = f.iter().find(|f| f.basis == Basis::Completed).unwrap();
        assert_eq!(done.day, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
    }

    #[test]
    fn arrival_counts_late_orders_without_an_arrival_only_once_their_time_has_passed() {
        let mut on_time = repair(WorkOrderType::Install);
        on_time.visits = vec![visit(
            1,
            3,
            "2026-11-02T07:59:00Z",
            "2026-11-02T09:00:00Z",
            VisitOutcome::Fixed,
        )];
        let mut late = on_time.clone();
        late.visits[0].arrived_at = Some(t("2026-11-02T08:01:00Z"));
        let mut waiting = on_time.clone();
        waiting.visits.clear();
        waiting.completed_at = None;
        // Before arrive-by (08:00 UTC): the unarrived order is not yet counted.
        let before = sum(
            &[on_time.clone(), late.clone(), waiting.clone()],
            t("2026-11-02T07:00:00Z"),
        );
        assert_eq!(
            before.value(Kpi::ArrivalCompliance),
            Value::Rate(Rate::new(1, 2))
        );
        let after = sum(&[on_time, late, waiting], t("2026-11-02T09:00:00Z"));
        assert_eq!(
            after.value(Kpi::ArrivalCompliance),
            Value::Rate(Rate::new(1, 3))
        );
        // repair_phone needs no visit: it is not a field order.
        let phone = sum(
            &[repair(WorkOrderType::RepairPhone)],
            t("2026-12-01T00:00:00Z"),
        );
        assert_eq!(
            phone.value(Kpi::ArrivalCompliance),
            Value::Rate(Rate::new(0, 0))
        );
    }

    #[test]
    fn a_repeat_repair_is_a_new_repair_order_within_thirty_days_of_the_completion() {
        let done = t("2026-11-03T05:00:00Z");
        let mut o = repair(WorkOrderType::RepairOnsite);
        o.next_repair_created_at = Some(done + chrono::Duration::hours(30 * 24));
        let mut outside = o.clone();
        outside.next_repair_created_at = Some(done + chrono::Duration::hours(30 * 24 + 1));
        let mut none = o.clone();
        none.next_repair_created_at = None;
        // After every window closed: 1 repeat of 3.
        let s = sum(
            &[o.clone(), outside.clone(), none.clone()],
            t("2027-01-01T00:00:00Z"),
        );
        assert_eq!(s.value(Kpi::RepeatRepairRate), Value::Rate(Rate::new(1, 3)));
        assert!(!s.repeat_provisional());
        // Ten days after: the two without a repeat are still open (provisional).
        let s = sum(&[o, outside, none], t("2026-11-13T00:00:00Z"));
        assert_eq!(s.get(Counter::RepeatOpen), 2);
        assert!(s.repeat_provisional());
    }

    #[test]
    fn satisfaction_and_complaint_rates_use_answered_follow_ups_and_completed_orders() {
        let ratings = [
            Some(Rating::VerySatisfied),
            Some(Rating::Satisfied),
            Some(Rating::Neutral),
            Some(Rating::Dissatisfied),
            None,
        ];
        let mut orders: Vec<OrderRecord> = ratings
            .iter()
            .map(|r| OrderRecord {
                rating: *r,
                ..repair(WorkOrderType::Install)
            })
            .collect();
        orders[3].complaints = vec![ComplaintRecord {
            id: 1,
            created_at: t("2026-11-04T01:00:00Z"),
            due_at: t("2026-11-06T01:00:00Z"),
            closed_at: Some(t("2026-11-06T02:00:00Z")),
        }];
        let mut cancelled = repair(WorkOrderType::Install);
        cancelled.cancelled = true;
        orders.push(cancelled);
        let s = sum(&orders, t("2026-12-01T00:00:00Z"));
        assert_eq!(s.value(Kpi::SatisfactionRate), Value::Rate(Rate::new(2, 4)));
        assert_eq!(
            s.value(Kpi::VerySatisfiedRate),
            Value::Rate(Rate::new(1, 4))
        );
        assert_eq!(s.value(Kpi::DissatisfiedRate), Value::Rate(Rate::new(1, 4)));
        assert_eq!(s.value(Kpi::FollowUpCoverage), Value::Rate(Rate::new(4, 5)));
        // No questionnaire answers: no CSI.
        assert_eq!(s.value(Kpi::CsiByItem), Value::Rate(Rate::new(0, 0)));
        assert_eq!(s.value(Kpi::ComplaintRate), Value::Rate(Rate::new(1, 5)));
        // Closed an hour after its due time: late.
        assert_eq!(
            s.value(Kpi::ComplaintOnTimeClosure),
            Value::Rate(Rate::new(0, 1))
        );
    }

    #[test]
    fn csi_over_all_items_is_the_mean_score_of_every_answer() {
        // Order 1: 非常满意, 满意 (3 + 2 thirds); order 2: 一般, 不满意, 满意 (1 + 0 + 2);
        // a cancelled order's answers count nowhere. Σ = 8 thirds over 5 answers:
        // 100 × 8 / 15 = 53.3 (by hand).
        let mut a = repair(WorkOrderType::Install);
        a.answers = vec![Rating::VerySatisfied, Rating::Satisfied];
        let mut b = repair(WorkOrderType::Install);
        b.answers = vec![Rating::Neutral, Rating::Dissatisfied, Rating::Satisfied];
        let mut c = repair(WorkOrderType::Install);
        c.answers = vec![Rating::VerySatisfied];
        c.cancelled = true;
        let s = sum(&[a, b, c], t("2026-12-01T00:00:00Z"));
        let v = s.value(Kpi::CsiByItem);
        assert_eq!(v, Value::Rate(Rate::new(8, 15)));
        match v {
            Value::Rate(r) => assert_eq!(percent(&r), "53.3%"),
            _ => unreachable!(),
        }
    }

    #[test]
    fn an_open_complaint_is_due_only_once_its_due_time_has_passed() {
        let mut o = repair(WorkOrderType::Install);
        o.complaints = vec![ComplaintRecord {
            id: 1,
            created_at: t("2026-11-04T01:00:00Z"),
            due_at: t("2026-11-06T01:00:00Z"),
            closed_at: None,
        }];
        let before = sum(std::slice::from_ref(&o), t("2026-11-05T00:00:00Z"));
        assert_eq!(before.get(Counter::ComplaintsDue), 0);
        let after = sum(std::slice::from_ref(&o), t("2026-11-07T00:00:00Z"));
        assert_eq!(
            after.value(Kpi::ComplaintOnTimeClosure),
            Value::Rate(Rate::new(0, 1))
        );
        assert_eq!(facts_expire(&o), Some(t("2026-11-06T01:00:00Z")));
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(percent(&Rate::new(1, 8)), "12.5%");
        // 2/3 = 66.666…% → 66.7%; 1/16 = 6.25% → 6.3% (half away from zero, not to even).
        assert_eq!(percent(&Rate::new(2, 3)), "66.7%");
        assert_eq!(percent(&Rate::new(1, 16)), "6.3%");
        assert_eq!(percent(&Rate::new(0, 0)), "—");
        assert_eq!(div_round(5, 2), Some(3));
        assert_eq!(div_round(-5, 2), Some(-3));
        assert_eq!(div_round(7, 3), Some(2));
        assert_eq!(div_round(1, 0), None);
    }

    #[test]
    fn periods_compare_with_the_one_before() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(
            previous_period(d(2026, 3, 1), d(2026, 3, 31)),
            (d(2026, 2, 1), d(2026, 2, 28))
        );
        assert_eq!(
            previous_period(d(2026, 1, 1), d(2026, 3, 31)),
            (d(2025, 10, 1), d(2025, 12, 31))
        );
        assert_eq!(
            previous_period(d(2026, 11, 23), d(2026, 11, 29)),
            (d(2026, 11, 16), d(2026, 11, 22))
        );
        assert_eq!(Bucket::Week.start(d(2026, 12, 3)), d(2026, 11, 30));
        assert_eq!(Bucket::Week.label(d(2026, 12, 31)), "2026-W53");
        assert_eq!(Bucket::Month.label(d(2026, 12, 31)), "2026-12");
        assert_eq!(add_months(d(2026, 1, 1), -1), d(2025, 12, 1));
    }

    #[test]
    fn p_chart_limits_vary_with_each_weeks_count() {
        // p̄ = 30 / 40 = 0.75; week of 10: 0.75 ± 3·√(0.1875/10) = 0.75 ± 0.4108 → clipped at 1.
        let (pbar, pts) = p_chart(&[(6, 10), (24, 30), (0, 0)]);
        assert_eq!(pbar, Some(0.75));
        let s10 = 3.0 * (0.1875f64 / 10.0).sqrt();
        assert!((pts[0].lower.unwrap() - (0.75 - s10)).abs() < 1e-12);
        assert_eq!(pts[0].upper, Some(1.0));
        let s30 = 3.0 * (0.1875f64 / 30.0).sqrt();
        assert!((pts[1].upper.unwrap() - (0.75 + s30)).abs() < 1e-12);
        assert_eq!(pts[2].p, None);
        let (lo95, hi95, lo998, hi998) = funnel_limits(0.5, 100).unwrap();
        assert!((hi95 - 0.598).abs() < 1e-9 && (lo95 - 0.402).abs() < 1e-9);
        assert!(lo998 < lo95 && hi998 > hi95);
        let _ = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0);
    }
}
