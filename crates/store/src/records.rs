//! Rows as the store reads them; they decode from both databases.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shouhou_domain::geo::LocatedBy;
use shouhou_domain::{
    Category, Channel, CustomerKind, OrgKind, Priority, Role, Status, Tier, VisitOutcome,
    WarrantyDecision, WarrantyStart, WorkOrderType,
};
use utoipa::ToSchema;

/// A list of strings kept as a JSON array in a TEXT column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct StrList(pub Vec<String>);

impl TryFrom<String> for StrList {
    type Error = serde_json::Error;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        serde_json::from_str(&s).map(StrList)
    }
}

impl StrList {
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".into())
    }
}

/// A part a product can use, with its list price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PartSpec {
    pub name: String,
    pub price_fen: i64,
}

/// A product's parts list, kept as a JSON array in a TEXT column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct PartList(pub Vec<PartSpec>);

impl TryFrom<String> for PartList {
    type Error = serde_json::Error;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        serde_json::from_str(&s).map(PartList)
    }
}

impl PartList {
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".into())
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct OrgUnit {
    pub id: i64,
    pub parent_id: Option<i64>,
    #[sqlx(try_from = "String")]
    pub kind: OrgKind,
    pub code: String,
    pub name: String,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// The unit's service hotline (a store's: shown to customers on the QR pages).
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Raised by every change; send it back as `If-Match` (the ETag) to change the record.
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub org_unit_id: i64,
    pub phone: Option<String>,
    /// The UI language the user chose; `None` follows the browser.
    pub lang: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Raised by every change; send it back as `If-Match` (the ETag) to change the record.
    pub version: i64,
}

/// What login needs; never serialised.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Credentials {
    pub id: i64,
    pub password_hash: String,
    pub active: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub user_id: i64,
    pub kind: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// What changes whenever an org unit is added or changed, or a versioned setting (the SLA
/// rules, the working calendar …) is changed: a one-row read that tells a server's caches of
/// them whether they still hold. Another server on the same database changes it too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct OrgFingerprint {
    pub units: i64,
    pub unit_versions: i64,
    pub units_changed: Option<DateTime<Utc>>,
    pub setting_versions: i64,
}

/// A live session with its user, and the org's fingerprint read in the same statement.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignedIn {
    #[sqlx(flatten)]
    pub session: Session,
    #[sqlx(flatten)]
    pub user: User,
    #[sqlx(flatten)]
    pub org: OrgFingerprint,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Address {
    pub id: i64,
    pub customer_id: i64,
    pub label: Option<String>,
    pub address: String,
    pub lat: f64,
    pub lng: f64,
    /// Where the coordinates came from.
    #[sqlx(try_from = "String")]
    pub located_by: LocatedBy,
    /// False while the coordinates are a placeholder (a district's centre, the store's place)
    /// that the dispatcher should set: the page shows "位置待确认".
    pub location_confirmed: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Customer {
    pub id: i64,
    pub org_unit_id: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: CustomerKind,
    #[sqlx(try_from = "String")]
    pub tier: Tier,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    #[sqlx(skip)]
    pub phones: Vec<String>,
    #[sqlx(skip)]
    pub addresses: Vec<Address>,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Product {
    pub id: i64,
    pub brand: String,
    pub model: String,
    #[sqlx(try_from = "String")]
    pub category: Category,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub parts: PartList,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Raised by every change; send it back as `If-Match` (the ETag) to change the record.
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct WarrantyPolicy {
    pub id: i64,
    pub name: String,
    pub manufacturer: String,
    pub whole_unit_months: i64,
    pub main_parts_months: i64,
    #[sqlx(try_from = "String")]
    pub main_parts: StrList,
    pub labour_months: i64,
    #[sqlx(try_from = "String")]
    pub starts_from: WarrantyStart,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Raised by every change; send it back as `If-Match` (the ETag) to change the record.
    pub version: i64,
}

impl WarrantyPolicy {
    pub fn terms(&self) -> shouhou_domain::warranty::WarrantyTerms {
        let m = |v: i64| u32::try_from(v).unwrap_or(0);
        shouhou_domain::warranty::WarrantyTerms {
            whole_unit_months: m(self.whole_unit_months),
            main_parts_months: m(self.main_parts_months),
            labour_months: m(self.labour_months),
            starts_from: self.starts_from,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Device {
    pub id: i64,
    pub org_unit_id: i64,
    pub customer_id: i64,
    pub product_id: i64,
    pub brand: String,
    pub serial: String,
    pub site_address_id: Option<i64>,
    pub purchase_date: NaiveDate,
    pub purchase_store_id: Option<i64>,
    pub install_date: Option<NaiveDate>,
    pub policy_id: i64,
    pub qr_token: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Raised by every change; send it back as `If-Match` (the ETag) to change the record.
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Technician {
    pub id: i64,
    pub user_id: i64,
    pub org_unit_id: i64,
    pub display_name: String,
    #[sqlx(try_from = "String")]
    pub skills: StrList,
    pub start_address: Option<String>,
    pub start_lat: f64,
    pub start_lng: f64,
    pub active: bool,
    /// May write knowledge-base articles.
    pub senior: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Raised by every change; send it back as `If-Match` (the ETag) to change the record.
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Shift {
    pub id: i64,
    pub technician_id: i64,
    pub day: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct WorkOrder {
    pub id: i64,
    pub number: String,
    pub org_unit_id: i64,
    pub customer_id: i64,
    pub device_id: Option<i64>,
    pub address_id: Option<i64>,
    #[sqlx(try_from = "String")]
    pub kind: WorkOrderType,
    #[sqlx(try_from = "String")]
    pub channel: Channel,
    #[sqlx(try_from = "String")]
    pub priority: Priority,
    #[sqlx(try_from = "String")]
    pub status: Status,
    pub fault_description: String,
    pub appointment_start: Option<DateTime<Utc>>,
    pub appointment_end: Option<DateTime<Utc>>,
    pub respond_by: DateTime<Utc>,
    pub arrive_by: DateTime<Utc>,
    pub resolve_by: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    pub warranty_decision: WarrantyDecision,
    pub technician_id: Option<i64>,
    pub partner_unit_id: Option<i64>,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub version: i64,
    /// Place in the technician's planned day, and the planned arrival (dispatch).
    pub planned_seq: Option<i64>,
    pub planned_arrival: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct WorkOrderEvent {
    pub id: i64,
    pub work_order_id: i64,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_id: i64,
    pub actor_name: String,
    pub at: DateTime<Utc>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Visit {
    pub id: i64,
    pub work_order_id: i64,
    /// None for a visit by an outsourced partner.
    pub technician_id: Option<i64>,
    pub seq: i64,
    pub departed_at: Option<DateTime<Utc>>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub arrived_lat: Option<f64>,
    pub arrived_lng: Option<f64>,
    pub left_at: Option<DateTime<Utc>>,
    #[sqlx(try_from = "Option<String>")]
    pub outcome: OptOutcome,
}

/// An optional visit outcome stored as nullable TEXT.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(transparent)]
pub struct OptOutcome(pub Option<VisitOutcome>);

impl TryFrom<Option<String>> for OptOutcome {
    type Error = shouhou_domain::DomainError;
    fn try_from(v: Option<String>) -> Result<Self, Self::Error> {
        v.map(VisitOutcome::try_from).transpose().map(OptOutcome)
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub entity: String,
    pub entity_id: i64,
    pub action: String,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub at: DateTime<Utc>,
    /// `{"field": [old, new], …}`
    #[sqlx(try_from = "String")]
    pub changes: JsonText,
}

/// A JSON value kept in a TEXT column.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct JsonText(pub serde_json::Value);

impl TryFrom<String> for JsonText {
    type Error = serde_json::Error;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        serde_json::from_str(&s).map(JsonText)
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct SlaRuleRow {
    pub id: i64,
    pub priority: String,
    pub tier: Option<String>,
    pub clock: String,
    pub respond_hours: f64,
    pub arrive_hours: f64,
    pub resolve_hours: f64,
}
