//! After the visit: sales leads (商机) captured on an order, the knowledge base (symptom → cause →
//! fix) and follow-up answers (回访); a dissatisfied answer opens a complaint (`complaints`).

use serde::Deserialize;
use shouhou_domain::kinds::required_text;
use shouhou_domain::{
    Category, FollowUpChannel, OpportunityKind, OpportunityStatus, Rating, Role, ValidationError,
};
use shouhou_store::records::WorkOrder;
use shouhou_store::repo::versions::Versioned;
use shouhou_store::repo::{self, technicians, Page, Paged};
use shouhou_store::service::{
    self as store, Article, ArticleText, FollowUp, NewOpportunity, Opportunity,
};
use shouhou_store::work_orders as orders;
use shouhou_store::Tx;
use utoipa::ToSchema;

use crate::{Actor, App, AppError, Result};

const LEAD_WORKERS: &[Role] = &[Role::Admin, Role::Manager, Role::Dispatcher];
const FOLLOWUP_ROLES: &[Role] = &[Role::Admin, Role::Manager, Role::Followup];

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewLead {
    #[schema(min_length = 1, max_length = 100)]
    pub client_key: String,
    pub kind: OpportunityKind,
    /// Estimated value in fen.
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub value_fen: i64,
    pub note: Option<String>,
}

/// Records a sales lead on an order the actor can see; the same client key again returns it.
pub async fn add_opportunity(app: &App, actor: &Actor, id: i64, n: NewLead) -> Result<Opportunity> {
    if !(0..=100_000_000).contains(&n.value_fen) {
        return Err(AppError::invalid(
            "value_fen",
            ValidationError::OutOfRange {
                min: 0,
                max: 100_000_000,
            },
        ));
    }
    let key = n.client_key.trim();
    if key.is_empty() || key.len() > 100 {
        return Err(AppError::invalid("client_key", ValidationError::Required));
    }
    let note = match n.note.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => Some(required_text(s, "note", 500)?),
        _ => None,
    };
    let mut tx = app.db.begin().await?;
    let w = orders::get_for_update(&mut tx, &actor.vis, id).await?;
    let (o, made) = store::add_opportunity(
        &mut tx,
        NewOpportunity {
            work_order_id: id,
            customer_id: w.customer_id,
            org_unit_id: w.org_unit_id,
            client_key: key,
            kind: n.kind.as_str(),
            value_fen: n.value_fen,
            note: note.as_deref(),
            created_by: actor.id(),
            at: app.now(),
        },
    )
    .await?;
    if made {
        repo::audit::insert(
            &mut tx,
            "opportunity",
            o.id,
            "create",
            Some(actor.id()),
            app.now(),
            &serde_json::json!({"kind": [null, o.kind], "value_fen": [null, o.value_fen], "work_order_id": [null, id]}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(o)
}

/// The leads of the actor's units, optionally of one status, newest first.
pub async fn opportunities(
    app: &App,
    actor: &Actor,
    status: Option<OpportunityStatus>,
    page: Page,
) -> Result<Paged<Opportunity>> {
    actor.require(LEAD_WORKERS)?;
    Ok(store::opportunities(&app.db, &actor.vis, status.map(|s| s.as_str()), page).await?)
}

/// How many leads are open and their summed value (fen).
pub async fn open_leads(app: &App, actor: &Actor) -> Result<(i64, i64)> {
    actor.require(LEAD_WORKERS)?;
    Ok(store::open_leads(&app.db, &actor.vis).await?)
}

pub async fn set_opportunity_status(
    app: &App,
    actor: &Actor,
    id: i64,
    status: OpportunityStatus,
) -> Result<Opportunity> {
    actor.require(LEAD_WORKERS)?;
    let mut tx = app.db.begin().await?;
    let before = store::opportunity_for_update(&mut tx, &actor.vis, id).await?;
    store::set_opportunity_status(&mut tx, id, status.as_str(), app.now()).await?;
    if before.status != status.as_str() {
        repo::audit::insert(
            &mut tx,
            "opportunity",
            id,
            "update",
            Some(actor.id()),
            app.now(),
            &serde_json::json!({"status": [before.status, status.as_str()]}),
        )
        .await?;
    }
    let after = store::opportunity_for_update(&mut tx, &actor.vis, id).await?;
    tx.commit().await?;
    Ok(after)
}

// -------------------------------------------------------------------------- knowledge base

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

// ------------------------------------------------------------------ follow-ups, complaints

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct FollowUpInput {
    pub rating: Rating,
    pub comment: Option<String>,
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
    let f = store::add_follow_up(
        tx,
        w.id,
        input.rating.as_str(),
        comment.as_deref(),
        channel.as_str(),
        actor.map(Actor::id),
        now,
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
        &serde_json::json!({"rating": [null, f.rating], "channel": [null, f.channel]}),
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
pub const MAX_CALL_ATTEMPTS: i64 = 3;

/// The follow-up staff's list: every completed order not yet answered, refused or called
/// [`MAX_CALL_ATTEMPTS`] times without an answer, oldest first (no age limit: the page shows
/// each order's age), with the true total.
pub async fn to_call(app: &App, actor: &Actor, page: Page) -> Result<Paged<store::ToCall>> {
    actor.require(FOLLOWUP_ROLES)?;
    Ok(store::to_call(&app.db, &actor.vis, MAX_CALL_ATTEMPTS, page).await?)
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
