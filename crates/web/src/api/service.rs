//! The service report of an order: findings and work, parts, signature, photos; the fee rules
//! that price labour and travel.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use shouhou_app::service::{self, PartInput, ReportInput, ServiceReport, SignatureInput};
use shouhou_store::service::{FeeRule, PartLine, Photo, VisitReport};
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::extract::{tagged, Auth, IfMatch, JsonBody, Path, Query, RawBody, TaggedResult};
use crate::AppState;

/// The service report: order, device, each visit's findings and work, parts, charges with who
/// pays, photos and the signature.
#[utoipa::path(get, path = "/work-orders/{id}/report", tag = "field", responses((status = 200, body = ServiceReport)))]
pub async fn get_report(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> Result<Json<ServiceReport>, ApiError> {
    Ok(Json(service::report(&s.app, &a.actor, id).await?))
}

/// Findings, work done and labour minutes of the current visit; labour and travel are priced
/// again from the fee rules. Setting the same values twice changes nothing.
#[utoipa::path(put, path = "/work-orders/{id}/report", tag = "field", request_body = ReportInput, responses((status = 200, body = VisitReport), (status = 422)))]
pub async fn put_report(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    JsonBody(r): JsonBody<ReportInput>,
) -> Result<Json<VisitReport>, ApiError> {
    Ok(Json(service::save_report(&s.app, &a.actor, id, r).await?))
}

/// Adds a part from the product's parts list; a retry with the same `client_key` returns the
/// line the first request made.
#[utoipa::path(post, path = "/work-orders/{id}/parts", tag = "field", request_body = PartInput, responses((status = 200, body = PartLine), (status = 422)))]
pub async fn add_part(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    JsonBody(p): JsonBody<PartInput>,
) -> Result<Json<PartLine>, ApiError> {
    Ok(Json(service::add_part(&s.app, &a.actor, id, p).await?))
}

#[utoipa::path(delete, path = "/work-orders/{id}/parts/{line}", tag = "field", responses((status = 204)))]
pub async fn remove_part(
    State(s): State<AppState>,
    a: Auth,
    Path((id, line)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    service::remove_part(&s.app, &a.actor, id, line).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The customer's signature (SVG path data drawn on the screen).
#[utoipa::path(put, path = "/work-orders/{id}/signature", tag = "field", request_body = SignatureInput, responses((status = 200, body = VisitReport), (status = 422)))]
pub async fn put_signature(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<SignatureInput>,
) -> Result<Json<VisitReport>, ApiError> {
    Ok(Json(service::sign(&s.app, &a.actor, id, b).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PhotoQuery {
    /// Chosen by the client once per photo; a retry with the same key stores nothing new.
    #[param(min_length = 1, max_length = 100)]
    pub key: String,
}

/// Uploads a photo (JPEG or PNG body, ≤ 8 MB); it is shrunk to 1600 px and kept as JPEG.
#[utoipa::path(post, path = "/work-orders/{id}/photos", tag = "field", params(PhotoQuery),
    request_body(content = Vec<u8>, content_type = "image/jpeg"), responses((status = 200, body = Photo), (status = 422)))]
pub async fn add_photo(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<PhotoQuery>,
    RawBody(body): RawBody,
) -> Result<Json<Photo>, ApiError> {
    Ok(Json(
        service::add_photo(&s.app, &a.actor, id, &q.key, body.to_vec()).await?,
    ))
}

#[utoipa::path(get, path = "/work-orders/{id}/photos/{photo}", tag = "field", responses((status = 200, content_type = "image/jpeg")))]
pub async fn get_photo(
    State(s): State<AppState>,
    a: Auth,
    Path((id, photo)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    let p = service::photo(&s.app, &a.actor, id, photo).await?;
    Ok((
        [
            (header::CONTENT_TYPE, p.content_type),
            (header::CACHE_CONTROL, "private, max-age=86400".into()),
        ],
        p.bytes,
    )
        .into_response())
}

#[utoipa::path(get, path = "/fee-rules", tag = "settings", responses((status = 200, body = Vec<FeeRule>, headers(("ETag" = String)))))]
pub async fn get_fee_rules(State(s): State<AppState>, _a: Auth) -> TaggedResult<Vec<FeeRule>> {
    let (rules, v) = service::fee_rules_versioned(&s.app).await?;
    Ok(tagged(rules, v))
}

/// Replaces the fee rules (admin).
#[utoipa::path(put, path = "/fee-rules", tag = "settings", params(("If-Match" = Option<String>, Header, description = "the ETag the change is based on; a stale one is refused with 412")), request_body = Vec<FeeRule>, responses((status = 200, body = Vec<FeeRule>, headers(("ETag" = String))), (status = 412, description = "the rules changed since the ETag sent"), (status = 422)))]
pub async fn put_fee_rules(
    State(s): State<AppState>,
    a: Auth,
    IfMatch(if_match): IfMatch,
    JsonBody(b): JsonBody<Vec<FeeRuleInput>>,
) -> TaggedResult<Vec<FeeRule>> {
    let rules = b
        .into_iter()
        .map(|r| FeeRule {
            id: 0,
            kind: r.kind,
            category: r.category,
            labour_fen: r.labour_fen,
            travel_fen: r.travel_fen,
        })
        .collect();
    let (rules, v) = service::set_fee_rules(&s.app, &a.actor, if_match, rules).await?;
    Ok(tagged(rules, v))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct FeeRuleInput {
    /// The order type the rule prices.
    #[schema(value_type = shouhou_domain::WorkOrderType)]
    pub kind: String,
    /// A product category, or `*` for any.
    #[schema(
        pattern = "^(\\*|tv_audio|refrigeration|washing|small_appliance|kitchen|copier|printer)$"
    )]
    pub category: String,
    pub labour_fen: i64,
    pub travel_fen: i64,
}
