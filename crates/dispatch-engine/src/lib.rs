//! Dispatch's services: the command handlers. Each call validates its input, then runs one
//! database transaction that writes the new state, appends the timeline events and enqueues the
//! jobs for every side effect. Nothing talks to the outside world inside that transaction.

pub mod admin;
mod cache;
pub mod error;
pub mod feedback;
pub mod files;
pub mod flows;
pub mod incident;
pub mod jobs;
pub mod membership;
pub mod oncall;
pub mod outbox;
pub mod participant;
pub mod report;
pub mod room;
pub mod rules;
pub mod scheduler;
pub mod task;
pub mod timeline;
pub mod webhook;

pub use error::{Error, Result};

use dispatch_core::provider::Providers;
use dispatch_core::{IndividualId, Transport};
use dispatch_store::Db;
use std::sync::Arc;
use tokio::sync::Notify;

/// Where links point when no public URL is configured.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";

/// The engine: a handle on the database and the providers that every transport calls into.
/// Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    db: Db,
    providers: Option<Providers>,
    /// Wakes this process's workers when a command enqueued jobs.
    wake: Arc<Notify>,
    /// The server's public base URL, for links back to Dispatch.
    base_url: Arc<str>,
    /// Project configurations read by declarations.
    config: Arc<cache::ConfigCache>,
}

/// Who is acting and through which transport; recorded on every timeline event.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The person.
    pub individual_id: IndividualId,
    /// Their e-mail address.
    pub email: String,
    /// Their display name.
    pub name: String,
    /// How the command arrived.
    pub transport: Transport,
}

impl Engine {
    /// An engine over a migrated database, without providers: commands work and enqueue their
    /// jobs, but this engine cannot run them (a worker with providers will).
    pub fn new(db: Db) -> Self {
        Self {
            db,
            providers: None,
            wake: Arc::new(Notify::new()),
            base_url: DEFAULT_BASE_URL.into(),
            config: Default::default(),
        }
    }

    /// An engine that can also run jobs with these providers.
    pub fn with_providers(db: Db, providers: Providers) -> Self {
        Self {
            db,
            providers: Some(providers),
            wake: Arc::new(Notify::new()),
            base_url: DEFAULT_BASE_URL.into(),
            config: Default::default(),
        }
    }

    /// Sets the public base URL used in links back to Dispatch.
    pub fn with_base_url(mut self, url: &str) -> Self {
        self.base_url = url.trim_end_matches('/').into();
        self
    }

    /// The public base URL.
    pub fn base_url(&self) -> String {
        self.base_url.to_string()
    }

    fn config_cache(&self) -> &cache::ConfigCache {
        &self.config
    }

    /// The providers, when this engine runs jobs.
    pub fn providers(&self) -> Option<&Providers> {
        self.providers.as_ref()
    }

    /// Tells this process's workers that jobs were enqueued.
    pub fn wake_workers(&self) {
        self.wake.notify_one();
    }

    /// Resolves when [`Engine::wake_workers`] is next called.
    pub async fn woken(&self) {
        self.wake.notified().await
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }
}
