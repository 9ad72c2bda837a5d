//! Intake (受理): one search box with results as you type (customers, devices, a work order by
//! its number, customers that share a phone), the customer's card with their devices, a device
//! card with the warranty, and the new work order with an appointment window and its SLA
//! deadlines shown at once. After saving, the form starts afresh with a link to the new order;
//! every rendering of the order form carries its own idempotency key, so a second click cannot
//! make a second order.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Deserialize;
use shouhou_app::customers::{AddressInput, NewCustomer};
use shouhou_app::work_orders::NewWorkOrder;
use shouhou_app::AppError;
use shouhou_domain::{Priority, ValidationError, WorkOrderType};
use shouhou_store::records::{Address, Customer};
use shouhou_store::repo::Page as Paging;
use shouhou_store::search::{CustomerHit, DeviceHit};

use super::{render, Chrome, Page};
use crate::extract::{Form, Path, Query};
use crate::i18n::T;
use crate::AppState;

/// Appointment slots offered at intake: (value, label key, from hour, to hour), local time.
const SLOTS: &[(&str, &str, u32, u32)] = &[
    ("morning", "intake.slot_morning", 9, 12),
    ("afternoon", "intake.slot_afternoon", 13, 17),
    ("evening", "intake.slot_evening", 18, 20),
];

/// Products the picker lists at most.
const PICKER_ROWS: i64 = 12;

#[derive(Template)]
#[template(path = "intake.html")]
struct IntakePage {
    c: Chrome,
    /// Self-service reports to verify: (id, when, phone, device, description).
    requests: Vec<(i64, String, String, String, String)>,
}

pub async fn page(State(s): State<AppState>, p: Page) -> Response {
    let pending = shouhou_app::selfservice::pending(&s.app, &p.actor, Paging::first(200))
        .await
        .unwrap_or_default()
        .items;
    let mut requests = Vec::with_capacity(pending.len());
    for r in pending {
        let device = match shouhou_app::devices::card(&s.app, &p.actor, r.device_id).await {
            Ok(c) => format!("{} · {}", c.product.name, c.device.serial),
            Err(_) => String::new(),
        };
        requests.push((
            r.id,
            p.time(&s, r.created_at),
            r.phone,
            device,
            r.description,
        ));
    }
    render(&IntakePage {
        c: p.chrome(),
        requests,
    })
}

// ---------------------------------------------------------------- lookup

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

/// Customers sharing one phone, oldest first: (phone, [(id, name, first address)]).
type SharedPhone = (String, Vec<(i64, String, String)>);

#[derive(Template)]
#[template(path = "intake_hits_partial.html")]
struct Hits {
    t: T,
    customers: Vec<CustomerHit>,
    devices: Vec<DeviceHit>,
    /// Orders a work-order number names: (id, number, status, customer, created).
    orders: Vec<(i64, String, String, String, String)>,
    shared: Vec<SharedPhone>,
    number_query: bool,
    error: Option<String>,
}

fn first_address(c: &Customer) -> String {
    c.addresses
        .first()
        .map(|a| a.address.clone())
        .unwrap_or_default()
}

pub async fn search(State(s): State<AppState>, p: Page, Query(q): Query<SearchQuery>) -> Response {
    let q = q.q.unwrap_or_default();
    if q.trim().is_empty() {
        return Html(String::new()).into_response();
    }
    let lang = p.actor.lang;
    let mut hits = Hits {
        t: p.t,
        customers: vec![],
        devices: vec![],
        orders: vec![],
        shared: vec![],
        number_query: shouhou_domain::work_order_number::from_query(&q).is_some(),
        error: None,
    };
    match shouhou_app::search::intake(&s.app, &p.actor, &q).await {
        Ok(r) => {
            for w in r.work_orders {
                let customer = shouhou_app::customers::get(&s.app, &p.actor, w.customer_id)
                    .await
                    .map(|c| c.name)
                    .unwrap_or_default();
                hits.orders.push((
                    w.id,
                    w.number,
                    w.status.label(lang).to_string(),
                    customer,
                    p.time(&s, w.created_at),
                ));
            }
            hits.customers = r.found.customers;
            hits.devices = r.found.devices;
            hits.shared = r
                .shared_phones
                .into_iter()
                .map(|sp| {
                    (
                        sp.phone,
                        sp.customers
                            .iter()
                            .map(|c| (c.id, c.name.clone(), first_address(c)))
                            .collect(),
                    )
                })
                .collect();
        }
        Err(e) => hits.error = Some(e.message(lang)),
    }
    render(&hits)
}

// ---------------------------------------------------------------- the customer's card

/// An address as a person reads it, with whether its place still needs confirming.
pub struct Place {
    pub text: String,
    pub confirmed: bool,
    /// Where the placeholder came from ("区县中心", "门店位置").
    pub by: String,
}

fn places(addresses: &[Address], lang: shouhou_domain::Lang) -> Vec<Place> {
    addresses
        .iter()
        .map(|a| Place {
            text: a.address.clone(),
            confirmed: a.location_confirmed,
            by: a.located_by.label(lang).to_string(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "intake_customer_partial.html")]
struct CustomerCard {
    t: T,
    notice: String,
    id: i64,
    name: String,
    tier: String,
    phones: String,
    places: Vec<Place>,
    /// (id, product, serial, warranty today).
    devices: Vec<(i64, String, String, String)>,
    /// Other customers with one of these phones: (id, name, first address).
    duplicates: Vec<(i64, String, String)>,
}

async fn customer_card(s: &AppState, p: &Page, id: i64, notice: String) -> Response {
    let lang = p.actor.lang;
    let c = match shouhou_app::customers::get(&s.app, &p.actor, id).await {
        Ok(c) => c,
        Err(e) => return super::err(e),
    };
    let mut devices = Vec::new();
    for d in shouhou_app::devices::list(&s.app, &p.actor, Some(id), Paging::first(100))
        .await
        .unwrap_or_default()
        .items
    {
        if let Ok(card) = shouhou_app::devices::card_of(&s.app, d).await {
            devices.push((
                card.device.id,
                card.product.name,
                card.device.serial,
                card.warranty_today.label(lang).to_string(),
            ));
        }
    }
    let duplicates = shouhou_app::customers::duplicates(&s.app, &p.actor, &c.phones, Some(id))
        .await
        .unwrap_or_default()
        .iter()
        .map(|d| (d.id, d.name.clone(), first_address(d)))
        .collect();
    render(&CustomerCard {
        t: p.t,
        notice,
        id: c.id,
        tier: c.tier.label(lang).to_string(),
        phones: c.phones.join(" / "),
        places: places(&c.addresses, lang),
        name: c.name,
        devices,
        duplicates,
    })
}

/// `GET /intake/customers/{id}`: the customer found, with their devices.
pub async fn customer(State(s): State<AppState>, p: Page, Path(id): Path<i64>) -> Response {
    customer_card(&s, &p, id, String::new()).await
}

#[derive(Deserialize)]
pub struct MergeForm {
    keep: i64,
    merged: i64,
}

/// `POST /intake/customers/merge`: the duplicate goes into the kept customer, whose card shows
/// what moved.
pub async fn merge(State(s): State<AppState>, p: Page, Form(f): Form<MergeForm>) -> Response {
    match shouhou_app::customers::merge(&s.app, &p.actor, f.keep, f.merged).await {
        Ok(m) => {
            let notice =
                p.t.t("intake.merged")
                    .replace("{devices}", &m.devices.len().to_string())
                    .replace("{orders}", &m.work_orders.len().to_string());
            customer_card(&s, &p, m.customer.id, notice).await
        }
        Err(e) => Html(format!(
            "<p class=\"error\" id=\"merge-error\">{}</p>",
            escape(&e.message(p.actor.lang))
        ))
        .into_response(),
    }
}

// ---------------------------------------------------------------- the device card and the order

/// What the clerk typed into the order form (kept when it is refused).
#[derive(Default)]
pub struct OrderValues {
    kind: String,
    priority: String,
    date: String,
    slot: String,
    fault: String,
}

#[derive(Template)]
#[template(path = "intake_device_partial.html")]
struct DeviceCardPartial {
    t: T,
    device_id: i64,
    customer_id: i64,
    product: String,
    serial: String,
    customer: String,
    warranty: String,
    place: Option<Place>,
    kinds: Vec<(String, String)>,
    priorities: Vec<(String, String)>,
    slots: Vec<(String, String)>,
    today: String,
    /// The last services: number, date, type, status; and whether one is still open.
    last: Vec<(i64, String, String, String)>,
    open: Option<(i64, String)>,
    /// The order just saved: (id, number, what the clerk tells the customer).
    created: Option<(i64, String, String)>,
    form: OrderValues,
    error: String,
    error_field: String,
    /// The idempotency key of this rendering of the form.
    key: String,
}

impl DeviceCardPartial {
    fn error_at(&self, field: &str) -> bool {
        !self.error.is_empty() && self.error_field == field
    }

    fn error_elsewhere(&self) -> bool {
        !self.error.is_empty()
            && !["fault_description", "appointment"].contains(&self.error_field.as_str())
    }
}

async fn device_card(
    s: &AppState,
    p: &Page,
    id: i64,
    created: Option<(i64, String, String)>,
    form: OrderValues,
    error: (String, String),
) -> Response {
    let lang = p.actor.lang;
    let history = match shouhou_app::devices::history(&s.app, &p.actor, id).await {
        Ok(h) => h,
        Err(e) => return super::err(e),
    };
    let card = history.card;
    let open = history
        .work_orders
        .iter()
        .find(|w| w.status.is_open() && created.as_ref().is_none_or(|c| c.0 != w.id))
        .map(|w| (w.id, w.number.clone()));
    let last = history
        .work_orders
        .iter()
        .take(3)
        .map(|w| {
            (
                w.id,
                w.number.clone(),
                format!("{} {}", p.time(s, w.created_at), w.kind.label(lang)),
                w.status.label(lang).to_string(),
            )
        })
        .collect();
    let owner = shouhou_app::customers::get(&s.app, &p.actor, card.device.customer_id).await;
    let (customer, place) = match &owner {
        Ok(c) => {
            let site = card
                .device
                .site_address_id
                .and_then(|a| c.addresses.iter().find(|x| x.id == a))
                .or(c.addresses.first());
            (
                c.name.clone(),
                site.map(|a| places(std::slice::from_ref(a), lang).remove(0)),
            )
        }
        Err(_) => (String::new(), None),
    };
    let warranty = format!(
        "{} · {} {} · {} {}",
        card.warranty_today.label(lang),
        T(lang).t("public.whole_unit_until"),
        card.cover.whole_unit_until,
        T(lang).t("public.main_parts_until"),
        card.cover.main_parts_until
    );
    let mut form = form;
    if form.kind.is_empty() {
        form.kind = WorkOrderType::RepairOnsite.as_str().into();
    }
    if form.priority.is_empty() {
        form.priority = Priority::Normal.as_str().into();
    }
    render(&DeviceCardPartial {
        t: p.t,
        device_id: card.device.id,
        customer_id: card.device.customer_id,
        product: card.product.name,
        serial: card.device.serial,
        customer,
        warranty,
        place,
        kinds: WorkOrderType::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), k.label(lang).to_string()))
            .collect(),
        priorities: Priority::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), k.label(lang).to_string()))
            .collect(),
        slots: SLOTS
            .iter()
            .map(|(v, k, ..)| (v.to_string(), p.t.t(k)))
            .collect(),
        today: s.app.today().to_string(),
        last,
        open,
        created,
        form,
        error: error.0,
        error_field: error.1,
        key: uuid::Uuid::new_v4().to_string(),
    })
}

pub async fn device(State(s): State<AppState>, p: Page, Path(id): Path<i64>) -> Response {
    device_card(&s, &p, id, None, OrderValues::default(), Default::default()).await
}

#[derive(Deserialize)]
pub struct OrderForm {
    customer_id: i64,
    device_id: Option<i64>,
    kind: WorkOrderType,
    priority: Priority,
    fault_description: String,
    #[serde(default)]
    appointment_date: String,
    #[serde(default)]
    slot: String,
}

/// An appointment window: start and end, UTC.
type Window = (DateTime<Utc>, DateTime<Utc>);

/// The appointment window of a date and a slot, in the org's time zone, as UTC; `None` for no
/// appointment. A date without a slot (or the reverse) is refused naming what is missing.
fn window(s: &AppState, date: &str, slot: &str) -> Result<Option<Window>, AppError> {
    let (date, slot) = (date.trim(), slot.trim());
    if date.is_empty() && slot.is_empty() {
        return Ok(None);
    }
    let invalid = |zh: &str, en: &str| {
        AppError::invalid(
            "appointment_start",
            ValidationError::Invalid {
                zh: zh.into(),
                en: en.into(),
            },
        )
    };
    let day = date
        .parse::<NaiveDate>()
        .map_err(|_| invalid("请选择预约日期", "choose the day of the appointment"))?;
    let (_, _, from, to) = SLOTS
        .iter()
        .find(|(v, ..)| *v == slot)
        .ok_or_else(|| invalid("请选择预约时段", "choose the time of day"))?;
    let tz = s.app.settings.time_zone;
    let at = |h: u32| {
        day.and_hms_opt(h, 0, 0)
            .and_then(|t| tz.from_local_datetime(&t).earliest())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| invalid("这个时间不存在", "this time does not exist"))
    };
    Ok(Some((at(*from)?, at(*to)?)))
}

/// A window as a person reads it: `03-11 09:00–12:00` in the org's time zone.
pub(crate) fn window_text(s: &AppState, start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    let tz = s.app.settings.time_zone;
    format!(
        "{}–{}",
        super::local_time(s, start),
        end.with_timezone(&tz).format("%H:%M")
    )
}

/// `POST /intake/orders` (with an `Idempotency-Key`: a second click replays the first answer).
/// Saved: the card starts afresh (new key, empty form) with a link to the new order. Refused:
/// the card comes back with what was typed and the message beside its field, under a new key.
pub async fn create(State(s): State<AppState>, p: Page, Form(f): Form<OrderForm>) -> Response {
    let lang = p.actor.lang;
    let typed = OrderValues {
        kind: f.kind.as_str().into(),
        priority: f.priority.as_str().into(),
        date: f.appointment_date.clone(),
        slot: f.slot.clone(),
        fault: f.fault_description.clone(),
    };
    let saved = match window(&s, &f.appointment_date, &f.slot) {
        Ok(appointment) => {
            let n = NewWorkOrder {
                customer_id: f.customer_id,
                device_id: f.device_id,
                address_id: None,
                kind: f.kind,
                channel: None,
                priority: Some(f.priority),
                fault_description: f.fault_description.clone(),
                appointment_start: appointment.map(|w| w.0),
                appointment_end: appointment.map(|w| w.1),
                org_unit_id: None,
            };
            shouhou_app::work_orders::create(&s.app, &p.actor, n).await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(w) => {
            let mut said = Vec::new();
            if let (Some(a), Some(b)) = (w.appointment_start, w.appointment_end) {
                said.push(format!(
                    "{} {}",
                    p.t.t("wo.appointment"),
                    window_text(&s, a, b)
                ));
            }
            said.push(format!(
                "{} {}",
                p.t.t("wo.arrive_by"),
                p.time(&s, w.arrive_by)
            ));
            said.push(format!(
                "{} {}",
                p.t.t("wo.resolve_by"),
                p.time(&s, w.resolve_by)
            ));
            let said = said.join(" · ");
            match f.device_id {
                Some(d) => {
                    let created = Some((w.id, w.number.clone(), said));
                    device_card(&s, &p, d, created, OrderValues::default(), Default::default())
                        .await
                }
                None => Html(format!(
                    "<p class=\"notice\" id=\"created\">{} <a id=\"created-link\" href=\"/work-orders/{}\">{}</a> · {}</p>",
                    p.t.t("intake.created"),
                    w.id,
                    w.number,
                    escape(&said)
                ))
                .into_response(),
            }
        }
        Err(e) => {
            let field = match e.field().unwrap_or("") {
                "appointment_start" | "appointment_end" => "appointment".to_string(),
                other => other.to_string(),
            };
            let msg = if field.is_empty() {
                e.message(lang)
            } else {
                e.detail(lang)
            };
            match f.device_id {
                Some(d) => device_card(&s, &p, d, None, typed, (msg, field)).await,
                None => Html(format!(
                    "<p class=\"error\" data-field=\"{field}\">{}</p>",
                    escape(&msg)
                ))
                .into_response(),
            }
        }
    }
}

// ---------------------------------------------------------------- a new customer

#[derive(Template)]
#[template(path = "intake_new_partial.html")]
struct NewCustomerPartial {
    t: T,
    name: String,
    phone: String,
    address: String,
    lat: String,
    lng: String,
    /// Whether a geocoding service looks addresses up (the form says plainly when not).
    geocoding: bool,
    /// Customers that already have this phone: (id, name, first address).
    duplicates: Vec<(i64, String, String)>,
    error: String,
    error_field: String,
}

pub async fn new_customer_form(State(s): State<AppState>, p: Page) -> Response {
    let empty = String::new;
    render(&NewCustomerPartial {
        t: p.t,
        name: empty(),
        phone: empty(),
        address: empty(),
        lat: empty(),
        lng: empty(),
        geocoding: shouhou_app::geocoding::is_configured(&s.app).await,
        duplicates: vec![],
        error: empty(),
        error_field: empty(),
    })
}

#[derive(Template)]
#[template(path = "intake_phone_check_partial.html")]
struct PhoneCheck {
    t: T,
    duplicates: Vec<(i64, String, String)>,
}

#[derive(Deserialize)]
pub struct PhoneQuery {
    phone: Option<String>,
}

async fn same_phone(s: &AppState, p: &Page, phone: &str) -> Vec<(i64, String, String)> {
    shouhou_app::customers::duplicates(&s.app, &p.actor, &[phone.to_string()], None)
        .await
        .unwrap_or_default()
        .iter()
        .map(|c| (c.id, c.name.clone(), first_address(c)))
        .collect()
}

/// `GET /intake/phone-check?phone=…`: as the clerk types a phone, the customers who have it.
pub async fn phone_check(
    State(s): State<AppState>,
    p: Page,
    Query(q): Query<PhoneQuery>,
) -> Response {
    let phone = q.phone.unwrap_or_default();
    render(&PhoneCheck {
        t: p.t,
        duplicates: same_phone(&s, &p, &phone).await,
    })
}

#[derive(Deserialize)]
pub struct NewCustomerForm {
    name: String,
    phone: String,
    address: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lng: String,
    /// The clerk confirmed this is another person than the customers with the same phone.
    #[serde(default)]
    allow_duplicate: Option<String>,
}

/// Creates the customer inline: a phone another customer has is warned of first (pick that
/// customer, or confirm); coordinates are optional. A refusal shows its message next to the
/// field.
pub async fn create_customer(
    State(s): State<AppState>,
    p: Page,
    Form(f): Form<NewCustomerForm>,
) -> Response {
    let lang = p.actor.lang;
    let geocoding = shouhou_app::geocoding::is_configured(&s.app).await;
    let back = |error: String, field: String, duplicates: Vec<(i64, String, String)>| {
        render(&NewCustomerPartial {
            t: p.t,
            name: f.name.clone(),
            phone: f.phone.clone(),
            address: f.address.clone(),
            lat: f.lat.clone(),
            lng: f.lng.clone(),
            geocoding,
            duplicates,
            error,
            error_field: field,
        })
    };
    let coord = |v: &str, field: &str| -> Result<Option<f64>, AppError> {
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        v.parse::<f64>().map(Some).map_err(|_| {
            AppError::invalid(
                field,
                ValidationError::Invalid {
                    zh: "请填写数字坐标（如 30.27），或留空".into(),
                    en: "give a number (e.g. 30.27), or leave it empty".into(),
                },
            )
        })
    };
    let (lat, lng) = match (coord(&f.lat, "lat"), coord(&f.lng, "lng")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            return back(e.detail(lang), e.field().unwrap_or("").to_string(), vec![])
        }
    };
    let confirmed = f.allow_duplicate.is_some();
    if !confirmed && !f.phone.trim().is_empty() {
        let duplicates = same_phone(&s, &p, &f.phone).await;
        if !duplicates.is_empty() {
            return back(String::new(), String::new(), duplicates);
        }
    }
    let n = NewCustomer {
        org_unit_id: None,
        name: f.name.clone(),
        kind: None,
        tier: None,
        note: None,
        phones: if f.phone.trim().is_empty() {
            vec![]
        } else {
            vec![f.phone.clone()]
        },
        addresses: vec![AddressInput {
            id: None,
            label: None,
            address: f.address.clone(),
            lat,
            lng,
        }],
        allow_duplicate_phone: confirmed,
    };
    match shouhou_app::customers::create(&s.app, &p.actor, n).await {
        Ok(c) => {
            let notice = saved_notice(p.t, &c);
            new_device_form(&s, &p, c.id, c.name, notice, DeviceValues::default()).await
        }
        Err(e) => {
            let field = e.field().unwrap_or("").to_string();
            // Fields the form shows get the message beside them; anything else above the form.
            let shown = field == "name"
                || field.starts_with("phones")
                || [".address", ".lat", ".lng"]
                    .iter()
                    .any(|x| field.ends_with(x));
            if shown {
                back(e.detail(lang), field, vec![])
            } else {
                back(e.message(lang), String::new(), vec![])
            }
        }
    }
}

/// "Customer saved", and where the address was placed when it still needs confirming.
fn saved_notice(t: T, c: &Customer) -> String {
    match c.addresses.first() {
        Some(a) if !a.location_confirmed => format!(
            "{} · {}{}",
            t.t("intake.customer_saved"),
            t.t("location.unconfirmed_placed"),
            a.located_by.label(t.0)
        ),
        _ => t.t("intake.customer_saved"),
    }
}

// ---------------------------------------------------------------- a new device

/// What the clerk typed into the device form (kept when it is refused).
#[derive(Default)]
pub struct DeviceValues {
    product_id: Option<i64>,
    policy_id: Option<i64>,
    serial: String,
    purchase_date: String,
    error: String,
    error_field: String,
}

#[derive(Template)]
#[template(path = "intake_new_device_partial.html")]
struct NewDevicePartial {
    t: T,
    notice: String,
    customer_id: i64,
    customer: String,
    /// The rendered product picker and policy field (fragments of their own, swapped by htmx).
    products: String,
    policies: String,
    serial: String,
    purchase_date: String,
    error: String,
    error_field: String,
}

#[derive(Template)]
#[template(path = "intake_products_partial.html")]
struct ProductOptions {
    t: T,
    /// (id, brand and model, category, chosen).
    rows: Vec<(i64, String, String, bool)>,
    /// More products match than are listed.
    more: i64,
    searched: bool,
}

#[derive(Template)]
#[template(path = "intake_policies_partial.html")]
struct PolicyField {
    t: T,
    chosen_product: bool,
    /// (id, name, chosen).
    policies: Vec<(i64, String, bool)>,
    brand: String,
}

impl NewDevicePartial {
    fn error_elsewhere(&self) -> bool {
        !self.error.is_empty()
            && !["serial", "purchase_date", "product_id", "policy_id"]
                .contains(&self.error_field.as_str())
    }
}

async fn product_options(s: &AppState, t: T, q: &str, chosen: Option<i64>) -> ProductOptions {
    // Nothing typed: a hint, not the whole catalog.
    let page = if q.trim().is_empty() {
        Default::default()
    } else {
        shouhou_app::catalog::search_products(&s.app, q, Paging::first(PICKER_ROWS))
            .await
            .unwrap_or_default()
    };
    let mut rows: Vec<(i64, String, String, bool)> = page
        .items
        .iter()
        .map(|x| {
            (
                x.id,
                x.name.clone(),
                x.category.label(t.0).to_string(),
                Some(x.id) == chosen,
            )
        })
        .collect();
    // The product chosen before a refusal stays offered.
    if let Some(id) = chosen.filter(|id| !rows.iter().any(|r| r.0 == *id)) {
        if let Ok(x) = shouhou_app::catalog::get_product(&s.app, id).await {
            rows.insert(0, (x.id, x.name, x.category.label(t.0).to_string(), true));
        }
    }
    ProductOptions {
        t,
        more: (page.total - PICKER_ROWS).max(0),
        rows,
        searched: !q.trim().is_empty() || chosen.is_some(),
    }
}

async fn policy_field(
    s: &AppState,
    t: T,
    product: Option<i64>,
    chosen: Option<i64>,
) -> PolicyField {
    let Some(product) = product else {
        return PolicyField {
            t,
            chosen_product: false,
            policies: vec![],
            brand: String::new(),
        };
    };
    let brand = shouhou_app::catalog::get_product(&s.app, product)
        .await
        .map(|p| p.brand)
        .unwrap_or_default();
    let policies = shouhou_app::catalog::policies_for_product(&s.app, product)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|w| (w.id, w.name, Some(w.id) == chosen))
        .collect();
    PolicyField {
        t,
        chosen_product: true,
        policies,
        brand,
    }
}

async fn new_device_form(
    s: &AppState,
    p: &Page,
    customer_id: i64,
    customer: String,
    notice: String,
    v: DeviceValues,
) -> Response {
    render(&NewDevicePartial {
        t: p.t,
        notice,
        customer_id,
        customer,
        products: product_options(s, p.t, "", v.product_id)
            .await
            .render()
            .unwrap_or_default(),
        policies: policy_field(s, p.t, v.product_id, v.policy_id)
            .await
            .render()
            .unwrap_or_default(),
        serial: v.serial,
        purchase_date: v.purchase_date,
        error: v.error,
        error_field: v.error_field,
    })
}

/// `GET /intake/customers/{id}/devices/new`: a device for a customer found.
pub async fn add_device_form(State(s): State<AppState>, p: Page, Path(id): Path<i64>) -> Response {
    match shouhou_app::customers::get(&s.app, &p.actor, id).await {
        Ok(c) => {
            new_device_form(&s, &p, c.id, c.name, String::new(), DeviceValues::default()).await
        }
        Err(e) => super::err(e),
    }
}

#[derive(Deserialize)]
pub struct ProductQuery {
    q: Option<String>,
    /// The product picked already: it stays offered, picked, whatever is typed next.
    product_id: Option<i64>,
}

/// `GET /intake/products?q=…`: the picker's products by brand, model or category.
pub async fn products(
    State(s): State<AppState>,
    p: Page,
    Query(q): Query<ProductQuery>,
) -> Response {
    render(&product_options(&s, p.t, q.q.as_deref().unwrap_or(""), q.product_id).await)
}

#[derive(Deserialize)]
pub struct PolicyQuery {
    product_id: Option<i64>,
}

/// `GET /intake/policies?product_id=…`: the warranty policies of the product's brand.
pub async fn policies(
    State(s): State<AppState>,
    p: Page,
    Query(q): Query<PolicyQuery>,
) -> Response {
    render(&policy_field(&s, p.t, q.product_id, None).await)
}

#[derive(Deserialize)]
pub struct NewDeviceForm {
    customer_id: i64,
    product_id: Option<i64>,
    policy_id: Option<i64>,
    serial: String,
    purchase_date: String,
}

/// Registers the device inline, then shows its card to create the order.
pub async fn create_device(
    State(s): State<AppState>,
    p: Page,
    Form(f): Form<NewDeviceForm>,
) -> Response {
    let lang = p.actor.lang;
    let customer = shouhou_app::customers::get(&s.app, &p.actor, f.customer_id)
        .await
        .map(|c| c.name)
        .unwrap_or_default();
    let back = |e: AppError| {
        let field = e.field().unwrap_or("").to_string();
        // Next to its field without the field's name; elsewhere with it.
        let beside = ["serial", "purchase_date", "product_id", "policy_id"];
        let error = if beside.contains(&field.as_str()) {
            e.detail(lang)
        } else {
            e.message(lang)
        };
        DeviceValues {
            product_id: f.product_id,
            policy_id: f.policy_id,
            serial: f.serial.clone(),
            purchase_date: f.purchase_date.clone(),
            error,
            error_field: field,
        }
    };
    let required = |field: &str| AppError::invalid(field, ValidationError::Required);
    let checked = (|| {
        let product_id = f.product_id.ok_or_else(|| required("product_id"))?;
        let policy_id = f.policy_id.ok_or_else(|| required("policy_id"))?;
        let date = f
            .purchase_date
            .parse::<NaiveDate>()
            .map_err(|_| required("purchase_date"))?;
        Ok::<_, AppError>((product_id, policy_id, date))
    })();
    let (product_id, policy_id, date) = match checked {
        Ok(v) => v,
        Err(e) => {
            return new_device_form(&s, &p, f.customer_id, customer, String::new(), back(e)).await
        }
    };
    let n = shouhou_app::devices::NewDevice {
        customer_id: f.customer_id,
        product_id,
        serial: f.serial.clone(),
        site_address_id: None,
        purchase_date: date,
        purchase_store_id: None,
        install_date: None,
        policy_id,
    };
    match shouhou_app::devices::create(&s.app, &p.actor, n).await {
        Ok(d) => device(State(s), p, Path(d.id)).await,
        Err(e) => new_device_form(&s, &p, f.customer_id, customer, String::new(), back(e)).await,
    }
}

/// Text for an HTML fragment built by hand.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
