//! A case's thread: where its message went (`case_threads`), and the built-in provider's case
//! rooms (`case_messages`).

use crate::entity::{case, case_message, case_thread, signal_definition};
use crate::error::Result;
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

/// Of these cases, those whose definition names a conversation target (one query).
pub async fn with_target(conn: &impl ConnectionTrait, case_ids: &[i64]) -> Result<Vec<i64>> {
    if case_ids.is_empty() {
        return Ok(Vec::new());
    }
    let targeted = Query::select()
        .column(signal_definition::Column::Id)
        .from(signal_definition::Entity)
        .and_where(Expr::col(signal_definition::Column::ConversationTarget).is_not_null())
        .and_where(Expr::col(signal_definition::Column::ConversationTarget).ne(""))
        .to_owned();
    Ok(case::Entity::find()
        .select_only()
        .column(case::Column::Id)
        .filter(case::Column::Id.is_in(case_ids.iter().copied()))
        .filter(case::Column::DefinitionId.in_subquery(targeted))
        .into_tuple()
        .all(conn)
        .await?)
}

/// The conversation target a case's definition names, if any.
pub async fn target(conn: &impl ConnectionTrait, c: &case::Model) -> Result<Option<String>> {
    let Some(def) = c.definition_id else {
        return Ok(None);
    };
    Ok(signal_definition::Entity::find_by_id(def)
        .one(conn)
        .await?
        .and_then(|d| d.conversation_target)
        .map(|t| t.trim().trim_start_matches('#').to_string())
        .filter(|t| !t.is_empty()))
}

/// A case's thread, once its message was posted.
pub async fn get(conn: &impl ConnectionTrait, case_id: i64) -> Result<Option<case_thread::Model>> {
    Ok(case_thread::Entity::find_by_id(case_id).one(conn).await?)
}

/// The case whose message is `message_ts` in `channel`, or else the latest case posted there.
pub async fn in_channel(
    conn: &impl ConnectionTrait,
    provider: &str,
    channel: &str,
    message_ts: Option<&str>,
) -> Result<Option<case_thread::Model>> {
    let mut q = case_thread::Entity::find()
        .filter(case_thread::Column::Provider.eq(provider))
        .filter(case_thread::Column::Channel.eq(channel));
    if let Some(ts) = message_ts {
        q = q.filter(case_thread::Column::MessageTs.eq(ts));
    }
    Ok(q.order_by_desc(case_thread::Column::CaseId)
        .one(conn)
        .await?)
}

/// Records where a case's message went (first post) or how far its thread was told.
pub async fn save(conn: &impl ConnectionTrait, row: case_thread::Model) -> Result<()> {
    case_thread::Entity::insert(row.into_active_model())
        .on_conflict(
            OnConflict::column(case_thread::Column::CaseId)
                .update_columns([
                    case_thread::Column::LastEventId,
                    case_thread::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Writes a message in a case's room; one with an already used key is not written again (the
/// first one is answered).
pub async fn insert_message(
    conn: &impl ConnectionTrait,
    row: case_message::Model,
) -> Result<case_message::Model> {
    if let Some(key) = &row.idempotency_key {
        if let Some(found) = case_message::Entity::find()
            .filter(case_message::Column::IdempotencyKey.eq(key.as_str()))
            .one(conn)
            .await?
        {
            return Ok(found);
        }
    }
    let mut am = row.into_active_model();
    am.id = sea_orm::ActiveValue::NotSet;
    Ok(am.insert(conn).await?)
}

/// Replaces the text and blocks of a case room's message.
pub async fn update_message(
    conn: &impl ConnectionTrait,
    id: i64,
    text: &str,
    blocks: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let Some(found) = case_message::Entity::find_by_id(id).one(conn).await? else {
        return Err(crate::StoreError::NotFound(format!("case message {id}")));
    };
    let mut am = found.into_active_model();
    am.text = Set(text.to_string());
    am.blocks = Set(blocks.to_string());
    am.updated_at = Set(at);
    am.update(conn).await?;
    Ok(())
}

/// A case room's latest `limit` messages, oldest first.
pub async fn messages(
    conn: &impl ConnectionTrait,
    case_id: i64,
    limit: u64,
) -> Result<Vec<case_message::Model>> {
    let mut rows = case_message::Entity::find()
        .filter(case_message::Column::CaseId.eq(case_id))
        .order_by_desc(case_message::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    rows.reverse();
    Ok(rows)
}
