//! The knowledge base (symptom → cause → fix): searched by everyone, written by managers, admins
//! and senior technicians.

use serde::Deserialize;
use shouhou_domain::kinds::required_text;
use shouhou_domain::{Category, Role, ValidationError};
use shouhou_store::knowledge::{self as store, Article, ArticleText};
use shouhou_store::repo::versions::Versioned;
use shouhou_store::repo::{self, technicians, Page, Paged};
use utoipa::ToSchema;

use crate::{Actor, App, AppError, Result};

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ArticleInput {
    pub category: Category,
    pub product_id: Option<i64>,
    #[schema(min_length = 1, max_length = 100)]
    pub title: String,
    #[schema(min_length = 1, max_length = 2000)]
    pub symptom: String,
    #[schema(min_length = 1, max_length = 2000)]
    pub cause: String,
    #[schema(min_length = 1, max_length = 4000)]
    pub fix: String,
}

/// Managers, admins and senior technicians write articles.
async fn may_write(app: &App, actor: &Actor) -> Result<()> {
    match actor.role() {
        Role::Admin | Role::Manager => Ok(()),
        Role::Technician => {
            let senior = technicians::by_user(&app.db, actor.id())
                .await?
                .is_some_and(|t| t.senior);
            if senior {
                Ok(())
            } else {
                Err(AppError::Forbidden)
            }
        }
        _ => Err(AppError::Forbidden),
    }
}

pub async fn can_write_articles(app: &App, actor: &Actor) -> bool {
    may_write(app, actor).await.is_ok()
}

fn article_text(a: &ArticleInput) -> Result<(String, String, String, String)> {
    Ok((
        required_text(&a.title, "title", 100)?,
        required_text(&a.symptom, "symptom", 2000)?,
        required_text(&a.cause, "cause", 2000)?,
        required_text(&a.fix, "fix", 4000)?,
    ))
}

/// Creates an article (`id` None) or changes one (based on version `if_match` when given).
pub async fn save_article(
    app: &App,
    actor: &Actor,
    id: Option<i64>,
    if_match: Option<i64>,
    a: ArticleInput,
) -> Result<Article> {
    may_write(app, actor).await?;
    let (title, symptom, cause, fix) = article_text(&a)?;
    if let Some(p) = a.product_id {
        repo::products::get(&app.db, p)
            .await
            .map_err(|_| AppError::invalid("product_id", ValidationError::UnknownReference))?;
    }
    let text = ArticleText {
        category: a.category.as_str(),
        product_id: a.product_id,
        title: &title,
        symptom: &symptom,
        cause: &cause,
        fix: &fix,
    };
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let id = match id {
        None => {
            let id = store::add_article(&mut tx, &text, actor.id(), now).await?;
            let after = store::article_tx(&mut tx, id).await?;
            crate::audit::created(app, &mut tx, Some(actor), "kb_article", id, &after).await?;
            id
        }
        Some(id) => {
            let before = store::article_tx(&mut tx, id).await?;
            crate::audit::claim_version(
                &mut tx,
                Versioned::Article,
                "kb_article",
                id,
                if_match,
                before.version,
            )
            .await?;
            store::update_article(&mut tx, id, &text, now).await?;
            let after = store::article_tx(&mut tx, id).await?;
            crate::audit::updated(app, &mut tx, actor, "kb_article", id, &before, &after).await?;
            id
        }
    };
    let a = store::article_tx(&mut tx, id).await?;
    tx.commit().await?;
    Ok(a)
}

pub async fn article(app: &App, id: i64) -> Result<Article> {
    Ok(store::article(&app.db, id).await?)
}

/// Articles matching `q` for a category (the product's own first).
pub async fn search_articles(
    app: &App,
    category: Option<Category>,
    product_id: Option<i64>,
    q: &str,
    page: Page,
) -> Result<Paged<Article>> {
    Ok(store::search_articles(
        &app.db,
        category.map(|c| c.as_str()),
        product_id,
        q.trim(),
        page,
    )
    .await?)
}
