//! The server's integration tests, one module per area, in one test binary: each binary links
//! the whole server, so one link instead of two dozen. The browser walk (`tests/browser.rs`) is
//! its own binary. Run one area with `cargo test -p dispatch --test it access::`.

mod common;

mod access;
mod accounts;
mod adopt;
mod alertmanager;
mod alertmanager_e2e;

mod api_contract;
mod case_flow;
mod case_people;
mod case_thread;
mod cli;
mod cluster_bench;
mod commands;
mod confluence;
mod core_bench;
mod cost;
mod crash;
mod directory;
mod email;
mod emulators;
mod engine;
mod google;
mod harness;
mod ic_day;
mod incidents;
mod jira;
mod learning;
mod matrix;
mod oncall;
mod opsgenie;
mod pagerduty;
mod permission;
mod provider_checks;
mod providers;
mod rules;
mod scheduler;
mod signal_bench;
mod signal_signing;
mod signals;
mod slack;
mod slack_day;
mod sso;
mod stakeholders;
mod teams_day;
mod timeline;
mod ui;
mod ui_admin;
mod ui_signals;
mod ui_views;
mod webhooks;
mod zoom;
