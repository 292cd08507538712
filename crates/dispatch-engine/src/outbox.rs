//! Reading the outbox: the mail Dispatch sent (over SMTP) or kept (built-in provider).

use crate::Result;
use chrono::{DateTime, Utc};
use dispatch_core::values::{Email, IncidentRef};
use dispatch_store::repo;
use dispatch_store::repo::outbox::OutboxFilter;

/// Which mail to list.
#[derive(Debug, Clone)]
pub struct OutboxQuery {
    /// Only mail to this address.
    pub to: Option<Email>,
    /// Only mail about this incident.
    pub incident: Option<IncidentRef>,
    /// At most this many, newest first.
    pub limit: u64,
    /// Who is reading: only mail about incidents they may see.
    pub viewer: crate::access::Viewer,
}

/// A mail as the outbox shows it.
#[derive(Debug, Clone)]
pub struct OutboxMail {
    /// Row id.
    pub id: i64,
    /// Recipients.
    pub to: Vec<String>,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body, if any.
    pub html: Option<String>,
    /// The provider that sent or kept it (`dispatch-outbox`, `smtp`).
    pub provider: String,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// The key of the incident it is about, if any.
    pub incident: Option<String>,
}

impl crate::Integrations<'_> {
    /// Mail in the outbox, newest first; an unknown incident is not found.
    pub async fn outbox(self, q: &OutboxQuery) -> Result<Vec<OutboxMail>> {
        let conn = self.db().conn();
        let incident_id = match &q.incident {
            Some(r) => Some(self.access().visible(q.viewer, r).await?.id),
            None => None,
        };
        let filter = OutboxFilter {
            viewer: q.viewer,
            to: q.to.as_ref().map(|e| e.as_str().to_string()),
            incident_id,
            limit: q.limit,
        };
        Ok(repo::outbox::list(conn, &filter)
            .await?
            .into_iter()
            .map(|(row, incident)| OutboxMail {
                id: row.id,
                to: repo::outbox::recipients(&row),
                subject: row.subject,
                text: row.text,
                html: row.html,
                provider: row.provider,
                created_at: row.created_at,
                incident,
            })
            .collect())
    }
}
