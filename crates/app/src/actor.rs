//! Who is acting, and what they may see. [`visibility_for`] is the one scoping function: every
//! list, detail, search, count and export passes the [`Visibility`] it returns to the store.

use std::sync::{Arc, RwLock};

use shouhou_domain::{Lang, Role};
use shouhou_store::records::{OrgFingerprint, OrgUnit, User};
use shouhou_store::repo::{org_units, technicians};
use shouhou_store::{Db, Visibility};

use crate::{AppError, Result};

#[derive(Debug, Clone)]
pub struct Actor {
    pub user: User,
    pub technician_id: Option<i64>,
    pub vis: Visibility,
    pub lang: Lang,
    /// The hash of the session token the actor signed in with (`None` outside a request).
    pub session: Option<String>,
    /// The org's fingerprint read when the request signed in: the server's caches of the org
    /// tree and of the rarely changing settings are checked against it without another read.
    pub org_seen: Option<OrgFingerprint>,
}

impl Actor {
    pub fn id(&self) -> i64 {
        self.user.id
    }

    pub fn role(&self) -> Role {
        self.user.role
    }

    /// Refuses unless the actor has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<()> {
        if roles.contains(&self.user.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Whether `unit` lies in the actor's subtree.
    pub fn sees_unit(&self, unit: i64) -> bool {
        self.vis.units.contains(&unit)
    }
}

/// The ids of `root` and every unit below it, level by level (each level in `units`' order).
/// One pass over the units to find each one's children: every request scopes its user with
/// it, and a chain has hundreds of units.
pub fn subtree(units: &[OrgUnit], root: i64) -> Vec<i64> {
    let mut children: std::collections::HashMap<i64, Vec<i64>> =
        std::collections::HashMap::with_capacity(units.len());
    for u in units {
        if let Some(p) = u.parent_id {
            children.entry(p).or_default().push(u.id);
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        if let Some(c) = children.get(&out[i]) {
            out.extend_from_slice(c);
        }
        i += 1;
    }
    out
}

/// The org tree as last read, with the fingerprint it was read at
/// ([`org_units::fingerprint`]): a request's scoping reads one row to check it, not the tree.
/// Another server on the same database changing a unit changes the fingerprint too.
#[derive(Debug, Default)]
pub struct UnitCache(RwLock<Option<(OrgFingerprint, Arc<Vec<OrgUnit>>)>>);

impl UnitCache {
    /// Every org unit, read again only when one was added or changed.
    pub async fn units(&self, db: &Db) -> Result<Arc<Vec<OrgUnit>>> {
        let now = org_units::fingerprint(db).await?;
        self.units_at(db, now).await
    }

    /// [`UnitCache::units`] with the fingerprint `now` already read (at sign-in).
    pub async fn units_at(&self, db: &Db, now: OrgFingerprint) -> Result<Arc<Vec<OrgUnit>>> {
        if let Ok(g) = self.0.read() {
            if let Some((seen, units)) = g.as_ref() {
                if *seen == now {
                    return Ok(units.clone());
                }
            }
        }
        // Read after the fingerprint: a change in between leaves a stale fingerprint, which
        // the next request finds different and reads again.
        let units = Arc::new(org_units::all(db).await?);
        if let Ok(mut g) = self.0.write() {
            *g = Some((now, units.clone()));
        }
        Ok(units)
    }
}

/// What `user` may see: its unit and the units below; a technician only its own orders, a
/// partner only the orders given to its unit.
pub async fn visibility_for(db: &Db, user: &User) -> Result<(Visibility, Option<i64>)> {
    let units = org_units::all(db).await?;
    visibility_in(db, &units, user).await
}

/// [`visibility_for`] over the org tree `units`.
async fn visibility_in(
    db: &Db,
    units: &[OrgUnit],
    user: &User,
) -> Result<(Visibility, Option<i64>)> {
    let tree = subtree(units, user.org_unit_id);
    let (technician_id, partner_unit_id) = match user.role {
        Role::Technician => {
            let t = technicians::by_user(db, user.id).await?;
            // A technician without a technician record sees no orders (id -1 matches nothing).
            (Some(t.map(|t| t.id).unwrap_or(-1)), None)
        }
        Role::Partner => (None, Some(user.org_unit_id)),
        _ => (None, None),
    };
    Ok((
        Visibility {
            all_units: tree.len() == units.len(),
            units: tree,
            technician_id,
            partner_unit_id,
        },
        technician_id,
    ))
}

/// The actor for `user`; the language is the user's own setting, else `fallback` (the browser's).
pub async fn actor_for(db: &Db, user: User, fallback: Option<Lang>) -> Result<Actor> {
    let units = org_units::all(db).await?;
    actor_in(db, &units, user, fallback).await
}

/// [`actor_for`] with the org tree from `cache`, checked against the fingerprint `seen` (a
/// request's actor).
pub async fn actor_cached(
    db: &Db,
    cache: &UnitCache,
    user: User,
    fallback: Option<Lang>,
    seen: OrgFingerprint,
) -> Result<Actor> {
    let units = cache.units_at(db, seen).await?;
    let mut actor = actor_in(db, &units, user, fallback).await?;
    actor.org_seen = Some(seen);
    Ok(actor)
}

async fn actor_in(db: &Db, units: &[OrgUnit], user: User, fallback: Option<Lang>) -> Result<Actor> {
    let (vis, technician_id) = visibility_in(db, units, &user).await?;
    let lang = match &user.lang {
        Some(l) => Lang::from_header(l),
        None => fallback.unwrap_or_default(),
    };
    Ok(Actor {
        user,
        technician_id,
        vis,
        lang,
        session: None,
        org_seen: None,
    })
}
