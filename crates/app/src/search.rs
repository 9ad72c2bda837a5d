//! The lookup behind intake: one query over customers and devices.

use shouhou_domain::{validate, work_order_number, ValidationError};
use shouhou_store::records::{Customer, WorkOrder};
use shouhou_store::repo::customers;
use shouhou_store::search::{self, SearchResult};
use shouhou_store::work_orders;

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

/// Customers the user may see that share one phone: likely one person entered twice.
#[derive(Debug, Clone)]
pub struct SharedPhone {
    pub phone: String,
    /// Oldest first (the one to keep by default).
    pub customers: Vec<Customer>,
}

/// What the intake's one search box finds.
#[derive(Debug, Clone, Default)]
pub struct IntakeLookup {
    pub found: SearchResult,
    /// The order a work-order number names.
    pub work_orders: Vec<WorkOrder>,
    /// Among the customers found, phones that more than one customer has.
    pub shared_phones: Vec<SharedPhone>,
}

/// The intake lookup: a work-order number finds its order; anything else finds customers and
/// devices ([`lookup_with_devices`]) and says which of the customers found share a phone with
/// another customer.
pub async fn intake(app: &App, actor: &Actor, q: &str) -> Result<IntakeLookup> {
    validate::one_line(q, "q")?;
    let mut out = IntakeLookup::default();
    if let Some(number) = work_order_number::from_query(q) {
        out.work_orders
            .extend(work_orders::by_number(&app.db, &actor.vis, &number).await?);
        return Ok(out);
    }
    out.found = lookup_with_devices(app, actor, q).await?;
    let ids: Vec<i64> = out.found.customers.iter().map(|c| c.id).collect();
    let mut phones: Vec<String> = Vec::new();
    for (_, p) in customers::phones_of(&app.db, &ids).await? {
        if !phones.contains(&p) {
            phones.push(p);
        }
    }
    let holders = customers::with_phones(&app.db, &actor.vis, &phones, None).await?;
    for phone in phones {
        let same: Vec<Customer> = holders
            .iter()
            .filter(|c| c.phones.contains(&phone))
            .cloned()
            .collect();
        let ids: Vec<i64> = same.iter().map(|c| c.id).collect();
        let seen = out
            .shared_phones
            .iter()
            .any(|s| s.customers.iter().map(|c| c.id).eq(ids.iter().copied()));
        if same.len() > 1 && !seen {
            out.shared_phones.push(SharedPhone {
                phone,
                customers: same,
            });
        }
    }
    Ok(out)
}
