//! The Slack crate's integration tests against the emulator, in one test binary.

mod api;
mod provider;
mod socket;
