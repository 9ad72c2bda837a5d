//! The knowledge base: articles (symptom → cause → fix) by category and product.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::args;
use crate::db::{Db, Tx};
use crate::repo::{paged, Page, Paged};
use crate::scope::Sql;
use crate::Result;

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
