//! The timeline: custom events, pinning, listing and verifying the hash chain.

use crate::incident::{save_with_events, Events};
use crate::{Actor, Engine, Result};
use dispatch_core::commands::AddTimelineEvent;
use dispatch_core::values::IncidentRef;
use dispatch_core::EventSource;
use dispatch_store::entity::{event as event_row, incident};
use dispatch_store::repo;
use dispatch_store::repo::event::{self, ChainHead, EventFilter, NewEvent, Verification};

impl Engine {
    /// Adds a custom entry (with the time it happened) to an incident's timeline.
    pub async fn add_timeline_event(
        &self,
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
        let row: incident::ActiveModel = current.clone().into();
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
    pub async fn timeline(
        &self,
        r: &IncidentRef,
        f: &EventFilter,
    ) -> Result<Vec<event_row::Model>> {
        let inc = repo::incident::get(self.db.conn(), r).await?;
        Ok(event::list(self.db.conn(), inc.id, f).await?)
    }

    /// Pins or unpins an event (pinning is not part of the chained content).
    pub async fn pin_event(
        &self,
        r: &IncidentRef,
        event_id: i64,
        pinned: bool,
    ) -> Result<event_row::Model> {
        let txn = self.db.write().await?;
        let inc = repo::incident::lock(&*txn, r).await?;
        let e = event::get(&*txn, inc.id, event_id).await?;
        let e = event::set_pinned(&*txn, e, pinned).await?;
        txn.commit().await?;
        Ok(e)
    }

    /// Re-computes the incident's hash chain.
    pub async fn verify_timeline(&self, r: &IncidentRef) -> Result<Verification> {
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
