//! Failed sign-ins per key and fixed window, in the database so every replica counts the same
//! failures. Keys are stored hashed (people sometimes type a password into the e-mail field).

use crate::error::Result;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use sha2::{Digest, Sha256};

/// The stored form of a key.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn sql(backend: DbBackend, text: &str) -> String {
    match backend {
        // `$1, $2, …` for PostgreSQL; SQLite takes `?` in order.
        DbBackend::Postgres => {
            let mut out = String::new();
            let mut n = 0;
            for c in text.chars() {
                if c == '?' {
                    n += 1;
                    out.push_str(&format!("${n}"));
                } else {
                    out.push(c);
                }
            }
            out
        }
        _ => text.to_string(),
    }
}

/// Counts one failure of `key_hash` in the window starting at `window_start`.
pub async fn record_failure(
    conn: &impl ConnectionTrait,
    key_hash: &str,
    window_start: DateTime<Utc>,
) -> Result<()> {
    let backend = conn.get_database_backend();
    conn.execute(Statement::from_sql_and_values(
        backend,
        sql(
            backend,
            "INSERT INTO login_throttle (key_hash, window_start, failures) VALUES (?, ?, 1) \
             ON CONFLICT (key_hash, window_start) DO UPDATE SET failures = login_throttle.failures + 1",
        ),
        [Value::from(key_hash), Value::from(window_start)],
    ))
    .await?;
    Ok(())
}

/// The failures of `key_hash` in the window starting at `window_start`.
pub async fn failures(
    conn: &impl ConnectionTrait,
    key_hash: &str,
    window_start: DateTime<Utc>,
) -> Result<i64> {
    let backend = conn.get_database_backend();
    let row = conn
        .query_one(Statement::from_sql_and_values(
            backend,
            sql(
                backend,
                "SELECT failures FROM login_throttle WHERE key_hash = ? AND window_start = ?",
            ),
            [Value::from(key_hash), Value::from(window_start)],
        ))
        .await?;
    Ok(match row {
        Some(r) => i64::from(r.try_get_by_index::<i32>(0)?),
        None => 0,
    })
}

/// Forgets every failure of `key_hash`.
pub async fn clear(conn: &impl ConnectionTrait, key_hash: &str) -> Result<()> {
    let backend = conn.get_database_backend();
    conn.execute(Statement::from_sql_and_values(
        backend,
        sql(backend, "DELETE FROM login_throttle WHERE key_hash = ?"),
        [Value::from(key_hash)],
    ))
    .await?;
    Ok(())
}

/// Drops the windows that started before `before`.
pub async fn prune(conn: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<()> {
    let backend = conn.get_database_backend();
    conn.execute(Statement::from_sql_and_values(
        backend,
        sql(backend, "DELETE FROM login_throttle WHERE window_start < ?"),
        [Value::from(before)],
    ))
    .await?;
    Ok(())
}
