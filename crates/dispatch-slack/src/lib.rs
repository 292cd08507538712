//! Slack as one more transport and one more conversation provider. This crate holds what is
//! Slack-specific and nothing of the incident logic: verifying that a request came from Slack,
//! the app manifest, rendering the neutral rich messages as Block Kit, and a Web API client.

pub mod api;
pub mod blocks;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod manifest;
pub mod modals;
pub mod signature;
pub mod socket;

pub use api::{SlackApi, SlackError};
