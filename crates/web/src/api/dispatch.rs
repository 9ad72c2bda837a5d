//! Route-optimised dispatch: propose, pin and plan again, commit, insert an urgent order.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use shouhou_app::dispatch::{self as uc, InsertRequest, PlanRequest, PlanView};

use crate::error::ApiError;
use crate::extract::{Auth, JsonBody, Path};
use crate::AppState;

/// Proposes a plan for a store's day from its open field orders and technicians' shifts.
#[utoipa::path(post, path = "/dispatch/plans", tag = "dispatch", request_body = PlanRequest,
    responses((status = 201, body = PlanView), (status = 422)))]
pub async fn propose(
    State(s): State<AppState>,
    a: Auth,
    JsonBody(r): JsonBody<PlanRequest>,
) -> Result<(StatusCode, Json<PlanView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(uc::propose(&s.app, &a.actor, r).await?),
    ))
}

#[utoipa::path(get, path = "/dispatch/plans/{id}", operation_id = "get_dispatch_plan", tag = "dispatch", responses((status = 200, body = PlanView), (status = 404)))]
pub async fn get(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> Result<Json<PlanView>, ApiError> {
    Ok(Json(uc::get(&s.app, &a.actor, id).await?))
}

/// Commits a proposed plan: orders assigned, each technician's day ordered.
#[utoipa::path(post, path = "/dispatch/plans/{id}/commit", tag = "dispatch", responses((status = 200, body = PlanView)))]
pub async fn commit(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> Result<Json<PlanView>, ApiError> {
    Ok(Json(uc::commit(&s.app, &a.actor, id).await?))
}

/// Inserts a new order into the committed day with the least disruption.
#[utoipa::path(post, path = "/dispatch/plans/{id}/insert", tag = "dispatch", request_body = InsertRequest, responses((status = 200, body = PlanView)))]
pub async fn insert(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    JsonBody(r): JsonBody<InsertRequest>,
) -> Result<Json<PlanView>, ApiError> {
    Ok(Json(uc::insert(&s.app, &a.actor, id, r).await?))
}
