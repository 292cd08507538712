//! The built-in incident room: the room, its members, bookmarks, messages and reactions.

use crate::entity::{room, room_bookmark, room_member, room_message, room_reaction};
use crate::error::Result;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// The room of an incident, if it has one.
pub async fn of_incident(
    conn: &impl ConnectionTrait,
    incident_id: i64,
) -> Result<Option<room::Model>> {
    Ok(room::Entity::find()
        .filter(room::Column::IncidentId.eq(incident_id))
        .one(conn)
        .await?)
}

/// A room's members, in order of joining.
pub async fn members(conn: &impl ConnectionTrait, room_id: i64) -> Result<Vec<room_member::Model>> {
    Ok(room_member::Entity::find()
        .filter(room_member::Column::RoomId.eq(room_id))
        .order_by_asc(room_member::Column::JoinedAt)
        .all(conn)
        .await?)
}

/// A room's bookmarks, by title.
pub async fn bookmarks(
    conn: &impl ConnectionTrait,
    room_id: i64,
) -> Result<Vec<room_bookmark::Model>> {
    Ok(room_bookmark::Entity::find()
        .filter(room_bookmark::Column::RoomId.eq(room_id))
        .order_by_asc(room_bookmark::Column::Title)
        .all(conn)
        .await?)
}

/// The latest `limit` messages of a room, oldest first.
pub async fn latest_messages(
    conn: &impl ConnectionTrait,
    room_id: i64,
    limit: u64,
) -> Result<Vec<room_message::Model>> {
    let mut messages = room_message::Entity::find()
        .filter(room_message::Column::RoomId.eq(room_id))
        .order_by_desc(room_message::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    messages.reverse();
    Ok(messages)
}

/// One message of a room.
pub async fn message(
    conn: &impl ConnectionTrait,
    room_id: i64,
    message_id: i64,
) -> Result<Option<room_message::Model>> {
    Ok(room_message::Entity::find_by_id(message_id)
        .filter(room_message::Column::RoomId.eq(room_id))
        .one(conn)
        .await?)
}

/// How many messages `author` has written in a room.
pub async fn messages_by(conn: &impl ConnectionTrait, room_id: i64, author: &str) -> Result<u64> {
    Ok(room_message::Entity::find()
        .filter(room_message::Column::RoomId.eq(room_id))
        .filter(room_message::Column::Author.eq(author))
        .count(conn)
        .await?)
}

/// Inserts a message.
pub async fn insert_message(
    conn: &impl ConnectionTrait,
    row: room_message::Model,
) -> Result<room_message::Model> {
    crate::repo::rows::insert(conn, row).await
}

/// The reactions with `emoji` to a message.
pub async fn reactions(
    conn: &impl ConnectionTrait,
    message_id: i64,
    emoji: &str,
) -> Result<Vec<room_reaction::Model>> {
    Ok(room_reaction::Entity::find()
        .filter(room_reaction::Column::MessageId.eq(message_id))
        .filter(room_reaction::Column::Emoji.eq(emoji))
        .all(conn)
        .await?)
}

/// Inserts a reaction.
pub async fn insert_reaction(
    conn: &impl ConnectionTrait,
    row: room_reaction::Model,
) -> Result<room_reaction::Model> {
    crate::repo::rows::insert(conn, row).await
}
