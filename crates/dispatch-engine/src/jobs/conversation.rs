//! Conversation and document upkeep: the set-up after the declare saga (topic, bookmarks,
//! members, welcome), refreshes after changes, and archiving on close / re-opening.

use super::context::{self, conversation, resources};
use super::outcome::{complete, made_by, JobFailure};
use crate::changes::Events;
use crate::Engine;
use dispatch_core::event::TimelineEvent;
use dispatch_core::message::{Block, RichMessage};
use dispatch_core::provider::{ConversationProvider, IncidentContext};
use dispatch_core::ResourceKind;
use dispatch_store::model::{job, resource};
use dispatch_store::repo;

const DOCUMENT_KINDS: &[&str] = &["document", "review_document", "executive_document"];

/// Topic, bookmarks to every other ready resource, members and the commander's rights: safe to
/// repeat.
async fn sync_room(
    conversation: &dyn ConversationProvider,
    room: &str,
    ctx: &IncidentContext,
    list: &[resource::Model],
) -> Result<(), JobFailure> {
    conversation.set_topic(room, &context::topic(ctx)).await?;
    let marks: Vec<(String, String)> = list
        .iter()
        .filter(|r| r.kind != "conversation" && (r.status == "ready" || r.status == "archived"))
        .filter_map(|r| Some((bookmark_title(&r.kind), r.link.clone()?)))
        .collect();
    conversation.bookmarks(room, &marks).await?;
    let members: Vec<String> = ctx
        .participants
        .iter()
        .map(|(p, _)| p.email.clone())
        .collect();
    conversation.add_members(room, &members).await?;
    conversation
        .set_commander(room, &ctx.commander.email)
        .await?;
    Ok(())
}

fn bookmark_title(kind: &str) -> String {
    match kind {
        "document" => "Incident document".into(),
        "review_document" => "Post-incident review".into(),
        "executive_document" => "Executive summary".into(),
        "conference" => "Conference".into(),
        "storage" => "Storage".into(),
        "ticket" => "Ticket".into(),
        "group" => "Participant group".into(),
        other => other.replace('_', " "),
    }
}

/// The welcome card posted once the room is set up: the incident, who is in it, the links, the
/// suggested runbooks and the similar past incidents (`similar`, already rendered; the
/// announcement of the people who joined at declaration).
fn welcome(
    ctx: &IncidentContext,
    runbooks: &[(String, String)],
    similar: Vec<Block>,
) -> RichMessage {
    let mut links: Vec<(String, String)> = ctx
        .links
        .iter()
        .filter(|(k, _)| *k != ResourceKind::Conversation)
        .map(|(k, l)| (bookmark_title(k.as_str()), l.clone()))
        .collect();
    links.sort();
    let mut blocks = vec![
        Block::Header {
            text: format!("{}: {}", ctx.name, ctx.title),
        },
        Block::Section {
            text: ctx.description.clone(),
        },
        Block::Fields {
            fields: vec![
                ("Commander".into(), ctx.commander.name.clone()),
                ("Status".into(), ctx.status.clone()),
                ("Type".into(), ctx.incident_type.clone()),
                ("Severity".into(), ctx.severity.clone()),
                ("Priority".into(), ctx.priority.clone()),
            ],
        },
        Block::Links { links },
    ];
    if !ctx.participants.is_empty() {
        blocks.push(Block::Fields {
            fields: ctx
                .participants
                .iter()
                .map(|(p, roles)| (p.email.clone(), roles.join(", ").replace('_', " ")))
                .collect(),
        });
    }
    blocks.extend(crate::rules::welcome::runbook_blocks(runbooks));
    blocks.extend(similar);
    blocks.push(Block::Context {
        text:
            "Run /dispatch-help for the commands; everything said here is kept with the incident."
                .into(),
    });
    RichMessage::new(blocks)
}

/// After the declare saga: bring the group's members up to date, set the room up and welcome
/// everyone.
pub(crate) async fn setup(
    engine: &Engine,
    job: &job::Model,
    incident_id: i64,
) -> Result<(), JobFailure> {
    let list = resources(engine, incident_id).await?;
    let now = dispatch_core::now();
    let mut events = Events::system(now);
    let conn = engine.db().conn();
    let room = conversation(&list)?;
    let ctx = context::load(engine, incident_id).await?;
    let runbooks = crate::rules::welcome::runbooks(conn, incident_id).await?;
    let similar = engine
        .incidents()
        .similar_in_chat(dispatch_core::IncidentId(incident_id))
        .await?;
    // People who joined while the group was being created.
    super::group::sync(engine, &ctx, &list, &mut events).await?;
    if let Some(room) = room {
        let room_id = room.external_id.clone().unwrap_or_default();
        let conversation = made_by(&engine.registry().conversation, room)?;
        sync_room(&*conversation, &room_id, &ctx, &list).await?;
        conversation
            .post(
                &room_id,
                Some(&format!("welcome:{incident_id}")),
                &welcome(&ctx, &runbooks, similar),
            )
            .await?;
        // The room hears about the page too (the e-mail went to the person paged).
        for page in repo::oncall::pages(engine.db().conn(), None, Some(incident_id), 10).await? {
            let text = format!(
                "{} was paged ({}); status: {}. Acknowledge: {}",
                page.email,
                page.reason,
                page.status,
                dispatch_core::links::page(&engine.base_url(), page.id)
            );
            conversation
                .post(
                    &room_id,
                    Some(&format!("page:{}", page.id)),
                    &RichMessage::plain(text),
                )
                .await?;
        }
        events.push_event(TimelineEvent::ConversationReady {
            topic: context::topic(&ctx),
        });
    }
    // Everyone in the incident by now but its reporter gets the welcome mail, with the links;
    // then the notification targets get the incident's card.
    let emails: Vec<String> = ctx
        .participants
        .iter()
        .map(|(p, _)| p.email.clone())
        .filter(|e| *e != ctx.reporter.email)
        .collect();
    for j in crate::rules::welcome::email_jobs(conn, &ctx, &emails, now).await? {
        events.job(j);
    }
    events.job(crate::rules::created_job(incident_id, now));
    // The engagement rules pull people in now, into a room that exists (the welcome job adds
    // them to it).
    events.then(crate::rules::engage_job(incident_id, "declare", now));
    complete(engine, job, incident_id, events).await
}

/// After a change: topic, bookmarks, members, documents, ticket, storage and conference brought
/// up to date.
pub(crate) async fn refresh(
    engine: &Engine,
    job: &job::Model,
    incident_id: i64,
) -> Result<(), JobFailure> {
    let list = resources(engine, incident_id).await?;
    let ctx = context::load_for_documents(engine, incident_id).await?;
    let mut events = Events::system(dispatch_core::now());
    super::group::sync(engine, &ctx, &list, &mut events).await?;
    let registry = engine.registry();
    for r in list.iter().filter(|r| r.status == "ready") {
        let Some(id) = &r.external_id else { continue };
        if DOCUMENT_KINDS.contains(&r.kind.as_str()) {
            made_by(&registry.document, r)?.update(id, &ctx).await?;
        } else if r.kind == "ticket" {
            made_by(&registry.ticket, r)?.update(id, &ctx).await?;
        } else if r.kind == "storage" {
            made_by(&registry.storage, r)?.update(id, &ctx).await?;
        } else if r.kind == "conference" {
            made_by(&registry.conference, r)?.update(id, &ctx).await?;
        }
    }
    if let Ok(Some(room)) = conversation(&list) {
        if room.status == "ready" {
            let room_id = room.external_id.clone().unwrap_or_default();
            let conversation = made_by(&registry.conversation, room)?;
            sync_room(&*conversation, &room_id, &ctx, &list).await?;
            if let Some(review) = list
                .iter()
                .find(|r| r.kind == "review_document" && r.status == "ready")
            {
                let text = format!(
                    "The post-incident review document is ready: {}",
                    review.link.clone().unwrap_or_default()
                );
                conversation
                    .post(
                        &room_id,
                        Some(&format!("review:{incident_id}")),
                        &RichMessage::plain(text),
                    )
                    .await?;
            }
        }
    }
    complete(engine, job, incident_id, events).await
}

/// On close (`archive`) the room is archived, documents become read-only and the other
/// resources are wound down (a meeting deleted); on re-open the reverse.
pub(crate) async fn archive(
    engine: &Engine,
    job: &job::Model,
    incident_id: i64,
    archive: bool,
) -> Result<(), JobFailure> {
    let registry = engine.registry();
    let list = resources(engine, incident_id).await?;
    // A document is frozen as the incident closed (status Closed, the resolution), not as the
    // last refresh before the close left it.
    let ctx = match archive {
        true => Some(context::load_for_documents(engine, incident_id).await?),
        false => None,
    };
    for r in list
        .iter()
        .filter(|r| DOCUMENT_KINDS.contains(&r.kind.as_str()) && r.status == "ready")
    {
        if let Some(id) = &r.external_id {
            let provider = made_by(&registry.document, r)?;
            if let Some(ctx) = &ctx {
                provider.update(id, ctx).await?;
            }
            provider.set_read_only(id, archive).await?;
        }
    }
    for r in list.iter().filter(|r| r.status == "ready") {
        let Some(id) = &r.external_id else { continue };
        let choices = match r.kind.as_str() {
            "ticket" => &registry.ticket,
            "conference" => &registry.conference,
            "storage" => &registry.storage,
            _ => continue,
        };
        made_by(choices, r)?.archive(id, archive).await?;
    }
    if let Some(g) = list
        .iter()
        .find(|r| r.kind == "group" && r.status == "ready")
    {
        if let Some(id) = &g.external_id {
            made_by(&registry.group, g)?.archive(id, archive).await?;
        }
    }
    let mut events = Events::system(dispatch_core::now());
    if let Some(room) = conversation(&list)? {
        let room_id = room.external_id.clone().unwrap_or_default();
        made_by(&registry.conversation, room)?
            .set_archived(&room_id, archive)
            .await?;
        let status = if archive { "archived" } else { "ready" };
        if room.status != status {
            let txn = engine.db().write().await?;
            let mut after = room.clone();
            after.status = status.into();
            after.updated_at = dispatch_core::now();
            repo::resource::update(&*txn, room, after).await?;
            events.push_event(if archive {
                TimelineEvent::ConversationArchived { archived: archive }
            } else {
                TimelineEvent::ConversationUnarchived { archived: archive }
            });
            super::outcome::complete_in(&txn, job, incident_id, events).await?;
            txn.commit().await?;
            return Ok(());
        }
    }
    complete(engine, job, incident_id, events).await
}

/// Posts a message (rich when given, else the text) in the conversation (once per key). Waits
/// (retries) while the conversation is being created; does nothing when there is none or it is
/// archived.
pub(crate) async fn announce(
    engine: &Engine,
    job: &job::Model,
    incident_id: i64,
    text: &str,
    key: &str,
    message: Option<RichMessage>,
) -> Result<(), JobFailure> {
    let list = resources(engine, incident_id).await?;
    if let Some(room) = conversation(&list)? {
        if room.status == "ready" {
            let room_id = room.external_id.clone().unwrap_or_default();
            made_by(&engine.registry().conversation, room)?
                .post(
                    &room_id,
                    Some(&format!("{key}:{incident_id}")),
                    &message.unwrap_or_else(|| RichMessage::plain(text)),
                )
                .await?;
        }
    }
    complete(
        engine,
        job,
        incident_id,
        Events::system(dispatch_core::now()),
    )
    .await
}
