//! The lookup behind intake: one query over customers and devices.

use shouhou_domain::{validate, ValidationError};
use shouhou_store::search::{self, SearchResult};

use crate::{Actor, App, AppError, Result};

/// The most hits of each kind one lookup returns.
pub const MAX_LIMIT: i64 = 100;

/// Customers and devices matching `q`, up to `limit` (1–[`MAX_LIMIT`]) of each.
pub async fn lookup(app: &App, actor: &Actor, q: &str, limit: i64) -> Result<SearchResult> {
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            ValidationError::OutOfRange {
                min: 1,
                max: MAX_LIMIT,
            },
        ));
    }
    // A NUL would reach the database (PostgreSQL refuses it in text).
    validate::one_line(q, "q")?;
    if !validate::search_query_ok(q) {
        return Err(AppError::invalid(
            "q",
            ValidationError::Invalid {
                zh: "请至少输入 4 位电话号码、4 位序列号、2 个汉字或 3 个字母".into(),
                en:
                    "type at least 4 digits of a phone or serial, 2 Chinese characters or 3 letters"
                        .into(),
            },
        ));
    }
    Ok(search::lookup(&app.db, &actor.vis, q, limit).await?)
}

/// Lookup for intake: the hits, plus the devices of the customers found (the customers are
/// already scoped, so their devices are too).
pub async fn lookup_with_devices(app: &App, actor: &Actor, q: &str) -> Result<SearchResult> {
    let mut r = lookup(app, actor, q, 20).await?;
    let ids: Vec<i64> = r.customers.iter().map(|c| c.id).collect();
    for d in search::devices_of(&app.db, &ids, 40).await? {
        if !r.devices.iter().any(|x| x.id == d.id) {
            r.devices.push(d);
        }
    }
    Ok(r)
}
