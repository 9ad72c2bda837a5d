//! The follow-up staff's page (回访): every completed order still to call, and each call's
//! outcome.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use shouhou_app::followups as uc;
use shouhou_app::AppError;
use shouhou_store::repo::Page as Paging;

use super::{err, html, render, Chrome, Page};
use crate::extract::{Form, Path, Query};
use crate::i18n::T;
use crate::AppState;

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
    /// The items of the order's questionnaire (asked besides the overall rating).
    questions: Vec<String>,
}

#[derive(Template)]
#[template(path = "follow_ups.html")]
struct FollowUps {
    c: Chrome,
    rows: Vec<CallRow>,
    /// The total as read ("10000+" when counting stopped).
    total: String,
    /// More orders are due than the page lists: which of them it lists ("51–100").
    shown: Option<String>,
    prev: Option<String>,
    next: Option<String>,
    ratings: Vec<(String, String)>,
}

/// The orders a page lists, in the order their calls are due; the heading shows the total
/// ("10000+" beyond).
const PAGE: i64 = 50;

#[derive(Debug, Deserialize, Default)]
pub struct CallsQuery {
    offset: Option<i64>,
}

/// `GET /follow-ups`: every completed order still to call back (回访), in the order the calls
/// are due (an unanswered call's retry time, else the completion), with its age; 50 a page.
pub async fn follow_ups(
    State(s): State<AppState>,
    p: Page,
    Query(q): Query<CallsQuery>,
) -> Response {
    let lang = p.actor.lang;
    let offset = q.offset.unwrap_or(0).max(0);
    let page = Paging {
        limit: PAGE,
        offset,
    };
    let list = match uc::to_call(&s.app, &p.actor, page).await {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    let today = s.app.today();
    let qs = match shouhou_app::csi::questionnaires(&s.app, &p.actor).await {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    let link = |off: i64| format!("/follow-ups?offset={off}");
    let (prev, next) = (
        (offset > 0).then(|| link((offset - PAGE).max(0))),
        list.has_more().then(|| link(offset + PAGE)),
    );
    let shown = (prev.is_some() || next.is_some()).then(|| {
        p.t.t("followup.shown")
            .replace("{from}", &(offset + 1).to_string())
            .replace("{to}", &(offset + list.items.len() as i64).to_string())
    });
    render(&FollowUps {
        total: list.total_text(),
        shown,
        prev,
        next,
        rows: list
            .items
            .into_iter()
            .map(|r| CallRow {
                questions: shouhou_domain::WorkOrderType::parse_field(&r.kind, "kind")
                    .ok()
                    .and_then(|k| shouhou_app::csi::best_fit(&qs, r.brand.as_deref(), k))
                    .map(|q| q.items)
                    .unwrap_or_default(),
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

/// A call's form: `outcome`, `rating` (empty when none was chosen: refused with a message, never
/// defaulted), `comment`, and `item:<item>` per questionnaire item (empty = not answered).
pub struct AnswerForm {
    outcome: Option<uc::CallOutcome>,
    rating: Option<String>,
    comment: Option<String>,
    items: Vec<(String, String)>,
}

impl<'de> Deserialize<'de> for AnswerForm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let pairs = Vec::<(String, String)>::deserialize(d)?;
        let mut f = AnswerForm {
            outcome: None,
            rating: None,
            comment: None,
            items: Vec::new(),
        };
        for (k, v) in pairs {
            match k.as_str() {
                "outcome" => {
                    f.outcome = Some(
                        serde_json::from_value(serde_json::Value::String(v))
                            .map_err(D::Error::custom)?,
                    )
                }
                "rating" => f.rating = Some(v),
                "comment" => f.comment = Some(v),
                _ => {
                    if let Some(item) = k.strip_prefix("item:") {
                        f.items.push((item.to_string(), v));
                    }
                }
            }
        }
        Ok(f)
    }
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
    let items = match super::selfservice::item_answers(&f.items) {
        Ok(v) => v,
        Err(e) => return call_error(&p, id, e),
    };
    let input = uc::CallInput {
        outcome: f.outcome.unwrap_or(uc::CallOutcome::Answered),
        rating,
        comment: f.comment,
        items,
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
