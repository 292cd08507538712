//! Welcoming new participants: each gets an e-mail with their role, the incident's links, its
//! status and the suggested runbooks, and the room hears one announcement per batch of people.
//! While the room is still being created the job does nothing: the room's set-up welcomes
//! everyone who is a participant by then.

use crate::changes::Events;
use crate::flows::{email_job, incident_job};
use crate::jobs::context::{self, conversation_of};
use crate::jobs::outcome::{complete, JobFailure};
use crate::Engine;
use chrono::{DateTime, Utc};
use dispatch_core::message::{Block, RichMessage};
use dispatch_core::provider::{Email, IncidentContext};
use dispatch_core::ResourceKind;
use dispatch_store::model::job;
use dispatch_store::repo;
use dispatch_store::repo::job::NewJob;
use dispatch_store::repo::participant::ParticipantView;
use dispatch_store::Conn;

/// The job that welcomes `emails`; `announce` posts one announcement of them in the room.
pub(crate) fn job(
    incident_id: i64,
    emails: &[String],
    announce: bool,
    key: &str,
    at: DateTime<Utc>,
) -> NewJob {
    incident_job(
        dispatch_core::job::Welcome {
            incident_id,
            emails: emails.to_vec(),
            announce,
            key: key.into(),
        },
        Some(key.to_string()),
        at,
    )
}

/// The incident's suggested runbooks: (title, link).
pub(crate) async fn runbooks(
    conn: &impl Conn,
    incident_id: i64,
) -> crate::Result<Vec<(String, String)>> {
    Ok(runbooks_of(
        repo::rules::engagements(conn, incident_id).await?,
    ))
}

/// The runbooks (title, link) among an incident's engagements.
pub(crate) fn runbooks_of(
    engagements: Vec<dispatch_store::model::engagement::Model>,
) -> Vec<(String, String)> {
    engagements
        .into_iter()
        .filter(|e| e.kind == "document")
        .map(|e| (e.title.unwrap_or_default(), e.link.unwrap_or_default()))
        .collect()
}

/// The "suggested runbooks" part of a message (nothing when there are none).
pub(crate) fn runbook_blocks(runbooks: &[(String, String)]) -> Vec<Block> {
    if runbooks.is_empty() {
        return vec![];
    }
    vec![
        Block::Section {
            text: "Suggested runbooks:".into(),
        },
        Block::Links {
            links: runbooks.to_vec(),
        },
    ]
}

/// The links of an incident: Dispatch's own page first, then its ready resources.
pub(crate) fn links(ctx: &IncidentContext) -> Vec<(String, String)> {
    let mut out = vec![(
        "Open the incident".to_string(),
        dispatch_core::links::incident(&ctx.base_url, &ctx.name),
    )];
    let mut others: Vec<(String, String)> = ctx
        .links
        .iter()
        .map(|(k, l)| (resource_title(*k), l.clone()))
        .collect();
    others.sort();
    out.extend(others);
    out
}

fn resource_title(kind: ResourceKind) -> String {
    match kind {
        ResourceKind::Document => "Incident document".into(),
        ResourceKind::ReviewDocument => "Post-incident review".into(),
        ResourceKind::Conversation => "Incident room".into(),
        ResourceKind::Conference => "Conference".into(),
        ResourceKind::Storage => "Storage".into(),
        ResourceKind::Ticket => "Ticket".into(),
        other => other.as_str().replace('_', " "),
    }
}

/// A person's active roles, for the welcome (`observer` when they hold none).
fn role_of(participants: &[ParticipantView], email: &str) -> (String, Option<String>) {
    let p = participants.iter().find(|p| p.individual.email == email);
    let roles: Vec<String> = p
        .map(|p| {
            p.roles
                .iter()
                .filter(|r| r.renounced_at.is_none())
                .map(|r| r.role.replace('_', " "))
                .collect()
        })
        .unwrap_or_default();
    let role = if roles.is_empty() {
        "observer".to_string()
    } else {
        roles.join(", ")
    };
    (role, p.and_then(|p| p.participant.added_reason.clone()))
}

/// The welcome e-mail: role, status, links and runbooks.
pub(crate) fn email(
    ctx: &IncidentContext,
    runbooks: &[(String, String)],
    email: &str,
    role: &str,
    reason: Option<&str>,
) -> Email {
    let mut blocks = vec![
        Block::Header {
            text: format!("{}: {}", ctx.name, ctx.title),
        },
        Block::Section {
            text: format!("You were added to incident {} as {role}.", ctx.name),
        },
        Block::Fields {
            fields: [
                ("Incident", ctx.name.clone()),
                ("Title", ctx.title.clone()),
                ("Status", ctx.status.clone()),
                ("Your role", role.to_string()),
                ("Why", reason.unwrap_or_default().to_string()),
                ("Commander", ctx.commander.email.clone()),
                ("Priority", ctx.priority.clone()),
                ("Severity", ctx.severity.clone()),
            ]
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        },
        Block::Links { links: links(ctx) },
    ];
    blocks.extend(runbook_blocks(runbooks));
    blocks.push(Block::Context {
        text: "Sent by Dispatch because you were added to this incident.".into(),
    });
    dispatch_core::email::render(
        vec![email.to_string()],
        format!("[{}] You were added as {role}: {}", ctx.name, ctx.title),
        &RichMessage::new(blocks),
    )
}

/// The room's announcement of a batch of new participants.
pub(crate) fn announcement(
    ctx: &IncidentContext,
    participants: &[ParticipantView],
    emails: &[String],
    runbooks: &[(String, String)],
) -> RichMessage {
    let fields = emails
        .iter()
        .map(|e| {
            let (role, reason) = role_of(participants, e);
            (
                e.clone(),
                match reason {
                    Some(r) => format!("{role} ({r})"),
                    None => role,
                },
            )
        })
        .collect();
    let mut blocks = vec![
        Block::Section {
            text: format!("Welcome to {}! Status: {}.", ctx.name, ctx.status),
        },
        Block::Fields { fields },
    ];
    blocks.extend(runbook_blocks(runbooks));
    RichMessage::new(blocks)
}

/// The welcome e-mails for `emails`, as jobs (one mail per person and incident, ever).
pub(crate) async fn email_jobs(
    conn: &impl Conn,
    ctx: &IncidentContext,
    emails: &[String],
    at: DateTime<Utc>,
) -> crate::Result<Vec<NewJob>> {
    let runbooks = runbooks(conn, ctx.id).await?;
    let participants = repo::participant::list(conn, ctx.id).await?;
    Ok(emails
        .iter()
        .map(|e| {
            let (role, reason) = role_of(&participants, e);
            let mail = email(ctx, &runbooks, e, &role, reason.as_deref());
            email_job(
                &format!("welcome:{}:{e}", ctx.id),
                Some(dispatch_core::IncidentId(ctx.id)),
                &mail,
                at,
            )
        })
        .collect())
}

/// The `welcome` job.
pub(crate) async fn run(
    engine: &Engine,
    job: &job::Model,
    incident_id: i64,
    payload: dispatch_core::job::Welcome,
) -> Result<(), JobFailure> {
    let conn = engine.db().conn();
    let emails = payload.emails;
    let now = dispatch_core::now();
    let mut events = Events::system(now);
    let Some(room) = conversation_of(engine, incident_id).await? else {
        // Still being created: the room's set-up welcomes everyone.
        return complete(engine, job, incident_id, events).await;
    };
    let ctx = context::load(engine, incident_id).await?;
    if let (Some(room_id), true) = (room, payload.announce) {
        let p = engine.providers_of_incident(incident_id).await?;
        p.conversation.add_members(&room_id, &emails).await?;
        let participants = repo::participant::list(conn, incident_id).await?;
        let runbooks = runbooks(conn, incident_id).await?;
        let key = format!("welcome:{}", payload.key);
        p.conversation
            .post(
                &room_id,
                Some(&key),
                &announcement(&ctx, &participants, &emails, &runbooks),
            )
            .await?;
    }
    for j in email_jobs(conn, &ctx, &emails, now).await? {
        events.job(j);
    }
    complete(engine, job, incident_id, events).await
}
