//! Stored dispatch plans and what planning reads: a store's technicians with their shifts, and
//! its open field orders with their places and skills.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::args;
use crate::db::{Db, Tx};
use crate::Result;

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct DispatchPlanRow {
    pub id: i64,
    pub org_unit_id: i64,
    pub day: NaiveDate,
    pub status: String,
    pub plan: String,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub committed_at: Option<DateTime<Utc>>,
}

const COLS: &str = "id, org_unit_id, day, status, plan, created_by, created_at, committed_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TechDay {
    pub id: i64,
    pub display_name: String,
    /// Tells two technicians of the same name apart.
    pub username: String,
    pub skills: String,
    pub start_lat: f64,
    pub start_lng: f64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The technician's store.
    pub org_unit_id: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenOrder {
    pub id: i64,
    pub number: String,
    pub kind: String,
    pub priority: String,
    pub status: String,
    pub technician_id: Option<i64>,
    pub appointment_start: Option<DateTime<Utc>>,
    pub appointment_end: Option<DateTime<Utc>>,
    pub arrive_by: DateTime<Utc>,
    pub lat: f64,
    pub lng: f64,
    pub category: Option<String>,
    pub customer_name: String,
    /// The service address as written, and whether its place is confirmed.
    pub address: String,
    pub location_confirmed: bool,
    pub fault_description: String,
    /// The order's store.
    pub org_unit_id: i64,
}

fn ids(units: &[i64]) -> String {
    if units.is_empty() {
        return "NULL".into();
    }
    units
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Active technicians of `units` with a shift on `day`.
pub async fn technicians_on(db: &Db, units: &[i64], day: NaiveDate) -> Result<Vec<TechDay>> {
    db.fetch_all(
        &format!(
            "SELECT t.id, u.display_name, u.username, t.skills, t.start_lat, t.start_lng, s.starts_at, s.ends_at, t.org_unit_id \
             FROM technicians t JOIN users u ON u.id = t.user_id JOIN shifts s ON s.technician_id = t.id AND s.day = $1 \
             WHERE t.active = TRUE AND t.org_unit_id IN ({}) ORDER BY t.id",
            ids(units)
        ),
        args![day],
    )
    .await
}

/// Active technicians of `units` without a shift on `day` (rest day or leave).
pub async fn technicians_off(
    db: &Db,
    units: &[i64],
    day: NaiveDate,
) -> Result<Vec<(i64, String, String)>> {
    db.fetch_all(
        &format!(
            "SELECT t.id, u.display_name, u.username FROM technicians t JOIN users u ON u.id = t.user_id \
             WHERE t.active = TRUE AND t.org_unit_id IN ({}) \
             AND NOT EXISTS (SELECT 1 FROM shifts s WHERE s.technician_id = t.id AND s.day = $1) ORDER BY t.id",
            ids(units)
        ),
        args![day],
    )
    .await
}

/// Where the orders `orders` take place: (order, latitude, longitude).
pub async fn places(db: &Db, orders: &[i64]) -> Result<Vec<(i64, f64, f64)>> {
    if orders.is_empty() {
        return Ok(vec![]);
    }
    db.fetch_all(
        &format!(
            "SELECT wo.id, a.lat, a.lng FROM work_orders wo JOIN customer_addresses a ON a.id = wo.address_id \
             WHERE wo.id IN ({}) ORDER BY wo.id",
            ids(orders)
        ),
        args![],
    )
    .await
}

/// Field orders of `units` not yet under way, due for the day `[from, to)`: with an appointment
/// in it, or without an appointment and created before its end.
pub async fn open_orders(
    db: &Db,
    units: &[i64],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<OpenOrder>> {
    db.fetch_all(
        &format!(
            "{OPEN_COLUMNS} WHERE {} ORDER BY wo.arrive_by, wo.id",
            open_condition(units, "'new', 'assigned', 'accepted', 'waiting_parts'")
        ),
        args![from, to],
    )
    .await
}

/// Of the orders [`open_orders`] finds, the first `limit` waiting for a technician (new, or back
/// from the field for parts) by their deadline, and how many wait in all.
pub async fn waiting_orders(
    db: &Db,
    units: &[i64],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> Result<(Vec<OpenOrder>, i64)> {
    let condition = open_condition(units, "'new', 'waiting_parts'");
    // The page's ids first (from the order alone), then their customers and places.
    let page = db
        .fetch_all(
            &format!(
                "{OPEN_COLUMNS} WHERE wo.id IN (SELECT wo.id FROM work_orders wo WHERE {condition} \
                 ORDER BY wo.arrive_by, wo.id LIMIT $3) ORDER BY wo.arrive_by, wo.id"
            ),
            args![from, to, limit],
        )
        .await?;
    let (total,): (i64,) = db
        .fetch_one(
            &format!("SELECT COUNT(*) FROM work_orders wo WHERE {condition}"),
            args![from, to],
        )
        .await?;
    Ok((page, total))
}

const OPEN_COLUMNS: &str = "SELECT wo.id, wo.number, wo.kind, wo.priority, wo.status, wo.technician_id, wo.appointment_start, wo.appointment_end, \
     wo.arrive_by, a.lat, a.lng, p.category, c.name AS customer_name, a.address, a.location_confirmed, wo.fault_description, wo.org_unit_id \
     FROM work_orders wo JOIN customer_addresses a ON a.id = wo.address_id JOIN customers c ON c.id = wo.customer_id \
     LEFT JOIN devices d ON d.id = wo.device_id LEFT JOIN products p ON p.id = d.product_id";

/// Field orders of `units` in `statuses` not given to a partner, due for the day [$1, $2).
fn open_condition(units: &[i64], statuses: &str) -> String {
    format!(
        "wo.org_unit_id IN ({}) AND wo.kind <> 'repair_phone' AND wo.status IN ({statuses}) \
         AND wo.partner_unit_id IS NULL \
         AND ((wo.appointment_start IS NOT NULL AND wo.appointment_start < $2 AND wo.appointment_end > $1) \
              OR (wo.appointment_start IS NULL AND wo.created_at < $2))",
        ids(units)
    )
}

pub async fn insert(
    tx: &mut Tx,
    unit: i64,
    day: NaiveDate,
    plan: &str,
    by: i64,
    now: DateTime<Utc>,
) -> Result<i64> {
    tx.insert(
        "INSERT INTO dispatch_plans (org_unit_id, day, status, plan, created_by, created_at) VALUES ($1,$2,'proposed',$3,$4,$5) RETURNING id",
        args![unit, day, plan, by, now],
    )
    .await
}

pub async fn get_tx(tx: &mut Tx, id: i64) -> Result<DispatchPlanRow> {
    tx.fetch_one(
        &format!("SELECT {COLS} FROM dispatch_plans WHERE id = $1"),
        args![id],
    )
    .await
}

pub async fn get(db: &Db, id: i64) -> Result<DispatchPlanRow> {
    db.fetch_one(
        &format!("SELECT {COLS} FROM dispatch_plans WHERE id = $1"),
        args![id],
    )
    .await
}

pub async fn set(
    tx: &mut Tx,
    id: i64,
    status: &str,
    plan: &str,
    committed_at: Option<DateTime<Utc>>,
) -> Result<()> {
    tx.execute(
        "UPDATE dispatch_plans SET status = $1, plan = $2, committed_at = COALESCE($3, committed_at) WHERE id = $4",
        args![status, plan, committed_at, id],
    )
    .await?;
    Ok(())
}

/// Marks the other committed plans of the store's day as superseded.
pub async fn supersede(tx: &mut Tx, unit: i64, day: NaiveDate, keep: i64) -> Result<()> {
    tx.execute(
        "UPDATE dispatch_plans SET status = 'superseded' WHERE org_unit_id = $1 AND day = $2 AND status = 'committed' AND id <> $3",
        args![unit, day, keep],
    )
    .await?;
    Ok(())
}
