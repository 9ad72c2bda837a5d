//! Devices (the installed base): the hub of service history.

use chrono::NaiveDate;
use rand::distributions::{Alphanumeric, DistString};
use serde::{Deserialize, Serialize};
use shouhou_domain::validate;
use shouhou_domain::warranty::{fits_brand, WarrantyCover};
use shouhou_domain::{ValidationError, WarrantyDecision};
use shouhou_store::records::{Device, Product, WarrantyPolicy, WorkOrder};
use shouhou_store::repo::versions::Versioned;
use shouhou_store::repo::{customers, devices, policies, products, Page, Paged};
use shouhou_store::{search, work_orders, Tx};
use utoipa::ToSchema;

use crate::audit;
use crate::customers::ARCHIVE_WRITERS;
use crate::error::conflict_as;
use crate::{Actor, App, AppError, Result};

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewDevice {
    pub customer_id: i64,
    pub product_id: i64,
    pub serial: String,
    pub site_address_id: Option<i64>,
    pub purchase_date: NaiveDate,
    pub purchase_store_id: Option<i64>,
    pub install_date: Option<NaiveDate>,
    pub policy_id: i64,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct DevicePatch {
    pub customer_id: Option<i64>,
    pub product_id: Option<i64>,
    pub serial: Option<String>,
    pub site_address_id: Option<i64>,
    pub purchase_date: Option<NaiveDate>,
    pub purchase_store_id: Option<i64>,
    pub install_date: Option<NaiveDate>,
    pub policy_id: Option<i64>,
}

/// A device with what a person needs to see on its card.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeviceCard {
    pub device: Device,
    pub product: Product,
    pub policy: WarrantyPolicy,
    pub cover: WarrantyCover,
    /// The warranty decision if an order were created today.
    pub warranty_today: WarrantyDecision,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeviceHistory {
    pub card: DeviceCard,
    pub work_orders: Vec<WorkOrder>,
}

pub fn new_qr_token() -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), 20)
}

async fn reindex(tx: &mut Tx, d: &Device) -> Result<()> {
    search::upsert(tx, "device", d.id, d.org_unit_id, &d.serial, "").await?;
    Ok(())
}

/// Checks every reference and rule of a device about to be written; returns the product.
async fn check(app: &App, tx: &mut Tx, actor: &Actor, d: &Device) -> Result<Product> {
    let today = app.today();
    validate::not_future(d.purchase_date, today, "purchase_date")?;
    if let Some(i) = d.install_date {
        validate::not_future(i, today, "install_date")?;
        if i < d.purchase_date {
            return Err(AppError::invalid(
                "install_date",
                ValidationError::DateOrder {
                    other: "purchase_date",
                },
            ));
        }
    }
    let product = products::get_tx(tx, d.product_id)
        .await
        .map_err(|_| AppError::invalid("product_id", ValidationError::UnknownReference))?;
    let policy = policies::get_tx(tx, d.policy_id)
        .await
        .map_err(|_| AppError::invalid("policy_id", ValidationError::UnknownReference))?;
    if !fits_brand(&policy.manufacturer, &product.brand) {
        return Err(AppError::invalid(
            "policy_id",
            ValidationError::Invalid {
                zh: format!(
                    "保修政策“{}”属于{}，不适用于{}的产品",
                    policy.name, policy.manufacturer, product.brand
                ),
                en: format!(
                    "the warranty policy “{}” is {}'s and does not cover a {} product",
                    policy.name, policy.manufacturer, product.brand
                ),
            },
        ));
    }
    // Read in the transaction: the owner may be new (intake). Archive writers are office roles,
    // whose visibility is their unit subtree.
    let owner = customers::get_tx(tx, d.customer_id)
        .await
        .ok()
        .filter(|c| actor.sees_unit(c.org_unit_id))
        .ok_or_else(|| AppError::invalid("customer_id", ValidationError::UnknownReference))?;
    if let Some(a) = d.site_address_id {
        if !owner.addresses.iter().any(|x| x.id == a) {
            return Err(AppError::invalid(
                "site_address_id",
                ValidationError::UnknownReference,
            ));
        }
    }
    if let Some(s) = d.purchase_store_id {
        shouhou_store::repo::org_units::get_tx(tx, s)
            .await
            .map_err(|_| {
                AppError::invalid("purchase_store_id", ValidationError::UnknownReference)
            })?;
    }
    Ok(product)
}

pub async fn create_in(app: &App, tx: &mut Tx, actor: &Actor, n: &NewDevice) -> Result<Device> {
    actor.require(ARCHIVE_WRITERS)?;
    let serial = validate::serial(&n.serial, "serial")?;
    let now = app.now();
    let owner_unit = customers::get_tx(tx, n.customer_id)
        .await
        .map(|c| c.org_unit_id)
        .unwrap_or(actor.user.org_unit_id);
    let mut d = Device {
        id: 0,
        org_unit_id: owner_unit,
        customer_id: n.customer_id,
        product_id: n.product_id,
        brand: String::new(),
        serial,
        site_address_id: n.site_address_id,
        purchase_date: n.purchase_date,
        purchase_store_id: n.purchase_store_id,
        install_date: n.install_date,
        policy_id: n.policy_id,
        qr_token: new_qr_token(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let product = check(app, tx, actor, &d).await?;
    d.brand = product.brand;
    let id = devices::insert(tx, &d)
        .await
        .map_err(conflict_as("serial"))?;
    let d = devices::get_tx(tx, id).await?;
    reindex(tx, &d).await?;
    audit::created(app, tx, Some(actor), "device", id, &d).await?;
    Ok(d)
}

pub async fn create(app: &App, actor: &Actor, n: NewDevice) -> Result<Device> {
    let mut tx = app.db.begin().await?;
    let d = create_in(app, &mut tx, actor, &n).await?;
    tx.commit().await?;
    Ok(d)
}

pub async fn update(
    app: &App,
    actor: &Actor,
    id: i64,
    if_match: Option<i64>,
    p: DevicePatch,
) -> Result<Device> {
    actor.require(ARCHIVE_WRITERS)?;
    let before = devices::get(&app.db, &actor.vis, id).await?;
    let mut d = before.clone();
    if let Some(v) = p.serial {
        d.serial = validate::serial(&v, "serial")?;
    }
    if let Some(v) = p.customer_id {
        d.customer_id = v;
    }
    if let Some(v) = p.product_id {
        d.product_id = v;
    }
    if p.site_address_id.is_some() {
        d.site_address_id = p.site_address_id;
    }
    if let Some(v) = p.purchase_date {
        d.purchase_date = v;
    }
    if p.purchase_store_id.is_some() {
        d.purchase_store_id = p.purchase_store_id;
    }
    if p.install_date.is_some() {
        d.install_date = p.install_date;
    }
    if let Some(v) = p.policy_id {
        d.policy_id = v;
    }
    let mut tx = app.db.begin().await?;
    audit::claim_version(
        &mut tx,
        Versioned::Device,
        "device",
        id,
        if_match,
        before.version,
    )
    .await?;
    let product = check(app, &mut tx, actor, &d).await?;
    d.brand = product.brand;
    devices::update(&mut tx, &d, app.now())
        .await
        .map_err(conflict_as("serial"))?;
    let after = devices::get_tx(&mut tx, id).await?;
    reindex(&mut tx, &after).await?;
    audit::updated(app, &mut tx, actor, "device", id, &before, &after).await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn list(
    app: &App,
    actor: &Actor,
    customer_id: Option<i64>,
    page: Page,
) -> Result<Paged<Device>> {
    Ok(devices::list(&app.db, &actor.vis, customer_id, page).await?)
}

pub async fn get(app: &App, actor: &Actor, id: i64) -> Result<Device> {
    Ok(devices::get(&app.db, &actor.vis, id).await?)
}

pub async fn card_of(app: &App, device: Device) -> Result<DeviceCard> {
    let product = products::get(&app.db, device.product_id).await?;
    let policy = policies::get(&app.db, device.policy_id).await?;
    let terms = policy.terms();
    let cover = terms.cover(device.purchase_date, device.install_date);
    let warranty_today = terms.decide(device.purchase_date, device.install_date, app.today());
    Ok(DeviceCard {
        device,
        product,
        policy,
        cover,
        warranty_today,
    })
}

pub async fn card(app: &App, actor: &Actor, id: i64) -> Result<DeviceCard> {
    let d = devices::get(&app.db, &actor.vis, id).await?;
    card_of(app, d).await
}

/// The device's card and every work order on it that the actor may see, newest first.
pub async fn history(app: &App, actor: &Actor, id: i64) -> Result<DeviceHistory> {
    let card = card(app, actor, id).await?;
    let f = work_orders::Filter {
        device_id: Some(id),
        ..Default::default()
    };
    let work_orders = work_orders::list(
        &app.db,
        &actor.vis,
        &f,
        Page {
            limit: 200,
            offset: 0,
        },
    )
    .await?
    .items;
    Ok(DeviceHistory { card, work_orders })
}

/// An earlier order on the device of an order, for the technician who works it.
#[derive(Debug, Clone)]
pub struct EarlierOrder {
    pub order: WorkOrder,
    /// The last visit's outcome, if it had a visit.
    pub outcome: Option<shouhou_domain::VisitOutcome>,
}

/// The other orders on the device of order `id` (newest first, at most 20): whoever may see
/// the order may see what was done to its device before, whoever did it — a technician sees
/// only their own orders, but needs the device's whole history at the door.
pub async fn history_of_order(app: &App, actor: &Actor, id: i64) -> Result<Vec<EarlierOrder>> {
    let w = work_orders::get(&app.db, &actor.vis, id).await?;
    let Some(device) = w.device_id else {
        return Ok(Vec::new());
    };
    let units = app.units.units(&app.db).await?;
    let vis = shouhou_store::Visibility::everything(units.iter().map(|u| u.id).collect());
    let f = work_orders::Filter {
        device_id: Some(device),
        ..Default::default()
    };
    let list = work_orders::list(&app.db, &vis, &f, Page::first(21)).await?;
    let mut out = Vec::new();
    let earlier = |o: &WorkOrder| (o.created_at, o.id) < (w.created_at, id);
    for o in list.items.into_iter().filter(earlier).take(20) {
        let outcome = work_orders::last_visit(&app.db, o.id)
            .await?
            .and_then(|v| v.outcome.0);
        out.push(EarlierOrder { order: o, outcome });
    }
    Ok(out)
}
