//! Running chat commands: the text of any transport is parsed by the one grammar
//! ([`dispatch_core::chat`]), checked against the one permission rule ([`dispatch_core::permission`]), and run through the
//! same engine calls the REST API makes. The answer is a neutral [`RichMessage`]; each transport
//! only renders it (its `text` is the plain rendering).

mod reply;

use crate::access::IncidentAccess;
use crate::admin::Authenticated;
use crate::{Engine, Error, Result};
use dispatch_core::chat::{self, ChatCommand, Usage};
use dispatch_core::commands::{DeclareIncident, UpdateTask};
use dispatch_core::message::RichMessage;
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
        let now = dispatch_core::now();
        let cmd = chat::parse(text, now).map_err(CommandError::Usage)?;
        let actor = &caller.actor;
        match &cmd {
            ChatCommand::Help(topic) => return Ok(reply::help(*topic)),
            ChatCommand::ListIncidents => return self.list_for_chat(caller).await,
            ChatCommand::ReportIncident {
                title,
                description,
                priority,
                incident_type,
                severity,
            } => {
                let d = self
                    .incidents()
                    .declare(
                        actor,
                        DeclareIncident {
                            project: None,
                            title: title.clone(),
                            description: description.clone(),
                            incident_type: incident_type.clone(),
                            priority: priority.clone(),
                            severity: severity.clone(),
                            visibility: None,
                            tags: vec![],
                            commander: None,
                            reported_at: None,
                            status: None,
                        },
                    )
                    .await?;
                self.wake_workers();
                return Ok(RichMessage::plain(format!(
                    "Declared {}: {} (you are the reporter; {} commands it).",
                    d.row.name, d.row.title, d.row.commander_email
                )));
            }
            ChatCommand::Join { incident: named } | ChatCommand::Subscribe { incident: named } => {
                let Some(r) = named
                    .as_deref()
                    .map(IncidentRef::parse)
                    .or(incident.cloned())
                else {
                    return Err(CommandError::Usage(Usage {
                        problem: format!(
                            "/{} needs an incident: name it, or run it in the incident's room.",
                            cmd.name()
                        ),
                        help: format!("Usage: {}", cmd.spec().usage()),
                    }));
                };
                let inc = repo::incident::get(self.db().conn(), &r).await?;
                if !self.may_see(caller, inc.id).await? {
                    return Err(Error::NotFound(format!("incident {r}")).into());
                }
                let text = if matches!(cmd, ChatCommand::Join { .. }) {
                    self.participants()
                        .join(actor, &r, caller.is_admin())
                        .await?;
                    self.wake_workers();
                    format!("You are a participant of {}: {}.", inc.name, inc.title)
                } else {
                    self.participants()
                        .subscribe(actor, &r, caller.is_admin())
                        .await?;
                    self.wake_workers();
                    format!("You will get {}'s updates by e-mail.", inc.name)
                };
                return Ok(RichMessage::plain(text));
            }
            _ => {}
        }
        let Some(r) = incident else {
            return Err(CommandError::Usage(Usage {
                problem: format!("/{} needs an incident: run it in the incident's room or with POST /api/v1/incidents/{{id}}/commands.", cmd.name()),
                help: format!("Usage: {}", cmd.spec().usage()),
            }));
        };
        let conn = self.db().conn();
        // Not found when the caller may not see it, exactly like an incident that does not exist.
        let access = self.access().incident(caller, r).await?;
        let r = &IncidentRef::Id(IncidentId(access.incident_id));
        let inc = repo::incident::get(conn, r).await?;
        check_allowed(&cmd, &access, &inc.name)?;
        let message = match cmd {
            ChatCommand::AssignRole(a) => {
                let role = a.role;
                let email = a.email.clone();
                self.roles().assign(actor, r, a).await?;
                RichMessage::plain(format!(
                    "{email} is now the {} of {}.",
                    role.as_str().replace('_', " "),
                    inc.name
                ))
            }
            ChatCommand::ListParticipants => {
                reply::participants(&inc.name, &repo::participant::list(conn, inc.id).await?)
            }
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
                let row = repo::incident::row(conn, r).await?;
                crate::report::report_message(&row, &rep, &actor.email)
            }
            ChatCommand::MarkStable => self.status_reply(actor, r, IncidentStatus::Stable).await?,
            ChatCommand::MarkClosed => self.status_reply(actor, r, IncidentStatus::Closed).await?,
            ChatCommand::MarkActive => self.status_reply(actor, r, IncidentStatus::Active).await?,
            ChatCommand::ListTasks { mine } => {
                let mut tasks = self.tasks().list(r).await?;
                if mine {
                    let me = actor.individual_id.0;
                    tasks.retain(|t| {
                        t.assignees.iter().any(|a| a.id == me)
                            || t.task.owner_id == Some(me)
                            || t.task.creator_id == Some(me)
                    });
                }
                reply::tasks(&inc.name, &tasks, mine)
            }
            ChatCommand::CreateTask(c) => {
                let t = self.tasks().create(actor, r, c).await?;
                reply::task_created(&t)
            }
            ChatCommand::SetTaskStatus { task_id, resolve } => {
                let status = if resolve {
                    TaskStatus::Resolved
                } else {
                    TaskStatus::Open
                };
                let t = self
                    .tasks()
                    .update(
                        actor,
                        r,
                        dispatch_core::TaskId(task_id),
                        UpdateTask {
                            status: Some(status),
                            ..Default::default()
                        },
                    )
                    .await?;
                RichMessage::plain(format!(
                    "Task #{} is {}: {}",
                    t.task.id, t.task.status, t.task.description
                ))
            }
            ChatCommand::AddTimelineEvent(e) => {
                let ev = self.timeline().add(actor, r, e).await?;
                RichMessage::plain(format!(
                    "Added to the timeline of {} at {}: {}",
                    inc.name,
                    ev.occurred_at.format("%Y-%m-%d %H:%M UTC"),
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
            ChatCommand::NotificationsGroup { .. } => {
                return Err(Error::Conflict(
                    "the notifications group cannot be edited from chat in this version yet".into(),
                )
                .into())
            }
            ChatCommand::UpdateParticipant { email, reason } => {
                let text = format!("{email} is in {} because: {}", inc.name, reason.as_str());
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
                RichMessage::plain(format!(
                    "The {kind} report reminder of {} is put off until {}.",
                    inc.name,
                    until.format("%Y-%m-%d %H:%M UTC")
                ))
            }
            ChatCommand::Help(_)
            | ChatCommand::ListIncidents
            | ChatCommand::ReportIncident { .. }
            | ChatCommand::Join { .. }
            | ChatCommand::Subscribe { .. } => {
                unreachable!("answered above")
            }
        };
        Ok(message)
    }
}
