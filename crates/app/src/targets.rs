//! Targets (目标) cascaded: head office sets the company's committed (确保值) and stretch (挑战值)
//! values per KPI and period, managers break them down to their units and units to technicians.
//! [`sheet`] lays out one KPI and period as the tree the user sees, each line with its parent's
//! target, its children's sum (for KPIs that add up) and its progress; [`set`] sets one line's
//! target (audited, in the change's transaction); [`progress`] says where a unit or a technician
//! stands against each of its targets. Rules: `domain::targets`; rows: `store::targets`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use shouhou_domain::kpi::{Direction, Kpi, Shape, Sums};
use shouhou_domain::targets::{self as rules, PeriodKind, Status};
use shouhou_domain::{OrgKind, Role, ValidationError};
use shouhou_store::records::OrgUnit;
use shouhou_store::targets::{self as store, Filter, Key, Target, TechnicianRow};
use shouhou_store::Visibility;

use crate::kpi::{self as kpis, By, Query};
use crate::{Actor, App, AppError, Result};

/// What a target is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Unit(i64),
    Technician(i64),
}

/// Sets one target: a unit's (`unit_id`) or a technician's (`technician_id`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SetTarget {
    pub kpi: Kpi,
    pub unit_id: Option<i64>,
    pub technician_id: Option<i64>,
    #[schema(value_type = String)]
    pub period_kind: PeriodKind,
    /// The period's first day (the 1st of a month, of a quarter's first month, or 1 January).
    pub period_start: NaiveDate,
    /// 确保值 in the KPI's unit: a rate as a fraction 0–1, a duration in minutes (response time)
    /// or hours (repair cycle), money in fen.
    pub committed: f64,
    /// 挑战值, in the same unit; at least as ambitious as the committed value.
    pub stretch: f64,
    /// The first day the values are in force (default today).
    pub effective_from: Option<NaiveDate>,
}

/// What the audit log keeps of a target.
#[derive(Serialize)]
struct Audited<'a> {
    kpi: &'a str,
    org_unit_id: i64,
    technician_id: Option<i64>,
    period_kind: &'a str,
    period_start: NaiveDate,
    committed: f64,
    stretch: f64,
    effective_from: NaiveDate,
}

fn audited(t: &Target) -> Audited<'_> {
    Audited {
        kpi: &t.kpi,
        org_unit_id: t.org_unit_id,
        technician_id: t.technician_id,
        period_kind: &t.period_kind,
        period_start: t.period_start,
        committed: t.committed,
        stretch: t.stretch,
        effective_from: t.effective_from,
    }
}

fn invalid(field: &str, zh: &str, en: &str) -> AppError {
    AppError::invalid(
        field,
        ValidationError::Invalid {
            zh: zh.into(),
            en: en.into(),
        },
    )
}

/// Whether `actor` may set the target of `subject`: an admin for any unit or technician it sees;
/// a manager for the units below its own (the head office's manager also for the company) and
/// for the technicians of its units. The unit of the subject (the technician's) is returned.
async fn may_set(app: &App, actor: &Actor, units: &[OrgUnit], subject: Subject) -> Result<i64> {
    actor.require(&[Role::Admin, Role::Manager])?;
    match subject {
        Subject::Unit(u) => {
            let unit = units
                .iter()
                .find(|x| x.id == u)
                .filter(|_| actor.sees_unit(u))
                .ok_or(AppError::NotFound)?;
            if unit.kind == OrgKind::Partner {
                return Err(invalid(
                    "unit_id",
                    "安装网点没有目标",
                    "partners carry no targets",
                ));
            }
            let own = actor.user.org_unit_id;
            let own_is_top = units
                .iter()
                .find(|x| x.id == own)
                .is_some_and(|x| x.parent_id.is_none());
            if actor.role() == Role::Manager && u == own && !own_is_top {
                // The unit above sets this unit's target.
                return Err(AppError::Forbidden);
            }
            Ok(u)
        }
        Subject::Technician(t) => {
            let tech = store::technician(&app.db, t)
                .await?
                .filter(|x| actor.sees_unit(x.org_unit_id))
                .ok_or(AppError::NotFound)?;
            Ok(tech.org_unit_id)
        }
    }
}

/// Sets (or changes, from the same effective day) one target; audited as `target`.
pub async fn set(app: &App, actor: &Actor, input: SetTarget) -> Result<Target> {
    let subject = match (input.unit_id, input.technician_id) {
        (Some(u), None) => Subject::Unit(u),
        (None, Some(t)) => Subject::Technician(t),
        _ => {
            return Err(invalid(
                "unit_id",
                "请指定一个部门或一名技术员",
                "give either a unit or a technician",
            ))
        }
    };
    let units = app.units.units(&app.db).await?;
    let unit = may_set(app, actor, &units, subject).await?;
    if !input.period_kind.is_start(input.period_start) {
        return Err(invalid(
            "period_start",
            "期间开始日须为月、季或年的第一天",
            "the period must start on the first day of its month, quarter or year",
        ));
    }
    rules::validate(input.kpi, input.committed, input.stretch)?;
    let (committed, stretch) = match input.kpi.shape() {
        // Money targets are whole fen.
        Shape::Money => (input.committed.round(), input.stretch.round()),
        _ => (input.committed, input.stretch),
    };
    let effective_from = input.effective_from.unwrap_or_else(|| app.today());
    let key = Key {
        kpi: input.kpi.as_str(),
        org_unit_id: unit,
        technician_id: match subject {
            Subject::Technician(t) => Some(t),
            Subject::Unit(_) => None,
        },
        period_kind: input.period_kind.as_str(),
        period_start: input.period_start,
    };
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let id = match store::find(&mut tx, key, effective_from).await? {
        Some(before) => {
            if !store::update(&mut tx, before.id, before.version, committed, stretch, now).await? {
                let current = store::get_tx(&mut tx, before.id).await?.version;
                return Err(crate::audit::stale(&mut tx, "target", before.id, current).await);
            }
            let after = store::get_tx(&mut tx, before.id).await?;
            crate::audit::updated(
                app,
                &mut tx,
                actor,
                "target",
                before.id,
                &audited(&before),
                &audited(&after),
            )
            .await?;
            before.id
        }
        None => {
            let id = store::insert(
                &mut tx,
                key,
                committed,
                stretch,
                effective_from,
                actor.id(),
                now,
            )
            .await?;
            let t = store::get_tx(&mut tx, id).await?;
            crate::audit::created(app, &mut tx, Some(actor), "target", id, &audited(&t)).await?;
            id
        }
    };
    let t = store::get_tx(&mut tx, id).await?;
    tx.commit().await?;
    Ok(t)
}

// ------------------------------------------------------------------------------------ sheet

/// A committed and a stretch value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Values {
    pub committed: f64,
    pub stretch: f64,
}

impl From<&Target> for Values {
    fn from(t: &Target) -> Values {
        Values {
            committed: t.committed,
            stretch: t.stretch,
        }
    }
}

/// One line of a target sheet: a unit or a technician.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Line {
    /// 0 for the top line, 1 below it …
    pub depth: usize,
    /// `unit` or `technician`.
    pub kind: &'static str,
    pub unit_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub technician_id: Option<i64>,
    pub name: String,
    /// The unit's kind (`head_office`, `region`, `store`); `technician` for a technician.
    pub unit_kind: String,
    /// This line's target in force.
    pub target: Option<Values>,
    /// The target's id and version (send the version back to change it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// The parent's target (the unit above; a technician's unit).
    pub parent: Option<Values>,
    /// The sum of the children's targets, for KPIs that add up, when a child has one.
    pub children_sum: Option<Values>,
    /// The children's targets do not add up to this line's (KPIs that add up only).
    pub mismatch: bool,
    /// The KPI's value over the period so far (rate as a fraction, money in fen …).
    pub actual: Option<f64>,
    /// Where the actual stands against the target.
    pub status: Option<Status>,
    /// Whether the user may set this line's target.
    pub editable: bool,
}

/// One KPI and period as a tree: the user's unit, the units below, their technicians.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Sheet {
    pub kpi: Kpi,
    #[schema(value_type = String)]
    pub period_kind: PeriodKind,
    pub period_start: NaiveDate,
    /// The period's last day.
    pub period_end: NaiveDate,
    /// Targets in force on this day.
    pub as_of: NaiveDate,
    /// `higher_is_better` or `lower_is_better`.
    #[schema(value_type = String)]
    pub direction: Direction,
    /// Whether the children's targets should add up to the parent's.
    pub summable: bool,
    pub lines: Vec<Line>,
}

/// Which sheet.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SheetQuery {
    pub kpi: Kpi,
    /// `month`, `quarter` or `year`.
    #[param(value_type = String)]
    pub period_kind: PeriodKind,
    /// Any day of the period (default today).
    pub day: Option<NaiveDate>,
    /// Targets in force on this day (default today).
    pub as_of: Option<NaiveDate>,
}

/// The first and last day of the period whose progress is read: the period so far (none before
/// it starts).
fn so_far(app: &App, kind: PeriodKind, start: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let (from, to) = kind.range(start);
    let today = app.today();
    (from <= today).then(|| (from, to.min(today)))
}

/// Whether `actor` may set `subject` (without an error).
fn editable(actor: &Actor, units: &[OrgUnit], unit: &OrgUnit, technician: bool) -> bool {
    match actor.role() {
        Role::Admin => true,
        Role::Manager => {
            technician
                || unit.id != actor.user.org_unit_id
                || units
                    .iter()
                    .find(|x| x.id == unit.id)
                    .is_some_and(|x| x.parent_id.is_none())
        }
        _ => false,
    }
}

/// The target sheet of one KPI and period for admins and managers.
pub async fn sheet(app: &App, actor: &Actor, q: &SheetQuery) -> Result<Sheet> {
    actor.require(&[Role::Admin, Role::Manager])?;
    let day = q.day.unwrap_or_else(|| app.today());
    let start = q.period_kind.start_of(day);
    let (_, end) = q.period_kind.range(start);
    let as_of = q.as_of.unwrap_or_else(|| app.today());
    let filter = Filter {
        period_kind: q.period_kind.as_str().into(),
        period_start: start,
        kpi: Some(q.kpi.as_str().into()),
        technician_id: None,
        unit_only: None,
        as_of,
    };
    let units = app.units.units(&app.db).await?;
    let root = actor.user.org_unit_id;
    let mut targets = store::in_force(&app.db, &actor.vis, &filter).await?;
    // The parent of the top line is outside the user's units; its target is shown beside.
    let root_parent = units
        .iter()
        .find(|u| u.id == root)
        .and_then(|u| u.parent_id);
    if let Some(p) = root_parent {
        targets.extend(
            store::in_force(&app.db, &Visibility::everything(vec![p]), &filter)
                .await?
                .into_iter()
                .filter(|t| t.technician_id.is_none()),
        );
    }
    let unit_target = |u: i64| {
        targets
            .iter()
            .find(|t| t.org_unit_id == u && t.technician_id.is_none())
    };
    let tech_target = |t: i64| targets.iter().find(|x| x.technician_id == Some(t));
    let techs = store::technicians(&app.db, &actor.vis).await?;

    // Actuals: each unit's and each technician's, over the period so far.
    let mut unit_actual: BTreeMap<i64, Option<f64>> = BTreeMap::new();
    let mut tech_actual: BTreeMap<i64, Option<f64>> = BTreeMap::new();
    let period = so_far(app, q.period_kind, start);
    // Read once for the user's whole subtree, this KPI only: by counting unit (each unit's
    // actual is its subtree's rows merged — the rows are disjoint, so counts add up and the
    // durations stay exact) and by technician. Not two readings per unit: a chain has hundreds.
    if let Some((from, to)) = period {
        let mut kq = Query::new(from, to, By::Store);
        kq.unit_id = Some(root);
        kq.only = Some(q.kpi);
        let tq = Query {
            by: By::Technician,
            ..kq.clone()
        };
        let (per_unit, per_tech) =
            tokio::try_join!(kpis::table(app, actor, &kq), kpis::table(app, actor, &tq))?;
        for u in units.iter().filter(|u| actor.sees_unit(u.id)) {
            let below = crate::actor::subtree(&units, u.id);
            let mut sums = Sums::default();
            for r in &per_unit.rows {
                if r.group.id.is_some_and(|id| below.contains(&id)) {
                    sums.merge(&r.sums);
                }
            }
            unit_actual.insert(u.id, sums.value(q.kpi).number());
        }
        for r in per_tech.rows {
            if let Some(id) = r.group.id {
                tech_actual.insert(id, r.kpis.get(q.kpi.as_str()).and_then(|v| v.number()));
            }
        }
    }

    // Depth-first: a unit, its technicians, then the units below.
    let mut lines: Vec<Line> = Vec::new();
    let mut stack: Vec<(i64, usize)> = vec![(root, 0)];
    while let Some((u, depth)) = stack.pop() {
        let Some(unit) = units.iter().find(|x| x.id == u) else {
            continue;
        };
        if unit.kind == OrgKind::Partner || !actor.sees_unit(u) {
            continue;
        }
        let own = unit_target(u);
        lines.push(Line {
            depth,
            kind: "unit",
            unit_id: u,
            technician_id: None,
            name: unit.name.clone(),
            unit_kind: unit.kind.as_str().into(),
            target: own.map(Values::from),
            target_id: own.map(|t| t.id),
            version: own.map(|t| t.version),
            parent: unit.parent_id.and_then(unit_target).map(Values::from),
            children_sum: None,
            mismatch: false,
            actual: unit_actual.get(&u).copied().flatten(),
            status: None,
            editable: editable(actor, &units, unit, false),
        });
        for t in techs.iter().filter(|t| t.org_unit_id == u) {
            lines.push(tech_line(
                t,
                depth + 1,
                tech_target(t.id),
                own.map(Values::from),
                tech_actual.get(&t.id).copied().flatten(),
                actor.role() == Role::Admin || actor.role() == Role::Manager,
            ));
        }
        let mut children: Vec<&OrgUnit> = units.iter().filter(|x| x.parent_id == Some(u)).collect();
        children.sort_by(|a, b| b.name.cmp(&a.name));
        for c in children {
            stack.push((c.id, depth + 1));
        }
    }

    // Status and children's sums.
    let direction = q.kpi.direction();
    let summable = rules::summable(q.kpi);
    for i in 0..lines.len() {
        if let (Some(t), Some(a)) = (lines[i].target, lines[i].actual) {
            lines[i].status = Some(rules::status(direction, a, t.committed, t.stretch));
        }
        if !summable || lines[i].kind != "unit" {
            continue;
        }
        let depth = lines[i].depth;
        let kids: Vec<Option<Values>> = lines[i + 1..]
            .iter()
            .take_while(|l| l.depth > depth)
            .filter(|l| l.depth == depth + 1)
            .map(|l| l.target)
            .collect();
        if kids.iter().all(Option::is_none) {
            continue;
        }
        let c: Vec<f64> = kids
            .iter()
            .map(|v| v.map_or(0.0, |v| v.committed))
            .collect();
        let s: Vec<f64> = kids.iter().map(|v| v.map_or(0.0, |v| v.stretch)).collect();
        let sum = Values {
            committed: c.iter().sum(),
            stretch: s.iter().sum(),
        };
        lines[i].children_sum = Some(sum);
        if let Some(t) = lines[i].target {
            lines[i].mismatch =
                !rules::sums_match(t.committed, &c) || !rules::sums_match(t.stretch, &s);
        }
    }
    Ok(Sheet {
        kpi: q.kpi,
        period_kind: q.period_kind,
        period_start: start,
        period_end: end,
        as_of,
        direction,
        summable,
        lines,
    })
}

fn tech_line(
    t: &TechnicianRow,
    depth: usize,
    target: Option<&Target>,
    parent: Option<Values>,
    actual: Option<f64>,
    editable: bool,
) -> Line {
    Line {
        depth,
        kind: "technician",
        unit_id: t.org_unit_id,
        technician_id: Some(t.id),
        name: t.name.clone(),
        unit_kind: "technician".into(),
        target: target.map(Values::from),
        target_id: target.map(|t| t.id),
        version: target.map(|t| t.version),
        parent,
        children_sum: None,
        mismatch: false,
        actual,
        status: None,
        editable,
    }
}

// --------------------------------------------------------------------------------- progress

/// Where a unit or a technician stands against one target.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Progress {
    pub kpi: Kpi,
    pub committed: f64,
    pub stretch: f64,
    /// The value over the period so far; none without records.
    pub actual: Option<f64>,
    pub status: Option<Status>,
}

/// The targets in force today of `subject` for the period of `kind` holding `day` (no actuals:
/// the dashboard has them).
pub async fn targets_of(
    app: &App,
    actor: &Actor,
    subject: Subject,
    kind: PeriodKind,
    day: NaiveDate,
) -> Result<Vec<Target>> {
    let mut f = Filter {
        period_kind: kind.as_str().into(),
        period_start: kind.start_of(day),
        kpi: None,
        technician_id: None,
        unit_only: None,
        as_of: app.today(),
    };
    Ok(match subject {
        Subject::Technician(t) => {
            let own = actor.technician_id == Some(t);
            let seen = store::technician(&app.db, t)
                .await?
                .is_some_and(|x| actor.sees_unit(x.org_unit_id) && actor.role().is_office());
            if !own && !seen {
                return Err(AppError::NotFound);
            }
            store::of_technician(&app.db, t, &f).await?
        }
        Subject::Unit(u) => {
            if !actor.sees_unit(u) || !actor.role().is_office() {
                return Err(AppError::NotFound);
            }
            f.unit_only = Some(u);
            store::in_force(&app.db, &actor.vis, &f).await?
        }
    })
}

/// Each targeted KPI of `subject` in the period of `kind` holding `day`: the target, the value so
/// far (from the KPI tables, in the actor's scope) and the status.
pub async fn progress(
    app: &App,
    actor: &Actor,
    subject: Subject,
    kind: PeriodKind,
    day: NaiveDate,
) -> Result<Vec<Progress>> {
    let targets = targets_of(app, actor, subject, kind, day).await?;
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let row = match so_far(app, kind, kind.start_of(day)) {
        Some((from, to)) => {
            let mut q = Query::new(from, to, By::All);
            match subject {
                Subject::Unit(u) => q.unit_id = Some(u),
                Subject::Technician(t) => q.technician_id = Some(t),
            }
            kpis::table(app, actor, &q).await?.rows.into_iter().next()
        }
        None => None,
    };
    let mut out: Vec<Progress> = Vec::new();
    for k in Kpi::DASHBOARD {
        let Some(t) = targets.iter().find(|t| t.kpi == k.as_str()) else {
            continue;
        };
        let actual = row
            .as_ref()
            .and_then(|r| r.kpis.get(k.as_str()))
            .and_then(|v| v.number());
        out.push(Progress {
            kpi: *k,
            committed: t.committed,
            stretch: t.stretch,
            actual,
            status: actual.map(|a| rules::status(k.direction(), a, t.committed, t.stretch)),
        });
    }
    Ok(out)
}
