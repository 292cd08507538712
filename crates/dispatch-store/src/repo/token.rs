//! API tokens: random secrets shown once; only a SHA-256 hash and a display prefix are stored.

use crate::entity::{api_token, individual};
use crate::error::Result;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
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

/// The live (not revoked, not expired) token with this secret, and its individual.
pub async fn authenticate(
    conn: &impl ConnectionTrait,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Option<(api_token::Model, individual::Model)>> {
    let Some(token) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(hash(secret)))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    if token.revoked_at.is_some() || token.expires_at.is_some_and(|e| e <= now) {
        return Ok(None);
    }
    let who = individual::Entity::find_by_id(token.individual_id)
        .one(conn)
        .await?;
    Ok(who.map(|w| (token, w)))
}

/// Whether any token exists (the first start mints an admin token only on an empty table).
pub async fn any(conn: &impl ConnectionTrait) -> Result<bool> {
    use sea_orm::PaginatorTrait;
    Ok(api_token::Entity::find().count(conn).await? > 0)
}
