//! Matrix as one more transport and one more conversation provider, all of it in this crate and
//! none of the incident logic: a client of the client-server API ([`api`]), the rich messages
//! rendered as `org.matrix.custom.html` ([`html`]), the conversation provider — a room per
//! incident ([`provider`]), the /sync loop that reads the rooms ([`sync`]) and the jobs their
//! events become ([`jobs`]), which run through the engine's use cases as the mapped person.

pub mod api;
pub mod html;
pub mod jobs;
pub mod provider;
pub mod sync;

pub use api::{Credentials, MatrixApi, MatrixError};
