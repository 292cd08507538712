//! The bot's messaging endpoint, `POST /api/v1/teams/messages`: every activity must carry a
//! Bot Connector token that [`crate::auth`] accepts, or it is refused with 401 and nothing is
//! done. A message to the bot is enqueued as a job (see [`crate::jobs`]) and acknowledged at
//! once; a redelivered activity (same conversation and id) finds its job already enqueued.
//! Task modules need their answer in the response: `task/fetch` answers the form's card,
//! prefilled with the incident's current values; `task/submit` answers the form again with
//! each missing field's error, or enqueues the command line and closes the dialog.
//!
//! The web crate mounts [`router`] under `/api/v1` (its access table lists the route as signed)
//! and lends the handler what it needs through [`Host`].

use crate::auth::BotAuth;
use crate::dialogs::{self, Submission, Values};
use crate::graph::Graph;
use crate::jobs::{self, kind};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use dispatch_engine::admin::Authenticated;
use dispatch_engine::Engine;
use dispatch_slack::modals;
use serde_json::{json, Value};
use std::sync::Arc;

/// Why the Teams transport refused or failed a request.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// The request carries no acceptable Bot Connector token (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The request could not be read (400).
    #[error("{0}")]
    BadRequest(String),
    /// The engine failed to enqueue the work.
    #[error(transparent)]
    Engine(#[from] dispatch_engine::Error),
}

/// What the HTTP application lends the Teams endpoint.
pub trait Host: Clone + Send + Sync + 'static {
    /// The application's error, rendered in its envelope.
    type Error: From<IntakeError> + IntoResponse;
    /// The engine the activities' work is enqueued on.
    fn engine(&self) -> &Engine;
    /// The transport's settings, when Teams is configured.
    fn teams(&self) -> Option<&TeamsSettings>;
}

/// The Teams transport's settings.
#[derive(Clone)]
pub struct TeamsSettings {
    /// Checks the Bot Connector's tokens.
    pub auth: Arc<BotAuth>,
    /// Graph, to find who opened a form.
    pub graph: Graph,
}

/// The Teams route (to mount under `/api/v1`).
pub fn router<S: Host>() -> Router<S> {
    Router::new().route("/teams/messages", post(messages::<S>))
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

async fn messages<S: Host>(
    State(state): State<S>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, S::Error> {
    let Some(teams) = state.teams() else {
        return Err(IntakeError::Unauthorized(
            "Teams is not configured on this server: no app id to check tokens for".into(),
        )
        .into());
    };
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    if authorization.is_none() {
        return Err(IntakeError::Unauthorized("the request has no Bearer token".into()).into());
    }
    let activity: Value = serde_json::from_slice(&body)
        .map_err(|e| IntakeError::BadRequest(format!("the body is not JSON: {e}")))?;
    teams
        .auth
        .verify(
            authorization,
            s(&activity["serviceUrl"]),
            chrono::Utc::now().timestamp(),
        )
        .await
        .map_err(|e| IntakeError::Unauthorized(e.0))?;
    let engine = state.engine();
    match (s(&activity["type"]), s(&activity["name"])) {
        ("message", _) => {
            enqueue(engine, json!({ "activity": activity }), &activity).await?;
            Ok(axum::http::StatusCode::OK.into_response())
        }
        ("invoke", "task/fetch") => {
            Ok(Json(fetch(engine, teams, &activity).await?).into_response())
        }
        ("invoke", "task/submit") => {
            let answer = match dialogs::submission(&activity["value"]["data"]) {
                None => dialogs::task_message("This form is not one Dispatch knows."),
                Some(Submission::Invalid(answer)) => answer,
                Some(Submission::Line { line, .. }) => {
                    enqueue(
                        engine,
                        json!({ "activity": activity, "line": line }),
                        &activity,
                    )
                    .await?;
                    dialogs::task_message("Submitted: Dispatch answers in the conversation.")
                }
            };
            Ok(Json(answer).into_response())
        }
        // The message action "Add to the incident's timeline" (Teams tells a bot of reactions
        // only on its own messages, so this stands for Slack's and Matrix's ⏱).
        ("invoke", "composeExtension/submitAction") => {
            Ok(Json(add_to_timeline(engine, teams, &activity).await?).into_response())
        }
        // People added to or removed from a channel: they join or leave its incident.
        ("conversationUpdate", _)
            if activity["membersAdded"].is_array() || activity["membersRemoved"].is_array() =>
        {
            enqueue(engine, json!({ "activity": activity }), &activity).await?;
            Ok(axum::http::StatusCode::OK.into_response())
        }
        // Installs, typing, …: nothing to do.
        _ => Ok(axum::http::StatusCode::OK.into_response()),
    }
}

/// Enqueues an activity's work, once per conversation and activity id.
async fn enqueue(engine: &Engine, payload: Value, activity: &Value) -> Result<(), IntakeError> {
    let id = s(&activity["id"]);
    if id.is_empty() {
        return Err(IntakeError::BadRequest("an activity needs an `id`".into()));
    }
    let key = format!("teams-activity:{}:{id}", s(&activity["conversation"]["id"]));
    engine
        .enqueue_transport_job(&kind::Activity(payload), &key)
        .await?;
    Ok(())
}

/// The `task/fetch` answer: the form named in the card's data, prefilled.
async fn fetch(
    engine: &Engine,
    teams: &TeamsSettings,
    activity: &Value,
) -> Result<Value, IntakeError> {
    let data = &activity["value"]["data"];
    let Some(modal) = modals::modal_for(s(&data[dialogs::FORM_KEY])) else {
        return Ok(dialogs::task_message(
            "This form is not one Dispatch knows.",
        ));
    };
    let context = match s(&data[dialogs::CONTEXT_KEY]) {
        "" => jobs::channel_of(activity).to_string(),
        c => c.to_string(),
    };
    // What went wrong is logged; the person is told to try again (nothing was written).
    let failed = |e: String| {
        tracing::warn!(error = %e, form = modal.command, "a Teams form could not be opened");
        dialogs::task_message("Dispatch could not open this form just now; please try again.")
    };
    let who = match jobs::caller(engine, &teams.graph, s(&activity["from"]["aadObjectId"])).await {
        Ok(Some(who)) => who,
        Ok(None) => return Ok(dialogs::task_message(jobs::HOW_TO_LINK)),
        Err(e) => return Ok(failed(e)),
    };
    let values = match prefill(engine, &who, modal.command, &context).await {
        Ok(v) => v,
        Err(e) => return Ok(failed(e)),
    };
    Ok(dialogs::task_continue(
        modal,
        dialogs::form_card(modal, &context, &values, &Values::new()),
    ))
}

/// The message action's command id (declared in the app manifest's `composeExtensions`).
pub const ADD_TO_TIMELINE: &str = "addToTimeline";

/// `composeExtension/submitAction` of [`ADD_TO_TIMELINE`] on a message in an incident's channel:
/// the message — its author, time and text — goes on the incident's timeline, once per message,
/// as the person who chose the action. The answer is what Teams shows them.
async fn add_to_timeline(
    engine: &Engine,
    teams: &TeamsSettings,
    activity: &Value,
) -> Result<Value, IntakeError> {
    let value = &activity["value"];
    if s(&value["commandId"]) != ADD_TO_TIMELINE {
        return Ok(dialogs::task_message(
            "This action is not one Dispatch knows.",
        ));
    }
    let failed = |e: String| {
        tracing::warn!(error = %e, "a Teams message was not added to the timeline");
        dialogs::task_message("Dispatch could not add it just now; please try again.")
    };
    let who = match jobs::caller(engine, &teams.graph, s(&activity["from"]["aadObjectId"])).await {
        Ok(Some(who)) => who,
        Ok(None) => return Ok(dialogs::task_message(jobs::HOW_TO_LINK)),
        Err(e) => return Ok(failed(e)),
    };
    let incident = match jobs::incident_for(engine, jobs::channel_of(activity)).await {
        Ok(Some(i)) => i,
        Ok(None) => {
            return Ok(dialogs::task_message(
                "This is not an incident's channel: nothing to add it to.",
            ))
        }
        Err(e) => return Ok(failed(e)),
    };
    let m = &value["messagePayload"];
    let text = plain_text(s(&m["body"]["content"]));
    if text.is_empty() {
        return Ok(dialogs::task_message("The message has no text to add."));
    }
    let author = match s(&m["from"]["user"]["displayName"]) {
        "" => "Teams".to_string(),
        name => name.to_string(),
    };
    let at = chrono::DateTime::parse_from_rfc3339(s(&m["createdDateTime"]))
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|_| dispatch_core::now());
    let key = format!("teams:{}:{}", jobs::channel_of(activity), s(&m["id"]));
    match engine
        .room()
        .import_message(&who.actor, &incident, &author, &text, at, &key)
        .await
    {
        Ok(true) => Ok(dialogs::task_message("Added to the incident's timeline.")),
        Ok(false) => Ok(dialogs::task_message("It is already on the timeline.")),
        Err(e @ (dispatch_engine::Error::Forbidden(_) | dispatch_engine::Error::Conflict(_))) => {
            Ok(dialogs::task_message(&e.to_string()))
        }
        Err(e) => Ok(failed(e.to_string())),
    }
}

/// The text of a Teams message's HTML body: tags dropped (a paragraph or line break becomes a
/// new line), the common entities decoded.
fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + len].to_ascii_lowercase();
        if tag.starts_with("br") || tag.starts_with("/p") || tag.starts_with("/div") {
            out.push('\n');
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .trim()
        .to_string()
}

/// The current values a form opens with ([`dispatch_engine::Chat::form_values`]: the
/// incident's fields for the edit form, the latest report's for a report form; nothing for the
/// others, nor for an incident `who` may not see).
async fn prefill(
    engine: &Engine,
    who: &Authenticated,
    form: &str,
    channel: &str,
) -> Result<Values, String> {
    let Some(incident) = jobs::incident_for(engine, channel).await? else {
        return Ok(Values::new());
    };
    engine
        .chat()
        .form_values(who, &incident, form)
        .await
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::plain_text;

    #[test]
    fn a_messages_html_body_becomes_its_text() {
        assert_eq!(
            plain_text("<p>Deploy <b>42</b> rolled back</p><p>5xx &lt; 1%&nbsp;now</p>"),
            "Deploy 42 rolled back\n5xx < 1% now"
        );
        assert_eq!(plain_text("no tags &amp; all"), "no tags & all");
        assert_eq!(plain_text("<div></div>"), "");
    }
}
