//! The knowledge base: search, read, write articles.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use shouhou_app::knowledge::{self, ArticleInput};
use shouhou_domain::Category;
use shouhou_store::knowledge::Article;
use shouhou_store::repo::Paged;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::extract::{
    tagged, Auth, IfMatch, JsonBody, PageQuery, Paging, Path, Query, TaggedResult,
};
use crate::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct KbQuery {
    pub category: Option<Category>,
    pub product_id: Option<i64>,
    pub q: Option<String>,
}

/// Knowledge-base articles for a category (the product's own first, then the newest) matching
/// every word of `q`.
#[utoipa::path(get, path = "/kb", tag = "kb", params(KbQuery, PageQuery),
    responses((status = 200, body = Paged<Article>), (status = 422)))]
pub async fn search_kb(
    State(s): State<AppState>,
    _a: Auth,
    Query(q): Query<KbQuery>,
    Paging(page): Paging,
) -> Result<Json<Paged<Article>>, ApiError> {
    Ok(Json(
        knowledge::search_articles(
            &s.app,
            q.category,
            q.product_id,
            q.q.as_deref().unwrap_or(""),
            page,
        )
        .await?,
    ))
}

/// Writes an article (managers, admins, senior technicians).
#[utoipa::path(post, path = "/kb", tag = "kb", request_body = ArticleInput, responses((status = 200, body = Article), (status = 403), (status = 422)))]
pub async fn create_article(
    State(s): State<AppState>,
    a: Auth,
    JsonBody(b): JsonBody<ArticleInput>,
) -> Result<Json<Article>, ApiError> {
    Ok(Json(
        knowledge::save_article(&s.app, &a.actor, None, None, b).await?,
    ))
}

#[utoipa::path(get, path = "/kb/{id}", tag = "kb", responses((status = 200, body = Article, headers(("ETag" = String)))))]
pub async fn get_article(
    State(s): State<AppState>,
    _a: Auth,
    Path(id): Path<i64>,
) -> TaggedResult<Article> {
    let r = knowledge::article(&s.app, id).await?;
    let v = r.version;
    Ok(tagged(r, v))
}

#[utoipa::path(put, path = "/kb/{id}", tag = "kb", params(("If-Match" = Option<String>, Header, description = "the ETag the change is based on; a stale one is refused with 412")), request_body = ArticleInput, responses((status = 200, body = Article, headers(("ETag" = String))), (status = 403), (status = 412, description = "the article changed since the ETag sent"), (status = 422)))]
pub async fn update_article(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    IfMatch(if_match): IfMatch,
    JsonBody(b): JsonBody<ArticleInput>,
) -> TaggedResult<Article> {
    let r = knowledge::save_article(&s.app, &a.actor, Some(id), if_match, b).await?;
    let v = r.version;
    Ok(tagged(r, v))
}
