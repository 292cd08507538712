//! Tasks: action items of an incident, with assignees, owner, due time and status.

use crate::changes::Events;
use crate::record::save_with_events;
use crate::{Actor, Engine, Result};
use dispatch_core::commands::{CreateTask, UpdateTask};
use dispatch_core::event::{Change, TimelineEvent};
use dispatch_core::values::{Email, IncidentRef};
use dispatch_core::{Patch, TaskId, TaskStatus};
use dispatch_store::model::{individual, task};
use dispatch_store::repo;
use dispatch_store::Conn;

/// A task with its people.
#[derive(Debug, Clone)]
pub struct TaskView {
    /// The task.
    pub task: task::Model,
    /// Assignees.
    pub assignees: Vec<individual::Model>,
    /// Owner.
    pub owner: Option<individual::Model>,
    /// The incident's key.
    pub incident: String,
}

/// How long a task has by default: a day during the response, a week for a follow-up of the
/// post-incident review (a task created once the incident is stable or closed).
pub fn default_due(incident_status: &str) -> (TaskSource, chrono::Duration) {
    if incident_status == "active" {
        (TaskSource::Incident, chrono::Duration::days(1))
    } else {
        (TaskSource::Review, chrono::Duration::days(7))
    }
}

/// Where a task came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskSource {
    /// Raised during the response.
    Incident,
    /// A follow-up of the post-incident review.
    Review,
}

impl TaskSource {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskSource::Incident => "incident",
            TaskSource::Review => "review",
        }
    }
}

async fn people(conn: &impl Conn, emails: &[Email]) -> Result<Vec<i64>> {
    let mut ids = Vec::new();
    for e in emails {
        let id = repo::individual::get_or_create(conn, e.as_str(), None)
            .await?
            .id;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

impl Engine {
    /// Whether the caller may see an incident: the store's `Viewer` decides (restricted
    /// incidents, members-only projects).
    pub(crate) async fn may_see(
        &self,
        caller: &crate::admin::Authenticated,
        incident_id: i64,
    ) -> Result<bool> {
        Ok(repo::incident::visible(self.db.conn(), caller.viewer(), incident_id).await?)
    }

    pub(crate) async fn views(&self, tasks: Vec<task::Model>) -> Result<Vec<TaskView>> {
        let conn = self.db.conn();
        let ids: Vec<i64> = tasks.iter().map(|t| t.id).collect();
        let mut assignees = repo::task::assignees(conn, &ids).await?;
        let mut names: std::collections::HashMap<i64, String> = Default::default();
        let mut out = Vec::new();
        for t in tasks {
            if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(t.incident_id) {
                let inc = repo::incident::row(
                    conn,
                    &IncidentRef::Id(dispatch_core::IncidentId(t.incident_id)),
                )
                .await?;
                slot.insert(inc.name);
            }
            let incident = names[&t.incident_id].clone();
            let mut people = Vec::new();
            for id in assignees.remove(&t.id).unwrap_or_default() {
                people.push(repo::individual::get(conn, id).await?);
            }
            let owner = match t.owner_id {
                Some(id) => Some(repo::individual::get(conn, id).await?),
                None => None,
            };
            out.push(TaskView {
                task: t,
                assignees: people,
                owner,
                incident,
            });
        }
        Ok(out)
    }
}

impl crate::Tasks<'_> {
    /// Creates a task in an incident.
    pub async fn create(self, actor: &Actor, r: &IncidentRef, cmd: CreateTask) -> Result<TaskView> {
        let txn = self.db.write().await?;
        let conn = &*txn;
        let current = repo::incident::lock(conn, r).await?;
        let now = dispatch_core::now();
        let (source, due_in) = default_due(&current.status);
        let assignees = people(conn, &cmd.assignees).await?;
        let owner = match &cmd.owner {
            Some(e) => people(conn, std::slice::from_ref(e)).await?[0],
            None => actor.individual_id.0,
        };
        let t = repo::task::insert(
            conn,
            task::Model {
                incident_id: current.id,
                description: cmd.description.into_inner(),
                status: TaskStatus::Open.as_str().into(),
                priority: cmd.priority.as_str().into(),
                creator_id: Some(actor.individual_id.0),
                owner_id: Some(owner),
                resolve_by: Some(cmd.resolve_by.unwrap_or(now + due_in)),
                resolved_at: None,
                source: source.as_str().into(),
                created_at: now,
                updated_at: now,
                ..Default::default()
            },
            &assignees,
        )
        .await?;
        let mut events = Events::new(actor, now);
        events.push_event(TimelineEvent::TaskCreated {
            task_id: t.id,
            assignees: cmd
                .assignees
                .iter()
                .map(|e| e.as_str().to_string())
                .collect(),
            description: t.description.clone(),
            resolve_by: t.resolve_by,
            source: t.source.clone(),
        });
        save_with_events(conn, &current, current.clone(), events).await?;
        txn.commit().await?;
        self.get(r, TaskId(t.id)).await
    }

    /// Changes a task; resolving and re-opening go on the timeline.
    pub async fn update(
        self,
        actor: &Actor,
        r: &IncidentRef,
        task_id: TaskId,
        cmd: UpdateTask,
    ) -> Result<TaskView> {
        let txn = self.db.write().await?;
        let conn = &*txn;
        let current = repo::incident::lock(conn, r).await?;
        let t = repo::task::get(conn, current.id, task_id.0).await?;
        let now = dispatch_core::now();
        let mut row = t.clone();
        let mut changed = Vec::new();
        if let Some(d) = cmd.description {
            row.description = d.into_inner();
            changed.push("description");
        }
        if let Some(p) = cmd.priority {
            row.priority = p.as_str().into();
            changed.push("priority");
        }
        if let Some(o) = &cmd.owner {
            row.owner_id = Some(people(conn, std::slice::from_ref(o)).await?[0]);
            changed.push("owner");
        }
        match cmd.resolve_by {
            Patch::Absent => {}
            Patch::Null => row.resolve_by = None,
            Patch::Value(v) => row.resolve_by = Some(v),
        }
        if let Some(a) = &cmd.assignees {
            let ids = people(conn, a).await?;
            repo::task::set_assignees(conn, t.id, &ids).await?;
            changed.push("assignees");
        }
        let mut events = Events::new(actor, now);
        if let Some(s) = cmd.status.filter(|s| s.as_str() != t.status) {
            row.status = s.as_str().into();
            row.resolved_at = (s == TaskStatus::Resolved).then_some(now);
            events.push_event(TimelineEvent::TaskStatusChanged {
                task_id: t.id,
                status: Change::new(t.status.clone(), s.as_str().to_string()),
                description: t.description.clone(),
            });
        }
        if !changed.is_empty() {
            events.push_event(TimelineEvent::TaskUpdated {
                task_id: t.id,
                fields: changed.iter().map(|f| f.to_string()).collect(),
            });
        }
        row.updated_at = now;
        repo::task::update(conn, &t, row).await?;
        save_with_events(conn, &current, current.clone(), events).await?;
        txn.commit().await?;
        self.get(r, task_id).await
    }

    /// One task of an incident.
    pub async fn get(self, r: &IncidentRef, task_id: TaskId) -> Result<TaskView> {
        let inc = repo::incident::get(self.db.conn(), r).await?;
        let t = repo::task::get(self.db.conn(), inc.id, task_id.0).await?;
        Ok(self.views(vec![t]).await?.remove(0))
    }

    /// The tasks of an incident.
    pub async fn list(self, r: &IncidentRef) -> Result<Vec<TaskView>> {
        let inc = repo::incident::get(self.db.conn(), r).await?;
        let ts = repo::task::list(self.db.conn(), inc.id).await?;
        self.views(ts).await
    }

    /// Tasks across incidents, newest first; restricted incidents' tasks only for their
    /// participants and admins.
    pub async fn find(
        self,
        caller: &crate::admin::Authenticated,
        f: &repo::task::TaskFilter,
    ) -> Result<Vec<TaskView>> {
        let tasks = repo::task::find(self.db.conn(), f).await?;
        let mut visible = Vec::new();
        let mut seen: std::collections::HashMap<i64, bool> = Default::default();
        for t in tasks {
            let ok = match seen.get(&t.incident_id) {
                Some(ok) => *ok,
                None => {
                    let ok = self.may_see(caller, t.incident_id).await?;
                    seen.insert(t.incident_id, ok);
                    ok
                }
            };
            if ok {
                visible.push(t);
            }
        }
        self.views(visible).await
    }
}
