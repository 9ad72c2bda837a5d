//! Targets (目标): committed and stretch values per KPI, org unit or technician, and period. A
//! technician's target carries the technician's unit (`org_unit_id`), so [`Visibility::clause`]
//! scopes every target like its unit's other records. Rows are effective-dated: the one in force
//! on a day is the latest whose `effective_from` is on or before it.

use std::collections::hash_map::{Entry, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::args;
use crate::db::{Db, Tx};
use crate::scope::{Scoped, Sql, Visibility};
use crate::Result;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Target {
    pub id: i64,
    /// The KPI's key (`first_time_fix_rate`, `service_revenue` …).
    pub kpi: String,
    /// The unit the target is for, or the technician's unit.
    pub org_unit_id: i64,
    /// Set for a technician's target.
    pub technician_id: Option<i64>,
    /// `month`, `quarter` or `year`.
    pub period_kind: String,
    /// The period's first day.
    pub period_start: NaiveDate,
    /// 确保值, in the KPI's unit: a rate as a fraction 0–1, a duration in its minutes or hours,
    /// money in fen.
    pub committed: f64,
    /// 挑战值, in the same unit.
    pub stretch: f64,
    /// The first day this row is in force.
    pub effective_from: NaiveDate,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Raised by every change.
    pub version: i64,
}

const COLS: &str = "g.id, g.kpi, g.org_unit_id, g.technician_id, g.period_kind, g.period_start, \
     g.committed, g.stretch, g.effective_from, g.created_by, g.created_at, g.updated_at, g.version";

/// Which targets: a period, optionally one KPI, one technician.
#[derive(Debug, Clone)]
pub struct Filter {
    pub period_kind: String,
    pub period_start: NaiveDate,
    pub kpi: Option<String>,
    pub technician_id: Option<i64>,
    /// Only this unit's own targets (not its technicians').
    pub unit_only: Option<i64>,
    /// In force on this day.
    pub as_of: NaiveDate,
}

/// Keeps, of each (KPI, unit, technician), the row with the latest `effective_from` (rows come
/// in that order).
fn latest(rows: Vec<Target>) -> Vec<Target> {
    let mut at: HashMap<(String, i64, Option<i64>), usize> = HashMap::with_capacity(rows.len());
    let mut out: Vec<Target> = Vec::with_capacity(rows.len());
    for r in rows {
        match at.entry((r.kpi.clone(), r.org_unit_id, r.technician_id)) {
            Entry::Occupied(e) => out[*e.get()] = r,
            Entry::Vacant(e) => {
                e.insert(out.len());
                out.push(r);
            }
        }
    }
    out
}

fn filtered(f: &Filter, q: &mut Sql) {
    q.push_bind(" AND g.period_kind = {}", f.period_kind.as_str())
        .push_bind(" AND g.period_start = {}", f.period_start)
        .push_bind(" AND g.effective_from <= {}", f.as_of);
    if let Some(k) = &f.kpi {
        q.push_bind(" AND g.kpi = {}", k.as_str());
    }
    if let Some(t) = f.technician_id {
        q.push_bind(" AND g.technician_id = {}", t);
    }
    if let Some(u) = f.unit_only {
        q.push_bind(" AND g.org_unit_id = {} AND g.technician_id IS NULL", u);
    }
}

/// The targets in force in the user's units (technicians see none here: see [`of_technician`]).
pub async fn in_force(db: &Db, vis: &Visibility, f: &Filter) -> Result<Vec<Target>> {
    let mut q = Sql::new(&format!("SELECT {COLS} FROM targets g WHERE "));
    let cl = vis.clause(Scoped::Unit, "g", &mut q);
    q.push(&cl);
    filtered(f, &mut q);
    q.push(" ORDER BY g.effective_from, g.id");
    Ok(latest(db.fetch_all(&q.text, q.args).await?))
}

/// A technician's own targets in force (the caller checked who asks).
pub async fn of_technician(db: &Db, technician_id: i64, f: &Filter) -> Result<Vec<Target>> {
    let mut q = Sql::new(&format!("SELECT {COLS} FROM targets g WHERE "));
    q.push_bind("g.technician_id = {}", technician_id);
    filtered(f, &mut q);
    q.push(" ORDER BY g.effective_from, g.id");
    Ok(latest(db.fetch_all(&q.text, q.args).await?))
}

/// What a target is for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Key<'a> {
    pub kpi: &'a str,
    pub org_unit_id: i64,
    pub technician_id: Option<i64>,
    pub period_kind: &'a str,
    pub period_start: NaiveDate,
}

/// The row of `key` effective from exactly `effective_from`, if any.
pub async fn find(tx: &mut Tx, key: Key<'_>, effective_from: NaiveDate) -> Result<Option<Target>> {
    let mut q = Sql::new(&format!("SELECT {COLS} FROM targets g WHERE "));
    q.push_bind("g.kpi = {}", key.kpi)
        .push_bind(" AND g.org_unit_id = {}", key.org_unit_id)
        .push_bind(" AND g.period_kind = {}", key.period_kind)
        .push_bind(" AND g.period_start = {}", key.period_start)
        .push_bind(" AND g.effective_from = {}", effective_from);
    match key.technician_id {
        Some(t) => q.push_bind(" AND g.technician_id = {}", t),
        None => q.push(" AND g.technician_id IS NULL"),
    };
    tx.fetch_optional(&q.text, q.args).await
}

pub async fn get_tx(tx: &mut Tx, id: i64) -> Result<Target> {
    tx.fetch_one(
        &format!("SELECT {COLS} FROM targets g WHERE g.id = $1"),
        args![id],
    )
    .await
}

#[allow(clippy::too_many_arguments)]
pub async fn insert(
    tx: &mut Tx,
    key: Key<'_>,
    committed: f64,
    stretch: f64,
    effective_from: NaiveDate,
    created_by: i64,
    now: DateTime<Utc>,
) -> Result<i64> {
    tx.insert(
        "INSERT INTO targets (kpi, org_unit_id, technician_id, period_kind, period_start, committed, stretch, effective_from, created_by, created_at, updated_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10) RETURNING id",
        args![
            key.kpi,
            key.org_unit_id,
            key.technician_id,
            key.period_kind,
            key.period_start,
            committed,
            stretch,
            effective_from,
            created_by,
            now
        ],
    )
    .await
}

/// New values if the row is still at `version`; false when it moved on.
pub async fn update(
    tx: &mut Tx,
    id: i64,
    version: i64,
    committed: f64,
    stretch: f64,
    now: DateTime<Utc>,
) -> Result<bool> {
    let n = tx
        .execute(
            "UPDATE targets SET committed = $1, stretch = $2, updated_at = $3, version = version + 1 WHERE id = $4 AND version = $5",
            args![committed, stretch, now, id, version],
        )
        .await?;
    Ok(n == 1)
}

/// A technician as the target sheet lists it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct TechnicianRow {
    pub id: i64,
    pub org_unit_id: i64,
    pub name: String,
}

/// The active technicians of the user's units, by name.
pub async fn technicians(db: &Db, vis: &Visibility) -> Result<Vec<TechnicianRow>> {
    let mut q = Sql::new(
        "SELECT t.id, t.org_unit_id, u.display_name AS name FROM technicians t JOIN users u ON u.id = t.user_id WHERE t.active = TRUE AND ",
    );
    let cl = vis.clause(Scoped::Unit, "t", &mut q);
    q.push(&cl);
    q.push(" ORDER BY u.display_name, t.id");
    db.fetch_all(&q.text, q.args).await
}

/// One technician (any unit: the caller checked who asks).
pub async fn technician(db: &Db, id: i64) -> Result<Option<TechnicianRow>> {
    db.fetch_optional(
        "SELECT t.id, t.org_unit_id, u.display_name AS name FROM technicians t JOIN users u ON u.id = t.user_id WHERE t.id = $1",
        args![id],
    )
    .await
}
