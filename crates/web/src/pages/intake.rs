//! Intake (受理): one search box with results as you type, a device card with the warranty, and
//! the new work order with its SLA deadlines shown at once.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use shouhou_app::work_orders::NewWorkOrder;
use shouhou_domain::{Priority, WorkOrderType};
use shouhou_store::repo::Page as Paging;
use shouhou_store::search::{CustomerHit, DeviceHit};

use super::{render, Chrome, Page};
use crate::extract::{Form, Path, Query};
use crate::i18n::T;
use crate::AppState;

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

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

#[derive(Template)]
#[template(path = "intake_hits_partial.html")]
struct Hits {
    t: T,
    customers: Vec<CustomerHit>,
    devices: Vec<DeviceHit>,
    error: Option<String>,
}

pub async fn search(State(s): State<AppState>, p: Page, Query(q): Query<SearchQuery>) -> Response {
    let q = q.q.unwrap_or_default();
    if q.trim().is_empty() {
        return Html(String::new()).into_response();
    }
    match shouhou_app::search::lookup_with_devices(&s.app, &p.actor, &q).await {
        Ok(r) => render(&Hits {
            t: p.t,
            customers: r.customers,
            devices: r.devices,
            error: None,
        }),
        Err(e) => render(&Hits {
            t: p.t,
            customers: vec![],
            devices: vec![],
            error: Some(e.message(p.actor.lang)),
        }),
    }
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
    kinds: Vec<(String, String)>,
    normal: String,
    urgent: String,
    /// The last services: number, date, type, status; and whether one is still open.
    last: Vec<(i64, String, String, String)>,
    open: Option<(i64, String)>,
}

pub async fn device(State(s): State<AppState>, p: Page, Path(id): Path<i64>) -> Response {
    let lang = p.actor.lang;
    let history = match shouhou_app::devices::history(&s.app, &p.actor, id).await {
        Ok(h) => h,
        Err(e) => return crate::error::ApiError(e).into_response(),
    };
    let card = history.card;
    let open = history
        .work_orders
        .iter()
        .find(|w| w.status.is_open())
        .map(|w| (w.id, w.number.clone()));
    let last = history
        .work_orders
        .iter()
        .take(3)
        .map(|w| {
            (
                w.id,
                w.number.clone(),
                format!("{} {}", p.time(&s, w.created_at), w.kind.label(lang)),
                w.status.label(lang).to_string(),
            )
        })
        .collect();
    let customer = shouhou_app::customers::get(&s.app, &p.actor, card.device.customer_id)
        .await
        .map(|c| c.name)
        .unwrap_or_default();
    let warranty = format!(
        "{} · {} {} · {} {}",
        card.warranty_today.label(lang),
        T(lang).t("public.whole_unit_until"),
        card.cover.whole_unit_until,
        T(lang).t("public.main_parts_until"),
        card.cover.main_parts_until
    );
    render(&DeviceCardPartial {
        t: p.t,
        device_id: card.device.id,
        customer_id: card.device.customer_id,
        product: card.product.name,
        serial: card.device.serial,
        customer,
        warranty,
        kinds: WorkOrderType::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), k.label(lang).to_string()))
            .collect(),
        normal: Priority::Normal.label(lang).to_string(),
        urgent: Priority::Urgent.label(lang).to_string(),
        last,
        open,
    })
}

#[derive(Deserialize)]
pub struct OrderForm {
    customer_id: i64,
    device_id: Option<i64>,
    kind: WorkOrderType,
    priority: Priority,
    fault_description: String,
}

pub async fn create(State(s): State<AppState>, p: Page, Form(f): Form<OrderForm>) -> Response {
    let lang = p.actor.lang;
    let n = NewWorkOrder {
        customer_id: f.customer_id,
        device_id: f.device_id,
        address_id: None,
        kind: f.kind,
        channel: None,
        priority: Some(f.priority),
        fault_description: f.fault_description,
        appointment_start: None,
        appointment_end: None,
        org_unit_id: None,
    };
    match shouhou_app::work_orders::create(&s.app, &p.actor, n).await {
        Ok(w) => Html(format!(
            "<p class=\"notice\" id=\"created\">{} <a href=\"/work-orders/{}\">{}</a> · {} {} · {} {}</p>",
            p.t.t("intake.created"),
            w.id,
            w.number,
            p.t.t("wo.arrive_by"),
            p.time(&s, w.arrive_by),
            p.t.t("wo.resolve_by"),
            p.time(&s, w.resolve_by)
        ))
        .into_response(),
        Err(e) => {
            let field = e.field().unwrap_or("").to_string();
            Html(format!("<p class=\"error\" data-field=\"{}\">{}</p>", field, e.message(lang).replace('<', "&lt;"))).into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "intake_new_partial.html")]
struct NewCustomerPartial {
    t: T,
    name: String,
    phone: String,
    address: String,
    lat: String,
    lng: String,
    error: String,
    error_field: String,
}

pub async fn new_customer_form(p: Page) -> Response {
    let empty = String::new;
    render(&NewCustomerPartial {
        t: p.t,
        name: empty(),
        phone: empty(),
        address: empty(),
        lat: empty(),
        lng: empty(),
        error: empty(),
        error_field: empty(),
    })
}

#[derive(Deserialize)]
pub struct NewCustomerForm {
    name: String,
    phone: String,
    address: String,
    lat: String,
    lng: String,
}

/// Creates the customer inline; a refusal shows its message next to the field.
pub async fn create_customer(
    State(s): State<AppState>,
    p: Page,
    Form(f): Form<NewCustomerForm>,
) -> Response {
    let lang = p.actor.lang;
    let back = |error: String, field: String| {
        render(&NewCustomerPartial {
            t: p.t,
            name: f.name.clone(),
            phone: f.phone.clone(),
            address: f.address.clone(),
            lat: f.lat.clone(),
            lng: f.lng.clone(),
            error,
            error_field: field,
        })
    };
    let coord = |v: &str, field: &str| -> Result<f64, shouhou_app::AppError> {
        v.trim().parse::<f64>().map_err(|_| {
            shouhou_app::AppError::invalid(
                field,
                shouhou_domain::ValidationError::Invalid {
                    zh: "请填写数字坐标（如 30.27）".into(),
                    en: "give a number (e.g. 30.27)".into(),
                },
            )
        })
    };
    let (lat, lng) = match (coord(&f.lat, "lat"), coord(&f.lng, "lng")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            return back(e.detail(lang), e.field().unwrap_or("").to_string())
        }
    };
    let n = shouhou_app::customers::NewCustomer {
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
        addresses: vec![shouhou_app::customers::AddressInput {
            id: None,
            label: None,
            address: f.address.clone(),
            lat,
            lng,
        }],
    };
    match shouhou_app::customers::create(&s.app, &p.actor, n).await {
        Ok(c) => {
            new_device_form(
                &s,
                &p,
                c.id,
                c.name,
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            )
            .await
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
                back(e.detail(lang), field)
            } else {
                back(e.message(lang), String::new())
            }
        }
    }
}

#[derive(Template)]
#[template(path = "intake_new_device_partial.html")]
struct NewDevicePartial {
    t: T,
    customer_id: i64,
    customer: String,
    products: Vec<(i64, String)>,
    policies: Vec<(i64, String)>,
    serial: String,
    purchase_date: String,
    error: String,
    error_field: String,
}

#[allow(clippy::too_many_arguments)]
async fn new_device_form(
    s: &AppState,
    p: &Page,
    customer_id: i64,
    customer: String,
    serial: String,
    purchase_date: String,
    error: String,
    error_field: String,
) -> Response {
    let all = Paging::LARGEST;
    let products = shouhou_app::catalog::list_products(&s.app, None, all)
        .await
        .unwrap_or_default()
        .items
        .into_iter()
        .map(|x| (x.id, x.name))
        .collect();
    let policies = shouhou_app::catalog::list_policies(&s.app, all)
        .await
        .unwrap_or_default()
        .items
        .into_iter()
        .map(|x| (x.id, x.name))
        .collect();
    render(&NewDevicePartial {
        t: p.t,
        customer_id,
        customer,
        products,
        policies,
        serial,
        purchase_date,
        error,
        error_field,
    })
}

#[derive(Deserialize)]
pub struct NewDeviceForm {
    customer_id: i64,
    product_id: i64,
    policy_id: i64,
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
    let date = match f.purchase_date.parse::<chrono::NaiveDate>() {
        Ok(d) => d,
        Err(_) => {
            let e = shouhou_app::AppError::invalid(
                "purchase_date",
                shouhou_domain::ValidationError::Required,
            );
            return new_device_form(
                &s,
                &p,
                f.customer_id,
                customer,
                f.serial,
                f.purchase_date,
                e.detail(lang),
                "purchase_date".into(),
            )
            .await;
        }
    };
    let n = shouhou_app::devices::NewDevice {
        customer_id: f.customer_id,
        product_id: f.product_id,
        serial: f.serial.clone(),
        site_address_id: None,
        purchase_date: date,
        purchase_store_id: None,
        install_date: None,
        policy_id: f.policy_id,
    };
    match shouhou_app::devices::create(&s.app, &p.actor, n).await {
        Ok(d) => device(State(s), p, Path(d.id)).await,
        Err(e) => {
            let field = e.field().unwrap_or("").to_string();
            // Next to its field without the field's name; elsewhere with it.
            let msg = if field == "serial" || field == "purchase_date" {
                e.detail(lang)
            } else {
                e.message(lang)
            };
            new_device_form(
                &s,
                &p,
                f.customer_id,
                customer,
                f.serial,
                f.purchase_date,
                msg,
                field,
            )
            .await
        }
    }
}
