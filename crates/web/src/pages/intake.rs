//! Intake (受理): one search box with results as you type, a device card with the warranty, and
//! the new work order with its SLA deadlines shown at once.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use serde::Deserialize;
use shouhou_app::work_orders::NewWorkOrder;
use shouhou_domain::{Priority, WorkOrderType};
use shouhou_store::search::{CustomerHit, DeviceHit};

use super::{render, Chrome, Page};
use crate::i18n::T;
use crate::AppState;

#[derive(Template)]
#[template(path = "intake.html")]
struct IntakePage {
    c: Chrome,
}

pub async fn page(p: Page) -> Response {
    render(&IntakePage { c: p.chrome() })
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
}

pub async fn device(State(s): State<AppState>, p: Page, Path(id): Path<i64>) -> Response {
    let lang = p.actor.lang;
    let card = match shouhou_app::devices::card(&s.app, &p.actor, id).await {
        Ok(c) => c,
        Err(e) => return crate::error::ApiError(e).into_response(),
    };
    let customer = shouhou_app::customers::get(&s.app, &p.actor, card.device.customer_id)
        .await
        .map(|c| c.name)
        .unwrap_or_default();
    let warranty = format!(
        "{} · {} {} · {} {}",
        card.warranty_today.label(lang),
        lang.pick("整机至", "whole unit until"),
        card.cover.whole_unit_until,
        lang.pick("主要部件至", "main parts until"),
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
