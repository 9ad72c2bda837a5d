//! Technician points (积分): the versions of the rules (`points_rules`, one JSON document each),
//! the append-only ledger (`points_entries`: rows are inserted, never updated or deleted) and
//! the month's sums a ranking reads. What an order earns is `domain::points`'s, not SQL's.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use shouhou_domain::points::{Difficulty, Entry, Points, Reason, RuleVersion, Rules};
use utoipa::ToSchema;

use crate::{args, Arg, Db, Result, StoreError, Tx};

fn id_list(ids: &[i64]) -> String {
    if ids.is_empty() {
        return "NULL".into();
    }
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

fn version_of(row: (i64, NaiveDate, String)) -> Result<RuleVersion> {
    let rules: Rules = serde_json::from_str(&row.2)
        .map_err(|e| StoreError::Bind(format!("points rules {}: {e}", row.0)))?;
    Ok(RuleVersion {
        id: row.0,
        effective_from: row.1,
        rules,
    })
}

const VERSIONS: &str =
    "SELECT id, effective_from, rules FROM points_rules ORDER BY effective_from, id";

/// Every version of the rules, oldest first.
pub async fn versions(db: &Db) -> Result<Vec<RuleVersion>> {
    let rows: Vec<(i64, NaiveDate, String)> = db.fetch_all(VERSIONS, args![]).await?;
    rows.into_iter().map(version_of).collect()
}

pub async fn versions_tx(tx: &mut Tx) -> Result<Vec<RuleVersion>> {
    let rows: Vec<(i64, NaiveDate, String)> = tx.fetch_all(VERSIONS, args![]).await?;
    rows.into_iter().map(version_of).collect()
}

/// Adds a version of the rules; returns its id.
pub async fn add_version(
    tx: &mut Tx,
    effective_from: NaiveDate,
    rules: &Rules,
    created_by: i64,
    now: DateTime<Utc>,
) -> Result<i64> {
    let json = serde_json::to_string(rules).map_err(|e| StoreError::Bind(e.to_string()))?;
    tx.insert(
        "INSERT INTO points_rules (effective_from, rules, created_by, created_at) \
         VALUES ($1,$2,$3,$4) RETURNING id",
        args![effective_from, json, created_by, now],
    )
    .await
}

/// Marks for the catch-up step every order with an entry dated on or after `day` (a new version
/// of the rules from `day` may change what they earn).
pub async fn mark_from(tx: &mut Tx, day: NaiveDate) -> Result<()> {
    tx.execute(
        "INSERT INTO kpi_dirty (work_order_id) SELECT DISTINCT work_order_id FROM points_entries \
         WHERE day >= $1 AND work_order_id IS NOT NULL ON CONFLICT (work_order_id) DO NOTHING",
        args![day],
    )
    .await?;
    Ok(())
}

/// An order's difficulty grade and the technician the derivation falls back on when nobody
/// arrived (the assigned one; none for a partner's order).
pub async fn order_info(tx: &mut Tx, ids: &[i64]) -> Result<Vec<(i64, Difficulty, Option<i64>)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        difficulty: String,
        technician_id: Option<i64>,
        partner_unit_id: Option<i64>,
    }
    let rows: Vec<Row> = tx
        .fetch_all(
            &format!(
                "SELECT id, difficulty, technician_id, partner_unit_id FROM work_orders WHERE id IN ({})",
                id_list(ids)
            ),
            args![],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.id,
                r.difficulty.parse().unwrap_or(Difficulty::Normal),
                if r.partner_unit_id.is_some() {
                    None
                } else {
                    r.technician_id
                },
            )
        })
        .collect())
}

/// The order entries of `ids` held so far (adjustments left out), by order.
pub async fn held(tx: &mut Tx, ids: &[i64]) -> Result<Vec<(i64, Entry)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(sqlx::FromRow)]
    struct Row {
        work_order_id: i64,
        technician_id: i64,
        reason: String,
        day: NaiveDate,
        points: i64,
        rule_version: Option<i64>,
    }
    let rows: Vec<Row> = tx
        .fetch_all(
            &format!(
                "SELECT work_order_id, technician_id, reason, day, points, rule_version FROM points_entries \
                 WHERE work_order_id IN ({}) AND reason <> 'adjustment' ORDER BY id",
                id_list(ids)
            ),
            args![],
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some((
                r.work_order_id,
                Entry {
                    technician_id: r.technician_id,
                    reason: r.reason.parse::<Reason>().ok()?,
                    day: r.day,
                    points: Points(r.points),
                    rule_version: r.rule_version,
                },
            ))
        })
        .collect())
}

/// A row to append to the ledger.
pub struct NewEntry<'a> {
    pub work_order_id: Option<i64>,
    pub entry: Entry,
    pub note: Option<&'a str>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

const ENTRY_COLS: [&str; 9] = [
    "technician_id",
    "work_order_id",
    "rule_version",
    "reason",
    "day",
    "points",
    "note",
    "created_by",
    "created_at",
];

fn entry_args(n: &NewEntry<'_>) -> Vec<Arg> {
    args![
        n.entry.technician_id,
        n.work_order_id,
        n.entry.rule_version,
        n.entry.reason.as_str(),
        n.entry.day,
        n.entry.points.0,
        n.note.map(str::to_string),
        n.created_by,
        n.created_at
    ]
}

/// Appends entries to the ledger.
pub async fn append(tx: &mut Tx, rows: Vec<NewEntry<'_>>) -> Result<()> {
    let rows = rows.iter().map(entry_args).collect();
    tx.bulk_insert("points_entries", &ENTRY_COLS, rows).await
}

/// Appends one entry and returns its id.
pub async fn append_one(tx: &mut Tx, n: NewEntry<'_>) -> Result<i64> {
    tx.insert(
        "INSERT INTO points_entries (technician_id, work_order_id, rule_version, reason, day, points, note, created_by, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING id",
        entry_args(&n),
    )
    .await
}

/// A technician's month: visits that arrived (the KPI facts' visit rows) and points.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MonthRow {
    pub technician_id: i64,
    pub name: String,
    pub login: String,
    pub org_unit_id: i64,
    pub store: String,
    pub active: bool,
    pub visits: i64,
    pub points: i64,
}

/// The technicians of `units` with their visits and points on `from`–`to` (local dates): the
/// active ones, and inactive ones that have visits or points in the period.
pub async fn month(
    db: &Db,
    units: &[i64],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<MonthRow>> {
    let list = id_list(units);
    let rows: Vec<MonthRow> = db
        .fetch_all(
            &format!(
                // The month's visits and points summed once per technician, then joined (a
                // sum per technician, looked up by technician, read the whole month's facts
                // once for each of a chain's 700 technicians: minutes).
                "WITH v AS (SELECT f.technician_id, SUM(f.visits) AS visits FROM kpi_facts f \
                   WHERE f.basis = 'visit' AND f.day BETWEEN $1 AND $2 AND f.technician_id IS NOT NULL \
                   GROUP BY f.technician_id), \
                 p AS (SELECT e.technician_id, SUM(e.points) AS points FROM points_entries e \
                   WHERE e.day BETWEEN $1 AND $2 GROUP BY e.technician_id) \
                 SELECT t.id AS technician_id, u.display_name AS name, u.username AS login, \
                 t.org_unit_id, o.name AS store, t.active, \
                 CAST(COALESCE(v.visits, 0) AS BIGINT) AS visits, \
                 CAST(COALESCE(p.points, 0) AS BIGINT) AS points \
                 FROM technicians t JOIN users u ON u.id = t.user_id JOIN org_units o ON o.id = t.org_unit_id \
                 LEFT JOIN v ON v.technician_id = t.id LEFT JOIN p ON p.technician_id = t.id \
                 WHERE t.org_unit_id IN ({list}) ORDER BY t.id"
            ),
            args![from, to],
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter(|r| r.active || r.visits > 0 || r.points != 0)
        .collect())
}

/// One entry of the ledger as people read it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
pub struct EntryRow {
    pub id: i64,
    pub technician_id: i64,
    pub work_order_id: Option<i64>,
    pub work_order_number: Option<String>,
    /// The rules version the points were computed with (none for an adjustment).
    pub rule_version: Option<i64>,
    /// `base`, `first_time_fix`, `very_satisfied`, `arrived_late`, `complaint`,
    /// `repeat_repair` or `adjustment`.
    pub reason: String,
    /// The local date the entry counts on.
    pub day: NaiveDate,
    /// Hundredths of a point (450 = 4.5 points).
    pub points: i64,
    /// An adjustment's reason, in the manager's words.
    pub note: Option<String>,
    pub created_by: Option<i64>,
    pub created_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A technician's entries on `from`–`to`, newest day first.
pub async fn entries(
    db: &Db,
    technician_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<EntryRow>> {
    db.fetch_all(
        "SELECT e.id, e.technician_id, e.work_order_id, w.number AS work_order_number, e.rule_version, \
         e.reason, e.day, e.points, e.note, e.created_by, u.display_name AS created_by_name, e.created_at \
         FROM points_entries e LEFT JOIN work_orders w ON w.id = e.work_order_id \
         LEFT JOIN users u ON u.id = e.created_by \
         WHERE e.technician_id = $1 AND e.day BETWEEN $2 AND $3 ORDER BY e.day DESC, e.id DESC",
        args![technician_id, from, to],
    )
    .await
}

/// A technician's unit (none: no such technician).
pub async fn technician_unit(db: &Db, technician_id: i64) -> Result<Option<(i64, String)>> {
    let row: Option<(i64, String)> = db
        .fetch_optional(
            "SELECT t.org_unit_id, u.display_name FROM technicians t JOIN users u ON u.id = t.user_id WHERE t.id = $1",
            args![technician_id],
        )
        .await?;
    Ok(row)
}

/// An order's difficulty grade, unit and version (for a change by the dispatcher).
pub async fn difficulty(tx: &mut Tx, order_id: i64) -> Result<Option<(Difficulty, i64)>> {
    let row: Option<(String, i64)> = tx
        .fetch_optional(
            "SELECT difficulty, version FROM work_orders WHERE id = $1",
            args![order_id],
        )
        .await?;
    Ok(row.map(|(d, v)| (d.parse().unwrap_or(Difficulty::Normal), v)))
}

/// Sets an order's difficulty grade and raises its version.
pub async fn set_difficulty(
    tx: &mut Tx,
    order_id: i64,
    d: Difficulty,
    now: DateTime<Utc>,
) -> Result<i64> {
    let (v,): (i64,) = tx
        .fetch_one(
            "UPDATE work_orders SET difficulty = $1, version = version + 1, updated_at = $2 \
             WHERE id = $3 RETURNING version",
            args![d.as_str(), now, order_id],
        )
        .await?;
    Ok(v)
}

/// The difficulty grade of one order (for its page).
pub async fn difficulty_of(db: &Db, order_id: i64) -> Result<Difficulty> {
    let row: Option<(String,)> = db
        .fetch_optional(
            "SELECT difficulty FROM work_orders WHERE id = $1",
            args![order_id],
        )
        .await?;
    Ok(row
        .and_then(|r| r.0.parse().ok())
        .unwrap_or(Difficulty::Normal))
}

/// Sets the difficulty grade of orders in bulk (the demo load; no audit entry each).
pub async fn grade_in_bulk(tx: &mut Tx, condition: &str, d: Difficulty) -> Result<u64> {
    tx.execute(
        &format!("UPDATE work_orders SET difficulty = $1 WHERE {condition}"),
        args![d.as_str()],
    )
    .await
}
