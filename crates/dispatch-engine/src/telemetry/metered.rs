//! Every provider call, timed: the registry's providers are wrapped once, when the engine is
//! built ([`metered`]), so each call — from a job, a declaration (on-call) or a look-up — records
//! its latency and, when it fails, an error, labelled with the provider's slug, its capability
//! and the operation.

use super::{PROVIDER_DURATION, PROVIDER_ERRORS};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dispatch_core::message::RichMessage;
use dispatch_core::oncall::Shift;
use dispatch_core::provider::{
    Choices, Contact, ContactProvider, ConversationProvider, Created, DocumentProvider, Email,
    EmailProvider, IncidentContext, Named, OnCallProvider, OnCallService, PageRequest,
    ParticipantGroupProvider, ProviderRegistry, ProviderResult, ResourceProvider, StoredFile,
    ThreadRef, WebhookProvider, WebhookRequest, WebhookResponse,
};
use dispatch_core::{Capability, ResourceKind};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

/// A provider whose calls are timed and counted.
struct Metered<T: ?Sized> {
    inner: Arc<T>,
    capability: &'static str,
}

impl<T: ?Sized + Named> Metered<T> {
    /// Runs one call of the provider, recording its latency and whether it failed.
    async fn call<R>(
        &self,
        operation: &'static str,
        call: impl Future<Output = ProviderResult<R>>,
    ) -> ProviderResult<R> {
        let start = Instant::now();
        let result = call.await;
        let provider = self.inner.provider_slug();
        metrics::histogram!(
            PROVIDER_DURATION,
            "provider" => provider,
            "capability" => self.capability,
            "operation" => operation,
        )
        .record(start.elapsed().as_secs_f64());
        if result.is_err() {
            metrics::counter!(
                PROVIDER_ERRORS,
                "provider" => provider,
                "capability" => self.capability,
                "operation" => operation,
            )
            .increment(1);
        }
        result
    }
}

/// The same registry with every provider wrapped in a [`Metered`] (the defaults unchanged).
pub(crate) fn metered(r: ProviderRegistry) -> ProviderRegistry {
    fn wrap<T: ?Sized + Named>(
        c: &Choices<T>,
        capability: Capability,
        meter: impl Fn(Arc<T>, &'static str) -> Arc<T>,
    ) -> Choices<T> {
        let mut out = Choices::default();
        for slug in c.slugs() {
            if let Ok(p) = c.find(slug) {
                out.add(meter(p.clone(), capability.as_str()));
            }
        }
        if let Some(d) = c.default_slug() {
            // The slug was just added, so this cannot fail.
            let _ = out.set_default(d);
        }
        out
    }
    macro_rules! m {
        ($t:ident) => {
            |inner: Arc<dyn $t>, capability| -> Arc<dyn $t> {
                Arc::new(Metered { inner, capability })
            }
        };
    }
    ProviderRegistry {
        ticket: wrap(&r.ticket, Capability::Ticket, m!(ResourceProvider)),
        storage: wrap(&r.storage, Capability::Storage, m!(ResourceProvider)),
        conference: wrap(&r.conference, Capability::Conference, m!(ResourceProvider)),
        document: wrap(&r.document, Capability::Document, m!(DocumentProvider)),
        conversation: wrap(
            &r.conversation,
            Capability::Conversation,
            m!(ConversationProvider),
        ),
        email: wrap(&r.email, Capability::Email, m!(EmailProvider)),
        webhook: wrap(&r.webhook, Capability::Webhook, m!(WebhookProvider)),
        oncall: wrap(&r.oncall, Capability::Oncall, m!(OnCallProvider)),
        contact: wrap(&r.contact, Capability::Contact, m!(ContactProvider)),
        group: wrap(&r.group, Capability::Group, m!(ParticipantGroupProvider)),
    }
}

#[async_trait]
impl ResourceProvider for Metered<dyn ResourceProvider> {
    fn slug(&self) -> &'static str {
        self.inner.slug()
    }
    async fn create(&self, key: &str, ctx: &IncidentContext) -> ProviderResult<Created> {
        self.call("create", self.inner.create(key, ctx)).await
    }
    async fn update(&self, external_id: &str, ctx: &IncidentContext) -> ProviderResult<()> {
        self.call("update", self.inner.update(external_id, ctx))
            .await
    }
    async fn archive(&self, external_id: &str, archive: bool) -> ProviderResult<()> {
        self.call("archive", self.inner.archive(external_id, archive))
            .await
    }
    async fn store_file(&self, external_id: &str, file: &StoredFile) -> ProviderResult<()> {
        self.call("store_file", self.inner.store_file(external_id, file))
            .await
    }
    async fn check(&self) -> ProviderResult<Option<String>> {
        self.call("check", self.inner.check()).await
    }
}

#[async_trait]
impl DocumentProvider for Metered<dyn DocumentProvider> {
    fn slug(&self) -> &'static str {
        self.inner.slug()
    }
    async fn create(
        &self,
        key: &str,
        kind: ResourceKind,
        template: &str,
        ctx: &IncidentContext,
    ) -> ProviderResult<Created> {
        self.call("create", self.inner.create(key, kind, template, ctx))
            .await
    }
    async fn update(&self, external_id: &str, ctx: &IncidentContext) -> ProviderResult<()> {
        self.call("update", self.inner.update(external_id, ctx))
            .await
    }
    async fn set_read_only(&self, external_id: &str, read_only: bool) -> ProviderResult<()> {
        self.call(
            "set_read_only",
            self.inner.set_read_only(external_id, read_only),
        )
        .await
    }
    async fn check(&self) -> ProviderResult<Option<String>> {
        self.call("check", self.inner.check()).await
    }
}

#[async_trait]
impl ConversationProvider for Metered<dyn ConversationProvider> {
    fn slug(&self) -> &'static str {
        self.inner.slug()
    }
    async fn create(&self, key: &str, ctx: &IncidentContext) -> ProviderResult<Created> {
        self.call("create", self.inner.create(key, ctx)).await
    }
    async fn set_topic(&self, external_id: &str, topic: &str) -> ProviderResult<()> {
        self.call("set_topic", self.inner.set_topic(external_id, topic))
            .await
    }
    async fn bookmark(&self, external_id: &str, title: &str, link: &str) -> ProviderResult<()> {
        self.call("bookmark", self.inner.bookmark(external_id, title, link))
            .await
    }
    async fn bookmarks(&self, external_id: &str, marks: &[(String, String)]) -> ProviderResult<()> {
        self.call("bookmarks", self.inner.bookmarks(external_id, marks))
            .await
    }
    async fn add_members(&self, external_id: &str, emails: &[String]) -> ProviderResult<()> {
        self.call("add_members", self.inner.add_members(external_id, emails))
            .await
    }
    async fn set_commander(&self, external_id: &str, email: &str) -> ProviderResult<()> {
        self.call(
            "set_commander",
            self.inner.set_commander(external_id, email),
        )
        .await
    }
    async fn post(
        &self,
        external_id: &str,
        key: Option<&str>,
        message: &RichMessage,
    ) -> ProviderResult<()> {
        self.call("post", self.inner.post(external_id, key, message))
            .await
    }
    async fn set_archived(&self, external_id: &str, archived: bool) -> ProviderResult<()> {
        self.call(
            "set_archived",
            self.inner.set_archived(external_id, archived),
        )
        .await
    }
    async fn direct_message(
        &self,
        email: &str,
        key: Option<&str>,
        message: &RichMessage,
    ) -> ProviderResult<()> {
        self.call(
            "direct_message",
            self.inner.direct_message(email, key, message),
        )
        .await
    }
    async fn post_case(
        &self,
        case_id: i64,
        channel: &str,
        key: &str,
        message: &RichMessage,
    ) -> ProviderResult<ThreadRef> {
        self.call(
            "post_case",
            self.inner.post_case(case_id, channel, key, message),
        )
        .await
    }
    async fn update_case(&self, thread: &ThreadRef, message: &RichMessage) -> ProviderResult<()> {
        self.call("update_case", self.inner.update_case(thread, message))
            .await
    }
    async fn reply_case(
        &self,
        thread: &ThreadRef,
        key: &str,
        message: &RichMessage,
    ) -> ProviderResult<()> {
        self.call("reply_case", self.inner.reply_case(thread, key, message))
            .await
    }
}

#[async_trait]
impl EmailProvider for Metered<dyn EmailProvider> {
    fn slug(&self) -> &'static str {
        self.inner.slug()
    }
    async fn send(&self, key: &str, message: &Email) -> ProviderResult<()> {
        self.call("send", self.inner.send(key, message)).await
    }
}

#[async_trait]
impl WebhookProvider for Metered<dyn WebhookProvider> {
    fn slug(&self) -> &'static str {
        self.inner.slug()
    }
    async fn send(&self, request: &WebhookRequest<'_>) -> ProviderResult<WebhookResponse> {
        self.call("send", self.inner.send(request)).await
    }
}

#[async_trait]
impl OnCallProvider for Metered<dyn OnCallProvider> {
    fn slug(&self) -> &'static str {
        self.inner.slug()
    }
    async fn on_call(
        &self,
        service: &OnCallService,
        at: DateTime<Utc>,
    ) -> ProviderResult<Option<Shift>> {
        self.call("on_call", self.inner.on_call(service, at)).await
    }
    async fn next(
        &self,
        service: &OnCallService,
        at: DateTime<Utc>,
    ) -> ProviderResult<Option<Shift>> {
        self.call("next", self.inner.next(service, at)).await
    }
    async fn page(&self, page: &PageRequest) -> ProviderResult<Option<String>> {
        self.call("page", self.inner.page(page)).await
    }
    async fn resolve(&self, page: &PageRequest) -> ProviderResult<()> {
        self.call("resolve", self.inner.resolve(page)).await
    }
    async fn check(&self) -> ProviderResult<Option<String>> {
        self.call("check", self.inner.check()).await
    }
}

#[async_trait]
impl ContactProvider for Metered<dyn ContactProvider> {
    fn slug(&self) -> &'static str {
        self.inner.slug()
    }
    async fn lookup(&self, email: &str) -> ProviderResult<Option<Contact>> {
        self.call("lookup", self.inner.lookup(email)).await
    }
}

#[async_trait]
impl ParticipantGroupProvider for Metered<dyn ParticipantGroupProvider> {
    fn slug(&self) -> &'static str {
        self.inner.slug()
    }
    async fn create(
        &self,
        key: &str,
        name: &str,
        ctx: &IncidentContext,
    ) -> ProviderResult<Created> {
        self.call("create", self.inner.create(key, name, ctx)).await
    }
    async fn members(&self, external_id: &str) -> ProviderResult<Vec<String>> {
        self.call("members", self.inner.members(external_id)).await
    }
    async fn add_members(&self, external_id: &str, emails: &[String]) -> ProviderResult<()> {
        self.call("add_members", self.inner.add_members(external_id, emails))
            .await
    }
    async fn remove_members(&self, external_id: &str, emails: &[String]) -> ProviderResult<()> {
        self.call(
            "remove_members",
            self.inner.remove_members(external_id, emails),
        )
        .await
    }
    async fn mail_recipients(&self, external_id: &str) -> ProviderResult<Vec<String>> {
        self.call("mail_recipients", self.inner.mail_recipients(external_id))
            .await
    }
    async fn archive(&self, external_id: &str, archive: bool) -> ProviderResult<()> {
        self.call("archive", self.inner.archive(external_id, archive))
            .await
    }
    async fn check(&self) -> ProviderResult<Option<String>> {
        self.call("check", self.inner.check()).await
    }
}
