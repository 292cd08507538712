//! Slack's requests: slash commands, Events API callbacks and interactions. None carries a
//! bearer token; each must carry a valid v0 signature over its raw body and a timestamp within
//! five minutes, or it is refused with 401 and nothing is done. Slack wants an answer within
//! three seconds, so each request is only verified, parsed and enqueued here; the work happens in
//! the job queue (see [`crate::jobs`]), where a redelivered event (same `event_id`) finds its job
//! already enqueued and is handled once.
//!
//! The web crate mounts [`router`] under `/api/v1` (its access table lists the routes as signed)
//! and hands the handlers what they need through [`Host`]: the engine, the settings, and its
//! error envelope.

use crate::jobs::kind;
use crate::socket::Envelope;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use dispatch_engine::Engine;
use serde_json::{json, Value};

/// Why the Slack transport refused or failed a request.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// The request is not signed by Slack, or not freshly (401).
    #[error("{0}")]
    BadSignature(String),
    /// The request could not be read (400).
    #[error("{0}")]
    BadRequest(String),
    /// The engine failed to enqueue the work.
    #[error(transparent)]
    Engine(#[from] dispatch_engine::Error),
}

/// What the HTTP application lends the Slack endpoints: the engine, the transport's settings
/// (none when no signing secret is configured), and the error answer it renders.
pub trait Host: Clone + Send + Sync + 'static {
    /// The application's error, rendered in its envelope.
    type Error: From<IntakeError> + IntoResponse;
    /// The engine the requests' work is enqueued on.
    fn engine(&self) -> &Engine;
    /// The transport's settings, when Slack is configured.
    fn slack(&self) -> Option<&SlackSettings>;
}

/// The Slack transport's settings.
#[derive(Debug, Clone)]
pub struct SlackSettings {
    /// The app's signing secret.
    pub signing_secret: String,
}

/// The Slack routes (to mount under `/api/v1`).
pub fn router<S: Host>() -> Router<S> {
    Router::new()
        .route("/slack/commands", post(commands::<S>))
        .route("/slack/events", post(events::<S>))
        .route("/slack/interactions", post(interactions::<S>))
}

/// Verifies the request's signature; the raw body back.
fn verified<'a>(
    state: &impl Host,
    headers: &HeaderMap,
    body: &'a Bytes,
) -> Result<&'a [u8], IntakeError> {
    let Some(slack) = state.slack() else {
        return Err(IntakeError::BadSignature(
            "Slack is not configured on this server: no signing secret to verify requests with"
                .into(),
        ));
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    crate::signature::verify(
        &slack.signing_secret,
        header("x-slack-request-timestamp"),
        header("x-slack-signature"),
        body,
        chrono::Utc::now().timestamp(),
    )
    .map_err(|e| IntakeError::BadSignature(e.to_string()))?;
    Ok(body)
}

fn form(body: &[u8]) -> Result<Value, IntakeError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| IntakeError::BadRequest(format!("the body is not a form: {e}")))?;
    Ok(Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    ))
}

async fn commands<S: Host>(
    State(state): State<S>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, S::Error> {
    let body = verified(&state, &headers, &body)?;
    let payload = form(body)?;
    enqueue_command(state.engine(), payload, &header_signature(&headers)).await?;
    Ok(axum::http::StatusCode::OK.into_response())
}

/// Enqueues a slash command (its form fields as JSON). The trigger id is unique per
/// invocation; without one, `fallback_id` (the request's signature) stands for it.
async fn enqueue_command(
    engine: &Engine,
    payload: Value,
    fallback_id: &str,
) -> Result<(), IntakeError> {
    let str_of = |k: &str| payload[k].as_str().unwrap_or_default().to_string();
    if str_of("command").is_empty() {
        return Err(IntakeError::BadRequest(
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
async fn enqueue_event(engine: &Engine, event: Value) -> Result<(), IntakeError> {
    let id = event["event_id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| IntakeError::BadRequest("an event callback needs `event_id`".into()))?
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
) -> Result<(), IntakeError> {
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
        "interactive" => {
            // A modal's missing fields are shown in the modal, as over HTTP: the answer is the
            // envelope's acknowledgement, and nothing is enqueued.
            if let Some(errors) = form_errors(&e.payload) {
                return Ok(Some(errors));
            }
            enqueue_interaction(engine, e.payload, &fallback).await
        }
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

/// For a modal's submission with fields missing, the answer that shows each error beside its
/// field (the same over HTTP and Socket Mode).
fn form_errors(payload: &Value) -> Option<Value> {
    if payload["type"] != "view_submission" {
        return None;
    }
    crate::modals::command_line(&payload["view"])
        .err()
        .map(|errors| crate::modals::errors_response(&errors))
}

fn header_signature(headers: &HeaderMap) -> String {
    headers
        .get("x-slack-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn events<S: Host>(
    State(state): State<S>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, S::Error> {
    let body = verified(&state, &headers, &body)?;
    let event: Value = serde_json::from_slice(body)
        .map_err(|e| IntakeError::BadRequest(format!("the body is not JSON: {e}")))?;
    match event["type"].as_str() {
        Some("url_verification") => {
            let challenge = event["challenge"].as_str().unwrap_or_default();
            Ok(Json(json!({ "challenge": challenge })).into_response())
        }
        Some("event_callback") => {
            enqueue_event(state.engine(), event).await?;
            Ok(axum::http::StatusCode::OK.into_response())
        }
        _ => Ok(axum::http::StatusCode::OK.into_response()),
    }
}

async fn interactions<S: Host>(
    State(state): State<S>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, S::Error> {
    let body = verified(&state, &headers, &body)?;
    let fields = form(body)?;
    let payload: Value = fields["payload"]
        .as_str()
        .ok_or_else(|| IntakeError::BadRequest("an interaction needs a `payload` field".into()))
        .and_then(|p| {
            serde_json::from_str(p)
                .map_err(|e| IntakeError::BadRequest(format!("`payload` is not JSON: {e}")))
        })?;
    // A modal's missing fields are shown in the modal: that answer cannot wait for a job.
    if let Some(errors) = form_errors(&payload) {
        return Ok(Json(errors).into_response());
    }
    enqueue_interaction(state.engine(), payload, &header_signature(&headers)).await?;
    Ok(axum::http::StatusCode::OK.into_response())
}
