//! The durable job queue's table: jobs are enqueued in the transaction of the command that
//! causes the side effect (the worker that runs them comes with the orchestration engine).

use crate::entity::job;
use crate::error::Result;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

/// A job about to be enqueued.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// What to do (e.g. `create_conversation`).
    pub kind: String,
    /// Its arguments.
    pub payload: serde_json::Value,
    /// Not before this time.
    pub run_at: DateTime<Utc>,
    /// A second enqueue with the same key is ignored.
    pub idempotency_key: Option<String>,
    /// The incident it is for, if any.
    pub incident_id: Option<i64>,
}

/// Enqueues jobs; a job whose idempotency key already exists is skipped.
pub async fn enqueue(conn: &impl ConnectionTrait, jobs: Vec<NewJob>) -> Result<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let now = dispatch_core::now();
    job::Entity::insert_many(jobs.into_iter().map(|j| job::ActiveModel {
        kind: Set(j.kind),
        payload: Set(j.payload.to_string()),
        state: Set("queued".into()),
        attempts: Set(0),
        max_attempts: Set(8),
        run_at: Set(j.run_at),
        idempotency_key: Set(j.idempotency_key),
        incident_id: Set(j.incident_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }))
    .on_conflict(
        OnConflict::column(job::Column::IdempotencyKey)
            .do_nothing()
            .to_owned(),
    )
    .do_nothing()
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Jobs in a state (all states when `None`), newest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    state: Option<&str>,
    limit: u64,
) -> Result<Vec<job::Model>> {
    let mut q = job::Entity::find();
    if let Some(s) = state {
        q = q.filter(job::Column::State.eq(s));
    }
    Ok(q.order_by_desc(job::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}
