//! Provider traits: one per capability. The engine's jobs call these; built-in implementations
//! need no account, external ones (Slack, Jira, Google, …) implement the same traits.

use crate::message::RichMessage;
use crate::ResourceKind;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A person as providers see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// E-mail address (the identity).
    pub email: String,
    /// Display name.
    pub name: String,
}

/// One line of the timeline as documents show it.
#[derive(Debug, Clone)]
pub struct TimelineLine {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it.
    pub actor: Option<String>,
    /// What happened.
    pub text: String,
}

/// Everything a provider may need to know about an incident.
#[derive(Debug, Clone)]
pub struct IncidentContext {
    /// Row id.
    pub id: i64,
    /// Key, e.g. `INC-7`.
    pub name: String,
    /// Project slug.
    pub project: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Resolution, once known.
    pub resolution: Option<String>,
    /// Status (`active`, `stable`, `closed`).
    pub status: String,
    /// Visibility.
    pub visibility: String,
    /// Type name.
    pub incident_type: String,
    /// Priority name.
    pub priority: String,
    /// Severity name.
    pub severity: String,
    /// The incident commander.
    pub commander: Person,
    /// The reporter.
    pub reporter: Person,
    /// Active participants with their current roles.
    pub participants: Vec<(Person, Vec<String>)>,
    /// Links to the incident's ready resources: (kind, link).
    pub links: Vec<(ResourceKind, String)>,
    /// The timeline so far.
    pub timeline: Vec<TimelineLine>,
    /// The fields of the latest tactical and executive reports, e.g. (`needs`, "DB team").
    pub report_fields: Vec<(String, String)>,
    /// The server's public base URL (for links back to Dispatch).
    pub base_url: String,
}

/// What a provider created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The provider's id for it.
    pub external_id: String,
    /// Where people open it.
    pub link: Option<String>,
}

/// A provider call failed; the job queue retries it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{provider}: {message}")]
pub struct ProviderError {
    /// Which provider.
    pub provider: String,
    /// What went wrong (shown on the resource as its last error).
    pub message: String,
}

impl ProviderError {
    /// An error of `provider`.
    pub fn new(provider: &str, message: impl Into<String>) -> Self {
        Self {
            provider: provider.to_string(),
            message: message.into(),
        }
    }
}

/// Shorthand for provider results.
pub type ProviderResult<T> = Result<T, ProviderError>;

/// Creates resources of one kind (ticket, storage, conference, …). `key` is the idempotency key:
/// a second call with the same key returns what the first created.
#[async_trait]
pub trait ResourceProvider: Send + Sync {
    /// The provider's slug, recorded on the resource (e.g. `dispatch-ticket`, `jira`).
    fn slug(&self) -> &'static str;
    /// Creates (or finds, by `key`) the resource for the incident.
    async fn create(&self, key: &str, ctx: &IncidentContext) -> ProviderResult<Created>;
    /// Brings an existing resource up to date with the incident (default: nothing to do).
    async fn update(&self, _external_id: &str, _ctx: &IncidentContext) -> ProviderResult<()> {
        Ok(())
    }
}

/// Documents made from templates and kept current as the incident changes.
#[async_trait]
pub trait DocumentProvider: Send + Sync {
    /// The provider's slug.
    fn slug(&self) -> &'static str;
    /// Creates (or finds, by `key`) a document of `kind` from `template`.
    async fn create(
        &self,
        key: &str,
        kind: ResourceKind,
        template: &str,
        ctx: &IncidentContext,
    ) -> ProviderResult<Created>;
    /// Re-renders the document's template with the incident as it is now.
    async fn update(&self, external_id: &str, ctx: &IncidentContext) -> ProviderResult<()>;
    /// Makes the document read-only (on close) or writable again (on re-open).
    async fn set_read_only(&self, external_id: &str, read_only: bool) -> ProviderResult<()>;
}

/// A conversation (channel, room) per incident.
#[async_trait]
pub trait ConversationProvider: Send + Sync {
    /// The provider's slug.
    fn slug(&self) -> &'static str;
    /// Creates (or finds, by `key`) the incident's conversation.
    async fn create(&self, key: &str, ctx: &IncidentContext) -> ProviderResult<Created>;
    /// Sets the topic.
    async fn set_topic(&self, external_id: &str, topic: &str) -> ProviderResult<()>;
    /// Adds or replaces a bookmark.
    async fn bookmark(&self, external_id: &str, title: &str, link: &str) -> ProviderResult<()>;
    /// Adds members (idempotent).
    async fn add_members(&self, external_id: &str, emails: &[String]) -> ProviderResult<()>;
    /// Posts a message; a message with an already used `key` is not posted twice.
    async fn post(
        &self,
        external_id: &str,
        key: Option<&str>,
        message: &RichMessage,
    ) -> ProviderResult<()>;
    /// Archives (true) or un-archives (false) the conversation.
    async fn set_archived(&self, external_id: &str, archived: bool) -> ProviderResult<()>;
}

/// An e-mail to send: plain text, and optionally the same content as HTML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    /// Recipients' addresses.
    pub to: Vec<String>,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body (sent as an alternative to the text).
    pub html: Option<String>,
}

/// Sends e-mail. `key` is the idempotency key: the built-in outbox keeps one message per key,
/// and SMTP derives the `Message-ID` from it, so a retried send is recognisable as the same mail.
#[async_trait]
pub trait EmailProvider: Send + Sync {
    /// The provider's slug, recorded with each mail in the outbox.
    fn slug(&self) -> &'static str;
    /// Sends (or keeps, by `key`) the message.
    async fn send(&self, key: &str, message: &Email) -> ProviderResult<()>;
}

/// One outgoing webhook request, already signed (see [`crate::webhook`]).
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    /// Where to POST.
    pub url: &'a str,
    /// `webhook-id`: the message id, the same on every attempt.
    pub id: &'a str,
    /// `webhook-timestamp`: this attempt's Unix time in seconds.
    pub timestamp: i64,
    /// `webhook-signature`: `v1,<base64>`.
    pub signature: &'a str,
    /// The JSON body, exactly as signed.
    pub body: &'a str,
}

/// What a webhook receiver answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookResponse {
    /// The HTTP status.
    pub status: u16,
    /// The start of the response body (for the delivery's last error).
    pub body: String,
}

/// Sends outgoing webhooks. Whether an answer counts as delivered (2xx) is the caller's call.
#[async_trait]
pub trait WebhookProvider: Send + Sync {
    /// The provider's slug.
    fn slug(&self) -> &'static str;
    /// POSTs the request. `Ok` for any HTTP answer (2xx or not); an error when none came
    /// (refused, timed out, TLS failure).
    async fn send(&self, request: &WebhookRequest<'_>) -> ProviderResult<WebhookResponse>;
}

/// The providers a deployment uses, one per capability.
#[derive(Clone)]
pub struct Providers {
    /// Tickets.
    pub ticket: std::sync::Arc<dyn ResourceProvider>,
    /// Storage folders.
    pub storage: std::sync::Arc<dyn ResourceProvider>,
    /// Conference bridges.
    pub conference: std::sync::Arc<dyn ResourceProvider>,
    /// Documents (incident, review, executive).
    pub document: std::sync::Arc<dyn DocumentProvider>,
    /// The incident conversation.
    pub conversation: std::sync::Arc<dyn ConversationProvider>,
    /// E-mail (the built-in outbox, or SMTP).
    pub email: std::sync::Arc<dyn EmailProvider>,
    /// Outgoing webhooks.
    pub webhook: std::sync::Arc<dyn WebhookProvider>,
}
