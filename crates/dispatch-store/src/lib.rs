//! Dispatch's storage: one code path over SQLite (embedded default) and PostgreSQL (scale-out),
//! with SeaORM entities, append-only migrations and small repository functions that take any
//! connection or transaction.

pub mod batch;
pub mod builtin;
pub mod db;
pub(crate) mod entity;
pub mod error;
pub mod import;
pub mod migration;
pub mod model;
pub mod repo;
pub mod seed;
#[cfg(feature = "testing")]
pub mod testing;

pub use batch::Batched;
pub use db::{Backend, Conn, Db, WriteTxn};
pub use error::StoreError;
pub use repo::rows::Record;
