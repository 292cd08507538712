//! Slack's requests: slash commands, Events API callbacks and interactions. None carries a
//! bearer token; each must carry a valid v0 signature over its raw body and a timestamp within
//! five minutes, or it is refused with 401 and nothing is done. Slack wants an answer within
//! three seconds, so each request is only verified, parsed and enqueued here; the work happens in
//! the job queue (see `dispatch_engine::jobs::TransportJob`), where a redelivered event (same
//! `event_id`) finds its job already enqueued and is handled once.

pub mod jobs;

use crate::error::ApiError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use dispatch_engine::Engine;
use dispatch_slack::socket::Envelope;
use serde_json::{json, Value};

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

/// The Slack transport's settings.
#[derive(Debug, Clone)]
pub struct SlackSettings {
    /// The app's signing secret.
    pub signing_secret: String,
}

/// The Slack routes (under `/api/v1`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/slack/commands", post(commands))
        .route("/slack/events", post(events))
        .route("/slack/interactions", post(interactions))
}

/// Verifies the request's signature; the raw body back.
fn verified<'a>(
    state: &AppState,
    headers: &HeaderMap,
    body: &'a Bytes,
) -> Result<&'a [u8], ApiError> {
    let Some(slack) = state.slack.as_ref() else {
        return Err(ApiError::BadSignature(
            "Slack is not configured on this server: no signing secret to verify requests with"
                .into(),
        ));
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    dispatch_slack::signature::verify(
        &slack.signing_secret,
        header("x-slack-request-timestamp"),
        header("x-slack-signature"),
        body,
        chrono::Utc::now().timestamp(),
    )
    .map_err(|e| ApiError::BadSignature(e.to_string()))?;
    Ok(body)
}

fn form(body: &[u8]) -> Result<Value, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not a form: {e}")))?;
    Ok(Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    ))
}

async fn commands(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = verified(&state, &headers, &body)?;
    let payload = form(body)?;
    enqueue_command(&state.engine, payload, &header_signature(&headers)).await?;
    Ok(axum::http::StatusCode::OK.into_response())
}

/// Enqueues a slash command (its form fields as JSON). The trigger id is unique per
/// invocation; without one, `fallback_id` (the request's signature) stands for it.
async fn enqueue_command(
    engine: &Engine,
    payload: Value,
    fallback_id: &str,
) -> Result<(), ApiError> {
    let str_of = |k: &str| payload[k].as_str().unwrap_or_default().to_string();
    if str_of("command").is_empty() {
        return Err(ApiError::BadRequest(
            "a slash command needs `command`".into(),
        ));
    }
    let id = match str_of("trigger_id") {
        t if !t.is_empty() => t,
        _ => fallback_id.to_string(),
    };
    engine
        .enqueue_transport_job(&kind::Command(payload), &format!("slack-command:{id}"))
        .await?;
    Ok(())
}

/// Enqueues an event callback, once per `event_id`.
async fn enqueue_event(engine: &Engine, event: Value) -> Result<(), ApiError> {
    let id = event["event_id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::BadRequest("an event callback needs `event_id`".into()))?
        .to_string();
    engine
        .enqueue_transport_job(&kind::Event(event), &format!("slack-event:{id}"))
        .await?;
    Ok(())
}

/// Enqueues an interaction payload.
async fn enqueue_interaction(
    engine: &Engine,
    payload: Value,
    fallback_id: &str,
) -> Result<(), ApiError> {
    let id = payload["trigger_id"]
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| fallback_id.to_string());
    engine
        .enqueue_transport_job(
            &kind::Interaction(payload),
            &format!("slack-interaction:{id}"),
        )
        .await?;
    Ok(())
}

/// Takes one Socket Mode envelope the way the HTTP endpoints take a request: enqueued, then
/// acknowledged (an error leaves it unacknowledged, and Slack delivers it again).
pub async fn take_envelope(engine: &Engine, e: Envelope) -> Result<Option<Value>, String> {
    let fallback = format!("socket:{}", dispatch_core::now().timestamp_micros());
    let taken = match e.kind.as_str() {
        "events_api" => enqueue_event(engine, e.payload).await,
        "slash_commands" => enqueue_command(engine, e.payload, &fallback).await,
        "interactive" => enqueue_interaction(engine, e.payload, &fallback).await,
        other => {
            tracing::debug!(
                kind = other,
                "Slack envelope of a kind Dispatch does not use"
            );
            Ok(())
        }
    };
    taken.map(|()| None).map_err(|e| e.to_string())
}

fn header_signature(headers: &HeaderMap) -> String {
    headers
        .get("x-slack-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = verified(&state, &headers, &body)?;
    let event: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not JSON: {e}")))?;
    match event["type"].as_str() {
        Some("url_verification") => {
            let challenge = event["challenge"].as_str().unwrap_or_default();
            Ok(Json(json!({ "challenge": challenge })).into_response())
        }
        Some("event_callback") => {
            enqueue_event(&state.engine, event).await?;
            Ok(axum::http::StatusCode::OK.into_response())
        }
        _ => Ok(axum::http::StatusCode::OK.into_response()),
    }
}

async fn interactions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = verified(&state, &headers, &body)?;
    let fields = form(body)?;
    let payload: Value = fields["payload"]
        .as_str()
        .ok_or_else(|| ApiError::BadRequest("an interaction needs a `payload` field".into()))
        .and_then(|p| {
            serde_json::from_str(p)
                .map_err(|e| ApiError::BadRequest(format!("`payload` is not JSON: {e}")))
        })?;
    // A modal's missing fields are shown in the modal: that answer cannot wait for a job.
    if payload["type"] == "view_submission" {
        if let Err(errors) = dispatch_slack::modals::command_line(&payload["view"]) {
            return Ok(Json(dispatch_slack::modals::errors_response(&errors)).into_response());
        }
    }
    enqueue_interaction(&state.engine, payload, &header_signature(&headers)).await?;
    Ok(axum::http::StatusCode::OK.into_response())
}
