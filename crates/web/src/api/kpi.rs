//! KPIs (指标) for anyone to check the numbers: a table of every KPI for a period, grouped, in
//! the user's scope; and the work orders behind any figure (its numerator's or denominator's
//! set), so every number drills down to the jobs that make it.

use axum::extract::State;
use axum::Json;
use shouhou_app::kpi::{self as uc, Params, Side, Table};
use shouhou_domain::kpi::Kpi;
use shouhou_store::kpi::FactOrder;
use shouhou_store::repo::Paged;

use crate::error::ApiError;
use crate::extract::{Auth, PageQuery, Paging, Path, Query};
use crate::AppState;

/// Every KPI of the period (local dates of the org's time zone, both included), one row per
/// group of `by`; rates carry numerator and denominator, durations their count, median and p90,
/// money fen. KPIs that no records feed yet answer `{"no_data": true}`.
#[utoipa::path(get, path = "/kpis", tag = "kpis", params(Params),
    responses((status = 200, body = Table), (status = 404, description = "the unit is not one the user may see"), (status = 422)))]
pub async fn table(
    State(s): State<AppState>,
    a: Auth,
    Query(p): Query<Params>,
) -> Result<Json<Table>, ApiError> {
    Ok(Json(uc::table(&s.app, &a.actor, &p.query()).await?))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SideQuery {
    /// The numerator's orders or the denominator's (default).
    #[param(inline)]
    pub side: Option<Side>,
}

/// The work orders behind a KPI of the period: those counted in its numerator or denominator
/// (for a duration, the orders measured, with their seconds), newest first, with the total
/// (exact up to 10,000, then `total_capped`; exact however many where the figure itself is
/// the count). A KPI counting visits or complaints lists a row per visit or complaint (its
/// day and technician, with its order), so the total is the figure's count.
#[utoipa::path(get, path = "/kpis/{key}/orders", tag = "kpis",
    params(("key" = Kpi, Path, description = "the KPI"), Params, SideQuery, PageQuery),
    responses((status = 200, body = Paged<FactOrder>), (status = 404), (status = 422)))]
pub async fn orders(
    State(s): State<AppState>,
    a: Auth,
    Path(key): Path<String>,
    Query(p): Query<Params>,
    Query(side): Query<SideQuery>,
    Paging(page): Paging,
) -> Result<Json<Paged<FactOrder>>, ApiError> {
    let key = Kpi::parse_field(&key, "kpi").map_err(shouhou_app::AppError::from)?;
    let side = side.side.unwrap_or(Side::Denominator);
    Ok(Json(
        uc::orders(&s.app, &a.actor, key, side, &p.query(), page).await?,
    ))
}
