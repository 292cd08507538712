//! The scheduler's memory: the last time each schedule fired.

use crate::error::Result;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// When `name` last fired, if ever.
pub async fn last_fire(conn: &impl ConnectionTrait, name: &str) -> Result<Option<DateTime<Utc>>> {
    let backend = conn.get_database_backend();
    let row = conn
        .query_one(Statement::from_sql_and_values(
            backend,
            "SELECT last_fire_at FROM schedules WHERE name = $1",
            [name.into()],
        ))
        .await?;
    Ok(match row {
        Some(r) => Some(r.try_get_by_index(0)?),
        None => None,
    })
}

/// Records that `name` fired for the occurrence `at`.
pub async fn set_last_fire(
    conn: &impl ConnectionTrait,
    name: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    let backend = conn.get_database_backend();
    conn.execute(Statement::from_sql_and_values(
        backend,
        "INSERT INTO schedules (name, last_fire_at) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET last_fire_at = excluded.last_fire_at",
        [name.into(), at.into()],
    ))
    .await?;
    Ok(())
}

/// On PostgreSQL, takes the scheduler's transaction-scoped advisory lock if no other replica
/// holds it; elsewhere (one process) always true.
pub async fn try_lead(conn: &impl ConnectionTrait) -> Result<bool> {
    if conn.get_database_backend() != DbBackend::Postgres {
        return Ok(true);
    }
    let row = conn
        .query_one(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT pg_try_advisory_xact_lock({LOCK_KEY})"),
        ))
        .await?;
    Ok(match row {
        Some(r) => r.try_get_by_index(0)?,
        None => false,
    })
}

/// The advisory lock key of the scheduler ("dispatch" in ASCII).
const LOCK_KEY: i64 = 0x6469_7370_6174_6368;
