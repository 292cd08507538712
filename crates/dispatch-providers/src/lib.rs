//! Provider implementations. The built-in ones make a fresh install do the whole job with no
//! account: the incident key as ticket, files kept by Dispatch as storage, a templated meeting
//! link as conference, markdown documents and the incident room stored in Dispatch's database,
//! and an outbox for e-mail. The built-ins that keep data (documents, the room, the outbox,
//! on-call rotations, the directory, groups) live in the store, which hands them over as one
//! [`StoreBacked`] set; this crate depends on the core (and HTTP) only. SMTP is the first external provider; outgoing webhooks are plain HTTP
//! and need no account either.

pub mod builtin;
pub mod confluence;
pub mod google;
pub mod jira;
pub mod opsgenie;
pub mod pagerduty;
pub mod smtp;
pub mod vendor_http;
pub mod webhook;
pub mod zoom;

use dispatch_core::provider::{EmailProvider, ProviderRegistry, Providers, StoreBacked};
use std::sync::Arc;

/// `s` with each character but ASCII letters, digits, `-`, `_` and `.` made a dash: fit for a
/// label, the local part of an address or a path.
pub fn dashed(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Settings of the built-in providers.
#[derive(Debug, Clone)]
pub struct BuiltinSettings {
    /// Public base URL of this server, for links back to it.
    pub base_url: String,
    /// Conference link template; `{{slug}}` is replaced by a per-incident room slug.
    pub conference_template: String,
    /// The SMTP server mail goes to; `None` keeps mail in the outbox.
    pub smtp: Option<smtp::SmtpSettings>,
}

impl Default for BuiltinSettings {
    fn default() -> Self {
        Self {
            base_url: "http://127.0.0.1:8080".into(),
            conference_template: "https://meet.jit.si/{{slug}}".into(),
            smtp: None,
        }
    }
}

/// Every capability served by the built-in provider, except e-mail when SMTP is configured.
pub fn builtin(stored: StoreBacked, settings: BuiltinSettings) -> Providers {
    let email: Arc<dyn EmailProvider> = match settings.smtp {
        Some(s) => Arc::new(smtp::Smtp::new(s)),
        None => stored.outbox,
    };
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
        document: stored.document,
        conversation: stored.conversation,
        email,
        webhook: Arc::new(webhook::HttpWebhooks::default()),
        oncall: stored.oncall,
        contact: stored.contact,
        group: stored.group,
    }
}

/// Every provider this build has, for projects to choose from: the built-ins, the outbox, and
/// SMTP when it is configured. The defaults are the built-ins, and SMTP for e-mail when it is
/// configured; the server's `[providers]` settings may change them.
pub fn registry(stored: StoreBacked, settings: BuiltinSettings) -> ProviderRegistry {
    let smtp_configured = settings.smtp.is_some();
    let outbox = stored.outbox.clone();
    let mut r = ProviderRegistry::single(builtin(stored, settings));
    if smtp_configured {
        r.email.add(outbox);
    }
    r
}
