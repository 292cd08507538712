//! The closed sets of the domain. Each is stored and sent as a stable snake_case string.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A value outside a closed set; names the values that are allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of: {}", .allowed.join(", "))]
pub struct UnknownVariant {
    /// The values that would have been accepted.
    pub allowed: &'static [&'static str],
}

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $s:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant),* }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            /// Every value's wire name.
            pub const NAMES: &'static [&'static str] = &[$($s),*];

            /// The stable wire and storage name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let s = s.trim();
                $(if s.eq_ignore_ascii_case($s) { return Ok($name::$variant); })*
                Err(UnknownVariant { allowed: Self::NAMES })
            }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// Where an incident is in its life cycle.
    IncidentStatus {
        /// Being worked on.
        Active => "active",
        /// The impact is contained; the review is under way.
        Stable => "stable",
        /// Done.
        Closed => "closed",
    }
);

string_enum!(
    /// Who may see an incident.
    Visibility {
        /// Everyone in the deployment.
        Open => "open",
        /// Only participants and admins.
        Restricted => "restricted",
    }
);

string_enum!(
    /// What an incident's group is for.
    GroupPurpose {
        /// The incident's people: kept in step with who holds a role in it.
        Tactical => "tactical",
        /// Its stakeholders, people and plain addresses, edited by hand: they receive the
        /// reports and status changes by mail.
        Notifications => "notifications",
    }
);

string_enum!(
    /// A role a participant holds in an incident.
    ParticipantRole {
        /// Runs the response; exactly one is active at a time.
        IncidentCommander => "incident_commander",
        /// Reported the incident.
        Reporter => "reporter",
        /// Keeps the record.
        Scribe => "scribe",
        /// Talks to stakeholders.
        Liaison => "liaison",
        /// Works on the incident.
        Participant => "participant",
        /// Follows the incident.
        Observer => "observer",
    }
);

string_enum!(
    /// Whether a task is still to do.
    TaskStatus {
        /// Still to do.
        Open => "open",
        /// Done.
        Resolved => "resolved",
    }
);

string_enum!(
    /// How urgent a task is.
    TaskPriority {
        /// Can wait.
        Low => "low",
        /// Normal.
        Medium => "medium",
        /// Urgent.
        High => "high",
    }
);

string_enum!(
    /// The two kinds of status report.
    ReportKind {
        /// Conditions, actions, needs — for responders.
        Tactical => "tactical",
        /// Current status, overview, next steps — for stakeholders.
        Executive => "executive",
    }
);

string_enum!(
    /// What a provider created for an incident.
    ResourceKind {
        /// A ticket (e.g. the incident key or a Jira issue).
        Ticket => "ticket",
        /// A storage folder.
        Storage => "storage",
        /// The incident document.
        Document => "document",
        /// The post-incident review document.
        ReviewDocument => "review_document",
        /// The executive report document.
        ExecutiveDocument => "executive_document",
        /// A conference bridge.
        Conference => "conference",
        /// The incident's conversation (channel / room).
        Conversation => "conversation",
        /// A participant group (e.g. notifications group).
        Group => "group",
    }
);

string_enum!(
    /// What providers do for Dispatch. Each capability has one or more named implementations;
    /// a project picks one per capability (else the server's default is used).
    Capability {
        /// Tickets (the incident key, Jira, …).
        Ticket => "ticket",
        /// Storage folders.
        Storage => "storage",
        /// Conference bridges.
        Conference => "conference",
        /// Documents (incident, review, executive).
        Document => "document",
        /// The incident conversation, and direct messages to people.
        Conversation => "conversation",
        /// E-mail.
        Email => "email",
        /// Outgoing webhooks.
        Webhook => "webhook",
        /// On-call: who is on call for a service, who is next, paging.
        Oncall => "oncall",
        /// The contact directory: a person's name, title, team and link by e-mail.
        Contact => "contact",
        /// Participant groups: one per incident, with its members.
        Group => "group",
    }
);

string_enum!(
    /// Where a resource stands.
    ResourceStatus {
        /// Its job has not finished yet.
        Pending => "pending",
        /// It exists and can be used.
        Ready => "ready",
        /// Its job failed; see the last error.
        Failed => "failed",
        /// It was archived when the incident closed.
        Archived => "archived",
    }
);

string_enum!(
    /// Where a durable job stands.
    JobState {
        /// Waiting to run (possibly not before `run_at`).
        Queued => "queued",
        /// Claimed by a worker.
        Running => "running",
        /// Finished successfully.
        Succeeded => "succeeded",
        /// Gave up after the last attempt.
        Failed => "failed",
    }
);

string_enum!(
    /// The way a command reached Dispatch; recorded on every timeline event.
    Transport {
        /// The REST API (including the CLI, which calls it).
        Api => "api",
        /// The web UI.
        Web => "web",
        /// The built-in incident room.
        Room => "room",
        /// Slack.
        Slack => "slack",
        /// Microsoft Teams.
        Teams => "teams",
        /// Matrix.
        Matrix => "matrix",
        /// Dispatch itself (jobs, scheduler, seeding).
        System => "system",
    }
);

string_enum!(
    /// Where a timeline event came from.
    EventSource {
        /// Written by Dispatch as a consequence of a command.
        Dispatch => "dispatch",
        /// Added by a person as a custom entry.
        Custom => "custom",
    }
);

string_enum!(
    /// A person's role in the organization, lowest first: each role may do what the ones below it
    /// may do.
    OrgRole {
        /// Declares and works on incidents; reads configuration.
        Member => "member",
        /// Also changes taxonomies, rules, providers, notifications, webhooks and the directory,
        /// and sees every restricted incident.
        Admin => "admin",
        /// Also creates and changes projects.
        Manager => "manager",
        /// Also manages the deployment: people's roles, accounts and the audit log.
        Owner => "owner",
    }
);

impl OrgRole {
    /// Whether this role includes everything `other` may do.
    pub fn at_least(self, other: OrgRole) -> bool {
        self.rank() >= other.rank()
    }

    fn rank(self) -> u8 {
        match self {
            OrgRole::Member => 0,
            OrgRole::Admin => 1,
            OrgRole::Manager => 2,
            OrgRole::Owner => 3,
        }
    }
}

string_enum!(
    /// A person's role in one project (per-project membership).
    ProjectRole {
        /// Belongs to the project: sees and declares its incidents when it is members-only.
        Member => "member",
        /// Also runs the project's configuration (taxonomies, role policies, engagement and
        /// notification rules, provider selection) and its membership.
        Admin => "admin",
    }
);

string_enum!(
    /// What an API token may be used for, lowest first; a token never exceeds its owner's role.
    TokenScope {
        /// Only reads (`GET`).
        Read => "read",
        /// Reads and the writes any member may make.
        Write => "write",
        /// Everything its owner's role allows, including configuration.
        Admin => "admin",
    }
);

impl TokenScope {
    /// Whether this scope includes `other`.
    pub fn at_least(self, other: TokenScope) -> bool {
        (self as u8) >= (other as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_through_their_names() {
        for r in ParticipantRole::ALL {
            assert_eq!(r.as_str().parse::<ParticipantRole>().unwrap(), *r);
            assert_eq!(
                serde_json::to_string(r).unwrap(),
                format!("\"{}\"", r.as_str())
            );
        }
        assert_eq!(
            "ACTIVE".parse::<IncidentStatus>().unwrap(),
            IncidentStatus::Active
        );
        assert!(OrgRole::Owner.at_least(OrgRole::Manager));
        assert!(OrgRole::Manager.at_least(OrgRole::Admin));
        assert!(!OrgRole::Member.at_least(OrgRole::Admin));
        assert!(TokenScope::Admin.at_least(TokenScope::Write));
        assert!(!TokenScope::Read.at_least(TokenScope::Write));
        let err = "nope".parse::<Visibility>().unwrap_err();
        assert_eq!(err.to_string(), "must be one of: open, restricted");
    }
}
