//! The incident room: a conversation per incident stored by Dispatch (messages, topic,
//! bookmarks, members, archive), read and written over the API.

use crate::entity::{case_message, direct_message, room, room_bookmark, room_member, room_message};
use crate::Db;
use async_trait::async_trait;
use dispatch_core::message::RichMessage;
use dispatch_core::provider::{
    ConversationProvider, Created, IncidentContext, ProviderError, ProviderResult, ThreadRef,
};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

/// The built-in conversation provider.
pub struct Room {
    /// Where rooms are kept.
    pub db: Db,
    /// Public base URL.
    pub base_url: String,
}

/// The slug of the incident room.
pub const SLUG: &str = "dispatch-room";

fn err(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(SLUG, e.to_string())
}

fn room_id(external_id: &str) -> ProviderResult<i64> {
    external_id
        .parse()
        .map_err(|_| err(format!("bad room id {external_id:?}")))
}

impl Room {
    async fn get(&self, external_id: &str) -> ProviderResult<room::Model> {
        let id = room_id(external_id)?;
        room::Entity::find_by_id(id)
            .one(self.db.conn())
            .await
            .map_err(err)?
            .ok_or_else(|| err(format!("room {id} does not exist")))
    }

    fn created(&self, r: &room::Model, ctx_name: &str) -> Created {
        Created {
            external_id: r.id.to_string(),
            link: Some(dispatch_core::links::room(&self.base_url, ctx_name)),
            ..Default::default()
        }
    }
}

#[async_trait]
impl ConversationProvider for Room {
    fn slug(&self) -> &'static str {
        SLUG
    }

    async fn create(&self, key: &str, ctx: &IncidentContext) -> ProviderResult<Created> {
        // The look-up and the insert share one write transaction, so two calls with one key
        // cannot both insert.
        let txn = self.db.write().await.map_err(err)?;
        let conn = &*txn;
        if let Some(r) = room::Entity::find()
            .filter(room::Column::IdempotencyKey.eq(key))
            .one(conn)
            .await
            .map_err(err)?
        {
            return Ok(self.created(&r, &ctx.name));
        }
        let now = dispatch_core::now();
        let r = room::ActiveModel {
            incident_id: Set(ctx.id),
            idempotency_key: Set(key.into()),
            name: Set(ctx.room_name()),
            topic: Set(String::new()),
            archived: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(conn)
        .await
        .map_err(err)?;
        txn.commit().await.map_err(err)?;
        Ok(self.created(&r, &ctx.name))
    }

    async fn set_topic(&self, external_id: &str, topic: &str) -> ProviderResult<()> {
        let r = self.get(external_id).await?;
        if r.topic != topic {
            let mut row: room::ActiveModel = r.into();
            row.topic = Set(topic.into());
            row.updated_at = Set(dispatch_core::now());
            let txn = self.db.write().await.map_err(err)?;
            row.update(&*txn).await.map_err(err)?;
            txn.commit().await.map_err(err)?;
        }
        Ok(())
    }

    async fn bookmark(&self, external_id: &str, title: &str, link: &str) -> ProviderResult<()> {
        self.bookmarks(external_id, &[(title.into(), link.into())])
            .await
    }

    async fn bookmarks(&self, external_id: &str, marks: &[(String, String)]) -> ProviderResult<()> {
        let id = room_id(external_id)?;
        if marks.is_empty() {
            return Ok(());
        }
        let now = dispatch_core::now();
        let txn = self.db.write().await.map_err(err)?;
        room_bookmark::Entity::insert_many(marks.iter().map(|(title, link)| {
            room_bookmark::ActiveModel {
                room_id: Set(id),
                title: Set(title.clone()),
                link: Set(link.clone()),
                created_at: Set(now),
            }
        }))
        .on_conflict(
            OnConflict::columns([room_bookmark::Column::RoomId, room_bookmark::Column::Title])
                .update_column(room_bookmark::Column::Link)
                .to_owned(),
        )
        .exec_without_returning(&*txn)
        .await
        .map_err(err)?;
        txn.commit().await.map_err(err)?;
        Ok(())
    }

    async fn add_members(&self, external_id: &str, emails: &[String]) -> ProviderResult<()> {
        let id = room_id(external_id)?;
        if emails.is_empty() {
            return Ok(());
        }
        let now = dispatch_core::now();
        let txn = self.db.write().await.map_err(err)?;
        room_member::Entity::insert_many(emails.iter().map(|e| room_member::ActiveModel {
            room_id: Set(id),
            email: Set(e.clone()),
            joined_at: Set(now),
        }))
        .on_conflict(
            OnConflict::columns([room_member::Column::RoomId, room_member::Column::Email])
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec_without_returning(&*txn)
        .await
        .map_err(err)?;
        txn.commit().await.map_err(err)?;
        Ok(())
    }

    async fn post(
        &self,
        external_id: &str,
        key: Option<&str>,
        message: &RichMessage,
    ) -> ProviderResult<()> {
        let id = room_id(external_id)?;
        let blocks = serde_json::to_string(&message.blocks).map_err(err)?;
        let txn = self.db.write().await.map_err(err)?;
        room_message::Entity::insert(room_message::ActiveModel {
            room_id: Set(id),
            author: Set(None),
            text: Set(message.text.clone()),
            blocks: Set(blocks),
            idempotency_key: Set(key.map(String::from)),
            created_at: Set(dispatch_core::now()),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::column(room_message::Column::IdempotencyKey)
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec_without_returning(&*txn)
        .await
        .map_err(err)?;
        txn.commit().await.map_err(err)?;
        Ok(())
    }

    async fn set_archived(&self, external_id: &str, archived: bool) -> ProviderResult<()> {
        let r = self.get(external_id).await?;
        if r.archived != archived {
            let mut row: room::ActiveModel = r.into();
            row.archived = Set(archived);
            row.updated_at = Set(dispatch_core::now());
            let txn = self.db.write().await.map_err(err)?;
            row.update(&*txn).await.map_err(err)?;
            txn.commit().await.map_err(err)?;
        }
        Ok(())
    }

    async fn direct_message(
        &self,
        email: &str,
        key: Option<&str>,
        message: &RichMessage,
    ) -> ProviderResult<()> {
        let blocks = serde_json::to_string(&message.blocks).map_err(err)?;
        let txn = self.db.write().await.map_err(err)?;
        direct_message::Entity::insert(direct_message::ActiveModel {
            email: Set(email.trim().to_lowercase()),
            text: Set(message.text.clone()),
            blocks: Set(blocks),
            idempotency_key: Set(key.map(String::from)),
            created_at: Set(dispatch_core::now()),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::column(direct_message::Column::IdempotencyKey)
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec_without_returning(&*txn)
        .await
        .map_err(err)?;
        txn.commit().await.map_err(err)?;
        Ok(())
    }

    async fn post_case(
        &self,
        case_id: i64,
        channel: &str,
        key: &str,
        message: &RichMessage,
    ) -> ProviderResult<ThreadRef> {
        let posted = self
            .case_message(case_id, channel, None, key, message)
            .await?;
        Ok(ThreadRef {
            channel: channel.to_string(),
            ts: posted.id.to_string(),
        })
    }

    async fn update_case(&self, thread: &ThreadRef, message: &RichMessage) -> ProviderResult<()> {
        let id = room_id(&thread.ts)?;
        let blocks = serde_json::to_string(&message.blocks).map_err(err)?;
        let txn = self.db.write().await.map_err(err)?;
        crate::repo::case_thread::update_message(
            &*txn,
            id,
            &message.text,
            &blocks,
            dispatch_core::now(),
        )
        .await
        .map_err(err)?;
        txn.commit().await.map_err(err)?;
        Ok(())
    }

    async fn reply_case(
        &self,
        thread: &ThreadRef,
        key: &str,
        message: &RichMessage,
    ) -> ProviderResult<()> {
        let id = room_id(&thread.ts)?;
        let parent = case_message::Entity::find_by_id(id)
            .one(self.db.conn())
            .await
            .map_err(err)?
            .ok_or_else(|| err(format!("case message {id} does not exist")))?;
        self.case_message(parent.case_id, &thread.channel, Some(id), key, message)
            .await
            .map(drop)
    }
}

impl Room {
    /// Writes Dispatch's message in a case's room, once per key.
    async fn case_message(
        &self,
        case_id: i64,
        channel: &str,
        parent_id: Option<i64>,
        key: &str,
        message: &RichMessage,
    ) -> ProviderResult<case_message::Model> {
        let now = dispatch_core::now();
        let txn = self.db.write().await.map_err(err)?;
        let row = crate::repo::case_thread::insert_message(
            &*txn,
            case_message::Model {
                case_id,
                channel: channel.to_string(),
                parent_id,
                author: None,
                text: message.text.clone(),
                blocks: serde_json::to_string(&message.blocks).map_err(err)?,
                idempotency_key: Some(key.to_string()),
                created_at: now,
                updated_at: now,
                ..Default::default()
            },
        )
        .await
        .map_err(err)?;
        txn.commit().await.map_err(err)?;
        Ok(row)
    }
}
