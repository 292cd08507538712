//! The audit log: append and read.

use crate::entity::audit_event;
use crate::error::Result;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

/// An entry to append.
#[derive(Debug, Clone, Default)]
pub struct NewAudit {
    /// The acting individual, if known.
    pub actor_id: Option<i64>,
    /// Their e-mail (or what was typed, for a failed sign-in).
    pub actor: Option<String>,
    /// What happened, e.g. `sign_in`, `token.created`, `user.role_changed`, `api.write`.
    pub action: String,
    /// What it was done to.
    pub target: Option<String>,
    /// `ok`, `denied` or `failed`.
    pub outcome: String,
    /// The caller's address.
    pub source_addr: Option<String>,
    /// The credential used, e.g. `token dsp_1a2b3c4d`, `session`, `header`.
    pub credential: Option<String>,
    /// More, as JSON.
    pub details: serde_json::Value,
}

/// Appends an entry.
pub async fn append(
    conn: &impl ConnectionTrait,
    e: NewAudit,
    at: DateTime<Utc>,
) -> Result<audit_event::Model> {
    Ok(audit_event::ActiveModel {
        at: Set(at),
        actor_id: Set(e.actor_id),
        actor: Set(e.actor),
        action: Set(e.action),
        target: Set(e.target),
        outcome: Set(if e.outcome.is_empty() {
            "ok".into()
        } else {
            e.outcome
        }),
        source_addr: Set(e.source_addr),
        credential: Set(e.credential),
        details: Set(e.details.to_string()),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

/// Which entries to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this action.
    pub action: Option<String>,
    /// Only this actor's e-mail.
    pub actor: Option<String>,
    /// Only entries older than this id (paging backwards).
    pub before_id: Option<i64>,
    /// At most this many, newest first.
    pub limit: u64,
}

/// Entries, newest first.
pub async fn list(conn: &impl ConnectionTrait, f: &AuditFilter) -> Result<Vec<audit_event::Model>> {
    let mut q = audit_event::Entity::find();
    if let Some(a) = &f.action {
        q = q.filter(audit_event::Column::Action.eq(a.as_str()));
    }
    if let Some(a) = &f.actor {
        q = q.filter(audit_event::Column::Actor.eq(a.as_str()));
    }
    if let Some(id) = f.before_id {
        q = q.filter(audit_event::Column::Id.lt(id));
    }
    Ok(q.order_by_desc(audit_event::Column::Id)
        .limit(f.limit)
        .all(conn)
        .await?)
}
