//! The built-in providers that keep their state in Dispatch's own database: markdown documents,
//! the incident room, the mail outbox, on-call rotations, the directory and participant groups,
//! and what chat providers remember between calls. They implement the provider traits of
//! `dispatch_core::provider`; [`providers`] hands them over as one set.

pub mod contact;
mod documents;
pub mod group;
pub mod memory;
pub mod oncall;
pub mod outbox;
pub mod room;

pub use contact::Directory;
pub use documents::Documents;
pub use group::Groups;
pub use memory::{MatrixMemory, SlackMemory, TeamsMemory};
pub use oncall::OnCall;
pub use outbox::Outbox;
pub use room::Room;

use crate::Db;
use dispatch_core::provider::StoreBacked;
use std::sync::Arc;

/// The store-backed providers over `db`; links point under `base_url`.
pub fn providers(db: &Db, base_url: &str) -> StoreBacked {
    StoreBacked {
        document: Arc::new(Documents {
            db: db.clone(),
            base_url: base_url.to_string(),
        }),
        conversation: Arc::new(Room {
            db: db.clone(),
            base_url: base_url.to_string(),
        }),
        outbox: Arc::new(Outbox { db: db.clone() }),
        oncall: Arc::new(OnCall { db: db.clone() }),
        contact: Arc::new(Directory { db: db.clone() }),
        group: Arc::new(Groups {
            db: db.clone(),
            base_url: base_url.to_string(),
        }),
        chat_memory: Arc::new(SlackMemory { db: db.clone() }),
    }
}
