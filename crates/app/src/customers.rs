//! Customers: people and companies with phones and addresses.
//!
//! An address that comes without coordinates is looked up by the geocoding service; without one
//! (or when it fails) it is placed at its district's centre, else at the owning store, and marked
//! "location to confirm" for the dispatcher. A phone already on another customer is a duplicate:
//! saving is refused with the other customer's name unless the user confirms, and duplicates
//! are merged into one customer (devices, orders, addresses and phones move over), audited.

use serde::{Deserialize, Serialize};
use shouhou_domain::geo::{self, LocatedBy, Point};
use shouhou_domain::kinds::required_text;
use shouhou_domain::validate;
use shouhou_domain::{CustomerKind, OrgKind, Role, Tier, ValidationError};
use shouhou_store::records::{Address, Customer, OrgUnit};
use shouhou_store::repo::customers::{self, NewAddress};
use shouhou_store::repo::versions::{self, Versioned};
use shouhou_store::repo::{devices, org_units, Page, Paged};
use shouhou_store::{search, work_orders, Tx};
use utoipa::ToSchema;

use crate::geocoding::{self, Found};
use crate::org::{nearest_store, unit_place};
use crate::{audit, Actor, App, AppError, Result};

pub const ARCHIVE_WRITERS: &[Role] = &[Role::Admin, Role::Manager, Role::Dispatcher, Role::Clerk];
/// Who sets an address's place by hand (the dispatcher confirming a placeholder).
pub const LOCATORS: &[Role] = &[Role::Admin, Role::Manager, Role::Dispatcher];

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AddressInput {
    /// Set to change an existing address; absent for a new one.
    pub id: Option<i64>,
    pub label: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub address: String,
    /// Both or neither. Without them the address is looked up by the geocoding service, else
    /// placed at its district's centre or the owning store and marked to confirm
    /// (`location_confirmed: false`); an existing address keeps its place unless its text changes.
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lng: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewCustomer {
    /// The unit the customer belongs to; by default the user's store (a head-office or region
    /// user's customer goes to the store nearest its first address).
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
    /// Save although another customer has one of these phones (after the user was told who).
    /// Without it such a customer is refused, naming the other one (field `phones[i]`).
    #[serde(default)]
    pub allow_duplicate_phone: bool,
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

/// Checks an address; returns its coordinates if it came with them.
fn address(a: &AddressInput, i: usize) -> Result<Option<Point>> {
    required_text(&a.address, &format!("addresses[{i}].address"), 200)?;
    let field = |f: &str| format!("addresses[{i}].{f}");
    match (a.lat, a.lng) {
        (Some(lat), Some(lng)) => {
            validate::latitude(lat, &field("lat"))?;
            validate::longitude(lng, &field("lng"))?;
            Ok(Some(Point::new(lat, lng)))
        }
        (None, None) => Ok(None),
        (Some(_), None) => Err(AppError::invalid(&field("lng"), ValidationError::Required)),
        (None, Some(_)) => Err(AppError::invalid(&field("lat"), ValidationError::Required)),
    }
}

/// An address's place, settled: where it came from and whether it is confirmed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    pub point: Point,
    pub by: LocatedBy,
    pub confirmed: bool,
}

/// The place from what was given, what the service found, or the district the address names;
/// `None` leaves it to the owning store.
fn place(given: Option<Point>, found: Option<Found>, text: &str) -> Option<Placed> {
    if let Some(point) = given {
        return Some(Placed {
            point,
            by: LocatedBy::Given,
            confirmed: true,
        });
    }
    if let Some(f) = found {
        return Some(Placed {
            point: f.point,
            by: LocatedBy::Geocoder,
            confirmed: f.precise,
        });
    }
    geo::district_of(text).map(|(_, point)| Placed {
        point,
        by: LocatedBy::District,
        confirmed: false,
    })
}

/// The last fallback: the place of the owning store (or the nearest unit above it with one).
fn at_store(units: &[OrgUnit], unit: i64, i: usize) -> Result<Placed> {
    unit_place(units, unit)
        .map(|point| Placed {
            point,
            by: LocatedBy::Store,
            confirmed: false,
        })
        .ok_or_else(|| {
            AppError::invalid(
                &format!("addresses[{i}].lat"),
                ValidationError::Invalid {
                    zh: "找不到这个地址的位置，门店也没有设置位置：请填写经纬度".into(),
                    en: "this address cannot be placed and the store has no place set: give latitude and longitude".into(),
                },
            )
        })
}

/// The unit a new customer belongs to: the one named, else the user's own unit when it is a
/// store; a head-office or region user's customer goes to the nearest store below it (nearest
/// to `first`, the first address's place, else to the user's unit).
fn home_unit(units: &[OrgUnit], actor: &Actor, named: Option<i64>, first: Option<Point>) -> i64 {
    if let Some(u) = named {
        return u;
    }
    let own = actor.user.org_unit_id;
    let kind = units.iter().find(|u| u.id == own).map(|u| u.kind);
    if !matches!(kind, Some(OrgKind::HeadOffice | OrgKind::Region)) {
        return own;
    }
    let at = first.or_else(|| unit_place(units, own));
    nearest_store(units, own, at, |_| true).unwrap_or(own)
}

/// The customers the actor may see that have one of `phones` (any spelling a phone is accepted
/// in), except `except`, oldest first.
pub async fn duplicates(
    app: &App,
    actor: &Actor,
    phones: &[String],
    except: Option<i64>,
) -> Result<Vec<Customer>> {
    let normal: Vec<String> = phones
        .iter()
        .filter_map(|p| validate::phone(p, "phone").ok())
        .collect();
    Ok(customers::with_phones(&app.db, &actor.vis, &normal, except).await?)
}

/// The refusal of a duplicate: which phone, and whose it is already.
fn duplicate_error(phones: &[String], others: &[Customer]) -> AppError {
    let (i, phone, other) = phones
        .iter()
        .enumerate()
        .find_map(|(i, p)| {
            others
                .iter()
                .find(|c| c.phones.contains(p))
                .map(|c| (i, p, c))
        })
        .unwrap_or((0, &phones[0], &others[0]));
    AppError::invalid(
        &format!("phones[{i}]"),
        ValidationError::Invalid {
            zh: format!(
                "{phone} 已登记在客户“{}”名下：请选用该客户；确是另一位客户再确认保存",
                other.name
            ),
            en: format!(
                "{phone} already belongs to the customer “{}”: pick that customer, or confirm this is someone else",
                other.name
            ),
        },
    )
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

/// Validates and writes a new customer inside `tx` (also used by import): addresses without
/// coordinates are placed by the offline fallback (no lookup inside a transaction).
pub async fn create_in(app: &App, tx: &mut Tx, actor: &Actor, n: &NewCustomer) -> Result<Customer> {
    create_placed(app, tx, actor, n, &[]).await
}

/// Creates a customer: the addresses without coordinates are looked up first (outside the
/// transaction), then written with the customer and its audit entry.
pub async fn create(app: &App, actor: &Actor, n: NewCustomer) -> Result<Customer> {
    actor.require(ARCHIVE_WRITERS)?;
    let wanted: Vec<(&str, bool)> = n
        .addresses
        .iter()
        .map(|a| (a.address.trim(), a.lat.is_none() && a.lng.is_none()))
        .collect();
    let found = geocoding::locate_all(app, &wanted).await;
    let mut tx = app.db.begin().await?;
    let c = create_placed(app, &mut tx, actor, &n, &found).await?;
    tx.commit().await?;
    Ok(c)
}

async fn create_placed(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    n: &NewCustomer,
    found: &[Option<Found>],
) -> Result<Customer> {
    actor.require(ARCHIVE_WRITERS)?;
    let name = required_text(&n.name, "name", 100)?;
    let phones = phones(&n.phones)?;
    let mut places = Vec::with_capacity(n.addresses.len());
    for (i, a) in n.addresses.iter().enumerate() {
        let given = address(a, i)?;
        places.push(place(
            given,
            found.get(i).copied().flatten(),
            a.address.trim(),
        ));
    }
    if let Some(u) = n.org_unit_id {
        if !actor.sees_unit(u) {
            return Err(AppError::invalid(
                "org_unit_id",
                ValidationError::UnknownReference,
            ));
        }
    }
    if !n.allow_duplicate_phone {
        let others = duplicates(app, actor, &phones, None).await?;
        if !others.is_empty() {
            return Err(duplicate_error(&phones, &others));
        }
    }
    let units = org_units::all_tx(tx).await?;
    let first = places.first().copied().flatten().map(|p| p.point);
    let unit = home_unit(&units, actor, n.org_unit_id, first);
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
    let mut addrs = Vec::with_capacity(n.addresses.len());
    for (i, (a, p)) in n.addresses.iter().zip(places).enumerate() {
        let p = match p {
            Some(p) => p,
            None => at_store(&units, unit, i)?,
        };
        addrs.push(NewAddress {
            label: a.label.as_deref(),
            address: a.address.trim(),
            lat: p.point.lat,
            lng: p.point.lng,
            located_by: p.by,
            location_confirmed: p.confirmed,
        });
    }
    customers::add_addresses(tx, id, &addrs).await?;
    let c = customers::get_tx(tx, id).await?;
    reindex(tx, &c).await?;
    audit::created(app, tx, Some(actor), "customer", id, &c).await?;
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
    let addrs = p.addresses.unwrap_or_default();
    // Per address: what was given, and the stored one it changes.
    let mut given = Vec::with_capacity(addrs.len());
    for (i, a) in addrs.iter().enumerate() {
        let g = address(a, i)?;
        let old = match a.id {
            Some(aid) => Some(
                before
                    .addresses
                    .iter()
                    .find(|x| x.id == aid)
                    .ok_or_else(|| {
                        AppError::invalid(
                            &format!("addresses[{i}].id"),
                            ValidationError::UnknownReference,
                        )
                    })?
                    .clone(),
            ),
            None => None,
        };
        given.push((g, old));
    }
    // A new address, or one whose text changed, without coordinates is looked up again.
    let wanted: Vec<(&str, bool)> = addrs
        .iter()
        .zip(&given)
        .map(|(a, (g, old))| {
            let moved = old.as_ref().is_none_or(|o| o.address != a.address.trim());
            (a.address.trim(), g.is_none() && moved)
        })
        .collect();
    let found = geocoding::locate_all(app, &wanted).await;
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
    let units = org_units::all_tx(&mut tx).await?;
    let mut added = Vec::new();
    for (i, (a, (g, old))) in addrs.iter().zip(given).enumerate() {
        let kept = match (&old, g) {
            (Some(o), None) if !wanted[i].1 => Some(Placed {
                point: Point::new(o.lat, o.lng),
                by: o.located_by,
                confirmed: o.location_confirmed,
            }),
            _ => place(g, found[i], a.address.trim()),
        };
        let p = match kept {
            Some(p) => p,
            None => at_store(&units, c.org_unit_id, i)?,
        };
        match old {
            Some(o) => {
                customers::update_address(
                    &mut tx,
                    &Address {
                        id: o.id,
                        customer_id: id,
                        label: a.label.clone(),
                        address: a.address.trim().to_string(),
                        lat: p.point.lat,
                        lng: p.point.lng,
                        located_by: p.by,
                        location_confirmed: p.confirmed,
                    },
                )
                .await?
            }
            None => added.push(NewAddress {
                label: a.label.as_deref(),
                address: a.address.trim(),
                lat: p.point.lat,
                lng: p.point.lng,
                located_by: p.by,
                location_confirmed: p.confirmed,
            }),
        }
    }
    customers::add_addresses(&mut tx, id, &added).await?;
    let after = customers::get_tx(&mut tx, id).await?;
    reindex(&mut tx, &after).await?;
    audit::updated(app, &mut tx, actor, "customer", id, &before, &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// Sets the place of one address by hand (the dispatcher confirming a placeholder): confirmed
/// from then on, audited as a change of the customer.
pub async fn confirm_location(
    app: &App,
    actor: &Actor,
    customer_id: i64,
    address_id: i64,
    if_match: Option<i64>,
    lat: f64,
    lng: f64,
) -> Result<Customer> {
    actor.require(LOCATORS)?;
    validate::latitude(lat, "lat")?;
    validate::longitude(lng, "lng")?;
    let before = customers::get(&app.db, &actor.vis, customer_id).await?;
    let mut a = before
        .addresses
        .iter()
        .find(|a| a.id == address_id)
        .cloned()
        .ok_or_else(|| AppError::invalid("address_id", ValidationError::UnknownReference))?;
    (a.lat, a.lng) = (lat, lng);
    a.located_by = LocatedBy::Dispatcher;
    a.location_confirmed = true;
    let mut tx = app.db.begin().await?;
    audit::claim_version(
        &mut tx,
        Versioned::Customer,
        "customer",
        customer_id,
        if_match,
        before.version,
    )
    .await?;
    customers::update_address(&mut tx, &a).await?;
    let after = customers::get_tx(&mut tx, customer_id).await?;
    audit::updated(
        app,
        &mut tx,
        actor,
        "customer",
        customer_id,
        &before,
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// What a merge moved to the kept customer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Merged {
    pub customer: Customer,
    pub devices: Vec<i64>,
    pub work_orders: Vec<i64>,
    pub addresses: Vec<i64>,
    pub opportunities: Vec<i64>,
}

/// Merges customer `merged_id` into `keep_id` in one transaction: its devices (and their unit),
/// work orders, sales leads and addresses move over, its phones join the kept ones, its note is
/// appended; then it is deleted. Every moved record gets its audit entry, the kept customer one
/// naming what came over, the merged one its whole last state.
pub async fn merge(app: &App, actor: &Actor, keep_id: i64, merged_id: i64) -> Result<Merged> {
    actor.require(ARCHIVE_WRITERS)?;
    if keep_id == merged_id {
        return Err(AppError::invalid(
            "merged_id",
            ValidationError::Invalid {
                zh: "不能把客户合并到自己".into(),
                en: "a customer cannot be merged into itself".into(),
            },
        ));
    }
    let keep = customers::get(&app.db, &actor.vis, keep_id).await?;
    let gone = customers::get(&app.db, &actor.vis, merged_id).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    // Both are locked (and checked unchanged) for the rest of the transaction.
    for c in [&keep, &gone] {
        audit::claim_version(
            &mut tx,
            Versioned::Customer,
            "customer",
            c.id,
            None,
            c.version,
        )
        .await?;
    }
    let keep = customers::get_tx(&mut tx, keep_id).await?;
    let gone = customers::get_tx(&mut tx, merged_id).await?;

    let mut device_ids = Vec::new();
    for did in customers::device_ids(&mut tx, gone.id).await? {
        let before = devices::get_tx(&mut tx, did).await?;
        let mut d = before.clone();
        d.customer_id = keep.id;
        d.org_unit_id = keep.org_unit_id;
        devices::update(&mut tx, &d, now).await?;
        if let Err(current) =
            versions::bump(&mut tx, Versioned::Device, did, Some(before.version)).await?
        {
            return Err(audit::stale(&mut tx, "device", did, current).await);
        }
        let after = devices::get_tx(&mut tx, did).await?;
        search::upsert(&mut tx, "device", did, after.org_unit_id, &after.serial, "").await?;
        audit::updated(app, &mut tx, actor, "device", did, &before, &after).await?;
        device_ids.push(did);
    }
    let mut order_ids = Vec::new();
    for before in work_orders::of_customer_for_update(&mut tx, gone.id).await? {
        let mut w = before.clone();
        w.customer_id = keep.id;
        w.updated_at = now;
        crate::work_orders::save_in(app, &mut tx, actor, &before, &w).await?;
        order_ids.push(before.id);
    }
    let leads = customers::move_opportunities(&mut tx, gone.id, keep.id).await?;
    for lid in &leads {
        shouhou_store::repo::audit::insert(
            &mut tx,
            "opportunity",
            *lid,
            "update",
            Some(actor.id()),
            now,
            &serde_json::json!({"customer_id": [gone.id, keep.id]}),
        )
        .await?;
    }
    let addresses = customers::move_addresses(&mut tx, gone.id, keep.id).await?;
    let mut phones = keep.phones.clone();
    for p in &gone.phones {
        if !phones.contains(p) {
            phones.push(p.clone());
        }
    }
    customers::delete(&mut tx, gone.id).await?;
    customers::set_phones(&mut tx, keep.id, &phones).await?;
    let mut k = keep.clone();
    if let Some(extra) = gone.note.as_deref().filter(|n| !n.trim().is_empty()) {
        k.note = Some(
            match keep.note.as_deref().filter(|n| !n.trim().is_empty()) {
                Some(mine) if mine != extra => format!("{mine}；{extra}"),
                Some(mine) => mine.to_string(),
                None => extra.to_string(),
            },
        );
    }
    customers::update(&mut tx, &k, now).await?;
    let after = customers::get_tx(&mut tx, keep.id).await?;
    reindex(&mut tx, &after).await?;

    let mut changes = audit::diff(&audit::to_value(&keep)?, &audit::to_value(&after)?);
    if let Some(m) = changes.as_object_mut() {
        m.insert("merged_from".into(), serde_json::json!([null, gone.id]));
        m.insert("devices".into(), serde_json::json!([null, device_ids]));
        m.insert("work_orders".into(), serde_json::json!([null, order_ids]));
    }
    shouhou_store::repo::audit::insert(
        &mut tx,
        "customer",
        keep.id,
        "merge",
        Some(actor.id()),
        now,
        &changes,
    )
    .await?;
    let mut last = audit::diff(&audit::to_value(&gone)?, &serde_json::json!({}));
    if let Some(m) = last.as_object_mut() {
        m.insert("merged_into".into(), serde_json::json!([null, keep.id]));
    }
    shouhou_store::repo::audit::insert(
        &mut tx,
        "customer",
        gone.id,
        "merge",
        Some(actor.id()),
        now,
        &last,
    )
    .await?;
    tx.commit().await?;
    Ok(Merged {
        customer: after,
        devices: device_ids,
        work_orders: order_ids,
        addresses,
        opportunities: leads,
    })
}
