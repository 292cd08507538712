//! The Slack client's integration tests against the emulator, in one test binary.

mod api;
mod socket;
