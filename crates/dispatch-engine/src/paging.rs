//! Pages acknowledged in an on-call vendor: PagerDuty and Opsgenie tell Dispatch (through their
//! webhooks) that someone acknowledged the alert a page raised; the pages of that incident are
//! acknowledged as the page API does, and the incident's timeline records it.

use crate::changes::Events;
use crate::record::save_with_events;
use crate::Result;
use dispatch_core::event::TimelineEvent;
use dispatch_core::values::IncidentRef;
use dispatch_store::model::page;
use dispatch_store::repo;

impl crate::OnCall<'_> {
    /// Acknowledges every page of the incident called `incident` (the vendor's deduplication
    /// key: PagerDuty's `incident_key`, Opsgenie's `alias`) that is not acknowledged yet, and
    /// records each on the timeline. Returns the pages it acknowledged: none when they all were
    /// already (a redelivered webhook changes nothing). An unknown incident is `NotFound`.
    pub async fn acknowledge_incident(self, incident: &str) -> Result<Vec<page::Model>> {
        // The key always: an incident's name is never all digits.
        let r = IncidentRef::Key(incident.trim().to_ascii_uppercase());
        let txn = self.db().write().await?;
        let current = repo::incident::lock(&*txn, &r).await?;
        let open = repo::oncall::pages(&*txn, Some("triggered"), Some(current.id), 1000).await?;
        if open.is_empty() {
            txn.commit().await?;
            return Ok(Vec::new());
        }
        let now = dispatch_core::now();
        let mut events = Events::system(now);
        let mut acknowledged = Vec::new();
        for p in open {
            let p = repo::oncall::acknowledge(&*txn, p.id, now).await?;
            events.push_event(TimelineEvent::PageAcknowledged {
                page_id: p.id,
                email: p.email.clone(),
            });
            acknowledged.push(p);
        }
        save_with_events(&*txn, &current, current.clone(), events).await?;
        txn.commit().await?;
        Ok(acknowledged)
    }
}
