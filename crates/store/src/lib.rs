//! One store over SQLite (embedded default) and PostgreSQL (scale-out), with sqlx.
//!
//! SQL is written once where both accept it (`$1` placeholders, `RETURNING`, `ON CONFLICT`) and
//! separately where they differ (lookup, locking). Every query goes through [`Db`] (autocommit) or
//! [`Tx`] (a transaction); values are bound as [`Arg`]s so one call site serves both databases.

pub mod complaints;
pub mod csi;
pub mod db;
pub mod dispatch;
pub mod error;
pub mod followups;
pub mod idempotency;
pub mod knowledge;
pub mod kpi;
pub mod leads;
pub mod points;
pub mod records;
pub mod repo;
pub mod scope;
pub mod search;
pub mod selfservice;
pub mod service;
pub mod targets;
pub mod work_orders;
pub mod writer;

pub use db::{Arg, Backend, Db, FromDbRow, Tx};
pub use error::StoreError;
pub use scope::Visibility;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
