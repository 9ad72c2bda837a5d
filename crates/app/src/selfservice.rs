//! The customer's side, reached without login through the QR code on the device (`/s/{token}`):
//! the device and its warranty, reporting a fault, tracking the order and rating the service.
//!
//! Nothing here shows another customer's data: the token names one device, and the pages show
//! only that device's model, warranty and its own latest order (status, technician's name,
//! window, ETA) — no phone numbers, addresses or other orders' content.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use shouhou_domain::kinds::required_text;
use shouhou_domain::{
    validate, Channel, FollowUpChannel, Priority, Status, ValidationError, WarrantyDecision,
    WorkOrderType,
};
use shouhou_routing::travel::{Point, TravelModel};
use shouhou_store::followups::FollowUp;
use shouhou_store::records::{Device, WorkOrder};
use shouhou_store::repo::{self, customers, devices, org_units, technicians, users};
use shouhou_store::selfservice as store;
use shouhou_store::work_orders as orders;
use shouhou_store::Visibility;

use crate::followups::{record_follow_up_in, FollowUpInput};
use crate::work_orders::{create_in, NewWorkOrder};
use crate::{actor, App, AppError, Result};

#[derive(Debug, Clone, Serialize)]
pub struct PublicDevice {
    pub product: String,
    pub category: shouhou_domain::Category,
    /// The serial with its middle hidden.
    pub serial: String,
    pub warranty: WarrantyDecision,
    pub whole_unit_until: NaiveDate,
    pub main_parts_until: NaiveDate,
    pub manufacturer: String,
    /// The store's service hotline (the store serving the device, else a unit above it).
    pub hotline: Option<String>,
    /// What a visit costs the customer (labour and travel from the fee rules) when the warranty
    /// does not cover it all: out of warranty, or main parts only.
    pub visit_fee: Option<shouhou_domain::fees::Fee>,
}

/// How long after completion the page invites a rating.
pub const RATING_DAYS: i64 = 30;

#[derive(Debug, Clone, Serialize)]
pub struct Tracking {
    pub order_id: i64,
    pub number: String,
    pub status: Status,
    pub kind: WorkOrderType,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub technician: Option<String>,
    pub appointment_start: Option<DateTime<Utc>>,
    pub appointment_end: Option<DateTime<Utc>>,
    /// Expected arrival: the committed plan's planned arrival once the order is assigned or
    /// accepted, and the travel estimate once the technician is on the way.
    pub eta: Option<DateTime<Utc>>,
    /// The answer already given, if any.
    pub rating: Option<String>,
    /// The items of the order's follow-up questionnaire (asked with the rating).
    pub questions: Vec<String>,
}

impl Tracking {
    /// Completed within the last [`RATING_DAYS`] days and not yet rated: the page asks for the
    /// rating.
    pub fn may_rate(&self, now: DateTime<Utc>) -> bool {
        matches!(
            self.status,
            Status::Completed | Status::Reviewed | Status::Closed
        ) && self.rating.is_none()
            && self
                .completed_at
                .is_some_and(|c| now - c <= chrono::Duration::days(RATING_DAYS))
    }
}

/// Who verifies self-service requests.
const VERIFIERS: &[shouhou_domain::Role] = &[
    shouhou_domain::Role::Admin,
    shouhou_domain::Role::Manager,
    shouhou_domain::Role::Clerk,
    shouhou_domain::Role::Dispatcher,
];

/// Every unit: the public pages answer for the device's token, not for a signed-in user.
async fn everything(app: &App) -> Result<(Visibility, Vec<shouhou_store::records::OrgUnit>)> {
    let units = org_units::all(&app.db).await?;
    Ok((
        Visibility::everything(units.iter().map(|u| u.id).collect()),
        units,
    ))
}

pub enum Reported {
    /// The phone matched the owner's: the order exists and can be tracked.
    Created(Tracking),
    /// It did not: a clerk verifies the request first.
    Pending,
}

/// Tokens are the hex strings the devices were given; anything else is not found.
async fn device_of(app: &App, token: &str) -> Result<Device> {
    if token.is_empty() || token.len() > 64 || !token.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(AppError::NotFound);
    }
    Ok(devices::by_token(&app.db, token).await?)
}

fn mask(serial: &str) -> String {
    let n = serial.chars().count();
    if n <= 6 {
        return serial.to_string();
    }
    serial
        .chars()
        .enumerate()
        .map(|(i, c)| if i < 3 || i >= n - 3 { c } else { '*' })
        .collect()
}

pub async fn device(app: &App, token: &str) -> Result<(PublicDevice, Option<Tracking>)> {
    let d = device_of(app, token).await?;
    let id = d.id;
    let card = crate::devices::card_of(app, d).await?;
    let mut public = PublicDevice {
        product: card.product.name.clone(),
        category: card.product.category,
        serial: mask(&card.device.serial),
        warranty: card.warranty_today,
        whole_unit_until: card.cover.whole_unit_until,
        main_parts_until: card.cover.main_parts_until,
        manufacturer: card.policy.manufacturer.clone(),
        hotline: None,
        visit_fee: None,
    };
    let track = latest(app, id).await?;
    let units = org_units::all(&app.db).await?;
    let serving = match &track {
        Some(t) => orders::get(&app.db, &everything(app).await?.0, t.order_id)
            .await
            .map(|w| w.org_unit_id)
            .unwrap_or(card.device.org_unit_id),
        None => card.device.org_unit_id,
    };
    public.hotline = hotline(&units, serving);
    if matches!(
        public.warranty,
        WarrantyDecision::OutOfWarranty | WarrantyDecision::MainPartsOnly
    ) {
        let rules = shouhou_store::service::fee_rules(&app.db).await?;
        let fee =
            crate::service::fee_for(&rules, WorkOrderType::RepairOnsite, Some(public.category));
        public.visit_fee = Some(fee);
    }
    Ok((public, track))
}

/// The hotline of `unit`, else of the nearest unit above it that has one.
fn hotline(units: &[shouhou_store::records::OrgUnit], unit: i64) -> Option<String> {
    let mut at = Some(unit);
    for _ in 0..32 {
        let u = units.iter().find(|u| Some(u.id) == at)?;
        if let Some(p) = u.phone.clone().filter(|p| !p.is_empty()) {
            return Some(p);
        }
        at = u.parent_id;
    }
    None
}

/// The device's newest order that was not cancelled.
async fn latest(app: &App, device_id: i64) -> Result<Option<Tracking>> {
    let (vis, _) = everything(app).await?;
    let f = orders::Filter {
        device_id: Some(device_id),
        ..Default::default()
    };
    let list = orders::list(
        &app.db,
        &vis,
        &f,
        repo::Page {
            limit: 5,
            offset: 0,
        },
    )
    .await?;
    match list
        .items
        .into_iter()
        .find(|w| w.status != Status::Cancelled)
    {
        Some(w) => Ok(Some(tracking(app, w).await?)),
        None => Ok(None),
    }
}

async fn tracking(app: &App, w: WorkOrder) -> Result<Tracking> {
    let tech = match w.technician_id {
        Some(t) => technicians::get(&app.db, &Visibility::everything(vec![w.org_unit_id]), t)
            .await
            .ok(),
        None => None,
    };
    let eta = match w.status {
        Status::EnRoute => eta(app, &w, tech.as_ref()).await?,
        // A committed plan put the order on the technician's day.
        Status::Assigned | Status::Accepted => w.planned_arrival.filter(|p| *p > app.now()),
        _ => None,
    };
    let rating = shouhou_store::followups::follow_up(&app.db, w.id)
        .await?
        .map(|f| f.rating);
    let questions = if rating.is_none() && w.completed_at.is_some() {
        crate::csi::for_order(app, w.id, w.kind)
            .await?
            .map(|q| q.items)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(Tracking {
        order_id: w.id,
        number: w.number,
        status: w.status,
        kind: w.kind,
        created_at: w.created_at,
        completed_at: w.completed_at,
        technician: tech.as_ref().map(|t| t.display_name.clone()),
        appointment_start: w.appointment_start,
        appointment_end: w.appointment_end,
        eta,
        rating,
        questions,
    })
}

/// The planned arrival if still ahead, else departure + the travel estimate from the
/// technician's start to the customer.
async fn eta(
    app: &App,
    w: &WorkOrder,
    tech: Option<&shouhou_store::records::Technician>,
) -> Result<Option<DateTime<Utc>>> {
    let now = app.now();
    if let Some(p) = w.planned_arrival.filter(|p| *p > now) {
        return Ok(Some(p));
    }
    let visit = orders::last_visit(&app.db, w.id).await?;
    let (Some(t), Some(departed)) = (tech, visit.and_then(|v| v.departed_at)) else {
        return Ok(None);
    };
    let c = customers::get(
        &app.db,
        &Visibility::everything(vec![w.org_unit_id]),
        w.customer_id,
    )
    .await?;
    let Some(a) = c
        .addresses
        .iter()
        .find(|a| Some(a.id) == w.address_id)
        .or(c.addresses.first())
    else {
        return Ok(None);
    };
    let (lat, lng) = (a.lat, a.lng);
    let pts = [
        Point {
            lat: t.start_lat,
            lng: t.start_lng,
        },
        Point { lat, lng },
    ];
    let (dur, _) = TravelModel::default()
        .matrix(&pts)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Some(
        (departed + chrono::Duration::seconds(dur[1])).max(now),
    ))
}

/// A fault reported by the customer: with the owner's phone the order is created at once
/// (channel self-service); with another phone a clerk verifies the request first. One open order
/// per device: reporting again while one is open returns that order.
pub async fn report_fault(
    app: &App,
    token: &str,
    phone: &str,
    description: &str,
) -> Result<Reported> {
    let d = device_of(app, token).await?;
    let phone = validate::phone(phone, "phone")?;
    let description = required_text(description, "description", 1000)?;
    if let Some(t) = latest(app, d.id).await? {
        if t.status.is_open() {
            return Ok(Reported::Created(t));
        }
    }
    let (_, units) = everything(app).await?;
    let root = units
        .iter()
        .find(|u| u.parent_id.is_none())
        .map(|u| u.id)
        .ok_or(AppError::NotFound)?;
    let customer = customers::get(
        &app.db,
        &Visibility::everything(vec![d.org_unit_id]),
        d.customer_id,
    )
    .await?;
    let mut tx = app.db.begin().await?;
    if !customer.phones.contains(&phone) {
        if let Some(pending) = store::pending_request_of_tx(&mut tx, d.id).await? {
            // A second report while the first waits for a clerk: added to it, not dropped.
            let added = format!(
                "{}\n—— {} ({phone})：{description}",
                pending.description,
                app.now()
                    .with_timezone(&app.settings.time_zone)
                    .format("%m-%d %H:%M"),
            );
            let added: String = added.chars().take(4000).collect();
            store::set_request_description(&mut tx, pending.id, &added).await?;
            repo::audit::insert(
                &mut tx,
                "service_request",
                pending.id,
                "update",
                None,
                app.now(),
                &serde_json::json!({"description": [pending.description, added]}),
            )
            .await?;
        } else {
            let id = store::add_request(
                &mut tx,
                d.id,
                d.org_unit_id,
                &phone,
                &description,
                app.now(),
            )
            .await?;
            repo::audit::insert(
                &mut tx,
                "service_request",
                id,
                "create",
                None,
                app.now(),
                &serde_json::json!({"device_id": [null, d.id], "description": [null, description]}),
            )
            .await?;
        }
        tx.commit().await?;
        return Ok(Reported::Pending);
    }
    let uid = users::self_service_user(&mut tx, root, app.now()).await?;
    let user = users::get_tx(&mut tx, uid).await?;
    let actor = actor::actor_for(&app.db, user, None).await?;
    let w = create_in(
        app,
        &mut tx,
        &actor,
        &NewWorkOrder {
            customer_id: d.customer_id,
            device_id: Some(d.id),
            address_id: d.site_address_id,
            kind: WorkOrderType::RepairOnsite,
            channel: Some(Channel::SelfService),
            priority: Some(Priority::Normal),
            fault_description: description,
            appointment_start: None,
            appointment_end: None,
            org_unit_id: Some(d.org_unit_id),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Reported::Created(tracking(app, w).await?))
}

/// The customer's rating of the device's latest completed order.
pub async fn rate(app: &App, token: &str, input: FollowUpInput) -> Result<FollowUp> {
    let d = device_of(app, token).await?;
    let t = latest(app, d.id).await?.ok_or(AppError::NotFound)?;
    if t.rating.is_none()
        && t.completed_at
            .is_some_and(|c| app.now() - c > chrono::Duration::days(RATING_DAYS))
    {
        return Err(AppError::invalid(
            "rating",
            ValidationError::Invalid {
                zh: format!("这次服务已完工超过 {RATING_DAYS} 天，不再在线评价；如有意见请致电门店"),
                en: format!(
                    "this service was completed more than {RATING_DAYS} days ago; please call the store with any feedback"
                ),
            },
        ));
    }
    let (vis, _) = everything(app).await?;
    let mut tx = app.db.begin().await?;
    let w = orders::get_for_update(&mut tx, &vis, t.order_id).await?;
    let f =
        record_follow_up_in(app, &mut tx, &w, &input, FollowUpChannel::SelfService, None).await?;
    tx.commit().await?;
    Ok(f)
}

/// Pending self-service requests for the clerk to verify.
pub async fn pending(
    app: &App,
    actor: &crate::Actor,
    page: repo::Page,
) -> Result<repo::Paged<store::ServiceRequest>> {
    actor.require(VERIFIERS)?;
    Ok(store::requests(&app.db, &actor.vis, "pending", page).await?)
}

/// The clerk's decision on a request: accept creates the order (the clerk is its creator),
/// reject closes it.
pub async fn decide(
    app: &App,
    actor: &crate::Actor,
    id: i64,
    accept: bool,
) -> Result<Option<WorkOrder>> {
    actor.require(VERIFIERS)?;
    let mut tx = app.db.begin().await?;
    let r = store::request_for_update(&mut tx, &actor.vis, id).await?;
    if r.status != "pending" {
        return Err(AppError::invalid(
            "status",
            ValidationError::Invalid {
                zh: "这条自助报修已经处理过了".into(),
                en: "this request has already been handled".into(),
            },
        ));
    }
    let now = app.now();
    let w = if accept {
        let d = devices::get_tx(&mut tx, r.device_id).await?;
        Some(
            create_in(
                app,
                &mut tx,
                actor,
                &NewWorkOrder {
                    customer_id: d.customer_id,
                    device_id: Some(d.id),
                    address_id: d.site_address_id,
                    kind: WorkOrderType::RepairOnsite,
                    channel: Some(Channel::SelfService),
                    priority: Some(Priority::Normal),
                    fault_description: r.description.clone(),
                    appointment_start: None,
                    appointment_end: None,
                    org_unit_id: Some(d.org_unit_id),
                },
            )
            .await?,
        )
    } else {
        None
    };
    let status = if accept { "accepted" } else { "rejected" };
    store::close_request(
        &mut tx,
        id,
        status,
        w.as_ref().map(|w| w.id),
        actor.id(),
        now,
    )
    .await?;
    repo::audit::insert(
        &mut tx,
        "service_request",
        id,
        "update",
        Some(actor.id()),
        now,
        &serde_json::json!({"status": ["pending", status]}),
    )
    .await?;
    tx.commit().await?;
    Ok(w)
}
