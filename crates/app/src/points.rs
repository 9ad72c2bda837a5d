//! Technician points (积分) and the monthly ranking. The ledger is kept by the KPI catch-up step:
//! whenever an order's facts are recomputed (`app::kpi`, from the orders marked dirty in each
//! audited change's transaction, and by `kpi rebuild`), [`reconcile_in`] derives what the order
//! earns from its records (`domain::points::derive`) and appends the difference to what its
//! entries already say — never changing an entry. An admin edits the rules (a new version from
//! an effective date); a manager adds adjustments with a reason; the dispatcher sets an order's
//! difficulty grade. Every change is audited in its transaction.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shouhou_domain::kinds::required_text;
use shouhou_domain::kpi::OrderRecord;
use shouhou_domain::points::{self as def, Difficulty, Entry, Points, Reason, RuleVersion, Rules};
use shouhou_domain::{Role, ValidationError};
use shouhou_store::kpi::Dims;
use shouhou_store::points::{self as store, EntryRow, NewEntry};
use shouhou_store::repo::audit;
use shouhou_store::Tx;
use utoipa::{IntoParams, ToSchema};

use crate::{Actor, App, AppError, Result};

/// Who reads the ranking and the rules.
pub const READERS: &[Role] = &[
    Role::Admin,
    Role::Manager,
    Role::Dispatcher,
    Role::Technician,
];
/// Who edits the rules.
pub const RULE_EDITORS: &[Role] = &[Role::Admin];
/// Who adds adjustments.
pub const ADJUSTERS: &[Role] = &[Role::Admin, Role::Manager];
/// Who sets an order's difficulty grade.
pub const GRADERS: &[Role] = &[Role::Admin, Role::Manager, Role::Dispatcher];

// ------------------------------------------------------------------------------- the ledger

/// Brings the ledger of the orders `records` (as the KPI step read them, inside its
/// transaction) in line with what they earn. Returns the number of entries appended.
pub(crate) async fn reconcile_in(
    app: &App,
    tx: &mut Tx,
    records: &[(Dims, OrderRecord)],
) -> Result<usize> {
    if records.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = records.iter().map(|(d, _)| d.work_order_id).collect();
    let versions = store::versions_tx(tx).await?;
    let info = store::order_info(tx, &ids).await?;
    let held = store::held(tx, &ids).await?;
    let tz = app.settings.time_zone;
    let local = move |t: DateTime<Utc>| t.with_timezone(&tz).date_naive();
    let now = app.now();
    let mut rows = Vec::new();
    for (dims, o) in records {
        let id = dims.work_order_id;
        let (difficulty, assigned) = info
            .iter()
            .find(|i| i.0 == id)
            .map(|i| (i.1, i.2))
            .unwrap_or((Difficulty::Normal, None));
        let derived = def::derive(o, difficulty, assigned, &versions, &local);
        let have: Vec<Entry> = held
            .iter()
            .filter(|h| h.0 == id)
            .map(|h| h.1.clone())
            .collect();
        for e in def::reconcile(&derived, &have) {
            rows.push(NewEntry {
                work_order_id: Some(id),
                entry: e,
                note: None,
                created_by: None,
                created_at: now,
            });
        }
    }
    let n = rows.len();
    store::append(tx, rows).await?;
    Ok(n)
}

// -------------------------------------------------------------------------------- the rules

/// The rules: the version in force today and every version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RulesView {
    pub current: RuleVersion,
    /// Oldest first.
    pub versions: Vec<RuleVersion>,
}

async fn rules_view(app: &App) -> Result<RulesView> {
    let versions = store::versions(&app.db).await?;
    let current = def::version_for(&versions, app.today())
        .cloned()
        .unwrap_or(RuleVersion {
            id: 0,
            effective_from: app.today(),
            rules: Rules::default(),
        });
    Ok(RulesView { current, versions })
}

pub async fn rules(app: &App, actor: &Actor) -> Result<RulesView> {
    actor.require(READERS)?;
    rules_view(app).await
}

/// A new version of the rules.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewRules {
    /// The first local date the version applies to (entries dated on or after it, until a later
    /// version's date). Entries of orders already in the ledger from that date are corrected.
    pub effective_from: NaiveDate,
    pub rules: Rules,
}

/// Adds a version of the rules (admin), audited; orders with entries from its date on are
/// recomputed by the next catch-up.
pub async fn replace_rules(app: &App, actor: &Actor, n: NewRules) -> Result<RulesView> {
    actor.require(RULE_EDITORS)?;
    n.rules.check()?;
    let mut tx = app.db.begin().await?;
    let id = store::add_version(&mut tx, n.effective_from, &n.rules, actor.id(), app.now()).await?;
    let version = RuleVersion {
        id,
        effective_from: n.effective_from,
        rules: n.rules,
    };
    crate::audit::created(app, &mut tx, Some(actor), "points_rules", id, &version).await?;
    store::mark_from(&mut tx, n.effective_from).await?;
    tx.commit().await?;
    rules_view(app).await
}

// ---------------------------------------------------------------------------- adjustments

/// A manager's adjustment of a technician's points.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewAdjustment {
    pub technician_id: i64,
    /// Points to add (negative to take away), up to two decimals, at most 100 either way.
    pub points: f64,
    /// Why, in words the technician reads.
    pub note: String,
    /// The local date it counts on (its month); default today.
    pub day: Option<NaiveDate>,
}

/// Adds an adjustment (manager or admin) for a technician of the actor's units, audited.
pub async fn adjust(app: &App, actor: &Actor, n: NewAdjustment) -> Result<EntryRow> {
    actor.require(ADJUSTERS)?;
    let (unit, _) = store::technician_unit(&app.db, n.technician_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !actor.sees_unit(unit) {
        return Err(AppError::NotFound);
    }
    let points = Points::from_f64(n.points)
        .filter(|p| p.0 != 0 && p.0.abs() <= 100 * 100)
        .ok_or_else(|| {
            AppError::invalid(
                "points",
                ValidationError::Invalid {
                    zh: "调整积分须为 -100 到 100 之间且不为 0".into(),
                    en: "an adjustment is between -100 and 100 points and not 0".into(),
                },
            )
        })?;
    let note = required_text(&n.note, "note", 500)?;
    let day = n.day.unwrap_or_else(|| app.today());
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let id = store::append_one(
        &mut tx,
        NewEntry {
            work_order_id: None,
            entry: Entry {
                technician_id: n.technician_id,
                reason: Reason::Adjustment,
                day,
                points,
                rule_version: None,
            },
            note: Some(&note),
            created_by: Some(actor.id()),
            created_at: now,
        },
    )
    .await?;
    #[derive(Serialize)]
    struct Audited<'a> {
        technician_id: i64,
        points: Points,
        note: &'a str,
        day: NaiveDate,
    }
    crate::audit::created(
        app,
        &mut tx,
        Some(actor),
        "points_entry",
        id,
        &Audited {
            technician_id: n.technician_id,
            points,
            note: &note,
            day,
        },
    )
    .await?;
    tx.commit().await?;
    let rows = store::entries(&app.db, n.technician_id, day, day).await?;
    rows.into_iter()
        .find(|r| r.id == id)
        .ok_or(AppError::NotFound)
}

// ------------------------------------------------------------------------- difficulty grade

/// Sets an order's difficulty grade (dispatcher, manager, admin), audited; its points follow at
/// the next catch-up. Returns the order's new version.
pub async fn set_difficulty(
    app: &App,
    actor: &Actor,
    order_id: i64,
    difficulty: Difficulty,
    if_match: Option<i64>,
) -> Result<i64> {
    actor.require(GRADERS)?;
    let mut tx = app.db.begin().await?;
    let w = shouhou_store::work_orders::get_for_update(&mut tx, &actor.vis, order_id).await?;
    let (before, version) = store::difficulty(&mut tx, order_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if if_match.is_some_and(|v| v != version) {
        return Err(crate::audit::stale(&mut tx, "work_order", w.id, version).await);
    }
    if before == difficulty {
        return Ok(version);
    }
    let now = app.now();
    let v = store::set_difficulty(&mut tx, order_id, difficulty, now).await?;
    audit::insert(
        &mut tx,
        "work_order",
        order_id,
        "update",
        Some(actor.id()),
        now,
        &serde_json::json!({"difficulty": [before.as_str(), difficulty.as_str()]}),
    )
    .await?;
    tx.commit().await?;
    Ok(v)
}

/// An order's difficulty grade, for a reader who sees the order.
pub async fn difficulty(app: &App, actor: &Actor, order_id: i64) -> Result<Difficulty> {
    shouhou_store::work_orders::get(&app.db, &actor.vis, order_id).await?;
    Ok(store::difficulty_of(&app.db, order_id).await?)
}

// ----------------------------------------------------------------------------------- ranking

/// A month: `2026-05`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month(pub NaiveDate);

impl Month {
    pub fn parse(s: &str) -> Result<Month> {
        NaiveDate::parse_from_str(&format!("{}-01", s.trim()), "%Y-%m-%d")
            .map(Month)
            .map_err(|_| {
                AppError::invalid(
                    "month",
                    ValidationError::Invalid {
                        zh: "月份格式为 YYYY-MM，例如 2026-05".into(),
                        en: "a month is written YYYY-MM, e.g. 2026-05".into(),
                    },
                )
            })
    }

    pub fn of(day: NaiveDate) -> Month {
        Month(day.with_day(1).unwrap_or(day))
    }

    pub fn first(self) -> NaiveDate {
        self.0
    }

    pub fn last(self) -> NaiveDate {
        self.0
            .checked_add_months(Months::new(1))
            .and_then(|d| d.pred_opt())
            .unwrap_or(self.0)
    }

    pub fn prev(self) -> Month {
        Month(self.0.checked_sub_months(Months::new(1)).unwrap_or(self.0))
    }

    pub fn next(self) -> Month {
        Month(self.0.checked_add_months(Months::new(1)).unwrap_or(self.0))
    }

    pub fn key(self) -> String {
        self.0.format("%Y-%m").to_string()
    }
}

/// The query string of the ranking and entries.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthQuery {
    /// `YYYY-MM` (the org's time zone); default this month.
    pub month: Option<String>,
}

impl MonthQuery {
    pub fn month(&self, app: &App) -> Result<Month> {
        match self.month.as_deref().filter(|m| !m.trim().is_empty()) {
            Some(m) => Month::parse(m),
            None => Ok(Month::of(app.today())),
        }
    }
}

/// One technician in a month's ranking.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RankRow {
    pub technician_id: i64,
    pub name: String,
    pub store: String,
    /// Visits that arrived in the month (each visit counts for its own technician).
    pub visits: i64,
    /// Points in the month (order entries and adjustments).
    pub points: f64,
    /// 1, 2, 2, 4 …; none below the minimum of visits.
    pub rank: Option<i64>,
    /// Visits still missing to be ranked (none when ranked).
    pub visits_short: Option<i64>,
}

/// A month's ranking in the actor's units.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ranking {
    /// `YYYY-MM`.
    pub month: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Visits a technician needs in the month to be ranked (rules in force on the month's last
    /// day, or today in the current month).
    pub min_visits: i64,
    pub rule_version: i64,
    /// Ranked technicians by rank, then the unranked.
    pub rows: Vec<RankRow>,
}

/// The month's ranking of the technicians of the actor's units.
pub async fn ranking(app: &App, actor: &Actor, month: Month) -> Result<Ranking> {
    actor.require(READERS)?;
    crate::kpi::catch_up(app).await?;
    let (from, to) = (month.first(), month.last());
    let versions = store::versions(&app.db).await?;
    let at = to.min(app.today()).max(from);
    let (min_visits, rule_version) = def::version_for(&versions, at)
        .map(|v| (v.rules.min_visits, v.id))
        .unwrap_or((Rules::default().min_visits, 0));
    let rows = store::month(&app.db, &actor.vis.units, from, to).await?;
    let names = twin_names(&rows);
    let input: Vec<(i64, i64, Points)> = rows
        .iter()
        .map(|r| (r.technician_id, r.visits, Points(r.points)))
        .collect();
    let out = def::rank(&input, min_visits)
        .into_iter()
        .map(|s| {
            let r = rows.iter().find(|r| r.technician_id == s.technician_id);
            RankRow {
                technician_id: s.technician_id,
                name: names
                    .iter()
                    .find(|n| n.0 == s.technician_id)
                    .map(|n| n.1.clone())
                    .unwrap_or_default(),
                store: r.map(|r| r.store.clone()).unwrap_or_default(),
                visits: s.visits,
                points: s.points.as_f64(),
                rank: s.rank,
                visits_short: s.rank.is_none().then(|| min_visits - s.visits),
            }
        })
        .collect();
    Ok(Ranking {
        month: month.key(),
        from,
        to,
        min_visits,
        rule_version,
        rows: out,
    })
}

/// Names, two of the same name told apart by their login.
fn twin_names(rows: &[store::MonthRow]) -> Vec<(i64, String)> {
    rows.iter()
        .map(|r| {
            let twin = rows.iter().filter(|o| o.name == r.name).count() > 1;
            (
                r.technician_id,
                if twin {
                    format!("{}（{}）", r.name, r.login)
                } else {
                    r.name.clone()
                },
            )
        })
        .collect()
}

/// A technician's month: points, rank and the entries behind them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TechnicianMonth {
    pub month: String,
    pub technician_id: i64,
    pub name: String,
    pub store: String,
    pub visits: i64,
    pub points: f64,
    pub rank: Option<i64>,
    /// How many technicians are ranked in the month (in the reader's units).
    pub ranked: i64,
    pub min_visits: i64,
    /// Newest day first.
    pub entries: Vec<EntryRow>,
}

/// A technician's points of a month: a technician its own, others any technician of their units.
pub async fn technician_month(
    app: &App,
    actor: &Actor,
    technician_id: i64,
    month: Month,
) -> Result<TechnicianMonth> {
    actor.require(READERS)?;
    if actor.role() == Role::Technician && actor.technician_id != Some(technician_id) {
        return Err(AppError::NotFound);
    }
    let (unit, _) = store::technician_unit(&app.db, technician_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !actor.sees_unit(unit) {
        return Err(AppError::NotFound);
    }
    let r = ranking(app, actor, month).await?;
    let ranked = r.rows.iter().filter(|x| x.rank.is_some()).count() as i64;
    let row = r.rows.iter().find(|x| x.technician_id == technician_id);
    let entries = store::entries(&app.db, technician_id, month.first(), month.last()).await?;
    let name = match row {
        Some(x) => x.name.clone(),
        None => store::technician_unit(&app.db, technician_id)
            .await?
            .map(|x| x.1)
            .unwrap_or_default(),
    };
    Ok(TechnicianMonth {
        month: month.key(),
        technician_id,
        name,
        store: row.map(|x| x.store.clone()).unwrap_or_default(),
        visits: row.map_or(0, |x| x.visits),
        points: row.map_or(0.0, |x| x.points),
        rank: row.and_then(|x| x.rank),
        ranked,
        min_visits: r.min_visits,
        entries,
    })
}

/// The signed-in technician's month.
pub async fn mine(app: &App, actor: &Actor, month: Month) -> Result<TechnicianMonth> {
    let id = actor.technician_id.ok_or(AppError::Forbidden)?;
    technician_month(app, actor, id, month).await
}

/// Demo data: some orders graded easy or hard (bulk, before the facts and points are computed).
pub async fn grade_demo(app: &App) -> Result<()> {
    let mut tx = app.db.begin().await?;
    store::grade_in_bulk(
        &mut tx,
        "id % 5 = 0 AND kind IN ('install','repair_onsite','replacement')",
        Difficulty::Hard,
    )
    .await?;
    store::grade_in_bulk(
        &mut tx,
        "id % 4 = 1 AND kind IN ('inspection','maintenance','repair_phone')",
        Difficulty::Easy,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
