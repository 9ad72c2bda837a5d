//! The KPIs (指标) a manager reads: kept current from the records, read for any period, scope and
//! grouping, each figure with the orders behind it. Definitions: `domain::kpi`; facts:
//! `store::kpi`. [`catch_up`] brings the facts up to date (the server runs it every few seconds
//! and every reading runs it first); [`rebuild`] computes them all again from the records. Both
//! bring the points ledger of the orders they recompute in line (`app::points::reconcile_in`).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use shouhou_domain::kpi::{self as def, Bucket, Kpi, Set, Sums, Value};
use shouhou_domain::{
    Category, Channel, Lang, OrgKind, Role, Tier, ValidationError, WarrantyDecision, WorkOrderType,
};
use shouhou_store::kpi::{self as store, DurationOf, FactOrder, FactQuery, Group, Key, Member};
use shouhou_store::repo::{Page, Paged};

use crate::{Actor, App, AppError, Result};

/// Orders whose facts one catch-up transaction recomputes: small enough that the requests
/// queued for SQLite's one writer get their turn between two (a chunk of 500 held it for
/// ~250 ms at a million orders).
const CHUNK: i64 = 100;

/// One catch-up (or rebuild) at a time in this process; another process's is harmless (the
/// result is the same).
static CATCH_UP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Computes the facts of `ids` (and the earlier repair orders on the same devices, whose
/// repeat-repair fact a new order changes) inside `tx`.
async fn recompute(app: &App, tx: &mut shouhou_store::Tx, ids: &[i64]) -> Result<usize> {
    let mut all = ids.to_vec();
    all.extend(store::earlier_on_same_device(tx, ids).await?);
    all.sort_unstable();
    all.dedup();
    replace(app, tx, &all).await?;
    Ok(all.len())
}

/// Replaces the facts of the orders `ids` with those of their records as they stand, and
/// reconciles their points (the ledger is never cleared: corrections are appended).
async fn replace(app: &App, tx: &mut shouhou_store::Tx, ids: &[i64]) -> Result<()> {
    let records = store::records(tx, ids).await?;
    let now = app.now();
    let tz = app.settings.time_zone;
    let local = move |t: DateTime<Utc>| t.with_timezone(&tz).date_naive();
    let mut facts = Vec::new();
    let mut expiries = Vec::new();
    for (dims, o) in &records {
        for f in def::facts(o, now, &local) {
            facts.push((dims, f));
        }
        if let Some(at) = def::facts_expire(o).filter(|at| *at > now) {
            expiries.push((dims.work_order_id, at));
        }
    }
    store::replace(tx, ids, facts, expiries).await?;
    crate::points::reconcile_in(app, tx, &records).await?;
    Ok(())
}

/// Reads the dashboards a manager opens first (this month, quarter and year by store and by
/// technician, with the satisfaction radar) in the scope of every manager and admin over more than one store, so
/// that the finished months they hold are in memory before anyone asks: a first reading of a
/// head office's year at a chain's size reads and sorts a million durations, a store's a
/// thirtieth of that. Scopes alike are read once, the broadest last (the last the memory lets
/// go). Returns the scopes read.
pub async fn warm(app: &App) -> Result<usize> {
    let units = app.units.units(&app.db).await?;
    let stores = |a: &Actor| {
        units
            .iter()
            .filter(|u| u.kind == OrgKind::Store && a.vis.units.contains(&u.id))
            .count()
    };
    let mut scopes: Vec<(usize, Actor)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for role in [Role::Manager, Role::Admin] {
        for user in shouhou_store::repo::users::active_with_role(&app.db, role).await? {
            let actor = crate::actor::actor_for(&app.db, user, None).await?;
            let wide = stores(&actor);
            if wide > 1 && seen.insert(format!("{:?}", actor.vis)) {
                scopes.push((wide, actor));
            }
        }
    }
    scopes.sort_by_key(|(wide, _)| *wide);
    for (_, actor) in &scopes {
        for period in [Period::Month, Period::Quarter, Period::Year] {
            let (from, to) = period.range(app.today());
            let q = Query::new(from, to, By::All);
            for by in [By::Technician, By::Store] {
                dashboard(app, actor, &q, Some(period), by).await?;
            }
            crate::csi::table(app, actor, &q).await?;
            crate::csi::table(app, actor, &q.previous()).await?;
        }
    }
    Ok(scopes.len())
}

/// Brings the facts up to date: the orders changed since the last catch-up and those the clock
/// changed. Returns how many orders were recomputed.
pub async fn catch_up(app: &App) -> Result<usize> {
    let _one = CATCH_UP.lock().await;
    // Durations a migration left to pack.
    if store::is_pending(&app.db, "durations").await? {
        let mut tx = app.db.begin().await?;
        if store::take_pending(&mut tx, "durations").await? {
            store::pack_durations(&mut tx).await?;
        }
        tx.commit().await?;
    }
    let mut done = 0;
    loop {
        // Asked on a reader first: most readings find nothing to do, and need not wait for
        // the one writer to learn it.
        if !store::any_stale(&app.db, app.now()).await? {
            return Ok(done);
        }
        let mut tx = app.db.begin().await?;
        let ids = store::stale(&mut tx, app.now(), CHUNK).await?;
        if ids.is_empty() {
            drop(tx);
            return Ok(done);
        }
        // Unmark first: a change committed after this point marks its order again.
        store::unmark(&mut tx, &ids).await?;
        done += recompute(app, &mut tx, &ids).await?;
        tx.commit().await?;
    }
}

/// Computes every order's facts again from the records. Returns the number of orders.
pub async fn rebuild(app: &App) -> Result<usize> {
    let _one = CATCH_UP.lock().await;
    let mut tx = app.db.begin().await?;
    store::clear(&mut tx).await?;
    tx.commit().await?;
    let mut after = 0;
    let mut n = 0;
    loop {
        let ids = store::order_ids_after(&app.db, after, 2_000).await?;
        let Some(&last) = ids.last() else {
            return Ok(n);
        };
        let mut tx = app.db.begin().await?;
        replace(app, &mut tx, &ids).await?;
        tx.commit().await?;
        n += ids.len();
        after = last;
    }
}

// ---------------------------------------------------------------------------------- queries

/// How a table of KPIs is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = KpiBy)]
pub enum By {
    /// One row: everything the user may see.
    All,
    Store,
    Region,
    Technician,
    Category,
    Brand,
    Kind,
    Warranty,
    Tier,
    Channel,
    Day,
    Week,
    Month,
}

impl By {
    pub const ALL: &'static [By] = &[
        By::All,
        By::Store,
        By::Region,
        By::Technician,
        By::Category,
        By::Brand,
        By::Kind,
        By::Warranty,
        By::Tier,
        By::Channel,
        By::Day,
        By::Week,
        By::Month,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            By::All => "all",
            By::Store => "store",
            By::Region => "region",
            By::Technician => "technician",
            By::Category => "category",
            By::Brand => "brand",
            By::Kind => "kind",
            By::Warranty => "warranty",
            By::Tier => "tier",
            By::Channel => "channel",
            By::Day => "day",
            By::Week => "week",
            By::Month => "month",
        }
    }

    pub fn parse(s: &str) -> Option<By> {
        By::ALL.iter().copied().find(|b| b.as_str() == s)
    }

    pub fn label(self, lang: Lang) -> &'static str {
        let zh = lang == Lang::ZhCn;
        match self {
            By::All => {
                if zh {
                    "合计"
                } else {
                    "Total"
                }
            }
            By::Store => {
                if zh {
                    "按门店"
                } else {
                    "By store"
                }
            }
            By::Region => {
                if zh {
                    "按区域"
                } else {
                    "By region"
                }
            }
            By::Technician => {
                if zh {
                    "按技术员"
                } else {
                    "By technician"
                }
            }
            By::Category => {
                if zh {
                    "按品类"
                } else {
                    "By category"
                }
            }
            By::Brand => {
                if zh {
                    "按品牌"
                } else {
                    "By brand"
                }
            }
            By::Kind => {
                if zh {
                    "按工单类型"
                } else {
                    "By order type"
                }
            }
            By::Warranty => {
                if zh {
                    "按保修判定"
                } else {
                    "By warranty"
                }
            }
            By::Tier => {
                if zh {
                    "按客户等级"
                } else {
                    "By customer tier"
                }
            }
            By::Channel => {
                if zh {
                    "按来源渠道"
                } else {
                    "By channel"
                }
            }
            By::Day => {
                if zh {
                    "按日"
                } else {
                    "By day"
                }
            }
            By::Week => {
                if zh {
                    "按周"
                } else {
                    "By week"
                }
            }
            By::Month => {
                if zh {
                    "按月"
                } else {
                    "By month"
                }
            }
        }
    }

    pub(crate) fn group(self) -> Group {
        match self {
            By::All => Group::None,
            By::Store => Group::Unit,
            By::Region => Group::Region,
            By::Technician => Group::Technician,
            By::Category => Group::Category,
            By::Brand => Group::Brand,
            By::Kind => Group::Kind,
            By::Warranty => Group::Warranty,
            By::Tier => Group::Tier,
            By::Channel => Group::Channel,
            By::Day | By::Week => Group::Day,
            By::Month => Group::Month,
        }
    }

    pub(crate) fn bucket(self) -> Option<Bucket> {
        match self {
            By::Day => Some(Bucket::Day),
            By::Week => Some(Bucket::Week),
            By::Month => Some(Bucket::Month),
            _ => None,
        }
    }

    /// Whether shifts (calls per technician-day, on-site share) split along this grouping.
    fn has_shifts(self) -> bool {
        matches!(
            self,
            By::All | By::Store | By::Region | By::Technician | By::Day | By::Week | By::Month
        )
    }
}

/// What to compute: a period of local dates, a grouping and filters.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: By,
    /// A unit and every unit below it.
    pub unit_id: Option<i64>,
    pub technician_id: Option<i64>,
    pub category: Option<Category>,
    pub brand: Option<String>,
    pub kind: Option<WorkOrderType>,
    /// Only this KPI (a chart of one figure: the others, and the records only they need, are
    /// not read); every KPI when `None`.
    pub only: Option<Kpi>,
}

/// The query string of the KPI API and pages.
#[derive(Debug, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Params {
    /// First day of the period (YYYY-MM-DD, the org's time zone), included.
    pub from: NaiveDate,
    /// Last day of the period, included (at most 1,098 days after `from`).
    pub to: NaiveDate,
    /// Grouping (default `all`: one row).
    #[param(inline)]
    pub by: Option<By>,
    /// Only this org unit and the units below it.
    pub unit_id: Option<i64>,
    /// Only the orders attributed to this technician (through the first visit).
    pub technician_id: Option<i64>,
    #[param(inline)]
    pub category: Option<Category>,
    pub brand: Option<String>,
    /// Work-order type.
    #[param(inline)]
    pub kind: Option<WorkOrderType>,
}

impl Params {
    pub fn query(&self) -> Query {
        Query {
            from: self.from,
            to: self.to,
            by: self.by.unwrap_or(By::All),
            unit_id: self.unit_id,
            technician_id: self.technician_id,
            category: self.category,
            brand: self.brand.clone(),
            kind: self.kind,
            only: None,
        }
    }
}

/// The longest period one query covers.
pub const MAX_DAYS: i64 = 3 * 366;

impl Query {
    pub fn new(from: NaiveDate, to: NaiveDate, by: By) -> Query {
        Query {
            from,
            to,
            by,
            unit_id: None,
            technician_id: None,
            category: None,
            brand: None,
            kind: None,
            only: None,
        }
    }

    /// The same query over the period before, as long (DOMAIN.md: the change is against it).
    pub fn previous(&self) -> Query {
        let (from, to) = def::previous_period(self.from, self.to);
        Query {
            from,
            to,
            ..self.clone()
        }
    }

    /// Whether the table answers `k`.
    fn wants(&self, k: Kpi) -> bool {
        self.only.is_none_or(|o| o == k)
    }

    /// What the table reads: everything, or what its one KPI needs.
    fn needs(&self) -> def::Needs {
        match self.only {
            Some(k) => k.needs(),
            None => def::Needs {
                counters: &def::Counter::ALL,
                late_unarrived: true,
                response: true,
                cycle: true,
                shifts: true,
            },
        }
    }

    pub(crate) fn check(&self) -> Result<()> {
        if self.to < self.from {
            return Err(AppError::invalid(
                "period",
                ValidationError::Invalid {
                    zh: "结束日期不能早于开始日期".into(),
                    en: "the end date is before the start date".into(),
                },
            ));
        }
        if (self.to - self.from).num_days() + 1 > MAX_DAYS {
            return Err(AppError::invalid(
                "period",
                ValidationError::Invalid {
                    zh: format!("一次最多统计 {MAX_DAYS} 天，请缩短期间"),
                    en: format!("a period covers at most {MAX_DAYS} days: shorten it"),
                },
            ));
        }
        Ok(())
    }
}

/// A group of a table: its key and how it reads.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = KpiGroup)]
pub struct GroupInfo {
    /// `store`, `technician`, `category` … (`all` for the total row).
    pub by: &'static str,
    /// The unit's, region's or technician's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// The stored value: a category, brand, type, warranty decision, tier, channel; or the first
    /// day of a time bucket (`2026-11-30`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// How it reads: a store's or technician's name, a category's label, `2026-W49`.
    pub name: String,
}

/// One row of a KPI table.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = KpiRow)]
pub struct Row {
    pub group: GroupInfo,
    /// Each KPI by its key: a rate `{numerator, denominator, value}`, a duration
    /// `{n, median, p90}` (minutes for response time, hours for the repair cycle), money
    /// `{fen}`, or `{no_data: true}` where no records feed it yet.
    pub kpis: BTreeMap<String, Value>,
    /// Repeat-repair figures whose 30-day windows have not all closed.
    pub provisional: bool,
    #[serde(skip)]
    #[schema(ignore)]
    pub sums: Sums,
}

/// A KPI table.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = KpiTable)]
pub struct Table {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: By,
    pub rows: Vec<Row>,
}

pub(crate) fn facts_query(q: &Query, units: &[shouhou_store::records::OrgUnit]) -> FactQuery {
    FactQuery {
        from: q.from,
        to: q.to,
        units: q.unit_id.map(|u| crate::actor::subtree(units, u)),
        technician_id: q.technician_id,
        category: q.category.map(|c| c.as_str().to_string()),
        brand: q.brand.clone(),
        kind: q.kind.map(|k| k.as_str().to_string()),
    }
}

/// A reading's view of the finished months kept in memory (after [`catch_up`]).
pub async fn memo(app: &App) -> Result<store::Memo<'_>> {
    Ok(store::Memo::begin(&app.db, &app.kpi_cache, app.today()).await?)
}

/// The KPIs of the period, grouped, in the actor's scope.
pub async fn table(app: &App, actor: &Actor, q: &Query) -> Result<Table> {
    q.check()?;
    catch_up(app).await?;
    let memo = memo(app).await?;
    table_in(app, actor, q, &memo).await
}

/// [`table`] once the facts are caught up, with the reading's memo.
async fn table_in(app: &App, actor: &Actor, q: &Query, memo: &store::Memo<'_>) -> Result<Table> {
    q.check()?;
    let units = app.units.units(&app.db).await?;
    if let Some(u) = q.unit_id {
        if !actor.sees_unit(u) {
            return Err(AppError::NotFound);
        }
    }
    let fq = facts_query(q, &units);
    let group = q.by.group();
    let now = app.now();
    let vis = &actor.vis;
    let bucket = q.by.bucket();
    let fold = |k: Key| -> Key {
        match (k, bucket) {
            (Key::Day(d), Some(b)) => Key::Day(b.start(d)),
            (k, _) => k,
        }
    };

    let needs = q.needs();
    let with_shifts = q.by.has_shifts()
        && q.category.is_none()
        && q.brand.is_none()
        && q.kind.is_none()
        && needs.shifts;
    let fq_ref = &fq;
    let durations = |which: DurationOf, wanted: bool| async move {
        match wanted {
            true => store::durations(&app.db, memo, vis, fq_ref, group, which).await,
            false => Ok(Default::default()),
        }
    };
    let shift_group = match q.by {
        By::All => store::ShiftGroup::None,
        By::Store | By::Region => store::ShiftGroup::Unit,
        By::Technician => store::ShiftGroup::Technician,
        By::Month => store::ShiftGroup::Month,
        _ => store::ShiftGroup::Day,
    };
    // The counters, the two kinds of durations and the shifts are read side by side (each on
    // its own connection).
    let (counted, responses, cycles, shifts) = tokio::try_join!(
        store::sums_of(
            &app.db,
            memo,
            vis,
            &fq,
            group,
            now,
            needs.counters,
            needs.late_unarrived
        ),
        durations(DurationOf::Response, needs.response),
        durations(DurationOf::Cycle, needs.cycle),
        async {
            match with_shifts {
                true => {
                    store::shifts(
                        &app.db,
                        memo,
                        vis,
                        q.from,
                        q.to,
                        fq.units.as_deref(),
                        q.technician_id,
                        shift_group,
                    )
                    .await
                }
                false => Ok(Vec::new()),
            }
        }
    )?;
    let mut sums: BTreeMap<Key, Sums> = BTreeMap::new();
    for (k, counters, late) in counted {
        let s = sums.entry(fold(k)).or_default();
        for (i, v) in counters.iter().enumerate() {
            s.counters[i] += v;
        }
        s.arrival_late_unarrived += late;
    }
    // Moved, not copied, where a group has one list (a year has a million values).
    for (key, secs) in responses {
        sums.entry(fold(key))
            .or_default()
            .response_seconds
            .absorb(secs);
    }
    for (key, secs) in cycles {
        sums.entry(fold(key))
            .or_default()
            .cycle_seconds
            .absorb(secs);
    }
    if with_shifts {
        let parent = |u: i64| units.iter().find(|x| x.id == u).and_then(|x| x.parent_id);
        if q.by == By::All && sums.is_empty() && !shifts.is_empty() {
            sums.insert(Key::All, Sums::default());
        }
        for s in shifts {
            let key = match (q.by, s.day) {
                (By::All, _) => Key::All,
                (By::Store, _) => Key::Id(s.org_unit_id),
                (By::Region, _) => Key::Id(s.org_unit_id.and_then(parent)),
                (By::Technician, _) => Key::Id(s.technician_id),
                (_, Some(d)) => fold(Key::Day(d)),
                (_, None) => continue,
            };
            let e = sums.entry(key).or_default();
            *e.shift_days.get_or_insert(0) += s.days;
            *e.shift_seconds.get_or_insert(0) += s.seconds;
        }
        // Groups with visits but no shift: zero working days (overtime counts, by design).
        for s in sums.values_mut() {
            s.shift_days.get_or_insert(0);
            s.shift_seconds.get_or_insert(0);
        }
    }
    if q.by == By::All && sums.is_empty() {
        sums.insert(Key::All, Sums::default());
    }

    let names = Names::load(app, &units, q.by, &sums).await?;
    let mut rows: Vec<Row> = sums
        .into_iter()
        .map(|(k, mut s)| Row {
            group: names.info(q.by, &k, actor.lang),
            kpis: Kpi::DASHBOARD
                .iter()
                .filter(|k| q.wants(**k))
                .map(|k| (k.as_str().to_string(), s.value_in_place(*k)))
                .collect(),
            provisional: s.repeat_provisional(),
            sums: s,
        })
        .collect();
    if q.by.bucket().is_none() && q.by != By::All {
        rows.sort_by(|a, b| a.group.name.cmp(&b.group.name));
    }
    Ok(Table {
        from: q.from,
        to: q.to,
        by: q.by,
        rows,
    })
}

/// The one-row table of a period from a table of the same period and filters grouped by time
/// buckets (the buckets are disjoint, so their sums add up): what [`table`] with `By::All`
/// would answer, without reading the period again.
pub fn total_of(t: &Table, lang: Lang) -> Table {
    let mut s = Sums::default();
    for r in &t.rows {
        s.merge(&r.sums);
    }
    Table {
        from: t.from,
        to: t.to,
        by: By::All,
        rows: vec![Row {
            group: GroupInfo {
                by: By::All.as_str(),
                id: None,
                key: None,
                name: By::All.label(lang).to_string(),
            },
            kpis: Kpi::DASHBOARD
                .iter()
                .map(|k| (k.as_str().to_string(), s.value_in_place(*k)))
                .collect(),
            provisional: s.repeat_provisional(),
            sums: s,
        }],
    }
}

/// What the dashboard (看板) reads for one period.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// The period's total (one row).
    pub now: Table,
    /// The period before, as long (for the change against it).
    pub prev: Table,
    /// Twelve buckets (days, weeks or months) ending at the period's end: the sparklines and
    /// the line chart.
    pub trend: Table,
    /// The period by the grouping asked for: the bar chart and the comparison table.
    pub groups: Table,
    /// First-time fix by ISO week over the twelve weeks ending with the period: the p-chart.
    pub weeks: Table,
    /// First-time fix by technician over the period: the funnel plot.
    pub technicians: Table,
}

/// The trend window of a period: twelve buckets ending at the period's end (days for a day,
/// week or month; weeks for a quarter; months for a year; by the length of a custom period).
pub fn trend_query(q: &Query, period: Option<Period>) -> Query {
    let len = (q.to - q.from).num_days() + 1;
    let by = match period {
        Some(p) => p.trend(),
        None if len <= 31 => By::Day,
        None if len <= 120 => By::Week,
        None => By::Month,
    };
    let mut t = q.clone();
    t.by = by;
    t.from = match by {
        By::Day => q.to - chrono::Duration::days(13),
        By::Week => Bucket::Week.start(q.to) - chrono::Duration::weeks(11),
        _ => def::add_months(Bucket::Month.start(q.to), -11),
    };
    t
}

/// Every table of the dashboard of `q`'s period with the groups `by`, read side by side. The
/// total comes from the trend where the trend covers the period exactly (a year by month), and
/// the funnel from the groups where they are technicians already; the p-chart and the funnel
/// read first-time fix only.
pub async fn dashboard(
    app: &App,
    actor: &Actor,
    q: &Query,
    period: Option<Period>,
    by: By,
) -> Result<Dashboard> {
    let prev_q = Query {
        by: By::All,
        ..q.previous()
    };
    let now_q = Query {
        by: By::All,
        ..q.clone()
    };
    let tq = trend_query(q, period);
    let gq = Query { by, ..q.clone() };
    let wq = Query {
        by: By::Week,
        from: Bucket::Week.start(q.to) - chrono::Duration::weeks(11),
        only: Some(Kpi::FirstTimeFixRate),
        ..q.clone()
    };
    let fq = Query {
        by: By::Technician,
        only: Some(Kpi::FirstTimeFixRate),
        ..q.clone()
    };
    let total_in_trend = (tq.from, tq.to) == (q.from, q.to) && q.only.is_none();
    let funnel_in_groups = by == By::Technician;
    catch_up(app).await?;
    let memo = &memo(app).await?;
    let (trend, now, prev, groups, weeks, technicians) = tokio::try_join!(
        table_in(app, actor, &tq, memo),
        async {
            match total_in_trend {
                true => Ok(None),
                false => table_in(app, actor, &now_q, memo).await.map(Some),
            }
        },
        table_in(app, actor, &prev_q, memo),
        table_in(app, actor, &gq, memo),
        table_in(app, actor, &wq, memo),
        async {
            match funnel_in_groups {
                true => Ok(None),
                false => table_in(app, actor, &fq, memo).await.map(Some),
            }
        },
    )?;
    Ok(Dashboard {
        now: now.unwrap_or_else(|| total_of(&trend, actor.lang)),
        technicians: technicians.unwrap_or_else(|| groups.clone()),
        prev,
        trend,
        groups,
        weeks,
    })
}

/// How groups read: units', regions' and technicians' names.
pub(crate) struct Names {
    units: Vec<(i64, String)>,
    technicians: Vec<(i64, String)>,
}

impl Names {
    async fn load(
        app: &App,
        units: &[shouhou_store::records::OrgUnit],
        by: By,
        sums: &BTreeMap<Key, Sums>,
    ) -> Result<Names> {
        let keys: Vec<Key> = sums.keys().cloned().collect();
        Names::load_keys(app, units, by, &keys).await
    }

    /// The names of the groups `keys` of a table grouped `by` (technicians' names are read only
    /// for a table by technician).
    pub(crate) async fn load_keys(
        app: &App,
        units: &[shouhou_store::records::OrgUnit],
        by: By,
        keys: &[Key],
    ) -> Result<Names> {
        let ids: Vec<i64> = keys
            .iter()
            .filter_map(|k| match k {
                Key::Id(Some(i)) if by == By::Technician => Some(*i),
                _ => None,
            })
            .collect();
        Ok(Names {
            units: units.iter().map(|u| (u.id, u.name.clone())).collect(),
            technicians: store::technician_names(&app.db, &ids).await?,
        })
    }

    pub(crate) fn info(&self, by: By, k: &Key, lang: Lang) -> GroupInfo {
        let none = if lang == Lang::ZhCn {
            "（无）"
        } else {
            "(none)"
        };
        let (id, key, name) = match (by, k) {
            (By::All, _) => (None, None, By::All.label(lang).to_string()),
            (By::Store | By::Region, Key::Id(Some(i))) => (
                Some(*i),
                None,
                self.units
                    .iter()
                    .find(|u| u.0 == *i)
                    .map(|u| u.1.clone())
                    .unwrap_or_else(|| i.to_string()),
            ),
            (By::Technician, Key::Id(Some(i))) => (
                Some(*i),
                None,
                self.technicians
                    .iter()
                    .find(|u| u.0 == *i)
                    .map(|u| u.1.clone())
                    .unwrap_or_else(|| i.to_string()),
            ),
            (By::Technician, Key::Id(None)) => (
                None,
                None,
                if lang == Lang::ZhCn {
                    "（未上门）".to_string()
                } else {
                    "(no visit)".to_string()
                },
            ),
            (_, Key::Day(d)) => (
                None,
                Some(d.to_string()),
                by.bucket().unwrap_or(Bucket::Day).label(*d),
            ),
            (_, Key::Text(Some(t))) => (None, Some(t.clone()), text_label(by, t, lang)),
            _ => (None, None, none.to_string()),
        };
        GroupInfo {
            by: by.as_str(),
            id,
            key,
            name,
        }
    }
}

fn text_label(by: By, t: &str, lang: Lang) -> String {
    let l = match by {
        By::Category => t.parse::<Category>().ok().map(|v| v.label(lang)),
        By::Kind => t.parse::<WorkOrderType>().ok().map(|v| v.label(lang)),
        By::Warranty => t.parse::<WarrantyDecision>().ok().map(|v| v.label(lang)),
        By::Tier => t.parse::<Tier>().ok().map(|v| v.label(lang)),
        By::Channel => t.parse::<Channel>().ok().map(|v| v.label(lang)),
        _ => None,
    };
    l.map(str::to_string).unwrap_or_else(|| t.to_string())
}

/// Numerator or denominator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = KpiSide)]
pub enum Side {
    Numerator,
    Denominator,
}

/// The work orders behind a figure: the numerator's or the denominator's set of the period.
pub async fn orders(
    app: &App,
    actor: &Actor,
    kpi: Kpi,
    side: Side,
    q: &Query,
    page: Page,
) -> Result<Paged<FactOrder>> {
    q.check()?;
    let Some((num, den)) = kpi.sets() else {
        return Ok(Paged::default());
    };
    catch_up(app).await?;
    let units = app.units.units(&app.db).await?;
    if let Some(u) = q.unit_id {
        if !actor.sees_unit(u) {
            return Err(AppError::NotFound);
        }
    }
    let set = match side {
        Side::Numerator => num,
        Side::Denominator => den,
    };
    let m = match set {
        Set::Counters(cs) => Member::Counters(cs.to_vec()),
        Set::CountersOrLate(cs) => Member::CountersOrLate(cs.to_vec(), app.now()),
        Set::Response => Member::Duration(DurationOf::Response),
        Set::Cycle => Member::Duration(DurationOf::Cycle),
    };
    let fq = facts_query(q, &units);
    let memo = memo(app).await?;
    Ok(store::orders(&app.db, &memo, &actor.vis, &fq, &m, page).await?)
}

// ----------------------------------------------------------------------------------- periods

/// A named period the dashboard offers, in the org's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Today,
    Week,
    Month,
    Quarter,
    Year,
}

impl Period {
    pub const ALL: &'static [Period] = &[
        Period::Today,
        Period::Week,
        Period::Month,
        Period::Quarter,
        Period::Year,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Today => "today",
            Period::Week => "week",
            Period::Month => "month",
            Period::Quarter => "quarter",
            Period::Year => "year",
        }
    }

    pub fn parse(s: &str) -> Option<Period> {
        Period::ALL.iter().copied().find(|p| p.as_str() == s)
    }

    pub fn label(self, lang: Lang) -> &'static str {
        let zh = lang == Lang::ZhCn;
        match self {
            Period::Today => {
                if zh {
                    "今天"
                } else {
                    "Today"
                }
            }
            Period::Week => {
                if zh {
                    "本周"
                } else {
                    "This week"
                }
            }
            Period::Month => {
                if zh {
                    "本月"
                } else {
                    "This month"
                }
            }
            Period::Quarter => {
                if zh {
                    "本季度"
                } else {
                    "This quarter"
                }
            }
            Period::Year => {
                if zh {
                    "本年"
                } else {
                    "This year"
                }
            }
        }
    }

    /// The period holding `today`, from its first day to today.
    pub fn range(self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let from = match self {
            Period::Today => today,
            Period::Week => Bucket::Week.start(today),
            Period::Month => Bucket::Month.start(today),
            Period::Quarter => {
                NaiveDate::from_ymd_opt(today.year(), (today.month0() / 3) * 3 + 1, 1)
                    .unwrap_or(today)
            }
            Period::Year => NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today),
        };
        (from, today)
    }

    /// The trend's bucket for this period.
    pub fn trend(self) -> By {
        match self {
            Period::Today | Period::Week | Period::Month => By::Day,
            Period::Quarter => By::Week,
            Period::Year => By::Month,
        }
    }
}
