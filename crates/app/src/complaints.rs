//! Complaints (投诉): opened by a dissatisfied follow-up answer or registered by hand from an
//! order (the customer called to complain); owned by a manager (by default the first manager of
//! the order's unit, else of the nearest unit above), due by severity, worked through a log of
//! actions, escalated to the manager one level up — by hand, or by [`escalate_overdue`] once past
//! due — and closed with a resolution. Every change is audited in its transaction; owner,
//! category, severity, escalation and closing claim the complaint's version (`If-Match`).

use serde::{Deserialize, Serialize};
use shouhou_domain::complaints::{is_overdue, DueRules};
use shouhou_domain::kinds::required_text;
use shouhou_domain::{
    ComplaintActionKind, ComplaintCategory, ComplaintStatus, Lang, Role, Severity, ValidationError,
};
use shouhou_store::complaints::{self as store, Complaint, ComplaintAction, Filter, NewComplaint};
use shouhou_store::records::{OrgUnit, WorkOrder};
use shouhou_store::repo::versions::Versioned;
use shouhou_store::repo::{self, users, Page, Paged};
use shouhou_store::work_orders as orders;
use shouhou_store::{Tx, Visibility};
use utoipa::{IntoParams, ToSchema};

use crate::{Actor, App, AppError, Result};

/// Who reads the complaints of their units.
pub const READERS: &[Role] = &[
    Role::Admin,
    Role::Manager,
    Role::Followup,
    Role::Dispatcher,
    Role::Clerk,
];
/// Who registers a complaint by hand (the customer called).
pub const CREATORS: &[Role] = READERS;
/// Who works a complaint: actions, owner, category, severity, escalation, closing.
pub const WORKERS: &[Role] = &[Role::Admin, Role::Manager, Role::Followup];
/// The roles a complaint may be owned by.
const OWNER_ROLES: &[Role] = &[Role::Admin, Role::Manager, Role::Followup];

/// The rules complaints are due by (DOMAIN.md's defaults).
pub fn due_rules(_app: &App) -> DueRules {
    DueRules::default()
}

/// `unit` and the units above it, nearest first.
fn chain(units: &[OrgUnit], unit: i64) -> Vec<i64> {
    let mut out = vec![unit];
    let mut cur = unit;
    while let Some(p) = units.iter().find(|u| u.id == cur).and_then(|u| u.parent_id) {
        if out.contains(&p) {
            break;
        }
        out.push(p);
        cur = p;
    }
    out
}

/// The first active manager of the first of `units` that has one.
async fn first_manager(app: &App, units: &[i64]) -> Result<Option<i64>> {
    let managers =
        shouhou_store::repo::users::users_with_role(&app.db, units, Role::Manager.as_str()).await?;
    Ok(units
        .iter()
        .find_map(|u| managers.iter().find(|(mu, _)| mu == u).map(|(_, id)| *id)))
}

/// The default owner of a complaint on an order of `unit`: the first active manager of the
/// unit, else of the nearest unit above it.
pub async fn default_owner(app: &App, unit: i64) -> Result<Option<i64>> {
    let units = app.units.units(&app.db).await?;
    first_manager(app, &chain(&units, unit)).await
}

/// Who an escalation of `k` goes to: the manager one level above whoever holds it now (the
/// manager it was escalated to, else its owner, else its unit). `None` at the top.
pub async fn escalation_target(app: &App, k: &Complaint) -> Result<Option<(i64, String)>> {
    let base = match k.escalated_to.or(k.owner_id) {
        Some(u) => users::get(&app.db, u).await?.org_unit_id,
        None => k.org_unit_id,
    };
    let units = app.units.units(&app.db).await?;
    let above = chain(&units, base).into_iter().skip(1).collect::<Vec<_>>();
    match first_manager(app, &above).await? {
        Some(id) => Ok(Some((id, users::get(&app.db, id).await?.display_name))),
        None => Ok(None),
    }
}

/// What the audit log keeps of a complaint: its own fields, not the joined names.
#[derive(Serialize)]
struct Audited<'a> {
    work_order_id: i64,
    owner_id: Option<i64>,
    category: &'a str,
    severity: &'a str,
    status: &'a str,
    description: &'a str,
    resolution: Option<&'a str>,
    due_at: chrono::DateTime<chrono::Utc>,
    escalated_to: Option<i64>,
}

fn audited(k: &Complaint) -> Audited<'_> {
    Audited {
        work_order_id: k.work_order_id,
        owner_id: k.owner_id,
        category: &k.category,
        severity: &k.severity,
        status: &k.status,
        description: &k.description,
        resolution: k.resolution.as_deref(),
        due_at: k.due_at,
        escalated_to: k.escalated_to,
    }
}

/// Opens a complaint on order `w` inside the caller's transaction and audits it.
#[allow(clippy::too_many_arguments)]
async fn open_in(
    app: &App,
    tx: &mut Tx,
    w: &WorkOrder,
    follow_up_id: Option<i64>,
    owner: Option<i64>,
    category: ComplaintCategory,
    severity: Severity,
    description: &str,
    actor: Option<&Actor>,
) -> Result<i64> {
    let now = app.now();
    let id = store::add(
        tx,
        NewComplaint {
            work_order_id: w.id,
            follow_up_id,
            org_unit_id: w.org_unit_id,
            owner_id: owner,
            category: category.as_str(),
            severity: severity.as_str(),
            description,
            created_by: actor.map(Actor::id),
            created_at: now,
            due_at: due_rules(app).due_at(now, severity),
        },
    )
    .await?;
    let k = store::get_tx(tx, &Visibility::everything(vec![w.org_unit_id]), id).await?;
    crate::audit::created(app, tx, actor, "complaint", id, &audited(&k)).await?;
    Ok(id)
}

/// The complaint a dissatisfied follow-up answer opens (in the answer's transaction): normal,
/// category "other" until the owner reads it, owned by the order's manager.
pub async fn open_from_follow_up(
    app: &App,
    tx: &mut Tx,
    w: &WorkOrder,
    follow_up_id: i64,
    description: &str,
    actor: Option<&Actor>,
) -> Result<i64> {
    let owner = default_owner(app, w.org_unit_id).await?;
    open_in(
        app,
        tx,
        w,
        Some(follow_up_id),
        owner,
        ComplaintCategory::Other,
        Severity::Normal,
        description,
        actor,
    )
    .await
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewComplaintInput {
    /// The order the complaint is about.
    pub work_order_id: i64,
    pub category: ComplaintCategory,
    pub severity: Severity,
    /// What the customer complains about.
    #[schema(min_length = 1, max_length = 1000)]
    pub description: String,
    /// The manager who owns it; by default the order's manager.
    pub owner_id: Option<i64>,
}

/// Checks that `owner` may own a complaint of `unit`: an active admin, manager or follow-up
/// user the actor sees, of the complaint's unit or a unit above it.
async fn check_owner(app: &App, actor: &Actor, unit: i64, owner: i64) -> Result<()> {
    let bad = || {
        AppError::invalid(
            "owner_id",
            ValidationError::Invalid {
                zh: "负责人须是能看到这条投诉的在职客服经理、回访员或管理员".into(),
                en: "the owner must be an active manager, follow-up or admin user who sees this complaint".into(),
            },
        )
    };
    let u = users::get_scoped(&app.db, &actor.vis, owner)
        .await
        .map_err(|_| bad())?;
    let units = app.units.units(&app.db).await?;
    if !u.active || !OWNER_ROLES.contains(&u.role) || !chain(&units, unit).contains(&u.org_unit_id)
    {
        return Err(bad());
    }
    Ok(())
}

/// Registers a complaint by hand on an order the actor sees (the customer called).
pub async fn create(app: &App, actor: &Actor, n: NewComplaintInput) -> Result<Complaint> {
    actor.require(CREATORS)?;
    let description = required_text(&n.description, "description", 1000)?;
    let mut tx = app.db.begin().await?;
    let w = orders::get_for_update(&mut tx, &actor.vis, n.work_order_id)
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::NotFound => {
                AppError::invalid("work_order_id", ValidationError::UnknownReference)
            }
            other => other,
        })?;
    let owner = match n.owner_id {
        Some(o) => {
            check_owner(app, actor, w.org_unit_id, o).await?;
            Some(o)
        }
        None => default_owner(app, w.org_unit_id).await?,
    };
    let id = open_in(
        app,
        &mut tx,
        &w,
        None,
        owner,
        n.category,
        n.severity,
        &description,
        Some(actor),
    )
    .await?;
    let k = store::get_tx(&mut tx, &actor.vis, id).await?;
    tx.commit().await?;
    Ok(k)
}

/// Which complaints a list shows.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Show {
    /// 处理中: open, soonest due first.
    Open,
    /// 已超时: open and past their due time, soonest due first.
    Overdue,
    /// 已办结: closed, newest first.
    Closed,
    /// Every complaint, newest first.
    All,
}

impl Show {
    pub const ALL: &'static [Show] = &[Show::Open, Show::Overdue, Show::Closed, Show::All];

    pub fn as_str(self) -> &'static str {
        match self {
            Show::Open => "open",
            Show::Overdue => "overdue",
            Show::Closed => "closed",
            Show::All => "all",
        }
    }

    pub fn parse(s: &str) -> Option<Show> {
        Show::ALL.iter().copied().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `open` (default: soonest due first), `overdue`, `closed` or `all` (newest first).
    #[param(inline)]
    pub show: Option<Show>,
    #[param(inline)]
    pub severity: Option<Severity>,
    /// The complaints of one order.
    pub work_order_id: Option<i64>,
}

/// The complaints of the actor's units with the total (exact up to 10,000).
pub async fn list(app: &App, actor: &Actor, q: &ListQuery, page: Page) -> Result<Paged<Complaint>> {
    actor.require(READERS)?;
    let mut f = Filter {
        severity: q.severity.map(|s| s.as_str().to_string()),
        work_order_id: q.work_order_id,
        ..Default::default()
    };
    match q.show.unwrap_or(Show::Open) {
        Show::Open => f.status = Some(ComplaintStatus::Open.as_str().into()),
        Show::Overdue => f.overdue_at = Some(app.now()),
        Show::Closed => f.status = Some(ComplaintStatus::Closed.as_str().into()),
        Show::All => {}
    }
    Ok(store::list(&app.db, &actor.vis, &f, page).await?)
}

pub async fn get(app: &App, actor: &Actor, id: i64) -> Result<Complaint> {
    actor.require(READERS)?;
    Ok(store::get(&app.db, &actor.vis, id).await?)
}

/// The complaints of one order the actor sees (the order page), oldest first.
pub async fn of_order(app: &App, actor: &Actor, work_order_id: i64) -> Result<Vec<Complaint>> {
    orders::get(&app.db, &actor.vis, work_order_id).await?;
    Ok(store::of_order(&app.db, work_order_id).await?)
}

/// Whether `k` is open past its due time now.
pub fn overdue(app: &App, k: &Complaint) -> bool {
    ComplaintStatus::parse_field(&k.status, "status")
        .is_ok_and(|s| is_overdue(s, k.due_at, app.now()))
}

fn closed_error() -> AppError {
    AppError::invalid(
        "status",
        ValidationError::Invalid {
            zh: "投诉已经办结，不能再修改".into(),
            en: "the complaint is closed and cannot change".into(),
        },
    )
}

/// Reads the complaint for a change by a worker, refusing a closed one.
async fn open_for_change(tx: &mut Tx, actor: &Actor, id: i64) -> Result<Complaint> {
    actor.require(WORKERS)?;
    let k = store::get_tx(tx, &actor.vis, id).await?;
    if k.status == ComplaintStatus::Closed.as_str() {
        return Err(closed_error());
    }
    Ok(k)
}

/// Owner, category and severity; leaving one out keeps it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ComplaintPatch {
    pub owner_id: Option<i64>,
    pub category: Option<ComplaintCategory>,
    /// A new severity moves the due time (from the complaint's creation).
    pub severity: Option<Severity>,
}

/// Changes owner, category or severity of an open complaint (based on version `if_match`).
pub async fn update(
    app: &App,
    actor: &Actor,
    id: i64,
    if_match: Option<i64>,
    p: ComplaintPatch,
) -> Result<Complaint> {
    let mut tx = app.db.begin().await?;
    let before = open_for_change(&mut tx, actor, id).await?;
    let owner = match p.owner_id {
        Some(o) if Some(o) != before.owner_id => {
            check_owner(app, actor, before.org_unit_id, o).await?;
            Some(o)
        }
        _ => before.owner_id,
    };
    let category = p
        .category
        .map(|c| c.as_str().to_string())
        .unwrap_or_else(|| before.category.clone());
    let severity = match p.severity {
        Some(s) => s,
        None => Severity::parse_field(&before.severity, "severity")?,
    };
    let due_at = due_rules(app).due_at(before.created_at, severity);
    crate::audit::claim_version(
        &mut tx,
        Versioned::Complaint,
        "complaint",
        id,
        if_match,
        before.version,
    )
    .await?;
    store::set_terms(&mut tx, id, owner, &category, severity.as_str(), due_at).await?;
    let after = store::get_tx(&mut tx, &actor.vis, id).await?;
    crate::audit::updated(
        app,
        &mut tx,
        actor,
        "complaint",
        id,
        &audited(&before),
        &audited(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ActionInput {
    /// What was done (called the customer back, sent a technician again …).
    #[schema(min_length = 1, max_length = 1000)]
    pub note: String,
}

/// Adds an entry to the log of an open complaint.
pub async fn add_action(
    app: &App,
    actor: &Actor,
    id: i64,
    a: ActionInput,
) -> Result<ComplaintAction> {
    let note = required_text(&a.note, "note", 1000)?;
    let mut tx = app.db.begin().await?;
    open_for_change(&mut tx, actor, id).await?;
    let now = app.now();
    let entry = store::add_action(
        &mut tx,
        id,
        ComplaintActionKind::Note.as_str(),
        &note,
        Some(actor.id()),
        None,
        now,
    )
    .await?;
    repo::audit::insert(
        &mut tx,
        "complaint",
        id,
        "action",
        Some(actor.id()),
        now,
        &serde_json::json!({"note": [null, note]}),
    )
    .await?;
    tx.commit().await?;
    Ok(entry)
}

/// The log of a complaint, oldest first.
pub async fn actions(
    app: &App,
    actor: &Actor,
    id: i64,
    page: Page,
) -> Result<Paged<ComplaintAction>> {
    get(app, actor, id).await?;
    Ok(store::actions(&app.db, id, page).await?)
}

/// Escalates `k` (read in `tx`) to `to`, logged and audited; `actor` none for the automatic one.
async fn escalate_in(
    app: &App,
    tx: &mut Tx,
    k: &Complaint,
    to: i64,
    note: &str,
    actor: Option<&Actor>,
    if_match: Option<i64>,
) -> Result<()> {
    crate::audit::claim_version(
        tx,
        Versioned::Complaint,
        "complaint",
        k.id,
        if_match,
        k.version,
    )
    .await?;
    let now = app.now();
    store::set_escalated(tx, k.id, to, now).await?;
    store::add_action(
        tx,
        k.id,
        ComplaintActionKind::Escalated.as_str(),
        note,
        actor.map(Actor::id),
        Some(to),
        now,
    )
    .await?;
    repo::audit::insert(
        tx,
        "complaint",
        k.id,
        "update",
        actor.map(Actor::id),
        now,
        &serde_json::json!({"escalated_to": [k.escalated_to, to]}),
    )
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct EscalateInput {
    /// Why it goes up.
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

fn no_one_above() -> AppError {
    AppError::invalid(
        "escalated_to",
        ValidationError::Invalid {
            zh: "上级机构没有在职的客服经理，无法再升级".into(),
            en: "no active manager above to escalate to".into(),
        },
    )
}

/// Escalates an open complaint by hand to the manager one level above whoever holds it.
pub async fn escalate(
    app: &App,
    actor: &Actor,
    id: i64,
    if_match: Option<i64>,
    e: EscalateInput,
) -> Result<Complaint> {
    let note = match e.note.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => required_text(s, "note", 1000)?,
        _ => String::new(),
    };
    let mut tx = app.db.begin().await?;
    let k = open_for_change(&mut tx, actor, id).await?;
    let (to, _) = escalation_target(app, &k).await?.ok_or_else(no_one_above)?;
    escalate_in(app, &mut tx, &k, to, &note, Some(actor), if_match).await?;
    let after = store::get_tx(&mut tx, &actor.vis, id).await?;
    tx.commit().await?;
    Ok(after)
}

/// Escalates every open complaint past its due time that was never escalated to the manager
/// one level above its owner (the server runs this every minute; on PostgreSQL several servers
/// may: the version claim lets one win). Returns how many went up.
pub async fn escalate_overdue(app: &App) -> Result<usize> {
    let mut n = 0;
    for (id, unit, _) in store::overdue_unescalated(&app.db, app.now()).await? {
        let vis = Visibility::everything(vec![unit]);
        let mut tx = app.db.begin().await?;
        let k = store::get_tx(&mut tx, &vis, id).await?;
        if k.escalated_at.is_some() || !overdue(app, &k) {
            continue;
        }
        let Some((to, _)) = escalation_target(app, &k).await? else {
            continue;
        };
        match escalate_in(app, &mut tx, &k, to, "", None, None).await {
            Ok(()) => {
                tx.commit().await?;
                n += 1;
            }
            // Another server escalated it first.
            Err(AppError::Stale { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CloseInput {
    /// What was done for the customer.
    #[schema(min_length = 1, max_length = 1000)]
    pub resolution: String,
}

/// Closes an open complaint with its resolution (办结).
pub async fn close(
    app: &App,
    actor: &Actor,
    id: i64,
    if_match: Option<i64>,
    c: CloseInput,
) -> Result<Complaint> {
    let resolution = required_text(&c.resolution, "resolution", 1000)?;
    let mut tx = app.db.begin().await?;
    let before = open_for_change(&mut tx, actor, id).await?;
    crate::audit::claim_version(
        &mut tx,
        Versioned::Complaint,
        "complaint",
        id,
        if_match,
        before.version,
    )
    .await?;
    let now = app.now();
    store::close(&mut tx, id, &resolution, now).await?;
    store::add_action(
        &mut tx,
        id,
        ComplaintActionKind::Closed.as_str(),
        &resolution,
        Some(actor.id()),
        None,
        now,
    )
    .await?;
    let after = store::get_tx(&mut tx, &actor.vis, id).await?;
    crate::audit::updated(
        app,
        &mut tx,
        actor,
        "complaint",
        id,
        &audited(&before),
        &audited(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// The users a complaint of `unit` may be given to, by name.
pub async fn owner_choices(app: &App, actor: &Actor, unit: i64) -> Result<Vec<(i64, String)>> {
    let units = app.units.units(&app.db).await?;
    let up = chain(&units, unit);
    Ok(users::list(&app.db, &actor.vis, Page::LARGEST)
        .await?
        .items
        .into_iter()
        .filter(|u| u.active && OWNER_ROLES.contains(&u.role) && up.contains(&u.org_unit_id))
        .map(|u| (u.id, u.display_name))
        .collect())
}

/// An entry of the log as a person reads it.
pub fn action_text(a: &ComplaintAction, lang: Lang) -> String {
    let kind =
        ComplaintActionKind::parse_field(&a.kind, "kind").unwrap_or(ComplaintActionKind::Note);
    match kind {
        ComplaintActionKind::Note => a.note.clone(),
        ComplaintActionKind::Escalated => {
            let to = a.to_user_name.clone().unwrap_or_default();
            let head = match (lang, a.user_id.is_none()) {
                (Lang::ZhCn, true) => format!("超时未办结，自动升级至 {to}"),
                (Lang::ZhCn, false) => format!("升级至 {to}"),
                (Lang::En, true) => format!("Overdue: escalated to {to} automatically"),
                (Lang::En, false) => format!("Escalated to {to}"),
            };
            if a.note.is_empty() {
                head
            } else {
                format!("{head}{}{}", lang.pick("：", ": "), a.note)
            }
        }
        ComplaintActionKind::Closed => format!(
            "{}{}{}",
            lang.pick("办结", "Closed"),
            lang.pick("：", ": "),
            a.note
        ),
    }
}
