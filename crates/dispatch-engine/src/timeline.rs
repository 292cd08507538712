//! The timeline: custom events, pinning, listing and verifying the hash chain.

use crate::changes::Events;
use crate::record::save_with_events;
use crate::{Actor, Result};
use dispatch_core::commands::AddTimelineEvent;
use dispatch_core::event::TimelineEvent;
use dispatch_core::values::IncidentRef;
use dispatch_core::{EventId, EventSource};
use dispatch_store::model::event as event_row;
use dispatch_store::repo;
use dispatch_store::repo::event::{self, ChainHead, EventFilter, NewEvent, Verification};

/// The first line of a description, at most 80 characters.
fn short(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_string(),
    }
}

/// Escapes what markdown would read as markup in a line of text.
fn md_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '!'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Renders events as a markdown timeline.
pub fn markdown(key: &str, title: &str, events: &[event_row::Model]) -> String {
    let line = |e: &event_row::Model| {
        let who = e
            .actor
            .as_deref()
            .map(|a| format!(" ({})", md_escape(a)))
            .unwrap_or_default();
        // One list item per event: later lines of a description are indented under it.
        let text = md_escape(&e.description).replace('\n', "\n  ");
        format!(
            "- **{}** `{}`{who}: {text}\n",
            e.occurred_at.format("%Y-%m-%d %H:%M:%S UTC"),
            e.kind
        )
    };
    let mut out = format!("# {} {}: timeline\n\n", md_escape(key), md_escape(title));
    let pinned: Vec<&event_row::Model> = events.iter().filter(|e| e.pinned).collect();
    if !pinned.is_empty() {
        out.push_str("## Pinned\n\n");
        for e in pinned {
            out.push_str(&line(e));
        }
        out.push('\n');
    }
    out.push_str("## Events\n\n");
    for e in events {
        out.push_str(&line(e));
    }
    out
}

impl crate::Timeline<'_> {
    /// Adds a custom entry (with the time it happened) to an incident's timeline.
    pub async fn add(
        self,
        actor: &Actor,
        r: &IncidentRef,
        cmd: AddTimelineEvent,
    ) -> Result<event_row::Model> {
        let txn = self.db.write().await?;
        let conn = &*txn;
        let current = repo::incident::lock(conn, r).await?;
        let mut events = Events::new(actor, dispatch_core::now());
        events.push_custom(NewEvent {
            occurred_at: cmd.occurred_at,
            kind: "custom".into(),
            source: EventSource::Custom,
            actor: Some(actor.email.clone()),
            transport: actor.transport,
            description: cmd.description.into_inner(),
            details: cmd.details.unwrap_or_else(|| serde_json::json!({})),
            pinned: cmd.pinned,
        });
        let row = current.clone();
        let saved = save_with_events(conn, &current, row, events).await?;
        let added = event::list(conn, current.id, &EventFilter::default())
            .await?
            .into_iter()
            .find(|e| e.seq == saved.event_seq)
            .ok_or_else(|| crate::Error::NotFound("event".into()))?;
        txn.commit().await?;
        Ok(added)
    }

    /// An incident's timeline in order.
    pub async fn list(self, r: &IncidentRef, f: &EventFilter) -> Result<Vec<event_row::Model>> {
        let inc = repo::incident::get(self.db.conn(), r).await?;
        Ok(event::list(self.db.conn(), inc.id, f).await?)
    }

    /// Pins or unpins an event. The pinned flag is not part of the chained content, so the
    /// chain stays intact; the change itself goes on the timeline as an `event_pinned` or
    /// `event_unpinned` event. Pinning a pinned event (or unpinning an unpinned one) changes
    /// nothing and adds no event.
    pub async fn pin(
        self,
        actor: &Actor,
        r: &IncidentRef,
        event_id: EventId,
        pinned: bool,
    ) -> Result<event_row::Model> {
        let event_id = event_id.0;
        let txn = self.db.write().await?;
        let current = repo::incident::lock(&*txn, r).await?;
        let e = event::get(&*txn, current.id, event_id).await?;
        if e.pinned == pinned {
            txn.commit().await?;
            return Ok(e);
        }
        let e = event::set_pinned(&*txn, e, pinned).await?;
        let mut events = Events::new(actor, dispatch_core::now());
        let (event_id, seq, text) = (e.id, e.seq, short(&e.description));
        events.push_event(if pinned {
            TimelineEvent::EventPinned {
                event_id,
                seq,
                text,
            }
        } else {
            TimelineEvent::EventUnpinned {
                event_id,
                seq,
                text,
            }
        });
        save_with_events(&*txn, &current, current.clone(), events).await?;
        txn.commit().await?;
        Ok(e)
    }

    /// The incident's timeline as a markdown document: a heading, the pinned events, then
    /// every event in order (times in UTC).
    pub async fn markdown(self, r: &IncidentRef, f: &EventFilter) -> Result<String> {
        let inc = repo::incident::get(self.db.conn(), r).await?;
        let events = event::list(self.db.conn(), inc.id, f).await?;
        Ok(markdown(&inc.name, &inc.title, &events))
    }

    /// Re-computes the incident's hash chain.
    pub async fn verify(self, r: &IncidentRef) -> Result<Verification> {
        let conn = self.db.conn();
        let inc = repo::incident::row(conn, r).await?;
        let events = event::list(conn, inc.id, &EventFilter::default()).await?;
        let head = ChainHead {
            incident_name: inc.name.clone(),
            seq: inc.event_seq,
            hash: inc.last_event_hash,
        };
        Ok(event::verify(&inc.name, &head, &events))
    }
}
