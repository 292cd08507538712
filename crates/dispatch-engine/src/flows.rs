//! Flows: which jobs a life-cycle change starts. Each flow is a saga of idempotent jobs, each
//! step enqueueing the next in the transaction that records its result, so a crash resumes it
//! where it stopped.

use crate::incident::Events;
use crate::Result;
use chrono::{DateTime, Utc};
use dispatch_core::provider::Email;
use dispatch_core::ResourceKind;
use dispatch_store::repo;
use dispatch_store::repo::job::NewJob;
use dispatch_store::Conn;
use serde_json::json;

/// The declare saga's resources, in order: each is created after the one before it.
pub const DECLARE_STEPS: &[ResourceKind] = &[
    ResourceKind::Ticket,
    ResourceKind::Group,
    ResourceKind::Storage,
    ResourceKind::Document,
    ResourceKind::Conference,
    ResourceKind::Conversation,
];

/// Job kinds.
pub mod kind {
    /// Create one resource (payload: incident_id, kind), then enqueue the saga's next step.
    pub const PROVISION: &str = "provision";
    /// Set the conversation's topic and bookmarks, invite the people, post the welcome.
    pub const SETUP_CONVERSATION: &str = "setup_conversation";
    /// Bring topic, documents and ticket up to date after a change.
    pub const REFRESH: &str = "refresh";
    /// Archive (close) or un-archive (re-open) the conversation and documents.
    pub const ARCHIVE: &str = "archive";
    /// Post a message in the incident's conversation (payload: text, key).
    pub const ANNOUNCE: &str = "announce";
    /// Send one e-mail (payload: incident_id or null, to, subject, text, html, key).
    pub const SEND_EMAIL: &str = "send_email";
    /// POST one webhook message to one subscription (payload: incident_id, subscription_id,
    /// message_id); the body waits in its delivery row.
    pub const DELIVER_WEBHOOK: &str = "deliver_webhook";
    /// Page a person through the project's on-call provider (payload: incident_id, page_id).
    pub const PAGE: &str = "page";
    /// Send one direct message through the project's conversation provider (payload:
    /// incident_id, email, text, key).
    pub const DIRECT_MESSAGE: &str = "direct_message";
    /// Mail the incident's participant group: its provider names the recipients, then one
    /// `send_email` job sends it (payload: incident_id, key, subject, text).
    pub const MAIL_GROUP: &str = "mail_group";
    /// Evaluate the engagement rules against the incident (payload: incident_id).
    pub const ENGAGE: &str = "engage";
    /// Welcome new participants (payload: emails, announce, key).
    pub const WELCOME: &str = "welcome";
    /// Tell the matching notification targets (payload: what, changes, key).
    pub const NOTIFY: &str = "notify";
}

/// Sends `text` to one person as a direct message once (by `key`).
pub fn direct_message(
    incident_id: i64,
    email: &str,
    key: &str,
    text: &str,
    at: DateTime<Utc>,
) -> NewJob {
    incident_job(
        kind::DIRECT_MESSAGE,
        incident_id,
        Some(key.to_string()),
        json!({"email": email, "key": key, "text": text}),
        at,
    )
}

/// Mails everyone in the incident's participant group once (by `key`).
pub fn mail_group(
    incident_id: i64,
    key: &str,
    subject: &str,
    text: &str,
    at: DateTime<Utc>,
) -> NewJob {
    incident_job(
        kind::MAIL_GROUP,
        incident_id,
        Some(key.to_string()),
        json!({"key": key, "subject": subject, "text": text}),
        at,
    )
}

/// Posts `text` in the incident's conversation once (by `key`), when it exists.
pub fn announce(incident_id: i64, key: &str, text: &str, at: DateTime<Utc>) -> NewJob {
    incident_job(
        kind::ANNOUNCE,
        incident_id,
        Some(key.to_string()),
        json!({"text": text, "key": key}),
        at,
    )
}

/// Posts a rich `message` in the incident's conversation once (by `key`), when it exists.
pub fn announce_message(
    incident_id: i64,
    key: &str,
    message: &dispatch_core::message::RichMessage,
    at: DateTime<Utc>,
) -> NewJob {
    incident_job(
        kind::ANNOUNCE,
        incident_id,
        Some(key.to_string()),
        json!({"text": message.text, "key": key, "message": message}),
        at,
    )
}

/// What a new incident commander is reminded of.
pub const COMMANDER_TIPS: &str = "You are the incident commander. Keep the response moving: \
confirm the impact, assign a scribe and a liaison, post a tactical report (conditions, actions, \
needs) at the cadence the priority asks, track actions as tasks, and mark the incident stable \
once the impact is contained.";

/// The job that creates `kind` for the incident.
pub fn provision(incident_id: i64, kind: ResourceKind, at: DateTime<Utc>) -> NewJob {
    NewJob {
        kind: kind::PROVISION.into(),
        payload: json!({"incident_id": incident_id, "kind": kind}),
        run_at: at,
        idempotency_key: Some(format!("provision:{incident_id}:{kind}")),
        incident_id: Some(incident_id),
    }
}

/// A job about the incident as a whole; `unique` makes its idempotency key.
pub fn incident_job(
    kind: &str,
    incident_id: i64,
    unique: Option<String>,
    extra: serde_json::Value,
    at: DateTime<Utc>,
) -> NewJob {
    let mut payload = json!({"incident_id": incident_id});
    if let (Some(p), Some(e)) = (payload.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    NewJob {
        kind: kind.into(),
        payload,
        run_at: at,
        idempotency_key: unique.map(|u| format!("{kind}:{incident_id}:{u}")),
        incident_id: Some(incident_id),
    }
}

/// The job that sends `email` once. `key` is the mail's idempotency key (the outbox keeps one
/// mail per key) and makes the job's own, so enqueueing one mail twice queues it once.
pub fn email_job(key: &str, incident_id: Option<i64>, email: &Email, at: DateTime<Utc>) -> NewJob {
    NewJob {
        kind: kind::SEND_EMAIL.into(),
        payload: json!({
            "incident_id": incident_id,
            "key": key,
            "to": email.to,
            "subject": email.subject,
            "text": email.text,
            "html": email.html,
        }),
        run_at: at,
        idempotency_key: Some(format!("{}:{key}", kind::SEND_EMAIL)),
        incident_id,
    }
}

/// [`email_job`] to a notification rule's target, addresses that are not people: when it is
/// sent, it goes out only if the rule is still on and may still hear of every incident the mail
/// is `about` (see [`crate::rules::notification::may_hear`]). Other mail about an incident goes
/// to people, each checked when it is sent ([`Engine::may_hear`](crate::Engine::may_hear)).
pub fn rule_email_job(
    key: &str,
    incident_id: Option<i64>,
    rule_id: i64,
    about: &[i64],
    email: &Email,
    at: DateTime<Utc>,
) -> NewJob {
    let mut job = email_job(key, incident_id, email, at);
    job.payload["audience"] = json!({"rule": {"id": rule_id, "about": about}});
    job
}

/// The provider slug shown on a pending resource before its job runs.
pub fn pending_provider(kind: ResourceKind) -> String {
    match kind {
        ResourceKind::Ticket => "dispatch-ticket",
        ResourceKind::Storage => "dispatch-storage",
        ResourceKind::Conference => "dispatch-conference",
        ResourceKind::Conversation => "dispatch-room",
        ResourceKind::Group => "dispatch-group",
        _ => "dispatch-document",
    }
    .into()
}

/// Declare: every resource starts `pending` and the saga's first step is queued. The engagement
/// rules are evaluated once the room is set up (see `setup_conversation`), off the saga's path.
pub(crate) async fn start_declare(
    conn: &impl Conn,
    incident_id: i64,
    provider: impl Fn(ResourceKind) -> String,
    at: DateTime<Utc>,
) -> Result<()> {
    repo::resource::add_pending(conn, incident_id, DECLARE_STEPS, provider, at).await?;
    repo::job::enqueue(conn, vec![provision(incident_id, DECLARE_STEPS[0], at)]).await?;
    Ok(())
}

/// The step after `kind` in the declare saga (the conversation's set-up after the last one).
pub fn next_step(incident_id: i64, kind: ResourceKind, at: DateTime<Utc>) -> Option<NewJob> {
    let i = DECLARE_STEPS.iter().position(|k| *k == kind)?;
    Some(match DECLARE_STEPS.get(i + 1) {
        Some(next) => provision(incident_id, *next, at),
        None => incident_job(
            kind::SETUP_CONVERSATION,
            incident_id,
            Some("declare".into()),
            json!({}),
            at,
        ),
    })
}

/// Stable (or closed without passing stable): the review document, unless the type opts out.
pub(crate) async fn on_stable(
    conn: &impl Conn,
    incident_id: i64,
    exclude_from_review: bool,
    events: &mut Events,
) -> Result<()> {
    if !exclude_from_review {
        let kind = ResourceKind::ReviewDocument;
        repo::resource::add_pending(conn, incident_id, &[kind], pending_provider, events.at())
            .await?;
        events.job(provision(incident_id, kind, events.at()));
    }
    Ok(())
}
