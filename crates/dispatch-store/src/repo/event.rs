//! Timeline events: appended in the transaction of the command that caused them, hash-chained
//! per incident, never updated except for the `pinned` flag (which the chain does not cover).

use crate::entity::event;
use crate::error::{Result, StoreError};
use chrono::{DateTime, Utc};
use dispatch_core::timeline::{ChainedEvent, GENESIS};
use dispatch_core::{EventSource, Transport};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

/// The end of an incident's chain: where the next event attaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// The incident's key; the chain covers it, so events cannot be moved between incidents.
    pub incident_name: String,
    /// The last event's position (0 before the first event).
    pub seq: i64,
    /// The last event's hash ([`GENESIS`] before the first event).
    pub hash: String,
}

impl ChainHead {
    /// The head of a chain with no events yet.
    pub fn genesis(incident_name: &str) -> Self {
        Self {
            incident_name: incident_name.to_string(),
            seq: 0,
            hash: GENESIS.to_string(),
        }
    }
}

/// An event about to be appended.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// When it happened (custom events may be in the past).
    pub occurred_at: DateTime<Utc>,
    /// Event type, e.g. `incident_declared`, `status_changed`.
    pub kind: String,
    /// Dispatch or custom.
    pub source: EventSource,
    /// Who did it (e-mail), if a person.
    pub actor: Option<String>,
    /// How the command arrived.
    pub transport: Transport,
    /// A sentence for people.
    pub description: String,
    /// What changed (e.g. `{"status": {"before": "active", "after": "stable"}}`).
    pub details: serde_json::Value,
    /// Pinned at creation.
    pub pinned: bool,
}

/// Hashes the events onto the chain and returns the rows to insert; advances `head`.
pub fn chain(
    incident_id: i64,
    head: &mut ChainHead,
    events: Vec<NewEvent>,
    recorded_at: DateTime<Utc>,
) -> Vec<event::Model> {
    events
        .into_iter()
        .map(|e| {
            let seq = head.seq + 1;
            let details = e.details.to_string();
            let occurred_at = dispatch_core::timeline::to_micros(e.occurred_at);
            let hash = ChainedEvent {
                incident_name: &head.incident_name,
                seq,
                occurred_at,
                kind: &e.kind,
                source: e.source.as_str(),
                actor: e.actor.as_deref(),
                transport: e.transport.as_str(),
                description: &e.description,
                details: &details,
                prev_hash: &head.hash,
            }
            .hash();
            let row = event::Model {
                incident_id,
                seq,
                occurred_at,
                recorded_at,
                kind: e.kind,
                source: e.source.as_str().to_string(),
                actor: e.actor,
                transport: e.transport.as_str().to_string(),
                description: e.description,
                details,
                pinned: e.pinned,
                prev_hash: std::mem::replace(&mut head.hash, hash.clone()),
                hash,
                ..Default::default()
            };
            head.seq = seq;
            row
        })
        .collect()
}

/// Inserts chained rows.
pub async fn insert(conn: &impl ConnectionTrait, rows: Vec<event::Model>) -> Result<()> {
    crate::repo::rows::insert_many(conn, rows).await
}

/// Which events to list.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Only these kinds.
    pub kinds: Vec<String>,
    /// Only pinned events.
    pub pinned_only: bool,
    /// Only this source.
    pub source: Option<EventSource>,
}

impl EventFilter {
    /// Whether `e` is one of the events [`list`] gives with this filter (for a timeline read
    /// whole once and shown filtered).
    pub fn matches(&self, e: &event::Model) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&e.kind))
            && (!self.pinned_only || e.pinned)
            && self.source.is_none_or(|s| s.as_str() == e.source)
    }
}

/// An incident's events in chain order.
pub async fn list(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    f: &EventFilter,
) -> Result<Vec<event::Model>> {
    let mut q = event::Entity::find().filter(event::Column::IncidentId.eq(incident_id));
    if !f.kinds.is_empty() {
        q = q.filter(event::Column::Kind.is_in(f.kinds.iter().cloned()));
    }
    if f.pinned_only {
        q = q.filter(event::Column::Pinned.eq(true));
    }
    if let Some(s) = f.source {
        q = q.filter(event::Column::Source.eq(s.as_str()));
    }
    Ok(q.order_by_asc(event::Column::Seq).all(conn).await?)
}

/// One event of an incident.
pub async fn get(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    event_id: i64,
) -> Result<event::Model> {
    event::Entity::find_by_id(event_id)
        .filter(event::Column::IncidentId.eq(incident_id))
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("event {event_id}")))
}

/// Sets or clears the pinned flag.
pub async fn set_pinned(
    conn: &impl ConnectionTrait,
    row: event::Model,
    pinned: bool,
) -> Result<event::Model> {
    let after = event::Model {
        pinned,
        ..row.clone()
    };
    crate::repo::rows::update(conn, &row, after).await
}

/// The outcome of re-computing an incident's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Events checked.
    pub events: u64,
    /// The first position where the chain breaks, if any.
    pub first_broken_seq: Option<i64>,
    /// Why it breaks there.
    pub reason: Option<String>,
}

/// Re-computes every hash of the incident's chain and compares with what is stored, including
/// the head recorded on the incident row (which catches deletion of the newest events).
pub fn verify(incident_name: &str, head: &ChainHead, events: &[event::Model]) -> Verification {
    let mut prev = GENESIS.to_string();
    let broken = |seq: i64, reason: &str, n: usize| Verification {
        events: n as u64,
        first_broken_seq: Some(seq),
        reason: Some(reason.to_string()),
    };
    for (i, e) in events.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        if e.seq != expected_seq {
            return broken(expected_seq, "an event is missing", events.len());
        }
        if e.prev_hash != prev {
            return broken(e.seq, "previous hash does not match", events.len());
        }
        let hash = ChainedEvent {
            incident_name,
            seq: e.seq,
            occurred_at: e.occurred_at,
            kind: &e.kind,
            source: &e.source,
            actor: e.actor.as_deref(),
            transport: &e.transport,
            description: &e.description,
            details: &e.details,
            prev_hash: &prev,
        }
        .hash();
        if hash != e.hash {
            return broken(e.seq, "event content does not match its hash", events.len());
        }
        prev = hash;
    }
    let last_seq = events.len() as i64;
    if head.seq != last_seq || head.hash != prev {
        return broken(
            last_seq + 1,
            "events after the last stored one are missing",
            events.len(),
        );
    }
    Verification {
        events: events.len() as u64,
        first_broken_seq: None,
        reason: None,
    }
}
