//! The emulator's Bot Connector: one-to-one conversations, activities posted, replied to and
//! updated in channels and chats, and members looked up, behind the bot's bearer token.

use super::{graph_error, Emulator};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// Records the call, then refuses it unless it carries a bot token issued here.
fn admit(
    emu: &Emulator,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    body: &Value,
) -> Option<Response> {
    emu.record(method, path, body);
    (emu.bearer(headers) != Some("bot")).then(|| {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Authorization has been denied for this request."})),
        )
            .into_response()
    })
}

pub(super) async fn create_conversation(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(denied) = admit(&emu, &headers, "POST", "/connector/v3/conversations", &body) {
        return denied;
    }
    let user = body["members"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut inner = emu.inner.lock().unwrap();
    if !inner.users.iter().any(|u| u.0 == user) {
        return graph_error(
            StatusCode::NOT_FOUND,
            "UserNotFound",
            "the member is not in the tenant",
        );
    }
    let id = match inner.direct.iter().find(|d| d.1 == user) {
        Some(d) => d.0.clone(),
        None => {
            let id = format!("a:direct-{user}");
            inner.direct.push((id.clone(), user));
            id
        }
    };
    Json(json!({"id": id})).into_response()
}

/// Records an activity the bot sent; its id, or the error answer.
fn deliver(
    emu: &Emulator,
    conversation: &str,
    reply_to: Option<String>,
    activity: Value,
) -> Response {
    let mut inner = emu.inner.lock().unwrap();
    inner.next += 1;
    let id = format!("1700000000{:03}", inner.next);
    // A channel's id, or a reply thread in it (`19:…;messageid=…`).
    let channel = conversation.split(';').next().unwrap_or_default();
    if let Some(c) = inner.channels.iter_mut().find(|c| c.id == channel) {
        if c.archived {
            return graph_error(
                StatusCode::FORBIDDEN,
                "ConversationBlockedByUser",
                "the channel is archived",
            );
        }
        c.posts.push((id.clone(), activity.clone()));
    } else if !inner.direct.iter().any(|d| d.0 == conversation) {
        return graph_error(
            StatusCode::NOT_FOUND,
            "ConversationNotFound",
            "no such conversation",
        );
    }
    inner.sent.push((conversation.into(), reply_to, activity));
    Json(json!({"id": id})).into_response()
}

pub(super) async fn send_activity(
    State(emu): State<Emulator>,
    Path(conversation): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let path = format!("/connector/v3/conversations/{conversation}/activities");
    if let Some(denied) = admit(&emu, &headers, "POST", &path, &body) {
        return denied;
    }
    deliver(&emu, &conversation, None, body)
}

pub(super) async fn reply_activity(
    State(emu): State<Emulator>,
    Path((conversation, activity)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let path = format!("/connector/v3/conversations/{conversation}/activities/{activity}");
    if let Some(denied) = admit(&emu, &headers, "POST", &path, &body) {
        return denied;
    }
    deliver(&emu, &conversation, Some(activity), body)
}

pub(super) async fn update_activity(
    State(emu): State<Emulator>,
    Path((conversation, activity)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let path = format!("/connector/v3/conversations/{conversation}/activities/{activity}");
    if let Some(denied) = admit(&emu, &headers, "PUT", &path, &body) {
        return denied;
    }
    let mut inner = emu.inner.lock().unwrap();
    for c in &mut inner.channels {
        if let Some(p) = c.posts.iter_mut().find(|p| p.0 == activity) {
            p.1 = body;
            return Json(json!({"id": activity})).into_response();
        }
    }
    graph_error(
        StatusCode::NOT_FOUND,
        "ActivityNotFound",
        "no such activity",
    )
}

pub(super) async fn member(
    State(emu): State<Emulator>,
    Path((conversation, member)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/connector/v3/conversations/{conversation}/members/{member}");
    if let Some(denied) = admit(&emu, &headers, "GET", &path, &Value::Null) {
        return denied;
    }
    // Members are addressed by their Teams id (`29:…`), which the emulator derives from the
    // AAD object id as `29:{aadObjectId}`.
    let aad = member.strip_prefix("29:").unwrap_or(&member);
    let inner = emu.inner.lock().unwrap();
    match inner.users.iter().find(|u| u.0 == aad) {
        Some((id, email, name)) => Json(json!({"id": member, "aadObjectId": id, "name": name,
            "email": email, "userPrincipalName": email, "tenantId": inner.tenant}))
        .into_response(),
        None => graph_error(
            StatusCode::NOT_FOUND,
            "MemberNotFoundInConversation",
            "no such member",
        ),
    }
}
