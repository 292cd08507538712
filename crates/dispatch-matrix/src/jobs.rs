//! The Matrix transport's jobs: what the /sync loop hands over ([`crate::sync`]). A text
//! message that starts with `!dispatch` or `/dispatch` runs as a command of the one chat
//! grammar, as the person whose profile carries the sender's Matrix ID, through the same engine
//! use cases and permission rule as every transport; the answer is posted in the room as a
//! reply. The configured reaction (an `m.annotation`) puts the message it reacts to on the
//! timeline; people joining and leaving an incident's room join and leave the incident; their
//! other messages count toward an observer's promotion. An invitation is accepted, so a
//! stakeholder room can be a notification target. A sender with no mapping is told how to link.

use crate::provider::{txn, SLUG};
use crate::{html, MatrixApi};
use dispatch_core::job::JobKind;
use dispatch_core::message::{Block, RichMessage};
use dispatch_core::values::IncidentRef;
use dispatch_core::Transport;
use dispatch_engine::admin::Authenticated;
use dispatch_engine::jobs::TransportJob;
use dispatch_engine::Engine;
use serde_json::{json, Value};
use std::sync::Arc;

/// Job kinds of the Matrix transport.
pub mod kind {
    use dispatch_core::job::JobKind;
    use serde::{Deserialize, Serialize};
    use serde_json::Value;

    /// One event of a room, as /sync gave it: `{"room_id": …, "event": {…}}`, or an
    /// invitation: `{"room_id": …, "invite": true}`.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(transparent)]
    pub struct Event(pub Value);

    impl JobKind for Event {
        const KIND: &'static str = "matrix_event";
        fn incident_id(&self) -> Option<i64> {
            None
        }
    }
}

/// What the Matrix jobs need: the API (the bot) and the reaction that marks a message for the
/// timeline.
pub struct MatrixWorker {
    /// The client-server API client.
    pub api: MatrixApi,
    /// The reaction key (an emoji, e.g. ⏱) that puts a message on the timeline.
    pub reaction: String,
}

struct Handler {
    worker: Arc<MatrixWorker>,
}

/// The job handler of the Matrix transport, to register on the engine.
pub fn handlers(worker: MatrixWorker) -> Vec<Arc<dyn TransportJob>> {
    vec![Arc::new(Handler {
        worker: Arc::new(worker),
    })]
}

#[async_trait::async_trait]
impl TransportJob for Handler {
    fn kind(&self) -> &'static str {
        kind::Event::KIND
    }

    async fn run(&self, engine: &Engine, payload: Value) -> Result<(), String> {
        let room = s(&payload["room_id"]);
        if payload["invite"] == true {
            return self.worker.api.join(room).await.map_err(|e| e.to_string());
        }
        self.worker.event(engine, room, &payload["event"]).await
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// A reaction key without emoji variation selectors (`⏱️` and `⏱` are one reaction).
fn bare(key: &str) -> String {
    key.chars().filter(|c| *c != '\u{fe0f}').collect()
}

/// The command line a message means, in the grammar's form: `!dispatch status-report …` and
/// `/dispatch status-report …` become `/dispatch-status-report …`; `!dispatch-summary` and
/// `/dispatch-summary` are taken as they are; a bare `!dispatch` asks for help. `None` for a
/// message that is not a command.
pub fn command_line(body: &str) -> Option<String> {
    let text = body.trim();
    let rest = ["!dispatch", "/dispatch"].iter().find_map(|p| {
        text.get(..p.len())
            .filter(|h| h.eq_ignore_ascii_case(p))
            .map(|_| &text[p.len()..])
    })?;
    if let Some(named) = rest.strip_prefix('-') {
        return Some(format!("/dispatch-{named}"));
    }
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        // `!dispatcher …`: not ours.
        return None;
    }
    let rest = rest.trim_start();
    if rest.is_empty() {
        return Some("/dispatch-help".into());
    }
    let (head, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let head = head.strip_prefix("dispatch-").unwrap_or(head);
    Some(format!("/dispatch-{head} {args}").trim_end().to_string())
}

/// What a Matrix user with no mapping is told.
pub fn link_help(user: &str, base_url: &str) -> RichMessage {
    RichMessage::plain(format!(
        "Dispatch does not know who {user} is yet. Link your Matrix ID to your Dispatch profile: \
         set **Matrix ID** to `{user}` on your entry under Settings → Individuals ({base_url}/settings/individuals), \
         or ask an admin to run `PATCH /api/v1/individuals/{{id}}` with `{{\"matrix_id\": \"{user}\"}}`. \
         Then type the command again."
    ))
}

impl MatrixWorker {
    /// The e-mail of the person whose profile carries this Matrix ID.
    async fn email_of(&self, engine: &Engine, user: &str) -> Result<Option<String>, String> {
        engine
            .chat()
            .matrix_user(user)
            .await
            .map_err(|e| e.to_string())
    }

    /// The mapped person as a caller of the Matrix transport; `None` when unmapped.
    async fn caller(&self, engine: &Engine, user: &str) -> Result<Option<Authenticated>, String> {
        let Some(email) = self.email_of(engine, user).await? else {
            return Ok(None);
        };
        engine
            .credentials()
            .transport_caller(&email, Transport::Matrix)
            .await
            .map(Some)
            .map_err(|e| e.to_string())
    }

    /// The incident whose room this is.
    async fn incident_for(
        &self,
        engine: &Engine,
        room: &str,
    ) -> Result<Option<IncidentRef>, String> {
        engine
            .chat()
            .incident_of_channel(SLUG, room)
            .await
            .map_err(|e| e.to_string())
    }

    /// Answers the event `to` in `room` (a reply), once: the transaction id is the event's.
    async fn answer(&self, room: &str, to: &str, message: &RichMessage) -> Result<(), String> {
        let mut content = html::content(message);
        content["m.relates_to"] = json!({ "m.in_reply_to": { "event_id": to } });
        self.api
            .send(
                room,
                "m.room.message",
                &txn(&format!("answer\n{room}\n{to}")),
                &content,
            )
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }

    async fn event(&self, engine: &Engine, room: &str, e: &Value) -> Result<(), String> {
        match s(&e["type"]) {
            "m.room.message" => {
                let body = s(&e["content"]["body"]);
                match command_line(body) {
                    Some(line) => self.command(engine, room, e, &line).await,
                    None => self.chatter(engine, room, e, body).await,
                }
            }
            "m.reaction" => {
                let rel = &e["content"]["m.relates_to"];
                if rel["rel_type"] != "m.annotation" || bare(s(&rel["key"])) != bare(&self.reaction)
                {
                    return Ok(());
                }
                self.reaction(engine, room, e, s(&rel["event_id"])).await
            }
            "m.room.member" => {
                let joined = match s(&e["content"]["membership"]) {
                    "join" => true,
                    "leave" | "ban" => false,
                    _ => return Ok(()),
                };
                let member = s(&e["state_key"]);
                let Some(incident) = self.incident_for(engine, room).await? else {
                    return Ok(());
                };
                let Some(caller) = self.caller(engine, member).await? else {
                    return Ok(());
                };
                engine
                    .participants()
                    .sync_member(&caller.actor, &incident, joined)
                    .await
                    .map_err(|e| e.to_string())
            }
            _ => Ok(()),
        }
    }

    /// A person's own message (not a command) counts toward the observer → participant
    /// promotion, and the incidents it names (`INC-12`) get their status cards as replies; an
    /// unmapped sender's is ignored.
    async fn chatter(
        &self,
        engine: &Engine,
        room: &str,
        e: &Value,
        body: &str,
    ) -> Result<(), String> {
        let incident = self.incident_for(engine, room).await?;
        let Some(caller) = self.caller(engine, s(&e["sender"])).await? else {
            return Ok(());
        };
        if let Some(incident) = &incident {
            engine
                .participants()
                .note_conversation_message(&caller.actor, incident)
                .await
                .map_err(|e| e.to_string())?;
        }
        let here = match incident {
            Some(IncidentRef::Id(id)) => Some(id.0),
            _ => None,
        };
        let cards = engine
            .chat()
            .unfurl(&caller, body, here)
            .await
            .map_err(|e| e.to_string())?;
        let to = s(&e["event_id"]);
        for (i, card) in cards.iter().enumerate() {
            let mut content = html::content(card);
            content["m.relates_to"] = json!({ "m.in_reply_to": { "event_id": to } });
            // One transaction id per card: a retried job sends each once.
            self.api
                .send(
                    room,
                    "m.room.message",
                    &txn(&format!("unfurl\n{room}\n{to}\n{i}")),
                    &content,
                )
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Runs a command line as the sender, in the room's incident; the answer is a reply.
    async fn command(
        &self,
        engine: &Engine,
        room: &str,
        e: &Value,
        line: &str,
    ) -> Result<(), String> {
        let (sender, event_id) = (s(&e["sender"]), s(&e["event_id"]));
        let Some(caller) = self.caller(engine, sender).await? else {
            let help = link_help(sender, &engine.base_url());
            if let Err(e) = self.answer(room, event_id, &help).await {
                return Err(format!("telling {sender} how to link failed: {e}"));
            }
            return Ok(());
        };
        let line = self.resolve_mentions(engine, line).await?;
        // A form's command alone (`!dispatch edit-incident`): Matrix has no forms, so the answer
        // is the command with the current values, to copy, change and send.
        if let Some(template) = self.form_template(engine, &caller, room, &line).await? {
            let message = RichMessage::new(vec![
                Block::Section {
                    text: "Change what needs changing and send it back:".into(),
                },
                Block::Section {
                    text: format!("`{}`", template.replacen("/dispatch-", "!dispatch ", 1)),
                },
            ]);
            if let Err(e) = self.answer(room, event_id, &message).await {
                tracing::warn!(error = %e, "a form's command line was not delivered to Matrix");
            }
            return Ok(());
        }
        // Nothing written: the job is retried.
        let answer = engine.chat().run_typed(&caller, SLUG, room, &line).await?;
        // The command ran; a failed answer is logged, not retried (that would run it again).
        if let Err(e) = self.answer(room, event_id, &answer).await {
            tracing::warn!(error = %e, "the answer to a Matrix command was not delivered");
        }
        Ok(())
    }

    /// For a form's command given alone in an incident's room, the form as a command line with
    /// the current values ([`dispatch_engine::Chat::form_template`]).
    async fn form_template(
        &self,
        engine: &Engine,
        caller: &Authenticated,
        room: &str,
        line: &str,
    ) -> Result<Option<String>, String> {
        let mut words = line.split_whitespace();
        let (Some(command), None) = (words.next(), words.next()) else {
            return Ok(None);
        };
        let Some(incident) = self.incident_for(engine, room).await? else {
            return Ok(None);
        };
        engine
            .chat()
            .form_template(caller, &incident, command)
            .await
            .map_err(|e| e.to_string())
    }

    /// Replaces Matrix IDs in a command line (`@alice:example.org`) with the e-mail address on
    /// the profile that carries them, which the command grammar reads; unknown IDs stay.
    async fn resolve_mentions(&self, engine: &Engine, line: &str) -> Result<String, String> {
        let mut words = Vec::new();
        for word in line.split(' ') {
            let id = word.trim_end_matches([',', ';']);
            let mapped = if dispatch_core::values::MatrixId::parse("mention", id).is_ok() {
                self.email_of(engine, id).await?
            } else {
                None
            };
            words.push(match mapped {
                Some(email) => word.replacen(id, &email, 1),
                None => word.to_string(),
            });
        }
        Ok(words.join(" "))
    }

    /// The configured reaction on a message of an incident's room: the message goes on the
    /// timeline, once (keyed by its event id), as added by the person who reacted.
    async fn reaction(
        &self,
        engine: &Engine,
        room: &str,
        e: &Value,
        target: &str,
    ) -> Result<(), String> {
        let Some(incident) = self.incident_for(engine, room).await? else {
            return Ok(());
        };
        let reactor = s(&e["sender"]);
        let Some(caller) = self.caller(engine, reactor).await? else {
            let help = link_help(reactor, &engine.base_url());
            return self.answer(room, s(&e["event_id"]), &help).await;
        };
        let message = self
            .api
            .event(room, target)
            .await
            .map_err(|e| e.to_string())?;
        let author_id = s(&message["sender"]);
        let author = self
            .email_of(engine, author_id)
            .await?
            .unwrap_or_else(|| author_id.to_string());
        let at = message["origin_server_ts"]
            .as_i64()
            .and_then(chrono::DateTime::from_timestamp_millis)
            .unwrap_or_else(dispatch_core::now);
        engine
            .room()
            .import_message(
                &caller.actor,
                &incident,
                &author,
                s(&message["content"]["body"]),
                at,
                &format!("matrix:{room}:{target}"),
            )
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::command_line;

    #[test]
    fn bang_and_slash_dispatch_messages_become_command_lines_and_others_do_not() {
        assert_eq!(
            command_line("!dispatch summary").as_deref(),
            Some("/dispatch-summary")
        );
        assert_eq!(
            command_line("/dispatch assign-role @a:x scribe").as_deref(),
            Some("/dispatch-assign-role @a:x scribe")
        );
        assert_eq!(
            command_line("!Dispatch status-report conditions=\"x y\"").as_deref(),
            Some("/dispatch-status-report conditions=\"x y\"")
        );
        assert_eq!(
            command_line("!dispatch-mark-stable").as_deref(),
            Some("/dispatch-mark-stable")
        );
        assert_eq!(
            command_line("/dispatch-help").as_deref(),
            Some("/dispatch-help")
        );
        assert_eq!(command_line("!dispatch").as_deref(), Some("/dispatch-help"));
        assert_eq!(
            command_line("!dispatch dispatch-list-tasks").as_deref(),
            Some("/dispatch-list-tasks")
        );
        assert_eq!(command_line("!dispatcher go"), None);
        assert_eq!(command_line("hello !dispatch summary"), None);
    }
}
