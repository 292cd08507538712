//! The `dispatch` binary's library: configuration, the server start-up, the API client behind the
//! CLI, and the bench.

pub mod auth_config;
pub mod bench;
pub mod case_client;
pub mod cli;
pub mod client;
pub mod config;
pub mod config_code;
pub mod confluence_config;
pub mod google_config;
pub mod matrix_config;
pub mod oncall_config;
pub mod server;
pub mod teams_config;
pub mod vendor_config;
