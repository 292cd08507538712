//! The job kinds: one definition each, with its payload. A job's stored kind is the name written
//! here once ([`JobKind::KIND`]); its payload is the struct, serialized as JSON. A stored job whose
//! payload does not decode fails with an error naming the kind and the field ([`Job::decode`]).
//!
//! Transports (Slack, later Matrix and Teams) define their own kinds the same way and register a
//! handler for them with the engine; the scheduler's periodic jobs carry their occurrence.

use crate::message::RichMessage;
use crate::ResourceKind;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A kind of job: its payload type, with the kind's stored name.
pub trait JobKind: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The stored kind.
    const KIND: &'static str;

    /// The incident the job is about (mail may be about none).
    fn incident_id(&self) -> Option<i64>;

    /// Reads a stored payload of this kind; the error names the kind and what is wrong.
    fn decode(payload: &str) -> Result<Self, JobDecodeError> {
        serde_json::from_str(payload).map_err(|e| JobDecodeError {
            kind: Self::KIND.to_string(),
            message: e.to_string(),
        })
    }

    /// The payload as stored.
    fn encode(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a job payload is plain data")
    }
}

/// A stored payload that does not fit its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {kind} job's payload does not decode: {message}")]
pub struct JobDecodeError {
    /// The job's kind.
    pub kind: String,
    /// What is wrong (names the field).
    pub message: String,
}

macro_rules! jobs {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// Every job kind the engine runs, decoded.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Job {
            $($(#[$doc])* $variant($variant),)*
        }

        $(impl JobKind for $variant {
            const KIND: &'static str = $name;
            fn incident_id(&self) -> Option<i64> {
                About::about(self)
            }
        })*

        impl Job {
            /// Every kind's stored name.
            pub const KINDS: &'static [&'static str] = &[$($name),*];

            /// Decodes a stored job: `None` when the kind is not one of these (a transport's
            /// or a periodic job), an error when the payload does not fit the kind.
            pub fn decode(kind: &str, payload: &str) -> Option<Result<Job, JobDecodeError>> {
                match kind {
                    $($name => Some(<$variant as JobKind>::decode(payload).map(Job::$variant)),)*
                    _ => None,
                }
            }

            /// The stored kind.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Job::$variant(_) => $name,)*
                }
            }

            /// The incident the job is about (mail may be about none).
            pub fn incident_id(&self) -> Option<i64> {
                match self {
                    $(Job::$variant(j) => j.incident_id(),)*
                }
            }

            /// The payload as stored.
            pub fn encode(&self) -> serde_json::Value {
                match self {
                    $(Job::$variant(j) => j.encode(),)*
                }
            }
        }
    };
}

jobs! {
    /// Create one resource of the incident, then enqueue the declare saga's next step.
    Provision = "provision",
    /// Set the conversation's topic and bookmarks, invite the people, post the welcome.
    SetupConversation = "setup_conversation",
    /// Bring topic, documents and ticket up to date after a change.
    Refresh = "refresh",
    /// Archive (close) or un-archive (re-open) the conversation and documents.
    Archive = "archive",
    /// Post a message in the incident's conversation once.
    Announce = "announce",
    /// Send one e-mail.
    SendEmail = "send_email",
    /// POST one webhook message to one subscription; the body waits in its delivery row.
    DeliverWebhook = "deliver_webhook",
    /// Page a person through the project's on-call provider.
    Page = "page",
    /// Resolve the incident's pages with the on-call provider that sent them (the incident
    /// became stable or closed).
    ResolvePages = "resolve_pages",
    /// Send one direct message through the project's conversation provider.
    DirectMessage = "direct_message",
    /// Mail the incident's participant group: its provider names the recipients, then one
    /// `send_email` job sends it.
    MailGroup = "mail_group",
    /// Mail a report or a status change to the incident's stakeholders: its notifications
    /// group (and, for reports, the e-mail targets of its notification rules and its
    /// subscribers), one `send_email` job each, threaded per incident.
    MailStakeholders = "mail_stakeholders",
    /// Evaluate the engagement rules against the incident.
    Engage = "engage",
    /// Welcome new participants.
    Welcome = "welcome",
    /// Tell the matching notification targets about a new or changed incident.
    Notify = "notify",
    /// Post a report to one notification rule's conversation target, once per key.
    PostToTarget = "post_to_target",
    /// Post a case's message to its conversation target, or bring its thread up to date: the
    /// message updated in place, what happened since told as one reply.
    SyncCaseThread = "sync_case_thread",
    /// Hand a file attached to the incident to its storage provider (e.g. a page attachment).
    StoreFile = "store_file",
}

/// See [`Job::Provision`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provision {
    /// The incident.
    pub incident_id: i64,
    /// The resource to create.
    pub kind: ResourceKind,
}

/// See [`Job::StoreFile`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreFile {
    /// The incident.
    pub incident_id: i64,
    /// The file.
    pub file_id: i64,
}

/// See [`Job::SetupConversation`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupConversation {
    /// The incident.
    pub incident_id: i64,
}

/// See [`Job::Refresh`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refresh {
    /// The incident.
    pub incident_id: i64,
}

/// See [`Job::Archive`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Archive {
    /// The incident.
    pub incident_id: i64,
    /// Archive (`true`, on close) or un-archive (`false`, on re-open).
    #[serde(default = "yes")]
    pub archive: bool,
}

fn yes() -> bool {
    true
}

/// See [`Job::Announce`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Announce {
    /// The incident.
    pub incident_id: i64,
    /// The text (the fallback of a rich message).
    pub text: String,
    /// Posted once per key.
    pub key: String,
    /// A rich message, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<RichMessage>,
}

/// See [`Job::SendEmail`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendEmail {
    /// The incident the mail is about, if any (its project's provider sends it).
    pub incident_id: Option<i64>,
    /// The mail's idempotency key (the outbox keeps one mail per key).
    pub key: String,
    /// Recipients.
    pub to: Vec<String>,
    /// Subject.
    pub subject: String,
    /// Plain text.
    pub text: String,
    /// HTML, when there is one.
    pub html: Option<String>,
    /// Who the mail is for, checked when it is sent.
    #[serde(default, skip_serializing_if = "Audience::is_people")]
    pub audience: Audience,
    /// The thread the mail belongs to (e.g. `incident:7`); when it is sent, the thread's
    /// first mail to these recipients is its root (see [`crate::provider::Email::thread`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<String>,
    /// The recipient's signed unsubscribe link (see [`crate::provider::Email::unsubscribe`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe: Option<String>,
}

/// Who a mail is for, checked when it is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// People, each of whom must be able to see the incident.
    #[default]
    People,
    /// An incident's stakeholders: like `People`, and only those who have not unsubscribed
    /// from mail about it.
    Stakeholders,
    /// A notification rule's target, about these incidents: sent only while the rule is on
    /// and may still hear of each, and (about an incident) to the addresses that have not
    /// unsubscribed from its mail.
    Rule {
        /// The rule.
        id: i64,
        /// The incidents the mail is about.
        about: Vec<i64>,
    },
}

impl Audience {
    fn is_people(&self) -> bool {
        *self == Audience::People
    }
}

/// See [`Job::DeliverWebhook`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverWebhook {
    /// The incident (none for a case's event).
    #[serde(default)]
    pub incident_id: Option<i64>,
    /// The case, for a case's event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<i64>,
    /// The subscription.
    pub subscription_id: i64,
    /// The message (its delivery row holds the body).
    pub message_id: String,
}

/// See [`Job::SyncCaseThread`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCaseThread {
    /// The case.
    pub case_id: i64,
}

/// See [`Job::Page`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// The incident.
    pub incident_id: i64,
    /// The page record.
    pub page_id: i64,
}

/// See [`Job::ResolvePages`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvePages {
    /// The incident.
    pub incident_id: i64,
}

/// See [`Job::DirectMessage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectMessage {
    /// The incident.
    pub incident_id: i64,
    /// The person.
    pub email: String,
    /// Sent once per key.
    pub key: String,
    /// The text.
    pub text: String,
}

/// See [`Job::MailGroup`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailGroup {
    /// The incident.
    pub incident_id: i64,
    /// Sent once per key.
    pub key: String,
    /// Subject.
    pub subject: String,
    /// Plain text.
    pub text: String,
}

/// See [`Job::MailStakeholders`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailStakeholders {
    /// The incident.
    pub incident_id: i64,
    /// Sent once per key.
    pub key: String,
    /// Subject.
    pub subject: String,
    /// The content, rendered as text and HTML.
    pub message: RichMessage,
    /// Also to the notification rules' e-mail targets and the subscribers (reports; a status
    /// change reaches those through the `notify` job already).
    #[serde(default)]
    pub rules_and_subscribers: bool,
}

/// See [`Job::PostToTarget`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostToTarget {
    /// The incident the message is about.
    pub incident_id: i64,
    /// The notification rule whose target hears it (checked again when it is posted).
    pub rule_id: i64,
    /// Posted once per key.
    pub key: String,
    /// The message.
    pub message: RichMessage,
}

/// See [`Job::Engage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engage {
    /// The incident.
    pub incident_id: i64,
}

/// See [`Job::Welcome`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    /// The incident.
    pub incident_id: i64,
    /// The people to welcome.
    #[serde(default)]
    pub emails: Vec<String>,
    /// Also announce them in the room.
    #[serde(default)]
    pub announce: bool,
    /// Done once per key.
    pub key: String,
}

/// See [`Job::Notify`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notify {
    /// The incident.
    pub incident_id: i64,
    /// A new incident's card, or a change summary.
    pub what: NotifyWhat,
    /// What changed (field → before/after), for `updated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<serde_json::Value>,
    /// Sent once per key.
    pub key: String,
}

/// What a [`Notify`] job tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyWhat {
    /// The card of a new incident.
    Created,
    /// A summary of what changed.
    Updated,
}

/// The incident a payload names.
trait About {
    fn about(&self) -> Option<i64>;
}

macro_rules! about_one_incident {
    ($($t:ident),*) => {
        $(impl About for $t {
            fn about(&self) -> Option<i64> {
                Some(self.incident_id)
            }
        })*
    };
}

about_one_incident!(
    Provision,
    SetupConversation,
    Refresh,
    Archive,
    Announce,
    Page,
    ResolvePages,
    DirectMessage,
    MailGroup,
    MailStakeholders,
    Engage,
    Welcome,
    Notify,
    PostToTarget,
    StoreFile
);

impl About for DeliverWebhook {
    fn about(&self) -> Option<i64> {
        self.incident_id
    }
}

impl About for SyncCaseThread {
    fn about(&self) -> Option<i64> {
        None
    }
}

impl About for SendEmail {
    fn about(&self) -> Option<i64> {
        self.incident_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_as_older_versions_stored_them_still_decode() {
        let j = Job::decode("provision", r#"{"incident_id": 3, "kind": "ticket"}"#)
            .unwrap()
            .unwrap();
        assert_eq!(
            j,
            Job::Provision(Provision {
                incident_id: 3,
                kind: ResourceKind::Ticket
            })
        );
        let j = Job::decode("archive", r#"{"incident_id": 3}"#)
            .unwrap()
            .unwrap();
        assert_eq!(
            j,
            Job::Archive(Archive {
                incident_id: 3,
                archive: true
            }),
            "archive defaults to archiving"
        );
        let j = Job::decode(
            "send_email",
            r#"{"incident_id": null, "key": "k", "to": ["a@example.com"], "subject": "s",
                "text": "t", "html": null,
                "audience": {"rule": {"id": 4, "about": [1, 2]}}}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(j.incident_id(), None);
        let Job::SendEmail(mail) = j else {
            panic!("a mail")
        };
        assert_eq!(
            mail.audience,
            Audience::Rule {
                id: 4,
                about: vec![1, 2]
            }
        );
        let j = Job::decode(
            "notify",
            r#"{"incident_id": 9, "what": "updated", "changes": {"title": {"before": "a", "after": "b"}}, "key": "123"}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(j.kind(), "notify");
        assert_eq!(j.incident_id(), Some(9));
    }

    #[test]
    fn a_payload_that_does_not_fit_names_the_kind_and_the_field() {
        let e = Job::decode("page", r#"{"incident_id": 1}"#)
            .unwrap()
            .unwrap_err();
        assert_eq!(e.kind, "page");
        assert!(e.to_string().contains("page_id"), "{e}");
        let e = Job::decode("provision", r#"{"incident_id": 1, "kind": "spaceship"}"#)
            .unwrap()
            .unwrap_err();
        assert!(
            e.to_string().starts_with("the provision job's payload"),
            "{e}"
        );
        assert!(
            Job::decode("slack_event", "{}").is_none(),
            "not one of these kinds"
        );
    }

    #[test]
    fn what_is_encoded_decodes_to_the_same_job() {
        let jobs = vec![
            Job::Welcome(Welcome {
                incident_id: 1,
                emails: vec!["a@example.com".into()],
                announce: true,
                key: "k".into(),
            }),
            Job::Notify(Notify {
                incident_id: 1,
                what: NotifyWhat::Created,
                changes: None,
                key: "created".into(),
            }),
            Job::ResolvePages(ResolvePages { incident_id: 1 }),
            Job::SyncCaseThread(SyncCaseThread { case_id: 3 }),
            Job::StoreFile(StoreFile {
                incident_id: 1,
                file_id: 7,
            }),
            Job::SendEmail(SendEmail {
                incident_id: Some(1),
                key: "k".into(),
                to: vec!["a@example.com".into()],
                subject: "s".into(),
                text: "t".into(),
                html: None,
                thread: None,
                unsubscribe: None,
                audience: Audience::People,
            }),
        ];
        for j in jobs {
            let payload = j.encode();
            let back = Job::decode(j.kind(), &payload.to_string())
                .unwrap()
                .unwrap();
            assert_eq!(back, j);
        }
        assert_eq!(Job::KINDS.len(), 18);
    }
}
