//! Complaints (投诉) and the log of what was done about them. A complaint belongs to its order's
//! unit (`org_unit_id`), so [`Visibility::clause`] scopes it like the unit's other records.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::args;
use crate::db::{Db, Tx};
use crate::repo::{paged, paged_counting, Page, Paged};
use crate::scope::{Scoped, Sql, Visibility};
use crate::Result;

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Complaint {
    pub id: i64,
    pub work_order_id: i64,
    pub work_order_number: String,
    pub customer_id: i64,
    pub customer_name: String,
    /// The technician of the order's first visit (the one complaints are attributed to).
    pub technician_name: Option<String>,
    /// The follow-up answer that opened it; none when it was registered by hand.
    pub follow_up_id: Option<i64>,
    pub org_unit_id: i64,
    pub owner_id: Option<i64>,
    pub owner_name: Option<String>,
    /// `attitude`, `quality`, `late`, `charges`, `parts` or `other`.
    pub category: String,
    /// `normal` or `severe`.
    pub severity: String,
    /// `open` or `closed`.
    pub status: String,
    pub description: String,
    /// What was done for the customer, given when it was closed.
    pub resolution: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// When it must be closed (by severity from its creation).
    pub due_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The manager it was escalated to (past its due time, or by hand).
    pub escalated_to: Option<i64>,
    pub escalated_to_name: Option<String>,
    pub escalated_at: Option<DateTime<Utc>>,
    /// The latest entry of its log: kind (`note`, `escalated`, `closed`), text, when.
    pub last_action_kind: Option<String>,
    pub last_action: Option<String>,
    pub last_action_at: Option<DateTime<Utc>>,
    /// Raised by every change; send it back as `If-Match` (the ETag) to change the complaint.
    pub version: i64,
}

const SELECT: &str = "SELECT k.id, k.work_order_id, wo.number AS work_order_number, wo.customer_id, c.name AS customer_name, \
     (SELECT tu.display_name FROM visits v JOIN technicians t ON t.id = v.technician_id JOIN users tu ON tu.id = t.user_id \
       WHERE v.work_order_id = k.work_order_id AND v.arrived_at IS NOT NULL ORDER BY v.seq LIMIT 1) AS technician_name, \
     k.follow_up_id, k.org_unit_id, k.owner_id, ou.display_name AS owner_name, k.category, k.severity, k.status, \
     k.description, k.resolution, k.created_by, k.created_at, k.due_at, k.closed_at, k.escalated_to, \
     eu.display_name AS escalated_to_name, k.escalated_at, \
     (SELECT a.kind FROM complaint_actions a WHERE a.complaint_id = k.id ORDER BY a.at DESC, a.id DESC LIMIT 1) AS last_action_kind, \
     (SELECT a.note FROM complaint_actions a WHERE a.complaint_id = k.id ORDER BY a.at DESC, a.id DESC LIMIT 1) AS last_action, \
     (SELECT a.at FROM complaint_actions a WHERE a.complaint_id = k.id ORDER BY a.at DESC, a.id DESC LIMIT 1) AS last_action_at, \
     k.version \
     FROM complaints k JOIN work_orders wo ON wo.id = k.work_order_id JOIN customers c ON c.id = wo.customer_id \
     LEFT JOIN users ou ON ou.id = k.owner_id LEFT JOIN users eu ON eu.id = k.escalated_to";

pub struct NewComplaint<'a> {
    pub work_order_id: i64,
    pub follow_up_id: Option<i64>,
    pub org_unit_id: i64,
    pub owner_id: Option<i64>,
    pub category: &'a str,
    pub severity: &'a str,
    pub description: &'a str,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
}

pub async fn add(tx: &mut Tx, n: NewComplaint<'_>) -> Result<i64> {
    tx.insert(
        "INSERT INTO complaints (work_order_id, follow_up_id, org_unit_id, owner_id, status, category, severity, description, created_by, created_at, due_at) \
         VALUES ($1,$2,$3,$4,'open',$5,$6,$7,$8,$9,$10) RETURNING id",
        args![
            n.work_order_id,
            n.follow_up_id,
            n.org_unit_id,
            n.owner_id,
            n.category,
            n.severity,
            n.description,
            n.created_by,
            n.created_at,
            n.due_at
        ],
    )
    .await
}

/// Which complaints a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `open` or `closed`.
    pub status: Option<String>,
    /// Open and past their due time at this moment.
    pub overdue_at: Option<DateTime<Utc>>,
    pub severity: Option<String>,
    pub work_order_id: Option<i64>,
}

/// The complaints the user sees: open ones (and overdue ones) soonest due first, others newest
/// first.
pub async fn list(db: &Db, vis: &Visibility, f: &Filter, page: Page) -> Result<Paged<Complaint>> {
    let matching = |mut q: Sql| {
        let cl = vis.clause(Scoped::Unit, "k", &mut q);
        q.push(&cl);
        if let Some(s) = &f.status {
            q.push_bind(" AND k.status = {}", s.as_str());
        }
        if let Some(now) = f.overdue_at {
            q.push_bind(" AND k.status = 'open' AND k.due_at < {}", now);
        }
        if let Some(s) = &f.severity {
            q.push_bind(" AND k.severity = {}", s.as_str());
        }
        if let Some(w) = f.work_order_id {
            q.push_bind(" AND k.work_order_id = {}", w);
        }
        q
    };
    let by_due = f.overdue_at.is_some() || f.status.as_deref() == Some("open");
    let order = if by_due {
        "k.due_at, k.id"
    } else {
        "k.created_at DESC, k.id DESC"
    };
    // Counted without the joins and lookups for names (every complaint has its order and
    // customer): a chain's tens of thousands counted from an index.
    paged_counting(
        db,
        matching(Sql::new(&format!("{SELECT} WHERE "))),
        matching(Sql::new("SELECT k.id FROM complaints k WHERE ")),
        order,
        page,
    )
    .await
}

pub async fn get(db: &Db, vis: &Visibility, id: i64) -> Result<Complaint> {
    let mut q = Sql::new(&format!("{SELECT} WHERE "));
    let cl = vis.clause(Scoped::Unit, "k", &mut q);
    q.push(&cl);
    q.push_bind(" AND k.id = {}", id);
    db.fetch_one(&q.text, q.args).await
}

pub async fn get_tx(tx: &mut Tx, vis: &Visibility, id: i64) -> Result<Complaint> {
    let mut q = Sql::new(&format!("{SELECT} WHERE "));
    let cl = vis.clause(Scoped::Unit, "k", &mut q);
    q.push(&cl);
    q.push_bind(" AND k.id = {}", id);
    tx.fetch_one(&q.text, q.args).await
}

/// The complaints of one order (already checked visible), oldest first.
pub async fn of_order(db: &Db, work_order_id: i64) -> Result<Vec<Complaint>> {
    db.fetch_all(
        &format!("{SELECT} WHERE k.work_order_id = $1 ORDER BY k.id"),
        args![work_order_id],
    )
    .await
}

/// Owner, category, severity and due time as decided.
pub async fn set_terms(
    tx: &mut Tx,
    id: i64,
    owner_id: Option<i64>,
    category: &str,
    severity: &str,
    due_at: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "UPDATE complaints SET owner_id = $1, category = $2, severity = $3, due_at = $4 WHERE id = $5",
        args![owner_id, category, severity, due_at, id],
    )
    .await?;
    Ok(())
}

pub async fn set_escalated(tx: &mut Tx, id: i64, to: i64, at: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "UPDATE complaints SET escalated_to = $1, escalated_at = $2 WHERE id = $3",
        args![to, at, id],
    )
    .await?;
    Ok(())
}

pub async fn close(tx: &mut Tx, id: i64, resolution: &str, at: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "UPDATE complaints SET status = 'closed', resolution = $1, closed_at = $2 WHERE id = $3",
        args![resolution, at, id],
    )
    .await?;
    Ok(())
}

/// Open complaints past their due time not escalated yet, in every unit (for the escalation
/// job, never a request): (id, org unit, owner).
pub async fn overdue_unescalated(
    db: &Db,
    now: DateTime<Utc>,
) -> Result<Vec<(i64, i64, Option<i64>)>> {
    db.fetch_all(
        "SELECT id, org_unit_id, owner_id FROM complaints WHERE status = 'open' AND due_at < $1 AND escalated_at IS NULL ORDER BY id",
        args![now],
    )
    .await
}

// ------------------------------------------------------------------------------ the log

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ComplaintAction {
    pub id: i64,
    pub complaint_id: i64,
    /// `note` (an action taken), `escalated` or `closed`.
    pub kind: String,
    pub note: String,
    /// Who did it; none for the automatic escalation.
    pub user_id: Option<i64>,
    pub user_name: Option<String>,
    /// An escalation: the manager it went to.
    pub to_user_id: Option<i64>,
    pub to_user_name: Option<String>,
    pub at: DateTime<Utc>,
}

pub async fn add_action(
    tx: &mut Tx,
    complaint_id: i64,
    kind: &str,
    note: &str,
    user_id: Option<i64>,
    to_user_id: Option<i64>,
    at: DateTime<Utc>,
) -> Result<ComplaintAction> {
    let id = tx
        .insert(
            "INSERT INTO complaint_actions (complaint_id, kind, note, user_id, to_user_id, at) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id",
            args![complaint_id, kind, note, user_id, to_user_id, at],
        )
        .await?;
    tx.fetch_one(&format!("{ACTION_SELECT} WHERE a.id = $1"), args![id])
        .await
}

const ACTION_SELECT: &str = "SELECT a.id, a.complaint_id, a.kind, a.note, a.user_id, u.display_name AS user_name, a.to_user_id, tu.display_name AS to_user_name, a.at \
     FROM complaint_actions a LEFT JOIN users u ON u.id = a.user_id LEFT JOIN users tu ON tu.id = a.to_user_id";

/// The log of a complaint (already checked visible), oldest first.
pub async fn actions(db: &Db, complaint_id: i64, page: Page) -> Result<Paged<ComplaintAction>> {
    let mut q = Sql::new(&format!("{ACTION_SELECT} WHERE "));
    q.push_bind("a.complaint_id = {}", complaint_id);
    paged(db, q, "a.at, a.id", page).await
}
