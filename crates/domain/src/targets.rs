//! Targets (目标): a committed value (确保值) and a stretch value (挑战值) for a KPI, an org unit
//! or a technician, and a period (month, quarter, year). Head office sets the company's, managers
//! break them down to their units and technicians.
//!
//! Values are in the KPI's own unit, the one [`crate::kpi::Value::number`] reads: a rate as a
//! fraction 0–1 (0.85 = 85 %), a duration's median in minutes or hours, a ratio as the number,
//! money in fen. The pages show rates as percentages and money in yuan; the API and the store
//! hold the fraction and the fen.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::error::{DomainError, ValidationError};
use crate::kpi::{add_months, Direction, Kpi, Shape};

crate::str_enum!(
    /// The length of a target's period.
    PeriodKind {
        Month = "month" / "月度" / "Month",
        Quarter = "quarter" / "季度" / "Quarter",
        Year = "year" / "年度" / "Year",
    }
);

impl PeriodKind {
    /// The first day of the period of this kind holding `d`.
    pub fn start_of(self, d: NaiveDate) -> NaiveDate {
        let month = match self {
            PeriodKind::Month => d.month(),
            PeriodKind::Quarter => (d.month0() / 3) * 3 + 1,
            PeriodKind::Year => 1,
        };
        NaiveDate::from_ymd_opt(d.year(), month, 1).unwrap_or(d)
    }

    /// Whether `d` is the first day of a period of this kind.
    pub fn is_start(self, d: NaiveDate) -> bool {
        self.start_of(d) == d
    }

    /// The first and last day (both included) of the period starting at `start`.
    pub fn range(self, start: NaiveDate) -> (NaiveDate, NaiveDate) {
        let months = match self {
            PeriodKind::Month => 1,
            PeriodKind::Quarter => 3,
            PeriodKind::Year => 12,
        };
        let next = add_months(start, months);
        (start, next.pred_opt().unwrap_or(next))
    }

    /// How the period reads: `2026-12`, `2026-Q4`, `2026`.
    pub fn period_label(self, start: NaiveDate) -> String {
        match self {
            PeriodKind::Month => format!("{}-{:02}", start.year(), start.month()),
            PeriodKind::Quarter => format!("{}-Q{}", start.year(), start.month0() / 3 + 1),
            PeriodKind::Year => start.year().to_string(),
        }
    }
}

/// Where a value stands against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = TargetStatus)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The stretch value reached (挑战达成): green.
    Stretch,
    /// The committed value reached, not the stretch (确保达成): amber.
    Committed,
    /// Below the committed value (未达成): red.
    Below,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Stretch => "stretch",
            Status::Committed => "committed",
            Status::Below => "below",
        }
    }
}

/// Tolerance of the comparisons: a rate entered as 85 % and one computed as 17/20 are equal.
const EPS: f64 = 1e-9;

/// Whether `value` reaches `goal` in the KPI's direction: at or above for higher-is-better, at or
/// below for lower-is-better.
pub fn reaches(direction: Direction, value: f64, goal: f64) -> bool {
    match direction {
        Direction::HigherIsBetter => value >= goal - EPS,
        Direction::LowerIsBetter => value <= goal + EPS,
    }
}

/// The status of `value` against `committed` and `stretch`.
pub fn status(direction: Direction, value: f64, committed: f64, stretch: f64) -> Status {
    if reaches(direction, value, stretch) {
        Status::Stretch
    } else if reaches(direction, value, committed) {
        Status::Committed
    } else {
        Status::Below
    }
}

/// Whether the KPI may carry a target: it has records feeding it and one number to compare.
pub fn targetable(kpi: Kpi) -> bool {
    kpi.available()
}

/// Whether the children's targets of this KPI should add up to the parent's: totals of counts
/// and money. Rates, durations, ratios and per-call money do not add up.
pub fn summable(kpi: Kpi) -> bool {
    matches!(kpi, Kpi::ServiceRevenue)
}

/// Checks a committed and a stretch value for `kpi`: finite, not negative, a rate at most 1,
/// and the stretch at least as ambitious as the committed value in the KPI's direction.
pub fn validate(kpi: Kpi, committed: f64, stretch: f64) -> Result<(), DomainError> {
    let bad = |field: &str, zh: &str, en: &str| {
        Err(DomainError::invalid(
            field,
            ValidationError::Invalid {
                zh: zh.into(),
                en: en.into(),
            },
        ))
    };
    if !targetable(kpi) {
        return bad(
            "kpi",
            "该指标暂无数据，不能设目标",
            "this KPI has no data yet: no target",
        );
    }
    for (field, v) in [("committed", committed), ("stretch", stretch)] {
        if !v.is_finite() || v < 0.0 {
            return bad(field, "目标值不能为负数", "a target cannot be negative");
        }
        if kpi.shape() == Shape::Rate && v > 1.0 + EPS {
            return bad(
                field,
                "比率目标不能超过 100%",
                "a rate target cannot exceed 100%",
            );
        }
    }
    if !reaches(kpi.direction(), stretch, committed) {
        return match kpi.direction() {
            Direction::HigherIsBetter => bad(
                "stretch",
                "挑战值不能低于确保值",
                "the stretch value cannot be below the committed value",
            ),
            Direction::LowerIsBetter => bad(
                "stretch",
                "此指标越低越好：挑战值不能高于确保值",
                "lower is better for this KPI: the stretch value cannot be above the committed value",
            ),
        };
    }
    Ok(())
}

/// Whether the children's values add up to the parent's (to the fen: money targets are whole
/// fen).
pub fn sums_match(parent: f64, children: &[f64]) -> bool {
    let total: f64 = children.iter().sum();
    (total - parent).abs() < 0.5
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn periods_start_and_end() {
        assert_eq!(PeriodKind::Month.start_of(d(2026, 12, 15)), d(2026, 12, 1));
        assert_eq!(PeriodKind::Quarter.start_of(d(2026, 8, 31)), d(2026, 7, 1));
        assert_eq!(PeriodKind::Year.start_of(d(2026, 8, 31)), d(2026, 1, 1));
        assert_eq!(
            PeriodKind::Month.range(d(2026, 2, 1)),
            (d(2026, 2, 1), d(2026, 2, 28))
        );
        assert_eq!(
            PeriodKind::Month.range(d(2024, 2, 1)),
            (d(2024, 2, 1), d(2024, 2, 29))
        );
        assert_eq!(
            PeriodKind::Quarter.range(d(2026, 10, 1)),
            (d(2026, 10, 1), d(2026, 12, 31))
        );
        assert_eq!(
            PeriodKind::Year.range(d(2026, 1, 1)),
            (d(2026, 1, 1), d(2026, 12, 31))
        );
        assert!(PeriodKind::Quarter.is_start(d(2026, 4, 1)));
        assert!(!PeriodKind::Quarter.is_start(d(2026, 5, 1)));
        assert_eq!(PeriodKind::Quarter.period_label(d(2026, 10, 1)), "2026-Q4");
        assert_eq!(PeriodKind::Month.period_label(d(2026, 3, 1)), "2026-03");
    }

    #[test]
    fn status_by_direction() {
        let up = Direction::HigherIsBetter;
        assert_eq!(status(up, 0.95, 0.85, 0.9), Status::Stretch);
        assert_eq!(status(up, 0.9, 0.85, 0.9), Status::Stretch);
        assert_eq!(status(up, 0.85, 0.85, 0.9), Status::Committed);
        assert_eq!(
            status(up, 17.0 / 20.0, 85.0 / 100.0, 0.9),
            Status::Committed
        );
        assert_eq!(status(up, 0.8, 0.85, 0.9), Status::Below);
        let down = Direction::LowerIsBetter;
        // Repair cycle in hours: committed 48, stretch 24.
        assert_eq!(status(down, 20.0, 48.0, 24.0), Status::Stretch);
        assert_eq!(status(down, 24.0, 48.0, 24.0), Status::Stretch);
        assert_eq!(status(down, 48.0, 48.0, 24.0), Status::Committed);
        assert_eq!(status(down, 48.5, 48.0, 24.0), Status::Below);
    }

    #[test]
    fn stretch_must_be_at_least_as_ambitious() {
        assert!(validate(Kpi::FirstTimeFixRate, 0.85, 0.9).is_ok());
        assert!(validate(Kpi::FirstTimeFixRate, 0.85, 0.85).is_ok());
        assert!(validate(Kpi::FirstTimeFixRate, 0.9, 0.85).is_err());
        assert!(validate(Kpi::RepairCycleHours, 48.0, 24.0).is_ok());
        assert!(validate(Kpi::RepairCycleHours, 24.0, 48.0).is_err());
        assert!(validate(Kpi::FirstTimeFixRate, 0.85, 1.2).is_err());
        assert!(validate(Kpi::ServiceRevenue, -1.0, 5.0).is_err());
        assert!(validate(Kpi::ServiceRevenue, 1e9, 1.2e9).is_ok());
        assert!(validate(Kpi::ServiceRevenue, f64::NAN, 1.0).is_err());
        assert!(validate(Kpi::PartsUsageRate, 0.5, 0.6).is_err());
    }

    #[test]
    fn only_totals_add_up() {
        assert!(summable(Kpi::ServiceRevenue));
        assert!(!summable(Kpi::FirstTimeFixRate));
        assert!(!summable(Kpi::RepairCycleHours));
        assert!(!summable(Kpi::GrossMarginPerCall));
        assert!(sums_match(100_000.0, &[60_000.0, 40_000.0]));
        assert!(!sums_match(100_000.0, &[60_000.0, 30_000.0]));
        assert!(sums_match(0.0, &[]));
    }
}
