//! Office pages after the visit: sales leads, the knowledge base, QR label
//! sheets, and the clerk's check of self-service requests.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shouhou_app::crm::{self as uc, ArticleInput};
use shouhou_app::AppError;
use shouhou_domain::money::yuan;
use shouhou_domain::{Category, Lang, OpportunityKind, OpportunityStatus, OrgKind};
use shouhou_store::repo::Page as Paging;

use super::{categories, err, html, render, Chrome, Page};
use crate::extract::{Form, Path, Query};
use crate::i18n::T;
use crate::AppState;

/// The leads the page shows (the newest).
const LIST: Paging = Paging::first(200);

pub struct LeadRow {
    id: i64,
    at: String,
    customer: String,
    kind: String,
    value: String,
    note: String,
    order_id: i64,
    number: String,
    status: String,
    open: bool,
}

#[derive(Template)]
#[template(path = "leads.html")]
struct Leads {
    c: Chrome,
    status: String,
    filters: Vec<(String, String)>,
    rows: Vec<LeadRow>,
    open_value: String,
}

#[derive(Deserialize)]
pub struct LeadQuery {
    status: Option<String>,
}

/// `GET /opportunities`: the leads of the user's units.
pub async fn leads(State(s): State<AppState>, p: Page, Query(q): Query<LeadQuery>) -> Response {
    let lang = p.actor.lang;
    let status = q
        .status
        .as_deref()
        .and_then(|x| OpportunityStatus::parse_field(x, "status").ok());
    let list = match uc::opportunities(&s.app, &p.actor, status, LIST).await {
        Ok(v) => v.items,
        Err(e) => return err(e),
    };
    let (open_count, open_value) = uc::open_leads(&s.app, &p.actor).await.unwrap_or_default();
    let mut filters = vec![(String::new(), T(lang).t("common.all"))];
    filters.extend(
        OpportunityStatus::ALL
            .iter()
            .map(|x| (x.as_str().to_string(), x.label(lang).to_string())),
    );
    render(&Leads {
        status: status.map(|x| x.as_str().to_string()).unwrap_or_default(),
        filters,
        rows: list
            .into_iter()
            .map(|o| LeadRow {
                id: o.id,
                at: p.time(&s, o.created_at),
                customer: o.customer_name,
                kind: OpportunityKind::parse_field(&o.kind, "kind")
                    .map(|k| k.label(lang).to_string())
                    .unwrap_or(o.kind),
                value: yuan(o.value_fen),
                note: o.note.unwrap_or_default(),
                order_id: o.work_order_id,
                number: o.work_order_number,
                open: o.status == OpportunityStatus::Open.as_str(),
                status: OpportunityStatus::parse_field(&o.status, "status")
                    .map(|k| k.label(lang).to_string())
                    .unwrap_or(o.status),
            })
            .collect(),
        open_value: format!("{} · {open_count}", yuan(open_value)),
        c: p.chrome(),
    })
}

#[derive(Deserialize)]
pub struct StatusForm {
    status: OpportunityStatus,
}

/// `POST /opportunities/{id}/status` (htmx): won or lost; the page reloads.
pub async fn lead_status(
    State(s): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(f): Form<StatusForm>,
) -> Response {
    match uc::set_opportunity_status(&s.app, &p.actor, id, f.status).await {
        Ok(_) => ([("hx-refresh", "true")], "").into_response(),
        Err(e) => err(e),
    }
}

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

fn article_row(s: &AppState, p: &Page, a: shouhou_store::service::Article) -> ArticleRow {
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

#[derive(Template)]
#[template(path = "labels.html")]
struct LabelsPage {
    c: Chrome,
    stores: Vec<(String, String)>,
}

/// `GET /labels`: pick a store, open its label sheet.
pub async fn labels(State(s): State<AppState>, p: Page) -> Response {
    if !p.actor.role().is_office() {
        return err(AppError::Forbidden);
    }
    let units = shouhou_app::org::list_org_units(&s.app, &p.actor, Paging::LARGEST)
        .await
        .unwrap_or_default()
        .items;
    render(&LabelsPage {
        stores: units
            .into_iter()
            .filter(|u| u.kind != OrgKind::Partner)
            .map(|u| (u.code.clone(), format!("{} ({})", u.name, u.code)))
            .collect(),
        c: p.chrome(),
    })
}

#[derive(Deserialize)]
pub struct SheetQuery {
    store: String,
    offset: Option<i64>,
    limit: Option<i64>,
}

/// The link printed on labels: this server as the browser reached it.
fn base_url(h: &HeaderMap) -> String {
    let host = h
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let proto = h
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("http");
    format!("{proto}://{host}")
}

/// `GET /labels/sheet?store=CODE`: the printable A4 sheet.
pub async fn sheet(
    State(s): State<AppState>,
    p: Page,
    headers: HeaderMap,
    Query(q): Query<SheetQuery>,
) -> Response {
    if !p.actor.role().is_office() {
        return err(AppError::Forbidden);
    }
    let unit = match shouhou_app::labels::store_unit(&s.app, Some(&p.actor), &q.store).await {
        Ok(u) => u,
        Err(e) => return err(e),
    };
    let base = s
        .app
        .settings
        .public_url
        .clone()
        .unwrap_or_else(|| base_url(&headers));
    match shouhou_app::labels::labels(
        &s.app,
        &unit,
        &base,
        q.offset.unwrap_or(0),
        q.limit.unwrap_or(240),
    )
    .await
    {
        Ok(l) => html(shouhou_app::labels::sheet(
            &format!("{} · {}", unit.name, p.t.t("labels.title")),
            &p.t.t("labels.scan"),
            &l,
        )),
        Err(e) => err(e),
    }
}

#[derive(Deserialize)]
pub struct Decision {
    accept: bool,
}

/// `POST /intake/requests/{id}` (htmx): the clerk accepts (creates the order) or rejects a
/// self-service request.
pub async fn decide_request(
    State(s): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(f): Form<Decision>,
) -> Response {
    match shouhou_app::selfservice::decide(&s.app, &p.actor, id, f.accept).await {
        Ok(Some(w)) => html(format!(
            "<li class=\"notice\" id=\"request-{id}\"><a href=\"/work-orders/{}\">{}</a></li>",
            w.id, w.number
        )),
        Ok(None) => html(format!(
            "<li class=\"notice\" id=\"request-{id}\">{}</li>",
            p.t.t("intake.request_rejected")
        )),
        Err(e) => html(format!(
            "<li class=\"error\" id=\"request-{id}\">{}</li>",
            e.message(p.actor.lang).replace('<', "&lt;")
        )),
    }
}

pub struct CallRow {
    id: i64,
    number: String,
    kind: String,
    completed: String,
    age_days: i64,
    customer: String,
    phone: String,
    technician: String,
    /// "2nd call unanswered · next 6/3 09:00", empty before the first call.
    attempts: String,
}

#[derive(Template)]
#[template(path = "follow_ups.html")]
struct FollowUps {
    c: Chrome,
    rows: Vec<CallRow>,
    total: i64,
    ratings: Vec<(String, String)>,
}

/// The orders the page lists (oldest first); the heading shows the true total.
const CALLS: Paging = Paging::first(200);

/// `GET /follow-ups`: every completed order still to call back (回访), oldest first, with its age.
pub async fn follow_ups(State(s): State<AppState>, p: Page) -> Response {
    let lang = p.actor.lang;
    let list = match uc::to_call(&s.app, &p.actor, CALLS).await {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    let today = s.app.today();
    render(&FollowUps {
        total: list.total,
        rows: list
            .items
            .into_iter()
            .map(|r| CallRow {
                id: r.id,
                number: r.number,
                kind: shouhou_domain::WorkOrderType::parse_field(&r.kind, "kind")
                    .map(|k| k.label(lang).to_string())
                    .unwrap_or(r.kind),
                completed: p.time(&s, r.completed_at),
                age_days: (today - s.app.local_date(r.completed_at)).num_days(),
                customer: r.customer,
                phone: r.phone.unwrap_or_default(),
                technician: r.technician.unwrap_or_default(),
                attempts: attempts_note(&p.t, r.attempts, r.retry_at.map(|t| p.time(&s, t))),
            })
            .collect(),
        ratings: shouhou_domain::Rating::ALL
            .iter()
            .map(|r| (r.as_str().to_string(), r.label(lang).to_string()))
            .collect(),
        c: p.chrome(),
    })
}

fn attempts_note(t: &T, attempts: i64, retry: Option<String>) -> String {
    if attempts == 0 {
        return String::new();
    }
    let mut s = t
        .t("followup.attempts")
        .replace("{n}", &attempts.to_string());
    if let Some(r) = retry {
        s.push_str(" · ");
        s.push_str(&t.t("followup.retry_at").replace("{at}", &r));
    }
    s
}

#[derive(Deserialize)]
pub struct AnswerForm {
    outcome: Option<uc::CallOutcome>,
    /// Empty when none was chosen: refused with a message, never defaulted.
    rating: Option<String>,
    comment: Option<String>,
}

/// `POST /follow-ups/{id}` (htmx): the call's outcome. The row keeps its order number and says
/// what happened, linking to the complaint a dissatisfied answer opened; an unanswered call
/// stays on the list with its retry time; an error leaves the form in place.
pub async fn answer(
    State(s): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(f): Form<AnswerForm>,
) -> Response {
    let lang = p.actor.lang;
    let rating = match f.rating.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(r) => match shouhou_domain::Rating::parse_field(r, "rating") {
            Ok(r) => Some(r),
            Err(e) => return call_error(&p, id, AppError::from(e)),
        },
    };
    let input = uc::CallInput {
        outcome: f.outcome.unwrap_or(uc::CallOutcome::Answered),
        rating,
        comment: f.comment,
    };
    let number = shouhou_store::work_orders::get(&s.app.db, &p.actor.vis, id)
        .await
        .map(|w| w.number)
        .unwrap_or_default();
    let link = format!("<a href=\"/work-orders/{id}\">{number}</a>");
    let done = |text: String| {
        html(format!(
            "<tr id=\"call-{id}\" class=\"answered\"><td>{link}</td><td colspan=\"4\" class=\"notice\">{text}</td></tr>"
        ))
    };
    match uc::record_call(&s.app, &p.actor, id, input).await {
        Ok(uc::CallResult::Answered(fu)) => {
            let mut text = shouhou_domain::Rating::parse_field(&fu.rating, "rating")
                .map(|r| r.label(lang).to_string())
                .unwrap_or(fu.rating);
            if let Ok(ks) = shouhou_store::complaints::of_order(&s.app.db, id).await {
                if let Some(k) = ks.iter().find(|k| k.follow_up_id == Some(fu.id)) {
                    text.push_str(&format!(
                        " · <a href=\"/complaints/{}\" class=\"complaint-link\">{}</a>",
                        k.id,
                        p.t.t("followup.complaint_opened")
                    ));
                }
            }
            done(text)
        }
        Ok(uc::CallResult::NoAnswer(n, retry)) => done(
            attempts_note(&p.t, n, retry.map(|t| p.time(&s, t)))
                + if retry.is_none() {
                    format!(" · {}", p.t.t("followup.gave_up"))
                } else {
                    String::new()
                }
                .as_str(),
        ),
        Ok(uc::CallResult::Refused) => done(p.t.t("followup.refused_done")),
        Err(e) => call_error(&p, id, e),
    }
}

/// A refused call: the message above the row's form (the form stays, nothing was saved).
fn call_error(p: &Page, id: i64, e: AppError) -> Response {
    let mut r = html(format!(
        "<p class=\"error\" id=\"call-error-{id}\" data-field=\"{}\">{}</p>",
        e.field().unwrap_or(""),
        e.message(p.actor.lang).replace('<', "&lt;")
    ));
    r.headers_mut().insert(
        "HX-Retarget",
        axum::http::HeaderValue::from_str(&format!("#call-error-{id}"))
            .unwrap_or(axum::http::HeaderValue::from_static("body")),
    );
    r.headers_mut().insert(
        "HX-Reswap",
        axum::http::HeaderValue::from_static("outerHTML"),
    );
    r
}
