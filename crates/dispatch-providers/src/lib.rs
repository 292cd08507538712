//! Provider implementations. The built-in ones make a fresh install do the whole job with no
//! account: the incident key as ticket, files kept by Dispatch as storage, a templated meeting
//! link as conference, markdown documents and the incident room stored in Dispatch's database.
//! Built-ins that keep data use the store (a deliberate edge: their data *is* Dispatch's).
//! Outgoing webhooks are plain HTTP and need no account either.

pub mod builtin;
pub mod webhook;

use dispatch_core::provider::Providers;
use dispatch_store::Db;
use std::sync::Arc;

/// Settings of the built-in providers.
#[derive(Debug, Clone)]
pub struct BuiltinSettings {
    /// Public base URL of this server, for links back to it.
    pub base_url: String,
    /// Conference link template; `{{slug}}` is replaced by a per-incident room slug.
    pub conference_template: String,
}

impl Default for BuiltinSettings {
    fn default() -> Self {
        Self {
            base_url: "http://127.0.0.1:8080".into(),
            conference_template: "https://meet.jit.si/{{slug}}".into(),
        }
    }
}

/// Every capability served by the built-in provider.
pub fn builtin(db: Db, settings: BuiltinSettings) -> Providers {
    Providers {
        ticket: Arc::new(builtin::Ticket {
            base_url: settings.base_url.clone(),
        }),
        storage: Arc::new(builtin::Storage {
            base_url: settings.base_url.clone(),
        }),
        conference: Arc::new(builtin::Conference {
            template: settings.conference_template.clone(),
        }),
        document: Arc::new(builtin::Documents {
            db: db.clone(),
            base_url: settings.base_url.clone(),
        }),
        conversation: Arc::new(builtin::Room {
            db,
            base_url: settings.base_url,
        }),
        webhook: Arc::new(webhook::HttpWebhooks::default()),
    }
}
