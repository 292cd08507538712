//! Provider credentials sealed at rest (a table without an entity): a setting's name (its
//! `DISPATCH_*` variable) → the sealed value.

use crate::error::Result;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, OnConflict, Query};
use sea_orm::{ConnectionTrait, Statement};

/// Every stored credential: name, sealed value, when it was set; by name.
pub async fn list(conn: &impl ConnectionTrait) -> Result<Vec<(String, String, DateTime<Utc>)>> {
    let rows = conn
        .query_all(Statement::from_string(
            conn.get_database_backend(),
            "SELECT name, sealed, updated_at FROM provider_secrets ORDER BY name",
        ))
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok((
                r.try_get_by_index(0)?,
                r.try_get_by_index(1)?,
                r.try_get_by_index(2)?,
            ))
        })
        .collect()
}

fn table() -> Alias {
    Alias::new("provider_secrets")
}

/// Stores (or replaces) a sealed credential.
pub async fn put(
    conn: &impl ConnectionTrait,
    name: &str,
    sealed: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    let cols = ["name", "sealed", "updated_at"].map(Alias::new);
    let q = Query::insert()
        .into_table(table())
        .columns(cols.clone())
        .values_panic([name.into(), sealed.into(), at.into()])
        .on_conflict(
            OnConflict::column(Alias::new("name"))
                .update_columns([Alias::new("sealed"), Alias::new("updated_at")])
                .to_owned(),
        )
        .to_owned();
    conn.execute(conn.get_database_backend().build(&q)).await?;
    Ok(())
}

/// Removes a credential; whether there was one.
pub async fn delete(conn: &impl ConnectionTrait, name: &str) -> Result<bool> {
    let q = Query::delete()
        .from_table(table())
        .and_where(Expr::col(Alias::new("name")).eq(name))
        .to_owned();
    let done = conn.execute(conn.get_database_backend().build(&q)).await?;
    Ok(done.rows_affected() > 0)
}
