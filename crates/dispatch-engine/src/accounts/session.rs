//! Signing in with a local password, and the web sessions it starts: revocable, with an idle
//! and an absolute timeout, each with its CSRF token.

use crate::access::{Authenticated, Credential};
use crate::audit::{NewAudit, Origin};
use crate::{Actor, Result};
use chrono::TimeDelta;
use dispatch_core::{IndividualId, OrgRole, TokenScope, Transport, UserId};
use dispatch_store::repo;
use dispatch_store::repo::session::NewSession;

/// How long sessions last.
#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    /// A session unused this long ends.
    pub idle: TimeDelta,
    /// A session ends this long after sign-in whatever happens.
    pub lifetime: TimeDelta,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            idle: TimeDelta::hours(8),
            lifetime: TimeDelta::days(7),
        }
    }
}

/// A started session.
#[derive(Debug, Clone)]
pub struct SessionStart {
    /// The cookie secret (shown once).
    pub secret: String,
    /// The CSRF token state-changing requests must carry.
    pub csrf_token: String,
    /// When it ends at the latest.
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// Who signed in.
    pub who: Authenticated,
}

/// A live session's caller and CSRF token.
#[derive(Debug, Clone)]
pub struct LiveSession {
    /// Who.
    pub who: Authenticated,
    /// The CSRF token of the session.
    pub csrf_token: String,
}

impl crate::Sessions<'_> {
    /// Signs a person in with their e-mail and password. Unknown people, wrong passwords and
    /// disabled accounts all answer `None` after the same work, so the answer tells nothing
    /// about which accounts exist. Every attempt is audited.
    pub async fn sign_in(
        self,
        email: &str,
        password: &str,
        origin: &Origin,
    ) -> Result<Option<SessionStart>> {
        let email = email.trim().to_lowercase();
        let user = repo::user::by_email(self.db().conn(), &email).await?;
        let usable = user
            .as_ref()
            .filter(|u| u.disabled_at.is_none() && u.kind == "person");
        let ok = super::verify_password(
            password.to_string(),
            usable.and_then(|u| u.password_hash.clone()),
        )
        .await;
        match usable.filter(|_| ok) {
            Some(u) => Ok(Some(
                self.start(dispatch_core::UserId(u.id), "password", origin)
                    .await?,
            )),
            None => {
                let entry = NewAudit {
                    actor_id: user.as_ref().map(|u| u.individual_id),
                    actor: Some(email.clone()),
                    action: "sign_in".into(),
                    target: Some(email),
                    outcome: "failed".into(),
                    source_addr: origin.addr.clone(),
                    credential: Some("password".into()),
                    ..Default::default()
                };
                self.audit().record(entry).await?;
                Ok(None)
            }
        }
    }

    /// Starts a session for a user who proved who they are `how` (password, OIDC); audited.
    pub async fn start(self, user_id: UserId, how: &str, origin: &Origin) -> Result<SessionStart> {
        let user_id = user_id.0;
        let now = dispatch_core::now();
        let txn = self.db().write().await?;
        let u = repo::user::get(&*txn, user_id).await?;
        let (secret, row) = repo::session::create(
            &*txn,
            NewSession {
                user_id,
                expires_at: now + self.session_settings().lifetime,
                source_addr: origin.addr.clone(),
                user_agent: origin.user_agent.clone(),
            },
            now,
        )
        .await?;
        let person = repo::individual::get(&*txn, u.individual_id).await?;
        let who = Authenticated {
            actor: Actor {
                individual_id: IndividualId(person.id),
                email: person.email,
                name: person.name,
                transport: Transport::Web,
            },
            user_id,
            role: u.role.parse().unwrap_or(OrgRole::Member),
            scope: TokenScope::Admin,
            credential: Credential::Session(row.id),
        };
        let mut entry = who.audit("sign_in", &who.actor.email, origin);
        entry.details = serde_json::json!({"method": how});
        repo::audit::append(&*txn, entry, now).await?;
        txn.commit().await?;
        Ok(SessionStart {
            secret,
            csrf_token: row.csrf_token,
            expires_at: row.expires_at,
            who,
        })
    }

    /// The caller behind a session cookie, if the session is live and its user enabled;
    /// records activity (at most once a minute).
    pub async fn get(self, secret: &str) -> Result<Option<LiveSession>> {
        let now = dispatch_core::now();
        let conn = self.db().conn();
        let settings = self.session_settings();
        let Some(s) = repo::session::live(conn, secret, now, now - settings.idle).await? else {
            return Ok(None);
        };
        let u = repo::user::get(conn, s.user_id).await?;
        if u.disabled_at.is_some() {
            return Ok(None);
        }
        if now - s.last_seen_at > TimeDelta::seconds(60) {
            let txn = self.db().write().await?;
            repo::session::touch(&*txn, s.id, now).await?;
            txn.commit().await?;
        }
        let person = repo::individual::get(conn, u.individual_id).await?;
        Ok(Some(LiveSession {
            who: Authenticated {
                actor: Actor {
                    individual_id: IndividualId(person.id),
                    email: person.email,
                    name: person.name,
                    transport: Transport::Web,
                },
                user_id: u.id,
                role: u.role.parse().unwrap_or(OrgRole::Member),
                scope: TokenScope::Admin,
                credential: Credential::Session(s.id),
            },
            csrf_token: s.csrf_token,
        }))
    }

    /// Ends a session (signing out).
    pub async fn sign_out(self, who: &Authenticated, origin: &Origin) -> Result<()> {
        let Credential::Session(id) = who.credential else {
            return Ok(());
        };
        let now = dispatch_core::now();
        let txn = self.db().write().await?;
        repo::session::revoke(&*txn, id, now).await?;
        repo::audit::append(&*txn, who.audit("sign_out", &who.actor.email, origin), now).await?;
        txn.commit().await?;
        Ok(())
    }
}
