//! The knowledge base: the office page (search and write) and the phone's (search, with the way
//! back to the order).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use shouhou_app::knowledge::{self as uc, ArticleInput};
use shouhou_domain::{Category, Lang};
use shouhou_store::repo::Page as Paging;

use super::{categories, err, html, render, Chrome, Page};
use crate::extract::{Form, Query};
use crate::i18n::T;
use crate::AppState;

pub struct ArticleRow {
    title: String,
    category: String,
    symptom: String,
    cause: String,
    fix: String,
    author: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "kb.html")]
struct Kb {
    c: Chrome,
    categories: Vec<(String, String)>,
    category: String,
    product: String,
    q: String,
    articles: Vec<ArticleRow>,
    may_write: bool,
    form: String,
}

#[derive(Template)]
#[template(path = "kb_form_partial.html")]
struct KbForm<'a> {
    t: T,
    categories: &'a [(String, String)],
    category: String,
    /// (name, label, value, rows)
    fields: Vec<(&'static str, String, String, usize)>,
    saved: bool,
    error: String,
    error_field: String,
}

fn kb_form(
    lang: Lang,
    a: Option<&ArticleForm>,
    saved: bool,
    error: String,
    error_field: String,
) -> String {
    let t = T(lang);
    let v = |f: fn(&ArticleForm) -> &String| a.map(|a| f(a).clone()).unwrap_or_default();
    KbForm {
        t,
        categories: &categories(lang),
        category: a.map(|a| a.category.clone()).unwrap_or_default(),
        fields: vec![
            ("title", t.t("kb.title"), v(|a| &a.title), 1),
            ("symptom", t.t("kb.symptom"), v(|a| &a.symptom), 3),
            ("cause", t.t("kb.cause"), v(|a| &a.cause), 3),
            ("fix", t.t("kb.fix"), v(|a| &a.fix), 4),
        ],
        saved,
        error,
        error_field,
    }
    .render()
    .unwrap_or_default()
}

#[derive(Deserialize)]
pub struct KbQuery {
    category: Option<String>,
    product: Option<String>,
    q: Option<String>,
    /// On the phone: the order the technician came from (the way back).
    order: Option<String>,
}

#[derive(Template)]
#[template(path = "tech_kb.html")]
struct KbPhone {
    c: Chrome,
    categories: Vec<(String, String)>,
    category: String,
    product: String,
    order: String,
    q: String,
    articles: Vec<ArticleRow>,
}

/// `GET /tech/kb`: the knowledge base in the phone's layout, searched as on the office page,
/// with the way back to the order the technician came from.
pub async fn kb_phone(State(s): State<AppState>, p: Page, Query(q): Query<KbQuery>) -> Response {
    let lang = p.actor.lang;
    let category = q
        .category
        .as_deref()
        .filter(|c| !c.is_empty())
        .and_then(|c| Category::parse_field(c, "category").ok());
    let product = q.product.as_deref().and_then(|x| x.parse::<i64>().ok());
    let order = q.order.as_deref().and_then(|x| x.parse::<i64>().ok());
    let words = q.q.clone().unwrap_or_default();
    let list = match uc::search_articles(&s.app, category, product, &words, Paging::first(50)).await
    {
        Ok(v) => v.items,
        Err(e) => return err(e),
    };
    render(&KbPhone {
        categories: categories(lang),
        category: category.map(|c| c.as_str().to_string()).unwrap_or_default(),
        product: product.map(|x| x.to_string()).unwrap_or_default(),
        order: order.map(|x| x.to_string()).unwrap_or_default(),
        q: words,
        articles: list.into_iter().map(|a| article_row(&s, &p, a)).collect(),
        c: p.chrome(),
    })
}

fn article_row(s: &AppState, p: &Page, a: shouhou_store::knowledge::Article) -> ArticleRow {
    ArticleRow {
        category: Category::parse_field(&a.category, "category")
            .map(|c| c.label(p.actor.lang).to_string())
            .unwrap_or(a.category),
        title: a.title,
        symptom: a.symptom,
        cause: a.cause,
        fix: a.fix,
        author: a.author_name,
        updated: p.time(s, a.updated_at),
    }
}

/// `GET /kb`: search by category (the product's own articles first) and words.
pub async fn kb(State(s): State<AppState>, p: Page, Query(q): Query<KbQuery>) -> Response {
    let lang = p.actor.lang;
    let category = q
        .category
        .as_deref()
        .filter(|c| !c.is_empty())
        .and_then(|c| Category::parse_field(c, "category").ok());
    let product = q.product.as_deref().and_then(|x| x.parse::<i64>().ok());
    let words = q.q.clone().unwrap_or_default();
    let list = match uc::search_articles(&s.app, category, product, &words, Paging::first(50)).await
    {
        Ok(v) => v.items,
        Err(e) => return err(e),
    };
    let may_write = uc::can_write_articles(&s.app, &p.actor).await;
    render(&Kb {
        categories: categories(lang),
        category: category.map(|c| c.as_str().to_string()).unwrap_or_default(),
        product: product.map(|x| x.to_string()).unwrap_or_default(),
        q: words,
        articles: list.into_iter().map(|a| article_row(&s, &p, a)).collect(),
        may_write,
        form: if may_write {
            kb_form(lang, None, false, String::new(), String::new())
        } else {
            String::new()
        },
        c: p.chrome(),
    })
}

#[derive(Deserialize)]
pub struct ArticleForm {
    category: String,
    title: String,
    symptom: String,
    cause: String,
    fix: String,
}

/// `POST /kb` (htmx): a new article; a refusal keeps the text and marks the field.
pub async fn kb_create(State(s): State<AppState>, p: Page, Form(f): Form<ArticleForm>) -> Response {
    let lang = p.actor.lang;
    let category = match Category::parse_field(&f.category, "category") {
        Ok(c) => c,
        Err(e) => {
            return html(kb_form(
                lang,
                Some(&f),
                false,
                e.detail(lang),
                "category".into(),
            ))
        }
    };
    let input = ArticleInput {
        category,
        product_id: None,
        title: f.title.clone(),
        symptom: f.symptom.clone(),
        cause: f.cause.clone(),
        fix: f.fix.clone(),
    };
    match uc::save_article(&s.app, &p.actor, None, None, input).await {
        Ok(_) => html(kb_form(lang, None, true, String::new(), String::new())),
        Err(e) => {
            let field = e.field().unwrap_or("").to_string();
            let msg = if field.is_empty() {
                e.message(lang)
            } else {
                e.detail(lang)
            };
            html(kb_form(lang, Some(&f), false, msg, field))
        }
    }
}
