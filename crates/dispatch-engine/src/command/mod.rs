//! Running chat commands: the text of any transport is parsed by the one grammar
//! ([`dispatch_core::chat`]), checked against the one permission rule ([`dispatch_core::permission`]), and run through the
//! same engine calls the REST API makes. The answer is a neutral [`RichMessage`]; each transport
//! only renders it (its `text` is the plain rendering).

mod forms;
mod reply;
mod unfurl;

use crate::access::IncidentAccess;
use crate::admin::Authenticated;
use crate::{Engine, Error, Result};
use dispatch_core::chat::{self, ChatCommand, Usage};
use dispatch_core::commands::{DeclareIncident, UpdateTask};
use dispatch_core::message::{Block, RichMessage};
use dispatch_core::values::IncidentRef;
use dispatch_core::{IncidentId, IncidentStatus, TaskStatus};
use dispatch_store::repo;

/// Why a command did not run.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The text is not a command, or its arguments are wrong: show the usage.
    #[error("{}", .0.text())]
    Usage(Usage),
    /// The command ran into the engine's refusal (forbidden, not found, conflict, invalid).
    #[error(transparent)]
    Failed(#[from] Error),
}

impl From<dispatch_core::ValidationError> for CommandError {
    fn from(e: dispatch_core::ValidationError) -> Self {
        CommandError::Failed(e.into())
    }
}

impl From<dispatch_store::StoreError> for CommandError {
    fn from(e: dispatch_store::StoreError) -> Self {
        CommandError::Failed(e.into())
    }
}

/// May the caller run `cmd` in this incident? Each action the command takes is decided by the one
/// rule ([`dispatch_core::permission`]), exactly as the REST route for it is.
fn check_allowed(cmd: &ChatCommand, access: &IncidentAccess, inc: &str) -> Result<()> {
    match cmd.actions().into_iter().find(|a| !access.allows(*a)) {
        None => Ok(()),
        Some(refused) => Err(Error::Forbidden(format!(
            "/{} in {inc} is for {} (or an admin); {}",
            cmd.name(),
            refused.who().describe(),
            access.standing.describe()
        ))),
    }
}

impl Engine {
    async fn status_reply(
        &self,
        actor: &crate::Actor,
        r: &IncidentRef,
        to: IncidentStatus,
    ) -> Result<RichMessage> {
        let d = self.incidents().change_status(actor, r, to).await?;
        let what = match to {
            IncidentStatus::Stable => "stable; the post-incident review document is being prepared",
            IncidentStatus::Closed => "closed; the room will be archived. Thank you all",
            IncidentStatus::Active => "active again",
        };
        Ok(RichMessage::plain(format!("{} is now {what}.", d.row.name)))
    }

    /// `/dispatch-list-tasks` and `/dispatch-list-my-tasks`.
    async fn tasks_reply(
        &self,
        actor: &crate::Actor,
        r: &IncidentRef,
        name: &str,
        mine: bool,
    ) -> Result<RichMessage> {
        let mut tasks = self.tasks().list(r).await?;
        if mine {
            let me = actor.individual_id.0;
            tasks.retain(|t| {
                t.assignees.iter().any(|a| a.id == me)
                    || t.task.owner_id == Some(me)
                    || t.task.creator_id == Some(me)
            });
        }
        Ok(reply::tasks(name, &tasks, mine))
    }

    /// `/dispatch-list-incidents`: active and stable incidents, and those closed in the last week,
    /// that the caller may see.
    async fn list_for_chat(&self, caller: &Authenticated) -> Result<RichMessage, CommandError> {
        use dispatch_store::repo::incident::IncidentFilter;
        let week_ago = dispatch_core::now() - chrono::Duration::days(7);
        let mut shown = Vec::new();
        for statuses in [
            vec![IncidentStatus::Active, IncidentStatus::Stable],
            vec![IncidentStatus::Closed],
        ] {
            let f = IncidentFilter {
                statuses,
                page: 1,
                per_page: 50,
                viewer: caller.viewer(),
                ..Default::default()
            };
            for s in self.incidents().list(&f).await?.0 {
                let recent =
                    s.row.status != "closed" || s.row.closed_at.is_some_and(|c| c >= week_ago);
                if recent && self.may_see(caller, s.row.id).await? {
                    shown.push(s.row);
                }
            }
        }
        Ok(reply::incidents(&shown))
    }

    /// `/dispatch-summary`: where the incident stands, its last reports, open tasks and latest events.
    async fn summary(&self, r: &IncidentRef) -> Result<RichMessage> {
        let d = self.incidents().get(r).await?;
        let tasks = self.tasks().list(r).await?;
        let events = self.timeline().list(r, &Default::default()).await?;
        Ok(reply::summary(&d, &tasks, &events))
    }
}

impl crate::Chat<'_> {
    /// Parses and runs one command line for `caller` (whose actor carries the transport), in
    /// the incident `incident` when the transport has one (a room, the commands endpoint).
    pub async fn run(
        self,
        caller: &Authenticated,
        incident: Option<&IncidentRef>,
        text: &str,
    ) -> Result<RichMessage, CommandError> {
        let cmd = chat::parse(text, dispatch_core::now()).map_err(CommandError::Usage)?;
        match cmd {
            ChatCommand::Help(topic) => Ok(reply::help(topic)),
            ChatCommand::ListIncidents => self.list_for_chat(caller).await,
            ChatCommand::ReportIncident {
                title,
                description,
                priority,
                incident_type,
                severity,
            } => {
                let declare = DeclareIncident {
                    project: None,
                    title,
                    description,
                    incident_type,
                    priority,
                    severity,
                    visibility: None,
                    tags: vec![],
                    commander: None,
                    reported_at: None,
                    status: None,
                };
                Ok(self.report_incident(caller, declare).await?)
            }
            ChatCommand::Join {
                incident: ref named,
            }
            | ChatCommand::Subscribe {
                incident: ref named,
            } => {
                let named = named.as_deref().map(IncidentRef::parse);
                let Some(r) = named.or(incident.cloned()) else {
                    return Err(needs_incident(
                        &cmd,
                        "name it, or run it in the incident's room",
                    ));
                };
                self.join_or_subscribe(caller, &cmd, &r).await
            }
            ChatCommand::Case { case, op } => {
                self.case_command_in(caller, case.map(dispatch_core::CaseId), op)
                    .await
            }
            cmd => {
                let Some(r) = incident else {
                    return Err(needs_incident(&cmd, "run it in the incident's room or with POST /api/v1/incidents/{id}/commands"));
                };
                self.in_incident(caller, r, cmd).await
            }
        }
    }

    /// `/dispatch-report-incident`: declares for the caller, who becomes the reporter.
    async fn report_incident(
        &self,
        caller: &Authenticated,
        declare: DeclareIncident,
    ) -> Result<RichMessage> {
        let d = self.incidents().declare(&caller.actor, declare).await?;
        self.wake_workers();
        let mut blocks = vec![Block::Section {
            text: format!(
                "Declared {}: {} (you are the reporter; {} commands it).",
                d.row.name, d.row.title, d.row.commander_email
            ),
        }];
        blocks.extend(
            self.incidents()
                .similar_in_chat(IncidentId(d.row.id))
                .await?,
        );
        Ok(RichMessage::new(blocks))
    }

    /// `/dispatch-join-incident` and `/dispatch-subscribe-incident`: the incident may be named,
    /// so its visibility is checked here rather than by the incident's access.
    async fn join_or_subscribe(
        &self,
        caller: &Authenticated,
        cmd: &ChatCommand,
        r: &IncidentRef,
    ) -> Result<RichMessage, CommandError> {
        let actor = &caller.actor;
        let inc = repo::incident::get(self.db().conn(), r).await?;
        if !self.may_see(caller, inc.id).await? {
            return Err(Error::NotFound(format!("incident {r}")).into());
        }
        let text = if matches!(cmd, ChatCommand::Join { .. }) {
            self.participants()
                .join(actor, r, caller.is_admin())
                .await?;
            format!("You are a participant of {}: {}.", inc.name, inc.title)
        } else {
            self.participants()
                .subscribe(actor, r, caller.is_admin())
                .await?;
            format!("You will get {}'s updates by e-mail.", inc.name)
        };
        self.wake_workers();
        Ok(RichMessage::plain(text))
    }

    /// A command that acts in one incident: the caller's access to it is read once, every action
    /// the command takes is checked against the one rule, then the command runs.
    async fn in_incident(
        &self,
        caller: &Authenticated,
        r: &IncidentRef,
        cmd: ChatCommand,
    ) -> Result<RichMessage, CommandError> {
        // Not found when the caller may not see it, exactly like an incident that does not exist.
        let access = self.access().incident(caller, r).await?;
        let r = &IncidentRef::Id(IncidentId(access.incident_id));
        let inc = repo::incident::get(self.db().conn(), r).await?;
        check_allowed(&cmd, &access, &inc.name)?;
        let actor = &caller.actor;
        let name = &inc.name;
        let message = match cmd {
            ChatCommand::AssignRole(a) => {
                let (role, email) = (a.role, a.email.clone());
                self.roles().assign(actor, r, a).await?;
                let role = role.as_str().replace('_', " ");
                RichMessage::plain(format!("{email} is now the {role} of {name}."))
            }
            ChatCommand::ListParticipants => reply::participants(
                name,
                &repo::participant::list(self.db().conn(), inc.id).await?,
            ),
            ChatCommand::EditIncident(u) => {
                let changed = reply::edit_summary(&u);
                let d = self.incidents().update(actor, r, u).await?;
                RichMessage::plain(format!(
                    "{} updated: {changed}. Now {}, priority {}, severity {}.",
                    d.row.name, d.row.status, d.row.priority_slug, d.row.severity_slug
                ))
            }
            ChatCommand::StatusReport(c) => {
                let rep = self.reports().create(actor, r, c).await?;
                let row = repo::incident::row(self.db().conn(), r).await?;
                crate::report::report_message(&row, &rep, &actor.email)
            }
            ChatCommand::MarkStable => self.status_reply(actor, r, IncidentStatus::Stable).await?,
            ChatCommand::MarkClosed => self.status_reply(actor, r, IncidentStatus::Closed).await?,
            ChatCommand::MarkActive => self.status_reply(actor, r, IncidentStatus::Active).await?,
            ChatCommand::ListTasks { mine } => self.tasks_reply(actor, r, name, mine).await?,
            ChatCommand::CreateTask(c) => {
                reply::task_created(&self.tasks().create(actor, r, c).await?)
            }
            ChatCommand::SetTaskStatus { task_id, resolve } => {
                let status = if resolve {
                    TaskStatus::Resolved
                } else {
                    TaskStatus::Open
                };
                let change = UpdateTask {
                    status: Some(status),
                    ..Default::default()
                };
                let t = self
                    .tasks()
                    .update(actor, r, dispatch_core::TaskId(task_id), change)
                    .await?;
                RichMessage::plain(format!(
                    "Task #{} is {}: {}",
                    t.task.id, t.task.status, t.task.description
                ))
            }
            ChatCommand::AddTimelineEvent(e) => {
                let ev = self.timeline().add(actor, r, e).await?;
                let at = ev.occurred_at.format("%Y-%m-%d %H:%M UTC");
                RichMessage::plain(format!(
                    "Added to the timeline of {name} at {at}: {}",
                    ev.description
                ))
            }
            ChatCommand::EngageOncall { service, page } => {
                let (who, paged) = self.oncall().engage(actor, r, &service, page).await?;
                let paged = if paged.is_some() { " and paged" } else { "" };
                RichMessage::plain(format!(
                    "{who}, on call for {service}, was added as observer{paged}."
                ))
            }
            ChatCommand::NotificationsGroup { add, remove } => {
                let edit = self
                    .stakeholders()
                    .edit_notifications_group(actor, r, &add, &remove)
                    .await?;
                reply::notifications_group(name, &edit)
            }
            ChatCommand::UpdateParticipant { email, reason } => {
                let text = format!("{email} is in {name} because: {}", reason.as_str());
                self.participants()
                    .update_reason(actor, r, &email, reason)
                    .await?;
                RichMessage::plain(text)
            }
            ChatCommand::Summary => self.summary(r).await?,
            ChatCommand::RemindMe { kind, hours } => {
                let until = self
                    .reports()
                    .snooze_reminder(actor, r, kind, hours)
                    .await?;
                let until = until.format("%Y-%m-%d %H:%M UTC");
                RichMessage::plain(format!(
                    "The {kind} report reminder of {name} is put off until {until}."
                ))
            }
            ChatCommand::Help(_)
            | ChatCommand::ListIncidents
            | ChatCommand::ReportIncident { .. }
            | ChatCommand::Join { .. }
            | ChatCommand::Subscribe { .. }
            | ChatCommand::Case { .. } => unreachable!("answered by Chat::run"),
        };
        Ok(message)
    }
}

/// The usage answer of a command that needs an incident and got none.
fn needs_incident(cmd: &ChatCommand, how: &str) -> CommandError {
    CommandError::Usage(Usage {
        problem: format!("/{} needs an incident: {how}.", cmd.name()),
        help: format!("Usage: {}", cmd.spec().usage()),
    })
}
