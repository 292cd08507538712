//! Editing a built-in document by hand. The rule between people and the engine: the engine keeps
//! a document current (re-renders its template as the incident changes) only until someone edits
//! it; from then on the document is the people's and the engine leaves it alone, so an edit is
//! never silently overwritten. A closed incident's documents are read-only.

use crate::changes::Events;
use crate::record::save_with_events;
use crate::{Actor, Error, Result};
use dispatch_core::event::{Change, TimelineEvent};
use dispatch_core::values::IncidentRef;
use dispatch_core::ValidationError;
use dispatch_store::model::document;
use dispatch_store::repo;

/// The longest document body accepted (characters).
pub const MAX_DOCUMENT_CHARS: usize = 200_000;

impl crate::Documents<'_> {
    /// Replaces a document's markdown with a person's edit, in one transaction with its
    /// `document_edited` timeline event. The document must belong to the incident.
    pub async fn edit(
        self,
        actor: &Actor,
        r: &IncidentRef,
        document_id: dispatch_core::DocumentId,
        body: &str,
    ) -> Result<document::Model> {
        let document_id = document_id.0;
        let n = body.chars().count();
        if n > MAX_DOCUMENT_CHARS {
            return Err(ValidationError::field(
                "body",
                format!("must be at most {MAX_DOCUMENT_CHARS} characters (got {n})"),
            )
            .into());
        }
        let txn = self.db().write().await?;
        let current = repo::incident::lock(&*txn, r).await?;
        let doc = repo::document::find_of(&*txn, current.id, document_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("document {document_id}")))?;
        if doc.read_only {
            return Err(Error::Conflict(format!(
                "{} is read-only: the incident is closed (re-open it to edit)",
                doc.title
            )));
        }
        if doc.body == body {
            txn.commit().await?;
            return Ok(doc);
        }
        let now = dispatch_core::now();
        let title = doc.title.clone();
        let (before, after) = (doc.body.chars().count(), n);
        let mut row = doc.clone();
        row.body = body.to_string();
        row.updated_at = now;
        row.edited_by = Some(actor.email.clone());
        row.edited_at = Some(now);
        let saved = repo::document::update(&*txn, &doc, row).await?;
        let mut events = Events::new(actor, now);
        events.push_event(TimelineEvent::DocumentEdited {
            document_id,
            chars: Change::new(before, after),
            title: title.to_string(),
        });
        save_with_events(&*txn, &current, current.clone(), events).await?;
        txn.commit().await?;
        Ok(saved)
    }
}
