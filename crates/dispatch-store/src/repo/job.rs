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
    super::rows::in_statements(conn, jobs, |part| async move {
        job::Entity::insert_many(part.into_iter().map(|j| queued(j, now)))
            .on_conflict(same_key())
            .do_nothing()
            .exec_without_returning(conn)
            .await?;
        Ok(())
    })
    .await?;
    // On PostgreSQL the insert itself announces the jobs to every replica when the transaction
    // commits (trigger `jobs_enqueued`, channel [`super::notify::JOBS`]): no round trip of its own.
    Ok(())
}

/// The row of a job waiting in the queue.
fn queued(j: NewJob, now: DateTime<Utc>) -> job::ActiveModel {
    job::ActiveModel {
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
    }
}

/// A second job with the same idempotency key is not inserted.
fn same_key() -> OnConflict {
    OnConflict::column(job::Column::IdempotencyKey)
        .do_nothing()
        .to_owned()
}

/// Enqueues `job` already claimed by `worker` (running, its first attempt), for the worker
/// that enqueued it to run next without a claim of its own; `None` when its idempotency key
/// exists already (then nothing is written). Announces nothing on PostgreSQL: no other runner
/// may take it while the claim holds.
pub async fn enqueue_claimed(
    conn: &impl ConnectionTrait,
    job: NewJob,
    worker: &str,
    now: DateTime<Utc>,
) -> Result<Option<job::Model>> {
    use sea_orm::TryInsertResult;
    let inserted = job::Entity::insert(job::ActiveModel {
        state: Set("running".into()),
        attempts: Set(1),
        locked_at: Set(Some(now)),
        locked_by: Set(Some(worker.to_string())),
        ..queued(job, now)
    })
    .on_conflict(same_key())
    .do_nothing()
    .exec_with_returning(conn)
    .await;
    Ok(match inserted {
        Ok(TryInsertResult::Inserted(m)) => Some(m),
        Ok(TryInsertResult::Empty | TryInsertResult::Conflicted) => None,
        // What SQLite's `RETURNING` of a row not inserted comes back as.
        Err(sea_orm::DbErr::RecordNotFound(_) | sea_orm::DbErr::RecordNotInserted) => None,
        Err(e) => return Err(e.into()),
    })
}

/// Hands a job claimed by `job.locked_by` back to the queue, as if never claimed (a stopping
/// runner's next step). False when the claim was not held.
pub async fn release(conn: &impl ConnectionTrait, job: &job::Model) -> Result<bool> {
    use sea_orm::sea_query::Expr;
    let update = back_to_queue().col_expr(
        job::Column::Attempts,
        Expr::col(job::Column::Attempts).sub(1),
    );
    while_held(conn, update, job).await
}

/// An update that puts jobs back in the queue, unclaimed.
fn back_to_queue() -> sea_orm::UpdateMany<job::Entity> {
    use sea_orm::sea_query::Expr;
    job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value("queued"))
        .col_expr(
            job::Column::LockedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(job::Column::LockedBy, Expr::value(Option::<String>::None))
}

/// Jobs in a state (all states when `None`), newest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    state: Option<&str>,
    limit: u64,
) -> Result<Vec<job::Model>> {
    list_for(conn, state, super::incident::Viewer::Everyone, limit).await
}

/// Like [`list`], only the jobs of incidents `viewer` may see.
pub async fn list_for(
    conn: &impl ConnectionTrait,
    state: Option<&str>,
    viewer: super::incident::Viewer,
    limit: u64,
) -> Result<Vec<job::Model>> {
    let mut q = job::Entity::find();
    if let Some(visible) = viewer.owns((job::Entity, job::Column::IncidentId)) {
        q = q.filter(visible);
    }
    if let Some(s) = state {
        q = q.filter(job::Column::State.eq(s));
    }
    Ok(q.order_by_desc(job::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

/// The failed jobs of one incident, newest first.
pub async fn failed_of_incident(
    conn: &impl ConnectionTrait,
    incident_id: i64,
) -> Result<Vec<job::Model>> {
    Ok(job::Entity::find()
        .filter(job::Column::IncidentId.eq(incident_id))
        .filter(job::Column::State.eq("failed"))
        .order_by_desc(job::Column::Id)
        .limit(100)
        .all(conn)
        .await?)
}

/// Claims up to `limit` runnable jobs for `worker`: queued jobs whose time has come, and running
/// jobs whose lease expired (their worker died). On PostgreSQL concurrent workers skip each
/// other's rows (`FOR UPDATE SKIP LOCKED`); on SQLite the writer lock serialises claims.
pub async fn claim(
    db: &crate::Db,
    worker: &str,
    limit: u64,
    now: DateTime<Utc>,
    lease_expired_before: DateTime<Utc>,
) -> Result<Vec<job::Model>> {
    use sea_orm::{DbBackend, FromQueryResult, Statement};
    let txn = db.write().await?;
    let backend = txn.get_database_backend();
    let sql = match backend {
        // The due and the lapsed are found apart, each along the `(state, run_at)` index as far
        // as the limit: one condition with `OR` made PostgreSQL gather and sort every due job
        // before taking the first few, so a claim cost more the longer the queue grew.
        DbBackend::Postgres => {
            "WITH due AS (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= $1 \
               ORDER BY run_at, id LIMIT $4 FOR UPDATE SKIP LOCKED), \
             lapsed AS (SELECT id FROM jobs WHERE state = 'running' AND locked_at < $3 \
               LIMIT $4 FOR UPDATE SKIP LOCKED) \
             UPDATE jobs SET state = 'running', locked_at = $1, locked_by = $2, attempts = attempts + 1, updated_at = $1 \
             WHERE id IN (SELECT id FROM (SELECT id FROM lapsed UNION ALL SELECT id FROM due) AS claimable LIMIT $4) \
             RETURNING *"
        }
        _ => {
            "UPDATE jobs SET state = 'running', locked_at = $1, locked_by = $2, attempts = attempts + 1, updated_at = $1 \
             WHERE id IN (SELECT id FROM jobs WHERE (state = 'queued' AND run_at <= $1) OR (state = 'running' AND locked_at < $3) \
             ORDER BY run_at, id LIMIT $4) RETURNING *"
        }
    };
    let stmt = Statement::from_sql_and_values(
        backend,
        sql,
        [
            now.into(),
            worker.into(),
            lease_expired_before.into(),
            (limit as i64).into(),
        ],
    );
    let mut jobs = job::Model::find_by_statement(stmt).all(&*txn).await?;
    txn.commit().await?;
    jobs.sort_by_key(|j| (j.run_at, j.id));
    Ok(jobs)
}

/// When the queue next needs a look: the earliest queued job's due time, and the oldest claim
/// (a running job whose lease may run out).
#[derive(Debug, Clone, Copy, Default)]
pub struct NextDue {
    /// The earliest `run_at` of a queued job.
    pub queued: Option<DateTime<Utc>>,
    /// The oldest `locked_at` of a running job.
    pub claimed: Option<DateTime<Utc>>,
}

/// When the queue next needs a look, in one statement.
pub async fn next_due(conn: &impl ConnectionTrait) -> Result<NextDue> {
    use sea_orm::Statement;
    let stmt = Statement::from_string(
        conn.get_database_backend(),
        "SELECT (SELECT MIN(run_at) FROM jobs WHERE state = 'queued') AS queued, \
         (SELECT MIN(locked_at) FROM jobs WHERE state = 'running') AS claimed",
    );
    let Some(row) = conn.query_one(stmt).await? else {
        return Ok(NextDue::default());
    };
    Ok(NextDue {
        queued: row.try_get("", "queued")?,
        claimed: row.try_get("", "claimed")?,
    })
}

/// Ends a claimed job: `Ok` marks it succeeded; an error either requeues it for `retry_at` or,
/// when `retry_at` is `None`, marks it failed. Only the worker holding the claim may end it.
/// Returns whether the claim was still held.
pub async fn finish(
    conn: &impl ConnectionTrait,
    job: &job::Model,
    outcome: std::result::Result<(), (&str, Option<DateTime<Utc>>)>,
) -> Result<bool> {
    use sea_orm::sea_query::Expr;
    let now = dispatch_core::now();
    let mut update = job::Entity::update_many()
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            job::Column::LockedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(job::Column::LockedBy, Expr::value(Option::<String>::None));
    update = match outcome {
        Ok(()) => update
            .col_expr(job::Column::State, Expr::value("succeeded"))
            .col_expr(job::Column::LastError, Expr::value(Option::<String>::None)),
        Err((error, Some(at))) => update
            .col_expr(job::Column::State, Expr::value("queued"))
            .col_expr(job::Column::RunAt, Expr::value(at))
            .col_expr(job::Column::LastError, Expr::value(error)),
        Err((error, None)) => update
            .col_expr(job::Column::State, Expr::value("failed"))
            .col_expr(job::Column::LastError, Expr::value(error)),
    };
    while_held(conn, update, job).await
}

/// Puts a failed job back in the queue with a fresh set of attempts.
pub async fn retry(conn: &impl ConnectionTrait, id: i64) -> Result<job::Model> {
    use sea_orm::ActiveModelTrait;
    let j = job::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| crate::StoreError::NotFound(format!("job {id}")))?;
    if j.state != "failed" {
        return Err(crate::StoreError::Conflict(format!(
            "job {id} is {}, only failed jobs can be retried",
            j.state
        )));
    }
    let now = dispatch_core::now();
    let mut row: job::ActiveModel = j.into();
    row.state = Set("queued".into());
    row.attempts = Set(0);
    row.run_at = Set(now);
    row.updated_at = Set(now);
    Ok(row.update(conn).await?)
}

/// A job by id.
pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<job::Model> {
    job::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| crate::StoreError::NotFound(format!("job {id}")))
}

/// The incident a job is about: `None` when there is no such job, `Some(None)` for a job of
/// no incident.
pub async fn incident_of(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Option<i64>>> {
    Ok(job::Entity::find_by_id(id)
        .select_only()
        .column(job::Column::IncidentId)
        .into_tuple::<Option<i64>>()
        .one(conn)
        .await?)
}

/// Puts every running job back in the queue. Only for a single-process deployment (SQLite) at
/// start-up: no other worker can hold a claim, so a running job is one a crash interrupted.
pub async fn release_all_running(conn: &impl ConnectionTrait) -> Result<u64> {
    let res = back_to_queue()
        .filter(job::Column::State.eq("running"))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// Deletes succeeded jobs last changed before `before`; returns how many.
pub async fn delete_succeeded_before(
    conn: &impl ConnectionTrait,
    before: DateTime<Utc>,
) -> Result<u64> {
    let res = job::Entity::delete_many()
        .filter(job::Column::State.eq("succeeded"))
        .filter(job::Column::UpdatedAt.lt(before))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// Renews a claim just before its job starts (a claimed batch runs one job after another, so the
/// last ones would otherwise start late in their lease). False when the claim was lost: another
/// worker took the job over, and this one must not run it.
pub async fn renew(
    conn: &impl ConnectionTrait,
    job: &job::Model,
    now: DateTime<Utc>,
) -> Result<bool> {
    use sea_orm::sea_query::Expr;
    let update = job::Entity::update_many().col_expr(job::Column::LockedAt, Expr::value(now));
    while_held(conn, update, job).await
}

/// Runs `update` on `job` if its claim is still held by the worker that claimed it; false when
/// not (it finished, or another worker took it over).
async fn while_held(
    conn: &impl ConnectionTrait,
    update: sea_orm::UpdateMany<job::Entity>,
    job: &job::Model,
) -> Result<bool> {
    let res = update
        .filter(job::Column::Id.eq(job.id))
        .filter(job::Column::State.eq("running"))
        .filter(job::Column::LockedBy.eq(job.locked_by.clone()))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// How many jobs of one kind are in one state, and the earliest `run_at` among them.
#[derive(Debug, Clone, PartialEq, Eq, sea_orm::FromQueryResult)]
pub struct QueueCount {
    /// The job kind.
    pub kind: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub state: String,
    /// How many jobs.
    pub jobs: i64,
    /// The earliest `run_at` of these jobs.
    pub earliest_run_at: Option<DateTime<Utc>>,
}

/// The queue's size per kind and state (what `/metrics` reports): one grouped query.
pub async fn queue_counts(conn: &impl ConnectionTrait) -> Result<Vec<QueueCount>> {
    use sea_orm::sea_query::Expr;
    Ok(job::Entity::find()
        .select_only()
        .column(job::Column::Kind)
        .column(job::Column::State)
        .column_as(Expr::col(job::Column::Id).count(), "jobs")
        .column_as(Expr::col(job::Column::RunAt).min(), "earliest_run_at")
        .group_by(job::Column::Kind)
        .group_by(job::Column::State)
        .into_model::<QueueCount>()
        .all(conn)
        .await?)
}
