//! The field side: service report, parts, signature, photos, sales leads, knowledge base,
//! follow-ups, fee rules, self-service requests.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use shouhou_app::crm::{self, ArticleInput, FollowUpInput, NewLead};
use shouhou_app::service::{self, PartInput, ReportInput, ServiceReport, SignatureInput};
use shouhou_domain::{Category, OpportunityStatus};
use shouhou_store::records::WorkOrder;
use shouhou_store::repo::Paged;
use shouhou_store::service::{
    Article, FeeRule, FollowUp, Opportunity, PartLine, Photo, ServiceRequest, VisitReport,
};
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::extract::{
    tagged, Auth, IfMatch, JsonBody, PageQuery, Paging, Path, Query, RawBody, TaggedResult,
};
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

/// Records a sales lead (商机) on an order.
#[utoipa::path(post, path = "/work-orders/{id}/opportunities", tag = "crm", request_body = NewLead, responses((status = 200, body = Opportunity), (status = 422)))]
pub async fn add_opportunity(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    JsonBody(n): JsonBody<NewLead>,
) -> Result<Json<Opportunity>, ApiError> {
    Ok(Json(crm::add_opportunity(&s.app, &a.actor, id, n).await?))
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
        crm::opportunities(&s.app, &a.actor, q.status, page).await?,
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
        crm::set_opportunity_status(&s.app, &a.actor, id, b.status).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct KbQuery {
    pub category: Option<Category>,
    pub product_id: Option<i64>,
    pub q: Option<String>,
}

/// Knowledge-base articles for a category (the product's own first, then the newest) matching
/// every word of `q`.
#[utoipa::path(get, path = "/kb", tag = "kb", params(KbQuery, PageQuery),
    responses((status = 200, body = Paged<Article>), (status = 422)))]
pub async fn search_kb(
    State(s): State<AppState>,
    _a: Auth,
    Query(q): Query<KbQuery>,
    Paging(page): Paging,
) -> Result<Json<Paged<Article>>, ApiError> {
    Ok(Json(
        crm::search_articles(
            &s.app,
            q.category,
            q.product_id,
            q.q.as_deref().unwrap_or(""),
            page,
        )
        .await?,
    ))
}

/// Writes an article (managers, admins, senior technicians).
#[utoipa::path(post, path = "/kb", tag = "kb", request_body = ArticleInput, responses((status = 200, body = Article), (status = 403), (status = 422)))]
pub async fn create_article(
    State(s): State<AppState>,
    a: Auth,
    JsonBody(b): JsonBody<ArticleInput>,
) -> Result<Json<Article>, ApiError> {
    Ok(Json(
        crm::save_article(&s.app, &a.actor, None, None, b).await?,
    ))
}

#[utoipa::path(get, path = "/kb/{id}", tag = "kb", responses((status = 200, body = Article, headers(("ETag" = String)))))]
pub async fn get_article(
    State(s): State<AppState>,
    _a: Auth,
    Path(id): Path<i64>,
) -> TaggedResult<Article> {
    let r = crm::article(&s.app, id).await?;
    let v = r.version;
    Ok(tagged(r, v))
}

#[utoipa::path(put, path = "/kb/{id}", tag = "kb", params(("If-Match" = Option<String>, Header, description = "the ETag the change is based on; a stale one is refused with 412")), request_body = ArticleInput, responses((status = 200, body = Article, headers(("ETag" = String))), (status = 403), (status = 412, description = "the article changed since the ETag sent"), (status = 422)))]
pub async fn update_article(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    IfMatch(if_match): IfMatch,
    JsonBody(b): JsonBody<ArticleInput>,
) -> TaggedResult<Article> {
    let r = crm::save_article(&s.app, &a.actor, Some(id), if_match, b).await?;
    let v = r.version;
    Ok(tagged(r, v))
}

/// The follow-up call's answer (回访); 不满意 opens a complaint owned by the order's manager.
#[utoipa::path(post, path = "/work-orders/{id}/follow-up", tag = "crm", request_body = FollowUpInput, responses((status = 200, body = FollowUp), (status = 422)))]
pub async fn add_follow_up(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<FollowUpInput>,
) -> Result<Json<FollowUp>, ApiError> {
    Ok(Json(crm::record_follow_up(&s.app, &a.actor, id, b).await?))
}

#[utoipa::path(get, path = "/work-orders/{id}/follow-up", tag = "crm", responses((status = 200, body = Option<FollowUp>)))]
pub async fn get_follow_up(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> Result<Json<Option<FollowUp>>, ApiError> {
    Ok(Json(crm::follow_up(&s.app, &a.actor, id).await?))
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
