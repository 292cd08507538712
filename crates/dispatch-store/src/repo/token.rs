//! API tokens: random secrets shown once; only a SHA-256 hash and a display prefix are stored.

use crate::entity::{api_token, individual, user};
use crate::error::{Result, StoreError};
use chrono::{DateTime, Utc};
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, FromQueryResult, Set};
use sha2::{Digest, Sha256};

/// Every token starts with this, so leaked tokens are easy to recognise and scan for.
pub const TOKEN_PREFIX: &str = "dsp_";

/// The stored hash of a token.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random secret of 24 bytes in hex after `prefix`.
pub fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// Mints a token for an individual; returns the secret (shown once) and the stored row.
pub async fn create(
    conn: &impl ConnectionTrait,
    individual_id: i64,
    name: &str,
    scope: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(String, api_token::Model)> {
    let secret = random_secret(TOKEN_PREFIX);
    let row = api_token::ActiveModel {
        individual_id: Set(individual_id),
        name: Set(name.to_string()),
        prefix: Set(secret[..TOKEN_PREFIX.len() + 8].to_string()),
        token_hash: Set(hash(&secret)),
        // The role lives on the user now; the column only keeps its old default.
        role: Set("member".to_string()),
        scope: Set(scope.to_string()),
        created_at: Set(dispatch_core::now()),
        expires_at: Set(expires_at),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok((secret, row))
}

/// The person behind a live token.
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
pub struct TokenOwner {
    /// The token's id.
    pub token_id: i64,
    /// The owner's organization role.
    pub role: String,
    /// The token's scope.
    pub scope: String,
    /// When the token expires, if it does.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the token was last used.
    pub last_used_at: Option<DateTime<Utc>>,
    /// The owner's user id.
    pub user_id: i64,
    /// The person's id.
    pub individual_id: i64,
    /// The person's e-mail.
    pub email: String,
    /// The person's name.
    pub name: String,
}

/// The person behind the live (not revoked, not expired, owner not disabled) token with this
/// secret, in one query (it runs on every API request).
pub async fn authenticate(
    conn: &impl ConnectionTrait,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Option<TokenOwner>> {
    use sea_orm::sea_query::{Alias, Condition, Expr, Query};
    let q = Query::select()
        .expr_as(
            Expr::col((api_token::Entity, api_token::Column::Id)),
            Alias::new("token_id"),
        )
        .column((user::Entity, user::Column::Role))
        .columns([
            (api_token::Entity, api_token::Column::Scope),
            (api_token::Entity, api_token::Column::ExpiresAt),
            (api_token::Entity, api_token::Column::LastUsedAt),
        ])
        .expr_as(
            Expr::col((user::Entity, user::Column::Id)),
            Alias::new("user_id"),
        )
        .expr_as(
            Expr::col((individual::Entity, individual::Column::Id)),
            Alias::new("individual_id"),
        )
        .columns([
            (individual::Entity, individual::Column::Email),
            (individual::Entity, individual::Column::Name),
        ])
        .from(api_token::Entity)
        .inner_join(
            individual::Entity,
            Expr::col((individual::Entity, individual::Column::Id))
                .equals((api_token::Entity, api_token::Column::IndividualId)),
        )
        .inner_join(
            user::Entity,
            Expr::col((user::Entity, user::Column::IndividualId))
                .equals((api_token::Entity, api_token::Column::IndividualId)),
        )
        .and_where(Expr::col((user::Entity, user::Column::DisabledAt)).is_null())
        .and_where(Expr::col((api_token::Entity, api_token::Column::TokenHash)).eq(hash(secret)))
        .and_where(Expr::col((api_token::Entity, api_token::Column::RevokedAt)).is_null())
        .cond_where(
            Condition::any()
                .add(Expr::col((api_token::Entity, api_token::Column::ExpiresAt)).is_null())
                .add(Expr::col((api_token::Entity, api_token::Column::ExpiresAt)).gt(now)),
        )
        .to_owned();
    let stmt = conn.get_database_backend().build(&q);
    Ok(TokenOwner::find_by_statement(stmt).one(conn).await?)
}

/// Whether any token exists (the first start mints an admin token only on an empty table).
pub async fn any(conn: &impl ConnectionTrait) -> Result<bool> {
    use sea_orm::PaginatorTrait;
    Ok(api_token::Entity::find().count(conn).await? > 0)
}

/// Records that a token was used at `now`.
pub async fn touch(conn: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<()> {
    use sea_orm::{ColumnTrait, QueryFilter};
    api_token::Entity::update_many()
        .col_expr(
            api_token::Column::LastUsedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(api_token::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// The tokens of one individual (or every token when `None`), newest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    individual_id: Option<i64>,
) -> Result<Vec<api_token::Model>> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    let mut find = api_token::Entity::find();
    if let Some(id) = individual_id {
        find = find.filter(api_token::Column::IndividualId.eq(id));
    }
    Ok(find.order_by_desc(api_token::Column::Id).all(conn).await?)
}

/// A token by id.
pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<api_token::Model> {
    api_token::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("token {id}")))
}

/// Revokes a token (keeps the first revocation time).
pub async fn revoke(
    conn: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<api_token::Model> {
    let row = get(conn, id).await?;
    if row.revoked_at.is_some() {
        return Ok(row);
    }
    let mut active: api_token::ActiveModel = row.into();
    active.revoked_at = Set(Some(now));
    Ok(active.update(conn).await?)
}
