//! Customers: people and companies with phones and addresses.

use serde::Deserialize;
use shouhou_domain::kinds::required_text;
use shouhou_domain::validate;
use shouhou_domain::{CustomerKind, Role, Tier, ValidationError};
use shouhou_store::records::{Address, Customer};
use shouhou_store::repo::customers::{self, NewAddress};
use shouhou_store::repo::versions::Versioned;
use shouhou_store::repo::{Page, Paged};
use shouhou_store::{search, Tx};
use utoipa::ToSchema;

use crate::audit;
use crate::{Actor, App, AppError, Result};

pub const ARCHIVE_WRITERS: &[Role] = &[Role::Admin, Role::Manager, Role::Dispatcher, Role::Clerk];

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AddressInput {
    /// Set to change an existing address; absent for a new one.
    pub id: Option<i64>,
    pub label: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub address: String,
    pub lat: f64,
    pub lng: f64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewCustomer {
    pub org_unit_id: Option<i64>,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    pub kind: Option<CustomerKind>,
    pub tier: Option<Tier>,
    pub note: Option<String>,
    #[schema(min_items = 1)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub addresses: Vec<AddressInput>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CustomerPatch {
    pub org_unit_id: Option<i64>,
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    pub kind: Option<CustomerKind>,
    pub tier: Option<Tier>,
    pub note: Option<String>,
    /// Replaces the phone list.
    #[schema(min_items = 1)]
    pub phones: Option<Vec<String>>,
    /// Changes the addresses with an `id`, adds those without.
    pub addresses: Option<Vec<AddressInput>>,
}

fn phones(v: &[String]) -> Result<Vec<String>> {
    if v.is_empty() {
        return Err(AppError::invalid("phones", ValidationError::Required));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, p) in v.iter().enumerate() {
        let n = validate::phone(p, &format!("phones[{i}]"))?;
        if !out.contains(&n) {
            out.push(n);
        }
    }
    Ok(out)
}

fn address(a: &AddressInput, i: usize) -> Result<()> {
    required_text(&a.address, &format!("addresses[{i}].address"), 200)?;
    validate::latitude(a.lat, &format!("addresses[{i}].lat"))?;
    validate::longitude(a.lng, &format!("addresses[{i}].lng"))?;
    Ok(())
}

/// Rewrites the lookup row of a customer (after any change of name, phones or addresses).
pub async fn reindex(tx: &mut Tx, c: &Customer) -> Result<()> {
    let addrs: Vec<String> = c.addresses.iter().map(|a| a.address.clone()).collect();
    let (doc, cjk) = search::customer_doc(&c.name, &c.phones, &addrs);
    search::upsert(tx, "customer", c.id, c.org_unit_id, &doc, &cjk).await?;
    Ok(())
}

pub async fn list(
    app: &App,
    actor: &Actor,
    name: Option<&str>,
    page: Page,
) -> Result<Paged<Customer>> {
    Ok(customers::list(&app.db, &actor.vis, name, page).await?)
}

pub async fn get(app: &App, actor: &Actor, id: i64) -> Result<Customer> {
    Ok(customers::get(&app.db, &actor.vis, id).await?)
}

/// Validates and writes a new customer inside `tx` (also used by intake and import).
pub async fn create_in(app: &App, tx: &mut Tx, actor: &Actor, n: &NewCustomer) -> Result<Customer> {
    actor.require(ARCHIVE_WRITERS)?;
    let name = required_text(&n.name, "name", 100)?;
    let phones = phones(&n.phones)?;
    for (i, a) in n.addresses.iter().enumerate() {
        address(a, i)?;
    }
    let unit = n.org_unit_id.unwrap_or(actor.user.org_unit_id);
    if !actor.sees_unit(unit) {
        return Err(AppError::invalid(
            "org_unit_id",
            ValidationError::UnknownReference,
        ));
    }
    let id = customers::insert(
        tx,
        unit,
        &name,
        n.kind.unwrap_or(CustomerKind::Person).as_str(),
        n.tier.unwrap_or(Tier::Standard).as_str(),
        n.note.as_deref().filter(|s| !s.trim().is_empty()),
        app.now(),
    )
    .await?;
    customers::set_phones(tx, id, &phones).await?;
    let addrs: Vec<NewAddress> = n
        .addresses
        .iter()
        .map(|a| NewAddress {
            label: a.label.as_deref(),
            address: a.address.trim(),
            lat: a.lat,
            lng: a.lng,
        })
        .collect();
    customers::add_addresses(tx, id, &addrs).await?;
    let c = customers::get_tx(tx, id).await?;
    reindex(tx, &c).await?;
    audit::created(app, tx, Some(actor), "customer", id, &c).await?;
    Ok(c)
}

pub async fn create(app: &App, actor: &Actor, n: NewCustomer) -> Result<Customer> {
    let mut tx = app.db.begin().await?;
    let c = create_in(app, &mut tx, actor, &n).await?;
    tx.commit().await?;
    Ok(c)
}

pub async fn update(
    app: &App,
    actor: &Actor,
    id: i64,
    if_match: Option<i64>,
    p: CustomerPatch,
) -> Result<Customer> {
    actor.require(ARCHIVE_WRITERS)?;
    let before = customers::get(&app.db, &actor.vis, id).await?;
    let mut c = before.clone();
    if let Some(v) = p.name {
        c.name = required_text(&v, "name", 100)?;
    }
    if let Some(v) = p.kind {
        c.kind = v;
    }
    if let Some(v) = p.tier {
        c.tier = v;
    }
    if let Some(v) = p.note {
        c.note = Some(v).filter(|s| !s.trim().is_empty());
    }
    if let Some(u) = p.org_unit_id {
        if !actor.sees_unit(u) {
            return Err(AppError::invalid(
                "org_unit_id",
                ValidationError::UnknownReference,
            ));
        }
        c.org_unit_id = u;
    }
    let new_phones = p.phones.as_deref().map(phones).transpose()?;
    if let Some(addrs) = &p.addresses {
        for (i, a) in addrs.iter().enumerate() {
            address(a, i)?;
            if let Some(aid) = a.id {
                if !before.addresses.iter().any(|x| x.id == aid) {
                    return Err(AppError::invalid(
                        &format!("addresses[{i}].id"),
                        ValidationError::UnknownReference,
                    ));
                }
            }
        }
    }
    let mut tx = app.db.begin().await?;
    audit::claim_version(
        &mut tx,
        Versioned::Customer,
        "customer",
        id,
        if_match,
        before.version,
    )
    .await?;
    customers::update(&mut tx, &c, app.now()).await?;
    if let Some(ph) = &new_phones {
        customers::set_phones(&mut tx, id, ph).await?;
    }
    if let Some(addrs) = &p.addresses {
        let mut added = Vec::new();
        for a in addrs {
            match a.id {
                Some(aid) => {
                    customers::update_address(
                        &mut tx,
                        &Address {
                            id: aid,
                            customer_id: id,
                            label: a.label.clone(),
                            address: a.address.trim().to_string(),
                            lat: a.lat,
                            lng: a.lng,
                        },
                    )
                    .await?
                }
                None => added.push(NewAddress {
                    label: a.label.as_deref(),
                    address: a.address.trim(),
                    lat: a.lat,
                    lng: a.lng,
                }),
            }
        }
        customers::add_addresses(&mut tx, id, &added).await?;
    }
    let after = customers::get_tx(&mut tx, id).await?;
    reindex(&mut tx, &after).await?;
    audit::updated(app, &mut tx, actor, "customer", id, &before, &after).await?;
    tx.commit().await?;
    Ok(after)
}
