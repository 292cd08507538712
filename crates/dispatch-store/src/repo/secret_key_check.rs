//! The sealed check value that tells whether a server's secret key is the one this database's
//! secrets were sealed with (a one-row table without an entity).

use crate::error::Result;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Statement};

/// The stored (sealed) check value, the first one when several were stored.
pub async fn get(conn: &impl ConnectionTrait) -> Result<Option<String>> {
    let row = conn
        .query_one(Statement::from_string(
            conn.get_database_backend(),
            "SELECT sealed FROM secret_key_check ORDER BY id LIMIT 1",
        ))
        .await?;
    Ok(match row {
        Some(row) => Some(row.try_get_by_index(0)?),
        None => None,
    })
}

/// Stores the (sealed) check value.
pub async fn insert(conn: &impl ConnectionTrait, sealed: &str, at: DateTime<Utc>) -> Result<()> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "INSERT INTO secret_key_check (sealed, created_at) VALUES ($1, $2)"
        }
        _ => "INSERT INTO secret_key_check (sealed, created_at) VALUES (?, ?)",
    };
    conn.execute(Statement::from_sql_and_values(
        backend,
        sql,
        [sealed.into(), at.into()],
    ))
    .await?;
    Ok(())
}
