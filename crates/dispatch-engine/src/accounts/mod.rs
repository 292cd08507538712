//! Accounts: users with an organization role, local passwords (argon2id), one-time set-up links,
//! disabling; web sessions ([`session`]) and API tokens ([`tokens`]).

pub mod projects;
pub mod session;
pub mod throttle;
pub mod tokens;
pub mod views;

use crate::access::Authenticated;
use crate::audit::{NewAudit, Origin};
use crate::{Engine, Error, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::TimeDelta;
use dispatch_core::values::Email;
use dispatch_core::{OrgRole, UserId, ValidationError};
use dispatch_store::model::user;
use dispatch_store::repo::user::UserRow;
use dispatch_store::repo::{self, token};
use dispatch_store::Conn;

/// How long a set-up link works.
pub const SETUP_LINK_HOURS: i64 = 72;

/// A person (who signs in) or a service account (which only holds API tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserKind {
    /// A person.
    Person,
    /// Automation.
    Service,
}

impl UserKind {
    fn as_str(self) -> &'static str {
        match self {
            UserKind::Person => "person",
            UserKind::Service => "service",
        }
    }
}

/// A new user and, for a person without a password, the one-time set-up link.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The user.
    pub user: UserRow,
    /// Where they choose their password (shown once).
    pub setup_link: Option<String>,
}

/// Hashes a password with argon2id and a random salt (off the async threads: it is slow on
/// purpose).
pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(|e| Error::Conflict(format!("hashing failed: {e}")))?
    .map_err(|e| Error::Conflict(format!("hashing failed: {e}")))
}

/// Whether `password` matches the stored hash; with no hash, checks against a fixed one so that
/// an unknown account takes as long as a wrong password.
pub async fn verify_password(password: String, stored: Option<String>) -> bool {
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ZcNVeJqwPCXIULbU3Yb7nHDtyVfmL1q+0g3jTeL9H3U";
    let known = stored.is_some();
    let stored = stored.unwrap_or_else(|| DUMMY.to_string());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
        && known
}

impl Engine {
    async fn issue_setup_link(&self, conn: &impl Conn, u: user::Model) -> Result<String> {
        let secret = token::random_secret("");
        let now = dispatch_core::now();
        let mut row = u.clone();
        row.setup_token_hash = Some(token::hash(&secret));
        row.setup_expires_at = Some(now + TimeDelta::hours(SETUP_LINK_HOURS));
        row.updated_at = now;
        repo::user::update(conn, &u, row).await?;
        Ok(format!("{}/auth/setup?token={secret}", self.base_url()))
    }
}

/// Refuses a change that takes the owner `u` out of the enabled owners when no other enabled
/// owner is left: an organization always has someone who can change roles.
pub(crate) async fn keep_an_owner(conn: &impl Conn, u: &user::Model) -> Result<()> {
    if u.role != OrgRole::Owner.as_str() || u.disabled_at.is_some() {
        return Ok(());
    }
    let owners = repo::user::enabled_owners_locked(conn).await?;
    if owners.iter().all(|x| x.id == u.id) {
        return Err(Error::Conflict(
            "this is the last owner; make someone else owner first".into(),
        ));
    }
    Ok(())
}

/// An audit entry by `by`, or by the server's own command line when `None`.
pub(crate) fn audit_entry(
    by: Option<&Authenticated>,
    action: &str,
    target: &str,
    origin: &Origin,
) -> NewAudit {
    match by {
        Some(b) => b.audit(action, target, origin),
        None => NewAudit {
            action: action.into(),
            target: Some(target.to_string()),
            credential: Some("local".into()),
            ..Default::default()
        },
    }
}

impl crate::Accounts<'_> {
    /// Creates a user (and their individual) with a role; a person gets a one-time set-up link
    /// to choose a password. A user that exists is a conflict, whatever its state: its role
    /// changes only through [`Accounts::update`], a new link only through
    /// [`Accounts::new_setup_link`].
    pub async fn create(
        self,
        by: Option<&Authenticated>,
        email: &Email,
        role: OrgRole,
        kind: UserKind,
        origin: &Origin,
    ) -> Result<NewUser> {
        let txn = self.db().write().await?;
        let who = repo::individual::get_or_create(&*txn, email.as_str(), None).await?;
        let Some(u) = repo::user::create(&*txn, who.id, role.as_str(), kind.as_str()).await? else {
            let existing = repo::user::by_individual(&*txn, who.id).await?;
            return Err(Error::Conflict(match existing {
                Some(u) => format!(
                    "{email} already has an account (user {}, {}); change its role or disable it \
                     instead",
                    u.id, u.role
                ),
                None => format!("{email} already has an account"),
            }));
        };
        let user_id = u.id;
        let setup_link = match kind {
            UserKind::Person => Some(self.issue_setup_link(&*txn, u).await?),
            UserKind::Service => None,
        };
        let row = repo::user::row(&*txn, user_id).await?;
        let mut entry = audit_entry(by, "user.created", email.as_str(), origin);
        entry.details = serde_json::json!({"role": role, "kind": kind.as_str()});
        repo::audit::append(&*txn, entry, dispatch_core::now()).await?;
        txn.commit().await?;
        Ok(NewUser {
            user: row,
            setup_link,
        })
    }

    /// A fresh one-time set-up link for a person who has not chosen a password yet (the link
    /// expired or was lost); the previous link stops working. A conflict for an account with a
    /// password, a disabled one or a service account; nothing else about the account changes.
    pub async fn new_setup_link(
        self,
        by: Option<&Authenticated>,
        id: UserId,
        origin: &Origin,
    ) -> Result<NewUser> {
        let id = id.0;
        let txn = self.db().write().await?;
        let u = repo::user::get(&*txn, id).await?;
        let row = repo::user::row(&*txn, id).await?;
        let refused = if u.kind != UserKind::Person.as_str() {
            Some("is a service account, which never signs in")
        } else if u.disabled_at.is_some() {
            Some("is disabled; enable it first")
        } else if u.password_hash.is_some() {
            Some("already has a password")
        } else {
            None
        };
        if let Some(why) = refused {
            return Err(Error::Conflict(format!("{} {why}", row.email)));
        }
        let link = self.issue_setup_link(&*txn, u).await?;
        let entry = audit_entry(by, "user.setup_link_issued", &row.email, origin);
        repo::audit::append(&*txn, entry, dispatch_core::now()).await?;
        txn.commit().await?;
        Ok(NewUser {
            user: row,
            setup_link: Some(link),
        })
    }

    /// Sets the password of the user a set-up link was issued to; the link stops working.
    pub async fn complete_setup(self, secret: &str, password: &str, origin: &Origin) -> Result<()> {
        let now = dispatch_core::now();
        let u = repo::user::by_setup_hash(self.db().conn(), &token::hash(secret), now)
            .await?
            .ok_or_else(|| {
                Error::NotFound("set-up link (it may have expired or been used)".into())
            })?;
        let email = repo::individual::get(self.db().conn(), u.individual_id)
            .await?
            .email;
        dispatch_core::password::check(password, &email)
            .map_err(|m| ValidationError::field("password", m))?;
        let hash = hash_password(password.to_string()).await?;
        let txn = self.db().write().await?;
        let id = u.id;
        let mut row = u.clone();
        row.password_hash = Some(hash);
        row.setup_token_hash = None;
        row.setup_expires_at = None;
        row.updated_at = now;
        repo::user::update(&*txn, &u, row).await?;
        repo::session::revoke_all(&*txn, id, now).await?;
        let entry = NewAudit {
            actor: Some(email.clone()),
            action: "user.password_set".into(),
            target: Some(email),
            source_addr: origin.addr.clone(),
            credential: Some("set-up link".into()),
            ..Default::default()
        };
        repo::audit::append(&*txn, entry, now).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The user with this e-mail, if any.
    pub async fn by_email(self, email: &Email) -> Result<Option<UserRow>> {
        let conn = self.db().conn();
        Ok(match repo::user::by_email(conn, email.as_str()).await? {
            Some(u) => Some(repo::user::row(conn, u.id).await?),
            None => None,
        })
    }

    /// Every user.
    pub async fn list(self) -> Result<Vec<UserRow>> {
        Ok(repo::user::list(self.db().conn()).await?)
    }

    /// Changes a user's role or disables / enables them. The last enabled owner cannot be
    /// demoted or disabled; disabling ends their sessions (their tokens stop working too).
    pub async fn update(
        self,
        by: &Authenticated,
        id: UserId,
        role: Option<OrgRole>,
        disabled: Option<bool>,
        origin: &Origin,
    ) -> Result<UserRow> {
        let id = id.0;
        let txn = self.db().write().await?;
        let u = repo::user::get(&*txn, id).await?;
        let now = dispatch_core::now();
        let losing_owner = u.role == OrgRole::Owner.as_str()
            && (role.is_some_and(|r| r != OrgRole::Owner) || disabled == Some(true));
        if losing_owner {
            keep_an_owner(&*txn, &u).await?;
        }
        let target = repo::user::row(&*txn, id).await?.email;
        let mut row = u.clone();
        if let Some(r) = role.filter(|r| r.as_str() != u.role) {
            row.role = r.as_str().to_string();
            let mut e = by.audit("user.role_changed", &target, origin);
            e.details = serde_json::json!({"from": u.role, "to": r});
            repo::audit::append(&*txn, e, now).await?;
        }
        match disabled {
            Some(true) if u.disabled_at.is_none() => {
                row.disabled_at = Some(now);
                repo::session::revoke_all(&*txn, id, now).await?;
                repo::audit::append(&*txn, by.audit("user.disabled", &target, origin), now).await?;
            }
            Some(false) if u.disabled_at.is_some() => {
                row.disabled_at = None;
                repo::audit::append(&*txn, by.audit("user.enabled", &target, origin), now).await?;
            }
            _ => {}
        }
        row.updated_at = now;
        repo::user::update(&*txn, &u, row).await?;
        let out = repo::user::row(&*txn, id).await?;
        txn.commit().await?;
        self.credential_cache().forget();
        Ok(out)
    }

    /// The person an external identity provider (OIDC, an authenticating proxy) vouches for,
    /// created as a member on first sight; `None` when their account is disabled or is a
    /// service account.
    pub async fn external_user(
        self,
        email: &Email,
        credential: crate::access::Credential,
    ) -> Result<Option<Authenticated>> {
        let conn = self.db().conn();
        let existing = repo::user::by_email(conn, email.as_str()).await?;
        let u = match existing {
            Some(u) => u,
            None => {
                let txn = self.db().write().await?;
                let who = repo::individual::get_or_create(&*txn, email.as_str(), None).await?;
                let u = repo::user::ensure(&*txn, who.id, None, "person").await?;
                let entry = NewAudit {
                    actor_id: Some(who.id),
                    actor: Some(email.to_string()),
                    action: "user.created".into(),
                    target: Some(email.to_string()),
                    credential: Some(format!("{credential:?}").to_lowercase()),
                    details: serde_json::json!({"role": "member", "first_sign_in": true}),
                    ..Default::default()
                };
                repo::audit::append(&*txn, entry, dispatch_core::now()).await?;
                txn.commit().await?;
                u
            }
        };
        if u.disabled_at.is_some() || u.kind != "person" {
            return Ok(None);
        }
        let person = repo::individual::get(conn, u.individual_id).await?;
        Ok(Some(Authenticated {
            actor: crate::Actor {
                individual_id: dispatch_core::IndividualId(person.id),
                email: person.email,
                name: person.name,
                transport: dispatch_core::Transport::Web,
            },
            user_id: u.id,
            role: u.role.parse().unwrap_or(OrgRole::Member),
            scope: dispatch_core::TokenScope::Admin,
            credential,
        }))
    }
}
