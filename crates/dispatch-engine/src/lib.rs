//! Dispatch's services: the command handlers. Each call validates its input, then runs one
//! database transaction that writes the new state, appends the timeline events and enqueues the
//! jobs for every side effect. Nothing talks to the outside world inside that transaction.

pub mod admin;
pub mod error;
pub mod incident;
pub mod participant;
pub mod report;
pub mod task;
pub mod timeline;

pub use error::{Error, Result};

use dispatch_core::{IndividualId, Transport};
use dispatch_store::Db;

/// The engine: a handle on the database that every transport calls into. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    db: Db,
}

/// Who is acting and through which transport; recorded on every timeline event.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The person.
    pub individual_id: IndividualId,
    /// Their e-mail address.
    pub email: String,
    /// Their display name.
    pub name: String,
    /// How the command arrived.
    pub transport: Transport,
}

impl Engine {
    /// An engine over a migrated database.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }
}
