//! Provider traits: one per capability. The engine's jobs call these; built-in implementations
//! need no account, external ones (Slack, Jira, Google, …) implement the same traits.

use crate::message::RichMessage;
use crate::oncall::Shift;
use crate::{Capability, ResourceKind};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

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
    /// The incident's key figures for its review, (label, value), e.g. ("Time to stable",
    /// "2 h 05 min") — documents only.
    pub metrics: Vec<(String, String)>,
    /// Its response cost so far, formatted ("1,700.00"), once computed — documents only.
    pub cost: Option<String>,
    /// The incident's tags' names.
    pub tags: Vec<String>,
    /// The server's public base URL (for links back to Dispatch).
    pub base_url: String,
    /// The project's settings for the providers that take some.
    pub settings: crate::provider_settings::ProviderSettings,
}

impl IncidentContext {
    /// A channel-style name for the incident's conversation: the key and the title's first
    /// words, lower-case with dashes, at most 60 characters.
    pub fn room_name(&self) -> String {
        let slug = crate::values::Slug::from_name(&format!("{} {}", self.name, self.title));
        slug.as_str()
            .chars()
            .take(60)
            .collect::<String>()
            .trim_end_matches('-')
            .to_string()
    }
}

/// What a provider created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Created {
    /// The provider's id for it.
    pub external_id: String,
    /// Where people open it.
    pub link: Option<String>,
    /// What else people need to use it, by name (e.g. a meeting's `passcode`).
    pub details: BTreeMap<String, String>,
    /// The name the incident should take from now on (a ticket whose key names the incident,
    /// when its project says so); the old name keeps finding it.
    pub incident_name: Option<String>,
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
    /// Winds the resource down when the incident closes (`archive`: e.g. a meeting is
    /// deleted), or back up when it is re-opened; idempotent (default: nothing to do).
    async fn archive(&self, _external_id: &str, _archive: bool) -> ProviderResult<()> {
        Ok(())
    }
    /// Stores a file attached to the incident in the resource (a storage provider: e.g. an
    /// attachment of a page); a file of the same name is replaced, so a retry stores it once
    /// (default: nothing to do — the built-in storage keeps files in the database).
    async fn store_file(&self, _external_id: &str, _file: &StoredFile) -> ProviderResult<()> {
        Ok(())
    }
    /// See [`OnCallProvider::check`].
    async fn check(&self) -> ProviderResult<Option<String>> {
        Ok(None)
    }
}

/// A file attached to an incident, handed to its storage provider.
#[derive(Debug, Clone)]
pub struct StoredFile {
    /// The file name.
    pub name: String,
    /// Its MIME type.
    pub content_type: String,
    /// Its content.
    pub data: Vec<u8>,
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
    /// See [`OnCallProvider::check`].
    async fn check(&self) -> ProviderResult<Option<String>> {
        Ok(None)
    }
}

/// Where a case's message was posted: the provider's channel id and the message's id in it
/// (Slack's channel id and `ts`; the built-in room's target name and message id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadRef {
    /// The channel.
    pub channel: String,
    /// The case's message in it.
    pub ts: String,
}

fn no_case_threads(slug: &str) -> ProviderError {
    ProviderError::new(
        slug,
        "this conversation provider does not post case threads",
    )
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
    /// Adds or replaces several bookmarks (`(title, link)`); one call each unless the provider
    /// can do them at once.
    async fn bookmarks(&self, external_id: &str, marks: &[(String, String)]) -> ProviderResult<()> {
        for (title, link) in marks {
            self.bookmark(external_id, title, link).await?;
        }
        Ok(())
    }
    /// Adds members (idempotent).
    async fn add_members(&self, external_id: &str, emails: &[String]) -> ProviderResult<()>;
    /// Lets the incident commander (by e-mail) moderate the conversation, where the provider
    /// keeps such rights (Matrix power levels); idempotent (default: nothing to do).
    async fn set_commander(&self, _external_id: &str, _email: &str) -> ProviderResult<()> {
        Ok(())
    }
    /// Posts a message; a message with an already used `key` is not posted twice.
    async fn post(
        &self,
        external_id: &str,
        key: Option<&str>,
        message: &RichMessage,
    ) -> ProviderResult<()>;
    /// Archives (true) or un-archives (false) the conversation.
    async fn set_archived(&self, external_id: &str, archived: bool) -> ProviderResult<()>;
    /// Sends a direct message to one person, found by e-mail (a Slack DM, a Matrix direct
    /// room, …); a message with an already used `key` is not sent twice.
    async fn direct_message(
        &self,
        email: &str,
        key: Option<&str>,
        message: &RichMessage,
    ) -> ProviderResult<()>;
    /// Posts case `case_id`'s message in the channel named `channel`, once per `key`; where it
    /// went (a retry answers the first post).
    async fn post_case(
        &self,
        _case_id: i64,
        _channel: &str,
        _key: &str,
        _message: &RichMessage,
    ) -> ProviderResult<ThreadRef> {
        Err(no_case_threads(self.slug()))
    }
    /// Replaces a case's message in place.
    async fn update_case(&self, _thread: &ThreadRef, _message: &RichMessage) -> ProviderResult<()> {
        Err(no_case_threads(self.slug()))
    }
    /// Replies in a case's thread, once per `key`.
    async fn reply_case(
        &self,
        _thread: &ThreadRef,
        _key: &str,
        _message: &RichMessage,
    ) -> ProviderResult<()> {
        Err(no_case_threads(self.slug()))
    }
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
    /// The thread the mail belongs to, named by the key of its root, the thread's first mail:
    /// providers that thread (SMTP) send any other mail of it `In-Reply-To` and `References`
    /// the `Message-ID` that key gives ([`crate::email::message_id`]), so mail clients show an
    /// incident's mail as one thread. The root itself (sent with that key) answers nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<String>,
    /// Where the recipient stops this mail with one click (a signed link): sent as
    /// `List-Unsubscribe` with `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe: Option<String>,
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

/// An on-call service as on-call providers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnCallService {
    /// Dispatch's id of the service.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The on-call provider's id for it (a PagerDuty service id, …); `None` for Dispatch's own.
    pub external_id: Option<String>,
}

/// A page to send: someone is needed on an incident.
#[derive(Debug, Clone)]
pub struct PageRequest {
    /// Dispatch's page id (the idempotency key of the provider's call).
    pub page_id: i64,
    /// The person paged.
    pub email: String,
    /// The service they are on call for, if any.
    pub service: Option<OnCallService>,
    /// Why (shown in the page).
    pub reason: String,
    /// Where to open the incident.
    pub link: String,
    /// The incident's key, e.g. `INC-7`: the vendor's deduplication key (PagerDuty's
    /// `dedup_key`, Opsgenie's `alias`), so a retried or repeated page reaches one alert.
    pub incident: String,
    /// The incident's title.
    pub title: String,
}

/// On-call schedules: who is on call for a service, who is next, and paging them. Dispatch's
/// own rotations, PagerDuty, Opsgenie, …
///
/// Declarations ask [`OnCallProvider::on_call`] before their write transaction opens, so an
/// external provider's network call never holds it.
#[async_trait]
pub trait OnCallProvider: Send + Sync {
    /// The provider's slug.
    fn slug(&self) -> &'static str;
    /// Who is on call for `service` at `at`; `None` when the service has no schedule here.
    async fn on_call(
        &self,
        service: &OnCallService,
        at: DateTime<Utc>,
    ) -> ProviderResult<Option<Shift>>;
    /// Who takes over after the shift that holds at `at`.
    async fn next(
        &self,
        service: &OnCallService,
        at: DateTime<Utc>,
    ) -> ProviderResult<Option<Shift>>;
    /// Pages the person. Returns the provider's id for the page, when it keeps one (a PagerDuty
    /// incident); Dispatch's own pages are its page records, so the built-in returns `None`.
    /// Dispatch also tells the person by e-mail and direct message, whatever the provider.
    async fn page(&self, page: &PageRequest) -> ProviderResult<Option<String>>;
    /// Resolves what [`OnCallProvider::page`] raised (the incident became stable or closed);
    /// idempotent. Dispatch's own pages need nothing, so the default does nothing.
    async fn resolve(&self, _page: &PageRequest) -> ProviderResult<()> {
        Ok(())
    }
    /// Checks the address and credentials with a cheap authenticated call to the vendor: what
    /// works, in words (`Some`), or an error saying what is wrong and which setting to look at.
    /// `None` when there is nothing to check (the built-ins); the default.
    async fn check(&self) -> ProviderResult<Option<String>> {
        Ok(None)
    }
}

/// A person as the contact directory knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// E-mail address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Job title.
    pub title: Option<String>,
    /// Team.
    pub team: Option<String>,
    /// Link to their profile.
    pub weblink: Option<String>,
}

/// The contact directory: Dispatch's individuals, Slack profiles, LDAP, …
#[async_trait]
pub trait ContactProvider: Send + Sync {
    /// The provider's slug.
    fn slug(&self) -> &'static str;
    /// The person with this e-mail address, if the directory knows them.
    async fn lookup(&self, email: &str) -> ProviderResult<Option<Contact>>;
}

/// Participant groups: one per incident (its responders), used to reach everyone at once and to
/// share resources with. Dispatch's own groups, Google Groups, …
#[async_trait]
pub trait ParticipantGroupProvider: Send + Sync {
    /// The provider's slug.
    fn slug(&self) -> &'static str;
    /// Creates (or finds, by `key`) a group called `name`; the link is its address or page.
    async fn create(&self, key: &str, name: &str, ctx: &IncidentContext)
        -> ProviderResult<Created>;
    /// The members' e-mail addresses.
    async fn members(&self, external_id: &str) -> ProviderResult<Vec<String>>;
    /// Adds members (idempotent).
    async fn add_members(&self, external_id: &str, emails: &[String]) -> ProviderResult<()>;
    /// Removes members (idempotent).
    async fn remove_members(&self, external_id: &str, emails: &[String]) -> ProviderResult<()>;
    /// Where mail to the group goes: the group's own address when the provider delivers to its
    /// members (Google Groups), else the members' addresses.
    async fn mail_recipients(&self, external_id: &str) -> ProviderResult<Vec<String>>;
    /// Winds the group down when the incident closes (`archive`), or back up when it is
    /// re-opened; idempotent (default: the group is kept as it is).
    async fn archive(&self, _external_id: &str, _archive: bool) -> ProviderResult<()> {
        Ok(())
    }
    /// See [`OnCallProvider::check`].
    async fn check(&self) -> ProviderResult<Option<String>> {
        Ok(None)
    }
}

/// The built-in providers that keep their state in Dispatch's own database (documents, the
/// incident room, the mail outbox, on-call rotations, the directory, participant groups). The
/// store implements them; the provider set is assembled from these and the stateless ones.
#[derive(Clone)]
pub struct StoreBacked {
    /// Markdown documents.
    pub document: Arc<dyn DocumentProvider>,
    /// The incident room.
    pub conversation: Arc<dyn ConversationProvider>,
    /// The mail outbox (mail kept for reading in the UI).
    pub outbox: Arc<dyn EmailProvider>,
    /// On-call rotations.
    pub oncall: Arc<dyn OnCallProvider>,
    /// The contact directory (individuals).
    pub contact: Arc<dyn ContactProvider>,
    /// Participant groups.
    pub group: Arc<dyn ParticipantGroupProvider>,
    /// What chat providers remember between calls.
    pub chat_memory: Arc<dyn ChatMemory>,
}

/// What a chat provider remembers between calls, so a retried job never posts twice and a
/// person's chat id is looked up once: chat user ids by e-mail, and the posts made under a key.
#[async_trait]
pub trait ChatMemory: Send + Sync {
    /// The chat user id remembered for `email` (lower-case).
    async fn user_id(&self, email: &str) -> ProviderResult<Option<String>>;
    /// Remembers a chat user.
    async fn remember_user(&self, id: &str, email: &str, name: &str) -> ProviderResult<()>;
    /// The id (timestamp) of the message posted under `key`, if one was.
    async fn posted(&self, key: &str) -> ProviderResult<Option<String>>;
    /// Remembers the message posted under `key` in `channel`.
    async fn remember_post(&self, key: &str, channel: &str, id: &str) -> ProviderResult<()>;
}

/// The providers one project uses, one per capability (see [`ProviderRegistry::select`]).
#[derive(Clone)]
pub struct Providers {
    /// Tickets.
    pub ticket: Arc<dyn ResourceProvider>,
    /// Storage folders.
    pub storage: Arc<dyn ResourceProvider>,
    /// Conference bridges.
    pub conference: Arc<dyn ResourceProvider>,
    /// Documents (incident, review, executive).
    pub document: Arc<dyn DocumentProvider>,
    /// The incident conversation.
    pub conversation: Arc<dyn ConversationProvider>,
    /// E-mail (the built-in outbox, or SMTP).
    pub email: Arc<dyn EmailProvider>,
    /// Outgoing webhooks.
    pub webhook: Arc<dyn WebhookProvider>,
    /// On-call schedules and paging.
    pub oncall: Arc<dyn OnCallProvider>,
    /// The contact directory.
    pub contact: Arc<dyn ContactProvider>,
    /// Participant groups.
    pub group: Arc<dyn ParticipantGroupProvider>,
}

/// A provider's slug, whatever its capability (lets one registry type hold every trait).
pub trait Named {
    /// The provider's slug.
    fn provider_slug(&self) -> &'static str;
}

macro_rules! named {
    ($($t:ident),*) => {$(
        impl Named for dyn $t {
            fn provider_slug(&self) -> &'static str {
                self.slug()
            }
        }
    )*};
}
named!(
    ResourceProvider,
    DocumentProvider,
    ConversationProvider,
    EmailProvider,
    WebhookProvider,
    OnCallProvider,
    ContactProvider,
    ParticipantGroupProvider
);

/// The implementations of one capability, by slug, and the default one.
pub struct Choices<T: ?Sized> {
    by_slug: BTreeMap<&'static str, Arc<T>>,
    default: Option<&'static str>,
}

impl<T: ?Sized> Default for Choices<T> {
    fn default() -> Self {
        Self {
            by_slug: BTreeMap::new(),
            default: None,
        }
    }
}

impl<T: ?Sized> Clone for Choices<T> {
    fn clone(&self) -> Self {
        Self {
            by_slug: self.by_slug.clone(),
            default: self.default,
        }
    }
}

impl<T: ?Sized + Named> Choices<T> {
    /// Adds an implementation (replacing one with the same slug); the first one added is the
    /// default until [`Choices::set_default`] says otherwise.
    pub fn add(&mut self, provider: Arc<T>) -> &mut Self {
        let slug = provider.provider_slug();
        self.by_slug.insert(slug, provider);
        self.default.get_or_insert(slug);
        self
    }

    /// Makes `slug` the default; an error naming the known slugs when there is none such.
    pub fn set_default(&mut self, slug: &str) -> Result<(), String> {
        let found = self.find(slug)?;
        self.default = Some(found.provider_slug());
        Ok(())
    }

    /// The implementation called `slug`.
    pub fn find(&self, slug: &str) -> Result<&Arc<T>, String> {
        let slug = slug.trim();
        self.by_slug.get(slug).ok_or_else(|| {
            format!(
                "unknown provider {slug:?}; known: {}",
                self.slugs().join(", ")
            )
        })
    }

    /// The default implementation.
    pub fn default_provider(&self) -> Option<&Arc<T>> {
        self.default.and_then(|s| self.by_slug.get(s))
    }

    /// Every slug, sorted.
    pub fn slugs(&self) -> Vec<&'static str> {
        self.by_slug.keys().copied().collect()
    }

    /// The default's slug.
    pub fn default_slug(&self) -> Option<&'static str> {
        self.default
    }

    /// `chosen` if given, else the default.
    fn pick(&self, capability: Capability, chosen: Option<&str>) -> ProviderResult<Arc<T>> {
        match chosen {
            Some(slug) => self.find(slug).cloned().map_err(|e| {
                ProviderError::new(capability.as_str(), format!("the project's choice: {e}"))
            }),
            None => self
                .default_provider()
                .cloned()
                .ok_or_else(|| ProviderError::new(capability.as_str(), "no provider configured")),
        }
    }
}

/// A project's own choices: capability → provider slug. Capabilities it does not name use the
/// server's defaults.
pub type Selection = BTreeMap<Capability, String>;

/// Every provider a server has, several per capability, with a default for each. Projects pick
/// among them ([`ProviderRegistry::select`]); new providers (Slack, Jira, PagerDuty, Google, …)
/// are added here and need no engine change.
#[derive(Clone, Default)]
pub struct ProviderRegistry {
    /// Tickets.
    pub ticket: Choices<dyn ResourceProvider>,
    /// Storage folders.
    pub storage: Choices<dyn ResourceProvider>,
    /// Conference bridges.
    pub conference: Choices<dyn ResourceProvider>,
    /// Documents.
    pub document: Choices<dyn DocumentProvider>,
    /// Conversations and direct messages.
    pub conversation: Choices<dyn ConversationProvider>,
    /// E-mail.
    pub email: Choices<dyn EmailProvider>,
    /// Outgoing webhooks.
    pub webhook: Choices<dyn WebhookProvider>,
    /// On-call.
    pub oncall: Choices<dyn OnCallProvider>,
    /// The contact directory.
    pub contact: Choices<dyn ContactProvider>,
    /// Participant groups.
    pub group: Choices<dyn ParticipantGroupProvider>,
}

impl ProviderRegistry {
    /// A registry holding exactly these providers, each its capability's default.
    pub fn single(p: Providers) -> Self {
        let mut r = Self::default();
        r.add_all(p);
        r
    }

    /// Adds every provider of `p` (the defaults stay as they were).
    pub fn add_all(&mut self, p: Providers) -> &mut Self {
        self.ticket.add(p.ticket);
        self.storage.add(p.storage);
        self.conference.add(p.conference);
        self.document.add(p.document);
        self.conversation.add(p.conversation);
        self.email.add(p.email);
        self.webhook.add(p.webhook);
        self.oncall.add(p.oncall);
        self.contact.add(p.contact);
        self.group.add(p.group);
        self
    }

    /// Makes `slug` the default for `capability`.
    pub fn set_default(&mut self, capability: Capability, slug: &str) -> Result<(), String> {
        match capability {
            Capability::Ticket => self.ticket.set_default(slug),
            Capability::Storage => self.storage.set_default(slug),
            Capability::Conference => self.conference.set_default(slug),
            Capability::Document => self.document.set_default(slug),
            Capability::Conversation => self.conversation.set_default(slug),
            Capability::Email => self.email.set_default(slug),
            Capability::Webhook => self.webhook.set_default(slug),
            Capability::Oncall => self.oncall.set_default(slug),
            Capability::Contact => self.contact.set_default(slug),
            Capability::Group => self.group.set_default(slug),
        }
    }

    /// The slugs available for `capability` and its default.
    pub fn available(&self, capability: Capability) -> (Vec<&'static str>, Option<&'static str>) {
        fn of<T: ?Sized + Named>(c: &Choices<T>) -> (Vec<&'static str>, Option<&'static str>) {
            (c.slugs(), c.default_slug())
        }
        match capability {
            Capability::Ticket => of(&self.ticket),
            Capability::Storage => of(&self.storage),
            Capability::Conference => of(&self.conference),
            Capability::Document => of(&self.document),
            Capability::Conversation => of(&self.conversation),
            Capability::Email => of(&self.email),
            Capability::Webhook => of(&self.webhook),
            Capability::Oncall => of(&self.oncall),
            Capability::Contact => of(&self.contact),
            Capability::Group => of(&self.group),
        }
    }

    /// Checks a project's choice of `slug` for `capability`: an error naming the known slugs.
    pub fn check(&self, capability: Capability, slug: &str) -> Result<&'static str, String> {
        let (known, _) = self.available(capability);
        known
            .iter()
            .find(|k| **k == slug.trim())
            .copied()
            .ok_or_else(|| {
                format!(
                    "unknown {capability} provider {:?}; known: {}",
                    slug.trim(),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )
            })
    }

    /// The slug a project with `selection` uses for `capability` (`None` when the server has no
    /// provider for it).
    pub fn slug_for(&self, capability: Capability, selection: &Selection) -> Option<&'static str> {
        let (known, default) = self.available(capability);
        match selection.get(&capability) {
            Some(s) => known.iter().find(|k| **k == s.as_str()).copied(),
            None => default,
        }
    }

    /// Runs the check of provider `slug` of `capability` (see [`OnCallProvider::check`]):
    /// `None` when the server has no such provider; `Ok(None)` when it has nothing to check.
    pub async fn check_provider(
        &self,
        capability: Capability,
        slug: &str,
    ) -> Option<ProviderResult<Option<String>>> {
        Some(match capability {
            Capability::Ticket => self.ticket.find(slug).ok()?.check().await,
            Capability::Storage => self.storage.find(slug).ok()?.check().await,
            Capability::Conference => self.conference.find(slug).ok()?.check().await,
            Capability::Oncall => self.oncall.find(slug).ok()?.check().await,
            Capability::Document => self.document.find(slug).ok()?.check().await,
            Capability::Group => self.group.find(slug).ok()?.check().await,
            _ => Ok(None),
        })
    }

    /// The providers of a project with these choices. An error when a choice names a provider
    /// this server does not have (the job that asked is retried, and shows the error).
    pub fn select(&self, selection: &Selection) -> ProviderResult<Providers> {
        let c = |k: Capability| selection.get(&k).map(String::as_str);
        Ok(Providers {
            ticket: self
                .ticket
                .pick(Capability::Ticket, c(Capability::Ticket))?,
            storage: self
                .storage
                .pick(Capability::Storage, c(Capability::Storage))?,
            conference: self
                .conference
                .pick(Capability::Conference, c(Capability::Conference))?,
            document: self
                .document
                .pick(Capability::Document, c(Capability::Document))?,
            conversation: self
                .conversation
                .pick(Capability::Conversation, c(Capability::Conversation))?,
            email: self.email.pick(Capability::Email, c(Capability::Email))?,
            webhook: self
                .webhook
                .pick(Capability::Webhook, c(Capability::Webhook))?,
            oncall: self
                .oncall
                .pick(Capability::Oncall, c(Capability::Oncall))?,
            contact: self
                .contact
                .pick(Capability::Contact, c(Capability::Contact))?,
            group: self.group.pick(Capability::Group, c(Capability::Group))?,
        })
    }
}

/// Parses a stored or submitted selection (a JSON object of capability → slug). Every bad
/// entry is reported under `providers.<capability>`.
pub fn parse_selection(
    registry: &ProviderRegistry,
    value: &serde_json::Value,
    errors: &mut crate::ValidationError,
) -> Selection {
    let mut out = Selection::new();
    let Some(map) = value.as_object() else {
        errors.push(
            "providers",
            "must be an object of capability: provider slug",
        );
        return out;
    };
    for (k, v) in map {
        let field = format!("providers.{k}");
        let Ok(cap) = k.parse::<Capability>() else {
            errors.push(
                &field,
                format!(
                    "unknown capability {k:?}; known: {}",
                    Capability::NAMES.join(", ")
                ),
            );
            continue;
        };
        match v.as_str() {
            Some(slug) => match registry.check(cap, slug) {
                Ok(s) => {
                    out.insert(cap, s.to_string());
                }
                Err(e) => errors.push(&field, e),
            },
            None => errors.push(&field, "must be a provider slug"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Mail(&'static str);

    #[async_trait]
    impl EmailProvider for Mail {
        fn slug(&self) -> &'static str {
            self.0
        }
        async fn send(&self, _key: &str, _message: &Email) -> ProviderResult<()> {
            Ok(())
        }
    }

    fn registry() -> ProviderRegistry {
        let mut r = ProviderRegistry::default();
        r.email
            .add(Arc::new(Mail("outbox")))
            .add(Arc::new(Mail("smtp")));
        r
    }

    #[test]
    fn the_first_provider_added_is_the_default_until_another_is_named() {
        let mut r = registry();
        assert_eq!(
            r.available(Capability::Email),
            (vec!["outbox", "smtp"], Some("outbox"))
        );
        r.set_default(Capability::Email, "smtp").unwrap();
        assert_eq!(
            r.slug_for(Capability::Email, &Selection::new()),
            Some("smtp")
        );
        let e = r.set_default(Capability::Email, "sendgrid").unwrap_err();
        assert!(
            e.contains("\"sendgrid\"") && e.contains("outbox, smtp"),
            "{e}"
        );
        assert_eq!(r.available(Capability::Ticket), (vec![], None));
    }

    #[test]
    fn a_projects_choice_wins_over_the_default() {
        let r = registry();
        let chosen: Selection = [(Capability::Email, "smtp".to_string())].into();
        assert_eq!(r.slug_for(Capability::Email, &chosen), Some("smtp"));
        let gone: Selection = [(Capability::Email, "sendgrid".to_string())].into();
        assert_eq!(r.slug_for(Capability::Email, &gone), None);
        assert!(r.email.pick(Capability::Email, Some("smtp")).is_ok());
        let e = r
            .email
            .pick(Capability::Email, Some("sendgrid"))
            .err()
            .unwrap();
        assert_eq!(e.provider, "email");
        // Other capabilities have no provider here, so a whole selection fails on them.
        let e = r.select(&chosen).err().unwrap();
        assert_eq!(
            (e.provider.as_str(), e.message.as_str()),
            ("ticket", "no provider configured")
        );
    }

    #[test]
    fn a_selection_is_checked_entry_by_entry() {
        let r = registry();
        let mut errors = crate::ValidationError::default();
        let v =
            serde_json::json!({"email": "smtp", "chat": "x", "ticket": "jira", "conversation": 1});
        let s = parse_selection(&r, &v, &mut errors);
        assert_eq!(s, [(Capability::Email, "smtp".to_string())].into());
        let mut fields: Vec<_> = errors.fields.iter().map(|f| f.field.as_str()).collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "providers.chat",
                "providers.conversation",
                "providers.ticket"
            ]
        );
        let mut errors = crate::ValidationError::default();
        parse_selection(&r, &serde_json::json!(["smtp"]), &mut errors);
        assert_eq!(errors.fields[0].field, "providers");
    }
}
