//! Reading the built-in incident room and documents, and posting to the room.

use crate::{Actor, Engine, Error, Result};
use dispatch_core::values::{IncidentRef, LongText};
use dispatch_store::entity::{document, room, room_bookmark, room_member, room_message};
use dispatch_store::repo;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

/// An incident room with its members, bookmarks and latest messages.
#[derive(Debug, Clone)]
pub struct RoomView {
    /// The room.
    pub room: room::Model,
    /// Members.
    pub members: Vec<room_member::Model>,
    /// Bookmarks.
    pub bookmarks: Vec<room_bookmark::Model>,
    /// Messages, oldest first (the latest `limit`).
    pub messages: Vec<room_message::Model>,
}

impl Engine {
    /// The built-in room of an incident.
    pub async fn room(&self, r: &IncidentRef, limit: u64) -> Result<RoomView> {
        let conn = self.db().conn();
        let inc = repo::incident::get(conn, r).await?;
        let room = room::Entity::find()
            .filter(room::Column::IncidentId.eq(inc.id))
            .one(conn)
            .await?
            .ok_or_else(|| Error::NotFound(format!("room of {}", inc.name)))?;
        let members = room_member::Entity::find()
            .filter(room_member::Column::RoomId.eq(room.id))
            .order_by_asc(room_member::Column::JoinedAt)
            .all(conn)
            .await?;
        let bookmarks = room_bookmark::Entity::find()
            .filter(room_bookmark::Column::RoomId.eq(room.id))
            .order_by_asc(room_bookmark::Column::Title)
            .all(conn)
            .await?;
        let mut messages = room_message::Entity::find()
            .filter(room_message::Column::RoomId.eq(room.id))
            .order_by_desc(room_message::Column::Id)
            .limit(limit)
            .all(conn)
            .await?;
        messages.reverse();
        Ok(RoomView {
            room,
            members,
            bookmarks,
            messages,
        })
    }

    /// Posts a person's message in an incident's room (refused once the room is archived). An
    /// observer who has posted the project's number of messages becomes a participant.
    pub async fn post_message(
        &self,
        actor: &Actor,
        r: &IncidentRef,
        text: LongText,
    ) -> Result<room_message::Model> {
        let view = self.room(r, 0).await?;
        if view.room.archived {
            return Err(Error::Conflict(
                "the room is archived; re-open the incident to talk in it".into(),
            ));
        }
        let blocks = serde_json::to_string(
            &dispatch_core::message::RichMessage::plain(text.as_str()).blocks,
        )
        .unwrap_or_default();
        let txn = self.db().write().await?;
        let m = room_message::ActiveModel {
            room_id: Set(view.room.id),
            author: Set(Some(actor.email.clone())),
            text: Set(text.into_inner()),
            blocks: Set(blocks),
            idempotency_key: Set(None),
            created_at: Set(dispatch_core::now()),
            ..Default::default()
        }
        .insert(&*txn)
        .await?;
        crate::membership::promote_talking_observer(
            &*txn,
            actor,
            view.room.incident_id,
            view.room.id,
        )
        .await?;
        txn.commit().await?;
        Ok(m)
    }

    /// The documents of an incident.
    pub async fn documents(&self, r: &IncidentRef) -> Result<Vec<document::Model>> {
        let conn = self.db().conn();
        let inc = repo::incident::get(conn, r).await?;
        Ok(document::Entity::find()
            .filter(document::Column::IncidentId.eq(inc.id))
            .order_by_asc(document::Column::Id)
            .all(conn)
            .await?)
    }

    /// One document.
    pub async fn document(&self, id: i64) -> Result<document::Model> {
        document::Entity::find_by_id(id)
            .one(self.db().conn())
            .await?
            .ok_or_else(|| Error::NotFound(format!("document {id}")))
    }
}
