//! Slack's small tables: the user cache (Slack id ↔ e-mail) and the keys of messages already
//! posted.

use crate::entity::{slack_message, slack_user};
use crate::error::Result;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

/// A cached user by Slack id.
pub async fn user(
    conn: &impl ConnectionTrait,
    slack_id: &str,
) -> Result<Option<slack_user::Model>> {
    Ok(slack_user::Entity::find_by_id(slack_id.to_string())
        .one(conn)
        .await?)
}

/// A cached user by e-mail address (lower-case).
pub async fn user_by_email(
    conn: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<slack_user::Model>> {
    Ok(slack_user::Entity::find()
        .filter(slack_user::Column::Email.eq(email.to_lowercase()))
        .one(conn)
        .await?)
}

/// Caches (or refreshes) a user.
pub async fn remember_user(
    conn: &impl ConnectionTrait,
    slack_id: &str,
    email: &str,
    name: &str,
) -> Result<()> {
    slack_user::Entity::insert(slack_user::ActiveModel {
        slack_id: Set(slack_id.into()),
        email: Set(email.to_lowercase()),
        name: Set(name.into()),
        updated_at: Set(dispatch_core::now()),
    })
    .on_conflict(
        OnConflict::column(slack_user::Column::SlackId)
            .update_columns([
                slack_user::Column::Email,
                slack_user::Column::Name,
                slack_user::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// The `ts` of the message posted with this idempotency key, if one was.
pub async fn posted_ts(conn: &impl ConnectionTrait, key: &str) -> Result<Option<String>> {
    Ok(slack_message::Entity::find_by_id(key.to_string())
        .one(conn)
        .await?
        .map(|m| m.ts))
}

/// Records a posted message's key.
pub async fn remember_post(
    conn: &impl ConnectionTrait,
    key: &str,
    channel: &str,
    ts: &str,
) -> Result<()> {
    slack_message::Entity::insert(slack_message::ActiveModel {
        idempotency_key: Set(key.into()),
        channel: Set(channel.into()),
        ts: Set(ts.into()),
        created_at: Set(dispatch_core::now()),
    })
    .on_conflict(
        OnConflict::column(slack_message::Column::IdempotencyKey)
            .do_nothing()
            .to_owned(),
    )
    .do_nothing()
    .exec_without_returning(conn)
    .await?;
    Ok(())
}
