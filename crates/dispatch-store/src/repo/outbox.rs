//! The outbox: one row per sent mail, keyed by its idempotency key, and the filtered list the
//! API shows.

use crate::entity::{incident, mail_thread, outbox};
use crate::error::Result;
use chrono::{DateTime, Utc};
use dispatch_core::provider::Email;
use sea_orm::sea_query::{Expr, LikeExpr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::HashMap;

/// A mail to record.
#[derive(Debug, Clone)]
pub struct NewMail<'a> {
    /// The idempotency key it was sent with.
    pub key: &'a str,
    /// The mail.
    pub email: &'a Email,
    /// The slug of the provider that sent (or kept) it.
    pub provider: &'a str,
    /// The incident it is about, if any.
    pub incident_id: Option<i64>,
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    /// Only mail to this address (any case).
    pub to: Option<String>,
    /// Only mail about this incident.
    pub incident_id: Option<i64>,
    /// At most this many, newest first.
    pub limit: u64,
    /// Who is reading: only mail about incidents they may see.
    pub viewer: super::incident::Viewer,
}

/// Records a mail. A key already recorded keeps its row; only an incident the first record
/// did not know is filled in (the built-in provider records before the job that knows it).
pub async fn record(
    conn: &impl ConnectionTrait,
    mail: NewMail<'_>,
    at: DateTime<Utc>,
) -> Result<()> {
    let recipients: Vec<String> = mail.email.to.iter().map(|a| a.to_lowercase()).collect();
    outbox::Entity::insert(outbox::ActiveModel {
        idempotency_key: Set(mail.key.to_string()),
        recipients: Set(serde_json::Value::from(recipients).to_string()),
        subject: Set(mail.email.subject.clone()),
        text: Set(mail.email.text.clone()),
        html: Set(mail.email.html.clone()),
        provider: Set(mail.provider.to_string()),
        incident_id: Set(mail.incident_id),
        created_at: Set(at),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(outbox::Column::IdempotencyKey)
            .value(
                outbox::Column::IncidentId,
                Expr::cust("COALESCE(outbox.incident_id, excluded.incident_id)"),
            )
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// The key of the first mail of `thread` to `recipient`: the thread's root, whose Message-ID
/// the later mails answer. The first mail to ask (its `key`) becomes the root and stays it,
/// so a re-sent root is the root again and two mails sent at once cannot both be.
pub async fn thread_root(
    conn: &impl ConnectionTrait,
    thread: &str,
    recipient: &str,
    key: &str,
    at: DateTime<Utc>,
) -> Result<String> {
    mail_thread::Entity::insert(mail_thread::ActiveModel {
        thread: Set(thread.to_string()),
        recipient: Set(recipient.to_string()),
        root_key: Set(key.to_string()),
        created_at: Set(at),
    })
    .on_conflict(
        OnConflict::columns([mail_thread::Column::Thread, mail_thread::Column::Recipient])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    mail_thread::Entity::find_by_id((thread.to_string(), recipient.to_string()))
        .one(conn)
        .await?
        .map(|t| t.root_key)
        .ok_or_else(|| crate::StoreError::NotFound(format!("mail thread {thread}")))
}

/// The mail recorded under `key`, if any.
pub async fn by_key(conn: &impl ConnectionTrait, key: &str) -> Result<Option<outbox::Model>> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::IdempotencyKey.eq(key))
        .one(conn)
        .await?)
}

/// The addresses of a recorded mail.
pub fn recipients(row: &outbox::Model) -> Vec<String> {
    serde_json::from_str(&row.recipients).unwrap_or_default()
}

/// Mail matching the filter, newest first, each with its incident's key.
pub async fn list(
    conn: &impl ConnectionTrait,
    f: &OutboxFilter,
) -> Result<Vec<(outbox::Model, Option<String>)>> {
    let mut q = outbox::Entity::find();
    if let Some(to) = &f.to {
        // Recipients are a JSON array: match one whole quoted address, with `%` and `_` taken
        // literally.
        let mut like = String::from("%\"");
        for c in to.to_lowercase().chars() {
            if matches!(c, '%' | '_' | '\\') {
                like.push('\\');
            }
            like.push(c);
        }
        like.push_str("\"%");
        q = q.filter(Expr::col(outbox::Column::Recipients).like(LikeExpr::new(like).escape('\\')));
    }
    if let Some(id) = f.incident_id {
        q = q.filter(outbox::Column::IncidentId.eq(id));
    }
    if let Some(visible) = f.viewer.owns((outbox::Entity, outbox::Column::IncidentId)) {
        q = q.filter(visible);
    }
    let rows = q
        .order_by_desc(outbox::Column::Id)
        .limit(f.limit)
        .all(conn)
        .await?;
    let mut ids: Vec<i64> = rows.iter().filter_map(|r| r.incident_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let names: HashMap<i64, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        incident::Entity::find()
            .select_only()
            .column(incident::Column::Id)
            .column(incident::Column::Name)
            .filter(incident::Column::Id.is_in(ids))
            .into_tuple::<(i64, String)>()
            .all(conn)
            .await?
            .into_iter()
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let name = r.incident_id.and_then(|id| names.get(&id).cloned());
            (r, name)
        })
        .collect())
}
