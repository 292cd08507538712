//! Microsoft Teams as one more transport and one more conversation provider, all of it in this
//! crate and none of the incident logic: checking that an activity came from the Bot Connector
//! ([`auth`]), the app-only tokens ([`token`]), the connector's REST API ([`connector`]) and
//! Microsoft Graph ([`graph`]), rendering the neutral rich messages as Adaptive Cards
//! ([`cards`]), the forms as task modules ([`dialogs`]), the conversation provider
//! ([`provider`]), the messaging endpoint the web crate mounts ([`transport`]) and the jobs the
//! activities become ([`jobs`]), which run through the engine's use cases.

pub mod auth;
pub mod cards;
pub mod connector;
pub mod dialogs;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod graph;
pub mod http;
pub mod jobs;
pub mod provider;
pub mod token;
pub mod transport;

pub use http::TeamsError;
