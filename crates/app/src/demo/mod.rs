//! Demo data: a Hangzhou-like city with a head office, three stores that differ, an installation
//! partner, twelve technicians with skills and a shift rota, customers and their installed base,
//! and a history that ends "now" like a real store's week: work fitted to the rota and the skills,
//! urgent calls answered first, a backlog of tens of orders per store (a few overdue), every state
//! present today, charges and parts on reports, follow-ups that follow the service. `seed` makes
//! it repeatable. Loads only into an empty store.
//!
//! - `names`: text tables (people, addresses, products, parts, faults).
//! - `org`: units, users, technicians, shifts, SLA rules.
//! - `archive`: warranty policies, products, customers, devices.
//! - `demand`: what comes in each day; `schedule`: the technicians' days; `history`: the days
//!   one after another up to now; `orders`: an order's events, visits and rows, and the writing.
//! - `service`: fee rules, charges, parts, photos, reviews; `crm`: follow-ups, complaints, leads,
//!   knowledge base.

mod archive;
mod chain;
mod crm;
mod demand;
mod history;
mod names;
mod orders;
mod org;
mod schedule;
mod service;
mod targets;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shouhou_domain::{work_order_number, Role};
use shouhou_store::{args, Arg};

use crate::{App, AppError, Result};

pub struct DemoOptions {
    pub seed: u64,
    pub customers: usize,
    /// Devices per customer on average (1.5 for the demo city, 2 for the large lookup store).
    pub devices_per_customer: f64,
    /// Orders in the history. The city takes about 46 a day (more in summer, fewer in
    /// winter), so the history covers about `orders / 46` days (a week at least, a year at most).
    /// More than a year's 17,000 make a chain: ⌈orders / 17,000⌉ regions, each a copy of the
    /// city with its share of the orders and `customers` customers (see `chain`).
    pub orders: usize,
    /// Orders a region of a chain takes (the city's year, [`CITY_YEAR`]; smaller in tests).
    pub region_orders: usize,
    pub password: String,
    /// "Now": history ends here.
    pub now: DateTime<Utc>,
}

impl DemoOptions {
    /// The demo city: 20,000 customers with 30,000 devices and a year of 17,000 orders.
    pub fn city(seed: u64, password: &str, now: DateTime<Utc>) -> DemoOptions {
        DemoOptions {
            seed,
            customers: 20_000,
            devices_per_customer: 1.5,
            orders: 17_000,
            region_orders: CITY_YEAR,
            password: password.to_string(),
            now,
        }
    }
}

#[derive(Debug, Clone)]
pub struct DemoReport {
    pub logins: Vec<(String, Role)>,
    pub customers: usize,
    pub devices: usize,
    pub work_orders: usize,
    pub visits: usize,
}

/// Called with (stage, done, total) as generation goes on.
pub type Progress<'a> = &'a (dyn Fn(&str, u64, u64) + Sync);

/// Orders a day in the city at its twelve technicians' pace (a year of the default options).
const ORDERS_PER_DAY: f64 = 17_000.0 / 365.0;

/// The city's year of orders: more make a chain of regions, each a copy of the city
/// (`chain`), `customers` each.
pub const CITY_YEAR: usize = 17_000;

/// The history's days in the org's time zone: `start` is day 0, today is day `days - 1`.
struct Calendar {
    tz: Tz,
    now: DateTime<Utc>,
    today: NaiveDate,
    start: NaiveDate,
    days: i64,
}

impl Calendar {
    fn new(tz: Tz, now: DateTime<Utc>, orders: usize) -> Calendar {
        let local = now.with_timezone(&tz);
        let today = local.date_naive();
        let minute = (local.time() - NaiveTime::MIN).num_minutes();
        let days = demand::span(today, minute, orders, ORDERS_PER_DAY);
        Calendar {
            tz,
            now,
            today,
            start: today - Duration::days(days - 1),
            days,
        }
    }

    fn day(&self, i: i64) -> NaiveDate {
        self.start + Duration::days(i)
    }

    fn index(&self, d: NaiveDate) -> i64 {
        (d - self.start).num_days()
    }

    fn date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    fn month0(&self, d: NaiveDate) -> usize {
        d.month0() as usize
    }

    /// Local minute of the day.
    fn minute(&self, t: DateTime<Utc>) -> i64 {
        let l = t.with_timezone(&self.tz).time();
        (l - NaiveTime::MIN).num_minutes()
    }

    /// `minute` (local) of `day`, as UTC.
    fn at(&self, day: NaiveDate, minute: i64) -> DateTime<Utc> {
        let t = day.and_time(NaiveTime::MIN) + Duration::minutes(minute);
        self.tz
            .from_local_datetime(&t)
            .earliest()
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_else(|| t.and_utc())
    }

    /// `t`, or when the office next works after it (08:30–19:00).
    fn office(&self, t: DateTime<Utc>, rng: &mut StdRng) -> DateTime<Utc> {
        self.opening(t, rng, 60)
    }

    /// `t`, or a time in the office's next working hours when it falls outside them (spread over
    /// the morning, not all at opening time).
    fn working(&self, t: DateTime<Utc>, rng: &mut StdRng) -> DateTime<Utc> {
        self.opening(t, rng, 300)
    }

    /// `t` in office hours (08:30–19:00), else the next opening plus up to `spread` minutes.
    fn opening(&self, t: DateTime<Utc>, rng: &mut StdRng, spread: i64) -> DateTime<Utc> {
        let m = self.minute(t);
        if (8 * 60 + 30..19 * 60).contains(&m) {
            return t;
        }
        let day = if m < 8 * 60 + 30 {
            self.date(t)
        } else {
            self.date(t) + Duration::days(1)
        };
        self.at(day, 8 * 60 + 30 + rng.gen_range(0..spread))
    }
}

/// Loads the demo data into an empty store.
pub async fn generate(app: &App, o: &DemoOptions, progress: Progress<'_>) -> Result<DemoReport> {
    let (n_users,): (i64,) = app
        .db
        .fetch_one("SELECT COUNT(*) FROM users", vec![])
        .await?;
    if n_users > 0 {
        return Err(AppError::Internal(
            "the store is not empty: demo data loads only into an empty store".into(),
        ));
    }
    // More orders than the city's year: a chain of regions, each a copy of the city.
    let copies = o.orders.div_ceil(o.region_orders.max(1)).max(1);
    let city_orders = o.orders.div_ceil(copies);
    let cal = Calendar::new(app.settings.time_zone, o.now, city_orders);
    let mut rng = StdRng::seed_from_u64(o.seed);
    let names = names::Names::new();

    let mut tx = app.db.begin().await?;
    let org = org::load(&mut tx, &mut rng, &names, &cal, &o.password).await?;
    let rules = service::fee_rules(&mut tx).await?;
    let policies = archive::catalog(&mut tx, cal.now).await?;
    crm::knowledge_base(&mut tx, org.staff.manager, cal.now).await?;
    tx.commit().await?;

    let mut base = archive::load(
        app,
        &mut rng,
        &names,
        &cal,
        o.customers,
        o.devices_per_customer,
        city_orders,
        &policies,
        progress,
    )
    .await?;
    let h = history::simulate(&mut rng, &org, &cal, &mut base, city_orders, progress);
    let money = service::Money::new(rules)?;
    let visits = orders::write(app, &mut rng, &h, &base, &org, &cal, &money, progress).await?;
    archive::set_install_dates(app, &h.installed).await?;

    // ---- counters, the chain's regions, identities, one audit entry for the load
    let mut tx = app.db.begin().await?;
    let counter_rows: Vec<Vec<Arg>> = h
        .counters
        .iter()
        .map(|(d, n)| args![work_order_number::day_key(*d), *n])
        .collect();
    tx.bulk_insert("wo_counters", &["day", "last"], counter_rows)
        .await?;
    tx.commit().await?;
    chain::replicate(app, copies, progress).await?;
    let mut tx = app.db.begin().await?;
    for t in [
        "org_units",
        "users",
        "technicians",
        "shifts",
        "warranty_policies",
        "products",
        "customers",
        "customer_phones",
        "customer_addresses",
        "devices",
        "search_docs",
        "work_orders",
        "work_order_events",
        "visits",
        "sla_rules",
        "fee_rules",
        "charges",
        "part_lines",
        "photos",
        "reviews",
        "opportunities",
        "follow_ups",
        "questionnaires",
        "complaints",
        "complaint_actions",
        "kb_articles",
    ] {
        tx.reset_identity(t).await?;
    }
    shouhou_store::repo::audit::insert(
        &mut tx,
        "system",
        0,
        "demo_load",
        None,
        cal.now,
        &serde_json::json!({"seed": o.seed, "regions": copies, "customers": o.customers * copies, "devices": base.n_devices * copies, "work_orders": h.orders.len() * copies, "visits": visits * copies, "days": cal.days}),
    )
    .await?;
    tx.commit().await?;
    // The load writes rows in bulk, without an audit entry each: the KPI facts are computed
    // from the records once.
    progress("computing the KPI facts", 0, 1);
    crate::points::grade_demo(app).await?;
    crate::kpi::rebuild(app).await?;
    progress("computing the KPI facts", 1, 1);
    targets::load(app, cal.now, org.staff.manager).await?;
    // The follow-up queue: the bulk load bypassed the writes that keep it.
    let mut tx = app.db.begin().await?;
    shouhou_store::followups::refill_due(&mut tx).await?;
    tx.commit().await?;
    progress("optimising the lookup index", 0, 1);
    if app.db.backend() == shouhou_store::Backend::Sqlite {
        app.db
            .execute(
                "INSERT INTO search_tri(search_tri) VALUES ('optimize')",
                vec![],
            )
            .await?;
        app.db
            .execute(
                "INSERT INTO search_cjk(search_cjk) VALUES ('optimize')",
                vec![],
            )
            .await?;
        app.db.execute("PRAGMA optimize", vec![]).await?;
    } else {
        app.db.execute("ANALYZE", vec![]).await?;
    }
    progress("optimising the lookup index", 1, 1);
    Ok(DemoReport {
        logins: org.logins.clone(),
        customers: o.customers * copies,
        devices: base.n_devices * copies,
        work_orders: h.orders.len() * copies,
        visits: visits * copies,
    })
}
