//! Who is acting, and what they may see. [`visibility_for`] is the one scoping function: every
//! list, detail, search, count and export passes the [`Visibility`] it returns to the store.

use shouhou_domain::{Lang, Role};
use shouhou_store::records::{OrgUnit, User};
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

/// The ids of `root` and every unit below it.
pub fn subtree(units: &[OrgUnit], root: i64) -> Vec<i64> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i];
        out.extend(
            units
                .iter()
                .filter(|u| u.parent_id == Some(parent))
                .map(|u| u.id),
        );
        i += 1;
    }
    out
}

/// What `user` may see: its unit and the units below; a technician only its own orders, a
/// partner only the orders given to its unit.
pub async fn visibility_for(db: &Db, user: &User) -> Result<(Visibility, Option<i64>)> {
    let units = org_units::all(db).await?;
    let tree = subtree(&units, user.org_unit_id);
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
            units: tree,
            technician_id,
            partner_unit_id,
        },
        technician_id,
    ))
}

/// The actor for `user`; the language is the user's own setting, else `fallback` (the browser's).
pub async fn actor_for(db: &Db, user: User, fallback: Option<Lang>) -> Result<Actor> {
    let (vis, technician_id) = visibility_for(db, &user).await?;
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
    })
}
