//! Web sessions: random cookie secrets shown once to the browser; only a SHA-256 hash is stored.

use crate::entity::session;
use crate::error::Result;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

/// What a new session records.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The user.
    pub user_id: i64,
    /// Ends at this time whatever happens.
    pub expires_at: DateTime<Utc>,
    /// Where the sign-in came from.
    pub source_addr: Option<String>,
    /// The browser's user agent.
    pub user_agent: Option<String>,
}

/// Starts a session; returns its cookie secret (shown once) and the row.
pub async fn create(
    conn: &impl ConnectionTrait,
    new: NewSession,
    now: DateTime<Utc>,
) -> Result<(String, session::Model)> {
    let secret = super::token::random_secret("");
    let row = session::ActiveModel {
        user_id: Set(new.user_id),
        token_hash: Set(super::token::hash(&secret)),
        csrf_token: Set(super::token::random_secret("")),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(new.expires_at),
        source_addr: Set(new.source_addr),
        user_agent: Set(new.user_agent),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok((secret, row))
}

/// The live (not revoked, not past its absolute end, not idle since `idle_since`) session with
/// this cookie secret.
pub async fn live(
    conn: &impl ConnectionTrait,
    secret: &str,
    now: DateTime<Utc>,
    idle_since: DateTime<Utc>,
) -> Result<Option<session::Model>> {
    Ok(session::Entity::find()
        .filter(session::Column::TokenHash.eq(super::token::hash(secret)))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(now))
        .filter(session::Column::LastSeenAt.gt(idle_since))
        .one(conn)
        .await?)
}

/// Records activity on a session.
pub async fn touch(conn: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<()> {
    session::Entity::update_many()
        .col_expr(session::Column::LastSeenAt, Expr::value(now))
        .filter(session::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Revokes one session.
pub async fn revoke(conn: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<()> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::Id.eq(id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Revokes every session of a user (account disabled, password changed); returns how many.
pub async fn revoke_all(
    conn: &impl ConnectionTrait,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<u64> {
    let res = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// A session by id.
pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<Option<session::Model>> {
    Ok(session::Entity::find_by_id(id).one(conn).await?)
}
