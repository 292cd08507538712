//! The audit log: sign-ins, writes made with credentials, permission and configuration changes.

use crate::access::{Authenticated, Credential};
use crate::Result;
use dispatch_store::model::audit_event;
use dispatch_store::repo;
pub use dispatch_store::repo::audit::with_pending;
pub use dispatch_store::repo::audit::{AuditFilter, NewAudit};

/// Where a request came from.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The caller's address.
    pub addr: Option<String>,
    /// The caller's user agent.
    pub user_agent: Option<String>,
}

impl Authenticated {
    /// How this caller proved who they are, as the audit log names it.
    pub fn credential_label(&self) -> String {
        match self.credential {
            Credential::Token(id) => format!("token {id}"),
            Credential::Session(id) => format!("session {id}"),
            Credential::TrustedHeader => "trusted header".into(),
            Credential::Local => "local".into(),
            Credential::Chat => "chat".into(),
        }
    }

    /// An audit entry of this caller doing `action` to `target`.
    pub fn audit(&self, action: &str, target: impl Into<String>, origin: &Origin) -> NewAudit {
        NewAudit {
            actor_id: Some(self.actor.individual_id.0),
            actor: Some(self.actor.email.clone()),
            action: action.into(),
            target: Some(target.into()),
            outcome: "ok".into(),
            source_addr: origin.addr.clone(),
            credential: Some(self.credential_label()),
            details: serde_json::Value::Object(Default::default()),
        }
    }
}

impl crate::Audit<'_> {
    /// Appends an entry to the audit log in its own transaction.
    pub async fn record(self, entry: NewAudit) -> Result<()> {
        let txn = self.db().write().await?;
        repo::audit::append(&*txn, entry, dispatch_core::now()).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Audit entries, newest first.
    pub async fn log(self, f: &AuditFilter) -> Result<Vec<audit_event::Model>> {
        Ok(repo::audit::list(self.db().conn(), f).await?)
    }
}
