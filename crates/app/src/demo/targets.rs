//! The demo's targets (目标) for the current year and month: the company's, each region's and
//! store's, and each technician's, for first-time fix, arrival on time, satisfaction and service
//! revenue. Revenue targets follow the year so far (projected to the whole year, committed at
//! that pace, stretch 15 % above) and add up from the technicians to the company; rate targets
//! are the same at every level.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use shouhou_domain::kpi::Kpi;
use shouhou_domain::targets::PeriodKind;
use shouhou_domain::OrgKind;
use shouhou_store::args;
use shouhou_store::repo::org_units;
use shouhou_store::targets::{self as store, Key};

use crate::{App, Result};

/// (KPI, committed, stretch) of the rate targets.
const RATES: &[(Kpi, f64, f64)] = &[
    (Kpi::FirstTimeFixRate, 0.80, 0.88),
    (Kpi::ArrivalCompliance, 0.85, 0.92),
    (Kpi::SatisfactionRate, 0.90, 0.95),
];

/// A target to write: unit, technician, period, KPI, committed, stretch.
type Row = (i64, Option<i64>, PeriodKind, NaiveDate, Kpi, f64, f64);

/// Rounds fen down to whole hundreds of yuan.
fn hundreds(fen: f64) -> f64 {
    (fen / 10_000.0).floor() * 10_000.0
}

/// Loads the targets, set by `manager` (the head office's) at `now`.
pub async fn load(app: &App, now: DateTime<Utc>, manager: i64) -> Result<()> {
    let today = now.with_timezone(&app.settings.time_zone).date_naive();
    let year = PeriodKind::Year.start_of(today);
    let month = PeriodKind::Month.start_of(today);
    let units = org_units::all(&app.db).await?;
    let techs: Vec<(i64, i64)> = app
        .db
        .fetch_all(
            "SELECT id, org_unit_id FROM technicians WHERE active = TRUE ORDER BY id",
            args![],
        )
        .await?;
    // Revenue of the year so far by the unit it counts for.
    let revenue: Vec<(i64, i64)> = app
        .db
        .fetch_all(
            "SELECT unit_id, CAST(COALESCE(SUM(customer_fen + manufacturer_fen), 0) AS BIGINT) FROM kpi_facts WHERE day >= $1 GROUP BY unit_id",
            args![year],
        )
        .await?;
    let days_so_far = (today - year).num_days() + 1;
    let days_in_year = if NaiveDate::from_ymd_opt(today.year(), 12, 31)
        .map(|d| d.ordinal())
        .unwrap_or(365)
        == 366
    {
        366.0
    } else {
        365.0
    };
    let stores: Vec<_> = units.iter().filter(|u| u.kind == OrgKind::Store).collect();
    // Each store's year and month revenue (committed, stretch), split over its technicians.
    let mut rows: Vec<Row> = Vec::new();
    let mut unit_sums: Vec<(i64, PeriodKind, f64, f64)> = Vec::new();
    for s in &stores {
        let so_far = revenue.iter().find(|r| r.0 == s.id).map_or(0, |r| r.1) as f64;
        let year_c = hundreds(so_far / days_so_far as f64 * days_in_year).max(1_000_000.0);
        let mine: Vec<i64> = techs.iter().filter(|t| t.1 == s.id).map(|t| t.0).collect();
        for (kind, start, c) in [
            (PeriodKind::Year, year, year_c),
            (PeriodKind::Month, month, hundreds(year_c / 12.0)),
        ] {
            let st = hundreds(c * 1.15);
            rows.push((s.id, None, kind, start, Kpi::ServiceRevenue, c, st));
            unit_sums.push((s.id, kind, c, st));
            // The technicians share it evenly; the first takes what does not divide.
            let n = mine.len().max(1) as f64;
            let (each_c, each_s) = (hundreds(c / n), hundreds(st / n));
            for (i, t) in mine.iter().enumerate() {
                let (tc, ts) = if i == 0 {
                    (c - each_c * (n - 1.0), st - each_s * (n - 1.0))
                } else {
                    (each_c, each_s)
                };
                rows.push((s.id, Some(*t), kind, start, Kpi::ServiceRevenue, tc, ts));
            }
        }
    }
    // Units above the stores: the sum of what is below them.
    let mut above: Vec<(i64, PeriodKind, f64, f64)> = Vec::new();
    for u in units
        .iter()
        .filter(|u| matches!(u.kind, OrgKind::HeadOffice | OrgKind::Region))
    {
        let below = crate::actor::subtree(&units, u.id);
        for kind in [PeriodKind::Year, PeriodKind::Month] {
            let (c, s) = unit_sums
                .iter()
                .filter(|x| x.1 == kind && below.contains(&x.0))
                .fold((0.0, 0.0), |a, x| (a.0 + x.2, a.1 + x.3));
            above.push((u.id, kind, c, s));
        }
    }
    for (u, kind, c, s) in above {
        let start = if kind == PeriodKind::Year {
            year
        } else {
            month
        };
        rows.push((u, None, kind, start, Kpi::ServiceRevenue, c, s));
    }
    // Rates: every unit but partners, every technician.
    for kind in [PeriodKind::Year, PeriodKind::Month] {
        let start = if kind == PeriodKind::Year {
            year
        } else {
            month
        };
        for (k, c, s) in RATES {
            for u in units.iter().filter(|u| u.kind != OrgKind::Partner) {
                rows.push((u.id, None, kind, start, *k, *c, *s));
            }
            for t in &techs {
                rows.push((t.1, Some(t.0), kind, start, *k, *c, *s));
            }
        }
    }
    let mut tx = app.db.begin().await?;
    for (unit, tech, kind, start, kpi, c, s) in rows {
        let key = Key {
            kpi: kpi.as_str(),
            org_unit_id: unit,
            technician_id: tech,
            period_kind: kind.as_str(),
            period_start: start,
        };
        store::insert(&mut tx, key, c, s, start, manager, now).await?;
    }
    tx.commit().await?;
    Ok(())
}
