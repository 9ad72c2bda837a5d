//! The audit log: who, when, what changed (field: old → new), written in the same transaction
//! as the change.

use serde::Serialize;
use serde_json::{Map, Value};
use shouhou_store::records::AuditEntry;
use shouhou_store::repo::versions::{self, Versioned};
use shouhou_store::repo::{audit, Page, Paged};
use shouhou_store::{Arg, Tx};

use crate::{Actor, App, AppError, Result};

/// Fields that change on every write and say nothing of their own.
const NOISE: &[&str] = &["updated_at", "version"];

/// `{"field": [old, new]}` for every top-level field that differs.
pub fn diff(before: &Value, after: &Value) -> Value {
    let empty = Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut out = Map::new();
    for (k, new) in a {
        if NOISE.contains(&k.as_str()) {
            continue;
        }
        let old = b.get(k).unwrap_or(&Value::Null);
        if old != new {
            out.insert(k.clone(), Value::Array(vec![old.clone(), new.clone()]));
        }
    }
    for (k, old) in b {
        if !a.contains_key(k) && !NOISE.contains(&k.as_str()) {
            out.insert(k.clone(), Value::Array(vec![old.clone(), Value::Null]));
        }
    }
    Value::Object(out)
}

pub fn to_value<T: Serialize>(v: &T) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| AppError::Internal(e.to_string()))
}

/// Records a creation: every field from null to its value.
pub async fn created<T: Serialize>(
    app: &App,
    tx: &mut Tx,
    actor: Option<&Actor>,
    entity: &str,
    id: i64,
    after: &T,
) -> Result<()> {
    tx.execute_all(created_statements(app, actor, entity, id, after)?)
        .await?;
    Ok(())
}

/// The statements of [`created`], for a caller that runs them with its own
/// ([`Tx::execute_all`]).
pub fn created_statements<T: Serialize>(
    app: &App,
    actor: Option<&Actor>,
    entity: &str,
    id: i64,
    after: &T,
) -> Result<Vec<(&'static str, Vec<Arg>)>> {
    let changes = diff(&Value::Object(Map::new()), &to_value(after)?);
    Ok(audit::statements(
        entity,
        id,
        "create",
        actor.map(Actor::id),
        app.now(),
        &changes,
    ))
}

/// Records an update if anything changed; returns the changes.
pub async fn updated<T: Serialize>(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    entity: &str,
    id: i64,
    before: &T,
    after: &T,
) -> Result<Value> {
    let changes = diff(&to_value(before)?, &to_value(after)?);
    if changes.as_object().is_some_and(|m| !m.is_empty()) {
        audit::insert(
            tx,
            entity,
            id,
            "update",
            Some(actor.id()),
            app.now(),
            &changes,
        )
        .await?;
    }
    Ok(changes)
}

/// Refuses a change to a record that moved on: who changed what last, from its audit trail.
pub async fn stale(tx: &mut Tx, entity: &str, id: i64, current_version: i64) -> AppError {
    let last = audit::list_tx(tx, entity, id)
        .await
        .ok()
        .and_then(|v| v.into_iter().last());
    AppError::Stale {
        current_version,
        changed_by: last.as_ref().and_then(|a| a.actor_name.clone()),
        changes: last.map(|a| a.changes.0).unwrap_or_default(),
    }
}

/// Takes the next version of a record for a change computed from the copy read at
/// `read_version`, inside the change's transaction: refused (412, who changed what) when the
/// client's `If-Match` is not that version, or when someone else changed the record since it was
/// read — so no change overwrites another silently.
pub async fn claim_version(
    tx: &mut Tx,
    of: Versioned,
    entity: &str,
    id: i64,
    if_match: Option<i64>,
    read_version: i64,
) -> Result<i64> {
    if if_match.is_some_and(|v| v != read_version) {
        return Err(stale(tx, entity, id, read_version).await);
    }
    match versions::bump(tx, of, id, Some(read_version)).await? {
        Ok(v) => Ok(v),
        Err(current) => Err(stale(tx, entity, id, current).await),
    }
}

/// The audit trail of one record, for admins and managers.
pub async fn trail(
    app: &App,
    actor: &Actor,
    entity: &str,
    id: i64,
    page: Page,
) -> Result<Paged<AuditEntry>> {
    use shouhou_domain::Role;
    actor.require(&[Role::Admin, Role::Manager])?;
    // The record itself must be visible to the actor.
    crate::org::ensure_visible(app, actor, entity, id).await?;
    Ok(audit::list(&app.db, entity, id, page).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_lists_changed_fields_only() {
        let d = diff(
            &json!({"name": "王", "tier": "vip", "updated_at": 1, "note": null}),
            &json!({"name": "李", "tier": "vip", "updated_at": 2, "note": "x"}),
        );
        assert_eq!(d, json!({"name": ["王", "李"], "note": [null, "x"]}));
    }
}
