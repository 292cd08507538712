//! The engine's error: what a command can fail with, in terms every transport can render.

use dispatch_core::ValidationError;
use dispatch_store::StoreError;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input, field by field; nothing was written.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// Something named does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The command conflicts with the current state (e.g. closing a closed incident).
    #[error("{0}")]
    Conflict(String),
    /// The actor may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The database failed.
    #[error("storage error: {0}")]
    Store(StoreError),
    /// A provider (on-call, contact directory, …) asked while answering failed.
    #[error(transparent)]
    Provider(#[from] dispatch_core::provider::ProviderError),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Error::NotFound(what),
            // An update of a row that a concurrent request deleted.
            e if e.is_not_updated() => Error::NotFound("record".into()),
            StoreError::Conflict(msg) => Error::Conflict(conflict_message(&msg)),
            other => Error::Store(other),
        }
    }
}

/// A uniqueness violation as a sentence (database messages are not shown to callers).
fn conflict_message(raw: &str) -> String {
    let what = ["slug", "name", "email", "key_prefix", "seq"]
        .into_iter()
        .find(|f| raw.contains(f))
        .unwrap_or("value");
    format!("a record with this {what} already exists")
}

/// Shorthand for command results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
