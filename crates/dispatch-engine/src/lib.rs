//! Dispatch's services: the command handlers. Each call validates its input, then runs one
//! database transaction that writes the new state, appends the timeline events and enqueues the
//! jobs for every side effect. Nothing talks to the outside world inside that transaction.

pub mod access;
pub mod accounts;
pub mod admin;
mod announcements;
pub mod audit;
mod cache;
pub(crate) mod changes;
pub mod command;
pub mod config_code;
pub mod cost;
mod credentials;
pub mod data;
pub mod documents;
pub mod error;
pub mod feedback;
pub mod files;
pub mod flows;
pub mod incident;
pub mod jobs;
pub mod membership;
pub mod metrics;
pub mod oncall;
pub mod outbox;
pub mod paging;
pub mod participant;
pub mod providers;
pub(crate) mod record;
pub mod reminders;
pub mod report;
pub mod room;
pub mod rules;
pub mod scheduler;
pub mod secrets;
pub mod signal;
pub mod stakeholders;
pub mod stats;
pub(crate) mod tags;
pub mod task;
pub mod telemetry;
pub mod timeline;
mod usecase;
pub mod webhook;

pub use error::{Error, Result};
pub use usecase::*;

use dispatch_core::provider::{ProviderRegistry, Providers};
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
    /// Every provider this process has; each project picks its own among them.
    registry: Arc<ProviderRegistry>,
    /// Wakes this process's workers when a command enqueued jobs.
    wake: Arc<Notify>,
    /// The server's public base URL, for links back to Dispatch.
    base_url: Arc<str>,
    /// Project configurations read by declarations.
    config: Arc<cache::ConfigCache>,
    /// Recently seen API tokens.
    credentials: Arc<credentials::CredentialCache>,
    /// Each project's compiled signal definitions and filters.
    signals: Arc<signal::cache::SignalCache>,
    /// Handlers of the jobs transports enqueue, by kind.
    transport_jobs: Arc<std::collections::HashMap<&'static str, Arc<dyn jobs::TransportJob>>>,
    /// How long web sessions last.
    sessions: accounts::session::SessionSettings,
    /// Seals and opens the secrets kept in the database.
    secrets: Arc<dispatch_core::secret::SecretKey>,
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
        Self::with_registry(db, ProviderRegistry::default())
    }

    /// An engine that can also run jobs, every project with these providers.
    pub fn with_providers(db: Db, providers: Providers) -> Self {
        Self::with_registry(db, ProviderRegistry::single(providers))
    }

    /// An engine that runs jobs with the providers each project chose from `registry` (its
    /// defaults for what a project leaves unchosen). Every provider call is timed (see
    /// [`telemetry`]).
    pub fn with_registry(db: Db, registry: ProviderRegistry) -> Self {
        Self {
            db,
            registry: Arc::new(telemetry::metered::metered(registry)),
            wake: Arc::new(Notify::new()),
            base_url: DEFAULT_BASE_URL.into(),
            config: Default::default(),
            credentials: Default::default(),
            signals: Default::default(),
            transport_jobs: Default::default(),
            sessions: Default::default(),
            secrets: Arc::new(
                dispatch_core::secret::SecretKey::parse(
                    &dispatch_core::secret::SecretKey::generate(),
                )
                .expect("a generated key parses"),
            ),
        }
    }

    /// Sets the public base URL used in links back to Dispatch.
    pub fn with_base_url(mut self, url: &str) -> Self {
        self.base_url = url.trim_end_matches('/').into();
        self
    }

    /// Registers the handler of a transport's job kind (before the engine is cloned).
    pub fn with_transport_job(mut self, handler: Arc<dyn jobs::TransportJob>) -> Self {
        Arc::make_mut(&mut self.transport_jobs).insert(handler.kind(), handler);
        self
    }

    /// The handler of a transport's job kind.
    pub(crate) fn transport_job(&self, kind: &str) -> Option<&Arc<dyn jobs::TransportJob>> {
        self.transport_jobs.get(kind)
    }

    /// Enqueues a transport's job (its request was acknowledged; the work happens here). A
    /// second job with the same `key` is ignored, so a redelivered request is handled once.
    pub async fn enqueue_transport_job<J: dispatch_core::job::JobKind>(
        &self,
        payload: &J,
        key: &str,
    ) -> Result<()> {
        let txn = self.db.write().await?;
        dispatch_store::repo::job::enqueue(
            &*txn,
            vec![crate::flows::new_job(
                payload,
                Some(key.into()),
                dispatch_core::now(),
            )],
        )
        .await?;
        txn.commit().await?;
        self.wake_workers();
        Ok(())
    }

    /// Sets how long web sessions last.
    pub fn with_session_settings(mut self, s: accounts::session::SessionSettings) -> Self {
        self.sessions = s;
        self
    }

    /// How long web sessions last.
    pub fn session_settings(&self) -> accounts::session::SessionSettings {
        self.sessions
    }

    /// The public base URL.
    pub fn base_url(&self) -> String {
        self.base_url.to_string()
    }

    fn config_cache(&self) -> &cache::ConfigCache {
        &self.config
    }

    pub(crate) fn credential_cache(&self) -> &credentials::CredentialCache {
        &self.credentials
    }

    fn signal_cache(&self) -> &signal::cache::SignalCache {
        &self.signals
    }

    fn signal_batcher(&self) -> &signal::batch::Batcher {
        &self.signals.batch
    }

    /// Every provider this process has, with the defaults.
    pub fn registry(&self) -> &ProviderRegistry {
        &self.registry
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
