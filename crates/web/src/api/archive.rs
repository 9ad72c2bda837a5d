//! The archive: customers, products, warranty policies, devices, technicians, org units, users;
//! lookup, audit trail and SLA rules.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use shouhou_app::devices::{DeviceCard, DeviceHistory};
use shouhou_app::{audit as app_audit, catalog, customers, devices, org, search as app_search};
use shouhou_domain::sla::SlaRule;
use shouhou_domain::Category;
use shouhou_store::records::*;
use shouhou_store::repo::Paged;
use shouhou_store::search::SearchResult;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::extract::{
    tagged, Auth, IfMatch, JsonBody, PageQuery, Paging, Path, Query, Tagged, TaggedResult,
};
use crate::AppState;

type R<T> = Result<Json<T>, ApiError>;
type Created<T> = Result<Tagged<T>, ApiError>;

/// 201 with the new record's version as the ETag.
fn created<T: Versioned>(v: T) -> Tagged<T> {
    let version = v.version();
    Tagged(StatusCode::CREATED, v, version)
}

/// A record whose version is its ETag.
trait Versioned {
    fn version(&self) -> i64;
}

macro_rules! versioned {
    ($($t:ty),*) => { $(impl Versioned for $t { fn version(&self) -> i64 { self.version } })* };
}
versioned!(
    Customer,
    Product,
    WarrantyPolicy,
    Device,
    Technician,
    OrgUnit,
    User
);

// ---------------------------------------------------------------- customers

#[derive(Debug, Deserialize, IntoParams)]
pub struct CustomerQuery {
    /// Name prefix.
    pub name: Option<String>,
}

/// The customers the user sees, newest first.
#[utoipa::path(get, path = "/customers", tag = "customers", params(CustomerQuery, PageQuery),
    responses((status = 200, body = Paged<Customer>), (status = 422, description = "a parameter out of range; names it")))]
pub async fn list_customers(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<CustomerQuery>,
    Paging(page): Paging,
) -> R<Paged<Customer>> {
    Ok(Json(
        customers::list(&s.app, &a.actor, q.name.as_deref(), page).await?,
    ))
}

#[utoipa::path(post, path = "/customers", tag = "customers", request_body = customers::NewCustomer,
    responses((status = 201, body = Customer), (status = 422, description = "invalid input; names the field")))]
pub async fn create_customer(
    State(s): State<AppState>,
    a: Auth,
    JsonBody(n): JsonBody<customers::NewCustomer>,
) -> Created<Customer> {
    Ok(created(customers::create(&s.app, &a.actor, n).await?))
}

#[utoipa::path(get, path = "/customers/{id}", tag = "customers", responses((status = 200, body = Customer), (status = 404)))]
pub async fn get_customer(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> TaggedResult<Customer> {
    let r = customers::get(&s.app, &a.actor, id).await?;
    let v = r.version;
    Ok(tagged(r, v))
}

#[utoipa::path(patch, path = "/customers/{id}", tag = "customers", params(("If-Match" = Option<String>, Header, description = "the ETag the change is based on; a stale one is refused with 412")), request_body = customers::CustomerPatch, responses((status = 200, body = Customer, headers(("ETag" = String))), (status = 412, description = "the record changed since the ETag sent")))]
pub async fn update_customer(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    IfMatch(if_match): IfMatch,
    JsonBody(p): JsonBody<customers::CustomerPatch>,
) -> TaggedResult<Customer> {
    let r = customers::update(&s.app, &a.actor, id, if_match, p).await?;
    let v = r.version;
    Ok(tagged(r, v))
}

// ---------------------------------------------------------------- products

#[derive(Debug, Deserialize, IntoParams)]
pub struct ProductQuery {
    pub category: Option<Category>,
}

/// Products by brand and model.
#[utoipa::path(get, path = "/products", tag = "catalog", params(ProductQuery, PageQuery),
    responses((status = 200, body = Paged<Product>), (status = 422)))]
pub async fn list_products(
    State(s): State<AppState>,
    _a: Auth,
    Query(q): Query<ProductQuery>,
    Paging(page): Paging,
) -> R<Paged<Product>> {
    Ok(Json(
        catalog::list_products(&s.app, q.category, page).await?,
    ))
}

#[utoipa::path(post, path = "/products", tag = "catalog", request_body = catalog::NewProduct, responses((status = 201, body = Product)))]
pub async fn create_product(
    State(s): State<AppState>,
    a: Auth,
    JsonBody(n): JsonBody<catalog::NewProduct>,
) -> Created<Product> {
    Ok(created(
        catalog::create_product(&s.app, Some(&a.actor), n).await?,
    ))
}

#[utoipa::path(get, path = "/products/{id}", tag = "catalog", responses((status = 200, body = Product)))]
pub async fn get_product(
    State(s): State<AppState>,
    _a: Auth,
    Path(id): Path<i64>,
) -> TaggedResult<Product> {
    let r = catalog::get_product(&s.app, id).await?;
    let v = r.version;
    Ok(tagged(r, v))
}

#[utoipa::path(patch, path = "/products/{id}", tag = "catalog", params(("If-Match" = Option<String>, Header, description = "the ETag the change is based on; a stale one is refused with 412")), request_body = catalog::ProductPatch, responses((status = 200, body = Product, headers(("ETag" = String))), (status = 412, description = "the record changed since the ETag sent")))]
pub async fn update_product(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    IfMatch(if_match): IfMatch,
    JsonBody(p): JsonBody<catalog::ProductPatch>,
) -> TaggedResult<Product> {
    let r = catalog::update_product(&s.app, &a.actor, id, if_match, p).await?;
    let v = r.version;
    Ok(tagged(r, v))
}

// ---------------------------------------------------------------- warranty policies

#[utoipa::path(get, path = "/warranty-policies", tag = "catalog", params(PageQuery),
    responses((status = 200, body = Paged<WarrantyPolicy>), (status = 422)))]
pub async fn list_policies(
    State(s): State<AppState>,
    _a: Auth,
    Paging(page): Paging,
) -> R<Paged<WarrantyPolicy>> {
    Ok(Json(catalog::list_policies(&s.app, page).await?))
}

#[utoipa::path(post, path = "/warranty-policies", tag = "catalog", request_body = catalog::NewPolicy, responses((status = 201, body = WarrantyPolicy)))]
pub async fn create_policy(
    State(s): State<AppState>,
    a: Auth,
    JsonBody(n): JsonBody<catalog::NewPolicy>,
) -> Created<WarrantyPolicy> {
    Ok(created(
        catalog::create_policy(&s.app, Some(&a.actor), n).await?,
    ))
}

#[utoipa::path(get, path = "/warranty-policies/{id}", tag = "catalog", responses((status = 200, body = WarrantyPolicy)))]
pub async fn get_policy(
    State(s): State<AppState>,
    _a: Auth,
    Path(id): Path<i64>,
) -> TaggedResult<WarrantyPolicy> {
    let r = catalog::get_policy(&s.app, id).await?;
    let v = r.version;
    Ok(tagged(r, v))
}

#[utoipa::path(patch, path = "/warranty-policies/{id}", tag = "catalog", params(("If-Match" = Option<String>, Header, description = "the ETag the change is based on; a stale one is refused with 412")), request_body = catalog::PolicyPatch, responses((status = 200, body = WarrantyPolicy, headers(("ETag" = String))), (status = 412, description = "the record changed since the ETag sent")))]
pub async fn update_policy(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    IfMatch(if_match): IfMatch,
    JsonBody(p): JsonBody<catalog::PolicyPatch>,
) -> TaggedResult<WarrantyPolicy> {
    let r = catalog::update_policy(&s.app, &a.actor, id, if_match, p).await?;
    let v = r.version;
    Ok(tagged(r, v))
}

// ---------------------------------------------------------------- devices

#[derive(Debug, Deserialize, IntoParams)]
pub struct DeviceQuery {
    pub customer_id: Option<i64>,
}

/// The devices the user sees, newest first.
#[utoipa::path(get, path = "/devices", tag = "devices", params(DeviceQuery, PageQuery),
    responses((status = 200, body = Paged<Device>), (status = 422)))]
pub async fn list_devices(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<DeviceQuery>,
    Paging(page): Paging,
) -> R<Paged<Device>> {
    Ok(Json(
        devices::list(&s.app, &a.actor, q.customer_id, page).await?,
    ))
}

#[utoipa::path(post, path = "/devices", tag = "devices", request_body = devices::NewDevice, responses((status = 201, body = Device), (status = 422)))]
pub async fn create_device(
    State(s): State<AppState>,
    a: Auth,
    JsonBody(n): JsonBody<devices::NewDevice>,
) -> Created<Device> {
    Ok(created(devices::create(&s.app, &a.actor, n).await?))
}

/// The device card: device, product, policy, warranty cover and today's decision.
#[utoipa::path(get, path = "/devices/{id}", tag = "devices", responses((status = 200, body = DeviceCard)))]
pub async fn get_device(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> TaggedResult<DeviceCard> {
    let r = devices::card(&s.app, &a.actor, id).await?;
    let v = r.device.version;
    Ok(tagged(r, v))
}

#[utoipa::path(patch, path = "/devices/{id}", tag = "devices", params(("If-Match" = Option<String>, Header, description = "the ETag the change is based on; a stale one is refused with 412")), request_body = devices::DevicePatch, responses((status = 200, body = Device, headers(("ETag" = String))), (status = 412, description = "the record changed since the ETag sent")))]
pub async fn update_device(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    IfMatch(if_match): IfMatch,
    JsonBody(p): JsonBody<devices::DevicePatch>,
) -> TaggedResult<Device> {
    let r = devices::update(&s.app, &a.actor, id, if_match, p).await?;
    let v = r.version;
    Ok(tagged(r, v))
}

/// The device's service history: its card and every work order on it.
#[utoipa::path(get, path = "/devices/{id}/history", tag = "devices", responses((status = 200, body = DeviceHistory)))]
pub async fn device_history(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> R<DeviceHistory> {
    Ok(Json(devices::history(&s.app, &a.actor, id).await?))
}

// ---------------------------------------------------------------- technicians

#[utoipa::path(get, path = "/technicians", tag = "technicians", params(PageQuery),
    responses((status = 200, body = Paged<Technician>), (status = 422)))]
pub async fn list_technicians(
    State(s): State<AppState>,
    a: Auth,
    Paging(page): Paging,
) -> R<Paged<Technician>> {
    Ok(Json(org::list_technicians(&s.app, &a.actor, page).await?))
}

#[utoipa::path(post, path = "/technicians", tag = "technicians", request_body = org::NewTechnician, responses((status = 201, body = Technician)))]
pub async fn create_technician(
    State(s): State<AppState>,
    a: Auth,
    JsonBody(n): JsonBody<org::NewTechnician>,
) -> Created<Technician> {
    Ok(created(
        org::create_technician(&s.app, Some(&a.actor), n).await?,
    ))
}

#[utoipa::path(get, path = "/technicians/{id}", tag = "technicians", responses((status = 200, body = Technician)))]
pub async fn get_technician(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> TaggedResult<Technician> {
    let r = org::get_technician(&s.app, &a.actor, id).await?;
    let v = r.version;
    Ok(tagged(r, v))
}

#[utoipa::path(patch, path = "/technicians/{id}", tag = "technicians", params(("If-Match" = Option<String>, Header, description = "the ETag the change is based on; a stale one is refused with 412")), request_body = org::TechnicianPatch, responses((status = 200, body = Technician, headers(("ETag" = String))), (status = 412, description = "the record changed since the ETag sent")))]
pub async fn update_technician(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    IfMatch(if_match): IfMatch,
    JsonBody(p): JsonBody<org::TechnicianPatch>,
) -> TaggedResult<Technician> {
    let r = org::update_technician(&s.app, &a.actor, id, if_match, p).await?;
    let v = r.version;
    Ok(tagged(r, v))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ShiftQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// The technician's shifts from `from` to `to`, by day.
#[utoipa::path(get, path = "/technicians/{id}/shifts", tag = "technicians", params(ShiftQuery, PageQuery),
    responses((status = 200, body = Paged<Shift>), (status = 422)))]
pub async fn list_shifts(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<ShiftQuery>,
    Paging(page): Paging,
) -> R<Paged<Shift>> {
    Ok(Json(
        org::shifts(&s.app, &a.actor, id, q.from, q.to, page).await?,
    ))
}

/// Sets the technician's shift of a day.
#[utoipa::path(post, path = "/technicians/{id}/shifts", tag = "technicians", request_body = org::NewShift, responses((status = 200, body = Vec<Shift>)))]
pub async fn set_shift(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    JsonBody(n): JsonBody<org::NewShift>,
) -> R<Vec<Shift>> {
    Ok(Json(org::set_shift(&s.app, &a.actor, id, n).await?))
}

/// Takes the technician off a day (leave or rest day): the day's shift is removed.
#[utoipa::path(delete, path = "/technicians/{id}/shifts/{day}", tag = "technicians",
    params(("id" = i64, Path, description = "technician"), ("day" = NaiveDate, Path, description = "the day, YYYY-MM-DD")),
    responses((status = 204, description = "the technician has no shift that day")))]
pub async fn clear_shift(
    State(s): State<AppState>,
    a: Auth,
    Path((id, day)): Path<(i64, NaiveDate)>,
) -> Result<StatusCode, ApiError> {
    org::clear_shift(&s.app, &a.actor, id, day).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- org units

#[utoipa::path(get, path = "/org-units", tag = "org", params(PageQuery),
    responses((status = 200, body = Paged<OrgUnit>), (status = 422)))]
pub async fn list_org_units(
    State(s): State<AppState>,
    a: Auth,
    Paging(page): Paging,
) -> R<Paged<OrgUnit>> {
    Ok(Json(org::list_org_units(&s.app, &a.actor, page).await?))
}

#[utoipa::path(post, path = "/org-units", tag = "org", request_body = org::NewOrgUnit, responses((status = 201, body = OrgUnit)))]
pub async fn create_org_unit(
    State(s): State<AppState>,
    a: Auth,
    JsonBody(n): JsonBody<org::NewOrgUnit>,
) -> Created<OrgUnit> {
    Ok(created(org::create_org_unit(&s.app, &a.actor, n).await?))
}

#[utoipa::path(get, path = "/org-units/{id}", tag = "org", responses((status = 200, body = OrgUnit)))]
pub async fn get_org_unit(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> TaggedResult<OrgUnit> {
    let r = org::get_org_unit(&s.app, &a.actor, id).await?;
    let v = r.version;
    Ok(tagged(r, v))
}

#[utoipa::path(patch, path = "/org-units/{id}", tag = "org", params(("If-Match" = Option<String>, Header, description = "the ETag the change is based on; a stale one is refused with 412")), request_body = org::OrgUnitPatch, responses((status = 200, body = OrgUnit, headers(("ETag" = String))), (status = 412, description = "the record changed since the ETag sent")))]
pub async fn update_org_unit(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    IfMatch(if_match): IfMatch,
    JsonBody(p): JsonBody<org::OrgUnitPatch>,
) -> TaggedResult<OrgUnit> {
    let r = org::update_org_unit(&s.app, &a.actor, id, if_match, p).await?;
    let v = r.version;
    Ok(tagged(r, v))
}

// ---------------------------------------------------------------- users

#[utoipa::path(get, path = "/users", tag = "org", params(PageQuery),
    responses((status = 200, body = Paged<User>), (status = 422)))]
pub async fn list_users(
    State(s): State<AppState>,
    a: Auth,
    Paging(page): Paging,
) -> R<Paged<User>> {
    Ok(Json(org::list_users(&s.app, &a.actor, page).await?))
}

#[utoipa::path(post, path = "/users", tag = "org", request_body = org::NewUser, responses((status = 201, body = User)))]
pub async fn create_user(
    State(s): State<AppState>,
    a: Auth,
    JsonBody(n): JsonBody<org::NewUser>,
) -> Created<User> {
    Ok(created(org::create_user(&s.app, &a.actor, n).await?))
}

#[utoipa::path(get, path = "/users/{id}", tag = "org", responses((status = 200, body = User)))]
pub async fn get_user(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> TaggedResult<User> {
    let r = org::get_user(&s.app, &a.actor, id).await?;
    let v = r.version;
    Ok(tagged(r, v))
}

#[utoipa::path(patch, path = "/users/{id}", tag = "org", params(("If-Match" = Option<String>, Header, description = "the ETag the change is based on; a stale one is refused with 412")), request_body = org::UserPatch, responses((status = 200, body = User, headers(("ETag" = String))), (status = 412, description = "the record changed since the ETag sent")))]
pub async fn update_user(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    IfMatch(if_match): IfMatch,
    JsonBody(p): JsonBody<org::UserPatch>,
) -> TaggedResult<User> {
    let r = org::update_user(&s.app, &a.actor, id, if_match, p).await?;
    let v = r.version;
    Ok(tagged(r, v))
}

// ---------------------------------------------------------------- lookup, audit, SLA

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchQuery {
    /// A fragment of a phone (4+ digits), serial (4+), name or address (2+ Chinese characters or 3+ letters).
    pub q: String,
    /// Hits of each kind, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/search", tag = "lookup", params(SearchQuery), responses((status = 200, body = SearchResult), (status = 422)))]
pub async fn search(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<SearchQuery>,
) -> R<SearchResult> {
    Ok(Json(
        app_search::lookup(&s.app, &a.actor, &q.q, q.limit.unwrap_or(20)).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// work_order, customer, device, technician, user, org_unit, product, warranty_policy, complaint
    #[param(
        pattern = "^(work_order|customer|device|technician|user|org_unit|product|warranty_policy|complaint)$"
    )]
    pub entity: String,
    pub id: i64,
}

/// Who changed what and when, for admins and managers; oldest first.
#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditQuery, PageQuery),
    responses((status = 200, body = Paged<AuditEntry>), (status = 403), (status = 422)))]
pub async fn audit(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<AuditQuery>,
    Paging(page): Paging,
) -> R<Paged<AuditEntry>> {
    Ok(Json(
        app_audit::trail(&s.app, &a.actor, &q.entity, q.id, page).await?,
    ))
}

#[utoipa::path(get, path = "/sla-rules", tag = "catalog", responses((status = 200, body = Vec<SlaRule>, headers(("ETag" = String)))))]
pub async fn get_sla_rules(State(s): State<AppState>, _a: Auth) -> TaggedResult<Vec<SlaRule>> {
    let (rules, v) = catalog::sla_rules_versioned(&s.app).await?;
    Ok(tagged(rules, v))
}

/// Replaces the SLA policy (admin).
#[utoipa::path(put, path = "/sla-rules", tag = "catalog", params(("If-Match" = Option<String>, Header, description = "the ETag the change is based on; a stale one is refused with 412")), request_body = Vec<SlaRule>, responses((status = 200, body = Vec<SlaRule>, headers(("ETag" = String))), (status = 412, description = "the rules changed since the ETag sent")))]
pub async fn set_sla_rules(
    State(s): State<AppState>,
    a: Auth,
    IfMatch(if_match): IfMatch,
    JsonBody(r): JsonBody<Vec<SlaRule>>,
) -> TaggedResult<Vec<SlaRule>> {
    let (rules, v) = catalog::set_sla_rules(&s.app, &a.actor, if_match, r).await?;
    Ok(tagged(rules, v))
}
