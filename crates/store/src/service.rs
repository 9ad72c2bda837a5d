//! The field side of an order: visit reports, parts used, charges, photos, fee rules, sales
//! leads, knowledge-base articles, follow-ups and self-service requests.
//!
//! Rows a technician's phone creates carry a `client_key` unique per order: the insert is
//! `ON CONFLICT DO NOTHING` and the row is read back by its key, so a retried request returns the
//! row the first one made instead of a second one.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::args;
use crate::db::{Db, Tx};
use crate::repo::{paged, Page, Paged};
use crate::scope::{Scoped, Sql, Visibility};
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

// --------------------------------------------------------------------------- opportunities

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
    let mut q = Sql::new(&format!("{OPP_SELECT} WHERE "));
    let cl = vis.clause(Scoped::Unit, "o", &mut q);
    q.push(&cl);
    if let Some(s) = status {
        q.push_bind(" AND o.status = {}", s);
    }
    paged(db, q, "o.created_at DESC, o.id DESC", page).await
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

// -------------------------------------------------------------------------- knowledge base

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Article {
    pub id: i64,
    pub category: String,
    pub product_id: Option<i64>,
    pub title: String,
    pub symptom: String,
    pub cause: String,
    pub fix: String,
    pub author_id: i64,
    pub author_name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Raised by every change; send it back as `If-Match` (the ETag) to change the article.
    pub version: i64,
}

const ARTICLE_SELECT: &str = "SELECT a.id, a.category, a.product_id, a.title, a.symptom, a.cause, a.fix, a.author_id, u.display_name AS author_name, a.created_at, a.updated_at, a.version FROM kb_articles a JOIN users u ON u.id = a.author_id";

pub struct ArticleText<'a> {
    pub category: &'a str,
    pub product_id: Option<i64>,
    pub title: &'a str,
    pub symptom: &'a str,
    pub cause: &'a str,
    pub fix: &'a str,
}

pub async fn add_article(
    tx: &mut Tx,
    a: &ArticleText<'_>,
    author: i64,
    at: DateTime<Utc>,
) -> Result<i64> {
    tx.insert(
        "INSERT INTO kb_articles (category, product_id, title, symptom, cause, fix, author_id, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8) RETURNING id",
        args![a.category, a.product_id, a.title, a.symptom, a.cause, a.fix, author, at],
    )
    .await
}

pub async fn update_article(
    tx: &mut Tx,
    id: i64,
    a: &ArticleText<'_>,
    at: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "UPDATE kb_articles SET category=$1, product_id=$2, title=$3, symptom=$4, cause=$5, fix=$6, updated_at=$7 WHERE id=$8",
        args![a.category, a.product_id, a.title, a.symptom, a.cause, a.fix, at, id],
    )
    .await?;
    Ok(())
}

pub async fn article(db: &Db, id: i64) -> Result<Article> {
    db.fetch_one(&format!("{ARTICLE_SELECT} WHERE a.id = $1"), args![id])
        .await
}

pub async fn article_tx(tx: &mut Tx, id: i64) -> Result<Article> {
    tx.fetch_one(&format!("{ARTICLE_SELECT} WHERE a.id = $1"), args![id])
        .await
}

/// Articles for a category (and the product's own first), matching every word of `q` in the
/// title, symptom, cause or fix.
pub async fn search_articles(
    db: &Db,
    category: Option<&str>,
    product_id: Option<i64>,
    q: &str,
    page: Page,
) -> Result<Paged<Article>> {
    let mut s = Sql::new(&format!("{ARTICLE_SELECT} WHERE 1=1"));
    if let Some(c) = category {
        s.push_bind(" AND a.category = {}", c);
    }
    for word in q.split_whitespace().take(5) {
        let p = s.arg(format!("%{}%", word.replace(['%', '_'], "")));
        s.push(&format!(
            " AND (a.title LIKE {p} OR a.symptom LIKE {p} OR a.cause LIKE {p} OR a.fix LIKE {p})"
        ));
    }
    // The product's id is a number, written into the order so the count needs no argument.
    let order = match product_id {
        Some(pid) => format!(
            "CASE WHEN a.product_id = {pid} THEN 0 ELSE 1 END, a.updated_at DESC, a.id DESC"
        ),
        None => "a.updated_at DESC, a.id DESC".to_string(),
    };
    paged(db, s, &order, page).await
}

// ------------------------------------------------------------------------------ follow-ups

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct FollowUp {
    pub id: i64,
    pub work_order_id: i64,
    pub rating: String,
    pub comment: Option<String>,
    pub channel: String,
    pub user_id: Option<i64>,
    pub at: DateTime<Utc>,
}

const FOLLOW_COLS: &str = "id, work_order_id, rating, comment, channel, user_id, at";

pub async fn follow_up(db: &Db, work_order_id: i64) -> Result<Option<FollowUp>> {
    db.fetch_optional(
        &format!("SELECT {FOLLOW_COLS} FROM follow_ups WHERE work_order_id = $1"),
        args![work_order_id],
    )
    .await
}

/// Records the answer once per order; `None` when the order already has one.
pub async fn add_follow_up(
    tx: &mut Tx,
    work_order_id: i64,
    rating: &str,
    comment: Option<&str>,
    channel: &str,
    user_id: Option<i64>,
    at: DateTime<Utc>,
) -> Result<Option<FollowUp>> {
    let made = tx
        .execute(
            "INSERT INTO follow_ups (work_order_id, rating, comment, channel, user_id, at) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (work_order_id) DO NOTHING",
            args![work_order_id, rating, comment, channel, user_id, at],
        )
        .await?;
    if made == 0 {
        return Ok(None);
    }
    tx.fetch_optional(
        &format!("SELECT {FOLLOW_COLS} FROM follow_ups WHERE work_order_id = $1"),
        args![work_order_id],
    )
    .await
}

// ------------------------------------------------------------------- self-service requests

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

// ----------------------------------------------------------------------------- helpers

#[derive(sqlx::FromRow)]
struct IdUnit {
    id: i64,
    org_unit_id: i64,
}

/// The first active user with `role` in each of `units`: (unit, user).
pub async fn users_with_role(db: &Db, units: &[i64], role: &str) -> Result<Vec<(i64, i64)>> {
    if units.is_empty() {
        return Ok(vec![]);
    }
    let list = units
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let rows: Vec<IdUnit> = db
        .fetch_all(
            &format!("SELECT id, org_unit_id FROM users WHERE role = $1 AND active AND org_unit_id IN ({list}) ORDER BY id"),
            args![role],
        )
        .await?;
    Ok(rows.into_iter().map(|r| (r.org_unit_id, r.id)).collect())
}

/// The user that stands for the customer on self-service orders: inactive, no usable password,
/// so it cannot sign in; created on first use under `unit`.
pub async fn self_service_user(tx: &mut Tx, unit: i64, at: DateTime<Utc>) -> Result<i64> {
    #[derive(sqlx::FromRow)]
    struct Id {
        id: i64,
    }
    if let Some(u) = tx
        .fetch_optional::<Id>(
            "SELECT id FROM users WHERE username = 'self-service'",
            vec![],
        )
        .await?
    {
        return Ok(u.id);
    }
    tx.insert(
        "INSERT INTO users (username, display_name, password_hash, role, org_unit_id, active, created_at, updated_at) \
         VALUES ('self-service', '客户自助', '!', 'clerk', $1, FALSE, $2, $2) RETURNING id",
        args![unit, at],
    )
    .await
}

// ------------------------------------------------------------------- batches for list pages

fn ids_sql(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
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
            ids_sql(ids)
        ),
        vec![],
    )
    .await
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

/// A completed order still waiting for its follow-up call.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ToCall {
    pub id: i64,
    pub number: String,
    pub kind: String,
    pub completed_at: DateTime<Utc>,
    pub customer: String,
    pub phone: Option<String>,
    pub technician: Option<String>,
    /// Calls that were not answered so far.
    pub attempts: i64,
    /// When the next call is due after an unanswered one.
    pub retry_at: Option<DateTime<Utc>>,
}

/// Completed orders with no follow-up answer, not refused and called fewer than `max_attempts`
/// times without an answer, oldest first, whatever their age.
pub async fn to_call(
    db: &Db,
    vis: &Visibility,
    max_attempts: i64,
    page: Page,
) -> Result<Paged<ToCall>> {
    let mut q = Sql::new(
        "SELECT wo.id, wo.number, wo.kind, wo.completed_at, c.name AS customer, \
           (SELECT ph.phone FROM customer_phones ph WHERE ph.customer_id = c.id ORDER BY ph.position LIMIT 1) AS phone, \
           u.display_name AS technician, \
           (SELECT COUNT(*) FROM follow_up_calls fc WHERE fc.work_order_id = wo.id AND fc.outcome = 'no_answer') AS attempts, \
           (SELECT MAX(fc.retry_at) FROM follow_up_calls fc WHERE fc.work_order_id = wo.id) AS retry_at \
         FROM work_orders wo JOIN customers c ON c.id = wo.customer_id \
         LEFT JOIN technicians t ON t.id = wo.technician_id LEFT JOIN users u ON u.id = t.user_id WHERE ",
    );
    let cl = vis.clause(Scoped::WorkOrder, "wo", &mut q);
    q.push(&cl);
    q.push(" AND wo.status IN ('completed', 'reviewed', 'closed')");
    q.push(" AND NOT EXISTS (SELECT 1 FROM follow_ups f WHERE f.work_order_id = wo.id)");
    q.push(" AND NOT EXISTS (SELECT 1 FROM follow_up_calls fc WHERE fc.work_order_id = wo.id AND fc.outcome = 'refused')");
    q.push_bind(
        " AND (SELECT COUNT(*) FROM follow_up_calls fc WHERE fc.work_order_id = wo.id AND fc.outcome = 'no_answer') < {}",
        max_attempts,
    );
    paged(db, q, "wo.completed_at, wo.id", page).await
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
