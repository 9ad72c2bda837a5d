//! The service report of an order: each visit's report and the customer's signature, parts
//! used, charges, photos and the fee rules that price them; the same rows of many orders at once
//! for list pages.
//!
//! Rows a technician's phone creates carry a `client_key` unique per order: the insert is
//! `ON CONFLICT DO NOTHING` and the row is read back by its key, so a retried request returns the
//! row the first one made instead of a second one.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::args;
use crate::db::{Db, Tx};
use crate::Result;

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct VisitReport {
    /// The visit's id.
    pub id: i64,
    pub seq: i64,
    pub technician_id: Option<i64>,
    pub technician_name: Option<String>,
    pub departed_at: Option<DateTime<Utc>>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub left_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub findings: Option<String>,
    pub work_done: Option<String>,
    pub labour_minutes: Option<i64>,
    /// SVG path data of the customer's signature.
    pub signature: Option<String>,
    pub signed_by: Option<String>,
    pub signed_at: Option<DateTime<Utc>>,
}

const REPORT_COLS: &str = "v.id, v.seq, v.technician_id, u.display_name AS technician_name, v.departed_at, v.arrived_at, v.left_at, v.outcome, v.findings, v.work_done, v.labour_minutes, v.signature, v.signed_by, v.signed_at";
const REPORT_FROM: &str = "visits v LEFT JOIN technicians t ON t.id = v.technician_id LEFT JOIN users u ON u.id = t.user_id";

pub async fn reports(db: &Db, work_order_id: i64) -> Result<Vec<VisitReport>> {
    db.fetch_all(
        &format!(
            "SELECT {REPORT_COLS} FROM {REPORT_FROM} WHERE v.work_order_id = $1 ORDER BY v.seq"
        ),
        args![work_order_id],
    )
    .await
}

/// The reports of many orders at once (the review queue).
pub async fn reports_of(db: &Db, ids: &[i64]) -> Result<Vec<(i64, VisitReport)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let rows: Vec<WithOrder<VisitReport>> = db
        .fetch_all(
            &format!("SELECT v.work_order_id, {REPORT_COLS} FROM {REPORT_FROM} WHERE v.work_order_id IN ({list}) ORDER BY v.work_order_id, v.seq"),
            vec![],
        )
        .await?;
    Ok(rows.into_iter().map(|r| (r.work_order_id, r.row)).collect())
}

#[derive(sqlx::FromRow)]
struct WithOrder<T> {
    work_order_id: i64,
    #[sqlx(flatten)]
    row: T,
}

/// The latest visit of an order (the one a report belongs to), for update.
pub async fn last_visit(tx: &mut Tx, work_order_id: i64) -> Result<Option<VisitReport>> {
    tx.fetch_optional(
        &format!("SELECT {REPORT_COLS} FROM {REPORT_FROM} WHERE v.work_order_id = $1 ORDER BY v.seq DESC LIMIT 1"),
        args![work_order_id],
    )
    .await
}

pub async fn set_report(
    tx: &mut Tx,
    visit_id: i64,
    findings: Option<&str>,
    work_done: Option<&str>,
    labour_minutes: Option<i64>,
) -> Result<()> {
    tx.execute(
        "UPDATE visits SET findings = $1, work_done = $2, labour_minutes = $3 WHERE id = $4",
        args![findings, work_done, labour_minutes, visit_id],
    )
    .await?;
    Ok(())
}

/// Removes the customer's signature of a visit (its report changed after signing).
pub async fn clear_signature(tx: &mut Tx, visit_id: i64) -> Result<()> {
    tx.execute(
        "UPDATE visits SET signature = NULL, signed_by = NULL, signed_at = NULL WHERE id = $1",
        args![visit_id],
    )
    .await?;
    Ok(())
}

pub async fn set_signature(
    tx: &mut Tx,
    visit_id: i64,
    path: &str,
    signed_by: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "UPDATE visits SET signature = $1, signed_by = $2, signed_at = $3 WHERE id = $4",
        args![path, signed_by, at, visit_id],
    )
    .await?;
    Ok(())
}

// ------------------------------------------------------------------------------- fee rules

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct FeeRule {
    pub id: i64,
    /// Work-order type.
    pub kind: String,
    /// Product category, or `*` for any.
    pub category: String,
    pub labour_fen: i64,
    pub travel_fen: i64,
}

const FEE_RULES: &str =
    "SELECT id, kind, category, labour_fen, travel_fen FROM fee_rules ORDER BY kind, category";

pub async fn fee_rules(db: &Db) -> Result<Vec<FeeRule>> {
    db.fetch_all(FEE_RULES, vec![]).await
}

pub async fn fee_rules_tx(tx: &mut Tx) -> Result<Vec<FeeRule>> {
    tx.fetch_all(FEE_RULES, vec![]).await
}

pub async fn replace_fee_rules(tx: &mut Tx, rules: &[FeeRule]) -> Result<()> {
    tx.execute("DELETE FROM fee_rules", vec![]).await?;
    for r in rules {
        tx.execute(
            "INSERT INTO fee_rules (kind, category, labour_fen, travel_fen) VALUES ($1,$2,$3,$4)",
            args![
                r.kind.as_str(),
                r.category.as_str(),
                r.labour_fen,
                r.travel_fen
            ],
        )
        .await?;
    }
    Ok(())
}

// ----------------------------------------------------------------------- parts and charges

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct PartLine {
    pub id: i64,
    pub work_order_id: i64,
    pub visit_id: Option<i64>,
    pub client_key: String,
    pub name: String,
    pub qty: i64,
    pub unit_price_fen: i64,
    pub main_part: bool,
    /// `customer` or `manufacturer`.
    pub payer: String,
    pub created_at: DateTime<Utc>,
}

const PART_COLS: &str = "id, work_order_id, visit_id, client_key, name, qty, unit_price_fen, main_part, payer, created_at";

pub struct NewPartLine<'a> {
    pub work_order_id: i64,
    pub visit_id: Option<i64>,
    pub client_key: &'a str,
    pub name: &'a str,
    pub qty: i64,
    pub unit_price_fen: i64,
    pub main_part: bool,
    pub payer: &'a str,
    pub created_by: i64,
    pub at: DateTime<Utc>,
}

/// Adds a part line once per client key; returns the line and whether this call made it.
pub async fn add_part(tx: &mut Tx, n: NewPartLine<'_>) -> Result<(PartLine, bool)> {
    let made = tx
        .execute(
            "INSERT INTO part_lines (work_order_id, visit_id, client_key, name, qty, unit_price_fen, main_part, payer, created_by, created_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (work_order_id, client_key) DO NOTHING",
            args![n.work_order_id, n.visit_id, n.client_key, n.name, n.qty, n.unit_price_fen, n.main_part, n.payer, n.created_by, n.at],
        )
        .await?
        > 0;
    let line = tx
        .fetch_one(
            &format!(
                "SELECT {PART_COLS} FROM part_lines WHERE work_order_id = $1 AND client_key = $2"
            ),
            args![n.work_order_id, n.client_key],
        )
        .await?;
    Ok((line, made))
}

pub async fn remove_part(tx: &mut Tx, work_order_id: i64, id: i64) -> Result<Option<PartLine>> {
    let line: Option<PartLine> = tx
        .fetch_optional(
            &format!("SELECT {PART_COLS} FROM part_lines WHERE work_order_id = $1 AND id = $2"),
            args![work_order_id, id],
        )
        .await?;
    if line.is_some() {
        tx.execute(
            "DELETE FROM part_lines WHERE work_order_id = $1 AND id = $2",
            args![work_order_id, id],
        )
        .await?;
    }
    Ok(line)
}

pub async fn parts(db: &Db, work_order_id: i64) -> Result<Vec<PartLine>> {
    db.fetch_all(
        &format!("SELECT {PART_COLS} FROM part_lines WHERE work_order_id = $1 ORDER BY id"),
        args![work_order_id],
    )
    .await
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Charge {
    pub id: i64,
    pub work_order_id: i64,
    pub visit_id: i64,
    /// `labour` or `travel`.
    pub kind: String,
    pub amount_fen: i64,
    pub payer: String,
}

/// Replaces the labour and travel charges of a visit (priced again when its report changes).
pub async fn set_charges(
    tx: &mut Tx,
    work_order_id: i64,
    visit_id: i64,
    lines: &[(&str, i64, &str)],
) -> Result<()> {
    tx.execute("DELETE FROM charges WHERE visit_id = $1", args![visit_id])
        .await?;
    for (kind, amount, payer) in lines {
        tx.execute(
            "INSERT INTO charges (work_order_id, visit_id, kind, amount_fen, payer) VALUES ($1,$2,$3,$4,$5)",
            args![work_order_id, visit_id, *kind, *amount, *payer],
        )
        .await?;
    }
    Ok(())
}

pub async fn charges(db: &Db, work_order_id: i64) -> Result<Vec<Charge>> {
    db.fetch_all(
        "SELECT id, work_order_id, visit_id, kind, amount_fen, payer FROM charges WHERE work_order_id = $1 ORDER BY visit_id, id",
        args![work_order_id],
    )
    .await
}

// ---------------------------------------------------------------------------------- photos

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Photo {
    pub id: i64,
    pub work_order_id: i64,
    pub visit_id: Option<i64>,
    pub content_type: String,
    pub width: i64,
    pub height: i64,
    pub created_at: DateTime<Utc>,
}

const PHOTO_COLS: &str = "id, work_order_id, visit_id, content_type, width, height, created_at";

#[derive(sqlx::FromRow)]
pub struct PhotoBytes {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[allow(clippy::too_many_arguments)]
pub async fn add_photo(
    tx: &mut Tx,
    work_order_id: i64,
    visit_id: Option<i64>,
    client_key: &str,
    content_type: &str,
    (width, height): (i64, i64),
    bytes: Vec<u8>,
    created_by: i64,
    at: DateTime<Utc>,
) -> Result<(Photo, bool)> {
    let made = tx
        .execute(
            "INSERT INTO photos (work_order_id, visit_id, client_key, content_type, width, height, bytes, created_by, created_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (work_order_id, client_key) DO NOTHING",
            args![work_order_id, visit_id, client_key, content_type, width, height, bytes, created_by, at],
        )
        .await?
        > 0;
    let p = tx
        .fetch_one(
            &format!(
                "SELECT {PHOTO_COLS} FROM photos WHERE work_order_id = $1 AND client_key = $2"
            ),
            args![work_order_id, client_key],
        )
        .await?;
    Ok((p, made))
}

pub async fn photos(db: &Db, work_order_id: i64) -> Result<Vec<Photo>> {
    db.fetch_all(
        &format!("SELECT {PHOTO_COLS} FROM photos WHERE work_order_id = $1 ORDER BY id"),
        args![work_order_id],
    )
    .await
}

pub async fn photo_bytes(db: &Db, work_order_id: i64, id: i64) -> Result<PhotoBytes> {
    db.fetch_one(
        "SELECT content_type, bytes FROM photos WHERE work_order_id = $1 AND id = $2",
        args![work_order_id, id],
    )
    .await
}

// ------------------------------------------------------------------- batches for list pages

fn ids_sql(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

pub async fn parts_of(db: &Db, ids: &[i64]) -> Result<Vec<PartLine>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    db.fetch_all(
        &format!(
            "SELECT {PART_COLS} FROM part_lines WHERE work_order_id IN ({}) ORDER BY id",
            ids_sql(ids)
        ),
        vec![],
    )
    .await
}

pub async fn charges_of(db: &Db, ids: &[i64]) -> Result<Vec<Charge>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    db.fetch_all(
        &format!("SELECT id, work_order_id, visit_id, kind, amount_fen, payer FROM charges WHERE work_order_id IN ({}) ORDER BY id", ids_sql(ids)),
        vec![],
    )
    .await
}

pub async fn photos_of(db: &Db, ids: &[i64]) -> Result<Vec<Photo>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    db.fetch_all(
        &format!(
            "SELECT {PHOTO_COLS} FROM photos WHERE work_order_id IN ({}) ORDER BY id",
            ids_sql(ids)
        ),
        vec![],
    )
    .await
}
