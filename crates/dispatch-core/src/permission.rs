//! Who may do what in an incident: one rule per action, the same for every transport (the REST
//! API, the web UI, chat commands from Slack, the built-in room and the commands endpoint).
//!
//! Seeing an incident comes first and is decided elsewhere (the store's visibility predicate: a
//! restricted incident the caller may not see is *not found*). Given that the caller sees it,
//! [`allows`] decides each [`Action`] from their [`Standing`] in it: the roles they hold, whether
//! they command or reported it, and whether they are an admin (of the organization, or of the
//! incident's project). Admins may do everything.

use crate::commands::{UpdateIncident, UpdateTask};
use crate::{OrgRole, ParticipantRole};

/// Who, besides admins, may do an action. Each is a set of standings in the incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Anyone who may see the incident.
    Anyone,
    /// Its participants: anyone holding a role in it (observers too).
    Participants,
    /// Those who keep its record: its commander, scribe and reporter.
    Responders,
    /// Those who run its people: its commander and scribe.
    CommanderOrScribe,
    /// Those who own it: its commander and reporter.
    CommanderOrReporter,
    /// A case's assignee (anyone who may see the case while it has none).
    Assignee,
}

impl Who {
    /// Whether `s` is one of them (admins always are).
    pub fn admits(self, s: &Standing) -> bool {
        if s.admin() {
            return true;
        }
        let (ic, scribe, reporter) = (s.commander(), s.scribe(), s.reporter());
        match self {
            Who::Anyone => true,
            Who::Participants => s.participant(),
            Who::Responders => ic || scribe || reporter,
            Who::CommanderOrScribe => ic || scribe,
            Who::CommanderOrReporter => ic || reporter,
            Who::Assignee => s.assignee,
        }
    }

    /// Who they are, for messages: "the incident commander or the scribe".
    pub fn describe(self) -> &'static str {
        match self {
            Who::Anyone => "anyone who can see the incident",
            Who::Participants => "the incident's participants",
            Who::Responders => "the incident commander, the scribe or the reporter",
            Who::CommanderOrScribe => "the incident commander or the scribe",
            Who::CommanderOrReporter => "the incident commander or the reporter",
            Who::Assignee => "the case's assignee",
        }
    }
}

macro_rules! actions {
    ($($(#[doc = $doc:literal])* $name:ident => $slug:literal, $who:ident;)*) => {
        /// Something a person can do in one incident.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $($(#[doc = $doc])* $name,)*
        }

        impl Action {
            /// Every action, in the order the rule table lists them.
            pub const ALL: &'static [Action] = &[$(Action::$name),*];

            /// Its name in the rule table, e.g. `assign_role`.
            pub fn as_str(self) -> &'static str {
                match self { $(Action::$name => $slug,)* }
            }

            /// Who, besides admins, may do it.
            pub fn who(self) -> Who {
                match self { $(Action::$name => Who::$who,)* }
            }
        }
    };
}

actions! {
    /// Read it and its records: participants, timeline, tasks, reports, documents, files, room,
    /// engagements, subscribers, its summary; run a chat command in it (the command's own action
    /// is then checked).
    View => "view", Anyone;
    /// Post in its room, react to a message, upload a file.
    PostInRoom => "post_in_room", Anyone;
    /// Join it as a participant (the engine also refuses restricted incidents and projects that
    /// disallow self-join).
    Join => "join", Anyone;
    /// Follow it by e-mail.
    Subscribe => "subscribe", Anyone;
    /// Acknowledge a page sent for it.
    AckPage => "ack_page", Anyone;
    /// Bring in a service's on-call (and page them).
    EngageOncall => "engage_oncall", Participants;
    /// Rate the response and comment on it.
    GiveFeedback => "give_feedback", Participants;
    /// Change why a participant was added.
    UpdateParticipantReason => "update_participant_reason", Participants;
    /// Resolve or re-open a task (nothing else about it).
    ResolveTask => "resolve_task", Participants;
    /// Change its fields: title, description, resolution, type, priority, severity, visibility,
    /// tags.
    EditIncident => "edit_incident", Responders;
    /// Add an entry to its timeline.
    AddTimelineEvent => "add_timeline_event", Responders;
    /// Pin or unpin a timeline entry.
    PinEvent => "pin_event", Responders;
    /// Create a task.
    CreateTask => "create_task", Responders;
    /// Change a task's description, assignees, owner, due time or priority.
    UpdateTask => "update_task", Responders;
    /// Post a tactical or executive report.
    WriteReport => "write_report", Responders;
    /// Put off a report reminder.
    SnoozeReminder => "snooze_reminder", Responders;
    /// Give a role to a person, the commander's included (reassigning the commander).
    AssignRole => "assign_role", CommanderOrScribe;
    /// Edit who receives stakeholder mail.
    EditNotificationsGroup => "edit_notifications_group", CommanderOrScribe;
    /// Change its status: mark it stable, close it, re-open it.
    ChangeStatus => "change_status", CommanderOrReporter;
    /// Remove a participant (end their roles).
    RemoveParticipant => "remove_participant", CommanderOrReporter;
    /// Edit one of its documents by hand.
    EditDocument => "edit_document", CommanderOrReporter;
    /// Read everyone's feedback.
    ReadFeedback => "read_feedback", CommanderOrReporter;
    /// Retry one of its jobs.
    RetryJob => "retry_job", CommanderOrReporter;
    /// Read a case of a project one may use: its timeline, signals, incident, related cases.
    ViewCase => "view_case", Anyone;
    /// Acknowledge a case: start its triage.
    TriageCase => "triage_case", Anyone;
    /// Snooze what a case's signal is: a snooze filter over its labels, with an expiry.
    SnoozeCase => "snooze_case", Anyone;
    /// Escalate a case into an incident.
    EscalateCase => "escalate_case", Anyone;
    /// Change a case's title, description, type, priority, severity or assignee.
    EditCase => "edit_case", Assignee;
    /// Mark an escalated case stable.
    StabilizeCase => "stabilize_case", Assignee;
    /// Close a case with a resolution reason.
    CloseCase => "close_case", Assignee;
}

impl Action {
    /// Whether this is an action on a case (decided from the caller's standing in the case)
    /// rather than on an incident.
    pub fn on_case(self) -> bool {
        matches!(
            self,
            Action::ViewCase
                | Action::TriageCase
                | Action::SnoozeCase
                | Action::EscalateCase
                | Action::EditCase
                | Action::StabilizeCase
                | Action::CloseCase
        )
    }
}

impl UpdateIncident {
    /// The actions this change takes: editing fields, and changing the status when it does.
    pub fn actions(&self) -> Vec<Action> {
        let mut actions = vec![Action::EditIncident];
        if self.status.is_some() {
            actions.push(Action::ChangeStatus);
        }
        actions
    }
}

impl UpdateTask {
    /// The actions this change takes: resolving or re-opening the task when it changes only its
    /// status, updating the task when it changes anything else.
    pub fn actions(&self) -> Vec<Action> {
        let others = self.description.is_some()
            || self.assignees.is_some()
            || self.owner.is_some()
            || !self.resolve_by.is_absent()
            || self.priority.is_some();
        if others {
            vec![Action::UpdateTask]
        } else {
            vec![Action::ResolveTask]
        }
    }
}

/// A caller's standing in one incident: what [`allows`] decides from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The roles they hold in it (in force; once it is closed, those closing ended).
    pub roles: Vec<ParticipantRole>,
    /// Whether the incident's record names them as its commander.
    pub commander_of_record: bool,
    /// Whether the incident's record names them as its reporter.
    pub reporter_of_record: bool,
    /// Their organization role.
    pub org_role: OrgRole,
    /// Whether they are an admin of the incident's project.
    pub project_admin: bool,
    /// For a case: whether it is assigned to them, or to no one.
    pub assignee: bool,
}

impl Default for Standing {
    /// A member who holds no role in the incident.
    fn default() -> Self {
        Standing {
            roles: Vec::new(),
            commander_of_record: false,
            reporter_of_record: false,
            org_role: OrgRole::Member,
            project_admin: false,
            assignee: false,
        }
    }
}

impl Standing {
    /// An organization admin (or above), or an admin of the incident's project.
    pub fn admin(&self) -> bool {
        self.org_role.at_least(OrgRole::Admin) || self.project_admin
    }

    /// Its commander: named so by the record or holding the role.
    pub fn commander(&self) -> bool {
        self.commander_of_record || self.roles.contains(&ParticipantRole::IncidentCommander)
    }

    /// Its reporter: named so by the record or holding the role.
    pub fn reporter(&self) -> bool {
        self.reporter_of_record || self.roles.contains(&ParticipantRole::Reporter)
    }

    /// Its scribe.
    pub fn scribe(&self) -> bool {
        self.roles.contains(&ParticipantRole::Scribe)
    }

    /// Takes part in it: holds a role, or commands or reported it.
    pub fn participant(&self) -> bool {
        !self.roles.is_empty() || self.commander() || self.reporter()
    }

    /// How they stand, for a refusal: "you are scribe, participant" or "you are not a
    /// participant".
    pub fn describe(&self) -> String {
        if self.roles.is_empty() {
            return "you are not a participant".to_string();
        }
        let names: Vec<String> = self
            .roles
            .iter()
            .map(|r| r.as_str().replace('_', " "))
            .collect();
        format!("you are {}", names.join(", "))
    }
}

/// The one rule: may someone standing so in an incident (which they can see) do `action`?
pub fn allows(action: Action, standing: &Standing) -> bool {
    action.who().admits(standing)
}

/// Why `action` is refused, naming who may do it: "only an admin or the incident commander or
/// the scribe may assign_role; you are participant" (for a case: "…; you are not its
/// assignee").
pub fn refusal(action: Action, standing: &Standing) -> String {
    let stands = if action.on_case() {
        "you are not its assignee".to_string()
    } else {
        standing.describe()
    };
    format!(
        "only an admin or {} may {}; {stands}",
        action.who().describe(),
        action.as_str().replace('_', " "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;

    /// The callers the table is written for.
    fn caller(name: &str) -> Standing {
        let mut s = Standing::default();
        match name {
            "commander" => {
                s.commander_of_record = true;
                s.roles = vec![ParticipantRole::IncidentCommander];
            }
            "scribe" => s.roles = vec![ParticipantRole::Scribe],
            "reporter" => {
                s.reporter_of_record = true;
                s.roles = vec![ParticipantRole::Reporter];
            }
            "participant" => s.roles = vec![ParticipantRole::Participant],
            "observer" => s.roles = vec![ParticipantRole::Observer],
            "member" => {}
            "project_admin" => s.project_admin = true,
            "org_admin" => s.org_role = OrgRole::Admin,
            "owner" => s.org_role = OrgRole::Owner,
            "assignee" => s.assignee = true,
            other => panic!("no caller {other}"),
        }
        s
    }

    const CALLERS: [&str; 10] = [
        "commander",
        "scribe",
        "reporter",
        "participant",
        "observer",
        "member",
        "project_admin",
        "org_admin",
        "owner",
        "assignee",
    ];

    /// The rule, written out: for each action, the callers (of [`CALLERS`]) who may do it.
    /// `docs/access.md` shows the same table.
    fn table() -> Vec<(Action, &'static [&'static str])> {
        const ALL: &[&str] = &CALLERS;
        const ASSIGNEE: &[&str] = &["assignee", "project_admin", "org_admin", "owner"];
        const PARTICIPANTS: &[&str] = &[
            "commander",
            "scribe",
            "reporter",
            "participant",
            "observer",
            "project_admin",
            "org_admin",
            "owner",
        ];
        const RESPONDERS: &[&str] = &[
            "commander",
            "scribe",
            "reporter",
            "project_admin",
            "org_admin",
            "owner",
        ];
        const IC_SCRIBE: &[&str] = &["commander", "scribe", "project_admin", "org_admin", "owner"];
        const IC_REPORTER: &[&str] = &[
            "commander",
            "reporter",
            "project_admin",
            "org_admin",
            "owner",
        ];
        vec![
            (View, ALL),
            (PostInRoom, ALL),
            (Join, ALL),
            (Subscribe, ALL),
            (AckPage, ALL),
            (EngageOncall, PARTICIPANTS),
            (GiveFeedback, PARTICIPANTS),
            (UpdateParticipantReason, PARTICIPANTS),
            (ResolveTask, PARTICIPANTS),
            (EditIncident, RESPONDERS),
            (AddTimelineEvent, RESPONDERS),
            (PinEvent, RESPONDERS),
            (CreateTask, RESPONDERS),
            (UpdateTask, RESPONDERS),
            (WriteReport, RESPONDERS),
            (SnoozeReminder, RESPONDERS),
            (AssignRole, IC_SCRIBE),
            (EditNotificationsGroup, IC_SCRIBE),
            (ChangeStatus, IC_REPORTER),
            (RemoveParticipant, IC_REPORTER),
            (EditDocument, IC_REPORTER),
            (ReadFeedback, IC_REPORTER),
            (RetryJob, IC_REPORTER),
            (ViewCase, ALL),
            (TriageCase, ALL),
            (SnoozeCase, ALL),
            (EscalateCase, ALL),
            (EditCase, ASSIGNEE),
            (StabilizeCase, ASSIGNEE),
            (CloseCase, ASSIGNEE),
        ]
    }

    #[test]
    fn the_table_decides_every_action_for_every_caller() {
        let table = table();
        assert_eq!(
            table.iter().map(|(a, _)| *a).collect::<Vec<_>>(),
            Action::ALL,
            "the table lists every action once, in order"
        );
        for (action, allowed) in table {
            for name in CALLERS {
                assert_eq!(
                    allows(action, &caller(name)),
                    allowed.contains(&name),
                    "{} for {name}",
                    action.as_str()
                );
            }
        }
    }

    #[test]
    fn a_reporter_may_not_reassign_the_commander_but_the_scribe_may() {
        assert!(!allows(AssignRole, &caller("reporter")));
        assert!(allows(AssignRole, &caller("scribe")));
        assert!(allows(AssignRole, &caller("project_admin")));
        // The scribe keeps the record but does not close the incident.
        assert!(!allows(ChangeStatus, &caller("scribe")));
    }

    #[test]
    fn the_record_or_a_role_makes_the_commander() {
        let by_record = Standing {
            commander_of_record: true,
            ..Default::default()
        };
        assert!(by_record.commander() && by_record.participant());
        assert!(allows(ChangeStatus, &by_record));
        let reporter_by_record = Standing {
            reporter_of_record: true,
            ..Default::default()
        };
        assert!(allows(EditIncident, &reporter_by_record));
        assert!(!allows(AssignRole, &reporter_by_record));
    }

    #[test]
    fn a_refusal_names_who_may_and_how_the_caller_stands() {
        let m = refusal(AssignRole, &caller("reporter"));
        assert_eq!(
            m,
            "only an admin or the incident commander or the scribe may assign role; you are reporter"
        );
        let m = refusal(EngageOncall, &caller("member"));
        assert!(
            m.contains("participants") && m.ends_with("you are not a participant"),
            "{m}"
        );
        assert_eq!(
            refusal(CloseCase, &caller("member")),
            "only an admin or the case's assignee may close case; you are not its assignee"
        );
    }
}
