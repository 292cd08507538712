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

tokio::task_local! {
    /// The audit entry of the request being handled, until a write transaction takes it.
    static PENDING: std::sync::Arc<std::sync::Mutex<Option<NewAudit>>>;
}

/// Runs `f` (a request's handler) with `entry` pending: the first write transaction that commits
/// inside it appends the entry in that same transaction, so a change and its audit entry are
/// saved together, at the cost of no extra transaction. Returns what `f` returned and the entry
/// if no transaction took it (the caller appends it on its own, or drops it if the request failed).
pub async fn with_pending<F: std::future::Future>(
    entry: NewAudit,
    f: F,
) -> (F::Output, Option<NewAudit>) {
    let cell = std::sync::Arc::new(std::sync::Mutex::new(Some(entry)));
    let out = PENDING.scope(cell.clone(), f).await;
    let left = cell.lock().ok().and_then(|mut e| e.take());
    (out, left)
}

/// Takes the pending entry of the request this task is handling, if any is left.
pub fn take_pending() -> Option<NewAudit> {
    PENDING
        .try_with(|c| c.lock().ok().and_then(|mut e| e.take()))
        .ok()
        .flatten()
}

/// Appends the pending entry of the request this task is handling (see [`with_pending`]), if
/// any is left, as committed with the writes of `conn`'s transaction.
pub async fn append_pending(conn: &impl ConnectionTrait) -> Result<()> {
    match take_pending() {
        Some(entry) => append_committed(conn, entry).await,
        None => Ok(()),
    }
}

/// Appends a copy of the pending entry as committed, leaving it pending: nothing is read back,
/// so a [`crate::Batched`] transaction sends it with its inserts, and the caller takes it
/// ([`take_pending`]) once they are written — when they are not, the request's failure is
/// recorded as it would have been without.
pub async fn append_pending_copy(conn: &impl ConnectionTrait) -> Result<()> {
    let copy = PENDING
        .try_with(|c| c.lock().ok().and_then(|e| e.clone()))
        .ok()
        .flatten();
    match copy {
        Some(entry) => append_committed(conn, entry).await,
        None => Ok(()),
    }
}

async fn append_committed(conn: &impl ConnectionTrait, mut entry: NewAudit) -> Result<()> {
    entry.details = serde_json::json!({"status": "committed"});
    append_many(conn, vec![entry], dispatch_core::now()).await
}

/// Appends an entry.
pub async fn append(
    conn: &impl ConnectionTrait,
    e: NewAudit,
    at: DateTime<Utc>,
) -> Result<audit_event::Model> {
    Ok(row(e, at).insert(conn).await?)
}

/// Appends entries in one statement (on SQLite, in [`super::rows::statement_sizes`]).
pub async fn append_many(
    conn: &impl ConnectionTrait,
    entries: Vec<NewAudit>,
    at: DateTime<Utc>,
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    super::rows::in_statements(conn, entries, |part| async move {
        audit_event::Entity::insert_many(part.into_iter().map(|e| row(e, at)))
            .exec_without_returning(conn)
            .await?;
        Ok(())
    })
    .await
}

fn row(e: NewAudit, at: DateTime<Utc>) -> audit_event::ActiveModel {
    audit_event::ActiveModel {
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
