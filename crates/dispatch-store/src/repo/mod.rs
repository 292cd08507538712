//! Repositories: small named query functions that take any connection or transaction
//! (`&impl ConnectionTrait`), so a command composes them inside its one transaction.

pub mod audit;
pub mod direct_message;
pub mod directory;
pub mod event;
pub mod filter;
pub mod incident;
pub mod individual;
pub mod job;
pub mod login_throttle;
pub mod oncall;
pub mod outbox;
pub mod participant;
pub mod participant_group;
pub mod project;
pub mod project_member;
pub mod reminder;
pub mod report;
pub mod resource;
pub mod rows;
pub mod rules;
pub mod saved_view;
pub mod schedule;
pub mod search;
pub mod secret_key_check;
pub mod session;
pub mod slack;
pub mod stats;
pub mod tag;
pub mod task;
pub mod taxonomy;
pub mod token;
pub mod user;
pub mod webhook;
