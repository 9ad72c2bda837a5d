//! Review and sign-off (审核): the manager approves a completed order's service report (the order
//! becomes `reviewed`) or returns it to the technician with a comment (it stays `completed`).

use serde::Deserialize;
use shouhou_domain::kinds::required_text;
use shouhou_domain::{Role, Status, ValidationError};
use shouhou_store::records::WorkOrder;
use shouhou_store::repo::{Page, Paged};
use shouhou_store::work_orders::{self as store, Review};
use utoipa::ToSchema;

use crate::work_orders::{transition_in, Transition};
use crate::{Actor, App, AppError, Result};

const REVIEWERS: &[Role] = &[Role::Admin, Role::Manager];

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Return,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ReviewInput {
    pub decision: Decision,
    /// Required when returning: what the technician must fix.
    pub comment: Option<String>,
}

/// Completed orders waiting for review, oldest first.
pub async fn queue(app: &App, actor: &Actor, page: Page) -> Result<Paged<WorkOrder>> {
    actor.require(REVIEWERS)?;
    Ok(store::review_queue(&app.db, &actor.vis, page).await?)
}

/// The reviews of an order the actor sees, oldest first.
pub async fn history(app: &App, actor: &Actor, id: i64, page: Page) -> Result<Paged<Review>> {
    store::get(&app.db, &actor.vis, id).await?;
    Ok(store::reviews(&app.db, id, page).await?)
}

pub async fn review(app: &App, actor: &Actor, id: i64, r: ReviewInput) -> Result<WorkOrder> {
    actor.require(REVIEWERS)?;
    let comment = r
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let mut tx = app.db.begin().await?;
    let w = store::get_for_update(&mut tx, &actor.vis, id).await?;
    if w.status != Status::Completed {
        return Err(AppError::Domain(
            shouhou_domain::DomainError::IllegalTransition {
                from: w.status,
                to: Status::Reviewed,
            },
        ));
    }
    let now = app.now();
    let saved = match r.decision {
        Decision::Approve => {
            // A report with a visit is approved only when the customer signed its latest visit
            // (a change after the signature clears it: see `service::editable`).
            if let Some(v) = shouhou_store::service::last_visit(&mut tx, id).await? {
                if v.signature.is_none() {
                    return Err(AppError::invalid(
                        "signature",
                        ValidationError::Invalid {
                            zh: "客户尚未签字，不能审核通过；请退回技术员补签".into(),
                            en: "the customer has not signed the report, so it cannot be approved; return it to the technician for a signature".into(),
                        },
                    ));
                }
            }
            store::insert_review(&mut tx, id, "approved", comment, actor.id(), now).await?;
            let t = Transition {
                to: Status::Reviewed,
                technician_id: None,
                partner_unit_id: None,
                reason: None,
                note: comment.map(str::to_string),
                lat: None,
                lng: None,
                outcome: None,
            };
            transition_in(app, &mut tx, actor, id, None, t).await?
        }
        Decision::Return => {
            let c =
                comment.ok_or_else(|| AppError::invalid("comment", ValidationError::Required))?;
            let c = required_text(c, "comment", 1000)?;
            store::insert_review(&mut tx, id, "returned", Some(&c), actor.id(), now).await?;
            shouhou_store::repo::audit::insert(
                &mut tx,
                "work_order",
                id,
                "review_returned",
                Some(actor.id()),
                now,
                &serde_json::json!({"review": [null, c]}),
            )
            .await?;
            w
        }
    };
    tx.commit().await?;
    Ok(saved)
}
