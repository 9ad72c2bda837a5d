//! Work orders: list, create, read (with ETag), update (If-Match), transitions, events, visits.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shouhou_app::work_orders as uc;
use shouhou_domain::{Status, WorkOrderType};
use shouhou_store::records::{Visit, WorkOrder, WorkOrderEvent};
use shouhou_store::repo::Paged;
use shouhou_store::work_orders::{Filter, Review, Sort};
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::extract::{etag, Auth, IfMatch, JsonBody, PageQuery, Paging, Path, Query};
use crate::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// One or more statuses, comma-separated.
    #[param(
        pattern = "^((new|assigned|accepted|en_route|on_site|waiting_parts|completed|reviewed|closed|cancelled)(,(new|assigned|accepted|en_route|on_site|waiting_parts|completed|reviewed|closed|cancelled))*)?$"
    )]
    pub status: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<WorkOrderType>,
    /// The owning store (org unit).
    pub store: Option<i64>,
    pub technician: Option<i64>,
    pub customer: Option<i64>,
    pub device: Option<i64>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created before.
    pub to: Option<DateTime<Utc>>,
    /// Only open orders past an SLA deadline.
    pub overdue: Option<bool>,
    /// The order of the list (default `-created_at`, newest first); another value is refused
    /// with 422 listing these.
    #[param(inline)]
    pub sort: Option<Sort>,
}

fn with_etag(status: StatusCode, w: WorkOrder) -> Response {
    let tag = etag(w.version);
    (status, [(header::ETAG, tag)], Json(w)).into_response()
}

/// The orders the user sees that match every filter given.
#[utoipa::path(get, path = "/work-orders", tag = "work-orders", params(ListQuery, PageQuery),
    responses((status = 200, body = Paged<WorkOrder>), (status = 422, description = "a filter, `sort`, `limit` or `offset` is not allowed; names it")))]
pub async fn list(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<ListQuery>,
    Paging(page): Paging,
) -> Result<Json<Paged<WorkOrder>>, ApiError> {
    let status = match &q.status {
        Some(v) => v
            .split(',')
            .filter(|x| !x.is_empty())
            .map(|x| Status::parse_field(x.trim(), "status").map(|s| s.as_str().to_string()))
            .collect::<Result<Vec<_>, _>>()?,
        None => vec![],
    };
    let f = Filter {
        status,
        kind: q.kind.map(|k| k.as_str().to_string()),
        org_unit_id: q.store,
        technician_id: q.technician,
        customer_id: q.customer,
        device_id: q.device,
        created_from: q.from,
        created_to: q.to,
        overdue_at: q.overdue.filter(|o| *o).map(|_| s.app.now()),
        completed_from: None,
        sort: q.sort.unwrap_or_default(),
    };
    Ok(Json(uc::list(&s.app, &a.actor, &f, page).await?))
}

/// Registers a work order: numbered WO-YYYYMMDD-NNNN, with SLA deadlines and a warranty decision.
#[utoipa::path(post, path = "/work-orders", tag = "work-orders", request_body = uc::NewWorkOrder,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry safely: the same key and body return the first response")),
    responses((status = 201, body = WorkOrder), (status = 422)))]
pub async fn create(
    State(s): State<AppState>,
    a: Auth,
    JsonBody(n): JsonBody<uc::NewWorkOrder>,
) -> Result<Response, ApiError> {
    Ok(with_etag(
        StatusCode::CREATED,
        uc::create(&s.app, &a.actor, n).await?,
    ))
}

#[utoipa::path(get, path = "/work-orders/{id}", operation_id = "get_work_order", tag = "work-orders", responses((status = 200, body = WorkOrder, headers(("ETag" = String))), (status = 404)))]
pub async fn get(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(with_etag(
        StatusCode::OK,
        uc::get(&s.app, &a.actor, id).await?,
    ))
}

/// Changes an order; with `If-Match` a stale version is refused with 412 and who changed what.
#[utoipa::path(patch, path = "/work-orders/{id}", tag = "work-orders", request_body = uc::WorkOrderPatch,
    params(("If-Match" = Option<String>, Header, description = "the ETag the change is based on")),
    responses((status = 200, body = WorkOrder), (status = 412, description = "changed meanwhile")))]
pub async fn update(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    IfMatch(v): IfMatch,
    JsonBody(p): JsonBody<uc::WorkOrderPatch>,
) -> Result<Response, ApiError> {
    Ok(with_etag(
        StatusCode::OK,
        uc::update(&s.app, &a.actor, id, v, p).await?,
    ))
}

/// Moves the order along its lifecycle; an illegal move is 409 `illegal_transition`.
#[utoipa::path(post, path = "/work-orders/{id}/transitions", tag = "work-orders", request_body = uc::Transition,
    params(("If-Match" = Option<String>, Header, description = "the ETag the change is based on")),
    responses((status = 200, body = WorkOrder), (status = 409, description = "illegal transition"), (status = 412)))]
pub async fn transition(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    IfMatch(v): IfMatch,
    JsonBody(t): JsonBody<uc::Transition>,
) -> Result<Response, ApiError> {
    Ok(with_etag(
        StatusCode::OK,
        uc::transition(&s.app, &a.actor, id, v, t).await?,
    ))
}

/// The order's transitions, oldest first.
#[utoipa::path(get, path = "/work-orders/{id}/events", tag = "work-orders", params(PageQuery),
    responses((status = 200, body = Paged<WorkOrderEvent>), (status = 422)))]
pub async fn events(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Paging(page): Paging,
) -> Result<Json<Paged<WorkOrderEvent>>, ApiError> {
    Ok(Json(uc::events(&s.app, &a.actor, id, page).await?))
}

/// The order's visits, in turn.
#[utoipa::path(get, path = "/work-orders/{id}/visits", tag = "work-orders", params(PageQuery),
    responses((status = 200, body = Paged<Visit>), (status = 422)))]
pub async fn visits(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Paging(page): Paging,
) -> Result<Json<Paged<Visit>>, ApiError> {
    Ok(Json(uc::visits(&s.app, &a.actor, id, page).await?))
}

/// The manager's queue: completed orders awaiting review, oldest first.
#[utoipa::path(get, path = "/reviews/queue", tag = "review", params(PageQuery),
    responses((status = 200, body = Paged<WorkOrder>), (status = 422)))]
pub async fn review_queue(
    State(s): State<AppState>,
    a: Auth,
    Paging(page): Paging,
) -> Result<Json<Paged<WorkOrder>>, ApiError> {
    Ok(Json(
        shouhou_app::review::queue(&s.app, &a.actor, page).await?,
    ))
}

/// Approve (sign: the order becomes reviewed) or return to the technician with a comment.
#[utoipa::path(post, path = "/work-orders/{id}/review", tag = "review", request_body = shouhou_app::review::ReviewInput,
    responses((status = 200, body = WorkOrder), (status = 409), (status = 422)))]
pub async fn review(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    JsonBody(r): JsonBody<shouhou_app::review::ReviewInput>,
) -> Result<Response, ApiError> {
    Ok(with_etag(
        StatusCode::OK,
        shouhou_app::review::review(&s.app, &a.actor, id, r).await?,
    ))
}

/// The reviews of an order (approvals and returns with their comments), oldest first.
#[utoipa::path(get, path = "/work-orders/{id}/reviews", tag = "review", params(PageQuery),
    responses((status = 200, body = Paged<Review>), (status = 422)))]
pub async fn reviews(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Paging(page): Paging,
) -> Result<Json<Paged<Review>>, ApiError> {
    Ok(Json(
        shouhou_app::review::history(&s.app, &a.actor, id, page).await?,
    ))
}

/// Books the revisit of an order waiting for parts or another visit: the window becomes the
/// order's appointment (the dispatcher's day takes it).
#[utoipa::path(put, path = "/work-orders/{id}/revisit", tag = "work-orders", request_body = uc::Revisit,
    params(("If-Match" = Option<String>, Header, description = "the ETag the change is based on")),
    responses((status = 200, body = WorkOrder), (status = 412), (status = 422)))]
pub async fn revisit(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    IfMatch(v): IfMatch,
    JsonBody(r): JsonBody<uc::Revisit>,
) -> Result<Response, ApiError> {
    Ok(with_etag(
        StatusCode::OK,
        uc::book_revisit(&s.app, &a.actor, id, v, r).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Reassign {
    pub technician_id: i64,
}

/// Gives an assigned order (not yet accepted) to another technician.
#[utoipa::path(post, path = "/work-orders/{id}/reassign", tag = "work-orders", request_body = Reassign,
    params(("If-Match" = Option<String>, Header, description = "the ETag the change is based on")),
    responses((status = 200, body = WorkOrder), (status = 412), (status = 422)))]
pub async fn reassign(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    IfMatch(v): IfMatch,
    JsonBody(r): JsonBody<Reassign>,
) -> Result<Response, ApiError> {
    Ok(with_etag(
        StatusCode::OK,
        uc::reassign(&s.app, &a.actor, id, v, r.technician_id).await?,
    ))
}
