//! The complaints pages (投诉): the list of the user's units — open, overdue, closed — with the
//! customer, order, technician, category, severity, owner, due time, escalation and the latest
//! action; one complaint with its log, where its owner adds what was done, changes owner,
//! category or severity, escalates and closes it; and registering one from an order's page.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use shouhou_app::complaints::{self as uc, Show};
use shouhou_app::AppError;
use shouhou_domain::{ComplaintActionKind, ComplaintCategory, ComplaintStatus, Lang, Severity};
use shouhou_store::complaints::Complaint;
use shouhou_store::repo::Page as Paging;

use super::{err, render, Chrome, Page};
use crate::extract::{Form, Path, Query};
use crate::AppState;

const PAGE: i64 = 50;

#[derive(Debug, Deserialize, Default)]
pub struct ListForm {
    show: Option<String>,
    severity: Option<String>,
    offset: Option<i64>,
}

/// One complaint as a list row or the detail page shows it.
pub struct Row {
    pub id: i64,
    pub created_at: String,
    pub customer: String,
    pub customer_id: i64,
    pub order_id: i64,
    pub number: String,
    pub technician: String,
    pub category: String,
    pub severity: String,
    pub severe: bool,
    pub owner: String,
    pub due: String,
    pub overdue: bool,
    /// "已升级至 X" with when, or "—".
    pub escalation: String,
    pub status: String,
    pub open: bool,
    pub description: String,
    /// The latest entry of the log, in words, with its time.
    pub last_action: String,
}

fn category_label(v: &str, lang: Lang) -> String {
    ComplaintCategory::parse_field(v, "category")
        .map(|c| c.label(lang).to_string())
        .unwrap_or_else(|_| v.to_string())
}

fn severity_label(v: &str, lang: Lang) -> String {
    Severity::parse_field(v, "severity")
        .map(|c| c.label(lang).to_string())
        .unwrap_or_else(|_| v.to_string())
}

/// A complaint in the reader's words and time zone.
pub fn row(s: &AppState, p: &Page, k: &Complaint) -> Row {
    let lang = p.actor.lang;
    let open = k.status == ComplaintStatus::Open.as_str();
    let escalation = match (&k.escalated_to_name, k.escalated_at) {
        (Some(n), Some(at)) => {
            p.t.t("complaint.escalated_to")
                .replace("{name}", n)
                .replace("{at}", &p.time(s, at))
        }
        _ => "—".into(),
    };
    let last_action = match (&k.last_action_kind, k.last_action_at) {
        (Some(kind), Some(at)) => {
            let kind =
                ComplaintActionKind::parse_field(kind, "kind").unwrap_or(ComplaintActionKind::Note);
            let text = k.last_action.clone().unwrap_or_default();
            let words = match kind {
                ComplaintActionKind::Note => text,
                _ if text.is_empty() => kind.label(lang).to_string(),
                _ => format!("{}{}{text}", kind.label(lang), lang.pick("：", ": ")),
            };
            format!("{} {words}", p.time(s, at))
        }
        _ => "—".into(),
    };
    Row {
        id: k.id,
        created_at: p.time(s, k.created_at),
        customer: k.customer_name.clone(),
        customer_id: k.customer_id,
        order_id: k.work_order_id,
        number: k.work_order_number.clone(),
        technician: k.technician_name.clone().unwrap_or_else(|| "—".into()),
        category: category_label(&k.category, lang),
        severity: severity_label(&k.severity, lang),
        severe: k.severity == Severity::Severe.as_str(),
        owner: k.owner_name.clone().unwrap_or_else(|| "—".into()),
        due: p.time(s, k.due_at),
        overdue: uc::overdue(&s.app, k),
        escalation,
        status: ComplaintStatus::parse_field(&k.status, "status")
            .map(|x| x.label(lang).to_string())
            .unwrap_or_else(|_| k.status.clone()),
        open,
        description: k.description.clone(),
        last_action,
    }
}

#[derive(Template)]
#[template(path = "complaints.html")]
struct ListPage {
    c: Chrome,
    /// (value, label) of the tabs: open, overdue, closed, all.
    tabs: Vec<(String, String)>,
    show: String,
    severities: Vec<(String, String)>,
    severity: String,
    heading: String,
    rows: Vec<Row>,
    prev: Option<String>,
    next: Option<String>,
}

/// `GET /complaints`: the complaints of the user's units, open ones soonest due first.
pub async fn list(State(s): State<AppState>, p: Page, Query(q): Query<ListForm>) -> Response {
    let lang = p.actor.lang;
    let show = q
        .show
        .as_deref()
        .and_then(Show::parse)
        .unwrap_or(Show::Open);
    let severity = q
        .severity
        .as_deref()
        .and_then(|v| Severity::parse_field(v, "severity").ok());
    let offset = q.offset.unwrap_or(0).max(0);
    let query = uc::ListQuery {
        show: Some(show),
        severity,
        work_order_id: None,
    };
    let page = match uc::list(
        &s.app,
        &p.actor,
        &query,
        Paging {
            limit: PAGE,
            offset,
        },
    )
    .await
    {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    let link = |off: i64| {
        let mut u = format!("/complaints?show={}&offset={off}", show.as_str());
        if let Some(sv) = severity {
            u.push_str(&format!("&severity={}", sv.as_str()));
        }
        u
    };
    let tabs = Show::ALL
        .iter()
        .map(|x| {
            (
                x.as_str().to_string(),
                p.t.t(&format!("complaint.show.{}", x.as_str())),
            )
        })
        .collect();
    render(&ListPage {
        tabs,
        show: show.as_str().to_string(),
        severities: Severity::ALL
            .iter()
            .map(|x| (x.as_str().to_string(), x.label(lang).to_string()))
            .collect(),
        severity: severity.map(|x| x.as_str().to_string()).unwrap_or_default(),
        heading: p
            .t
            .t("complaint.heading")
            .replace("{n}", &page.total_text()),
        rows: page.items.iter().map(|k| row(&s, &p, k)).collect(),
        prev: (offset > 0).then(|| link((offset - PAGE).max(0))),
        next: page.has_more().then(|| link(offset + PAGE)),
        c: p.chrome(),
    })
}

/// An entry of the log: (when, who, what).
type LogRow = (String, String, String);

#[derive(Template)]
#[template(path = "complaint.html")]
struct DetailPage {
    c: Chrome,
    k: Row,
    version: i64,
    phone: String,
    /// 回访不满意 or 人工登记 (by whom).
    source: String,
    resolution: String,
    closed_at: String,
    closed_late: bool,
    /// Who registered it ("—" for a customer's own rating).
    opened_by: String,
    /// Who the next escalation goes to (none at the top).
    next_up: Option<String>,
    may_work: bool,
    owners: Vec<(i64, String)>,
    owner_id: i64,
    categories: Vec<(String, String)>,
    category: String,
    severities: Vec<(String, String)>,
    severity: String,
    log: Vec<LogRow>,
}

/// `GET /complaints/{id}`: one complaint, its log and what its owner may do.
pub async fn detail(State(s): State<AppState>, p: Page, Path(id): Path<i64>) -> Response {
    let lang = p.actor.lang;
    let k = match uc::get(&s.app, &p.actor, id).await {
        Ok(k) => k,
        Err(e) => return err(e),
    };
    let phone = shouhou_store::repo::customers::get(&s.app.db, &p.actor.vis, k.customer_id)
        .await
        .ok()
        .and_then(|c| c.phones.first().cloned())
        .unwrap_or_default();
    let opened_by = match k.created_by {
        Some(u) => shouhou_store::repo::users::get(&s.app.db, u)
            .await
            .map(|u| u.display_name)
            .unwrap_or_default(),
        None => "—".into(),
    };
    let source = match k.follow_up_id {
        Some(_) => p.t.t("complaint.from_follow_up"),
        None => p.t.t("complaint.by_hand").replace("{name}", &opened_by),
    };
    let open = k.status == ComplaintStatus::Open.as_str();
    let may_work = open && uc::WORKERS.contains(&p.actor.role());
    let next_up = if open {
        uc::escalation_target(&s.app, &k)
            .await
            .ok()
            .flatten()
            .map(|(_, n)| n)
    } else {
        None
    };
    let owners = if may_work {
        uc::owner_choices(&s.app, &p.actor, k.org_unit_id)
            .await
            .unwrap_or_default()
    } else {
        vec![]
    };
    let log = uc::actions(&s.app, &p.actor, id, Paging::LARGEST)
        .await
        .map(|l| l.items)
        .unwrap_or_default()
        .iter()
        .map(|a| {
            (
                p.time(&s, a.at),
                a.user_name
                    .clone()
                    .unwrap_or_else(|| p.t.t("complaint.system")),
                uc::action_text(a, lang),
            )
        })
        .collect();
    render(&DetailPage {
        version: k.version,
        phone,
        source,
        resolution: k.resolution.clone().unwrap_or_default(),
        closed_at: k.closed_at.map(|t| p.time(&s, t)).unwrap_or_default(),
        closed_late: k.closed_at.is_some()
            && !shouhou_domain::complaints::closed_on_time(k.due_at, k.closed_at),
        opened_by,
        next_up,
        may_work,
        owners,
        owner_id: k.owner_id.unwrap_or(0),
        categories: ComplaintCategory::ALL
            .iter()
            .map(|x| (x.as_str().to_string(), x.label(lang).to_string()))
            .collect(),
        category: k.category.clone(),
        severities: Severity::ALL
            .iter()
            .map(|x| (x.as_str().to_string(), x.label(lang).to_string()))
            .collect(),
        severity: k.severity.clone(),
        log,
        k: row(&s, &p, &k),
        c: p.chrome(),
    })
}

/// What a change on the detail page answers: on success the page reloads; a refusal (stale
/// version, closed complaint, empty text) is shown in place (htmx swaps 2xx bodies only).
fn result<T>(p: &Page, r: Result<T, AppError>) -> Response {
    match r {
        Ok(_) => (
            [("hx-refresh", "true")],
            Html(format!("<p class=\"notice\">{}</p>", p.t.t("wo.saved"))),
        )
            .into_response(),
        Err(e) => refusal(p, e),
    }
}

fn refusal(p: &Page, e: AppError) -> Response {
    let msg = match &e {
        AppError::Stale { changed_by, .. } => format!(
            "{} ({})",
            p.t.t("wo.stale"),
            changed_by.clone().unwrap_or_default()
        ),
        other => other.message(p.actor.lang),
    };
    Html(format!(
        "<p class=\"error\" id=\"complaint-error\">{}</p>",
        msg.replace('&', "&amp;").replace('<', "&lt;")
    ))
    .into_response()
}

#[derive(Deserialize)]
pub struct TermsForm {
    version: Option<i64>,
    owner_id: Option<i64>,
    category: ComplaintCategory,
    severity: Severity,
}

/// `POST /complaints/{id}/terms`: owner, category, severity.
pub async fn update(
    State(s): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(f): Form<TermsForm>,
) -> Response {
    let patch = uc::ComplaintPatch {
        owner_id: f.owner_id,
        category: Some(f.category),
        severity: Some(f.severity),
    };
    result(&p, uc::update(&s.app, &p.actor, id, f.version, patch).await)
}

#[derive(Deserialize)]
pub struct NoteForm {
    note: String,
}

/// `POST /complaints/{id}/actions`: what was done, into the log.
pub async fn add_action(
    State(s): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(f): Form<NoteForm>,
) -> Response {
    result(
        &p,
        uc::add_action(&s.app, &p.actor, id, uc::ActionInput { note: f.note }).await,
    )
}

#[derive(Deserialize)]
pub struct EscalateForm {
    version: Option<i64>,
    note: Option<String>,
}

/// `POST /complaints/{id}/escalate`: up to the manager one level above.
pub async fn escalate(
    State(s): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(f): Form<EscalateForm>,
) -> Response {
    let input = uc::EscalateInput { note: f.note };
    result(
        &p,
        uc::escalate(&s.app, &p.actor, id, f.version, input).await,
    )
}

#[derive(Deserialize)]
pub struct CloseForm {
    version: Option<i64>,
    resolution: String,
}

/// `POST /complaints/{id}/close`: closed (办结) with what was done for the customer.
pub async fn close(
    State(s): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(f): Form<CloseForm>,
) -> Response {
    let input = uc::CloseInput {
        resolution: f.resolution,
    };
    result(&p, uc::close(&s.app, &p.actor, id, f.version, input).await)
}

#[derive(Deserialize)]
pub struct NewForm {
    category: ComplaintCategory,
    severity: Severity,
    description: String,
}

/// `POST /work-orders/{id}/complaints` (from the order's page): the customer called to
/// complain; the new complaint's page opens.
pub async fn create(
    State(s): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(f): Form<NewForm>,
) -> Response {
    let input = uc::NewComplaintInput {
        work_order_id: id,
        category: f.category,
        severity: f.severity,
        description: f.description,
        owner_id: None,
    };
    match uc::create(&s.app, &p.actor, input).await {
        Ok(k) => (
            [("hx-redirect", format!("/complaints/{}", k.id))],
            Html(format!("<p class=\"notice\">{}</p>", p.t.t("wo.saved"))),
        )
            .into_response(),
        Err(e) => refusal(&p, e),
    }
}
