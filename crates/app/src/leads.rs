//! Sales leads (商机) captured on an order: recorded by whoever works the order, worked (won or
//! lost) by the managers and dispatchers of its unit.

use serde::Deserialize;
use shouhou_domain::kinds::required_text;
use shouhou_domain::{OpportunityKind, OpportunityStatus, Role, ValidationError};
use shouhou_store::leads::{self as store, NewOpportunity, Opportunity};
use shouhou_store::repo::{self, Page, Paged};
use shouhou_store::work_orders as orders;
use utoipa::ToSchema;

use crate::{Actor, App, AppError, Result};

const LEAD_WORKERS: &[Role] = &[Role::Admin, Role::Manager, Role::Dispatcher];

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
