//! Work orders, their events (transitions) and visits.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use shouhou_domain::work_order_number;
use utoipa::ToSchema;

use crate::args;
use crate::db::{Backend, Db, Tx};
use crate::records::{Visit, WorkOrder, WorkOrderEvent};
use crate::repo::{paged, Page, Paged, WO_COLS};
use crate::scope::{Scoped, Sql, Visibility};
use crate::Result;

/// Filters of the work-order list; every field narrows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Vec<String>,
    pub kind: Option<String>,
    pub org_unit_id: Option<i64>,
    pub technician_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub device_id: Option<i64>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// Completed at or after.
    pub completed_from: Option<DateTime<Utc>>,
    /// Open orders whose arrive-by or resolve-by lies before this instant.
    pub overdue_at: Option<DateTime<Utc>>,
    pub sort: Sort,
}

/// The orders of the work-order list: newest first (`-created_at`, the default), oldest first,
/// earliest arrive-by or resolve-by deadline first, by number either way, or a technician's day
/// (`planned`: planned stops in order, then the rest by arrive-by). Each ends in the order's id,
/// so pages neither repeat nor skip orders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
pub enum Sort {
    #[default]
    #[serde(rename = "-created_at")]
    NewestFirst,
    #[serde(rename = "created_at")]
    OldestFirst,
    #[serde(rename = "arrive_by")]
    ArriveBy,
    #[serde(rename = "resolve_by")]
    ResolveBy,
    #[serde(rename = "number")]
    Number,
    #[serde(rename = "-number")]
    NumberDesc,
    #[serde(rename = "planned")]
    Planned,
}

impl Sort {
    pub const ALL: &'static [Sort] = &[
        Sort::NewestFirst,
        Sort::OldestFirst,
        Sort::ArriveBy,
        Sort::ResolveBy,
        Sort::Number,
        Sort::NumberDesc,
        Sort::Planned,
    ];

    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::NewestFirst => "-created_at",
            Sort::OldestFirst => "created_at",
            Sort::ArriveBy => "arrive_by",
            Sort::ResolveBy => "resolve_by",
            Sort::Number => "number",
            Sort::NumberDesc => "-number",
            Sort::Planned => "planned",
        }
    }

    pub fn parse(s: &str) -> Option<Sort> {
        Sort::ALL.iter().copied().find(|x| x.as_str() == s)
    }

    fn order_by(self) -> &'static str {
        match self {
            Sort::NewestFirst => "wo.created_at DESC, wo.id DESC",
            Sort::OldestFirst => "wo.created_at ASC, wo.id ASC",
            Sort::ArriveBy => "wo.arrive_by ASC, wo.id ASC",
            Sort::ResolveBy => "wo.resolve_by ASC, wo.id ASC",
            Sort::Number => "wo.number ASC, wo.id ASC",
            Sort::NumberDesc => "wo.number DESC, wo.id DESC",
            Sort::Planned => "wo.planned_seq ASC NULLS LAST, wo.arrive_by ASC, wo.id ASC",
        }
    }
}

fn filtered(vis: &Visibility, f: &Filter, select: &str) -> Sql {
    let mut q = Sql::new(&format!("SELECT {select} FROM work_orders wo WHERE "));
    let cl = vis.clause(Scoped::WorkOrder, "wo", &mut q);
    q.push(&cl);
    if !f.status.is_empty() {
        let ps: Vec<String> = f.status.iter().map(|s| q.arg(s.as_str())).collect();
        q.push(&format!(" AND wo.status IN ({})", ps.join(",")));
    }
    if let Some(k) = &f.kind {
        q.push_bind(" AND wo.kind = {}", k.as_str());
    }
    if let Some(u) = f.org_unit_id {
        q.push_bind(" AND wo.org_unit_id = {}", u);
    }
    if let Some(t) = f.technician_id {
        q.push_bind(" AND wo.technician_id = {}", t);
    }
    if let Some(c) = f.customer_id {
        q.push_bind(" AND wo.customer_id = {}", c);
    }
    if let Some(d) = f.device_id {
        q.push_bind(" AND wo.device_id = {}", d);
    }
    if let Some(t) = f.created_from {
        q.push_bind(" AND wo.created_at >= {}", t);
    }
    if let Some(t) = f.created_to {
        q.push_bind(" AND wo.created_at < {}", t);
    }
    if let Some(t) = f.completed_from {
        q.push_bind(" AND wo.completed_at >= {}", t);
    }
    if let Some(t) = f.overdue_at {
        let p = q.arg(t);
        // The open states named (not "NOT IN the closed ones"): the status index then reads
        // the few thousand open orders instead of scanning a chain's million.
        let open = shouhou_domain::lifecycle::Status::ALL
            .iter()
            .filter(|s| s.is_open())
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(",");
        q.push(&format!(
            " AND wo.status IN ({open}) AND (wo.resolve_by < {p} OR (wo.arrive_by < {p} AND wo.status IN ('new','assigned','accepted','en_route')))"
        ));
    }
    q
}

/// One page of the orders `f` matches in the user's scope, with their total.
pub async fn list(db: &Db, vis: &Visibility, f: &Filter, page: Page) -> Result<Paged<WorkOrder>> {
    paged(db, filtered(vis, f, WO_COLS), f.sort.order_by(), page).await
}

/// How many orders `f` matches in the user's scope (the home page's counters).
pub async fn count(db: &Db, vis: &Visibility, f: &Filter) -> Result<i64> {
    let q = filtered(vis, f, "COUNT(*)");
    let (n,): (i64,) = db.fetch_one(&q.text, q.args).await?;
    Ok(n)
}

pub async fn get(db: &Db, vis: &Visibility, id: i64) -> Result<WorkOrder> {
    let mut q = Sql::new(&format!("SELECT {WO_COLS} FROM work_orders wo WHERE "));
    let cl = vis.clause(Scoped::WorkOrder, "wo", &mut q);
    q.push(&cl).push_bind(" AND wo.id = {}", id);
    db.fetch_one(&q.text, q.args).await
}

/// Reads an order inside a write transaction, locking it on PostgreSQL.
pub async fn get_for_update(tx: &mut Tx, vis: &Visibility, id: i64) -> Result<WorkOrder> {
    let mut q = Sql::new(&format!("SELECT {WO_COLS} FROM work_orders wo WHERE "));
    let cl = vis.clause(Scoped::WorkOrder, "wo", &mut q);
    q.push(&cl).push_bind(" AND wo.id = {}", id);
    if tx.backend() == crate::Backend::Postgres {
        q.push(" FOR UPDATE OF wo");
    }
    tx.fetch_one(&q.text, q.args).await
}

/// The order numbered `number` (`WO-20261201-0004`) if the user may see it.
pub async fn by_number(db: &Db, vis: &Visibility, number: &str) -> Result<Option<WorkOrder>> {
    let mut q = Sql::new(&format!("SELECT {WO_COLS} FROM work_orders wo WHERE "));
    let cl = vis.clause(Scoped::WorkOrder, "wo", &mut q);
    q.push(&cl).push_bind(" AND wo.number = {}", number);
    db.fetch_optional(&q.text, q.args).await
}

/// The orders of customer `customer_id`, locked on PostgreSQL (a merge moves them; the caller
/// has checked the customer is visible).
pub async fn of_customer_for_update(tx: &mut Tx, customer_id: i64) -> Result<Vec<WorkOrder>> {
    let lock = if tx.backend() == crate::Backend::Postgres {
        " FOR UPDATE OF wo"
    } else {
        ""
    };
    tx.fetch_all(
        &format!(
            "SELECT {WO_COLS} FROM work_orders wo WHERE wo.customer_id = $1 ORDER BY wo.id{lock}"
        ),
        crate::args![customer_id],
    )
    .await
}

/// The next number of `day_key` (per-day counter, safe under concurrent creation).
pub async fn next_seq(tx: &mut Tx, day_key: &str) -> Result<i64> {
    let (n,): (i64,) = tx
        .fetch_one(
            "INSERT INTO wo_counters (day, last) VALUES ($1, 1) \
             ON CONFLICT (day) DO UPDATE SET last = wo_counters.last + 1 RETURNING last",
            args![day_key],
        )
        .await?;
    Ok(n)
}

pub async fn insert(tx: &mut Tx, w: &WorkOrder) -> Result<i64> {
    let (id, _) = insert_as(tx, w, "", "$27", w.number.as_str().into()).await?;
    Ok(id)
}

/// Numbers `w` with the next sequence of `day` (`WO-YYYYMMDD-NNNN`, as
/// `work_order_number::format` writes it) and inserts it, setting its id and number. On SQLite
/// the day's counter and the insert go as one script (one hand-off to the writer's thread), the
/// number written by SQL in the same form; on PostgreSQL the counter, then the insert.
pub async fn insert_numbered(tx: &mut Tx, w: &mut WorkOrder, day: NaiveDate) -> Result<()> {
    let key = work_order_number::day_key(day);
    if tx.backend() == Backend::Postgres {
        let seq = next_seq(tx, &key).await?;
        w.number = work_order_number::format(day, seq);
        w.id = insert(tx, w).await?;
        return Ok(());
    }
    (w.id, w.number) = insert_as(
        tx,
        w,
        "INSERT INTO wo_counters (day, last) VALUES ($27, 1) \
         ON CONFLICT (day) DO UPDATE SET last = wo_counters.last + 1; ",
        "'WO-' || $27 || '-' || printf('%04d', (SELECT last FROM wo_counters WHERE day = $27))",
        key.as_str().into(),
    )
    .await?;
    Ok(())
}

/// The columns an insert writes after `number` (and `id`), bound as `$1`…`$26` by [`insert_args`].
const INSERT_COLS: &str = "org_unit_id, customer_id, device_id, address_id, kind, channel, priority, status, \
     fault_description, appointment_start, appointment_end, respond_by, arrive_by, resolve_by, warranty_decision, technician_id, \
     partner_unit_id, created_by, created_at, updated_at, accepted_at, completed_at, reviewed_at, closed_at, cancelled_at, cancel_reason";
const INSERT_PARAMS: &str =
    "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26";

fn insert_args(w: &WorkOrder) -> Vec<crate::Arg> {
    args![
        w.org_unit_id,
        w.customer_id,
        w.device_id,
        w.address_id,
        w.kind.as_str(),
        w.channel.as_str(),
        w.priority.as_str(),
        w.status.as_str(),
        w.fault_description.as_str(),
        w.appointment_start,
        w.appointment_end,
        w.respond_by,
        w.arrive_by,
        w.resolve_by,
        w.warranty_decision.as_str(),
        w.technician_id,
        w.partner_unit_id,
        w.created_by,
        w.created_at,
        w.updated_at,
        w.accepted_at,
        w.completed_at,
        w.reviewed_at,
        w.closed_at,
        w.cancelled_at,
        w.cancel_reason.clone()
    ]
}

/// Inserts `w` (after `before`, run in the same script) with the number `number_sql`, which may
/// read `$27`, bound to `number_arg`; returns its id and number.
async fn insert_as(
    tx: &mut Tx,
    w: &WorkOrder,
    before: &str,
    number_sql: &str,
    number_arg: crate::Arg,
) -> Result<(i64, String)> {
    let mut args = insert_args(w);
    args.push(number_arg);
    let (id, number): (i64, String) = tx
        .fetch_one(
            &format!(
                "{before}INSERT INTO work_orders (number, {INSERT_COLS}) \
                 VALUES ({number_sql}, {INSERT_PARAMS}) RETURNING id, number"
            ),
            args,
        )
        .await?;
    if w.completed_at.is_some() {
        crate::followups::refresh_due(tx, &[id]).await?;
    }
    Ok((id, number))
}

/// The id and number the next order is expected to get, kept by a server from the last order
/// it numbered, so that on SQLite a new order and everything written with it go to the writer
/// in one script ([`insert_expected`]) instead of one for its number and one for the rest.
/// Only ever a guess: the script checks it, and a wrong guess (another server or command wrote
/// orders, a batch failed) costs one script undone.
#[derive(Debug, Default)]
pub struct Expected(std::sync::Mutex<Option<(i64, NaiveDate, i64)>>);

impl Expected {
    /// The id and sequence expected for the next order numbered on `day`, if any.
    pub fn next(&self, day: NaiveDate) -> Option<(i64, i64)> {
        let g = self.0.lock().ok()?;
        g.filter(|(_, d, _)| *d == day)
            .map(|(id, _, seq)| (id, seq))
    }

    /// After `w` was numbered on `day`: the next is expected after it.
    pub fn numbered(&self, w: &WorkOrder, day: NaiveDate) {
        if let Ok(mut g) = self.0.lock() {
            *g = work_order_number::seq(&w.number).map(|seq| (w.id + 1, day, seq + 1));
        }
    }

    pub fn forget(&self) {
        if let Ok(mut g) = self.0.lock() {
            *g = None;
        }
    }
}

/// On SQLite's writer: inserts `w`, whose `id` and `number` the caller set to what was expected
/// of `day`'s next order, with the day's counter and `then` (statements about the new order,
/// such as its first event and audit entry), all in one script — and keeps them only if the
/// guess was right and `holds` (an SQL condition: that what the order was planned from is
/// unchanged) is true. Otherwise nothing stays written and it returns false; the caller then
/// numbers the order the usual way ([`insert_numbered`]). Never on PostgreSQL (false).
pub async fn insert_expected(
    tx: &mut Tx,
    w: &WorkOrder,
    day: NaiveDate,
    holds: &str,
    then: Vec<(&str, Vec<crate::Arg>)>,
) -> Result<bool> {
    let Some(seq) = work_order_number::seq(&w.number) else {
        return Ok(false);
    };
    if tx.backend() != Backend::Sqlite
        || w.completed_at.is_some()
        || w.number != work_order_number::format(day, seq)
    {
        return Ok(false);
    }
    let key = work_order_number::day_key(day);
    let insert = format!(
        "INSERT INTO work_orders (id, number, {INSERT_COLS}) VALUES ($27, $28, {INSERT_PARAMS})"
    );
    let check = format!("SELECT ({holds}) AND (SELECT last FROM wo_counters WHERE day = $1) = $2");
    let mut args = insert_args(w);
    args.extend(args![w.id, w.number.as_str()]);
    let mut script = vec![
        (
            "INSERT INTO wo_counters (day, last) VALUES ($1, 1) \
             ON CONFLICT (day) DO UPDATE SET last = wo_counters.last + 1",
            args![key.as_str()],
        ),
        (insert.as_str(), args),
    ];
    script.extend(then);
    script.push((check.as_str(), args![key.as_str(), seq]));
    // A wrong guess fails the script (an id or number already taken) or the check.
    let kept = match tx.fetch_script::<(bool,)>(script).await {
        Ok(rows) => rows == [(true,)],
        Err(_) => false,
    };
    if !kept {
        tx.undo().await?;
    }
    Ok(kept)
}

/// Writes every mutable column and bumps the version, only if the version is still `expected`.
/// Returns false when another writer got there first.
pub async fn update(tx: &mut Tx, w: &WorkOrder, expected_version: i64) -> Result<bool> {
    let n = tx
        .execute(
            "UPDATE work_orders SET org_unit_id=$1, customer_id=$2, device_id=$3, address_id=$4, kind=$5, channel=$6, priority=$7, status=$8, \
             fault_description=$9, appointment_start=$10, appointment_end=$11, respond_by=$12, arrive_by=$13, resolve_by=$14, warranty_decision=$15, \
             technician_id=$16, partner_unit_id=$17, updated_at=$18, accepted_at=$19, completed_at=$20, reviewed_at=$21, closed_at=$22, \
             cancelled_at=$23, cancel_reason=$24, planned_seq=$27, planned_arrival=$28, version = version + 1 WHERE id=$25 AND version=$26",
            args![
                w.org_unit_id, w.customer_id, w.device_id, w.address_id, w.kind.as_str(), w.channel.as_str(), w.priority.as_str(),
                w.status.as_str(), w.fault_description.as_str(), w.appointment_start, w.appointment_end, w.respond_by, w.arrive_by,
                w.resolve_by, w.warranty_decision.as_str(), w.technician_id, w.partner_unit_id, w.updated_at, w.accepted_at,
                w.completed_at, w.reviewed_at, w.closed_at, w.cancelled_at, w.cancel_reason.clone(), w.id, expected_version,
                w.planned_seq, w.planned_arrival
            ],
        )
        .await?;
    if n == 1 {
        crate::followups::refresh_due(tx, &[w.id]).await?;
    }
    Ok(n == 1)
}

/// The statement that records an order's event (a change of status: who, when, where), run by
/// the caller with its others ([`Tx::execute_all`]).
#[allow(clippy::too_many_arguments)]
pub fn event_statement(
    work_order_id: i64,
    from: Option<&str>,
    to: &str,
    actor_id: i64,
    at: DateTime<Utc>,
    lat: Option<f64>,
    lng: Option<f64>,
    note: Option<&str>,
) -> (&'static str, Vec<crate::Arg>) {
    (
        "INSERT INTO work_order_events (work_order_id, from_status, to_status, actor_id, at, lat, lng, note) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        args![work_order_id, from, to, actor_id, at, lat, lng, note],
    )
}

/// The events of one order (the caller has checked the order is visible), oldest first.
pub async fn events(db: &Db, work_order_id: i64, page: Page) -> Result<Paged<WorkOrderEvent>> {
    let q = Sql {
        text: "SELECT e.id, e.work_order_id, e.from_status, e.to_status, e.actor_id, u.display_name AS actor_name, e.at, e.lat, e.lng, e.note \
               FROM work_order_events e JOIN users u ON u.id = e.actor_id WHERE e.work_order_id = $1"
            .into(),
        args: args![work_order_id],
    };
    paged(db, q, "e.id", page).await
}

const VISIT_COLS: &str = "id, work_order_id, technician_id, seq, departed_at, arrived_at, arrived_lat, arrived_lng, left_at, outcome";

/// The visits of one order (the caller has checked the order is visible), in turn.
pub async fn visits(db: &Db, work_order_id: i64, page: Page) -> Result<Paged<Visit>> {
    let q = Sql {
        text: format!("SELECT {VISIT_COLS} FROM visits WHERE work_order_id = $1"),
        args: args![work_order_id],
    };
    paged(db, q, "seq, id", page).await
}

/// The latest visit of an order, if any.
pub async fn last_visit(db: &Db, work_order_id: i64) -> Result<Option<Visit>> {
    db.fetch_optional(
        &format!("SELECT {VISIT_COLS} FROM visits WHERE work_order_id = $1 ORDER BY seq DESC, id DESC LIMIT 1"),
        args![work_order_id],
    )
    .await
}

/// The visit in progress (departed, not left), if any.
/// Whether a visit (`visit_id`) or, with `None`, any visit of the order carries a service report
/// (findings or work done written).
pub async fn has_report(tx: &mut Tx, work_order_id: i64, visit_id: Option<i64>) -> Result<bool> {
    let (n,): (i64,) = tx
        .fetch_one(
            "SELECT COUNT(*) FROM visits WHERE work_order_id = $1 AND ($2 IS NULL OR id = $2) \
             AND (TRIM(COALESCE(work_done, '')) <> '' OR TRIM(COALESCE(findings, '')) <> '')",
            args![work_order_id, visit_id],
        )
        .await?;
    Ok(n > 0)
}

pub async fn open_visit(tx: &mut Tx, work_order_id: i64) -> Result<Option<Visit>> {
    tx.fetch_optional(
        &format!("SELECT {VISIT_COLS} FROM visits WHERE work_order_id = $1 AND left_at IS NULL ORDER BY seq DESC LIMIT 1"),
        args![work_order_id],
    )
    .await
}

pub async fn start_visit(
    tx: &mut Tx,
    work_order_id: i64,
    technician_id: Option<i64>,
    departed: DateTime<Utc>,
) -> Result<i64> {
    tx.insert(
        "INSERT INTO visits (work_order_id, technician_id, seq, departed_at) \
         VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM visits WHERE work_order_id = $1), $3) RETURNING id",
        args![work_order_id, technician_id, departed],
    )
    .await
}

pub async fn arrive(
    tx: &mut Tx,
    visit_id: i64,
    at: DateTime<Utc>,
    lat: Option<f64>,
    lng: Option<f64>,
) -> Result<()> {
    tx.execute(
        "UPDATE visits SET arrived_at = $1, arrived_lat = $2, arrived_lng = $3 WHERE id = $4",
        args![at, lat, lng, visit_id],
    )
    .await?;
    Ok(())
}

pub async fn leave(
    tx: &mut Tx,
    visit_id: i64,
    at: DateTime<Utc>,
    outcome: Option<&str>,
) -> Result<()> {
    tx.execute(
        "UPDATE visits SET left_at = $1, outcome = $2 WHERE id = $3",
        args![at, outcome, visit_id],
    )
    .await?;
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Review {
    pub id: i64,
    pub work_order_id: i64,
    pub decision: String,
    pub comment: Option<String>,
    pub reviewer_id: i64,
    pub reviewer_name: String,
    pub at: DateTime<Utc>,
}

pub async fn insert_review(
    tx: &mut Tx,
    work_order_id: i64,
    decision: &str,
    comment: Option<&str>,
    reviewer: i64,
    at: DateTime<Utc>,
) -> Result<i64> {
    tx.insert(
        "INSERT INTO reviews (work_order_id, decision, comment, reviewer_id, at) VALUES ($1,$2,$3,$4,$5) RETURNING id",
        args![work_order_id, decision, comment, reviewer, at],
    )
    .await
}

/// The reviews of one order (the caller has checked the order is visible), oldest first.
pub async fn reviews(db: &Db, work_order_id: i64, page: Page) -> Result<Paged<Review>> {
    let q = Sql {
        text: "SELECT r.id, r.work_order_id, r.decision, r.comment, r.reviewer_id, u.display_name AS reviewer_name, r.at \
               FROM reviews r JOIN users u ON u.id = r.reviewer_id WHERE r.work_order_id = $1"
            .into(),
        args: args![work_order_id],
    };
    paged(db, q, "r.id", page).await
}

/// The latest review of each of `ids` that has one (one query for a list page).
pub async fn latest_reviews(db: &Db, ids: &[i64]) -> Result<Vec<Review>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    db.fetch_all(
        &format!(
            "SELECT r.id, r.work_order_id, r.decision, r.comment, r.reviewer_id, u.display_name AS reviewer_name, r.at \
             FROM reviews r JOIN users u ON u.id = r.reviewer_id \
             WHERE r.id IN (SELECT MAX(id) FROM reviews WHERE work_order_id IN ({}) GROUP BY work_order_id)",
            id_list(ids)
        ),
        vec![],
    )
    .await
}

/// Completed orders waiting for review (none returned since their completion), oldest first.
pub async fn review_queue(db: &Db, vis: &Visibility, page: Page) -> Result<Paged<WorkOrder>> {
    let mut q = Sql::new(&format!("SELECT {WO_COLS} FROM work_orders wo WHERE "));
    let cl = vis.clause(Scoped::WorkOrder, "wo", &mut q);
    q.push(&cl).push(
        " AND wo.status = 'completed' AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.work_order_id = wo.id \
         AND r.decision = 'returned' AND r.at >= wo.completed_at)",
    );
    paged(db, q, "wo.completed_at ASC, wo.id ASC", page).await
}

/// Names shown beside a list of orders: customer, device (product · serial), technician.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderLabels {
    pub id: i64,
    pub customer: String,
    pub device: Option<String>,
    pub technician: Option<String>,
}

fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// Labels of many orders in one query (the caller has already scoped the orders).
pub async fn labels(db: &Db, ids: &[i64]) -> Result<Vec<OrderLabels>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    db.fetch_all(
        &format!(
            "SELECT wo.id, c.name AS customer, p.name || ' · ' || d.serial AS device, u.display_name AS technician \
             FROM work_orders wo JOIN customers c ON c.id = wo.customer_id \
             LEFT JOIN devices d ON d.id = wo.device_id LEFT JOIN products p ON p.id = d.product_id \
             LEFT JOIN technicians t ON t.id = wo.technician_id LEFT JOIN users u ON u.id = t.user_id \
             WHERE wo.id IN ({})",
            id_list(ids)
        ),
        args![],
    )
    .await
}

/// Where and whom a technician visits for each order: the order's address (else the customer's
/// first) and the customer's first phone.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stop {
    pub id: i64,
    pub customer: String,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub device: Option<String>,
}

pub async fn stops(db: &Db, ids: &[i64]) -> Result<Vec<Stop>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    db.fetch_all(
        &format!(
            "SELECT wo.id, c.name AS customer, \
               (SELECT ph.phone FROM customer_phones ph WHERE ph.customer_id = c.id ORDER BY ph.position LIMIT 1) AS phone, \
               a.address, a.lat, a.lng, p.name || ' · ' || d.serial AS device \
             FROM work_orders wo JOIN customers c ON c.id = wo.customer_id \
             LEFT JOIN customer_addresses a ON a.id = COALESCE(wo.address_id, \
                 (SELECT a2.id FROM customer_addresses a2 WHERE a2.customer_id = c.id ORDER BY a2.position LIMIT 1)) \
             LEFT JOIN devices d ON d.id = wo.device_id LEFT JOIN products p ON p.id = d.product_id \
             WHERE wo.id IN ({})",
            id_list(ids)
        ),
        vec![],
    )
    .await
}

/// The visits of many orders in one query.
pub async fn visits_of(db: &Db, ids: &[i64]) -> Result<Vec<Visit>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    db.fetch_all(
        &format!("SELECT {VISIT_COLS} FROM visits WHERE work_order_id IN ({}) ORDER BY work_order_id, seq", id_list(ids)),
        args![],
    )
    .await
}

/// The open, assigned orders of several technicians in one query (the dispatch board), each
/// technician's in planned order.
pub async fn assigned_to(db: &Db, vis: &Visibility, technicians: &[i64]) -> Result<Vec<WorkOrder>> {
    if technicians.is_empty() {
        return Ok(vec![]);
    }
    let mut q = Sql::new(&format!("SELECT {WO_COLS} FROM work_orders wo WHERE "));
    let cl = vis.clause(Scoped::WorkOrder, "wo", &mut q);
    q.push(&cl).push(&format!(
        " AND wo.technician_id IN ({}) AND wo.status IN ('assigned','accepted','en_route','on_site') \
         ORDER BY wo.technician_id, wo.planned_seq ASC NULLS LAST, wo.arrive_by ASC LIMIT 2000",
        id_list(technicians)
    ));
    db.fetch_all(&q.text, q.args).await
}
