//! Chat transports' stream positions (Matrix's /sync `next_batch`): read when a transport
//! starts, written after each batch it took, so a restart resumes where it stopped.

use crate::entity::transport_cursor;
use crate::error::Result;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait, Set};

/// The position saved under `name`, if any.
pub async fn get(conn: &impl ConnectionTrait, name: &str) -> Result<Option<String>> {
    Ok(transport_cursor::Entity::find_by_id(name.to_string())
        .one(conn)
        .await?
        .map(|c| c.position))
}

/// Saves `position` under `name`.
pub async fn set(conn: &impl ConnectionTrait, name: &str, position: &str) -> Result<()> {
    transport_cursor::Entity::insert(transport_cursor::ActiveModel {
        name: Set(name.into()),
        position: Set(position.into()),
        updated_at: Set(dispatch_core::now()),
    })
    .on_conflict(
        OnConflict::column(transport_cursor::Column::Name)
            .update_columns([
                transport_cursor::Column::Position,
                transport_cursor::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}
