//! A person's saved views of the incidents list.

use crate::entity::saved_view;
use crate::error::Result;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

/// The user's views, by name.
pub async fn list(conn: &impl ConnectionTrait, user_id: i64) -> Result<Vec<saved_view::Model>> {
    Ok(saved_view::Entity::find()
        .filter(saved_view::Column::UserId.eq(user_id))
        .order_by_asc(saved_view::Column::Name)
        .all(conn)
        .await?)
}

/// Saves a view under its name; a view of the same name is replaced.
pub async fn save(
    conn: &impl ConnectionTrait,
    user_id: i64,
    name: &str,
    query: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    saved_view::Entity::insert(saved_view::ActiveModel {
        user_id: Set(user_id),
        name: Set(name.into()),
        query: Set(query.into()),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([saved_view::Column::UserId, saved_view::Column::Name])
            .update_columns([saved_view::Column::Query, saved_view::Column::UpdatedAt])
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Deletes one of the user's views; false when they have none with this id.
pub async fn delete(conn: &impl ConnectionTrait, user_id: i64, id: i64) -> Result<bool> {
    let r = saved_view::Entity::delete_many()
        .filter(saved_view::Column::Id.eq(id))
        .filter(saved_view::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    Ok(r.rows_affected > 0)
}
