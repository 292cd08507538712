//! `mail_stakeholders`: a report or a status change mailed to the incident's stakeholders —
//! the members of its notifications group, and for reports also its subscribers and the
//! targets of the notification rules that match it (e-mail addresses, and conversations: a
//! `post_to_target` job each, posted once per key). Each address gets a `send_email` job of
//! its own (so one bad address fails one mail), HTML and text, in the incident's thread, with
//! its own signed unsubscribe link. Who may hear, and who unsubscribed, is decided when each
//! mail goes out.

use super::outcome::{complete, JobFailure};
use crate::changes::Events;
use crate::flows::{incident_thread, post_to_target_job, rule_email_job, stakeholder_email_job};
use crate::rules::notification::{addresses, matching};
use crate::stakeholders::unsubscribe_link;
use crate::Engine;
use dispatch_core::event::TimelineEvent;
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
    let link = dispatch_core::links::incident(&engine.base_url(), &inc.name);
    // One mail per address, each with its own unsubscribe link, in the incident's thread.
    let mail_to = |to: &str| {
        let stop = unsubscribe_link(engine, id, to);
        let mut message = p.message.clone();
        message.blocks.push(Block::Links {
            links: vec![
                ("Open the incident".into(), link.clone()),
                (format!("Unsubscribe from {}", inc.name), stop.clone()),
            ],
        });
        message.blocks.push(Block::Context {
            text: format!(
                "You receive this as a stakeholder of {}; the unsubscribe link stops this mail about it.",
                inc.name
            ),
        });
        let mut mail =
            dispatch_core::email::render(vec![to.to_string()], p.subject.clone(), &message);
        mail.thread = Some(incident_thread(id));
        mail.unsubscribe = Some(stop);
        mail
    };
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
    }
    let mut seen = Vec::new();
    for to in people {
        let to = to.trim().to_lowercase();
        if seen.contains(&to) {
            continue;
        }
        events.job(stakeholder_email_job(
            &format!("{}:to:{to}", p.key),
            id,
            &mail_to(&to),
            now,
        ));
        seen.push(to);
    }
    let mut told: Vec<String> = Vec::new();
    if p.rules_and_subscribers {
        let (row, s) = crate::rules::subject(conn, incident_id).await?;
        let rules = repo::rules::list(conn, Some(row.project_id)).await?;
        for rule in matching(&rules, &row, row.project_members_only, &s) {
            let key = format!("{}:rule:{}", p.key, rule.id);
            let rule_id = dispatch_core::RuleId(rule.id);
            match rule.target_kind.as_str() {
                "conversation" => {
                    events.job(post_to_target_job(id, rule_id, &key, &p.message, now));
                }
                "email" => {
                    // An address that hears it as a stakeholder already gets one mail.
                    for to in addresses(&rule.target) {
                        if seen.contains(&to) {
                            continue;
                        }
                        let mail = mail_to(&to);
                        events.job(rule_email_job(
                            &format!("{key}:to:{to}"),
                            Some(id),
                            rule_id,
                            &[id],
                            &mail,
                            now,
                        ));
                        seen.push(to);
                    }
                }
                _ => continue,
            }
            told.push(rule.name.clone());
        }
    }
    if !told.is_empty() {
        events.push_event(TimelineEvent::NotificationSent {
            what: "report".into(),
            rules: told,
        });
    }
    complete(engine, job, incident_id, events).await
}
