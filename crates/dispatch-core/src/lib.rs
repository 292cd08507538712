//! Dispatch's domain: typed ids, closed sets, parsed values, validation errors, the timeline
//! hash chain and webhook signatures. Pure code with no I/O, shared by every other crate.

pub mod chat;
pub mod commands;
pub mod email;
pub mod enums;
pub mod error;
pub mod event;
pub mod filter;
pub mod ids;
pub mod job;
pub mod links;
pub mod message;
pub mod oncall;
pub mod password;
pub mod patch;
pub mod permission;
pub mod provider;
pub mod provider_settings;
pub mod rich_html;
pub mod secret;
pub mod signal;
pub mod size;
pub mod template;
pub mod timeline;
pub mod values;
pub mod webhook;

pub use enums::*;
pub use error::{FieldError, ValidationError};
pub use ids::*;
pub use patch::Patch;

/// The current time in UTC, truncated to the microseconds both databases store.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    timeline::to_micros(chrono::Utc::now())
}
