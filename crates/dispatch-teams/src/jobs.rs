//! The Teams transport's job: what an acknowledged activity turns into. A message to the bot
//! (`@Dispatch status`, `dispatch status`, a card button's command, a submitted form's line)
//! becomes a command line for the one chat grammar and runs through the engine as the Teams
//! user, mapped to an individual by the Azure AD object id linked to them (else by the e-mail
//! Graph gives that id, then linked); the answer is an Adaptive Card in reply. A command that
//! has a form, given without arguments, answers with a button that opens the form.

use crate::cards::{self, COMMAND_KEY};
use crate::connector::{card_activity, Connector};
use crate::dialogs;
use crate::graph::Graph;
use dispatch_core::job::JobKind;
use dispatch_core::message::RichMessage;
use dispatch_core::values::IncidentRef;
use dispatch_core::{IncidentId, ResourceKind, Transport};
use dispatch_engine::admin::Authenticated;
use dispatch_engine::jobs::TransportJob;
use dispatch_engine::Engine;
use dispatch_slack::modals;
use serde_json::{json, Value};
use std::sync::Arc;

/// Job kinds of the Teams transport.
pub mod kind {
    use dispatch_core::job::JobKind;
    use serde::{Deserialize, Serialize};
    use serde_json::Value;

    /// An activity to act on: `{"activity": …}`, with `"line"` when a form's submission already
    /// made the command line.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(transparent)]
    pub struct Activity(pub Value);

    impl JobKind for Activity {
        const KIND: &'static str = "teams_activity";
        fn incident_id(&self) -> Option<i64> {
            None
        }
    }
}

/// How a person who is not linked yet is told to link.
pub const HOW_TO_LINK: &str = "Dispatch does not know who you are in Teams. Ask a Dispatch \
     admin to set your Teams id (your Azure AD object id) on your profile \
     (`PATCH /api/v1/individuals/{id}` with `teams_id`, or Settings → People), or to give your \
     Microsoft 365 account the e-mail address you use in Dispatch.";

/// What the Teams job needs: the connector (to answer) and Graph (to map people).
pub struct TeamsWorker {
    /// The Bot Connector client.
    pub connector: Connector,
    /// Graph, for the e-mail address of a person not linked yet.
    pub graph: Graph,
}

struct Handler {
    worker: Arc<TeamsWorker>,
}

/// The Teams transport's job handler, to register on the engine.
pub fn handlers(worker: TeamsWorker) -> Vec<Arc<dyn TransportJob>> {
    vec![Arc::new(Handler {
        worker: Arc::new(worker),
    })]
}

#[async_trait::async_trait]
impl TransportJob for Handler {
    fn kind(&self) -> &'static str {
        kind::Activity::KIND
    }

    async fn run(&self, engine: &Engine, payload: Value) -> Result<(), String> {
        self.worker.activity(engine, &payload).await
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// The Dispatch caller behind a Teams user (Azure AD object id): the person linked to that id,
/// else the person with the e-mail address Graph gives it (then linked); `None` when neither is
/// known.
pub async fn caller(
    engine: &Engine,
    graph: &Graph,
    aad_object_id: &str,
) -> Result<Option<Authenticated>, String> {
    if aad_object_id.is_empty() {
        return Ok(None);
    }
    let email = match engine
        .chat()
        .teams_person(aad_object_id)
        .await
        .map_err(|e| e.to_string())?
    {
        Some(person) => person.email,
        None => {
            let user = graph.user(aad_object_id).await.map_err(|e| e.to_string())?;
            let Some(user) = user.filter(|u| u.email.contains('@')) else {
                return Ok(None);
            };
            engine
                .chat()
                .link_teams_person(&user.email, &user.name, aad_object_id)
                .await
                .map_err(|e| e.to_string())?
                .email
        }
    };
    engine
        .credentials()
        .transport_caller(&email, Transport::Teams)
        .await
        .map(Some)
        .map_err(|e| e.to_string())
}

/// The channel an activity came from (a channel's thread, or a chat's conversation).
pub fn channel_of(activity: &Value) -> &str {
    activity["channelData"]["channel"]["id"]
        .as_str()
        .unwrap_or_else(|| s(&activity["conversation"]["id"]))
}

/// The incident whose channel this is.
pub async fn incident_for(engine: &Engine, channel: &str) -> Result<Option<IncidentRef>, String> {
    if channel.is_empty() {
        return Ok(None);
    }
    let found = engine
        .chat()
        .resource_by_external_id(ResourceKind::Conversation, crate::provider::SLUG, channel)
        .await
        .map_err(|e| e.to_string())?;
    Ok(found.map(|r| IncidentRef::Id(IncidentId(r.incident_id))))
}

/// The command line a message's text stands for: the bot's mention and a leading `dispatch`
/// removed, the command named with or without `/dispatch-` (`status`, `/dispatch-status`).
/// Empty text asks for help.
pub fn command_line(text: &str) -> String {
    let text = text.replace("&nbsp;", " ");
    let mut rest = text.trim();
    if rest.len() >= 8 && rest[..8].eq_ignore_ascii_case("dispatch") {
        let after = &rest[8..];
        if after.is_empty() || after.starts_with(char::is_whitespace) {
            rest = after.trim_start();
        }
    }
    let rest = rest.trim_start_matches('/');
    if rest.is_empty() {
        return "/dispatch-help".into();
    }
    let (head, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let head = head.to_lowercase();
    let head = head.strip_prefix("dispatch-").unwrap_or(&head);
    format!("/dispatch-{head} {}", args.trim())
        .trim_end()
        .to_string()
}

impl TeamsWorker {
    /// The message's text with the bot's mention removed and other people's mentions written
    /// as their e-mail addresses, which the command grammar reads.
    async fn text_of(&self, activity: &Value) -> Result<String, String> {
        let mut text = s(&activity["text"]).to_string();
        let bot = s(&activity["recipient"]["id"]);
        let service_url = s(&activity["serviceUrl"]);
        let conversation = s(&activity["conversation"]["id"]);
        for e in activity["entities"].as_array().into_iter().flatten() {
            if e["type"] != "mention" {
                continue;
            }
            let shown = s(&e["text"]);
            let id = s(&e["mentioned"]["id"]);
            let replacement = if id == bot {
                String::new()
            } else {
                let member = self
                    .connector
                    .member(service_url, conversation, id)
                    .await
                    .map_err(|e| e.to_string())?;
                member["email"]
                    .as_str()
                    .or(member["userPrincipalName"].as_str())
                    .unwrap_or(shown)
                    .to_lowercase()
            };
            if !shown.is_empty() {
                text = text.replacen(shown, &replacement, 1);
            }
        }
        Ok(text)
    }

    /// Answers in the activity's conversation, as a reply to it.
    async fn answer(&self, activity: &Value, message: &RichMessage) -> Result<(), String> {
        self.answer_with(activity, card_activity(message)).await
    }

    async fn answer_with(&self, activity: &Value, reply: Value) -> Result<(), String> {
        self.connector
            .reply(
                s(&activity["serviceUrl"]),
                s(&activity["conversation"]["id"]),
                s(&activity["id"]),
                &reply,
            )
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }

    /// People added to an incident's channel join the incident; people removed leave it (as
    /// in Slack and Matrix). The bot itself and people Dispatch cannot place are skipped.
    async fn membership(&self, engine: &Engine, activity: &Value) -> Result<(), String> {
        let Some(incident) = incident_for(engine, channel_of(activity)).await? else {
            return Ok(());
        };
        let bot = s(&activity["recipient"]["id"]);
        for (list, joined) in [("membersAdded", true), ("membersRemoved", false)] {
            for m in activity[list].as_array().into_iter().flatten() {
                if s(&m["id"]) == bot {
                    continue;
                }
                let Some(who) = caller(engine, &self.graph, s(&m["aadObjectId"])).await? else {
                    continue;
                };
                engine
                    .participants()
                    .sync_member(&who.actor, &incident, joined)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    async fn activity(&self, engine: &Engine, p: &Value) -> Result<(), String> {
        let activity = &p["activity"];
        if activity["type"] == "conversationUpdate" {
            return self.membership(engine, activity).await;
        }
        let line = match p["line"].as_str() {
            Some(line) => line.to_string(),
            None => match activity["value"][COMMAND_KEY].as_str() {
                Some(pressed) => pressed.to_string(),
                None => command_line(&self.text_of(activity).await?),
            },
        };
        let Some(caller) = caller(engine, &self.graph, s(&activity["from"]["aadObjectId"])).await?
        else {
            return self
                .answer(activity, &RichMessage::plain(HOW_TO_LINK))
                .await;
        };
        let channel = channel_of(activity);
        if let Some(form) = form_without_arguments(&line) {
            let mut card = cards::card(&RichMessage::plain(format!(
                "Fill in the form to {}.",
                form.title.to_lowercase()
            )));
            card["actions"] = json!([dialogs::open_button(form, channel)]);
            let reply = json!({"type": "message", "summary": form.title,
                "attachments": [{"contentType": cards::CONTENT_TYPE, "content": card}]});
            return self.answer_with(activity, reply).await;
        }
        // Not a command, but it names incidents (`@Dispatch is INC-12 the same?`): their
        // status cards, as every transport unfurls them.
        let typed = p["line"].is_null() && activity["value"][COMMAND_KEY].is_null();
        let head = line.split_whitespace().next().unwrap_or_default();
        if typed && dispatch_core::chat::spec(head).is_none() {
            let text = self.text_of(activity).await?;
            let here = match incident_for(engine, channel).await? {
                Some(IncidentRef::Id(id)) => Some(id.0),
                _ => None,
            };
            let cards = engine
                .chat()
                .unfurl(&caller, &text, here)
                .await
                .map_err(|e| e.to_string())?;
            if !cards.is_empty() {
                for card in &cards {
                    if let Err(e) = self.answer(activity, card).await {
                        tracing::warn!(error = %e, "an incident card was not delivered to Teams");
                    }
                }
                return Ok(());
            }
        }
        // Nothing was written on an `Err`: the job is retried.
        let answer = engine
            .chat()
            .run_typed(&caller, crate::provider::SLUG, channel, &line)
            .await?;
        // The command ran; a failed reply is logged, not retried (that would run it again).
        if let Err(e) = self.answer(activity, &answer).await {
            tracing::warn!(error = %e, "the reply to a Teams command was not delivered");
        }
        Ok(())
    }
}

/// The form of a command given without arguments, when it has one.
fn form_without_arguments(line: &str) -> Option<&'static modals::Modal> {
    let mut words = line.split_whitespace();
    let head = words.next()?;
    if words.next().is_some() {
        return None;
    }
    modals::modal_for(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_to_the_bot_becomes_the_command_line() {
        assert_eq!(command_line(" status"), "/dispatch-status");
        assert_eq!(command_line("dispatch status"), "/dispatch-status");
        assert_eq!(
            command_line("Dispatch   mark-stable"),
            "/dispatch-mark-stable"
        );
        assert_eq!(
            command_line("/dispatch-edit-incident priority=high"),
            "/dispatch-edit-incident priority=high"
        );
        assert_eq!(
            command_line("report-executive&nbsp;overview=\"x\""),
            "/dispatch-report-executive overview=\"x\""
        );
        assert_eq!(command_line(""), "/dispatch-help");
        assert_eq!(command_line("dispatcher"), "/dispatch-dispatcher");
    }

    #[test]
    fn only_a_form_command_without_arguments_opens_its_form() {
        assert_eq!(
            form_without_arguments("/dispatch-edit-incident")
                .unwrap()
                .command,
            "dispatch-edit-incident"
        );
        assert!(form_without_arguments("/dispatch-edit-incident priority=high").is_none());
        assert!(form_without_arguments("/dispatch-mark-stable").is_none());
    }
}
