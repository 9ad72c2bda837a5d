//! Targets (目标): one KPI and period as the tree the user sets targets in (each unit and
//! technician with its parent's target beside it, the children's sum and a flag where they do not
//! add up), setting one target, and where a unit or a technician stands against its targets.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use shouhou_app::targets::{self as uc, Progress, SetTarget, Sheet, SheetQuery, Subject};
use shouhou_domain::targets::PeriodKind;
use shouhou_store::targets::Target;

use crate::error::ApiError;
use crate::extract::{Auth, JsonBody, Query};
use crate::AppState;

/// The targets of one KPI and period (admins and managers): the user's unit, the units below
/// and their technicians, depth first; values in the KPI's unit (rates as fractions 0–1, money
/// in fen), each line with its parent's target, the children's sum and `mismatch` for KPIs that
/// add up (service revenue), the value so far and its status.
#[utoipa::path(get, path = "/targets", tag = "targets", params(SheetQuery),
    responses((status = 200, body = Sheet), (status = 403), (status = 422)))]
pub async fn sheet(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<SheetQuery>,
) -> Result<Json<Sheet>, ApiError> {
    Ok(Json(uc::sheet(&s.app, &a.actor, &q).await?))
}

/// Sets the committed and stretch values of a unit (`unit_id`) or a technician
/// (`technician_id`) for a KPI and period; from the same effective day it changes the values,
/// from a later one it adds a row in force from then. Audited.
#[utoipa::path(put, path = "/targets", tag = "targets", request_body = SetTarget,
    responses((status = 200, body = Target), (status = 403), (status = 404), (status = 412), (status = 422)))]
pub async fn set(
    State(s): State<AppState>,
    a: Auth,
    JsonBody(t): JsonBody<SetTarget>,
) -> Result<(StatusCode, Json<Target>), ApiError> {
    Ok((StatusCode::OK, Json(uc::set(&s.app, &a.actor, t).await?)))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProgressQuery {
    /// A unit's targets …
    pub unit_id: Option<i64>,
    /// … or a technician's (default: the signed-in technician's own).
    pub technician_id: Option<i64>,
    /// `month` (default), `quarter` or `year`.
    #[param(value_type = Option<String>)]
    pub period_kind: Option<PeriodKind>,
    /// Any day of the period (default today).
    pub day: Option<NaiveDate>,
}

/// Where a unit or a technician stands against each of its targets in the period: the target,
/// the value so far and `stretch` (挑战达成), `committed` (确保达成) or `below` (未达成), by the
/// KPI's direction.
#[utoipa::path(get, path = "/targets/progress", tag = "targets", params(ProgressQuery),
    responses((status = 200, body = Vec<Progress>), (status = 404), (status = 422)))]
pub async fn progress(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<ProgressQuery>,
) -> Result<Json<Vec<Progress>>, ApiError> {
    let subject = match (q.unit_id, q.technician_id.or(a.actor.technician_id)) {
        (Some(u), _) => Subject::Unit(u),
        (None, Some(t)) => Subject::Technician(t),
        (None, None) => Subject::Unit(a.actor.user.org_unit_id),
    };
    let day = q.day.unwrap_or_else(|| s.app.today());
    let kind = q.period_kind.unwrap_or(PeriodKind::Month);
    Ok(Json(
        uc::progress(&s.app, &a.actor, subject, kind, day).await?,
    ))
}
