//! API tokens: random secrets shown once; only a SHA-256 hash and a display prefix are stored.

use crate::entity::{api_token, individual};
use crate::error::Result;
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

/// Mints a token for an individual; returns the secret (shown once) and the stored row.
pub async fn create(
    conn: &impl ConnectionTrait,
    individual_id: i64,
    name: &str,
    role: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(String, api_token::Model)> {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    let secret = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
    let row = api_token::ActiveModel {
        individual_id: Set(individual_id),
        name: Set(name.to_string()),
        prefix: Set(secret[..TOKEN_PREFIX.len() + 8].to_string()),
        token_hash: Set(hash(&secret)),
        role: Set(role.to_string()),
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
    /// The token's role.
    pub role: String,
    /// The person's id.
    pub individual_id: i64,
    /// The person's e-mail.
    pub email: String,
    /// The person's name.
    pub name: String,
}

/// The person behind the live (not revoked, not expired) token with this secret, in one query
/// (it runs on every API request).
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
        .column((api_token::Entity, api_token::Column::Role))
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
