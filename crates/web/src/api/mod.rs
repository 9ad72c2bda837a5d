//! The JSON API under `/api/v1`. Every handler is annotated, so the OpenAPI document at
//! `/api/v1/openapi.json` is generated from this code and cannot drift from it.

pub mod archive;
pub mod auth;
pub mod calendar;
pub mod complaints;
pub mod csi;
pub mod dispatch;
pub mod followups;
pub mod health;
pub mod knowledge;
pub mod kpi;
pub mod leads;
pub mod points;
pub mod responses;
pub mod selfservice;
pub mod service;
pub mod targets;
pub mod work_orders;

use axum::{middleware, Router};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::{idempotency, AppState};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "shouhou API",
        description = "After-sales service management (售后): archive, work orders, dispatch. \
            Sign in with POST /auth/login; send the returned token as `Authorization: Bearer …`, \
            or use the session cookie plus `X-CSRF-Token` on changes. Errors are \
            `{\"error\": {\"code\", \"message\", \"field\"}}` in the user's language.",
    ),
    modifiers(&Security),
    security(("bearer" = []), ("cookie" = [])),
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        c.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::extract::SESSION_COOKIE,
            ))),
        );
    }
}

pub fn router(state: AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(archive::list_customers, archive::create_customer))
        .routes(routes!(archive::get_customer, archive::update_customer))
        .routes(routes!(archive::list_products, archive::create_product))
        .routes(routes!(archive::get_product, archive::update_product))
        .routes(routes!(archive::list_policies, archive::create_policy))
        .routes(routes!(archive::get_policy, archive::update_policy))
        .routes(routes!(archive::list_devices, archive::create_device))
        .routes(routes!(archive::get_device, archive::update_device))
        .routes(routes!(archive::device_history))
        .routes(routes!(
            archive::list_technicians,
            archive::create_technician
        ))
        .routes(routes!(archive::get_technician, archive::update_technician))
        .routes(routes!(archive::list_shifts, archive::set_shift))
        .routes(routes!(archive::clear_shift))
        .routes(routes!(archive::list_org_units, archive::create_org_unit))
        .routes(routes!(archive::get_org_unit, archive::update_org_unit))
        .routes(routes!(archive::list_users, archive::create_user))
        .routes(routes!(archive::get_user, archive::update_user))
        .routes(routes!(archive::search))
        .routes(routes!(archive::audit))
        .routes(routes!(archive::get_sla_rules, archive::set_sla_rules))
        .routes(routes!(calendar::get_calendar, calendar::set_calendar))
        .routes(routes!(work_orders::list, work_orders::create))
        .routes(routes!(work_orders::get, work_orders::update))
        .routes(routes!(work_orders::transition))
        .routes(routes!(work_orders::reassign))
        .routes(routes!(work_orders::revisit))
        .routes(routes!(work_orders::events))
        .routes(routes!(work_orders::visits))
        .routes(routes!(work_orders::review_queue))
        .routes(routes!(work_orders::review))
        .routes(routes!(work_orders::reviews))
        .routes(routes!(dispatch::propose))
        .routes(routes!(dispatch::get))
        .routes(routes!(dispatch::commit))
        .routes(routes!(dispatch::insert))
        .routes(routes!(service::get_report, service::put_report))
        .routes(routes!(service::add_part))
        .routes(routes!(service::remove_part))
        .routes(routes!(service::put_signature))
        .routes(routes!(service::add_photo))
        .routes(routes!(service::get_photo))
        .routes(routes!(leads::add_opportunity))
        .routes(routes!(leads::list_opportunities))
        .routes(routes!(leads::set_opportunity_status))
        .routes(routes!(knowledge::search_kb, knowledge::create_article))
        .routes(routes!(knowledge::get_article, knowledge::update_article))
        .routes(routes!(followups::add_follow_up, followups::get_follow_up))
        .routes(routes!(complaints::list, complaints::create))
        .routes(routes!(complaints::get, complaints::update))
        .routes(routes!(complaints::actions, complaints::add_action))
        .routes(routes!(complaints::escalate))
        .routes(routes!(complaints::close))
        .routes(routes!(kpi::table))
        .routes(routes!(csi::table))
        .routes(routes!(csi::list, csi::create))
        .routes(routes!(csi::update))
        .routes(routes!(csi::of_order))
        .routes(routes!(kpi::orders))
        .routes(routes!(targets::sheet, targets::set))
        .routes(routes!(targets::progress))
        .routes(routes!(points::rules, points::replace_rules))
        .routes(routes!(points::ranking))
        .routes(routes!(points::entries))
        .routes(routes!(points::adjust))
        .routes(routes!(points::difficulty, points::set_difficulty))
        .routes(routes!(service::get_fee_rules, service::put_fee_rules))
        .routes(routes!(selfservice::service_requests))
        .routes(routes!(selfservice::decide_request))
        .split_for_parts();
    // Paths are served under /api/v1.
    let paths = std::mem::take(&mut doc.paths.paths);
    doc.paths.paths = paths
        .into_iter()
        .map(|(p, item)| (format!("/api/v1{p}"), item))
        .collect();
    // Error answers are documented once the paths are in.
    responses::ErrorResponses.modify(&mut doc);
    let router = router.layer(middleware::from_fn_with_state(state, idempotency::layer));
    (router, doc)
}
