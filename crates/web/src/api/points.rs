//! Technician points (积分): the rules (read by anyone who reads the ranking, replaced by an
//! admin with a new version from an effective date), a month's ranking in the user's units, a
//! technician's entries of a month, a manager's adjustment, and an order's difficulty grade.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use shouhou_app::points::{
    self as uc, MonthQuery, NewAdjustment, NewRules, Ranking, RulesView, TechnicianMonth,
};
use shouhou_domain::points::Difficulty;
use shouhou_store::points::EntryRow;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::extract::{Auth, IfMatch, JsonBody, Path, Query};
use crate::AppState;

/// The rules in force today and every version, oldest first. Points are numbers with up to two
/// decimals; multipliers by difficulty grade (1.5 = one and a half times the base).
#[utoipa::path(get, path = "/points/rules", tag = "points",
    responses((status = 200, body = RulesView), (status = 403)))]
pub async fn rules(State(s): State<AppState>, a: Auth) -> Result<Json<RulesView>, ApiError> {
    Ok(Json(uc::rules(&s.app, &a.actor).await?))
}

/// Adds a version of the rules (admin), in force from `effective_from`; entries of orders
/// already in the ledger from that date are corrected by appended entries.
#[utoipa::path(put, path = "/points/rules", tag = "points", request_body = NewRules,
    responses((status = 200, body = RulesView), (status = 403), (status = 422)))]
pub async fn replace_rules(
    State(s): State<AppState>,
    a: Auth,
    JsonBody(n): JsonBody<NewRules>,
) -> Result<Json<RulesView>, ApiError> {
    Ok(Json(uc::replace_rules(&s.app, &a.actor, n).await?))
}

/// The month's ranking of the technicians of the user's units: ranked by points those with at
/// least `min_visits` visits in the month (ties share a rank), then the others unranked with the
/// visits they lack.
#[utoipa::path(get, path = "/points/ranking", tag = "points", params(MonthQuery),
    responses((status = 200, body = Ranking), (status = 403), (status = 422)))]
pub async fn ranking(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<MonthQuery>,
) -> Result<Json<Ranking>, ApiError> {
    let m = q.month(&s.app)?;
    Ok(Json(uc::ranking(&s.app, &a.actor, m).await?))
}

/// A technician's points, rank and entries of the month (a technician: its own only).
#[utoipa::path(get, path = "/points/technicians/{id}", tag = "points", params(MonthQuery),
    responses((status = 200, body = TechnicianMonth), (status = 404), (status = 422)))]
pub async fn entries(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<MonthQuery>,
) -> Result<Json<TechnicianMonth>, ApiError> {
    let m = q.month(&s.app)?;
    Ok(Json(uc::technician_month(&s.app, &a.actor, id, m).await?))
}

/// Adds an adjustment with its reason (manager or admin), audited.
#[utoipa::path(post, path = "/points/adjustments", tag = "points", request_body = NewAdjustment,
    responses((status = 201, body = EntryRow), (status = 403), (status = 404), (status = 422)))]
pub async fn adjust(
    State(s): State<AppState>,
    a: Auth,
    JsonBody(n): JsonBody<NewAdjustment>,
) -> Result<(StatusCode, Json<EntryRow>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(uc::adjust(&s.app, &a.actor, n).await?),
    ))
}

/// An order's difficulty grade.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Grade {
    pub difficulty: Difficulty,
    /// The order's version after the change (its ETag).
    #[serde(default)]
    pub version: Option<i64>,
}

/// An order's difficulty grade (easy / normal / hard; default normal).
#[utoipa::path(get, path = "/work-orders/{id}/difficulty", tag = "points",
    responses((status = 200, body = Grade), (status = 404)))]
pub async fn difficulty(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> Result<Json<Grade>, ApiError> {
    Ok(Json(Grade {
        difficulty: uc::difficulty(&s.app, &a.actor, id).await?,
        version: None,
    }))
}

/// Sets an order's difficulty grade (dispatcher, manager, admin), audited; the order's points
/// follow. With `If-Match` a stale version is refused with 412.
#[utoipa::path(put, path = "/work-orders/{id}/difficulty", tag = "points", request_body = Grade,
    params(("If-Match" = Option<String>, Header, description = "the order's ETag; a stale one is refused with 412")),
    responses((status = 200, body = Grade), (status = 403), (status = 404), (status = 412), (status = 422)))]
pub async fn set_difficulty(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    IfMatch(if_match): IfMatch,
    JsonBody(g): JsonBody<Grade>,
) -> Result<Json<Grade>, ApiError> {
    let v = uc::set_difficulty(&s.app, &a.actor, id, g.difficulty, if_match).await?;
    Ok(Json(Grade {
        difficulty: g.difficulty,
        version: Some(v),
    }))
}
