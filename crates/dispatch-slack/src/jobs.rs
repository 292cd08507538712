//! The Slack transport's jobs: what Slack's acknowledged requests turn into. A slash command,
//! a button or a modal submission becomes a command line for the one chat grammar and runs
//! through the engine as the Slack user (mapped to an individual by e-mail); the answer is
//! rendered as Block Kit and shown to that user only. Events keep the incident in step with
//! its channel: the configured reaction puts a message on the timeline, people joining and
//! leaving the channel join and leave the incident, and their messages count toward an
//! observer's promotion to participant.

use crate::{blocks, modals, SlackApi};
use dispatch_core::job::JobKind;
use dispatch_core::message::RichMessage;
use dispatch_core::values::IncidentRef;
use dispatch_core::Transport;
use dispatch_engine::admin::Authenticated;
use dispatch_engine::jobs::TransportJob;
use dispatch_engine::Engine;
use serde_json::Value;
use std::sync::Arc;

/// Job kinds of the Slack transport: each carries Slack's request as it came.
pub mod kind {
    use dispatch_core::job::JobKind;
    use serde::{Deserialize, Serialize};
    use serde_json::Value;

    macro_rules! slack_jobs {
        ($($(#[$doc:meta])* $t:ident = $name:literal,)*) => {
            $($(#[$doc])*
            #[derive(Debug, Clone, Serialize, Deserialize)]
            #[serde(transparent)]
            pub struct $t(pub Value);

            impl JobKind for $t {
                const KIND: &'static str = $name;
                fn incident_id(&self) -> Option<i64> {
                    None
                }
            })*
        };
    }

    slack_jobs! {
        /// A slash command.
        Command = "slack_command",
        /// An Events API callback.
        Event = "slack_event",
        /// An interaction (button, modal submission, shortcut).
        Interaction = "slack_interaction",
    }
}

/// What the Slack jobs need: the Web API (bot token) and the reaction that marks a message
/// for the timeline.
pub struct SlackWorker {
    /// The Web API client.
    pub api: SlackApi,
    /// The reaction name (without colons) that puts a message on the timeline.
    pub reaction: String,
}

struct Handler {
    kind: &'static str,
    worker: Arc<SlackWorker>,
}

/// The three job handlers of the Slack transport, to register on the engine.
pub fn handlers(worker: SlackWorker) -> Vec<Arc<dyn TransportJob>> {
    let worker = Arc::new(worker);
    [
        kind::Command::KIND,
        kind::Event::KIND,
        kind::Interaction::KIND,
    ]
    .into_iter()
    .map(|kind| {
        Arc::new(Handler {
            kind,
            worker: worker.clone(),
        }) as Arc<dyn TransportJob>
    })
    .collect()
}

#[async_trait::async_trait]
impl TransportJob for Handler {
    fn kind(&self) -> &'static str {
        self.kind
    }

    async fn run(&self, engine: &Engine, payload: Value) -> Result<(), String> {
        match self.kind {
            kind::Command::KIND => self.worker.command(engine, &payload).await,
            kind::Event::KIND => self.worker.event(engine, &payload["event"]).await,
            _ => self.worker.interaction(engine, &payload).await,
        }
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

impl SlackWorker {
    /// The e-mail address and name of a Slack user: from the cache, else `users.info`.
    async fn person(&self, engine: &Engine, user: &str) -> Result<(String, String), String> {
        if let Some(u) = engine
            .chat()
            .slack_user(user)
            .await
            .map_err(|e| e.to_string())?
        {
            return Ok((u.email, u.name));
        }
        let (email, name) = self.api.user_info(user).await.map_err(|e| e.to_string())?;
        let email = email.ok_or_else(|| {
            format!("Slack user {user} has no e-mail address visible to Dispatch (scope users:read.email)")
        })?;
        engine
            .chat()
            .remember_slack_user(user, &email, &name)
            .await
            .map_err(|e| e.to_string())?;
        Ok((email.to_lowercase(), name))
    }

    async fn caller(&self, engine: &Engine, user: &str) -> Result<Authenticated, String> {
        let (email, _) = self.person(engine, user).await?;
        engine
            .credentials()
            .transport_caller(&email, Transport::Slack)
            .await
            .map_err(|e| e.to_string())
    }

    /// Replaces Slack's mentions (`<@U123>`, `<@U123|alice>`) with e-mail addresses, which the
    /// command grammar reads.
    async fn resolve_mentions(&self, engine: &Engine, text: &str) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("<@") {
            let Some(len) = rest[start..].find('>') else {
                break;
            };
            let inner = &rest[start + 2..start + len];
            let id = inner.split('|').next().unwrap_or_default();
            out.push_str(&rest[..start]);
            out.push_str(&self.person(engine, id).await?.0);
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The incident whose channel this is.
    async fn incident_for(
        &self,
        engine: &Engine,
        channel: &str,
    ) -> Result<Option<IncidentRef>, String> {
        engine
            .chat()
            .incident_of_channel(crate::provider::SLUG, channel)
            .await
            .map_err(|e| e.to_string())
    }

    /// The values a form opens with in the incident of `channel` (none outside one).
    async fn form_values(
        &self,
        engine: &Engine,
        user: &str,
        channel: &str,
        command: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, String> {
        let Some(incident) = self.incident_for(engine, channel).await? else {
            return Ok(Default::default());
        };
        // Someone Dispatch cannot place gets the blank form; running it will tell them why.
        let Ok(caller) = self.caller(engine, user).await else {
            return Ok(Default::default());
        };
        engine
            .chat()
            .form_values(&caller, &incident, command)
            .await
            .map_err(|e| e.to_string())
    }

    /// Runs a command line as a Slack user in a channel; the answer goes to that user only.
    async fn run_line(
        &self,
        engine: &Engine,
        user: &str,
        channel: &str,
        line: &str,
    ) -> Result<(), String> {
        let caller = self.caller(engine, user).await?;
        let line = self.resolve_mentions(engine, line).await?;
        // A case command names its case, or takes the latest case posted in this channel.
        let answer = engine
            .chat()
            .run_typed(&caller, crate::provider::SLUG, channel, &line)
            .await?;
        // The command ran; a failed reply is logged, not retried (that would run it again).
        if let Err(e) = self.tell(user, channel, &answer).await {
            tracing::warn!(error = %e, "the reply to a Slack command was not delivered");
        }
        Ok(())
    }

    /// Shows `message` to `user` only: ephemeral in the channel, or a DM when there is none.
    async fn tell(&self, user: &str, channel: &str, message: &RichMessage) -> Result<(), String> {
        let rendered = blocks::render(message);
        let channel = if channel.is_empty() {
            self.api.open_dm(user).await.map_err(|e| e.to_string())?
        } else {
            channel.to_string()
        };
        self.api
            .post_ephemeral(&channel, user, &message.text, &rendered)
            .await
            .map_err(|e| e.to_string())
    }

    /// Runs a command line, unless it is a case's resolve without its reason (a button's, or
    /// typed with at most the case): that opens the resolve form for the case instead.
    async fn run_or_ask(
        &self,
        engine: &Engine,
        p: &Value,
        user: &str,
        channel: &str,
        line: &str,
    ) -> Result<(), String> {
        let Some(case) = resolve_without_reason(line) else {
            return self.run_line(engine, user, channel, line).await;
        };
        let m = modals::modal_for("dispatch-case-resolve").expect("the resolve modal");
        // The form's context: the channel, and the case when named (`case=12`).
        let context = match case {
            Some(case) => format!("{channel} case={case}"),
            None => channel.to_string(),
        };
        self.api
            .open_view(
                s(&p["trigger_id"]),
                &modals::view(m, &context, &Default::default()),
            )
            .await
            .map_err(|e| e.to_string())
    }

    async fn command(&self, engine: &Engine, p: &Value) -> Result<(), String> {
        let (command, text) = (s(&p["command"]), s(&p["text"]).trim());
        let (user, channel) = (s(&p["user_id"]), s(&p["channel_id"]));
        if text.is_empty() {
            if let Some(m) = modals::modal_for(command) {
                let initial = self.form_values(engine, user, channel, m.command).await?;
                return self
                    .api
                    .open_view(s(&p["trigger_id"]), &modals::view(m, channel, &initial))
                    .await
                    .map_err(|e| e.to_string());
            }
        }
        self.run_or_ask(engine, p, user, channel, &format!("{command} {text}"))
            .await
    }

    async fn interaction(&self, engine: &Engine, p: &Value) -> Result<(), String> {
        let user = s(&p["user"]["id"]);
        match s(&p["type"]) {
            "block_actions" => {
                let channel = p["channel"]["id"]
                    .as_str()
                    .or(p["container"]["channel_id"].as_str())
                    .unwrap_or_default();
                for a in p["actions"].as_array().into_iter().flatten() {
                    if !s(&a["action_id"]).starts_with(blocks::COMMAND_ACTION) {
                        continue;
                    }
                    self.run_or_ask(engine, p, user, channel, s(&a["value"]))
                        .await?;
                }
                Ok(())
            }
            "view_submission" => {
                let view = &p["view"];
                let Ok(line) = modals::command_line(view) else {
                    // Answered with the errors when it arrived.
                    return Ok(());
                };
                // The form's context: the channel, and what it was opened for (`case=12`).
                let (channel, named) = s(&view["private_metadata"])
                    .split_once(' ')
                    .unwrap_or((s(&view["private_metadata"]), ""));
                let line = format!("{line} {named}");
                self.run_line(engine, user, channel, line.trim()).await
            }
            "shortcut" if s(&p["callback_id"]) == "dispatch-report-incident" => {
                let m = modals::modal_for("dispatch-report-incident").expect("the report modal");
                self.api
                    .open_view(
                        s(&p["trigger_id"]),
                        &modals::view(m, "", &Default::default()),
                    )
                    .await
                    .map_err(|e| e.to_string())
            }
            _ => Ok(()),
        }
    }

    async fn event(&self, engine: &Engine, e: &Value) -> Result<(), String> {
        match s(&e["type"]) {
            "reaction_added"
                if s(&e["reaction"]) == self.reaction && e["item"]["type"] == "message" =>
            {
                let (channel, ts) = (s(&e["item"]["channel"]), s(&e["item"]["ts"]));
                let Some(incident) = self.incident_for(engine, channel).await? else {
                    return Ok(());
                };
                let history = self
                    .api
                    .call(
                        "conversations.history",
                        &[
                            ("channel", channel),
                            ("latest", ts),
                            ("inclusive", "true"),
                            ("limit", "1"),
                        ],
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                let Some(message) = history["messages"].as_array().and_then(|m| m.first()) else {
                    return Ok(());
                };
                let author = match message["user"].as_str() {
                    Some(u) => self.person(engine, u).await?.0,
                    None => "Slack".to_string(),
                };
                let caller = self.caller(engine, s(&e["user"])).await?;
                let at = slack_time(ts).unwrap_or_else(dispatch_core::now);
                engine
                    .room()
                    .import_message(
                        &caller.actor,
                        &incident,
                        &author,
                        s(&message["text"]),
                        at,
                        &format!("slack:{channel}:{ts}"),
                    )
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string())
            }
            "member_joined_channel" | "member_left_channel" => {
                let Some(incident) = self.incident_for(engine, s(&e["channel"])).await? else {
                    return Ok(());
                };
                let caller = self.caller(engine, s(&e["user"])).await?;
                let joined = e["type"] == "member_joined_channel";
                engine
                    .participants()
                    .sync_member(&caller.actor, &incident, joined)
                    .await
                    .map_err(|e| e.to_string())
            }
            // A person's own message (not an edit, a join notice or a bot's) counts toward the
            // observer → participant promotion.
            "message" if e.get("subtype").is_none() && e.get("bot_id").is_none() => {
                let channel = s(&e["channel"]);
                let incident = self.incident_for(engine, channel).await?;
                if let Some(incident) = &incident {
                    let caller = self.caller(engine, s(&e["user"])).await?;
                    engine
                        .participants()
                        .note_conversation_message(&caller.actor, incident)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                self.unfurl(engine, e, incident).await
            }
            _ => Ok(()),
        }
    }
}

impl SlackWorker {
    /// A message that names incidents (`INC-12`) gets their status cards in its thread, in any
    /// channel Dispatch is in (not the one of the incident whose channel it is).
    async fn unfurl(
        &self,
        engine: &Engine,
        e: &Value,
        here: Option<IncidentRef>,
    ) -> Result<(), String> {
        let text = s(&e["text"]);
        if dispatch_core::chat::incident_names(text, 1).is_empty() {
            return Ok(());
        }
        // Someone Dispatch cannot place sees no cards.
        let Ok(caller) = self.caller(engine, s(&e["user"])).await else {
            return Ok(());
        };
        let here = match here {
            Some(IncidentRef::Id(id)) => Some(id.0),
            _ => None,
        };
        let cards = engine
            .chat()
            .unfurl(&caller, text, here)
            .await
            .map_err(|e| e.to_string())?;
        let thread = e["thread_ts"].as_str().or(e["ts"].as_str());
        for card in cards {
            self.api
                .post_in(s(&e["channel"]), thread, &card.text, &blocks::render(&card))
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// A `/dispatch-case-resolve` (or `-close`) line that gives no reason: `Some(None)` when it names
/// no case, `Some(Some(12))` for `#12` (a button's line, or typed so).
fn resolve_without_reason(line: &str) -> Option<Option<i64>> {
    let mut words = line.split_whitespace();
    if dispatch_core::chat::spec(words.next()?)?.name != "dispatch-case-resolve" {
        return None;
    }
    let case = match words.next() {
        None => None,
        Some(w) => Some(
            w.trim_start_matches("case=")
                .trim_start_matches('#')
                .parse()
                .ok()?,
        ),
    };
    words.next().is_none().then_some(case)
}

/// A Slack timestamp (`1700000000.000100`) as a time.
fn slack_time(ts: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let (secs, micros) = ts.split_once('.').unwrap_or((ts, "0"));
    chrono::DateTime::from_timestamp(secs.parse().ok()?, micros.parse::<u32>().ok()? * 1000)
}

#[cfg(test)]
mod tests {
    use super::resolve_without_reason;

    #[test]
    fn a_resolve_without_its_reason_asks_for_it_in_the_form_and_any_other_line_runs() {
        assert_eq!(resolve_without_reason("/dispatch-case-resolve"), Some(None));
        assert_eq!(resolve_without_reason("/dispatch-case-close "), Some(None));
        assert_eq!(
            resolve_without_reason("/dispatch-case-resolve #12"),
            Some(Some(12))
        );
        assert_eq!(
            resolve_without_reason("/dispatch-case-resolve case=7"),
            Some(Some(7))
        );
        assert_eq!(
            resolve_without_reason("/dispatch-case-resolve benign"),
            None
        );
        assert_eq!(
            resolve_without_reason("/dispatch-case-resolve #12 benign"),
            None
        );
        assert_eq!(resolve_without_reason("/dispatch-case-triage #12"), None);
        assert_eq!(resolve_without_reason("/dispatch-mark-closed"), None);
    }
}
