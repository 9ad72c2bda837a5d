//! Sales leads (商机) captured on an order; the managers and dispatchers of its unit work them.
//! A lead carries a `client_key` unique per order (a retry returns the first).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::args;
use crate::db::{Db, Tx};
use crate::repo::{paged_counting, Page, Paged};
use crate::scope::{Scoped, Sql, Visibility};
use crate::Result;

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Opportunity {
    pub id: i64,
    pub work_order_id: i64,
    pub work_order_number: String,
    pub customer_id: i64,
    pub customer_name: String,
    pub org_unit_id: i64,
    pub kind: String,
    pub value_fen: i64,
    pub note: Option<String>,
    pub status: String,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const OPP_SELECT: &str = "SELECT o.id, o.work_order_id, wo.number AS work_order_number, o.customer_id, c.name AS customer_name, o.org_unit_id, o.kind, o.value_fen, o.note, o.status, o.created_by, o.created_at, o.updated_at \
     FROM opportunities o JOIN work_orders wo ON wo.id = o.work_order_id JOIN customers c ON c.id = o.customer_id";

pub struct NewOpportunity<'a> {
    pub work_order_id: i64,
    pub customer_id: i64,
    pub org_unit_id: i64,
    pub client_key: &'a str,
    pub kind: &'a str,
    pub value_fen: i64,
    pub note: Option<&'a str>,
    pub created_by: i64,
    pub at: DateTime<Utc>,
}

pub async fn add_opportunity(tx: &mut Tx, n: NewOpportunity<'_>) -> Result<(Opportunity, bool)> {
    let made = tx
        .execute(
            "INSERT INTO opportunities (work_order_id, customer_id, org_unit_id, client_key, kind, value_fen, note, status, created_by, created_at, updated_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,'open',$8,$9,$9) ON CONFLICT (work_order_id, client_key) DO NOTHING",
            args![n.work_order_id, n.customer_id, n.org_unit_id, n.client_key, n.kind, n.value_fen, n.note, n.created_by, n.at],
        )
        .await?
        > 0;
    let o = tx
        .fetch_one(
            &format!("{OPP_SELECT} WHERE o.work_order_id = $1 AND o.client_key = $2"),
            args![n.work_order_id, n.client_key],
        )
        .await?;
    Ok((o, made))
}

/// The leads a manager or dispatcher works: of their units, newest first.
/// The leads the user sees, optionally of one status, newest first.
pub async fn opportunities(
    db: &Db,
    vis: &Visibility,
    status: Option<&str>,
    page: Page,
) -> Result<Paged<Opportunity>> {
    let matching = |mut q: Sql| {
        let cl = vis.clause(Scoped::Unit, "o", &mut q);
        q.push(&cl);
        if let Some(s) = status {
            q.push_bind(" AND o.status = {}", s);
        }
        q
    };
    // Counted without the joins for names (an order and a customer every lead has): a chain's
    // 43,000 leads counted from an index, not joined row by row.
    paged_counting(
        db,
        matching(Sql::new(&format!("{OPP_SELECT} WHERE "))),
        matching(Sql::new("SELECT o.id FROM opportunities o WHERE ")),
        "o.created_at DESC, o.id DESC",
        page,
    )
    .await
}

/// Count and summed value of the open leads the user sees.
pub async fn open_leads(db: &Db, vis: &Visibility) -> Result<(i64, i64)> {
    let mut q =
        Sql::new("SELECT COUNT(*), COALESCE(SUM(o.value_fen), 0) FROM opportunities o WHERE ");
    let cl = vis.clause(Scoped::Unit, "o", &mut q);
    q.push(&cl);
    q.push(" AND o.status = 'open'");
    let (n, v): (i64, i64) = db.fetch_one(&q.text, q.args).await?;
    Ok((n, v))
}

pub async fn opportunities_of_order(db: &Db, work_order_id: i64) -> Result<Vec<Opportunity>> {
    db.fetch_all(
        &format!("{OPP_SELECT} WHERE o.work_order_id = $1 ORDER BY o.id"),
        args![work_order_id],
    )
    .await
}

pub async fn opportunity_for_update(tx: &mut Tx, vis: &Visibility, id: i64) -> Result<Opportunity> {
    let mut q = Sql::new(&format!("{OPP_SELECT} WHERE "));
    let cl = vis.clause(Scoped::Unit, "o", &mut q);
    q.push(&cl);
    q.push_bind(" AND o.id = {}", id);
    tx.fetch_one(&q.text, q.args).await
}

pub async fn set_opportunity_status(
    tx: &mut Tx,
    id: i64,
    status: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "UPDATE opportunities SET status = $1, updated_at = $2 WHERE id = $3",
        args![status, at, id],
    )
    .await?;
    Ok(())
}
