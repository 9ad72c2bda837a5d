//! Follow-ups (回访): an order's answer, recorded and read.

use axum::extract::State;
use axum::Json;
use shouhou_app::followups::{self, FollowUpInput};
use shouhou_store::followups::FollowUp;

use crate::error::ApiError;
use crate::extract::{Auth, JsonBody, Path};
use crate::AppState;

/// The follow-up call's answer (回访); 不满意 opens a complaint owned by the order's manager.
#[utoipa::path(post, path = "/work-orders/{id}/follow-up", tag = "crm", request_body = FollowUpInput, responses((status = 200, body = FollowUp), (status = 422)))]
pub async fn add_follow_up(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<FollowUpInput>,
) -> Result<Json<FollowUp>, ApiError> {
    Ok(Json(
        followups::record_follow_up(&s.app, &a.actor, id, b).await?,
    ))
}

#[utoipa::path(get, path = "/work-orders/{id}/follow-up", tag = "crm", responses((status = 200, body = Option<FollowUp>)))]
pub async fn get_follow_up(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> Result<Json<Option<FollowUp>>, ApiError> {
    Ok(Json(followups::follow_up(&s.app, &a.actor, id).await?))
}
