//! The /sync loop: long-polls the homeserver from the last `next_batch`, hands each event Dispatch
//! acts on to the job queue (keyed by its event id, so an event seen twice is one job), and
//! only then saves the new `next_batch` in the database — a restarted server resumes there and
//! handles no message twice. The first start takes no history: it only learns where the rooms
//! stand. Errors back off exponentially (1 s doubling to a minute), honouring a 429's wait.

use crate::jobs::kind;
use crate::{MatrixApi, MatrixError};
use dispatch_engine::Engine;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::sync::watch;

/// How the loop polls.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// How long one /sync may wait for news.
    pub poll: Duration,
    /// The first wait after an error (doubled after each further one).
    pub backoff: Duration,
    /// The longest wait after errors.
    pub max_backoff: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(30),
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// The filter of every /sync: room timelines of the events the jobs read, no presence or
/// account data.
fn filter() -> Value {
    json!({
        "presence": { "types": [] },
        "account_data": { "types": [] },
        "room": {
            "timeline": { "types": ["m.room.message", "m.reaction", "m.room.member"], "limit": 100 },
            "state": { "lazy_load_members": true },
            "ephemeral": { "types": [] },
            "account_data": { "types": [] },
        },
    })
}

/// The name the position is saved under (one per bot account).
pub fn cursor_name(bot: &str) -> String {
    format!("matrix-sync:{bot}")
}

/// What one /sync answer asks of Dispatch: one job per event Dispatch acts on (not the bot's
/// own), and one per invitation. Returns how many were enqueued (a repeated one counts too).
pub async fn take(
    engine: &Engine,
    bot: &str,
    batch: &Value,
) -> Result<usize, dispatch_engine::Error> {
    let mut taken = 0;
    let next = batch["next_batch"].as_str().unwrap_or_default();
    for (room, joined) in batch["rooms"]["join"].as_object().into_iter().flatten() {
        for event in joined["timeline"]["events"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let Some(id) = event["event_id"].as_str() else {
                continue;
            };
            if event["sender"] == bot {
                continue;
            }
            engine
                .enqueue_transport_job(
                    &kind::Event(json!({ "room_id": room, "event": event })),
                    &format!("matrix-event:{id}"),
                )
                .await?;
            taken += 1;
        }
    }
    for room in batch["rooms"]["invite"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(r, _)| r)
    {
        engine
            .enqueue_transport_job(
                &kind::Event(json!({ "room_id": room, "invite": true })),
                &format!("matrix-invite:{room}:{next}"),
            )
            .await?;
        taken += 1;
    }
    Ok(taken)
}

/// Why a step failed, and how long the homeserver asked to wait (a 429), if it did.
#[derive(Debug)]
pub struct StepError {
    /// What went wrong.
    pub message: String,
    /// The wait a 429 asked for.
    pub retry_after: Option<Duration>,
}

impl<E: std::fmt::Display> From<E> for StepError {
    fn from(e: E) -> Self {
        Self {
            message: e.to_string(),
            retry_after: None,
        }
    }
}

/// One step of the loop: a /sync from the saved position, its events enqueued, the new
/// position saved. Returns how many events were enqueued.
pub async fn step(api: &MatrixApi, engine: &Engine, poll: Duration) -> Result<usize, StepError> {
    let bot = api.user_id().await?;
    let name = cursor_name(&bot);
    let since = engine.chat().cursor(&name).await?;
    let Some(since) = since else {
        // The first start: where the rooms stand now, without their history.
        let mut first = filter();
        first["room"]["timeline"]["limit"] = json!(0);
        let batch = api.sync(None, Duration::ZERO, &first).await?;
        let next = batch["next_batch"]
            .as_str()
            .ok_or("a /sync answer without next_batch")?;
        // Invitations are answered even so.
        let mut invites = batch.clone();
        invites["rooms"]["join"] = json!({});
        let taken = take(engine, &bot, &invites).await?;
        engine.chat().save_cursor(&name, next).await?;
        return Ok(taken);
    };
    let batch = api
        .sync(Some(&since), poll, &filter())
        .await
        .map_err(|e| match e {
            MatrixError::RateLimited { retry_after_ms, .. } => StepError {
                message: e.to_string(),
                retry_after: Some(Duration::from_millis(retry_after_ms)),
            },
            e => e.into(),
        })?;
    let next = batch["next_batch"]
        .as_str()
        .ok_or("a /sync answer without next_batch")?;
    let taken = take(engine, &bot, &batch).await?;
    engine.chat().save_cursor(&name, next).await?;
    Ok(taken)
}

/// Runs the loop until `stop` turns true.
pub async fn run(
    api: MatrixApi,
    engine: Engine,
    options: SyncOptions,
    mut stop: watch::Receiver<bool>,
) {
    let mut wait = options.backoff;
    loop {
        if *stop.borrow() {
            return;
        }
        let outcome = tokio::select! {
            r = step(&api, &engine, options.poll) => r,
            _ = stop.changed() => return,
        };
        match outcome {
            Ok(_) => wait = options.backoff,
            Err(e) => {
                let pause = e.retry_after.unwrap_or(wait).min(options.max_backoff);
                tracing::warn!(error = %e.message, wait_ms = pause.as_millis() as u64, "Matrix /sync failed; trying again");
                wait = (wait * 2).min(options.max_backoff);
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    }
}
