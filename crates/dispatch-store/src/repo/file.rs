//! Files attached to incidents (the built-in storage provider keeps them in the database).

use crate::entity::file;
use crate::error::Result;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};

/// A file without its content.
#[derive(Debug, Clone, FromQueryResult)]
pub struct FileMeta {
    /// Id.
    pub id: i64,
    /// The incident's id.
    pub incident_id: i64,
    /// File name.
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// Who uploaded it.
    pub uploaded_by: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Inserts a file.
pub async fn insert(conn: &impl ConnectionTrait, row: file::Model) -> Result<file::Model> {
    crate::repo::rows::insert(conn, row).await
}

/// The files of an incident without their content, oldest first.
pub async fn list(conn: &impl ConnectionTrait, incident_id: i64) -> Result<Vec<FileMeta>> {
    Ok(file::Entity::find()
        .select_only()
        .columns([
            file::Column::Id,
            file::Column::IncidentId,
            file::Column::Name,
            file::Column::ContentType,
            file::Column::Size,
            file::Column::UploadedBy,
            file::Column::CreatedAt,
        ])
        .filter(file::Column::IncidentId.eq(incident_id))
        .order_by_asc(file::Column::Id)
        .into_model::<FileMeta>()
        .all(conn)
        .await?)
}

/// A file with its content.
pub async fn find(conn: &impl ConnectionTrait, id: i64) -> Result<Option<file::Model>> {
    Ok(file::Entity::find_by_id(id).one(conn).await?)
}

/// The incident a file belongs to (`None`: no such file).
pub async fn incident_of(conn: &impl ConnectionTrait, id: i64) -> Result<Option<i64>> {
    Ok(file::Entity::find_by_id(id)
        .select_only()
        .column(file::Column::IncidentId)
        .into_tuple::<i64>()
        .one(conn)
        .await?)
}
