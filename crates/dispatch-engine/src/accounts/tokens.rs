//! API tokens over the API: people mint, list and revoke their own; admins also those of
//! service accounts. A token's scope never exceeds the credential that mints it.

use crate::access::Authenticated;
use crate::audit::Origin;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use dispatch_core::values::Email;
use dispatch_core::{OrgRole, TokenId, TokenScope, ValidationError};
use dispatch_store::model::api_token;
use dispatch_store::repo;

/// A token to mint.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    /// A label.
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// When it stops working (never when `None`).
    pub expires_at: Option<DateTime<Utc>>,
    /// Mint it for this service account (created if new) instead of the caller; admins only.
    pub service_account: Option<Email>,
}

/// A token as listed: its owner, never its secret.
#[derive(Debug, Clone)]
pub struct TokenView {
    /// The row (its hash is never shown).
    pub token: api_token::Model,
    /// The owner's e-mail.
    pub owner: String,
}

impl crate::Credentials<'_> {
    /// Mints a token; returns the secret (shown once) and the row. Never for a disabled service
    /// account (a disabled person cannot call this at all).
    pub async fn mint(
        self,
        by: &Authenticated,
        new: NewApiToken,
        origin: &Origin,
    ) -> Result<(String, TokenView)> {
        let mut e = ValidationError::default();
        if !by.scope.at_least(new.scope) {
            e.push(
                "scope",
                format!(
                    "cannot exceed the scope of your own credential ({})",
                    by.scope
                ),
            );
        }
        if new.expires_at.is_some_and(|t| t <= dispatch_core::now()) {
            e.push("expires_at", "must be in the future");
        }
        e.into_result()?;
        if new.service_account.is_some() && !by.role.at_least(OrgRole::Admin) {
            return Err(Error::Forbidden(
                "only admins mint tokens for service accounts".into(),
            ));
        }
        let txn = self.db().write().await?;
        let owner = match &new.service_account {
            None => repo::individual::get(&*txn, by.actor.individual_id.0).await?,
            Some(email) => {
                let who = repo::individual::get_or_create(&*txn, email.as_str(), None).await?;
                let u = repo::user::ensure(&*txn, who.id, None, "service").await?;
                if u.kind != "service" {
                    return Err(ValidationError::field(
                        "service_account",
                        format!("{email} is a person, not a service account"),
                    )
                    .into());
                }
                if u.disabled_at.is_some() {
                    return Err(Error::Conflict(format!(
                        "the account of {email} is disabled; enable it before minting a token"
                    )));
                }
                who
            }
        };
        let (secret, row) = repo::token::create(
            &*txn,
            owner.id,
            &new.name,
            new.scope.as_str(),
            new.expires_at,
        )
        .await?;
        let mut entry = by.audit("token.created", &row.prefix, origin);
        entry.details = serde_json::json!({"owner": owner.email, "scope": new.scope, "expires_at": new.expires_at});
        repo::audit::append(&*txn, entry, dispatch_core::now()).await?;
        txn.commit().await?;
        Ok((
            secret,
            TokenView {
                token: row,
                owner: owner.email,
            },
        ))
    }

    /// The caller's tokens, or every token when `all` (admins only).
    pub async fn list(self, by: &Authenticated, all: bool) -> Result<Vec<TokenView>> {
        if all && !by.is_admin() {
            return Err(Error::Forbidden("only admins list every token".into()));
        }
        let conn = self.db().conn();
        let rows = repo::token::list(conn, (!all).then_some(by.actor.individual_id.0)).await?;
        let mut out = Vec::with_capacity(rows.len());
        for token in rows {
            let owner = repo::individual::get(conn, token.individual_id)
                .await?
                .email;
            out.push(TokenView { token, owner });
        }
        Ok(out)
    }

    /// Revokes a token: the caller's own, or any when they are an admin. Another person's
    /// token is *not found* to a non-admin.
    pub async fn revoke(
        self,
        by: &Authenticated,
        id: TokenId,
        origin: &Origin,
    ) -> Result<TokenView> {
        let id = id.0;
        let txn = self.db().write().await?;
        let row = repo::token::get(&*txn, id).await?;
        if row.individual_id != by.actor.individual_id.0 && !by.is_admin() {
            return Err(Error::NotFound(format!("token {id}")));
        }
        let now = dispatch_core::now();
        let row = repo::token::revoke(&*txn, id, now).await?;
        let owner = repo::individual::get(&*txn, row.individual_id).await?.email;
        repo::audit::append(&*txn, by.audit("token.revoked", &row.prefix, origin), now).await?;
        txn.commit().await?;
        self.credential_cache().forget();
        Ok(TokenView { token: row, owner })
    }
}
