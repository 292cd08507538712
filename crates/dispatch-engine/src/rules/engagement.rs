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
use chrono::{DateTime, Utc};
use dispatch_core::event::TimelineEvent;
use dispatch_core::values::IncidentRef;
use dispatch_core::{ValidationError, Visibility};
use dispatch_store::model::{engagement, engagement_rule, job, project};
use dispatch_store::repo;
use dispatch_store::repo::incident::IncidentRow;
use dispatch_store::Conn;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;

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

/// One evaluation of the project's rules, inside the job's transaction: the engagements it
/// records, their timeline events and jobs, and the people who will join.
struct Round<'a, C: Conn> {
    engine: &'a Engine,
    conn: &'a C,
    row: &'a IncidentRow,
    /// Who is on call, per service id the rules name (read before the transaction opened).
    on_call: &'a HashMap<i64, String>,
    now: DateTime<Utc>,
    events: Events,
    joiners: Vec<Joiner>,
}

/// The `engage` job: evaluates the project's enabled rules against the incident as it is now
/// and records what is new, all in one transaction with the job's completion.
pub(crate) async fn run(
    engine: &Engine,
    job: &job::Model,
    incident_id: i64,
) -> Result<(), JobFailure> {
    let r = IncidentRef::Id(dispatch_core::IncidentId(incident_id));
    // Who is on call for the services the project's rules name is asked of the on-call
    // provider before the transaction opens (it may be a remote service).
    let inc = repo::incident::get(engine.db().conn(), &r).await?;
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
    repo::incident::lock(conn, &r).await?;
    let (row, s) = subject(conn, incident_id).await?;
    let now = dispatch_core::now();
    let mut round = Round {
        engine,
        conn,
        row: &row,
        on_call: &on_call,
        now,
        events: Events::system(now),
        joiners: Vec::new(),
    };
    // Restricted incidents get no automatic engagement; closed ones need none.
    if row.visibility == Visibility::Open.as_str() && row.status == "active" {
        let all = repo::rules::list::<engagement_rule::Model>(conn, Some(row.project_id)).await?;
        for rule in matching(&all, &s, |_| true) {
            round.rule(rule).await?;
        }
        round.admit(job.id).await?;
    }
    complete_in(&txn, job, incident_id, round.events).await?;
    txn.commit().await?;
    engine.wake_workers();
    Ok(())
}

impl<C: Conn> Round<'_, C> {
    /// The engagement row a target of `rule` would record.
    fn base(&self, rule: &engagement_rule::Model, kind: &str, target: String) -> engagement::Model {
        engagement::Model {
            incident_id: self.row.id,
            rule_id: Some(rule.id),
            rule_name: rule.name.clone(),
            kind: kind.into(),
            target,
            created_at: self.now,
            ..Default::default()
        }
    }

    /// Everything one matching rule brings in that was not recorded before.
    async fn rule(&mut self, rule: &engagement_rule::Model) -> Result<()> {
        let targets = Engagements::read(rule);
        for email in &targets.individuals {
            self.individual(rule, email).await?;
        }
        for sid in &targets.services {
            self.service(rule, *sid).await?;
        }
        for tid in &targets.teams {
            self.team(rule, *tid).await?;
        }
        for doc in &targets.documents {
            let mut m = self.base(rule, "document", doc.link.clone());
            m.title = Some(doc.title.clone());
            m.link = Some(doc.link.clone());
            if repo::rules::add_engagement(self.conn, m).await? {
                self.events.push_event(TimelineEvent::RunbookSuggested {
                    title: doc.title.clone(),
                    link: doc.link.clone(),
                    rule: rule.name.clone(),
                    rule_id: rule.id,
                });
            }
        }
        Ok(())
    }

    async fn individual(&mut self, rule: &engagement_rule::Model, email: &str) -> Result<()> {
        let mut m = self.base(rule, "individual", email.into());
        m.email = Some(email.into());
        if repo::rules::add_engagement(self.conn, m).await? {
            self.events.push_event(TimelineEvent::ParticipantEngaged {
                email: email.into(),
                rule: rule.name.clone(),
                rule_id: rule.id,
            });
            self.joiners.push(Joiner {
                email: email.into(),
                reason: format!("engagement rule {}", rule.name),
            });
        }
        Ok(())
    }

    /// The service's current on-call, when the provider named one.
    async fn service(&mut self, rule: &engagement_rule::Model, sid: i64) -> Result<()> {
        let Ok(service) = repo::directory::service(self.conn, sid).await else {
            return Ok(());
        };
        let Some(email) = self.on_call.get(&sid).cloned() else {
            return Ok(());
        };
        let mut m = self.base(rule, "service", sid.to_string());
        m.email = Some(email.clone());
        m.title = Some(service.name.clone());
        if repo::rules::add_engagement(self.conn, m).await? {
            self.events.push_event(TimelineEvent::OncallEngaged {
                email: email.clone(),
                service_id: sid,
                service: service.name.clone(),
                rule: rule.name.clone(),
                rule_id: rule.id,
            });
            self.joiners.push(Joiner {
                email,
                reason: format!(
                    "on call for {} (engagement rule {})",
                    service.name, rule.name
                ),
            });
        }
        Ok(())
    }

    /// A team is recorded, and until participant groups exist its address hears by mail.
    async fn team(&mut self, rule: &engagement_rule::Model, tid: i64) -> Result<()> {
        let Ok(team) = repo::directory::team(self.conn, tid).await else {
            return Ok(());
        };
        let mut m = self.base(rule, "team", tid.to_string());
        m.email = team.email.clone();
        m.title = Some(team.name.clone());
        if !repo::rules::add_engagement(self.conn, m).await? {
            return Ok(());
        }
        self.events.push_event(TimelineEvent::TeamEngaged {
            team_id: tid,
            team: team.name.clone(),
            email: team.email.clone(),
            rule: rule.name.clone(),
            rule_id: rule.id,
        });
        if let Some(address) = &team.email {
            let row = self.row;
            let card = super::notification::card(self.engine, self.conn, row).await?;
            let mail = dispatch_core::email::render(
                vec![address.clone()],
                format!("[{}] Your team was engaged: {}", row.name, row.title),
                &card,
            );
            self.events.job(crate::flows::email_job(
                &format!("team:{tid}:{}", row.id),
                Some(dispatch_core::IncidentId(row.id)),
                &mail,
                self.now,
            ));
        }
        Ok(())
    }

    /// The people join as observers, once each (a second rule naming them adds nothing), and
    /// those who joined are welcomed.
    async fn admit(&mut self, job_id: i64) -> Result<()> {
        let (conn, now, incident_id) = (self.conn, self.now, self.row.id);
        let joiners: Vec<(String, String)> = self
            .joiners
            .iter()
            .map(|j| (j.email.clone(), j.reason.clone()))
            .collect();
        let welcomed =
            crate::participant::add_observers(conn, incident_id, &joiners, &mut self.events, now)
                .await?;
        if !welcomed.is_empty() {
            let key = format!("engage:{job_id}");
            self.events
                .job(welcome::job(incident_id, &welcomed, true, &key, now));
            self.events.job(crate::flows::refresh(
                dispatch_core::IncidentId(incident_id),
                None,
                now,
            ));
        }
        Ok(())
    }
}

impl crate::Rules<'_> {
    /// What engagement rules brought into an incident: people, on-call, teams and runbooks.
    pub async fn engagements(self, r: &IncidentRef) -> Result<Vec<engagement::Model>> {
        let inc = repo::incident::get(self.db().conn(), r).await?;
        Ok(repo::rules::engagements(self.db().conn(), inc.id).await?)
    }
}
