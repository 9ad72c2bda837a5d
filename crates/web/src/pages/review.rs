//! The manager's review queue: keyboard-driven approve (sign) or return with a comment.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use shouhou_app::review::{self as uc, Decision, ReviewInput};
use shouhou_app::service::ServiceReport;
use shouhou_domain::money::yuan;
use shouhou_store::repo::Page as Paging;
use shouhou_store::service as store;

use super::{render, Chrome, Page};
use crate::extract::{Form, Path};
use crate::AppState;

pub struct Item {
    id: i64,
    number: String,
    kind: String,
    completed: String,
    technician: String,
    customer: String,
    device: String,
    fault: String,
    visits: String,
    findings: String,
    work_done: String,
    /// (item, qty, amount, payer)
    lines: Vec<(String, String, String, String)>,
    customer_total: String,
    manufacturer_total: String,
    signature: String,
    signed_by: String,
    photos: Vec<i64>,
}

#[derive(Template)]
#[template(path = "review.html")]
struct Queue {
    c: Chrome,
    items: Vec<Item>,
}

pub async fn queue(State(s): State<AppState>, p: Page) -> Response {
    let lang = p.actor.lang;
    let orders = match uc::queue(&s.app, &p.actor, Paging::first(100)).await {
        Ok(v) => v.items,
        Err(e) => return crate::error::ApiError(e).into_response(),
    };
    // Two queries for the whole queue, not one per report.
    let ids: Vec<i64> = orders.iter().map(|w| w.id).collect();
    let labels = shouhou_store::work_orders::labels(&s.app.db, &ids)
        .await
        .unwrap_or_default();
    let visits = shouhou_store::work_orders::visits_of(&s.app.db, &ids)
        .await
        .unwrap_or_default();
    // The service reports: four more queries for the whole queue.
    let reports = store::reports_of(&s.app.db, &ids).await.unwrap_or_default();
    let parts = store::parts_of(&s.app.db, &ids).await.unwrap_or_default();
    let charges = store::charges_of(&s.app.db, &ids).await.unwrap_or_default();
    let photos = store::photos_of(&s.app.db, &ids).await.unwrap_or_default();
    let items: Vec<Item> = orders
        .into_iter()
        .map(|w| {
            let l = labels.iter().find(|l| l.id == w.id);
            let visits = visits
                .iter()
                .filter(|v| v.work_order_id == w.id)
                .map(|v| {
                    let when = v.arrived_at.map(|a| p.time(&s, a)).unwrap_or_default();
                    let outcome = v
                        .outcome
                        .0
                        .map(|o| o.label(lang).to_string())
                        .unwrap_or_default();
                    format!("#{} {when} {outcome}", v.seq)
                })
                .collect::<Vec<_>>()
                .join(" · ");
            let reps: Vec<&store::VisitReport> = reports
                .iter()
                .filter(|(o, _)| *o == w.id)
                .map(|(_, r)| r)
                .collect();
            let join = |f: &dyn Fn(&store::VisitReport) -> Option<String>| {
                reps.iter()
                    .filter_map(|r| f(r))
                    .collect::<Vec<_>>()
                    .join(" / ")
            };
            let sig = reps.iter().rev().find(|r| r.signature.is_some());
            let report = ServiceReport {
                order: w.clone(),
                customer_name: String::new(),
                customer_phone: String::new(),
                address: String::new(),
                product: None,
                serial: None,
                visits: vec![],
                parts: parts
                    .iter()
                    .filter(|x| x.work_order_id == w.id)
                    .cloned()
                    .collect(),
                charges: charges
                    .iter()
                    .filter(|x| x.work_order_id == w.id)
                    .cloned()
                    .collect(),
                photos: vec![],
                totals: Default::default(),
            };
            let totals = shouhou_app::service::totals(&report.charges, &report.parts);
            Item {
                findings: join(&|r| r.findings.clone()),
                work_done: join(&|r| r.work_done.clone()),
                lines: super::service::lines(&report, lang),
                customer_total: yuan(totals.customer_fen),
                manufacturer_total: yuan(totals.manufacturer_fen),
                signature: sig.and_then(|r| r.signature.clone()).unwrap_or_default(),
                signed_by: sig.and_then(|r| r.signed_by.clone()).unwrap_or_default(),
                photos: photos
                    .iter()
                    .filter(|x| x.work_order_id == w.id)
                    .map(|x| x.id)
                    .collect(),
                id: w.id,
                number: w.number.clone(),
                kind: w.kind.label(lang).to_string(),
                completed: w.completed_at.map(|t| p.time(&s, t)).unwrap_or_default(),
                technician: l.and_then(|l| l.technician.clone()).unwrap_or_default(),
                customer: l.map(|l| l.customer.clone()).unwrap_or_default(),
                device: l.and_then(|l| l.device.clone()).unwrap_or_default(),
                fault: w.fault_description.clone(),
                visits,
            }
        })
        .collect();
    render(&Queue {
        c: p.chrome(),
        items,
    })
}

#[derive(Deserialize)]
pub struct ReviewForm {
    decision: Decision,
    comment: Option<String>,
}

/// Approve or return; the reviewed item leaves the queue (replaced by a one-line result).
pub async fn decide(
    State(s): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(f): Form<ReviewForm>,
) -> Response {
    let lang = p.actor.lang;
    match uc::review(&s.app, &p.actor, id, ReviewInput { decision: f.decision, comment: f.comment }).await {
        Ok(w) => {
            let key = if f.decision == Decision::Approve { "review.approved" } else { "review.returned" };
            Html(format!("<p class=\"notice\" id=\"reviewed-{id}\">{} · {}</p>", w.number, p.t.t(key))).into_response()
        }
        Err(e) => Html(format!(
            "<div class=\"box review-item\" tabindex=\"0\" id=\"review-{id}\"><p class=\"error\" data-field=\"{}\">{}</p><a href=\"/review\">↻</a></div>",
            e.field().unwrap_or(""),
            e.message(lang).replace('<', "&lt;")
        ))
        .into_response(),
    }
}
