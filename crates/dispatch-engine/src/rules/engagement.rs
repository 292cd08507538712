//! Engagement rules: a filter attached to individuals, teams, on-call services and documents.
//! The `engage` job evaluates them when an incident is declared and after every change while it
//! is active: matched individuals join as observers (the rule is their added reason), a matched
//! service's current on-call joins (one person per service), matched teams are engaged (their
//! address is mailed the incident card; a participant group will take them in), and matched
//! documents become the incident's suggested runbooks. Every match is recorded once.

use super::{matching, subject, welcome, Rule, RuleSpec, Targets};
use crate::changes::Events;
use crate::jobs::outcome::{complete_in, complete_without_incident, JobFailure};
use crate::{Engine, Result};
use dispatch_core::event::TimelineEvent;
use dispatch_core::values::IncidentRef;
use dispatch_core::{ParticipantRole, ValidationError, Visibility};
use dispatch_store::model::{engagement, engagement_rule, job, project};
use dispatch_store::repo;
use dispatch_store::Conn;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A document a rule suggests as a runbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Runbook {
    /// What it is called.
    pub title: String,
    /// Where it is.
    pub link: String,
}

/// What an engagement rule brings in.
#[derive(Debug, Clone, Default)]
pub struct Engagements {
    /// People who join as observers.
    pub individuals: Vec<String>,
    /// Team ids engaged.
    pub teams: Vec<i64>,
    /// Service ids whose on-call joins.
    pub services: Vec<i64>,
    /// Runbooks suggested.
    pub documents: Vec<Runbook>,
}

/// An engagement rule as written by an admin, already parsed.
pub type EngagementRuleSpec = RuleSpec<Engagements>;

/// A stored engagement rule, decoded.
pub type EngagementRule = Rule<Engagements>;

impl Targets for Engagements {
    type Row = engagement_rule::Model;

    fn read(row: &engagement_rule::Model) -> Self {
        Self {
            individuals: serde_json::from_str(&row.individuals).unwrap_or_default(),
            teams: serde_json::from_str(&row.teams).unwrap_or_default(),
            services: serde_json::from_str(&row.services).unwrap_or_default(),
            documents: serde_json::from_str(&row.documents).unwrap_or_default(),
        }
    }

    /// Teams and services must belong to the rule's project.
    async fn check(
        &mut self,
        conn: &impl Conn,
        project: Option<&project::Model>,
        e: &mut ValidationError,
    ) -> Result<()> {
        let Some(p) = project else {
            return Ok(());
        };
        let teams = repo::directory::teams(conn, p.id).await?;
        for t in self
            .teams
            .iter()
            .filter(|t| !teams.iter().any(|x| x.id == **t))
        {
            e.push("teams", format!("no team {t} in project {}", p.slug));
        }
        let services = repo::directory::services(conn, p.id).await?;
        for s in self
            .services
            .iter()
            .filter(|s| !services.iter().any(|x| x.id == **s))
        {
            e.push("services", format!("no service {s} in project {}", p.slug));
        }
        Ok(())
    }

    fn write(self, row: &mut engagement_rule::Model) {
        row.individuals = json!(self.individuals).to_string();
        row.teams = json!(self.teams).to_string();
        row.services = json!(self.services).to_string();
        row.documents = json!(self.documents).to_string();
    }
}

/// A person a match brings in.
struct Joiner {
    email: String,
    reason: String,
}

/// The `engage` job: evaluates the project's enabled rules against the incident as it is now
/// and records what is new, all in one transaction with the job's completion.
pub(crate) async fn run(
    engine: &Engine,
    job: &job::Model,
    incident_id: i64,
) -> Result<(), JobFailure> {
    // Who is on call for the services the project's rules name is asked of the on-call
    // provider before the transaction opens (it may be a remote service).
    let inc = repo::incident::get(
        engine.db().conn(),
        &IncidentRef::Id(dispatch_core::IncidentId(incident_id)),
    )
    .await?;
    let enabled: Vec<engagement_rule::Model> =
        repo::rules::list::<engagement_rule::Model>(engine.db().conn(), Some(inc.project_id))
            .await?
            .into_iter()
            .filter(|r| r.enabled)
            .collect();
    if enabled.is_empty() {
        // Nothing can match: done, without holding the incident (the declare saga runs beside).
        return complete_without_incident(engine, job).await;
    }
    let mut services: Vec<i64> = enabled
        .into_iter()
        .flat_map(|r| Engagements::read(&r).services)
        .collect();
    services.sort_unstable();
    services.dedup();
    let on_call = engine
        .on_call_for_services(incident_id, &services, dispatch_core::now())
        .await?;
    let txn = engine.db().write().await?;
    let conn = &*txn;
    // Locked first: a concurrent change waits, and the saga's conversation step is ordered
    // before or after this (see the welcome job).
    repo::incident::lock(
        conn,
        &IncidentRef::Id(dispatch_core::IncidentId(incident_id)),
    )
    .await?;
    let (row, s) = subject(conn, incident_id).await?;
    let now = dispatch_core::now();
    let mut events = Events::system(now);
    if row.visibility != Visibility::Open.as_str() || row.status != "active" {
        // Restricted incidents get no automatic engagement; closed ones need none.
        complete_in(&txn, job, incident_id, events).await?;
        txn.commit().await?;
        return Ok(());
    }
    let all = repo::rules::list::<engagement_rule::Model>(conn, Some(row.project_id)).await?;
    let mut joiners: Vec<Joiner> = Vec::new();
    for rule in matching(&all, &s, |_| true) {
        let name = rule.name.clone();
        let targets = Engagements::read(rule);
        let base = |kind: &str, target: String| engagement::Model {
            incident_id,
            rule_id: Some(rule.id),
            rule_name: name.clone(),
            kind: kind.into(),
            target,
            created_at: now,
            ..Default::default()
        };
        for email in &targets.individuals {
            let mut m = base("individual", email.clone());
            m.email = Some(email.clone());
            if repo::rules::add_engagement(conn, m).await? {
                events.push_event(TimelineEvent::ParticipantEngaged {
                    email: email.clone(),
                    rule: name.to_string(),
                    rule_id: rule.id,
                });
                joiners.push(Joiner {
                    email: email.clone(),
                    reason: format!("engagement rule {name}"),
                });
            }
        }
        for sid in &targets.services {
            let Ok(service) = repo::directory::service(conn, *sid).await else {
                continue;
            };
            let Some(email) = on_call.get(sid).cloned() else {
                continue;
            };
            let mut m = base("service", sid.to_string());
            m.email = Some(email.clone());
            m.title = Some(service.name.clone());
            if repo::rules::add_engagement(conn, m).await? {
                events.push_event(TimelineEvent::OncallEngaged {
                    email: email.clone(),
                    service_id: *sid,
                    service: service.name.clone(),
                    rule: name.to_string(),
                    rule_id: rule.id,
                });
                joiners.push(Joiner {
                    email,
                    reason: format!("on call for {} (engagement rule {name})", service.name),
                });
            }
        }
        for tid in &targets.teams {
            let Ok(team) = repo::directory::team(conn, *tid).await else {
                continue;
            };
            let mut m = base("team", tid.to_string());
            m.email = team.email.clone();
            m.title = Some(team.name.clone());
            if repo::rules::add_engagement(conn, m).await? {
                events.push_event(TimelineEvent::TeamEngaged {
                    team_id: *tid,
                    team: team.name.clone(),
                    email: team.email.clone(),
                    rule: name.to_string(),
                    rule_id: rule.id,
                });
                if let Some(address) = &team.email {
                    // Until participant groups exist, the team's address hears by mail.
                    let card = super::notification::card(engine, conn, &row).await?;
                    let mail = dispatch_core::email::render(
                        vec![address.clone()],
                        format!("[{}] Your team was engaged: {}", row.name, row.title),
                        &card,
                    );
                    events.job(crate::flows::email_job(
                        &format!("team:{tid}:{incident_id}"),
                        Some(dispatch_core::IncidentId(incident_id)),
                        &mail,
                        now,
                    ));
                }
            }
        }
        for doc in &targets.documents {
            let mut m = base("document", doc.link.clone());
            m.title = Some(doc.title.clone());
            m.link = Some(doc.link.clone());
            if repo::rules::add_engagement(conn, m).await? {
                events.push_event(TimelineEvent::RunbookSuggested {
                    title: doc.title.clone(),
                    link: doc.link.clone(),
                    rule: name.to_string(),
                    rule_id: rule.id,
                });
            }
        }
    }
    // The people join as observers, once each (a second rule naming them adds nothing).
    let mut welcomed = Vec::new();
    for j in &joiners {
        if welcomed.contains(&j.email) {
            continue;
        }
        let person = repo::individual::get_or_create(conn, &j.email, None).await?;
        let (p, joined) =
            repo::participant::ensure(conn, incident_id, person.id, Some(j.reason.clone()), now)
                .await?;
        if joined {
            repo::participant::assume_role(conn, &p, ParticipantRole::Observer, now).await?;
            events.push_event(TimelineEvent::ParticipantAdded {
                email: j.email.clone(),
                role: Some("observer".into()),
                reason: Some(j.reason.clone()),
            });
            welcomed.push(j.email.clone());
        }
    }
    if !welcomed.is_empty() {
        events.job(welcome::job(
            incident_id,
            &welcomed,
            true,
            &format!("engage:{}", job.id),
            now,
        ));
        events.job(crate::flows::refresh(
            dispatch_core::IncidentId(incident_id),
            None,
            now,
        ));
    }
    complete_in(&txn, job, incident_id, events).await?;
    txn.commit().await?;
    engine.wake_workers();
    Ok(())
}

impl crate::Rules<'_> {
    /// What engagement rules brought into an incident: people, on-call, teams and runbooks.
    pub async fn engagements(self, r: &IncidentRef) -> Result<Vec<engagement::Model>> {
        let inc = repo::incident::get(self.db().conn(), r).await?;
        Ok(repo::rules::engagements(self.db().conn(), inc.id).await?)
    }
}
