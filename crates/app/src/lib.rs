//! Use cases of shouhou. The app owns transactions, authorisation scoping and the audit log:
//! every change to a business record is written with its audit entry in one transaction.

pub mod actor;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod catalog;
pub mod complaints;
pub mod csi;
pub mod customers;
pub mod demo;
pub mod devices;
pub mod dispatch;
pub mod error;
pub mod followups;
pub mod geocoding;
pub mod knowledge;
pub mod kpi;
pub mod labels;
pub mod leads;
pub mod org;
pub mod points;
pub mod review;
pub mod search;
pub mod selfservice;
pub mod service;
pub mod targets;
pub mod work_orders;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
pub use error::AppError;
use shouhou_store::Db;

pub use actor::Actor;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// Where the current time comes from; tests and the demo generator set their own.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        #[allow(clippy::disallowed_methods)]
        Utc::now()
    }
}

/// A clock that stands still until moved (tests, demo generation).
#[derive(Debug)]
pub struct FixedClock(pub std::sync::Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(t: DateTime<Utc>) -> Self {
        FixedClock(std::sync::Mutex::new(t))
    }
    pub fn set(&self, t: DateTime<Utc>) {
        if let Ok(mut g) = self.0.lock() {
            *g = t;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().map(|g| *g).unwrap_or_default()
    }
}

/// Settings the use cases need.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The org's time zone: work-order numbers and "today" are in it.
    pub time_zone: Tz,
    /// Failed sign-ins of one username from one client address before that address is locked
    /// out of that username (see [`auth::login`]).
    pub max_failed_logins: i64,
    /// Failed sign-ins of one username from all addresses together before every address is
    /// locked out of it (bounds guessing from many addresses).
    pub max_failed_logins_per_user: i64,
    /// How long a lock lasts, and how long a failure is remembered after the last one.
    pub lockout_minutes: i64,
    /// Password hashes computed at once (0: one per core), and how long a sign-in waits for a
    /// free one before it is answered "busy".
    pub hash_concurrency: usize,
    pub hash_wait: std::time::Duration,
    pub session_hours: i64,
    /// The address customers reach (printed on QR labels), e.g. `https://service.example.cn`;
    /// `None` uses the address the office browser used.
    pub public_url: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            time_zone: chrono_tz::Asia::Shanghai,
            max_failed_logins: 5,
            max_failed_logins_per_user: 20,
            lockout_minutes: 15,
            hash_concurrency: 0,
            hash_wait: std::time::Duration::from_secs(1),
            session_hours: 12,
            public_url: None,
        }
    }
}

#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    /// Bounds the password hashes computed at once.
    pub hashing: Arc<auth::HashGate>,
    /// A geocoding service that replaces the configured one (tests: never the network).
    pub geocoder: Option<Arc<dyn geocoding::Geocoder>>,
    /// The org tree for scoping each request, read again when it changes.
    pub units: Arc<actor::UnitCache>,
    /// What a new work order's checks read that rarely changes, read again when it changes.
    pub rarely: Arc<work_orders::RarelyCache>,
    /// The id and number the next new work order is expected to get (see
    /// `shouhou_store::work_orders::Expected`).
    pub next_order: Arc<shouhou_store::work_orders::Expected>,
    /// KPI readings of finished months, checked against the months' versions at each reading.
    pub kpi_cache: Arc<shouhou_store::kpi::Cache>,
}

impl App {
    pub fn new(db: Db, settings: Settings, clock: Arc<dyn Clock>) -> App {
        let hashing = Arc::new(auth::HashGate::new(
            settings.hash_concurrency,
            settings.hash_wait,
        ));
        App {
            db,
            settings: Arc::new(settings),
            clock,
            hashing,
            geocoder: None,
            units: Arc::default(),
            rarely: Arc::default(),
            next_order: Arc::default(),
            kpi_cache: Arc::default(),
        }
    }

    /// Now, to the microsecond: both stores keep that precision, so a time reads back the same
    /// from either.
    pub fn now(&self) -> DateTime<Utc> {
        use chrono::SubsecRound;
        self.clock.now().trunc_subsecs(6)
    }

    /// Today in the org's time zone.
    pub fn today(&self) -> NaiveDate {
        self.now()
            .with_timezone(&self.settings.time_zone)
            .date_naive()
    }

    /// When `day` begins in the org's time zone, as UTC (the bounds of a day's queries).
    pub fn day_start(&self, day: NaiveDate) -> DateTime<Utc> {
        use chrono::TimeZone;
        self.settings
            .time_zone
            .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| day.and_time(chrono::NaiveTime::MIN).and_utc())
    }

    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.settings.time_zone).date_naive()
    }
}
