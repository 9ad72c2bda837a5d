//! Repositories: the SQL for each record, written once for both databases.
//!
//! Reads take a [`Visibility`] where the record is scoped; writes take a [`Tx`] so the app can
//! put the record and its audit entry in one transaction.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use shouhou_domain::{DomainError, ValidationError};
use utoipa::ToSchema;

use crate::args;
use crate::db::{Arg, Db, FromDbRow, Tx};
use crate::records::*;
use crate::scope::{Scoped, Sql, Visibility};
use crate::Result;

pub const ORG_UNIT_COLS: &str =
    "o.id, o.parent_id, o.kind, o.code, o.name, o.address, o.lat, o.lng, o.phone, o.created_at, o.updated_at, o.version";
pub const USER_COLS: &str = "u.id, u.username, u.display_name, u.role, u.org_unit_id, u.phone, u.lang, u.active, u.created_at, u.updated_at, u.version";
pub const CUSTOMER_COLS: &str =
    "c.id, c.org_unit_id, c.name, c.kind, c.tier, c.note, c.created_at, c.updated_at, c.version";
pub const ADDRESS_COLS: &str =
    "id, customer_id, label, address, lat, lng, located_by, location_confirmed";
pub const PRODUCT_COLS: &str =
    "p.id, p.brand, p.model, p.category, p.name, p.parts, p.created_at, p.updated_at, p.version";
pub const POLICY_COLS: &str = "w.id, w.name, w.manufacturer, w.whole_unit_months, w.main_parts_months, w.main_parts, w.labour_months, w.starts_from, w.created_at, w.updated_at, w.version";
pub const DEVICE_COLS: &str = "d.id, d.org_unit_id, d.customer_id, d.product_id, d.brand, d.serial, d.site_address_id, d.purchase_date, d.purchase_store_id, d.install_date, d.policy_id, d.qr_token, d.created_at, d.updated_at, d.version";
pub const TECH_COLS: &str = "t.id, t.user_id, t.org_unit_id, u.display_name, t.skills, t.start_address, t.start_lat, t.start_lng, t.active, t.senior, t.created_at, t.updated_at, t.version";
pub const WO_COLS: &str = "wo.id, wo.number, wo.org_unit_id, wo.customer_id, wo.device_id, wo.address_id, wo.kind, wo.channel, wo.priority, wo.status, wo.fault_description, wo.appointment_start, wo.appointment_end, wo.respond_by, wo.arrive_by, wo.resolve_by, wo.warranty_decision, wo.technician_id, wo.partner_unit_id, wo.created_by, wo.created_at, wo.updated_at, wo.accepted_at, wo.completed_at, wo.reviewed_at, wo.closed_at, wo.cancelled_at, wo.cancel_reason, wo.version, wo.planned_seq, wo.planned_arrival";

/// Paging of a list: `limit` rows after `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Page {
    /// Rows per page when the client names none.
    pub const DEFAULT_LIMIT: i64 = 50;
    /// The most rows one page holds.
    pub const MAX_LIMIT: i64 = 500;
    /// The first page of the most rows a page holds (internal callers that want "all").
    pub const LARGEST: Page = Page {
        limit: Page::MAX_LIMIT,
        offset: 0,
    };

    /// The first `limit` rows.
    pub const fn first(limit: i64) -> Page {
        Page { limit, offset: 0 }
    }

    /// The page a client asked for: `limit` 1–[`Page::MAX_LIMIT`] (default
    /// [`Page::DEFAULT_LIMIT`]), `offset` ≥ 0 (default 0). A value outside is refused naming the
    /// parameter (`limit`, `offset`), never clamped.
    pub fn parse(limit: Option<i64>, offset: Option<i64>) -> Result<Page, DomainError> {
        let limit = limit.unwrap_or(Page::DEFAULT_LIMIT);
        if !(1..=Page::MAX_LIMIT).contains(&limit) {
            return Err(DomainError::invalid(
                "limit",
                ValidationError::OutOfRange {
                    min: 1,
                    max: Page::MAX_LIMIT,
                },
            ));
        }
        let offset = offset.unwrap_or(0);
        if offset < 0 {
            return Err(DomainError::invalid(
                "offset",
                ValidationError::TooSmall { min: 0 },
            ));
        }
        Ok(Page { limit, offset })
    }

    /// The page itself within the bounds (a guard for internal callers; clients' pages come
    /// through [`Page::parse`]).
    fn bounded(self) -> Page {
        Page {
            limit: self.limit.clamp(1, Page::MAX_LIMIT),
            offset: self.offset.max(0),
        }
    }

    fn sql(&self, q: &mut Sql) {
        let p = self.bounded();
        let l = q.arg(p.limit);
        let o = q.arg(p.offset);
        q.push(&format!(" LIMIT {l} OFFSET {o}"));
    }
}

/// One page of a list: its rows, how many rows the list's filters match in the user's scope
/// (`total`, counted up to [`Paged::TOTAL_CAP`]), and the page's `limit` and `offset`. Every
/// collection of the API answers this.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// Rows matching the filters in the user's scope, over all pages: exact up to 10,000; when
    /// more match it is 10,000 and `total_capped` is true ("10,000+"), unless the list knows
    /// its total without counting (the last page; the orders behind a figure counted by one
    /// flag, whose total is the figure), which is then exact however large.
    pub total: i64,
    /// True when more rows match than `total` says (counting stopped at 10,000).
    pub total_capped: bool,
    pub limit: i64,
    pub offset: i64,
}

impl<T> Default for Paged<T> {
    fn default() -> Self {
        Paged {
            items: Vec::new(),
            total: 0,
            total_capped: false,
            limit: Page::DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

impl<T> Paged<T> {
    /// Matches counted at most: a list's cost stays that of a page, whatever its filter
    /// matches, and its total says "10,000+" beyond.
    pub const TOTAL_CAP: i64 = 10_000;

    /// A page's rows `items` with its (total, total_capped).
    fn of(items: Vec<T>, (total, total_capped): (i64, bool), page: Page) -> Paged<T> {
        Paged {
            items,
            total,
            total_capped,
            limit: page.limit,
            offset: page.offset,
        }
    }

    /// The same page with each row changed by `f`.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            total_capped: self.total_capped,
            limit: self.limit,
            offset: self.offset,
        }
    }

    /// Whether rows follow this page.
    pub fn has_more(&self) -> bool {
        self.total_capped || self.offset + (self.items.len() as i64) < self.total
    }

    /// The total as a person reads it: "1234", or "10000+" when counting stopped.
    pub fn total_text(&self) -> String {
        if self.total_capped {
            format!("{}+", self.total)
        } else {
            self.total.to_string()
        }
    }
}

/// One page of `q` — a `SELECT … FROM … WHERE …` already scoped through
/// [`Visibility::clause`], without `ORDER BY` — in `order` (which must end in a unique key so
/// pages neither repeat nor skip rows), with the total counted over the very same query up to
/// [`Paged::TOTAL_CAP`] (the count reads no column of the rows, so an index can answer it).
pub async fn paged<T: FromDbRow>(db: &Db, q: Sql, order: &str, page: Page) -> Result<Paged<T>> {
    let count = q.clone();
    paged_counting(db, q, count, order, page).await
}

/// [`paged`] with the total counted by `count`, a query that matches the same rows as `q`
/// without reading what only the page shows (the joins for names and phones).
pub async fn paged_counting<T: FromDbRow>(
    db: &Db,
    q: Sql,
    count: Sql,
    order: &str,
    page: Page,
) -> Result<Paged<T>> {
    let page = page.bounded();
    let mut rows = q;
    rows.push(&format!(" ORDER BY {order}"));
    page.sql(&mut rows);
    let items = db.fetch_all(&rows.text, rows.args).await?;
    with_total(db, items, count, page).await
}

/// A page's `items` with the total of the rows `count` matches, counted up to
/// [`Paged::TOTAL_CAP`] + 1 (the count stops there).
async fn with_total<T>(db: &Db, items: Vec<T>, count: Sql, page: Page) -> Result<Paged<T>> {
    // A page that is not full and not empty is the last one: the total is what came before it
    // and what it holds, and counting would read the same rows again.
    let n = items.len() as i64;
    if n > 0 && n < page.limit {
        return Ok(Paged::of(items, (page.offset + n, false), page));
    }
    if n == 0 && page.offset == 0 {
        return Ok(Paged::of(items, (0, false), page));
    }
    let capped = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM ({}) matched LIMIT {}) counted",
        count.text,
        Paged::<T>::TOTAL_CAP + 1
    );
    let (counted,): (i64,) = db.fetch_one(&capped, count.args).await?;
    let total = (
        counted.min(Paged::<T>::TOTAL_CAP),
        counted > Paged::<T>::TOTAL_CAP,
    );
    Ok(Paged::of(items, total, page))
}

/// [`paged`] for a list whose rows are keys found by `keys` (in the order `order`) and then
/// joined to what a row shows: `joined` wraps the page's keys (a subquery) in the joins and
/// `joined_order` orders the result. The page is cut from the keys before any join, and the
/// total counts the keys alone, so the joins cost a page's rows, not every match's — unless it
/// is `known` (the `total` and `total_capped` an earlier page of the same keys answered, while
/// nothing they read has changed): then only the page is read.
pub async fn paged_keys<T: FromDbRow>(
    db: &Db,
    keys: Sql,
    order: &str,
    joined: impl FnOnce(&str) -> String,
    joined_order: &str,
    page: Page,
    known: Option<(i64, bool)>,
) -> Result<Paged<T>> {
    let page = page.bounded();
    let mut cut = keys.clone();
    cut.push(&format!(" ORDER BY {order}"));
    page.sql(&mut cut);
    let rows = format!("{} ORDER BY {joined_order}", joined(&cut.text));
    let items = db.fetch_all(&rows, cut.args).await?;
    match known {
        Some(total) => Ok(Paged::of(items, total, page)),
        None => with_total(db, items, keys, page).await,
    }
}

// ---------------------------------------------------------------- org units

/// The columns of an [`OrgFingerprint`], read from [`FINGERPRINT_FROM`].
const FINGERPRINT_COLS: &str = "fu.units, fu.unit_versions, fu.units_changed, fs.setting_versions";
const FINGERPRINT_FROM: &str = "(SELECT COUNT(*) AS units, CAST(COALESCE(SUM(version), 0) AS BIGINT) AS unit_versions, \
     MAX(updated_at) AS units_changed FROM org_units) fu \
     CROSS JOIN (SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) AS setting_versions FROM setting_versions) fs";

pub mod org_units {
    use super::*;

    pub async fn all(db: &Db) -> Result<Vec<OrgUnit>> {
        db.fetch_all(
            &format!("SELECT {ORG_UNIT_COLS} FROM org_units o ORDER BY o.id"),
            args![],
        )
        .await
    }

    /// The org's fingerprint (see [`OrgFingerprint`]): a one-row read that tells a cached
    /// tree (and the settings cached with it) whether it is still the tree.
    pub async fn fingerprint(db: &Db) -> Result<OrgFingerprint> {
        db.fetch_one(
            &format!("SELECT {FINGERPRINT_COLS} FROM {FINGERPRINT_FROM}"),
            args![],
        )
        .await
    }

    pub async fn all_tx(tx: &mut Tx) -> Result<Vec<OrgUnit>> {
        tx.fetch_all(
            &format!("SELECT {ORG_UNIT_COLS} FROM org_units o ORDER BY o.id"),
            args![],
        )
        .await
    }

    pub async fn list(db: &Db, vis: &Visibility, page: Page) -> Result<Paged<OrgUnit>> {
        let mut q = Sql::new(&format!("SELECT {ORG_UNIT_COLS} FROM org_units o WHERE "));
        let c = vis.clause(Scoped::OrgUnit, "o", &mut q);
        q.push(&c);
        paged(db, q, "o.id", page).await
    }

    pub async fn get(db: &Db, vis: &Visibility, id: i64) -> Result<OrgUnit> {
        let mut q = Sql::new(&format!("SELECT {ORG_UNIT_COLS} FROM org_units o WHERE "));
        let c = vis.clause(Scoped::OrgUnit, "o", &mut q);
        q.push(&c).push_bind(" AND o.id = {}", id);
        db.fetch_one(&q.text, q.args).await
    }

    pub async fn get_tx(tx: &mut Tx, id: i64) -> Result<OrgUnit> {
        tx.fetch_one(
            &format!("SELECT {ORG_UNIT_COLS} FROM org_units o WHERE o.id = $1"),
            args![id],
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn insert(
        tx: &mut Tx,
        parent_id: Option<i64>,
        kind: &str,
        code: &str,
        name: &str,
        address: Option<&str>,
        lat: Option<f64>,
        lng: Option<f64>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        tx.insert(
            "INSERT INTO org_units (parent_id, kind, code, name, address, lat, lng, created_at, updated_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8) RETURNING id",
            args![parent_id, kind, code, name, address, lat, lng, now],
        )
        .await
    }

    pub async fn update(tx: &mut Tx, o: &OrgUnit, now: DateTime<Utc>) -> Result<()> {
        tx.execute(
            "UPDATE org_units SET parent_id=$1, kind=$2, code=$3, name=$4, address=$5, lat=$6, lng=$7, updated_at=$8, phone=$10 WHERE id=$9",
            args![o.parent_id, o.kind.as_str(), o.code.as_str(), o.name.as_str(), o.address.clone(), o.lat, o.lng, now, o.id, o.phone.clone()],
        )
        .await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- users and sessions

pub mod users {
    use super::*;

    pub async fn get(db: &Db, id: i64) -> Result<User> {
        db.fetch_one(
            &format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1"),
            args![id],
        )
        .await
    }

    pub async fn get_tx(tx: &mut Tx, id: i64) -> Result<User> {
        tx.fetch_one(
            &format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1"),
            args![id],
        )
        .await
    }

    pub async fn get_scoped(db: &Db, vis: &Visibility, id: i64) -> Result<User> {
        let mut q = Sql::new(&format!("SELECT {USER_COLS} FROM users u WHERE "));
        let c = vis.clause(Scoped::Unit, "u", &mut q);
        q.push(&c).push_bind(" AND u.id = {}", id);
        db.fetch_one(&q.text, q.args).await
    }

    pub async fn list(db: &Db, vis: &Visibility, page: Page) -> Result<Paged<User>> {
        let mut q = Sql::new(&format!("SELECT {USER_COLS} FROM users u WHERE "));
        let c = vis.clause(Scoped::Unit, "u", &mut q);
        q.push(&c);
        paged(db, q, "u.id", page).await
    }

    /// The active users of `role`, by id (the managers whose dashboards a server warms).
    pub async fn active_with_role(db: &Db, role: shouhou_domain::Role) -> Result<Vec<User>> {
        db.fetch_all(
            &format!(
                "SELECT {USER_COLS} FROM users u WHERE u.active AND u.role = $1 ORDER BY u.id"
            ),
            args![role.as_str()],
        )
        .await
    }

    pub async fn credentials(db: &Db, username: &str) -> Result<Option<Credentials>> {
        db.fetch_optional(
            "SELECT id, password_hash, active FROM users WHERE username = $1",
            args![username],
        )
        .await
    }

    /// The password hash of user `id`.
    pub async fn password_hash(db: &Db, id: i64) -> Result<String> {
        let (h,): (String,) = db
            .fetch_one("SELECT password_hash FROM users WHERE id = $1", args![id])
            .await?;
        Ok(h)
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn insert(
        tx: &mut Tx,
        username: &str,
        display_name: &str,
        password_hash: &str,
        role: &str,
        org_unit_id: i64,
        phone: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        tx.insert(
            "INSERT INTO users (username, display_name, password_hash, role, org_unit_id, phone, created_at, updated_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$7) RETURNING id",
            args![username, display_name, password_hash, role, org_unit_id, phone, now],
        )
        .await
    }

    pub async fn update(tx: &mut Tx, u: &User, now: DateTime<Utc>) -> Result<()> {
        tx.execute(
            "UPDATE users SET display_name=$1, role=$2, org_unit_id=$3, phone=$4, lang=$5, active=$6, updated_at=$7 WHERE id=$8",
            args![u.display_name.as_str(), u.role.as_str(), u.org_unit_id, u.phone.clone(), u.lang.clone(), u.active, now, u.id],
        )
        .await?;
        Ok(())
    }

    pub async fn set_password(tx: &mut Tx, id: i64, hash: &str, now: DateTime<Utc>) -> Result<()> {
        tx.execute(
            "UPDATE users SET password_hash=$1, updated_at=$2 WHERE id=$3",
            args![hash, now, id],
        )
        .await?;
        Ok(())
    }

    #[derive(sqlx::FromRow)]
    struct IdUnit {
        id: i64,
        org_unit_id: i64,
    }

    /// The first active user with `role` in each of `units`: (unit, user).
    pub async fn users_with_role(db: &Db, units: &[i64], role: &str) -> Result<Vec<(i64, i64)>> {
        if units.is_empty() {
            return Ok(vec![]);
        }
        let list = units
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let rows: Vec<IdUnit> = db
            .fetch_all(
                &format!("SELECT id, org_unit_id FROM users WHERE role = $1 AND active AND org_unit_id IN ({list}) ORDER BY id"),
                args![role],
            )
            .await?;
        Ok(rows.into_iter().map(|r| (r.org_unit_id, r.id)).collect())
    }

    /// The user that stands for the customer on self-service orders: inactive, no usable password,
    /// so it cannot sign in; created on first use under `unit`.
    pub async fn self_service_user(tx: &mut Tx, unit: i64, at: DateTime<Utc>) -> Result<i64> {
        #[derive(sqlx::FromRow)]
        struct Id {
            id: i64,
        }
        if let Some(u) = tx
            .fetch_optional::<Id>(
                "SELECT id FROM users WHERE username = 'self-service'",
                vec![],
            )
            .await?
        {
            return Ok(u.id);
        }
        tx.insert(
            "INSERT INTO users (username, display_name, password_hash, role, org_unit_id, active, created_at, updated_at) \
             VALUES ('self-service', '客户自助', '!', 'clerk', $1, FALSE, $2, $2) RETURNING id",
            args![unit, at],
        )
        .await
    }
}

pub mod sessions {
    use super::*;

    pub async fn insert(
        db: &Db,
        token_hash: &str,
        user_id: i64,
        kind: &str,
        csrf: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<()> {
        db.execute(
            "INSERT INTO sessions (token_hash, user_id, kind, csrf_token, created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6)",
            args![token_hash, user_id, kind, csrf, now, expires],
        )
        .await?;
        Ok(())
    }

    /// The live session of `token_hash` with its user and the org's fingerprint, in one
    /// statement (every signed-in request reads it).
    pub async fn signed_in(
        db: &Db,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SignedIn>> {
        db.fetch_optional(
            &format!(
                "SELECT s.user_id, s.kind, s.csrf_token, s.expires_at, {USER_COLS}, {FINGERPRINT_COLS} \
                 FROM sessions s JOIN users u ON u.id = s.user_id CROSS JOIN {FINGERPRINT_FROM} \
                 WHERE s.token_hash = $1 AND s.expires_at > $2"
            ),
            args![token_hash, now],
        )
        .await
    }

    pub async fn get(db: &Db, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>> {
        db.fetch_optional(
            "SELECT user_id, kind, csrf_token, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2",
            args![token_hash, now],
        )
        .await
    }

    pub async fn delete(db: &Db, token_hash: &str) -> Result<()> {
        db.execute(
            "DELETE FROM sessions WHERE token_hash = $1",
            args![token_hash],
        )
        .await?;
        Ok(())
    }

    /// Ends every session and token of `user_id` except `keep` (a token hash); returns how many.
    pub async fn delete_others(tx: &mut Tx, user_id: i64, keep: Option<&str>) -> Result<u64> {
        tx.execute(
            "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2",
            args![user_id, keep.unwrap_or("")],
        )
        .await
    }
}

/// Sign-in attempts per normalised username and client address, shared by every server process
/// (see migration 0006). Each counter is raised before the password is checked, in the same
/// statement that checks it against its ceiling, so parallel requests cannot overshoot it.
pub mod sign_in {
    use super::*;

    /// A counter of attempts: `client` is an address, or [`ALL_CLIENTS`] for every address.
    #[derive(Debug, Clone, Copy)]
    pub struct Counter<'a> {
        pub client: &'a str,
        /// Attempts allowed before the counter refuses until it expires.
        pub max: i64,
    }

    pub const ALL_CLIENTS: &str = "*";

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Reservation {
        /// Every counter took the attempt; `full`: one of them reached its ceiling with it.
        Counted { full: bool },
        /// A counter is at its ceiling; nothing was counted. It expires at `until`.
        Refused { until: DateTime<Utc> },
    }

    /// Raises every counter of `username` by one, all or none: a counter at its ceiling refuses
    /// (nothing is counted). A counter past `now` starts again from one. Each counted attempt
    /// moves the counter's expiry to `until`.
    pub async fn reserve(
        db: &Db,
        username: &str,
        counters: &[Counter<'_>],
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Reservation> {
        let mut tx = db.begin().await?;
        let mut full = false;
        for c in counters {
            let counted: Option<(i64,)> = tx
                .fetch_optional(
                    "INSERT INTO sign_in_attempts (username, client, failures, expires_at) \
                     VALUES ($1, $2, 1, $5) \
                     ON CONFLICT (username, client) DO UPDATE SET \
                     failures = CASE WHEN sign_in_attempts.expires_at <= $4 THEN 1 \
                                ELSE sign_in_attempts.failures + 1 END, \
                     expires_at = $5 \
                     WHERE sign_in_attempts.expires_at <= $4 OR sign_in_attempts.failures < $3 \
                     RETURNING failures",
                    args![username, c.client, c.max, now, until],
                )
                .await?;
            let Some((failures,)) = counted else {
                let (until,): (DateTime<Utc>,) = tx
                    .fetch_one(
                        "SELECT expires_at FROM sign_in_attempts WHERE username = $1 AND client = $2",
                        args![username, c.client],
                    )
                    .await?;
                // Dropped without commit: the counters raised before this one go back.
                return Ok(Reservation::Refused { until });
            };
            full |= failures >= c.max;
        }
        tx.commit().await?;
        Ok(Reservation::Counted { full })
    }

    /// Gives one reserved attempt back to the counter of `username` and `client`.
    pub async fn give_back(db: &Db, username: &str, client: &str) -> Result<()> {
        db.execute(
            "UPDATE sign_in_attempts SET failures = failures - 1 \
             WHERE username = $1 AND client = $2 AND failures > 0",
            args![username, client],
        )
        .await?;
        Ok(())
    }

    /// Forgets the counter of `username` and `client` (after a successful sign-in).
    pub async fn clear(db: &Db, username: &str, client: &str) -> Result<()> {
        db.execute(
            "DELETE FROM sign_in_attempts WHERE username = $1 AND client = $2",
            args![username, client],
        )
        .await?;
        Ok(())
    }

    /// The attempts counted for `username` from `client`, if the counter is live at `now`.
    pub async fn failures(
        db: &Db,
        username: &str,
        client: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let row: Option<(i64,)> = db
            .fetch_optional(
                "SELECT failures FROM sign_in_attempts \
                 WHERE username = $1 AND client = $2 AND expires_at > $3",
                args![username, client, now],
            )
            .await?;
        Ok(row.map(|r| r.0).unwrap_or(0))
    }

    /// Deletes the counters that expired by `now`.
    pub async fn delete_expired(db: &Db, now: DateTime<Utc>) -> Result<u64> {
        db.execute(
            "DELETE FROM sign_in_attempts WHERE expires_at <= $1",
            args![now],
        )
        .await
    }
}

// ---------------------------------------------------------------- customers

pub mod customers {
    use super::*;

    async fn fill(db: &Db, mut cs: Vec<Customer>) -> Result<Vec<Customer>> {
        if cs.is_empty() {
            return Ok(cs);
        }
        let ids = cs
            .iter()
            .map(|c| c.id.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let phones: Vec<(i64, String)> = db
            .fetch_all(
                &format!("SELECT customer_id, phone FROM customer_phones WHERE customer_id IN ({ids}) ORDER BY customer_id, position"),
                args![],
            )
            .await?;
        let addrs: Vec<Address> = db
            .fetch_all(
                &format!("SELECT {ADDRESS_COLS} FROM customer_addresses WHERE customer_id IN ({ids}) ORDER BY customer_id, position"),
                args![],
            )
            .await?;
        for c in cs.iter_mut() {
            c.phones = phones
                .iter()
                .filter(|p| p.0 == c.id)
                .map(|p| p.1.clone())
                .collect();
            c.addresses = addrs
                .iter()
                .filter(|a| a.customer_id == c.id)
                .cloned()
                .collect();
        }
        Ok(cs)
    }

    pub async fn get(db: &Db, vis: &Visibility, id: i64) -> Result<Customer> {
        let mut q = Sql::new(&format!("SELECT {CUSTOMER_COLS} FROM customers c WHERE "));
        let cl = vis.clause(Scoped::Customer, "c", &mut q);
        q.push(&cl).push_bind(" AND c.id = {}", id);
        let c: Customer = db.fetch_one(&q.text, q.args).await?;
        Ok(fill(db, vec![c]).await?.remove(0))
    }

    pub async fn get_tx(tx: &mut Tx, id: i64) -> Result<Customer> {
        let mut c = without_phones_tx(tx, id).await?;
        let phones: Vec<(String,)> = tx
            .fetch_all(
                "SELECT phone FROM customer_phones WHERE customer_id = $1 ORDER BY position",
                args![id],
            )
            .await?;
        c.phones = phones.into_iter().map(|p| p.0).collect();
        Ok(c)
    }

    /// The customer with its addresses but not its phones (left empty): for the checks of a
    /// new order, which read its unit, tier, version and addresses only.
    pub async fn without_phones_tx(tx: &mut Tx, id: i64) -> Result<Customer> {
        let mut c: Customer = tx
            .fetch_one(
                &format!("SELECT {CUSTOMER_COLS} FROM customers c WHERE c.id = $1"),
                args![id],
            )
            .await?;
        c.addresses = tx
            .fetch_all(
                &format!("SELECT {ADDRESS_COLS} FROM customer_addresses WHERE customer_id = $1 ORDER BY position"),
                args![id],
            )
            .await?;
        Ok(c)
    }

    pub async fn list(
        db: &Db,
        vis: &Visibility,
        name: Option<&str>,
        page: Page,
    ) -> Result<Paged<Customer>> {
        let mut q = Sql::new(&format!("SELECT {CUSTOMER_COLS} FROM customers c WHERE "));
        let cl = vis.clause(Scoped::Customer, "c", &mut q);
        q.push(&cl);
        if let Some(n) = name {
            q.push_bind(" AND c.name LIKE {}", format!("{n}%"));
        }
        let mut p: Paged<Customer> = paged(db, q, "c.id DESC", page).await?;
        p.items = fill(db, p.items).await?;
        Ok(p)
    }

    /// The customers the user may see that have one of `phones` (normalised), except `except`,
    /// oldest first: the duplicates a new customer with these phones would make.
    pub async fn with_phones(
        db: &Db,
        vis: &Visibility,
        phones: &[String],
        except: Option<i64>,
    ) -> Result<Vec<Customer>> {
        if phones.is_empty() {
            return Ok(vec![]);
        }
        let mut q = Sql::new(&format!("SELECT {CUSTOMER_COLS} FROM customers c WHERE "));
        let cl = vis.clause(Scoped::Customer, "c", &mut q);
        q.push(&cl);
        let ps: Vec<String> = phones.iter().map(|p| q.arg(p.as_str())).collect();
        q.push(&format!(
            " AND EXISTS (SELECT 1 FROM customer_phones p WHERE p.customer_id = c.id AND p.phone IN ({}))",
            ps.join(",")
        ));
        if let Some(x) = except {
            q.push_bind(" AND c.id <> {}", x);
        }
        q.push(" ORDER BY c.id LIMIT 20");
        let cs: Vec<Customer> = db.fetch_all(&q.text, q.args).await?;
        fill(db, cs).await
    }

    /// The phones of the given customers: `(customer id, phone)`.
    pub async fn phones_of(db: &Db, ids: &[i64]) -> Result<Vec<(i64, String)>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        db.fetch_all(
            &format!("SELECT customer_id, phone FROM customer_phones WHERE customer_id IN ({list}) ORDER BY customer_id, position"),
            args![],
        )
        .await
    }

    /// Moves the addresses of customer `from` after those of `to`; returns their ids.
    pub async fn move_addresses(tx: &mut Tx, from: i64, to: i64) -> Result<Vec<i64>> {
        let (n,): (i64,) = tx
            .fetch_one(
                "SELECT COUNT(*) FROM customer_addresses WHERE customer_id = $1",
                args![to],
            )
            .await?;
        let ids: Vec<(i64,)> = tx
            .fetch_all(
                "SELECT id FROM customer_addresses WHERE customer_id = $1 ORDER BY position, id",
                args![from],
            )
            .await?;
        for (i, (id,)) in ids.iter().enumerate() {
            tx.execute(
                "UPDATE customer_addresses SET customer_id = $1, position = $2 WHERE id = $3",
                args![to, n + i as i64, *id],
            )
            .await?;
        }
        Ok(ids.into_iter().map(|r| r.0).collect())
    }

    /// Moves the sales leads of customer `from` to `to`; returns their ids.
    pub async fn move_opportunities(tx: &mut Tx, from: i64, to: i64) -> Result<Vec<i64>> {
        let ids: Vec<(i64,)> = tx
            .fetch_all(
                "SELECT id FROM opportunities WHERE customer_id = $1 ORDER BY id",
                args![from],
            )
            .await?;
        tx.execute(
            "UPDATE opportunities SET customer_id = $1 WHERE customer_id = $2",
            args![to, from],
        )
        .await?;
        Ok(ids.into_iter().map(|r| r.0).collect())
    }

    /// The ids of the devices of customer `id`.
    pub async fn device_ids(tx: &mut Tx, id: i64) -> Result<Vec<i64>> {
        let ids: Vec<(i64,)> = tx
            .fetch_all(
                "SELECT id FROM devices WHERE customer_id = $1 ORDER BY id",
                args![id],
            )
            .await?;
        Ok(ids.into_iter().map(|r| r.0).collect())
    }

    /// Deletes customer `id` with its phones and lookup row; the caller has moved everything
    /// else that points at it (a merge).
    pub async fn delete(tx: &mut Tx, id: i64) -> Result<()> {
        tx.execute(
            "DELETE FROM customer_phones WHERE customer_id = $1",
            args![id],
        )
        .await?;
        tx.execute(
            "DELETE FROM search_docs WHERE kind = 'customer' AND ref_id = $1",
            args![id],
        )
        .await?;
        tx.execute("DELETE FROM customers WHERE id = $1", args![id])
            .await?;
        Ok(())
    }

    pub struct NewAddress<'a> {
        pub label: Option<&'a str>,
        pub address: &'a str,
        pub lat: f64,
        pub lng: f64,
        pub located_by: shouhou_domain::geo::LocatedBy,
        pub location_confirmed: bool,
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn insert(
        tx: &mut Tx,
        org_unit_id: i64,
        name: &str,
        kind: &str,
        tier: &str,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        tx.insert(
            "INSERT INTO customers (org_unit_id, name, kind, tier, note, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$6) RETURNING id",
            args![org_unit_id, name, kind, tier, note, now],
        )
        .await
    }

    pub async fn update(tx: &mut Tx, c: &Customer, now: DateTime<Utc>) -> Result<()> {
        tx.execute(
            "UPDATE customers SET org_unit_id=$1, name=$2, kind=$3, tier=$4, note=$5, updated_at=$6 WHERE id=$7",
            args![c.org_unit_id, c.name.as_str(), c.kind.as_str(), c.tier.as_str(), c.note.clone(), now, c.id],
        )
        .await?;
        Ok(())
    }

    /// Replaces the phone list, keeping its order.
    pub async fn set_phones(tx: &mut Tx, customer_id: i64, phones: &[String]) -> Result<()> {
        tx.execute(
            "DELETE FROM customer_phones WHERE customer_id = $1",
            args![customer_id],
        )
        .await?;
        for (i, p) in phones.iter().enumerate() {
            tx.execute(
                "INSERT INTO customer_phones (customer_id, phone, position) VALUES ($1,$2,$3)",
                args![customer_id, p.as_str(), i as i64],
            )
            .await?;
        }
        Ok(())
    }

    /// Adds addresses after the existing ones; returns their ids.
    pub async fn add_addresses(
        tx: &mut Tx,
        customer_id: i64,
        addrs: &[NewAddress<'_>],
    ) -> Result<Vec<i64>> {
        let (n,): (i64,) = tx
            .fetch_one(
                "SELECT COUNT(*) FROM customer_addresses WHERE customer_id = $1",
                args![customer_id],
            )
            .await?;
        let mut ids = Vec::new();
        for (i, a) in addrs.iter().enumerate() {
            ids.push(tx.insert(
                "INSERT INTO customer_addresses (customer_id, label, address, lat, lng, position, located_by, location_confirmed) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id",
                args![customer_id, a.label, a.address, a.lat, a.lng, n + i as i64, a.located_by.as_str(), a.location_confirmed],
            ).await?);
        }
        Ok(ids)
    }

    pub async fn update_address(tx: &mut Tx, a: &Address) -> Result<()> {
        tx.execute(
            "UPDATE customer_addresses SET label=$1, address=$2, lat=$3, lng=$4, located_by=$5, location_confirmed=$6 WHERE id=$7 AND customer_id=$8",
            args![a.label.clone(), a.address.as_str(), a.lat, a.lng, a.located_by.as_str(), a.location_confirmed, a.id, a.customer_id],
        )
        .await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- catalog: products, policies

pub mod products {
    use super::*;

    pub async fn get(db: &Db, id: i64) -> Result<Product> {
        db.fetch_one(
            &format!("SELECT {PRODUCT_COLS} FROM products p WHERE p.id = $1"),
            args![id],
        )
        .await
    }

    pub async fn get_tx(tx: &mut Tx, id: i64) -> Result<Product> {
        tx.fetch_one(
            &format!("SELECT {PRODUCT_COLS} FROM products p WHERE p.id = $1"),
            args![id],
        )
        .await
    }

    pub async fn list(db: &Db, category: Option<&str>, page: Page) -> Result<Paged<Product>> {
        let mut q = Sql::new(&format!("SELECT {PRODUCT_COLS} FROM products p WHERE 1=1"));
        if let Some(c) = category {
            q.push_bind(" AND p.category = {}", c);
        }
        paged(db, q, "p.brand, p.model, p.id", page).await
    }

    /// Products whose brand, model or name holds `q` (any letter case), or whose category is one
    /// of `categories` (the categories whose name holds `q`), by brand and model.
    pub async fn search(
        db: &Db,
        q: &str,
        categories: &[&str],
        page: Page,
    ) -> Result<Paged<Product>> {
        let pattern = format!(
            "%{}%",
            q.trim()
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let mut s = Sql::new(&format!("SELECT {PRODUCT_COLS} FROM products p WHERE ("));
        let p = s.arg(pattern);
        s.push(&format!(
            "LOWER(p.brand) LIKE {p} ESCAPE '\\' OR LOWER(p.model) LIKE {p} ESCAPE '\\' OR LOWER(p.name) LIKE {p} ESCAPE '\\'"
        ));
        for c in categories {
            s.push_bind(" OR p.category = {}", *c);
        }
        s.push(")");
        paged(db, s, "p.brand, p.model, p.id", page).await
    }

    pub async fn insert(
        tx: &mut Tx,
        brand: &str,
        model: &str,
        category: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        tx.insert(
            "INSERT INTO products (brand, model, category, name, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$5) RETURNING id",
            args![brand, model, category, name, now],
        )
        .await
    }

    pub async fn update(tx: &mut Tx, p: &Product, now: DateTime<Utc>) -> Result<()> {
        tx.execute(
            "UPDATE products SET brand=$1, model=$2, category=$3, name=$4, parts=$5, updated_at=$6 WHERE id=$7",
            args![p.brand.as_str(), p.model.as_str(), p.category.as_str(), p.name.as_str(), p.parts.to_json(), now, p.id],
        )
        .await?;
        Ok(())
    }
}

pub mod policies {
    use super::*;

    pub async fn get(db: &Db, id: i64) -> Result<WarrantyPolicy> {
        db.fetch_one(
            &format!("SELECT {POLICY_COLS} FROM warranty_policies w WHERE w.id = $1"),
            args![id],
        )
        .await
    }

    pub async fn get_tx(tx: &mut Tx, id: i64) -> Result<WarrantyPolicy> {
        tx.fetch_one(
            &format!("SELECT {POLICY_COLS} FROM warranty_policies w WHERE w.id = $1"),
            args![id],
        )
        .await
    }

    pub async fn list(db: &Db, page: Page) -> Result<Paged<WarrantyPolicy>> {
        let q = Sql::new(&format!("SELECT {POLICY_COLS} FROM warranty_policies w"));
        paged(db, q, "w.id", page).await
    }

    pub async fn insert(tx: &mut Tx, w: &WarrantyPolicy) -> Result<i64> {
        tx.insert(
            "INSERT INTO warranty_policies (name, manufacturer, whole_unit_months, main_parts_months, main_parts, labour_months, starts_from, created_at, updated_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8) RETURNING id",
            args![w.name.as_str(), w.manufacturer.as_str(), w.whole_unit_months, w.main_parts_months, w.main_parts.to_json(), w.labour_months, w.starts_from.as_str(), w.created_at],
        )
        .await
    }

    pub async fn update(tx: &mut Tx, w: &WarrantyPolicy, now: DateTime<Utc>) -> Result<()> {
        tx.execute(
            "UPDATE warranty_policies SET name=$1, manufacturer=$2, whole_unit_months=$3, main_parts_months=$4, main_parts=$5, labour_months=$6, starts_from=$7, updated_at=$8 WHERE id=$9",
            args![w.name.as_str(), w.manufacturer.as_str(), w.whole_unit_months, w.main_parts_months, w.main_parts.to_json(), w.labour_months, w.starts_from.as_str(), now, w.id],
        )
        .await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- devices

pub mod devices {
    use super::*;

    pub async fn get(db: &Db, vis: &Visibility, id: i64) -> Result<Device> {
        let mut q = Sql::new(&format!("SELECT {DEVICE_COLS} FROM devices d WHERE "));
        let cl = vis.clause(Scoped::Device, "d", &mut q);
        q.push(&cl).push_bind(" AND d.id = {}", id);
        db.fetch_one(&q.text, q.args).await
    }

    pub async fn get_tx(tx: &mut Tx, id: i64) -> Result<Device> {
        tx.fetch_one(
            &format!("SELECT {DEVICE_COLS} FROM devices d WHERE d.id = $1"),
            args![id],
        )
        .await
    }

    pub async fn by_token(db: &Db, token: &str) -> Result<Device> {
        db.fetch_one(
            &format!("SELECT {DEVICE_COLS} FROM devices d WHERE d.qr_token = $1"),
            args![token],
        )
        .await
    }

    pub async fn list(
        db: &Db,
        vis: &Visibility,
        customer_id: Option<i64>,
        page: Page,
    ) -> Result<Paged<Device>> {
        let mut q = Sql::new(&format!("SELECT {DEVICE_COLS} FROM devices d WHERE "));
        let cl = vis.clause(Scoped::Device, "d", &mut q);
        q.push(&cl);
        if let Some(c) = customer_id {
            q.push_bind(" AND d.customer_id = {}", c);
        }
        paged(db, q, "d.id DESC", page).await
    }

    pub async fn insert(tx: &mut Tx, d: &Device) -> Result<i64> {
        tx.insert(
            "INSERT INTO devices (org_unit_id, customer_id, product_id, brand, serial, site_address_id, purchase_date, purchase_store_id, install_date, policy_id, qr_token, created_at, updated_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$12) RETURNING id",
            args![d.org_unit_id, d.customer_id, d.product_id, d.brand.as_str(), d.serial.as_str(), d.site_address_id, d.purchase_date, d.purchase_store_id, d.install_date, d.policy_id, d.qr_token.as_str(), d.created_at],
        )
        .await
    }

    pub async fn update(tx: &mut Tx, d: &Device, now: DateTime<Utc>) -> Result<()> {
        tx.execute(
            "UPDATE devices SET org_unit_id=$1, customer_id=$2, product_id=$3, brand=$4, serial=$5, site_address_id=$6, purchase_date=$7, purchase_store_id=$8, install_date=$9, policy_id=$10, updated_at=$11 WHERE id=$12",
            args![d.org_unit_id, d.customer_id, d.product_id, d.brand.as_str(), d.serial.as_str(), d.site_address_id, d.purchase_date, d.purchase_store_id, d.install_date, d.policy_id, now, d.id],
        )
        .await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- technicians and shifts

pub mod technicians {
    use super::*;

    pub async fn get(db: &Db, vis: &Visibility, id: i64) -> Result<Technician> {
        let mut q = Sql::new(&format!(
            "SELECT {TECH_COLS} FROM technicians t JOIN users u ON u.id = t.user_id WHERE "
        ));
        let cl = vis.clause(Scoped::Unit, "t", &mut q);
        // A technician may always read its own record.
        q.push("(")
            .push(&cl)
            .push_bind(" OR t.id = {})", vis.technician_id.unwrap_or(-1))
            .push_bind(" AND t.id = {}", id);
        db.fetch_one(&q.text, q.args).await
    }

    pub async fn get_tx(tx: &mut Tx, id: i64) -> Result<Technician> {
        tx.fetch_one(
            &format!("SELECT {TECH_COLS} FROM technicians t JOIN users u ON u.id = t.user_id WHERE t.id = $1"),
            args![id],
        )
        .await
    }

    /// The units and skills (JSON arrays) of the active technicians: which stores have a skill.
    pub async fn skills_by_unit(tx: &mut Tx) -> Result<Vec<(i64, String)>> {
        tx.fetch_all(
            "SELECT org_unit_id, skills FROM technicians WHERE active = TRUE ORDER BY id",
            args![],
        )
        .await
    }

    pub async fn by_user(db: &Db, user_id: i64) -> Result<Option<Technician>> {
        db.fetch_optional(
            &format!("SELECT {TECH_COLS} FROM technicians t JOIN users u ON u.id = t.user_id WHERE t.user_id = $1"),
            args![user_id],
        )
        .await
    }

    pub async fn list(db: &Db, vis: &Visibility, page: Page) -> Result<Paged<Technician>> {
        let mut q = Sql::new(&format!(
            "SELECT {TECH_COLS} FROM technicians t JOIN users u ON u.id = t.user_id WHERE "
        ));
        let cl = vis.clause(Scoped::Unit, "t", &mut q);
        q.push(&cl);
        paged(db, q, "t.id", page).await
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn insert(
        tx: &mut Tx,
        user_id: i64,
        org_unit_id: i64,
        skills: &StrList,
        start_address: Option<&str>,
        lat: f64,
        lng: f64,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        tx.insert(
            "INSERT INTO technicians (user_id, org_unit_id, skills, start_address, start_lat, start_lng, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$7) RETURNING id",
            args![user_id, org_unit_id, skills.to_json(), start_address, lat, lng, now],
        )
        .await
    }

    pub async fn update(tx: &mut Tx, t: &Technician, now: DateTime<Utc>) -> Result<()> {
        tx.execute(
            "UPDATE technicians SET org_unit_id=$1, skills=$2, start_address=$3, start_lat=$4, start_lng=$5, active=$6, updated_at=$7, senior=$8 WHERE id=$9",
            args![t.org_unit_id, t.skills.to_json(), t.start_address.clone(), t.start_lat, t.start_lng, t.active, now, t.senior, t.id],
        )
        .await?;
        Ok(())
    }

    /// The shifts of one technician (the caller has checked the technician is visible) from
    /// `from` to `to`, by day.
    pub async fn shifts(
        db: &Db,
        technician_id: i64,
        from: NaiveDate,
        to: NaiveDate,
        page: Page,
    ) -> Result<Paged<Shift>> {
        let q = Sql {
            text: "SELECT id, technician_id, day, starts_at, ends_at FROM shifts \
                   WHERE technician_id = $1 AND day >= $2 AND day <= $3"
                .into(),
            args: args![technician_id, from, to],
        };
        paged(db, q, "day, id", page).await
    }

    /// Takes the technician off a day (leave, rest day): the day's shift as it was, if any.
    pub async fn remove_shift(
        tx: &mut Tx,
        technician_id: i64,
        day: NaiveDate,
    ) -> Result<Option<Shift>> {
        let before: Option<Shift> = tx
            .fetch_optional(
                "SELECT id, technician_id, day, starts_at, ends_at FROM shifts WHERE technician_id = $1 AND day = $2",
                args![technician_id, day],
            )
            .await?;
        tx.execute(
            "DELETE FROM shifts WHERE technician_id = $1 AND day = $2",
            args![technician_id, day],
        )
        .await?;
        if let Some(b) = &before {
            crate::kpi::roll_shift(tx, technician_id, day, b.starts_at, b.ends_at, -1).await?;
        }
        Ok(before)
    }

    /// Sets the shift of a day (one per technician and day).
    pub async fn upsert_shift(
        tx: &mut Tx,
        technician_id: i64,
        day: NaiveDate,
        starts: DateTime<Utc>,
        ends: DateTime<Utc>,
    ) -> Result<()> {
        let before: Option<Shift> = tx
            .fetch_optional(
                "SELECT id, technician_id, day, starts_at, ends_at FROM shifts WHERE technician_id = $1 AND day = $2",
                args![technician_id, day],
            )
            .await?;
        tx.execute(
            "INSERT INTO shifts (technician_id, day, starts_at, ends_at) VALUES ($1,$2,$3,$4) \
             ON CONFLICT (technician_id, day) DO UPDATE SET starts_at = excluded.starts_at, ends_at = excluded.ends_at",
            args![technician_id, day, starts, ends],
        )
        .await?;
        if let Some(b) = &before {
            crate::kpi::roll_shift(tx, technician_id, day, b.starts_at, b.ends_at, -1).await?;
        }
        crate::kpi::roll_shift(tx, technician_id, day, starts, ends, 1).await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- SLA rules

pub mod sla {
    use super::*;

    pub async fn rules(db: &Db) -> Result<Vec<SlaRuleRow>> {
        db.fetch_all(
            "SELECT id, priority, tier, clock, respond_hours, arrive_hours, resolve_hours FROM sla_rules ORDER BY id",
            args![],
        )
        .await
    }

    pub async fn rules_tx(tx: &mut Tx) -> Result<Vec<SlaRuleRow>> {
        tx.fetch_all(
            "SELECT id, priority, tier, clock, respond_hours, arrive_hours, resolve_hours FROM sla_rules ORDER BY id",
            args![],
        )
        .await
    }

    pub async fn replace(tx: &mut Tx, rules: &[shouhou_domain::sla::SlaRule]) -> Result<()> {
        tx.execute("DELETE FROM sla_rules", args![]).await?;
        for r in rules {
            tx.execute(
                "INSERT INTO sla_rules (priority, tier, clock, respond_hours, arrive_hours, resolve_hours) VALUES ($1,$2,$3,$4,$5,$6)",
                args![r.priority.as_str(), r.tier.map(|t| t.as_str()), r.clock.as_str(), r.respond_hours, r.arrive_hours, r.resolve_hours],
            )
            .await?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- audit

pub mod audit {
    use super::*;

    pub async fn insert(
        tx: &mut Tx,
        entity: &str,
        entity_id: i64,
        action: &str,
        actor_id: Option<i64>,
        at: DateTime<Utc>,
        changes: &serde_json::Value,
    ) -> Result<()> {
        tx.execute_all(statements(entity, entity_id, action, actor_id, at, changes))
            .await
    }

    /// The statements of an audit entry, for a caller that runs them with its own
    /// ([`Tx::execute_all`]). Every change to an order, its visits, report, follow-up or
    /// complaints is audited here: its KPI facts are marked for the catch-up step in the same
    /// transaction.
    pub fn statements(
        entity: &str,
        entity_id: i64,
        action: &str,
        actor_id: Option<i64>,
        at: DateTime<Utc>,
        changes: &serde_json::Value,
    ) -> Vec<(&'static str, Vec<Arg>)> {
        let mut out = vec![(
            "INSERT INTO audit_log (entity, entity_id, action, actor_id, at, changes) VALUES ($1,$2,$3,$4,$5,$6)",
            args![entity, entity_id, action, actor_id, at, changes.to_string()],
        )];
        out.extend(crate::kpi::dirty_statement(entity).map(|sql| (sql, args![entity_id])));
        out
    }

    pub async fn list_tx(tx: &mut Tx, entity: &str, entity_id: i64) -> Result<Vec<AuditEntry>> {
        tx.fetch_all(
            "SELECT a.id, a.entity, a.entity_id, a.action, a.actor_id, u.display_name AS actor_name, a.at, a.changes \
             FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id WHERE a.entity = $1 AND a.entity_id = $2 ORDER BY a.id",
            args![entity, entity_id],
        )
        .await
    }

    /// The trail of one record (the caller has checked the record is visible), oldest first.
    pub async fn list(
        db: &Db,
        entity: &str,
        entity_id: i64,
        page: Page,
    ) -> Result<Paged<AuditEntry>> {
        let q = Sql {
            text: "SELECT a.id, a.entity, a.entity_id, a.action, a.actor_id, u.display_name AS actor_name, a.at, a.changes \
                   FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id WHERE a.entity = $1 AND a.entity_id = $2"
                .into(),
            args: args![entity, entity_id],
        };
        paged(db, q, "a.id", page).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shouhou_domain::Lang;

    #[test]
    fn a_page_out_of_bounds_is_refused_naming_the_parameter() {
        assert_eq!(
            Page::parse(None, None),
            Ok(Page {
                limit: 50,
                offset: 0
            })
        );
        assert_eq!(
            Page::parse(Some(500), Some(7)),
            Ok(Page {
                limit: 500,
                offset: 7
            })
        );
        assert_eq!(Page::parse(Some(1), None).map(|p| p.limit), Ok(1));
        for limit in [0, -1, 501] {
            let e = Page::parse(Some(limit), None).unwrap_err();
            assert_eq!(e.field(), Some("limit"));
            assert_eq!(e.message(Lang::ZhCn), "条数：必须在 1 到 500 之间");
        }
        let e = Page::parse(None, Some(-1)).unwrap_err();
        assert_eq!(e.field(), Some("offset"));
        assert_eq!(e.message(Lang::En), "Offset: must be at least 0");
    }
}

// ---------------------------------------------------------------- settings

/// Settings kept as one JSON document per name (the geocoding service).
pub mod settings {
    use super::*;

    pub async fn get(db: &Db, name: &str) -> Result<Option<String>> {
        let v: Option<(String,)> = db
            .fetch_optional("SELECT value FROM settings WHERE name = $1", args![name])
            .await?;
        Ok(v.map(|v| v.0))
    }

    /// [`get`] inside a transaction.
    pub async fn get_tx(tx: &mut Tx, name: &str) -> Result<Option<String>> {
        let v: Option<(String,)> = tx
            .fetch_optional("SELECT value FROM settings WHERE name = $1", args![name])
            .await?;
        Ok(v.map(|v| v.0))
    }

    pub async fn put(tx: &mut Tx, name: &str, value: &str, now: DateTime<Utc>) -> Result<()> {
        tx.execute(
            "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            args![name, value, now],
        )
        .await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- versions (If-Match)

pub mod versions {
    use super::*;

    /// The records two people may edit at once: each carries a version raised by every change.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Versioned {
        OrgUnit,
        User,
        Customer,
        Product,
        Policy,
        Device,
        Technician,
        Article,
        Complaint,
    }

    impl Versioned {
        fn table(self) -> &'static str {
            match self {
                Versioned::OrgUnit => "org_units",
                Versioned::User => "users",
                Versioned::Customer => "customers",
                Versioned::Product => "products",
                Versioned::Policy => "warranty_policies",
                Versioned::Device => "devices",
                Versioned::Technician => "technicians",
                Versioned::Article => "kb_articles",
                Versioned::Complaint => "complaints",
            }
        }
    }

    /// Whether each of `records` (kind, id, version) still has that version, read inside `tx`
    /// so that the change the caller then writes rests on them: on SQLite, whose one writer
    /// orders every change, in one read; on PostgreSQL each row is share-locked to the end of
    /// the transaction (a change to it waits; one that came first is read).
    pub async fn still(tx: &mut Tx, records: &[(Versioned, i64, i64)]) -> Result<bool> {
        if records.is_empty() {
            return Ok(true);
        }
        match tx.backend() {
            crate::Backend::Sqlite => {
                let (all,): (bool,) = tx
                    .fetch_one(&format!("SELECT {}", still_condition(records)), args![])
                    .await?;
                Ok(all)
            }
            crate::Backend::Postgres => {
                for (of, id, version) in records {
                    let now: Option<(i64,)> = tx
                        .fetch_optional(
                            &format!("SELECT version FROM {} WHERE id = $1 FOR SHARE", of.table()),
                            args![*id],
                        )
                        .await?;
                    if now != Some((*version,)) {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
        }
    }

    /// An SQL condition, true while every record is still its version (TRUE for none): what
    /// [`still`] reads on SQLite, for a caller that checks it inside a script of its own.
    pub fn still_condition(records: &[(Versioned, i64, i64)]) -> String {
        if records.is_empty() {
            return "TRUE".into();
        }
        records
            .iter()
            .map(|(of, id, version)| {
                format!(
                    "EXISTS (SELECT 1 FROM {} WHERE id = {id} AND version = {version})",
                    of.table()
                )
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// Raises the version of record `id` if it is still `expected` (any version with `None`).
    /// On PostgreSQL the row stays locked to the end of the transaction, so what the change then
    /// reads is what it changes. `Ok(Err(current))` when the record moved on; `NotFound` when
    /// there is no such record.
    pub async fn bump(
        tx: &mut Tx,
        of: Versioned,
        id: i64,
        expected: Option<i64>,
    ) -> Result<std::result::Result<i64, i64>> {
        let t = of.table();
        let raised: Option<(i64,)> = tx
            .fetch_optional(
                &format!("UPDATE {t} SET version = version + 1 WHERE id = $1 AND ($2 IS NULL OR version = $2) RETURNING version"),
                args![id, expected],
            )
            .await?;
        if let Some((v,)) = raised {
            return Ok(Ok(v));
        }
        let (current,): (i64,) = tx
            .fetch_one(&format!("SELECT version FROM {t} WHERE id = $1"), args![id])
            .await?;
        Ok(Err(current))
    }

    /// The version of a setting edited as a whole (`sla_rules`, `fee_rules`); 1 before its first
    /// change.
    pub async fn setting(db: &Db, name: &str) -> Result<i64> {
        let v: Option<(i64,)> = db
            .fetch_optional(
                "SELECT version FROM setting_versions WHERE name = $1",
                args![name],
            )
            .await?;
        Ok(v.map(|(v,)| v).unwrap_or(1))
    }

    /// [`bump`] for a setting.
    pub async fn bump_setting(
        tx: &mut Tx,
        name: &str,
        expected: Option<i64>,
    ) -> Result<std::result::Result<i64, i64>> {
        tx.execute(
            "INSERT INTO setting_versions (name, version) VALUES ($1, 1) ON CONFLICT (name) DO NOTHING",
            args![name],
        )
        .await?;
        let raised: Option<(i64,)> = tx
            .fetch_optional(
                "UPDATE setting_versions SET version = version + 1 WHERE name = $1 AND ($2 IS NULL OR version = $2) RETURNING version",
                args![name, expected],
            )
            .await?;
        if let Some((v,)) = raised {
            return Ok(Ok(v));
        }
        let (current,): (i64,) = tx
            .fetch_one(
                "SELECT version FROM setting_versions WHERE name = $1",
                args![name],
            )
            .await?;
        Ok(Err(current))
    }
}
