//! Pure domain types and rules of shouhou: no I/O, no database, no web.
//!
//! Everything here is deterministic: the clock is always a parameter.

pub mod calendar;
pub mod complaints;
pub mod csi;
pub mod error;
pub mod fees;
pub mod fields;
pub mod geo;
pub mod i18n;
pub mod kinds;
pub mod kpi;
pub mod lifecycle;
pub mod money;
pub mod points;
pub mod sla;
pub mod targets;
pub mod validate;
pub mod warranty;
pub mod work_order_number;

pub use complaints::{ComplaintActionKind, ComplaintCategory, ComplaintStatus, Severity};
pub use error::{DomainError, ValidationError};
pub use i18n::Lang;
pub use kinds::*;
pub use lifecycle::{check_transition, DeclineReason, Status};
