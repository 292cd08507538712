//! Writing what a command recorded: appends its events to the incident's hash chain, enqueues
//! its jobs and the follow-ups rules and webhooks derive from the events, and saves the row.
//! Sits below every command and job handler; names only [`crate::changes`], the rules' pure
//! follow-up table and the outgoing-webhook preparation.

use crate::changes::Events;
use crate::webhook::outgoing::Outgoing;
use crate::Result;
use dispatch_store::model::incident;
use dispatch_store::repo;
use dispatch_store::repo::event::{self, ChainHead};
use dispatch_store::Conn;

/// Appends the events to the incident's chain, saves the incident row (with its new chain
/// head and `updated_at`) and enqueues the webhooks the events trigger. The last step of every
/// command on an existing incident.
pub(crate) async fn save_with_events(
    conn: &impl Conn,
    current: &incident::Model,
    mut row: incident::Model,
    events: Events,
) -> Result<incident::Model> {
    // Engagement and notification rules react to what changed.
    let follow = crate::rules::follow_up(
        current.id,
        &row.status,
        &row.visibility,
        events.typed(),
        events.at(),
    );
    let at = events.at();
    let (list, mut jobs) = events.into_parts(&current.name);
    jobs.extend(follow);
    let mut head = ChainHead {
        incident_name: current.name.clone(),
        seq: current.event_seq,
        hash: current.last_event_hash.clone(),
    };
    let rows = event::chain(current.id, &mut head, list, at);
    let webhooks = Outgoing::prepare(conn, &rows).await?;
    event::insert(conn, rows).await?;
    repo::job::enqueue(conn, jobs).await?;
    row.event_seq = head.seq;
    row.last_event_hash = head.hash;
    row.updated_at = at;
    let saved = repo::incident::update(conn, current, row).await?;
    if let Some(w) = webhooks {
        w.enqueue(conn, &saved).await?;
    }
    Ok(saved)
}
