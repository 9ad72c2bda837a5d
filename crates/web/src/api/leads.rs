//! Sales leads (商机): recorded on an order, listed and worked by the office.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use shouhou_app::leads::{self, NewLead};
use shouhou_domain::OpportunityStatus;
use shouhou_store::leads::Opportunity;
use shouhou_store::repo::Paged;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::extract::{Auth, JsonBody, PageQuery, Paging, Path, Query};
use crate::AppState;

/// Records a sales lead (商机) on an order.
#[utoipa::path(post, path = "/work-orders/{id}/opportunities", tag = "crm", request_body = NewLead, responses((status = 200, body = Opportunity), (status = 422)))]
pub async fn add_opportunity(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    JsonBody(n): JsonBody<NewLead>,
) -> Result<Json<Opportunity>, ApiError> {
    Ok(Json(leads::add_opportunity(&s.app, &a.actor, id, n).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct LeadQuery {
    pub status: Option<OpportunityStatus>,
}

/// The leads of the user's units, newest first (managers, dispatchers, admins).
#[utoipa::path(get, path = "/opportunities", tag = "crm", params(LeadQuery, PageQuery),
    responses((status = 200, body = Paged<Opportunity>), (status = 422)))]
pub async fn list_opportunities(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<LeadQuery>,
    Paging(page): Paging,
) -> Result<Json<Paged<Opportunity>>, ApiError> {
    Ok(Json(
        leads::opportunities(&s.app, &a.actor, q.status, page).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LeadStatus {
    pub status: OpportunityStatus,
}

#[utoipa::path(put, path = "/opportunities/{id}/status", tag = "crm", request_body = LeadStatus, responses((status = 200, body = Opportunity)))]
pub async fn set_opportunity_status(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<LeadStatus>,
) -> Result<Json<Opportunity>, ApiError> {
    Ok(Json(
        leads::set_opportunity_status(&s.app, &a.actor, id, b.status).await?,
    ))
}
