//! The office's leads page (商机): the leads of the user's units, won or lost.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shouhou_app::leads as uc;
use shouhou_domain::money::yuan;
use shouhou_domain::{OpportunityKind, OpportunityStatus};
use shouhou_store::repo::Page as Paging;

use super::{err, render, Chrome, Page};
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
