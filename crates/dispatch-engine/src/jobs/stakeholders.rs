//! `mail_stakeholders`: a report or a status change mailed to the incident's stakeholders —
//! the members of its notifications group, and for reports also the e-mail targets of the
//! notification rules that match it and its subscribers. Each recipient gets a `send_email`
//! job of their own (so one bad address fails one mail), HTML and text, in the incident's
//! thread. Who may hear, and who unsubscribed, is decided when each mail goes out.

use super::outcome::{complete, JobFailure};
use crate::changes::Events;
use crate::flows::{incident_thread, rule_email_job, stakeholder_email_job};
use crate::rules::notification::{addresses, matching};
use crate::Engine;
use dispatch_core::job::MailStakeholders;
use dispatch_core::message::Block;
use dispatch_core::values::IncidentRef;
use dispatch_core::{GroupPurpose, IncidentId};
use dispatch_store::model::job;
use dispatch_store::repo;

/// Queues the mails of one report or status change.
pub(crate) async fn mail(
    engine: &Engine,
    job: &job::Model,
    incident_id: i64,
    p: MailStakeholders,
) -> Result<(), JobFailure> {
    let conn = engine.db().conn();
    let id = IncidentId(incident_id);
    let inc = repo::incident::row(conn, &IncidentRef::Id(id)).await?;
    let link = format!("{}/api/v1/incidents/{}", engine.base_url(), inc.name);
    let mut message = p.message.clone();
    message.blocks.push(Block::Links {
        links: vec![("Open the incident".into(), link.clone())],
    });
    message.blocks.push(Block::Context {
        text: format!(
            "You receive this as a stakeholder of {}. To receive no more: DELETE {link}/subscribe (signed in), or ask its commander.",
            inc.name
        ),
    });
    let mut mail = dispatch_core::email::render(Vec::new(), p.subject.clone(), &message);
    mail.thread = Some(incident_thread(id));
    let now = dispatch_core::now();
    let mut events = Events::system(now);
    let mut people: Vec<String> = Vec::new();
    if let Some(g) =
        repo::participant_group::of_incident(conn, incident_id, GroupPurpose::Notifications).await?
    {
        people.extend(repo::participant_group::member_emails(conn, g.id).await?);
    }
    if p.rules_and_subscribers {
        people.extend(
            repo::rules::subscribers(conn, incident_id)
                .await?
                .into_iter()
                .map(|s| s.email),
        );
        let (row, s) = crate::rules::subject(conn, incident_id).await?;
        let rules = repo::rules::list(conn, Some(row.project_id)).await?;
        for rule in matching(&rules, &row, row.project_members_only, &s) {
            if rule.target_kind != "email" {
                continue;
            }
            let to = addresses(&rule.target);
            let mut m = mail.clone();
            m.to = to;
            events.job(rule_email_job(
                &format!("{}:rule:{}", p.key, rule.id),
                Some(id),
                dispatch_core::RuleId(rule.id),
                &[id],
                &m,
                now,
            ));
        }
    }
    let mut seen = Vec::new();
    for to in people {
        let to = to.trim().to_lowercase();
        if seen.contains(&to) {
            continue;
        }
        let mut m = mail.clone();
        m.to = vec![to.clone()];
        events.job(stakeholder_email_job(
            &format!("{}:to:{to}", p.key),
            id,
            &m,
            now,
        ));
        seen.push(to);
    }
    complete(engine, job, incident_id, events).await
}
