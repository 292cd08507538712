//! Declaring an incident: one transaction that numbers it, records who reported it and who
//! commands it (role policies, on-call), tags it, starts its timeline, queues its resources and
//! the webhooks its first events trigger.
//! This is the hottest write path, so it reads the project's configuration from the cache and
//! answers from the rows it wrote instead of reading them back.
//! It reads first (configuration, access, on-call, tags, people, the number), lets the pure
//! [`plan`] decide everything, then writes the plan with store calls only.

mod plan;

use super::{status, IncidentDetail};
use crate::cache::ProjectConfig;
use crate::tags::resolve_tags;
use crate::webhook::outgoing::{Outgoing, Subscribers};
use crate::{Actor, Engine, Error, Result};
use chrono::{DateTime, Utc};
use dispatch_core::commands::DeclareIncident;
use dispatch_core::values::IncidentRef;
use dispatch_core::{IncidentId, IncidentStatus, ParticipantRole, ResourceKind, ValidationError};
use dispatch_store::model::{incident, page, participant, participant_role, project};
use dispatch_store::repo;
use dispatch_store::repo::event;
use dispatch_store::repo::incident::IncidentRow;
use dispatch_store::repo::participant::ParticipantView;
use dispatch_store::repo::project::{IncidentKeys, NextIncident};
use dispatch_store::{Batched, Conn};
use plan::{
    resolve, Backfill, BackfillFacts, DeclareInput, DeclarePlan, PlannedParticipant, Resolved,
};
use std::sync::Arc;

impl Engine {
    /// The project's configuration, or a field error on `project` when it does not exist.
    async fn declaring_in(&self, project: Option<&str>) -> Result<Arc<ProjectConfig>> {
        match self.project_config(project).await {
            Err(Error::NotFound(_)) => Err(ValidationError::field(
                "project",
                format!("unknown project {:?}", project.unwrap_or_default()),
            )
            .into()),
            other => other,
        }
    }

    /// A members-only project takes declarations from its members and admins only.
    async fn may_declare_in(&self, project: &project::Model, actor: &Actor) -> Result<()> {
        let conn = self.db.conn();
        if crate::accounts::projects::may_use_project(conn, project, actor.individual_id.0).await? {
            return Ok(());
        }
        Err(Error::Forbidden(format!(
            "project {} is members-only: ask one of its admins to add you",
            project.slug
        )))
    }

    /// Writes a declaration's plan: store calls only, in the plan's order. With `keys` taken
    /// beforehand (PostgreSQL), no insert waits for another's key, so on a [`Batched`]
    /// transaction they go as one statement; without (SQLite), each insert answers its key.
    async fn write_plan(
        &self,
        conn: &impl Conn,
        plan: &DeclarePlan,
        subscribers: &Subscribers,
        keys: Option<&IncidentKeys>,
    ) -> Result<Written> {
        let now = plan.incident.created_at;
        let inc = match keys {
            Some(k) => {
                let row = incident::Model {
                    id: k.incident,
                    ..plan.incident.clone()
                };
                repo::incident::insert_keyed(conn, row.clone()).await?;
                row
            }
            None => repo::incident::insert(conn, plan.incident.clone()).await?,
        };
        let mut event_rows = plan.events.clone();
        for row in &mut event_rows {
            row.incident_id = inc.id;
        }
        let webhooks = Outgoing::for_events(subscribers, &event_rows);
        event::insert(conn, event_rows).await?;
        let ended = plan.backfill.as_ref().and_then(|b| b.roles_renounced_at);
        let participant_keys = keys.map(|k| k.participants.as_slice());
        let participants = write_participants(
            conn,
            inc.id,
            &plan.participants,
            participant_keys,
            now,
            ended,
        )
        .await?;
        if !plan.tag_ids.is_empty() {
            repo::tag::set_for_incident(conn, inc.id, &plan.tag_ids).await?;
        }
        if let Some(page) = &plan.page {
            // The page is recorded, and its jobs (the on-call provider, mail, direct message)
            // queued, in this transaction.
            let page = page::Model {
                incident_id: inc.id,
                ..page.clone()
            };
            let page = repo::oncall::add_page(conn, page).await?;
            let jobs = crate::oncall::page_jobs(&self.base_url(), &inc, &page, now);
            repo::job::enqueue(conn, jobs).await?;
        }
        crate::flows::start_declare(
            conn,
            dispatch_core::IncidentId(inc.id),
            |k| plan.provider_of(k),
            now,
        )
        .await?;
        if let Some(w) = webhooks {
            w.enqueue(conn, &inc).await?;
        }
        let inc = match &plan.backfill {
            Some(b) => write_backfill(&self.base_url(), conn, inc, b).await?,
            None => inc,
        };
        Ok(Written {
            incident: inc,
            participants,
        })
    }
}

/// What writing a plan inserted that the answer shows.
struct Written {
    incident: incident::Model,
    /// The participants, in the plan's order.
    participants: Vec<participant::Model>,
}

/// The request's taxonomy and tags, resolved; every bad field is reported at once.
async fn resolve_request<'a>(
    conn: &impl Conn,
    cfg: &'a ProjectConfig,
    cmd: &DeclareIncident,
) -> Result<(Resolved<'a>, Vec<i64>)> {
    let mut errors = ValidationError::default();
    let tax = resolve(
        cfg,
        cmd.incident_type.as_deref(),
        cmd.priority.as_deref(),
        cmd.severity.as_deref(),
        &mut errors,
    );
    let tag_ids = if cmd.tags.is_empty() {
        vec![]
    } else {
        resolve_tags(conn, cfg.project.id, &cmd.tags, &mut errors).await?
    };
    errors.into_result()?;
    Ok((tax.expect("no field errors"), tag_ids))
}

/// Inserts the planned participants and then all their roles (ended at `ended`, when a
/// back-filled closing ends them); with `keys`, the participants take those ids, in one insert.
async fn write_participants(
    conn: &impl Conn,
    incident_id: i64,
    planned: &[PlannedParticipant],
    keys: Option<&[i64]>,
    now: DateTime<Utc>,
    ended: Option<DateTime<Utc>>,
) -> Result<Vec<participant::Model>> {
    let row = |pp: &PlannedParticipant, id| participant::Model {
        id,
        incident_id,
        individual_id: pp.individual.id,
        added_reason: pp.reason.clone(),
        created_at: now,
        ..Default::default()
    };
    let mut out = Vec::new();
    match keys {
        Some(keys) => {
            if keys.len() < planned.len() {
                return Err(Error::Store(dispatch_store::StoreError::other(format!(
                    "{} participant ids taken for {} participants",
                    keys.len(),
                    planned.len()
                ))));
            }
            out = planned
                .iter()
                .zip(keys)
                .map(|(pp, id)| row(pp, *id))
                .collect();
            repo::participant::insert_keyed(conn, out.clone()).await?;
        }
        None => {
            for pp in planned {
                out.push(repo::participant::insert(conn, row(pp, 0)).await?);
            }
        }
    }
    let role_rows = out
        .iter()
        .zip(planned)
        .flat_map(|(p, pp)| pp.roles.iter().map(|r| role_row(p, *r, now)))
        .map(|r| participant_role::Model {
            renounced_at: ended,
            ..r
        })
        .collect();
    repo::participant::insert_roles(conn, role_rows).await?;
    Ok(out)
}

/// A role a participant takes at declaration.
fn role_row(
    p: &participant::Model,
    role: ParticipantRole,
    now: DateTime<Utc>,
) -> participant_role::Model {
    participant_role::Model {
        id: 0,
        participant_id: p.id,
        incident_id: p.incident_id,
        role: role.as_str().into(),
        assumed_at: now,
        renounced_at: None,
    }
}

/// Writes the planned back-fill on the declared incident `inc`, as a later transition would:
/// the review document, the move's events (and their webhooks) and jobs, then the row.
async fn write_backfill(
    base_url: &str,
    conn: &impl Conn,
    inc: incident::Model,
    b: &Backfill,
) -> Result<incident::Model> {
    let id = inc.id;
    if let Some(review) = &b.review {
        let kind = ResourceKind::ReviewDocument;
        let provider = |_| review.provider.clone();
        repo::resource::add_pending(conn, id, &[kind], provider, review.created_at).await?;
    }
    let mut rows = b.events.clone();
    for row in &mut rows {
        row.incident_id = id;
    }
    let webhooks = Outgoing::prepare(conn, &rows).await?;
    event::insert(conn, rows).await?;
    repo::job::enqueue(conn, b.jobs(base_url, id)).await?;
    let after = incident::Model {
        id,
        ..b.incident.clone()
    };
    let saved = repo::incident::update(conn, &inc, after).await?;
    if let Some(w) = webhooks {
        w.enqueue(conn, &saved).await?;
    }
    Ok(saved)
}

/// What back-filling the request's past status needs read (nothing for an active incident):
/// the project's stable priority, and when closing its required tag types and the types of
/// the request's tags.
async fn backfill_facts(
    conn: &impl Conn,
    project_id: i64,
    status: Option<IncidentStatus>,
    tag_ids: &[i64],
) -> Result<BackfillFacts> {
    let mut facts = BackfillFacts::default();
    let Some(target) = status.filter(|s| *s != IncidentStatus::Active) else {
        return Ok(facts);
    };
    if let Some(id) = repo::project::get(conn, project_id)
        .await?
        .stable_priority_id
    {
        facts.stable_priority = Some(repo::taxonomy::priorities::get(conn, id).await?);
    }
    if target == IncidentStatus::Closed {
        facts.required_tag_types = status::required_tag_types(conn, project_id).await?;
        if !facts.required_tag_types.is_empty() {
            facts.tag_types = status::tag_types_of(conn, tag_ids).await?;
        }
    }
    Ok(facts)
}

/// The declared incident as readers see it, from the rows just written (no read-back).
fn declared_detail(
    project: &project::Model,
    tax: &Resolved,
    actor: &Actor,
    plan: &DeclarePlan,
    written: Written,
) -> IncidentDetail {
    let inc = written.incident;
    let (commander, now) = (&plan.commander, inc.created_at);
    let row = IncidentRow {
        id: inc.id,
        project_id: project.id,
        project_slug: project.slug.clone(),
        project_name: project.name.clone(),
        project_members_only: project.members_only,
        number: inc.number,
        name: inc.name.clone(),
        title: inc.title.clone(),
        description: inc.description.clone(),
        resolution: None,
        status: inc.status.clone(),
        visibility: inc.visibility.clone(),
        type_id: tax.type_.id,
        type_slug: tax.type_.slug.clone(),
        type_name: tax.type_.name.clone(),
        priority_id: tax.priority.id,
        priority_slug: tax.priority.slug.clone(),
        priority_name: tax.priority.name.clone(),
        severity_id: tax.severity.id,
        severity_slug: tax.severity.slug.clone(),
        severity_name: tax.severity.name.clone(),
        commander_id: commander.id,
        commander_email: commander.email.clone(),
        commander_name: commander.name.clone(),
        reporter_id: actor.individual_id.0,
        reporter_email: actor.email.clone(),
        reporter_name: actor.name.clone(),
        reported_at: inc.reported_at,
        stable_at: None,
        closed_at: None,
        created_at: now,
        updated_at: now,
    };
    let participants = written
        .participants
        .into_iter()
        .zip(&plan.participants)
        .map(|(p, pp)| ParticipantView {
            roles: pp.roles.iter().map(|r| role_row(&p, *r, now)).collect(),
            participant: p,
            individual: pp.individual.clone(),
        })
        .collect();
    let mut resources = plan.resources.clone();
    for r in &mut resources {
        r.incident_id = inc.id;
    }
    IncidentDetail {
        row,
        tags: vec![],
        participants,
        resources,
        last_tactical_report: None,
        last_executive_report: None,
        runbooks: vec![],
        total_cost_cents: None,
    }
}

impl crate::Incidents<'_> {
    /// The field errors a declaration's named project, type, priority and severity would get,
    /// without writing anything. Lets a transport report every bad field at once when other
    /// fields already failed to parse.
    pub async fn check_refs(
        self,
        project: Option<&str>,
        incident_type: Option<&str>,
        priority: Option<&str>,
        severity: Option<&str>,
    ) -> Result<ValidationError> {
        let cfg = match self.declaring_in(project).await {
            Ok(c) => c,
            Err(Error::Validation(e)) => return Ok(e),
            Err(other) => return Err(other),
        };
        let mut errors = ValidationError::default();
        resolve(&cfg, incident_type, priority, severity, &mut errors);
        Ok(errors)
    }

    /// Declares an incident. Returns once it is durably stored.
    pub async fn declare(self, actor: &Actor, cmd: DeclareIncident) -> Result<IncidentDetail> {
        let (cfg, on_call) = self.declaring(actor, &cmd).await?;
        // The subscriptions are read while the transaction starts (on PostgreSQL, one round
        // trip instead of two).
        let (txn, subscribers) = tokio::try_join!(
            async { Ok(self.db.write().await?) },
            Outgoing::subscribers(self.db.beside())
        )?;
        let setup = DeclareSetup {
            cfg,
            on_call,
            subscribers,
        };
        // Every insert, and the request's audit entry, in one statement on PostgreSQL.
        let batch = Batched::new(&*txn);
        let declared = self.declare_within(&batch, &setup, actor, cmd).await?;
        repo::audit::append_pending_copy(&batch).await?;
        batch.flush().await?;
        repo::audit::take_pending();
        txn.commit().await?;
        self.wake_workers();
        self.declared_answer(&setup, actor, declared).await
    }
}

/// What a declaration asks before its transaction: the project's configuration (the actor may
/// declare there), who is on call for its role policies (an external on-call provider's call
/// never holds the transaction) and the webhook subscriptions its events may go to (so the
/// transaction's writes need no read between them).
pub(crate) struct DeclareSetup {
    cfg: Arc<ProjectConfig>,
    on_call: std::collections::HashMap<i64, String>,
    subscribers: Subscribers,
}

/// A declaration written in a transaction not yet committed.
pub(crate) struct Declared<'a> {
    tax: Resolved<'a>,
    plan: DeclarePlan,
    written: Written,
}

impl Declared<'_> {
    /// The incident as inserted.
    pub(crate) fn incident(&self) -> &incident::Model {
        &self.written.incident
    }
}

impl Engine {
    /// Reads what a declaration needs before its transaction.
    pub(crate) async fn prepare_declare(
        &self,
        actor: &Actor,
        cmd: &DeclareIncident,
    ) -> Result<DeclareSetup> {
        let (cfg, on_call) = self.declaring(actor, cmd).await?;
        let subscribers = Outgoing::subscribers(self.db.conn()).await?;
        Ok(DeclareSetup {
            cfg,
            on_call,
            subscribers,
        })
    }

    /// The project's configuration, once the actor may declare there, and who is on call for
    /// its role policies.
    async fn declaring(
        &self,
        actor: &Actor,
        cmd: &DeclareIncident,
    ) -> Result<(Arc<ProjectConfig>, std::collections::HashMap<i64, String>)> {
        let cfg = self.declaring_in(cmd.project.as_deref()).await?;
        self.may_declare_in(&cfg.project, actor).await?;
        let on_call = self
            .on_call_for_policies(&cfg, dispatch_core::now())
            .await?;
        Ok((cfg, on_call))
    }

    /// A declaration's writes — the incident, its participants, tags, timeline, page, the
    /// declare flow's jobs and webhooks — in the caller's transaction: the transactional core
    /// that declaring and escalating a case share.
    pub(crate) async fn declare_within<'a>(
        &self,
        conn: &impl Conn,
        setup: &'a DeclareSetup,
        actor: &Actor,
        cmd: DeclareIncident,
    ) -> Result<Declared<'a>> {
        let cfg = &setup.cfg;
        let (tax, tag_ids) = resolve_request(conn, cfg, &cmd).await?;
        let backfill = backfill_facts(conn, cfg.project.id, cmd.status, &tag_ids).await?;
        let input = DeclareInput {
            actor,
            cmd,
            project: &cfg.project,
            tax,
            policies: &cfg.policies,
            on_call: &setup.on_call,
            tag_ids,
            backfill,
            now: dispatch_core::now(),
        };
        let roles = plan::roles(&input);
        // The people, once each: the actor is known; others are looked up (or added).
        let mut found = Vec::new();
        for email in roles.people_to_find(actor) {
            found.push(repo::individual::get_or_create(conn, &email, None).await?);
        }
        plan::check(&input)?;
        // Everyone found and the actor: at most this many participants.
        let people = found.len() + 1;
        let next = self.next_incident(conn, cfg.project.id, people).await?;
        let plan = plan::plan(input, roles, found, next.number, |k| {
            self.pending_slug(cfg, k)
        })?;
        let written = self
            .write_plan(conn, &plan, &setup.subscribers, next.keys.as_ref())
            .await?;
        Ok(Declared { tax, plan, written })
    }

    /// The project's next incident number. On PostgreSQL it is taken in a statement of its own,
    /// committed at once ([`dispatch_store::Db::counters`]): the project's row is then locked
    /// for that statement only, not for the whole declaration, so declarations in one project
    /// run side by side instead of one after the other. A declaration whose transaction fails
    /// after that (the database refuses a write, the process dies) leaves its number unused —
    /// the next incident takes the one after it; field errors are all found before. The same
    /// statement takes the keys of the incident and of up to `participants` participants
    /// ([`repo::project::next_incident`]). On SQLite, where a write transaction holds the only
    /// writer anyway, the number is taken inside the declaration's transaction.
    async fn next_incident(
        &self,
        conn: &impl Conn,
        project_id: i64,
        participants: usize,
    ) -> Result<NextIncident> {
        Ok(match self.db.counters() {
            Some(own) => repo::project::next_incident(own, project_id, participants).await?,
            None => repo::project::next_incident(conn, project_id, participants).await?,
        })
    }

    /// The committed declaration as readers see it.
    pub(crate) async fn declared_answer(
        &self,
        setup: &DeclareSetup,
        actor: &Actor,
        declared: Declared<'_>,
    ) -> Result<IncidentDetail> {
        let Declared { tax, plan, written } = declared;
        let inc = &written.incident;
        tracing::info!(incident.id = inc.id, incident.name = %inc.name, "incident declared");
        if plan.backfill.is_some() || !plan.tag_ids.is_empty() {
            // Rare paths: read back what the transition and tags made.
            return super::load_detail(self.db.conn(), &IncidentRef::Id(IncidentId(inc.id))).await;
        }
        Ok(declared_detail(
            &setup.cfg.project,
            &tax,
            actor,
            &plan,
            written,
        ))
    }
}
