//! Typed ids: one newtype per entity so an incident id can never be passed where a task id is
//! expected. They are database row ids (64-bit integers) on the wire and in storage.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! typed_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<i64> for $name {
            fn from(v: i64) -> Self {
                Self(v)
            }
        }

        impl From<$name> for i64 {
            fn from(v: $name) -> i64 {
                v.0
            }
        }
    )*};
}

typed_id!(
    /// A project: a scope with its own taxonomies, directory and rules.
    ProjectId,
    /// An incident.
    IncidentId,
    /// An incident type (taxonomy entry).
    IncidentTypeId,
    /// An incident priority (taxonomy entry).
    IncidentPriorityId,
    /// An incident severity (taxonomy entry).
    IncidentSeverityId,
    /// A person in the directory; the e-mail address is the identity.
    IndividualId,
    /// A team in the directory.
    TeamId,
    /// An on-call service in the directory.
    ServiceId,
    /// A person's participation in one incident.
    ParticipantId,
    /// One role held by a participant over a time span.
    ParticipantRoleId,
    /// A task (action item).
    TaskId,
    /// A tactical or executive report.
    ReportId,
    /// A tag.
    TagId,
    /// A tag type.
    TagTypeId,
    /// A resource created for an incident by a provider.
    ResourceId,
    /// An API token.
    TokenId,
    /// A timeline event.
    EventId,
    /// A durable job.
    JobId,
    /// A user account (a login), as opposed to a person in the directory.
    UserId,
    /// A user's saved view (a named incident filter).
    ViewId,
    /// An automation rule.
    RuleId,
    /// An outgoing webhook subscription.
    WebhookId,
    /// A document kept by the built-in documents provider.
    DocumentId,
    /// A file attached to an incident.
    FileId,
    /// A message in the built-in incident room.
    MessageId,
    /// A page sent to an on-call responder.
    PageId,
    /// A role policy (who fills an incident role by default).
    RolePolicyId,
    /// A signal definition (which alerts make signals, and what they open).
    SignalDefinitionId,
    /// A signal filter (deduplicate or snooze).
    SignalFilterId,
    /// One alert received (a signal instance).
    SignalInstanceId,
    /// A case: a signal being triaged.
    CaseId,
);
