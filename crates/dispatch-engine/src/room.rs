//! Reading the built-in incident room and documents, and posting to the room.

use crate::admin::Authenticated;
use crate::changes::Events;
use crate::command::CommandError;
use crate::record::save_with_events;
use crate::{Actor, Engine, Error, Result};
use dispatch_core::message::RichMessage;
use dispatch_core::values::{IncidentRef, LongText};
use dispatch_core::{EventSource, Transport};
use dispatch_store::model::{
    document, room, room_bookmark, room_member, room_message, room_reaction,
};
use dispatch_store::repo;
use dispatch_store::repo::event::{EventFilter, NewEvent};

/// The timeline kind of a conversation message put on the timeline.
const IMPORTED: &str = "imported_message";

/// The timeline event of a conversation message put on the timeline.
fn imported(
    actor: &Actor,
    author: &str,
    text: &str,
    at: chrono::DateTime<chrono::Utc>,
    details: serde_json::Value,
) -> Events {
    let mut events = Events::new(actor, dispatch_core::now());
    events.push_custom(NewEvent {
        occurred_at: at,
        kind: IMPORTED.into(),
        source: EventSource::Dispatch,
        actor: Some(actor.email.clone()),
        transport: actor.transport,
        description: format!("{author}: {text}"),
        details,
        pinned: false,
    });
    events
}

/// An incident room with its members, bookmarks and latest messages.
#[derive(Debug, Clone)]
pub struct RoomView {
    /// The room.
    pub room: room::Model,
    /// Members.
    pub members: Vec<room_member::Model>,
    /// Bookmarks.
    pub bookmarks: Vec<room_bookmark::Model>,
    /// Messages, oldest first (the latest `limit`).
    pub messages: Vec<room_message::Model>,
}

impl Engine {
    /// Writes a message in a room (directly: the room is Dispatch's own); `author` `None` is
    /// Dispatch.
    async fn insert_message(
        &self,
        room_id: i64,
        author: Option<String>,
        m: &RichMessage,
        speaker: Option<(&Actor, i64)>,
    ) -> Result<room_message::Model> {
        let txn = self.db().write().await?;
        let row = repo::room::insert_message(
            &*txn,
            room_message::Model {
                room_id,
                author,
                text: m.text.clone(),
                blocks: serde_json::to_string(&m.blocks).unwrap_or_default(),
                idempotency_key: None,
                created_at: dispatch_core::now(),
                ..Default::default()
            },
        )
        .await?;
        if let Some((actor, incident_id)) = speaker {
            crate::membership::promote_talking_observer(&*txn, actor, incident_id, room_id).await?;
        }
        txn.commit().await?;
        Ok(row)
    }
}

/// Emoji compare equal without the variation selector, and `:stopwatch:`/`stopwatch` name ⏱.
fn same_emoji(given: &str, configured: &str) -> bool {
    let norm = |s: &str| -> String {
        let s = s.trim().trim_matches(':').to_lowercase();
        let s = match s.as_str() {
            "stopwatch" | "timer_clock" | "timer" => "⏱".to_string(),
            _ => s,
        };
        s.chars().filter(|c| *c != '\u{fe0f}').collect()
    };
    norm(given) == norm(configured)
}

/// A failed command as the room shows it.
pub fn command_error_text(e: &CommandError) -> String {
    match e {
        CommandError::Usage(u) => u.text(),
        CommandError::Failed(Error::Validation(v)) => v
            .fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("\n"),
        CommandError::Failed(Error::Store(s)) => {
            tracing::error!(error = %s, "command failed");
            "The command failed; see the server log.".into()
        }
        CommandError::Failed(other) => other.to_string(),
    }
}

impl crate::Room<'_> {
    /// The built-in room of an incident.
    pub async fn messages(self, r: &IncidentRef, limit: u64) -> Result<RoomView> {
        let conn = self.db().conn();
        let inc = repo::incident::get(conn, r).await?;
        let room = repo::room::of_incident(conn, inc.id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("room of {}", inc.name)))?;
        // Side by side: three reads of the room's own rows.
        let (members, bookmarks, messages) = tokio::try_join!(
            repo::room::members(conn, room.id),
            repo::room::bookmarks(conn, room.id),
            repo::room::latest_messages(conn, room.id, limit),
        )?;
        Ok(RoomView {
            room,
            members,
            bookmarks,
            messages,
        })
    }

    /// Posts a person's message in an incident's room (refused once the room is archived). An
    /// observer who has posted the project's number of messages becomes a participant.
    pub async fn post(
        self,
        actor: &Actor,
        r: &IncidentRef,
        text: LongText,
    ) -> Result<room_message::Model> {
        let view = self.messages(r, 0).await?;
        if view.room.archived {
            return Err(Error::Conflict(
                "the room is archived; re-open the incident to talk in it".into(),
            ));
        }
        let m = RichMessage::plain(text.into_inner());
        self.insert_message(
            view.room.id,
            Some(actor.email.clone()),
            &m,
            Some((actor, view.room.incident_id)),
        )
        .await
    }

    /// Posts a person's message in the room; a message starting with `/` is also run as a chat
    /// command (as that person, through the room) and the answer — or the usage help or refusal —
    /// is posted in the room by Dispatch. Returns the message and the answer.
    pub async fn post_in_room(
        self,
        caller: &Authenticated,
        r: &IncidentRef,
        text: LongText,
    ) -> Result<(room_message::Model, Option<room_message::Model>)> {
        let line = text.as_str().to_string();
        let posted = self.post(&caller.actor, r, text).await?;
        if !dispatch_core::chat::is_command(&line) {
            // Another incident named in the message: its status card follows it.
            let here = dispatch_store::repo::incident::get(self.db().conn(), r)
                .await?
                .id;
            let mut card = None;
            for c in self.chat().unfurl(caller, &line, Some(here)).await? {
                card = Some(self.insert_message(posted.room_id, None, &c, None).await?);
            }
            return Ok((posted, card));
        }
        let mut in_room = caller.clone();
        in_room.actor.transport = Transport::Room;
        let answer = match self.chat().run(&in_room, Some(r), &line).await {
            Ok(m) => m,
            Err(e) => RichMessage::plain(command_error_text(&e)),
        };
        let reply = self
            .insert_message(posted.room_id, None, &answer, None)
            .await?;
        Ok((posted, Some(reply)))
    }

    /// Reacts to a room message. The project's timeline emoji (⏱ unless configured) puts the
    /// message on the incident's timeline, once per message. Returns whether it was imported now.
    pub async fn react(
        self,
        actor: &Actor,
        r: &IncidentRef,
        message_id: dispatch_core::MessageId,
        emoji: &str,
    ) -> Result<bool> {
        let message_id = message_id.0;
        let emoji = emoji.trim();
        if emoji.is_empty() || emoji.chars().count() > 64 {
            return Err(
                dispatch_core::ValidationError::field("emoji", "must be 1-64 characters").into(),
            );
        }
        let view = self.messages(r, 0).await?;
        let txn = self.db().write().await?;
        let conn = &*txn;
        let current = dispatch_store::repo::incident::lock(conn, r).await?;
        let message = repo::room::message(conn, view.room.id, message_id)
            .await?
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "message {message_id} in the room of {}",
                    current.name
                ))
            })?;
        let project = dispatch_store::repo::project::get(conn, current.project_id).await?;
        let stamp = same_emoji(emoji, &project.timeline_emoji);
        let stored = if stamp {
            project.timeline_emoji.clone()
        } else {
            emoji.to_string()
        };
        let earlier = repo::room::reactions(conn, message.id, stored.as_str()).await?;
        if earlier.iter().any(|x| x.email == actor.email) {
            return Ok(false);
        }
        repo::room::insert_reaction(
            conn,
            room_reaction::Model {
                message_id: message.id,
                email: actor.email.clone(),
                emoji: stored,
                created_at: dispatch_core::now(),
                ..Default::default()
            },
        )
        .await?;
        let import = stamp && earlier.is_empty();
        if import {
            let author = message.author.clone().unwrap_or_else(|| "Dispatch".into());
            let details = serde_json::json!({"message_id": message.id, "author": author,
                "text": message.text, "added_by": actor.email});
            save_with_events(
                conn,
                &current,
                current.clone(),
                imported(actor, &author, &message.text, message.created_at, details),
            )
            .await?;
        }
        txn.commit().await?;
        Ok(import)
    }

    /// Puts a message of an external conversation (a Slack channel) on the incident's timeline,
    /// once per `key` (the message's id in that conversation). Returns whether it was added now.
    pub async fn import_message(
        self,
        actor: &Actor,
        r: &IncidentRef,
        author: &str,
        text: &str,
        at: chrono::DateTime<chrono::Utc>,
        key: &str,
    ) -> Result<bool> {
        let txn = self.db().write().await?;
        let conn = &*txn;
        let current = repo::incident::lock(conn, r).await?;
        let only_imported = EventFilter {
            kinds: vec![IMPORTED.into()],
            ..Default::default()
        };
        let earlier = repo::event::list(conn, current.id, &only_imported).await?;
        let seen = earlier.iter().any(|e| {
            serde_json::from_str::<serde_json::Value>(&e.details)
                .map(|d| d["key"] == key)
                .unwrap_or(false)
        });
        if seen {
            return Ok(false);
        }
        let details = serde_json::json!({"key": key, "author": author, "text": text,
            "added_by": actor.email});
        save_with_events(
            conn,
            &current,
            current.clone(),
            imported(actor, author, text, at, details),
        )
        .await?;
        txn.commit().await?;
        Ok(true)
    }
}

impl crate::Documents<'_> {
    /// The documents of an incident.
    pub async fn list(self, r: &IncidentRef) -> Result<Vec<document::Model>> {
        let conn = self.db().conn();
        let inc = repo::incident::get(conn, r).await?;
        Ok(repo::document::list(conn, inc.id).await?)
    }

    /// One document.
    pub async fn get(self, id: dispatch_core::DocumentId) -> Result<document::Model> {
        let id = id.0;
        repo::document::find(self.db().conn(), id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("document {id}")))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_stopwatch_has_several_spellings() {
        for e in ["⏱", "⏱\u{fe0f}", ":stopwatch:", "stopwatch"] {
            assert!(super::same_emoji(e, "⏱"), "{e}");
        }
        assert!(!super::same_emoji("👍", "⏱"));
    }
}
