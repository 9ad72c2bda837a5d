//! Satisfaction by item (分项满意度): follow-up questionnaires, the answers of each follow-up, and
//! the answers counted per item over the KPI facts (period, scope, filters and grouping as every
//! other KPI).

use std::collections::BTreeMap;
use std::sync::Arc;

use shouhou_domain::Rating;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::args;
use crate::db::{Db, Tx};
use crate::kpi::{
    daily_group_expr, filtered_on, group_by, key_of, split_signed, FactQuery, Group, Key, Memo,
};
use crate::scope::Sql;
use crate::{Result, Visibility};

/// A follow-up questionnaire: the items asked (besides the overall 整体满意) of the orders of a
/// brand and/or type ('' = any).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Questionnaire {
    pub id: i64,
    pub name: String,
    /// The brand it is for ('' = every brand).
    pub brand: String,
    /// The work-order type it is for ('' = every type).
    pub kind: String,
    pub active: bool,
    /// The items in the order they are asked.
    pub items: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct QRow {
    id: i64,
    name: String,
    brand: String,
    kind: String,
    active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// Every questionnaire, the active ones first, then by brand and type.
pub async fn list(db: &Db) -> Result<Vec<Questionnaire>> {
    let rows: Vec<QRow> = db
        .fetch_all(
            "SELECT id, name, brand, kind, active, created_at, updated_at FROM questionnaires \
             ORDER BY active DESC, brand, kind, id",
            args![],
        )
        .await?;
    let items: Vec<(i64, String)> = db
        .fetch_all(
            "SELECT questionnaire_id, label FROM questionnaire_items ORDER BY questionnaire_id, position",
            args![],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Questionnaire {
            items: items
                .iter()
                .filter(|i| i.0 == r.id)
                .map(|i| i.1.clone())
                .collect(),
            id: r.id,
            name: r.name,
            brand: r.brand,
            kind: r.kind,
            active: r.active,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect())
}

/// One questionnaire.
pub async fn get(db: &Db, id: i64) -> Result<Option<Questionnaire>> {
    Ok(list(db).await?.into_iter().find(|q| q.id == id))
}

/// What an admin sets.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    pub name: &'a str,
    pub brand: &'a str,
    pub kind: &'a str,
    pub active: bool,
    pub items: &'a [String],
}

async fn put_items(tx: &mut Tx, id: i64, items: &[String]) -> Result<()> {
    tx.execute(
        "DELETE FROM questionnaire_items WHERE questionnaire_id = $1",
        args![id],
    )
    .await?;
    for (i, label) in items.iter().enumerate() {
        tx.execute(
            "INSERT INTO questionnaire_items (questionnaire_id, position, label) VALUES ($1,$2,$3)",
            args![id, i as i64 + 1, label.as_str()],
        )
        .await?;
    }
    Ok(())
}

/// A new questionnaire; a conflict when an active one already has its brand and type.
pub async fn create(tx: &mut Tx, f: &Fields<'_>, now: DateTime<Utc>) -> Result<i64> {
    let id = tx
        .insert(
            "INSERT INTO questionnaires (name, brand, kind, active, created_at, updated_at) \
             VALUES ($1,$2,$3,$4,$5,$5) RETURNING id",
            args![f.name, f.brand, f.kind, f.active, now],
        )
        .await?;
    put_items(tx, id, f.items).await?;
    Ok(id)
}

/// Changes a questionnaire (past answers keep the items as they were asked); false when it does
/// not exist.
pub async fn update(tx: &mut Tx, id: i64, f: &Fields<'_>, now: DateTime<Utc>) -> Result<bool> {
    let n = tx
        .execute(
            "UPDATE questionnaires SET name = $1, brand = $2, kind = $3, active = $4, updated_at = $5 \
             WHERE id = $6",
            args![f.name, f.brand, f.kind, f.active, now, id],
        )
        .await?;
    if n == 0 {
        return Ok(false);
    }
    put_items(tx, id, f.items).await?;
    Ok(true)
}

/// The brand of an order's device (none without a device or a brand).
pub async fn order_brand(db: &Db, work_order_id: i64) -> Result<Option<String>> {
    let row: Option<(Option<String>,)> = db
        .fetch_optional(
            "SELECT d.brand FROM work_orders w LEFT JOIN devices d ON d.id = w.device_id WHERE w.id = $1",
            args![work_order_id],
        )
        .await?;
    Ok(row.and_then(|r| r.0).filter(|b| !b.is_empty()))
}

/// One answer of a follow-up: the item as asked, and the rating.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
#[schema(as = FollowUpAnswer)]
pub struct Answer {
    /// 0 for the overall item, then the questionnaire's order.
    pub position: i64,
    pub item: String,
    pub rating: String,
}

/// Stores a follow-up's answers.
pub async fn add_answers(
    tx: &mut Tx,
    follow_up_id: i64,
    work_order_id: i64,
    answers: &[Answer],
) -> Result<()> {
    for a in answers {
        tx.execute(
            "INSERT INTO follow_up_answers (follow_up_id, work_order_id, position, item, rating) \
             VALUES ($1,$2,$3,$4,$5)",
            args![
                follow_up_id,
                work_order_id,
                a.position,
                a.item.as_str(),
                a.rating.as_str()
            ],
        )
        .await?;
    }
    Ok(())
}

/// The answers of an order's follow-up, in the order asked.
pub async fn answers(db: &Db, work_order_id: i64) -> Result<Vec<Answer>> {
    db.fetch_all(
        "SELECT position, item, rating FROM follow_up_answers WHERE work_order_id = $1 ORDER BY position",
        args![work_order_id],
    )
    .await
}

/// A piece of answer counts: group columns, item, rating, count.
type Row = (
    Option<i64>,
    Option<String>,
    Option<chrono::NaiveDate>,
    String,
    String,
    i64,
);

/// A piece read from a table with a column per rating, as a row per rating.
async fn pivoted(db: &Db, sql: Sql, ratings: &[&str]) -> Result<Vec<Row>> {
    type Pivot = (
        Option<i64>,
        Option<String>,
        Option<chrono::NaiveDate>,
        String,
        i64,
        i64,
        i64,
        i64,
    );
    let pivot: Vec<Pivot> = db.fetch_all(&sql.text, sql.args).await?;
    Ok(pivot
        .into_iter()
        .flat_map(|(i, t, d, item, a, b, c, e)| {
            ratings
                .iter()
                .zip([a, b, c, e])
                .map(|(r, n)| (i, t.clone(), d, item.clone(), r.to_string(), n))
                .collect::<Vec<_>>()
        })
        .collect())
}

/// Keeps a piece of answer counts under `key` (its SQL and arguments) in the memo.
fn put(memo: &Memo<'_>, key: Option<String>, rows: &Arc<Vec<Row>>) {
    let bytes = rows.len() * (std::mem::size_of::<Row>() + 32);
    memo.put(key, Arc::clone(rows), bytes);
}

/// Answers per group, item and rating over the orders completed in the period (a follow-up
/// counts on its order's completion day), from the daily answer counts: (group, item, rating,
/// count).
pub async fn counts(
    db: &Db,
    memo: &Memo<'_>,
    vis: &Visibility,
    q: &FactQuery,
    group: Group,
) -> Result<Vec<(Key, String, String, i64)>> {
    // Without a technician, category, brand or type, the counts per unit and item (by month for
    // the whole months, by day around them); otherwise the daily counts of every dimension.
    let per_unit = vis.technician_id.is_none()
        && q.technician_id.is_none()
        && q.category.is_none()
        && q.brand.is_none()
        && q.kind.is_none()
        && matches!(
            group,
            Group::None | Group::Unit | Group::Region | Group::Month
        );
    let mut acc: BTreeMap<(Key, String, String), i64> = BTreeMap::new();
    let pieces: Vec<(bool, chrono::NaiveDate, chrono::NaiveDate, i64)> = memo
        .halves(q.from, q.to)
        .into_iter()
        .flat_map(|(from, to)| split_signed(from, to, per_unit, memo.today()))
        .collect();
    for (by_month, from, to, sign) in pieces {
        let (gi, gt, gd) = daily_group_expr(group);
        let piece = FactQuery {
            from,
            to,
            ..q.clone()
        };
        let rows: Arc<Vec<Row>> = if per_unit {
            // Per unit and item, a column per rating: by month or by day.
            let (table, date) = match by_month {
                true => ("kpi_csi_monthly", "month"),
                false => ("kpi_csi_daily_unit", "day"),
            };
            let gd = gd.replace("f.day", &format!("f.{date}"));
            let ratings: Vec<&str> = Rating::ALL.iter().map(|r| r.as_str()).collect();
            let mut sql = Sql::new(&format!(
                "SELECT {gi} AS g_id, {gt} AS g_text, {gd} AS g_day, f.item, {} FROM {table} f",
                ratings
                    .iter()
                    .map(|r| format!("CAST(SUM(f.{r}) AS BIGINT)"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            filtered_on(date, vis, &piece, &mut sql);
            sql.push(&group_by(&[gi, gt, &gd, "f.item"]));
            let key = memo.key(from, to, &format!("csi {}\n{:?}", sql.text, sql.args));
            match memo.get::<Vec<Row>>(key.as_ref()) {
                Some(hit) => hit,
                None => {
                    let rows = Arc::new(pivoted(db, sql, &ratings).await?);
                    put(memo, key, &rows);
                    rows
                }
            }
        } else {
            let mut sql = Sql::new(&format!(
                "SELECT {gi} AS g_id, {gt} AS g_text, {gd} AS g_day, f.item, f.rating, \
                 CAST(SUM(f.n) AS BIGINT) AS n FROM kpi_csi_daily f"
            ));
            filtered_on("day", vis, &piece, &mut sql);
            sql.push(&group_by(&[gi, gt, gd, "f.item", "f.rating"]));
            sql.push(" HAVING SUM(f.n) <> 0");
            let key = memo.key(from, to, &format!("csi {}\n{:?}", sql.text, sql.args));
            match memo.get::<Vec<Row>>(key.as_ref()) {
                Some(hit) => hit,
                None => {
                    let rows: Arc<Vec<Row>> = Arc::new(db.fetch_all(&sql.text, sql.args).await?);
                    put(memo, key, &rows);
                    rows
                }
            }
        };
        for (i, t, d, item, rating, n) in rows.iter() {
            *acc.entry((
                key_of(group, *i, t.clone(), *d),
                item.clone(),
                rating.clone(),
            ))
            .or_default() += sign * n;
        }
    }
    Ok(acc
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|((k, item, rating), n)| (k, item, rating, n))
        .collect())
}
