//! The built-in incident room and documents over the API.

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{Json, Path};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use dispatch_core::values::{IncidentRef, LongText};
use dispatch_core::ValidationError;
use dispatch_engine::data::model::{document, room_message};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Room and document routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/incidents/{id}/room", get(show))
        .route(
            "/incidents/{id}/room/messages",
            get(messages).post(post_message),
        )
        .route(
            "/incidents/{id}/room/messages/{message_id}/reactions",
            post(react),
        )
        .route("/incidents/{id}/documents", get(documents))
        .route(
            "/incidents/{id}/documents/{document_id}",
            axum::routing::patch(edit_document),
        )
        .route("/documents/{id}", get(document))
}

/// A room message.
#[derive(Serialize, ToSchema)]
pub struct MessageOut {
    /// Id.
    pub id: i64,
    /// Who wrote it (`null` for Dispatch).
    pub author: Option<String>,
    /// Plain text.
    pub text: String,
    /// The rich message blocks.
    #[schema(value_type = Vec<Object>)]
    pub blocks: serde_json::Value,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<room_message::Model> for MessageOut {
    fn from(m: room_message::Model) -> Self {
        Self {
            id: m.id,
            author: m.author,
            text: m.text,
            blocks: serde_json::from_str(&m.blocks).unwrap_or_default(),
            created_at: m.created_at,
        }
    }
}

/// A bookmark.
#[derive(Serialize, ToSchema)]
pub struct BookmarkOut {
    /// Label.
    pub title: String,
    /// Link.
    pub link: String,
}

/// An incident room.
#[derive(Serialize, ToSchema)]
pub struct RoomOut {
    /// Channel-style name.
    pub name: String,
    /// Topic.
    pub topic: String,
    /// Archived (read-only) once the incident is closed.
    pub archived: bool,
    /// Members' e-mails.
    pub members: Vec<String>,
    /// Bookmarks.
    pub bookmarks: Vec<BookmarkOut>,
    /// The latest messages, oldest first.
    pub messages: Vec<MessageOut>,
}

/// The incident's room: topic, members, bookmarks and the latest 200 messages.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/room", tag = "room", params(("id" = String, Path)), responses((status = 200, body = RoomOut)))]
pub async fn show(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RoomOut>> {
    let v = s
        .engine
        .room()
        .messages(&IncidentRef::parse(&id), 200)
        .await?;
    Ok(axum::Json(RoomOut {
        name: v.room.name,
        topic: v.room.topic,
        archived: v.room.archived,
        members: v.members.into_iter().map(|m| m.email).collect(),
        bookmarks: v
            .bookmarks
            .into_iter()
            .map(|b| BookmarkOut {
                title: b.title,
                link: b.link,
            })
            .collect(),
        messages: v.messages.into_iter().map(Into::into).collect(),
    }))
}

/// The latest 200 messages of the incident's room, oldest first.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/room/messages", tag = "room", params(("id" = String, Path)), responses((status = 200, body = Vec<MessageOut>)))]
pub async fn messages(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<MessageOut>>> {
    let v = s
        .engine
        .room()
        .messages(&IncidentRef::parse(&id), 200)
        .await?;
    Ok(axum::Json(v.messages.into_iter().map(Into::into).collect()))
}

/// A message to post.
#[derive(Deserialize, ToSchema)]
pub struct MessageIn {
    /// The text.
    pub text: Option<String>,
}

/// A posted message and, for a command, Dispatch's answer.
#[derive(Serialize, ToSchema)]
pub struct PostedOut {
    /// The message.
    #[serde(flatten)]
    pub message: MessageOut,
    /// What Dispatch posted in answer: for a `/dispatch-…` command its answer; for a message
    /// that names another incident (`INC-12`) the status card of the last one named.
    pub reply: Option<MessageOut>,
}

/// Posts a message in the incident's room. A message starting with `/` is run as a chat
/// command (as the poster) and Dispatch posts the answer, the usage help or the refusal in the
/// room.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/room/messages", tag = "room", request_body(content = MessageIn, example = json!({"text": "Failover done"})), params(("id" = String, Path)),
    responses((status = 201, body = PostedOut), (status = 409, body = crate::error::ErrorBody)))]
pub async fn post_message(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(b): Json<MessageIn>,
) -> ApiResult<(StatusCode, axum::Json<PostedOut>)> {
    let mut e = ValidationError::default();
    let text = super::parse::required(&mut e, "text", &b.text)
        .and_then(|t| e.check(LongText::parse("text", t)));
    e.into_result()?;
    let (m, reply) = s
        .engine
        .room()
        .post_in_room(&auth.0, &IncidentRef::parse(&id), text.expect("checked"))
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(PostedOut {
            message: m.into(),
            reply: reply.map(Into::into),
        }),
    ))
}

/// A reaction.
#[derive(Deserialize, ToSchema)]
pub struct ReactionIn {
    /// The emoji, e.g. `⏱` (or `:stopwatch:`).
    pub emoji: Option<String>,
}

/// What a reaction did.
#[derive(Serialize, ToSchema)]
pub struct ReactionOut {
    /// True when this reaction put the message on the timeline (the project's timeline emoji,
    /// the first time for this message).
    pub imported: bool,
}

/// Reacts to a room message; the project's timeline emoji (⏱ by default) adds the message to
/// the incident's timeline.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/room/messages/{message_id}/reactions", tag = "room", request_body = ReactionIn,
    params(("id" = String, Path), ("message_id" = i64, Path)),
    responses((status = 201, body = ReactionOut), (status = 404, body = crate::error::ErrorBody)))]
pub async fn react(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, message_id)): Path<(String, i64)>,
    Json(b): Json<ReactionIn>,
) -> ApiResult<(StatusCode, axum::Json<ReactionOut>)> {
    let mut e = ValidationError::default();
    let emoji = super::parse::required(&mut e, "emoji", &b.emoji).map(str::to_string);
    e.into_result()?;
    let imported = s
        .engine
        .room()
        .react(
            auth.actor(),
            &IncidentRef::parse(&id),
            dispatch_core::MessageId(message_id),
            &emoji.expect("checked"),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(ReactionOut { imported })))
}

/// A document.
#[derive(Serialize, ToSchema)]
pub struct DocumentOut {
    /// Id.
    pub id: i64,
    /// The incident's id.
    pub incident_id: i64,
    /// `document`, `review_document` or `executive_document`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Markdown body, rendered from the template with the incident's current values.
    pub body: String,
    /// Read-only once the incident is closed.
    pub read_only: bool,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Who last edited it by hand (from then on the engine no longer re-renders it).
    pub edited_by: Option<String>,
    /// When.
    pub edited_at: Option<DateTime<Utc>>,
}

impl From<document::Model> for DocumentOut {
    fn from(d: document::Model) -> Self {
        Self {
            id: d.id,
            incident_id: d.incident_id,
            kind: d.kind,
            title: d.title,
            body: d.body,
            read_only: d.read_only,
            updated_at: d.updated_at,
            edited_by: d.edited_by,
            edited_at: d.edited_at,
        }
    }
}

/// The incident's documents.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/documents", tag = "documents", params(("id" = String, Path)), responses((status = 200, body = Vec<DocumentOut>)))]
pub async fn documents(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<DocumentOut>>> {
    Ok(axum::Json(
        s.engine
            .documents()
            .list(&IncidentRef::parse(&id))
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// One document.
#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "documents", params(("id" = i64, Path)), responses((status = 200, body = DocumentOut)))]
pub async fn document(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<DocumentOut>> {
    Ok(axum::Json(
        s.engine
            .documents()
            .get(dispatch_core::DocumentId(id))
            .await?
            .into(),
    ))
}

/// A person's edit of a document.
#[derive(Deserialize, ToSchema)]
pub struct DocumentPatch {
    /// The whole new markdown body.
    pub body: Option<String>,
}

/// Replaces a document's markdown (admins, the commander, the reporter). The edit goes on the
/// timeline; from then on Dispatch no longer re-renders the document from its template, so the
/// edit is never overwritten. A closed incident's documents are read-only (409).
#[utoipa::path(patch, path = "/api/v1/incidents/{id}/documents/{document_id}", tag = "documents", request_body = DocumentPatch,
    params(("id" = String, Path), ("document_id" = i64, Path)),
    responses((status = 200, body = DocumentOut), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn edit_document(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, document_id)): Path<(String, i64)>,
    Json(b): Json<DocumentPatch>,
) -> ApiResult<axum::Json<DocumentOut>> {
    let Some(body) = b.body else {
        return Err(ValidationError::field("body", "is required").into());
    };
    Ok(axum::Json(
        s.engine
            .documents()
            .edit(
                auth.actor(),
                &IncidentRef::parse(&id),
                dispatch_core::DocumentId(document_id),
                &body,
            )
            .await?
            .into(),
    ))
}
