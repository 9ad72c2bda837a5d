//! Technician points (积分, DOMAIN.md "Targets and points"): the rules an admin edits (versioned
//! by effective date), the entries an order earns its technician ([`derive`]) and what to append
//! to the append-only ledger so that it says what the records say ([`reconcile`]).
//!
//! Points are kept in hundredths (a base of 3 × difficulty 1.5 = 4.5 points = 450), so sums are
//! exact. Every order entry is attributed to the order's technician (the first visit's, as the
//! KPIs attribute orders; the assigned technician for an order nobody arrived at, e.g. phone
//! guidance) and dated by the local date of the event that earned it: the completion for the
//! base points, first-time fix, very satisfied and arrived late; the complaint's creation for a
//! complaint; the later order's creation for a repeat repair (charged to the earlier order).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{DomainError, ValidationError};
use crate::kinds::{Rating, VisitOutcome, WorkOrderType};
use crate::kpi::{first_visit, OrderRecord, REPEAT_WINDOW_HOURS};

crate::str_enum!(
    /// An order's difficulty grade (难度系数), set by the dispatcher; default normal.
    Difficulty {
        Easy = "easy" / "简单" / "Easy",
        Normal = "normal" / "一般" / "Normal",
        Hard = "hard" / "困难" / "Hard",
    }
);

crate::str_enum!(
    /// Why an entry of the ledger was made.
    Reason {
        Base = "base" / "完成工单" / "Order completed",
        FirstTimeFix = "first_time_fix" / "一次修复" / "First-time fix",
        VerySatisfied = "very_satisfied" / "客户非常满意" / "Customer very satisfied",
        ArrivedLate = "arrived_late" / "上门迟到" / "Arrived late",
        Complaint = "complaint" / "客户投诉" / "Complaint",
        RepeatRepair = "repeat_repair" / "30天内返修" / "Repeat repair within 30 days",
        Adjustment = "adjustment" / "人工调整" / "Adjustment",
    }
);

/// Points in hundredths; written and read as a number of points with up to two decimals (4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Points(pub i64);

impl Points {
    pub const fn whole(p: i64) -> Points {
        Points(p * 100)
    }

    /// From a number of points, rounded half away from zero to the hundredth.
    pub fn from_f64(v: f64) -> Option<Points> {
        if !v.is_finite() || v.abs() > 1e9 {
            return None;
        }
        Some(Points((v * 100.0).round() as i64))
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// As people read it: `4.5`, `-3`, `0.25`; with a sign when `signed` and positive.
    pub fn show(self, signed: bool) -> String {
        let sign = if self.0 < 0 {
            "-"
        } else if signed && self.0 > 0 {
            "+"
        } else {
            ""
        };
        let a = self.0.abs();
        let (whole, frac) = (a / 100, a % 100);
        match frac {
            0 => format!("{sign}{whole}"),
            f if f % 10 == 0 => format!("{sign}{whole}.{}", f / 10),
            f => format!("{sign}{whole}.{f:02}"),
        }
    }

    /// `self × factor` (a multiplier in hundredths: 1.5 = 150), rounded half away from zero.
    pub fn times(self, factor: Points) -> Points {
        let p = self.0 * factor.0;
        Points((p + 50 * p.signum()) / 100)
    }
}

impl Serialize for Points {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

impl<'de> Deserialize<'de> for Points {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Points, D::Error> {
        let v = f64::deserialize(d)?;
        Points::from_f64(v).ok_or_else(|| serde::de::Error::custom("not a number of points"))
    }
}

/// Base points by order type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BasePoints {
    #[schema(value_type = f64)]
    pub install: Points,
    #[schema(value_type = f64)]
    pub repair_onsite: Points,
    #[schema(value_type = f64)]
    pub repair_phone: Points,
    #[schema(value_type = f64)]
    pub replacement: Points,
    #[schema(value_type = f64)]
    pub maintenance: Points,
    #[schema(value_type = f64)]
    pub inspection: Points,
}

impl BasePoints {
    pub fn of(&self, kind: WorkOrderType) -> Points {
        match kind {
            WorkOrderType::Install => self.install,
            WorkOrderType::RepairOnsite => self.repair_onsite,
            WorkOrderType::RepairPhone => self.repair_phone,
            WorkOrderType::Replacement => self.replacement,
            WorkOrderType::Maintenance => self.maintenance,
            WorkOrderType::Inspection => self.inspection,
        }
    }

    pub fn set(&mut self, kind: WorkOrderType, p: Points) {
        *match kind {
            WorkOrderType::Install => &mut self.install,
            WorkOrderType::RepairOnsite => &mut self.repair_onsite,
            WorkOrderType::RepairPhone => &mut self.repair_phone,
            WorkOrderType::Replacement => &mut self.replacement,
            WorkOrderType::Maintenance => &mut self.maintenance,
            WorkOrderType::Inspection => &mut self.inspection,
        } = p;
    }
}

/// The multiplier of each difficulty grade (1.5 = one and a half times the base).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Multipliers {
    #[schema(value_type = f64)]
    pub easy: Points,
    #[schema(value_type = f64)]
    pub normal: Points,
    #[schema(value_type = f64)]
    pub hard: Points,
}

impl Multipliers {
    pub fn of(&self, d: Difficulty) -> Points {
        match d {
            Difficulty::Easy => self.easy,
            Difficulty::Normal => self.normal,
            Difficulty::Hard => self.hard,
        }
    }

    pub fn set(&mut self, d: Difficulty, p: Points) {
        *match d {
            Difficulty::Easy => &mut self.easy,
            Difficulty::Normal => &mut self.normal,
            Difficulty::Hard => &mut self.hard,
        } = p;
    }
}

/// The points rules (one version's document). Bonuses are ≥ 0, penalties ≤ 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rules {
    pub base: BasePoints,
    pub difficulty: Multipliers,
    #[schema(value_type = f64)]
    pub first_time_fix: Points,
    #[schema(value_type = f64)]
    pub very_satisfied: Points,
    #[schema(value_type = f64)]
    pub arrived_late: Points,
    #[schema(value_type = f64)]
    pub complaint: Points,
    /// Charged to the earlier order's technician.
    #[schema(value_type = f64)]
    pub repeat_repair: Points,
    /// Technicians with fewer visits in the month are listed unranked.
    pub min_visits: i64,
}

impl Default for Rules {
    /// DOMAIN.md's defaults.
    fn default() -> Rules {
        Rules {
            base: BasePoints {
                install: Points::whole(2),
                repair_onsite: Points::whole(3),
                repair_phone: Points::whole(1),
                replacement: Points::whole(2),
                maintenance: Points::whole(2),
                inspection: Points::whole(1),
            },
            difficulty: Multipliers {
                easy: Points(100),
                normal: Points(150),
                hard: Points(200),
            },
            first_time_fix: Points::whole(1),
            very_satisfied: Points::whole(1),
            arrived_late: Points::whole(-1),
            complaint: Points::whole(-5),
            repeat_repair: Points::whole(-3),
            min_visits: 20,
        }
    }
}

impl Rules {
    /// Refuses a document a ranking could not be read from: negative base points or bonuses,
    /// positive penalties, multipliers outside 0–10, a minimum outside 0–1000.
    pub fn check(&self) -> Result<(), DomainError> {
        let range = |field: &str, p: Points, min: i64, max: i64| {
            if p.0 < min * 100 || p.0 > max * 100 {
                Err(DomainError::invalid(
                    field,
                    ValidationError::OutOfRange { min, max },
                ))
            } else {
                Ok(())
            }
        };
        for k in WorkOrderType::ALL {
            range(&format!("base.{}", k.as_str()), self.base.of(*k), 0, 100)?;
        }
        for d in Difficulty::ALL {
            range(
                &format!("difficulty.{}", d.as_str()),
                self.difficulty.of(*d),
                0,
                10,
            )?;
        }
        range("first_time_fix", self.first_time_fix, 0, 100)?;
        range("very_satisfied", self.very_satisfied, 0, 100)?;
        range("arrived_late", self.arrived_late, -100, 0)?;
        range("complaint", self.complaint, -100, 0)?;
        range("repeat_repair", self.repeat_repair, -100, 0)?;
        if !(0..=1000).contains(&self.min_visits) {
            return Err(DomainError::invalid(
                "min_visits",
                ValidationError::OutOfRange { min: 0, max: 1000 },
            ));
        }
        Ok(())
    }
}

/// One version of the rules: it applies to entries dated on or after `effective_from` until the
/// next version's date.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RuleVersion {
    pub id: i64,
    pub effective_from: NaiveDate,
    pub rules: Rules,
}

/// The version that applies on `day`: the latest effective on or before it (of two on the same
/// date, the later one); before every version, the earliest.
pub fn version_for(versions: &[RuleVersion], day: NaiveDate) -> Option<&RuleVersion> {
    versions
        .iter()
        .filter(|v| v.effective_from <= day)
        .max_by_key(|v| (v.effective_from, v.id))
        .or_else(|| versions.iter().min_by_key(|v| (v.effective_from, v.id)))
}

/// An entry of the ledger as the derivation and reconciliation see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub technician_id: i64,
    pub reason: Reason,
    /// The local date the entry counts on (its month's ranking).
    pub day: NaiveDate,
    pub points: Points,
    /// The rules version the points were computed with.
    pub rule_version: Option<i64>,
}

/// The points an order earns as of its records: one entry per reason and day. `assigned` is the
/// order's technician, used when nobody arrived (phone guidance); none for a partner's order. A
/// cancelled order, or one without a technician, earns nothing.
pub fn derive(
    o: &OrderRecord,
    difficulty: Difficulty,
    assigned: Option<i64>,
    versions: &[RuleVersion],
    local: &dyn Fn(DateTime<Utc>) -> NaiveDate,
) -> Vec<Entry> {
    if o.cancelled {
        return Vec::new();
    }
    let first = first_visit(&o.visits);
    let Some(tech) = first.and_then(|v| v.technician_id).or(match first {
        Some(_) => None,
        None => assigned,
    }) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut push = |reason: Reason, day: NaiveDate, pick: &dyn Fn(&Rules) -> Points| {
        if let Some(v) = version_for(versions, day) {
            let points = pick(&v.rules);
            if points.0 != 0 {
                out.push(Entry {
                    technician_id: tech,
                    reason,
                    day,
                    points,
                    rule_version: Some(v.id),
                });
            }
        }
    };
    if let Some(done) = o.completed_at {
        let day = local(done);
        push(Reason::Base, day, &|r| {
            r.base.of(o.kind).times(r.difficulty.of(difficulty))
        });
        if o.kind == WorkOrderType::RepairOnsite
            && first.and_then(|v| v.outcome) == Some(VisitOutcome::Fixed)
        {
            push(Reason::FirstTimeFix, day, &|r| r.first_time_fix);
        }
        if o.rating == Some(Rating::VerySatisfied) {
            push(Reason::VerySatisfied, day, &|r| r.very_satisfied);
        }
        if o.kind.is_field()
            && first
                .and_then(|v| v.arrived_at)
                .is_some_and(|a| a > o.arrive_by)
        {
            push(Reason::ArrivedLate, day, &|r| r.arrived_late);
        }
        if o.kind.is_repair() {
            let window_end = done + Duration::hours(REPEAT_WINDOW_HOURS);
            if let Some(next) = o
                .next_repair_created_at
                .filter(|n| *n > done && *n <= window_end)
            {
                push(Reason::RepeatRepair, local(next), &|r| r.repeat_repair);
            }
        }
    }
    for c in &o.complaints {
        push(Reason::Complaint, local(c.created_at), &|r| r.complaint);
    }
    merge(out)
}

/// Entries with the same technician, reason and day summed into one.
fn merge(entries: Vec<Entry>) -> Vec<Entry> {
    let mut by: BTreeMap<(i64, Reason, NaiveDate), Entry> = BTreeMap::new();
    for e in entries {
        by.entry((e.technician_id, e.reason, e.day))
            .and_modify(|m| {
                m.points.0 += e.points.0;
                m.rule_version = e.rule_version;
            })
            .or_insert(e);
    }
    by.into_values().collect()
}

/// What to append to an order's ledger so that, for every (technician, reason, day), the sum of
/// its entries equals the derivation: the difference, with the derivation's rules version (a
/// reversal of something no longer derived keeps the version it was made with). `held` are the
/// order's entries so far (adjustments left out); nothing already written is changed.
pub fn reconcile(derived: &[Entry], held: &[Entry]) -> Vec<Entry> {
    let held = merge(held.to_vec());
    let derived = merge(derived.to_vec());
    let key = |e: &Entry| (e.technician_id, e.reason, e.day);
    let mut out = Vec::new();
    for d in &derived {
        let have = held
            .iter()
            .find(|h| key(h) == key(d))
            .map_or(0, |h| h.points.0);
        if have != d.points.0 {
            out.push(Entry {
                points: Points(d.points.0 - have),
                ..d.clone()
            });
        }
    }
    for h in held.iter().filter(|h| h.points.0 != 0) {
        if !derived.iter().any(|d| key(d) == key(h)) {
            out.push(Entry {
                points: Points(-h.points.0),
                ..h.clone()
            });
        }
    }
    out
}

/// A technician's standing in a month: ranked with enough visits, else listed with why not.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    pub technician_id: i64,
    pub visits: i64,
    pub points: Points,
    /// 1, 2, 2, 4 …: ties share a rank; none below the minimum of visits.
    pub rank: Option<i64>,
}

/// Ranks technicians (id, visits, points) by points, highest first: only those with at least
/// `min_visits` visits; ties share the rank (1, 2, 2, 4); the others follow unranked.
pub fn rank(rows: &[(i64, i64, Points)], min_visits: i64) -> Vec<Standing> {
    let mut ranked: Vec<&(i64, i64, Points)> = rows.iter().filter(|r| r.1 >= min_visits).collect();
    ranked.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
    let mut out: Vec<Standing> = Vec::new();
    for (i, r) in ranked.iter().enumerate() {
        let rank = match out.last() {
            Some(prev) if prev.points == r.2 => prev.rank,
            _ => Some(i as i64 + 1),
        };
        out.push(Standing {
            technician_id: r.0,
            visits: r.1,
            points: r.2,
            rank,
        });
    }
    let mut rest: Vec<&(i64, i64, Points)> = rows.iter().filter(|r| r.1 < min_visits).collect();
    rest.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
    out.extend(rest.into_iter().map(|r| Standing {
        technician_id: r.0,
        visits: r.1,
        points: r.2,
        rank: None,
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kpi::{ComplaintRecord, VisitRecord};
    use chrono::TimeZone;

    fn t(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, d, h, 0, 0).unwrap()
    }
    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 5, d).unwrap()
    }
    fn local(x: DateTime<Utc>) -> NaiveDate {
        x.date_naive()
    }
    fn v1() -> Vec<RuleVersion> {
        vec![RuleVersion {
            id: 1,
            effective_from: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
            rules: Rules::default(),
        }]
    }
    fn order(kind: WorkOrderType) -> OrderRecord {
        OrderRecord {
            kind,
            cancelled: false,
            created_at: t(1, 8),
            accepted_at: Some(t(1, 9)),
            completed_at: Some(t(2, 12)),
            arrive_by: t(2, 10),
            visits: vec![VisitRecord {
                seq: 1,
                technician_id: Some(7),
                arrived_at: Some(t(2, 9)),
                left_at: Some(t(2, 11)),
                outcome: Some(VisitOutcome::Fixed),
            }],
            rating: None,
            answers: vec![],
            next_repair_created_at: None,
            complaints: vec![],
            customer_fen: 0,
            manufacturer_fen: 0,
        }
    }
    fn e(reason: Reason, d: u32, p: i64) -> Entry {
        Entry {
            technician_id: 7,
            reason,
            day: day(d),
            points: Points(p),
            rule_version: Some(1),
        }
    }

    #[test]
    fn an_onsite_repair_fixed_on_time_very_satisfied_normal_grade() {
        // 3 × 1.5 = 4.5, +1 first-time fix, +1 very satisfied = 6.5.
        let mut o = order(WorkOrderType::RepairOnsite);
        o.rating = Some(Rating::VerySatisfied);
        let got = derive(&o, Difficulty::Normal, None, &v1(), &local);
        assert_eq!(
            got,
            vec![
                e(Reason::Base, 2, 450),
                e(Reason::FirstTimeFix, 2, 100),
                e(Reason::VerySatisfied, 2, 100),
            ]
        );
        assert_eq!(got.iter().map(|e| e.points.0).sum::<i64>(), 650);
    }

    #[test]
    fn a_hard_install_arrived_late_with_two_complaints() {
        // 2 × 2.0 = 4, −1 late, −5 × 2 complaints (one day) = −7.
        let mut o = order(WorkOrderType::Install);
        o.visits[0].arrived_at = Some(t(2, 11));
        o.complaints = vec![
            ComplaintRecord {
                id: 1,
                created_at: t(3, 9),
                due_at: t(5, 9),
                closed_at: None,
            },
            ComplaintRecord {
                id: 2,
                created_at: t(3, 15),
                due_at: t(5, 15),
                closed_at: None,
            },
        ];
        let got = derive(&o, Difficulty::Hard, None, &v1(), &local);
        assert_eq!(
            got,
            vec![
                e(Reason::Base, 2, 400),
                e(Reason::ArrivedLate, 2, -100),
                e(Reason::Complaint, 3, -1000),
            ]
        );
    }

    #[test]
    fn a_repeat_within_30_days_charges_the_earlier_order_on_the_day_it_is_known() {
        let mut o = order(WorkOrderType::RepairOnsite);
        o.visits[0].outcome = Some(VisitOutcome::NeedsParts);
        o.next_repair_created_at = Some(t(20, 8));
        let got = derive(&o, Difficulty::Easy, None, &v1(), &local);
        assert_eq!(
            got,
            vec![e(Reason::Base, 2, 300), e(Reason::RepeatRepair, 20, -300)]
        );
        // 31 days later is not a repeat.
        o.next_repair_created_at = Some(t(2, 12) + Duration::days(31));
        let got = derive(&o, Difficulty::Easy, None, &v1(), &local);
        assert_eq!(got, vec![e(Reason::Base, 2, 300)]);
    }

    #[test]
    fn phone_guidance_goes_to_the_assigned_technician_and_cancelled_orders_earn_nothing() {
        let mut o = order(WorkOrderType::RepairPhone);
        o.visits.clear();
        let got = derive(&o, Difficulty::Normal, Some(7), &v1(), &local);
        assert_eq!(got, vec![e(Reason::Base, 2, 150)]);
        assert!(derive(&o, Difficulty::Normal, None, &v1(), &local).is_empty());
        o.cancelled = true;
        assert!(derive(&o, Difficulty::Normal, Some(7), &v1(), &local).is_empty());
    }

    #[test]
    fn the_version_in_force_on_the_entry_day_is_used() {
        let mut rules = Rules::default();
        rules.base.install = Points::whole(4);
        let mut versions = v1();
        versions.push(RuleVersion {
            id: 2,
            effective_from: day(10),
            rules,
        });
        let mut o = order(WorkOrderType::Install);
        assert_eq!(
            derive(&o, Difficulty::Easy, None, &versions, &local),
            vec![e(Reason::Base, 2, 200)]
        );
        o.completed_at = Some(t(10, 1));
        let got = derive(&o, Difficulty::Easy, None, &versions, &local);
        assert_eq!(got[0].points, Points(400));
        assert_eq!(got[0].rule_version, Some(2));
        assert_eq!(version_for(&versions, day(9)).map(|v| v.id), Some(1));
        assert_eq!(
            version_for(&versions, NaiveDate::from_ymd_opt(1999, 1, 1).unwrap()).map(|v| v.id),
            Some(1)
        );
    }

    #[test]
    fn reconciliation_appends_only_the_differences() {
        let derived = vec![e(Reason::Base, 2, 450), e(Reason::FirstTimeFix, 2, 100)];
        // Nothing held yet: everything is appended.
        assert_eq!(reconcile(&derived, &[]), derived);
        // Held as derived: nothing to do.
        assert!(reconcile(&derived, &derived).is_empty());
        // The grade went from normal to hard (4.5 → 6) and the fix is no longer derived.
        let now = vec![e(Reason::Base, 2, 600)];
        assert_eq!(
            reconcile(&now, &derived),
            vec![e(Reason::Base, 2, 150), e(Reason::FirstTimeFix, 2, -100)]
        );
        // After appending those, the sums match.
        let mut held = derived.clone();
        held.extend(reconcile(&now, &derived));
        assert!(reconcile(&now, &held).is_empty());
        // A cancelled order's entries are reversed.
        assert_eq!(reconcile(&[], &held), vec![e(Reason::Base, 2, -600)]);
    }

    #[test]
    fn ranking_needs_the_minimum_of_visits_and_ties_share_a_rank() {
        let rows = vec![
            (1, 25, Points(3000)),
            (2, 20, Points(4000)),
            (3, 30, Points(3000)),
            (4, 19, Points(9900)),
            (5, 22, Points(1000)),
        ];
        let r = rank(&rows, 20);
        let got: Vec<(i64, Option<i64>)> = r.iter().map(|s| (s.technician_id, s.rank)).collect();
        assert_eq!(
            got,
            vec![
                (2, Some(1)),
                (3, Some(2)),
                (1, Some(2)),
                (5, Some(4)),
                (4, None)
            ]
        );
    }

    #[test]
    fn points_read_as_numbers() {
        assert_eq!(Points(450).show(false), "4.5");
        assert_eq!(Points(-300).show(true), "-3");
        assert_eq!(Points(25).show(true), "+0.25");
        assert_eq!(Points(300).times(Points(150)), Points(450));
        assert_eq!(Points(-5).times(Points(150)), Points(-8));
        let json = serde_json::to_value(Rules::default()).unwrap();
        assert_eq!(json["base"]["repair_onsite"], 3.0);
        assert_eq!(json["difficulty"]["normal"], 1.5);
        let back: Rules = serde_json::from_value(json).unwrap();
        assert_eq!(back, Rules::default());
        let bad = Rules {
            complaint: Points::whole(5),
            ..Rules::default()
        };
        assert!(bad.check().is_err());
        assert!(Rules::default().check().is_ok());
    }
}
