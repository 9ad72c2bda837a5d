//! Self-service requests: the clerk's list and decision.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use shouhou_store::records::WorkOrder;
use shouhou_store::repo::Paged;
use shouhou_store::selfservice::ServiceRequest;

use crate::error::ApiError;
use crate::extract::{Auth, JsonBody, PageQuery, Paging, Path};
use crate::AppState;

/// Self-service fault reports waiting for a clerk to verify (the phone did not match), oldest
/// first.
#[utoipa::path(get, path = "/service-requests", tag = "self-service", params(PageQuery),
    responses((status = 200, body = Paged<ServiceRequest>), (status = 422)))]
pub async fn service_requests(
    State(s): State<AppState>,
    a: Auth,
    Paging(page): Paging,
) -> Result<Json<Paged<ServiceRequest>>, ApiError> {
    Ok(Json(
        shouhou_app::selfservice::pending(&s.app, &a.actor, page).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RequestDecision {
    pub accept: bool,
}

/// Accept (creates the work order) or reject a self-service request.
#[utoipa::path(post, path = "/service-requests/{id}/decision", tag = "self-service", request_body = RequestDecision, responses((status = 200, body = Option<WorkOrder>)))]
pub async fn decide_request(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<RequestDecision>,
) -> Result<Json<Option<WorkOrder>>, ApiError> {
    Ok(Json(
        shouhou_app::selfservice::decide(&s.app, &a.actor, id, b.accept).await?,
    ))
}
