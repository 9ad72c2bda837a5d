//! Follow-ups (回访) after an order is completed: the calls of the follow-up staff (answered with
//! a rating, not answered — called again —, or refused) and the customer's own rating; a
//! dissatisfied answer opens a complaint (`complaints`).

use serde::Deserialize;
use shouhou_domain::kinds::required_text;
use shouhou_domain::{FollowUpChannel, Rating, Role, ValidationError};
use shouhou_store::followups::{self as store, FollowUp};
use shouhou_store::records::WorkOrder;
use shouhou_store::repo::{self, Page, Paged};
use shouhou_store::work_orders as orders;
use shouhou_store::Tx;
use utoipa::ToSchema;

use crate::{Actor, App, AppError, Result};

const FOLLOWUP_ROLES: &[Role] = &[Role::Admin, Role::Manager, Role::Followup];

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct FollowUpInput {
    /// The overall answer (整体满意), which the satisfaction rates read.
    pub rating: Rating,
    pub comment: Option<String>,
    /// The answers to the items of the order's questionnaire (see
    /// `GET /work-orders/{id}/questionnaire`); an item left out was not answered.
    #[serde(default)]
    pub items: Vec<crate::csi::ItemAnswer>,
}

/// Records the follow-up answer of a completed order (once); a dissatisfied answer opens a
/// complaint owned by the order's manager. `actor` is `None` for the customer's own rating.
pub async fn record_follow_up_in(
    app: &App,
    tx: &mut Tx,
    w: &WorkOrder,
    input: &FollowUpInput,
    channel: FollowUpChannel,
    actor: Option<&Actor>,
) -> Result<FollowUp> {
    if w.status.is_open() || w.status == shouhou_domain::Status::Cancelled {
        return Err(AppError::invalid(
            "rating",
            ValidationError::Invalid {
                zh: "工单完工后才能评价".into(),
                en: "the order can be rated once it is completed".into(),
            },
        ));
    }
    let comment = match input.comment.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => Some(required_text(s, "comment", 1000)?),
        _ => None,
    };
    let now = app.now();
    let kind = w.kind;
    let q = crate::csi::for_order(app, w.id, kind).await?;
    let answers = crate::csi::answers(q.as_ref(), input.rating, &input.items)?;
    let f = store::add_follow_up(
        tx,
        &store::NewFollowUp {
            work_order_id: w.id,
            rating: input.rating.as_str(),
            comment: comment.as_deref(),
            channel: channel.as_str(),
            user_id: actor.map(Actor::id),
            at: now,
            questionnaire_id: q.as_ref().map(|q| q.id),
            answers: &answers,
        },
    )
    .await?
    .ok_or_else(|| {
        AppError::invalid(
            "rating",
            ValidationError::Invalid {
                zh: "这张工单已经评价过了".into(),
                en: "this order has already been rated".into(),
            },
        )
    })?;
    repo::audit::insert(
        tx,
        "work_order",
        w.id,
        "follow_up",
        actor.map(Actor::id),
        now,
        &serde_json::json!({
            "rating": [null, f.rating],
            "channel": [null, f.channel],
            "answers": [null, answers.iter().map(|a| (a.item.as_str(), a.rating.as_str())).collect::<Vec<_>>()],
        }),
    )
    .await?;
    if input.rating == Rating::Dissatisfied {
        let description = comment.unwrap_or_else(|| {
            Rating::Dissatisfied
                .label(shouhou_domain::Lang::ZhCn)
                .to_string()
        });
        crate::complaints::open_from_follow_up(app, tx, w, f.id, &description, actor).await?;
    }
    Ok(f)
}

/// The follow-up call (回访) recorded by follow-up staff or a manager.
pub async fn record_follow_up(
    app: &App,
    actor: &Actor,
    id: i64,
    input: FollowUpInput,
) -> Result<FollowUp> {
    actor.require(FOLLOWUP_ROLES)?;
    let mut tx = app.db.begin().await?;
    let w = orders::get_for_update(&mut tx, &actor.vis, id).await?;
    let f = record_follow_up_in(
        app,
        &mut tx,
        &w,
        &input,
        FollowUpChannel::Phone,
        Some(actor),
    )
    .await?;
    tx.commit().await?;
    Ok(f)
}

pub async fn follow_up(app: &App, actor: &Actor, id: i64) -> Result<Option<FollowUp>> {
    orders::get(&app.db, &actor.vis, id).await?;
    Ok(store::follow_up(&app.db, id).await?)
}

/// Calls without an answer after which an order leaves the follow-up list.
pub const MAX_CALL_ATTEMPTS: i64 = store::MAX_CALL_ATTEMPTS;

/// The follow-up staff's list: every completed order not yet answered, refused or called
/// [`MAX_CALL_ATTEMPTS`] times without an answer, oldest first (no age limit: the page shows
/// each order's age), with the total (exact up to 10,000).
pub async fn to_call(app: &App, actor: &Actor, page: Page) -> Result<Paged<store::ToCall>> {
    actor.require(FOLLOWUP_ROLES)?;
    Ok(store::to_call(&app.db, &actor.vis, page).await?)
}

/// What a follow-up call came to.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// The customer answered and rated the service (a rating is required).
    Answered,
    /// 未接通: called again on the next working day, up to [`MAX_CALL_ATTEMPTS`] calls.
    NoAnswer,
    /// 拒访: the customer declined; the call is closed without a rating.
    Refused,
}

impl CallOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Answered => "answered",
            CallOutcome::NoAnswer => "no_answer",
            CallOutcome::Refused => "refused",
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CallInput {
    pub outcome: CallOutcome,
    /// Required when answered; never chosen in advance.
    pub rating: Option<Rating>,
    pub comment: Option<String>,
    /// The items' answers when answered (see [`FollowUpInput::items`]).
    #[serde(default)]
    pub items: Vec<crate::csi::ItemAnswer>,
}

/// What a recorded call led to.
#[derive(Debug, Clone)]
pub enum CallResult {
    Answered(FollowUp),
    /// The n-th unanswered call; the next one is due at the time given (none after the last).
    NoAnswer(i64, Option<chrono::DateTime<chrono::Utc>>),
    Refused,
}

/// 09:00 of the next working day (Monday – Friday) in the org's time zone.
pub fn next_working_day(
    app: &App,
    now: chrono::DateTime<chrono::Utc>,
) -> chrono::DateTime<chrono::Utc> {
    use chrono::Datelike;
    let mut day = app.local_date(now);
    loop {
        day = day.succ_opt().unwrap_or(day);
        if !matches!(day.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun) {
            break;
        }
    }
    app.day_start(day) + chrono::Duration::hours(9)
}

/// Records one follow-up call: answered (with the rating: see [`record_follow_up_in`]), no
/// answer (a retry is scheduled) or refused (closed without a rating; neither counts as an
/// answered follow-up in the satisfaction figures).
pub async fn record_call(
    app: &App,
    actor: &Actor,
    id: i64,
    input: CallInput,
) -> Result<CallResult> {
    actor.require(FOLLOWUP_ROLES)?;
    if input.outcome == CallOutcome::Answered {
        let rating = input
            .rating
            .ok_or_else(|| AppError::invalid("rating", ValidationError::Required))?;
        let f = record_follow_up(
            app,
            actor,
            id,
            FollowUpInput {
                rating,
                comment: input.comment,
                items: input.items,
            },
        )
        .await?;
        return Ok(CallResult::Answered(f));
    }
    let mut tx = app.db.begin().await?;
    let w = orders::get_for_update(&mut tx, &actor.vis, id).await?;
    let closed = |zh: &str, en: &str| {
        AppError::invalid(
            "outcome",
            ValidationError::Invalid {
                zh: zh.into(),
                en: en.into(),
            },
        )
    };
    if w.status.is_open() || w.status == shouhou_domain::Status::Cancelled {
        return Err(closed(
            "工单完工后才能回访",
            "the order can be followed up once it is completed",
        ));
    }
    let (attempts, refused) = store::follow_up_calls_tx(&mut tx, id).await?;
    if refused || attempts >= MAX_CALL_ATTEMPTS || store::follow_up(&app.db, id).await?.is_some() {
        return Err(closed(
            "这张工单的回访已经结束",
            "the follow-up of this order is already closed",
        ));
    }
    let now = app.now();
    let (result, retry_at) = match input.outcome {
        CallOutcome::NoAnswer => {
            let n = attempts + 1;
            let retry = (n < MAX_CALL_ATTEMPTS).then(|| next_working_day(app, now));
            (CallResult::NoAnswer(n, retry), retry)
        }
        _ => (CallResult::Refused, None),
    };
    store::add_follow_up_call(
        &mut tx,
        id,
        input.outcome.as_str(),
        actor.id(),
        now,
        retry_at,
    )
    .await?;
    repo::audit::insert(
        &mut tx,
        "work_order",
        id,
        "follow_up_call",
        Some(actor.id()),
        now,
        &serde_json::json!({"outcome": [null, input.outcome.as_str()], "retry_at": [null, retry_at]}),
    )
    .await?;
    tx.commit().await?;
    Ok(result)
}
