//! Org units, users and technicians (with shifts).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use shouhou_domain::geo::{distance_km, Point};
use shouhou_domain::kinds::required_text;
use shouhou_domain::validate;
use shouhou_domain::{Category, Lang, OrgKind, Role, ValidationError};
use shouhou_store::records::{OrgUnit, Shift, StrList, Technician, User};
use shouhou_store::repo::versions::Versioned;
use shouhou_store::repo::{self, org_units, sessions, technicians, users, Page, Paged};
use utoipa::ToSchema;

use crate::audit;
use crate::auth;
use crate::error::conflict_as;
use crate::{Actor, App, AppError, Result};

/// Refuses (404) unless `entity` `id` is visible to the actor; used by detail views of
/// sub-resources such as the audit trail.
pub async fn ensure_visible(app: &App, actor: &Actor, entity: &str, id: i64) -> Result<()> {
    let v = &actor.vis;
    match entity {
        "work_order" => shouhou_store::work_orders::get(&app.db, v, id).await.map(|_| ()),
        "customer" => repo::customers::get(&app.db, v, id).await.map(|_| ()),
        "device" => repo::devices::get(&app.db, v, id).await.map(|_| ()),
        "technician" => technicians::get(&app.db, v, id).await.map(|_| ()),
        "user" => users::get_scoped(&app.db, v, id).await.map(|_| ()),
        "org_unit" => org_units::get(&app.db, v, id).await.map(|_| ()),
        "product" => repo::products::get(&app.db, id).await.map(|_| ()),
        "warranty_policy" => repo::policies::get(&app.db, id).await.map(|_| ()),
        "complaint" => shouhou_store::complaints::get(&app.db, v, id).await.map(|_| ()),
        _ => return Err(AppError::invalid(
            "entity",
            ValidationError::UnknownValue {
                allowed: "work_order, customer, device, technician, user, org_unit, product, warranty_policy, complaint".into(),
            },
        )),
    }
    .map_err(AppError::from)
}

/// The place of unit `id`, or of the nearest unit above it that has one.
pub fn unit_place(units: &[OrgUnit], id: i64) -> Option<Point> {
    let mut at = Some(id);
    for _ in 0..32 {
        let u = units.iter().find(|u| Some(u.id) == at)?;
        if let (Some(lat), Some(lng)) = (u.lat, u.lng) {
            return Some(Point::new(lat, lng));
        }
        at = u.parent_id;
    }
    None
}

/// The store nearest `at` among the stores in the subtree of `under` that pass `fits`; ties
/// (and stores without a place) go to the lowest id. `None` when no store passes.
pub fn nearest_store(
    units: &[OrgUnit],
    under: i64,
    at: Option<Point>,
    fits: impl Fn(i64) -> bool,
) -> Option<i64> {
    let tree = crate::actor::subtree(units, under);
    let distance = |u: &OrgUnit| match (at, u.lat, u.lng) {
        (Some(p), Some(lat), Some(lng)) => distance_km(p, Point::new(lat, lng)),
        _ => f64::MAX,
    };
    units
        .iter()
        .filter(|u| u.kind == OrgKind::Store && tree.contains(&u.id) && fits(u.id))
        .min_by(|a, b| distance(a).total_cmp(&distance(b)).then(a.id.cmp(&b.id)))
        .map(|u| u.id)
}

const OFFICE: &[Role] = &[
    Role::Admin,
    Role::Manager,
    Role::Dispatcher,
    Role::Clerk,
    Role::Finance,
    Role::Followup,
];

// ---------------------------------------------------------------- org units

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewOrgUnit {
    pub parent_id: Option<i64>,
    pub kind: OrgKind,
    #[schema(min_length = 1, max_length = 40)]
    pub code: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// The service hotline customers call (a mobile or a landline with its area code,
    /// e.g. 0571-85061234).
    #[schema(max_length = 20)]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct OrgUnitPatch {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[schema(min_length = 1, max_length = 40)]
    pub code: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// The service hotline; empty removes it.
    #[schema(max_length = 20)]
    pub phone: Option<String>,
}

/// A hotline as given: empty is none, anything else a valid phone number.
fn hotline(raw: Option<&str>) -> Result<Option<String>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(p) => Ok(Some(validate::phone(p, "phone")?)),
    }
}

fn coords(lat: Option<f64>, lng: Option<f64>) -> Result<()> {
    if let Some(v) = lat {
        validate::latitude(v, "lat")?;
    }
    if let Some(v) = lng {
        validate::longitude(v, "lng")?;
    }
    Ok(())
}

pub async fn list_org_units(app: &App, actor: &Actor, page: Page) -> Result<Paged<OrgUnit>> {
    Ok(org_units::list(&app.db, &actor.vis, page).await?)
}

pub async fn get_org_unit(app: &App, actor: &Actor, id: i64) -> Result<OrgUnit> {
    Ok(org_units::get(&app.db, &actor.vis, id).await?)
}

pub async fn create_org_unit(app: &App, actor: &Actor, n: NewOrgUnit) -> Result<OrgUnit> {
    actor.require(&[Role::Admin])?;
    let name = required_text(&n.name, "name", 100)?;
    let code = required_text(&n.code, "code", 40)?;
    coords(n.lat, n.lng)?;
    let phone = hotline(n.phone.as_deref())?;
    let parent = match n.parent_id {
        Some(p) if actor.sees_unit(p) => Some(p),
        Some(_) => {
            return Err(AppError::invalid(
                "parent_id",
                ValidationError::UnknownReference,
            ))
        }
        None => return Err(AppError::invalid("parent_id", ValidationError::Required)),
    };
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let id = org_units::insert(
        &mut tx,
        parent,
        n.kind.as_str(),
        &code,
        &name,
        n.address.as_deref(),
        n.lat,
        n.lng,
        now,
    )
    .await
    .map_err(conflict_as("code"))?;
    let mut o = org_units::get_tx(&mut tx, id).await?;
    if phone.is_some() {
        o.phone = phone;
        org_units::update(&mut tx, &o, now).await?;
    }
    audit::created(app, &mut tx, Some(actor), "org_unit", id, &o).await?;
    tx.commit().await?;
    Ok(o)
}

pub async fn update_org_unit(
    app: &App,
    actor: &Actor,
    id: i64,
    if_match: Option<i64>,
    p: OrgUnitPatch,
) -> Result<OrgUnit> {
    actor.require(&[Role::Admin])?;
    let before = org_units::get(&app.db, &actor.vis, id).await?;
    let mut o = before.clone();
    if let Some(v) = p.name {
        o.name = required_text(&v, "name", 100)?;
    }
    if let Some(v) = p.code {
        o.code = required_text(&v, "code", 40)?;
    }
    if p.address.is_some() {
        o.address = p.address;
    }
    coords(p.lat, p.lng)?;
    if p.phone.is_some() {
        o.phone = hotline(p.phone.as_deref())?;
    }
    o.lat = p.lat.or(o.lat);
    o.lng = p.lng.or(o.lng);
    let mut tx = app.db.begin().await?;
    audit::claim_version(
        &mut tx,
        Versioned::OrgUnit,
        "org_unit",
        id,
        if_match,
        before.version,
    )
    .await?;
    org_units::update(&mut tx, &o, app.now())
        .await
        .map_err(conflict_as("code"))?;
    let after = org_units::get_tx(&mut tx, id).await?;
    audit::updated(app, &mut tx, actor, "org_unit", id, &before, &after).await?;
    tx.commit().await?;
    Ok(after)
}

// ---------------------------------------------------------------- users

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewUser {
    #[schema(min_length = 1, max_length = 40)]
    pub username: String,
    #[schema(min_length = 1, max_length = 60)]
    pub display_name: String,
    #[schema(min_length = 6)]
    pub password: String,
    pub role: Role,
    pub org_unit_id: i64,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UserPatch {
    #[schema(min_length = 1, max_length = 60)]
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub org_unit_id: Option<i64>,
    pub phone: Option<String>,
    pub lang: Option<Lang>,
    pub active: Option<bool>,
    /// A new password: ends the user's other sessions and tokens.
    #[schema(min_length = 6)]
    pub password: Option<String>,
    /// The current password; required when users change their own.
    pub current_password: Option<String>,
}

pub async fn list_users(app: &App, actor: &Actor, page: Page) -> Result<Paged<User>> {
    actor.require(&[Role::Admin, Role::Manager])?;
    Ok(users::list(&app.db, &actor.vis, page).await?)
}

pub async fn get_user(app: &App, actor: &Actor, id: i64) -> Result<User> {
    if id == actor.id() {
        return Ok(actor.user.clone());
    }
    actor.require(&[Role::Admin, Role::Manager])?;
    Ok(users::get_scoped(&app.db, &actor.vis, id).await?)
}

fn username(v: &str) -> Result<String> {
    let u = required_text(v, "username", 40)?;
    if u.chars().count() < 3
        || !u
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
    {
        return Err(AppError::invalid(
            "username",
            ValidationError::Invalid {
                zh: "用户名为 3–40 位字母、数字或 _ . -".into(),
                en: "3–40 letters, digits or _ . -".into(),
            },
        ));
    }
    Ok(u.to_ascii_lowercase())
}

/// Creates a user without an actor (first admin, demo data); the audit entry has no actor.
pub async fn create_user_unchecked(app: &App, actor: Option<&Actor>, n: NewUser) -> Result<User> {
    let uname = username(&n.username)?;
    let display = required_text(&n.display_name, "display_name", 60)?;
    let phone = n
        .phone
        .as_deref()
        .map(|p| validate::phone(p, "phone"))
        .transpose()?;
    let hash = auth::hash(app, n.password.clone()).await?;
    let mut tx = app.db.begin().await?;
    org_units::get_tx(&mut tx, n.org_unit_id)
        .await
        .map_err(|_| AppError::invalid("org_unit_id", ValidationError::UnknownReference))?;
    let id = users::insert(
        &mut tx,
        &uname,
        &display,
        &hash,
        n.role.as_str(),
        n.org_unit_id,
        phone.as_deref(),
        app.now(),
    )
    .await
    .map_err(conflict_as("username"))?;
    let u = users::get_tx(&mut tx, id).await?;
    audit::created(app, &mut tx, actor, "user", id, &u).await?;
    tx.commit().await?;
    Ok(u)
}

pub async fn create_user(app: &App, actor: &Actor, n: NewUser) -> Result<User> {
    actor.require(&[Role::Admin])?;
    if !actor.sees_unit(n.org_unit_id) {
        return Err(AppError::invalid(
            "org_unit_id",
            ValidationError::UnknownReference,
        ));
    }
    create_user_unchecked(app, Some(actor), n).await
}

pub async fn update_user(
    app: &App,
    actor: &Actor,
    id: i64,
    if_match: Option<i64>,
    p: UserPatch,
) -> Result<User> {
    let own = id == actor.id();
    let admin = actor.role() == Role::Admin;
    // Anyone may change their own name, phone, language and password; the rest is the admin's.
    if !admin && (!own || p.role.is_some() || p.org_unit_id.is_some() || p.active.is_some()) {
        return Err(AppError::Forbidden);
    }
    let before = if own {
        actor.user.clone()
    } else {
        users::get_scoped(&app.db, &actor.vis, id).await?
    };
    let mut u = before.clone();
    if let Some(v) = p.display_name {
        u.display_name = required_text(&v, "display_name", 60)?;
    }
    if let Some(r) = p.role {
        u.role = r;
    }
    if let Some(o) = p.org_unit_id {
        if !actor.sees_unit(o) {
            return Err(AppError::invalid(
                "org_unit_id",
                ValidationError::UnknownReference,
            ));
        }
        u.org_unit_id = o;
    }
    if let Some(ph) = p.phone {
        u.phone = if ph.trim().is_empty() {
            None
        } else {
            Some(validate::phone(&ph, "phone")?)
        };
    }
    if let Some(l) = p.lang {
        u.lang = Some(l.as_str().to_string());
    }
    if let Some(a) = p.active {
        u.active = a;
    }
    let hash = match p.password {
        Some(pw) => {
            auth::validate_new_password(&pw)?;
            if own {
                let current = p.current_password.as_deref().unwrap_or("");
                if current.is_empty() {
                    return Err(AppError::invalid(
                        "current_password",
                        ValidationError::Required,
                    ));
                }
                if !auth::check_own_password(app, actor, current).await? {
                    return Err(AppError::invalid(
                        "current_password",
                        ValidationError::Invalid {
                            zh: "当前密码不对".into(),
                            en: "the current password is wrong".into(),
                        },
                    ));
                }
            }
            Some(auth::hash(app, pw).await?)
        }
        None => None,
    };
    let now = app.now();
    let mut tx = app.db.begin().await?;
    audit::claim_version(
        &mut tx,
        Versioned::User,
        "user",
        id,
        if_match,
        before.version,
    )
    .await?;
    users::update(&mut tx, &u, now).await?;
    if let Some(h) = &hash {
        users::set_password(&mut tx, id, h, now).await?;
        // A new password ends the user's other sessions and tokens; the session making an own
        // change stays.
        let keep = if own { actor.session.as_deref() } else { None };
        let ended = sessions::delete_others(&mut tx, id, keep).await?;
        shouhou_store::repo::audit::insert(
            &mut tx,
            "user",
            id,
            "password",
            Some(actor.id()),
            now,
            &serde_json::json!({
                "password": ["***", "***"],
                "sessions_ended": [null, ended],
            }),
        )
        .await?;
    }
    let after = users::get_tx(&mut tx, id).await?;
    audit::updated(app, &mut tx, actor, "user", id, &before, &after).await?;
    tx.commit().await?;
    Ok(after)
}

// ---------------------------------------------------------------- technicians

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewTechnician {
    pub user_id: i64,
    pub org_unit_id: Option<i64>,
    pub skills: Vec<Category>,
    pub start_address: Option<String>,
    pub start_lat: f64,
    pub start_lng: f64,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TechnicianPatch {
    pub org_unit_id: Option<i64>,
    pub skills: Option<Vec<Category>>,
    pub start_address: Option<String>,
    pub start_lat: Option<f64>,
    pub start_lng: Option<f64>,
    pub active: Option<bool>,
    pub senior: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewShift {
    pub day: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

fn skills(v: &[Category]) -> StrList {
    let mut s: Vec<String> = v.iter().map(|c| c.as_str().to_string()).collect();
    s.dedup();
    StrList(s)
}

pub async fn list_technicians(app: &App, actor: &Actor, page: Page) -> Result<Paged<Technician>> {
    actor.require(OFFICE)?;
    Ok(technicians::list(&app.db, &actor.vis, page).await?)
}

pub async fn get_technician(app: &App, actor: &Actor, id: i64) -> Result<Technician> {
    Ok(technicians::get(&app.db, &actor.vis, id).await?)
}

pub async fn create_technician(
    app: &App,
    actor: Option<&Actor>,
    n: NewTechnician,
) -> Result<Technician> {
    if let Some(a) = actor {
        a.require(&[Role::Admin, Role::Manager])?;
    }
    validate::latitude(n.start_lat, "start_lat")?;
    validate::longitude(n.start_lng, "start_lng")?;
    let mut tx = app.db.begin().await?;
    let user = users::get_tx(&mut tx, n.user_id)
        .await
        .map_err(|_| AppError::invalid("user_id", ValidationError::UnknownReference))?;
    if let Some(a) = actor {
        if !a.sees_unit(user.org_unit_id) {
            return Err(AppError::invalid(
                "user_id",
                ValidationError::UnknownReference,
            ));
        }
    }
    if user.role != Role::Technician {
        return Err(AppError::invalid(
            "user_id",
            ValidationError::Invalid {
                zh: "该用户的角色不是维修技术员".into(),
                en: "this user's role is not technician".into(),
            },
        ));
    }
    let unit = n.org_unit_id.unwrap_or(user.org_unit_id);
    if actor.is_some_and(|a| !a.sees_unit(unit)) {
        return Err(AppError::invalid(
            "org_unit_id",
            ValidationError::UnknownReference,
        ));
    }
    let id = technicians::insert(
        &mut tx,
        n.user_id,
        unit,
        &skills(&n.skills),
        n.start_address.as_deref(),
        n.start_lat,
        n.start_lng,
        app.now(),
    )
    .await
    .map_err(conflict_as("user_id"))?;
    let t = technicians::get_tx(&mut tx, id).await?;
    audit::created(app, &mut tx, actor, "technician", id, &t).await?;
    tx.commit().await?;
    Ok(t)
}

pub async fn update_technician(
    app: &App,
    actor: &Actor,
    id: i64,
    if_match: Option<i64>,
    p: TechnicianPatch,
) -> Result<Technician> {
    actor.require(&[Role::Admin, Role::Manager])?;
    let before = technicians::get(&app.db, &actor.vis, id).await?;
    let mut t = before.clone();
    if let Some(o) = p.org_unit_id {
        if !actor.sees_unit(o) {
            return Err(AppError::invalid(
                "org_unit_id",
                ValidationError::UnknownReference,
            ));
        }
        t.org_unit_id = o;
    }
    if let Some(s) = p.skills {
        t.skills = skills(&s);
    }
    if p.start_address.is_some() {
        t.start_address = p.start_address;
    }
    if let Some(v) = p.start_lat {
        t.start_lat = validate::latitude(v, "start_lat")?;
    }
    if let Some(v) = p.start_lng {
        t.start_lng = validate::longitude(v, "start_lng")?;
    }
    if let Some(a) = p.active {
        t.active = a;
    }
    if let Some(a) = p.senior {
        t.senior = a;
    }
    let mut tx = app.db.begin().await?;
    audit::claim_version(
        &mut tx,
        Versioned::Technician,
        "technician",
        id,
        if_match,
        before.version,
    )
    .await?;
    technicians::update(&mut tx, &t, app.now()).await?;
    let after = technicians::get_tx(&mut tx, id).await?;
    audit::updated(app, &mut tx, actor, "technician", id, &before, &after).await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn shifts(
    app: &App,
    actor: &Actor,
    id: i64,
    from: NaiveDate,
    to: NaiveDate,
    page: Page,
) -> Result<Paged<Shift>> {
    technicians::get(&app.db, &actor.vis, id).await?;
    Ok(technicians::shifts(&app.db, id, from, to, page).await?)
}

/// Takes the technician off `day` (leave or a rest day): the day's shift is removed, audited with
/// what it was. Orders already given to the technician for that day stay theirs until moved.
pub async fn clear_shift(app: &App, actor: &Actor, id: i64, day: NaiveDate) -> Result<()> {
    actor.require(&[Role::Admin, Role::Manager, Role::Dispatcher])?;
    technicians::get(&app.db, &actor.vis, id).await?;
    let mut tx = app.db.begin().await?;
    let before = technicians::remove_shift(&mut tx, id, day).await?;
    if let Some(b) = before {
        shouhou_store::repo::audit::insert(
            &mut tx,
            "technician",
            id,
            "shift",
            Some(actor.id()),
            app.now(),
            &serde_json::json!({"shift": [{"day": b.day, "starts_at": b.starts_at, "ends_at": b.ends_at}, null]}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn set_shift(app: &App, actor: &Actor, id: i64, s: NewShift) -> Result<Vec<Shift>> {
    actor.require(&[Role::Admin, Role::Manager, Role::Dispatcher])?;
    technicians::get(&app.db, &actor.vis, id).await?;
    if s.ends_at <= s.starts_at {
        return Err(AppError::invalid(
            "ends_at",
            ValidationError::DateOrder { other: "starts_at" },
        ));
    }
    let mut tx = app.db.begin().await?;
    technicians::upsert_shift(&mut tx, id, s.day, s.starts_at, s.ends_at).await?;
    shouhou_store::repo::audit::insert(
        &mut tx,
        "technician",
        id,
        "shift",
        Some(actor.id()),
        app.now(),
        &serde_json::json!({"shift": [null, {"day": s.day, "starts_at": s.starts_at, "ends_at": s.ends_at}]}),
    )
    .await?;
    tx.commit().await?;
    Ok(
        technicians::shifts(&app.db, id, s.day, s.day, Page::LARGEST)
            .await?
            .items,
    )
}
