//! The working calendar SLA deadlines in working hours run on: one settings document
//! (`settings` row `work_calendar`, version in `setting_versions`), China's published holidays
//! until an admin sets it; replaced whole by the admin, versioned and audited.

use serde_json::{json, Map, Value};
use shouhou_domain::calendar::{default_calendar, WorkCalendar, WorkingTime};
use shouhou_domain::sla::SlaTime;
use shouhou_domain::Role;
use shouhou_store::repo::{self, versions};
use shouhou_store::Tx;

use crate::{Actor, App, Result};

/// The name of the setting (row of `settings`, version in `setting_versions`).
pub const SETTING: &str = "work_calendar";

/// The stored calendar, or the default one when none is stored (or what is stored no longer
/// passes the check).
fn read(stored: Option<String>) -> (WorkCalendar, WorkingTime) {
    stored
        .and_then(|v| serde_json::from_str::<WorkCalendar>(&v).ok())
        .and_then(|c| c.check().ok())
        .or_else(|| default_calendar().check().ok())
        .unwrap_or_else(|| {
            (
                default_calendar(),
                shouhou_domain::calendar::default_working_time(),
            )
        })
}

/// The calendar in force and its version (the ETag of the settings page and API).
pub async fn calendar(app: &App) -> Result<(WorkCalendar, i64)> {
    let (cal, _) = read(repo::settings::get(&app.db, SETTING).await?);
    Ok((cal, versions::setting(&app.db, SETTING).await?))
}

/// The calendar in force, read inside `tx` (as an order's deadlines are computed).
pub async fn working_time_tx(tx: &mut Tx) -> Result<WorkingTime> {
    Ok(read(repo::settings::get_tx(tx, SETTING).await?).1)
}

/// The calendar in force, read outside any transaction.
pub async fn working_time(app: &App) -> Result<WorkingTime> {
    Ok(read(repo::settings::get(&app.db, SETTING).await?).1)
}

/// The clock of SLA rules: the calendar in the org's time zone.
pub fn sla_time<'a>(app: &'a App, calendar: &'a WorkingTime) -> SlaTime<'a, chrono_tz::Tz> {
    SlaTime {
        calendar,
        tz: &app.settings.time_zone,
    }
}

/// What the audit shows of a calendar: the week, and each year by itself, so a change to one
/// year's holidays lists that year only.
fn shown(c: &WorkCalendar) -> Value {
    let mut m = Map::new();
    m.insert("weekdays".into(), json!(c.weekdays));
    m.insert("opens".into(), json!(c.opens));
    m.insert("closes".into(), json!(c.closes));
    for y in &c.years {
        m.insert(
            format!("year_{}", y.year),
            json!({"holidays": y.holidays, "workdays": y.workdays}),
        );
    }
    Value::Object(m)
}

/// Replaces the calendar (admin only), based on version `if_match` when given; returns it as
/// kept (in order) and its new version.
pub async fn set_calendar(
    app: &App,
    actor: &Actor,
    if_match: Option<i64>,
    input: WorkCalendar,
) -> Result<(WorkCalendar, i64)> {
    actor.require(&[Role::Admin])?;
    let (after, _) = input.check()?;
    let (before, _) = calendar(app).await?;
    let value =
        serde_json::to_string(&after).map_err(|e| crate::AppError::Internal(e.to_string()))?;
    let mut tx = app.db.begin().await?;
    let version = match versions::bump_setting(&mut tx, SETTING, if_match).await? {
        Ok(v) => v,
        Err(current) => return Err(crate::audit::stale(&mut tx, SETTING, 0, current).await),
    };
    repo::settings::put(&mut tx, SETTING, &value, app.now()).await?;
    let changes = crate::audit::diff(&shown(&before), &shown(&after));
    repo::audit::insert(
        &mut tx,
        SETTING,
        0,
        "update",
        Some(actor.id()),
        app.now(),
        &changes,
    )
    .await?;
    tx.commit().await?;
    Ok((after, version))
}
