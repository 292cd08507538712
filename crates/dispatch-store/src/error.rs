//! The storage layer's error type.

use sea_orm::{DbErr, SqlErr};

/// What can go wrong in a repository call.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist (names what was looked for).
    #[error("{0} not found")]
    NotFound(String),
    /// A uniqueness rule would be broken.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Any other database error.
    #[error(transparent)]
    Db(DbErr),
}

impl StoreError {
    /// A database error described in words (a write interrupted, …).
    pub fn other(message: impl Into<String>) -> Self {
        StoreError::Db(DbErr::Custom(message.into()))
    }
}

impl From<DbErr> for StoreError {
    fn from(e: DbErr) -> Self {
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(msg)) => StoreError::Conflict(msg),
            _ => StoreError::Db(e),
        }
    }
}

impl StoreError {
    /// Whether an update found no row to change (a concurrent request deleted it).
    pub fn is_not_updated(&self) -> bool {
        matches!(self, StoreError::Db(DbErr::RecordNotUpdated))
    }
}

/// Shorthand for repository results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// Whether the database refused the write because a foreign key still points at the row
    /// (a delete of something in use).
    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(self, StoreError::Db(db)
            if matches!(db.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))))
    }
}
