//! Chat commands over the API: `POST /incidents/{id}/commands` with `{"text": "/dispatch-…"}`
//! runs the command through the engine, as the room and the CLI do, and answers with its rich
//! message and the message's plain-text rendering.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::AppState;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use dispatch_core::message::RichMessage;
use dispatch_core::values::IncidentRef;
use dispatch_core::ValidationError;
use dispatch_engine::command::CommandError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Command routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/incidents/{id}/commands", post(run))
}

/// A command line.
#[derive(Deserialize, ToSchema)]
pub struct CommandIn {
    /// The command, e.g. `/dispatch-assign-role bob@example.com scribe`.
    pub text: Option<String>,
}

/// A command's answer.
#[derive(Serialize, ToSchema)]
pub struct CommandOut {
    /// The answer as plain text (what a transport without blocks shows).
    pub text: String,
    /// The answer as rich-message blocks (header, section, fields, context, links, divider).
    #[schema(value_type = Vec<Object>)]
    pub blocks: serde_json::Value,
}

impl From<RichMessage> for CommandOut {
    fn from(m: RichMessage) -> Self {
        Self {
            blocks: serde_json::to_value(&m.blocks).unwrap_or_default(),
            text: m.text,
        }
    }
}

/// A command error in the API's envelope: bad commands are a 422 on `text` carrying the usage.
pub fn command_error(e: CommandError) -> ApiError {
    match e {
        CommandError::Usage(u) => ApiError::field("text", u.text()),
        CommandError::Failed(e) => e.into(),
    }
}

/// Runs a chat command in an incident (`/dispatch-help` lists them). A bad or unknown command
/// answers 422 with the usage; a command the caller may not run (e.g. `/dispatch-edit-incident`
/// by someone who is neither commander nor scribe nor admin) answers 403.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/commands", tag = "commands", request_body = CommandIn,
    params(("id" = String, Path)),
    responses((status = 200, body = CommandOut), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn run(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(b): Json<CommandIn>,
) -> ApiResult<axum::Json<CommandOut>> {
    let text = b.text.unwrap_or_default();
    if text.trim().is_empty() {
        return Err(ValidationError::field(
            "text",
            format!(
                "is required: a command such as /dispatch-list-tasks\n{}",
                dispatch_core::chat::help()
            ),
        )
        .into());
    }
    if text.chars().count() > 20_000 {
        return Err(ApiError::field("text", "must be at most 20000 characters"));
    }
    let m = s
        .engine
        .chat()
        .run(&auth.0, Some(&IncidentRef::parse(&id)), &text)
        .await
        .map_err(command_error)?;
    Ok(axum::Json(m.into()))
}
