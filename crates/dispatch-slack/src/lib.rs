//! Slack as one more transport and one more conversation provider, all of it in this crate and
//! none of the incident logic: verifying that a request came from Slack, the app manifest,
//! rendering the neutral rich messages as Block Kit, modals, a Web API client, Socket Mode, the
//! conversation provider ([`provider`]), the HTTP endpoints the web crate mounts and the Socket
//! Mode intake ([`transport`]), and the jobs Slack's requests become ([`jobs`]), which run
//! through the engine's use cases.

pub mod api;
pub mod blocks;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod jobs;
pub mod manifest;
pub mod modals;
pub mod provider;
pub mod signature;
pub mod socket;
pub mod transport;

pub use api::{SlackApi, SlackError};
