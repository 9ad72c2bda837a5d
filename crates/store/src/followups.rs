//! Follow-ups (回访): the customer's answer to an order (once), the calls that got none, and
//! the follow-up staff's list of orders still to call.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::args;
use crate::db::{Db, Tx};
use crate::repo::{paged_counting, Page, Paged};
use crate::scope::{Scoped, Sql, Visibility};
use crate::Result;

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct FollowUp {
    pub id: i64,
    pub work_order_id: i64,
    pub rating: String,
    pub comment: Option<String>,
    pub channel: String,
    pub user_id: Option<i64>,
    pub at: DateTime<Utc>,
    /// The questionnaire asked (none before questionnaires existed).
    pub questionnaire_id: Option<i64>,
    /// Every answer: the overall rating (position 0) and the questionnaire's items.
    #[sqlx(skip)]
    pub answers: Vec<crate::csi::Answer>,
}

const FOLLOW_COLS: &str =
    "id, work_order_id, rating, comment, channel, user_id, at, questionnaire_id";

pub async fn follow_up(db: &Db, work_order_id: i64) -> Result<Option<FollowUp>> {
    let f: Option<FollowUp> = db
        .fetch_optional(
            &format!("SELECT {FOLLOW_COLS} FROM follow_ups WHERE work_order_id = $1"),
            args![work_order_id],
        )
        .await?;
    match f {
        Some(mut f) => {
            f.answers = crate::csi::answers(db, work_order_id).await?;
            Ok(Some(f))
        }
        None => Ok(None),
    }
}

/// What a follow-up answer records.
#[derive(Debug, Clone)]
pub struct NewFollowUp<'a> {
    pub work_order_id: i64,
    pub rating: &'a str,
    pub comment: Option<&'a str>,
    pub channel: &'a str,
    pub user_id: Option<i64>,
    pub at: DateTime<Utc>,
    pub questionnaire_id: Option<i64>,
    /// Every answer, the overall one (position 0) included.
    pub answers: &'a [crate::csi::Answer],
}

/// Records the answer and its items once per order; `None` when the order already has one.
pub async fn add_follow_up(tx: &mut Tx, n: &NewFollowUp<'_>) -> Result<Option<FollowUp>> {
    let made = tx
        .execute(
            "INSERT INTO follow_ups (work_order_id, rating, comment, channel, user_id, at, questionnaire_id) \
             VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (work_order_id) DO NOTHING",
            args![
                n.work_order_id,
                n.rating,
                n.comment,
                n.channel,
                n.user_id,
                n.at,
                n.questionnaire_id
            ],
        )
        .await?;
    if made == 0 {
        return Ok(None);
    }
    let f: Option<FollowUp> = tx
        .fetch_optional(
            &format!("SELECT {FOLLOW_COLS} FROM follow_ups WHERE work_order_id = $1"),
            args![n.work_order_id],
        )
        .await?;
    let Some(mut f) = f else { return Ok(None) };
    crate::csi::add_answers(tx, f.id, n.work_order_id, n.answers).await?;
    refresh_due(tx, &[n.work_order_id]).await?;
    f.answers = n.answers.to_vec();
    Ok(Some(f))
}

/// A completed order still waiting for its follow-up call.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ToCall {
    pub id: i64,
    pub number: String,
    pub kind: String,
    /// The device's brand (which questionnaire the call asks).
    pub brand: Option<String>,
    pub completed_at: DateTime<Utc>,
    pub customer: String,
    pub phone: Option<String>,
    pub technician: Option<String>,
    /// Calls that were not answered so far.
    pub attempts: i64,
    /// When the next call is due after an unanswered one.
    pub retry_at: Option<DateTime<Utc>>,
}

/// Calls without an answer after which an order leaves the follow-up list.
pub const MAX_CALL_ATTEMPTS: i64 = 3;

/// The orders due a follow-up call, as a condition on `wo`: completed (or reviewed, closed),
/// with no answer, not refused, and called fewer than [`MAX_CALL_ATTEMPTS`] times without one.
/// The queue `follow_up_due` holds exactly these orders (kept by [`refresh_due`]).
fn due(wo: &str) -> String {
    format!(
        "{wo}.status IN ('completed', 'reviewed', 'closed') \
         AND NOT EXISTS (SELECT 1 FROM follow_ups f WHERE f.work_order_id = {wo}.id) \
         AND NOT EXISTS (SELECT 1 FROM follow_up_calls fc WHERE fc.work_order_id = {wo}.id AND fc.outcome = 'refused') \
         AND (SELECT COUNT(*) FROM follow_up_calls fc WHERE fc.work_order_id = {wo}.id AND fc.outcome = 'no_answer') < {MAX_CALL_ATTEMPTS}"
    )
}

/// Queues the orders `wo` matching `filter` that are due a call: each with its unanswered calls,
/// the time the last one set for the next, and when its next call is due (`call_at`: that time,
/// or its completion before any call), the queue's order.
fn enqueue(filter: &str) -> String {
    format!(
        "INSERT INTO follow_up_due (work_order_id, completed_at, attempts, retry_at, call_at) \
         SELECT id, completed_at, attempts, retry_at, COALESCE(retry_at, completed_at) FROM (\
           SELECT wo.id, wo.completed_at, \
             (SELECT COUNT(*) FROM follow_up_calls fc WHERE fc.work_order_id = wo.id AND fc.outcome = 'no_answer') AS attempts, \
             (SELECT MAX(fc.retry_at) FROM follow_up_calls fc WHERE fc.work_order_id = wo.id) AS retry_at \
           FROM work_orders wo WHERE {filter} AND {}) queued",
        due("wo")
    )
}

/// Puts each of `ids` in the queue of orders due a call, or takes it out, after a change to
/// the order, its answer or its calls (in the change's transaction).
pub async fn refresh_due(tx: &mut Tx, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    tx.execute(
        &format!("DELETE FROM follow_up_due WHERE work_order_id IN ({list})"),
        args![],
    )
    .await?;
    tx.execute(&enqueue(&format!("wo.id IN ({list})")), args![])
        .await?;
    Ok(())
}

/// Fills the queue from the records (after a bulk load that bypassed [`refresh_due`]).
pub async fn refill_due(tx: &mut Tx) -> Result<()> {
    tx.execute("DELETE FROM follow_up_due", args![]).await?;
    tx.execute(&enqueue("1 = 1"), args![]).await?;
    Ok(())
}

/// Completed orders with no follow-up answer, not refused and called fewer than
/// [`MAX_CALL_ATTEMPTS`] times without an answer, whatever their age, in the order their calls
/// are due: the time an unanswered call set for the next, else the completion (so calls waiting
/// for tomorrow follow today's). Read from the queue `follow_up_due` in its order, so a page costs a page however many orders were
/// ever completed; the conditions are checked again on the queued orders.
pub async fn to_call(db: &Db, vis: &Visibility, page: Page) -> Result<Paged<ToCall>> {
    let mut q = Sql::new(
        "SELECT wo.id, wo.number, wo.kind, \
           (SELECT d.brand FROM devices d WHERE d.id = wo.device_id) AS brand, wo.completed_at, c.name AS customer, \
           (SELECT ph.phone FROM customer_phones ph WHERE ph.customer_id = c.id ORDER BY ph.position LIMIT 1) AS phone, \
           u.display_name AS technician, q.attempts, q.retry_at \
         FROM follow_up_due q JOIN work_orders wo ON wo.id = q.work_order_id JOIN customers c ON c.id = wo.customer_id \
         LEFT JOIN technicians t ON t.id = wo.technician_id LEFT JOIN users u ON u.id = t.user_id WHERE ",
    );
    let cl = vis.clause(Scoped::WorkOrder, "wo", &mut q);
    q.push(&cl);
    // The queue holds exactly the orders due (kept by `refresh_due` in every change that
    // moves one in or out; the KPI random-sequence test checks it against `due`), so the total
    // counts the queue: alone for head office, joined to the orders only for the scope.
    let count = if vis.all_units {
        Sql::new("SELECT q.work_order_id FROM follow_up_due q")
    } else {
        let mut c = Sql::new(
            "SELECT q.work_order_id FROM follow_up_due q JOIN work_orders wo ON wo.id = q.work_order_id WHERE ",
        );
        let cl = vis.clause(Scoped::WorkOrder, "wo", &mut c);
        c.push(&cl);
        c
    };
    paged_counting(db, q, count, "q.call_at, q.work_order_id", page).await
}

/// Records a follow-up call that got no rating ('no_answer' with its retry time, or 'refused').
pub async fn add_follow_up_call(
    tx: &mut Tx,
    work_order_id: i64,
    outcome: &str,
    user_id: i64,
    at: DateTime<Utc>,
    retry_at: Option<DateTime<Utc>>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO follow_up_calls (work_order_id, outcome, user_id, at, retry_at) VALUES ($1,$2,$3,$4,$5)",
        args![work_order_id, outcome, user_id, at, retry_at],
    )
    .await?;
    refresh_due(tx, &[work_order_id]).await?;
    Ok(())
}

/// (unanswered calls, refused) of an order, inside a transaction.
pub async fn follow_up_calls_tx(tx: &mut Tx, work_order_id: i64) -> Result<(i64, bool)> {
    let (n, refused): (i64, i64) = tx
        .fetch_one(
            "SELECT COUNT(CASE WHEN outcome = 'no_answer' THEN 1 END), COUNT(CASE WHEN outcome = 'refused' THEN 1 END) FROM follow_up_calls WHERE work_order_id = $1",
            args![work_order_id],
        )
        .await?;
    Ok((n, refused > 0))
}
