//! KPI facts (`kpi_facts`): what `domain::kpi::facts` derives from each work order, kept current
//! by the catch-up step (`app::kpi::catch_up`) from the orders marked dirty in the transaction of
//! each change ([`dirty_statement`], run with every audit entry) or due to change by the clock
//! (`kpi_expiry`). Dashboards sum the facts of a period and group here; the KPI definitions are
//! `domain::kpi`'s, not SQL's.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use shouhou_domain::kpi::{
    ComplaintRecord, Counter, Fact, OrderRecord, Seconds, VisitRecord, COUNTERS,
};
use shouhou_domain::{Rating, VisitOutcome, WorkOrderType};

use crate::repo::{Page, Paged};
use crate::scope::{Scoped, Sql};
use crate::{args, Arg, Backend, Db, Result, Tx, Visibility};

mod durations;
mod memo;
pub use memo::{Cache, Memo, CACHE_BYTES};

/// Packs every duration of the facts again (after a migration), moving the epoch of the
/// readings kept in memory.
pub async fn pack_durations(tx: &mut Tx) -> Result<usize> {
    let n = durations::build(tx).await?;
    bump_epoch(tx).await?;
    Ok(n)
}

/// Moves the version of the months of the facts the orders `list` have now (see [`memo`]).
async fn bump_months(tx: &mut Tx, list: &str) -> Result<()> {
    let month = month_of_day(tx.backend());
    tx.execute(
        &format!(
            "INSERT INTO kpi_month_versions (month, version) SELECT DISTINCT {month}, 1 \
             FROM kpi_facts WHERE work_order_id IN ({list}) \
             ON CONFLICT (month) DO UPDATE SET version = kpi_month_versions.version + 1"
        ),
        args![],
    )
    .await?;
    Ok(())
}

/// Moves the version of one month (see [`memo`]).
async fn bump_month(tx: &mut Tx, month: NaiveDate) -> Result<()> {
    tx.execute(
        "INSERT INTO kpi_month_versions (month, version) VALUES ($1, 1) \
         ON CONFLICT (month) DO UPDATE SET version = kpi_month_versions.version + 1",
        args![month],
    )
    .await?;
    Ok(())
}

/// Moves every month's version and the epoch: nothing read before is served again.
async fn bump_epoch(tx: &mut Tx) -> Result<()> {
    tx.execute(
        "UPDATE kpi_month_versions SET version = version + 1",
        args![],
    )
    .await?;
    let epoch: NaiveDate = memo::EPOCH
        .parse()
        .map_err(|e| crate::StoreError::Bind(format!("epoch {}: {e}", memo::EPOCH)))?;
    bump_month(tx, epoch).await
}

/// The statement that marks the order an audited change of `entity` `$1` touched (an order,
/// or a complaint of one); `None` for what touches no order.
pub fn dirty_statement(entity: &str) -> Option<&'static str> {
    match entity {
        "work_order" => Some(
            "INSERT INTO kpi_dirty (work_order_id) VALUES ($1) ON CONFLICT (work_order_id) DO NOTHING",
        ),
        "complaint" => Some(
            "INSERT INTO kpi_dirty (work_order_id) SELECT work_order_id FROM complaints WHERE id = $1 \
             ON CONFLICT (work_order_id) DO NOTHING",
        ),
        _ => None,
    }
}

/// Up to `limit` orders whose facts are stale: marked dirty, or past their expiry at `now`.
pub async fn stale(tx: &mut Tx, now: DateTime<Utc>, limit: i64) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = tx
        .fetch_all(
            "SELECT work_order_id FROM kpi_dirty \
             UNION SELECT work_order_id FROM kpi_expiry WHERE at <= $1 \
             ORDER BY 1 LIMIT $2",
            args![now, limit],
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Whether any order's facts are stale at `now` ([`stale`] would find one), read without
/// the writer.
pub async fn any_stale(db: &Db, now: DateTime<Utc>) -> Result<bool> {
    let (n,): (i64,) = db
        .fetch_one(
            "SELECT CAST(CASE WHEN EXISTS (SELECT 1 FROM kpi_dirty) \
             OR EXISTS (SELECT 1 FROM kpi_expiry WHERE at <= $1) THEN 1 ELSE 0 END AS BIGINT)",
            args![now],
        )
        .await?;
    Ok(n != 0)
}

/// Takes the dirty marks of `ids` (before their records are read: a change committed after
/// this marks its order again).
pub async fn unmark(tx: &mut Tx, ids: &[i64]) -> Result<()> {
    tx.execute(
        &format!(
            "DELETE FROM kpi_dirty WHERE work_order_id IN ({})",
            id_list(ids)
        ),
        args![],
    )
    .await?;
    Ok(())
}

/// Technicians' names as groups read them; two of the same name are told apart by their login.
pub async fn technician_names(db: &Db, ids: &[i64]) -> Result<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(i64, String, String)> = db
        .fetch_all(
            "SELECT t.id, u.display_name, u.username FROM technicians t JOIN users u ON u.id = t.user_id",
            args![],
        )
        .await?;
    let wanted: std::collections::HashSet<i64> = ids.iter().copied().collect();
    let mut named: HashMap<&str, usize> = HashMap::new();
    for r in &rows {
        *named.entry(r.1.as_str()).or_default() += 1;
    }
    Ok(rows
        .iter()
        .filter(|r| wanted.contains(&r.0))
        .map(|(id, name, login)| {
            let twin = named.get(name.as_str()).copied().unwrap_or(0) > 1;
            let label = if twin {
                format!("{name}（{login}）")
            } else {
                name.clone()
            };
            (*id, label)
        })
        .collect())
}

/// Repair orders completed within the 30 days before a repair order of `ids` was created on the
/// same device: a new order changes whether they are repeats.
pub async fn earlier_on_same_device(tx: &mut Tx, ids: &[i64]) -> Result<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Only a completion within the window before a new order's creation can become a repeat
    // (a copier under contract may have hundreds of older ones): bounded by the earliest of
    // the orders' creations; the exact window is the facts' to check, a few more recomputed
    // are harmless.
    let (first,): (Option<DateTime<Utc>>,) = tx
        .fetch_one(
            &format!(
                "SELECT MIN(created_at) FROM work_orders WHERE id IN ({})",
                id_list(ids)
            ),
            args![],
        )
        .await?;
    let Some(first) = first else {
        return Ok(Vec::new());
    };
    let since = first - chrono::Duration::hours(shouhou_domain::kpi::REPEAT_WINDOW_HOURS);
    let rows: Vec<(i64, DateTime<Utc>)> = tx
        .fetch_all(
            &format!(
                "SELECT e.id, e.completed_at FROM work_orders n JOIN work_orders e \
                 ON e.device_id = n.device_id AND e.id <> n.id \
                 WHERE n.id IN ({}) AND n.kind IN ('repair_onsite','repair_phone') \
                 AND e.kind IN ('repair_onsite','repair_phone') AND e.completed_at IS NOT NULL \
                 AND e.completed_at < n.created_at AND e.completed_at >= $1",
                id_list(ids)
            ),
            args![since],
        )
        .await?;
    let mut out: Vec<i64> = rows.into_iter().map(|r| r.0).collect();
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

fn id_list(ids: &[i64]) -> String {
    if ids.is_empty() {
        return "NULL".into();
    }
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// What a fact row is grouped and filtered by, besides its date.
#[derive(Debug, Clone, PartialEq)]
pub struct Dims {
    pub work_order_id: i64,
    pub org_unit_id: i64,
    pub unit_id: i64,
    pub partner_unit_id: Option<i64>,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub kind: String,
    pub warranty: String,
    pub tier: String,
    pub channel: String,
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: i64,
    kind: String,
    status: String,
    org_unit_id: i64,
    partner_unit_id: Option<i64>,
    channel: String,
    warranty_decision: String,
    created_at: DateTime<Utc>,
    accepted_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    arrive_by: DateTime<Utc>,
    category: Option<String>,
    brand: Option<String>,
    tier: String,
    next_repair: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct VisitRow {
    work_order_id: i64,
    seq: i64,
    technician_id: Option<i64>,
    arrived_at: Option<DateTime<Utc>>,
    left_at: Option<DateTime<Utc>>,
    outcome: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ComplaintRow {
    id: i64,
    work_order_id: i64,
    created_at: DateTime<Utc>,
    due_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
}

/// The orders `ids` as the KPI facts read them (orders that do not exist are left out).
pub async fn records(tx: &mut Tx, ids: &[i64]) -> Result<Vec<(Dims, OrderRecord)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = id_list(ids);
    let orders: Vec<OrderRow> = tx
        .fetch_all(
            &format!(
                "SELECT w.id, w.kind, w.status, w.org_unit_id, w.partner_unit_id, w.channel, \
                 w.warranty_decision, w.created_at, w.accepted_at, w.completed_at, w.arrive_by, \
                 p.category, d.brand, c.tier, \
                 (SELECT MIN(n.created_at) FROM work_orders n WHERE n.device_id = w.device_id \
                   AND n.id <> w.id AND n.kind IN ('repair_onsite','repair_phone') \
                   AND n.status <> 'cancelled' AND n.created_at > w.completed_at) AS next_repair \
                 FROM work_orders w JOIN customers c ON c.id = w.customer_id \
                 LEFT JOIN devices d ON d.id = w.device_id LEFT JOIN products p ON p.id = d.product_id \
                 WHERE w.id IN ({list}) ORDER BY w.id"
            ),
            args![],
        )
        .await?;
    let visits: Vec<VisitRow> = tx
        .fetch_all(
            &format!(
                "SELECT work_order_id, seq, technician_id, arrived_at, left_at, outcome FROM visits \
                 WHERE work_order_id IN ({list}) ORDER BY work_order_id, seq"
            ),
            args![],
        )
        .await?;
    let ratings: Vec<(i64, String)> = tx
        .fetch_all(
            &format!(
                "SELECT work_order_id, rating FROM follow_ups WHERE work_order_id IN ({list})"
            ),
            args![],
        )
        .await?;
    let answers: Vec<(i64, String)> = tx
        .fetch_all(
            &format!(
                "SELECT work_order_id, rating FROM follow_up_answers WHERE work_order_id IN ({list})"
            ),
            args![],
        )
        .await?;
    let complaints: Vec<ComplaintRow> = tx
        .fetch_all(
            &format!(
                "SELECT id, work_order_id, created_at, due_at, closed_at FROM complaints \
                 WHERE work_order_id IN ({list}) ORDER BY id"
            ),
            args![],
        )
        .await?;
    let money: Vec<(i64, String, i64)> = tx
        .fetch_all(
            &format!(
                "SELECT work_order_id, payer, CAST(SUM(amount_fen) AS BIGINT) FROM ( \
                   SELECT work_order_id, payer, amount_fen FROM charges WHERE work_order_id IN ({list}) \
                   UNION ALL SELECT work_order_id, payer, qty * unit_price_fen FROM part_lines \
                   WHERE work_order_id IN ({list})) m GROUP BY work_order_id, payer"
            ),
            args![],
        )
        .await?;

    let mut out = Vec::with_capacity(orders.len());
    for o in orders {
        let kind: WorkOrderType = o
            .kind
            .parse()
            .map_err(|e: shouhou_domain::DomainError| crate::StoreError::Bind(e.to_string()))?;
        let partner = o.partner_unit_id.is_some();
        let vs = visits
            .iter()
            .filter(|v| v.work_order_id == o.id)
            .map(|v| VisitRecord {
                seq: v.seq,
                // Partner visits count for the partner unit, never in technician rows.
                technician_id: if partner { None } else { v.technician_id },
                arrived_at: v.arrived_at,
                left_at: v.left_at,
                outcome: v
                    .outcome
                    .as_deref()
                    .and_then(|s| s.parse::<VisitOutcome>().ok()),
            })
            .collect();
        let rating = ratings
            .iter()
            .find(|r| r.0 == o.id)
            .and_then(|r| r.1.parse::<Rating>().ok());
        let cs = complaints
            .iter()
            .filter(|c| c.work_order_id == o.id)
            .map(|c| ComplaintRecord {
                id: c.id,
                created_at: c.created_at,
                due_at: c
                    .due_at
                    .unwrap_or(c.created_at + chrono::Duration::hours(48)),
                closed_at: c.closed_at,
            })
            .collect();
        let fen = |payer: &str| {
            money
                .iter()
                .filter(|m| m.0 == o.id && m.1 == payer)
                .map(|m| m.2)
                .sum::<i64>()
        };
        let record = OrderRecord {
            kind,
            cancelled: o.status == "cancelled",
            created_at: o.created_at,
            accepted_at: o.accepted_at,
            completed_at: o.completed_at,
            arrive_by: o.arrive_by,
            visits: vs,
            rating,
            answers: answers
                .iter()
                .filter(|a| a.0 == o.id)
                .filter_map(|a| a.1.parse::<Rating>().ok())
                .collect(),
            next_repair_created_at: o.next_repair,
            complaints: cs,
            customer_fen: fen("customer"),
            manufacturer_fen: fen("manufacturer"),
        };
        let dims = Dims {
            work_order_id: o.id,
            org_unit_id: o.org_unit_id,
            unit_id: o.partner_unit_id.unwrap_or(o.org_unit_id),
            partner_unit_id: o.partner_unit_id,
            category: o.category,
            brand: o.brand,
            kind: o.kind,
            warranty: o.warranty_decision,
            tier: o.tier,
            channel: o.channel,
        };
        out.push((dims, record));
    }
    Ok(out)
}

const FACT_COLS: [&str; 14] = [
    "work_order_id",
    "basis",
    "day",
    "org_unit_id",
    "unit_id",
    "partner_unit_id",
    "technician_id",
    "category",
    "brand",
    "kind",
    "warranty",
    "tier",
    "channel",
    "response_seconds",
];

fn basis_name(b: shouhou_domain::kpi::Basis) -> &'static str {
    use shouhou_domain::kpi::Basis::*;
    match b {
        Completed => "completed",
        Accepted => "accepted",
        ArriveBy => "arrive_by",
        VisitArrived => "visit",
        ComplaintCreated => "complaint",
        ComplaintDue => "complaint_due",
    }
}

/// Replaces the facts (and the expiry) of the orders `ids` with `facts`.
pub async fn replace(
    tx: &mut Tx,
    ids: &[i64],
    facts: Vec<(&Dims, Fact)>,
    expiries: Vec<(i64, DateTime<Utc>)>,
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let list = id_list(ids);
    bump_months(tx, &list).await?;
    let packed_before = durations::keys_of(tx, &list).await?;
    roll_daily(tx, &list, "-").await?;
    roll_csi(tx, &list, "-").await?;
    for table in ["kpi_facts", "kpi_expiry", "kpi_csi_facts"] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE work_order_id IN ({list})"),
            args![],
        )
        .await?;
    }
    let mut cols: Vec<&str> = FACT_COLS.to_vec();
    cols.extend(["cycle_seconds", "late_after"]);
    cols.extend(Counter::ALL.iter().map(|c| c.column()));
    let packed: Vec<_> = facts
        .iter()
        .flat_map(|(d, f)| {
            durations::entries_of(
                d.work_order_id,
                d.org_unit_id,
                d.unit_id,
                d.partner_unit_id,
                f,
            )
        })
        .collect();
    durations::repack(tx, ids, packed_before, packed).await?;
    let rows = facts
        .into_iter()
        .map(|(d, f)| {
            let mut r: Vec<Arg> = args![
                d.work_order_id,
                basis_name(f.basis),
                f.day,
                d.org_unit_id,
                d.unit_id,
                d.partner_unit_id,
                f.technician_id,
                d.category.clone(),
                d.brand.clone(),
                d.kind.clone(),
                d.warranty.clone(),
                d.tier.clone(),
                d.channel.clone(),
                f.response_seconds,
                f.cycle_seconds,
                f.late_after
            ];
            r.extend(f.counters.iter().map(|v| Arg::from(*v)));
            r
        })
        .collect();
    tx.bulk_insert("kpi_facts", &cols, rows).await?;
    bump_months(tx, &list).await?;
    roll_daily(tx, &list, "").await?;
    // The questionnaire answers as of now, on the orders' completion rows.
    tx.execute(
        &format!(
            "INSERT INTO kpi_csi_facts (work_order_id, {DAILY_KEY}, item, rating) \
             SELECT f.work_order_id, {}, a.item, a.rating FROM kpi_facts f \
             JOIN follow_up_answers a ON a.work_order_id = f.work_order_id \
             WHERE f.work_order_id IN ({list}) AND f.basis = 'completed'",
            DAILY_DIMS_F
        ),
        args![],
    )
    .await?;
    roll_csi(tx, &list, "").await?;
    let rows = expiries.into_iter().map(|(id, at)| args![id, at]).collect();
    tx.bulk_insert("kpi_expiry", &["work_order_id", "at"], rows)
        .await
}

/// The grouping dimensions of `kpi_daily`, as read from a fact row (a missing one as 0 / '').
const DAILY_DIMS: &str = "day, org_unit_id, unit_id, COALESCE(partner_unit_id, 0), \
     COALESCE(technician_id, 0), COALESCE(category, ''), COALESCE(brand, ''), kind, warranty, tier, channel";
/// The dimensions of `kpi_daily_unit`: day × unit × technician.
const UNIT_DIMS: &str =
    "day, org_unit_id, unit_id, COALESCE(partner_unit_id, 0), COALESCE(technician_id, 0)";
const UNIT_KEY: &str = "day, org_unit_id, unit_id, partner_unit_id, technician_id";
/// The dimensions of `kpi_daily_store` and `kpi_monthly_store`: day (or month, put in by the
/// caller) × unit.
const STORE_DIMS: &str = "day, org_unit_id, unit_id, COALESCE(partner_unit_id, 0)";

/// [`DAILY_DIMS`] of the facts `f`.
const DAILY_DIMS_F: &str = "f.day, f.org_unit_id, f.unit_id, COALESCE(f.partner_unit_id, 0), \
     COALESCE(f.technician_id, 0), COALESCE(f.category, ''), COALESCE(f.brand, ''), f.kind, f.warranty, f.tier, f.channel";
const DAILY_KEY: &str = "day, org_unit_id, unit_id, partner_unit_id, technician_id, category, \
     brand, kind, warranty, tier, channel";

/// Adds (`sign` "") or takes away (`sign` "-") the facts of the orders `list` to/from the daily
/// sums.
async fn roll_daily(tx: &mut Tx, list: &str, sign: &str) -> Result<()> {
    let counters: Vec<&str> = Counter::ALL.iter().map(|c| c.column()).collect();
    let sums = counters
        .iter()
        .map(|c| format!("CAST({sign}SUM({c}) AS BIGINT)"))
        .collect::<Vec<_>>()
        .join(", ");
    let set = counters
        .iter()
        .map(|c| format!("{c} = kpi_daily.{c} + excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    tx.execute(
        &format!(
            "INSERT INTO kpi_daily ({DAILY_KEY}, {}) SELECT {DAILY_DIMS}, {sums} FROM kpi_facts \
             WHERE work_order_id IN ({list}) GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 \
             ON CONFLICT ({DAILY_KEY}) DO UPDATE SET {set}",
            counters.join(", ")
        ),
        args![],
    )
    .await?;
    let unit_set = set.replace("kpi_daily.", "kpi_daily_unit.");
    tx.execute(
        &format!(
            "INSERT INTO kpi_daily_unit ({UNIT_KEY}, {}) SELECT {UNIT_DIMS}, {sums} FROM kpi_facts \
             WHERE work_order_id IN ({list}) GROUP BY 1, 2, 3, 4, 5 \
             ON CONFLICT ({UNIT_KEY}) DO UPDATE SET {unit_set}",
            counters.join(", ")
        ),
        args![],
    )
    .await?;
    let month = month_of_day(tx.backend());
    for (table, dims) in [
        ("kpi_daily_store", STORE_DIMS),
        ("kpi_monthly_unit", UNIT_DIMS),
        ("kpi_monthly_store", STORE_DIMS),
    ] {
        let set = set.replace("kpi_daily.", &format!("{table}."));
        let key = match table {
            "kpi_daily_store" => UNIT_KEY.to_string(),
            _ => UNIT_KEY.replacen("day", "month", 1),
        };
        let key = match table {
            "kpi_monthly_unit" => key,
            _ => key.replace(", technician_id", ""),
        };
        let dims = match table {
            "kpi_daily_store" => dims.to_string(),
            _ => dims.replacen("day", month, 1),
        };
        let n = key.split(',').count();
        let by = (1..=n)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        tx.execute(
            &format!(
                "INSERT INTO {table} ({key}, {}) SELECT {dims}, {sums} FROM kpi_facts \
                 WHERE work_order_id IN ({list}) GROUP BY {by} \
                 ON CONFLICT ({key}) DO UPDATE SET {set}",
                counters.join(", ")
            ),
            args![],
        )
        .await?;
    }
    Ok(())
}

/// The first day of the month of a fact's `day`, in SQL.
fn month_of_day(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "substr(day, 1, 8) || '01'",
        Backend::Postgres => "CAST(date_trunc('month', day) AS DATE)",
    }
}

/// Adds (`sign` "") or takes away (`sign` "-") the answers of the orders `list` to/from the
/// daily answer counts.
async fn roll_csi(tx: &mut Tx, list: &str, sign: &str) -> Result<()> {
    tx.execute(
        &format!(
            "INSERT INTO kpi_csi_daily ({DAILY_KEY}, item, rating, n) \
             SELECT {DAILY_KEY}, item, rating, {sign}COUNT(*) FROM kpi_csi_facts \
             WHERE work_order_id IN ({list}) GROUP BY {DAILY_KEY}, item, rating \
             ON CONFLICT ({DAILY_KEY}, item, rating) DO UPDATE SET n = kpi_csi_daily.n + excluded.n"
        ),
        args![],
    )
    .await?;
    let month = month_of_day(tx.backend());
    let ratings: Vec<&str> = Rating::ALL.iter().map(|r| r.as_str()).collect();
    let counts = ratings
        .iter()
        .map(|r| format!("{sign}SUM(CASE WHEN rating = '{r}' THEN 1 ELSE 0 END)"))
        .collect::<Vec<_>>()
        .join(", ");
    let set = ratings
        .iter()
        .map(|r| format!("{r} = kpi_csi_monthly.{r} + excluded.{r}"))
        .collect::<Vec<_>>()
        .join(", ");
    for (table, date) in [("kpi_csi_monthly", month), ("kpi_csi_daily_unit", "day")] {
        let set = set.replace("kpi_csi_monthly.", &format!("{table}."));
        let key = match table {
            "kpi_csi_monthly" => CSI_MONTH_KEY.to_string(),
            _ => CSI_MONTH_KEY.replacen("month", "day", 1),
        };
        tx.execute(
            &format!(
                "INSERT INTO {table} ({key}, {}) \
                 SELECT {date}, org_unit_id, unit_id, partner_unit_id, item, {counts} \
                 FROM kpi_csi_facts WHERE work_order_id IN ({list}) GROUP BY 1, 2, 3, 4, 5 \
                 ON CONFLICT ({key}) DO UPDATE SET {set}",
                ratings.join(", ")
            ),
            args![],
        )
        .await?;
    }
    Ok(())
}

const CSI_MONTH_KEY: &str = "month, org_unit_id, unit_id, partner_unit_id, item";

/// Forgets every fact (before a rebuild).
pub async fn clear(tx: &mut Tx) -> Result<()> {
    for table in [
        "kpi_facts",
        "kpi_expiry",
        "kpi_dirty",
        "kpi_daily",
        "kpi_daily_unit",
        "kpi_daily_store",
        "kpi_csi_facts",
        "kpi_csi_daily",
        "kpi_monthly_unit",
        "kpi_monthly_store",
        "kpi_csi_monthly",
        "kpi_csi_daily_unit",
        "kpi_durations",
        "kpi_pending",
        "shift_months",
    ] {
        tx.execute(&format!("DELETE FROM {table}"), args![]).await?;
    }
    bump_epoch(tx).await?;
    let month = month_of_day(tx.backend());
    let length = shift_seconds(tx.backend(), "");
    tx.execute(
        &format!(
            "INSERT INTO shift_months (month, technician_id, days, seconds) \
             SELECT {month}, technician_id, COUNT(*), \
             SUM(CASE WHEN ends_at > starts_at THEN {length} ELSE 0 END) FROM shifts GROUP BY 1, 2"
        ),
        args![],
    )
    .await?;
    Ok(())
}

/// A shift's length in whole seconds (each end truncated to its second), in SQL; `a` is the
/// shifts' alias with its dot.
fn shift_seconds(b: Backend, a: &str) -> String {
    match b {
        Backend::Sqlite => format!("unixepoch({a}ends_at) - unixepoch({a}starts_at)"),
        Backend::Postgres => format!(
            "CAST(EXTRACT(EPOCH FROM date_trunc('second', {a}ends_at)) \
             - EXTRACT(EPOCH FROM date_trunc('second', {a}starts_at)) AS BIGINT)"
        ),
    }
}

/// Moves a shift's day and length out of (`sign` -1) or into (+1) its month's sums.
pub async fn roll_shift(
    tx: &mut Tx,
    technician_id: i64,
    day: NaiveDate,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    sign: i64,
) -> Result<()> {
    let seconds = if ends_at > starts_at {
        ends_at.timestamp() - starts_at.timestamp()
    } else {
        0
    };
    tx.execute(
        "INSERT INTO shift_months (month, technician_id, days, seconds) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (month, technician_id) DO UPDATE \
         SET days = shift_months.days + excluded.days, seconds = shift_months.seconds + excluded.seconds",
        args![durations::month_of(day), technician_id, sign, sign * seconds],
    )
    .await?;
    bump_month(tx, durations::month_of(day)).await
}

/// Whether the catch-up owes the work `what` (see `kpi_pending`).
pub async fn is_pending(db: &Db, what: &str) -> Result<bool> {
    let row: Option<(String,)> = db
        .fetch_optional("SELECT what FROM kpi_pending WHERE what = $1", args![what])
        .await?;
    Ok(row.is_some())
}

/// Takes the catch-up's owed work `what` (see `kpi_pending`): whether it was owed.
pub async fn take_pending(tx: &mut Tx, what: &str) -> Result<bool> {
    let n = tx
        .execute("DELETE FROM kpi_pending WHERE what = $1", args![what])
        .await?;
    Ok(n > 0)
}

/// Order ids after `after`, ascending, `limit` of them (a rebuild walks the orders in chunks).
pub async fn order_ids_after(db: &Db, after: i64, limit: i64) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = db
        .fetch_all(
            "SELECT id FROM work_orders WHERE id > $1 ORDER BY id LIMIT $2",
            args![after, limit],
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

// --------------------------------------------------------------------------------- reading

/// How rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    None,
    /// The unit an order counts for (a store or a partner).
    Unit,
    /// The unit above it (a region).
    Region,
    Technician,
    Category,
    Brand,
    Kind,
    Warranty,
    Tier,
    Channel,
    /// The local date (the app folds days into weeks).
    Day,
    /// The calendar month (its first day).
    Month,
}

/// Which facts: a period of local dates, the user's scope and optional filters.
#[derive(Debug, Clone, PartialEq)]
pub struct FactQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Only facts counting for these units (a unit filter, with the units below it).
    pub units: Option<Vec<i64>>,
    pub technician_id: Option<i64>,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub kind: Option<String>,
}

/// A group's key: an id (unit, region, technician), a text (category, brand …) or a day.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    All,
    Id(Option<i64>),
    Text(Option<String>),
    Day(NaiveDate),
}

/// The group expressions over `kpi_daily` (its missing values are 0 / '').
pub(crate) fn daily_group_expr(g: Group) -> (&'static str, &'static str, &'static str) {
    match g {
        Group::Technician => (
            "NULLIF(f.technician_id, 0)",
            "CAST(NULL AS TEXT)",
            "CAST(NULL AS DATE)",
        ),
        Group::Category => (
            "CAST(NULL AS BIGINT)",
            "NULLIF(f.category, '')",
            "CAST(NULL AS DATE)",
        ),
        Group::Brand => (
            "CAST(NULL AS BIGINT)",
            "NULLIF(f.brand, '')",
            "CAST(NULL AS DATE)",
        ),
        g => group_expr(g),
    }
}

/// ` GROUP BY` the positions of the grouping columns that are not a constant NULL (grouping by a
/// constant too makes SQLite sort every row instead of walking the index in order); empty when
/// every column is constant.
pub(crate) fn group_by(exprs: &[&str]) -> String {
    let cols: Vec<String> = exprs
        .iter()
        .enumerate()
        .filter(|(_, e)| !e.starts_with("CAST(NULL"))
        .map(|(i, _)| (i + 1).to_string())
        .collect();
    match cols.is_empty() {
        true => String::new(),
        false => format!(" GROUP BY {}", cols.join(", ")),
    }
}

pub(crate) fn group_expr(g: Group) -> (&'static str, &'static str, &'static str) {
    const NI: &str = "CAST(NULL AS BIGINT)";
    const NT: &str = "CAST(NULL AS TEXT)";
    const ND: &str = "CAST(NULL AS DATE)";
    match g {
        Group::None => (NI, NT, ND),
        Group::Unit => ("f.unit_id", NT, ND),
        Group::Region => (
            "(SELECT ou.parent_id FROM org_units ou WHERE ou.id = f.unit_id)",
            NT,
            ND,
        ),
        Group::Technician => ("f.technician_id", NT, ND),
        Group::Category => (NI, "f.category", ND),
        Group::Brand => (NI, "f.brand", ND),
        Group::Kind => (NI, "f.kind", ND),
        Group::Warranty => (NI, "f.warranty", ND),
        Group::Tier => (NI, "f.tier", ND),
        Group::Channel => (NI, "f.channel", ND),
        Group::Day | Group::Month => (NI, NT, "f.day"),
    }
}

pub(crate) fn key_of(
    g: Group,
    id: Option<i64>,
    text: Option<String>,
    day: Option<NaiveDate>,
) -> Key {
    match g {
        Group::None => Key::All,
        Group::Unit | Group::Region | Group::Technician => Key::Id(id),
        Group::Day => day.map(Key::Day).unwrap_or(Key::All),
        Group::Month => day
            .map(|d| Key::Day(durations::month_of(d)))
            .unwrap_or(Key::All),
        _ => Key::Text(text),
    }
}

/// `FROM kpi_facts f WHERE …` for the query and scope.
fn filtered(vis: &Visibility, q: &FactQuery, sql: &mut Sql) {
    filtered_in("kpi_facts", vis, q, sql)
}

/// `FROM <table> f WHERE …` (`kpi_facts` or `kpi_daily`) for the query and scope.
pub(crate) fn filtered_in(table: &str, vis: &Visibility, q: &FactQuery, sql: &mut Sql) {
    sql.push(&format!(" FROM {table} f"));
    filtered_on("day", vis, q, sql);
}

/// ` WHERE …` over the facts (or sums) `f` dated by `date` for the query and scope.
pub(crate) fn filtered_on(date: &str, vis: &Visibility, q: &FactQuery, sql: &mut Sql) {
    sql.push(" WHERE ");
    let from = sql.arg(q.from);
    let to = sql.arg(q.to);
    sql.push(&format!("f.{date} >= {from} AND f.{date} <= {to} AND "));
    let scope = vis.clause(Scoped::KpiFact, "f", sql);
    sql.push(&scope);
    if let Some(units) = &q.units {
        sql.push(&format!(" AND f.unit_id IN ({})", id_list(units)));
    }
    if let Some(t) = q.technician_id {
        sql.push_bind(" AND f.technician_id = {}", t);
    }
    if let Some(c) = &q.category {
        sql.push_bind(" AND f.category = {}", c.as_str());
    }
    if let Some(b) = &q.brand {
        sql.push_bind(" AND f.brand = {}", b.as_str());
    }
    if let Some(k) = &q.kind {
        sql.push_bind(" AND f.kind = {}", k.as_str());
    }
}

#[derive(sqlx::FromRow)]
struct SumRow {
    g_id: Option<i64>,
    g_text: Option<String>,
    g_day: Option<NaiveDate>,
    ftf_den: i64,
    ftf_num: i64,
    remote_den: i64,
    remote_num: i64,
    arrived_first: i64,
    arrived_on_time: i64,
    not_arrived: i64,
    repeat_den: i64,
    repeat_num: i64,
    repeat_open: i64,
    visits: i64,
    onsite_seconds: i64,
    completed: i64,
    answered: i64,
    very_satisfied: i64,
    satisfied: i64,
    neutral: i64,
    dissatisfied: i64,
    complaints: i64,
    complaints_due: i64,
    complaints_on_time: i64,
    customer_fen: i64,
    manufacturer_fen: i64,
    csi_answers: i64,
    csi_points: i64,
    responded: i64,
}

impl SumRow {
    fn counters(&self) -> [i64; COUNTERS] {
        [
            self.ftf_den,
            self.ftf_num,
            self.remote_den,
            self.remote_num,
            self.arrived_first,
            self.arrived_on_time,
            self.not_arrived,
            self.repeat_den,
            self.repeat_num,
            self.repeat_open,
            self.visits,
            self.onsite_seconds,
            self.completed,
            self.answered,
            self.very_satisfied,
            self.satisfied,
            self.neutral,
            self.dissatisfied,
            self.complaints,
            self.complaints_due,
            self.complaints_on_time,
            self.customer_fen,
            self.manufacturer_fen,
            self.csi_answers,
            self.csi_points,
            self.responded,
        ]
    }
}

/// Summed counters per group: (key, counters in [`Counter::ALL`] order, field orders without an
/// arrival whose arrive-by passed before `now`).
pub async fn sums(
    db: &Db,
    vis: &Visibility,
    q: &FactQuery,
    group: Group,
    now: DateTime<Utc>,
) -> Result<Vec<(Key, [i64; COUNTERS], i64)>> {
    sums_of(db, &Memo::off(), vis, q, group, now, &Counter::ALL, true).await
}

/// [`sums`] of some counters only (the others answer 0), and the late unarrived orders only
/// when `late`: what a reading of one KPI needs (`domain::kpi::Kpi::needs`). Pieces of finished
/// months may come from `memo`.
#[allow(clippy::too_many_arguments)]
pub async fn sums_of(
    db: &Db,
    memo: &Memo<'_>,
    vis: &Visibility,
    q: &FactQuery,
    group: Group,
    now: DateTime<Utc>,
    counters: &[Counter],
    late: bool,
) -> Result<Vec<(Key, [i64; COUNTERS], i64)>> {
    // Without a category, brand or type, unit × technician sums are enough (and far fewer): per
    // month for the months the period holds whole (unless grouped by day), per day for the rest.
    let coarse = q.category.is_none()
        && q.brand.is_none()
        && q.kind.is_none()
        && matches!(
            group,
            Group::None
                | Group::Unit
                | Group::Region
                | Group::Technician
                | Group::Day
                | Group::Month
        );
    // Months without a technician's grouping, filter or scope: per unit only.
    let per_store = vis.technician_id.is_none()
        && q.technician_id.is_none()
        && matches!(
            group,
            Group::None | Group::Unit | Group::Region | Group::Month
        );
    let mut pieces: Vec<(&str, &str, NaiveDate, NaiveDate, i64)> = Vec::new();
    let today = memo.today();
    for (from, to) in memo.halves(q.from, q.to) {
        match coarse {
            true => pieces.extend(
                split_signed(from, to, group != Group::Day, today)
                    .into_iter()
                    .map(|(monthly, from, to, sign)| match monthly {
                        true if per_store => ("kpi_monthly_store", "month", from, to, sign),
                        true => ("kpi_monthly_unit", "month", from, to, sign),
                        false if per_store => ("kpi_daily_store", "day", from, to, sign),
                        false => ("kpi_daily_unit", "day", from, to, sign),
                    }),
            ),
            false => pieces.push(("kpi_daily", "day", from, to, 1)),
        }
    }
    let pieces_signed = pieces.iter().any(|p| p.4 < 0);
    let mut acc: BTreeMap<Key, ([i64; COUNTERS], i64)> = BTreeMap::new();
    type Piece = Vec<(Key, [i64; COUNTERS])>;
    for (table, date, from, to, sign) in pieces {
        let (gi, gt, gd) = daily_group_expr(group);
        let gd = if date == "month" {
            gd.replace("f.day", "f.month")
        } else {
            gd.to_string()
        };
        let mut sql = Sql::new(&format!(
            "SELECT {gi} AS g_id, {gt} AS g_text, {gd} AS g_day"
        ));
        for c in Counter::ALL {
            let col = c.column();
            match counters.contains(&c) {
                true => sql.push(&format!(
                    ", CAST(COALESCE(SUM(f.{col}), 0) AS BIGINT) AS {col}"
                )),
                false => sql.push(&format!(", CAST(0 AS BIGINT) AS {col}")),
            };
        }
        sql.push(&format!(" FROM {table} f"));
        let piece = FactQuery {
            from,
            to,
            ..q.clone()
        };
        filtered_on(date, vis, &piece, &mut sql);
        sql.push(&group_by(&[gi, gt, &gd]));
        let key = memo.key(from, to, &format!("sums {}\n{:?}", sql.text, sql.args));
        let rows: Arc<Piece> = match memo.get::<Piece>(key.as_ref()) {
            Some(hit) => hit,
            None => {
                let rows: Vec<SumRow> = db.fetch_all(&sql.text, sql.args).await?;
                let piece: Piece = rows
                    .into_iter()
                    .map(|r| {
                        let c = r.counters();
                        (key_of(group, r.g_id, r.g_text, r.g_day), c)
                    })
                    .collect();
                let piece = Arc::new(piece);
                let bytes = piece.len() * std::mem::size_of::<(Key, [i64; COUNTERS])>();
                memo.put(key, Arc::clone(&piece), bytes);
                piece
            }
        };
        for (k, c) in rows.iter() {
            let e = acc.entry(k.clone()).or_insert(([0; COUNTERS], 0));
            for (i, v) in c.iter().enumerate() {
                e.0[i] += sign * v;
            }
        }
    }
    // A month less its later days leaves groups with nothing in the period at zero: the days
    // read alone would not have them.
    if pieces_signed {
        acc.retain(|_, (c, _)| c.iter().any(|v| *v != 0));
    }
    if !late {
        return Ok(acc.into_iter().map(|(k, (c, late))| (k, c, late)).collect());
    }
    // Field orders nobody reached whose arrive-by has passed: by the clock, from the facts.
    let (gi, gt, gd) = group_expr(group);
    let mut sql = Sql::new(&format!(
        "SELECT {gi} AS g_id, {gt} AS g_text, {gd} AS g_day, COUNT(*) AS n"
    ));
    filtered(vis, q, &mut sql);
    let n = sql.arg(now);
    sql.push(&format!(
        " AND f.late_after IS NOT NULL AND f.late_after <= {n}{}",
        group_by(&[gi, gt, gd])
    ));
    let late: Vec<GroupCount> = db.fetch_all(&sql.text, sql.args).await?;
    for (i, t, d, n) in late.into_iter().filter(|r| r.3 != 0) {
        acc.entry(key_of(group, i, t, d))
            .or_insert(([0; COUNTERS], 0))
            .1 += n;
    }
    Ok(acc.into_iter().map(|(k, (c, late))| (k, c, late)).collect())
}

/// A period in parts: when `monthly`, the months it holds whole (`true`, from the first one's
/// first day to the last one's first day), and the days before and after them (`false`).
pub(crate) fn split(
    from: NaiveDate,
    to: NaiveDate,
    monthly: bool,
) -> Vec<(bool, NaiveDate, NaiveDate)> {
    let one = chrono::Duration::days(1);
    match whole_months(from, to).filter(|_| monthly) {
        Some((m0, m1)) => {
            let m1_end = m1
                .checked_add_months(chrono::Months::new(1))
                .map_or(to, |next| next - one);
            let mut out = vec![(true, m0, m1)];
            if from < m0 {
                out.push((false, from, m0 - one));
            }
            if m1_end < to {
                out.push((false, m1_end + one, to));
            }
            out
        }
        None => vec![(false, from, to)],
    }
}

/// [`split`] with a sign per piece, for sums (which subtract): the days outside the whole
/// months, taken a month at a time, are read as the month (`true`, +1) less its other days
/// (`false`, -1) where those are fewer (counting only days up to `today`: later ones hold only
/// appointments) — a month's sums per unit are a few hundred rows, its days per unit
/// thousands. Four weeks from the 10th of one month read the first month less its first nine
/// days, and the second's days.
pub(crate) fn split_signed(
    from: NaiveDate,
    to: NaiveDate,
    monthly: bool,
    today: NaiveDate,
) -> Vec<(bool, NaiveDate, NaiveDate, i64)> {
    use chrono::Months;
    let one = chrono::Duration::days(1);
    // Days of `a..=b` up to today.
    let past = |a: NaiveDate, b: NaiveDate| ((b.min(today) - a).num_days() + 1).max(0);
    let mut out = Vec::new();
    for (whole, a, b) in split(from, to, monthly) {
        if whole || !monthly {
            out.push((whole, a, b, 1));
            continue;
        }
        // The days, a month at a time.
        let mut start = a;
        while start <= b {
            let month = durations::month_of(start);
            let Some(end) = month
                .checked_add_months(Months::new(1))
                .map(|next| next - one)
            else {
                out.push((false, start, b, 1));
                break;
            };
            let stop = b.min(end);
            let before = (start > month).then(|| (month, start - one));
            let after = (stop < end).then(|| (stop + one, end));
            let others: i64 = [before, after]
                .iter()
                .flatten()
                .map(|(x, y)| past(*x, *y))
                .sum();
            if others < past(start, stop) {
                out.push((true, month, month, 1));
                out.extend(
                    [before, after]
                        .into_iter()
                        .flatten()
                        .map(|(x, y)| (false, x, y, -1)),
                );
            } else {
                out.push((false, start, stop, 1));
            }
            start = stop + one;
        }
    }
    out
}

/// The first and last month (their first days) a period holds whole, if any.
pub(crate) fn whole_months(from: NaiveDate, to: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    use chrono::{Datelike, Duration, Months};
    let first = if from.day() == 1 {
        from
    } else {
        durations::month_of(from).checked_add_months(Months::new(1))?
    };
    let after = to + Duration::days(1);
    let end = if after.day() == 1 {
        after
    } else {
        durations::month_of(to)
    };
    (first < end).then(|| {
        (
            first,
            end.checked_sub_months(Months::new(1)).unwrap_or(first),
        )
    })
}

/// A group's key columns and one number (a count, or a duration in seconds).
type GroupCount = (Option<i64>, Option<String>, Option<NaiveDate>, i64);

/// Which exact durations: response (on accepted rows) or repair cycle (on completed rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationOf {
    Response,
    Cycle,
}

impl DurationOf {
    fn column(self) -> &'static str {
        match self {
            DurationOf::Response => "response_seconds",
            DurationOf::Cycle => "cycle_seconds",
        }
    }
}

/// A piece of durations as kept in memory: each group's seconds as `u32` (half the bytes),
/// sorted, so a reading selects its medians across the pieces without copying them.
type SortedDurations = Vec<(Key, Arc<[u32]>)>;

/// Every duration of the period per group, in seconds. Finished months come as sorted runs
/// kept in `memo` (read and sorted once); the rest in no particular order.
pub async fn durations(
    db: &Db,
    memo: &Memo<'_>,
    vis: &Visibility,
    q: &FactQuery,
    group: Group,
    which: DurationOf,
) -> Result<HashMap<Key, Seconds>> {
    let mut out: HashMap<Key, Seconds> = HashMap::new();
    for (from, to) in memo.halves(q.from, q.to) {
        let half = FactQuery {
            from,
            to,
            ..q.clone()
        };
        let key = memo.key(
            from,
            to,
            &format!("durations {vis:?} {half:?} {group:?} {which:?}"),
        );
        if let Some(hit) = memo.get::<SortedDurations>(key.as_ref()) {
            for (k, run) in hit.iter() {
                out.entry(k.clone()).or_default().sorted.push(run.clone());
            }
            continue;
        }
        let got = durations_of(db, vis, &half, group, which).await?;
        if key.is_some() {
            let sorted: Option<SortedDurations> = got
                .iter()
                .map(|(k, v)| {
                    let mut secs: Vec<u32> = v
                        .iter()
                        .map(|s| u32::try_from(*s).ok())
                        .collect::<Option<_>>()?;
                    secs.sort_unstable();
                    Some((k.clone(), Arc::from(secs)))
                })
                .collect();
            if let Some(sorted) = sorted {
                let bytes = sorted
                    .iter()
                    .map(|(_, s)| s.len() * 4 + std::mem::size_of::<(Key, Arc<[u32]>)>() + 16)
                    .sum();
                for (k, run) in &sorted {
                    out.entry(k.clone()).or_default().sorted.push(run.clone());
                }
                memo.put(key, Arc::new(sorted), bytes);
                continue;
            }
        }
        for (k, secs) in got {
            out.entry(k).or_default().absorb(secs.into());
        }
    }
    Ok(out)
}

/// [`durations`] from the database.
async fn durations_of(
    db: &Db,
    vis: &Visibility,
    q: &FactQuery,
    group: Group,
    which: DurationOf,
) -> Result<HashMap<Key, Vec<i64>>> {
    if durations::packed_answers(vis, q, group) {
        return durations::read(db, vis, q, group, which).await;
    }
    let (gi, gt, gd) = group_expr(group);
    let col = which.column();
    let mut sql = Sql::new(&format!(
        "SELECT {gi} AS g_id, {gt} AS g_text, {gd} AS g_day, f.{col} AS v"
    ));
    filtered(vis, q, &mut sql);
    sql.push(&format!(" AND f.{col} IS NOT NULL"));
    type DurationRow = GroupCount;
    let rows: Vec<DurationRow> = db.fetch_all(&sql.text, sql.args).await?;
    let mut out: HashMap<Key, Vec<i64>> = HashMap::new();
    for (i, t, d, v) in rows {
        out.entry(key_of(group, i, t, d)).or_default().push(v);
    }
    Ok(out)
}

/// How shifts are summed: the grouping of a KPI reading that has shifts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShiftGroup {
    None,
    /// The technician's unit.
    Unit,
    /// The technician (with their unit).
    Technician,
    /// The local day.
    Day,
    /// The calendar month (its first day).
    Month,
}

/// Technician working days and their length summed per group: the denominators of calls per
/// technician-day and of the on-site share.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ShiftSum {
    pub technician_id: Option<i64>,
    pub org_unit_id: Option<i64>,
    pub day: Option<NaiveDate>,
    /// Shifts (one per technician and working day).
    pub days: i64,
    /// Their lengths, in seconds.
    pub seconds: i64,
}

/// The shifts of the technicians the user may see in the period, summed per `group`: the
/// months the period holds whole from the monthly sums (unless grouped by day), the rest from
/// the shifts.
#[allow(clippy::too_many_arguments)]
pub async fn shifts(
    db: &Db,
    memo: &Memo<'_>,
    vis: &Visibility,
    from: NaiveDate,
    to: NaiveDate,
    units: Option<&[i64]>,
    technician_id: Option<i64>,
    group: ShiftGroup,
) -> Result<Vec<ShiftSum>> {
    const NI: &str = "CAST(NULL AS BIGINT)";
    const ND: &str = "CAST(NULL AS DATE)";
    let mut out = Vec::new();
    let pieces: Vec<(bool, NaiveDate, NaiveDate)> = memo
        .halves(from, to)
        .into_iter()
        .flat_map(|(from, to)| split(from, to, group != ShiftGroup::Day))
        .collect();
    for (monthly, from, to) in pieces {
        let (table, date, days, seconds) = if monthly {
            (
                "shift_months",
                "month",
                "SUM(s.days)".to_string(),
                "SUM(s.seconds)".to_string(),
            )
        } else {
            let length = shift_seconds(db.backend(), "s.");
            (
                "shifts",
                "day",
                "COUNT(*)".to_string(),
                format!("SUM(CASE WHEN s.ends_at > s.starts_at THEN {length} ELSE 0 END)"),
            )
        };
        let (tech, unit, day) = match group {
            ShiftGroup::None => (NI, NI, ND.to_string()),
            ShiftGroup::Unit => (NI, "t.org_unit_id", ND.to_string()),
            ShiftGroup::Technician => ("s.technician_id", "t.org_unit_id", ND.to_string()),
            ShiftGroup::Day | ShiftGroup::Month => (NI, NI, format!("s.{date}")),
        };
        // `+s.technician_id`: SQLite then reads the period's shifts through `shifts_day` and
        // looks each technician up, instead of searching every technician's shifts (13 → 5 ms
        // for a week of the chain's 708 technicians).
        let mut sql = Sql::new(&format!(
            "SELECT {tech} AS technician_id, {unit} AS org_unit_id, {day} AS day, \
             CAST(COALESCE({days}, 0) AS BIGINT) AS days, \
             CAST(COALESCE({seconds}, 0) AS BIGINT) AS seconds \
             FROM {table} s JOIN technicians t ON t.id = +s.technician_id WHERE "
        ));
        let f = sql.arg(from);
        let e = sql.arg(to);
        sql.push(&format!("s.{date} >= {f} AND s.{date} <= {e} AND "));
        // A technician sees own shifts; others their units' technicians.
        let scope = match vis.technician_id {
            Some(t) => format!("t.id = {}", sql.arg(t)),
            None if vis.partner_unit_id.is_some() => "1 = 0".into(),
            None => vis.clause(Scoped::Unit, "t", &mut sql),
        };
        sql.push(&scope);
        if let Some(units) = units {
            sql.push(&format!(" AND t.org_unit_id IN ({})", id_list(units)));
        }
        if let Some(t) = technician_id {
            sql.push_bind(" AND t.id = {}", t);
        }
        sql.push(&group_by(&[tech, unit, &day]));
        let key = memo.key(from, to, &format!("shifts {}\n{:?}", sql.text, sql.args));
        if let Some(hit) = memo.get::<Vec<ShiftSum>>(key.as_ref()) {
            out.extend(hit.iter().cloned());
            continue;
        }
        let rows: Vec<ShiftSum> = db.fetch_all(&sql.text, sql.args).await?;
        let piece: Vec<ShiftSum> = rows
            .into_iter()
            .filter(|r| r.days > 0)
            .map(|mut r| {
                if group == ShiftGroup::Month {
                    r.day = r.day.map(durations::month_of);
                }
                r
            })
            .collect();
        out.extend(piece.iter().cloned());
        let bytes = piece.len() * std::mem::size_of::<ShiftSum>();
        memo.put(key, Arc::new(piece), bytes);
    }
    Ok(out)
}

/// A work order behind a figure: the order of a fact counted, with the fact's day and
/// technician (an order's, or one of its visits' or complaints').
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct FactOrder {
    pub id: i64,
    pub number: String,
    pub status: String,
    pub kind: String,
    pub customer_name: String,
    pub technician_name: Option<String>,
    /// The local date that put it in the period.
    pub day: NaiveDate,
    /// The duration (seconds) for duration KPIs.
    pub seconds: Option<i64>,
}

/// What makes a fact row part of a set: a sum of counters above zero, late unarrived orders,
/// or a duration present.
#[derive(Debug, Clone, PartialEq)]
pub enum Member {
    Counters(Vec<Counter>),
    /// Counters, or a field order without an arrival whose arrive-by passed before `now`.
    CountersOrLate(Vec<Counter>, DateTime<Utc>),
    Duration(DurationOf),
}

/// The facts in the period that are members of `m`, a page of them with the total: a row per
/// order on a basis an order has one fact of (its completion, acceptance or arrive-by: every
/// KPI but the visit and complaint counts), a row per visit or complaint on theirs, each with
/// its order.
pub async fn orders(
    db: &Db,
    memo: &Memo<'_>,
    vis: &Visibility,
    q: &FactQuery,
    m: &Member,
    page: Page,
) -> Result<Paged<FactOrder>> {
    // The facts of one basis are read in the order of the index `kpi_facts_basis_day`, a page
    // costing a page. Counters of several bases (no KPI's set is such) are grouped per order,
    // the page cut after the grouping.
    let basis = match m {
        Member::Counters(cs) | Member::CountersOrLate(cs, _) => {
            let b = cs.first().map(|c| c.basis());
            b.filter(|b| cs.iter().all(|c| c.basis() == *b))
        }
        Member::Duration(DurationOf::Response) => Some(shouhou_domain::kpi::Basis::Accepted),
        Member::Duration(DurationOf::Cycle) => Some(shouhou_domain::kpi::Basis::Completed),
    };
    let cond = match m {
        Member::Counters(cs) | Member::CountersOrLate(cs, _) => {
            let s = cs
                .iter()
                .map(|c| format!("f.{}", c.column()))
                .collect::<Vec<_>>()
                .join(" + ");
            format!("({s}) > 0")
        }
        Member::Duration(d) => format!("f.{} IS NOT NULL", d.column()),
    };
    let seconds = match m {
        Member::Duration(d) => format!("f.{}", d.column()),
        _ => "CAST(NULL AS BIGINT)".to_string(),
    };
    let mut inner = Sql::new(&match basis {
        Some(_) => format!(
            "SELECT f.id AS fact_id, f.work_order_id, f.day AS day, {seconds} AS seconds, \
             f.technician_id AS technician_id"
        ),
        None => format!(
            "SELECT MAX(f.id) AS fact_id, f.work_order_id, MIN(f.day) AS day, \
             MAX({seconds}) AS seconds, MAX(f.technician_id) AS technician_id"
        ),
    });
    filtered(vis, q, &mut inner);
    if let Some(b) = basis {
        // A name of ours, not input: written out, so the planner sees it.
        inner.push(&format!(" AND f.basis = '{}'", basis_name(b)));
    }
    match m {
        Member::CountersOrLate(_, now) => {
            let n = inner.arg(*now);
            inner.push(&format!(
                " AND ({cond} OR (f.late_after IS NOT NULL AND f.late_after <= {n}))"
            ));
        }
        _ => {
            inner.push(&format!(" AND {cond}"));
        }
    }
    let order = if basis.is_some() {
        "f.day DESC, f.work_order_id DESC, f.id DESC"
    } else {
        inner.push(" GROUP BY f.work_order_id");
        "day DESC, f.work_order_id DESC"
    };
    // The total is kept in `memo` under the keys' query and the versions of the period's
    // months: paging through the orders behind a figure counts them once while nothing in the
    // period changes. Late unarrived orders depend on the clock: never kept.
    let total_key = match m {
        Member::CountersOrLate(..) => None,
        _ => memo.key(
            q.from,
            q.to,
            &format!("orders total {}\n{:?}", inner.text, inner.args),
        ),
    };
    let mut known = memo.get::<(i64, bool)>(total_key.as_ref()).map(|t| *t);
    let kept = known.is_some();
    if !kept && basis.is_some() {
        known = figure_total(db, memo, vis, q, m).await?;
    }
    let paged: Paged<FactOrder> = crate::repo::paged_keys(
        db,
        inner,
        order,
        |m| {
            format!(
                "SELECT w.id, w.number, w.status, w.kind, c.name AS customer_name, \
                 u.display_name AS technician_name, m.day, m.seconds \
                 FROM ({m}) m JOIN work_orders w ON w.id = m.work_order_id \
                 JOIN customers c ON c.id = w.customer_id \
                 LEFT JOIN technicians t ON t.id = m.technician_id LEFT JOIN users u ON u.id = t.user_id"
            )
        },
        "m.day DESC, w.id DESC, m.fact_id DESC",
        page,
        known,
    )
    .await?;
    if !kept {
        let total = (paged.total, paged.total_capped);
        memo.put(total_key, Arc::new(total), 16);
    }
    Ok(paged)
}

/// The number of facts of one basis in `m`, where the figure's own reading tells it (exact
/// however many, and equal to the figure by construction), so the list need not count them:
/// - flags (0 or 1 on a fact, at most one of them 1: a single flag, or ratings): their sum;
/// - arrival's denominator: the first arrivals' sum and the late unarrived orders, whose
///   count the figure reads from the facts through a partial index;
/// - a repair cycle: the repair orders completed (`Counter::RepeatDen`: each has its cycle);
/// - a response time: the orders accepted (`Counter::Responded`: each has its response time).
///
/// `None` for the rest (money, questionnaire answers): they are counted.
async fn figure_total(
    db: &Db,
    memo: &Memo<'_>,
    vis: &Visibility,
    q: &FactQuery,
    m: &Member,
) -> Result<Option<(i64, bool)>> {
    // The counters whose sum (with the late unarrived orders, where asked for) is the total.
    // Without late orders the clock is not read.
    let min = DateTime::<Utc>::MIN_UTC;
    let (cs, now, late) = match m {
        Member::Counters(cs) if Counter::sum_counts_facts(cs) => (cs.clone(), min, false),
        Member::CountersOrLate(cs, now) if Counter::sum_counts_facts(cs) => {
            (cs.clone(), *now, true)
        }
        Member::Duration(DurationOf::Cycle) => (vec![Counter::RepeatDen], min, false),
        Member::Duration(DurationOf::Response) => (vec![Counter::Responded], min, false),
        _ => return Ok(None),
    };
    let sums = sums_of(db, memo, vis, q, Group::None, now, &cs, late).await?;
    let idx: Vec<usize> = cs
        .iter()
        .filter_map(|c| Counter::ALL.iter().position(|x| x == c))
        .collect();
    let total = sums
        .iter()
        .map(|(_, s, late)| idx.iter().map(|i| s[*i]).sum::<i64>() + late)
        .sum();
    Ok(Some((total, false)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    #[test]
    fn a_month_to_today_is_the_month_less_its_later_days() {
        // Year to date on 6 December: January–November whole, December as the month less
        // 7–31 December.
        assert_eq!(
            split_signed(d(1, 1), d(12, 6), true, d(12, 6)),
            vec![
                (true, d(1, 1), d(11, 1), 1),
                (true, d(12, 1), d(12, 1), 1),
                (false, d(12, 7), d(12, 31), -1),
            ]
        );
        // A past month's first week: its days (fewer than the rest of the month).
        assert_eq!(
            split_signed(d(11, 1), d(11, 7), true, d(12, 6)),
            vec![(false, d(11, 1), d(11, 7), 1)]
        );
        // Most of a past month: the month less its last days.
        assert_eq!(
            split_signed(d(11, 1), d(11, 25), true, d(12, 6)),
            vec![
                (true, d(11, 1), d(11, 1), 1),
                (false, d(11, 26), d(11, 30), -1)
            ]
        );
        // Days from the 3rd: November less its first two days, December less its later days.
        assert_eq!(
            split_signed(d(11, 3), d(12, 6), true, d(12, 6)),
            vec![
                (true, d(11, 1), d(11, 1), 1),
                (false, d(11, 1), d(11, 2), -1),
                (true, d(12, 1), d(12, 1), 1),
                (false, d(12, 7), d(12, 31), -1),
            ]
        );
        // Four weeks across two months: the first less its first 9 days, the second's 6 days
        // as they are; a fortnight inside a month: its days (fewer than the rest).
        assert_eq!(
            split_signed(d(3, 10), d(4, 6), true, d(12, 6)),
            vec![
                (true, d(3, 1), d(3, 1), 1),
                (false, d(3, 1), d(3, 9), -1),
                (false, d(4, 1), d(4, 6), 1),
            ]
        );
        assert_eq!(
            split_signed(d(3, 10), d(3, 23), true, d(12, 6)),
            vec![(false, d(3, 10), d(3, 23), 1)]
        );
        // Most of a month but its first and last days: the month less both ends.
        assert_eq!(
            split_signed(d(3, 3), d(3, 29), true, d(12, 6)),
            vec![
                (true, d(3, 1), d(3, 1), 1),
                (false, d(3, 1), d(3, 2), -1),
                (false, d(3, 30), d(3, 31), -1),
            ]
        );
        // Grouped by day: as they are.
        assert_eq!(
            split_signed(d(11, 3), d(12, 6), false, d(12, 6)),
            vec![(false, d(11, 3), d(12, 6), 1)]
        );
        assert_eq!(
            split_signed(d(12, 1), d(12, 6), false, d(12, 6)),
            vec![(false, d(12, 1), d(12, 6), 1)]
        );
    }
}
