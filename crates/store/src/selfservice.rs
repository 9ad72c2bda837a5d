//! Self-service requests: faults reported on a device's QR page by a phone that is not the
//! owner's, waiting for a clerk to verify them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::args;
use crate::db::{Db, Tx};
use crate::repo::{paged, Page, Paged};
use crate::scope::{Scoped, Sql, Visibility};
use crate::Result;

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ServiceRequest {
    pub id: i64,
    pub device_id: i64,
    pub org_unit_id: i64,
    pub phone: String,
    pub description: String,
    pub status: String,
    pub work_order_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

const REQUEST_COLS: &str = "r.id, r.device_id, r.org_unit_id, r.phone, r.description, r.status, r.work_order_id, r.created_at";

pub async fn add_request(
    tx: &mut Tx,
    device_id: i64,
    org_unit_id: i64,
    phone: &str,
    description: &str,
    at: DateTime<Utc>,
) -> Result<i64> {
    tx.insert(
        "INSERT INTO service_requests (device_id, org_unit_id, phone, description, status, created_at) VALUES ($1,$2,$3,$4,'pending',$5) RETURNING id",
        args![device_id, org_unit_id, phone, description, at],
    )
    .await
}

/// The self-service requests of `status` the user sees, oldest first.
pub async fn requests(
    db: &Db,
    vis: &Visibility,
    status: &str,
    page: Page,
) -> Result<Paged<ServiceRequest>> {
    let mut q = Sql::new(&format!(
        "SELECT {REQUEST_COLS} FROM service_requests r WHERE "
    ));
    let cl = vis.clause(Scoped::Unit, "r", &mut q);
    q.push(&cl);
    q.push_bind(" AND r.status = {}", status);
    paged(db, q, "r.created_at, r.id", page).await
}

pub async fn request_for_update(tx: &mut Tx, vis: &Visibility, id: i64) -> Result<ServiceRequest> {
    let mut q = Sql::new(&format!(
        "SELECT {REQUEST_COLS} FROM service_requests r WHERE "
    ));
    let cl = vis.clause(Scoped::Unit, "r", &mut q);
    q.push(&cl);
    q.push_bind(" AND r.id = {}", id);
    tx.fetch_one(&q.text, q.args).await
}

pub async fn close_request(
    tx: &mut Tx,
    id: i64,
    status: &str,
    work_order_id: Option<i64>,
    by: i64,
    at: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "UPDATE service_requests SET status = $1, work_order_id = $2, handled_by = $3, handled_at = $4 WHERE id = $5",
        args![status, work_order_id, by, at, id],
    )
    .await?;
    Ok(())
}

/// Requests already waiting for a device (a customer pressing "send" twice makes one).
/// The device's pending request inside `tx` (so two reports at once see each other).
pub async fn pending_request_of_tx(tx: &mut Tx, device_id: i64) -> Result<Option<ServiceRequest>> {
    tx.fetch_optional(
        &format!("SELECT {REQUEST_COLS} FROM service_requests r WHERE r.device_id = $1 AND r.status = 'pending' ORDER BY r.id DESC LIMIT 1"),
        args![device_id],
    )
    .await
}

pub async fn set_request_description(tx: &mut Tx, id: i64, description: &str) -> Result<()> {
    tx.execute(
        "UPDATE service_requests SET description = $1 WHERE id = $2",
        args![description, id],
    )
    .await?;
    Ok(())
}

pub async fn pending_request_of(db: &Db, device_id: i64) -> Result<Option<ServiceRequest>> {
    db.fetch_optional(
        &format!("SELECT {REQUEST_COLS} FROM service_requests r WHERE r.device_id = $1 AND r.status = 'pending' ORDER BY r.id DESC LIMIT 1"),
        args![device_id],
    )
    .await
}
