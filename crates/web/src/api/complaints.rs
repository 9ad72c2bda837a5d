//! Complaints (投诉): the list of the user's units, one complaint with its ETag, registering one
//! by hand, changing owner/category/severity, the log of actions, escalating and closing.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use shouhou_app::complaints::{
    self as uc, ActionInput, CloseInput, ComplaintPatch, EscalateInput, ListQuery,
    NewComplaintInput,
};
use shouhou_store::complaints::{Complaint, ComplaintAction};
use shouhou_store::repo::Paged;

use crate::error::ApiError;
use crate::extract::{
    tagged, Auth, IfMatch, JsonBody, PageQuery, Paging, Path, Query, Tagged, TaggedResult,
};
use crate::AppState;

/// The complaints of the user's units (`show`: open — the default — and overdue soonest due
/// first, closed and all newest first), with the total (exact up to 10,000, then `total_capped`).
#[utoipa::path(get, path = "/complaints", tag = "complaints", params(ListQuery, PageQuery),
    responses((status = 200, body = Paged<Complaint>), (status = 403), (status = 422)))]
pub async fn list(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<ListQuery>,
    Paging(page): Paging,
) -> Result<Json<Paged<Complaint>>, ApiError> {
    Ok(Json(uc::list(&s.app, &a.actor, &q, page).await?))
}

/// Registers a complaint on an order (the customer called to complain); due by severity, owned
/// by the order's manager unless `owner_id` says otherwise.
#[utoipa::path(post, path = "/complaints", tag = "complaints", request_body = NewComplaintInput,
    responses((status = 201, body = Complaint, headers(("ETag" = String))), (status = 403), (status = 422)))]
pub async fn create(
    State(s): State<AppState>,
    a: Auth,
    JsonBody(n): JsonBody<NewComplaintInput>,
) -> TaggedResult<Complaint> {
    let k = uc::create(&s.app, &a.actor, n).await?;
    let v = k.version;
    Ok(Tagged(StatusCode::CREATED, k, v))
}

#[utoipa::path(get, path = "/complaints/{id}", tag = "complaints",
    responses((status = 200, body = Complaint, headers(("ETag" = String))), (status = 404)))]
pub async fn get(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> TaggedResult<Complaint> {
    let k = uc::get(&s.app, &a.actor, id).await?;
    let v = k.version;
    Ok(tagged(k, v))
}

/// Changes owner, category or severity of an open complaint (a new severity moves its due
/// time); with `If-Match` a stale version is refused with 412 and who changed what.
#[utoipa::path(patch, path = "/complaints/{id}", tag = "complaints", request_body = ComplaintPatch,
    params(("If-Match" = Option<String>, Header, description = "the ETag the change is based on; a stale one is refused with 412")),
    responses((status = 200, body = Complaint, headers(("ETag" = String))), (status = 412, description = "the complaint changed since the ETag sent"), (status = 422)))]
pub async fn update(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    IfMatch(if_match): IfMatch,
    JsonBody(p): JsonBody<ComplaintPatch>,
) -> TaggedResult<Complaint> {
    let k = uc::update(&s.app, &a.actor, id, if_match, p).await?;
    let v = k.version;
    Ok(tagged(k, v))
}

/// What was done about a complaint, oldest first.
#[utoipa::path(get, path = "/complaints/{id}/actions", tag = "complaints", params(PageQuery),
    responses((status = 200, body = Paged<ComplaintAction>), (status = 404), (status = 422)))]
pub async fn actions(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Paging(page): Paging,
) -> Result<Json<Paged<ComplaintAction>>, ApiError> {
    Ok(Json(uc::actions(&s.app, &a.actor, id, page).await?))
}

/// Adds what was done to the log of an open complaint.
#[utoipa::path(post, path = "/complaints/{id}/actions", tag = "complaints", request_body = ActionInput,
    responses((status = 201, body = ComplaintAction), (status = 404), (status = 422)))]
pub async fn add_action(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<ActionInput>,
) -> Result<(StatusCode, Json<ComplaintAction>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(uc::add_action(&s.app, &a.actor, id, b).await?),
    ))
}

/// Escalates an open complaint to the manager one level above whoever holds it (422 at the
/// top). Overdue complaints are escalated so by the server.
#[utoipa::path(post, path = "/complaints/{id}/escalate", tag = "complaints", request_body = EscalateInput,
    params(("If-Match" = Option<String>, Header, description = "the ETag the change is based on; a stale one is refused with 412")),
    responses((status = 200, body = Complaint, headers(("ETag" = String))), (status = 412, description = "the complaint changed since the ETag sent"), (status = 422)))]
pub async fn escalate(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    IfMatch(if_match): IfMatch,
    JsonBody(b): JsonBody<EscalateInput>,
) -> TaggedResult<Complaint> {
    let k = uc::escalate(&s.app, &a.actor, id, if_match, b).await?;
    let v = k.version;
    Ok(tagged(k, v))
}

/// Closes an open complaint with what was done for the customer (办结).
#[utoipa::path(post, path = "/complaints/{id}/close", tag = "complaints", request_body = CloseInput,
    params(("If-Match" = Option<String>, Header, description = "the ETag the change is based on; a stale one is refused with 412")),
    responses((status = 200, body = Complaint, headers(("ETag" = String))), (status = 412, description = "the complaint changed since the ETag sent"), (status = 422)))]
pub async fn close(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    IfMatch(if_match): IfMatch,
    JsonBody(b): JsonBody<CloseInput>,
) -> TaggedResult<Complaint> {
    let k = uc::close(&s.app, &a.actor, id, if_match, b).await?;
    let v = k.version;
    Ok(tagged(k, v))
}
