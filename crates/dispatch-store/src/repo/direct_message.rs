//! Direct messages kept by the built-in conversation provider.

use crate::entity::direct_message;
use crate::error::Result;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// The direct messages to a person (by lower-cased e-mail), newest first, at most `limit`.
pub async fn for_email(
    conn: &impl ConnectionTrait,
    email: &str,
    limit: u64,
) -> Result<Vec<direct_message::Model>> {
    Ok(direct_message::Entity::find()
        .filter(direct_message::Column::Email.eq(email))
        .order_by_desc(direct_message::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}
