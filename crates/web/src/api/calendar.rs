//! The working calendar SLA rules in working hours count by: working weekdays and hours, and
//! per year the public holidays and adjusted working days. One settings document, replaced
//! whole by the admin.

use axum::extract::State;
use shouhou_app::calendar;
use shouhou_domain::calendar::WorkCalendar;

use crate::extract::{tagged, Auth, IfMatch, JsonBody, TaggedResult};
use crate::AppState;

/// The working calendar in force (China's published holidays until an admin sets it).
#[utoipa::path(get, path = "/work-calendar", tag = "catalog", responses((status = 200, body = WorkCalendar, headers(("ETag" = String)))))]
pub async fn get_calendar(State(s): State<AppState>, _a: Auth) -> TaggedResult<WorkCalendar> {
    let (cal, v) = calendar::calendar(&s.app).await?;
    Ok(tagged(cal, v))
}

/// Replaces the working calendar (admin). Answers it as kept: weekdays Monday first, years,
/// holidays and adjusted working days by date.
#[utoipa::path(put, path = "/work-calendar", tag = "catalog", params(("If-Match" = Option<String>, Header, description = "the ETag the change is based on; a stale one is refused with 412")), request_body = WorkCalendar, responses((status = 200, body = WorkCalendar, headers(("ETag" = String))), (status = 412, description = "the calendar changed since the ETag sent")))]
pub async fn set_calendar(
    State(s): State<AppState>,
    a: Auth,
    IfMatch(if_match): IfMatch,
    JsonBody(c): JsonBody<WorkCalendar>,
) -> TaggedResult<WorkCalendar> {
    let (cal, v) = calendar::set_calendar(&s.app, &a.actor, if_match, c).await?;
    Ok(tagged(cal, v))
}
