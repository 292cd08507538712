//! `store_file`: a file attached to an incident goes to the incident's storage provider (the
//! provider that made its storage resource), once the storage is ready.

use super::outcome::{complete_without_incident, made_by, JobFailure};
use crate::Engine;
use dispatch_core::provider::StoredFile;
use dispatch_core::ResourceKind;
use dispatch_store::model::job;
use dispatch_store::repo;

pub(crate) async fn store_file(
    engine: &Engine,
    job: &job::Model,
    incident_id: i64,
    file_id: i64,
) -> Result<(), JobFailure> {
    let conn = engine.db().conn();
    let Some(storage) = repo::resource::find(conn, incident_id, ResourceKind::Storage).await?
    else {
        // No storage for this incident: the database keeps the file.
        return complete_without_incident(engine, job).await;
    };
    let external_id = storage
        .external_id
        .as_deref()
        .filter(|_| storage.status == "ready" || storage.status == "archived")
        .ok_or_else(|| {
            JobFailure(format!(
                "the incident's storage is not ready yet ({})",
                storage.status
            ))
        })?;
    let provider = made_by(&engine.registry().storage, &storage)?;
    let f = repo::file::find(conn, file_id)
        .await?
        .ok_or_else(|| JobFailure(format!("file {file_id} no longer exists")))?;
    let file = StoredFile {
        name: f.name,
        content_type: f.content_type,
        data: f.data,
    };
    provider.store_file(external_id, &file).await?;
    complete_without_incident(engine, job).await
}
