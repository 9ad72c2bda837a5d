//! Satisfaction by item (分项满意度): the follow-up questionnaires (read by the office, set by an
//! admin), the questionnaire an order's follow-up asks, and CSI per item for a period and group
//! with the improvement priority.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use shouhou_app::csi::{self as uc, QuestionnaireInput, Table};
use shouhou_app::kpi::Params;
use shouhou_store::csi::Questionnaire;

use shouhou_store::repo::Paged;

use crate::error::ApiError;
use crate::extract::{Auth, JsonBody, PageQuery, Paging, Path, Query};
use crate::AppState;

/// The follow-up questionnaires, the active ones first, then by brand and type.
#[utoipa::path(get, path = "/questionnaires", tag = "csi", params(PageQuery),
    responses((status = 200, body = Paged<Questionnaire>), (status = 403)))]
pub async fn list(
    State(s): State<AppState>,
    a: Auth,
    Paging(page): Paging,
) -> Result<Json<Paged<Questionnaire>>, ApiError> {
    let all = uc::questionnaires(&s.app, &a.actor).await?;
    Ok(Json(Paged {
        total: all.len() as i64,
        total_capped: false,
        items: all
            .into_iter()
            .skip(page.offset as usize)
            .take(page.limit as usize)
            .collect(),
        limit: page.limit,
        offset: page.offset,
    }))
}

/// A new questionnaire (admin): its items, and the brand and/or work-order type it is for
/// (none = all). One active questionnaire per brand and type. Audited.
#[utoipa::path(post, path = "/questionnaires", tag = "csi", request_body = QuestionnaireInput,
    responses((status = 201, body = Questionnaire), (status = 403), (status = 422)))]
pub async fn create(
    State(s): State<AppState>,
    a: Auth,
    JsonBody(b): JsonBody<QuestionnaireInput>,
) -> Result<(StatusCode, Json<Questionnaire>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(uc::create(&s.app, &a.actor, b).await?),
    ))
}

/// Changes a questionnaire (admin); answers already given keep the items as they were asked.
/// Audited.
#[utoipa::path(put, path = "/questionnaires/{id}", tag = "csi", request_body = QuestionnaireInput,
    responses((status = 200, body = Questionnaire), (status = 403), (status = 404), (status = 422)))]
pub async fn update(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<QuestionnaireInput>,
) -> Result<Json<Questionnaire>, ApiError> {
    Ok(Json(uc::update(&s.app, &a.actor, id, b).await?))
}

/// The questionnaire an order's follow-up asks (the active one that fits its brand and type
/// best); its items are what `POST /work-orders/{id}/follow-up` takes in `items`.
#[utoipa::path(get, path = "/work-orders/{id}/questionnaire", tag = "csi",
    responses((status = 200, body = Option<Questionnaire>), (status = 404)))]
pub async fn of_order(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> Result<Json<Option<Questionnaire>>, ApiError> {
    Ok(Json(uc::of_order(&s.app, &a.actor, id).await?))
}

/// CSI per item of the period (orders completed in it, the org's time zone), one row per group
/// of `by`: each item's answers by rating, Σ score in thirds of a point (`points`; CSI =
/// 100 × points ÷ (3 × n)), the CSI with one decimal, the low answers (一般 or 不满意) and the
/// improvement priority (1 = most low answers).
#[utoipa::path(get, path = "/csi", tag = "csi", params(Params),
    responses((status = 200, body = Table), (status = 403), (status = 404, description = "the unit is not one the user may see"), (status = 422)))]
pub async fn table(
    State(s): State<AppState>,
    a: Auth,
    Query(p): Query<Params>,
) -> Result<Json<Table>, ApiError> {
    Ok(Json(uc::table(&s.app, &a.actor, &p.query()).await?))
}
