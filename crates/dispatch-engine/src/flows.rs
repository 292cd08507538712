//! Flows: which jobs a life-cycle change starts. Each flow is a saga of idempotent jobs, each
//! step enqueueing the next in the transaction that records its result, so a crash resumes it
//! where it stopped.

use crate::changes::Events;
use crate::Result;
use chrono::{DateTime, Utc};
use dispatch_core::job::{self, JobKind};
use dispatch_core::provider::Email;
use dispatch_core::ResourceKind;
use dispatch_core::{IncidentId, RuleId, WebhookId};
use dispatch_store::repo;
use dispatch_store::repo::job::NewJob;
use dispatch_store::Conn;

/// The declare saga's resources, in order: each is created after the one before it.
pub const DECLARE_STEPS: &[ResourceKind] = &[
    ResourceKind::Ticket,
    ResourceKind::Group,
    ResourceKind::Storage,
    ResourceKind::Document,
    ResourceKind::Conference,
    ResourceKind::Conversation,
];

/// Sends `text` to one person as a direct message once (by `key`).
pub fn direct_message(
    incident_id: IncidentId,
    email: &str,
    key: &str,
    text: &str,
    at: DateTime<Utc>,
) -> NewJob {
    let incident_id = incident_id.0;
    incident_job(
        job::DirectMessage {
            incident_id,
            email: email.into(),
            key: key.into(),
            text: text.into(),
        },
        Some(key.to_string()),
        at,
    )
}

/// Mails everyone in the incident's participant group once (by `key`).
pub fn mail_group(
    incident_id: IncidentId,
    key: &str,
    subject: &str,
    text: &str,
    at: DateTime<Utc>,
) -> NewJob {
    let incident_id = incident_id.0;
    incident_job(
        job::MailGroup {
            incident_id,
            key: key.into(),
            subject: subject.into(),
            text: text.into(),
        },
        Some(key.to_string()),
        at,
    )
}

/// Mails a report or a status change (`message`) to the incident's stakeholders once (by
/// `key`); with `rules_and_subscribers`, to its notification rules' e-mail targets and its
/// subscribers too.
pub fn mail_stakeholders(
    incident_id: IncidentId,
    key: &str,
    subject: &str,
    message: &dispatch_core::message::RichMessage,
    rules_and_subscribers: bool,
    at: DateTime<Utc>,
) -> NewJob {
    let incident_id = incident_id.0;
    incident_job(
        job::MailStakeholders {
            incident_id,
            key: key.into(),
            subject: subject.into(),
            message: message.clone(),
            rules_and_subscribers,
        },
        Some(key.to_string()),
        at,
    )
}

/// Posts `message` (about the incident) to notification rule `rule_id`'s conversation target,
/// once per `key`.
pub fn post_to_target_job(
    incident_id: IncidentId,
    rule_id: dispatch_core::RuleId,
    key: &str,
    message: &dispatch_core::message::RichMessage,
    at: DateTime<Utc>,
) -> NewJob {
    incident_job(
        job::PostToTarget {
            incident_id: incident_id.0,
            rule_id: rule_id.0,
            key: key.into(),
            message: message.clone(),
        },
        Some(key.to_string()),
        at,
    )
}

/// The thread all stakeholder mail about an incident belongs to.
pub fn incident_thread(incident_id: IncidentId) -> String {
    format!("incident:{}", incident_id.0)
}

/// Posts `text` in the incident's conversation once (by `key`), when it exists.
pub fn announce(incident_id: IncidentId, key: &str, text: &str, at: DateTime<Utc>) -> NewJob {
    let incident_id = incident_id.0;
    incident_job(
        job::Announce {
            incident_id,
            text: text.into(),
            key: key.into(),
            message: None,
        },
        Some(key.to_string()),
        at,
    )
}

/// Posts a rich `message` in the incident's conversation once (by `key`), when it exists.
pub fn announce_message(
    incident_id: IncidentId,
    key: &str,
    message: &dispatch_core::message::RichMessage,
    at: DateTime<Utc>,
) -> NewJob {
    let incident_id = incident_id.0;
    incident_job(
        job::Announce {
            incident_id,
            text: message.text.clone(),
            key: key.into(),
            message: Some(message.clone()),
        },
        Some(key.to_string()),
        at,
    )
}

/// What a new incident commander is reminded of.
pub const COMMANDER_TIPS: &str = "You are the incident commander. Keep the response moving: \
confirm the impact, assign a scribe and a liaison, post a tactical report (conditions, actions, \
needs) at the cadence the priority asks, track actions as tasks, and mark the incident stable \
once the impact is contained.";

/// The job that creates `kind` for the incident.
pub fn provision(incident_id: IncidentId, kind: ResourceKind, at: DateTime<Utc>) -> NewJob {
    let incident_id = incident_id.0;
    new_job(
        &job::Provision { incident_id, kind },
        Some(format!("provision:{incident_id}:{kind}")),
        at,
    )
}

/// A job to enqueue: `payload` names its kind and incident; `key` is its idempotency key (a
/// second job with the same key is ignored).
pub fn new_job<J: JobKind>(payload: &J, key: Option<String>, at: DateTime<Utc>) -> NewJob {
    NewJob {
        kind: J::KIND.into(),
        payload: payload.encode(),
        run_at: at,
        idempotency_key: key,
        incident_id: payload.incident_id(),
    }
}

/// A job about the incident as a whole, once per `unique` (its key is `kind:incident:unique`).
pub fn incident_job<J: JobKind>(payload: J, unique: Option<String>, at: DateTime<Utc>) -> NewJob {
    let incident = payload.incident_id().unwrap_or_default();
    let key = unique.map(|u| format!("{}:{incident}:{u}", J::KIND));
    new_job(&payload, key, at)
}

/// The job that brings the incident's conversation topic, documents and ticket up to date
/// (once per `unique`, when given).
pub fn refresh(incident_id: IncidentId, unique: Option<String>, at: DateTime<Utc>) -> NewJob {
    let incident_id = incident_id.0;
    incident_job(job::Refresh { incident_id }, unique, at)
}

/// The job that hands file `file_id` to the incident's storage provider (once per file).
pub fn store_file(incident_id: IncidentId, file_id: i64, at: DateTime<Utc>) -> NewJob {
    let incident_id = incident_id.0;
    incident_job(
        job::StoreFile {
            incident_id,
            file_id,
        },
        Some(file_id.to_string()),
        at,
    )
}

/// The job that sends `email` once. `key` is the mail's idempotency key (the outbox keeps one
/// mail per key) and makes the job's own, so enqueueing one mail twice queues it once.
pub fn email_job(
    key: &str,
    incident_id: Option<IncidentId>,
    email: &Email,
    at: DateTime<Utc>,
) -> NewJob {
    let incident_id = incident_id.map(|i| i.0);
    mail_job(key, incident_id, email, job::Audience::People, at)
}

fn mail_job(
    key: &str,
    incident_id: Option<i64>,
    email: &Email,
    audience: job::Audience,
    at: DateTime<Utc>,
) -> NewJob {
    let payload = job::SendEmail {
        incident_id,
        key: key.into(),
        to: email.to.clone(),
        subject: email.subject.clone(),
        text: email.text.clone(),
        html: email.html.clone(),
        audience,
        thread: email.thread.clone(),
        unsubscribe: email.unsubscribe.clone(),
    };
    new_job(
        &payload,
        Some(format!("{}:{key}", job::SendEmail::KIND)),
        at,
    )
}

/// [`email_job`] to an incident's stakeholder (a member of its notifications group, a
/// subscriber): sent only if they may hear of the incident and have not unsubscribed from it
/// by then.
pub fn stakeholder_email_job(
    key: &str,
    incident_id: IncidentId,
    email: &Email,
    at: DateTime<Utc>,
) -> NewJob {
    mail_job(
        key,
        Some(incident_id.0),
        email,
        job::Audience::Stakeholders,
        at,
    )
}

/// [`email_job`] to a notification rule's target, addresses that are not people: when it is
/// sent, it goes out only if the rule is still on and may still hear of every incident the mail
/// is `about` (see [`crate::rules::notification::may_hear`]). Other mail about an incident goes
/// to people, each checked when it is sent ([`Access::may_hear`](crate::Access::may_hear)).
pub fn rule_email_job(
    key: &str,
    incident_id: Option<IncidentId>,
    rule_id: RuleId,
    about: &[IncidentId],
    email: &Email,
    at: DateTime<Utc>,
) -> NewJob {
    let incident_id = incident_id.map(|i| i.0);
    let rule_id = rule_id.0;
    let about = about.iter().map(|i| i.0).collect::<Vec<_>>();
    let audience = job::Audience::Rule { id: rule_id, about };
    mail_job(key, incident_id, email, audience, at)
}

/// The job that POSTs one webhook message to one subscription (its body waits in the delivery
/// row), once per subscription and message.
pub fn webhook_job(
    incident_id: IncidentId,
    subscription_id: WebhookId,
    message_id: &str,
    at: DateTime<Utc>,
) -> NewJob {
    delivery_job(Some(incident_id.0), None, subscription_id, message_id, at)
}

/// The job that delivers a case's event (its body waits in the delivery row) to one
/// subscription, once per message.
pub fn case_webhook_job(
    case_id: dispatch_core::CaseId,
    subscription_id: WebhookId,
    message_id: &str,
    at: DateTime<Utc>,
) -> NewJob {
    delivery_job(None, Some(case_id.0), subscription_id, message_id, at)
}

/// A `deliver_webhook` job, once per subscription and message.
fn delivery_job(
    incident_id: Option<i64>,
    case_id: Option<i64>,
    subscription_id: WebhookId,
    message_id: &str,
    at: DateTime<Utc>,
) -> NewJob {
    let subscription_id = subscription_id.0;
    new_job(
        &job::DeliverWebhook {
            incident_id,
            case_id,
            subscription_id,
            message_id: message_id.into(),
        },
        Some(format!(
            "{}:{subscription_id}:{message_id}",
            job::DeliverWebhook::KIND
        )),
        at,
    )
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
    incident_id: IncidentId,
    provider: impl Fn(ResourceKind) -> String,
    at: DateTime<Utc>,
) -> Result<()> {
    let incident_id = incident_id.0;
    repo::resource::add_pending(conn, incident_id, DECLARE_STEPS, provider, at).await?;
    repo::job::enqueue(
        conn,
        vec![provision(
            dispatch_core::IncidentId(incident_id),
            DECLARE_STEPS[0],
            at,
        )],
    )
    .await?;
    Ok(())
}

/// The step after `kind` in the declare saga (the conversation's set-up after the last one).
pub fn next_step(incident_id: IncidentId, kind: ResourceKind, at: DateTime<Utc>) -> Option<NewJob> {
    let incident_id = incident_id.0;
    let i = DECLARE_STEPS.iter().position(|k| *k == kind)?;
    Some(match DECLARE_STEPS.get(i + 1) {
        Some(next) => provision(dispatch_core::IncidentId(incident_id), *next, at),
        None => incident_job(
            job::SetupConversation { incident_id },
            Some("declare".into()),
            at,
        ),
    })
}

/// Stable (or closed without passing stable): the review document, unless the type opts out.
pub(crate) async fn on_stable(
    conn: &impl Conn,
    incident_id: IncidentId,
    exclude_from_review: bool,
    events: &mut Events,
) -> Result<()> {
    let incident_id = incident_id.0;
    if !exclude_from_review {
        let kind = ResourceKind::ReviewDocument;
        repo::resource::add_pending(conn, incident_id, &[kind], pending_provider, events.at())
            .await?;
        events.job(provision(
            dispatch_core::IncidentId(incident_id),
            kind,
            events.at(),
        ));
    }
    // Pages raised with an on-call provider (a PagerDuty incident, an Opsgenie alert) are
    // resolved once the incident is under control.
    if !repo::oncall::pages(conn, None, Some(incident_id), 1)
        .await?
        .is_empty()
    {
        let at = events.at();
        events.job(incident_job(
            job::ResolvePages { incident_id },
            Some(at.timestamp_micros().to_string()),
            at,
        ));
    }
    Ok(())
}
