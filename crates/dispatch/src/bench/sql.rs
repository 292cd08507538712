//! Raw SQL helpers shared by the seeding and the floors: placeholders per backend, statements
//! with bound values, and chunked multi-row inserts.

use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Value};

/// The most values bound in one statement (SQLite allows 32,766; PostgreSQL 65,535).
const MAX_PARAMS: usize = 30_000;

/// Rewrites `?` placeholders as `$1, $2, …` for PostgreSQL; SQLite takes `?` as written.
/// The SQL given here never holds a `?` inside a literal.
pub fn render(backend: DbBackend, sql: &str) -> String {
    if backend != DbBackend::Postgres {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// A statement with bound values.
pub fn stmt(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(backend, render(backend, sql), values)
}

/// Runs a select and returns every row.
pub async fn rows(
    conn: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> anyhow::Result<Vec<QueryResult>> {
    Ok(conn
        .query_all(stmt(conn.get_database_backend(), sql, values))
        .await?)
}

/// Runs a select that returns one row and reads its first column as an integer.
pub async fn scalar(
    conn: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> anyhow::Result<i64> {
    let row = conn
        .query_one(stmt(conn.get_database_backend(), sql, values))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row from {sql}"))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// Runs a statement that returns no rows.
pub async fn exec(
    conn: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> anyhow::Result<()> {
    conn.execute(stmt(conn.get_database_backend(), sql, values))
        .await?;
    Ok(())
}

/// `INSERT INTO table (columns) VALUES (…), (…), …` for `rows`, in as few statements as the
/// backend's limit on bound values allows.
pub async fn insert_rows(
    conn: &impl ConnectionTrait,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> anyhow::Result<()> {
    let per_statement = (MAX_PARAMS / columns.len()).max(1);
    let one_row = format!("({})", vec!["?"; columns.len()].join(", "));
    let head = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Value>> = rows.by_ref().take(per_statement).collect();
        anyhow::ensure!(
            chunk.iter().all(|r| r.len() == columns.len()),
            "a row of {table} has the wrong width"
        );
        let sql = format!("{head}{}", vec![one_row.as_str(); chunk.len()].join(", "));
        exec(conn, &sql, chunk.into_iter().flatten().collect()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_on_postgres() {
        assert_eq!(
            render(DbBackend::Postgres, "a = ? AND b IN (?, ?)"),
            "a = $1 AND b IN ($2, $3)"
        );
        assert_eq!(render(DbBackend::Sqlite, "a = ?"), "a = ?");
    }
}
