//! Socket Mode, for deployments with no public URL: Slack sends the same commands, events and
//! interactions over a WebSocket the server opens. `apps.connections.open` (with the app-level
//! token) gives the socket's URL; each envelope is handed to the handler and acknowledged once
//! the handler took it (so an envelope the server could not enqueue is redelivered by Slack); a
//! `disconnect` message or a dropped socket opens a fresh connection.

use crate::api::SlackApi;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

/// One envelope's content.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// `events_api`, `slash_commands` or `interactive`.
    pub kind: String,
    /// The same payload the HTTP endpoint would have received (the event callback, the command's
    /// fields, the interaction).
    pub payload: Value,
}

/// Why a connection ended.
#[derive(Debug)]
enum End {
    Shutdown,
    Reconnect(String),
}

/// Runs Socket Mode until `shutdown` turns true: connects, hands every envelope to `handle`,
/// acknowledges it with the handler's response payload (if any), and reconnects (after a short
/// pause on errors) whenever the connection ends.
pub async fn run<F, Fut>(api: SlackApi, handle: F, mut shutdown: watch::Receiver<bool>)
where
    F: Fn(Envelope) -> Fut,
    Fut: Future<Output = Result<Option<Value>, String>>,
{
    let mut pause = Duration::from_millis(200);
    loop {
        if *shutdown.borrow() {
            return;
        }
        match connect_once(&api, &handle, &mut shutdown).await {
            Ok(End::Shutdown) => return,
            Ok(End::Reconnect(why)) => {
                tracing::info!(reason = %why, "Slack Socket Mode reconnecting");
                pause = Duration::from_millis(200);
            }
            Err(e) => {
                tracing::warn!(error = %e, "Slack Socket Mode connection failed");
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = shutdown.changed() => {}
                }
                pause = (pause * 2).min(Duration::from_secs(30));
            }
        }
    }
}

async fn connect_once<F, Fut>(
    api: &SlackApi,
    handle: &F,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<End, String>
where
    F: Fn(Envelope) -> Fut,
    Fut: Future<Output = Result<Option<Value>, String>>,
{
    let opened = api
        .call("apps.connections.open", &[])
        .await
        .map_err(|e| e.to_string())?;
    let url = opened["url"]
        .as_str()
        .ok_or("apps.connections.open gave no url")?;
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(|e| e.to_string())?;
    loop {
        let message = tokio::select! {
            m = socket.next() => m,
            _ = shutdown.changed() => {
                let _ = socket.close(None).await;
                return Ok(End::Shutdown);
            }
        };
        let text = match message {
            None => return Ok(End::Reconnect("the socket closed".into())),
            Some(Err(e)) => return Ok(End::Reconnect(e.to_string())),
            Some(Ok(Message::Text(t))) => t.to_string(),
            Some(Ok(Message::Ping(p))) => {
                socket
                    .send(Message::Pong(p))
                    .await
                    .map_err(|e| e.to_string())?;
                continue;
            }
            Some(Ok(Message::Close(_))) => return Ok(End::Reconnect("closed by Slack".into())),
            Some(Ok(_)) => continue,
        };
        let Ok(msg) = serde_json::from_str::<Value>(&text) else {
            tracing::warn!("Slack Socket Mode sent a message that is not JSON");
            continue;
        };
        match msg["type"].as_str() {
            Some("hello") => {}
            Some("disconnect") => {
                let reason = msg["reason"].as_str().unwrap_or("disconnect").to_string();
                let _ = socket.close(None).await;
                return Ok(End::Reconnect(reason));
            }
            Some(kind) => {
                let Some(id) = msg["envelope_id"].as_str() else {
                    continue;
                };
                let envelope = Envelope {
                    kind: kind.to_string(),
                    payload: msg["payload"].clone(),
                };
                match handle(envelope).await {
                    Ok(response) => {
                        let mut ack = json!({ "envelope_id": id });
                        if let Some(r) = response {
                            ack["payload"] = r;
                        }
                        socket
                            .send(Message::Text(ack.to_string().into()))
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                    // Not acknowledged: Slack delivers it again.
                    Err(e) => tracing::warn!(error = %e, envelope = id, "Slack envelope not taken"),
                }
            }
            None => {}
        }
    }
}
