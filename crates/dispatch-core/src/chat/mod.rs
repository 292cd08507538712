//! The chat commands (`/dispatch-…`): one grammar for every transport. The built-in room, the
//! API, the CLI and any chat transport hand the text to [`parse`] and get either a command to
//! run or usage help to show; nothing here does I/O.

mod args;
mod lex;

use crate::commands::{AddTimelineEvent, AssignRole, CreateReport, CreateTask, UpdateIncident};
use crate::permission::Action;
use crate::values::{Email, IncidentTitle, LongText};
use crate::ReportKind;
use chrono::{DateTime, Utc};

/// One command of the grammar: its seed name, aliases, usage line and the incident action it is
/// (which decides who may run it: [`crate::permission`]).
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The seed name, e.g. `dispatch-assign-role` (without the slash).
    pub name: &'static str,
    /// Other names that run the same command.
    pub aliases: &'static [&'static str],
    /// The arguments, e.g. `EMAIL ROLE`.
    pub args: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// The incident action it is; `None` for the commands that need no incident (help,
    /// declaring, listing incidents).
    pub action: Option<Action>,
}

impl Spec {
    /// `/name args`.
    pub fn usage(&self) -> String {
        if self.args.is_empty() {
            format!("/{}", self.name)
        } else {
            format!("/{} {}", self.name, self.args)
        }
    }
}

macro_rules! spec {
    ($name:literal, [$($alias:literal),*], $args:literal, -, $summary:literal) => {
        Spec { name: $name, aliases: &[$($alias),*], args: $args, summary: $summary, action: None }
    };
    ($name:literal, [$($alias:literal),*], $args:literal, $action:ident, $summary:literal) => {
        Spec { name: $name, aliases: &[$($alias),*], args: $args, summary: $summary, action: Some(Action::$action) }
    };
}

/// Every command, in the order help lists them.
pub const COMMANDS: &[Spec] = &[
    spec!("dispatch-help", ["help"], "[COMMAND]", -, "these commands, or one command's usage"),
    spec!("dispatch-report-incident", ["dispatch-declare-incident"], "\"TITLE\" [\"DESCRIPTION\"] [priority=P] [type=T] [severity=S]", -, "declare a new incident"),
    spec!("dispatch-list-incidents", [], "", -, "active and stable incidents, and those closed in the last week"),
    spec!("dispatch-assign-role", [], "EMAIL ROLE", AssignRole, "give a role (incident_commander, scribe, liaison, reporter, participant, observer) to a person"),
    spec!("dispatch-list-participants", [], "", View, "participants with their roles and why they were added"),
    spec!("dispatch-edit-incident", ["dispatch-update-incident"], "field=value … (title, description, resolution, type, priority, severity, status, visibility, tags)", EditIncident, "change the incident"),
    spec!("dispatch-status-report", ["dispatch-report-tactical", "dispatch-report-executive"], "conditions=\"…\" actions=\"…\" needs=\"…\"  |  current_status=\"…\" overview=\"…\" next_steps=\"…\"", WriteReport, "post a tactical or executive report: room, e-mail, stored"),
    spec!("dispatch-mark-stable", [], "", ChangeStatus, "mark the incident stable (creates the review document)"),
    spec!("dispatch-mark-closed", [], "", ChangeStatus, "close the incident (archives the room)"),
    spec!("dispatch-mark-active", ["dispatch-reopen-incident"], "", ChangeStatus, "re-open a stable or closed incident"),
    spec!("dispatch-list-tasks", [], "", View, "the incident's tasks"),
    spec!("dispatch-list-my-tasks", [], "", View, "your tasks in the incident"),
    spec!("dispatch-create-task", ["dispatch-add-task"], "EMAIL… \"DESCRIPTION\" [due=2026-12-01|+2d|4h] [priority=high]", CreateTask, "create a task for its assignees (due in a day by default)"),
    spec!("dispatch-resolve-task", [], "TASK_ID", ResolveTask, "resolve a task"),
    spec!("dispatch-reopen-task", [], "TASK_ID", ResolveTask, "re-open a resolved task"),
    spec!("dispatch-add-timeline-event", [], "[at=2026-11-25T10:00Z|10:00] \"DESCRIPTION\"", AddTimelineEvent, "add an entry to the timeline at a given time"),
    spec!("dispatch-engage-oncall", [], "SERVICE [page]", EngageOncall, "bring in a service's current on-call, optionally paging them"),
    spec!("dispatch-notifications-group", [], "add EMAIL… | remove EMAIL…", EditNotificationsGroup, "edit who receives stakeholder mail"),
    spec!("dispatch-update-participant", [], "EMAIL \"ADDED REASON\"", UpdateParticipantReason, "change why a participant was added"),
    spec!("dispatch-summary", [], "", View, "catch up: where the incident stands"),
    spec!("dispatch-join-incident", [], "[INCIDENT]", Join, "join the incident (this room's, or the one named) as a participant"),
    spec!("dispatch-subscribe-incident", [], "[INCIDENT]", Subscribe, "get the incident's updates by e-mail"),
    spec!("dispatch-remind-me", ["dispatch-snooze-reminder"], "[tactical|executive] in N hours", SnoozeReminder, "put off the report reminder for N hours"),
    spec!("dispatch-case-triage", ["dispatch-case-acknowledge", "dispatch-case-ack"], "[CASE]", TriageCase, "acknowledge a case: it moves to triage (the case of this thread, or #ID)"),
    spec!("dispatch-case-snooze", [], "[CASE] DURATION", SnoozeCase, "snooze what the case's signal is for 30m, 2h, 1d … 30d (a snooze filter)"),
    spec!("dispatch-case-escalate", [], "[CASE]", EscalateCase, "escalate the case to an incident"),
    spec!("dispatch-case-resolve", ["dispatch-case-close"], "[CASE] REASON [\"TEXT\"]", CloseCase, "close the case: benign, contained, escalated, false_positive, information_gathered, insufficient_information, mitigated, operational_error, policy_violation or user_acknowledged"),
    spec!("dispatch-case-assign", [], "[CASE] EMAIL|none", EditCase, "assign the case (none: no one)"),
];

/// What a case command does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseOp {
    /// Acknowledge: new → triage.
    Triage,
    /// Snooze its signal for this long.
    Snooze(chrono::Duration),
    /// Escalate to an incident.
    Escalate,
    /// Close with a reason and text.
    Resolve {
        /// Why.
        reason: crate::signal::ResolutionReason,
        /// What was found or done.
        text: Option<LongText>,
    },
    /// Assign to someone, or no one.
    Assign(Option<Email>),
}

/// A parsed command.
#[derive(Debug, Clone)]
pub enum ChatCommand {
    /// Help, for every command or one (its seed name).
    Help(Option<&'static str>),
    /// Declare an incident.
    ReportIncident {
        /// Title.
        title: IncidentTitle,
        /// Description.
        description: LongText,
        /// Priority name.
        priority: Option<String>,
        /// Type name.
        incident_type: Option<String>,
        /// Severity name.
        severity: Option<String>,
    },
    /// List incidents.
    ListIncidents,
    /// Give a role.
    AssignRole(AssignRole),
    /// List participants.
    ListParticipants,
    /// Change fields.
    EditIncident(UpdateIncident),
    /// Post a report.
    StatusReport(CreateReport),
    /// Active → stable.
    MarkStable,
    /// → closed.
    MarkClosed,
    /// Re-open.
    MarkActive,
    /// List tasks (`mine`: only the caller's, as assignee, owner or creator).
    ListTasks {
        /// Only the caller's.
        mine: bool,
    },
    /// Create a task.
    CreateTask(CreateTask),
    /// Resolve (`true`) or re-open a task.
    SetTaskStatus {
        /// The task's id.
        task_id: i64,
        /// Resolve, or re-open.
        resolve: bool,
    },
    /// A custom timeline entry.
    AddTimelineEvent(AddTimelineEvent),
    /// Bring in an on-call service's current on-call.
    EngageOncall {
        /// The service's name.
        service: String,
        /// Page them too.
        page: bool,
    },
    /// Edit the notifications group.
    NotificationsGroup {
        /// Added.
        add: Vec<Email>,
        /// Removed.
        remove: Vec<Email>,
    },
    /// Change a participant's added reason.
    UpdateParticipant {
        /// Who.
        email: Email,
        /// Why they are here.
        reason: LongText,
    },
    /// Catch-up summary.
    Summary,
    /// Join an incident as a participant (the room's, or the one named).
    Join {
        /// The incident's key, when not run in its room.
        incident: Option<String>,
    },
    /// Follow an incident by e-mail (the room's, or the one named).
    Subscribe {
        /// The incident's key, when not run in its room.
        incident: Option<String>,
    },
    /// Act on a case (the thread's, or the one named).
    Case {
        /// The case's id, when named (`#12`, `12`, `case=12`).
        case: Option<i64>,
        /// What to do.
        op: CaseOp,
    },
    /// Put off a report reminder.
    RemindMe {
        /// Which report.
        kind: ReportKind,
        /// For how long.
        hours: u32,
    },
}

impl ChatCommand {
    /// The seed name of the command.
    pub fn name(&self) -> &'static str {
        match self {
            ChatCommand::Help(_) => "dispatch-help",
            ChatCommand::ReportIncident { .. } => "dispatch-report-incident",
            ChatCommand::ListIncidents => "dispatch-list-incidents",
            ChatCommand::AssignRole(_) => "dispatch-assign-role",
            ChatCommand::ListParticipants => "dispatch-list-participants",
            ChatCommand::EditIncident(_) => "dispatch-edit-incident",
            ChatCommand::StatusReport(_) => "dispatch-status-report",
            ChatCommand::MarkStable => "dispatch-mark-stable",
            ChatCommand::MarkClosed => "dispatch-mark-closed",
            ChatCommand::MarkActive => "dispatch-mark-active",
            ChatCommand::ListTasks { mine: false } => "dispatch-list-tasks",
            ChatCommand::ListTasks { mine: true } => "dispatch-list-my-tasks",
            ChatCommand::CreateTask(_) => "dispatch-create-task",
            ChatCommand::SetTaskStatus { resolve: true, .. } => "dispatch-resolve-task",
            ChatCommand::SetTaskStatus { resolve: false, .. } => "dispatch-reopen-task",
            ChatCommand::AddTimelineEvent(_) => "dispatch-add-timeline-event",
            ChatCommand::EngageOncall { .. } => "dispatch-engage-oncall",
            ChatCommand::NotificationsGroup { .. } => "dispatch-notifications-group",
            ChatCommand::UpdateParticipant { .. } => "dispatch-update-participant",
            ChatCommand::Summary => "dispatch-summary",
            ChatCommand::RemindMe { .. } => "dispatch-remind-me",
            ChatCommand::Join { .. } => "dispatch-join-incident",
            ChatCommand::Subscribe { .. } => "dispatch-subscribe-incident",
            ChatCommand::Case { op, .. } => match op {
                CaseOp::Triage => "dispatch-case-triage",
                CaseOp::Snooze(_) => "dispatch-case-snooze",
                CaseOp::Escalate => "dispatch-case-escalate",
                CaseOp::Resolve { .. } => "dispatch-case-resolve",
                CaseOp::Assign(_) => "dispatch-case-assign",
            },
        }
    }

    /// The command's spec.
    pub fn spec(&self) -> &'static Spec {
        spec(self.name()).expect("every command has a spec")
    }

    /// The incident actions running it takes (each decides who may: [`crate::permission`]);
    /// none for the commands that need no incident. Editing the status along with other fields
    /// is also changing the status.
    pub fn actions(&self) -> Vec<Action> {
        match self {
            ChatCommand::EditIncident(u) => u.actions(),
            _ => self.spec().action.into_iter().collect(),
        }
    }
}

/// Why a line is not a command to run: what was wrong and the usage to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// What was wrong, in a sentence.
    pub problem: String,
    /// The command's usage, or the list of every command.
    pub help: String,
}

impl Usage {
    /// A problem with one command's arguments.
    pub(crate) fn of(spec: &Spec, problem: impl Into<String>) -> Self {
        Self {
            problem: problem.into(),
            help: format!("Usage: {}\n{}", spec.usage(), spec.summary),
        }
    }

    /// A problem with the command itself: every command is listed.
    pub(crate) fn all(problem: impl Into<String>) -> Self {
        Self {
            problem: problem.into(),
            help: help(),
        }
    }

    /// The problem and the help, for people.
    pub fn text(&self) -> String {
        format!("{}\n{}", self.problem, self.help)
    }
}

/// The list of every command with its usage and purpose.
pub fn help() -> String {
    let mut out = String::from("Commands:");
    for s in COMMANDS {
        out.push_str(&format!("\n{} — {}", s.usage(), s.summary));
        if !s.aliases.is_empty() {
            let aliases: Vec<String> = s.aliases.iter().map(|a| format!("/{a}")).collect();
            out.push_str(&format!(" (also {})", aliases.join(", ")));
        }
    }
    out
}

/// The spec named `name` (seed name or alias; the slash, the `dispatch-` prefix, case and `_`
/// versus `-` do not matter).
pub fn spec(name: &str) -> Option<&'static Spec> {
    let n = name
        .trim()
        .trim_start_matches('/')
        .to_lowercase()
        .replace('_', "-");
    let n = n.strip_prefix("dispatch-").unwrap_or(&n);
    COMMANDS.iter().find(|s| {
        std::iter::once(&s.name)
            .chain(s.aliases.iter())
            .any(|a| a.strip_prefix("dispatch-").unwrap_or(a) == n)
    })
}

/// Quotes a value for the command grammar: `"…"` with `\\` and `\"` escaped.
pub fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Whether `text` is meant as a command (starts with `/`).
pub fn is_command(text: &str) -> bool {
    text.trim_start().starts_with('/')
}

/// The incident names a message mentions (`INC-12`, `SEC-3`: a project's key prefix — a letter,
/// then letters or digits — a dash and a number), upper-cased, each once, in order, at most
/// `limit`. A name glued to other word characters (`a_INC-12`, `INC-12a`) is not one.
pub fn incident_names(text: &str, limit: usize) -> Vec<String> {
    let bytes = text.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut found: Vec<String> = Vec::new();
    let mut i = 0;
    while i < bytes.len() && found.len() < limit {
        if !bytes[i].is_ascii_alphabetic() || (i > 0 && word(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let prefix_len = i - start;
        if !(1..=16).contains(&prefix_len) || bytes.get(i) != Some(&b'-') {
            continue;
        }
        let digits = i + 1;
        let mut end = digits;
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
        if end == digits || end - digits > 12 || (end < bytes.len() && word(bytes[end])) {
            i = end.max(i + 1);
            continue;
        }
        let name = text[start..end].to_ascii_uppercase();
        if !found.contains(&name) {
            found.push(name);
        }
        i = end;
    }
    found
}

/// Whether `text` is a case command (`/dispatch-case-…`), which runs in a case rather than an
/// incident.
pub fn is_case_command(text: &str) -> bool {
    let head = text.split_whitespace().next().unwrap_or_default();
    is_command(text) && spec(head).is_some_and(|s| s.name.starts_with("dispatch-case-"))
}

/// The longest command line, in characters (a room message's bound).
pub const MAX_LINE_CHARS: usize = 20_000;

/// Parses one command line. `now` resolves relative times (`due=+2d`).
pub fn parse(text: &str, now: DateTime<Utc>) -> Result<ChatCommand, Usage> {
    if text.chars().nth(MAX_LINE_CHARS).is_some() {
        return Err(Usage::all(format!(
            "A command may have at most {MAX_LINE_CHARS} characters."
        )));
    }
    let line = text.trim();
    if !line.starts_with('/') {
        return Err(Usage::all("A command starts with /dispatch-."));
    }
    let (head, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let Some(s) = spec(head) else {
        let shown: String = head.chars().take(60).collect();
        return Err(Usage::all(format!("Unknown command {shown}.")));
    };
    let words = lex::words(rest);
    // The alias a report was asked for with decides its kind.
    let alias = head
        .trim_start_matches('/')
        .to_lowercase()
        .replace('_', "-");
    args::parse(s, &alias, words, now)
}

#[cfg(test)]
mod tests;
