//! Files attached to an incident: kept in the database, size-limited, each upload on the
//! timeline; a `store_file` job then hands it to the incident's storage provider (the built-in
//! one has nothing more to do; Confluence attaches it to the incident's page).

use crate::changes::Events;
use crate::record::save_with_events;
use crate::{Actor, Error, Result};
use dispatch_core::event::TimelineEvent;
use dispatch_core::values::IncidentRef;
use dispatch_core::ValidationError;
use dispatch_store::model::file;
use dispatch_store::repo;
pub use dispatch_store::repo::file::FileMeta;

/// The largest file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

impl crate::Files<'_> {
    /// Attaches a file to an incident.
    pub async fn attach(
        self,
        actor: &Actor,
        r: &IncidentRef,
        name: &str,
        content_type: &str,
        data: Vec<u8>,
    ) -> Result<FileMeta> {
        let mut e = ValidationError::default();
        let name = name.trim();
        if name.is_empty()
            || name.chars().count() > 255
            || name.contains(['/', '\\'])
            || name.chars().any(char::is_control)
        {
            e.push(
                "name",
                "must be a file name of 1-255 characters, without slashes",
            );
        }
        if data.is_empty() {
            e.push("body", "the file is empty");
        }
        if data.len() > MAX_FILE_BYTES {
            e.push(
                "body",
                format!(
                    "the file is larger than {}",
                    dispatch_core::size::human(MAX_FILE_BYTES)
                ),
            );
        }
        e.into_result()?;
        let txn = self.db().write().await?;
        let current = repo::incident::lock(&*txn, r).await?;
        let now = dispatch_core::now();
        let size = data.len() as i64;
        let f = repo::file::insert(
            &*txn,
            file::Model {
                incident_id: current.id,
                name: name.to_string(),
                content_type: content_type.to_string(),
                size,
                data,
                uploaded_by: Some(actor.email.clone()),
                created_at: now,
                ..Default::default()
            },
        )
        .await?;
        let mut events = Events::new(actor, now);
        events.push_event(TimelineEvent::FileAttached {
            file_id: f.id,
            name: f.name.clone(),
            size,
        });
        events.job(crate::flows::store_file(
            dispatch_core::IncidentId(current.id),
            f.id,
            now,
        ));
        save_with_events(&*txn, &current, current.clone(), events).await?;
        txn.commit().await?;
        Ok(FileMeta {
            id: f.id,
            incident_id: f.incident_id,
            name: f.name,
            content_type: f.content_type,
            size,
            uploaded_by: f.uploaded_by,
            created_at: now,
        })
    }

    /// The files of an incident (without their content), oldest first.
    pub async fn list(self, r: &IncidentRef) -> Result<Vec<FileMeta>> {
        let conn = self.db().conn();
        let inc = repo::incident::get(conn, r).await?;
        Ok(repo::file::list(conn, inc.id).await?)
    }

    /// One file with its content.
    pub async fn get(self, id: dispatch_core::FileId) -> Result<file::Model> {
        let id = id.0;
        repo::file::find(self.db().conn(), id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("file {id}")))
    }
}
